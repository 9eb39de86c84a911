"""Run the gate suite as a user does: `python -m pytest gates ...` in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from twin import running_twin
from twin.world import load_world

ROOT = Path(__file__).resolve().parents[2]
SHARED_WORLDS = ROOT.parent / "shared" / "worlds"
DEMO = ROOT / "demo" / "world.yaml"


def world_without_files(tmp_path: Path, world: Path = DEMO) -> Path:
    """A copy of `world` whose `files:` are empty: the state dir is the test's own to fill."""
    import yaml

    data = yaml.safe_load(world.read_text())
    data["files"] = {}
    path = tmp_path / "no-files.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass
class GateRun:
    code: int
    output: str
    results: dict[str, Any]
    data: dict[str, Any]
    state_dir: Path

    def verdicts(self) -> dict[str, str]:
        return {k: v["verdict"] for k, v in self.results.items()}


@pytest.fixture
def run_gates(tmp_path: Path):
    counter = iter(range(1000))

    def run(*args: str, world: Path = DEMO, state_dir: Path | None = None, env: dict[str, str] | None = None,
            target: str = "gates", served: bool = False) -> GateRun:
        """`served`: the world served by a twin this test starts, the suite run against it as against
        live services (no --world): the state dir is then the operator's own, used as it is found
        (a --world run refuses a state dir holding files the suite did not put there)."""
        n = next(counter)
        out = tmp_path / f"gates-{n}.json"
        state = state_dir or tmp_path / f"state-{n}"
        where = [] if served else ["--world", str(world)]
        cmd = [sys.executable, "-m", "pytest", target, *where, "--state-dir", str(state),
               "--gates-json", str(out), "--html", str(tmp_path / f"gates-{n}.html"), "-q",
               "-p", "no:cacheprovider", *args]
        if served:
            with running_twin(load_world(world)) as twin:
                live = {**(env if env is not None else os.environ), "GITEA_URL": twin.gitea_url,
                        "GITEA_TOKEN": twin.gitea_token, "DRONE_SERVER": twin.drone_url,
                        "DRONE_TOKEN": twin.drone_token, "DOCKER_HOST": twin.docker_url}
                proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=live)
        else:
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
        data = json.loads(out.read_text()) if out.exists() else {}
        return GateRun(proc.returncode, proc.stdout + proc.stderr, data.get("results", {}), data, state)

    return run


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A checkout of the suite's shell in pytester's directory (the code itself is imported)."""
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, pytester.path / name)
    for folder in ("gates", "phases"):
        shutil.copytree(ROOT / folder, pytester.path / folder)
    return pytester
