"""--trigger-testme on the twin: the guardrails refuse, the dry run posts nothing, a run is watched to its end."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ghostgates.drive.workflow import DRY_RUN, INTERRUPTED, POST_UNCERTAIN, REFUSED, interpreter

from .conftest import slowed, world_path, world_variant


def _testmes(comments: list[dict]) -> list[dict]:
    return [c for c in comments if (c.get("body") or "").split()[:1] == ["!testme"]]


# --- refusals: one line, non-zero, nothing posted ------------------------------------------------

@pytest.mark.parametrize(
    ("world", "reason"),
    [
        ("blackout", "blackout 'cfold CI sweep' is in force until 2026-06-15T14:00:00Z"),
        ("blackout-soon", "blackout 'proxy maintenance 2' starts at 2026-06-15T12:15:00Z"),
        ("budget-spent", "3 post-proxy testme(s) already; one more would exceed the limit of 3"),
        ("proxy-full", "the proxy is not clear: network proxy (10.0.1.0/24) has 4 free addresses"),
        ("running", "build #55 of PR #4 is running: watch it with `pytest gates/m1 --watch-build 55`"),
        ("closed", "the correct PR #4 is closed, not open"),
    ],
)
def test_refusal(on_twin, world: str, reason: str) -> None:
    run = on_twin(world, trigger=True, yes=True)
    assert run.outcome.code == REFUSED
    assert run.outcome.message.startswith("trigger refused: ") and "\n" not in run.outcome.message
    assert reason in run.outcome.message
    assert run.lines == []  # the stopping line is printed once, by the plugin's exit
    # Counted before the drive (by on_twin), so a posted comment or a started build shows here.
    assert tuple(c["id"] for c in run.comments()) == run.comments_before
    assert len(run.builds()) == run.builds_before


def test_waiver_lifts_the_budget(on_twin) -> None:
    run = on_twin("budget-waived", trigger=True)
    assert run.outcome.code == DRY_RUN, run.text
    assert "3 post-proxy testme(s) so far" in run.text


def test_refusal_on_the_command_line(cli) -> None:
    run = cli("blackout", "--trigger-testme", "--yes")
    assert run.code == REFUSED == 6  # distinct from a gate failure (1) and a usage error (4)
    assert run.output.count("trigger refused: blackout 'cfold CI sweep' is in force") == 1, run.output
    assert run.results == {}  # stopped before the gates


def test_exit_codes_are_distinct() -> None:
    from ghostgates.drive.workflow import DRY_RUN, INTERRUPTED, POST_UNCERTAIN, REFUSED

    # pytest's own: 0 ok, 1 tests failed, 2 interrupted, 3 internal, 4 usage, 5 nothing collected;
    # the dry run is an ok (0) and Ctrl-C pytest's own interrupted (2); the rest are the trigger's own.
    assert (DRY_RUN, INTERRUPTED) == (0, 2)
    assert {REFUSED, POST_UNCERTAIN}.isdisjoint(range(6)) and REFUSED != POST_UNCERTAIN


def test_a_usage_error_is_not_a_refusal(cli) -> None:
    run = cli("green", "--watch-build", "fifty")
    assert run.code == 4
    assert run.output.count("--watch-build takes a build number or `latest`, not 'fifty'") == 1


# --- the dry run -----------------------------------------------------------------------------------

def test_dry_run_posts_nothing(on_twin) -> None:
    run = on_twin("green", trigger=True)
    assert run.outcome.code == DRY_RUN
    assert ("trigger: will post `!testme` on recipe-maintainers/ghost PR #4 "
            f"({run.twin.gitea_url}/recipe-maintainers/ghost/pulls/4), head a4c0ffee5b") in run.lines
    assert run.outcome.message == "trigger: dry run, nothing posted; add --yes to post it"
    assert [c["id"] for c in run.comments()] == [401, 402, 403, 404, 405, 406]
    assert [b["number"] for b in run.builds()][0] == 54
    assert run.twin.state.gitea.now.isoformat() == "2026-06-15T12:00:00+00:00"  # the clock never started


def test_dry_run_on_the_command_line(cli) -> None:
    run = cli("green", "--trigger-testme")
    assert run.code == DRY_RUN
    assert "trigger: dry run, nothing posted; add --yes to post it" in run.output
    assert run.results == {}


# --- posting and watching --------------------------------------------------------------------------

def test_green_run_in_process(on_twin) -> None:
    run = on_twin("green", trigger=True, yes=True)
    assert run.outcome.code is None, run.text  # go on to the gates
    comments = run.comments()
    mine = _testmes(comments)[-1]
    assert mine["user"]["login"] == "builder" and mine["created_at"] == "2026-06-15T12:00:00Z"
    reply = next(c for c in comments if c["id"] > mine["id"])
    assert reply["user"]["login"] == "cc-ci" and "build #55" in reply["body"]
    assert "trigger: the bridge started build #55" in run.text
    assert run.lines[-1].startswith("trigger: ended: build #55 success 20m00s  stage default  step test (4/4)")
    build = run.builds()[0]
    assert build["params"] == {"RECIPE": "ghost", "PR": "4", "REF": "a4c0ffee5b16e2d3c4b5a69788796a5b4c3d2e1f"}
    assert build["event"] == "custom" and build["trigger"] == "cc-ci"


def test_green_run_ends_in_a_verdict(cli) -> None:
    # --role adversary given explicitly: a run that posts is still the Builder's and signs nothing.
    run = cli("green", "--trigger-testme", "--yes", "--role", "adversary")
    world = yaml.safe_load(world_path("green").read_text())["files"]
    review = run.state_dir / "REVIEW-ghost.md"
    assert (review.read_text() if review.exists() else None) == world.get("machine-docs/REVIEW-ghost.md")
    assert "M1: role builder, the review file is untouched" in run.output
    assert "role=adversary" not in run.output
    assert "trigger: the bridge started build #55" in run.output
    assert "trigger: ended: build #55 success" in run.output
    assert run.results["M1.fresh-run"]["verdict"] == "pass", run.output
    assert "build #55, success on a4c0ffee5b" in run.results["M1.fresh-run"]["reason"]
    assert run.results["M1.attempt-budget"]["verdict"] == "pass"
    assert run.results["M1.quiet-window"]["verdict"] == "pass"


def test_red_run_shows_the_class(cli) -> None:
    run = cli("red", "--trigger-testme", "--yes")
    assert "trigger: ended: build #55 failure 25m00s" in run.output
    assert "trigger: build #55 is red; its log classifies as recipe-timing" in run.output
    assert run.results["M1.fresh-run"]["verdict"] == "pass"  # finished, red or green


def test_watch_timeout_goes_on_to_the_gates(on_twin, tmp_path: Path) -> None:
    run = on_twin(slowed(tmp_path, "green", 60), trigger=True, yes=True, timeout=0.5)
    assert run.outcome.code is None
    assert "trigger: build #55 still running after 0.5s of watching; resume with " \
           f"`{interpreter()} -m pytest gates/m1 --watch-build 55`" in run.text


# --- Ctrl-C, resuming, never twice -----------------------------------------------------------------

def _interrupt_on(call: int):
    calls = {"n": 0}

    def sleep(seconds: float) -> None:
        calls["n"] += 1
        if calls["n"] >= call:
            raise KeyboardInterrupt
        __import__("time").sleep(seconds)

    return sleep


def test_ctrl_c_leaves_the_build_and_says_how_to_resume(on_twin, tmp_path: Path) -> None:
    slow = slowed(tmp_path, "green", 6)
    args = ("gates/m1", "--phase", "phases/ghost.toml", "--state-dir", "docs", "--trigger-testme", "--yes")
    run = on_twin(slow, trigger=True, yes=True, sleep=_interrupt_on(2), args=args)
    assert run.outcome.code == INTERRUPTED
    assert (f"Resume watching with `{interpreter()} -m pytest gates/m1 --phase phases/ghost.toml --state-dir docs "
            "--watch-build 55`" in run.outcome.message)
    assert len(_testmes(run.comments())) == 2  # the world's one pre-proxy testme, and ours
    assert run.builds()[0]["status"] in ("pending", "running")  # left alone
    # A rerun with --yes refuses while the build runs: nothing is posted twice.
    again = on_twin(slow, twin=run.twin, trigger=True, yes=True)
    assert again.outcome.code == REFUSED
    assert "build #55 of PR #4 is" in again.outcome.message
    assert len(_testmes(run.comments())) == 2


def test_ctrl_c_right_after_the_build_is_named_still_names_it(on_twin, tmp_path: Path) -> None:
    # The Ctrl-C lands between printing "the bridge started build #55" and the watch's first wait:
    # still the user's stop, and the hint resumes that build (it once escaped as a bare KeyboardInterrupt).
    def ctrl_c_after(line: str) -> None:
        if "the bridge started build #" in line:
            raise KeyboardInterrupt

    run = on_twin(slowed(tmp_path, "green", 6), trigger=True, yes=True, on_line=ctrl_c_after,
                  args=("gates/m1", "--trigger-testme", "--yes"))
    assert run.outcome.code == INTERRUPTED
    assert run.outcome.message.endswith(f"`{interpreter()} -m pytest gates/m1 --watch-build 55`")


def test_resume_watches_without_posting(on_twin) -> None:
    first = on_twin("green", trigger=True, yes=True, sleep=_interrupt_on(1))
    assert first.outcome.code == INTERRUPTED
    count = len(first.comments())
    for target in ("55", "latest"):
        resumed = on_twin("green", twin=first.twin, watch_build=target)
        assert resumed.outcome.code is None, resumed.text
        assert resumed.lines[0] == "trigger: watching build #55 (nothing is posted)"
        assert resumed.lines[-1].startswith("trigger: ended: build #55 success")
    assert len(_testmes(first.comments())) == 2
    assert [c["user"]["login"] for c in first.comments()[count:]] == ["cc-ci"]  # only the bridge's closing note


def test_resume_on_the_command_line_never_posts(cli) -> None:
    run = cli("running", "--watch-build", "latest", "--watch-timeout", "0.3")
    assert "M1: role builder, the review file is untouched" in run.output  # a watch never signs
    assert "trigger: watching build #55 (nothing is posted)" in run.output
    assert "still running after 0.3s" in run.output
    assert run.results["M1.fresh-run"]["verdict"] == "fail"  # the build has not finished


# --- who the bridge obeys --------------------------------------------------------------------------

def test_non_member_token_is_refused_before_posting(on_twin) -> None:
    run = on_twin("outsider", trigger=True, yes=True)
    assert run.outcome.code == REFUSED
    assert ("outsider (the token's user) is not a member of recipe-maintainers: the bridge would ignore its "
            "testme") in run.outcome.message
    assert tuple(c["id"] for c in run.comments()) == run.comments_before  # nothing posted
    assert len(run.builds()) == run.builds_before


def test_a_failed_post_is_not_called_a_refusal(on_twin, tmp_path: Path) -> None:
    from twin import running_twin
    from twin.world import load_world

    with running_twin(load_world(world_path("green")), faults=("status=500:method=POST:service=gitea",)) as twin:
        run = on_twin("green", twin=twin, trigger=True, yes=True)
    assert run.outcome.code == POST_UNCERTAIN
    assert "posting failed" in run.outcome.message and "may still have landed" in run.outcome.message


# --- the blackout horizon is the phase's run_minutes, not the watcher's timeout --------------------

def _with_run_minutes(tmp_path: Path, name: str, minutes: float) -> Path:
    return world_variant(tmp_path, name, f"{minutes:g}", lambda data: data["phase"].__setitem__("run_minutes", minutes))


def test_the_horizon_is_run_minutes_whatever_the_watch_timeout(on_twin, tmp_path: Path) -> None:
    # blackout-soon: proxy maintenance begins 15 minutes from the services' now.
    short = on_twin(_with_run_minutes(tmp_path, "blackout-soon", 10), trigger=True, timeout=7200.0)
    assert short.outcome.code == DRY_RUN, short.outcome.message  # a 10-minute run ends before it
    assert "no blackout before 2026-06-15T12:10:00Z (run_minutes 10)" in short.text
    long = on_twin("blackout-soon", trigger=True, timeout=1.0)  # default run_minutes 30, tiny watch timeout
    assert long.outcome.code == REFUSED
    assert "starts at 2026-06-15T12:15:00Z, before a run started now could end (now 2026-06-15T12:00:00Z + 30m00s)" \
        in long.outcome.message
