"""Evaluation (l2l_lib.evaluate)."""

import numpy as np
import pytest
import torch

from l2l_lib.evaluate import (error_by_pattern_count, evaluate, evaluate_predictions, evaluation_batch,
                              pattern_counts, predict)
from l2l_lib.model import MetaLSTM
from l2l_lib.tasks import Batch


def test_perfect_and_constant_learners():
    batch = evaluation_batch("boolean16", n_sequences=50, seq_len=20)
    perfect = evaluate_predictions(batch, batch.targets.clone())
    assert perfect.mse == 0 and perfect.accuracy == 1 and perfect.normalised_mse == 0
    assert np.all(perfect.mse_by_position == 0)
    constant = evaluate_predictions(batch, torch.full_like(batch.targets, 0.5))
    assert constant.mse == pytest.approx(0.25) and constant.normalised_mse == pytest.approx(1.0)
    continuous = evaluation_batch("semilinear", n_sequences=50, seq_len=20)
    ev = evaluate_predictions(continuous, torch.full_like(continuous.targets, 0.5))
    assert ev.accuracy is None and ev.per_function is None and ev.normalised_mse == pytest.approx(1.0)


def test_error_by_position_is_the_mean_over_sequences_at_each_step():
    batch = evaluation_batch("semilinear", n_sequences=7, seq_len=5)
    pred = torch.rand(7, 5, 1, generator=torch.Generator().manual_seed(0))
    ev = evaluate_predictions(batch, pred)
    expected = ((pred - batch.targets) ** 2)[..., 0].mean(0).double().numpy()
    np.testing.assert_allclose(ev.mse_by_position, expected, rtol=1e-6)
    assert ev.mse == pytest.approx(float(expected.mean()), rel=1e-6)


def test_per_function_scores_cover_the_drawn_functions():
    batch = evaluation_batch("boolean16", functions=(0, 6, 9), n_sequences=60, seq_len=10)
    pred = batch.targets.clone()
    pred[batch.function_ids == 6] = 1 - pred[batch.function_ids == 6]  # always wrong on XOR
    ev = evaluate_predictions(batch, pred)
    assert set(ev.per_function) == {0, 6, 9}
    assert ev.per_function[6].accuracy == 0 and ev.per_function[6].mse == 1
    assert ev.per_function[0].accuracy == 1 and ev.per_function[9].mse == 0
    assert sum(s.n_steps for s in ev.per_function.values()) == 600


def test_error_since_switch_skips_the_first_segment():
    batch = evaluation_batch("boolean16", n_sequences=20, seq_len=12, switch_every=4)
    pred = batch.targets.clone()
    pred[:, :4] = 1 - pred[:, :4]  # wrong only before the first switch: invisible after switches
    pred[:, 4:][batch.steps_since_switch()[:, 4:] == 0] = 0.5  # unsure right after each switch
    ev = evaluate_predictions(batch, pred)
    np.testing.assert_allclose(ev.mse_since_switch, [0.25, 0, 0, 0])
    assert evaluate_predictions(evaluation_batch("boolean16", n_sequences=2, seq_len=6), pred[:2, :6]).mse_since_switch is None


def test_evaluate_gives_every_learner_the_same_streams():
    seen = []

    def learner(batch: Batch):
        seen.append(batch.inputs)
        return torch.full_like(batch.targets, 0.5)

    evaluate(learner, "quadratic", n_sequences=4, seq_len=9, seed=3)
    evaluate(learner, "quadratic", n_sequences=4, seq_len=9, seed=3)
    evaluate(learner, "quadratic", n_sequences=4, seq_len=9, seed=4)
    assert torch.equal(seen[0], seen[1]) and not torch.equal(seen[0], seen[2])


def test_predict_runs_a_network_in_eval_mode_without_gradients():
    model = MetaLSTM((4,))
    model.train()
    batch = evaluation_batch("boolean14", n_sequences=3, seq_len=8)
    out = predict(model, batch)
    assert out.shape == (3, 8, 1) and not out.requires_grad and model.training
    ev = evaluate(model, "boolean14", n_sequences=3, seq_len=8)
    assert ev.mse == pytest.approx(float(((out - batch.targets) ** 2).mean()), rel=1e-6)


