"""The DONE hand-off: one run, one picture (docs/signing.md).

A run that writes whole gates as the adversary judges `DONE.signed` against the very records it is
about to write. This module carries what crosses between the reporter (controller) and the DONE
test (possibly on an xdist worker):

- the record's binding, decided once from the facts the run built (`BINDING_KEY`);
- each requirement's result, published in the run directory when its test ends, and the DONE
  test's wait for them (`wait_for_results`); a run that stops early says so (`STOPPED`);
- which requirement ids were collected (`collected_ids`), so that a run stopped by -x or
  --maxfail is told apart from a -k selection;
- `pending_blocks`: the blocks this run writes, signed as they will be written, for the review
  file and for the DONE test alike;
- `done_readiness`: the Builder's last line, DONE.signed asked as if `## DONE` were written now.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fixtures._run import peek, phase_of, run_dir, settings_of, shared, state_of
from ghostgates.catalogue import ALL, GATES
from ghostgates.errors import GateError
from ghostgates.judge.facts import build_facts
from ghostgates.judge.rules import done as done_rule
from ghostgates.judge.rules.done import SignatureCheck, record_binding
from ghostgates.judge.verdict import ERROR, FAIL, PASS
from ghostgates.read.statefile import StateFile, read_optional, review_name, status_path
from ghostgates.record import review, signing, summary
from ghostgates.record.summary import GateResult, Result, RunReport, gate_result
from plugins.verdicts import requirement_of, result_of

BINDING_KEY = "record-binding"
RESULTS_DIR = "results"
COLLECTED_DIR = "collected"
STOPPED = "stopped"  # in the run dir: the session stops early, so not every collected test reports
DONE_ID = "DONE.signed"
# How long the DONE test waits for this run's own M1/M2 results (xdist: other workers still run them).
RESULTS_WAIT_SECONDS = 900.0
RECORD_GATES = ("M1", "M2")  # the gates that have a block in the review file


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("ghost-gates")
    group.addoption("--sign-key", default=None, metavar="FILE",
                    help="sign each record the adversary writes with this SSH key (a private key, or a public "
                         "key whose private half is in ssh-agent); without it, an ssh-agent key that the "
                         "phase's adversary_signers file names (docs/signing.md)")


def pytest_configure(config: pytest.Config) -> None:
    # The controller (or a serial run) sees every report: it publishes results and marks a stop.
    if getattr(config, "workerinput", None) is None:
        config.pluginmanager.register(Publisher(config), "ghost-gates-handoff")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """DONE.signed runs last: a run that writes M1/M2 as the adversary judges DONE by those records."""
    done = [item for item in items if requirement_of(item) == DONE_ID]
    if done:
        items[:] = [item for item in items if requirement_of(item) != DONE_ID] + done


def pytest_collection_finish(session: pytest.Session) -> None:
    """The requirement ids this process will run (after -k/-m), for the controller under xdist too."""
    ids = sorted({rid for item in session.items if (rid := requirement_of(item)) is not None})
    if not ids or not _has_run_dir(session.config):
        return
    folder = run_dir(session.config) / COLLECTED_DIR
    folder.mkdir(exist_ok=True)
    worker = (getattr(session.config, "workerinput", None) or {}).get("workerid", "main")
    _write_json(folder / f"{worker}-{os.getpid()}.json", ids)


def _has_run_dir(config: pytest.Config) -> bool:
    try:
        run_dir(config)
    except (KeyError, LookupError):
        return False
    return True


def collected_ids(config: pytest.Config) -> set[str]:
    """Every requirement id some process of this run collected to run."""
    folder = run_dir(config) / COLLECTED_DIR
    found: set[str] = set()
    for path in folder.glob("*.json") if folder.is_dir() else ():
        try:
            found.update(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return found


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(data, default=str), encoding="utf-8")
    tmp.replace(path)


def _result_file(config: pytest.Config, nodeid: str) -> Path:
    return run_dir(config) / RESULTS_DIR / (hashlib.sha256(nodeid.encode()).hexdigest()[:24] + ".json")


class Publisher:
    """On the controller: each requirement's result into the run dir as its test ends; a stop marked."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.reports: dict[str, list[pytest.TestReport]] = {}
        self.failures = 0

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
            result = result_of(self.reports[report.nodeid])
            if result is not None:
                path = _result_file(self.config, report.nodeid)
                path.parent.mkdir(exist_ok=True)
                _write_json(path, result)


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
    # gate -> its ids that were `error` where none failed: the gate's own FAIL record is no verdict
    undecided: dict[str, list[str]] = dataclasses.field(default_factory=dict)


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
    undecided: dict[str, list[str]] = {}
    if settings.role == "adversary":
        gates = [gate for gate in RECORD_GATES if _collected_whole(request.session, gate)]
        if gates:
            results = wait_for_results(config, request.session, gates)
            fields = shared(config, BINDING_KEY, lambda: record_binding(facts).fields())
            context = {**fields, "role": settings.role}
            judged = {gate: gate_result(gate, results, context) for gate in gates}
            blocks = pending_blocks(config, results, judged)
            text, own = review.replace_blocks(text or "", blocks), bool(blocks)
            undecided = {gate: errors for gate in blocks if (errors := errored_only(results, gate))}
    return DoneInput(text, signing.signature_checks(phase.adversary_signers, text, signers_base(config)), own,
                     undecided)


