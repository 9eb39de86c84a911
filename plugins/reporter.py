"""The reporter: one result model per run (ghostgates/record/summary.py), rendered into gates.json,
the review file and the terminal; the HTML report (plugins/html.py) renders the same model.

Registered only on the xdist controller (or a serial run): workers send their reports here, so
the files are written once, from plain data, whatever `-n` was. The DONE hand-off (results
published for the DONE test, the blocks it judges) is plugins/handoff.py; the blocks themselves
are ghostgates/record/review.py.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures._run import RUN_DIR_STASH, peek
from ghostgates.catalogue import GATES
from ghostgates.errors import GateError
from ghostgates.judge.verdict import PASS, SKIP
from ghostgates.read.statefile import review_name
from ghostgates.record import escape, review, summary
from ghostgates.record.atomic import WriteError, replace_text
from ghostgates.record.summary import Result, RunReport
from ghostgates.redact import redact_text
from ghostgates.timeutil import rfc3339
from plugins.handoff import BINDING_KEY, RECORD_GATES, collected_ids, done_readiness, pending_blocks
from plugins.run import SETTINGS_STASH, Settings, _runs_gates, phase_of, settings_of, world_of
from plugins.verdicts import result_of


def pytest_configure(config: pytest.Config) -> None:
    # Workers report to the controller; only the controller writes files.
    if getattr(config, "workerinput", None) is None:
        config.pluginmanager.register(GateReporter(config), "ghost-gates-reporter")
        _check_output_paths(config)


def _check_output_paths(config: pytest.Config) -> None:
    """An output the run could never write is a usage error now, one line naming it, not a traceback later."""
    settings = config.stash.get(SETTINGS_STASH, None)
    if settings is None or not _runs_gates(config):
        return
    key = config.getoption("sign_key", None)
    if key and not Path(key).is_file():
        raise pytest.UsageError(f"--sign-key {key}: no such key file")
    wanted = [("--gates-json", settings.gates_json if settings else None),
              ("--html", getattr(config.option, "htmlpath", None)),
              ("--junitxml", getattr(config.option, "xmlpath", None))]
    for option, value in wanted:
        if not value:
            continue
        problem = unwritable(Path(value))
        if problem:
            raise pytest.UsageError(f"{option} {value}: {problem}")


def unwritable(path: Path) -> str | None:
    """Why `path` could not be written (None when it can), touching nothing."""
    path = Path(os.path.abspath(path))
    if path.is_dir():
        return "is a directory"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is not writable"
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot create files in {parent}"
    return None


def run_entry(at: str, args: list[str]) -> dict[str, Any]:
    """Which run wrote a gate: an id, its time and its arguments (any URL's userinfo redacted)."""
    return {"id": secrets.token_hex(4), "at": at, "args": " ".join(redact_text(arg) for arg in args)}


class GateReporter:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.reports: dict[str, list[pytest.TestReport]] = {}
        self.report: RunReport | None = None
        self.notes: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.setdefault(report.nodeid, []).append(report)

    # --- the model ---------------------------------------------------------------------------------

    def finish(self, session: pytest.Session) -> RunReport | None:
        """The run's result model, made once (the HTML's summary hook may ask before sessionfinish)."""
        if self.report is not None:
            return self.report
        settings = settings_of(self.config)
        found: dict[str, Result] = {}
        for reports in self.reports.values():
            data = result_of(reports)
            if data is not None:
                rid = data.pop("id")
                found[rid] = Result.from_data(rid, data, settings.state_dir)
        if not found:
            return None
        results = summary.ordered(found)
        context = self._context(settings)
        collected = collected_ids(self.config)
        gates = {}
        for gate in summary.gates_of(results):
            # Collected whole but not every requirement reported: the run stopped early (-x, --maxfail).
            stopped = set(GATES[gate]) <= collected and not set(GATES[gate]) <= set(results)
            gates[gate] = summary.gate_result(gate, results, context, stopped_early=stopped)
        report = RunReport(results, gates, dict(gates), {}, self.notes)
        self.report = report
        try:
            self._write_json(settings, report, context)
        except WriteError as exc:
            self._write_failed(session, exc)
        if settings.role == "builder":
            report.done_line = done_readiness(self.config, report, context)
        self._write_review(session, settings, report)
        return report

    def _context(self, settings: Settings) -> dict[str, Any]:
        """The record's binding as the run decided it (rules/done.record_binding), and what gates.json names."""
        run_dir = Path(self.config.stash[RUN_DIR_STASH])
        at = rfc3339(datetime.now(UTC))
        context: dict[str, Any] = {"head": "none", "build": "none", "at": at, "world": None,
                                   "source": settings.shown("gitea_url"), "role": settings.role}
        binding = peek(run_dir, BINDING_KEY)
        if binding is not None:
            context.update(binding)
        context["run"] = {**run_entry(context["at"], [str(a) for a in self.config.invocation_params.args]),
                          "role": settings.role}
        gitea, drone = peek(run_dir, "gitea"), peek(run_dir, "drone")
        if gitea is not None and drone is not None:
            swarm = peek(run_dir, "swarm") or {}
            context["requests"] = {"gitea": gitea.get("requests"), "drone": drone.get("requests"),
                                   "docker": swarm.get("requests")}
        try:
            context["phase"] = phase_of(self.config).source
            world = world_of(self.config)
            if world is not None:
                context["world"] = world.name
        except GateError as exc:
            self.notes.append(f"record context incomplete: {exc}")
        context["run"]["world"] = context["world"]
        return context

    # --- gates.json --------------------------------------------------------------------------------

    def _write_json(self, settings: Settings, report: RunReport, context: dict[str, Any]) -> None:
        path = Path(settings.gates_json)
        head = {"phase": context.get("phase"), "world": context.get("world"), "role": settings.role,
                "at": context["at"], "head": context["head"], "build": context["build"],
                "run": context["run"], "requests": context.get("requests")}
        data = summary.json_data(report, head)
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            old = None
        except (OSError, ValueError) as exc:
            # Something else lives there (a file given by mistake, one that cannot be read): kept.
            raise WriteError(f"{path}: exists and is not a gates.json ({exc.__class__.__name__}): not "
                             "replaced (give --gates-json a file of its own)") from None
        if old is not None and not (isinstance(old, dict) and isinstance(old.get("results"), dict)):
            raise WriteError(f"{path}: exists and is not a gates.json (no `results`): not replaced "
                             "(give --gates-json a file of its own)")
        # Merge by gate (summary.merge): gates/m1 then gates/m2 leaves both gates in the file.
        merged = summary.merge(old, data)
        replace_text(path, json.dumps(merged, indent=1) + "\n")
        merged_view = summary.from_merged(merged, report)
        report.all_gates, report.earlier = merged_view.all_gates, merged_view.earlier
        self.notes.append(f"verdicts written to {path}")

    # --- the review file ---------------------------------------------------------------------------

    def _write_review(self, session: pytest.Session, settings: Settings, report: RunReport) -> None:
        for gate in RECORD_GATES:
            entry = report.gates.get(gate)
            if entry is not None and entry.verdict is None:
                self.notes.append(f"{gate}: only {entry.ran} of {entry.total} requirements ran, so no {gate} "
                                  "block was written (run the whole gate to sign it).")
        try:
            blocks = pending_blocks(self.config, report.results, report.gates)
        except GateError as exc:
            self._write_failed(session, exc)
            return
        if not blocks:
            return
        if settings.role != "adversary":
            for gate, block in blocks.items():
                self.notes.append(f"{gate}: role builder, the review file is untouched{_WOULD_BE}\n" + block)
            return
        unsigned = any(" sig=" not in b.splitlines()[1] for b in blocks.values())
        if phase_of(self.config).adversary_signers and unsigned:
            self.notes.append("records written unsigned: the phase names adversary_signers but there is no "
                              "--sign-key and no ssh-agent key that file names, so DONE.signed will not count "
                              "them (docs/signing.md)")
        path = Path(settings.state_dir) / review_name(phase_of(self.config))
        try:
            # Both gates in one replace: a kill at any moment leaves the old file or the new one.
            review.write_atomic(path, lambda old: review.replace_blocks(old, blocks))
        except WriteError as exc:
            self._write_failed(session, exc)
            return
        self.notes.append(f"{', '.join(blocks)}: block{'s' if len(blocks) > 1 else ''} written to {path}")

    def _write_failed(self, session: pytest.Session, exc: Exception) -> None:
        """One line naming the file, and a run that does not exit 0 (never an INTERNALERROR traceback)."""
        self.notes.append(f"ERROR: {exc}")
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.finish(session)

    # --- the terminal ------------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> Generator[None, None, None]:
        # Before pytest's own FAILURES and short summary: a sentence shared by several tests (a service
        # that cannot be used) is printed once per section, the others point back to it.
        _shorten_repeated(terminalreporter)
        return (yield)

    @pytest.hookimpl(specname="pytest_terminal_summary")
    def pytest_terminal_summary_gates(self, terminalreporter: Any) -> None:
        """The gate verdicts section: requirement lines (`-q`: failures only), notes, gate lines, count."""
        report = self.report
        if report is None:
            return
        quiet = self.config.get_verbosity() < 0
        terminalreporter.section("gate verdicts")
        for line in result_lines(report.results, quiet=quiet):
            terminalreporter.write_line(line)
        for note in report.notes:
            if quiet and _routine(note):
                continue
            if quiet and _WOULD_BE + "\n" in note:
                # -q: the gate lines and failures; the block itself only without -q.
                note = note.split(_WOULD_BE, 1)[0] + " (run without -q to see the block it would write)."
            terminalreporter.write_line(escape.terminal_lines(note))
        # The gate verdicts last, where the eye lands: what a record would bind, one line a gate.
        for entry in report.gates.values():
            terminalreporter.write_line(entry.line, bold=True)
        terminalreporter.write_line(report.count_line)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # After pytest's own closing line, so the Builder's run ends with it.
        if self.report is not None and self.report.done_line is not None:
            line = escape.terminal(self.report.done_line)
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(line, bold=True)
            else:
                print(line)


_WOULD_BE = "; the block would be:"


def _routine(note: str) -> bool:
    """A note that only says where a file went (left out under -q)."""
    return note.startswith("verdicts written to ") or " written to " in note.split("\n", 1)[0] and ": block" in note


def result_lines(results: dict[str, Result], quiet: bool = False) -> list[str]:
    """One line per requirement (`-q`: the failures and errors only); a sentence that several share
    is printed once, with every id that shares it."""
    shown: dict[tuple[str, str], list[str]] = {}
    for rid, result in results.items():
        if quiet and result.status in (PASS, SKIP):
            continue
        shown.setdefault((result.status, result.reason), []).append(rid)
    lines = []
    for (status, reason), ids in shown.items():
        lines.append(f"{', '.join(ids):<24} {status.upper():<5} {escape.terminal(reason)}")
    return lines


def _shorten_repeated(terminalreporter: Any) -> None:
    """Reports whose failure text repeats an earlier one's say so in one line, and failure text with
    control characters in it (a quoted log) is shown escaped. Terminal only: JUnit and the HTML,
    written before the terminal summary, keep every report whole."""
    seen: dict[str, str] = {}
    for key in ("error", "failed"):
        for report in terminalreporter.stats.get(key, []):
            text = getattr(report, "longreprtext", "")
            if not text or not hasattr(report, "nodeid"):
                continue
            first = seen.setdefault(text, report.nodeid)
            if first != report.nodeid:
                report.longrepr = f"the same as {first} above"
            elif escape.terminal_lines(text) != text:
                report.longrepr = escape.terminal_lines(text)


__all__ = ["GateReporter", "result_lines", "unwritable"]
