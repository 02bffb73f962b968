"""The book's chapters that can be rerun, and the defaults in their ``parameters`` cell.

A chapter is a jupytext MyST-Markdown notebook ``book/NAME.md`` with a code cell tagged ``parameters``
(papermill's convention). That cell holds only ``name = literal`` assignments and comments; the
defaults are read from it with :func:`ast.literal_eval`, so listing chapters executes nothing.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any

from .errors import UsageError

__all__ = ["ROOT", "assigned_name", "book_root", "chapter_parameters", "chapter_path", "chapters", "parameters_cell",
           "parse_parameters_source", "read_chapter", "toc_files"]

#: The repository root: the folder holding _config.yml, _toc.yml and book/.
ROOT: Path = Path(__file__).resolve().parents[2]


def book_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The book's root folder: ``root`` if given, else ``$L2L_BOOK_ROOT``, else :data:`ROOT`."""
    if root is None:
        root = os.environ.get("L2L_BOOK_ROOT") or ROOT
    return Path(root).resolve()


def toc_files(root: str | os.PathLike[str]) -> list[str]:
    """The ``root`` and ``file`` entries of ``root/_toc.yml``, in book order (empty without a _toc.yml)."""
    toc = Path(root) / "_toc.yml"
    if not toc.is_file():
        return []
    import yaml

    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.extend(node[key] for key in ("root", "file") if isinstance(node.get(key), str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(toc.read_text(encoding="utf-8")) or {})
    return found


def read_chapter(path: str | os.PathLike[str]) -> Any:
    """The chapter at ``path`` as a notebook (``nbformat.NotebookNode``), read with jupytext."""
    import jupytext

    return jupytext.read(path)


def parameters_cell(nb: Any) -> Any | None:
    """The first code cell of ``nb`` tagged ``parameters``, or None."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return cell
    return None


def chapters(root: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """The chapters that can be rerun with other parameters, in book order.

    A chapter's name is its path below ``book/`` without ``.md``. Chapters come in _toc.yml order,
    then any ``book/*.md`` with a parameters cell that _toc.yml does not list.

    Args:
        root: the book root (default :func:`book_root`).

    Returns:
        ``{name: path of the .md file}``.
    """
    root = book_root(root)
    book = root / "book"
    candidates: list[Path] = []
    for entry in toc_files(root):
        path = (root / entry).with_suffix(".md")
        if path.is_file() and book in path.parents and path not in candidates:
            candidates.append(path)
    if book.is_dir():
        for path in sorted(book.rglob("*.md")):
            hidden = any(p.startswith(".") or p == "_build" for p in path.relative_to(book).parts)
            if path not in candidates and not hidden:
                candidates.append(path)
    found: dict[str, Path] = {}
    for path in candidates:
        text = path.read_text(encoding="utf-8")
        # Reading every page with jupytext is slow: skip the pages that cannot be notebooks with parameters.
        if "parameters" in text and "jupytext" in text and parameters_cell(read_chapter(path)) is not None:
            found[path.relative_to(book).with_suffix("").as_posix()] = path
    return found


def chapter_path(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """The ``.md`` file of chapter ``name``.

    Raises:
        UsageError: ``name`` is not a chapter; the message lists the chapters.
    """
    known = chapters(root)
    if name not in known:
        raise UsageError(f"unknown chapter {name!r}; valid chapters: {', '.join(known) or '(none)'}")
    return known[name]


def parse_parameters_source(source: str, where: str) -> dict[str, Any]:
    """The ``{name: value}`` assignments of a parameters cell's ``source``, in order.

    Args:
        source: the cell's code: ``name = literal`` (or ``name: type = literal``) lines, comments and
            bare strings only.
        where: where the cell is, for error messages.

    Raises:
        ValueError: the source is not valid Python, holds another statement, or a value that is not
            a literal.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: the parameters cell is not valid Python: {exc}") from exc
    values: dict[str, Any] = {}
    for stmt in tree.body:
        target = assigned_name(stmt)
        if target is None:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # a docstring or a bare string: a comment
            raise ValueError(f"{where}, line {stmt.lineno}: the parameters cell may only hold "
                             f"`name = literal` assignments, found: {ast.unparse(stmt)!r}")
        try:
            values[target] = ast.literal_eval(stmt.value)
        except ValueError as exc:
            raise ValueError(f"{where}, line {stmt.lineno}: parameter {target!r} must be a literal, "
                             f"found: {ast.unparse(stmt.value)!r}") from exc
    return values


def assigned_name(stmt: ast.stmt) -> str | None:
    """The name a ``name = value`` or ``name: type = value`` statement assigns, else None."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        return stmt.target.id
    return None


def chapter_parameters(name: str, root: str | os.PathLike[str] | None = None) -> dict[str, object]:
    """The parameters of chapter ``name`` and their defaults, in cell order.

    Raises:
        UsageError: ``name`` is not a chapter (see :func:`chapters`).
        ValueError: the parameters cell is not only ``name = literal`` assignments.
    """
    root = book_root(root)
    path = chapter_path(name, root)
    cell = parameters_cell(read_chapter(path))
    return parse_parameters_source(cell.source, str(path.relative_to(root)))
