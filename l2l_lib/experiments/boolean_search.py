"""The recipe search behind the Boolean chapter, read from its raw logs, and an audit of the first edition.

Hochreiter, Younger & Conwell (2001), Sec. 3 train one recipe; the book chose its Boolean recipe by a
search. A held-out result is evidence only if the search never looked at it, so the search ran on search
seeds (below :data:`l2l_lib.protocol.SEARCH_SEED_LIMIT`) and search triples
(:func:`l2l_lib.protocol.search_triples`) only. This module reads the search's raw logs (the JSON files
``benchmarks/results/search2_*.json`` that ``benchmarks/recipes.py --out`` writes: ``recipe``,
``overrides``, ``config``, and per seed its ``history``) into a table, checks them against the protocol,
applies the rule the search chose by, and reads the first edition's "fresh seeds" run, whose story the chapter
tells. Read top to bottom:

* :func:`read_search_runs`, :class:`SearchRun`, :func:`variant_text`: the logs;
* :func:`near_copy_share`, :func:`shows_held_out`: whether a variant's random tables come so close to the
  held-out functions that training shows them (the criterion of :mod:`l2l_lib.experiments.diversity`);
* :data:`RULE_TEXT`, :func:`rule_key`, :func:`search_decision`: the rule fixed before the search ended, applied
  to every log and to the logs whose tables show no held-out function;
* :func:`search_table`, :func:`search_hygiene`, :func:`search_choice`: the table and the sentences of the chapter;
* :func:`showing_note`, :class:`ShowingNote`: what a variant whose tables show held-out functions can stand for
  beside the book's recipe;
* :func:`first_edition_fresh_seeds`, :class:`FreshSeedsRun`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ..baselines import ideal_boolean16_sequence_mse, ideal_predictions
from ..config import TrainConfig
from ..evaluate import evaluate_predictions
from ..protocol import SEARCH_SEED_LIMIT, evaluation_triples, is_search_seed, search_triples
from ..recipes import RECIPES, recipe
from ..statistics import SuccessCount, success_count
from ..tables import markdown_table
from ..tasks import BOOLEAN_FAMILIES
from ..trainer import evaluation_batches
from ..validation import check
from .boolean import LEARNER_RATIO, SUCCESS_RATIO, ratio_list, triple_text
from .diversity import JUDGE_DELTA, SHOWN_SHARE, near_table_probability, table_counts

#: Where ``benchmarks/recipes.py`` writes its logs (the repository's ``benchmarks/results``).
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
#: The search's raw logs.
SEARCH_PATTERN = "search2_*.json"
#: The first edition's run of its recipe on seeds 100-107 (without keep_best), from its recipe search.
FIRST_EDITION_FRESH_SEEDS = "boolean16_cpu_seeds100-107_tables50_lr2e-2_clip_decay_no_keep_best_30k.json"
# How many of the protocol's search triples per family a search may use (the first ones drawn).
_SEARCH_TRIPLES_LOOKED_AT = 4
#: The rule the search chose by, written before its last variants had finished
#: (``benchmarks/results/boolean_search2.md``); :func:`rule_key` is its sort key. (The chapter states it.)
RULE_TEXT = (f"the most seeds within {SUCCESS_RATIO:g}x the ideal learner on the search triple, ties broken by "
             f"the most within {LEARNER_RATIO:g}x (learners), then by the lowest median ratio")
# The fields a recipe is compared on when it is matched to a log or to a recipe of another family.
_SPLIT_FIELDS = ("family", "held_out", "seq_len")
# TrainConfig's defaults: a variant's text names the loss and read-out only when they are not these.
_DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}


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
        """The book's evaluated recipe (a recipe with held-out sets) of this family whose fields this run used
        (seed and held-out triple aside, and the quadratic's output map, which Boolean runs never read and whose
        default changed after the logs were written), if any."""
        for name, book in RECIPES.items():
            if book.held_out_sets and book.config.family == self.config.family and not _differing_fields(
                    book.config, self.config, ignore=("seed", "held_out", "quadratic_map")):
                return name
        return None

    def what(self) -> str:
        """The variant in words (:func:`variant_text`)."""
        return variant_text(self.config)

    @property
    def near_share(self) -> float:
        """:func:`near_copy_share` of the variant's training."""
        return near_copy_share(self.config)

    @property
    def shows_held_out(self) -> bool:
        """:func:`shows_held_out` of the variant's training."""
        return shows_held_out(self.config)

    def counts_text(self) -> str:
        """``"0 of 8 seeds within 1.1x, 4 within 3x, median 3.27x"``."""
        success, learners = self.successes(SUCCESS_RATIO), self.successes(LEARNER_RATIO)
        return (f"{success.successes} of {success.trials} seeds within {SUCCESS_RATIO:g}x, {learners.successes} "
                f"within {LEARNER_RATIO:g}x, median {np.median(self.ratios):.3g}x")


