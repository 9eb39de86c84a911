"""The review file (REVIEW-ghost.md): one block per gate, its record line first.

Blocks are replaced in place; every other byte of the file is kept; writes are atomic. Text that
came from a PR comment or a log is escaped so that it can neither forge a record nor break the
Markdown.
"""

from __future__ import annotations

import fcntl
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .atomic import replace_text
from .timeutil import parse_time

GATE_TITLES = {"M1": "State inventory and clean retry", "M2": "Operator-ready outcome"}
_RECORD = re.compile(
    r"^<!-- gate-record gate=(?P<gate>M[12]) verdict=(?P<verdict>PASS|FAIL) role=(?P<role>adversary|builder) "
    r"head=(?P<head>[0-9a-f]{40}|none) build=(?P<build>\d+|none) at=(?P<at>\S+) -->\s*$")
_H2 = re.compile(r"^##(?!#)")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


@dataclass(frozen=True)
class Record:
    gate: str
    verdict: str
    role: str
    head: str
    build: str
    at: str

    def line(self) -> str:
        return (f"<!-- gate-record gate={self.gate} verdict={self.verdict} role={self.role} "
                f"head={self.head} build={self.build} at={self.at} -->")


def _blocks(lines: list[str]) -> list[tuple[int, int, str]]:
    """(first line, end line exclusive, heading) of each level-2 block, fences respected."""
    heads: list[tuple[int, str]] = []
    fenced = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _H2.match(line):
            heads.append((i, line))
    out = []
    for k, (start, heading) in enumerate(heads):
        end = heads[k + 1][0] if k + 1 < len(heads) else len(lines)
        out.append((start, end, heading))
    return out


def _gate_of(heading: str) -> str | None:
    match = re.match(r"^##\s*(M[12])\b", heading)
    return match.group(1) if match else None


def records(text: str) -> dict[str, Record]:
    """The record line that opens each gate block (the first non-blank line after its heading)."""
    lines = text.splitlines()
    found: dict[str, Record] = {}
    for start, end, heading in _blocks(lines):
        gate = _gate_of(heading)
        if gate is None:
            continue
        body = [line for line in lines[start + 1:end] if line.strip()]
        match = _RECORD.match(body[0].strip()) if body else None
        if match is None or match.group("gate") != gate:
            continue
        try:
            parse_time(match.group("at"))
        except ValueError:
            continue
        found[gate] = Record(**match.groupdict())
    return found


def escape(text: object) -> str:
    """One line of inert Markdown: no HTML comment, no heading, no table break, no link syntax."""
    flat = " ".join(str(text).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]#|!])", r"\\\1", flat)


def replace_block(text: str, gate: str, block: str) -> str:
    """`text` with the gate's block replaced by `block` (or appended); all else byte for byte."""
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if text.count("\r\n") > text.count("\n") / 2 and "\r\n" in text else "\n"
    rendered = block.rstrip("\n").replace("\n", newline) + newline
    for start, end, heading in _blocks([line.rstrip("\r\n") for line in lines]):
        if _gate_of(heading) == gate:
            tail = lines[start:end]
            # Keep the blank lines that separated this block from the next one.
            trailing = ""
            for line in reversed(tail):
                if line.strip():
                    break
                trailing = line + trailing
            return "".join(lines[:start]) + rendered + (trailing or (newline if end < len(lines) else "")) \
                + "".join(lines[end:])
    prefix = text
    if prefix and not prefix.endswith(("\n", "\r\n")):
        prefix += newline
    if prefix and not prefix.endswith(newline * 2):
        prefix += newline
    return prefix + rendered


def write_atomic(path: Path, update: object) -> str:
    """Apply `update(old_text) -> new_text` under a lock and replace the file atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Lock the directory, not a side file: nothing is left behind beside the user's files.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX)
        try:
            with open(path, encoding="utf-8", newline="") as handle:
                old = handle.read()
        except FileNotFoundError:
            old = ""
        new = update(old)  # type: ignore[operator]
        replace_text(path, new)
    finally:
        os.close(dir_fd)
    return new
