"""DOCKER_HOST=ssh://… against the lab's sshd, and the local engine when no DOCKER_HOST is set.

scripts/swarm-setup.sh runs Debian's sshd on 127.0.0.1 (GHOSTGATES_SSH_PORT, 2222), taking keys
from "$GHOSTGATES_LAB_STATE/ssh/authorized_keys", and names it `ghostgates-lab` in the system's
ssh client config (port, user, the lab's known_hosts). The test makes its own key, puts it in an
ssh-agent of its own and in authorized_keys, and reads the Swarm through `ssh://ghostgates-lab`,
as the docker CLI would (the `ssh` binary, `docker system dial-stdio` on the far side).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml

from ghostgates.fetch.engine import EngineTarget, read_swarm

from .conftest import Lab, note, running_replicas, wait_for

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("GHOSTGATES_LAB_STATE", "/var/lib/ghostgates-lab"))
SSH_DIR = STATE / "ssh"
ALIAS = "ghostgates-lab"
WORLD = ROOT.parent / "shared" / "worlds" / "green-after-proxy.yaml"


def _sshd_runs() -> bool:
    pid = SSH_DIR / "sshd.pid"
    try:
        os.kill(int(pid.read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A key made for this test, loaded into an ssh-agent of its own and authorised on the lab sshd."""
    if shutil.which("ssh") is None or shutil.which("ssh-agent") is None or not _sshd_runs():
        pytest.skip("lab: no lab sshd (scripts/swarm-setup.sh starts one) or no ssh client")
    keys = tmp_path_factory.mktemp("ssh")
    key = keys / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ghostgates-lab-test", "-f", str(key)],
                   check=True)
    sock = keys / "agent.sock"
    out = subprocess.run(["ssh-agent", "-a", str(sock), "-s"], check=True, capture_output=True, text=True).stdout
    agent_pid = next(part.split("=", 1)[1].rstrip(";") for part in out.split()
                     if part.startswith("SSH_AGENT_PID="))
    env = {"SSH_AUTH_SOCK": str(sock)}
    subprocess.run(["ssh-add", "-q", str(key)], check=True, env={**os.environ, **env}, capture_output=True)
    authorized = SSH_DIR / "authorized_keys"
    line = (keys / "id_ed25519.pub").read_text().strip()
    with authorized.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    try:
        yield env
    finally:
        kept = [ln for ln in authorized.read_text().splitlines() if ln.strip() != line]
        authorized.write_text("".join(k + "\n" for k in kept))
        subprocess.run(["kill", agent_pid], check=False)


def test_docker_host_ssh_reads_the_swarm(agent: dict[str, str], engine: docker.DockerClient,
                                         monkeypatch: pytest.MonkeyPatch, lab: Lab) -> None:
    for key, value in agent.items():
        monkeypatch.setenv(key, value)
    web = lab.name("ssh-web")
    lab.service(web, ["sleep", "1d"])
    wait_for(f"{web} running", lambda: running_replicas(engine.api, web) == 1, 30)
    started = time.monotonic()
    snap = read_swarm(EngineTarget(f"ssh://{ALIAS}", timeout=30))
    took = time.monotonic() - started
    note(f"[ssh] read_swarm over ssh://{ALIAS}: {snap['requests']} requests in {took:.2f}s; "
         f"engine {snap['engine']}")
    assert snap["manager"] is True and snap["engine"] == f"ssh://{ALIAS} (DOCKER_HOST)"
    assert web in {s["Spec"]["Name"] for s in snap["services"]}
    assert snap["info"]["Swarm"]["NodeID"] == engine.info()["Swarm"]["NodeID"]


def test_ssh_failure_names_the_engine_and_ssh_says_why(tmp_path: Path) -> None:
    """No key in the agent: the error names the engine and the URL, never an object's repr."""
    if not _sshd_runs():
        pytest.skip("lab: no lab sshd")
    env = {**os.environ, "SSH_AUTH_SOCK": str(tmp_path / "none.sock")}
    code = ("import sys\nfrom ghostgates.fetch.engine import EngineTarget, read_swarm\n"
            "from ghostgates.fetch.retry import RetryPolicy\nfrom ghostgates.errors import GateError\n"
            f"t = EngineTarget('ssh://{ALIAS}', timeout=10, policy=RetryPolicy(retries=0))\n"
            "try:\n    read_swarm(t)\nexcept GateError as e:\n    print(e); sys.exit(3)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    note(f"[ssh] ssh://{ALIAS} without a key: {proc.stdout.strip()}")
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert f"ssh://{ALIAS}" in proc.stdout and "object at 0x" not in proc.stdout


def test_engine_host_error_shows_ssh_stderr(tmp_path: Path) -> None:
    """--engine-host over ssh with no usable key: the error is ssh's own stderr (hostcheck)."""
    if not _sshd_runs():
        pytest.skip("lab: no lab sshd")
    from ghostgates.fetch import hostcheck

    env = {"SSH_AUTH_SOCK": str(tmp_path / "none.sock")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with pytest.raises(Exception) as caught:  # noqa: PT011 - testinfra's own RuntimeError
            hostcheck.address_errors_in_engine_log(hostcheck.get_host(f"ssh://{ALIAS}"), 5)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    line = hostcheck.describe_host_error(caught.value)
    note(f"[ssh] --engine-host ssh://{ALIAS} without a key: {line}")
    assert "CommandResult" not in line and "Permission denied" in line


def _run_gates(world: Path, out: Path, env: dict[str, str]) -> dict[str, Any]:
    gates_json = out / "gates.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "gates", "--world", str(world), "--swarm", "env", "--role", "builder",
         "--gates-json", str(gates_json), f"--html={out / 'gates.html'}", "-q", "-p", "no:cacheprovider",
         "-k", "M1.proxy-clear or M2.no-leaks"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert gates_json.exists(), f"no gates.json:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    return json.loads(gates_json.read_text())["results"]


@pytest.mark.parametrize("how", ["ssh", "local"])
def test_gate_run_names_the_engine(how: str, agent: dict[str, str], lab: Lab, tmp_path: Path) -> None:
    """`--swarm env` over ssh://, and with no DOCKER_HOST at all (the local engine, as the CLI reads it):
    both Swarm verdicts name the engine in their evidence."""
    if not WORLD.exists():
        pytest.skip("the shared world is not there")
    net = lab.name(f"names-{how}")
    lab.network(net, subnet="10.213.255.224/28")
    world = yaml.safe_load(WORLD.read_text())
    world["world"] = f"lab-engine-{how}"
    world["phase"].update({"proxy_network": net, "min_free_addresses": 2})
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(world, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    env["DOCKER_CONFIG"] = str(tmp_path / "docker-config")  # no current context of the user's
    if how == "ssh":
        env.update(agent)
        env["DOCKER_HOST"] = f"ssh://{ALIAS}"
        want = f"ssh://{ALIAS} (DOCKER_HOST)"
    else:
        want = "unix:///var/run/docker.sock (the local engine"
    started = time.monotonic()
    results = _run_gates(path, tmp_path, env)
    note(f"[engine] --swarm env via {how}: {time.monotonic() - started:.1f}s; "
         f"M1.proxy-clear {results['M1.proxy-clear']['verdict']}, M2.no-leaks {results['M2.no-leaks']['verdict']}")
    for rid in ("M1.proxy-clear", "M2.no-leaks"):
        engines = [e["name"] for e in results[rid]["evidence"] if e["kind"] == "engine"]
        assert engines and engines[0].startswith(want), (rid, results[rid])
    assert results["M1.proxy-clear"]["verdict"] == "pass"
