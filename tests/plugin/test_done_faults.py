"""DONE.signed when a persistent fault leaves M1 or M2 unchecked (issue 18): `error`, never `fail`.

gates.md: `error` (the suite could not find out) is never reported as pass or fail. A run that
checks M1 and M2 as the adversary judges DONE.signed against the records it writes; a gate whose
requirements are `error` (none `fail`) is recorded FAIL (it cannot pass), and that FAIL is no
verdict on the phase: DONE.signed could not know either. tests/worlds/test_faults.py holds the
fault matrix for the requirements themselves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .conftest import DEMO

DOCKER_DOWN = ("--twin-fault", "status=500:service=docker", "--http-retries", "1")


def _green(tmp_path: Path, name: str, **phase: Any) -> Path:
    world = yaml.safe_load(DEMO.read_text())
    world["swarm"]["volumes"] = [v for v in world["swarm"]["volumes"] if not v["Name"].startswith("dev-ghost")]
    world["files"]["machine-docs/REVIEW-ghost.md"] = "# REVIEW: ghost\n"
    world["phase"].update(phase)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(world, sort_keys=False))
    return path


def test_a_persistent_docker_fault_makes_done_error_not_fail(run_gates, tmp_path: Path) -> None:
    run = run_gates(*DOCKER_DOWN, world=_green(tmp_path, "green"))
    for rid in ("M1.proxy-clear", "M2.no-leaks"):
        assert run.results[rid]["verdict"] == "error", run.results[rid]
    done = run.results["DONE.signed"]
    assert done["verdict"] == "error", done
    assert "M1.proxy-clear" in done["reason"] and "M2.no-leaks" in done["reason"]


def test_a_failure_found_beside_the_fault_still_fails_done(run_gates, tmp_path: Path) -> None:
    # The same fault, and M1.attempt-budget fails on its own (a limit of 0): M1's FAIL is a verdict.
    run = run_gates(*DOCKER_DOWN, world=_green(tmp_path, "over-budget", max_post_proxy_attempts=0))
    assert run.results["M1.attempt-budget"]["verdict"] == "fail", run.results["M1.attempt-budget"]
    done = run.results["DONE.signed"]
    assert done["verdict"] == "fail", done
    assert "M1 is FAIL by adversary" in done["reason"]
