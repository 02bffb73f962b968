"""Per-function statements about the continuous learners, and whether a learner of one family learns the other.

Hochreiter, Younger & Conwell (2001), Sec. 3 report the mean error over test functions, and their
companion paper (Younger, Hochreiter & Conwell, IJCNN 2001; bib key ``younger2001``) says the trained
network had learnt *any* quadratic after about 30 examples. A mean over functions cannot test a claim
about every function: one learner can be good on average and fail on a few functions. This module
measures per function:

* :func:`per_function_errors`: for every test function and number of examples ``k``, the learner's expected
  squared error at a fresh query input after the function's first ``k`` examples (Monte Carlo over query
  points); :class:`PerFunctionErrors` gives its quantiles over functions and statements such as "after 30
  examples, 97% of the functions are within 0.0002", with Clopper-Pearson intervals.
* :func:`criterion_counts`: examples to criterion counted per sequence, on the sequence's own error
  (smoothed over a short window), not on the mean curve over sequences, where a few late failures or a
  slow drift decide the count for all.
* :func:`cross_family`: networks trained on one continuous family scored on the other's streams (the
  semi-linear networks on quadratic streams and the reverse), beside each family's own networks and the
  constant predictor: does a learner of one family learn the other?

Every function returns a frozen dataclass; learners are :data:`l2l_lib.evaluate.Learner` (a trained
network or a callable ``batch -> predictions [B, T, 1]``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from ..baselines import constant_predictions
from ..evaluate import Learner, evaluate_predictions, predict
from ..statistics import SuccessCount, clopper_pearson, success_count
from ..tables import markdown_table
from ..tasks import CONTINUOUS_FAMILIES, DEFAULT_QUADRATIC_MAP, Batch, family_mean, function_values
from ..train import TrainResult
from ..validation import check, check_choice, check_int, check_number

#: The numbers of examples at which the per-function errors are reported (issue: k = 5, 10, 30, 100).
DEFAULT_KS: tuple[int, ...] = (5, 10, 30, 100)
#: Query points per function and k: 32 puts the Monte Carlo error of one function's estimate at about
#: 1/sqrt(32) ~ 18% of that function's error spread over the square, small against the orders of
#: magnitude that separate the learners, while 1000 functions x 32 queries x 100 examples stay cheap.
DEFAULT_QUERIES = 32
#: Sequence-steps per call of the learner in :func:`per_function_errors` (functions x queries x (k + 1)):
#: 2^19 steps of a 40-unit LSTM keep its activations near 100 MB.
DEFAULT_CHUNK_STEPS = 2**19
# "Learnt" means an error that stays at or below this fraction of the constant predictor's.
CRITERION_FRACTION = 0.1
#: The per-sequence error is averaged over this many consecutive steps before it is compared with the
#: criterion. A single step's squared error depends on where its input falls (a corner of the square, far
#: from the examples, costs several times the mean), so "every later step at or below the criterion" would
#: be decided by the worst single input of a 1000-step tail, not by what the learner knows. Twenty steps
#: average that out (one step at up to 20 times the criterion among exact ones passes), and are short
#: against the counts being compared (tens of examples for the LSTMs, hundreds for gradient descent). Each
#: window is assigned to its *first* step, so a learner whose error drops for good at step d is counted at
#: d, not d + 19 (no lag); and the step counted must itself be at or below the criterion, so that a few
#: large early errors averaged with later exact ones do not count as learnt before they are over.
CRITERION_WINDOW = 20
# Query inputs come from their own generator, offset from every stream generator's seeds.
_QUERY_SEED_OFFSET = 20_000_033


def _model(learner: TrainResult | Learner) -> Learner:
    """A trained run's network, or the learner itself."""
    return learner.model if isinstance(learner, TrainResult) else learner


def _percent(rate: float) -> str:
    """``0.973 -> "97.3%"``, ``1.0 -> "100%"``, ``0.0004 -> "0.04%"`` (three significant digits at most)."""
    value = 100.0 * rate
    if value in (0.0, 100.0):
        return f"{value:.0f}%"
    return f"{float(f'{value:.3g}'):g}%"


