"""The training configurations a chapter's parameters select: named recipes, seeds and overrides.

A chapter names the networks it trains by recipe (:mod:`l2l_lib.recipes`): each parameter called
``recipe`` or ``<prefix>_recipe`` holds a recipe name, ``overrides`` (a dict of
:class:`~l2l_lib.config.TrainConfig` fields) changes every recipe the chapter trains (a smoke run's
smaller sizes, say) and ``<prefix>_overrides`` one recipe only, on top of those, and ``n_seeds`` / ``first_seed`` (or ``<prefix>_n_seeds`` / ``<prefix>_first_seed``
for one recipe; ``seed`` in a chapter that trains one seed) choose its seeds, None meaning the recipe's
own; ``n_sets`` (or ``<prefix>_n_sets``) trains a Boolean recipe for the first so many of its held-out sets
(None: all). :func:`chapter_configs` computes what
that amounts to, so that ``python -m l2l_lib list`` can show it and a bad value is caught before any
kernel starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from ..config import TrainConfig
from ..recipes import RECIPES, Recipe, recipe, recipe_names
from ..validation import check, check_int

__all__ = ["OVERRIDES", "ChapterConfig", "chapter_configs", "is_recipe_parameter", "non_default_fields",
           "recipe_seeds"]

#: The parameter that holds a chapter's TrainConfig overrides.
OVERRIDES = "overrides"


def is_recipe_parameter(name: str) -> bool:
    """Whether parameter ``name`` holds a recipe name (``recipe`` or ``<prefix>_recipe``)."""
    return name == "recipe" or name.endswith("_recipe")


@dataclass(frozen=True)
class ChapterConfig:
    """One recipe a chapter trains, as its parameters make it.

    Attributes:
        parameter: the chapter parameter that names the recipe (``recipe``, ``paper_recipe``, ...).
        recipe: the recipe's name (a key of :data:`l2l_lib.recipes.RECIPES`).
        config: the recipe's TrainConfig with the chapter's ``overrides`` and then the recipe's own
            ``<prefix>_overrides`` applied (seed: the first seed).
        seeds: the seeds the chapter trains.
        held_out_sets: the Boolean held-out sets it trains them for (``n_sets`` / ``<prefix>_n_sets``: the
            first so many of the recipe's; ``()`` for a continuous recipe); ``config`` holds the first.
    """

    parameter: str
    recipe: str
    config: TrainConfig
    seeds: tuple[int, ...]
    held_out_sets: tuple[tuple[int, ...], ...] = ()


def recipe_seeds(entry: Recipe, n_seeds: object = None, first_seed: object = None) -> tuple[int, ...]:
    """The seeds of recipe ``entry`` given a chapter's ``n_seeds`` and ``first_seed`` (None: the recipe's).

    Raises:
        ValueError: ``n_seeds`` is not None or an integer >= 1, or ``first_seed`` not None or >= 0.
    """
    count = entry.n_seeds if n_seeds is None else check_int("n_seeds", n_seeds, minimum=1)
    first = entry.first_seed if first_seed is None else check_int("first_seed", first_seed, minimum=0)
    return tuple(range(first, first + count))


def chapter_configs(values: Mapping[str, object]) -> list[ChapterConfig]:
    """The recipes that a chapter's parameter ``values`` select, with their overrides and seeds applied.

    Args:
        values: all of a chapter's parameters (its defaults updated with the values given); a chapter
            without recipe-valued parameters (the older convention) selects none.

    Returns:
        One :class:`ChapterConfig` per recipe-valued parameter whose value is not None, in cell order.

    Raises:
        ValueError: a recipe name that does not exist, overrides that are not a dict of valid
            TrainConfig fields, or bad seeds; the message names the parameter and what is allowed.
    """
    found = []
    for parameter, name in values.items():
        if not is_recipe_parameter(parameter) or name is None:
            continue
        check(name in RECIPES, parameter, f"a recipe name, one of {recipe_names()}", name)
        prefix = parameter[: -len("recipe")]
        overrides: dict[str, object] = {}
        for key in dict.fromkeys((OVERRIDES, f"{prefix}{OVERRIDES}")):  # the chapter's, then this recipe's
            given = values.get(key) or {}
            check(isinstance(given, Mapping), key, "a dict of TrainConfig fields", given)
            overrides.update(given)
        n_seeds = _first_given(values, f"{prefix}n_seeds", "n_seeds")
        first_seed = _first_given(values, f"{prefix}first_seed", "first_seed", f"{prefix}seed", "seed")
        seeds = recipe_seeds(RECIPES[name], n_seeds, first_seed)
        sets = _held_out_sets(RECIPES[name], overrides, _first_given(values, f"{prefix}n_sets", "n_sets"))
        first_set = {"held_out": sets[0]} if sets else {}
        config = recipe(name, **{**overrides, **first_set, "seed": seeds[0]})
        found.append(ChapterConfig(parameter, name, config, seeds, sets))
    return found


def _held_out_sets(entry: Recipe, overrides: Mapping[str, object], n_sets: object) -> tuple[tuple[int, ...], ...]:
    """A chapter's held-out sets of a recipe: one set given in ``overrides``, else the recipe's first ``n_sets``."""
    if "held_out" in overrides:
        return (tuple(overrides["held_out"]),) if overrides["held_out"] else ()  # type: ignore[arg-type]
    sets = entry.held_out_sets or ((entry.config.held_out,) if entry.config.held_out else ())
    if n_sets is None or not sets:
        return sets
    return sets[:check_int("n_sets", n_sets, minimum=1, maximum=len(sets))]


def _first_given(values: Mapping[str, object], *names: str) -> object:
    """The value of the first of ``names`` that ``values`` has (None if none)."""
    return next((values[name] for name in names if name in values), None)


def non_default_fields(config: TrainConfig) -> dict[str, object]:
    """The fields of ``config`` whose values differ from a default ``TrainConfig()``, in field order."""
    default = TrainConfig()
    return {f.name: getattr(config, f.name) for f in fields(TrainConfig)
            if getattr(config, f.name) != getattr(default, f.name)}
