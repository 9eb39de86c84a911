"""pytest-html as a gate report, through pytest-html's own hooks only.

- Title (`pytest_html_report_title`): the phase, world or live, and the role.
- Summary (`pytest_html_results_summary`): every gate gates.json holds after the merge by gate, each
  with its own line, head, build, time, role and the run that wrote it; the requirement rows of a
  gate an earlier run wrote, since the results table holds only this run's tests.
- Rows (`pytest_html_results_table_header/row`): the requirement id (sortable, in spec order), its
  gate, its verdict, its gates.md text, the operator sentence and the evidence as links, one after
  another with a separator; the evidence table in the row's details.

All of it renders the reporter's result model (ghostgates/record/summary.py) or, for a row, the
same `result_of` the reporter uses; every text from a server is escaped for HTML and only
http(s) URLs become links (ghostgates/record/escape.py).

The report is always self-contained, wherever `--html` points (pytest-html's
`--self-contained-html`, forced): no assets/ folder is written beside it. It carries a strict
Content-Security-Policy: no remote load of any kind; the one inline script allowed is pytest-html's
own app.js, by its hash; styles inline; images and media only as data: URIs. pytest-html has no
hook for the page's head, so the policy's `<meta>` goes in through its `--css` channel (a CSS file
whose text closes the style element, puts the meta, and opens another): the one place where a
channel is used for more than it says.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from ghostgates.catalogue import ALL, GATES, TEXT
from ghostgates.record.escape import html_link, html_text
from ghostgates.record.summary import GateResult, Result, RunReport
from plugins.verdicts import requirement_of, result_of

try:
    import pytest_html
except ImportError:  # the suite runs without HTML; the JSON and review file still carry everything
    pytest_html = None

_CSP_FILE = pytest.StashKey[str]()


def _template() -> tuple[Path, str]:
    resources = Path(pytest_html.__file__).parent / "resources"
    return resources, (resources / "index.jinja2").read_text(encoding="utf-8")


def _app_script() -> str:
    """pytest-html's inline script exactly as its template renders it (for the policy's hash)."""
    import jinja2

    resources, template = _template()
    match = re.search(r"<script>(.*?)</script>", template, re.S)
    if match is None:
        raise RuntimeError("pytest-html's template has no inline script")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader([str(resources)]))
    return env.from_string(match.group(1)).render()


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def content_security_policy() -> str:
    """Exactly what pytest-html's self-contained page needs: its own script and its template's own
    inline handlers (the reload button's `location.reload()`), by hash; inline styles; data: images."""
    handlers = sorted(set(re.findall(r'\son[a-z]+="([^"]*)"', _template()[1])))
    scripts = " ".join([_sha256(_app_script()), *(["'unsafe-hashes'"] if handlers else []),
                        *(_sha256(h) for h in handlers)])
    return ("default-src 'none'; "
            f"script-src {scripts}; "
            "style-src 'unsafe-inline'; img-src data:; media-src data:; font-src 'none'; connect-src 'none'; "
            "frame-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'")


@pytest.hookimpl(tryfirst=True)  # before pytest-html's own pytest_configure reads these options
def pytest_configure(config: pytest.Config) -> None:
    if pytest_html is None or getattr(config, "workerinput", None) is not None:
        return
    # Self-contained wherever --html points: attached alone, the report is whole.
    config.option.self_contained_html = True
    meta = f'<meta http-equiv="Content-Security-Policy" content="{html_text(content_security_policy())}">'
    fd, path = tempfile.mkstemp(prefix="ghost-gates-csp-", suffix=".css")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"</style>\n{meta}\n<style>\n")
    config.stash[_CSP_FILE] = path
    config.option.css = [*(getattr(config.option, "css", None) or []), path]
    config.pluginmanager.register(GateHtml(config), "ghost-gates-html")


