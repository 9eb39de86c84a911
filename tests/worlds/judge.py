"""Judge a world in this process: the twin, the run's fetch plan, the rules, as a gate run does.

A gate run is pytest + the plugin around exactly these public functions: the phase and state
loaders, `ghostgates.fetch.plan.fetch_all` over the same clients and the same engine reader
(`ghostgates.fetch.engine.read_swarm`), `build_facts`, and the registry's rules
(`ghostgates.judge.rules.RULES`, which the tests in gates/ run too).

Judging most worlds here, without a subprocess, costs tens of
milliseconds instead of two seconds; tests/worlds still runs one world per requirement family
through the plugin in a subprocess, and compares the two.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx

from fixtures._plan import NEEDS, SOURCES
from ghostgates.errors import GateError
from ghostgates.fetch import services
from ghostgates.fetch.engine import read_swarm, target_for
from ghostgates.fetch.plan import fetch_all
from ghostgates.judge import compose_diff
from ghostgates.judge.facts import build_facts, correct_pr_number
from ghostgates.judge.rules import RULES
from ghostgates.judge.rules.done import SignatureCheck
from ghostgates.read.phase import Phase, load_phase
from ghostgates.read.statefile import StateFile, read_optional, read_state, review_name
from ghostgates.record import signing
from ghostgates.shapes import Entry
from plugins.run import write_world_files
from twin.faults import Fault
from twin.server import running_twin
from twin.world import World, load_world

ROOT = Path(__file__).resolve().parents[2]


@cache
def _tls() -> ssl.SSLContext:
    """httpx's default TLS context (httpx.create_ssl_context: certificates checked), made once for every
    world judged here rather than once per client: reading the CA bundle was a fifth of judging a world.
    The twin is plain http, so the context is never used; a gate run's clients make their own."""
    return httpx.create_ssl_context()

@dataclass(frozen=True)
class DoneInput:
    """As plugins/handoff.py's `done_review` for a Builder's run: the review file as found."""

    text: str | None
    signatures: Mapping[str, SignatureCheck] | None
    own_records: bool = False
    undecided: Mapping[str, list[str]] | None = None


def judge(world_path: Path, tmp: Path, faults: Iterable[Fault | str] = (), *,
          timeout: float = 15.0, retries: int = 3, backoff: float | None = None,
          loaded: World | None = None) -> dict[str, dict[str, Any]]:
    """{id: {"verdict", "reason"}} for a world, as a Builder's gate run concludes (writes nothing).
    `loaded`: the world at `world_path` as load_world read it, where the caller has it already."""
    world: World = loaded if loaded is not None else load_world(world_path)
    phase = load_phase(ROOT / "phases" / "ghost.toml", world.phase or {}, f"{world_path}: phase")
    state_dir = tmp / "state"
    with running_twin(world, faults=faults) as handle:
        write_world_files(world.files, state_dir)
        settings = services.Settings(
            phase_file="", state_dir=str(state_dir), world=str(world_path), swarm="world", gates_json="",
            role="builder", gitea_url=handle.gitea_url, gitea_token=handle.gitea_token,
            drone_url=handle.drone_url, drone_token=handle.drone_token, docker_host=handle.docker_url,
            http_timeout=timeout, http_retries=retries, http_backoff=0.3 if backoff is None else backoff)
        state = read_state(state_dir, phase)
        review_text = read_optional(state_dir / review_name(phase))
        gitea, drone = services.gitea_client(settings, verify=_tls()), services.drone_client(settings, verify=_tls())
        target = target_for(settings)
        try:
            entries = fetch_all(phase, state, correct_pr_number(phase, state), gitea=gitea, drone=drone,
                                swarm=lambda: read_swarm(target, phase.proxy_network),
                                compose_file=compose_diff.is_compose_file)
        finally:
            gitea.close()
            drone.close()
    return verdicts(phase, state, review_text, entries)


def verdicts(phase: Phase, state: StateFile | None, review_text: str | None,
             entries: dict[str, Entry]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    sources_error = next((entries[k]["error"] for k in ("gitea", "drone") if "error" in entries[k]), None)
    facts = None if sources_error else build_facts(phase, state, entries["gitea"]["ok"], entries["drone"]["ok"])
    swarm = entries["swarm"].get("ok")
    values: dict[str, Any] = {"phase": phase, "engine_log_errors": None, "leak_polled": 0.0,
                              "facts": facts, "swarm_data": swarm, "leak_snapshot": swarm}
    unread: dict[str, GateError] = {}
    if facts is not None:
        try:
            # As the DONE hand-off does: signatures checked against the phase's signers, read from the checkout.
            values["done_review"] = DoneInput(review_text, signing.signature_checks(phase.adversary_signers,
                                                                                     review_text, ROOT))
        except GateError as exc:  # the done_review fixture's error, the DONE test's
            unread["done_review"] = exc
    for rid, rule in RULES.items():
        # Which sources each input needs: the gate run's own map (fixtures/_plan.py), in plan order.
        needed = set().union(*(NEEDS.get(name, set()) for name in rule.inputs))
        failed = [entries[source]["error"] for source in SOURCES if source in needed and "error" in entries[source]]
        if failed:  # an input that could not be read: the test's setup error, as in a gate run
            out[rid] = {"verdict": "error", "reason": str(failed[0])}
            continue
        try:
            for name in rule.inputs:
                if name in unread:
                    raise unread[name]
            verdict = rule.judge(values)
        except GateError as exc:  # what the plugin reports as the test's error
            out[rid] = {"verdict": "error", "reason": str(exc)}
            continue
        out[rid] = {"verdict": verdict.status, "reason": verdict.reason}
    return out
