"""The continuous families' studies (semi-linear and quadratic chapters): networks against reference learners.

Hochreiter, Younger & Conwell (2001), Sec. 3, train an LSTM on semi-linear and on quadratic functions and
report its MSE on new ones. The chapters measure more: every seed's MSE on the same fresh test streams,
the reference learners of :mod:`l2l_lib.reference_learners` on those streams, how many examples each
learner needs, what a trained network holds after ``k`` examples (the learnt surfaces), and the
reconstructed 2001 network's early learning. Each function returns a frozen dataclass.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..baselines import first_sequences
from ..continuous_learners import running_mean_predictions
from ..evaluate import (Evaluation, SeedSummary, evaluate_predictions, evaluation_batch, examples_to_criterion,
                        learnt_function, predict, summarise_seeds)
from ..paper_net import PAPER_WEIGHTS, READINGS, count_weights, reading_grid
from ..reference_learners import (BATCH_GD, NEAREST_NEIGHBOURS, ONLINE_GD, ReferenceLearner, family_reference_names,
                                  reference_learners)
from ..tables import markdown_table
from ..tasks import CONTINUOUS_FAMILIES, DEFAULT_QUADRATIC_MAP, Batch
from ..train import TrainResult
from ..validation import check, check_choice, check_int
from .per_function import (CRITERION_FRACTION, CRITERION_WINDOW, CriterionCounts, counts_of_predictions,
                           median_ratio, pool_counts)

# Which streams: the test streams (seed 1) are never used to tune a reference learner (seed 2).
TEST_SEED, TUNING_SEED, TRACE_SEED, SURFACE_SEED = 1, 2, 3, 4
# Gradient-descent step sizes and widths are tuned on 32 streams as long as the test streams (Hochreiter et
# al. 2001 test on T = 1000; a rate tuned on short streams is too large for long ones).
TUNING_SEQUENCES = 32
# Batch gradient descent refits every example seen after each new one (O(T^2) gradient steps per stream): it is
# scored on the first BATCH_GD_TEST_SEQUENCES test streams only, and the comparison records how many.
BATCH_GD_TEST_SEQUENCES = 32
GRADIENT_LEARNERS: tuple[str, ...] = (ONLINE_GD, BATCH_GD)


def chapter_references(family: str) -> tuple[str, ...]:
    """The reference learners a continuous chapter compares with: the family's relevant learners
    (:func:`~l2l_lib.reference_learners.family_reference_names`) but nearest neighbours (the learners chapter's)."""
    check_choice("family", family, CONTINUOUS_FAMILIES)
    return tuple(n for n in family_reference_names(family) if n != NEAREST_NEIGHBOURS)


def examples_text(examples: int | None | Sequence[int | None]) -> str:
    """Examples-to-criterion as prose: the count, ``"never"`` for None, comma-separated for several."""
    if examples is None or isinstance(examples, (int, np.integer)):
        return "never" if examples is None else str(examples)
    return ", ".join(examples_text(k) for k in examples)


def tuned_references(family: str, *, seq_len: int, quadratic_map: str = DEFAULT_QUADRATIC_MAP,
                     names: Sequence[str] | None = None) -> list[ReferenceLearner]:
    """The reference learners of a continuous family, gradient descent tuned on streams of their own.

    Args:
        family: ``"semilinear"`` or ``"quadratic"``.
        seq_len: the test sequences' length; the :data:`TUNING_SEQUENCES` tuning streams have the same length.
        quadratic_map: the output map of the tuning streams and of the moment-matched learner (quadratic).
        names: which learners (default :func:`chapter_references`).
    """
    check_choice("family", family, CONTINUOUS_FAMILIES)
    tuning = evaluation_batch(family, n_sequences=TUNING_SEQUENCES, seq_len=check_int("seq_len", seq_len),
                              seed=TUNING_SEED, quadratic_map=quadratic_map)
    return reference_learners(family, tuning=tuning, names=chapter_references(family) if names is None else names,
                              quadratic_map=quadratic_map)


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
        lstm_counts: examples to criterion counted per test sequence, every network's sequences pooled
            (:func:`~l2l_lib.experiments.per_function.criterion_counts`).
        reference_counts: the same per reference learner.
        reference_sequences: reference learner name -> how many test streams it was scored on (all but batch
            gradient descent: :data:`BATCH_GD_TEST_SEQUENCES`).
    """

    lstm: tuple[Evaluation, ...]
    references: Mapping[str, Evaluation]
    summary: SeedSummary
    constant_mse: float
    criterion: float
    lstm_examples: tuple[int | None, ...]
    reference_examples: Mapping[str, int | None]
    learners: Mapping[str, ReferenceLearner]
    lstm_counts: CriterionCounts
    reference_counts: Mapping[str, CriterionCounts]
    reference_sequences: Mapping[str, int]

    @property
    def normalised_mse(self) -> float:
        """The networks' mean MSE divided by the constant predictor's (mean over seeds of the ratio)."""
        return float(np.mean([e.normalised_mse for e in self.lstm]))

    @property
    def median_mse(self) -> float:
        """The median over seeds of the networks' test MSE."""
        return float(np.median([e.mse for e in self.lstm]))

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

    @property
    def best_gradient_learner(self) -> str:
        """The tuned gradient-descent learner (online or batch) with the lower test MSE."""
        present = [n for n in GRADIENT_LEARNERS if n in self.references]
        check(len(present) > 0, "references", f"at least one of {GRADIENT_LEARNERS}", tuple(self.references))
        return min(present, key=lambda n: self.references[n].mse)

    def examples_ratio(self, name: str) -> float:
        """How many times more examples reference ``name``'s median test sequence needs to reach the criterion
        than the networks' median sequence (:func:`~l2l_lib.experiments.per_function.median_ratio`)."""
        return median_ratio(self.reference_counts[name], self.lstm_counts)

    def table(self) -> str:
        """Markdown table: every learner's test MSE, normalised MSE, and examples to criterion per sequence."""
        def count(c: float) -> str:
            return "never" if np.isinf(c) else f"{c:.0f}"
        rows = [[f"LSTM (median of {len(self.lstm)} seeds)", f"{self.median_mse:.2e}",
                 f"{self.median_mse / self.constant_mse:.3f}", count(self.lstm_counts.median),
                 count(self.lstm_counts.quantile(0.9)), str(self.lstm_counts.n // len(self.lstm))]]
        for name, e in self.references.items():
            label = name if self.learners[name].hidden_size is None else (
                f"{name} (width {self.learners[name].hidden_size}, step {self.learners[name].learning_rate:g})")
            c = self.reference_counts[name]
            rows.append([label, f"{e.mse:.2e}", f"{e.normalised_mse:.3f}", count(c.median), count(c.quantile(0.9)),
                         str(self.reference_sequences[name])])
        return markdown_table(["learner", "test MSE", "÷ constant", "examples to criterion: median",
                               "90th percentile", "test streams"], rows)


def _counts(batch: Batch, predictions: torch.Tensor, criterion: float) -> CriterionCounts:
    """Examples to criterion per stream (window :data:`~l2l_lib.experiments.per_function.CRITERION_WINDOW`, or
    T for shorter streams)."""
    return counts_of_predictions(batch, predictions, criterion, window=min(CRITERION_WINDOW, batch.seq_len))


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
    lstm_predictions = [predict(run.model, batch) for run in runs]
    lstm = tuple(evaluate_predictions(batch, p) for p in lstm_predictions)
    constant_mse = lstm[0].constant_mse
    criterion = CRITERION_FRACTION * constant_mse
    scored, counts, n_streams = {}, {}, {}
    for learner in references:
        streams = first_sequences(batch, BATCH_GD_TEST_SEQUENCES) if learner.name == BATCH_GD else batch
        predictions = predict(learner, streams)
        scored[learner.name] = evaluate_predictions(streams, predictions)
        counts[learner.name] = _counts(streams, predictions, criterion)
        n_streams[learner.name] = streams.batch_size
    lstm_counts = pool_counts([_counts(batch, p, criterion) for p in lstm_predictions])
    return Comparison(
        lstm=lstm, references=scored, summary=summarise_seeds([e.mse for e in lstm], target),
        constant_mse=constant_mse, criterion=criterion,
        lstm_examples=tuple(examples_to_criterion(e.mse_by_position, criterion) for e in lstm),
        reference_examples={name: examples_to_criterion(e.mse_by_position, criterion) for name, e in scored.items()},
        learners={r.name: r for r in references}, lstm_counts=lstm_counts, reference_counts=counts,
        reference_sequences=n_streams)


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


# A run has left the running-mean plateau when its kept validation error is at most this fraction of the running
# mean's error on streams of the training length (fixed before the 25 000-step runs of the 2001 network).
PLATEAU_FRACTION = 0.5
PLATEAU_SEED = 5


@dataclass(frozen=True)
class PlateauEscape:
    """Whether meta-training runs left the plateau of a learner that only tracks the mean of its targets.

    Attributes:
        plateau_mse: the running mean's MSE (:func:`~l2l_lib.continuous_learners.running_mean_predictions`) on
            streams of the training length and output map.
        final_val: run label -> each seed's validation MSE of the kept weights (fresh functions, training length).
        left: run label -> per seed, whether ``final_val <= PLATEAU_FRACTION * plateau_mse``.
        first_step_below: run label -> per seed, the first evaluation step at or below that level (None: never).
        seconds_per_step: run label -> mean wall-clock seconds per optimiser step over its seeds (this machine).
        n_steps: run label -> optimiser steps trained.
    """

    plateau_mse: float
    final_val: Mapping[str, tuple[float, ...]]
    left: Mapping[str, tuple[bool, ...]]
    first_step_below: Mapping[str, tuple[int | None, ...]]
    seconds_per_step: Mapping[str, float]
    n_steps: Mapping[str, int]

    def verdict(self, label: str) -> str:
        """``"all 2 seeds left the plateau"``, ``"1 of 2 seeds left the plateau"`` or ``"no seed left the
        plateau"`` (chosen by :attr:`left`)."""
        left = self.left[label]
        if all(left):
            return f"all {len(left)} seeds left the plateau" if len(left) > 1 else "it left the plateau"
        if not any(left):
            return "no seed left the plateau" if len(left) > 1 else "it did not leave the plateau"
        return f"{sum(left)} of {len(left)} seeds left the plateau"


def plateau_escape(runs: Mapping[str, Sequence[TrainResult]], *, n_sequences: int = 256) -> PlateauEscape:
    """Did each group of runs leave the running-mean plateau (see :class:`PlateauEscape`)?

    Args:
        runs: label -> trained runs of one continuous family, one map and one training length (all groups alike).
        n_sequences: streams on which the running mean's error is measured.
    """
    check(len(runs) > 0 and all(len(r) > 0 for r in runs.values()), "runs", "label -> non-empty runs", runs)
    config = next(iter(runs.values()))[0].config
    streams = evaluation_batch(config.family, n_sequences=n_sequences, seq_len=config.seq_len, seed=PLATEAU_SEED,
                               quadratic_map=config.quadratic_map)
    plateau = float(((running_mean_predictions(streams) - streams.targets) ** 2).mean())
    level = PLATEAU_FRACTION * plateau
    final, left, first, speed, steps = {}, {}, {}, {}, {}
    for label, group in runs.items():
        kept = tuple(float(min(r.history.val_mse)) if r.config.keep_best else float(r.history.val_mse[-1])
                     for r in group)
        final[label] = kept
        left[label] = tuple(v <= level for v in kept)
        first[label] = tuple(next((int(s) for s, v in zip(r.history.steps, r.history.val_mse) if v <= level), None)
                             for r in group)
        speed[label] = float(np.mean([r.wall_time / max(r.config.n_steps, 1) for r in group]))
        steps[label] = group[0].config.n_steps
    return PlateauEscape(plateau_mse=plateau, final_val=final, left=left, first_step_below=first,
                         seconds_per_step=speed, n_steps=steps)


#: The 2001 network's speed measurement (benchmarks/paper_net_speed.py writes it).
PAPER_NET_SPEED = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "paper_net_speed.json"


@dataclass(frozen=True)
class KernelSpeed:
    """Milliseconds per training step of the 2001 network (batch 16, sequences of 200, one thread): the Python
    loop over time steps (old) against the fused C kernel (new), medians of interleaved repeats."""

    old_ms: float
    new_ms: float
    ratio: float


def paper_net_speed(path: str | Path = PAPER_NET_SPEED) -> KernelSpeed:
    """The measurement of ``benchmarks/paper_net_speed.py`` (see :class:`KernelSpeed`)."""
    record = json.loads(Path(path).read_text())
    return KernelSpeed(old_ms=float(record["old_ms_median"]), new_ms=float(record["new_ms_median"]),
                       ratio=float(record["speedup_ratio_of_medians"]))
