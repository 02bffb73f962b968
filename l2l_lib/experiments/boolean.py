"""The Boolean chapter's study: held-out functions, two recipes, every seed, against reference learners.

Hochreiter, Younger & Conwell (2001), Sec. 3 meta-train a 6-unit LSTM on streams of examples of the Boolean
functions of two inputs. As the student report did, three functions are held out of training and the
trained networks are scored on fresh streams of those three only: a *learner* does well on them, a
*recogniser* of its training functions does not. Read top to bottom:

* :func:`boolean_references`: the test streams of a split and the reference learners' scores on them
  (the ideal learner and the constant guess of :mod:`l2l_lib.reference_learners`, and a Bayes learner
  that bets on the training functions);
* :func:`evaluate_recipe`: a named recipe's seeds, trained (or loaded) and scored on those streams;
* :func:`pattern_count_study`, :func:`trace_batch`, :func:`out_of_family`: how the learners learn;
* :func:`reference_levels`, :func:`side_by_side_table`: what the chapter's figure and table compare.

Functions are numbered as in :func:`l2l_lib.tasks.truth_table`: function ``k`` answers bit ``2*x1 + x2`` of
``k`` (6 is XOR, 9 XNOR, 0 the constant 0).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch

from ..baselines import bayes_boolean_predictions, ideal_predictions
from ..config import TrainConfig
from ..evaluate import (Evaluation, SeedSummary, error_by_pattern_count, evaluate_predictions, evaluation_batch,
                        predict, summarise_seeds)
from ..recipes import recipe
from ..reference import published
from ..reference_learners import CONSTANT, IDEAL, reference_learners
from ..tables import markdown_table
from ..tasks import BOOLEAN_FAMILIES, Batch, family_functions
from ..train import TrainResult
from ..validation import check, check_choice, check_int
from .common import evaluate_runs, train_recipe

#: A seed *succeeds* when its held-out MSE is at most this many times the ideal learner's.
SUCCESS_RATIO = 1.1
#: A seed within this many times the ideal learner's held-out MSE is counted as a learner: learners sit
#: within a few times the floor, recognisers of their training functions far above it.
LEARNER_RATIO = 3.0
#: Weight of a held-out function in the recogniser's prior (the training functions weigh 1 each).
RECOGNISER_HELD_OUT_WEIGHT = 1e-6
# Which evaluation streams (l2l_lib.evaluate.evaluation_batch's seed): the test streams, and the one
# stream drawn for the trace figure.
TEST_STREAMS = 1
TRACE_STREAM = 2


def _check_boolean(config: TrainConfig) -> TrainConfig:
    check(isinstance(config, TrainConfig), "config", "a TrainConfig", config)
    check_choice("config.family", config.family, BOOLEAN_FAMILIES)
    check(bool(config.held_out), "config.held_out", "a non-empty tuple of held-out function ids", config.held_out)
    return config


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
    def target(self) -> float:
        """The success threshold: :data:`SUCCESS_RATIO` times the ideal learner's held-out MSE."""
        return SUCCESS_RATIO * self.ideal.mse


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


def _mses(evaluations: Sequence[Evaluation]) -> np.ndarray:
    return np.array([e.mse for e in evaluations])


def _mean_accuracy(evaluations: Sequence[Evaluation]) -> float:
    """Accuracy (answers thresholded at 0.5), mean over the evaluations (e.g. seeds)."""
    return float(np.mean([e.accuracy for e in evaluations]))


@dataclass(frozen=True)
class RecipeStudy:
    """A named recipe's trained seeds, each scored on the test streams of :class:`BooleanReferences`.

    Attributes:
        name: the recipe (:data:`l2l_lib.recipes.RECIPES`).
        runs: one trained network per seed, in seed order.
        held_out, train: per seed, its :class:`~l2l_lib.evaluate.Evaluation` on the held-out, resp.
            training, test streams.
        summary: held-out MSEs against the success threshold (:attr:`BooleanReferences.target`).
        floor, floor_train: the ideal learner's MSE on the held-out, resp. training, streams.
    """

    name: str
    runs: tuple[TrainResult, ...]
    held_out: tuple[Evaluation, ...]
    train: tuple[Evaluation, ...]
    summary: SeedSummary
    floor: float
    floor_train: float

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(run.config.seed for run in self.runs)

    @property
    def held_out_mse(self) -> np.ndarray:
        """``[n_seeds]`` held-out MSE per seed."""
        return np.array(self.summary.values)

    @property
    def train_mse(self) -> np.ndarray:
        """``[n_seeds]`` MSE per seed on the training functions' test streams."""
        return _mses(self.train)

    @property
    def accuracy(self) -> float:
        """Held-out accuracy (answers thresholded at 0.5), mean over seeds."""
        return _mean_accuracy(self.held_out)

    @property
    def train_accuracy(self) -> float:
        return _mean_accuracy(self.train)

    @property
    def learners(self) -> np.ndarray:
        """``[n_seeds]`` bool: held-out MSE within :data:`LEARNER_RATIO` times the floor."""
        return self.held_out_mse <= LEARNER_RATIO * self.floor

    @property
    def recognisers(self) -> np.ndarray:
        """``[n_seeds]`` bool: within :data:`LEARNER_RATIO` times the floor on training functions, but
        not on held-out ones: a network that tells its training functions apart instead of learning."""
        return (self.train_mse <= LEARNER_RATIO * self.floor_train) & ~self.learners

    @property
    def best_index(self) -> int:
        """Index (into :attr:`runs`) of the seed with the lowest held-out MSE."""
        return int(np.argmin(self.held_out_mse))

    @property
    def minutes(self) -> float:
        """Training time of all seeds, in minutes (0 for networks loaded from the cache)."""
        return sum(run.wall_time for run in self.runs) / 60


