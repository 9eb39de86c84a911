"""Reads of the Swarm through the Docker Engine API (the `docker` SDK): fetch only, no verdicts.

The snapshot is the engine's own JSON, so that the rules read the same field names on a real
manager and on the twin (tests/lab holds the two to each other).

One reader for every caller: `read_swarm(target, proxy_network)`, where `target_for(settings)`
says which engine a run reads (the twin's for a --world run, whatever DOCKER_TLS_VERIFY or
DOCKER_CONTEXT say; else the docker CLI's own choice) with the run's timeout and retry policy.
The gate fixtures, the trigger, the in-process world judge and the lab all read through it.

Every engine answer is bounded as Gitea's and Drone's are: its body at most `max_bytes`
(`--engine-max-bytes`, default 64 MiB), cut while it is read (`bound_bodies`), a `LimitExceeded`
naming the URL and the limit; the whole read at most `plan.SWARM_SECONDS`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import docker
import docker.errors
import docker.tls
import requests
import requests.exceptions

from ghostgates.errors import ConfigError, Malformed, ServiceError, Unreachable, refusal
from ghostgates.fetch.http import LimitExceeded
from ghostgates.fetch.retry import DEFAULT_POLICY, OnWait, RetryPolicy
from ghostgates.fetch.services import ENGINE_MAX_BYTES, Settings
from ghostgates.redact import redact_text, redact_url, scrub
from ghostgates.shapes import SwarmSnapshot

API_VERSION = "1.41"
DEFAULT_HOST = "unix:///var/run/docker.sock"
T = TypeVar("T")


@dataclass(frozen=True)
class EngineTarget:
    """Which engine a caller reads, and how: the one description every reader is built from.

    `docker_host` None and `environ` None: the docker CLI's own choice from this process's
    environment (DOCKER_HOST, DOCKER_CONTEXT, the current context, the local socket). `environ`
    {} reads `docker_host` with no TLS variables (the twin's plain engine). `node_hosts`: testinfra
    hosts whose volumes are listed beside the snapshot (M2.no-leaks: volumes live per node).
    """

    docker_host: str | None = None
    environ: Mapping[str, str] | None = None
    source: str | None = None
    timeout: float = 20.0
    policy: RetryPolicy = DEFAULT_POLICY
    node_hosts: tuple[str, ...] = ()
    on_wait: OnWait = field(default=None, compare=False)
    max_bytes: int = ENGINE_MAX_BYTES


def target_for(settings: Settings, on_wait: OnWait = None) -> EngineTarget:
    """The engine a run reads: the twin's when --world serves the Swarm (the user's TLS variables
    and contexts are not the twin's), else the docker CLI's own choice; the run's timeout and retries."""
    environ: Mapping[str, str] | None = None
    source = None
    if settings.world and settings.swarm == "world":
        environ, source = {}, f"the twin's engine for world {Path(settings.world).name}"
    return EngineTarget(settings.docker_host or None, environ, source, settings.http_timeout,
                        settings.retry_policy(), settings.node_hosts, on_wait, max_bytes=settings.engine_max_bytes)


@dataclass(frozen=True)
class Engine:
    """The engine a run reads, and why that one: the docker CLI's own choice (docker/cli
    cli/command/cli.go resolveContextName, cli/context/docker/load.go)."""

    host: str
    source: str
    tls: docker.tls.TLSConfig | None = None
    tls_note: str = ""

    def describe(self) -> str:
        extra = f", {self.tls_note}" if self.tls_note else ""
        return f"{redact_url(self.host)} ({self.source}{extra})"


def _config_dir(environ: Mapping[str, str]) -> Path:
    """DOCKER_CONFIG, else ~/.docker (docker/cli cli/config/config.go Dir)."""
    given = environ.get("DOCKER_CONFIG")
    return Path(given) if given else Path(environ.get("HOME") or Path.home()) / ".docker"


def _tls_from_env(environ: Mapping[str, str], host: str) -> tuple[docker.tls.TLSConfig | None, str]:
    """DOCKER_TLS_VERIFY (any non-empty value) turns TLS on and verifies the engine; DOCKER_CERT_PATH
    (default ~/.docker) holds ca.pem, cert.pem, key.pem, as the CLI reads them (cli/flags)."""
    if not environ.get("DOCKER_TLS_VERIFY"):
        return None, ""
    cert_dir = Path(environ.get("DOCKER_CERT_PATH") or _config_dir(environ))
    return _tls_config(cert_dir, verify=True, where="DOCKER_CERT_PATH" if environ.get("DOCKER_CERT_PATH")
                       else str(cert_dir)), f"TLS verified with the certificates in {cert_dir}"


def _tls_config(cert_dir: Path, verify: bool, where: str) -> docker.tls.TLSConfig:
    """The CLI's reading of a cert dir (cli/flags/options.go): each of ca.pem, cert.pem, key.pem
    is used where it exists; without ca.pem a verifying client trusts the system's roots."""
    ca, cert, key = (cert_dir / name for name in ("ca.pem", "cert.pem", "key.pem"))
    if cert.is_file() != key.is_file():
        have, lack = (cert, key) if cert.is_file() else (key, cert)
        raise ConfigError(f"TLS for the Docker engine ({where}): {have} without {lack.name}")
    try:
        return docker.tls.TLSConfig(client_cert=(str(cert), str(key)) if cert.is_file() else None,
                                    ca_cert=str(ca) if ca.is_file() else None, verify=verify)
    except docker.errors.TLSParameterError as exc:
        raise ConfigError(f"TLS for the Docker engine ({where}): {exc}") from None


def _context(name: str, environ: Mapping[str, str], why: str) -> Engine:
    """A named context from the CLI's store: contexts/meta/<sha256(name)>/meta.json, its TLS
    files under contexts/tls/<sha256(name)>/docker/ (docker/cli cli/context/store)."""
    root = _config_dir(environ) / "contexts"
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = root / "meta" / digest / "meta.json"
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"docker context {name!r} ({why}) does not exist: no {meta}") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"docker context {name!r} ({why}): {meta} is unreadable: {exc}") from None
    endpoint = ((data.get("Endpoints") or {}).get("docker")) or {}
    host = endpoint.get("Host")
    if not host:
        raise ConfigError(f"docker context {name!r} ({why}) has no docker endpoint Host in {meta}")
    tls_dir = root / "tls" / digest / "docker"
    tls, note = None, ""
    if tls_dir.is_dir():
        verify = not endpoint.get("SkipTLSVerify", False)
        tls = _tls_config(tls_dir, verify=verify, where=f"context {name}")
        note = "TLS verified" if verify else "TLS without verifying the engine (SkipTLSVerify)"
    return Engine(host=host, source=f"docker context {name!r}, {why}", tls=tls, tls_note=note)


