"""Measuring the upgrade from the log's markers (gates.md "Upgrade markers")."""

from __future__ import annotations

from ghostgates.judge import classify, upgrade
from ghostgates.judge.upgrade import contradicts, measure
from ghostgates.judge.upgrade import measure_upgrade as _measure_upgrade

# MySQL's markers as its signature table holds them (judge/signatures/mysql.toml, [upgrade]).
(MYSQL,) = classify.measuring_markers(["mysql"])


def measure_upgrade(log, markers=(MYSQL,)):
    return _measure_upgrade(log, markers)

LOG = """+ abra app upgrade ghos-5d1e0a.ci.example.org 2.0.0+6.44.1 --no-input
db: 2026-06-15T10:06:11.442Z 1 [System] [MY-013381] [Server] Server upgrade from '80036' to '80404' started.
db: 2026-06-15T10:07:47.907Z 1 [System] [MY-013381] [Server] Server upgrade from '80036' to '80404' completed.
"""


def test_first_start_to_last_end():
    assert round(measure_upgrade(LOG) or 0, 3) == 96.465


def test_the_data_dictionary_markers_count_from_the_first_start():
    log = ("db_1   | 2024-09-13T15:52:33.543091Z 1 [System] [MY-011090] [Server] Data dictionary upgrading from "
           "version '80023' to '80300'.\n"
           "db_1   | 2024-09-13T15:52:37.728885Z 1 [System] [MY-013413] [Server] Data dictionary upgrade from "
           "version '80023' to '80300' completed.\n"
           "db_1   | 2024-09-13T15:52:52.425982Z 4 [System] [MY-013381] [Server] Server upgrade from '80039' to "
           "'80402' started.\n"
           "db_1   | 2024-09-13T15:53:39.191347Z 4 [System] [MY-013381] [Server] Server upgrade from '80039' to "
           "'80402' completed.\n")
    found = measure(log, (MYSQL,))
    assert found is not None and round(found.seconds, 1) == 65.6 and found.family == "mysql"


def test_no_end_marker_or_no_timestamp_measures_nothing():
    assert measure_upgrade(LOG.splitlines()[1]) is None  # started, never completed
    untimed = ("db: Server upgrade from '80036' to '80404' started.\n"
               "db: Server upgrade from '80036' to '80404' completed.")
    assert measure_upgrade(untimed) is None
    half = LOG.replace("db: 2026-06-15T10:07:47.907Z 1", "db:")
    assert measure_upgrade(half) is None
    assert measure_upgrade("") is None and measure_upgrade(None) is None


def test_ansi_codes_are_not_text():
    coloured = LOG.replace("db: 2026", "\x1b[32mdb:\x1b[0m 2026")
    assert round(measure_upgrade(coloured) or 0) == 96


def test_markers_are_passed_as_the_tables_hold_them():
    # One type: the classifier's table markers are what upgrade measures with, never a copy.
    assert upgrade.Markers is classify.Markers
    assert MYSQL is classify.upgrade_markers("mysql")
    assert classify.measuring_markers(None) == tuple(
        m for f in classify.FAMILIES if (m := classify.upgrade_markers(f)) is not None)
    assert [m.family for m in classify.measuring_markers(["mariadb"])] == ["mariadb"]  # infra has none


def test_a_conjunction_marker_needs_each_part_on_the_line():
    # mysql.toml: ["\b(?:server|data dictionary) upgrade from\b", "\bstarted\b"] is one start marker.
    lines = LOG.splitlines()
    parts_apart = "\n".join([lines[0], lines[1].replace("' started.", "'."),
                             "db: 2026-06-15T10:06:11.500Z 1 [System] started", lines[2]])
    assert measure_upgrade(parts_apart) is None
    either_order = LOG.replace("Server upgrade from '80036' to '80404' started.",
                               "started: Server upgrade from '80036' to '80404'.")
    assert round(measure_upgrade(either_order) or 0, 3) == 96.465


def test_markers_are_data():
    mariadb = classify.upgrade_markers("mariadb")
    assert mariadb is not None
    log = ("db: 2026-06-15 10:00:00+00:00 [Note] [Entrypoint]: Starting mariadb-upgrade\n"
           "db: 2026-06-15 10:00:40+00:00 [Note] [Entrypoint]: Finished mariadb-upgrade\n")
    assert measure_upgrade(log, (mariadb,)) == 40
    assert measure_upgrade(log, (MYSQL,)) is None
    assert measure_upgrade(LOG, (mariadb,)) is None


def test_ten_percent():
    assert not contradicts(96, 96.4) and not contradicts(105, 96.4)
    assert contradicts(107, 96.4) and contradicts(60, 96.4)
