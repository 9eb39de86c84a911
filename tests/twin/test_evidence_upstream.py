"""The twin as Gitea and the engine answer, held there with clients nobody here wrote (issue 18):
the generated swagger client for Gitea, the docker CLI and the Docker SDK for the engine."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from swagger_client import GiteaClient
from worldkit import SHA_MAIN, tiny_world

from twin import running_twin

SIDE = "5" * 40
MAIN_TESTS = "6" * 40


def _members_world(token_login: str) -> dict[str, Any]:
    w = tiny_world()
    w["gitea"]["orgs"] = {"o": {"members": ["alice", "bob"], "public_members": ["alice"]},
                          "p": {"members": ["carol"]}}
    w["gitea"]["token_user"] = {"login": token_login, "admin": False}
    return w


def test_a_member_check_by_a_token_user_in_no_org_is_sent_to_the_public_members(
        world_file: Callable[..., Path]) -> None:
    # go-gitea routers/api/v1/org/member.go IsMember: only an org member's or an admin's token
    # learns membership; anyone else (here a user in no org at all) is redirected (303, ctx.Redirect's
    # default) to /orgs/{org}/public_members/{user}, whatever the user asked about.
    with running_twin(world_file(_members_world("nobody"))) as handle:
        client = GiteaClient(handle.gitea_url, handle.gitea_token)
        try:
            for user in ("alice", "bob", "mallory"):
                answer = client.call("orgIsMember", org="o", username=user)
                assert answer.status == 303, user
                assert answer.headers["location"].endswith(f"/api/v1/orgs/o/public_members/{user}")
            # A member of another org is no member of this one.
            assert client.call("orgIsMember", org="p", username="carol").status == 303
            assert client.call("orgIsPublicMember", org="o", username="alice").status == 204
            assert client.call("orgIsPublicMember", org="o", username="bob").status == 404
        finally:
            client.close()


def test_a_renamed_file_carries_its_previous_filename(world_file: Callable[..., Path]) -> None:
    # go-gitea services/convert/pull.go ToChangedFile: status "renamed" and PreviousFilename for a
    # rename; other files have no previous_filename (omitempty) and status "changed" by default.
    w = tiny_world()
    w["gitea"]["repos"]["o/r"]["pulls"][0]["files"] = [
        {"filename": ".drone.yml.disabled", "previous_filename": ".drone.yml", "additions": 0, "deletions": 0},
        {"filename": "compose.yml", "additions": 1, "deletions": 1}]
    with running_twin(world_file(w)) as handle:
        client = GiteaClient(handle.gitea_url, handle.gitea_token)
        try:
            renamed, changed = client.pages("repoGetPullRequestFiles", owner="o", repo="r", index=1)
        finally:
            client.close()
    assert (renamed.filename, renamed.status, renamed.previous_filename) == (
        ".drone.yml.disabled", "renamed", ".drone.yml")
    assert (changed.status, changed.previous_filename) == ("changed", None)


def test_commits_without_sha_are_the_default_branchs_by_commit_date(world_file: Callable[..., Path]) -> None:
    # go-gitea routers/api/v1/repo/commits.go GetAllCommits: no `sha` is the default branch; `since`
    # is git's, on the commit date (`created` is Committer.When: services/convert/git_commit.go).
    w = tiny_world()
    repo = w["gitea"]["repos"]["o/r"]
    repo["branches"].append({"name": "wip-tests", "commit": {"id": SIDE, "timestamp": "2026-06-12T00:00:00Z"}})
    repo["commits"] = [
        {"sha": SIDE, "created": "2026-06-12T00:00:00Z", "parents": [{"sha": SHA_MAIN}],
         "commit": {"message": "wip", "author": {"name": "a", "date": "2026-06-12T00:00:00Z"}},
         "files": [{"filename": "tests/x.py"}]},
        {"sha": MAIN_TESTS, "created": "2026-06-11T00:00:00Z",
         "commit": {"message": "rebased", "author": {"name": "a", "date": "2026-05-01T00:00:00Z"}},
         "files": [{"filename": "tests/y.py"}]},
    ]
    with running_twin(world_file(w)) as handle:
        client = GiteaClient(handle.gitea_url, handle.gitea_token)
        try:
            listed = client.pages("repoGetAllCommits", owner="o", repo="r", path="tests/",
                                  since="2026-06-10T00:00:00Z")
            side = client.pages("repoGetAllCommits", owner="o", repo="r", sha="wip-tests", path="tests/")
        finally:
            client.close()
    assert [c.sha for c in listed] == [MAIN_TESTS]
    assert str(listed[0].commit.committer.date).startswith("2026-06-11")
    assert str(listed[0].commit.author.date).startswith("2026-05-01")
    assert SIDE in [c.sha for c in side]


ENGINE_ID = re.compile(r"^[A-Z2-7]{4}(:[A-Z2-7]{4}){11}$")


def test_the_engine_id_has_a_real_engines_format(twin: Any) -> None:
    # moby daemon/info.go (20.10): ID is the daemon key's libtrust key ID (docker/libtrust
    # util.go keyIDEncode): twelve base32 groups of four; no engine's ID names the twin.
    client = docker.DockerClient(base_url=twin.docker_url)
    try:
        engine_id = client.info()["ID"]
    finally:
        client.close()
    assert ENGINE_ID.match(engine_id), engine_id
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        pytest.skip("no docker CLI on PATH")
    out = subprocess.run([docker_cli, "info", "--format", "{{.ID}}"], capture_output=True, text=True, timeout=30,
                         env={"DOCKER_HOST": twin.docker_url, "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == engine_id
