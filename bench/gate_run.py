"""Benchmark whole gate runs against the twin: requests per service, walls, dependent round trips.

    .venv/bin/python bench/gate_run.py [WORLD ...] [--sizes 1,4,16] [--latency-ms 100] [-n 2] [--repeat 3]

Per world it runs the suite serially at 0 ms and at LATENCY ms injected on every answer, and
with `-n N` at LATENCY ms, and prints one JSON line:
  requests      per service, as gates.json counts them (gitea, drone, docker)
  wall_0, wall_L  seconds for the whole run (interpreter start included)
  round_trips   (wall_L - wall_0) / LATENCY: the dependent round trips the run paid
  chain_depth   the longest chain of requests each started after the previous one ended,
                as the twin saw them (GHOSTGATES_TWIN_REQUEST_LOG)
  wall_L_nN     the run at LATENCY under xdist with N workers
With --sizes, big worlds are generated from worlds/base.yaml by bench/make_world.py at those
scales. Speed is measured here, by counting, not by timed tests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.make_world import grow  # noqa: E402
from twin.faults import REQUEST_LOG_ENV  # noqa: E402


def run(world: Path, latency: int, workers: int = 0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gates.json"
        log = Path(tmp) / "requests.jsonl"
        cmd = [sys.executable, "-m", "pytest", "gates", "--world", str(world), "--gates-json", str(out),
               "--role", "builder", "--twin-latency-ms", str(latency), "-q", "-p", "no:cacheprovider",
               "--html", str(Path(tmp) / "r.html")]
        if workers:
            cmd += ["-n", str(workers)]
        env = {**os.environ, REQUEST_LOG_ENV: str(log)}
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
        seconds = time.perf_counter() - start
        if not out.exists():
            raise SystemExit(f"no gates.json for {world}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        data = json.loads(out.read_text())
        seen = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return {"seconds": round(seconds, 2), "requests": data.get("requests"),
            "verdicts": {k: v["verdict"] for k, v in data.get("results", {}).items()},
            "depth": chain_depth(seen), "seen": len(seen)}


def chain_depth(requests: list[dict[str, Any]], slack: float = 0.002) -> int:
    """The longest chain of requests each of which started only after the one before it ended."""
    spans = sorted((r["start"], r["end"]) for r in requests)
    depth: list[int] = []
    for i, (start, _) in enumerate(spans):
        before = [depth[j] for j in range(i) if spans[j][1] <= start + slack]
        depth.append(1 + max(before, default=0))
    return max(depth, default=0)


def best(world: Path, latency: int, workers: int, repeat: int) -> dict[str, Any]:
    """The fastest of `repeat` runs: on a shared machine the minimum is the least disturbed."""
    return min((run(world, latency, workers) for _ in range(repeat)), key=lambda r: r["seconds"])


def measure(world: Path, latency: int, workers: int, repeat: int = 1) -> dict[str, Any]:
    cold = best(world, 0, 0, repeat)
    warm = best(world, latency, 0, repeat)
    parallel = best(world, latency, workers, repeat) if workers else None
    if warm["verdicts"] != cold["verdicts"] or (parallel and parallel["verdicts"] != cold["verdicts"]):
        raise SystemExit(f"{world}: verdicts differ between runs")
    row = {"world": world.stem, "requests": cold["requests"], "twin_saw": cold["seen"],
           "wall_0": cold["seconds"], f"wall_{latency}": warm["seconds"],
           "round_trips": round((warm["seconds"] - cold["seconds"]) / (latency / 1000), 1),
           "chain_depth": warm["depth"]}
    if parallel is not None:
        row[f"wall_{latency}_n{workers}"] = parallel["seconds"]
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("worlds", nargs="*")
    parser.add_argument("--sizes", default="", help="also generated worlds at these scales, e.g. 1,4,16")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("-n", type=int, default=2, help="xdist workers for the third run (0: none)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind, the fastest kept (default 3)")
    args = parser.parse_args()
    worlds = [Path(w) for w in args.worlds]
    with tempfile.TemporaryDirectory() as tmp:
        if args.sizes:
            import yaml

            base = yaml.safe_load((ROOT / "worlds" / "base.yaml").read_text(encoding="utf-8"))
            for scale in (int(s) for s in args.sizes.split(",")):
                path = Path(tmp) / f"big-x{scale}.yaml"
                path.write_text(yaml.safe_dump(grow(json.loads(json.dumps(base)), scale), sort_keys=False))
                worlds.append(path)
        if not worlds:
            worlds = [ROOT / "demo" / "world.yaml"]
        for world in worlds:
            print(json.dumps(measure(world, args.latency_ms, args.n, args.repeat)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
