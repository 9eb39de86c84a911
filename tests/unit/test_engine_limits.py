"""Every Docker engine answer within a byte limit (`--engine-max-bytes`), against a fake engine.

docker-py reads a whole body before it parses it (docker/api/client.py `_result`:
`response.json()`, on requests' `Response.content`, requests/models.py): an engine answering
`/tasks` with gigabytes was held whole. `engine.bound_bodies` hooks the SDK's session
(requests/sessions.py Session.send runs the `response` hooks before it reads the body): a
Content-Length over the limit is refused unread, any other body is cut once past the limit.

The fake engine speaks just enough of the Engine API (moby api/swagger.yaml: `/_ping`,
`/version`, `/info` with `Swarm.ControlAvailable`, the lists) on 127.0.0.1 or on a unix socket,
as the local engine listens; it counts what it wrote, stops when the client hangs up, and never
writes longer than a few seconds or more than 64 MiB.
"""

from __future__ import annotations

import json
import shutil
import socketserver
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ghostgates.errors import GateError
from ghostgates.fetch import engine, plan
from ghostgates.fetch.http import LimitExceeded
from ghostgates.fetch.retry import RetryPolicy
from ghostgates.fetch.services import ENGINE_MAX_BYTES, Settings
from ghostgates.read.phase import Phase

from ._serving import serving

LIMIT = 4 << 20
SERVER_SECONDS = 8.0  # no endless answer lasts longer than this,
SERVER_BYTES = 64 << 20  # nor writes more than this (a client without the limit fails, and lives)
TASK = {"ID": "t" * 25, "ServiceID": "s" * 25, "Status": {"State": "running", "Message": "started"},
        "DesiredState": "running", "Spec": {"ContainerSpec": {"Image": "ghost:5"}}}


def _tasks(count: int) -> bytes:
    return json.dumps([{**TASK, "Slot": n} for n in range(count)]).encode()


NORMAL = _tasks(15000)  # about 3.2 MiB: under LIMIT


