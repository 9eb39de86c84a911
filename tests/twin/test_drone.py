"""Drone API of the twin: auth, builds, stages and steps, logs, creating a build."""

from __future__ import annotations

import httpx
import pytest
from worldkit import SHA_B, tiny_world

from twin import running_twin
from twin.server import TwinHandle

REPO = "/repos/o/ci"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "token x"}])
def test_auth_failures(twin: TwinHandle, headers: dict[str, str]) -> None:
    response = httpx.get(f"{twin.drone_url}/api/user", headers=headers)
    assert response.status_code == 401 and response.json() == {"message": "Unauthorized"}


def test_token_in_query(twin: TwinHandle) -> None:
    response = httpx.get(f"{twin.drone_url}/api/user", params={"access_token": twin.drone_token})
    assert response.status_code == 200 and response.json()["login"]


def test_list_builds_newest_first(drone: httpx.Client, twin: TwinHandle) -> None:
    response = drone.get(f"{REPO}/builds")
    builds = response.json()
    assert [b["number"] for b in builds] == [2, 1] and "stages" not in builds[0]
    assert "x-total-count" not in response.headers and "link" not in response.headers
    assert builds[1]["link"] == f"{twin.drone_url}/o/ci/1"
    assert response.headers["date"] == "Mon, 15 Jun 2026 12:00:00 GMT"


def test_build_with_stages_steps_and_logs(drone: httpx.Client) -> None:
    build = drone.get(f"{REPO}/builds/1").json()
    stage = build["stages"][0]
    assert stage["number"] == 1 and stage["build_id"] == build["id"]
    assert [s["number"] for s in stage["steps"]] == [1, 2]
    assert all(s["step_id"] == stage["id"] for s in stage["steps"])  # upstream's quirk
    assert build["params"] == {"PR": "1"} and build["after"] == SHA_B
    again = drone.get(f"{REPO}/builds/1").json()
    assert again["stages"][0]["steps"][1]["id"] == stage["steps"][1]["id"]  # stable ids
    logs = drone.get(f"{REPO}/builds/1/logs/1/2").json()
    assert [(line["pos"], line["out"]) for line in logs] == [(0, "line one\n"), (1, "line two\n")]
    assert drone.get(f"{REPO}/builds/1/logs/1/1").json() == []


@pytest.mark.parametrize(
    "path",
    [
        "/repos/o/nope",
        "/repos/o/nope/builds",
        f"{REPO}/builds/99",
        f"{REPO}/builds/1/logs/1/9",
        f"{REPO}/builds/1/logs/5/1",
    ],
)
def test_not_found(drone: httpx.Client, path: str) -> None:
    response = drone.get(path)
    assert response.status_code == 404 and response.json() == {"message": "Not Found"}


def test_repo_get(drone: httpx.Client) -> None:
    repo = drone.get(REPO).json()
    assert repo["slug"] == "o/ci" and repo["counter"] == 2


def test_create_build_then_get(drone: httpx.Client, twin: TwinHandle) -> None:
    response = drone.post(f"{REPO}/builds", params={"branch": "main", "commit": SHA_B, "RECIPE": "ghost", "PR": "4"})
    assert response.status_code == 200
    build = response.json()
    assert build["number"] == 3 and build["event"] == "custom" and build["status"] == "pending"
    assert build["params"] == {"RECIPE": "ghost", "PR": "4"} and build["after"] == SHA_B
    assert build["ref"] == "refs/heads/main"
    assert drone.get(f"{REPO}/builds").json()[0]["number"] == 3
    assert drone.get(f"{REPO}/builds/3").json()["params"]["RECIPE"] == "ghost"
    assert twin.state.drone.get_build("o", "ci", 3)["params"]["PR"] == "4"


def test_per_page(tmp_path) -> None:
    data = tiny_world()
    builds = data["drone"]["repos"]["o/ci"]["builds"]
    builds.extend({"number": n, "status": "success", "event": "push", "created": 1781000000 + n} for n in range(3, 131))
    from worldkit import write_world

    with running_twin(write_world(tmp_path / "w.yaml", data)) as twin:
        client = httpx.Client(base_url=twin.drone_url + "/api", headers={"Authorization": f"Bearer {twin.drone_token}"})
        assert len(client.get(f"{REPO}/builds").json()) == 25
        assert len(client.get(f"{REPO}/builds", params={"per_page": 100}).json()) == 100
        assert len(client.get(f"{REPO}/builds", params={"per_page": 101}).json()) == 25
        assert len(client.get(f"{REPO}/builds", params={"per_page": 0}).json()) == 25
        last = client.get(f"{REPO}/builds", params={"per_page": 100, "page": 2}).json()
        assert [b["number"] for b in last] == list(range(30, 0, -1))
        assert client.get(f"{REPO}/builds", params={"page": 99}).json() == []
