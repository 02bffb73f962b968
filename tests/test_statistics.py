"""Tests of l2l_lib.statistics against independent references: published intervals, direct binomial
sums with exact fractions, brute-force enumeration of sign patterns, hand computations."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from l2l_lib.statistics import (PairedComparison, SuccessCount, clopper_pearson, normal_quantile,
                                paired_comparison, position_intervals, sign_test, success_count,
                                wilcoxon_signed_rank)


# ----------------------------------------------------------------------------- references


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k), X ~ Binomial(n, p), by direct summation of the pmf (no logs, no bisection)."""
    return sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(k + 1))


def brute_force_wilcoxon(d: np.ndarray) -> float:
    """Two-sided Wilcoxon p by listing all 2^n sign patterns of the nonzero |d| (mid-ranks by hand)."""
    d = d[d != 0]
    if len(d) == 0:
        return 1.0
    magnitudes = np.abs(d)
    # mid-rank of each value: 1 + number smaller + (number equal - 1) / 2
    ranks = [Fraction(2 * int(np.sum(magnitudes < m)) + int(np.sum(magnitudes == m)) + 1, 2)
             for m in magnitudes]
    total = sum(ranks)
    observed_plus = sum(r for r, x in zip(ranks, d) if x > 0)
    extreme = max(observed_plus, total - observed_plus)
    count = 0
    for signs in itertools.product((0, 1), repeat=len(d)):
        plus = sum(r for r, s in zip(ranks, signs) if s)
        if max(plus, total - plus) >= extreme:
            count += 1
    # P(max(T+, T-) >= extreme) counts both tails already; it equals min(1, 2 P(T+ >= extreme))
    return min(1.0, count / 2 ** len(d))


# ----------------------------------------------------------------------------- Clopper-Pearson


@pytest.mark.parametrize("successes, trials, low, high", [
    (0, 5, 0.0, 0.5218),
    (5, 5, 0.4782, 1.0),
    (3, 5, 0.1466, 0.9473),
    (1, 10, 0.0025, 0.4450),
])
def test_clopper_pearson_matches_published_values(successes, trials, low, high):
    got_low, got_high = clopper_pearson(successes, trials)
    assert got_low == pytest.approx(low, abs=6e-5)
    assert got_high == pytest.approx(high, abs=6e-5)


def test_clopper_pearson_extremes_are_exact():
    assert clopper_pearson(0, 7)[0] == 0.0
    assert clopper_pearson(7, 7)[1] == 1.0
    # 0 of n: the upper bound solves (1 - p)^n = alpha / 2 in closed form
    assert clopper_pearson(0, 7)[1] == pytest.approx(1 - 0.025 ** (1 / 7), rel=1e-10)
    assert clopper_pearson(7, 7)[0] == pytest.approx(0.025 ** (1 / 7), rel=1e-10)


@pytest.mark.parametrize("successes, trials, confidence", [
    (1, 5, 0.95), (2, 5, 0.95), (4, 5, 0.95), (3, 12, 0.9), (7, 20, 0.99), (50, 200, 0.95),
])
def test_clopper_pearson_bounds_have_tail_probability_alpha_over_two(successes, trials, confidence):
    alpha = 1 - confidence
    low, high = clopper_pearson(successes, trials, confidence)
    assert 0 < low < successes / trials < high < 1
    # the defining property: P(X >= k | low) = alpha / 2 = P(X <= k | high)
    assert 1 - binomial_cdf(successes - 1, trials, low) == pytest.approx(alpha / 2, rel=1e-7)
    assert binomial_cdf(successes, trials, high) == pytest.approx(alpha / 2, rel=1e-7)


def test_clopper_pearson_large_trials_are_near_the_normal_interval():
    low, high = clopper_pearson(1500, 3000)
    half = 1.96 * math.sqrt(0.25 / 3000)
    assert low == pytest.approx(0.5 - half, abs=1e-3)
    assert high == pytest.approx(0.5 + half, abs=1e-3)


def test_clopper_pearson_accepts_numpy_integers():
    assert clopper_pearson(np.int64(3), np.int64(5)) == clopper_pearson(3, 5)


