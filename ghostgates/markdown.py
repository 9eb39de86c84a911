"""Level-2 sections of a Markdown file, the one structure both the state and review files share.

Headings inside code fences are text, not sections: a quoted `## DONE` in an example must
neither mark a phase done nor receive a gate block. One parser keeps the two files' readings
in agreement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_H2 = re.compile(r"^##(?!#)\s*(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


@dataclass(frozen=True)
class Section:
    start: int  # index of the heading line
    end: int  # index one past the section's last line
    title: str  # the heading text, without the hashes


def sections(lines: list[str]) -> list[Section]:
    heads: list[tuple[int, str]] = []
    fenced = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        heading = None if fenced else _H2.match(line)
        if heading:
            heads.append((i, heading.group(1)))
    return [Section(start, heads[k + 1][0] if k + 1 < len(heads) else len(lines), title)
            for k, (start, title) in enumerate(heads)]
