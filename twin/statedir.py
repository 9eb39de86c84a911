"""A `--world` run's files in a state dir: written only inside it, and only over files the suite put there.

gates.md ("What the suite writes into the review file"): a run that starts the twin (`--world`)
never writes into a state directory that holds files it did not put there. The suite knows its
own files by a manifest it keeps beside them, `.ghost-gates-world.json`: each file's path
(relative to the state dir) and the SHA-256 of the text the suite left there. A state dir is the
suite's to write when every file in it (the manifest aside) is listed there with that very hash:
a file the operator wrote, or one the suite wrote and someone edited since, is theirs, and the
run is refused before anything is written. An empty or missing directory is the suite's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

MANIFEST = ".ghost-gates-world.json"
_KIND = "ghost-gates --world state files"


class StateDirError(Exception):
    """The state dir is not the suite's to write; the message is one line naming dir and file."""


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            sha.update(block)
    return sha.hexdigest()


def _entries(state_dir: Path) -> tuple[list[str], list[str]]:
    """(regular files, anything else: symlinks, fifos, sockets...) below `state_dir`, relative, sorted."""
    files: list[str] = []
    other: list[str] = []
    for root, dirs, names in os.walk(state_dir, followlinks=False):
        base = Path(root)
        for name in list(dirs):
            if (base / name).is_symlink():
                other.append(str((base / name).relative_to(state_dir)))
                dirs.remove(name)
        for name in names:
            path = base / name
            rel = str(path.relative_to(state_dir))
            if path.is_symlink() or not path.is_file():
                other.append(rel)
            elif rel != MANIFEST and not (name.startswith(MANIFEST + ".") and name.endswith(".tmp")):
                files.append(rel)  # the manifest, and a killed seal's temporary file, are the suite's
    return sorted(files), sorted(other)


def _manifest(state_dir: Path) -> dict[str, str]:
    path = state_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) and data.get("kind") == _KIND else None
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items()}


def foreign(state_dir: Path) -> list[str]:
    """The files below `state_dir` the suite did not put there (or that changed since it did)."""
    if not state_dir.exists():
        return []
    if state_dir.is_symlink() or not state_dir.is_dir():
        return ["."]
    known = _manifest(state_dir)
    files, other = _entries(state_dir)
    return sorted(other + [rel for rel in files if known.get(rel) != _digest(state_dir / rel)])


def check_ours(state_dir: Path, option: str = "--state-dir") -> None:
    """Refuse (StateDirError, one line) a state dir holding anything the suite did not put there."""
    found = foreign(state_dir)
    if not found:
        return
    if found == ["."]:
        raise StateDirError(f"{option} {state_dir}: not a directory")
    more = f" and {len(found) - 1} more" if len(found) > 1 else ""
    raise StateDirError(
        f"{option} {state_dir}: holds {found[0]}{more}, which this suite did not put there (or which changed "
        f"since): a --world run writes the world's files there and would overwrite them; give --world an "
        f"empty or new directory, or leave out {option} for a scratch one")


def target(state_dir: Path, name: str) -> Path:
    """Where a world's file `name` goes: `machine-docs/` taken off, always strictly inside `state_dir`."""
    parts = Path(name).parts
    rel = Path(*parts[1:]) if len(parts) > 1 and parts[0] == "machine-docs" else Path(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise StateDirError(f"{name!r}: a world's file must stay inside the state dir")
    root = state_dir.resolve()
    where = (root / rel).resolve()
    if where == root or root not in where.parents:
        raise StateDirError(f"{name!r}: resolves to {where}, outside the state dir {root}")
    return where


def write_world_files(files: dict[str, str], state_dir: Path) -> None:
    """The world's files into `state_dir` (created if missing), then the manifest that names them.

    Every target is checked before the first byte is written; the caller has refused a state dir
    that holds files not the suite's (`check_ours`).
    """
    targets = {name: target(state_dir, name) for name in files}
    state_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        where = targets[name]
        where.parent.mkdir(parents=True, exist_ok=True)
        if where.is_symlink():
            raise StateDirError(f"{where}: a symlink; the suite writes no file through one")
        where.write_text(text, encoding="utf-8")
    seal(state_dir, targets.values(), fresh=True)


def seal(state_dir: Path, written: Iterable[Path], fresh: bool = False) -> None:
    """Record the files the suite itself wrote (`written`: the world's files at the start, the review
    file at the end) as the suite's, beside what the manifest already held (none where `fresh`). A
    file someone else added or changed meanwhile is never recorded: the next --world run refuses it."""
    if not state_dir.is_dir():
        return
    root = state_dir.resolve()
    known = {} if fresh else _manifest(state_dir)
    for path in written:
        where = Path(path).resolve()
        if where.is_file() and root in where.parents:
            known[str(where.relative_to(root))] = _digest(where)
    data = {"kind": _KIND, "files": dict(sorted(known.items()))}
    # A temporary file of a fresh name, then a rename: never through a link someone planted.
    fd, tmp = tempfile.mkstemp(prefix=MANIFEST + ".", suffix=".tmp", dir=state_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, state_dir / MANIFEST)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
