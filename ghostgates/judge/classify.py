"""Failure classes of a red build, read from its log (gates.md "Failure classes").

`M1.no-stale-evidence` and `M2.classified` lean on this module: the state file claims a class
for a red build, and the build's own log may contradict it. Everything here is a pure function
of the log's lines; fetching the log is the Drone client's job.

The signatures are data, one table a family (`signatures/<family>.toml`: `infra`, `mysql`,
`mariadb`, `postgres`), so a reviewer reads what the suite counts as evidence without reading
code (gates.md "Other recipes' phases"). Each table is loaded and checked at import: a table
that does not load, a regex that could backtrack across a line, or an example that does not
hold, is a `SignatureTableError` naming the file and the entry.

Linear in the log's size: a line is matched on its first `MATCH_CHARS` characters, no regex
may hold an unbounded wildcard (`.*`, `.+`, `{n,}`; "both on the line" is a conjunction of two
regexes instead), and the log is read once, line by line, as an iterable (`classify_lines`), so
memory does not grow with the log: only a bounded number of matches per signature is kept.
"""

from __future__ import annotations

import functools
import re

# re's parser and opcodes (Python 3.11+; the old sre_* names are deprecated aliases): private
# modules, untyped, read only to check that a signature's pattern cannot backtrack across a line.
import re._constants as _sc  # type: ignore[import-not-found]
import re._parser as _sre_parse  # type: ignore[import-not-found]
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The class words, one definition (read/classes.py), listed highest precedence first: gates.md
# fixes infra > timing (a pause under address exhaustion is the confound, not the recipe) and
# timing > recipe-bug (a task killed mid-upgrade looks like a crash). A crash also beats a stale
# test: a test that saw the wrong version of a crashing app says nothing about the test.
from ghostgates.read.classes import CLASSES as CLASSES
from ghostgates.read.classes import INFRA as INFRA
from ghostgates.read.classes import RECIPE_BUG as RECIPE_BUG
from ghostgates.read.classes import RECIPE_TIMING as RECIPE_TIMING
from ghostgates.read.classes import STALE_TEST as STALE_TEST
from ghostgates.read.classes import UNKNOWN as UNKNOWN
from ghostgates.read.logtext import readable

# The families, in the order their tables are applied (and their signatures cited).
FAMILIES: tuple[str, ...] = ("infra", "mysql", "mariadb", "postgres")
DATABASE_FAMILIES: tuple[str, ...] = FAMILIES[1:]
SIGNATURE_DIR = Path(__file__).with_name("signatures")

# Scopes: where a signature's line counts.
ANYWHERE = "anywhere"
# The line starts its family's upgrade and no end marker follows it in the log.
UNFINISHED_UPGRADE = "unfinished-upgrade"
# The line falls after its family's upgrade started and before that upgrade ended.
DURING_UPGRADE = "during-upgrade"
# A task shown in new/pending counts unless a later line shows the same task (by its ID or its
# service.slot name) leaving that state, to running or beyond: gates.md "a task that the log
# later shows leaving that state, to running or beyond, was not stuck".
UNLESS_MOVED_ON = "unless-moved-on"
SCOPES = (ANYWHERE, UNFINISHED_UPGRADE, DURING_UPGRADE, UNLESS_MOVED_ON)

# A line is matched on this many characters (a base64 blob or a minified asset can be a single
# line of megabytes); the evidence quotes at most EXCERPT_CHARS of it.
MATCH_CHARS = 2048
EXCERPT_CHARS = 300
# Matches kept per signature: the verdict needs whether one exists and the first (cited) one.
KEEP_PER_SIGNATURE = 20

# An unbounded wildcard lets a regex backtrack across the whole line: quadratic on a long one.
_UNBOUNDED = re.compile(r"(?<!\\)\.[*+]|\{\d+,\}")


