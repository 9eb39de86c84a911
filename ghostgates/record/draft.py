"""The Builder's draft: the statements and state-file lines the evidence already says (issue 17).

gates.md: what a gate decides on from comments is *stated* (`Build:`, `Verdict:`, `Class:`,
`Blocker:`, `Upgrade took:`, `Old window:`, `Superseded by:`), and "the suite's Builder flow
drafts these lines from the evidence, so nobody has to remember them". This module writes that
draft from the facts, the classifier and the upgrade markers: one part per thing to post or
edit. It posts nothing and writes no file (the plugin writes the Markdown where it is asked to).
What the evidence cannot say (what blocks a red PR; an upgrade duration no log measures) is a
placeholder, `<fill in: ...>`, that reads as no statement (a reader sees an HTML tag, not text),
and its part names the requirement that fails until it is filled.

Pure: Facts in, text out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from ghostgates.judge import classify, compose_diff, justification, upgrade
from ghostgates.judge.facts import GREEN, RED, Facts, MembershipHidden, head_branch, head_sha
from ghostgates.judge.rules import m2
from ghostgates.judge.rules.common import upgrade_markers
from ghostgates.read import statements as st
from ghostgates.read.statefile import status_name
from ghostgates.record import escape
from ghostgates.timeutil import parse_time

FILL = "<fill in: {what}>"
_FILL = re.compile(r"<fill in: [^>]*>")
COMMENT, STATUS = "comment", "status"


@dataclass(frozen=True)
class Part:
    """One thing to post or edit: a comment's body, or a state file section's lines."""

    kind: str  # COMMENT or STATUS
    target: str  # the PR number for a comment, the section title for the state file
    heading: str  # the draft's level-2 heading
    body: str  # the text to post, or the section's lines
    notes: tuple[str, ...] = ()  # what to do with it; which requirement fails until a placeholder is filled

    @property
    def placeholders(self) -> list[str]:
        return _FILL.findall(self.body)


@dataclass
class Draft:
    name: str  # the phase's name: STATUS-<name>.md
    parts: list[Part] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the draft could not write, and why


def _fill(what: str) -> str:
    return FILL.format(what=what)


def make(facts: Facts, markers: tuple[upgrade.Markers, ...] | None = None) -> Draft:
    """The draft for the run's evidence (see the module doc); `markers` default to the upgrade markers
    of the families whose tables apply to the correct PR."""
    if markers is None:
        markers = upgrade_markers(facts)
    draft = Draft(facts.phase.state_name)
    number, pr = facts.correct_pr_number, facts.correct_pr
    if number is None or pr is None:
        draft.notes.append("There is no correct PR (the state file declares none and the phase names none that "
                           "exists): declare it first.")
        return draft
    windows, why_not = _timing_windows(facts, number)
    if why_not:
        draft.notes.append(why_not)
    timing_lines = _timing_lines(facts, number, windows, markers)
    _final_comment(facts, draft, number, timing_lines)
    _duplicates(facts, draft, number)
    _status(facts, draft, number, timing_lines)
    return draft


# -- the correct PR's final comment ------------------------------------------------------------------
@dataclass(frozen=True)
class _Timing:
    """The justification lines of a timing fix, and the build they speak of."""

    build: int
    lines: tuple[str, ...]
    notes: tuple[str, ...]


def _timing_windows(facts: Facts, number: int) -> tuple[list[justification.Window], str]:
    """The timing keys the PR changes since its merge base (none where it makes no timing change)."""
    pr = facts.correct_pr or {}
    try:
        report = m2.pr_compose_changes(facts, pr, facts.pr_part(number, "files"))
    except compose_diff.ComposeError as exc:
        return [], f"The PR's compose files could not be read ({exc}): no `Upgrade took`/`Old window` drafted."
    return justification.windows_from_changes(report.timing), ""


# The window a data-dir upgrade outlasts first: the update monitor judges the task, then the health check.
_WINDOW_ORDER = ("update_config.monitor", "healthcheck.start_period", "rollback_config.monitor", "stop_grace_period",
                 "healthcheck.timeout", "healthcheck.interval")


def _rank(key: str) -> int:
    return _WINDOW_ORDER.index(key) if key in _WINDOW_ORDER else len(_WINDOW_ORDER)


def _timing_lines(facts: Facts, number: int, windows: list[justification.Window],
                  markers: tuple[upgrade.Markers, ...]) -> _Timing | None:
    """`Upgrade took` (measured from the markers of the latest build whose log shows them) and `Old window`
    (the first duration key the PR changes, with its merge-base value or `default`)."""
    if not windows:
        return None
    durations = sorted((w for w in windows if w.old_seconds is not None), key=lambda w: _rank(w.key))
    window = durations[0] if durations else windows[0]
    if len({w.service for w in windows if w.key == window.key}) > 1:
        old = f"Old window: {window.service}.{window.old_text()}"
    else:
        old = f"Old window: {window.old_text()}"
    finished = [b for b in facts.builds_of_pr(number) if b.get("status") in GREEN + RED]
    for build in sorted(finished, key=lambda b: -int(b["number"])):
        measured = upgrade.measure(facts.log(int(build["number"])), markers)
        if measured is not None:
            n = int(build["number"])
            return _Timing(n, (f"Upgrade took: {st.format_seconds(measured.seconds)}", old),
                           (f"`Upgrade took` is measured from build #{n}'s {measured.family} upgrade markers "
                            f"({_code(_short(measured.start_line))} to {_code(_short(measured.end_line))}).",))
    latest = facts.latest_finished(facts.builds_of_pr(number))
    n = int(latest["number"]) if latest else 0
    return _Timing(n, (f"Upgrade took: {_fill('the upgrade itself, from the db log, e.g. 96 s')}", old),
                   ("No build's log carries the upgrade markers with timestamps: measure the upgrade itself "
                    "(not the CI run or the deploy) and fill in `Upgrade took`; M2.fix-minimal fails until then "
                    "(and M2.outcome, where the build is red).",))


def _final_comment(facts: Facts, draft: Draft, number: int, timing: _Timing | None) -> None:
    latest = facts.latest_finished(facts.builds_of_pr(number))
    if latest is None:
        draft.notes.append(f"PR #{number} has no finished build: run a `!testme` and let it finish before the final "
                           "comment (M1.fresh-run, M2.outcome and M2.comments-explain fail until then).")
        return
    n = int(latest["number"])
    if not facts.is_post_proxy_build(latest):
        draft.notes.append(f"PR #{number}'s latest finished build #{n} started before the proxy fix: run one fresh "
                           "`!testme` and let it finish before the final comment (M1.fresh-run and M2.outcome fail "
                           "until then).")
        return
    status = str(latest.get("status"))
    red = status in RED
    lines = [f"Build: #{n}", f"Verdict: {'red' if red else 'green'}"]
    notes = [f"Post as a comment on PR #{number} ({facts.pr_url(number)}), after build #{n} finished."]
    if red:
        log = facts.log(n)
        cls = classify.classify_log(log, facts.signature_families).cls if log is not None else classify.UNKNOWN
        lines.append(f"Class: {cls}")
        lines.append(f"Blocker: {_fill('what blocks the PR, in at least three words')}")
        notes.append("Fill in `Blocker`: M2.outcome fails until it states what blocks the PR.")
        if log is None:
            notes.append(f"The log of build #{n} was not read: `Class: unknown` is not a guess, correct it from "
                         "the log.")
    if timing is not None and timing.build == n:
        lines.extend(timing.lines)
        notes.extend(timing.notes)
    sha = facts.param(latest, "sha")[:10]
    sentence = (f"Build #{n} ({facts.build_url(n)}) is {'red' if red else 'green'} on {sha or 'the head'}"
                + (": the blocker is stated above; not merging." if red else ": ready for operator review; not "
                   "merging."))
    draft.parts.append(Part(COMMENT, str(number), f"Comment on PR #{number}", "\n".join(lines) + "\n\n" + sentence,
                            tuple(notes)))


# -- duplicates --------------------------------------------------------------------------------------
def _duplicates(facts: Facts, draft: Draft, number: int) -> None:
    # The rule's own reading of which PRs are duplicates and which comment resolves one.
    for pr in m2.duplicates(facts):
        n = int(pr["number"])
        try:
            found, _ = m2.superseding_comment(facts, n, number)
        except MembershipHidden:
            found = None  # whose comment it is cannot be seen: a builder's own comment settles it
        if found is not None:
            continue
        notes = [f"Post as a comment on PR #{n} ({facts.pr_url(n)}), as a builder."]
        if pr.get("state") != "closed":
            notes.append(f"Then close PR #{n} unmerged: M2.one-open-pr and M2.duplicates-resolved fail while it "
                         "is open.")
        body = f"Superseded by: PR #{number}\n\nClosing this duplicate unmerged: PR #{number} carries the same upgrade."
        draft.parts.append(Part(COMMENT, str(n), f"Comment on PR #{n}", body, tuple(notes)))


# -- the state file ----------------------------------------------------------------------------------
def _status(facts: Facts, draft: Draft, number: int, timing: _Timing | None) -> None:
    file = status_name(facts.phase)
    pr = facts.correct_pr or {}
    phase = facts.phase
    inventory = [f"- correct PR: PR #{number} ({facts.pr_url(number)}), branch {_code(head_branch(pr))}, head "
                 f"{head_sha(pr)[:10]}."]
    named = {head_branch(pr)}
    for other in facts.upgrade_prs:
        n = int(other["number"])
        if n == number or other.get("state") != "open" and not _newer(other, pr):
            continue
        state = "open" if other.get("state") == "open" else ("merged" if other.get("merged") else "closed")
        inventory.append(f"- PR #{n} ({facts.pr_url(n)}), branch {_code(head_branch(other))}: {state}, superseded by "
                         f"PR #{number}.")
        named.add(head_branch(other))
    default = (facts.gitea.get("repo") or {}).get("default_branch", phase.default_branch)
    for branch in facts.gitea.get("branches", []):
        name = branch.get("name", "")
        if name and name not in named and name not in (default, phase.default_branch) and phase.matches_branch(name):
            inventory.append(f"- branch {_code(name)}: an upgrade branch.")
    builds = facts.builds_of_pr(number)
    if builds:
        inventory.append(f"- builds of PR #{number}: " + ", ".join(f"build #{int(b['number'])}" for b in builds) + ".")
    draft.parts.append(Part(STATUS, "Inventory", f"{file}: Inventory", "\n".join(inventory),
                            (f"The lines for `## Inventory` in {file} (M1.inventory).",)))
    current = [f"- build #{int(b['number'])} ({facts.build_url(int(b['number']))}): {_colour(b)} on "
               f"{facts.param(b, 'sha')[:10]}." for b in facts.post_proxy_builds(number)
               if b.get("status") in GREEN + RED]
    if current:
        draft.parts.append(Part(STATUS, "Current evidence", f"{file}: Current evidence", "\n".join(current),
                                (f"The lines for `## Current evidence` in {file}: post-proxy builds of PR #{number} "
                                 "only (M1.no-stale-evidence).",)))
    classified = []
    for b in builds:
        if b.get("status") not in RED:
            continue
        n = int(b["number"])
        log = facts.log(n)
        cls = classify.classify_log(log, facts.signature_families).cls if log is not None else classify.UNKNOWN
        created = facts.created(b)
        day = created.astimezone(UTC).date().isoformat() if created else "undated"
        classified.append(f"- build #{n} ({day}): {cls}." + ("" if log is not None else " (its log was not read)"))
    if classified:
        draft.parts.append(Part(STATUS, "Classification", f"{file}: Classification", "\n".join(classified),
                                (f"The lines for `## Classification` in {file}, each class the classifier's "
                                 "(M2.classified, M1.no-stale-evidence).",)))
    latest = facts.latest_finished(builds)
    if timing is not None and (latest is None or timing.build != int(latest["number"])
                               or not facts.is_post_proxy_build(latest)):
        body = "\n".join([f"- Build: #{timing.build}", *(f"- {line}" for line in timing.lines)])
        draft.parts.append(Part(STATUS, "Justification", f"{file}: Justification", body,
                                (f"The lines for `## Justification` in {file} (M2.fix-minimal): the build whose "
                                 "log measures the upgrade is not the one the final comment names.",
                                 *timing.notes)))


def _newer(pr: dict[str, Any], correct: dict[str, Any]) -> bool:
    try:
        return parse_time(pr["created_at"]) >= parse_time(correct["created_at"])
    except (KeyError, ValueError):
        return True


def _colour(build: dict[str, Any]) -> str:
    return "green" if build.get("status") in GREEN else "red"


def _code(text: str) -> str:
    """A server's text as Markdown code on one line: control characters (a newline that would start
    a state-file line of its own) shown as visible escapes, a backtick that would end the span
    replaced, bounded."""
    return "`" + escape.terminal(text[:200]).replace("`", "'") + "`"


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- Markdown ----------------------------------------------------------------------------------------
HEADING = "# Builder's draft"  # the first line of every draft (plugins/draft.py replaces only a draft)


def render(draft: Draft) -> str:
    """The draft as Markdown: a level-2 section per part, its text in a `~~~markdown` fence."""
    out = [HEADING, "",
           "Nothing here was posted and no state file was written. Each section below is one thing to post or "
           "edit; use the text in its fence as it stands. A `<fill in: ...>` placeholder states nothing until "
           "it is replaced: its section says which requirement fails until then.", ""]
    for note in draft.notes:
        out += [f"- {note}"]
    if draft.notes:
        out.append("")
    for part in draft.parts:
        out += [f"## {part.heading}", ""]
        out += [f"- {note}" for note in part.notes]
        if part.placeholders:
            out.append(f"- Placeholders to fill: {len(part.placeholders)}.")
        out += ["", "~~~markdown", part.body, "~~~", ""]
    return "\n".join(out)


_SECTION = re.compile(r"^## (?P<heading>.+?)\n(?P<rest>.*?)^~~~markdown\n(?P<body>.*?)\n^~~~$", re.M | re.S)


def parse(text: str) -> list[Part]:
    """The parts of a rendered draft (to apply it: the body of each section's fence)."""
    out: list[Part] = []
    for m in _SECTION.finditer(text):
        heading = m.group("heading").strip()
        if heading.startswith("Comment on PR #"):
            out.append(Part(COMMENT, heading.removeprefix("Comment on PR #"), heading, m.group("body")))
        elif ": " in heading:
            out.append(Part(STATUS, heading.split(": ", 1)[1], heading, m.group("body")))
    return out
