"""Driving the phase: may the Builder post the post-proxy `!testme` now, and what did it start?

Plain functions over fetched data (no I/O): the pre-flight checks return the list of refusals
(empty means go), the plan says exactly what would be posted where, and the progress line
renders a build as the watch loop sees it. The words follow gates.md.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ghostgates.judge.facts import FINISHED, Facts, MembershipHidden, head_sha
from ghostgates.judge.verdict import PASS, Verdict
from ghostgates.timeutil import maybe_time, rfc3339

BODY = "!testme"
# Drone states of a build that has not ended: a new testme now would start a second run.
ACTIVE = ("pending", "running", "blocked", "waiting_on_dependencies")
# A testme younger than this whose build has not shown up yet may still be starting.
BRIDGE_GRACE = timedelta(minutes=10)
DEFAULT_WATCH_TIMEOUT = 1800.0
# Options that start or steer the trigger itself: the resume hint replaces them with --watch-build.
_TRIGGER_FLAGS = ("--trigger-testme", "--yes")
_TRIGGER_VALUED = ("--watch-build",)


@dataclass(frozen=True)
class Plan:
    """What the trigger posts, and where."""

    repo: str
    number: int
    url: str
    head: str
    body: str = BODY

    def describe(self) -> str:
        return f"post `{self.body}` on {self.repo} PR #{self.number} ({self.url}), head {self.head[:10] or '?'}"


def plan(facts: Facts) -> Plan | None:
    number = facts.correct_pr_number
    if number is None or facts.correct_pr is None:
        return None
    return Plan(facts.phase.repo, number, facts.pr_url(number), head_sha(facts.correct_pr))


def preflight(facts: Facts, proxy: Verdict, now: datetime | None, horizon: timedelta | None = None,
              poster: tuple[str, bool | None] | None = None) -> list[str]:
    """Every reason not to post a testme now; empty when it may be posted.

    `now` is the services' clock (never the local one); `horizon` is how long the run may take,
    the phase's `run_minutes` unless a test says otherwise: a blackout that begins inside it would
    catch the build running (M1.quiet-window), whatever the watcher's own timeout. `poster` is the
    token's login and its org membership (None: hidden from this token): the bridge obeys members
    only, so a stranger's testme would be posted and ignored.
    """
    phase = facts.phase
    if horizon is None:
        horizon = timedelta(minutes=phase.run_minutes)
    refusals: list[str] = []
    number = facts.correct_pr_number
    pr = facts.correct_pr
    if number is None:
        refusals.append("no correct PR: the state file declares none and the phase has no expected_pr")
    elif pr is None:
        refusals.append(f"the correct PR #{number} does not exist in {phase.repo}")
    elif pr.get("merged"):
        refusals.append(f"the correct PR #{number} is merged")
    elif pr.get("state") != "open":
        refusals.append(f"the correct PR #{number} is {pr.get('state') or 'not open'}, not open")
    if proxy.status != PASS:
        reason = proxy.reason.rstrip(".")  # M1.proxy-clear's own sentence says what is wrong
        refusals.append(reason[:1].lower() + reason[1:])
    if now is None:
        refusals.append("the services gave no clock (no Date header): cannot tell whether a blackout is in force")
    else:
        refusals.extend(_time_refusals(facts, now, horizon))
    try:
        testmes = facts.post_proxy_testmes()
        limit, waiver = phase.waived_limit("M1.attempt-budget", phase.max_post_proxy_attempts)
        if len(testmes) + 1 > limit:
            by = f" (waiver by {waiver.by})" if waiver else ""
            refusals.append(f"{len(testmes)} post-proxy testme(s) already; one more would exceed the limit of "
                            f"{limit}{by}: ask the operator for a waiver (M1.attempt-budget)")
        if number is not None and pr is not None:
            refusals.extend(_in_flight(facts, number, now))
    except MembershipHidden as exc:
        # The attempts already made cannot be counted: refusing is the only safe answer.
        refusals.append(f"cannot count the post-proxy testmes: Gitea hides org membership of {exc.login} from "
                        f"this token: use a token of a {exc.org} member or an admin")
    if poster is not None:
        login, member = poster
        if member is None:
            refusals.append(f"Gitea hides org membership of {login} from this token: use a token of a "
                            f"{phase.owner} member or an admin")
        elif not member:
            refusals.append(f"{login} (the token's user) is not a member of {phase.owner}: the bridge would "
                            "ignore its testme (post with a member's token)")
    return refusals


def _time_refusals(facts: Facts, now: datetime, horizon: timedelta) -> list[str]:
    out = []
    fixed = facts.phase.proxy_fixed_at
    if fixed is None:
        out.append("the phase has no proxy_fixed_at: until the proxy fix is verified no testme is post-proxy")
    elif now <= fixed:
        out.append(f"now ({rfc3339(now)}) is not after the proxy fix ({rfc3339(fixed)}): the testme would be "
                   "pre-proxy")
    for blackout in facts.phase.blackouts:
        if blackout.start <= now < blackout.end:
            out.append(f"blackout '{blackout.name}' is in force until {rfc3339(blackout.end)} "
                       f"(now {rfc3339(now)})")
        elif now < blackout.start < now + horizon:
            out.append(f"blackout '{blackout.name}' starts at {rfc3339(blackout.start)}, before a run started now "
                       f"could end (now {rfc3339(now)} + {_span(horizon.total_seconds())})")
    return out


def _in_flight(facts: Facts, number: int, now: datetime | None) -> list[str]:
    out = []
    for build in facts.builds_of_pr(number):
        if build.get("status") in ACTIVE:
            out.append(f"build #{build['number']} of PR #{number} is {build['status']}: watch it with "
                       f"`pytest gates/m1 --watch-build {build['number']}` instead of posting again")
    testmes = facts.testmes(number)
    if testmes and now is not None:
        last = testmes[-1]
        if facts.started_build(last) is None and now - last.at < BRIDGE_GRACE:
            out.append(f"testme {last.id} on PR #{number} ({rfc3339(last.at)}) has no build yet: the bridge may "
                       "still be starting it")
    return out


def latest_build(facts: Facts, number: int) -> dict[str, Any] | None:
    builds = facts.builds_of_pr(number)
    return max(builds, key=lambda b: int(b["number"])) if builds else None


def is_finished(build: dict[str, Any]) -> bool:
    """Ended, one way or another (a killed build has ended but is no verdict)."""
    return build.get("status") not in ACTIVE


def is_red(build: dict[str, Any]) -> bool:
    return build.get("status") in FINISHED and build.get("status") != "success"


def current_step(build: dict[str, Any]) -> tuple[str, str, int, int]:
    """(stage, step, step index from 1, steps in the stage) of what is running now, else the last that ran."""
    chosen: tuple[str, str, int, int] = ("", "", 0, 0)
    for stage in build.get("stages") or []:
        steps = stage.get("steps") or []
        for i, step in enumerate(steps, start=1):
            status = step.get("status")
            if status == "running":
                return stage.get("name", ""), step.get("name", ""), i, len(steps)
            if status not in (None, "pending", "skipped"):
                chosen = (stage.get("name", ""), step.get("name", ""), i, len(steps))
    return chosen


def elapsed(build: dict[str, Any], now: datetime | None) -> float | None:
    """Seconds the build has run: to its end if it ended, else to the services' now."""
    started = maybe_time(build.get("started"))
    if started is None:
        return None
    end = maybe_time(build.get("finished")) if is_finished(build) else now
    if end is None:
        return None
    return max((end - started).total_seconds(), 0.0)


