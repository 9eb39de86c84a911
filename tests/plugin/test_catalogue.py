"""ghostgates.catalogue keeps a copy of each requirement's gates.md text: held to the spec here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ghostgates.catalogue import ALL, GATES, TEXT

GATES_MD = Path(__file__).resolve().parents[3] / "shared" / "gates.md"


def _spec_rows() -> list[tuple[str, str]]:
    if not GATES_MD.exists():
        pytest.skip(f"{GATES_MD} is not beside this checkout")
    return re.findall(r"^\| `([A-Z0-9]+\.[a-z-]+)` \| (.*) \|$", GATES_MD.read_text(encoding="utf-8"), re.M)


def test_the_text_is_the_specs_word_for_word_in_its_order() -> None:
    rows = _spec_rows()
    assert [rid for rid, _ in rows] == list(ALL)
    assert {rid: text for rid, text in rows} == TEXT


def test_ids_by_gate_follow_the_spec_headings() -> None:
    text = GATES_MD.read_text(encoding="utf-8") if GATES_MD.exists() else pytest.skip("no gates.md")
    for gate, ids in GATES.items():
        heading = "## Definition of done" if gate == "DONE" else f"## {gate}:"
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        assert re.findall(r"^\| `([^`]+)`", section, re.M) == list(ids), gate
