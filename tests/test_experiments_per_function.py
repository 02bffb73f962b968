"""Tests of :mod:`l2l_lib.experiments.per_function`, against independent references: the exactness of least
squares, the closed-form error of the constant predictor, hand-built error arrays and brute-force loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from l2l_lib.baselines import constant_predictions, least_squares_predictions
from l2l_lib.evaluate import evaluation_batch, examples_to_criterion
from l2l_lib.experiments import per_function as pf
from l2l_lib.model import MetaLSTM
from l2l_lib.tasks import Batch, function_values, target_moments

from fake_networks import Constant, PreviousTarget


@pytest.fixture(scope="module")
def quadratic():
    return evaluation_batch("quadratic", n_sequences=12, seq_len=40, seed=7, quadratic_map="fixed")


def oracle(quadratic_map: str = "fixed"):
    """A learner that knows each stream's function (it reads the coefficients): error 0 everywhere."""
    def learner(batch: Batch) -> torch.Tensor:
        x = batch.x
        return function_values(batch.family, x[..., 0], x[..., 1], coefficients=batch.coefficients,
                               quadratic_map=quadratic_map).unsqueeze(-1).to(torch.float32)
    return learner


# ----------------------------------------------------------------------------- error after k examples
def test_least_squares_is_exact_from_the_seventh_quadratic_example(quadratic):
    result = pf.per_function_errors(least_squares_predictions, quadratic, ks=(3, 5, 7, 30), quadratic_map="fixed")
    assert result.ks == (3, 5, 7, 30) and result.errors.shape == (12, 4) and result.n_queries == pf.DEFAULT_QUERIES
    # six monomials: fewer than six examples leave the function undetermined, seven determine it
    assert (result.errors[:, :2] > 1e-8).all()
    assert (result.errors[:, 2:] < 1e-10).all()
    assert (result.errors[:, 0] >= result.errors[:, 1]).mean() > 0.5


def test_constant_predictor_error_is_the_closed_form_mean_over_the_square(quadratic):
    result = pf.per_function_errors(constant_predictions, quadratic, ks=(0, 4, 20), n_queries=4096,
                                    quadratic_map="fixed")
    # the same query points at every k: a learner that ignores the examples scores identically
    assert (result.errors == result.errors[:, :1]).all()
    # fixed map: f = 0.5 + q / 20, so E_x (f - 0.5)^2 = E_x q^2 / 400 with x ~ U[-1, 1]^2:
    # E x^2 = 1/3, E x^4 = 1/5, E x1^2 x2^2 = 1/9, odd moments 0
    a, b, c, d, e, f = quadratic.coefficients[:, 0].double().unbind(-1)
    second = (a * a / 5 + b * b / 5 + c * c / 9 + d * d / 3 + e * e / 3 + f * f
              + 2 * a * b / 9 + 2 * a * f / 3 + 2 * b * f / 3)
    np.testing.assert_allclose(result.errors[:, 0], (second / 400).numpy(), rtol=0.12)
    assert result.errors[:, 0].mean() == pytest.approx(float((second / 400).mean()), rel=0.04)


def test_semilinear_constant_error_matches_monte_carlo():
    batch = evaluation_batch("semilinear", n_sequences=6, seq_len=10, seed=3)
    result = pf.per_function_errors(constant_predictions, batch, ks=(2,), n_queries=4096, seed=5)
    generator = torch.Generator().manual_seed(123)
    x = 2 * torch.rand(6, 100_000, 2, generator=generator) - 1
    coefficients = batch.coefficients[:, :1].expand(-1, x.shape[1], -1)
    y = function_values("semilinear", x[..., 0], x[..., 1], coefficients=coefficients).double()
    np.testing.assert_allclose(result.errors[:, 0], ((y - 0.5) ** 2).mean(1).numpy(), rtol=0.1)


