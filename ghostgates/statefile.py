"""The anchors gates.md reads from the state file (STATUS-ghost.md); the rest is prose."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import citations
from .errors import ConfigError
from .markdown import sections

STATUS = "STATUS-ghost.md"
REVIEW = "REVIEW-ghost.md"

_ITEM_START = re.compile(r"^\s{0,3}(?:[-*+]|\d+[.)])\s+|^\S")


@dataclass(frozen=True)
class Classified:
    build: int
    cls: str
    line: str


@dataclass
class StateFile:
    path: str
    text: str
    sections: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, path: str, text: str) -> StateFile:
        lines = text.splitlines()
        found: dict[str, list[str]] = {}
        for sec in sections(lines):
            # A heading written twice is one section: its bodies are read together.
            found.setdefault(sec.title, []).extend(lines[sec.start + 1:sec.end])
        return cls(path, text, {title: "\n".join(body) for title, body in found.items()})

    def section(self, name: str) -> str | None:
        """A level-2 section's body by its heading, case-insensitively; None when absent.

        `## DONE (signed)` and `## Current evidence: post-proxy` name their sections too: the
        anchor is the heading's first words, not the whole line.
        """
        wanted = name.lower()
        for heading, body in self.sections.items():
            text = heading.lower()
            if text == wanted or (text.startswith(wanted) and not text[len(wanted)].isalnum()):
                return body
        return None

    def has_section(self, name: str) -> bool:
        return self.section(name) is not None

    def correct_pr_line(self) -> str | None:
        for line in self.text.splitlines():
            # Case-insensitive, as every other reference in the file: "Correct PR:" opens many lists.
            if "correct pr" in line.lower():
                return line
        return None

    def correct_prs(self, repo: str) -> list[int]:
        line = self.correct_pr_line()
        return citations.cited_prs(line, repo) if line else []

    def current_evidence(self, drone_repo: str) -> list[int]:
        return citations.cited_builds(self.section("Current evidence") or "", drone_repo)

    def classifications(self, drone_repo: str) -> list[Classified]:
        """Each build referenced in a Classification item, with the first class word after it."""
        out: list[Classified] = []
        for item in _items(self.section("Classification") or ""):
            word = citations.first_class_word(item)
            if word is None:
                continue
            cls, at = word
            refs = citations.build_ref_spans(item, drone_repo)
            # The class word speaks of the builds named before it ("build #48: infra"), or of
            # the one named right after it ("infra: build #48"); later mentions are prose.
            named = [n for end, n in refs if end <= at] or [n for _, n in refs[:1]]
            for number in named:
                if number not in {c.build for c in out}:
                    out.append(Classified(number, cls, " ".join(item.split())))
        return out

def _items(body: str) -> list[str]:
    """List items with their indented continuation lines joined."""
    items: list[list[str]] = []
    for line in body.splitlines():
        if not line.strip():
            items.append([])
            continue
        if _ITEM_START.match(line) or not items or not items[-1]:
            items.append([line])
        else:
            items[-1].append(line)
    return ["\n".join(i) for i in items if i]


def read_optional(path: Path) -> str | None:
    """The file's text, None when it does not exist; unreadable is an error naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
