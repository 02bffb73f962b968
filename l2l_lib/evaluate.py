"""Evaluation on fresh sequences: how well, and how fast, a learner learns a new function.

Hochreiter, Younger & Conwell (2001), Sec. 3 report the mean squared error over test sequences. We add
what makes "learning" visible: the error at each position of the sequence, averaged over many sequences
(error versus number of examples seen so far), the same measured from each unannounced function switch,
thresholded accuracy for Boolean families, per-function scores (training versus held-out functions),
and every MSE divided by the constant predictor's on the same stream.

A *learner* is a :class:`~l2l_lib.model.MetaLSTM` or any callable ``batch -> predictions [B, T, 1]``
(the baselines in :mod:`l2l_lib.baselines`), so every learner is scored on identical streams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

import numpy as np
import torch
from torch import nn

from .tasks import BOOLEAN_FAMILIES, DEFAULT_QUADRATIC_MAP, Batch, family_mean, function_values, make_batch
from .validation import check_int

Learner = Union[nn.Module, Callable[[Batch], torch.Tensor]]


@dataclass(frozen=True)
class FunctionScore:
    """Scores of one Boolean function: MSE, thresholded accuracy, and how many steps they average."""

    mse: float
    accuracy: float
    n_steps: int


@dataclass(frozen=True)
class Evaluation:
    """A learner's scores on one batch of streams.

    Attributes:
        mse: mean squared error over all steps.
        constant_mse: the constant predictor's (family mean) MSE on the same steps.
        normalised_mse: ``mse / constant_mse`` (0: perfect; 1: no better than knowing nothing).
        accuracy: fraction of steps where the prediction thresholded at 0.5 equals the target (Boolean
            families; None for continuous ones).
        mse_by_position: ``[T]``, MSE at each position, i.e. after 0, 1, 2... examples of the stream.
        accuracy_by_position: ``[T]`` or None, as ``accuracy``.
        mse_since_switch: ``[switch_every]`` or None: MSE by steps since the last switch, over every
            segment but the first (the learner was told nothing about the switch).
        per_function: Boolean function id -> :class:`FunctionScore` (None for continuous families).
    """

    mse: float
    constant_mse: float
    normalised_mse: float
    accuracy: float | None
    mse_by_position: np.ndarray
    accuracy_by_position: np.ndarray | None
    mse_since_switch: np.ndarray | None
    per_function: dict[int, FunctionScore] | None


@torch.no_grad()
def predict(learner: Learner, batch: Batch) -> torch.Tensor:
    """Predictions ``[B, T, 1]`` of a network (in eval mode, on its device) or of a callable learner."""
    if isinstance(learner, nn.Module):
        was_training = learner.training
        learner.eval()
        device = next(learner.parameters()).device
        out = learner(batch.inputs.to(device)).cpu()
        learner.train(was_training)
        return out
    return learner(batch)


def _check_predictions(batch: Batch, predictions: torch.Tensor) -> None:
    if predictions.shape != batch.targets.shape:
        raise ValueError(f"predictions must have the targets' shape {tuple(batch.targets.shape)}, "
                         f"got {tuple(predictions.shape)}")


def evaluate_predictions(batch: Batch, predictions: torch.Tensor) -> Evaluation:
    """Score ``predictions [B, T, 1]`` against ``batch``'s targets (see :class:`Evaluation`)."""
    _check_predictions(batch, predictions)
    pred, target = predictions[..., 0].double(), batch.targets[..., 0].double()
    squared = (pred - target) ** 2  # [B, T]
    constant = float(((family_mean(batch.family) - target) ** 2).mean())
    mse = float(squared.mean())
    boolean = batch.family in BOOLEAN_FAMILIES
    correct = ((pred >= 0.5).double() == target).double() if boolean else None

    since = batch.steps_since_switch()
    mse_since_switch = None
    first_segment = torch.cumsum(batch.segment_starts.long(), dim=1) == 1
    if not bool(first_segment.all()):
        length = int(since.max()) + 1
        keep = ~first_segment
        sums = torch.zeros(length, dtype=torch.float64).index_add_(0, since[keep], squared[keep])
        counts = torch.zeros(length, dtype=torch.float64).index_add_(0, since[keep],
                                                                     torch.ones_like(squared[keep]))
        mse_since_switch = (sums / counts.clamp_min(1)).numpy()

    per_function = None
    if boolean:
        per_function = {}
        for k in torch.unique(batch.function_ids).tolist():
            mask = batch.function_ids == k
            per_function[int(k)] = FunctionScore(mse=float(squared[mask].mean()),
                                                 accuracy=float(correct[mask].mean()), n_steps=int(mask.sum()))
    return Evaluation(
        mse=mse, constant_mse=constant, normalised_mse=mse / constant if constant > 0 else float("nan"),
        accuracy=float(correct.mean()) if boolean else None,
        mse_by_position=squared.mean(0).numpy(),
        accuracy_by_position=correct.mean(0).numpy() if boolean else None,
        mse_since_switch=mse_since_switch, per_function=per_function)


