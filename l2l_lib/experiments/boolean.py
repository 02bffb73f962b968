"""The Boolean chapter's study: held-out triples, every seed, paired recipes, against the ideal learner.

Hochreiter, Younger & Conwell (2001), Sec. 3 meta-train a 6-unit LSTM on streams of examples of the Boolean
functions of two inputs. As the student report did, three functions are held out of training and the
trained networks are scored on fresh streams of those three only: a *learner* does well on them, a
*recogniser* of its training functions does not. The held-out triples and the evaluation seeds are fixed
in :mod:`l2l_lib.protocol`. Read top to bottom:

* :func:`boolean_references`, :func:`family_references`: the test streams of a split and the reference
  learners' scores on them (the ideal learner, the constant guess, a Bayes learner that bets on the
  training functions);
* :func:`evaluate_recipe_sets`: a named recipe's networks on every triple and seed, scored on those
  streams, as ratios to the ideal learner (:class:`TripleResult`, :class:`RecipeResults`);
* :func:`triple_table`, :func:`target_verdict`: success counts with Clopper-Pearson intervals, the
  targets judged by the numbers;
* :func:`compare_recipes`, :func:`comparison_table`, :func:`comparison_sentence`: two recipes on the same
  initial weights (same triple and seed), sign and Wilcoxon tests (:mod:`l2l_lib.statistics`);
* :func:`position_curve`, :func:`pattern_count_study`, :func:`trace_batch`, :func:`out_of_family`: how the
  learners learn, with intervals over test sequences;
* :func:`side_by_side_table`: ours beside the paper's and the report's numbers, with each protocol.

The recipe search behind the book's recipe is read from its raw logs by
:mod:`l2l_lib.experiments.boolean_search`.

Functions are numbered as in :func:`l2l_lib.tasks.truth_table`: function ``k`` answers bit ``2*x1 + x2`` of
``k`` (6 is XOR, 9 XNOR, 0 the constant 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch

from ..baselines import bayes_boolean_predictions, ideal_predictions
from ..config import TrainConfig
from ..evaluate import Evaluation, error_by_pattern_count, evaluate_predictions, evaluation_batch, predict
from ..recipes import recipe
from ..reference import published
from ..reference_learners import CONSTANT, IDEAL, reference_learners
from ..statistics import PairedComparison, SuccessCount, paired_comparison, position_intervals, success_count
from ..tables import markdown_table
from ..tasks import BOOLEAN_FAMILIES, Batch, family_functions
from ..train import TrainResult
from ..validation import check, check_choice, check_int
from .common import evaluate_runs, held_out_sets, train_recipe_sets

#: A Boolean-16 seed *succeeds* when its held-out MSE is at most this many times the ideal learner's.
SUCCESS_RATIO = 1.1
#: The Boolean-14 target's ratio (its ideal learner exploits the missing XOR and XNOR, so it is harder).
B14_SUCCESS_RATIO = 1.2
#: A seed within this many times the ideal learner's held-out MSE is counted as a learner: learners sit
#: within a few times the floor, recognisers of their training functions far above it.
LEARNER_RATIO = 3.0
#: The targets ask for success in at least this share of the seeds on every triple (4 of 5).
TARGET_SHARE = 0.8
#: The least a Boolean-16 recipe must do on the paper's triple: every seed a learner, median within this.
FALLBACK_MEDIAN_RATIO = 1.5
#: Weight of a held-out function in the recogniser's prior (the training functions weigh 1 each).
RECOGNISER_HELD_OUT_WEIGHT = 1e-6
# Which evaluation streams (l2l_lib.evaluate.evaluation_batch's seed): the test streams, and the one
# stream drawn for the trace figure.
TEST_STREAMS = 1
TRACE_STREAM = 2
#: The rule, fixed before any result was seen, for the seed whose curves illustrate a recipe.
ILLUSTRATIVE_RULE = "the first evaluation seed on the paper's own held-out triple"


def _check_boolean(config: TrainConfig) -> TrainConfig:
    check(isinstance(config, TrainConfig), "config", "a TrainConfig", config)
    check_choice("config.family", config.family, BOOLEAN_FAMILIES)
    check(bool(config.held_out), "config.held_out", "a non-empty tuple of held-out function ids", config.held_out)
    return config


def triple_text(triple: Sequence[int]) -> str:
    """A held-out triple as prose and table text: ``"{0, 6, 9}"``."""
    return "{" + ", ".join(str(k) for k in triple) + "}"


def split_batches(config: TrainConfig, n_test_sequences: int) -> tuple[Batch, Batch]:
    """The test streams of ``config``'s split: ``(held-out functions, training functions)``.

    Both have ``n_test_sequences`` streams of ``config.seq_len`` steps from
    :func:`l2l_lib.evaluate.evaluation_batch` (a generator no training run draws from), so every learner
    scored on them sees the same streams.
    """
    _check_boolean(config)
    n_test_sequences = check_int("n_test_sequences", n_test_sequences)
    common = dict(n_sequences=n_test_sequences, seq_len=config.seq_len, seed=TEST_STREAMS)
    return (evaluation_batch(config.family, functions=tuple(config.held_out), **common),
            evaluation_batch(config.family, functions=config.train_functions, **common))


@dataclass(frozen=True)
class BooleanReferences:
    """The test streams of one split of a Boolean family and the reference learners' scores on them.

    Attributes:
        config: the recipe whose split (family, held-out functions, sequence length) this is.
        test, test_train: ``n_test_sequences`` streams of the held-out, resp. training, functions.
        ideal, ideal_train: the ideal learner (Bayes, uniform prior over the family) on them: the floor.
        constant: the constant guess 0.5 on the held-out streams.
        recogniser, recogniser_train: a Bayes learner that bets on the training functions (weight 1 each,
            the held-out ones :data:`RECOGNISER_HELD_OUT_WEIGHT`): what training rewards.
    """

    config: TrainConfig
    test: Batch
    test_train: Batch
    ideal: Evaluation
    ideal_train: Evaluation
    constant: Evaluation
    recogniser: Evaluation
    recogniser_train: Evaluation

    @property
    def held_out(self) -> tuple[int, ...]:
        return tuple(self.config.held_out)


def _score(learner: Callable[[Batch], torch.Tensor], batch: Batch) -> Evaluation:
    return evaluate_predictions(batch, learner(batch))


def boolean_references(config: TrainConfig, n_test_sequences: int) -> BooleanReferences:
    """Test streams and reference learners for ``config``'s split (paper Sec. 3; the report's split).

    Args:
        config: a Boolean recipe's configuration with held-out functions, e.g. ``recipe("boolean16")``.
        n_test_sequences: test streams per set (held-out and training functions).
    """
    test, test_train = split_batches(config, n_test_sequences)
    ideal, constant = reference_learners(config.family, names=(IDEAL, CONSTANT))
    functions = family_functions(config.family)
    prior = [1.0 if k in config.train_functions else RECOGNISER_HELD_OUT_WEIGHT for k in functions]
    recogniser = partial(bayes_boolean_predictions, functions=functions, prior=prior)
    return BooleanReferences(
        config=config, test=test, test_train=test_train, ideal=_score(ideal, test),
        ideal_train=_score(ideal, test_train), constant=_score(constant, test),
        recogniser=_score(recogniser, test), recogniser_train=_score(recogniser, test_train))


def family_references(name: str, n_test_sequences: int, *, n_sets: int | None = None,
                      overrides: Mapping[str, Any] | None = None) -> dict[tuple[int, ...], BooleanReferences]:
    """:func:`boolean_references` for each held-out triple of Boolean recipe ``name`` (its evaluation triples,
    :func:`l2l_lib.experiments.held_out_sets`), the first ``n_sets`` of them (None: all).

    Args:
        name: a Boolean recipe, e.g. ``"boolean16"``.
        n_test_sequences: test streams per triple.
        n_sets: how many of the recipe's triples, in its order (the paper's first).
        overrides: TrainConfig fields changed (the sequence length changes the streams).
    """
    _check_boolean(recipe(name, **dict(overrides or {})))
    return {triple: boolean_references(recipe(name, **{**dict(overrides or {}), "held_out": triple}),
                                       n_test_sequences)
            for triple in held_out_sets(name, n_sets)}


# ----------------------------------------------------------------------------- every triple, every seed
@dataclass(frozen=True)
class TripleResult:
    """One recipe's seeds on one held-out triple, each scored on the triple's test streams.

    Attributes:
        recipe: the recipe's name.
        held_out: the held-out triple.
        runs: one trained network per seed, in seed order.
        held_out_scores, train_scores: per seed, its :class:`~l2l_lib.evaluate.Evaluation` on the held-out,
            resp. training-function, test streams.
        floor, floor_train: the ideal learner's MSE on the same held-out, resp. training, streams.
    """

    recipe: str
    held_out: tuple[int, ...]
    runs: tuple[TrainResult, ...]
    held_out_scores: tuple[Evaluation, ...]
    train_scores: tuple[Evaluation, ...]
    floor: float
    floor_train: float

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(run.config.seed for run in self.runs)

    @property
    def mse(self) -> np.ndarray:
        """``[n_seeds]`` held-out MSE per seed."""
        return np.array([e.mse for e in self.held_out_scores])

    @property
    def ratios(self) -> np.ndarray:
        """``[n_seeds]`` held-out MSE over the ideal learner's on the same streams (1: the floor)."""
        return self.mse / self.floor

    @property
    def train_ratios(self) -> np.ndarray:
        """``[n_seeds]`` MSE on training-function streams over the ideal learner's there."""
        return np.array([e.mse for e in self.train_scores]) / self.floor_train

    @property
    def median_ratio(self) -> float:
        return float(np.median(self.ratios))

    @property
    def accuracy(self) -> np.ndarray:
        """``[n_seeds]`` held-out accuracy (answers thresholded at 0.5)."""
        return np.array([e.accuracy for e in self.held_out_scores])

    def successes(self, ratio: float) -> SuccessCount:
        """Seeds within ``ratio`` times the floor, with the 95% Clopper-Pearson interval of the rate."""
        return success_count(self.ratios, ratio)

    @property
    def learners(self) -> np.ndarray:
        """``[n_seeds]`` bool: held-out MSE within :data:`LEARNER_RATIO` times the floor."""
        return self.ratios <= LEARNER_RATIO

    @property
    def recognisers(self) -> np.ndarray:
        """``[n_seeds]`` bool: within :data:`LEARNER_RATIO` times the floor on training functions but not on
        held-out ones: a network that tells its training functions apart instead of learning."""
        return (self.train_ratios <= LEARNER_RATIO) & ~self.learners