def progress_line(build: dict[str, Any], now: datetime | None) -> str:
    """One line: `build #57 running 12m05s  stage default  step upgrade (3/4)`."""
    parts = [f"build #{build.get('number')} {build.get('status', '?')}"]
    seconds = elapsed(build, now)
    parts[0] += f" {_span(seconds)}" if seconds is not None else " (not started)"
    stage, step, index, count = current_step(build)
    if stage:
        parts.append(f"stage {stage}")
    if step:
        parts.append(f"step {step} ({index}/{count})")
    return "  ".join(parts)


def _span(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


# Options of a --world run that only the run's own twin understands: a served twin takes none of them.
_WORLD_VALUED = ("--world", "--twin-fault", "--twin-latency-ms", "--swarm")
SERVED_TOKENS = ("twin-gitea", "twin-drone")  # a served twin's tokens in the hint: loopback test doubles


@dataclass(frozen=True)
class Served:
    """How the hint of a --world run serves its world instead: the first of three free ports, and
    the state dir that receives the world's files when the run had none of its own."""

    port: int
    state_dir: str = "ghost-gates-twin-state"


def resume_hint(build_number: int | None, args: tuple[str, ...] | None = None, python: str | None = None) -> str:
    """The command that resumes watching: the run's own arguments (paths, --phase, --state-dir, ...)
    with the trigger's flags replaced by `--watch-build N`. Without `args`: the plain form.
    `python`: the interpreter the run used (`.venv/bin/python -m pytest ...`); None: bare `pytest`."""
    target = str(build_number) if build_number is not None else "latest"
    runner = f"{shlex.quote(python)} -m pytest" if python else "pytest"
    if args is None:
        return f"{runner} gates/m1 --watch-build {target}"
    kept = [shlex.quote(arg) for arg in _without(args, _TRIGGER_FLAGS, _TRIGGER_VALUED)]
    return " ".join([runner, *kept, "--watch-build", target])


def world_of_args(args: tuple[str, ...] | None) -> str | None:
    """The world file a run's arguments name (`--world W` or `--world=W`), if any."""
    for i, arg in enumerate(args or ()):
        if arg == "--world" and i + 1 < len(args or ()):
            return (args or ())[i + 1]
        if arg.startswith("--world="):
            return arg.split("=", 1)[1]
    return None


def served_hint(build_number: int | None, args: tuple[str, ...], python: str, served: Served) -> str:
    """What a --world run says instead of a resume command: its twin, and the build in it, end with
    the run, so nothing can be resumed. Two commands that work when copied: serve the world (its
    files into the state dir) on fixed ports and tokens, and run the same trigger against it as
    against live services; that run's own hint then resumes against the served twin."""
    world = world_of_args(args) or "WORLD"
    rest = _without(args, (), _WORLD_VALUED)
    state_dir = _value(rest, "--state-dir")
    if state_dir is None:
        state_dir = served.state_dir
        rest = [*rest, "--state-dir", state_dir]
    gitea_token, drone_token = SERVED_TOKENS
    serve = " ".join([shlex.quote(python), "-m", "twin", "serve", shlex.quote(world), "--port", str(served.port),
                      "--gitea-token", gitea_token, "--drone-token", drone_token, "--state-dir",
                      shlex.quote(state_dir)])
    env = (f"GITEA_URL=http://127.0.0.1:{served.port} GITEA_TOKEN={gitea_token} "
           f"DRONE_SERVER=http://127.0.0.1:{served.port + 1} DRONE_TOKEN={drone_token} "
           f"DOCKER_HOST=tcp://127.0.0.1:{served.port + 2}")
    # Exported, so that the served run's own hint (which names no address) works in the same shell.
    run = " ".join([f"export {env};", shlex.quote(python), "-m", "pytest", *(shlex.quote(a) for a in rest)])
    which = f"build #{build_number}" if build_number is not None else "its build"
    return (f"this --world run's twin ended with the run, and {which} with it, so there is nothing to resume; "
            f"to watch a build you can come back to, serve the world in another terminal with `{serve}`, then "
            f"run `{run}` (its own hint then resumes against that twin)")


def _without(args: tuple[str, ...] | list[str], flags: tuple[str, ...], valued: tuple[str, ...]) -> list[str]:
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in flags or any(arg.startswith(f + "=") for f in valued):
            continue
        if arg in valued:
            skip = True
            continue
        kept.append(arg)
    return kept


def _value(args: list[str], option: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return None
