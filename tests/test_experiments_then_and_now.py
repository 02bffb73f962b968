"""Tests of :mod:`l2l_lib.experiments.then_and_now`: scores against hand computation on predictions known in
advance, the verdict's ranking and words chosen by the numbers, and the whole comparison at toy size."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from l2l_lib.evaluate import evaluate_predictions, evaluation_batch
from l2l_lib.experiments import then_and_now as tn
from l2l_lib.experiments.per_function import counts_of_predictions
from l2l_lib.recipes import RECIPES


def stream_batch(n=8, seq_len=30):
    return evaluation_batch("semilinear", n_sequences=n, seq_len=seq_len, seed=5)


def scores(name, errors, *, meta_trained=True, floor=1e-3):
    """A learner whose predictions miss every target by exactly ``error`` (one member per error)."""
    batch = stream_batch()
    evaluations, counts, squared = [], [], []
    for error in errors:
        predictions = batch.targets + error
        evaluations.append(evaluate_predictions(batch, predictions))
        counts.append(counts_of_predictions(batch, predictions, 0.01))
        squared.append(np.full((batch.batch_size, batch.seq_len), error ** 2))
    return tn.LearnerScores(name, meta_trained, tuple(evaluations), None, floor, None, tuple(counts),
                            np.concatenate(squared), 0.001, weights=10 if meta_trained else None)


def comparison(learners):
    return tn.FamilyComparison("semilinear", 30, 8, {s.name: s for s in learners}, (), 0.01)


def references(ideal=0.01, online=0.2, batch=0.05):
    return [scores(label, [e], meta_trained=False) for label, e in
            ((tn.REFERENCE_LABELS[tn.IDEAL], ideal), (tn.REFERENCE_LABELS[tn.ONLINE_GD], online),
             (tn.REFERENCE_LABELS[tn.BATCH_GD], batch))]


def test_scores_are_the_squared_misses():
    s = scores("x", [0.1, 0.2, 0.3])
    assert np.allclose(s.mse, [0.01, 0.04, 0.09]) and s.median_mse == pytest.approx(0.04)
    assert np.allclose(s.ratios, np.array([0.01, 0.04, 0.09]) / 1e-3)
    mean, low, high = s.error_after(3)
    assert mean == pytest.approx((0.01 + 0.04 + 0.09) / 3) and low < mean < high
    # a miss of 0.05 is within the criterion 0.01 from the start; 0.2 never
    assert scores("y", [0.05]).member_medians()[0] == 0 and math.isinf(scores("y", [0.2]).member_medians()[0])


def test_verdict_ranks_by_median_and_says_by_how_much():
    c = comparison([scores(tn.LSTM, [0.02, 0.03, 0.5]), scores(tn.TRANSFORMER, [0.01, 0.011, 0.012]),
                    scores(tn.META_SGD, [0.3, 0.3, 0.3])] + references())
    v = tn.verdict(c)
    assert v.ranking == (tn.TRANSFORMER, tn.LSTM, tn.META_SGD)
    assert v.margin == pytest.approx(0.03 ** 2 / 0.011 ** 2)
    sentence = v.sentence()
    assert sentence.startswith("On semi-linear, the transformer is the better in-context learner")
    assert f"{v.margin:.1f} times below the LSTM's" in sentence
    assert "times below tuned batch GD's" in sentence  # batch GD (0.05**2) is the better gradient learner
    assert "after 0 examples" in sentence
    level = tn.verdict(comparison([scores(tn.LSTM, [0.0102]), scores(tn.META_SGD, [0.01])] + references()))
    assert level.best == tn.META_SGD
    assert level.sentence().startswith("On semi-linear, no meta-learner is clearly the better in-context learner: "
                                       "Meta-SGD's median test MSE")
    assert "within 4 % of the LSTM's" in level.sentence()  # 0.0102**2 / 0.01**2 = 1.04: level, not ranked
    never = tn.verdict(comparison([scores(tn.LSTM, [0.3]), scores(tn.TRANSFORMER, [0.4])] + references()))
    assert "never stays within the criterion" in never.sentence()
    worse_than_gd = tn.verdict(comparison([scores(tn.LSTM, [0.2]), scores(tn.TRANSFORMER, [0.3])]
                                          + references(batch=0.01)))
    assert worse_than_gd.best == tn.LSTM and "times above tuned batch GD's" in worse_than_gd.sentence()


def test_tables_have_a_row_per_learner():
    c = comparison([scores(tn.LSTM, [0.02, 0.03]), scores(tn.TRANSFORMER, [0.01])] + references())
    for table in (tn.summary_table(c), tn.error_after_table(c)):
        assert len(table.strip().splitlines()) == 2 + len(c.learners)
    assert "after 16" in tn.error_after_table(c) and "after 64" not in tn.error_after_table(c)  # streams of 30
    assert "| 0.00065 (0.0004–0.0009) | 0.65 (0.40–0.90) | 0 (0–0) | 10 meta-trained |" in tn.summary_table(c)
    costs = tn.cost_table({"semilinear": c, "quadratic": c})
    assert "quadratic: ms per function" in costs and "| 1.00 | – | 1.00 | – |" in costs


def test_test_length_never_exceeds_the_training_streams():
    assert tn.test_length(100, RECIPES["boolean14"].config.seq_len) == 64
    assert tn.test_length(100, RECIPES["quadratic"].config.seq_len) == 100
    with pytest.raises(ValueError, match="test_seq_len"):
        tn.test_length(1, 200)


def test_model_recipes_name_existing_recipes_and_bad_names_are_refused():
    for family in tn.FAMILIES:
        for model in tn.MODEL_RECIPES:
            assert tn.model_recipe(model, family) in RECIPES
    with pytest.raises(ValueError, match="model"):
        tn.model_recipe("GPT-4", "boolean16")


def test_compare_family_at_toy_size():
    tiny = {"n_steps": 2, "eval_every": 2, "eval_sequences": 4, "batch_size": 2}
    c = tn.compare_family("boolean14", n_seeds=2, n_test_sequences=6, test_seq_len=12, overrides=tiny,
                          progress=False)
    assert list(c.learners)[:4] == list(tn.MODEL_RECIPES) and c.seq_len == 12 and c.held_out == (0, 5, 10)
    ideal = c.learners[tn.REFERENCE_LABELS[tn.IDEAL]]
    assert ideal.ratios[0] == pytest.approx(1.0) and ideal.learners().successes == 1
    constant = c.learners[tn.CONSTANT]
    assert constant.median_mse == pytest.approx(0.25)  # 0.5 against Boolean targets, by hand
    for name, s in c.meta_trained.items():
        assert len(s.test) == 2 and s.weights > 0 and s.train_ratios is not None
    assert c.learners[tn.TRANSFORMER].weights > c.learners[tn.LSTM].weights > c.learners[tn.META_SGD].weights
    assert "Boolean-14" in tn.recogniser_table({"boolean14": c})
    assert tn.verdict(c).ranking[0] in tn.MODEL_RECIPES


def test_the_recipes_use_the_step_sizes_the_search_chose_on_search_seeds_only():
    from l2l_lib.protocol import evaluation_triples, is_search_seed
    from l2l_lib.recipes import META_SGD, TRANSFORMER
    rows = tn.read_search()
    assert all(is_search_seed(r.seed) for r in rows)
    assert all(r.held_out not in evaluation_triples(r.family) for r in rows if r.held_out)
    assert tn.search_pick(rows, "transformer") == TRANSFORMER["learning_rate"]
    assert tn.search_pick(rows, "meta_sgd") == META_SGD["learning_rate"]
    # the chosen step size is inside the grid, as the edge rule asks
    for architecture in ("transformer", "meta_sgd"):
        rates = sorted({r.learning_rate for r in rows if r.architecture == architecture})
        assert rates[0] < tn.search_pick(rows, architecture) < rates[-1]


def test_search_pick_by_hand():
    def row(family, rate, val):
        return tn.SearchRow("x", family, rate, 10, 0, (), val)
    # family a prefers 0.1 (1 vs 2), family b prefers 0.01 (1 vs 1.5): geometric means 1.22 vs 1.41 -> 0.1
    rows = [row("a", 0.01, 2.0), row("a", 0.1, 1.0), row("b", 0.01, 1.0), row("b", 0.1, 1.5)]
    assert tn.search_pick(rows, "x") == 0.1
    with pytest.raises(ValueError, match="every step size"):
        tn.search_pick(rows[:3], "x")
