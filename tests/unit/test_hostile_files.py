"""Worlds and phase files are input the suite does not trust (issue 19, cases 6 and 11).

A world's `files:` keys are written into the operator's state dir, so each must stay inside it;
a YAML alias can expand a few lines into gigabytes (billion laughs); a phase file nested without
bound crashed tomllib's recursion into an INTERNALERROR. Each is refused in one line naming the file.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from ghostgates.errors import ConfigError
from ghostgates.read.phase import MAX_PHASE_DEPTH, Phase, load_phase, read_phase_file
from twin.world import WorldError, load_world

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo" / "world.yaml"

BILLION_LAUGHS = """\
world: laughs
now: "2026-06-20T12:00:00Z"
expect: {}
about: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _demo_with(tmp_path: Path, **changes: object) -> Path:
    world = yaml.safe_load(DEMO.read_text())
    world.update(changes)
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(world, sort_keys=False))
    return path


def test_a_billion_laughs_world_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(BILLION_LAUGHS)
    started = time.monotonic()
    with pytest.raises(WorldError) as info:
        load_world(path)
    assert time.monotonic() - started < 2
    message = str(info.value)
    assert message.startswith(f"{path}: line 4: YAML alias refused") and "\n" not in message


def test_a_merge_key_is_an_alias_too(tmp_path: Path) -> None:
    world = DEMO.read_text().replace("phase:\n", "x-base: &base {}\nphase:\n  <<: *base\n", 1)
    path = tmp_path / "merge.yaml"
    path.write_text(world)
    with pytest.raises(WorldError, match=r"YAML alias refused"):
        load_world(path)


def test_a_world_without_aliases_loads_as_before(tmp_path: Path) -> None:
    # The other side: the same document written out in full is an ordinary world.
    world = load_world(_demo_with(tmp_path))
    assert world.files and world.name == load_world(DEMO).name


@pytest.mark.parametrize("name", [
    "machine-docs/../../x",
    "../outside.md",
    "/etc/passwd",
    "machine-docs/./STATUS-ghost.md",
    "machine-docs//STATUS-ghost.md",
    "C:/Windows/x",
    "machine-docs\\..\\x",
    "machine-docs",
])
def test_a_file_name_that_leaves_the_state_dir_is_refused(tmp_path: Path, name: str) -> None:
    path = _demo_with(tmp_path, files={name: "planted\n"})
    with pytest.raises(WorldError) as info:
        load_world(path)
    assert str(info.value).startswith(f"{path}: files.{name}: ") and "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["machine-docs/STATUS-ghost.md", "machine-docs/notes/day-1.md", "JOURNAL.md"])
def test_a_file_name_inside_the_state_dir_is_kept(tmp_path: Path, name: str) -> None:
    assert name in load_world(_demo_with(tmp_path, files={name: "text\n"})).files


@pytest.mark.parametrize("value", [
    "[" * 100_000 + "]" * 100_000,                    # past tomllib's recursion: was an INTERNALERROR
    "{b = " * 5_000 + "1" + "}" * 5_000,
    "[" * (MAX_PHASE_DEPTH + 1) + "]" * (MAX_PHASE_DEPTH + 1),
])
def test_a_deeply_nested_phase_file_is_one_line(tmp_path: Path, value: str) -> None:
    path = tmp_path / "phase.toml"
    path.write_text(f"repo = {value}\n")
    with pytest.raises(ConfigError) as info:
        load_phase(path)
    assert str(info.value) == (f"{path}: nested deeper than a phase file may be (at most {MAX_PHASE_DEPTH} "
                               "levels of arrays and tables)")


def test_nesting_within_the_bound_is_judged_by_its_keys(tmp_path: Path) -> None:
    path = tmp_path / "phase.toml"
    path.write_text("repo = " + "[" * MAX_PHASE_DEPTH + "]" * MAX_PHASE_DEPTH + "\n")
    with pytest.raises(ConfigError, match=r"repo: expected owner/name"):
        Phase.from_mapping(read_phase_file(path), source=str(path))


def test_a_huge_phase_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "phase.toml"
    path.write_text("# " + "x" * (2 << 20) + "\n")
    with pytest.raises(ConfigError, match=r"bytes: a phase file holds at most"):
        load_phase(path)


def test_the_manifest_records_only_what_the_suite_wrote(tmp_path: Path) -> None:
    """twin/statedir: at the end of a --world run only the review file the run wrote joins the world's
    files in the manifest; a file someone added meanwhile, or a world file someone edited, stays
    foreign, so the next --world run refuses rather than overwrite it."""
    from twin import statedir

    state = tmp_path / "state"
    statedir.write_world_files({"machine-docs/STATUS-ghost.md": "s\n", "machine-docs/REVIEW-ghost.md": "r\n"},
                               state)
    statedir.check_ours(state)  # the world's own files: ours
    (state / "notes.md").write_text("the operator's\n")
    (state / "STATUS-ghost.md").write_text("edited by hand\n")
    (state / "REVIEW-ghost.md").write_text("r\nthe run's block\n")
    statedir.seal(state, [state / "REVIEW-ghost.md"])
    assert statedir.foreign(state) == ["STATUS-ghost.md", "notes.md"]
    with pytest.raises(statedir.StateDirError, match="which this suite did not put there"):
        statedir.check_ours(state)
