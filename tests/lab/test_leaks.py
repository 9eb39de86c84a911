"""M2.no-leaks on a real engine: stacks left behind by CI and by a developer.

`ghos-<6 hex>_ci_example_org` is deployed the way CI deploys it (`docker stack deploy -c`);
`dev-ghost` is made with the SDK and the `com.docker.stack.namespace` label, as the CLI does.
Each has a service, a network, a volume, a secret, a config and a stopped container. Names that
only look alike (`ghost-blog`, `my-ghos-notes`) must never be reported.

`docker stack rm` removes services, networks, secrets and configs, not volumes nor containers
made outside the stack, and it returns before the engine has finished: the check right after it
polls to a deadline and prints what it saw on the way.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from ghostgates.fetch.engine import EngineTarget, read_swarm
from ghostgates.judge.rules.m2 import no_leaks
from ghostgates.read.phase import load_phase

from .conftest import IMAGE, STACK_LABEL, Lab, docker_host, note, running_replicas, wait_for

LOOKALIKES = ("ghost-blog", "my-ghos-notes")
COMPOSE = """\
version: "3.8"
services:
  app:
    image: {image}
    command: ["sleep", "1d"]
    stop_grace_period: 1s
    labels: {{ghostgates.lab: "1"}}
    deploy:
      labels: {{ghostgates.lab: "1"}}
    volumes: ["content:/data"]
    networks: [internal]
    secrets: [db_password]
    configs: [{{source: ghost_conf, target: /ghost.conf}}]
volumes:
  content:
    labels: {{ghostgates.lab: "1"}}
networks:
  internal:
    driver: overlay
    labels: {{ghostgates.lab: "1"}}
secrets:
  db_password:
    file: ./db_password
    labels: {{ghostgates.lab: "1"}}
configs:
  ghost_conf:
    file: ./ghost.conf
    labels: {{ghostgates.lab: "1"}}
