"""`--trigger-testme` / `--watch-build`: the pytest face of `ghostgates.drive.workflow`.

Runs once, in the controller (or a serial run), at the end of pytest_configure: after the twin
is up (plugins/run.py) and before any worker starts or any fixture fetches, so the gates that
follow read the state as it is after the run. The workflow and its exit codes live in
`ghostgates.drive.workflow`; here are only the options, the terminal and the stop.

A run that posts or watches is the Builder's: it never writes a block into the review file,
whatever `--role` says (it prints the block it would write, as `--role builder` does).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from fixtures._run import phase_of, settings_of, waiter_of
from ghostgates.drive import trigger
from ghostgates.drive import workflow as drive
from ghostgates.errors import ConfigError, GateError
from ghostgates.fetch import services
from ghostgates.fetch.engine import read_swarm, target_for
from ghostgates.read.statefile import read_state
from ghostgates.record import escape
from plugins.run import is_builder_run


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ghost-gates-trigger", "driving the phase: the post-proxy testme")
    group.addoption("--trigger-testme", action="store_true", default=False,
                    help="check the guardrails and say what `!testme` would be posted where (add --yes to post); "
                         f"exit {drive.REFUSED} when refused, nothing posted")
    group.addoption("--yes", action="store_true", default=False,
                    help="with --trigger-testme: really post, then watch the build to its end")
    group.addoption("--watch-timeout", type=float, default=None, metavar="SECONDS",
                    help=f"stop watching after this long (default {trigger.DEFAULT_WATCH_TIMEOUT:g}; the "
                         "blackout horizon is the phase's run_minutes, not this)")
    group.addoption("--watch-build", default=None, metavar="N|latest",
                    help="resume watching build N (or the correct PR's latest build); never posts")
    group.addoption("--watch-interval", type=float, default=10.0, metavar="SECONDS",
                    help="seconds between two looks at the build (default 10)")


def _options(config: pytest.Config) -> drive.Options:
    opt = config.option
    timeout = opt.watch_timeout if opt.watch_timeout is not None else trigger.DEFAULT_WATCH_TIMEOUT
    return drive.Options(trigger=opt.trigger_testme, yes=opt.yes, watch_build=opt.watch_build, timeout=timeout,
                         interval=opt.watch_interval, args=tuple(str(a) for a in config.invocation_params.args))


def _services(config: pytest.Config) -> drive.Services:
    """The gate run's own readers: the same clients and the same engine (the twin's for --world,
    whatever DOCKER_TLS_VERIFY says), with the run's --http-timeout and --http-retries."""
    settings = settings_of(config)
    network = phase_of(config).proxy_network
    # The guardrails read the Swarm, not the nodes' volumes (M2.no-leaks's, not the trigger's).
    target = dataclasses.replace(target_for(settings, waiter_of(config)), node_hosts=())
    gitea = services.gitea_client(settings, waiter_of(config))
    try:
        drone = services.drone_client(settings, waiter_of(config))
    except GateError:
        gitea.close()
        raise
    return drive.Services(gitea, drone, lambda: read_swarm(target, network))


def _printer(config: pytest.Config) -> drive.Printer:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return drive.Printer(print)
    tw = reporter._tw

    def live(text: str) -> None:
        # Rewrite the one progress line in place; an empty text ends it with a newline.
        width = max(tw.fullwidth - 1, 20)
        tw.write("\r" + text[:width].ljust(width) if text else "\n", flush=True)

    return drive.Printer(reporter.write_line, live if getattr(reporter, "isatty", False) else None)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is not None or config.option.help:
        return
    options = _options(config)
    if not is_builder_run(config):
        if config.option.yes:
            raise pytest.UsageError("--yes only goes with --trigger-testme")
        return
    if options.trigger and options.watch_build is not None:
        raise pytest.UsageError("--trigger-testme and --watch-build do not go together: a resumed watch never posts")
    wanted = str(options.watch_build or "latest").strip().lower()
    if wanted != "latest" and not wanted.isdigit():
        raise pytest.UsageError(f"--watch-build takes a build number or `latest`, not {options.watch_build!r}")
    settings = settings_of(config)
    phase = phase_of(config)
    state = read_state(settings.state_dir, phase)
    out = _printer(config)
    try:
        services = _services(config)
    except ConfigError as exc:  # GITEA_URL or DRONE_SERVER missing: the user's to fix, not a refusal
        raise pytest.UsageError(str(exc)) from None
    except GateError as exc:
        raise Exit(f"trigger refused: could not find out: {exc}", drive.REFUSED, config) from None
    try:
        outcome = drive.drive(phase, state, services, options, out)
    finally:
        out.end_live()
        services.gitea.close()
        services.drone.close()
    if outcome.code is not None:
        # The one place the stopping line is printed: pytest writes it to stderr as `Exit: ...`.
        raise Exit(outcome.message, outcome.code, config)


class Exit(pytest.exit.Exception):  # type: ignore[name-defined]
    """pytest.exit, knowing its run: the line is printed once (see pytest_keyboard_interrupt)."""

    def __init__(self, message: str, code: int, config: pytest.Config) -> None:
        # The stopping line quotes servers (a PR's state, a login): escaped for the terminal.
        super().__init__(escape.terminal_lines(message), returncode=code)
        self.config = config


@pytest.hookimpl(trylast=True)
def pytest_keyboard_interrupt(excinfo: Any) -> None:
    """Our own stop is not an interruption: keep pytest from repeating its line as `! Exit: ... !`."""
    if isinstance(excinfo.value, Exit):
        reporter = excinfo.value.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter._keyboardinterrupt_memo = None  # read by TerminalReporter.pytest_unconfigure