@pytest.mark.parametrize("args, name", [
    ((-1, 5), "successes"), ((6, 5), "successes"), ((1.0, 5), "successes"), ((0, 0), "trials"),
    ((True, 5), "successes"), ((1, 5, 1.0), "confidence"), ((1, 5, 0.0), "confidence"),
    ((1, 5, float("nan")), "confidence"),
])
def test_clopper_pearson_rejects_bad_arguments(args, name):
    with pytest.raises(ValueError, match=name):
        clopper_pearson(*args)


# ----------------------------------------------------------------------------- success counts


def test_success_count_counts_at_or_below_threshold_and_nan_as_failure():
    count = success_count([0.01, 0.05, 0.2, float("nan"), 0.05], threshold=0.05)
    assert (count.successes, count.trials) == (3, 5)
    assert (count.low, count.high) == clopper_pearson(3, 5)
    assert count.rate == 0.6
    assert count == SuccessCount(3, 5, *clopper_pearson(3, 5))


def test_success_count_text_uses_an_en_dash():
    assert success_count([0, 0, 0, 0, 1], 0.5).text() == "4/5 (95% CI 0.28–0.99)"
    assert success_count([0, 1], 0.5, confidence=0.9).text().startswith("1/2 (90% CI ")


def test_success_count_rejects_bad_arguments():
    with pytest.raises(ValueError, match="values"):
        success_count([], 0.1)
    with pytest.raises(ValueError, match="threshold"):
        success_count([0.1], float("nan"))
    with pytest.raises(ValueError, match="confidence"):
        success_count([0.1], 0.1, confidence=1.5)


# ----------------------------------------------------------------------------- sign test


def test_sign_test_matches_direct_binomial_summation():
    rng = np.random.default_rng(1)
    for n in (1, 3, 5, 8, 13, 20):
        a = rng.normal(size=n)
        b = a + rng.normal(0.3, 1.0, size=n)
        b[: n // 4] = a[: n // 4]  # some ties, dropped
        d = a - b
        wins, losses = int(np.sum(d < 0)), int(np.sum(d > 0))
        m = wins + losses
        expected = min(1.0, 2 * binomial_cdf(min(wins, losses), m, 0.5)) if m else 1.0
        assert sign_test(a, b) == pytest.approx(expected, rel=1e-12)


def test_sign_test_known_values():
    assert sign_test([0] * 5, [1] * 5) == 0.0625  # 2 / 2^5
    assert sign_test([1, 2], [1, 2]) == 1.0  # no non-zero difference
    assert sign_test([0, 1], [1, 0]) == 1.0
    assert sign_test([0] * 10, [1] * 9 + [-1]) == pytest.approx(22 / 1024)


# ----------------------------------------------------------------------------- Wilcoxon


def test_wilcoxon_five_positive_differences():
    assert wilcoxon_signed_rank([1, 2, 3, 4, 5], [0, 0, 0, 0, 0]) == pytest.approx(0.0625)
    assert wilcoxon_signed_rank([0, 0, 0, 0, 0], [1, 2, 3, 4, 5]) == pytest.approx(0.0625)


@pytest.mark.parametrize("seed", range(12))
def test_wilcoxon_matches_brute_force_enumeration(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 11))
    a = rng.normal(size=n)
    b = a + rng.normal(0.5, 1.0, size=n)
    if seed % 2:  # ties of |d| and zero differences: differences on a coarse grid
        b = a + rng.integers(-3, 4, size=n).astype(float)
    assert wilcoxon_signed_rank(a, b) == pytest.approx(brute_force_wilcoxon(a - b), rel=1e-12)


def test_wilcoxon_ties_use_mid_ranks():
    d = np.array([1.0, -1.0, 2.0, 2.0, 2.0, 3.0])
    assert wilcoxon_signed_rank(d, np.zeros_like(d)) == pytest.approx(brute_force_wilcoxon(d), rel=1e-12)


def test_wilcoxon_no_differences_and_twenty_five_pairs():
    assert wilcoxon_signed_rank([1, 2, 3], [1, 2, 3]) == 1.0
    # n = 25, all positive: p = 2 / 2^25 exactly
    assert wilcoxon_signed_rank(np.arange(1.0, 26.0), np.zeros(25)) == pytest.approx(2 / 2 ** 25, rel=1e-12)


