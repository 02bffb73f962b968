"""Command line for the book: ``python -m l2l_lib {list,run,build}``.

* ``list``: the chapters that can be rerun (book chapters with a code cell
  tagged ``parameters``) and their parameters with defaults.
* ``run CHAPTER -p NAME VALUE ... [-o OUT] [--kernel NAME]``: execute one
  chapter with other parameter values (jupytext turns the MyST-Markdown chapter
  into a notebook, papermill injects the values and runs it with the kernel's
  working directory in ``book/``, as in the book build) and write the executed
  notebook to ``runs/CHAPTER.ipynb``.
* ``build [--force] [--smoke]``: build the book with
  ``jupyter-book build . -W -n --keep-going``; a chapter whose l2l_lib
  dependencies (or requirements.txt) changed since it was executed is executed
  again, because jupyter-cache only looks at the chapters' own code cells.

The same is available from Python: :func:`chapters`,
:func:`chapter_parameters`, :func:`run_chapter`, :func:`build_book`.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ROOT",
    "UsageError",
    "book_root",
    "build_book",
    "chapter_parameters",
    "chapters",
    "load_smoke_parameters",
    "main",
    "parse_value",
    "resolve_parameters",
    "run_chapter",
    "chapter_dependencies",
    "chapter_digest",
    "forget_executions",
]

#: The repository root: the folder holding _config.yml, _toc.yml and book/.
ROOT: Path = Path(__file__).resolve().parent.parent

#: Where each executed chapter's dependency hash (:func:`chapter_digest`) is stamped, in the build folder.
HASH_STAMP = ".l2l_chapter_dependencies.json"

#: Written in the build folder after a build without warnings.
OK_MARKER = ".l2l_last_build_ok"

#: What a copy of the book (``build --smoke``) takes from the root, if present.
BOOK_TREE = ("_config.yml", "_toc.yml", "book", "_ext", "_static", "_templates")

_IGNORE_IN_COPY = shutil.ignore_patterns(
    "*.ipynb", "__pycache__", ".ipynb_checkpoints", "_build", ".jupyter_cache"
)


class UsageError(ValueError):
    """A wrong chapter name, parameter name or parameter value (exit code 2)."""


# --------------------------------------------------------------------------- chapters


def book_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The book's root folder: ``root`` if given, else ``$L2L_BOOK_ROOT``, else :data:`ROOT`."""
    if root is None:
        root = os.environ.get("L2L_BOOK_ROOT") or ROOT
    return Path(root).resolve()


def _toc_files(root: Path) -> list[str]:
    """The ``file`` entries of _toc.yml, in order (root page first)."""
    toc = root / "_toc.yml"
    if not toc.is_file():
        return []
    import yaml

    data = yaml.safe_load(toc.read_text(encoding="utf-8")) or {}
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            for value in node.values():
                if isinstance(value, (list, dict)):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    return found


def _read_chapter(path: Path) -> Any:
    import jupytext

    return jupytext.read(path)


def _parameters_cell(nb: Any) -> Any | None:
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return cell
    return None


