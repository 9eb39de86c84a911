"""The Builder's testme workflow: check the guardrails, post the post-proxy `!testme`, watch its build.

Beside `trigger` (what may be posted, plain functions) and `watch` (the reads, the post, the
polling loops), this is the sequence that ties them together; `plugins/trigger.py` is only its
pytest face (options, the terminal, the exit). Nothing here reads a pytest object.

Exit codes (the plugin stops the run with them; also in docs/trigger.md and the README): 0 the
dry run passed its checks (nothing posted), 2 interrupted while watching, 6 refused (nothing
posted), 7 the post failed (it may have landed) or will be ignored; otherwise the M1 gates run
and pytest's own codes apply (1 a gate failed, 4 a usage error).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ghostgates.drive import trigger as decide
from ghostgates.drive import watch
from ghostgates.errors import GateError
from ghostgates.fetch import drone as drone_api
from ghostgates.fetch import gitea
from ghostgates.fetch.http import ApiClient
from ghostgates.judge import compose_diff
from ghostgates.judge.classify import classify_log
from ghostgates.judge.facts import Testme, build_facts, correct_pr_number
from ghostgates.judge.rules.m1 import proxy_clear
from ghostgates.read.logtext import readable
from ghostgates.read.phase import Phase
from ghostgates.read.statefile import StateFile
from ghostgates.record import escape
from ghostgates.shapes import SwarmSnapshot
from ghostgates.timeutil import maybe_time, rfc3339

# pytest's own codes are 0 (all passed), 1 (a gate failed), 2 (interrupted), 3 (internal error),
# 4 (usage error: a bad option, a missing GITEA_URL) and 5 (nothing selected); the trigger adds:
DRY_RUN = 0          # the checks passed, nothing was posted
INTERRUPTED = 2      # Ctrl-C while watching: the build is left alone (pytest's own "interrupted")
REFUSED = 6          # a guardrail refused (or could not be checked): nothing was posted
POST_UNCERTAIN = 7   # the post failed and may have landed, or landed as a user the bridge ignores
LOCATE_LIMIT = 600.0  # local seconds to wait for the bridge to answer, at most


@dataclass
class Options:
    trigger: bool = False
    yes: bool = False
    watch_build: str | None = None
    timeout: float = decide.DEFAULT_WATCH_TIMEOUT
    interval: float = 10.0
    # The run's own command-line arguments, repeated by the resume hint (None: the plain form).
    args: tuple[str, ...] | None = None
    # The interpreter the hint names (None: the one running now, `.venv/bin/python -m pytest ...`).
    python: str | None = None


@dataclass
class Services:
    gitea: ApiClient
    drone: ApiClient
    swarm: Callable[[], SwarmSnapshot]


@dataclass
class Outcome:
    """None as code: go on to the gates. Otherwise stop with this code; `message` is the one line
    that says why, printed once by whoever stops the run (not already printed here)."""

    code: int | None
    message: str = ""


LINE_CHARS = 2000  # a printed line at most (a server's text is hostile and unbounded)


class Printer:
    """Plain lines, plus one live progress line (rewritten in place on a terminal). What it prints
    quotes servers (logins, URLs, build and step names, statuses): every line is escaped for the
    terminal and bounded here, the one door to the screen."""

    def __init__(self, write: Callable[[str], None], live: Callable[[str], None] | None = None) -> None:
        self.write = write
        self._live = live
        self._last = ""
        self._shown_at = 0.0
        self._key: list[str] | None = None

    def line(self, text: str) -> None:
        self.end_live()
        self.write(escape.terminal_lines(text[:LINE_CHARS]))

    def progress(self, text: str) -> None:
        text = escape.terminal(text[:LINE_CHARS])
        if self._live is not None:
            self._live(text)
            self._last = text
            return
        # No terminal: a new line when the state changes (not just the elapsed time), or each minute.
        key = text.split(" ", 3)[:3] + text.split("  ")[1:]
        now = time.monotonic()
        if key != self._key or now - self._shown_at >= 60:
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
        return Outcome(REFUSED, f"trigger refused: could not find out: {exc}")


def _trigger(phase: Phase, state: StateFile | None, services: Services, options: Options, out: Printer,
             sleep: Callable[[float], None]) -> Outcome:
    g, d = services.gitea, services.drone
    correct = correct_pr_number(phase, state)
    gitea_data = gitea.fetch_gitea(g, phase, correct, compose_diff.is_compose_file)
    drone_data = drone_api.fetch_drone(d, phase.drone_repo, drone_api.history_start(phase, gitea_data, correct),
                                       set(), lambda build: False)
    facts = build_facts(phase, state, gitea_data, drone_data)
    swarm = services.swarm()
    # Who would post: checked before anything is posted, with every other guardrail.
    poster = watch.token_user(g)
    member = g.membership(phase.owner, poster)
    # "Now" is the services' clock: Gitea's Date, else Drone's, else the engine's SystemTime.
    now = g.server_date or d.server_date or maybe_time(swarm.get("now"))
    refusals = decide.preflight(facts, proxy_clear(swarm, phase), now, poster=(poster, member))
    if refusals:
        return Outcome(REFUSED, "trigger refused: " + "; ".join(refusals))
    the_plan = decide.plan(facts)
    assert the_plan is not None  # preflight refuses without a correct PR
    assert now is not None  # and without the services' clock
    out.line(f"trigger: checks passed at {rfc3339(now)}: proxy clear, no blackout before "
             f"{rfc3339(now + timedelta(minutes=phase.run_minutes))} (run_minutes {phase.run_minutes:g}), "
             f"{len(facts.post_proxy_testmes())} post-proxy testme(s) so far, no build of PR #{the_plan.number} "
             f"in flight, {poster} is a member of {phase.owner}")
    out.line(f"trigger: will {the_plan.describe()}")
    if not options.yes:
        return Outcome(DRY_RUN, "trigger: dry run, nothing posted; add --yes to post it")
    try:
        comment = gitea.post_comment(g, the_plan.repo, the_plan.number, the_plan.body)
    except GateError as exc:
        # A POST is never retried: it may or may not have landed, so say so rather than "refused".
        return Outcome(POST_UNCERTAIN, f"trigger: posting failed ({exc}); it may still have landed: look at "
                                       f"{the_plan.url} before anything else (a rerun refuses while its build "
                                       "is pending or running)")
    author = (comment.get("user") or {}).get("login", "")
    out.line(f"trigger: posted comment {comment.get('id')} as {author}: {comment.get('html_url', the_plan.url)}")
    if author != poster and not g.membership(phase.owner, author):
        # The token checked above answered as someone else: say so rather than wait for nothing.
        return Outcome(POST_UNCERTAIN, f"trigger: {author} is not a member of {phase.owner}: the bridge ignores "
                                       "the comment and nothing was started (post with a member's token)")
    testme = Testme(the_plan.number, comment)

    def view() -> Any:
        return watch.pr_view(g, d, phase, state, the_plan.number)

    # A Ctrl-C anywhere from here on (between two lines as well as inside a wait) is the user's
    # "stop watching": the build is left alone and the hint names it once it is known.
    number: int | None = None
    try:
        build = watch.locate(view, testme, timeout=min(options.timeout, LOCATE_LIMIT), interval=options.interval,
                             emit=out.progress, sleep=sleep)
        if build is None:
            out.line(f"trigger: no build for testme {testme.id} yet; {_how_to_resume(None, options)}")
            return Outcome(None)
        number = int(build["number"])
        return _follow(phase, services, number, options, out, sleep,
                       announce=f"trigger: the bridge started build #{number}: {build.get('link', '')}")
    except KeyboardInterrupt:
        return _interrupted(options, number)


def _resume(phase: Phase, state: StateFile | None, services: Services, options: Options, out: Printer,
            sleep: Callable[[float], None]) -> Outcome:
    wanted = str(options.watch_build).strip().lower()
    if wanted == "latest":
        number = correct_pr_number(phase, state)
        if number is None:
            return _stop("no correct PR to find the latest build of")
        build = decide.latest_build(watch.pr_view(services.gitea, services.drone, phase, state, number), number)
        if build is None:
            return _stop(f"PR #{number} has no build of {phase.recipe} to watch")
        target = int(build["number"])
    elif wanted.isdigit():
        target = int(wanted)
    else:
        raise ValueError(f"--watch-build takes a build number or `latest`, not {options.watch_build!r}")
    out.line(f"trigger: watching build #{target} (nothing is posted)")
    return _follow(phase, services, target, options, out, sleep)


def _follow(phase: Phase, services: Services, number: int, options: Options, out: Printer,
            sleep: Callable[[float], None], announce: str = "") -> Outcome:
    try:
        if announce:
            out.line(announce)  # inside the try: a Ctrl-C right after the line still names the build
        watched = watch.follow(services.drone, phase.drone_repo, number, timeout=options.timeout,
                               interval=options.interval, emit=out.progress, sleep=sleep)
    except KeyboardInterrupt:
        return _interrupted(options, number)
    except LookupError as exc:
        return _stop(str(exc))
    build = watched.build
    if not watched.finished:
        out.line(f"trigger: build #{number} still {build.get('status')} after {options.timeout:g}s of watching; "
                 f"{_how_to_resume(number, options)}")
        return Outcome(None)
    out.line(f"trigger: ended: {decide.progress_line(build, watched.now)}")
    if decide.is_red(build):
        # The log a person reads (gates.md "A build's log"): no ANSI codes.
        found = classify_log(readable(drone_api.build_log(services.drone, phase.drone_repo, build)))
        why = f" ({found.matches[0].description}: line {found.matches[0].line_no})" if found.matches else ""
        out.line(f"trigger: build #{number} is red; its log classifies as {found.cls}{why}")
    return Outcome(None)


def _interrupted(options: Options, number: int | None) -> Outcome:
    how = _how_to_resume(number, options, "Resume watching with")
    return Outcome(INTERRUPTED, "trigger: interrupted; the build is left alone and nothing more is posted. "
                                + how[:1].upper() + how[1:])


def _how_to_resume(number: int | None, options: Options, verb: str = "resume with") -> str:
    """`resume with `CMD`` naming this run's interpreter; under --world, how to serve the world instead
    (the run's twin, and the build in it, end with the run)."""
    python = options.python or interpreter()
    if options.args is not None and decide.world_of_args(options.args) is not None:
        return decide.served_hint(number, options.args, python, decide.Served(free_ports()))
    return f"{verb} `{decide.resume_hint(number, options.args, python)}`"


def interpreter() -> str:
    """The Python running this run, as the user would type it: relative when below the working
    directory (`.venv/bin/python`), else its full path. Not resolved through symlinks: a venv's
    python is a link to the base interpreter, which lacks the venv's packages."""
    exe = sys.executable or "python3"
    try:
        rel = os.path.relpath(exe)
    except ValueError:
        return exe
    if rel.startswith(".."):
        return exe
    return rel if os.sep in rel else os.path.join(".", rel)


def free_ports(count: int = 3, fallback: int = 8930) -> int:
    """The first of `count` consecutive loopback ports free now (for the served twin's hint)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base + count > 65536:
            continue
        held: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                held.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    return fallback


def _stop(reason: str) -> Outcome:
    return Outcome(REFUSED, f"trigger refused: {reason}")