class FakeEngine(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tasks = "normal"  # how /tasks answers (see do_GET)
    hits: dict[str, int] = {}
    sent: dict[str, int] = {}

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def address_string(self) -> str:  # a unix socket's peer has no host
        return "engine-client"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        path = path.removeprefix("/v1.41")
        FakeEngine.hits[path] = FakeEngine.hits.get(path, 0) + 1
        if path == "/_ping":
            self._body(b"OK", "text/plain")
        elif path == "/version":
            self._json({"ApiVersion": "1.41", "MinAPIVersion": "1.12", "Version": "20.10.24"})
        elif path == "/info":
            self._json({"SystemTime": "2026-12-06T11:00:00Z",
                        "Swarm": {"LocalNodeState": "active", "ControlAvailable": True}})
        elif path == "/volumes":
            self._json({"Volumes": None, "Warnings": None})
        elif path == "/tasks":
            self._tasks()
        else:
            self._json([])

    def _tasks(self) -> None:
        mode, path = FakeEngine.tasks, "/tasks"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if mode in ("normal", "normal-chunked"):
            if mode == "normal":
                self.send_header("Content-Length", str(len(NORMAL)))
                self.end_headers()
                self._write(path, NORMAL)
            else:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for at in range(0, len(NORMAL), 65536):
                    piece = NORMAL[at:at + 65536]
                    self._write(path, b"%x\r\n" % len(piece) + piece + b"\r\n")
                self._write(path, b"0\r\n\r\n")
            return
        item = json.dumps(TASK).encode() + b","
        piece = b"[" + item * (65536 // len(item))
        if mode == "announced":  # 2 GiB announced, and sent for as long as the client reads
            self.send_header("Content-Length", str(2 << 30))
            self.end_headers()
            self._stream(path, lambda: piece)
        elif mode == "unannounced":  # no length: the body runs until the connection closes
            self.send_header("Connection", "close")
            self.end_headers()
            self._stream(path, lambda: piece)
        elif mode == "chunked":  # endless chunks, no length
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._stream(path, lambda: b"%x\r\n" % len(piece) + piece + b"\r\n")
        self.close_connection = True

    def _stream(self, path: str, next_piece: Callable[[], bytes]) -> None:
        ends = time.monotonic() + SERVER_SECONDS
        try:
            while time.monotonic() < ends and FakeEngine.sent.get(path, 0) < SERVER_BYTES:
                self._write(path, next_piece())
        except OSError:  # the client hung up: what it should do
            pass

    def _write(self, path: str, data: bytes) -> None:
        # Counted before the write: a client that hangs up mid-write has read part of it, and the
        # write then fails (counted after, the tally lagged one write behind what the client saw).
        FakeEngine.sent[path] = FakeEngine.sent.get(path, 0) + len(data)
        self.wfile.write(data)

    def _json(self, body: Any) -> None:
        self._body(json.dumps(body).encode(), "application/json")

    def _body(self, data: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Quiet:
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client hanging up mid-body is what these tests ask of it


class _TcpServer(_Quiet, ThreadingHTTPServer):
    pass


class _UnixServer(_Quiet, socketserver.ThreadingUnixStreamServer):
    pass


@pytest.fixture(params=["tcp", "unix"])
def fake_engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """The fake engine's address, as DOCKER_HOST names it: tcp://127.0.0.1:PORT or unix:///…/docker.sock."""
    FakeEngine.hits, FakeEngine.sent, FakeEngine.tasks = {}, {}, "normal"
    folder = None
    server: socketserver.BaseServer
    if request.param == "tcp":
        server = _TcpServer(("127.0.0.1", 0), FakeEngine)
        address = f"tcp://127.0.0.1:{server.server_address[1]}"
    else:
        folder = tempfile.mkdtemp(prefix="gg-engine-")  # a short path: sun_path holds 108 bytes
        server = _UnixServer(f"{folder}/docker.sock", FakeEngine)
        address = f"unix://{folder}/docker.sock"
    try:
        with serving(server):
            yield address
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _target(address: str, max_bytes: int = LIMIT) -> engine.EngineTarget:
    return engine.EngineTarget(address, {}, "the fake engine", timeout=5, policy=RetryPolicy(retries=2, backoff=0.01),
                               max_bytes=max_bytes)


def _refused(address: str, max_bytes: int = LIMIT) -> tuple[LimitExceeded, float, int]:
    """The read's error, its seconds, and the most bytes Python held meanwhile."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(LimitExceeded) as caught:
            engine.read_swarm(_target(address, max_bytes))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return caught.value, time.monotonic() - started, peak


def test_an_announced_2gb_answer_is_refused_unread(fake_engine: str) -> None:
    FakeEngine.tasks = "announced"
    error, took, peak = _refused(fake_engine)
    url = f"{fake_engine}/v1.41/tasks"
    assert str(error) == (f"Docker engine {fake_engine} (the fake engine): GET {url} announced a body of {2 << 30} "
                          f"bytes, over the limit of {LIMIT} bytes (--engine-max-bytes): not read")
    assert (error.url, error.status) == (url, 200)
    assert FakeEngine.hits["/tasks"] == 1 and took < 3  # a limit is not a fault to try again
    assert peak < LIMIT, f"{peak} bytes held while refusing"


@pytest.mark.parametrize("mode", ["chunked", "unannounced"])
def test_an_endless_answer_is_cut_near_the_limit(fake_engine: str, mode: str) -> None:
    FakeEngine.tasks = mode
    error, took, peak = _refused(fake_engine)
    url = f"{fake_engine}/v1.41/tasks"
    assert str(error) == (f"Docker engine {fake_engine} (the fake engine): GET {url} sent more than {LIMIT} bytes, "
                          "the limit of one engine answer (--engine-max-bytes): the rest was not read")
    assert FakeEngine.hits["/tasks"] == 1 and took < 5
    # Held: the body up to the limit, and requests' join of it; never the gigabytes the engine offers.
    assert peak < 4 * LIMIT, f"{peak} bytes held while reading"
    # The engine offered the limit and what the sockets' buffers took before the client hung up.
    time.sleep(0.2)
    assert LIMIT < FakeEngine.sent["/tasks"] < LIMIT + (16 << 20), FakeEngine.sent


@pytest.mark.parametrize("mode", ["normal", "normal-chunked"])
def test_an_answer_within_the_limit_reads_whole(fake_engine: str, mode: str) -> None:
    # The other side: a 3.2 MiB /tasks under a 4 MiB limit, and at exactly its size, reads as before.
    FakeEngine.tasks = mode
    for limit in (LIMIT, len(NORMAL)):
        snapshot = engine.read_swarm(_target(fake_engine, limit))
        assert snapshot["manager"] is True and len(snapshot["tasks"]) == 15000
        assert snapshot["tasks"][-1]["Slot"] == 14999
    # One byte less is over it: refused by its length, or cut.
    error, _, _ = _refused(fake_engine, len(NORMAL) - 1)
    words = (f"announced a body of {len(NORMAL)} bytes, over the limit of {len(NORMAL) - 1} bytes" if mode == "normal"
             else f"sent more than {len(NORMAL) - 1} bytes, the limit of one engine answer")
    assert words in str(error) and "(--engine-max-bytes)" in str(error)


def test_the_default_limit_is_64_mib_and_the_run_sets_it(fake_engine: str) -> None:
    assert ENGINE_MAX_BYTES == 64 << 20 == engine.EngineTarget().max_bytes == Settings.engine_max_bytes
    settings = Settings(phase_file="p", state_dir="s", world=None, swarm="env", gates_json="g", role="adversary",
                        gitea_url="", gitea_token="", docker_host=fake_engine, engine_max_bytes=50)
    target = engine.target_for(settings)
    assert target.max_bytes == 50
    with pytest.raises(LimitExceeded) as caught:
        engine.read_swarm(target)  # /info itself is over 50 bytes
    assert f"GET {fake_engine}/v1.41/info announced a body of " in str(caught.value)
    assert "over the limit of 50 bytes (--engine-max-bytes)" in str(caught.value)


def test_a_swarm_read_over_the_limit_is_the_swarm_sources_error(fake_engine: str) -> None:
    # The plan caches a GateError as the source's error: the Swarm requirements are `error` (tests/plugin).
    FakeEngine.tasks = "chunked"
    entries = plan.fetch_all(Phase(), None, None, gitea=None, drone=None,
                             swarm=lambda: engine.read_swarm(_target(fake_engine)))
    assert entries["swarm"]["type"] == "LimitExceeded"
    assert "(--engine-max-bytes): the rest was not read" in entries["swarm"]["error"]
    assert issubclass(LimitExceeded, GateError)
