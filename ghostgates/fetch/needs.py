"""What the rules will read, decided in the domain so that the fetch plan fetches only that.

Each predicate names the rules that read what it selects; a rule that starts reading more
must widen its predicate here, or it reads a default the plan never fetched.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from ghostgates.judge.facts import FINISHED, RED, is_build_of
from ghostgates.read import citations
from ghostgates.read.phase import Phase
from ghostgates.read.statefile import StateFile
from ghostgates.timeutil import maybe_time, parse_time


def classified_builds(phase: Phase, state: StateFile | None) -> set[int]:
    return {item.build for item in state.classifications(phase.drone_repo)} if state else set()


def cited_builds(phase: Phase, state: StateFile | None) -> set[int]:
    return set(citations.cited_builds(state.text, phase.drone_repo)) if state else set()


def wants_log(phase: Phase, state: StateFile | None, correct: int | None, build: dict[str, Any]) -> bool:
    """A red build whose log a rule reads.

    M2.classified reads the logs of the correct PR's red builds created on `classify_failure_on`
    (a UTC day); M1.no-stale-evidence reads the logs of the red builds the state file classifies;
    M2.fix-minimal reads the log of the build a justification's `Build:` names (a build of the
    correct PR, green or red) for its upgrade markers, and the Builder's draft that of the
    correct PR's latest finished build: every finished build of the correct PR.
    """
    if build.get("status") in FINISHED and is_build_of(phase, build, correct):
        return True
    if build.get("status") not in RED:
        return False
    if int(build.get("number", 0)) in classified_builds(phase, state):
        return True
    created = maybe_time(build.get("created"))
    day = phase.classify_failure_on
    return (day is not None and created is not None and created.astimezone(UTC).date() == day
            and is_build_of(phase, build, correct))


def is_testme(comment: dict[str, Any]) -> bool:
    words = (comment.get("body") or "").split()
    return bool(words) and words[0] == "!testme"


def wants_membership(phase: Phase, correct: dict[str, Any] | None, pr: dict[str, Any],
                     comment: dict[str, Any]) -> bool:
    """Whether a rule asks the org membership of this comment's author.

    Facts.testmes (M1.fresh-run, attempt-budget, quiet-window, M2.outcome): every `!testme`
    author, builders too. M2.duplicates-resolved: non-builder authors on a duplicate (asked of
    every comment there before its citation is read). M2.fix-minimal asks none: a justification
    counts by anyone (gates.md), so the correct PR's other comments need no membership.

    Asking is not needing: an answer Gitea hides from the token (its redirect to the public
    members, where this one is not listed) makes a rule `error` only where the verdict differs with
    that commenter a member or not (rules/common.needs_membership judges both suppositions).
    """
    login = (comment.get("user") or {}).get("login", "")
    if not login:
        return False
    if is_testme(comment):
        return True
    if login in phase.builder_logins or correct is None:
        return False
    if pr.get("number") == correct.get("number"):
        return False
    try:
        return parse_time(pr["created_at"]) >= parse_time(correct["created_at"])
    except (KeyError, ValueError):
        return True  # an unreadable date is no reason to skip a question a rule may ask


def linked_builds(phase: Phase, gitea: Mapping[str, Any]) -> set[int]:
    """Builds of the harness that the read PRs' comments (all but `!testme`s) and the head's
    statuses link: the replies and statuses that pair testmes with builds (Facts.testme_builds).
    The plan reads each one the builds list did not reach, so that pairing never meets a linked
    build it was not given, only one Drone no longer has."""
    out: set[int] = set()
    for entry in (gitea.get("pr") or {}).values():
        for comment in entry.get("comments") or []:
            if isinstance(comment, dict) and not is_testme(comment):
                out.update(citations.cited_builds(comment.get("body") or "", phase.drone_repo))
    for statuses in (gitea.get("statuses") or {}).values():
        for status in statuses or []:
            if isinstance(status, dict) and status.get("context") == phase.status_context:
                out.update(citations.cited_builds(status.get("target_url") or "", phase.drone_repo))
    return out