"""


def _docker_cli(*args: str, cwd: Path | None = None) -> str:
    cli = shutil.which("docker")
    assert cli, "no docker CLI"
    env = {**os.environ, "DOCKER_HOST": docker_host()}
    out = subprocess.run([cli, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"docker {' '.join(args)}: {out.stderr}"
    return out.stdout + out.stderr


def _leaks() -> tuple[Any, set[tuple[str, str]]]:
    phase = load_phase(Path(__file__).resolve().parents[2] / "phases" / "ghost.toml", None, "lab")
    verdict = no_leaks(read_swarm(EngineTarget(docker_host())), phase)
    # the engine item names where the Swarm was read; the rest are the leaks
    assert verdict.evidence[0]["kind"] == "engine" and verdict.evidence[0]["swarm_manager"] is True
    return verdict, {(e["kind"], e["name"]) for e in verdict.evidence if e["kind"] not in ("patterns", "engine")}


def _exists(engine: docker.DockerClient, kind: str, name: str) -> bool:
    getter = {"volume": engine.volumes.get, "network": engine.networks.get, "secret": engine.secrets.get,
              "config": engine.configs.get, "container": engine.containers.get, "service": engine.services.get}
    try:
        getter[kind](name)
    except docker.errors.NotFound:
        return False
    return True


def test_leaked_stacks_listed_by_kind_and_name_until_removed(
        lab: Lab, engine: docker.DockerClient, tmp_path: Path, record_property: Any) -> None:
    if not shutil.which("docker"):
        pytest.skip("no docker CLI for `docker stack deploy`")
    for name in (*LOOKALIKES, "dev-ghost_app"):
        for kind in ("volume", "network", "service"):
            if _exists(engine, kind, name):
                pytest.skip(f"a {kind} named {name} exists on this engine and is not the lab's")
    api = engine.api
    ci = f"ghos-{secrets.token_hex(3)}_ci_example_org"
    dev = "dev-ghost"

    # CI's stack, as CI deploys it
    (tmp_path / "compose.yml").write_text(COMPOSE.format(image=IMAGE))
    (tmp_path / "db_password").write_text("lab-only\n")
    (tmp_path / "ghost.conf").write_text("url = http://localhost\n")
    for kind, name in (("service", f"{ci}_app"), ("secret", f"{ci}_db_password"),
                       ("config", f"{ci}_ghost_conf"), ("network", f"{ci}_internal"),
                       ("volume", f"{ci}_content")):
        lab.track(kind, name)
    _docker_cli("stack", "deploy", "--resolve-image", "never", "-c", "compose.yml", ci, cwd=tmp_path)

    # a developer's stack, made the way the CLI labels one
    ns = {STACK_LABEL: dev}
    lab.network(f"{dev}_default", labels=ns)
    lab.volume(f"{dev}_content", labels=ns)
    lab.secret(f"{dev}_db_password", b"lab-only", labels=ns)
    lab.config(f"{dev}_ghost_conf", b"url = http://localhost", labels=ns)
    lab.service(f"{dev}_app", ["sleep", "1d"], networks=[f"{dev}_default"], labels=ns,
                mounts=[f"{dev}_content:/data:rw"])
    # stopped containers: a CI smoke run and a developer's one-off migration
    lab.stopped_container(f"{ci}_smoke")
    lab.stopped_container(f"{dev}_migrate", labels=ns)
    # names that only look alike
    for name in LOOKALIKES:
        lab.volume(name)
        lab.secret(name, b"x")
        lab.config(name, b"x")
    lab.network("my-ghos-notes")
    lab.stopped_container("ghost-blog")

    for svc in (f"{ci}_app", f"{dev}_app"):
        wait_for(f"{svc} running", lambda svc=svc: running_replicas(api, svc) == 1, 30)
    wait_for(f"{ci}_content volume created by the task", lambda: _exists(engine, "volume", f"{ci}_content"), 10)

    verdict, found = _leaks()
    note(f"\n[leaks] M2.no-leaks: {verdict.status}: {verdict.reason}")
    for kind, name in sorted(found):
        note(f"  {kind:9} {name}")
    record_property("leaks_found", sorted(found))
    assert verdict.status == "fail"
    for stack in (ci, dev):
        expected = {("stack", stack), ("service", f"{stack}_app"), ("volume", f"{stack}_content")}
        expected |= {("network", f"{stack}_internal" if stack == ci else f"{stack}_default"),
                     ("secret", f"{stack}_db_password"), ("config", f"{stack}_ghost_conf"),
                     ("container", f"{stack}_smoke" if stack == ci else f"{stack}_migrate")}
        missing = expected - found
        assert not missing, f"no-leaks did not report {sorted(missing)}"
        assert any(k == "container" and n.startswith(f"{stack}_app.1.") for k, n in found), \
            "the running task container is a leak too"
    lookalike_hits = [(k, n) for k, n in found if any(n.startswith(x) for x in LOOKALIKES)]
    assert not lookalike_hits, lookalike_hits
    assert not any(n in verdict.reason for n in LOOKALIKES)

    # tear down the way an operator would: docker stack rm, which returns before the engine is done
    t0 = time.monotonic()
    note(_docker_cli("stack", "rm", ci, dev).strip().replace("\n", "; "))
    right_after, seen = _leaks()
    note(f"[leaks] right after `docker stack rm` ({time.monotonic() - t0:.1f}s): "
          f"{len(seen)} left: {sorted(seen)}")
    # what stack rm leaves: the volumes, the containers made outside the stack, and so the stacks
    # themselves (their namespace label is still on those volumes and containers)
    survivors = {("volume", f"{ci}_content"), ("volume", f"{dev}_content"),
                 ("container", f"{ci}_smoke"), ("container", f"{dev}_migrate"),
                 ("stack", ci), ("stack", dev)}
    last: list[set[tuple[str, str]]] = [seen]

    def settled() -> set[tuple[str, str]] | None:
        last[0] = _leaks()[1]
        return last[0] if last[0] == survivors else None

    try:
        left = wait_for("docker stack rm to finish (all but volumes and loose containers gone)", settled, 30)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last seen: {sorted(last[0])}, expected {sorted(survivors)}") from None
    note(f"[leaks] stack rm settled after {time.monotonic() - t0:.1f}s (polled to a 30s deadline); "
          f"left, as `docker stack rm` leaves them: {sorted(left)}")
    record_property("leaks_after_stack_rm", sorted(left))

    for kind, name in sorted(left, key=lambda kn: kn[0] != "container"):  # containers before volumes
        if kind == "container":
            api.remove_container(name, force=True)
        elif kind == "volume":
            api.remove_volume(name)
    passed = wait_for("no-leaks to pass", lambda: v if (v := _leaks()[0]).status == "pass" else None, 30)
    note(f"[leaks] after removing them ({time.monotonic() - t0:.1f}s): {passed.status}: {passed.reason}")
    # the look-alikes are still there, and still not leaks
    assert all(_exists(engine, "volume", n) for n in LOOKALIKES)