@dataclass(frozen=True)
class RecipeResults:
    """A recipe on each of its held-out triples (:class:`TripleResult`), in the protocol's order."""

    recipe: str
    family: str
    triples: tuple[TripleResult, ...]

    def triple(self, held_out: Sequence[int]) -> TripleResult:
        """The result on one triple (ValueError if the recipe was not evaluated on it)."""
        found = {t.held_out: t for t in self.triples}
        check_choice("held_out", tuple(held_out), tuple(found))
        return found[tuple(held_out)]

    @property
    def first(self) -> TripleResult:
        """The paper's own triple (the protocol lists it first)."""
        return self.triples[0]

    def paired_ratios(self) -> dict[tuple[tuple[int, ...], int], float]:
        """``{(triple, seed): held-out ratio}``: the keys that pair networks with the same initial weights."""
        return {(t.held_out, seed): float(r) for t in self.triples for seed, r in zip(t.seeds, t.ratios)}

    @property
    def ratios(self) -> np.ndarray:
        """Every network's held-out ratio, triple by triple."""
        return np.concatenate([t.ratios for t in self.triples])

    @property
    def illustrative(self) -> TrainResult:
        """The network whose curves illustrate the recipe, by :data:`ILLUSTRATIVE_RULE` (never by score)."""
        return self.first.runs[0]