def _split(config: TrainConfig) -> tuple[str, tuple[int, ...], int]:
    return config.family, tuple(config.held_out), config.seq_len


def evaluate_recipe(name: str, references: BooleanReferences, *, n_seeds: int | None = None,
                    first_seed: int | None = None, overrides: Mapping[str, Any] | None = None) -> RecipeStudy:
    """Train (or load) a named recipe's seeds and score each on ``references``' test streams.

    Args:
        name: a Boolean recipe of :data:`l2l_lib.recipes.RECIPES` with the same split as ``references``.
        references: from :func:`boolean_references`.
        n_seeds, first_seed: which seeds (None: the recipe's own, seeds 100-107 for the Boolean recipes).
        overrides: TrainConfig fields to change (e.g. ``{"n_steps": 10_000}``).

    Raises:
        ValueError: when the recipe's family, held-out functions or sequence length differ from the
            references' (its scores would not be comparable).
    """
    split = _split(recipe(name, **dict(overrides or {})))
    check(split == _split(references.config), f"recipe {name!r}'s (family, held_out, seq_len)",
          f"the references' {_split(references.config)}", split)
    runs = train_recipe(name, n_seeds=n_seeds, first_seed=first_seed, overrides=overrides)
    held_out = evaluate_runs(runs, references.test)
    return RecipeStudy(name=name, runs=tuple(runs), held_out=tuple(held_out),
                       train=tuple(evaluate_runs(runs, references.test_train)),
                       summary=summarise_seeds(_mses(held_out), references.target),
                       floor=references.ideal.mse, floor_train=references.ideal_train.mse)


def value_list(values: Sequence[float], digits: int = 4) -> str:
    """``values`` as prose: ``"0.0041, 0.0390"`` (``digits`` decimals), or ``"none"`` when empty."""
    return ", ".join(f"{v:.{digits}f}" for v in values) or "none"


