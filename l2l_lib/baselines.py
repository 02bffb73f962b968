"""Reference learners that see the same example stream as the meta-learning LSTM.

Hochreiter, Younger & Conwell (2001), "Learning to Learn Using Gradient Descent", compare the LSTM's
error with what a learner could achieve from the same examples: an ideal learner for the Boolean
families, exact fitting for the continuous ones, and online gradient descent (backprop on a small
network, one step per example), which the LSTM learns faster than.

Every learner here predicts ``y_t`` at step ``t`` from the pairs ``(x_s, y_s)`` with ``s < t`` of the
same sequence and from ``x_t``, exactly what the network has seen when it answers. Each takes a
:class:`~l2l_lib.tasks.Batch` and returns float32 ``[batch, seq_len, 1]`` predictions in target units
(``[0, 1]``), vectorised over the batch.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

from l2l_lib.tasks import (BOOLEAN_FAMILIES, CONTINUOUS_FAMILIES, Batch, boolean_table, family_functions,
                           family_mean, quadratic_monomials)
from l2l_lib.validation import check, check_int, check_number, is_int

# Keeps atanh(2y - 1) finite when a semi-linear target sits at (or rounds to) 0 or 1.
Y_CLAMP = 1e-6
# The ridge only has to make the fit unique before there are enough examples; once the data determine
# the fit, it biases it. At 1e-6 the 7th quadratic prediction still has MSE ~1e-5 (90th percentile
# error ~4e-4, from near-degenerate input sets); at 1e-12 it is ~1e-9, and float64 still resolves it
# (the Gram entries are O(t), so 1e-12 stays far above their rounding for any practical t).
DEFAULT_RIDGE = 1e-12


def _check_family(batch: Batch, allowed: tuple[str, ...], learner: str) -> None:
    if batch.family not in allowed:
        raise ValueError(f"{learner}: batch.family must be one of {allowed}, got {batch.family!r}")


# ----------------------------------------------------------------------------- Boolean: ideal learner
def bayes_boolean_predictions(batch: Batch, functions: tuple[int, ...] | list[int] | None = None,
                              prior: tuple[float, ...] | list[float] | None = None) -> torch.Tensor:
    """Bayes-optimal (under squared error) predictions for a Boolean family.

    The prediction is the posterior mean of ``f(x_t)`` under a uniform prior over ``functions``,
    conditioned on the examples seen so far in the sequence: the fraction of still-consistent functions
    that output 1 on the pattern ``x_t``. For ``boolean16`` this is a lookup table (the seen output, or
    0.5 for an unseen pattern); for ``boolean14`` it is not, since ruling out XOR and XNOR couples
    the patterns (after seeing ``(0,0) -> 0``, 4 of the 7 remaining functions map ``(1,1)`` to 1).

    Restart rule: if an example leaves no function consistent (an unannounced switch revealed itself),
    the learner forgets the past and conditions the prior on that latest example only; if even that
    example fits no function in ``functions`` (a target from outside the prior), it falls back to the
    plain prior. A switch to a function that agrees with everything seen so far goes unnoticed until
    the two disagree.

    Args:
        batch: a Boolean batch (``batch.family`` in ``BOOLEAN_FAMILIES``); inputs in ``{0, 1}``.
        functions: the prior's support, distinct function ids in 0..15 (see
            :func:`~l2l_lib.tasks.truth_table`); default: all functions of ``batch.family``.
        prior: one positive weight per function in ``functions`` (normalised here); default uniform.
            E.g. the 13 training functions at weight 1 and the 3 held-out ones at 1e-6: a learner that bets
            on the training functions and turns to the others only when the examples rule those out.

    Returns:
        float32 ``[batch, seq_len, 1]``: ``P(y_t = 1 | examples before t)``.
    """
    _check_family(batch, BOOLEAN_FAMILIES, "bayes_boolean_predictions")
    if functions is None:
        functions = family_functions(batch.family)
    functions = tuple(functions)
    valid_ids = all(is_int(k) and 0 <= k <= 15 for k in functions)
    if not functions or not valid_ids or len(set(functions)) != len(functions):
        raise ValueError(f"functions must be None or a non-empty list of distinct ids in 0..15, got {functions!r}")

    if prior is None:
        weights = torch.ones(len(functions), dtype=torch.float64)
    else:
        weights = torch.as_tensor(prior, dtype=torch.float64)
        if weights.shape != (len(functions),) or not bool(torch.isfinite(weights).all()) or not bool((weights > 0).all()):
            raise ValueError(f"prior must be None or one positive finite weight per function ({len(functions)}), "
                             f"got {prior!r}")
    outputs_by_pattern = boolean_table(functions).T.bool()  # [4, K]
    pattern = batch.patterns()  # [B, T], as in truth_table
    observed = batch.targets[..., 0] > 0.5  # [B, T]
    consistent = torch.ones(batch.batch_size, len(functions), dtype=torch.bool)  # [B, K]
    predictions = torch.empty(batch.batch_size, batch.seq_len)
    for t in range(batch.seq_len):
        outputs = outputs_by_pattern[pattern[:, t]]  # [B, K]: each function's answer to x_t
        mass = consistent.double() * weights  # [B, K]
        predictions[:, t] = ((mass * outputs.double()).sum(1) / mass.sum(1)).float()
        agrees = outputs == observed[:, t, None]
        updated = consistent & agrees
        restart = torch.where(agrees.any(1, keepdim=True), agrees, torch.ones_like(agrees))
        consistent = torch.where(updated.any(1, keepdim=True), updated, restart)
    return predictions.unsqueeze(-1)


def restart_lookup_predictions(batch: Batch) -> torch.Tensor:
    """The Bayes learner of Boolean-16 streams with unannounced switches that restarts when contradicted.

    It keeps each input pattern's last answer and predicts it; an unseen pattern gets 0.5. When a target
    contradicts the stored answer of its pattern (a switch has revealed itself), it forgets every pattern
    but this one observation. Under the uniform prior over all sixteen functions this is exactly
    :func:`bayes_boolean_predictions` with ``functions=range(16)`` (whose restart rule fires when no
    function is left consistent), written out here as a memory of four answers, for any Boolean batch.
    It is the ideal learner of Hochreiter et al. (2001), Sec. 3, for a stream that may switch function
    without warning (switches that agree with everything seen go unnoticed until they disagree).

    Args:
        batch: a Boolean batch (targets in ``{0, 1}``).

    Returns:
        float32 ``[batch, seq_len, 1]``.
    """
    _check_family(batch, BOOLEAN_FAMILIES, "restart_lookup_predictions")
    pattern = batch.patterns()  # [B, T]
    observed = (batch.targets[..., 0] > 0.5).float()  # [B, T]
    rows = torch.arange(batch.batch_size)
    known = torch.zeros(batch.batch_size, 4, dtype=torch.bool)
    answer = torch.zeros(batch.batch_size, 4)
    predictions = torch.empty(batch.batch_size, batch.seq_len)
    for t in range(batch.seq_len):
        p, y = pattern[:, t], observed[:, t]
        seen = known[rows, p]
        predictions[:, t] = torch.where(seen, answer[rows, p], torch.full_like(y, 0.5))
        contradicted = seen & (answer[rows, p] != y)
        known &= ~contradicted[:, None]  # forget everything ...
        known[rows, p] = True  # ... but this observation
        answer[rows, p] = y
    return predictions.unsqueeze(-1)


def majority_lookup_predictions(batch: Batch) -> torch.Tensor:
    """The ideal learner of a *stationary* Boolean-16 stream that never forgets: each pattern's majority answer.

    Under the uniform prior over the sixteen functions with label noise of probability ``eps``, the
    posterior of ``f(x_t) = 1`` is ``1 / (1 + (eps / (1 - eps))**(n1 - n0))``, ``n1`` (``n0``) the times
    pattern ``x_t`` was answered 1 (0) before ``t``; as ``eps -> 0`` it is the majority answer, 0.5 on a
    tie or an unseen pattern. A learner that believes the function never changes treats a switch as
    noise: it keeps every answer ever seen, and after a switch a pattern flips only once the new answer
    has been seen more often than the old one. The contrast to :func:`restart_lookup_predictions`.

    Args:
        batch: a Boolean batch (targets in ``{0, 1}``).

    Returns:
        float32 ``[batch, seq_len, 1]``: 1, 0 or 0.5 at each step.
    """
    _check_family(batch, BOOLEAN_FAMILIES, "majority_lookup_predictions")
    onehot = torch.nn.functional.one_hot(batch.patterns(), 4).double()  # [B, T, 4]
    vote = (2.0 * (batch.targets > 0.5).double() - 1.0) * onehot  # +1 for an answer 1, -1 for 0
    before = torch.cumsum(vote, dim=1) - vote  # [B, T, 4]: votes strictly before t
    margin = (before * onehot).sum(-1)  # [B, T]: the votes of x_t's pattern
    return (0.5 + 0.5 * torch.sign(margin)).float().unsqueeze(-1)


def ideal_boolean16_mse(k: int | torch.Tensor) -> float | torch.Tensor:
    """Expected squared error of the ideal learner on ``boolean16`` after ``k`` examples: ``0.25 * 0.75**k``.

    With inputs uniform over the 4 patterns, ``x_t`` is unseen with probability ``(3/4)**k``; the
    learner then answers 0.5 to a target in ``{0, 1}`` (error 0.25), and is exact otherwise.

    Args:
        k: number of examples seen, an integer >= 0, or an integer tensor of them (any shape).

    Returns:
        A float for an int ``k``; a float64 tensor of ``k``'s shape for a tensor.
    """
    if isinstance(k, torch.Tensor):
        if k.is_floating_point() or k.is_complex() or k.dtype == torch.bool or bool((k < 0).any()):
            raise ValueError(f"k must be integers >= 0, got a {k.dtype} tensor {k}")
        return 0.25 * 0.75 ** k.double()
    return 0.25 * 0.75 ** check_int("k", k, minimum=0)


def ideal_boolean16_sequence_mse(seq_len: int) -> float:
    """Mean of :func:`ideal_boolean16_mse` over a sequence of ``seq_len`` steps: ``(1 - 0.75**T) / T``.

    The geometric sum ``0.25 * sum_{k<T} 0.75**k = 1 - 0.75**T``; about 0.0039 at ``T = 256`` and
    0.0156 at ``T = 64``.

    Args:
        seq_len: ``T``, an integer >= 1.
    """
    check_int("seq_len", seq_len)
    return (1.0 - 0.75 ** seq_len) / seq_len


# ----------------------------------------------------------------------------- continuous: least squares
def online_fit(features: torch.Tensor, response: torch.Tensor, penalty: torch.Tensor | float) -> torch.Tensor:
    """``w_t . features_t`` for the penalised least-squares fit ``w_t`` of the examples ``s < t``.

    ``w_t = argmin_w sum_{s<t} (response_s - w . features_s)^2 + w^T penalty w``, refitted at every
    ``t`` (``w_0 = 0``): the machinery of :func:`least_squares_predictions` and of the linear learners of
    :mod:`l2l_lib.continuous_learners`, for any features.

    Args:
        features: float64 ``[B, T, P]``.
        response: float64 ``[B, T]``.
        penalty: a number > 0 (ridge: ``penalty * I``) or a symmetric positive definite ``[P, P]``.

    Returns:
        float64 ``[B, T]``: each step's fitted value at its own input.
    """
    n_features = features.shape[-1]
    gram = torch.cumsum(features.unsqueeze(-1) * features.unsqueeze(-2), dim=1)  # [B, T, P, P]
    moment = torch.cumsum(features * response.unsqueeze(-1), dim=1)  # [B, T, P]
    # Statistics of the examples strictly before t: shift the inclusive sums by one step.
    gram = torch.cat([torch.zeros_like(gram[:, :1]), gram[:, :-1]], dim=1)
    moment = torch.cat([torch.zeros_like(moment[:, :1]), moment[:, :-1]], dim=1)
    if not isinstance(penalty, torch.Tensor):
        penalty = penalty * torch.eye(n_features, dtype=features.dtype)
    weights = torch.linalg.solve(gram + penalty, moment.unsqueeze(-1)).squeeze(-1)  # [B, T, P]
    return (weights * features).sum(-1)


def least_squares_predictions(batch: Batch, ridge: float = DEFAULT_RIDGE) -> torch.Tensor:
    """Predictions of a ridge regression refitted after every example (continuous families).

    ``semilinear``: regress ``z = atanh(2y - 1)`` on ``(x1, x2, 1)`` and predict
    ``0.5 * (1 + tanh(w . phi))``; the family is linear in ``z``, so 3 examples in general position
    determine it. ``quadratic``: regress ``y - 0.5`` on the six monomials
    (:func:`~l2l_lib.tasks.quadratic_monomials`) and predict ``0.5 + w . phi``; any affine output map
    keeps ``y`` linear in them, so 6 examples determine it. Centring on 0.5 makes the zero-data
    prediction the family mean. With noiseless targets the prediction is exact from the 4th (semi-linear)
    or 7th (quadratic) step on, up to the float32 rounding of the targets, which near-degenerate input
    sets amplify: typical errors are ~1e-7, the 99th percentile at the first determined step ~1e-5.

    The fit uses the whole history of the sequence: it does not detect ``switch_every`` switches, so
    after one it averages the old and the new function.

    Args:
        batch: a continuous batch (``batch.family`` in ``CONTINUOUS_FAMILIES``).
        ridge: L2 penalty on ``w``, finite and > 0; it makes the fit unique (the minimum-norm
            interpolant, in the limit) before enough examples.

    Returns:
        float32 ``[batch, seq_len, 1]`` predictions in target units.
    """
    _check_family(batch, CONTINUOUS_FAMILIES, "least_squares_predictions")
    check_number("ridge", ridge, 0.0, math.inf, low_open=True)

    # float64: the normal equations square the condition number, and float32 loses exactness.
    x1, x2 = batch.x.double().unbind(-1)
    y = batch.targets[..., 0].double()
    if batch.family == "semilinear":
        features = torch.stack([x1, x2, torch.ones_like(x1)], dim=-1)  # [B, T, 3]
        response = torch.atanh(2.0 * y.clamp(Y_CLAMP, 1.0 - Y_CLAMP) - 1.0)
    else:
        features = quadratic_monomials(x1, x2)  # [B, T, 6]
        response = y - 0.5

    fitted = online_fit(features, response, ridge)
    predictions = 0.5 * (1.0 + torch.tanh(fitted)) if batch.family == "semilinear" else 0.5 + fitted
    return predictions.to(torch.float32).unsqueeze(-1)


# ----------------------------------------------------------------------------- the small network of the GD learners
def _check_mlp_arguments(hidden_size: object, learning_rate: object) -> None:
    check_int("hidden_size", hidden_size)
    check_number("learning_rate", learning_rate, 0.0, math.inf, low_open=True)


def _initial_mlp(n_seq: int, hidden_size: int, generator: torch.Generator | None
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-sequence ``(w_hidden [B, 2, H], b_hidden [B, H], w_out [B, H], b_out [B])``.

    Initialised like ``torch.nn.Linear`` (``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``), in a fixed order of
    draws: one generator gives :func:`online_gd_predictions` and :func:`batch_gd_predictions` the same
    initial networks.
    """
    def uniform(*shape: int, fan_in: int) -> torch.Tensor:
        bound = 1.0 / math.sqrt(fan_in)
        return (2.0 * torch.rand(n_seq, *shape, generator=generator) - 1.0) * bound

    w_hidden = uniform(2, hidden_size, fan_in=2)
    b_hidden = uniform(hidden_size, fan_in=2)
    w_out = uniform(hidden_size, fan_in=hidden_size)
    b_out = uniform(fan_in=hidden_size)
    return w_hidden, b_hidden, w_out, b_out