def evaluation_batch(family: str, *, functions: tuple[int, ...] | list[int] | None = None, n_sequences: int = 512,
                     seq_len: int = 256, switch_every: int | None = None, seed: int = 0,
                     input_range: tuple[float, float] = (-1.0, 1.0),
                     coefficient_range: tuple[float, float] = (-1.0, 1.0),
                     quadratic_map: str = DEFAULT_QUADRATIC_MAP) -> Batch:
    """The test streams of :func:`evaluate`: fresh sequences drawn from their own seeded generator."""
    generator = torch.Generator().manual_seed(10_000_019 + seed)  # a stream no training run draws from
    return make_batch(family, n_sequences, seq_len, functions=functions, switch_every=switch_every,
                      generator=generator, input_range=input_range, coefficient_range=coefficient_range,
                      quadratic_map=quadratic_map)


def evaluate(learner: Learner, family: str, *, functions: tuple[int, ...] | list[int] | None = None,
             n_sequences: int = 512, seq_len: int = 256, switch_every: int | None = None, seed: int = 0,
             input_range: tuple[float, float] = (-1.0, 1.0), coefficient_range: tuple[float, float] = (-1.0, 1.0),
             quadratic_map: str = DEFAULT_QUADRATIC_MAP) -> Evaluation:
    """Score ``learner`` on ``n_sequences`` fresh streams of ``family`` (same seed, same streams).

    Args:
        learner: a :class:`~l2l_lib.model.MetaLSTM` or a callable ``batch -> predictions [B, T, 1]``.
        family: task family.
        functions: Boolean ids to draw from (e.g. the held-out ones); None for the whole family.
        n_sequences: streams to average over.
        seq_len: steps per stream (may differ from training: longer sequences test extrapolation).
        switch_every: unannounced switches every that many steps, or None.
        seed: which streams; every learner evaluated with the same arguments sees the same streams.
        input_range, coefficient_range, quadratic_map: as in :func:`l2l_lib.tasks.make_batch` (ranges
            other than the training ones test distribution shift).
    """
    batch = evaluation_batch(family, functions=functions, n_sequences=n_sequences, seq_len=seq_len,
                             switch_every=switch_every, seed=seed, input_range=input_range,
                             coefficient_range=coefficient_range, quadratic_map=quadratic_map)
    return evaluate_predictions(batch, predict(learner, batch))


def pattern_counts(batch: Batch) -> torch.Tensor:
    """int64 ``[B, T]``: how often the current Boolean input pattern was seen before, since the last switch."""
    if batch.family not in BOOLEAN_FAMILIES:
        raise ValueError(f"pattern_counts needs a Boolean family {BOOLEAN_FAMILIES}, got {batch.family!r}")
    pattern = batch.patterns()
    onehot = torch.nn.functional.one_hot(pattern, 4)
    segment = torch.cumsum(batch.segment_starts.long(), dim=1)
    counts = torch.zeros_like(pattern)
    seen = torch.zeros(batch.batch_size, 4, dtype=torch.long)
    for t in range(batch.seq_len):
        if t > 0:
            seen = seen * (segment[:, t] == segment[:, t - 1]).long().unsqueeze(1)
        counts[:, t] = seen.gather(1, pattern[:, t:t + 1])[:, 0]
        seen = seen + onehot[:, t]
    return counts


