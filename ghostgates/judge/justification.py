"""Is a deploy-timing change justified from logs? (gates.md `M2.fix-minimal`)

gates.md: a comment (by anyone), or the state file's `## Justification` section, *states*
`Build:` (a build of the correct PR), `Upgrade took:` and `Old window:`, where the old window's
key is one the PR changes, its value is what the PR's merge base has there (or `default` where
the base sets none, or the engine's default written out), and the upgrade took longer than that
window. Where that build's log shows the upgrade's start and end (upgrade markers), a stated
duration more than 10% away from what the log shows is contradicted.

Nothing here reads prose: the statements come from `ghostgates.read.statements`, the values the
change replaces from the compose diff, the measurement from `ghostgates.judge.upgrade`. Pure
functions; the caller gathers the texts, the diff and the logs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ghostgates.judge import upgrade
from ghostgates.read import statements as st

# The engine's defaults where the base sets none (docker stack deploy leaves them to the engine).
# gates.md lists Docker's: update_config/rollback_config monitor 5s, healthcheck interval 30s,
# timeout 30s, start_period 0s, stop_grace_period 10s. The others from the same sources:
#   swarmkit api/defaults/service.go: Update/Rollback Monitor 5s, Delay 0; Restart Delay 5s, Window 0
#   moby daemon/health.go: interval 30s, timeout 30s, start period 0, start interval 5s
ENGINE_DEFAULTS: dict[str, float] = {
    "update_config.monitor": 5.0,
    "update_config.delay": 0.0,
    "rollback_config.monitor": 5.0,
    "rollback_config.delay": 0.0,
    "restart_policy.delay": 5.0,
    "restart_policy.window": 0.0,
    "healthcheck.interval": 30.0,
    "healthcheck.timeout": 30.0,
    "healthcheck.start_period": 0.0,
    "healthcheck.start_interval": 5.0,
    "stop_grace_period": 10.0,  # swarmkit api/defaults/service.go: StopGracePeriod 10s
}


@dataclass(frozen=True)
class Window:
    """A timing key the PR changes, as the compose diff shows it."""

    file: str
    service: str
    key: str  # under the service, without `deploy.`: `update_config.monitor`
    before: Any  # the merge base's value (None: the base sets none)
    after: Any  # the value the PR sets (None: it removes the key)

    @property
    def label(self) -> str:
        return f"{self.service}.{self.key}"

    @property
    def old_seconds(self) -> float | None:
        """The old window in seconds: the base's value, or the engine's default where it sets none."""
        if self.before is None:
            return ENGINE_DEFAULTS.get(self.key)
        return _value_seconds(self.before)

    @property
    def new_seconds(self) -> float | None:
        return _value_seconds(self.after)

    def old_text(self) -> str:
        """The `Old window` value the Builder writes for this key: `<key> <base value>` or `<key> default`."""
        return f"{self.key} {self.before}" if self.before is not None else f"{self.key} default"


def _value_seconds(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    return st.seconds_of(str(value))


def windows_from_changes(changes: Iterable[Any]) -> list[Window]:
    """The timing keys a compose diff changes (compose_diff.Change objects with a service path)."""
    out: list[Window] = []
    for change in changes:
        parts = str(getattr(change, "path", "") or "").split(".")
        if len(parts) < 3 or parts[0] != "services":
            continue
        rest = parts[2:]
        if rest[0] == "deploy":
            rest = rest[1:]
        if rest:
            out.append(Window(str(change.file), parts[1], ".".join(rest), change.before, change.after))
    return out


@dataclass(frozen=True)
class Justification:
    """A source whose statements justify the fix."""

    source: str  # "comment 410" or "STATUS-ghost.md ## Justification"
    build: int
    took_seconds: float
    window: Window
    window_seconds: float
    measured: upgrade.Measured | None  # what the build's log shows, where its markers do


@dataclass(frozen=True)
class Rejected:
    """A source that states some of the lines but does not justify the fix, and the one sentence
    that says which line to add or correct."""

    source: str
    why: str
    undecided: bool = False  # the build's log could not be read: neither pass nor fail
    given: int = 0  # how many of the three lines the source states (the fullest attempt is named first)


Outcome = Justification | Rejected
LogOf = Callable[[int], tuple[str | None, str | None]]  # build -> (its log, why it could not be read)


def _secs(seconds: float | None) -> str:
    return "?" if seconds is None else st.format_seconds(seconds)


def judge(source: str, stated: st.Statements, windows: list[Window], builds: set[int], log_of: LogOf,
          drone_repo: str, markers: tuple[upgrade.Markers, ...]) -> Outcome | None:
    """What one source's statements say of the fix; None where it states none of the three lines."""
    got = _judge(source, stated, windows, builds, log_of, drone_repo, markers)
    if isinstance(got, Rejected):
        given = sum(1 for k in (st.BUILD, st.UPGRADE_TOOK, st.OLD_WINDOW) if stated.given(k))
        return Rejected(got.source, got.why, got.undecided, given)
    return got