def _mlp_answer(x_t: torch.Tensor, w_hidden: torch.Tensor, b_hidden: torch.Tensor, w_out: torch.Tensor,
                b_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each sequence's network on its input ``x_t [B, 2]``: ``(hidden [B, H], prediction [B])``."""
    hidden = torch.tanh(torch.einsum("bi,bih->bh", x_t, w_hidden) + b_hidden)
    return hidden, torch.sigmoid((hidden * w_out).sum(-1) + b_out)


# ----------------------------------------------------------------------------- online gradient descent
def online_gd_predictions(batch: Batch, *, hidden_size: int = 20, learning_rate: float = 0.1,
                          generator: torch.Generator | None = None) -> torch.Tensor:
    """Predictions of a small network trained by online gradient descent, one step per example.

    Each sequence gets a fresh MLP ``(x1, x2) -> tanh hidden layer -> sigmoid output``, initialised like
    ``torch.nn.Linear`` (weights and biases ``~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))``). At step ``t`` it
    predicts ``y_t``, then takes one plain SGD step on ``0.5 * (y_t - prediction)**2`` (the half
    squared error, so the output gradient is ``prediction - y_t``). Gradients are written out by hand:
    every sequence's parameters only touch its own loss, so the batch needs no autograd.

    Args:
        batch: a batch of any family.
        hidden_size: hidden units, an integer >= 1.
        learning_rate: SGD step size, finite and > 0.
        generator: torch random generator for the initial weights (None: the global generator).

    Returns:
        float32 ``[batch, seq_len, 1]`` predictions in ``(0, 1)``.
    """
    _check_mlp_arguments(hidden_size, learning_rate)
    n_seq = batch.batch_size
    w_hidden, b_hidden, w_out, b_out = _initial_mlp(n_seq, hidden_size, generator)

    x = batch.x
    y = batch.targets[..., 0]
    predictions = torch.empty(n_seq, batch.seq_len)
    for t in range(batch.seq_len):
        x_t = x[:, t]  # [B, 2]
        hidden, prediction = _mlp_answer(x_t, w_hidden, b_hidden, w_out, b_out)
        predictions[:, t] = prediction
        # Backprop of 0.5 * (y - p)^2 through sigmoid and tanh.
        delta_out = (prediction - y[:, t]) * prediction * (1.0 - prediction)  # [B]
        delta_hidden = delta_out[:, None] * w_out * (1.0 - hidden * hidden)  # [B, H], uses pre-step w_out
        w_out = w_out - learning_rate * delta_out[:, None] * hidden
        b_out = b_out - learning_rate * delta_out
        w_hidden = w_hidden - learning_rate * x_t[:, :, None] * delta_hidden[:, None, :]
        b_hidden = b_hidden - learning_rate * delta_hidden
    return predictions.unsqueeze(-1)


ONLINE_GD_RATES: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0, 3.0)