def _differing_fields(a: TrainConfig, b: TrainConfig, ignore: Sequence[str] = ()) -> tuple[str, ...]:
    return tuple(f.name for f in fields(TrainConfig)
                 if f.name not in ignore and getattr(a, f.name) != getattr(b, f.name))


def variant_text(config: TrainConfig) -> str:
    """A Boolean recipe's training in words: tables (their pool, shape and curriculum), then noise on the
    fed-back target, read-out and training loss where they are not the defaults (none, sigmoid, squared
    error), then step size, decay, clipping, keep_best, switches and steps."""
    c = config
    parts = [f"tables {c.table_fraction:.0%}" if c.table_fraction else "no tables"]
    if c.table_fraction and c.table_pool is not None:
        parts.append(f"pool of {c.table_pool}")
    if c.table_fraction:
        parts.append("U[0, 1] tables" if c.table_beta is None else f"Beta({c.table_beta:g}, {c.table_beta:g}) tables")
    if c.table_fraction and c.tables_until < 1:
        parts.append(f"tables until {c.tables_until:.0%}")
    if c.target_noise != _DEFAULTS["target_noise"]:
        parts.append(f"noise {c.target_noise:g} on the fed-back target")
    if c.output != _DEFAULTS["output"]:
        parts.append(f"{c.output} read-out")
    if c.loss != _DEFAULTS["loss"]:
        parts.append({"bce": "cross-entropy loss"}.get(c.loss, f"{c.loss} loss"))
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


def kept_index(history: dict[str, Any]) -> int:
    """The index in a logged run's history of the weights it kept (``selected_step``, else the last)."""
    steps, selected = history["steps"], history.get("selected_step")
    return steps.index(selected) if selected is not None else len(steps) - 1


def _floor(config: TrainConfig) -> float:
    """The ideal learner's MSE on the held-out batch a run of ``config`` evaluates every ``eval_every`` steps
    (that batch depends on the family, held-out functions, sizes and seed only: computed once for each)."""
    return _floor_of(config.family, tuple(config.held_out), config.eval_sequences, config.seq_len, config.seed)


@cache
def _floor_of(family: str, held_out: tuple[int, ...], eval_sequences: int, seq_len: int, seed: int) -> float:
    config = TrainConfig(family=family, held_out=held_out, eval_sequences=eval_sequences, seq_len=seq_len, seed=seed)
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
        index = kept_index(history)
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


# ----------------------------------------------------------------------------- near copies, the rule
def near_copy_share(config: TrainConfig) -> float:
    """How much a training run of ``config`` shows a given held-out function through near copies among its tables.

    The expected number of table streams within :data:`~l2l_lib.experiments.diversity.JUDGE_DELTA` of the
    function's truth table in every pattern (tables ``~ Beta(a, a)``, ``a = table_beta``, or ``U[0, 1]``),
    over the Boolean streams of one training function in the same run: the ``share`` of
    :func:`l2l_lib.experiments.diversity.near_table_study`, from the same functions
    (:func:`~l2l_lib.experiments.diversity.table_counts`,
    :func:`~l2l_lib.experiments.diversity.near_table_probability`). A finite pool shows the same number of
    table streams in expectation. 0 without tables.

    Args:
        config: a Boolean configuration.
    """
    check(isinstance(config, TrainConfig) and config.family in BOOLEAN_FAMILIES, "config", "a Boolean TrainConfig",
          config)
    if not config.table_fraction:
        return 0.0
    tables, per_function = table_counts(config)
    return tables * near_table_probability(JUDGE_DELTA, 1.0 if config.table_beta is None else config.table_beta
                                           ) / per_function


