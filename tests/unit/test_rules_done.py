"""DONE.signed's review-record checks, decided without services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from ghostgates.judge.facts import Facts
from ghostgates.judge.rules import done
from ghostgates.read.phase import Phase
from ghostgates.read.statefile import StateFile

HEAD = "a" * 40
OLD = "b" * 40


def unix(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def facts(state: str = "- correct PR: PR #12\n## DONE\n") -> Facts:
    def build(n: int, created: str, status: str = "success") -> dict[str, Any]:
        c = unix(created)
        return {"number": n, "status": status, "params": {"RECIPE": "ghost", "PR": "12", "REF": HEAD},
                "created": c, "started": c + 10, "finished": 0 if status == "running" else c + 1200}

    gitea = {"pulls": [{"number": 12, "title": "upgrade ghost", "state": "open", "merged": False,
                        "head": {"ref": "upgrade-ghost", "sha": HEAD}, "base": {"ref": "main"},
                        "created_at": "2026-07-10T00:00:00Z"}], "pr": {}}
    # 287 finished 12:20:20; 290 is still running and is not a finished build
    drone = {"builds": [build(280, "2026-07-12T18:40:20Z", "failure"), build(287, "2026-07-15T12:00:20Z"),
                        build(290, "2026-07-15T19:00:00Z", "running")]}
    return Facts(phase=Phase.from_mapping({"repo": "recipe-maintainers/ghost", "recipe": "ghost", "expected_pr": 12,
                                           "proxy_fixed_at": "2026-07-14T11:30:00Z"}),
                 gitea=gitea, drone=drone, state=StateFile.parse("STATUS-ghost.md", state))


def record(gate: str, verdict: str = "PASS", role: str = "adversary", head: str = HEAD, build: str = "287",
           at: str = "2026-07-15T13:20:00Z") -> str:
    return f"## {gate} gate\n<!-- gate-record gate={gate} verdict={verdict} role={role} head={head} " \
           f"build={build} at={at} -->\nbody\n\n"


def review(**m2: str) -> str:
    return "# REVIEW\n\n" + record("M1") + record("M2", **m2)


def test_fresh_adversary_passes_sign_done() -> None:
    assert done.signed(facts(), review()).status == "pass"


@pytest.mark.parametrize("m2", [
    {"at": "2026-07-15T12:10:00Z"},  # recorded before the latest build finished
    {"role": "builder"},
    {"verdict": "FAIL"},
    {"head": OLD},
    {"build": "280"},
])
def test_stale_or_wrong_records_do_not_sign(m2: dict[str, str]) -> None:
    assert done.signed(facts(), review(**m2)).status == "fail"


def test_missing_gate_record_or_review_file() -> None:
    assert done.signed(facts(), "# REVIEW\n\n" + record("M1")).status == "fail"
    assert done.signed(facts(), None).status == "fail"


def test_record_not_first_line_of_its_block_is_not_read() -> None:
    text = "# REVIEW\n\n" + record("M1") + "## M2 gate\nsome prose first\n" + \
        record("M2").split("\n", 1)[1]
    assert done.signed(facts(), text).status == "fail"


def test_no_done_heading_skips() -> None:
    assert done.signed(facts("- correct PR: PR #12\n### DONE\n"), review()).status == "skip"
    assert done.signed(facts("- correct PR: PR #12\n"), None).status == "skip"
