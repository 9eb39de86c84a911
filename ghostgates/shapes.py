"""The shapes of the data that cross from fetching to judging: the fetch plan's outputs, the Swarm
snapshot, and what the facts and the rules read of them.

Plain JSON as the services send it (each API object stays `JSON`: hostile, bounded, read with
`.get`), cached by the run as JSON between xdist workers: TypedDicts say which keys the fetch side
writes and the judge side reads, so that a key renamed on one side is a type error on the other.
Every key may be missing (`total=False`): a hand-made world, a test or a partial read gives less.
"""

from __future__ import annotations

from typing import Any, TypedDict

JSON = dict[str, Any]  # one object as the API sends it


class Entry(TypedDict, total=False):
    """A source's cache entry: `ok` with the data, or `error` with the sentence and the error's class."""

    ok: Any
    error: str
    type: str


class PullParts(TypedDict, total=False):
    """One upgrade PR's reads: its comments; commits and files for the correct PR only."""

    comments: list[JSON]
    commits: list[JSON]
    files: list[JSON]


class GiteaData(TypedDict, total=False):
    base_url: str  # the web address evidence links point at
    repo: JSON
    pulls: list[JSON]
    pulls_since: str | None  # how far back the pulls list was read (older PRs: only the open ones)
    pulls_paging: dict[str, int]  # pages asked, and pages asked but not needed
    pr: dict[str, PullParts]  # by str(number)
    branches: list[JSON]
    members: dict[str, bool | None]  # login -> member, not, or None (hidden from this token)
    statuses: dict[str, list[JSON]]  # by head sha
    test_commits: dict[str, list[JSON]]  # by test path
    contents: dict[str, str | None]  # by contents_key(ref, path); None: no such file at that ref
    now: str | None  # the server's Date
    requests: int


class DroneData(TypedDict, total=False):
    base_url: str
    builds: list[JSON]
    missing: list[int]  # cited or linked builds Drone has no record of (a 404: purged, or never there)
    listed_since: str | None  # how far back the builds list was read (older builds were not listed)
    linked: list[int]  # builds that replies and statuses link on the PRs read
    paging: dict[str, int]  # the builds list's read-ahead: pages asked, and pages asked but not needed
    details: dict[str, JSON]  # by str(number)
    logs: dict[str, str]  # by str(number): the steps' lines joined in stage and step order
    log_errors: dict[str, str]  # by str(number): a log that could not be read (never an empty log)
    now: str | None
    requests: int


class SwarmSnapshot(TypedDict, total=False):
    """ghostgates.fetch.engine.fetch_swarm: the engine's own JSON, as the low-level API returns it."""

    engine: str  # the engine read, one line (ghostgates.fetch.engine.Engine.describe)
    now: str | None  # info.SystemTime
    info: JSON
    manager: bool  # an active swarm manager
    not_manager: str  # why not, where it is not
    nodes: list[JSON]
    networks: list[JSON]
    services: list[JSON]
    tasks: list[JSON]
    volumes: list[JSON]
    containers: list[JSON]
    secrets: list[JSON]
    configs: list[JSON]
    network_inspect: dict[str, JSON]  # the proxy network's verbose inspect, by name
    node_volumes: dict[str, list[str]]  # --node-hosts: volume names by node
    requests: int


def contents_key(ref: str, path: str) -> str:
    """Where GiteaData.contents holds `path` as it is at commit `ref` (the fetch plan writes it, M2.fix-minimal
    reads it)."""
    return f"{ref}:{path}"
