"""The bytes of one list in all, across its pages (`--http-max-list-bytes`), against a hostile
server on 127.0.0.1.

Each page is bounded (`--http-max-bytes`) and so is the page count (`--http-max-pages`), but 1000
pages of 60 MiB would still be 60 GB. One `ListBudget` per list counts its pages' bodies as they
arrive, pages read in parallel included: past it the list is an `error` (LimitExceeded) naming
the page's URL and the limit, never a shorter list.

The server pages as Gitea does (routers/api/v1/utils/page.go: `page`, `limit`, X-Total-Count and
a Link rel="next", services/context/api.go SetLinkHeader) and as Drone does
(handler/api/repos/builds/list.go: `page`, `per_page` up to 100, newest first, no count). Items
are padded so that a page weighs about PAGE_BYTES.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ghostgates.fetch.http import ApiClient, LimitExceeded, Limits, ListBudget
from ghostgates.fetch.plan import DRONE_PER_PAGE, DronePlan, fetch_all
from ghostgates.fetch.retry import RetryPolicy
from ghostgates.fetch.services import Settings, gitea_client
from ghostgates.read.phase import Phase

from ._serving import serving

PER_PAGE = 50
PAD = 20000  # bytes of padding per item: a Gitea page of 50 about 1 MiB
BUDGET = 8 << 20


def _item(number: int) -> dict[str, Any]:
    """An item whose JSON has the same length whatever its number (a page's size is known exactly)."""
    return {"id": number, "number": number, "body": "x" * (PAD - 2 * len(str(number)))}


class Lists(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: dict[str, int] = {}
    items = 1000  # how many items the Gitea lists hold
    builds = 3000  # how many builds Drone's list holds

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        Lists.hits[parts.path] = Lists.hits.get(parts.path, 0) + 1
        page = int(query.get("page", "1"))
        if parts.path.endswith("/builds"):  # Drone: newest first, no count
            per = int(query["per_page"])
            top = Lists.builds - (page - 1) * per
            numbers = range(top, max(top - per, 0), -1)
            body = [{"number": n, "status": "success", "created": 1_700_000_000 + 60 * n, "params": {},
                     "message": "x" * PAD} for n in numbers]
            self._json(body, {}, chunked=False)
            return
        limit = int(query.get("limit", str(PER_PAGE)))
        start = (page - 1) * limit
        batch = [_item(n) for n in range(start, min(start + limit, Lists.items))]
        headers = {}
        if parts.path.endswith("/counted") or parts.path.endswith("/counted-chunked"):
            headers["X-Total-Count"] = str(Lists.items)
        if start + limit < Lists.items:
            headers["Link"] = f'<{parts.path}?page={page + 1}>; rel="next"'
        self._json(batch, headers, chunked=parts.path.endswith("-chunked"))

    def _json(self, body: Any, headers: dict[str, str], chunked: bool) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        for key, value in headers.items():
            self.send_header(key, value)
        try:
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for at in range(0, len(data), 65536):
                    piece = data[at:at + 65536]
                    self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
        except OSError:  # the client hung up: what a refused page should see
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None


@pytest.fixture
def lists() -> Iterator[str]:
    Lists.hits, Lists.items, Lists.builds = {}, 1000, 3000
    server = _Server(("127.0.0.1", 0), Lists)
    with serving(server):
        yield f"http://127.0.0.1:{server.server_port}"


def _client(base: str, service: str = "Gitea", budget: int = BUDGET) -> ApiClient:
    return ApiClient(service, base + "/api", {}, timeout=10, policy=RetryPolicy(retries=1, backoff=0.01),
                     limits=Limits(max_body_bytes=4 << 20, max_pages=1000, max_list_bytes=budget))


def _page_bytes(count: int = PER_PAGE) -> int:
    return len(json.dumps([_item(n) for n in range(count)]).encode())


def _refused(read: Any) -> tuple[str, int]:
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceeded) as caught:
            read()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(caught.value), peak


@pytest.mark.parametrize("path", ["/counted", "/counted-chunked"])
def test_a_counted_list_read_in_parallel_stops_at_the_budget(lists: str, path: str) -> None:
    # 5000 items, 100 pages of about 1 MiB, all sent at once once page 1 gives the count.
    Lists.items = 5000
    with ThreadPoolExecutor(8) as pool:
        message, peak = _refused(lambda: _client(lists).gitea_pages(path, submit=pool.submit))
    assert f"Gitea: GET {lists}/api{path}?page=" in message
    assert (f"past {BUDGET} bytes in all, the limit of one list (--http-max-list-bytes): the rest was not read"
            in message) or (f"the limit of one list's pages, {BUDGET} bytes in all (--http-max-list-bytes): not read"
                            in message)
    # Asked: the pages up to the budget and those in flight when it ran out; the rest never.
    assert Lists.hits[f"/api{path}"] < BUDGET // _page_bytes() + 1 + 8 + 1
    # Held: the budget's pages (bytes, then parsed) and the pages in flight when it ran out, never
    # the list's 100 MiB.
    assert peak < 2 * BUDGET + 8 * 3 * _page_bytes(), f"{peak} bytes held"


def test_a_page_announcing_more_than_is_left_is_refused_unread(lists: str) -> None:
    # Serially: 7 pages of about 1 MiB fit in 8 MiB; the 8th announces more than the rest of it.
    size = _page_bytes()
    fit = BUDGET // size
    message, _ = _refused(lambda: _client(lists).gitea_pages("/counted"))
    left = BUDGET - fit * size
    assert message == (f"Gitea: GET {lists}/api/counted?page={fit + 1}&limit=50 announced a body of {size} bytes, "
                       f"more than the {left} bytes left of the limit of one list's pages, {BUDGET} bytes in all "
                       "(--http-max-list-bytes): not read")
    assert Lists.hits["/api/counted"] == fit + 1  # not tried again


def test_full_pages_without_a_count_stop_at_the_budget_before_the_page_limit(lists: str) -> None:
    message, _ = _refused(lambda: _client(lists).gitea_pages("/uncounted-chunked"))
    size = _page_bytes()
    last = BUDGET // size + 1
    assert message == (f"Gitea: GET {lists}/api/uncounted-chunked?page={last}&limit=50 brought the list's pages past "
                       f"{BUDGET} bytes in all, the limit of one list (--http-max-list-bytes): the rest was not read")
    assert Lists.hits["/api/uncounted-chunked"] == last


@pytest.mark.parametrize("path", ["/counted", "/counted-chunked", "/uncounted", "/uncounted-chunked"])
def test_a_list_within_the_budget_reads_whole(lists: str, path: str) -> None:
    # The other side: 7 pages (about 7 MiB) under 8 MiB, in parallel and serially; at exactly its
    # size it reads; one byte less, it does not. A budget is one list's: the next list has its own.
    Lists.items = 7 * PER_PAGE
    whole = 7 * _page_bytes() + len(b"[]") * ("uncounted" in path)  # the empty page that ends an uncounted list
    with ThreadPoolExecutor(8) as pool:
        for budget in (BUDGET, whole):
            api = _client(lists, budget=budget)
            for _ in range(2):
                got = api.gitea_pages(path, submit=pool.submit)
                assert [item["id"] for item in got] == list(range(7 * PER_PAGE))
    with pytest.raises(LimitExceeded, match=r"\(--http-max-list-bytes\)"):
        _client(lists, budget=whole - 1).gitea_pages(path)


def test_each_page_alone_is_not_counted(lists: str) -> None:
    # A plain read is no list's page: get_json without a budget is bounded by --http-max-bytes only.
    Lists.items = 7 * PER_PAGE
    assert len(_client(lists, budget=10).get_json("/counted", {"page": 1, "limit": 50})) == PER_PAGE


def _drone(base: str, budget: int) -> DronePlan:
    api = _client(base, "Drone", budget)
    return DronePlan(api, "o/r", set(), lambda build: False, None)


def test_drones_builds_list_stops_at_the_budget(lists: str) -> None:
    # 3000 builds, 30 pages of about 2 MiB, read ahead up to 8 at a time: past 8 MiB, an error.
    message, peak = _refused(lambda: _drone(lists, BUDGET).run())
    assert f"Drone: GET {lists}/api/repos/o/r/builds?page=" in message and "(--http-max-list-bytes)" in message
    assert Lists.hits["/api/repos/o/r/builds"] < 30
    assert peak < BUDGET + 8 * (4 << 20), f"{peak} bytes held"
    entries = fetch_all(Phase.from_mapping({"drone_repo": "o/r"}), None, None, gitea=None,
                        drone=_client(lists, "Drone", BUDGET), swarm=None)
    assert entries["drone"]["type"] == "LimitExceeded" and "(--http-max-list-bytes)" in entries["drone"]["error"]


def test_drones_builds_list_within_the_budget_reads_whole(lists: str) -> None:
    Lists.builds = 3 * DRONE_PER_PAGE
    data = _drone(lists, BUDGET).run()
    assert [b["number"] for b in data["builds"]] == list(range(300, 0, -1))


def test_the_run_sets_the_budget_and_the_default_is_256_mib() -> None:
    assert Limits().max_list_bytes == 256 << 20 == Settings.http_max_list_bytes
    settings = Settings(phase_file="p", state_dir="s", world=None, swarm="env", gates_json="g", role="adversary",
                        gitea_url="https://git.example.org", gitea_token="", http_max_list_bytes=12345)
    api = gitea_client(settings)
    try:
        assert api.list_budget().max_bytes == 12345
    finally:
        api.close()


def test_a_budget_counts_pages_from_many_threads() -> None:
    budget = ListBudget(1000 * 64)
    with ThreadPoolExecutor(8) as pool:
        within = list(pool.map(lambda _: budget.charge(64), range(1000)))
    assert all(within) and budget.used == 64000 and budget.left == 0 and not budget.spent
    assert budget.charge(1) is False and budget.left == 0 and budget.spent
    announced = ListBudget(100)
    announced.refuse()  # a page announced more than was left
    assert announced.spent and announced.used == 0
