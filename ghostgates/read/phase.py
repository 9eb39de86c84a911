"""The phase settings of gates.md: one TOML file a phase, or a world's `phase:` block."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ghostgates.errors import ConfigError
from ghostgates.timeutil import parse_time

KEYS = (
    "repo", "recipe", "drone_repo", "build_params", "status_context", "default_branch",
    "upgrade_pattern", "expected_pr", "proxy_fixed_at", "phase_started_at",
    "max_post_proxy_attempts", "classify_failure_on", "builder_logins", "leak_patterns",
    "test_paths", "proxy_network", "min_free_addresses", "stuck_task_minutes", "blackouts", "waivers",
    "adversary_signers",
    "run_minutes",
    # Other recipes' phases (gates.md): the state files' name, what a leak pattern matches but is
    # not this phase's, the signature families named beside those the compose files run, and
    # what else a minimal fix may touch.
    "name", "leak_exclude", "families", "fix_keys",
)

# The database families a phase may name (the `infra` table always applies).
FAMILY_NAMES = ("mysql", "mariadb", "postgres")
# A state file name part: letters, digits, dot, dash, underscore (no path).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Blackout:
    name: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Waiver:
    requirement: str
    allow: int
    by: str
    reason: str


@dataclass(frozen=True)
class TestPath:
    repo: str
    path: str

    def covers(self, filename: str) -> bool:
        # gates.md: a test path covers that file, or everything under that folder; never a
        # sibling whose name merely begins the same (tests/lasuite-docs is not tests/lasuite-drive).
        prefix = self.path.strip("/")
        name = filename.strip("/")
        return prefix == "" or name == prefix or name.startswith(prefix + "/")

    def __str__(self) -> str:
        return f"{self.repo}:{self.path}"


@dataclass(frozen=True)
class Phase:
    # No recipe is a default: a phase file names its repo and recipe (REQUIRED below).
    repo: str = ""
    recipe: str = ""
    drone_repo: str = "recipe-maintainers/cc-ci"
    build_params: dict[str, str] = field(
        default_factory=lambda: {"recipe": "RECIPE", "pr": "PR", "sha": "REF"})
    status_context: str = "cc-ci/testme"
    default_branch: str = "main"
    upgrade_pattern: str = "(?i)upgrade"
    expected_pr: int | None = None
    proxy_fixed_at: datetime | None = None
    phase_started_at: datetime | None = None
    max_post_proxy_attempts: int = 3
    classify_failure_on: date | None = None
    builder_logins: tuple[str, ...] = ()
    leak_patterns: tuple[str, ...] = ()
    test_paths: tuple[TestPath, ...] = ()
    proxy_network: str = "proxy"
    min_free_addresses: int = 32
    stuck_task_minutes: float = 10
    blackouts: tuple[Blackout, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    # An ssh-keygen allowed-signers file; None: adversary records need no signature (gates.md).
    adversary_signers: str | None = None
    run_minutes: float = 30  # how long one testme run may take (gates.md): the blackout horizon
    name: str | None = None  # the state files' name; None: the recipe's
    leak_exclude: tuple[str, ...] = ()  # shell globs a leak pattern matches that are not this phase's
    families: tuple[str, ...] = ()  # signature tables that apply beside those the compose files run
    fix_keys: tuple[str, ...] = ()  # compose key paths a minimal fix may touch beyond the timing keys
    source: str = "<defaults>"

    @property
    def state_name(self) -> str:
        """The name in the state files' names (`STATUS-<name>.md`): `name`, else the recipe."""
        return self.name or self.recipe

    @property
    def owner(self) -> str:
        return self.repo.split("/", 1)[0]

    def is_upgrade(self, title: str, branch: str) -> bool:
        pattern = re.compile(self.upgrade_pattern)
        return bool(pattern.search(title or "") or pattern.search(branch or ""))

    def matches_branch(self, branch: str) -> bool:
        return bool(re.compile(self.upgrade_pattern).search(branch or ""))

    def param(self, which: str) -> str:
        return self.build_params.get(which, which.upper())

    def waived_limit(self, requirement: str, default: int) -> tuple[int, Waiver | None]:
        best: tuple[int, Waiver | None] = (default, None)
        for waiver in self.waivers:
            if waiver.requirement == requirement and waiver.allow > best[0]:
                best = (waiver.allow, waiver)
        return best

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str = "<mapping>",
                     base: Phase | None = None) -> Phase:
        """Validate `data` (keys of gates.md) over `base`; errors name the source and the key."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: the phase settings must be a mapping")
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise ConfigError(f"{source}: {unknown[0]}: unknown phase key (known: {', '.join(KEYS)})")
        values: dict[str, Any] = {} if base is None else {
            k: getattr(base, k) for k in KEYS}
        for key, raw in data.items():
            try:
                values[key] = _convert(key, raw)
            except (TypeError, ValueError, KeyError, re.error) as exc:
                raise ConfigError(f"{source}: {key}: {exc}") from None
        values["source"] = source
        return cls(**values)


def _convert(key: str, raw: Any) -> Any:
    if key in ("repo", "drone_repo"):
        if not isinstance(raw, str) or raw.count("/") != 1:
            raise ValueError(f"expected owner/name, got {raw!r}")
        return raw
    if key == "recipe":
        # It names the state files when `name` is unset (STATUS-<recipe>.md): a file name, never a path.
        if not isinstance(raw, str) or not _NAME.match(raw):
            raise ValueError(f"expected a recipe name (letters, digits, '.', '_', '-'; no path), got {raw!r}")
        return raw
    if key in ("status_context", "default_branch", "proxy_network"):
        if not isinstance(raw, str) or not raw:
            raise ValueError(f"expected a non-empty string, got {raw!r}")
        return raw
    if key == "upgrade_pattern":
        re.compile(raw)
        return str(raw)
    if key == "build_params":
        if not isinstance(raw, dict) or not {"recipe", "pr", "sha"} <= set(raw):
            raise ValueError("expected a mapping with keys recipe, pr and sha")
        return {str(k): str(v) for k, v in raw.items()}
    if key == "expected_pr":
        return None if raw in (None, "") else _int(raw)
    if key in ("proxy_fixed_at", "phase_started_at"):
        return None if raw in (None, "") else parse_time(raw)
    if key == "classify_failure_on":
        if raw in (None, ""):
            return None
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        return date.fromisoformat(str(raw))
    if key in ("max_post_proxy_attempts", "min_free_addresses"):
        return _int(raw)
    if key in ("stuck_task_minutes", "run_minutes"):
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValueError(f"expected a number, got {raw!r}")
        return float(raw)
    if key in ("builder_logins", "leak_patterns", "leak_exclude"):
        return tuple(str(x) for x in _list(raw))
    if key == "name":
        if raw in (None, ""):
            return None
        if not isinstance(raw, str) or not _NAME.match(raw):
            raise ValueError(f"expected a file-name part (letters, digits, . _ -), got {raw!r}")
        return raw
    if key == "families":
        out = tuple(str(x).strip().lower() for x in _list(raw))
        bad = [f for f in out if f not in FAMILY_NAMES]
        if bad:
            raise ValueError(f"unknown family {bad[0]!r} (known: {', '.join(FAMILY_NAMES)}; infra always applies)")
        return out
    if key == "fix_keys":
        out = tuple(str(x).strip() for x in _list(raw))
        bad = [k for k in out if not k or k.startswith(".") or k.endswith(".") or ".." in k]
        if bad:
            raise ValueError(f"expected compose key paths (service.key.subkey), got {bad[0]!r}")
        return out
    if key == "test_paths":
        paths: list[TestPath] = []
        for entry in _list(raw):
            if not isinstance(entry, str) or ":" not in entry:
                raise ValueError(f"expected owner/repo:path, got {entry!r}")
            repo, path = entry.split(":", 1)
            paths.append(TestPath(repo, path))
        return tuple(paths)
    if key == "blackouts":
        return tuple(Blackout(str(b["name"]), parse_time(b["start"]), parse_time(b["end"]))
                     for b in _entries(raw, ("name", "start", "end")))
    if key == "waivers":
        return tuple(Waiver(str(w["requirement"]), _int(w["allow"]), str(w.get("by", "")),
                            str(w.get("reason", ""))) for w in _entries(raw, ("requirement", "allow")))
    if key == "adversary_signers":
        if raw in (None, ""):
            return None
        if not isinstance(raw, str):
            raise ValueError(f"expected a file path, got {raw!r}")
        return raw
    raise KeyError(key)


def _int(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).strip().lstrip("-").isdigit():
        raise ValueError(f"expected a whole number, got {raw!r}")
    return int(raw)


def _list(raw: Any) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"expected a list, got {type(raw).__name__}")
    return raw


def _entries(raw: Any, required: tuple[str, ...]) -> list[dict[str, Any]]:
    out = []
    for i, entry in enumerate(_list(raw)):
        if not isinstance(entry, dict):
            raise ValueError(f"[{i}]: expected a table, got {entry!r}")
        missing = [k for k in required if k not in entry]
        if missing:
            raise ValueError(f"[{i}]: missing {', '.join(missing)}")
        out.append(entry)
    return out


# The keys a verdict reads and no default can stand in for: a phase file (with a world's
# `phase:` block over it) that lacks one is a usage error naming the key, never a silent default.
# Optional: `expected_pr` (the state file may declare the PR), `blackouts`, `waivers` (none),
# and the keys gates.md gives a default or marks optional (`run_minutes`, `adversary_signers`).
REQUIRED = (
    "repo", "recipe", "drone_repo", "build_params", "status_context", "default_branch",
    "upgrade_pattern", "proxy_fixed_at", "phase_started_at", "max_post_proxy_attempts",
    "classify_failure_on", "builder_logins", "leak_patterns", "test_paths", "proxy_network",
    "min_free_addresses", "stuck_task_minutes",
)


# A phase file is a handful of keys, its deepest value a list of tables (blackouts, waivers):
# anything far larger or deeper is not a phase, and is refused in one line before it is walked.
MAX_PHASE_BYTES = 1 << 20
MAX_PHASE_DEPTH = 8


def read_phase_file(path: Path) -> dict[str, Any]:
    """The phase file's TOML as a mapping (errors name the file)."""
    try:
        size = path.stat().st_size
        if size > MAX_PHASE_BYTES:
            raise ConfigError(f"{path}: {size} bytes: a phase file holds at most {MAX_PHASE_BYTES} bytes")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: phase file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested deeper than a phase file may be (at most {MAX_PHASE_DEPTH} levels of "
                          "arrays and tables)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    if _depth(data) - 1 > MAX_PHASE_DEPTH:  # the document's own table is not a level
        raise ConfigError(f"{path}: nested deeper than a phase file may be (at most {MAX_PHASE_DEPTH} levels of "
                          "arrays and tables)")
    return data


def _depth(value: Any) -> int:
    """How deeply arrays and tables nest in `value` (a scalar is 0), counted without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, level = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_PHASE_DEPTH + 1:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def load_phase(path: Path, world_block: dict[str, Any] | None = None, world_source: str = "") -> Phase:
    """The run's phase: the file, with a world's `phase:` block over it; every REQUIRED key given."""
    data = read_phase_file(path)
    if world_block is not None and not isinstance(world_block, dict):
        raise ConfigError(f"{world_source}: the phase settings must be a mapping")
    given = set(data) | set(world_block or {})
    for key in REQUIRED:
        if key not in given:
            where = f"{path}" + (f" (nor {world_source})" if world_block is not None else "")
            raise ConfigError(f"{where}: {key}: phase key missing; a verdict needs it (gates.md, Phase settings)")
    base = Phase.from_mapping(data, source=str(path))
    if world_block is None:
        return base
    return Phase.from_mapping(world_block, source=world_source, base=base)
