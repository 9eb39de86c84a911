"""M2.fix-minimal over fetched data: the base side of a renamed compose file is read by its old name."""

from __future__ import annotations

from ghostgates.judge.facts import Facts
from ghostgates.judge.rules.m2 import fix_minimal
from ghostgates.read.phase import Phase
from ghostgates.read.statefile import StateFile

BASE, HEAD = "b" * 40, "h" * 40
COMPOSE = "services:\n  db:\n    image: mysql:8.0\n"


def facts_with(files: list[dict], contents: dict[str, str]) -> Facts:
    pr = {"number": 7, "title": "upgrade", "state": "open", "head": {"ref": "up", "sha": HEAD},
          # base.sha is main's head now, moved on since the fork: the base side is merge_base.
          "base": {"ref": "main", "sha": "c" * 40}, "merge_base": BASE, "created_at": "2026-06-10T00:00:00Z"}
    gitea = {"pulls": [pr], "pr": {"7": {"files": files, "comments": [], "commits": []}}, "contents": contents}
    return Facts(phase=Phase.from_mapping({"expected_pr": 7}), gitea=gitea, drone={},
                 state=StateFile.parse("STATUS-ghost.md", "- correct PR: PR #7\n"))


def test_a_renamed_compose_file_is_compared_with_its_old_text():
    files = [{"filename": "compose.yml", "status": "renamed", "previous_filename": "docker-compose.yml"}]
    verdict = fix_minimal(facts_with(files, {f"{BASE}:docker-compose.yml": COMPOSE, f"{HEAD}:compose.yml": COMPOSE}))
    # The rename itself is a change beyond the upgrade; the content was read on both sides.
    assert verdict.status == "fail"
    assert "compose.yml (renamed from docker-compose.yml)" in verdict.reason


def test_image_tag_only_skips():
    files = [{"filename": "compose.yml", "status": "modified"}]
    head = COMPOSE.replace("8.0", "8.4")
    verdict = fix_minimal(facts_with(files, {f"{BASE}:compose.yml": COMPOSE, f"{HEAD}:compose.yml": head}))
    assert verdict.status == "skip"


def test_a_missing_base_text_is_an_error_not_a_fail():
    files = [{"filename": "compose.yml", "status": "modified"}]
    verdict = fix_minimal(facts_with(files, {f"{HEAD}:compose.yml": COMPOSE}))
    assert verdict.status == "error"
    assert "base sha" in verdict.reason
