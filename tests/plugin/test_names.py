"""A gate test is named by its requirement id (issue 20): `--co`, `-v` and JUnit say `M2.no-leaks`, and the
usual selections (-k, -m, --requirement, --lf) still pick ids. One parametrized test per gate file over the
registry (ghostgates.judge.rules.RULES), each item marked `requirement(id)`."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ghostgates.catalogue import ALL, GATES

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "world.yaml"


def _pytest(tmp_path: Path, *args: str) -> str:
    cmd = [sys.executable, "-m", "pytest", "gates", "--world", str(DEMO), "--state-dir", str(tmp_path / "state"),
           "--gates-json", str(tmp_path / "gates.json"), "--role", "builder", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return proc.stdout + proc.stderr


def _collected(output: str) -> list[str]:
    return [line.split("[", 1)[1].rstrip("]") for line in output.splitlines() if "::test_requirement[" in line]


def test_collect_only_lists_the_ids_in_spec_order(tmp_path: Path) -> None:
    output = _pytest(tmp_path, "--co", "-q", "-p", "no:cacheprovider")
    assert _collected(output) == list(ALL), output[-2000:]
    for gate, ids in GATES.items():
        for rid in ids:
            assert f"gates/{gate.lower()}/test_{gate.lower()}.py::test_requirement[{rid}]" in output


@pytest.mark.parametrize(("args", "ids"), [
    (("-k", "M2.no-leaks"), ["M2.no-leaks"]),
    (("-m", "m1"), list(GATES["M1"])),
    (("--requirement", "M1.inventory,DONE.signed"), ["M1.inventory", "DONE.signed"]),
])
def test_selections_pick_ids(tmp_path: Path, args: tuple[str, ...], ids: list[str]) -> None:
    assert _collected(_pytest(tmp_path, "--co", "-q", "-p", "no:cacheprovider", *args)) == ids


def test_junit_and_verbose_name_the_id(tmp_path: Path) -> None:
    junit = tmp_path / "j.xml"
    output = _pytest(tmp_path, "-v", "-p", "no:cacheprovider", "--requirement", "M1.inventory,M2.no-leaks",
                     "--junitxml", str(junit))
    assert "gates/m2/test_m2.py::test_requirement[M2.no-leaks] FAILED" in output, output[-2000:]
    names = [case.get("name") for case in ET.parse(junit).getroot().iter("testcase")]
    assert names == ["test_requirement[M1.inventory]", "test_requirement[M2.no-leaks]"]


def test_last_failed_reruns_the_failed_ids(tmp_path: Path) -> None:
    cache = ["-o", f"cache_dir={tmp_path / 'cache'}"]
    first = _pytest(tmp_path, "-q", "-rf", *cache)
    failed = sorted(line.split("[", 1)[1].split("]")[0] for line in first.splitlines() if line.startswith("FAILED "))
    assert failed, first[-2000:]
    again = _pytest(tmp_path, "--lf", "--co", "-q", *cache)
    assert sorted(_collected(again)) == failed
