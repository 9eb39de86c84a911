"""Each rule carries its spec: its docstring opens with its id and holds its gates.md text.

The rule an id is judged by is read from the gate tests (gates/*/test_*.py), the one place that binds
an id to a rule, so a rule renamed or rebound there is held here too.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from ghostgates.catalogue import ALL, TEXT

ROOT = Path(__file__).resolve().parents[2]
RULE_MODULES = ("m1", "m2", "done")


def _rules_by_id() -> dict[str, tuple[str, str]]:
    """requirement id -> (rules module, function), from each gate test's `requirement` mark and rule call."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted((ROOT / "gates").glob("*/test_*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.FunctionDef):
                continue
            marks = [d.args[0].value for d in node.decorator_list if isinstance(d, ast.Call)
                     and isinstance(d.func, ast.Attribute) and d.func.attr == "requirement"]
            calls = [(n.func.value.id, n.func.attr) for n in ast.walk(node) if isinstance(n, ast.Call)
                     and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
                     and n.func.value.id in RULE_MODULES]
            if marks and calls:
                found[marks[0]] = calls[0]
    return found


def _folded(text: str) -> str:
    return " ".join(text.split())


def test_every_id_has_a_rule() -> None:
    assert sorted(_rules_by_id()) == sorted(ALL)


@pytest.mark.parametrize("rid", ALL)
def test_the_rule_docstring_is_its_gates_md_row(rid: str) -> None:
    module, name = _rules_by_id()[rid]
    rule = getattr(importlib.import_module(f"ghostgates.judge.rules.{module}"), name)
    # needs_membership wraps with functools.wraps, which carries the docstring over.
    doc = rule.__doc__ or ""
    assert doc.startswith(f"{rid} "), f"{module}.{name}'s docstring does not open with {rid}"
    assert _folded(TEXT[rid]) in _folded(doc), f"{module}.{name}'s docstring is not the gates.md text of {rid}"
