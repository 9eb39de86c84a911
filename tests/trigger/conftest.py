"""Run the trigger against the twin: in-process (to see the twin's state) or as the user types it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from ghostgates.drive.workflow import Options, Outcome, Printer, Services, drive
from ghostgates.fetch.engine import EngineTarget, read_swarm
from ghostgates.fetch.http import ApiClient
from ghostgates.read.phase import Phase
from ghostgates.read.statefile import StateFile
from twin import running_twin
from twin.server import TwinHandle
from twin.world import load_world

ROOT = Path(__file__).resolve().parents[2]
WORLDS = Path(__file__).resolve().parent / "worlds"


def world_path(name: str) -> Path:
    return WORLDS / f"{name}.yaml"


@dataclass
class Drive:
    outcome: Outcome
    lines: list[str]
    twin: TwinHandle
    # What the twin held before the drive: the yardstick for "nothing was posted or started".
    builds_before: int = 0
    comments_before: tuple[int, ...] = ()
    progress: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def comments(self, number: int = 4) -> list[dict[str, Any]]:
        return self.twin.state.gitea.get_pull("recipe-maintainers", "ghost", number)["comments"]

    def builds(self) -> list[dict[str, Any]]:
        return self.twin.state.drone.list_builds("recipe-maintainers", "cc-ci")


@contextmanager
def services_for(twin: TwinHandle, phase: Phase) -> Iterator[Services]:
    gitea = ApiClient("Gitea", twin.gitea_url + "/api/v1", {"Authorization": f"token {twin.gitea_token}"})
    drone = ApiClient("Drone", twin.drone_url + "/api", {"Authorization": f"Bearer {twin.drone_token}"})

    target = EngineTarget(twin.docker_url, {}, "the twin", timeout=5)
    try:
        yield Services(gitea, drone, lambda: read_swarm(target, phase.proxy_network))
    finally:
        gitea.close()
        drone.close()


@pytest.fixture
def on_twin() -> Iterator[Callable[..., Drive]]:
    """on_twin(world, **options) -> Drive; the twin stays up until the test ends, for its state."""
    stack: list[Any] = []

    def run(world: str | Path, *, twin: TwinHandle | None = None, sleep: Callable[[float], None] | None = None,
            on_line: Callable[[str], None] | None = None, **options: Any) -> Drive:
        path = world if isinstance(world, Path) else world_path(world)
        loaded = load_world(path)
        if twin is None:
            manager = running_twin(loaded)
            twin = manager.__enter__()
            stack.append(manager)
        phase = Phase.from_mapping(loaded.phase, source=str(path))
        status = loaded.files.get("machine-docs/STATUS-ghost.md")
        state = StateFile.parse("STATUS-ghost.md", status) if status is not None else None
        lines: list[str] = []

        def show(line: str) -> None:
            lines.append(line)
            if on_line is not None:
                on_line(line)  # a test's hook: e.g. a Ctrl-C right after a given line

        printer = Printer(show)
        opts = Options(**{"interval": 0.02, **options})
        builds_before = len(twin.state.drone.list_builds("recipe-maintainers", "cc-ci"))
        pull = twin.state.gitea.get_pull("recipe-maintainers", "ghost", 4)
        comments_before = tuple(c["id"] for c in pull["comments"])
        with services_for(twin, phase) as services:
            outcome = drive(phase, state, services, opts, printer, sleep=sleep or time.sleep)
        return Drive(outcome, lines, twin, builds_before, comments_before)

    yield run
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


def world_variant(tmp_path: Path, name: str, suffix: str, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of a trigger world with one change, written beside the test."""
    data = yaml.safe_load(world_path(name).read_text())
    change(data)
    target = tmp_path / f"{name}-{suffix}.yaml"
    target.write_text(yaml.safe_dump(data, sort_keys=False, width=200))
    return target


def slowed(tmp_path: Path, name: str, speed: float) -> Path:
    """A copy of a world whose clock runs slower, so a build stays running while a test looks."""
    return world_variant(tmp_path, name, "slow", lambda data: data["bridge"].__setitem__("speed", speed))


@dataclass
class Cli:
    code: int
    output: str
    results: dict[str, Any]
    state_dir: Path | None = None


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., Cli]:
    """`python -m pytest gates/m1 --world W ...` as the Builder types it."""
    counter = iter(range(100))

    def run(world: str, *args: str) -> Cli:
        n = next(counter)
        out = tmp_path / f"gates-{n}.json"
        cmd = [sys.executable, "-m", "pytest", "gates/m1", "--world", str(world_path(world)),
               "--state-dir", str(tmp_path / f"state-{n}"), "--gates-json", str(out),
               "--html", str(tmp_path / f"gates-{n}.html"), "-q", "-p", "no:cacheprovider",
               "--watch-interval", "0.05", *args]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        results = json.loads(out.read_text()).get("results", {}) if out.exists() else {}
        return Cli(proc.returncode, proc.stdout + proc.stderr, results, tmp_path / f"state-{n}")

    return run
