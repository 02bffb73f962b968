"""Small-sample statistics for the book's comparisons: success counts, paired tests, per-position intervals.

The book trains few networks per recipe (5 evaluation seeds per held-out triple, 3 for the ablations),
and their outcomes split in two kinds: a network either learns to learn (its error after a few examples
falls to the ideal learner's) or it only recognises the training functions. Means and standard deviations
describe such outcomes badly, and normal approximations are wrong at these sample sizes, so the counts and
the paired tests here are exact; only the per-position interval, over hundreds of sequences, is a normal
approximation (numpy and the standard library, no scipy):

* :func:`clopper_pearson` and :func:`success_count`: how many networks succeeded, with the exact 95%
  interval for the success rate (Clopper & Pearson 1934; bib key ``clopper1934``), which keeps its
  coverage for any number of trials, unlike the normal (Wald) interval that collapses to a point at 0/5 or 5/5.
* :func:`sign_test`, :func:`wilcoxon_signed_rank`, :func:`paired_comparison`: two recipes compared on
  *paired* networks. Networks with the same (held-out triple, seed) start from the same initial weights
  and see the same streams, so the difference within a pair removes the seed-to-seed spread that would
  swamp an unpaired comparison. With 5-20 pairs the null distributions are enumerated exactly instead of
  approximated by a normal.
* :func:`position_intervals`: the error at each position of the evaluation sequences (Sec. 3 of
  Hochreiter, Younger & Conwell 2001 plots it against the number of examples seen), with a normal
  interval for its mean over many (hundreds of) independent sequences, where the normal approximation
  is sound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from .validation import check, check_int, check_number

# Bisection steps for the interval bounds and the normal quantile: each halves an interval in [0, 1]
# or [-40, 40]; 200 steps reach the resolution of a float64 whatever the start.
_BISECTION_STEPS = 200


# ----------------------------------------------------------------------------- helpers


def _as_int(value: object) -> object:
    """A numpy integer as a Python ``int`` (counts often come from ``np.sum``); anything else unchanged."""
    return int(value) if isinstance(value, np.integer) else value


def _as_float(value: object) -> object:
    """A numpy float or integer as a Python number; anything else unchanged (for the checks)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _check_confidence(confidence: object) -> float:
    """``confidence`` if it is a number in the open interval (0, 1), else ``ValueError``."""
    return check_number("confidence", _as_float(confidence), 0.0, 1.0, low_open=True, high_open=True)


def _confidence_label(confidence: float) -> str:
    """``0.95`` -> ``"95%"``, ``0.995`` -> ``"99.5%"``."""
    return f"{round(100 * confidence, 6):g}%"


