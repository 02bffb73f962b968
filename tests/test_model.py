"""The meta-learner (l2l_lib.model): both cells against hand computation, fused path against trace."""

import math

import numpy as np
import pytest
import torch

from l2l_lib.model import FORGET_PIN, GATE_ROWS, MetaLSTM, gate_table, lstm_step, readout_weights
from l2l_lib.tasks import make_batch


def sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def one_unit_model(forget_gate):
    """A 1-unit network with hand-set weights: gate rows (torch order i, f, g, o) over inputs (x1, x2, y)."""
    model = MetaLSTM((1,), forget_gate=forget_gate, output="sigmoid")
    lstm = model.layers[0]
    with torch.no_grad():
        w_ih = torch.tensor([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [1.0, 0.7, -0.2], [-0.4, 0.3, 0.9]])
        w_hh = torch.tensor([[0.3], [-0.5], [0.8], [0.2]])
        bias = torch.tensor([0.1, 0.6, -0.3, 0.05])
        for rows, gate in ((slice(0, 1), 0), (slice(2, 3), 2), (slice(3, 4), 3)) + (((slice(1, 2), 1),) if forget_gate else ()):
            lstm.weight_ih_l0[rows] = w_ih[gate]
            lstm.weight_hh_l0[rows] = w_hh[gate]
            lstm.bias_ih_l0[rows] = bias[gate]
            lstm.bias_hh_l0[rows] = 0.0
        model.readout.weight[:] = torch.tensor([[1.5]])
        model.readout.bias[:] = torch.tensor([-0.25])
    return model, w_ih.tolist(), [r[0] for r in w_hh.tolist()], bias.tolist()


def hand_steps(inputs, w_ih, w_hh, bias, forget_gate):
    h = c = 0.0
    outputs = []
    for x in inputs:
        z = [sum(w * v for w, v in zip(w_ih[g], x)) + w_hh[g] * h + bias[g] for g in range(4)]
        i, f, g, o = sig(z[0]), sig(z[1]) if forget_gate else 1.0, math.tanh(z[2]), sig(z[3])
        c = f * c + i * g
        h = o * math.tanh(c)
        outputs.append((h, c, sig(1.5 * h - 0.25)))
    return outputs


@pytest.mark.parametrize("forget_gate", [True, False])
def test_cell_matches_hand_computation(forget_gate):
    model, w_ih, w_hh, bias = one_unit_model(forget_gate)
    seq = [(1.0, 0.0, 0.0), (0.0, 1.0, 1.0), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0)]
    expected = hand_steps(seq, w_ih, w_hh, bias, forget_gate)
    inputs = torch.tensor([seq])
    fused = model(inputs)[0, :, 0]
    trace = model.trace(inputs)
    for t, (h, c, y) in enumerate(expected):
        assert fused[t].item() == pytest.approx(y, abs=1e-6)
        assert trace.predictions[0, t, 0].item() == pytest.approx(y, abs=1e-6)
        assert trace.h[0][0, t, 0].item() == pytest.approx(h, abs=1e-6)
        assert trace.c[0][0, t, 0].item() == pytest.approx(c, abs=1e-6)
    # lstm_step is the same cell
    h = c = torch.zeros(1, 1)
    for t, x in enumerate(seq):
        h, c = lstm_step(torch.tensor([x]), h, c, model.layers[0], forget_gate)
        assert c.item() == pytest.approx(expected[t][1], abs=1e-6)


def test_without_forget_gate_the_cell_only_accumulates():
    model, *_ = one_unit_model(False)
    trace = model.trace(torch.tensor([[(1.0, 0.0, 0.0)] * 6]))
    c = trace.c[0][0, :, 0]
    increments = c[1:] - c[:-1]
    torch.testing.assert_close(increments, (trace.i[0] * trace.j[0])[0, 1:, 0])
    assert torch.all(trace.f[0] == 1.0)
    assert torch.sigmoid(torch.tensor(FORGET_PIN)).item() == 1.0  # the pin is exact in float32