def test_query_step_shows_the_examples_and_hides_its_target(quadratic):
    seen: list[Batch] = []

    def recorder(batch: Batch) -> torch.Tensor:
        seen.append(batch)
        return constant_predictions(batch)

    pf.per_function_errors(recorder, quadratic, ks=(0, 3), n_queries=5, input_range=(-0.5, 0.5),
                           quadratic_map="fixed")
    zero, three = seen
    assert zero.inputs.shape == (12 * 5, 1, 3) and three.inputs.shape == (12 * 5, 4, 3)
    query = three.inputs[:, -1]
    assert ((query[:, :2] >= -0.5) & (query[:, :2] <= 0.5)).all()
    assert len(torch.unique(query[:5, 0])) == 5  # each copy of a stream gets its own query input
    for i in (0, 11):
        rows = slice(5 * i, 5 * i + 5)
        assert torch.equal(three.inputs[rows, :3], quadratic.inputs[i, :3].expand(5, -1, -1))
        assert torch.equal(three.targets[rows, :3], quadratic.targets[i, :3].expand(5, -1, -1))
        assert (query[rows, 2] == quadratic.targets[i, 2, 0]).all()  # y_prev: the third example's target
    assert (zero.inputs[:, 0, 2] == 0).all()
    assert torch.equal(zero.inputs[:, 0, :2], three.inputs[:, -1, :2])  # the same query points at every k
    assert (three.targets[:, -1] == 0.5).all()  # the query's own target is not there to be read


def test_a_learner_that_reads_the_query_target_scores_as_the_constant_predictor(quadratic):
    peek = pf.per_function_errors(lambda b: b.targets.clone(), quadratic, ks=(5, 10), quadratic_map="fixed")
    constant = pf.per_function_errors(constant_predictions, quadratic, ks=(5, 10), quadratic_map="fixed")
    np.testing.assert_array_equal(peek.errors, constant.errors)
    assert (peek.errors > 1e-6).all()
    # ...while a learner that knows the function is exact
    assert pf.per_function_errors(oracle(), quadratic, ks=(5,), quadratic_map="fixed").errors.max() < 1e-12


def test_networks_score_the_same_in_any_chunking(quadratic):
    torch.manual_seed(0)
    model = MetaLSTM((3, 4), output="linear", target_moments=target_moments("quadratic", "fixed"))
    whole = pf.per_function_errors(model, quadratic, ks=(1, 6), n_queries=4, quadratic_map="fixed")
    pieces = pf.per_function_errors(model, quadratic, ks=(1, 6), n_queries=4, quadratic_map="fixed", chunk_steps=9)
    np.testing.assert_allclose(whole.errors, pieces.errors, rtol=1e-6, atol=1e-12)
    assert np.isfinite(whole.errors).all() and (whole.errors > 0).all()


def test_per_function_errors_reject_bad_arguments(quadratic):
    with pytest.raises(ValueError, match="quadratic_map"):
        pf.per_function_errors(constant_predictions, quadratic, ks=(5,), quadratic_map="per_function")
    with pytest.raises(ValueError, match="ks"):
        pf.per_function_errors(constant_predictions, quadratic, ks=(5, 41), quadratic_map="fixed")
    with pytest.raises(ValueError, match="ks"):
        pf.per_function_errors(constant_predictions, quadratic, ks=(5, 5), quadratic_map="fixed")
    with pytest.raises(ValueError, match="n_queries"):
        pf.per_function_errors(constant_predictions, quadratic, ks=(5,), n_queries=0, quadratic_map="fixed")
    switching = evaluation_batch("quadratic", n_sequences=2, seq_len=20, switch_every=10, seed=1)
    with pytest.raises(ValueError, match="switch"):
        pf.per_function_errors(constant_predictions, switching, ks=(12,))
    boolean = evaluation_batch("boolean16", n_sequences=2, seq_len=20, seed=1)
    with pytest.raises(ValueError, match="batch.family"):
        pf.per_function_errors(constant_predictions, boolean, ks=(5,))