def _number(value: float) -> str:
    """Two significant digits, e.g. ``0.00018``, ``1.2e-05``."""
    return f"{value:.2g}"


# ----------------------------------------------------------------------------- error after k examples
@dataclass(frozen=True)
class ErrorQuantiles:
    """The distribution over test functions of the error after ``k`` examples.

    Attributes:
        k: examples seen before the query.
        median, p95, p99, maximum: the 50th, 95th and 99th percentile and the largest per-function error.
    """

    k: int
    median: float
    p95: float
    p99: float
    maximum: float


@dataclass(frozen=True)
class PerFunctionErrors:
    """One learner's expected squared error on each test function after ``k`` of its examples.

    Attributes:
        ks: the numbers of examples, increasing.
        errors: float64 ``[n_functions, len(ks)]``: ``errors[i, j]`` is the mean over ``n_queries`` fresh
            query inputs of the squared error of the prediction after the first ``ks[j]`` examples of
            stream ``i`` (an estimate of ``E_x (prediction(x) - f_i(x))^2``).
        n_queries: query points per function and k (the same points for every k and every learner).
    """

    ks: tuple[int, ...]
    errors: np.ndarray
    n_queries: int

    @property
    def n_functions(self) -> int:
        return int(self.errors.shape[0])

    def _column(self, k: int) -> np.ndarray:
        check_choice("k", k, self.ks)
        return self.errors[:, self.ks.index(k)]

    def quantiles(self) -> tuple[ErrorQuantiles, ...]:
        """Median, 95th and 99th percentile and maximum over functions, one :class:`ErrorQuantiles` per k."""
        out = []
        for j, k in enumerate(self.ks):
            median, p95, p99 = np.quantile(self.errors[:, j], [0.5, 0.95, 0.99])
            out.append(ErrorQuantiles(k, float(median), float(p95), float(p99), float(self.errors[:, j].max())))
        return tuple(out)

    def share_within(self, threshold: float, confidence: float = 0.95) -> tuple[SuccessCount, ...]:
        """Per k, how many functions have an error at or below ``threshold``, with the Clopper-Pearson interval
        of that share (:func:`l2l_lib.statistics.success_count`; a NaN error counts as above)."""
        check_number("threshold", threshold, 0.0, math.inf)
        return tuple(success_count(self.errors[:, j], threshold, confidence) for j in range(len(self.ks)))

    def level(self, k: int, share: float = 0.95) -> float:
        """The smallest error ``y`` such that at least ``share`` of the functions are within ``y`` after ``k``
        examples (an order statistic of the per-function errors, never interpolated)."""
        check_number("share", share, 0.0, 1.0, low_open=True)
        column = np.sort(self._column(k))
        return float(column[math.ceil(share * column.size) - 1])

    def within_text(self, k: int, threshold: float, *, label: str | None = None) -> str:
        """E.g. ``"after 30 examples, 973 of 1000 functions (97.3%; 95% CI 96.2%–98.2%) are within 0.00018"``.

        Args:
            k: one of :attr:`ks`.
            threshold: the error level; ``label`` (e.g. ``"10% of the constant predictor's error"``) is
                added in parentheses after it.
        """
        count = self.share_within(threshold)[self.ks.index(check_choice("k", k, self.ks))]
        name = "function" if count.trials == 1 else "functions"
        verb = "is" if count.successes == 1 else "are"
        extra = f" ({label})" if label else ""
        return (f"after {k} examples, {count.successes} of {count.trials} {name} ({_percent(count.rate)}; "
                f"95% CI {_percent(count.low)}–{_percent(count.high)}) {verb} within {_number(threshold)}{extra}")

    def claim_text(self, k: int, threshold: float, share: float, *, label: str | None = None) -> str:
        """:meth:`within_text` followed by whether the claim "at least ``share`` of the functions are within
        ``threshold`` after ``k`` examples" holds, judged by the observed share and its 95% interval."""
        check_number("share", share, 0.0, 1.0)
        count = self.share_within(threshold)[self.ks.index(check_choice("k", k, self.ks))]
        goal = _percent(share)
        if count.low >= share:
            verdict = f"the claim of at least {goal} holds, with the whole interval above it"
        elif count.rate >= share:
            verdict = f"the observed share meets {goal}, but the interval reaches below it"
        elif count.high >= share:
            verdict = f"the observed share falls short of {goal}, though the interval reaches it"
        else:
            verdict = f"the claim of at least {goal} fails, with the whole interval below it"
        return f"{self.within_text(k, threshold, label=label)}: {verdict}"

    def level_text(self, k: int, share: float = 0.95) -> str:
        """E.g. ``"after 30 examples, 95% of the functions are within 1.2e-05"`` (:meth:`level`)."""
        return f"after {k} examples, {_percent(share)} of the functions are within {_number(self.level(k, share))}"

    def table(self, threshold: float | None = None, *, label: str = "within threshold") -> str:
        """Markdown table: one row per k with the quantiles over functions, and (with ``threshold``) the share
        of functions at or below it (column ``label``) with its 95% interval."""
        headers = ["examples k", "median", "95th percentile", "99th percentile", "maximum"]
        rows = [[q.k, q.median, q.p95, q.p99, q.maximum] for q in self.quantiles()]
        if threshold is not None:
            headers.append(label)
            for row, count in zip(rows, self.share_within(threshold)):
                row.append(f"{_percent(count.rate)} ({_percent(count.low)}–{_percent(count.high)})")
        return markdown_table(headers, rows)


