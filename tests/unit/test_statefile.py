"""The anchors gates.md reads from STATUS-ghost.md: correct-PR line, sections, classification items."""

from __future__ import annotations

import pytest

from ghostgates.read.statefile import StateFile

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
    # gates.md: the heading's text is exactly the anchor, letter case included.
    assert not state.has_section("done")
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
    from ghostgates.read.statefile import StateFile

    state = StateFile.parse("s", "# S\n\n```\n## DONE\n```\n\n## Log\nx\n")
    assert not state.has_section("DONE")
    assert state.has_section("Log")


def test_a_heading_is_its_anchor_only_when_its_text_is_exactly_the_anchor():
    # gates.md (2026-12-01): `## DONE criteria` is another heading. The earlier reading (the
    # anchor is the heading's first words) is gone.
    state = StateFile.parse("s", "## DONE (signed)\n\n## Current evidence: post-proxy\n- build #7\n\n## DONEE\n")
    assert not state.has_section("DONE")
    assert state.current_evidence("o/r") == []
    assert not StateFile.parse("s", "## DONE criteria\n").has_section("DONE")
    assert StateFile.parse("s", "## DONE ##\n").has_section("DONE")  # a closing sequence is markup
    assert StateFile.parse("s", "##   DONE   \n").has_section("DONE")
    assert StateFile.parse("s", "## *DONE*\n").has_section("DONE")  # emphasis is markup, the text is DONE


def test_setext_headings_are_level_two_headings():
    state = parse("# S\n\nDONE\n----\n\nCurrent evidence\n---\n- build #7\n")
    assert state.has_section("DONE")
    assert state.current_evidence(HARNESS) == [7]
    # `===` underlines a level-1 heading.
    assert not parse("DONE\n===\n").has_section("DONE")
    # A setext underline ends the section above it: the underlined line is the next heading.
    state = parse("## Current evidence\n- build #7\n\nLog\n---\n- build #8\n")
    assert state.current_evidence(HARNESS) == [7]


@pytest.mark.parametrize("text", [
    "```\n## DONE\n```\n",
    "~~~~\n## DONE\n~~~\n## DONE\n~~~~\n",  # a fence closes only on one at least as long
    "```\n## DONE\n~~~\n## DONE\n```\n",  # ... and of its own character
    "````\n```\n## DONE\n````\n",
    "```\n## DONE\n",  # an unclosed fence runs to the end of the file
    "    ## DONE\n",  # indented code
    "<!--\n## DONE\n-->\n",  # an HTML comment
    "<!-- ## DONE -->\n",
    "<details>\n## DONE\n</details>\n",  # an HTML block (no blank line ends it)
    "> ## DONE\n",  # a block quote
    "> quoted\n>\n> DONE\n> ---\n",
    "\\## DONE\n",  # an escaped hash is text
    "#### DONE\n",
    "#DONE\n",  # no space: not an ATX heading
])
def test_what_is_not_a_heading(text: str) -> None:
    assert not parse("# STATUS\n\n" + text).has_section("DONE"), text


def test_a_fence_closed_by_a_longer_fence_ends_there():
    state = parse("```\ncode\n`````\n## DONE\n")
    assert state.has_section("DONE")


def test_a_leading_byte_order_mark_is_no_text():
    assert parse("\ufeff## DONE\n").has_section("DONE")
    assert parse("\ufeff- correct PR: PR #12\n").correct_prs(REPO) == [12]
    assert parse("\ufeffDONE\n---\n").has_section("DONE")


def test_crlf_line_ends():
    state = parse("## Current evidence\r\n- build #7\r\n## Log\r\n- build #8\r\n")
    assert state.current_evidence(HARNESS) == [7]


def test_citations_in_an_html_comment_are_not_seen():
    state = parse("## Current evidence\n- build #7 <!-- and build #8 -->\n<!--\n- build #9\n-->\n")
    assert state.current_evidence(HARNESS) == [7]
    assert parse("<!-- correct PR: PR #9 -->\n- correct PR: PR #12\n").correct_prs(REPO) == [12]


