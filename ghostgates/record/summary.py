"""The one result model: what a run found, per requirement and per gate, that every report renders.

gates.json, the review file's blocks, the terminal and the HTML report are four views of the same
objects (pytest-html's split: plugin shell, reporter object, one result model):

- `Result`: one requirement: id, status (`pass`, `fail`, `skip`, `error`), reason, evidence,
  and the evidence's links (http and https only: escape.safe_url).
- `GateResult`: one gate as a run judged it, with the line the operator reads first, the record's
  binding (head, build, time), the role, and which run wrote it:

    M1: PASS (7/7)  head f1e2d3c4b5a6978877665544332211a0b9c8d7e6  build #58
    M2: FAIL (9/10: M2.no-leaks)  head f1e2d3c4b5a6978877665544332211a0b9c8d7e6  build #58

- `RunReport`: this run's results and gates, and every gate gates.json holds after the merge by
  gate (`merge`), each with its own head, build, time and run.

A gate passes only when every requirement passed or does not apply (skip); an `error` is never
a pass, and is named with the failures (`M2.outcome?`: could not find out). A run that stopped
early (-x, --maxfail) after a requirement of a gate failed judges that gate FAIL and names what
did not run (gates.md, "What the suite writes into the review file").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ghostgates.catalogue import ALL, GATES
from ghostgates.judge.verdict import ERROR, FAIL, PASS, SKIP
from ghostgates.record import escape

STATUSES = (PASS, FAIL, SKIP, ERROR)


def _relative(text: str, state_dir: str | None) -> str:
    """A path inside the state dir named as the operator knows it (`STATUS-ghost.md`), not by the
    absolute path on the machine that ran the check."""
    if not state_dir:
        return text
    base = state_dir.rstrip("/") + "/"
    return text.replace(base, "")


@dataclass(frozen=True)
class Result:
    """One requirement's result: plain data, rendered by every report."""

    id: str
    status: str
    reason: str
    evidence: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_data(cls, rid: str, data: Mapping[str, Any], state_dir: str | None = None) -> Result:
        """From a test's recorded verdict (`{"verdict", "reason", "evidence"}`) or a gates.json row."""
        evidence = []
        for item in data.get("evidence") or []:
            if not isinstance(item, dict):
                continue
            item = dict(item)
            if item.get("kind") == "file" and isinstance(item.get("name"), str):
                item["name"] = _relative(item["name"], state_dir)
            evidence.append(item)
        return cls(rid, str(data.get("verdict", ERROR)), _relative(str(data.get("reason", "")), state_dir),
                   tuple(evidence))

    @property
    def links(self) -> list[dict[str, str]]:
        """The evidence that may be a link: `{"name", "url"}`, http and https only."""
        out = []
        for item in self.evidence:
            url = escape.safe_url(item.get("url"))
            if url is not None:
                out.append({"name": str(item.get("name") or url), "url": url})
        return out

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.status, "reason": self.reason,
                "evidence": [escape.evidence_item(item) for item in self.evidence], "links": self.links}


Results = Mapping[str, Result]


def gate_verdict(results: Iterable[Result]) -> str:
    """PASS only when every requirement passed or does not apply; an error is never a PASS."""
    return "PASS" if all(r.status in (PASS, SKIP) for r in results) else "FAIL"


@dataclass(frozen=True)
class GateResult:
    """One gate as one run judged it (gates.json's `gates` entry)."""

    gate: str
    verdict: str | None  # PASS, FAIL, or None: not every requirement ran and no failure was found
    passed: int
    total: int
    ran: int
    failing: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    not_run: tuple[str, ...] = ()  # a run stopped early after a failure: these did not run
    head: str = "none"
    build: str = "none"
    at: str = ""
    role: str = ""
    run: dict[str, Any] = field(default_factory=dict)  # which run wrote it: id, at, role, world

    @property
    def line(self) -> str:
        """`M2: FAIL (9/10: M2.no-leaks)  head <sha>  build #58`: what the record binds, in one line."""
        if self.verdict is None:
            head = (f"{self.gate}: no verdict ({self.ran} of {self.total} requirements ran: run the whole "
                    "gate to judge it)")
        else:
            names = [f"{rid}?" if rid in self.errors else rid for rid in self.failing]
            tail = f": {', '.join(names)}" if names else ""
            if self.not_run:
                tail += f"; did not run: {', '.join(self.not_run)}"
            head = f"{self.gate}: {self.verdict} ({self.passed}/{self.total}{tail})"
        build_text = f"build #{self.build}" if self.build not in (None, "", "none") else "no finished build"
        return escape.terminal(f"{head}  head {self.head or 'none'}  {build_text}")

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "passed": self.passed, "total": self.total, "ran": self.ran,
                "failing": list(self.failing), "errors": list(self.errors), "not_run": list(self.not_run),
                "head": self.head, "build": self.build, "at": self.at, "role": self.role, "run": self.run,
                "line": self.line}

    @classmethod
    def from_json(cls, gate: str, data: Mapping[str, Any]) -> GateResult:
        def names(key: str) -> tuple[str, ...]:
            return tuple(str(x) for x in data.get(key) or [])

        def number(key: str) -> int:
            value = data.get(key)
            return value if isinstance(value, int) else 0

        verdict = data.get("verdict")
        return cls(gate, verdict if verdict in ("PASS", "FAIL") else None, number("passed"), number("total"),
                   number("ran"), names("failing"), names("errors"), names("not_run"),
                   str(data.get("head") or "none"), str(data.get("build") or "none"), str(data.get("at") or ""),
                   str(data.get("role") or ""), dict(data.get("run") or {}))


