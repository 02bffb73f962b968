"""Figures of the Boolean and surgery chapters: one panel per seed, no legend over the curves, heat maps
laid out two to a row on a page-wide figure so that their numbers stay readable."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from l2l_lib import plots  # noqa: E402
from l2l_lib.model import MetaLSTM, gate_table  # noqa: E402
from l2l_lib.recipes import recipe  # noqa: E402
from l2l_lib.train import History, TrainResult  # noqa: E402

PAGE_WIDTH = 8.0  # inches: the figures are drawn at the width the book's page shows them


def fake_run(seed: int, held_out_scale: float) -> TrainResult:
    steps = [0, 500, 1000, 1500]
    val = [0.2, 0.05, 0.01, 0.006]
    history = History(steps=steps, train_mse=val, val_mse=val, held_out_mse=[v * held_out_scale for v in val],
                      seconds=[0.0, 1.0, 2.0, 3.0])
    return TrainResult(config=recipe("boolean16", seed=seed), model=None, history=history, wall_time=3.0)


@pytest.mark.parametrize("n_runs, n_rows", [(2, 1), (7, 2), (8, 2)])
def test_seed_training_curves_one_panel_per_seed_and_the_legend_below(n_runs, n_rows):
    runs = [fake_run(100 + k, 1 + k) for k in range(n_runs)]
    fig = plots.plot_seed_training_curves(runs, ideal=0.004, title="t")
    panels = fig.axes
    assert [ax.get_title() for ax in panels] == [f"seed {100 + k}" for k in range(n_runs)]
    assert {ax.get_subplotspec().get_gridspec().nrows for ax in panels} == {n_rows}
    for ax, run in zip(panels, runs):
        assert ax.get_legend() is None  # no legend on the data
        solid, dashed, ideal = ax.get_lines()
        np.testing.assert_array_equal(solid.get_xdata(), run.history.steps)
        np.testing.assert_array_equal(dashed.get_ydata(), run.history.held_out_mse)
        assert ideal.get_ydata()[0] == 0.004
    legend, = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["training functions", "held-out functions",
                                                          "ideal learner, held-out (0.0040)"]
    assert fig.get_figwidth() == PAGE_WIDTH
    # a panel with nothing below it carries the step axis, also above an empty slot of the grid
    labelled = [ax for ax in panels if ax.get_xlabel() == "optimiser steps"]
    assert len(labelled) == min(n_runs, 4)


def test_seed_training_curves_refuse_no_runs():
    with pytest.raises(ValueError, match="runs"):
        plots.plot_seed_training_curves([])


def test_pattern_count_legend_sits_below_the_panels():
    mse = {"lstm": np.array([[0.25, 0.01], [0.26, 0.02]]), "ideal": np.array([0.25, 0.0])}
    fig = plots.plot_pattern_count(mse, {k: 1 - v for k, v in mse.items()})
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1


@pytest.mark.parametrize("n_seeds", [1, 3, 8])
def test_heat_map_grids_put_at_most_two_panels_in_a_row_on_a_page_wide_figure(n_seeds):
    labels = [f"seed {k}" for k in range(n_seeds)]
    fig = plots.plot_interventions([np.eye(4)] * n_seeds, labels)
    panels = [ax for ax in fig.axes if ax.get_title().startswith("seed")]
    assert len(panels) == n_seeds
    assert {ax.get_subplotspec().get_gridspec().ncols for ax in panels} == {min(n_seeds, 2)}
    assert fig.get_figwidth() == PAGE_WIDTH
    assert all(text.get_fontsize() >= 9 for ax in panels for text in ax.texts)


def test_gate_weights_two_units_to_a_row_with_readable_numbers():
    fig = plots.plot_gate_weights(gate_table(MetaLSTM((6,))))
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 6 and {ax.get_subplotspec().get_gridspec().ncols for ax in panels} == {2}
    assert fig.get_figwidth() == PAGE_WIDTH
    assert min(text.get_fontsize() for ax in panels for text in ax.texts) >= 7.5


def test_ratio_by_triple_one_dot_per_seed_a_median_bar_and_the_lines():
    groups = {"{0, 6, 9}": {"ours": [1.05, 1.2, 30.0], "baseline": [20.0, 2.0]}, "{1, 3, 14}": {"ours": [1.0, 1.1]}}
    fig = plots.plot_ratio_by_triple({"Boolean-16": groups},
                                     lines={"Boolean-16": {"1.1x (success)": 1.1, "3x (learner)": 3.0}})
    ax, = fig.axes
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert [sorted(d.get_ydata()) for d in dots] == [[1.05, 1.2, 30.0], [2.0, 20.0], [1.0, 1.1]]
    assert dots[0].get_color() == dots[2].get_color() != dots[1].get_color()  # a recipe keeps its colour
    bars = [line for line in ax.get_lines() if line.get_color() == "black"]
    assert [bar.get_ydata()[0] for bar in bars] == [1.2, 11.0, 1.05]  # the medians
    levels = [line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() in ("--", ":")]
    assert levels == [1.1, 3.0]
    assert ax.get_yscale() == "log" and ax.get_ylim()[0] <= 0.9  # the floor in view
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ours", "baseline", "1.1x (success)",
                                                                   "3x (learner)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["held out {0, 6, 9}", "held out {1, 3, 14}"]


def test_ratio_by_triple_refuses_no_panels():
    with pytest.raises(ValueError, match="panels"):
        plots.plot_ratio_by_triple({})


def test_error_intervals_draw_each_band_and_keep_non_positive_bounds_on_the_log_axis():
    mean = np.array([0.25, 0.1, 0.01])
    curves = {"lstm": (mean, mean - 0.05, mean + 0.05), "ideal": (mean / 2, mean / 2 - 0.2, mean / 2 + 0.01)}
    fig = plots.plot_error_intervals(curves, max_steps=2)
    ax, = fig.axes
    lines = ax.get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), [0.25, 0.1])  # only the first max_steps positions
    assert len(ax.collections) == 2 and ax.get_yscale() == "log"
    bottom = ax.get_ylim()[0]
    assert bottom == pytest.approx(0.5 * 0.05)  # half the smallest mean shown
    band = ax.collections[1].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(bottom)  # a lower bound below zero is drawn at the bottom
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["lstm", "ideal"]


def test_error_intervals_refuse_bad_bands():
    with pytest.raises(ValueError, match="curves"):
        plots.plot_error_intervals({})
    with pytest.raises(ValueError, match="curves\\['x'\\]"):
        plots.plot_error_intervals({"x": (np.zeros(3), np.zeros(2), np.zeros(3))})
