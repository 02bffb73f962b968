"""Figures (l2l_lib.plots): each returns a Figure and leaves pyplot's global state alone."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (only to check that no global figure is created)
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from l2l_lib import plots  # noqa: E402
from l2l_lib.evaluate import evaluation_batch  # noqa: E402
from l2l_lib.train import History  # noqa: E402


def history(scale):
    return History(steps=[10, 20, 30], train_mse=[0.3 * scale, 0.2 * scale, 0.1 * scale],
                   val_mse=[0.25 * scale, 0.1 * scale, 0.05 * scale], held_out_mse=[0.3, 0.2, 0.15],
                   seconds=[1.0, 2.0, 3.0])


def test_training_curves():
    fig = plots.plot_training_curves([history(1), history(0.5)], ideal=0.0039)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 5  # two runs x (training, held-out) + the ideal line
    assert ax.get_yscale() == "log"
    assert any("0.0039" in t.get_text() for t in ax.get_legend().get_texts())
    with pytest.raises(ValueError, match="labels"):
        plots.plot_training_curves([history(1)], labels=["a", "b"])


def test_training_curves_without_held_out_functions_draw_no_dashed_line():
    h = history(1)
    h.held_out_mse = [float("nan")] * 3
    assert len(plots.plot_training_curves(h).axes[0].get_lines()) == 1


def test_error_by_position_draws_mean_and_band():
    runs = np.array([[0.2, 0.1, 0.05], [0.3, 0.1, 0.01]])
    fig = plots.plot_error_by_position({"lstm": runs, "ideal": np.array([0.25, 0.18, 0.14])}, max_steps=2)
    ax = fig.axes[0]
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), [0.25, 0.1])
    assert len(lines[1].get_xdata()) == 2
    assert len(ax.collections) == 1  # one band: only the learner with several runs


def test_prediction_trace_marks_errors_and_switches():
    batch = evaluation_batch("boolean16", n_sequences=2, seq_len=20, switch_every=10)
    pred = batch.targets.clone()
    pred[0, 3] = 1 - pred[0, 3]
    ax = plots.plot_prediction_trace(batch, pred, index=0).axes[0]
    wrong = [line for line in ax.get_lines() if line.get_label() == "wrong side of 0.5"][0]
    assert list(wrong.get_xdata()) == [3]
    assert any(line.get_xdata()[0] == 9.5 for line in ax.get_lines() if len(line.get_xdata()) == 2)
    with pytest.raises(ValueError, match="index"):
        plots.plot_prediction_trace(batch, pred, index=2)


def test_no_pyplot_figures_are_left_open():
    plt.close("all")
    plots.plot_training_curves(history(1))
    plots.plot_error_by_position({"a": np.ones(4)})
    plots.plot_prediction_trace(evaluation_batch("semilinear", n_sequences=1, seq_len=5), torch.zeros(1, 5, 1))
    assert plt.get_fignums() == []


def test_seed_scores_draws_one_dot_per_seed_and_each_reference():
    fig = plots.plot_seed_scores({"paper recipe": [0.2, 0.1, 0.005], "ours": [0.0042, 0.0045]},
                                 references={"ideal": 0.0039, "paper": 0.0055})
    ax = fig.axes[0]
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert [len(line.get_xdata()) for line in dots] == [3, 2]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["paper recipe", "ours"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["ideal (0.0039)", "paper (0.0055)"]
    with pytest.raises(ValueError, match="scores"):
        plots.plot_seed_scores({})


def test_pattern_count_has_error_and_accuracy_panels_with_bands():
    mse = {"lstm": np.array([[0.25, 0.01, 0.001], [0.26, 0.02, 0.002]]), "ideal": np.array([0.25, 0.0, 0.0])}
    acc = {"lstm": np.array([[0.5, 0.99, 1.0], [0.5, 0.98, 1.0]]), "ideal": np.array([0.5, 1.0, 1.0])}
    fig = plots.plot_pattern_count(mse, acc)
    error_ax, accuracy_ax = fig.axes
    assert error_ax.get_yscale() == "log" and accuracy_ax.get_yscale() == "linear"
    assert len(error_ax.collections) == 1  # one band: only the LSTM has several runs
    assert [t.get_text() for t in accuracy_ax.get_xticklabels()][-1] == "≥2"
    np.testing.assert_allclose(accuracy_ax.get_lines()[0].get_ydata(), [0.5, 0.985, 1.0])


def _ablation(n_units, hot_unit, hot_pattern):
    from l2l_lib.surgery import Ablation
    damage = np.zeros((n_units, 4))
    damage[hot_unit, hot_pattern] = 0.2
    intact = np.full(4, 0.01)
    return Ablation(units=tuple(range(n_units)), mse_by_pattern=damage + intact, mse=damage.mean(1) + 0.01,
                    intact_mse_by_pattern=intact, intact_mse=0.01, n_steps=np.full(4, 100))


def test_ablation_grid_has_a_panel_per_network_with_patterns_as_rows():
    fig = plots.plot_ablations([_ablation(6, 2, 1), _ablation(6, 0, 3)], ["seed 0", "seed 1"])
    panels = [ax for ax in fig.axes if ax.get_title().startswith("seed")]
    assert [ax.get_title() for ax in panels] == ["seed 0", "seed 1"]
    image = panels[0].get_images()[0].get_array()
    assert image.shape == (4, 6) and image[1, 2] == pytest.approx(0.2) and image.sum() == pytest.approx(0.2)
    with pytest.raises(ValueError, match="one title per matrix"):
        plots.plot_ablations([_ablation(6, 2, 1)], ["a", "b"])


def test_intervention_grid_and_slot_map_grid_outline_the_best_units():
    from l2l_lib.surgery import slot_map_from_arrays
    rng = np.random.default_rng(0)
    answers = rng.integers(0, 2, (8, 20, 4))
    c = rng.normal(size=(8, 20, 5))
    c[..., 3] = answers[..., 0] * 2.0  # unit h4 stores pattern (0,0)
    slot = slot_map_from_arrays(c, c, rng.integers(0, 4, (8, 20)), answers, np.ones((8, 20, 4), bool))
    fig = plots.plot_slot_maps([slot], ["seed 3"])
    panel = fig.axes[0]
    outlined = [p for p in panel.patches if p.get_edgecolor()[:3] == (1.0, 0.0, 0.0)]
    assert len(outlined) == 4 and outlined[0].get_xy() == (2.5, -0.5)  # row (0,0), column h4
    flips = plots.plot_interventions([np.eye(4), np.full((4, 4), 0.5)], ["seed 0", "seed 1"])
    assert len([ax for ax in flips.axes if ax.get_title().startswith("seed")]) == 2


def test_gate_weights_show_the_readout_in_the_titles():
    from l2l_lib.model import MetaLSTM, gate_table, readout_weights
    torch.manual_seed(0)
    model = MetaLSTM((3,))
    weights, _ = readout_weights(model)
    fig = plots.plot_gate_weights(gate_table(model), readout=weights)
    assert fig.axes[0].get_title() == f"unit h1 (read-out {weights[0]:+.1f})"
    with pytest.raises(ValueError, match="readout"):
        plots.plot_gate_weights(gate_table(model), readout=weights[:2])


def test_learnt_surfaces_has_the_true_panel_then_one_per_k_on_one_scale():
    grid = np.linspace(-1, 1, 4)
    true = np.outer(grid, grid)
    fig = plots.plot_learnt_surfaces(true, {1: np.zeros((4, 4)), 5: true}, grid,
                                     examples=(np.array([0.1, 0.2, 0.3, 0.4, 0.5]), np.zeros(5)))
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title().split("\n")[0] for ax in panels] == ["true function", "after 1 example", "after 5 examples"]
    assert panels[2].get_title().endswith("(RMS error 0.000)")
    assert len({ax.get_images()[0].get_clim() for ax in panels}) == 1
    assert len(panels[2].get_lines()[0].get_xdata()) == 5


def test_error_by_position_can_cut_the_axis_below_an_exact_learner():
    fig = plots.plot_error_by_position({"exact": np.array([0.1, 1e-15, 1e-15]), "lstm": np.array([0.1, 0.01, 0.001])},
                                       ymin=1e-6)
    assert fig.axes[0].get_ylim()[0] == pytest.approx(1e-6)
