"""Statements, not prose (gates.md 2026-12-02, "What the gates read from comments: statements").

Each rule of the statements section on both sides: where a line states (a list item, emphasis,
any letter case, a reference with words beside it) and where it does not (a fence, an HTML
comment, a block quote, a key given twice naming different things, two references, each
non-answer, too few words), for the four requirements that read statements: M2.duplicates-resolved
(`Superseded by`), M2.outcome (`Build`, `Blocker`), M2.comments-explain (`Build`, `Verdict`) and
M2.fix-minimal (`Build`, `Upgrade took`, `Old window`, in a comment or the state file's
`## Justification`). And the prose the issue found read as statements: it now states nothing.
"""

from __future__ import annotations

from typing import Any

from make_worlds import (
    BUILDER,
    CORRECT,
    DRONE,
    DUP,
    FIX_SHA,
    GITEA,
    JUSTIFYING,
    RED_287,
    World,
    add_comment,
    comment,
    mut,
    pull,
    set_state,
    state,
    timing_fix,
)


def _last_builder(w: World) -> dict[str, Any]:
    return [c for c in pull(w, CORRECT)["comments"] if c["user"]["login"] == BUILDER][-1]


# ---- M2.duplicates-resolved: `Superseded by` -----------------------------------------------------
def _dup_says(name: str, about: str, body: str, fails: bool) -> None:
    def mutate(w: World) -> None:
        comment(w, DUP, 504)["body"] = body

    mut(name, about, **({"fail": ("M2.duplicates-resolved",)} if fails else {}))(mutate)


_dup_says("stmt-superseded-in-fence", "the duplicate's `Superseded by: PR #12` is inside a fenced code block",
          "Closing this duplicate.\n\n```\nSuperseded by: PR #12\n```", True)
_dup_says("stmt-superseded-in-html-comment", "the duplicate's `Superseded by: PR #12` is inside an HTML comment",
          "Closing this duplicate.\n\n<!--\nSuperseded by: PR #12\n-->", True)
_dup_says("stmt-superseded-in-block-quote", "the duplicate's `Superseded by: PR #12` is quoted (`> `): a quote "
          "states nothing", "Closing this duplicate, as hedda asked:\n\n> Superseded by: PR #12", True)
_dup_says("stmt-superseded-in-list-item", "the duplicate's `- Superseded by: PR #12` is a list item: it states",
          "Closing this duplicate.\n\n- Superseded by: PR #12\n- Branch: deleted", False)
_dup_says("stmt-superseded-upper-case-emphasis", "`**SUPERSEDED BY:** PR #12`: emphasis and letter case are "
          "markup", "**SUPERSEDED BY:** PR #12", False)
_dup_says("stmt-superseded-by-url", "`Superseded by:` gives the correct PR by its Gitea URL",
          f"Superseded by: {GITEA}/pulls/12", False)
_dup_says("stmt-superseded-repeated-same", "`Superseded by:` given twice, `PR #12` and `#12`: the same PR",
          "Superseded by: PR #12\n\nClosing.\n\nSuperseded by: #12", False)
_dup_says("stmt-superseded-repeated-different", "`Superseded by:` given twice naming PR #12 and PR #15: states "
          "nothing", "Superseded by: PR #12\nSuperseded by: PR #15", True)
_dup_says("stmt-superseded-two-refs", "`Superseded by: PR #12 or PR #15`: a value with two references names none",
          "Superseded by: PR #12 or PR #15", True)
_dup_says("stmt-superseded-names-itself", "`Superseded by: PR #14` on PR #14: the reverse direction names the "
          "wrong PR", "PR #12 is the duplicate here.\n\nSuperseded by: PR #14", True)
_dup_says("stmt-superseded-prose-only", "`closed as superseded by PR #12` in prose, no statement",
          "Closed as superseded by PR #12, which carries the same upgrade.", True)


# ---- M2.outcome: `Build` and `Blocker` on the red build #288 --------------------------------------
def _red_says(name: str, about: str, body: str, fails: tuple[str, ...] = ("M2.outcome",)) -> None:
    def mutate(w: World) -> None:
        timing_fix(w, final="failure")
        _last_builder(w)["body"] = f"build #288 ({DRONE}/288) failed on {FIX_SHA[:10]}.\n\n" + body

    mut(name, about, passes=("M2.fix-minimal",), **({"fail": fails} if fails else {}))(mutate)


