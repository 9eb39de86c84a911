"""Drone JSON objects with the server's defaults (json tags of core/build.go, stage.go, step.go)."""

from __future__ import annotations

from typing import Any

from twin.ids import number_id

__all__ = ["DroneObjects"]


class DroneObjects:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def repo(self, repo: dict[str, Any]) -> dict[str, Any]:
        slug = repo["slug"]
        owner, name = slug.split("/", 1)
        builds = repo.get("builds") or []
        out: dict[str, Any] = {
            "id": number_id("drone-repo", slug.lower()),
            "uid": str(number_id("drone-repo-uid", slug.lower())),
            "user_id": 1,
            "namespace": owner,
            "name": name,
            "slug": slug,
            "scm": "",
            "git_http_url": f"https://git.invalid/{slug}.git",
            "git_ssh_url": f"git@git.invalid:{slug}.git",
            "link": f"https://git.invalid/{slug}",
            "default_branch": "main",
            "private": False,
            "visibility": "public",
            "active": True,
            "config_path": ".drone.yml",
            "trusted": False,
            "protected": False,
            "ignore_forks": False,
            "ignore_pull_requests": False,
            "auto_cancel_pull_requests": False,
            "auto_cancel_pushes": False,
            "auto_cancel_running": False,
            "timeout": 60,
            "counter": max((int(b["number"]) for b in builds), default=0),
            "synced": 0,
            "created": 0,
            "updated": 0,
            "version": 1,
            "archived": False,
            "permissions": {"read": True, "write": True, "admin": False},
        }
        out.update({k: v for k, v in repo.items() if k not in ("builds", "slug")})
        return out

    def build(self, repo: dict[str, Any], build: dict[str, Any], stages: bool) -> dict[str, Any]:
        slug = repo["slug"]
        ref = str(build.get("ref", ""))
        branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else ""
        out: dict[str, Any] = {
            "id": build["id"],
            "repo_id": number_id("drone-repo", slug.lower()),
            "trigger": "",
            "number": build["number"],
            "status": "pending",
            "event": "push",
            "action": "",
            "link": "",
            "timestamp": 0,
            "message": "",
            "before": "",
            "after": "",
            "ref": ref,
            "source_repo": "",
            "source": branch,
            "target": branch,
            "author_login": "",
            "author_name": "",
            "author_email": "",
            "author_avatar": "",
            "sender": "",
            "started": 0,
            "finished": 0,
            "created": 0,
            "updated": 0,
            "version": 1,
        }
        out.update({k: v for k, v in build.items() if k != "stages"})
        # A live Drone copies the commit into the build (handler/api/repos/builds/create.go
        # and the hook parsers: Timestamp = commit author date, Message, Author = its login).
        # A world that leaves them out gets its commit's stand-ins, never the zero values.
        if not out["timestamp"]:
            out["timestamp"] = out["created"]
        if not out["message"]:
            out["message"] = f"harness at {out['after'][:8]}" if out["after"] else "harness"
        if not out["author_login"]:
            out["author_login"] = out["sender"] or out["trigger"] or slug.split("/", 1)[0]
        if out["status"] == "pending":
            # core/build.go: a build that has not started has started 0 (and finished 0).
            out["started"] = 0
            out["finished"] = 0
        if not out["link"]:
            out["link"] = f"{self.base}/{slug}/{build['number']}"
        if not out.get("params"):
            out.pop("params", None)  # omitempty
        if stages:
            out["stages"] = [self.stage(slug, out, s) for s in build.get("stages") or []]
        return out

    def stage(self, slug: str, build: dict[str, Any], stage: dict[str, Any]) -> dict[str, Any]:
        status = stage.get("status", build["status"])
        out: dict[str, Any] = {
            "id": stage["id"],
            "repo_id": build["repo_id"],
            "build_id": build["id"],
            "number": stage["number"],
            "name": stage.get("name", "default"),
            "kind": "pipeline",
            "type": "docker",
            "status": status,
            "errignore": False,
            "exit_code": 0 if status != "failure" else 1,
            "os": "linux",
            "arch": "amd64",
            "started": build["started"],
            "stopped": build["finished"],
            "created": build["created"],
            "updated": build["updated"],
            "version": 1,
            "on_success": True,
            "on_failure": False,
        }
        out.update({k: v for k, v in stage.items() if k != "steps"})
        out["steps"] = [self.step(out, s) for s in stage.get("steps") or []]
        return out

    def step(self, stage: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
        status = step.get("status", stage["status"])
        out: dict[str, Any] = {
            "id": step["id"],
            # Drone's json tag puts the parent stage's id under `step_id` (an upstream typo).
            "step_id": stage["id"],
            "number": step["number"],
            "name": step.get("name", ""),
            "status": status,
            "exit_code": 0 if status != "failure" else 1,
            "started": stage["started"],
            "stopped": stage["stopped"],
            "version": 1,
        }
        out.update({k: v for k, v in step.items() if k != "log"})
        return out
