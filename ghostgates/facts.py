"""The phase's world as the rules see it: fetched JSON in, domain questions answered.

Nothing here fetches. The names follow gates.md: upgrade PRs, the correct PR, testmes and their
builds, post-proxy, red and green.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from . import citations
from .phase import Phase
from .statefile import StateFile
from .timeutil import maybe_time, parse_time

RED = ("failure", "error")
GREEN = ("success",)
FINISHED = RED + GREEN


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
        return (self.comment.get("user") or {}).get("login", "")


@dataclass
class Facts:
    phase: Phase
    gitea: dict[str, Any]
    drone: dict[str, Any]
    state: StateFile | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    # -- Gitea ---------------------------------------------------------------
    @cached_property
    def pulls(self) -> dict[int, dict[str, Any]]:
        return {int(p["number"]): p for p in self.gitea.get("pulls", [])}

    def is_upgrade_pr(self, pr: dict[str, Any]) -> bool:
        return self.phase.is_upgrade(pr.get("title", ""), head_ref(pr))

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
        return list((self.gitea.get("pr", {}).get(str(number)) or {}).get(part) or [])

    def comments(self, number: int) -> list[dict[str, Any]]:
        return sorted(self.pr_part(number, "comments"), key=lambda c: (parse_time(c["created_at"]), c["id"]))

    def commit_shas(self, number: int) -> set[str]:
        return {c.get("sha", "") for c in self.pr_part(number, "commits")}

    def is_member(self, login: str) -> bool:
        return bool(self.gitea.get("members", {}).get(login))

    def is_builder(self, login: str) -> bool:
        return login in self.phase.builder_logins

    def testmes(self, number: int) -> list[Testme]:
        """Comments whose first word is exactly `!testme`, by an org member (the bridge obeys no one else)."""
        out = []
        for comment in self.comments(number):
            words = (comment.get("body") or "").split()
            author = (comment.get("user") or {}).get("login", "")
            if words and words[0] == "!testme" and self.is_member(author):
                out.append(Testme(number, comment))
        return out

    def post_proxy_testmes(self, numbers: list[int] | None = None) -> list[Testme]:
        prs = numbers if numbers is not None else [p["number"] for p in self.upgrade_prs]
        return [t for n in prs for t in self.testmes(n) if self.is_post_proxy(t.at)]

    def pr_url(self, number: int) -> str:
        pr = self.pulls.get(number) or {}
        return pr.get("html_url") or f"{self.gitea.get('base_url', '')}/{self.phase.repo}/pulls/{number}"

    def comment_url(self, number: int, comment: dict[str, Any]) -> str:
        return comment.get("html_url") or f"{self.pr_url(number)}#issuecomment-{comment.get('id')}"

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

    def is_recipe_build(self, build: dict[str, Any]) -> bool:
        """The harness tests every recipe; only this recipe's builds belong to our PRs."""
        return self.param(build, "recipe") == self.phase.recipe

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
        logs = self.drone.get("logs") or {}
        return logs.get(str(number))

    def log_error(self, number: int) -> str | None:
        """Why build `number`'s log could not be read (a sentence naming URL and cause), if it could not."""
        return (self.drone.get("log_errors") or {}).get(str(number))

    def build_url(self, number: int) -> str:
        build = self.builds.get(number) or {}
        return build.get("link") or f"{self.drone.get('base_url', '')}/{self.phase.drone_repo}/{number}"

    def build_for_testme(self, testme: Testme) -> dict[str, Any] | None:
        """The build the bridge started for a testme.

        Candidates are this recipe's builds for the PR created after the testme and before the
        PR's next testme; a build that a later comment or a status (context of the phase) links
        is preferred, else the earliest candidate.
        """
        later = [t.at for t in self.testmes(testme.pr) if t.at > testme.at]
        until = min(later) if later else None
        candidates = [b for b in self.builds_of_pr(testme.pr)
                      if (c := self.created(b)) is not None and c >= testme.at and (until is None or c < until)]
        if not candidates:
            return None
        linked = set(self._linked_builds(testme.pr, testme.at, until))
        for build in sorted(candidates, key=lambda b: int(b["number"])):
            if int(build["number"]) in linked:
                return build
        return min(candidates, key=lambda b: int(b["number"]))

    def _linked_builds(self, number: int, since: datetime, until: datetime | None) -> list[int]:
        out: list[int] = []
        for comment in self.comments(number):
            at = parse_time(comment["created_at"])
            if at > since and (until is None or at < until):
                out.extend(citations.cited_builds(comment.get("body") or "", self.phase.drone_repo))
        for statuses in (self.gitea.get("statuses") or {}).values():
            for status in statuses:
                if status.get("context") == self.phase.status_context:
                    out.extend(citations.cited_builds(status.get("target_url") or "", self.phase.drone_repo))
        return out


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


def head_ref(pr: dict[str, Any]) -> str:
    return (pr.get("head") or {}).get("ref", "")


def head_sha(pr: dict[str, Any]) -> str:
    return (pr.get("head") or {}).get("sha", "")


def build_facts(phase: Phase, state: StateFile | None, gitea: dict[str, Any], drone: dict[str, Any]) -> Facts:
    stamps = [s for s in (drone.get("now"), gitea.get("now")) if s]
    now = parse_time(stamps[0]) if stamps else datetime.now(UTC)
    return Facts(phase=phase, gitea=gitea, drone=drone, state=state, now=now)
