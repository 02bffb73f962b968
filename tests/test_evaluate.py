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


# ----------------------------------------------------------------------------- examples to criterion (Boolean)
def criterion_batch(patterns: list[list[int]], switch_at: int | None = None) -> Batch:
    """A boolean16 batch with chosen input patterns (0: (0,0) ... 3: (1,1)), function 10 (y = x2), and
    an unannounced switch to function 5 (y = 1 - x2) at ``switch_at``."""
    p = torch.tensor(patterns)
    x = torch.stack([p // 2, p % 2], dim=-1).float()
    ids = torch.full_like(p, 10)
    starts = torch.zeros_like(p, dtype=torch.bool)
    starts[:, 0] = True
    if switch_at is not None:
        ids[:, switch_at:] = 5
        starts[:, switch_at] = True
    y = ((ids >> p) & 1).float().unsqueeze(-1)
    y_prev = torch.cat([torch.zeros_like(y[:, :1]), y[:, :-1]], dim=1)
    return Batch("boolean16", torch.cat([x, y_prev], -1), y, ids, None, starts)


def answers(batch: Batch, wrong: list[tuple[int, int]] = (), unsure: list[tuple[int, int]] = ()) -> torch.Tensor:
    """The targets as predictions, flipped at the ``(sequence, step)`` pairs in ``wrong``; 0.5 in ``unsure``."""
    pred = batch.targets.clone()
    for b, t in wrong:
        pred[b, t] = 1 - pred[b, t]
    for b, t in unsure:
        pred[b, t] = 0.5
    return pred


def test_boolean_examples_to_criterion_when_always_right():
    from l2l_lib.evaluate import boolean_examples_to_criterion
    batch = criterion_batch([[0, 1, 2, 3, 0, 1, 2, 3, 0], [3, 3, 2, 2, 1, 1, 0, 0, 0]])
    assert batch.targets[0, :4, 0].tolist() == [0, 1, 0, 1]  # y = x2
    perfect = batch.targets.clone()
    result = boolean_examples_to_criterion(batch, perfect)
    assert result.dtype == np.float64 and result.shape == (2,)
    # each pattern's 2nd answer: t = 4..7 in the first stream (8 examples), t = 1, 3, 5, 7 in the second
    np.testing.assert_array_equal(result, [8, 8])
    np.testing.assert_array_equal(boolean_examples_to_criterion(batch, perfect, n_correct=1), [4, 7])
    # three right answers in a row: pattern 3 is seen only twice in the first stream
    np.testing.assert_array_equal(boolean_examples_to_criterion(batch, perfect, n_correct=3), [np.nan, np.nan])


def test_boolean_examples_to_criterion_restarts_after_a_wrong_answer():
    from l2l_lib.evaluate import boolean_examples_to_criterion
    batch = criterion_batch([[0, 1, 2, 3, 0, 1, 2, 3, 0, 0, 1, 2, 3]] * 3)
    # stream 0: wrong on the first (0,0): its two right answers are at t=4 and t=8 -> 9 examples. stream 1:
    # wrong on the 2nd (0,0) (t=4): two more right answers needed, at t=8 and t=9 -> 10 examples.
    # stream 2: wrong at the last (1,1) answer: never reached. The 0.5 answer at t=1 (target 1) counts
    # as 1, so it is right.
    pred = answers(batch, wrong=[(0, 0), (1, 4), (2, 12)], unsure=[(0, 1)])
    result = boolean_examples_to_criterion(batch, pred)
    np.testing.assert_array_equal(result, [9, 10, np.nan])
    # a 0.5 answer to a 0 target is wrong (it reads as 1): the (0,0) run restarts after t=8
    unsure = answers(batch, unsure=[(0, 8)])
    assert np.isnan(boolean_examples_to_criterion(batch, unsure)[0])
    np.testing.assert_array_equal(boolean_examples_to_criterion(batch, unsure, n_correct=1)[:1], [10])


def test_boolean_examples_to_criterion_counts_only_the_first_segment():
    from l2l_lib.evaluate import boolean_examples_to_criterion
    patterns = [[0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]]
    switched = criterion_batch(patterns, switch_at=8)
    assert switched.targets[0, 8:, 0].tolist() == [1, 0, 1, 0]  # the new function
    # wrong on every step after the switch: the first segment alone decides
    pred = answers(switched, wrong=[(0, t) for t in range(8, 12)])
    np.testing.assert_array_equal(boolean_examples_to_criterion(switched, pred), [8])
    # a switch before each pattern's second answer: the later answers do not count
    early = criterion_batch(patterns, switch_at=6)
    assert np.isnan(boolean_examples_to_criterion(early, early.targets.clone())[0])
    np.testing.assert_array_equal(boolean_examples_to_criterion(early, early.targets.clone(), n_correct=1), [4])


def test_boolean_examples_to_criterion_matches_a_plain_reference():
    from l2l_lib.evaluate import boolean_examples_to_criterion
    batch = evaluation_batch("boolean16", n_sequences=40, seq_len=24, switch_every=16, seed=5)
    pred = torch.rand(40, 24, 1, generator=torch.Generator().manual_seed(1))
    pred = torch.where(torch.rand(40, 24, 1, generator=torch.Generator().manual_seed(2)) < 0.85,
                       batch.targets, pred)  # mostly right
    result = boolean_examples_to_criterion(batch, pred, n_correct=2)
    for b in range(40):
        per_pattern = []
        for p in range(4):
            steps = [t for t in range(16) if int(batch.patterns()[b, t]) == p]
            right = [bool((pred[b, t, 0] >= 0.5) == (batch.targets[b, t, 0] == 1)) for t in steps]
            found = [steps[j] for j in range(1, len(steps)) if all(right[j - 1:])]
            per_pattern.append(found[0] if found else None)
        expected = np.nan if None in per_pattern else max(per_pattern) + 1
        np.testing.assert_array_equal(result[b], expected)
    assert np.isfinite(result).any() and np.isnan(result).any()


def test_boolean_examples_to_criterion_rejects_bad_arguments():
    from l2l_lib.evaluate import boolean_examples_to_criterion
    batch = criterion_batch([[0, 1, 2, 3]])
    with pytest.raises(ValueError, match="Boolean family"):
        continuous = evaluation_batch("semilinear", n_sequences=1, seq_len=4)
        boolean_examples_to_criterion(continuous, continuous.targets.clone())
    with pytest.raises(ValueError, match="predictions must have"):
        boolean_examples_to_criterion(batch, batch.targets[..., 0])
    for n_correct in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="n_correct must be an integer >= 1"):
            boolean_examples_to_criterion(batch, batch.targets.clone(), n_correct=n_correct)


def test_integer_arguments_are_checked_with_one_wording():
    from l2l_lib.evaluate import boolean_examples_to_criterion

    batch = evaluation_batch("boolean16", n_sequences=2, seq_len=6, seed=0)
    with pytest.raises(ValueError, match=r"max_count must be an integer >= 0; got -1"):
        error_by_pattern_count(batch, batch.targets.clone(), max_count=-1)
    with pytest.raises(ValueError, match=r"n_correct must be an integer >= 1; got True"):
        boolean_examples_to_criterion(batch, batch.targets.clone(), n_correct=True)
