"""The sentences gates.md relies on: superseding direction and the stated blocker (issue 9)."""

from __future__ import annotations

import pytest

from ghostgates.read.sentences import REVERSE, SUPERSEDED, blocker, superseding

REPO = "recipe-maintainers/ghost"
URL = "https://git.example.org/recipe-maintainers/ghost/pulls"


@pytest.mark.parametrize("text", [
    "Superseded by PR #12, which carries the same upgrade; closing this duplicate.",
    "superseded by PR#12",
    f"Superseded by {URL}/12",
    f"Superseded by [the correct PR]({URL}/12/files)",
    "Replaced by PR #12.",
    "Closing in favour of PR #12.",
    "Closing in favor of PR #12.",
    "Duplicate of PR #12.",
    "This is a duplicate of PR #12 (same upgrade).",
    "This duplicates PR #12.",
    "PR #12 supersedes this one.",
    "PR #12, opened first and still open, supersedes this retry.",
    "PR #12 replaces this PR.",
    "Closed: superseded by the older PR #12.",
    "Superseded by PR #12, not PR #15.",
    "PR #14 is superseded by PR #12.",  # the comment names the duplicate itself
])
def test_the_correct_pr_supersedes(text: str) -> None:
    reading = superseding(text, 12, REPO)
    assert reading is not None and reading.direction == SUPERSEDED, text


@pytest.mark.parametrize("text", [
    "This supersedes PR #12.",
    "Supersedes PR #12.",
    "This PR replaces PR #12.",
    "PR #14 supersedes PR #12.",
    "PR #12 is a duplicate of this one, see PR #14.",
    "PR #12 is a duplicate of PR #14.",
    "Closing PR #12 in favour of PR #14.",
    # contradicts itself: not a plain statement that PR #12 supersedes
    "Superseded by PR #12. Actually this supersedes PR #12.",
])
def test_the_reverse_direction(text: str) -> None:
    reading = superseding(text, 12, REPO)
    assert reading is not None and reading.direction == REVERSE, text


@pytest.mark.parametrize("text", [
    "See PR #12.",
    "Closing; PR #12 carries the upgrade.",
    "Superseded; see PR #12.",  # says it is superseded, not by which PR
    "Superseded by PR #120.",
    "Superseded by PR #15, not PR #12.",
    "Superseded by #12.",  # `#12` alone is no citation
    "Not superseded by PR #12: both stay open.",
    "This is not a duplicate of PR #12.",
    "Superseded by the retry branch, whatever PR #12 says later on in this long sentence.",
    "<!-- superseded by PR #12 -->",  # a reader sees nothing
    "",
])
def test_no_superseding_statement(text: str) -> None:
    assert superseding(text, 12, REPO) is None, text


@pytest.mark.parametrize("text", [
    "build #288 failed: blocked on the upstream fix for the post-revisions migration.",
    "Red. Blocked by PR #3 in the mysql recipe.",
    "Blocker: ghost 6.44.1 crash-loops on its post-revisions migration.",
    "The blocker is the 5 s update monitor.",
    "build #288 (https://drone.example.org/recipe-maintainers/cc-ci/288) failed on abc1234567: blocked. The db now "
    "upgrades in time, but ghost 6.44.1 crash-loops on its post-revisions migration (recipe-bug); this needs an "
    "upstream fix.",
    "recipe-timing: the db update paused while MySQL upgraded its data directory.",
    "infra, the proxy overlay ran out of addresses again.",
    "The migration bug in 6.44.1 blocks this PR.",
])
def test_states_a_blocker(text: str) -> None:
    assert blocker(text) is not None, text


@pytest.mark.parametrize("text", [
    "build #288 failed",
    "build #288 failed.",
    "Red: failed, blocked.",
    "blocked.",
    "Blocked",
    "build #288 failed: recipe-bug.",  # a class and no cause
    "build #288 (https://drone.example.org/recipe-maintainers/cc-ci/288) failed on abc1234567: infra.",
    "Failed for an unknown reason; the cause is unknown, sadly, I think.",
    "Not blocked on anything: re-running.",
    "No blocker: the next run should pass.",
    "<!-- blocked on the migration -->failed",
    "",
])
def test_states_no_blocker(text: str) -> None:
    assert blocker(text) is None, text
