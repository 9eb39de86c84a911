"""The pre-flight checks as a plain function over fetched data (no services)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ghostgates.drive.trigger import current_step, plan, preflight, progress_line
from ghostgates.judge.facts import Facts
from ghostgates.judge.verdict import failed, passed
from ghostgates.read.phase import Blackout, Phase

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
HEAD = "a" * 40
CLEAR = passed("clear")


def _facts(comments: list[dict[str, Any]] = (), builds: list[dict[str, Any]] = (), state: str = "open",
           **phase: Any) -> Facts:
    settings = {"repo": "recipe-maintainers/ghost", "recipe": "ghost", "expected_pr": 4,
                "proxy_fixed_at": NOW - timedelta(days=1), **phase}
    pr = {"number": 4, "title": "chore: upgrade ghost", "state": state, "merged": False,
          "head": {"ref": "upgrade-ghost", "sha": HEAD}, "html_url": "https://git.example.org/r/ghost/pulls/4"}
    gitea = {"pulls": [pr], "pr": {"4": {"comments": list(comments)}}, "members": {"builder": True, "stranger": False}}
    return Facts(phase=Phase(**settings), gitea=gitea, drone={"builds": list(builds)}, now=NOW)


def _testme(i: int, at: datetime, login: str = "builder") -> dict[str, Any]:
    return {"id": i, "user": {"login": login}, "body": "!testme", "created_at": at.isoformat()}


def test_clean() -> None:
    facts = _facts()
    assert preflight(facts, CLEAR, NOW) == []
    assert plan(facts).describe() == ("post `!testme` on recipe-maintainers/ghost PR #4 "
                                      "(https://git.example.org/r/ghost/pulls/4), head aaaaaaaaaa")


def test_no_clock_is_a_refusal_not_a_guess() -> None:
    assert preflight(_facts(), CLEAR, None) == [
        "the services gave no clock (no Date header): cannot tell whether a blackout is in force"]


def test_blackout_edges() -> None:
    window = Blackout("sweep", NOW, NOW + timedelta(hours=1))
    assert "blackout 'sweep' is in force" in preflight(_facts(blackouts=(window,)), CLEAR, NOW)[0]
    ended = Blackout("sweep", NOW - timedelta(hours=1), NOW)
    assert preflight(_facts(blackouts=(ended,)), CLEAR, NOW) == []  # the end is exclusive
    later = Blackout("sweep", NOW + timedelta(minutes=31), NOW + timedelta(hours=2))
    assert preflight(_facts(blackouts=(later,)), CLEAR, NOW, horizon=timedelta(minutes=30)) == []
    assert preflight(_facts(blackouts=(later,)), CLEAR, NOW, horizon=timedelta(minutes=40))


def test_budget_counts_the_one_about_to_be_posted_and_only_members() -> None:
    two = [_testme(1, NOW - timedelta(hours=5)), _testme(2, NOW - timedelta(hours=3)),
           _testme(3, NOW - timedelta(hours=2), login="stranger")]
    builds = [{"number": n, "status": "success", "created": int((NOW - timedelta(hours=h)).timestamp()),
               "params": {"RECIPE": "ghost", "PR": "4", "REF": HEAD}} for n, h in ((10, 5), (11, 3))]
    assert preflight(_facts(two, builds), CLEAR, NOW) == []
    refusals = preflight(_facts(two, builds, max_post_proxy_attempts=2), CLEAR, NOW)
    assert refusals == ["2 post-proxy testme(s) already; one more would exceed the limit of 2: ask the operator "
                        "for a waiver (M1.attempt-budget)"]


def test_pre_proxy_and_unfixed() -> None:
    assert "the testme would be pre-proxy" in preflight(_facts(proxy_fixed_at=NOW), CLEAR, NOW)[0]
    assert "no proxy_fixed_at" in preflight(_facts(proxy_fixed_at=None), CLEAR, NOW)[0]


def test_in_flight() -> None:
    other = {"number": 9, "status": "running", "created": int(NOW.timestamp()),
             "params": {"RECIPE": "wordpress", "PR": "4", "REF": HEAD}}
    assert preflight(_facts(builds=[other]), CLEAR, NOW) == []  # another recipe's PR #4
    fresh = [_testme(1, NOW - timedelta(minutes=2))]
    assert "has no build yet" in preflight(_facts(fresh), CLEAR, NOW)[0]
    stale = [_testme(1, NOW - timedelta(hours=2))]
    assert preflight(_facts(stale), CLEAR, NOW) == []


def test_every_refusal_at_once() -> None:
    refusals = preflight(_facts(state="closed", proxy_fixed_at=None), failed("The proxy is not clear: full."), NOW)
    assert refusals == ["the correct PR #4 is closed, not open", "the proxy is not clear: full",
                        "the phase has no proxy_fixed_at: until the proxy fix is verified no testme is post-proxy"]


def test_progress_line() -> None:
    build = {"number": 57, "status": "running", "started": int(NOW.timestamp()) - 725,
             "stages": [{"name": "default", "steps": [{"name": "clone", "status": "success"},
                                                      {"name": "upgrade", "status": "running"},
                                                      {"name": "test", "status": "pending"}]}]}
    assert progress_line(build, NOW) == "build #57 running 12m05s  stage default  step upgrade (2/3)"
    assert current_step({"stages": []}) == ("", "", 0, 0)
    assert progress_line({"number": 58, "status": "pending"}, NOW) == "build #58 pending (not started)"


def test_the_blackout_horizon_is_the_phases_run_minutes() -> None:
    # gates.md `run_minutes`: a testme is not triggered when a blackout would begin before now plus
    # this, whatever the watcher's own timeout (which preflight no longer even takes).
    later = Blackout("sweep", NOW + timedelta(minutes=31), NOW + timedelta(hours=2))
    assert preflight(_facts(blackouts=(later,)), CLEAR, NOW) == []  # default run_minutes 30
    refused = preflight(_facts(blackouts=(later,), run_minutes=45), CLEAR, NOW)
    assert refused == ["blackout 'sweep' starts at 2026-06-15T12:31:00Z, before a run started now could end "
                       "(now 2026-06-15T12:00:00Z + 45m00s)"]


def test_the_poster_must_be_a_visible_member() -> None:
    assert preflight(_facts(), CLEAR, NOW, poster=("builder", True)) == []
    assert preflight(_facts(), CLEAR, NOW, poster=("stranger", False)) == [
        "stranger (the token's user) is not a member of recipe-maintainers: the bridge would ignore its testme "
        "(post with a member's token)"]
    assert preflight(_facts(), CLEAR, NOW, poster=("builder", None)) == [
        "Gitea hides org membership of builder from this token: use a token of a recipe-maintainers member or "
        "an admin"]


def test_the_resume_hint_repeats_every_option() -> None:
    from ghostgates.drive.trigger import resume_hint

    args = ("gates/m1", "--phase", "phases/other.toml", "--state-dir", "my docs", "--trigger-testme", "--yes",
            "--watch-interval", "5", "--http-timeout=30")
    assert resume_hint(55, args) == ("pytest gates/m1 --phase phases/other.toml --state-dir 'my docs' "
                                     "--watch-interval 5 --http-timeout=30 --watch-build 55")
    assert resume_hint(None, ("gates/m1", "--watch-build", "54", "--state-dir", "d")) == (
        "pytest gates/m1 --state-dir d --watch-build latest")
    assert resume_hint(7, ("gates/m1", "--watch-build=54")) == "pytest gates/m1 --watch-build 7"



def test_hidden_membership_of_a_testme_author_is_a_refusal_not_a_crash() -> None:
    """A testme whose author's membership Gitea hid cannot be counted: refuse, never guess either way."""
    facts = _facts([_testme(1, NOW - timedelta(hours=1), login="ghost-writer")])
    facts.gitea["members"]["ghost-writer"] = None
    refusals = preflight(facts, CLEAR, NOW)
    assert any("hides org membership of ghost-writer" in r for r in refusals), refusals


def test_the_printer_escapes_what_servers_send() -> None:
    """A login, a URL or a step name from a hostile server reaches the screen as visible escapes,
    bounded: it can neither clear the screen, rewrite a line with \\r, nor paint a fake verdict."""
    from ghostgates.drive.workflow import LINE_CHARS, Printer

    written: list[str] = []
    live: list[str] = []
    out = Printer(written.append, live.append)
    out.line("author \x1b[2J\x1b[Hhedda\rM1: PASS (7/7)")
    out.progress("build #58 running \x1b]8;;https://evil\x07step\x1b]8;;\x07")
    out.line("x" * (LINE_CHARS * 3))
    assert all("\x1b" not in t and "\r" not in t for t in written + live)
    assert "\\x1b[2J" in written[0] and "\\r" in written[0]
    assert max(len(t) for t in written) <= LINE_CHARS
