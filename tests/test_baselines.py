"""Tests of the reference learners in :mod:`l2l_lib.baselines`."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch

from l2l_lib.baselines import (bayes_boolean_predictions, constant_predictions, ideal_boolean16_mse,
                               ideal_boolean16_sequence_mse, ideal_predictions, least_squares_predictions,
                               online_gd_predictions)
from l2l_lib.tasks import Batch, make_batch


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def squared_error(predictions: torch.Tensor, batch: Batch) -> torch.Tensor:
    """``[batch, seq_len]`` squared errors."""
    return ((predictions - batch.targets) ** 2)[..., 0]


def output(function_id: int, x1: int, x2: int) -> int:
    """Written out here rather than imported, so that the tests do not trust the code under test."""
    return (function_id >> (2 * x1 + x2)) & 1


def is_xor_or_xnor(k: int) -> bool:
    """The two functions with f(0,0) = f(1,1) != f(0,1) = f(1,0): not linearly separable."""
    return output(k, 0, 0) == output(k, 1, 1) != output(k, 0, 1) == output(k, 1, 0)


BOOLEAN14 = [k for k in range(16) if not is_xor_or_xnor(k)]


def hand_batch(family: str, xs: list[list[tuple[int, int]]], function_ids: list[list[int]]) -> Batch:
    """A Boolean batch with chosen inputs and per-step functions."""
    x = torch.tensor(xs, dtype=torch.float32)  # [B, T, 2]
    ids = torch.tensor(function_ids)
    y = torch.tensor([[output(k, a, b) for k, (a, b) in zip(row_ids, row_x)]
                      for row_ids, row_x in zip(function_ids, xs)], dtype=torch.float32).unsqueeze(-1)
    y_prev = torch.cat([torch.zeros_like(y[:, :1]), y[:, :-1]], dim=1)
    starts = torch.cat([torch.ones_like(ids[:, :1], dtype=torch.bool), ids[:, 1:] != ids[:, :-1]], dim=1)
    return Batch(family=family, inputs=torch.cat([x, y_prev], -1), targets=y, function_ids=ids,
                 coefficients=None, segment_starts=starts)


# ----------------------------------------------------------------------------- Bayes, boolean16
def test_bayes_boolean16_is_a_lookup_table():
    batch = make_batch("boolean16", 6, 30, generator=gen(0))
    predictions = bayes_boolean_predictions(batch)
    for b in range(batch.batch_size):
        table: dict[tuple[int, int], float] = {}
        for t in range(batch.seq_len):
            key = (int(batch.x[b, t, 0]), int(batch.x[b, t, 1]))
            assert predictions[b, t, 0].item() == table.get(key, 0.5)
            table[key] = batch.targets[b, t, 0].item()


def test_bayes_boolean16_error_by_position_matches_closed_form():
    n, seq_len = 4000, 12
    batch = make_batch("boolean16", n, seq_len, generator=gen(1))
    mse = squared_error(bayes_boolean_predictions(batch), batch).mean(0)
    expected = ideal_boolean16_mse(torch.arange(seq_len))
    # each error is 0.25 * Bernoulli(0.75**k): the standard error is exact
    p = 0.75 ** torch.arange(seq_len, dtype=torch.float64)
    standard_error = 0.25 * torch.sqrt(p * (1 - p) / n)
    assert torch.all((mse.double() - expected).abs() <= 4 * standard_error + 1e-12)
    assert ideal_boolean16_mse(3) == pytest.approx(0.25 * 0.75 ** 3)


def test_closed_form_sequence_mse():
    for seq_len, paper in ((256, 0.0039), (64, 0.0156)):
        value = ideal_boolean16_sequence_mse(seq_len)
        assert round(value, 4) == paper
        assert value == pytest.approx(ideal_boolean16_mse(torch.arange(seq_len)).mean().item(), rel=1e-12)
    # and it is what the learner scores on sampled sequences
    batch = make_batch("boolean16", 2000, 64, generator=gen(2))
    mse = squared_error(ideal_predictions(batch), batch).mean().item()
    assert mse == pytest.approx(ideal_boolean16_sequence_mse(64), abs=0.0015)


# ----------------------------------------------------------------------------- Bayes, boolean14
def test_boolean14_posterior_hand_worked():
    # after (0,0) -> 0, the consistent boolean14 functions are the even ids but XOR (6): 0,2,4,8,10,12,14
    queries = [(0, 0), (0, 1), (1, 0), (1, 1)]
    batch = hand_batch("boolean14", [[(0, 0), q] for q in queries], [[0, 0]] * 4)
    predictions = bayes_boolean_predictions(batch)[:, 1, 0]
    consistent = [k for k in BOOLEAN14 if output(k, 0, 0) == 0]
    assert len(BOOLEAN14) == 14 and consistent == [0, 2, 4, 8, 10, 12, 14]
    for q, prediction in zip(queries, predictions.tolist()):
        posterior = Fraction(sum(output(k, *q) for k in consistent), len(consistent))
        assert prediction == pytest.approx(float(posterior), abs=1e-6)
    assert predictions[3].item() == pytest.approx(4 / 7)  # not 0.5, as a lookup table would say
    assert predictions[1].item() == pytest.approx(3 / 7)


def test_boolean14_posterior_matches_enumeration():
    batch = make_batch("boolean14", 5, 8, generator=gen(3))
    predictions = bayes_boolean_predictions(batch)
    for b in range(batch.batch_size):
        seen: list[tuple[int, int, float]] = []
        for t in range(batch.seq_len):
            a, c = int(batch.x[b, t, 0]), int(batch.x[b, t, 1])
            alive = [k for k in BOOLEAN14 if all(output(k, i, j) == y for i, j, y in seen)]
            assert predictions[b, t, 0].item() == pytest.approx(sum(output(k, a, c) for k in alive) / len(alive))
            seen.append((a, c, int(batch.targets[b, t, 0])))


def test_boolean14_posterior_beats_lookup_table():
    batch = make_batch("boolean14", 4000, 12, generator=gen(4))
    posterior = squared_error(bayes_boolean_predictions(batch), batch).mean()
    lookup = squared_error(bayes_boolean_predictions(batch, functions=list(range(16))), batch).mean()
    assert posterior < lookup - 0.002


# ----------------------------------------------------------------------------- Bayes, switches
def test_bayes_restarts_after_a_switch():
    # constant 1 on all four patterns, then constant 0 twice over
    patterns = [(0, 0), (0, 1), (1, 0), (1, 1)]
    batch = hand_batch("boolean16", [patterns * 3], [[15] * 4 + [0] * 8])
    predictions = bayes_boolean_predictions(batch)[0, :, 0].tolist()
    # t=4: the old function answers 1 and is refuted; the restart keeps only (0,0) -> 0
    assert predictions == [0.5] * 4 + [1.0, 0.5, 0.5, 0.5] + [0.0] * 4


def test_bayes_recovers_on_random_switches():
    batch = make_batch("boolean16", 500, 96, switch_every=32, generator=gen(5))
    predictions = bayes_boolean_predictions(batch)
    assert predictions.min() >= 0 and predictions.max() <= 1
    error = squared_error(predictions, batch).view(500, 3, 32)
    assert error[:, :, -8:].mean() < 0.005  # late in every segment, consistent with the new function
    assert error[:, 1:, 0].mean() > 0.1  # a switch costs something on its first step
    # a prior that excludes the data's functions still gives finite probabilities
    held_out = bayes_boolean_predictions(batch, functions=[0, 15])
    assert torch.isfinite(held_out).all() and held_out.min() >= 0 and held_out.max() <= 1


# ----------------------------------------------------------------------------- least squares
@pytest.mark.parametrize("family, quadratic_map, n_params", [
    ("semilinear", "per_function", 3), ("quadratic", "fixed", 6), ("quadratic", "per_function", 6)])
def test_least_squares_exact_once_determined(family, quadratic_map, n_params):
    batch = make_batch(family, 1000, 24, generator=gen(6), quadratic_map=quadratic_map)
    predictions = least_squares_predictions(batch)
    assert predictions.shape == (1000, 24, 1) and predictions.dtype == torch.float32
    assert torch.all(predictions[:, 0] == 0.5)
    error = (predictions - batch.targets).abs()[..., 0]
    determined = error[:, n_params:]
    # exact up to float32 targets; rare near-degenerate input sets amplify that rounding
    assert determined.pow(2).mean() < 1e-9
    assert torch.quantile(determined.flatten(), 0.99) < 1e-5
    assert error[:, n_params - 1].median() > 1e-3  # one example short, it is still guessing
    assert torch.equal(ideal_predictions(batch), predictions)


def test_least_squares_rejects_boolean_and_bad_ridge():
    boolean = make_batch("boolean16", 2, 4, generator=gen(7))
    with pytest.raises(ValueError, match=r"batch\.family.*semilinear"):
        least_squares_predictions(boolean)
    continuous = make_batch("semilinear", 2, 4, generator=gen(7))
    for ridge in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="ridge"):
            least_squares_predictions(continuous, ridge=ridge)


# ----------------------------------------------------------------------------- online gradient descent
def test_online_gd_shape_and_determinism():
    batch = make_batch("quadratic", 4, 10, generator=gen(8))
    first = online_gd_predictions(batch, hidden_size=5, generator=gen(0))
    assert first.shape == (4, 10, 1) and first.dtype == torch.float32
    assert torch.equal(first, online_gd_predictions(batch, hidden_size=5, generator=gen(0)))
    assert not torch.equal(first, online_gd_predictions(batch, hidden_size=5, generator=gen(1)))
    assert first.min() > 0 and first.max() < 1


def test_online_gd_learns_one_function():
    batch = make_batch("semilinear", 32, 1000, generator=gen(9))
    error = squared_error(online_gd_predictions(batch, generator=gen(0)), batch).mean(0)
    assert error[-100:].mean() < 0.2 * error[:100].mean()


def test_online_gd_is_one_sgd_step_per_example():
    # the same update done by autograd on an nn-style MLP, for one sequence
    batch = make_batch("semilinear", 1, 5, generator=gen(10))
    hidden, lr = 3, 0.3
    predictions = online_gd_predictions(batch, hidden_size=hidden, learning_rate=lr, generator=gen(0))
    g = gen(0)
    w1 = (2 * torch.rand(1, 2, hidden, generator=g) - 1)[0] / math.sqrt(2)
    b1 = (2 * torch.rand(1, hidden, generator=g) - 1)[0] / math.sqrt(2)
    w2 = (2 * torch.rand(1, hidden, generator=g) - 1)[0] / math.sqrt(hidden)
    b2 = (2 * torch.rand(1, generator=g) - 1)[0] / math.sqrt(hidden)
    params = [p.clone().requires_grad_() for p in (w1, b1, w2, b2)]
    for t in range(batch.seq_len):
        w1, b1, w2, b2 = params
        p = torch.sigmoid(torch.tanh(batch.x[0, t] @ w1 + b1) @ w2 + b2)
        assert p.item() == pytest.approx(predictions[0, t, 0].item(), abs=1e-6)
        grads = torch.autograd.grad(0.5 * (batch.targets[0, t, 0] - p) ** 2, params)
        params = [(q - lr * d).detach().requires_grad_() for q, d in zip(params, grads)]


@pytest.mark.parametrize("kwargs, name", [
    ({"hidden_size": 0}, "hidden_size"), ({"hidden_size": 2.5}, "hidden_size"),
    ({"learning_rate": 0.0}, "learning_rate"), ({"learning_rate": math.inf}, "learning_rate"),
    ({"learning_rate": math.nan}, "learning_rate")])
def test_online_gd_rejects_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        online_gd_predictions(make_batch("semilinear", 2, 3, generator=gen(11)), **kwargs)


# ----------------------------------------------------------------------------- constant, dispatch, errors
def test_constant_predictor():
    batch = make_batch("boolean14", 1000, 16, generator=gen(12))
    predictions = constant_predictions(batch)
    assert predictions.shape == batch.targets.shape and torch.all(predictions == 0.5)
    assert squared_error(predictions, batch).mean().item() == pytest.approx(0.25)
    continuous = make_batch("semilinear", 2000, 8, generator=gen(12))
    assert continuous.targets.mean().item() == pytest.approx(constant_predictions(continuous).mean().item(), abs=0.01)


def test_ideal_dispatches_boolean_to_bayes():
    batch = make_batch("boolean14", 8, 10, generator=gen(13))
    assert torch.equal(ideal_predictions(batch), bayes_boolean_predictions(batch))


def test_bad_arguments_name_the_parameter():
    batch = make_batch("boolean16", 2, 4, generator=gen(14))
    with pytest.raises(ValueError, match=r"batch\.family.*boolean14"):
        bayes_boolean_predictions(make_batch("quadratic", 2, 4, generator=gen(14)))
    for functions in ([], [16], [3, 3], [-1]):
        with pytest.raises(ValueError, match="functions"):
            bayes_boolean_predictions(batch, functions=functions)
    for k in (-1, 1.5, True, torch.tensor([0, -2]), torch.tensor([0.5])):
        with pytest.raises(ValueError, match="k must"):
            ideal_boolean16_mse(k)
    for seq_len in (0, 2.0):
        with pytest.raises(ValueError, match="seq_len"):
            ideal_boolean16_sequence_mse(seq_len)


def test_tune_online_gd_returns_the_rate_with_the_lowest_error():
    from l2l_lib.baselines import tune_online_gd
    from l2l_lib.evaluate import evaluation_batch
    batch = evaluation_batch("semilinear", n_sequences=16, seq_len=60, seed=3)
    best, scores = tune_online_gd(batch, (0.001, 1.0))
    assert set(scores) == {0.001, 1.0} and best == min(scores, key=scores.get)
    assert scores[1.0] < scores[0.001]  # a step size of 0.001 barely moves in 60 steps
    with pytest.raises(ValueError, match="learning_rate"):
        tune_online_gd(batch, (0.0,))


# ----------------------------------------------------------------------------- k nearest neighbours
@pytest.fixture
def one_thread():
    """Run a test on one intra-op thread: on oversubscribed cores, OpenMP's multi-threaded small ops can be
    ~100x slower than one thread (the batch-GD tests took 45 s instead of 0.3 s)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def continuous_batch(xs: list[list[tuple[float, float]]], ys: list[list[float]], family: str = "semilinear") -> Batch:
    """A continuous batch with chosen inputs and targets (one segment; the targets need not be a function)."""
    x = torch.tensor(xs, dtype=torch.float32)
    y = torch.tensor(ys, dtype=torch.float32).unsqueeze(-1)
    y_prev = torch.cat([torch.zeros_like(y[:, :1]), y[:, :-1]], dim=1)
    starts = torch.zeros(x.shape[:2], dtype=torch.bool)
    starts[:, 0] = True
    return Batch(family=family, inputs=torch.cat([x, y_prev], -1), targets=y, function_ids=None,
                 coefficients=None, segment_starts=starts)


