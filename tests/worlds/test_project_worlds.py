"""Every world (the project's own, worlds/*.yaml, and the public ones in ../shared/worlds) judged
against the twin, each verdict compared with the world's `expect`.

Worlds are judged as the Builder (`--role builder`, as ../shared/tools/run_worlds.py does): a
world's `expect` is what a run that writes nothing concludes. Most are judged in this process
through the same public functions the plugin calls (judge.py); a world per requirement family
(M1, M2, DONE: the base world, and one whose verdicts differ in each family) goes through the
plugin in a subprocess, and the two must agree verdict for verdict and reason for reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.worlds.judge import judge
from twin.world import load_world

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "worlds"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "worlds"
TIMEOUT = 120
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where present: the same data, ~10x faster


def _load(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader


def _cases() -> list:
    cases = [pytest.param(p, id=f"own/{p.stem}") for p in sorted(OWN.glob("*.yaml"))]
    if SHARED.is_dir():
        cases += [pytest.param(p, id=f"public/{p.stem}") for p in sorted(SHARED.glob("*.yaml"))]
    else:
        cases.append(pytest.param(None, id="public/absent", marks=pytest.mark.skip(
            reason=f"the public worlds folder {SHARED} is absent in this checkout")))
    return cases


def run_suite(world: Path, tmp: Path) -> dict:
    """The suite's results for a world: {id: {verdict, reason, ...}}."""
    out = tmp / "gates.json"
    state = tmp / "state"
    state.mkdir()
    cmd = [sys.executable, "-m", "pytest", "gates", "--world", str(world), "--gates-json", str(out),
           "--state-dir", str(state), "--html", str(tmp / "gates.html"), "--role", "builder", "-q",
           "-p", "no:cacheprovider"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    if not out.exists():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        pytest.fail(f"the suite wrote no {out.name} for {world.name} (exit {proc.returncode}):\n{tail}")
    return json.loads(out.read_text(encoding="utf-8"))["results"]


def mismatches(expect: dict[str, str], results: dict) -> list[str]:
    """One line per id whose verdict differs from `expect`, with the suite's reason."""
    lines = []
    for rid, want in expect.items():
        got = results.get(rid)
        verdict = (got or {}).get("verdict", "missing")
        if verdict != want:
            reason = (got or {}).get("reason", "the suite reported nothing for this id")
            lines.append(f"{rid}: expected {want}, suite said {verdict}: {reason}")
    return lines


@pytest.mark.parametrize("world", _cases())
def test_world_verdicts(world: Path, tmp_path: Path) -> None:
    data = load_world(world)  # read once: its `expect` here, its services for the judge
    results = judge(world, tmp_path, loaded=data)
    bad = mismatches(data.expect, results)
    assert not bad, f"{data.name} ({data.about}):\n  " + "\n  ".join(bad)


def _family_worlds() -> list:
    """The base world, and for each family a world where that family's verdicts differ from it."""
    base = _load(OWN / "base.yaml")["expect"]
    chosen = [OWN / "base.yaml"]
    for family in ("M1.", "M2.", "DONE."):
        for path in sorted(OWN.glob("*.yaml")):
            expect = _load(path)["expect"]
            if path not in chosen and any(v != base[k] for k, v in expect.items() if k.startswith(family)):
                chosen.append(path)
                break
    return [pytest.param(p, id=p.stem) for p in chosen]


@pytest.mark.parametrize("world", _family_worlds())
def test_plugin_agrees_with_in_process(world: Path, tmp_path: Path) -> None:
    """The plugin (a real `pytest gates` subprocess) concludes what the in-process judge does."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    by_plugin = run_suite(world, tmp_path / "a")
    in_process = judge(world, tmp_path / "b")
    assert {k: (v["verdict"], v["reason"]) for k, v in by_plugin.items()} == \
        {k: (v["verdict"], v["reason"]) for k, v in in_process.items()}


def test_wrong_expect_is_caught(tmp_path: Path) -> None:
    """The comparison can fail: base.yaml with one verdict flipped is reported, naming the id."""
    data = _load(OWN / "base.yaml")
    data["world"] = "base-wrong-expect"
    data["expect"]["M2.no-leaks"] = "fail"
    data["expect"]["DONE.signed"] = "skip"
    world = tmp_path / "wrong.yaml"
    world.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    run = tmp_path / "run"
    run.mkdir()
    bad = mismatches(data["expect"], judge(world, run))
    assert [line.split(":")[0] for line in bad] == ["M2.no-leaks", "DONE.signed"]
    assert "expected fail, suite said pass" in bad[0]


def test_mismatches_reports_missing_ids() -> None:
    assert mismatches({"M1.inventory": "pass"}, {}) == [
        "M1.inventory: expected pass, suite said missing: the suite reported nothing for this id"]


def test_generated_worlds_are_up_to_date(tmp_path: Path) -> None:
    """worlds/*.yaml are what worlds/make_worlds.py writes from base.yaml (commit both)."""
    proc = subprocess.run([sys.executable, str(OWN / "make_worlds.py"), str(tmp_path)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for made in sorted(tmp_path.glob("*.yaml")):
        committed = OWN / made.name
        assert committed.exists(), f"{made.name} is generated but not in worlds/"
        assert committed.read_text(encoding="utf-8") == made.read_text(encoding="utf-8"), \
            f"worlds/{made.name} is stale: run python worlds/make_worlds.py"


def test_every_world_expects_every_id() -> None:
    ids = set(_load(OWN / "base.yaml")["expect"])
    assert len(ids) == 18
    seen: dict[str, set[str]] = {i: set() for i in ids}
    for path in sorted(OWN.glob("*.yaml")):
        data = _load(path)
        assert set(data["expect"]) == ids, path.name
        for rid, verdict in data["expect"].items():
            seen[rid].add(verdict)
    lacking = {rid: v for rid, v in seen.items() if "pass" not in v or not ({"fail", "skip"} & v)}
    assert not lacking, f"ids without both a passing and a failing/skipping world: {lacking}"


def test_the_lasuite_demo_is_its_generated_world() -> None:
    """demo/lasuite-docs.world.yaml is worlds/lasuite-docs-sibling-kept.yaml under the demo's name: a
    demo that drifts from its world (as when the statements grammar came in) is judged by nothing."""
    demo = yaml.safe_load((OWN.parent / "demo" / "lasuite-docs.world.yaml").read_text(encoding="utf-8"))
    made = yaml.safe_load((OWN / "lasuite-docs-sibling-kept.yaml").read_text(encoding="utf-8"))
    assert demo.pop("world") == "demo-lasuite-docs"
    made.pop("world")
    assert demo == made, "demo/lasuite-docs.world.yaml is stale: copy worlds/lasuite-docs-sibling-kept.yaml over it"
