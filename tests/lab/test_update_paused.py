"""A service update paused during a slow start (the MySQL data-dir upgrade, in miniature).

The new version becomes healthy only after DELAY seconds (`sleep DELAY; touch /tmp/ready`,
health check `test -f /tmp/ready`). Three updates run side by side:

- `short`: the health check gives up (interval 1s x 2 retries, no start period) before the start
  ends, update monitor 2s, failure action pause: the update pauses.
- `longmon`: the same health check with a monitor far longer than the start: it pauses all the
  same. A task that never became healthy fails before the monitor window opens, so the monitor
  is not the setting that saves a slow start; the health check's allowance is.
- `fits`: a health-check start period and a monitor both longer than the start: it completes.

The suite reads `UpdateStatus.State` from the engine's service JSON, and the classifier calls the
log the deploy printed `recipe-timing` (`infra` once an address-exhaustion line joins it).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import docker
import docker.types

from ghostgates.fetch.engine import EngineTarget, read_swarm
from ghostgates.judge.classify import classify_log

from .conftest import Lab, docker_host, note, running_replicas, task_state, wait_for

DELAY = 6  # seconds the new version needs before it is healthy
S = 1_000_000_000  # the engine counts durations in nanoseconds


@dataclass(frozen=True)
class Variant:
    key: str
    monitor_s: float
    start_period_s: float
    expect: str

    @property
    def allowance_s(self) -> float:
        """How long the health check lets a task be unhealthy: start period + interval x retries."""
        return self.start_period_s + 1 * 2


VARIANTS = (
    Variant("short", monitor_s=2, start_period_s=0, expect="paused"),
    Variant("longmon", monitor_s=20, start_period_s=0, expect="paused"),
    Variant("fits", monitor_s=DELAY + 2, start_period_s=DELAY + 6, expect="completed"),
)


def _deploy_log(api: Any, name: str) -> str:
    """What a deploy step prints about a service: its UpdateStatus and its tasks' errors."""
    svc = api.inspect_service(name)
    lines = [f"{name}: UpdateStatus {json.dumps(svc.get('UpdateStatus'))}"]
    for task in task_state(api, name):
        status = task["Status"]
        lines.append(f"{name}.{task.get('Slot')} {task['ID']} {task['DesiredState']} {status['State']} "
                     f"{json.dumps(status.get('Err') or status.get('Message'))}")
    return "\n".join(lines)


def test_update_paused_by_slow_start_is_recipe_timing(
        lab: Lab, engine: docker.DockerClient, record_property: Any) -> None:
    api = engine.api
    names = {v.key: lab.name(f"slow-{v.key}") for v in VARIANTS}
    for v in VARIANTS:
        lab.service(
            names[v.key], ["sh", "-c", "sleep $DELAY; touch /tmp/ready; exec sleep 1d"],
            env=["DELAY=0"],
            healthcheck=docker.types.Healthcheck(
                test=["CMD", "test", "-f", "/tmp/ready"], interval=1 * S, timeout=1 * S, retries=2,
                start_period=int(v.start_period_s * S)),
            update_config=docker.types.UpdateConfig(
                parallelism=1, delay=0, failure_action="pause", monitor=int(v.monitor_s * S),
                order="stop-first"))
    for name in names.values():
        wait_for(f"{name} healthy", lambda name=name: running_replicas(api, name) == 1, 40)

    started: dict[str, float] = {}
    for v in VARIANTS:
        engine.services.get(names[v.key]).update(env=[f"DELAY={DELAY}"])
        started[v.key] = time.monotonic()

    outcome: dict[str, tuple[str, float]] = {}

    def all_settled() -> bool:
        for v in VARIANTS:
            if v.key in outcome:
                continue
            state = (api.inspect_service(names[v.key]).get("UpdateStatus") or {}).get("State")
            if state in ("paused", "completed", "rollback_completed", "rollback_paused"):
                outcome[v.key] = (state, time.monotonic() - started[v.key])
        return len(outcome) == len(VARIANTS)

    wait_for("every update to pause or complete", all_settled, 60, interval=0.25)

    swarm = read_swarm(EngineTarget(docker_host()))
    read = {s["Spec"]["Name"]: (s.get("UpdateStatus") or {}) for s in swarm["services"]}
    note(f"\n[update] new version healthy after {DELAY}s; health check interval 1s x 2 retries")
    for v in VARIANTS:
        state, seconds = outcome[v.key]
        status = read[names[v.key]]
        line = (f"[update] {v.key}: monitor {v.monitor_s:g}s, health allowance {v.allowance_s:g}s "
                f"(start period {v.start_period_s:g}s) -> {state} after {seconds:.1f}s; "
                f"the suite reads UpdateStatus.State={status.get('State')!r} "
                f"Message={status.get('Message')!r}")
        note(line)
        record_property(f"update_{v.key}", line)
    for v in VARIANTS:
        assert outcome[v.key][0] == v.expect, (v, outcome[v.key])
        assert read[names[v.key]].get("State") == v.expect

    paused_log = _deploy_log(api, names["short"])
    done_log = _deploy_log(api, names["fits"])
    note("[update] deploy log of the paused update:\n  " + paused_log.replace("\n", "\n  "))
    timing = classify_log(paused_log)
    note(f"[update] classify_log -> {timing.cls} ({', '.join(sorted({m.name for m in timing.matches}))})")
    assert timing.cls == "recipe-timing"
    assert classify_log(done_log).cls != "recipe-timing", done_log
    # the confound: a pause under address exhaustion is infra, never the recipe
    exhausted = ('time="2026-06-12T09:14:03Z" level=error msg="task allocation failure" '
                 'error="failed to allocate network IP for task x network y: could not find an available IP"')
    assert classify_log(paused_log + "\n" + exhausted).cls == "infra"
