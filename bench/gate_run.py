"""Benchmark a whole gate run against the twin with injected latency: requests and seconds.

    .venv/bin/python bench/gate_run.py [WORLD] [--latency-ms 50] [-n 2]

Speed is measured here, by counting, not by timed tests: the run's requests per service (from
gates.json) and its wall time, serial and under xdist.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(world: Path, latency: int, workers: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gates.json"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "gates",
            "--world",
            str(world),
            "--gates-json",
            str(out),
            "--state-dir",
            str(Path(tmp) / "state"),
            "--twin-latency-ms",
            str(latency),
            "-q",
            "-p",
            "no:cacheprovider",
            "--html",
            str(Path(tmp) / "r.html"),
        ]
        if workers:
            cmd += ["-n", str(workers)]
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
        seconds = time.perf_counter() - start
        data = json.loads(out.read_text())
    return {
        "workers": workers,
        "latency_ms": latency,
        "seconds": round(seconds, 2),
        "requests": data.get("requests"),
        "results": len(data.get("results", {})),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("world", nargs="?", default=str(ROOT / "demo" / "world.yaml"))
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("-n", type=int, default=2, help="xdist workers for the second run")
    args = parser.parse_args()
    for workers in (0, args.n):
        print(json.dumps(run(Path(args.world), args.latency_ms, workers)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