def pool_errors(errors: Sequence[PerFunctionErrors]) -> PerFunctionErrors:
    """Several networks' (e.g. seeds') per-function errors on the same test functions as one distribution over
    (network, function) pairs; they must share ``ks`` and ``n_queries``."""
    check(len(errors) > 0, "errors", "a non-empty sequence of PerFunctionErrors", errors)
    first = errors[0]
    check(all((e.ks, e.n_queries) == (first.ks, first.n_queries) for e in errors), "errors",
          "PerFunctionErrors with the same ks and n_queries", [(e.ks, e.n_queries) for e in errors])
    return PerFunctionErrors(ks=first.ks, errors=np.concatenate([e.errors for e in errors]), n_queries=first.n_queries)


def quantile_table(errors: Mapping[str, PerFunctionErrors], threshold: float | None = None, *,
                   label: str = "within threshold") -> str:
    """Markdown table over learners and k: the median, 95th and 99th percentile and maximum over test functions
    of the error after k examples, and (with ``threshold``) the share of functions within it."""
    check(len(errors) > 0, "errors", "a non-empty mapping learner -> PerFunctionErrors", errors)
    headers = ["learner", "examples k", "median", "95th percentile", "99th percentile", "maximum"]
    if threshold is not None:
        headers.append(label)
    rows = []
    for name, e in errors.items():
        shares = e.share_within(threshold) if threshold is not None else None
        for j, q in enumerate(e.quantiles()):
            row = [name, q.k, f"{q.median:.2g}", f"{q.p95:.2g}", f"{q.p99:.2g}", f"{q.maximum:.2g}"]
            if shares is not None:
                row.append(_percent(shares[j].rate))
            rows.append(row)
    return markdown_table(headers, rows)


def _check_continuous_stream(batch: Batch, quadratic_map: str, n_steps: int) -> None:
    """Raise unless ``batch`` is continuous, has no switch in its first ``n_steps`` steps, and its targets are
    its functions' values under ``quadratic_map`` (a Batch does not record its map)."""
    check_choice("batch.family", batch.family, CONTINUOUS_FAMILIES)
    check(not bool(batch.segment_starts[:, 1:n_steps].any()), "batch",
          f"streams without a function switch in their first {n_steps} steps", "a batch with switches")
    x = batch.x[:, :n_steps]
    values = function_values(batch.family, x[..., 0], x[..., 1], coefficients=batch.coefficients[:, :n_steps],
                             quadratic_map=quadratic_map)
    mismatch = float((values - batch.targets[:, :n_steps, 0]).abs().max())
    check(mismatch <= 1e-5, "quadratic_map", "the output map the batch was made with (its targets differ from "
          f"the functions' values under {quadratic_map!r} by up to {mismatch:.2g})", quadratic_map)


