"""Which memberships the plan asks (ghostgates/fetch/needs.py): only those a rule reads."""

from __future__ import annotations

from ghostgates.fetch.needs import wants_log, wants_membership
from ghostgates.read.phase import Phase

PHASE = Phase(builder_logins=("hedda",))
CORRECT = {"number": 12, "created_at": "2026-06-10T09:00:00Z"}
DUPLICATE = {"number": 14, "created_at": "2026-06-11T09:00:00Z"}
HISTORY = {"number": 7, "created_at": "2026-05-01T09:00:00Z"}


def comment(login: str, body: str) -> dict:
    return {"user": {"login": login}, "body": body}


def test_every_testme_author_is_asked_builders_too() -> None:
    for pr in (CORRECT, DUPLICATE, HISTORY):
        assert wants_membership(PHASE, CORRECT, pr, comment("hedda", "!testme"))
        assert wants_membership(PHASE, CORRECT, pr, comment("keeper", "!testme please"))


def test_a_duplicates_non_builder_commenters_are_asked() -> None:
    # M2.duplicates-resolved: a member who is not a builder may write the superseding comment.
    assert wants_membership(PHASE, CORRECT, DUPLICATE, comment("keeper", "superseded by PR #12"))
    assert not wants_membership(PHASE, CORRECT, DUPLICATE, comment("hedda", "superseded by PR #12"))


def test_no_rule_asks_of_the_correct_prs_other_comments_nor_of_history() -> None:
    # M2.fix-minimal's justification counts by anyone (gates.md), and older upgrade PRs are history.
    assert not wants_membership(PHASE, CORRECT, CORRECT, comment("drive-by", "measured 95 s against 5 s"))
    assert not wants_membership(PHASE, CORRECT, HISTORY, comment("keeper", "superseded by PR #9"))
    assert not wants_membership(PHASE, CORRECT, DUPLICATE, comment("", "no author"))


def test_logs_read_every_finished_build_of_the_correct_pr_and_red_ones_classified() -> None:
    # M2.fix-minimal holds a stated `Upgrade took` to the log of the build its `Build:` names (green or red),
    # and the Builder's draft measures from the latest finished build's log.
    phase = Phase.from_mapping({"repo": "recipe-maintainers/ghost", "recipe": "ghost", "expected_pr": 4,
                                "classify_failure_on": "2026-06-12"})

    def build(number: int, status: str, pr: str = "4", recipe: str = "ghost") -> dict:
        return {"number": number, "status": status, "created": 1781690000,
                "params": {"RECIPE": recipe, "PR": pr, "REF": "a" * 40}}

    assert wants_log(phase, None, 4, build(58, "success"))
    assert wants_log(phase, None, 4, build(57, "failure"))
    assert not wants_log(phase, None, 4, build(59, "running"))
    assert not wants_log(phase, None, 4, build(60, "success", pr="5"))
    assert not wants_log(phase, None, 4, build(61, "success", recipe="wordpress"))