def hand_built() -> pf.PerFunctionErrors:
    column = np.arange(1, 101) / 100  # 100 functions with errors 0.01, 0.02, ..., 1.00
    return pf.PerFunctionErrors(ks=(5, 30), errors=np.stack([column, column / 10], axis=1), n_queries=1)


def test_quantiles_shares_and_levels_follow_their_definitions():
    result = hand_built()
    q5, q30 = result.quantiles()
    assert (q5.k, q5.median, q5.p95, q5.p99, q5.maximum) == pytest.approx((5, 0.505, 0.9505, 0.9901, 1.0))
    assert q30.maximum == pytest.approx(0.1)
    within = result.share_within(0.05)
    assert [c.successes for c in within] == [5, 50] and within[0].trials == 100
    assert within[1].low < 0.5 < within[1].high
    assert result.level(5, 0.95) == pytest.approx(0.95)  # the 95th smallest of 100
    assert result.level(30, 0.5) == pytest.approx(0.05)
    assert result.level(5, 1.0) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="k"):
        result.level(10)


def test_prose_is_chosen_by_the_numbers():
    result = hand_built()
    text = result.within_text(30, 0.05, label="half the criterion")
    assert text.startswith("after 30 examples, 50 of 100 functions (50%; 95% CI ")
    assert text.endswith("are within 0.05 (half the criterion)")
    assert result.claim_text(30, 0.1, 0.95).endswith("at least 95% holds, with the whole interval above it")
    assert result.claim_text(30, 0.096, 0.95).endswith("meets 95%, but the interval reaches below it")
    assert result.claim_text(30, 0.092, 0.95).endswith("falls short of 95%, though the interval reaches it")
    assert result.claim_text(5, 0.5, 0.95).endswith("the claim of at least 95% fails, with the whole interval below it")
    assert result.level_text(5) == "after 5 examples, 95% of the functions are within 0.95"
    table = result.table(0.05, label="within 0.05").splitlines()
    assert table[0].startswith("| examples k | median |") and table[0].endswith("| within 0.05 |")
    assert len(table) == 4 and table[3].startswith("| 30 |")


# ----------------------------------------------------------------------------- examples to criterion per sequence
def brute_force_counts(errors: np.ndarray, criterion: float, window: int) -> np.ndarray:
    """The definition, looped: the first step at criterion from which every window's mean is at criterion."""
    out = []
    for row in errors:
        means = [row[j:j + window].mean() for j in range(row.size - window + 1)]
        out.append(next((k for k in range(row.size)
                         if row[k] <= criterion and all(m <= criterion for m in means[min(k, len(means) - 1):])),
                        math.nan))
    return np.array(out, dtype=float)


def test_examples_to_criterion_per_sequence_by_hand():
    drop = np.r_[np.ones(10), np.zeros(30)]
    late_rise = np.r_[np.zeros(35), np.ones(5)]
    one_outlier = np.r_[np.zeros(20), 1.0, np.zeros(19)]
    errors = np.stack([drop, late_rise, one_outlier, np.zeros(40)])
    assert pf.sequence_examples_to_criterion(errors, 0.0, window=1)[[0, 3]].tolist() == [10, 0]
    counts = pf.sequence_examples_to_criterion(errors, 0.1, window=5)
    assert counts[0] == 10 and math.isnan(counts[1]) and counts[2] == 21 and counts[3] == 0
    # one high step of five passes the windows from step 9 on, but step 9 itself is above the criterion
    assert pf.sequence_examples_to_criterion(errors, 0.2, window=5)[0] == 10
    early = np.r_[0.3, 0.3, np.zeros(38)]  # two early errors that a window of five averages to 0.12
    assert pf.sequence_examples_to_criterion(early[None], 0.15, window=5)[0] == 2
    # a window of 20 averages a single outlier away (0.05 <= 0.1), but not a late rise
    counts = pf.sequence_examples_to_criterion(errors, 0.1, window=20)
    assert counts[2] == 0 and math.isnan(counts[1])


