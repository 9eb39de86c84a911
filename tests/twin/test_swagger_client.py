"""A Gitea client generated from Gitea's swagger with typed models decodes every answer of the
twin strictly, over every world in worlds/ (issue 8, "Done when")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from swagger_client import GiteaClient, StrictDecodeError, decode
from worldkit import ROOT, distinct_worlds

from twin import load_world, running_twin

# Gitea's answers depend on the world's Gitea block and its phase (the repo named): one world per
# distinct pair.
PROJECT_WORLDS = distinct_worlds(sorted((ROOT / "worlds").glob("*.yaml")), "gitea", "phase")


@pytest.fixture(params=PROJECT_WORLDS, ids=lambda p: p.stem)
def world_path(request: pytest.FixtureRequest) -> Iterator[Path]:
    yield request.param


def test_the_decoder_is_strict() -> None:
    user = {"$ref": "#/definitions/User"}
    with pytest.raises(StrictDecodeError, match="no field"):
        decode(user, {"login": "x", "made_up": 1})
    with pytest.raises(StrictDecodeError, match="integer"):
        decode(user, {"id": True})
    with pytest.raises(StrictDecodeError, match="RFC 3339"):
        decode(user, {"created": "2026-06-15 12:00:00"})
    assert decode(user, {"login": "x", "created": "2026-06-15T14:00:00+02:00"}).created.utcoffset().seconds == 7200


def test_every_answer_the_suite_reads_decodes_strictly(world_path: Path) -> None:
    world = load_world(world_path)
    with running_twin(world) as twin:  # the world loaded once (the twin only reads it here: GETs only)
        client = GiteaClient(twin.gitea_url, twin.gitea_token)
        try:
            assert client.call("getVersion").body.version
            for full_name, body in (world.gitea.get("repos") or {}).items():
                owner, repo = full_name.split("/", 1)
                where = {"owner": owner, "repo": repo}
                assert client.call("repoGet", **where).body.full_name == full_name
                pulls = client.pages("repoListPullRequests", state="all", **where)
                assert len(pulls) == len(body.get("pulls") or [])
                for pull in pulls:
                    one = client.call("repoGetPullRequest", index=pull.number, **where).body
                    assert one.head.sha == pull.head.sha and one.base.repo.full_name == full_name
                    client.pages("repoGetPullRequestCommits", index=pull.number, **where)
                    client.pages("repoGetPullRequestFiles", index=pull.number, **where)
                    comments = client.call("issueGetComments", index=pull.number, **where)
                    assert int(comments.headers["x-total-count"]) == len(comments.body)
                    for comment in comments.body[:2]:
                        client.call("issueGetComment", id=comment.id, **where)
                    assert client.call("repoPullRequestIsMerged", index=pull.number, **where).status in (204, 404)
                    if one.head.sha:
                        client.call("repoListStatusesByRef", ref=one.head.sha, **where)
                        client.call("repoGetCombinedStatusByRef", ref=one.head.sha, **where)
                for branch in client.pages("repoListBranches", **where):
                    client.call("repoGetBranch", branch=branch.name, **where)
                    assert client.call("repoGetSingleCommit", sha=branch.name, **where).body.sha == branch.commit.id
                    client.call("repoGetAllCommits", sha=branch.name, limit=5, **where)
                for sha, files in (body.get("contents") or {}).items():
                    for name in list(files)[:3]:
                        assert client.call("repoGetContents", filepath=name, ref=sha, **where).body.type == "file"
                        assert client.call("repoGetRawFile", filepath=name, ref=sha, **where).status == 200
            for org, spec in (world.gitea.get("orgs") or {}).items():
                for login in [*spec.get("members", []), "drive-by"]:
                    assert client.call("orgIsMember", org=org, username=login).status in (204, 303, 404)
                    assert client.call("orgIsPublicMember", org=org, username=login).status in (204, 404)
        finally:
            client.close()
