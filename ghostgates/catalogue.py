"""The requirement ids of gates.md, by gate, in the order the spec lists them."""

from __future__ import annotations

GATES: dict[str, tuple[str, ...]] = {
    "M1": ("M1.inventory", "M1.correct-pr", "M1.proxy-clear", "M1.fresh-run", "M1.attempt-budget",
           "M1.no-stale-evidence", "M1.quiet-window"),
    "M2": ("M2.one-open-pr", "M2.duplicates-resolved", "M2.never-merged", "M2.outcome", "M2.fix-minimal",
           "M2.tests-intact", "M2.comments-explain", "M2.no-leaks", "M2.evidence-kept", "M2.classified"),
    "DONE": ("DONE.signed",),
}
ALL = tuple(rid for ids in GATES.values() for rid in ids)


def gate_of(requirement: str) -> str:
    return requirement.split(".", 1)[0]
