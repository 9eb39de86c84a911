"""M2: operator-ready outcome (gates.md)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from ghostgates.judge import classify, compose_diff, env_sample, justification
from ghostgates.judge.facts import GREEN, RED, Facts, head_sha
from ghostgates.judge.rules.common import (
    ev_build,
    ev_comment,
    ev_pr,
    ev_state,
    listing,
    needs_membership,
    signature_families,
    state_missing,
)
from ghostgates.judge.snapshot import engine_evidence, labelled_objects, not_manager
from ghostgates.judge.verdict import Verdict, errored, evidence, failed, passed, skipped
from ghostgates.read import citations, sentences
from ghostgates.read.phase import Phase
from ghostgates.timeutil import maybe_time, parse_time


def one_open_pr(facts: Facts) -> Verdict:
    """M2.one-open-pr (gates.md) passes when exactly one upgrade PR is open, and it is the correct PR.
    """
    open_prs = [int(p["number"]) for p in facts.open_upgrade_prs]
    ev = [ev_pr(facts, n) for n in open_prs]
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
    builder or an org member, that cites the correct PR as the one superseding it (`superseded by PR #4`, `replaced
    by`, `in favour of`, `duplicate of`; a comment saying the duplicate supersedes the correct PR says the reverse).
    """
    correct = facts.correct_pr_number
    dupes = duplicates(facts)
    ev: list[dict[str, Any]] = []
    problems = []
    for pr in dupes:
        n = int(pr["number"])
        ev.append(ev_pr(facts, n, merged=bool(pr.get("merged"))))
        if pr.get("state") != "closed":
            problems.append(f"PR #{n} is still open")
        if pr.get("merged"):
            problems.append(f"PR #{n} was merged")
        marking = reverse = None
        for comment in facts.comments(n):
            login = (comment.get("user") or {}).get("login", "")
            body = comment.get("body") or ""
            if correct is None:
                continue
            # The direction, not a word and a citation: "This supersedes PR #4" says the reverse.
            reading = sentences.superseding(body, correct, facts.phase.repo)
            # Membership is asked only of a comment that would decide: a hidden member's chat is no error.
            if reading is None or not (facts.is_builder(login) or facts.require_member(login)):
                continue
            if reading.direction == sentences.SUPERSEDED:
                marking = comment
            elif reading is not None:
                reverse = (comment, reading)
        if marking is None:
            said = (f" (comment {reverse[0].get('id')} says the reverse: \"{reverse[1].sentence}\")"
                    if reverse else "")
            problems.append(f"PR #{n} has no comment saying PR #{correct} supersedes it{said}")
            if reverse:
                ev.append(ev_comment(facts, n, reverse[0]))
        else:
            ev.append(ev_comment(facts, n, marking))
    if problems:
        return failed("Duplicates not resolved: " + "; ".join(problems) + ".", ev)
    if not dupes:
        return passed(f"No other upgrade PR was opened since PR #{correct}.", ev)
    return passed(f"Every duplicate is closed unmerged with a comment pointing to PR #{correct}.", ev)


