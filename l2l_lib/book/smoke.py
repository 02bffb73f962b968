"""A copy of the book with other parameter values written into its chapters: the smoke-size book.

``python -m l2l_lib build --smoke`` (and the tests) build the whole book with the small values of
``tests/smoke_parameters.py``. The book's own files are never touched: :func:`copy_book` copies what a
build reads into another folder, and :func:`write_parameters` rewrites each chapter's parameters cell
there, keeping its comments and layout.
"""

from __future__ import annotations

import ast
import os
import runpy
import shutil
from collections.abc import Mapping
from pathlib import Path

from ..atomic import atomic_write_text
from .chapters import assigned_name, book_root, parameters_cell, read_chapter
from .errors import UsageError

__all__ = ["BOOK_TREE", "copy_book", "load_smoke_parameters", "rewrite_parameters_source", "write_parameters"]

#: What a copy of the book takes from the root, where present (and the bibliographies _config.yml names).
BOOK_TREE = ("_config.yml", "_toc.yml", "book", "_ext", "_static", "_templates")

_IGNORE_IN_COPY = shutil.ignore_patterns("*.ipynb", "__pycache__", ".ipynb_checkpoints", "_build", ".jupyter_cache")


def load_smoke_parameters(root: str | os.PathLike[str] | None = None) -> dict[str, dict[str, object]]:
    """``SMOKE_PARAMETERS`` (``{chapter: {parameter: value}}``) from ``tests/smoke_parameters.py`` under the root.

    Raises:
        UsageError: the file does not exist.
    """
    path = book_root(root) / "tests" / "smoke_parameters.py"
    if not path.is_file():
        raise UsageError(f"no smoke parameters: {path} does not exist")
    return dict(runpy.run_path(str(path))["SMOKE_PARAMETERS"])


def copy_book(root: Path, dest: Path) -> None:
    """Copy what ``jupyter-book build`` reads from ``root`` (:data:`BOOK_TREE`, bibliographies) to ``dest``."""
    for entry in BOOK_TREE:
        src = root / entry
        if src.is_dir():
            shutil.copytree(src, dest / entry, ignore=_IGNORE_IN_COPY)
        elif src.is_file():
            shutil.copy2(src, dest / entry)
    config = root / "_config.yml"
    if config.is_file():
        import yaml

        bibs = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("bibtex_bibfiles") or []
        for bib in [bibs] if isinstance(bibs, str) else bibs:
            if (root / bib).is_file() and not (dest / bib).exists():
                (dest / bib).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / bib, dest / bib)


def rewrite_parameters_source(source: str, values: Mapping[str, object]) -> str:
    """``source`` (a parameters cell) with the values of the parameters in ``values`` replaced.

    Each value is written as its ``repr``, a Python literal for every value a parameters cell may hold
    (numbers, strings, None, lists, tuples, dicts, sets). Comments, order and the other lines are kept.

    Args:
        source: the cell's code (``name = literal`` lines and comments).
        values: ``{parameter: new value}``; names the cell does not assign are ignored.
    """
    lines = source.splitlines(keepends=True)
    edits = []
    for stmt in ast.parse(source).body:
        name = assigned_name(stmt)
        if name in values:
            node = stmt.value
            edits.append((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, repr(values[name])))
    # From the end, so that earlier positions stay valid; ast's columns count UTF-8 bytes.
    for lineno, col, end_lineno, end_col, text in sorted(edits, reverse=True):
        first, last = lines[lineno - 1].encode(), lines[end_lineno - 1].encode()
        lines[lineno - 1 : end_lineno] = [(first[:col] + text.encode() + last[end_col:]).decode()]
    return "".join(lines)


def write_parameters(path: Path, values: Mapping[str, object]) -> None:
    """Rewrite the parameters cell of the chapter at ``path`` (in a copy of the book) with ``values``."""
    text = path.read_text(encoding="utf-8")
    nb = read_chapter(path)
    cell = parameters_cell(nb)
    new_source = rewrite_parameters_source(cell.source, values)
    if cell.source and text.count(cell.source) == 1:
        atomic_write_text(path, text.replace(cell.source, new_source))
    else:  # the cell's text is not found verbatim in the file: a jupytext round trip
        import jupytext

        cell.source = new_source
        jupytext.write(nb, path, fmt="md:myst")