def knn_reference(batch: Batch, k: int) -> torch.Tensor:
    """Plain-Python kNN: sort the previous examples by (distance, most recent first)."""
    out = torch.empty(batch.batch_size, batch.seq_len)
    for b in range(batch.batch_size):
        for t in range(batch.seq_len):
            if t == 0:
                out[b, t] = 0.5
                continue
            x = batch.x[b].double()
            keyed = sorted(range(t), key=lambda s: (float(((x[s] - x[t]) ** 2).sum()), -s))
            out[b, t] = sum(float(batch.targets[b, s, 0]) for s in keyed[:k]) / min(k, t)
    return out.unsqueeze(-1)


def test_knn_one_neighbour_answers_the_nearest_previous_target():
    from l2l_lib.baselines import knn_predictions
    xs = [[(0.0, 0.0), (1.0, 0.0), (0.9, 0.1), (0.1, -0.1), (0.6, 0.0)]]
    ys = [[0.1, 0.2, 0.3, 0.4, 0.5]]
    predictions = knn_predictions(continuous_batch(xs, ys), k=1)
    assert predictions.shape == (1, 5, 1) and predictions.dtype == torch.float32
    # t=0: nothing seen, family mean; t=1: only (0,0); t=2: (1,0) is nearer; t=3: (0,0); t=4: (0.9,0.1)
    assert predictions[0, :, 0].tolist() == pytest.approx([0.5, 0.1, 0.2, 0.1, 0.3])


