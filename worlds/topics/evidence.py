"""Evidence as the services really send it (issue 18): logs with ANSI codes, renames, HTML links,
purged builds, membership asked only where it decides, and the other readings gates.md settled on
2026-12-02 (the `correct PR` line, *newer*, current evidence of the correct PR, a builder's waiver,
test-repo commits on the default branch by commit date).

Each behaviour has a world on each side: one where reading the evidence as the service sends it is
what makes the verdict right, one where misreading it would give a false pass (or a false fail).
The upstream file that produces each behaviour is named beside its worlds.
"""

from __future__ import annotations

import re
from typing import Any

from make_worlds import (
    BRIDGE,
    BUILDER,
    CORRECT,
    DRONE,
    DUP,
    GITEA,
    HARNESS,
    MEMBER,
    World,
    _extra_green_runs,
    add_comment,
    add_pull,
    blackout,
    build,
    comment,
    mut,
    pull,
    sha,
    state_line,
    sub_state,
)

ESC = "\x1b"


# ---- a build's log: ANSI codes are not text ---------------------------------------------------
# harness/drone handler/api/repos/builds/logs/find.go serves a step's log lines as the runner stored
# them (`[{"pos", "out", "time"}]`): a tool's colour codes come with them. gates.md "A build's log":
# the text a person reads, `state \x1b[1mnew\x1b[0m` reads `state new`.
def _log_280_after_deploy(w: World, lines: str) -> None:
    step = build(w, 280)["stages"][0]["steps"][0]
    anchor = "deployed ghost 1.3.0+6.42.0, content seeded\n"
    assert anchor in step["log"]
    step["log"] = step["log"].replace(anchor, anchor + lines, 1)


def _coloured(state_word: str, seconds: int) -> str:
    return (f"{ESC}[36mghos-bdd2f3_ci_example_org_db.1{ESC}[0m: task state {ESC}[1m{state_word}{ESC}[0m "
            f"({seconds}s)\n")


@mut("log-ansi-task-stuck", "build #280's log shows the db task stuck in New in colour (`task state "
     "\\x1b[1mnew\\x1b[0m`): read as text it is infra, so recipe-timing is contradicted",
     fail=("M2.classified", "M1.no-stale-evidence"))
def _ansi_stuck(w: World) -> None:
    _log_280_after_deploy(w, _coloured("new", 300))


@mut("log-ansi-task-moved-on", "build #280's log shows, in colour, the db task in New that then runs: not "
     "stuck, its recipe-timing class stands")
def _ansi_moved_on(w: World) -> None:
    _log_280_after_deploy(w, _coloured("new", 20) + _coloured("running", 31))


# ---- a rename touches its old path ------------------------------------------------------------
# go-gitea services/convert/pull.go ToChangedFile: a renamed file is listed by its new name, with
# `status: renamed` and the old name in `previous_filename`.
@mut("pr-renames-drone-yml", "PR 12 renames .drone.yml (a test path) to .drone.yml.disabled: the files list "
     "names only .drone.yml.disabled, with previous_filename .drone.yml", fail=("M2.tests-intact", "M2.fix-minimal"))
def _rename_drone_yml(w: World) -> None:
    pull(w, CORRECT)["files"].append({"filename": ".drone.yml.disabled", "previous_filename": ".drone.yml",
                                      "status": "renamed", "additions": 0, "deletions": 0})


@mut("pr-renames-release-note", "PR 12's release note was renamed from release/next to release/2.0.0+6.44.1: "
     "no test path on either side")
def _rename_release(w: World) -> None:
    entry = next(f for f in pull(w, CORRECT)["files"] if f["filename"].startswith("release/"))
    entry.update({"previous_filename": "release/next", "status": "renamed"})


# ---- links: `<a href>` cites its target; an HTML comment cites nothing ------------------------
@mut("current-evidence-preproxy-html-link", "the state file cites pre-proxy build #280 as current evidence by an "
     "HTML link only (`<a href=\".../cc-ci/280\">the proxy-era run</a>`)", fail=("M1.no-stale-evidence",))
def _evidence_html(w: World) -> None:
    state_line(w, "Current evidence", f'- <a href="{DRONE}/280">the proxy-era run</a>: the db pause the fix addresses.')


@mut("inventory-pr-cited-by-html-link", "a new open upgrade PR 15 is cited by an HTML link to its URL only",
     fail=("M2.one-open-pr", "M2.duplicates-resolved"))