def test_examples_to_criterion_per_sequence_matches_the_definition_looped():
    rng = np.random.default_rng(0)
    errors = np.exp(rng.normal(-3, 1.5, size=(40, 30))) * np.linspace(2, 0.1, 30)
    errors[3, 7] = np.nan  # a NaN error is never at criterion
    for window in (1, 4, 30):
        for criterion in (0.005, 0.02, 0.1):
            np.testing.assert_array_equal(pf.sequence_examples_to_criterion(errors, criterion, window),
                                          brute_force_counts(errors, criterion, window))
    # one step per window: the mean-curve count of evaluate.examples_to_criterion, applied to each sequence
    expected = [examples_to_criterion(row, 0.02) for row in errors]
    np.testing.assert_array_equal(pf.sequence_examples_to_criterion(errors, 0.02, window=1),
                                  [math.nan if k is None else k for k in expected])
    with pytest.raises(ValueError, match="window"):
        pf.sequence_examples_to_criterion(errors, 0.1, window=31)


def test_criterion_counts_from_a_hand_built_predictions_array():
    batch = evaluation_batch("semilinear", n_sequences=3, seq_len=30, seed=2)
    targets = batch.targets.clone()
    predictions = targets.clone()
    predictions[0, :12] += 1.0  # wrong by 1 for 12 steps, then exact
    predictions[1] += 1.0  # always wrong
    # sequence 2: exact throughout
    counts = pf.criterion_counts(lambda b: predictions, batch, 0.01, window=5)
    assert counts.examples[0] == 12 and math.isnan(counts.examples[1]) and counts.examples[2] == 0
    assert (counts.criterion, counts.window, counts.seq_len, counts.n) == (0.01, 5, 30, 3)
    assert counts.never.successes == 1 and counts.never.trials == 3
    assert counts.median == 12 and counts.quantile(1.0) == math.inf and counts.quantile(1 / 3) == 0
    assert counts.text() == "median 12 examples (90th percentile never); 1 of 3 sequences never (33.3%)"
    # the criterion of compare(): a tenth of the constant predictor's MSE on the same streams
    assert pf.criterion_for(batch) == pytest.approx(0.1 * float(((targets.double() - 0.5) ** 2).mean()))


def test_median_ratio_pooling_and_table():
    def counts(values):
        return pf.CriterionCounts(np.array(values, dtype=float), 0.1, 20, 100)
    fast, slow, never, zero = counts([2, 4, 6]), counts([30, 40, math.nan]), counts([math.nan] * 3), counts([0, 0, 5])
    assert pf.median_ratio(slow, fast) == 10.0
    assert pf.median_ratio(never, fast) == math.inf and pf.median_ratio(fast, zero) == math.inf
    assert math.isnan(pf.median_ratio(never, never)) and math.isnan(pf.median_ratio(zero, zero))
    pooled = pf.pool_counts([fast, slow])
    assert pooled.n == 6 and pooled.median == 6 and pooled.never.successes == 1
    with pytest.raises(ValueError, match="counts"):
        pf.pool_counts([fast, pf.CriterionCounts(np.zeros(2), 0.2, 20, 100)])
    table = pf.criterion_table({"fast": fast, "never": never}).splitlines()
    assert table[2] == "| fast | 4 | 6 | 6 | 0/3 (0%) |"
    assert table[3] == "| never | never | never | never | 3/3 (100%) |"


# ----------------------------------------------------------------------------- one family's learner on the other
@pytest.fixture(scope="module")
def streams():
    return {"semilinear": evaluation_batch("semilinear", n_sequences=8, seq_len=30, seed=1),
            "quadratic": evaluation_batch("quadratic", n_sequences=8, seq_len=30, seed=1, quadratic_map="fixed")}