def test_knn_averages_the_k_nearest_or_all_seen():
    from l2l_lib.baselines import knn_predictions
    xs = [[(0.0, 0.0), (0.5, 0.0), (-0.8, 0.0), (0.9, 0.0), (0.2, 0.0)]]
    ys = [[0.2, 0.4, 0.6, 0.8, 0.0]]
    predictions = knn_predictions(continuous_batch(xs, ys, family="quadratic"), k=2)[0, :, 0]
    # t=1, 2: fewer than 2 seen, mean of all; t=3: nearest 0.9 are 0.5 (0.4) and 0 (0.2);
    # t=4: nearest 0.2 are 0 (0.2) and 0.5 (0.4)
    assert predictions.tolist() == pytest.approx([0.5, 0.2, 0.3, 0.3, 0.3])


def test_knn_ties_go_to_the_most_recent_examples():
    from l2l_lib.baselines import knn_predictions
    # pattern (0,1) answers 0 under function 13, then 1 under function 2, then 0 again; (1,1) answers 1 once
    xs = [[(0, 1), (1, 1), (0, 1), (0, 1), (0, 1), (0, 1)]]
    batch = hand_batch("boolean16", xs, [[13, 13, 2, 2, 13, 13]])
    assert batch.targets[0, :, 0].tolist() == [0, 1, 1, 1, 0, 0]
    one = knn_predictions(batch, k=1)[0, :, 0].tolist()
    assert one == [0.5, 0.0, 0.0, 1.0, 1.0, 0.0]  # the latest answer on the same pattern
    two = knn_predictions(batch, k=2)[0, :, 0].tolist()
    # t=2: (0,1) at t=0, then the farther (1,1) as the only one left; t=3: (0,1) at t=2 (1) and t=0 (0);
    # t=4: t=3 and t=2 (both 1), not t=0; t=5: t=4 (0) and t=3 (1)
    assert two == [0.5, 0.0, 0.5, 0.5, 1.0, 0.5]
    assert knn_predictions(batch, k=10)[0, 5, 0].item() == pytest.approx(0.6)  # all five seen