@pytest.mark.parametrize("forget_gate", [True, False])
@pytest.mark.parametrize("hidden_sizes", [(6,), (6, 4)])
def test_fused_forward_equals_step_by_step_trace(forget_gate, hidden_sizes):
    torch.manual_seed(0)
    model = MetaLSTM(hidden_sizes, forget_gate=forget_gate)
    batch = make_batch("semilinear", 8, 50, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(model(batch.inputs), model.trace(batch.inputs).predictions, atol=1e-5, rtol=0)


def test_forget_gate_stays_pinned_through_training():
    torch.manual_seed(0)
    model = MetaLSTM((6,), forget_gate=False)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    batch = make_batch("boolean16", 8, 30, generator=torch.Generator().manual_seed(0))
    for _ in range(5):
        loss = ((model(batch.inputs) - batch.targets) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    lstm = model.layers[0]
    assert torch.all(lstm.weight_ih_l0[6:12] == 0) and torch.all(lstm.weight_hh_l0[6:12] == 0)
    assert torch.all(lstm.bias_ih_l0[6:12] == FORGET_PIN) and torch.all(lstm.bias_hh_l0[6:12] == 0)
    assert not torch.all(lstm.weight_ih_l0[:6] == MetaLSTM((6,), forget_gate=False).layers[0].weight_ih_l0[:6])


def test_intervention_overwrites_the_cell_state():
    torch.manual_seed(1)
    model = MetaLSTM((3,))
    inputs = make_batch("boolean16", 2, 10, generator=torch.Generator().manual_seed(0)).inputs

    def clamp_unit_0(t, layer, c):
        c = c.clone()
        if t >= 5:
            c[:, 0] = 7.0
        return c

    plain, hit = model.trace(inputs), model.trace(inputs, intervention=clamp_unit_0)
    assert torch.all(hit.c[0][:, 5:, 0] == 7.0)
    torch.testing.assert_close(hit.predictions[:, :5], plain.predictions[:, :5])
    assert not torch.allclose(hit.predictions[:, 5:], plain.predictions[:, 5:])


def test_outputs_and_ranges():
    torch.manual_seed(0)
    x = torch.randn(4, 12, 3) * 10
    assert MetaLSTM((6,))(x).shape == (4, 12, 1)
    y = MetaLSTM((6,), output="sigmoid")(x)
    assert torch.all((y > 0) & (y < 1))
    assert MetaLSTM((6, 40), output="linear")(x).shape == (4, 12, 1)


def test_weight_counts():
    assert MetaLSTM((6,)).n_trainable_weights() == 4 * 6 * (3 + 6 + 1) + 7
    assert MetaLSTM((6,), forget_gate=False).n_trainable_weights() == 3 * 6 * (3 + 6 + 1) + 7
    assert MetaLSTM((6, 40)).n_trainable_weights() == 4 * 6 * 10 + 4 * 40 * (6 + 40 + 1) + 41


def test_gate_table_layout_follows_the_report():
    torch.manual_seed(0)
    model = MetaLSTM((6,))
    table = gate_table(model)
    assert table.rows == GATE_ROWS == ("i", "j", "f", "o")
    assert table.columns == ("x1", "x2", "y_prev", "h1", "h2", "h3", "h4", "h5", "h6", "bias")
    assert table.weights.shape == (6, 4, 10)
    lstm = model.layers[0]
    unit, j_row = 2, 2 * 6 + 2  # torch stacks i, f, g(=j), o
    np.testing.assert_allclose(table.weights[unit, 1, :3], lstm.weight_ih_l0[j_row].detach().numpy())
    np.testing.assert_allclose(table.weights[unit, 1, 3:9], lstm.weight_hh_l0[j_row].detach().numpy())
    np.testing.assert_allclose(table.weights[unit, 1, 9], (lstm.bias_ih_l0 + lstm.bias_hh_l0)[j_row].item(), rtol=1e-6)
    assert np.isnan(gate_table(MetaLSTM((6,), forget_gate=False)).weights[:, 2]).all()
    second = gate_table(MetaLSTM((6, 4)), layer=1)
    assert second.weights.shape == (4, 4, 6 + 4 + 1) and second.columns[0] == "L1.h1"
    w, b = readout_weights(model)
    assert w.shape == (6,) and isinstance(b, float)
    with pytest.raises(ValueError, match="layer"):
        gate_table(model, layer=1)


@pytest.mark.parametrize("kwargs, match", [
    (dict(hidden_sizes=()), "hidden_sizes"),
    (dict(hidden_sizes=(6, 0)), "hidden_sizes"),
    (dict(output="tanh"), "output"),
    (dict(forget_gate=1), "forget_gate"),
])
def test_bad_model_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MetaLSTM(**kwargs)


def test_standardised_target_coding_is_a_raw_linear_network_with_rescaled_weights():
    # Reading (y - m)/s and predicting m + s*z is the same as a raw linear network whose y_prev column is divided
    # by s (its bias shifted by -m/s times that column) and whose read-out is multiplied by s and shifted by m.
    mean, sd = 0.5, 0.0426
    coded = MetaLSTM((4, 3), output="linear", target_moments=(mean, sd))
    raw = MetaLSTM((4, 3), output="linear")
    raw.load_state_dict(coded.state_dict())
    with torch.no_grad():
        first = raw.layers[0]
        column = first.weight_ih_l0[:, 2].clone()
        first.weight_ih_l0[:, 2] = column / sd
        first.bias_ih_l0 -= column * mean / sd
        raw.readout.weight *= sd
        raw.readout.bias.mul_(sd).add_(mean)
    batch = make_batch("quadratic", 5, 30, generator=torch.Generator().manual_seed(1), quadratic_map="fixed")
    torch.testing.assert_close(coded(batch.inputs), raw(batch.inputs), atol=1e-5, rtol=0)
    torch.testing.assert_close(coded.trace(batch.inputs).predictions, coded(batch.inputs), atol=1e-6, rtol=0)


@pytest.mark.parametrize("kwargs", [{"target_moments": (0.5, 0.1)},  # needs the linear read-out
                                    {"target_moments": (0.5, 0.0), "output": "linear"}])
def test_bad_target_moments_are_refused(kwargs):
    with pytest.raises(ValueError, match="target_moments"):
        MetaLSTM((3,), **kwargs)
