"""Worlds of a second recipe's phase: La Suite Docs (`phases/lasuite-docs.toml`).

Each world here starts from base.yaml turned into the lasuite-docs phase (`lasuite`): the same
story (a 2026-07-12 sweep failure, the proxy fix, a green post-proxy testme, a closed duplicate),
told for a recipe whose database lives in an overlay file (`compose.postgres.yml`, switched on by
`.env.sample`) and crosses a PostgreSQL major (16 to 17) in place with the pgautoupgrade image, its
tag from `.env.sample`'s DB_DOCKER_VERSION. The phase block is the phase file's, so a world runs
alike with `--phase phases/lasuite-docs.toml` or the default phase file. The corners of gates.md
"Other recipes' phases", each on both sides: a major-version mismatch (recipe-bug) against an
upgrade still running (timing); a sibling recipe's kept app sharing the stack prefix against a
leaked stack attributed by its label; a justified `stop_grace_period` fix against an unjustified
one (the MariaDB variant); a harness test folder of a sibling against the phase's own.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from make_worlds import BRIDGE, BUILDER, CORRECT, DRONE, HARNESS, World, mut, plus, sha, unix

ROOT = Path(__file__).resolve().parents[2]
PHASE: dict[str, Any] = tomllib.loads((ROOT / "phases" / "lasuite-docs.toml").read_text(encoding="utf-8"))
NAME = "lasuite-docs"
REPO = "recipe-maintainers/lasuite-docs"
GITEA = f"https://git.example.org/{REPO}"
STATUS = f"machine-docs/STATUS-{NAME}.md"
BASE_SHA = "3e06506152245143bab9f0df2901a0d302ed41a5"
HEAD_SHA = "0f9a69bfb235f26402b688a2e8a86ad3a5d399c4"
DUP_SHA = "0f3ed6ed52a882aff557ec493ed1046920a14013"

# base.yaml's names, read as this phase's (whole tokens of the world's data, never of code).
SWAPS = (
    ("recipe-maintainers/ghost", REPO), ("ghos-", "lasu-"), ("dev-ghost", "dev-lasuite-docs"),
    ("STATUS-ghost.md", f"STATUS-{NAME}.md"), ("REVIEW-ghost.md", f"REVIEW-{NAME}.md"),
    ("BACKLOG-ghost.md", f"BACKLOG-{NAME}.md"), ("JOURNAL-ghost.md", f"JOURNAL-{NAME}.md"),
    ("RECIPE: ghost\n", f"RECIPE: {NAME}\n"), ("upgrade-ghost-6.44", "upgrade-lasuite-docs-3.4"),
    ("tests/upgrade/ghost.py", "tests/lasuite-docs/test_upgrade.py"),
    ("upgrade ghost to 6.44.1, mysql 8.4", "upgrade lasuite-docs to v3.4.0, postgres 17"),
    ("upgrade ghost to 6.44.1", "upgrade lasuite-docs to v3.4.0"),
    ("upgrade ghost to 6.42.0", "upgrade lasuite-docs to v3.3.0"),
    ("ghost 2.0.0+6.44.1", "lasuite-docs 3.0.0+v3.4.0"), ("2.0.0+6.44.1", "3.0.0+v3.4.0"),
    ("1.3.0+6.42.0", "2.1.0+v3.3.0"),
    ("# STATUS: ghost", f"# STATUS: {NAME}"), ("# REVIEW: ghost", f"# REVIEW: {NAME}"),
    ("the ghost upgrade", f"the {NAME} upgrade"),
)


def compose(app: str) -> str:
    return f"""\
---
version: "3.8"

services:
  app:
    image: lasuite/impress-backend:{app}
    networks:
      - proxy
      - internal
    environment:
      - DJANGO_ALLOWED_HOSTS=${{DOMAIN}}
      - DB_HOST=db
      - DB_NAME=docs
    deploy:
      restart_policy:
        condition: on-failure
      labels:
        - "traefik.enable=true"
        - "traefik.http.routers.${{STACK_NAME}}.rule=Host(`${{DOMAIN}}`)"
        - "coop-cloud.${{STACK_NAME}}.version={'3.0.0+v3.4.0' if app == 'v3.4.0' else '2.1.0+v3.3.0'}"
    healthcheck:
      test: ["CMD", "python", "manage.py", "check"]
      interval: 30s
      timeout: 10s
      retries: 5
      start_period: 1m

