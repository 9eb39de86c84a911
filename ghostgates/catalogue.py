"""The requirement ids of gates.md, by gate, in the order the spec lists them."""

from __future__ import annotations

GATES: dict[str, tuple[str, ...]] = {
    "M1": ("M1.inventory", "M1.correct-pr", "M1.proxy-clear", "M1.fresh-run", "M1.attempt-budget",
           "M1.no-stale-evidence", "M1.quiet-window"),
    "M2": ("M2.one-open-pr", "M2.duplicates-resolved", "M2.never-merged", "M2.outcome", "M2.fix-minimal",
           "M2.tests-intact", "M2.comments-explain", "M2.no-leaks", "M2.evidence-kept", "M2.classified"),
    "DONE": ("DONE.signed",),
}
ALL = tuple(rid for ids in GATES.values() for rid in ids)

# Each requirement's "passes when" text, copied from the tables of gates.md (the reports show it
# beside the id; tests/plugin/test_catalogue.py holds the copy to ../shared/gates.md).
TEXT: dict[str, str] = {
    'M1.inventory': (
        'the state file cites every open upgrade PR, every non-default branch that matches the upgrade '
        'pattern, and every post-proxy build of the correct PR'
    ),
    'M1.correct-pr': (
        'the state file declares one correct PR, and that PR exists, is open, unmerged, targets the '
        'default branch and is an upgrade PR'
    ),
    'M1.proxy-clear': (
        'on the Swarm now: the proxy overlay network has at least `min_free_addresses` free addresses '
        "(free = the subnet's host addresses, network and broadcast excluded, minus the endpoints "
        'attached: task addresses, VIPs and load-balancer addresses); no task has sat in `new` or '
        '`pending` longer than `stuck_task_minutes`; and no task, whatever its state, reports an '
        'address-allocation error (`could not find an available IP`)'
    ),
    'M1.fresh-run': (
        'the correct PR has a post-proxy testme whose build has finished (success, failure or error) and '
        "tested a sha that is one of the PR's commits"
    ),
    'M1.attempt-budget': (
        "the post-proxy testmes on upgrade PRs number at most the phase's limit (3), unless an operator "
        'waiver in the phase file allows more (a waiver whose `by` is one of `builder_logins` is no '
        "operator's, and allows nothing)"
    ),
    'M1.no-stale-evidence': (
        'every build the state file cites as current evidence is a post-proxy build of the correct PR, '
        'and no pre-proxy red build it classifies has a class that its log contradicts (see Failure '
        'classes: above all, a log that shows address exhaustion or tasks stuck in `New` makes the build '
        'infra, never a recipe failure)'
    ),
    'M1.quiet-window': (
        'no build started by a post-proxy testme on an upgrade PR ran (from its start to its finish, or '
        'to now while it runs) while a blackout named by the phase (proxy maintenance, a broad CI sweep) '
        'was in force'
    ),
    'M2.one-open-pr': (
        'exactly one upgrade PR is open, and it is the correct PR'
    ),
    'M2.duplicates-resolved': (
        'every duplicate is closed unmerged and carries a comment, by a builder or an org member, whose '
        '`Superseded by:` statement cites the correct PR'
    ),
    'M2.never-merged': (
        'no upgrade PR of the repo was merged since the phase began'
    ),
    'M2.outcome': (
        'the latest finished post-proxy build of the correct PR ran on its current head sha, and is '
        "green; or it is red and a builder's comment on the PR, posted after that build finished, names "
        'that build in its `Build:` statement and states what blocks the PR in its `Blocker:` statement '
        '(with `M2.fix-minimal` holding where a fix was made)'
    ),
    'M2.fix-minimal': (
        "the PR's changes beyond the upgrade itself (image tags, version labels, release notes under "
        '`release/`) touch only deploy-timing and health settings of compose files (the keys of '
        '`update_config` and `rollback_config`, the timing keys of `healthcheck` (`interval`, `timeout`, '
        '`retries`, `start_period`, `start_interval`), `restart_policy` and `stop_grace_period`; changing'
        " a health check's `test` or disabling it is a change beyond the upgrade), or keys the phase's "
        "`fix_keys` names, and are justified from logs: a comment (by anyone), or the state file's `## "
        'Justification` section, states `Build:` (a build of the correct PR), `Upgrade took:` and `Old '
        "window:`, where the old window's key is one the PR changes, its value is what the PR's merge "
        'base has there (or `default` where the base sets none), and the upgrade took longer than that '
        "window (the engine's default where it says `default`). Where that build's log shows the "
        "upgrade's start and end (Failure classes: upgrade markers), a stated duration more than 10% away"
        " from what the log shows is contradicted, and fails. The PR's changes are what it changes since "
        "its merge base (`merge_base`, as its files list shows), never a diff against the base branch's "
        'current head (`base.sha` moves as the base branch moves). `skip` when the PR carries no such '
        'change'
    ),
    'M2.tests-intact': (
        "the PR touches none of the phase's test paths (a rename touches its old path), and the test "
        'repository has no commit on them since the phase began (a commit reachable from its default '
        'branch whose commit date is after the phase began)'
    ),
    'M2.comments-explain': (
        "the correct PR's last comment from a builder is newer than its latest finished build, links that"
        ' build by its Drone URL, names it in its `Build:` statement, and states a `Verdict:` that agrees'
        ' with it (`green` for a green build, `red` or `blocked` for a red one)'
    ),
    'M2.no-leaks': (
        'the Swarm holds no stack, service, container, volume, network, secret or config whose name '
        "matches the phase's leak patterns (`ghos-*`, `dev-ghost*`) and not its `leak_exclude`, or whose "
        "`com.docker.stack.namespace` label names such a stack (Other recipes' phases)"
    ),
    'M2.evidence-kept': (
        'every red post-proxy build of the correct PR is cited in the state file and in a comment by a '
        'builder on the PR'
    ),
    'M2.classified': (
        "the state file classifies every red build of the correct PR created on the phase's "
        '`classify_failure_on` date (a UTC day: the 2026-06-12 failures), and no class is contradicted by'
        " that build's log (see Failure classes)"
    ),
    'DONE.signed': (
        'where the state file has a `## DONE` heading, the review file holds an adversary PASS for M1 and'
        ' for M2, each bound to the current head sha of the correct PR and to its latest finished build '
        '(a PASS recorded before the latest build is stale). A run that also checks M1 or M2 as the '
        'adversary judges against the records that it writes itself, so one run never shows a gate FAIL '
        'beside a DONE.signed pass. `skip` where there is no `## DONE`'
    ),
}
