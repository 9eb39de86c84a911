"""Gitea handlers: parse the request, ask the model, render with Gitea's defaults."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Request

from twin.gitea.models import GiteaBackend
from twin.gitea.objects import Renderer
from twin.gitea.paging import page_of
from twin.http import BadRequest, NotFound, Reply, json_reply
from twin.world import SHA, parse_time

__all__ = ["GiteaResponses"]

# Gitea's combined state: the worst status among the latest of each context wins.
_WORST_FIRST = ("error", "failure", "warning", "pending", "success", "skipped")


def _time_arg(request: Request, name: str) -> datetime | None:
    text = request.args.get(name)
    if not text:
        return None
    try:
        return parse_time(text)
    except ValueError:
        raise BadRequest(f"invalid {name}: {text!r}") from None


def _bool_arg(request: Request, name: str, default: bool) -> bool:
    text = request.args.get(name)
    return default if text is None else text.lower() in ("1", "true", "yes")


class GiteaResponses:
    """One method per operation; the names follow Gitea's operation ids."""

    def __init__(self, backend: GiteaBackend, renderer: Renderer, version: str = "1.26.3") -> None:
        self.backend = backend
        self.renderer = renderer
        self.version = version

    def _paged(self, request: Request, items: list[Any], render: Any = None) -> Reply:
        chunk, headers = page_of(request, items, self.renderer.base, render)
        return json_reply(chunk, headers=headers)

    def version_get(self, request: Request) -> Reply:
        return json_reply({"version": self.version})

    def user_get_current(self, request: Request) -> Reply:
        # routers/api/v1/user/user.go GetAuthenticatedUser: the token's own user.
        return json_reply(self.renderer.user(self.backend.user))

    def repo_get(self, request: Request, owner: str, repo: str) -> Reply:
        return json_reply(self.renderer.repository(self.backend.get_repo(owner, repo)))

    # --- pulls ------------------------------------------------------------------------------

    def repo_list_pull_requests(self, request: Request, owner: str, repo: str) -> Reply:
        state = request.args.get("state", "open") or "open"
        pulls = self.backend.list_pulls(owner, repo, state=state, sort=request.args.get("sort", ""))
        poster = request.args.get("poster")
        if poster:
            pulls = [p for p in pulls if (p.get("user") or {}).get("login") == poster]
        base_branch = request.args.get("base_branch")
        if base_branch:
            pulls = [p for p in pulls if (p.get("base") or {}).get("ref") == base_branch]
        state_repo = self.backend.get_repo(owner, repo)
        return self._paged(request, pulls, lambda p: self.renderer.pull(state_repo, p))

    def repo_get_pull_request(self, request: Request, owner: str, repo: str, index: int) -> Reply:
        pull = self.backend.get_pull(owner, repo, index)
        return json_reply(self.renderer.pull(self.backend.get_repo(owner, repo), pull))

    def repo_pull_request_is_merged(self, request: Request, owner: str, repo: str, index: int) -> Reply:
        if self.backend.get_pull(owner, repo, index).get("merged"):
            return Reply(status=204)
        raise NotFound("The target couldn't be found.")

    def repo_get_pull_request_commits(self, request: Request, owner: str, repo: str, index: int) -> Reply:
        pull = self.backend.get_pull(owner, repo, index)
        state_repo = self.backend.get_repo(owner, repo)
        files = _bool_arg(request, "files", True)
        listed = pull.get("commits")
        if listed is None and (pull.get("head") or {}).get("sha"):
            # A PR always has its head commit: a world that lists none gets that one, as Gitea would.
            listed = [{"sha": pull["head"]["sha"], "created": pull.get("created_at"),
                       "commit": {"message": pull.get("title", ""),
                                  "author": {"name": (pull.get("user") or {}).get("login", ""),
                                             "date": pull.get("created_at")}}}]
        return self._paged(request, listed or [], lambda c: self.renderer.commit(state_repo, c, files=files))

    def repo_get_pull_request_files(self, request: Request, owner: str, repo: str, index: int) -> Reply:
        pull = self.backend.get_pull(owner, repo, index)
        state_repo = self.backend.get_repo(owner, repo)
        return self._paged(request, pull.get("files") or [], lambda f: self.renderer.changed_file(state_repo, pull, f))

    # --- comments ---------------------------------------------------------------------------

    def issue_get_comments(self, request: Request, owner: str, repo: str, index: int) -> Reply:
        comments = self.backend.list_comments(
            owner, repo, index, since=_time_arg(request, "since"), before=_time_arg(request, "before")
        )
        state_repo = self.backend.get_repo(owner, repo)
        # Unpaged, with the count (routers/api/v1/repo/issue_comment.go ListIssueComments).
        return json_reply([self.renderer.comment(state_repo, index, c) for c in comments],
                          headers={"X-Total-Count": str(len(comments)),
                                   "Access-Control-Expose-Headers": "X-Total-Count, Link"})

    def issue_create_comment(self, request: Request, owner: str, repo: str, index: int) -> Reply:
        try:
            payload = json.loads(request.get_data() or b"{}")
        except ValueError:
            return json_reply({"message": "invalid JSON body", "url": self.renderer.api + "/swagger"}, 422)
        if not isinstance(payload, dict) or not isinstance(payload.get("body"), str):
            return json_reply({"message": "[Body]: Required", "url": self.renderer.api + "/swagger"}, 422)
        comment = self.backend.create_comment(owner, repo, index, payload["body"])
        return json_reply(self.renderer.comment(self.backend.get_repo(owner, repo), index, comment), 201)

    def issue_get_comment(self, request: Request, owner: str, repo: str, id: int) -> Reply:  # noqa: A002
        number, comment = self.backend.get_comment(owner, repo, id)
        return json_reply(self.renderer.comment(self.backend.get_repo(owner, repo), number, comment))

    # --- branches and commits -------------------------------------------------------------

    def repo_list_branches(self, request: Request, owner: str, repo: str) -> Reply:
        state_repo = self.backend.get_repo(owner, repo)
        return self._paged(request, state_repo.branches, lambda b: self.renderer.branch(state_repo, b))

    def repo_get_branch(self, request: Request, owner: str, repo: str, branch: str) -> Reply:
        state_repo = self.backend.get_repo(owner, repo)
        return json_reply(self.renderer.branch(state_repo, self.backend.get_branch(owner, repo, branch)))

    def repo_get_all_commits(self, request: Request, owner: str, repo: str) -> Reply:
        commits = self.backend.list_commits(
            owner,
            repo,
            sha=request.args.get("sha"),
            path=request.args.get("path"),
            since=_time_arg(request, "since"),
            until=_time_arg(request, "until"),
        )
        state_repo = self.backend.get_repo(owner, repo)
        files = _bool_arg(request, "files", True)
        reply = self._paged(request, commits, lambda c: self.renderer.commit(state_repo, c, files=files))
        # Gitea's commit list also says where the pages stop.
        total = int(reply.headers["X-Total-Count"])
        reply.headers["X-HasMore"] = str("next" in reply.headers.get("Link", "")).lower()
        reply.headers["X-Total"] = str(total)
        return reply

    def repo_get_single_commit(self, request: Request, owner: str, repo: str, sha: str) -> Reply:
        state_repo = self.backend.get_repo(owner, repo)
        commit = self.backend.get_commit(owner, repo, sha)
        return json_reply(self.renderer.commit(state_repo, commit, files=_bool_arg(request, "files", True)))

    # --- contents ---------------------------------------------------------------------------

    def repo_get_raw_file(self, request: Request, owner: str, repo: str, filepath: str) -> Reply:
        ref = request.args.get("ref")
        if not ref:
            # Without ?ref= the path may open with the ref: raw/{branch or sha}/{filepath}
            # (services/context/api.go RepoRefForAPI reads the ref from the path, legacy style).
            ref, filepath = self._ref_in_path(owner, repo, filepath)
        _, text = self.backend.get_file(owner, repo, filepath, ref)
        return Reply(body=text.encode(), content_type="text/plain; charset=utf-8")

    def _ref_in_path(self, owner: str, repo: str, path: str) -> tuple[str | None, str]:
        """(ref, rest) when `path` starts with a sha or a branch name (longest first), else (None, path)."""
        state_repo = self.backend.get_repo(owner, repo)
        parts = path.split("/")
        if len(parts) > 1 and SHA.match(parts[0]):
            return parts[0], "/".join(parts[1:])
        for cut in range(len(parts) - 1, 0, -1):
            name = "/".join(parts[:cut])
            if state_repo.branch_head(name) is not None:
                return name, "/".join(parts[cut:])
        return None, path

    def repo_get_contents(self, request: Request, owner: str, repo: str, filepath: str) -> Reply:
        state_repo = self.backend.get_repo(owner, repo)
        ref = request.args.get("ref")
        try:
            sha, text = self.backend.get_file(owner, repo, filepath, ref)
        except NotFound:
            sha, entries = self.backend.list_dir(owner, repo, filepath, ref)
            files = state_repo.contents.get(sha) or {}
            return json_reply([self.renderer.contents(state_repo, sha, e, files.get(e)) for e in entries])
        return json_reply(self.renderer.contents(state_repo, sha, filepath, text))

    # --- statuses ---------------------------------------------------------------------------

    def _statuses(self, owner: str, repo: str, ref: str, state: str | None) -> tuple[str, list[Any]]:
        sha = self.backend.resolve_ref(owner, repo, ref)
        state_repo = self.backend.get_repo(owner, repo)
        given = self.backend.list_statuses(owner, repo, sha, state)
        return sha, [self.renderer.status(state_repo, sha, s) for s in given]

    def repo_list_statuses_by_ref(self, request: Request, owner: str, repo: str, ref: str) -> Reply:
        _, statuses = self._statuses(owner, repo, ref, request.args.get("state"))
        return self._paged(request, statuses)

    def repo_list_statuses(self, request: Request, owner: str, repo: str, sha: str) -> Reply:
        return self.repo_list_statuses_by_ref(request, owner, repo, sha)

    def repo_get_combined_status_by_ref(self, request: Request, owner: str, repo: str, ref: str) -> Reply:
        sha, statuses = self._statuses(owner, repo, ref, None)
        latest: dict[str, Any] = {}
        for status in statuses:  # newest first, so the first per context is its latest
            latest.setdefault(status["context"], status)
        chosen = list(latest.values())
        state = ""
        for candidate in _WORST_FIRST:
            if any(s["status"] == candidate for s in chosen):
                state = candidate
                break
        state_repo = self.backend.get_repo(owner, repo)
        full = state_repo.full_name
        return json_reply(
            {
                "state": state or "pending",
                "sha": sha,
                "total_count": len(chosen),
                "statuses": chosen,
                "repository": self.renderer.repository(state_repo),
                "commit_url": f"{self.renderer.api}/repos/{full}/commits/{sha}",
                "url": f"{self.renderer.api}/repos/{full}/commits/{sha}/status",
            }
        )

    # --- orgs -------------------------------------------------------------------------------

    def org_is_member(self, request: Request, org: str, username: str) -> Reply:
        """routers/api/v1/org/member.go IsMember: the answer depends on who asks.

        A member's or an admin's token gets 204/404; anyone else is sent (303) to the public
        members, where a private member looks like a non-member.
        """
        answer = self.backend.membership_for_doer(org, username)
        if answer is None:
            target = f"/api/v1/orgs/{quote(org, safe='')}/public_members/{quote(username, safe='')}"
            return Reply(status=303, headers={"Location": self.renderer.base + target})
        if answer:
            return Reply(status=204)
        raise NotFound("The target couldn't be found.")

    def org_is_public_member(self, request: Request, org: str, username: str) -> Reply:
        """routers/api/v1/org/member.go IsPublicMember: 204 only for a public member."""
        if self.backend.is_public_member(org, username):
            return Reply(status=204)
        raise NotFound("The target couldn't be found.")
