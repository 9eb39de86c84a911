"""One fetch plan per run: every request sent as soon as what it needs is known.

Known before any request: the phase and, from the state file, the correct PR and the builds it
cites. So the first round holds the repo, the correct PR and its commits, files and comments,
the first page of every Gitea list, the cited builds, the first page of Drone's builds and the
whole Swarm read. A Gitea list's later pages go out together once page 1's X-Total-Count says how
many there are; Drone's builds list has no count, so its pages are the one sequential chain (it
stops at the phase's window). Each upgrade PR's comments go out as soon as a pulls page names
the PR, each membership as soon as a comment asks it, each red build's detail and step logs as
soon as a builds page lists the build.

Concurrency is bounded per service (a pool each), so a live server is not hammered; the
threads that only wait (pagers, chains) are plain threads outside the pools, so a pool never
waits on itself. Retries and errors are the clients' own: each request fails or succeeds as it
did when the sources were fetched one by one, and a source (gitea, drone, swarm) that could not
be read is cached as that source's error.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from ghostgates.errors import GateError, Malformed, NotFound, ServiceError
from ghostgates.fetch import needs
from ghostgates.fetch.http import ApiClient
from ghostgates.fetch.recent import read_recent
from ghostgates.fetch.stream import CutShort, NotAList, json_array_items, streamed_get
from ghostgates.judge import classify
from ghostgates.judge.facts import CLOCK_SKEW, head_branch, head_sha
from ghostgates.read.phase import Phase
from ghostgates.read.statefile import StateFile
from ghostgates.shapes import DroneData, Entry, GiteaData, SwarmSnapshot, contents_key
from ghostgates.timeutil import parse_time, rfc3339

T = TypeVar("T")
D = TypeVar("D", GiteaData, DroneData)
PER_SERVICE = 8  # requests in flight per service
# Drone's builds list is the one chain without a count (its pages are read ahead, not all at once):
# a few more in flight there, so that the read-ahead window and the red builds' details and logs
# (the tails of their chains) do not queue behind one another (issue 22: chain depth at x16).
DRONE_IN_FLIGHT = PER_SERVICE + 4
DRONE_PER_PAGE = 100  # handler/api/repos/builds/list.go accepts 1..100
SWARM_SECONDS = 300.0  # the whole Docker engine read at most (issue 19: every read within a limit)


def spawn(fn: Callable[..., T], *args: Any) -> Future[T]:
    """Run `fn` in a thread of its own (for work that waits on pool futures), as a Future."""
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    return future


# The pool's order (lower first): a request serves sooner the further along its chain it is, so that
# the chain's tail is not queued behind a list's many later pages (issue 22).
LAST_IN_CHAIN = -2  # a membership: nothing waits to start on it but the rules
LEADS_ON = -1  # a PR's comments: memberships follow from them
URGENT = 0  # a list's later pages (the pages name PRs and builds that start more)
PLAIN = 1


class Pool:
    """A bounded pool whose queue serves urgent requests first (a list's later pages, on the chain)."""

    def __init__(self, workers: int, name: str) -> None:
        self._workers = workers
        self._queue: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._closed = False
        for i in range(workers):
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True).start()

    def submit(self, fn: Callable[..., T], *args: Any, urgent: bool = False, rank: int | None = None) -> Future[T]:
        future: Future[T] = Future()
        order = rank if rank is not None else URGENT if urgent else PLAIN
        self._queue.put((order, next(self._order), (future, fn, args)))
        return future

    def _work(self) -> None:
        while True:
            _, _, item = self._queue.get()
            if item is None:
                return
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)

    def shutdown(self) -> None:
        """Stop the workers once the queue is served (the plan has waited for everything it needs)."""
        for _ in range(self._workers):
            self._queue.put((PLAIN + 1, next(self._order), None))


def outcome(future: Future[Any], timeout: float | None = None, what: str = "") -> Entry:
    """A source's cache entry: {"ok": data} or {"error": sentence, "type": class name}.

    `timeout`: how long the whole read may take (the Docker engine's, `SWARM_SECONDS`: docker-py's
    own timeout bounds each socket wait, not the read); past it the read is left to its thread."""
    try:
        return {"ok": future.result(timeout=timeout)}
    except GateError as exc:
        return {"error": str(exc), "type": type(exc).__name__}
    except FutureTimeout:
        return {"error": f"{what} took more than {timeout:g} s in all, the limit of one engine read: not waited "
                         "for further", "type": "LimitExceeded"}


def phase_moments(phase: Phase) -> list[datetime]:
    moments = [m for m in (phase.phase_started_at, phase.proxy_fixed_at) if m is not None]
    if phase.classify_failure_on is not None:
        moments.append(parse_time(phase.classify_failure_on))  # the UTC day's first instant
    return moments


