"""A gate run against a world served by `python -m twin serve` in a process of its own.

`pytest gates --world W` serves the twin inside the run's own process, so the twin's rendering
and the suite's parsing share one GIL: at x16 the twin spends seconds of CPU on the big lists,
and an answer the plan had in flight waits on the suite's own work (or the other way round),
which the chain depth counts as a dependent round trip. Live services run apart from the suite;
so does the twin here, as the CI examples and the resume hint run it (GITEA_URL, DRONE_SERVER,
DOCKER_HOST and the tokens in the environment, the world's phase block as the phase file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from twin.faults import REQUEST_LOG_ENV

ROOT = Path(__file__).resolve().parents[1]


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))  # a JSON string is a TOML basic string (dates stay text, as in phases/)


def phase_toml(block: dict[str, Any]) -> str:
    """A world's `phase:` block as a phase file (every key at the top, tables inline)."""
    return "".join(f"{json.dumps(str(key))} = {toml_value(value)}\n" for key, value in block.items())


def served_run(world: Path, latency: int, tmp: Path, log: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Serve `world` at `latency` ms (its request log to `log`) and run the gates against it."""
    data = yaml.load(world.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    phase = tmp / "phase.toml"
    phase.write_text(phase_toml(data["phase"]), encoding="utf-8")
    state = tmp / "state"
    twin = subprocess.Popen(
        [sys.executable, "-m", "twin", "serve", str(world), "--latency-ms", str(latency), "--state-dir", str(state)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, REQUEST_LOG_ENV: str(log)})
    try:
        assert twin.stdout is not None
        ready = json.loads(twin.stdout.readline() or "{}")
        if "gitea" not in ready:
            raise SystemExit(f"twin serve {world} did not start")
        env = {**os.environ, "GITEA_URL": ready["gitea"], "GITEA_TOKEN": ready["gitea_token"],
               "DRONE_SERVER": ready["drone"], "DRONE_TOKEN": ready["drone_token"], "DOCKER_HOST": ready["docker"]}
        env.pop(REQUEST_LOG_ENV, None)
        cmd = [sys.executable, "-m", "pytest", "gates", "--phase", str(phase), "--state-dir", str(state),
               "--gates-json", str(out), "--role", "builder", "-q", "-p", "no:cacheprovider",
               "--html", str(tmp / "r.html")]
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    finally:
        twin.terminate()
        twin.wait(timeout=30)
