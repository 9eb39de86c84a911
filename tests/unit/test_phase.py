"""Phase settings: the shipped file loads; bad input names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghostgates.errors import ConfigError
from ghostgates.read.phase import Phase, read_phase_file

ROOT = Path(__file__).resolve().parents[2]


def _from_file(path: Path) -> Phase:
    """The file alone, keys it lacks left at their defaults (a run loads with `load_phase`)."""
    return Phase.from_mapping(read_phase_file(path), source=str(path))


def test_the_shipped_phase_file_loads():
    phase = _from_file(ROOT / "phases" / "ghost.toml")
    assert phase.repo == "recipe-maintainers/ghost" and phase.max_post_proxy_attempts == 3
    assert phase.param("sha") == "REF" and phase.blackouts[0].name == "proxy maintenance"


@pytest.mark.parametrize("text, key", [
    ('min_free_addresses = "lots"\n', "min_free_addresses: expected a whole number"),
    ('min_free = 3\n', "min_free: unknown phase key"),
    ('repo = "ghost"\n', "repo: expected owner/name"),
    ('upgrade_pattern = "(unclosed"\n', "upgrade_pattern:"),
    ('proxy_fixed_at = "yesterday"\n', "proxy_fixed_at:"),
    ('[[blackouts]]\nname = "x"\nstart = "2026-06-13T08:00:00Z"\n', "blackouts: [0]: missing end"),
    ('[[waivers]]\nrequirement = "M1.attempt-budget"\nallow = "many"\n', "waivers: expected a whole number"),
    ('test_paths = ["no-colon"]\n', "test_paths: expected owner/repo:path"),
    ('build_params = {recipe = "R"}\n', "build_params: expected a mapping"),
    ("repo = \n", "not valid TOML"),
])
def test_bad_phase_files_name_file_and_key(tmp_path: Path, text: str, key: str):
    path = tmp_path / "phase.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        _from_file(path)
    assert str(info.value).startswith(f"{path}: ")
    assert key in str(info.value)


def test_missing_phase_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="phase file not found"):
        _from_file(tmp_path / "nope.toml")


def test_world_block_overrides_the_file():
    base = _from_file(ROOT / "phases" / "ghost.toml")
    phase = Phase.from_mapping({"expected_pr": 12, "leak_patterns": ["x-*"]}, source="w.yaml: phase", base=base)
    assert phase.expected_pr == 12 and phase.leak_patterns == ("x-*",) and phase.repo == base.repo


def test_waiver_lifts_the_limit():
    phase = Phase.from_mapping({"waivers": [{"requirement": "M1.attempt-budget", "allow": 5, "by": "op"}]})
    limit, waiver = phase.waived_limit("M1.attempt-budget", 3)
    assert limit == 5 and waiver is not None and waiver.by == "op"
    assert phase.waived_limit("M1.other", 3) == (3, None)
