"""l2l_lib.atomic: a write that fails midway leaves the old file and no temporary file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from l2l_lib import atomic
from l2l_lib.atomic import (atomic_open, atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text,
                            nan_to_null)


def test_writes_create_folders_and_replace_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "results.json"
    assert atomic_write_json(target, {"a": [1, 2.5]}) == target
    assert json.loads(target.read_text()) == {"a": [1, 2.5]} and target.read_text().endswith("}\n")
    atomic_write_text(target, "é\n")
    assert target.read_bytes() == "é\n".encode()
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert os.listdir(target.parent) == ["results.json"]


def test_the_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    target = atomic_write_bytes(tmp_path / "x.bin", b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # not mkstemp's private 0600


def test_a_failure_midway_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "weights.pt"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_open(target, "wb") as handle:
            handle.write(b"half of the new")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["weights.pt"]


def test_a_failed_flush_to_disk_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "results.json"
    target.write_text("old")

    def fail(fd: int) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr(atomic.os, "fsync", fail)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["results.json"]


def test_json_that_cannot_be_written_changes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    target.write_text("old")
    with pytest.raises(ValueError):
        atomic_write_json(target, {"loss": float("nan")})  # strict JSON
    with pytest.raises(TypeError):
        atomic_write_json(target, {"x": object()})
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["results.json"]


def test_atomic_path_keeps_the_suffix_and_lets_the_block_move_the_file(tmp_path: Path) -> None:
    target = tmp_path / "chapter.ipynb"
    kept = tmp_path / "chapter.failed.ipynb"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(".chapter.") and tmp.suffix == ".ipynb"
            tmp.write_text("partial")
            os.replace(tmp, kept)  # what run_chapter does with a failed run's notebook
            raise KeyboardInterrupt
    assert sorted(os.listdir(tmp_path)) == ["chapter.failed.ipynb"]


def test_atomic_open_names_the_allowed_modes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'wb', 'w'"):
        with atomic_open(tmp_path / "x", "a"):
            pass
    assert not list(tmp_path.iterdir())


def test_nan_to_null_makes_numbers_strict_json(tmp_path: Path) -> None:
    value = {"a": [1.0, float("nan"), (float("inf"), 2)], "b": {"c": -float("inf"), "d": "nan"}, "e": 3}
    assert nan_to_null(value) == {"a": [1.0, None, [None, 2]], "b": {"c": None, "d": "nan"}, "e": 3}
    atomic_write_json(tmp_path / "x.json", nan_to_null(value))  # strict JSON now