def tune_online_gd(batch: Batch, rates: tuple[float, ...] | list[float] = ONLINE_GD_RATES, *,
                   hidden_size: int = 20, seed: int = 0) -> tuple[float, dict[float, float]]:
    """Pick online gradient descent's step size for a family: the rate with the lowest sequence MSE.

    Tune on a batch of its own (not the test streams), so the comparison with other learners stays fair.
    Every rate starts from the same initial weights (``seed``). The width is fixed and nothing checks that
    the best rate is inside the grid: :func:`search_online_gd` tunes both, with that check.

    Args:
        batch: tuning streams of the family.
        rates: candidate step sizes, each finite and > 0.
        hidden_size: hidden units of the online network.
        seed: seed of the initial weights.

    Returns:
        ``(best rate, {rate: MSE over the batch})``.
    """
    return _tune_learning_rate(batch, rates, seed, lambda rate, generator: online_gd_predictions(
        batch, hidden_size=hidden_size, learning_rate=rate, generator=generator))


# ----------------------------------------------------------------------------- floor and dispatch
def constant_predictions(batch: Batch) -> torch.Tensor:
    """The family mean (:func:`~l2l_lib.tasks.family_mean`) at every step: the floor MSEs are normalised by.

    Args:
        batch: a batch of any family.

    Returns:
        float32 ``[batch, seq_len, 1]``, all equal to the family mean (0.5).
    """
    return torch.full_like(batch.targets, family_mean(batch.family), dtype=torch.float32)


