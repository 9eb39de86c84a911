"""What the operator sees, tested in process with `pytester` (as pytest-xdist tests itself).

Each test copies the suite's shell (conftest.py, pyproject.toml, gates/, phases/) into a fresh
directory and runs pytest there in this process, against the twin: the terminal lines, the exit
code, gates.json, the review file and the HTML report are all read back.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ghostgates.catalogue import ALL, GATES
from ghostgates.record.review import records
from twin import running_twin
from twin.world import load_world

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "world.yaml"
TRIGGER_WORLDS = ROOT / "tests" / "trigger" / "worlds"
HEAD = "f1e2d3c4b5a6978877665544332211a0b9c8d7e6"


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _run(suite: pytest.Pytester, *args: str) -> pytest.RunResult:
    return suite.runpytest_inprocess(*args)


# --- the gate verdict, everywhere ------------------------------------------------------------------

def test_gate_lines_in_the_terminal_and_gates_json(suite: pytest.Pytester) -> None:
    result = _run(suite, "gates", "--world", str(DEMO), "--role", "builder")
    assert result.ret == 1  # M2.no-leaks fails on purpose in the demo world
    out = result.stdout.lines
    assert f"M1: PASS (7/7)  head {HEAD}  build #58" in out
    assert f"M2: FAIL (9/10: M2.no-leaks)  head {HEAD}  build #58" in out
    data = _json(suite.path / "reports" / "gates.json")
    assert data["gates"]["M1"]["verdict"] == "PASS" and data["gates"]["M1"]["head"] == HEAD
    assert data["gates"]["M2"] == {**data["gates"]["M2"], "verdict": "FAIL", "passed": 9, "total": 10,
                                   "failing": ["M2.no-leaks"], "build": "58"}


def test_the_builders_run_ends_with_whether_done_may_be_written(suite: pytest.Pytester) -> None:
    result = _run(suite, "gates", "--world", str(DEMO), "--role", "builder")
    last = [line for line in result.stdout.lines if line.strip()][-1]
    # The demo's review file holds adversary PASSes bound to the head and build #58 ...
    assert last.startswith(f"DONE may be written now: adversary PASSes for M1 and M2 are bound to head {HEAD} "
                           "and build #58.")
    # ... and this run's own M2 failure is said beside it.
    assert "But this run sees M2: FAIL (9/10: M2.no-leaks)" in last


def test_the_builders_last_line_names_what_is_missing(suite: pytest.Pytester, tmp_path: Path) -> None:
    world = yaml.safe_load(DEMO.read_text())
    world["files"]["machine-docs/REVIEW-ghost.md"] = "# REVIEW: ghost\n"
    path = tmp_path / "no-records.yaml"
    path.write_text(yaml.safe_dump(world, sort_keys=False))
    result = _run(suite, "gates/m1", "--world", str(path), "--role", "builder")
    last = [line for line in result.stdout.lines if line.strip()][-1]
    assert last == f"DONE may not be written yet: no M1 record; no M2 record (head {HEAD}, build #58)."


def test_m1_then_m2_leaves_both_gates(suite: pytest.Pytester) -> None:
    _run(suite, "gates/m1", "--world", str(DEMO), "--role", "builder")
    _run(suite, "gates/m2", "--world", str(DEMO), "--role", "builder")
    data = _json(suite.path / "reports" / "gates.json")
    assert list(data["gates"]) == ["M1", "M2"]
    assert list(data["results"]) == [*GATES["M1"], *GATES["M2"]]
    # Rerunning one requirement of M1 replaces M1 (all of it), never M2.
    _run(suite, "gates", "--world", str(DEMO), "--role", "builder", "-k", "M1.inventory")
    data = _json(suite.path / "reports" / "gates.json")
    assert list(data["results"]) == ["M1.inventory", *GATES["M2"]]
    assert data["gates"]["M1"]["verdict"] is None and data["gates"]["M1"]["ran"] == 1
    assert data["gates"]["M2"]["verdict"] == "FAIL"


# --- outputs that don't clobber each other ---------------------------------------------------------

@pytest.mark.parametrize("args", [("--co",), ("-k", "no_such_requirement"), ("--help",),
                                  ("-m", "done and m1")])
def test_nothing_selected_writes_nothing(suite: pytest.Pytester, args: tuple[str, ...]) -> None:
    state = suite.path / "state"
    state.mkdir()
    if args[0] in ("--co", "--help"):
        # A state dir of the user's own: --co and --help read nothing, refuse nothing, write nothing.
        (state / "REVIEW-ghost.md").write_text("mine\n")
    result = _run(suite, "gates", "--world", str(DEMO), "--state-dir", str(state), *args)
    assert result.ret in (0, 5), result.stdout.str()
    reports = suite.path / "reports"
    assert not reports.exists() or not any(reports.iterdir())  # no gates.json, no HTML report
    review = (state / "REVIEW-ghost.md").read_text()
    if args[0] in ("--co", "--help"):
        assert review == "mine\n"  # not even the world's files were written
    else:
        assert "gate-record" not in review.replace(yaml.safe_load(DEMO.read_text())["files"][
            "machine-docs/REVIEW-ghost.md"], "")  # the world's own file, no block of this run


def test_scratch_state_dirs_are_removed_at_exit(suite: pytest.Pytester) -> None:
    result = _run(suite, "gates/m1", "--world", str(DEMO))
    data = _json(suite.path / "reports" / "gates.json")
    # Evidence names the state file relative to the state dir, not by this machine's path (issue 20).
    cited = [ev["name"] for ev in data["results"]["M1.inventory"]["evidence"] if ev.get("kind") == "file"]
    assert cited == ["STATUS-ghost.md"]
    scratch = re.search(r"role adversary, state (\S*ghost-gates-state-\S+)$", result.stdout.str(), re.M)
    assert scratch, result.stdout.str()
    assert not Path(scratch.group(1)).exists()  # (other runs on this machine make their own: no global count)


# --- pytest habits ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "ids"), [
    (("-k", "M1.inventory"), ["M1.inventory"]),
    (("-k", "M2.outcome or M2.no-leaks"), ["M2.outcome", "M2.no-leaks"]),
    (("-m", "m1"), list(GATES["M1"])),
    (("-m", "done"), ["DONE.signed"]),
    (("--requirement", "M2.classified,M1.correct-pr"), ["M1.correct-pr", "M2.classified"]),
])
def test_select_by_id_and_by_gate_marker(suite: pytest.Pytester, args: tuple[str, ...], ids: list[str]) -> None:
    _run(suite, "gates", "--world", str(DEMO), "--role", "builder", *args)
    assert list(_json(suite.path / "reports" / "gates.json")["results"]) == ids


def test_an_unknown_requirement_id_is_a_usage_error(suite: pytest.Pytester) -> None:
    result = _run(suite, "gates", "--world", str(DEMO), "--requirement", "M1.inventroy")
    assert result.ret == 4
    assert "--requirement M1.inventroy: not an id of gates.md" in result.stderr.str()


def test_last_failed_reruns_the_failure(suite: pytest.Pytester) -> None:
    _run(suite, "gates", "--world", str(DEMO), "--role", "builder")
    result = _run(suite, "gates", "--world", str(DEMO), "--role", "builder", "--lf")
    result.assert_outcomes(failed=1)
    results = _json(suite.path / "reports" / "gates.json")["results"]
    assert [rid for rid in results if rid.startswith("M2.")] == ["M2.no-leaks"]  # M2 replaced, M1 kept
    assert [rid for rid in results if rid.startswith("M1.")] == list(GATES["M1"])


def test_help_lists_the_environment(suite: pytest.Pytester) -> None:
    text = _run(suite, "--help").stdout.str()
    for name in ("GITEA_URL", "GITEA_TOKEN", "DRONE_SERVER", "DRONE_TOKEN", "DOCKER_HOST", "DOCKER_CONTEXT",
                 "DOCKER_TLS_VERIFY"):
        assert re.search(rf"^\s+{name}\b", text, re.M), name
    assert "--requirement" in text and "--trigger-testme" in text


def test_markers_are_registered(suite: pytest.Pytester) -> None:
    text = _run(suite, "--markers").stdout.str()
    assert "@pytest.mark.m1:" in text and "@pytest.mark.m2:" in text and "@pytest.mark.done:" in text


def test_a_mistyped_state_dir_is_a_usage_error(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITEA_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DRONE_SERVER", "http://127.0.0.1:9")
    result = _run(suite, "gates", "--state-dir", "machine-dcos")
    assert result.ret == 4
    assert "--state-dir machine-dcos: no such directory" in result.stderr.str()
    reports = suite.path / "reports"
    assert not reports.exists() or not any(reports.iterdir())


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Path]]:
    """The demo world served by a twin the test started, the suite pointed at it as at live services."""
    world = load_world(DEMO)
    state = tmp_path / "machine-docs"
    state.mkdir()
    for name, text in world.files.items():
        (state / Path(name).name).write_text(text)
    with running_twin(world, faults=getattr(live, "faults", ())) as twin:
        monkeypatch.setenv("GITEA_TOKEN", twin.gitea_token)
        monkeypatch.setenv("DRONE_TOKEN", twin.drone_token)
        monkeypatch.setenv("DOCKER_HOST", twin.docker_url)
        yield twin, state


def test_gitea_url_given_with_its_api_path_works(suite: pytest.Pytester, live: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    twin, state = live
    monkeypatch.setenv("GITEA_URL", twin.gitea_url + "/api/v1/")
    monkeypatch.setenv("DRONE_SERVER", twin.drone_url + "/api")
    _run(suite, "gates/m1", "--state-dir", str(state), "--role", "builder")
    results = _json(suite.path / "reports" / "gates.json")["results"]
    assert {r["verdict"] for r in results.values()} == {"pass"}, results


def test_token_values_never_in_any_output(suite: pytest.Pytester, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    world = load_world(DEMO)
    state = tmp_path / "machine-docs"
    state.mkdir()
    for name, text in world.files.items():
        (state / Path(name).name).write_text(text)
    # Every Drone read of the repo answers 401 (the token's own user still answers: the run may start).
    with running_twin(world, faults=["status=401:service=drone:path=/api/repos/*"]) as twin:
        monkeypatch.setenv("GITEA_URL", twin.gitea_url)
        monkeypatch.setenv("DRONE_SERVER", twin.drone_url)
        monkeypatch.setenv("GITEA_TOKEN", twin.gitea_token)
        monkeypatch.setenv("DRONE_TOKEN", twin.drone_token)
        monkeypatch.setenv("DOCKER_HOST", twin.docker_url)
        result = _run(suite, "gates", "--state-dir", str(state), "--showlocals", "-rA")
    results = _json(suite.path / "reports" / "gates.json")["results"]
    assert results["M1.fresh-run"]["verdict"] == "error" and "401" in results["M1.fresh-run"]["reason"]
    outputs = {
        "terminal": result.stdout.str() + result.stderr.str(),
        "gates.json": (suite.path / "reports" / "gates.json").read_text(),
        "html": (suite.path / "reports" / "gates.html").read_text(),
        "review": (state / "REVIEW-ghost.md").read_text(),
    }
    for where, text in outputs.items():
        for token in (twin.gitea_token, twin.drone_token):
            assert token not in text, f"a token's value is in the {where}"


def test_review_rows_carry_the_evidence_links(suite: pytest.Pytester, tmp_path: Path) -> None:
    state = tmp_path / "state"
    _run(suite, "gates", "--world", str(DEMO), "--state-dir", str(state))
    text = (state / "REVIEW-ghost.md").read_text()
    assert records(text)["M1"].role == "adversary"
    row = next(line for line in text.splitlines() if line.startswith("| M2.outcome |"))
    assert re.search(r"\[build \\#58\]\(http://127\.0\.0\.1:\d+/recipe-maintainers/cc-ci/58\) \|$", row), row


def test_a_slow_service_says_what_it_waits_for(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    from ghostgates.fetch import http

    monkeypatch.setattr(http, "SLOW_AFTER", 0.05)
    result = _run(suite, "gates/m1", "--world", str(DEMO), "--role", "builder", "--twin-latency-ms", "150",
                  "-k", "M1.inventory")
    assert re.search(r"Gitea: still waiting for GET http://127\.0\.0\.1:\d+/api/v1/\S+ \(try 1 of 4, 0\.05s so far\)",
                     result.stdout.str()), result.stdout.str()


# --- the Builder never signs; one line per stop ----------------------------------------------------

def test_a_run_that_posts_writes_no_block_whatever_the_role(suite: pytest.Pytester, tmp_path: Path) -> None:
    state = tmp_path / "state"
    world = TRIGGER_WORLDS / "green.yaml"
    result = _run(suite, "gates/m1", "--world", str(world), "--state-dir", str(state), "--trigger-testme", "--yes",
                  "--watch-interval", "0.05", "--role", "adversary")
    review = state / "REVIEW-ghost.md"
    given = load_world(world).files.get("machine-docs/REVIEW-ghost.md")
    assert (review.read_text() if review.exists() else None) == given
    assert "M1: role builder, the review file is untouched; the block would be:" in result.stdout.str()
    assert "role=adversary" not in result.stdout.str()


def test_a_refusal_is_one_line_and_its_own_exit_code(suite: pytest.Pytester) -> None:
    result = _run(suite, "gates/m1", "--world", str(TRIGGER_WORLDS / "blackout.yaml"), "--trigger-testme", "--yes")
    assert result.ret == 6
    text = result.stdout.str() + result.stderr.str()
    assert text.count("trigger refused: blackout 'cfold CI sweep' is in force") == 1, text
    assert not (suite.path / "reports" / "gates.json").exists()


# --- the HTML report, in a real browser ------------------------------------------------------------

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (scripts/test.sh installs Debian's `chromium`)")
    return found


def test_the_html_report_in_a_browser(suite: pytest.Pytester, tmp_path: Path) -> None:
    browser = _chromium()
    _run(suite, "gates", "--world", str(DEMO), "--role", "builder")
    report = suite.path / "reports" / "gates.html"
    profile = tmp_path / "profile"

    def chromium(*args: str) -> str:
        proc = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, report.as_uri()],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    dom = chromium("--virtual-time-budget=5000", "--dump-dom")
    title = re.search(r'<h1 id="title">([^<]*)</h1>', dom)
    assert title and title.group(1) == "Gate report: ghost phase (world demo, role builder)"
    summary = dom.index('id="gate-verdicts"')
    assert summary < dom.index('id="results-table"')  # the verdicts come before the rows
    assert f"M1: PASS (7/7)  head {HEAD}  build #58" in dom
    assert "M2: FAIL (9/10: M2.no-leaks)" in dom
    # The rows, as the browser's script laid them out: one per requirement, in gates.md order.
    cells = re.findall(r'<td class="col-requirement"><span hidden="">\d+</span>([^<]+)</td>', dom)
    assert cells == list(ALL)
    assert "the state file cites every open upgrade PR" in dom  # the gates.md text beside its id
    assert re.search(r'<a [^>]*href="http://127\.0\.0\.1:\d+/recipe-maintainers/cc-ci/58"', dom)
    shot = ROOT / "reports" / "gates-report.png"
    shot.parent.mkdir(exist_ok=True)
    chromium("--window-size=1400,1800", f"--screenshot={shot}")
    assert shot.stat().st_size > 10_000  # the CI artifact


def test_gate_tests_run_in_spec_order(suite: pytest.Pytester) -> None:
    result = _run(suite, "gates", "--world", str(DEMO), "--role", "builder", "-v")
    ran = [line.split("::")[1].split()[0] for line in result.stdout.lines if line.startswith("gates/")]
    assert ran == [f"test_requirement[{rid}]" for rid in ALL]  # named by id (issue 20), in gates.md order
