"""DONE.signed (gates.md): fresh adversary PASSes for M1 and M2 before `## DONE`.

A pure function over the review file's text (the file as found, or, in a run that writes its own
blocks as the adversary, the text it is about to write) and, where the phase names allowed
signers, the signature checks made for those records (ghostgates/record/signing.py does the I/O).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ghostgates.judge.facts import Facts, head_sha
from ghostgates.judge.rules.common import ev_build, ev_pr
from ghostgates.judge.verdict import Verdict, errored, evidence, failed, passed, skipped
from ghostgates.read.statefile import review_name
from ghostgates.record.review import records
from ghostgates.timeutil import parse_time, rfc3339


@dataclass(frozen=True)
class Binding:
    """What a record is bound to: the correct PR's head sha and latest finished build, and when.

    Decided here once, for the record the reporter writes and the record DONE.signed demands.
    """

    head: str | None
    build: int | None
    at: datetime

    def fields(self) -> dict[str, str]:
        """The record line's `head`, `build` and `at` (`none` where there is nothing to bind to)."""
        return {"head": self.head or "none", "build": "none" if self.build is None else str(self.build),
                "at": rfc3339(self.at)}


def record_binding(facts: Facts) -> Binding:
    pr, number = facts.correct_pr, facts.correct_pr_number
    if pr is None or number is None:
        return Binding(None, None, facts.now)
    latest = facts.latest_finished(facts.builds_of_pr(number))
    return Binding(head_sha(pr) or None, None if latest is None else int(latest["number"]), facts.now)


@dataclass(frozen=True)
class SignatureCheck:
    """One record's signature against the phase's allowed signers: signed, unsigned or forged."""

    status: str
    detail: str


def signed(facts: Facts, review_text: str | None,
           signatures: Mapping[str, SignatureCheck] | None = None, own_records: bool = False,
           undecided: Mapping[str, Sequence[str]] | None = None) -> Verdict:
    """DONE.signed (gates.md) passes when where the state file has a `## DONE` heading, the review file holds an
    adversary PASS for M1 and for M2, each bound to the current head sha of the correct PR and to its latest
    finished build (a PASS recorded before the latest build is stale). A run that also checks M1 or M2 as the
    adversary judges against the records that it writes itself, so one run never shows a gate FAIL beside a
    DONE.signed pass. `skip` where there is no `## DONE`.

    `signatures` is None where the phase sets no `adversary_signers`; else one check per gate.

    `own_records`: `review_text` is the file as this run leaves it (it wrote M1/M2 as the adversary).

    `undecided`: for this run's own records, each gate whose record reads FAIL only because
    requirements could not be checked (`error`, none `fail`), with those ids. Such a FAIL is no
    verdict on the phase: DONE.signed could not know either, so it is `error`, never `fail`, unless
    something else already fails it (gates.md: `error` is never reported as pass or fail).
    """
    if facts.state is None or not facts.state.has_section("DONE"):
        return skipped("The state file has no `## DONE` heading.")
    number, pr = facts.correct_pr_number, facts.correct_pr
    if number is None or pr is None:
        return failed("`## DONE` is written but there is no correct PR to bind the sign-off to.")
    binding = record_binding(facts)
    head = binding.head or ""
    latest = facts.build(binding.build) if binding.build is not None else None
    ev: list[dict[str, Any]] = [ev_pr(facts, number)]
    if latest is not None:
        ev.append(ev_build(facts, latest))
    if review_text is None:
        return failed(f"`## DONE` is written but the review file {review_name(facts.phase)} is missing.", ev)
    found = records(review_text)
    problems = []
    unknown: list[str] = []
    for gate in ("M1", "M2"):
        rec = found.get(gate)
        if rec is None:
            problems.append(f"no {gate} record")
            continue
        check = None if signatures is None else signatures.get(gate)
        ev.append(evidence("record", f"{gate} {rec.verdict} by {rec.role}", head=rec.head, build=rec.build,
                           at=rec.at, signature=None if check is None else f"{check.status}: {check.detail}"))
        if own_records and undecided and undecided.get(gate) and rec.verdict == "FAIL":
            unknown.append(f"{gate} could not be checked ({', '.join(undecided[gate])} `error`)")
            continue
        if rec.verdict != "PASS" or rec.role != "adversary":
            problems.append(f"{gate} is {rec.verdict} by {rec.role}, not an adversary PASS")
            continue
        if signatures is not None:
            if check is None or check.status != "signed":
                status = "unsigned" if check is None else check.status
                reason = "" if check is None else f" ({check.detail})"
                problems.append(f"the {gate} PASS is {status}{reason}")
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
    whose = " (judged by the records this run writes)" if own_records else ""
    if problems:
        return failed("`## DONE` is not signed: " + "; ".join(problems) + whose + ".", ev)
    if unknown:
        return errored("Whether `## DONE` is signed is unknown: " + "; ".join(unknown)
                       + ", so this run's own records are no verdict on it.", ev)
    return passed(f"Adversary PASSes for M1 and M2 are bound to the current head and latest build{whose}.", ev)
