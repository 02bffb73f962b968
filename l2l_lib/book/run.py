"""Rerun one chapter with other parameter values: :func:`run_chapter` (``python -m l2l_lib run``).

jupytext turns the MyST-Markdown chapter into a notebook; papermill injects the values after the cell
tagged ``parameters`` and executes it in a kernel whose working directory is ``book/``, as in the book
build. The executed notebook appears only when the run succeeded; a failed run leaves its partial
notebook beside it, for reading the error in context.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..atomic import atomic_path
from .chapters import book_root, chapter_path, read_chapter
from .kernel import QuietKernelManager
from .parameters import resolve_parameters

__all__ = ["default_output", "failed_path", "run_chapter"]


def default_output(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    """Where :func:`run_chapter` writes chapter ``name`` by default: ``runs/NAME.ipynb`` under the root."""
    return book_root(root) / "runs" / f"{name}.ipynb"


def failed_path(output: str | os.PathLike[str]) -> Path:
    """Where :func:`run_chapter` leaves the partial notebook of a failed run: ``NAME.failed.ipynb``."""
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

    Args:
        name: a chapter name, see :func:`~l2l_lib.book.chapters.chapters`.
        parameters: values for some of the chapter's parameters; text is parsed with the type of the
            default, renamed parameters are renamed (see :func:`~l2l_lib.book.parameters.resolve_parameters`).
        output: the executed notebook; default :func:`default_output`. It is written only when the run
            succeeds (atomically). A failed run leaves the partial notebook at :func:`failed_path` and
            raises; a later successful run removes it.
        root: the book root (default :func:`~l2l_lib.book.chapters.book_root`).
        kernel_name: the Jupyter kernel; default the chapter's kernelspec.
        execution_timeout: seconds per cell (default: none).
        log_output: stream the cells' output to this process's stdout/stderr.
        progress_bar: show papermill's progress bar.

    Returns:
        The resolved path of the executed notebook.

    Raises:
        UsageError: unknown chapter or parameter, or a bad value (checked before any kernel starts).
        papermill.PapermillExecutionError: a cell raised.
    """
    import jupytext
    import papermill

    root = book_root(root)
    typed = resolve_parameters(name, parameters, root)
    output = Path(output if output is not None else default_output(name, root)).resolve()
    failed = failed_path(output)
    _register_literal_translator()
    nb = read_chapter(chapter_path(name, root))
    kernel = kernel_name or nb.metadata.get("kernelspec", {}).get("name") or "python3"
    with tempfile.TemporaryDirectory(prefix="l2l-run-") as tmp, atomic_path(output) as partial:
        notebook_in = Path(tmp) / f"{Path(name).name}.ipynb"
        jupytext.write(nb, notebook_in, fmt="ipynb")
        try:
            papermill.execute_notebook(
                str(notebook_in), str(partial), parameters=typed, kernel_name=kernel,
                cwd=str(root / "book"), progress_bar=progress_bar, log_output=log_output,
                execution_timeout=execution_timeout, kernel_manager_class=QuietKernelManager,
            )
        except BaseException:
            if partial.stat().st_size > 0:  # papermill got as far as writing a notebook
                os.replace(partial, failed)
            raise
    failed.unlink(missing_ok=True)
    return output


def _register_literal_translator() -> None:
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
