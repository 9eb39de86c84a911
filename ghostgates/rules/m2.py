"""M2: operator-ready outcome (gates.md)."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

from .. import citations, classify, compose_diff, justification
from ..facts import GREEN, RED, Facts, head_sha
from ..phase import Phase
from ..swarm import named_objects
from ..timeutil import maybe_time, parse_time
from ..verdict import Verdict, evidence, failed, passed, skipped
from .common import ev_build, ev_comment, ev_pr, ev_state, listing, state_missing

# A duplicate's closing comment points at the correct PR in words like these; citing it alone
# ("see PR #4") does not say that PR #4 supersedes it.
SUPERSEDING = re.compile(r"supersed|duplicat|replac|in favou?r of|in place of|instead|continued in|moved to|"
                         r"tracked in|obsolete|clos(e|ed|ing)\b", re.I)
BLOCKER = re.compile(r"(?<![\w-])(blocker|blocked|blocking)(?![\w-])", re.I)


def one_open_pr(facts: Facts) -> Verdict:
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


def duplicates_resolved(facts: Facts) -> Verdict:
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
        marking = None
        for comment in facts.comments(n):
            login = (comment.get("user") or {}).get("login", "")
            body = comment.get("body") or ""
            if (facts.is_builder(login) or facts.is_member(login)) and correct in citations.cited_prs(
                    body, facts.phase.repo) and SUPERSEDING.search(body):
                marking = comment
        if marking is None:
            problems.append(f"PR #{n} has no comment saying PR #{correct} supersedes it")
        else:
            ev.append(ev_comment(facts, n, marking))
    if problems:
        return failed("Duplicates not resolved: " + "; ".join(problems) + ".", ev)
    if not dupes:
        return passed(f"No other upgrade PR was opened since PR #{correct}.", ev)
    return passed(f"Every duplicate is closed unmerged with a comment pointing to PR #{correct}.", ev)


def never_merged(facts: Facts) -> Verdict:
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
        if finished and parse_time(comment["created_at"]) > finished \
                and n in citations.cited_builds(comment.get("body") or "", facts.phase.drone_repo) \
                and (citations.verdict_words(comment.get("body") or "") or BLOCKER.search(comment.get("body") or "")):
            explained = comment
    if explained is None:
        return failed(f"Build #{n} is red on the head and no builder comment after it cites it and states "
                      "the blocker.", ev)
    ev.append(ev_comment(facts, number, explained))
    minimal = fix_minimal(facts)
    if minimal.status == "fail":
        return failed(f"Build #{n} is red and explained, but the fix is not minimal: {minimal.reason}", ev)
    if minimal.status == "error":
        return minimal
    return passed(f"Build #{n} is red on the head, and comment {explained.get('id')} states the blocker.", ev)


def fix_minimal(facts: Facts) -> Verdict:
    number, pr = facts.correct_pr_number, facts.correct_pr
    if number is None or pr is None:
        return failed("There is no correct PR to judge.")
    files = facts.pr_part(number, "files")
    contents = facts.gitea.get("contents") or {}
    base_sha, head = (pr.get("base") or {}).get("sha", ""), head_sha(pr)
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
        report = compose_diff.classify_changes(files, base_text, head_text)
    except compose_diff.ComposeError as exc:
        return Verdict("error", f"Could not read the PR's compose files: {exc}", [ev_pr(facts, number)])
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
    texts = [(f"comment {c.get('id')}", c.get("body") or "") for c in facts.comments(number)
             if facts.is_builder((c.get("user") or {}).get("login", "")) or facts.is_member(
                 (c.get("user") or {}).get("login", ""))]
    assert facts.state is not None
    texts.append((facts.state.path, facts.state.text))
    found = justification.find_justification(texts)
    if found is None:
        return failed(f"PR #{number} changes deploy timing ({listing([c.path for c in report.timing])}) but no "
                      "comment or state file sets a measured upgrade duration against the old monitor window.",
                      ev)
    ev.append(evidence("justification", found.source, detail=str(found)))
    return passed(f"PR #{number} changes only deploy timing and health settings, justified in {found.source}.", ev)


def _short(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def tests_intact(facts: Facts) -> Verdict:
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
    leaks = [(kind, name, node) for kind, name, node in named_objects(swarm)
             if name and any(fnmatchcase(name, pattern) for pattern in phase.leak_patterns)]
    ev = [evidence(kind, name, node=node or None) for kind, name, node in leaks]
    waited = f" (after polling {polled_seconds:g} s for removals to settle)" if polled_seconds else ""
    shown = [f"{k} {n}" + (f" on node {node}" if node else "") for k, n, node in leaks]
    if leaks:
        return failed(f"{len(leaks)} ghost resource(s) leaked{waited}: {listing(shown, 10)}; "
                      "remove them (volumes survive `docker stack rm`).", ev)
    nodes = sorted(swarm.get("node_volumes") or {})
    seen = f" (volumes read on {', '.join(nodes)})" if nodes else ""
    return passed(f"Nothing on the Swarm matches {', '.join(phase.leak_patterns)}{waited}{seen}.",
                  [evidence("patterns", ", ".join(phase.leak_patterns))])


def evidence_kept(facts: Facts) -> Verdict:
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
            return Verdict("error", facts.log_error(n) or f"The log of build #{n} could not be read.", ev)
        why = classify.contradiction(item.cls, log)
        if why:
            problems.append(f"build #{n} is classified {item.cls}, but its {why}")
    if problems:
        return failed("Classification incomplete or wrong: " + "; ".join(problems) + ".", ev)
    return passed(f"Every red build of PR #{number} on {day} is classified, consistently with its log.", ev)