def ideal_predictions(batch: Batch) -> torch.Tensor:
    """The best reference learner for the batch's family.

    Boolean families: :func:`bayes_boolean_predictions` over all the family's functions. Continuous
    families: :func:`least_squares_predictions` with its default ridge.

    Args:
        batch: a batch of any family.

    Returns:
        float32 ``[batch, seq_len, 1]`` predictions in target units.
    """
    if batch.family in BOOLEAN_FAMILIES:
        return bayes_boolean_predictions(batch)
    if batch.family in CONTINUOUS_FAMILIES:
        return least_squares_predictions(batch)
    raise ValueError(f"ideal_predictions: batch.family must be one of {BOOLEAN_FAMILIES + CONTINUOUS_FAMILIES}, "
                     f"got {batch.family!r}")


# ----------------------------------------------------------------------------- k nearest neighbours
def knn_predictions(batch: Batch, k: int = 5) -> torch.Tensor:
    """Predictions of k-nearest-neighbour regression on the examples seen so far in the sequence.

    At step ``t`` the prediction is the mean target of the ``k`` previous examples ``s < t`` whose inputs
    ``(x1_s, x2_s)`` are nearest to ``x_t`` in Euclidean distance; with fewer than ``k`` examples seen,
    the mean of all of them; with none (``t = 0``), the family mean (:func:`~l2l_lib.tasks.family_mean`).
    A memory-based learner with no model of the family, the opposite end from
    :func:`ideal_predictions`: it learns only by storing examples (Hochreiter et al., 2001, compare the
    LSTM with learners that fit each new function from its examples).

    Ties in distance are broken in favour of the most recent examples. For the Boolean families, whose
    inputs take only 4 values, every distance ties with many others, so ``k = 1`` answers the target last
    seen on the same pattern (a lookup table that follows the latest answer), and larger ``k`` averages
    the ``k`` latest answers to that pattern once it has been seen ``k`` times.

    The neighbours come from the whole history since ``t = 0``: like :func:`least_squares_predictions`,
    the learner is not told of ``switch_every`` switches (``batch.segment_starts``), so after one it mixes
    the old function's examples with the new one's (the most-recent tie-break lets a Boolean learner with
    ``k = 1`` follow the new function as soon as each pattern has been seen again).

    Cost: ``O(T^2)`` per sequence (``t`` distances and a top-k at each step); memory ``O(B*T)``.

    Args:
        batch: a batch of any family.
        k: number of neighbours, an integer >= 1.

    Returns:
        float32 ``[batch, seq_len, 1]`` predictions in target units.
    """
    check_int("k", k)

    x = batch.x
    y = batch.targets[..., 0]
    predictions = torch.empty(batch.batch_size, batch.seq_len)
    predictions[:, 0] = family_mean(batch.family)
    for t in range(1, batch.seq_len):
        # History most recent first, so that among equal distances the first ones are the most recent.
        history = x[:, :t].flip(1)  # [B, t, 2]
        distance = ((history - x[:, t, None]) ** 2).sum(-1)  # [B, t], squared: same order
        n_neighbours = min(k, t)
        # The n nearest under (distance, recency): all strictly nearer than the n-th smallest distance,
        # then the most recent of those at exactly that distance until there are n.
        kth = distance.topk(n_neighbours, dim=1, largest=False).values[:, -1:]  # [B, 1]
        nearer = distance < kth
        at_kth = distance == kth
        room = n_neighbours - nearer.sum(1, keepdim=True)
        chosen = nearer | (at_kth & (at_kth.cumsum(1) <= room))  # [B, t], n per row
        predictions[:, t] = (y[:, :t].flip(1) * chosen).sum(1) / n_neighbours
    return predictions.unsqueeze(-1)