def _split(config: TrainConfig) -> tuple[str, int]:
    return config.family, config.seq_len


def evaluate_recipe_sets(name: str, references: Mapping[tuple[int, ...], BooleanReferences], *,
                         n_seeds: int | None = None, first_seed: int | None = None,
                         overrides: Mapping[str, Any] | None = None, progress: bool = True) -> RecipeResults:
    """Train (or load) recipe ``name`` on each triple of ``references`` and score every seed there.

    Networks come from :func:`l2l_lib.experiments.train_recipe_sets` (the first ``len(references)`` of the
    recipe's triples), so two recipes with the same seeds and triples start from the same initial weights.

    Args:
        name: a Boolean recipe of :data:`l2l_lib.recipes.RECIPES` with the references' family, sequence
            length and triples.
        references: from :func:`family_references`, one entry per triple, in the recipe's order.
        n_seeds, first_seed: which seeds (None: the recipe's own, the evaluation seeds 10000-10004).
        overrides: TrainConfig fields to change (e.g. ``{"n_steps": 10_000}``).
        progress: a progress bar while training.

    Raises:
        ValueError: when the recipe's family or sequence length, or its triples, differ from the
            references' (its scores would not be comparable).
    """
    check(len(references) > 0, "references", "a non-empty dict {triple: BooleanReferences}", references)
    first = next(iter(references.values()))
    split = _split(recipe(name, **dict(overrides or {})))
    check(split == _split(first.config), f"recipe {name!r}'s (family, seq_len)",
          f"the references' {_split(first.config)}", split)
    triples = held_out_sets(name, len(references))
    check(tuple(references) == triples, f"recipe {name!r}'s held-out triples", f"the references' {tuple(references)}",
          triples)
    trained = train_recipe_sets(name, n_sets=len(references), n_seeds=n_seeds, first_seed=first_seed,
                                overrides=overrides, progress=progress)
    results = []
    for triple, runs in trained.items():
        refs = references[triple]
        results.append(TripleResult(
            recipe=name, held_out=triple, runs=tuple(runs), held_out_scores=tuple(evaluate_runs(runs, refs.test)),
            train_scores=tuple(evaluate_runs(runs, refs.test_train)), floor=refs.ideal.mse,
            floor_train=refs.ideal_train.mse))
    return RecipeResults(recipe=name, family=first.config.family, triples=tuple(results))