@torch.no_grad()
def per_function_errors(learner: Learner, batch: Batch, *, ks: Sequence[int] = DEFAULT_KS,
                        n_queries: int = DEFAULT_QUERIES, seed: int = 0,
                        input_range: tuple[float, float] = (-1.0, 1.0),
                        quadratic_map: str = DEFAULT_QUADRATIC_MAP,
                        chunk_steps: int = DEFAULT_CHUNK_STEPS) -> PerFunctionErrors:
    """Each test function's expected squared error after ``k`` of its examples, for every ``k`` in ``ks``.

    For stream ``i`` and ``k``: ``n_queries`` copies of the stream's first ``k`` examples, each followed by
    one query step whose input ``x_q`` is drawn uniformly from ``input_range^2`` (fed with ``y_prev`` = the
    ``k``-th example's target, as the stream would), go through the learner; the error is the mean over
    the queries of ``(prediction at the query - f_i(x_q))^2``, ``f_i`` computed from the stream's
    coefficients (:func:`l2l_lib.tasks.function_values`). The learner never sees ``f_i(x_q)``: the query
    step's target in the batch it is given holds the family mean (0.5), so a learner that read it would
    score as the constant predictor. The same query points serve every ``k`` and every learner called with
    the same ``seed``, so learners are compared on identical queries.

    Args:
        learner: a trained network or a callable ``batch -> predictions [B, T, 1]`` whose prediction at ``t``
            uses only the steps before ``t`` (targets) and up to ``t`` (inputs).
        batch: continuous test streams, at least ``max(ks)`` steps long, with no function switch before.
        ks: numbers of examples before the query, distinct integers in ``0..batch.seq_len``.
        n_queries: query points per function (and k), >= 1.
        seed: which query points.
        input_range: ``(low, high)`` of both query inputs (the streams' input range).
        quadratic_map: the output map the batch was made with (quadratic family; checked against its targets).
        chunk_steps: at most this many sequence-steps per call of the learner (memory); the result does not
            depend on it.

    Returns:
        :class:`PerFunctionErrors` with ``ks`` sorted.
    """
    ks = tuple(sorted(check_int("ks[...]", k, minimum=0, maximum=batch.seq_len) for k in ks))
    check(len(ks) > 0 and len(set(ks)) == len(ks), "ks", "a non-empty sequence of distinct integers", ks)
    check_int("n_queries", n_queries)
    check_int("seed", seed, minimum=0)
    check_int("chunk_steps", chunk_steps)
    check(isinstance(input_range, (tuple, list)) and len(input_range) == 2 and input_range[0] < input_range[1],
          "input_range", "a pair (low, high) with low < high", input_range)
    _check_continuous_stream(batch, quadratic_map, max(max(ks), 1))

    n, q = batch.batch_size, n_queries
    generator = torch.Generator().manual_seed(_QUERY_SEED_OFFSET + seed)
    low, high = float(input_range[0]), float(input_range[1])
    x_query = low + (high - low) * torch.rand(n, q, 2, generator=generator)  # [N, Q, 2]
    coefficients = batch.coefficients[:, 0]  # [N, P]: the first function of each stream
    y_query = function_values(batch.family, x_query[..., 0], x_query[..., 1],
                              coefficients=coefficients[:, None].expand(-1, q, -1),
                              quadratic_map=quadratic_map).double()  # [N, Q]
    placeholder = family_mean(batch.family)

    errors = np.empty((n, len(ks)))
    for j, k in enumerate(ks):
        per_chunk = max(1, chunk_steps // (q * (k + 1)))
        for start in range(0, n, per_chunk):
            rows = slice(start, min(start + per_chunk, n))
            m = rows.stop - rows.start
            prefix_inputs = batch.inputs[rows, :k]  # [m, k, 3]
            y_prev = batch.targets[rows, k - 1] if k > 0 else torch.zeros(m, 1)  # [m, 1]
            query_inputs = torch.cat([x_query[rows], y_prev[:, None].expand(-1, q, -1)], dim=-1)  # [m, Q, 3]
            inputs = torch.cat([prefix_inputs[:, None].expand(-1, q, -1, -1),
                                query_inputs[:, :, None]], dim=2).reshape(m * q, k + 1, 3)
            targets = torch.cat([batch.targets[rows, :k][:, None].expand(-1, q, -1, -1),
                                 torch.full((m, q, 1, 1), placeholder)], dim=2).reshape(m * q, k + 1, 1)
            coef = coefficients[rows][:, None, None].expand(-1, q, k + 1, -1).reshape(m * q, k + 1, -1)
            starts = torch.zeros(m * q, k + 1, dtype=torch.bool)
            starts[:, 0] = True
            stream = Batch(batch.family, inputs.contiguous(), targets.contiguous(), None, coef.contiguous(), starts)
            prediction = predict(learner, stream)
            check(tuple(prediction.shape) == (m * q, k + 1, 1), "learner", "a learner returning predictions "
                  f"[B, T, 1] = {(m * q, k + 1, 1)}", tuple(prediction.shape))
            last = prediction[:, -1, 0].double().reshape(m, q)
            errors[rows, j] = ((last - y_query[rows]) ** 2).mean(1).numpy()
    return PerFunctionErrors(ks=ks, errors=errors, n_queries=q)


# ----------------------------------------------------------------------------- examples to criterion per sequence
def criterion_for(batch: Batch) -> float:
    """The error at which a function counts as learnt: :data:`~l2l_lib.experiments.continuous.CRITERION_FRACTION`
    times the constant predictor's (family mean) MSE on ``batch`` (as in
    :func:`~l2l_lib.experiments.continuous.compare`)."""
    target = batch.targets[..., 0].double()
    return CRITERION_FRACTION * float(((family_mean(batch.family) - target) ** 2).mean())


def sequence_examples_to_criterion(squared_errors: np.ndarray, criterion: float,
                                   window: int = CRITERION_WINDOW) -> np.ndarray:
    """Per sequence, the examples after which its smoothed error stays at or below ``criterion``.

    The smoothed error at ``j`` is the mean of the squared errors at steps ``j .. j + window - 1`` (the
    window is assigned to its first step; see :data:`CRITERION_WINDOW`). The count is the smallest ``k``
    such that the error at step ``k`` is ``<= criterion`` and so is the smoothed error at every start
    ``j`` from ``min(k, T - window)`` to ``T - window``: from ``k`` examples on, every run of ``window``
    steps averages at or below the criterion (the last window always counts). With ``window = 1`` this is
    :func:`l2l_lib.evaluate.examples_to_criterion` applied to each sequence's errors.

    Args:
        squared_errors: ``[B, T]`` a learner's squared error at every step of every sequence (step ``t``:
            after ``t`` examples).
        criterion: the error level, >= 0.
        window: steps per window, ``1..T``.

    Returns:
        float64 ``[B]``: the count, in ``0..T - 1``; NaN where even the last window is above (never).
    """
    errors = np.asarray(squared_errors, dtype=np.float64)
    check(errors.ndim == 2 and errors.shape[1] >= 1, "squared_errors", "a [B, T] array", errors.shape)
    check_number("criterion", criterion, 0.0, math.inf)
    check_int("window", window, maximum=errors.shape[1])
    smoothed = sliding_window_view(errors, window, axis=1).mean(-1)  # [B, T - window + 1]
    above = ~(smoothed <= criterion)  # NaN counts as above
    n_windows = smoothed.shape[1]
    last_above = np.where(above.any(1), n_windows - 1 - np.argmax(above[:, ::-1], axis=1), -1)
    first_window = last_above + 1  # [B]: every window from here on is at or below the criterion
    # The first step at or after it whose own error is at criterion: the window starting there averages at
    # or below the criterion, so one of its steps is, and the search never runs past the sequence's end.
    steps = np.arange(errors.shape[1])
    at = (errors <= criterion) & (steps >= first_window[:, None])
    counts = np.argmax(at, axis=1).astype(np.float64)
    counts[last_above == n_windows - 1] = np.nan
    return counts


@dataclass(frozen=True)
class CriterionCounts:
    """Examples to criterion of one learner, counted per test sequence (:func:`sequence_examples_to_criterion`).

    Attributes:
        examples: float64 ``[n]``, one count per sequence; NaN where the sequence never reaches the criterion.
        criterion: the error level.
        window: the smoothing window (steps).
        seq_len: the sequences' length.
    """

    examples: np.ndarray
    criterion: float
    window: int
    seq_len: int

    @property
    def n(self) -> int:
        return int(self.examples.size)

    @property
    def never(self) -> SuccessCount:
        """How many sequences never reach the criterion, with the 95% Clopper-Pearson interval of that share."""
        n_never = int(np.isnan(self.examples).sum())
        low, high = clopper_pearson(n_never, self.n)
        return SuccessCount(n_never, self.n, low, high)

    def quantile(self, share: float) -> float:
        """The smallest count ``c`` such that at least ``share`` of the sequences reach the criterion within
        ``c`` examples (an order statistic, not interpolated); ``inf`` when fewer than ``share`` ever do."""
        check_number("share", share, 0.0, 1.0, low_open=True)
        values = np.sort(np.where(np.isnan(self.examples), np.inf, self.examples))
        return float(values[math.ceil(share * values.size) - 1])

    @property
    def median(self) -> float:
        """:meth:`quantile` at one half: ``inf`` when most sequences never reach the criterion."""
        return self.quantile(0.5)

    def text(self) -> str:
        """E.g. ``"median 28 examples (90th percentile 61); 3 of 1000 sequences never (0.3%)"``."""
        def count(c: float) -> str:
            return "never" if math.isinf(c) else f"{c:.0f}"
        never = self.never
        def examples(c: float) -> str:
            return "never" if math.isinf(c) else f"{c:.0f} example" + ("" if c == 1 else "s")
        return (f"median {examples(self.median)} (90th percentile {count(self.quantile(0.9))}); "
                f"{never.successes} of {never.trials} sequences never ({_percent(never.rate)})")


def criterion_counts(learner: Learner | TrainResult, batch: Batch, criterion: float, *,
                     window: int = CRITERION_WINDOW) -> CriterionCounts:
    """Examples to criterion of ``learner`` on each stream of ``batch`` (see :class:`CriterionCounts`).

    Args:
        learner: a trained run or network, or a callable learner.
        batch: the test streams.
        criterion: the error level, e.g. :func:`criterion_for` of the same streams.
        window: smoothing window, ``1..batch.seq_len``.
    """
    return counts_of_predictions(batch, predict(_model(learner), batch), criterion, window=window)


def counts_of_predictions(batch: Batch, predictions: torch.Tensor, criterion: float, *,
                          window: int = CRITERION_WINDOW) -> CriterionCounts:
    """:func:`criterion_counts` from a learner's predictions ``[B, T, 1]`` on ``batch``, already made."""
    squared = ((predictions[..., 0].double() - batch.targets[..., 0].double()) ** 2).numpy()
    return CriterionCounts(sequence_examples_to_criterion(squared, criterion, window), float(criterion), window,
                           batch.seq_len)


def pool_counts(counts: Sequence[CriterionCounts]) -> CriterionCounts:
    """Several learners' (e.g. seeds') per-sequence counts as one distribution; same criterion and window."""
    check(len(counts) > 0, "counts", "a non-empty sequence of CriterionCounts", counts)
    first = counts[0]
    check(all((c.criterion, c.window, c.seq_len) == (first.criterion, first.window, first.seq_len) for c in counts),
          "counts", "counts with one criterion, window and sequence length", [(c.criterion, c.window) for c in counts])
    return CriterionCounts(np.concatenate([c.examples for c in counts]), first.criterion, first.window, first.seq_len)


def median_ratio(slower: CriterionCounts, faster: CriterionCounts) -> float:
    """``slower.median / faster.median``: how many times more examples the median sequence needs.

    ``inf`` when only ``slower``'s median is never reached (or ``faster``'s is 0); NaN when both are never
    reached, or both 0.
    """
    a, b = slower.median, faster.median
    if (math.isinf(a) and math.isinf(b)) or (a == 0 and b == 0):
        return math.nan
    if math.isinf(a) or b == 0:
        return math.inf
    return a / b


def criterion_table(counts: Mapping[str, CriterionCounts]) -> str:
    """Markdown table: per learner, the median, 75th and 90th percentile of the per-sequence examples to
    criterion (``never`` where not reached), and the share of sequences that never reach it."""
    check(len(counts) > 0, "counts", "a non-empty mapping learner -> CriterionCounts", counts)

    def cell(c: float) -> str:
        return "never" if math.isinf(c) else f"{c:.0f}"
    rows = [[name, cell(c.median), cell(c.quantile(0.75)), cell(c.quantile(0.9)),
             f"{c.never.successes}/{c.never.trials} ({_percent(c.never.rate)})"] for name, c in counts.items()]
    return markdown_table(["learner", "median", "75th percentile", "90th percentile", "never"], rows)


# ----------------------------------------------------------------------------- one family's learner on the other
@dataclass(frozen=True)
class TransferScore:
    """Networks trained on one family (or the constant predictor) scored on one family's test streams.

    Attributes:
        trained_on: the family the networks were trained on; None for the constant predictor.
        streams: the family of the test streams.
        label: the row's learner label.
        mse: per network, its MSE over the streams.
        normalised_mse: the mean over networks of MSE / the constant predictor's MSE on the same streams.
        late_normalised_mse: the same over the second half of every sequence only (what it holds once it has
            seen many examples).
        counts: per-sequence examples to criterion, pooled over the networks.
        n_learn: how many networks reach the criterion on at least half of the sequences (finite median).
        verdict: a sentence chosen by the numbers (None for the constant predictor).
    """

    trained_on: str | None
    streams: str
    label: str
    mse: tuple[float, ...]
    normalised_mse: float
    late_normalised_mse: float
    counts: CriterionCounts
    n_learn: int
    verdict: str | None

    @property
    def learns(self) -> bool:
        """Whether every network reaches the criterion on at least half of the sequences."""
        return self.n_learn == len(self.mse)


@dataclass(frozen=True)
class CrossFamily:
    """Does a learner of one continuous family learn the other? (see :func:`cross_family`).

    Attributes:
        scores: one :class:`TransferScore` per (streams, learner) row: for each stream family, its own
            networks, the other family's networks, the constant predictor.
        constant_mse: stream family -> the constant predictor's MSE on its streams.
        criterion: stream family -> ``CRITERION_FRACTION * constant_mse``.
        table: Markdown table of every row.
    """

    scores: tuple[TransferScore, ...]
    constant_mse: Mapping[str, float]
    criterion: Mapping[str, float]
    table: str

    def score(self, trained_on: str | None, streams: str) -> TransferScore:
        """The row of networks trained on ``trained_on`` (None: the constant predictor) on ``streams``."""
        for s in self.scores:
            if s.trained_on == trained_on and s.streams == streams:
                return s
        raise ValueError(f"(trained_on, streams) must be one of {[(s.trained_on, s.streams) for s in self.scores]}; "
                         f"got {(trained_on, streams)!r}")

    def verdict(self, trained_on: str, streams: str) -> str:
        """The verdict sentence of the networks trained on ``trained_on`` on ``streams``."""
        return self.score(check_choice("trained_on", trained_on, CONTINUOUS_FAMILIES), streams).verdict


_FAMILY_NAME = {"semilinear": "semi-linear", "quadratic": "quadratic"}


def _verdict(n_learn: int, n: int, counts: CriterionCounts, late: float) -> str:
    if n_learn == n:
        return (f"learns it: the median sequence reaches the criterion after {counts.median:.0f} examples")
    if n_learn > 0:
        return f"{n_learn} of {n} networks learn it (reach the criterion on at least half of the sequences)"
    if late < 1.0:
        return (f"does not learn it: late in the sequence its error is {late:.2f} of the constant predictor's, "
                f"above the criterion ({CRITERION_FRACTION:g})")
    return ("does not learn it: late in the sequence it is no better than the constant predictor "
            f"({late:.2f} of its error)")


def _score(trained_on: str | None, batch: Batch, learners: Sequence[Learner], label: str, criterion: float,
           window: int) -> TransferScore:
    target = batch.targets[..., 0].double()
    half = batch.seq_len // 2
    constant = (family_mean(batch.family) - target) ** 2
    mse, normalised, late, counts = [], [], [], []
    for learner in learners:
        predictions = predict(learner, batch)
        evaluation = evaluate_predictions(batch, predictions)
        squared = (predictions[..., 0].double() - target) ** 2
        mse.append(evaluation.mse)
        normalised.append(evaluation.normalised_mse)
        late.append(float(squared[:, half:].mean() / constant[:, half:].mean()))
        counts.append(CriterionCounts(sequence_examples_to_criterion(squared.numpy(), criterion, window),
                                      criterion, window, batch.seq_len))
    n_learn = sum(1 for c in counts if math.isfinite(c.median))
    pooled = pool_counts(counts)
    verdict = None if trained_on is None else _verdict(n_learn, len(counts), pooled, float(np.mean(late)))
    return TransferScore(trained_on, batch.family, label, tuple(mse), float(np.mean(normalised)),
                         float(np.mean(late)), pooled, n_learn, verdict)


def cross_family(networks: Mapping[str, Sequence[TrainResult | Learner]], streams: Mapping[str, Batch], *,
                 window: int = CRITERION_WINDOW) -> CrossFamily:
    """Score each continuous family's networks on both families' test streams, beside the constant predictor.

    A network meta-trained on semi-linear functions has learnt to learn functions of that form; on quadratic
    streams it meets functions outside it (and the reverse). For each stream family the rows are: its own
    networks, the other family's networks, and the constant predictor (family mean). A row's networks
    *learn* the family when each reaches the criterion (``CRITERION_FRACTION`` of the constant predictor's
    MSE on those streams, :func:`criterion_for`) on at least half of the sequences, counted per sequence
    (:func:`sequence_examples_to_criterion`); otherwise the verdict gives its late error relative to the
    constant predictor's.

    Args:
        networks: ``{"semilinear": [...], "quadratic": [...]}``, trained runs or networks (one per seed) of
            each family. The quadratic ones may standardise their fed-back target internally: they are
            scored as any network mapping inputs to predictions.
        streams: ``{"semilinear": batch, "quadratic": batch}``, each family's test streams (the quadratic
            ones with the output map the chapter tests, e.g. ``"fixed"``).
        window: smoothing window of the per-sequence counts.

    Returns:
        :class:`CrossFamily`.
    """
    check(set(networks) == set(CONTINUOUS_FAMILIES) and all(len(v) > 0 for v in networks.values()), "networks",
          f"a mapping with the keys {CONTINUOUS_FAMILIES}, each to at least one network", list(networks))
    check(set(streams) == set(CONTINUOUS_FAMILIES), "streams", f"a mapping with the keys {CONTINUOUS_FAMILIES}",
          list(streams))
    for family, batch in streams.items():
        check(batch.family == family, f"streams[{family!r}].family", repr(family), batch.family)
        check_int("window", window, maximum=batch.seq_len)

    scores, constant_mse, criteria = [], {}, {}
    for family in CONTINUOUS_FAMILIES:
        batch = streams[family]
        criterion = criterion_for(batch)
        constant_mse[family], criteria[family] = criterion / CRITERION_FRACTION, criterion
        other = next(f for f in CONTINUOUS_FAMILIES if f != family)
        for trained_on in (family, other):
            models = [_model(m) for m in networks[trained_on]]
            label = f"networks trained on {_FAMILY_NAME[trained_on]} (n={len(models)})"
            scores.append(_score(trained_on, batch, models, label, criterion, window))
        scores.append(_score(None, batch, [constant_predictions], "constant 0.5", criterion, window))

    def cell(c: float) -> str:
        return "never" if math.isinf(c) else f"{c:.0f}"
    rows = [[_FAMILY_NAME[s.streams], s.label, float(np.mean(s.mse)), s.normalised_mse, s.late_normalised_mse,
             cell(s.counts.median), _percent(s.counts.never.rate), s.verdict or "–"] for s in scores]
    table = markdown_table(["streams", "learner", "MSE", "MSE / constant", "second half: MSE / constant",
                            "median examples to criterion", "sequences never at criterion", "verdict"], rows)
    return CrossFamily(scores=tuple(scores), constant_mse=constant_mse, criterion=criteria, table=table)