# ----------------------------------------------------------------------------- batch gradient descent
# Chosen with tune_batch_gd (B=200, T=100, 20 steps per example, rates 0.3..30): the best rate is 10 for
# semi-linear and quadratic and 1 for Boolean-16; 3 is within 3%, 16% and 7% of their best MSEs (and
# 30 diverges), so one default serves every family. Tune per family for a fair comparison.
BATCH_GD_LEARNING_RATE = 3.0
# Full-batch steps after each new example: a fixed budget per example (the learners chapter states it).
BATCH_GD_STEPS = 20


def batch_gd_predictions(batch: Batch, *, hidden_size: int = 20, learning_rate: float = BATCH_GD_LEARNING_RATE,
                         steps_per_example: int = BATCH_GD_STEPS, generator: torch.Generator | None = None
                         ) -> torch.Tensor:
    """Predictions of batch gradient descent refitted to all examples seen so far, with a fixed step budget.

    The network is :func:`online_gd_predictions`'s: a fresh MLP per sequence, ``(x1, x2) -> tanh hidden
    layer -> sigmoid output``, with the same initialisation (the same ``generator`` gives the same
    initial weights). At step ``t`` it first takes ``steps_per_example`` full-batch gradient descent
    steps on the mean half squared error ``mean_{s<t} 0.5 * (y_s - prediction_s)**2`` over *all*
    examples seen so far, starting from the weights left by step ``t - 1`` (warm start), and then
    predicts ``y_t``. At ``t = 0`` there is nothing to fit and the untrained network answers. This is
    the "backprop on the data so far" learner that the paper's online gradient descent approximates with
    one step per example (Hochreiter et al., 2001, Sec. 3); it uses each example ``steps_per_example``
    times per later step, so it learns faster per example at a much higher cost.

    Like :func:`least_squares_predictions`, the fit uses the whole history since ``t = 0``: the learner
    is not told of ``switch_every`` switches (``batch.segment_starts``), so after one it fits the old and
    the new function's examples together.

    Gradients are written out by hand: every sequence's parameters only touch its own loss, so the batch
    needs no autograd. Cost: ``O(T^2 * steps_per_example * hidden_size)`` per sequence (each of the
    ``T * steps_per_example`` steps runs over up to ``T`` examples); memory ``O(B * T * hidden_size)``.

    Args:
        batch: a batch of any family.
        hidden_size: hidden units, an integer >= 1.
        learning_rate: gradient descent step size, finite and > 0 (on the *mean* error, so larger than
            online gradient descent's per-example step; see :func:`tune_batch_gd`).
        steps_per_example: gradient steps taken after each new example, an integer >= 0 (0: the
            untrained network's predictions throughout).
        generator: torch random generator for the initial weights (None: the global generator).

    Returns:
        float32 ``[batch, seq_len, 1]`` predictions in ``(0, 1)``.
    """
    _check_mlp_arguments(hidden_size, learning_rate)
    check_int("steps_per_example", steps_per_example, minimum=0)

    w_hidden, b_hidden, w_out, b_out = _initial_mlp(batch.batch_size, hidden_size, generator)
    x = batch.x
    y = batch.targets[..., 0]
    predictions = torch.empty(batch.batch_size, batch.seq_len)
    for t in range(batch.seq_len):
        if t > 0:
            x_seen, y_seen = x[:, :t], y[:, :t]  # [B, t, 2], [B, t]
            for _ in range(steps_per_example):
                hidden = torch.tanh(torch.bmm(x_seen, w_hidden) + b_hidden[:, None])  # [B, t, H]
                fitted = torch.sigmoid(torch.bmm(hidden, w_out[:, :, None])[..., 0] + b_out[:, None])  # [B, t]
                # Backprop of the mean of 0.5 * (y - p)^2 through sigmoid and tanh.
                delta_out = (fitted - y_seen) * fitted * (1.0 - fitted) / t  # [B, t]
                delta_hidden = delta_out[..., None] * w_out[:, None] * (1.0 - hidden * hidden)  # [B, t, H]
                w_out = w_out - learning_rate * torch.bmm(delta_out[:, None], hidden)[:, 0]
                b_out = b_out - learning_rate * delta_out.sum(1)
                w_hidden = w_hidden - learning_rate * torch.bmm(x_seen.transpose(1, 2), delta_hidden)
                b_hidden = b_hidden - learning_rate * delta_hidden.sum(1)
        predictions[:, t] = _mlp_answer(x[:, t], w_hidden, b_hidden, w_out, b_out)[1]
    return predictions.unsqueeze(-1)


