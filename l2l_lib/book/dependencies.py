"""What an executed chapter depends on besides its own code cells: the library files it imports.

jupyter-cache keys a chapter's stored execution on its code cells only, so a change in ``l2l_lib``
would leave stale outputs in the book. :func:`chapter_digest` hashes the library files a chapter's code
imports, directly or through other library modules (and subpackages), and ``requirements.txt``; the
build re-executes exactly the chapters whose digest changed.
"""

from __future__ import annotations

import ast
import hashlib
import os
from pathlib import Path

from .chapters import book_root, read_chapter

__all__ = ["chapter_dependencies", "chapter_digest", "library_imports"]

PACKAGE = "l2l_lib"

#: What :func:`library_imports` returns for source it cannot parse: depend on every module.
EVERYTHING = "*"


def _library_dir(root: Path) -> Path:
    """The ``l2l_lib`` folder of the book at ``root`` (else this one: a book copy has none)."""
    package = root / PACKAGE
    return package if package.is_dir() else Path(__file__).resolve().parents[1]


def _modules(package: Path) -> dict[str, Path]:
    """``{dotted name below the package: file}``; ``""`` is the package itself, ``"book"`` a subpackage."""
    found = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _parents(module: str) -> list[str]:
    """The packages whose ``__init__`` runs when ``module`` is imported: ``"a.b"`` -> ``["", "a"]``."""
    parts = module.split(".") if module else []
    return [".".join(parts[:k]) for k in range(len(parts))]


def library_imports(source: str, current: str | None = None, is_package: bool = False) -> set[str]:
    """The modules of ``l2l_lib`` that ``source`` may import, as dotted names below the package.

    ``from l2l_lib.x import y`` counts ``x`` and ``x.y`` (``y`` may be a submodule; a name that is not
    a module is dropped later). IPython lines (``%matplotlib``, ``!pip``) are skipped.

    Args:
        source: Python source (a chapter's code cells, or a library module).
        current: the dotted name of the module ``source`` belongs to, to resolve relative imports.
        is_package: whether ``current`` is a package's ``__init__``.

    Returns:
        Dotted names (``""`` for the package itself), or ``{EVERYTHING}`` if ``source`` does not parse.
    """
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return {EVERYTHING}  # depend on everything, never on nothing
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE:
                    found.add(".".join(parts[1:]))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, current, is_package)
            if base is not None:
                found.add(base)
                found.update(f"{base}.{alias.name}".lstrip(".") for alias in node.names)
    return found


def _absolute(node: ast.ImportFrom, current: str | None, is_package: bool) -> str | None:
    """The dotted name below ``l2l_lib`` that ``from ... import`` reads from, or None if outside it."""
    if node.level:
        if current is None:
            return None
        package = current.split(".") if current else []
        if not is_package:
            package = package[:-1]
        package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
        return ".".join(package + (node.module.split(".") if node.module else []))
    parts = (node.module or "").split(".")
    return ".".join(parts[1:]) if parts[0] == PACKAGE else None


def chapter_dependencies(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The ``l2l_lib`` source files chapter ``path``'s code depends on, directly or through other modules.

    Importing a module runs the ``__init__.py`` of every package above it, so those always count.

    Args:
        path: the chapter (``book/NAME.md``).
        root: the book root, whose ``l2l_lib`` is followed (default :func:`~l2l_lib.book.chapters.book_root`).

    Returns:
        The files, sorted.
    """
    package = _library_dir(book_root(root))
    modules = _modules(package)
    cells = [c.source for c in read_chapter(path).cells if c.cell_type == "code"]
    todo = library_imports("\n".join(cells))
    if EVERYTHING in todo:
        return sorted(modules.values())
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in modules:
            continue
        seen.add(name)
        todo.update(_parents(name))
        source = modules[name].read_text(encoding="utf-8")
        todo.update(library_imports(source, current=name, is_package=modules[name].name == "__init__.py"))
    return sorted(modules[m] for m in seen)


def chapter_digest(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> str:
    """SHA-256 over what chapter ``path`` depends on besides its own cells (which jupyter-cache keys on):
    the library files of :func:`chapter_dependencies` and ``requirements.txt``."""
    root = book_root(root)
    package = _library_dir(root)
    digest = hashlib.sha256()
    for dep in chapter_dependencies(path, root):
        digest.update(dep.relative_to(package).as_posix().encode() + b"\0" + dep.read_bytes() + b"\0")
    requirements = root / "requirements.txt"
    digest.update(b"requirements.txt\0" + (requirements.read_bytes() if requirements.is_file() else b""))
    return digest.hexdigest()
