"""Docker Engine API 1.41 routes, with or without the `/v1.NN` prefix, and the app."""

from __future__ import annotations

import re
from datetime import datetime

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from twin.docker.models import DockerBackend
from twin.docker.responses import DockerResponses
from twin.faults import FaultSet
from twin.http import Reply, ServiceApp, json_reply

__all__ = ["docker_app", "url_map"]

url_map = Map(
    [
        Rule("/_ping", endpoint="ping", methods=["GET", "HEAD"]),
        Rule("/version", endpoint="version", methods=["GET"]),
        Rule("/info", endpoint="info", methods=["GET"]),
        Rule("/nodes", endpoint="node_list", methods=["GET"]),
        Rule("/nodes/<ref>", endpoint="node_inspect", methods=["GET"]),
        Rule("/services", endpoint="service_list", methods=["GET"]),
        Rule("/services/<ref>", endpoint="service_inspect", methods=["GET"]),
        Rule("/tasks", endpoint="task_list", methods=["GET"]),
        Rule("/tasks/<ref>", endpoint="task_inspect", methods=["GET"]),
        Rule("/volumes", endpoint="volume_list", methods=["GET"]),
        Rule("/volumes/<ref>", endpoint="volume_inspect", methods=["GET"]),
        Rule("/networks", endpoint="network_list", methods=["GET"]),
        Rule("/networks/<ref>", endpoint="network_inspect", methods=["GET"]),
        Rule("/containers/json", endpoint="container_list", methods=["GET"]),
        Rule("/containers/<ref>/json", endpoint="container_inspect", methods=["GET"]),
        Rule("/secrets", endpoint="secret_list", methods=["GET"]),
        Rule("/secrets/<ref>", endpoint="secret_inspect", methods=["GET"]),
        Rule("/configs", endpoint="config_list", methods=["GET"]),
        Rule("/configs/<ref>", endpoint="config_inspect", methods=["GET"]),
    ],
    strict_slashes=False,
)

_VERSION_PREFIX = re.compile(r"^/v\d+\.\d+(?=/)")


def _strip_version(path: str) -> str:
    return _VERSION_PREFIX.sub("", path, count=1)


def docker_app(
    backend: DockerBackend, *, now: datetime, latency_ms: int = 0, faults: FaultSet | None = None
) -> ServiceApp:
    responses = DockerResponses(backend)

    def authorise(request: Request) -> None:
        # A TCP engine without TLS has no auth; loopback-only binding is the guard.
        return None

    def error(status: int, message: str, request: Request) -> Reply:
        if status == 404 and message == "Not Found":
            message = "page not found"
        return json_reply({"message": message}, status)

    return ServiceApp(
        "docker",
        url_map,
        responses,
        now=now,
        authorise=authorise,
        error=error,
        latency_ms=latency_ms,
        faults=faults,
        rewrite_path=_strip_version,
    )
