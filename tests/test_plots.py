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
    return History(epochs=[10, 20, 30], train_mse=[0.3 * scale, 0.2 * scale, 0.1 * scale],
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
