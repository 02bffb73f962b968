"""Figures of the task-diversity chapter: pool sizes on a log axis with K = 0 and the unlimited pool given their
own ticks, one dot per seed, legends beside or below the data, one panel per stream set."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from l2l_lib import plots  # noqa: E402
from l2l_lib.tasks import make_batch  # noqa: E402

POOLS = [0, 4, 16, None]
VALUES = [[0.2, 0.3, 0.25], [0.1, 0.2, 0.05], [0.01, 0.02, 0.012], [0.005, 0.006, 0.0055]]


def test_pool_sweep_puts_zero_left_and_unlimited_right_with_their_own_ticks():
    fig = plots.plot_pool_sweep(POOLS, VALUES, references={"ideal": 0.004, "recogniser": 0.1})
    ax, = fig.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "4", "16", "unlimited"]
    ticks = ax.get_xticks()
    assert list(ticks[1:3]) == [4, 16] and ticks[0] < 4 and ticks[3] > 16
    median_line = next(line for line in ax.get_lines() if line.get_label().startswith("median"))
    np.testing.assert_allclose(median_line.get_ydata(), [np.median(v) for v in VALUES])
    np.testing.assert_allclose(median_line.get_xdata(), ticks)
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert [list(line.get_ydata()) for line in dots] == VALUES  # one dot per seed, every seed
    levels = {line.get_label(): line.get_ydata()[0] for line in ax.get_lines() if line.get_label().startswith(("ideal", "rec"))}
    assert levels == {"ideal (0.0040)": 0.004, "recogniser (0.1000)": 0.1}


def test_pool_sweep_refuses_mismatched_values_and_bad_pools():
    with pytest.raises(ValueError, match="values"):
        plots.plot_pool_sweep(POOLS, VALUES[:2])
    with pytest.raises(ValueError, match="pools"):
        plots.plot_pool_sweep([-1, 4], VALUES[:2])


def test_pool_sweep_of_two_learners_draws_each_learners_seeds_and_medians_in_its_colour():
    other = [[v / 10 for v in seeds] for seeds in VALUES]
    fig = plots.plot_pool_sweep_learners(POOLS, {"LSTM": VALUES, "transformer": other}, references={"ideal": 0.004})
    ax, = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "4", "16", "unlimited"]
    medians = {line.get_label(): line for line in ax.get_lines() if line.get_label().endswith("median over seeds")}
    assert set(medians) == {"LSTM: median over seeds", "transformer: median over seeds"}
    np.testing.assert_allclose(medians["transformer: median over seeds"].get_ydata(), [np.median(v) for v in other])
    lstm_x, transformer_x = (medians[k].get_xdata() for k in ("LSTM: median over seeds", "transformer: median over seeds"))
    assert all(a < b for a, b in zip(lstm_x, transformer_x))  # side by side, never on top of each other
    dots = [list(line.get_ydata()) for line in ax.get_lines() if line.get_marker() == "o"]
    assert dots == VALUES + other
    with pytest.raises(ValueError, match="values"):
        plots.plot_pool_sweep_learners(POOLS, {"LSTM": VALUES[:2]})


def test_pool_positions_one_panel_per_stream_set_with_both_references_and_the_legend_below():
    fig = plots.plot_pool_positions(POOLS, {"training streams": VALUES, "held-out streams": VALUES}, title="t")
    assert [ax.get_title() for ax in fig.axes] == ["training streams", "held-out streams"]
    for ax in fig.axes:
        assert ax.get_legend() is None
        levels = sorted(line.get_ydata()[0] for line in ax.get_lines() if line.get_label().startswith(("ideal", "rec", "half")))
        assert levels == [0.0, 0.5, 1.0]
    assert len(fig.legends) == 1
    with pytest.raises(ValueError, match="positions"):
        plots.plot_pool_positions(POOLS, {"training streams": VALUES[:3]})


def test_reference_traces_one_row_per_network_one_column_per_stream():
    batches = {"held-out function 6": make_batch("boolean16", 1, 12, functions=(6,)),
               "training function 1": make_batch("boolean16", 1, 12, functions=(1,))}
    learners = ["ideal", "recogniser", "LSTM, K = 0", "LSTM, unlimited"]
    predictions = {name: {label: torch.full((1, 12, 1), 0.1 * k) for k, label in enumerate(learners)}
                   for name in batches}
    fig = plots.plot_reference_traces(batches, predictions, references=learners[:2], max_steps=8)
    panels = fig.axes
    assert len(panels) == 4 and {ax.get_subplotspec().get_gridspec().ncols for ax in panels} == {2}
    assert [ax.get_ylabel() for ax in panels[::2]] == ["K = 0", "unlimited"]
    for ax in panels:
        target, ideal, recogniser, lstm = ax.get_lines()
        assert len(target.get_xdata()) == 8 and ideal.get_ydata()[0] == 0.0
    np.testing.assert_allclose(panels[3].get_lines()[3].get_ydata(), 0.3)  # the unlimited network's row
    with pytest.raises(ValueError, match="predictions"):
        plots.plot_reference_traces(batches, {"held-out function 6": predictions["held-out function 6"]},
                                    references=learners[:2])


def test_switch_recovery_one_panel_per_stream_set_with_a_band_per_learner():
    curve = (np.array([0.5, 0.2, 0.1]), np.array([0.4, -0.1, 0.05]), np.array([0.6, 0.3, 0.15]))
    fig = plots.plot_switch_recovery({"all": {"a": curve, "b": curve}, "held-out": {"a": curve}})
    assert [ax.get_title() for ax in fig.axes] == ["all", "held-out"]
    first = fig.axes[0]
    assert len(first.get_lines()) == 2 and len(first.collections) == 2 and first.get_yscale() == "log"
    np.testing.assert_allclose(first.get_lines()[0].get_ydata(), curve[0])
    with pytest.raises(ValueError, match="panels"):
        plots.plot_switch_recovery({})
