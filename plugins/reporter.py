"""The reporter: one result per requirement, rendered into gates.json, the review file and the terminal.

Registered only on the xdist controller (or a serial run): workers send their reports here, so
the files are written once, from plain data, whatever `-n` was.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures.cache import RUN_DIR_STASH, peek
from ghostgates import review, summary
from ghostgates.atomic import replace_text
from ghostgates.catalogue import ALL, GATES
from ghostgates.errors import GateError
from ghostgates.facts import build_facts, head_sha
from ghostgates.rules import done as done_rule
from ghostgates.statefile import REVIEW, STATUS, StateFile, read_optional
from ghostgates.timeutil import rfc3339
from ghostgates.verdict import ERROR, FAIL, PASS, SKIP
from plugins.run import Settings, phase_of, settings_of
from plugins.verdicts import result_of


def pytest_configure(config: pytest.Config) -> None:
    # Workers report to the controller; only the controller writes files.
    if getattr(config, "workerinput", None) is None:
        config.pluginmanager.register(GateReporter(config), "ghost-gates-reporter")


class GateReporter:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.reports: dict[str, list[pytest.TestReport]] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.notes: list[str] = []
        self.gates: dict[str, dict[str, Any]] = {}  # gate -> summary.gate_entry (the verdict line and binding)
        self.done_line: str | None = None  # the Builder's last line: may `## DONE` be written now

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.setdefault(report.nodeid, []).append(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for reports in self.reports.values():
            result = result_of(reports)
            if result is not None:
                self.results[result.pop("id")] = result
        if not self.results:
            return
        settings = settings_of(self.config)
        ordered = {rid: self.results[rid] for rid in ALL if rid in self.results}
        context = self._context(settings)
        self.gates = {gate: summary.gate_entry(gate, ordered, {**context, "role": settings.role})
                      for gate in summary.gates_of(ordered)}
        self._write_json(settings, ordered, context)
        if settings.role == "builder":
            self.done_line = self._done_readiness(settings, context)
        for gate in ("M1", "M2"):
            ids = GATES[gate]
            ran = [rid for rid in ids if rid in ordered]
            if not ran:
                continue
            if len(ran) < len(ids):
                self.notes.append(f"{gate}: only {len(ran)} of {len(ids)} requirements ran, so no {gate} block "
                                  "was written (run the whole gate to sign it).")
                continue
            block = render_block(gate, {rid: ordered[rid] for rid in ids}, settings.role, context)
            if settings.role == "adversary":
                path = Path(settings.state_dir) / REVIEW
                review.write_atomic(path, lambda old, g=gate, b=block: review.replace_block(old, g, b))
                self.notes.append(f"{gate}: block written to {path}")
            else:
                self.notes.append(f"{gate}: role builder, the review file is untouched; the block would be:\n"
                                  + block)

    def _context(self, settings: Settings) -> dict[str, Any]:
        """The correct PR's head and latest finished build, and the services' clock."""
        run_dir = Path(self.config.stash[RUN_DIR_STASH])
        context: dict[str, Any] = {"head": "none", "build": "none", "at": rfc3339(datetime.now(UTC)),
                                   "world": None, "source": settings.gitea_url}
        gitea, drone = peek(run_dir, "gitea"), peek(run_dir, "drone")
        status = peek(run_dir, "status")
        try:
            phase = settings.phase()
            context["phase"] = phase.source
            if settings.world:
                from twin.world import load_world

                context["world"] = load_world(Path(settings.world)).name
            if gitea is None or drone is None:
                if status is None:
                    status = read_optional(Path(settings.state_dir) / STATUS)
            state = StateFile.parse(STATUS, status) if status is not None else None
            if gitea is not None and drone is not None:
                facts = build_facts(phase, state, gitea, drone)
                context["at"] = rfc3339(facts.now)
                if facts.correct_pr is not None:
                    context["head"] = head_sha(facts.correct_pr) or "none"
                    latest = facts.latest_finished(facts.builds_of_pr(facts.correct_pr_number or 0))
                    if latest is not None:
                        context["build"] = str(latest["number"])
                context["requests"] = {"gitea": gitea.get("requests"), "drone": drone.get("requests")}
        except GateError as exc:
            self.notes.append(f"record context incomplete: {exc}")
        return context

    def _write_json(self, settings: Settings, results: dict[str, Any], context: dict[str, Any]) -> None:
        path = Path(settings.gates_json)
        data = {"phase": context.get("phase"), "world": context.get("world"), "role": settings.role,
                "at": context["at"], "head": context["head"], "build": context["build"],
                "requests": context.get("requests"), "gates": self.gates, "results": results}
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        # Merge by gate (summary.merge): gates/m1 then gates/m2 leaves both gates in the file.
        replace_text(path, json.dumps(summary.merge(old, data), indent=1) + "\n")
        self.notes.append(f"verdicts written to {path}")

    def _done_readiness(self, settings: Settings, context: dict[str, Any]) -> str | None:
        """DONE.signed's own check, asked as if `## DONE` were written now (the Builder's question)."""
        run_dir = Path(self.config.stash[RUN_DIR_STASH])
        gitea, drone = peek(run_dir, "gitea"), peek(run_dir, "drone")
        if gitea is None or drone is None:
            return None  # this run fetched nothing from the services (-k on the Swarm alone)
        try:
            status = peek(run_dir, "status")
            state = StateFile.parse(STATUS, status) if status is not None else StateFile(STATUS, "", {})
            asked = dataclasses.replace(state, sections={**state.sections, "DONE": ""})
            facts = build_facts(phase_of(self.config), asked, gitea, drone)
            verdict = done_rule.signed(facts, read_optional(Path(settings.state_dir) / REVIEW))
        except GateError as exc:
            return f"DONE may not be written yet: could not find out ({exc})."
        line = summary.done_readiness(verdict.status, verdict.reason, context["head"], str(context["build"]))
        seen = [e["line"].split("  ")[0] for g, e in self.gates.items() if g != "DONE" and e["verdict"] == "FAIL"]
        if verdict.status == PASS and seen:
            # The records say yes, this run's own look says otherwise: the Builder should know both.
            line += f" But this run sees {'; '.join(seen)}: ask the Adversary to check again."
        return line

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results:
            return
        terminalreporter.section("gate verdicts")
        for rid in ALL:
            result = self.results.get(rid)
            if result is not None:
                terminalreporter.write_line(f"{rid:<24} {result['verdict'].upper():<5} {result['reason']}")
        for note in self.notes:
            terminalreporter.write_line(note)
        # The gate verdicts last, where the eye lands: what a record would bind, one line a gate.
        for entry in self.gates.values():
            terminalreporter.write_line(entry["line"], bold=True)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # After pytest's own closing line, so the Builder's run ends with it.
        if self.done_line is not None:
            reporter = config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(self.done_line, bold=True)
            else:
                print(self.done_line)


gate_verdict = summary.gate_verdict  # one definition, in ghostgates.summary


def render_block(gate: str, results: dict[str, dict[str, Any]], role: str, context: dict[str, Any]) -> str:
    verdict = summary.gate_verdict(results)
    record = review.Record(gate=gate, verdict=verdict, role=role, head=context["head"],
                           build=str(context["build"]), at=context["at"])
    counts = {s: sum(1 for r in results.values() if r["verdict"] == s) for s in (PASS, FAIL, SKIP, ERROR)}
    lines = [f"## {gate}: {review.GATE_TITLES[gate]}: {verdict}", record.line()]
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    lines.append(f"Checked by ghost-gates as {role} at {context['at']}: {tally}.")
    if counts[ERROR]:
        lines.append(f"{counts[ERROR]} requirement(s) could not be checked: the gate cannot pass until they can.")
    lines += ["", "| requirement | verdict | reason | evidence |", "|---|---|---|---|"]
    for rid, result in results.items():
        links = summary.markdown_links(result.get("evidence") or [], review.escape)
        lines.append(f"| {rid} | {result['verdict']} | {review.escape(result['reason'])} | {links} |")
    return "\n".join(lines) + "\n"