def _significant(value: float, digits: int = 2) -> str:
    """``value`` with ``digits`` significant digits in fixed notation (scientific below 1e-4 and above 1e6)."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude < -4 or magnitude >= 6:
        return f"{value:.{digits - 1}e}"
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:.{decimals}f}"


def _log_binomial_coefficients(trials: int) -> np.ndarray:
    """log C(trials, k) for k = 0..trials: shape [trials + 1]."""
    return np.array([math.lgamma(trials + 1) - math.lgamma(k + 1) - math.lgamma(trials - k + 1)
                     for k in range(trials + 1)])


def _binomial_tail(successes: int, trials: int, p: float, *, upper: bool,
                   log_comb: np.ndarray | None = None) -> float:
    """P(X >= successes) if ``upper`` else P(X <= successes), X ~ Binomial(trials, p), summed directly.

    Summing the tail itself (not one minus the other tail) keeps tiny tails accurate; the terms are
    summed in log space so trials in the thousands neither overflow nor underflow. ``log_comb``: the
    :func:`_log_binomial_coefficients` of ``trials``, when the caller has them already.
    """
    if p <= 0.0:
        return 1.0 if (not upper or successes <= 0) else 0.0
    if p >= 1.0:
        return 1.0 if (upper or successes >= trials) else 0.0
    if log_comb is None:
        log_comb = _log_binomial_coefficients(trials)
    k = np.arange(successes, trials + 1) if upper else np.arange(successes + 1)
    terms = log_comb[k] + k * math.log(p) + (trials - k) * math.log1p(-p)
    top = float(terms.max())
    return float(math.exp(top) * np.exp(terms - top).sum())


def _bisect(function, target: float, low: float, high: float, *, increasing: bool) -> float:
    """The x in [low, high] where the monotone ``function`` crosses ``target``, by bisection."""
    for _ in range(_BISECTION_STEPS):
        middle = 0.5 * (low + high)
        if middle in (low, high):
            break
        if (function(middle) < target) == increasing:
            low = middle
        else:
            high = middle
    return 0.5 * (low + high)


def normal_quantile(probability: float) -> float:
    """The standard normal quantile: the z with P(Z <= z) = ``probability``, 0 < probability < 1.

    Found by bisection on the normal CDF ``(1 + erf(z / sqrt 2)) / 2`` (standard library only), so it is
    accurate to float64 resolution; ``normal_quantile(0.975)`` = 1.959963984540054.
    """
    probability = check_number("probability", _as_float(probability), 0.0, 1.0, low_open=True, high_open=True)
    cdf = lambda z: 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))  # noqa: E731
    return _bisect(cdf, probability, -40.0, 40.0, increasing=True)


def _pair_arrays(a: Sequence[float] | np.ndarray,
                 b: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as float64 vectors of one length, else ``ValueError``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    check(a.ndim == 1, "a", "a 1-D sequence of numbers", a.shape)
    check(b.ndim == 1, "b", "a 1-D sequence of numbers", b.shape)
    check(len(a) == len(b), "b", f"as long as a ({len(a)} values)", f"{len(b)} values")
    return a, b


def _differences(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> np.ndarray:
    """``a - b`` per pair, [n]; equal values (infinities included) give 0; NaN raises ``ValueError``."""
    a, b = _pair_arrays(a, b)
    for name, values in (("a", a), ("b", b)):
        check(not np.isnan(values).any(), name,
              "free of NaN (paired_comparison drops and counts NaN pairs)", values.tolist())
    with np.errstate(invalid="ignore"):
        return np.where(a == b, 0.0, a - b)


# ----------------------------------------------------------------------------- success counts


def clopper_pearson(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) confidence interval for a binomial success rate.

    The lower bound is the rate p at which seeing ``successes`` or more in ``trials`` has probability
    (1 - confidence) / 2, the upper bound the rate at which seeing ``successes`` or fewer has that
    probability (Clopper & Pearson 1934); both are found by bisection on the binomial tails, summed
    directly. With 0 successes the lower bound is 0, with ``trials`` successes the upper bound is 1.
    The interval covers the true rate with at least ``confidence`` whatever the number of trials, which
    is why the book uses it for "k of 5 seeds learnt to learn".

    Args:
        successes: the number of successes, 0..trials.
        trials: the number of trials, >= 1.
        confidence: the coverage, in (0, 1).

    Returns:
        (low, high), rates in [0, 1].
    """
    trials = check_int("trials", _as_int(trials), minimum=1)
    successes = check_int("successes", _as_int(successes), minimum=0, maximum=trials)
    confidence = _check_confidence(confidence)
    alpha = 1.0 - confidence
    log_comb = _log_binomial_coefficients(trials)
    low = 0.0 if successes == 0 else _bisect(
        lambda p: _binomial_tail(successes, trials, p, upper=True, log_comb=log_comb),
        alpha / 2, 0.0, 1.0, increasing=True)
    high = 1.0 if successes == trials else _bisect(
        lambda p: _binomial_tail(successes, trials, p, upper=False, log_comb=log_comb),
        alpha / 2, 0.0, 1.0, increasing=False)
    return low, high


@dataclass(frozen=True)
class SuccessCount:
    """How many of ``trials`` runs succeeded, with the Clopper-Pearson interval [low, high] for the rate.

    Attributes:
        successes: runs that succeeded.
        trials: runs in all.
        low, high: the interval for the success rate, in [0, 1].
        confidence: its coverage (0.95 unless asked otherwise).
    """

    successes: int
    trials: int
    low: float
    high: float
    confidence: float = 0.95

    @property
    def rate(self) -> float:
        """The observed success rate, successes / trials."""
        return self.successes / self.trials

    def text(self) -> str:
        """E.g. ``"4/5 (95% CI 0.28–0.99)"`` (an en dash between the bounds, two decimals)."""
        return (f"{self.successes}/{self.trials} ({_confidence_label(self.confidence)} CI "
                f"{self.low:.2f}–{self.high:.2f})")


