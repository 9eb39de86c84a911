"""Gitea's pulls list read newest-updated first, back to a floor (ghostgates/fetch/recent.py).

Upstream: routers/api/v1/repo/pull.go ListPullRequests takes `sort=recentupdate`, which
models/issues/issue_search.go applySorts turns into `issue.updated_unix` descending; every comment
bumps `updated_unix` (models/issues/comment.go updateCommentInfos). Pages carry X-Total-Count and a
`Link: rel="next"` (routers/api/v1/repo/pull.go, ctx.SetLinkHeader / ctx.SetTotalCountHeader).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from ghostgates.fetch.http import ApiClient, LimitExceeded, Limits
from ghostgates.fetch.recent import read_recent
from ghostgates.fetch.retry import RetryPolicy

BASE = "https://git.example.org/api/v1"
START = datetime(2026, 6, 1, tzinfo=UTC)


def pr(number: int, hours_ago: float) -> dict[str, Any]:
    return {"number": number, "updated_at": (START - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")}


class FakeGitea:
    """A pulls list of `prs` in the order given, paged by `limit`, with or without X-Total-Count."""

    def __init__(self, prs: list[dict[str, Any]], count: bool = True, honour_sort: bool = True) -> None:
        self.prs, self.count, self.honour_sort = prs, count, honour_sort
        self.pages: list[int] = []
        self.sorts: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode())
        page, limit = int(query["page"][0]), int(query["limit"][0])
        with self.lock:
            self.pages.append(page)
            self.sorts.add(query.get("sort", [""])[0])
        items = self.prs
        if self.honour_sort and query.get("sort") == ["recentupdate"]:
            items = sorted(items, key=lambda p: p["updated_at"], reverse=True)
        chunk = items[(page - 1) * limit: page * limit]
        headers = {"X-Total-Count": str(len(items))} if self.count else {}
        if page * limit < len(items):
            headers["Link"] = f'<{BASE}/repos/o/r/pulls?page={page + 1}>; rel="next"'
        return httpx.Response(200, json=chunk, headers=headers)


def read(gitea: FakeGitea, floor: datetime | None, ahead: int = 4) -> tuple[Any, ApiClient]:
    api = ApiClient("Gitea", BASE, {}, policy=RetryPolicy(retries=1, backoff=0))
    api._client = httpx.Client(base_url=BASE, transport=httpx.MockTransport(gitea))
    seen: list[list[Any]] = []
    with ThreadPoolExecutor(4) as pool:
        def submit(*a: Any) -> Future[Any]:
            return pool.submit(*a)
        got = read_recent(api, "/repos/o/r/pulls", {"state": "all"},
                          lambda: floor.timestamp() if floor else None,
                          submit=submit, on_batch=seen.append, ahead=ahead, limit=10)
    assert [p for batch in seen for p in batch] == got.items  # every page went through on_batch
    return got, api


def hundred() -> list[dict[str, Any]]:
    return [pr(n, hours_ago=n) for n in range(1, 101)]  # PR n updated n hours before START


def test_the_list_stops_at_the_first_page_that_reaches_back_before_the_floor() -> None:
    gitea = FakeGitea(hundred())
    got, _ = read(gitea, floor=START - timedelta(hours=25))  # PRs 1..24 are inside
    assert gitea.sorts == {"recentupdate"}
    # Pages 1..3 hold PRs 1..30; page 3 reaches back past the floor and ends the read.
    assert [p["number"] for p in got.items] == list(range(1, 31))
    assert not got.complete
    assert min(gitea.pages) == 1 and 3 in gitea.pages and max(gitea.pages) <= 3 + 4
    assert got.paging["pages"] == len(gitea.pages) and got.paging["ahead_unused"] == len(gitea.pages) - 3


def test_a_window_inside_page_one_reads_one_page() -> None:
    gitea = FakeGitea(hundred())
    got, api = read(gitea, floor=START - timedelta(hours=5))
    assert gitea.pages == [1] and api.requests == 1
    assert [p["number"] for p in got.items] == list(range(1, 11)) and not got.complete


def test_without_a_floor_the_whole_list_is_read() -> None:
    gitea = FakeGitea(hundred())
    got, _ = read(gitea, floor=None)
    assert sorted(gitea.pages) == list(range(1, 11))
    assert [p["number"] for p in got.items] == list(range(1, 101)) and got.complete


def test_a_floor_before_every_pr_reads_the_whole_list() -> None:
    gitea = FakeGitea(hundred())
    got, _ = read(gitea, floor=START - timedelta(days=30))
    assert len(got.items) == 100 and got.complete


def test_a_server_that_ignores_the_sort_is_read_to_its_end() -> None:
    # An older Gitea (or a proxy) sends its default order, newest created first: here the oldest
    # update comes first, so the floor is "reached" at once; the order says it cannot be trusted.
    prs = list(reversed(hundred()))
    gitea = FakeGitea(prs, honour_sort=False)
    got, _ = read(gitea, floor=START - timedelta(hours=25))
    assert got.complete and len(got.items) == 100
    assert sorted(gitea.pages) == list(range(1, 11))


def test_an_update_time_out_of_order_on_a_later_page_reads_the_rest() -> None:
    prs = hundred()
    prs[25]["updated_at"] = pr(0, hours_ago=0.5)["updated_at"]  # newer than those before it
    gitea = FakeGitea(prs, honour_sort=False)
    got, _ = read(gitea, floor=START - timedelta(hours=25))
    assert got.complete and len(got.items) == 100


def test_an_unreadable_update_time_reads_the_rest() -> None:
    prs = hundred()
    prs[3]["updated_at"] = "yesterday"
    del prs[4]["updated_at"]
    gitea = FakeGitea(prs, honour_sort=False)
    got, _ = read(gitea, floor=START - timedelta(hours=2))
    assert got.complete and len(got.items) == 100


def test_without_a_count_pages_follow_one_by_one_to_the_floor() -> None:
    gitea = FakeGitea(hundred(), count=False)
    got, _ = read(gitea, floor=START - timedelta(hours=25))
    assert gitea.pages == [1, 2, 3]
    assert [p["number"] for p in got.items] == list(range(1, 31)) and not got.complete


def test_without_a_count_or_a_floor_the_list_ends_at_its_short_page() -> None:
    gitea = FakeGitea(hundred()[:95], count=False)
    got, _ = read(gitea, floor=None)
    assert gitea.pages == list(range(1, 11)) and len(got.items) == 95 and got.complete


def test_a_claimed_count_over_the_page_limit_is_refused_before_asking() -> None:
    gitea = FakeGitea(hundred())
    api = ApiClient("Gitea", BASE, {}, policy=RetryPolicy(retries=1, backoff=0))
    api._client = httpx.Client(base_url=BASE, transport=httpx.MockTransport(gitea))
    api.limits = Limits(max_pages=5)
    with pytest.raises(LimitExceeded, match="still had full pages after 5 pages"):
        read_recent(api, "/repos/o/r/pulls", {"state": "all"}, lambda: (START - timedelta(days=9)).timestamp(),
                    submit=lambda *a: ThreadPoolExecutor(1).submit(*a), on_batch=lambda b: None, ahead=2,
                    limit=10)
    assert gitea.pages == [1]


def test_the_pages_share_one_byte_budget() -> None:
    # --http-max-list-bytes counts a list's pages together (http.ListBudget): here the budget holds
    # about two pages, and the read stops with the limit's error before the floor is reached.
    gitea = FakeGitea(hundred())
    api = ApiClient("Gitea", BASE, {}, policy=RetryPolicy(retries=1, backoff=0))
    api._client = httpx.Client(base_url=BASE, transport=httpx.MockTransport(gitea))
    page = len(httpx.Response(200, json=hundred()[:10]).content)
    api.limits = Limits(max_list_bytes=int(page * 2.5))
    with pytest.raises(LimitExceeded, match="limit of one list"):
        read_recent(api, "/repos/o/r/pulls", {"state": "all"}, lambda: (START - timedelta(days=9)).timestamp(),
                    submit=lambda *a: ThreadPoolExecutor(1).submit(*a), on_batch=lambda b: None, ahead=1,
                    limit=10)
    assert len(gitea.pages) <= 4
