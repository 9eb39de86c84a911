"""Gitea state: the world's repos, PRs, comments, branches, commits, contents and statuses.

Plain dicts as the world wrote them, plus what clients post while the twin runs. Method names
follow the API's operation ids (repoListPullRequests -> list_pulls) so a grep joins the layers.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from twin.http import BadRequest, NotFound, iso
from twin.ids import number_id
from twin.world import SHA, parse_time

__all__ = ["GiteaBackend", "RepoState"]


def _t(value: str | None) -> datetime | None:
    return parse_time(value) if value else None


@functools.lru_cache(maxsize=65536)
def _when(value: str | None) -> datetime:
    """A world time as an instant, parsed once per distinct text (lists sort on every request)."""
    return parse_time(value or "0001-01-01T00:00:00Z")


def pull_updated_at(pull: dict[str, Any], now: datetime) -> str:
    """A PR's `updated_at` as Gitea keeps it: never before anything that happened to it.

    Gitea sends the issue row's `updated_unix`, which xorm's `updated` tag bumps on every write of
    the row, and every comment bumps explicitly (models/issues/comment.go updateCommentInfos:
    "update the issue's updated_unix column"); closing and merging write the row (and post a
    close comment). So it is at least the PR's creation, close, merge and each comment's creation,
    whatever a world wrote; a world that writes none was updated `now`. `sort=recentupdate`
    orders by it (models/issues/issue_search.go applySorts).
    """
    texts = [str(pull.get(key)) for key in ("updated_at", "created_at", "closed_at", "merged_at") if pull.get(key)]
    texts.extend(str(c["created_at"]) for c in pull.get("comments") or [] if c.get("created_at"))
    if not pull.get("updated_at"):
        texts.append(iso(now))
    return max(texts, key=_when)  # the world's own text, its zone and fraction kept


@dataclass
class RepoState:
    owner: str
    name: str
    raw: dict[str, Any]
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def default_branch(self) -> str:
        return str(self.raw.get("default_branch") or "main")

    @property
    def branches(self) -> list[dict[str, Any]]:
        return list(self.raw.get("branches") or [])

    def branch_head(self, name: str) -> str | None:
        """The sha a branch points at now; None when the repo has no such branch."""
        for entry in self.raw.get("branches") or []:
            if entry["name"] == name:
                return str(entry["commit"]["id"])
        return None

    def has_branch(self, name: str) -> bool:
        """Whether the branch exists. A world that lists no `branches` deletes none."""
        if "branches" not in self.raw:
            return True
        return self.branch_head(name) is not None

    @property
    def commits(self) -> list[dict[str, Any]]:
        return list(self.raw.get("commits") or [])

    @property
    def contents(self) -> dict[str, dict[str, str]]:
        return dict(self.raw.get("contents") or {})

    @property
    def statuses(self) -> dict[str, list[dict[str, Any]]]:
        return dict(self.raw.get("statuses") or {})


class GiteaBackend:
    """The live Gitea model of one twin run."""

    def __init__(self, gitea: dict[str, Any], now: datetime, user: str) -> None:
        self.now = now
        # Whose token the twin's token is (routers/api/v1/org/member.go asks the doer). A world
        # without `token_user` gets a site admin's token: every membership shows.
        token_user = gitea.get("token_user") or {}
        self.user = str(token_user.get("login") or user)
        self.admin = bool(token_user.get("admin", not token_user))
        # The UTC offset Gitea writes its times with (the server's zone).
        self.time_zone = str(gitea.get("time_zone") or "Z")
        self.orgs: dict[str, list[str]] = {
            org: list((body or {}).get("members") or []) for org, body in (gitea.get("orgs") or {}).items()
        }
        self.public_members: dict[str, set[str]] = {
            org: set((body or {}).get("public_members") or []) for org, body in (gitea.get("orgs") or {}).items()
        }
        self.repos: dict[str, RepoState] = {}
        for full_name, body in (gitea.get("repos") or {}).items():
            owner, name = full_name.split("/", 1)
            repo = RepoState(owner=owner, name=name, raw=body)
            for pull in body.get("pulls") or []:
                pull.setdefault("comments", [])
                repo.pulls[int(pull["number"])] = pull
            for sha, statuses in (body.get("statuses") or {}).items():
                for index, status in enumerate(statuses):
                    status.setdefault("id", number_id("gitea-status", full_name.lower(), sha, index))
            self.repos[full_name.lower()] = repo
        self._lock = threading.Lock()
        # Called as hook(repo, number, comment) after a client posts a comment (the bridge's webhook).
        self.comment_hooks: list[Callable[[RepoState, int, dict[str, Any]], None]] = []
        self._next_comment_id = 1 + max(
            (c.get("id", 0) for r in self.repos.values() for p in r.pulls.values() for c in p["comments"]),
            default=0,
        )
        for repo in self.repos.values():
            for pull in repo.pulls.values():
                for comment in pull["comments"]:
                    if "id" not in comment:
                        comment["id"] = self._take_comment_id()

    def _take_comment_id(self) -> int:
        value = self._next_comment_id
        self._next_comment_id += 1
        return value

    # --- repos and pulls -----------------------------------------------------------------

    def get_repo(self, owner: str, name: str) -> RepoState:
        repo = self.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise NotFound("The target couldn't be found.")
        return repo

    def list_pulls(self, owner: str, name: str, state: str = "open", sort: str = "") -> list[dict[str, Any]]:
        if state not in ("open", "closed", "all"):
            raise BadRequest(f"invalid state {state!r}")
        repo = self.get_repo(owner, name)
        pulls = [p for p in repo.pulls.values() if state == "all" or p.get("state", "open") == state]
        if sort == "oldest":
            pulls.sort(key=lambda p: (_when(p.get("created_at")), p["number"]))
        elif sort in ("recentupdate", "leastupdate"):
            pulls.sort(key=lambda p: (_when(pull_updated_at(p, self.now)), p["number"]),
                       reverse=sort == "recentupdate")
        else:  # Gitea's default: newest first
            pulls.sort(key=lambda p: (_when(p.get("created_at")), p["number"]), reverse=True)
        return pulls

    def get_pull(self, owner: str, name: str, number: int) -> dict[str, Any]:
        pull = self.get_repo(owner, name).pulls.get(number)
        if pull is None:
            raise NotFound("The target couldn't be found.")
        return pull

    # --- comments -------------------------------------------------------------------------

    def list_comments(
        self,
        owner: str,
        name: str,
        number: int,
        since: datetime | None = None,
        before: datetime | None = None,
    ) -> list[dict[str, Any]]:
        comments = list(self.get_pull(owner, name, number)["comments"])

        def updated(c: dict[str, Any]) -> datetime:
            return parse_time(c.get("updated_at") or c.get("created_at") or iso(self.now))

        if since is not None:
            comments = [c for c in comments if updated(c) >= since]
        if before is not None:
            comments = [c for c in comments if updated(c) < before]
        return comments

    def create_comment(self, owner: str, name: str, number: int, body: str) -> dict[str, Any]:
        """A comment posted through the API by the token's user; the hooks (the bridge) see it."""
        comment = self.add_comment(owner, name, number, login=self.user, body=body, at=self.now)
        for hook in self.comment_hooks:
            hook(self.get_repo(owner, name), number, comment)
        return comment

    def add_comment(self, owner: str, name: str, number: int, *, login: str, body: str,
                    at: datetime) -> dict[str, Any]:
        """Record a comment by `login` at `at` (what another Gitea user, e.g. the bridge, posts)."""
        pull = self.get_pull(owner, name, number)
        with self._lock:
            comment = {
                "id": self._take_comment_id(),
                "user": {"login": login},
                "body": body,
                "created_at": iso(at),
                "updated_at": iso(at),
            }
            pull["comments"].append(comment)
        return comment

    def add_status(self, owner: str, name: str, sha: str, *, state: str, context: str, target_url: str,
                   description: str, creator: str, at: datetime) -> dict[str, Any]:
        """Record a commit status on `sha` (repoCreateStatus, as another user posts it)."""
        repo = self.get_repo(owner, name)
        with self._lock:
            statuses = repo.raw.setdefault("statuses", {}).setdefault(sha, [])
            status = {
                "id": number_id("gitea-status", repo.full_name.lower(), sha, len(statuses), "posted"),
                "state": state,
                "context": context,
                "target_url": target_url,
                "description": description,
                "creator": {"login": creator},
                "created_at": iso(at),
                "updated_at": iso(at),
            }
            statuses.append(status)
        return status

    def get_comment(self, owner: str, name: str, comment_id: int) -> tuple[int, dict[str, Any]]:
        """The comment and the number of the PR it sits on."""
        repo = self.get_repo(owner, name)
        for number, pull in repo.pulls.items():
            for comment in pull["comments"]:
                if comment["id"] == comment_id:
                    return number, comment
        raise NotFound("The target couldn't be found.")

    # --- branches, refs, commits ----------------------------------------------------------

    def get_branch(self, owner: str, name: str, branch: str) -> dict[str, Any]:
        for entry in self.get_repo(owner, name).branches:
            if entry["name"] == branch:
                return entry
        raise NotFound(f"branch does not exist [name: {branch}]")

    def resolve_ref(self, owner: str, name: str, ref: str | None) -> str:
        """A sha for a sha, a branch name or `refs/heads/x`; the default branch when empty."""
        repo = self.get_repo(owner, name)
        ref = ref or repo.default_branch
        if SHA.match(ref):
            return ref
        pull_ref = re.match(r"^refs/pull/(\d+)/head$", ref)
        if pull_ref and int(pull_ref.group(1)) in repo.pulls:
            # The pull ref outlives the head branch: head.sha still resolves.
            return str((repo.pulls[int(pull_ref.group(1))].get("head") or {}).get("sha", ""))
        branch = ref.removeprefix("refs/heads/")
        for entry in repo.branches:
            if entry["name"] == branch:
                return str(entry["commit"]["id"])
        raise NotFound(f"object does not exist [id: {ref}, rel_path: ]")

    def commit_time(self, commit: dict[str, Any]) -> datetime:
        """The commit date (the committer's time: git log's `--since`/`--until` and Gitea's
        `created`), never the author date a rebase keeps."""
        meta = commit.get("commit") or {}
        text = (commit.get("created") or (meta.get("committer") or {}).get("date")
                or (meta.get("author") or {}).get("date"))
        return parse_time(text) if text else self.now

    def off_branch(self, repo: RepoState, branch: str) -> set[str]:
        """Commits of `repo.commits` not reachable from `branch`: those reachable (by their
        `parents`) only from another branch's tip. A world commit that no branch tip reaches is on
        every branch (the format's default: `commits` are the default branch's history)."""
        by_sha = {c["sha"]: c for c in repo.commits}

        def ancestry(tip: str) -> set[str]:
            seen: set[str] = set()
            todo = [tip]
            while todo:
                sha = todo.pop()
                if sha in seen:
                    continue
                seen.add(sha)
                todo += [str(p.get("sha")) for p in (by_sha.get(sha) or {}).get("parents") or [] if p.get("sha")]
            return seen

        mine = ancestry(repo.branch_head(branch) or "")
        others: set[str] = set()
        for entry in repo.branches:
            if entry["name"] != branch:
                others |= ancestry(str(entry["commit"]["id"]))
        return others - mine

    def list_commits(
        self,
        owner: str,
        name: str,
        *,
        sha: str | None = None,
        path: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[dict[str, Any]]:
        repo = self.get_repo(owner, name)
        commits = repo.commits
        if not sha:
            # routers/api/v1/repo/commits.go GetAllCommits: no `sha` is the default branch.
            default = str(repo.raw.get("default_branch") or "main")
            elsewhere = self.off_branch(repo, default)
            commits = [c for c in commits if c["sha"] not in elsewhere]
        if sha:
            # The world keeps no parent links: "reachable from sha" becomes "not newer than it".
            head = self.resolve_ref(owner, name, sha)
            tip = next((c for c in commits if c["sha"] == head), None)
            if tip is None:
                # The branch's tip is a commit even where the world lists it only as the branch.
                tip = self.get_commit(owner, name, head)
                commits = [tip, *commits]
            commits = [c for c in commits if self.commit_time(c) <= self.commit_time(tip)]
        if path:
            prefix = path.strip("/")
            commits = [
                c
                for c in commits
                if any(
                    f.get("filename") == prefix or str(f.get("filename", "")).startswith(prefix + "/")
                    for f in c.get("files") or []
                )
            ]
        if since is not None:
            commits = [c for c in commits if self.commit_time(c) >= since]
        if until is not None:
            commits = [c for c in commits if self.commit_time(c) <= until]
        return sorted(commits, key=self.commit_time, reverse=True)

    def get_commit(self, owner: str, name: str, sha: str) -> dict[str, Any]:
        """A commit by sha or by a ref naming it (routers/api/v1/repo/commits.go GetSingleCommit
        hands the path's `sha` to git, which resolves branch names too)."""
        repo = self.get_repo(owner, name)
        wanted = sha if SHA.match(sha) else repo.branch_head(sha.removeprefix("refs/heads/"))
        if wanted is None:
            raise NotFound(f"object does not exist [id: {sha}, rel_path: ]")
        for commit in repo.commits + [c for p in repo.pulls.values() for c in p.get("commits") or []]:
            if commit["sha"] == wanted:
                return commit
        # A branch tip the world names only in `branches`: the commit exists all the same.
        for entry in repo.branches:
            tip = entry["commit"]
            if tip["id"] == wanted:
                return {"sha": wanted, "created": tip.get("timestamp"),
                        "commit": {"message": tip.get("message", ""),
                                   "author": {"name": (tip.get("author") or {}).get("name", ""),
                                              "date": tip.get("timestamp")}}}
        raise NotFound(f"object does not exist [id: {sha}, rel_path: ]")

    # --- contents ---------------------------------------------------------------------------

    def get_file(self, owner: str, name: str, filepath: str, ref: str | None) -> tuple[str, str]:
        """(sha, text) of a file at a ref."""
        sha = self.resolve_ref(owner, name, ref)
        files = self.get_repo(owner, name).contents.get(sha)
        if files is None or filepath not in files:
            raise NotFound(f"object does not exist [id: {sha}, rel_path: {filepath}]")
        return sha, files[filepath]

    def list_dir(self, owner: str, name: str, dirpath: str, ref: str | None) -> tuple[str, list[str]]:
        """(sha, entries) of a folder at a ref: the file and folder paths directly inside it."""
        sha = self.resolve_ref(owner, name, ref)
        files = self.get_repo(owner, name).contents.get(sha) or {}
        prefix = dirpath.strip("/") + "/" if dirpath.strip("/") else ""
        entries: set[str] = set()
        for path in files:
            if path.startswith(prefix):
                rest = path[len(prefix) :]
                entries.add(prefix + rest.split("/", 1)[0])
        if not entries:
            raise NotFound(f"object does not exist [id: {sha}, rel_path: {dirpath}]")
        return sha, sorted(entries)

    # --- statuses and orgs ------------------------------------------------------------------

    def list_statuses(
        self, owner: str, name: str, ref: str, state: str | None = None
    ) -> list[dict[str, Any]]:
        sha = self.resolve_ref(owner, name, ref)
        statuses = list(self.get_repo(owner, name).statuses.get(sha) or [])
        if state:
            statuses = [s for s in statuses if (s.get("status") or s.get("state")) == state]
        epoch = "0001-01-01T00:00:00Z"
        return sorted(statuses, key=lambda s: parse_time(s.get("created_at") or epoch), reverse=True)

    def is_member(self, org: str, user: str) -> bool:
        """The truth, whoever asks (the bridge's own view; the API answers per doer)."""
        members = self.orgs.get(org)
        if members is None:
            raise NotFound("The target couldn't be found.")
        return user in members

    def is_public_member(self, org: str, user: str) -> bool:
        if org not in self.orgs:
            raise NotFound("The target couldn't be found.")
        return user in self.orgs[org] and user in self.public_members.get(org, set())

    def membership_for_doer(self, org: str, user: str) -> bool | None:
        """What routers/api/v1/org/member.go IsMember tells the token's user about `user`.

        A member or a site admin learns the truth (204/404); a non-member asking about
        themselves gets 404; anyone else gets None: the redirect to the public members.
        """
        members = self.orgs.get(org)
        if members is None:
            raise NotFound("The target couldn't be found.")
        if self.user in members or self.admin:
            return user in members
        if self.user == user:
            return False
        return None