def chapters(root: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """The chapters that can be rerun with other parameters, in book order.

    A chapter is a jupytext MyST-Markdown notebook ``book/NAME.md`` with a code
    cell tagged ``parameters``; its name is its path below ``book/`` without the
    suffix.  Chapters come in _toc.yml order, then any such ``book/*.md`` that
    _toc.yml does not list.

    Returns:
        ``{name: path to the .md file}``.
    """
    root = book_root(root)
    book = root / "book"
    candidates: list[Path] = []
    for entry in _toc_files(root):
        path = (root / entry).with_suffix(".md")
        if path.is_file() and book in path.parents and path not in candidates:
            candidates.append(path)
    if book.is_dir():
        for path in sorted(book.rglob("*.md")):
            parts = path.relative_to(book).parts
            if path not in candidates and not any(p.startswith(".") or p == "_build" for p in parts):
                candidates.append(path)
    result: dict[str, Path] = {}
    for path in candidates:
        text = path.read_text(encoding="utf-8")
        if "parameters" not in text or "jupytext" not in text:
            continue
        if _parameters_cell(_read_chapter(path)) is not None:
            result[path.relative_to(book).with_suffix("").as_posix()] = path
    return result


def _chapter_path(name: str, root: Path) -> Path:
    known = chapters(root)
    if name not in known:
        listing = ", ".join(known) or "(none)"
        raise UsageError(f"unknown chapter {name!r}; valid chapters: {listing}")
    return known[name]


def _parse_parameters_source(source: str, where: str) -> dict[str, Any]:
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"{where}: the parameters cell is not valid Python: {exc}") from exc
    values: dict[str, Any] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name, node = stmt.targets[0].id, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            name, node = stmt.target.id, stmt.value
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring or bare string: a comment
        else:
            raise ValueError(
                f"{where}, line {stmt.lineno}: the parameters cell may only hold "
                f"`name = literal` assignments, found: {ast.unparse(stmt)!r}"
            )
        try:
            values[name] = ast.literal_eval(node)
        except ValueError as exc:
            raise ValueError(
                f"{where}, line {stmt.lineno}: parameter {name!r} must be a literal, "
                f"found: {ast.unparse(node)!r}"
            ) from exc
    return values


def chapter_parameters(name: str, root: str | os.PathLike[str] | None = None) -> dict[str, object]:
    """The parameters of chapter ``name`` and their defaults, in cell order.

    The defaults are read (with :func:`ast.literal_eval`, nothing is executed)
    from the chapter's code cell tagged ``parameters``, which may hold only
    ``name = literal`` assignments and comments.

    Raises:
        UsageError: ``name`` is not a chapter (see :func:`chapters`).
    """
    root = book_root(root)
    path = _chapter_path(name, root)
    cell = _parameters_cell(_read_chapter(path))
    assert cell is not None
    return _parse_parameters_source(cell.source, str(path.relative_to(root)))


def _describe(defaults: Mapping[str, object]) -> str:
    return "\n".join(f"  {k} = {v!r}  ({type(v).__name__})" for k, v in defaults.items())


# ------------------------------------------------------------------------- parameters

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_value(name: str, text: str, default: object) -> object:
    """Parse ``text`` (a command-line value) as the type of ``default``.

    bool: true/false, yes/no, on/off, 1/0 (any case); int: a decimal integer;
    float: anything :class:`float` reads (an integer too); str: the text as is;
    list, tuple, dict, set: a Python literal of that type
    (:func:`ast.literal_eval`, a list is accepted for a tuple and vice versa);
    None: a Python literal if the text is one, else the text.

    Raises:
        UsageError: the text does not parse to that type.
    """
    kind = type(default)

    def fail(expected: str) -> UsageError:
        return UsageError(
            f"parameter {name!r} expects {expected} (default: {default!r}), got {text!r}"
        )

    if isinstance(default, bool):
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise fail("a bool (true/false)")
    if isinstance(default, int):
        try:
            return int(text.strip(), 10)
        except ValueError:
            raise fail("an int") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise fail("a float") from None
    if isinstance(default, str):
        return text
    if isinstance(default, (list, tuple, dict, set, frozenset)) or default is None:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            if default is None:
                return text
            raise fail(f"a {kind.__name__} literal such as {default!r}") from None
        if default is None:
            return value
        return _coerce(name, value, default, text)
    # Any other literal type (complex, bytes): a literal of the same type.
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise fail(f"a {kind.__name__} literal") from None
    return _coerce(name, value, default, text)


