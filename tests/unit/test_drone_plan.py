"""Drone's builds list read ahead (issue 22), back to the window and no further, and the builds that
replies link read one by one where the list stopped before them (issue 18).

The fake Drone answers as handler/api/repos/builds/list.go does: newest first, `page` and
`per_page` (1..100), no count header; handler/api/repos/builds/find.go answers 404 for a number the
repo does not have (never had, or purged).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from ghostgates.errors import Malformed, NotFound, ServiceError
from ghostgates.fetch.http import ApiClient
from ghostgates.fetch.plan import DRONE_IN_FLIGHT, DRONE_PER_PAGE, DronePlan, step_log_lines
from ghostgates.fetch.retry import RetryPolicy
from ghostgates.fetch.stream import CutShort, NotAList, json_array_items

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
    api = ApiClient("Drone", BASE, {}, policy=RetryPolicy(retries=2, backoff=0))
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
    # No floor, so no estimate: the window doubles (2, 4, 8); the lowest build number then bounds it.
    assert data["paging"]["most_ahead"] == 8


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


# -- step logs read as a stream ----------------------------------------------------------------


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)] or [b""]


@pytest.mark.parametrize("size", [1, 3, 7, 64, 1 << 20])
def test_json_array_items_as_the_text_arrives(size: int) -> None:
    items = [{"pos": 0, "out": "ünïcode ✓ line\n", "time": 1}, {"pos": 1, "out": "x" * 5000, "time": 2},
             [1, 2], "s", 12345, -1.5e3, True, None, {"nested": {"a": [1, {"b": "]"}]}}]
    data = json.dumps(items, indent=1).encode()
    assert list(json_array_items(pieces(data, size))) == items
    assert list(json_array_items(pieces(b" [ ] ", size))) == []


@pytest.mark.parametrize("body", [b'[{"pos": 0}', b'[{"pos": 0},', b"[1 2]", b"[1]x", b"", b'[{"a": "\xff"}]'])
def test_json_array_items_cut_or_broken(body: bytes) -> None:
    with pytest.raises(CutShort):
        list(json_array_items(pieces(body, 2)))


def test_json_array_items_not_an_array() -> None:
    with pytest.raises(NotAList):
        list(json_array_items([b'{"message": "Not Found"}']))


def test_a_huge_item_costs_linear_time() -> None:
    # One 8 MB line in 1 KB chunks: a retry per chunk would scan 32 GB of text.
    data = json.dumps([{"out": "a" * (8 << 20)}]).encode()
    calls = {"n": 0}
    real = json.JSONDecoder.raw_decode

    def counted(self: json.JSONDecoder, s: str, idx: int = 0) -> tuple[Any, int]:
        calls["n"] += 1
        return real(self, s, idx)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(json.JSONDecoder, "raw_decode", counted)
        assert len(next(iter(json_array_items(pieces(data, 1024))))["out"]) == 8 << 20
    assert calls["n"] < 20


def log_api(answers: list[httpx.Response]) -> ApiClient:
    api = ApiClient("Drone", BASE, {}, policy=RetryPolicy(retries=2, backoff=0))
    replies = iter(answers)
    api._client = httpx.Client(base_url=BASE, transport=httpx.MockTransport(lambda request: next(replies)))
    return api


def test_step_log_lines_split_every_out_into_lines() -> None:
    body = [{"pos": 0, "out": "one\n", "time": 0}, {"pos": 1, "out": "two\nthree\n", "time": 1},
            {"pos": 2, "out": "four", "time": 2}]
    assert step_log_lines(log_api([httpx.Response(200, json=body)]), "/l") == ["one", "two", "three", "four"]


def test_a_step_log_cut_short_is_read_again_then_malformed() -> None:
    whole = httpx.Response(200, json=[{"out": "a\n"}])
    api = log_api([httpx.Response(200, content=b'[{"out": "a\\n"}'), whole])
    assert step_log_lines(api, "/l") == ["a"] and api.requests == 2
    cut = [httpx.Response(200, content=b'[{"out": "a') for _ in range(3)]
    with pytest.raises(Malformed, match="not complete JSON"):
        step_log_lines(log_api(cut), "/l")


def test_a_step_log_over_its_limit_is_an_error_not_a_shorter_log() -> None:
    body = [{"out": "x" * 100} for _ in range(100)]
    with pytest.raises(ServiceError, match="log limit"):
        step_log_lines(log_api([httpx.Response(200, json=body)]), "/l", limit=5000)


def test_a_step_log_404_is_not_found() -> None:
    with pytest.raises(NotFound):
        step_log_lines(log_api([httpx.Response(404, json={"message": "Not Found"})] * 2), "/l")


@pytest.mark.parametrize("size", [997, 1 << 16, 1 << 22])
def test_json_array_items_in_bulk_where_a_string_holds_the_separator(size: int) -> None:
    # Text that looks like an item boundary inside a string: the bulk parse must not split there.
    items = [{"pos": i, "out": ('{"a": 1},{"b": 2}' if i % 7 == 0 else f"line {i}") + "\n", "time": i}
             for i in range(20000)]
    data = json.dumps(items).encode()
    assert list(json_array_items(pieces(data, size))) == items


def test_full_pages_that_never_end_stop_at_the_page_limit() -> None:
    """A Drone whose builds list never ends (every page full, however far) is read up to the client's
    page limit (http.Limits, --http-max-pages), read-ahead pages included: an error, not a hang."""
    from ghostgates.fetch.http import Limits

    class Endless(FakeDrone):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/builds"):
                query = parse_qs(request.url.query.decode())
                page, per_page = int(query["page"][0]), int(query["per_page"][0])
                with self.lock:
                    self.pages.append(page)
                top = 10_000_000 - (page - 1) * per_page
                return httpx.Response(200, json=[build(n) for n in range(top, top - per_page, -1)])
            return super().__call__(request)

    drone = Endless(0)
    got, api = plan(drone)
    api.limits = Limits(max_pages=7)
    with pytest.raises(ServiceError, match=r"still had full pages after 7 pages, the limit of one list"):
        got.run()
    assert max(drone.pages) <= 8 and len(drone.pages) <= 8 + DRONE_IN_FLIGHT


def test_a_step_log_trickling_past_its_time_limit_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A log whose bytes keep coming, slowly, is bounded in time as well as in size (plan.LOG_SECONDS)."""
    from ghostgates.fetch import plan as plan_module

    monkeypatch.setattr(plan_module, "LOG_SECONDS", 0.2)

    class Trickle(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b"["
            while True:
                time.sleep(0.05)
                yield b'{"pos":0,"out":"x\\n","time":0},'

    api = ApiClient("Drone", BASE, {}, policy=RetryPolicy(retries=0, backoff=0))
    api._client = httpx.Client(base_url=BASE, transport=httpx.MockTransport(
        lambda request: httpx.Response(200, stream=Trickle())))
    with pytest.raises(ServiceError, match=r"took more than 0.2 s \(the log's time limit\)"):
        step_log_lines(api, "/repos/o/r/builds/1/logs/1/1")
