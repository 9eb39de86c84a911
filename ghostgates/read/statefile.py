"""The anchors gates.md reads from the state file (STATUS-<name>.md); the rest is prose."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ghostgates.errors import ConfigError
from ghostgates.read import citations, markdown
from ghostgates.read.markdown import Document

if TYPE_CHECKING:
    from ghostgates.read.phase import Phase


# gates.md "Other recipes' phases": the state files are named for the phase's `name` (default
# its recipe), in the state directory (machine-docs/).
def status_name(phase: Phase) -> str:
    """The state file's name: `STATUS-<name>.md`."""
    return f"STATUS-{phase.state_name}.md"


def review_name(phase: Phase) -> str:
    """The review file's name: `REVIEW-<name>.md`."""
    return f"REVIEW-{phase.state_name}.md"


def journal_name(phase: Phase) -> str:
    return f"JOURNAL-{phase.state_name}.md"


def backlog_name(phase: Phase) -> str:
    return f"BACKLOG-{phase.state_name}.md"

# gates.md: the line that "contains the words `correct PR`, in any letter case (`incorrect PR` is
# not it)": the two words whole, not the tail of another word.
_CORRECT_PR = re.compile(r"(?<![\w-])correct\s+pr(?![\w-])", re.I)

@dataclass(frozen=True)
class Classified:
    build: int
    cls: str
    line: str


@dataclass
class StateFile:
    """The state file, parsed once. `sections` maps a level-2 heading's text to the visible text
    of its body (a heading written twice is one section: its bodies are read together)."""

    path: str
    text: str
    sections: dict[str, str] = field(default_factory=dict)
    doc: Document | None = field(default=None, repr=False, compare=False)

    @classmethod
    def parse(cls, path: str, text: str) -> StateFile:
        doc = markdown.parse(text)
        found: dict[str, list[str]] = {}
        for sec in doc.sections:
            found.setdefault(sec.title, []).append(doc.visible_text(sec.body))
        return cls(path, text, {title: "\n".join(bodies) for title, bodies in found.items()}, doc)

    @property
    def document(self) -> Document:
        if self.doc is None:
            self.doc = markdown.parse(self.text)
        return self.doc

    def section(self, name: str) -> str | None:
        """A level-2 section's visible body by its heading; None when absent.

        gates.md: the heading's text is exactly the anchor (`## DONE criteria` is another
        heading), so `## DONE (signed)` or `## done` is not `## DONE`.
        """
        return self.sections.get(name)

    def has_section(self, name: str) -> bool:
        return self.section(name) is not None

    def correct_pr_line(self) -> str | None:
        """The first line a reader sees that contains `correct PR` (any letter case)."""
        for line in self.document.visible:
            # Case-insensitive, as every other reference in the file: "Correct PR:" opens many lists;
            # whole words: "the incorrect PR" is not the anchor.
            if _CORRECT_PR.search(line):
                return line
        return None

    def correct_prs(self, repo: str) -> list[int]:
        line = self.correct_pr_line()
        return citations.cited_prs(line, repo, markdown=False) if line else []

    def current_evidence(self, drone_repo: str) -> list[int]:
        return citations.cited_builds(self.section("Current evidence") or "", drone_repo, markdown=False)

    def classifications(self, drone_repo: str) -> list[Classified]:
        """Each build referenced in a Classification item, with the first class word after it.

        An item is a list item (without its nested list) or a line of text outside a list, as
        the parser reads them: gates.md's "a line per classified build".
        """
        out: list[Classified] = []
        doc = self.document
        for sec in doc.section_named("Classification"):
            for item in doc.items(sec.body):
                _classify_item(item.text, drone_repo, out)
        return out


def _classify_item(item: str, drone_repo: str, out: list[Classified]) -> None:
    """Each class word speaks of the builds named since the previous class word ("build #48:
    infra"), or, where none was, of the one named right after it ("infra: build #48"); later
    mentions are prose. One item may carry several ("build #48: infra. build #50: recipe-bug",
    a lazy continuation line being part of its item)."""
    words = citations.class_word_spans(item)
    refs = citations.build_ref_spans(item, drone_repo)
    line = " ".join(item.split())
    previous = 0
    for k, (cls, at) in enumerate(words):
        upto = words[k + 1][1] if k + 1 < len(words) else len(item)
        named = [n for end, n in refs if previous <= end <= at]
        if not named:
            named = [n for end, n in refs if at < end <= upto][:1]
        previous = at
        for number in named:
            if number not in {c.build for c in out}:
                out.append(Classified(number, cls, line))


def read_optional(path: Path) -> str | None:
    """The file's text, None when it does not exist; unreadable is an error naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None


# -- the one reading of the state file: the run's fixtures, the trigger and the DONE hand-off ---

def status_path(state_dir: str | Path, phase: Phase) -> Path:
    """Where the phase's state file is: `STATUS-<name>.md` in the state directory."""
    return Path(state_dir) / status_name(phase)


def state_from(path: Path, text: str | None) -> StateFile | None:
    """The state file at `path` from its text as `read_optional` gave it (perhaps to another
    process of the run); None where the file does not exist."""
    return None if text is None else StateFile.parse(str(path), text)


def read_state(state_dir: str | Path, phase: Phase) -> StateFile | None:
    """The phase's state file, read and parsed now; None where it does not exist. A file that
    exists and cannot be read is a ConfigError naming it (`error`, never a missing file)."""
    path = status_path(state_dir, phase)
    return state_from(path, read_optional(path))
