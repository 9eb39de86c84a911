"""What a Facts reads once and every rule shares: the recipe's signature families (its root
compose files parsed once) and each build's log as a person reads it (ANSI codes stripped once).

gates.md "Other recipes' phases": the tables that apply are `infra` and the families whose images
the PR's compose files run, at its merge base or its head, plus any the phase names in `families`;
a recipe's compose files are `compose.yml` and every `compose.*.yml` at its root. gates.md "A
build's log": terminal colour and cursor codes are not text.
"""

from __future__ import annotations

from typing import Any

import pytest

from ghostgates.judge import classify
from ghostgates.judge import facts as facts_module
from ghostgates.judge.facts import Facts
from ghostgates.read.phase import Phase
from ghostgates.read.statefile import StateFile

BASE, HEAD = "b" * 40, "h" * 40


def facts_with(contents: dict[str, str], logs: dict[str, str] | None = None, **phase: Any) -> Facts:
    pr = {"number": 7, "title": "upgrade", "state": "open", "head": {"ref": "up", "sha": HEAD},
          "base": {"ref": "main", "sha": "c" * 40}, "merge_base": BASE, "created_at": "2026-06-10T00:00:00Z"}
    gitea = {"pulls": [pr], "pr": {"7": {"files": [], "comments": [], "commits": []}}, "contents": contents}
    return Facts(phase=Phase.from_mapping({"expected_pr": 7, **phase}), gitea=gitea, drone={"logs": logs or {}},
                 state=StateFile.parse("STATUS-ghost.md", "- correct PR: PR #7\n"))


def compose(image: str) -> str:
    return f"services:\n  app:\n    image: ghost:6\n  db:\n    image: {image}\n"


ROOTS = {f"{BASE}:": "compose.yml\ncompose.mysql.yml\n", f"{HEAD}:": "compose.yml\n",
         f"{BASE}:compose.yml": compose("postgres:15"), f"{BASE}:compose.mysql.yml": compose("mysql:8.0"),
         f"{HEAD}:compose.yml": compose("mariadb:11")}


def test_the_families_of_the_root_compose_files_at_base_and_head() -> None:
    facts = facts_with(ROOTS)
    assert facts.signature_families == ("mysql", "mariadb", "postgres")
    assert facts_with(ROOTS, families=["mysql"]).signature_families == ("mysql", "mariadb", "postgres")
    head_only = {f"{BASE}:": "", f"{HEAD}:": "compose.yml\n", f"{HEAD}:compose.yml": compose("mariadb:11")}
    assert facts_with(head_only).signature_families == ("mariadb",)
    assert facts_with(head_only, families=["postgres"]).signature_families == ("mariadb", "postgres")


def test_no_root_listing_read_is_every_table() -> None:
    unlisted = {k: v for k, v in ROOTS.items() if k != f"{HEAD}:"}
    assert facts_with(unlisted).signature_families is None


def test_the_root_compose_files_are_parsed_once_per_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str | None] = []
    real = classify.compose_images

    def counting(text: str | None) -> list[str]:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(classify, "compose_images", counting)
    facts = facts_with(ROOTS)
    for _ in range(5):  # M1.no-stale-evidence, M2.classified, M2.fix-minimal's markers, the draft...
        assert facts.signature_families == ("mysql", "mariadb", "postgres")
    assert len(parsed) == 3  # base's two root files and head's one, each once
    assert facts_with(ROOTS).signature_families == ("mysql", "mariadb", "postgres")  # another Facts reads its own
    assert len(parsed) == 6


def test_a_log_is_made_readable_once_per_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    stripped: list[str] = []
    real = facts_module.readable

    def counting(text: str) -> str:
        stripped.append(text)
        return real(text)

    monkeypatch.setattr(facts_module, "readable", counting)
    facts = facts_with({}, logs={"57": "state \x1b[1mnew\x1b[0m\n", "58": "plain\n"})
    for _ in range(3):
        assert facts.log(57) == "state new\n"
        assert facts.log(58) == "plain\n"
        assert facts.log(59) is None  # no log fetched: None, never an empty log
    assert stripped == ["state \x1b[1mnew\x1b[0m\n", "plain\n"]
