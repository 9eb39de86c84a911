"""The definition of done: the Builder's `## DONE` is backed by fresh adversary PASSes."""

from __future__ import annotations

import pytest

from ghostgates.rules import done


@pytest.mark.requirement("DONE.signed")
def test_signed(facts, review_text, gate):
    gate(done.signed(facts, review_text))