def success_count(values: Sequence[float] | np.ndarray, threshold: float,
                  confidence: float = 0.95) -> SuccessCount:
    """Count the runs whose value is at or below ``threshold`` (e.g. a final error), with its interval.

    Args:
        values: one value per run, any shape (flattened), e.g. [n_seeds]; lower is better. NaN (a
            diverged or missing run) counts as a failure, never silently dropped.
        threshold: the success criterion, in the values' units; a value <= threshold succeeds.
        confidence: the coverage of the Clopper-Pearson interval, in (0, 1).

    Returns:
        A :class:`SuccessCount` over all values.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    check(values.size >= 1, "values", "a non-empty sequence of numbers", values.tolist())
    threshold = _as_float(threshold)
    check(isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and not math.isnan(threshold),
          "threshold", "a number (not NaN)", threshold)
    with np.errstate(invalid="ignore"):
        successes = int(np.count_nonzero(values <= threshold))  # NaN <= x is False: a failure
    low, high = clopper_pearson(successes, int(values.size), confidence)
    return SuccessCount(successes, int(values.size), low, high, _check_confidence(confidence))


# ----------------------------------------------------------------------------- paired tests


def sign_test(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """The two-sided exact sign test of paired values: is a below b as often as above it?

    Pairs with a == b are dropped; with n remaining pairs, k of them the rarer sign, the p-value is
    min(1, 2 P(X <= k)) for X ~ Binomial(n, 1/2), computed with exact integer arithmetic. It uses only
    the direction of each difference, so it holds whatever the differences' distribution (outcomes of
    two kinds give very skewed differences) and is exact at the book's 5-20 pairs.

    Args:
        a, b: paired values, [n] each (pair i: the same held-out triple and seed, so the same initial
            weights); NaN is not allowed (see :func:`paired_comparison`).

    Returns:
        The p-value, in (0, 1]; 1.0 when no pair differs.
    """
    d = _differences(a, b)
    below, above = int(np.count_nonzero(d < 0)), int(np.count_nonzero(d > 0))
    n = below + above
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, j) for j in range(min(below, above) + 1))
    return float(min(Fraction(1), Fraction(2 * tail, 2 ** n)))


def _doubled_midranks(magnitudes: np.ndarray) -> np.ndarray:
    """Twice the ranks of ``magnitudes`` (1 = smallest), ties sharing their mid-rank: integers, [n].

    A tie group covering sorted positions i..j (1-based) has mid-rank (i + j) / 2, so doubled it is the
    integer i + j.
    """
    order = np.argsort(magnitudes, kind="stable")
    sorted_values = magnitudes[order]
    doubled = np.empty(len(magnitudes), dtype=np.int64)
    start = 0
    while start < len(sorted_values):
        end = start
        while end + 1 < len(sorted_values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        doubled[order[start: end + 1]] = (start + 1) + (end + 1)
        start = end + 1
    return doubled


def _signed_rank_null(doubled_ranks: np.ndarray) -> np.ndarray:
    """P(T = t) for t = 0..sum(doubled_ranks), T the sum of the doubled ranks given a + sign.

    Under the null hypothesis each difference is + or - with probability 1/2 independently, so the
    distribution is the convolution over ranks of "0 or r, each with 1/2": a dynamic program over the
    integer doubled ranks, O(n * sum) steps (n = 25: 25 * 650), exact in float64 up to n = 50 (its
    probabilities are multiples of 2^-n).
    """
    total = int(doubled_ranks.sum())
    distribution = np.zeros(total + 1)
    distribution[0] = 1.0
    reach = 0
    for r in (int(x) for x in doubled_ranks):
        shifted = np.zeros_like(distribution)
        shifted[r: reach + r + 1] = distribution[: reach + 1]
        distribution = 0.5 * (distribution + shifted)
        reach += r
    return distribution


def wilcoxon_signed_rank(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """The two-sided exact Wilcoxon signed-rank test of paired values (is the median of a - b zero?).

    Pairs with a == b are dropped; the remaining |a - b| are ranked (ties share their mid-rank) and T+
    is the sum of the ranks of the positive differences. The null distribution is enumerated exactly
    over all 2^n sign patterns of the actual (mid-)ranks (a dynamic program, so ties are handled
    exactly, not by a normal correction), and p = min(1, 2 P(T >= max(T+, T-))). It uses the sizes of
    the differences as well as their signs, so it is more powerful than :func:`sign_test` when the
    differences are roughly symmetric; the book reports both.

    Args:
        a, b: paired values, [n] each (same triple and seed per pair); NaN is not allowed (see
            :func:`paired_comparison`).

    Returns:
        The p-value, in (0, 1]; 1.0 when no pair differs. With n = 5 differences all of one sign,
        p = 2 / 2^5 = 0.0625: five pairs can never reach p < 0.05.
    """
    d = _differences(a, b)
    d = d[d != 0]
    if len(d) == 0:
        return 1.0
    doubled = _doubled_midranks(np.abs(d))
    plus = int(doubled[d > 0].sum())
    minus = int(doubled.sum()) - plus
    distribution = _signed_rank_null(doubled)
    p = 2.0 * float(distribution[max(plus, minus):].sum())
    return min(1.0, p)


@dataclass(frozen=True)
class PairedComparison:
    """Two recipes compared on paired networks (same triple and seed), lower values better.

    Attributes:
        names: the two recipes' names, (a, b).
        n: pairs compared (pairs with a NaN are left out).
        a_better, b_better, ties: pairs where a < b, a > b, a == b.
        median_difference: the median of a - b over the compared pairs (NaN when none), in the values'
            units; negative means a is lower.
        sign_p, wilcoxon_p: two-sided exact p-values of :func:`sign_test` and :func:`wilcoxon_signed_rank`.
        dropped: pairs left out because a or b was NaN.
    """

    names: tuple[str, str]
    n: int
    a_better: int
    b_better: int
    ties: int
    median_difference: float
    sign_p: float
    wilcoxon_p: float
    dropped: int = 0

    def text(self) -> str:
        """A sentence fragment, e.g. "a lower in 14 of 20 pairs, b in 5, 1 tie; median difference -0.0021;
        sign test p = 0.064, Wilcoxon p = 0.031" (plus "; 2 pairs dropped (NaN)" when any were)."""
        first, second = self.names
        dropped = "" if self.dropped == 0 else (
            f"; {self.dropped} pair{'s' if self.dropped != 1 else ''} dropped (NaN)")
        if self.n == 0:
            return f"no pairs to compare{dropped}"
        ties = f"{self.ties} tie{'s' if self.ties != 1 else ''}"
        return (f"{first} lower in {self.a_better} of {self.n} pair{'s' if self.n != 1 else ''}, "
                f"{second} in {self.b_better}, {ties}; "
                f"median difference {_significant(self.median_difference)}; "
                f"sign test p = {_significant(self.sign_p)}, Wilcoxon p = {_significant(self.wilcoxon_p)}"
                f"{dropped}")


