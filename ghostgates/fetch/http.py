"""HTTP for the Gitea and Drone clients: timeouts, bounded retries, pagination, clear errors.

Errors name the URL and never the token: a token given in a URL's userinfo
(`https://user:TOKEN@host`) is redacted wherever a URL is shown (`redact_url`). A page that comes
back shorter than the service promised (X-Total-Count, a Link to a next page) is `Malformed`,
not a shorter answer. Redirects are never followed: Gitea answers a membership question it
hides from this token with a redirect to the public members, which is no answer.
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from ghostgates.errors import Malformed, NotFound, ServiceError, Unauthorised, Unreachable

T = TypeVar("T")
RETRY_STATUSES = {429, 500, 502, 503, 504}
SLOW_AFTER = 5.0  # seconds a request may take before the operator is told what is being waited for
# Where a long wait is reported (the gate plugins point it at the terminal); None: silence.
on_wait: Callable[[str], None] | None = None
_LINK_NEXT = re.compile(r'<[^>]*>\s*;\s*rel="next"')
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")
REDIRECTS = (301, 302, 303, 307, 308)


def redact_url(url: str) -> str:
    """`url` without the userinfo part (`https://user:TOKEN@host` -> `https://***@host`)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def redact_text(text: str) -> str:
    """Every URL's userinfo in free text replaced by `***` (messages that quote a URL)."""
    return _USERINFO.sub(r"\1***@", text)


