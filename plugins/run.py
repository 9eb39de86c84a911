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
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from fixtures._run import (
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
from ghostgates.fetch.http import Limits
from ghostgates.fetch.services import ENGINE_MAX_BYTES, Settings, missing_config
from ghostgates.read.statefile import review_name
from twin import statedir

__all__ = ["SETTINGS_STASH", "Settings", "phase_of", "settings_of", "world_of"]
ROLES = ("adversary", "builder")
_TWIN_STASH = pytest.StashKey[contextlib.ExitStack]()
_WROTE_WORLD_STASH = pytest.StashKey[bool]()


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
    group.addoption("--http-max-bytes", type=int, default=Limits.max_body_bytes, metavar="BYTES",
                    help=f"largest body one Gitea/Drone answer may have (default {Limits.max_body_bytes})")
    group.addoption("--http-max-pages", type=int, default=Limits.max_pages, metavar="N",
                    help=f"most pages of one list, also against a claimed X-Total-Count (default {Limits.max_pages})")
    group.addoption("--http-deadline", type=float, default=Limits.request_seconds, metavar="SECONDS",
                    help="longest one Gitea/Drone request may take in all, however slowly its bytes come "
                         f"(default {Limits.request_seconds:g})")
    group.addoption("--http-max-list-bytes", type=int, default=Limits.max_list_bytes, metavar="BYTES",
                    help="most bytes the pages of one Gitea/Drone list may bring in all "
                         f"(default {Limits.max_list_bytes})")
    group.addoption("--engine-max-bytes", type=int, default=ENGINE_MAX_BYTES, metavar="BYTES",
                    help=f"largest body one Docker engine answer may have (default {ENGINE_MAX_BYTES})")
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
    world = str(Path(opt.world).resolve()) if opt.world else None
    state_dir = opt.state_dir
    scratch = False
    if world and not state_dir:
        state_dir, scratch = tempfile.mkdtemp(prefix="ghost-gates-state-"), True
    phase_file = opt.phase or str(root / "phases" / "ghost.toml")
    # --help, --markers, --fixtures and --version read nothing: they need neither services nor a phase.
    runs = _runs_gates(config) and not (opt.help or opt.markers or opt.showfixtures or opt.version)
    loaded = handle = None
    if runs and world:
        # The world and the phase are parsed once, here; a bad phase file is the user's to fix before
        # anything runs: one line naming file and key.
        loaded = load_run_world(world)
        config.stash[WORLD_STASH] = loaded
        config.stash[PHASE_STASH] = load_run_phase(phase_file, world, loaded.phase or {})
        if not opt.collectonly:  # --co runs nothing: no twin, no world files over the state dir
            handle = _start_twin(config, loaded)
    # The settings are made whole, once, with the twin's addresses where a world is served; nothing
    # changes them afterwards (workers receive them as data).
    settings = make_settings(config, phase_file=phase_file, world=world, scratch=scratch,
                             state_dir=str(Path(state_dir or root / "machine-docs").resolve()), twin=handle)
    config.stash[SETTINGS_STASH] = settings
    for option, value in (("--http-max-bytes", opt.http_max_bytes), ("--http-max-pages", opt.http_max_pages),
                          ("--http-deadline", opt.http_deadline), ("--http-max-list-bytes", opt.http_max_list_bytes),
                          ("--engine-max-bytes", opt.engine_max_bytes)):
        if value <= 0:
            raise pytest.UsageError(f"{option} {value:g}: must be more than 0")
    if not runs:
        return
    if not world and not opt.collectonly and (missing := missing_config(settings)):
        # gates.md: missing configuration is a usage error; the run stops before it reads anything
        # and writes no block into the review file.
        raise pytest.UsageError(missing)
    if not world:
        config.stash[PHASE_STASH] = load_run_phase(phase_file, None, None)
    if opt.collectonly:  # --co runs nothing: no twin, no world files over the state dir, no request
        return
    # Everything that would make the run's writes or reads useless or harmful, refused now, before
    # the world's files are written or a fixture asks a service anything: one line each, exit 4.
    # (The twin of --world is already up, but it writes nothing: it only answers.)
    check_state_dir(config, settings)
    check_review_file(config, settings)
    check_sign_key(config, settings, config.stash[PHASE_STASH].adversary_signers)
    if loaded is None:
        check_services(settings)
    elif handle is not None:
        write_world_files(loaded.files, Path(settings.state_dir))
        config.stash[_WROTE_WORLD_STASH] = True


def make_settings(config: pytest.Config, *, phase_file: str, world: str | None, state_dir: str, scratch: bool,
                  twin: Any = None, environ: Mapping[str, str] | None = None) -> Settings:
    """The run's Settings from its options and environment, and the twin's addresses when one serves a
    world (its Swarm too, unless --swarm env). A run that posts or watches is the Builder's, whatever
    --role says: it never signs (the gates after the watch print their blocks, they write none)."""
    opt = config.option
    env = os.environ if environ is None else environ
    gitea_url, gitea_token = service_url(env.get("GITEA_URL", ""), "/api/v1"), env.get("GITEA_TOKEN", "")
    drone_url, drone_token = service_url(env.get("DRONE_SERVER", ""), "/api"), env.get("DRONE_TOKEN", "")
    docker_host = env.get("DOCKER_HOST", "")
    if twin is not None:
        gitea_url, gitea_token, drone_url, drone_token = (twin.gitea_url, twin.gitea_token, twin.drone_url,
                                                          twin.drone_token)
        if opt.swarm == "world":
            docker_host = twin.docker_url
    return Settings(
        phase_file=phase_file,
        state_dir=state_dir,
        world=world,
        swarm=opt.swarm,
        gates_json=opt.gates_json or str(config.rootpath / "reports" / "gates.json"),
        role="builder" if is_builder_run(config) else opt.role,
        scratch_state=scratch,
        engine_host=opt.engine_host,
        leak_settle=opt.leak_settle,
        node_hosts=tuple(h.strip() for h in opt.node_hosts.split(",") if h.strip()),
        http_timeout=opt.http_timeout,
        http_retries=opt.http_retries,
        http_max_bytes=opt.http_max_bytes,
        http_max_pages=opt.http_max_pages,
        http_deadline=opt.http_deadline,
        http_max_list_bytes=opt.http_max_list_bytes,
        engine_max_bytes=opt.engine_max_bytes,
        gitea_url=gitea_url,
        gitea_token=gitea_token,
        drone_url=drone_url,
        drone_token=drone_token,
        docker_host=docker_host,
    )


def is_builder_run(config: pytest.Config) -> bool:
    """A run that posts or watches: the Builder's, whatever --role says (its settings are made with role
    builder)."""
    opt = config.option
    return bool(getattr(opt, "trigger_testme", False) or getattr(opt, "watch_build", None) is not None)


def _runs_gates(config: pytest.Config) -> bool:
    """True when the run may collect gate tests (gates/ or the whole checkout), not only the suite's own."""
    gates = (config.rootpath / "gates").resolve()
    for arg in [str(a) for a in config.args] or [str(config.rootpath)]:
        path = Path(arg.split("::")[0]).resolve()
        if path == config.rootpath.resolve() or path == gates or gates in path.parents:
            return True
    return False


def _start_twin(config: pytest.Config, world: Any) -> Any:
    from twin.faults import FaultError, parse_fault
    from twin.server import running_twin

    try:
        faults = [parse_fault(spec) for spec in config.option.twin_fault]
    except FaultError as exc:
        raise pytest.UsageError(str(exc)) from None
    stack = contextlib.ExitStack()
    handle = stack.enter_context(running_twin(world, faults=faults, latency_ms=config.option.twin_latency_ms))
    config.stash[_TWIN_STASH] = stack
    return handle


def write_world_files(files: dict[str, str], state_dir: Path) -> None:
    """The world's machine-docs/ files into the state dir (other paths below it as written), each
    resolved strictly inside it, with the manifest that marks them as the suite's (twin/statedir)."""
    try:
        statedir.write_world_files(files, state_dir)
    except (statedir.StateDirError, OSError) as exc:
        raise pytest.UsageError(f"--world: {exc}") from None


# --- start-of-run checks: refused before anything is written or asked ------------------------------

def _writes_review(config: pytest.Config, settings: Settings) -> bool:
    """The adversary writes its blocks into the review file; a run that posts or watches never does."""
    return settings.role == "adversary" and not is_builder_run(config)


def check_state_dir(config: pytest.Config, settings: Settings) -> None:
    """The state dir the run reads (and the adversary writes) is the one the user meant.

    A live run's state dir must exist, whether given or the default (a missing default is not
    created: a run from the wrong directory would write FAIL blocks into a new, unseen one). A
    `--world` run's given state dir may be missing or empty, or hold only files the suite put
    there (gates.md: `--world` never writes over files it did not put there).
    """
    opt = config.option
    state_dir = Path(settings.state_dir)
    if opt.world:
        if opt.state_dir and not settings.scratch_state:
            try:
                statedir.check_ours(state_dir)
            except statedir.StateDirError as exc:
                raise pytest.UsageError(str(exc)) from None
        return
    if not state_dir.is_dir():
        given = opt.state_dir
        if given:
            raise pytest.UsageError(f"--state-dir {given}: no such directory")
        raise pytest.UsageError(f"--state-dir {state_dir} (the default): no such directory: run from the checkout "
                                "whose machine-docs/ holds the state file, or give --state-dir")


def check_review_file(config: pytest.Config, settings: Settings) -> None:
    """The review file is a regular file inside the state dir (never a symlink: the Builder would choose
    which file the Adversary's run rewrites), and, where this run writes it, writable."""
    path = Path(settings.state_dir) / review_name(config.stash[PHASE_STASH])
    if path.is_symlink():
        raise pytest.UsageError(f"{path}: a symlink (to {os.readlink(path)}): the review file must be a regular "
                                "file in the state dir; the suite writes no file through a link")
    if path.exists() and not path.is_file():
        raise pytest.UsageError(f"{path}: not a regular file: the review file must be a regular file")
    if not _writes_review(config, settings):
        return
    problem = _unwritable(path)
    if problem:
        raise pytest.UsageError(f"{path}: {problem}: the adversary's run writes its gate blocks there "
                                "(or run with --role builder, which writes none)")


def _unwritable(path: Path) -> str | None:
    if path.exists():
        return None if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK) else \
            "not writable"
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot be created (no write access to {parent})"
    return None


