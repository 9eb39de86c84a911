"""The twin's Docker Engine held to upstream behaviour, one test per behaviour, each naming its source.

Sources (moby/moby at v20.10, moby/swarmkit at the version 20.10 vendors):
- swarmkit manager/controlapi/task.go ListTasks, api/naming/naming.go Task()
- swarmkit manager/controlapi/service.go ListServices
- moby daemon/cluster/filters.go, daemon/cluster/tasks.go, daemon/cluster/helpers.go getService
- moby daemon/cluster/services.go GetServices (status=true)
- moby api/server/router/swarm/cluster_routes.go getSwarm, api/types/swarm/swarm.go Swarm
- moby api/server/middleware/version.go, experimental.go
- moby daemon/cluster/errors.go (not a manager: 503)
- Go's net/http server (keep-alive by default) and encoding/json of time.Time (RFC3339Nano)
Engine 20.10.24 answers the same in the lab (tests/lab/test_twin_parity.py).
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import docker.errors
import httpx
import pytest
from worldkit import tiny_world

from twin import running_twin
from twin.docker.models import engine_time
from twin.server import TwinHandle

NANO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")


def _http(twin: TwinHandle) -> str:
    return twin.docker_url.replace("tcp://", "http://")


@pytest.fixture
def engine(twin: TwinHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=_http(twin) + "/v1.41", timeout=5) as client:
        yield client


def _tasks(engine: httpx.Client, **filters: list[str]) -> list[dict]:
    response = engine.get("/tasks", params={"filters": json.dumps(filters)})
    response.raise_for_status()
    return response.json()


def test_task_label_filter_matches_the_services_labels(engine: httpx.Client) -> None:
    """swarmkit task.go: filterMatchLabels(e.ServiceAnnotations.Labels, ...): what `docker stack ps` asks."""
    tasks = _tasks(engine, label=["com.docker.stack.namespace=app"])
    assert len(tasks) == 2 and all(t["Labels"] == {} for t in tasks)  # the task's own labels are empty
    assert _tasks(engine, label=["com.docker.stack.namespace"]) == tasks
    assert _tasks(engine, label=["com.docker.stack.namespace=other"]) == []


def test_task_name_filter_is_a_prefix_of_service_slot_id(engine: httpx.Client) -> None:
    """swarmkit task.go: filterContainsPrefix(naming.Task(e), NamePrefixes); naming.Task is `<svc>.<slot>.<id>`."""
    every = _tasks(engine)
    assert {t["Slot"] for t in every} == {1, 2}
    assert len(_tasks(engine, name=["app_web"])) == 2
    slot1 = _tasks(engine, name=["app_web.1"])
    assert [t["Slot"] for t in slot1] == [1]
    assert _tasks(engine, name=[f"app_web.1.{slot1[0]['ID']}"]) == slot1
    assert _tasks(engine, name=["web"]) == []  # a substring is not a prefix


def test_task_service_filter_resolves_names_and_404s_unknown(engine: httpx.Client) -> None:
    """moby daemon/cluster/tasks.go: each `service` value goes through getService (id, name, id prefix)."""
    service_id = engine.get("/services").json()[0]["ID"]
    assert len(_tasks(engine, service=["app_web"])) == len(_tasks(engine, service=[service_id[:5]])) == 2
    missing = engine.get("/tasks", params={"filters": json.dumps({"service": ["nope"]})})
    assert missing.status_code == 404 and missing.json() == {"message": "service nope not found"}


def test_service_name_filter_is_a_prefix(engine: httpx.Client) -> None:
    """swarmkit service.go ListServices: filterContainsPrefix(Spec.Annotations.Name, NamePrefixes)."""
    names = lambda flt: [s["Spec"]["Name"] for s in engine.get(  # noqa: E731
        "/services", params={"filters": json.dumps(flt)}).json()]
    assert names({"name": ["app"]}) == ["app_web"]
    assert names({"name": ["web"]}) == []


def test_services_status_true_fills_service_status(engine: httpx.Client) -> None:
    """moby daemon/cluster/services.go GetServices: ServiceStatus only when status=true (API 1.41)."""
    plain = engine.get("/services").json()[0]
    assert "ServiceStatus" not in plain
    status = engine.get("/services", params={"status": "true"}).json()[0]["ServiceStatus"]
    assert status == {"RunningTasks": 1, "DesiredTasks": 1, "CompletedTasks": 0}


def test_get_swarm(engine: httpx.Client) -> None:
    """moby api/server/router/swarm/cluster_routes.go getSwarm -> api/types/swarm/swarm.go Swarm (JoinTokens)."""
    body = engine.get("/swarm").json()
    assert set(body["JoinTokens"]) == {"Worker", "Manager"}
    assert body["JoinTokens"]["Worker"].startswith("SWMTKN-1-")
    assert body["Spec"]["Name"] == "default" and NANO.match(body["CreatedAt"])
    info_cluster = engine.get("/info").json()["Swarm"]["Cluster"]
    assert info_cluster["ID"] == body["ID"] and "JoinTokens" not in info_cluster


@pytest.mark.parametrize("path", ["/_ping", "/version", "/info", "/services", "/tasks", "/networks",
                                  "/volumes", "/nodes", "/secrets", "/configs", "/swarm", "/services/nope"])
def test_engine_headers_on_every_answer(twin: TwinHandle, path: str) -> None:
    """moby middleware/version.go (Server, API-Version, OSType) and experimental.go (Docker-Experimental)
    wrap every route, errors included; the Server header is the engine's, not the twin's."""
    for prefix in ("", "/v1.41"):
        response = httpx.get(_http(twin) + prefix + path, timeout=5)
        assert response.headers["Api-Version"] == "1.41", path
        assert response.headers["Ostype"] == "linux"
        assert response.headers["Docker-Experimental"] == "false"
        assert re.fullmatch(r"Docker/20\.10\.\d+ \(linux\)", response.headers["Server"])


def test_unrouted_path_has_no_engine_headers(twin: TwinHandle) -> None:
    """A path no route matches is answered by the router's NotFoundHandler, outside the middlewares."""
    response = httpx.get(_http(twin) + "/nope", timeout=5)
    assert response.status_code == 404 and response.json() == {"message": "page not found"}
    assert "Api-Version" not in response.headers and "Server" not in response.headers


