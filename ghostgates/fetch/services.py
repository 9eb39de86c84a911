"""A run's settings and the clients built from them (Gitea, Drone).

The one module below both the pytest plugins and the fixtures: the plugins make the Settings,
the fixtures (and the fetch plan) make clients from them; neither imports the other for it.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

from ghostgates.errors import ConfigError
from ghostgates.fetch.http import ApiClient, Limits
from ghostgates.fetch.retry import OnWait, RetryPolicy
from ghostgates.redact import redact_url

ENGINE_MAX_BYTES = 64 << 20  # one Docker engine answer's body, as one Gitea/Drone body (--engine-max-bytes)


@dataclass(frozen=True)
class Settings:
    """Built whole once per run (plugins/run.py, after the twin of a --world run is up), never changed:
    xdist workers receive it as plain data (`dataclasses.asdict`) and rebuild it."""

    phase_file: str
    state_dir: str
    world: str | None
    swarm: str
    gates_json: str
    role: str
    gitea_url: str
    gitea_token: str = field(repr=False)  # never in a traceback, --showlocals or a report
    drone_url: str = ""
    drone_token: str = field(repr=False, default="")
    docker_host: str = ""
    scratch_state: bool = False
    engine_host: str | None = None
    leak_settle: float = 0.0
    node_hosts: tuple[str, ...] = ()
    http_timeout: float = 15.0
    http_retries: int = 3
    http_backoff: float = 0.3
    # Limits of every Gitea/Drone read (http.Limits): body bytes, pages of a list, seconds a request,
    # bytes of a list's pages in all.
    http_max_bytes: int = Limits.max_body_bytes
    http_max_pages: int = Limits.max_pages
    http_deadline: float = Limits.request_seconds
    http_max_list_bytes: int = Limits.max_list_bytes
    # One Docker engine answer's body at most (ghostgates/fetch/engine.py bound_bodies).
    engine_max_bytes: int = ENGINE_MAX_BYTES

    def retry_policy(self) -> RetryPolicy:
        """The run's one retry policy, for Gitea, Drone and the Docker engine alike."""
        return RetryPolicy(retries=self.http_retries, backoff=self.http_backoff)

    def shown(self, which: str) -> str:
        """A service address as it may be printed: `gitea_url`, `drone_url` or `docker_host`, userinfo redacted."""
        return redact_url(str(getattr(self, which) or ""))


def missing_config(settings: Settings) -> str | None:
    """gates.md: a run without GITEA_URL or DRONE_SERVER is a usage error, found before any read."""
    if not settings.gitea_url:
        return "GITEA_URL is not set: the Gitea base URL, e.g. https://git.example.org"
    if not settings.drone_url:
        return "DRONE_SERVER is not set: the Drone base URL, e.g. https://drone.example.org"
    return None


def limits(settings: Settings) -> Limits:
    return Limits(settings.http_max_bytes, settings.http_max_pages, settings.http_deadline,
                  settings.http_max_list_bytes)


def gitea_client(settings: Settings, on_wait: OnWait = None, verify: ssl.SSLContext | bool = True) -> ApiClient:
    if not settings.gitea_url:
        raise ConfigError("GITEA_URL is not set: the Gitea base URL, e.g. https://git.example.org")
    headers = {"Accept": "application/json"}
    if settings.gitea_token:
        headers["Authorization"] = f"token {settings.gitea_token}"
    return ApiClient("Gitea", settings.gitea_url.rstrip("/") + "/api/v1", headers,
                     timeout=settings.http_timeout, policy=settings.retry_policy(), on_wait=on_wait,
                     limits=limits(settings), verify=verify)


def drone_client(settings: Settings, on_wait: OnWait = None, verify: ssl.SSLContext | bool = True) -> ApiClient:
    if not settings.drone_url:
        raise ConfigError("DRONE_SERVER is not set: the Drone base URL, e.g. https://drone.example.org")
    headers = {"Authorization": f"Bearer {settings.drone_token}"} if settings.drone_token else {}
    return ApiClient("Drone", settings.drone_url.rstrip("/") + "/api", headers,
                     timeout=settings.http_timeout, policy=settings.retry_policy(), on_wait=on_wait,
                     limits=limits(settings), verify=verify)
