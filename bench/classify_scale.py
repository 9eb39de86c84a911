"""The classifier at scale (issue 22): a single 56 KB line, and a 100 MB log read as a stream.

    .venv/bin/python bench/classify_scale.py [--mb 100]

Prints the wall time of each and the process's peak RSS. The log is generated line by line (a
deploy's lines, a data-dir upgrade, app request logs), never held whole, as the fetch side
streams a Drone log.
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ghostgates.judge.classify import classify_lines, classify_log  # noqa: E402

LINES = (
    "+ abra app upgrade ghos-5d1e0a.ci.example.org 2.0.0+6.44.1 --no-input",
    "db: 2026-07-15T12:06:10.958Z 1 [System] [MY-011012] [Server] Starting upgrade of data directory.",
    "app: [2026-07-15 12:06:11] INFO \"GET /ghost/api/admin/site/ HTTP/1.1\" 200 512 12ms",
    "ghos-5d1e0a_ci_example_org_app.1: task state running (75s)",
    "step test: npm ci --no-audit  added 1337 packages, and audited 1338 packages in 41s",
    "app: webpack compiled successfully in 5123 ms, 48 assets, 3 chunks",
)


def log_lines(total_bytes: int) -> Iterator[str]:
    sent = i = 0
    while sent < total_bytes:
        line = f"{LINES[i % len(LINES)]} #{i}"
        sent += len(line) + 1
        i += 1
        yield line


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=100)
    args = parser.parse_args()
    line = base64.b64encode(os.urandom(42_000)).decode()[:56_000]
    start = time.perf_counter()
    classify_log("deploying\n" + line + "\ntest upgrade: FAILED\n")
    print(f"one 56 KB line: {time.perf_counter() - start:.3f} s")
    start = time.perf_counter()
    result = classify_lines(log_lines(int(args.mb * 1024 * 1024)))
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.mb:g} MB log as a stream: {wall:.1f} s, class {result.cls}, {len(result.matches)} matches kept, "
          f"peak RSS {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
