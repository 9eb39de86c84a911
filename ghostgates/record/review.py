"""The review file (REVIEW-ghost.md): one block per gate, opened by its record line, closed by a marker.

A gate block is exactly what the suite wrote (gates.md, "What the suite writes into the review
file"):

    ## M1: State inventory and clean retry: PASS
    <!-- gate-record gate=M1 verdict=PASS role=adversary head=<sha> build=<n> at=<time> -->
    Checked by ghost-gates as adversary at ...
    | requirement | verdict | reason |
    ...
    <!-- /gate-record gate=M1 -->

Only a level-2 ATX heading naming the gate whose first non-blank line after it is a well-formed
record line for that gate opens a block; a user's `## M1 notes` section without a record is text.
The block runs over the suite's own lines (the summary, the table) and ends after its closing
marker. A block written before the marker existed, or whose marker was edited away, ends after
the last line of the suite's own shape: whatever a person wrote after it stays, under any
heading or none. The block that is replaced and the block `DONE.signed` reads are the same one
(`blocks()`), the first such block of each gate.

Lines split as Markdown splits them (CommonMark 2.1: LF, CRLF, or a CR alone); U+2028 and the
other characters `str.splitlines` breaks on are text. Text from a PR comment or a log is escaped
so that it can neither forge a record or a marker nor break the Markdown. Writes are atomic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ghostgates.catalogue import GATES
from ghostgates.read.markdown import sections
from ghostgates.record.atomic import update_text
from ghostgates.timeutil import parse_time

GATE_TITLES = {"M1": "State inventory and clean retry", "M2": "Operator-ready outcome"}
_RECORD = re.compile(
    r"^<!-- gate-record gate=(?P<gate>M[12]) verdict=(?P<verdict>PASS|FAIL) role=(?P<role>adversary|builder) "
    r"head=(?P<head>[0-9a-f]{40}|none) build=(?P<build>\d+|none) at=(?P<at>\S+?)"
    r"(?: sig=(?P<sig>[A-Za-z0-9+/]+={0,2}))? -->$")
_HEADING = re.compile(r"^##[ \t]+(?P<gate>M[12])\b")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_BOM = "\ufeff"

# The lines the suite itself writes between the record and the closing marker (the reporter's
# render_block): the summary, the error note, blank lines, the table.
_SUITE_LINES = (
    re.compile(r"^Checked by ghost-gates as (?:adversary|builder) at \S+: .*\.$"),
    re.compile(r"^\d+ requirement\(s\) could not be checked: .*$"),
    re.compile(r"^\| requirement \| verdict \|.*\|$"),
    re.compile(r"^\|(?:\s*:?-+:?\s*\|)+$"),
)
_ROW = re.compile(r"^\| (?P<id>M[12]\.[a-z-]+) \| (?:pass|fail|skip|error) \|.*\|$")


def end_marker(gate: str) -> str:
    return f"<!-- /gate-record gate={gate} -->"


@dataclass(frozen=True)
class Record:
    gate: str
    verdict: str
    role: str
    head: str
    build: str
    at: str
    sig: str | None = None

    def payload(self) -> str:
        """The text a signature covers: the record line before ` sig=` (gates.md; docs/signing.md)."""
        return (f"<!-- gate-record gate={self.gate} verdict={self.verdict} role={self.role} "
                f"head={self.head} build={self.build} at={self.at}")

    def line(self) -> str:
        return self.payload() + (f" sig={self.sig}" if self.sig else "") + " -->"

    def signed(self, sig: str | None) -> Record:
        return Record(self.gate, self.verdict, self.role, self.head, self.build, self.at, sig)


@dataclass(frozen=True)
class Block:
    gate: str
    start: int  # index of the heading line
    end: int  # one past the block's last line
    record: Record
    closed: bool  # ends with the closing marker (False: a block of the older shape, or an edited one)


def split_lines(text: str) -> list[str]:
    """The file's lines with their endings, as Markdown splits them ("".join() gives `text` back)."""
    return _LINE.findall(text)


def _bare(line: str) -> str:
    return line.rstrip("\r\n")


def parse_record(line: str) -> Record | None:
    # Four spaces or a tab in front make it an indented code block to Markdown: quoted, not a record.
    if line.startswith("\t") or len(line) - len(line.lstrip(" ")) > 3:
        return None
    match = _RECORD.match(line.strip())
    if match is None:
        return None
    try:
        parse_time(match.group("at"))
    except ValueError:
        return None
    return Record(**match.groupdict())


def _is_suite_line(line: str, gate: str) -> bool:
    if not line.strip():
        return True
    row = _ROW.match(line)
    if row is not None:
        return row.group("id") in GATES[gate]
    return any(p.match(line) for p in _SUITE_LINES)


def blocks(text: str) -> dict[str, Block]:
    """The first gate block of each gate, as `replace_blocks` replaces it and `DONE.signed` reads it."""
    lines = [_bare(line) for line in split_lines(text)]
    if lines and lines[0].startswith(_BOM):
        lines[0] = lines[0][len(_BOM):]
    found: dict[str, Block] = {}
    for sec in sections(lines):
        heading = _HEADING.match(lines[sec.start])
        if heading is None or heading.group("gate") in found:
            continue
        gate = heading.group("gate")
        at = sec.start + 1
        while at < len(lines) and not lines[at].strip():
            at += 1
        record = parse_record(lines[at]) if at < len(lines) else None
        if record is None or record.gate != gate:
            continue
        end, closed = at + 1, False
        i = at + 1
        while i < len(lines):
            if lines[i].strip() == end_marker(gate):
                end, closed = i + 1, True
                break
            if not _is_suite_line(lines[i], gate):
                break
            if lines[i].strip():
                end = i + 1
            i += 1
        found[gate] = Block(gate, sec.start, end, record, closed)
    return found


def records(text: str) -> dict[str, Record]:
    """The record line that opens each gate block."""
    return {gate: block.record for gate, block in blocks(text).items()}


def escape(text: object) -> str:
    """One line of inert Markdown: no HTML comment, no heading, no table break, no link syntax."""
    flat = " ".join(str(text).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]#|!~])", r"\\\1", flat)


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text and text.count("\r\n") > text.count("\n") / 2 else "\n"


def replace_block(text: str, gate: str, block: str) -> str:
    """`text` with the gate's block replaced by `block` (or appended); all else byte for byte."""
    newline = _newline(text)
    rendered = block.rstrip("\n").replace("\n", newline) + newline
    found = blocks(text).get(gate)
    if found is not None:
        lines = split_lines(text)
        head = "".join(lines[:found.start])
        if found.start == 0 and text.startswith(_BOM):
            head = _BOM
        tail = "".join(lines[found.end:])
        # The last line of a file may have no ending; the block's own ending then comes from us.
        return head + rendered + tail
    prefix = text
    if prefix and not prefix.endswith(("\n", "\r")):
        prefix += newline
    if prefix and not prefix.endswith(newline * 2):
        prefix += newline
    return prefix + rendered


def replace_blocks(text: str, new_blocks: Mapping[str, str]) -> str:
    """Every gate block of one run replaced in memory, so that one atomic write carries them all."""
    for gate, block in new_blocks.items():
        text = replace_block(text, gate, block)
    return text


def write_atomic(path: Path, update: Callable[[str], str]) -> str:
    """Apply `update(old_text) -> new_text` under a lock and replace the file atomically."""
    return update_text(path, update)
