"""Timing changes justified from logs (gates.md M2.fix-minimal)."""

from __future__ import annotations

import pytest

from ghostgates.judge.justification import Window, duration_seconds, find_justification


def justifies(text: str, windows: list[Window] | None = None) -> tuple[float, float] | None:
    """(measured, old window) seconds where `text` alone justifies a timing change: the rule's one entry."""
    found = find_justification([("text", text)], windows)
    return None if found is None else (found.measured_seconds, found.window_seconds)

# red-timing-fixed, comment 410 by the builder on PR #4.
COMMENT_410 = (
    "build #57 (https://drone.example.org/recipe-maintainers/cc-ci/57) is red, and not for infra: the proxy "
    "network had 190 free addresses and no task sat in New. The db log shows MySQL's data-dir upgrade from "
    "8.0.36 to 8.4.4 still running when the 5 s default update monitor judged the task failed and paused "
    "the update. A manual run on the same volume measured the upgrade at 96 s. I add "
    "update_config.monitor: 300s (three times the measured upgrade) with failure_action: rollback, and a "
    "180s healthcheck start_period, and change nothing else."
)

# red-timing-fixed's state file: describes the failure but measures nothing.
STATUS_RED_TIMING = """\
# STATUS: ghost

## Current evidence
- build #57 (https://drone.example.org/recipe-maintainers/cc-ci/57): red, the db update paused during
  MySQL's data-dir upgrade (log: upgrade started, no completion before the 5 s monitor paused it).
- build #58 (https://drone.example.org/recipe-maintainers/cc-ci/58): green on f1e2d3c4b5 with
  update_config.monitor 300s.
"""


def test_comment_410_justifies():
    j = find_justification([("comment 409", "build #57 failed"), ("comment 410", COMMENT_410)])
    assert j is not None
    assert j.source == "comment 410"
    assert (j.measured_seconds, j.window_seconds) == (96.0, 5.0)
    assert "measured the upgrade at 96 s" in j.measured_text
    assert "5 s default update monitor" in j.window_text
    assert j.measured_seconds > j.window_seconds


def test_state_file_without_measurement_does_not_justify():
    assert find_justification([("STATUS-ghost.md", STATUS_RED_TIMING)]) is None


def test_first_justifying_source_wins():
    texts = [
        ("STATUS-ghost.md", STATUS_RED_TIMING),
        ("comment 410", COMMENT_410),
        ("comment 500", "The upgrade took 137 s, longer than the 5s monitor."),
    ]
    assert find_justification(texts).source == "comment 410"


def test_nothing_to_read():
    assert find_justification([]) is None
    assert find_justification([("comment 1", "")]) is None


@pytest.mark.parametrize(
    "text,measured,window",
    [
        ("The upgrade took 96 s, longer than the 5 s monitor.", 96, 5),
        (
            "Build #58's db log shows the data-dir upgrade finishing in 137 s; the old start_period was 60s.",
            137,
            60,
        ),
        ("raised the monitor from 5s to 300s because the data-dir upgrade took 2m17s", 137, 5),
        (
            "MySQL's upgrade lasted 2.5 minutes.\n\nSwarm's default update monitor is 5s, so it paused.",
            150,
            5,
        ),
        ("Data-dir upgrade completed in 118 seconds against a grace window of 60 seconds.", 118, 60),
        (
            "- measured: the upgrade ran for 1m50s on the CI volume\n"
            "- the previous healthcheck start_period (1m) ended long before that",
            110,
            60,
        ),
        ("The server upgrade, measured from its log lines, took 41s; the monitor was only 5s.", 41, 5),
    ],
)
def test_positive_texts(text, measured, window):
    assert justifies(text) == (measured, window)


@pytest.mark.parametrize(
    "text",
    [
        "set monitor: 300s",
        "Added update_config.monitor: 300s and start_period: 180s to be safe.",
        "The upgrade took 96 s; I set update_config.monitor: 300s.",  # no old window
        "Bumped the monitor to 300s, as the plan suggests.",
        "The default 5 s monitor is too short for MySQL 8.4.",  # no measurement
        "The upgrade took a long time, so the monitor is now 5m.",  # no measured number
        "Upgrade ghost 6.42.0 to 6.44.1 and mysql 8.0 to 8.4.4.",  # versions are not durations
        "build #58 passed in the 5s window",  # neither measured nor an upgrade duration
    ],
)
def test_negative_texts(text):
    assert justifies(text) is None
    assert find_justification([("comment 1", text)]) is None


