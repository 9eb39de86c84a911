"""What a PR changes beyond the upgrade (gates.md M2.fix-minimal)."""

from __future__ import annotations

import pytest

from ghostgates.judge.classify import is_root_compose_file
from ghostgates.judge.compose_diff import (
    Change,
    ComposeError,
    classify_changes,
    is_compose_file,
)

# The ghost recipe's compose.yml at the PR base (red-timing-fixed / green-after-proxy worlds).
BASE = """\
---
version: "3.8"

services:
  app:
    image: ghost:6.42.0
    networks:
      - proxy
      - internal
    environment:
      - url=https://$DOMAIN
      - database__client=mysql
      - database__connection__host=db
      - database__connection__user=ghost
      - database__connection__database=ghost
    volumes:
      - content:/var/lib/ghost/content
    deploy:
      restart_policy:
        condition: on-failure
      labels:
        - "traefik.enable=true"
        - "traefik.http.services.${STACK_NAME}.loadbalancer.server.port=2368"
        - "traefik.http.routers.${STACK_NAME}.rule=Host(`${DOMAIN}`)"
        - "coop-cloud.${STACK_NAME}.version=1.3.0+6.42.0"
    healthcheck:
      test: ["CMD", "wget", "-q", "-O-", "http://localhost:2368/ghost/api/admin/site/"]
      interval: 30s
      timeout: 10s
      retries: 5
      start_period: 1m

  db:
    image: mysql:8.0
    networks:
      - internal
    environment:
      - MYSQL_DATABASE=ghost
      - MYSQL_USER=ghost
      - MYSQL_RANDOM_ROOT_PASSWORD=yes
    volumes:
      - mysql:/var/lib/mysql
    healthcheck:
      test: ["CMD", "mysqladmin", "ping", "-h", "localhost"]
      interval: 10s
      timeout: 5s
      retries: 3

networks:
  proxy:
    external: true
  internal:

volumes:
  content:
  mysql:
"""

# The upgrade alone (green-after-proxy head a4c0ffee...).
UPGRADED = (
    BASE.replace("ghost:6.42.0", "ghost:6.44.1")
    .replace("version=1.3.0+6.42.0", "version=2.0.0+6.44.1")
    .replace("mysql:8.0", "mysql:8.4")
)

# The upgrade plus the monitor fix (red-timing-fixed head f1e2d3c4...).
FIXED = UPGRADED.replace(
    """      - mysql:/var/lib/mysql
    healthcheck:
      test: ["CMD", "mysqladmin", "ping", "-h", "localhost"]
      interval: 10s
      timeout: 5s
      retries: 3
""",
    """      - mysql:/var/lib/mysql
    deploy:
      update_config:
        monitor: 300s
        failure_action: rollback
    healthcheck:
      test: ["CMD", "mysqladmin", "ping", "-h", "localhost"]
      interval: 10s
      timeout: 5s
      retries: 3
      start_period: 180s
""",
)
assert FIXED != UPGRADED

RELEASE = {"filename": "release/2.0.0+6.44.1", "status": "added"}
COMPOSE = {"filename": "compose.yml", "status": "modified"}
VERSION_LABEL = 'services.app.deploy.labels["coop-cloud.${STACK_NAME}.version"]'


def _report(head_text: str, base_text: str = BASE, extra: list[dict] | None = None):
    files = [COMPOSE, RELEASE] + (extra or [])
    return classify_changes(files, {"compose.yml": base_text}, {"compose.yml": head_text})


def _paths(changes: list[Change]) -> set[str]:
    return {c.path for c in changes}


# --- file names ------------------------------------------------------------------------------


# gates.md "Other recipes' phases": "A recipe's compose files are `compose.yml` and every
# `compose.*.yml` at its root." The families read the same files (classify.is_root_compose_file).
@pytest.mark.parametrize(
    "name",
    [
        "compose.yml",
        "compose.smtp.yml",
        "compose.mysql.yml",
        "compose.db.backup.yml",
    ],
)
def test_compose_file_names(name):
    assert is_compose_file(name)
    assert is_root_compose_file(name)


@pytest.mark.parametrize(
    "name",
    [
        # compose-like, but not `compose.yml` or `compose.*.yml` at the root
        "compose.yaml",
        "compose.mysql.yaml",
        "compose-extra.yml",
        "compose-extra.yaml",
        "docker-compose.yml",
        "docker-compose.prod.yml",
        "deploy/compose.yml",
        "deploy/compose.db.yml",
        "a/b/docker-compose-dev.yaml",
        ".env.sample",
        "abra.sh",
        ".drone.yml",
        "release/2.0.0+6.44.1",
        "README.md",
        "composer.json",
        "compose.yml.bak",
        "mycompose.yml",
        "entrypoint.compose.sh",
    ],
)
def test_not_compose_file_names(name):
    assert not is_compose_file(name)
    assert not is_root_compose_file(name)


