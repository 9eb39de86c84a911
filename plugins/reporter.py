"""The reporter: one result per requirement, rendered into gates.json, the review file and the terminal.

Registered only on the xdist controller (or a serial run): workers send their reports here, so
the files are written once, from plain data, whatever `-n` was.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fixtures.cache import RUN_DIR_STASH, peek, run_dir, shared
from ghostgates.catalogue import ALL, GATES
from ghostgates.errors import GateError
from ghostgates.judge.facts import build_facts
from ghostgates.judge.rules import done as done_rule
from ghostgates.judge.rules.done import SignatureCheck, record_binding
from ghostgates.judge.verdict import ERROR, FAIL, PASS, SKIP
from ghostgates.read.statefile import StateFile, read_optional, review_name, status_name
from ghostgates.record import review, signing, summary
from ghostgates.record.atomic import WriteError, replace_text
from ghostgates.timeutil import rfc3339
from plugins.run import SETTINGS_STASH, Settings, _runs_gates, phase_of, settings_of, world_of
from plugins.verdicts import requirement_of, result_of

BINDING_KEY = "record-binding"
RESULTS_DIR = "results"
STOPPED = "stopped"  # in the run dir: the session stops early, so not every collected test reports
DONE_ID = "DONE.signed"
# How long the DONE test waits for this run's own M1/M2 results (xdist: other workers still run them).
RESULTS_WAIT_SECONDS = 900.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ghost-gates")
    group.addoption("--sign-key", default=None, metavar="FILE",
                    help="sign each record the adversary writes with this SSH key (a private key, or a public "
                         "key whose private half is in ssh-agent); without it, an ssh-agent key that the "
                         "phase's adversary_signers file names (docs/signing.md)")


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
              ("--html", getattr(config.option, "htmlpath", None))]
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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """DONE.signed runs last: a run that writes M1/M2 as the adversary judges DONE by those records."""
    done = [item for item in items if requirement_of(item) == DONE_ID]
    if done:
        items[:] = [item for item in items if requirement_of(item) != DONE_ID] + done


@pytest.fixture(autouse=True)
def _publish_record_binding(request: pytest.FixtureRequest) -> Generator[None, None, None]:
    """The record's binding, decided once from the facts the run built, for the reporter to write."""
    yield
    if requirement_of(request.node) is None or "facts" not in request.fixturenames:
        return
    try:
        facts = request.getfixturevalue("facts")
    except Exception:  # the test reports why facts could not be built; nothing to bind
        return
    shared(request.config, BINDING_KEY, lambda: record_binding(facts).fields())


@dataclass(frozen=True)
class DoneInput:
    text: str | None  # the review file DONE.signed judges
    signatures: dict[str, SignatureCheck] | None  # None: the phase names no adversary_signers
    own_records: bool  # the text carries this run's own blocks


@pytest.fixture
def done_review(request: pytest.FixtureRequest) -> DoneInput:
    """The review text DONE.signed judges, and the signature checks of its records.

    As the adversary, a run that also checks whole gates judges the file it is about to write (the
    review file as found, with this run's blocks put in, signed as they will be written); as the
    builder, the file as found (gates.md, DONE.signed).
    """
    config = request.config
    settings = settings_of(config)
    text: str | None = request.getfixturevalue("review_text")
    facts = request.getfixturevalue("facts")
    phase = request.getfixturevalue("phase")
    own = False
    if settings.role == "adversary":
        gates = [gate for gate in ("M1", "M2") if _collected_whole(request.session, gate)]
        if gates:
            results = _wait_for_results(config, request.session, gates)
            fields = shared(config, BINDING_KEY, lambda: record_binding(facts).fields())
            blocks = pending_blocks(config, results, settings.role, fields)
            text, own = review.replace_blocks(text or "", blocks), bool(blocks)
    return DoneInput(text, signing.signature_checks(phase.adversary_signers, text, _signers_base(config)), own)


def _collected_whole(session: pytest.Session, gate: str) -> bool:
    collected = {requirement_of(item) for item in session.items}
    return set(GATES[gate]) <= collected


def _result_file(config: pytest.Config, nodeid: str) -> Path:
    return run_dir(config) / RESULTS_DIR / (hashlib.sha256(nodeid.encode()).hexdigest()[:24] + ".json")


def _wait_for_results(config: pytest.Config, session: pytest.Session, gates: list[str]) -> dict[str, Any]:
    ids = {rid for gate in gates for rid in GATES[gate]}
    wanted = {item.nodeid: requirement_of(item) for item in session.items if requirement_of(item) in ids}
    deadline = time.monotonic() + RESULTS_WAIT_SECONDS
    while True:
        missing = [n for n in wanted if not _result_file(config, n).exists()]
        if not missing:
            break
        if (run_dir(config) / STOPPED).exists():
            raise GateError("the run stopped before " + ", ".join(wanted[n] or n for n in missing)
                            + " reported (-x, --maxfail or an interrupt), so the records it writes are unknown")
        if time.monotonic() > deadline:
            raise GateError(f"this run's own results for {', '.join(wanted[n] or n for n in missing)} did not "
                            f"arrive within {RESULTS_WAIT_SECONDS:.0f} s, so the records it writes are unknown")
        time.sleep(0.05)
    results = {}
    for nodeid in wanted:
        data = json.loads(_result_file(config, nodeid).read_text())
        results[data.pop("id")] = data
    return {rid: results[rid] for rid in ALL if rid in results}


def _signers_base(config: pytest.Config) -> Path:
    # A relative adversary_signers is read from the suite's checkout (where phases/ lives), never from
    # the state dir: the builder writes there, and must not choose who may sign the adversary's records.
    return config.rootpath


