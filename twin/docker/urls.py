"""Docker Engine API 1.41 routes, with or without the `/v1.NN` prefix, and the app."""

from __future__ import annotations

import re
from datetime import datetime

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from twin.docker import system
from twin.docker.models import DockerBackend
from twin.docker.responses import DockerResponses
from twin.faults import FaultSet
from twin.http import BadRequest, Reply, ServiceApp, json_reply

__all__ = ["DOCKER_FAMILIES", "docker_app", "url_map"]

# The endpoint families the suite reads (ghostgates/fetch/engine.py fetch_swarm), as fault paths
# (twin/faults.py `path=`, where `*` spans `/`): e.g. status=503:service=docker:path=/v*/tasks.
DOCKER_FAMILIES: dict[str, str] = {
    "info": "/v*/info",
    "nodes": "/v*/nodes",
    "networks": "/v*/networks",
    "network-inspect": "/v*/networks/*",
    "services": "/v*/services",
    "tasks": "/v*/tasks",
    "volumes": "/v*/volumes",
    "containers": "/v*/containers/json",
    "secrets": "/v*/secrets",
    "configs": "/v*/configs",
}

url_map = Map(
    [
        Rule("/_ping", endpoint="ping", methods=["GET", "HEAD"]),
        Rule("/version", endpoint="version", methods=["GET"]),
        Rule("/info", endpoint="info", methods=["GET"]),
        Rule("/swarm", endpoint="swarm_inspect", methods=["GET"]),
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

_VERSION_PREFIX = re.compile(r"^/v(\d+\.\d+)(?=/)")


def _strip_version(path: str) -> str:
    return _VERSION_PREFIX.sub("", path, count=1)


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def version_error(path: str) -> str | None:
    """moby api/server/middleware/version.go: a /vN outside [MinAPIVersion, API_VERSION] is refused."""
    m = _VERSION_PREFIX.match(path)
    if not m:
        return None
    asked = m.group(1)
    if _version_key(asked) < _version_key(system.MIN_API_VERSION):
        return (f"client version {asked} is too old. Minimum supported API version is {system.MIN_API_VERSION}, "
                "please upgrade your client to a newer version")
    if _version_key(asked) > _version_key(system.API_VERSION):
        return f"client version {asked} is too new. Maximum supported API version is {system.API_VERSION}"
    return None


def engine_headers(request: Request, response: Response) -> None:
    """What moby's middlewares put on every answer they wrap (api/server/middleware/version.go,
    experimental.go): Server, Api-Version, Ostype and Docker-Experimental.

    As Engine 20.10.24 answers (seen in the lab): the version middleware sets its three headers
    before it refuses a version, so a refused version carries them but not Docker-Experimental
    (that middleware runs inside it); a path no route matches is answered outside every
    middleware, with none of them.
    """
    try:
        url_map.bind("twin").match(_strip_version(request.path), method=request.method)
    except HTTPException:
        response.headers["Server"] = ""  # none, not the twin's HTTP server's own
        return
    response.headers["Server"] = f"Docker/{system.ENGINE_VERSION} (linux)"
    response.headers["Api-Version"] = system.API_VERSION
    response.headers["Ostype"] = "linux"
    if version_error(request.path) is None:
        response.headers["Docker-Experimental"] = "false"


def docker_app(
    backend: DockerBackend, *, now: datetime, latency_ms: int = 0, faults: FaultSet | None = None
) -> ServiceApp:
    responses = DockerResponses(backend)

    def authorise(request: Request) -> None:
        # A TCP engine without TLS has no auth; loopback-only binding is the guard. The version
        # middleware runs here, after routing, as the engine's does (its routes carry /v{version}).
        refused = version_error(request.path)
        if refused is not None:
            raise BadRequest(refused)

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
        finish=engine_headers,
    )