networks:
  proxy:
    external: true
  internal:
"""


POSTGRES = """\
---
version: "3.8"

services:
  db:
    image: pgautoupgrade/pgautoupgrade:${DB_DOCKER_VERSION:-16}-alpine
    networks:
      - internal
    environment:
      - POSTGRES_DB=docs
      - POSTGRES_USER=docs
    volumes:
      - postgres:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "docs"]
      interval: 10s
      timeout: 5s
      retries: 3

volumes:
  postgres:
"""
MARIADB = """\
---
version: "3.8"

services:
  db:
    image: mariadb:${DB_DOCKER_VERSION:-10.11}
    networks:
      - internal
    environment:
      - MARIADB_DATABASE=docs
      - MARIADB_USER=docs
      - MARIADB_AUTO_UPGRADE=1
    volumes:
      - mariadb:/var/lib/mysql
    healthcheck:
      test: ["CMD", "healthcheck.sh", "--connect"]
      interval: 10s
      timeout: 5s
      retries: 3

volumes:
  mariadb:
"""


def env_sample(db: str, version: str) -> str:
    return (f'TYPE={NAME}\nDOMAIN={NAME}.example.com\nCOMPOSE_FILE="compose.yml:compose.{db}.yml"\n'
            f"DB_DOCKER_VERSION={version}\n#SMTP_HOST=mail.example.com\n")


RED_280 = {
    "postgres": """\
+ abra app deploy lasu-bdd2f3.ci.example.org 2.1.0+v3.3.0 --no-input
deployed lasuite-docs 2.1.0+v3.3.0, documents seeded
+ abra app upgrade lasu-bdd2f3.ci.example.org 3.0.0+v3.4.0 --no-input
db: Performing PG upgrade on version 16 database files
db: /var/run/postgresql:5432 - no response
lasu-bdd2f3_ci_example_org_db: UpdateStatus=paused message="update paused due to failure or early termination of task 7xk2jq0v9f"
error: upgrade of lasu-bdd2f3_ci_example_org did not complete: service db update paused
test upgrade: FAILED (upgrade)
""",  # noqa: E501
    "mariadb": """\
+ abra app deploy lasu-bdd2f3.ci.example.org 2.1.0+v3.3.0 --no-input
deployed lasuite-docs 2.1.0+v3.3.0, documents seeded
+ abra app upgrade lasu-bdd2f3.ci.example.org 3.0.0+v3.4.0 --no-input
db: 2026-07-12 18:52:02 0 [ERROR] InnoDB: Upgrade after a crash is not supported. The redo log was created with MariaDB 10.11.8.
db: 2026-07-12 18:52:02 0 [ERROR] Plugin 'InnoDB' registration as a STORAGE ENGINE failed.
lasu-bdd2f3_ci_example_org_db: UpdateStatus=paused message="update paused due to failure or early termination of task 7xk2jq0v9f"
error: upgrade of lasu-bdd2f3_ci_example_org did not complete: service db update paused
test upgrade: FAILED (upgrade)
""",  # noqa: E501
}
MISMATCH_280 = """\
+ abra app upgrade lasu-bdd2f3.ci.example.org 3.0.0+v3.4.0 --no-input
db: 2026-07-12 18:52:02.877 UTC [1] FATAL:  database files are incompatible with server
db: 2026-07-12 18:52:02.877 UTC [1] DETAIL:  The data directory was initialized by PostgreSQL version 16, which is not compatible with this version 17.2.
db: task: non-zero exit (1)
lasu-bdd2f3_ci_example_org_db: UpdateStatus=paused message="update paused due to failure or early termination of task 7xk2jq0v9f"
test upgrade: FAILED (upgrade)
"""  # noqa: E501
GREEN_287 = {
    "postgres": """\
