"""The pytest face of a gate run: options, the phase, the services, the world and its twin.

Only the xdist controller (or a serial run) starts a twin and writes a world's state files;
workers receive the addresses through `workerinput` and never start anything themselves.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from fixtures.cache import (
    PHASE_STASH,
    RUN_DIR_KEY,
    RUN_DIR_STASH,
    SETTINGS_KEY,
    SETTINGS_STASH,
    WORLD_PHASE_KEY,
    WORLD_STASH,
    load_run_phase,
    load_run_world,
    phase_of,
    settings_of,
    world_of,
)
from ghostgates.fetch.services import Settings, missing_config

__all__ = ["SETTINGS_STASH", "Settings", "phase_of", "settings_of", "world_of"]
ROLES = ("adversary", "builder")
_TWIN_STASH = pytest.StashKey[contextlib.ExitStack]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ghost-gates", "gate evidence (gates.md)")
    group.addoption("--phase", default=None, help="phase settings file (default phases/ghost.toml)")
    group.addoption("--state-dir", default=None,
                    help="where STATUS-<name>.md and REVIEW-<name>.md live (default machine-docs; with --world "
                         "a fresh scratch dir)")
    group.addoption("--world", default=None, help="run against the twin serving this world file")
    group.addoption("--swarm", default="world", choices=("world", "env"),
                    help="with --world: read the Swarm from the world (default) or from DOCKER_HOST (env)")
    group.addoption("--gates-json", default=None, help="verdicts as JSON (default reports/gates.json)")
    group.addoption("--role", default="adversary", choices=ROLES,
                    help="adversary writes the gate blocks into the review file; builder only prints them")
    group.addoption("--http-timeout", type=float, default=15.0, help="seconds per Gitea/Drone request (default 15)")
    group.addoption("--http-retries", type=int, default=3,
                    help="retries of a GET on a timeout, a 429 or a 5xx (default 3)")
    group.addoption("--engine-host", default=None, metavar="HOST",
                    help="also read the engine's log on this testinfra host (local://, ssh://manager) for "
                         "address-allocation errors in the last stuck_task_minutes (M1.proxy-clear)")
    group.addoption("--leak-settle", type=float, default=0.0, metavar="SECONDS",
                    help="M2.no-leaks: re-read the Swarm for up to SECONDS while something leaks (removal "
                         "after `docker stack rm` is asynchronous)")
    group.addoption("--node-hosts", default="", metavar="HOST,HOST",
                    help="M2.no-leaks: also list volumes on these testinfra hosts (ssh://node1,ssh://node2): "
                         "volumes live per node and a manager lists only its own")
    group.addoption("--twin-fault", action="append", default=[], metavar="SPEC",
                    help="with --world: inject a fault into the twin (see `python -m twin serve --help`)")
    group.addoption("--twin-latency-ms", type=int, default=0, help="with --world: delay every twin response")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is not None:
        return
    root = config.rootpath
    run_dir = tempfile.mkdtemp(prefix="ghost-gates-run-")
    config.stash[RUN_DIR_STASH] = run_dir
    opt = config.option
    if getattr(opt, "htmlpath", None) is None and _runs_gates(config) and not (opt.help or opt.collectonly):
        opt.htmlpath = str(root / "reports" / "gates.html")
        opt.self_contained_html = True
    world = opt.world
    state_dir = opt.state_dir
    scratch = False
    if world and not state_dir:
        state_dir, scratch = tempfile.mkdtemp(prefix="ghost-gates-state-"), True
    settings = Settings(
        phase_file=opt.phase or str(root / "phases" / "ghost.toml"),
        state_dir=str(Path(state_dir or root / "machine-docs").resolve()),
        world=str(Path(world).resolve()) if world else None,
        swarm=opt.swarm,
        gates_json=opt.gates_json or str(root / "reports" / "gates.json"),
        role=opt.role,
        gitea_url=service_url(os.environ.get("GITEA_URL", ""), "/api/v1"),
        gitea_token=os.environ.get("GITEA_TOKEN", ""),
        drone_url=service_url(os.environ.get("DRONE_SERVER", ""), "/api"),
        drone_token=os.environ.get("DRONE_TOKEN", ""),
        docker_host=os.environ.get("DOCKER_HOST", ""),
        scratch_state=scratch,
        engine_host=opt.engine_host,
        leak_settle=opt.leak_settle,
        node_hosts=tuple(h.strip() for h in opt.node_hosts.split(",") if h.strip()),
        http_timeout=opt.http_timeout,
        http_retries=opt.http_retries,
    )
    config.stash[SETTINGS_STASH] = settings
    # --help, --markers, --fixtures and --version read nothing: they need neither services nor a phase.
    if not _runs_gates(config) or opt.help or opt.markers or opt.showfixtures or opt.version:
        return
    if not world and not opt.collectonly and (missing := missing_config(settings)):
        # gates.md: missing configuration is a usage error; the run stops before it reads anything
        # and writes no block into the review file.
        raise pytest.UsageError(missing)
    # The world and the phase are parsed once, here; a bad phase file is the user's to fix before
    # anything runs: one line naming file and key.
    loaded = load_run_world(settings) if world else None
    config.stash[WORLD_STASH] = loaded
    config.stash[PHASE_STASH] = load_run_phase(settings, None if loaded is None else (loaded.phase or {}))
    if loaded is not None and not opt.collectonly:  # --co runs nothing: no twin, no world files over the state dir
        _start_twin(config, settings, loaded)


def _runs_gates(config: pytest.Config) -> bool:
    """True when the run may collect gate tests (gates/ or the whole checkout), not only the suite's own."""
    gates = (config.rootpath / "gates").resolve()
    for arg in [str(a) for a in config.args] or [str(config.rootpath)]:
        path = Path(arg.split("::")[0]).resolve()
        if path == config.rootpath.resolve() or path == gates or gates in path.parents:
            return True
    return False


