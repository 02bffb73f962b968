"""The semi-linear chapter's number-chosen sentences and tables (l2l_lib/experiments/semilinear_text.py),
checked against hand-made comparisons whose outcome is known."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from l2l_lib.baselines import GDTuning
from l2l_lib.experiments.per_function import CriterionCounts, PerFunctionErrors
from l2l_lib.experiments.semilinear_text import (examples_ratio_text, per_function_table, target_verdict,
                                                 tuning_table, versus_text, width_edge_text)
from l2l_lib.reference_learners import BATCH_GD, LEAST_SQUARES_ON_Y, ONLINE_GD, ReferenceLearner


def counts(examples):
    return CriterionCounts(np.asarray(examples, dtype=float), 0.001, 20, 1000)


def comparison(lstm_mses, gd, bgd, lsy=1e-3, lstm_examples=(10, 10, 10, 10), gd_examples=(100, 100, 100, 100)):
    """A stand-in for continuous.Comparison: 2 networks on 2 test streams each; batch GD on 1 stream."""
    references = {ONLINE_GD: SimpleNamespace(mse=gd), BATCH_GD: SimpleNamespace(mse=bgd),
                  LEAST_SQUARES_ON_Y: SimpleNamespace(mse=lsy)}
    lstm_counts, gd_counts = counts(lstm_examples), counts(gd_examples)
    return SimpleNamespace(
        median_mse=float(np.median(lstm_mses)), lstm=[None] * 2, lstm_counts=lstm_counts, references=references,
        best_gradient_learner=min((ONLINE_GD, BATCH_GD), key=lambda n: references[n].mse),
        reference_sequences={ONLINE_GD: 2, BATCH_GD: 1, LEAST_SQUARES_ON_Y: 2},
        reference_counts={ONLINE_GD: gd_counts, BATCH_GD: gd_counts, LEAST_SQUARES_ON_Y: gd_counts},
        examples_ratio=lambda name: gd_counts.median / lstm_counts.median)


@pytest.mark.parametrize("mses, gd, met, below, beats, words", [
    ((1e-4, 2e-4), 4e-4, True, True, True, "is met"),
    ((1e-4, 2e-4), 1e-4, False, True, False, "but not below"),
    ((5e-4, 6e-4), 1e-3, False, False, True, "though below"),
    ((5e-4, 6e-4), 4e-4, False, False, False, "and not below"),
])
def test_target_verdict_has_both_parts(mses, gd, met, below, beats, words):
    verdict = target_verdict(comparison(mses, gd=gd, bgd=1.0), 3e-4)
    assert (verdict.met, verdict.below_target, verdict.beats_best_gradient) == (met, below, beats)
    assert words in verdict.sentence and verdict.best_gradient == ONLINE_GD
    assert verdict.median_mse == pytest.approx(np.median(mses))


def test_target_verdict_names_the_streams_of_batch_gd():
    verdict = target_verdict(comparison((1e-4, 1e-4), gd=1.0, bgd=2e-4), 3e-4)
    assert verdict.best_gradient == BATCH_GD and "on its 1 test streams" in verdict.sentence
    with pytest.raises(ValueError, match="target"):
        target_verdict(comparison((1e-4, 1e-4), gd=1.0, bgd=2e-4), 0.0)


def test_versus_text_says_below_only_when_strictly_lower():
    result = comparison((1e-3, 1e-3), gd=1.0, bgd=1.0, lsy=1e-3)
    assert versus_text(result, LEAST_SQUARES_ON_Y).startswith("not below")
    assert versus_text(comparison((1e-4, 1e-4), gd=1.0, bgd=1.0), LEAST_SQUARES_ON_Y).startswith("below")


def test_examples_ratio_text_cases():
    assert "10.0 times" in examples_ratio_text(comparison((0, 0), 1, 1), ONLINE_GD)
    never = comparison((0, 0), 1, 1, gd_examples=(math.nan,) * 4)
    never.examples_ratio = lambda name: math.inf
    assert "never reaches" in examples_ratio_text(never, ONLINE_GD)
    neither = comparison((0, 0), 1, 1, lstm_examples=(math.nan,) * 4, gd_examples=(math.nan,) * 4)
    neither.examples_ratio = lambda name: math.nan
    assert examples_ratio_text(neither, ONLINE_GD).startswith("neither")


def test_tuning_table_reports_edges():
    scores = {(0.1, 5): 2.0, (0.3, 5): 1.0, (1.0, 5): 3.0, (0.3, 10): 1.5}
    tuning = GDTuning("online", 0.3, 5, scores, edge_hit=False, interior=True, n_sequences=32, seq_len=40)
    learner = ReferenceLearner(ONLINE_GD, "", lambda b: b, learning_rate=0.3, hidden_size=5, tuning=tuning)
    row = tuning_table([learner]).splitlines()[2]
    assert "| 5 | 0.3 | 5, 10 | 0.1, 0.3, 1 |" in row and "32 × 40" in row
    assert "| yes | the smallest tried |" in row
    with pytest.raises(ValueError, match="learners"):
        tuning_table([ReferenceLearner("x", "", lambda b: b)])


def test_per_function_table_quantiles_and_shares_by_hand():
    errors = np.array([[1.0, 0.1], [2.0, 0.2], [3.0, 0.3], [4.0, 0.4]])
    table = per_function_table({"a": PerFunctionErrors((5, 10), errors, 8)}, threshold=0.25)
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| a | 5 | 2.5000 |") and "| 0% (" in lines[2]
    assert lines[3].startswith("| a | 10 | 0.2500 |") and "| 50% (" in lines[3]


def test_examples_ratio_text_when_the_lstm_is_slower_or_never():
    slower = comparison((0, 0), 1, 1, lstm_examples=(40,) * 4, gd_examples=(10,) * 4)
    slower.examples_ratio = lambda name: 0.25
    assert examples_ratio_text(slower, ONLINE_GD).startswith("the LSTM's median sequence needs 4.0 times")
    lstm_never = comparison((0, 0), 1, 1, lstm_examples=(math.nan,) * 4, gd_examples=(10,) * 4)
    lstm_never.examples_ratio = lambda name: 0.0
    assert examples_ratio_text(lstm_never, ONLINE_GD) == (
        f"the LSTM's median sequence never reaches the criterion, {ONLINE_GD}'s after 10 examples")


def test_width_edge_text_names_only_edge_widths():
    def learner(width):
        scores = {(0.1, 5): 1.0, (0.1, 10): 1.0, (0.1, 20): 1.0}
        tuning = GDTuning("online", 0.1, width, scores, edge_hit=False, interior=True, n_sequences=1, seq_len=4)
        return ReferenceLearner(ONLINE_GD, "", lambda b: b, learning_rate=0.1, hidden_size=width, tuning=tuning)
    assert width_edge_text([learner(10)]) == ""
    assert "(20, the largest tried)" in width_edge_text([learner(20)])
    assert "(5, the smallest tried)" in width_edge_text([learner(5)])
