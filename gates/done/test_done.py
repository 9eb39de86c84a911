"""The definition of done: the Builder's `## DONE` is backed by fresh adversary PASSes.

One test per requirement id, named by it: fixtures/facts.py parametrizes it over GATE's rules in the
registry (ghostgates.judge.rules.RULES), which also names the fixtures each reads (`rule_inputs`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ghostgates.judge.rules import Rule
from ghostgates.judge.verdict import Verdict

GATE = "DONE"


def test_requirement(rule: Rule, rule_inputs: dict[str, Any], gate: Callable[[Verdict], None]) -> None:
    gate(rule.judge(rule_inputs))