def test_cross_family_scores_fake_networks_as_computed_by_hand(streams):
    torch.manual_seed(0)
    untrained = MetaLSTM((3,), output="linear", target_moments=target_moments("quadratic", "fixed"))
    result = pf.cross_family({"semilinear": [Constant(0.5), PreviousTarget()], "quadratic": [oracle(), untrained]},
                             streams, window=5)
    assert [(s.streams, s.trained_on) for s in result.scores] == [
        ("semilinear", "semilinear"), ("semilinear", "quadratic"), ("semilinear", None),
        ("quadratic", "quadratic"), ("quadratic", "semilinear"), ("quadratic", None)]
    for family, batch in streams.items():
        y = batch.targets[..., 0].double()
        constant_mse = float(((y - 0.5) ** 2).mean())
        assert result.constant_mse[family] == pytest.approx(constant_mse)
        assert result.criterion[family] == pytest.approx(0.1 * constant_mse)
        row = result.score(None, family)
        assert row.normalised_mse == pytest.approx(1.0) and row.late_normalised_mse == pytest.approx(1.0)
        assert row.verdict is None
        previous = torch.cat([torch.zeros_like(y[:, :1]), y[:, :-1]], dim=1)
        semilinear_row = result.score("semilinear", family)
        assert semilinear_row.mse == pytest.approx((constant_mse, float(((previous - y) ** 2).mean())), rel=1e-6)
        assert semilinear_row.counts.n == 16  # pooled over the two networks
    # the constant "network" is the constant predictor: it learns neither family
    assert result.score("semilinear", "quadratic").n_learn == 0
    assert "does not learn it" in result.verdict("semilinear", "quadratic")
    # the oracle among the quadratic networks learns both families from the start; the untrained one does not
    quadratic_row = result.score("quadratic", "quadratic")
    assert quadratic_row.n_learn == 1 and not quadratic_row.learns
    assert quadratic_row.verdict == "1 of 2 networks learn it (reach the criterion on at least half of the sequences)"
    table = result.table.splitlines()
    assert len(table) == 2 + 6 and "| verdict |" in table[0]


def test_cross_family_verdicts_follow_the_numbers(streams):
    result = pf.cross_family({"semilinear": [Constant(0.5)], "quadratic": [oracle()]}, streams, window=5)
    assert result.score("quadratic", "semilinear").learns
    assert result.verdict("quadratic", "semilinear") == (
        "learns it: the median sequence reaches the criterion after 0 examples")
    row = result.score("semilinear", "semilinear")
    assert row.late_normalised_mse == pytest.approx(1.0)
    assert row.verdict.startswith("does not learn it: late in the sequence it is no better than the constant")
    # a learner that goes 40% of the way from 0.5 to the truth: its error is 0.36 of the constant predictor's
    partial = oracle()
    result = pf.cross_family({"semilinear": [lambda b: 0.5 + 0.4 * (partial(b) - 0.5)], "quadratic": [oracle()]},
                             streams, window=5)
    row = result.score("semilinear", "quadratic")
    assert row.normalised_mse == pytest.approx(0.36, rel=1e-5) and row.n_learn == 0
    assert row.verdict == ("does not learn it: late in the sequence its error is 0.36 of the constant predictor's, "
                           "above the criterion (0.1)")


def test_cross_family_rejects_bad_arguments(streams):
    with pytest.raises(ValueError, match="networks"):
        pf.cross_family({"semilinear": [Constant(0.5)]}, streams)
    with pytest.raises(ValueError, match="streams"):
        pf.cross_family({"semilinear": [Constant(0.5)], "quadratic": [Constant(0.5)]},
                        {"semilinear": streams["quadratic"], "quadratic": streams["quadratic"]})
    result = pf.cross_family({"semilinear": [Constant(0.5)], "quadratic": [Constant(0.5)]}, streams, window=5)
    with pytest.raises(ValueError, match="trained_on"):
        result.score("boolean16", "quadratic")
