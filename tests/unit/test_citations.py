"""References in prose (gates.md "References in the state file and in comments")."""

from __future__ import annotations

import pytest

from ghostgates.read.citations import (
    build_urls,
    cited_builds,
    cited_prs,
    cites_branch,
    class_word_spans,
)

REPO = "recipe-maintainers/ghost"
HARNESS = "recipe-maintainers/cc-ci"


@pytest.mark.parametrize("text, prs", [
    ("correct PR: PR #12", [12]),
    ("pr #12 and Pr #14", [12, 14]),
    ("PR#12", [12]),
    ("see PR #45", [45]),
    ("https://git.example.org/recipe-maintainers/ghost/pulls/12", [12]),
    ("https://gitea.coopcloud.tech/recipe-maintainers/ghost/pulls/12", [12]),
    ("http://127.0.0.1:3000/recipe-maintainers/ghost/pulls/12#issuecomment-410", [12]),
    ("HTTPS://GIT.EXAMPLE.ORG/Recipe-Maintainers/Ghost/pulls/12", [12]),
    ("PR #12, then PR #14, then PR #12 again", [12, 14]),
    ("#12 alone", []),
    ("issue #12", []),
    ("SPR #12", []),
    ("https://git.example.org/recipe-maintainers/wordpress/pulls/12", []),
    ("https://git.example.org/recipe-maintainers/ghost-extra/pulls/12", []),
    ("PR number 12", []),
])
def test_pr_references(text: str, prs: list[int]) -> None:
    assert cited_prs(text, REPO) == prs


def test_pr_45_is_not_pr_4() -> None:
    assert 4 not in cited_prs("PR #45 and PR #40", REPO)
    assert 4 not in cited_prs("https://git.example.org/recipe-maintainers/ghost/pulls/45", REPO)
    assert cited_prs("PR #4.", REPO) == [4]
    assert cited_prs("(PR #4)", REPO) == [4]


@pytest.mark.parametrize("text, builds", [
    ("build #287", [287]),
    ("Build #287 and BUILD #288", [287, 288]),
    ("builds #287", [287]),
    ("https://drone.example.org/recipe-maintainers/cc-ci/287", [287]),
    ("https://ci.coopcloud.tech/recipe-maintainers/cc-ci/287", [287]),
    ("http://127.0.0.1:8080/recipe-maintainers/cc-ci/287/1/2", [287]),
    ("build #28 is not build #287", [28, 287]),
    ("#287", []),
    ("rebuild #287", []),
    ("https://drone.example.org/recipe-maintainers/other-ci/287", []),
    ("https://drone.example.org/recipe-maintainers/cc-ci-old/287", []),
])
def test_build_references(text: str, builds: list[int]) -> None:
    assert cited_builds(text, HARNESS) == builds


def test_build_urls_are_only_urls() -> None:
    text = "build #287 passed; see https://drone.example.org/recipe-maintainers/cc-ci/288"
    assert build_urls(text, HARNESS) == [288]
    assert build_urls("build #287 passed", HARNESS) == []


@pytest.mark.parametrize("text, cited", [
    ("branch `upgrade-ghost-6.44`, head 0f9a", True),
    ("on upgrade-ghost-6.44.", True),
    ("(upgrade-ghost-6.44)", True),
    ("branch `upgrade-ghost-6.44-retry`", False),
    ("branch upgrade-ghost-6.44.1", False),
    ("branch old-upgrade-ghost-6.44", False),
    ("origin/upgrade-ghost-6.44x", False),
    ("upgrade ghost 6.44", False),
])
def test_branch_exact_name(text: str, cited: bool) -> None:
    assert cites_branch(text, "upgrade-ghost-6.44") is cited


