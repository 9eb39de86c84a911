"""The plugin end to end: verdict files, the review file, roles, xdist, errors."""

from __future__ import annotations

from pathlib import Path

from ghostgates.catalogue import ALL
from ghostgates.record.review import records

from .conftest import DEMO, world_without_files

# An M1 block of the older shape (record line, no closing marker) with text after it up to the next
# level-2 heading, and a user's own `## M1 notes` section: the old block runs to that heading and
# goes whole (gates.md); the user's section stays.
OLD_RECORD = ("<!-- gate-record gate=M1 verdict=FAIL role=adversary head=" + "0" * 40
              + " build=57 at=2026-06-15T11:20:00Z -->")
USER_TEXT = ("# REVIEW: ghost\r\n\r\nNotes by hand.\r\n\r\n## M1: old\r\n" + OLD_RECORD + "\r\n"
             "Checked by ghost-gates as adversary at 2026-06-15T11:20:00Z: 6 pass, 1 fail.\r\n\r\n"
             "| requirement | verdict | reason |\r\n|---|---|---|\r\n| M1.inventory | fail | old block |\r\n"
             "### Adversary notes\r\nkeep me\r\n\r\n## M1 notes\r\nmine too\r\n")


def test_every_requirement_reported_once(run_gates):
    run = run_gates()
    assert sorted(run.results) == sorted(ALL)
    assert run.data["world"] == "demo"
    for rid, result in run.results.items():
        assert result["verdict"] in ("pass", "fail", "skip", "error"), rid
        assert result["reason"], rid
    assert run.results["M2.no-leaks"]["verdict"] == "fail"
    names = [e["name"] for e in run.results["M2.no-leaks"]["evidence"]]
    assert "dev-ghost_mysql" in names


def test_review_blocks_replaced_and_the_rest_kept(run_gates, tmp_path: Path):
    state = tmp_path / "own-state"
    state.mkdir()
    # The world's files are written first; put the user's text in place of its review file.
    run = run_gates("--role", "builder", state_dir=state)
    (state / "REVIEW-ghost.md").write_bytes(USER_TEXT.encode())
    status = (state / "STATUS-ghost.md").read_text()
    run = run_gates(world=world_without_files(tmp_path), state_dir=state, served=True)
    assert (state / "STATUS-ghost.md").read_text() == status
    text = (state / "REVIEW-ghost.md").read_bytes().decode()
    assert text.startswith("# REVIEW: ghost\r\n\r\nNotes by hand.\r\n\r\n## M1: State inventory")
    assert "old block" not in text
    assert "<!-- /gate-record gate=M1 -->\r\n\r\n## M1 notes\r\nmine too\r\n" in text
    assert "keep me" not in text
    recs = records(text)
    assert recs["M1"].role == "adversary" and recs["M2"].verdict == "FAIL"
    assert recs["M1"].head == "f1e2d3c4b5a6978877665544332211a0b9c8d7e6" and recs["M1"].build == "58"
    assert run.code == 1
    # A second run replaces the blocks again and changes nothing else.
    run_gates(world=world_without_files(tmp_path), state_dir=state, served=True)
    # Equal but for the twin's ports, which the evidence links carry.
    assert _portless((state / "REVIEW-ghost.md").read_bytes().decode()) == _portless(text)


def test_builder_role_writes_nothing_and_prints_the_block(run_gates, tmp_path: Path):
    run = run_gates("--role", "builder", "-v")  # -q (run_gates) -v: the default verbosity shows the block
    review = (run.state_dir / "REVIEW-ghost.md").read_text()
    world_review = __import__("yaml").safe_load(DEMO.read_text())["files"]["machine-docs/REVIEW-ghost.md"]
    assert review == world_review
    assert "role builder, the review file is untouched" in run.output
    assert "gate-record gate=M1 verdict=PASS role=builder" in run.output
    quiet = run_gates("--role", "builder")
    assert "M1: role builder, the review file is untouched (run without -q to see the block" in quiet.output
    assert "gate-record" not in quiet.output