def test_classification_items_come_from_the_parser():
    text = ("## Classification\n"
            "1. build #278: infra,\n   tasks sat in New.\n"
            "   - build #279: recipe-bug (a nested item is its own line)\n"
            "* build #280:\n  recipe-timing, the db paused\n"
            "build #281: stale-test\n"
            "<!-- build #282: infra -->\n"
            "```\nbuild #283: infra\n```\n")
    items = {c.build: c.cls for c in parse(text).classifications(HARNESS)}
    assert items == {278: "infra", 279: "recipe-bug", 280: "recipe-timing", 281: "stale-test", 283: "infra"}


def test_a_quoted_heading_does_not_end_a_section():
    state = parse("## Current evidence\n- build #7\n> ## Log\n- build #8\n")
    assert state.current_evidence(HARNESS) == [7, 8]


def test_a_heading_in_a_list_item_is_a_heading_one_in_a_quote_at_any_depth_is_not():
    assert parse("- ## DONE\n").has_section("DONE")
    assert not parse("- > ## DONE\n").has_section("DONE")
    assert not parse("> - ## DONE\n").has_section("DONE")


def test_a_level_one_heading_does_not_end_a_section():
    state = parse("## Current evidence\n- build #7\n# Aside\n- build #8\n## Log\n- build #9\n")
    assert state.current_evidence(HARNESS) == [7, 8]


def test_a_heading_written_twice_is_one_section():
    state = parse("## Current evidence\n- build #7\n## Log\n## Current evidence\n- build #8\n")
    assert state.current_evidence(HARNESS) == [7, 8]


def test_the_review_writers_sections_keep_their_line_numbers():
    from ghostgates.read.markdown import sections

    lines = ["# R", "", "## M1: x", "<!-- gate-record gate=M1 -->", "", "```", "## M2 in code", "```", "## M2: y"]
    assert [(s.start, s.end, s.title) for s in sections(lines)] == [(2, 8, "M1: x"), (8, 9, "M2: y")]


# --- the one reading: where the file is, whether it exists, its StateFile, its error ------------

def test_the_state_file_is_status_name_in_the_state_dir(tmp_path) -> None:
    from ghostgates.read.phase import Phase
    from ghostgates.read.statefile import status_path

    assert status_path(tmp_path, Phase.from_mapping({"recipe": "ghost"})) == tmp_path / "STATUS-ghost.md"
    named = Phase.from_mapping({"recipe": "lasuite-docs", "name": "docs"})
    assert status_path(str(tmp_path), named) == tmp_path / "STATUS-docs.md"


def test_read_state_missing_present_and_unreadable(tmp_path) -> None:
    from ghostgates.errors import ConfigError
    from ghostgates.read.phase import Phase
    from ghostgates.read.statefile import read_state, state_from

    phase = Phase.from_mapping({"recipe": "ghost"})
    assert read_state(tmp_path, phase) is None  # no file: None, for the rules to say so
    assert read_state(tmp_path / "no-such-dir", phase) is None
    (tmp_path / "STATUS-ghost.md").write_text("correct PR: PR #12\n\n## DONE\n", encoding="utf-8")
    state = read_state(tmp_path, phase)
    assert state is not None and state.path == str(tmp_path / "STATUS-ghost.md")
    assert state.correct_prs(REPO) == [12] and state.has_section("DONE")
    # The same reading from a text another process read (the run's shared copy).
    assert state_from(tmp_path / "STATUS-ghost.md", state.text) == state
    assert state_from(tmp_path / "STATUS-ghost.md", None) is None
    (tmp_path / "STATUS-ghost.md").write_bytes(b"correct PR: PR #12 \xe9\xff\n")
    with pytest.raises(ConfigError, match=r"STATUS-ghost\.md: cannot be read"):
        read_state(tmp_path, phase)
    (tmp_path / "STATUS-ghost.md").unlink()
    (tmp_path / "STATUS-ghost.md").mkdir()  # a folder where the file should be: unreadable, not missing
    with pytest.raises(ConfigError, match=r"STATUS-ghost\.md: cannot be read"):
        read_state(tmp_path, phase)
