"""Failure classes from build logs (gates.md "Failure classes")."""

from __future__ import annotations

import pytest

from ghostgates.judge.classify import (
    CLASSES,
    INFRA,
    RECIPE_BUG,
    RECIPE_TIMING,
    SIGNATURES,
    STALE_TEST,
    UNKNOWN,
    classify_log,
    contradiction,
)

# --- logs as the public worlds carry them (red-timing-fixed, green-after-proxy) --------------

# builds #48 (PR #4) and #49 (PR #5) of 2026-06-12: the proxy overlay ran out of addresses.
LOG_48 = """\
+ abra app deploy ghos-bdd2f3.ci.example.org --chaos --no-input
deploying ghost 2.0.0+6.44.1 on ghos-bdd2f3_ci_example_org
waiting for ghos-bdd2f3_ci_example_org_app to converge
ghos-bdd2f3_ci_example_org_app.1: task state new (60s)
ghos-bdd2f3_ci_example_org_db.1: task state new (60s)
ghos-bdd2f3_ci_example_org_app.1: task state new (180s)
swarm event: network proxy: could not find an available IP while allocating VIP
ghos-bdd2f3_ci_example_org_db.1: task state new (300s)
error: ghos-bdd2f3_ci_example_org did not converge in 300s
test upgrade: FAILED (deploy)
"""
LOG_49 = LOG_48.replace("bdd2f3", "c29b11")

# build #50 (2026-06-12) and red build #57 (post-proxy): the db update paused mid data-dir upgrade.
LOG_50 = """\
+ abra app deploy ghos-bdd2f3.ci.example.org 1.3.0+6.42.0 --no-input
deployed ghost 1.3.0+6.42.0, content seeded
+ abra app upgrade ghos-bdd2f3.ci.example.org 2.0.0+6.44.1 --no-input
db: 2026-06-12T16:52:02.877Z 1 [System] [MY-011012] [Server] Starting upgrade of data directory.
db: 2026-06-12T16:52:03.101Z 1 [System] [MY-013381] [Server] Server upgrade from '80036' to '80404' started.
db: healthcheck: mysqladmin: connect to server at 'localhost' failed
ghos-bdd2f3_ci_example_org_db: UpdateStatus=paused message="update paused due to failure or early termination of task 7xk2jq0v9f"
error: upgrade of ghos-bdd2f3_ci_example_org did not complete: service db update paused
test upgrade: FAILED (upgrade)
"""  # noqa: E501
LOG_57_RED = LOG_50.replace("2026-06-12T16:52:02.877Z", "2026-06-15T10:06:02.877Z").replace(
    "2026-06-12T16:52:03.101Z", "2026-06-15T10:06:03.101Z"
)


def _green(completed_at: str, day: str = "2026-06-15") -> str:
    return f"""\
+ abra app deploy ghos-bdd2f3.ci.example.org 1.3.0+6.42.0 --no-input
deployed ghost 1.3.0+6.42.0, content seeded
+ abra app upgrade ghos-bdd2f3.ci.example.org 2.0.0+6.44.1 --no-input
db: {day}T10:06:10.958Z 1 [System] [MY-011012] [Server] Starting upgrade of data directory.
db: {day}T10:06:11.442Z 1 [System] [MY-013381] [Server] Server upgrade from '80036' to '80404' started.
db: {day}T{completed_at} 1 [System] [MY-013381] [Server] Server upgrade from '80036' to '80404' completed.
ghos-bdd2f3_ci_example_org_db: UpdateStatus=completed
app: Ghost boot 4.21s
app: Ghost URL https://ghos-bdd2f3.ci.example.org/ is up
test upgrade: content survived, admin API answers
+ abra app undeploy ghos-bdd2f3.ci.example.org --no-input && abra app volume rm --force
test upgrade: PASSED
"""


LOG_57_GREEN = _green("10:06:49.907Z")  # green-after-proxy build #57
LOG_58_GREEN = _green("10:08:27.907Z")  # red-timing-fixed build #58, after the monitor fix
LOG_WORDPRESS = "test upgrade: FAILED (wordpress: plugin table missing)\n"


# --- the table ----------------------------------------------------------------------------


