"""A timing fix justified by statements (gates.md M2.fix-minimal), each check on both sides."""

from __future__ import annotations

from ghostgates.judge import classify
from ghostgates.judge.compose_diff import Change
from ghostgates.judge.justification import Justification, Rejected, decide, judge, windows_from_changes
from ghostgates.read import statements as st

DRONE = "recipe-maintainers/cc-ci"
MONITOR = Change("compose.yml", "services.db.deploy.update_config.monitor", None, "300s")
ACTION = Change("compose.yml", "services.db.deploy.update_config.failure_action", None, "rollback")
START = Change("compose.yml", "services.db.healthcheck.start_period", "30s", "180s")
LOG = ("db: 2026-06-15T10:06:11.442Z 1 [System] [MY-013381] [Server] Server upgrade from '80036' to '80404' started.\n"
       "db: 2026-06-15T10:07:47.907Z 1 [System] [MY-013381] [Server] Server upgrade from '80036' to '80404' "
       "completed.\n")
MARKERS = classify.measuring_markers(["mysql"])
GOOD = "Build: #58\nUpgrade took: 96 s\nOld window: update_config.monitor default"


def run(text: str, changes: list[Change] | None = None, log: str | None = "", error: str | None = None,
        builds: set[int] | None = None):
    windows = windows_from_changes(changes if changes is not None else [MONITOR, ACTION])
    return judge("comment 1", st.read(text), windows, builds if builds is not None else {57, 58},
                 lambda n: (log, error), DRONE, MARKERS)


def test_the_three_lines_justify():
    got = run(GOOD)
    assert isinstance(got, Justification)
    assert (got.build, got.took_seconds, got.window_seconds) == (58, 96, 5)
    assert got.window.label == "db.update_config.monitor"


def test_prose_alone_states_nothing():
    assert run("The upgrade took 96 s against the 5 s default monitor.") is None


def test_each_missing_line_is_named():
    got = run("Build: #58\nUpgrade took: 96 s")
    assert isinstance(got, Rejected) and "add `Old window: ...` to comment 1" in got.why


def test_the_build_must_be_the_correct_prs():
    got = run(GOOD, builds={57})
    assert isinstance(got, Rejected) and "not a build of the correct PR" in got.why


def test_the_engine_default_written_out_is_the_old_window():
    assert isinstance(run(GOOD.replace("default", "5s")), Justification)
    assert isinstance(run(GOOD.replace("default", "db.update_config.monitor 5s").replace(
        "update_config.monitor db.", "db.")), Justification)


def test_the_new_value_is_not_the_old_window():
    got = run(GOOD.replace("default", "300s"))
    assert isinstance(got, Rejected) and "the new value the PR sets" in got.why


def test_a_wrong_old_value_is_named_with_the_right_one():
    got = run(GOOD.replace("default", "60s"))
    assert isinstance(got, Rejected) and "`update_config.monitor default`" in got.why
    base_set = run("Build: #58\nUpgrade took: 96 s\nOld window: healthcheck.start_period default", [START])
    assert isinstance(base_set, Rejected) and "merge base has db.healthcheck.start_period 30s" in base_set.why
    assert isinstance(run("Build: #58\nUpgrade took: 96 s\nOld window: healthcheck.start_period 30s", [START]),
                      Justification)


def test_a_key_the_pr_does_not_change():
    got = run(GOOD.replace("update_config.monitor", "healthcheck.start_period"))
    assert isinstance(got, Rejected) and "does not change healthcheck.start_period" in got.why


def test_two_services_need_the_service_named():
    app = Change("compose.yml", "services.app.deploy.update_config.monitor", None, "120s")
    got = run(GOOD, [MONITOR, app])
    assert isinstance(got, Rejected) and "name the service" in got.why
    assert isinstance(run(GOOD.replace("Old window: ", "Old window: db."), [MONITOR, app]), Justification)


def test_the_upgrade_must_outlast_the_window():
    got = run("Build: #58\nUpgrade took: 20 s\nOld window: healthcheck.start_period 30s", [START])
    assert isinstance(got, Rejected) and "not longer than the old window" in got.why


def test_the_log_holds_the_stated_duration_to_ten_percent():
    assert isinstance(run(GOOD, log=LOG), Justification)
    assert isinstance(run(GOOD.replace("96 s", "1m45s"), log=LOG), Justification)  # 105 s: within 10%
    got = run(GOOD.replace("96 s", "240 s"), log=LOG)
    assert isinstance(got, Rejected) and "shows the upgrade took 96 s" in got.why


def test_a_log_without_markers_neither_confirms_nor_contradicts():
    got = run(GOOD.replace("96 s", "240 s"), log="db: Server upgrade from '80036' to '80404' completed.")
    assert isinstance(got, Justification) and got.measured is None


def test_an_unreadable_log_is_undecided():
    got = run(GOOD, log=None, error="Drone answered 500")
    assert isinstance(got, Rejected) and got.undecided


def test_a_repeated_key_with_different_values_states_nothing():
    got = run(GOOD + "\nUpgrade took: 120 s")
    assert isinstance(got, Rejected) and "name different things" in got.why
    assert isinstance(run(GOOD + "\nupgrade took: 96s"), Justification)


def test_the_first_source_that_justifies_wins():
    windows = windows_from_changes([MONITOR])
    sources = [("comment 1", st.read("Build: #58")), ("comment 2", st.read("chatter")),
               ("STATUS-ghost.md", st.read(GOOD))]
    found, rejected = decide(sources, windows, {58}, lambda n: ("", None), DRONE, MARKERS)
    assert found is not None and found.source == "STATUS-ghost.md"
    assert [r.source for r in rejected] == ["comment 1"]


def test_a_stated_value_is_bounded_before_it_is_echoed():
    got = run(GOOD.replace("96 s", "9" * 10000 + " s"))
    assert isinstance(got, Rejected) and len(got.why) < 400