def _coerce(name: str, value: object, default: object, shown: object) -> object:
    """``value`` as the type of ``default``, or a UsageError."""
    kind = type(default)
    if default is None or isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, (list, tuple)) and isinstance(value, (list, tuple)):
        return kind(value)
    if isinstance(default, (set, frozenset)) and isinstance(value, (set, frozenset, list, tuple)):
        return kind(value)
    raise UsageError(
        f"parameter {name!r} expects a {kind.__name__} (default: {default!r}), got {shown!r}"
    )


def resolve_parameters(
    name: str,
    values: Mapping[str, object] | None,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, object]:
    """Check ``values`` against chapter ``name``'s parameters and type them.

    A value given as a string for a parameter whose default is not a string is
    parsed with :func:`parse_value`; any other value must have the default's
    type (an int is accepted for a float, a list for a tuple).

    Returns:
        The typed values (only those given, in the order given).

    Raises:
        UsageError: unknown chapter, unknown parameter, or a value of the wrong type.
    """
    defaults = chapter_parameters(name, root)
    typed: dict[str, object] = {}
    for key, value in (values or {}).items():
        if key not in defaults:
            raise UsageError(
                f"unknown parameter {key!r} for chapter {name!r}; "
                f"valid parameters (with defaults):\n{_describe(defaults)}"
            )
        default = defaults[key]
        if isinstance(value, str) and not isinstance(default, str):
            typed[key] = parse_value(key, value, default)
        else:
            typed[key] = _coerce(key, value, default, value)
    return typed


# ------------------------------------------------------------------------------- run


def _register_translator() -> None:
    """Make papermill write tuples and sets as Python literals (it writes them as strings)."""
    from papermill.translators import PythonTranslator, papermill_translators

    class LiteralTranslator(PythonTranslator):
        @classmethod
        def translate(cls, val: Any) -> str:
            if isinstance(val, tuple):
                items = [cls.translate(v) for v in val]
                return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
            if isinstance(val, (set, frozenset)) and val:
                return "{" + ", ".join(cls.translate(v) for v in sorted(val, key=repr)) + "}"
            return super().translate(val)

    papermill_translators.register("python", LiteralTranslator)


def failed_path(output: str | os.PathLike[str]) -> Path:
    """Where :func:`run_chapter` leaves the partial notebook of a failed run."""
    output = Path(output)
    return output.with_name(output.name.removesuffix(".ipynb") + ".failed.ipynb")


def run_chapter(
    name: str,
    parameters: Mapping[str, object] | None = None,
    output: str | os.PathLike[str] | None = None,
    *,
    root: str | os.PathLike[str] | None = None,
    kernel_name: str | None = None,
    execution_timeout: float | None = None,
    log_output: bool = False,
    progress_bar: bool = False,
) -> Path:
    """Execute chapter ``name`` with ``parameters`` and write the executed notebook.

    The chapter (``book/NAME.md``) is converted with jupytext to a notebook,
    papermill injects ``parameters`` after its ``parameters`` cell and runs it
    with the kernel's working directory in ``book/`` (as in the book build).

    Args:
        name: a chapter name, see :func:`chapters`.
        parameters: values for some of the chapter's parameters; strings are
            parsed with the type of the default (see :func:`resolve_parameters`).
        output: the executed notebook; default ``runs/NAME.ipynb`` under the root.
            It is written only when the run succeeds (temporary file, then
            :func:`os.replace`).  A failed run leaves the partial notebook at
            :func:`failed_path` (``runs/NAME.failed.ipynb``) and raises.
        root: the book root (default :func:`book_root`).
        kernel_name: the Jupyter kernel; default the chapter's kernelspec.
        execution_timeout: seconds per cell (default: none).
        log_output: stream the cells' output to this process's stdout/stderr.
        progress_bar: show papermill's progress bar.

    Returns:
        The path of the executed notebook.

    Raises:
        UsageError: unknown chapter or parameter, or a badly typed value
            (checked before any kernel starts).
        papermill.PapermillExecutionError: a cell raised.
    """
    root = book_root(root)
    typed = resolve_parameters(name, parameters, root)
    source = chapters(root)[name]
    book_dir = root / "book"
    output = Path(output) if output is not None else root / "runs" / f"{name}.ipynb"
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    failed = failed_path(output)

    import jupytext
    import papermill

    _register_translator()
    nb = jupytext.read(source)
    kernel = kernel_name or nb.metadata.get("kernelspec", {}).get("name") or "python3"
    fd, partial = tempfile.mkstemp(
        dir=output.parent, prefix=f".{output.name.removesuffix('.ipynb')}.", suffix=".partial.ipynb"
    )
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(partial, 0o666 & ~umask)  # mkstemp makes it private
    try:
        with tempfile.TemporaryDirectory(prefix="l2l-run-") as tmp:
            notebook_in = Path(tmp) / f"{Path(name).name}.ipynb"
            jupytext.write(nb, notebook_in, fmt="ipynb")
            try:
                papermill.execute_notebook(
                    str(notebook_in),
                    partial,
                    parameters=typed,
                    kernel_name=kernel,
                    cwd=str(book_dir),
                    progress_bar=progress_bar,
                    log_output=log_output,
                    execution_timeout=execution_timeout,
                )
            except BaseException:
                if Path(partial).is_file() and Path(partial).stat().st_size > 0:
                    os.replace(partial, failed)
                raise
        os.replace(partial, output)
        if failed.exists():
            failed.unlink()
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    return output


