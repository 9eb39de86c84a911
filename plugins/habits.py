"""pytest's own habits on the gate tests: the run's header, select by requirement id or gate marker,
and write nothing when nothing runs.

- The header names what the run reads: phase, world or live, role, Gitea, Drone and the engine
  (with no DOCKER_HOST: the local engine, as the docker CLI picks it).

- `-k M1.inventory` matches the requirement id (added as a keyword), `--requirement M1.inventory`
  selects ids exactly (repeatable, or comma-separated), `-m m1` / `-m "m2 and not done"` the gates.
- `--co`, and a `-k`/`-m` that selects no gate test, leave every output alone: pytest-html is
  unregistered before it writes, and the reporter writes nothing without results.
- `pytest --help` lists the environment the suite reads, beside its options.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from ghostgates.catalogue import ALL, GATES
from ghostgates.fetch import http
from ghostgates.record import escape
from plugins.verdicts import requirement_of

ENVIRONMENT = (
    ("GITEA_URL", "Gitea base URL, e.g. https://git.example.org (a trailing /api/v1 is stripped)"),
    ("GITEA_TOKEN", "Gitea token (a member of the repo's org, or an admin: membership is hidden otherwise)"),
    ("DRONE_SERVER", "Drone base URL, e.g. https://drone.example.org (a trailing /api is stripped)"),
    ("DRONE_TOKEN", "Drone token"),
    ("DOCKER_HOST", "the Swarm manager's engine (unix://, tcp://, ssh://); unset: the docker CLI's default"),
    ("DOCKER_CONTEXT", "a docker CLI context naming the engine, as `docker --context`"),
    ("DOCKER_TLS_VERIFY, DOCKER_CERT_PATH", "TLS to the engine, as the docker CLI reads them"),
)
MARKERS = {"M1": "m1", "M2": "m2", "DONE": "done"}


def pytest_addoption(parser: pytest.Parser) -> None:
    width = max(len(name) for name, _ in ENVIRONMENT)
    env = "\n".join(f"  {name:<{width}}  {text}" for name, text in ENVIRONMENT)
    # pytest's help has no hook for a plugin's environment; a group's title is printed as written.
    group = parser.getgroup(
        "ghost-gates-select",
        "ghost-gates: selecting requirements (also -k M1.inventory, -m m1|m2|done, --lf, --ff).\n"
        f"Environment variables (tokens are never shown):\n{env}\nOptions")
    group.addoption("--requirement", action="append", default=[], metavar="ID[,ID]",
                    help="run only these requirement ids of gates.md (repeatable), e.g. M1.inventory")


@pytest.hookimpl(trylast=True)  # after the terminal reporter and the run's settings (plugins/run.py)
def pytest_configure(config: pytest.Config) -> None:
    for gate, marker in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: the {gate} requirements of gates.md ({len(GATES[gate])})")
    if getattr(config, "workerinput", None) is None:
        _check_state_dir(config)
        say = live_line(config)
        if say is not None:
            # A long wait on a slow service says which URL and which try, instead of silence. (The
            # module-wide hook of fetch/http.py; a per-client callback takes `live_line(config)` too.)
            config.stash[_PREVIOUS_WAIT] = http.on_wait
            http.on_wait = say


_PREVIOUS_WAIT = pytest.StashKey[object]()
_LIVE_LOCK = threading.Lock()


def live_line(config: pytest.Config) -> Callable[[str], None] | None:
    """A line on the terminal now, even while pytest captures a fixture's output (as pytest's own
    live logging does: capture suspended for the write), its control characters escaped."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return None
    capman = config.pluginmanager.get_plugin("capturemanager")

    def say(line: str) -> None:
        text = escape.terminal(line)
        with _LIVE_LOCK:
            if capman is None:
                reporter.write_line(text)
                return
            with capman.global_and_fixture_disabled():
                reporter.ensure_newline()
                reporter.write_line(text)

    return say


def _check_state_dir(config: pytest.Config) -> None:
    """A live run reads its state files from --state-dir: a typo would read "no state file" and fail
    every gate, so a directory that does not exist is a usage error naming it. (A --world run
    creates it and writes the world's files there.)"""
    from plugins.run import _runs_gates

    opt = config.option
    given = opt.state_dir
    if given and not opt.world and not opt.help and _runs_gates(config) and not Path(given).is_dir():
        raise pytest.UsageError(f"--state-dir {given}: no such directory")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _PREVIOUS_WAIT in config.stash:
        http.on_wait = config.stash[_PREVIOUS_WAIT]  # type: ignore[assignment]
    if getattr(config, "workerinput", None) is not None:
        return
    from plugins.run import SETTINGS_STASH

    settings = config.stash.get(SETTINGS_STASH, None)
    if settings is not None and settings.scratch_state:
        # The --world run's own scratch copy of the state files: nobody else knows where it is.
        shutil.rmtree(settings.state_dir, ignore_errors=True)


def engine_line(config: pytest.Config) -> str:
    """The engine this run reads, as ghostgates.fetch.engine names it (the twin's for a --world run, else the
    docker CLI's own resolution: DOCKER_HOST, DOCKER_CONTEXT, the current context, the local socket)."""
    from fixtures.swarm import engine_description

    return engine_description(config)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    from plugins.run import SETTINGS_STASH, _runs_gates

    settings = config.stash.get(SETTINGS_STASH, None)
    if settings is None or not _runs_gates(config):
        return None
    where = f"world {settings.world}" if settings.world else "live services"
    return [f"ghost-gates: phase {settings.phase_file}, {where}, role {settings.role}, state {settings.state_dir}",
            f"ghost-gates: Gitea {settings.shown('gitea_url') or '(GITEA_URL not set)'}, "
            f"Drone {settings.shown('drone_url') or '(DRONE_SERVER not set)'}, engine {engine_line(config)}"]


def _wanted(config: pytest.Config) -> set[str]:
    wanted = {part.strip() for arg in config.option.requirement for part in arg.split(",") if part.strip()}
    unknown = sorted(wanted - set(ALL))
    if unknown:
        raise pytest.UsageError(f"--requirement {unknown[0]}: not an id of gates.md (ids: {', '.join(ALL)})")
    return wanted


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Before pytest's -k/-m deselection: each gate test gets its gate's marker and its id as keyword."""
    wanted = _wanted(config)
    kept, dropped = [], []
    for item in items:
        rid = requirement_of(item)
        if rid is not None:
            item.add_marker(MARKERS.get(rid.split(".", 1)[0], "gate"))
            item.extra_keyword_matches.add(rid)
        (dropped if wanted and rid not in wanted else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    # gates/ collects alphabetically (done, m1, m2): run the gate tests in gates.md order instead, so
    # the terminal, the reports and DONE (which judges the M1 and M2 records) follow the spec.
    slots = [i for i, item in enumerate(items) if requirement_of(item) in ALL]
    ordered = sorted((items[i] for i in slots), key=lambda item: ALL.index(requirement_of(item) or ""))
    for i, item in zip(slots, ordered, strict=True):
        items[i] = item


def pytest_collection_finish(session: pytest.Session) -> None:
    """--co, or a selection with no test in it: no HTML report either (pytest-html writes at the end)."""
    config = session.config
    if config.option.collectonly or not session.items:
        try:
            from pytest_html.basereport import BaseReport
        except ImportError:
            return
        # pytest-html registers its report object without a name (pytest_html/plugin.py).
        for plugin in config.pluginmanager.get_plugins():
            if isinstance(plugin, BaseReport):
                config.pluginmanager.unregister(plugin)