def paired_comparison(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                      names: tuple[str, str] = ("a", "b")) -> PairedComparison:
    """Compare two recipes on paired values (lower is better): counts, median difference, exact tests.

    Pair i of ``a`` and ``b`` must be the same held-out triple and seed (hence the same initial weights
    and streams), so each difference measures the recipe alone. Pairs where either value is NaN (a run
    that diverged or is missing) are dropped and counted in ``dropped``.

    Args:
        a, b: paired values, [n] each, e.g. final errors; equal lengths.
        names: the labels of a and b in :meth:`PairedComparison.text`.

    Returns:
        A :class:`PairedComparison`.
    """
    a, b = _pair_arrays(a, b)
    check(len(names) == 2 and all(isinstance(x, str) for x in names), "names", "a pair of strings", names)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    with np.errstate(invalid="ignore"):
        d = np.where(a == b, 0.0, a - b)
    return PairedComparison(
        names=(names[0], names[1]), n=int(len(d)),
        a_better=int(np.count_nonzero(d < 0)), b_better=int(np.count_nonzero(d > 0)),
        ties=int(np.count_nonzero(d == 0)),
        median_difference=float(np.median(d)) if len(d) else math.nan,
        sign_p=sign_test(a, b), wilcoxon_p=wilcoxon_signed_rank(a, b),
        dropped=int(np.count_nonzero(~keep)))


# ----------------------------------------------------------------------------- per-position intervals


def position_intervals(errors: Sequence[Sequence[float]] | np.ndarray,
                       confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean error at each sequence position, with its normal-approximation confidence interval.

    For each position t: mean_t over sequences and mean_t -/+ z * sd_t / sqrt(n) (sd with n - 1
    degrees of freedom, z the standard normal quantile at (1 + confidence) / 2). The sequences are
    independent draws (fresh functions and inputs), and the book averages hundreds of them, so the
    central limit theorem makes this interval sound; it is not meant for a handful of seeds (use
    :func:`success_count` or the paired tests there).

    Args:
        errors: [n_sequences, T] errors (e.g. squared error per position), n_sequences >= 2, finite.
        confidence: the coverage, in (0, 1).

    Returns:
        (mean, low, high), each [T], in the errors' units.
    """
    errors = np.asarray(errors, dtype=np.float64)
    check(errors.ndim == 2, "errors", "a 2-D array [n_sequences, T]", errors.shape)
    check(errors.shape[0] >= 2, "errors", "an array with at least 2 sequences (rows)", errors.shape)
    check(bool(np.isfinite(errors).all()), "errors", "finite (no NaN or infinity)", "non-finite values")
    confidence = _check_confidence(confidence)
    n = errors.shape[0]
    mean = errors.mean(axis=0)
    half = normal_quantile(0.5 + confidence / 2) * errors.std(axis=0, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half
