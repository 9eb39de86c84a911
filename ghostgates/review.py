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
from .markdown import sections
from .timeutil import parse_time

GATE_TITLES = {"M1": "State inventory and clean retry", "M2": "Operator-ready outcome"}
_RECORD = re.compile(
    r"^<!-- gate-record gate=(?P<gate>M[12]) verdict=(?P<verdict>PASS|FAIL) role=(?P<role>adversary|builder) "
    r"head=(?P<head>[0-9a-f]{40}|none) build=(?P<build>\d+|none) at=(?P<at>\S+) -->\s*$")


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


def _gate_of(title: str) -> str | None:
    match = re.match(r"^(M[12])\b", title)
    return match.group(1) if match else None


def records(text: str) -> dict[str, Record]:
    """The record line that opens each gate block (the first non-blank line after its heading)."""
    lines = text.splitlines()
    found: dict[str, Record] = {}
    for sec in sections(lines):
        start, end = sec.start, sec.end
        gate = _gate_of(sec.title)
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
    for sec in sections([line.rstrip("\r\n") for line in lines]):
        start, end = sec.start, sec.end
        if _gate_of(sec.title) == gate:
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
