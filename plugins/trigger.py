"""`--trigger-testme`: post the post-proxy `!testme` inside the guardrails, watch its build, then judge.

Runs once, in the controller (or a serial run), at the end of pytest_configure: after the twin
is up (plugins/run.py) and before any worker starts or any fixture fetches, so the gates that
follow read the state as it is after the run. Its own reads go straight to the services, never
into the run's shared-fetch cache.

    pytest gates/m1 --trigger-testme            check, then say what would be posted (dry run)
    pytest gates/m1 --trigger-testme --yes      check, post, watch to the end, then the M1 gates
    pytest gates/m1 --watch-build N|latest      resume watching (never posts), then the M1 gates

Exit codes when it stops before the gates: 0 dry run passed its checks, 2 interrupted while
watching (the build is left alone), 4 refused (nothing posted), 1 posted but the bridge will
ignore it, or the post failed and may or may not have landed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ghostgates import trigger as decide
from ghostgates import watch
from ghostgates.classify import classify_log
from ghostgates.errors import GateError
from ghostgates.facts import Testme, build_facts, correct_pr_number
from ghostgates.http import ApiClient
from ghostgates.phase import Phase
from ghostgates.rules.m1 import proxy_clear
from ghostgates.statefile import STATUS, StateFile, read_optional
from ghostgates.timeutil import maybe_time, rfc3339

DRY_RUN = 0
POSTED_IGNORED = 1
INTERRUPTED = 2
REFUSED = 4
LOCATE_LIMIT = 600.0  # local seconds to wait for the bridge to answer, at most


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ghost-gates-trigger", "driving the phase: the post-proxy testme")
    group.addoption("--trigger-testme", action="store_true", default=False,
                    help="check the guardrails and say what `!testme` would be posted where (add --yes to post)")
    group.addoption("--yes", action="store_true", default=False,
                    help="with --trigger-testme: really post, then watch the build to its end")
    group.addoption("--watch-timeout", type=float, default=None, metavar="SECONDS",
                    help=f"stop watching after this long (default {decide.DEFAULT_WATCH_TIMEOUT:g}; "
                         "a 20-minute run is normal)")
    group.addoption("--watch-build", default=None, metavar="N|latest",
                    help="resume watching build N (or the correct PR's latest build); never posts")
    group.addoption("--watch-interval", type=float, default=10.0, metavar="SECONDS",
                    help="seconds between two looks at the build (default 10)")


@dataclass
class Options:
    trigger: bool = False
    yes: bool = False
    watch_build: str | None = None
    timeout: float = decide.DEFAULT_WATCH_TIMEOUT
    interval: float = 10.0


@dataclass
class Services:
    gitea: ApiClient
    drone: ApiClient
    swarm: Callable[[], dict[str, Any]]


@dataclass
class Outcome:
    """None as code: go on to the gates. Otherwise stop with this code and message."""

    code: int | None
    message: str = ""


class Printer:
    """Plain lines, plus one live progress line (rewritten in place on a terminal)."""

    def __init__(self, write: Callable[[str], None], live: Callable[[str], None] | None = None) -> None:
        self.write = write
        self._live = live
        self._last = ""
        self._shown_at = 0.0

    def line(self, text: str) -> None:
        self.end_live()
        self.write(text)

    def progress(self, text: str) -> None:
        if self._live is not None:
            self._live(text)
            self._last = text
            return
        # No terminal: a new line when the state changes (not just the elapsed time), or each minute.
        key = text.split(" ", 3)[:3] + text.split("  ")[1:]
        now = time.monotonic()
        if key != getattr(self, "_key", None) or now - self._shown_at >= 60:
            self.write(text)
            self._key, self._shown_at = key, now

    def end_live(self) -> None:
        if self._live is not None and self._last:
            self._live("")
            self._last = ""


def drive(phase: Phase, state: StateFile | None, services: Services, options: Options, out: Printer,
          sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """The whole action; `sleep` is the one place a test injects time (or a Ctrl-C)."""
    try:
        if options.watch_build is not None:
            return _resume(phase, state, services, options, out, sleep)
        return _trigger(phase, state, services, options, out, sleep)
    except GateError as exc:
        out.line(f"trigger: could not find out: {exc}")
        return Outcome(REFUSED, f"could not find out: {exc}")


def _trigger(phase: Phase, state: StateFile | None, services: Services, options: Options, out: Printer,
             sleep: Callable[[float], None]) -> Outcome:
    from ghostgates import compose_diff
    from ghostgates.drone import fetch_drone, history_start
    from ghostgates.gitea import fetch_gitea

    g, d = services.gitea, services.drone
    correct = correct_pr_number(phase, state)
    gitea_data = fetch_gitea(g, phase, correct, compose_diff.is_compose_file)
    drone_data = fetch_drone(d, phase.drone_repo, history_start(phase, gitea_data, correct), set(),
                             lambda build: False)
    facts = build_facts(phase, state, gitea_data, drone_data)
    swarm = services.swarm()
    # "Now" is the services' clock: Gitea's Date, else Drone's, else the engine's SystemTime.
    now = g.server_date or d.server_date or maybe_time(swarm.get("now"))
    refusals = decide.preflight(facts, proxy_clear(swarm, phase), now,
                                 horizon=timedelta(seconds=options.timeout))
    if refusals:
        message = "trigger refused: " + "; ".join(refusals)
        out.line(message)
        return Outcome(REFUSED, message)
    the_plan = decide.plan(facts)
    assert the_plan is not None  # preflight refuses without a correct PR
    out.line(f"trigger: checks passed at {rfc3339(now)}: proxy clear, no blackout, "
             f"{len(facts.post_proxy_testmes())} post-proxy testme(s) so far, no build of PR #{the_plan.number} "
             "in flight")
    out.line(f"trigger: will {the_plan.describe()}")
    if not options.yes:
        out.line("trigger: dry run, nothing posted; add --yes to post it")
        return Outcome(DRY_RUN, "dry run: nothing posted")
    try:
        comment = watch.post_testme(g, the_plan.repo, the_plan.number, the_plan.body)
    except GateError as exc:
        # A POST is never retried: it may or may not have landed, so say so rather than "refused".
        message = (f"trigger: posting failed ({exc}); it may still have landed: look at {the_plan.url} before "
                   f"anything else (a rerun refuses while its build is pending or running)")
        out.line(message)
        return Outcome(POSTED_IGNORED, message)
    author = (comment.get("user") or {}).get("login", "")
    out.line(f"trigger: posted comment {comment.get('id')} as {author}: {comment.get('html_url', the_plan.url)}")
    if not watch.is_member(g, phase.owner, author):
        message = (f"trigger: {author} is not a member of {phase.owner}: the bridge ignores the comment and "
                   "nothing was started (post with a member's token)")
        out.line(message)
        return Outcome(POSTED_IGNORED, message)
    testme = Testme(the_plan.number, comment)

    def view() -> Any:
        return watch.pr_view(g, d, phase, state, the_plan.number)

    try:
        build = watch.locate(view, testme, timeout=min(options.timeout, LOCATE_LIMIT), interval=options.interval,
                             emit=out.progress, sleep=sleep)
    except KeyboardInterrupt:
        return _interrupted(out, None)
    if build is None:
        out.line(f"trigger: no build for testme {testme.id} yet; resume with `{decide.resume_hint(None)}`")
        return Outcome(None)
    out.line(f"trigger: the bridge started build #{build['number']}: {build.get('link', '')}")
    return _follow(phase, services, int(build["number"]), options, out, sleep)


def _resume(phase: Phase, state: StateFile | None, services: Services, options: Options, out: Printer,
            sleep: Callable[[float], None]) -> Outcome:
    wanted = str(options.watch_build).strip().lower()
    if wanted == "latest":
        number = correct_pr_number(phase, state)
        if number is None:
            return _stop(out, "no correct PR to find the latest build of")
        build = decide.latest_build(watch.pr_view(services.gitea, services.drone, phase, state, number), number)
        if build is None:
            return _stop(out, f"PR #{number} has no build of {phase.recipe} to watch")
        target = int(build["number"])
    elif wanted.isdigit():
        target = int(wanted)
    else:
        raise pytest.UsageError(f"--watch-build takes a build number or `latest`, not {options.watch_build!r}")
    out.line(f"trigger: watching build #{target} (nothing is posted)")
    return _follow(phase, services, target, options, out, sleep)


def _follow(phase: Phase, services: Services, number: int, options: Options, out: Printer,
            sleep: Callable[[float], None]) -> Outcome:
    try:
        watched = watch.follow(services.drone, phase.drone_repo, number, timeout=options.timeout,
                               interval=options.interval, emit=out.progress, sleep=sleep)
    except KeyboardInterrupt:
        return _interrupted(out, number)
    except LookupError as exc:
        return _stop(out, str(exc))
    build = watched.build
    if not watched.finished:
        out.line(f"trigger: build #{number} still {build.get('status')} after {options.timeout:g}s of watching; "
                 f"resume with `{decide.resume_hint(number)}`")
        return Outcome(None)
    out.line(f"trigger: ended: {decide.progress_line(build, watched.now)}")
    if decide.is_red(build):
        found = classify_log(watch.build_log(services.drone, phase.drone_repo, build))
        why = f" ({found.matches[0].description}: line {found.matches[0].line_no})" if found.matches else ""
        out.line(f"trigger: build #{number} is red; its log classifies as {found.cls}{why}")
    return Outcome(None)


def _interrupted(out: Printer, number: int | None) -> Outcome:
    message = (f"trigger: interrupted; the build is left alone and nothing more is posted. Resume watching with "
               f"`{decide.resume_hint(number)}`")
    out.line(message)
    return Outcome(INTERRUPTED, message)


def _stop(out: Printer, reason: str) -> Outcome:
    out.line(f"trigger refused: {reason}")
    return Outcome(REFUSED, f"trigger refused: {reason}")


# --- the pytest face --------------------------------------------------------------------------


def options_of(config: pytest.Config) -> Options:
    opt = config.option
    timeout = opt.watch_timeout if opt.watch_timeout is not None else decide.DEFAULT_WATCH_TIMEOUT
    return Options(trigger=opt.trigger_testme, yes=opt.yes, watch_build=opt.watch_build, timeout=timeout,
                   interval=opt.watch_interval)


def services_of(config: pytest.Config) -> Services:
    from fixtures.drone import drone_client
    from fixtures.gitea import gitea_client
    from ghostgates.swarm import connect, fetch_swarm
    from plugins.run import settings_of

    settings = settings_of(config)

    def swarm() -> dict[str, Any]:
        client = connect(settings.docker_host or None, timeout=settings.http_timeout)
        try:
            return fetch_swarm(client, phase_of_config(config).proxy_network)
        finally:
            client.close()

    return Services(gitea_client(config), drone_client(config), swarm)


def phase_of_config(config: pytest.Config) -> Phase:
    from plugins.run import phase_of

    return phase_of(config)


def _printer(config: pytest.Config) -> Printer:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return Printer(print)
    tw = reporter._tw

    def live(text: str) -> None:
        # Rewrite the one progress line in place; an empty text ends it with a newline.
        width = max(tw.fullwidth - 1, 20)
        tw.write("\r" + text[:width].ljust(width) if text else "\n", flush=True)

    return Printer(reporter.write_line, live if getattr(reporter, "isatty", False) else None)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if getattr(config, "workerinput", None) is not None:
        return
    options = options_of(config)
    if not (options.trigger or options.watch_build is not None):
        if config.option.yes:
            raise pytest.UsageError("--yes only goes with --trigger-testme")
        return
    if options.trigger and options.watch_build is not None:
        raise pytest.UsageError("--trigger-testme and --watch-build do not go together: a resumed watch never posts")
    from plugins.run import settings_of

    phase = phase_of_config(config)
    path = Path(settings_of(config).state_dir) / STATUS
    text = read_optional(path)
    state = None if text is None else StateFile.parse(str(path), text)
    out = _printer(config)
    try:
        services = services_of(config)
    except GateError as exc:
        pytest.exit(f"trigger refused: could not find out: {exc}", returncode=REFUSED)
    try:
        outcome = drive(phase, state, services, options, out)
    finally:
        out.end_live()
        services.gitea.close()
        services.drone.close()
    if outcome.code is not None:
        pytest.exit(outcome.message, returncode=outcome.code)
