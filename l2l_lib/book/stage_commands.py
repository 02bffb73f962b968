"""``python -m l2l_lib networks`` and ``train-all``: the book's networks, their state, and the train stage.

* ``networks [--check]``: every network the chapters use at their default parameters
  (:func:`l2l_lib.networks.book_packs`), with its state in the store (current, missing, stale, damaged) and
  whether this machine's training cache holds it. ``--check`` exits 1 unless the store holds every one of
  them for the current training code, naming what is missing or stale and the command that fixes it.
* ``train-all [--jobs N] [--ray ADDRESS] [--recipe NAME ...] [--update-store] [--no-store]``: the train
  stage (:func:`l2l_lib.stage.run_stage`): serve what the store holds, train the rest on worker processes
  or Ray, and say which and why.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..networks import Pack, book_packs
from ..recipes import RECIPES, recipe_names
from ..stage import StageReport, run_stage
from ..store import entry_state, total_size
from ..checkpoints import default_cache_dir
from ..trainer import RESULT_FILE
from .errors import UsageError

FIX = "python -m l2l_lib train-all --update-store"


def add_stage_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``networks`` and ``train-all`` to the command line's subcommands."""
    networks = sub.add_parser("networks", help="the networks the book needs and their state in the store")
    networks.add_argument("--check", action="store_true",
                          help="exit 1 unless the store holds every one of them for the current training code")
    networks.add_argument("--store", type=Path, help="the store folder (default: the repository's store/)")
    train = sub.add_parser("train-all", help="train every network the book needs that the store cannot serve")
    train.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    train.add_argument("--ray", metavar="ADDRESS",
                       help="run the packs as Ray tasks: 'local' starts Ray here, 'auto' or HOST:PORT joins a cluster")
    train.add_argument("--recipe", action="append", default=None, metavar="NAME",
                       help="only this recipe's networks (repeatable; default: all)")
    train.add_argument("--update-store", action="store_true", help="write what is trained now into the store")
    train.add_argument("--no-store", action="store_true", help="train even what the store could serve")
    train.add_argument("--device", default="cpu", help="cpu (the book's numbers) or cuda")
    train.add_argument("--store", type=Path, help="the store folder (default: the repository's store/)")


def _packs(names: list[str] | None) -> list[Pack]:
    unknown = [n for n in names or [] if n not in RECIPES]
    if unknown:
        raise UsageError(f"unknown recipe {unknown[0]!r}; recipes: {', '.join(recipe_names())}")
    return book_packs(names)


def describe_networks(store: Path | None = None) -> tuple[str, list[str]]:
    """The networks table, and the problems (``[]`` when the store holds every network, current)."""
    cache = default_cache_dir()
    lines, problems = [], []
    packs = book_packs()
    for pack in packs:
        state = entry_state(pack, store)
        cached = "cached" if (cache / pack.key / RESULT_FILE).exists() else ""
        lines.append(f"  {state.state:8s} {cached:6s} {pack.name}" + (f"  ({state.why})" if state.why else ""))
        if state.state != "current":
            problems.append(f"{pack.name}: {state.state} ({state.why})")
    n = sum(len(p.seeds) for p in packs)
    head = (f"{n} networks in {len(packs)} packs; store {store or 'store/'} ({total_size(store) / 1e6:.1f} MB); "
            f"cache {cache}")
    return "\n".join([head, *lines]), problems


def networks_command(args: argparse.Namespace) -> int:
    """``networks [--check]``; returns the exit code."""
    table, problems = describe_networks(args.store)
    print(table)
    if args.check and problems:
        print(f"error: the store lacks {len(problems)} of the book's packs for the current training code:\n  "
              + "\n  ".join(problems) + f"\nrun `{FIX}` and commit store/", file=sys.stderr)
        return 1
    return 0


def summarise(report: StageReport) -> str:
    """One line: how many networks came from where, and how long the stage took."""
    parts = [f"{report.count(s)} {label}" for s, label in (("cache", "already cached"), ("store", "from the store"),
                                                            ("trained", "trained now"), ("failed", "FAILED"))
             if report.count(s)]
    return f"train stage: {', '.join(parts) or 'nothing to do'} in {report.seconds / 60:.1f} min"


def train_before_build(jobs: int | None = None) -> int:
    """The build's first stage: every network of the book from the cache, the store, or trained now (each
    training announced with its reason); returns 1 if a pack failed."""
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be an integer >= 1; got {jobs}")
    report = run_stage(book_packs(), jobs=jobs)
    print(summarise(report))
    return 1 if report.failed else 0


def train_all_command(args: argparse.Namespace) -> int:
    """``train-all``; returns 0, or 1 when a pack failed (each failure is named above the summary)."""
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be an integer >= 1; got {args.jobs}")
    try:
        report = run_stage(_packs(args.recipe), jobs=args.jobs, ray_address=args.ray, store_dir=args.store,
                           use_store=not args.no_store, update_store=args.update_store, device=args.device)
    except ValueError as exc:  # an unreachable Ray address, a bad device
        raise UsageError(str(exc)) from exc
    print(summarise(report))
    return 1 if report.failed else 0
