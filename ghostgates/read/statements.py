"""What a comment states: its `Key: value` lines (gates.md "What the gates read from comments").

People write comments for people, and the suite does not guess at what prose means. A gate
decides on *statements*: a line `Key: value` as a reader sees the text (not inside a code block,
an HTML block or comment, or a block quote; a list item's text counts), the key one of `KEYS` in
any letter case and followed by a colon, the value the rest of that line, trimmed. Emphasis is
markup (`**Blocker:** ...` states a blocker). A key given twice with values that name different
things states nothing (`#57` and `build #57` are the same value). Everything else is prose, and
decides nothing.

Pure functions of the text: the Markdown structure is markdown-it-py's
(`ghostgates.read.markdown.prose_lines`), as the state file is read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable
from dataclasses import dataclass

from ghostgates.read.classes import CLASSES
from ghostgates.read.markdown import prose_lines

BUILD, VERDICT, CLASS, BLOCKER = "Build", "Verdict", "Class", "Blocker"
UPGRADE_TOOK, OLD_WINDOW, SUPERSEDED_BY = "Upgrade took", "Old window", "Superseded by"
KEYS: tuple[str, ...] = (BUILD, VERDICT, CLASS, BLOCKER, UPGRADE_TOOK, OLD_WINDOW, SUPERSEDED_BY)
_BY_LOWER = {k.lower(): k for k in KEYS}

VERDICTS = ("green", "red", "blocked")
# gates.md: "a value that begins with a non-answer ... states no blocker". Longest first, so
# `not yet known` is named as itself.
NON_ANSWERS: tuple[str, ...] = ("to be determined", "not yet known", "not known", "unknown", "unclear",
                                "nothing", "none", "todo", "tbd", "n/a", "?")
MIN_BLOCKER_WORDS = 3

# A statement line: the key (words and single spaces), a colon, the value. Leading white space
# is the reader's indentation; the key starts the line.
_LINE = re.compile(r"^\s*(?P<key>[A-Za-z]+(?: [A-Za-z]+)*):(?P<value>.*)$")


@dataclass(frozen=True)
class Statement:
    key: str  # as KEYS spells it
    value: str  # the rest of the line, trimmed
    line: int  # source line (0-based) in the text it was read from


@dataclass(frozen=True)
class Statements:
    """Every statement of one text, in order, and what each key states."""

    lines: tuple[Statement, ...]

    def given(self, key: str) -> list[Statement]:
        return [s for s in self.lines if s.key == key]

    def value(self, key: str) -> str | None:
        """The value of `key`, None where it is not stated or stated twice naming different things."""
        given = self.given(key)
        if not given or self.conflict(key):
            return None
        return given[0].value

    def conflict(self, key: str) -> tuple[str, ...]:
        """The values of a key given more than once with values that name different things; () if none."""
        given = self.given(key)
        if len({same_as(key, s.value) for s in given}) > 1:
            return tuple(s.value for s in given)
        return ()

    def __bool__(self) -> bool:
        return bool(self.lines)


def read(text: str | None) -> Statements:
    """The statements of a Markdown text (a comment body, a state file section)."""
    found: list[Statement] = []
    for number, row in prose_lines(text or ""):
        m = _LINE.match(row)
        if m is None:
            continue
        key = _BY_LOWER.get(" ".join(m.group("key").split()).lower())
        if key is not None:
            found.append(Statement(key, m.group("value").strip(), number))
    return Statements(tuple(found))


# -- references ----------------------------------------------------------------------------------
_PR_WORD = re.compile(r"(?<![\w-])PR\s?#(\d+)\b", re.I)
_BUILD_WORD = re.compile(r"(?<![\w-])builds?\s?#(\d+)\b", re.I)
_BARE = re.compile(r"(?<![\w/#&])#(\d+)\b")
_URL = re.compile(r"https?://\S+", re.I)


def _url_numbers(value: str, pattern: re.Pattern[str]) -> tuple[set[int], str]:
    numbers = {int(m.group(1)) for m in pattern.finditer(value)}
    return numbers, _URL.sub(" ", value)


def build_ref(value: str | None, drone_repo: str) -> int | None:
    """The one build a reference value names (`#57`, `build #57`, its Drone URL; words beside it
    are prose); None where it names none or two."""
    url = re.compile(r"https?://[^\s/]+(?:/[^\s]*)?/" + re.escape(drone_repo) + r"/(\d+)\b", re.I)
    return _one_ref(value, url, _BUILD_WORD, _PR_WORD)  # `PR #12` names a PR, not build 12


def pr_ref(value: str | None, repo: str) -> int | None:
    """The one PR a reference value names (`PR #4`, `#4`, its Gitea URL); None where none or two."""
    url = re.compile(r"https?://[^\s/]+(?:/[^\s]*)?/" + re.escape(repo) + r"/(?:pulls|issues)/(\d+)\b", re.I)
    return _one_ref(value, url, _PR_WORD, _BUILD_WORD)  # `build #57` names a build, not PR 57


def _one_ref(value: str | None, url: re.Pattern[str], own: re.Pattern[str], other: re.Pattern[str]) -> int | None:
    """The one number `value` names by URL, by its own word (`build #N` / `PR #N`) or bare (`#N`),
    the other kind's references set aside; None where it names none or two."""
    if not value:
        return None
    numbers, rest = _url_numbers(value, url)
    rest = other.sub(" ", rest)
    numbers |= {int(m.group(1)) for m in own.finditer(rest)}
    numbers |= {int(m.group(1)) for m in _BARE.finditer(own.sub(" ", rest))}
    return next(iter(numbers)) if len(numbers) == 1 else None