# ----------------------------------------------------------------------------- how the learner learns
@dataclass(frozen=True)
class PatternCounts:
    """Held-out error and accuracy by how often the current input pattern was seen before.

    Attributes:
        mse, accuracy: ``[n_seeds, max_count + 1]`` per seed, for counts 0..max_count (the last entry pools
            every count ``>= max_count``; :func:`l2l_lib.evaluate.error_by_pattern_count`).
        ideal_mse, ideal_accuracy: ``[max_count + 1]``, the ideal learner's.
        learners: ``[n_seeds]`` bool, :attr:`RecipeStudy.learners`.
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


def pattern_count_study(study: RecipeStudy, references: BooleanReferences, max_count: int = 6) -> PatternCounts:
    """Error and accuracy on the held-out streams by pattern count, every seed of ``study`` and the ideal learner.

    Args:
        study: from :func:`evaluate_recipe` on ``references``.
        references: from :func:`boolean_references`.
        max_count: the largest count shown on its own (larger ones are pooled with it).
    """
    max_count = check_int("max_count", max_count)
    test = references.test
    per_seed = [error_by_pattern_count(test, predict(run.model, test), max_count) for run in study.runs]
    ideal_mse, ideal_accuracy = error_by_pattern_count(test, ideal_predictions(test), max_count)
    return PatternCounts(mse=np.array([m for m, _ in per_seed]), accuracy=np.array([a for _, a in per_seed]),
                         ideal_mse=ideal_mse, ideal_accuracy=ideal_accuracy, learners=study.learners)


def trace_batch(references: BooleanReferences, function: int = 6) -> Batch:
    """One fresh test stream of a held-out function: ``function`` (XOR) if it is held out, else the first."""
    held_out = tuple(references.config.held_out)
    chosen = function if function in held_out else held_out[0]
    return evaluation_batch(references.config.family, functions=(chosen,), n_sequences=1,
                            seq_len=references.config.seq_len, seed=TRACE_STREAM)


@dataclass(frozen=True)
class OutOfFamily:
    """Networks trained on one Boolean family, shown functions outside it (e.g. a Boolean-14 network on XOR).

    Attributes:
        functions: the functions shown.
        lstm: per network, its :class:`~l2l_lib.evaluate.Evaluation` on their streams.
        bayes_family: the Bayes learner whose prior is the training family (misled by the functions).
        bayes_all: the Bayes learner over all sixteen functions (the floor).
    """

    functions: tuple[int, ...]
    lstm: tuple[Evaluation, ...]
    bayes_family: Evaluation
    bayes_all: Evaluation

    @property
    def lstm_mse(self) -> np.ndarray:
        return _mses(self.lstm)

    @property
    def lstm_accuracy(self) -> float:
        return _mean_accuracy(self.lstm)


def out_of_family(runs: Sequence[TrainResult], n_test_sequences: int, functions: tuple[int, ...] = (6, 9)
                  ) -> OutOfFamily:
    """Score networks of one Boolean recipe on streams of ``functions``, which their family lacks.

    The streams are Boolean-16 streams of the networks' sequence length; the paper could not ask this,
    since its Boolean-14 network was never shown XOR or XNOR.

    Args:
        runs: trained networks of one recipe (e.g. ``evaluate_recipe("boolean14", ...).runs``).
        n_test_sequences: test streams.
        functions: function ids in 0..15, none of them in the networks' family.
    """
    check(len(runs) > 0, "runs", "a non-empty list of TrainResult", runs)
    config = _check_boolean(runs[0].config)
    family = family_functions(config.family)
    check(bool(functions) and all(k in range(16) and k not in family for k in functions), "functions",
          f"function ids in 0..15 outside {config.family} {family}", functions)
    batch = evaluation_batch("boolean16", functions=tuple(functions), n_sequences=check_int(
        "n_test_sequences", n_test_sequences), seq_len=config.seq_len, seed=TEST_STREAMS)
    return OutOfFamily(functions=tuple(functions), lstm=tuple(evaluate_runs(runs, batch)),
                       bayes_family=_score(partial(bayes_boolean_predictions, functions=family), batch),
                       bayes_all=_score(ideal_predictions, batch))  # Boolean-16 streams: all sixteen


# ----------------------------------------------------------------------------- what the chapter compares
def reference_levels(references: BooleanReferences) -> dict[str, float]:
    """Label -> MSE level for :func:`l2l_lib.plots.plot_seed_scores`: the ideal learner, the success
    threshold, the recogniser, and the published held-out numbers (each under its own protocol)."""
    family = references.config.family
    report, paper = published("report", family), published("paper", family)
    return {"ideal learner": references.ideal.mse,
            f"{SUCCESS_RATIO:g} x ideal (success)": references.target,
            "recogniser (bets on training functions)": references.recogniser.mse,
            "report (held-out)": report.held_out_mse if report.held_out_mse is not None else report.mse,
            "paper (no split described)": paper.mse}


def _mean_sd(study: RecipeStudy) -> str:
    return f"{study.summary.mean:.4f} ± {study.summary.sd:.4f}"


def side_by_side_table(b16: tuple[BooleanReferences, RecipeStudy, RecipeStudy],
                       b14: tuple[BooleanReferences, RecipeStudy, RecipeStudy]) -> str:
    """The chapter's closing table: ours (both recipes) beside the paper, the report and the ideal learner.

    Args:
        b16, b14: ``(references, our recipe, the paper's recipe)`` for Boolean-16 and Boolean-14.

    Returns:
        a Markdown table (:func:`l2l_lib.tables.markdown_table`).
    """
    headers = ["", "ours, our recipe", "ours, paper's recipe (Boolean-only training, Adam)", "paper", "report",
               "ideal learner"]
    rows = []
    for name, (refs, ours, paper) in (("Boolean-16", b16), ("Boolean-14", b14)):
        report, paper_number = published("report", refs.config.family), published("paper", refs.config.family)
        report_mse = report.held_out_mse if report.held_out_mse is not None else report.mse
        rows += [
            [f"{name}, held-out MSE", _mean_sd(ours), _mean_sd(paper), f"{paper_number.mse} (no split described)",
             f"{report_mse}", refs.ideal.mse],
            [f"{name}, seeds within {SUCCESS_RATIO:g} × ideal", f"{ours.summary.n_success} of {ours.summary.n}",
             f"{paper.summary.n_success} of {paper.summary.n}", "", "", ""],
            [f"{name}, held-out accuracy", f"{100 * ours.accuracy:.1f} %", f"{100 * paper.accuracy:.1f} %", "",
             f"{100 * report.held_out_accuracy:.1f} %", ""],
        ]
    return markdown_table(headers, rows)