@pytest.mark.parametrize(("version", "message"), [
    ("1.50", "client version 1.50 is too new. Maximum supported API version is 1.41"),
    ("1.11", "client version 1.11 is too old. Minimum supported API version is 1.12, "
             "please upgrade your client to a newer version"),
])
def test_version_outside_the_served_range_is_400(twin: TwinHandle, version: str, message: str) -> None:
    """moby api/server/middleware/version.go versionUnsupportedError (InvalidParameter: 400)."""
    response = httpx.get(f"{_http(twin)}/v{version}/info", timeout=5)
    assert response.status_code == 400 and response.json() == {"message": message}
    # as 20.10.24 answers: the version middleware's headers, not the experimental one's
    assert response.headers["Api-Version"] == "1.41" and "Docker-Experimental" not in response.headers


def test_docker_sdk_above_the_served_version_gets_the_engines_message(twin: TwinHandle) -> None:
    """docker-py pinned above the engine gets the engine's own message."""
    client = docker.APIClient(base_url=twin.docker_url, version="1.45", timeout=5)
    with pytest.raises(docker.errors.APIError, match="too new"):
        client.info()
    client.close()


def test_keep_alive_is_real(twin: TwinHandle) -> None:
    """Go's net/http keeps HTTP/1.1 connections open: many requests, one TCP connection."""
    host, port = twin.docker_url.removeprefix("tcp://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        reader = sock.makefile("rb")
        for path in ("/_ping", "/v1.41/info", "/v1.41/services"):
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            status = reader.readline()
            headers = {}
            while (line := reader.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            assert status.startswith(b"HTTP/1.1 200"), status
            assert headers.get("connection") != "close"
            body = reader.read(int(headers["content-length"]))
            assert len(body) == int(headers["content-length"])
        # and `Connection: close` from the client is honoured
        sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert reader.readline().startswith(b"HTTP/1.1 200")
        rest = reader.read()
        assert b"Connection: close" in rest and rest.endswith(b"OK")


def test_keep_alive_for_gitea_and_drone_too(twin: TwinHandle) -> None:
    with httpx.Client(timeout=5) as client:
        first = client.get(twin.gitea_url + "/api/v1/version")
        second = client.get(twin.drone_url + "/api/user", headers={"Authorization": f"Bearer {twin.drone_token}"})
        assert "close" not in first.headers.get("connection", "") and second.status_code == 200


def test_times_have_nine_fractional_digits(engine: httpx.Client) -> None:
    """Go's encoding/json writes time.Time as RFC3339Nano: the suite must read nanoseconds."""
    stamps = [engine.get("/info").json()["SystemTime"]]
    for service in engine.get("/services").json():
        stamps += [service["CreatedAt"], service["UpdatedAt"], service["UpdateStatus"]["StartedAt"]]
    for task in _tasks(engine):
        stamps += [task["CreatedAt"], task["Status"]["Timestamp"]]
    stamps += [n["Created"] for n in engine.get("/networks").json()]
    stamps += [s["CreatedAt"] for s in engine.get("/secrets").json()]
    assert stamps and all(NANO.match(s) for s in stamps), stamps


def test_engine_time_keeps_the_instant() -> None:
    assert engine_time("2026-06-15T10:00:00Z") == "2026-06-15T10:00:00.000000000Z"
    assert engine_time("2026-06-15T12:00:00.123456789+02:00") == "2026-06-15T10:00:00.123456789Z"
    assert engine_time("2026-06-15T10:00:00.5Z") == "2026-06-15T10:00:00.500000000Z"


@pytest.mark.parametrize(("state", "swarm_header", "message"), [
    ("inactive", "inactive", "docker swarm init"),
    ("worker", "active/worker", "Worker nodes can't be used"),
])
def test_not_a_manager_answers_503(world_file: Callable[..., Path], state: str, swarm_header: str,
                                   message: str) -> None:
    """moby daemon/cluster/errors.go errNoManager: notAvailableError, 503; /info and /_ping still answer."""
    with running_twin(world_file(tiny_world()), docker_swarm=state) as twin:
        base = _http(twin)
        assert httpx.get(base + "/_ping").headers["Swarm"] == swarm_header
        info = httpx.get(base + "/info").json()["Swarm"]
        assert info["ControlAvailable"] is False
        assert info["LocalNodeState"] == ("inactive" if state == "inactive" else "active")
        for path in ("/services", "/tasks", "/nodes", "/secrets", "/configs", "/swarm"):
            response = httpx.get(base + "/v1.41" + path)
            assert response.status_code == 503 and message in response.json()["message"], path
        assert httpx.get(base + "/v1.41/networks").status_code == 200  # local networks need no swarm