def _signer(config: pytest.Config) -> Callable[[str], str] | None:
    key = config.getoption("sign_key", None)
    if key:
        return lambda payload: signing.sign(payload, key)
    signers = signing.signers_path(phase_of(config).adversary_signers, _signers_base(config))
    if signers is None:
        return None
    public = signing.agent_key(signers)
    if public is None:
        return None
    return lambda payload: signing.sign_with_agent(payload, public)


def pending_blocks(config: pytest.Config, results: dict[str, dict[str, Any]], role: str,
                   context: dict[str, Any]) -> dict[str, str]:
    """The blocks this run writes: one per gate whose every requirement has a result, signed as the adversary.

    The reporter and the DONE test both call this, so DONE judges the very records the file receives;
    a signature is made once per record text and shared through the run directory.
    """
    out: dict[str, str] = {}
    signer = _signer(config) if role == "adversary" else None
    for gate in ("M1", "M2"):
        ids = GATES[gate]
        if not all(rid in results for rid in ids):
            continue
        gate_results = {rid: results[rid] for rid in ids}
        record = make_record(gate, gate_results, role, context)
        if signer is not None:
            payload = record.payload()
            digest = hashlib.sha256(payload.encode()).hexdigest()[:24]
            sig = shared(config, f"signature-{digest}", lambda p=payload: signer(p))
            record = record.signed(sig)
        out[gate] = render_block(gate, gate_results, role, context, record)
    return out


class GateReporter:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.reports: dict[str, list[pytest.TestReport]] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.notes: list[str] = []
        self.failures = 0
        self.gates: dict[str, dict[str, Any]] = {}  # gate -> summary.gate_entry (the verdict line and binding)
        self.done_line: str | None = None  # the Builder's last line: may `## DONE` be written now

    def pytest_keyboard_interrupt(self) -> None:
        (run_dir(self.config) / STOPPED).touch()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.reports.setdefault(report.nodeid, []).append(report)
        if report.failed and not (report.when == "call" and hasattr(report, "wasxfail")):
            self.failures += 1
            maxfail = self.config.getoption("maxfail", 0)
            if maxfail and self.failures >= maxfail:
                # -x / --maxfail: the rest will not run; a DONE test waiting for them must not wait.
                (run_dir(self.config) / STOPPED).touch()
        # Teardown closes an item; xdist reports a crashed worker's item once, with when="???".
        if report.when not in ("setup", "call"):
            # Published for the DONE test, which judges this run's own records (xdist: on another worker).
            result = result_of(self.reports[report.nodeid])
            if result is not None:
                path = _result_file(self.config, report.nodeid)
                path.parent.mkdir(exist_ok=True)
                tmp = path.with_suffix(".part")
                tmp.write_text(json.dumps(result, default=str))
                tmp.replace(path)

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
        try:
            self._write_json(settings, ordered, context)
        except WriteError as exc:
            self._write_failed(session, exc)
        if settings.role == "builder":
            self.done_line = self._done_readiness(settings, context)
        for gate in ("M1", "M2"):
            ran = [rid for rid in GATES[gate] if rid in ordered]
            if ran and len(ran) < len(GATES[gate]):
                self.notes.append(f"{gate}: only {len(ran)} of {len(GATES[gate])} requirements ran, so no {gate} "
                                  "block was written (run the whole gate to sign it).")
        try:
            blocks = pending_blocks(self.config, ordered, settings.role, context)
        except GateError as exc:
            self._write_failed(session, exc)
            return
        if not blocks:
            return
        if settings.role == "adversary":
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
        else:
            for gate, block in blocks.items():
                self.notes.append(f"{gate}: role builder, the review file is untouched; the block would be:\n"
                                  + block)

    def _write_failed(self, session: pytest.Session, exc: Exception) -> None:
        """One line naming the file, and a run that does not exit 0 (never an INTERNALERROR traceback)."""
        self.notes.append(f"ERROR: {exc}")
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _context(self, settings: Settings) -> dict[str, Any]:
        """The record's binding as the run decided it (rules/done.record_binding), and what gates.json names."""
        run_dir = Path(self.config.stash[RUN_DIR_STASH])
        context: dict[str, Any] = {"head": "none", "build": "none", "at": rfc3339(datetime.now(UTC)),
                                   "world": None, "source": settings.shown("gitea_url")}
        binding = peek(run_dir, BINDING_KEY)
        if binding is not None:
            context.update(binding)
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
            phase = phase_of(self.config)
            name = status_name(phase)
            state = StateFile.parse(name, status) if status is not None else StateFile(name, "", {})
            asked = dataclasses.replace(state, sections={**state.sections, "DONE": ""})
            facts = build_facts(phase, asked, gitea, drone)
            text = read_optional(Path(settings.state_dir) / review_name(phase))
            checks = signing.signature_checks(phase.adversary_signers, text, _signers_base(self.config))
            verdict = done_rule.signed(facts, text, checks)
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


gate_verdict = summary.gate_verdict  # one definition, in ghostgates.record.summary


def make_record(gate: str, results: dict[str, dict[str, Any]], role: str, context: dict[str, Any]) -> review.Record:
    return review.Record(gate=gate, verdict=gate_verdict(results), role=role, head=context["head"],
                         build=str(context["build"]), at=context["at"])


def render_block(gate: str, results: dict[str, dict[str, Any]], role: str, context: dict[str, Any],
                 record: review.Record | None = None) -> str:
    """The gate's block as the suite writes it, from its heading to its closing marker."""
    record = record or make_record(gate, results, role, context)
    verdict = record.verdict
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
    lines.append(review.end_marker(gate))
    return "\n".join(lines) + "\n"
