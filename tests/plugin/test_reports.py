"""What the suite writes and shows (issues 19 and 20): early stops, hostile text, JUnit, -q, live lines.

Each case runs the suite as a user does (a subprocess against the twin, `run_gates`) or renders the
one result model directly (ghostgates/record/summary.py) where the case is about one renderer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import yaml

from ghostgates.catalogue import ALL, GATES
from ghostgates.record import escape, review, summary
from ghostgates.record.summary import GateResult, Result
from plugins import html as html_plugin
from plugins.reporter import result_lines

from .conftest import DEMO, ROOT

WORLDS = ROOT / "worlds"
HEAD = "f1e2d3c4b5a6978877665544332211a0b9c8d7e6"
INJECT = '"><img src=x onerror="document.body.setAttribute(\'data-pwned\',\'1\')">'


def _world(tmp_path: Path, name: str, change: Any) -> Path:
    world = yaml.safe_load(DEMO.read_text())
    change(world)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(world, sort_keys=False))
    return path


# --- issue 19, case 5: an early stop still records a failure found ---------------------------------

def test_x_after_a_failure_writes_the_gate_fail_naming_what_did_not_run(run_gates):
    # The demo's review file holds an M2 PASS; M2.no-leaks fails, -x stops the run right after it.
    before = review.records(yaml.safe_load(DEMO.read_text())["files"]["machine-docs/REVIEW-ghost.md"])
    assert before["M2"].verdict == "PASS"
    run = run_gates("-x")
    assert run.code == 1
    text = (run.state_dir / "REVIEW-ghost.md").read_text()
    recs = review.records(text)
    assert recs["M2"].verdict == "FAIL" and recs["M2"].role == "adversary"
    assert recs["M1"].verdict == "PASS"
    assert "| M2.evidence-kept | did not run |" in text and "| M2.classified | did not run |" in text
    assert "M2.evidence-kept, M2.classified did not run." in text
    gate = run.data["gates"]["M2"]
    assert gate["verdict"] == "FAIL" and gate["not_run"] == ["M2.evidence-kept", "M2.classified"]
    assert "M2: FAIL (7/10: M2.no-leaks; did not run: M2.evidence-kept, M2.classified)" in run.output


def test_maxfail_under_xdist_still_records_the_failure(run_gates):
    run = run_gates("--maxfail", "1", "-n", "2")
    recs = review.records((run.state_dir / "REVIEW-ghost.md").read_text())
    assert recs["M2"].verdict == "FAIL"


def test_x_in_m1_writes_m1_fail_and_leaves_m2_as_it_was(run_gates, tmp_path: Path):
    world = WORLDS / "correct-pr-closed.yaml"
    given = yaml.safe_load(world.read_text())["files"]["machine-docs/REVIEW-ghost.md"]
    run = run_gates("-x", world=world)
    text = (run.state_dir / "REVIEW-ghost.md").read_text()
    recs = review.records(text)
    assert recs["M1"].verdict == "FAIL"
    assert run.data["gates"]["M1"]["not_run"] == list(GATES["M1"][2:])
    # M2 did not start: no failure found in it, so no M2 block: the world's M2 block stays byte for byte.
    old_m2 = review.blocks(given)["M2"]
    new_m2 = review.blocks(text)["M2"]
    assert review.split_lines(given)[old_m2.start:old_m2.end] == review.split_lines(text)[new_m2.start:new_m2.end]
    assert "M2" not in run.data["gates"]


def test_a_gate_with_no_failure_found_that_did_not_finish_has_no_verdict():
    ran = {rid: Result(rid, "pass", "ok") for rid in GATES["M2"][:4]}
    gate = summary.gate_result("M2", ran, {"role": "adversary"}, stopped_early=True)
    assert gate.verdict is None and gate.not_run == ()
    failed = {**ran, GATES["M2"][4]: Result(GATES["M2"][4], "error", "could not find out")}
    # An error is no failure found: it never writes a FAIL behind an older record either.
    assert summary.gate_result("M2", failed, {}, stopped_early=True).verdict is None
    failed[GATES["M2"][4]] = Result(GATES["M2"][4], "fail", "broken")
    assert summary.gate_result("M2", failed, {}, stopped_early=True).not_run == tuple(GATES["M2"][5:])
    # Not stopped (a -k selection): no verdict however it went.
    assert summary.gate_result("M2", failed, {}, stopped_early=False).verdict is None


# --- issue 19, case 7: hostile text escaped for where it goes --------------------------------------

def test_only_http_urls_become_links():
    for url in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "vbscript:msgbox", "data:text/html,<script>",
                "file:///etc/passwd", INJECT, "http://x/a b", "http://", "https://h/\x1b[2J"):
        assert escape.safe_url(url) is None, url
        assert "href" not in escape.html_link("n", url)
        assert "](" not in escape.markdown_link("n", url)
    assert escape.safe_url("https://git.example.org/o/r/pulls/4") == "https://git.example.org/o/r/pulls/4"


def test_a_hostile_pr_url_renders_inert_everywhere():
    result = Result("M2.outcome", "fail", 'broken <script>alert(1)</script>',
                    ({"kind": "pr", "name": 'PR #4 "><b>x</b>', "url": INJECT},
                     {"kind": "build", "name": "build #58", "url": "javascript:alert(1)"},
                     {"kind": "build", "name": "build #59", "url": "https://drone.example.org/o/r/59"}))
    for rendered in (html_plugin.evidence_links(result), html_plugin.evidence_table(result)):
        assert "<img" not in rendered and "<script" not in rendered and "<b>x" not in rendered
        assert re.findall(r'href="([^"]*)"', rendered) == ["https://drone.example.org/o/r/59"]
    row = review.evidence_links(result)
    assert "](javascript" not in row and "<img" not in row
    assert row.endswith("[build \\#59](https://drone.example.org/o/r/59)")
    data = result.to_json()
    assert data["links"] == [{"name": "build #59", "url": "https://drone.example.org/o/r/59"}]
    assert [e.get("url") for e in data["evidence"]] == [None, None, "https://drone.example.org/o/r/59"]
    assert data["evidence"][1]["unsafe_url"] == "javascript:alert(1)"


def _hostile_links(world: dict[str, Any]) -> None:
    for build in world["drone"]["repos"]["recipe-maintainers/cc-ci"]["builds"]:
        if build["number"] == 58:
            build["link"] = "javascript:document.body.setAttribute('data-pwned','1')"
        if build["number"] == 57:
            build["link"] = INJECT


def test_hostile_build_links_are_text_in_every_output(run_gates, tmp_path: Path):
    run = run_gates("--junitxml", str(tmp_path / "junit.xml"), world=_world(tmp_path, "hostile", _hostile_links))
    html = (tmp_path / "gates-0.html").read_text()
    assert "<img src=x" not in html and "javascript:document" not in re.sub(r"&[a-z]+;", "", html).split(
        "data-jsonblob")[0]
    blob = re.search(r'data-jsonblob="([^"]*)"', html)
    assert blob is not None
    tests = json.loads(__import__("html").unescape(blob.group(1)))["tests"]
    cells = "".join(cell for runs in tests.values() for t in runs for cell in t["resultsTableRow"])
    assert "<img" not in cells and 'href="javascript' not in cells
    text = (run.state_dir / "REVIEW-ghost.md").read_text()
    assert "](javascript" not in text and "<img" not in text
    for result in run.results.values():
        assert all(link["url"].startswith("http") for link in result["links"])
        assert all(not str(e.get("url", "http")).startswith("javascript") for e in result["evidence"])
    import shutil

    if shutil.which("chromium"):
        dom = _browse("chromium", tmp_path / "gates-0.html", tmp_path / "profile").stdout
        assert "data-pwned" not in dom.split("data-jsonblob")[0] and "<img src=\"x\"" not in dom
        assert 'class="col-requirement"' in dom  # the page rendered


def test_the_html_report_has_a_strict_policy_in_its_head(run_gates, tmp_path: Path):
    run_gates()
    html = (tmp_path / "gates-0.html").read_text()
    head = html[:html.index("</head>")]
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', head)
    assert policy is not None
    rules = dict(part.strip().split(" ", 1) for part in __import__("html").unescape(policy.group(1)).split(";"))
    assert rules["default-src"] == "'none'" and rules["connect-src"] == "'none'"
    assert rules["script-src"].startswith("'sha256-") and "unsafe-inline" not in rules["script-src"]
    assert rules["img-src"] == "data:" and rules["base-uri"] == "'none'"


def test_the_terminal_gets_no_control_characters_from_data():
    hostile = "leaked \x1b[2J\x1b[H\x1b]8;;http://evil\x07M1: PASS (7/7)\x1b]8;;\x07\rok\x9b2J\u202e"
    results = {"M2.no-leaks": Result("M2.no-leaks", "fail", hostile)}
    lines = result_lines(results)
    assert len(lines) == 1
    assert not re.search("[\x00-\x1f\x7f-\x9f\u202e]", lines[0])
    assert "\\x1b[2J\\x1b[H\\x1b]8;;http://evil\\x07" in lines[0] and "\\rok\\x9b2J\\u202e" in lines[0]
    gate = GateResult("M2", "FAIL", 9, 10, 10, ("M2.no-leaks",), head="\x1b[2J" + HEAD)
    assert "\x1b" not in gate.line and "\\x1b[2J" in gate.line


def test_each_failure_sentence_once_per_section(run_gates):
    run = run_gates("--twin-fault", "status=502:service=gitea", "--http-retries", "0")
    errors = [rid for rid, r in run.results.items() if r["verdict"] == "error"]
    assert len(errors) > 5
    sentence = run.results[errors[0]]["reason"]
    section = run.output.split("gate verdicts")[1]
    assert section.count(sentence) == 1, section
    # pytest's own ERRORS section: the first error whole, the others point back to it.
    errors_section = run.output.split("= ERRORS =")[1].split("= FAILURES =")[0].split("gate verdicts")[0]
    core = sentence.removeprefix("Could not find out: ")
    assert errors_section.count(core) == 1, errors_section
    same = "the same as gates/m1/test_m1.py::test_requirement[M1.inventory] above"
    assert errors_section.count(same) == len(errors) - 1


# --- issue 20: JUnit, -q, the count line ------------------------------------------------------------

def test_junit_properties_are_json(run_gates, tmp_path: Path):
    junit = tmp_path / "junit.xml"
    run_gates("--junitxml", str(junit))
    props = [p for p in ET.parse(junit).iter("property") if p.get("name") == "gate_verdict"]
    assert len(props) == len(ALL)
    for prop in props:
        data = json.loads(prop.get("value") or "")
        assert data["verdict"] in ("pass", "fail", "skip", "error") and "reason" in data


def test_quiet_prints_gate_lines_failures_and_a_count(run_gates):
    run = run_gates()  # run_gates passes -q
    section = run.output.split("gate verdicts")[1].split("Generated html report")[0]
    lines = [line for line in section.splitlines() if line.strip("= -")]
    assert lines[0].startswith("M2.no-leaks") and "FAIL" in lines[0]
    assert lines[1].startswith("DONE.signed")
    assert not any(" PASS " in line and line.startswith(("M1.", "M2.")) for line in lines)
    assert lines[2:5] == [f"M1: PASS (7/7)  head {HEAD}  build #58",
                          f"M2: FAIL (9/10: M2.no-leaks)  head {HEAD}  build #58",
                          f"DONE: FAIL (0/1: DONE.signed)  head {HEAD}  build #58"]
    assert lines[5] == "Count: 18, Failed: 2, Skipped: 0, Errors: 0"
    verbose = run_gates("-v")
    assert "M1.inventory             PASS" in verbose.output


def test_evidence_names_the_state_file_relative_to_the_state_dir(run_gates):
    run = run_gates()
    names = [e["name"] for e in run.results["M1.inventory"]["evidence"] if e["kind"] == "file"]
    assert names == ["STATUS-ghost.md"]
    assert str(run.state_dir) not in (run.state_dir / "REVIEW-ghost.md").read_text()


# --- the slow-request line, through the terminal while pytest captures ------------------------------

def test_the_slow_request_line_shows_while_a_fixture_waits(tmp_path: Path):
    # A real run with pytest's default fd capture (not pytester's): the line must reach the terminal.
    code = ("import sys, pytest\nfrom ghostgates.fetch import http\nhttp.SLOW_AFTER = 0.05\n"
            "sys.exit(pytest.main(sys.argv[1:]))\n")
    proc = subprocess.run([sys.executable, "-c", code, "gates/m1", "--world", str(DEMO), "--state-dir",
                           str(tmp_path / "s"), "--gates-json", str(tmp_path / "g.json"), "--html",
                           str(tmp_path / "r.html"), "--twin-latency-ms", "200", "-k", "M1.inventory",
                           "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert re.search(r"^Gitea: still waiting for GET http://127\.0\.0\.1:\d+/api/v1/\S+ \(try 1 of 4, 0\.05s so far\)$",
                     proc.stdout, re.M), proc.stdout


# --- issue 20, done when: the report alone, in another directory, in a browser ----------------------

def _text(fragment: str) -> str:
    return __import__("html").unescape(re.sub(r"<[^>]+>", "", fragment))


def _browse(browser: str, page: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    from .test_operator import CHROMIUM_FLAGS

    proc = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                           "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def test_the_report_alone_in_another_directory_shows_both_gates_in_a_browser(run_gates, tmp_path: Path):
    from .test_operator import _chromium

    browser = _chromium()
    folder = tmp_path / "attach" / "here"
    report = folder / "gates.html"
    merged = tmp_path / "gates.json"
    # The README's own order: gates/m1, then gates/m2, into one gates.json and one --html path.
    run_gates("--html", str(report), "--gates-json", str(merged), target="gates/m1", state_dir=tmp_path / "s1")
    run_gates("--html", str(report), "--gates-json", str(merged), target="gates/m2", state_dir=tmp_path / "s2")
    assert sorted(p.name for p in folder.iterdir()) == ["gates.html"]  # no assets/ beside it
    data = json.loads(merged.read_text())
    assert list(data["gates"]) == ["M1", "M2"]
    proc = _browse(browser, report, tmp_path / "profile")
    dom = proc.stdout
    assert "Content Security Policy" not in proc.stderr, proc.stderr[-2000:]  # nothing the page needs is refused
    head = dom[:dom.index("</head>")]
    assert 'http-equiv="Content-Security-Policy"' in head
    # Both gates, each with its own line, binding and run.
    summary_html = dom[dom.index('id="gate-verdicts"'):dom.index('id="results-table"')]
    for gate in ("M1", "M2"):
        entry = data["gates"][gate]
        assert _text(summary_html).count(entry["line"]) == 1, gate
        assert f"run {entry['run']['id']}" in _text(summary_html)
    assert data["gates"]["M1"]["run"]["id"] != data["gates"]["M2"]["run"]["id"]
    assert "written by an earlier run" in _text(summary_html) and "written by this run" in _text(summary_html)
    # The page finished (app.js ran under the policy): rows laid out, no "still running" notice shown.
    cells = re.findall(r'<td class="col-requirement"><span hidden="">\d+</span>([^<]+)</td>', dom)
    assert cells == list(GATES["M2"])
    assert re.search(r'class="summary__reload__button hidden"', dom)
    # Links: separate anchors to the http URLs gates.json lists, their text readable, never run together.
    earlier = re.findall(r'<tr class="earlier-row"><td>([^<]+)</td>.*?</tr>', summary_html)
    assert earlier == list(GATES["M1"])
    for rid in ("M1.fresh-run", "M2.outcome"):
        links = data["results"][rid]["links"]
        assert links and all(link["url"].startswith("http://127.0.0.1:") for link in links)
        for link in links:
            anchor = f'href="{link["url"]}" target="_blank" rel="noopener noreferrer">{link["name"]}</a>'
            assert anchor in dom, (rid, link)
    evidence = re.search(r'<td class="col-evidence">(.*?)</td>', dom.split('>M2.outcome</td>', 1)[1]).group(1)
    assert _text(evidence) == ", ".join(e["name"] for e in data["results"]["M2.outcome"]["evidence"])


def test_a_hostile_branch_name_reaches_no_output_raw(run_gates, tmp_path: Path):
    # Issue 19, case 8: a name from the server that clears the screen, opens an OSC 8 link and
    # overwrites its line with \r, to paint a fake verdict. Gitea sends branch names as data.
    name = "upgrade-x\x1b[2J\x1b[H\x1b]8;;http://evil\x07M1: PASS (7/7)\x1b]8;;\x07\r"

    def hostile_branch(world: dict[str, Any]) -> None:
        world["gitea"]["repos"]["recipe-maintainers/ghost"]["branches"].append(
            {"name": name, "commit": {"id": "9" * 40, "timestamp": "2026-06-15T12:30:00Z"}})

    run = run_gates("-rA", "--role", "builder", world=_world(tmp_path, "hostile-branch", hostile_branch))
    assert run.results["M1.inventory"]["verdict"] == "fail"
    assert "\x1b" not in run.output and "\r" not in run.output and "\x07" not in run.output
    shown = escape.terminal(name)
    assert f"M1.inventory             FAIL  The state file does not cite branch {shown}" in run.output
    assert re.search(r"^M1: FAIL \(6/7: M1\.inventory\)", run.output, re.M)
    # The review block the builder is shown, and the HTML, are escaped for their own grammar.
    html = (tmp_path / "gates-0.html").read_text()
    assert "\x1b" not in html.split("data-jsonblob")[0]


def test_the_html_row_shows_the_sentence_once_beside_its_log(run_gates, tmp_path: Path):
    run = run_gates()
    html = (tmp_path / "gates-0.html").read_text()
    blob = re.search(r'data-jsonblob="([^"]*)"', html)
    assert blob is not None
    tests = json.loads(__import__("html").unescape(blob.group(1)))["tests"]
    row = next(t for runs in tests.values() for t in runs if "M2.no-leaks" in "".join(t["resultsTableRow"]))
    sentence = __import__("html").escape(run.results["M2.no-leaks"]["reason"], quote=True)
    shown = "".join(row["resultsTableRow"]) + "".join(str(e.get("content", "")) for e in row["extras"])
    assert shown.count(sentence) == 1  # the Reason cell; pytest's own log section below has it once more


def test_gates_json_never_replaces_a_file_that_is_not_one(tmp_path: Path) -> None:
    """--gates-json given a file of someone else's (not JSON, or JSON without `results`): kept byte
    for byte, one line naming it, and the run does not end green."""
    for text in ("operator's notes, not JSON\n", '{"some": "other tool"}\n'):
        target = tmp_path / "notes.json"
        target.write_text(text, encoding="utf-8")
        cmd = [sys.executable, "-m", "pytest", "gates/m1", "--world", str(DEMO), "--role", "builder",
               "--gates-json", str(target), "--html", str(tmp_path / "r.html"), "-q", "-p", "no:cacheprovider"]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert target.read_text(encoding="utf-8") == text
        assert "exists and is not a gates.json" in proc.stdout + proc.stderr, proc.stdout[-2000:]
        assert proc.returncode != 0