# -- Gitea ------------------------------------------------------------------------------------


class GiteaPlan:
    def __init__(self, api: ApiClient, phase: Phase, correct: int | None,
                 compose_file: Callable[[str], bool] | None) -> None:
        self.api, self.phase, self.correct, self.compose_file = api, phase, correct, compose_file
        self.base = f"/repos/{phase.repo}"
        self.pool = Pool(PER_SERVICE, "gitea")
        self.lock = threading.Lock()
        self.comments: dict[int, Future[list[Any]]] = {}
        self.members: dict[str, Future[bool | None]] = {}
        # The correct PR as Gitea sends it (None: it does not exist); the Drone chain waits on it.
        self.correct_pr: Future[dict[str, Any] | None] = Future()
        # The builds the read PRs' replies and statuses link (needs.linked_builds), once all are read.
        self.links: Future[set[int]] = Future()

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self.pool.submit(fn, *args)

    def pages(self, path: str, params: dict[str, Any] | None = None,
              on_batch: Callable[[list[Any]], None] | None = None) -> Future[list[Any]]:
        # Later pages go first in the queue: what they name starts further requests.
        return spawn(lambda: self.api.gitea_pages(
            path, params, submit=lambda *a: self.pool.submit(*a, urgent=True), on_batch=on_batch))

    def run(self) -> GiteaData:
        try:
            data = self._run()
            self.links.set_result(needs.linked_builds(self.phase, data))
            return data
        except BaseException as exc:
            for future in (self.correct_pr, self.links):
                if not future.done():
                    future.set_exception(exc)
            raise
        finally:
            self.pool.shutdown()

    def _run(self) -> GiteaData:
        phase, base, correct = self.phase, self.base, self.correct
        repo_f = self.submit(self.api.get_json, base)
        single_f = self.submit(self._pull, correct) if correct is not None else None
        parts: dict[str, Future[list[Any]]] = {}
        if correct is not None:
            # The correct PR's parts go out with page 1 of the pulls; kept only if the PR exists.
            parts = {"commits": self.pages(f"{base}/pulls/{correct}/commits"),
                     "files": self.pages(f"{base}/pulls/{correct}/files")}
            self._comments_of(correct, single_f)
        pulls_f = spawn(self._pulls, single_f)
        branches_f = self.pages(f"{base}/branches")
        tests_f = {str(tp): self.pages(f"/repos/{tp.repo}/commits", self._test_params(tp.path))
                   for tp in phase.test_paths}
        early: dict[str, Any] = {}
        early_f = spawn(self._head_side, single_f, parts.get("files"), early) if single_f is not None else None

        pulls, since, paging = pulls_f.result()
        listed = next((p for p in pulls if p.get("number") == correct), None)
        if listed is None and since is not None and single_f is not None:
            # Read back to the window only: the correct PR may be older and untouched since (so
            # not listed); its own read stands for it (M1.correct-pr says what it is).
            listed = self._single_or_none(single_f)
            if listed is not None:
                pulls.append(listed)
        if not self.correct_pr.done():
            self.correct_pr.set_result(listed)
        repo_info = repo_f.result()
        branches = branches_f.result()
        test_commits = {k: f.result() for k, f in tests_f.items()}
        numbers = {p["number"] for p in pulls if phase.is_upgrade(p.get("title", ""), head_branch(p))}
        if listed is not None:
            numbers.add(listed["number"])
        for pr in pulls:
            if pr["number"] in numbers:
                self._comments_of(pr["number"], None, pr)
        per_pr: dict[str, Any] = {}
        for number in sorted(numbers):
            entry: dict[str, Any] = {"comments": self.comments[number].result()}
            if number == correct:
                entry.update({k: f.result() for k, f in parts.items()})
            else:
                # Commits and files are read for the correct PR only (M1.fresh-run, M2.fix-minimal);
                # an empty list here is "not fetched", and no rule reads it.
                entry.update({"commits": [], "files": []})
            per_pr[str(number)] = entry
        if early_f is not None:
            early_f.result()
        statuses: dict[str, list[Any]] = dict(early.get("statuses") or {})
        contents: dict[str, str | None] = dict(early.get("contents") or {})
        if listed is not None:
            # The list is what the rules read; where it moved on since the single read, read again.
            self._head_side_of(listed, per_pr[str(listed["number"])]["files"], statuses, contents)
        else:
            statuses, contents = {}, {}
        members = {login: f.result() for login, f in sorted(self._member_futures().items())}
        return {
            "base_url": self.api.base_url.removesuffix("/api/v1"),
            "repo": repo_info,
            "pulls": pulls,
            # How far back the pulls list was read (None: to its end): an older PR is listed only
            # if open (or the correct PR), since no rule reads an old closed one (fetch/recent.py).
            "pulls_since": since,
            "pulls_paging": paging,
            "pr": per_pr,
            "branches": branches,
            "members": members,
            "statuses": statuses,
            "test_commits": test_commits,
            "contents": contents,
            "now": self.api.server_date.isoformat() if self.api.server_date else None,
        }

    def _pulls(self, single_f: Future[Any] | None) -> tuple[list[Any], str | None, dict[str, int]]:
        """The PRs the rules read: every open one, and every one updated since the window's floor
        (fetch/recent.py), or the whole list where no floor can be placed.

        The floor is the earliest of the phase's start, the proxy fix and the correct PR's opening,
        a minute earlier still: a duplicate (opened since the correct PR), a merge since the phase
        began, a post-proxy testme each updated its PR at or after it (gates.md, M1 and M2)."""
        path = f"{self.base}/pulls"
        starts = [self.phase.phase_started_at, self.phase.proxy_fixed_at]
        windowed = single_f is not None and all(m is not None for m in starts)

        def floor_of() -> float | None:
            if not windowed or single_f is None:
                return None
            pr = self._single_or_none(single_f)
            try:
                born = parse_time(str((pr or {})["created_at"]))
            except (KeyError, TypeError, ValueError):
                return None  # no correct PR to date duplicates from: the whole list
            moments = [m for m in starts if m is not None] + [born]
            return min(moments).timestamp() - CLOCK_SKEW.total_seconds()

        open_f = self.pages(path, {"state": "open"}, on_batch=self._on_pulls) if windowed else None
        recent = read_recent(self.api, path, {"state": "all"}, floor_of, on_batch=self._on_pulls,
                             submit=lambda *a: self.pool.submit(*a, urgent=True), ahead=PER_SERVICE)
        items = list(recent.items)
        if not recent.complete and open_f is not None:
            seen = {p.get("number") for p in items if isinstance(p, dict)}
            items.extend(p for p in open_f.result() if isinstance(p, dict) and p.get("number") not in seen)
        since = None if recent.since is None else rfc3339(datetime.fromtimestamp(recent.since, UTC))
        return items, since, recent.paging

    @staticmethod
    def _single_or_none(single_f: Future[Any]) -> dict[str, Any] | None:
        try:
            found = single_f.result()
        except GateError:
            return None  # its error is reported where the PR is read for itself
        return found if isinstance(found, dict) else None

    def _pull(self, number: int) -> dict[str, Any] | None:
        try:
            pr = self.api.get_json(f"{self.base}/pulls/{number}")
        except NotFound:
            return None  # no such PR: M1.correct-pr says so from the list, which agrees
        if not self.correct_pr.done() and isinstance(pr, dict):
            self.correct_pr.set_result(pr)
        return pr

    def _test_params(self, path: str) -> dict[str, Any]:
        params: dict[str, Any] = {"path": path}
        if self.phase.phase_started_at is not None:
            params["since"] = rfc3339(self.phase.phase_started_at)
        return params

    def _on_pulls(self, batch: list[Any]) -> None:
        for pr in batch:
            if isinstance(pr, dict) and "number" in pr and self.phase.is_upgrade(pr.get("title", ""), head_branch(pr)):
                self._comments_of(pr["number"], None, pr)

    def _comments_of(self, number: int, single_f: Future[Any] | None, pr: dict[str, Any] | None = None) -> None:
        with self.lock:
            if number in self.comments:
                return
            self.comments[number] = spawn(self._read_comments, number, single_f, pr)

    def _read_comments(self, number: int, single_f: Future[Any] | None, pr: dict[str, Any] | None) -> list[Any]:
        # Gitea's issue comments endpoint sends every comment, no paging, with X-Total-Count
        # (routers/api/v1/repo/issue_comment.go ListIssueComments).
        comments = self.pool.submit(self.api.get_counted_list, f"{self.base}/issues/{number}/comments",
                                    rank=LEADS_ON).result()
        if pr is None and single_f is not None:
            pr = single_f.result()
        if pr is None:
            # The single read found no such PR: the list decides (it may still name it).
            pr = self._correct_for_membership()
        if pr is None:
            return comments
        correct = self._correct_for_membership()
        for comment in comments:
            if needs.wants_membership(self.phase, correct, pr, comment):
                self._member((comment.get("user") or {}).get("login", ""))
        return comments

    def _correct_for_membership(self) -> dict[str, Any] | None:
        try:
            return self.correct_pr.result()
        except BaseException:  # noqa: BLE001 - the pulls read failed: that error is the source's
            return None

    def _member(self, login: str) -> None:
        with self.lock:
            if login not in self.members:
                self.members[login] = self.pool.submit(self.api.membership, self.phase.owner, login,
                                                       rank=LAST_IN_CHAIN)

    def _member_futures(self) -> dict[str, Future[bool | None]]:
        with self.lock:
            return dict(self.members)

    def _head_side(self, single_f: Future[Any], files_f: Future[list[Any]] | None, out: dict[str, Any]) -> None:
        pr = single_f.result()
        if pr is None:
            return
        statuses: dict[str, list[Any]] = {}
        contents: dict[str, str | None] = {}
        try:
            files = files_f.result() if files_f is not None else []
        except GateError:
            files = []  # read again (and its error raised) from the list's PR below
        self._head_side_of(pr, files, statuses, contents)
        out["statuses"], out["contents"] = statuses, contents

    def _head_side_of(self, pr: dict[str, Any], files: list[Any], statuses: dict[str, list[Any]],
                      contents: dict[str, str | None]) -> None:
        """The head's statuses, and the compose files M2.fix-minimal compares: at the merge base
        (under contents_key(merge_base, old_name)) and at the head. A PR without `merge_base` gets no base
        side: fix-minimal says `error`, never a diff against base.sha."""
        sha = head_sha(pr)
        futures: dict[str, Future[Any]] = {}
        if sha not in statuses:
            futures["statuses"] = self.pages(f"{self.base}/commits/{quote(sha, safe='')}/statuses")
        merge_base = pr.get("merge_base") or ""
        wanted: dict[str, tuple[str, str]] = {}
        if self.compose_file is not None:
            for changed in files:
                name = changed.get("filename", "")
                if not self.compose_file(name):
                    continue
                old_name = changed.get("previous_filename") or name
                if merge_base:
                    wanted[contents_key(merge_base, old_name)] = (old_name, merge_base)
                wanted[contents_key(sha, name)] = (name, sha)
        for key, (path, ref) in wanted.items():
            if key not in contents:
                futures[key] = self.submit(raw_file, self.api, self.phase.repo, path, ref)
        roots = {}
        if self.compose_file is not None:
            # gates.md "Other recipes' phases": the signature families come from the images the
            # recipe's root compose files run at the merge base and at the head, and the upgrade
            # itself may be an `.env.sample` variable: those files at both refs, found by listing
            # the root (under f"{ref}:" the names found, one a line).
            known = set(contents) | set(wanted)
            roots = {ref: spawn(self._root_files, ref, known) for ref in dict.fromkeys((merge_base, sha))
                     if ref and f"{ref}:" not in contents}
        for key, future in futures.items():
            if key == "statuses":
                statuses[sha] = future.result()
            else:
                contents[key] = future.result()
        for future in roots.values():
            contents.update(future.result())

    def _root_files(self, ref: str, known: set[str]) -> dict[str, str | None]:
        names = self.submit(root_names, self.api, self.phase.repo, ref).result()
        wanted = [n for n in names if classify.is_root_compose_file(n) or n == ENV_SAMPLE]
        out: dict[str, str | None] = {f"{ref}:": "\n".join(wanted)}
        reads = {n: self.submit(raw_file, self.api, self.phase.repo, n, ref) for n in wanted
                 if f"{ref}:{n}" not in known}
        out.update({f"{ref}:{n}": f.result() for n, f in reads.items()})
        return out


