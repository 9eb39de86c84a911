"""Secrets in a URL's userinfo never reach an output (issue 19 item 10, issue 16 item 7).

DOCKER_HOST=tcp://user:secret@host, GITEA_URL=https://tok:secret@host, --engine-host
ssh://u:secret@host, --node-hosts ssh://n:secret@host: the terminal, the review file, gates.json,
the HTML report and the JUnit file are searched for the secret, including where the library
underneath (httpx, docker-py, testinfra, which runs `sshpass -p PASSWORD`) quotes it in its error.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "world.yaml"
SECRET = "Zq7hidden"


def _outputs(tmp_path: Path, args: list[str], env: dict[str, str], writes: bool = True) -> dict[str, str]:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "pytest", "gates", "--state-dir", str(state), "--gates-json",
           str(tmp_path / "gates.json"), "--html", str(tmp_path / "gates.html"), "--junitxml", str(tmp_path / "j.xml"),
           "-p", "no:cacheprovider", "--http-retries", "0", "-rA", *args]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITEA_", "DRONE_", "DOCKER_"))}
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**clean, **env})
    files = {"gates.json": tmp_path / "gates.json", "HTML": tmp_path / "gates.html", "JUnit": tmp_path / "j.xml",
             "review file": state / "REVIEW-ghost.md"}
    found = {name: path.read_text(encoding="utf-8") for name, path in files.items() if path.exists()}
    if writes:
        assert set(found) == set(files), f"not written: {set(files) - set(found)}\n{proc.stdout[-3000:]}"
    else:  # refused before anything is decided (gates.md): nothing written, exit 4
        assert proc.returncode == 4 and not found, (proc.returncode, set(found), proc.stdout[-3000:])
    return {"terminal": proc.stdout + proc.stderr, **found}


@pytest.mark.parametrize(("args", "env", "shown"), [
    pytest.param(["--world", str(DEMO), "--swarm", "env"], {"DOCKER_HOST": f"ssh://ops:{SECRET}@127.0.0.1:1"},
                 ["ssh://ops:***@127.0.0.1:1"], id="docker-host-ssh"),
    pytest.param(["--world", str(DEMO), "--swarm", "env"], {"DOCKER_HOST": f"tcp://user:{SECRET}@127.0.0.1:9"},
                 ["tcp://***@127.0.0.1:9"], id="docker-host"),
    pytest.param(["--world", str(DEMO), "--engine-host", f"ssh://u:{SECRET}@127.0.0.1:1"], {},
                 ["engine log on ssh://u:***@127.0.0.1:1"], id="engine-host"),
    pytest.param(["--world", str(DEMO), "--node-hosts", f"ssh://n:{SECRET}@127.0.0.1:1"], {},
                 ["volumes on ssh://n:***@127.0.0.1:1"], id="node-hosts"),
])
def test_no_output_shows_a_urls_secret(tmp_path: Path, args: list[str], env: dict[str, str],
                                       shown: list[str]) -> None:
    outputs = _outputs(tmp_path, args, env)
    for name, text in outputs.items():
        assert SECRET not in text, f"the {name} shows the secret: ...{text[max(text.find(SECRET) - 200, 0):][:300]}"
    # The runs did reach the libraries: each redacted address is in the terminal and in gates.json.
    for words in shown:
        assert words in outputs["terminal"] and words in outputs["gates.json"], words


def test_a_refused_service_shows_no_secret(tmp_path: Path) -> None:
    """A Gitea that cannot be used stops the run in one line (preflight): the line names the address
    without its userinfo."""
    env = {"GITEA_URL": f"http://tok:{SECRET}@127.0.0.1:9", "DRONE_SERVER": f"http://{SECRET}@127.0.0.1:9"}
    outputs = _outputs(tmp_path, [], env, writes=False)
    assert SECRET not in outputs["terminal"]
    assert "http://***@127.0.0.1:9" in outputs["terminal"], outputs["terminal"][-2000:]