for _answer in ("unknown", "unclear", "not known", "not yet known", "tbd", "todo", "to be determined", "n/a",
                "none", "nothing", "?"):
    _slug = {"?": "question-mark", "n/a": "n-a"}.get(_answer, _answer.replace(" ", "-"))
    _red_says(f"stmt-blocker-non-answer-{_slug}", f"`Blocker: {_answer} ...` begins with a non-answer: no blocker",
              f"Build: #288\nVerdict: red\nBlocker: {_answer} at this point, still looking into the migration")
_red_says("stmt-blocker-non-answer-later", "the non-answer words come after the blocker (`... the cause is not known "
          "yet`): it states one", "Build: #288\nVerdict: red\nBlocker: ghost's post-revisions migration fails; the "
          "cause is not known yet", ())
_red_says("stmt-blocker-two-words", "`Blocker: upstream migration`: fewer than three words",
          "Build: #288\nVerdict: red\nBlocker: upstream migration")
_red_says("stmt-blocker-plain-words", "`Blocker:` in plain words (the stale-test blocker the prose reader failed)",
          "Build: #288\nVerdict: red\nClass: stale-test\nBlocker: the upgrade test is stale: it asserts the old "
          "version 6.42.0", ())
_red_says("stmt-blocker-list-upper-emphasis", "`- **BLOCKER:** ...` in a list, emphasised, upper case: it states",
          "- Build: #288\n- Verdict: red\n- **BLOCKER:** ghost 6.44.1 crash-loops on its post-revisions migration",
          ())
_red_says("stmt-blocker-in-block-quote", "the only `Blocker:` is quoted from another comment",
          "Build: #288\nVerdict: red\n\n> Blocker: ghost 6.44.1 crash-loops on its post-revisions migration")
_red_says("stmt-blocker-in-fence", "the only `Blocker:` is inside a fenced code block",
          "Build: #288\nVerdict: red\n\n```\nBlocker: ghost 6.44.1 crash-loops on its post-revisions migration\n```")
_red_says("stmt-blocker-in-html-comment", "the only `Blocker:` is inside an HTML comment",
          "Build: #288\nVerdict: red\n<!-- Blocker: ghost 6.44.1 crash-loops on its post-revisions migration -->")
_red_says("stmt-blocker-other-build", "the comment after #288 states `Build: #287` and a blocker: it speaks of the "
          "older build", "Build: #287\nBlocker: the 5 s default update monitor pauses the db update",
          ("M2.outcome", "M2.comments-explain"))
_red_says("stmt-blocker-no-build", "a blocker stated without any `Build:` line",
          "Verdict: red\nBlocker: ghost 6.44.1 crash-loops on its post-revisions migration",
          ("M2.outcome", "M2.comments-explain"))
_red_says("stmt-blocker-repeated-different", "`Blocker:` given twice with different values: states nothing",
          "Build: #288\nVerdict: red\nBlocker: ghost 6.44.1 crash-loops on its migration\nBlocker: the harness "
          "image lacks the mysql client")
_red_says("stmt-blocker-repeated-same", "`Blocker:` given twice with the same words, in another letter case",
          "Build: #288\nVerdict: red\nBlocker: ghost crash-loops on its migration\nBLOCKER: Ghost crash-loops on "
          "its migration", ())
_red_says("stmt-build-words-beside", "`Build: #288 (the run after the fix)`: words beside the reference are prose",
          "Build: #288 (the run after the fix)\nVerdict: red\nBlocker: ghost 6.44.1 crash-loops on its migration", ())
_red_says("stmt-build-two-refs", "`Build: #288 and #287`: a value with two references names none",
          "Build: #288 and #287\nVerdict: red\nBlocker: ghost 6.44.1 crash-loops on its migration",
          ("M2.outcome", "M2.comments-explain"))
_red_says("stmt-build-repeated-different", "`Build:` given twice, #288 and #287: states no build",
          "Build: #288\nBuild: #287\nVerdict: red\nBlocker: ghost 6.44.1 crash-loops on its migration",
          ("M2.outcome", "M2.comments-explain"))
_red_says("stmt-blocker-prose-only", "the blocker only in prose (`The blocker is not known yet`, `not for infra`)",
          "Build: #288\nVerdict: red\n\nThe blocker is not known yet, but it is not for infra this time.")
_red_says("stmt-verdict-green-on-red", "`Verdict: green` on the red build #288: the verdict disagrees",
          "Build: #288\nVerdict: green\nBlocker: ghost 6.44.1 crash-loops on its post-revisions migration",
          ("M2.comments-explain",))