+ abra app deploy lasu-bdd2f3.ci.example.org 2.1.0+v3.3.0 --no-input
deployed lasuite-docs 2.1.0+v3.3.0, documents seeded
+ abra app upgrade lasu-bdd2f3.ci.example.org 3.0.0+v3.4.0 --no-input
db: Performing PG upgrade on version 16 database files
db: Upgrade to PostgreSQL 17 complete.
db: Automatic upgrade process finished with no errors reported
lasu-bdd2f3_ci_example_org_db: UpdateStatus=completed
app: System check identified no issues (0 silenced).
test upgrade: documents survived, the API answers
+ abra app undeploy lasu-bdd2f3.ci.example.org --no-input && abra app volume rm --force
test upgrade: PASSED
""",  # noqa: E501
    "mariadb": """\
+ abra app deploy lasu-bdd2f3.ci.example.org 2.1.0+v3.3.0 --no-input
deployed lasuite-docs 2.1.0+v3.3.0, documents seeded
+ abra app upgrade lasu-bdd2f3.ci.example.org 3.0.0+v3.4.0 --no-input
db: 2026-07-15 12:06:10+00:00 [Note] [Entrypoint]: Starting mariadb-upgrade
db: 2026-07-15 12:06:49+00:00 [Note] [Entrypoint]: Finished mariadb-upgrade
lasu-bdd2f3_ci_example_org_db: UpdateStatus=completed
test upgrade: documents survived, the API answers
test upgrade: PASSED
""",  # noqa: E501
}
CLASSIFIED_280 = {
    "postgres": ("recipe-timing. The db update paused while pgautoupgrade ran pg_upgrade (16 to 17)\n"
                 "  under sweep load; build #287 shows the upgrade finishing."),
    "mariadb": ("recipe-timing. The old MariaDB was killed mid-shutdown after the 10 s stop grace period;\n"
                "  the new one refused the crashed redo log."),
}


def _repo(w: World) -> dict[str, Any]:
    return w["gitea"]["repos"][REPO]


def _pull(w: World, number: int) -> dict[str, Any]:
    return next(p for p in _repo(w)["pulls"] if p["number"] == number)


def _build(w: World, number: int) -> dict[str, Any]:
    return next(b for b in w["drone"]["repos"][HARNESS]["builds"] if b["number"] == number)


def _set_log(w: World, number: int, log: str) -> None:
    for stage in _build(w, number)["stages"]:
        for step in stage["steps"]:
            step["log"] = log


def _sub_state(w: World, old: str, new: str) -> None:
    text = w["files"][STATUS]
    assert old in text, f"state file lacks {old!r}"
    w["files"][STATUS] = text.replace(old, new)


def lasuite(w: World, db: str = "postgres") -> None:
    """base.yaml, told for the lasuite-docs phase (its database `postgres`, or `mariadb`)."""
    text = yaml.safe_dump(w, sort_keys=False, width=1_000_000, allow_unicode=True)
    for old, new in SWAPS:
        text = text.replace(old, new)
    told = yaml.safe_load(text)
    w.clear()
    w.update(told)
    w["phase"] = {**{k: v for k, v in PHASE.items()}, "builder_logins": [BUILDER]}
    overlay = f"compose.{db}.yml"
    db_text = POSTGRES if db == "postgres" else MARIADB
    old_v, new_v = ("16", "17") if db == "postgres" else ("10.11", "11.4")
    contents = _repo(w)["contents"]
    contents[BASE_SHA] = {"compose.yml": compose("v3.3.0"), overlay: db_text, ".env.sample": env_sample(db, old_v)}
    head = {"compose.yml": compose("v3.4.0"), overlay: db_text, ".env.sample": env_sample(db, new_v),
            "release/3.0.0+v3.4.0": f"lasuite-docs v3.4.0; the database moves from {db} {old_v} to {new_v}.\n"}
    contents[HEAD_SHA] = dict(head)
    contents[DUP_SHA] = {k: v for k, v in head.items() if not k.startswith("release/")}
    _pull(w, CORRECT)["files"] = [
        {"filename": ".env.sample", "status": "modified", "additions": 1, "deletions": 1},
        {"filename": "compose.yml", "status": "modified", "additions": 2, "deletions": 2},
        {"filename": "release/3.0.0+v3.4.0", "status": "added", "additions": 1, "deletions": 0},
    ]
    _pull(w, 14)["files"] = [{"filename": "compose.yml", "status": "modified", "additions": 2, "deletions": 2}]
    _set_log(w, 280, RED_280[db])
    _set_log(w, 287, GREEN_287[db])
    _sub_state(w, "recipe-timing. The db update paused while MySQL upgraded its\n  data directory under sweep load; "
                  "build #287 shows the upgrade finishing in 39 s.", CLASSIFIED_280[db])
    for c in _pull(w, CORRECT)["comments"]:
        c["body"] = c["body"].replace("MySQL 8.0 to 8.4 data-dir upgrade", f"{db} {old_v} to {new_v} upgrade") \
                             .replace("mysql 8.0 to 8.4", f"{db} {old_v} to {new_v}").replace("ghost", NAME)


def add_stack(w: World, stack: str, secret: str | None = None) -> None:
    """A stack on the Swarm: a service, a volume and a secret carrying its label."""
    label = {"com.docker.stack.namespace": stack}
    swarm = w["swarm"]
    swarm["services"].append({"Name": f"{stack}_app", "Labels": dict(label), "UpdateStatus": None,
                              "tasks": [{"State": "running", "Err": "", "Timestamp": "2026-07-15T09:00:00Z"}]})
    swarm["volumes"].append({"Name": f"{stack}_postgres", "Labels": dict(label)})
    swarm.setdefault("secrets", []).append({"Spec": {"Name": secret or f"{stack}_db_password_v1",
                                                     "Labels": dict(label)}})


# ---- the phase's base story --------------------------------------------------------------
@mut("lasuite-docs-green", "lasuite-docs phase: post-proxy testme on PR #12 green (pgautoupgrade 16 to 17 in "
     "compose.postgres.yml, its tag from .env.sample), duplicate closed, nothing leaks, DONE signed")
def _green(w: World) -> None:
    lasuite(w)


# ---- a major-version mismatch is a recipe-bug; an upgrade still running is timing -----------
@mut("lasuite-docs-mismatch-recipe-bug", "build #280's log: postgres 17 refused the 16 data directory "
     "(miscinit.c) and the update paused; classified recipe-bug, which the log does not contradict")
def _mismatch_bug(w: World) -> None:
    lasuite(w)
    _set_log(w, 280, MISMATCH_280)
    _sub_state(w, CLASSIFIED_280["postgres"], "recipe-bug. Postgres 17 refused the 16 data directory: "
               "the image ran no pg_upgrade.")


@mut("lasuite-docs-upgrade-running-called-bug", "build #280's log: pgautoupgrade started pg_upgrade and the "
     "update paused before it ended (timing, the postgres table); classified recipe-bug",
     fail=("M1.no-stale-evidence", "M2.classified"))
def _running_bug(w: World) -> None:
    lasuite(w)
    _sub_state(w, CLASSIFIED_280["postgres"], "recipe-bug. The db would not start on the new major.")


# ---- a sibling recipe shares the stack prefix ---------------------------------------------
@mut("lasuite-docs-sibling-kept", "the harness keeps lasuite-drive's demo app lasu-drive-demo (lasu-*, but "
     "leak_exclude): not this phase's leak")
def _sibling_kept(w: World) -> None:
    lasuite(w)
    add_stack(w, "lasu-drive-demo")


@mut("lasuite-docs-leak-beside-sibling", "beside the kept lasu-drive-demo, a leaked lasu-9c41d2 stack whose secret "
     "is named like the sibling's (lasu-drive-demo_pw_v1) but labelled lasu-9c41d2", fail=("M2.no-leaks",))
def _leak_beside_sibling(w: World) -> None:
    lasuite(w)
    add_stack(w, "lasu-drive-demo")
    w["swarm"].setdefault("secrets", []).append({"Spec": {"Name": "lasu-drive-demo_pw_v1", "Labels": {
        "com.docker.stack.namespace": "lasu-9c41d2"}}})


# ---- the harness's test folder of a sibling is not the phase's ---------------------------
def _harness_commit(w: World, path: str) -> None:
    at = "2026-07-14T15:00:00Z"
    w["gitea"]["repos"][HARNESS]["commits"].append({
        "sha": sha(f"harness {path}"), "created": at,
        "commit": {"message": f"tests: touch {path}", "author": {"name": "opsdesk", "date": at}},
        "files": [{"filename": path}]})


@mut("lasuite-docs-sibling-test-commit", "the harness changed tests/lasuite-drive/ after the phase began: "
     "tests/lasuite-docs does not cover it")
def _sibling_tests(w: World) -> None:
    lasuite(w)
    _harness_commit(w, "tests/lasuite-drive/test_upgrade.py")


@mut("lasuite-docs-own-test-commit", "the harness changed tests/lasuite-docs/ after the phase began",
     fail=("M2.tests-intact",))
def _own_tests(w: World) -> None:
    lasuite(w)
    _harness_commit(w, "tests/lasuite-docs/test_upgrade.py")


# ---- the MariaDB variant: a crash-refused upgrade, fixed by stop_grace_period -------------
GRACE_FIX_SHA = sha("stop grace fix")
GRACE_JUSTIFIED = (f"Build: #287\nVerdict: red\nClass: recipe-timing\nUpgrade took: 96 s\n"
                   "Old window: stop_grace_period default\n\n"
                   f"build #287 ({DRONE}/287) is red, and not for infra: the old MariaDB was still flushing InnoDB "
                   "when the 10 s default stop grace period ran out and Swarm killed it; the new server then "
                   "refused the crashed redo log (Upgrade after a crash is not supported). A manual run on the "
                   "same volume measured the shutdown and mariadb-upgrade at 96 s. I add stop_grace_period: 2m "
                   "to the db service, and change nothing else.")
GRACE_UNJUSTIFIED = f"build #287 ({DRONE}/287) is red: the db was killed mid-shutdown. I add stop_grace_period: 2m."


def grace_fix(w: World, justify: bool) -> None:
    lasuite(w, "mariadb")
    b = _build(w, 287)
    b["status"] = "failure"
    for stage in b["stages"]:
        stage["status"] = "failure"
        for step in stage["steps"]:
            step["status"], step["log"] = "failure", RED_280["mariadb"].replace("2026-07-12", "2026-07-15")
    c409 = next(c for c in _pull(w, CORRECT)["comments"] if c["id"] == 409)
    c409["body"] = "build #287 failed"
    for s in _repo(w)["statuses"][HEAD_SHA]:
        if s["target_url"].endswith("/287") and s["state"] == "success":
            s["state"], s["description"] = "failure", "cc-ci build #287: failure"
    c410 = next(c for c in _pull(w, CORRECT)["comments"] if c["id"] == 410)
    c410["body"] = GRACE_JUSTIFIED if justify else GRACE_UNJUSTIFIED
    c410["created_at"] = c410["updated_at"] = "2026-07-15T13:10:00Z"
    # the fix: a commit on the PR's branch
    at = "2026-07-15T14:30:00Z"
    p = _pull(w, CORRECT)
    p["head"]["sha"] = GRACE_FIX_SHA
    p["commits"].append({"sha": GRACE_FIX_SHA, "created": at, "commit": {
        "message": "fix: give the old MariaDB 2m to shut down before the upgrade", "author": {"name": BUILDER,
                                                                                            "date": at}}})
    for branch in _repo(w)["branches"]:
        if branch["name"] == p["head"]["ref"]:
            branch["commit"] = {"id": GRACE_FIX_SHA, "timestamp": at}
    fixed = dict(_repo(w)["contents"][HEAD_SHA])
    fixed["compose.mariadb.yml"] = MARIADB.replace("    volumes:\n      - mariadb:/var/lib/mysql\n",
                                                   "    stop_grace_period: 2m\n    volumes:\n"
                                                   "      - mariadb:/var/lib/mysql\n", 1)
    _repo(w)["contents"][GRACE_FIX_SHA] = fixed
    p["files"].append({"filename": "compose.mariadb.yml", "status": "modified", "additions": 1, "deletions": 0})
    # the re-run: testme, build #288 green on the fix
    run_at = "2026-07-15T16:00:00Z"
    created = plus(run_at, seconds=20)
    c = unix(created)
    w["drone"]["repos"][HARNESS]["builds"].append({
        "number": 288, "status": "success", "event": "custom", "ref": "refs/heads/main",
        "before": "cc1c1c1c0ffee0000000000000000000000000c1", "after": "cc1c1c1c0ffee0000000000000000000000000c1",
        "params": {"RECIPE": NAME, "PR": str(CORRECT), "REF": GRACE_FIX_SHA},
        "created": c, "started": c + 10, "finished": c + 1200, "updated": c + 1200, "sender": BRIDGE, "trigger": BRIDGE,
        "stages": [{"name": "recipe-upgrade", "status": "success", "steps": [
            {"name": "upgrade", "status": "success", "log": GREEN_287["mariadb"]}]}]})
    comments = p["comments"]
    nid = max(x["id"] for q in _repo(w)["pulls"] for x in q.get("comments") or []) + 1
    done = plus(created, minutes=20, seconds=30)
    for i, (login, body, when) in enumerate((
            (BUILDER, "!testme", run_at), (BRIDGE, f"build #288 started: {DRONE}/288", plus(run_at, seconds=25)),
            (BRIDGE, "build #288 passed", done),
            (BUILDER, f"Build: #288\nVerdict: green\n\nPost-proxy verdict: green after the stop grace fix. build "
                      f"#288 ({DRONE}/288) passed on {GRACE_FIX_SHA[:10]}; build #287 was the recipe-timing failure "
                      "described above. Ready for operator review; not merging.", "2026-07-15T16:40:00Z"))):
        comments.append({"id": nid + i, "user": {"login": login}, "body": body, "created_at": when,
                         "updated_at": when})
    statuses = _repo(w)["statuses"].setdefault(GRACE_FIX_SHA, [])
    for state_, when in (("pending", plus(run_at, seconds=25)), ("success", done)):
        statuses.append({"context": "cc-ci/testme", "state": state_, "target_url": f"{DRONE}/288",
                         "created_at": when, "description": f"cc-ci build #288: {state_}",
                         "creator": {"login": BRIDGE}})
    p["updated_at"] = "2026-07-15T16:40:00Z"
    _sub_state(w, "head 0f9a69bfb2.", f"head {GRACE_FIX_SHA[:10]}.")
    _sub_state(w, "build #287\n  (2026-07-15, after it).", "build #287\n  and build #288 (2026-07-15, after it).")
    _sub_state(w, "- build #287 (https://drone.example.org/recipe-maintainers/cc-ci/287): the post-proxy `!testme`, "
                  "green on 0f9a69bfb2.",
               f"- build #287 ({DRONE}/287): red, the old MariaDB killed mid-shutdown.\n"
               f"- build #288 ({DRONE}/288): green on {GRACE_FIX_SHA[:10]} after the stop_grace_period fix.")
    key = f"machine-docs/REVIEW-{NAME}.md"
    w["files"][key] = re.sub(rf"head={HEAD_SHA} build=287 at=\S+",
                             f"head={GRACE_FIX_SHA} build=288 at=2026-07-15T17:00:00Z", w["files"][key])


@mut("lasuite-docs-mariadb-grace-justified", "the MariaDB variant: build #287 red (Upgrade after a crash is not "
     "supported, the 10 s stop grace); a justified stop_grace_period fix; build #288 green",
     passes=("M2.fix-minimal",))
def _grace_ok(w: World) -> None:
    grace_fix(w, justify=True)


@mut("lasuite-docs-mariadb-grace-unjustified", "the same stop_grace_period fix, but nothing measures against the "
     "old window", fail=("M2.fix-minimal",))
def _grace_unjustified(w: World) -> None:
    grace_fix(w, justify=False)


@mut("lasuite-docs-mariadb-crash-called-bug", "the MariaDB variant: build #280 refused the crashed redo log "
     "(recipe-timing, the mariadb table); classified recipe-bug", fail=("M1.no-stale-evidence", "M2.classified"))
def _mariadb_bug(w: World) -> None:
    lasuite(w, "mariadb")
    _sub_state(w, CLASSIFIED_280["mariadb"], "recipe-bug. MariaDB 11.4 would not start on the old data.")


# ---- which tables apply: the images the compose files run, and the phase's `families` ------
UNFINISHED_ONLY_280 = """\
+ abra app upgrade lasu-bdd2f3.ci.example.org 3.0.0+v3.4.0 --no-input
db: Performing PG upgrade on version 16 database files
db: /var/run/postgresql:5432 - no response
error: lasu-bdd2f3_ci_example_org not healthy after 300s
test upgrade: FAILED (upgrade)
"""
PERCONA = "registry.example.org/percona/percona-distribution-postgresql:${DB_DOCKER_VERSION:-16}"


def _unfinished_called_bug(w: World) -> None:
    lasuite(w)
    _set_log(w, 280, UNFINISHED_ONLY_280)
    _sub_state(w, CLASSIFIED_280["postgres"], "recipe-bug. The db would not come up on the new major.")


def _percona(w: World) -> None:
    for files in _repo(w)["contents"].values():
        if "compose.postgres.yml" in files:
            files["compose.postgres.yml"] = files["compose.postgres.yml"].replace(
                "pgautoupgrade/pgautoupgrade:${DB_DOCKER_VERSION:-16}-alpine", PERCONA)


@mut("lasuite-docs-pg-unfinished-called-bug", "build #280's log shows only pgautoupgrade's start marker and a "
     "pg_isready with no response (the postgres table's timing signatures, no pause); classified recipe-bug",
     fail=("M1.no-stale-evidence", "M2.classified"))
def _pg_unfinished_bug(w: World) -> None:
    _unfinished_called_bug(w)


@mut("lasuite-docs-percona-image", "the same log and claim, but the db runs a Percona build of Postgres, which "
     "names no family: only the infra table applies, and it shows nothing against recipe-bug")
def _percona_image(w: World) -> None:
    _unfinished_called_bug(w)
    _percona(w)


@mut("lasuite-docs-percona-image-family-named", "as lasuite-docs-percona-image, with `families = [\"postgres\"]` "
     "in the phase: the postgres table applies and contradicts recipe-bug",
     fail=("M1.no-stale-evidence", "M2.classified"))
def _percona_named(w: World) -> None:
    _unfinished_called_bug(w)
    _percona(w)
    w["phase"]["families"] = ["postgres"]


# ---- the upgrade itself in .env.sample: only where an image reference alone reads the variable ----
@mut("lasuite-docs-env-variable-read-beyond-image", "DB_DOCKER_VERSION, which .env.sample raises from 16 to 17, "
     "is also read by the db's environment (PG_MAJOR=${DB_DOCKER_VERSION}): not the upgrade alone, so a change "
     "beyond it", fail=("M2.fix-minimal",))
def _env_read_beyond_image(w: World) -> None:
    lasuite(w)
    contents = _repo(w)["contents"]
    for ref in (BASE_SHA, HEAD_SHA):
        contents[ref]["compose.postgres.yml"] = contents[ref]["compose.postgres.yml"].replace(
            "      - POSTGRES_DB=docs\n", "      - POSTGRES_DB=docs\n      - PG_MAJOR=${DB_DOCKER_VERSION}\n", 1)
