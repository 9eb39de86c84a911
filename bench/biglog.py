"""A pytest plugin for bench/gate_run.py: each process's peak memory, and a red build's log grown large.

    pytest gates --world W -p bench.biglog        (with the environment below)

GHOSTGATES_BENCH_PEAK_DIR=DIR   each process (the xdist controller, which serves the twin, and each
                                worker, which fetches and judges) writes DIR/<role>.json with its
                                peak RSS (getrusage ru_maxrss) when it ends.
GHOSTGATES_BENCH_LOG_MB=N       the twin serves build GHOSTGATES_BENCH_LOG_BUILD's step logs with N MB
                                of plain CI lines (that carry no failure signature) before the
                                world's own lines, so that its verdicts stay the world's. The
                                world file stays small: the lines are made when the log is asked.
"""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path
from typing import Any

import pytest

PEAK_DIR = "GHOSTGATES_BENCH_PEAK_DIR"
LOG_MB = "GHOSTGATES_BENCH_LOG_MB"
LOG_BUILD = "GHOSTGATES_BENCH_LOG_BUILD"


def filler(megabytes: float) -> list[str]:
    """Lines like a long image build's, `megabytes` MB of them, none a signature of any class."""
    lines: list[str] = []
    size, i, goal = 0, 0, int(megabytes * 1_000_000)
    while size < goal:
        line = (f"#{i % 97} [{i // 1000:>4}/{9999}] COPY layer sha256:{i * 2654435761 % (1 << 64):016x}"
                f"{i * 40503 % (1 << 32):08x} ({i % 4096} kB of 4096 kB) done")
        lines.append(line)
        size += len(line) + 1
        i += 1
    return lines


def _grow_twin_logs(megabytes: float, build: int) -> None:
    from twin.drone.models import DroneBackend

    original = DroneBackend.find_logs
    made: dict[str, list[str]] = {}

    def find_logs(self: DroneBackend, owner: str, name: str, number: int, stage: int, step: int) -> list[str]:
        lines = original(self, owner, name, number, stage, step)
        if number != build:
            return lines
        if "lines" not in made:
            made["lines"] = filler(megabytes)
        return made["lines"] + lines

    DroneBackend.find_logs = find_logs  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(LOG_MB) and getattr(config, "workerinput", None) is None:
        _grow_twin_logs(float(os.environ[LOG_MB]), int(os.environ.get(LOG_BUILD, "0")))


def pytest_unconfigure(config: pytest.Config) -> None:
    where = os.environ.get(PEAK_DIR)
    if not where:
        return
    workerinput: Any = getattr(config, "workerinput", None)
    role = workerinput["workerid"] if workerinput is not None else "controller"
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (Path(where) / f"{role}.json").write_text(json.dumps({"role": role, "peak_rss_mb": round(peak_kb / 1024, 1)}))
