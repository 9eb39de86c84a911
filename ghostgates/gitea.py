"""Reads of the recipe repo on Gitea (API v1): fetch only, plain JSON out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

from .errors import NotFound
from .facts import head_branch
from .http import ApiClient
from .phase import Phase


def fetch_gitea(api: ApiClient, phase: Phase, correct_pr: int | None,
                compose_file: Any = None) -> dict[str, Any]:
    """The repo, its pulls and branches, and for each upgrade PR its commits, files and comments.

    `compose_file(name) -> bool` says which of the correct PR's changed files to read at its
    base and head (for M2.fix-minimal).
    """
    repo = phase.repo
    base = f"/repos/{repo}"
    repo_info = api.get_json(base)
    pulls = api.gitea_pages(f"{base}/pulls", {"state": "all"})
    numbers = {p["number"] for p in pulls if phase.is_upgrade(p.get("title", ""), head_branch(p))}
    if correct_pr is not None and any(p["number"] == correct_pr for p in pulls):
        numbers.add(correct_pr)

    def pr_parts(number: int) -> tuple[int, dict[str, Any]]:
        return number, {
            "commits": api.gitea_pages(f"{base}/pulls/{number}/commits"),
            "files": api.gitea_pages(f"{base}/pulls/{number}/files"),
            "comments": api.get_json(f"{base}/issues/{number}/comments"),
        }

    with ThreadPoolExecutor(max_workers=4) as pool:
        per_pr = dict(pool.map(pr_parts, sorted(numbers)))
        branches_f = pool.submit(api.gitea_pages, f"{base}/branches")
        tests_f = {str(tp): pool.submit(_test_commits, api, tp.repo, tp.path, phase)
                   for tp in phase.test_paths}
        branches = branches_f.result()
        test_commits = {k: f.result() for k, f in tests_f.items()}

    logins = sorted({c["user"]["login"] for parts in per_pr.values() for c in parts["comments"] if c.get("user")})
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = pool.map(lambda login: membership(api, phase.owner, login), logins)
        members = dict(zip(logins, answers, strict=True))

    statuses: dict[str, list[Any]] = {}
    contents: dict[str, str | None] = {}
    pr = next((p for p in pulls if p["number"] == correct_pr), None)
    if pr is not None:
        head_sha = (pr.get("head") or {}).get("sha", "")
        statuses[head_sha] = api.gitea_pages(f"{base}/commits/{head_sha}/statuses")
        if compose_file is not None:
            # The BRIEF's contract: the base side at the PR's merge base (base.sha moves with main).
            base_sha = pr.get("merge_base") or ""
            for changed in per_pr[pr["number"]]["files"]:
                name = changed.get("filename", "")
                if not compose_file(name):
                    continue
                old_name = changed.get("previous_filename") or name
                contents[f"{base_sha}:{old_name}"] = raw_file(api, repo, old_name, base_sha)
                contents[f"{head_sha}:{name}"] = raw_file(api, repo, name, head_sha)
    return {
        "base_url": api.base_url.removesuffix("/api/v1"),
        "repo": repo_info,
        "pulls": pulls,
        "pr": {str(k): v for k, v in per_pr.items()},
        "branches": branches,
        "members": members,
        "statuses": statuses,
        "test_commits": test_commits,
        "contents": contents,
        "now": api.server_date.isoformat() if api.server_date else None,
    }


def membership(api: ApiClient, org: str, login: str) -> bool | None:
    """True/False as Gitea answers /orgs/{org}/members/{login}; None when it hides the answer.

    routers/api/v1/org/member.go answers 204/404 only to a member's or an admin's token and
    redirects anyone else (303) to the public members, where a private member looks like a
    non-member: that redirect is not followed, it is "this token cannot see".
    """
    try:
        response = api.request("GET", f"/orgs/{quote(org)}/members/{quote(login)}", ok=(204, 303),
                               follow_redirects=False)
    except NotFound:
        return False
    return True if response.status_code == 204 else None


def _test_commits(api: ApiClient, repo: str, path: str, phase: Phase) -> list[Any]:
    params: dict[str, Any] = {"path": path}
    if phase.phase_started_at is not None:
        params["since"] = phase.phase_started_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return api.gitea_pages(f"/repos/{repo}/commits", params)


def raw_file(api: ApiClient, repo: str, path: str, ref: str) -> str | None:
    try:
        response = api.request("GET", f"/repos/{repo}/raw/{quote(path)}", params={"ref": ref})
    except NotFound:
        return None
    return response.text


def post_comment(api: ApiClient, repo: str, number: int, body: str) -> dict[str, Any]:
    return api.post_json(f"/repos/{repo}/issues/{number}/comments", {"body": body})
