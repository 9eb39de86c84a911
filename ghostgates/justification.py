"""Is a deploy-timing change justified from logs? (gates.md `M2.fix-minimal`)

A timing change (a longer update monitor, a health-check start period) passes only when "a
comment or the state file justifies them from logs: the measured upgrade duration set against
the old monitor window". The seed's guardrail is the reason: "validate the hypothesis with
logs; do not cargo-cult timing knobs". So a text justifies when it carries both

- a *measured* duration: a number with a time unit after a measurement word (measured, took,
  lasted, ran for, finished in, the log shows, ...), and
- the *old window*: a duration tied to a window word (monitor, start_period, grace, window)
  that the text does not present as the new value (`set monitor: 300s` names only the fix).

Prose varies, so the reading is deliberately local: sentence by sentence, each window word
binds the duration nearest to it, and cue words next to that pair say whether it is the old
value or the new one. Pure functions; the caller gathers comment bodies and the state file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNIT = (
    r"(?:milliseconds?|msecs?|ms|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)(?![a-z])"
)
# One duration token, possibly compound as compose writes them ("1m30s", "2 min 5 s"). The
# look-behind keeps the tail of a version number ("8.4.4 still") from reading as "4 s".
_DURATION = re.compile(
    rf"(?<![\w.])\d+(?:\.\d+)?\s*{_UNIT}(?:\s*\d+(?:\.\d+)?\s*{_UNIT})*", re.IGNORECASE
)
_PART = re.compile(rf"(\d+(?:\.\d+)?)\s*({_UNIT})", re.IGNORECASE)
_SECONDS = {"ms": 0.001, "h": 3600.0, "m": 60.0, "s": 1.0}

_MEASURE = re.compile(
    r"\b(?:measur(?:ed|es|ing)|took|takes|taking|lasted|lasts|lasting|spent|spends"
    r"|ran(?: for)?|runs for|running for|run for"
    r"|(?:finish|complet)(?:ed|es|ing)? in|done in|needed|needs|elapsed|duration of|clocked"
    r"|(?:the )?(?:db |mysql |build |server )?logs? (?:shows?|showed|says|said|records?))\b",
    re.IGNORECASE,
)
_WINDOW = re.compile(
    # Compound names first ("grace window" is one window word, not two binding two durations).
    r"\b(?:(?:update[_ ])?monitor(?:[_ ]window)?|start[_ -]?period|grace(?:[_ -]?(?:period|window))?"
    r"|window)\b",
    re.IGNORECASE,
)
_OLD = re.compile(
    r"\b(?:old|default|previous(?:ly)?|prior|original|existing|current(?:ly)?|was|were|only|from"
    r"|before the fix)\b",
    re.IGNORECASE,
)
_NEW = re.compile(
    r"\b(?:set|sets|setting|add|adds|added|adding|rais(?:e|es|ed|ing)|bump(?:s|ed|ing)?"
    r"|increas(?:e|es|ed|ing)|extend(?:s|ed|ing)?|lengthen(?:s|ed|ing)?|new|now)\b",
    re.IGNORECASE,
)
_TO_BEFORE = re.compile(r"\bto\s*$", re.IGNORECASE)
# Sentence ends: terminal punctuation followed by white space, blank lines, list bullets.
# Single newlines are not breaks: comment bodies wrap mid-sentence.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+|\n\s*\n|\n\s*[-*]\s+")

_BIND_GAP = 40  # chars between a window word and the duration it names
_MEASURE_GAP = 80  # chars between a measurement word and the duration it introduces
_CUE_SPAN = 30  # chars around a window pair searched for old/new cue words


@dataclass(frozen=True)
class Justification:
    source: str  # the label the caller gave, e.g. "comment 410" or "STATUS-ghost.md"
    measured_seconds: float
    window_seconds: float
    measured_text: str  # the sentence that states the measurement
    window_text: str  # the sentence that states the old window

    @property
    def measured_exceeds_window(self) -> bool:
        # The argument only holds when the upgrade outlasts the window; exposed for the rule to
        # quote, not enforced here.
        return self.measured_seconds > self.window_seconds


def duration_seconds(token: str) -> float:
    """Seconds in a duration token such as "96 s", "300s", "1m30s", "2.5 minutes"."""
    total = 0.0
    for number, unit in _PART.findall(token):
        u = unit.lower()
        key = "ms" if u.startswith("ms") or u.startswith("milli") else u[0]
        total += float(number) * _SECONDS[key]
    return total


@dataclass(frozen=True)
class _Dur:
    start: int
    end: int
    seconds: float


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_BREAK.split(text) if s and s.strip()]


def _bound_windows(sentence: str, durs: list[_Dur]) -> dict[int, tuple[int, int]]:
    """Durations a window word names: index -> (window word start, end). Each window word takes
    the nearer of the durations directly before and after it."""
    bound: dict[int, tuple[int, int]] = {}
    for w in _WINDOW.finditer(sentence):
        best: tuple[int, int] | None = None  # (gap, index)
        for i, d in enumerate(durs):
            if d.end <= w.start():
                gap = w.start() - d.end
            elif d.start >= w.end():
                gap = d.start - w.end()
            else:
                continue
            if gap <= _BIND_GAP and (best is None or gap < best[0]):
                best = (gap, i)
        if best is not None and best[1] not in bound:
            bound[best[1]] = (w.start(), w.end())
    return bound


def _window_age(sentence: str, d: _Dur, word: tuple[int, int]) -> str:
    """`old`, `new` or `neutral` for a window duration, from the cue words around it."""
    if _TO_BEFORE.search(sentence[: d.start]):
        return "new"  # "... from 5s to 300s": the value after "to" is the new one
    lo = max(0, min(d.start, word[0]) - _CUE_SPAN)
    hi = min(len(sentence), max(d.end, word[1]) + _CUE_SPAN // 2)
    span = sentence[lo:hi]
    if _OLD.search(span):
        return "old"
    if _NEW.search(span):
        return "new"
    return "neutral"


def _is_measured(sentence: str, d: _Dur) -> bool:
    before = sentence[max(0, d.start - _MEASURE_GAP) : d.start]
    after = sentence[d.end : d.end + _CUE_SPAN]
    return bool(_MEASURE.search(before) or re.match(r"\W*\(?(?:measured|elapsed)\b", after, re.I))


def _read(text: str) -> tuple[tuple[float, str] | None, tuple[float, str] | None]:
    measured: tuple[float, str] | None = None
    old: tuple[float, str] | None = None
    neutral: tuple[float, str] | None = None
    for sentence in _sentences(text):
        durs = [
            _Dur(m.start(), m.end(), duration_seconds(m.group(0)))
            for m in _DURATION.finditer(sentence)
        ]
        bound = _bound_windows(sentence, durs)
        for i, d in enumerate(durs):
            if i in bound:
                age = _window_age(sentence, d, bound[i])
                if age == "old" and old is None:
                    old = (d.seconds, sentence)
                elif age == "neutral" and neutral is None:
                    neutral = (d.seconds, sentence)
            elif measured is None and _is_measured(sentence, d):
                measured = (d.seconds, sentence)
    # A window the text neither calls old nor new ("against a 5 s monitor") still sets the
    # measurement against a window; one it presents as the fix does not.
    return measured, old or neutral


def justifies(text: str) -> tuple[float, float] | None:
    """(measured seconds, old window seconds) when the text justifies a timing change."""
    measured, window = _read(text)
    if measured is None or window is None:
        return None
    return measured[0], window[0]


def find_justification(texts: list[tuple[str, str]]) -> Justification | None:
    """The first (source, text) that states a measured duration against the old window."""
    for source, text in texts:
        measured, window = _read(text or "")
        if measured is not None and window is not None:
            return Justification(source, measured[0], window[0], measured[1], window[1])
    return None