def _required_literals(parsed: Any) -> frozenset[str] | None:
    """Literal strings (lower case), one of which occurs in every text `parsed` matches; None
    where the regex guarantees none. Derived from the regex itself (re's own parser), so a line
    that holds none of them cannot match and is skipped without running the regex."""
    best: frozenset[str] | None = None
    run: list[str] = []

    def better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
        if b is None or not b or any(not x for x in b):
            return a
        if a is None:
            return b
        return b if min(map(len, b)) > min(map(len, a)) else a

    def flush() -> None:
        nonlocal best, run
        if run:
            best = better(best, frozenset({"".join(run)}))
            run = []

    for op, av in parsed:
        if op is _sc.LITERAL:
            run.append(chr(av).lower())
            continue
        if op is _sc.AT:
            continue  # zero-width (\b, ^): the literals on both sides stay one string
        flush()
        if op is _sc.SUBPATTERN:
            best = better(best, _required_literals(av[-1]))
        elif op is _sc.BRANCH:
            alts = [_required_literals(b) for b in av[1]]
            if all(a is not None for a in alts):
                best = better(best, frozenset().union(*alts))  # type: ignore[arg-type]
        elif op in (_sc.MAX_REPEAT, _sc.MIN_REPEAT) and av[0] >= 1:
            best = better(best, _required_literals(av[2]))
    flush()
    return best


def _literals_of(pattern: re.Pattern[str]) -> frozenset[str] | None:
    return _required_literals(_sre_parse.parse(pattern.pattern, pattern.flags & ~re.IGNORECASE))


class SignatureTableError(ValueError):
    """A signature table that does not load, or whose examples do not hold."""


@dataclass(frozen=True)
class Pattern:
    """Alternatives of conjunctions: the line matches when, for one alternative, every regex of
    it is found on the line (in any order). The matched text is the first regex's match."""

    alternatives: tuple[tuple[re.Pattern[str], ...], ...]

    @functools.cached_property
    def literals(self) -> frozenset[str] | None:
        """Strings one of which every matching line holds (lower case); None: no such set."""
        out: set[str] = set()
        for conj in self.alternatives:
            best: frozenset[str] | None = None
            for p in conj:
                got = _literals_of(p)
                if got is not None and (best is None or min(map(len, got)) > min(map(len, best))):
                    best = got
            if best is None:
                return None
            out |= best
        return frozenset(out)

    def search(self, line: str) -> str | None:
        for conj in self.alternatives:
            first = conj[0].search(line)
            if first is not None and all(p.search(line) for p in conj[1:]):
                return first.group(0)
        return None

    @property
    def texts(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(p.pattern for p in conj) for conj in self.alternatives)


@dataclass(frozen=True)
class Signature:
    name: str
    cls: str
    description: str
    source: str
    family: str
    pattern: Pattern
    unless: tuple[re.Pattern[str], ...] = ()
    scope: str = ANYWHERE
    consequence: bool = False  # a pause or an unfinished update that a crash explains
    keywords: tuple[str, ...] = ()
    examples_match: tuple[str, ...] = ()
    examples_no_match: tuple[str, ...] = ()

    def search(self, line: str) -> str | None:
        found = self.pattern.search(line)
        if found is None or any(p.search(line) for p in self.unless):
            return None
        return found


@dataclass(frozen=True)
class Markers:
    """A family's upgrade markers: `start` opens an in-place upgrade, `end` closes it, `failed`
    ends it in failure (gates.md "Upgrade markers"). The one type: the classifier scans with it,
    and judge/upgrade.py measures `Upgrade took` with it (start and end, on a line's text after
    its timestamp)."""

    family: str
    start: Pattern
    end: Pattern
    failed: Pattern
    source: str = ""


@dataclass(frozen=True)
class Table:
    family: str
    path: str
    signatures: tuple[Signature, ...]
    markers: Markers | None = None


def _where(path: Path | str, entry: str) -> str:
    return f"{path}: {entry}"


def _regex(raw: Any, where: str) -> re.Pattern[str]:
    if not isinstance(raw, str) or not raw:
        raise SignatureTableError(f"{where}: a pattern must be a non-empty string, got {raw!r}")
    if _UNBOUNDED.search(raw):
        raise SignatureTableError(f"{where}: pattern {raw!r} has an unbounded wildcard (.*, .+ or {{n,}}), which "
                                  "backtracks across a long line: bound it (.{0,80}) or split it into a list "
                                  "(every regex of a list must be found on the line)")
    try:
        return re.compile(raw, re.IGNORECASE)
    except re.error as exc:
        raise SignatureTableError(f"{where}: pattern {raw!r} does not compile: {exc}") from None


