"""The docker CLI, a client nobody here wrote, against the twin serving every world.

Each command a Swarm operator runs to see what the gates see (`service ls`, `service ps --no-trunc`,
`stack ls`, `stack ps`, `network inspect --verbose`, `volume ls`, `secret ls`, `config ls`, each also
with `--format '{{json .}}'`) must succeed and show the world's objects. The CLI negotiates the
API version from /_ping's Api-Version, finds a stack's tasks with the task `label` filter (swarmkit
matches the service's labels), and parses every time the engine writes (nine fractional digits).

The CLI is the one the lab installs (Debian's docker.io) or any `docker` on PATH; without one the
tests skip, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from worldkit import ROOT, SHARED, distinct_worlds

from twin import running_twin
from twin.docker.network import host_addresses
from twin.server import TwinHandle
from twin.world import load_world

DOCKER = shutil.which("docker")
STACK_LABEL = "com.docker.stack.namespace"


# The docker CLI reads only the engine's answers (about 0.6 s a world): one world per distinct Swarm.
WORLDS = distinct_worlds(sorted((ROOT / "worlds").glob("*.yaml")) + sorted((SHARED / "worlds").glob("*.yaml")),
                         "swarm")

pytestmark = pytest.mark.skipif(DOCKER is None, reason="no docker CLI on PATH (scripts/swarm-setup.sh "
                                                          "installs Debian's docker.io)")


class Cli:
    def __init__(self, twin: TwinHandle, config_dir: Path) -> None:
        # A config dir of its own: the user's contexts and credentials play no part.
        self.env = {**os.environ, "DOCKER_HOST": twin.docker_url, "DOCKER_CONFIG": str(config_dir),
                    "DOCKER_CLI_HINTS": "false"}
        for key in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_API_VERSION"):
            self.env.pop(key, None)

    def run(self, *args: str) -> str:
        proc = subprocess.run([DOCKER or "docker", *args], env=self.env, capture_output=True, text=True,
                              timeout=30)
        assert proc.returncode == 0, f"docker {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}"
        return proc.stdout

    def json_lines(self, *args: str) -> list[dict[str, Any]]:
        out = self.run(*args, "--format", "{{json .}}")
        return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture(scope="module", params=WORLDS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def world_cli(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[dict[str, Any], Cli]]:
    world = load_world(request.param)
    with running_twin(world) as twin:
        yield world.swarm, Cli(twin, tmp_path_factory.mktemp("docker-config"))


def test_cli_sees_the_world(world_cli: tuple[dict[str, Any], Cli]) -> None:
    swarm, cli = world_cli
    services = swarm.get("services") or []
    # service ls: every service, replicas from ServiceStatus (status=true, API 1.41)
    listed = {row["Name"]: row for row in cli.json_lines("service", "ls")}
    assert set(listed) == {s["Name"] for s in services}
    assert "Name" in cli.run("service", "ls").splitlines()[0].title()
    for svc in services:
        running = sum(1 for t in svc.get("tasks") or [] if t["State"] == "running")
        assert listed[svc["Name"]]["Replicas"].startswith(f"{running}/")
        # service ps --no-trunc: the service's tasks with full ids and errors
        rows = cli.json_lines("service", "ps", "--no-trunc", svc["Name"])
        assert len(rows) == len(svc.get("tasks") or [])
        assert all(len(row["ID"]) == 25 and row["Name"].startswith(svc["Name"]) for row in rows)
        for given in svc.get("tasks") or []:
            if given.get("Err"):
                assert any(given["Err"] in row["Error"] for row in rows)
        cli.run("service", "ps", "--no-trunc", svc["Name"])
    # stack ls / stack ps: stacks are the services' namespace labels
    stacks: dict[str, list[dict[str, Any]]] = {}
    for svc in services:
        name = (svc.get("Labels") or {}).get(STACK_LABEL)
        if name:
            stacks.setdefault(name, []).append(svc)
    assert {row["Name"] for row in cli.json_lines("stack", "ls")} == set(stacks)
    cli.run("stack", "ls")
    for stack, members in stacks.items():
        tasks = sum(len(s.get("tasks") or []) for s in members)
        if tasks == 0:
            continue  # the CLI exits 1 with "nothing found in stack"
        rows = cli.json_lines("stack", "ps", stack)
        assert len(rows) == tasks, f"stack ps {stack}: {len(rows)} rows for {tasks} tasks"
        cli.run("stack", "ps", "--no-trunc", stack)
    # network inspect --verbose: the endpoints the suite counts
    for net in swarm.get("networks") or []:
        inspected = json.loads(cli.run("network", "inspect", "--verbose", net["Name"]))
        assert inspected[0]["Name"] == net["Name"]
        one = json.loads(cli.run("network", "inspect", "--verbose", "--format", "{{json .}}", net["Name"]))
        used = {e["IPv4Address"].split("/")[0] for e in (one.get("Containers") or {}).values()}
        for service in (one.get("Services") or {}).values():
            used.add(service["VIP"])
            used.update(t["EndpointIP"] for t in service["Tasks"])
        _, free, _ = host_addresses(inspected[0]["IPAM"]["Config"][0]["Subnet"])
        assert len(used) == min(int(net.get("used_addresses", 0)), len(free))
    # volume, secret, config ls
    assert {row["Name"] for row in cli.json_lines("volume", "ls")} == {v["Name"] for v in swarm.get("volumes") or []}
    cli.run("volume", "ls")
    for kind in ("secret", "config"):
        given = {o["Spec"]["Name"] for o in swarm.get(kind + "s") or []}
        assert {row["Name"] for row in cli.json_lines(kind, "ls")} == given
        cli.run(kind, "ls")
