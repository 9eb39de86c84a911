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
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from ghostgates.errors import Malformed, NotFound, ServiceError, Unreachable, refusal
from ghostgates.fetch.retry import DEFAULT_POLICY, OnWait, RetryPolicy
from ghostgates.redact import redact_text, redact_url

__all__ = ["ApiClient", "redact_text", "redact_url"]
T = TypeVar("T")
SLOW_AFTER = 5.0  # seconds a request may take before the operator is told what is being waited for
_LINK_NEXT = re.compile(r'<[^>]*>\s*;\s*rel="next"')
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Limits:
    """What one read may cost at most; what a server sends is hostile until it fits.

    - `max_body_bytes`: one response body, after decompression, streamed and cut at the limit
      (a Content-Length over it is refused before a byte is read) (`--http-max-bytes`);
    - `max_pages`: pages of one list, checked against a claimed X-Total-Count before any page
      past the first is asked, and against full pages that never end (`--http-max-pages`);
    - `request_seconds`: one request, from sending it to the body's last byte, however slowly
      the bytes trickle in (httpx's own timeouts bound each wait, not the whole) (`--http-deadline`);
    - `max_list_bytes`: the bodies of one list's pages in all, counted as they arrive (`ListBudget`):
      1000 pages of 60 MiB would be 60 GB (`--http-max-list-bytes`).
    """

    max_body_bytes: int = 64 << 20
    max_pages: int = 1000
    request_seconds: float = 120.0
    max_list_bytes: int = 256 << 20


class LimitExceeded(ServiceError):
    """A read refused at one of the named limits (`Limits`): `error`, never retried."""