def test_classes_and_table_are_consistent():
    assert CLASSES == (INFRA, RECIPE_TIMING, RECIPE_BUG, STALE_TEST, UNKNOWN)
    names = [s.name for s in SIGNATURES]
    assert len(names) == len(set(names))
    for sig in SIGNATURES:
        assert sig.cls in CLASSES and sig.cls != UNKNOWN
        assert sig.description and "\n" not in sig.description
    # every class but unknown has at least one signature
    assert {s.cls for s in SIGNATURES} == set(CLASSES) - {UNKNOWN}


# One line a signature, written from what Swarm, MySQL, Ghost and abra print (not from a world).
SIGNATURE_LINES = [
    ("address-exhaustion", "failed to allocate network IP for task 4k2: could not find an available IP"),
    ("address-exhaustion", "Error response from daemon: no available IPv4 addresses on this network's address pools: proxy (10.0.1.0/24)"),  # noqa: E501
    ("address-exhaustion", "level=error msg=\"ipam: address space for network proxy exhausted\""),
    ("address-exhaustion", "could not find an available, non-overlapping IPv4 address pool among defaults"),  # noqa: E501
    ("task-stuck-new", "myapp_db.1  task state pending (420s)"),
    ("task-stuck-new", "3 tasks stuck in New for 12 minutes"),
    ("task-stuck-new", "x7f  myapp_app.1  ghost:6.44.1  Running  New 14 minutes ago"),
    ("task-stuck-new", "replica 1/1 status: \"pending\""),
    ("no-suitable-node", "task: no suitable node (scheduling constraints not satisfied on 3 nodes)"),
    ("node-down", "node worker-2 is down"),
    ("node-down", "Error: node is unavailable"),
    ("node-down", "node 9xk2 status=down availability=active"),
    ("registry-unreachable", 'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host'),  # noqa: E501
    ("registry-unreachable", "pulling image ghost:6.44.1: net/http: TLS handshake timeout"),
    ("update-paused", "myapp_db: UpdateStatus=paused"),
    ("update-paused", "update paused due to failure or early termination of task q1w2e3"),
    ("update-rolled-back", "update rolled back due to failure or early termination of task q1w2e3"),
    ("update-rolled-back", "UpdateStatus: rollback_completed"),
    ("did-not-complete", "error: upgrade did not complete within 300s"),
    ("crash-loop", "myapp_app.1  Restarting (1) 5 seconds ago"),
    ("crash-loop", "container myapp_app keeps restarting"),
    ("crash-loop", "pod ghost CrashLoopBackOff"),
    ("nonzero-exit", "ghost exited with code 1"),
    ("nonzero-exit", "task: non-zero exit (137)"),
    ("migration-failed", "ERROR [knex-migrator] Migration failed: 2024-01-01-add-column"),
    ("data-dictionary-failed", "[ERROR] [MY-010334] [Server] Data Dictionary initialization failed."),
    ("mysql-client-error", "Error: ER_NO_SUCH_TABLE: Table 'ghost.posts_meta' doesn't exist"),
    ("image-not-found", "Error response from daemon: manifest for ghost:6.99.0 not found: manifest unknown"),
    ("image-not-found", "pull access denied for ghostt, repository does not exist"),
    ("expected-old-version", "AssertionError: expected version 6.42.0, got 6.44.1"),
    ("expected-old-version", "E   AssertionError: assert '6.44.1' == '6.42.0'"),
    ("expected-old-version", "FAILED tests/upgrade/ghost.py::test_version - version mismatch"),
]


@pytest.mark.parametrize(
    "name,line", SIGNATURE_LINES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SIGNATURE_LINES)]
)
def test_each_signature_matches_its_line(name, line):
    result = classify_log(line + "\n")
    assert name in [m.name for m in result.matches]
    sig_cls = {s.name: s.cls for s in SIGNATURES}[name]
    assert result.cls == sig_cls
    match = next(m for m in result.matches if m.name == name)
    assert match.line_no == 1 and match.line == line.strip() and match.text


def test_every_signature_has_a_test_line():
    scoped = {s.name for s in SIGNATURES if s.scope in ("unfinished-upgrade", "during-upgrade")}
    assert {s.name for s in SIGNATURES} - {n for n, _ in SIGNATURE_LINES} - scoped <= {
        "mysql-upgrade-after-crash", "mariadb-upgrade-needed", "mariadb-upgrade-after-crash",
        "mariadb-client-error", "pg-incompatible-data", "pg18-old-data-layout",
    }  # the scoped ones need a multi-line log (tested below); the families' own in test_signatures.py


