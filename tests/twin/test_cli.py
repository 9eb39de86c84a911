"""`python -m twin serve` as a subprocess: ready line, serving, clean exit on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
from worldkit import ROOT

ENV_CWD = str(ROOT)


def test_serve_ready_line_and_sigterm(world_file) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "twin", "serve", str(world_file()), "--latency-ms", "1",
         "--fault", "status=503:path=/api/v1/version:times=1"],
        cwd=ENV_CWD, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        ready = json.loads(proc.stdout.readline())
        assert set(ready) == {"gitea", "drone", "docker", "gitea_token", "drone_token"}
        assert ready["docker"].startswith("tcp://127.0.0.1:")
        assert httpx.get(ready["gitea"] + "/api/v1/version").status_code == 503
        assert httpx.get(ready["gitea"] + "/api/v1/version").status_code == 200
        drone = httpx.get(ready["drone"] + "/api/user", headers={"Authorization": f"Bearer {ready['drone_token']}"})
        assert drone.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_bad_world_and_bad_fault_and_remote(tmp_path, world_file) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("world: [\n")
    run = subprocess.run([sys.executable, "-m", "twin", "serve", str(bad)], cwd=ENV_CWD, capture_output=True, text=True)
    assert run.returncode == 2 and "bad YAML" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    run = subprocess.run([sys.executable, "-m", "twin", "serve", str(world_file()), "--fault", "nope"],
                         cwd=ENV_CWD, capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 2 and "unknown kind 'nope'" in run.stderr
    run = subprocess.run([sys.executable, "-m", "twin", "serve", str(world_file()), "--host", "192.0.2.1"],
                         cwd=ENV_CWD, capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 2 and "not a loopback address" in run.stderr


def test_help_documents_fault_grammar() -> None:
    run = subprocess.run([sys.executable, "-m", "twin", "serve", "--help"], cwd=ENV_CWD, capture_output=True, text=True)
    assert run.returncode == 0 and "status=CODE" in run.stdout and "truncate" in run.stdout
