"""The resume hint works when copied (issue 19, case 4).

Ctrl-C while a `--world` run watched its build printed `pytest gates/m1 --world ... --watch-build 55`:
a bare `pytest` (not the project's interpreter), and a fresh twin in which build #55 does not
exist. Now the hint names the interpreter the run used, and under `--world` says how to serve the
world instead; here each printed command is run as the user would paste it (in one shell), up to
the served run's own hint, which watches build #55 in the served twin.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ghostgates.drive import trigger
from ghostgates.drive.workflow import interpreter

ROOT = Path(__file__).resolve().parents[2]
GREEN = ROOT / "tests" / "trigger" / "worlds" / "green.yaml"
SHELL_VARS = ("GITEA_URL", "GITEA_TOKEN", "DRONE_SERVER", "DRONE_TOKEN", "DOCKER_HOST")


class Running:
    """A command whose output is collected line by line while it runs."""

    def __init__(self, argv: list[str] | str, env: dict[str, str], shell: bool = False) -> None:
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, shell=shell, text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            if time.monotonic() > deadline or self.proc.poll() is not None and not self._reader.is_alive():
                raise AssertionError(f"never printed {text!r}:\n" + "\n".join(self.lines))
            time.sleep(0.05)

    def interrupt(self) -> str:
        os.killpg(self.proc.pid, signal.SIGINT)  # Ctrl-C reaches the terminal's whole process group
        self.proc.wait(timeout=60)
        self._reader.join(timeout=10)
        return "\n".join(self.lines)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)


@pytest.fixture
def processes() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for running in reversed(started):
        running.stop()


def _slow_world(tmp_path: Path) -> Path:
    data = yaml.safe_load(GREEN.read_text())
    data["bridge"]["speed"] = 6  # the build runs for minutes: it is still running when Ctrl-C comes
    path = tmp_path / "green-slow.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=200))
    return path


def _shell_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SHELL_VARS}


def test_the_copied_hint_of_a_world_run_resumes_against_a_served_twin(tmp_path: Path,
                                                                      processes: list[Running]) -> None:
    world, state = _slow_world(tmp_path), tmp_path / "state"
    reports = ["--gates-json", str(tmp_path / "g.json"), "--html", str(tmp_path / "g.html"), "-p", "no:cacheprovider"]
    first = Running([interpreter(), "-m", "pytest", "gates/m1", "--world", str(world), "--state-dir", str(state),
                     "--trigger-testme", "--yes", "--watch-interval", "0.1", *reports], _shell_env())
    processes.append(first)
    first.wait_for("trigger: the bridge started build #55")
    text = first.interrupt()
    assert first.proc.returncode == 2, text
    found = re.search(r"serve the world in another terminal with `([^`]+)`, then run `([^`]+)`", text)
    assert found, text
    serve, run = found.groups()
    assert "build #55 with it, so there is nothing to resume" in text
    assert run.split("; ", 1)[1].startswith(f"{interpreter()} -m pytest gates/m1 ")
    assert "--world" not in run and f"--state-dir {state}" in run

    # First command, pasted in another terminal: the world served, its files in the state dir.
    served = Running(shlex.split(serve), _shell_env())
    processes.append(served)
    served.wait_for('"gitea": "http://127.0.0.1:')
    ready = json.loads(served.lines[0])
    assert ready["gitea_token"] == trigger.SERVED_TOKENS[0]

    # Second command, then Ctrl-C, then the hint that run printed: one shell, as the user has it.
    second = Running(["bash", "-c", f"{run}"], _shell_env())
    processes.append(second)
    second.wait_for("trigger: the bridge started build #55")
    text = second.interrupt()
    resume = re.search(r"Resume watching with `([^`]+)`", text)
    assert resume, text
    hint = resume.group(1)
    assert hint.startswith(f"{interpreter()} -m pytest gates/m1 ") and hint.endswith("--watch-build 55")
    exports = run.split("; ", 1)[0]
    third = Running(["bash", "-c", f"{exports}; {hint} --watch-timeout 1"], _shell_env())
    processes.append(third)
    third.proc.wait(timeout=120)
    third._reader.join(timeout=10)
    text = "\n".join(third.lines)
    assert "trigger: watching build #55 (nothing is posted)" in text, text
    assert "trigger: build #55 still running after 1s of watching" in text, text
    assert "M1: " in text, text  # and on to the gates, as the resumed watch does


def test_the_hint_names_the_interpreter_and_keeps_every_option() -> None:
    args = ("gates/m1", "--state-dir", "my docs", "--trigger-testme", "--yes")
    assert trigger.resume_hint(55, args, ".venv/bin/python") == (
        ".venv/bin/python -m pytest gates/m1 --state-dir 'my docs' --watch-build 55")
    assert trigger.resume_hint(55, args, "/opt/my python/bin/python").startswith("'/opt/my python/bin/python' -m ")


def test_a_world_run_without_a_state_dir_names_one_for_the_served_twin() -> None:
    args = ("gates/m1", "--world", "w.yaml", "--twin-fault", "delay=1", "--trigger-testme", "--yes")
    hint = trigger.served_hint(55, args, "py", trigger.Served(9000))
    assert "`py -m twin serve w.yaml --port 9000 --gitea-token twin-gitea --drone-token twin-drone " \
           "--state-dir ghost-gates-twin-state`" in hint
    assert ("`export GITEA_URL=http://127.0.0.1:9000 GITEA_TOKEN=twin-gitea DRONE_SERVER=http://127.0.0.1:9001 "
            "DRONE_TOKEN=twin-drone DOCKER_HOST=tcp://127.0.0.1:9002; py -m pytest gates/m1 --trigger-testme --yes "
            "--state-dir ghost-gates-twin-state`") in hint
    assert trigger.world_of_args(("--world=x.yaml",)) == "x.yaml" and trigger.world_of_args(("gates",)) is None


def test_the_interpreter_is_the_one_running() -> None:
    assert Path(interpreter()).resolve() == Path(sys.executable).resolve()
