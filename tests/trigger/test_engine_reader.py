"""The trigger reads the Swarm through the gate run's own engine reader (ghostgates.fetch.engine.read_swarm
over target_for(settings)): the twin's plain engine for --world, whatever DOCKER_TLS_VERIFY says, with
the run's --http-retries (issue 16 item 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ghostgates.drive.workflow import DRY_RUN, REFUSED

from .conftest import ROOT, world_path


def _trigger(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "gates/m1", "--world", str(world_path("green")), "--state-dir",
           str(tmp_path / "state"), "--gates-json", str(tmp_path / "gates.json"), "-q", "-p", "no:cacheprovider",
           "--trigger-testme", *args]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, env={**clean, **(env or {})})


def test_the_trigger_reads_the_twins_engine_whatever_tls_says(tmp_path: Path) -> None:
    # DOCKER_TLS_VERIFY turns TLS on for the user's engine (cli/flags); the twin's engine is plain HTTP.
    certs = tmp_path / "certs"
    certs.mkdir()
    run = _trigger(tmp_path, env={"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(certs)})
    assert run.returncode == DRY_RUN, run.stdout[-2000:] + run.stderr[-2000:]


@pytest.mark.parametrize(("retries", "code"), [("0", REFUSED), ("1", DRY_RUN)])
def test_the_trigger_honours_http_retries(tmp_path: Path, retries: str, code: int) -> None:
    fault = "status=503:retry_after=0:service=docker:path=/v1.41/info:times=1"
    run = _trigger(tmp_path, "--http-retries", retries, "--twin-fault", fault)
    assert run.returncode == code, run.stdout[-2000:] + run.stderr[-2000:]
    if code == REFUSED:
        assert "answered 503 after 1 tries" in run.stdout + run.stderr
