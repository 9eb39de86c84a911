"""Reads of the test harness's builds on Drone: fetch only, plain JSON out.

The list and log reading is the fetch plan's (ghostgates.fetch.plan); this module is its face for
callers that read Drone alone (the trigger and the watcher).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ghostgates.errors import NotFound
from ghostgates.fetch.http import ApiClient
from ghostgates.fetch.plan import DronePlan, build_log, phase_moments
from ghostgates.read.phase import Phase
from ghostgates.shapes import DroneData, GiteaData
from ghostgates.timeutil import parse_time

__all__ = ["build_log", "fetch_drone", "get_build", "history_start"]


def get_build(api: ApiClient, repo: str, number: int) -> dict[str, Any] | None:
    """One build; None when Drone has no such build (its 404 for a number it never had)."""
    try:
        return api.get_json(f"/repos/{repo}/builds/{number}")
    except NotFound:
        return None


def fetch_drone(api: ApiClient, repo: str, since: datetime | None, extra: set[int],
                wants_log: Callable[[dict[str, Any]], bool]) -> DroneData:
    """Builds since `since`, those cited elsewhere (`extra`), and logs of those `wants_log(b)` picks;
    a log that could not be read is under `log_errors`, never an empty log."""
    return DronePlan(api, repo, extra, wants_log, since).run()


def history_start(phase: Phase, gitea: GiteaData, correct: int | None) -> datetime | None:
    """How far back builds matter: the correct PR's birth, the phase, the classified day."""
    moments = phase_moments(phase)
    for pr in gitea.get("pulls", []):
        if pr.get("number") == correct and pr.get("created_at"):
            moments.append(parse_time(pr["created_at"]))
    return min(moments) if moments else None