# ----------------------------------------------------------------------------- build


def _library_dir(root: Path) -> Path:
    package = root / "l2l_lib"
    return package if package.is_dir() else Path(__file__).resolve().parent


def _l2l_imports(source: str, package: str = "l2l_lib", current: str | None = None) -> set[str]:
    """Modules of l2l_lib that ``source`` imports (``"__init__"`` for the package itself).

    ``current``: the module the source belongs to, for relative imports inside l2l_lib.
    """
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return {"*"}  # unparsable: depend on everything, never on nothing
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == package:
                    found.add("__init__")
                    if len(parts) > 1:
                        found.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level and current is not None:
                module = node.module.split(".")[0] if node.module else None
            elif node.module and node.module.split(".")[0] == package:
                found.add("__init__")
                parts = node.module.split(".")
                module = parts[1] if len(parts) > 1 else None
            else:
                continue
            if module:
                found.add(module)
            else:  # from l2l_lib import name / from . import name: the name may be a submodule
                found.update(alias.name for alias in node.names)
    return found


def chapter_dependencies(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The l2l_lib source files a chapter's code depends on, directly or through other modules.

    Importing any part of l2l_lib runs ``l2l_lib/__init__.py``, so its imports always count.
    """
    package = _library_dir(book_root(root))
    modules = {p.stem: p for p in package.glob("*.py")}
    cells = [c.source for c in _read_chapter(Path(path)).cells if c.cell_type == "code"]
    todo = {m for m in _l2l_imports("\n".join(cells))}
    if "*" in todo:
        return sorted(modules.values())
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in modules:
            continue
        seen.add(name)
        todo |= _l2l_imports(modules[name].read_text(encoding="utf-8"), current=name)
        if name != "__init__":
            todo.add("__init__")
    return sorted(modules[m] for m in seen)


def chapter_digest(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> str:
    """SHA-256 over what an executed chapter depends on besides its own cells (which jupyter-cache
    already keys on): the l2l_lib files it imports (:func:`chapter_dependencies`) and requirements.txt."""
    root = book_root(root)
    digest = hashlib.sha256()
    for dep in chapter_dependencies(path, root):
        digest.update(dep.name.encode() + b"\0" + dep.read_bytes() + b"\0")
    requirements = root / "requirements.txt"
    digest.update(b"requirements.txt\0" + (requirements.read_bytes() if requirements.is_file() else b""))
    return digest.hexdigest()


def _notebook_pages(source: Path) -> list[Path]:
    """The pages of the book that are notebooks (jupytext front matter), in _toc.yml order."""
    pages = []
    for entry in _toc_files(source):
        path = source / (entry if entry.endswith(".md") else f"{entry}.md")
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if text.startswith("---") and "jupytext" in text.split("---", 2)[1]:
            pages.append(path)
    return pages


def forget_executions(cache_path: str | os.PathLike[str], pages: Sequence[Path]) -> int:
    """Remove the cached executions of ``pages`` from a jupyter-cache folder; returns how many."""
    if not Path(cache_path).is_dir() or not pages:
        return 0
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_path))
    wanted = {str(Path(p).resolve()) for p in pages}
    removed = 0
    for record in cache.list_cache_records():
        if record.uri and str(Path(record.uri).resolve()) in wanted:
            cache.remove_cache(record.pk)
            removed += 1
    return removed


def _rewrite_parameters_source(source: str, values: Mapping[str, object]) -> str:
    """``source`` (a parameters cell) with the right-hand sides of ``values`` replaced."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, int, int, str]] = []
    for stmt in tree.body:
        target = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target = stmt.targets[0].id
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            target = stmt.target.id
        if target in values:
            node = stmt.value
            assert node is not None and node.end_lineno is not None and node.end_col_offset is not None
            edits.append((node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, repr(values[target])))
    # Apply from the end so earlier offsets stay valid (offsets are in UTF-8 bytes).
    for lineno, col, end_lineno, end_col, text in sorted(edits, reverse=True):
        first = lines[lineno - 1].encode()
        last = lines[end_lineno - 1].encode()
        merged = (first[:col] + text.encode() + last[end_col:]).decode()
        lines[lineno - 1 : end_lineno] = [merged]
    return "".join(lines)


def _write_smoke_chapter(path: Path, values: Mapping[str, object]) -> None:
    """Rewrite the parameters cell of the chapter at ``path`` (in a copy of the book)."""
    text = path.read_text(encoding="utf-8")
    nb = _read_chapter(path)
    cell = _parameters_cell(nb)
    assert cell is not None
    new_source = _rewrite_parameters_source(cell.source, values)
    if cell.source and text.count(cell.source) == 1:
        path.write_text(text.replace(cell.source, new_source), encoding="utf-8")
    else:  # fall back on a jupytext round trip
        import jupytext

        cell.source = new_source
        jupytext.write(nb, path, fmt="md:myst")


def _copy_book(root: Path, dest: Path) -> None:
    for entry in BOOK_TREE:
        src = root / entry
        if src.is_dir():
            shutil.copytree(src, dest / entry, ignore=_IGNORE_IN_COPY)
        elif src.is_file():
            shutil.copy2(src, dest / entry)
    # Bibliographies named in _config.yml, if any.
    config = root / "_config.yml"
    if config.is_file():
        import yaml

        data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        bibs = data.get("bibtex_bibfiles") or []
        for bib in [bibs] if isinstance(bibs, str) else bibs:
            if (root / bib).is_file():
                (dest / bib).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(root / bib, dest / bib)


def _jupyter_book_command(source: Path, output_dir: Path | None, *, fresh: bool = False) -> list[str]:
    command = [
        sys.executable, "-c",
        "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
        "build", str(source), "-W", "-n", "--keep-going",
    ]
    if fresh:
        command.append("--all")
    if output_dir is not None:
        command += ["--path-output", str(output_dir)]
    return command


def build_book(
    root: str | os.PathLike[str] | None = None,
    *,
    smoke_parameters: Mapping[str, Mapping[str, object]] | None = None,
    force: bool = False,
    output_dir: str | os.PathLike[str] | None = None,
) -> int:
    """Build the book: ``jupyter-book build <root> -W -n --keep-going``.

    jupyter-cache keys each chapter on its code cells only, so a change in
    l2l_lib would leave stale outputs in the book.  The build therefore hashes,
    for each chapter, the l2l_lib files its code imports (directly or through
    other l2l_lib modules) and requirements.txt (:func:`chapter_digest`); a
    chapter whose hash differs from the one stamped in the build folder
    (``_build/.l2l_chapter_dependencies.json``) loses its cached execution
    (:func:`forget_executions`) and runs again, the others are taken from the
    cache.  ``force`` empties the whole cache.  The stamp is written before
    the build (so a failed build does not re-execute everything again); after
    forgetting executions, and after a failed build (no
    ``_build/.l2l_last_build_ok``), every page is re-read (``--all``): Sphinx
    reports a warning only when it reads the page, so an incremental -W build
    would pass.

    Args:
        root: the book root (default :func:`book_root`).
        smoke_parameters: ``{chapter: {parameter: value}}``.  If given, a copy of
            the book (_config.yml, _toc.yml, book/ and what the build needs) is
            made in a temporary folder, each listed chapter's parameters cell
            is rewritten there with these values, and that copy is built: the
            whole book at smoke size.  The values are checked first (unknown
            chapter or parameter, wrong type: :class:`UsageError`).
        force: empty the notebook cache whatever the hash.
        output_dir: where ``_build`` goes (``--path-output``); default the root,
            or ``_build/smoke`` under the root for a smoke build.

    Returns:
        jupyter-book's exit code (0: built without a warning).
    """
    root = book_root(root)
    if smoke_parameters is not None:
        typed = {name: resolve_parameters(name, values, root) for name, values in smoke_parameters.items()}
        out = Path(output_dir).resolve() if output_dir is not None else root / "_build" / "smoke"
        with tempfile.TemporaryDirectory(prefix="l2l-smoke-book-") as tmp:
            copy = Path(tmp) / "book-root"
            copy.mkdir()
            _copy_book(root, copy)
            for name, values in typed.items():
                _write_smoke_chapter(copy / chapters(root)[name].relative_to(root), values)
            return _build(root, copy, out, force)
    out = Path(output_dir).resolve() if output_dir is not None else None
    return _build(root, root, out, force)


def _chapter_digests(root: Path, source: Path) -> dict[str, str]:
    return {str(page.relative_to(source)): chapter_digest(page, root) for page in _notebook_pages(source)}


def _build(root: Path, source: Path, output_dir: Path | None, force: bool) -> int:
    build = (output_dir if output_dir is not None else source) / "_build"
    cache = build / ".jupyter_cache"
    stamp = build / HASH_STAMP
    ok_marker = build / OK_MARKER
    digests = _chapter_digests(root, source)
    try:
        previous = json.loads(stamp.read_text()) if stamp.is_file() else {}
    except ValueError:
        previous = {}
    if force and cache.exists():
        print(f"[l2l_lib] --force: emptying the notebook cache {cache}", flush=True)
        shutil.rmtree(cache)
    stale = [source / page for page, digest in digests.items() if previous.get(page) != digest]
    removed = forget_executions(cache, stale)
    if removed:
        names = ", ".join(p.stem for p in stale)
        print(f"[l2l_lib] l2l_lib or requirements.txt changed under {names}: re-executing "
              f"{removed} cached chapter(s)", flush=True)
    build.mkdir(parents=True, exist_ok=True)
    # The cache now holds only outputs of the current library, for every chapter: stamp it.
    # (Stamping only after a successful build would re-execute again after every failed build.)
    stamp.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    fresh = force or bool(removed) or not ok_marker.is_file()
    if ok_marker.exists():
        ok_marker.unlink()
    # --all (a fresh Sphinx environment) after forgetting executions, since Sphinx would not re-read
    # an unchanged chapter and would keep its old outputs, and after a failed build, since Sphinx
    # reports a warning only when it re-reads the page: an unchanged page with a warning would pass
    # the next -W build. Chapters still in the cache are not re-executed.
    # The kernels: this environment's python3 kernelspec, even if there is a
    # user-level one that points at another interpreter.
    env = {**os.environ, "JUPYTER_PREFER_ENV_PATH": os.environ.get("JUPYTER_PREFER_ENV_PATH", "1")}
    rc = subprocess.call(_jupyter_book_command(source, output_dir, fresh=fresh), env=env)
    # If the library changed while the book was building, the cache may mix
    # both versions: make the next build check every chapter afresh.
    if _chapter_digests(root, source) != digests and stamp.is_file():
        stamp.unlink()
    html = build / "html" / "index.html"
    if rc == 0:
        ok_marker.write_text("ok\n")
        print(f"[l2l_lib] the book is at {html}", flush=True)
    else:
        print(f"[l2l_lib] jupyter-book build failed (exit code {rc})", file=sys.stderr, flush=True)
    return rc


def load_smoke_parameters(root: str | os.PathLike[str] | None = None) -> dict[str, dict[str, object]]:
    """``SMOKE_PARAMETERS`` from ``tests/smoke_parameters.py`` under the root."""
    import runpy

    path = book_root(root) / "tests" / "smoke_parameters.py"
    if not path.is_file():
        raise UsageError(f"no smoke parameters: {path} does not exist")
    return dict(runpy.run_path(str(path))["SMOKE_PARAMETERS"])


# ------------------------------------------------------------------------------ main


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m l2l_lib",
        description="List, rerun and build the chapters of the book.",
    )
    parser.add_argument("--root", help="the book root (default: the repository of this l2l_lib)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("list", help="the chapters that can be rerun, and their parameters")

    run = sub.add_parser("run", help="execute one chapter with other parameter values")
    run.add_argument("chapter", metavar="CHAPTER")
    run.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="a parameter value, parsed with the type of its default (repeatable)",
    )
    run.add_argument("-o", "--output", help="the executed notebook (default: runs/CHAPTER.ipynb)")
    run.add_argument("--kernel", help="the Jupyter kernel (default: the chapter's kernelspec)")
    run.add_argument("--timeout", type=float, default=None, help="seconds per cell (default: none)")
    run.add_argument("--log-output", action="store_true", help="show the cells' output while running")

    build = sub.add_parser("build", help="build the book (jupyter-book build . -W -n --keep-going)")
    build.add_argument("--force", action="store_true", help="empty the notebook cache first")
    build.add_argument(
        "--smoke", action="store_true",
        help="build a copy of the book with the parameters of tests/smoke_parameters.py",
    )
    build.add_argument("--output-dir", help="where _build goes (default: the root; _build/smoke for --smoke)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m l2l_lib``; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        root = book_root(args.root)
        if args.command == "list":
            found = chapters(root)
            if not found:
                print("no chapter has a `parameters` cell")
            for name, path in found.items():
                print(f"{name}  ({path.relative_to(root)})")
                print(_describe(chapter_parameters(name, root)))
            return 0
        if args.command == "run":
            values: dict[str, object] = {}
            for key, value in args.parameter:
                values[key] = value
            typed = resolve_parameters(args.chapter, values, root)  # fail before any kernel
            output = Path(args.output) if args.output else None
            import papermill

            try:
                path = run_chapter(
                    args.chapter, typed, output, root=root, kernel_name=args.kernel,
                    execution_timeout=args.timeout, log_output=args.log_output,
                    progress_bar=sys.stderr.isatty(),
                )
            except papermill.PapermillExecutionError as exc:
                out = output.resolve() if output else root / "runs" / f"{args.chapter}.ipynb"
                print(
                    f"error: chapter {args.chapter!r} failed in cell {exc.exec_count}: "
                    f"{exc.ename}: {exc.evalue}\npartial notebook: {failed_path(out)}",
                    file=sys.stderr,
                )
                return 1
            print(path)
            return 0
        if args.command == "build":
            smoke = load_smoke_parameters(root) if args.smoke else None
            return build_book(root, smoke_parameters=smoke, force=args.force, output_dir=args.output_dir)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    raise AssertionError(args.command)