@pytest.mark.parametrize(
    "line",
    [
        "ghost exited with code 0",
        "user_id column added",  # not an ER_ code
        "cc-ci/testme pending",
        "app: Ghost boot 4.21s",
        "node process shutting down gracefully",
        "expected 3 posts, got 3 posts",
        "myapp_db: UpdateStatus=completed",
        "updating service myapp_app (id: x1)",
    ],
)
def test_innocent_lines_match_nothing(line):
    result = classify_log(line)
    assert result.matches == [] and result.cls == UNKNOWN


# --- multi-line timing signatures ------------------------------------------------------------

UPGRADE_HEADER = (
    "db: 2026-07-01T08:00:00.000Z 1 [System] [MY-011012] [Server] Starting upgrade of data directory.\n"
    "db: 2026-07-01T08:00:00.500Z 1 [System] [MY-013381] [Server] Server upgrade from '80039' to "
    "'80405' started.\n"
)


def test_unfinished_upgrade_is_timing_and_cites_its_first_line():
    result = classify_log("deploying\n" + UPGRADE_HEADER + "test upgrade: FAILED\n")
    assert result.cls == RECIPE_TIMING
    unfinished = [m for m in result.matches if m.name == "upgrade-unfinished"]
    assert [m.line_no for m in unfinished] == [2]


def test_finished_upgrade_is_no_signature():
    log = UPGRADE_HEADER + (
        "db: 2026-07-01T08:02:00.000Z 1 [System] [MY-013381] [Server] Server upgrade from '80039' to "
        "'80405' completed.\n"
    )
    assert classify_log(log).matches == []


def test_data_dictionary_upgrade_without_completion_is_timing():
    log = "[System] [MY-013413] [Server] Data dictionary upgrade from version '80023' to '80300' started.\n"
    assert classify_log(log).cls == RECIPE_TIMING


def test_healthcheck_failure_counts_only_while_an_upgrade_runs():
    during = UPGRADE_HEADER + "db: healthcheck failed: mysqladmin ping timed out\n"
    assert "healthcheck-during-upgrade" in [m.name for m in classify_log(during).matches]
    alone = "db: healthcheck failed: mysqladmin ping timed out\n"
    result = classify_log(alone)
    assert result.matches == [] and result.cls == UNKNOWN
    after = UPGRADE_HEADER + (
        "db: 2026-07-01T08:02:00Z 1 [System] [MY-013381] [Server] Server upgrade from '1' to '2' completed.\n"
        "db: container is unhealthy\n"
    )
    assert classify_log(after).matches == []


# --- the worlds' logs ------------------------------------------------------------------------


@pytest.mark.parametrize("log", [LOG_48, LOG_49], ids=["build-48", "build-49"])
def test_address_exhaustion_builds_are_infra(log):
    result = classify_log(log)
    assert result.cls == INFRA
    assert {"address-exhaustion", "task-stuck-new"} <= {m.name for m in result.matches}
    ip = next(m for m in result.matches if m.name == "address-exhaustion")
    assert ip.line_no == 7 and "allocating VIP" in ip.line


@pytest.mark.parametrize("log", [LOG_50, LOG_57_RED], ids=["build-50", "red-build-57"])
def test_paused_data_dir_upgrade_is_recipe_timing(log):
    result = classify_log(log)
    assert result.cls == RECIPE_TIMING
    names = {m.name for m in result.matches}
    assert {"update-paused", "upgrade-unfinished", "healthcheck-during-upgrade", "did-not-complete"} <= names
    assert not result.of(INFRA)


@pytest.mark.parametrize(
    "log", [LOG_57_GREEN, LOG_58_GREEN, LOG_WORDPRESS, "", "   \n"], ids=["57", "58", "wp", "empty", "blank"]
)
def test_green_and_silent_logs_are_unknown(log):
    result = classify_log(log)
    assert result.cls == UNKNOWN and result.matches == []


def test_pause_under_address_exhaustion_is_infra():
    log = (
        LOG_50.rstrip("\n")
        + "\nswarm event: network proxy: could not find an available IP while allocating VIP\n"
    )
    result = classify_log(log)
    assert result.cls == INFRA
    assert result.of(RECIPE_TIMING)  # the pause is still reported as evidence


