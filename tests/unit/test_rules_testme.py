"""Testmes, their builds and post-proxy strictness, decided without services (M1.fresh-run,
M1.attempt-budget, M1.quiet-window, M2.outcome)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ghostgates.judge.facts import Facts
from ghostgates.judge.rules import m1, m2
from ghostgates.read.phase import Phase
from ghostgates.read.statefile import StateFile

FIX = "2026-07-14T11:30:00Z"
HEAD = "a" * 40
OLDER = "b" * 40
DRONE = "https://drone.example.org/recipe-maintainers/cc-ci"


def unix(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def phase(**extra: Any) -> Phase:
    return Phase.from_mapping({"repo": "recipe-maintainers/ghost", "recipe": "ghost", "expected_pr": 12,
                               "proxy_fixed_at": FIX, "builder_logins": ["hedda"],
                               "max_post_proxy_attempts": 3, **extra})


def comment(cid: int, login: str, body: str, at: str) -> dict[str, Any]:
    return {"id": cid, "user": {"login": login}, "body": body, "created_at": at}


def build(number: int, created: str, status: str = "success", pr: int = 12, sha: str = HEAD,
          recipe: str = "ghost", minutes: int = 20) -> dict[str, Any]:
    c = unix(created)
    return {"number": number, "status": status, "params": {"RECIPE": recipe, "PR": str(pr), "REF": sha},
            "after": "c" * 40, "created": c, "started": c + 10,
            "finished": 0 if status == "running" else c + minutes * 60}


def reply(cid: int, number: int, at: str) -> dict[str, Any]:
    """The bridge's reply to a testme: it links the build it started (gates.md "Its build")."""
    return comment(cid, "ci-bridge", f"build #{number} started: {DRONE}/{number}", at)


def facts(comments: list[dict[str, Any]], builds: list[dict[str, Any]], statuses: list[dict[str, Any]] = (),
          now: str = "2026-07-15T20:00:00Z", extra_prs: dict[int, list[dict[str, Any]]] | None = None,
          **phase_extra: Any) -> Facts:
    prs = {12: comments, **(extra_prs or {})}
    pulls = [{"number": n, "title": f"chore: upgrade ghost ({n})", "state": "open", "merged": False,
              "head": {"ref": f"upgrade-{n}", "sha": HEAD}, "base": {"ref": "main", "sha": "1" * 40},
              "created_at": "2026-07-10T11:00:00Z"} for n in prs]
    gitea = {"pulls": pulls,
             "pr": {str(n): {"comments": cs, "files": [],
                             "commits": [{"sha": OLDER}, {"sha": HEAD}]} for n, cs in prs.items()},
             "members": {"hedda": True, "ci-bridge": True, "drive-by": False},
             "statuses": {HEAD: list(statuses)}}
    return Facts(phase=phase(**phase_extra), gitea=gitea, drone={"builds": builds},
                 state=StateFile.parse("STATUS-ghost.md", "- correct PR: PR #12\n"),
                 now=datetime.fromisoformat(now.replace("Z", "+00:00")).astimezone(UTC))


def test_testme_is_first_word_exactly_by_a_member() -> None:
    f = facts([comment(1, "hedda", "!testme please", "2026-07-15T12:00:00Z"),
               comment(2, "hedda", "!testmexyz", "2026-07-15T12:01:00Z"),
               comment(3, "hedda", "!TESTME", "2026-07-15T12:02:00Z"),
               comment(4, "drive-by", "!testme", "2026-07-15T12:03:00Z"),
               comment(5, "hedda", "please !testme", "2026-07-15T12:04:00Z")], [])
    assert [t.id for t in f.testmes(12)] == [1]


def test_post_proxy_is_strictly_after_the_fix() -> None:
    f = facts([comment(1, "hedda", "!testme", FIX), comment(2, "hedda", "!testme", "2026-07-14T11:30:01Z")], [])
    assert [t.id for t in f.post_proxy_testmes()] == [2]
    at_fix = build(300, FIX)
    assert not f.is_post_proxy_build(at_fix)


def test_fresh_run_fails_for_a_testme_exactly_at_the_fix() -> None:
    f = facts([comment(1, "hedda", "!testme", FIX)], [build(300, "2026-07-14T11:30:20Z")])
    assert m1.fresh_run(f).status == "fail"


def test_build_of_another_recipe_never_belongs_to_the_pr() -> None:
    f = facts([comment(1, "hedda", "!testme", "2026-07-15T12:00:00Z"), reply(9, 301, "2026-07-15T12:00:25Z")],
              [build(300, "2026-07-15T12:00:10Z", "failure", recipe="wordpress", sha="d" * 40),
               build(301, "2026-07-15T12:00:20Z")])
    assert f.build_for_testme(f.testmes(12)[0])["number"] == 301
    assert [b["number"] for b in f.builds_of_pr(12)] == [301]
    assert m1.fresh_run(f).status == "pass"