def _pr_html(w: World) -> None:
    add_pull(w, 15, "chore: upgrade ghost to 6.45.0", "upgrade-ghost-6.45", "2026-07-15T15:00:00Z", user=MEMBER)
    state_line(w, "Inventory", f"- <a href='{GITEA}/pulls/15'>the 6.45 attempt</a>, branch `upgrade-ghost-6.45`: "
                               "to close.")


def _relink_287(w: World, link: str) -> None:
    """Every Drone URL of build #287 in hedda's verdict comment (with its parentheses) becomes `link`."""
    c = comment(w, CORRECT, 410)
    url = f"{DRONE}/287"
    assert url in c["body"]
    c["body"] = re.sub(r"\(?" + re.escape(url) + r"\)?", lambda _: link, c["body"])


@mut("comment-links-build-by-html", "the last builder comment links build #287 by an HTML link "
     "(`<a href=\".../cc-ci/287\">`) only")
def _comment_html(w: World) -> None:
    _relink_287(w, f'(<a href="{DRONE}/287">the run</a>)')


@mut("comment-html-link-in-html-comment", "the last builder comment's only link to build #287 sits inside an "
     "HTML comment: it links nothing", fail=("M2.comments-explain",))
def _comment_html_hidden(w: World) -> None:
    _relink_287(w, f'<!-- (<a href="{DRONE}/287">the run</a>) -->')


# ---- purged builds: a reply answers the earliest unanswered testme whatever Drone lists -------
def _purged_reply(w: World) -> None:
    """A pre-proxy testme on PR 12 whose reply links build #250, which Drone has purged."""
    add_comment(w, CORRECT, BUILDER, "!testme", "2026-07-13T09:00:00Z")
    add_comment(w, CORRECT, BRIDGE, f"build #250 started: {DRONE}/250", "2026-07-13T09:00:20Z")
    add_comment(w, CORRECT, BRIDGE, "build #250 failed", "2026-07-13T09:25:00Z")
    assert all(b["number"] != 250 for b in w["drone"]["repos"][HARNESS]["builds"])


@mut("purged-build-reply", "a pre-proxy testme's reply links build #250, which Drone purged: the later reply "
     "(build #287) still answers the post-proxy testme")
def _purged(w: World) -> None:
    _purged_reply(w)


@mut("purged-build-reply-then-run-in-blackout", "as purged-build-reply, and a CI sweep 12:05-12:10 falls inside "
     "build #287's run: the post-proxy testme's build ran in a blackout", fail=("M1.quiet-window",))
def _purged_blackout(w: World) -> None:
    _purged_reply(w)
    blackout(w, "broad CI sweep", "2026-07-15T12:05:00Z", "2026-07-15T12:10:00Z")


# ---- membership asked only where it decides ---------------------------------------------------
# go-gitea routers/api/v1/org/member.go: IsMember answers only a member's or an admin's token; the
# rest are redirected (303) to IsPublicMember, where a public member is visibly a member.
def _keeper_private(w: World) -> None:
    w["gitea"]["orgs"]["recipe-maintainers"] = {"members": [BUILDER, BRIDGE, MEMBER],
                                                "public_members": [BUILDER, BRIDGE]}
    w["gitea"]["token_user"] = {"login": "gate-reader", "admin": False}


@mut("membership-hidden-only-pre-proxy-testmes", "keeper is a private member, hidden from the token; keeper's only "
     "testme is pre-proxy and a builder already superseded PR 14 (keeper agrees there): no verdict depends on it")
def _hidden_harmless(w: World) -> None:
    _keeper_private(w)
    add_comment(w, DUP, MEMBER, "Agreed.\n\nSuperseded by: PR #12", "2026-07-15T13:05:00Z")


@mut("membership-hidden-decides-duplicate", "the only comment superseding PR 14 is keeper's, whose membership "
     "Gitea hides from the token: member or not decides", error=("M2.duplicates-resolved",))
def _hidden_duplicate(w: World) -> None:
    _keeper_private(w)
    c = comment(w, DUP, 504)
    c["user"] = {"login": MEMBER}


@mut("membership-hidden-testmes-over-budget", "three more post-proxy testmes on PR 12 are keeper's (hidden from "
     "the token): four attempts if keeper is a member, one if not", error=("M1.attempt-budget",))
def _hidden_budget(w: World) -> None:
    _keeper_private(w)
    _extra_green_runs(w, 3)
    for c in pull(w, CORRECT)["comments"]:
        if c["body"] == "!testme" and c["created_at"] >= "2026-07-15T14:00:00Z":
            c["user"] = {"login": MEMBER}


