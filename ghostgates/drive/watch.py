"""The trigger's I/O: the fresh reads it decides on, the post, and the loops that follow a build.

Reads go straight to the services (never through the run's shared-fetch cache), so the gates
that run afterwards fetch the state as it is after the trigger. Deciding stays in
`ghostgates.drive.trigger`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from ghostgates.drive.trigger import is_finished, progress_line
from ghostgates.fetch import drone
from ghostgates.fetch.http import ApiClient
from ghostgates.judge.facts import Facts, Testme, head_sha
from ghostgates.read.phase import Phase
from ghostgates.read.statefile import StateFile

Emit = Callable[[str], None]


@dataclass
class Watched:
    build: dict[str, Any]
    finished: bool
    now: datetime | None


def pr_view(gitea_api: ApiClient, drone_api: ApiClient, phase: Phase, state: StateFile | None,
            number: int) -> Facts:
    """A small fresh view of one PR: its comments (and who is a member), its head's statuses, the
    harness's newest builds. Enough for `build_for_testme`, cheap enough to poll."""
    base = f"/repos/{phase.repo}"
    pr = gitea_api.get_json(f"{base}/pulls/{number}")
    comments = gitea_api.get_json(f"{base}/issues/{number}/comments")
    logins = {c["user"]["login"] for c in comments if c.get("user")}
    # One reading of membership (ghostgates/fetch/gitea.py), the one the fixtures use.
    members = {login: gitea_api.membership(phase.owner, login) for login in sorted(logins)}
    sha = head_sha(pr)
    statuses = {sha: gitea_api.gitea_pages(f"{base}/commits/{quote(sha, safe='')}/statuses")} if sha else {}
    builds = drone_api.get_json(f"/repos/{phase.drone_repo}/builds", {"page": 1, "per_page": 50})
    facts = Facts(
        phase=phase,
        gitea={"pulls": [pr], "pr": {str(number): {"comments": comments}}, "members": members,
               "statuses": statuses, "base_url": gitea_api.base_url.removesuffix("/api/v1")},
        drone={"builds": builds, "base_url": drone_api.base_url.removesuffix("/api")},
        state=state,
    )
    # The services' clock when they gave one (the view's rules never read the local one).
    facts.now = drone_api.server_date or gitea_api.server_date or facts.now
    return facts


def token_user(gitea_api: ApiClient) -> str:
    """The login the token acts as: the one whose `!testme` the bridge must obey.

    Gitea: GET /user is the authenticated user (routers/api/v1/user/user.go GetAuthenticatedUser).
    """
    user = gitea_api.get_json("/user")
    return str((user or {}).get("login") or "")


def locate(view: Callable[[], Facts], testme: Testme, *, timeout: float, interval: float, emit: Emit,
           sleep: Callable[[float], None] = time.sleep,
           monotonic: Callable[[], float] = time.monotonic) -> dict[str, Any] | None:
    """Poll until the bridge's build for `testme` shows up (reply, status or new build), or None."""
    start = monotonic()
    while True:
        build = view().started_build(testme)
        if build is not None:
            return build
        if monotonic() - start >= timeout:
            return None
        emit(f"waiting for the bridge to start a build for testme {testme.id} ({int(monotonic() - start)}s)")
        sleep(interval)


def follow(drone_api: ApiClient, repo: str, number: int, *, timeout: float, interval: float, emit: Emit,
           sleep: Callable[[float], None] = time.sleep,
           monotonic: Callable[[], float] = time.monotonic) -> Watched:
    """Poll build `number` until it ends or `timeout` local seconds pass, emitting a progress line each time.

    The timeout is measured on the local clock (how long we are willing to wait), the build's
    elapsed time on the services' clock (what the build did).
    """
    start = monotonic()
    while True:
        build = drone.get_build(drone_api, repo, number)
        if build is None:
            raise LookupError(f"build #{number} does not exist on {repo}")
        emit(progress_line(build, drone_api.server_date))
        if is_finished(build):
            return Watched(build, True, drone_api.server_date)
        if monotonic() - start >= timeout:
            return Watched(build, False, drone_api.server_date)
        sleep(interval)