def errored_only(results: Mapping[str, Result], gate: str) -> list[str]:
    """The gate's `error` ids where none of its requirements failed (its FAIL record is no verdict)."""
    statuses = {rid: results[rid].status for rid in GATES[gate] if rid in results}
    if FAIL in statuses.values():
        return []
    return [rid for rid, status in statuses.items() if status == ERROR]


def _collected_whole(session: pytest.Session, gate: str) -> bool:
    collected = {requirement_of(item) for item in session.items}
    return set(GATES[gate]) <= collected


def wait_for_results(config: pytest.Config, session: pytest.Session, gates: Iterable[str]) -> dict[str, Result]:
    """This run's own results for `gates`, as the controller publishes them (xdist: other workers)."""
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
    state_dir = settings_of(config).state_dir
    results = {}
    for nodeid in wanted:
        data = json.loads(_result_file(config, nodeid).read_text())
        rid = data.pop("id")
        results[rid] = Result.from_data(rid, data, state_dir)
    return {rid: results[rid] for rid in ALL if rid in results}


def signers_base(config: pytest.Config) -> Path:
    # A relative adversary_signers is read from the suite's checkout (where phases/ lives), never from
    # the state dir: the builder writes there, and must not choose who may sign the adversary's records.
    return config.rootpath


def _signer(config: pytest.Config) -> Callable[[str], str] | None:
    key = config.getoption("sign_key", None)
    if key:
        return lambda payload: signing.sign(payload, key)
    signers = signing.signers_path(phase_of(config).adversary_signers, signers_base(config))
    if signers is None:
        return None
    public = signing.agent_key(signers)
    if public is None:
        return None
    return lambda payload: signing.sign_with_agent(payload, public)


def pending_blocks(config: pytest.Config, results: dict[str, Result], gates: dict[str, GateResult]) -> dict[str, str]:
    """The blocks this run writes: one per M1/M2 gate judged PASS or FAIL, signed as the adversary.

    The reporter and the DONE test both call this, so DONE judges the very records the file receives;
    a signature is made once per record text and shared through the run directory.
    """
    out: dict[str, str] = {}
    signer = None
    for name in RECORD_GATES:
        gate = gates.get(name)
        if gate is None or gate.verdict is None:
            continue
        record = review.make_record(gate)
        if gate.role == "adversary":
            signer = signer or _signer(config)
        if gate.role == "adversary" and signer is not None:
            payload = record.payload()
            digest = hashlib.sha256(payload.encode()).hexdigest()[:24]
            sig = shared(config, f"signature-{digest}", functools.partial(signer, payload))
            record = record.signed(sig)
        out[name] = review.render_block(gate, results, record)
    return out


def done_readiness(config: pytest.Config, report: RunReport, context: dict[str, Any]) -> str | None:
    """The Builder's last line: DONE.signed's own check, asked as if `## DONE` were written now."""
    where = run_dir(config)
    gitea, drone = peek(where, "gitea"), peek(where, "drone")
    if gitea is None or drone is None:
        return None  # this run fetched nothing from the services (-k on the Swarm alone)
    settings = settings_of(config)
    try:
        phase = phase_of(config)
        # The state file as this run's gates read it (fixtures/_run.state_of); where it does not
        # exist, an empty one: `## DONE` is asked as if it were written now.
        found = state_of(config)
        state = found if found is not None else StateFile(str(status_path(settings.state_dir, phase)), "", {})
        asked = dataclasses.replace(state, sections={**state.sections, "DONE": ""})
        facts = build_facts(phase, asked, gitea, drone)
        text = read_optional(Path(settings.state_dir) / review_name(phase))
        checks = signing.signature_checks(phase.adversary_signers, text, signers_base(config))
        verdict = done_rule.signed(facts, text, checks)
    except GateError as exc:
        return f"DONE may not be written yet: could not find out ({exc})."
    line = summary.done_readiness(verdict.status, verdict.reason, context["head"], str(context["build"]))
    seen = [e.line.split("  ")[0] for g, e in report.gates.items() if g != "DONE" and e.verdict == "FAIL"]
    if verdict.status == PASS and seen:
        # The records say yes, this run's own look says otherwise: the Builder should know both.
        line += f" But this run sees {'; '.join(seen)}: ask the Adversary to check again."
    return line
