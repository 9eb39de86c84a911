"""Drone's builds list read ahead (issue 22), back to the window and no further, and the builds that
replies link read one by one where the list stopped before them (issue 18).

The fake Drone answers as handler/api/repos/builds/list.go does: newest first, `page` and
`per_page` (1..100), no count header; handler/api/repos/builds/find.go answers 404 for a number the
repo does not have (never had, or purged).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from ghostgates.errors import Malformed
from ghostgates.fetch.http import ApiClient
from ghostgates.fetch.plan import DRONE_PER_PAGE, PER_SERVICE, DronePlan

BASE = "https://drone.example.org/api"
T0 = 1_700_000_000  # build 1's `created`; one build an hour after it


def build(number: int) -> dict[str, Any]:
    return {"number": number, "status": "success", "created": T0 + 3600 * number, "params": {}}


class FakeDrone:
    def __init__(self, count: int, purged: set[int] = frozenset(), cut: dict[int, int] | None = None) -> None:
        self.builds = [build(n) for n in range(count, 0, -1) if n not in purged]
        self.cut = dict(cut or {})  # page -> times it comes back one build short
        self.pages: list[int] = []
        self.singles: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/builds"):
            query = parse_qs(request.url.query.decode())
            page, per_page = int(query["page"][0]), int(query["per_page"][0])
            with self.lock:
                self.pages.append(page)
                short = self.cut.get(page, 0) > 0
                if short:
                    self.cut[page] -= 1
            chunk = self.builds[(page - 1) * per_page: page * per_page]
            return httpx.Response(200, json=chunk[:-1] if short else chunk)
        number = int(path.rsplit("/", 1)[1])
        with self.lock:
            self.singles.append(number)
        found = next((b for b in self.builds if b["number"] == number), None)
        return httpx.Response(200, json=found) if found else httpx.Response(404, json={"message": "Not Found"})


def plan(drone: FakeDrone, floor: int | None = None, cited: set[int] = frozenset(),
         linked: set[int] | None = None) -> tuple[DronePlan, ApiClient]:
    api = ApiClient("Drone", BASE, {}, retries=2, backoff=0)
    api._client = httpx.Client(base_url=BASE, transport=httpx.MockTransport(drone))
    links: Future[set[int]] | None = None
    if linked is not None:
        links = Future()
        links.set_result(set(linked))
    moment = None if floor is None else datetime.fromtimestamp(build(floor)["created"], tz=UTC)
    return DronePlan(api, "o/r", set(cited), lambda b: False, moment, linked=links), api


def test_the_whole_list_is_read_with_pages_in_flight_and_one_page_past_its_end() -> None:
    drone = FakeDrone(950)
    got, api = plan(drone)
    data = got.run()
    assert [b["number"] for b in data["builds"]] == list(range(950, 0, -1))
    assert data["listed_since"] is None  # read to its end: nothing older left unread
    # Pages 1..10 hold builds; page 11 (empty) says page 10's 50 builds are the end, not a cut.
    assert sorted(drone.pages) == list(range(1, 12)) and api.requests == 11
    assert data["paging"]["ahead_unused"] == 0
    assert data["paging"]["most_ahead"] == PER_SERVICE


def test_the_list_stops_at_the_window_with_few_pages_wasted() -> None:
    drone = FakeDrone(3000)
    got, _ = plan(drone, floor=2000)
    data = got.run()
    numbers = [b["number"] for b in data["builds"]]
    # Every build inside the window (less the clock skew) is read; the page that reaches past the
    # floor ends the list.
    assert set(range(2000, 3001)) <= set(numbers)
    needed = -(-(3000 - 2000 + 1) // DRONE_PER_PAGE)
    assert max(numbers) == 3000 and min(numbers) > 2000 - DRONE_PER_PAGE
    assert data["listed_since"] is not None
    assert len(drone.pages) <= needed + 2
    assert data["paging"]["ahead_unused"] <= 2


def test_a_page_cut_short_is_read_again_not_taken_for_the_end() -> None:
    drone = FakeDrone(450, cut={3: 1})
    got, _ = plan(drone)
    data = got.run()
    assert [b["number"] for b in data["builds"]] == list(range(450, 0, -1))
    assert data["paging"]["rereads"] == 1 and drone.pages.count(3) == 2


def test_a_page_cut_every_time_is_malformed() -> None:
    drone = FakeDrone(450, cut={2: 99})
    got, _ = plan(drone)
    with pytest.raises(Malformed, match="cut short"):
        got.run()


def test_builds_replies_link_beyond_the_window_are_read_and_purged_ones_marked() -> None:
    # Build 40 is older than the window, 30 was purged: pairing replies with testmes needs to know
    # which linked builds Drone still has (gates.md, *Its build*), never to guess it from the list.
    drone = FakeDrone(1000, purged={30})
    got, _ = plan(drone, floor=900, cited={950}, linked={40, 30, 960})
    data = got.run()
    numbers = {b["number"] for b in data["builds"]}
    assert 40 in numbers and 30 not in numbers and data["missing"] == [30]
    assert sorted(drone.singles) == [30, 40, 950]  # 960 is listed: not read twice
    assert data["linked"] == [30, 40, 960]


def test_no_linked_builds_read_when_gitea_could_not_say() -> None:
    drone = FakeDrone(50)
    got, _ = plan(drone)
    data = got.run()
    assert drone.singles == [] and data["linked"] == []
