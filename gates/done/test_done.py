"""The definition of done: the Builder's `## DONE` is backed by fresh adversary PASSes.

One test per requirement id of gates.md, named by it (`test_requirement[DONE.…]` in --co, -v and JUnit):
the registry (ghostgates.judge.rules.RULES) says which rule decides an id and on which fixtures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ghostgates.judge.rules import Rule, rules_of
from ghostgates.judge.verdict import Verdict


@pytest.mark.parametrize("rule", [pytest.param(rule, id=rule.id, marks=pytest.mark.requirement(rule.id))
                                  for rule in rules_of("DONE")])
def test_requirement(rule: Rule, rule_inputs: dict[str, Any], gate: Callable[[Verdict], None]) -> None:
    # rule_inputs (fixtures/facts.py): the fixtures the rule reads, set up before the test runs.
    gate(rule.judge(rule_inputs))
