"""World validation: every kind of bad world is refused with one line naming file and path."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from worldkit import PUBLIC_WORLDS, tiny_world, write_world

from twin.world import REQUIREMENT_IDS, WorldError, load_world


def _error(tmp_path: Path, data: dict) -> str:
    path = write_world(tmp_path / "w.yaml", data)
    with pytest.raises(WorldError) as info:
        load_world(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    return message[len(str(path)) + 2 :]


@pytest.mark.parametrize("world", PUBLIC_WORLDS, ids=lambda p: p.stem)
def test_public_worlds_load(world: Path) -> None:
    loaded = load_world(world)
    assert loaded.now.tzinfo is not None and loaded.now.utcoffset().total_seconds() == 0
    assert set(loaded.expect) == set(REQUIREMENT_IDS)


def test_tiny_world_loads(world_file) -> None:
    loaded = load_world(world_file())
    assert loaded.name == "tiny" and loaded.files


def test_unknown_key_on_a_pull(tmp_path: Path) -> None:
    data = tiny_world(pulls=3)
    data["gitea"]["repos"]["o/r"]["pulls"][2]["titel"] = "typo"
    assert _error(tmp_path, data) == "gitea.repos.o/r.pulls[2].titel: unknown key"


def test_unknown_top_level_key(tmp_path: Path) -> None:
    data = tiny_world()
    data["extra"] = 1
    assert _error(tmp_path, data) == "extra: unknown key"


def test_unknown_phase_key(tmp_path: Path) -> None:
    data = tiny_world()
    data["phase"]["expected_prr"] = 4
    assert _error(tmp_path, data) == "phase.expected_prr: unknown key"


def test_unknown_drone_step_key(tmp_path: Path) -> None:
    data = tiny_world()
    data["drone"]["repos"]["o/ci"]["builds"][0]["stages"][0]["steps"][1]["logs"] = "x"
    assert _error(tmp_path, data) == "drone.repos.o/ci.builds[0].stages[0].steps[1].logs: unknown key"


def test_unknown_swarm_key(tmp_path: Path) -> None:
    data = tiny_world()
    data["swarm"]["services"][0]["tasks"][0]["Error"] = "x"
    assert _error(tmp_path, data) == "swarm.services[0].tasks[0].Error: unknown key"


def test_api_fields_are_allowed(tmp_path: Path) -> None:
    data = tiny_world()
    data["gitea"]["repos"]["o/r"]["pulls"][0]["body"] = "text"  # a PullRequest field
    data["drone"]["repos"]["o/ci"]["builds"][0]["author_login"] = "alice"  # a Build field
    load_world(write_world(tmp_path / "w.yaml", data))


@pytest.mark.parametrize(
    ("where", "value"),
    [("head", "abc"), ("head", "A" * 40), ("head", "a" * 41)],
)
def test_bad_sha(tmp_path: Path, where: str, value: str) -> None:
    data = tiny_world()
    data["gitea"]["repos"]["o/r"]["pulls"][0][where]["sha"] = value
    assert _error(tmp_path, data) == f"gitea.repos.o/r.pulls[0].{where}.sha: not a 40-hex sha: {value!r}"


def test_bad_sha_as_contents_key(tmp_path: Path) -> None:
    data = tiny_world()
    data["gitea"]["repos"]["o/r"]["contents"]["nothex"] = {}
    assert _error(tmp_path, data) == "gitea.repos.o/r.contents.nothex: not a 40-hex sha: 'nothex'"


def test_missing_expect_id(tmp_path: Path) -> None:
    data = tiny_world()
    del data["expect"]["M2.no-leaks"]
    assert _error(tmp_path, data).startswith("expect.M2.no-leaks: missing")


def test_unknown_expect_id_and_bad_verdict(tmp_path: Path) -> None:
    data = tiny_world()
    data["expect"]["M9.nope"] = "pass"
    assert _error(tmp_path, data) == "expect.M9.nope: unknown requirement id"
    data = tiny_world()
    data["expect"]["M1.inventory"] = "green"
    assert _error(tmp_path, data).startswith("expect.M1.inventory: verdict must be")


def test_bad_times(tmp_path: Path) -> None:
    data = tiny_world()
    data["now"] = "yesterday"
    assert _error(tmp_path, data) == "now: not an RFC 3339 time: 'yesterday'"
    data = tiny_world()
    data["drone"]["repos"]["o/ci"]["builds"][0]["created"] = "2026-06-01T00:00:00Z"
    assert _error(tmp_path, data).startswith("drone.repos.o/ci.builds[0].created: not unix seconds")


def test_duplicate_pr_number(tmp_path: Path) -> None:
    data = tiny_world(pulls=2)
    data["gitea"]["repos"]["o/r"]["pulls"][1]["number"] = 1
    assert _error(tmp_path, data) == "gitea.repos.o/r.pulls[1].number: duplicate PR number 1"


def test_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("world: x\nnow: [unclosed\n  a: b\n")
    with pytest.raises(WorldError) as info:
        load_world(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: line ") and "bad YAML" in message


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("- 1\n")
    with pytest.raises(WorldError, match=r": \(top\): a world is a mapping"):
        load_world(path)
    with pytest.raises(WorldError, match="cannot read"):
        load_world(tmp_path / "absent.yaml")


def test_unquoted_times_and_digit_shas_stay_strings(tmp_path: Path) -> None:
    data = tiny_world()
    text = write_world(tmp_path / "w.yaml", data).read_text().replace("'2026-06-15T12:00:00Z'", "2026-06-15T12:00:00Z")
    path = tmp_path / "u.yaml"
    path.write_text(text)
    loaded = load_world(path)
    assert loaded.gitea["repos"]["o/r"]["branches"][0]["commit"]["id"] == "1" * 40
    assert loaded.now.year == 2026


def test_nothing_half_loads(tmp_path: Path) -> None:
    data = tiny_world()
    good = copy.deepcopy(data)
    data["swarm"]["volumes"][0]["Size"] = 1
    with pytest.raises(WorldError):
        load_world(write_world(tmp_path / "w.yaml", data))
    assert load_world(write_world(tmp_path / "g.yaml", good)).swarm["volumes"][0] == good["swarm"]["volumes"][0]