BATCH_GD_RATES: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0)


def _tune_learning_rate(batch: Batch, rates: tuple[float, ...] | list[float], seed: int,
                        predict) -> tuple[float, dict[float, float]]:
    """The loop of :func:`tune_online_gd` and :func:`tune_batch_gd`.

    ``predict(rate, generator)`` returns the learner's predictions with that step size; each rate gets a
    fresh generator seeded with ``seed``, so all start from the same initial weights.
    """
    if not rates:
        raise ValueError("rates must name at least one learning rate")
    scores = {}
    for rate in rates:
        generator = torch.Generator().manual_seed(seed)
        predictions = predict(rate, generator)
        scores[float(rate)] = float(((predictions - batch.targets) ** 2).mean())
    return min(scores, key=scores.get), scores


def tune_batch_gd(batch: Batch, rates: tuple[float, ...] | list[float] = BATCH_GD_RATES, *,
                  hidden_size: int = 20, steps_per_example: int = BATCH_GD_STEPS, seed: int = 0
                  ) -> tuple[float, dict[float, float]]:
    """Pick batch gradient descent's step size for a family: the rate with the lowest sequence MSE.

    As :func:`tune_online_gd`, for :func:`batch_gd_predictions`: tune on a batch of its own (not the
    test streams); every rate starts from the same initial weights (``seed``). :func:`search_batch_gd`
    tunes the width too and checks that the best rate is inside the grid.

    Args:
        batch: tuning streams of the family.
        rates: candidate step sizes, each finite and > 0.
        hidden_size: hidden units of the network.
        steps_per_example: gradient steps after each example, an integer >= 0.
        seed: seed of the initial weights.

    Returns:
        ``(best rate, {rate: MSE over the batch})``.
    """
    return _tune_learning_rate(batch, rates, seed, lambda rate, generator: batch_gd_predictions(
        batch, hidden_size=hidden_size, learning_rate=rate, steps_per_example=steps_per_example,
        generator=generator))


