"""Usage errors stop a gate run before it reads anything (gates.md, corner cases; issue 13, 10)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECORD = ("## M1: State inventory and clean retry: PASS\n"
          "<!-- gate-record gate=M1 verdict=PASS role=adversary head=" + "a" * 40 + " build=1 "
          "at=2026-07-15T20:00:00Z -->\n<!-- /gate-record gate=M1 -->\n")


def gates(tmp: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "gates", "--state-dir", str(tmp), "--gates-json", str(tmp / "g.json"),
           "--html", str(tmp / "r.html"), "-q", "-p", "no:cacheprovider", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("missing", ["GITEA_URL", "DRONE_SERVER"])
def test_missing_service_address_is_a_usage_error_that_writes_nothing(tmp_path: Path, missing: str) -> None:
    review = tmp_path / "REVIEW-ghost.md"
    review.write_text(RECORD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("GITEA_URL", "DRONE_SERVER")}
    if missing == "DRONE_SERVER":
        env["GITEA_URL"] = "http://127.0.0.1:9"  # nothing listens: reading it would fail loudly
    proc = gates(tmp_path, env=env)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert f"{missing} is not set" in proc.stderr
    assert review.read_text(encoding="utf-8") == RECORD
    assert not (tmp_path / "g.json").exists()


def test_required_phase_key_missing_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    text = (ROOT / "phases" / "ghost.toml").read_text(encoding="utf-8")
    phase = tmp_path / "phase.toml"
    phase.write_text("\n".join(line for line in text.splitlines() if not line.startswith("proxy_fixed_at")),
                     encoding="utf-8")
    env = {**os.environ, "GITEA_URL": "http://127.0.0.1:9", "DRONE_SERVER": "http://127.0.0.1:9"}
    proc = gates(tmp_path, "--phase", str(phase), env=env)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert f"{phase}: proxy_fixed_at: phase key missing" in proc.stderr
