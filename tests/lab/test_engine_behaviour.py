"""The engine behaviours the twin models (tests/twin/test_docker_engine.py), checked on the real one.

For each: the lab engine (Engine 20.10.24 from Debian's docker.io, API 1.41) and the twin answer
the same request the same way: task filters (`label` on the service's labels, `name` a prefix of
`<service>.<slot>.<id>`), `services?status=true`, `GET /swarm`, the middleware headers, the
refused version, kept-alive connections, nine-digit times.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import docker
import pytest

from twin import running_twin

from .conftest import STACK_LABEL, Lab, docker_host, note, running_replicas, wait_for

WORLD = Path(__file__).resolve().parents[3] / "shared" / "worlds" / "leaked-volume.yaml"
HEADERS = ("Server", "Api-Version", "Ostype", "Docker-Experimental")


class Raw:
    """HTTP/1.1 over one socket (unix or tcp), to see headers and connection reuse as they are."""

    def __init__(self, url: str) -> None:
        if url.startswith("unix://"):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(url.removeprefix("unix://"))
        else:
            host, port = url.removeprefix("tcp://").rsplit(":", 1)
            self.sock = socket.create_connection((host, int(port)))
        self.sock.settimeout(10)
        self.reader = self.sock.makefile("rb")

    def get(self, path: str) -> tuple[int, dict[str, str], Any]:
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: docker\r\n\r\n".encode())
        status = int(self.reader.readline().split()[1])
        headers: dict[str, str] = {}
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            key, _, value = line.decode().partition(":")
            headers[key.strip().title()] = value.strip()
        if headers.get("Transfer-Encoding") == "chunked":  # Go's net/http for bodies past its buffer
            body = b""
            while (size := int(self.reader.readline().strip(), 16)) > 0:
                body += self.reader.read(size)
                self.reader.readline()
            self.reader.readline()
        else:
            body = self.reader.read(int(headers.get("Content-Length", "0")))
        try:
            return status, headers, json.loads(body)
        except ValueError:
            return status, headers, body.decode()

    def close(self) -> None:
        self.sock.close()


def _filters(**kw: list[str]) -> str:
    from urllib.parse import quote

    return quote(json.dumps(kw))


def test_engine_behaviours_match(lab: Lab, engine: docker.DockerClient) -> None:
    if not docker_host().startswith("unix://"):
        pytest.skip("lab: this check talks raw HTTP to the engine's unix socket")
    stack = lab.name("behave")
    svc = f"{stack}_web"
    lab.service(svc, ["sleep", "1d"], labels={STACK_LABEL: stack})
    wait_for(f"{svc} running", lambda: running_replicas(engine.api, svc) == 1, 30)
    real = Raw(docker_host())
    with running_twin(WORLD) as twin:
        fake = Raw(twin.docker_url)
        twin_stack, twin_svc = "wp-demo", "wp-demo_app"
        try:
            for side, raw, st, name in (("engine", real, stack, svc), ("twin", fake, twin_stack, twin_svc)):
                # label: the service's labels; the task's own Labels stay empty
                code, _, tasks = raw.get(f"/v1.41/tasks?filters={_filters(label=[f'{STACK_LABEL}={st}'])}")
                assert code == 200 and tasks and all(t["Labels"] == {} for t in tasks), side
                # name: a prefix of <service>.<slot>.<id>
                task = tasks[0]
                full = f"{name}.{task['Slot']}.{task['ID']}"
                for prefix, hit in ((name, True), (f"{name}.{task['Slot']}", True), (full, True),
                                    (name[1:], False)):
                    code, _, got = raw.get(f"/v1.41/tasks?filters={_filters(name=[prefix])}")
                    assert (task["ID"] in {t["ID"] for t in got}) is hit, (side, prefix)
                code, _, missing = raw.get(f"/v1.41/tasks?filters={_filters(service=['no-such-service'])}")
                assert (code, missing) == (404, {"message": "service no-such-service not found"}), side
                # ServiceStatus only with status=true
                _, _, plain = raw.get(f"/v1.41/services?filters={_filters(name=[name])}")
                _, _, status = raw.get(f"/v1.41/services?status=true&filters={_filters(name=[name])}")
                assert "ServiceStatus" not in plain[0], side
                assert set(status[0]["ServiceStatus"]) == {"RunningTasks", "DesiredTasks", "CompletedTasks"}, side
                # GET /swarm
                code, _, body = raw.get("/v1.41/swarm")
                assert code == 200 and {"ID", "Spec", "JoinTokens", "CreatedAt"} <= set(body), side
                # times: RFC3339Nano
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9}Z", task["Status"]["Timestamp"]), side
            # headers: on an answer, on a refused version, on an unrouted path
            for path in ("/_ping", "/v1.41/info", "/v1.99/info", "/no-such-route"):
                (rc, rh, rb), (tc, th, tb) = real.get(path), fake.get(path)
                assert rc == tc, path
                assert [h in rh for h in HEADERS] == [h in th for h in HEADERS], (path, rh, th)
                if path == "/v1.99/info":
                    assert rb == tb, (rb, tb)
                for h in ("Api-Version", "Ostype", "Docker-Experimental"):
                    assert rh.get(h) == th.get(h), (path, h)
                if "Server" in rh:
                    assert rh["Server"].split("/")[0] == th["Server"].split("/")[0] == "Docker"
            # both kept the one connection open through all of the above
            assert real.get("/_ping")[0] == fake.get("/_ping")[0] == 200
            note(f"[behaviour] engine and twin agree on task filters, ServiceStatus, /swarm, headers "
                 f"(engine Server: {real.get('/_ping')[1].get('Server')}), the refused version and keep-alive")
        finally:
            fake.close()
            real.close()