def _pattern(raw: Any, where: str) -> Pattern:
    if not isinstance(raw, list) or not raw:
        raise SignatureTableError(f"{where}: expected a non-empty list of patterns")
    alternatives = []
    for item in raw:
        conj = item if isinstance(item, list) else [item]
        if not conj:
            raise SignatureTableError(f"{where}: an empty list of patterns")
        alternatives.append(tuple(_regex(r, where) for r in conj))
    return Pattern(tuple(alternatives))


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise SignatureTableError(f"{where}: expected a list of strings")
    return tuple(raw)


_SIGNATURE_KEYS = frozenset({"name", "class", "description", "source", "patterns", "unless", "scope",
                             "consequence", "keywords", "match", "no_match"})
_UPGRADE_KEYS = frozenset({"source", "start", "end", "failed", "start_examples", "end_examples",
                           "failed_examples", "neither_examples"})


def load_table(path: Path) -> Table:
    """One family's table, checked: every entry well formed, every example holding."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SignatureTableError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SignatureTableError(f"{path}: not valid TOML: {exc}") from None
    family = data.get("family")
    if family not in FAMILIES or path.stem != family:
        raise SignatureTableError(f"{path}: family: expected the file's own name, one of {', '.join(FAMILIES)}; "
                                  f"got {family!r}")
    unknown = sorted(set(data) - {"family", "upgrade", "signature"})
    if unknown:
        raise SignatureTableError(f"{path}: {unknown[0]}: unknown key")
    markers = None
    if "upgrade" in data:
        up = data["upgrade"]
        where = _where(path, "[upgrade]")
        if not isinstance(up, dict) or set(up) - _UPGRADE_KEYS:
            raise SignatureTableError(f"{where}: keys are {', '.join(sorted(_UPGRADE_KEYS))}")
        markers = Markers(family, _pattern(up.get("start"), f"{where} start"), _pattern(up.get("end"), f"{where} end"),
                          _pattern(up.get("failed") or ["(?!)"], f"{where} failed"), str(up.get("source") or ""))
        if not markers.source:
            raise SignatureTableError(f"{where}: source: the upstream file the markers come from is missing")
    signatures = []
    for i, raw in enumerate(data.get("signature") or []):
        name = raw.get("name") if isinstance(raw, dict) else None
        where = _where(path, f"signature {name!r}" if name else f"signature [{i}]")
        if not isinstance(raw, dict) or not isinstance(name, str) or not name:
            raise SignatureTableError(f"{where}: a signature needs a name")
        unknown = sorted(set(raw) - _SIGNATURE_KEYS)
        if unknown:
            raise SignatureTableError(f"{where}: {unknown[0]}: unknown key")
        cls = raw.get("class")
        if cls not in CLASSES or cls == UNKNOWN:
            raise SignatureTableError(f"{where}: class: expected one of {', '.join(CLASSES[:-1])}, got {cls!r}")
        for key in ("description", "source"):
            if not isinstance(raw.get(key), str) or not raw[key].strip() or "\n" in raw[key]:
                raise SignatureTableError(f"{where}: {key}: expected one line of text")
        scope = raw.get("scope", ANYWHERE)
        if scope not in SCOPES:
            raise SignatureTableError(f"{where}: scope: expected one of {', '.join(SCOPES)}, got {scope!r}")
        if scope in (UNFINISHED_UPGRADE, DURING_UPGRADE) and markers is None:
            raise SignatureTableError(f"{where}: scope {scope} needs the table's [upgrade] markers")
        match = _strings(raw.get("match"), f"{where} match")
        no_match = _strings(raw.get("no_match"), f"{where} no_match")
        if not match or not no_match:
            raise SignatureTableError(f"{where}: needs examples it must match (match) and must not (no_match)")
        signatures.append(Signature(
            name=name, cls=cls, description=raw["description"].strip(), source=raw["source"].strip(), family=family,
            pattern=_pattern(raw.get("patterns"), f"{where} patterns"),
            unless=tuple(_regex(r, f"{where} unless") for r in _strings(raw.get("unless"), f"{where} unless")),
            scope=scope, consequence=bool(raw.get("consequence", False)),
            keywords=_strings(raw.get("keywords"), f"{where} keywords"), examples_match=match,
            examples_no_match=no_match))
    names = [s.name for s in signatures]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise SignatureTableError(f"{_where(path, f'signature {dup!r}')}: named twice")
    table = Table(family, str(path), tuple(signatures), markers)
    _check_examples(table, data.get("upgrade") or {})
    return table


def _check_examples(table: Table, upgrade: dict[str, Any]) -> None:
    """Every example holds: each `match` log shows its signature, each `no_match` log does not
    (scanned with this table alone), and each marker example is read as its kind."""
    for sig in table.signatures:
        for kind, logs, want in (("match", sig.examples_match, True), ("no_match", sig.examples_no_match, False)):
            for log in logs:
                found = any(m.name == sig.name for m in _Scanner((table,)).run(log.splitlines()))
                if found != want:
                    raise SignatureTableError(
                        f"{_where(table.path, f'signature {sig.name!r}')}: {kind} example does not hold: {log!r}")
    if table.markers is None:
        return
    m = table.markers
    for key, marker in (("start_examples", "start"), ("end_examples", "end"), ("failed_examples", "failed"),
                        ("neither_examples", None)):
        for line in _strings(upgrade.get(key), _where(table.path, f"[upgrade] {key}")):
            got = [k for k, p in (("start", m.start), ("end", m.end), ("failed", m.failed)) if p.search(line)]
            if (marker is None and got) or (marker is not None and marker not in got):
                raise SignatureTableError(f"{_where(table.path, f'[upgrade] {key}')}: example does not hold: {line!r} "
                                          f"reads as {', '.join(got) or 'no marker'}")


def load_tables(directory: Path = SIGNATURE_DIR) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for family in FAMILIES:
        path = directory / f"{family}.toml"
        if not path.exists():
            raise SignatureTableError(f"{path}: the {family} table is missing")
        tables[family] = load_table(path)
    seen: dict[str, str] = {}
    for table in tables.values():
        for sig in table.signatures:
            if sig.name in seen:
                raise SignatureTableError(f"{table.path}: signature {sig.name!r}: also in {seen[sig.name]}")
            seen[sig.name] = table.path
    return tables


# --- the scan ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignatureMatch:
    name: str
    cls: str
    line_no: int  # 1-based, as an operator counts lines in the Drone log view
    line: str  # the line, stripped, at most EXCERPT_CHARS of it
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


def _for_matching(line: str) -> str:
    line = line[:MATCH_CHARS + 256] if len(line) > MATCH_CHARS else line
    # Terminal colour and cursor codes are not text (gates.md "A build's log"): the one reading.
    return readable(line)[:MATCH_CHARS]


def _excerpt(line: str) -> str:
    text = line.strip()
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 3] + "..."


# A task named in a log line: its service.slot name (app_x.1, as `docker service ps` and the
# deploy tools print it) or its ID (swarmkit IDs are 25 lower-case letters and digits; `docker
# service ps` shows the first 12).
_TASK_NAME = re.compile(r"(?<![\w.-])[A-Za-z][\w-]{0,200}(?:\.[A-Za-z][\w-]{0,200}){0,8}\.\d{1,6}(?![\w.-])")
_TASK_ID = re.compile(r"(?<![\w.-])(?=[a-z0-9]{0,24}\d)(?=[a-z0-9]{0,24}[a-z])[a-z0-9]{10,25}(?![\w.-])")
# Running or beyond (swarmkit api/types.proto TaskState: ... RUNNING, COMPLETE, SHUTDOWN, FAILED,
# REJECTED, REMOVE, ORPHANED), as a state field, a `docker service ps` CURRENT STATE cell, or prose.
_BEYOND = r"(?:running|complete|completed|shutdown|failed|rejected|remove|orphaned)"
_LEFT = re.compile(
    rf"\b(?:state|status)\b[=:\s]{{1,5}}\"?{_BEYOND}\b"
    rf"|\b{_BEYOND}\s{{1,20}}(?:about\s{{1,5}})?(?:an?|\d{{1,6}}|less than a)\s{{1,5}}\w{{1,20}}\s{{1,5}}ago\b"
    rf"|(?:->|→|\bto)\s{{0,5}}\"?{_BEYOND}\b"
    rf"|\b(?:is|now|started|went)\s{{1,5}}(?:now\s{{1,5}})?{_BEYOND}\b",
    re.IGNORECASE,
)


def _task_ids(line: str) -> frozenset[str]:
    ids = set(_TASK_ID.findall(line))
    return frozenset(ids or _TASK_NAME.findall(line))


def _trie(words: Iterable[str]) -> str:
    """A regex matching any of `words`, longest first, factored by common prefixes (a trie), so
    the engine compares one character per branch instead of trying every word at every position."""
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return emit(tree)


class _Scanner:
    """One pass over a log's lines; state bounded by the signatures and the tasks named."""

    def __init__(self, tables: tuple[Table, ...]) -> None:
        self.tables = tables
        self.by_name = {s.name: s for t in tables for s in t.signatures}
        self.order = {name: i for i, name in enumerate(self.by_name)}
        self.anywhere = [s for t in tables for s in t.signatures if s.scope in (ANYWHERE, UNLESS_MOVED_ON)]
        self.during = {t.family: [s for s in t.signatures if s.scope == DURING_UPGRADE] for t in tables}
        self.unfinished = {t.family: [s for s in t.signatures if s.scope == UNFINISHED_UPGRADE] for t in tables}
        self.markers = [t.markers for t in tables if t.markers is not None]
        # Each regex runs only on a line holding one of its literals (lower case); a line that
        # holds none of any is skipped whole (most lines of a long log).
        self.lits: dict[int, frozenset[str] | None] = {}
        for sig in (s for t in tables for s in t.signatures):
            self.lits[id(sig)] = sig.pattern.literals
        for m in self.markers:
            for pat in (m.start, m.end, m.failed):
                self.lits[id(pat)] = pat.literals
        every = list(self.lits.values())
        words = sorted({k for v in every if v for k in v}, key=len, reverse=True)
        # One pass finds every literal on a line: at each position the longest one there (the
        # shorter ones it begins with are inside it, `within`).
        self.finder = re.compile("(?=(" + _trie(words) + "))") if words else None
        self.within = {k: frozenset(j for j in words if j in k) for k in words}
        # The things (signatures, marker patterns) each literal may start, and those that run on
        # every line (no literal could be derived).
        self.free: set[int] = {key for key, v in self.lits.items() if v is None}
        self.starts: dict[str, set[int]] = {}
        for key, v in self.lits.items():
            for word in v or ():
                self.starts.setdefault(word, set()).add(key)
        self.open: dict[str, tuple[int, str]] = {}  # family -> (line number, line) of its open upgrade
        self.found: list[SignatureMatch] = []
        self.counts: dict[str, int] = {}
        # Stuck-task matches not yet cleared, by the task names they carry.
        self.pending: dict[frozenset[str], SignatureMatch] = {}
        self.by_task: dict[str, set[frozenset[str]]] = {}

    def _add(self, sig: Signature, line_no: int, line: str, text: str) -> None:
        if self.counts.get(sig.name, 0) >= KEEP_PER_SIGNATURE:
            return
        self.counts[sig.name] = self.counts.get(sig.name, 0) + 1
        self.found.append(SignatureMatch(sig.name, sig.cls, line_no, _excerpt(line), text[:EXCERPT_CHARS]))


    def feed(self, line_no: int, raw: str) -> None:
        line = _for_matching(raw)
        if self.pending and _LEFT.search(line):
            for task in _task_ids(line):
                for key in self.by_task.pop(task, ()):
                    self.pending.pop(key, None)
        may = set(self.free)  # id() of each signature or marker pattern whose literals the line holds
        if self.finder is not None:
            seen: set[str] = set()
            for found in self.finder.finditer(line.lower()):
                word = found.group(1)
                if word not in seen:
                    seen.add(word)
                    for inner in self.within[word]:
                        may |= self.starts[inner]
        if not may:
            return
        for m in self.markers:
            if (id(m.end) in may and m.end.search(line)) or (id(m.failed) in may and m.failed.search(line)):
                self.open.pop(m.family, None)
            elif m.family not in self.open:
                if id(m.start) in may and m.start.search(line):
                    self.open[m.family] = (line_no, line)
            else:
                for sig in self.during[m.family]:
                    if id(sig) in may and (text := sig.search(line)) is not None:
                        self._add(sig, line_no, raw, text)
        for sig in self.anywhere:
            if id(sig) not in may:
                continue
            text = sig.search(line)
            if text is None:
                continue
            if sig.scope == UNLESS_MOVED_ON:
                ids = _task_ids(line)
                if ids:  # "3 tasks stuck in New" names no task: nothing later can clear it
                    if ids not in self.pending:
                        self.pending[ids] = SignatureMatch(sig.name, sig.cls, line_no, _excerpt(raw), text)
                        for task in ids:
                            self.by_task.setdefault(task, set()).add(ids)
                    continue
            self._add(sig, line_no, raw, text)

    def finish(self) -> list[SignatureMatch]:
        for family, (line_no, line) in self.open.items():
            for sig in self.unfinished.get(family, ()):
                if (text := sig.search(line)) is not None:
                    self._add(sig, line_no, line, text)
        found = self.found + list(self.pending.values())
        found.sort(key=lambda m: (m.line_no, self.order[m.name]))
        return _explained_pauses(found, self.by_name)

    def run(self, lines: Iterable[str]) -> list[SignatureMatch]:
        for i, line in enumerate(lines, 1):
            self.feed(i, line)
        return self.finish()