class ApiClient:
    def __init__(self, service: str, base_url: str, headers: dict[str, str], *,
                 timeout: float = 15.0, retries: int = 3, backoff: float = 0.3,
                 max_retry_after: float = 10.0) -> None:
        self.service = service
        # What the client shows (messages, evidence links) never carries the URL's userinfo;
        # httpx gets the URL as given, and turns user:password into Basic auth.
        self.base_url = redact_url(base_url.rstrip("/"))
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.requests = 0
        self.server_date: datetime | None = None
        self._lock = threading.Lock()
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout,
                                    follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, ok: tuple[int, ...] = (200, 201, 204)) -> httpx.Response:
        url = self._url(path)
        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self.requests += 1
            timer = self._slow_timer(method, url, attempt)
            try:
                response = self._client.request(method, path, params=params, json=json)
            except httpx.TimeoutException:
                if attempt <= self.retries and method == "GET":
                    self._say(f"{self.service}: {method} {url} timed out (try {attempt} of {self.retries + 1}); "
                              "trying again")
                    time.sleep(self.backoff * attempt)
                    continue
                raise Unreachable(f"{self.service}: {method} {url} timed out after {attempt} tries",
                                  url=url) from None
            except httpx.TransportError as exc:
                if attempt <= self.retries and method == "GET":
                    time.sleep(self.backoff * attempt)
                    continue
                raise Unreachable(f"{self.service}: {method} {url} unreachable: {type(exc).__name__}",
                                  url=url) from None
            finally:
                if timer is not None:
                    timer.cancel()
            self._note_date(response)
            status = response.status_code
            if status in RETRY_STATUSES and attempt <= self.retries and (method == "GET" or status == 429):
                delay = self._retry_delay(response, attempt)
                if delay >= 1:
                    self._say(f"{self.service}: {method} {url} answered {status} (try {attempt} of "
                              f"{self.retries + 1}); trying again in {delay:g}s")
                time.sleep(delay)
                continue
            if status in ok:
                return response
            if status in (401, 403):
                raise Unauthorised(f"{self.service}: {method} {url} answered {status}: check the token "
                                   f"(it is not shown)", url=url, status=status)
            if status == 404:
                raise NotFound(f"{self.service}: {method} {url} answered 404", url=url, status=status)
            if status in RETRY_STATUSES:
                raise Unreachable(f"{self.service}: {method} {url} answered {status} after {attempt} tries",
                                  url=url, status=status)
            raise ServiceError(f"{self.service}: {method} {url} answered {status}", url=url, status=status)

    @staticmethod
    def _say(line: str) -> None:
        hook = on_wait
        if hook is not None:
            hook(line)

    def _slow_timer(self, method: str, url: str, attempt: int) -> threading.Timer | None:
        if on_wait is None:
            return None
        timer = threading.Timer(SLOW_AFTER, self._say, (f"{self.service}: still waiting for {method} {url} "
                                                        f"(try {attempt} of {self.retries + 1}, "
                                                        f"{SLOW_AFTER:g}s so far)",))
        timer.daemon = True
        timer.start()
        return timer

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After")
        if header:
            try:
                return min(float(header), self.max_retry_after)
            except ValueError:
                pass
        return self.backoff * (2 ** (attempt - 1))

    def _note_date(self, response: httpx.Response) -> None:
        header = response.headers.get("Date")
        if header:
            try:
                self.server_date = email.utils.parsedate_to_datetime(header)
            except (TypeError, ValueError):
                pass

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.retry_malformed(lambda: self._json(self.request("GET", path, params=params)))

    def retry_malformed(self, read: Callable[[], T]) -> T:
        """A GET whose body came cut short (not complete JSON, a list short of its count) is asked
        again, as a timeout is: the same bounded retries; after them it is `Malformed`."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return read()
            except Malformed:
                if attempt > self.retries:
                    raise
                time.sleep(self.backoff * attempt)

    def get_counted_list(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        """An unpaged list with an X-Total-Count (Gitea's issue comments): fewer items than the
        count is a body cut short, read again, never a shorter list."""
        def read() -> list[Any]:
            response = self.request("GET", path, params=params)
            items = self._json(response)
            url = redact_url(str(response.request.url))
            if not isinstance(items, list):
                raise Malformed(f"{self.service}: GET {url} did not return a list", url=url)
            total = response.headers.get("X-Total-Count", "")
            if total.isdigit() and len(items) < int(total):
                raise Malformed(f"{self.service}: GET {url} was cut short: {len(items)} of {total} items", url=url)
            return items

        return self.retry_malformed(read)

    def post_json(self, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        return self._json(self.request("POST", path, params=params, json=body))

    def exists(self, path: str) -> bool:
        """204/200 means yes, 404 means no (Gitea's merge check)."""
        try:
            self.request("GET", path)
        except NotFound:
            return False
        return True

    def membership(self, org: str, login: str) -> bool | None:
        """Gitea's `/orgs/{org}/members/{login}`: True (204), False (404), None (hidden from this token).

        routers/api/v1/org/member.go (IsMember): a token that is neither an org member nor an
        admin is redirected to `/orgs/{org}/public_members/{login}`, where a private member
        looks like a non-member; that redirect is not an answer, so it is None, never False.
        """
        path = f"/orgs/{quote(org)}/members/{quote(login)}"
        try:
            response = self.request("GET", path, ok=(200, 204, *REDIRECTS))
        except NotFound:
            return False
        if response.status_code in REDIRECTS:
            where = response.headers.get("Location", "")
            if "/public_members/" in where:
                return None
            raise ServiceError(f"{self.service}: GET {self._url(path)} redirected to {redact_url(where)!r}, "
                               "not to the public members", url=self._url(path), status=response.status_code)
        return True

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise Malformed(f"{self.service}: {response.request.method} {redact_url(str(response.request.url))} "
                            f"returned a body that is not complete JSON ({len(response.content)} bytes)",
                            url=redact_url(str(response.request.url)), status=response.status_code) from None

    def gitea_page(self, path: str, params: dict[str, Any] | None, page: int, limit: int,
                   per_page: int | None = None) -> tuple[list[Any], int | None, bool, str]:
        """One page of a Gitea list: its items, X-Total-Count (if sent), whether a next page is linked, its URL."""
        def read() -> tuple[list[Any], int | None, bool, str]:
            response = self.request("GET", path, params={**(params or {}), "page": page, "limit": limit})
            batch = self._json(response)
            url = redact_url(str(response.request.url))
            if not isinstance(batch, list):
                raise Malformed(f"{self.service}: GET {url} did not return a list", url=url)
            total = response.headers.get("X-Total-Count")
            has_next = bool(_LINK_NEXT.search(response.headers.get("Link", "")))
            count = int(total) if total is not None and total.isdigit() else None
            # A server may page by less than we ask ([api] MAX_RESPONSE_ITEMS): page 1 with a next
            # link says by how much (`per_page` for the later pages).
            size = per_page or (len(batch) if has_next and batch else limit)
            promised = None if count is None else min(size, max(count - (page - 1) * size, 0))
            if promised is not None and len(batch) < promised:
                # Short of what X-Total-Count promises for this page: cut, not the end of the list.
                raise Malformed(f"{self.service}: GET {url} was cut short: {len(batch)} items where "
                                f"X-Total-Count {count} promises {promised}", url=url)
            return batch, count, has_next, url

        return self.retry_malformed(read)

    def gitea_pages(self, path: str, params: dict[str, Any] | None = None, limit: int = 50,
                    submit: Callable[..., Any] | None = None,
                    on_batch: Callable[[list[Any]], None] | None = None) -> list[Any]:
        """Every item of a Gitea list, checked against what the headers promise.

        Page 1 first; once its X-Total-Count says how many pages there are, the rest all at once
        through `submit` (an executor's submit; serially without one). Without a count, page by
        page until a short page. `on_batch` sees each page as it arrives (the plan starts what a
        page's items make possible without waiting for the last page).
        """
        batch, total, has_next, url = self.gitea_page(path, params, 1, limit)
        if on_batch is not None:
            on_batch(batch)
        items = list(batch)
        if total is not None:
            size = len(batch) if has_next and batch else limit
            last = max(1, -(-total // size))
            if last > 1:
                if submit is None:
                    rest = [self.gitea_page(path, params, n, limit, size) for n in range(2, last + 1)]
                else:
                    futures = [submit(self.gitea_page, path, params, n, limit, size) for n in range(2, last + 1)]
                    rest = []
                    for future in futures:
                        got = future.result()
                        rest.append(got)
                        if on_batch is not None:
                            on_batch(got[0])
                if submit is None and on_batch is not None:
                    for got in rest:
                        on_batch(got[0])
                for got in rest:
                    items.extend(got[0])
                url = rest[-1][3]
            if len(items) < total:
                raise Malformed(f"{self.service}: GET {url} was cut short: {len(items)} of {total} items", url=url)
            return items
        page = 1
        while True:
            if not batch or len(batch) < limit:
                if has_next and batch:
                    raise Malformed(f"{self.service}: GET {url} was cut short: "
                                    f"{len(batch)} items but a next page", url=url)
                return items
            page += 1
            batch, _, has_next, url = self.gitea_page(path, params, page, limit)
            if on_batch is not None:
                on_batch(batch)
            items.extend(batch)

    def drone_pages(self, path: str, per_page: int = 100,
                    stop: Callable[[list[Any]], bool] | None = None) -> Iterator[Any]:
        """Drone lists have no count header: page until a short page, or until `stop` says so."""
        page = 1
        while True:
            batch = self.get_json(path, {"page": page, "per_page": per_page})
            if not isinstance(batch, list):
                raise Malformed(f"{self.service}: GET {self._url(path)} did not return a list",
                                url=self._url(path))
            yield from batch
            if len(batch) < per_page or (stop is not None and stop(batch)):
                return
            page += 1
