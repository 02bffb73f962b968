"""The reproducing page's figure (l2l_lib.plots.plot_step_times): a Figure, pyplot untouched, bad input named."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (only to check that no global figure is created)
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from l2l_lib import plots  # noqa: E402

COMMITTED = Path(__file__).resolve().parent.parent / "benchmarks" / "results.json"


def step_ms() -> dict:
    """A small step_ms section as benchmarks/run.py writes it: nn.LSTM and packs of 1 and 8."""
    def impl(ms: float, seeds: int) -> dict:
        return {"per_seed_ms": ms / seeds, "median_ms": ms, "min_ms": 0.9 * ms, "max_ms": 1.2 * ms, "seeds": seeds}
    return {"implementations": {"nn_lstm": impl(4.0, 1), "python_loop": impl(60.0, 1), "packed_1": impl(3.5, 1),
                                "packed_8": impl(10.0, 8)},
            "ratios": {"packed_speedup_per_seed": {"1": 4.0 / 3.5, "8": 4.0 / 1.25}},
            "workload": {"seq_len": 256}}


def test_two_panels_one_bar_per_implementation_and_no_pyplot_figure() -> None:
    before = plt.get_fignums()
    fig = plots.plot_step_times(step_ms(), goal_speedup=4.0, goal_pack=8)
    assert isinstance(fig, Figure) and plt.get_fignums() == before
    left, right = fig.axes  # top: step times, bottom: packing
    assert len(left.patches) == 4  # one bar per implementation
    assert [t.get_text() for t in left.get_yticklabels()] == ["nn.LSTM", "Python loop", "packed, S = 1",
                                                              "packed, S = 8"]
    assert left.get_xscale() == "log"
    measured = right.get_lines()[0]
    assert list(measured.get_xdata()) == [1, 8]
    assert list(measured.get_ydata()) == pytest.approx([4.0 / 3.5, 3.2])
    assert any("target at S = 8: 4×" in t.get_text() for t in right.get_legend().get_texts())


def test_without_a_goal_no_target_line() -> None:
    right = plots.plot_step_times(step_ms()).axes[1]
    assert len(right.get_lines()) == 2  # measured and perfect only
    assert not any("target" in t.get_text() for t in right.get_legend().get_texts())


def test_the_committed_results_plot() -> None:
    results = json.loads(COMMITTED.read_text(encoding="utf-8"))
    fig = plots.plot_step_times(results["step_ms"], goal_speedup=4.0, goal_pack=8)
    assert len(fig.axes[0].patches) == len(results["step_ms"]["implementations"])


def test_bad_input_names_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="step_ms must be the step_ms section"):
        plots.plot_step_times({"implementations": {}})
    with pytest.raises(ValueError, match="goal_speedup and goal_pack must be given together"):
        plots.plot_step_times(step_ms(), goal_speedup=4.0)