def error_by_pattern_count(batch: Batch, predictions: torch.Tensor, max_count: int = 8
                           ) -> tuple[np.ndarray, np.ndarray]:
    """MSE and accuracy by how many times the step's input pattern was seen before (Boolean families).

    Returns ``(mse [max_count + 1], accuracy [max_count + 1])``; the last entry pools all counts
    ``>= max_count``. Entry 0 is the first sight of a pattern, which no learner can know for Boolean-16.
    """
    _check_predictions(batch, predictions)
    check_int("max_count", max_count, minimum=0)
    counts = pattern_counts(batch).clamp_max(max_count)
    pred, target = predictions[..., 0].double(), batch.targets[..., 0].double()
    squared = (pred - target) ** 2
    correct = ((pred >= 0.5).double() == target).double()
    mse, acc = np.full(max_count + 1, np.nan), np.full(max_count + 1, np.nan)
    for n in range(max_count + 1):
        mask = counts == n
        if bool(mask.any()):
            mse[n], acc[n] = float(squared[mask].mean()), float(correct[mask].mean())
    return mse, acc


@dataclass(frozen=True)
class SeedSummary:
    """Scores of several trained seeds against a success threshold.

    Attributes:
        values: one score per seed, in seed order.
        mean, sd: their mean and sample standard deviation (sd 0 for one seed).
        threshold: a seed succeeds when its score is ``<= threshold``.
        n_success: how many seeds succeed; n: how many seeds.
    """

    values: tuple[float, ...]
    mean: float
    sd: float
    threshold: float
    n_success: int
    n: int


