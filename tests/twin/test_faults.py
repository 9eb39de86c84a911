"""Fault injection: each kind, the counting options, and SPECs that do not parse."""

from __future__ import annotations

import json
import time

import docker
import httpx
import pytest

from twin import running_twin
from twin.faults import FaultError, parse_fault

PULLS = "/api/v1/repos/o/r/pulls"


def _gitea(twin) -> httpx.Client:
    return httpx.Client(base_url=twin.gitea_url, headers={"Authorization": f"token {twin.gitea_token}"}, timeout=5)


@pytest.mark.parametrize("code", [500, 502])
def test_status_then_recovers(world_file, code: int) -> None:
    with running_twin(world_file(), faults=[f"status={code}:path=/api/v1/repos/*/pulls:times=2"]) as twin:
        client = _gitea(twin)
        first = client.get(PULLS)
        assert first.status_code == code and set(first.json()) >= {"message", "url"}  # Gitea's error body
        assert [client.get(PULLS).status_code for _ in range(2)] == [code, 200]
        assert client.get("/api/v1/repos/o/r").status_code == 200  # other paths untouched


def test_429_retry_after_on_drone(world_file) -> None:
    with running_twin(world_file(), faults=["status=429:retry_after=3:service=drone:after=1:times=1"]) as twin:
        headers = {"Authorization": f"Bearer {twin.drone_token}"}
        first = httpx.get(twin.drone_url + "/api/user", headers=headers)
        second = httpx.get(twin.drone_url + "/api/user", headers=headers)
        third = httpx.get(twin.drone_url + "/api/user", headers=headers)
        assert (first.status_code, second.status_code, third.status_code) == (200, 429, 200)
        assert second.headers["retry-after"] == "3" and second.json() == {"message": "Too Many Requests"}


def test_delay_outlasts_client_timeout(world_file) -> None:
    # The delay holds the answer back (what a client's timeout then meets), once, then answers at once.
    # Timed by the answer's arrival, not by a client's timeout exception: under a loaded xdist run that
    # exception's type was seen to differ (httpcore's, not httpx's), which is httpx's business, not the twin's.
    with running_twin(world_file(), faults=["delay=0.6:path=/api/v1/repos/o/r:times=1"]) as twin:
        client = _gitea(twin)
        started = time.monotonic()
        assert client.get("/api/v1/repos/o/r").status_code == 200
        assert time.monotonic() - started >= 0.6
        started = time.monotonic()
        assert client.get("/api/v1/repos/o/r").status_code == 200
        assert time.monotonic() - started < 0.6


def test_truncate_cuts_json(world_file) -> None:
    with running_twin(world_file(), faults=["truncate:path=/api/v1/repos/*/pulls"]) as twin:
        response = _gitea(twin).get(PULLS)
        assert response.status_code == 200 and response.text
        with pytest.raises(json.JSONDecodeError):
            response.json()


def test_short_page_promises_more(world_file) -> None:
    with running_twin(world_file(pulls=3), faults=["short:path=/api/v1/repos/*/pulls"]) as twin:
        response = _gitea(twin).get(PULLS, params={"state": "all"})
        assert response.headers["x-total-count"] == "3" and len(response.json()) == 2


def test_docker_fault_and_latency(world_file) -> None:
    with running_twin(world_file(), latency_ms=20, faults=["status=500:service=docker:path=*/services"]) as twin:
        client = docker.DockerClient(base_url=twin.docker_url, version="1.41", timeout=5)
        with pytest.raises(docker.errors.APIError):
            client.services.list()
        assert client.ping()


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("", "empty"),
        ("explode", "unknown kind"),
        ("status=abc", "must be an integer"),
        ("status=200", "400..599"),
        ("delay=-1", "> 0"),
        ("delay=x", "seconds"),
        ("truncate=5", "takes no value"),
        ("status=500:path", "OPTION=VALUE"),
        ("status=500:colour=red", "unknown option"),
        ("status=500:service=jira", "service must be"),
        ("status=500:times=0", "times must be"),
    ],
)
def test_bad_specs(spec: str, says: str) -> None:
    with pytest.raises(FaultError) as info:
        parse_fault(spec)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_good_spec_fields() -> None:
    fault = parse_fault("status=502:path=/api/v1/repos/*/pulls:times=2:method=get:after=1")
    assert (fault.status, fault.path, fault.times, fault.method, fault.after) == (
        502,
        "/api/v1/repos/*/pulls",
        2,
        "GET",
        1,
    )