def value_list(values: Sequence[float], digits: int = 4) -> str:
    """``values`` as prose: ``"0.0041, 0.0390"`` (``digits`` decimals), or ``"none"`` when empty."""
    return ", ".join(f"{v:.{digits}f}" for v in values) or "none"


def ratio_list(values: Sequence[float]) -> str:
    """Ratios to the floor as prose: ``"1.05x, 12.3x"`` (three significant digits)."""
    return ", ".join(f"{v:.3g}x" for v in values) or "none"


# ----------------------------------------------------------------------------- counts and targets
def success_ratios(family: str) -> tuple[float, ...]:
    """The ratios a family's seeds are counted against: the target's, then :data:`LEARNER_RATIO`
    (Boolean-14 also at :data:`SUCCESS_RATIO`, to read beside Boolean-16)."""
    check_choice("family", family, BOOLEAN_FAMILIES)
    return (SUCCESS_RATIO, LEARNER_RATIO) if family == "boolean16" else (SUCCESS_RATIO, B14_SUCCESS_RATIO,
                                                                          LEARNER_RATIO)


def required_successes(n_seeds: int) -> int:
    """Seeds that must succeed out of ``n_seeds`` for a target (:data:`TARGET_SHARE`: 4 of 5)."""
    return math.ceil(TARGET_SHARE * check_int("n_seeds", n_seeds) - 1e-9)


