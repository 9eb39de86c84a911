"""Generate a big world from worlds/base.yaml: a busy recipe repo, every verdict as the base has it.

    .venv/bin/python bench/make_world.py OUT.yaml [--scale 4]

At scale 1 it adds about what issue 11 measured on: ~125 more PRs (so ~130), 160 comments on
the correct PR, 240 harness builds of other recipes. Each addition is chosen to change no
verdict: the PRs are closed, unmerged and no upgrade PRs (no title or branch matches the
upgrade pattern); the comments are plain remarks by non-builders, before the first bridge
reply; the builds test other recipes (so none belongs to a ghost PR), all finished green
after the correct PR's latest build and before the world's now, numbered after it as Drone
numbers builds in time order.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
RECIPES = ("wordpress", "nextcloud", "matrix-synapse", "gitea", "mastodon", "peertube", "keycloak", "n8n")
REMARKS = ("Looking at this.", "Thanks, reading the diff now.", "Noted.", "Following along.")


def _sha(*parts: object) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def grow(world: dict[str, Any], scale: int) -> dict[str, Any]:
    world = dict(world)
    world["world"] = f"{world['world']}-x{scale}"
    world["about"] = f"{world['about']} (bench/make_world.py at scale {scale})"
    repo = world["gitea"]["repos"][world["phase"]["repo"]]
    pulls: list[dict[str, Any]] = repo["pulls"]
    correct = next(p for p in pulls if p["number"] == world["phase"]["expected_pr"])
    base_sha = correct["base"]["sha"]

    first = 1000
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(125 * scale):
        at = start + timedelta(hours=6 * i)
        pulls.append({
            "number": first + i, "title": f"chore: tidy the compose file, part {i}", "state": "closed",
            "merged": False, "user": {"login": "lurker"},
            "head": {"ref": f"tidy-{i}", "sha": _sha("pr", i)}, "base": {"ref": "main", "sha": base_sha},
            "created_at": _iso(at), "updated_at": _iso(at + timedelta(hours=1)),
            "closed_at": _iso(at + timedelta(hours=1)), "files": [], "comments": [],
        })

    opened = _time(correct["created_at"])
    first_reply = min(_time(c["created_at"]) for c in correct["comments"] if c["user"]["login"] != "hedda") \
        if any(c["user"]["login"] != "hedda" for c in correct["comments"]) else opened + timedelta(days=1)
    span = (first_reply - opened).total_seconds() - 120
    count = 160 * scale
    remarks = []
    for i in range(count):
        at = opened + timedelta(seconds=60 + span * i / count)
        login = ("lurker", "keeper", "passer-by")[i % 3]
        remarks.append({"id": 100000 + i, "user": {"login": login}, "body": REMARKS[i % len(REMARKS)],
                        "created_at": _iso(at), "updated_at": _iso(at)})
    correct["comments"] = remarks + correct["comments"]

    drone = world["drone"]["repos"][world["phase"]["drone_repo"]]
    builds: list[dict[str, Any]] = drone["builds"]
    last = max(builds, key=lambda b: b["number"])
    now = _time(world["now"]).timestamp()
    t0 = int(max(b.get("finished") or b["created"] for b in builds)) + 60
    n = 240 * scale
    step = max(1, int((now - 600 - t0) / n))
    for i in range(n):
        created = t0 + i * step
        recipe = RECIPES[i % len(RECIPES)]
        builds.append({
            "number": last["number"] + 1 + i, "status": "success", "event": "custom", "ref": "refs/heads/main",
            "before": last["after"], "after": last["after"],
            "params": {"RECIPE": recipe, "PR": str(1 + i % 40), "REF": _sha("build", i)},
            "created": created, "started": created + 5, "finished": created + max(10, step // 2),
            "updated": created + max(10, step // 2), "sender": "ci-bridge", "trigger": "ci-bridge",
            "stages": [{"name": "recipe-upgrade", "status": "success",
                        "steps": [{"name": "upgrade", "status": "success", "log": f"{recipe}: ok"}]}],
        })
    return world


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--base", default=str(ROOT / "worlds" / "base.yaml"))
    args = parser.parse_args()
    world = yaml.safe_load(Path(args.base).read_text(encoding="utf-8"))
    Path(args.out).write_text(yaml.safe_dump(grow(world, args.scale), sort_keys=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
