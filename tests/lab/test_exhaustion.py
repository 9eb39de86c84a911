"""M1.proxy-clear on a real engine: an overlay network runs out of addresses.

A /29 overlay has 6 host addresses; the engine's IPAM keeps one for the gateway. One service
takes a VIP, a task address and the node's load-balancer address; a second service with three
replicas takes a VIP and one task address, and its two other tasks stay in `new`; a third
service gets no VIP at all. The engine writes the allocation errors to its log, not onto the
tasks (they keep the message `created`), so the check reads both the Swarm and the log.
"""

from __future__ import annotations

import os
import time
from typing import Any

import docker
import pytest

from ghostgates.fetch import hostcheck
from ghostgates.fetch.engine import EngineTarget, read_swarm
from ghostgates.judge.classify import classify_log
from ghostgates.judge.rules.m1 import proxy_clear
from ghostgates.read.phase import Phase

from .conftest import Lab, docker_host, note, running_replicas, task_state, wait_for

SUBNET = os.environ.get("GHOSTGATES_LAB_SUBNET", "10.213.255.248/29")
STUCK_MINUTES = 0.05  # 3 s: the lab cannot wait the phase's 10 minutes


def _snapshot(network: str) -> dict[str, Any]:
    return read_swarm(EngineTarget(docker_host()), proxy_network=network)


def _phase(network: str) -> Phase:
    return Phase.from_mapping({"proxy_network": network, "min_free_addresses": 2,
                               "stuck_task_minutes": STUCK_MINUTES}, source="lab")


def _minutes_since(start: float) -> float:
    return (time.time() - start) / 60


def test_address_exhaustion_fails_proxy_clear_until_removed(
        lab: Lab, engine: docker.DockerClient, record_property: Any) -> None:
    started = time.time()
    api = engine.api
    net = lab.name("proxy")
    lab.network(net, subnet=SUBNET)
    first, filler, late = lab.name("web"), lab.name("filler"), lab.name("late")
    sleep = ["sleep", "1d"]

    lab.service(first, sleep, networks=[net])
    wait_for(f"{first} running", lambda: running_replicas(api, first) == 1, 30)
    before = proxy_clear(_snapshot(net), _phase(net))
    note(f"\n[exhaustion] one service on {net} ({SUBNET}): {before.status}: {before.reason}")
    assert before.status == "pass", before.reason

    lab.service(filler, sleep, networks=[net], replicas=3)
    lab.service(late, sleep, networks=[net])

    def stuck_tasks() -> list[dict[str, Any]]:
        tasks = task_state(api, filler) + task_state(api, late)
        new = [t for t in tasks if t["Status"]["State"] in ("new", "pending")]
        return new if len(new) >= 3 else []

    wait_for("three tasks stuck in new", stuck_tasks, 30)
    time.sleep(STUCK_MINUTES * 60 + 1)
    stuck = stuck_tasks()  # the ones still in new after the threshold (pending is a passing state)
    host = hostcheck.get_host()
    log_lines = hostcheck.address_errors_in_engine_log(host, _minutes_since(started))
    swarm = _snapshot(net)
    verdict = proxy_clear(swarm, _phase(net), engine_log_errors=log_lines)

    task_views = [f"{t['ID'][:12]} state={t['Status']['State']} message={t['Status'].get('Message')!r} "
                  f"err={t['Status'].get('Err')!r}" for t in stuck]
    late_endpoint = next(s for s in swarm["services"] if s["Spec"]["Name"] == late).get("Endpoint")
    note("[exhaustion] stuck tasks as the engine reports them:\n  " + "\n  ".join(task_views))
    note(f"[exhaustion] service {late} Endpoint (no VIP allocated): {late_endpoint}")
    note("[exhaustion] engine log, address errors:\n  " + "\n  ".join(log_lines))
    note(f"[exhaustion] M1.proxy-clear: {verdict.status}: {verdict.reason}")
    for item in verdict.evidence:
        note(f"  evidence {item}")
    record_property("exhaustion_engine_log", log_lines)
    record_property("exhaustion_verdict", verdict.reason)

    # the engine's own wording, as this engine writes it
    assert any("could not find an available IP" in line for line in log_lines), log_lines
    assert classify_log("\n".join(log_lines)).cls == "infra"
    assert verdict.status == "fail"
    assert net in verdict.reason
    net_ev = next(e for e in verdict.evidence if e.get("kind") == "network" and e.get("name") == net)
    assert net_ev["subnet"] == SUBNET and net_ev["host_addresses"] == 6
    assert net_ev["used"] == 5 and net_ev["free"] == 1, net_ev
    stuck_ids = {t["ID"][:12] for t in stuck}
    named = " ".join(str(e.get("name")) for e in verdict.evidence if e.get("kind") == "task")
    assert all(tid in named for tid in stuck_ids), (stuck_ids, named)

    removed_at = time.time()
    api.remove_service(filler)
    api.remove_service(late)
    wait_for("the stuck tasks gone", lambda: not (task_state(api, filler) + task_state(api, late)), 30)
    # a freed VIP goes back to the pool asynchronously: poll to a deadline
    def clear() -> Any:
        errors = hostcheck.address_errors_in_engine_log(host, (time.time() - removed_at) / 60)
        verdict = proxy_clear(_snapshot(net), _phase(net), engine_log_errors=errors)
        return verdict if verdict.status == "pass" else None

    after = wait_for("proxy-clear to pass once the services are removed", clear, 30)
    note(f"[exhaustion] after removing {filler} and {late}: {after.status}: {after.reason}")
    assert net in after.reason


@pytest.mark.parametrize("minutes", [0.001])
def test_engine_log_window_excludes_older_lines(minutes: float) -> None:
    """A window that ends before the errors were written finds none of them."""
    if not os.path.exists(hostcheck.engine_log_path()):
        pytest.skip(f"no engine log at {hostcheck.engine_log_path()} (set GHOSTGATES_DOCKERD_LOG)")
    time.sleep(0.2)
    assert hostcheck.address_errors_in_engine_log(hostcheck.get_host(), minutes) == []
