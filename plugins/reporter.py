"""The reporter: one result per requirement, rendered into gates.json, the review file and the terminal.

Registered only on the xdist controller (or a serial run): workers send their reports here, so
the files are written once, from plain data, whatever `-n` was.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures.cache import RUN_DIR_STASH, peek
from ghostgates import review
from ghostgates.atomic import replace_text
from ghostgates.catalogue import ALL, GATES
from ghostgates.errors import GateError
from ghostgates.facts import build_facts, head_sha
from ghostgates.statefile import REVIEW, STATUS, StateFile, read_optional
from ghostgates.timeutil import rfc3339
from ghostgates.verdict import ERROR, FAIL, PASS, SKIP
from plugins.run import Settings, phase_of, settings_of, world_of
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
        self._write_json(settings, ordered, context)
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
                                   "world": None, "source": settings.shown("gitea_url")}
        gitea, drone = peek(run_dir, "gitea"), peek(run_dir, "drone")
        status = peek(run_dir, "status")
        try:
            phase = phase_of(self.config)
            context["phase"] = phase.source
            world = world_of(self.config)
            if world is not None:
                context["world"] = world.name
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
                swarm = peek(run_dir, "swarm") or {}
                context["requests"] = {"gitea": gitea.get("requests"), "drone": drone.get("requests"),
                                       "docker": swarm.get("requests")}
        except GateError as exc:
            self.notes.append(f"record context incomplete: {exc}")
        return context

    def _write_json(self, settings: Settings, results: dict[str, Any], context: dict[str, Any]) -> None:
        path = Path(settings.gates_json)
        data = {"phase": context.get("phase"), "world": context.get("world"), "role": settings.role,
                "at": context["at"], "head": context["head"], "build": context["build"],
                "requests": context.get("requests"), "results": results}
        replace_text(path, json.dumps(data, indent=1) + "\n")
        self.notes.append(f"verdicts written to {path}")

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


def gate_verdict(results: dict[str, dict[str, Any]]) -> str:
    """PASS only when every requirement passed or does not apply; an error is never a PASS."""
    return "PASS" if all(r["verdict"] in (PASS, SKIP) for r in results.values()) else "FAIL"


def render_block(gate: str, results: dict[str, dict[str, Any]], role: str, context: dict[str, Any]) -> str:
    verdict = gate_verdict(results)
    record = review.Record(gate=gate, verdict=verdict, role=role, head=context["head"],
                           build=str(context["build"]), at=context["at"])
    counts = {s: sum(1 for r in results.values() if r["verdict"] == s) for s in (PASS, FAIL, SKIP, ERROR)}
    lines = [f"## {gate}: {review.GATE_TITLES[gate]}: {verdict}", record.line()]
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    lines.append(f"Checked by ghost-gates as {role} at {context['at']}: {summary}.")
    if counts[ERROR]:
        lines.append(f"{counts[ERROR]} requirement(s) could not be checked: the gate cannot pass until they can.")
    lines += ["", "| requirement | verdict | reason |", "|---|---|---|"]
    for rid, result in results.items():
        lines.append(f"| {rid} | {result['verdict']} | {review.escape(result['reason'])} |")
    return "\n".join(lines) + "\n"
