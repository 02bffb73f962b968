"""Figures of the continuous and learners chapters: readable at the page's width, no legend over the data."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from l2l_lib import plots
from l2l_lib.train import History


def legend_outside_axes(fig) -> bool:
    """Whether the first axes' legend lies entirely to the right of the axes, once drawn."""
    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    return legend.x0 >= ax.get_window_extent().x1


def test_error_by_position_keeps_its_legend_off_the_curves():
    fig = plots.plot_error_by_position({f"learner {k}": np.geomspace(0.3, 1e-3 * (k + 1), 20) for k in range(7)})
    assert legend_outside_axes(fig)


def test_training_curves_keep_their_legend_off_the_curves():
    history = History(steps=[10, 20, 30], train_mse=[0.1] * 3, val_mse=[0.08, 0.05, 0.03],
                      held_out_mse=[float("nan")] * 3, seconds=[1.0, 2.0, 3.0])
    fig = plots.plot_training_curves([history] * 5, ideal=0.06, ideal_label="constant 0.5")
    assert legend_outside_axes(fig)
    assert fig.axes[0].get_xlabel() == "optimiser steps"


@pytest.mark.parametrize("n_k, n_cols, rows", [(4, 3, 2), (2, 3, 1), (4, 2, 3)])
def test_learnt_surfaces_wrap_into_rows_of_large_panels(n_k, n_cols, rows):
    grid = np.linspace(-1, 1, 9)
    true = np.add.outer(grid, grid)
    fig = plots.plot_learnt_surfaces(true, {k + 1: true * 0.5 for k in range(n_k)}, grid, n_cols=n_cols)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == n_k + 1
    width, height = fig.get_size_inches()
    assert width / min(n_cols, n_k + 1) >= 3.0  # inches per panel: labels stay legible at the page's width
    assert height >= 3.0 * rows
    assert len({round(ax.get_position().y0, 3) for ax in panels}) == rows
    assert [t.get_text() for t in panels[0].get_xticklabels()] == ["-1", "-0.5", "0", "0.5", "1"]
    with pytest.raises(ValueError, match="n_cols"):
        plots.plot_learnt_surfaces(true, {1: true}, grid, n_cols=0)


def test_training_curves_name_what_validation_measures():
    from l2l_lib import plots
    from l2l_lib.trainer import History
    history = History(steps=[1, 2], train_mse=[0.2, 0.1], val_mse=[0.2, 0.1], held_out_mse=[float("nan")] * 2,
                      seconds=[1.0, 2.0])
    labels = [t.get_text() for t in plots.plot_training_curves(history, val_label="fresh functions").axes[0]
              .get_legend().get_texts()]
    assert labels == ["seed 0: fresh functions"]


def test_per_function_errors_draw_every_quantile_per_learner():
    from l2l_lib.experiments.per_function import PerFunctionErrors
    errors = np.outer(np.linspace(1, 3, 50), [1e-3, 1e-4, 1e-5, 1e-6])
    errors[0] = 0.0  # an exact function is left off the log axis, not drawn at 0
    results = {"LSTM": PerFunctionErrors((5, 10, 30, 100), errors, 32),
               "least squares": PerFunctionErrors((5, 10, 30, 100), errors * 10, 32)}
    fig = plots.plot_per_function_errors(results, criterion=2e-4, ymin=1e-7)
    ax = fig.axes[0]
    assert legend_outside_axes(fig)
    assert ax.get_yscale() == "log" and ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5", "10", "30", "100"]
    median = ax.get_lines()[0].get_ydata()
    np.testing.assert_allclose(median, np.median(errors, axis=0))
    maximum = ax.get_lines()[2].get_ydata()
    np.testing.assert_allclose(maximum, 3 * np.array([1e-3, 1e-4, 1e-5, 1e-6]))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["LSTM", "least squares", "median over functions", "median to 95th percentile",
                      "99th percentile", "maximum", "criterion (0.0002)"]
    assert ax.get_ylim()[0] == 1e-7
    with pytest.raises(ValueError, match="results"):
        plots.plot_per_function_errors({})


def test_examples_to_criterion_show_each_learners_distribution_and_its_never_share():
    from l2l_lib.experiments.per_function import CriterionCounts
    fast = CriterionCounts(np.array([3.0, 5.0, 8.0, 12.0]), 0.1, 20, 100)
    slow = CriterionCounts(np.array([40.0, np.nan, np.nan, np.nan]), 0.1, 20, 100)
    fig = plots.plot_examples_to_criterion({"LSTM": fast, "gradient descent": slow})
    ax = fig.axes[0]
    assert legend_outside_axes(fig)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["LSTM (never: 0%)", "gradient descent (never: 75%)"]
    lstm = ax.get_lines()[0]
    np.testing.assert_allclose(lstm.get_xdata(), [0, 3, 5, 8, 12, 100])
    np.testing.assert_allclose(lstm.get_ydata(), [0, 0.25, 0.5, 0.75, 1.0, 1.0])
    assert ax.get_lines()[1].get_xdata().tolist() == [5.0]  # the median dot; the slow learner has none
    assert ax.get_lines()[2].get_ydata()[-1] == 0.25  # it ends at the share that ever reaches the criterion
    assert ax.get_xlim() == (0, 100)
    FigureCanvasAgg(fig).draw()
    assert "100" in [t.get_text() for t in ax.get_xticklabels()]
    with pytest.raises(ValueError, match="counts"):
        plots.plot_examples_to_criterion({})