def summarise_seeds(values: list[float] | np.ndarray, threshold: float) -> SeedSummary:
    """Mean, sd and success count of per-seed scores (lower is better), e.g. held-out MSEs."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"values must be a non-empty list of finite numbers, got {values!r}")
    return SeedSummary(values=tuple(float(v) for v in values), mean=float(values.mean()),
                       sd=float(values.std(ddof=1)) if values.size > 1 else 0.0, threshold=float(threshold),
                       n_success=int((values <= threshold).sum()), n=int(values.size))


def examples_to_criterion(mse_by_position: np.ndarray, criterion: float) -> int | None:
    """How many examples a learner needs before its error stays at or below ``criterion``.

    Args:
        mse_by_position: ``[T]``, error after 0, 1, 2... examples (:attr:`Evaluation.mse_by_position`,
            averaged over many sequences).
        criterion: the error level, e.g. 10% of the constant predictor's MSE.

    Returns:
        the smallest ``k`` such that the error after ``k, k+1, ..., T-1`` examples is ``<= criterion``;
        None if even the last position is above it.
    """
    errors = np.asarray(mse_by_position, dtype=float)
    if errors.ndim != 1 or errors.size == 0:
        raise ValueError(f"mse_by_position must be a non-empty 1-d array, got shape {errors.shape}")
    above = np.flatnonzero(~(errors <= criterion))
    if above.size == 0:
        return 0
    k = int(above[-1]) + 1
    return k if k < errors.size else None


@torch.no_grad()
def learnt_function(model: nn.Module, batch: Batch, k: int, grid: np.ndarray, *, index: int = 0,
                    quadratic_map: str = DEFAULT_QUADRATIC_MAP) -> tuple[np.ndarray, np.ndarray]:
    """The function a meta-learner holds after ``k`` examples, read out on a grid of inputs.

    The network reads the first ``k`` examples of stream ``index``; its state then is what it has learned.
    From that state, one query step per grid point ``(x1, x2)`` (with ``y_prev`` the ``k``-th target, as
    in the stream) gives its prediction there. The true function of the stream is evaluated on the same
    grid (continuous families).

    Args:
        model: a trained network (``inputs [B, T, 3] -> [B, T, 1]``).
        batch: continuous streams; ``k`` must be < ``batch.seq_len``.
        k: examples shown before the query, >= 0.
        grid: ``[G]`` input values for both axes.
        index: which stream.
        quadratic_map: the output map the stream was made with (quadratic family).

    Returns:
        ``(learnt [G, G], true [G, G])``, row i is ``x2 = grid[i]``, column j is ``x1 = grid[j]``.
    """
    if batch.family in BOOLEAN_FAMILIES:
        raise ValueError(f"learnt_function needs a continuous family, got {batch.family!r}")
    check_int("k", k, minimum=0, maximum=batch.seq_len - 1)
    check_int("index", index, minimum=0, maximum=batch.batch_size - 1)
    grid = np.asarray(grid, dtype=np.float32)
    x2g, x1g = np.meshgrid(grid, grid, indexing="ij")
    queries = torch.from_numpy(np.stack([x1g.ravel(), x2g.ravel()], axis=1))  # [G*G, 2]
    n = queries.shape[0]
    prefix = batch.inputs[index, :k].unsqueeze(0).expand(n, -1, -1)
    y_prev = batch.inputs[index, k, 2] if k > 0 else torch.tensor(0.0)
    query = torch.cat([queries, y_prev.expand(n, 1)], dim=1).unsqueeze(1)
    inputs = torch.cat([prefix, query], dim=1)
    learnt = predict(model, Batch(batch.family, inputs, torch.zeros(n, k + 1, 1), None, None,
                                  torch.zeros(n, k + 1, dtype=torch.bool)))[:, -1, 0]
    coefficients = batch.coefficients[index, 0].expand(n, -1)
    true = function_values(batch.family, queries[:, 0], queries[:, 1], coefficients=coefficients,
                           quadratic_map=quadratic_map)
    shape = (grid.size, grid.size)
    return learnt.numpy().reshape(shape), true.numpy().reshape(shape)


def boolean_examples_to_criterion(batch: Batch, predictions: torch.Tensor, n_correct: int = 2) -> np.ndarray:
    """Per sequence, how many examples a learner needs until it answers every input pattern right for good.

    A per-stream learning-speed score for the Boolean families, in the spirit of the paper's "examples
    needed to learn a new function" (Hochreiter et al., 2001, Sec. 3). Only the first segment counts
    (steps before the first unannounced switch); an answer is right when the prediction thresholded at
    0.5 (``>= 0.5`` means 1, as in :func:`evaluate_predictions`) equals the target.

    For each pattern ``p``, ``t_p`` is the first step such that the last ``n_correct`` answers to ``p`` up
    to and including step ``t_p`` are all right and every later answer to ``p`` in the first segment is
    right too. The criterion is reached after ``max_p t_p + 1`` examples (counting the one at ``t_p``;
    steps are numbered from 0). Patterns are the four inputs ``(0,0), (0,1), (1,0), (1,1)``
    (:meth:`~l2l_lib.tasks.Batch.patterns`); every Boolean function maps all four, so all must be
    learnt.

    Args:
        batch: a Boolean batch (``batch.family`` in ``BOOLEAN_FAMILIES``).
        predictions: ``[B, T, 1]``, the learner's predictions on ``batch``.
        n_correct: consecutive right answers a pattern needs, an integer >= 1.

    Returns:
        float64 ``[B]``: examples to criterion, NaN where it is never reached (a pattern's last answer in
        the first segment is wrong, or it is not seen ``n_correct`` times after its last wrong answer).
    """
    if batch.family not in BOOLEAN_FAMILIES:
        raise ValueError(f"boolean_examples_to_criterion needs a Boolean family {BOOLEAN_FAMILIES}, "
                         f"got {batch.family!r}")
    _check_predictions(batch, predictions)
    check_int("n_correct", n_correct)

    first_segment = torch.cumsum(batch.segment_starts.long(), dim=1) <= 1  # [B, T]
    correct = (predictions[..., 0] >= 0.5).float() == batch.targets[..., 0]
    pattern = batch.patterns()
    steps = torch.arange(batch.seq_len).expand(batch.batch_size, -1)
    reached_at = torch.zeros(batch.batch_size, dtype=torch.long)  # max_p t_p so far
    reached = torch.ones(batch.batch_size, dtype=torch.bool)
    for p in range(4):
        mask = first_segment & (pattern == p)
        occurrence = torch.cumsum(mask.long(), dim=1)  # 1-based index of each answer to p
        last_wrong = torch.where(mask & ~correct, occurrence, torch.zeros_like(occurrence)).amax(1)  # 0: none
        # The first answer after which n_correct in a row are right and none is wrong again.
        needed = last_wrong + n_correct  # [B]
        hit = mask & (occurrence == needed[:, None])
        reached &= hit.any(1)
        t_p = torch.where(hit, steps, torch.zeros_like(steps)).amax(1)
        reached_at = torch.maximum(reached_at, t_p)
    result = (reached_at + 1).double()
    result[~reached] = float("nan")
    return result.numpy()
