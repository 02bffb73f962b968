"""Build the book: :func:`build_book` (``python -m l2l_lib build``), ``jupyter-book build -W -n --keep-going``.

jupyter-cache keys each chapter's stored execution on its code cells only. Before each build the
chapters whose library dependencies changed (:func:`~l2l_lib.book.dependencies.chapter_digest` differs
from the one stamped at the previous build) lose their stored execution (:func:`forget_executions`) and
run again; the others come from the cache. Trained networks have their own cache, keyed on the training
code, so a re-executed chapter retrains only when training changed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..atomic import atomic_write_json, atomic_write_text
from .chapters import book_root, chapters, toc_files
from .dependencies import chapter_digest
from .parameters import resolve_parameters
from .smoke import copy_book, write_parameters

__all__ = ["HASH_STAMP", "OK_MARKER", "build_book", "forget_executions", "notebook_pages"]

#: Where each executed chapter's dependency digest is stamped, in the build folder.
HASH_STAMP = ".l2l_chapter_dependencies.json"

#: Written in the build folder after a build without warnings.
OK_MARKER = ".l2l_last_build_ok"


def notebook_pages(source: str | os.PathLike[str]) -> list[Path]:
    """The pages of the book at ``source`` that are notebooks (jupytext front matter), in _toc.yml order."""
    pages = []
    for entry in toc_files(source):
        path = Path(source) / (entry if entry.endswith(".md") else f"{entry}.md")
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if text.startswith("---") and "jupytext" in text.split("---", 2)[1]:
            pages.append(path)
    return pages


def forget_executions(cache_path: str | os.PathLike[str], pages: Sequence[Path]) -> int:
    """Remove the stored executions of ``pages`` from the jupyter-cache folder ``cache_path``.

    Returns:
        How many were removed (0 when there is no cache).
    """
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


def build_book(
    root: str | os.PathLike[str] | None = None,
    *,
    smoke_parameters: Mapping[str, Mapping[str, object]] | None = None,
    force: bool = False,
    output_dir: str | os.PathLike[str] | None = None,
) -> int:
    """Build the book with ``jupyter-book build <root> -W -n --keep-going``, re-executing stale chapters.

    Args:
        root: the book root (default :func:`~l2l_lib.book.chapters.book_root`).
        smoke_parameters: ``{chapter: {parameter: value}}``. If given, the values are checked
            (:func:`~l2l_lib.book.parameters.resolve_parameters`), the book is copied to a temporary
            folder, each listed chapter's parameters cell is rewritten there with its values, and the
            copy is built: the whole book at smoke size.
        force: empty the notebook cache first, whatever the digests.
        output_dir: where ``_build`` goes (``--path-output``); default the root, or ``_build/smoke``
            under the root for a smoke build.

    Returns:
        jupyter-book's exit code (0: built without a warning).

    Raises:
        UsageError: a smoke value names an unknown chapter or parameter or has the wrong type.
    """
    root = book_root(root)
    if smoke_parameters is None:
        return _build(root, root, Path(output_dir).resolve() if output_dir is not None else None, force)
    typed = {name: resolve_parameters(name, values, root) for name, values in smoke_parameters.items()}
    out = Path(output_dir).resolve() if output_dir is not None else root / "_build" / "smoke"
    found = chapters(root)
    with tempfile.TemporaryDirectory(prefix="l2l-smoke-book-") as tmp:
        copy = Path(tmp) / "book-root"
        copy.mkdir()
        copy_book(root, copy)
        for name, values in typed.items():
            write_parameters(copy / found[name].relative_to(root), values)
        return _build(root, copy, out, force)


def _jupyter_book_command(source: Path, output_dir: Path | None, *, fresh: bool) -> list[str]:
    command = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
               "build", str(source), "-W", "-n", "--keep-going"]
    if fresh:
        command.append("--all")
    if output_dir is not None:
        command += ["--path-output", str(output_dir)]
    return command


def _digests(root: Path, source: Path) -> dict[str, str]:
    return {str(page.relative_to(source)): chapter_digest(page, root) for page in notebook_pages(source)}


def _build(root: Path, source: Path, output_dir: Path | None, force: bool) -> int:
    """Build the book at ``source`` (``root`` itself or a copy of it, whose ``l2l_lib`` is ``root``'s)."""
    build = (output_dir if output_dir is not None else source) / "_build"
    cache = build / ".jupyter_cache"
    stamp = build / HASH_STAMP
    ok_marker = build / OK_MARKER
    digests = _digests(root, source)
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
    # The cache now holds only outputs of the current library: stamp it now (stamping only after a
    # successful build would re-execute everything again after every failed build).
    atomic_write_json(stamp, digests)
    # A fresh Sphinx environment (--all) after forgetting executions, since Sphinx would not re-read an
    # unchanged page and would keep its old outputs, and after a failed build, since Sphinx reports a
    # warning only when it reads the page: an unchanged page with a warning would pass the next -W build.
    fresh = force or bool(removed) or not ok_marker.is_file()
    ok_marker.unlink(missing_ok=True)
    # The kernels: this environment's python3 kernelspec, even if there is a user-level one that points
    # at another interpreter.
    env = {**os.environ, "JUPYTER_PREFER_ENV_PATH": os.environ.get("JUPYTER_PREFER_ENV_PATH", "1")}
    rc = subprocess.call(_jupyter_book_command(source, output_dir, fresh=fresh), env=env)
    # If the library changed during the build, the cache may mix both versions: check every chapter next time.
    if _digests(root, source) != digests:
        stamp.unlink(missing_ok=True)
    if rc != 0:
        print(f"[l2l_lib] jupyter-book build failed (exit code {rc})", file=sys.stderr, flush=True)
        return rc
    atomic_write_text(ok_marker, "ok\n")
    print(f"[l2l_lib] the book is at {build / 'html' / 'index.html'}", flush=True)
    return rc