# ----------------------------------------------------------------------------- tuning step size and width together
# The search tunes each gradient learner's step size AND hidden width on tuning streams as long as the
# test streams (their errors late in a long stream favour smaller steps than a short stream's), and
# checks that the chosen step size is not at an edge of the rates tried, extending the grid outward
# (by the grid's ratio) until it is not or MAX_RATE_EXTENSIONS is spent.
#
# Cost, measured on this two-core machine under load (one thread, T = 1000): online GD takes 0.1-0.2 s
# per (rate, width) on 32 streams, so it searches the full grid, widths x rates, on every tuning stream.
# Batch GD is O(T^2): 5 s (width 5), 12.5 s (20) and 21 s (40) per (rate, width) on only 8 streams, ~50 s
# for width 20 on 32. So it tunes on the first BATCH_GD_TUNING_SEQUENCES = 8 tuning streams (every
# candidate on the same streams from the same initial weights, so the ranking is paired) and searches
# by coordinates: the rates at width 20, then the widths at the best rate, then the rates around it at
# the best width, 7 to 9 evaluations. Measured for semi-linear (32 streams of T = 1000, seed 7, load ~5 on
# the two cores): online 3 s (21 evaluations, one past the grid), batch 136 s (8 evaluations), ~2.3 minutes.
GD_WIDTHS: tuple[int, ...] = (5, 10, 20, 40)
#: Log-spaced by sqrt(10): 0.0316, 0.1, 0.316, 1, 3.16 (online) and 1, 3.16, 10 (batch, on the mean error).
ONLINE_GD_SEARCH_RATES: tuple[float, ...] = tuple(float(f"{10.0 ** (k / 2):.9g}") for k in range(-3, 2))
BATCH_GD_SEARCH_RATES: tuple[float, ...] = tuple(float(f"{10.0 ** (k / 2):.9g}") for k in range(0, 3))
BATCH_GD_START_WIDTH = 20
BATCH_GD_TUNING_SEQUENCES = 8
MAX_RATE_EXTENSIONS = 4


@dataclass(frozen=True)
class GDTuning:
    """The outcome of :func:`search_online_gd` or :func:`search_batch_gd`.

    Attributes:
        learner: ``"online"`` or ``"batch"``.
        learning_rate: the best step size found.
        hidden_size: the best width found.
        scores: ``(learning_rate, hidden_size) -> MSE`` on the tuning streams, every candidate tried, in
            the order tried (a diverging candidate scores ``inf``).
        edge_hit: whether a best step size lay at an edge of the rates tried, so that the grid was
            extended beyond the rates given.
        interior: whether the final best step size has a tried neighbour on each side at the best width
            (False: MAX_RATE_EXTENSIONS was spent with the best rate still at an edge).
        n_sequences: tuning streams scored (for batch GD, the first ``BATCH_GD_TUNING_SEQUENCES``).
        seq_len: their length, which should be the test streams'.
    """

    learner: str
    learning_rate: float
    hidden_size: int
    scores: Mapping[tuple[float, int], float]
    edge_hit: bool
    interior: bool
    n_sequences: int
    seq_len: int

    @property
    def mse(self) -> float:
        """The best candidate's MSE on the tuning streams."""
        return self.scores[(self.learning_rate, self.hidden_size)]

    def rate_scores(self, hidden_size: int | None = None) -> dict[float, float]:
        """Step size -> MSE at one width (default: the best), in increasing step size."""
        width = self.hidden_size if hidden_size is None else hidden_size
        return {r: self.scores[(r, w)] for r, w in sorted(self.scores) if w == width}


def _search_grid(score: Callable[[float, int], float], widths: Sequence[int], rates: Sequence[float], *,
                 full_grid: bool, start_width: int, max_extensions: int) -> tuple[float, int, dict, bool, bool]:
    """Search ``(rate, width)``; see :func:`search_online_gd`. Returns ``(rate, width, scores, edge_hit, interior)``."""
    rates = sorted(float(r) for r in rates)
    ratio = (rates[-1] / rates[0]) ** (1.0 / (len(rates) - 1))  # the grid's (geometric mean) ratio
    scores: dict[tuple[float, int], float] = {}
    state = {"extensions": 0, "edge_hit": False}

    def evaluate(rate: float, width: int) -> None:
        for known, w in scores:  # a rate reached by extension that is (up to rounding) one already tried
            if w == width and math.isclose(known, rate, rel_tol=1e-6):
                return
        value = float(score(rate, width))
        scores[(rate, width)] = value if math.isfinite(value) else math.inf

    def best_rate(width: int) -> float:
        return min((r for r, w in scores if w == width), key=lambda r: (scores[(r, width)], r))

    def settle(width: int) -> bool:
        """Try neighbours of the width's best rate until it has one on each side; False if out of extensions."""
        while True:
            tried = [r for r, w in scores if w == width]
            best = best_rate(width)
            below, above = any(r < best for r in tried), any(r > best for r in tried)
            if below and above:
                return True
            new = float(f"{best * ratio if not above else best / ratio:.9g}")  # 9 digits: 10, not 10.0000000003
            if not rates[0] * (1 - 1e-9) <= new <= rates[-1] * (1 + 1e-9):
                if state["extensions"] >= max_extensions:
                    return False
                state["extensions"] += 1
                state["edge_hit"] = True
            evaluate(new, width)

    if full_grid:
        for width in widths:
            for rate in rates:
                evaluate(rate, width)
    else:
        for rate in rates:
            evaluate(rate, start_width)
        settle(start_width)
        rate = best_rate(start_width)
        for width in widths:
            evaluate(rate, width)
    best_width = min(widths, key=lambda w: (scores[(best_rate(w), w)], w))
    interior = settle(best_width)
    rate = best_rate(best_width)
    return rate, best_width, scores, state["edge_hit"], interior


