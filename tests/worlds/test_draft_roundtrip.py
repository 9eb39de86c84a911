"""The Builder's draft round trip (issue 17): take a world, remove every statement from its comments and
its state file's `## Justification`, draft (`pytest gates --role builder --draft FILE --world W`), apply
the draft (post each drafted comment as the builder, write the drafted `## Justification`, fill each
placeholder the way a person would), and the gates conclude what the world expects, on the same evidence.
A placeholder left unfilled states nothing: the requirement its section names fails."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from ghostgates.read import markdown
from ghostgates.read import statements as st
from ghostgates.record import draft as drafting
from ghostgates.timeutil import parse_time, rfc3339
from tests.worlds.judge import judge

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "worlds"
# Project worlds whose drafts hold what the public ones do not: a red latest build (a Blocker to fill),
# an upgrade measured from the log's markers.
OWN = ("red-explained-minimal-fix", "fix-justified-from-the-log", "stmt-state-justification")
# What a person writes in place of each placeholder, by its key.
FILLED = {st.BLOCKER: "ghost 6.44.1 crash-loops on its post-revisions migration", st.UPGRADE_TOOK: "96 s"}


def _cases() -> list[Any]:
    cases = [pytest.param(p, id=f"public/{p.stem}") for p in sorted(SHARED.glob("*.yaml"))]
    cases += [pytest.param(ROOT / "worlds" / f"{name}.yaml", id=f"own/{name}") for name in OWN]
    return cases


def strip_statements(text: str) -> str:
    lines = markdown.normalise(text).split("\n")
    drop = {s.line for s in st.read(text).lines}
    return "\n".join(line for n, line in enumerate(lines) if n not in drop)


def set_section(text: str, title: str, body: str | None) -> str:
    """The state file with its `## title` section's body replaced by `body` (removed where None; added
    before `## DONE`, or at the end, where it has none)."""
    lines = markdown.normalise(text).split("\n")
    found = markdown.parse(text).section_named(title)
    if found:
        sec = found[0]
        new = [] if body is None else [lines[sec.start], *body.split("\n"), ""]
        return "\n".join(lines[:sec.start] + new + lines[sec.end:])
    if body is None:
        return text
    block = f"## {title}\n{body}\n\n"
    done = markdown.parse(text).section_named("DONE")
    if done:
        at = done[0].start
        return "\n".join(lines[:at]) + "\n" + block + "\n".join(lines[at:])
    return text.rstrip("\n") + "\n\n" + block


def pulls(world: dict[str, Any]) -> list[dict[str, Any]]:
    return next(iter(world["gitea"]["repos"].values()))["pulls"]


def without_statements(world: dict[str, Any]) -> dict[str, Any]:
    for pr in pulls(world):
        for comment in pr.get("comments") or []:
            comment["body"] = strip_statements(comment.get("body") or "")
    status = next(k for k in world["files"] if k.endswith("STATUS-ghost.md"))
    world["files"][status] = set_section(world["files"][status], "Justification", None)
    return world


def fill(body: str) -> str:
    out = []
    for line in body.split("\n"):
        for key, value in FILLED.items():
            if st.read(line).given(key) and drafting.FILL.split("{")[0] in line:
                line = line[: line.index("<fill in:")] + value
        out.append(line)
    return "\n".join(out)


def apply(world: dict[str, Any], text: str, filled: bool = True) -> dict[str, Any]:
    builder = (world.get("phase") or {}).get("builder_logins", ["builder"])[0]
    at = parse_time(world["now"]) - timedelta(minutes=1)
    by_number = {int(p["number"]): p for p in pulls(world)}
    status = next(k for k in world["files"] if k.endswith("STATUS-ghost.md"))
    for k, part in enumerate(drafting.parse(text)):
        body = fill(part.body) if filled else part.body
        if part.kind == drafting.COMMENT:
            comments = by_number[int(part.target)].setdefault("comments", [])
            stamp = rfc3339(at + timedelta(seconds=k))
            comments.append({"id": 900000 + k, "user": {"login": builder}, "body": body, "created_at": stamp,
                             "updated_at": stamp})
        elif part.target == "Justification":
            world["files"][status] = set_section(world["files"][status], "Justification", body)
    return world


def write_draft(world_path: Path, out: Path) -> str:
    cmd = [sys.executable, "-m", "pytest", "gates", "--world", str(world_path), "--role", "builder", "--draft",
           str(out), "--gates-json", str(out.with_suffix(".json")), "--html", str(out.with_suffix(".html")), "-q",
           "-p", "no:cacheprovider"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.exists(), (proc.stdout + proc.stderr)[-2000:]
    return out.read_text(encoding="utf-8")


def verdicts(world: dict[str, Any], tmp: Path, name: str) -> dict[str, str]:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(world, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (tmp / name).mkdir()
    return {rid: v["verdict"] for rid, v in judge(path, tmp / name).items()}


@pytest.mark.parametrize("world_path", _cases())
def test_the_draft_restores_what_the_statements_said(world_path: Path, tmp_path: Path) -> None:
    world = yaml.safe_load(world_path.read_text(encoding="utf-8"))
    expect = world["expect"]
    bare = without_statements(world)
    bare_path = tmp_path / "bare.yaml"
    bare_path.write_text(yaml.safe_dump(bare, sort_keys=False, allow_unicode=True), encoding="utf-8")
    before = verdicts(yaml.safe_load(bare_path.read_text()), tmp_path, "bare")
    assert any(before.get(rid) != want for rid, want in expect.items()), "removing the statements changed nothing"
    text = write_draft(bare_path, tmp_path / "draft.md")
    parts = drafting.parse(text)
    assert parts, text
    assert "posted" in text  # it says it posted nothing
    got = verdicts(apply(yaml.safe_load(bare_path.read_text()), text), tmp_path, "applied")
    wrong = {rid: (got.get(rid), want) for rid, want in expect.items() if got.get(rid) != want}
    assert not wrong, f"{world_path.name}: verdict (applied draft, expected) differ: {wrong}\n\n{text}"
    holes = [p for p in parts if p.placeholders]
    if holes:
        # Unfilled, a placeholder states nothing: the requirement the draft names fails.
        unfilled = verdicts(apply(yaml.safe_load(bare_path.read_text()), text, filled=False), tmp_path, "unfilled")
        named = {rid for rid in expect if rid in text and unfilled.get(rid) == "fail" and expect[rid] != "fail"}
        assert named, f"{world_path.name}: no requirement the draft names fails with its placeholders unfilled"


def test_the_draft_is_the_builders(tmp_path: Path) -> None:
    out = tmp_path / "draft.md"
    cmd = [sys.executable, "-m", "pytest", "gates", "--world", str(ROOT / "demo" / "world.yaml"), "--role",
           "adversary", "--draft", str(out), "-q", "-p", "no:cacheprovider"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4, proc.stdout + proc.stderr  # pytest's usage error: nothing ran, nothing written
    assert "--draft is the Builder's" in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("planted", ["file", "link"])
def test_the_draft_never_replaces_a_file_it_did_not_write(tmp_path: Path, planted: str) -> None:
    """--draft given a state file (or a link to one) by mistake: refused before the run, the file
    kept byte for byte (an earlier draft of its own at the same path is replaced: the next test)."""
    kept = tmp_path / "STATUS-ghost.md"
    kept.write_text("# STATUS: ghost\nthe operator's own notes\n", encoding="utf-8")
    target = kept if planted == "file" else tmp_path / "draft.md"
    if planted == "link":
        target.symlink_to(kept)
    cmd = [sys.executable, "-m", "pytest", "gates", "--world", str(ROOT / "demo" / "world.yaml"), "--role",
           "builder", "--draft", str(target), "--gates-json", str(tmp_path / "g.json"), "--html",
           str(tmp_path / "g.html"), "-q", "-p", "no:cacheprovider"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert kept.read_text(encoding="utf-8") == "# STATUS: ghost\nthe operator's own notes\n"


def test_the_draft_replaces_its_own_earlier_draft(tmp_path: Path) -> None:
    """An earlier draft at the same path is the draft's own: a second run replaces it (once, not once per
    planted kind above: this part does not depend on what was planted)."""
    again = tmp_path / "again.md"
    first = write_draft(ROOT / "demo" / "world.yaml", again)
    assert first.startswith("# Builder's draft")
    again.write_text(first + "a line only the earlier draft had\n", encoding="utf-8")
    second = write_draft(ROOT / "demo" / "world.yaml", again)  # an earlier draft of its own is replaced
    assert second.startswith("# Builder's draft")
    assert "a line only the earlier draft had" not in second