def _explained_pauses(found: list[SignatureMatch], by_name: dict[str, Signature]) -> list[SignatureMatch]:
    """A paused or rolled-back update is timing evidence when the new version was still coming
    up; when the log also shows it broken (a crash, a failed migration) and no upgrade still
    running, the pause is the bug's consequence, not a timing signature of its own."""
    still_running = any(by_name[m.name].scope in (UNFINISHED_UPGRADE, DURING_UPGRADE) for m in found)
    if any(m.cls == RECIPE_BUG for m in found) and not still_running:
        return [m for m in found if not by_name[m.name].consequence]
    return found


TABLES: dict[str, Table] = load_tables()
SIGNATURES: tuple[Signature, ...] = tuple(s for f in FAMILIES for s in TABLES[f].signatures)
_BY_NAME = {s.name: s for s in SIGNATURES}
_ORDER = {s.name: i for i, s in enumerate(SIGNATURES)}


def upgrade_markers(family: str) -> Markers | None:
    """A family's upgrade markers (None for `infra`), for measuring `Upgrade took`."""
    return TABLES[family].markers if family in TABLES else None


def measuring_markers(families: Iterable[str] | None) -> tuple[Markers, ...]:
    """The upgrade markers of the tables that apply (None: every table), as judge/upgrade.py
    measures with them: the tables' own Markers, their patterns as the classifier matches them."""
    return tuple(table.markers for table in tables_for(families) if table.markers is not None)


