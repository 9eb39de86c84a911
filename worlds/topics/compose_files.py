"""Which files are the recipe's compose files (gates.md "Other recipes' phases"): "A recipe's compose
files are `compose.yml` and every `compose.*.yml` at its root."

A compose-like file elsewhere (a `docker-compose.yml` left at the root by an older layout, a
`deploy/compose.yml` in a folder) is not one of them, so:
- its images decide no signature family (the tables that apply are `infra` and the families whose
  images "the PR's compose files run"): the same MariaDB image change, in a root `compose.*.yml`
  (the mariadb table applies and contradicts a recipe-bug claim) and in each of the other two
  (only `infra` and `mysql` apply, and they show nothing against it);
- for `M2.fix-minimal` a change to it is no compose file's deploy-timing key nor the upgrade
  itself, but a change beyond the upgrade (as `.drone.yml`'s is, docs/corners.md): the same
  justified `update_config` fix, in a root `compose.*.yml` (pass) and in each of the other two (fail).
"""

from __future__ import annotations

import copy

from make_worlds import CORRECT, FIX_SHA, World, build, head, mut, pull, repo, sub_state, timing_fix

LINE = "gates.md: \"A recipe's compose files are `compose.yml` and every `compose.*.yml` at its root.\""
ROOT_OVERLAY = "compose.mariadb.yml"
NOT_COMPOSE = (("docker-compose", "docker-compose.yml"), ("nested-compose", "deploy/compose.yml"))


def mariadb(tag: str) -> str:
    return f"""\
---
version: "3.8"

services:
  db:
    image: mariadb:{tag}
    environment:
      - MARIADB_AUTO_UPGRADE=1
"""


# MariaDB's entrypoint started mariadb-upgrade and the log never shows it finished: the mariadb
# table's timing signature (judge/signatures/mariadb.toml, mariadb-upgrade-unfinished); nothing in
# the infra or mysql tables.
MARIADB_UNFINISHED_280 = """\
+ abra app upgrade ghos-bdd2f3.ci.example.org 2.0.0+6.44.1 --no-input
db: 2026-07-12 18:52:02+00:00 [Note] [Entrypoint]: Starting mariadb-upgrade
db: 2026-07-12 18:52:02+00:00 [Note] [Entrypoint]: Temporary server started.
error: ghos-bdd2f3_ci_example_org not healthy after 300s
test upgrade: FAILED (upgrade)
"""
CLASSIFIED_280 = ("recipe-timing. The db update paused while MySQL upgraded its\n  data directory under sweep load; "
                  "build #287 shows the upgrade finishing in 39 s.")


def mariadb_image_change(w: World, path: str) -> None:
    """The PR moves a MariaDB image from 10.11 to 11.4 in `path`; build #280's log shows only
    MariaDB's unfinished upgrade, and the state file calls it recipe-bug."""
    p = pull(w, CORRECT)
    contents = repo(w)["contents"]
    base, tip = p["base"]["sha"], head(w)
    contents[base][path] = mariadb("10.11")
    contents[tip][path] = mariadb("11.4")
    p["files"].append({"filename": path, "status": "modified", "additions": 1, "deletions": 1})
    step = build(w, 280)["stages"][0]["steps"][0]
    step["log"] = MARIADB_UNFINISHED_280
    sub_state(w, CLASSIFIED_280, "recipe-bug. The db would not come up on MariaDB 11.4.")


# ---- (a) the images of the recipe's compose files decide the signature families ----------------
@mut("compose-files-root-overlay-runs-mariadb", f"{LINE} The PR moves {ROOT_OVERLAY} (a root compose.*.yml) "
     "from mariadb:10.11 to 11.4: the mariadb table applies, and build #280's unfinished mariadb-upgrade "
     "(timing) contradicts the state file's recipe-bug; the image change is the upgrade itself",
     fail=("M1.no-stale-evidence", "M2.classified"))
def _root_overlay_family(w: World) -> None:
    mariadb_image_change(w, ROOT_OVERLAY)


def _not_compose_family(slug: str, path: str) -> None:
    @mut(f"compose-files-{slug}-runs-mariadb", f"{LINE} The same mariadb:10.11 to 11.4 change, in {path}: not "
         "one of the recipe's compose files, so its image decides no family (infra and mysql apply, and show "
         "nothing against recipe-bug), and for M2.fix-minimal it is a changed file beyond the upgrade",
         fail=("M2.fix-minimal",))
    def _world(w: World) -> None:
        mariadb_image_change(w, path)


# ---- (b) only the recipe's compose files carry deploy-timing keys --------------------------
# An overlay holding only the fix (no `version:`: a key of its own would be a change beyond the upgrade).
TIMING_OVERLAY = """\
---
services:
  db:
    deploy:
      update_config:
        monitor: 300s
        failure_action: rollback
"""


def timing_fix_in(w: World, path: str) -> None:
    """fix-timing-justified's fix (build #287 red, update_config.monitor 300s, justified, build #288 green),
    made not in compose.yml but in a file `path` the fix commit adds."""
    files = copy.deepcopy(pull(w, CORRECT)["files"])
    compose = repo(w)["contents"][head(w)]["compose.yml"]
    timing_fix(w)
    fixed = repo(w)["contents"][FIX_SHA]
    fixed["compose.yml"] = compose
    fixed[path] = TIMING_OVERLAY
    pull(w, CORRECT)["files"] = [*files, {"filename": path, "status": "added", "additions": 9, "deletions": 0}]


@mut("compose-files-timing-fix-in-root-overlay", f"{LINE} fix-timing-justified's update_config fix, in a root "
     "compose.timing.yml the fix adds: a compose file's deploy-timing keys, justified",
     passes=("M2.fix-minimal",))
def _root_overlay_timing(w: World) -> None:
    timing_fix_in(w, "compose.timing.yml")


def _not_compose_timing(slug: str, path: str) -> None:
    @mut(f"compose-files-timing-fix-in-{slug}", f"{LINE} The same justified update_config fix, in {path}: not "
         "one of the recipe's compose files, so no deploy-timing key but a change beyond the upgrade",
         fail=("M2.fix-minimal",))
    def _world(w: World) -> None:
        timing_fix_in(w, path)


for slug, path in NOT_COMPOSE:
    _not_compose_family(slug, path)
    _not_compose_timing(slug, path)