@pytest.mark.parametrize(
    "token,seconds",
    [
        ("96 s", 96),
        ("300s", 300),
        ("1m", 60),
        ("1m30s", 90),
        ("2 min 5 s", 125),
        ("2.5 minutes", 150),
        ("1h", 3600),
        ("500ms", 0.5),
        ("3 seconds", 3),
    ],
)
def test_duration_seconds(token, seconds):
    assert duration_seconds(token) == pytest.approx(seconds)


# --- gates.md 2026-12-01: the upgrade itself, the old window from the diff, any author -------
from ghostgates.judge.compose_diff import Change  # noqa: E402
from ghostgates.judge.justification import read, windows_from_changes  # noqa: E402

MONITOR_ADDED = [Change("compose.yml", "services.db.deploy.update_config.monitor", None, "300s"),
                 Change("compose.yml", "services.db.deploy.update_config.failure_action", None, "rollback"),
                 Change("compose.yml", "services.db.healthcheck.start_period", None, "180s")]
MONITOR_RAISED = [Change("compose.yml", "services.db.deploy.update_config.monitor", "60s", "300s")]


def test_windows_from_the_compose_diff():
    windows = windows_from_changes(MONITOR_ADDED)
    # failure_action is no duration; a key the base does not set replaces the engine default
    # (swarmkit api/defaults/service.go: Monitor 5s; moby daemon/health.go: start period 0).
    assert windows == [
        Window("compose.yml: services.db.deploy.update_config.monitor", 5.0, True, 300.0),
        Window("compose.yml: services.db.healthcheck.start_period", 0.0, True, 180.0),
    ]
    assert windows_from_changes(MONITOR_RAISED) == [
        Window("compose.yml: services.db.deploy.update_config.monitor", 60.0, False, 300.0)]


@pytest.mark.parametrize("text", [
    # run time, not upgrade time
    "build #287 took 21 minutes, far longer than the 5 s default monitor.",
    "The CI run lasted 1260 s against the 5 s default update monitor.",
    "The deploy took 300 s; the old monitor was 5 s.",
    "The whole pipeline finished in 25 min; the default monitor is 5s.",
    # no subject: not shown to be the upgrade
    "It took 96 s, longer than the 5 s default monitor.",
    # the measured duration is the shorter
    "The upgrade took 3 s; the default monitor is 5 s.",
])
def test_near_misses_without_a_diff(text):
    assert justifies(text) is None, text


def test_run_time_beside_upgrade_time():
    text = "The whole run took 20 min, the upgrade inside it took 96 s; the default monitor is 5 s."
    assert justifies(text) == (96, 5)


def test_the_new_value_is_never_the_old_window():
    windows = windows_from_changes(MONITOR_ADDED)
    # 300 s is what the PR sets; 96 s does not exceed it, and it is not the old window anyway.
    text = "The upgrade took 400 s, more than the 300 s monitor."
    assert justifies(text) == (400, 300)  # without the diff, a neutral window is taken ...
    assert justifies(text, windows) is None  # ... with it, 300 s is the value the PR sets
    r = read(text, windows)
    assert any("300 s is the new value the PR sets" in n for n in r.notes)


def test_the_old_window_is_the_base_value_or_the_engine_default():
    added = windows_from_changes(MONITOR_ADDED)
    raised = windows_from_changes(MONITOR_RAISED)
    text = "The upgrade took 96 s; the monitor defaults to 5 s."
    assert justifies(text, added) == (96, 5)
    found = find_justification([("comment 1", text)], added)
    assert found is not None and "engine default" in found.matched and "5 s" in found.matched
    # the base set 60s: "defaults to 5 s" is not what the change replaces
    assert justifies(text, raised) is None
    assert justifies("The upgrade took 96 s; the old monitor was 60s.", raised) == (96, 60)
    found = find_justification([("comment 1", "The upgrade took 96 s; the old monitor was 60s.")], raised)
    assert found is not None and found.matched.startswith("60 s = the base value of compose.yml")


def test_notes_say_why_numbers_were_not_taken():
    notes: list[str] = []
    windows = windows_from_changes(MONITOR_ADDED)
    texts = [("comment 7", "build #287 took 21 minutes; the default monitor is 5 s.")]
    assert find_justification(texts, windows, notes) is None
    assert any("comment 7" in n and "not the upgrade itself" in n for n in notes)


def test_a_justification_in_an_html_comment_is_not_read():
    text = "<!-- The upgrade took 96 s; the default monitor is 5 s. -->"
    assert justifies(text) is None


def test_markdown_blocks_do_not_run_into_each_other():
    text = "- the upgrade took 96 s\n- the default monitor is 5 s\n"
    assert justifies(text) == (96, 5)
    # one block per item: "to" at the end of one item does not make the next item's number new
    assert justifies("- the upgrade took 96 s, so I raised it to\n- 5 s monitor, the old value\n") == (96, 5)
