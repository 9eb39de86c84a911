"""The phase's world as the rules see it: fetched JSON in, domain questions answered.

Nothing here fetches. The names follow gates.md: upgrade PRs, the correct PR, testmes and their
builds, post-proxy, red and green.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from ghostgates.judge import classify
from ghostgates.read import citations
from ghostgates.read.logtext import readable
from ghostgates.read.phase import Phase
from ghostgates.read.statefile import StateFile
from ghostgates.shapes import DroneData, GiteaData
from ghostgates.timeutil import maybe_time, parse_time

RED = ("failure", "error")
GREEN = ("success",)
FINISHED = RED + GREEN

# gates.md "Its build": Gitea and Drone keep two clocks that may differ by up to a minute.
CLOCK_SKEW = timedelta(minutes=1)
# services/convert/pull.go (go-gitea/gitea): once the head branch is gone, head.ref is the
# pull ref `refs/pull/N/head` and the branch name survives only in head.label.
_PULL_REF = re.compile(r"^refs/pull/\d+/head$")


class MembershipHidden(Exception):
    """Gitea answered a membership question with a redirect to the public members (gates.md)."""

    def __init__(self, login: str, org: str) -> None:
        self.login = login
        self.org = org
        super().__init__(f"Gitea hides org membership of {login} from this token: "
                         f"use a token of a {org} member or an admin")


@dataclass(frozen=True)
class Testme:
    pr: int
    comment: dict[str, Any]

    @property
    def id(self) -> int:
        return int(self.comment.get("id", 0))

    @property
    def at(self) -> datetime:
        return parse_time(self.comment["created_at"])

    @property
    def author(self) -> str:
        return str((self.comment.get("user") or {}).get("login", ""))


@dataclass
class Facts:
    phase: Phase
    gitea: GiteaData
    drone: DroneData
    state: StateFile | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Memberships Gitea hid from the token, supposed one way or the other: a rule needs a
    # membership only where its verdict differs with that commenter a member or not (gates.md
    # "How verdicts fall"); rules/common.needs_membership judges every supposition.
    assume: dict[str, bool] = field(default_factory=dict)

    # -- Gitea ---------------------------------------------------------------
    @cached_property
    def pulls(self) -> dict[int, dict[str, Any]]:
        return {int(p["number"]): p for p in self.gitea.get("pulls", [])}

    @property
    def pulls_since(self) -> str | None:
        """How far back the pulls list was read (None: to its end); older PRs are here only if open
        (or the correct PR): no rule reads an old closed one (ghostgates/fetch/recent.py)."""
        since = self.gitea.get("pulls_since")
        return str(since) if since else None

    def is_upgrade_pr(self, pr: dict[str, Any]) -> bool:
        return self.phase.is_upgrade(pr.get("title", ""), head_branch(pr))

    @cached_property
    def upgrade_prs(self) -> list[dict[str, Any]]:
        return [p for _, p in sorted(self.pulls.items()) if self.is_upgrade_pr(p)]

    @cached_property
    def open_upgrade_prs(self) -> list[dict[str, Any]]:
        return [p for p in self.upgrade_prs if p.get("state") == "open"]

    @cached_property
    def declared_prs(self) -> list[int]:
        return self.state.correct_prs(self.phase.repo) if self.state else []

    @cached_property
    def correct_pr_number(self) -> int | None:
        return correct_pr_number(self.phase, self.state)

    @cached_property
    def correct_pr(self) -> dict[str, Any] | None:
        number = self.correct_pr_number
        return self.pulls.get(number) if number is not None else None

    def pr_part(self, number: int, part: str) -> list[dict[str, Any]]:
        parts: dict[str, Any] = dict(self.gitea.get("pr", {}).get(str(number)) or {})
        return list(parts.get(part) or [])

    def comments(self, number: int) -> list[dict[str, Any]]:
        return sorted(self.pr_part(number, "comments"), key=lambda c: (parse_time(c["created_at"]), c["id"]))

    def commit_shas(self, number: int) -> set[str]:
        return {c.get("sha", "") for c in self.pr_part(number, "commits")}

    def is_member(self, login: str) -> bool | None:
        """True or False as Gitea answered; None where it hid the answer from this token.

        A login nobody fetched is None too: not knowing is never "not a member".
        """
        answer = (self.gitea.get("members") or {}).get(login)
        if answer is None:
            return self.assume.get(login)
        return bool(answer)

    def require_member(self, login: str) -> bool:
        """is_member for a rule that must know: raise MembershipHidden where Gitea hid it."""
        answer = self.is_member(login)
        if answer is None:
            raise MembershipHidden(login, self.phase.owner)
        return answer

    def is_builder(self, login: str) -> bool:
        return login in self.phase.builder_logins

    def testmes(self, number: int) -> list[Testme]:
        """Comments whose first word is exactly `!testme`, by an org member (the bridge obeys no one else)."""
        out = []
        for comment in self.comments(number):
            words = (comment.get("body") or "").split()
            author = (comment.get("user") or {}).get("login", "")
            # Membership is asked only of `!testme` comments: nobody else's counts either way.
            if words and words[0] == "!testme" and self.require_member(author):
                out.append(Testme(number, comment))
        return sorted(out, key=lambda t: (t.at, t.id))

    def post_proxy_testmes(self, numbers: list[int] | None = None) -> list[Testme]:
        prs = numbers if numbers is not None else [p["number"] for p in self.upgrade_prs]
        return [t for n in prs for t in self.testmes(n) if self.is_post_proxy(t.at)]

    def pr_url(self, number: int) -> str:
        pr = self.pulls.get(number) or {}
        return pr.get("html_url") or f"{self.gitea.get('base_url', '')}/{self.phase.repo}/pulls/{number}"

    def comment_url(self, number: int, comment: dict[str, Any]) -> str:
        return comment.get("html_url") or f"{self.pr_url(number)}#issuecomment-{comment.get('id')}"

    @cached_property
    def signature_families(self) -> tuple[str, ...] | None:
        """The database families whose signature tables apply besides `infra` (gates.md "Other
        recipes' phases"): those of the images the recipe's root compose files run at the correct
        PR's merge base or head, plus the phase's `families`. None (every table) where no root was
        read: a table left out could only hide evidence, never add it. Read once per Facts."""
        pr = self.correct_pr
        contents = self.gitea.get("contents") or {}
        if pr is None:
            return None
        refs = [ref for ref in dict.fromkeys((str(pr.get("merge_base") or ""), head_sha(pr))) if ref]
        listings = {ref: contents.get(f"{ref}:") for ref in refs}
        if not refs or any(v is None for v in listings.values()):
            return None
        texts = [contents.get(f"{ref}:{name}") for ref, listing in listings.items()
                 for name in (listing or "").splitlines() if classify.is_root_compose_file(name)]
        return classify.recipe_families(texts, self.phase.families)

    # -- time ----------------------------------------------------------------
    def is_post_proxy(self, moment: datetime | None) -> bool:
        fixed = self.phase.proxy_fixed_at
        return moment is not None and fixed is not None and moment > fixed

    # -- Drone ---------------------------------------------------------------
    @cached_property
    def builds(self) -> dict[int, dict[str, Any]]:
        out = {int(b["number"]): b for b in self.drone.get("builds", [])}
        for number, detail in (self.drone.get("details") or {}).items():
            out[int(number)] = {**out.get(int(number), {}), **detail}
        return out

    def build(self, number: int) -> dict[str, Any] | None:
        return self.builds.get(number)

    def param(self, build: dict[str, Any], which: str) -> str:
        return str((build.get("params") or {}).get(self.phase.param(which), ""))

    def builds_of_pr(self, number: int) -> list[dict[str, Any]]:
        return [b for _, b in sorted(self.builds.items()) if is_build_of(self.phase, b, number)]

    def created(self, build: dict[str, Any]) -> datetime | None:
        return maybe_time(build.get("created"))

    def finished_at(self, build: dict[str, Any]) -> datetime | None:
        return maybe_time(build.get("finished"))

    def is_post_proxy_build(self, build: dict[str, Any]) -> bool:
        return self.is_post_proxy(self.created(build))

    def post_proxy_builds(self, number: int) -> list[dict[str, Any]]:
        return [b for b in self.builds_of_pr(number) if self.is_post_proxy_build(b)]

    def latest_finished(self, builds: list[dict[str, Any]]) -> dict[str, Any] | None:
        finished = [b for b in builds if b.get("status") in FINISHED]
        return max(finished, key=lambda b: int(b["number"])) if finished else None

    def log(self, number: int) -> str | None:
        """The build's log as a person reads it (gates.md "A build's log"): no ANSI codes.

        Read once per Facts: every rule that reads a build's log reads the same text."""
        cache = self._readable_logs
        if number not in cache:
            text = (self.drone.get("logs") or {}).get(str(number))
            cache[number] = None if text is None else readable(text)
        return cache[number]

    @cached_property
    def _readable_logs(self) -> dict[int, str | None]:
        return {}

    def log_error(self, number: int) -> str | None:
        """Why build `number`'s log could not be read (a 404, a fault): never an empty log."""
        errors = self.drone.get("log_errors") or {}
        return errors.get(str(number))

    def started_at(self, build: dict[str, Any]) -> datetime | None:
        """When the build began to run; None while it is pending (Drone's `started: 0`).

        A pending build has not run: its creation is not its start (gates.md "Its build").
        """
        if build.get("status") == "pending":
            return None
        return maybe_time(build.get("started"))

    def build_url(self, number: int) -> str:
        build = self.builds.get(number) or {}
        return build.get("link") or f"{self.drone.get('base_url', '')}/{self.phase.drone_repo}/{number}"

    def build_for_testme(self, testme: Testme) -> dict[str, Any] | None:
        """The build the bridge started for a testme (gates.md "Its build"), as Drone lists it.

        None where no reply answers the testme, and where the build its reply links is one Drone
        no longer lists (purged): that testme still took its reply (testme_replies).
        """
        return self.testme_builds(testme.pr).get(testme.id)

    def started_build(self, testme: Testme) -> dict[str, Any] | None:
        """For the Builder's trigger and watcher, never for a verdict: the testme's build, or, while
        the bridge's reply is still on its way, the earliest build of the PR that no reply links and
        no earlier unanswered testme took, created no more than CLOCK_SKEW before it (the bridge
        creates the build a moment before it replies)."""
        found = self.build_for_testme(testme)
        replies = self.testme_replies(testme.pr)
        if found is not None or testme.id in replies:
            return found
        linked = set(replies.values())
        free = [b for _, b in sorted((int(b["number"]), b) for b in self.builds_of_pr(testme.pr))
                if int(b["number"]) not in linked]
        taken: set[int] = set()
        for waiting in (t for t in self.testmes(testme.pr) if t.id not in replies):
            for candidate in free:
                number, created = int(candidate["number"]), self.created(candidate)
                if number in taken or created is None or created < waiting.at - CLOCK_SKEW:
                    continue
                taken.add(number)
                if waiting.id == testme.id:
                    return candidate
                break
        return None

    def linked_build(self, testme: Testme) -> int | None:
        """The number of the build the reply to this testme links, listed by Drone or not."""
        return self.testme_replies(testme.pr).get(testme.id)

    @cached_property
    def _testme_replies(self) -> dict[int, dict[int, int]]:
        return {}

    def testme_builds(self, number: int) -> dict[int, dict[str, Any]]:
        """Each testme of PR `number` (by comment id) whose reply links a build Drone lists: that build."""
        return {tid: self.builds[n] for tid, n in self.testme_replies(number).items() if n in self.builds}

    def testme_replies(self, number: int) -> dict[int, int]:
        """Each answered testme of PR `number` (by comment id) and the build number its reply links.

        gates.md "Its build": the bridge answers testmes in the order they were posted, each reply
        (a comment, and a `status_context` status) linking one build; a reply answers the earliest
        earlier testme on that PR that no reply has answered yet, whether or not Drone still lists
        the build it links (Drone purges old builds); a testme that no reply answers has no build.
        So the pairing reads Gitea only, never which builds Drone lists, except that a build Drone
        lists as another PR's (or another recipe's) is no reply to this PR's testme, and a listed
        build created more than CLOCK_SKEW (the two servers' clocks) before the testme it would
        answer is no answer to it (a sweep's note citing an older build).
        """
        cache = self._testme_replies
        if number in cache:
            return cache[number]
        testmes = self.testmes(number)
        foreign = {n for n, b in self.builds.items() if not is_build_of(self.phase, b, number)}
        answered: dict[int, int] = {}
        for at, build_no in self._links(number, foreign):
            waiting = next((t for t in testmes if t.id not in answered and t.at <= at), None)
            if waiting is None:
                continue
            created = self.created(self.builds[build_no]) if build_no in self.builds else None
            if created is not None and created < waiting.at - CLOCK_SKEW:
                continue
            answered[waiting.id] = build_no
        cache[number] = answered
        return answered

    def _links(self, number: int, foreign: set[int]) -> list[tuple[datetime, int]]:
        """(first time linked, build) for each build a comment or a status on this PR links,
        except builds Drone lists as another PR's.

        A status is evidence only for the build its `target_url` names; only statuses of the
        phase's context on this PR's commits count. A `!testme` comment links nothing.
        """
        first: dict[int, datetime] = {}

        def note(at: datetime, cited: list[int]) -> None:
            for build_no in cited:
                if build_no not in foreign and (build_no not in first or at < first[build_no]):
                    first[build_no] = at

        drone_repo = self.phase.drone_repo
        for comment in self.comments(number):
            words = (comment.get("body") or "").split()
            if words and words[0] == "!testme":
                continue
            note(parse_time(comment["created_at"]), citations.cited_builds(comment.get("body") or "", drone_repo))
        pr = self.pulls.get(number) or {}
        shas = self.commit_shas(number) | {head_sha(pr)}
        for sha, statuses in (self.gitea.get("statuses") or {}).items():
            if sha not in shas:
                continue
            for status in statuses:
                at = maybe_time(status.get("created_at"))
                if status.get("context") == self.phase.status_context and at is not None:
                    note(at, citations.cited_builds(status.get("target_url") or "", drone_repo))
        return sorted(((at, n) for n, at in first.items()), key=lambda item: (item[0], item[1]))


def correct_pr_number(phase: Phase, state: StateFile | None) -> int | None:
    """The PR the state file declares, else the phase's expected PR."""
    declared = state.correct_prs(phase.repo) if state else []
    return declared[0] if declared else phase.expected_pr


def is_build_of(phase: Phase, build: dict[str, Any], number: int | None) -> bool:
    """This recipe's build of PR `number`: the harness tests every recipe, and other recipes
    have PRs with the same numbers (gates.md, *Its build*)."""
    params = build.get("params") or {}
    return (number is not None and str(params.get(phase.param("recipe"), "")) == phase.recipe
            and str(params.get(phase.param("pr"), "")) == str(number))


def head_branch(pr: dict[str, Any]) -> str:
    """The PR's head branch (gates.md "upgrade PR"): head.ref, or head.label once the branch is gone.

    Gitea's services/convert/pull.go sets head.ref to `refs/pull/N/head` and keeps the branch
    name in head.label when the head branch no longer exists.
    """
    head = pr.get("head") or {}
    ref = str(head.get("ref") or "")
    if _PULL_REF.match(ref):
        return str(head.get("label") or ref)
    return ref


def head_sha(pr: dict[str, Any]) -> str:
    return str((pr.get("head") or {}).get("sha", ""))


def build_facts(phase: Phase, state: StateFile | None, gitea: GiteaData, drone: DroneData) -> Facts:
    stamps = [s for s in (drone.get("now"), gitea.get("now")) if s]
    now = parse_time(stamps[0]) if stamps else datetime.now(UTC)
    return Facts(phase=phase, gitea=gitea, drone=drone, state=state, now=now)
