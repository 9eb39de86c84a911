"""Helpers for the twin's tests: the repo on sys.path, contract paths, tiny worlds."""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the twin is a top-level package of the repo, not installed
    sys.path.insert(0, str(ROOT))

from twin.world import REQUIREMENT_IDS  # noqa: E402

SHARED = ROOT / ".." / "shared"
CONTRACTS = SHARED / "contracts"
PUBLIC_WORLDS = sorted((SHARED / "worlds").glob("*.yaml"))

SHA_A = "a" * 40
SHA_B = "b" * 40
SHA_MAIN = "1" * 40


def tiny_world(pulls: int = 1) -> dict[str, Any]:
    """A small valid world; tests change what they need and write it with `write_world`."""
    return {
        "world": "tiny",
        "about": "a tiny world for the twin's tests",
        "now": "2026-06-15T12:00:00Z",
        "phase": {"repo": "o/r", "expected_pr": 1},
        "gitea": {
            "orgs": {"o": {"members": ["alice"]}},
            "repos": {
                "o/r": {
                    "default_branch": "main",
                    "branches": [
                        {"name": "main", "commit": {"id": SHA_MAIN, "timestamp": "2026-06-01T00:00:00Z"}},
                        {"name": "feature", "commit": {"id": SHA_A, "timestamp": "2026-06-02T00:00:00Z"}},
                    ],
                    "pulls": [
                        {
                            "number": n,
                            "title": f"pull {n}",
                            "state": "open" if n % 2 else "closed",
                            "merged": False,
                            "user": {"login": "alice"},
                            "head": {"ref": "feature", "sha": SHA_A},
                            "base": {"ref": "main", "sha": SHA_MAIN},
                            "created_at": f"2026-06-{1 + n % 28:02d}T00:00:{n % 60:02d}Z",
                            "updated_at": "2026-06-10T00:00:00Z",
                            "commits": [
                                {
                                    "sha": SHA_A,
                                    "created": "2026-06-02T00:00:00Z",
                                    "commit": {
                                        "message": "m",
                                        "author": {"name": "alice", "date": "2026-06-02T00:00:00Z"},
                                    },
                                },
                            ],
                            "files": [
                                {"filename": "compose.yml", "status": "modified", "additions": 1, "deletions": 1}
                            ],
                            "comments": [
                                {
                                    "id": 1000 + n,
                                    "user": {"login": "alice"},
                                    "body": "!testme",
                                    "created_at": "2026-06-03T00:00:00Z",
                                    "updated_at": "2026-06-03T00:00:00Z",
                                },
                            ],
                        }
                        for n in range(1, pulls + 1)
                    ],
                    "contents": {SHA_MAIN: {"compose.yml": "version: '3.8'\n", "tests/a.py": "x = 1\n"}},
                    "commits": [
                        {
                            "sha": SHA_B,
                            "created": "2026-06-05T00:00:00Z",
                            "commit": {
                                "message": "touch tests",
                                "author": {"name": "bob", "date": "2026-06-05T00:00:00Z"},
                            },
                            "files": [{"filename": "tests/a.py"}],
                        },
                        {
                            "sha": SHA_MAIN,
                            "created": "2026-06-01T00:00:00Z",
                            "commit": {"message": "init", "author": {"name": "bob", "date": "2026-06-01T00:00:00Z"}},
                            "files": [{"filename": "compose.yml"}],
                        },
                    ],
                    "statuses": {
                        SHA_A: [
                            {
                                "context": "ci",
                                "state": "pending",
                                "target_url": "http://d/o/r/1",
                                "created_at": "2026-06-03T00:00:00Z",
                            },
                            {
                                "context": "ci",
                                "state": "failure",
                                "target_url": "http://d/o/r/1",
                                "created_at": "2026-06-03T01:00:00Z",
                            },
                            {"context": "lint", "state": "success", "created_at": "2026-06-03T00:30:00Z"},
                        ]
                    },
                }
            },
        },
        "drone": {
            "repos": {
                "o/ci": {
                    "builds": [
                        {
                            "number": 1,
                            "status": "failure",
                            "event": "custom",
                            "ref": "refs/heads/main",
                            "after": SHA_B,
                            "params": {"PR": "1"},
                            "created": 1781000000,
                            "started": 1781000010,
                            "finished": 1781000100,
                            "link": "",
                            "stages": [
                                {
                                    "name": "default",
                                    "status": "failure",
                                    "steps": [
                                        {"name": "clone", "status": "success", "log": ""},
                                        {"name": "test", "status": "failure", "log": "line one\nline two\n"},
                                    ],
                                }
                            ],
                        },
                        {
                            "number": 2,
                            "status": "success",
                            "event": "push",
                            "ref": "refs/heads/main",
                            "created": 1781000200,
                            "started": 1781000210,
                            "finished": 1781000300,
                        },
                    ]
                }
            }
        },
        "swarm": {
            "networks": [{"Name": "proxy", "Driver": "overlay", "Subnet": "10.0.1.0/24", "used_addresses": 9}],
            "services": [
                {
                    "Name": "app_web",
                    "Labels": {"com.docker.stack.namespace": "app"},
                    "UpdateStatus": {"State": "paused", "Message": "update paused"},
                    "tasks": [
                        {"State": "running", "Err": "", "Timestamp": "2026-06-15T11:00:00Z"},
                        {
                            "State": "rejected",
                            "Err": "could not find an available IP",
                            "Timestamp": "2026-06-15T10:00:00Z",
                        },
                    ],
                },
            ],
            "volumes": [{"Name": "app_data", "Labels": {"com.docker.stack.namespace": "app"}}],
            "containers": [
                {"Names": ["/app_web.1.abc"], "State": "running", "Labels": {}},
                {"Names": ["/old"], "State": "exited", "Labels": {}},
            ],
            "secrets": [{"Spec": {"Name": "app_pw_v1", "Labels": {}}}],
            "configs": [{"Spec": {"Name": "app_conf_v1", "Labels": {}}}],
        },
        "files": {"machine-docs/STATUS-ghost.md": "# STATUS\n"},
        "expect": {rid: "pass" for rid in REQUIREMENT_IDS},
    }


