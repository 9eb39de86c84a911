"""Evidence builders and guards the rules share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec

from ghostgates.judge import classify
from ghostgates.judge.facts import Facts, MembershipHidden, Testme, head_sha
from ghostgates.judge.verdict import Verdict, errored, evidence, failed
from ghostgates.read.statefile import status_name
from ghostgates.timeutil import maybe_time, rfc3339

P = ParamSpec("P")


def needs_membership(rule: Callable[P, Verdict]) -> Callable[P, Verdict]:
    """A rule that needs an org membership Gitea hid from the token is `error`, never decided.

    gates.md "corner cases": Gitea answers /orgs/{org}/members/{user} only to a member's or an
    admin's token; the others get a redirect to the public members, where a private member
    looks like a non-member. Facts.require_member raises MembershipHidden for those.
    """

    @functools.wraps(rule)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> Verdict:
        try:
            return rule(*args, **kwargs)
        except MembershipHidden as hidden:
            return errored(f"{hidden}.", [evidence("member", hidden.login, org=hidden.org, visible=False)])

    return guarded


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


def signature_families(facts: Facts) -> tuple[str, ...] | None:
    """The database families whose signature tables apply besides `infra` (gates.md "Other
    recipes' phases"): those of the images the recipe's root compose files run at the correct
    PR's merge base or head, plus the phase's `families`. None (every table) where no root was
    read: a table left out could only hide evidence, never add it."""
    pr = facts.correct_pr
    contents = facts.gitea.get("contents") or {}
    if pr is None:
        return None
    refs = [ref for ref in dict.fromkeys((str(pr.get("merge_base") or ""), head_sha(pr))) if ref]
    listings = {ref: contents.get(f"{ref}:") for ref in refs}
    if not refs or any(v is None for v in listings.values()):
        return None
    texts = [contents.get(f"{ref}:{name}") for ref, listing in listings.items()
             for name in (listing or "").splitlines() if classify.is_root_compose_file(name)]
    return classify.recipe_families(texts, facts.phase.families)
