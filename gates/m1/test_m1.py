"""M1: state inventory and clean retry. One test per requirement id of gates.md."""

from __future__ import annotations

import pytest

from ghostgates.judge.rules import m1


@pytest.mark.requirement("M1.inventory")
def test_inventory(facts, gate):
    gate(m1.inventory(facts))


@pytest.mark.requirement("M1.correct-pr")
def test_correct_pr(facts, gate):
    gate(m1.correct_pr(facts))


@pytest.mark.requirement("M1.proxy-clear")
def test_proxy_clear(swarm_data, engine_log_errors, phase, gate):
    gate(m1.proxy_clear(swarm_data, phase, engine_log_errors))


@pytest.mark.requirement("M1.fresh-run")
def test_fresh_run(facts, gate):
    gate(m1.fresh_run(facts))


@pytest.mark.requirement("M1.attempt-budget")
def test_attempt_budget(facts, gate):
    gate(m1.attempt_budget(facts))


@pytest.mark.requirement("M1.no-stale-evidence")
def test_no_stale_evidence(facts, gate):
    gate(m1.no_stale_evidence(facts))


@pytest.mark.requirement("M1.quiet-window")
def test_quiet_window(facts, gate):
    gate(m1.quiet_window(facts))
