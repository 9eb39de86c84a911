"""Drone routes (under /api) and the WSGI app that serves them."""

from __future__ import annotations

from datetime import datetime

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from twin.drone.models import DroneBackend
from twin.drone.objects import DroneObjects
from twin.drone.responses import DroneResponses
from twin.faults import FaultSet
from twin.http import Reply, ServiceApp, json_reply, require_token

__all__ = ["drone_app", "url_map"]

R = "/api/repos/<owner>/<name>"

url_map = Map(
    [
        Rule("/version", endpoint="version", methods=["GET"]),
        Rule("/api/user", endpoint="user_self", methods=["GET"]),
        Rule(R, endpoint="repo_get", methods=["GET"]),
        Rule(f"{R}/builds", endpoint="builds_list", methods=["GET"]),
        Rule(f"{R}/builds", endpoint="builds_create", methods=["POST"]),
        Rule(f"{R}/builds/<int:number>", endpoint="builds_get", methods=["GET"]),
        Rule(f"{R}/builds/<int:number>/logs/<int:stage>/<int:step>", endpoint="builds_logs", methods=["GET"]),
    ],
    strict_slashes=False,
)


def _token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.args.get("access_token")


def drone_app(
    backend: DroneBackend,
    *,
    base_url: str,
    token: str,
    now: datetime,
    latency_ms: int = 0,
    faults: FaultSet | None = None,
) -> ServiceApp:
    responses = DroneResponses(backend, DroneObjects(base_url))

    def authorise(request: Request) -> None:
        require_token(_token(request), token, "Unauthorized", "Unauthorized")

    def error(status: int, message: str, request: Request) -> Reply:
        return json_reply({"message": message}, status)

    return ServiceApp(
        "drone",
        url_map,
        responses,
        now=now,
        authorise=authorise,
        error=error,
        latency_ms=latency_ms,
        faults=faults,
        public_endpoints=("version",),
    )
