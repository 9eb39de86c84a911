"""M2: operator-ready outcome. One test per requirement id of gates.md."""

from __future__ import annotations

import pytest

from ghostgates.judge.rules import m2


@pytest.mark.requirement("M2.one-open-pr")
def test_one_open_pr(facts, gate):
    gate(m2.one_open_pr(facts))


@pytest.mark.requirement("M2.duplicates-resolved")
def test_duplicates_resolved(facts, gate):
    gate(m2.duplicates_resolved(facts))


@pytest.mark.requirement("M2.never-merged")
def test_never_merged(facts, gate):
    gate(m2.never_merged(facts))


@pytest.mark.requirement("M2.outcome")
def test_outcome(facts, gate):
    gate(m2.outcome(facts))


@pytest.mark.requirement("M2.fix-minimal")
def test_fix_minimal(facts, gate):
    gate(m2.fix_minimal(facts))


@pytest.mark.requirement("M2.tests-intact")
def test_tests_intact(facts, gate):
    gate(m2.tests_intact(facts))


@pytest.mark.requirement("M2.comments-explain")
def test_comments_explain(facts, gate):
    gate(m2.comments_explain(facts))


@pytest.mark.requirement("M2.no-leaks")
def test_no_leaks(leak_snapshot, phase, gate):
    snapshot, polled = leak_snapshot
    gate(m2.no_leaks(snapshot, phase, polled))


@pytest.mark.requirement("M2.evidence-kept")
def test_evidence_kept(facts, gate):
    gate(m2.evidence_kept(facts))


@pytest.mark.requirement("M2.classified")
def test_classified(facts, gate):
    gate(m2.classified(facts))