def triple_table(results: Sequence[RecipeResults]) -> str:
    """Per triple and recipe: every seed's ratio, the median, and success counts with 95% intervals.

    Args:
        results: recipes of one family (:func:`evaluate_recipe_sets`), evaluated on the same triples.

    Returns:
        a Markdown table (:func:`l2l_lib.tables.markdown_table`), one row per (triple, recipe).
    """
    check(len(results) > 0 and len({r.family for r in results}) == 1, "results",
          "a non-empty sequence of RecipeResults of one family", [r.recipe for r in results])
    ratios = success_ratios(results[0].family)
    headers = ["held out", "recipe", "ratio to the ideal learner, per seed", "median"] + [
        f"≤ {r:g}x (95% CI)" for r in ratios]
    rows = []
    for index in range(len(results[0].triples)):
        for result in results:
            t = result.triples[index]
            rows.append([triple_text(t.held_out), f"`{result.recipe}`", ratio_list(t.ratios), f"{t.median_ratio:.3g}x",
                         *(t.successes(r).text() for r in ratios)])
    return markdown_table(headers, rows)


def target_verdict(result: RecipeResults) -> str:
    """The chapter's target for ``result``'s family, stated and judged by the numbers, as a sentence.

    Boolean-16: within :data:`SUCCESS_RATIO` of the ideal learner in at least 4 of 5 seeds on every triple;
    at the least, on the paper's triple, every seed a learner (within :data:`LEARNER_RATIO`) with a median
    within :data:`FALLBACK_MEDIAN_RATIO`. Boolean-14: within :data:`B14_SUCCESS_RATIO` in at least 4 of 5
    seeds on every triple. ("4 of 5" is :data:`TARGET_SHARE` of the seeds trained.)
    """
    ratio = SUCCESS_RATIO if result.family == "boolean16" else B14_SUCCESS_RATIO
    counts = [(t, t.successes(ratio)) for t in result.triples]
    need = [required_successes(c.trials) for _, c in counts]
    missed = [(t, c, n) for (t, c), n in zip(counts, need) if c.successes < n]
    every = "every triple" if len(counts) > 1 else "its triple"
    stated = (f"The target for `{result.recipe}`: at most {ratio:g} times the ideal learner's held-out error in "
              f"at least {need[0]} of {counts[0][1].trials} seeds on {every}.")
    if not missed:
        verdict = " It is met: " + "; ".join(f"{c.successes} of {c.trials} on {triple_text(t.held_out)}"
                                              for t, c in counts) + "."
    else:
        verdict = (f" It is missed on {len(missed)} of {len(counts)} triple{'s' if len(counts) != 1 else ''}: "
                   + "; ".join(f"{c.successes} of {c.trials} seeds on {triple_text(t.held_out)} "
                               f"(median {t.median_ratio:.3g}x)" for t, c, _ in missed) + ".")
    if result.family != "boolean16":
        return stated + verdict
    first = result.first
    n_learners, median = int(first.learners.sum()), first.median_ratio
    held = n_learners == len(first.seeds) and median <= FALLBACK_MEDIAN_RATIO
    fallback = (f" The least we asked for, every seed on {triple_text(first.held_out)} a learner (within "
                f"{LEARNER_RATIO:g}x) with a median within {FALLBACK_MEDIAN_RATIO:g}x, "
                f"{'holds' if held else 'does not hold'}: {n_learners} of {len(first.seeds)} seeds within "
                f"{LEARNER_RATIO:g}x, median {median:.3g}x.")
    return stated + verdict + fallback


# ----------------------------------------------------------------------------- paired comparisons
def compare_recipes(a: RecipeResults, b: RecipeResults) -> PairedComparison:
    """``a`` against ``b`` on the networks they share (same triple and seed: the same initial weights).

    The values compared are held-out ratios to the ideal learner (lower is better), so pairs on triples
    with different floors weigh alike. :func:`l2l_lib.statistics.paired_comparison` gives the counts, the
    median difference and the exact sign and Wilcoxon signed-rank tests.

    Raises:
        ValueError: when the two share no (triple, seed), or are of different families.
    """
    check(a.family == b.family, "b.family", f"a's family {a.family!r}", b.family)
    first, second = a.paired_ratios(), b.paired_ratios()
    keys = [key for key in first if key in second]
    check(bool(keys), "b", f"results sharing a (triple, seed) with {a.recipe!r}", sorted(second))
    return paired_comparison([first[k] for k in keys], [second[k] for k in keys], names=(a.recipe, b.recipe))