def shows_held_out(config: TrainConfig) -> bool:
    """The diversity chapter's criterion, fixed before any result: training *shows* the held-out functions
    (blurred) when :func:`near_copy_share` is at least :data:`~l2l_lib.experiments.diversity.SHOWN_SHARE`."""
    return near_copy_share(config) >= SHOWN_SHARE


def rule_key(run: SearchRun) -> tuple[int, int, float, str]:
    """The sort key of :data:`RULE_TEXT` (smallest first): most seeds within :data:`SUCCESS_RATIO`, then most
    within :data:`LEARNER_RATIO`, then the lowest median ratio; the log's name settles a tie that is left."""
    return (-run.successes(SUCCESS_RATIO).successes, -run.successes(LEARNER_RATIO).successes,
            float(np.median(run.ratios)), run.name)


def _decided_by(first: SearchRun, second: SearchRun) -> str:
    """What separates ``first`` from ``second`` under the rule, in words with both numbers."""
    for ratio in (SUCCESS_RATIO, LEARNER_RATIO):
        a, b = first.successes(ratio).successes, second.successes(ratio).successes
        if a != b:
            return f"the count within {ratio:g}x decided: {a} against {b} for `{second.name}`"
    a, b = float(np.median(first.ratios)), float(np.median(second.ratios))
    if a != b:
        return f"the median decided: {a:.3g}x against {b:.3g}x for `{second.name}`"
    return f"every count and the median tie with `{second.name}`; the name decided"


@dataclass(frozen=True)
class SearchDecision:
    """The rule applied to one family's search logs.

    Attributes:
        family: the Boolean family.
        ranked: the family's logs in the rule's order (:func:`rule_key`), the rule's pick first.
        eligible: the same, restricted to the logs whose tables show no held-out function (:func:`shows_held_out`).
    """

    family: str
    ranked: tuple[SearchRun, ...]
    eligible: tuple[SearchRun, ...]

    @property
    def pick(self) -> SearchRun:
        """The rule's pick among every log."""
        return self.ranked[0]

    @property
    def eligible_pick(self) -> SearchRun | None:
        """The rule's pick among the logs that show no held-out function (None: every log shows some)."""
        return self.eligible[0] if self.eligible else None

    def rank(self, run: SearchRun) -> int:
        """``run``'s place in the rule's order among every log (1: the pick)."""
        return 1 + [r.name for r in self.ranked].index(run.name)

    def eligible_rank(self, run: SearchRun) -> int | None:
        """``run``'s place among the logs that show no held-out function (None: it shows some)."""
        names = [r.name for r in self.eligible]
        return 1 + names.index(run.name) if run.name in names else None


def search_decision(runs: Sequence[SearchRun], family: str) -> SearchDecision:
    """Rank ``family``'s logs by the rule, among all of them and among those that show no held-out function.

    Raises:
        ValueError: when no log is of ``family``.
    """
    mine = sorted((r for r in runs if r.config.family == family), key=rule_key)
    check(bool(mine), "runs", f"search logs of {family!r}", sorted({r.config.family for r in runs}))
    return SearchDecision(family=family, ranked=tuple(mine), eligible=tuple(r for r in mine if not r.shows_held_out))


def _near_text(run: SearchRun) -> str:
    return f"{100 * run.near_share:.3g} % ({'shows' if run.shows_held_out else 'does not show'})"