# ---- the `correct PR` line: any letter case, whole words --------------------------------------
@mut("state-incorrect-pr-line-first", "a line saying PR #14 was `the incorrect PR` comes before the `correct PR` "
     "line: it is not the anchor")
def _incorrect_first(w: World) -> None:
    sub_state(w, "\n## Inventory\n", "\nPR #14 was the incorrect PR to retry on.\n\n## Inventory\n")


@mut("state-correct-pr-capitalised", "the anchor line reads `- Correct PR: PR #12`")
def _correct_capital(w: World) -> None:
    sub_state(w, "- correct PR: PR #12", "- Correct PR: PR #12")


# ---- newer: by created_at; an edit does not make a comment newer ------------------------------
@mut("comment-edited-after-build", "hedda's verdict comment was posted at 12:15 while build #287 ran, and edited "
     "at 13:00 (updated_at): it is not newer than the build", fail=("M2.comments-explain",))
def _edited_late(w: World) -> None:
    c = comment(w, CORRECT, 410)
    c["created_at"], c["updated_at"] = "2026-07-15T12:15:00Z", "2026-07-15T13:00:00Z"
    pull(w, CORRECT)["comments"].sort(key=lambda x: (x["created_at"], x["id"]))


@mut("comment-older-edited-last", "hedda's first comment on PR 12 was edited at 19:00, after her verdict "
     "comment: the verdict comment is still her last")
def _older_edited(w: World) -> None:
    comment(w, CORRECT, 401)["updated_at"] = "2026-07-15T19:00:00Z"


# ---- current evidence: builds of the correct PR -----------------------------------------------
@mut("current-evidence-other-recipe-build", "the state file cites build #284 as current evidence: post-proxy, "
     "PR param 12, but the wordpress recipe's", fail=("M1.no-stale-evidence",))
def _evidence_other_recipe(w: World) -> None:
    state_line(w, "Current evidence", f"- build #284 ({DRONE}/284): another green-looking run.")


# ---- a waiver by a builder allows nothing -----------------------------------------------------
@mut("attempts-four-waived-by-builder", "four post-proxy testmes; the waiver allowing 4 is hedda's, a builder's",
     fail=("M1.attempt-budget",))
def _waived_by_builder(w: World) -> None:
    _extra_green_runs(w, 3)
    w["phase"]["waivers"] = [{"requirement": "M1.attempt-budget", "allow": 4, "by": BUILDER,
                              "reason": "one more run after the sweep"}]


# ---- test-repo commits: on its default branch, by commit date ---------------------------------
# go-gitea routers/api/v1/repo/commits.go GetAllCommits: without `sha`, the default branch; `since`
# is git's, on the commit date; services/convert/git_commit.go ToCommit: `created` is Committer.When.
def _harness_commit(w: World, created: str, authored: str, filename: str, message: str,
                    parents: list[str] | None = None) -> str:
    commit: dict[str, Any] = {
        "sha": sha(f"harness {created} {filename}"), "created": created,
        "commit": {"message": message, "author": {"name": BUILDER, "date": authored},
                   "committer": {"name": BUILDER, "date": created}},
        "files": [{"filename": filename}]}
    if parents is not None:
        commit["parents"] = [{"sha": p} for p in parents]
    w["gitea"]["repos"][HARNESS]["commits"].append(commit)
    return str(commit["sha"])


@mut("test-repo-commit-rebased-after-phase", "a harness commit under tests/ authored before the phase began was "
     "committed (rebased onto main) after it", fail=("M2.tests-intact",))
def _rebased(w: World) -> None:
    _harness_commit(w, "2026-07-14T10:00:00Z", "2026-07-12T10:00:00Z", "tests/upgrade/ghost.py",
                    "tests: relax the ghost content check")


@mut("test-repo-commit-on-side-branch", "a harness commit under tests/ after the phase began sits on the branch "
     "wip-tests only, not on main")
def _side_branch(w: World) -> None:
    harness = w["gitea"]["repos"][HARNESS]
    main_tip = harness["branches"][0]["commit"]["id"]
    tip = _harness_commit(w, "2026-07-14T10:00:00Z", "2026-07-14T10:00:00Z", "tests/upgrade/ghost.py",
                          "wip: relax the ghost content check", parents=[main_tip])
    harness["branches"].append({"name": "wip-tests", "commit": {"id": tip, "timestamp": "2026-07-14T10:00:00Z"}})

