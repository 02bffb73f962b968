"""``python -m l2l_lib {list,recipes,run,build,networks,train-all}``: the command line of the book (:mod:`l2l_lib.book`).

* ``list``: the chapters that can be rerun, their parameters with defaults, and the training
  configurations those select (recipe, seeds, fields that differ from TrainConfig's defaults).
* ``recipes``: every named recipe (:mod:`l2l_lib.recipes`), where it comes from, its seeds and fields.
* ``run CHAPTER -p NAME VALUE ... [-o OUT] [--kernel NAME]``: execute one chapter with other values
  and write the executed notebook to ``runs/CHAPTER.ipynb``.
* ``build [--force] [--smoke]``: build the book (``jupyter-book build . -W -n --keep-going``),
  re-executing the chapters whose library code changed.
* ``networks [--check]`` and ``train-all``: the networks the book needs, their state in the store, and
  the train stage (:mod:`l2l_lib.book.stage_commands`).

Exit codes: 0 done, 1 a chapter or the build failed, 2 a wrong chapter, parameter or value (the
message lists the valid ones). The names readers' code imports from here (``run_chapter``,
``chapter_parameters``, ``book_root``, ...) are those of :mod:`l2l_lib.book`.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from .book import (ROOT, UsageError, book_root, build_book, chapter_dependencies, chapter_digest,
                   chapter_parameters, chapters, failed_path, forget_executions, load_smoke_parameters,
                   parse_value, resolve_parameters, run_chapter)
from .book.listing import describe_chapters, describe_recipes
from .book.run import default_output
from .book.stage_commands import add_stage_commands, networks_command, train_all_command, train_before_build

__all__ = ["ROOT", "UsageError", "book_root", "build_book", "chapter_dependencies", "chapter_digest",
           "chapter_parameters", "chapters", "forget_executions", "load_smoke_parameters", "main", "parse_value",
           "resolve_parameters", "run_chapter"]


#: The commands of the train stage (:mod:`l2l_lib.book.stage_commands`) and what runs them.
STAGE_COMMANDS = {"networks": networks_command, "train-all": train_all_command}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m l2l_lib",
                                     description="List, rerun and build the chapters of the book.")
    parser.add_argument("--root", help="the book root (default: the repository of this l2l_lib)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="the chapters that can be rerun: parameters, defaults, training configs")
    sub.add_parser("recipes", help="every named training recipe: origin, seeds, fields")

    run = sub.add_parser("run", help="execute one chapter with other parameter values")
    run.add_argument("chapter", metavar="CHAPTER")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="a parameter value, parsed with the type of its default (repeatable)")
    run.add_argument("-o", "--output", type=Path, help="the executed notebook (default: runs/CHAPTER.ipynb)")
    run.add_argument("--kernel", help="the Jupyter kernel (default: the chapter's kernelspec)")
    run.add_argument("--timeout", type=float, default=None, help="seconds per cell (default: none)")
    run.add_argument("--log-output", action="store_true", help="show the cells' output while running")

    build = sub.add_parser("build", help="build the book (jupyter-book build . -W -n --keep-going)")
    build.add_argument("--force", action="store_true", help="empty the notebook cache first")
    build.add_argument("--smoke", action="store_true",
                       help="build a copy of the book with the parameters of tests/smoke_parameters.py")
    build.add_argument("--output-dir", help="where _build goes (default: the root; _build/smoke for --smoke)")
    build.add_argument("--jobs", type=int, default=None,
                       help="worker processes for the networks the store cannot serve (default: one per core)")
    add_stage_commands(sub)
    return parser


def _run(args: argparse.Namespace, root: Path) -> int:
    # Deprecation warnings (a renamed parameter) are meant for this user: show each one, plainly, also
    # when another value is wrong.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        try:
            typed = resolve_parameters(args.chapter, dict(args.parameter), root)  # fails before any kernel
        finally:
            for warning in caught:
                print(f"warning: {warning.message}", file=sys.stderr)
    import papermill

    try:
        path = run_chapter(args.chapter, typed, args.output, root=root, kernel_name=args.kernel,
                           execution_timeout=args.timeout, log_output=args.log_output,
                           progress_bar=sys.stderr.isatty())
    except papermill.PapermillExecutionError as exc:
        output = args.output.resolve() if args.output else default_output(args.chapter, root)
        print(f"error: chapter {args.chapter!r} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}\n"
              f"partial notebook: {failed_path(output)}", file=sys.stderr)
        return 1
    print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m l2l_lib``; returns the exit code (see the module's docstring)."""
    args = _parser().parse_args(argv)
    try:
        root = book_root(args.root)
        if args.command == "list":
            print(describe_chapters(root))
            return 0
        if args.command == "recipes":
            print(describe_recipes())
            return 0
        if args.command == "run":
            return _run(args, root)
        if args.command in STAGE_COMMANDS:
            return STAGE_COMMANDS[args.command](args)
        smoke = load_smoke_parameters(root) if args.smoke else None
        if smoke is None and train_before_build(args.jobs) != 0:  # the book's networks first, said where from
            return 1
        return build_book(root, smoke_parameters=smoke, force=args.force, output_dir=args.output_dir)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
