"""DONE.signed (gates.md): fresh adversary PASSes for M1 and M2 before `## DONE`."""

from __future__ import annotations

from typing import Any

from ..facts import Facts, head_sha
from ..review import records
from ..timeutil import parse_time
from ..verdict import Verdict, evidence, failed, passed, skipped
from .common import ev_build, ev_pr


def signed(facts: Facts, review_text: str | None) -> Verdict:
    if facts.state is None or not facts.state.has_section("DONE"):
        return skipped("The state file has no `## DONE` heading.")
    number, pr = facts.correct_pr_number, facts.correct_pr
    if number is None or pr is None:
        return failed("`## DONE` is written but there is no correct PR to bind the sign-off to.")
    head = head_sha(pr)
    latest = facts.latest_finished(facts.builds_of_pr(number))
    ev: list[dict[str, Any]] = [ev_pr(facts, number)]
    if latest is not None:
        ev.append(ev_build(facts, latest))
    if review_text is None:
        return failed("`## DONE` is written but the review file REVIEW-ghost.md is missing.", ev)
    found = records(review_text)
    problems = []
    for gate in ("M1", "M2"):
        rec = found.get(gate)
        if rec is None:
            problems.append(f"no {gate} record")
            continue
        ev.append(evidence("record", f"{gate} {rec.verdict} by {rec.role}", head=rec.head, build=rec.build,
                           at=rec.at))
        if rec.verdict != "PASS" or rec.role != "adversary":
            problems.append(f"{gate} is {rec.verdict} by {rec.role}, not an adversary PASS")
            continue
        if rec.head != head:
            problems.append(f"the {gate} PASS is bound to {rec.head[:10]}, not the head {head[:10]}")
        if latest is None:
            continue
        finished = facts.finished_at(latest)
        if str(rec.build) != str(latest["number"]):
            problems.append(f"the {gate} PASS is bound to build #{rec.build}, not the latest build "
                            f"#{latest['number']}")
        elif finished is not None and parse_time(rec.at) < finished:
            problems.append(f"the {gate} PASS was recorded before build #{latest['number']} finished")
    if problems:
        return failed("`## DONE` is not signed: " + "; ".join(problems) + ".", ev)
    return passed("Adversary PASSes for M1 and M2 are bound to the current head and latest build.", ev)