def _check_search(widths: Sequence[int], rates: Sequence[float], max_extensions: int) -> None:
    check(isinstance(widths, (tuple, list)) and len(widths) > 0, "widths", "a non-empty list of widths", widths)
    for width in widths:
        check_int("widths[...]", width)
    check(isinstance(rates, (tuple, list)) and len(rates) >= 2 and len(set(rates)) == len(rates), "rates",
          "at least two distinct step sizes", rates)
    for rate in rates:
        check_number("rates[...]", rate, 0.0, math.inf, low_open=True)
    check_int("max_extensions", max_extensions, minimum=0)


def first_sequences(batch: Batch, n: int) -> Batch:
    """The first ``n`` streams of ``batch``."""
    if n >= batch.batch_size:
        return batch
    return dataclasses.replace(batch, **{f.name: getattr(batch, f.name)[:n] for f in dataclasses.fields(batch)
                                         if isinstance(getattr(batch, f.name), torch.Tensor)})


def _mse(batch: Batch, predictions: torch.Tensor) -> float:
    return float(((predictions - batch.targets) ** 2).mean())


def search_online_gd(batch: Batch, *, widths: Sequence[int] = GD_WIDTHS,
                     rates: Sequence[float] = ONLINE_GD_SEARCH_RATES, max_extensions: int = MAX_RATE_EXTENSIONS,
                     seed: int = 0) -> GDTuning:
    """Tune online gradient descent's step size and hidden width together, with an edge check.

    Scores every ``(rate, width)`` of the grid by the MSE of :func:`online_gd_predictions` over ``batch``
    (every candidate from the initial weights drawn with ``seed``), takes the best, and, while its rate
    is the smallest or largest tried at its width, tries the next rate outward (rates multiplied or
    divided by the grid's ratio) until the best rate is interior or ``max_extensions`` extensions are
    spent (recorded in :attr:`GDTuning.interior`).

    ``batch`` must be tuning streams of their own, never the test streams, and as long as the test
    streams: a learner tuned on short streams is tuned for its early error (the caller decides; nothing
    about the length is checked here). Hochreiter et al. (2001), Sec. 3, compare the LSTM with online
    gradient descent; tuning both knobs on streams like the test's is what makes the comparison fair.

    Args:
        batch: tuning streams, any family.
        widths: hidden widths to try, integers >= 1.
        rates: step sizes, at least two, each > 0; the grid should be log-spaced (the extension ratio is
            its geometric mean ratio).
        max_extensions: most rates tried beyond the grid, an integer >= 0.
        seed: seed of the initial weights.

    Returns:
        A :class:`GDTuning`.
    """
    _check_search(widths, rates, max_extensions)
    rate, width, scores, edge_hit, interior = _search_grid(
        lambda r, w: _mse(batch, online_gd_predictions(batch, hidden_size=w, learning_rate=r,
                                                       generator=torch.Generator().manual_seed(seed))),
        widths, rates, full_grid=True, start_width=widths[0], max_extensions=max_extensions)
    return GDTuning("online", rate, width, scores, edge_hit, interior, batch.batch_size, batch.seq_len)


def search_batch_gd(batch: Batch, *, widths: Sequence[int] = GD_WIDTHS, rates: Sequence[float] = BATCH_GD_SEARCH_RATES,
                    start_width: int = BATCH_GD_START_WIDTH, n_sequences: int = BATCH_GD_TUNING_SEQUENCES,
                    steps_per_example: int = BATCH_GD_STEPS, max_extensions: int = MAX_RATE_EXTENSIONS,
                    seed: int = 0) -> GDTuning:
    """Tune batch gradient descent's step size and hidden width, with an edge check, at a bounded cost.

    As :func:`search_online_gd`, for :func:`batch_gd_predictions` (``steps_per_example`` fixed), on the
    first ``n_sequences`` streams of ``batch``, and by coordinates since each evaluation costs
    ``O(T^2)``: the rates at ``start_width`` (extended outward until the best is interior), then every
    width at that best rate, then the rates around the best rate at the best width (extended likewise).

    Args:
        batch: tuning streams as long as the test streams (never the test streams).
        widths: hidden widths to try, integers >= 1.
        rates: step sizes on the mean error, at least two, log-spaced, each > 0.
        start_width: the width of the first rate search (added to ``widths`` if missing).
        n_sequences: how many of ``batch``'s streams to score, an integer >= 1.
        steps_per_example: gradient steps after each example, an integer >= 0.
        max_extensions: most rates tried beyond the grid, an integer >= 0.
        seed: seed of the initial weights.

    Returns:
        A :class:`GDTuning`.
    """
    _check_search(widths, rates, max_extensions)
    check_int("start_width", start_width)
    check_int("n_sequences", n_sequences)
    check_int("steps_per_example", steps_per_example, minimum=0)
    streams = first_sequences(batch, n_sequences)
    widths = tuple(widths) if start_width in widths else (start_width, *widths)
    rate, width, scores, edge_hit, interior = _search_grid(
        lambda r, w: _mse(streams, batch_gd_predictions(streams, hidden_size=w, learning_rate=r,
                                                        steps_per_example=steps_per_example,
                                                        generator=torch.Generator().manual_seed(seed))),
        widths, rates, full_grid=False, start_width=start_width, max_extensions=max_extensions)
    return GDTuning("batch", rate, width, scores, edge_hit, interior, streams.batch_size, streams.seq_len)