def test_branch_prefix_of_a_cited_branch_is_not_cited() -> None:
    text = "- correct PR: PR #12, branch `upgrade-ghost-6.44`; PR #14, branch `upgrade-ghost-6.44-retry`"
    assert cites_branch(text, "upgrade-ghost") is False
    assert cites_branch(text, "upgrade-ghost-6.44") is True
    assert cites_branch(text, "upgrade-ghost-6.44-retry") is True


def test_class_words_any_case() -> None:
    assert [w for w, _ in class_word_spans("Infra, then RECIPE-TIMING, then recipe-bug, stale-test, unknown")] == [
        "infra", "recipe-timing", "recipe-bug", "stale-test", "unknown"]
    assert class_word_spans("infrastructure and recipe-timings") == []


# gates.md (2026-12-01) References: `PR#N`, URL tails, `build #580` never 58, any letter case,
# read from the text a reader sees.
@pytest.mark.parametrize("text, prs", [
    ("PR#4 and pr#5", [4, 5]),
    ("https://git.example.org/recipe-maintainers/ghost/pulls/12/files", [12]),
    ("https://git.example.org/recipe-maintainers/ghost/pulls/12#issuecomment-410", [12]),
    ("https://git.example.org/recipe-maintainers/ghost/pulls/12/files#diff-abc", [12]),
    ("[the correct one](https://git.example.org/recipe-maintainers/ghost/pulls/12)", [12]),
    ("<https://git.example.org/recipe-maintainers/ghost/pulls/12>", [12]),
    ("**PR #12**", [12]),
    ("`PR #12`", [12]),
    ("PR \\#12", [12]),  # an escaped hash is a hash to the reader
    ("PR &#35;12", [12]),  # so is an entity
    ("<!-- PR #12 -->", []),  # an HTML comment is not seen
    ("PR #12 <!-- PR #14 -->", [12]),
    ("PR #120", [120]),
    ("PR #12a", []),
])
def test_pr_references_as_read(text: str, prs: list[int]) -> None:
    assert cited_prs(text, REPO) == prs


@pytest.mark.parametrize("text, builds", [
    ("build #580", [580]),
    ("build #580 and https://drone.example.org/recipe-maintainers/cc-ci/580/1/2", [580]),
    ("https://drone.example.org/recipe-maintainers/cc-ci/580/1/2", [580]),
    ("HTTPS://DRONE.EXAMPLE.ORG/RECIPE-MAINTAINERS/CC-CI/580/2/1", [580]),
    ("BUILD#580", [580]),
    ("build#58", [58]),
    ("[build 580](https://drone.example.org/recipe-maintainers/cc-ci/580)", [580]),
    ("<!-- build #58 --> build #580", [580]),
    ("build #5800", [5800]),
    ("build #580x", []),
])
def test_build_references_as_read(text: str, builds: list[int]) -> None:
    assert cited_builds(text, HARNESS) == builds
    assert 58 not in cited_builds("build #580", HARNESS)


def test_a_drone_url_in_a_link_target_is_a_link() -> None:
    text = "passed: [build 287](https://drone.example.org/recipe-maintainers/cc-ci/287/1/1)"
    assert build_urls(text, HARNESS) == [287]
    assert build_urls("<!-- https://drone.example.org/recipe-maintainers/cc-ci/287 -->", HARNESS) == []


def test_plain_text_is_not_reparsed() -> None:
    # Visible text can read as markup again (`<x>` after `&lt;x&gt;`): callers that already
    # hold visible text say so.
    assert cited_prs("<PR #12>", REPO, markdown=False) == [12]
    assert cited_prs("<span>PR #12</span>", REPO) == [12]


def test_a_build_statement_cites_its_build() -> None:
    # gates.md statements: "A `Build:` statement cites its build."
    assert cited_builds("Build: #57", "recipe-maintainers/cc-ci") == [57]
    assert cited_builds("- **Build:** #57\nbuild: #580", "recipe-maintainers/cc-ci") == [57, 580]
    assert cited_builds("Build: 57", "recipe-maintainers/cc-ci") == []