ENV_SAMPLE = ".env.sample"


def root_names(api: ApiClient, repo: str, ref: str) -> list[str]:
    """The names of the files at the root of `repo` at `ref` (routers/api/v1/repo/file.go
    GetContentsList: a list of ContentsResponse, `type` "file" or "dir"); [] where Gitea has none."""
    try:
        entries = api.get_json(f"/repos/{repo}/contents", params={"ref": ref})
    except NotFound:
        return []
    if not isinstance(entries, list):
        raise Malformed(f"Gitea: GET /repos/{repo}/contents?ref={ref} did not return a folder listing",
                        url=f"{api.base_url}/repos/{repo}/contents?ref={ref}")
    return sorted(str(e.get("name") or "") for e in entries
                  if isinstance(e, dict) and e.get("type") == "file" and "/" not in str(e.get("name") or ""))


def raw_file(api: ApiClient, repo: str, path: str, ref: str) -> str | None:
    """A file's text at `ref`; None when it does not exist there (added by the PR, or removed by it).

    Read through the contents API (routers/api/v1/repo/file.go GetContents; modules/structs
    ContentsResponse), not /raw: a body cut short is then JSON that does not parse, and what
    does parse is checked against the blob's size and git object id, so a cut file is never
    read as a shorter file.
    """
    url = f"{api.base_url}/repos/{repo}/contents/{path}?ref={ref}"

    def read() -> str | None:
        try:
            entry = api.get_json(f"/repos/{repo}/contents/{quote(path)}", params={"ref": ref})
        except NotFound:
            return None  # Gitea's 404 for a path absent at that ref: the API's "no such file"
        if not isinstance(entry, dict) or entry.get("type") != "file" or entry.get("encoding") != "base64":
            raise Malformed(f"Gitea: GET {url} did not return a file", url=url)
        try:
            data = base64.b64decode(entry.get("content") or "", validate=False)
        except (binascii.Error, ValueError):
            raise Malformed(f"Gitea: GET {url} returned content that is not base64", url=url) from None
        blob = hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest()  # noqa: S324 - git's object id
        if len(data) != entry.get("size") or blob != entry.get("sha"):
            raise Malformed(f"Gitea: GET {url} was cut short: {len(data)} of {entry.get('size')} bytes, "
                            "or not the blob it names", url=url)
        return data.decode("utf-8", errors="replace")

    return api.retry_malformed(read)


