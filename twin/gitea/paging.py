"""Gitea's list paging: `page` and `limit` in, `X-Total-Count` and an RFC 5988 `Link` out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from werkzeug.wrappers import Request

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "page_of"]

DEFAULT_LIMIT = 30  # Gitea's [api] DEFAULT_PAGING_NUM
MAX_LIMIT = 50  # Gitea's [api] MAX_RESPONSE_ITEMS

T = TypeVar("T")


def _number(request: Request, name: str) -> int:
    try:
        return int(request.args.get(name, "0"))
    except ValueError:
        return 0


def page_of(
    request: Request, items: list[T], base_url: str, render: Callable[[T], Any] | None = None
) -> tuple[list[Any], dict[str, str]]:
    """The requested page of `items` and the headers Gitea sends with it.

    `render` turns a model item into its JSON object; only the page served is rendered, so a
    list of thousands costs one page of rendering.
    """
    page = max(_number(request, "page"), 1)
    limit = _number(request, "limit")
    if limit <= 0:
        limit = DEFAULT_LIMIT
    limit = min(limit, MAX_LIMIT)
    total = len(items)
    last = max((total + limit - 1) // limit, 1)
    chunk: list[Any] = items[(page - 1) * limit : page * limit]
    if render is not None:
        chunk = [render(item) for item in chunk]
    headers = {
        "X-Total-Count": str(total),
        "Access-Control-Expose-Headers": "X-Total-Count, Link",
    }
    links = []
    query: dict[str, Any] = {k: v for k, v in request.args.items(multi=True) if k not in ("page", "limit")}

    def link(number: int, rel: str) -> str:
        params = dict(query, limit=limit, page=number)
        return f'<{base_url}{request.path}?{urlencode(params)}>; rel="{rel}"'

    # Gitea's order: next, last, then first, prev (modules/context/api.go SetLinkHeader).
    if page < last:
        links.append(link(page + 1, "next"))
        links.append(link(last, "last"))
    if page > 1:
        links.append(link(1, "first"))
        links.append(link(page - 1, "prev"))
    if links:
        headers["Link"] = ",".join(links)
    return chunk, headers
