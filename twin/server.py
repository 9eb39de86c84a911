"""Run the twin: three threaded werkzeug servers (Gitea, Drone, Docker) over one world's state."""

from __future__ import annotations

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
    """No access log on stderr, and no wall-clock Date: the app sends the world's.

    HTTP/1.1 keeps connections open between requests, as the live services do.
    """

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None

    def send_response(self, code: int, message: str | None = None) -> None:
        self.send_response_only(code, message)
        self.send_header("Server", self.version_string())


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
    world: World, gitea_user: str = DEFAULT_GITEA_USER, drone_user: str = DEFAULT_DRONE_USER
) -> TwinState:
    return TwinState(
        world=world,
        gitea=GiteaBackend(world.gitea, world.now, gitea_user),
        drone=DroneBackend(world.drone, world.now, drone_user),
        docker=DockerBackend(world.swarm, world.now),
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
) -> Iterator[TwinHandle]:
    """Serve `world` on three ports in background threads; stop them on exit.

    `port` is the first of three consecutive ports, or 0 for any free ones.
    """
    if not allow_remote and not is_loopback(host):
        raise RemoteBindError(f"refusing to bind {host}: not a loopback address (use allow_remote)")
    if not isinstance(world, World):
        world = load_world(world)
    fault_set = FaultSet(faults)
    gitea_token = gitea_token or secrets.token_hex(20)
    drone_token = drone_token or secrets.token_hex(16)
    state = build_state(world, gitea_user, drone_user)

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
    common = {"now": world.now, "latency_ms": latency_ms, "faults": fault_set}
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
