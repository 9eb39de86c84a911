"""The anchors gates.md reads from STATUS-ghost.md: correct-PR line, sections, classification items."""

from __future__ import annotations

from ghostgates.statefile import StateFile

REPO = "recipe-maintainers/ghost"
HARNESS = "recipe-maintainers/cc-ci"
DRONE = "https://drone.example.org/recipe-maintainers/cc-ci"


def parse(text: str) -> StateFile:
    return StateFile.parse("machine-docs/STATUS-ghost.md", text)


STATUS = f"""# STATUS: ghost

Phase notes. The correct PR is discussed below.

## Inventory
- correct PR: PR #12 (https://git.example.org/recipe-maintainers/ghost/pulls/12), branch `upgrade-ghost-6.44`.
- PR #14: duplicate, closed.

## Current evidence
- build #287 ({DRONE}/287): green.
- see also {DRONE}/288

### Notes under evidence
- build #289: still current (a level-3 heading does not end the section).

## Classification
- build #278 (2026-07-12): infra. Tasks sat in New.
- build #280 (2026-07-12): recipe-timing. The db update paused while MySQL upgraded its
  data directory; build #287 shows the upgrade finishing in 39 s.
- infra: build #279, the same address exhaustion.
- build #281 and build #282: recipe-bug.

## Log
- build #300 is not evidence.

## DONE
"""


def test_correct_pr_first_line_containing_phrase() -> None:
    # "The correct PR is discussed" comes first but cites nothing; gates.md: the first line
    # containing `correct PR` is the line, and the PR it cites is the correct PR.
    state = parse(STATUS)
    assert state.correct_pr_line() == "Phase notes. The correct PR is discussed below."
    assert state.correct_prs(REPO) == []


def test_correct_pr_line() -> None:
    state = parse(STATUS.replace("Phase notes. The correct PR is discussed below.\n", ""))
    assert state.correct_prs(REPO) == [12]


def test_correct_pr_by_url_only() -> None:
    state = parse("- correct PR: https://git.example.org/recipe-maintainers/ghost/pulls/12\n")
    assert state.correct_prs(REPO) == [12]


def test_correct_pr_absent() -> None:
    state = parse("## Inventory\n- working on PR #12\n")
    assert state.correct_pr_line() is None
    assert state.correct_prs(REPO) == []


def test_correct_pr_line_in_any_letter_case() -> None:
    # A list item opens with a capital: "Correct PR:" is the same anchor as "correct PR".
    assert parse("- Correct PR: PR #12\n").correct_prs("o/r") == [12]
    assert parse("- the right PR: PR #12\n").correct_pr_line() is None


def test_sections_run_to_next_level_two_heading() -> None:
    state = parse(STATUS)
    for name in ("Inventory", "Current evidence", "Classification", "DONE"):
        assert state.has_section(name), name
    assert state.has_section("done")  # heading text compared without case
    assert not state.has_section("Notes under evidence")
    assert state.current_evidence(HARNESS) == [287, 288, 289]


def test_done_needs_a_level_two_heading() -> None:
    assert not parse("# STATUS\n### DONE\n").has_section("DONE")
    assert not parse("# STATUS\nDONE\n").has_section("DONE")
    assert parse("# STATUS\n## DONE\n").has_section("DONE")


def test_current_evidence_only_under_its_heading() -> None:
    state = parse("## Inventory\n- build #287\n## Current evidence\n- build #290\n## Log\n- build #291\n")
    assert state.current_evidence(HARNESS) == [290]
    assert parse("## Inventory\n- build #287\n").current_evidence(HARNESS) == []


def test_classification_items() -> None:
    items = {c.build: c.cls for c in parse(STATUS).classifications(HARNESS)}
    # multi-line item: the class of #280 is read once; the later mention of #287 is prose
    assert items == {278: "infra", 280: "recipe-timing", 279: "infra", 281: "recipe-bug", 282: "recipe-bug"}


def test_classification_by_url_and_case() -> None:
    text = f"## Classification\n- {DRONE}/278: INFRA, address exhaustion.\n"
    assert [(c.build, c.cls) for c in parse(text).classifications(HARNESS)] == [(278, "infra")]


def test_classification_line_without_class_word_classifies_nothing() -> None:
    text = "## Classification\n- build #278: the proxy was full.\n"
    assert parse(text).classifications(HARNESS) == []


def test_classification_outside_section_does_not_count() -> None:
    text = "## Inventory\n- build #278: infra\n## Classification\n"
    assert parse(text).classifications(HARNESS) == []


def test_headings_inside_code_fences_are_not_sections():
    from ghostgates.statefile import StateFile

    state = StateFile.parse("s", "# S\n\n```\n## DONE\n```\n\n## Log\nx\n")
    assert not state.has_section("DONE")
    assert state.has_section("Log")


def test_a_heading_names_its_section_by_its_first_words():
    from ghostgates.statefile import StateFile

    state = StateFile.parse("s", "## DONE (signed)\n\n## Current evidence: post-proxy\n- build #7\n\n## DONEE\n")
    assert state.has_section("DONE")
    assert state.current_evidence("o/r") == [7]
    assert StateFile.parse("s", "## DONEE\n").section("DONE") is None