def test_a_change_to_a_file_that_is_no_compose_file_is_beyond_the_upgrade():
    # The same timing key and the same image change: in compose.yml the one is timing, the other the
    # upgrade; in a compose-like file that is none of the recipe's, each is a whole-file change.
    before = "services:\n  db:\n    image: mariadb:10.11\n"
    after = "services:\n  db:\n    image: mariadb:11.4\n    stop_grace_period: 2m\n"
    for name, kinds in (("compose.yml", ("upgrade", "timing")), ("docker-compose.yml", ("other",)),
                        ("deploy/compose.yml", ("other",))):
        report = classify_changes([{"filename": name, "status": "modified"}], {name: before}, {name: after})
        found = tuple(k for k in ("upgrade", "timing", "other") if getattr(report, k))
        assert found == kinds, name
        if kinds == ("other",):
            assert [c.describe() for c in report.other] == [f"{name} (modified)"]


# --- the worlds ------------------------------------------------------------------------------


def test_red_timing_fixed_pr_is_upgrade_plus_timing():
    report = _report(FIXED)
    assert report.verdict_kind() == "timing"
    assert report.other == []
    assert _paths(report.timing) == {
        "services.db.deploy.update_config.monitor",
        "services.db.deploy.update_config.failure_action",
        "services.db.healthcheck.start_period",
    }
    monitor = next(c for c in report.timing if c.path.endswith("monitor"))
    assert (monitor.file, monitor.before, monitor.after) == ("compose.yml", None, "300s")
    assert _paths(report.upgrade) == {"services.app.image", "services.db.image", VERSION_LABEL, ""}
    release = next(c for c in report.upgrade if c.file.startswith("release/"))
    assert release.describe() == "release/2.0.0+6.44.1 (added)"


def test_green_pr_is_upgrade_only():
    report = _report(UPGRADED)
    assert report.verdict_kind() == "none"
    assert report.timing == [] and report.other == []
    image = next(c for c in report.upgrade if c.path == "services.app.image")
    assert (image.before, image.after) == ("ghost:6.42.0", "ghost:6.44.1")


def test_image_tag_change_only():
    report = classify_changes(
        [COMPOSE], {"compose.yml": BASE}, {"compose.yml": BASE.replace("mysql:8.0", "mysql:8.4")}
    )
    assert report.verdict_kind() == "none"
    assert [c.path for c in report.upgrade] == ["services.db.image"]


def test_no_change_at_all_is_none():
    report = classify_changes([], {}, {})
    assert report.verdict_kind() == "none"


# --- beyond the upgrade ------------------------------------------------------------------------


def test_env_var_added_is_other():
    head = UPGRADED.replace(
        "      - MYSQL_USER=ghost\n", "      - MYSQL_USER=ghost\n      - MYSQL_MAX_CONNECTIONS=500\n"
    )
    report = _report(head)
    assert report.verdict_kind() == "beyond"
    [change] = report.other
    assert change.path == "services.db.environment.MYSQL_MAX_CONNECTIONS"
    assert (change.before, change.after) == (None, "500")
    assert "MYSQL_MAX_CONNECTIONS" in change.describe()


def test_new_service_is_other():
    head = UPGRADED.replace(
        "networks:\n  proxy:",
        "  cache:\n    image: redis:7\n    healthcheck:\n      test: [CMD, redis-cli, ping]\n"
        "\nnetworks:\n  proxy:",
    )
    report = _report(head)
    assert report.verdict_kind() == "beyond"
    assert "services.cache.image" in _paths(report.other)


def test_label_other_than_version_is_other():
    head = UPGRADED.replace(
        '        - "traefik.enable=true"\n',
        '        - "traefik.enable=true"\n        - "backupbot.backup=true"\n',
    )
    report = _report(head)
    assert report.verdict_kind() == "beyond"
    assert _paths(report.other) == {'services.app.deploy.labels["backupbot.backup"]'}


def test_changed_traefik_label_is_other():
    head = UPGRADED.replace("port=2368", "port=2369")
    report = _report(head)
    assert [c.path for c in report.other] == [
        'services.app.deploy.labels["traefik.http.services.${STACK_NAME}.loadbalancer.server.port"]'
    ]


@pytest.mark.parametrize("name", [".env.sample", "abra.sh", ".drone.yml", "README.md"])
def test_non_compose_file_is_other(name):
    report = _report(UPGRADED, extra=[{"filename": name, "status": "modified"}])
    assert report.verdict_kind() == "beyond"
    [change] = report.other
    assert change.file == name and change.path == ""
    assert change.describe() == f"{name} (modified)"


