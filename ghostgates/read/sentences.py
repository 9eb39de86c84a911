"""What a comment says, read sentence by sentence (gates.md M2.duplicates-resolved, M2.outcome).

Two readings the gates rest on, each a plain function of the text a reader sees:

- `superseding(text, correct, repo)`: does a comment on a duplicate say that the correct PR
  supersedes it? gates.md: "cites the correct PR as the one superseding it (`superseded by PR
  #4`, `replaced by`, `in favour of`, `duplicate of`; a comment saying the duplicate supersedes
  the correct PR says the reverse)". The direction is read from the phrase: after a passive
  phrase ("superseded by", "replaced by", "in favour of", "duplicate of") the PR cited next is
  the one superseding; before an active verb ("supersedes", "replaces") the PR cited last is.
- `blocker(text)`: does a comment on a red build state what blocks the PR? gates.md: "states
  the blocker: what blocks the PR (`blocked on …`, `blocker: …`, or the failure's class and
  cause), not only a verdict word such as `failed`".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ghostgates.read import citations

# Sentence ends: terminal punctuation and white space, or a blank line; a clause also ends at
# ';'. A '.' inside a URL or a version ends nothing.
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
_CLAUSE_BREAK = re.compile(r"[;!?]|\.(?=\s|$)|\n\s*\n")
_NEGATION = re.compile(r"\b(?:not|never|no longer|isn't|wasn't|aren't|doesn't|don't|no)\s+(?:\w+\s+){0,2}$",
                       re.IGNORECASE)

# The superseding PR follows these ("superseded by PR #4", "closing in favour of PR #4").
_PASSIVE = re.compile(
    r"\b(?:superseded|replaced|obsoleted|succeeded)\s+by\b"
    r"|\bin\s+favou?r\s+of\b"
    r"|\b(?:a\s+|the\s+)?duplicate\s+of\b"
    r"|\bduplicates\b",
    re.IGNORECASE,
)
# ... and precedes these ("PR #4 supersedes this one").
_ACTIVE = re.compile(r"\b(?:supersedes|supersede|replaces|obsoletes)\b", re.IGNORECASE)
_GAP_AFTER = 30  # chars between a phrase and the PR it names ("superseded by the newer PR #4")
_GAP_BEFORE = 60  # chars between the superseding PR and its active verb ("PR #4, the retry, supersedes")

SUPERSEDED = "superseded"  # the comment says the correct PR supersedes the PR it is on
REVERSE = "reverse"  # it says the PR it is on supersedes the correct PR


@dataclass(frozen=True)
class Reading:
    direction: str  # SUPERSEDED or REVERSE
    sentence: str  # the clause that says so, for the evidence


def _clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE_BREAK.split(text) if c and c.strip()]


def _close(gap: str) -> bool:
    """A phrase names the PR cited right after it: a few words, no comma between."""
    return len(gap) <= _GAP_AFTER and "," not in gap


def _near(gap: str) -> bool:
    """A PR cited just before a phrase is its subject ("PR #4 is a duplicate of ...")."""
    return len(gap) <= _GAP_AFTER and "," not in gap


def _negated(clause: str, at: int) -> bool:
    return _NEGATION.search(clause[max(0, at - 30):at]) is not None


def superseding(text: str, correct: int, repo: str) -> Reading | None:
    """How a comment on a duplicate relates it to the correct PR: SUPERSEDED, REVERSE or None.

    A comment that says both (it contradicts itself) reads REVERSE: it does not state plainly
    that the correct PR supersedes the duplicate.
    """
    found: Reading | None = None
    for clause in _clauses(citations.seen(text)):
        refs = citations.pr_ref_spans(clause, repo)
        for m in _PASSIVE.finditer(clause):
            if _negated(clause, m.start()):
                continue
            after = [r for r in refs if r[0] >= m.end() and _close(clause[m.end():r[0]])][:1]
            subject = [r for r in refs if r[1] <= m.start() and _near(clause[r[1]:m.start()])][-1:]
            if after and after[0][2] == correct:
                found = found or Reading(SUPERSEDED, clause)
            elif subject and subject[0][2] == correct:
                # "PR #4 is a duplicate of PR #5", "closing PR #4 in favour of this one": the correct
                # PR is the one superseded.
                return Reading(REVERSE, clause)
        for m in _ACTIVE.finditer(clause):
            if _negated(clause, m.start()):
                continue
            before = [r for r in refs if r[1] <= m.start() and len(clause[r[1]:m.start()]) <= _GAP_BEFORE]
            after = [r for r in refs if r[0] >= m.end()]
            if before and before[-1][2] == correct:
                found = found or Reading(SUPERSEDED, clause)
            elif after and after[0][2] == correct and _close(clause[m.end():after[0][0]]):
                # "This supersedes PR #4": the subject is the duplicate (or another PR), the
                # object is the correct PR.
                return Reading(REVERSE, clause)
    return found


# --- the blocker -------------------------------------------------------------------------------
_TEXT = r"(?:[^.;!?\n]|\.(?=\S))"  # up to the sentence's end (a '.' inside "6.44.1" is no end)
_BLOCKED_ON = re.compile(rf"\bblocked\s+(?:on|by)\s+(?P<what>[^\s.;,!?]{_TEXT}*)", re.IGNORECASE)
_BLOCKER_IS = re.compile(rf"\bblockers?\b\s*(?::|\bis\b|\bare\b|\bwas\b|=|-)\s*(?P<what>[^\s.;,!?]{_TEXT}*)",
                         re.IGNORECASE)
_BLOCKS = re.compile(rf"(?P<what>\b\w{_TEXT}{{2,}}?)\s+(?:blocks|is blocking|are blocking)\s+(?:this|the)\s+"
                     r"(?:PR|upgrade|merge|pull request)\b", re.IGNORECASE)
# The class words that name a cause (`unknown` says none is known).
_CAUSE_CLASSES = re.compile(r"(?<![\w-])(infra|recipe-timing|recipe-bug|stale-test)(?![\w-])", re.IGNORECASE)
# Words that carry no cause: verdicts, the class words themselves, filler.
_EMPTY_WORDS = frozenset("""
a an the this that it its it's is was are were be been of on in at to for and or but so as by
with from after before now then still just also again here there build builds pr run ran
green passed red failed failure fail fails blocked blocker broken error errored
infra recipe-timing recipe-bug stale-test unknown class classified cause sadly i we think
""".split())
_WORD = re.compile(r"[A-Za-z][\w'-]*")
_MIN_CAUSE_WORDS = 3


@dataclass(frozen=True)
class Blocker:
    how: str  # "blocked on", "blocker", "blocks", or "class and cause"
    what: str  # the words that say what blocks


def _cause_words(sentence: str) -> list[str]:
    plain = re.sub(r"https?://\S+|\b[0-9a-f]{7,40}\b|#\d+", " ", sentence)
    return [w for w in _WORD.findall(plain) if w.lower() not in _EMPTY_WORDS]


def blocker(text: str) -> Blocker | None:
    """What a comment says blocks the PR, None when it states no blocker.

    `blocked on X`/`blocked by X`, `blocker: X`, `X blocks the PR`, or a sentence that names a
    failure class (not `unknown`) together with its cause: at least three words beyond the
    class word, verdict words, references and filler ("build #48 failed: recipe-bug." names a
    class and no cause).
    """
    visible = citations.seen(text)
    for sentence in [s for s in _SENTENCE.split(visible) if s and s.strip()]:
        for how, pattern in (("blocked on", _BLOCKED_ON), ("blocker", _BLOCKER_IS), ("blocks", _BLOCKS)):
            for m in pattern.finditer(sentence):
                what = m.group("what").strip()
                start = m.start("what") if how == "blocks" else m.start()
                if _negated(sentence, start) or re.match(r"(?i)(?:nothing|none|no)\b", what):
                    continue
                if _WORD.search(what) or re.search(r"#\d+", what):
                    return Blocker(how, what)
        if _CAUSE_CLASSES.search(sentence) and len(_cause_words(sentence)) >= _MIN_CAUSE_WORDS:
            return Blocker("class and cause", " ".join(sentence.split()))
    return None
