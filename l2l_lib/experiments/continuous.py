"""The continuous families' studies (semi-linear and quadratic chapters): networks against reference learners.

Hochreiter, Younger & Conwell (2001), Sec. 3, train an LSTM on semi-linear and on quadratic functions and
report its MSE on new ones. The chapters measure more: every seed's MSE on the same fresh test streams,
the reference learners of :mod:`l2l_lib.reference_learners` on those streams, how many examples each
learner needs, what a trained network holds after ``k`` examples (the learnt surfaces), and the
reconstructed 2001 network's early learning. Each function returns a frozen dataclass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn

from ..evaluate import (Evaluation, SeedSummary, evaluate_predictions, evaluation_batch, examples_to_criterion,
                        learnt_function, predict, summarise_seeds)
from ..paper_net import PAPER_WEIGHTS, READINGS, count_weights, reading_grid
from ..reference_learners import CONSTANT, IDEAL, ONLINE_GD, ReferenceLearner, reference_learners
from ..tables import markdown_table
from ..tasks import CONTINUOUS_FAMILIES, DEFAULT_QUADRATIC_MAP, Batch
from ..train import TrainResult
from ..validation import check, check_choice, check_int
from .common import evaluate_runs

#: The reference learners the continuous chapters compare with (the learners chapter adds more).
CHAPTER_REFERENCES: tuple[str, ...] = (IDEAL, ONLINE_GD, CONSTANT)
# "Learnt" means an error that stays at or below this fraction of the constant predictor's.
CRITERION_FRACTION = 0.1
# Which streams: the test streams (seed 1) are never used to tune a reference learner (seed 2).
TEST_SEED, TUNING_SEED, TRACE_SEED, SURFACE_SEED = 1, 2, 3, 4
# Gradient-descent step sizes are tuned on 64 sequences of at most 200 examples: enough to rank the
# candidate rates, at a fifth of the cost of the test sequences.
TUNING_SEQUENCES, TUNING_MAX_LEN = 64, 200


def examples_text(examples: int | None | Sequence[int | None]) -> str:
    """Examples-to-criterion as prose: the count, ``"never"`` for None, comma-separated for several."""
    if examples is None or isinstance(examples, (int, np.integer)):
        return "never" if examples is None else str(examples)
    return ", ".join(examples_text(k) for k in examples)


def tuned_references(family: str, *, seq_len: int, quadratic_map: str = DEFAULT_QUADRATIC_MAP,
                     names: Sequence[str] = CHAPTER_REFERENCES) -> list[ReferenceLearner]:
    """The reference learners of a continuous family, gradient descent tuned on streams of their own.

    Args:
        family: ``"semilinear"`` or ``"quadratic"``.
        seq_len: the test sequences' length; the tuning sequences are at most 200 examples long.
        quadratic_map: the output map of the tuning streams (quadratic family).
        names: which learners (:data:`l2l_lib.reference_learners.REFERENCE_NAMES`).
    """
    check_choice("family", family, CONTINUOUS_FAMILIES)
    tuning_len = min(check_int("seq_len", seq_len), TUNING_MAX_LEN)
    tuning = evaluation_batch(family, n_sequences=TUNING_SEQUENCES, seq_len=tuning_len, seed=TUNING_SEED,
                              quadratic_map=quadratic_map)
    return reference_learners(family, tuning=tuning, names=names)


@dataclass(frozen=True)
class Comparison:
    """Trained networks (one per seed) and reference learners, all scored on the same test streams.

    Attributes:
        lstm: one :class:`~l2l_lib.evaluate.Evaluation` per network, in seed order.
        references: reference learner name -> its Evaluation.
        summary: the networks' MSEs against the target (mean, sd, how many reach it).
        constant_mse: the constant predictor's MSE on these streams (what "normalised" divides by).
        criterion: ``CRITERION_FRACTION * constant_mse``, the error at which a function counts as learnt.
        lstm_examples: per network, examples until its mean error stays at or below ``criterion``
            (:func:`~l2l_lib.evaluate.examples_to_criterion`; None: never within the sequence).
        reference_examples: the same per reference learner.
        learners: reference learner name -> the learner (its tuned step size, for the gradient learners).
    """

    lstm: tuple[Evaluation, ...]
    references: Mapping[str, Evaluation]
    summary: SeedSummary
    constant_mse: float
    criterion: float
    lstm_examples: tuple[int | None, ...]
    reference_examples: Mapping[str, int | None]
    learners: Mapping[str, ReferenceLearner]

    @property
    def normalised_mse(self) -> float:
        """The networks' mean MSE divided by the constant predictor's (mean over seeds of the ratio)."""
        return float(np.mean([e.normalised_mse for e in self.lstm]))

    def mse_by_position(self) -> dict[str, np.ndarray]:
        """Learner -> error after k examples: ``"LSTM"`` ``[n_seeds, T]``, each reference ``[T]``."""
        return {"LSTM": np.array([e.mse_by_position for e in self.lstm]),
                **{name: e.mse_by_position for name, e in self.references.items()}}

    def late_mse(self, start: int) -> float:
        """The networks' mean error after ``start`` or more examples (mean over seeds and positions)."""
        curve = np.mean([e.mse_by_position for e in self.lstm], axis=0)
        return float(curve[min(check_int("start", start, minimum=0), curve.size - 1):].mean())

    def beats_lstm(self, name: str) -> bool:
        """Whether reference learner ``name`` has a lower MSE than the networks' mean."""
        return self.references[name].mse < self.summary.mean


