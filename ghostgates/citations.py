"""References in prose, as gates.md defines them.

A PR is cited as `PR #N` or by its Gitea URL; a build as `build #N` or by its Drone URL, in any
letter case; a branch by its exact name. URLs are matched on their path, not their host: the same
forge is reached under several names (and the twin under 127.0.0.1).
"""

from __future__ import annotations

import re

CLASS_WORDS = ("infra", "recipe-timing", "recipe-bug", "stale-test", "unknown")
VERDICT_WORDS = ("green", "passed", "red", "failed", "blocked")

_PR_REF = re.compile(r"(?<![\w-])PR\s?#(\d+)\b", re.I)
_BUILD_REF = re.compile(r"(?<![\w-])builds?\s?#(\d+)\b", re.I)
_CLASS = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, CLASS_WORDS)) + r")(?![\w-])", re.I)
_VERDICT = re.compile(r"(?<![\w-])(" + "|".join(VERDICT_WORDS) + r")(?![\w-])", re.I)


def _pr_url(repo: str) -> re.Pattern[str]:
    return re.compile(r"https?://[^\s/]+(?:/[^\s]*)?/" + re.escape(repo) + r"/(?:pulls|issues)/(\d+)\b", re.I)


def _build_url(drone_repo: str) -> re.Pattern[str]:
    return re.compile(r"https?://[^\s/]+(?:/[^\s]*)?/" + re.escape(drone_repo) + r"/(\d+)\b", re.I)


def cited_prs(text: str, repo: str) -> list[int]:
    """PR numbers cited, in order of appearance, each once."""
    return _ordered(text, [_PR_REF, _pr_url(repo)])


def cited_builds(text: str, drone_repo: str) -> list[int]:
    return _ordered(text, [_BUILD_REF, _build_url(drone_repo)])


def build_urls(text: str, drone_repo: str) -> list[int]:
    """Builds linked by their Drone URL (not merely named as `build #N`)."""
    return _ordered(text, [_build_url(drone_repo)])


def cites_branch(text: str, branch: str) -> bool:
    """The exact branch name, not a longer name that starts or ends with it."""
    # A trailing '.' ends a sentence unless a name character follows it.
    pattern = r"(?<![\w./-])" + re.escape(branch) + r"(?![\w/-]|\.[\w-])"
    return re.search(pattern, text) is not None


def class_words(text: str) -> list[str]:
    return [m.group(1).lower() for m in _CLASS.finditer(text)]


def verdict_words(text: str) -> list[str]:
    return [m.group(1).lower() for m in _VERDICT.finditer(text)]


def _ordered(text: str, patterns: list[re.Pattern[str]]) -> list[int]:
    hits: list[tuple[int, int]] = []
    for pattern in patterns:
        hits.extend((m.start(), int(m.group(1))) for m in pattern.finditer(text or ""))
    seen: list[int] = []
    for _, number in sorted(hits):
        if number not in seen:
            seen.append(number)
    return seen


def first_class_word(text: str) -> tuple[str, int] | None:
    """The first class word of a text and where it starts."""
    match = _CLASS.search(text)
    return (match.group(1).lower(), match.start()) if match else None


def build_ref_spans(text: str, drone_repo: str) -> list[tuple[int, int]]:
    """(end offset, build number) of each build reference, in order."""
    hits = [(m.end(), int(m.group(1))) for p in (_BUILD_REF, _build_url(drone_repo)) for m in p.finditer(text)]
    return sorted(hits)
