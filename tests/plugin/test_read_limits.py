"""The read limits reach the requirements: `--engine-max-bytes` the Swarm's, `--http-max-list-bytes`
Gitea's and Drone's. A read over its limit is `error` for each requirement that needed it (naming
the URL and the limit), never pass or fail; under it the same world judges as before
(tests/unit/test_engine_limits.py and test_list_budget.py hold the limits themselves)."""

from __future__ import annotations

from .conftest import DEMO

SWARM_SIDE = ("M1.proxy-clear", "M2.no-leaks")
LISTS_SIDE = ("M1.inventory", "M1.fresh-run")  # Gitea's pulls and Drone's builds lists


def test_an_engine_answer_over_the_limit_is_error_for_the_swarm_requirements(run_gates) -> None:
    run = run_gates("--engine-max-bytes", "200", "--requirement", ",".join(SWARM_SIDE), world=DEMO)
    for rid in SWARM_SIDE:
        result = run.results[rid]
        assert result["verdict"] == "error", result
        assert "over the limit of 200 bytes (--engine-max-bytes)" in result["reason"] or \
            "sent more than 200 bytes, the limit of one engine answer (--engine-max-bytes)" in result["reason"], result
        assert "/v1.41/" in result["reason"]


def test_under_the_limit_the_world_judges_as_it_expects(run_gates) -> None:
    run = run_gates("--engine-max-bytes", str(64 << 20), "--requirement", ",".join(SWARM_SIDE), world=DEMO)
    assert run.verdicts() == {"M1.proxy-clear": "pass", "M2.no-leaks": "fail"}, run.output[-2000:]


def test_a_limit_of_zero_is_a_usage_error(run_gates) -> None:
    run = run_gates("--engine-max-bytes", "0", world=DEMO)
    assert run.code == 4 and "--engine-max-bytes 0: must be more than 0" in run.output


def test_a_list_over_its_budget_is_error_for_the_requirements_that_read_it(run_gates) -> None:
    run = run_gates("--http-max-list-bytes", "100", "--requirement", ",".join(LISTS_SIDE), world=DEMO)
    for rid in LISTS_SIDE:
        result = run.results[rid]
        assert result["verdict"] == "error", result
        assert "the limit of one list" in result["reason"] and "(--http-max-list-bytes)" in result["reason"], result


def test_lists_within_their_budget_judge_as_the_world_expects(run_gates) -> None:
    run = run_gates("--http-max-list-bytes", str(256 << 20), "--requirement", ",".join(LISTS_SIDE), world=DEMO)
    assert run.verdicts() == {"M1.inventory": "pass", "M1.fresh-run": "pass"}, run.output[-2000:]
    zero = run_gates("--http-max-list-bytes", "0", world=DEMO)
    assert zero.code == 4 and "--http-max-list-bytes 0: must be more than 0" in zero.output
