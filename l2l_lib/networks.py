"""The networks the book needs: every named recipe's seeds, in the packs that training groups them into.

Enumerated from :data:`l2l_lib.recipes.RECIPES` (each recipe's own seeds) and
:func:`l2l_lib.train.seed_packs` (how :func:`~l2l_lib.train.train_seeds` packs them), never written out a
second time: a chapter that calls ``train_recipe(name)`` at its default parameters asks for exactly these
packs, so a cache filled with them serves every chapter without training.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .config import TrainConfig
from .recipes import RECIPES, recipe_names
from .train import pack_key, seed_packs
from .validation import check


@dataclass(frozen=True)
class Pack:
    """Seeds of one recipe trained together as one computation (one cache folder, one unit of work).

    Attributes:
        recipe: the recipe's name in :data:`~l2l_lib.recipes.RECIPES`.
        configs: one TrainConfig per seed, equal but for the seed.
    """

    recipe: str
    configs: tuple[TrainConfig, ...]

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(c.seed for c in self.configs)

    @property
    def held_out(self) -> tuple[int, ...]:
        """The Boolean functions this pack holds out (``()`` for continuous families)."""
        return self.configs[0].held_out

    @property
    def folder(self) -> str:
        """Where the store keeps it, relative to the store: ``<recipe>`` or, for a Boolean recipe, one folder
        per held-out set, ``<recipe>/held_out_0-6-9``."""
        if not self.held_out:
            return self.recipe
        return f"{self.recipe}/held_out_{'-'.join(str(k) for k in self.held_out)}"

    @property
    def name(self) -> str:
        """A name a reader can type back: ``boolean16 seeds 10000-10004 held out (0, 6, 9)`` (``semilinear
        seed 0`` for one seed of a continuous recipe)."""
        seeds = self.seeds
        name = f"{self.recipe} seed {seeds[0]}" if len(seeds) == 1 else f"{self.recipe} seeds {seeds[0]}-{seeds[-1]}"
        return f"{name} held out {self.held_out}" if self.held_out else name

    @property
    def key(self) -> str:
        """The cache folder name (:func:`l2l_lib.train.pack_key`): configs and training code."""
        return pack_key(list(self.configs))

    @property
    def cost(self) -> int:
        """A rough size of the work, for scheduling the longest packs first: steps x sequence length x
        (units + 4) x seeds (paper2001 counts as its 52 units)."""
        c = self.configs[0]
        return c.n_steps * c.seq_len * (sum(c.hidden_sizes) + 4) * len(self.configs)


def book_packs(recipes: Iterable[str] | None = None) -> list[Pack]:
    """The packs of the named recipes (default: every recipe), each recipe with its own seeds and, for a
    Boolean recipe, each of its held-out sets.

    Raises:
        ValueError: for a name that is not a recipe, naming the allowed ones.
    """
    names = list(recipe_names() if recipes is None else recipes)
    unknown = [n for n in names if n not in RECIPES]
    check(not unknown, "recipes", f"names from {recipe_names()}", unknown)
    packs = []
    for name in names:
        entry = RECIPES[name]
        for first in entry.configs():
            packs += [Pack(name, tuple(configs)) for configs in seed_packs(first, entry.n_seeds)]
    return packs
