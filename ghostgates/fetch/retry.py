"""The one retry policy of every read: Gitea and Drone (fetch/http.py) and the Docker engine (fetch/engine.py).

A read is tried again on a timeout, a dropped connection, a body cut short, or a 429/5xx
(honouring Retry-After, bounded); a bounded number of times, then its error is the verdict's
`error`. Who is told about a wait is the caller's: each client takes its own `on_wait`.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

# Statuses that mean "try again later" (RFC 9110 15.6.4 503, RFC 6585 4 429; 500/502/504 from proxies).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

# Where a client reports a long wait or a retry (the gate plugins point it at the terminal); None: silence.
OnWait = Callable[[str], None] | None


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3  # tries after the first
    backoff: float = 0.3  # seconds; the n-th retry of a lost answer waits backoff * n
    max_retry_after: float = 10.0  # a Retry-After longer than this is cut to it
    statuses: frozenset[int] = RETRY_STATUSES

    @property
    def tries(self) -> int:
        return self.retries + 1

    def again(self, attempt: int) -> bool:
        """Whether a read that failed on its `attempt`-th try (1-based) is tried once more."""
        return attempt <= self.retries

    def after_loss(self, attempt: int) -> float:
        """The wait after a timeout, a dropped connection or a body cut short: linear."""
        return self.backoff * attempt

    def after_status(self, attempt: int, retry_after: str | None = None) -> float:
        """The wait after a 429/5xx: the server's Retry-After (seconds or an HTTP date, RFC 9110
        10.2.3), bounded by max_retry_after; without one, exponential."""
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), self.max_retry_after)
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(retry_after)
                except (TypeError, ValueError):
                    when = None
                if when is not None:
                    if when.tzinfo is None:
                        when = when.replace(tzinfo=UTC)
                    return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), self.max_retry_after)
        return self.backoff * 2.0 ** (attempt - 1)


DEFAULT_POLICY = RetryPolicy()
