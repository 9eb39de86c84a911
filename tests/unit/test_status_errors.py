"""A service's 401/403/404 and other refusals become the same errors, with the same words, whether
Gitea or Drone (ghostgates/fetch/http.py) or the Docker engine (ghostgates/fetch/engine.py)
answered them: one mapping (`ghostgates.errors.refusal`). These pin each message whole.

The engine's `: <cause>` is the body's `message` as docker-py reads it (docker/errors.py
create_api_error_from_http_exception: `response.json()["message"]`, else the reason phrase).
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "twin"))

from worldkit import tiny_world, write_world  # noqa: E402

from ghostgates.errors import NotFound, ServiceError, Unauthorised, refusal  # noqa: E402
from ghostgates.fetch import engine as swarm  # noqa: E402
from ghostgates.fetch.http import ApiClient  # noqa: E402
from ghostgates.fetch.retry import RetryPolicy  # noqa: E402
from twin import running_twin  # noqa: E402

BASE = "https://git.example.org/api/v1"


def _api(status: int) -> ApiClient:
    api = ApiClient("Gitea", BASE, {}, policy=RetryPolicy(retries=0, backoff=0))
    api._client = httpx.Client(base_url=BASE, transport=httpx.MockTransport(lambda request: httpx.Response(status)),
                               follow_redirects=False)
    return api


@pytest.mark.parametrize(("status", "kind", "message"), [
    (401, Unauthorised, f"Gitea: GET {BASE}/repos/a/b answered 401: check the token (it is not shown)"),
    (403, Unauthorised, f"Gitea: GET {BASE}/repos/a/b answered 403: check the token (it is not shown)"),
    (404, NotFound, f"Gitea: GET {BASE}/repos/a/b answered 404"),
    (409, ServiceError, f"Gitea: GET {BASE}/repos/a/b answered 409"),
])
def test_gitea_and_drone_refusals(status: int, kind: type[ServiceError], message: str) -> None:
    with pytest.raises(ServiceError) as caught:
        _api(status).get_json("/repos/a/b")
    error = caught.value
    assert type(error) is kind and str(error) == message
    assert (error.url, error.status) == (f"{BASE}/repos/a/b", status)


@pytest.mark.parametrize(("status", "kind", "cause"), [
    (401, Unauthorised, "Unauthorized"),
    (403, Unauthorised, "Forbidden"),
    (404, NotFound, "page not found"),
    (409, ServiceError, "Conflict"),
])
def test_engine_refusals(tmp_path: Path, status: int, kind: type[ServiceError], cause: str) -> None:
    world = write_world(tmp_path / "w.yaml", tiny_world())
    with running_twin(world, faults=[f"status={status}:service=docker:path=/v1.41/volumes"]) as twin:
        target = swarm.EngineTarget(twin.docker_url, {}, "the twin", timeout=2, policy=RetryPolicy(0))
        with pytest.raises(ServiceError) as caught:
            swarm.read_swarm(target, "proxy")
    error, url = caught.value, f"{twin.docker_url}/v1.41/volumes"
    assert type(error) is kind
    assert str(error) == f"Docker engine {twin.docker_url} (the twin): GET {url} answered {status}: {cause}"
    assert (error.url, error.status) == (url, status)


def test_one_mapping_for_both() -> None:
    assert type(refusal(401, "X: GET u", "u")) is Unauthorised
    assert type(refusal(403, "X: GET u", "u")) is Unauthorised
    assert type(refusal(404, "X: GET u", "u")) is NotFound
    assert type(refusal(400, "X: GET u", "u")) is ServiceError
    words = {"unauthorised": ": check", "said": ": why"}
    assert str(refusal(403, "X: GET u", "u", **words)) == "X: GET u answered 403: check: why"
    assert str(refusal(404, "X: GET u", "u", **words)) == "X: GET u answered 404: why"
    assert str(refusal(409, "X: GET u", "u", **words)) == "X: GET u answered 409: why"