def comparison_table(comparisons: Sequence[PairedComparison]) -> str:
    """One row per paired comparison: pairs, which recipe was lower how often, median difference, p-values."""
    headers = ["recipe a", "recipe b", "pairs", "a lower", "b lower", "ties",
               "median of a − b (ratio)", "sign test p", "Wilcoxon p"]
    rows = [[f"`{c.names[0]}`", f"`{c.names[1]}`", c.n, c.a_better, c.b_better, c.ties, f"{c.median_difference:+.3g}",
             f"{c.sign_p:.2g}", f"{c.wilcoxon_p:.2g}"] for c in comparisons]
    return markdown_table(headers, rows)


#: A paired difference is called clear when both exact tests give p below this.
CLEAR_P = 0.05


def comparison_sentence(comparison: PairedComparison, what: str) -> str:
    """A sentence on one paired comparison, its conclusion chosen by the numbers.

    Args:
        comparison: from :func:`compare_recipes`.
        what: what recipe a adds to (or removes from) recipe b, e.g. ``"noise on the fed-back target"``.
    """
    a, b = comparison.names
    counts = (f"`{a}` had the lower held-out error in {comparison.a_better} of {comparison.n} pairs and "
              f"`{b}` in {comparison.b_better}" + (f" ({comparison.ties} tied)" if comparison.ties else "")
              + f" (sign test p = {comparison.sign_p:.2g}, Wilcoxon p = {comparison.wilcoxon_p:.2g})")
    clear = max(comparison.sign_p, comparison.wilcoxon_p) < CLEAR_P
    if clear:
        better = a if comparison.median_difference < 0 else b
        return f"{counts}: {what} makes a difference both tests call clear, in favour of `{better}`."
    if min(comparison.sign_p, comparison.wilcoxon_p) < CLEAR_P:
        return f"{counts}: only one of the two tests calls the effect of {what} clear, so we do not claim it."
    return f"{counts}: with {comparison.n} pairs, the effect of {what} is not distinguishable from chance."


# ----------------------------------------------------------------------------- how the learner learns
@dataclass(frozen=True)
class PositionCurve:
    """Error after ``k`` examples, ``k = 0..T-1``: the mean over test sequences and its 95% interval.

    Attributes:
        mean, low, high: ``[T]`` (:func:`l2l_lib.statistics.position_intervals`).
    """

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def band(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mean, low, high)`` for :func:`l2l_lib.plots.plot_error_intervals`."""
        return self.mean, self.low, self.high


def position_curve(learner: Any, batch: Batch) -> PositionCurve:
    """A learner's squared error at each position of ``batch``'s streams, with intervals over the streams.

    Args:
        learner: a trained network or a callable ``batch -> predictions [B, T, 1]``.
        batch: test streams, at least two.
    """
    squared = (predict(learner, batch)[..., 0].double() - batch.targets[..., 0].double()) ** 2  # [B, T]
    return PositionCurve(*position_intervals(squared.numpy()))


@dataclass(frozen=True)
class PatternCounts:
    """Held-out error and accuracy by how often the current input pattern was seen before.

    Attributes:
        mse, accuracy: ``[n_seeds, max_count + 1]`` per seed, for counts 0..max_count (the last entry pools
            every count ``>= max_count``; :func:`l2l_lib.evaluate.error_by_pattern_count`).
        ideal_mse, ideal_accuracy: ``[max_count + 1]``, the ideal learner's.
        learners: ``[n_seeds]`` bool, :attr:`TripleResult.learners`.
    """

    mse: np.ndarray
    accuracy: np.ndarray
    ideal_mse: np.ndarray
    ideal_accuracy: np.ndarray
    learners: np.ndarray

    def curves(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``(mse, accuracy)``: label -> curves, for :func:`l2l_lib.plots.plot_pattern_count`: the learner
        seeds, the other seeds (each group only when it has seeds), and the ideal learner."""
        groups = {f"LSTM seeds within {LEARNER_RATIO:g}x the floor": self.learners, "other LSTM seeds": ~self.learners}
        mse = {label: self.mse[mask] for label, mask in groups.items() if mask.any()}
        accuracy = {label: self.accuracy[mask] for label, mask in groups.items() if mask.any()}
        return {**mse, "ideal learner": self.ideal_mse}, {**accuracy, "ideal learner": self.ideal_accuracy}


