"""HTTP for the Gitea and Drone clients: timeouts, bounded retries, pagination, clear errors.

Errors name the URL and never the token. A page that comes back shorter than the service
promised (X-Total-Count, a Link to a next page) is `Malformed`, not a shorter answer.
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx

from .errors import Malformed, NotFound, ServiceError, Unauthorised, Unreachable

RETRY_STATUSES = {429, 500, 502, 503, 504}
SLOW_AFTER = 5.0  # seconds a request may take before the operator is told what is being waited for
# Where a long wait is reported (the gate plugins point it at the terminal); None: silence.
on_wait: Callable[[str], None] | None = None
_LINK_NEXT = re.compile(r'<[^>]*>\s*;\s*rel="next"')


class ApiClient:
    def __init__(self, service: str, base_url: str, headers: dict[str, str], *,
                 timeout: float = 15.0, retries: int = 3, backoff: float = 0.3,
                 max_retry_after: float = 10.0) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.requests = 0
        self.server_date: datetime | None = None
        self._lock = threading.Lock()
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                    follow_redirects=True)

    def close(self) -> None:
        self._client.close()

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, ok: tuple[int, ...] = (200, 201, 204),
                follow_redirects: bool = True) -> httpx.Response:
        url = self._url(path)
        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self.requests += 1
            timer = self._slow_timer(method, url, attempt)
            try:
                response = self._client.request(method, path, params=params, json=json,
                                                follow_redirects=follow_redirects)
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
        response = self.request("GET", path, params=params)
        return self._json(response)

    def post_json(self, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        return self._json(self.request("POST", path, params=params, json=body))

    def exists(self, path: str) -> bool:
        """204/200 means yes, 404 means no (Gitea's membership and merge checks)."""
        try:
            self.request("GET", path)
        except NotFound:
            return False
        return True

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise Malformed(f"{self.service}: {response.request.method} {response.request.url} "
                            f"returned a body that is not complete JSON ({len(response.content)} bytes)",
                            url=str(response.request.url), status=response.status_code) from None

    def gitea_pages(self, path: str, params: dict[str, Any] | None = None,
                    limit: int = 50) -> list[Any]:
        """Every item of a Gitea list, page by page, checked against what the headers promise."""
        items: list[Any] = []
        page = 1
        while True:
            response = self.request("GET", path, params={**(params or {}), "page": page, "limit": limit})
            batch = self._json(response)
            if not isinstance(batch, list):
                raise Malformed(f"{self.service}: GET {response.request.url} did not return a list",
                                url=str(response.request.url))
            items.extend(batch)
            total = response.headers.get("X-Total-Count")
            has_next = bool(_LINK_NEXT.search(response.headers.get("Link", "")))
            if total is not None and total.isdigit():
                if len(items) >= int(total):
                    return items
                if not batch or (len(batch) < limit and not has_next):
                    raise Malformed(f"{self.service}: GET {response.request.url} was cut short: "
                                    f"{len(items)} of {total} items", url=str(response.request.url))
            elif not batch or len(batch) < limit:
                if has_next and batch:
                    raise Malformed(f"{self.service}: GET {response.request.url} was cut short: "
                                    f"{len(batch)} items but a next page", url=str(response.request.url))
                return items
            page += 1

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
