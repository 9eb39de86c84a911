"""The definition of done: the Builder's `## DONE` is backed by fresh adversary PASSes."""

from __future__ import annotations

import pytest

from ghostgates.rules import done


@pytest.mark.requirement("DONE.signed")
def test_signed(facts, done_review, gate):
    # done_review (plugins/reporter.py): the review file this run leaves, and its records' signature checks.
    text, signatures = done_review
    gate(done.signed(facts, text, signatures))