def never_merged(facts: Facts) -> Verdict:
    """M2.never-merged (gates.md) passes when no upgrade PR of the repo was merged since the phase began.
    """
    started = facts.phase.phase_started_at
    merged = []
    ev = []
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
    sha, and is green; or it is red and a builder's comment on the PR, posted after that build finished, cites it
    and states the blocker: what blocks the PR (`blocked on …`, `blocker: …`, or the failure's class and cause), not
    only a verdict word such as `failed` (with `M2.fix-minimal` holding where a fix was made).
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
    explained = None
    for comment in _builder_comments(facts, number):
        # A verdict word alone ("failed") states no blocker: the comment must say what blocks.
        if finished and parse_time(comment["created_at"]) > finished \
                and n in citations.cited_builds(comment.get("body") or "", facts.phase.drone_repo) \
                and sentences.blocker(comment.get("body") or "") is not None:
            explained = comment
    if explained is None:
        return failed(f"Build #{n} is red on the head and no builder comment after it cites it and states "
                      "the blocker (`blocked on ...`, `blocker: ...`, or the failure's class and cause; a verdict "
                      "word alone states none).", ev)
    ev.append(ev_comment(facts, number, explained))
    stated = sentences.blocker(explained.get("body") or "")
    if stated is not None:
        ev.append(evidence("blocker", stated.how, words=_short(stated.what)))
    minimal = fix_minimal(facts)
    if minimal.status == "fail":
        return failed(f"Build #{n} is red and explained, but the fix is not minimal: {minimal.reason}", ev)
    if minimal.status == "error":
        return minimal
    return passed(f"Build #{n} is red on the head, and comment {explained.get('id')} states the blocker.", ev)


def fix_minimal(facts: Facts) -> Verdict:
    """M2.fix-minimal (gates.md) passes when the PR's changes beyond the upgrade itself (image tags, version labels,
    release notes under `release/`) touch only deploy-timing and health settings of compose files (`update_config`,
    `rollback_config`, `healthcheck`, `restart_policy` keys), and a comment (by anyone) or the state file justifies
    them from logs: the measured duration of the upgrade itself (the data-dir upgrade or migration, not the whole CI
    run or deploy) set against the old window (the value the change replaces, or the engine's default where the base
    sets none; the new value the PR sets is not the old window), the measured duration being the longer. The PR's
    changes are what it changes since its merge base (`merge_base`, as its files list shows), never a diff against
    the base branch's current head (`base.sha` moves as the base branch moves). `skip` when the PR carries no such
    change.
    """
    number, pr = facts.correct_pr_number, facts.correct_pr
    if number is None or pr is None:
        return failed("There is no correct PR to judge.")
    files = facts.pr_part(number, "files")
    contents = facts.gitea.get("contents") or {}
    # The PR's own change is from its merge base; base.sha is the base branch's head now and
    # moves as the branch moves (services/convert/pull.go), so it is never the other side.
    base_sha, head = str(pr.get("merge_base") or ""), head_sha(pr)
    if not base_sha and any(compose_diff.is_compose_file(f.get("filename", "")) for f in files):
        return errored(f"Gitea gave PR #{number} no merge_base: its own change cannot be told from "
                       "later commits on the base branch.", [ev_pr(facts, number)])
    base_text: dict[str, str | None] = {}
    head_text: dict[str, str | None] = {}
    for changed in files:
        name = changed.get("filename", "")
        if compose_diff.is_compose_file(name):
            old = changed.get("previous_filename") or name
            # compose_diff reads the base side under the file's old name (renames).
            base_text[old] = contents.get(f"{base_sha}:{old}")
            head_text[name] = contents.get(f"{head}:{name}")
    try:
        report = compose_diff.classify_changes(files, base_text, head_text, fix_keys=facts.phase.fix_keys)
        _env_sample_upgrade(report, contents, base_sha, head)
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
    # gates.md: "a comment (by anyone) or the state file justifies them".
    texts = [(f"comment {c.get('id')}", c.get("body") or "") for c in facts.comments(number)]
    assert facts.state is not None
    texts.append((facts.state.path, facts.state.text))
    # The numbers are checked against the diff: the old window is a value the change replaces.
    windows = justification.windows_from_changes(report.timing)
    notes: list[str] = []
    found = justification.find_justification(texts, windows, notes)
    if found is None:
        why = f" Not taken: {'; '.join(notes[:4])}." if notes else ""
        return failed(f"PR #{number} changes deploy timing ({listing([c.path for c in report.timing])}) but no "
                      "comment or state file sets the measured duration of the upgrade itself against the old "
                      "window (the value the change replaces), the measured being the longer." + why, ev)
    ev.append(evidence("justification", found.source, measured=f"{found.measured_seconds:g} s",
                       old_window=f"{found.window_seconds:g} s",
                       matched=found.matched or "the diff shows no duration to match",
                       measured_text=_short(found.measured_text), window_text=_short(found.window_text)))
    return passed(f"PR #{number} changes only deploy timing and health settings, justified in {found.source}.", ev)


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


def tests_intact(facts: Facts) -> Verdict:
    """M2.tests-intact (gates.md) passes when the PR touches none of the phase's test paths, and the test repository
    has no commit on them since the phase began.
    """
    number = facts.correct_pr_number
    phase = facts.phase
    ev: list[dict[str, Any]] = [evidence("test-path", str(tp)) for tp in phase.test_paths]
    problems = []
    if number is not None:
        for changed in facts.pr_part(number, "files"):
            name = changed.get("filename", "")
            for tp in phase.test_paths:
                if tp.repo == phase.repo and tp.covers(name):
                    problems.append(f"PR #{number} touches {name}")
    for key, commits in (facts.gitea.get("test_commits") or {}).items():
        for commit in commits:
            sha = commit.get("sha", "")
            when = maybe_time(commit.get("created") or ((commit.get("commit") or {}).get("author") or {}).get("date"))
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
    finished build, links that build by its Drone URL, and states the verdict.
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
    ev.append(ev_comment(facts, number, last))
    n = int(latest["number"])
    body = last.get("body") or ""
    problems = []
    finished = facts.finished_at(latest)
    if finished is None or parse_time(last["created_at"]) <= finished:
        problems.append(f"it is older than build #{n}")
    if n not in citations.build_urls(body, facts.phase.drone_repo):
        problems.append(f"it does not link build #{n} by its Drone URL")
    if not citations.verdict_words(body):
        problems.append("it states no verdict (green, passed, red, failed or blocked)")
    if problems:
        return failed(f"The last builder comment on PR #{number} (comment {last.get('id')}) does not explain "
                      f"the state: " + "; ".join(problems) + ".", ev)
    return passed(f"Comment {last.get('id')} links build #{n} and states the verdict.", ev)


def no_leaks(swarm: dict[str, Any], phase: Phase, polled_seconds: float = 0.0) -> Verdict:
    """M2.no-leaks (gates.md) passes when the Swarm holds no stack, service, container, volume, network, secret or
    config whose name matches the phase's leak patterns (`ghos-*`, `dev-ghost*`).
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
        why = classify.contradiction(item.cls, log, signature_families(facts))
        if why:
            problems.append(f"build #{n} is classified {item.cls}, but its {why}")
    if problems:
        return failed("Classification incomplete or wrong: " + "; ".join(problems) + ".", ev)
    return passed(f"Every red build of PR #{number} on {day} is classified, consistently with its log.", ev)