@pytest.mark.parametrize("test", [sign_test, wilcoxon_signed_rank])
def test_paired_tests_reject_bad_arguments(test):
    with pytest.raises(ValueError, match="b must be as long as a"):
        test([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="a must be free of NaN"):
        test([1, float("nan")], [1, 2])
    with pytest.raises(ValueError, match="a must be a 1-D"):
        test([[1, 2]], [[1, 2]])


# ----------------------------------------------------------------------------- paired comparison


def test_paired_comparison_counts_and_text():
    a = np.array([0.10, 0.20, 0.30, 0.40, 0.50, float("nan")])
    b = np.array([0.20, 0.25, 0.30, 0.30, 0.60, 0.10])
    c = paired_comparison(a, b, names=("noise", "tables"))
    assert isinstance(c, PairedComparison)
    assert (c.n, c.a_better, c.b_better, c.ties, c.dropped) == (5, 3, 1, 1, 1)
    assert c.median_difference == pytest.approx(np.median(a[:5] - b[:5]))
    assert c.sign_p == sign_test(a[:5], b[:5]) == pytest.approx(2 * 5 / 16)
    assert c.wilcoxon_p == pytest.approx(brute_force_wilcoxon(a[:5] - b[:5]))
    assert c.text() == (f"noise lower in 3 of 5 pairs, tables in 1, 1 tie; median difference -0.050; "
                        f"sign test p = 0.62, Wilcoxon p = {c.wilcoxon_p:.2f}; 1 pair dropped (NaN)")


def test_paired_comparison_text_example_format():
    c = PairedComparison(("a", "b"), 20, 14, 5, 1, -0.0021, 0.0636, 0.031)
    assert c.text() == ("a lower in 14 of 20 pairs, b in 5, 1 tie; median difference -0.0021; "
                        "sign test p = 0.064, Wilcoxon p = 0.031")


def test_paired_comparison_all_nan_and_bad_arguments():
    c = paired_comparison([float("nan")] * 2, [1.0, 2.0])
    assert (c.n, c.dropped, c.sign_p, c.wilcoxon_p) == (0, 2, 1.0, 1.0)
    assert math.isnan(c.median_difference)
    assert "no pairs" in c.text()
    with pytest.raises(ValueError, match="b must be as long as a"):
        paired_comparison([1, 2], [1])
    with pytest.raises(ValueError, match="names"):
        paired_comparison([1, 2], [1, 2], names=("only one",))


# ----------------------------------------------------------------------------- position intervals


def test_normal_quantile_known_values():
    assert normal_quantile(0.975) == pytest.approx(1.959963984540054, abs=1e-12)
    assert normal_quantile(0.5) == pytest.approx(0.0, abs=1e-15)
    assert normal_quantile(0.95) == pytest.approx(1.6448536269514722, abs=1e-12)
    with pytest.raises(ValueError, match="probability"):
        normal_quantile(1.0)


def test_position_intervals_by_hand():
    errors = np.array([[1.0, 2.0, 0.0], [3.0, 5.0, 0.0], [2.0, 2.0, 0.0]])
    mean, low, high = position_intervals(errors)
    # position 0: mean 2, sd 1; position 1: mean 3, sd sqrt(3); position 2: mean 0, sd 0
    half = 1.959963984540054 * np.array([1.0, math.sqrt(3.0), 0.0]) / math.sqrt(3.0)
    np.testing.assert_allclose(mean, [2.0, 3.0, 0.0])
    np.testing.assert_allclose(low, mean - half, rtol=1e-12)
    np.testing.assert_allclose(high, mean + half, rtol=1e-12)
    _, low90, high90 = position_intervals(errors, confidence=0.9)
    np.testing.assert_allclose(high90 - mean, 1.6448536269514722 * np.array([1.0, math.sqrt(3.0), 0.0])
                               / math.sqrt(3.0), rtol=1e-12)


@pytest.mark.parametrize("errors, confidence, name", [
    (np.zeros((1, 4)), 0.95, "errors"), (np.zeros(4), 0.95, "errors"),
    (np.array([[0.0, np.nan], [1.0, 1.0]]), 0.95, "errors"), (np.zeros((3, 4)), 1.0, "confidence"),
])
def test_position_intervals_reject_bad_arguments(errors, confidence, name):
    with pytest.raises(ValueError, match=name):
        position_intervals(errors, confidence)
