"""From a rule's Verdict to pytest's outcome, and from pytest's reports back to one result per id.

Evidence crosses from xdist workers to the controller only as plain data in
`report.user_properties`: the verdict as JSON text, so that JUnit XML (which writes each property's
`str()`) carries JSON, not a Python repr. An `error` (could not find out) shows as ERROR in pytest's own summary,
never as passed or failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from typing import Any

import pytest

from ghostgates.catalogue import ALL
from ghostgates.errors import GateError
from ghostgates.judge.verdict import ERROR, FAIL, PASS, SKIP, Verdict

VERDICT_PROP = "gate_verdict"
REQUIREMENT_PROP = "requirement"
ERROR_PROP = "gate_error"


class GateUnknown(GateError):
    """Raised by a test whose rule could not find out."""


def record_verdict(item: pytest.Item, verdict: Verdict) -> None:
    item.user_properties.append((VERDICT_PROP, json.dumps(verdict.to_dict(), default=str)))
    if verdict.status == FAIL:
        pytest.fail(verdict.reason, pytrace=False)
    if verdict.status == SKIP:
        pytest.skip(verdict.reason)
    if verdict.status == ERROR:
        raise GateUnknown(verdict.reason)


@pytest.fixture
def gate(request: pytest.FixtureRequest) -> Callable[[Verdict], None]:
    """Call with the deciding function's Verdict: it is recorded, then pass, fail, skip or error."""
    return lambda verdict: record_verdict(request.node, verdict)


def recorded_verdict(value: object) -> dict[str, Any] | None:
    """A VERDICT_PROP value back as data (JSON text; a dict from an older worker is taken as is)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            data = json.loads(value)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return None


def requirement_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("requirement")
    return str(marker.args[0]) if marker and marker.args else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        rid = requirement_of(item)
        if rid is None:
            continue
        if rid not in ALL:
            raise pytest.UsageError(f"{item.nodeid}: requirement {rid!r} is not an id of gates.md")
        item.user_properties.append((REQUIREMENT_PROP, rid))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if requirement_of(item) is None:
        return report
    excinfo = call.excinfo
    if report.failed and excinfo is not None and excinfo.errisinstance(GateError):
        # The suite's own errors say all there is to say; a traceback would bury the sentence.
        report.longrepr = f"could not find out: {excinfo.value}"
    if report.failed and excinfo is not None and not excinfo.errisinstance(
            (pytest.fail.Exception, AssertionError)):
        message = str(excinfo.value) or excinfo.typename
        report.user_properties = [*report.user_properties, (ERROR_PROP, f"{excinfo.typename}: {message}"
                                                            if not excinfo.errisinstance(GateError) else message)]
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    if report.when == "call" and report.failed and any(k == ERROR_PROP for k, _ in report.user_properties):
        return "error", "E", "ERROR"
    return None


def result_of(reports: list[pytest.TestReport]) -> dict[str, Any] | None:
    """One requirement's result from its setup, call and teardown reports (plain data)."""
    props = [p for r in reports for p in r.user_properties]
    rid = next((v for k, v in props if k == REQUIREMENT_PROP), None)
    if rid is None:
        return None
    recorded = next((recorded_verdict(v) for k, v in reversed(props) if k == VERDICT_PROP), None)
    error = next((v for k, v in props if k == ERROR_PROP), None)
    if error is None:
        for report in reports:
            if report.failed and report.when in ("setup", "teardown"):
                error = _short_error(report)
    if error is not None:
        evidence = recorded["evidence"] if recorded else []
        return {"id": rid, "verdict": ERROR, "reason": f"Could not find out: {error}", "evidence": evidence}
    if recorded is not None:
        return {"id": rid, **recorded}
    for report in reports:
        if report.skipped:
            return {"id": rid, "verdict": SKIP, "reason": _skip_reason(report), "evidence": []}
    if any(r.when == "call" and r.passed for r in reports):
        # A gate test that passed without recording a verdict is a suite bug, not a pass.
        return {"id": rid, "verdict": ERROR, "reason": "the test recorded no verdict", "evidence": []}
    return {"id": rid, "verdict": ERROR, "reason": "the test did not run to a verdict", "evidence": []}


def _short_error(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [line for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else "unknown error"
    for prefix in ("ghostgates.errors.", "E   "):
        line = line.replace(prefix, "")
    return line.strip()


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


__all__ = ["PASS", "FAIL", "SKIP", "ERROR", "record_verdict", "result_of", "GateUnknown"]