def compare(runs: Sequence[TrainResult], batch: Batch, references: Sequence[ReferenceLearner], *,
            target: float) -> Comparison:
    """Score every trained network and every reference learner on ``batch`` (see :class:`Comparison`).

    Args:
        runs: trained networks of one recipe (at least one).
        batch: the test streams, e.g. :func:`~l2l_lib.evaluate.evaluation_batch` with seed :data:`TEST_SEED`.
        references: learners from :func:`tuned_references`.
        target: the MSE a seed must reach to count as a success (:attr:`SeedSummary.n_success`).
    """
    check(len(runs) > 0, "runs", "at least one trained network", runs)
    lstm = tuple(evaluate_runs(runs, batch))
    scored = {r.name: evaluate_predictions(batch, predict(r, batch)) for r in references}
    constant_mse = lstm[0].constant_mse
    criterion = CRITERION_FRACTION * constant_mse
    return Comparison(
        lstm=lstm, references=scored, summary=summarise_seeds([e.mse for e in lstm], target),
        constant_mse=constant_mse, criterion=criterion,
        lstm_examples=tuple(examples_to_criterion(e.mse_by_position, criterion) for e in lstm),
        reference_examples={name: examples_to_criterion(e.mse_by_position, criterion) for name, e in scored.items()},
        learners={r.name: r for r in references})


@dataclass(frozen=True)
class LearntSurfaces:
    """What a network holds after ``k`` examples of one function, read out on a grid (quadratic chapter).

    Attributes:
        grid: ``[G]`` input values of both axes.
        true: ``[G, G]`` the stream's function (row: ``x2``, column: ``x1``).
        learnt: k -> ``[G, G]`` the network's prediction at every grid point after k examples.
        rms_error: k -> root mean squared difference between ``learnt[k]`` and ``true``.
        x1, x2: ``[T]`` the stream's inputs (its first k are the examples behind ``learnt[k]``).
    """

    grid: np.ndarray
    true: np.ndarray
    learnt: Mapping[int, np.ndarray]
    rms_error: Mapping[int, float]
    x1: np.ndarray
    x2: np.ndarray


def learnt_surfaces(model: nn.Module, stream: Batch, ks: Sequence[int], grid: np.ndarray, *,
                    quadratic_map: str = DEFAULT_QUADRATIC_MAP) -> LearntSurfaces:
    """The function ``model`` holds after each ``k`` in ``ks`` examples of the first stream of ``stream``.

    Args:
        model: a trained network.
        stream: continuous streams (the first is read); every ``k`` must be < ``stream.seq_len``.
        ks: numbers of examples, each >= 0.
        grid: ``[G]`` input values for both axes.
        quadratic_map: the output map the stream was made with.
    """
    read = {k: learnt_function(model, stream, k, grid, quadratic_map=quadratic_map) for k in ks}
    check(len(read) > 0, "ks", "at least one number of examples", ks)
    true = next(iter(read.values()))[1]
    return LearntSurfaces(grid=np.asarray(grid), true=true, learnt={k: v for k, (v, _) in read.items()},
                          rms_error={k: float(np.sqrt(np.mean((v - true) ** 2))) for k, (v, _) in read.items()},
                          x1=stream.x[0, :, 0].numpy(), x2=stream.x[0, :, 1].numpy())


@dataclass(frozen=True)
class Readings:
    """The wirings of the 2001 quadratic network searched for its published weight count (Sec. 3).

    Attributes:
        table: Markdown table of the named readings (name, weights, wiring).
        n_searched: how many wirings :func:`~l2l_lib.paper_net.reading_grid` counts.
        target: the published weight count, :data:`~l2l_lib.paper_net.PAPER_WEIGHTS`.
        n_exact: how many of the wirings give exactly ``target``.
        all_to_all: the weights of the densest wiring with gates shared within a block.
    """

    table: str
    n_searched: int
    target: int
    n_exact: int
    all_to_all: int


def paper_net_readings() -> Readings:
    """Count the weights of every wiring of the 2001 network (see :class:`Readings`)."""
    grid = reading_grid()
    return Readings(table=markdown_table(["reading", "weights", "wiring"],
                                         [(name, count_weights(r), r.why) for name, r in READINGS.items()]),
                    n_searched=len(grid), target=PAPER_WEIGHTS, n_exact=sum(1 for _, n in grid if n == PAPER_WEIGHTS),
                    all_to_all=count_weights(READINGS["all_to_all"]))


@dataclass(frozen=True)
class EarlyLearning:
    """Two recipes' validation MSE after the same number of optimiser steps.

    Attributes:
        n_steps: the shorter recipe's training length.
        short_val: the shorter-trained networks' final validation MSE (mean over seeds).
        long_val_at: the longer-trained networks' validation MSE at ``n_steps``, interpolated between
            evaluations (mean over seeds).
    """

    n_steps: int
    short_val: float
    long_val_at: float


def early_learning(long_runs: Sequence[TrainResult], short_runs: Sequence[TrainResult]) -> EarlyLearning:
    """Compare ``short_runs`` at the end of their training with ``long_runs`` after as many steps."""
    check(len(long_runs) > 0 and len(short_runs) > 0, "long_runs, short_runs", "non-empty", (long_runs, short_runs))
    n_steps = short_runs[0].config.n_steps
    at = [float(np.interp(n_steps, r.history.steps, r.history.val_mse)) for r in long_runs]
    return EarlyLearning(n_steps=n_steps, short_val=float(np.mean([r.history.val_mse[-1] for r in short_runs])),
                         long_val_at=float(np.mean(at)))
