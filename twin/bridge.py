"""The CI bridge, played by the twin: a member's `!testme` on a PR starts a harness build.

What the real cc-ci bridge does (gates.md "Its build"), on a compressed clock:

- a comment whose first word is exactly `!testme`, by a member of the repo's organisation, on
  a PR of a world repo starts a `custom` build on the harness repo (`phase.drone_repo`) with the
  params `{recipe, pr, sha}` under the phase's `build_params` names; everyone else is ignored;
- a second later the bridge answers with a reply comment (as `bridge.login`) citing
  `build #N` and its URL, and a pending `status_context` status on the PR head;
- the build waits `queue` world seconds, runs its steps for `duration` world seconds, then ends
  with the trigger's outcome, and the bridge posts the final status and a closing comment.

The world's clock stands still until the first accepted testme; from then on it runs at
`speed` world seconds per real second (a 20-minute build ends in two seconds at 600). Every
request first syncs the clock into the three services and moves the builds along, so the Date
header, the new objects' times and the builds' states always agree.

The world's `bridge:` block (docs/worlds.md) says who the bridge is and how each testme ends;
a world without it gets the defaults below.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from twin.http import NotFound

__all__ = ["Bridge", "BridgePhase", "BridgeSpec", "Clock", "TriggerSpec", "attach_bridge", "is_testme"]

DEFAULT_LOGIN = "cc-ci"
DEFAULT_SPEED = 600.0
DEFAULT_QUEUE = 10  # world seconds between the testme and the build running
DEFAULT_DURATION = 1200  # a 20-minute run is normal
DEFAULT_STEPS = ("clone", "deploy", "upgrade", "test")
REPLY_DELAY = 1  # world seconds: the bridge answers after the testme, never at the same instant
OUTCOMES = ("success", "failure", "error", "killed")
# Gitea's status states have no `killed`: a cancelled run shows as an error.
_STATUS_OF = {"success": "success", "failure": "failure", "error": "error", "killed": "error"}
_VERB = {"success": "passed", "failure": "failed", "error": "errored", "killed": "was killed"}


def is_testme(body: str) -> bool:
    """The first word is exactly `!testme` (`!testmexyz` is not)."""
    words = (body or "").split()
    return bool(words) and words[0] == "!testme"


@dataclass(frozen=True)
class TriggerSpec:
    outcome: str = "success"
    duration: int = DEFAULT_DURATION
    log: str | None = None
    steps: tuple[str, ...] = DEFAULT_STEPS

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> TriggerSpec:
        return cls(
            outcome=str(data.get("outcome", "success")),
            duration=int(data.get("duration", DEFAULT_DURATION)),
            log=data.get("log"),
            steps=tuple(data.get("steps") or DEFAULT_STEPS),
        )

    def final_log(self) -> str:
        if self.log is not None:
            return self.log
        return "test upgrade: PASSED" if self.outcome == "success" else f"test upgrade: {self.outcome.upper()}"


@dataclass(frozen=True)
class BridgeSpec:
    login: str = DEFAULT_LOGIN
    poster: str | None = None
    speed: float = DEFAULT_SPEED
    queue: int = DEFAULT_QUEUE
    triggers: tuple[TriggerSpec, ...] = ()

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None) -> BridgeSpec:
        data = data or {}
        return cls(
            login=str(data.get("login", DEFAULT_LOGIN)),
            poster=data.get("poster"),
            speed=float(data.get("speed", DEFAULT_SPEED)),
            queue=int(data.get("queue", DEFAULT_QUEUE)),
            triggers=tuple(TriggerSpec.from_mapping(t) for t in data.get("triggers") or ()),
        )

    def trigger(self, index: int) -> TriggerSpec:
        """The n-th accepted testme's plan; past the list's end the last entry repeats."""
        if not self.triggers:
            return TriggerSpec()
        return self.triggers[min(index, len(self.triggers) - 1)]


@dataclass(frozen=True)
class BridgePhase:
    """The three phase keys the bridge acts on, read from the world's `phase:` block itself.

    The twin is a witness, not a client of the product: it does not import the suite's Phase.
    Missing or odd values fall back to the harness's defaults (gates.md "Phase settings").
    """

    drone_repo: str = "recipe-maintainers/cc-ci"
    build_params: tuple[tuple[str, str], ...] = (("recipe", "RECIPE"), ("pr", "PR"), ("sha", "REF"))
    status_context: str = "cc-ci/testme"

    @classmethod
    def from_world(cls, phase: dict[str, Any] | None) -> BridgePhase:
        phase = phase or {}
        default = cls()
        repo = phase.get("drone_repo")
        context = phase.get("status_context")
        given = phase.get("build_params")
        names = dict(default.build_params)
        if isinstance(given, dict):
            names = {which: str(given.get(which) or which.upper()) for which in ("recipe", "pr", "sha")}
        return cls(
            drone_repo=repo if isinstance(repo, str) and repo.count("/") == 1 else default.drone_repo,
            build_params=tuple(names.items()),
            status_context=context if isinstance(context, str) and context else default.status_context,
        )

    def param(self, which: str) -> str:
        return dict(self.build_params)[which]


class Clock:
    """The world's clock: still until started, then `speed` world seconds per real second."""

    def __init__(self, start: datetime, speed: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.start = start
        self.speed = speed
        self._monotonic = monotonic
        self._t0: float | None = None

    @property
    def running(self) -> bool:
        return self._t0 is not None

    def run(self) -> None:
        if self._t0 is None:
            self._t0 = self._monotonic()

    def now(self) -> datetime:
        if self._t0 is None:
            return self.start
        return self.start + timedelta(seconds=(self._monotonic() - self._t0) * self.speed)


@dataclass
class _Run:
    """One accepted testme and the build it started."""

    repo: Any  # twin.gitea.models.RepoState
    pr: int
    sha: str
    at: datetime
    plan: TriggerSpec
    build: dict[str, Any]
    queue: int = DEFAULT_QUEUE
    done: set[str] = field(default_factory=set)  # the events already applied

    @property
    def running_at(self) -> datetime:
        return self.at + timedelta(seconds=self.queue)

    @property
    def ends_at(self) -> datetime:
        return self.running_at + timedelta(seconds=self.plan.duration)


class Bridge:
    """Reacts to comments (the webhook) and moves its builds along on every sync."""

    def __init__(self, state: Any, spec: BridgeSpec, phase: BridgePhase, drone_url: str) -> None:
        self.state = state
        self.spec = spec
        self.phase = phase
        self.drone_url = drone_url.rstrip("/")
        self.clock = Clock(state.world.now, spec.speed)
        self.runs: list[_Run] = []
        self._lock = threading.RLock()

    # --- the clock ------------------------------------------------------------------------

    def sync(self, apps: Iterable[Any] = ()) -> datetime:
        """Bring every clock holder to the world's now, then apply the runs' due events."""
        with self._lock:
            now = self.clock.now()
            for holder in (self.state.gitea, self.state.drone, self.state.docker, *apps):
                holder.now = now
            for run in self.runs:
                self._advance(run, now)
            return now

    # --- the webhook ----------------------------------------------------------------------

    def on_comment(self, repo: Any, number: int, comment: dict[str, Any]) -> None:
        author = (comment.get("user") or {}).get("login", "")
        if not is_testme(comment.get("body") or "") or not self._is_member(repo.owner, author):
            return  # the bridge obeys only members, and only an exact `!testme`
        with self._lock:
            pull = repo.pulls[number]
            sha = str((pull.get("head") or {}).get("sha", ""))
            at = self.clock.now()
            drone_repo = self.phase.drone_repo
            owner, name = drone_repo.split("/", 1)
            params = {self.phase.param("recipe"): repo.name, self.phase.param("pr"): str(number),
                      self.phase.param("sha"): sha}
            drone = self.state.drone
            drone.now = at
            try:
                build = drone.create_build(owner, name, branch=None, commit=None, action=None, params=params,
                                           message=f"!testme {repo.full_name}#{number}")
            except NotFound:
                return  # the world has no harness repo: no bridge to answer
            self.clock.run()
            plan = self.spec.trigger(len(self.runs))
            build.update({"trigger": self.spec.login, "sender": self.spec.login})
            drone.set_stages(owner, name, int(build["number"]), [self._stage(build, plan)])
            run = _Run(repo=repo, pr=number, sha=sha, at=at, plan=plan, build=build, queue=self.spec.queue)
            self.runs.append(run)

    def _is_member(self, org: str, login: str) -> bool:
        # The bridge runs with its own (member's) token: it sees every membership.
        try:
            return bool(self.state.gitea.is_member(org, login))
        except NotFound:
            return False

    # --- moving a run along ---------------------------------------------------------------

    def _link(self, run: _Run) -> str:
        return f"{self.drone_url}/{self.phase.drone_repo}/{run.build['number']}"

    @staticmethod
    def _stage(build: dict[str, Any], plan: TriggerSpec) -> dict[str, Any]:
        steps = [{"name": step, "status": "pending", "log": ""} for step in plan.steps]
        return {"name": "default", "status": "pending", "steps": steps}

    def _advance(self, run: _Run, now: datetime) -> None:
        reply_at = run.at + timedelta(seconds=REPLY_DELAY)
        if now >= reply_at and "reply" not in run.done:
            run.done.add("reply")
            n = run.build["number"]
            self._comment(run, f"build #{n} started for {run.repo.full_name} PR #{run.pr}: {self._link(run)}",
                          reply_at)
            self._status(run, "pending", f"build #{n} is running", reply_at)
        build = run.build
        stage = build["stages"][0]
        if now >= run.running_at and "running" not in run.done:
            run.done.add("running")
            started = int(run.running_at.timestamp())
            build.update({"status": "running", "started": started, "updated": started})
            stage.update({"status": "running", "started": started})
        if "running" in run.done and "finished" not in run.done:
            self._move_steps(run, min(now, run.ends_at))
        if now >= run.ends_at and "finished" not in run.done:
            run.done.add("finished")
            end = int(run.ends_at.timestamp())
            outcome = run.plan.outcome
            build.update({"status": outcome, "finished": end, "updated": end})
            stage.update({"status": outcome, "stopped": end})
            n = build["number"]
            self._status(run, _STATUS_OF[outcome], f"build #{n} {_VERB[outcome]}", run.ends_at)
            self._comment(run, f"build #{n} {_VERB[outcome]}: {self._link(run)}", run.ends_at)

    def _move_steps(self, run: _Run, moment: datetime) -> None:
        """Each step takes an equal share of the run; the last one ends with the outcome."""
        steps = run.build["stages"][0]["steps"]
        share = run.plan.duration / max(len(steps), 1)
        elapsed = (moment - run.running_at).total_seconds()
        start = int(run.running_at.timestamp())
        finished = moment >= run.ends_at
        for i, step in enumerate(steps):
            begins, ends = start + round(i * share), start + round((i + 1) * share)
            last = i == len(steps) - 1
            if finished or elapsed >= (i + 1) * share:
                step.update({"status": run.plan.outcome if last else "success", "started": begins, "stopped": ends,
                             "log": run.plan.final_log() if last else f"{step['name']}: ok"})
            elif elapsed >= i * share:
                step.update({"status": "running", "started": begins, "log": f"{step['name']}: running"})

    def _comment(self, run: _Run, body: str, at: datetime) -> None:
        self.state.gitea.add_comment(run.repo.owner, run.repo.name, run.pr, login=self.spec.login, body=body, at=at)

    def _status(self, run: _Run, state: str, description: str, at: datetime) -> None:
        self.state.gitea.add_status(run.repo.owner, run.repo.name, run.sha, state=state,
                                    context=self.phase.status_context, target_url=self._link(run),
                                    description=description, creator=self.spec.login, at=at)


class _Clocked:
    """WSGI middleware: sync the world's clock and the bridge's builds before each request."""

    def __init__(self, app: Any, bridge: Bridge) -> None:
        self.app = app
        self.bridge = bridge

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.bridge.sync((self.app,))
        return self.app(environ, start_response)


def attach_bridge(state: Any, servers: list[Any], drone_url: str) -> Bridge:
    """Make the twin play the bridge: hook Gitea's comment creation, clock every service app."""
    world = state.world
    phase = BridgePhase.from_world(world.phase)
    spec = BridgeSpec.from_mapping((world.raw or {}).get("bridge"))
    bridge = Bridge(state, spec, phase, drone_url)
    if spec.poster:
        state.gitea.user = spec.poster  # the twin's token acts as this login (the Builder running the trigger)
    state.gitea.comment_hooks.append(bridge.on_comment)
    for server in servers:
        server.app = _Clocked(server.app, bridge)
    return bridge