def resolve_engine(docker_host: str | None = None, environ: Mapping[str, str] | None = None,
                   source: str | None = None) -> Engine:
    """The engine the docker CLI would talk to, with the same precedence (resolveContextName):
    DOCKER_HOST (the default context, TLS from DOCKER_TLS_VERIFY/DOCKER_CERT_PATH), else
    DOCKER_CONTEXT, else the config file's currentContext, else the local socket."""
    env = os.environ if environ is None else environ
    host = docker_host or env.get("DOCKER_HOST")
    if host:
        tls, note = _tls_from_env(env, host)
        return Engine(host=host, source=source or "DOCKER_HOST", tls=tls, tls_note=note)
    named = env.get("DOCKER_CONTEXT") or ""
    if named and named != "default":
        return _context(named, env, "from DOCKER_CONTEXT")
    config = _config_dir(env) / "config.json"
    current = ""
    if not named and config.is_file():
        try:
            current = str(json.loads(config.read_text(encoding="utf-8")).get("currentContext") or "")
        except (OSError, ValueError) as exc:
            raise ConfigError(f"docker CLI config {config} is unreadable: {exc}") from None
    if current and current != "default":
        return _context(current, env, f"the currentContext of {config}")
    tls, note = _tls_from_env(env, DEFAULT_HOST)
    return Engine(host=DEFAULT_HOST, source="the local engine: no DOCKER_HOST, DOCKER_CONTEXT or current "
                  "context, as the docker CLI", tls=tls, tls_note=note)


def engine_description(target: EngineTarget) -> str:
    """One line naming the engine a run reads (for the report's header); never raises."""
    try:
        return resolve_engine(target.docker_host, target.environ, target.source).describe()
    except ConfigError as exc:
        return f"unresolved: {redact_text(str(exc))}"


