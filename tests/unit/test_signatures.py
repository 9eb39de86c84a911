"""The signature tables (ghostgates/judge/signatures/*.toml): every example holds, a broken table
is an error naming its file and entry, the families that apply, and linear time on long lines."""

from __future__ import annotations

import base64
import shutil
import time
from pathlib import Path

import pytest

from ghostgates.judge import classify
from ghostgates.judge.classify import (
    FAMILIES,
    TABLES,
    SignatureTableError,
    classify_lines,
    classify_log,
    contradiction,
    image_family,
    load_table,
    load_tables,
    recipe_families,
    upgrade_markers,
)

EXAMPLES = [(t.family, s.name, want, log) for t in TABLES.values() for s in t.signatures
            for want, logs in ((True, s.examples_match), (False, s.examples_no_match)) for log in logs]


@pytest.mark.parametrize("family, name, want, log", EXAMPLES,
                         ids=[f"{f}-{n}-{'match' if w else 'no'}-{i}" for i, (f, n, w, _) in enumerate(EXAMPLES)])
def test_every_example_holds(family: str, name: str, want: bool, log: str) -> None:
    # with its own family's table, and with every table (another table never hides it)
    for families in ([family] if family != "infra" else [], None):
        found = {m.name for m in classify_log(log, families).matches}
        assert (name in found) is want, (families, log)


def test_every_table_has_its_family_and_sources() -> None:
    assert tuple(TABLES) == FAMILIES
    for table in TABLES.values():
        assert Path(table.path).stem == table.family
        assert table.signatures
        for sig in table.signatures:
            assert sig.source and sig.description and sig.examples_match and sig.examples_no_match
    assert upgrade_markers("infra") is None
    for family in ("mysql", "mariadb", "postgres"):
        markers = upgrade_markers(family)
        assert markers is not None and markers.source and markers.family == family


def test_the_markers_are_data_to_measure_with() -> None:
    m = upgrade_markers("mariadb")
    assert m is not None
    assert m.start.search("db: 2026-07-31 12:12:20+00:00 [Note] [Entrypoint]: Starting mariadb-upgrade")
    assert m.end.search("2026-07-31 12:14:02+00:00 [Note] [Entrypoint]: Finished mariadb-upgrade")
    assert not m.start.search("[Note] [Entrypoint]: Finished mariadb-upgrade")


# --- a table that does not load, or whose example does not hold, names its file and entry -----
@pytest.fixture
def tables(tmp_path: Path) -> Path:
    for family in FAMILIES:
        shutil.copy(classify.SIGNATURE_DIR / f"{family}.toml", tmp_path / f"{family}.toml")
    return tmp_path


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("family, old, new, message", [
    ("infra", 'no_match = ["task: non-zero exit (1)", "allocated address 10.0.1.7 to task x"]',
     'no_match = ["could not find an available IP"]', "signature 'address-exhaustion': no_match example does not hold"),
    ("infra", "match = [\"task: no suitable node (scheduling constraints not satisfied on 3 nodes)\"]",
     "match = [\"no node\"]", "signature 'no-suitable-node': match example does not hold"),
    ("infra", "patterns = ['''\\bno suitable node\\b''']", "patterns = ['''\\bno .* node\\b''']",
     "signature 'no-suitable-node' patterns: pattern '\\\\bno .* node\\\\b' has an unbounded wildcard"),
    ("infra", "patterns = ['''\\bno suitable node\\b''']", "patterns = ['''(no suitable node''']",
     "signature 'no-suitable-node' patterns: pattern '(no suitable node' does not compile"),
    ("infra", 'class = "infra"\ndescription = "the Swarm scheduler',
     'class = "platform"\ndescription = "the Swarm scheduler', "signature 'no-suitable-node': class: expected one of"),
    ("postgres", 'family = "postgres"', 'family = "postgresql"', "family: expected the file's own name"),
    ("mariadb", 'end_examples = ["db: 2026-07-31 12:14:02+00:00 [Note] [Entrypoint]: Finished mariadb-upgrade"]',
     'end_examples = ["db: Finished"]', "[upgrade] end_examples: example does not hold"),
    ("mysql", "[[signature]]\nname = \"upgrade-unfinished\"", "[[signature]\nname = \"upgrade-unfinished\"",
     "not valid TOML"),
])
def test_a_broken_table_is_an_error_naming_file_and_entry(tables: Path, family: str, old: str, new: str,
                                                          message: str) -> None:
    _replace(tables / f"{family}.toml", old, new)
    with pytest.raises(SignatureTableError) as err:
        load_tables(tables)
    assert str(err.value).startswith(f"{tables / family}.toml: ")
    assert message in str(err.value)


def test_a_missing_table_or_a_name_in_two_tables_is_an_error(tables: Path) -> None:
    _replace(tables / "mariadb.toml", 'name = "mariadb-client-error"', 'name = "mysql-client-error"')
    with pytest.raises(SignatureTableError, match="signature 'mysql-client-error': also in"):
        load_tables(tables)
    (tables / "mariadb.toml").unlink()
    with pytest.raises(SignatureTableError, match="mariadb.toml: the mariadb table is missing"):
        load_tables(tables)


