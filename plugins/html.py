"""pytest-html as a gate report: the phase in the title, the gate verdicts on top, one row per requirement.

Each row carries the requirement's id (sortable, in spec order), its gate, its verdict, its
gates.md text, the operator sentence, and the evidence as links (pytest-html's Links column and
a table in the row's details). The gate verdict lines (`M1: PASS (7/7) head ... build #58`) are
put at the top of the page, before pytest-html's environment table, once the report is written.
"""

from __future__ import annotations

import html
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from ghostgates.catalogue import ALL, TEXT
from plugins.verdicts import ERROR_PROP, REQUIREMENT_PROP, VERDICT_PROP, requirement_of

try:
    import pytest_html
except ImportError:  # the suite runs without HTML; the JSON and review file still carry everything
    pytest_html = None

# pytest-html's own anchor: the gate summary goes right before it (resources/index.jinja2).
_ENVIRONMENT = '<div id="environment-header">'


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


def pytest_html_report_title(report: Any) -> None:
    config = getattr(report, "_config", None)  # pytest-html's ReportData keeps its config
    if config is None:
        return
    from plugins.run import phase_of, settings_of, world_of

    settings = settings_of(config)
    try:
        name = phase_of(config).recipe
    except Exception:  # a bad phase stopped the run already; the title is not the place to say so
        name = "?"
    world = world_of(config)
    where = f"world {world.name}" if world is not None else f"live, {Path(settings.phase_file).name}"
    report.title = f"Gate report: {name} phase ({where}, role {settings.role})"


def pytest_html_results_table_header(cells: list[str]) -> None:
    # `sortable` + data-column-type + a `col-<type>` cell is how pytest-html sorts a column (app.js).
    cells.insert(1, '<th class="sortable" data-column-type="requirement">Requirement</th>')
    cells.insert(2, '<th class="sortable" data-column-type="gate">Gate</th>')
    cells.insert(3, '<th class="sortable" data-column-type="verdict">Verdict</th>')
    cells.insert(4, "<th>Passes when (gates.md)</th>")
    cells.insert(5, "<th>Reason</th>")


def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
    props = dict(report.user_properties)
    rid = str(props.get(REQUIREMENT_PROP, ""))
    recorded = props.get(VERDICT_PROP) or {}
    error = props.get(ERROR_PROP)
    verdict = "error" if error else recorded.get("verdict", "")
    reason = error or recorded.get("reason", "")
    # The sort key is the cell's text: a hidden spec position first sorts requirements in gates.md order.
    order = f"{ALL.index(rid):02d}" if rid in ALL else "99"
    cells.insert(1, f'<td class="col-requirement"><span hidden>{order}</span>{html.escape(rid)}</td>')
    cells.insert(2, f'<td class="col-gate"><span hidden>{order}</span>{html.escape(rid.split(".")[0])}</td>')
    cells.insert(3, f'<td class="col-verdict verdict-{html.escape(str(verdict))}">{html.escape(str(verdict))}</td>')
    cells.insert(4, f'<td class="col-spec">{html.escape(TEXT.get(rid, ""))}</td>')
    cells.insert(5, f'<td class="col-reason">{html.escape(str(reason))}</td>')


def pytest_sessionstart(session: pytest.Session) -> None:
    """What the run looked at, in the report's Environment table (never a token). At session
    start, not configure: by then the trigger has settled the role (a Builder's run)."""
    config = session.config
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
    from plugins.habits import engine_line

    meta["Docker"] = engine_line(session.config)


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, Any, Any]:
    result = yield
    config = session.config
    path = getattr(config.option, "htmlpath", None)
    reporter = config.pluginmanager.get_plugin("ghost-gates-reporter")
    if pytest_html is None or not path or reporter is None or not reporter.gates:
        return result
    target = Path(path)
    try:
        text = target.read_text(encoding="utf-8")
    except OSError:
        return result
    if _ENVIRONMENT in text and 'id="gate-verdicts"' not in text:
        text = text.replace(_ENVIRONMENT, gate_summary_html(reporter.gates, reporter.done_line) + _ENVIRONMENT, 1)
        target.write_text(text, encoding="utf-8")
    return result


def gate_summary_html(gates: dict[str, dict[str, Any]], done_line: str | None = None) -> str:
    items = []
    for gate, entry in gates.items():
        state = (entry.get("verdict") or "none").lower()
        items.append(f'<li class="gate gate-{state}" data-gate="{html.escape(gate)}">'
                     f"<b>{html.escape(entry['line'])}</b></li>")
    done = f'<p id="done-readiness">{html.escape(done_line)}</p>' if done_line else ""
    style = ("<style>#gate-verdicts li{font-size:1.15em;margin:.2em 0}.gate-pass b{color:#1a7f37}"
             ".gate-fail b{color:#cf222e}.gate-none b{color:#6e7781}</style>")
    return (f'<div id="gate-verdicts">{style}<h2>Gate verdicts</h2><ul>{"".join(items)}</ul>{done}</div>')
