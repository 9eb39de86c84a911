"""The pre-flight asks its four questions (each service's version and token user) in one round trip.

Counted, not timed: the twin logs when each request started and ended (GHOSTGATES_TWIN_REQUEST_LOG),
and bench/gate_run.chain_depth says how many waited on another (issue 22: dependent round trips)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.gate_run import chain_depth
from ghostgates.fetch import preflight
from twin import running_twin
from twin.faults import REQUEST_LOG_ENV

DEMO = Path(__file__).resolve().parents[2] / "demo" / "world.yaml"


def test_the_four_probes_go_out_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "requests.jsonl"
    monkeypatch.setenv(REQUEST_LOG_ENV, str(log))
    with running_twin(DEMO, latency_ms=150) as twin:
        found = preflight.problems([preflight.gitea(twin.gitea_url, twin.gitea_token),
                                    preflight.drone(twin.drone_url, twin.drone_token)], 10.0)
    assert found == []
    seen = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted((r["service"], r["path"].split("?")[0]) for r in seen) == [
        ("drone", "/api/user"), ("drone", "/version"), ("gitea", "/api/v1/user"), ("gitea", "/api/v1/version")]
    assert chain_depth(seen) == 1


def test_the_first_cause_is_still_the_version_and_gitea_before_drone(tmp_path: Path) -> None:
    # Asked together, judged in the order they were asked one by one: a wrong token on both services
    # names Gitea's token, and a server that is not Gitea is named for that, not for its token.
    with running_twin(DEMO) as twin:
        both = preflight.problems([preflight.gitea(twin.gitea_url, "wrong"),
                                   preflight.drone(twin.drone_url, "wrong")], 10.0)
        assert len(both) == 2 and both[0].startswith("GITEA_TOKEN") and both[1].startswith("DRONE_TOKEN")
        not_gitea = preflight.problems([preflight.gitea(twin.drone_url + "/x", "wrong")], 10.0)
        assert len(not_gitea) == 1 and "is not Gitea" in not_gitea[0]