# ---- M2.comments-explain: `Build` and `Verdict` on the green build #287 ----------------------------
def _green_says(name: str, about: str, body: str, fails: bool) -> None:
    def mutate(w: World) -> None:
        comment(w, CORRECT, 410)["body"] = f"Post-proxy run: build #287 ({DRONE}/287) on 0f9a69bfb2.\n\n" + body

    mut(name, about, **({"fail": ("M2.comments-explain",)} if fails else {}))(mutate)


_green_says("stmt-verdict-red-on-green", "`Verdict: red` on the green build #287: the verdict disagrees",
            "Build: #287\nVerdict: red", True)
_green_says("stmt-verdict-not-a-word", "`Verdict: passed`: the value is green, red or blocked",
            "Build: #287\nVerdict: passed", True)
_green_says("stmt-verdict-upper-case", "`VERDICT: GREEN`: key and value in any letter case",
            "BUILD: #287\nVERDICT: GREEN", False)
_green_says("stmt-verdict-in-fence", "`Verdict: green` only inside a fenced code block",
            "Build: #287\n\n```\nVerdict: green\n```", True)
_green_says("stmt-verdict-in-block-quote", "`Verdict: green` only in a block quote", "Build: #287\n\n> Verdict: green",
            True)
_green_says("stmt-verdict-repeated-different", "`Verdict:` given twice, green and red", "Build: #287\n"
            "Verdict: green\nVerdict: red", True)
_green_says("stmt-verdict-list-items", "the statements as list items", "- Build: #287\n- Verdict: green", False)
_green_says("stmt-build-names-older", "`Build: #280` on the comment after #287: not its latest finished build",
            "Build: #280\nVerdict: green", True)
_green_says("stmt-build-by-url", "`Build:` gives #287 by its Drone URL", f"Build: {DRONE}/287\nVerdict: green",
            False)
_green_says("stmt-verdict-prose-only", "`green` in prose, no `Verdict:` line", "Build: #287\n\nIt is green.", True)


# ---- M2.fix-minimal: `Build`, `Upgrade took`, `Old window` ---------------------------------------
def _fix_says(name: str, about: str, lines: str, fails: bool) -> None:
    """The builder's comment on red #287 states the red lines and `lines` in place of the justification."""
    def mutate(w: World) -> None:
        timing_fix(w, justify=False)
        comment(w, CORRECT, 410)["body"] = RED_287 + lines

    mut(name, about, **({"fail": ("M2.fix-minimal",)} if fails else {"passes": ("M2.fix-minimal",)}))(mutate)


_fix_says("stmt-upgrade-took-min-sec", "`Upgrade took: 1 min 36 s`", "Upgrade took: 1 min 36 s\n"
          "Old window: update_config.monitor default\n", False)
_fix_says("stmt-upgrade-took-about", "`Upgrade took: about 96 s`: not a duration (and the MySQL notes' figure in "
          "prose is no measurement)", "Upgrade took: about 96 s, as the MySQL 8.4 upgrade notes say\n"
          "Old window: update_config.monitor default\n", True)
_fix_says("stmt-upgrade-not-longer", "`Upgrade took: 4 s` against the 5 s default monitor: not longer",
          "Upgrade took: 4 s\nOld window: update_config.monitor default\n", True)
_fix_says("stmt-old-window-start-period-default", "`Old window: healthcheck.start_period default` (the base sets "
          "none; the engine's 0s)", "Upgrade took: 96 s\nOld window: healthcheck.start_period default\n", False)
_fix_says("stmt-old-window-key-unchanged", "`Old window: healthcheck.interval 10s`: a key the PR does not change",
          "Upgrade took: 96 s\nOld window: healthcheck.interval 10s\n", True)
_fix_says("stmt-old-window-in-fence", "`Upgrade took` and `Old window` only inside a fenced code block",
          "\n```\nUpgrade took: 96 s\nOld window: update_config.monitor default\n```\n", True)
_fix_says("stmt-upgrade-took-repeated-different", "`Upgrade took:` given twice, 96 s and 240 s",
          "Upgrade took: 96 s\nUpgrade took: 240 s\nOld window: update_config.monitor default\n", True)
_fix_says("stmt-justification-prose-only", "the measurement in prose only (\"a data-dir upgrade needs about 96 s\")",
          "\nAccording to the MySQL 8.4 upgrade notes, a data-dir upgrade needs about 96 s, far more than the "
          "5 s default monitor.\n", True)