def test_the_shipped_tables_load_as_the_module_does() -> None:
    assert {f: len(t.signatures) for f, t in load_tables().items()} == {f: len(t.signatures) for f, t in TABLES.items()}
    assert load_table(classify.SIGNATURE_DIR / "postgres.toml").family == "postgres"


# --- which tables apply -------------------------------------------------------------------
@pytest.mark.parametrize("image, family", [
    ("mysql:8.4", "mysql"), ("docker.io/library/mysql:8.0.36", "mysql"), ("mariadb:11.4", "mariadb"),
    ("postgres:17-alpine", "postgres"), ("postgres:${DB_DOCKER_VERSION:-17}", "postgres"),
    ("${DB_IMAGE:-mariadb}:11.4", "mariadb"), ("${DB_IMAGE}:11.4", None),
    ("postgis/postgis:16-3.4", "postgres"), ("pgautoupgrade/pgautoupgrade:17-alpine", "postgres"),
    ("registry.example.org:5000/mariadb", "mariadb"), ("percona:8.0", None), ("bitnami/postgresql:16", None),
    ("ghost:6.44.1", None), ("mysql-router:8", None), (None, None),
])
def test_image_family(image: str | None, family: str | None) -> None:
    assert image_family(image) == family


def test_recipe_families_from_compose_files_and_the_phase() -> None:
    app = "services:\n  app:\n    image: lasuite/impress-backend:3.1.0\n"
    pg = "services:\n  db:\n    image: postgres:${DB_DOCKER_VERSION:-16}\n"
    maria = "services:\n  db:\n    image: mariadb:11.4\n"
    assert recipe_families([app]) == ()
    assert recipe_families([app, pg]) == ("postgres",)
    assert recipe_families([maria, pg, "not: [yaml"]) == ("mariadb", "postgres")
    assert recipe_families([app], ["mysql"]) == ("mysql",)


def test_a_family_not_applied_shows_nothing() -> None:
    log = "db: Performing PG upgrade on version 16 database files\ndb: UpdateStatus=paused\n"
    assert classify_log(log, ["postgres"]).cls == "recipe-timing"
    assert "pgautoupgrade-unfinished" not in {m.name for m in classify_log(log, ["mysql"]).matches}
    assert contradiction("recipe-bug", log, ["postgres"]) is not None
    # the pause alone is still timing evidence without the postgres table
    assert contradiction("recipe-bug", log, []) is not None
    with pytest.raises(ValueError, match="unknown signature family 'oracle'"):
        classify_log(log, ["oracle"])


def test_a_major_version_mismatch_is_a_bug_not_timing() -> None:
    log = ("db: 2026-07-02 10:00:01.123 UTC [1] FATAL:  database files are incompatible with server\n"
           "db: 2026-07-02 10:00:01.123 UTC [1] DETAIL:  The data directory was initialized by PostgreSQL version 16, "
           "which is not compatible with this version 17.2 (Debian 17.2-1.pgdg120+1).\n"
           "db: task: non-zero exit (1)\n"
           "lasu-1_db: UpdateStatus=paused message=\"update paused due to failure or early termination of task q1\"\n")
    result = classify_log(log, ["postgres"])
    assert result.cls == "recipe-bug" and not result.of("recipe-timing")
    assert contradiction("recipe-bug", log, ["postgres"]) is None


# --- linear time, bounded memory -----------------------------------------------------------
LONG_LINES = {
    "base64": base64.b64encode(bytes(range(256)) * 164).decode(),
    "lookup": "lookup " * 8000,
    "lookup-registry": "lookup registry " * 3500,
    "expected": "expected 1.2 " * 4300,
    "healthcheck": "healthcheck " * 4700,
    "task-state": "task state new " * 4000,
}


@pytest.mark.parametrize("name", sorted(LONG_LINES))
def test_a_56_kb_line_adds_well_under_a_second(name: str) -> None:
    line = (LONG_LINES[name] * 2)[:56_000]
    log = "db: [System] [MY-011012] [Server] Starting upgrade of data directory.\n" + line + "\n"
    start = time.perf_counter()
    result = classify_log(log)
    assert time.perf_counter() - start < 0.25
    assert all(len(m.line) <= classify.EXCERPT_CHARS for m in result.matches)


def test_a_stream_is_read_once_and_matches_are_bounded() -> None:
    def lines():
        for i in range(20_000):
            yield f"x_app.{i % 7}: task state new ({i}s)\n" if i % 2 else "db: healthcheck failed\n"

    result = classify_lines(lines(), [])
    assert result.cls == "infra"
    assert sum(m.name == "task-stuck-new" for m in result.matches) <= 7  # one per task still stuck


def test_ansi_codes_are_not_text() -> None:
    assert classify_log("x_app.1: task \x1b[1mstate\x1b[0m new (60s)\n").cls == "infra"