def tables_for(families: Iterable[str] | None) -> tuple[Table, ...]:
    """The tables that apply: `infra` always, then the named families; None: every table."""
    if families is None:
        return tuple(TABLES[f] for f in FAMILIES)
    wanted = {INFRA, *families}
    unknown = sorted(wanted - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown signature family {unknown[0]!r}: expected one of {', '.join(FAMILIES)}")
    return tuple(TABLES[f] for f in FAMILIES if f in wanted)


# --- address exhaustion: one definition (rules/m1.proxy_clear, hostcheck and the classifier) ---
_ADDRESS = _BY_NAME["address-exhaustion"]
ADDRESS_EXHAUSTION_KEYWORDS: tuple[str, ...] = _ADDRESS.keywords


def address_exhaustion(text: str | None) -> str | None:
    """The fragment of `text` that reports address exhaustion, None when it reports none."""
    for line in (text or "").splitlines():
        found = _ADDRESS.search(_for_matching(line))
        if found:
            return found
    return None



def iter_lines(log: str | Iterable[str]) -> Iterator[str]:
    """A log's lines: a text is split on line ends; an iterable (a stream) is read as it comes,
    each item one line (its trailing line end dropped)."""
    if isinstance(log, str):
        yield from log.splitlines()
        return
    for line in log:
        yield line.rstrip("\r\n")


def classify_lines(lines: str | Iterable[str], families: Iterable[str] | None = None) -> Classification:
    """The class a red build's log shows, with the signatures found as evidence (at most
    KEEP_PER_SIGNATURE each). `lines` may be a stream: it is read once, and memory does not grow
    with it. `families`: the database tables that apply besides `infra` (None: every table).

    The highest-precedence class among the matches wins (see CLASSES); with no match the
    answer is `unknown`, never a guess.
    """
    matches = _Scanner(tables_for(families)).run(iter_lines(lines))
    present = {m.cls for m in matches}
    for cls in CLASSES:
        if cls in present:
            return Classification(cls, matches)
    return Classification(UNKNOWN, matches)


def classify_log(text: str | Iterable[str] | None, families: Iterable[str] | None = None) -> Classification:
    """`classify_lines` of a log given whole (None reads as empty)."""
    return classify_lines(text or "", families)


def _check_class(claimed: str) -> str:
    word = claimed.strip().lower()
    if word not in CLASSES:
        raise ValueError(f"unknown failure class {claimed!r}: expected one of {', '.join(CLASSES)}")
    return word


def _strongest(matches: list[SignatureMatch]) -> SignatureMatch:
    # Cite the signature listed first in the tables (address exhaustion before stuck tasks),
    # then the earliest line: the table order puts the most telling evidence first.
    return min(matches, key=lambda m: (_ORDER[m.name], m.line_no))


def _cite(m: SignatureMatch) -> str:
    return f'{m.name} at line {m.line_no}: "{m.line}"'


def contradiction(claimed: str, log: str | Iterable[str] | None,
                  families: Iterable[str] | None = None) -> str | None:
    """None when the claimed class stands against the log, else the operator's sentence.

    gates.md: contradicted when the log carries an infra signature and the class is not infra,
    or a timing signature and no infra signature and the class is not recipe-timing. Only those
    two kinds of evidence can overrule a claim; where the log shows neither, any class stands
    (a recipe-bug or stale-test claim rests on the builder's reading, which the log cannot
    refute). `families`: the tables that apply besides `infra` (`recipe_families`).
    """
    word = _check_class(claimed)
    result = classify_log(log, families)
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


# --- which tables apply (gates.md "Other recipes' phases") -----------------------------------
# `${VAR:-default}` or `${VAR-default}` read as its default; `${VAR}` or `$VAR` as unknown.
_DEFAULTED = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]{0,127}:?-([^}]{0,256})\}")
_UNSET = re.compile(r"\$\{[^}]{0,256}\}|\$[A-Za-z_][A-Za-z0-9_]{0,127}")
# A recipe's compose files: `compose.yml` and every `compose.*.yml` at its root.
_ROOT_COMPOSE = re.compile(r"^compose(?:\.[^/]{1,200})?\.yml$")