class ListBudget:
    """The bytes one list may bring in all, across its pages (`Limits.max_list_bytes`): one per list,
    charged by each of its pages' bodies as the bytes arrive, from the threads that read pages in
    parallel. What was read counts: a page read again, a page read ahead and not used."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._used = 0
        self._over = False
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        with self._lock:
            return self._used

    @property
    def spent(self) -> bool:
        """Whether the list is past `max_bytes` (brought, or a page announced more than was left):
        its later pages are not asked."""
        with self._lock:
            return self._over or self._used > self.max_bytes

    def refuse(self) -> None:
        """A page announced more than is left: the list is past its budget without reading it."""
        with self._lock:
            self._over = True

    @property
    def left(self) -> int:
        with self._lock:
            return max(self.max_bytes - self._used, 0)

    def charge(self, count: int) -> bool:
        """Count `count` more bytes; False once the list has brought more than `max_bytes`."""
        with self._lock:
            self._used += count
            return self._used <= self.max_bytes


class ApiClient:
    def __init__(self, service: str, base_url: str, headers: dict[str, str], *,
                 timeout: float = 15.0, policy: RetryPolicy = DEFAULT_POLICY, on_wait: OnWait = None,
                 limits: Limits | None = None, verify: ssl.SSLContext | bool = True) -> None:
        self.service = service
        self.limits = limits or Limits()
        # What the client shows (messages, evidence links) never carries the URL's userinfo;
        # httpx gets the URL as given, and turns user:password into Basic auth.
        self.base_url = redact_url(base_url.rstrip("/"))
        self.policy = policy
        # Where this client reports a long wait or a retry (the terminal in a gate run); None: silence.
        self.on_wait = on_wait
        self.requests = 0
        self.server_date: datetime | None = None
        self._lock = threading.Lock()
        # `verify`: httpx's own (True: its default TLS context, certificates checked); a caller making many
        # clients may hand them one such context made once (reading the CA bundle is most of a client's cost).
        self._client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout,
                                    follow_redirects=False, verify=verify)

    @property
    def retries(self) -> int:
        return self.policy.retries

    def close(self) -> None:
        self._client.close()

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def list_budget(self) -> ListBudget:
        """A fresh budget for one list's pages (`--http-max-list-bytes`)."""
        return ListBudget(self.limits.max_list_bytes)

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, ok: tuple[int, ...] = (200, 201, 204),
                budget: ListBudget | None = None) -> httpx.Response:
        """One request, retried as `self.policy` says; `budget`: the list this body is a page of."""
        url = self._url(path)
        if budget is not None and budget.spent:  # another page of this list used it up: not asked
            asked = redact_url(str(self._client.build_request(method, path, params=params).url))
            raise LimitExceeded(f"{self.service}: {method} {asked} not asked: the list's pages already came to more "
                                f"than {budget.max_bytes} bytes in all, the limit of one list (--http-max-list-bytes)",
                                url=asked)
        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self.requests += 1
            timer = self._slow_timer(method, url, attempt)
            try:
                response = self._send(method, path, params, json, budget)
            except httpx.TimeoutException:
                if self.policy.again(attempt) and method == "GET":
                    self._say(f"{self.service}: {method} {url} timed out (try {attempt} of {self.policy.tries}); "
                              "trying again")
                    time.sleep(self.policy.after_loss(attempt))
                    continue
                raise Unreachable(f"{self.service}: {method} {url} timed out after {attempt} tries",
                                  url=url) from None
            except httpx.TransportError as exc:
                if self.policy.again(attempt) and method == "GET":
                    time.sleep(self.policy.after_loss(attempt))
                    continue
                raise Unreachable(f"{self.service}: {method} {url} unreachable: {type(exc).__name__}",
                                  url=url) from None
            finally:
                if timer is not None:
                    timer.cancel()
            self._note_date(response)
            status = response.status_code
            if status in self.policy.statuses and self.policy.again(attempt) and (method == "GET" or status == 429):
                delay = self.policy.after_status(attempt, response.headers.get("Retry-After"))
                if delay >= 1:
                    self._say(f"{self.service}: {method} {url} answered {status} (try {attempt} of "
                              f"{self.policy.tries}); trying again in {delay:g}s")
                time.sleep(delay)
                continue
            if status in ok:
                return response
            if status in self.policy.statuses:
                raise Unreachable(f"{self.service}: {method} {url} answered {status} after {attempt} tries",
                                  url=url, status=status)
            raise refusal(status, f"{self.service}: {method} {url}", url,
                          unauthorised=": check the token (it is not shown)")

    def _send(self, method: str, path: str, params: dict[str, Any] | None, json: Any,
              budget: ListBudget | None = None) -> httpx.Response:
        """One exchange within `self.limits`: the body streamed, cut at its size, at the deadline, and
        at what is left of its list's `budget`."""
        request = self._client.build_request(method, path, params=params, json=json)
        limits = self.limits
        started = time.monotonic()
        response = self._client.send(request, stream=True)
        try:
            url = redact_url(str(request.url))
            declared = response.headers.get("Content-Length", "").strip()
            if declared.isdigit() and int(declared) > limits.max_body_bytes:
                raise LimitExceeded(f"{self.service}: {method} {url} announced a body of {declared} bytes, over the "
                                    f"limit of {limits.max_body_bytes} bytes (--http-max-bytes): not read",
                                    url=url, status=response.status_code)
            if budget is not None and declared.isdigit() and int(declared) > budget.left:
                budget.refuse()
                raise self._over_list(budget, method, url, response.status_code, declared)
            body = bytearray()
            for chunk in self._chunks(response, started, method, url):
                body.extend(chunk)
                if budget is not None and not budget.charge(len(chunk)):
                    raise self._over_list(budget, method, url, response.status_code)
                if len(body) > limits.max_body_bytes:
                    raise LimitExceeded(f"{self.service}: {method} {url} sent more than {limits.max_body_bytes} "
                                        "bytes, the limit of one body (--http-max-bytes): the rest was not read",
                                        url=url, status=response.status_code)
            response._content = bytes(body)  # what response.read() would have set, read within the limits
        finally:
            response.close()
        return response

    def _chunks(self, response: httpx.Response, started: float, method: str, url: str) -> Iterator[bytes]:
        deadline = started + self.limits.request_seconds
        if time.monotonic() > deadline:
            raise self._too_slow(method, url, response.status_code)
        for chunk in response.iter_bytes():
            yield chunk
            if time.monotonic() > deadline:
                raise self._too_slow(method, url, response.status_code)

    def _over_list(self, budget: ListBudget, method: str, url: str, status: int, declared: str = "") -> LimitExceeded:
        if declared:
            return LimitExceeded(f"{self.service}: {method} {url} announced a body of {declared} bytes, more than the "
                                 f"{budget.left} bytes left of the limit of one list's pages, {budget.max_bytes} bytes "
                                 "in all (--http-max-list-bytes): not read", url=url, status=status)
        return LimitExceeded(f"{self.service}: {method} {url} brought the list's pages past {budget.max_bytes} "
                             "bytes in all, the limit of one list (--http-max-list-bytes): the rest was not read",
                             url=url, status=status)

    def _too_slow(self, method: str, url: str, status: int) -> LimitExceeded:
        return LimitExceeded(f"{self.service}: {method} {url} took more than {self.limits.request_seconds:g} s "
                             "in all, the limit of one request (--http-deadline): the rest was not read",
                             url=url, status=status)

    def check_page(self, page: int, url: str) -> None:
        """Refuse page `page` of a list past `limits.max_pages` (full pages that never end)."""
        if page > self.limits.max_pages:
            raise LimitExceeded(f"{self.service}: GET {url} still had full pages after {self.limits.max_pages} "
                                f"pages, the limit of one list (--http-max-pages): not read further", url=url)

    def _say(self, line: str) -> None:
        if self.on_wait is not None:
            self.on_wait(line)

    def _slow_timer(self, method: str, url: str, attempt: int) -> threading.Timer | None:
        if self.on_wait is None:
            return None
        timer = threading.Timer(SLOW_AFTER, self._say, (f"{self.service}: still waiting for {method} {url} "
                                                        f"(try {attempt} of {self.policy.tries}, "
                                                        f"{SLOW_AFTER:g}s so far)",))
        timer.daemon = True
        timer.start()
        return timer

    def _note_date(self, response: httpx.Response) -> None:
        header = response.headers.get("Date")
        if header:
            try:
                self.server_date = email.utils.parsedate_to_datetime(header)
            except (TypeError, ValueError):
                pass

    def get_json(self, path: str, params: dict[str, Any] | None = None, budget: ListBudget | None = None) -> Any:
        """`budget`: the list this is a page of (Drone's builds), counted across its pages."""
        return self.retry_malformed(lambda: self._json(self.request("GET", path, params=params, budget=budget)))

    def retry_malformed(self, read: Callable[[], T]) -> T:
        """A GET whose body came cut short (not complete JSON, a list short of its count) is asked
        again, as a timeout is: the same bounded retries; after them it is `Malformed`."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return read()
            except Malformed:
                if not self.policy.again(attempt):
                    raise
                time.sleep(self.policy.after_loss(attempt))

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
                # gates.md: a member that Gitea lists among the org's public members is visibly a
                # member; a 404 there is no answer (a private member looks the same): None.
                return self.public_membership(org, login)
            raise ServiceError(f"{self.service}: GET {self._url(path)} redirected to {redact_url(where)!r}, "
                               "not to the public members", url=self._url(path), status=response.status_code)
        return True

    def public_membership(self, org: str, login: str) -> bool | None:
        """`/orgs/{org}/public_members/{login}` (member.go IsPublicMember): True on 204, else None."""
        try:
            self.request("GET", f"/orgs/{quote(org)}/public_members/{quote(login)}", ok=(200, 204))
        except NotFound:
            return None
        return True

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise Malformed(f"{self.service}: {response.request.method} {redact_url(str(response.request.url))} "
                            f"returned a body that is not complete JSON ({len(response.content)} bytes)",
                            url=redact_url(str(response.request.url)), status=response.status_code) from None

    def gitea_page(self, path: str, params: dict[str, Any] | None, page: int, limit: int,
                   per_page: int | None = None,
                   budget: ListBudget | None = None) -> tuple[list[Any], int | None, bool, str]:
        """One page of a Gitea list: its items, X-Total-Count (if sent), whether a next page is linked, its URL.
        `budget`: the list's, shared by its pages (`list_budget`)."""
        def read() -> tuple[list[Any], int | None, bool, str]:
            response = self.request("GET", path, params={**(params or {}), "page": page, "limit": limit},
                                    budget=budget)
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
        budget = self.list_budget()  # the list's bytes in all (--http-max-list-bytes)
        batch, total, has_next, url = self.gitea_page(path, params, 1, limit, None, budget)
        if on_batch is not None:
            on_batch(batch)
        items = list(batch)
        if total is not None:
            size = len(batch) if has_next and batch else limit
            last = max(1, -(-total // size))
            if last > self.limits.max_pages:
                # Refused before asking: a claimed count is the server's word, and it may be hostile.
                raise LimitExceeded(f"{self.service}: GET {url} claims {total} items (X-Total-Count), {last} pages "
                                    f"of {size}, over the limit of {self.limits.max_pages} pages (--http-max-pages): "
                                    "not read", url=url)
            if last > 1:
                if submit is None:
                    rest = [self.gitea_page(path, params, n, limit, size, budget) for n in range(2, last + 1)]
                else:
                    futures = [submit(self.gitea_page, path, params, n, limit, size, budget)
                               for n in range(2, last + 1)]
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
            self.check_page(page, url)
            batch, _, has_next, url = self.gitea_page(path, params, page, limit, None, budget)
            if on_batch is not None:
                on_batch(batch)
            items.extend(batch)
