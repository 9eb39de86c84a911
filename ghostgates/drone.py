"""Reads of the test harness's builds on Drone: fetch only, plain JSON out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time
from typing import Any

from .errors import NotFound
from .http import ApiClient
from .phase import Phase
from .timeutil import parse_time


def list_builds(api: ApiClient, repo: str, since: datetime | None) -> list[dict[str, Any]]:
    """Builds newest first, paging back until a page reaches before `since`."""
    cutoff = since.timestamp() if since else None

    def older(batch: list[Any]) -> bool:
        return cutoff is not None and bool(batch) and (batch[-1].get("created") or 0) < cutoff

    return list(api.drone_pages(f"/repos/{repo}/builds", per_page=100, stop=older))


def get_build(api: ApiClient, repo: str, number: int) -> dict[str, Any] | None:
    try:
        return api.get_json(f"/repos/{repo}/builds/{number}")
    except NotFound:
        return None


def build_log(api: ApiClient, repo: str, build: dict[str, Any]) -> str:
    """Every step's log lines, joined in stage and step order."""
    lines: list[str] = []
    for stage in build.get("stages") or []:
        for step in stage.get("steps") or []:
            try:
                entries = api.get_json(
                    f"/repos/{repo}/builds/{build['number']}/logs/{stage['number']}/{step['number']}")
            except NotFound:
                continue  # a step that never ran has no log
            for entry in entries or []:
                lines.append(str(entry.get("out", "")).rstrip("\n"))
    return "\n".join(lines)


def fetch_drone(api: ApiClient, repo: str, since: datetime | None, extra: set[int],
                wants_log: Any) -> dict[str, Any]:
    """Builds since `since`, those cited elsewhere (`extra`), and logs of those `wants_log(b)` picks."""
    builds = list_builds(api, repo, since)
    have = {b["number"] for b in builds}
    missing: list[int] = []
    for number in sorted(extra - have):
        found = get_build(api, repo, number)
        if found is None:
            missing.append(number)
        else:
            builds.append(found)

    def detail_and_log(build: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
        detail = build if build.get("stages") else (get_build(api, repo, build["number"]) or build)
        return build["number"], detail, build_log(api, repo, detail)

    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(detail_and_log, [b for b in builds if wants_log(b)]))
    return {
        "builds": builds,
        "missing": missing,
        "details": {str(n): d for n, d, _ in done},
        "logs": {str(n): log for n, _, log in done},
        "now": api.server_date.isoformat() if api.server_date else None,
    }


def history_start(phase: Phase, gitea: dict[str, Any], correct: int | None) -> datetime | None:
    """How far back builds matter: the correct PR's birth, the phase, the classified day."""
    moments = [m for m in (phase.phase_started_at, phase.proxy_fixed_at) if m is not None]
    if phase.classify_failure_on is not None:
        moments.append(datetime.combine(phase.classify_failure_on, time.min, tzinfo=parse_time(0).tzinfo))
    for pr in gitea.get("pulls", []):
        if pr.get("number") == correct and pr.get("created_at"):
            moments.append(parse_time(pr["created_at"]))
    return min(moments) if moments else None