def _any_ref(value: str) -> Hashable:
    """What a reference value names without knowing the repo: its numbers (URLs by their last
    number), for telling two values of one key apart."""
    numbers = {int(n) for n in re.findall(r"#(\d+)\b", _URL.sub(" ", value))}
    numbers |= {int(m.group(1)) for m in re.finditer(r"/(\d+)(?:/\d+)*/?(?:#\S*)?(?=\s|$)", value)}
    return frozenset(numbers) if numbers else " ".join(value.lower().split())


# -- words -----------------------------------------------------------------------------------------
def _word(value: str | None, allowed: tuple[str, ...]) -> str | None:
    """The value as one of `allowed` (any letter case, a closing `.` allowed), else None."""
    if value is None:
        return None
    word = value.strip().rstrip(".").strip().lower()
    return word if word in allowed else None


def verdict_word(value: str | None) -> str | None:
    return _word(value, VERDICTS)


def class_word(value: str | None) -> str | None:
    return _word(value, CLASSES)


def non_answer(value: str) -> str | None:
    """The non-answer a Blocker value begins with (gates.md), None where it begins with none."""
    low = " ".join(value.lower().split())
    for phrase in NON_ANSWERS:
        if low.startswith(phrase):
            rest = low[len(phrase):]
            if phrase == "?" or not rest or not (rest[0].isalnum() or rest[0] in "_-"):
                return phrase
    return None


def blocker_problem(value: str | None) -> str | None:
    """Why a Blocker value states no blocker; None where it states one."""
    if value is None or not value.strip():
        return "is empty"
    if (said := non_answer(value)) is not None:
        return f"begins with the non-answer `{said}`"
    words = [w for w in value.split() if re.search(r"[A-Za-z0-9]", w)]
    if len(words) < MIN_BLOCKER_WORDS:
        return f"has {len(words)} word{'s' if len(words) != 1 else ''}, fewer than {MIN_BLOCKER_WORDS}"
    return None


# -- durations -------------------------------------------------------------------------------------
_UNIT = r"(?:hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)(?![A-Za-z])"
_DURATION = re.compile(rf"\d+(?:\.\d+)?\s*{_UNIT}(?:\s*\d+(?:\.\d+)?\s*{_UNIT})*", re.I)
_PART = re.compile(rf"(\d+(?:\.\d+)?)\s*({_UNIT})", re.I)
_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def seconds_of(text: str) -> float | None:
    """Seconds in a duration written whole (`96 s`, `96s`, `1m36s`, `1 min 36 s`, `300s`); None otherwise."""
    text = text.strip()
    if not _DURATION.fullmatch(text):
        return None
    total = sum(float(n) * _SECONDS[u.lower()[0]] for n, u in _PART.findall(text))
    return total if math.isfinite(total) else None  # `999...9 s` past a float's range is no duration


def upgrade_took(value: str | None) -> float | None:
    """Seconds an `Upgrade took` value states: a duration, a closing `.` allowed; None otherwise."""
    if value is None:
        return None
    return seconds_of(value.strip().rstrip(".").strip())


@dataclass(frozen=True)
class OldWindow:
    """An `Old window` value: `[service.]key value`, the value a duration or `default`."""

    service: str | None  # None where the value names no service
    key: str  # the key under the service, without `deploy.` (`update_config.monitor`)
    seconds: float | None  # the duration written out; None for `default`
    text: str  # the value as written

    @property
    def is_default(self) -> bool:
        return self.seconds is None


# Keys under a service whose old window a fix may state (timing keys of M2.fix-minimal).
_KEY_HEADS = ("update_config", "rollback_config", "healthcheck", "restart_policy", "stop_grace_period")
_OLD_WINDOW = re.compile(r"^(?P<path>[A-Za-z0-9_.-]+)\s+(?P<value>.+?)\s*\.?$")


def old_window(value: str | None) -> OldWindow | None:
    """The key and value an `Old window` value states; None where it is not `key value`."""
    if not value:
        return None
    m = _OLD_WINDOW.match(value.strip())
    if m is None:
        return None
    raw = m.group("value").strip()
    if raw.lower() == "default":
        seconds = None
    else:
        seconds = seconds_of(raw)
        if seconds is None:
            return None
    parts = m.group("path").strip(".").split(".")
    service = None
    if parts and parts[0] not in _KEY_HEADS and parts[0] != "deploy":
        service, parts = parts[0], parts[1:]
    if parts and parts[0] == "deploy":
        parts = parts[1:]
    if not parts or parts[0] not in _KEY_HEADS:
        return None
    return OldWindow(service, ".".join(parts), seconds, value.strip())


def same_as(key: str, value: str) -> Hashable:
    """What a value names, for telling two values of one key apart (`#57` is `build #57`)."""
    if key in (BUILD, SUPERSEDED_BY):
        return _any_ref(value)
    if key == UPGRADE_TOOK:
        took = upgrade_took(value)
        return took if took is not None else value.lower().strip()
    if key == OLD_WINDOW:
        ow = old_window(value)
        return (ow.service, ow.key, ow.seconds) if ow else value.lower().strip()
    return " ".join(value.lower().rstrip(".").split())


def format_seconds(seconds: float) -> str:
    """`96 s`, as the Builder writes an `Upgrade took` value: whole seconds from 10 s up."""
    if seconds >= 10 or abs(seconds - round(seconds)) < 0.05:
        return f"{seconds:.0f} s"
    return f"{seconds:.1f} s"


def shown(value: str | None, limit: int = 80) -> str:
    """A stated value as a verdict sentence quotes it: one line, at most `limit` characters (server text is
    bounded before it is echoed)."""
    text = " ".join((value or "").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
