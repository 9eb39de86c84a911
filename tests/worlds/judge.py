"""Judge a world in this process: the twin, the run's fetch plan, the rules, as a gate run does.

A gate run is pytest + the plugin around exactly these public functions: the phase and state
loaders, `ghostgates.fetch.plan.fetch_all` over the same clients, `build_facts`, and the rule that
each test in gates/ calls. Judging most worlds here, without a subprocess, costs tens of
milliseconds instead of two seconds; tests/worlds still runs one world per requirement family
through the plugin in a subprocess, and compares the two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ghostgates.errors import GateError
from ghostgates.fetch import services
from ghostgates.fetch.engine import connect, fetch_swarm
from ghostgates.fetch.plan import fetch_all
from ghostgates.judge import compose_diff
from ghostgates.judge.facts import Facts, build_facts, correct_pr_number
from ghostgates.judge.rules import done, m1, m2
from ghostgates.judge.verdict import Verdict
from ghostgates.read.phase import Phase, load_phase
from ghostgates.read.statefile import StateFile, read_optional, review_name, status_name
from ghostgates.record import signing
from plugins.run import write_world_files
from twin.faults import Fault
from twin.server import running_twin
from twin.world import World, load_world

ROOT = Path(__file__).resolve().parents[2]

# Each id with what its test in gates/ hands its rule (facts, the Swarm, the review file).
FACTS_RULES: dict[str, Callable[[Facts], Verdict]] = {
    "M1.inventory": m1.inventory, "M1.correct-pr": m1.correct_pr, "M1.fresh-run": m1.fresh_run,
    "M1.attempt-budget": m1.attempt_budget, "M1.no-stale-evidence": m1.no_stale_evidence,
    "M1.quiet-window": m1.quiet_window, "M2.one-open-pr": m2.one_open_pr,
    "M2.duplicates-resolved": m2.duplicates_resolved, "M2.never-merged": m2.never_merged,
    "M2.outcome": m2.outcome, "M2.fix-minimal": m2.fix_minimal, "M2.tests-intact": m2.tests_intact,
    "M2.comments-explain": m2.comments_explain, "M2.evidence-kept": m2.evidence_kept,
    "M2.classified": m2.classified,
}
SWARM_RULES: dict[str, Callable[[dict[str, Any], Phase], Verdict]] = {
    "M1.proxy-clear": lambda snapshot, phase: m1.proxy_clear(snapshot, phase, None),
    "M2.no-leaks": lambda snapshot, phase: m2.no_leaks(snapshot, phase, 0.0),
}


def judge(world_path: Path, tmp: Path, faults: Iterable[Fault | str] = (), *,
          timeout: float = 15.0, retries: int = 3, backoff: float | None = None) -> dict[str, dict[str, Any]]:
    """{id: {"verdict", "reason"}} for a world, as a Builder's gate run concludes (writes nothing)."""
    world: World = load_world(world_path)
    phase = load_phase(ROOT / "phases" / "ghost.toml", world.phase or {}, f"{world_path}: phase")
    state_dir = tmp / "state"
    with running_twin(world, faults=faults) as handle:
        write_world_files(world.files, state_dir)
        settings = services.Settings(
            phase_file="", state_dir=str(state_dir), world=str(world_path), swarm="world", gates_json="",
            role="builder", gitea_url=handle.gitea_url, gitea_token=handle.gitea_token,
            drone_url=handle.drone_url, drone_token=handle.drone_token, docker_host=handle.docker_url,
            http_timeout=timeout, http_retries=retries)
        text = read_optional(state_dir / status_name(phase))
        state = None if text is None else StateFile.parse(str(state_dir / status_name(phase)), text)
        review_text = read_optional(state_dir / review_name(phase))
        gitea, drone = services.gitea_client(settings), services.drone_client(settings)
        if backoff is not None:
            gitea.backoff = drone.backoff = backoff

        def swarm() -> dict[str, Any]:
            client = connect(handle.docker_url, timeout=timeout, retries=retries)
            try:
                return fetch_swarm(client, phase.proxy_network)
            finally:
                client.close()

        try:
            entries = fetch_all(phase, state, correct_pr_number(phase, state), gitea=gitea, drone=drone,
                                swarm=swarm, compose_file=compose_diff.is_compose_file)
        finally:
            gitea.close()
            drone.close()
    return verdicts(phase, state, review_text, entries)


def verdicts(phase: Phase, state: StateFile | None, review_text: str | None,
             entries: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}

    def decide(rid: str, rule: Callable[[], Verdict]) -> None:
        try:
            verdict = rule()
        except GateError as exc:  # what the plugin reports as the test's error
            out[rid] = {"verdict": "error", "reason": str(exc)}
            return
        out[rid] = {"verdict": verdict.status, "reason": verdict.reason}

    sources_error = next((entries[k]["error"] for k in ("gitea", "drone") if "error" in entries[k]), None)
    facts = None if sources_error else build_facts(phase, state, entries["gitea"]["ok"], entries["drone"]["ok"])
    for rid, facts_rule in FACTS_RULES.items():
        if facts is None:
            out[rid] = {"verdict": "error", "reason": str(sources_error)}
        else:
            decide(rid, lambda r=facts_rule: r(facts))
    for rid, swarm_rule in SWARM_RULES.items():
        if "error" in entries["swarm"]:
            out[rid] = {"verdict": "error", "reason": entries["swarm"]["error"]}
        else:
            decide(rid, lambda r=swarm_rule: r(entries["swarm"]["ok"], phase))
    if facts is None:
        out["DONE.signed"] = {"verdict": "error", "reason": str(sources_error)}
    else:
        # As the reporter does: signatures checked against the phase's signers, read from the checkout.
        decide("DONE.signed", lambda: done.signed(
            facts, review_text, signing.signature_checks(phase.adversary_signers, review_text, ROOT)))
    return out
