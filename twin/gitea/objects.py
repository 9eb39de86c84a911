"""Gitea JSON objects: the world's fields as written, the rest filled with Gitea's defaults."""

from __future__ import annotations

import base64
import functools
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from twin.gitea.models import pull_updated_at
from twin.http import iso
from twin.ids import number_id
from twin.world import parse_time

__all__ = ["Renderer"]

ZERO_TIME = "0001-01-01T00:00:00Z"
_TIME_KEYS = ("created_at", "updated_at", "closed_at", "merged_at", "due_date")


@functools.lru_cache(maxsize=65536)
def _zoned_text(value: str, zone: timezone) -> str:
    """A world time in `zone`; parsed once per distinct text (a list renders thousands)."""
    if value.startswith("0001-01-01"):
        return value
    return _zoned(parse_time(value), zone)


def _zoned(value: datetime, zone: timezone) -> str:
    local = value.astimezone(zone)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if zone == UTC:
        return text + "Z"
    offset = local.strftime("%z")
    return f"{text}{offset[:3]}:{offset[3:]}"


def _zone(text: str) -> timezone:
    if text in ("Z", "z", ""):
        return UTC
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


class Renderer:
    """Renders whole Gitea API objects (users, repos, PRs, comments) as one Gitea at one base URL
    writes them: links in the objects point at the twin itself, times are in the server's zone."""

    def __init__(self, base: str, now: datetime, time_zone: str = "Z") -> None:
        self.base = base.rstrip("/")
        self.api = self.base + "/api/v1"
        self.now = now
        self.zone = _zone(time_zone)
        self._repos: dict[tuple[str, datetime], dict[str, Any]] = {}

    def time(self, value: str | datetime | None) -> str | None:
        """A time as Gitea writes it: RFC 3339 in the server's zone, with its offset.

        Gitea marshals Go times in the server's local zone (`2026-06-15T12:00:00+02:00`); the
        zero time stays as the world wrote it.
        """
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return _zoned_text(value, self.zone)
        return _zoned(value, self.zone)

    # --- people and repos -----------------------------------------------------------------

    def user(self, given: dict[str, Any] | str | None) -> dict[str, Any] | None:
        if given is None:
            return None
        given = {"login": given} if isinstance(given, str) else given
        out = dict(self._user_defaults(str(given.get("login", ""))))
        out.update(given)
        return out

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one Renderer per twin run; logins are few
    def _user_defaults(self, login: str) -> dict[str, Any]:
        return {
            "id": number_id("gitea-user", login),
            "login": login,
            "login_name": "",
            "source_id": 0,
            "full_name": "",
            "email": f"{login}@noreply.localhost",
            "avatar_url": f"{self.base}/avatars/{hashlib.md5(login.encode()).hexdigest()}",  # noqa: S324
            "html_url": f"{self.base}/{login}",
            "language": "",
            "is_admin": False,
            "last_login": ZERO_TIME,
            "created": ZERO_TIME,
            "restricted": False,
            "active": False,
            "prohibit_login": False,
            "location": "",
            "website": "",
            "description": "",
            "visibility": "public",
            "followers_count": 0,
            "following_count": 0,
            "starred_repos_count": 0,
        }

    def repository(self, repo: Any) -> dict[str, Any]:
        """A Repository object; rendered once per repo and clock tick (each PR carries two)."""
        key = (repo.full_name.lower(), self.now)
        cached = self._repos.get(key)
        if cached is None:
            cached = self._repository(repo)
            self._repos = {key: cached}  # only the current tick is worth keeping
        # Two levels are all a Repository has (owner, permissions, topics): copy just those.
        return {k: (v.copy() if isinstance(v, dict | list) else v) for k, v in cached.items()}

    def _repository(self, repo: Any) -> dict[str, Any]:
        full = repo.full_name
        out: dict[str, Any] = {
            "id": number_id("gitea-repo", full.lower()),
            "owner": self.user(repo.owner),
            "name": repo.name,
            "full_name": full,
            "description": "",
            "empty": False,
            "private": False,
            "fork": False,
            "template": False,
            "mirror": False,
            "size": 0,
            "language": "",
            "languages_url": f"{self.api}/repos/{full}/languages",
            "html_url": f"{self.base}/{full}",
            "url": f"{self.api}/repos/{full}",
            "link": "",
            "ssh_url": f"git@localhost:{full}.git",
            "clone_url": f"{self.base}/{full}.git",
            "original_url": "",
            "website": "",
            "stars_count": 0,
            "forks_count": 0,
            "watchers_count": 0,
            "open_issues_count": 0,
            "open_pr_counter": sum(1 for p in repo.pulls.values() if p.get("state", "open") == "open"),
            "release_counter": 0,
            "default_branch": repo.default_branch,
            "archived": False,
            "created_at": ZERO_TIME,
            "updated_at": self.time(self.now),
            "archived_at": "1970-01-01T00:00:00Z",
            "permissions": {"admin": False, "push": False, "pull": True},
            "has_issues": True,
            "has_wiki": False,
            "has_pull_requests": True,
            "has_projects": False,
            "has_releases": True,
            "has_packages": False,
            "has_actions": False,
            "ignore_whitespace_conflicts": False,
            "allow_merge_commits": True,
            "allow_rebase": True,
            "allow_rebase_explicit": True,
            "allow_squash_merge": True,
            "allow_fast_forward_only_merge": True,
            "allow_rebase_update": True,
            "default_delete_branch_after_merge": False,
            "default_merge_style": "merge",
            "default_allow_maintainer_edit": False,
            "avatar_url": "",
            "internal": False,
            "mirror_interval": "",
            "object_format_name": "sha1",
            "mirror_updated": ZERO_TIME,
            "topics": [],
            "licenses": [],
        }
        out.update(
            {
                k: v
                for k, v in repo.raw.items()
                if k not in ("branches", "pulls", "contents", "commits", "statuses")
            }
        )
        return out

    # --- pulls ------------------------------------------------------------------------------

    def _pr_branch(self, repo: Any, given: dict[str, Any] | None, *, number: int, head: bool) -> dict[str, Any]:
        """base or head as services/convert/pull.go (go-gitea/gitea) fills them.

        base: label and ref the branch name, sha the base branch's head *now* (not the fork
        point: that is the PR's merge_base). head: label the branch name; ref the branch while it
        exists, else the pull ref `refs/pull/N/head`, whose sha still resolves. Both carry the
        full Repository (same-repo PRs); the world's `repo: null` says the head repo was deleted.
        """
        given = dict(given or {})
        branch = str(given.get("label") or given.get("ref", ""))
        out: dict[str, Any] = {"label": branch, "ref": branch, "sha": given.get("sha", ""),
                               "repo_id": number_id("gitea-repo", repo.full_name.lower()),
                               "repo": self.repository(repo)}
        out.update({k: v for k, v in given.items() if k not in ("ref", "sha")})
        if head:
            if not repo.has_branch(branch):
                out["ref"] = f"refs/pull/{number}/head"
        else:
            current = repo.branch_head(branch)
            if current is not None:
                out["sha"] = current
        if out.get("repo") is None:
            out["repo_id"] = 0
        return out

    def pull(self, repo: Any, pull: dict[str, Any]) -> dict[str, Any]:
        full, number = repo.full_name, int(pull["number"])
        files = pull.get("files") or []
        merged = bool(pull.get("merged", False))
        state = pull.get("state", "open")
        html = f"{self.base}/{full}/pulls/{number}"
        base = self._pr_branch(repo, pull.get("base"), number=number, head=False)
        out: dict[str, Any] = {
            "id": number_id("gitea-pull", full.lower(), number),
            "url": html,
            "number": number,
            "user": self.user(pull.get("user") or {"login": repo.owner}),
            "title": pull.get("title", ""),
            "body": "",
            "labels": [],
            "milestone": None,
            "assignee": None,
            "assignees": None,
            "requested_reviewers": None,
            "requested_reviewers_teams": None,
            "state": state,
            "draft": False,
            "is_locked": False,
            "comments": len(pull.get("comments") or []),
            "review_comments": 0,
            "additions": sum(int(f.get("additions", 0)) for f in files),
            "deletions": sum(int(f.get("deletions", 0)) for f in files),
            "changed_files": len(files),
            "html_url": html,
            "diff_url": html + ".diff",
            "patch_url": html + ".patch",
            "mergeable": state == "open" and not merged,
            "merged": merged,
            "merged_at": None,
            "merge_commit_sha": None,
            "merged_by": None,
            "allow_maintainer_edit": False,
            "base": base,
            "head": self._pr_branch(repo, pull.get("head"), number=number, head=True),
            # The fork point. A world that writes no merge_base forked at the base.sha it wrote.
            "merge_base": pull.get("merge_base") or (pull.get("base") or {}).get("sha", ""),
            "due_date": None,
            "created_at": iso(self.now),
            "updated_at": iso(self.now),
            "closed_at": None,
            "pin_order": 0,
        }
        for key, value in pull.items():
            if key in ("commits", "files", "comments", "base", "head", "merge_base"):
                continue
            out[key] = value
        out["updated_at"] = pull_updated_at(pull, self.now)
        for key in _TIME_KEYS:
            out[key] = self.time(out.get(key))
        for key in ("user", "merged_by", "assignee"):
            out[key] = self.user(out[key]) if out[key] is not None else None
        return out

    def changed_file(self, repo: Any, pull: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        """services/convert/pull.go ToChangedFile: `status` is added, deleted, copied, renamed,
        unchanged or (otherwise) changed; a renamed file is listed by its new name, with the old one
        in `previous_filename` (omitempty: absent for every other file)."""
        full = repo.full_name
        sha = (pull.get("head") or {}).get("sha", "")
        name = given["filename"]
        out = {
            "filename": name,
            "status": "renamed" if given.get("previous_filename") else "changed",
            "additions": 0,
            "deletions": 0,
            "changes": int(given.get("additions", 0)) + int(given.get("deletions", 0)),
            "html_url": f"{self.base}/{full}/src/commit/{sha}/{name}",
            "contents_url": f"{self.api}/repos/{full}/contents/{name}?ref={sha}",
            "raw_url": f"{self.base}/{full}/raw/commit/{sha}/{name}",
        }
        out.update({k: v for k, v in given.items() if k != "patch"})
        return out

    # --- comments ---------------------------------------------------------------------------

    def comment(self, repo: Any, number: int, given: dict[str, Any]) -> dict[str, Any]:
        full = repo.full_name
        created = given.get("created_at") or iso(self.now)
        out = {
            "id": given["id"],
            "html_url": f"{self.base}/{full}/pulls/{number}#issuecomment-{given['id']}",
            "pull_request_url": f"{self.base}/{full}/pulls/{number}",
            # Gitea leaves issue_url empty on a pull request's comments.
            "issue_url": "",
            "user": None,
            "original_author": "",
            "original_author_id": 0,
            "body": "",
            "assets": [],
            "created_at": created,
            "updated_at": given.get("updated_at") or created,
        }
        out.update(given)
        out["user"] = self.user(out["user"])
        out["created_at"], out["updated_at"] = self.time(out["created_at"]), self.time(out["updated_at"])
        return out

    # --- commits and branches -------------------------------------------------------------

    def commit(self, repo: Any, given: dict[str, Any], files: bool = True) -> dict[str, Any]:
        full, sha = repo.full_name, given["sha"]
        meta = dict(given.get("commit") or {})
        author = dict(meta.get("author") or {})
        when = self.time(given.get("created") or author.get("date") or self.now)
        author_user = {"name": author.get("name", ""), "email": author.get("email", ""), "date": when}
        author_user.update(author)
        author_user["date"] = self.time(author_user["date"])
        # `created` is the commit date (services/convert/git_commit.go ToCommit: Committer.When);
        # a world that names no committer has the author commit it at that time.
        committer = dict(meta.get("committer") or {**author_user, "date": when})
        committer["date"] = self.time(committer.get("date") or when)
        inner = {
            "url": f"{self.api}/repos/{full}/git/commits/{sha}",
            "author": author_user,
            "committer": committer,
            "message": meta.get("message", ""),
            "tree": {"url": f"{self.api}/repos/{full}/git/trees/{sha}", "sha": sha, "created": when},
            "verification": {
                "verified": False,
                "reason": "gpg.error.not_signed_commit",
                "signature": "",
                "signer": None,
                "payload": "",
            },
        }
        inner.update({k: v for k, v in meta.items() if k not in ("author", "committer")})
        touched = [
            {"filename": f["filename"], "status": f.get("status", "modified")}
            for f in given.get("files") or []
        ]
        out: dict[str, Any] = {
            "url": f"{self.api}/repos/{full}/git/commits/{sha}",
            "sha": sha,
            "created": when,
            "html_url": f"{self.base}/{full}/commit/{sha}",
            "commit": inner,
            "author": self.user(author_user["name"]) if author_user.get("name") else None,
            "committer": self.user(committer.get("name")) if committer.get("name") else None,
            "parents": [],
            "stats": {"total": 0, "additions": 0, "deletions": 0},
        }
        for key in ("author", "committer"):
            if given.get(key) is not None:
                out[key] = self.user(given[key])
        for key in ("stats", "url", "html_url"):
            if key in given:
                out[key] = given[key]
        # services/convert/git_commit.go ToCommit: each parent as a CommitMeta (url, sha).
        out["parents"] = [{"url": f"{self.api}/repos/{full}/git/commits/{p['sha']}", "sha": p["sha"], **p}
                          for p in given.get("parents") or [] if isinstance(p, dict) and p.get("sha")]
        if files:
            out["files"] = touched
        return out

    def branch(self, repo: Any, given: dict[str, Any]) -> dict[str, Any]:
        full = repo.full_name
        commit = dict(given["commit"])
        sha = commit["id"]
        payload = {
            "id": sha,
            "message": "",
            "url": f"{self.base}/{full}/commit/{sha}",
            "author": {"name": "", "email": "", "username": ""},
            "committer": {"name": "", "email": "", "username": ""},
            "verification": None,
            "timestamp": commit.get("timestamp") or iso(self.now),
            "added": None,
            "removed": None,
            "modified": None,
        }
        payload.update(commit)
        payload["timestamp"] = self.time(payload["timestamp"])
        out = {
            "name": given["name"],
            "commit": payload,
            "protected": False,
            "required_approvals": 0,
            "enable_status_check": False,
            "status_check_contexts": [],
            "user_can_push": False,
            "user_can_merge": False,
            "effective_branch_protection_name": "",
        }
        out.update({k: v for k, v in given.items() if k != "commit"})
        return out

    # --- contents and statuses ------------------------------------------------------------

    def contents(self, repo: Any, ref_sha: str, path: str, text: str | None) -> dict[str, Any]:
        full = repo.full_name
        data = (text or "").encode()
        blob = hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()  # noqa: S324 - git's object id
        is_file = text is not None
        out: dict[str, Any] = {
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": blob if is_file else ref_sha,
            "last_commit_sha": ref_sha,
            "type": "file" if is_file else "dir",
            "size": len(data),
            "encoding": "base64" if is_file else None,
            "content": base64.b64encode(data).decode() if is_file else None,
            "target": None,
            "url": f"{self.api}/repos/{full}/contents/{path}?ref={ref_sha}",
            "html_url": f"{self.base}/{full}/src/commit/{ref_sha}/{path}",
            "git_url": f"{self.api}/repos/{full}/git/blobs/{blob}",
            "download_url": f"{self.base}/{full}/raw/commit/{ref_sha}/{path}" if is_file else None,
            "submodule_git_url": None,
        }
        out["_links"] = {"self": out["url"], "git": out["git_url"], "html": out["html_url"]}
        return out

    def status(self, repo: Any, sha: str, given: dict[str, Any]) -> dict[str, Any]:
        created = given.get("created_at") or iso(self.now)
        out = {
            "id": given["id"],
            "status": given.get("state", "pending"),
            "target_url": "",
            "description": "",
            "url": f"{self.api}/repos/{repo.full_name}/statuses/{sha}",
            "context": "default",
            "creator": None,
            "created_at": created,
            "updated_at": given.get("updated_at") or created,
        }
        out.update({k: v for k, v in given.items() if k != "state"})
        out["creator"] = self.user(out["creator"])
        out["created_at"], out["updated_at"] = self.time(out["created_at"]), self.time(out["updated_at"])
        return out
