"""`--engine-max-bytes` reaches the Swarm requirements: an engine answer over it is `error` for each
requirement that reads the Swarm (naming the URL and the limit), never pass or fail; under it the
same world judges as before (tests/unit/test_engine_limits.py holds the limit itself)."""

from __future__ import annotations

from .conftest import DEMO

SWARM_SIDE = ("M1.proxy-clear", "M2.no-leaks")


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
