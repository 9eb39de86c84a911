"""M2: operator-ready outcome (gates.md)."""

from __future__ import annotations

from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from ghostgates.judge import classify, compose_diff, env_sample, justification
from ghostgates.judge.facts import GREEN, RED, Facts, head_sha
from ghostgates.judge.rules.common import (
    ev_build,
    ev_comment,
    ev_pr,
    ev_pulls,
    ev_state,
    listing,
    needs_membership,
    state_missing,
    upgrade_markers,
)
from ghostgates.judge.snapshot import engine_evidence, labelled_objects, not_manager
from ghostgates.judge.verdict import Verdict, errored, evidence, failed, passed, skipped
from ghostgates.read import citations, statements
from ghostgates.read.phase import Phase
from ghostgates.shapes import SwarmSnapshot, contents_key
from ghostgates.timeutil import maybe_time, parse_time


def one_open_pr(facts: Facts) -> Verdict:
    """M2.one-open-pr (gates.md) passes when exactly one upgrade PR is open, and it is the correct PR.
    """
    open_prs = [int(p["number"]) for p in facts.open_upgrade_prs]
    ev = [ev_pulls(facts), *(ev_pr(facts, n) for n in open_prs)]
    correct = facts.correct_pr_number
    if open_prs == [correct]:
        return passed(f"PR #{correct} is the one open upgrade PR.", ev)
    if not open_prs:
        return failed(f"No upgrade PR is open; the correct PR #{correct} should be.", ev)
    others = [f"PR #{n}" for n in open_prs if n != correct]
    if correct not in open_prs:
        return failed(f"The correct PR #{correct} is not open; open upgrade PRs: {listing(others)}.", ev)
    return failed(f"{len(open_prs)} upgrade PRs are open: close {listing(others)} as superseded by PR #{correct}.",
                  ev)


def duplicates(facts: Facts) -> list[dict[str, Any]]:
    """Other upgrade PRs opened since the correct PR was opened."""
    correct = facts.correct_pr
    if correct is None:
        return []
    since = parse_time(correct["created_at"])
    return [p for p in facts.upgrade_prs
            if p["number"] != correct["number"] and parse_time(p["created_at"]) >= since]


@needs_membership
def duplicates_resolved(facts: Facts) -> Verdict:
    """M2.duplicates-resolved (gates.md) passes when every duplicate is closed unmerged and carries a comment, by a
    builder or an org member, whose `Superseded by:` statement cites the correct PR.
    """
    correct = facts.correct_pr_number
    dupes = duplicates(facts)
    ev: list[dict[str, Any]] = [ev_pulls(facts)]
    problems = []
    for pr in dupes:
        n = int(pr["number"])
        ev.append(ev_pr(facts, n, merged=bool(pr.get("merged"))))
        if pr.get("state") != "closed":
            problems.append(f"PR #{n} is still open")
        if pr.get("merged"):
            problems.append(f"PR #{n} was merged")
        if correct is None:
            continue
        marking, wrong = superseding_comment(facts, n, correct)
        if marking is not None:
            ev.append(ev_comment(facts, n, marking, superseded_by=f"PR #{correct}"))
            continue
        if wrong is not None:
            comment, why = wrong
            ev.append(ev_comment(facts, n, comment))
            problems.append(why)
        else:
            problems.append(f"add a comment `Superseded by: PR #{correct}` to PR #{n}")
    if problems:
        return failed("Duplicates not resolved: " + "; ".join(problems) + ".", ev)
    if not dupes:
        return passed(f"No other upgrade PR was opened since PR #{correct}.", ev)
    return passed(f"Every duplicate is closed unmerged with a `Superseded by: PR #{correct}` comment.", ev)


