"""The WSGI shell every service shares: routing, auth, latency, faults and the world's Date.

A service supplies a werkzeug `Map` whose endpoints name handler functions, an `authorise`
callable and an `error` renderer for its own error body. Handlers parse the request, call the
service's model and return a `Reply`; models raise `NotFound` / `BadRequest` (domain errors) and
never see HTTP.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound
from werkzeug.http import http_date
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response

from twin.faults import FaultSet

__all__ = ["BadRequest", "NotFound", "Reply", "ServiceApp", "Unauthorised", "Unavailable", "iso", "json_reply",
           "require_token"]


class NotFound(Exception):
    """The model has no such object."""


class BadRequest(Exception):
    """The request names something the model cannot act on."""


class Unauthorised(Exception):
    """No token or a wrong one."""


class Unavailable(Exception):
    """The service cannot answer this now (the engine when it is not a swarm manager): 503."""


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, body=body, headers=headers or {})


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, the way the twin writes the times it makes up."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def require_token(given: str | None, expected: str, missing: str, wrong: str) -> None:
    """Raise Unauthorised with the service's own wording; compare in constant time."""
    if given is None:
        raise Unauthorised(missing)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorised(wrong)


ErrorRenderer = Callable[[int, str, Request], Reply]
Authorise = Callable[[Request], None]
Handler = Callable[..., Reply]


class ServiceApp:
    """One service's WSGI application."""

    def __init__(
        self,
        service: str,
        url_map: Map,
        responses: object,
        *,
        now: datetime,
        authorise: Authorise,
        error: ErrorRenderer,
        latency_ms: int = 0,
        faults: FaultSet | None = None,
        rewrite_path: Callable[[str], str] | None = None,
        public_endpoints: Iterable[str] = (),
        finish: Callable[[Request, Response], None] | None = None,
    ) -> None:
        self.service = service
        self.url_map = url_map
        # Endpoint names are the responses' method names (moto's convention): a grep joins them.
        self.handlers: dict[str, Handler] = {
            str(rule.endpoint): getattr(responses, str(rule.endpoint)) for rule in url_map.iter_rules()}
        self.now = now
        self.authorise = authorise
        self.error = error
        self.latency = latency_ms / 1000.0
        self.faults = faults or FaultSet()
        self.rewrite_path = rewrite_path
        self.public = frozenset(public_endpoints)
        # Headers a service's middleware puts on every answer (the engine's API-Version, Server).
        self.finish = finish

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        seen = self.faults.started(self.service, request.method, request.full_path)
        response = self._respond(request)
        if self.finish is not None:
            self.finish(request, response)
        self.faults.finished(seen)
        # The suite takes "now" from the services, so the world's clock answers, not ours.
        response.headers["Date"] = http_date(self.now)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        if self.latency:
            time.sleep(self.latency)
        fired = self.faults.pick(self.service, request.method, request.path)
        for fault in fired:
            if fault.kind == "delay":
                time.sleep(fault.delay)
        for fault in fired:
            if fault.kind == "status":
                reply = self.error(fault.status, _reason(fault.status), request)
                if fault.status in (429, 503):
                    reply.headers["Retry-After"] = str(fault.retry_after)
                return _to_response(reply)
        response = _to_response(self._dispatch(request))
        for fault in fired:
            if fault.kind == "short":
                response = _short(response)
            elif fault.kind == "truncate":
                body = response.get_data()
                response.set_data(body[: len(body) // 2])
        return response

    def _dispatch(self, request: Request) -> Reply:
        path = request.path
        if self.rewrite_path is not None:
            path = self.rewrite_path(path)
        adapter = self.url_map.bind("twin", path_info=path)
        try:
            endpoint, args = adapter.match(path, method=request.method)
        except RouteNotFound:
            return self.error(404, "Not Found", request)
        except MethodNotAllowed:
            return self.error(405, "Method Not Allowed", request)
        except HTTPException as exc:  # e.g. a redirect for a missing slash
            return self.error(exc.code or 400, exc.name, request)
        try:
            if endpoint not in self.public:
                self.authorise(request)
            return self.handlers[str(endpoint)](request, **args)
        except Unauthorised as exc:
            return self.error(401, str(exc) or "Unauthorized", request)
        except NotFound as exc:
            return self.error(404, str(exc) or "Not Found", request)
        except BadRequest as exc:
            return self.error(400, str(exc) or "Bad Request", request)
        except Unavailable as exc:
            return self.error(503, str(exc) or "Service Unavailable", request)


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _to_response(reply: Reply) -> Response:
    body = reply.body
    if reply.status in (204, 304) or body is None and reply.content_type == "application/json":
        data = b"" if reply.status in (204, 304) else b"null"
    elif isinstance(body, bytes):
        data = body
    elif isinstance(body, str) and reply.content_type != "application/json":
        data = body.encode()
    else:
        data = json.dumps(body, separators=(",", ":")).encode() + b"\n"
    content_type = reply.content_type
    if content_type == "application/json":
        content_type = "application/json; charset=utf-8"
    response = Response(data, status=reply.status, content_type=content_type)
    for key, value in reply.headers.items():
        response.headers[key] = value
    return response


def _short(response: Response) -> Response:
    """A list page that lost its last item; the paging headers still promise it."""
    try:
        body = json.loads(response.get_data())
    except ValueError:
        return response
    if isinstance(body, list) and body:
        response.set_data(json.dumps(body[:-1], separators=(",", ":")).encode() + b"\n")
    elif isinstance(body, dict) and isinstance(body.get("Volumes"), list) and body["Volumes"]:
        body["Volumes"] = body["Volumes"][:-1]
        response.set_data(json.dumps(body, separators=(",", ":")).encode() + b"\n")
    return response
