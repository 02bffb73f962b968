"""Chapters select their networks by recipe name: one definition per recipe, shared by construction.

A chapter's parameters name recipes (``recipe``, ``<prefix>_recipe``), seeds (``n_seeds``,
``first_seed``; None: the recipe's own) and ``overrides`` (a dict of TrainConfig fields). Two chapters
that train the same recipe with their defaults therefore ask for the same networks, which the cache of
trained networks then shares: no test has to keep copied settings equal.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from book_checks import CHAPTERS
from l2l_lib.book import chapter_configs, chapter_parameters
from l2l_lib.book.configs import OVERRIDES, is_recipe_parameter
from l2l_lib.config import RENAMED_FIELDS
from l2l_lib.recipes import RECIPES

DEFAULTS = {name: chapter_parameters(name) for name in CHAPTERS}


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_recipe_parameters_name_existing_recipes(name: str) -> None:
    for parameter, value in DEFAULTS[name].items():
        if is_recipe_parameter(parameter):
            assert value is None or value in RECIPES, f"{name}: {parameter} = {value!r} is not a recipe"


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_overrides_default_to_a_dict_and_the_recipes_build(name: str) -> None:
    defaults = DEFAULTS[name]
    if any(is_recipe_parameter(p) for p in defaults):
        assert isinstance(defaults.get(OVERRIDES), dict), f"{name}: a chapter with recipes needs `overrides = {{}}`"
    if OVERRIDES in defaults:
        assert isinstance(defaults[OVERRIDES], dict), f"{name}: overrides = {defaults[OVERRIDES]!r}"
    chapter_configs(defaults)  # raises ValueError for a bad name, override or seed count


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_no_parameter_uses_a_renamed_word(name: str) -> None:
    """``n_epochs`` is ``n_steps`` now (one optimiser step is not an epoch)."""
    old = [p for p in DEFAULTS[name] for word in RENAMED_FIELDS if p == word or p.endswith(f"_{word}")]
    assert not old, f"{name}: parameters {old} use an old name ({RENAMED_FIELDS})"


def test_chapters_that_train_a_recipe_ask_for_the_same_networks() -> None:
    """Every chapter that trains recipe R with its defaults trains the same configuration and seeds."""
    trained = defaultdict(dict)
    for name, defaults in DEFAULTS.items():
        for entry in chapter_configs(defaults):
            trained[entry.recipe][f"{name}.{entry.parameter}"] = (entry.config, entry.seeds)
    for recipe_name, users in trained.items():
        assert len(set(users.values())) == 1, f"recipe {recipe_name!r} is trained differently by {sorted(users)}"


def test_surgery_dissects_the_boolean_chapters_networks() -> None:
    """The surgery chapter analyses the Boolean chapter's Boolean-16 networks, loaded from the cache."""
    if not {"boolean", "surgery"} <= set(DEFAULTS):
        pytest.skip("no Boolean or surgery chapter")
    boolean, surgery = (chapter_configs(DEFAULTS[name]) for name in ("boolean", "surgery"))
    if not boolean or not surgery:
        pytest.skip("the Boolean and surgery chapters do not select recipes by name yet")
    ours = {(c.recipe, c.config, c.seeds) for c in boolean}
    assert {(c.recipe, c.config, c.seeds) for c in surgery} <= ours
