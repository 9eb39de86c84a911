"""Every read within named limits (issue 19, case 9), against a small hostile server on 127.0.0.1.

A server answering a 2 GB body, an endless chunked body or `X-Total-Count: 1000000000` was read
until memory ran out; full pages with no end were asked 2,441 times in 120 s; a body trickling a
byte a second hung the run. Each is now an `error` (LimitExceeded) naming the URL and the limit,
after a bounded number of requests and seconds. The server stops writing when the client hangs
up, and never writes longer than a few seconds in any case.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ghostgates.errors import GateError
from ghostgates.fetch import preflight
from ghostgates.fetch.http import ApiClient, LimitExceeded, Limits
from ghostgates.fetch.retry import RetryPolicy

from ._serving import serving

SERVER_SECONDS = 8.0  # no answer of the hostile server lasts longer than this
PAGE = 50


class Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits: dict[str, int] = {}

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _count(self) -> str:
        path = self.path.split("?", 1)[0]
        Hostile.hits[path] = Hostile.hits.get(path, 0) + 1
        return path

    def _stream(self, write: Any) -> None:
        ends = time.monotonic() + SERVER_SECONDS
        try:
            while time.monotonic() < ends and write():
                pass
        except OSError:  # the client hung up: what it should do
            pass
        self.close_connection = True

    def do_GET(self) -> None:  # noqa: C901 - one branch per hostile answer
        path = self._count()
        zeros = b"0" * 65536
        if path == "/api/big":  # 2 GB announced
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(2 << 30))
            self.end_headers()
            self._stream(lambda: self.wfile.write(zeros) or True)
        elif path == "/api/unannounced":  # no length: the body runs until the connection closes
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self._stream(lambda: self.wfile.write(zeros) or True)
        elif path == "/api/chunked":  # endless chunks
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._stream(lambda: self.wfile.write(b"10000\r\n" + zeros + b"\r\n") or True)
        elif path == "/api/trickle":  # one byte a second
            self.send_response(200)
            self.send_header("Content-Length", "64")
            self.end_headers()

            def one() -> bool:
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(1.0)
                return True

            self._stream(one)
        elif path == "/api/claims":  # one page, a billion claimed
            self._json([{"id": i} for i in range(PAGE)],
                       {"X-Total-Count": "1000000000", "Link": '</api/claims?page=2>; rel="next"'})
        elif path in ("/api/endless", "/api/drone-endless"):  # full pages, never a short one, no count
            self._json([{"id": i} for i in range(PAGE if path == "/api/endless" else 25)], {})
        elif path.startswith("/locked/"):  # everything behind sign-in
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/version":  # a server that accepts and never answers
            time.sleep(3)
            self._json({"version": "late"}, {})
        else:
            self._json({"ok": True}, {})

    def _json(self, body: Any, headers: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def hostile() -> Iterator[str]:
    Hostile.hits = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    with serving(server):
        yield f"http://127.0.0.1:{server.server_port}"


def _client(base: str, **limits: Any) -> ApiClient:
    return ApiClient("Gitea", base + "/api", {}, timeout=5.0, policy=RetryPolicy(retries=2, backoff=0.01),
                     limits=Limits(**{"max_body_bytes": 4 << 20, "max_pages": 20, "request_seconds": 2.5, **limits}))


def _refused(base: str, read: Any) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(LimitExceeded) as info:
        read()
    return str(info.value), time.monotonic() - started


def test_a_2gb_body_is_refused_by_its_announced_length(hostile: str) -> None:
    message, took = _refused(hostile, lambda: _client(hostile).get_json("/big"))
    assert message == (f"Gitea: GET {hostile}/api/big announced a body of {2 << 30} bytes, over the limit of "
                       f"{4 << 20} bytes (--http-max-bytes): not read")
    assert took < 2 and Hostile.hits["/api/big"] == 1  # a limit is not a fault to retry


@pytest.mark.parametrize("path", ["/unannounced", "/chunked"])
def test_an_endless_body_is_cut_at_the_limit(hostile: str, path: str) -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        message, took = _refused(hostile, lambda: _client(hostile).get_json(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message == (f"Gitea: GET {hostile}/api{path} sent more than {4 << 20} bytes, the limit of one body "
                       "(--http-max-bytes): the rest was not read")
    assert peak < 32 << 20, f"{peak} bytes held while reading"
    assert took < 5 and Hostile.hits[f"/api{path}"] == 1


def test_a_body_trickling_a_byte_a_second_ends_at_the_deadline(hostile: str) -> None:
    message, took = _refused(hostile, lambda: _client(hostile).get_json("/trickle"))
    assert message == (f"Gitea: GET {hostile}/api/trickle took more than 2.5 s in all, the limit of one request "
                       "(--http-deadline): the rest was not read")
    assert 2.5 <= took < 4.5 and Hostile.hits["/api/trickle"] == 1


def test_a_claimed_billion_items_is_refused_before_a_second_page(hostile: str) -> None:
    message, _ = _refused(hostile, lambda: _client(hostile).gitea_pages("/claims"))
    assert message.startswith(f"Gitea: GET {hostile}/api/claims?page=1&limit=50 claims 1000000000 items "
                              "(X-Total-Count), 20000000 pages of 50, over the limit of 20 pages (--http-max-pages)")
    assert Hostile.hits["/api/claims"] == 1


def test_full_pages_that_never_end_stop_at_the_page_limit(hostile: str) -> None:
    message, took = _refused(hostile, lambda: _client(hostile).gitea_pages("/endless"))
    assert "still had full pages after 20 pages, the limit of one list (--http-max-pages)" in message
    assert Hostile.hits["/api/endless"] == 20 and took < 5


def test_within_the_limits_a_read_is_as_before(hostile: str) -> None:
    # The other side of each limit: a small answer, a list that ends, read whole.
    assert _client(hostile).get_json("/small") == {"ok": True}
    assert _client(hostile, max_body_bytes=12).get_json("/small") == {"ok": True}
    with pytest.raises(LimitExceeded):
        _client(hostile, max_body_bytes=11).get_json("/small")


def test_a_limit_is_an_error_of_the_suite(hostile: str) -> None:
    # `error` (could not find out), never pass or fail: the fixtures cache it as any GateError.
    assert issubclass(LimitExceeded, GateError)


def test_a_service_that_never_answers_is_named_in_one_line(hostile: str) -> None:
    problem = preflight.problem(preflight.drone(hostile, ""), timeout=0.5)
    assert problem == f"DRONE_SERVER={hostile}: GET {hostile}/version did not answer within 0.5 s"


def test_a_server_that_answers_but_not_as_gitea_is_named(hostile: str) -> None:
    problem = preflight.problem(preflight.gitea(hostile, ""), timeout=2)
    assert problem == (f"GITEA_URL={hostile}: is not Gitea: GET {hostile}/api/v1/version answered 200, where Gitea "
                       "answers its version")


def test_a_server_wanting_sign_in_without_a_token_is_named(hostile: str) -> None:
    problem = preflight.problem(preflight.gitea(hostile + "/locked", ""), timeout=2)
    assert problem == (f"GITEA_TOKEN is not set and Gitea answered 401 (GET {hostile}/locked/api/v1/version): it "
                       "reads nothing without a token")
    problem = preflight.problem(preflight.drone(hostile + "/locked", "wrong"), timeout=2)
    assert problem == (f"DRONE_TOKEN: Drone answered 401 for its version (GET {hostile}/locked/version): the token "
                       "is wrong or expired (it is not shown)")


def test_the_engine_read_has_a_total_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # docker-py bounds each socket wait; an engine answering slowly forever is bounded as a whole.
    from ghostgates.fetch import plan
    from ghostgates.read.phase import Phase

    monkeypatch.setattr(plan, "SWARM_SECONDS", 0.3)
    release = threading.Event()
    started = time.monotonic()
    try:
        entries = plan.fetch_all(Phase(), None, None, gitea=None, drone=None,
                                 swarm=lambda: release.wait(10) and {})
    finally:
        release.set()
    assert time.monotonic() - started < 2
    assert entries["swarm"] == {"error": "Docker: reading the Swarm took more than 0.3 s in all, the limit of one "
                                         "engine read: not waited for further", "type": "LimitExceeded"}
    assert plan.fetch_all(Phase(), None, None, gitea=None, drone=None, swarm=lambda: {"ok": 1})["swarm"] == {
        "ok": {"ok": 1}}
