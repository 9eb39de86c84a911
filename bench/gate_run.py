"""Benchmark whole gate runs against the twin: requests per service, walls, dependent round trips.

    .venv/bin/python bench/gate_run.py [WORLD ...] [--sizes 1,16,64] [--latency-ms 100] [-n 2] [--repeat 3]
    .venv/bin/python bench/gate_run.py --sizes 1,16,64 --depth-only      # requests and chain depth only
    .venv/bin/python bench/gate_run.py --sizes 16 --depth-only --served  # the twin in a process of its own
    .venv/bin/python bench/gate_run.py --log-mb 100                      # a red build with a 100 MB log

Per world it runs the suite serially at 0 ms and at LATENCY ms injected on every answer, and
with `-n N` at LATENCY ms, and prints one JSON line:
  requests      per service, as gates.json counts them (gitea, drone, docker)
  wall_0, wall_L  seconds for the whole run (interpreter start included)
  round_trips   (wall_L - wall_0) / LATENCY: the dependent round trips the run paid
  chain_depth   the longest chain of requests each started after the previous one ended,
                as the twin saw them (GHOSTGATES_TWIN_REQUEST_LOG)
  chain_by_service  the same depth within each service's own requests
  wall_L_nN     the run at LATENCY under xdist with N workers
  as_expected   whether every verdict is the world's `expect` (a big world keeps base.yaml's)
With --sizes, big worlds are generated from worlds/base.yaml by bench/make_world.py at those
scales; --depth-only runs each once, at LATENCY only. --log-mb N runs base.yaml once with
`-n 1` and bench/biglog.py, which makes the twin serve a red build's log (the one the state file
classifies recipe-timing) with N MB of plain lines before its own: it prints the wall, the peak
RSS of the worker (which fetches the log and judges) and of the controller (which serves the
twin), and whether the verdicts are the world's. Speed is measured here, by counting, not by
timed tests.
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

from bench.biglog import LOG_BUILD, LOG_MB, PEAK_DIR  # noqa: E402
from bench.make_world import grow  # noqa: E402
from bench.served import served_run  # noqa: E402
from twin.faults import REQUEST_LOG_ENV  # noqa: E402

BIG_LOG_BUILD = 280  # worlds/base.yaml: the red build the state file classifies recipe-timing


def run(world: Path, latency: int, workers: int = 0, extra_env: dict[str, str] | None = None,
        plugins: tuple[str, ...] = (), served: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gates.json"
        log = Path(tmp) / "requests.jsonl"
        start = time.perf_counter()
        if served:
            proc = served_run(world, latency, Path(tmp), log, out)
        else:
            cmd = [sys.executable, "-m", "pytest", "gates", "--world", str(world), "--gates-json", str(out),
                   "--role", "builder", "--twin-latency-ms", str(latency), "-q", "-p", "no:cacheprovider",
                   "--html", str(Path(tmp) / "r.html")]
            if workers:
                cmd += ["-n", str(workers)]
            for plugin in plugins:
                cmd += ["-p", plugin]
            env = {**os.environ, REQUEST_LOG_ENV: str(log), **(extra_env or {})}
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
        seconds = time.perf_counter() - start
        if not out.exists():
            raise SystemExit(f"no gates.json for {world}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        data = json.loads(out.read_text())
        seen = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return {"seconds": round(seconds, 2), "requests": data.get("requests"),
            "verdicts": {k: v["verdict"] for k, v in data.get("results", {}).items()},
            "depth": chain_depth(seen), "seen": len(seen),
            "depth_by_service": {name: chain_depth([r for r in seen if r.get("service") == name])
                                 for name in sorted({r.get("service", "") for r in seen})}}


def chain_depth(requests: list[dict[str, Any]], slack: float = 0.002) -> int:
    """The longest chain of requests each of which started only after the one before it ended."""
    spans = sorted((r["start"], r["end"]) for r in requests)
    depth: list[int] = []
    by_end = sorted(range(len(spans)), key=lambda j: spans[j][1])
    done, best = 0, 0
    for start, _ in spans:
        # Every request that ended before this one started may precede it: the deepest of them.
        while done < len(by_end) and spans[by_end[done]][1] <= start + slack and by_end[done] < len(depth):
            best = max(best, depth[by_end[done]])
            done += 1
        depth.append(1 + best)
    return max(depth, default=0)


def best(world: Path, latency: int, workers: int, repeat: int) -> dict[str, Any]:
    """The fastest of `repeat` runs: on a shared machine the minimum is the least disturbed."""
    return min((run(world, latency, workers) for _ in range(repeat)), key=lambda r: r["seconds"])


def expected(world: Path) -> dict[str, str]:
    import yaml

    data = yaml.load(world.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return {str(k): str(v) for k, v in (data.get("expect") or {}).items()}


def depth_only(world: Path, latency: int, expect: dict[str, str], served: bool = False) -> dict[str, Any]:
    warm = run(world, latency, served=served)
    name = world.stem + (" (served apart)" if served else "")
    return {"world": name, "requests": warm["requests"], "total": sum((warm["requests"] or {}).values()),
            "twin_saw": warm["seen"], f"wall_{latency}": warm["seconds"], "chain_depth": warm["depth"],
            "chain_by_service": warm["depth_by_service"], "as_expected": warm["verdicts"] == expect}


def big_log(megabytes: float) -> dict[str, Any]:
    world = ROOT / "worlds" / "base.yaml"
    with tempfile.TemporaryDirectory() as peaks:
        env = {PEAK_DIR: peaks, LOG_MB: str(megabytes), LOG_BUILD: str(BIG_LOG_BUILD)}
        got = run(world, 0, workers=1, extra_env=env, plugins=("bench.biglog",))
        peak = {p.stem: json.loads(p.read_text())["peak_rss_mb"] for p in Path(peaks).glob("*.json")}
    return {"world": f"{world.stem} + {megabytes:g} MB log on build #{BIG_LOG_BUILD}", "wall": got["seconds"],
            "peak_rss_mb_worker": peak.get("gw0"), "peak_rss_mb_controller_with_twin": peak.get("controller"),
            "requests": got["requests"], "as_expected": got["verdicts"] == expected(world)}


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
    parser.add_argument("--sizes", default="", help="also generated worlds at these scales, e.g. 1,16,64")
    parser.add_argument("--depth-only", action="store_true", help="one run at LATENCY each: requests, chain depth")
    parser.add_argument("--served", action="store_true",
                        help="with --depth-only: the twin served by `python -m twin serve` in its own process")
    parser.add_argument("--log-mb", type=float, default=0, help="run base.yaml with a red build's log this large")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("-n", type=int, default=2, help="xdist workers for the third run (0: none)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each kind, the fastest kept (default 3)")
    args = parser.parse_args()
    if args.log_mb:
        print(json.dumps(big_log(args.log_mb)), flush=True)
        if not args.worlds and not args.sizes:
            return 0
    worlds = [Path(w) for w in args.worlds]
    base_expect: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.sizes:
            import yaml

            base = yaml.safe_load((ROOT / "worlds" / "base.yaml").read_text(encoding="utf-8"))
            base_expect = {str(k): str(v) for k, v in base["expect"].items()}
            for scale in (int(s) for s in args.sizes.split(",")):
                path = Path(tmp) / f"big-x{scale}.yaml"
                path.write_text(yaml.safe_dump(grow(json.loads(json.dumps(base)), scale), sort_keys=False))
                worlds.append(path)
        if not worlds:
            worlds = [ROOT / "demo" / "world.yaml"]
        for world in worlds:
            if args.depth_only:
                expect = base_expect if world.parent == Path(tmp) else expected(world)
                print(json.dumps(depth_only(world, args.latency_ms, expect, served=args.served)), flush=True)
            else:
                print(json.dumps(measure(world, args.latency_ms, args.n, args.repeat)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
