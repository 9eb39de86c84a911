"""How long the upgrade itself took, measured from a build's log (gates.md "Upgrade markers").

A log shows an upgrade's start and end where it carries the database's own lines for them, each
opening with its timestamp after any prefix the harness adds (`db: `); the upgrade took the
time from the first start marker to the last end marker. A marker line that carries no
timestamp of its own confirms or contradicts no duration, and a log without both markers
neither confirms nor contradicts a stated `Upgrade took`.

The markers are data: each family's signature table (judge/signatures/<family>.toml, `[upgrade]`)
holds them, and `classify.measuring_markers(families)` hands them here as the tables hold them
(`classify.Markers`, the one type: its patterns match a line's text after its timestamp, as the
classifier matches them). Pure: the caller fetches the log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ghostgates.judge.classify import Markers as Markers  # the one type, named here for its callers
from ghostgates.read.logtext import readable
from ghostgates.timeutil import maybe_time

# A log line: an optional harness prefix (`db: `, `ghos-x_db.1.abc@node | `), then the timestamp
# (RFC 3339, up to nine fractional digits, `Z` or an offset), then the text.
_LINE = re.compile(
    r"^(?:[\w.@-]+\s*(?::|\|)\s*)?"
    r"(?P<at>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2}))\s+(?P<text>.*)$")


@dataclass(frozen=True)
class Measured:
    seconds: float
    family: str
    start_line: str
    end_line: str


def _stamp(line: str) -> tuple[datetime, str] | None:
    m = _LINE.match(line.strip())
    if m is None:
        return None
    at = maybe_time(m.group("at").replace(" ", "T", 1))
    return None if at is None else (at, m.group("text"))


def measure(log_text: str | None, markers: tuple[Markers, ...]) -> Measured | None:
    """The upgrade's duration in the log, from the first timestamped start marker to the last
    timestamped end marker after it; None where the log does not show both."""
    for family in markers:
        first: tuple[datetime, str] | None = None
        last: tuple[datetime, str] | None = None
        for raw in readable(log_text or "").splitlines():  # a log as a person reads it
            stamped = _stamp(raw)
            if stamped is None:
                continue  # a marker without its own timestamp confirms nothing
            at, text = stamped
            if first is None and family.start.search(text) is not None:
                first = (at, raw.strip())
            elif first is not None and family.end.search(text) is not None and at >= first[0]:
                last = (at, raw.strip())
        if first is not None and last is not None:
            return Measured((last[0] - first[0]).total_seconds(), family.family, first[1], last[1])
    return None


def measure_upgrade(log_text: str | None, markers: tuple[Markers, ...]) -> float | None:
    """Seconds the upgrade took as the log's markers show it; None where they do not show it."""
    found = measure(log_text, markers)
    return None if found is None else found.seconds


TOLERANCE = 0.10  # gates.md: a stated duration more than 10% away from the log's is contradicted


def contradicts(stated: float, measured: float) -> bool:
    return abs(stated - measured) > TOLERANCE * measured
