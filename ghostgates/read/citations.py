"""References in prose, as gates.md defines them.

A PR is cited as `PR #N` (the space may be left out: `PR#4`) or by its Gitea URL (with or without
a `/files` or `#issuecomment-N` tail); a build as `build #N` or by its Drone URL (with or without
a `/stage/step` tail), in any letter case; a branch by its exact name; `build #580` cites 580, not
58. URLs are matched on their path, not their host: the same forge is reached under several names
(and the twin under 127.0.0.1).

The texts are Markdown (the state file, Gitea comments), and a citation is what a reader sees:
the public functions read `markdown.visible_text(text)` (an HTML comment cites nothing, `PR \\#4`
cites PR 4, a link cites its target). Pass `markdown=False` for text that is already visible.
"""

from __future__ import annotations

import re

from ghostgates.read.classes import CLASSES
from ghostgates.read.markdown import visible_text

_PR_REF = re.compile(r"(?<![\w-])PR\s?#(\d+)\b", re.I)
# `Build: #57` (a statement, gates.md "a `Build:` statement cites its build") cites 57 as well.
_BUILD_REF = re.compile(r"(?<![\w-])builds?(?:\s?|:[ \t]*)#(\d+)\b", re.I)
_CLASS = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, CLASSES)) + r")(?![\w-])", re.I)


def _pr_url(repo: str) -> re.Pattern[str]:
    return re.compile(r"https?://[^\s/]+(?:/[^\s]*)?/" + re.escape(repo) + r"/(?:pulls|issues)/(\d+)\b", re.I)


def _build_url(drone_repo: str) -> re.Pattern[str]:
    return re.compile(r"https?://[^\s/]+(?:/[^\s]*)?/" + re.escape(drone_repo) + r"/(\d+)\b", re.I)


def seen(text: str | None, markdown: bool = True) -> str:
    """The text a reader sees of `text` (Markdown unless `markdown` is False)."""
    return visible_text(text or "") if markdown else (text or "")


def cited_prs(text: str, repo: str, *, markdown: bool = True) -> list[int]:
    """PR numbers cited, in order of appearance, each once."""
    return _ordered(seen(text, markdown), [_PR_REF, _pr_url(repo)])


def pr_ref_spans(text: str, repo: str) -> list[tuple[int, int, int]]:
    """(start, end, PR number) of each PR reference in visible text, in order."""
    hits = [(m.start(), m.end(), int(m.group(1))) for p in (_PR_REF, _pr_url(repo)) for m in p.finditer(text)]
    return sorted(hits)


def cited_builds(text: str, drone_repo: str, *, markdown: bool = True) -> list[int]:
    return _ordered(seen(text, markdown), [_BUILD_REF, _build_url(drone_repo)])


def build_urls(text: str, drone_repo: str, *, markdown: bool = True) -> list[int]:
    """Builds linked by their Drone URL (not merely named as `build #N`)."""
    return _ordered(seen(text, markdown), [_build_url(drone_repo)])


def cites_branch(text: str, branch: str, *, markdown: bool = True) -> bool:
    """The exact branch name, not a longer name that starts or ends with it."""
    # A trailing '.' ends a sentence unless a name character follows it.
    pattern = r"(?<![\w./-])" + re.escape(branch) + r"(?![\w/-]|\.[\w-])"
    return re.search(pattern, seen(text, markdown)) is not None




def _ordered(text: str, patterns: list[re.Pattern[str]]) -> list[int]:
    hits: list[tuple[int, int]] = []
    for pattern in patterns:
        hits.extend((m.start(), int(m.group(1))) for m in pattern.finditer(text or ""))
    seen: list[int] = []
    for _, number in sorted(hits):
        if number not in seen:
            seen.append(number)
    return seen


def class_word_spans(text: str) -> list[tuple[str, int]]:
    """(class word, start offset) of each class word of a visible text, in order."""
    return [(m.group(1).lower(), m.start()) for m in _CLASS.finditer(text)]


def build_ref_spans(text: str, drone_repo: str) -> list[tuple[int, int]]:
    """(end offset, build number) of each build reference in visible text, in order."""
    hits = [(m.end(), int(m.group(1))) for p in (_BUILD_REF, _build_url(drone_repo)) for m in p.finditer(text)]
    return sorted(hits)
