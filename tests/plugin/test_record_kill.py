"""`kill -9` of a real gate run near its end (issue 10): the review file is the old or the new one, whole.

tests/unit/test_review_kill.py kills a writer in a tight loop many times; this one kills the
suite itself (`pytest gates --world ...`) at random moments around its reporting phase, a few
times, and then lets one run finish: no temporary file stays. The default run kills 2; the `slow` run
GHOSTGATES_RUN_KILLS (default 6).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ghostgates.record import atomic
from twin import running_twin
from twin.world import load_world

from .conftest import DEMO, ROOT

KILLS = int(os.environ.get("GHOSTGATES_RUN_KILLS", "6"))
SAMPLE = 2  # each kill is a whole gate run started again
OLD = ("# REVIEW: ghost\n\nNotes by hand.\n\n## M1: old\n<!-- gate-record gate=M1 verdict=FAIL role=adversary head="
       + "0" * 40 + " build=1 at=2026-06-01T00:00:00Z -->\n<!-- /gate-record gate=M1 -->\n\n### After M1\nkeep\n")


def _portless(text: str) -> str:
    # Each run starts its own twin on a fresh port, and the evidence links carry it.
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)


@pytest.fixture
def served() -> Iterator[contextlib.ExitStack]:
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.mark.parametrize("kills", [pytest.param(SAMPLE, id="sample"),
                                   pytest.param(KILLS, id="all", marks=pytest.mark.slow)])
def test_kill_minus_nine_during_a_gate_run(tmp_path: Path, served: contextlib.ExitStack, kills: int):
    world = yaml.safe_load(DEMO.read_text())
    world["files"] = {"machine-docs/STATUS-ghost.md": world["files"]["machine-docs/STATUS-ghost.md"]}
    world_file = tmp_path / "w.yaml"
    world_file.write_text(yaml.safe_dump(world, sort_keys=False))
    state = tmp_path / "state"
    state.mkdir()
    review_file = state / "REVIEW-ghost.md"
    # The review file is the operator's own (OLD below): served as live services, since a --world run
    # refuses a state dir holding files it did not put there.
    cmd = [sys.executable, "-m", "pytest", "gates", "--state-dir", str(state),
           "--gates-json", str(tmp_path / "g.json"), "--html", str(tmp_path / "g.html"), "-q",
           "-p", "no:cacheprovider"]
    (state / "STATUS-ghost.md").write_text(world["files"]["machine-docs/STATUS-ghost.md"])
    handle = served.enter_context(running_twin(load_world(world_file)))
    env = {**os.environ, "GITEA_URL": handle.gitea_url, "GITEA_TOKEN": handle.gitea_token,
           "DRONE_SERVER": handle.drone_url, "DRONE_TOKEN": handle.drone_token, "DOCKER_HOST": handle.docker_url}

    def run(kill_after: float | None) -> None:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        if kill_after is None:
            proc.wait(timeout=300)
            return
        time.sleep(kill_after)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    review_file.write_text(OLD)
    started = time.monotonic()
    run(None)
    took = time.monotonic() - started
    new = _portless(review_file.read_text())
    assert new != OLD and new.startswith("# REVIEW: ghost\n\nNotes by hand.\n\n## M1: State")
    assert "### After M1\nkeep\n" in new
    rng = random.Random(13)
    outcomes = {"old": 0, "new": 0}
    for _ in range(kills):
        review_file.write_text(OLD)
        # Around the end of a run: the reporting phase is its last tenth or so.
        run(rng.uniform(0.6 * took, 1.05 * took))
        text = _portless(review_file.read_text())
        assert text in (OLD, new), "the review file is neither the old nor the new version whole"
        outcomes["old" if text == OLD else "new"] += 1
    run(None)
    assert _portless(review_file.read_text()) == new
    assert atomic.stale_temporaries(review_file) == []
    print(f"{kills} kills of a {took:.1f} s run: {outcomes}")
