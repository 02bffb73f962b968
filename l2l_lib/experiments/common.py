"""The experiments layer's common steps: train a named recipe's seeds, evaluate trained networks.

A chapter is prose plus short cells; what a cell calls lives here and in the study modules beside it
(each returns frozen dataclasses). Every network comes from a named recipe (:mod:`l2l_lib.recipes`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..evaluate import Evaluation, evaluate_predictions, predict
from ..packed import train_seeds
from ..recipes import RECIPES, recipe
from ..tasks import Batch
from ..train import TrainResult
from ..validation import check_choice, check_int


def train_recipe(name: str, *, n_seeds: int | None = None, first_seed: int | None = None,
                 overrides: Mapping[str, Any] | None = None, progress: bool = True,
                 device: str = "cpu") -> list[TrainResult]:
    """The trained networks of a named recipe's seeds, from the cache or trained (packed) now.

    Args:
        name: a recipe of :data:`l2l_lib.recipes.RECIPES`.
        n_seeds: how many seeds (None: the recipe's own count, :attr:`Recipe.n_seeds`).
        first_seed: the first seed (None: the recipe's own, :attr:`Recipe.first_seed`).
        overrides: TrainConfig fields to change (e.g. the smaller sizes of a smoke run).
        progress: a progress bar while training.
        device: ``"cpu"`` (the book's numbers), ``"cuda"`` or ``"auto"``.

    Returns:
        one :class:`~l2l_lib.train.TrainResult` per seed, in seed order.
    """
    check_choice("recipe name", name, RECIPES)  # before anything else is read
    entry = RECIPES[name]
    n_seeds = entry.n_seeds if n_seeds is None else check_int("n_seeds", n_seeds)
    first_seed = entry.first_seed if first_seed is None else check_int("first_seed", first_seed, minimum=0)
    config = recipe(name, **{**dict(overrides or {}), "seed": first_seed})
    return train_seeds(config, n_seeds, progress=progress, device=device)


def held_out_sets(name: str, n_sets: int | None = None) -> tuple[tuple[int, ...], ...]:
    """The held-out sets the book trains Boolean recipe ``name`` for (:attr:`Recipe.held_out_sets`, the
    evaluation triples of :mod:`l2l_lib.protocol`), the first ``n_sets`` of them (None: all).

    Raises:
        ValueError: for an unknown recipe, a continuous one, or ``n_sets`` outside 1..(the recipe's count).
    """
    check_choice("recipe name", name, RECIPES)
    entry = RECIPES[name]
    sets = entry.held_out_sets or ((entry.config.held_out,) if entry.config.held_out else ())
    if not sets:
        raise ValueError(f"recipe {name!r} is continuous: it has no held-out sets")
    if n_sets is None:
        return sets
    return sets[:check_int("n_sets", n_sets, minimum=1, maximum=len(sets))]


def train_recipe_sets(name: str, *, n_sets: int | None = None, n_seeds: int | None = None,
                      first_seed: int | None = None, overrides: Mapping[str, Any] | None = None,
                      progress: bool = True, device: str = "cpu") -> dict[tuple[int, ...], list[TrainResult]]:
    """:func:`train_recipe` for each held-out set of a Boolean recipe (:func:`held_out_sets`).

    Returns:
        ``{held-out set: one TrainResult per seed}``, in the recipe's order of sets. A ``held_out`` in
        ``overrides`` is not allowed (the sets are the recipe's).
    """
    if overrides and "held_out" in overrides:
        raise ValueError("overrides must not set held_out: train_recipe_sets trains every held-out set of the "
                         "recipe; use train_recipe(name, overrides={'held_out': ...}) for one set")
    return {held_out: train_recipe(name, n_seeds=n_seeds, first_seed=first_seed,
                                   overrides={**dict(overrides or {}), "held_out": held_out},
                                   progress=progress, device=device)
            for held_out in held_out_sets(name, n_sets)}


def evaluate_runs(runs: Sequence[TrainResult], batch: Batch) -> list[Evaluation]:
    """One :class:`~l2l_lib.evaluate.Evaluation` per trained network, all on the same test ``batch``."""
    return [evaluate_predictions(batch, predict(run.model, batch)) for run in runs]
