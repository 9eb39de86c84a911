"""One deciding function per requirement id of gates.md: data in, Verdict out.

`RULES` is the one id -> rule registry: each entry names its deciding function and the inputs its
gate test hands it (by fixture name, in order). The gate tests (gates/*), the in-process world
judge (tests/worlds/judge.py), the fetch plan's choice of sources (fixtures/_plan.py) and the spec
test (tests/unit/test_rules_spec.py) all read it; nothing else binds an id to a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ghostgates.catalogue import GATES
from ghostgates.judge.rules import done, m1, m2
from ghostgates.judge.rules.done import SignatureCheck
from ghostgates.judge.verdict import Verdict


class DoneReview(Protocol):
    """What DONE.signed judges besides the facts (plugins/handoff.py's `done_review` fixture)."""

    @property
    def text(self) -> str | None: ...
    @property
    def signatures(self) -> Mapping[str, SignatureCheck] | None: ...
    @property
    def own_records(self) -> bool: ...
    @property
    def undecided(self) -> Mapping[str, Sequence[str]] | None: ...


@dataclass(frozen=True)
class Rule:
    id: str
    decide: Callable[..., Verdict]  # the deciding function; its docstring opens with its gates.md row
    inputs: tuple[str, ...]  # what the gate test hands it, by fixture name, in order
    call: Callable[..., Verdict] | None = None  # where the inputs are not `decide`'s arguments as they are

    @property
    def gate(self) -> str:
        return self.id.split(".", 1)[0]

    def judge(self, values: Mapping[str, Any]) -> Verdict:
        """The verdict on `values` (each input by name)."""
        return (self.call or self.decide)(*(values[name] for name in self.inputs))


def _signed(facts: Any, done_review: DoneReview) -> Verdict:
    return done.signed(facts, done_review.text, done_review.signatures, done_review.own_records,
                       done_review.undecided)


FACTS = ("facts",)
_RULES = (
    Rule("M1.inventory", m1.inventory, FACTS),
    Rule("M1.correct-pr", m1.correct_pr, FACTS),
    Rule("M1.proxy-clear", m1.proxy_clear, ("swarm_data", "phase", "engine_log_errors")),
    Rule("M1.fresh-run", m1.fresh_run, FACTS),
    Rule("M1.attempt-budget", m1.attempt_budget, FACTS),
    Rule("M1.no-stale-evidence", m1.no_stale_evidence, FACTS),
    Rule("M1.quiet-window", m1.quiet_window, FACTS),
    Rule("M2.one-open-pr", m2.one_open_pr, FACTS),
    Rule("M2.duplicates-resolved", m2.duplicates_resolved, FACTS),
    Rule("M2.never-merged", m2.never_merged, FACTS),
    Rule("M2.outcome", m2.outcome, FACTS),
    Rule("M2.fix-minimal", m2.fix_minimal, FACTS),
    Rule("M2.tests-intact", m2.tests_intact, FACTS),
    Rule("M2.comments-explain", m2.comments_explain, FACTS),
    Rule("M2.no-leaks", m2.no_leaks, ("leak_snapshot", "phase", "leak_polled")),
    Rule("M2.evidence-kept", m2.evidence_kept, FACTS),
    Rule("M2.classified", m2.classified, FACTS),
    Rule("DONE.signed", done.signed, ("facts", "done_review"), call=_signed),
)
RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def rules_of(gate: str) -> tuple[Rule, ...]:
    """The rules of one gate (M1, M2, DONE), in gates.md order (an id without a rule fails the spec test)."""
    return tuple(RULES[rid] for rid in GATES[gate] if rid in RULES)
