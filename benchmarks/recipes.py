#!/usr/bin/env python
"""Train a named recipe over several seeds (packed, cached) and write every seed's learning curves to JSON.

A search tool, not part of the book: it tries variants of the book's recipes (``l2l_lib.recipes``) by
changing their fields, and the chapters then train the recipe it helped choose. Seeds are trained
packed (:func:`l2l_lib.train.train_seeds`) on the CPU or, with ``--device cuda`` / ``auto``, on a GPU;
networks go to the library's cache (``L2L_CACHE_DIR``), so a chapter that asks for the same configuration
later loads them instead of training (CPU runs only: the book's numbers are CPU numbers).

Usage::

    python benchmarks/recipes.py boolean16 --seeds 8 --first-seed 0 -s held_out "(4, 9, 10)" \\
        -s target_noise 0.1 --out benchmarks/results/search2_b16_tables_noise10.json
    python benchmarks/recipes.py --list

A search never touches the evaluation protocol (``l2l_lib.protocol``): seeds must be search seeds (below
1000) and a Boolean recipe must hold out a search triple, not one of the evaluation triples; both are
refused with a clear error.

Each ``-s FIELD VALUE`` replaces one TrainConfig field; VALUE is a Python literal (``0.5``, ``None``,
``(0, 6, 9)``), or else taken as text (``-s family boolean14``).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's l2l_lib, whatever is installed

from l2l_lib.atomic import atomic_write_text  # noqa: E402
from l2l_lib.config import TrainConfig  # noqa: E402
from l2l_lib.experiments import train_recipe  # noqa: E402
from l2l_lib.protocol import (EVALUATION_FIRST_SEED, SEARCH_SEED_LIMIT, evaluation_triples,  # noqa: E402
                              is_search_seed, search_triples)
from l2l_lib.recipes import RECIPES, recipe, recipe_names  # noqa: E402


def parse_overrides(pairs: list[list[str]]) -> dict[str, Any]:
    """``[[FIELD, VALUE], ...]`` from the command line -> ``{FIELD: value}``; VALUE a literal or else text."""
    overrides = {}
    for name, text in pairs:
        try:
            overrides[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            overrides[name] = text  # a string field such as family or quadratic_map
    return overrides


def run(name: str, *, n_seeds: int | None, first_seed: int | None, overrides: dict[str, Any],
        device: str, progress: bool = True) -> dict[str, Any]:
    """Train the seeds of recipe ``name`` with ``overrides``; the JSON-ready record of the run.

    Raises:
        ValueError: for an unknown recipe or field, or an invalid value (from :func:`l2l_lib.recipes.recipe`).
    """
    check_search(name, n_seeds=n_seeds, first_seed=first_seed, overrides=overrides)
    started = time.perf_counter()
    runs = train_recipe(name, n_seeds=n_seeds, first_seed=first_seed, overrides=overrides, progress=progress,
                        device=device)
    return {"recipe": name, "overrides": overrides, "device": device, "config": runs[0].config.to_dict(),
            "wall_seconds": time.perf_counter() - started,
            "seeds": [{"seed": r.config.seed, "history": r.history.to_dict(), "wall_time": r.wall_time,
                       "from_cache": r.from_cache} for r in runs]}


def check_search(name: str, *, n_seeds: int | None, first_seed: int | None, overrides: dict[str, Any]) -> None:
    """Refuse what a search must never touch (l2l_lib.protocol): evaluation seeds and evaluation triples.

    Raises:
        ValueError: naming the seeds or the held-out set, and what is allowed instead.
    """
    if name not in RECIPES:
        return  # train_recipe names the allowed recipes
    config = recipe(name, **overrides)  # unknown or bad fields are named first
    entry = RECIPES[name]
    first = entry.first_seed if first_seed is None else first_seed
    count = entry.n_seeds if n_seeds is None else n_seeds
    seeds = range(first, first + count)
    if not all(is_search_seed(s) for s in seeds):
        raise ValueError(f"a search uses seeds below {SEARCH_SEED_LIMIT} only (--first-seed, --seeds); got "
                         f"{first}..{first + count - 1}: seeds from {EVALUATION_FIRST_SEED} on are evaluation seeds")
    if config.held_out and tuple(config.held_out) in evaluation_triples(config.family):
        raise ValueError(f"held_out {config.held_out} is an evaluation triple; a search holds out a search triple "
                         f"(-s held_out \"{search_triples(config.family)[0]}\")")


def summary(record: dict[str, Any]) -> str:
    """One line per seed: final validation MSE (training functions) and held-out MSE, best held-out seen."""
    lines = []
    for s in record["seeds"]:
        h = s["history"]
        held = [v for v in h["held_out_mse"] if v == v]  # NaN without held-out functions
        lines.append(f"seed {s['seed']}: val {h['val_mse'][-1]:.4f}"
                     + (f" held-out {held[-1]:.4f} (best seen {min(held):.4f})" if held else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", nargs="?", choices=recipe_names(), help="a named recipe of l2l_lib.recipes")
    parser.add_argument("--list", action="store_true", help="list the recipes and exit")
    parser.add_argument("--seeds", type=int, default=None, help="how many seeds (default: the recipe's own)")
    parser.add_argument("--first-seed", type=int, default=None, help="first seed (default: the recipe's own)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    parser.add_argument("--out", type=Path, help="write the runs' learning curves to this JSON file")
    parser.add_argument("-s", "--set", nargs=2, action="append", default=[], metavar=("FIELD", "VALUE"),
                        help=f"override a TrainConfig field ({', '.join(f.name for f in fields(TrainConfig))})")
    args = parser.parse_args(argv)
    if args.list:
        for name, entry in RECIPES.items():
            print(f"{name:<24}{entry.about}")
        return 0
    if args.recipe is None:
        parser.error("a recipe name is required (--list shows them)")
    try:
        record = run(args.recipe, n_seeds=args.seeds, first_seed=args.first_seed,
                     overrides=parse_overrides(args.set), device=args.device)
    except ValueError as error:
        parser.error(str(error))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        # json.dumps, not atomic_write_json: held_out_mse is NaN without held-out functions (Python reads it)
        atomic_write_text(args.out, json.dumps(record))
    print(summary(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
