"""The CI examples (ci/drone.example.yml, ci/gitea-actions.example.yml) parse, and the exact commands
of their `gates` step run green against a served twin (`python -m twin serve WORLD`), keeping the
three reports.

The commands run as the CI hands them to the shell: Drone turns `$$` into `$` and runs the step's
commands as one `sh -e` script (drone-runner-docker, engine/compiler/shell/posix); Gitea and
Forgejo Actions run a `run:` block with `bash -e` (act_runner, GitHub's `shell: bash` default
without an explicit shell). The step before (`state`) clones the repository that holds
machine-docs/; here the test lays the world's files there instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ghostgates.catalogue import ALL
from ghostgates.record import review

from .conftest import DEMO, ROOT

DRONE = ROOT / "ci" / "drone.example.yml"
ACTIONS = ROOT / "ci" / "gitea-actions.example.yml"
SECRETS = ("GITEA_URL", "GITEA_TOKEN", "DRONE_SERVER", "DRONE_TOKEN", "DOCKER_HOST")


def _step(steps: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(step for step in steps if step.get("name") == name)


def test_the_drone_pipeline_parses_and_reads_the_services_from_secrets():
    pipeline = yaml.safe_load(DRONE.read_text())
    assert (pipeline["kind"], pipeline["type"]) == ("pipeline", "docker")
    gates = _step(pipeline["steps"], "gates")
    for name in SECRETS:
        assert gates["environment"][name] == {"from_secret": name.lower()}, name
    assert gates["environment"]["GATES_ROLE"] == "builder"
    keep = _step(pipeline["steps"], "keep-reports")
    assert keep["when"]["status"] == ["success", "failure"]  # the reports are kept whatever the verdict
    assert keep["settings"]["source"].startswith("reports/")


def test_the_actions_workflow_parses_and_reads_the_services_from_secrets():
    workflow = yaml.safe_load(ACTIONS.read_text())
    job = workflow["jobs"]["gates"]
    gates = _step(job["steps"], "gates")
    for name in SECRETS:
        assert gates["env"][name] == "${{ secrets." + name + " }}", name
    keep = _step(job["steps"], "keep-reports")
    assert keep["if"] == "always()" and keep["with"]["path"] == "reports/"


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The demo world without its leak (every requirement passes), served as live services are."""
    world = yaml.safe_load(DEMO.read_text())
    world["swarm"]["volumes"] = [v for v in world["swarm"]["volumes"] if not v["Name"].startswith("dev-ghost")]
    path = tmp_path / "green.yaml"
    path.write_text(yaml.safe_dump(world, sort_keys=False))
    proc = subprocess.Popen([sys.executable, "-m", "twin", "serve", str(path)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        yield {"GITEA_URL": ready["gitea"], "GITEA_TOKEN": ready["gitea_token"], "DRONE_SERVER": ready["drone"],
               "DRONE_TOKEN": ready["drone_token"], "DOCKER_HOST": ready["docker"], "_world": str(path)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _checkout(tmp_path: Path, world: str) -> Path:
    """The suite's checkout as the pipeline sees it after `install` and `state`."""
    root = tmp_path / "checkout"
    root.mkdir()
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, root / name)
    for folder in ("gates", "phases", "scripts"):
        shutil.copytree(ROOT / folder, root / folder)
    (root / ".venv").symlink_to(Path(sys.executable).parents[1])  # what `bash scripts/setup.sh` made
    docs = root / "machine-docs"
    docs.mkdir()
    for name, text in yaml.safe_load(Path(world).read_text())["files"].items():
        target = docs / Path(name).name
        target.write_text(text)
    return root


def _env(twin: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITEA_", "DRONE_", "DOCKER_", "GATES_"))}
    env.update({k: v for k, v in twin.items() if not k.startswith("_")})
    env["PYTHONPATH"] = str(ROOT)  # the suite's packages; the checkout above is its shell
    env.update(extra)
    return env


def _check_reports(root: Path) -> dict[str, Any]:
    reports = root / "reports"
    assert sorted(p.name for p in reports.iterdir()) == ["gates.html", "gates.json", "junit.xml"]
    data = json.loads((reports / "gates.json").read_text())
    assert {rid: r["verdict"] for rid, r in data["results"].items()} == dict.fromkeys(ALL, "pass")
    cases = list(ET.parse(reports / "junit.xml").iter("testcase"))
    assert len(cases) == len(ALL)
    assert "Content-Security-Policy" in (reports / "gates.html").read_text()
    return data


@pytest.mark.parametrize("role", ["builder", "adversary"])
def test_the_drone_gates_step_runs_green_against_a_served_twin(twin: dict[str, str], tmp_path: Path, role: str):
    pipeline = yaml.safe_load(DRONE.read_text())
    step = _step(pipeline["steps"], "gates")
    script = "\n".join(step["commands"]).replace("$$", "$")  # Drone's own escape for the shell's `$`
    root = _checkout(tmp_path, twin["_world"])
    review_before = (root / "machine-docs" / "REVIEW-ghost.md").read_text()
    env = _env(twin, {k: str(v) for k, v in step["environment"].items() if not isinstance(v, dict)})
    env["GATES_ROLE"] = role
    proc = subprocess.run(["sh", "-e", "-c", script], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert re.search(r"^M1: PASS \(7/7\)", proc.stdout, re.M) and re.search(r"^M2: PASS \(10/10\)", proc.stdout, re.M)
    data = _check_reports(root)
    assert data["role"] == role
    after = (root / "machine-docs" / "REVIEW-ghost.md").read_text()
    if role == "builder":
        assert after == review_before  # the read-only check
    else:
        recs = review.records(after)
        assert recs["M1"].role == recs["M2"].role == "adversary"


def test_the_actions_gates_step_runs_green_against_a_served_twin(twin: dict[str, str], tmp_path: Path):
    workflow = yaml.safe_load(ACTIONS.read_text())
    job = workflow["jobs"]["gates"]
    step = _step(job["steps"], "gates")
    root = _checkout(tmp_path, twin["_world"])
    env = _env(twin, {**job["env"], "GATES_SIGN_KEY": ""})
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = _check_reports(root)
    assert data["role"] == "builder"
