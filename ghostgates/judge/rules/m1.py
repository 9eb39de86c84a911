"""M1: state inventory and clean retry (gates.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ghostgates.judge import classify
from ghostgates.judge.facts import RED, Facts, head_branch, is_build_of
from ghostgates.judge.rules.common import (
    ev_build,
    ev_pr,
    ev_pulls,
    ev_state,
    ev_testme,
    listing,
    needs_membership,
    state_missing,
)
from ghostgates.judge.snapshot import engine_evidence, host_addresses, not_manager, used_addresses
from ghostgates.judge.verdict import Verdict, errored, evidence, failed, passed
from ghostgates.read import citations
from ghostgates.read.phase import Phase, Waiver
from ghostgates.shapes import SwarmSnapshot
from ghostgates.timeutil import maybe_time, rfc3339


def inventory(facts: Facts) -> Verdict:
    """M1.inventory (gates.md) passes when the state file cites every open upgrade PR, every non-default branch that
    matches the upgrade pattern, and every post-proxy build of the correct PR.
    """
    if (missing := state_missing(facts, "M1.inventory")) is not None:
        return missing
    assert facts.state is not None
    text, phase = facts.state.text, facts.phase
    cited_prs = set(citations.cited_prs(text, phase.repo))
    cited_builds = set(citations.cited_builds(text, phase.drone_repo))
    ev: list[dict[str, Any]] = [ev_state(facts)]
    absent: list[str] = []
    for pr in facts.open_upgrade_prs:
        n = int(pr["number"])
        ev.append(ev_pr(facts, n, cited=n in cited_prs))
        if n not in cited_prs:
            absent.append(f"open upgrade PR #{n}")
    for branch in facts.gitea.get("branches", []):
        name = branch.get("name", "")
        if name == (facts.gitea.get("repo") or {}).get("default_branch", phase.default_branch) \
                or name == phase.default_branch or not phase.matches_branch(name):
            continue
        cited = citations.cites_branch(text, name)
        ev.append(evidence("branch", name, cited=cited))
        if not cited:
            absent.append(f"branch {name}")
    if facts.correct_pr_number is not None:
        for build in facts.post_proxy_builds(facts.correct_pr_number):
            n = int(build["number"])
            ev.append(ev_build(facts, build, cited=n in cited_builds))
            if n not in cited_builds:
                absent.append(f"post-proxy build #{n}")
    if absent:
        return failed(f"The state file does not cite {listing(absent)}: add them to its inventory.", ev)
    return passed("The state file cites every open upgrade PR, upgrade branch and post-proxy build "
                  "of the correct PR.", ev)


def correct_pr(facts: Facts) -> Verdict:
    """M1.correct-pr (gates.md) passes when the state file declares one correct PR, and that PR exists, is open,
    unmerged, targets the default branch and is an upgrade PR.
    """
    if (missing := state_missing(facts, "M1.correct-pr")) is not None:
        return missing
    assert facts.state is not None
    line = facts.state.correct_pr_line()
    declared = facts.declared_prs
    ev = [ev_state(facts, line=line.strip() if line else None)]
    if line is None or not declared:
        return failed("The state file declares no correct PR: write a line `correct PR: PR #N`.", ev)
    if len(declared) > 1:
        return failed(f"The state file's correct-PR line cites {len(declared)} PRs "
                      f"({listing([f'#{n}' for n in declared])}): it must declare one.", ev)
    number = declared[0]
    pr = facts.pulls.get(number)
    if pr is None:
        return failed(f"The declared correct PR #{number} does not exist in {facts.phase.repo}.", ev)
    ev.append(ev_pr(facts, number, base=(pr.get("base") or {}).get("ref"), merged=bool(pr.get("merged"))))
    problems = []
    if pr.get("state") != "open":
        problems.append("is not open")
    if pr.get("merged"):
        problems.append("is merged")
    base = (pr.get("base") or {}).get("ref")
    if base != facts.phase.default_branch:
        problems.append(f"targets {base}, not {facts.phase.default_branch}")
    if not facts.is_upgrade_pr(pr):
        problems.append(f"is not an upgrade PR (neither its title nor its branch {head_branch(pr)} "
                        f"matches {facts.phase.upgrade_pattern})")
    if problems:
        return failed(f"The declared correct PR #{number} {' and '.join(problems)}.", ev)
    return passed(f"PR #{number} is declared correct, open, unmerged, on {base}, and an upgrade PR.", ev)


def proxy_clear(swarm: SwarmSnapshot, phase: Phase, engine_log_errors: list[str] | None = None) -> Verdict:
    """M1.proxy-clear (gates.md) passes when on the Swarm now: the proxy overlay network has at least
    `min_free_addresses` free addresses (free = the subnet's host addresses, network and broadcast excluded, minus
    the endpoints attached: task addresses, VIPs and load-balancer addresses); no task has sat in `new` or `pending`
    longer than `stuck_task_minutes`; and no task, whatever its state, reports an address-allocation error (`could
    not find an available IP`).
    """
    engine = engine_evidence(swarm)
    if (why := not_manager(swarm)) is not None:
        return errored(f"Could not read the Swarm: {why}.", [engine])
    now = maybe_time(swarm.get("now"))
    name = phase.proxy_network
    inspect = (swarm.get("network_inspect") or {}).get(name)
    if inspect is None:
        return failed(f"The proxy network {name!r} is not on the Swarm: check `proxy_network` and the manager.",
                      [engine, evidence("network", name, present=False)])
    subnet, hosts = host_addresses(inspect)
    used = len(used_addresses(inspect))
    free = hosts - used
    ev = [engine, evidence("network", name, subnet=subnet, host_addresses=hosts, used=used, free=free,
                   minimum=phase.min_free_addresses)]
    problems = []
    if subnet is None:
        problems.append(f"network {name} has no IPv4 subnet")
    elif free < phase.min_free_addresses:
        problems.append(f"network {name} ({subnet}) has {free} free addresses ({used} of {hosts} used), "
                        f"fewer than {phase.min_free_addresses}")
    services = {s.get("ID"): (s.get("Spec") or {}).get("Name", s.get("ID")) for s in swarm.get("services") or []}
    limit = timedelta(minutes=phase.stuck_task_minutes)
    stuck, erred = [], []
    for task in swarm.get("tasks") or []:
        status = task.get("Status") or {}
        label = f"{services.get(task.get('ServiceID'), task.get('ServiceID', '?'))} task {task.get('ID', '?')[:12]}"
        since = maybe_time(status.get("Timestamp"))
        if status.get("State") in ("new", "pending") and now and since and now - since > limit:
            stuck.append(label)
            ev.append(evidence("task", label, state=status.get("State"), since=rfc3339(since)))
        # The classifier's one definition of address exhaustion (issue 12).
        if classify.address_exhaustion(status.get("Err")):
            erred.append(label)
            ev.append(evidence("task", label, state=status.get("State"), error=status.get("Err")))
    if stuck:
        problems.append(f"{len(stuck)} task(s) sat in new/pending over {phase.stuck_task_minutes:g} min "
                        f"({listing(stuck)})")
    if erred:
        problems.append(f"{len(erred)} task(s) report an address-allocation error ({listing(erred)})")
    for line in engine_log_errors or []:
        ev.append(evidence("engine-log", line[:200]))
    if engine_log_errors:
        problems.append(f"the engine log holds {len(engine_log_errors)} address-allocation error(s)")
    if problems:
        return failed("The proxy is not clear: " + "; ".join(problems) + ".", ev)
    return passed(f"Network {name} ({subnet}) has {free} free addresses; no stuck task; "
                  "no address-allocation error.", ev)


@needs_membership
def fresh_run(facts: Facts) -> Verdict:
    """M1.fresh-run (gates.md) passes when the correct PR has a post-proxy testme whose build has finished (success,
    failure or error) and tested a sha that is one of the PR's commits.
    """
    number = facts.correct_pr_number
    if number is None or facts.correct_pr is None:
        return failed("There is no correct PR to look at: declare it in the state file.")
    shas = facts.commit_shas(number)
    ev: list[dict[str, Any]] = [ev_pr(facts, number)]
    notes = []
    for testme in facts.post_proxy_testmes([number]):
        build = facts.build_for_testme(testme)
        ev.append(ev_testme(facts, testme, build=f"#{build['number']}" if build else None))
        if build is None:
            notes.append(f"testme {testme.id} started no build")
            continue
        ev.append(ev_build(facts, build))
        sha = facts.param(build, "sha")
        if build.get("status") not in ("success", "failure", "error"):
            notes.append(f"build #{build['number']} is {build.get('status')}")
        elif sha not in shas:
            notes.append(f"build #{build['number']} tested {sha[:10] or 'no sha'}, not a commit of PR #{number}")
        else:
            return passed(f"Post-proxy testme {testme.id} on PR #{number} ran build #{build['number']}, "
                          f"{build['status']} on {sha[:10]}.", ev)
    if not notes:
        return failed(f"PR #{number} has no post-proxy !testme: post one after the proxy fix and let it finish.", ev)
    return failed(f"No post-proxy testme on PR #{number} has a finished build of its commits ({'; '.join(notes)}).",
                  ev)


def operator_limit(phase: Phase, requirement: str, default: int) -> tuple[int, Waiver | None, list[Waiver]]:
    """The limit an operator's waiver allows, the waiver, and the waivers that count for nothing.

    gates.md M1.attempt-budget: a waiver whose `by` is one of `builder_logins` is no operator's,
    and allows nothing (the builder cannot waive their own budget).
    """
    builders = {login.lower() for login in phase.builder_logins}
    ignored = [w for w in phase.waivers if w.requirement == requirement and w.by.strip().lower() in builders]
    best: tuple[int, Waiver | None] = (default, None)
    for waiver in phase.waivers:
        if waiver.requirement == requirement and waiver not in ignored and waiver.allow > best[0]:
            best = (waiver.allow, waiver)
    return best[0], best[1], ignored


@needs_membership
def attempt_budget(facts: Facts) -> Verdict:
    """M1.attempt-budget (gates.md) passes when the post-proxy testmes on upgrade PRs number at most the phase's limit
    (3), unless an operator waiver in the phase file allows more (a waiver whose `by` is one of `builder_logins` is
    no operator's, and allows nothing).
    """
    testmes = facts.post_proxy_testmes()
    limit, waiver, ignored = operator_limit(facts.phase, "M1.attempt-budget", facts.phase.max_post_proxy_attempts)
    ev = [ev_pulls(facts), *(ev_testme(facts, t) for t in testmes)]
    if waiver is not None:
        ev.append(evidence("waiver", "M1.attempt-budget", allow=waiver.allow, by=waiver.by, reason=waiver.reason))
    for w in ignored:
        ev.append(evidence("waiver", "M1.attempt-budget", allow=w.allow, by=w.by, reason=w.reason,
                           counted=False, why=f"{w.by} is a builder, not an operator"))
    count = len(testmes)
    if count > limit:
        return failed(f"{count} post-proxy testmes on upgrade PRs, over the limit of {limit}: "
                      "stop re-running and ask the operator for a waiver.", ev)
    return passed(f"{count} post-proxy testme(s) on upgrade PRs, within the limit of {limit}.", ev)


def no_stale_evidence(facts: Facts) -> Verdict:
    """M1.no-stale-evidence (gates.md) passes when every build the state file cites as current evidence is a post-proxy
    build of the correct PR, and no pre-proxy red build it classifies has a class that its log contradicts (see
    Failure classes: above all, a log that shows address exhaustion or tasks stuck in `New` makes the build infra,
    never a recipe failure).
    """
    if (missing := state_missing(facts, "M1.no-stale-evidence")) is not None:
        return missing
    assert facts.state is not None
    drone_repo = facts.phase.drone_repo
    ev: list[dict[str, Any]] = [ev_state(facts)]
    problems = []
    for number in facts.state.current_evidence(drone_repo):
        build = facts.build(number)
        if build is None:
            problems.append(f"build #{number} cited as current evidence does not exist on Drone")
            ev.append(evidence("build", f"build #{number}", found=False))
            continue
        ev.append(ev_build(facts, build, cited_as="current evidence"))
        if not facts.is_post_proxy_build(build):
            problems.append(f"build #{number} cited as current evidence is pre-proxy")
        # gates.md 2026-12-02: current evidence must be builds of the correct PR (the harness tests
        # every recipe, and other PRs have builds too).
        if not is_build_of(facts.phase, build, facts.correct_pr_number):
            of = f"PR #{facts.param(build, 'pr') or '?'} of {facts.param(build, 'recipe') or 'no recipe'}"
            problems.append(f"build #{number} cited as current evidence is a build of {of}, "
                            f"not of the correct PR #{facts.correct_pr_number}")
    for item in facts.state.classifications(drone_repo):
        build = facts.build(item.build)
        if build is None or build.get("status") not in RED or facts.is_post_proxy_build(build):
            continue
        log = facts.log(item.build)
        if log is None:
            # A log that could not be read is no evidence either way: never an empty log.
            if (why_not := facts.log_error(item.build)) is not None:
                ev.append(ev_build(facts, build, classified=item.cls, log_error=why_not))
                return errored(f"The log of build #{item.build} could not be read: {why_not}", ev)
            continue
        ev.append(ev_build(facts, build, classified=item.cls))
        why = classify.contradiction(item.cls, log, facts.signature_families)
        if why:
            problems.append(f"build #{item.build} is classified {item.cls}, but its {why}")
    if problems:
        return failed("Stale or misread evidence: " + "; ".join(problems) + ".", ev)
    return passed("Every build cited as current evidence is post-proxy and no pre-proxy classification "
                  "is contradicted by its log.", ev)


@needs_membership
def quiet_window(facts: Facts) -> Verdict:
    """M1.quiet-window (gates.md) passes when no build started by a post-proxy testme on an upgrade PR ran (from its
    start to its finish, or to now while it runs) while a blackout named by the phase (proxy maintenance, a broad CI
    sweep) was in force.
    """
    ev: list[dict[str, Any]] = [evidence("blackout", b.name, start=rfc3339(b.start), end=rfc3339(b.end))
                                for b in facts.phase.blackouts]
    clashes = []
    for testme in facts.post_proxy_testmes():
        build = facts.build_for_testme(testme)
        if build is None:
            continue
        # A pending build (started 0) has not run: its creation is not its start.
        start = facts.started_at(build)
        end = facts.finished_at(build) or facts.now
        ev.append(ev_build(facts, build, testme=testme.id, started=rfc3339(start) if start else None))
        if start is None:
            continue
        for blackout in facts.phase.blackouts:
            if start < blackout.end and end > blackout.start:
                clashes.append(f"build #{build['number']} (PR #{testme.pr}) ran during {blackout.name}")
    if clashes:
        return failed(f"Builds of the {facts.phase.recipe} phase ran inside a blackout: " + "; ".join(clashes) + ".",
                      ev)
    return passed("No post-proxy testme build ran during a blackout.", ev)
