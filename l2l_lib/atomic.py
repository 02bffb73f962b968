"""Atomic file writes: a reader sees the old file or the complete new one, never a half-written one.

Every file the project writes for later reading (checkpoints, benchmark results, executed notebooks,
the book's downloadable notebooks) goes through :func:`atomic_path`: the content is written to a
temporary file in the same folder (so that the final rename stays on one file system), flushed to disk
with ``fsync``, then renamed over the target with :func:`os.replace`, which is atomic. If anything fails
before the rename, the temporary file is removed and the old file is left as it was::

    atomic_write_json(Path("results.json"), {"step_ms": 3.2})
    with atomic_open(Path("weights.pt"), "wb") as handle:   # for writers that take a file object
        torch.save(state, handle)
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .validation import check_choice

__all__ = ["atomic_open", "atomic_path", "atomic_write_bytes", "atomic_write_json", "atomic_write_text",
           "nan_to_null"]


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path to write ``path``'s new content to; it becomes ``path`` when the block succeeds.

    For writers that take a file name (papermill, nbformat). The temporary file exists (empty) when the
    block starts and is named ``.STEM.*.tmp.SUFFIX`` beside ``path``; missing folders are created.

    Args:
        path: the file to write (replaced if it exists).

    Yields:
        The temporary file's path. On normal exit it is flushed to disk, given the usual permissions
        (``0o666`` less the umask) and renamed to ``path``; if the block raises, it is removed (the
        block may also move it elsewhere itself, e.g. to keep a partial result) and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The target's suffix last: tools that write by name choose (or check) the format by it.
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync(tmp)
        # mkstemp makes the file private (0600); a results file or a served notebook should be readable
        # by others exactly as a file written with open() would be.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
        _fsync_folder(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", encoding: str = "utf-8") -> Iterator[IO[Any]]:
    """An open file whose content replaces ``path`` atomically when the block succeeds (see :func:`atomic_path`).

    Args:
        path: the file to write.
        mode: ``"wb"`` (bytes) or ``"w"`` (text).
        encoding: the text encoding, for ``mode="w"``.

    Raises:
        ValueError: ``mode`` is not ``"wb"`` or ``"w"``.
    """
    check_choice("atomic_open mode", mode, ("wb", "w"))
    with atomic_path(path) as tmp:
        with open(tmp, mode, encoding=encoding if mode == "w" else None) as handle:
            yield handle


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path`` as a :class:`~pathlib.Path`."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (``encoding``, no newline translation); returns the path."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike[str], obj: Any, indent: int | None = 1) -> Path:
    """Write ``obj`` as strict JSON (no NaN or infinity: see :func:`nan_to_null`) and a newline, atomically.

    Raises:
        TypeError, ValueError: ``obj`` is not JSON (before anything is written).
    """
    return atomic_write_text(path, json.dumps(obj, indent=indent, allow_nan=False) + "\n")


def nan_to_null(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON's null), in nested dicts, lists
    and tuples (which become lists): strict JSON has no NaN, and a missing number is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: nan_to_null(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [nan_to_null(v) for v in value]
    return value


def _umask() -> int:
    # The only way to read the umask is to set it; set it straight back.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; elsewhere a folder cannot be opened, and nothing is done)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not sync folders; the rename has still happened
    finally:
        os.close(fd)
