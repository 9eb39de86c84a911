"""`kill -9` while the review file is written (issue 10, "Done when"): old or new, whole; no leftovers.

A child process rewrites both gate blocks in a loop, exactly as the reporter does (one
`review.write_atomic` carrying `replace_blocks` for M1 and M2), and is killed with SIGKILL after a
random delay. After every kill the file must be one whole version (both blocks from the same
write, the user's text untouched), and the next writer removes whatever temporary file the
killed one left. The default run kills a sample of 6 (two of them after a write got through); the
`slow` run 30 (GHOSTGATES_KILL_ITERATIONS sets that count).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ghostgates.catalogue import GATES
from ghostgates.record import atomic, review

ROOT = Path(__file__).resolve().parents[2]
ITERATIONS = int(os.environ.get("GHOSTGATES_KILL_ITERATIONS", "30"))
SAMPLE = 6  # the default run: each child is an interpreter start, about 1 s on a busy machine
# Enough user text that one write takes a while, so kills land inside writes too.
USER_TOP = "# REVIEW: ghost\n\n" + "Notes by hand, kept byte for byte.\n" * 20000 + "\n"
USER_BOTTOM = "\n### My own notes after the blocks\nsetext too\n==========\n"

WRITER = textwrap.dedent("""
    import sys
    from ghostgates.record import review
    sys.path.insert(0, sys.argv[3])
    from test_review_kill import version_block
    path, start = sys.argv[1], int(sys.argv[2])
    n = start
    print("ready", flush=True)
    while True:
        n += 1
        blocks = {"M1": version_block("M1", n), "M2": version_block("M2", n)}
        review.write_atomic(__import__("pathlib").Path(path), lambda old: review.replace_blocks(old, blocks))
        if n == start + 1:
            print("first", flush=True)
""")


def version_block(gate: str, n: int) -> str:
    line = review.Record(gate, "PASS", "adversary", "b" * 40, str(n), "2026-06-15T11:20:00Z").line()
    rows = "".join(f"| {GATES[gate][0]} | pass | write {n} row {i} |\n" for i in range(50))
    return (f"## {gate}: t: PASS\n{line}\nChecked by ghost-gates as adversary at 2026-06-15T11:20:00Z: 7 pass.\n\n"
            f"| requirement | verdict | reason |\n|---|---|---|\n{rows}{review.end_marker(gate)}\n")


def whole_version(text: str) -> int:
    """The write number the file holds, asserting it is one whole version."""
    found = review.blocks(text)
    assert set(found) == {"M1", "M2"}, "a block is missing"
    n = int(found["M1"].record.build)
    assert int(found["M2"].record.build) == n, "M1 and M2 from different writes"
    expected = USER_TOP + version_block("M1", n) + "\n" + version_block("M2", n) + USER_BOTTOM
    assert text == expected, "not a whole version"
    return n


@pytest.mark.parametrize("iterations", [pytest.param(SAMPLE, id="sample"),
                                        pytest.param(ITERATIONS, id="all", marks=pytest.mark.slow)])
def test_kill_minus_nine_leaves_old_or_new_whole(tmp_path: Path, iterations: int):
    path = tmp_path / "REVIEW-ghost.md"
    path.write_text(USER_TOP + version_block("M1", 0) + "\n" + version_block("M2", 0) + USER_BOTTOM)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random(os.environ.get("GHOSTGATES_KILL_SEED", "10"))
    seen, left_behind, last = set(), 0, 0
    for i in range(iterations):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(last * 1000),
                                  str(Path(__file__).parent)], env=env, stdout=subprocess.PIPE)
        assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
        if i % 3 == 0:
            # Every third kill comes after a write got through, however slow a loaded machine is, so
            # the versions move on; the others land anywhere, the first write included.
            assert child.stdout.readline().strip() == b"first"
        time.sleep(rng.uniform(0, 0.12))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        n = whole_version(path.read_text())
        seen.add(n)
        last = n // 1000 + 1
        left_behind += bool(atomic.stale_temporaries(path))
        # Nothing else of ours may ever appear beside the file.
        assert all(re.fullmatch(r"\.REVIEW-ghost\.md\.\w+\.tmp", p.name) for p in tmp_path.iterdir()
                   if p.name != "REVIEW-ghost.md")
    # The next run removes what a killed one left.
    review.write_atomic(path, lambda old: review.replace_blocks(old, {"M1": version_block("M1", 1),
                                                                      "M2": version_block("M2", 1)}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["REVIEW-ghost.md"]
    whole_version(path.read_text())
    assert len(seen) > 1, "the writer never got a write through: the test tested nothing"
    print(f"{iterations} kills, {len(seen)} distinct versions seen, {left_behind} left a temporary file")
