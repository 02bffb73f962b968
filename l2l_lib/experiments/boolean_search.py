"""The recipe search behind the Boolean chapter, read from its raw logs, and an audit of the first edition.

Hochreiter, Younger & Conwell (2001), Sec. 3 train one recipe; the book chose its Boolean recipe by a
search. A held-out result is evidence only if the search never looked at it, so the search ran on search
seeds (below :data:`l2l_lib.protocol.SEARCH_SEED_LIMIT`) and search triples
(:func:`l2l_lib.protocol.search_triples`) only. This module reads the search's raw logs (the JSON files
``benchmarks/results/search2_*.json`` that ``benchmarks/recipes.py --out`` writes: ``recipe``,
``overrides``, ``config``, and per seed its ``history``) into a table, checks them against the protocol,
and reads the first edition's "fresh seeds" run, whose story the chapter tells. Read top to bottom:

* :func:`read_search_runs`, :class:`SearchRun`, :func:`search_table`, :func:`search_hygiene`,
  :func:`search_choice`, :func:`variant_text`;
* :func:`first_edition_fresh_seeds`, :class:`FreshSeedsRun`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..baselines import ideal_boolean16_sequence_mse, ideal_predictions
from ..config import TrainConfig
from ..evaluate import evaluate_predictions
from ..protocol import SEARCH_SEED_LIMIT, evaluation_triples, is_search_seed, search_triples
from ..recipes import RECIPES
from ..statistics import SuccessCount, success_count
from ..tables import markdown_table
from ..tasks import BOOLEAN_FAMILIES
from ..trainer import evaluation_batches
from ..validation import check
from .boolean import LEARNER_RATIO, SUCCESS_RATIO, ratio_list, triple_text

#: Where ``benchmarks/recipes.py`` writes its logs (the repository's ``benchmarks/results``).
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
#: The search's raw logs.
SEARCH_PATTERN = "search2_*.json"
#: The first edition's run of its recipe on seeds 100-107 (without keep_best), from its recipe search.
FIRST_EDITION_FRESH_SEEDS = "boolean16_cpu_seeds100-107_tables50_lr2e-2_clip_decay_no_keep_best_30k.json"
# How many of the protocol's search triples per family a search may use (the first ones drawn).
_SEARCH_TRIPLES_LOOKED_AT = 4


@dataclass(frozen=True)
class SearchRun:
    """One search log: a recipe variant trained on several search seeds and one search triple.

    Attributes:
        name: the log's name (the file name without ``search2_`` and ``.json``).
        recipe: the named recipe the variant starts from; config: its TrainConfig (first seed).
        seeds: the seeds trained.
        kept_held_out: per seed, the held-out MSE (on the search triple) of the weights the run kept: at
            ``selected_step`` with keep_best, else the last evaluation.
        floors: per seed, the ideal learner's MSE on the same held-out batch (the trainer's fixed batch).
        kept_val: per seed, the validation MSE (training functions) of the kept weights.
    """

    name: str
    recipe: str
    config: TrainConfig
    seeds: tuple[int, ...]
    kept_held_out: np.ndarray
    floors: np.ndarray
    kept_val: np.ndarray

    @property
    def ratios(self) -> np.ndarray:
        """``[n_seeds]`` kept held-out MSE over the ideal learner's on the same batch."""
        return self.kept_held_out / self.floors

    def successes(self, ratio: float) -> SuccessCount:
        return success_count(self.ratios, ratio)

    @property
    def book_recipe(self) -> str | None:
        """The book's recipe of this family whose fields this run used (seed and held-out triple aside), if any."""
        for name in ("boolean16", "boolean16_tables", "boolean16_boolean_only", "boolean14", "boolean14_boolean_only"):
            book = RECIPES[name].config
            if book.family == self.config.family and all(
                    getattr(book, f.name) == getattr(self.config, f.name) for f in fields(TrainConfig)
                    if f.name not in ("seed", "held_out")):
                return name
        return None

    def what(self) -> str:
        """The variant in words (:func:`variant_text`)."""
        return variant_text(self.config)


def variant_text(config: TrainConfig) -> str:
    """A Boolean recipe's training in words: tables, noise, step size, decay, clipping, keep_best, steps."""
    c = config
    parts = [f"tables {c.table_fraction:.0%}" if c.table_fraction else "no tables"]
    if c.table_fraction and c.table_pool is not None:
        parts.append(f"pool of {c.table_pool}")
    if c.table_fraction and c.table_beta is not None:
        parts.append(f"Beta({c.table_beta:g}, {c.table_beta:g}) tables")
    if c.table_fraction and c.tables_until < 1:
        parts.append(f"tables until {c.tables_until:.0%}")
    parts.append(f"noise {c.target_noise:g}" if c.target_noise else "no noise")
    parts.append(f"lr {c.learning_rate:g}")
    if c.decay_fraction:
        parts.append(f"decay over {c.decay_fraction:.0%}")
    if c.grad_clip:
        parts.append(f"clip {c.grad_clip:g}")
    if c.keep_best:
        parts.append("keep_best")
    if c.switch_every:
        parts.append(f"switch every {c.switch_every}")
    parts.append(f"{c.n_steps:,} steps")
    return ", ".join(parts)