def gate_result(gate: str, results: Results, context: Mapping[str, Any], stopped_early: bool = False) -> GateResult:
    """A gate this run checked (whole or in part). `stopped_early`: every requirement of the gate was
    collected but the run stopped (-x, --maxfail, an interrupt) before all of them reported."""
    ids = GATES[gate]
    ran = {rid: results[rid] for rid in ids if rid in results}
    ok = [rid for rid, r in ran.items() if r.status in (PASS, SKIP)]
    failing = tuple(rid for rid, r in ran.items() if r.status not in (PASS, SKIP))
    errors = tuple(rid for rid in failing if ran[rid].status == ERROR)
    not_run: tuple[str, ...] = ()
    if len(ran) == len(ids):
        verdict: str | None = gate_verdict(ran.values())
    elif stopped_early and any(r.status == FAIL for r in ran.values()):
        # gates.md: a failure found is never left unrecorded behind an older PASS.
        verdict, not_run = "FAIL", tuple(rid for rid in ids if rid not in ran)
    else:
        verdict = None
    return GateResult(gate, verdict, len(ok), len(ids), len(ran), failing, errors, not_run,
                      str(context.get("head") or "none"), str(context.get("build") or "none"),
                      str(context.get("at") or ""), str(context.get("role") or ""), dict(context.get("run") or {}))


def gates_of(results: Results) -> list[str]:
    return [gate for gate, ids in GATES.items() if any(rid in results for rid in ids)]


def counts(results: Results) -> str:
    """The one-line count after the gate lines (goss's `Count: 18, Failed: 2, Skipped: 1`)."""
    tally = {s: sum(1 for r in results.values() if r.status == s) for s in STATUSES}
    return f"Count: {len(results)}, Failed: {tally[FAIL]}, Skipped: {tally[SKIP]}, Errors: {tally[ERROR]}"


@dataclass
class RunReport:
    """What the reporter found at the end of a run, for every view to render."""

    results: dict[str, Result]  # this run's, in gates.md order
    gates: dict[str, GateResult]  # the gates this run checked
    all_gates: dict[str, GateResult]  # every gate gates.json holds after the merge
    earlier: dict[str, Result]  # results gates.json keeps from earlier runs (gates this run did not check)
    notes: list[str] = field(default_factory=list)
    done_line: str | None = None  # the Builder's last line: may `## DONE` be written now

    @property
    def count_line(self) -> str:
        return counts(self.results)

    def gate_results(self, gate: str) -> dict[str, Result]:
        """A gate's requirement results as the merged file holds them (this run's or an earlier one's)."""
        source = self.results if gate in self.gates else self.earlier
        return {rid: source[rid] for rid in GATES[gate] if rid in source}


def ordered(results: Mapping[str, Result]) -> dict[str, Result]:
    return {rid: results[rid] for rid in ALL if rid in results}


def json_data(report: RunReport, head: Mapping[str, Any]) -> dict[str, Any]:
    """gates.json's text for this run alone (before `merge`)."""
    return {**head, "gates": {g: e.to_json() for g, e in report.gates.items()},
            "results": {rid: r.to_json() for rid, r in report.results.items()}}


def merge(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """gates.json after this run: the gates it checked replaced whole, every other gate kept.

    `gates/m1` then `gates/m2` leaves both gates in the file, each with its own head, build, time
    and run. A gate this run touched (even one requirement, with -k) loses all of its old rows, so a
    file never mixes two runs inside one gate. The old file is kept only when it describes the same
    phase and world; a file of another world is replaced whole (the reporter never replaces a file that
    is not a gates.json).
    """
    if not isinstance(old, dict) or (old.get("phase"), old.get("world")) != (new.get("phase"), new.get("world")):
        return new
    touched = set(new.get("gates", {}))
    kept_results = {rid: r for rid, r in (old.get("results") or {}).items()
                    if isinstance(r, dict) and rid.split(".", 1)[0] not in touched}
    kept_gates = {g: e for g, e in (old.get("gates") or {}).items() if isinstance(e, dict) and g not in touched}
    order = {rid: i for i, rid in enumerate(ALL)}
    results = {**kept_results, **new.get("results", {})}
    merged = dict(new)
    merged["results"] = dict(sorted(results.items(), key=lambda kv: order.get(kv[0], len(order))))
    merged["gates"] = {g: e for g, e in sorted({**kept_gates, **new.get("gates", {})}.items(),
                                               key=lambda kv: list(GATES).index(kv[0]) if kv[0] in GATES else 99)}
    return merged


def from_merged(merged: Mapping[str, Any], report: RunReport) -> RunReport:
    """`report` with every gate and earlier result the merged gates.json holds."""
    all_gates = {g: report.gates.get(g) or GateResult.from_json(g, e)
                 for g, e in (merged.get("gates") or {}).items() if g in GATES and isinstance(e, dict)}
    earlier = {rid: Result.from_data(rid, r) for rid, r in (merged.get("results") or {}).items()
               if rid in ALL and rid not in report.results and isinstance(r, dict)}
    return replace(report, all_gates=all_gates, earlier=earlier)


def done_readiness(verdict_status: str, reason: str, head: str, build: str) -> str:
    """The Builder's last line: may `## DONE` be written now, or what is missing."""
    if verdict_status == PASS:
        return (f"DONE may be written now: adversary PASSes for M1 and M2 are bound to head {head} and "
                f"build #{build}.")
    if verdict_status == ERROR:
        return f"DONE may not be written yet: could not find out ({reason.rstrip('.')})."
    missing = reason.split(": ", 1)[1] if reason.startswith("`## DONE` is not signed: ") else reason
    return f"DONE may not be written yet: {missing.rstrip('.')} (head {head}, build #{build})."