def test_knn_matches_a_plain_reference_and_ignores_switches():
    from l2l_lib.baselines import knn_predictions
    for family, k in (("semilinear", 3), ("boolean14", 3), ("boolean16", 1)):
        batch = make_batch(family, 3, 14, switch_every=7, generator=gen(20))
        assert torch.allclose(knn_predictions(batch, k=k), knn_reference(batch, k), atol=1e-6)


@pytest.mark.usefixtures("one_thread")
def test_knn_learns_and_rejects_bad_k():
    from l2l_lib.baselines import knn_predictions
    batch = make_batch("semilinear", 200, 60, generator=gen(21))
    error = squared_error(knn_predictions(batch), batch).mean(0)
    assert error[-10:].mean() < 0.2 * error[0]
    for k in (0, -1, 2.5, True, None):
        with pytest.raises(ValueError, match="k must be an integer >= 1"):
            knn_predictions(batch, k=k)


# ----------------------------------------------------------------------------- batch gradient descent
def initial_net(hidden: int, seed: int, n_seq: int = 1, index: int = 0) -> list[torch.Tensor]:
    """Sequence ``index``'s initial MLP drawn as online_gd_predictions draws a batch of ``n_seq``."""
    g = gen(seed)
    w1 = (2 * torch.rand(n_seq, 2, hidden, generator=g) - 1)[index] / math.sqrt(2)
    b1 = (2 * torch.rand(n_seq, hidden, generator=g) - 1)[index] / math.sqrt(2)
    w2 = (2 * torch.rand(n_seq, hidden, generator=g) - 1)[index] / math.sqrt(hidden)
    b2 = (2 * torch.rand(n_seq, generator=g) - 1)[index] / math.sqrt(hidden)
    return [w1, b1, w2, b2]


