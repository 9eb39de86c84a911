"""The one reading of the state file (ghostgates.read.statefile: status_path, state_from), as the
run's readers see it: the gates (fixtures/_run.state_of) and the Builder's DONE line
(plugins/handoff.done_readiness) judge the same reading. An unreadable STATUS-<name>.md is
`error`, never an absent file; an absent one is asked `## DONE` of as if it were written."""

from __future__ import annotations

from pathlib import Path

from .conftest import world_without_files


def _last_line(output: str) -> str:
    return [line for line in output.splitlines() if line.strip()][-1]


def test_an_unreadable_state_file_is_no_missing_one(run_gates, tmp_path: Path) -> None:
    state = tmp_path / "latin1"
    run_gates("--role", "builder", state_dir=state)  # the demo's files, written once
    (state / "STATUS-ghost.md").write_bytes(b"correct PR: PR #4 \xe9\xff\n## DONE\n")
    run = run_gates("--role", "builder", world=world_without_files(tmp_path), state_dir=state, served=True)
    # Every requirement is `error`: the fetch plan reads the state file first (the correct PR).
    assert set(run.verdicts().values()) == {"error"}
    assert "STATUS-ghost.md: cannot be read" in run.results["DONE.signed"]["reason"]
    # The DONE line says nothing: not "may be written" as if the file were missing.
    assert "DONE may be written now" not in run.output


def test_a_missing_state_file_asks_done_as_if_written(run_gates, tmp_path: Path) -> None:
    state = tmp_path / "none"
    run_gates("--role", "builder", state_dir=state)
    (state / "STATUS-ghost.md").unlink()
    run = run_gates("--role", "builder", world=world_without_files(tmp_path), state_dir=state, served=True)
    assert run.results["M1.inventory"]["verdict"] == "fail"
    assert "is missing" in run.results["M1.inventory"]["reason"]
    # No state file: the phase's expected PR is the correct PR, and DONE is asked of the demo's records.
    assert _last_line(run.output).startswith("DONE may be written now: adversary PASSes for M1 and M2"), run.output
