"""Every Gitea and Drone response of the twin validates against the upstream contracts.

Run over all public worlds. Gitea's swagger 2.0 cannot say "nullable", but Gitea is Go: a nil
pointer, slice or time marshals as null (`merged_by`, `assignees`, `closed_at`), so the check
allows null wherever a $ref, an array or a date-time sits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
import pytest
from worldkit import CONTRACTS, PUBLIC_WORLDS

from twin import load_world, running_twin

# Plain-typed fields that are Go pointers in Gitea's structs, so null when unset.
POINTER_FIELDS = frozenset({"merge_commit_sha", "target", "submodule_git_url", "encoding", "content", "download_url"})


def _nullable(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _nullable(v) for k, v in node.items()}
        for name in POINTER_FIELDS & set(out.get("properties", {})):
            out["properties"][name] = {"anyOf": [out["properties"][name], {"type": "null"}]}
        if "$ref" in out:
            return {"anyOf": [{"$ref": out["$ref"]}, {"type": "null"}]}
        if out.get("type") == "array" or (out.get("type") == "string" and out.get("format") == "date-time"):
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


@cache
def _gitea_spec() -> dict[str, Any]:
    return json.loads((CONTRACTS / "gitea-swagger-v1.26.3.json").read_text())


@cache
def _drone_spec() -> dict[str, Any]:
    return json.loads((CONTRACTS / "drone-v1.schema.json").read_text())


def gitea_validate(path: str, method: str, status: int, body: Any) -> None:
    spec = _gitea_spec()
    response = spec["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = spec["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = {"definitions": _nullable(spec["definitions"]), **_nullable(response["schema"])}
    jsonschema.Draft4Validator(schema).validate(body)


def drone_validate(definition: str, body: Any, many: bool = False) -> None:
    spec = _drone_spec()
    ref = {"$ref": f"#/$defs/{definition}"}
    schema = {"$defs": spec["$defs"], **({"type": "array", "items": ref} if many else ref)}
    jsonschema.Draft202012Validator(schema).validate(body)


@pytest.fixture(scope="module", params=PUBLIC_WORLDS, ids=lambda p: p.stem)
def served(request: pytest.FixtureRequest) -> Iterator[tuple[Any, httpx.Client, httpx.Client]]:
    path: Path = request.param
    with running_twin(path) as twin:
        g = httpx.Client(base_url=twin.gitea_url + "/api/v1", headers={"Authorization": f"token {twin.gitea_token}"})
        d = httpx.Client(base_url=twin.drone_url + "/api", headers={"Authorization": f"Bearer {twin.drone_token}"})
        yield load_world(path), g, d
        g.close()
        d.close()


def _get(client: httpx.Client, url: str, **params: Any) -> Any:
    response = client.get(url, params=params)
    assert response.status_code == 200, (url, response.text)
    return response.json()


def test_gitea_responses(served: tuple[Any, httpx.Client, httpx.Client]) -> None:
    world, g, _ = served
    P = "/repos/{owner}/{repo}"
    gitea_validate("/version", "get", 200, _get(g, "/version"))
    for full, repo in world.gitea.get("repos", {}).items():
        base = f"/repos/{full}"
        gitea_validate(P, "get", 200, _get(g, base))
        gitea_validate(P + "/pulls", "get", 200, _get(g, base + "/pulls", state="all"))
        for pull in repo.get("pulls") or []:
            n = pull["number"]
            gitea_validate(P + "/pulls/{index}", "get", 200, _get(g, f"{base}/pulls/{n}"))
            gitea_validate(P + "/pulls/{index}/commits", "get", 200, _get(g, f"{base}/pulls/{n}/commits"))
            gitea_validate(P + "/pulls/{index}/files", "get", 200, _get(g, f"{base}/pulls/{n}/files"))
            comments = _get(g, f"{base}/issues/{n}/comments")
            gitea_validate(P + "/issues/{index}/comments", "get", 200, comments)
            for comment in comments[:2]:
                one = _get(g, f"{base}/issues/comments/{comment['id']}")
                gitea_validate(P + "/issues/comments/{id}", "get", 200, one)
        branches = _get(g, base + "/branches")
        gitea_validate(P + "/branches", "get", 200, branches)
        for branch in branches:
            one = _get(g, f"{base}/branches/{quote(branch['name'], safe='')}")
            gitea_validate(P + "/branches/{branch}", "get", 200, one)
        gitea_validate(P + "/commits", "get", 200, _get(g, base + "/commits"))
        gitea_validate(
            P + "/commits", "get", 200, _get(g, base + "/commits", path="tests", since="2026-01-01T00:00:00Z")
        )
        for sha, files in (repo.get("contents") or {}).items():
            for name in list(files)[:2]:
                gitea_validate(P + "/contents/{filepath}", "get", 200, _get(g, f"{base}/contents/{name}", ref=sha))
        for sha in repo.get("statuses") or {}:
            gitea_validate(P + "/commits/{ref}/statuses", "get", 200, _get(g, f"{base}/commits/{sha}/statuses"))
            gitea_validate(P + "/statuses/{sha}", "get", 200, _get(g, f"{base}/statuses/{sha}"))
            gitea_validate(P + "/commits/{ref}/status", "get", 200, _get(g, f"{base}/commits/{sha}/status"))
        pulls = repo.get("pulls") or []
        if pulls:
            created = g.post(f"{base}/issues/{pulls[0]['number']}/comments", json={"body": "contract check"})
            assert created.status_code == 201
            gitea_validate(P + "/issues/{index}/comments", "post", 201, created.json())


def test_drone_responses(served: tuple[Any, httpx.Client, httpx.Client]) -> None:
    world, _, d = served
    for full, repo in world.drone.get("repos", {}).items():
        base = f"/repos/{full}"
        drone_validate("Repo", _get(d, base))
        drone_validate("Build", _get(d, base + "/builds", per_page=100), many=True)
        for build in repo.get("builds") or []:
            one = _get(d, f"{base}/builds/{build['number']}")
            drone_validate("Build", one)
            for stage in one.get("stages") or []:
                drone_validate("Stage", stage)
                for step in stage.get("steps") or []:
                    drone_validate("Step", step)
                    logs = _get(d, f"{base}/builds/{build['number']}/logs/{stage['number']}/{step['number']}")
                    drone_validate("LogLine", logs, many=True)
        created = d.post(base + "/builds", params={"branch": "main", "RECIPE": "x"})
        assert created.status_code == 200
        drone_validate("Build", created.json())
