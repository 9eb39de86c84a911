"""Write the trigger's test worlds from ../shared/worlds/preproxy-only.yaml (no post-proxy testme yet).

Each world changes one thing the pre-flight checks look at. Run from the repo root:
    .venv/bin/python tests/trigger/worlds/make_worlds.py
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parents[3] / "shared" / "worlds" / "preproxy-only.yaml"

# The pre-proxy red build #50's log: a MySQL data-dir upgrade paused under Swarm's monitor.
TIMING_LOG = """\
+ abra app upgrade ghos-7f00aa.ci.example.org 2.0.0+6.44.1 --no-input
db: 2026-06-15T12:05:02.877Z 1 [System] [MY-011012] [Server] Starting upgrade of data directory.
db: 2026-06-15T12:05:03.101Z 1 [System] [MY-013381] [Server] Server upgrade from '80036' to '80404' started.
db: healthcheck: mysqladmin: connect to server at 'localhost' failed
ghos-7f00aa_db: UpdateStatus=paused message="update paused due to failure or early termination of task q1w2"
error: upgrade of ghos-7f00aa_ci_example_org did not complete: service db update paused
test upgrade: FAILED (upgrade)
"""


def _pr(world: dict[str, Any], number: int) -> dict[str, Any]:
    return next(p for p in world["gitea"]["repos"]["recipe-maintainers/ghost"]["pulls"] if p["number"] == number)


def _builds(world: dict[str, Any]) -> list[dict[str, Any]]:
    return world["drone"]["repos"]["recipe-maintainers/cc-ci"]["builds"]


def _testme_with_build(world: dict[str, Any], comment_id: int, at: str, build: int, created: int,
                       status: str = "success", finished: bool = True) -> None:
    pr = _pr(world, 4)
    pr["comments"].append({"id": comment_id, "user": {"login": "builder"}, "body": "!testme",
                           "created_at": at, "updated_at": at})
    entry: dict[str, Any] = {
        "number": build, "status": status, "event": "custom", "ref": "refs/heads/main",
        "before": "cc1c1c1c0ffee0000000000000000000000000c1", "after": "cc1c1c1c0ffee0000000000000000000000000c1",
        "params": {"RECIPE": "ghost", "PR": "4", "REF": pr["head"]["sha"]},
        "created": created, "started": created + 10, "finished": created + 1210 if finished else 0,
        "updated": created + 10, "sender": "cc-ci", "trigger": "cc-ci",
        "stages": [{"name": "default", "status": status,
                    "steps": [{"name": "upgrade", "status": status,
                               "log": "test upgrade: PASSED" if finished else ""}]}],
    }
    _builds(world).append(entry)


def worlds(base: dict[str, Any]) -> dict[str, dict[str, Any]]:
    base = copy.deepcopy(base)
    base["bridge"] = {"login": "cc-ci", "poster": "builder", "speed": 600,
                      "triggers": [{"outcome": "success", "duration": 1200}]}
    out: dict[str, dict[str, Any]] = {}

    def variant(name: str, about: str) -> dict[str, Any]:
        world = copy.deepcopy(base)
        world["world"] = f"trigger-{name}"
        world["about"] = about
        out[name] = world
        return world

    variant("green", "preproxy-only with the bridge: one clean post-proxy testme that ends green")

    red = variant("red", "the post-proxy testme ends red: the db update pauses during the MySQL upgrade")
    red["bridge"]["triggers"] = [{"outcome": "failure", "duration": 1500, "log": TIMING_LOG}]

    blackout = variant("blackout", "a broad CI sweep owns the CI right now")
    blackout["phase"]["blackouts"].append(
        {"name": "cfold CI sweep", "start": "2026-06-15T11:00:00Z", "end": "2026-06-15T14:00:00Z"})

    soon = variant("blackout-soon", "proxy maintenance begins in 15 minutes, inside a normal run")
    soon["phase"]["blackouts"].append(
        {"name": "proxy maintenance 2", "start": "2026-06-15T12:15:00Z", "end": "2026-06-15T13:00:00Z"})

    spent = variant("budget-spent", "three post-proxy testmes already ran on PR #4")
    for i, (at, created) in enumerate((("2026-06-14T12:00:00Z", 1781438410), ("2026-06-14T16:00:00Z", 1781452810),
                                      ("2026-06-15T08:00:00Z", 1781510410))):
        _testme_with_build(spent, 601 + i, at, 55 + i, created)

    waived = variant("budget-waived", "three post-proxy testmes, and an operator's waiver allows a fourth")
    for i, (at, created) in enumerate((("2026-06-14T12:00:00Z", 1781438410), ("2026-06-14T16:00:00Z", 1781452810),
                                      ("2026-06-15T08:00:00Z", 1781510410))):
        _testme_with_build(waived, 601 + i, at, 55 + i, created)
    waived["phase"]["waivers"] = [{"requirement": "M1.attempt-budget", "allow": 4, "by": "operator",
                                   "reason": "one more run after the monitor fix"}]

    proxy = variant("proxy-full", "the proxy overlay is nearly full again")
    proxy["swarm"]["networks"][0]["used_addresses"] = 250

    running = variant("running", "a post-proxy testme's build is still running")
    _testme_with_build(running, 601, "2026-06-15T11:50:00Z", 55, 1781524205, status="running", finished=False)

    closed = variant("closed", "the correct PR was closed")
    pr = _pr(closed, 4)
    pr.update({"state": "closed", "closed_at": "2026-06-15T11:30:00Z"})

    outsider = variant("outsider", "the token belongs to someone outside the organisation")
    outsider["bridge"]["poster"] = "outsider"
    return out


def main() -> None:
    base = yaml.safe_load(SOURCE.read_text())
    for name, world in worlds(base).items():
        (HERE / f"{name}.yaml").write_text(yaml.safe_dump(world, sort_keys=False, width=200))


if __name__ == "__main__":
    main()