def is_root_compose_file(path: str) -> bool:
    """One of the recipe's compose files (a path from the repository's root): the families' and
    M2.fix-minimal's (compose_diff.is_compose_file) one reading."""
    return bool(_ROOT_COMPOSE.match(path))


def image_family(image: Any) -> str | None:
    """The database family an image runs: its repository's last component (a `${VAR:-default}`
    read as its default) is `mysql`, `mariadb` or `postgres`, or contains `postgis`, or the image
    is `pgautoupgrade/...`; None for any other image (a Percona build, say)."""
    if not isinstance(image, str):
        return None
    text = _UNSET.sub("", _DEFAULTED.sub(lambda m: m.group(1), image)).strip().lower()
    name = text.split("@", 1)[0]
    head, sep, tag = name.rpartition(":")
    if sep and "/" not in tag:  # a colon before the last slash is a registry port
        name = head
    parts = name.split("/")
    last = parts[-1]
    if last in ("mysql", "mariadb", "postgres"):
        return last
    if "postgis" in last or (len(parts) >= 2 and parts[-2] == "pgautoupgrade") or name.startswith("pgautoupgrade/"):
        return "postgres"
    return None


def compose_images(text: str | None) -> list[str]:
    """The `image:` of every service of a compose file's text (unreadable YAML: none)."""
    import yaml  # the compose reader's own dependency (judge/compose_diff.py)

    try:
        doc = yaml.safe_load(text or "")
    except yaml.YAMLError:
        return []
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return []
    return [svc["image"] for svc in services.values() if isinstance(svc, dict) and isinstance(svc.get("image"), str)]


def recipe_families(compose_texts: Iterable[str | None], named: Iterable[str] = ()) -> tuple[str, ...]:
    """The database families whose tables apply besides `infra`: those of the images the given
    compose files run (the recipe's root compose files at the PR's merge base and head), plus
    the phase's `families`."""
    found = set(named)
    for text in compose_texts:
        for image in compose_images(text):
            if (family := image_family(image)) is not None:
                found.add(family)
    return tuple(f for f in DATABASE_FAMILIES if f in found)
