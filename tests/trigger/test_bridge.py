"""The twin playing the CI bridge: who it obeys, what it posts, and its clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from twin import running_twin
from twin.bridge import Clock, is_testme
from twin.world import WorldError, load_world

from .conftest import world_path

REPO = "/repos/recipe-maintainers/ghost"
HARNESS = "/repos/recipe-maintainers/cc-ci"
HEAD = "a4c0ffee5b16e2d3c4b5a69788796a5b4c3d2e1f"


def _write(tmp_path: Path, change: Any, name: str = "w.yaml") -> Path:
    data = yaml.safe_load(world_path("green").read_text())
    change(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, width=200))
    return path


@pytest.fixture
def clients(request: pytest.FixtureRequest) -> Iterator[tuple[httpx.Client, httpx.Client, Any]]:
    world = getattr(request, "param", world_path("green"))
    with running_twin(world) as twin:
        gitea = _gitea(twin)
        drone = _drone(twin)
        with gitea, drone:
            yield gitea, drone, twin


def _gitea(twin: Any) -> httpx.Client:
    return httpx.Client(base_url=twin.gitea_url + "/api/v1", headers={"Authorization": f"token {twin.gitea_token}"})


def _drone(twin: Any) -> httpx.Client:
    return httpx.Client(base_url=twin.drone_url + "/api", headers={"Authorization": f"Bearer {twin.drone_token}"})


def _latest(drone: httpx.Client) -> dict[str, Any]:
    return drone.get(f"{HARNESS}/builds").json()[0]


def test_first_word_exactly() -> None:
    assert is_testme("!testme") and is_testme("  !testme please")
    assert not is_testme("!testmexyz") and not is_testme("please !testme") and not is_testme("")


def test_member_testme_starts_a_build_replies_and_sets_the_status(clients) -> None:
    gitea, drone, twin = clients
    posted = gitea.post(f"{REPO}/issues/4/comments", json={"body": "!testme"})
    assert posted.status_code == 201 and posted.json()["user"]["login"] == "builder"
    build = _latest(drone)
    assert build["number"] == 55 and build["event"] == "custom" and build["status"] in ("pending", "running")
    assert build["params"] == {"RECIPE": "ghost", "PR": "4", "REF": HEAD}
    assert build["created"] == int(twin.state.world.now.timestamp())
    time.sleep(0.05)
    comments = gitea.get(f"{REPO}/issues/4/comments").json()
    reply = comments[-1]
    assert reply["user"]["login"] == "cc-ci"
    link = f"{twin.drone_url}/recipe-maintainers/cc-ci/55"
    assert reply["body"] == f"build #55 started for recipe-maintainers/ghost PR #4: {link}"
    assert reply["created_at"] > posted.json()["created_at"]
    status = gitea.get(f"{REPO}/commits/{HEAD}/statuses").json()[0]
    assert (status["context"], status["status"], status["target_url"]) == (
        "cc-ci/testme", "pending", f"{twin.drone_url}/recipe-maintainers/cc-ci/55")
    time.sleep(2.3)  # 1210 world seconds at 600x
    build = drone.get(f"{HARNESS}/builds/55").json()
    assert build["status"] == "success" and build["finished"] - build["started"] == 1200
    assert [s["status"] for s in build["stages"][0]["steps"]] == ["success"] * 4
    assert drone.get(f"{HARNESS}/builds/55/logs/1/4").json()[0]["out"] == "test upgrade: PASSED\n"
    assert gitea.get(f"{REPO}/commits/{HEAD}/statuses").json()[0]["status"] == "success"
    # The world's clock has run on, and every service tells the same time.
    date = httpx.get(twin.gitea_url + "/api/v1/version").headers["date"]
    assert date != "Mon, 15 Jun 2026 12:00:00 GMT"


@pytest.mark.parametrize("body", ["!testmexyz", "please !testme", "testme"])
def test_not_a_testme(clients, body: str) -> None:
    gitea, drone, twin = clients
    gitea.post(f"{REPO}/issues/4/comments", json={"body": body})
    assert _latest(drone)["number"] == 54
    assert gitea.get(f"{REPO}/issues/4/comments").json()[-1]["body"] == body
    assert not twin.state.world.now != twin.state.gitea.now  # the clock never started


def test_non_member_does_nothing(tmp_path: Path) -> None:
    world = _write(tmp_path, lambda d: d["bridge"].update(poster="outsider"))
    with running_twin(world) as twin:
        with _gitea(twin) as gitea:
            posted = gitea.post(f"{REPO}/issues/4/comments", json={"body": "!testme"})
            assert posted.json()["user"]["login"] == "outsider"
            time.sleep(0.05)
            assert gitea.get(f"{REPO}/issues/4/comments").json()[-1]["user"]["login"] == "outsider"
        assert twin.state.drone.list_builds("recipe-maintainers", "cc-ci")[0]["number"] == 54


def test_a_world_without_a_bridge_block_still_has_one(tmp_path: Path) -> None:
    """Defaults: cc-ci answers members; the twin's token user is no member, so it is ignored."""
    world = _write(tmp_path, lambda d: d.pop("bridge"))
    with running_twin(world) as twin:
        twin.state.gitea.create_comment("recipe-maintainers", "ghost", 4, "!testme")
        assert twin.state.drone.list_builds("recipe-maintainers", "cc-ci")[0]["number"] == 54
    with running_twin(world, gitea_user="maintainer") as twin:
        twin.state.gitea.create_comment("recipe-maintainers", "ghost", 4, "!testme")
        assert twin.state.drone.list_builds("recipe-maintainers", "cc-ci")[0]["number"] == 55