def _kept_index(history: dict[str, Any]) -> int:
    steps, selected = history["steps"], history.get("selected_step")
    return steps.index(selected) if selected is not None else len(steps) - 1


def _floor(config: TrainConfig) -> float:
    """The ideal learner's MSE on the held-out batch a run of ``config`` evaluates every ``eval_every`` steps."""
    batch = evaluation_batches(config)["held_out"]
    return evaluate_predictions(batch, ideal_predictions(batch)).mse


def read_search_run(path: str | Path) -> SearchRun:
    """One search log (the JSON of ``benchmarks/recipes.py --out``) as a :class:`SearchRun`.

    Raises:
        ValueError: when the file is not such a log of a Boolean recipe with held-out functions.
    """
    path = Path(path)
    record = json.loads(path.read_text())
    check(isinstance(record, dict) and {"recipe", "config", "seeds"} <= set(record), str(path),
          "a log of benchmarks/recipes.py with 'recipe', 'config' and 'seeds'", sorted(record) if isinstance(
              record, dict) else type(record).__name__)
    config = TrainConfig.from_dict(record["config"])
    check(config.family in BOOLEAN_FAMILIES and bool(config.held_out), f"{path.name}: config",
          "a Boolean configuration with held-out functions", (config.family, config.held_out))
    seeds, held, floors, val = [], [], [], []
    for entry in record["seeds"]:
        history = entry["history"]
        index = _kept_index(history)
        seeds.append(int(entry["seed"]))
        held.append(float(history["held_out_mse"][index]))
        val.append(float(history["val_mse"][index]))
        floors.append(_floor(TrainConfig.from_dict({**record["config"], "seed": int(entry["seed"])})))
    name = path.stem.removeprefix("search2_")
    return SearchRun(name=name, recipe=str(record["recipe"]), config=config, seeds=tuple(seeds),
                     kept_held_out=np.array(held), floors=np.array(floors), kept_val=np.array(val))


def read_search_runs(directory: str | Path = RESULTS, pattern: str = SEARCH_PATTERN) -> tuple[SearchRun, ...]:
    """Every search log in ``directory`` matching ``pattern``, Boolean-16 first, then by name.

    Raises:
        FileNotFoundError: when there is none (the chapter's search section needs them).
    """
    paths = sorted(Path(directory).glob(pattern))
    if not paths:
        raise FileNotFoundError(f"no search logs {pattern} in {directory}: the search writes them with "
                                "`python benchmarks/recipes.py ... --out benchmarks/results/search2_NAME.json`")
    runs = [read_search_run(p) for p in paths]
    return tuple(sorted(runs, key=lambda r: (r.config.family != "boolean16", r.name)))


def search_table(runs: Sequence[SearchRun]) -> str:
    """One row per search log: the variant, the search triple, seeds, per-seed ratios, median, counts.

    Ratios are each seed's kept held-out MSE (on its search triple) over the ideal learner's on the same
    batch; counts carry 95% Clopper-Pearson intervals. The last column names the book's recipe the variant
    is, where it is one.
    """
    check(len(runs) > 0, "runs", "a non-empty sequence of SearchRun", runs)
    headers = ["log", "family", "held out", "variant", "seeds", "ratio to the ideal learner, per seed (kept weights)",
               "median", f"≤ {SUCCESS_RATIO:g}x", f"≤ {LEARNER_RATIO:g}x", "book recipe"]
    rows = [[f"`{r.name}`", r.config.family, triple_text(r.config.held_out), r.what(),
             f"{min(r.seeds)}–{max(r.seeds)}", ratio_list(r.ratios), f"{np.median(r.ratios):.3g}x",
             r.successes(SUCCESS_RATIO).text(), r.successes(LEARNER_RATIO).text(),
             f"`{r.book_recipe}`" if r.book_recipe else "–"] for r in runs]
    return markdown_table(headers, rows)