def net(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    w1, b1, w2, b2 = params
    return torch.sigmoid(torch.tanh(x @ w1 + b1) @ w2 + b2)


def test_batch_gd_without_steps_is_the_untrained_network():
    from l2l_lib.baselines import batch_gd_predictions
    batch = make_batch("quadratic", 1, 7, generator=gen(22))
    predictions = batch_gd_predictions(batch, hidden_size=4, steps_per_example=0, generator=gen(5))
    assert predictions.shape == (1, 7, 1) and predictions.dtype == torch.float32
    expected = net(initial_net(4, 5), batch.x[0])
    assert torch.allclose(predictions[0, :, 0], expected, atol=1e-6)
    assert not torch.allclose(predictions, batch_gd_predictions(batch, hidden_size=4, steps_per_example=1,
                                                                generator=gen(5)))


def test_batch_gd_one_step_on_two_examples_by_hand():
    from l2l_lib.baselines import batch_gd_predictions, online_gd_predictions
    batch = make_batch("semilinear", 1, 2, generator=gen(23))
    hidden, lr = 3, 0.7
    predictions = batch_gd_predictions(batch, hidden_size=hidden, learning_rate=lr, steps_per_example=1,
                                       generator=gen(1))[0, :, 0]
    w1, b1, w2, b2 = initial_net(hidden, 1)
    x0, y0 = batch.x[0, 0], batch.targets[0, 0, 0]
    h = torch.tanh(x0 @ w1 + b1)
    p = torch.sigmoid(h @ w2 + b2)
    assert predictions[0].item() == pytest.approx(p.item(), abs=1e-6)
    d_out = (p - y0) * p * (1 - p)
    d_hidden = d_out * w2 * (1 - h * h)
    stepped = [w1 - lr * torch.outer(x0, d_hidden), b1 - lr * d_hidden, w2 - lr * d_out * h, b2 - lr * d_out]
    assert predictions[1].item() == pytest.approx(net(stepped, batch.x[0, 1]).item(), abs=1e-6)
    # with one example seen, one full-batch step is one online step
    online = online_gd_predictions(batch, hidden_size=hidden, learning_rate=lr, generator=gen(1))[0, :, 0]
    assert torch.allclose(predictions, online, atol=1e-6)


def test_batch_gd_is_warm_started_full_batch_descent_on_the_mean_error():
    from l2l_lib.baselines import batch_gd_predictions
    batch = make_batch("boolean14", 2, 6, switch_every=3, generator=gen(24))
    hidden, lr, steps = 5, 2.0, 3
    predictions = batch_gd_predictions(batch, hidden_size=hidden, learning_rate=lr, steps_per_example=steps,
                                       generator=gen(2))
    for b in range(batch.batch_size):  # each sequence descends on its own examples only
        params = [q.clone().requires_grad_() for q in initial_net(hidden, 2, batch.batch_size, b)]
        for t in range(batch.seq_len):
            for _ in range(steps if t > 0 else 0):  # the whole history: the switch at t=3 is not announced
                loss = (0.5 * (batch.targets[b, :t, 0] - net(params, batch.x[b, :t])) ** 2).mean()
                grads = torch.autograd.grad(loss, params)
                params = [(q - lr * d).detach().requires_grad_() for q, d in zip(params, grads)]
            assert net(params, batch.x[b, t]).item() == pytest.approx(predictions[b, t, 0].item(), abs=1e-5)


@pytest.mark.usefixtures("one_thread")
def test_batch_gd_error_falls_with_more_steps():
    from l2l_lib.baselines import batch_gd_predictions, online_gd_predictions
    batch = make_batch("semilinear", 64, 40, generator=gen(25))
    errors = [squared_error(batch_gd_predictions(batch, learning_rate=3.0, steps_per_example=s, generator=gen(0)),
                            batch).mean().item() for s in (0, 1, 5, 20)]
    assert errors[0] > errors[1] > errors[2] > errors[3]
    assert errors[3] < 0.6 * errors[1]
    online = squared_error(online_gd_predictions(batch, learning_rate=3.0, generator=gen(0)), batch).mean().item()
    assert errors[3] < online  # refitting on every example beats one step per example


@pytest.mark.parametrize("kwargs, name", [
    ({"hidden_size": 0}, "hidden_size"), ({"hidden_size": 2.5}, "hidden_size"),
    ({"learning_rate": 0.0}, "learning_rate"), ({"learning_rate": -1.0}, "learning_rate"),
    ({"learning_rate": math.nan}, "learning_rate"), ({"learning_rate": True}, "learning_rate"),
    ({"steps_per_example": -1}, "steps_per_example"), ({"steps_per_example": 1.5}, "steps_per_example"),
    ({"steps_per_example": True}, "steps_per_example")])
def test_batch_gd_rejects_bad_arguments(kwargs, name):
    from l2l_lib.baselines import batch_gd_predictions
    with pytest.raises(ValueError, match=name):
        batch_gd_predictions(make_batch("semilinear", 2, 3, generator=gen(26)), **kwargs)


@pytest.mark.usefixtures("one_thread")
def test_tune_batch_gd_returns_the_rate_with_the_lowest_error():
    from l2l_lib.baselines import batch_gd_predictions, tune_batch_gd
    batch = make_batch("semilinear", 16, 30, generator=gen(27))
    best, scores = tune_batch_gd(batch, (0.001, 3.0), hidden_size=6, steps_per_example=5, seed=4)
    assert set(scores) == {0.001, 3.0} and best == 3.0 and scores[3.0] < scores[0.001]
    again = batch_gd_predictions(batch, hidden_size=6, learning_rate=0.001, steps_per_example=5, generator=gen(4))
    assert scores[0.001] == pytest.approx(squared_error(again, batch).mean().item(), rel=1e-6)
    best, scores = tune_batch_gd(batch, [100.0, 3.0, 0.01], hidden_size=6, steps_per_example=5)
    assert best == min(scores, key=scores.get) and best != 100.0
    with pytest.raises(ValueError, match="rates"):
        tune_batch_gd(batch, ())
    with pytest.raises(ValueError, match="learning_rate"):
        tune_batch_gd(batch, (0.0,))


def test_bayes_prior_weights_bet_on_the_heavy_functions_until_the_examples_rule_them_out():
    from l2l_lib.baselines import bayes_boolean_predictions
    from l2l_lib.evaluate import evaluation_batch
    batch = evaluation_batch("boolean16", functions=(6,), n_sequences=64, seq_len=24, seed=5)  # XOR streams
    uniform = bayes_boolean_predictions(batch)
    assert torch.equal(uniform, bayes_boolean_predictions(batch, prior=[1.0] * 16))
    train = [k for k in range(16) if k not in (0, 6, 9)]
    weights = [1.0 if k in train else 1e-6 for k in range(16)]
    recogniser = bayes_boolean_predictions(batch, prior=weights)
    # once every pattern has been seen, both know XOR exactly; before, the recogniser errs more
    seen_all = torch.stack([(batch.patterns()[:, :t] == p).any(1) for t in range(24) for p in range(4)]
                           ).view(24, 4, 64).all(1).T  # [B, T]
    torch.testing.assert_close(recogniser[seen_all], uniform[seen_all])
    err = lambda p: float(((p - batch.targets) ** 2).mean())  # noqa: E731
    assert err(recogniser) > err(uniform)
    with pytest.raises(ValueError, match="prior"):
        bayes_boolean_predictions(batch, prior=[1.0] * 3)
    with pytest.raises(ValueError, match="prior"):
        bayes_boolean_predictions(batch, prior=[0.0] * 16)


# ----------------------------------------------------------------------------- the registry of reference learners
from l2l_lib.baselines import batch_gd_predictions, knn_predictions  # noqa: E402
from l2l_lib.reference_learners import (ALL_REFERENCE_NAMES, BATCH_GD, CONSTANT, IDEAL,  # noqa: E402
                                        LEAST_SQUARES_ON_Y, LINEAR_RIDGE, LINEAR_RIDGE_PENALTY, MOMENT_MATCHED,
                                        NEAREST_NEIGHBOURS, ONLINE_GD, REFERENCE_NAMES, RUNNING_MEAN,
                                        family_reference_names, nearest_neighbours_k, reference_learners)
from l2l_lib.tasks import DEFAULT_QUADRATIC_MAP  # noqa: E402


def test_registry_lists_every_learner_in_order_with_its_family_specific_ideal():
    tuning = make_batch("boolean16", 8, 12, generator=gen(1))
    boolean = reference_learners("boolean16", tuning=tuning)
    assert [r.name for r in boolean] == list(REFERENCE_NAMES)
    assert "Bayes" in boolean[0].about
    assert "monomials" in reference_learners("quadratic", names=(IDEAL,))[0].about
    assert [r.name for r in reference_learners("semilinear", names=(CONSTANT, IDEAL))] == [CONSTANT, IDEAL]


def test_registry_nearest_neighbours_answer_the_last_answer_to_the_same_pattern_for_boolean_inputs():
    batch = make_batch("boolean16", 4, 20, generator=gen(2))
    knn = reference_learners("boolean16", names=(NEAREST_NEIGHBOURS,))[0]
    predictions = knn(batch)
    for b in range(batch.batch_size):  # by hand: a table of the latest answer per pattern
        last: dict[tuple[int, int], float] = {}
        for t in range(batch.seq_len):
            key = (int(batch.x[b, t, 0]), int(batch.x[b, t, 1]))
            expected = last.get(key)
            if t == 0:
                assert predictions[b, t, 0].item() == 0.5
            elif expected is not None:
                assert predictions[b, t, 0].item() == expected
            last[key] = batch.targets[b, t, 0].item()
    assert nearest_neighbours_k("boolean14") == 1 and nearest_neighbours_k("quadratic") == 5
    continuous = make_batch("semilinear", 3, 15, generator=gen(3))
    assert torch.equal(reference_learners("semilinear", names=(NEAREST_NEIGHBOURS,))[0](continuous),
                       knn_predictions(continuous, k=5))


@pytest.mark.usefixtures("one_thread")
def test_registry_tunes_gradient_descent_on_the_tuning_streams_and_starts_every_call_alike():
    tuning = make_batch("semilinear", 16, 20, generator=gen(4))
    test = make_batch("semilinear", 4, 20, generator=gen(5))
    online, batch_gd = reference_learners("semilinear", tuning=tuning, names=(ONLINE_GD, BATCH_GD))
    # the chosen rate and width are the ones with the lowest MSE on the tuning streams, recomputed here
    scores = {(rate, width): float(((online_gd_predictions(tuning, hidden_size=width, learning_rate=rate,
                                                           generator=gen(0)) - tuning.targets) ** 2).mean())
              for rate, width in online.tuning.scores}
    assert dict(online.tuning.scores) == pytest.approx(scores)
    assert (online.learning_rate, online.hidden_size) == min(scores, key=scores.get)
    assert online.tuning_scores == {r: v for (r, w), v in sorted(scores.items()) if w == online.hidden_size}
    assert online.tuning.seq_len == 20 and online.tuning.n_sequences == 16 and batch_gd.tuning.n_sequences == 8
    assert f"2-{online.hidden_size}-1" in online.about
    assert torch.equal(online(test), online(test))  # a fresh generator per call: same initial weights
    assert torch.equal(online(test), online_gd_predictions(test, hidden_size=online.hidden_size,
                                                           learning_rate=online.learning_rate, generator=gen(0)))
    assert torch.equal(batch_gd(test), batch_gd_predictions(test, hidden_size=batch_gd.hidden_size,
                                                            learning_rate=batch_gd.learning_rate, generator=gen(0)))


def test_registry_refuses_bad_requests():
    with pytest.raises(ValueError, match="tuning"):
        reference_learners("semilinear", names=(ONLINE_GD,))
    with pytest.raises(ValueError, match="tuning.family"):
        reference_learners("semilinear", tuning=make_batch("quadratic", 2, 5, generator=gen(0)))
    with pytest.raises(ValueError, match="names"):
        reference_learners("semilinear", names=("least squares",))
    with pytest.raises(ValueError, match="family"):
        reference_learners("parity")
    with pytest.raises(ValueError, match="names"):  # a continuous family's learner
        reference_learners("boolean16", names=(MOMENT_MATCHED,))
    with pytest.raises(ValueError, match="names"):  # the quadratic's, not the semi-linear's
        reference_learners("semilinear", names=(RUNNING_MEAN,))
    with pytest.raises(ValueError, match="quadratic_map"):
        reference_learners("quadratic", names=(MOMENT_MATCHED,), quadratic_map="global")


def test_registry_lists_each_familys_relevant_learners():
    assert family_reference_names("boolean14") == REFERENCE_NAMES
    for family in ("semilinear", "quadratic"):
        names = family_reference_names(family)
        assert set(REFERENCE_NAMES) <= set(names) and MOMENT_MATCHED in names
        learners = reference_learners(family, names=[n for n in names if n not in (ONLINE_GD, BATCH_GD)])
        assert all(r.about and r.learning_rate is None and r.tuning is None for r in learners)
    assert LEAST_SQUARES_ON_Y in family_reference_names("semilinear")
    assert {LINEAR_RIDGE, RUNNING_MEAN} <= set(family_reference_names("quadratic"))
    assert set(ALL_REFERENCE_NAMES) == {n for f in ("boolean16", "semilinear", "quadratic")
                                        for n in family_reference_names(f)}


def test_registry_continuous_learners_are_the_library_functions_with_the_right_map():
    from l2l_lib.continuous_learners import (linear_least_squares_predictions, moment_matched_predictions,
                                             running_mean_predictions)
    streams = make_batch("quadratic", 8, 12, generator=gen(8), quadratic_map="per_function")
    default = reference_learners("quadratic", names=(MOMENT_MATCHED,))[0]
    per_function, ridge, mean = reference_learners("quadratic", names=(MOMENT_MATCHED, LINEAR_RIDGE, RUNNING_MEAN),
                                                   quadratic_map="per_function")
    assert "per-function" in per_function.about and "fixed" in default.about
    assert torch.equal(per_function(streams), moment_matched_predictions(streams, "per_function"))
    assert torch.equal(default(streams), moment_matched_predictions(streams, DEFAULT_QUADRATIC_MAP))
    assert not torch.allclose(per_function(streams), default(streams))
    assert torch.equal(ridge(streams), linear_least_squares_predictions(streams, LINEAR_RIDGE_PENALTY))
    assert torch.equal(mean(streams), running_mean_predictions(streams))
    semilinear = make_batch("semilinear", 4, 9, generator=gen(9))
    on_y, floor = reference_learners("semilinear", names=(LEAST_SQUARES_ON_Y, MOMENT_MATCHED))
    assert "no logit" in on_y.about and "logit space" in floor.about
    assert torch.equal(on_y(semilinear), linear_least_squares_predictions(semilinear, LINEAR_RIDGE_PENALTY))
    assert torch.equal(floor(semilinear), moment_matched_predictions(semilinear))


def test_online_and_batch_gd_start_from_the_same_network():
    """With no learning, both learners answer with the initial network: the same draws, the same answers."""
    batch = make_batch("quadratic", 5, 9, generator=gen(6))
    untrained = batch_gd_predictions(batch, steps_per_example=0, generator=gen(7))
    # online GD's first answer comes before any step
    online = online_gd_predictions(batch, learning_rate=0.5, generator=gen(7))
    torch.testing.assert_close(online[:, 0], untrained[:, 0], rtol=0, atol=0)
    # and by hand: a 2-20-1 network with nn.Linear's initialisation, drawn in the order w1, b1, w2, b2
    g = gen(7)
    bound_in, bound_hidden = 1.0, 1.0 / math.sqrt(20)
    w1 = (2 * torch.rand(5, 2, 20, generator=g) - 1) * bound_in / math.sqrt(2)
    b1 = (2 * torch.rand(5, 20, generator=g) - 1) * bound_in / math.sqrt(2)
    w2 = (2 * torch.rand(5, 20, generator=g) - 1) * bound_hidden
    b2 = (2 * torch.rand(5, generator=g) - 1) * bound_hidden
    hidden = torch.tanh(torch.einsum("bti,bih->bth", batch.x, w1) + b1[:, None])
    expected = torch.sigmoid((hidden * w2[:, None]).sum(-1) + b2[:, None])
    torch.testing.assert_close(untrained[..., 0], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call, name", [
    (lambda b: online_gd_predictions(b, hidden_size=0), "hidden_size must be an integer >= 1"),
    (lambda b: online_gd_predictions(b, learning_rate=float("nan")), "learning_rate must be a number"),
    (lambda b: batch_gd_predictions(b, steps_per_example=-1), "steps_per_example must be an integer >= 0"),
    (lambda b: knn_predictions(b, k=True), "k must be an integer >= 1"),
])
def test_argument_checks_name_the_parameter_and_what_it_may_be(call, name):
    with pytest.raises(ValueError, match=name):
        call(make_batch("semilinear", 2, 4, generator=gen(0)))


