"""Facts as live Gitea and Drone answer them (issue 8): deleted head branches, two testmes and
two clocks, pending builds, hidden org membership, unreadable logs, the merge base."""

from __future__ import annotations

from typing import Any

from ghostgates.judge.facts import head_branch
from ghostgates.judge.rules import m1, m2
from tests.unit.test_rules_testme import DRONE, build, comment, facts, unix

T1, T2 = "2026-07-15T12:00:00Z", "2026-07-15T12:00:05Z"


def status(n: int, at: str) -> dict[str, Any]:
    return {"context": "cc-ci/testme", "status": "pending", "target_url": f"{DRONE}/{n}", "created_at": at}


def test_head_branch_is_the_label_once_gitea_sends_the_pull_ref() -> None:
    # go-gitea/gitea services/convert/pull.go: Head.Ref = "refs/pull/N/head" unless the branch exists.
    gone = {"head": {"ref": "refs/pull/14/head", "label": "upgrade-ghost-6.44-retry", "sha": "a" * 40}}
    kept = {"head": {"ref": "upgrade-ghost-6.44", "label": "upgrade-ghost-6.44", "sha": "a" * 40}}
    assert head_branch(gone) == "upgrade-ghost-6.44-retry"
    assert head_branch(kept) == "upgrade-ghost-6.44"
    assert head_branch({"head": {"ref": "refs/pull/14/head"}}) == "refs/pull/14/head"


def test_two_testmes_close_together_have_two_builds_each_its_own() -> None:
    f = facts([comment(1, "hedda", "!testme", T1), comment(2, "hedda", "!testme", T2),
               comment(3, "ci-bridge", f"build #300 started: {DRONE}/300", "2026-07-15T12:00:20Z"),
               comment(4, "ci-bridge", f"build #301 started: {DRONE}/301", "2026-07-15T12:00:26Z")],
              [build(300, "2026-07-15T12:00:15Z"), build(301, "2026-07-15T12:00:21Z")])
    t1, t2 = f.testmes(12)
    assert f.build_for_testme(t1)["number"] == 300
    assert f.build_for_testme(t2)["number"] == 301


def test_a_linked_build_stamped_before_its_testme_is_its_build() -> None:
    # Drone's clock runs 40 s behind Gitea's: build #300 is stamped before the testme.
    f = facts([comment(1, "hedda", "!testme", T1)], [build(300, "2026-07-15T11:59:30Z")],
              statuses=[status(300, "2026-07-15T12:00:02Z")])
    assert f.build_for_testme(f.testmes(12)[0])["number"] == 300


def test_a_build_older_than_the_skew_is_not_the_testmes() -> None:
    f = facts([comment(1, "hedda", "!testme", T1)], [build(300, "2026-07-15T11:58:00Z")],
              statuses=[status(300, "2026-07-15T12:00:02Z")])
    assert f.build_for_testme(f.testmes(12)[0]) is None


def test_unlinked_fallback_gives_each_testme_its_own_build() -> None:
    f = facts([comment(1, "hedda", "!testme", T1), comment(2, "hedda", "!testme", T2)],
              [build(300, "2026-07-15T12:00:03Z"), build(301, "2026-07-15T12:00:09Z")])
    t1, t2 = f.testmes(12)
    assert (f.build_for_testme(t1)["number"], f.build_for_testme(t2)["number"]) == (300, 301)


def test_linked_builds_bind_before_the_fallback() -> None:
    # The bridge answers in order: the one link (#300) answers the first testme; the second
    # testme falls back to the build nothing links (#301), never to #300 again.
    f = facts([comment(1, "hedda", "!testme", T1), comment(2, "hedda", "!testme", T2)],
              [build(300, "2026-07-15T12:00:06Z"), build(301, "2026-07-15T12:00:08Z")],
              statuses=[status(300, "2026-07-15T12:00:07Z")])
    t1, t2 = f.testmes(12)
    assert f.build_for_testme(t1)["number"] == 300
    assert f.build_for_testme(t2)["number"] == 301


def test_pending_build_has_not_run_inside_a_blackout() -> None:
    pending = build(300, "2026-07-15T12:00:10Z")
    pending.update(status="pending", started=0, finished=0)
    blackouts = [{"name": "sweep", "start": "2026-07-15T12:00:00Z", "end": "2026-07-15T13:00:00Z"}]
    f = facts([comment(1, "hedda", "!testme", T1)], [pending], blackouts=blackouts,
              now="2026-07-15T12:30:00Z")
    assert m1.quiet_window(f).status == "pass"
    running = dict(pending, status="running", started=unix("2026-07-15T12:00:30Z"))
    f = facts([comment(1, "hedda", "!testme", T1)], [running], blackouts=blackouts, now="2026-07-15T12:30:00Z")
    assert m1.quiet_window(f).status == "fail"


def test_hidden_membership_of_a_testme_author_is_error() -> None:
    f = facts([comment(1, "quiet", "!testme", T1)], [build(300, "2026-07-15T12:00:10Z")])
    f.gitea["members"]["quiet"] = None
    for rule in (m1.fresh_run, m1.attempt_budget, m1.quiet_window):
        verdict = rule(f)
        assert verdict.status == "error", rule
        assert verdict.reason == ("Gitea hides org membership of quiet from this token: use a token of a "
                                  "recipe-maintainers member or an admin.")


def test_hidden_membership_of_a_plain_commenter_decides_nothing() -> None:
    f = facts([comment(1, "hedda", "!testme", T1), comment(2, "quiet", "looks good", T2)],
              [build(300, "2026-07-15T12:00:10Z")])
    f.gitea["members"]["quiet"] = None
    assert m1.attempt_budget(f).status == "pass"


def test_unreadable_log_is_error_not_an_empty_log() -> None:
    red = build(278, "2026-07-12T05:10:00Z", status="failure")
    f = facts([], [red], classify_failure_on="2026-07-12")
    f.state = type(f.state).parse("STATUS-ghost.md", "- correct PR: PR #12\n\n## Classification\n"
                                  "- build #278: infra\n")
    f.drone["log_errors"] = {"278": "GET https://drone/x/278/logs/1/1 answered 404"}
    for rule in (m1.no_stale_evidence, m2.classified):
        verdict = rule(f)
        assert verdict.status == "error", rule
        assert "answered 404" in verdict.reason


def test_fix_minimal_without_merge_base_is_error() -> None:
    f = facts([], [])
    f.gitea["pr"]["12"]["files"] = [{"filename": "compose.yml", "status": "modified"}]
    assert m2.fix_minimal(f).status == "error"
