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


def test_a_testme_no_reply_answers_has_no_build() -> None:
    # gates.md "Its build": a testme that no reply answers has no build, even where the PR has
    # builds nothing links (started by hand, or by a sweep).
    f = facts([comment(1, "hedda", "!testme", T1), comment(2, "hedda", "!testme", T2)],
              [build(300, "2026-07-15T12:00:03Z"), build(301, "2026-07-15T12:00:09Z")])
    t1, t2 = f.testmes(12)
    assert f.build_for_testme(t1) is None and f.build_for_testme(t2) is None
    assert m1.fresh_run(f).status == "fail"


def test_one_reply_answers_the_earliest_testme_only() -> None:
    f = facts([comment(1, "hedda", "!testme", T1), comment(2, "hedda", "!testme", T2)],
              [build(300, "2026-07-15T12:00:06Z"), build(301, "2026-07-15T12:00:08Z")],
              statuses=[status(300, "2026-07-15T12:00:07Z")])
    t1, t2 = f.testmes(12)
    assert f.build_for_testme(t1)["number"] == 300
    assert f.build_for_testme(t2) is None


def test_a_reply_linking_a_purged_build_still_answers_its_testme() -> None:
    # Drone purged build #250: the reply that links it still answers the first testme, so the
    # later reply (#301) answers the later testme, never the first.
    old, new = "2026-07-13T09:00:00Z", "2026-07-15T12:00:00Z"
    comments = [comment(1, "hedda", "!testme", old),
                comment(2, "ci-bridge", f"build #250 started: {DRONE}/250", "2026-07-13T09:00:20Z"),
                comment(3, "hedda", "!testme", new),
                comment(4, "ci-bridge", f"build #301 started: {DRONE}/301", "2026-07-15T12:00:20Z")]
    listed = [build(301, "2026-07-15T12:00:10Z")]
    f = facts(comments, listed)
    first, second = f.testmes(12)
    assert f.linked_build(first) == 250 and f.build_for_testme(first) is None
    assert f.build_for_testme(second)["number"] == 301
    # The pairing does not depend on which builds Drone lists: listing #250 changes nothing.
    again = facts(comments, [build(250, "2026-07-13T09:00:10Z"), *listed])
    assert again.testme_replies(12) == f.testme_replies(12) == {1: 250, 3: 301}


def test_a_build_listed_as_another_prs_answers_no_testme_here() -> None:
    f = facts([comment(1, "hedda", "!testme", T1),
               comment(2, "hedda", f"like build #299 ({DRONE}/299) on PR 14", "2026-07-15T12:00:02Z"),
               comment(3, "ci-bridge", f"build #300 started: {DRONE}/300", "2026-07-15T12:00:20Z")],
              [build(299, "2026-07-15T11:00:00Z", pr=14), build(300, "2026-07-15T12:00:10Z")])
    assert f.build_for_testme(f.testmes(12)[0])["number"] == 300


def test_pending_build_has_not_run_inside_a_blackout() -> None:
    pending = build(300, "2026-07-15T12:00:10Z")
    pending.update(status="pending", started=0, finished=0)
    blackouts = [{"name": "sweep", "start": "2026-07-15T12:00:00Z", "end": "2026-07-15T13:00:00Z"}]
    f = facts([comment(1, "hedda", "!testme", T1)], [pending], blackouts=blackouts,
              now="2026-07-15T12:30:00Z", statuses=[status(300, "2026-07-15T12:00:12Z")])
    assert m1.quiet_window(f).status == "pass"
    running = dict(pending, status="running", started=unix("2026-07-15T12:00:30Z"))
    f = facts([comment(1, "hedda", "!testme", T1)], [running], blackouts=blackouts, now="2026-07-15T12:30:00Z",
              statuses=[status(300, "2026-07-15T12:00:12Z")])
    assert m1.quiet_window(f).status == "fail"


def test_hidden_membership_is_error_only_where_it_decides() -> None:
    # gates.md "How verdicts fall": membership is needed only where the verdict differs with the
    # commenter a member or not. quiet's testme (hidden) ran build #300: fresh-run passes if quiet is
    # a member and fails if not; one testme stays within the budget either way; no blackout.
    f = facts([comment(1, "quiet", "!testme", T1), comment(2, "ci-bridge", f"build #300: {DRONE}/300", T2)],
              [build(300, "2026-07-15T12:00:10Z")])
    f.gitea["members"]["quiet"] = None
    verdict = m1.fresh_run(f)
    assert verdict.status == "error"
    assert verdict.reason.startswith("Gitea hides org membership of quiet from this token: use a token of a "
                                     "recipe-maintainers member or an admin")
    for rule in (m1.attempt_budget, m1.quiet_window):
        verdict = rule(f)
        assert verdict.status == "pass", rule
        assert "either way the verdict is the same" in verdict.reason
        assert {"kind": "member", "name": "quiet", "org": "recipe-maintainers", "visible": False} in verdict.evidence
    # Four hidden testmes might be over the limit of 3, or not.
    many = facts([comment(n, "quiet", "!testme", f"2026-07-15T12:0{n}:00Z") for n in range(1, 5)], [])
    many.gitea["members"]["quiet"] = None
    assert m1.attempt_budget(many).status == "error"
    # With hedda's (a member's) four testmes it is over the limit whatever quiet is.
    over = facts([comment(n, "hedda", "!testme", f"2026-07-15T12:0{n}:00Z") for n in range(1, 5)]
                 + [comment(9, "quiet", "!testme", "2026-07-15T12:09:00Z")], [])
    over.gitea["members"]["quiet"] = None
    assert m1.attempt_budget(over).status == "fail"


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


def test_the_watcher_sees_a_new_build_before_the_reply_a_verdict_does_not() -> None:
    # The bridge creates the build a moment before it replies: the Builder's watcher may follow it
    # (Facts.started_build), but no verdict counts it as the testme's build until a reply links it.
    f = facts([comment(1, "hedda", "!testme", T1)], [build(300, "2026-07-15T12:00:01Z")])
    testme = f.testmes(12)[0]
    assert f.build_for_testme(testme) is None
    assert f.started_build(testme)["number"] == 300
