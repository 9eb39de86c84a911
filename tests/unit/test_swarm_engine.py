"""Which engine the suite reads (as the docker CLI chooses it), how it reads it (bounded retries,
errors that name URL, status and cause), and what it says when that engine is no swarm manager.

The precedence is docker/cli cli/command/cli.go resolveContextName: DOCKER_HOST, then
DOCKER_CONTEXT, then config.json's currentContext, then the local socket; a context lives in
contexts/meta/<sha256(name)>/meta.json with its TLS files in contexts/tls/<sha256(name)>/docker/
(docker/cli cli/context/store). TLS from DOCKER_TLS_VERIFY / DOCKER_CERT_PATH (cli/flags).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "twin"))

from worldkit import tiny_world, write_world  # noqa: E402

from ghostgates.errors import ConfigError, Malformed, NotFound, Unreachable  # noqa: E402
from ghostgates.fetch import engine as swarm  # noqa: E402
from ghostgates.fetch.retry import RetryPolicy  # noqa: E402
from ghostgates.judge.rules.m1 import proxy_clear  # noqa: E402
from ghostgates.judge.rules.m2 import no_leaks  # noqa: E402
from ghostgates.read.phase import Phase  # noqa: E402
from twin import running_twin  # noqa: E402
from twin.docker.urls import DOCKER_FAMILIES  # noqa: E402

PHASE = Phase.from_mapping({"leak_patterns": ["ghos-*"], "proxy_network": "proxy"})


def _context(config: Path, name: str, host: str, tls: bool = False, skip_verify: bool = False) -> None:
    digest = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / digest
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(json.dumps({
        "Name": name, "Metadata": {"Description": "test"},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}}}))
    if tls:
        tls_dir = config / "contexts" / "tls" / digest / "docker"
        tls_dir.mkdir(parents=True)
        for pem in ("ca.pem", "cert.pem", "key.pem"):
            (tls_dir / pem).write_text("x")


def test_no_docker_host_reads_the_local_engine_and_says_so(tmp_path: Path) -> None:
    engine = swarm.resolve_engine(environ={"HOME": str(tmp_path)})
    assert engine.host == "unix:///var/run/docker.sock"
    assert "the local engine" in engine.describe() and "no DOCKER_HOST" in engine.describe()


def test_docker_host_wins_over_context(tmp_path: Path) -> None:
    _context(tmp_path, "prod", "tcp://prod:2376")
    env = {"DOCKER_CONFIG": str(tmp_path), "DOCKER_HOST": "tcp://10.0.0.5:2375", "DOCKER_CONTEXT": "prod"}
    engine = swarm.resolve_engine(environ=env)
    assert engine.host == "tcp://10.0.0.5:2375" and engine.source == "DOCKER_HOST"


def test_docker_context_then_current_context(tmp_path: Path) -> None:
    _context(tmp_path, "prod", "ssh://ops@manager-1")
    _context(tmp_path, "staging", "tcp://staging:2375")
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "staging"}))
    env = {"DOCKER_CONFIG": str(tmp_path)}
    assert swarm.resolve_engine(environ=env).host == "tcp://staging:2375"
    assert "currentContext" in swarm.resolve_engine(environ=env).describe()
    chosen = swarm.resolve_engine(environ={**env, "DOCKER_CONTEXT": "prod"})
    assert chosen.host == "ssh://ops@manager-1" and "'prod', from DOCKER_CONTEXT" in chosen.describe()
    # `default` is the built-in context: DOCKER_HOST or the socket
    assert swarm.resolve_engine(environ={**env, "DOCKER_CONTEXT": "default"}).host == "unix:///var/run/docker.sock"
    with pytest.raises(ConfigError, match="docker context 'nope' .* does not exist"):
        swarm.resolve_engine(environ={**env, "DOCKER_CONTEXT": "nope"})


def test_context_tls_files(tmp_path: Path) -> None:
    _context(tmp_path, "secure", "tcp://secure:2376", tls=True)
    engine = swarm.resolve_engine(environ={"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "secure"})
    assert engine.tls is not None and engine.tls.verify is True and engine.tls.ca_cert.endswith("ca.pem")
    assert "TLS verified" in engine.describe()


def test_tls_verify_and_cert_path(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    for pem in ("ca.pem", "cert.pem", "key.pem"):
        (certs / pem).write_text("x")
    env = {"DOCKER_HOST": "tcp://m:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)}
    engine = swarm.resolve_engine(environ=env)
    assert engine.tls is not None and engine.tls.cert == (str(certs / "cert.pem"), str(certs / "key.pem"))
    assert f"TLS verified with the certificates in {certs}" in engine.describe()
    # an empty DOCKER_TLS_VERIFY is off, as in the CLI
    assert swarm.resolve_engine(environ={**env, "DOCKER_TLS_VERIFY": ""}).tls is None
    (certs / "key.pem").unlink()
    with pytest.raises(ConfigError, match="without key.pem"):
        swarm.resolve_engine(environ=env)


def test_engine_description_never_raises(tmp_path: Path) -> None:
    line = swarm.engine_description(swarm.EngineTarget(environ={"DOCKER_CONFIG": str(tmp_path),
                                                                "DOCKER_CONTEXT": "gone"}))
    assert line.startswith("unresolved: docker context 'gone'")


def _world(tmp_path: Path) -> Path:
    return write_world(tmp_path / "w.yaml", tiny_world())


def _read(url: str, retries: int = 3) -> dict:
    return swarm.read_swarm(swarm.EngineTarget(url, {}, "the twin", timeout=2, policy=RetryPolicy(retries)), "proxy")


def test_snapshot_names_the_engine_and_counts_requests(tmp_path: Path) -> None:
    with running_twin(_world(tmp_path)) as twin:
        snap = _read(twin.docker_url)
    assert snap["manager"] is True and snap["engine"] == f"{twin.docker_url} (the twin)"
    assert snap["requests"] == 10  # info, eight lists, the proxy network's verbose inspect
    for verdict in (proxy_clear(snap, PHASE), no_leaks(snap, PHASE)):
        assert verdict.evidence[0] == {"kind": "engine", "name": snap["engine"], "swarm_manager": True}


@pytest.mark.parametrize("state", ["inactive", "worker"])
def test_an_engine_that_is_no_manager_is_error(tmp_path: Path, state: str) -> None:
    with running_twin(_world(tmp_path), docker_swarm=state) as twin:
        snap = _read(twin.docker_url)
    assert snap["manager"] is False and snap["services"] == []
    for verdict in (proxy_clear(snap, PHASE), no_leaks(snap, PHASE)):
        assert verdict.status == "error"
        assert twin.docker_url in verdict.reason and "swarm manager" in verdict.reason
        assert verdict.evidence == [{"kind": "engine", "name": snap["engine"], "swarm_manager": False}]


@pytest.mark.parametrize("fault", ["status=500", "status=502", "status=503:retry_after=0", "status=429:retry_after=0",
                                   "truncate", "delay=3"])
def test_transient_faults_are_retried(tmp_path: Path, fault: str) -> None:
    with running_twin(_world(tmp_path)) as twin:
        clean = _read(twin.docker_url)
    with running_twin(_world(tmp_path), faults=[f"{fault}:service=docker:path=/v1.41/tasks:times=1"]) as twin:
        snap = _read(twin.docker_url)
    assert snap["tasks"] == clean["tasks"] and snap["requests"] == clean["requests"] + 1


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    fault = "status=429:retry_after=1:service=docker:path=/v1.41/services:times=1"
    with running_twin(_world(tmp_path), faults=[fault]) as twin:
        started = time.monotonic()
        _read(twin.docker_url)
    assert time.monotonic() - started >= 1.0


@pytest.mark.parametrize(("fault", "kind", "words"), [
    ("status=502", Unreachable, "answered 502 after 3 tries"),
    ("truncate", Malformed, "malformed answer"),
    ("delay=3", Unreachable, "timed out after 3 tries"),
    ("status=404", NotFound, "answered 404"),
])
def test_persistent_faults_name_url_status_and_cause(tmp_path: Path, fault: str, kind: type, words: str) -> None:
    with running_twin(_world(tmp_path), faults=[f"{fault}:service=docker:path=/v1.41/volumes"]) as twin:
        with pytest.raises(kind) as caught:
            _read(twin.docker_url, retries=2)
    message = str(caught.value)
    assert f"GET {twin.docker_url}/v1.41/volumes" in message and words in message
    assert "(the twin)" in message


def test_a_cut_body_is_malformed_not_unreachable(tmp_path: Path) -> None:
    with running_twin(_world(tmp_path), faults=["truncate:service=docker:path=/v1.41/info"]) as twin:
        with pytest.raises(Malformed, match="GET .*/v1.41/info returned a malformed answer"):
            _read(twin.docker_url, retries=1)


def test_nothing_listening_is_unreachable() -> None:
    with pytest.raises(Unreachable, match=r"GET tcp://127.0.0.1:9/v1.41/info unreachable after 2 tries"):
        _read("tcp://127.0.0.1:9", retries=1)


@pytest.mark.parametrize("family", sorted(DOCKER_FAMILIES))
def test_every_docker_family_transient_and_persistent(tmp_path: Path, family: str) -> None:
    """Each endpoint family the suite reads: one 503 is retried to the clean snapshot; a 500 that
    persists is an error naming the URL and the status, never a snapshot with that part empty."""
    path = DOCKER_FAMILIES[family]
    with running_twin(_world(tmp_path)) as twin:
        clean = _read(twin.docker_url)
    once = f"status=503:retry_after=0:service=docker:path={path}:times=1"
    with running_twin(_world(tmp_path), faults=[once]) as twin:
        again = _read(twin.docker_url)
    skip = ("requests", "engine")  # one more request; another port
    assert {k: v for k, v in again.items() if k not in skip} == {k: v for k, v in clean.items() if k not in skip}
    assert again["requests"] == clean["requests"] + 1
    with running_twin(_world(tmp_path), faults=[f"status=500:service=docker:path={path}"]) as twin:
        with pytest.raises(Unreachable, match=r"GET tcp://127\.0\.0\.1:\d+/v1\.41/\S+ answered 500 after 2 tries"):
            _read(twin.docker_url, retries=1)


@pytest.mark.skipif(__import__("shutil").which("docker") is None, reason="no docker CLI to make a context with")
def test_a_context_the_docker_cli_made_is_read(tmp_path: Path) -> None:
    """The store layout is the CLI's own: `docker context create` / `docker context use` write it."""
    import subprocess

    env = {"DOCKER_CONFIG": str(tmp_path), "PATH": __import__("os").environ.get("PATH", ""), "HOME": str(tmp_path)}
    subprocess.run(["docker", "context", "create", "manager-1", "--docker", "host=ssh://ops@manager-1"],
                   env=env, check=True, capture_output=True)
    assert swarm.resolve_engine(environ={**env, "DOCKER_CONTEXT": "manager-1"}).host == "ssh://ops@manager-1"
    subprocess.run(["docker", "context", "use", "manager-1"], env=env, check=True, capture_output=True)
    engine = swarm.resolve_engine(environ=env)
    assert engine.host == "ssh://ops@manager-1" and "currentContext" in engine.source
