"""Drone state: repos and their builds (with stages, steps and logs), plus builds posted live."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from twin.http import NotFound
from twin.ids import number_id

__all__ = ["DroneBackend"]

# Not build params: Drone reads these itself (handler/api/repos/builds/create.go).
RESERVED_CREATE_KEYS = frozenset({"access_token", "branch", "commit", "message", "action"})


class DroneBackend:
    """The live Drone model of one twin run."""

    def __init__(self, drone: dict[str, Any], now: datetime, user: str) -> None:
        self.now = now
        self.user = user
        self.repos: dict[str, dict[str, Any]] = {}
        for full_name, body in (drone.get("repos") or {}).items():
            body.setdefault("builds", [])
            self.repos[full_name.lower()] = {"slug": full_name, **body}
            for build in body["builds"]:
                self.number_parts(full_name, build)
        self._lock = threading.Lock()

    @staticmethod
    def number_parts(full_name: str, build: dict[str, Any]) -> None:
        """Stage and step numbers from 1 in order; ids made up, stable per repo and position."""
        build.setdefault("id", number_id("drone-build", full_name.lower(), build["number"]))
        for s, stage in enumerate(build.get("stages") or [], start=1):
            stage.setdefault("number", s)
            stage.setdefault("id", number_id("drone-stage", full_name.lower(), build["number"], s))
            for t, step in enumerate(stage.get("steps") or [], start=1):
                step.setdefault("number", t)
                step.setdefault("id", number_id("drone-step", full_name.lower(), build["number"], s, t))

    def get_repo(self, owner: str, name: str) -> dict[str, Any]:
        repo = self.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise NotFound("Not Found")
        return repo

    def list_builds(
        self, owner: str, name: str, branch: str | None = None, tag: str | None = None
    ) -> list[dict[str, Any]]:
        builds = list(self.get_repo(owner, name)["builds"])
        if branch:
            builds = [b for b in builds if b.get("ref") == f"refs/heads/{branch}"]
        elif tag:
            builds = [b for b in builds if b.get("ref") == f"refs/tags/{tag}"]
        return sorted(builds, key=lambda b: int(b["number"]), reverse=True)

    def get_build(self, owner: str, name: str, number: int) -> dict[str, Any]:
        for build in self.get_repo(owner, name)["builds"]:
            if int(build["number"]) == number:
                return build
        raise NotFound("Not Found")

    def get_step(self, owner: str, name: str, number: int, stage: int, step: int) -> dict[str, Any]:
        build = self.get_build(owner, name, number)
        for st in build.get("stages") or []:
            if st["number"] == stage:
                for sp in st.get("steps") or []:
                    if sp["number"] == step:
                        return sp
        raise NotFound("Not Found")

    def find_logs(self, owner: str, name: str, number: int, stage: int, step: int) -> list[str]:
        text = str(self.get_step(owner, name, number, stage, step).get("log") or "")
        return text.splitlines()

    def create_build(
        self,
        owner: str,
        name: str,
        *,
        branch: str | None,
        commit: str | None,
        message: str | None,
        action: str | None,
        params: dict[str, str],
    ) -> dict[str, Any]:
        repo = self.get_repo(owner, name)
        branch = branch or str(repo.get("default_branch") or "main")
        ref = f"refs/heads/{branch}"
        known = [b for b in repo["builds"] if b.get("ref") == ref and b.get("after")]
        if not commit:
            # Drone asks the forge for the branch head; the twin knows the last sha built there.
            commit = max(known, key=lambda b: int(b["number"]))["after"] if known else ""
        stamp = int(self.now.timestamp())
        # handler/api/repos/builds/create.go copies the commit into the hook: its message, its
        # author's login and date. The twin's forge knows the commit from earlier builds of it.
        same = [b for b in known if b.get("after") == commit]
        seen = max(same, key=lambda b: int(b["number"])) if same else {}
        with self._lock:
            number = 1 + max((int(b["number"]) for b in repo["builds"]), default=0)
            build: dict[str, Any] = {
                "number": number,
                "status": "pending",
                "event": "custom",
                "action": action or "",
                "ref": ref,
                "source": branch,
                "target": branch,
                "before": commit,
                "after": commit,
                "message": message or seen.get("message") or "",
                "timestamp": int(seen.get("timestamp") or seen.get("created") or stamp),
                "trigger": self.user,
                "sender": self.user,
                "author_login": str(seen.get("author_login") or self.user),
                "params": dict(params),
                "created": stamp,
                "updated": stamp,
                "started": 0,
                "finished": 0,
                "stages": [],
            }
            self.number_parts(repo["slug"], build)
            repo["builds"].append(build)
        return build

    def set_stages(self, owner: str, name: str, number: int, stages: list[dict[str, Any]]) -> dict[str, Any]:
        """Give a build its stages and steps (what the runner reports once it picks the build up)."""
        repo = self.get_repo(owner, name)
        with self._lock:
            build = self.get_build(owner, name, number)
            build["stages"] = stages
            self.number_parts(repo["slug"], build)
        return build
