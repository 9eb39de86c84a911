"""Each rule carries its spec: its docstring opens with its id and holds its gates.md text.

The rule an id is judged by is read from the registry (ghostgates.judge.rules.RULES), the one place
that binds an id to a rule; the gate tests (gates/*) and the in-process world judge run the same
entries, so a rule rebound there is held here too.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from ghostgates.catalogue import ALL, GATES, TEXT
from ghostgates.judge.rules import RULES, rules_of

ROOT = Path(__file__).resolve().parents[2]


def _folded(text: str) -> str:
    return " ".join(text.split())


def test_every_id_has_one_rule_in_spec_order() -> None:
    assert list(RULES) == list(ALL)
    for gate, ids in GATES.items():
        assert tuple(rule.id for rule in rules_of(gate)) == ids


@pytest.mark.parametrize("rid", ALL)
def test_the_rule_docstring_is_its_gates_md_row(rid: str) -> None:
    rule = RULES[rid].decide
    name = f"{rule.__module__}.{rule.__name__}"
    # needs_membership wraps with functools.wraps, which carries the docstring over.
    doc = rule.__doc__ or ""
    assert doc.startswith(f"{rid} "), f"{name}'s docstring does not open with {rid}"
    assert _folded(TEXT[rid]) in _folded(doc), f"{name}'s docstring is not the gates.md text of {rid}"


@pytest.mark.parametrize("rid", ALL)
def test_the_inputs_are_the_rules_arguments(rid: str) -> None:
    """A rule judged without its own `call` gets its inputs as its leading positional arguments."""
    rule = RULES[rid]
    if rule.call is not None:
        params = list(inspect.signature(rule.call).parameters)
        assert params == list(rule.inputs)
        return
    params = list(inspect.signature(rule.decide).parameters.values())
    required = [p for p in params if p.default is inspect.Parameter.empty]
    assert len(required) <= len(rule.inputs) <= len(params), f"{rid}: inputs {rule.inputs} for {params}"


def test_the_gate_tests_run_the_registry_and_bind_no_rule_themselves() -> None:
    """gates/*: one test per gate file, parametrized over the registry by its GATE (fixtures/facts.py)."""
    files = sorted((ROOT / "gates").glob("*/test_*.py"))
    assert {path.parent.name.upper() for path in files} == set(GATES)
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and (node.module or "").startswith("ghostgates.judge.rules") for alias in node.names}
        assert imported <= {"Rule"}, f"{path}: binds rules itself ({imported})"
        gates = [ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                 and [getattr(t, "id", None) for t in node.targets] == ["GATE"]]
        assert gates == [path.parent.name.upper()]
