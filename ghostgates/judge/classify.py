"""Failure classes of a red build, read from its log (gates.md "Failure classes").

`M1.no-stale-evidence` and `M2.classified` lean on this module: the state file claims a class
for a red build, and the build's own log may contradict it. Everything here is a pure function
of the log text; fetching the log is the Drone client's job.

Every signature lives in the one table `SIGNATURES`, so a reviewer can read what the suite
counts as evidence without reading code. A signature is a case-insensitive regex matched line
by line. A few signatures need context beyond their own line (an upgrade that started and never
completed, a health check failing *while* that upgrade runs); the table marks those with a
`scope`, and `_scan` applies it, so the rule still sits in the table beside its regex.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

INFRA = "infra"
RECIPE_TIMING = "recipe-timing"
RECIPE_BUG = "recipe-bug"
STALE_TEST = "stale-test"
UNKNOWN = "unknown"

# Highest precedence first. gates.md fixes infra > timing (a pause under address exhaustion is
# the confound, not the recipe) and timing > recipe-bug (a task killed mid-upgrade looks like a
# crash). A crash also beats a stale test: a test that saw the wrong version of a crashing app
# says nothing about the test.
CLASSES: tuple[str, ...] = (INFRA, RECIPE_TIMING, RECIPE_BUG, STALE_TEST, UNKNOWN)

# Scopes: where a signature's line counts.
ANYWHERE = "anywhere"
# The line starts a data-dir upgrade and no completion follows it in the log.
UNFINISHED_UPGRADE = "unfinished-upgrade"
# The line falls after an upgrade started and before that upgrade completed.
DURING_UPGRADE = "during-upgrade"
# A task shown in new/pending counts unless a later line shows the same task (by its ID or its
# service.slot name) leaving that state, to running or beyond: gates.md "a task that the log
# later shows leaving that state, to running or beyond, was not stuck".
UNLESS_MOVED_ON = "unless-moved-on"

# Address exhaustion, the one definition (issue 12: rules/m1.proxy_clear, hostcheck and this
# classifier read the same text the same way). Each entry is (a fixed keyword, the regex); the
# keyword occurs in every text the regex matches, so a host can pre-filter a long engine log
# with `grep -F -i` and this module decides. Where the texts come from:
#   swarmkit manager/allocator/cnmallocator/networkallocator.go:
#     "could not find an available IP while allocating VIP"
#     "failed to allocate network IP for task %s network %s: ..."
#   moby libnetwork/endpoint.go (assignAddress):
#     "no available IPv%d addresses on this network's address pools: %s (%s)"
#   moby libnetwork/ipamapi/contract.go: ErrNoAvailableIPs "No available addresses on this pool"
#   docker network create: "could not find an available, non-overlapping IPv4 address pool"
ADDRESS_EXHAUSTION_PHRASES: tuple[tuple[str, str], ...] = (
    ("could not find an available", r"could not find an available(?:,)? (?:non-overlapping )?IP"),
    ("available IPv", r"no available IPv[46] addresses"),
    ("available addresses on this pool", r"no available addresses on this pool"),
    ("ipam", r"\bipam\b.*\b(?:exhausted|no (?:more )?(?:free|available) addresses)\b"),
    ("exhausted", r"\baddress (?:pool|space)s?\b.*\bexhausted\b"),
    ("failed to allocate", r"\bfailed to allocate (?:network )?(?:IP|VIP|address)"),
)
ADDRESS_EXHAUSTION = re.compile("|".join(regex for _, regex in ADDRESS_EXHAUSTION_PHRASES), re.IGNORECASE)
ADDRESS_EXHAUSTION_KEYWORDS: tuple[str, ...] = tuple(kw for kw, _ in ADDRESS_EXHAUSTION_PHRASES)


def address_exhaustion(text: str | None) -> str | None:
    """The fragment of `text` that reports address exhaustion, None when it reports none."""
    match = ADDRESS_EXHAUSTION.search(text or "")
    return match.group(0) if match else None

# MySQL 8 prints these around an in-place data-dir upgrade (8.0 -> 8.4 in this phase):
#   [MY-011012] [Server] Starting upgrade of data directory.
#   [MY-013381] [Server] Server upgrade from '80036' to '80404' started.
#   [MY-013381] [Server] Server upgrade from '80036' to '80404' completed.
# and, for the dictionary alone, "Data dictionary upgrade from version 'x' to 'y' started/completed".
_UPGRADE_START = re.compile(
    r"starting upgrade of (?:the )?data directory"
    r"|\b(?:server|data dictionary) upgrade from\b.*\bstarted\b",
    re.IGNORECASE,
)
_UPGRADE_DONE = re.compile(
    r"\b(?:server|data dictionary) upgrade from\b.*\b(?:completed|finished)\b"
    r"|\b(?:finished|completed) (?:the )?upgrad(?:e|ing) (?:of )?(?:the )?data directory",
    re.IGNORECASE,
)
# An upgrade that ended in failure is over: it is a recipe-bug signature, not one still running.
_UPGRADE_FAILED = re.compile(
    r"\bData Dictionary initialization failed\b|\bupgrade (?:of (?:the )?data directory )?failed\b"
    r"|\[ERROR\].*\bAborting\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Signature:
    name: str
    cls: str
    pattern: re.Pattern[str]
    description: str
    scope: str = ANYWHERE


def _sig(name: str, cls: str, regex: str, description: str, scope: str = ANYWHERE) -> Signature:
    return Signature(name, cls, re.compile(regex, re.IGNORECASE), description, scope)


_DUR = r"\d+(?:\.\d+)?\s*(?:s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)\b"

# The one place signatures are listed. Each regex is kept narrow enough that a green upgrade log
# (data-dir upgrade started *and* completed, UpdateStatus=completed) matches none of them.
SIGNATURES: tuple[Signature, ...] = (
    # --- infra: the platform, not the recipe --------------------------------------------------
    _sig(
        "address-exhaustion",
        INFRA,
        ADDRESS_EXHAUSTION.pattern,
        "an overlay network ran out of addresses (Swarm/IPAM could not allocate an IP or VIP)",
    ),
    _sig(
        "task-stuck-new",
        INFRA,
        r"\b(?:tasks?|replicas?)\b.{0,60}?\b(?:state|status)\b[=:\s]+\"?(?:new|pending)\b"
        r"|\b(?:stuck|remain(?:s|ed)?|sat|sits|sitting) in (?:the )?(?:state )?\"?(?:new|pending)\b"
        r"|\b(?:new|pending)\s+(?:about\s+)?(?:an?|\d+)\s+(?:minutes?|hours?)\s+ago\b"
        r"|\b(?:state|status)\s+\"?(?:new|pending)\"?\s+for\s+" + _DUR,
        "a Swarm task sat in New/Pending instead of starting",
        UNLESS_MOVED_ON,
    ),
    _sig(
        "no-suitable-node",
        INFRA,
        r"\bno suitable node\b",
        "the Swarm scheduler found no node to place a task on",
    ),
    _sig(
        "node-down",
        INFRA,
        r"\bnode(?:\s+[\w.:-]+)?\s+(?:is\s+)?(?:down|unreachable|unavailable)\b"
        r"|\bnode\b.{0,80}?\b(?:state|status|availability)\b[=:\s]+\"?(?:down|unreachable)\b",
        "a Swarm node was down or unreachable",
    ),
    _sig(
        "registry-unreachable",
        INFRA,
        r"\b(?:dial tcp|lookup|i/o timeout|connection refused|tls handshake timeout"
        r"|client\.timeout exceeded|no such host)\b.*"
        r"(?:registry|docker\.io|ghcr\.io|quay\.io|/v2/|\bpull)"
        r"|(?:registry|docker\.io|ghcr\.io|quay\.io|/v2/|\bpull)"
        r".*\b(?:dial tcp|i/o timeout|tls handshake timeout|client\.timeout exceeded|no such host"
        r"|connection refused)\b",
        "an image pull could not reach the registry (network error, not a missing image)",
    ),
    # --- recipe-timing: the new version works but comes up slower than the deploy allows ------
    _sig(
        "update-paused",
        RECIPE_TIMING,
        r"\bupdate[_ ]?status\b.{0,40}?\bpaused\b|\bupdate (?:has been |was )?paused\b",
        "the Swarm service update paused (UpdateStatus paused)",
    ),
    _sig(
        "update-rolled-back",
        RECIPE_TIMING,
        r"\bupdate rolled back due to\b"
        r"|\bupdate[_ ]?status\b.{0,40}?\brollback_(?:started|completed|paused)\b",
        "the update monitor judged the new task failed and Swarm rolled the service back",
    ),
    _sig(
        "upgrade-unfinished",
        RECIPE_TIMING,
        _UPGRADE_START.pattern,
        "a MySQL data-dir upgrade started and the log never shows it completed",
        UNFINISHED_UPGRADE,
    ),
    _sig(
        "healthcheck-during-upgrade",
        RECIPE_TIMING,
        r"\bhealth ?check\b.*\b(?:fail(?:ed|ing|s)?|unhealthy|gave up|timed out)\b"
        r"|\bunhealthy\b"
        r"|\bconnect to (?:the )?(?:mysql )?server at\b.*\bfailed\b",
        "a health check failed while a data-dir upgrade was still running",
        DURING_UPGRADE,
    ),
    _sig(
        "did-not-complete",
        RECIPE_TIMING,
        r"\bdid(?: not|n't) (?:complete|finish)\b",
        "the upgrade or update did not complete in the time the deploy allowed",
    ),
    # --- recipe-bug: the new version does not work -----------------------------------------
    _sig(
        "crash-loop",
        RECIPE_BUG,
        r"\bcrash ?loop(?:back ?off)?\b|\brestart(?:ing)? loop\b"
        r"|\bRestarting \(\d+\)"
        r"|\b(?:container|task|service|process)\b.{0,60}?\b(?:keeps|kept|is) restarting\b",
        "a container kept crashing and restarting",
    ),
    _sig(
        "nonzero-exit",
        RECIPE_BUG,
        # Swarm kills an unhealthy container with 137: that is a health check giving up, not a crash.
        r"^(?!.*\bunhealthy\b).*(?:\bexited with (?:exit )?code [1-9]\d*\b|\bnon-zero exit \(\d+\))",
        "a container exited with a non-zero code",
    ),
    _sig(
        "migration-failed",
        RECIPE_BUG,
        r"\bmigrations?\b.{0,60}?\bfail(?:ed|ure)\b"
        r"|\bfailed to (?:run|apply|complete) (?:the )?(?:database )?migrations?\b"
        r"|\bMigrationScriptError\b|\bDatabaseIsNotOkError\b"
        r"|\bData Dictionary initialization failed\b",
        "a database or data-dictionary migration failed",
    ),
    _sig(
        "mysql-client-error",
        RECIPE_BUG,
        # Driver error codes are upper case (ER_NO_SUCH_TABLE); (?-i:) keeps prose like
        # "user_id" from matching under the table-wide IGNORECASE.
        r"(?-i:\bER_[A-Z][A-Z0-9_]{2,}\b)",
        "the app got a MySQL error code (ER_...) back from the database",
    ),
    _sig(
        "image-not-found",
        RECIPE_BUG,
        r"\bmanifest unknown\b|\bmanifest for \S+ not found\b|\bpull access denied\b",
        "the recipe names an image or tag the registry does not have (not a network fault)",
    ),
    # --- stale-test: the test expects what the upgrade rightly changed ------------------------
    _sig(
        "expected-old-version",
        STALE_TEST,
        r"\bexpected\b.{0,80}?v?\d+\.\d+(?:\.\d+)?.{0,40}?"
        r"\b(?:got|but was|but found|found|actual(?:ly)?|saw|received)\b.{0,40}?v?\d+\.\d+"
        r"|\bassert(?:ionerror)?\b.*?['\"]v?\d+\.\d+(?:\.\d+)?['\"]\s*==\s*['\"]v?\d+\.\d+"
        r"|\bversion mismatch\b",
        "a test assertion expected a different (older) version than the upgrade deployed",
    ),
)

_BY_NAME = {s.name: s for s in SIGNATURES}
_ORDER = {s.name: i for i, s in enumerate(SIGNATURES)}


@dataclass(frozen=True)
class SignatureMatch:
    name: str
    cls: str
    line_no: int  # 1-based, as an operator counts lines in the Drone log view
    line: str
    text: str = ""  # the matched fragment

    @property
    def description(self) -> str:
        return _BY_NAME[self.name].description


@dataclass(frozen=True)
class Classification:
    cls: str
    matches: list[SignatureMatch] = field(default_factory=list)

    def of(self, cls: str) -> list[SignatureMatch]:
        return [m for m in self.matches if m.cls == cls]


def _upgrade_windows(lines: list[str]) -> tuple[list[int], list[tuple[int, int]]]:
    """Start lines of unfinished upgrades, and (start, end) index windows of every upgrade.

    An upgrade opens at its first start line; further start lines before a completion belong to
    the same upgrade (MySQL prints two). It closes at the next completion; if none follows, it
    runs to the end of the log, and its first start line is the unfinished-upgrade evidence.
    """
    unfinished: list[int] = []
    windows: list[tuple[int, int]] = []
    open_at: int | None = None
    for i, line in enumerate(lines):
        if _UPGRADE_DONE.search(line) or _UPGRADE_FAILED.search(line):
            if open_at is not None:
                windows.append((open_at, i))
                open_at = None
        elif _UPGRADE_START.search(line) and open_at is None:
            open_at = i
    if open_at is not None:
        windows.append((open_at, len(lines)))
        unfinished.append(open_at)
    return unfinished, windows


def _scan(text: str) -> list[SignatureMatch]:
    lines = text.splitlines()
    unfinished, windows = _upgrade_windows(lines)
    found: list[SignatureMatch] = []
    for i, line in enumerate(lines):
        for sig in SIGNATURES:
            m = sig.pattern.search(line)
            if not m:
                continue
            if sig.scope == UNFINISHED_UPGRADE and i not in unfinished:
                continue
            if sig.scope == DURING_UPGRADE and not any(s < i < e for s, e in windows):
                continue
            if sig.scope == UNLESS_MOVED_ON and _moved_on(lines, i):
                continue
            found.append(SignatureMatch(sig.name, sig.cls, i + 1, line.strip(), m.group(0)))
    return _explained_pauses(found)


# A task named in a log line: its service.slot name (ghos-x_app.1, as `docker service ps` and
# the deploy tools print it) or its ID (swarmkit IDs are 25 lower-case letters and digits;
# `docker service ps` shows the first 12).
_TASK_NAME = re.compile(r"(?<![\w.-])[A-Za-z][\w-]*(?:\.[A-Za-z][\w-]*)*\.\d+(?![\w.-])")
_TASK_ID = re.compile(r"(?<![\w.-])(?=[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{10,25}(?![\w.-])")
# Running or beyond (swarmkit api/types.proto TaskState: ... RUNNING, COMPLETE, SHUTDOWN, FAILED,
# REJECTED, REMOVE, ORPHANED), as a state field, a `docker service ps` CURRENT STATE cell, or prose.
_BEYOND = r"(?:running|complete|completed|shutdown|failed|rejected|remove|orphaned)"
_LEFT = re.compile(
    rf"\b(?:state|status)\b[=:\s]+\"?{_BEYOND}\b"
    rf"|\b{_BEYOND}\s+(?:about\s+)?(?:an?|\d+|less than a)\s+\w+\s+ago\b"
    rf"|(?:->|→|\bto)\s*\"?{_BEYOND}\b"
    rf"|\b(?:is|now|started|went)\s+(?:now\s+)?{_BEYOND}\b",
    re.IGNORECASE,
)


def _task_ids(line: str) -> set[str]:
    ids = set(_TASK_ID.findall(line))
    return ids or set(_TASK_NAME.findall(line))


def _moved_on(lines: list[str], i: int) -> bool:
    """A later line names the task of line `i` and shows it running or beyond."""
    ids = _task_ids(lines[i])
    if not ids:
        return False  # "3 tasks stuck in New" names no task: nothing later can clear it
    for later in lines[i + 1:]:
        if _LEFT.search(later) and ids & (set(_TASK_ID.findall(later)) | set(_TASK_NAME.findall(later))):
            return True
    return False


# A paused or rolled-back update is timing evidence when the new version was still coming up;
# when the log also shows it broken (a crash, a failed migration) and no upgrade still running,
# the pause is the bug's consequence, not a timing signature of its own.
_CONSEQUENCES = frozenset({"update-paused", "update-rolled-back", "did-not-complete"})
_STILL_RUNNING = frozenset({"upgrade-unfinished", "healthcheck-during-upgrade"})


def _explained_pauses(found: list[SignatureMatch]) -> list[SignatureMatch]:
    names = {m.name for m in found}
    if any(m.cls == RECIPE_BUG for m in found) and not names & _STILL_RUNNING:
        return [m for m in found if m.name not in _CONSEQUENCES]
    return found


def classify_log(text: str) -> Classification:
    """The class a red build's log shows, with every signature found as evidence.

    The highest-precedence class among the matches wins (see CLASSES); with no match the
    answer is `unknown`, never a guess.
    """
    matches = _scan(text or "")
    present = {m.cls for m in matches}
    for cls in CLASSES:
        if cls in present:
            return Classification(cls, matches)
    return Classification(UNKNOWN, matches)


def _check_class(claimed: str) -> str:
    word = claimed.strip().lower()
    if word not in CLASSES:
        raise ValueError(f"unknown failure class {claimed!r}: expected one of {', '.join(CLASSES)}")
    return word


def _strongest(matches: list[SignatureMatch]) -> SignatureMatch:
    # Cite the signature listed first in the table (address exhaustion before stuck tasks),
    # then the earliest line: the table order puts the most telling evidence first.
    return min(matches, key=lambda m: (_ORDER[m.name], m.line_no))


def _cite(m: SignatureMatch) -> str:
    return f'{m.name} at line {m.line_no}: "{m.line}"'


def contradiction(claimed: str, log: str) -> str | None:
    """None when the claimed class stands against the log, else the operator's sentence.

    gates.md: contradicted when the log carries an infra signature and the class is not infra,
    or a timing signature and no infra signature and the class is not recipe-timing. Only those
    two kinds of evidence can overrule a claim; where the log shows neither, any class stands
    (a recipe-bug or stale-test claim rests on the builder's reading, which the log cannot
    refute).
    """
    word = _check_class(claimed)
    result = classify_log(log)
    infra = result.of(INFRA)
    if infra:
        if word == INFRA:
            return None
        return f"build log shows infra ({_cite(_strongest(infra))}), not {word}"
    timing = result.of(RECIPE_TIMING)
    if timing and word != RECIPE_TIMING:
        cited = _cite(_strongest(timing))
        return f"build log shows recipe-timing ({cited}) and no infra signature, not {word}"
    return None