def pattern_count_study(result: TripleResult, references: BooleanReferences, max_count: int = 6) -> PatternCounts:
    """Error and accuracy on the held-out streams by pattern count, every seed of ``result`` and the ideal learner.

    Args:
        result: one recipe on one triple (:attr:`RecipeResults.triples`).
        references: that triple's, from :func:`family_references`.
        max_count: the largest count shown on its own (larger ones are pooled with it).
    """
    max_count = check_int("max_count", max_count)
    check(result.held_out == references.held_out, "references.held_out", f"the result's {result.held_out}",
          references.held_out)
    test = references.test
    per_seed = [error_by_pattern_count(test, predict(run.model, test), max_count) for run in result.runs]
    ideal_mse, ideal_accuracy = error_by_pattern_count(test, ideal_predictions(test), max_count)
    return PatternCounts(mse=np.array([m for m, _ in per_seed]), accuracy=np.array([a for _, a in per_seed]),
                         ideal_mse=ideal_mse, ideal_accuracy=ideal_accuracy, learners=result.learners)


def trace_batch(references: BooleanReferences, function: int = 6) -> Batch:
    """One fresh test stream of a held-out function: ``function`` (XOR) if it is held out, else the first."""
    held_out = references.held_out
    chosen = function if function in held_out else held_out[0]
    return evaluation_batch(references.config.family, functions=(chosen,), n_sequences=1,
                            seq_len=references.config.seq_len, seed=TRACE_STREAM)


@dataclass(frozen=True)
class OutOfFamily:
    """Networks trained on one Boolean family, shown functions outside it (e.g. a Boolean-14 network on XOR).

    Attributes:
        family: the networks' training family.
        functions: the functions shown.
        batch: their test streams.
        lstm: per network, its :class:`~l2l_lib.evaluate.Evaluation` on them.
        bayes_family: the Bayes learner whose prior is the training family (misled by the functions).
        bayes_all: the Bayes learner over all sixteen functions (the floor).
    """

    family: str
    functions: tuple[int, ...]
    batch: Batch
    lstm: tuple[Evaluation, ...]
    bayes_family: Evaluation
    bayes_all: Evaluation

    @property
    def lstm_mse(self) -> np.ndarray:
        return np.array([e.mse for e in self.lstm])

    @property
    def below_family_bayes(self) -> int:
        """Networks with a lower MSE than the Bayes learner of their own family's prior."""
        return int((self.lstm_mse < self.bayes_family.mse).sum())

    def curves(self, illustrative: TrainResult, label: str) -> dict[str, PositionCurve]:
        """Error-vs-k curves with intervals over the streams: the ``illustrative`` network (labelled
        ``label``), the Bayes learner of the training family's prior, and the Bayes learner over all sixteen."""
        family_bayes = partial(bayes_boolean_predictions, functions=family_functions(self.family))
        return {label: position_curve(illustrative.model, self.batch),
                f"Bayes, {self.family} prior": position_curve(family_bayes, self.batch),
                "Bayes, boolean16 prior (floor)": position_curve(ideal_predictions, self.batch)}