def _judge(source: str, stated: st.Statements, windows: list[Window], builds: set[int], log_of: LogOf,
           drone_repo: str, markers: tuple[upgrade.Markers, ...]) -> Outcome | None:
    lines = (st.BUILD, st.UPGRADE_TOOK, st.OLD_WINDOW)
    if not any(stated.given(k) for k in lines):
        return None
    where = source
    for key in lines:
        if stated.conflict(key):
            values = " and ".join(f"`{key}: {st.shown(v)}`" for v in stated.conflict(key))
            return Rejected(source, f"{where} gives {values}, which name different things: keep one")
    missing = [k for k in lines if stated.value(k) is None]
    if missing:
        adds = ", ".join(f"`{k}: ...`" for k in missing)
        return Rejected(source, f"add {adds} to {where}")
    build = st.build_ref(stated.value(st.BUILD), drone_repo)
    said_build, said_took = st.shown(stated.value(st.BUILD)), st.shown(stated.value(st.UPGRADE_TOOK))
    if build is None:
        return Rejected(source, f"correct `Build: {said_build}` in {where}: it names no one build")
    if build not in builds:
        return Rejected(source, f"correct `Build: {said_build}` in {where}: build #{build} is not a "
                                "build of the correct PR")
    took = st.upgrade_took(stated.value(st.UPGRADE_TOOK))
    if took is None:
        return Rejected(source, f"correct `Upgrade took: {said_took}` in {where}: write a "
                                "duration (`96 s`, `1m36s`)")
    window_text = stated.value(st.OLD_WINDOW) or ""
    ow = st.old_window(window_text)
    said_window = st.shown(window_text)
    if ow is None:
        return Rejected(source, f"correct `Old window: {said_window}` in {where}: write the key and the value it "
                                "replaces (`update_config.monitor 5s`, or `default` where the base sets none)")
    found = _window(ow, windows)
    if isinstance(found, str):
        return Rejected(source, f"correct `Old window: {said_window}` in {where}: {found}")
    window, seconds = found
    log, error = log_of(build)
    measured = upgrade.measure(log, markers) if log is not None else None
    if log is None and error:
        return Rejected(source, f"the log of build #{build} could not be read ({error}), so `Upgrade took` in "
                                f"{where} can be neither confirmed nor contradicted", undecided=True)
    if measured is not None and upgrade.contradicts(took, measured.seconds):
        return Rejected(source, f"correct `Upgrade took: {said_took}` in {where}: the log of "
                                f"build #{build} shows the upgrade took {_secs(measured.seconds)} (from its "
                                "upgrade markers), more than 10% away")
    if not took > seconds:
        return Rejected(source, f"{where} states the upgrade took {_secs(took)}, not longer than the old window "
                                f"of {window.label} ({_secs(seconds)}): the fix is not justified by it")
    return Justification(source, build, took, window, seconds, measured)


def _window(ow: st.OldWindow, windows: list[Window]) -> tuple[Window, float] | str:
    """The change a stated old window speaks of and the old window's seconds, or why it speaks of none."""
    named = [w for w in windows if w.key == ow.key and (ow.service is None or w.service == ow.service)]
    if not named:
        changed = ", ".join(sorted({w.label for w in windows})) or "no timing key"
        return f"the PR does not change {ow.service + '.' if ow.service else ''}{ow.key} (it changes {changed})"
    services = sorted({w.service for w in named})
    if ow.service is None and len(services) > 1:
        return (f"the PR changes {ow.key} in {' and '.join(services)}: name the service "
                f"(`{services[0]}.{ow.key} ...`)")
    window = named[0]
    new = window.new_seconds
    if window.before is None:
        default = ENGINE_DEFAULTS.get(window.key)
        if default is None:
            return f"the merge base sets no {window.label}, and the engine's default for it is not a duration"
        if ow.is_default or (ow.seconds is not None and abs(ow.seconds - default) < 0.5):
            return window, default
        if new is not None and ow.seconds is not None and abs(ow.seconds - new) < 0.5:
            return (f"{_secs(ow.seconds)} is the new value the PR sets; the merge base sets none, so the old window "
                    f"is `{window.key} default` (the engine's default, {_secs(default)})")
        return (f"the merge base sets no {window.label}: the old window is `{window.key} default` (the engine's "
                f"default, {_secs(default)})")
    old = _value_seconds(window.before)
    if old is None:
        return f"the merge base's {window.label} ({window.before!r}) is not a duration"
    if ow.seconds is not None and abs(ow.seconds - old) < 0.5:
        return window, old
    if new is not None and ow.seconds is not None and abs(ow.seconds - new) < 0.5:
        return (f"{_secs(ow.seconds)} is the new value the PR sets; the merge base has {window.before}, so write "
                f"`{window.key} {window.before}`")
    return f"the merge base has {window.label} {window.before}: write `{window.key} {window.before}`"


def decide(sources: list[tuple[str, st.Statements]], windows: list[Window], builds: set[int], log_of: LogOf,
           drone_repo: str, markers: tuple[upgrade.Markers, ...]
           ) -> tuple[Justification | None, list[Rejected]]:
    """The first source that justifies the fix, and every source that tried and did not (the fullest
    attempts first)."""
    rejected: list[Rejected] = []
    for source, stated in sources:
        got = judge(source, stated, windows, builds, log_of, drone_repo, markers)
        if isinstance(got, Justification):
            return got, rejected
        if got is not None:
            rejected.append(got)
    return None, sorted(rejected, key=lambda r: -r.given)