def test_partial_selection_writes_no_block(run_gates):
    run = run_gates("-k", "inventory")
    assert list(run.results) == ["M1.inventory"]
    assert "only 1 of 7 requirements ran, so no M1 block was written" in run.output


def test_xdist_gives_the_same_verdicts_and_files(run_gates, tmp_path: Path):
    serial = run_gates()
    parallel = run_gates("-n", "2")
    # The twin listens on new ports each run; everything else must be equal.
    assert _portless(parallel.results) == _portless(serial.results)
    assert _portless((parallel.state_dir / "REVIEW-ghost.md").read_text()) == \
        _portless((serial.state_dir / "REVIEW-ghost.md").read_text())


def _portless(data: object) -> str:
    import json
    import re

    text = data if isinstance(data, str) else json.dumps(data, sort_keys=True)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    return re.sub(r"state-\d+", "state-N", text)


def test_html_report_carries_ids_verdicts_and_links(run_gates, tmp_path: Path):
    run_gates()
    html = (tmp_path / "gates-0.html").read_text()
    assert "M1.inventory" in html and "Requirement" in html
    assert "recipe-maintainers/cc-ci/58" in html


def test_errors_are_never_pass_or_fail(run_gates):
    run = run_gates("--twin-fault", "status=502:service=gitea", "--http-retries", "1")
    gitea_bound = [rid for rid in ALL if rid not in ("M1.proxy-clear", "M2.no-leaks")]
    for rid in gitea_bound:
        assert run.results[rid]["verdict"] == "error", rid
        assert "502" in run.results[rid]["reason"]
    assert run.results["M1.proxy-clear"]["verdict"] == "pass"
    assert " error" in run.output.splitlines()[-1] or "errors" in run.output.splitlines()[-1]
    recs = records((run.state_dir / "REVIEW-ghost.md").read_text())
    assert recs["M1"].verdict == "FAIL"


def test_a_401_is_an_error_naming_the_service(run_gates, tmp_path: Path):
    # The token's *value* never appearing anywhere is test_operator.test_token_values_never_in_any_output
    # (there the test holds the twin's tokens; a subprocess's twin makes its own).
    run = run_gates("--twin-fault", "status=401:service=drone")
    assert run.results["M1.fresh-run"]["verdict"] == "error"
    assert "Drone" in run.results["M1.fresh-run"]["reason"] and "401" in run.results["M1.fresh-run"]["reason"]


def test_bad_world_is_a_usage_error_naming_the_file(run_gates, tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(DEMO.read_text().replace("world: demo", "world: demo\nwrld: typo", 1))
    run = run_gates(world=bad)
    assert run.code == 4
    assert "bad.yaml" in run.output and "wrld" in run.output


def test_unreadable_state_file_is_an_error(run_gates, tmp_path: Path):
    state = tmp_path / "latin1"
    run_gates("--role", "builder", state_dir=state)
    (state / "STATUS-ghost.md").write_bytes(b"correct PR: PR #4 \xe9\xff\n")
    run = run_gates(world=world_without_files(tmp_path), state_dir=state, served=True)
    assert run.results["M1.inventory"]["verdict"] == "error"
    assert "STATUS-ghost.md" in run.results["M1.inventory"]["reason"]


def test_leak_settle_polls_and_says_so(run_gates):
    run = run_gates("--leak-settle", "1", "-k", "M2.no-leaks")
    result = run.results["M2.no-leaks"]
    assert result["verdict"] == "fail"
    assert "after polling" in result["reason"]


def test_bad_phase_file_is_a_usage_error_before_anything_runs(run_gates, tmp_path: Path):
    bad = tmp_path / "phase.toml"
    bad.write_text('repo = "x/y"\nstuck_task_minutes = "ten"\n')
    run = run_gates("--phase", str(bad))
    assert run.code == 4
    assert f"{bad}: stuck_task_minutes: expected a number" in run.output
    assert not run.results