def test_linked_build_is_preferred_over_the_earliest_candidate() -> None:
    f = facts([comment(1, "hedda", "!testme", "2026-07-15T12:00:00Z"),
               comment(2, "ci-bridge", f"build #302 started: {DRONE}/302", "2026-07-15T12:00:30Z")],
              [build(301, "2026-07-15T12:00:05Z", "failure", sha="e" * 40), build(302, "2026-07-15T12:00:20Z")])
    assert f.build_for_testme(f.testmes(12)[0])["number"] == 302


def test_build_before_the_next_testme_belongs_to_the_earlier_one() -> None:
    f = facts([comment(1, "hedda", "!testme", "2026-07-15T12:00:00Z"), reply(8, 301, "2026-07-15T12:00:25Z"),
               comment(2, "hedda", "!testme", "2026-07-15T13:00:00Z"), reply(9, 302, "2026-07-15T13:00:25Z")],
              [build(301, "2026-07-15T12:00:20Z", "failure"), build(302, "2026-07-15T13:00:20Z")])
    first, second = f.testmes(12)
    assert f.build_for_testme(first)["number"] == 301
    assert f.build_for_testme(second)["number"] == 302


def test_sha_param_not_after_is_the_tested_sha() -> None:
    b = build(301, "2026-07-15T12:00:20Z", sha=OLDER)
    b["after"] = HEAD
    f = facts([comment(1, "hedda", "!testme", "2026-07-15T12:00:00Z"), reply(9, 301, "2026-07-15T12:00:25Z")], [b])
    assert m1.fresh_run(f).status == "pass"  # OLDER is a commit of the PR
    assert m2.outcome(f).status == "fail"  # but not its head


def test_unfinished_builds_are_no_fresh_run() -> None:
    for status in ("killed", "running", "pending"):
        f = facts([comment(1, "hedda", "!testme", "2026-07-15T12:00:00Z")], [build(301, "2026-07-15T12:00:20Z",
                                                                                   status)])
        assert m1.fresh_run(f).status == "fail", status


def test_quiet_window_counts_a_running_build_to_now() -> None:
    comments = [comment(1, "hedda", "!testme", "2026-07-15T12:00:00Z"), reply(9, 301, "2026-07-15T12:00:25Z")]
    sweep = [{"name": "sweep", "start": "2026-07-15T19:00:00Z", "end": "2026-07-15T21:00:00Z"}]
    running = facts(comments, [build(301, "2026-07-15T12:00:20Z", "running")], blackouts=sweep)
    assert m1.quiet_window(running).status == "fail"
    finished = facts(comments, [build(301, "2026-07-15T12:00:20Z")], blackouts=sweep)
    assert m1.quiet_window(finished).status == "pass"


def test_quiet_window_boundaries_do_not_overlap() -> None:
    comments = [comment(1, "hedda", "!testme", "2026-07-15T12:00:00Z"), reply(9, 301, "2026-07-15T12:00:25Z")]
    b = build(301, "2026-07-15T12:00:20Z")  # runs 12:00:30 to 12:20:20
    after = [{"name": "a", "start": "2026-07-15T12:20:20Z", "end": "2026-07-15T13:00:00Z"}]
    before = [{"name": "b", "start": "2026-07-15T11:00:00Z", "end": "2026-07-15T12:00:30Z"}]
    inside = [{"name": "c", "start": "2026-07-15T12:20:19Z", "end": "2026-07-15T13:00:00Z"}]
    assert m1.quiet_window(facts(comments, [b], blackouts=after)).status == "pass"
    assert m1.quiet_window(facts(comments, [b], blackouts=before)).status == "pass"
    assert m1.quiet_window(facts(comments, [b], blackouts=inside)).status == "fail"


def test_attempts_count_across_upgrade_prs_and_waivers() -> None:
    testme = [comment(1, "hedda", "!testme", "2026-07-15T12:00:00Z")]
    two = [comment(2, "hedda", "!testme", "2026-07-15T12:10:00Z"), comment(3, "hedda", "!testme",
                                                                              "2026-07-15T12:20:00Z")]
    three_total = facts(testme, [], extra_prs={14: two})
    assert m1.attempt_budget(three_total).status == "pass"
    four = facts(testme, [], extra_prs={14: two + [comment(4, "hedda", "!testme", "2026-07-15T12:30:00Z")]})
    assert m1.attempt_budget(four).status == "fail"
    waived = facts(testme, [], extra_prs={14: two + [comment(4, "hedda", "!testme", "2026-07-15T12:30:00Z")]},
                   waivers=[{"requirement": "M1.attempt-budget", "allow": 4, "by": "ops", "reason": "r"}])
    assert m1.attempt_budget(waived).status == "pass"
    other = facts(testme, [], extra_prs={14: two + [comment(4, "hedda", "!testme", "2026-07-15T12:30:00Z")]},
                  waivers=[{"requirement": "M1.fresh-run", "allow": 9, "by": "ops", "reason": "r"}])
    assert m1.attempt_budget(other).status == "fail"


def test_pre_proxy_testmes_do_not_count() -> None:
    pre = [comment(n, "hedda", "!testme", f"2026-07-14T0{n}:00:00Z") for n in range(1, 6)]
    assert m1.attempt_budget(facts(pre, [])).status == "pass"
