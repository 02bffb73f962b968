"""The book's tooling: find, rerun and build the chapters of the Jupyter Book (``python -m l2l_lib``).

Nothing in the research modules of ``l2l_lib`` imports this package; it imports them (the recipes, to
show and check what a chapter trains). One module per concept:

* :mod:`~l2l_lib.book.chapters`: the chapters that have a ``parameters`` cell, and its defaults;
* :mod:`~l2l_lib.book.parameters`: command-line values typed, checked and renamed;
* :mod:`~l2l_lib.book.configs`: the recipes, seeds and overrides a chapter's parameters select;
* :mod:`~l2l_lib.book.listing`: what ``list`` and ``recipes`` print;
* :mod:`~l2l_lib.book.kernel`: the kernel manager of reruns (no noise on the terminal);
* :mod:`~l2l_lib.book.run`: rerun one chapter (papermill);
* :mod:`~l2l_lib.book.dependencies`: the library files each chapter depends on;
* :mod:`~l2l_lib.book.smoke`: a copy of the book with other parameter values;
* :mod:`~l2l_lib.book.build`: build the book, re-executing the chapters whose dependencies changed;
* :mod:`~l2l_lib.book.stage_commands`: ``networks`` and ``train-all``, the book's networks and the train stage;
* :mod:`~l2l_lib.book.errors`: :class:`UsageError`, the user's mistakes (exit code 2).
"""

from .build import build_book, forget_executions, notebook_pages
from .chapters import ROOT, book_root, chapter_parameters, chapters, toc_files
from .configs import ChapterConfig, chapter_configs
from .dependencies import chapter_dependencies, chapter_digest
from .errors import UsageError
from .parameters import parse_value, resolve_parameters
from .run import failed_path, run_chapter
from .smoke import load_smoke_parameters

__all__ = ["ROOT", "ChapterConfig", "UsageError", "book_root", "build_book", "chapter_configs",
           "chapter_dependencies", "chapter_digest", "chapter_parameters", "chapters", "failed_path",
           "forget_executions", "load_smoke_parameters", "notebook_pages", "parse_value", "resolve_parameters",
           "run_chapter", "toc_files"]