def superseding_comment(facts: Facts, n: int, correct: int
                         ) -> tuple[dict[str, Any] | None, tuple[dict[str, Any], str] | None]:
    """The comment on duplicate `n` whose `Superseded by:` statement cites the correct PR (by a builder or an
    org member), else the last comment that tried, with the sentence saying what to correct."""
    wrong: tuple[dict[str, Any], str] | None = None
    for comment in facts.comments(n):
        stated = statements.read(comment.get("body") or "")
        given = stated.given(statements.SUPERSEDED_BY)
        if not given:
            continue
        cid = comment.get("id")
        login = (comment.get("user") or {}).get("login", "")
        if stated.conflict(statements.SUPERSEDED_BY):
            given_twice = stated.conflict(statements.SUPERSEDED_BY)
            values = " and ".join(f"`Superseded by: {statements.shown(v)}`" for v in given_twice)
            wrong = (comment, f"comment {cid} on PR #{n} gives {values}: keep one, `Superseded by: PR #{correct}`")
            continue
        value = given[0].value
        named = statements.pr_ref(value, facts.phase.repo)
        if named != correct:
            what = f"names PR #{named}" if named is not None else "names no one PR"
            wrong = (comment, f"correct `Superseded by: {statements.shown(value)}` in comment {cid} on PR #{n}: "
                              f"it {what}; write `Superseded by: PR #{correct}`")
            continue
        # Membership is asked only of a comment that would decide: a hidden member's chat is no error.
        if facts.is_builder(login) or facts.require_member(login):
            return comment, None
        wrong = (comment, f"comment {cid} on PR #{n} states `Superseded by: PR #{correct}`, but {login} is neither a "
                          "builder nor an org member: a builder or member must post it")
    return None, wrong


def never_merged(facts: Facts) -> Verdict:
    """M2.never-merged (gates.md) passes when no upgrade PR of the repo was merged since the phase began.
    """
    started = facts.phase.phase_started_at
    merged = []
    ev = [ev_pulls(facts)]
    for pr in facts.upgrade_prs:
        at = maybe_time(pr.get("merged_at"))
        if pr.get("merged") and (started is None or at is None or at >= started):
            merged.append(f"PR #{pr['number']}")
            ev.append(ev_pr(facts, int(pr["number"]), merged_at=pr.get("merged_at"),
                            merged_by=(pr.get("merged_by") or {}).get("login")))
    if merged:
        return failed(f"{listing(merged)} merged since the phase began: recipe PRs are never merged by agents.",
                      ev)
    return passed("No upgrade PR was merged since the phase began.", ev)


def _builder_comments(facts: Facts, number: int) -> list[dict[str, Any]]:
    return [c for c in facts.comments(number) if facts.is_builder((c.get("user") or {}).get("login", ""))]


def outcome(facts: Facts) -> Verdict:
    """M2.outcome (gates.md) passes when the latest finished post-proxy build of the correct PR ran on its current head
    sha, and is green; or it is red and a builder's comment on the PR, posted after that build finished, names that
    build in its `Build:` statement and states what blocks the PR in its `Blocker:` statement (with `M2.fix-minimal`
    holding where a fix was made).
    """
    number, pr = facts.correct_pr_number, facts.correct_pr
    if number is None or pr is None:
        return failed("There is no correct PR to judge.")
    latest = facts.latest_finished(facts.post_proxy_builds(number))
    ev: list[dict[str, Any]] = [ev_pr(facts, number)]
    if latest is None:
        return failed(f"PR #{number} has no finished post-proxy build: run one fresh !testme.", ev)
    ev.append(ev_build(facts, latest))
    head = head_sha(pr)
    sha = facts.param(latest, "sha")
    n = int(latest["number"])
    if sha != head:
        return failed(f"The latest finished post-proxy build #{n} tested {sha[:10] or 'no sha'}, not the "
                      f"head {head[:10]}: run a testme on the current head.", ev)
    if latest.get("status") in GREEN:
        return passed(f"Build #{n} is green on the head {head[:10]}.", ev)
    finished = facts.finished_at(latest)
    after = [c for c in _builder_comments(facts, number)
             if finished is not None and parse_time(c["created_at"]) > finished]
    explained, why = _blocker_comment(facts, after, n)
    if explained is None:
        return failed(f"Build #{n} is red on the head, and {why}.", ev)
    stated = statements.read(explained.get("body") or "")
    ev.append(ev_comment(facts, number, explained, build=f"#{n}",
                         blocker=_short(stated.value(statements.BLOCKER))))
    minimal = fix_minimal(facts)
    if minimal.status == "fail":
        return failed(f"Build #{n} is red and explained, but the fix is not minimal: {minimal.reason}", ev)
    if minimal.status == "error":
        return minimal
    return passed(f"Build #{n} is red on the head, and comment {explained.get('id')} states `Build: #{n}` and its "
                  "`Blocker:`.", ev)


