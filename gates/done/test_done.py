"""The definition of done: the Builder's `## DONE` is backed by fresh adversary PASSes."""

from __future__ import annotations

import pytest

from ghostgates.judge.rules import done


@pytest.mark.requirement("DONE.signed")
def test_signed(facts, done_review, gate):
    # done_review (plugins/handoff.py): the review file as this run leaves it, and its signature checks.
    gate(done.signed(facts, done_review.text, done_review.signatures, done_review.own_records))
