"""Fault injection: make the twin fail the way live services do, on chosen paths.

SPEC grammar (one `--fault` each, repeatable): fields joined by `:`, the first names the kind.

    KIND[:OPTION=VALUE]...

    kinds    status=CODE      answer CODE (400..599) with the service's own error body;
                              429 and 503 carry `Retry-After` (option retry_after=SECONDS, default 1)
             delay=SECONDS    wait SECONDS before answering (past a client's timeout), then answer
             truncate         cut the body in half, mid-JSON (Content-Length matches the cut body)
             short            drop the last item of a JSON list body; paging headers still count it
    options  path=GLOB        fnmatch on the URL path, no query (default `*`; `*` spans `/`)
             method=METHOD    only this HTTP method (default any)
             service=NAME     gitea, drone or docker (default any)
             after=N          let the first N matching requests through untouched (default 0)
             times=N          then fault only N requests (default: every one)
             retry_after=S    seconds for the Retry-After header of status=429/503

    e.g.  status=502:path=/api/v1/repos/*/pulls:times=2
          status=429:retry_after=3:service=drone
          delay=30:path=/api/repos/*/builds/*
          short:path=/api/v1/repos/*/pulls
"""

from __future__ import annotations

import fnmatch
import json
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Fault", "FaultError", "FaultSet", "parse_fault"]

KINDS = ("status", "delay", "truncate", "short")
SERVICES = ("gitea", "drone", "docker")


class FaultError(ValueError):
    """A fault SPEC that does not parse; the message is one line."""


@dataclass
class Fault:
    kind: str
    spec: str
    status: int = 0
    delay: float = 0.0
    path: str = "*"
    method: str | None = None
    service: str | None = None
    after: int = 0
    times: int | None = None
    retry_after: int = 1
    seen: int = field(default=0, compare=False)
    fired: int = field(default=0, compare=False)

    def matches(self, service: str, method: str, path: str) -> bool:
        if self.service is not None and self.service != service:
            return False
        if self.method is not None and self.method != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path)


def _int(spec: str, name: str, value: str, lo: int, hi: int | None = None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise FaultError(f"fault {spec!r}: {name} must be an integer, got {value!r}") from None
    if number < lo or (hi is not None and number > hi):
        bound = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise FaultError(f"fault {spec!r}: {name} must be {bound}, got {number}")
    return number


def parse_fault(spec: str) -> Fault:
    """Parse one SPEC; raise `FaultError` with a one-line reason."""
    parts = [p for p in spec.strip().split(":")]
    if not parts or not parts[0]:
        raise FaultError(f"fault {spec!r}: empty; expected one of {', '.join(KINDS)}")
    head, _, value = parts[0].partition("=")
    if head not in KINDS:
        raise FaultError(f"fault {spec!r}: unknown kind {head!r}; expected one of {', '.join(KINDS)}")
    fault = Fault(kind=head, spec=spec)
    if head == "status":
        fault.status = _int(spec, "status", value, 400, 599)
    elif head == "delay":
        try:
            fault.delay = float(value)
        except ValueError:
            raise FaultError(f"fault {spec!r}: delay must be seconds, got {value!r}") from None
        if fault.delay <= 0:
            raise FaultError(f"fault {spec!r}: delay must be > 0")
    elif value:
        raise FaultError(f"fault {spec!r}: {head} takes no value")
    for part in parts[1:]:
        key, eq, val = part.partition("=")
        if not eq or not val:
            raise FaultError(f"fault {spec!r}: expected OPTION=VALUE, got {part!r}")
        if key == "path":
            fault.path = val
        elif key == "method":
            fault.method = val.upper()
        elif key == "service":
            if val not in SERVICES:
                raise FaultError(f"fault {spec!r}: service must be one of {', '.join(SERVICES)}")
            fault.service = val
        elif key == "after":
            fault.after = _int(spec, "after", val, 0)
        elif key == "times":
            fault.times = _int(spec, "times", val, 1)
        elif key == "retry_after":
            fault.retry_after = _int(spec, "retry_after", val, 0)
        else:
            raise FaultError(f"fault {spec!r}: unknown option {key!r}")
    return fault


REQUEST_LOG_ENV = "GHOSTGATES_TWIN_REQUEST_LOG"


class FaultSet:
    """The faults of one twin run; counting is shared by the three services' threads.

    It also witnesses every request: with GHOSTGATES_TWIN_REQUEST_LOG=FILE each answered request
    is appended to FILE as one JSON line (service, method, path, start, end in monotonic seconds),
    from which bench/gate_run.py reads the depth of the client's request chain.
    """

    def __init__(self, faults: Iterable[Fault | str] = ()) -> None:
        self.faults = [f if isinstance(f, Fault) else parse_fault(f) for f in faults]
        self._lock = threading.Lock()
        self._log = os.environ.get(REQUEST_LOG_ENV) or None

    def started(self, service: str, method: str, path: str) -> tuple[str, str, str, float] | None:
        return (service, method, path, time.monotonic()) if self._log else None

    def finished(self, seen: tuple[str, str, str, float] | None) -> None:
        if seen is None or self._log is None:
            return
        service, method, path, start = seen
        line = json.dumps({"service": service, "method": method, "path": path, "start": start,
                           "end": time.monotonic()})
        with self._lock, open(self._log, "a", encoding="utf-8") as out:
            out.write(line + "\n")

    def pick(self, service: str, method: str, path: str) -> list[Fault]:
        """The faults that fire on this request (each counted once per matching request)."""
        fired: list[Fault] = []
        with self._lock:
            for fault in self.faults:
                if not fault.matches(service, method, path):
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                if fault.times is not None and fault.fired >= fault.times:
                    continue
                fault.fired += 1
                fired.append(fault)
        return fired
