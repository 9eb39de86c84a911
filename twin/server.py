"""Run the twin: three threaded werkzeug servers (Gitea, Drone, Docker) over one world's state."""

from __future__ import annotations

import io
import ipaddress
import secrets
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from twin.bridge import attach_bridge
from twin.docker.models import DockerBackend
from twin.docker.urls import docker_app
from twin.drone.models import DroneBackend
from twin.drone.urls import drone_app
from twin.faults import Fault, FaultSet
from twin.gitea.models import GiteaBackend
from twin.gitea.urls import gitea_app
from twin.world import World, load_world

__all__ = ["RemoteBindError", "TwinHandle", "TwinState", "is_loopback", "running_twin"]

DEFAULT_GITEA_USER = "ghost-gates"
DEFAULT_DRONE_USER = "ghost-gates"
# An idle keep-alive connection is closed after this long, so stopping the twin never waits on one.
IDLE_SECONDS = 30


class RemoteBindError(ValueError):
    """A non-loopback host without allow_remote."""


@dataclass
class TwinState:
    """The live model: what the world said plus what clients posted since."""

    world: World
    gitea: GiteaBackend
    drone: DroneBackend
    docker: DockerBackend


@dataclass
class TwinHandle:
    gitea_url: str
    drone_url: str
    docker_url: str
    gitea_token: str
    drone_token: str
    state: TwinState

    def ready_line(self) -> dict[str, str]:
        return {
            "gitea": self.gitea_url,
            "drone": self.drone_url,
            "docker": self.docker_url,
            "gitea_token": self.gitea_token,
            "drone_token": self.drone_token,
        }


class _QuietHandler(WSGIRequestHandler):
    """Keep-alive HTTP/1.1 as the live services speak it; no access log; the app's Date and Server.

    werkzeug's development server answers every request with `Connection: close` (its handler
    cannot drain a request body before the next request line). The twin's bodies are small, so
    this handler reads the whole request body first and sends each response with its
    Content-Length, which lets the connection stay open until the client closes it, asks
    `Connection: close`, or sits idle for `timeout` seconds.
    """

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        environ = self.environ = self.make_environ()
        # Drain the body now, so that what follows on the socket is the next request line.
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug dechunks it
            body = stream.read()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = stream.read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        try:
            result = self.server.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:  # noqa: BLE001 - a handler bug answers 500, as werkzeug's server would
            started[:] = ["500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain; charset=utf-8")]]
            chunks[:] = [b"Internal Server Error"]
            self.close_connection = True
        status, headers = started
        code_text, _, message = status.partition(" ")
        code = int(code_text)
        data = b"".join(chunks)
        self.send_response_only(code, message)
        names = {key.lower() for key, _ in headers}
        if "server" not in names:
            self.send_header("Server", self.version_string())
        for key, value in headers:
            if key.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            if key.lower() == "server" and not value:  # the app says: no Server header at all
                continue
            self.send_header(key, value)
        if not (100 <= code < 200 or code in (204, 304)):
            self.send_header("Content-Length", str(len(data)))
        # parse_request set close_connection from the request (HTTP/1.0, `Connection: close`).
        if self.close_connection:
            self.send_header("Connection", "close")
        # Head and body in one write: two small writes on a kept-alive socket meet Nagle's
        # algorithm and the client's delayed ACK, 40 ms a response.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD" and data and code not in (204, 304):
            self._headers_buffer.append(data)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer: list[bytes] = []
        self.wfile.flush()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(
                ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None)
            )
        except OSError:
            return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def build_state(
    world: World, gitea_user: str = DEFAULT_GITEA_USER, drone_user: str = DEFAULT_DRONE_USER,
    docker_swarm: str = "active",
) -> TwinState:
    return TwinState(
        world=world,
        gitea=GiteaBackend(world.gitea, world.now, gitea_user),
        drone=DroneBackend(world.drone, world.now, drone_user),
        docker=DockerBackend(world.swarm, world.now, docker_swarm),
    )


@contextmanager
def running_twin(
    world: World | str | Path,
    *,
    latency_ms: int = 0,
    faults: Iterable[Fault | str] = (),
    host: str = "127.0.0.1",
    port: int = 0,
    allow_remote: bool = False,
    gitea_token: str | None = None,
    drone_token: str | None = None,
    gitea_user: str = DEFAULT_GITEA_USER,
    drone_user: str = DEFAULT_DRONE_USER,
    docker_swarm: str = "active",
) -> Iterator[TwinHandle]:
    """Serve `world` on three ports in background threads; stop them on exit.

    `port` is the first of three consecutive ports, or 0 for any free ones. `docker_swarm` is
    what the engine is to the swarm: `active` (a manager), `worker`, or `inactive` (no swarm).
    """
    if not allow_remote and not is_loopback(host):
        raise RemoteBindError(f"refusing to bind {host}: not a loopback address (use allow_remote)")
    if not isinstance(world, World):
        world = load_world(world)
    fault_set = FaultSet(faults)
    gitea_token = gitea_token or secrets.token_hex(20)
    drone_token = drone_token or secrets.token_hex(16)
    state = build_state(world, gitea_user, drone_user, docker_swarm)

    # Bind first: the apps render links with their own base URL.
    servers: list[BaseWSGIServer] = []
    placeholder: Any = lambda environ, start_response: []  # noqa: E731
    try:
        for i in range(3):
            server = make_server(
                host, port + i if port else 0, placeholder, threaded=True, request_handler=_QuietHandler
            )
            server.daemon_threads = True  # type: ignore[attr-defined]
            servers.append(server)
    except Exception:
        for server in servers:
            server.server_close()
        raise
    bases = [f"http://{_url_host(host)}:{s.server_port}" for s in servers]
    common: dict[str, Any] = {"now": world.now, "latency_ms": latency_ms, "faults": fault_set}
    servers[0].app = gitea_app(state.gitea, base_url=bases[0], token=gitea_token, **common)
    servers[1].app = drone_app(state.drone, base_url=bases[1], token=drone_token, **common)
    servers[2].app = docker_app(state.docker, **common)
    # The CI bridge answers !testme and runs the world's clock once it has (twin/bridge.py).
    attach_bridge(state, servers, drone_url=bases[1])

    threads = [
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, name=f"twin-{n}", daemon=True)
        for s, n in zip(servers, ("gitea", "drone", "docker"), strict=True)
    ]
    for thread in threads:
        thread.start()
    try:
        yield TwinHandle(
            gitea_url=bases[0],
            drone_url=bases[1],
            docker_url=f"tcp://{_url_host(host)}:{servers[2].server_port}",
            gitea_token=gitea_token,
            drone_token=drone_token,
            state=state,
        )
    finally:
        # shutdown() blocks until its loop notices; stop the three loops side by side.
        stoppers = [threading.Thread(target=s.shutdown) for s in servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join(timeout=5)
        for thread in threads:
            thread.join(timeout=5)
        for server in servers:
            server.server_close()
