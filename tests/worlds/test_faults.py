"""Issue 10's fault matrix: every endpoint family x fault kind, transient and persistent.

For a handful of worlds whose verdicts differ: a transient fault (one answer) gives exactly the
verdicts and reasons of the run without it; a persistent one gives the no-fault verdict or
`error` and nothing else; every `error` names the URL and the cause. The CI run samples the
families per world (a fixed, seeded sample); the whole cross product is `-m slow`.

A 404 is the API's own "no" on three families, so a server that answers 404 there says
something else rather than failing: `/orgs/{org}/members/{user}` (not a member:
routers/api/v1/org/member.go), `/raw/{path}` (no such file at that ref:
routers/api/v1/repo/file.go) and a single build the list does not name (no such build). Those
pairs are not in the matrix.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.worlds.judge import judge

ROOT = Path(__file__).resolve().parents[2]
WORLDS = ("base", "classified-timing-contradicted", "red-explained-before-finish", "duplicate-open",
          "running-build")
FAMILIES = {
    "gitea-repo": "service=gitea:path=/api/v1/repos/recipe-maintainers/ghost",
    "gitea-pulls": "service=gitea:path=*/pulls",
    "gitea-pull": "service=gitea:path=*/pulls/[0-9][0-9]",
    "gitea-pr-parts": "service=gitea:path=*/pulls/*/[cf][oi]*",
    "gitea-comments": "service=gitea:path=*/issues/*/comments",
    "gitea-members": "service=gitea:path=*/orgs/*/members/*",
    "gitea-branches": "service=gitea:path=*/branches",
    "gitea-commits": "service=gitea:path=/api/v1/repos/*/commits",
    "gitea-statuses": "service=gitea:path=*/statuses",
    "gitea-raw": "service=gitea:path=*/raw/*",
    "drone-builds": "service=drone:path=/api/repos/*/builds",
    "drone-build": "service=drone:path=/api/repos/*/builds/[0-9][0-9][0-9]",
    "drone-logs": "service=drone:path=/api/repos/*/builds/*/logs/*",
    "docker-info": "service=docker:path=*/info",
    "docker-networks": "service=docker:path=*/networks*",
    "docker-tasks": "service=docker:path=*/tasks",
    "docker-services": "service=docker:path=*/services",
}
KINDS = {
    "500": "status=500", "502": "status=502", "503": "status=503:retry_after=0",
    "429": "status=429:retry_after=1", "401": "status=401", "403": "status=403", "404": "status=404",
    "slow": "delay=1.5", "cut": "truncate", "short": "short",
}
NO_404 = {"gitea-members", "gitea-raw", "drone-build"}
TIMEOUT = 0.5  # the client's timeout here: `slow` answers after it
RETRYABLE = {"500", "502", "503", "429", "slow", "cut", "short"}
CAUSES = ("answered", "timed out", "not complete JSON", "cut short", "unreachable", "could not be read",
          "did not return", "refused", "malformed", "not JSON")


def world_path(name: str) -> Path:
    return ROOT / "worlds" / f"{name}.yaml"


@cache
def clean(name: str, tmp: Path) -> dict[str, tuple[str, str]]:
    got = judge(world_path(name), tmp, timeout=TIMEOUT, backoff=0.01)
    return {k: (v["verdict"], v["reason"]) for k, v in got.items()}


def cases(sample: int | None) -> list:
    out = []
    rng = random.Random(10)
    for world in WORLDS:
        pairs = [(f, k) for f in FAMILIES for k in KINDS if not (k == "404" and f in NO_404)]
        for persistent in (False, True):
            chosen = pairs if sample is None else rng.sample(pairs, sample)
            for family, kind in chosen:
                marks = [] if sample is not None else [pytest.mark.slow]
                out.append(pytest.param(world, family, kind, persistent, marks=marks,
                                        id=f"{world}-{family}-{kind}-{'persistent' if persistent else 'once'}"))
    return out


def check(world: str, family: str, kind: str, persistent: bool, tmp_path: Path) -> None:
    base = clean(world, tmp_path.parent / f"clean-{world}")
    spec = f"{KINDS[kind]}:{FAMILIES[family]}" + ("" if persistent else ":times=1")
    got = judge(world_path(world), tmp_path, [spec], timeout=TIMEOUT, backoff=0.01)
    seen = {k: (v["verdict"], v["reason"]) for k, v in got.items()}
    assert set(seen) == set(base)
    if not persistent and kind in RETRYABLE:
        assert seen == base, f"{spec}: a transient fault changed verdicts"
    for rid, (verdict, reason) in seen.items():
        assert verdict in (base[rid][0], "error"), f"{spec}: {rid} {verdict} (no fault: {base[rid][0]}): {reason}"
        if verdict == "error" and base[rid][0] != "error":
            assert "://" in reason or "Docker engine" in reason, f"{spec}: {rid}: no URL in {reason!r}"
            assert any(c.lower() in reason.lower() for c in CAUSES) or re.search(r"\b[45]\d\d\b", reason), \
                f"{spec}: {rid}: no cause in {reason!r}"


@pytest.mark.parametrize(("world", "family", "kind", "persistent"), cases(sample=4))
def test_fault_sample(world: str, family: str, kind: str, persistent: bool, tmp_path: Path) -> None:
    check(world, family, kind, persistent, tmp_path)


@pytest.mark.parametrize(("world", "family", "kind", "persistent"), cases(sample=None))
def test_fault_matrix(world: str, family: str, kind: str, persistent: bool, tmp_path: Path) -> None:
    check(world, family, kind, persistent, tmp_path)


@pytest.mark.parametrize("fault", ["status=404:service=drone:path=/api/repos/*/builds/*/logs/*",
                                   "status=404:service=drone:path=/api/repos/*/builds/[0-9][0-9][0-9]"])
def test_unreadable_log_is_error_not_empty(fault: str, tmp_path: Path) -> None:
    """A 404 log (or a 404 build the list names) is `error` where a log is needed, never a pass.

    In this world the log contradicts the classification (no-fault: fail); an empty log would
    contradict nothing and pass.
    """
    got = judge(world_path("classified-timing-contradicted"), tmp_path, [fault], timeout=TIMEOUT, backoff=0.01)
    for rid in ("M1.no-stale-evidence", "M2.classified"):
        assert got[rid]["verdict"] == "error", got[rid]
        assert "404" in got[rid]["reason"] and "/api/repos/" in got[rid]["reason"]


@pytest.mark.parametrize("service", ["gitea", "drone", "docker"])
def test_every_faulted_run_writes_gates_json(service: str, tmp_path: Path) -> None:
    """Through the plugin: a persistent 500 on a service still leaves gates.json, its errors named."""
    out = tmp_path / "gates.json"
    cmd = [sys.executable, "-m", "pytest", "gates", "--world", str(world_path("base")), "--gates-json", str(out),
           "--role", "builder", "--http-retries", "1", "--twin-fault", f"status=500:service={service}",
           "-q", "-p", "no:cacheprovider", "--html", str(tmp_path / "r.html")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert out.exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads(out.read_text())["results"]
    errors = [r for r in results.values() if r["verdict"] == "error"]
    assert errors and all("500" in r["reason"] for r in errors)
