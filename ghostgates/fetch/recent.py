"""A Gitea list read newest-updated first, back to a floor: a busy repo's old PRs are not read.

Gitea's pulls list can be asked `sort=recentupdate` (routers/api/v1/repo/pull.go ListPullRequests;
models/issues/pull_list.go PullRequests applies models/issues/issue_search.go applySorts:
`issue.updated_unix` descending, then `created_unix`, then id). A PR's `updated_at` is
never before anything that happened to it: every comment bumps it (models/issues/comment.go
updateCommentInfos, "update the issue's updated_unix column"), and closing and merging write the
row, whose xorm `updated` tag bumps it too. So a PR that a rule needs because of something that
happened since the floor (a comment, a merge, its own opening) has `updated_at` at or after the
floor, and the list can stop at the first page that reaches back before it.

The order is the server's word: a list whose `updated_at`s are not newest first (a server that
ignored `sort`, or a time it wrote unreadably) is read to its end, as if there were no floor. So
is a list without a floor (the caller could not place one).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from ghostgates.errors import Malformed
from ghostgates.fetch.http import ApiClient
from ghostgates.timeutil import parse_time

Page = tuple[list[Any], int | None, bool, str]


@dataclass
class Recent:
    items: list[Any]
    complete: bool  # read to the list's end (no floor, a list in another order, or a short repo)
    paging: dict[str, int] = field(default_factory=dict)
    floor: float | None = None  # where the read stopped looking further back (None: read to its end)

    @property
    def since(self) -> float | None:
        return None if self.complete else self.floor


class _Order:
    """Whether the items seen so far are newest-updated first, and whether the last is below the floor."""

    def __init__(self) -> None:
        self.last: float | None = None
        self.sorted = True

    def see(self, batch: list[Any]) -> None:
        for item in batch:
            try:
                stamp = parse_time(str(item["updated_at"])).timestamp()
            except (KeyError, TypeError, ValueError):
                self.sorted = False
                return
            if self.last is not None and stamp > self.last:
                self.sorted = False
                return
            self.last = stamp

    def reached(self, floor: float | None) -> bool:
        return self.sorted and floor is not None and self.last is not None and self.last < floor


def read_recent(api: ApiClient, path: str, params: dict[str, Any], floor_of: Callable[[], float | None], *,
                submit: Callable[..., Future[Page]], on_batch: Callable[[list[Any]], None],
                ahead: int, limit: int = 50) -> Recent:
    """The list `sort=recentupdate`, page by page with up to `ahead` pages in flight, stopping after
    the first page whose last item was updated before `floor_of()` (a POSIX time; called once page 1
    is in, so it may wait on another read). Items of the stopping page are kept: they are the
    server's, only older than needed."""
    params = {**params, "sort": "recentupdate"}
    order = _Order()
    paging = {"pages": 1, "ahead_unused": 0}
    budget = api.list_budget()  # the pages together (--http-max-list-bytes)
    batch, total, has_next, url = api.gitea_page(path, params, 1, limit, None, budget)
    on_batch(batch)
    order.see(batch)
    items = list(batch)
    floor = floor_of()
    size = len(batch) if has_next and batch else limit
    last = max(1, -(-total // size)) if total is not None else None
    if order.reached(floor) or last == 1:
        return Recent(items, complete=last == 1 or (last is None and len(batch) < size), paging=paging,
                      floor=floor)
    if last is None:
        # No count: page by page, as Gitea's own `Link: rel="next"` leads, to the floor or the end.
        page = 1
        while batch and len(batch) >= size and not order.reached(floor):
            page += 1
            api.check_page(page, url)
            batch, _, has_next, url = api.gitea_page(path, params, page, limit, size, budget)
            paging["pages"] += 1
            on_batch(batch)
            order.see(batch)
            items.extend(batch)
        return Recent(items, complete=not order.reached(floor), paging=paging, floor=floor)
    assert total is not None
    if last > api.limits.max_pages:
        api.check_page(last, url)  # the same refusal, before asking, as a whole list's
    sent: dict[int, Future[Page]] = {}
    used = 0
    complete = True
    for page in range(2, last + 1):
        window = ahead if order.sorted else last  # out of order: everything is needed, all at once
        for n in range(page, min(page + window, last + 1)):
            if n not in sent:
                sent[n] = submit(api.gitea_page, path, params, n, limit, size, budget)
        batch, _, _, url = sent[page].result()
        used += 1
        on_batch(batch)
        order.see(batch)
        items.extend(batch)
        if order.reached(floor):
            complete = page == last
            break
    paging["pages"] += len(sent)
    # Pages sent past the floor: their answers are not read (counted, so waste stays visible).
    paging["ahead_unused"] = len(sent) - used
    if complete and len(items) < total:
        raise Malformed(f"{api.service}: GET {url} was cut short: {len(items)} of {total} items", url=url)
    return Recent(items, complete=complete, paging=paging, floor=floor)