def search_table(runs: Sequence[SearchRun]) -> str:
    """One row per search log: the variant, the search triple, seeds, per-seed ratios, median, counts, whether its
    tables show held-out functions, its rank by the rule, and the book's recipe it is.

    Ratios are each seed's kept held-out MSE (on its search triple) over the ideal learner's on the same
    batch; counts carry 95% Clopper-Pearson intervals. The near-copy column is :func:`near_copy_share` (in %
    of one training function's streams) and the verdict of :func:`shows_held_out`; the rank is by
    :func:`rule_key` among the family's logs, every one of them.
    """
    check(len(runs) > 0, "runs", "a non-empty sequence of SearchRun", runs)
    decisions = {f: search_decision(runs, f) for f in dict.fromkeys(r.config.family for r in runs)}
    headers = ["log", "variant", "held out", "seeds", "ratio to the ideal learner, per seed (kept weights)", "median",
               f"≤ {SUCCESS_RATIO:g}x", f"≤ {LEARNER_RATIO:g}x",
               f"near copies of a held-out function (within {JUDGE_DELTA:g}; % of a training function)",
               "rank by the rule", "book recipe"]
    rows = [[f"`{r.name}`", r.what(), f"{r.config.family} {triple_text(r.config.held_out)}",
             f"{min(r.seeds)}–{max(r.seeds)}", ratio_list(r.ratios), f"{np.median(r.ratios):.3g}x",
             r.successes(SUCCESS_RATIO).text(), r.successes(LEARNER_RATIO).text(), _near_text(r),
             decisions[r.config.family].rank(r), f"`{r.book_recipe}`" if r.book_recipe else "–"] for r in runs]
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


def _same_ingredients(name: str) -> str | None:
    """An evaluated recipe of another family with every field of ``name``'s but family, triple and length."""
    config = RECIPES[name].config
    for other, book in RECIPES.items():
        if book.held_out_sets and book.config.family != config.family and not _differing_fields(
                book.config, config, ignore=("seed", *_SPLIT_FIELDS)):
            return other
    return None


def _showing_text(run: SearchRun) -> str:
    return (f"near copies within {JUDGE_DELTA:g} of each held-out function make up {100 * run.near_share:.3g} % of "
            f"one training function's streams, at or above the {100 * SHOWN_SHARE:g} % of the criterion fixed in "
            "advance")


def search_choice(runs: Sequence[SearchRun], name: str) -> str:
    """Sentences, computed: what the rule (:data:`RULE_TEXT`) picks among ``name``'s family's logs, what it
    picks among those whose tables show no held-out function, and where the log that is recipe ``name``
    stands, saying why when it is not the rule's pick. For a family without logs: whose ingredients
    ``name`` takes, if any recipe of another family has them.
    """
    check(name in RECIPES, "name", "a recipe name", name)
    family = RECIPES[name].config.family
    if not any(r.config.family == family for r in runs):
        other = _same_ingredients(name)
        return (f"No {family} search was run" + (
            f": `{name}` takes the ingredients of `{other}` (every field is the same but the family, the held-out "
            "triple and the sequence length)." if other else f", and `{name}` has no other recipe's ingredients."))
    decision = search_decision(runs, family)
    pick, eligible = decision.pick, decision.eligible_pick
    head = f"By the rule, the {family} search picks `{pick.name}` ({pick.counts_text()}"
    head += f"; {_decided_by(pick, decision.ranked[1])})" if len(decision.ranked) > 1 else ")"
    chosen = [r for r in decision.ranked if r.book_recipe == name]
    if pick.shows_held_out:
        head += f". Its tables show blurred held-out functions: {_showing_text(pick)}."
        if eligible is None:
            head += " The tables of every variant show held-out functions."
        else:
            n = len(decision.eligible)
            head += (f" Among the {n} variant{'s' if n != 1 else ''} whose tables show none, the rule picks "
                     f"`{eligible.name}` ({eligible.counts_text()}"
                     + (f"; {_decided_by(eligible, decision.eligible[1])})." if n > 1 else ")."))
    else:
        head += "."
    if not chosen:
        return head + f" None of the {len(decision.ranked)} {family} logs ran `{name}` exactly."
    run = chosen[0]
    if run is pick:
        return head + f" `{pick.name}` is `{name}`" + (
            ", whose held-out error is therefore not a clean measure of learning functions never seen."
            if pick.shows_held_out else ".")
    if run is eligible:
        return head + (f" That variant is `{name}`: a network trained on near copies of its "
                       "held-out functions has seen them, blurred, so the book does not make the rule's overall pick "
                       "its recipe."
                       + (f" `{pick.name}` is evaluated beside it as `{pick.book_recipe}`."
                          if pick.book_recipe else ""))
    where = decision.eligible_rank(run)
    return head + (f" `{name}` is `{run.name}` ({run.counts_text()}), rank {decision.rank(run)} of "
                   f"{len(decision.ranked)} by the rule" + (f" and {where} among those that show no held-out function"
                                                             if where else ", and its tables show held-out functions")
                   + ": the frozen recipe is not what the rule picks.")


