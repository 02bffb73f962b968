"""The paper's quadratic-function network (l2l_lib.paper_net): weight counts, the reading search, the
1997 LSTM cell against a hand computation, and the fused C kernel against the step-by-step reference
(predictions, gradients, finite differences)."""

import numpy as np
import pytest
import torch

from l2l_lib import paper_net
from l2l_lib.paper_net import (PAPER_READING, PAPER_WEIGHTS, READINGS, PaperQuadraticNet, Reading,
                               closest_readings, count_weights, load_kernel, reading_grid)

torch.set_num_threads(1)

BUILDABLE = [name for name, r in READINGS.items() if not (r.forget_gate or r.peepholes)]
needs_kernel = pytest.mark.skipif(load_kernel() is None, reason="no C compiler: the fused kernel is unavailable")


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def randomised(reading, seed=0, scale=1.0, backend="auto"):
    """A model whose every weight is ~ U[-scale, scale], so that no unit sits near its midpoint."""
    torch.manual_seed(seed)
    model = PaperQuadraticNet(reading, backend=backend)
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-scale, scale)
    return model


def hand_run(model, x):
    """The network written out in numpy, one source at a time (float64). x: [B, T, n_in] -> [B, T, 1]."""
    r = model.reading
    n_in, n_c, n_g, n_h, n_b = r.n_inputs, r.n_cells, r.n_gates, r.n_hidden, r.n_blocks
    units = n_g + n_c
    params = {name: p.detach().double().numpy() for name, p in model.blocks().items()}

    def w(name, shape):
        return params.get(name, np.zeros(shape))

    block = np.arange(n_c) // (n_c // n_b)
    batch, steps, _ = x.shape
    s = np.zeros((batch, n_c))
    y_c = np.zeros((batch, n_c))
    gates = np.zeros((batch, n_g))
    hidden = np.zeros((batch, n_h))
    out = np.zeros((batch, 1))
    result = []
    for t in range(steps):
        xt = x[:, t]
        # gates and cell inputs: this step's inputs, the previous step's cells, gates, hidden and output
        net = (xt @ w("lstm_w_inputs", (n_in, units)) + y_c @ w("lstm_w_cells", (n_c, units))
               + gates @ w("lstm_w_gates", (n_g, units)) + hidden @ w("lstm_w_hidden", (n_h, units))
               + out @ w("lstm_w_output", (1, units))
               + np.concatenate([w("gate_bias", (n_g,)), w("cell_bias", (n_c,))]))
        in_gate, out_gate = sig(net[:, :n_b]), sig(net[:, n_b:n_g])
        g = 4.0 * sig(net[:, n_g:]) - 2.0           # cell input squashed into [-2, 2]
        s = s + in_gate[:, block] * g               # no forget gate
        y_c_new = out_gate[:, block] * (2.0 * sig(s) - 1.0)  # h in [-1, 1]
        gates_new = np.concatenate([in_gate, out_gate], axis=1)
        hidden_new = sig(xt @ w("hidden_w_inputs", (n_in, n_h)) + y_c_new @ w("hidden_w_cells", (n_c, n_h))
                         + gates_new @ w("hidden_w_gates", (n_g, n_h)) + hidden @ w("hidden_w_hidden", (n_h, n_h))
                         + out @ w("hidden_w_output", (1, n_h)) + w("hidden_bias", (n_h,)))
        out = sig(hidden_new @ w("output_w_hidden", (n_h, 1)) + xt @ w("output_w_inputs", (n_in, 1))
                  + y_c_new @ w("output_w_cells", (n_c, 1)) + gates_new @ w("output_w_gates", (n_g, 1))
                  + out @ w("output_w_output", (1, 1)) + w("output_bias", (1,)))
        y_c, gates, hidden = y_c_new, gates_new, hidden_new
        result.append(out)
    return np.stack(result, axis=1)


# --- weight counts ---------------------------------------------------------------------------------

def test_paper_reading_has_the_papers_count():
    assert count_weights(PAPER_READING) == PAPER_WEIGHTS == 5373
    assert PaperQuadraticNet(PAPER_READING).n_trainable_weights() == 5373


@pytest.mark.parametrize("name", BUILDABLE)
def test_module_parameters_match_count(name):
    reading = READINGS[name]
    model = PaperQuadraticNet(reading)
    n_params = sum(p.numel() for p in model.parameters())
    assert model.n_trainable_weights() == n_params == count_weights(reading)


