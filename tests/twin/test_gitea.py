"""Gitea API of the twin: paging, auth, 404s, comments, refs, contents, statuses, orgs."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import httpx
import pytest
from worldkit import SHA_A, SHA_B, SHA_MAIN

from twin import running_twin
from twin.server import TwinHandle

REPO = "/repos/o/r"


def _links(response: httpx.Response) -> dict[str, int]:
    found = re.findall(r'<[^>]*[?&]page=(\d+)[^>]*>; rel="(\w+)"', response.headers.get("link", ""))
    return {rel: int(page) for page, rel in found}


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TwinHandle, httpx.Client]]:
    """A world with 101 PRs (51 open, 50 closed) for the paging edges."""
    from worldkit import tiny_world, write_world

    path = write_world(tmp_path_factory.mktemp("w") / "many.yaml", tiny_world(pulls=101))
    with running_twin(path) as handle:
        headers = {"Authorization": f"token {handle.gitea_token}"}
        with httpx.Client(base_url=handle.gitea_url + "/api/v1", headers=headers, timeout=5) as client:
            yield handle, client


def test_version_and_date_header(gitea: httpx.Client) -> None:
    response = gitea.get("/version")
    assert response.status_code == 200 and "version" in response.json()
    assert response.headers["date"] == "Mon, 15 Jun 2026 12:00:00 GMT"


def test_default_limit_is_30(many: tuple[TwinHandle, httpx.Client]) -> None:
    _, client = many
    response = client.get(f"{REPO}/pulls")
    assert len(response.json()) == 30 and response.headers["x-total-count"] == "51"
    assert _links(response) == {"next": 2, "last": 2}


def test_exactly_50(many: tuple[TwinHandle, httpx.Client]) -> None:
    _, client = many
    response = client.get(f"{REPO}/pulls", params={"state": "closed", "limit": 50})
    assert len(response.json()) == 50 and response.headers["x-total-count"] == "50"
    assert "link" not in response.headers


def test_51_spills_to_page_2(many: tuple[TwinHandle, httpx.Client]) -> None:
    _, client = many
    response = client.get(f"{REPO}/pulls", params={"limit": 50})
    assert len(response.json()) == 50 and response.headers["x-total-count"] == "51"
    assert _links(response) == {"next": 2, "last": 2}
    page2 = client.get(f"{REPO}/pulls", params={"limit": 50, "page": 2})
    assert len(page2.json()) == 1 and _links(page2) == {"first": 1, "prev": 1}
    assert {p["number"] for p in response.json() + page2.json()} == set(range(1, 102, 2))


def test_limit_capped_at_50(many: tuple[TwinHandle, httpx.Client]) -> None:
    _, client = many
    response = client.get(f"{REPO}/pulls", params={"state": "all", "limit": 100})
    assert len(response.json()) == 50 and response.headers["x-total-count"] == "101"
    assert _links(response) == {"next": 2, "last": 3}
    numbers = set()
    for page in (1, 2, 3):
        numbers |= {
            p["number"] for p in client.get(f"{REPO}/pulls", params={"state": "all", "limit": 50, "page": page}).json()
        }
    assert numbers == set(range(1, 102))


def test_exactly_one_page_has_no_link(gitea: httpx.Client) -> None:
    response = gitea.get(f"{REPO}/pulls", params={"state": "all"})
    assert len(response.json()) == 1 and "link" not in response.headers
    assert response.headers["x-total-count"] == "1"


def test_empty_list(gitea: httpx.Client) -> None:
    response = gitea.get(f"{REPO}/pulls", params={"state": "closed"})
    assert response.json() == [] and response.headers["x-total-count"] == "0" and "link" not in response.headers
    past = gitea.get(f"{REPO}/pulls", params={"state": "all", "page": 9})
    assert past.json() == [] and _links(past) == {"first": 1, "prev": 8}


def test_pull_defaults(gitea: httpx.Client, twin: TwinHandle) -> None:
    pull = gitea.get(f"{REPO}/pulls/1").json()
    assert pull["html_url"] == f"{twin.gitea_url}/o/r/pulls/1"
    assert pull["user"]["login"] == "alice" and pull["comments"] == 1
    assert pull["merged_at"] is None and pull["mergeable"] is True
    assert pull["head"]["sha"] == SHA_A and pull["base"]["ref"] == "main"


def test_pull_commits_and_files(gitea: httpx.Client) -> None:
    commits = gitea.get(f"{REPO}/pulls/1/commits")
    assert [c["sha"] for c in commits.json()] == [SHA_A] and commits.headers["x-total-count"] == "1"
    files = gitea.get(f"{REPO}/pulls/1/files").json()
    assert files[0]["filename"] == "compose.yml" and files[0]["changes"] == 2


@pytest.mark.parametrize("headers", [{}, {"Authorization": "token wrong"}, {"Authorization": "Basic eDp5"}])
def test_auth_failures(twin: TwinHandle, headers: dict[str, str]) -> None:
    response = httpx.get(f"{twin.gitea_url}/api/v1{REPO}/pulls", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert set(body) >= {"message", "url"} and body["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/repos/o/nope",
        "/repos/nobody/r/pulls",
        f"{REPO}/pulls/999",
        f"{REPO}/pulls/999/commits",
        f"{REPO}/issues/999/comments",
        f"{REPO}/issues/comments/424242",
        f"{REPO}/branches/nope",
        f"{REPO}/raw/absent.txt",
        "/repos/o/r/pulls/1/merge",
        "/no/such/route",
    ],
)
def test_not_found(gitea: httpx.Client, path: str) -> None:
    response = gitea.get(path)
    assert response.status_code == 404
    assert "message" in response.json() and "url" in response.json()


def test_comment_post_then_get(gitea: httpx.Client, twin: TwinHandle) -> None:
    created = gitea.post(f"{REPO}/issues/1/comments", json={"body": "verdict: green"})
    assert created.status_code == 201
    comment = created.json()
    assert comment["user"]["login"] == twin.state.gitea.user and comment["created_at"] == "2026-06-15T12:00:00Z"
    assert comment["pull_request_url"].endswith("/o/r/pulls/1")
    listed = gitea.get(f"{REPO}/issues/1/comments").json()
    assert [c["id"] for c in listed][-1] == comment["id"] and listed[0]["id"] == 1001
    assert gitea.get(f"{REPO}/issues/comments/{comment['id']}").json()["body"] == "verdict: green"
    assert any(c["body"] == "verdict: green" for c in twin.state.gitea.get_pull("o", "r", 1)["comments"])
    assert gitea.post(f"{REPO}/issues/1/comments", json={}).status_code == 422
    assert gitea.post(f"{REPO}/issues/77/comments", json={"body": "x"}).status_code == 404


def test_comments_since_before(gitea: httpx.Client) -> None:
    assert len(gitea.get(f"{REPO}/issues/1/comments", params={"since": "2026-06-03T00:00:00Z"}).json()) == 1
    assert gitea.get(f"{REPO}/issues/1/comments", params={"since": "2026-06-04T00:00:00Z"}).json() == []
    assert gitea.get(f"{REPO}/issues/1/comments", params={"before": "2026-06-03T00:00:00Z"}).json() == []


def test_branches(gitea: httpx.Client) -> None:
    branches = gitea.get(f"{REPO}/branches")
    assert [b["name"] for b in branches.json()] == ["main", "feature"]
    assert branches.headers["x-total-count"] == "2"
    assert gitea.get(f"{REPO}/branches/feature").json()["commit"]["id"] == SHA_A


def test_repo_commits_filters(gitea: httpx.Client) -> None:
    all_commits = gitea.get(f"{REPO}/commits").json()
    assert [c["sha"] for c in all_commits] == [SHA_B, SHA_MAIN]
    assert [c["sha"] for c in gitea.get(f"{REPO}/commits", params={"path": "tests"}).json()] == [SHA_B]
    assert [c["sha"] for c in gitea.get(f"{REPO}/commits", params={"path": "tests/a.py"}).json()] == [SHA_B]
    assert gitea.get(f"{REPO}/commits", params={"path": "test"}).json() == []
    assert [c["sha"] for c in gitea.get(f"{REPO}/commits", params={"since": "2026-06-02T00:00:00Z"}).json()] == [SHA_B]
    assert [c["sha"] for c in gitea.get(f"{REPO}/commits", params={"until": "2026-06-02T00:00:00Z"}).json()] == [
        SHA_MAIN
    ]
    assert [c["sha"] for c in gitea.get(f"{REPO}/commits", params={"sha": SHA_MAIN}).json()] == [SHA_MAIN]
    assert all_commits[0]["files"] == [{"filename": "tests/a.py", "status": "modified"}]


def test_raw_and_contents(gitea: httpx.Client) -> None:
    assert gitea.get(f"{REPO}/raw/compose.yml", params={"ref": SHA_MAIN}).text == "version: '3.8'\n"
    assert gitea.get(f"{REPO}/raw/compose.yml", params={"ref": "main"}).text == "version: '3.8'\n"
    assert gitea.get(f"{REPO}/raw/compose.yml").text == "version: '3.8'\n"  # default branch
    contents = gitea.get(f"{REPO}/contents/tests/a.py", params={"ref": "main"}).json()
    assert base64.b64decode(contents["content"]) == b"x = 1\n" and contents["encoding"] == "base64"
    assert contents["type"] == "file" and contents["last_commit_sha"] == SHA_MAIN
    folder = gitea.get(f"{REPO}/contents/tests", params={"ref": "main"}).json()
    assert [e["path"] for e in folder] == ["tests/a.py"]
    assert gitea.get(f"{REPO}/raw/compose.yml", params={"ref": "nobranch"}).status_code == 404


def test_statuses_and_combined(gitea: httpx.Client) -> None:
    by_ref = gitea.get(f"{REPO}/commits/feature/statuses").json()
    assert [s["status"] for s in by_ref] == ["failure", "success", "pending"]  # newest first
    assert gitea.get(f"{REPO}/statuses/{SHA_A}").json() == by_ref
    combined = gitea.get(f"{REPO}/commits/{SHA_A}/status").json()
    assert combined["state"] == "failure" and combined["total_count"] == 2
    assert {s["context"]: s["status"] for s in combined["statuses"]} == {"ci": "failure", "lint": "success"}


def test_org_membership(gitea: httpx.Client) -> None:
    assert gitea.get("/orgs/o/members/alice").status_code == 204
    assert gitea.get("/orgs/o/members/mallory").status_code == 404
    assert gitea.get("/orgs/nobody/members/alice").status_code == 404


def test_updated_at_is_never_before_what_happened_to_the_pr(tmp_path_factory: pytest.TempPathFactory) -> None:
    """models/issues/comment.go updateCommentInfos: every comment bumps the issue's updated_unix
    ("update the issue's updated_unix column"), and closing or merging writes the row (xorm's
    `updated` tag); the API's `updated_at` is that column. `sort=recentupdate` orders by it, newest
    first (models/issues/issue_search.go applySorts). A world may date a PR earlier than its own
    comments; the twin answers as Gitea would."""
    from worldkit import tiny_world, write_world

    world = tiny_world(pulls=3)
    pulls = world["gitea"]["repos"]["o/r"]["pulls"]
    for pr in pulls:
        pr["updated_at"] = "2026-06-01T00:00:00Z"
    pulls[0]["comments"] = [{"id": 9001, "user": {"login": "a"}, "body": "late", "created_at": "2026-06-12T08:00:00Z"}]
    pulls[1].update({"state": "closed", "merged": True, "closed_at": "2026-06-11T00:00:00Z",
                     "merged_at": "2026-06-11T00:00:00Z", "comments": []})
    pulls[2]["comments"] = []
    path = write_world(tmp_path_factory.mktemp("w") / "updated.yaml", world)
    with running_twin(path) as handle:
        headers = {"Authorization": f"token {handle.gitea_token}"}
        with httpx.Client(base_url=handle.gitea_url + "/api/v1", headers=headers, timeout=5) as client:
            first, second, third = (client.get(f"{REPO}/pulls/{p['number']}").json() for p in pulls)
            assert first["updated_at"] == "2026-06-12T08:00:00Z"  # its comment
            assert second["updated_at"] == "2026-06-11T00:00:00Z"  # its merge
            assert third["updated_at"] == max("2026-06-01T00:00:00Z", third["created_at"])  # as written
            listed = client.get(f"{REPO}/pulls", params={"state": "all", "sort": "recentupdate"}).json()
            assert [p["number"] for p in listed] == [p["number"] for p in (first, second, third)]
            stamps = [p["updated_at"] for p in listed]
            assert stamps == sorted(stamps, reverse=True)
            # Posting a comment through the API moves the PR to the top.
            assert client.post(f"{REPO}/issues/{third['number']}/comments", json={"body": "now"}).status_code == 201
            top = client.get(f"{REPO}/pulls", params={"state": "all", "sort": "recentupdate"}).json()[0]
            assert top["number"] == third["number"] and top["updated_at"] == "2026-06-15T12:00:00Z"
