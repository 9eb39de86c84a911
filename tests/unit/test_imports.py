"""The house's import rules (issue 16 items 2 and 9).

- The deciding code is pure: importing the rules (all of ghostgates.judge and ghostgates.read) loads no
  Docker SDK, no requests, no paramiko.
- No import cycle among the suite's own modules, not even through an import inside a function: each
  `import`/`from ... import` anywhere in a module (function bodies and TYPE_CHECKING blocks included)
  is an edge to the module it names; a cycle is a strongly connected set of two or more modules.
  (Importing `a.b.c` also runs package `a.b`'s __init__; that parent link is not an edge: a package
  that lists its own submodules, as ghostgates/judge/rules/__init__.py does its rules, is no cycle.)
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ghostgates", "fixtures", "plugins", "gates", "twin")
SDKS = ("docker", "requests", "paramiko")


def test_the_deciding_code_imports_no_docker_sdk() -> None:
    code = f"""
import importlib, pkgutil, sys
import ghostgates.judge, ghostgates.read
names = ["ghostgates.judge.rules"]
for package in (ghostgates.judge, ghostgates.read):
    names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
for name in names:
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {SDKS!r})
print(len(names), loaded)
sys.exit(1 if loaded else 0)
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"the deciding code loads {proc.stdout.strip()} {proc.stderr[-2000:]}"
    assert int(proc.stdout.split()[0]) > 15  # the walk did find the modules


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {"conftest": ROOT / "conftest.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _edges(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    is_package = path.name == "__init__.py"
    here = name if is_package else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in modules:
                    out.add(full)
                elif base in modules:
                    out.add(base)
    out.discard(name)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected sets of two or more modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_not_even_inside_a_function() -> None:
    modules = _modules()
    graph = {name: _edges(name, path, modules) for name, path in modules.items()}
    assert sum(len(e) for e in graph.values()) > 100  # the walk did see the imports
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
