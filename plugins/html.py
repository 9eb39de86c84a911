"""pytest-html extras: each requirement's id, verdict, operator sentence and evidence links."""

from __future__ import annotations

import html
from collections.abc import Generator
from typing import Any

import pytest

from plugins.verdicts import ERROR_PROP, REQUIREMENT_PROP, VERDICT_PROP, requirement_of

try:
    import pytest_html
except ImportError:  # the suite runs without HTML; the JSON and review file still carry everything
    pytest_html = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if pytest_html is None or report.when != "call" or requirement_of(item) is None:
        return report
    extras = list(getattr(report, "extras", []))
    for key, value in item.user_properties:
        if key != VERDICT_PROP:
            continue
        for ev in value.get("evidence", []):
            if ev.get("url"):
                extras.append(pytest_html.extras.url(ev["url"], name=ev.get("name", ev["url"])))
        extras.append(pytest_html.extras.html(_evidence_table(value)))
    report.extras = extras
    return report


def _evidence_table(result: dict[str, Any]) -> str:
    rows = []
    for ev in result.get("evidence", []):
        facts = ", ".join(f"{k}={v}" for k, v in ev.items() if k not in ("kind", "name", "url"))
        name = html.escape(ev.get("name", ""))
        if ev.get("url"):
            name = f'<a href="{html.escape(ev["url"], quote=True)}">{name}</a>'
        rows.append(f"<tr><td>{html.escape(ev.get('kind', ''))}</td><td>{name}</td>"
                    f"<td>{html.escape(facts)}</td></tr>")
    return (f"<p><b>{html.escape(result.get('verdict', '').upper())}</b>: {html.escape(result.get('reason', ''))}</p>"
            f"<table>{''.join(rows)}</table>")


def pytest_html_results_table_header(cells: list[str]) -> None:
    cells.insert(1, "<th>Requirement</th>")
    cells.insert(2, "<th>Verdict</th>")
    cells.insert(3, "<th>Reason</th>")


def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
    props = dict(report.user_properties)
    rid = props.get(REQUIREMENT_PROP, "")
    recorded = props.get(VERDICT_PROP) or {}
    error = props.get(ERROR_PROP)
    verdict = "error" if error else recorded.get("verdict", "")
    reason = error or recorded.get("reason", "")
    cells.insert(1, f"<td>{html.escape(str(rid))}</td>")
    cells.insert(2, f"<td>{html.escape(str(verdict))}</td>")
    cells.insert(3, f"<td>{html.escape(str(reason))}</td>")


def pytest_configure(config: pytest.Config) -> None:
    """What the run looked at, in the report's Environment table (never a token)."""
    if pytest_html is None or getattr(config, "workerinput", None) is not None:
        return
    from pytest_metadata.plugin import metadata_key

    from plugins.run import SETTINGS_STASH

    settings = config.stash.get(SETTINGS_STASH, None)
    if settings is None:
        return
    meta = config.stash[metadata_key]
    meta["Phase"] = settings.phase_file
    meta["World"] = settings.world or "live"
    meta["Role"] = settings.role
    meta["State dir"] = settings.state_dir
    meta["Gitea"] = settings.shown("gitea_url")
    meta["Drone"] = settings.shown("drone_url")
    meta["Docker"] = settings.shown("docker_host")