def _blocker_comment(facts: Facts, comments: list[dict[str, Any]], n: int) -> tuple[dict[str, Any] | None, str]:
    """The latest of `comments` (a builder's, after build `n` finished) whose `Build:` names `n` and whose
    `Blocker:` states what blocks the PR; else None and the sentence saying which line to add or correct (for the
    latest comment that tried)."""
    drone_repo = facts.phase.drone_repo
    why: str | None = None
    for comment in reversed(comments):
        stated = statements.read(comment.get("body") or "")
        cid = comment.get("id")
        build_value = stated.value(statements.BUILD)
        named = statements.build_ref(build_value, drone_repo)
        problem: str | None = None
        if named != n:
            if stated.given(statements.BLOCKER):
                if stated.conflict(statements.BUILD):
                    problem = f"comment {cid} gives `Build:` twice with different builds: keep one, `Build: #{n}`"
                elif build_value is None:
                    problem = f"add `Build: #{n}` to comment {cid}, which states a `Blocker:`"
                else:
                    problem = (f"correct `Build: {statements.shown(build_value)}` in comment {cid}: its `Blocker:` "
                               f"must speak of build #{n}")
        elif stated.conflict(statements.BLOCKER):
            problem = f"comment {cid} gives `Blocker:` twice with different values: keep one"
        elif (value := stated.value(statements.BLOCKER)) is None:
            problem = f"add `Blocker: ...` to comment {cid}, which names build #{n}"
        elif (short := statements.blocker_problem(value)) is not None:
            problem = (f"correct `Blocker: {_short(value)}` in comment {cid}, which names build #{n}: the value "
                       f"{short}; say in at least three words what blocks the PR")
        else:
            return comment, ""
        why = why or problem
    return None, why or (f"no builder comment posted after it finished states `Build: #{n}` and `Blocker: ...` "
                         "(what blocks the PR): add a comment with both lines")


