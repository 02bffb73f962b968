"""Tests of :mod:`l2l_lib.experiments.continuous`, against hand computations on networks whose
predictions are known in advance (a constant, the previous target)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from l2l_lib.config import TrainConfig
from l2l_lib.evaluate import evaluation_batch
from l2l_lib.experiments import continuous
from l2l_lib.reference_learners import CONSTANT, IDEAL, ONLINE_GD, reference_learners
from l2l_lib.train import History, TrainResult

from fake_networks import Constant, PreviousTarget


def run(model: nn.Module, seed: int = 0) -> TrainResult:
    return TrainResult(TrainConfig(family="semilinear", seed=seed), model, History(), 0.0)


@pytest.fixture(scope="module")
def batch():
    return evaluation_batch("semilinear", n_sequences=16, seq_len=12, seed=5)


def test_compare_scores_known_predictions_as_computed_by_hand(batch):
    refs = reference_learners("semilinear", names=(IDEAL, CONSTANT))
    result = continuous.compare([run(Constant(0.5)), run(PreviousTarget(), seed=1)], batch, refs, target=0.07)
    y = batch.targets[..., 0].double().numpy()
    constant_by_position = ((0.5 - y) ** 2).mean(0)
    previous = np.concatenate([np.zeros((y.shape[0], 1)), y[:, :-1]], axis=1)
    previous_by_position = ((previous - y) ** 2).mean(0)

    assert result.constant_mse == pytest.approx(((0.5 - y) ** 2).mean(), rel=1e-12)
    assert result.criterion == pytest.approx(0.1 * result.constant_mse, rel=1e-12)
    assert result.summary.values == pytest.approx((((0.5 - y) ** 2).mean(), ((previous - y) ** 2).mean()), rel=1e-6)
    # the constant network scores exactly what the constant reference learner scores
    assert result.lstm[0].mse == result.references[CONSTANT].mse
    ratio = ((previous - y) ** 2).mean() / ((0.5 - y) ** 2).mean()
    assert result.normalised_mse == pytest.approx(np.mean([1.0, ratio]))
    assert result.summary.n_success == sum(v <= 0.07 for v in result.summary.values)
    curves = result.mse_by_position()
    assert list(curves) == ["LSTM", IDEAL, CONSTANT]
    np.testing.assert_allclose(curves["LSTM"], [constant_by_position, previous_by_position], rtol=1e-6)
    assert result.late_mse(5) == pytest.approx(np.mean([constant_by_position[5:], previous_by_position[5:]]), rel=1e-6)
    assert result.learners[IDEAL].name == IDEAL


def test_examples_to_criterion_follow_the_definition(batch):
    refs = reference_learners("semilinear", names=(IDEAL, CONSTANT))
    result = continuous.compare([run(PreviousTarget())], batch, refs, target=1.0)
    curve = result.lstm[0].mse_by_position
    # by hand: the first k from which every later position is at or below the criterion
    expected = next((k for k in range(curve.size) if (curve[k:] <= result.criterion).all()), None)
    assert result.lstm_examples == (expected,)
    # least squares is exact from the 4th example on: it has learnt the function by then
    assert result.reference_examples[IDEAL] is not None and result.reference_examples[IDEAL] <= 3
    assert result.reference_examples[CONSTANT] is None  # the constant never gets below 10 % of itself


def test_beats_lstm_compares_with_the_mean_over_seeds(batch):
    refs = reference_learners("semilinear", names=(IDEAL, CONSTANT))
    result = continuous.compare([run(Constant(0.5)), run(Constant(0.5))], batch, refs, target=1.0)
    assert result.beats_lstm(IDEAL)
    assert not result.beats_lstm(CONSTANT)  # equal, not lower


def test_compare_needs_a_network(batch):
    with pytest.raises(ValueError, match="runs"):
        continuous.compare([], batch, [], target=1.0)


def test_tuned_references_pick_the_best_rate_on_their_own_streams():
    refs = continuous.tuned_references("semilinear", seq_len=30)
    assert [r.name for r in refs] == list(continuous.chapter_references("semilinear"))
    assert "nearest neighbours" not in continuous.chapter_references("quadratic")
    gd = {r.name: r for r in refs}[ONLINE_GD]
    assert gd.learning_rate == min(gd.tuning_scores, key=gd.tuning_scores.get)
    # tuned on streams as long as the test's (30), not on shorter ones
    assert gd.tuning.seq_len == 30
    with pytest.raises(ValueError, match="family"):
        continuous.tuned_references("boolean16", seq_len=30)


def test_examples_text():
    assert continuous.examples_text(None) == "never"
    assert continuous.examples_text(7) == "7"
    assert continuous.examples_text([3, None, 12]) == "3, never, 12"


def test_learnt_surfaces_of_a_constant_network_are_flat_and_the_truth_is_the_family_formula():
    stream = evaluation_batch("semilinear", n_sequences=1, seq_len=8, seed=4)
    grid = np.linspace(-1, 1, 5)
    surfaces = continuous.learnt_surfaces(Constant(0.3), stream, [1, 5], grid)
    w1, w2, w3 = stream.coefficients[0, 0].double().tolist()
    x2, x1 = np.meshgrid(grid, grid, indexing="ij")
    truth = 0.5 * (1 + np.tanh(w1 * x1 + w2 * x2 + w3))  # eq. of the semi-linear family, by hand
    np.testing.assert_allclose(surfaces.true, truth, atol=1e-6)
    assert set(surfaces.learnt) == {1, 5}
    np.testing.assert_allclose(surfaces.learnt[5], np.full((5, 5), 0.3), atol=1e-7)
    assert surfaces.rms_error[1] == pytest.approx(np.sqrt(np.mean((0.3 - truth) ** 2)), rel=1e-5)
    np.testing.assert_array_equal(surfaces.x1, stream.x[0, :, 0].numpy())
    with pytest.raises(ValueError, match="k must be"):
        continuous.learnt_surfaces(Constant(0.3), stream, [8], grid)


def test_paper_net_readings_table_lists_every_named_reading():
    from l2l_lib.paper_net import PAPER_WEIGHTS, READINGS, count_weights

    readings = continuous.paper_net_readings()
    rows = readings.table.splitlines()[2:]
    assert len(rows) == len(READINGS)
    assert f"| all_to_all | {count_weights(READINGS['all_to_all'])} |" in readings.table
    assert readings.target == PAPER_WEIGHTS == 5373
    assert readings.n_exact >= 1 and readings.n_searched > readings.n_exact
    assert readings.all_to_all < PAPER_WEIGHTS  # the chapter's claim: shared gates cannot reach 5373


def test_early_learning_interpolates_the_longer_run_at_the_shorter_ones_length():
    def fake(n_steps, steps, val):
        return SimpleNamespace(config=SimpleNamespace(n_steps=n_steps),
                               history=SimpleNamespace(steps=steps, val_mse=val))

    long = [fake(100, [0, 10, 20], [1.0, 0.5, 0.1]), fake(100, [0, 10, 20], [1.0, 0.3, 0.3])]
    short = [fake(15, [0, 15], [1.0, 0.6]), fake(15, [0, 15], [1.0, 0.4])]
    early = continuous.early_learning(long, short)
    assert early.n_steps == 15
    assert early.long_val_at == pytest.approx(np.mean([0.3, 0.3]))  # halfway from 0.5 to 0.1, and 0.3
    assert early.short_val == pytest.approx(0.5)


def test_per_sequence_counts_pool_the_seeds_and_batch_gd_sees_only_its_share(monkeypatch, batch):
    from l2l_lib.experiments.per_function import CRITERION_WINDOW, sequence_examples_to_criterion
    from l2l_lib.reference_learners import BATCH_GD, ReferenceLearner
    monkeypatch.setattr(continuous, "BATCH_GD_TEST_SEQUENCES", 5)
    seen = []
    slow = ReferenceLearner(BATCH_GD, "records its streams", lambda b: seen.append(b.batch_size) or
                            torch.full_like(b.targets, 0.5))
    refs = reference_learners("semilinear", names=(IDEAL, CONSTANT)) + [slow]
    result = continuous.compare([run(Constant(0.5)), run(PreviousTarget(), seed=1)], batch, refs, target=1.0)
    assert seen == [5] and result.reference_sequences == {IDEAL: 16, CONSTANT: 16, BATCH_GD: 5}
    assert result.references[BATCH_GD].mse == pytest.approx(float(((batch.targets[:5] - 0.5) ** 2).mean()), rel=1e-6)
    # the LSTM's counts: both seeds' sequences, each counted as the definition says, in seed order
    y = batch.targets[..., 0].double().numpy()
    previous = np.concatenate([np.zeros((y.shape[0], 1)), y[:, :-1]], axis=1)
    window = min(CRITERION_WINDOW, batch.seq_len)
    expected = np.concatenate([sequence_examples_to_criterion((0.5 - y) ** 2, result.criterion, window),
                               sequence_examples_to_criterion((previous - y) ** 2, result.criterion, window)])
    np.testing.assert_array_equal(result.lstm_counts.examples, expected)
    assert result.lstm_counts.n == 32
    # the constant never reaches 10 % of its own error; least squares (exact from 4 examples) does
    assert result.reference_counts[CONSTANT].never.successes == 16
    assert result.reference_counts[IDEAL].median <= 4
    assert result.best_gradient_learner == BATCH_GD
    assert "| learner |" in result.table()


def test_plateau_escape_compares_with_half_the_running_mean_on_training_length_streams():
    from l2l_lib.continuous_learners import running_mean_predictions
    config = TrainConfig(family="quadratic", seq_len=30, n_steps=100)
    streams = evaluation_batch("quadratic", n_sequences=64, seq_len=30, seed=continuous.PLATEAU_SEED)
    plateau = float(((running_mean_predictions(streams) - streams.targets) ** 2).mean())  # computed independently
    escaped = History(steps=[50, 100], val_mse=[plateau, 0.4 * plateau])
    stuck = History(steps=[50, 100], val_mse=[plateau, 0.6 * plateau])
    result = continuous.plateau_escape({"a": [TrainResult(config, Constant(0.5), escaped, 2.0),
                                              TrainResult(config, Constant(0.5), stuck, 4.0)],
                                        "b": [TrainResult(config, Constant(0.5), stuck, 1.0)]}, n_sequences=64)
    assert result.plateau_mse == pytest.approx(plateau, rel=1e-9)
    assert result.left == {"a": (True, False), "b": (False,)}
    assert result.first_step_below == {"a": (100, None), "b": (None,)}
    assert result.seconds_per_step["a"] == pytest.approx(0.03)
    assert result.verdict("a") == "1 of 2 seeds left the plateau" and result.verdict("b") == "it did not leave the plateau"


def test_paper_net_speed_reads_the_benchmark(tmp_path):
    path = tmp_path / "speed.json"
    path.write_text('{"old_ms_median": 100.0, "new_ms_median": 8.0, "speedup_ratio_of_medians": 12.5}')
    assert continuous.paper_net_speed(path) == continuous.KernelSpeed(100.0, 8.0, 12.5)
    shipped = continuous.paper_net_speed()  # the repository's own measurement exists and is consistent
    assert shipped.ratio == pytest.approx(shipped.old_ms / shipped.new_ms, rel=0.01)