@mut("stmt-justification-build-of-duplicate", "the justification's `Build: #279` is a build of duplicate PR 14",
     fail=("M2.fix-minimal",))
def _fix_other_pr_build(w: World) -> None:
    timing_fix(w, justify=False)
    add_comment(w, CORRECT, BUILDER, "Measured on the retry:\n\nBuild: #279\n" + JUSTIFYING, "2026-07-15T13:20:00Z")


def _state_justification(w: World, body: str) -> None:
    timing_fix(w, justify=False)
    text = state(w)
    assert "\n## Log\n" in text
    set_state(w, text.replace("\n## Log\n", f"\n## Justification\n{body}\n## Log\n"))


@mut("stmt-state-justification", "the state file's `## Justification` states the three lines; no comment does",
     passes=("M2.fix-minimal",))
def _state_ok(w: World) -> None:
    _state_justification(w, "The data-dir upgrade, from build #287's db log:\n\n- Build: #287\n- Upgrade took: 96 s\n"
                            "- Old window: db.update_config.monitor default\n")


@mut("stmt-state-justification-in-html-comment", "the state file's `## Justification` holds its lines in an HTML "
     "comment", fail=("M2.fix-minimal",))
def _state_hidden(w: World) -> None:
    _state_justification(w, "<!--\nBuild: #287\nUpgrade took: 96 s\nOld window: update_config.monitor default\n-->\n")


@mut("stmt-state-lines-outside-justification", "the three lines stand in the state file, but under `## Log`, not "
     "`## Justification`", fail=("M2.fix-minimal",))
def _state_elsewhere(w: World) -> None:
    timing_fix(w, justify=False)
    set_state(w, state(w).rstrip("\n").replace("\n## DONE", "") + "\n- Build: #287\n- Upgrade took: 96 s\n"
              "- Old window: update_config.monitor default\n\n## DONE\n")


# ---- a `Build:` statement cites its build (M2.evidence-kept reads builder comments' citations) -----
def _cited_only_by_statement(w: World, hidden: bool) -> None:
    timing_fix(w)
    build_line = "<!-- Build: #287 -->" if hidden else "Build: #287"
    comment(w, CORRECT, 410)["body"] = (
        "The db update paused while MySQL upgraded its data directory.\n\n" + build_line + "\nVerdict: red\n"
        "Blocker: the 5 s default update monitor pauses the db update\n" + JUSTIFYING)
    last = _last_builder(w)
    last["body"] = last["body"].replace("; build #287 was the recipe-timing failure described above", "")
    assert "#287" not in last["body"]


@mut("stmt-build-statement-cites", "red build #287 is cited in a builder comment only by its `Build: #287` statement",
     passes=("M2.fix-minimal",))
def _cites_by_statement(w: World) -> None:
    _cited_only_by_statement(w, hidden=False)


@mut("stmt-build-statement-in-html-comment", "red build #287's only citation in a comment is a `Build:` line inside "
     "an HTML comment: it cites nothing and states nothing", fail=("M2.fix-minimal", "M2.evidence-kept"))
def _cites_hidden(w: World) -> None:
    _cited_only_by_statement(w, hidden=True)


# ---- `Old window` where the PR changes the key in two services: the service must be named -----------
def _monitor_in_two_services(w: World, old_window: str) -> None:
    timing_fix(w)
    contents = next(iter(w["gitea"]["repos"].values()))["contents"][FIX_SHA]
    anchor = "      restart_policy:\n        condition: on-failure\n"
    assert contents["compose.yml"].count(anchor) == 1
    contents["compose.yml"] = contents["compose.yml"].replace(
        anchor, anchor + "      update_config:\n        monitor: 120s\n")
    c = comment(w, CORRECT, 410)
    c["body"] = c["body"].replace("Old window: update_config.monitor default", f"Old window: {old_window}")


@mut("stmt-old-window-two-services-unnamed", "the PR sets update_config.monitor in app and db; `Old window: "
     "update_config.monitor default` names no service", fail=("M2.fix-minimal",))
def _two_unnamed(w: World) -> None:
    _monitor_in_two_services(w, "update_config.monitor default")


@mut("stmt-old-window-two-services-named", "the PR sets update_config.monitor in app and db; `Old window: "
     "db.update_config.monitor default` names the service", passes=("M2.fix-minimal",))
def _two_named(w: World) -> None:
    _monitor_in_two_services(w, "db.update_config.monitor default")
