"""Can the run use its Gitea and Drone at all? Asked once, before anything is decided or written.

gates.md ("How verdicts fall in the corner cases"): a run whose Gitea or Drone cannot be used at
all (a URL without `http://` or `https://`, a host that does not resolve or refuses the
connection, a TLS handshake that fails, a token the service answers with 401, a server that is
not Gitea or not Drone) stops before it decides anything and says in one line which service and
why. Otherwise every requirement would report the same `error`, and the adversary would write a
FAIL record over a signed PASS: a verdict on the reader's configuration, not on the phase.

Each service is asked two questions, the way its own clients identify it:
- what are you: Gitea's `GET /api/v1/version` (routers/api/v1/misc/version.go, `{"version": ...}`,
  no token needed); Drone's `GET /version` (handler/web/version.go, `{"source", "version",
  "commit"}`, no token needed);
- who is this token: Gitea's `GET /api/v1/user` (routers/api/v1/user/user.go
  GetAuthenticatedUser), Drone's `GET /api/user` (handler/api/user/find.go); both answer 401 to
  a token they do not know, and an object with the user's `login` to one they do. Asked only
  when a token is given (a public repo reads without one).

Both answers are small: a body is streamed and refused past `PROBE_BYTES`.
"""

from __future__ import annotations

import errno
import json
import socket
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from ghostgates.redact import redact_url

PROBE_BYTES = 1 << 20  # a version or user answer is a few hundred bytes


@dataclass(frozen=True)
class Service:
    name: str        # Gitea, Drone
    variable: str    # GITEA_URL, DRONE_SERVER
    token_variable: str
    base: str        # the base URL as the run uses it (its API path stripped)
    token: str
    version_path: str
    user_path: str
    auth: str        # the Authorization scheme: `token` (Gitea) or `Bearer` (Drone)


def gitea(base: str, token: str) -> Service:
    return Service("Gitea", "GITEA_URL", "GITEA_TOKEN", base, token, "/api/v1/version", "/api/v1/user", "token")


def drone(base: str, token: str) -> Service:
    return Service("Drone", "DRONE_SERVER", "DRONE_TOKEN", base, token, "/version", "/api/user", "Bearer")


def problem(service: Service, timeout: float) -> str | None:
    """One line saying why `service` cannot be used at all; None when it can."""
    shown = redact_url(service.base)
    head = f"{service.variable}={shown}"
    parts = urlsplit(service.base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return (f"{head}: not an http:// or https:// URL: {service.name}'s base URL needs its scheme, "
                f"e.g. https://{shown.split('://')[-1].strip('/') or 'host'}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return f"{head}: the port is not a number"
    try:
        socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        return f"{head}: the host {parts.hostname} does not resolve ({_reason(exc)}): is the name right?"
    auth = {"Authorization": f"{service.auth} {service.token}"} if service.token else {}
    with httpx.Client(base_url=service.base.rstrip("/"), timeout=timeout, follow_redirects=False) as client, \
            ThreadPoolExecutor(2) as pool:
        # The two questions go out together (one round trip, not two); the version's answer is
        # judged first, so the line names the same cause as if they had been asked in turn.
        # With the token the run will send anyway: a server that wants sign-in for everything still answers.
        version = pool.submit(_ask, client, service, service.version_path, auth, "its version",
                              lambda status, body: status == 200 and isinstance(body, dict)
                              and isinstance(body.get("version"), str))
        # The token's own user: a 401 is a wrong token; a 403 may be a token without that scope,
        # which can still read the repo; a 200 must be a user.
        user = pool.submit(_ask, client, service, service.user_path, auth, "the token's user with a login",
                           lambda status, body: status != 200 or (isinstance(body, dict)
                                                                  and isinstance(body.get("login"), str))
                           ) if service.token else None
        return version.result() or (user.result() if user is not None else None)


def problems(services: list[Service], timeout: float) -> list[str]:
    """`problem` of each service, asked of all at once; in the order given."""
    with ThreadPoolExecutor(max(1, len(services))) as pool:
        answers = [pool.submit(problem, service, timeout) for service in services]
        return [found for found in (a.result() for a in answers) if found]


def _ask(client: httpx.Client, service: Service, path: str, auth: dict[str, str], wanted: str,
         fits: Callable[[int, Any], bool]) -> str | None:
    """One probe: why GET `path` shows the service cannot be used (no answer, a 401, not the
    service's answer), or None."""
    shown = redact_url(service.base)
    answer = _get(client, service, path, auth)
    if isinstance(answer, str):
        return f"{service.variable}={shown}: {answer}"
    status, body = answer
    if status == 401:
        return _unauthorised(service, shown, path)
    if not fits(status, body):
        seen = f"answered {status}" + ("" if isinstance(body, dict | list) else " without JSON")
        return (f"{service.variable}={shown}: is not {service.name}: GET {shown}{path} {seen}, where "
                f"{service.name} answers {wanted}")
    return None


def _unauthorised(service: Service, shown: str, path: str) -> str:
    if not service.token:
        return (f"{service.token_variable} is not set and {service.name} answered 401 (GET {shown}{path}): "
                "it reads nothing without a token")
    what = "the token's own user" if path == service.user_path else "its version"
    return (f"{service.token_variable}: {service.name} answered 401 for {what} (GET {shown}{path}): the token "
            "is wrong or expired (it is not shown)")


def _get(client: httpx.Client, service: Service, path: str, headers: dict[str, str]) -> tuple[int, Any] | str:
    """(status, parsed JSON or None) of one bounded GET, or a sentence saying why there is no answer."""
    url = f"{redact_url(service.base)}{path}"
    try:
        with client.stream("GET", path, headers=headers) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > PROBE_BYTES:
                    return f"is not {service.name}: GET {url} answered more than {PROBE_BYTES} bytes"
            status = response.status_code
    except Exception as exc:  # noqa: BLE001 - whatever the transport raised, the run says it in one line
        if any(isinstance(c, httpx.TimeoutException | TimeoutError) or "Timeout" in type(c).__name__
               for c in _causes(exc)):
            return f"GET {url} did not answer within {client.timeout.read:g} s"
        return _transport(service, url, exc)
    try:
        parsed: Any = json.loads(bytes(body))
    except ValueError:
        parsed = None
    return status, parsed


def _transport(service: Service, url: str, exc: Exception) -> str:
    causes = _causes(exc)
    if any(isinstance(c, ssl.SSLError) for c in causes):
        ssl_error = next(c for c in causes if isinstance(c, ssl.SSLError))
        return (f"the TLS handshake with {_where(url)} failed ({_reason(ssl_error)}): an https:// URL "
                "for a plain http server, or a certificate this machine does not trust")
    if any(isinstance(c, ConnectionRefusedError) or getattr(c, "errno", None) == errno.ECONNREFUSED
           for c in causes) or "refused" in str(exc).lower():
        return f"{_where(url)} refused the connection: is {service.name} running there, on that port?"
    if any(isinstance(c, socket.gaierror) for c in causes):
        return f"the host {urlsplit(url).hostname} does not resolve: is the name right?"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "not an http:// or https:// URL"
    return f"GET {url} failed: {type(exc).__name__}: {_reason(exc)}"


def _where(url: str) -> str:
    """host:port of `url`, never its userinfo."""
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1]


def _causes(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in out and len(out) < 10:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(redact_url(str(text)).split())[:200]