def _start_twin(config: pytest.Config, settings: Settings, world: Any) -> None:
    from twin.faults import FaultError, parse_fault
    from twin.server import running_twin

    try:
        faults = [parse_fault(spec) for spec in config.option.twin_fault]
    except FaultError as exc:
        raise pytest.UsageError(str(exc)) from None
    stack = contextlib.ExitStack()
    handle = stack.enter_context(running_twin(world, faults=faults, latency_ms=config.option.twin_latency_ms))
    config.stash[_TWIN_STASH] = stack
    settings.gitea_url, settings.gitea_token = handle.gitea_url, handle.gitea_token
    settings.drone_url, settings.drone_token = handle.drone_url, handle.drone_token
    if settings.swarm == "world":
        settings.docker_host = handle.docker_url
    write_world_files(world.files, Path(settings.state_dir))


def write_world_files(files: dict[str, str], state_dir: Path) -> None:
    """The world's machine-docs/ files into the state dir (other paths below it as written)."""
    for name, text in files.items():
        parts = Path(name).parts
        rel = Path(*parts[1:]) if parts and parts[0] == "machine-docs" else Path(name)
        target = state_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def pytest_configure_node(node: Any) -> None:
    """xdist: hand each worker the run directory and the resolved settings (plain data)."""
    config = node.config
    node.workerinput[RUN_DIR_KEY] = config.stash[RUN_DIR_STASH]
    node.workerinput[SETTINGS_KEY] = asdict(config.stash[SETTINGS_STASH])
    world = config.stash.get(WORLD_STASH, None)
    # The world's phase block as JSON text, so that a worker loads the phase without the world file.
    node.workerinput[WORLD_PHASE_KEY] = None if world is None else json.dumps(world.phase or {}, default=str)


def pytest_unconfigure(config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is not None:
        return
    stack = config.stash.get(_TWIN_STASH, None)
    if stack is not None:
        stack.close()
    run_dir = config.stash.get(RUN_DIR_STASH, None)
    if run_dir:
        shutil.rmtree(run_dir, ignore_errors=True)


def service_url(url: str, api: str) -> str:
    """The base URL as given, or with its API path stripped: GITEA_URL=https://git.example.org/api/v1
    means https://git.example.org (the clients add /api/v1 and /api themselves)."""
    base = url.strip().rstrip("/")
    return base[: -len(api)] if base.endswith(api) else base
