"""Evidence builders and guards the rules share."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, ParamSpec

from ghostgates.judge import classify, upgrade
from ghostgates.judge.facts import Facts, MembershipHidden, Testme, head_sha
from ghostgates.judge.verdict import Verdict, errored, evidence, failed
from ghostgates.read.statefile import status_name
from ghostgates.timeutil import maybe_time, rfc3339

P = ParamSpec("P")


# How many hidden memberships a rule may branch on (2**N suppositions) before it says `error`.
MAX_HIDDEN = 6


def needs_membership(rule: Callable[P, Verdict]) -> Callable[P, Verdict]:
    """A rule asks a commenter's org membership only where its verdict depends on it.

    gates.md "How verdicts fall": a requirement needs a commenter's org membership only where its
    verdict would differ with that commenter a member or not; Gitea answers /orgs/{org}/members/
    {user} only to a member's or an admin's token (routers/api/v1/org/member.go), the others are
    sent to the public members, where a private member looks like a non-member, and a requirement
    that needs membership the token cannot see is `error`. Facts.require_member raises
    MembershipHidden for such a commenter; the rule is then judged again with that commenter
    supposed a member and supposed not (each further hidden commenter it reaches doubles the
    suppositions): where every supposition gives the same verdict, that is the verdict; where they
    differ, `error` naming whose membership decides. The first argument is the Facts.
    """

    @functools.wraps(rule)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> Verdict:
        facts = args[0]
        assert isinstance(facts, Facts), "needs_membership: a rule's first argument is its Facts"
        rest = args[1:]
        outcomes: list[tuple[dict[str, bool], Verdict]] = []
        todo: list[dict[str, bool]] = [dict(facts.assume)]
        while todo:
            assume = todo.pop()
            supposed = facts if assume == facts.assume else dataclasses.replace(facts, assume=assume)
            try:
                outcomes.append((assume, rule(supposed, *rest, **kwargs)))  # type: ignore[arg-type]
            except MembershipHidden as hidden:
                if len(assume) - len(facts.assume) >= MAX_HIDDEN:
                    return errored(f"{hidden}.", [evidence("member", hidden.login, org=hidden.org, visible=False)])
                todo += [{**assume, hidden.login: False}, {**assume, hidden.login: True}]
        supposed_logins = sorted({login for assume, _ in outcomes for login in assume} - set(facts.assume))
        first = outcomes[0][1]
        if not supposed_logins:
            return first
        org = facts.phase.owner
        hidden_ev = [evidence("member", login, org=org, visible=False) for login in supposed_logins]
        if all(v.status == first.status for _, v in outcomes):
            who = ", ".join(supposed_logins)
            return Verdict(first.status, f"{first.reason} (Gitea hides from this token whether {who} "
                                         f"{'is a member' if len(supposed_logins) == 1 else 'are members'} of {org}; "
                                         "either way the verdict is the same.)", [*first.evidence, *hidden_ev])
        unseen = MembershipHidden(", ".join(supposed_logins), org)
        statuses = " or ".join(sorted({v.status for _, v in outcomes}))
        return errored(f"{unseen}: the verdict is {statuses} depending on it.", hidden_ev)

    return guarded


def ev_pulls(facts: Facts) -> dict[str, Any]:
    """The pulls list a rule looked through: how many PRs, and how far back it was read."""
    read = (f"updated since {facts.pulls_since}, and every open one" if facts.pulls_since else "all")
    return evidence("list", f"PRs of {facts.phase.repo}",
                    f"{facts.gitea.get('base_url', '')}/{facts.phase.repo}/pulls?state=all",
                    read=read, prs_read=len(facts.pulls), upgrade_prs=len(facts.upgrade_prs))


def ev_pr(facts: Facts, number: int, **extra: Any) -> dict[str, Any]:
    pr = facts.pulls.get(number) or {}
    return evidence("pr", f"PR #{number}", facts.pr_url(number), state=pr.get("state"),
                    head=head_sha(pr) or None, title=pr.get("title"), **extra)


def ev_build(facts: Facts, build: dict[str, Any], **extra: Any) -> dict[str, Any]:
    number = int(build["number"])
    created = maybe_time(build.get("created"))
    finished = maybe_time(build.get("finished"))
    return evidence("build", f"build #{number}", facts.build_url(number), status=build.get("status"),
                    sha=facts.param(build, "sha") or None,
                    created=rfc3339(created) if created else None,
                    finished=rfc3339(finished) if finished else None, **extra)


def ev_comment(facts: Facts, number: int, comment: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return evidence("comment", f"comment {comment.get('id')} on PR #{number}",
                    facts.comment_url(number, comment),
                    author=(comment.get("user") or {}).get("login"), created=comment.get("created_at"),
                    **extra)


def ev_testme(facts: Facts, testme: Testme, **extra: Any) -> dict[str, Any]:
    return ev_comment(facts, testme.pr, testme.comment, what="!testme", **extra)


def ev_state(facts: Facts, **extra: Any) -> dict[str, Any]:
    return evidence("file", facts.state.path if facts.state else status_name(facts.phase), **extra)


def state_missing(facts: Facts, requirement: str) -> Verdict | None:
    """gates.md: a requirement naming the state file fails when that file is missing."""
    if facts.state is None:
        return failed(f"{requirement} reads the state file, and machine-docs/{status_name(facts.phase)} is missing: "
                      "write it before asking for this gate.")
    return None


def listing(items: list[str], limit: int = 6) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def upgrade_markers(facts: Facts) -> tuple[upgrade.Markers, ...]:
    """The upgrade markers of the families whose tables apply to the correct PR (gates.md "Upgrade
    markers"), for `Upgrade took`."""
    return classify.measuring_markers(facts.signature_families)