def test_counts_by_hand():
    # every non-input unit sees 3 inputs + all units + a bias
    assert count_weights(READINGS["all_to_all"]) == 65 * 69            # 24 LSTM + 40 hidden + 1 output
    assert count_weights(READINGS["per_cell_all_to_all"]) == 77 * 81   # 36 LSTM + 40 hidden + 1 output
    # 36 LSTM units see inputs, cells, hidden, output, bias; hidden and output see all 81 sources
    assert count_weights(READINGS["per_cell_gates"]) == 36 * 57 + 40 * 81 + 81
    # layered: 24 LSTM units x (3 + 12 + 40 + bias), 40 hidden x (12 + bias), output 40 + bias
    assert count_weights(READINGS["minimal"]) == 24 * 56 + 40 * 13 + 41
    # forget gates add 6 units, each seen by every unit; peepholes add one weight per gate and cell
    assert count_weights(READINGS["forget_gate_all_to_all"]) == 71 * 75
    assert count_weights(Reading(peepholes=True)) == count_weights(Reading()) + 12 * 2


# --- the search --------------------------------------------------------------------------------------

def test_closest_readings_sorted_and_include_paper_reading():
    best = closest_readings(PAPER_WEIGHTS, k=10)
    distances = [abs(n - PAPER_WEIGHTS) for _, n in best]
    assert distances == sorted(distances)
    assert distances[0] == 0
    assert best[0][0] == PAPER_READING  # exact, and the fewest departures (ties broken on them)
    assert all(count_weights(r) == n for r, n in best)
    assert all(r.why for r, _ in best)
    exact_one_departure = [r for r, n in reading_grid() if n == PAPER_WEIGHTS and len(r.departures()) <= 1]
    assert exact_one_departure == [PAPER_READING]


def test_paper_structure_cannot_reach_5373():
    kept = [(r, n) for r, n in reading_grid() if not r.departures()]
    assert kept and max(n for _, n in kept) == count_weights(READINGS["all_to_all"]) == 4485
    best = closest_readings(k=3, max_departures=0)
    assert best[0] == (READINGS["all_to_all"], 4485)
    assert all(not r.departures() for r, _ in best)


# --- the network ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["per_cell_gates", "lstm1997", "minimal", "all_to_all"])
def test_forward_matches_hand_computation(name):
    model = randomised(READINGS[name], seed=1, scale=0.5)
    x = torch.rand(2, 4, 3, generator=torch.Generator().manual_seed(2))
    expected = hand_run(model, x.double().numpy())
    got = model(x).detach().double().numpy()
    np.testing.assert_allclose(got, expected, atol=2e-6)
    np.testing.assert_allclose(model.trace(x).predictions.detach().numpy(), got, atol=1e-6)  # the reference
    assert np.ptp(expected) > 1e-3  # the outputs move, so the comparison means something


@pytest.mark.parametrize("reading", [PAPER_READING, READINGS["lstm1997"]])
def test_cells_do_not_decay_when_input_gates_close(reading):
    """Input gates open while x1 = 1, shut (exactly 0) after; the cell states must then stay put."""
    n_b = reading.n_blocks
    model = randomised(reading, seed=3)
    with torch.no_grad():
        for name in ("lstm_w_inputs", "lstm_w_cells", "lstm_w_gates", "lstm_w_hidden", "lstm_w_output"):
            p = getattr(model, name)
            if p is not None:
                p[:, :n_b] = 0.0
        model.lstm_w_inputs[0, :n_b] = 400.0  # x1 = 1: net = +200, gate 1; x1 = 0: net = -200, gate 0
        model.gate_bias[:n_b] = -200.0
    x = torch.rand(2, 12, 3)
    x[:, :4, 0] = 1.0
    x[:, 4:, 0] = 0.0
    trace = model.trace(x, initial_cells=torch.randn(2, reading.n_cells))
    assert torch.all(trace.gates[:, 4:, :n_b] == 0.0)
    assert not torch.equal(trace.cells[:, 0], trace.cells[:, 3])  # they did move while open
    assert torch.equal(trace.cells[:, 4:], trace.cells[:, 3:4].expand_as(trace.cells[:, 4:]))
    assert not torch.equal(trace.cell_outputs[:, 4], trace.cell_outputs[:, 5])  # output gates still move


def test_closed_input_gates_keep_initial_cells():
    model = randomised(PAPER_READING, seed=4)
    n_b = PAPER_READING.n_blocks
    with torch.no_grad():
        for name in ("lstm_w_inputs", "lstm_w_cells", "lstm_w_hidden", "lstm_w_output"):
            getattr(model, name)[:, :n_b] = 0.0
        model.gate_bias[:n_b] = -200.0
    start = torch.randn(3, 12)
    cells = model.trace(torch.rand(3, 20, 3), initial_cells=start).cells
    assert torch.equal(cells, start[:, None].expand_as(cells))


