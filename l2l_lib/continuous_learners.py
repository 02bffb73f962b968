"""Reference learners of the continuous families that could win, and the floor before exactness.

Hochreiter, Younger & Conwell (2001), Sec. 3, report the LSTM's error on semi-linear and quadratic
functions. A fair reading needs the learners that could beat it from the same examples, not only the
exact fit that it cannot match:

* semi-linear: least squares on ``y`` itself against ``(x1, x2, 1)`` (no logit): the family is nearly
  linear over the input square, so this plain online regression is already a strong learner;
* quadratic: the running mean of the targets, and online linear regression on ``(x1, x2, 1)``;
* both: least squares on the right features (the logit, or the six monomials), exact after 3 or 6
  examples; before that, the **moment-matched linear estimator**: the best estimator that is linear
  in the targets, given the first two moments of the family's prior over the coefficients. It is the
  floor before exactness for linear estimators (the Bayes estimator itself may be nonlinear in the
  targets, so this is not called Bayes-optimal).

Every learner takes a :class:`~l2l_lib.tasks.Batch` and returns float32 ``[batch, seq_len, 1]``
predictions in target units, the prediction at ``t`` using only the examples ``s < t`` and ``x_t``
(as in :mod:`l2l_lib.baselines`). Fits run in float64, vectorised over the batch and the positions:
every step's refit is one batched linear solve on the cumulative Gram matrix of the examples before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch

from .baselines import DEFAULT_RIDGE, Y_CLAMP, _check_family, least_squares_predictions, online_fit
from .tasks import (CONTINUOUS_FAMILIES, DEFAULT_QUADRATIC_MAP, QUADRATIC_MAPS, Batch, quadratic_monomials,
                    quadratic_values)
from .validation import check, check_choice, check_int, check_number

# The moment-matched estimator's noise variance (squared target, or logit, units): the targets are
# noiseless, so it only keeps the solves defined. Once k >= P it acts as a ridge on the whitened
# coefficients, whose Gram matrix is S-times smaller than least squares' (S ~ 1/1200 to 1/3): at 1e-14
# the bias stays below DEFAULT_RIDGE's (the 7th quadratic prediction's MSE ~1e-12, as least squares').
MOMENT_JITTER = 1e-14
# Monte Carlo draws of the quadratic prior's moments: 2^18 functions (in +/- pairs) estimate each entry
# of the covariance to ~0.3% of the largest one; the estimator's error depends on it smoothly.
PRIOR_DRAWS = 2 ** 18
PRIOR_SEED = 0
# Six inputs at which the monomials are linearly independent: a function's coefficients in the
# monomial basis are recovered from its values there (the task's own map, whatever it is).
_PROBE_POINTS = ((0.0, 0.0), (1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0), (1.0, 1.0))


def _linear_features(batch: Batch) -> torch.Tensor:
    x1, x2 = batch.x.double().unbind(-1)
    return torch.stack([x1, x2, torch.ones_like(x1)], dim=-1)  # [B, T, 3]


# ----------------------------------------------------------------------------- simple learners
def running_mean_predictions(batch: Batch) -> torch.Tensor:
    """The mean of the targets seen so far in the sequence; 0.5 (the family mean) before any.

    The best constant for the function at hand, learnt from its examples: it captures the function's
    offset and nothing of its shape. Under the quadratic's fixed map (:data:`~l2l_lib.tasks.QUADRATIC_MAPS`)
    most of a function's variation is its offset, so this is the plateau a meta-learner first reaches.

    Args:
        batch: a batch of any family.

    Returns:
        float32 ``[batch, seq_len, 1]``.
    """
    y = batch.targets[..., 0].double()
    seen = torch.cumsum(y, dim=1) - y  # sum over s < t
    count = torch.arange(batch.seq_len, dtype=torch.float64)
    mean = torch.where(count > 0, seen / count.clamp_min(1.0), torch.full_like(seen, 0.5))
    return mean.to(torch.float32).unsqueeze(-1)


def linear_least_squares_predictions(batch: Batch, ridge: float = DEFAULT_RIDGE) -> torch.Tensor:
    """Online ridge regression of ``y - 0.5`` on ``(x1, x2, 1)``, refitted after every example.

    Predicts ``0.5 + w . (x1, x2, 1)``, centred like :func:`~l2l_lib.baselines.least_squares_predictions`
    (the zero-data prediction is the family mean). Semi-linear: *online least squares on y* itself, with
    no logit; ``0.5 * (1 + tanh(z))`` with ``|z| <= 3`` is close to linear over the input square, so it
    is nearly as good as the exact logit fit (it never becomes exact). Quadratic: *online linear ridge*,
    the best plane through the examples, blind to curvature.

    Args:
        batch: a continuous batch.
        ridge: L2 penalty on ``w``, finite and > 0 (the default only makes the first fits unique).

    Returns:
        float32 ``[batch, seq_len, 1]``; not clipped to ``[0, 1]``.
    """
    _check_family(batch, CONTINUOUS_FAMILIES, "linear_least_squares_predictions")
    check_number("ridge", ridge, 0.0, math.inf, low_open=True)
    fitted = online_fit(_linear_features(batch), batch.targets[..., 0].double() - 0.5, ridge)
    return (0.5 + fitted).to(torch.float32).unsqueeze(-1)


def logit_least_squares_predictions(batch: Batch, ridge: float = DEFAULT_RIDGE) -> torch.Tensor:
    """Semi-linear: least squares on ``atanh(2y - 1)`` against ``(x1, x2, 1)``, exact after 3 examples.

    :func:`~l2l_lib.baselines.least_squares_predictions` (the book's "ideal learner") under its name.
    """
    _check_family(batch, ("semilinear",), "logit_least_squares_predictions")
    return least_squares_predictions(batch, ridge)


def monomial_least_squares_predictions(batch: Batch, ridge: float = DEFAULT_RIDGE) -> torch.Tensor:
    """Quadratic: least squares of ``y - 0.5`` on the six monomials, exact after 6 examples.

    :func:`~l2l_lib.baselines.least_squares_predictions` (the book's "ideal learner") under its name.
    """
    _check_family(batch, ("quadratic",), "monomial_least_squares_predictions")
    return least_squares_predictions(batch, ridge)


# ----------------------------------------------------------------------------- the prior's moments
@dataclass(frozen=True)
class PriorMoments:
    """Mean and covariance of a family's coefficients in the space where the family is linear.

    Semi-linear: ``z = atanh(2y - 1) = w . (x1, x2, 1)``, ``theta = w``. Quadratic:
    ``y = 0.5 + theta . phi(x)`` with ``phi`` the six monomials; under the fixed map
    ``theta = coefficients / 20``, under ``per_function`` a nonlinear function of the coefficients.

    Attributes:
        mean: float64 ``[P]``.
        covariance: float64 ``[P, P]``.
        n_functions: Monte Carlo draws behind the estimate (0: exact, closed form).
    """

    mean: torch.Tensor
    covariance: torch.Tensor
    n_functions: int


def quadratic_theta(coefficients: torch.Tensor, quadratic_map: str) -> torch.Tensor:
    """The monomial coefficients ``theta [..., 6]`` of ``y - 0.5`` for quadratics with ``coefficients [..., 6]``.

    Read off the task's own map (:func:`~l2l_lib.tasks.quadratic_values`): the values at six inputs
    where the monomials are independent determine ``theta``, as any affine output map keeps ``y`` a
    quadratic.
    """
    check_choice("quadratic_map", quadratic_map, QUADRATIC_MAPS)
    points = torch.tensor(_PROBE_POINTS, dtype=torch.float64)
    design = quadratic_monomials(points[:, 0], points[:, 1])  # [6, 6]
    c = coefficients.double().unsqueeze(-2)  # [..., 1, 6]
    values = quadratic_values(c, points[:, 0], points[:, 1], quadratic_map) - 0.5  # [..., 6]
    return torch.linalg.solve(design, values.unsqueeze(-1)).squeeze(-1)


@lru_cache(maxsize=None)
def prior_moments(family: str, quadratic_map: str = DEFAULT_QUADRATIC_MAP, n_functions: int = PRIOR_DRAWS,
                  seed: int = PRIOR_SEED) -> PriorMoments:
    """The first two moments of ``family``'s prior over ``theta`` (see :class:`PriorMoments`).

    Coefficients ``~ U[-1, 1]`` (the training prior, Hochreiter et al., 2001, Sec. 3). Semi-linear:
    exact, ``mean = 0``, ``covariance = I / 3``. Quadratic: Monte Carlo over ``n_functions`` functions
    drawn from a fixed generator, in pairs ``c, -c``: both maps send ``c -> -c`` to ``y -> 1 - y``, so
    ``theta -> -theta`` and the estimated mean is exactly 0 (the fixed map's closed form,
    ``covariance = I / 1200``, is checked in the tests). Cached per argument set.

    Args:
        family: ``"semilinear"`` or ``"quadratic"``.
        quadratic_map: one of :data:`~l2l_lib.tasks.QUADRATIC_MAPS` (quadratic only).
        n_functions: Monte Carlo draws, an even integer >= 2.
        seed: seed of the draws, an integer >= 0.
    """
    check_choice("family", family, CONTINUOUS_FAMILIES)
    check_choice("quadratic_map", quadratic_map, QUADRATIC_MAPS)
    check(isinstance(n_functions, int) and n_functions >= 2 and n_functions % 2 == 0, "n_functions",
          "an even integer >= 2", n_functions)
    check_int("seed", seed, minimum=0)
    if family == "semilinear":
        return PriorMoments(torch.zeros(3, dtype=torch.float64), torch.eye(3, dtype=torch.float64) / 3.0, 0)
    generator = torch.Generator().manual_seed(seed)
    half = 2.0 * torch.rand(n_functions // 2, 6, generator=generator, dtype=torch.float64) - 1.0
    theta = quadratic_theta(torch.cat([half, -half]), quadratic_map)  # [n, 6]
    mean = theta.mean(0)
    centred = theta - mean
    return PriorMoments(mean, centred.T @ centred / n_functions, n_functions)


# ----------------------------------------------------------------------------- moment-matched linear estimator
def moment_matched_predictions(batch: Batch, quadratic_map: str = DEFAULT_QUADRATIC_MAP, *,
                               moments: PriorMoments | None = None, jitter: float = MOMENT_JITTER
                               ) -> torch.Tensor:
    """The moment-matched linear estimator: the floor before exactness for estimators linear in the targets.

    Write the family as linear in ``theta``: ``r = theta . phi(x)`` with ``r = y - 0.5`` and ``phi`` the
    six monomials (quadratic), or ``r = atanh(2y - 1)`` and ``phi = (x1, x2, 1)`` (semi-linear, *in
    logit space*). Given the prior's mean ``m`` and covariance ``S`` of ``theta``
    (:func:`prior_moments`), the estimate after the ``k`` examples before ``t`` (rows of ``Phi``) is the
    Gaussian-prior posterior mean

        ``theta_hat = m + S Phi^T (Phi S Phi^T + jitter I)^{-1} (r - Phi m)``,

    the best estimator of ``theta`` that is linear in ``r`` given only the prior's first two moments
    (the linear minimum-mean-squared-error estimator). It predicts ``0.5 + theta_hat . phi(x_t)``
    (quadratic) or ``0.5 * (1 + tanh(theta_hat . phi(x_t)))`` (semi-linear). Once ``k`` reaches the
    number of features (3 or 6) the data determine ``theta`` and it equals least squares; before, it
    shrinks towards the prior along the directions the data leave open, weighted by ``S``. When ``m = 0``
    and ``S`` is a multiple of ``I`` (semi-linear; quadratic under the fixed map) it *is* minimum-norm
    least squares; under the quadratic's ``per_function`` map ``S`` is not, and it beats least squares
    before the 6th example. Not the Bayes estimator, which may be nonlinear in the targets.

    Computed in the prior's whitened coordinates (``theta = m + L u``, ``S = L L^T``): for ``k`` below the
    number of features by the formula above (a ``k x k`` solve), from then on as a ridge fit of ``u`` with
    penalty ``jitter`` (the push-through identity makes it the same estimator, and the ``P x P`` solve is
    well conditioned once the data determine ``theta``).

    Args:
        batch: a continuous batch, drawn with coefficients ``~ U[-1, 1]`` (the prior of the moments).
        quadratic_map: the quadratic's output map, one of :data:`~l2l_lib.tasks.QUADRATIC_MAPS`; it
            sets the prior's moments (ignored for semi-linear). It must be the batch's map.
        moments: the prior's moments, default :func:`prior_moments` of the family (and map).
        jitter: the noise variance that keeps the solve defined, finite and > 0.

    Returns:
        float32 ``[batch, seq_len, 1]`` predictions in target units.
    """
    _check_family(batch, CONTINUOUS_FAMILIES, "moment_matched_predictions")
    check_choice("quadratic_map", quadratic_map, QUADRATIC_MAPS)
    check_number("jitter", jitter, 0.0, math.inf, low_open=True)
    if moments is None:
        moments = prior_moments(batch.family, quadratic_map)
    y = batch.targets[..., 0].double()
    if batch.family == "semilinear":
        features = _linear_features(batch)
        response = torch.atanh(2.0 * y.clamp(Y_CLAMP, 1.0 - Y_CLAMP) - 1.0)
    else:
        x1, x2 = batch.x.double().unbind(-1)
        features = quadratic_monomials(x1, x2)
        response = y - 0.5
    check(tuple(moments.mean.shape) == (features.shape[-1],), "moments.mean",
          f"a vector of {features.shape[-1]} entries", tuple(moments.mean.shape))
    cholesky = torch.linalg.cholesky(moments.covariance.double())
    prior_fit = features @ moments.mean.double()  # [B, T]: phi . m
    whitened = features @ cholesky  # [B, T, P]: phi . L
    residual = response - prior_fit
    fitted = prior_fit + online_fit(whitened, residual, jitter)
    # Before the data determine theta (k < P) that primal solve is nearly singular (float64 then loses
    # ~1e-4): use the k x k dual form there, S Phi^T (Phi S Phi^T + jitter I)^{-1} (r - Phi m).
    for k in range(1, min(features.shape[-1], batch.seq_len)):
        seen = whitened[:, :k]  # [B, k, P]: rows of Phi L
        kernel = seen @ seen.transpose(1, 2) + jitter * torch.eye(k, dtype=torch.float64)  # Phi S Phi^T
        alpha = torch.linalg.solve(kernel, residual[:, :k].unsqueeze(-1))  # [B, k, 1]
        fitted[:, k] = prior_fit[:, k] + (whitened[:, k, None] @ seen.transpose(1, 2) @ alpha)[:, 0, 0]
    predictions = 0.5 * (1.0 + torch.tanh(fitted)) if batch.family == "semilinear" else 0.5 + fitted
    return predictions.to(torch.float32).unsqueeze(-1)
