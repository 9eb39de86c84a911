"""The twin answers as upstream Gitea and Drone do (issue 8). Each test names the upstream
source it follows:

- go-gitea/gitea services/convert/pull.go (ToAPIPullRequest): head/base branch info, merge_base
- go-gitea/gitea routers/api/v1/org/member.go (IsMember, IsPublicMember): who may see membership
- go-gitea/gitea routers/api/v1/repo/issue_comment.go (ListIssueComments): X-Total-Count
- go-gitea/gitea routers/api/v1/repo/commits.go (GetSingleCommit, GetAllCommits): refs resolve
- go-gitea/gitea routers/api/v1/repo/file.go + services/context/api.go (RepoRefForAPI): raw by path ref
- go-gitea/gitea modules/timeutil + Go's time.Time JSON: times in the server's zone with its offset
- harness/drone core/build.go, handler/api/repos/builds/create.go: commit fields, pending started 0
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from worldkit import SHA_A, SHA_B, SHA_MAIN, tiny_world

from twin import running_twin

REPO = "/repos/o/r"
SHA_FORK = "f" * 40


def _client(handle: Any) -> httpx.Client:
    return httpx.Client(base_url=handle.gitea_url + "/api/v1",
                        headers={"Authorization": f"token {handle.gitea_token}"}, timeout=5)


def _world(**gitea: Any) -> dict[str, Any]:
    w = tiny_world()
    w["gitea"].update(gitea)
    return w


# --- services/convert/pull.go -------------------------------------------------------------------

def test_deleted_head_branch_sends_the_pull_ref_and_keeps_the_name_in_label(world_file: Callable[..., Path]) -> None:
    w = tiny_world()
    w["gitea"]["repos"]["o/r"]["branches"] = [b for b in w["gitea"]["repos"]["o/r"]["branches"]
                                              if b["name"] != "feature"]
    with running_twin(world_file(w)) as handle, _client(handle) as g:
        head = g.get(f"{REPO}/pulls/1").json()["head"]
        assert head["ref"] == "refs/pull/1/head"
        assert head["label"] == "feature"
        assert head["sha"] == SHA_A
        # head.sha still resolves: through the pull ref and as a commit.
        assert g.get(f"{REPO}/git/commits/{SHA_A}").json()["sha"] == SHA_A
        assert g.get(f"{REPO}/commits/refs/pull/1/head/statuses").status_code == 200
        listed = g.get(f"{REPO}/pulls", params={"state": "all"}).json()[0]["head"]
        assert listed["ref"] == "refs/pull/1/head"


def test_existing_head_branch_is_its_name(gitea: httpx.Client) -> None:
    head = gitea.get(f"{REPO}/pulls/1").json()["head"]
    assert head["ref"] == head["label"] == "feature"


def test_base_sha_is_the_base_branch_head_now_and_merge_base_the_fork_point(
        world_file: Callable[..., Path]) -> None:
    w = tiny_world()
    w["gitea"]["repos"]["o/r"]["pulls"][0]["base"]["sha"] = SHA_FORK  # where the PR forked
    with running_twin(world_file(w)) as handle, _client(handle) as g:
        pull = g.get(f"{REPO}/pulls/1").json()
        assert pull["base"]["sha"] == SHA_MAIN
        assert pull["merge_base"] == SHA_FORK
    w["gitea"]["repos"]["o/r"]["pulls"][0]["merge_base"] = SHA_B
    with running_twin(world_file(w)) as handle, _client(handle) as g:
        assert g.get(f"{REPO}/pulls/1").json()["merge_base"] == SHA_B


def test_base_and_head_carry_the_full_repository(gitea: httpx.Client) -> None:
    pull = gitea.get(f"{REPO}/pulls/1").json()
    repo = gitea.get(REPO).json()
    for side in ("base", "head"):
        assert pull[side]["repo"]["full_name"] == "o/r"
        assert pull[side]["repo"]["id"] == repo["id"] == pull[side]["repo_id"]
        assert set(pull[side]["repo"]) == set(repo)


def test_head_repo_deleted_is_null(world_file: Callable[..., Path]) -> None:
    w = tiny_world()
    w["gitea"]["repos"]["o/r"]["pulls"][0]["head"]["repo"] = None
    with running_twin(world_file(w)) as handle, _client(handle) as g:
        head = g.get(f"{REPO}/pulls/1").json()["head"]
        assert head["repo"] is None


# --- routers/api/v1/org/member.go ---------------------------------------------------------------

def _members_world(token_login: str, admin: bool = False) -> dict[str, Any]:
    w = tiny_world()
    w["gitea"]["orgs"] = {"o": {"members": ["alice", "bob"], "public_members": ["alice"]}}
    w["gitea"]["token_user"] = {"login": token_login, "admin": admin}
    return w


def _ask(g: httpx.Client, user: str) -> httpx.Response:
    return g.get(f"/orgs/o/members/{user}", follow_redirects=False)


def test_a_members_token_learns_every_membership(world_file: Callable[..., Path]) -> None:
    with running_twin(world_file(_members_world("bob"))) as handle, _client(handle) as g:
        assert _ask(g, "alice").status_code == 204
        assert _ask(g, "bob").status_code == 204
        assert _ask(g, "mallory").status_code == 404


def test_an_admins_token_learns_every_membership(world_file: Callable[..., Path]) -> None:
    with running_twin(world_file(_members_world("root", admin=True))) as handle, _client(handle) as g:
        assert _ask(g, "bob").status_code == 204
        assert _ask(g, "mallory").status_code == 404


def test_an_outsiders_token_is_sent_to_the_public_members(world_file: Callable[..., Path]) -> None:
    with running_twin(world_file(_members_world("mallory"))) as handle, _client(handle) as g:
        for user in ("alice", "bob", "eve"):
            answer = _ask(g, user)
            assert answer.status_code == 303
            assert answer.headers["location"].endswith(f"/api/v1/orgs/o/public_members/{user}")
        # Following the redirect: a private member looks like a non-member.
        assert g.get("/orgs/o/members/alice", follow_redirects=True).status_code == 204
        assert g.get("/orgs/o/members/bob", follow_redirects=True).status_code == 404
        # Asking about oneself: 404, no redirect.
        assert _ask(g, "mallory").status_code == 404


def test_public_members_answer_anyone(world_file: Callable[..., Path]) -> None:
    with running_twin(world_file(_members_world("bob"))) as handle, _client(handle) as g:
        assert g.get("/orgs/o/public_members/alice").status_code == 204
        assert g.get("/orgs/o/public_members/bob").status_code == 404


def test_without_token_user_the_twin_token_is_an_admins(gitea: httpx.Client) -> None:
    assert _ask(gitea, "alice").status_code == 204
    assert _ask(gitea, "nobody").status_code == 404


# --- times, counts, refs --------------------------------------------------------------------

def test_times_carry_the_servers_offset(world_file: Callable[..., Path]) -> None:
    with running_twin(world_file(_world(time_zone="+02:00"))) as handle, _client(handle) as g:
        pull = g.get(f"{REPO}/pulls/1").json()
        assert pull["created_at"].endswith("+02:00")
        assert pull["updated_at"] == "2026-06-10T02:00:00+02:00"
        comment = g.get(f"{REPO}/issues/1/comments").json()
        assert all(c["created_at"].endswith("+02:00") for c in comment)
        commit = g.get(f"{REPO}/pulls/1/commits").json()[0]
        assert commit["created"] == "2026-06-02T02:00:00+02:00"
        assert commit["commit"]["author"]["date"] == "2026-06-02T02:00:00+02:00"
        branch = g.get(f"{REPO}/branches/main").json()
        assert branch["commit"]["timestamp"] == "2026-06-01T02:00:00+02:00"
        assert g.get(REPO).json()["updated_at"].endswith("+02:00")


def test_comments_carry_x_total_count(gitea: httpx.Client) -> None:
    response = gitea.get(f"{REPO}/issues/1/comments")
    assert response.headers["x-total-count"] == str(len(response.json()))


def test_branch_head_resolves_through_git_commits_and_commit_lists(gitea: httpx.Client) -> None:
    assert gitea.get(f"{REPO}/git/commits/main").json()["sha"] == SHA_MAIN
    assert gitea.get(f"{REPO}/git/commits/feature").json()["sha"] == SHA_A
    listed = gitea.get(f"{REPO}/commits", params={"sha": "main", "limit": 1}).json()
    assert listed[0]["sha"] == SHA_MAIN
    assert gitea.get(f"{REPO}/git/commits/nosuchbranch").status_code == 404


def test_raw_files_by_ref_in_the_path(world_file: Callable[..., Path]) -> None:
    w = tiny_world()
    w["gitea"]["repos"]["o/r"]["contents"] = {SHA_MAIN: {"compose.yml": "services: {}\n"}}
    with running_twin(world_file(w)) as handle, _client(handle) as g:
        by_query = g.get(f"{REPO}/raw/compose.yml", params={"ref": SHA_MAIN})
        by_sha = g.get(f"{REPO}/raw/{SHA_MAIN}/compose.yml")
        by_branch = g.get(f"{REPO}/raw/main/compose.yml")
        assert by_query.text == by_sha.text == by_branch.text == "services: {}\n"


# --- paging renders only the page served (issue 11) ---------------------------------------------

def test_a_page_of_thousands_renders_only_its_own_items(world_file: Callable[..., Path]) -> None:
    w = tiny_world(pulls=2000)
    with running_twin(world_file(w)) as handle, _client(handle) as g:
        g.get(f"{REPO}/pulls", params={"state": "all", "limit": 50})  # warm up
        begun = time.perf_counter()
        for page in (1, 20, 40):
            assert len(g.get(f"{REPO}/pulls", params={"state": "all", "limit": 50, "page": page}).json()) == 50
        per_page = (time.perf_counter() - begun) / 3
    # Rendering all 2,000 PRs took well over a second a page; one page of 50 takes a few ms.
    assert per_page < 0.5, per_page


# --- harness/drone core/build.go, handler/api/repos/builds/create.go ----------------------------

def _drone_world(status: str) -> dict[str, Any]:
    w = copy.deepcopy(tiny_world())
    w["drone"] = {"repos": {"o/ci": {"builds": [
        {"number": 1, "status": status, "event": "custom", "after": SHA_B, "created": 1781000000,
         "started": 1781000010, "finished": 0}]}}}
    return w


def test_builds_carry_the_commits_timestamp_message_and_author(world_file: Callable[..., Path]) -> None:
    with running_twin(world_file(_drone_world("running"))) as handle:
        with httpx.Client(base_url=handle.drone_url + "/api",
                          headers={"Authorization": f"Bearer {handle.drone_token}"}, timeout=5) as d:
            for build in (d.get("/repos/o/ci/builds").json()[0], d.get("/repos/o/ci/builds/1").json()):
                assert build["timestamp"] > 0 and build["message"] and build["author_login"]
            made = d.post("/repos/o/ci/builds", params={"branch": "main", "commit": SHA_B}).json()
            assert made["message"] and made["author_login"] and made["timestamp"] > 0


def test_a_pending_build_has_not_started(world_file: Callable[..., Path]) -> None:
    with running_twin(world_file(_drone_world("pending"))) as handle:
        with httpx.Client(base_url=handle.drone_url + "/api",
                          headers={"Authorization": f"Bearer {handle.drone_token}"}, timeout=5) as d:
            build = d.get("/repos/o/ci/builds/1").json()
            assert build["status"] == "pending" and build["started"] == 0 and build["finished"] == 0
            made = d.post("/repos/o/ci/builds", params={"branch": "main"}).json()
            assert made["status"] == "pending" and made["started"] == 0


def test_world_format_extensions_are_checked(world_file: Callable[..., Path]) -> None:
    import pytest

    from twin.world import WorldError, load_world

    bad_zone = _world(time_zone="CEST")
    with pytest.raises(WorldError, match="gitea.time_zone: not a UTC offset"):
        load_world(world_file(bad_zone))
    outsider_public = tiny_world()
    outsider_public["gitea"]["orgs"] = {"o": {"members": ["alice"], "public_members": ["bob"]}}
    with pytest.raises(WorldError, match=r"public_members\[0\]: 'bob' is not among the members"):
        load_world(world_file(outsider_public))
    with pytest.raises(WorldError, match="token_user.login: missing"):
        load_world(world_file(_world(token_user={"admin": True})))