def test_timing_beats_recipe_bug():
    log = UPGRADE_HEADER + "task: non-zero exit (137): dockerexec: unhealthy container\nupdate paused\n"
    assert classify_log(log).cls == RECIPE_TIMING


def test_recipe_bug_beats_stale_test():
    log = "ghost exited with code 1\nAssertionError: expected version 6.42.0, got 6.44.1\n"
    assert classify_log(log).cls == RECIPE_BUG


def test_windows_line_endings():
    assert classify_log(LOG_48.replace("\n", "\r\n")).cls == INFRA


# --- contradiction ---------------------------------------------------------------------------


@pytest.mark.parametrize("claimed", [RECIPE_TIMING, RECIPE_BUG, STALE_TEST, UNKNOWN])
def test_infra_log_contradicts_any_other_class(claimed):
    msg = contradiction(claimed, LOG_48)
    assert msg is not None
    assert msg.startswith("build log shows infra (address-exhaustion at line 7:")
    assert "could not find an available IP while allocating VIP" in msg
    assert msg.endswith(f"not {claimed}")


def test_infra_claim_on_infra_log_stands():
    assert contradiction(INFRA, LOG_48) is None
    assert contradiction(INFRA, LOG_49) is None


@pytest.mark.parametrize("claimed", [INFRA, RECIPE_BUG, STALE_TEST, UNKNOWN])
def test_timing_log_contradicts_other_classes(claimed):
    msg = contradiction(claimed, LOG_50)
    assert msg is not None
    assert msg.startswith("build log shows recipe-timing (update-paused at line 7:")
    assert msg.endswith(f"not {claimed}")


def test_timing_claim_on_timing_log_stands():
    assert contradiction(RECIPE_TIMING, LOG_50) is None
    assert contradiction(RECIPE_TIMING, LOG_57_RED) is None


def test_timing_claim_on_confounded_log_is_contradicted():
    log = LOG_50 + "swarm event: network proxy: could not find an available IP while allocating VIP\n"
    assert "shows infra" in contradiction(RECIPE_TIMING, log)
    assert contradiction(INFRA, log) is None


@pytest.mark.parametrize("claimed", CLASSES)
def test_any_class_stands_where_the_log_shows_neither(claimed):
    assert contradiction(claimed, LOG_WORDPRESS) is None
    assert contradiction(claimed, "") is None
    # recipe-bug and stale-test evidence cannot overrule a claim
    assert contradiction(claimed, "ghost exited with code 1\n") is None


def test_class_word_is_case_insensitive():
    assert contradiction(" Infra ", LOG_48) is None


@pytest.mark.parametrize("word", ["timing", "infrastructure", "", "recipe"])
def test_unknown_class_word_raises(word):
    with pytest.raises(ValueError, match="unknown failure class"):
        contradiction(word, LOG_48)


def test_failed_upgrade_is_not_an_unfinished_one():
    log = UPGRADE_HEADER + "db: [ERROR] [MY-010334] [Server] Data Dictionary initialization failed.\n"
    result = classify_log(log)
    assert result.cls == RECIPE_BUG
    assert "upgrade-unfinished" not in [m.name for m in result.matches]


@pytest.mark.parametrize(
    "line,name",
    [
        ("ghost_db: update_status: paused", "update-paused"),
        ("2 tasks remained in New after 10m", "task-stuck-new"),
        ("error: data-dir upgrade did not finish before the monitor ended", "did-not-complete"),
    ],
)
def test_other_wordings(line, name):
    assert name in [m.name for m in classify_log(line).matches]


def test_a_pause_that_a_crash_explains_is_not_timing():
    # gates.md: a pause is timing when the new version was still coming up; here it is broken.
    log = (
        "app: ERROR Migration failed: column 'x' missing\n"
        "app: container exited with code 1\n"
        'ghos-1_app: UpdateStatus=paused message="update paused due to failure or early termination of task q1"\n'
    )
    result = classify_log(log)
    assert result.cls == "recipe-bug"
    assert not result.of(RECIPE_TIMING)
    assert contradiction("recipe-bug", log) is None


