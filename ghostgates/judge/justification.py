"""Is a deploy-timing change justified from logs? (gates.md `M2.fix-minimal`)

gates.md: "a comment (by anyone) or the state file justifies them from logs: the measured
duration of the upgrade itself (the data-dir upgrade or migration, not the whole CI run or
deploy) set against the old window (the value the change replaces, or the engine's default where
the base sets none; the new value the PR sets is not the old window), the measured duration
being the longer". The seed's guardrail is the reason: "validate the hypothesis with logs; do not
cargo-cult timing knobs". So a text justifies when it carries

- a *measured* duration: a number with a time unit after a measurement word (measured, took,
  lasted, ran for, finished in, the log shows, ...) whose subject is the upgrade itself (the
  upgrade, the data-dir upgrade, the migration), not the CI run, the build or the deploy;
- the *old window*: a duration tied to a window word (monitor, start_period, grace, window) that
  the text does not present as the new value (`set monitor: 300s` names only the fix). Where the
  compose diff shows the change's values (`Window`), the number must be a value the change
  replaces (the base's, or the engine's default where the base sets none) and is never a value
  the PR sets; the evidence says which numbers matched;
- and the measured duration longer than the old window.

Prose varies, so the reading is deliberately local: sentence by sentence (a Markdown block never
runs into the next), each window word binds the duration nearest to it, and cue words next to
that pair say whether it is the old value or the new one. Pure functions; the caller gathers the
comment bodies, the state file and the compose diff.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ghostgates.read.markdown import parse as parse_markdown

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
_DEFAULTS_TO = re.compile(r"\bdefault(?:s|ed)?\s+to\s*$", re.IGNORECASE)
# Sentence ends: terminal punctuation followed by white space, blank lines, list bullets.
# Single newlines are not breaks: comment bodies wrap mid-sentence.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+|\n\s*\n|\n\s*[-*]\s+")

_BIND_GAP = 40  # chars between a window word and the duration it names
_MEASURE_GAP = 80  # chars between a measurement word and the duration it introduces
_CUE_SPAN = 30  # chars around a window pair searched for old/new cue words


# The engine's defaults where the base sets none (docker stack deploy leaves them to the engine):
#   swarmkit api/defaults/service.go: Update/Rollback Monitor 5s, Delay 0; Restart Delay 5s, Window 0
#   moby daemon/health.go: interval 30s, timeout 30s, start period 0 (start_interval 5s)
ENGINE_DEFAULTS: dict[str, float] = {
    "deploy.update_config.monitor": 5.0,
    "deploy.update_config.delay": 0.0,
    "deploy.rollback_config.monitor": 5.0,
    "deploy.rollback_config.delay": 0.0,
    "deploy.restart_policy.delay": 5.0,
    "deploy.restart_policy.window": 0.0,
    "healthcheck.interval": 30.0,
    "healthcheck.timeout": 30.0,
    "healthcheck.start_period": 0.0,
    "healthcheck.start_interval": 5.0,
    "stop_grace_period": 10.0,  # swarmkit api/defaults/service.go: StopGracePeriod 10s
}


@dataclass(frozen=True)
class Window:
    """A duration the PR changes, as the compose diff shows it."""

    key: str  # "compose.yml: services.db.deploy.update_config.monitor"
    old_seconds: float | None  # the value the change replaces (None: unknown)
    old_is_default: bool  # the base sets none: the old value is the engine's default
    new_seconds: float | None  # the value the PR sets (None: it removes the key)

    def describe_old(self) -> str:
        if self.old_is_default:
            return f"the engine default of {self.key} (the base sets none)"
        return f"the base value of {self.key}"


def windows_from_changes(changes: Iterable[Any]) -> list[Window]:
    """The duration-valued timing changes of a compose diff (compose_diff.Change objects)."""
    out: list[Window] = []
    for change in changes:
        path = str(getattr(change, "path", "") or "")
        parts = path.split(".")
        if len(parts) < 3 or parts[0] != "services":
            continue
        suffix = ".".join(parts[2:])
        default = ENGINE_DEFAULTS.get(suffix)
        before, after = getattr(change, "before", None), getattr(change, "after", None)
        old = _value_seconds(before)
        new = _value_seconds(after)
        if default is None and old is None and new is None:
            continue  # not a duration (failure_action, retries, test)
        is_default = before is None
        if is_default:
            old = default
        out.append(Window(f"{change.file}: {path}", old, is_default, new))
    return out


def _value_seconds(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not _DURATION.fullmatch(text):
        return None
    return duration_seconds(text)


@dataclass(frozen=True)
class Justification:
    source: str  # the label the caller gave, e.g. "comment 410" or "STATUS-ghost.md"
    measured_seconds: float
    window_seconds: float
    measured_text: str  # the sentence that states the measurement
    window_text: str  # the sentence that states the old window
    matched: str = ""  # which of the sentence's numbers matched the compose diff, and how

    @property
    def measured_exceeds_window(self) -> bool:
        return self.measured_seconds > self.window_seconds


@dataclass
class Reading:
    """What one text says: its measured upgrade durations and its old windows, and why other
    numbers were not taken (for the operator's sentence on a fail)."""

    measured: list[tuple[float, str]] = field(default_factory=list)
    windows: list[tuple[float, str, str]] = field(default_factory=list)  # (seconds, sentence, matched)
    notes: list[str] = field(default_factory=list)


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
    if _DEFAULTS_TO.search(sentence[: d.start]):
        return "old"  # "the monitor defaults to 5 s": the engine's default, the old window
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


# What a measured duration is of. The upgrade itself: the data-dir upgrade, the migration. The
# whole run: the CI build, the pipeline, the deploy (gates.md: "not the whole CI run or deploy").
_UPGRADE_SUBJECT = re.compile(
    r"\b(?:upgrad(?:e|es|ing)|data[- ]?dir(?:ectory)?|data directory|migrations?|migrat(?:ed|ing)"
    r"|dictionary)\b",
    re.IGNORECASE,
)
_RUN_SUBJECT = re.compile(
    r"\b(?:ci|builds?|pipelines?|jobs?|deploy(?:s|ment)?|runs?|testme|stack|steps?|whole|total|overall"
    r"|end[- ]to[- ]end|convergence)\b|#\d+",
    re.IGNORECASE,
)
_SUBJECT_SPAN = 60  # chars before a measurement word searched for its subject


def _subject(text: str, nearest_last: bool) -> str | None:
    """`upgrade`, `run` or None: the subject term in `text` nearest to its end (or start)."""
    terms = [(m.start(), "upgrade") for m in _UPGRADE_SUBJECT.finditer(text)]
    terms += [(m.start(), "run") for m in _RUN_SUBJECT.finditer(text)]
    if not terms:
        return None
    return (max(terms) if nearest_last else min(terms))[1]


def _measurement(sentence: str, d: _Dur) -> tuple[bool, str | None]:
    """(is measured, what of: `upgrade`, `run` or None) for a duration in a sentence."""
    before = sentence[max(0, d.start - _MEASURE_GAP) : d.start]
    after = sentence[d.end : d.end + _CUE_SPAN]
    words = list(_MEASURE.finditer(before))
    if words:
        last = words[-1]
        # "measured the upgrade at 96 s": the object between the word and the number.
        subject = _subject(before[last.end():], nearest_last=True)
        if subject is None:
            # "the data-dir upgrade took 96 s": the subject before the word.
            offset = max(0, d.start - _MEASURE_GAP) + last.start()
            subject = _subject(sentence[max(0, offset - _SUBJECT_SPAN):offset], nearest_last=True)
        if subject is None:
            subject = _subject(sentence[d.end : d.end + _CUE_SPAN], nearest_last=False)
        return True, subject
    if re.match(r"\W*\(?(?:measured|elapsed)\b", after, re.I):
        return True, _subject(sentence[max(0, d.start - _SUBJECT_SPAN) : d.start], nearest_last=True)
    return False, None


def _blocks(text: str) -> list[str]:
    """The units a sentence cannot run across: Markdown blocks, as the reader sees them."""
    return parse_markdown(text or "").blocks()


def read(text: str, windows: list[Window] | None = None) -> Reading:
    """The measured upgrade durations and old windows a text states (see the module doc)."""
    out = Reading()
    known = [w for w in windows or [] if w.old_seconds is not None or w.new_seconds is not None]
    neutral: list[tuple[float, str, str]] = []
    for block in _blocks(text):
        for sentence in _sentences(block):
            durs = [
                _Dur(m.start(), m.end(), duration_seconds(m.group(0)))
                for m in _DURATION.finditer(sentence)
            ]
            bound = _bound_windows(sentence, durs)
            for i, d in enumerate(durs):
                if i in bound:
                    age = _window_age(sentence, d, bound[i])
                    if age == "new":
                        continue
                    if not known:
                        (out.windows if age == "old" else neutral).append((d.seconds, sentence, ""))
                        continue
                    _match_window(d.seconds, sentence, known, out)
                    continue
                measured, of = _measurement(sentence, d)
                if not measured:
                    continue
                if of == "upgrade":
                    out.measured.append((d.seconds, sentence))
                else:
                    what = "the whole CI run or deploy" if of == "run" else "nothing named as the upgrade"
                    out.notes.append(f"{_secs(d.seconds)} measures {what}, not the upgrade itself")
    # A window the text neither calls old nor new ("against a 5 s monitor") still sets the
    # measurement against a window; one it presents as the fix does not.
    out.windows.extend(neutral)
    return out


def _match_window(seconds: float, sentence: str, known: list[Window], out: Reading) -> None:
    """Take a window number only as a value the change replaces (compose diff), never the new one."""
    for w in known:
        if w.old_seconds is not None and abs(w.old_seconds - seconds) < 0.5:
            out.windows.append((seconds, sentence, f"{_secs(seconds)} = {w.describe_old()}"))
            return
    for w in known:
        if w.new_seconds is not None and abs(w.new_seconds - seconds) < 0.5:
            out.notes.append(f"{_secs(seconds)} is the new value the PR sets for {w.key}, not the old window")
            return
    olds = ", ".join(f"{_secs(w.old_seconds)} ({w.key})" for w in known if w.old_seconds is not None)
    out.notes.append(f"{_secs(seconds)} is not a value the change replaces (those are {olds or 'unknown'})")


def _secs(seconds: float | None) -> str:
    return "?" if seconds is None else f"{seconds:g} s"


def judge(text: str, windows: list[Window] | None = None) -> tuple[tuple[float, str, float, str, str] | None,
                                                                 list[str]]:
    """The first (measured, its sentence, old window, its sentence, matched) whose measured
    duration exceeds the old window, and the notes on every number not taken."""
    r = read(text, windows)
    notes = list(r.notes)
    for seconds, m_text in r.measured:
        for window, w_text, matched in r.windows:
            if seconds > window:
                return (seconds, m_text, window, w_text, matched), notes
    if r.measured and r.windows:
        notes.append(f"the measured upgrade ({_secs(max(m for m, _ in r.measured))}) does not exceed the old "
                     f"window ({_secs(min(w for w, _, _ in r.windows))})")
    return None, notes


def find_justification(texts: list[tuple[str, str]], windows: list[Window] | None = None,
                       notes: list[str] | None = None) -> Justification | None:
    """The first (source, text) that states a measured upgrade duration longer than the old
    window. `notes`, when given, collects why each other text's numbers were not taken."""
    for source, text in texts:
        found, why = judge(text or "", windows)
        if found is not None:
            seconds, m_text, window, w_text, matched = found
            return Justification(source, seconds, window, m_text, w_text, matched)
        if notes is not None:
            notes.extend(f"{source}: {n}" for n in why)
    return None
