"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Every writer of a file takes an exclusive lock on the file's directory, writes the new text to a
temporary file beside it (`.<name>.<random>.tmp`), fsyncs it, renames it over the file and
fsyncs the directory. A run killed at any moment leaves the old file whole, or the new one, plus
at worst its temporary file; the next writer of that file removes such leftovers while it holds
the lock (no live writer can own them then: every writer holds the lock while its temporary file
exists, and a killed process's lock is released by the kernel).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

TMP_SUFFIX = ".tmp"


class WriteError(OSError):
    """A file the run must write or read back could not be: the message names the file."""


def _target(path: Path) -> Path:
    # Through a symlink to the file the user keeps: replacing the link would cut it.
    return Path(os.path.realpath(path))


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[int]:
    """Hold an exclusive lock on `directory` (the directory itself: no lock file is left behind)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


def stale_temporaries(path: Path) -> list[Path]:
    """Temporary files a killed writer of `path` left (only the names this module makes)."""
    prefix = f".{path.name}."
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return []
    return sorted(path.parent / n for n in names if n.startswith(prefix) and n.endswith(TMP_SUFFIX))


def _write_locked(path: Path, text: str, dir_fd: int) -> None:
    for leftover in stale_temporaries(path):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes 0600 files; a report or review file is as readable as any other file here.
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        os.replace(tmp, path)
        # The rename itself is durable only once the directory is on disk.
        os.fsync(dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def replace_text(path: Path, text: str) -> None:
    """Replace `path` by `text` atomically, keeping the file's mode; errors name the file."""
    update_text(path, lambda _old: text, read=False)


def update_text(path: Path, update: Callable[[str], str], read: bool = True, follow_links: bool = True) -> str:
    """Apply `update(old_text) -> new_text` under the lock and replace the file atomically.

    The old text is read as written (no newline translation); a file that does not exist is "".
    A file that exists but cannot be read is never overwritten: what cannot be read cannot be kept.
    With `follow_links` false, a symlink at `path` is refused under the lock, at the moment of the
    write (the review file: whoever can plant a link must not choose which file the run rewrites).
    """
    path = Path(path) if not follow_links else _target(Path(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path.parent) as dir_fd:
            if not follow_links and path.is_symlink():
                raise WriteError(f"{path}: a symlink: the suite writes no file through a link")
            old = ""
            if read:
                try:
                    with open(path, encoding="utf-8", newline="") as handle:
                        old = handle.read()
                except FileNotFoundError:
                    old = ""
                except UnicodeDecodeError as exc:
                    raise WriteError(f"{path}: cannot be read: not UTF-8 text ({exc.reason} at byte "
                                     f"{exc.start})") from None
                except OSError as exc:
                    raise WriteError(f"{path}: cannot be read: {exc.strerror or exc}") from None
            new = update(old)
            _write_locked(path, new, dir_fd)
            return new
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(f"{path}: cannot be written: {exc.strerror or exc}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