def write_world(path: Path, data: dict[str, Any]) -> Path:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml where present: big worlds
    path.write_text(yaml.dump(data, Dumper=dumper, sort_keys=False))
    return path


def distinct_worlds(paths: list[Path], *blocks: str) -> list[Path]:
    """The first world for each distinct content of `blocks` (top-level keys) at its `now`: a test
    that reads only those services' answers learns nothing more from worlds that vary the others.

    A world is told apart by the text of those blocks where its file is block-style YAML with each of
    them (and `now`) once at the left margin, else by their parsed content. Equal text is equal content,
    so this keeps every world the parsed content alone would (at worst a few more, never fewer), without
    parsing 250 worlds in each process that collects the tests (over half of collecting them)."""
    chosen: dict[str, Path] = {}
    for path in paths:
        text = path.read_text(encoding="utf-8")
        found = _top_level_blocks(text)
        if found is not None and all(b in found for b in (*blocks, "now")):
            key = "text\0" + "\0".join(found[b] for b in (*blocks, "now"))
        else:
            data = _parsed(path)
            key = "parsed\0" + json.dumps([data.get(b) for b in blocks] + [str(data.get("now"))], sort_keys=True,
                                           default=str)
        chosen.setdefault(key, path)
    return list(chosen.values())


# A top-level key of a block-style mapping: at the left margin, not a comment, list item or document marker.
_TOP_KEY = re.compile(r"^(?![\s#%{\[-])([^:\s][^:\n]*):(?=\s|$)", re.MULTILINE)


def _top_level_blocks(text: str) -> dict[str, str] | None:
    """{key: the text from its line to the next top-level key} of a block-style YAML mapping, or None
    where the text is not one whose every top-level key sits once at the left margin."""
    marks = [(m.start(), m.group(1)) for m in _TOP_KEY.finditer(text)]
    if not marks or any(line.strip() and not line.startswith("#") for line in text[:marks[0][0]].splitlines()):
        return None  # no key at the margin, or something other than comments before the first one
    out: dict[str, str] = {}
    for n, (start, key) in enumerate(marks):
        if key in out:
            return None  # a key twice: let the parser say what the file means
        out[key] = text[start:marks[n + 1][0] if n + 1 < len(marks) else len(text)]
    return out


@functools.cache
def _parsed(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