# -- Drone ------------------------------------------------------------------------------------


class DronePlan:
    def __init__(self, api: ApiClient, repo: str, cited: set[int], wants_log: Callable[[dict[str, Any]], bool],
                 floor: datetime | None, born: Future[dict[str, Any] | None] | None = None,
                 linked: Future[set[int]] | None = None) -> None:
        """`cited`: builds read one by one; `wants_log(build)`: whose logs to read; the builds list
        is read back to `floor`, or to the correct PR's birth where `born` says it is earlier
        (each less CLOCK_SKEW: Drone stamps `created` by its own clock); `linked`: the builds the
        PRs' replies and statuses link, read one by one where the list stopped before them."""
        self.api, self.cited, self.wants_log, self.floor = api, cited, wants_log, floor
        self.correct_pr = born
        self.linked = linked
        self.repo = repo
        self.pool = Pool(DRONE_IN_FLIGHT, "drone")
        self.lock = threading.Lock()
        self.chains: dict[int, Future[tuple[dict[str, Any] | None, str | None, str | None]]] = {}
        self.single: dict[int, Future[dict[str, Any] | None]] = {}
        self.paging = {"pages": 0, "ahead_unused": 0, "rereads": 0, "most_ahead": 0}
        self.budget = api.list_budget()  # the builds list's bytes in all, its pages together (--http-max-list-bytes)

    def run(self) -> DroneData:
        try:
            return self._run()
        finally:
            self.pool.shutdown()

    def _run(self) -> DroneData:
        cited = self.cited
        single = {n: self.pool.submit(self._build, n) for n in sorted(cited)}
        self.single = single
        # A cited build's detail says by itself whether a rule reads its log: no need to wait for
        # the builds page that lists it.
        early = [spawn(self._chain_if_wanted, f) for f in single.values()]
        builds, complete = self._list()
        listed = {int(b["number"]) for b in builds}
        # Builds a reply or a status links that the list did not reach (older than the window, or
        # purged): read one by one, so that pairing replies with testmes sees every linked build
        # Drone still has; a 404 is marked missing, never guessed.
        linked = self._linked() - listed - cited
        single.update({n: self.pool.submit(self._build, n) for n in sorted(linked)})
        missing: list[int] = []
        for number in sorted((cited | linked) - listed):
            found = single[number].result()
            if found is None:
                # Drone's 404 for a build number it does not have (never had, or purged): the state
                # file or a reply cites a build that does not exist; not a read that failed.
                missing.append(number)
                continue
            builds.append(found)
            if self.wants_log(found):
                self._chain(found, single[number])
        for future in early:
            future.result()
        details: dict[str, Any] = {}
        logs: dict[str, str] = {}
        log_errors: dict[str, str] = {}
        for number, chain in sorted(self._chains().items()):
            detail, log, error = chain.result()
            if detail is not None:
                details[str(number)] = detail
            if error is not None:
                log_errors[str(number)] = error
            elif log is not None:
                logs[str(number)] = log
        for number in sorted(cited & listed):
            # A cited build the list names: its detail serves as well as the list entry.
            try:
                found = single[number].result()
            except GateError:
                found = None  # the list's entry stands; no rule reads more of a build it needs no log of
            if found is not None and str(number) not in details:
                details[str(number)] = found
        floor = self._floor()
        return {
            "base_url": self.api.base_url.removesuffix("/api"),
            "builds": builds,
            "missing": missing,
            "details": details,
            "logs": logs,
            "log_errors": log_errors,
            # What was not fetched: the list was read back to `listed_since` (None: to its end);
            # an older build is here only when cited or linked, and absent ones are in `missing`.
            "listed_since": None if complete or floor is None else rfc3339(parse_time(floor)),
            "linked": sorted(self._linked()),
            "paging": dict(self.paging),
            "now": self.api.server_date.isoformat() if self.api.server_date else None,
        }

    # -- the builds list, read ahead -------------------------------------------------------------

    def _list(self) -> tuple[list[dict[str, Any]], bool]:
        """The builds list, newest first, back to the window (or its end): (builds, read to its end).

        Drone sends no count, so the pages cannot all go out at once as Gitea's do. They are read
        ahead instead: page 1 alone, then, while every page is full and inside the window, as many
        pages in flight as the window is likely to need (the pages' time span so far, extrapolated
        to the window's floor; doubling 2, 4, ... where the span gives no estimate), at most
        PER_SERVICE, and never more than the list can still hold (its lowest build number bounds
        the builds left). The first short
        page or the page that reaches the window ends the list; pages sent past it are counted as
        `ahead_unused`.
        """
        sent: dict[int, Future[list[Any]]] = {}
        used: set[int] = set()

        def send(page: int) -> None:
            if page not in sent:
                sent[page] = spawn(self._page, page)  # each page waits on the pool in a thread of its own

        builds: list[dict[str, Any]] = []
        seen: set[int] = set()
        page, window, complete = 1, 1, False
        send(1)
        try:
            while True:
                batch = self._take(sent, page)
                used.add(page)
                for build in batch:
                    if int(build["number"]) in seen:
                        continue
                    seen.add(int(build["number"]))
                    builds.append(build)
                    if self.wants_log(build):
                        self._chain(build, self.single.get(int(build["number"])))
                if self._reached_window(batch):
                    break
                if len(batch) < DRONE_PER_PAGE:
                    # Drone sends no count: a short page ends the list only if the next page is empty;
                    # else this page was cut (a list short of its last item), and is read again.
                    if not batch:
                        complete = True
                        break
                    send(page + 1)
                    used.add(page + 1)
                    if not self._take(sent, page + 1):
                        complete = True
                        break
                    self.paging["rereads"] += 1
                    if self.paging["rereads"] > self.api.retries:
                        raise Malformed(f"Drone: GET {self.api.base_url}/repos/{self.repo}/builds?page={page} was cut "
                                        f"short: {len(batch)} of {DRONE_PER_PAGE} builds, and page {page + 1} has more",
                                        url=f"{self.api.base_url}/repos/{self.repo}/builds")
                    del sent[page]
                    send(page)
                    continue
                window = self._ahead(builds, page, window)
                page += 1
                for ahead in range(page, page + window):
                    send(ahead)
                # Pages sent and not yet read: the read-ahead window, as decided.
                self.paging["most_ahead"] = max(self.paging["most_ahead"], sum(1 for n in sent if n >= page))
        finally:
            # Pages sent past the list's end or the window: their answers (or errors) are not read.
            self.paging["ahead_unused"] = sum(1 for number in sent if number not in used)
            self.paging["pages"] = len(sent) + self.paging["rereads"]
        return builds, complete

    @staticmethod
    def _take(sent: dict[int, Future[list[Any]]], page: int) -> list[Any]:
        return sent[page].result()

    def _ahead(self, builds: list[dict[str, Any]], pages: int, window: int) -> int:
        """How many pages to have in flight after `pages` full pages inside the window (at least 1)."""
        bounds: list[int] = []
        numbers = [int(b["number"]) for b in builds if isinstance(b.get("number"), int)]
        if numbers and min(numbers) >= 1:
            # Build numbers are a repo's counter: below the lowest seen are at most lowest - 1
            # builds. One page more than they fill: the page that shows the list has ended.
            bounds.append(-(-(min(numbers) - 1) // DRONE_PER_PAGE) + 1)
        floor = self._floor(wait=False)
        stamps: list[float] = [float(b["created"]) for b in builds if isinstance(b.get("created"), int | float)]
        estimated = False
        if floor is not None and len(stamps) >= 2:
            span = (stamps[0] - stamps[-1]) / pages  # seconds of builds a page holds, so far
            if span > 0:
                left = max(stamps[-1] - floor, 0) / span
                bounds.append(int(left * 1.25) + 1)  # a margin: builds come in bursts
                estimated = True
        # Where the pages' time span estimates how many pages the window still needs, that many go
        # out at once (the estimate bounds the waste); without an estimate the window widens by
        # doubling while every page is full and inside the window (a short list wastes little).
        # Never wider than the bounds say the list and the window can still need.
        return max(1, min(DRONE_IN_FLIGHT, DRONE_IN_FLIGHT if estimated else window * 2, *bounds))

    def _floor(self, wait: bool = True) -> float | None:
        """The window's floor (a POSIX time) as known now; with `wait`, once the correct PR is read."""
        moments = [self.floor.timestamp()] if self.floor is not None else []
        if self.correct_pr is not None and (wait or self.correct_pr.done()):
            born = self._correct_born()
            if born is not None:
                moments.append(born)
        return min(moments) - CLOCK_SKEW.total_seconds() if moments else None

    def _linked(self) -> set[int]:
        if self.linked is None:
            return set()
        try:
            return set(self.linked.result())
        except BaseException:  # noqa: BLE001 - Gitea's own error is reported; without Gitea no rule pairs
            return set()

    def _page(self, page: int) -> list[Any]:
        path = f"/repos/{self.repo}/builds"
        self.api.check_page(page, f"{self.api.base_url}{path}")  # full pages that never end (http.Limits)
        batch = self.pool.submit(self.api.get_json, path, {"page": page, "per_page": DRONE_PER_PAGE}, self.budget,
                                 urgent=True).result()
        if not isinstance(batch, list):
            url = f"{self.api.base_url}{path}?page={page}"
            raise Malformed(f"Drone: GET {url} did not return a list", url=url)
        return batch

    def _build(self, number: int) -> dict[str, Any] | None:
        try:
            return self.api.get_json(f"/repos/{self.repo}/builds/{number}")
        except NotFound:
            return None

    def _reached_window(self, batch: list[Any]) -> bool:
        """Whether this page reaches back before the window of builds that matter (history_start,
        less CLOCK_SKEW)."""
        oldest = batch[-1].get("created") or 0 if batch else None
        if oldest is None:
            return False
        skew = CLOCK_SKEW.total_seconds()
        if self.floor is not None and oldest >= self.floor.timestamp() - skew:
            return False  # the window starts no later than the phase's own moments
        floor = self._floor()
        return floor is not None and oldest < floor

    def _correct_born(self) -> float | None:
        if self.correct_pr is None:
            return None
        try:
            pr = self.correct_pr.result()
        except BaseException:  # noqa: BLE001 - Gitea's own error is reported; without Gitea no rule runs
            return None
        if not pr or not pr.get("created_at"):
            return None
        return parse_time(pr["created_at"]).timestamp()

    def _chain_if_wanted(self, single_f: Future[Any]) -> None:
        try:
            found = single_f.result()
        except GateError:
            return  # the list's entry decides, and the chain reports the detail's error
        if found is not None and self.wants_log(found):
            self._chain(found, single_f)

    def _chain(self, build: dict[str, Any], single_f: Future[Any] | None) -> None:
        number = int(build["number"])
        with self.lock:
            if number not in self.chains:
                self.chains[number] = spawn(self._detail_and_log, number, single_f)

    def _chains(self) -> dict[int, Future[Any]]:
        with self.lock:
            return dict(self.chains)

    def _detail_and_log(self, number: int, single_f: Future[Any] | None) -> tuple[
            dict[str, Any] | None, str | None, str | None]:
        url = f"{self.api.base_url}/repos/{self.repo}/builds/{number}"
        try:
            detail = (single_f or self.pool.submit(self._build, number, rank=LEADS_ON)).result()
        except GateError as exc:
            return None, None, f"The log of build #{number} could not be read: {exc}"
        if detail is None:
            return None, None, (f"The log of build #{number} could not be read: Drone: GET {url} answered 404 "
                                "although the builds list names the build")
        try:
            return detail, build_log(self.api, self.repo, detail,
                                     lambda *a: self.pool.submit(*a, rank=LAST_IN_CHAIN)), None
        except GateError as exc:
            # A step that ran has a log; a 404 for it is a read that failed, not an empty log.
            return detail, None, f"The log of build #{number} could not be read: {exc}"


def build_log(api: ApiClient, repo: str, detail: dict[str, Any],
              submit: Callable[..., Future[Any]] | None = None) -> str:
    """Every step's log lines of a build (its detail, with stages), in stage and step order.

    The steps' logs are read at once through `submit` (serially without it), each as a stream
    (`step_log_lines`); any that cannot be read raises its error: a log is whole or it is not read.
    """
    number = detail["number"]
    # A build with no stages (Drone's answer for one that failed before any stage ran, its `error`
    # set) has no step logs: that empty log is the server's, not a read that failed.
    paths = [f"/repos/{repo}/builds/{number}/logs/{stage['number']}/{step['number']}"
             for stage in detail.get("stages") or [] for step in stage.get("steps") or [] if _ran(step)]
    if submit is None:
        answers = [step_log_lines(api, path) for path in paths]
    else:
        answers = [future.result() for future in [submit(step_log_lines, api, path) for path in paths]]
    return as_log(line for lines in answers for line in lines)


def as_log(lines: Iterable[str]) -> str:
    """A build's log as the rules hand it to the classifier: the one place that says its form.

    Joined text today; the classifier (judge/classify.py) is being made to read an iterable of
    lines, and then this is `list(lines)`, so that no whole-text copy is ever made.
    """
    return "\n".join(lines)


def step_log_lines(api: ApiClient, path: str, limit: int | None = None) -> list[str]:
    """One step's log lines, read as a stream: Drone's log endpoint (handler/api/repos/builds/logs
    /find.go, core.Line) answers a JSON array of {pos, out, time}; each `out` is one line with its
    newline (an `out` holding more newlines is more lines). Parsed item by item as the body
    arrives, so that neither the body nor its parsed objects are ever held whole. A body cut
    short is read again (the client's bounded retries), then `Malformed`; one over `limit` bytes
    (MAX_LOG_BYTES) is an error, never a shorter log.
    """
    cap = MAX_LOG_BYTES if limit is None else limit
    url = api.base_url + path

    def read() -> list[str]:
        lines: list[str] = []
        size = 0
        deadline = time.monotonic() + LOG_SECONDS
        try:
            with streamed_get(api, path) as response:
                def chunks() -> Iterator[bytes]:
                    nonlocal size
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > cap:
                            raise TooLarge(f"Drone: GET {url} is over {cap} bytes (the log limit): "
                                           "its log is not read", url=url)
                        if time.monotonic() > deadline:  # a body trickling in: bounded in time too
                            raise TooLarge(f"Drone: GET {url} took more than {LOG_SECONDS:g} s (the log's "
                                           f"time limit) after {size} bytes: its log is not read", url=url)
                        yield chunk

                for entry in json_array_items(chunks()):
                    if isinstance(entry, dict):
                        lines.extend(str(entry.get("out", "")).rstrip("\n").split("\n"))
        except NotAList:
            raise Malformed(f"Drone: GET {url} is not a list of log lines", url=url) from None
        except CutShort:
            raise Malformed(f"Drone: GET {url} returned a body that is not complete JSON ({size} bytes)",
                            url=url) from None
        except (httpx.TransportError, httpx.DecodingError):
            raise Malformed(f"Drone: GET {url} broke off after {size} bytes", url=url) from None
        return lines

    return api.retry_malformed(read)


MAX_LOG_BYTES = 1 << 30  # a step log's body: its own limit, far above any other answer's
LOG_SECONDS = 600.0  # a step log's read, however slowly its bytes come: its own time limit


class TooLarge(ServiceError):
    """A body over its limit: not read, never read as a shorter one."""


def _ran(step: dict[str, Any]) -> bool:
    """A step that never started (skipped, pending, started 0) has no log: Drone stores none for it."""
    return step.get("status") not in ("skipped", "pending", "waiting_on_dependencies") and bool(
        step.get("started", 1))


# -- the run ----------------------------------------------------------------------------------


def fetch_all(phase: Phase, state: StateFile | None, correct: int | None, *,
              gitea: ApiClient | None, drone: ApiClient | None,
              swarm: Callable[[], SwarmSnapshot] | None,
              compose_file: Callable[[str], bool] | None = None) -> dict[str, Entry]:
    """Each given source's cache entry ({"ok": ...} or {"error": ...}), all fetched at once.

    The clients are the caller's (it closes them); `requests` in each entry counts what was sent,
    retries included.
    """
    futures: dict[str, Future[Any]] = {}
    if swarm is not None:
        futures["swarm"] = spawn(swarm)  # the Docker read starts in the first round
    gitea_plan = GiteaPlan(gitea, phase, correct, compose_file) if gitea is not None else None
    if gitea_plan is not None:
        futures["gitea"] = spawn(_counted, gitea_plan.run, gitea)
    if drone is not None:
        born = gitea_plan.correct_pr if gitea_plan is not None else None
        links = gitea_plan.links if gitea_plan is not None else None
        moments = phase_moments(phase)
        plan = DronePlan(drone, phase.drone_repo, needs.cited_builds(phase, state),
                         lambda build: needs.wants_log(phase, state, correct, build),
                         min(moments) if moments else None, born, links)
        futures["drone"] = spawn(_counted, plan.run, drone)
    return {key: outcome(future, SWARM_SECONDS, "Docker: reading the Swarm") if key == "swarm" else outcome(future)
            for key, future in futures.items()}


def _counted(run: Callable[[], D], api: ApiClient) -> D:
    data = run()
    data["requests"] = api.requests
    return data