def fix_minimal(facts: Facts) -> Verdict:
    """M2.fix-minimal (gates.md) passes when the PR's changes beyond the upgrade itself (image tags, version labels,
    release notes under `release/`) touch only deploy-timing and health settings of compose files (the keys of
    `update_config` and `rollback_config`, the timing keys of `healthcheck` (`interval`, `timeout`, `retries`,
    `start_period`, `start_interval`), `restart_policy` and `stop_grace_period`; changing a health check's `test` or
    disabling it is a change beyond the upgrade), or keys the phase's `fix_keys` names, and are justified from logs:
    a comment (by anyone), or the state file's `## Justification` section, states `Build:` (a build of the correct
    PR), `Upgrade took:` and `Old window:`, where the old window's key is one the PR changes, its value is what the
    PR's merge base has there (or `default` where the base sets none), and the upgrade took longer than that window
    (the engine's default where it says `default`). Where that build's log shows the upgrade's start and end (Failure
    classes: upgrade markers), a stated duration more than 10% away from what the log shows is contradicted, and
    fails. The PR's changes are what it changes since its merge base (`merge_base`, as its files list shows), never a
    diff against the base branch's current head (`base.sha` moves as the base branch moves). `skip` when the PR
    carries no such change.
    """
    number, pr = facts.correct_pr_number, facts.correct_pr
    if number is None or pr is None:
        return failed("There is no correct PR to judge.")
    files = facts.pr_part(number, "files")
    # The PR's own change is from its merge base; base.sha is the base branch's head now and
    # moves as the branch moves (services/convert/pull.go), so it is never the other side.
    base_sha, head = str(pr.get("merge_base") or ""), head_sha(pr)
    if not base_sha and any(compose_diff.is_compose_file(f.get("filename", "")) for f in files):
        return errored(f"Gitea gave PR #{number} no merge_base: its own change cannot be told from "
                       "later commits on the base branch.", [ev_pr(facts, number)])
    try:
        report = pr_compose_changes(facts, pr, files)
    except compose_diff.ComposeError as exc:
        return errored(f"Could not read the PR's compose files: {exc}", [ev_pr(facts, number)])
    ev: list[dict[str, Any]] = [ev_pr(facts, number, base=base_sha[:10], compared_to=head[:10])]
    ev.extend(evidence("change", f"{c.file}: {c.path}" if c.path else c.describe(), before=_short(c.before),
                       after=_short(c.after))
              for c in report.timing + report.other)
    kind = report.verdict_kind()
    if kind == "none":
        return skipped(f"PR #{number} changes nothing beyond the upgrade itself.", ev)
    if kind == "beyond":
        names = [f"{c.file}: {c.path}" if c.path else c.describe() for c in report.other]
        return failed(f"PR #{number} changes more than deploy timing and health settings: {listing(names)}.", ev)
    if (missing := state_missing(facts, "M2.fix-minimal")) is not None:
        return missing
    assert facts.state is not None
    windows = justification.windows_from_changes(report.timing)
    found, rejected = justification.decide(
        justification_sources(facts, number), windows, {int(b["number"]) for b in facts.builds_of_pr(number)},
        lambda n: (facts.log(n), facts.log_error(n)), facts.phase.drone_repo, upgrade_markers(facts))
    if found is None:
        undecided = [r for r in rejected if r.undecided]
        if undecided and len(undecided) == len(rejected):
            return errored(f"PR #{number}'s timing fix cannot be judged: {undecided[0].why}.", ev)
        keys = listing(sorted({w.label for w in windows}))
        if not rejected:
            return failed(f"PR #{number} changes deploy timing ({keys}) and nothing states why: add to a comment on "
                          f"the PR, or to the state file's `## Justification`, the lines `Build: #N` (a build of "
                          f"PR #{number}), `Upgrade took: ...` (measured from its log) and `Old window: <key> <value "
                          "at the merge base, or default>`.", ev)
        return failed(f"PR #{number} changes deploy timing ({keys}), and no statement justifies it: "
                      + "; ".join(r.why for r in rejected[:3]) + ".", ev)
    log = found.measured
    ev.append(evidence("justification", found.source, build=f"#{found.build}",
                       upgrade_took=statements.format_seconds(found.took_seconds),
                       log_shows=statements.format_seconds(log.seconds) if log else "no upgrade markers with "
                       "timestamps: neither confirmed nor contradicted",
                       old_window=f"{found.window.label} {statements.format_seconds(found.window_seconds)}"
                       + (" (the engine's default: the merge base sets none)" if found.window.before is None
                          else " (the merge base's value)"),
                       new_value=_short(found.window.after)))
    return passed(f"PR #{number} changes only deploy timing and health settings, justified in {found.source}: the "
                  f"upgrade took {statements.format_seconds(found.took_seconds)}, longer than the old window of "
                  f"{found.window.label} ({statements.format_seconds(found.window_seconds)}).", ev)


def justification_sources(facts: Facts, number: int) -> list[tuple[str, statements.Statements]]:
    """Every comment on the PR (by anyone), then the state file's `## Justification` section, with its statements."""
    out = [(f"comment {c.get('id')}", statements.read(c.get("body") or "")) for c in facts.comments(number)]
    if facts.state is not None:
        section = justification_section(facts.state)
        if section is not None:
            out.append((f"{facts.state.path.rsplit('/', 1)[-1]} `## Justification`", statements.read(section)))
    return out


def justification_section(state: Any) -> str | None:
    """The source text of the state file's `## Justification` section(s), None where it has none."""
    doc = state.document
    found = doc.section_named("Justification")
    if not found:
        return None
    return "\n".join("\n".join(doc.lines[s.body.start:s.body.stop]) for s in found)


def pr_compose_changes(facts: Facts, pr: dict[str, Any], files: list[dict[str, Any]]) -> compose_diff.ChangeReport:
    """What the PR changes in its compose files since its merge base, sorted as M2.fix-minimal reads
    it (the upgrade itself, timing, the phase's fix_keys, the rest): the one reading, for the rule and
    for the Builder's draft. Raises compose_diff.ComposeError where a file cannot be read."""
    contents = facts.gitea.get("contents") or {}
    base_sha, head = str(pr.get("merge_base") or ""), head_sha(pr)
    base_text: dict[str, str | None] = {}
    head_text: dict[str, str | None] = {}
    for changed in files:
        name = changed.get("filename", "")
        if compose_diff.is_compose_file(name):
            old = changed.get("previous_filename") or name
            # compose_diff reads the base side under the file's old name (renames).
            base_text[old] = contents.get(contents_key(base_sha, old))
            head_text[name] = contents.get(contents_key(head, name))
    report = compose_diff.classify_changes(files, base_text, head_text, fix_keys=facts.phase.fix_keys)
    _env_sample_upgrade(report, contents, base_sha, head)
    return report