@dataclass(frozen=True)
class ShowingNote:
    """Whether the training of the book's recipe and of a variant shows held-out functions (:func:`shows_held_out`).

    Attributes:
        book, variant: recipe names (e.g. ``"boolean16"`` and ``"boolean16_near_binary"``).
        book_config, variant_config: their configurations (with the chapter's overrides).
    """

    book: str
    variant: str
    book_config: TrainConfig
    variant_config: TrainConfig

    @property
    def book_share(self) -> float:
        """:func:`near_copy_share` of the book's recipe."""
        return near_copy_share(self.book_config)

    @property
    def variant_share(self) -> float:
        """:func:`near_copy_share` of the variant."""
        return near_copy_share(self.variant_config)

    def book_sentence(self) -> str:
        """A sentence, chosen by the criterion: whether the book's recipe's tables show held-out functions."""
        share = f"{100 * self.book_share:.3g} %"
        if shows_held_out(self.book_config):
            return (f"In the training of `{self.book}`, near copies within {JUDGE_DELTA:g} of a held-out function make "
                    f"up {share} of one training function's streams, at or above the {100 * SHOWN_SHARE:g} % at "
                    "which the criterion counts them as showing it: its training shows held-out functions, blurred.")
        return (f"In the training of `{self.book}`, near copies within {JUDGE_DELTA:g} of a held-out function make up "
                f"{share} of one training function's streams, below the {100 * SHOWN_SHARE:g} % at which the "
                "criterion counts them as showing it.")

    def standing(self) -> str:
        """Sentences, chosen by the criterion: what the variant's held-out scores can stand for beside the book's."""
        b, v = (f"{100 * x:.3g} %" for x in (self.book_share, self.variant_share))
        book_shows, variant_shows = shows_held_out(self.book_config), shows_held_out(self.variant_config)
        if variant_shows and not book_shows:
            return (f"By that criterion the training of `{self.variant}` shows blurred held-out functions: its near "
                    f"copies of each make up {v} of one training function's streams, against {b} for `{self.book}`. "
                    "A network trained so has met near copies of the functions it is then tested on, so its held-out "
                    "error is not a clean measure of learning functions never seen. That is why it is not the book's "
                    f"recipe; it is trained on the same triples and seeds as `{self.book}` and reported beside it, "
                    "as a paired comparison.")
        if not variant_shows and not book_shows:
            return (f"By that criterion neither `{self.variant}` ({v}) nor `{self.book}` ({b}) shows held-out "
                    f"functions; `{self.variant}` is reported beside `{self.book}` as a paired comparison.")
        return (f"By that criterion the training of `{self.book}` itself shows blurred held-out functions ({b}; "
                f"`{self.variant}`: {v}), so neither recipe's held-out error is a clean measure of learning "
                "functions never seen.")

    def caveat(self) -> str:
        """A sentence for the paired comparison when only the variant shows held-out functions, else ``""``."""
        if shows_held_out(self.variant_config) and not shows_held_out(self.book_config):
            return (f"Read this pair with the caveat above: the training of `{self.variant}` showed blurred copies "
                    "of the held-out functions, so a lower held-out error there is not evidence of a better learner.")
        return ""


def showing_note(book: str, variant: str, overrides: Mapping[str, Any] | None = None) -> ShowingNote:
    """:class:`ShowingNote` of recipes ``book`` and ``variant`` (Boolean, with tables or not), with ``overrides``.

    Raises:
        ValueError: for an unknown recipe or override, or a recipe that is not Boolean.
    """
    configs = [recipe(name, **dict(overrides or {})) for name in (book, variant)]
    for name, config in zip((book, variant), configs):
        check(config.family in BOOLEAN_FAMILIES, f"recipe {name!r}", "a Boolean recipe", config.family)
    return ShowingNote(book=book, variant=variant, book_config=configs[0], variant_config=configs[1])


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