def pytest_unconfigure(config: pytest.Config) -> None:
    path = config.stash.get(_CSP_FILE, None)
    if path:
        Path(path).unlink(missing_ok=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """The evidence table in the row's details (pytest-html's extras, as HTML it inserts as is)."""
    report = yield
    if pytest_html is None or report.when != "call" or requirement_of(item) is None:
        return report
    data = result_of([report])
    if data is not None:
        rid = data.pop("id")
        table = evidence_table(Result.from_data(rid, data))
        if table:
            report.extras = [*getattr(report, "extras", []), pytest_html.extras.html(table)]
    return report


def evidence_table(result: Result) -> str:
    rows = []
    for ev in result.evidence:
        facts = ", ".join(f"{k}={v}" for k, v in ev.items() if k not in ("kind", "name", "url"))
        rows.append(f"<tr><td>{html_text(ev.get('kind', ''))}</td><td>{html_link(ev.get('name', ''), ev.get('url'))}"
                    f"</td><td>{html_text(facts)}</td></tr>")
    # The sentence itself is the row's Reason cell (and pytest's log below): not repeated here.
    return f'<table class="evidence">{"".join(rows)}</table>' if rows else ""


def evidence_links(result: Result) -> str:
    """Each evidence object a link (http/https) or escaped text, separated so they never run together."""
    return '<span class="sep">, </span>'.join(html_link(ev.get("name") or ev.get("kind", ""), ev.get("url"))
                                               for ev in result.evidence)


class GateHtml:
    """pytest-html's hooks for this run (registered on the controller, which holds the config)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_html_report_title(self, report: Any) -> None:
        from plugins.run import phase_of, settings_of, world_of

        settings = settings_of(self.config)
        try:
            name = phase_of(self.config).recipe
        except Exception:  # a bad phase stopped the run already; the title is not the place to say so
            name = "?"
        world = world_of(self.config)
        where = f"world {world.name}" if world is not None else f"live, {Path(settings.phase_file).name}"
        report.title = f"Gate report: {name} phase ({where}, role {settings.role})"

    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str],
                                    session: pytest.Session) -> None:
        reporter = self.config.pluginmanager.get_plugin("ghost-gates-reporter")
        run = reporter.finish(session) if reporter is not None else None
        if run is not None:
            prefix.append(gate_summary_html(run))

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        # `sortable` + data-column-type + a `col-<type>` cell is how pytest-html sorts a column (app.js).
        cells.insert(1, '<th class="sortable" data-column-type="requirement">Requirement</th>')
        cells.insert(2, '<th class="sortable" data-column-type="gate">Gate</th>')
        cells.insert(3, '<th class="sortable" data-column-type="verdict">Verdict</th>')
        cells.insert(4, "<th>Passes when (gates.md)</th>")
        cells.insert(5, "<th>Reason</th>")
        cells.insert(6, "<th>Evidence</th>")

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        data = result_of([report])
        if data is None:
            for at in range(1, 7):
                cells.insert(at, "<td></td>")
            return
        rid = data.pop("id")
        result = Result.from_data(rid, data, _state_dir(self.config))
        # The sort key is the cell's text: a hidden spec position first sorts requirements in gates.md order.
        order = f"{ALL.index(rid):02d}" if rid in ALL else "99"
        cells.insert(1, f'<td class="col-requirement"><span hidden>{order}</span>{html_text(rid)}</td>')
        cells.insert(2, f'<td class="col-gate"><span hidden>{order}</span>{html_text(rid.split(".")[0])}</td>')
        cells.insert(3, f'<td class="col-verdict verdict-{html_text(result.status)}">{html_text(result.status)}</td>')
        cells.insert(4, f'<td class="col-spec">{html_text(TEXT.get(rid, ""))}</td>')
        cells.insert(5, f'<td class="col-reason">{html_text(result.reason)}</td>')
        cells.insert(6, f'<td class="col-evidence">{evidence_links(result)}</td>')

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """What the run looked at, in the report's Environment table (never a token). At session
        start, not configure: by then the trigger has settled the role (a Builder's run). pytest-html
        puts these values into the page as HTML, so each is escaped here."""
        from pytest_metadata.plugin import metadata_key

        from plugins.habits import engine_line
        from plugins.run import SETTINGS_STASH

        config = self.config
        meta = config.stash[metadata_key]
        settings = config.stash.get(SETTINGS_STASH, None)
        if settings is not None:
            meta["Phase"] = settings.phase_file
            meta["World"] = settings.world or "live"
            meta["Role"] = settings.role
            meta["State dir"] = settings.state_dir
            meta["Gitea"] = settings.shown("gitea_url")
            meta["Drone"] = settings.shown("drone_url")
            meta["Docker"] = engine_line(config)
        for key, value in list(meta.items()):
            meta[key] = _escaped(value)


def _escaped(value: Any) -> Any:
    if isinstance(value, dict):
        return {html_text(k): _escaped(v) for k, v in value.items()}
    return html_text(value) if isinstance(value, str) else value


def _state_dir(config: pytest.Config) -> str | None:
    from plugins.run import SETTINGS_STASH

    settings = config.stash.get(SETTINGS_STASH, None)
    return settings.state_dir if settings is not None else None


def gate_summary_html(run: RunReport) -> str:
    """Every gate the merged gates.json holds: its line, binding and run; an earlier run's rows too."""
    items = []
    for gate, entry in run.all_gates.items():
        state = (entry.verdict or "none").lower()
        mine = gate in run.gates
        items.append(f'<li class="gate gate-{html_text(state)}" data-gate="{html_text(gate)}">'
                     f'<b class="gate-line">{html_text(entry.line)}</b>'
                     f'<div class="gate-binding">{_binding(entry, mine)}</div>'
                     f"{'' if mine else _earlier_rows(gate, run)}</li>")
    done = f'<p id="done-readiness">{html_text(run.done_line)}</p>' if run.done_line else ""
    count = f'<p id="gate-count">{html_text(run.count_line)}</p>'
    style = ("<style>#gate-verdicts li{font-size:1.15em;margin:.4em 0}.gate-pass b{color:#1a7f37}"
             ".gate-fail b{color:#cf222e}.gate-none b{color:#6e7781}.gate-binding{font-size:.8em;color:#57606a}"
             "#gate-verdicts table{font-size:.8em}</style>")
    return f'<div id="gate-verdicts">{style}<h2>Gate verdicts</h2><ul>{"".join(items)}</ul>{count}{done}</div>'


def _binding(entry: GateResult, mine: bool) -> str:
    run = entry.run or {}
    who = "this run" if mine else f"an earlier run ({html_text(run.get('args', ''))})"
    return (f"head {html_text(entry.head)}, build {html_text(entry.build)}, at {html_text(entry.at)}, "
            f"role {html_text(entry.role)}; written by {who}, run {html_text(run.get('id', '?'))} "
            f"at {html_text(run.get('at', entry.at))}")


def _earlier_rows(gate: str, run: RunReport) -> str:
    rows = []
    for rid in GATES.get(gate, ()):
        result = run.earlier.get(rid)
        if result is None:
            continue
        rows.append(f'<tr class="earlier-row"><td>{html_text(rid)}</td><td>{html_text(result.status)}</td>'
                    f"<td>{html_text(result.reason)}</td><td>{evidence_links(result)}</td></tr>")
    return f'<table class="earlier">{"".join(rows)}</table>' if rows else ""
