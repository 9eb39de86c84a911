"""Drone handlers: parse the request, ask the model, render."""

from __future__ import annotations

from werkzeug.wrappers import Request

from twin.drone.models import RESERVED_CREATE_KEYS, DroneBackend
from twin.drone.objects import DroneObjects
from twin.http import Reply, json_reply

__all__ = ["DroneResponses"]

DEFAULT_PER_PAGE = 25  # handler/api/repos/builds/list.go: outside 1..100 falls back to 25


def _int_arg(request: Request, name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


class DroneResponses:
    """One method per route id of the contract's x-routes (builds.list -> builds_list)."""

    def __init__(self, backend: DroneBackend, objects: DroneObjects) -> None:
        self.backend = backend
        self.objects = objects

    def version(self, request: Request) -> Reply:
        # handler/web/version.go (HandleVersion): source, version, commit; served without a token.
        return json_reply({"source": "https://github.com/harness/drone.git", "version": "2.26.0",
                           "commit": "0b8d0e4bd3b32dbd2f5b1d8e1c3c5b6a9e5f7a21"})

    def user_self(self, request: Request) -> Reply:
        login = self.backend.user
        return json_reply(
            {
                "id": 1,
                "login": login,
                "email": f"{login}@example.invalid",
                "machine": False,
                "admin": False,
                "active": True,
                "avatar": "",
                "syncing": False,
                "synced": 0,
                "created": 0,
                "updated": 0,
                "last_login": 0,
            }
        )

    def repo_get(self, request: Request, owner: str, name: str) -> Reply:
        return json_reply(self.objects.repo(self.backend.get_repo(owner, name)))

    def builds_list(self, request: Request, owner: str, name: str) -> Reply:
        repo = self.backend.get_repo(owner, name)
        page = max(_int_arg(request, "page", 1), 1)
        per_page = _int_arg(request, "per_page", DEFAULT_PER_PAGE)
        if per_page < 1 or per_page > 100:
            per_page = DEFAULT_PER_PAGE
        builds = self.backend.list_builds(owner, name, request.args.get("branch"), request.args.get("tag"))
        chunk = builds[(page - 1) * per_page : page * per_page]
        return json_reply([self.objects.build(repo, b, stages=False) for b in chunk])

    def builds_get(self, request: Request, owner: str, name: str, number: int) -> Reply:
        repo = self.backend.get_repo(owner, name)
        return json_reply(self.objects.build(repo, self.backend.get_build(owner, name, number), stages=True))

    def builds_logs(
        self, request: Request, owner: str, name: str, number: int, stage: int, step: int
    ) -> Reply:
        lines = self.backend.find_logs(owner, name, number, stage, step)
        return json_reply([{"pos": i, "out": line + "\n", "time": i} for i, line in enumerate(lines)])

    def builds_create(self, request: Request, owner: str, name: str) -> Reply:
        params = {k: v for k, v in request.args.items() if k not in RESERVED_CREATE_KEYS}
        build = self.backend.create_build(
            owner,
            name,
            branch=request.args.get("branch"),
            commit=request.args.get("commit"),
            message=request.args.get("message"),
            action=request.args.get("action"),
            params=params,
        )
        repo = self.backend.get_repo(owner, name)
        return json_reply(self.objects.build(repo, build, stages=True))