def test_other_compose_key_is_other():
    head = UPGRADED.replace(
        "      - mysql:/var/lib/mysql\n",
        "      - mysql:/var/lib/mysql\n    deploy:\n"
        "      resources:\n        limits:\n          memory: 2G\n",
    )
    report = _report(head)
    assert _paths(report.other) == {"services.db.deploy.resources.limits.memory"}


def test_image_swapped_for_another_image_is_other():
    report = _report(UPGRADED.replace("mysql:8.4", "mariadb:11.4"))
    assert "services.db.image" in _paths(report.other)


def test_image_digest_and_registry_port():
    base = BASE.replace("ghost:6.42.0", "registry.example.org:5000/ghost:6.42.0@sha256:aaaa")
    head = BASE.replace("ghost:6.42.0", "registry.example.org:5000/ghost:6.44.1@sha256:bbbb")
    report = classify_changes([COMPOSE], {"compose.yml": base}, {"compose.yml": head})
    assert [c.path for c in report.upgrade] == ["services.app.image"]


# --- timing ----------------------------------------------------------------------------------


def test_healthcheck_start_period_added_is_timing():
    head = UPGRADED.replace("      retries: 3\n", "      retries: 3\n      start_period: 3m\n")
    report = _report(head)
    assert report.verdict_kind() == "timing"
    assert [c.path for c in report.timing] == ["services.db.healthcheck.start_period"]


@pytest.mark.parametrize(
    "block",
    [
        "    deploy:\n      rollback_config:\n        parallelism: 0\n",
        "    deploy:\n      restart_policy:\n        max_attempts: 5\n",
        "    deploy:\n      update_config:\n        order: start-first\n        monitor: 5m\n",
    ],
)
def test_deploy_timing_blocks_are_timing(block):
    head = UPGRADED.replace("      - mysql:/var/lib/mysql\n", "      - mysql:/var/lib/mysql\n" + block)
    report = _report(head)
    assert report.verdict_kind() == "timing"
    assert report.other == []


def test_removed_healthcheck_key_is_timing():
    report = _report(UPGRADED.replace("      start_period: 1m\n", ""))
    assert [(c.path, c.before, c.after) for c in report.timing] == [
        ("services.app.healthcheck.start_period", "1m", None)
    ]


def test_stop_grace_period_is_timing():
    # gates.md M2.fix-minimal (2026-12-02): `stop_grace_period` is a timing key.
    head = UPGRADED.replace("      - mysql:/var/lib/mysql\n",
                            "      - mysql:/var/lib/mysql\n    stop_grace_period: 2m\n")
    report = _report(head)
    assert report.verdict_kind() == "timing"
    assert [c.path for c in report.timing] == ["services.db.stop_grace_period"]


@pytest.mark.parametrize(("old", "new", "path"), [
    ('      test: ["CMD", "mysqladmin", "ping", "-h", "localhost"]\n', '      test: ["CMD", "true"]\n',
     "services.db.healthcheck.test"),
    ("      retries: 3\n", "      retries: 3\n      disable: true\n", "services.db.healthcheck.disable"),
])
def test_a_health_checks_test_or_disabling_it_is_beyond(old, new, path):
    # gates.md: changing a health check's `test` or disabling it is a change beyond the upgrade.
    assert old in UPGRADED
    report = _report(UPGRADED.replace(old, new))
    assert report.verdict_kind() == "beyond"
    assert [c.path for c in report.other] == [path] and report.timing == []


def test_timing_and_other_is_beyond():
    head = FIXED.replace("      - MYSQL_USER=ghost\n", "      - MYSQL_USER=ghost\n      - DEBUG=1\n")
    report = _report(head)
    assert report.verdict_kind() == "beyond"
    assert report.timing and report.other


# --- list vs mapping forms --------------------------------------------------------------------

LABELS_MAPPING = UPGRADED.replace(
    """      labels:
        - "traefik.enable=true"
        - "traefik.http.services.${STACK_NAME}.loadbalancer.server.port=2368"
        - "traefik.http.routers.${STACK_NAME}.rule=Host(`${DOMAIN}`)"
        - "coop-cloud.${STACK_NAME}.version=2.0.0+6.44.1"
""",
    """      labels:
        traefik.enable: true
        traefik.http.services.${STACK_NAME}.loadbalancer.server.port: 2368
        traefik.http.routers.${STACK_NAME}.rule: Host(`${DOMAIN}`)
        coop-cloud.${STACK_NAME}.version: 2.0.0+6.44.1
""",
)


