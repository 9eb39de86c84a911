"""The pulls list read back to the window (issue 22; ghostgates/fetch/recent.py).

The suite reads Gitea's pulls `sort=recentupdate` back to the earliest of the phase's start, the
proxy fix and the correct PR's opening, plus every open PR: no rule reads an old closed PR
(duplicates are opened since the correct PR, merges and post-proxy testmes happen in the window,
and each of those updates its PR: models/issues/comment.go updateCommentInfos bumps the issue's
`updated_unix`). Each world below sits on one side of that: what is old and open still counts;
what is old and closed is history; a PR the world dates as untouched but which has a comment,
a merge or a close in the window was updated then (the twin keeps `updated_at` as Gitea does,
twin/gitea/models.py pull_updated_at), so it is read."""

from __future__ import annotations

from make_worlds import BUILDER, CORRECT, World, add_comment, add_pull, add_run, mut, pull, repo, sha, state_line

OLD = "2025-10-01T09:00:00Z"  # months before the phase, the proxy fix and the correct PR
BUSY = 60  # closed PRs of early 2026: more than Gitea's page of 50, all updated before the window


def busy(w: World) -> None:
    """A repo with more history than one page: 60 closed, unmerged, non-upgrade PRs updated between
    January and May 2026, after OLD and before the window. Read newest-updated first, the list's
    first page reaches back past the window among them, so a PR dated OLD is on page 2: read only
    if open, or if something in the window updated it."""
    base_sha = pull(w, CORRECT)["base"]["sha"]
    for i in range(BUSY):
        day = f"2026-{1 + i // 14:02d}-{1 + (i % 14) * 2:02d}"
        repo(w)["pulls"].append({
            "number": 100 + i, "title": f"docs: tidy the README, part {i}", "state": "closed", "merged": False,
            "user": {"login": "lurker"}, "head": {"ref": f"tidy-{i}", "sha": sha(f"tidy {i}")},
            "base": {"ref": "main", "sha": base_sha}, "created_at": f"{day}T08:00:00Z",
            "updated_at": f"{day}T09:00:00Z", "closed_at": f"{day}T09:00:00Z", "files": [], "comments": []})


@mut("busy-repo-read-back-to-the-window", f"{BUSY} closed PRs of early 2026 beside the base's: the pulls list is "
     "read back to the window only; every verdict the base's")
def _busy(w: World) -> None:
    busy(w)


@mut("old-open-upgrade-pr-uncited", "an upgrade PR opened in 2025 is still open, untouched since, and the "
     "state file does not cite it: read (every open PR is), so the inventory misses it and two are open",
     fail=("M1.inventory", "M2.one-open-pr"))
def _old_open_uncited(w: World) -> None:
    busy(w)
    add_pull(w, 6, "chore: upgrade ghost to 5.90", "upgrade-5.90", OLD)


@mut("old-open-upgrade-pr-cited", "the same old open upgrade PR, cited in the state file: the inventory "
     "holds, and two upgrade PRs are still open", fail=("M2.one-open-pr",))
def _old_open_cited(w: World) -> None:
    busy(w)
    add_pull(w, 6, "chore: upgrade ghost to 5.90", "upgrade-5.90", OLD)
    state_line(w, "Inventory", "- PR #6, branch `upgrade-5.90`: an old upgrade, still open; left for the operator.")


@mut("old-closed-upgrade-pr-is-history", "an upgrade PR opened and closed unmerged in 2025, untouched since, "
     "with a !testme of its own then: history, not read (the list stops at the window); every verdict the base's")
def _old_closed(w: World) -> None:
    busy(w)
    add_pull(w, 6, "chore: upgrade ghost to 5.90", "upgrade-5.90", OLD, state_="closed",
             closed_at="2025-10-02T09:00:00Z", with_branch=False)
    add_comment(w, 6, BUILDER, "!testme", "2025-10-01T10:00:00Z")
    pull(w, 6)["updated_at"] = "2025-10-02T09:00:00Z"


@mut("old-dated-pr-with-post-proxy-testmes", "a closed upgrade PR the world dates as last updated in 2025, "
     "but with two post-proxy !testme runs: Gitea bumps updated_at on every comment, so it is read, and its "
     "testmes bring the post-proxy attempts to 4 of 3", fail=("M1.attempt-budget",))
def _old_dated_attempts(w: World) -> None:
    busy(w)
    add_pull(w, 6, "chore: upgrade ghost to 5.90", "upgrade-5.90", OLD, state_="closed",
             closed_at="2025-10-02T09:00:00Z", with_branch=False)
    add_run(w, 6, "2026-07-15T14:00:00Z", 290)
    add_run(w, 6, "2026-07-15T15:00:00Z", 291)
    add_run(w, 6, "2026-07-15T15:30:00Z", 292)
    pull(w, 6)["updated_at"] = "2025-10-02T09:00:00Z"  # as a world may write it; Gitea's would be 15:00
    state_line(w, "Inventory", "- PR #6, branch `upgrade-5.90`: an old upgrade, closed.")


@mut("old-dated-pr-merged-in-phase", "an upgrade PR the world dates as last updated in 2025, but merged after "
     "the phase began: merging updates it, so it is read, and an upgrade PR was merged",
     fail=("M2.never-merged",))
def _old_dated_merge(w: World) -> None:
    busy(w)
    add_pull(w, 6, "chore: upgrade ghost to 5.90", "upgrade-5.90", OLD, merged_at="2026-07-15T09:00:00Z",
             state_="closed", with_branch=False)
    pull(w, 6)["updated_at"] = "2025-10-02T09:00:00Z"


@mut("correct-pr-closed-long-ago", "the declared correct PR #12 was opened and closed in 2025 and is untouched "
     "since: the window starts at its opening, so the list is read back that far; it is closed, never 'does not "
     "exist', and PR #9 (opened after it, merged) is a duplicate",
     fail=("M1.correct-pr", "M1.fresh-run", "M2.one-open-pr", "M2.duplicates-resolved", "M2.comments-explain"))
def _correct_closed_long_ago(w: World) -> None:
    busy(w)
    pr = pull(w, CORRECT)
    pr.update({"state": "closed", "created_at": OLD, "closed_at": "2025-10-02T09:00:00Z",
               "updated_at": "2025-10-02T09:00:00Z"})
    pr["comments"] = []