def test_pattern_counts_by_hand():
    batch = evaluation_batch("boolean16", n_sequences=1, seq_len=6, switch_every=3)
    x = torch.tensor([[0, 0], [0, 0], [1, 1], [0, 0], [1, 1], [1, 1]], dtype=torch.float32)
    inputs = batch.inputs.clone()
    inputs[0, :, :2] = x
    hand = Batch(batch.family, inputs, batch.targets, batch.function_ids, None, batch.segment_starts)
    assert pattern_counts(hand)[0].tolist() == [0, 1, 0, 0, 0, 1]  # counting restarts at the switch (t=3)
    mse, acc = error_by_pattern_count(hand, hand.targets.clone(), max_count=2)
    assert mse[0] == 0 and acc[1] == 1 and np.isnan(mse[2])


def test_shape_mismatch_and_continuous_pattern_counts_are_errors():
    batch = evaluation_batch("semilinear", n_sequences=2, seq_len=4)
    with pytest.raises(ValueError, match="predictions must have"):
        evaluate_predictions(batch, torch.zeros(2, 4))
    with pytest.raises(ValueError, match="Boolean family"):
        pattern_counts(batch)


def test_summarise_seeds_counts_successes_and_uses_the_sample_sd():
    from l2l_lib.evaluate import summarise_seeds
    s = summarise_seeds([0.004, 0.0042, 0.2], threshold=0.0043)
    assert (s.n_success, s.n) == (2, 3)
    assert s.mean == pytest.approx(0.0694)
    assert s.sd == pytest.approx(np.std([0.004, 0.0042, 0.2], ddof=1))
    assert summarise_seeds([0.01], 0.0043).sd == 0.0
    with pytest.raises(ValueError, match="values"):
        summarise_seeds([], 0.1)


def test_examples_to_criterion_is_where_the_error_stays_below():
    from l2l_lib.evaluate import examples_to_criterion
    assert examples_to_criterion(np.array([0.3, 0.1, 0.02, 0.05, 0.01, 0.01]), 0.03) == 4  # 0.05 at k=3
    assert examples_to_criterion(np.array([0.01, 0.01]), 0.03) == 0
    assert examples_to_criterion(np.array([0.3, 0.01, 0.04]), 0.03) is None
    with pytest.raises(ValueError, match="mse_by_position"):
        examples_to_criterion(np.array([]), 0.1)


def test_learnt_function_queries_the_state_after_k_examples():
    from l2l_lib.evaluate import learnt_function
    batch = evaluation_batch("quadratic", n_sequences=2, seq_len=12, seed=0)

    class LastInputEcho(torch.nn.Module):  # predicts x1 + 10 * y_prev at every step
        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, inputs):
            return (inputs[..., :1] + 10 * inputs[..., 2:3]) + self.dummy

    grid = np.linspace(-1, 1, 5)
    learnt, true = learnt_function(LastInputEcho(), batch, 4, grid, index=1)
    assert learnt.shape == true.shape == (5, 5)
    expected = grid[None, :] + 10 * float(batch.targets[1, 3, 0])  # columns are x1; y_prev = 4th target
    np.testing.assert_allclose(learnt, np.broadcast_to(expected, (5, 5)), atol=1e-5)
    # the true surface is the stream's own function: it matches the stream's targets where inputs coincide
    x1, x2 = batch.x[1, 0].tolist()
    near = learnt_function(LastInputEcho(), batch, 0, np.array([x1, x2]), index=1)[1]
    assert near[1, 0] == pytest.approx(float(batch.targets[1, 0, 0]), abs=1e-5)  # row x2, column x1
    with pytest.raises(ValueError, match="k must be"):
        learnt_function(LastInputEcho(), batch, 12, grid)