def test_output_shape_and_range():
    torch.manual_seed(5)
    model = PaperQuadraticNet()
    y = model(torch.rand(4, 30, 3) * 2 - 1)
    assert y.shape == (4, 30, 1)
    assert torch.all((y > 0) & (y < 1))


def test_initialisation():
    torch.manual_seed(6)
    model = PaperQuadraticNet()
    n_b = PAPER_READING.n_blocks
    expected_out_gate_bias = -(1.0 + torch.arange(n_b) * 6 // n_b)  # the paper's 6 units: -1, ..., -6
    assert torch.equal(model.gate_bias[n_b:].detach(), expected_out_gate_bias.float())
    assert expected_out_gate_bias.tolist() == [-1, -1, -2, -2, -3, -3, -4, -4, -5, -5, -6, -6]
    others = [p for name, p in model.blocks().items() if name != "gate_bias"] + [model.gate_bias[:n_b]]
    assert all(p.abs().max() <= 0.1 for p in others)
    assert all(p.abs().min() < 0.01 and p.abs().max() > 0.09 for p in others if p.numel() >= 40)  # U[-0.1, 0.1]
    torch.manual_seed(6)
    again = PaperQuadraticNet()
    assert torch.equal(model.weights, again.weights)  # global RNG


def test_one_flat_parameter_and_its_blocks():
    """state_dict: one tensor ``weights``; the named blocks are views of it, in WEIGHT_BLOCKS order."""
    model = PaperQuadraticNet()
    assert list(model.state_dict()) == ["weights"] and model.weights.shape == (PAPER_WEIGHTS,)
    blocks = model.blocks()
    assert list(blocks) == [n for n in paper_net.WEIGHT_BLOCKS if n in blocks]
    assert torch.equal(torch.cat([b.reshape(-1) for b in blocks.values()]), model.weights.detach())
    assert model.lstm_w_gates is None and model.lstm_w_hidden.shape == (40, 36)  # per_cell_gates: LSTM sees no gates
    with torch.no_grad():
        model.output_bias[0] = 7.0
    assert model.weights[-1] == 7.0


@pytest.mark.parametrize("name", ["per_cell_gates", "all_to_all"])
def test_gradients_reach_every_parameter(name):
    torch.manual_seed(7)
    model = PaperQuadraticNet(READINGS[name])
    model(torch.rand(3, 6, 3)).sub(0.3).square().mean().backward()
    for pname, grad in model.blocks(model.weights.grad).items():
        assert torch.isfinite(grad).all(), pname
        assert grad.abs().max() > 0, pname


# --- the fused kernel against the reference loop -----------------------------------------------------------

def twins(name, seed, dtype, scale=0.7):
    """The same random weights behind the kernel and behind the reference loop."""
    kernel = randomised(READINGS[name], seed=seed, scale=scale, backend="kernel").to(dtype)
    reference = PaperQuadraticNet(READINGS[name], backend="reference").to(dtype)
    reference.load_state_dict(kernel.state_dict())
    return kernel, reference


def loss_and_grads(model, x, y):
    """The loss and its gradient, block by block."""
    loss = (model(x) - y).square().mean()
    (grad,) = torch.autograd.grad(loss, [model.weights])
    return loss.detach(), list(model.blocks(grad).values())


@needs_kernel
@pytest.mark.parametrize("name", BUILDABLE)
@pytest.mark.parametrize("batch, steps", [(3, 9), (17, 5), (1, 1)])  # 17: the kernel pads the batch to 32
def test_kernel_matches_reference_float64(name, batch, steps):
    kernel, reference = twins(name, seed=batch + steps, dtype=torch.float64)
    gen = torch.Generator().manual_seed(batch)
    x = torch.rand(batch, steps, 3, generator=gen, dtype=torch.float64) * 2 - 1
    y = torch.rand(batch, steps, 1, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(kernel(x), reference(x), atol=1e-13, rtol=0)
    (loss_k, grads_k), (loss_r, grads_r) = loss_and_grads(kernel, x, y), loss_and_grads(reference, x, y)
    for pname, g_k, g_r in zip(kernel.blocks(), grads_k, grads_r):
        torch.testing.assert_close(g_k, g_r, atol=1e-13, rtol=1e-10, msg=pname)
    assert max(g.abs().max() for g in grads_r) > 1e-3  # the gradients are not all ~0


@needs_kernel
def test_kernel_matches_reference_float32_on_a_training_batch():
    """The trainer's case: float32, batch 16, 200 steps, the paper's reading at its initialisation."""
    torch.manual_seed(11)
    kernel = PaperQuadraticNet(backend="kernel")
    reference = PaperQuadraticNet(backend="reference")
    reference.load_state_dict(kernel.state_dict())
    gen = torch.Generator().manual_seed(12)
    x, y = torch.rand(16, 200, 3, generator=gen), torch.rand(16, 200, 1, generator=gen)
    torch.testing.assert_close(kernel(x), reference(x), atol=1e-6, rtol=0)
    (_, grads_k), (_, grads_r) = loss_and_grads(kernel, x, y), loss_and_grads(reference, x, y)
    for pname, g_k, g_r in zip(kernel.blocks(), grads_k, grads_r):
        torch.testing.assert_close(g_k, g_r, atol=1e-6, rtol=1e-4, msg=pname)


@needs_kernel
@pytest.mark.parametrize("cells_per_block", [1, 2])
def test_kernel_backward_matches_finite_differences(cells_per_block):
    """gradcheck of the hand-written backward pass (float64, a tiny network, every input of the kernel)."""
    n_c, n_g, n_h = 4, 2 * 4 // cells_per_block, 3
    n_cols = n_c + n_g + n_h + 1
    gen = torch.Generator().manual_seed(13)

    def rand(*shape):
        return (torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1).requires_grad_()

    args = (rand(2, 5, n_cols), rand(n_cols, n_cols), rand(n_c + n_g, n_h + 1), rand(n_h))
    assert torch.autograd.gradcheck(
        lambda *a: paper_net._KernelRun.apply(*a, n_c, n_g, n_h, cells_per_block), args, eps=1e-6, atol=1e-8)


def test_squashings_are_tanh_after_rescaling():
    """What the kernel computes instead of the 1997 squashings: g(z) = 2 tanh(z/2), h(s) = tanh(s/2)."""
    z = torch.linspace(-30, 30, 2001, dtype=torch.float64)
    torch.testing.assert_close(paper_net.squash_cell_input(z), 2 * torch.tanh(z / 2), atol=1e-15, rtol=0)
    torch.testing.assert_close(paper_net.squash_cell_output(z), torch.tanh(z / 2), atol=1e-15, rtol=0)


def test_without_kernel_auto_uses_the_reference(monkeypatch):
    torch.manual_seed(14)
    model = PaperQuadraticNet()
    x = torch.rand(2, 6, 3)
    expected = PaperQuadraticNet(backend="reference")
    expected.load_state_dict(model.state_dict())
    monkeypatch.setattr(paper_net, "load_kernel", lambda: None)
    assert torch.equal(model(x), expected(x))
    with pytest.raises(RuntimeError, match="kernel"):
        PaperQuadraticNet(backend="kernel")(x)


def test_kernel_needs_cpu_floating_inputs():
    with pytest.raises(ValueError, match="backend 'kernel'"):
        PaperQuadraticNet(backend="kernel")(torch.zeros(2, 3, 3, dtype=torch.float16))
    auto = PaperQuadraticNet().to(torch.bfloat16)  # auto: the reference runs what the kernel cannot
    assert auto(torch.rand(2, 3, 3, dtype=torch.bfloat16)).shape == (2, 3, 1)


# --- argument checks -----------------------------------------------------------------------------------

@pytest.mark.parametrize("make, argument", [
    (lambda: PaperQuadraticNet(reading="all_to_all"), "reading"),
    (lambda: PaperQuadraticNet(READINGS["forget_gate_all_to_all"]), "reading"),
    (lambda: PaperQuadraticNet(Reading(peepholes=True)), "reading"),
    (lambda: PaperQuadraticNet(init_range=0.0), "init_range"),
    (lambda: PaperQuadraticNet(backend="fast"), "backend"),
    (lambda: Reading(n_blocks=5), "n_blocks"),
    (lambda: Reading(n_cells=0), "n_cells"),
    (lambda: Reading(n_hidden=2.5), "n_hidden"),
    (lambda: Reading(hidden_bias=1), "hidden_bias"),
    (lambda: count_weights("all_to_all"), "reading"),
    (lambda: closest_readings(k=0), "k"),
    (lambda: closest_readings(max_departures=-1), "max_departures"),
    (lambda: PaperQuadraticNet()(torch.zeros(2, 5, 2)), "inputs"),
])
def test_bad_arguments_raise(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()