def search_hygiene(runs: Sequence[SearchRun]) -> str:
    """A sentence, computed: did every search log use search seeds and search triples only?"""
    check(len(runs) > 0, "runs", "a non-empty sequence of SearchRun", runs)
    seeds = sorted({s for r in runs for s in r.seeds})
    triples = sorted({(r.config.family, tuple(r.config.held_out)) for r in runs})
    bad_seeds = [s for s in seeds if not is_search_seed(s)]
    bad_triples = [t for f, t in triples if t in evaluation_triples(f)]
    allowed = [t for f, t in triples if t in search_triples(f, n=_SEARCH_TRIPLES_LOOKED_AT)]
    described = " and ".join(f"{triple_text(t)} ({f})" for f, t in triples)
    head = (f"The {len(runs)} search logs trained seeds {seeds[0]}–{seeds[-1]} and held out {described}.")
    if bad_seeds or bad_triples:
        return (head + f" That breaks the protocol: evaluation seeds {bad_seeds or 'none'}, evaluation triples "
                f"{[triple_text(t) for t in bad_triples] or 'none'}.")
    others = len(triples) - len(allowed)
    return head + (f" Every one of them is a search seed (below {SEARCH_SEED_LIMIT}) and a search triple of the "
                   "protocol, never an evaluation seed or triple." if not others else
                   f" No evaluation seed or triple is among them, though {others} triple(s) are not the "
                   "protocol's search triples.")


def search_choice(runs: Sequence[SearchRun], name: str) -> str:
    """A sentence, computed: where the variant that became recipe ``name`` stands among its family's logs.

    Ranks by median ratio to the ideal learner on the search triple (lower is better).
    """
    check(name in RECIPES, "name", "a recipe name", name)
    family = RECIPES[name].config.family
    mine = sorted((r for r in runs if r.config.family == family), key=lambda r: float(np.median(r.ratios)))
    if not mine:
        return f"No search log is of {family}."
    chosen = [r for r in mine if r.book_recipe == name]
    best = mine[0]
    best_text = f"`{best.name}` ({best.what()}, median {np.median(best.ratios):.3g}x)"
    if not chosen:
        return (f"None of the {len(mine)} {family} logs ran `{name}` exactly; the lowest median ratio was "
                f"{best_text}.")
    median = float(np.median(chosen[0].ratios))
    below = [r for r in mine if float(np.median(r.ratios)) < median]
    tied = [r for r in mine if r is not chosen[0] and float(np.median(r.ratios)) == median]
    head = (f"Among the {len(mine)} {family} logs, the variant that is `{name}` (`{chosen[0].name}`) had the "
            f"median ratio {median:.3g}x on its search triple")
    if below:
        return head + f", rank {len(below) + 1}; the lowest was {best_text}."
    return head + (", the lowest" + (f" (tied with {', '.join(f'`{r.name}`' for r in tied)})" if tied else "") + ".")


# ----------------------------------------------------------------------------- the first edition's fresh seeds
@dataclass(frozen=True)
class FreshSeedsRun:
    """The first edition's recipe on seeds 100-107, as its search log recorded it (no keep_best then).

    Attributes:
        seeds: the seeds trained.
        held_out: the held-out triple (the paper's: the set the chapter then reported on).
        best, final: per seed, the lowest and the last held-out MSE over training.
        tables_until: the curriculum field of that run (1: tables throughout).
        floor: the ideal learner's held-out MSE at the run's sequence length (closed form).
    """

    seeds: tuple[int, ...]
    held_out: tuple[int, ...]
    best: np.ndarray
    final: np.ndarray
    tables_until: float
    floor: float

    @property
    def thrown_off(self) -> tuple[int, ...]:
        """Seeds that ended more than :data:`~l2l_lib.experiments.boolean.LEARNER_RATIO` times above their own
        best held-out MSE: good at some point, lost by the end (what keep_best was added against)."""
        return tuple(s for s, b, f in zip(self.seeds, self.best, self.final) if f > LEARNER_RATIO * b)

    def thrown_off_text(self) -> str:
        """``"seed 106 (best 0.0096, final 0.1195)"``, one per thrown-off seed."""
        found = {s: (b, f) for s, b, f in zip(self.seeds, self.best, self.final)}
        return ", ".join(f"seed {s} (best {found[s][0]:.4f}, final {found[s][1]:.4f})" for s in self.thrown_off) or "none"

    @property
    def final_ratios(self) -> np.ndarray:
        return self.final / self.floor


def first_edition_fresh_seeds(path: str | Path = RESULTS / FIRST_EDITION_FRESH_SEEDS) -> FreshSeedsRun:
    """Read the first edition's "fresh seeds" log (``boolean16_recipe_search.md``'s row on seeds 100-107)."""
    record = json.loads(Path(path).read_text())
    config = record["config"]
    best = [min(v for v in s["history"]["held_out_mse"] if not math.isnan(v)) for s in record["seeds"]]
    final = [s["history"]["held_out_mse"][-1] for s in record["seeds"]]
    return FreshSeedsRun(seeds=tuple(int(s["seed"]) for s in record["seeds"]), held_out=tuple(config["held_out"]),
                         best=np.array(best), final=np.array(final),
                         tables_until=float(config.get("tables_until", 1.0)),
                         floor=ideal_boolean16_sequence_mse(int(config["seq_len"])))
