"""Times as the APIs write them: RFC 3339 strings (Gitea, Docker) and unix seconds (Drone)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: object) -> datetime:
    """An aware UTC datetime from an RFC 3339 string, a datetime, or unix seconds."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str) and value.strip():
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        # Docker writes nanoseconds; Python takes at most six fraction digits.
        text = _FRACTION.sub(lambda m: "." + m.group(1)[:6], text, count=1)
        parsed = datetime.fromisoformat(text)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise ValueError(f"not a time: {value!r}")


def maybe_time(value: object) -> datetime | None:
    """Like parse_time, but None for the empty values APIs use for 'not yet' (0, '', null)."""
    if value in (None, "", 0) or (isinstance(value, str) and value.startswith("0001-01-01")):
        return None
    return parse_time(value)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