def out_of_family(runs: Sequence[TrainResult], n_test_sequences: int, functions: tuple[int, ...] = (6, 9)
                  ) -> OutOfFamily:
    """Score networks of one Boolean family on streams of ``functions``, which their family lacks.

    The streams are Boolean-16 streams of the networks' sequence length; the paper could not ask this,
    since its Boolean-14 network was never shown XOR or XNOR.

    Args:
        runs: trained networks of one family and sequence length (e.g. every Boolean-14 network of the chapter).
        n_test_sequences: test streams.
        functions: function ids in 0..15, none of them in the networks' family.
    """
    check(len(runs) > 0, "runs", "a non-empty list of TrainResult", runs)
    config = _check_boolean(runs[0].config)
    check(all((r.config.family, r.config.seq_len) == (config.family, config.seq_len) for r in runs), "runs",
          f"networks of one family and sequence length ({config.family}, {config.seq_len})",
          sorted({(r.config.family, r.config.seq_len) for r in runs}))
    family = family_functions(config.family)
    check(bool(functions) and all(k in range(16) and k not in family for k in functions), "functions",
          f"function ids in 0..15 outside {config.family} {family}", functions)
    batch = evaluation_batch("boolean16", functions=tuple(functions), n_sequences=check_int(
        "n_test_sequences", n_test_sequences), seq_len=config.seq_len, seed=TEST_STREAMS)
    return OutOfFamily(family=config.family, functions=tuple(functions), batch=batch,
                       lstm=tuple(evaluate_runs(runs, batch)),
                       bayes_family=_score(partial(bayes_boolean_predictions, functions=family), batch),
                       bayes_all=_score(ideal_predictions, batch))  # Boolean-16 streams: all sixteen


# ----------------------------------------------------------------------------- beside the published numbers
def _protocol(result: TripleResult) -> str:
    config = result.runs[0].config
    shape = "" if config.table_beta is None else f" Beta({config.table_beta:g}, {config.table_beta:g})"
    training = f"{config.table_fraction:.0%} random{shape} tables" if config.table_fraction else "Boolean functions only"
    noise = f", noise {config.target_noise:g} on the fed-back target" if config.target_noise else ""
    decay = ", step decayed to 0, clipping, best weights by validation" if config.keep_best else ", constant step"
    return (f"6-unit LSTM with forget gate, {training}{noise}, Adam{decay}; T = {config.seq_len}, "
            f"{config.n_steps:,} steps, batches of {config.batch_size}")


def side_by_side_table(rows: Sequence[tuple[str, TripleResult, BooleanReferences]]) -> str:
    """Ours beside the paper and the report, each with its protocol (held-out set, network, training).

    Args:
        rows: ``(family label, our result on the paper's triple, that triple's references)`` for each recipe
            shown. Each family gets the paper's and the report's rows, then ours, then the ideal learner on
            our test streams.

    Returns:
        a Markdown table: who, held-out functions, held-out MSE, accuracy, seeds, protocol.
    """
    check(len(rows) > 0, "rows", "a non-empty sequence of (label, TripleResult, BooleanReferences)", rows)
    headers = ["", "held-out functions", "held-out MSE", "accuracy", "networks", "protocol"]
    out = []
    for family in dict.fromkeys(refs.config.family for _, _, refs in rows):
        mine = [(label, result, refs) for label, result, refs in rows if refs.config.family == family]
        label, refs = mine[0][0], mine[0][2]
        paper, report = published("paper", family), published("report", family)
        report_mse = report.held_out_mse if report.held_out_mse is not None else report.mse
        out.append([f"{label}: paper", "none described", paper.mse, "–", "1",
                    f"{paper.hidden}, plain gradient descent, T = {paper.seq_len}"])
        out.append([f"{label}: report", "3, not named in the report" if family == "boolean16"
                    else "3, not named", report_mse,
                    f"{100 * report.held_out_accuracy:.1f} %" if report.held_out_accuracy else "–", "1",
                    f"{report.hidden}, Adam, T = {report.seq_len}"])
        for label, result, _ in mine:
            mse = result.mse
            out.append([f"{label}: ours, `{result.recipe}`", triple_text(result.held_out),
                        f"{np.median(mse):.4f} (median; {mse.min():.4f}–{mse.max():.4f})",
                        f"{100 * np.median(result.accuracy):.1f} % (median)",
                        f"{len(mse)} seeds ({result.seeds[0]}–{result.seeds[-1]})", _protocol(result)])
        out.append([f"{label}: ideal learner", triple_text(refs.held_out), refs.ideal.mse,
                    f"{100 * refs.ideal.accuracy:.1f} %", "–",
                    f"Bayes, uniform over the {len(family_functions(family))} functions; our test streams"])
    return markdown_table(headers, out)