def engine_url(engine: Engine, url: str) -> str:
    """A request URL as the user named the engine: docker-py sends unix:// as http+docker://localhost
    and tcp:// as http://; messages name the host the user gave, with its path and query."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return redact_url(engine.host.rstrip("/") + parts.path + query)


class _BoundedBody:
    """A response's raw stream (urllib3's HTTPResponse) that stops once more than `limit` bytes came:
    the connection is closed (the rest is never read) and `refuse()` raised. requests reads a body
    through `raw.stream` (models.py Response.iter_content); `read` is bounded the same way."""

    def __init__(self, raw: Any, limit: int, refuse: Callable[[], LimitExceeded]) -> None:
        self._raw, self._limit, self._refuse, self._seen = raw, limit, refuse, 0

    def _count(self, chunk: bytes) -> bytes:
        self._seen += len(chunk)
        if self._seen > self._limit:
            self._raw.close()
            raise self._refuse()
        return chunk

    def stream(self, amt: int | None = 2**16, decode_content: bool | None = None) -> Iterator[bytes]:
        for chunk in self._raw.stream(amt, decode_content=decode_content):
            yield self._count(chunk)

    def read(self, amt: int | None = None, *args: Any, **kwargs: Any) -> bytes:
        if amt is not None:
            return self._count(self._raw.read(amt, *args, **kwargs))
        return b"".join(self.stream(2**16, kwargs.get("decode_content")))

    def __getattr__(self, name: str) -> Any:  # everything else is the response's own
        return getattr(self._raw, name)


def bound_bodies(session: requests.Session, engine: Engine, max_bytes: int) -> None:
    """Every answer `session` (a docker-py APIClient) receives holds at most `max_bytes` of body.

    A `response` hook: requests runs it on the answer's headers, before it reads a body it is not
    streaming (requests/sessions.py Session.send: dispatch_hook, then `r.content`); docker-py then
    reads the whole body (docker/api/client.py `_result`: response.json()). A Content-Length over the
    limit is refused unread; any other body is cut once it passes the limit, chunked or not.
    """
    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        method = response.request.method or "GET"
        url = engine_url(engine, str(response.url))
        where = f"Docker engine {engine.describe()}: {method} {url}"
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > max_bytes:
            response.close()
            raise LimitExceeded(f"{where} announced a body of {declared} bytes, over the limit of {max_bytes} bytes "
                                "(--engine-max-bytes): not read", url=url, status=response.status_code)
        if response.raw is None:  # nothing to read (requests' own Response() without a body)
            return response
        response.raw = _BoundedBody(response.raw, max_bytes, lambda: LimitExceeded(
            f"{where} sent more than {max_bytes} bytes, the limit of one engine answer (--engine-max-bytes): "
            "the rest was not read", url=url, status=response.status_code))
        return response

    session.hooks["response"].append(hook)


class EngineReader:
    """Bounded retries of the engine's reads, as ghostgates/fetch/http.py does for Gitea and Drone:
    a 429/5xx, a timeout, a dropped connection or a body cut short is tried again, honouring
    Retry-After; errors name the request URL, the status and the cause. Each answer's body is
    bounded (`bound_bodies`, `max_bytes`); a body over it is a LimitExceeded, never tried again."""

    def __init__(self, client: docker.DockerClient, engine: Engine, policy: RetryPolicy = DEFAULT_POLICY,
                 on_wait: OnWait = None, max_bytes: int = ENGINE_MAX_BYTES) -> None:
        self.client = client
        self.engine = engine
        self.policy = policy
        self.on_wait = on_wait
        self.max_bytes = max_bytes
        self.requests = 0
        self._lock = threading.Lock()
        bound_bodies(client.api, engine, max_bytes)

    def _url(self, exc: BaseException, fallback: str) -> str:
        for holder in (getattr(exc, "response", None), getattr(exc, "request", None)):
            url = getattr(holder, "url", None)
            if url:
                return engine_url(self.engine, str(url))
        return redact_url(f"{self.engine.host.rstrip('/')}/v{API_VERSION}{fallback}")

    def _why(self, exc: BaseException) -> str:
        return _first_line(exc, self.engine.host)

    def call(self, path: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn` is one docker-py APIClient read of `path` (for messages: the SDK builds the URL)."""
        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self.requests += 1
            retry, delay = False, self.policy.after_loss(attempt)
            error: ServiceError | None = None
            try:
                return fn(*args, **kwargs)
            except LimitExceeded:
                raise  # a limit is not a fault to try again (bound_bodies)
            except docker.errors.APIError as exc:
                status = exc.status_code
                url = self._url(exc, path)
                explained = exc.explanation if isinstance(exc.explanation, str) else ""
                cause = scrub(explained.strip(), self.engine.host)
                said = f": {cause}" if cause else ""
                if status in self.policy.statuses:
                    headers = getattr(exc.response, "headers", None) or {}
                    retry, delay = True, self.policy.after_status(attempt, headers.get("Retry-After"))
                    error = Unreachable(f"Docker engine {self.engine.describe()}: GET {url} answered {status} "
                                        f"after {attempt} tries{said}", url=url, status=status)
                else:
                    raise refusal(status, f"Docker engine {self.engine.describe()}: GET {url}", url,
                                  said=said) from None
            except (requests.exceptions.JSONDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
                # A body that is not JSON came from an engine that answered: malformed, not unreachable.
                url = self._url(exc, path)
                retry = True
                error = Malformed(f"Docker engine {self.engine.describe()}: GET {url} returned a malformed answer "
                                  f"(not complete JSON: {self._why(exc)}) after {attempt} tries", url=url)
            except (requests.exceptions.Timeout, TimeoutError) as exc:
                url = self._url(exc, path)
                retry = True
                error = Unreachable(f"Docker engine {self.engine.describe()}: GET {url} timed out after "
                                    f"{attempt} tries", url=url)
            except (requests.exceptions.RequestException, OSError) as exc:
                url = self._url(exc, path)
                retry = True
                # ssh:// runs the `ssh` binary: why it failed is what ssh printed on stderr.
                hint = "; ssh's own reason is on stderr" if self.engine.host.startswith("ssh://") else ""
                error = Unreachable(f"Docker engine {self.engine.describe()}: GET {url} unreachable after "
                                    f"{attempt} tries: {type(exc).__name__}: {self._why(exc)}{hint}", url=url)
            except docker.errors.DockerException as exc:
                url = self._url(exc, path)
                raise Unreachable(f"Docker engine {self.engine.describe()}: GET {url} failed: {self._why(exc)}",
                                  url=url) from None
            if not retry or not self.policy.again(attempt):
                assert error is not None
                raise error
            if self.on_wait is not None:
                self.on_wait(f"{error} (try {attempt} of {self.policy.tries}); trying again in {delay:g}s")
            time.sleep(delay)


def _first_line(exc: BaseException, host: str) -> str:
    """The first line of a library's error, any URL's secrets and those of `host` redacted (docker-py,
    requests and paramiko quote the address they were given)."""
    text = str(exc).strip()
    return scrub(text.splitlines()[0][:300], host) if text else type(exc).__name__


def connect(target: EngineTarget) -> docker.DockerClient:
    """A client for the engine `target` names (see resolve_engine): tcp://, unix://, or ssh://
    (through the `ssh` binary and the user's ssh config where there is one, as the CLI does;
    else paramiko). Reads through it retry as `target.policy` says."""
    engine = resolve_engine(target.docker_host, target.environ, target.source)
    host = engine.host
    ssh_binary = host.startswith("ssh://") and shutil.which("ssh") is not None
    try:
        client = docker.DockerClient(base_url=host, version=API_VERSION, timeout=max(1, round(target.timeout)),
                                     tls=engine.tls or False, use_ssh_client=ssh_binary)
    except ImportError as exc:  # docker-py's ssh transport imports paramiko, whichever way it connects
        raise ConfigError(f"Docker engine {engine.describe()}: ssh:// needs paramiko ({_first_line(exc, host)}); "
                          "install docker[ssh]") from None
    except docker.errors.DockerException as exc:
        if "paramiko" in str(exc):
            raise ConfigError(f"Docker engine {engine.describe()}: {_first_line(exc, host)} (docker[ssh])") from None
        raise Unreachable(f"Docker engine {engine.describe()}: {_first_line(exc, host)}",
                          url=redact_url(host)) from None
    if ssh_binary and urlsplit(host).port is None:
        # docker-py writes the default port 22 into the address and passes `-p 22` to ssh, which
        # overrides the user's ssh config; the CLI passes no port it was not given.
        adapter = getattr(client.api, "_custom_adapter", None)
        if adapter is not None and str(getattr(adapter, "ssh_host", "")).endswith(":22"):
            adapter.ssh_host = adapter.ssh_host[: -len(":22")]
    # The SDK rewrites unix:// and ssh:// addresses; errors should name the one the user gave.
    client.ghostgates_host = host
    client.ghostgates_reader = EngineReader(client, engine, target.policy, target.on_wait, target.max_bytes)
    return client


def read_swarm(target: EngineTarget, proxy_network: str | None = None) -> SwarmSnapshot:
    """The one Swarm reader: connect to `target`, take the snapshot (fetch_swarm), close; with
    `target.node_hosts`, each node's volumes beside it (`node_volumes`, by node name)."""
    client = connect(target)
    try:
        snapshot = fetch_swarm(client, proxy_network)
    finally:
        client.close()
    if target.node_hosts:
        snapshot["node_volumes"] = {_node_name(spec): _volumes_on(spec) for spec in target.node_hosts}
    return snapshot


def _node_name(spec: str) -> str:
    return urlsplit(spec).hostname or spec


def _volumes_on(spec: str) -> list[str]:
    from ghostgates.fetch import hostcheck  # testinfra is slow to import: only where a node is named

    try:
        return hostcheck.node_volumes(hostcheck.get_host(spec))
    except Exception as exc:  # testinfra raises its own and paramiko's errors: all mean "could not read"
        raise Unreachable(f"volumes on {redact_url(spec)}: {hostcheck.describe_host_error(exc, spec)}",
                          url=redact_url(spec)) from None


def reader_of(client: docker.DockerClient) -> EngineReader:
    reader = getattr(client, "ghostgates_reader", None)
    if reader is None:  # a client made elsewhere (the lab's own): read it the same way
        host = getattr(client.api, "base_url", "docker")
        reader = EngineReader(client, Engine(host=host, source="a client given to the suite"))
        client.ghostgates_reader = reader
    return reader


def fetch_swarm(client: docker.DockerClient, proxy_network: str | None = None) -> SwarmSnapshot:
    """Everything the Swarm rules read, in one pass; the proxy network with its verbose inspect.

    The snapshot names the engine (`engine`), whether it is an active swarm manager (`manager`,
    and `not_manager` saying why not: the rules are `error` then, never a clean pass on an empty
    list), and how many requests it took (`requests`).
    """
    api = client.api
    reader = reader_of(client)
    info = reader.call("/info", api.info)
    snapshot: dict[str, Any] = {
        "engine": reader.engine.describe(),
        "now": info.get("SystemTime"),
        "info": info,
        "manager": _is_manager(info),
        "nodes": [], "networks": [], "services": [], "tasks": [], "volumes": [], "containers": [],
        "secrets": [], "configs": [], "network_inspect": {},
    }
    if not snapshot["manager"]:
        swarm = info.get("Swarm") or {}
        state = swarm.get("LocalNodeState") or "unknown"
        what = "is in no swarm" if state == "inactive" else (
            "is a swarm worker, not a manager" if state == "active" else f"has swarm state {state!r}")
        snapshot["not_manager"] = (f"the Docker engine {reader.engine.describe()} {what} "
                                   f"(LocalNodeState {state!r}, ControlAvailable "
                                   f"{bool(swarm.get('ControlAvailable'))}): point DOCKER_HOST or "
                                   "DOCKER_CONTEXT at a swarm manager")
        snapshot["requests"] = reader.requests
        return cast(SwarmSnapshot, snapshot)
    # The reads are independent: in parallel, a remote manager's latency is paid about twice, not ten times.
    with ThreadPoolExecutor(max_workers=4) as pool:
        reads = {
            "nodes": pool.submit(reader.call, "/nodes", api.nodes),
            "networks": pool.submit(reader.call, "/networks", api.networks),
            "services": pool.submit(reader.call, "/services", api.services),
            "tasks": pool.submit(reader.call, "/tasks", api.tasks),
            "volumes": pool.submit(reader.call, "/volumes", api.volumes),
            "containers": pool.submit(reader.call, "/containers/json?all=1", api.containers, all=True),
            "secrets": pool.submit(reader.call, "/secrets", api.secrets),
            "configs": pool.submit(reader.call, "/configs", api.configs),
        }
        got = {key: future.result() for key, future in reads.items()}
    for key, value in got.items():
        expected = dict if key == "volumes" else list
        if not isinstance(value, expected):
            raise Malformed(f"Docker engine {reader.engine.describe()}: GET /{key} returned a malformed answer "
                            f"(a {type(value).__name__}, not a {expected.__name__})", url=reader.engine.host)
    snapshot.update(got)
    # The engine answers `"Volumes": null` when there are none: that is "none", not a failed read.
    snapshot["volumes"] = got["volumes"].get("Volumes") or []
    if proxy_network:
        for net in got["networks"]:
            if net.get("Name") == proxy_network:
                snapshot["network_inspect"][proxy_network] = reader.call(
                    f"/networks/{net['Id']}?verbose=1&scope=swarm", api.inspect_network, net["Id"], verbose=True,
                    scope="swarm")
    snapshot["requests"] = reader.requests
    return cast(SwarmSnapshot, snapshot)


def _is_manager(info: dict[str, Any]) -> bool:
    return bool((info.get("Swarm") or {}).get("ControlAvailable"))
