"""Network surgery (l2l_lib.surgery): ablation, slot map, intervention and verdict, each checked on a
network whose answer is known: a hand-built 6-unit Boolean learner with two input-memory units and four
answer slots (the student report's picture, minus the (0,0) recogniser), placed at shuffled unit numbers."""

import dataclasses

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from l2l_lib import plots, surgery  # noqa: E402
from l2l_lib.evaluate import evaluation_batch, pattern_counts  # noqa: E402
from l2l_lib.model import MetaLSTM, gate_table  # noqa: E402
from l2l_lib.tasks import make_batch  # noqa: E402
from l2l_lib.train import TrainConfig, train  # noqa: E402

MEMORY = (4, 1)          # units holding x1 and x2 of their own step (read by the next step's gates)
SLOTS = (3, 0, 5, 2)     # SLOTS[p]: the unit storing the answer of pattern p = 2*x1 + x2


def hand_built_learner() -> MetaLSTM:
    """A 6-unit LSTM (with forget gate) that learns any Boolean function by storing each answer.

    Memory unit for bit k: forget 0, input 1, output 1, cell input tanh(4*(2*x_k - 1)), so ``h ~ ±0.76``
    codes the bit of the current step. Slot of pattern p = (a, b): its input gate opens (and forget gate
    closes) only when the memory units say the previous input was p, and then writes ``tanh(4*(2*y_prev
    - 1)) ~ ±1``, the answer of p; its output gate opens only when the current input is p. The read-out
    sums the slots, so the prediction is the stored answer of the current pattern.
    """
    n, k = 6, 20.0
    model = MetaLSTM((n,), forget_gate=True)
    lstm = model.layers[0]
    w_ih, w_hh, bias = torch.zeros(4 * n, 3), torch.zeros(4 * n, n), torch.zeros(4 * n)
    gate = {"i": 0, "f": 1, "j": 2, "o": 3}  # nn.LSTM's row blocks
    for bit, u in enumerate(MEMORY):
        bias[gate["i"] * n + u], bias[gate["f"] * n + u], bias[gate["o"] * n + u] = 20.0, -20.0, 20.0
        w_ih[gate["j"] * n + u, bit], bias[gate["j"] * n + u] = 8.0, -4.0
    for p, u in enumerate(SLOTS):
        sign = (2 * (p // 2) - 1, 2 * (p % 2) - 1)  # +1 where the pattern's bit is 1
        for bit in range(2):
            w_hh[gate["i"] * n + u, MEMORY[bit]] = k * sign[bit]
            w_hh[gate["f"] * n + u, MEMORY[bit]] = -k * sign[bit]
            w_ih[gate["o"] * n + u, bit] = 2 * k * sign[bit]
        bias[gate["i"] * n + u], bias[gate["f"] * n + u] = -k * 0.76, k * 0.76
        bias[gate["o"] * n + u] = -k * (sign[0] + sign[1] + 1)
        w_ih[gate["j"] * n + u, 2], bias[gate["j"] * n + u] = 8.0, -4.0
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(w_ih)
        lstm.weight_hh_l0.copy_(w_hh)
        lstm.bias_ih_l0.copy_(bias)
        lstm.bias_hh_l0.zero_()
        model.readout.weight.zero_()
        model.readout.weight[0, list(SLOTS)] = 10.0
        model.readout.bias.zero_()
    return model.eval()


def random_model(forget_gate: bool, n: int = 4, seed: int = 3) -> MetaLSTM:
    torch.manual_seed(seed)
    model = MetaLSTM((n,), forget_gate=forget_gate)
    with torch.no_grad():  # larger weights than the default init, so every unit matters
        for param in model.parameters():
            if param.dim() == 2:
                param.mul_(3.0)
        if not forget_gate:
            model.layers[0].weight_hh_l0[n:2 * n] = 0.0  # keep the pinned forget gate pinned
            model.layers[0].weight_ih_l0[n:2 * n] = 0.0
    return model.eval()


@pytest.fixture(scope="module")
def batch():
    return surgery.probe_batch(n_sequences=256, seq_len=40)


@pytest.fixture(scope="module")
def learner():
    return hand_built_learner()


# ----------------------------------------------------------------------------- data
def test_pattern_of_and_stored_answers_match_a_plain_loop():
    b = evaluation_batch("boolean16", n_sequences=6, seq_len=30, switch_every=10, seed=4)
    pattern = surgery.pattern_of(b)
    x = b.inputs[..., :2].long()
    assert torch.equal(pattern, 2 * x[..., 0] + x[..., 1])
    answers, known = surgery.stored_answers(b)
    for s in range(6):
        memory: dict[int, float] = {}
        for t in range(30):
            if b.segment_starts[s, t]:
                memory = {}
            for p in range(4):
                assert bool(known[s, t, p]) == (p in memory)
                if p in memory:
                    assert answers[s, t, p].item() == memory[p]
            memory[int(pattern[s, t])] = b.targets[s, t, 0].item()
    # known for the current pattern is exactly "seen before" of evaluate.pattern_counts
    assert torch.equal(known.gather(2, pattern.unsqueeze(-1))[..., 0], pattern_counts(b) > 0)


def test_hand_built_learner_learns_every_function(learner, batch):
    with torch.no_grad():
        pred = learner(batch.inputs)[..., 0]
    seen = pattern_counts(batch) > 0
    assert float(((pred - batch.targets[..., 0])[seen] ** 2).max()) < 1e-3


# ----------------------------------------------------------------------------- ablation
@pytest.mark.parametrize("forget_gate", [True, False])
def test_silenced_unit_equals_zero_hidden_output(forget_gate):
    model = random_model(forget_gate)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    inputs = make_batch("boolean16", 8, 20, generator=torch.Generator().manual_seed(1)).inputs
    for u in range(4):
        # h_u = o_u * tanh(c_u) is 0 exactly when c_u is overwritten with 0 after every update
        def zero_cell(t, layer, c, u=u):
            c = c.clone()
            c[:, u] = 0.0
            return c

        reference = model.trace(inputs, zero_cell)
        assert float(reference.h[0][..., u].abs().max()) == 0.0
        silenced = surgery.silence_unit(model, u)
        torch.testing.assert_close(silenced(inputs), reference.predictions, atol=1e-5, rtol=0)
        others = [v for v in range(4) if v != u]
        torch.testing.assert_close(silenced.trace(inputs).h[0][..., others], reference.h[0][..., others],
                                   atol=1e-5, rtol=0)
        assert not torch.allclose(silenced(inputs), model(inputs), atol=1e-3)  # the unit did matter
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the original is untouched


def test_ablation_scores_match_manual_computation(batch):
    model = random_model(True, n=3)
    ablation = surgery.ablate_units(model, batch, units=[2, 0])
    assert ablation.units == (2, 0) and ablation.mse_by_pattern.shape == (2, 4)
    pattern, seen = surgery.pattern_of(batch), pattern_counts(batch) > 0
    for row, u in enumerate((2, 0)):
        def zero_cell(t, layer, c, u=u):
            c = c.clone()
            c[:, u] = 0.0
            return c

        squared = (model.trace(batch.inputs, zero_cell).predictions[..., 0] - batch.targets[..., 0]) ** 2
        for p in range(4):
            assert ablation.mse_by_pattern[row, p] == pytest.approx(float(squared[seen & (pattern == p)].mean()),
                                                                    abs=1e-6)
        assert ablation.mse[row] == pytest.approx(float(squared[seen].mean()), abs=1e-6)
    with torch.no_grad():
        intact = (model(batch.inputs)[..., 0] - batch.targets[..., 0]) ** 2
    assert ablation.intact_mse == pytest.approx(float(intact[seen].mean()), abs=1e-6)
    assert ablation.n_steps.sum() == int(seen.sum())


def test_ablating_a_disconnected_unit_changes_nothing(batch):
    model = random_model(True, n=4)
    with torch.no_grad():
        model.layers[0].weight_hh_l0[:, 1] = 0.0
        model.readout.weight[0, 1] = 0.0
    ablation = surgery.ablate_units(model, batch)
    assert ablation.mse_by_pattern.shape == (4, 4)
    np.testing.assert_array_equal(ablation.mse_by_pattern[1], ablation.intact_mse_by_pattern)
    assert np.abs(ablation.damage_by_pattern[[0, 2, 3]]).max() > 1e-3  # the connected units do matter


def test_ablating_a_slot_hurts_its_own_pattern_only(learner, batch):
    ablation = surgery.ablate_units(learner, batch)
    assert ablation.intact_mse < 1e-4
    for p, u in enumerate(SLOTS):
        damage = ablation.damage_by_pattern[u]
        assert damage[p] > 0.2  # its answer falls back to 0.5
        assert np.delete(damage, p).max() < 1e-4


# ----------------------------------------------------------------------------- statistics
def test_point_biserial_and_threshold_accuracy_on_known_values():
    rng = np.random.default_rng(0)
    values, labels = rng.normal(size=(200, 3)), rng.integers(0, 2, 200)
    values[:, 2] = labels * 2.0 - 1.0  # a perfect code
    expected = [np.corrcoef(values[:, u], labels)[0, 1] for u in range(3)]
    np.testing.assert_allclose(surgery.point_biserial(values, labels), expected, atol=1e-12)
    assert surgery.point_biserial(np.ones((5, 1)), np.array([0, 1, 0, 1, 1]))[0] == 0.0  # constant unit
    # best cut of [1, 2, 3, 4] against labels [0, 1, 0, 1]: 3 of 4 (cut above 1 or below 4)
    acc = surgery.threshold_accuracy(np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([0, 1, 0, 1]))
    assert acc[0] == pytest.approx(0.75)
    # the reversed side counts too, and tied values cannot be split
    assert surgery.threshold_accuracy(np.array([[4.0], [3.0], [2.0], [1.0]]), np.array([1, 1, 0, 0]))[0] == 1.0
    assert surgery.threshold_accuracy(np.zeros((4, 1)), np.array([1, 1, 1, 0]))[0] == 0.75
    assert surgery.threshold_accuracy(values, labels)[2] == 1.0


def planted_arrays(batch):
    """c and h of 6 units: noise, except a slot of pattern 2 in unit 4, a bit-x1 memory in unit 1 and a
    (0,0) recogniser in unit 5."""
    gen = np.random.default_rng(7)
    pattern = surgery.pattern_of(batch).numpy()
    answers, known = (a.numpy() for a in surgery.stored_answers(batch))
    c = gen.normal(size=(*pattern.shape, 6))
    h = gen.normal(size=(*pattern.shape, 6))
    c[..., 4] = np.where(known[..., 2], 2 * answers[..., 2] - 1, 0.0) + 0.3 * gen.normal(size=pattern.shape)
    h[..., 1] = (pattern // 2) + 0.2 * gen.normal(size=pattern.shape)
    h[..., 5] = (pattern == 0) + 0.1 * gen.normal(size=pattern.shape)
    return c, h, pattern, answers, known


def test_slot_statistics_find_planted_signals(batch):
    c, h, pattern, answers, known = planted_arrays(batch)
    slot = surgery.slot_map_from_arrays(c, h, pattern, answers, known)
    assert slot.corr.shape == (4, 6) and slot.best_unit[2] == 4
    assert slot.confidence[2] > 0.9 and slot.margin[2] > 0.8 and slot.accuracy[2, 4] > 0.99
    assert np.delete(slot.confidence, 2).max() < 0.2  # nothing stores the other patterns
    assert slot.prev_input_corr_h[1, 0] > 0.9 and slot.prev_input_corr_h[1, 1] < 0.1
    assert slot.pattern_corr_h[5, 0] > 0.9 and slot.pattern_corr_h[1, 0] < 0.7
    ablation = surgery.Ablation(units=(4,), mse_by_pattern=np.array([[0.1, 0.1, 0.3, 0.1]]), mse=np.array([0.15]),
                                intact_mse_by_pattern=np.full(4, 0.1), intact_mse=0.1, n_steps=np.ones(4, int))
    verdict = surgery.report_picture(slot, ablation)
    assert verdict["slot_units"] == {0: None, 1: None, 2: 4, 3: None}
    assert not verdict["four_slots"] and verdict["distinct_slots"]
    assert verdict["input_memory_units"] == [1] and verdict["input_memory"]
    assert verdict["recogniser_00_units"] == [5]
    assert verdict["ablation_hurts_own_pattern"] == {0: None, 1: None, 2: True, 3: None}
    assert verdict["ablation_damage"] == {4: pytest.approx(0.05)}


def test_slot_map_reads_the_hand_built_picture(learner, batch):
    slot = surgery.slot_map(learner, batch)
    assert slot.best_unit == SLOTS
    assert slot.confidence.min() > 0.99 and slot.margin.min() > 0.8
    for bit, u in enumerate(MEMORY):
        assert slot.prev_input_corr_h[u, bit] > 0.99
    verdict = surgery.report_picture(slot, surgery.ablate_units(learner, batch))
    assert verdict["four_slots"] and verdict["slot_units"] == dict(enumerate(SLOTS))
    assert sorted(verdict["input_memory_units"]) == sorted(MEMORY)
    assert verdict["recogniser_00_units"] == []  # (0,0) needs no recogniser here: its output gate uses a bias
    assert all(verdict["ablation_hurts_own_pattern"].values())


# ----------------------------------------------------------------------------- intervention
def test_flipping_a_planted_slot_flips_that_pattern_only(learner, batch):
    for p in (0, 3):
        result = surgery.intervene_flip(learner, batch, pattern=p, unit=SLOTS[p], at_step=20)
        assert result.n_streams > 200 and result.values[0] < -0.9 and result.values[1] > 0.9
        assert result.flipped[p] == 1.0
        assert np.delete(result.flipped, p).max() == 0.0
        assert result.n_first[p] > 0 and result.n_steps[p] >= result.n_first[p]
        # later answers are re-learned from the fed-back target: the learner rewrites the slot
        assert result.flipped_all[p] < 0.9
    assert surgery.intervene_flip(learner, batch, pattern=1, unit=SLOTS[1]).at_step == 20  # default T // 2


def test_intervene_slots_stacks_one_intervention_per_pattern(learner, batch):
    slot = surgery.slot_map(learner, batch)
    flips = surgery.intervene_slots(learner, batch, slot)
    np.testing.assert_array_equal(flips, np.eye(4))  # the hand-built slots: each flips its own pattern only
    for p in range(4):
        np.testing.assert_array_equal(flips[p], surgery.intervene_flip(learner, batch, p, slot.best_unit[p]).flipped)
    unmeasured = dataclasses.replace(slot, best_unit=(-1,) + slot.best_unit[1:])  # pattern 0 never measured
    flips = surgery.intervene_slots(learner, batch, unmeasured)
    assert np.isnan(flips[0]).all() and np.isfinite(flips[1:]).all()
    with pytest.raises(ValueError, match="slot"):
        surgery.intervene_slots(learner, batch, slot.corr)


# ----------------------------------------------------------------------------- bad inputs
def test_bad_inputs_raise_value_errors_naming_the_parameter(learner, batch):
    continuous = evaluation_batch("semilinear", n_sequences=2, seq_len=8)
    tables = make_batch("boolean16", 4, 8, table_fraction=1.0, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="batch.family"):
        surgery.pattern_of(continuous)
    with pytest.raises(ValueError, match="table"):
        surgery.slot_map(learner, tables)
    with pytest.raises(ValueError, match="one LSTM layer"):
        surgery.ablate_units(MetaLSTM((3, 4)), batch)
    with pytest.raises(ValueError, match="units"):
        surgery.ablate_units(learner, batch, units=[6])
    with pytest.raises(ValueError, match="units"):
        surgery.ablate_units(learner, batch, units=[1, 1])
    with pytest.raises(ValueError, match="pattern"):
        surgery.intervene_flip(learner, batch, pattern=4, unit=0)
    with pytest.raises(ValueError, match="unit"):
        surgery.intervene_flip(learner, batch, pattern=0, unit=-1)
    with pytest.raises(ValueError, match="at_step"):
        surgery.intervene_flip(learner, batch, pattern=0, unit=0, at_step=0)
    with pytest.raises(ValueError, match="h.shape must be"):
        surgery.slot_map_from_arrays(np.zeros((2, 3, 4)), np.zeros((2, 3, 5)), np.zeros((2, 3), int),
                                     np.zeros((2, 3, 4)), np.zeros((2, 3, 4), bool))
    slot = surgery.slot_map(learner, batch)
    ablation = surgery.ablate_units(learner, batch, units=[0])
    with pytest.raises(ValueError, match="threshold"):
        surgery.report_picture(slot, ablation, threshold=1.5)


# ----------------------------------------------------------------------------- plots
@pytest.mark.parametrize("forget_gate", [True, False])
def test_plot_gate_weights_one_panel_per_unit(forget_gate):
    table = gate_table(MetaLSTM((5,), forget_gate=forget_gate))
    fig = plots.plot_gate_weights(table)
    assert isinstance(fig, Figure)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 5 and len(fig.axes) == 6  # five units and one shared colour bar
    limits = {ax.images[0].get_clim() for ax in panels}
    assert len(limits) == 1  # one shared colour scale
    assert [t.get_text() for t in panels[0].get_yticklabels()] == ["i", "j", "f", "o"]
    assert [t.get_text() for t in panels[0].get_xticklabels()] == list(table.columns)
    f_row = panels[0].images[0].get_array()[2]
    assert bool(np.ma.getmaskarray(f_row).all()) == (not forget_gate)  # absent forget gate left blank


def test_plot_slot_map_annotates_every_cell(learner, batch):
    slot = surgery.slot_map(learner, batch)
    fig = plots.plot_slot_map(slot)
    assert isinstance(fig, Figure) and len(fig.axes) == 2  # heat map and colour bar
    ax = fig.axes[0]
    assert len(ax.images) == 1 and ax.images[0].get_array().shape == (4, 6)
    assert len(ax.texts) == 24 and len(ax.patches) == 4  # every value, and each pattern's best unit


# ----------------------------------------------------------------------------- a real network
def test_runs_end_to_end_on_a_quickly_trained_network():
    model = train(TrainConfig(family="boolean16", seq_len=32, n_steps=1500, eval_every=500), progress=False).model
    b = surgery.probe_batch(n_sequences=128, seq_len=32, switch_every=16)
    ablation = surgery.ablate_units(model, b)
    slot = surgery.slot_map(model, b)
    result = surgery.intervene_flip(model, b, pattern=0, unit=slot.best_unit[0])
    verdict = surgery.report_picture(slot, ablation)
    assert ablation.mse_by_pattern.shape == (6, 4) and slot.corr.shape == (4, 6)
    assert np.isfinite(slot.corr).all() and result.flipped.shape == (4,)
    assert set(verdict) >= {"four_slots", "input_memory", "slot_units", "recogniser_00_units"}
    for fig in (plots.plot_gate_weights(gate_table(model)), plots.plot_slot_map(slot)):
        assert isinstance(fig, Figure)