# ----------------------------------------------------------------------------- searching step size and width
from l2l_lib.baselines import _search_grid, search_batch_gd, search_online_gd  # noqa: E402


def bowl(rate: float, width: int) -> float:
    """A made-up error surface: best near rate 20 (between 10 and 31.6) and width 10."""
    return (math.log10(rate) - 1.3) ** 2 + (width - 10) ** 2 / 100


def test_search_extends_the_rate_grid_outward_until_the_best_rate_is_interior():
    calls: list[tuple[float, int]] = []

    def score(rate, width):
        calls.append((rate, width))
        return bowl(rate, width)

    rate, width, scores, edge_hit, interior = _search_grid(score, (5, 10, 20), (0.01, 0.1, 1.0), full_grid=True,
                                                           start_width=5, max_extensions=4)
    # the grid's best is the edge 1.0 at width 10; then 10 (still the best), then 100 (worse): interior
    assert calls[:9] == [(r, w) for w in (5, 10, 20) for r in (0.01, 0.1, 1.0)]
    assert calls[9:] == [(10.0, 10), (100.0, 10)]
    assert (rate, width, edge_hit, interior) == (10.0, 10, True, True)
    assert scores == {c: bowl(*c) for c in calls}
    # out of extensions while still at the edge: recorded
    rate, width, scores, edge_hit, interior = _search_grid(bowl, (5, 10, 20), (0.01, 0.1, 1.0), full_grid=True,
                                                           start_width=5, max_extensions=1)
    assert (rate, width, edge_hit, interior) == (10.0, 10, True, False) and len(scores) == 10
    # an interior optimum needs no extension; a diverging candidate scores inf
    rate, width, scores, edge_hit, interior = _search_grid(
        lambda r, w: math.nan if r > 50 else bowl(r, w), (10,), (3.0, 30.0, 300.0), full_grid=True, start_width=10,
        max_extensions=4)
    assert (rate, edge_hit, interior) == (30.0, False, True) and scores[(300.0, 10)] == math.inf