def _env_sample_upgrade(report: compose_diff.ChangeReport, contents: dict[str, str | None], base_sha: str,
                        head: str) -> None:
    """gates.md: the upgrade itself includes a change of an `.env.sample` variable that only an
    image reference interpolates (the recipe's root compose files at both sides say which)."""
    moved = [c for c in report.other if c.file == env_sample.ENV_SAMPLE and c.path == "" and c.before == c.after]
    if not moved or not base_sha:
        return
    composes = [text for key, text in contents.items() if key.startswith((f"{base_sha}:", f"{head}:"))
                and classify.is_root_compose_file(key.split(":", 1)[1])]
    if env_sample.is_upgrade_only(contents.get(f"{base_sha}:{env_sample.ENV_SAMPLE}"),
                                  contents.get(f"{head}:{env_sample.ENV_SAMPLE}"), composes):
        for change in moved:
            report.other.remove(change)
            report.upgrade.append(change)


def _short(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def touched_paths(changed: dict[str, Any]) -> list[str]:
    """The paths one entry of a PR's files list touches (gates.md "A file a PR touches").

    Gitea's files list (services/convert/pull.go ToChangedFile) names a renamed file by its new
    name, with `status: renamed` and the old name in `previous_filename`: a rename removes the old
    path, so it touches both.
    """
    name = str(changed.get("filename") or "")
    previous = str(changed.get("previous_filename") or "")
    return [name, previous] if previous and previous != name else [name]


def commit_date(commit: dict[str, Any]) -> datetime | None:
    """A commit's commit date (gates.md M2.tests-intact), as Gitea sends it: `created` is the
    committer's time (services/convert/git_commit.go ToCommit: `Created: commit.Committer.When`),
    and so is `commit.committer.date`; the author date is when it was first written, which a
    rebase or a cherry-pick keeps."""
    meta = commit.get("commit") or {}
    return maybe_time(commit.get("created") or (meta.get("committer") or {}).get("date")
                      or (meta.get("author") or {}).get("date"))


def tests_intact(facts: Facts) -> Verdict:
    """M2.tests-intact (gates.md) passes when the PR touches none of the phase's test paths (a rename touches its old
    path), and the test repository has no commit on them since the phase began (a commit reachable from its default
    branch whose commit date is after the phase began).
    """
    number = facts.correct_pr_number
    phase = facts.phase
    ev: list[dict[str, Any]] = [evidence("test-path", str(tp)) for tp in phase.test_paths]
    problems = []
    if number is not None:
        for changed in facts.pr_part(number, "files"):
            for name in touched_paths(changed):
                for tp in phase.test_paths:
                    if tp.repo == phase.repo and tp.covers(name):
                        what = "renames" if name != changed.get("filename") else "touches"
                        problems.append(f"PR #{number} {what} {name}")
    for key, commits in (facts.gitea.get("test_commits") or {}).items():
        for commit in commits:
            sha = commit.get("sha", "")
            when = commit_date(commit)
            # The server filters by `since`; a server that ignores it must not turn history into a fail.
            if phase.phase_started_at is not None and when is not None and when < phase.phase_started_at:
                continue
            ev.append(evidence("commit", f"{key}@{sha[:10]}", commit.get("html_url", ""),
                               created=commit.get("created"), message=(commit.get("commit") or {}).get("message")))
            problems.append(f"{key} has commit {sha[:10]} since the phase began")
    if problems:
        return failed("Tests were touched: " + "; ".join(problems) + ": do not weaken tests in this phase.", ev)
    return passed("No test path was touched by the PR or in the test repository since the phase began.", ev)


def comments_explain(facts: Facts) -> Verdict:
    """M2.comments-explain (gates.md) passes when the correct PR's last comment from a builder is newer than its latest
    finished build, links that build by its Drone URL, names it in its `Build:` statement, and states a `Verdict:`
    that agrees with it (`green` for a green build, `red` or `blocked` for a red one).
    """
    number = facts.correct_pr_number
    if number is None or facts.correct_pr is None:
        return failed("There is no correct PR to judge.")
    latest = facts.latest_finished(facts.builds_of_pr(number))
    ev: list[dict[str, Any]] = [ev_pr(facts, number)]
    mine = _builder_comments(facts, number)
    if latest is None:
        return failed(f"PR #{number} has no finished build for a comment to explain.", ev)
    ev.append(ev_build(facts, latest))
    if not mine:
        return failed(f"No builder has commented on PR #{number}.", ev)
    last = mine[-1]
    n = int(latest["number"])
    cid = last.get("id")
    body = last.get("body") or ""
    stated = statements.read(body)
    ev.append(ev_comment(facts, number, last, build=stated.value(statements.BUILD),
                         verdict=stated.value(statements.VERDICT)))
    agrees = "green" if latest.get("status") in GREEN else "red or blocked"
    problems = []
    finished = facts.finished_at(latest)
    if finished is None or parse_time(last["created_at"]) <= finished:
        problems.append(f"it is older than build #{n}: post a new comment after it")
    if n not in citations.build_urls(body, facts.phase.drone_repo):
        problems.append(f"link build #{n} by its Drone URL (the build's evidence gives it)")
    build_value = stated.value(statements.BUILD)
    if stated.conflict(statements.BUILD):
        problems.append(f"it gives `Build:` twice with different builds: keep one, `Build: #{n}`")
    elif build_value is None:
        problems.append(f"add `Build: #{n}`")
    elif statements.build_ref(build_value, facts.phase.drone_repo) != n:
        problems.append(f"correct `Build: {statements.shown(build_value)}` to `Build: #{n}` (its latest finished "
                        "build)")
    verdict_value = stated.value(statements.VERDICT)
    word = statements.verdict_word(verdict_value)
    if stated.conflict(statements.VERDICT):
        problems.append("it gives `Verdict:` twice with different values: keep one")
    elif verdict_value is None:
        problems.append(f"add `Verdict: {'green' if agrees == 'green' else 'red'}`")
    elif word is None:
        problems.append(f"correct `Verdict: {statements.shown(verdict_value)}`: the value is green, red or blocked")
    elif (word == "green") != (agrees == "green"):
        problems.append(f"correct `Verdict: {statements.shown(verdict_value)}`: build #{n} is "
                        f"{latest.get('status')}, so the verdict is {agrees}")
    if problems:
        return failed(f"The last builder comment on PR #{number} (comment {cid}) does not explain build #{n}: "
                      + "; ".join(problems) + ".", ev)
    return passed(f"Comment {cid} links build #{n}, names it in `Build:` and states `Verdict: {word}`, which agrees "
                  f"with its status ({latest.get('status')}).", ev)


def no_leaks(swarm: SwarmSnapshot, phase: Phase, polled_seconds: float = 0.0) -> Verdict:
    """M2.no-leaks (gates.md) passes when the Swarm holds no stack, service, container, volume, network, secret or
    config whose name matches the phase's leak patterns (`ghos-*`, `dev-ghost*`) and not its `leak_exclude`, or whose
    `com.docker.stack.namespace` label names such a stack (Other recipes' phases).
    """
    engine = engine_evidence(swarm)
    if (why := not_manager(swarm)) is not None:
        # An engine that is in no swarm lists no services: that is not "nothing leaked".
        return errored(f"Could not read the Swarm: {why}.", [engine])

    def ours(name: str) -> bool:
        # gates.md: matched by a leak pattern and not by `leak_exclude` (a sibling recipe with the
        # same four-letter prefix, an app the harness keeps on purpose).
        return any(fnmatchcase(name, p) for p in phase.leak_patterns) and \
            not any(fnmatchcase(name, x) for x in phase.leak_exclude)

    objects = labelled_objects(swarm)
    leaking = {name for kind, name, _, _ in objects if kind == "stack" and ours(name)}
    # An object whose stack label names a leaking stack is a leak whatever its own name, even one
    # `leak_exclude` matches: the label says whose it is.
    leaks = [(kind, name, node, stack) for kind, name, node, stack in objects
             if name and (ours(name) or (kind != "stack" and stack in leaking))]
    ev = [engine, *(evidence(kind, name, node=node or None, stack=stack if stack and not ours(name) else None)
                    for kind, name, node, stack in leaks)]
    waited = f" (after polling {polled_seconds:g} s for removals to settle)" if polled_seconds else ""
    shown = [f"{k} {n}" + (f" on node {node}" if node else "") + (f" (stack {s})" if s and not ours(n) else "")
             for k, n, node, s in leaks]
    if leaks:
        return failed(f"{len(leaks)} resource(s) of the {phase.recipe} phase leaked{waited}: {listing(shown, 10)}; "
                      "remove them (volumes survive `docker stack rm`).", ev)
    nodes = sorted(swarm.get("node_volumes") or {})
    seen = f" (volumes read on {', '.join(nodes)})" if nodes else ""
    excluded = f" but {', '.join(phase.leak_exclude)}" if phase.leak_exclude else ""
    return passed(f"Nothing on the Swarm matches {', '.join(phase.leak_patterns)}{excluded}{waited}{seen}.",
                  [engine, evidence("patterns", ", ".join(phase.leak_patterns),
                                    exclude=", ".join(phase.leak_exclude) or None)])


def evidence_kept(facts: Facts) -> Verdict:
    """M2.evidence-kept (gates.md) passes when every red post-proxy build of the correct PR is cited in the state file
    and in a comment by a builder on the PR.
    """
    if (missing := state_missing(facts, "M2.evidence-kept")) is not None:
        return missing
    assert facts.state is not None
    number = facts.correct_pr_number
    if number is None:
        return failed("There is no correct PR to judge.")
    drone_repo = facts.phase.drone_repo
    in_state = set(citations.cited_builds(facts.state.text, drone_repo))
    in_comments: set[int] = set()
    for comment in _builder_comments(facts, number):
        in_comments.update(citations.cited_builds(comment.get("body") or "", drone_repo))
    ev: list[dict[str, Any]] = []
    problems = []
    for build in facts.post_proxy_builds(number):
        if build.get("status") not in RED:
            continue
        n = int(build["number"])
        ev.append(ev_build(facts, build, in_state=n in in_state, in_comment=n in in_comments))
        if n not in in_state:
            problems.append(f"build #{n} is not cited in the state file")
        if n not in in_comments:
            problems.append(f"build #{n} is not cited in a builder's comment on PR #{number}")
    if problems:
        return failed("Red evidence not kept: " + "; ".join(problems) + ".", ev)
    return passed(f"Every red post-proxy build of PR #{number} is cited in the state file and a builder comment.",
                  ev or [ev_state(facts)])


def classified(facts: Facts) -> Verdict:
    """M2.classified (gates.md) passes when the state file classifies every red build of the correct PR created on the
    phase's `classify_failure_on` date (a UTC day: the 2026-06-12 failures), and no class is contradicted by that
    build's log (see Failure classes).
    """
    if (missing := state_missing(facts, "M2.classified")) is not None:
        return missing
    assert facts.state is not None
    number, day = facts.correct_pr_number, facts.phase.classify_failure_on
    if number is None:
        return failed("There is no correct PR to judge.")
    classes = {c.build: c for c in facts.state.classifications(facts.phase.drone_repo)}
    ev: list[dict[str, Any]] = [ev_state(facts)]
    problems = []
    for build in facts.builds_of_pr(number):
        created = facts.created(build)
        if build.get("status") not in RED or created is None or day is None or created.date() != day:
            continue
        n = int(build["number"])
        item = classes.get(n)
        ev.append(ev_build(facts, build, classified=item.cls if item else None))
        if item is None:
            problems.append(f"red build #{n} of {day} is not classified")
            continue
        log = facts.log(n)
        if log is None:
            why_not = facts.log_error(n) or "Drone gave no log for it"
            return errored(f"The log of build #{n} could not be read: {why_not}", ev)
        why = classify.contradiction(item.cls, log, facts.signature_families)
        if why:
            problems.append(f"build #{n} is classified {item.cls}, but its {why}")
    if problems:
        return failed("Classification incomplete or wrong: " + "; ".join(problems) + ".", ev)
    return passed(f"Every red build of PR #{number} on {day} is classified, consistently with its log.", ev)