def test_labels_rewritten_as_mapping_is_no_change():
    assert LABELS_MAPPING != UPGRADED
    report = classify_changes([COMPOSE], {"compose.yml": UPGRADED}, {"compose.yml": LABELS_MAPPING})
    assert report.verdict_kind() == "none" and report.upgrade == []


def test_version_label_in_mapping_form_is_upgrade():
    base = LABELS_MAPPING.replace("version: 2.0.0+6.44.1", "version: 1.3.0+6.42.0")
    report = classify_changes([COMPOSE], {"compose.yml": base}, {"compose.yml": LABELS_MAPPING})
    assert [(c.path, c.before, c.after) for c in report.upgrade] == [
        (VERSION_LABEL, "1.3.0+6.42.0", "2.0.0+6.44.1")
    ]
    assert report.verdict_kind() == "none"


def test_version_label_from_list_to_mapping_is_upgrade():
    report = classify_changes([COMPOSE], {"compose.yml": BASE}, {"compose.yml": LABELS_MAPPING})
    assert report.verdict_kind() == "none"
    assert VERSION_LABEL in _paths(report.upgrade)


def test_environment_mapping_vs_list():
    head = UPGRADED.replace(
        "      - MYSQL_DATABASE=ghost\n      - MYSQL_USER=ghost\n      - MYSQL_RANDOM_ROOT_PASSWORD=yes\n",
        '      MYSQL_DATABASE: ghost\n      MYSQL_USER: ghost\n      MYSQL_RANDOM_ROOT_PASSWORD: "yes"\n',
    )
    report = classify_changes([COMPOSE], {"compose.yml": UPGRADED}, {"compose.yml": head})
    assert report.verdict_kind() == "none"


# --- file status and errors -------------------------------------------------------------------


def test_added_compose_file_is_other():
    files = [{"filename": "compose.smtp.yml", "status": "added"}]
    head = {"compose.smtp.yml": "services:\n  app:\n    environment:\n      - SMTP_HOST=mail\n"}
    report = classify_changes(files, {}, head)
    assert report.verdict_kind() == "beyond"
    assert _paths(report.other) == {"services.app.environment.SMTP_HOST"}


def test_renamed_compose_file_is_other_even_if_identical():
    files = [{"filename": "compose.yaml", "status": "renamed", "previous_filename": "compose.yml"}]
    report = classify_changes(files, {"compose.yml": UPGRADED}, {"compose.yaml": UPGRADED})
    assert [(c.file, c.path, c.before, c.after) for c in report.other] == [
        ("compose.yaml", "", "compose.yml", "compose.yaml")
    ]


def test_deleted_compose_file_is_other():
    files = [{"filename": "compose.smtp.yml", "status": "deleted"}]
    report = classify_changes(
        files, {"compose.smtp.yml": "services:\n  app:\n    environment:\n      - A=1\n"}, {}
    )
    assert report.verdict_kind() == "beyond"


def test_extension_fields_are_judged_where_used():
    base = (
        "x-deploy: &deploy\n  update_config:\n    monitor: 5s\nservices:\n  db:\n    image: mysql:8.0\n"
        "    deploy: *deploy\n"
    )
    head = base.replace("monitor: 5s", "monitor: 300s").replace("mysql:8.0", "mysql:8.4")
    report = classify_changes([COMPOSE], {"compose.yml": base}, {"compose.yml": head})
    assert report.verdict_kind() == "timing"
    assert [c.path for c in report.timing] == ["services.db.deploy.update_config.monitor"]


def test_unparseable_yaml_names_file_and_side():
    with pytest.raises(ComposeError, match=r"compose\.yml at the head sha abc1234: YAML does not parse"):
        classify_changes(
            [COMPOSE], {"compose.yml": BASE}, {"compose.yml": "services: [unclosed\n"}, head_sha="abc1234"
        )
    with pytest.raises(ComposeError, match=r"compose\.yml at the base sha"):
        classify_changes([COMPOSE], {"compose.yml": "a: b: c\n"}, {"compose.yml": BASE})


def test_non_mapping_compose_is_an_error():
    with pytest.raises(ComposeError, match="not a mapping"):
        classify_changes([COMPOSE], {"compose.yml": BASE}, {"compose.yml": "- a\n- b\n"})


def test_compose_text_missing_on_both_sides_is_an_error():
    with pytest.raises(ComposeError, match="no text"):
        classify_changes([COMPOSE], {}, {"compose.yml": None})


def test_modified_file_missing_on_one_side_is_an_error_not_a_change():
    import pytest

    from ghostgates.judge.compose_diff import ComposeError, classify_changes

    files = [{"filename": "compose.yml", "status": "modified"}]
    with pytest.raises(ComposeError, match="no text at the base sha"):
        classify_changes(files, {"compose.yml": None}, {"compose.yml": "services: {}\n"})
