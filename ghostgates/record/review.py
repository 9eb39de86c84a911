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
The block runs from its heading to its closing marker; a block without one (written before blocks
had a closing marker, or whose marker was edited away) runs to the next level-2 heading, as
gates.md says: the text of an old block goes with it. The block that is replaced and the block
`DONE.signed` reads are the same one (`blocks()`), the first such block of each gate.

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
from ghostgates.judge.verdict import ERROR, FAIL, PASS, SKIP
from ghostgates.read.markdown import sections
from ghostgates.record.atomic import update_text
from ghostgates.record.escape import markdown_link, markdown_text
from ghostgates.record.summary import GateResult, Result
from ghostgates.timeutil import parse_time

GATE_TITLES = {"M1": "State inventory and clean retry", "M2": "Operator-ready outcome"}
_RECORD = re.compile(
    r"^<!-- gate-record gate=(?P<gate>M[12]) verdict=(?P<verdict>PASS|FAIL) role=(?P<role>adversary|builder) "
    r"head=(?P<head>[0-9a-f]{40}|none) build=(?P<build>\d+|none) at=(?P<at>\S+?)"
    r"(?: sig=(?P<sig>[A-Za-z0-9+/]+={0,2}))? -->$")
_HEADING = re.compile(r"^##[ \t]+(?P<gate>M[12])\b")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_BOM = "\ufeff"

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
        end, closed = sec.end, False
        for i in range(at + 1, sec.end):
            if lines[i].strip() == end_marker(gate):
                end, closed = i + 1, True
                break
        else:
            # An old-format block: to the next level-2 heading, its trailing blank lines left as a gap.
            while end > at + 1 and not lines[end - 1].strip():
                end -= 1
        found[gate] = Block(gate, sec.start, end, record, closed)
    return found


def records(text: str) -> dict[str, Record]:
    """The record line that opens each gate block."""
    return {gate: block.record for gate, block in blocks(text).items()}


def escape(text: object) -> str:
    """One line of inert Markdown (escape.markdown_text): no HTML comment, heading, table break or link."""
    return markdown_text(text)


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
    """Apply `update(old_text) -> new_text` under a lock and replace the file atomically; a review
    file that is a symlink when the write comes is refused (the start-of-run check may be minutes old)."""
    return update_text(path, update, follow_links=False)


def make_record(gate: GateResult) -> Record:
    """The record line's fields for a gate this run judged (its binding decided by rules/done.record_binding)."""
    if gate.verdict is None:
        raise ValueError(f"{gate.gate}: no verdict, so no record")
    return Record(gate=gate.gate, verdict=gate.verdict, role=gate.role, head=gate.head, build=gate.build, at=gate.at)


def render_block(gate: GateResult, results: Mapping[str, Result], record: Record | None = None) -> str:
    """The gate's block as the suite writes it, from its heading to its closing marker.

    Every text from a server is escaped for Markdown, and only http(s) evidence becomes a link. A
    gate judged FAIL by a run that stopped early has a row for each requirement that did not run.
    """
    record = record or make_record(gate)
    present = [results[rid] for rid in GATES[gate.gate] if rid in results]
    counts = {s: sum(1 for r in present if r.status == s) for s in (PASS, FAIL, SKIP, ERROR)}
    lines = [f"## {gate.gate}: {GATE_TITLES[gate.gate]}: {record.verdict}", record.line()]
    tally = ", ".join([f"{n} {s}" for s, n in counts.items() if n]
                      + ([f"{len(gate.not_run)} did not run"] if gate.not_run else []))
    lines.append(f"Checked by ghost-gates as {record.role} at {record.at}: {tally}.")
    if counts[ERROR]:
        lines.append(f"{counts[ERROR]} requirement(s) could not be checked: the gate cannot pass until they can.")
    if gate.not_run:
        lines.append(f"The run stopped early (-x or --maxfail) after a failure; {', '.join(gate.not_run)} did "
                     "not run.")
    lines += ["", "| requirement | verdict | reason | evidence |", "|---|---|---|---|"]
    for rid in GATES[gate.gate]:
        result = results.get(rid)
        if result is not None:
            lines.append(f"| {rid} | {result.status} | {markdown_text(result.reason)} | "
                         f"{evidence_links(result)} |")
        elif rid in gate.not_run:
            lines.append(f"| {rid} | did not run | the run stopped early, before this requirement ran |  |")
    lines.append(end_marker(gate.gate))
    return "\n".join(lines) + "\n"


def evidence_links(result: Result, limit: int = 8) -> str:
    """The evidence as inert Markdown: `[PR #4](https://...)` for http(s), the escaped name otherwise."""
    out = []
    for item in result.evidence[:limit]:
        name = item.get("name") or item.get("url") or item.get("kind", "")
        if name:
            out.append(markdown_link(name, item.get("url")))
    if len(result.evidence) > limit:
        out.append(f"and {len(result.evidence) - limit} more (gates.json)")
    return ", ".join(out)