def test_a_pause_during_an_unfinished_upgrade_stays_timing_even_with_a_crash_line():
    log = (
        "db: [System] [MY-011012] [Server] Starting upgrade of data directory.\n"
        "app: container exited with code 1\n"
        'ghos-1_db: UpdateStatus=paused message="update paused"\n'
    )
    assert classify_log(log).cls == "recipe-timing"


def test_an_unhealthy_kill_is_a_health_check_not_a_crash():
    log = 'svc.1 shutdown failed "task: non-zero exit (137): dockerexec: unhealthy container"\nUpdateStatus=paused'
    result = classify_log(log)
    assert result.cls == "recipe-timing"
    assert not result.of("recipe-bug")


# --- a task that moves on was not stuck (gates.md Failure classes, 2026-12-01) ---------------
@pytest.mark.parametrize("log, stuck", [
    # the deploy tool's own lines: the same service.slot later running
    ("x_app.1: task state new (60s)\nx_app.1: task state running (75s)\n", False),
    ("x_app.1: task state pending (60s)\nx_app.1: task state complete\n", False),
    # only another task moved on
    ("x_app.1: task state new (60s)\nx_db.1: task state running (75s)\n", True),
    # still new later: stuck
    ("x_app.1: task state new (60s)\nx_app.1: task state new (180s)\n", True),
    # it moved on only to assigned/preparing: not "running or beyond"
    ("x_app.1: task state new (60s)\nx_app.1: task state preparing\n", True),
    # `docker service ps`: DESIRED STATE Running is not the task's state; CURRENT STATE is
    ("9qk2jq0v1a7b  x_app.1  ghost  n1  Running  New 14 minutes ago\n"
     "9qk2jq0v1a7b  x_app.1  ghost  n1  Running  Running 2 minutes ago\n", False),
    ("9qk2jq0v1a7b  x_app.1  ghost  n1  Running  Pending 14 minutes ago\n"
     "4hd8c0x2ab9z  x_app.1  ghost  n1  Running  Running 2 minutes ago\n", True),  # another task of the slot
    # a running line before the stuck one does not clear it
    ("x_app.1: task state running\nx_app.1: task state new (600s)\n", True),
    # no task named: nothing can show it moving on
    ("3 tasks stuck in New for 12 minutes\nx_app.1: task state running\n", True),
])
def test_a_task_that_moves_on_was_not_stuck(log: str, stuck: bool) -> None:
    names = {m.name for m in classify_log(log).matches}
    assert ("task-stuck-new" in names) is stuck, log


def test_a_moved_on_task_leaves_a_recipe_class_standing() -> None:
    log = "x_app.1: task state new (20s)\nx_app.1: task state running (31s)\ntest: expected 6.44.1 got 6.42.0\n"
    assert contradiction("stale-test", log) is None
    assert classify_log(log).cls == STALE_TEST


# --- address exhaustion: one definition for the classifier, M1.proxy-clear and the host log ---
@pytest.mark.parametrize("text", [
    "could not find an available IP while allocating VIP",
    "failed to allocate network IP for task T network N: could not find an available IP",
    "no available IPv4 addresses on this network's address pools: proxy (2b1f9c)",
    "No available addresses on this pool",
    "could not find an available, non-overlapping IPv4 address pool among the defaults",
])
def test_address_exhaustion_texts(text: str) -> None:
    from ghostgates.judge.classify import ADDRESS_EXHAUSTION_KEYWORDS, address_exhaustion

    assert address_exhaustion(text)
    assert address_exhaustion(text.upper())
    assert classify_log(text).cls == INFRA
    # the host pre-filters with these fixed strings: each matching text holds one of them
    assert any(kw.lower() in text.lower() for kw in ADDRESS_EXHAUSTION_KEYWORDS)


def test_address_exhaustion_keywords_are_in_their_regexes() -> None:
    from ghostgates.judge.classify import SIGNATURES

    sig = next(s for s in SIGNATURES if s.name == "address-exhaustion")
    for conj in sig.pattern.texts:
        text = " ".join(conj).lower().replace("\\b", "")
        assert any(kw.lower() in text for kw in sig.keywords), conj


def test_not_address_exhaustion() -> None:
    from ghostgates.judge.classify import address_exhaustion

    assert address_exhaustion("task: non-zero exit (1)") is None
    assert address_exhaustion("") is None
    assert address_exhaustion(None) is None
