"""What ``python -m l2l_lib list`` and ``python -m l2l_lib recipes`` print.

``list``: each chapter, its parameters with their defaults, and the training configurations those
defaults select (recipe, seeds, and the TrainConfig fields that differ from TrainConfig's defaults once
the chapter's ``overrides`` are applied). ``recipes``: every named recipe, where it comes from, its
seeds and its fields.
"""

from __future__ import annotations

import os
import textwrap

from ..config import TrainConfig
from ..recipes import RECIPES
from .chapters import book_root, chapter_parameters, chapters
from .configs import chapter_configs, non_default_fields
from .parameters import describe_parameters

__all__ = ["describe_chapters", "describe_config", "describe_recipes"]

_WIDTH = 100


def describe_config(config: TrainConfig, indent: str) -> str:
    """``config``'s non-default fields but the seed, ``name=value`` wrapped at 100 columns under ``indent``."""
    items = [f"{k}={v!r}" for k, v in non_default_fields(config).items() if k != "seed"]
    return textwrap.fill(", ".join(items) or "(TrainConfig's defaults)", _WIDTH, initial_indent=indent,
                         subsequent_indent=indent, break_on_hyphens=False)


def _seeds(seeds: tuple[int, ...]) -> str:
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    return f"seeds {seeds[0]}-{seeds[-1]}" if seeds else "no seeds"


def _sets(sets: tuple[tuple[int, ...], ...]) -> str:
    return f", held out {', '.join(str(s) for s in sets)}" if sets else ""


def describe_chapters(root: str | os.PathLike[str] | None = None) -> str:
    """The text of ``python -m l2l_lib list`` for the book at ``root``."""
    root = book_root(root)
    blocks = []
    for name, path in chapters(root).items():
        defaults = chapter_parameters(name, root)
        lines = [f"{name}  ({path.relative_to(root)})", describe_parameters(defaults)]
        configs = chapter_configs(defaults)
        if configs:
            lines.append("  trains (fields that differ from TrainConfig's defaults, with `overrides` applied):")
        for entry in configs:
            lines.append(f"    {entry.parameter} = {entry.recipe!r}, {_seeds(entry.seeds)}{_sets(entry.held_out_sets)}:")
            lines.append(describe_config(entry.config, "      "))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) or "no chapter has a `parameters` cell"


def describe_recipes() -> str:
    """The text of ``python -m l2l_lib recipes``: every named recipe, its origin, seeds and fields."""
    blocks = []
    for name, entry in RECIPES.items():
        blocks.append("\n".join([
            f"{name}  ({_seeds(entry.seeds)}{_sets(entry.held_out_sets)})",
            textwrap.fill(entry.about, _WIDTH, initial_indent="  ", subsequent_indent="  "),
            describe_config(entry.config, "    "),
        ]))
    return "\n\n".join(blocks)