def test_each_trigger_takes_its_own_plan(tmp_path: Path) -> None:
    world = _write(tmp_path, lambda d: d["bridge"].update(
        speed=100000, triggers=[{"outcome": "error", "duration": 60, "steps": ["deploy"]}, {"outcome": "success"}]))
    with running_twin(world) as twin:
        gitea = twin.state.gitea
        for _ in range(3):
            gitea.create_comment("recipe-maintainers", "ghost", 4, "!testme")
            time.sleep(0.05)
        with _drone(twin) as d:
            builds = {b["number"]: b for b in d.get(f"{HARNESS}/builds").json()}
        assert [builds[n]["status"] for n in (55, 56, 57)] == ["error", "success", "success"]
        statuses = twin.state.gitea.list_statuses("recipe-maintainers", "ghost", HEAD)
        assert {s["state"] for s in statuses if "#55" in s["description"]} == {"pending", "error"}


def test_clock_stands_still_until_run() -> None:
    ticks = iter([0.0, 10.0, 12.5])
    from datetime import UTC, datetime

    start = datetime(2026, 6, 15, 12, tzinfo=UTC)
    clock = Clock(start, 600, monotonic=lambda: next(ticks))
    assert clock.now() == start
    clock.run()  # t0 = 0
    assert (clock.now() - start).total_seconds() == 6000
    assert (clock.now() - start).total_seconds() == 7500


@pytest.mark.parametrize(
    ("bridge", "problem"),
    [
        ({"triggers": [{"outcome": "green"}]}, "bridge.triggers[0].outcome: outcome must be one of success, failure"),
        ({"triggers": [{"duration": 10}]}, "bridge.triggers[0].outcome: missing"),
        ({"speed": 0}, "bridge.speed: expected a positive number, got 0"),
        ({"queue": -1}, "bridge.queue: expected whole seconds"),
        ({"colour": "red"}, "bridge.colour: unknown key"),
        ({"triggers": [{"outcome": "success", "steps": "all"}]}, "bridge.triggers[0].steps: expected a list"),
    ],
)
def test_bad_bridge_block(tmp_path: Path, bridge: dict[str, Any], problem: str) -> None:
    world = _write(tmp_path, lambda d: d.update(bridge=bridge))
    with pytest.raises(WorldError) as caught:
        load_world(world)
    message = str(caught.value)
    assert message.startswith(f"{world}: {problem}") and "\n" not in message


def test_two_testmes_close_together_get_two_builds_each_its_own(clients) -> None:
    """gates.md "Its build": the bridge answers testmes in order, each reply linking one build."""
    gitea, drone, twin = clients
    gitea.post(f"{REPO}/issues/4/comments", json={"body": "!testme"})
    gitea.post(f"{REPO}/issues/4/comments", json={"body": "!testme again"})
    builds = drone.get(f"{HARNESS}/builds").json()[:2]
    assert [b["number"] for b in builds] == [56, 55]
    time.sleep(0.05)
    replies = [c["body"] for c in gitea.get(f"{REPO}/issues/4/comments").json() if "started for" in c["body"]]
    assert [r.split()[1] for r in replies] == ["#55", "#56"]
    statuses = gitea.get(f"{REPO}/commits/{HEAD}/statuses").json()
    assert {s["target_url"].rsplit("/", 1)[1] for s in statuses if s["status"] == "pending"} >= {"55", "56"}
    # A pending build has not started (harness/drone core/build.go).
    assert all(b["started"] == 0 for b in builds if b["status"] == "pending")
