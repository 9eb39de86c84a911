"""The statements reader (gates.md "What the gates read from comments: statements"), both sides of each rule."""

from __future__ import annotations

import pytest

from ghostgates.read import statements as st

DRONE = "recipe-maintainers/cc-ci"
REPO = "recipe-maintainers/ghost"


def value(text: str, key: str) -> str | None:
    return st.read(text).value(key)


def test_a_plain_line_states_and_prose_around_it_does_not():
    text = "The upgrade is blocked, I think.\n\nBuild: #57\nBlocker: the data-dir upgrade outlasts the monitor"
    assert value(text, st.BUILD) == "#57"
    assert value(text, st.BLOCKER) == "the data-dir upgrade outlasts the monitor"
    assert value("The blocker is: nothing", st.BLOCKER) is None  # the key must start the line


@pytest.mark.parametrize("text", [
    "```\nBlocker: a fenced line states nothing\n```",
    "    Blocker: an indented code block states nothing",
    "<!-- Blocker: an HTML comment states nothing -->",
    "<div>\nBlocker: an HTML block states nothing\n</div>",
    "> Blocker: a block quote states nothing",
    "> - Blocker: a list in a quote states nothing",
])
def test_code_html_and_quotes_state_nothing(text: str):
    assert st.read(text).given(st.BLOCKER) == []


@pytest.mark.parametrize("text", [
    "- Blocker: a list item states it",
    "1. Blocker: a numbered item states it",
    "**Blocker:** emphasis around the key states it",
    "BLOCKER: an upper-case key states it",
    "blocker:    trimmed value states it   ",
])
def test_list_items_emphasis_and_any_case_state(text: str):
    got = value(text, st.BLOCKER)
    assert got is not None and got.endswith("states it")


def test_an_unknown_key_is_prose():
    assert not st.read("Blockers: many\nNote: this is prose")


def test_a_key_given_twice_naming_different_things_states_nothing():
    assert value("Build: #57\nBuild: #58", st.BUILD) is None
    assert st.read("Build: #57\nBuild: #58").conflict(st.BUILD) == ("#57", "#58")
    assert value("Build: #57\nBuild: build #57", st.BUILD) == "#57"  # the same build, twice
    assert value("Verdict: red\nVerdict: Red", st.VERDICT) == "red"
    assert value("Verdict: red\nVerdict: green", st.VERDICT) is None


def test_reference_values_name_one_reference():
    assert st.build_ref("#57", DRONE) == 57
    assert st.build_ref("build #57 (the re-run)", DRONE) == 57
    assert st.build_ref(f"https://drone.example.org/{DRONE}/57/1/2", DRONE) == 57
    assert st.build_ref(f"#57 (https://drone.example.org/{DRONE}/57)", DRONE) == 57
    assert st.build_ref("#57 and #58", DRONE) is None
    assert st.build_ref("the re-run", DRONE) is None
    assert st.build_ref("PR #12", DRONE) is None
    assert st.pr_ref("PR #12, which carries the same upgrade", REPO) == 12
    assert st.pr_ref("#12", REPO) == 12
    assert st.pr_ref(f"https://git.example.org/{REPO}/pulls/12#issuecomment-5", REPO) == 12
    assert st.pr_ref("PR #12 or PR #14", REPO) is None
    assert st.pr_ref("build #12", REPO) is None
    assert st.pr_ref("PR #120", REPO) == 120


def test_a_linked_reference_names_its_target_once():
    text = f"Build: [#57](https://drone.example.org/{DRONE}/57)"
    assert st.build_ref(value(text, st.BUILD), DRONE) == 57


@pytest.mark.parametrize("given", ["unknown", "Unclear for now", "not known", "not yet known", "TBD", "todo",
                                   "to be determined", "n/a", "none", "nothing yet", "?", "? maybe the proxy"])
def test_each_non_answer_states_no_blocker(given: str):
    assert st.blocker_problem(given) is not None


def test_a_blocker_needs_three_words_and_no_leading_non_answer():
    assert st.blocker_problem("flaky") is not None
    assert st.blocker_problem("upstream migration") is not None
    assert st.blocker_problem("") is not None
    assert st.blocker_problem("upstream migration bug") is None
    assert st.blocker_problem("nonexistent volume in the harness") is None  # `none` is not its first word
    assert st.blocker_problem("the test is stale: it asserts 6.42.0") is None


@pytest.mark.parametrize("given, seconds", [("96 s", 96), ("96s", 96), ("1m36s", 96), ("1 min 36 s", 96),
                                            ("2 minutes", 120), ("96 s.", 96)])
def test_upgrade_took_durations(given: str, seconds: float):
    assert st.upgrade_took(given) == seconds


@pytest.mark.parametrize("given", ["about 96 s", "96", "a minute and a half", "96 s according to the notes"])
def test_upgrade_took_is_a_duration_and_nothing_else(given: str):
    assert st.upgrade_took(given) is None


def test_old_window_values():
    ow = st.old_window("update_config.monitor 5s")
    assert ow is not None and (ow.service, ow.key, ow.seconds) == (None, "update_config.monitor", 5)
    ow = st.old_window("db.update_config.monitor 5s")
    assert ow is not None and (ow.service, ow.key) == ("db", "update_config.monitor")
    ow = st.old_window("db.deploy.update_config.monitor 5 s")
    assert ow is not None and (ow.service, ow.key, ow.seconds) == ("db", "update_config.monitor", 5)
    ow = st.old_window("healthcheck.start_period default")
    assert ow is not None and ow.is_default and ow.key == "healthcheck.start_period"
    ow = st.old_window("stop_grace_period 10s")
    assert ow is not None and ow.key == "stop_grace_period"
    assert st.old_window("the monitor was 5s") is None
    assert st.old_window("update_config.monitor") is None
    assert st.old_window("update_config.monitor short") is None


def test_verdict_and_class_words():
    assert st.verdict_word("Green") == "green"
    assert st.verdict_word("blocked.") == "blocked"
    assert st.verdict_word("not green") is None
    assert st.class_word("recipe-timing") == "recipe-timing"
    assert st.class_word("timing") is None