def check_sign_key(config: pytest.Config, settings: Settings, adversary_signers: str | None) -> None:
    """`--sign-key` signs only with a key the phase's adversary_signers names: a signature DONE.signed
    would call forged is refused now, not found out later."""
    from ghostgates.record import signing

    key = config.getoption("sign_key", None)
    if not key or not Path(key).is_file() or not _writes_review(config, settings):
        return  # a missing key file is the reporter's usage error; a builder never signs
    signers = signing.signers_path(adversary_signers, config.rootpath)
    if signers is None:
        raise pytest.UsageError(f"--sign-key {key}: the phase names no adversary_signers, so no signature would "
                                "be checked (name the allowed-signers file in the phase, docs/signing.md)")
    try:
        allowed = signing.allowed_signer(key, signers)
    except signing.SigningError as exc:
        raise pytest.UsageError(f"--sign-key {key}: {exc}") from None
    if not allowed:
        raise pytest.UsageError(f"--sign-key {key}: its key is not in the phase's adversary_signers ({signers}): "
                                "DONE.signed would call every record it signs forged")


def check_services(settings: Settings) -> None:
    """gates.md: a Gitea or Drone that cannot be used at all stops the run before it decides anything,
    one line naming the service and why (ghostgates.fetch.preflight)."""
    from ghostgates.fetch import preflight

    found = preflight.problems([preflight.gitea(settings.gitea_url, settings.gitea_token),
                                preflight.drone(settings.drone_url, settings.drone_token)], settings.http_timeout)
    if found:
        raise pytest.UsageError(found[0])


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
    settings = config.stash.get(SETTINGS_STASH, None)
    if config.stash.get(_WROTE_WORLD_STASH, False) and settings is not None and not settings.scratch_state:
        # The review file this run wrote is the suite's too: the next --world run there may write
        # over it, and over nothing it did not write (a file added meanwhile stays foreign).
        with contextlib.suppress(OSError):
            state_dir = Path(settings.state_dir)
            statedir.seal(state_dir, [state_dir / review_name(config.stash[PHASE_STASH])])
    run_dir = config.stash.get(RUN_DIR_STASH, None)
    if run_dir:
        shutil.rmtree(run_dir, ignore_errors=True)


def service_url(url: str, api: str) -> str:
    """The base URL as given, or with its API path stripped: GITEA_URL=https://git.example.org/api/v1
    means https://git.example.org (the clients add /api/v1 and /api themselves)."""
    base = url.strip().rstrip("/")
    return base[: -len(api)] if base.endswith(api) else base
