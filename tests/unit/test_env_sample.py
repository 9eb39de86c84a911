"""The upgrade itself in `.env.sample`, and the phase's fix_keys (gates.md "Other recipes' phases")."""

from __future__ import annotations

from ghostgates.judge import compose_diff
from ghostgates.judge.env_sample import changed_variables, is_upgrade_only

COMPOSE = """\
services:
  app:
    image: lasuite/impress-backend:${APP_VERSION:-3.1.0}
    environment:
      - DB_HOST=${DB_HOST:-db}
  db:
    image: postgres:${DB_DOCKER_VERSION:-16}
"""
BASE = "DOMAIN=docs.example.com\nDB_DOCKER_VERSION=16\n#COMPOSE_FILE=\"compose.yml:compose.postgres.yml\"\n"


def test_a_variable_only_an_image_interpolates_is_the_upgrade():
    assert is_upgrade_only(BASE, BASE.replace("=16", "=17"), [COMPOSE])


def test_a_variable_another_value_interpolates_is_not():
    head = BASE + "DB_HOST=postgres\n"
    assert changed_variables(BASE, head) == {"DB_HOST"}
    assert not is_upgrade_only(BASE, head, [COMPOSE])


def test_a_variable_no_compose_file_reads_is_not():
    assert not is_upgrade_only(BASE, BASE + "NEW_SETTING=1\n", [COMPOSE])


def test_a_commented_line_switched_on_is_a_change_of_its_variable():
    head = BASE.replace('#COMPOSE_FILE="compose.yml:compose.postgres.yml"', 'COMPOSE_FILE="compose.yml"')
    assert changed_variables(BASE, head) == {"COMPOSE_FILE"}
    assert not is_upgrade_only(BASE, head, [COMPOSE])


def test_prose_or_a_missing_side_is_not_the_upgrade():
    assert changed_variables(BASE, BASE + "# a note\n") is None
    assert not is_upgrade_only(BASE, BASE + "# a note\n", [COMPOSE])
    assert not is_upgrade_only(None, BASE, [COMPOSE])


def test_the_same_variable_in_an_image_and_elsewhere_is_not_only_the_images():
    compose = COMPOSE + "    command: [\"postgres\", \"-c\", \"v=${DB_DOCKER_VERSION}\"]\n"
    assert not is_upgrade_only(BASE, BASE.replace("=16", "=17"), [compose])


# --- compose_diff: stop_grace_period is a timing key; fix_keys are allowed beside them -------
def _report(before: str, after: str, **kw: object) -> compose_diff.ChangeReport:
    files = [{"filename": "compose.yml", "status": "modified"}]
    return compose_diff.classify_changes(files, {"compose.yml": before}, {"compose.yml": after}, **kw)  # type: ignore[arg-type]


def test_stop_grace_period_is_timing():
    before = "services:\n  db:\n    image: m:1\n"
    report = _report(before, before + "    stop_grace_period: 2m\n")
    assert [c.path for c in report.timing] == ["services.db.stop_grace_period"] and not report.other


def test_a_fix_key_is_allowed_only_where_the_phase_names_it():
    before = "services:\n  db:\n    image: mariadb:11.4\n"
    after = before + "    environment:\n      MARIADB_AUTO_UPGRADE: \"1\"\n"
    assert _report(before, after).verdict_kind() == "beyond"
    named = _report(before, after, fix_keys=("db.environment.MARIADB_AUTO_UPGRADE",))
    assert named.verdict_kind() == "timing"
    other = _report(before, after, fix_keys=("app.environment.MARIADB_AUTO_UPGRADE",))
    assert other.verdict_kind() == "beyond"
    # a key covers its sub-keys, never a sibling whose name merely begins the same
    assert _report(before, after, fix_keys=("db.environment",)).verdict_kind() == "timing"
    assert _report(before, after, fix_keys=("db.env",)).verdict_kind() == "beyond"
