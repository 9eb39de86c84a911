"""`--draft FILE`: the Builder's draft of the statements and state-file lines (ghostgates.record.draft).

The run judges as always; at its end the controller (or a serial run) reads the facts the run
fetched and writes the draft, as Markdown, to FILE. It posts nothing and writes no state file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures._plan import planned
from fixtures._run import phase_of, state_of
from ghostgates.errors import GateError
from ghostgates.judge.facts import build_facts
from ghostgates.record import draft, escape
from ghostgates.record.atomic import WriteError, update_text

_DRAFT_STASH = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("ghost-gates").addoption(
        "--draft", default=None, metavar="FILE",
        help="with --role builder: write the Builder's draft (the comments to post, the state file's lines) "
             "as Markdown to FILE; posts nothing, writes no state file")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("draft", None)
    if not path:
        return
    if config.getoption("role", "adversary") != "builder":
        raise pytest.UsageError("--draft is the Builder's: run it with --role builder")
    target = Path(path)
    # The draft is the suite's own file: it never replaces one it did not write (a state file, the
    # review file, anything else given by mistake), nor writes through a link.
    if target.is_symlink():
        raise pytest.UsageError(f"--draft {path}: a symlink: the draft is written to a file of its own")
    if target.exists():
        try:
            ours = target.is_file() and target.read_text(encoding="utf-8", errors="replace").startswith(
                draft.HEADING)
        except OSError:
            ours = False
        if not ours:
            raise pytest.UsageError(f"--draft {path}: the file exists and is not an earlier draft: not replaced "
                                    "(give a new file)")
    config.stash[_DRAFT_STASH] = str(target.absolute())


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if getattr(config, "workerinput", None) is not None or _DRAFT_STASH not in config.stash:
        return
    if config.option.collectonly:
        return
    target = Path(config.stash[_DRAFT_STASH])
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    try:
        phase = phase_of(config)
        facts = build_facts(phase, state_of(config), planned(config, "gitea"), planned(config, "drone"))
        text = draft.render(draft.make(facts))
    except GateError as exc:
        if reporter is not None:
            reporter.write_line(escape.terminal(f"ghost-gates: no draft written: {exc}"))
        return
    try:
        update_text(target, lambda _old: text, read=False, follow_links=False)
    except WriteError as exc:
        if reporter is not None:
            reporter.write_line(escape.terminal(f"ghost-gates: no draft written: {exc}"))
        session.exitstatus = session.exitstatus or pytest.ExitCode.TESTS_FAILED
        return
    if reporter is not None:
        reporter.write_line(f"ghost-gates: the Builder's draft is in {target}")
