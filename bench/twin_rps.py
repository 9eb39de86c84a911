"""Requests per second the twin serves on loopback: a bounded loop of httpx GETs from a few threads.

.venv/bin/python bench/twin_rps.py [WORLD] [--requests 2000] [--threads 4]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from twin import running_twin  # noqa: E402

DEFAULT_WORLD = ROOT / ".." / "shared" / "worlds" / "green-after-proxy.yaml"
# A mix of what the suite asks: lists, one object, comments, a build, a log.
PATHS = (
    ("gitea", "/api/v1/repos/recipe-maintainers/ghost/pulls?state=all"),
    ("gitea", "/api/v1/repos/recipe-maintainers/ghost/pulls/4"),
    ("gitea", "/api/v1/repos/recipe-maintainers/ghost/issues/4/comments"),
    ("drone", "/api/repos/recipe-maintainers/cc-ci/builds"),
    ("drone", "/api/repos/recipe-maintainers/cc-ci/builds/41"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("world", nargs="?", default=str(DEFAULT_WORLD))
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with running_twin(args.world) as twin:
        bases = {"gitea": (twin.gitea_url, f"token {twin.gitea_token}"),
                 "drone": (twin.drone_url, f"Bearer {twin.drone_token}")}  # fmt: skip
        per_thread = args.requests // args.threads

        def worker(offset: int) -> int:
            ok = 0
            with httpx.Client(timeout=10) as client:
                for i in range(per_thread):
                    service, path = PATHS[(offset + i) % len(PATHS)]
                    base, auth = bases[service]
                    ok += client.get(base + path, headers={"Authorization": auth}).status_code == 200
            return ok

        started = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            ok = sum(pool.map(worker, range(args.threads)))
        elapsed = time.perf_counter() - started
    total = per_thread * args.threads
    print(f"{total / elapsed:.0f} requests/s ({total} requests, {ok} ok, {args.threads} threads, {elapsed:.2f} s)")
    return 0 if ok == total else 1


if __name__ == "__main__":
    sys.exit(main())