def test_search_by_coordinates_tries_rates_then_widths_then_rates_at_the_best_width():
    calls: list[tuple[float, int]] = []

    def score(rate, width):
        calls.append((rate, width))
        return bowl(rate, width)

    rate, width, scores, edge_hit, interior = _search_grid(score, (5, 10, 20, 40), (3.0, 30.0, 300.0),
                                                           full_grid=False, start_width=20, max_extensions=4)
    assert calls == [(3.0, 20), (30.0, 20), (300.0, 20), (30.0, 5), (30.0, 10), (30.0, 40), (300.0, 10),
                     (3.0, 10)]
    assert (rate, width, edge_hit, interior) == (30.0, 10, False, True)


@pytest.mark.usefixtures("one_thread")
def test_search_online_gd_scores_every_rate_and_width_from_the_same_initial_weights():
    batch = make_batch("quadratic", 8, 25, generator=gen(30))
    result = search_online_gd(batch, widths=(3, 8), rates=(0.1, 1.0, 10.0), seed=2)
    assert {(r, w) for r, w in result.scores} >= {(r, w) for r in (0.1, 1.0, 10.0) for w in (3, 8)}
    for (rate, width), value in result.scores.items():
        again = online_gd_predictions(batch, hidden_size=width, learning_rate=rate, generator=gen(2))
        assert value == pytest.approx(squared_error(again, batch).mean().item(), rel=1e-6)
    assert result.mse == min(result.scores.values())
    best_rates = list(result.rate_scores())
    assert best_rates == sorted(best_rates) and best_rates[0] < result.learning_rate < best_rates[-1]
    assert result.interior and result.learner == "online" and (result.n_sequences, result.seq_len) == (8, 25)
    with pytest.raises(ValueError, match="rates"):
        search_online_gd(batch, rates=(1.0,))
    with pytest.raises(ValueError, match="widths"):
        search_online_gd(batch, widths=(0,))
    with pytest.raises(ValueError, match="max_extensions"):
        search_online_gd(batch, max_extensions=-1)


@pytest.mark.usefixtures("one_thread")
def test_search_batch_gd_uses_the_first_streams_and_records_the_search():
    batch = make_batch("semilinear", 12, 15, generator=gen(31))
    result = search_batch_gd(batch, widths=(3, 6), rates=(0.3, 3.0), start_width=6, n_sequences=5,
                             steps_per_example=3, seed=1)
    assert (result.learner, result.n_sequences, result.seq_len) == ("batch", 5, 15)
    first = make_batch("semilinear", 12, 15, generator=gen(31))
    first = type(first)(first.family, first.inputs[:5], first.targets[:5], None, first.coefficients[:5],
                        first.segment_starts[:5])
    for (rate, width), value in result.scores.items():
        again = batch_gd_predictions(first, hidden_size=width, learning_rate=rate, steps_per_example=3,
                                     generator=gen(1))
        assert value == pytest.approx(squared_error(again, first).mean().item(), rel=1e-6)
    assert (result.learning_rate, result.hidden_size) == min(result.scores, key=result.scores.get)
    assert result.interior == (min(result.rate_scores()) < result.learning_rate < max(result.rate_scores()))
    assert result.edge_hit == any(not 0.3 <= r <= 3.0 for r, _ in result.scores)
