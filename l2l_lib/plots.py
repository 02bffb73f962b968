"""Figures of the book: one function per figure, each returning a ``matplotlib.figure.Figure``.

No pyplot: figures are built with ``Figure()`` directly, so nothing leaks between cells and a notebook
shows exactly the figures it glues or returns. Colours follow matplotlib's default cycle.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import LogLocator, NullFormatter

from .model import GateTable
from .surgery import PATTERNS, Ablation, SlotMap
from .tasks import BOOLEAN_FAMILIES, Batch
from .train import History, TrainResult
from .validation import check, check_int


def plot_training_curves(histories: Sequence[History] | History, *, labels: Sequence[str] | None = None,
                         ideal: float | None = None, ideal_label: str = "ideal learner",
                         title: str | None = None, val_label: str = "training functions") -> Figure:
    """Meta-training curves: MSE on training functions (solid) and held-out functions (dashed), per run.

    Args:
        histories: one :class:`~l2l_lib.train.History` per run (e.g. per seed).
        labels: legend label per run (default ``seed 0, seed 1, ...``).
        val_label: what the validation curve measures: ``"training functions"`` (Boolean families) or
            ``"fresh functions"`` (continuous families, where every function is new).
        ideal: the ideal learner's MSE at the same sequence length, drawn as a horizontal line.
        title: axes title.
    """
    if isinstance(histories, History):
        histories = [histories]
    labels = list(labels) if labels is not None else [f"seed {k}" for k in range(len(histories))]
    if len(labels) != len(histories):
        raise ValueError(f"labels must have one entry per history ({len(histories)}), got {len(labels)}")
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    for k, (history, label) in enumerate(zip(histories, labels)):
        color = f"C{k % 10}"
        ax.plot(history.steps, history.val_mse, color=color, label=f"{label}: {val_label}")
        held_out = np.asarray(history.held_out_mse, dtype=float)
        if np.isfinite(held_out).any():
            ax.plot(history.steps, held_out, color=color, linestyle="--", label=f"{label}: held-out functions")
    if ideal is not None:
        ax.axhline(ideal, color="black", linestyle=":", label=f"{ideal_label} ({ideal:.4f})")
    ax.set_yscale("log")
    _label_curves(ax, "optimiser steps", "MSE on fresh sequences", title)
    return fig


def _label_curves(ax, xlabel: str, ylabel: str, title: str | None) -> None:
    """Axis labels, a grid, a title, and the legend beside the axes: inside, it would cover curves."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    if title:
        ax.set_title(title)


def _legend_below(fig: Figure, ax: object, title: str | None) -> Figure:
    """``fig`` with one legend (the entries of ``ax``) below its panels, where it hides no curve, and its title."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def plot_seed_training_curves(runs: Sequence[TrainResult], *, ideal: float | None = None,
                              title: str | None = None, n_cols: int = 4) -> Figure:
    """Meta-training curves of several seeds of one recipe, one small panel per seed on shared axes.

    Each panel shows the MSE on fresh sequences of the training functions (solid) and of the held-out
    functions (dashed) against optimiser steps, and the ideal learner's held-out MSE (dotted); one legend
    below the panels says which line is which, so no legend covers a curve.

    Args:
        runs: trained seeds (:class:`~l2l_lib.train.TrainResult`); each panel is titled with its seed.
        ideal: the ideal learner's held-out MSE at the recipe's sequence length.
        title: figure title.
        n_cols: panels per row (at most).
    """
    check(len(runs) > 0, "runs", "a non-empty sequence of TrainResult", runs)
    n_cols = min(check_int("n_cols", n_cols), len(runs))
    n_rows = -(-len(runs) // n_cols)
    fig = Figure(figsize=(8, 0.6 + 2.0 * n_rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False)).ravel()
    for ax, run in zip(axes, runs):
        history = run.history
        ax.plot(history.steps, history.val_mse, color="C0", label="training functions")
        held_out = np.asarray(history.held_out_mse, dtype=float)
        if np.isfinite(held_out).any():
            ax.plot(history.steps, held_out, color="C3", linestyle="--", label="held-out functions")
        if ideal is not None:
            ax.axhline(ideal, color="black", linestyle=":", label=f"ideal learner, held-out ({ideal:.4f})")
        ax.set_yscale("log")
        ax.set_title(f"seed {run.config.seed}", fontsize="medium")
        ax.grid(True, which="major", alpha=0.3)
        ax.xaxis.set_major_formatter(lambda x, _: f"{x / 1000:g}k" if x else "0")
    for ax in axes[len(runs):]:
        ax.remove()
    for ax in axes[max(len(runs) - n_cols, 0):len(runs)]:  # no panel below them: they carry the step axis
        ax.tick_params(axis="x", labelbottom=True)
        ax.set_xlabel("optimiser steps")
    for ax in axes[::n_cols]:
        ax.set_ylabel("MSE")
    return _legend_below(fig, axes[0], title)


def plot_error_by_position(curves: Mapping[str, np.ndarray | Sequence[np.ndarray]], *, max_steps: int | None = None,
                           log_y: bool = True, ylabel: str = "MSE", xlabel: str = "examples seen so far",
                           ymin: float | None = None, title: str | None = None) -> Figure:
    """Error versus number of examples seen, one line per learner, with a band over runs.

    Args:
        curves: learner label -> error by position, ``[T]`` for one run or ``[n_runs, T]`` for several
            (e.g. seeds): the line is the mean over runs, the band spans the lowest to the highest run.
        max_steps: show only the first ``max_steps`` positions.
        log_y: logarithmic error axis.
        ymin: lower end of the error axis (e.g. 1e-6, so that an exact learner's 1e-15 does not squash the
            others); curves below it leave the plot.
    """
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    for k, (label, values) in enumerate(curves.items()):
        runs = np.atleast_2d(np.asarray(values, dtype=float))
        if max_steps is not None:
            runs = runs[:, :max_steps]
        steps = np.arange(runs.shape[1])
        color = f"C{k % 10}"
        ax.plot(steps, runs.mean(0), color=color, label=label if runs.shape[0] == 1 else f"{label} (n={runs.shape[0]})")
        if runs.shape[0] > 1:
            ax.fill_between(steps, runs.min(0), runs.max(0), color=color, alpha=0.2, linewidth=0)
    if log_y:
        ax.set_yscale("log")
    if ymin is not None:
        ax.set_ylim(bottom=ymin)
    _label_curves(ax, xlabel, ylabel, title)
    return fig


def plot_prediction_trace(batch: Batch, predictions: torch.Tensor, *, index: int = 0, max_steps: int | None = None,
                          title: str | None = None) -> Figure:
    """One stream: targets and the learner's predictions step by step, switches marked.

    Args:
        batch: the streams; predictions: ``[B, T, 1]`` for them; index: which stream to draw.
        max_steps: draw only the first ``max_steps`` steps.
    """
    if not 0 <= index < batch.batch_size:
        raise ValueError(f"index must be in 0..{batch.batch_size - 1}, got {index!r}")
    steps = batch.seq_len if max_steps is None else min(max_steps, batch.seq_len)
    t = np.arange(steps)
    target = batch.targets[index, :steps, 0].numpy()
    pred = predictions[index, :steps, 0].detach().cpu().numpy()
    fig = Figure(figsize=(8, 3.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(t, target, "o", color="black", markersize=3.5, label="target $y_t$")
    ax.plot(t, pred, "-", color="C1", linewidth=1.2, label=r"prediction $\hat y_t$")
    if batch.family in BOOLEAN_FAMILIES:
        wrong = (pred >= 0.5) != (target >= 0.5)
        ax.plot(t[wrong], pred[wrong], "x", color="C3", markersize=7, label="wrong side of 0.5")
    for start in np.flatnonzero(batch.segment_starts[index, :steps].numpy())[1:]:
        ax.axvline(start - 0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("step t (examples seen before it)")
    ax.set_ylabel("output")
    # above the axes, never over the trace: a stream's targets and predictions span the whole plot
    ax.legend(fontsize="small", loc="lower left", bbox_to_anchor=(0, 1.02), ncols=3, frameon=False)
    if title:
        ax.set_title(title, pad=24)
    return fig


def plot_gate_weights(table: GateTable, *, readout: np.ndarray | None = None, title: str | None = None,
                      annotate: bool = True) -> Figure:
    """Every unit's gate weights as a heat map, in the student report's table layout.

    One panel per unit: rows i, j, f, o (input gate, cell input, forget gate, output gate), columns the
    layer's inputs, the recurrent ``h1..hN`` and the bias. All panels share one symmetric colour scale, so
    weights compare across units. Rows of an absent forget gate (NaN) stay blank.

    Args:
        table: :func:`l2l_lib.model.gate_table` of a layer (``weights [H, 4, n_columns]``).
        readout: ``[H]`` read-out weights (:func:`l2l_lib.model.readout_weights`), written in each
            unit's panel title.
        title: figure title.
        annotate: write each weight's value into its cell.
    """
    weights = np.asarray(table.weights, dtype=float)
    if weights.ndim != 3 or weights.shape[1:] != (len(table.rows), len(table.columns)):
        raise ValueError(f"table.weights must be [H, {len(table.rows)}, {len(table.columns)}], got {weights.shape}")
    n_units = weights.shape[0]
    if readout is not None and np.shape(readout) != (n_units,):
        raise ValueError(f"readout must have one weight per unit ({n_units}), got shape {np.shape(readout)}")
    # two panels per row on a page-wide figure (8 inches): the weights written in the cells stay readable
    n_cols = min(n_units, 2)
    n_rows = -(-n_units // n_cols)
    finite = weights[np.isfinite(weights)]
    limit = float(np.abs(finite).max()) if finite.size else 1.0
    limit = limit if limit > 0 else 1.0
    fig = Figure(figsize=(8, 2.1 * n_rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    image = None
    for u, ax in enumerate(axes):
        if u >= n_units:
            ax.remove()
            continue
        image = ax.imshow(np.ma.masked_invalid(weights[u]), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        ax.set_title(f"unit h{u + 1}" + (f" (read-out {readout[u]:+.1f})" if readout is not None else ""),
                     fontsize=10)
        ax.set_yticks(range(len(table.rows)), table.rows, fontsize=9)
        ax.set_xticks(range(len(table.columns)), table.columns, rotation=90, fontsize=9)
        if annotate:
            for r in range(weights.shape[1]):
                for k in range(weights.shape[2]):
                    value = weights[u, r, k]
                    if np.isfinite(value):
                        ax.text(k, r, f"{value:.1f}", ha="center", va="center", fontsize=7.5,
                                color="white" if abs(value) > 0.6 * limit else "black")
    fig.colorbar(image, ax=axes[:n_units].tolist(), label="weight", shrink=0.8)
    if title:
        fig.suptitle(title)
    return fig


def plot_slot_map(slot: SlotMap, *, title: str | None = None) -> Figure:
    """Which unit stores which pattern's answer: the slot map's |correlation| as a heat map.

    Rows are the input patterns (0,0)..(1,1), columns the units ``h1..hH`` (unit u is column ``h{u+1}``,
    as in :func:`plot_gate_weights`); each cell is annotated, and each pattern's best unit is outlined.

    Args:
        slot: a :class:`l2l_lib.surgery.SlotMap`.
        title: axes title.
    """
    corr = np.asarray(slot.corr, dtype=float)
    if corr.ndim != 2 or corr.shape[0] != len(PATTERNS):
        raise ValueError(f"slot.corr must be [4, H], got {corr.shape}")
    n_units = corr.shape[1]
    fig = Figure(figsize=(1.0 + 0.75 * n_units, 3.2), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(corr, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    for p in range(corr.shape[0]):
        for u in range(n_units):
            ax.text(u, p, f"{corr[p, u]:.2f}", ha="center", va="center", fontsize="small",
                    color="black" if corr[p, u] > 0.6 else "white")
        best = slot.best_unit[p]
        if best >= 0:
            ax.add_patch(Rectangle((best - 0.5, p - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
    ax.set_xticks(range(n_units), [f"h{u + 1}" for u in range(n_units)])
    ax.set_yticks(range(len(PATTERNS)), [f"{name}" for name in PATTERNS])
    ax.set_xlabel("unit (cell state c)")
    ax.set_ylabel("input pattern (x1, x2)")
    fig.colorbar(image, ax=ax, label="|corr(c, stored answer)|")
    ax.set_title(title or "slot map: which cell stores which pattern's answer", fontsize="medium")
    return fig


def plot_seed_scores(scores: Mapping[str, Sequence[float]], *, references: Mapping[str, float] | None = None,
                     ylabel: str = "held-out MSE", title: str | None = None) -> Figure:
    """One dot per trained seed, one column per recipe, with reference levels as horizontal lines.

    Args:
        scores: recipe label -> one score per seed (e.g. held-out MSE on fresh test streams).
        references: label -> level (the ideal learner, a target, a published number), drawn across.
        ylabel: what the scores are; the axis is logarithmic.
    """
    if not scores:
        raise ValueError("scores must name at least one recipe")
    fig = Figure(figsize=(1.6 + 1.5 * len(scores) + (2.8 if references else 0), 4), layout="constrained")
    ax = fig.subplots()
    for k, (label, values) in enumerate(scores.items()):
        values = np.asarray(values, dtype=float)
        # a fixed spread (not random jitter), so that the figure is the same on every run
        offsets = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else np.zeros(1)
        ax.plot(k + offsets, values, "o", color=f"C{k % 10}", markersize=7, alpha=0.8)
        ax.plot([k - 0.25, k + 0.25], [np.median(values)] * 2, color="black", linewidth=1)
    styles = [":", "--", "-.", (0, (1, 3)), (0, (5, 2, 1, 2))]
    for k, (label, level) in enumerate((references or {}).items()):
        ax.axhline(level, color="grey" if k else "black", linestyle=styles[k % len(styles)],
                   label=f"{label} ({level:.4f})")
    ax.set_xticks(range(len(scores)), list(scores), fontsize="small")
    ax.set_xlim(-0.6, len(scores) - 0.4)
    ax.set_yscale("log")
    ax.set_ylabel(f"{ylabel} (one dot per seed)")
    ax.grid(True, axis="y", which="both", alpha=0.3)
    if references:  # beside the axes: inside, it would hide seeds
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    if title:
        ax.set_title(title)
    return fig


def plot_pattern_count(mse: Mapping[str, np.ndarray | Sequence[np.ndarray]],
                       accuracy: Mapping[str, np.ndarray | Sequence[np.ndarray]], *,
                       title: str | None = None) -> Figure:
    """Error and accuracy by how many times the current input pattern was seen before (Boolean families).

    Args:
        mse, accuracy: learner label -> ``[C]`` values for counts 0..C-1 (the last pooling >= C-1), as
            returned by :func:`l2l_lib.evaluate.error_by_pattern_count`, or ``[n_runs, C]`` for several
            seeds (line: mean, band: lowest to highest run).
    """
    fig = Figure(figsize=(8, 3.8), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, curves, ylabel, log_y in ((axes[0], mse, "MSE", True), (axes[1], accuracy, "accuracy", False)):
        for k, (label, values) in enumerate(curves.items()):
            runs = np.atleast_2d(np.asarray(values, dtype=float))
            if log_y:  # an error of exactly 0 (the ideal learner on a seen pattern) has no place on a log axis
                runs = np.where(runs > 0, runs, np.nan)
            counts = np.arange(runs.shape[1])
            color = f"C{k % 10}"
            ax.plot(counts, runs.mean(0), "o-", color=color, label=label)
            if runs.shape[0] > 1:
                ax.fill_between(counts, runs.min(0), runs.max(0), color=color, alpha=0.2, linewidth=0)
        ticks = [str(c) for c in range(runs.shape[1])]
        ticks[-1] = f"≥{runs.shape[1] - 1}"
        ax.set_xticks(range(runs.shape[1]), ticks)
        ax.set_xlabel("times this input pattern was seen before")
        ax.set_ylabel(ylabel)
        if log_y:
            ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    return _legend_below(fig, axes[0], title)


def _heatmap_grid(matrices: Sequence[np.ndarray], titles: Sequence[str], *, row_labels: Sequence[str],
                  col_labels: Sequence[str], xlabel: str, ylabel: str, cmap: str, vmin: float, vmax: float,
                  colorbar_label: str, outline: Sequence[Sequence[int]] | None = None,
                  title: str | None = None) -> Figure:
    """Panels of annotated heat maps sharing one colour scale (one panel per seed).

    Two panels per row on a figure as wide as the book's page (8 inches), so that the numbers in the
    cells stay readable when the page shows the figure at its width.
    """
    check(len(matrices) > 0 and len(matrices) == len(titles), "(matrices, titles)",
          "one title per matrix, at least one matrix", (len(matrices), len(titles)))
    n_cols = min(len(matrices), 2)
    n_rows = -(-len(matrices) // n_cols)
    fig = Figure(figsize=(8, n_rows * 2.5 + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    image = None
    for k, ax in enumerate(axes):
        if k >= len(matrices):
            ax.remove()
            continue
        values = np.asarray(matrices[k], dtype=float)
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
        for r in range(values.shape[0]):
            for c in range(values.shape[1]):
                if np.isfinite(values[r, c]):
                    shade = (values[r, c] - vmin) / (vmax - vmin) if vmax > vmin else 0.0
                    # viridis and magma run from dark to light: dark text on the light half
                    ax.text(c, r, f"{values[r, c]:.2f}", ha="center", va="center", fontsize=9,
                            color="black" if shade > 0.5 else "white")
        if outline is not None:
            for r, c in enumerate(outline[k]):
                if c is not None and c >= 0:
                    ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
        ax.set_xticks(range(values.shape[1]), list(col_labels)[:values.shape[1]], fontsize=9)
        ax.set_yticks(range(values.shape[0]), list(row_labels)[:values.shape[0]], fontsize=9)
        ax.set_title(titles[k], fontsize=10)
        ax.set_xlabel(xlabel, fontsize=9)
        ax.set_ylabel(ylabel, fontsize=9)
    fig.colorbar(image, ax=axes[:len(matrices)].tolist(), label=colorbar_label, shrink=0.8)
    if title:
        fig.suptitle(title)
    return fig


def plot_ablations(ablations: Sequence[Ablation], labels: Sequence[str], *, title: str | None = None) -> Figure:
    """Ablation of every unit, one panel per network: MSE increase per input pattern when a unit is silenced.

    Args:
        ablations: :class:`l2l_lib.surgery.Ablation` results, one per network (e.g. per seed).
        labels: a panel title per network.
    """
    damage = [np.asarray(a.damage_by_pattern, dtype=float) for a in ablations]
    finite = np.concatenate([d[np.isfinite(d)].ravel() for d in damage]) if damage else np.zeros(1)
    top = max(float(finite.max()) if finite.size else 0.0, 1e-3)
    units = max(d.shape[0] for d in damage) if damage else 0
    return _heatmap_grid([d.T for d in damage], labels, row_labels=PATTERNS,
                         col_labels=[f"h{u + 1}" for u in range(units)], xlabel="silenced unit",
                         ylabel="input pattern", cmap="magma", vmin=0.0, vmax=top,
                         colorbar_label="MSE increase", title=title)


def plot_slot_maps(slots: Sequence[SlotMap], labels: Sequence[str], *, title: str | None = None) -> Figure:
    """Slot maps of several networks: |corr(cell state, stored answer)| per pattern and unit, best unit outlined.

    Args:
        slots: :class:`l2l_lib.surgery.SlotMap` results, one per network.
        labels: a panel title per network.
    """
    units = max(s.n_units for s in slots) if slots else 0
    return _heatmap_grid([s.corr for s in slots], labels, row_labels=PATTERNS,
                         col_labels=[f"h{u + 1}" for u in range(units)], xlabel="unit (cell state c)",
                         ylabel="input pattern", cmap="viridis", vmin=0.0, vmax=1.0,
                         colorbar_label="|corr(c, stored answer)|", outline=[s.best_unit for s in slots],
                         title=title)


def plot_interventions(flipped: Sequence[np.ndarray], labels: Sequence[str], *, title: str | None = None) -> Figure:
    """Intervention results, one panel per network: row p = the cell found for pattern p was overwritten,
    column q = the fraction of next answers to pattern q that flipped.

    Args:
        flipped: ``[4, 4]`` arrays (rows: intervened pattern, columns: answered pattern), e.g. stacked
            :attr:`l2l_lib.surgery.Intervention.flipped`; a clean slot map gives a bright diagonal.
        labels: a panel title per network.
    """
    return _heatmap_grid([np.asarray(f, dtype=float) for f in flipped], labels, row_labels=PATTERNS,
                         col_labels=PATTERNS, xlabel="answer to pattern", ylabel="overwritten slot of",
                         cmap="viridis", vmin=0.0, vmax=1.0, colorbar_label="fraction of answers flipped",
                         title=title)


def plot_learnt_surfaces(true: np.ndarray, learnt: Mapping[int, np.ndarray], grid: np.ndarray, *,
                         examples: tuple[np.ndarray, np.ndarray] | None = None, title: str | None = None,
                         n_cols: int = 3) -> Figure:
    """The true function beside what a learner holds after k examples, as heat maps on one colour scale.

    Panels run left to right, ``n_cols`` to a row, each large enough to read at the page's width.

    Args:
        true: ``[G, G]`` true values (row: x2, column: x1), e.g. :attr:`LearntSurfaces.true
            <l2l_lib.experiments.continuous.LearntSurfaces>`.
        learnt: k -> ``[G, G]`` the learner's function after k examples.
        grid: ``[G]`` the input values of both axes.
        examples: ``(x1 [T], x2 [T])`` of the stream: the first k are drawn on the k panel.
        title: figure title.
        n_cols: panels per row (at most), an integer >= 1.
    """
    panels = [("true function", true, 0)] + [(f"after {k} example{'s' if k != 1 else ''}", v, k)
                                             for k, v in learnt.items()]
    n_cols = min(check_int("n_cols", n_cols), len(panels))
    n_rows = -(-len(panels) // n_cols)
    fig = Figure(figsize=(3.3 * n_cols + 1.2, 3.3 * n_rows + (0.5 if title else 0.0)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    extent = (float(grid[0]), float(grid[-1]), float(grid[0]), float(grid[-1]))
    values = np.concatenate([np.ravel(v) for _, v, _ in panels])
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    image = None
    for ax, (name, surface, k) in zip(axes, panels):
        image = ax.imshow(surface, origin="lower", extent=extent, cmap="viridis", vmin=low, vmax=high)
        if name != "true function":
            error = float(np.sqrt(np.mean((np.asarray(surface) - np.asarray(true)) ** 2)))
            name = f"{name}\n(RMS error {error:.3f})"
            if examples is not None and k > 0:
                ax.plot(examples[0][:k], examples[1][:k], "o", color="white", markeredgecolor="black", markersize=6)
        ax.set_title(name)
        ticks = np.linspace(extent[0], extent[1], 5)  # fewer labels than matplotlib's default: readable
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
    for ax in axes[len(panels):]:
        ax.remove()
    fig.colorbar(image, ax=axes[:len(panels)].tolist(), label="output", shrink=0.85)
    if title:
        fig.suptitle(title)
    return fig


# Labels of the step benchmark's implementations (benchmarks/run.py, section step_ms); packed_S are named
# by their pack size.
_STEP_LABELS = {"nn_lstm": "nn.LSTM", "nn_lstm_no_forget": "nn.LSTM, no forget gate",
                "python_loop": "Python loop", "python_loop_no_forget": "Python loop, no forget gate"}


def plot_step_times(step_ms: Mapping[str, object], *, goal_speedup: float | None = None,
                    goal_pack: int | None = None) -> Figure:
    """The step benchmark: time per seed of one training step by implementation, and packing's speedup.

    Args:
        step_ms: the ``step_ms`` section of ``benchmarks/results.json``: ``implementations`` (name ->
            ``per_seed_ms``, ``min_ms``, ``max_ms`` in milliseconds, ``seeds`` per step), ``ratios`` with
            ``packed_speedup_per_seed`` (pack size as text -> throughput per seed relative to one seed at
            a time on ``nn.LSTM``) and ``workload`` with ``seq_len``.
        goal_speedup, goal_pack: a target speedup at pack size ``goal_pack``, drawn as a dashed line
            (both or neither).

    Returns:
        a figure of two panels, one above the other so that both keep the page's width: top, milliseconds
        per seed and step (median; bars from the fastest to the slowest repeat), log scale; bottom, speedup
        per seed against pack size S, with the perfect S×.

    Raises:
        ValueError: when ``step_ms`` lacks one of those entries, or only one of the goal arguments is given.
    """
    missing = [k for k in ("implementations", "ratios", "workload") if k not in step_ms]
    if missing or "packed_speedup_per_seed" not in step_ms["ratios"]:  # type: ignore[operator]
        raise ValueError(f"step_ms must be the step_ms section of benchmarks/results.json (with implementations, "
                         f"ratios.packed_speedup_per_seed and workload); missing {missing or ['ratios.packed_speedup_per_seed']}")
    if (goal_speedup is None) != (goal_pack is None):
        raise ValueError(f"goal_speedup and goal_pack must be given together; got {goal_speedup!r} and {goal_pack!r}")
    impl: Mapping[str, Mapping[str, float]] = step_ms["implementations"]  # type: ignore[assignment]
    speedups = {int(s): v for s, v in step_ms["ratios"]["packed_speedup_per_seed"].items()}  # type: ignore[index]
    keys = list(impl)
    values = np.array([impl[k]["per_seed_ms"] for k in keys])
    fastest = np.array([impl[k]["min_ms"] / impl[k]["seeds"] for k in keys])
    slowest = np.array([impl[k]["max_ms"] / impl[k]["seeds"] for k in keys])
    # one colour per kind: nn.LSTM, the Python loop, packs
    colours = ["C2" if k.startswith("packed_") else "C3" if k.startswith("python") else "C0" for k in keys]

    fig = Figure(figsize=(8, 7.5), layout="constrained")
    left, right = fig.subplots(2, 1, height_ratios=(3, 2))
    left.barh(range(len(keys)), values, xerr=[values - fastest, slowest - values], color=colours, capsize=2)
    left.set_yticks(range(len(keys)), [_STEP_LABELS.get(k) or f"packed, S = {k.removeprefix('packed_')}"
                                       for k in keys])
    left.invert_yaxis()
    left.set_xscale("log")
    for y, (v, top) in enumerate(zip(values, slowest)):
        left.annotate(f"{v:.2f}" if v < 10 else f"{v:.0f}", (top, y), xytext=(4, 0), textcoords="offset points",
                      va="center", fontsize="small")
    left.set_xlim(right=left.get_xlim()[1] * 3)  # room for the labels
    left.set_xlabel("ms per seed and training step")
    left.set_title(f"One training step, sequences of {step_ms['workload']['seq_len']}")  # type: ignore[index]

    sizes = sorted(speedups)
    right.plot(sizes, [speedups[s] for s in sizes], "o-", color="C2", label="measured")
    right.plot(sizes, sizes, ":", color="grey", label="S× (perfect)")
    if goal_speedup is not None:
        right.axhline(goal_speedup, color="C1", linestyle="--", label=f"target at S = {goal_pack}: {goal_speedup:g}×")
    right.set_xscale("log", base=2)
    right.set_xticks(sizes, [str(s) for s in sizes])
    right.set_xlabel("seeds per pack S")
    right.set_ylabel("throughput per seed vs nn.LSTM")
    right.set_title("Packing seeds")
    right.legend(fontsize="small", loc="upper left")
    right.grid(True, alpha=0.3)
    return fig


def plot_criteria_grid(holds: np.ndarray, row_labels: Sequence[str], column_labels: Sequence[str], *,
                       groups: Sequence[object] | None = None, combined: int = 0, title: str | None = None) -> Figure:
    """Which criterion holds in which network: a grid of yes/no cells, networks down, criteria across.

    Args:
        holds: ``[n_networks, n_criteria]`` bool (e.g. :func:`l2l_lib.experiments.surgery.criteria_matrix`).
        row_labels: one label per network; column_labels: one per criterion (long ones are wrapped).
        groups: one key per network (e.g. its held-out set); a line separates consecutive rows whose keys
            differ.
        combined: the last ``combined`` columns combine the others (e.g. "all of them"); a line separates them.
        title: axes title.
    """
    holds = np.asarray(holds)
    check(holds.ndim == 2 and holds.shape[0] > 0 and holds.shape[1] > 0, "holds",
          "a non-empty [n_networks, n_criteria] array", holds.shape)
    check(len(row_labels) == holds.shape[0], "row_labels", f"one label per row ({holds.shape[0]})", len(row_labels))
    check(len(column_labels) == holds.shape[1], "column_labels", f"one label per column ({holds.shape[1]})",
          len(column_labels))
    check(groups is None or len(groups) == holds.shape[0], "groups", f"None or one key per row ({holds.shape[0]})",
          None if groups is None else len(groups))
    check_int("combined", combined, minimum=0, maximum=holds.shape[1] - 1)
    n_rows, n_cols = holds.shape
    fig = Figure(figsize=(8, 1.9 + 0.28 * n_rows), layout="constrained")
    ax = fig.subplots()
    colours = np.array([[0.93, 0.93, 0.93], [0.17, 0.53, 0.33]])  # no: light grey, yes: green
    ax.imshow(colours[holds.astype(int)], aspect="auto", interpolation="nearest")
    for r in range(n_rows):
        for c in range(n_cols):
            ax.text(c, r, "yes" if holds[r, c] else "no", ha="center", va="center", fontsize=8,
                    color="white" if holds[r, c] else "dimgrey")
    if groups is not None:
        for r in range(1, n_rows):
            if groups[r] != groups[r - 1]:
                ax.axhline(r - 0.5, color="black", linewidth=1.5)
    if combined:
        ax.axvline(n_cols - combined - 0.5, color="black", linewidth=1.5)
    ax.set_xticks(range(n_cols), ["\n".join(_wrap(label, 14)) for label in column_labels], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(n_rows), list(row_labels), fontsize=8)
    ax.set_xticks(np.arange(n_cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="minor", length=0)
    if title:
        ax.set_title(title, fontsize="medium")
    return fig


def _wrap(text: str, width: int) -> list[str]:
    """``text`` broken at spaces into lines of at most ``width`` characters (a longer word keeps its line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def plot_error_intervals(curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]], *,
                         max_steps: int | None = None, ylabel: str = "MSE", xlabel: str = "examples seen so far",
                         title: str | None = None) -> Figure:
    """Error versus examples seen, one line per learner, each with its interval over test sequences.

    Hochreiter, Younger & Conwell (2001), Sec. 3 plot the error against the examples seen; here every line
    carries the 95% interval of its mean over the test sequences (:func:`l2l_lib.statistics.position_intervals`).

    Args:
        curves: label -> ``(mean, low, high)``, each ``[T]``. On the logarithmic error axis a lower bound
            at or below zero is drawn at the axis's bottom, half the smallest positive mean shown.
        max_steps: show only the first ``max_steps`` positions.
    """
    check(len(curves) > 0, "curves", "a non-empty mapping label -> (mean, low, high)", curves)
    shown = {}
    for label, band in curves.items():
        mean, low, high = (np.asarray(v, dtype=float)[:max_steps] for v in band)
        check(mean.ndim == 1 and mean.shape == low.shape == high.shape, f"curves[{label!r}]",
              "(mean, low, high), three 1-d arrays of one length", [np.shape(v) for v in band])
        shown[label] = (mean, low, high)
    positive = np.concatenate([m[m > 0] for m, _, _ in shown.values()])
    bottom = 0.5 * float(positive.min()) if positive.size else 1e-6
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    for k, (label, (mean, low, high)) in enumerate(shown.items()):
        steps, color = np.arange(mean.size), f"C{k % 10}"
        ax.plot(steps, np.where(mean > 0, mean, np.nan), color=color, label=label)
        ax.fill_between(steps, np.maximum(low, bottom), np.maximum(high, bottom), color=color, alpha=0.2,
                        linewidth=0)
    ax.set_yscale("log")
    ax.set_ylim(bottom=bottom)
    _label_curves(ax, xlabel, f"{ylabel} (band: 95% interval over test sequences)", title)
    return fig


def plot_ratio_by_triple(panels: Mapping[str, Mapping[str, Mapping[str, Sequence[float]]]], *,
                         lines: Mapping[str, Mapping[str, float]] | None = None, title: str | None = None) -> Figure:
    """Per-seed held-out error over the ideal learner's, grouped by held-out triple, one panel per family.

    Args:
        panels: panel title -> triple label -> recipe label -> one ratio per seed. Each triple is a group on
            the x axis, each recipe a column of dots in it (the same colour in every group), with a black bar
            at the median.
        lines: panel title -> label -> ratio drawn across that panel (e.g. ``{"1.1x": 1.1, "3x": 3.0}``).
        title: figure title.
    """
    check(len(panels) > 0 and all(len(p) > 0 for p in panels.values()), "panels",
          "a non-empty mapping panel -> triple -> recipe -> ratios", panels)
    fig = Figure(figsize=(8, 3.2 * len(panels) + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(panels), 1, squeeze=False)).ravel()
    styles = ["--", ":", "-."]
    for ax, (panel, groups) in zip(axes, panels.items()):
        recipes = list(dict.fromkeys(r for group in groups.values() for r in group))
        width = 0.8 / len(recipes)
        for g, group in enumerate(groups.values()):
            for k, name in enumerate(recipes):
                values = np.asarray(group.get(name, ()), dtype=float)
                if values.size == 0:
                    continue
                centre = g - 0.4 + width * (k + 0.5)
                # a fixed spread (not random jitter), so that the figure is the same on every run
                offsets = np.linspace(-0.3, 0.3, values.size) * width if values.size > 1 else np.zeros(1)
                ax.plot(centre + offsets, values, "o", color=f"C{k % 10}", markersize=5, alpha=0.85,
                        label=name if g == 0 else None)
                ax.plot([centre - 0.4 * width, centre + 0.4 * width], [np.median(values)] * 2, color="black",
                        linewidth=1)
        for j, (label, level) in enumerate(((lines or {}).get(panel) or {}).items()):
            ax.axhline(level, color="grey", linestyle=styles[j % len(styles)], linewidth=1, label=label)
        ax.set_xticks(range(len(groups)), [f"held out {t}" for t in groups], fontsize="small")
        ax.set_xlim(-0.5, len(groups) - 0.5)
        ax.set_yscale("log")
        lowest = min((float(np.min(v)) for group in groups.values() for v in group.values() if len(v)), default=1.0)
        ax.set_ylim(bottom=min(0.9, 0.9 * lowest))  # the floor (1x) always in view
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
        ax.yaxis.set_major_formatter(lambda y, _: f"{y:g}x")  # ratios read as "3x", never as 3 x 10^0
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel("held-out MSE / ideal learner's")
        ax.grid(True, axis="y", which="both", alpha=0.3)
        ax.set_title(panel, fontsize="medium")
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------- task diversity (book/diversity.md)
def _legend_rows(fig: Figure, ax: object, title: str | None, ncol: int = 2) -> Figure:
    """As :func:`_legend_below`, in ``ncol`` columns: long labels in one row would run off the page."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=ncol, fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def _pool_positions(pools: Sequence[int | None]) -> np.ndarray:
    """x positions of pool sizes on a log axis: K itself for K >= 1, K = 0 three octaves left of the smallest
    positive K, the unlimited pool (None) three octaves right of the largest, each with its own tick."""
    check(len(pools) > 0 and all(k is None or (isinstance(k, (int, np.integer)) and k >= 0) for k in pools),
          "pools", "a non-empty sequence of pool sizes (integers >= 0, None for unlimited)", pools)
    positive = [int(k) for k in pools if k]
    low, high = min(positive, default=4), max(positive, default=4)
    return np.array([low / 8 if k == 0 else high * 8 if k is None else float(k) for k in pools])


def _pool_axis(ax: object, pools: Sequence[int | None], positions: np.ndarray) -> None:
    ax.set_xscale("log")
    ax.set_xticks(positions, ["unlimited" if k is None else str(k) for k in pools])
    ax.minorticks_off()
    ax.set_xlim(positions.min() / 2, positions.max() * 2)
    ax.set_xlabel("random tables in training (K)")
    ax.grid(True, axis="y", which="both", alpha=0.3)


def _pool_points(ax: object, positions: np.ndarray, values: Sequence[Sequence[float]], color: str,
                 label: str) -> None:
    """One dot per seed (a fixed spread, not random jitter) and the median of each pool joined by a line."""
    medians = []
    for x, seeds in zip(positions, values):
        seeds = np.asarray(seeds, dtype=float)
        spread = 2.0 ** np.linspace(-0.25, 0.25, len(seeds)) if len(seeds) > 1 else np.ones(1)
        ax.plot(x * spread, seeds, "o", color=color, alpha=0.7, markersize=6)
        medians.append(np.median(seeds))
    ax.plot(positions, medians, "_-", color="black", markersize=18, linewidth=1, label=label)


def plot_pool_sweep(pools: Sequence[int | None], values: Sequence[Sequence[float]], *,
                    references: Mapping[str, float] | None = None, ylabel: str = "held-out MSE",
                    title: str | None = None) -> Figure:
    """A score of every seed against the number K of random tables in training (task diversity, Raventós et
    al. 2023), with reference levels as horizontal lines.

    Args:
        pools: pool sizes in increasing order, None for the unlimited pool (drawn at the right with its own tick;
            K = 0 at the left with its own).
        values: per pool, one score per seed (dots); a black line joins the medians.
        references: label -> level (e.g. the ideal learner and the recogniser), drawn across.
        ylabel: what the scores are; the axis is logarithmic.
    """
    check(len(values) == len(pools), "values", f"one sequence of seed scores per pool ({len(pools)})", len(values))
    positions = _pool_positions(pools)
    fig = Figure(figsize=(8, 4.4), layout="constrained")
    ax = fig.subplots()
    _pool_points(ax, positions, values, "C0", "median over seeds (dots: seeds)")
    styles = [":", "--", "-.", (0, (1, 3))]
    for k, (label, level) in enumerate((references or {}).items()):
        ax.axhline(level, color=f"C{k + 1}", linestyle=styles[k % len(styles)], label=f"{label} ({level:.4f})")
    _pool_axis(ax, pools, positions)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    return _legend_rows(fig, ax, title)


def plot_pool_sweep_learners(pools: Sequence[int | None], values: Mapping[str, Sequence[Sequence[float]]], *,
                             references: Mapping[str, float] | None = None, ylabel: str = "held-out MSE",
                             title: str | None = None) -> Figure:
    """:func:`plot_pool_sweep` for several learners on one axis: each learner's seeds in its own colour, its
    medians joined by a line of that colour (the then-and-now chapter: the LSTM and the transformer).

    Args:
        pools: pool sizes as in :func:`plot_pool_sweep`.
        values: learner label -> per pool, one score per seed.
        references: label -> level, drawn across in grey shades.
    """
    check(len(values) > 0 and all(len(v) == len(pools) for v in values.values()), "values",
          f"a non-empty mapping of learner -> one sequence of seed scores per pool ({len(pools)})",
          {k: len(v) for k, v in values.items()})
    positions = _pool_positions(pools)
    fig = Figure(figsize=(8, 4.4), layout="constrained")
    ax = fig.subplots()
    for k, (label, scores) in enumerate(values.items()):
        shift = 2.0 ** (0.12 * (k - (len(values) - 1) / 2))  # learners side by side at each K
        color = f"C{k}"
        medians = []
        for x, seeds in zip(positions * shift, scores):
            seeds = np.asarray(seeds, dtype=float)
            ax.plot(np.full(seeds.size, x), seeds, "o", color=color, alpha=0.6, markersize=5)
            medians.append(np.median(seeds))
        ax.plot(positions * shift, medians, "-", color=color, linewidth=1.5, label=f"{label}: median over seeds")
    styles = [":", "--", "-.", (0, (1, 3))]
    for k, (label, level) in enumerate((references or {}).items()):
        ax.axhline(level, color=str(0.2 + 0.2 * k), linestyle=styles[k % len(styles)], label=f"{label} ({level:.4f})")
    _pool_axis(ax, pools, positions)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    return _legend_rows(fig, ax, title)


def plot_pool_positions(pools: Sequence[int | None], positions: Mapping[str, Sequence[Sequence[float]]], *,
                        title: str | None = None) -> Figure:
    """Where each seed's predictions sit between the ideal learner (0) and the recogniser (1), against K.

    Args:
        pools: pool sizes as in :func:`plot_pool_sweep`.
        positions: panel title (e.g. ``"training streams"``) -> per pool, one position per seed
            (:attr:`l2l_lib.experiments.diversity.Closeness.position`); one panel each, side by side.
    """
    check(len(positions) > 0 and all(len(v) == len(pools) for v in positions.values()), "positions",
          f"a non-empty mapping of panel -> one sequence of seed positions per pool ({len(pools)})",
          {k: len(v) for k, v in positions.items()})
    x = _pool_positions(pools)
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(positions), sharey=True))
    for ax, (panel, values) in zip(axes, positions.items()):
        ax.axhline(0.0, color="C2", linestyle=":", label="ideal learner (0)")
        ax.axhline(1.0, color="C3", linestyle="--", label="recogniser (1)")
        ax.axhline(0.5, color="grey", linewidth=0.8, label="halfway: closer to one or the other")
        _pool_points(ax, x, values, "C0", "median over seeds (dots: seeds)")
        _pool_axis(ax, pools, x)
        ax.set_title(panel, fontsize="medium")
    axes[0].set_ylabel("position: ideal learner 0, recogniser 1")
    return _legend_rows(fig, axes[0], title)


def plot_reference_traces(batches: Mapping[str, Batch], predictions: Mapping[str, Mapping[str, torch.Tensor]], *,
                          references: Sequence[str], max_steps: int | None = None, title: str | None = None) -> Figure:
    """One stream per column, one network per row, with the same reference learners drawn in every panel.

    Args:
        batches: column title -> a batch whose first stream is drawn.
        predictions: column title -> learner label -> ``[B, T, 1]`` predictions on that batch; the learners
            named in ``references`` are drawn in every panel of the column, each other learner gets a row.
        references: the labels of the reference learners.
        max_steps: draw only the first ``max_steps`` steps.
    """
    check(len(batches) > 0 and set(predictions) == set(batches), "predictions", f"one mapping per batch {list(batches)}",
          list(predictions))
    first = next(iter(predictions.values()))
    networks = [label for label in first if label not in references]
    check(len(networks) > 0 and all(r in first for r in references), "predictions",
          f"the references {list(references)} and at least one other learner", list(first))
    n_rows, n_cols = len(networks), len(batches)
    fig = Figure(figsize=(8, 0.8 + 1.3 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False)
    styles = [(":", "C2"), ("--", "C3"), ("-.", "C4")]
    for col, (column, batch) in enumerate(batches.items()):
        steps = batch.seq_len if max_steps is None else min(max_steps, batch.seq_len)
        t = np.arange(steps)
        for row, network in enumerate(networks):
            ax = axes[row, col]
            ax.plot(t, batch.targets[0, :steps, 0].numpy(), "o", color="black", markersize=3, label="target")
            for k, label in enumerate(references):
                style, color = styles[k % len(styles)]
                ax.plot(t, predictions[column][label][0, :steps, 0].numpy(), style, color=color, linewidth=1.2,
                        label=label)
            ax.plot(t, predictions[column][network][0, :steps, 0].detach().numpy(), "-", color="C0", linewidth=1.4,
                    label="LSTM")
            ax.set_ylim(-0.1, 1.1)
            ax.grid(True, alpha=0.3)
            if col == 0:
                ax.set_ylabel(network.removeprefix("LSTM, "), fontsize="small")
            if row == 0:
                ax.set_title(column, fontsize="medium")
        axes[-1, col].set_xlabel("step t (examples seen before it)")
    return _legend_rows(fig, axes[0, 0], title, ncol=3)


def plot_switch_recovery(panels: Mapping[str, Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]]], *,
                         log_y: bool = True, title: str | None = None) -> Figure:
    """Error by steps since an unannounced switch, one panel per set of streams, one line per learner.

    Args:
        panels: panel title -> learner label -> ``(mean, low, high)``, each ``[switch_every]``: the error and its
            interval over test streams (:func:`l2l_lib.statistics.position_intervals`), drawn as a line and a band.
        log_y: logarithmic error axis (bounds at or below 0 are left off it).
    """
    check(len(panels) > 0 and all(len(c) > 0 for c in panels.values()), "panels",
          "a non-empty mapping of panel -> non-empty mapping of learner -> (mean, low, high)", list(panels))
    fig = Figure(figsize=(8, 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True))
    for ax, (panel, curves) in zip(axes, panels.items()):
        for k, (label, (mean, low, high)) in enumerate(curves.items()):
            steps = np.arange(len(mean))
            if log_y:
                low = np.where(np.asarray(low) > 0, low, np.nan)
            ax.plot(steps, mean, color=f"C{k % 10}", label=label)
            ax.fill_between(steps, low, high, color=f"C{k % 10}", alpha=0.25, linewidth=0)
        if log_y:
            ax.set_yscale("log")
        ax.set_xlabel("examples since the switch")
        ax.set_title(panel, fontsize="medium")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("MSE (band: 95% interval over streams)")
    return _legend_rows(fig, axes[0], title)


# ----------------------------------------------------------------------------- per-function statements (continuous)
def plot_per_function_errors(results: Mapping[str, object], *, criterion: float | None = None,
                             criterion_label: str = "criterion", ymin: float | None = None,
                             title: str | None = None) -> Figure:
    """Error after k examples, per test function: its distribution over functions, one colour per learner.

    Younger, Hochreiter & Conwell (2001) claim a network that learns *any* quadratic after about 30
    examples: a statement about every function, so the figure shows the spread over functions, not only a
    mean. Per learner: the median over functions (solid line with dots), a band from the median up to the
    95th percentile, the 99th percentile (dashed) and the largest error (crosses).

    Args:
        results: learner label -> :class:`~l2l_lib.experiments.per_function.PerFunctionErrors` (anything
            with ``ks`` and ``errors [n_functions, len(ks)]``).
        criterion: an error level drawn as a horizontal line (e.g. a tenth of the constant predictor's MSE).
        criterion_label: its legend label (the value is appended).
        ymin: lower end of the error axis (e.g. 1e-7, so that an exact learner's 1e-15 does not squash the
            others); errors at or below 0 are left off the logarithmic axis.
        title: axes title.
    """
    check(len(results) > 0, "results", "a non-empty mapping label -> PerFunctionErrors", results)
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    all_ks: list[int] = []
    for i, (label, result) in enumerate(results.items()):
        ks = np.asarray(result.ks, dtype=float)
        errors = np.asarray(result.errors, dtype=float)
        check(errors.ndim == 2 and errors.shape[1] == ks.size, f"results[{label!r}].errors",
              "an array [n_functions, len(ks)]", errors.shape)
        median, p95, p99 = (np.where(v > 0, v, np.nan) for v in np.quantile(errors, [0.5, 0.95, 0.99], axis=0))
        maximum = errors.max(0)
        color = f"C{i % 10}"
        ax.plot(ks, median, "o-", color=color, label=label)
        ax.fill_between(ks, median, p95, color=color, alpha=0.2, linewidth=0)
        ax.plot(ks, p99, "--", color=color, linewidth=1)
        ax.plot(ks, np.where(maximum > 0, maximum, np.nan), "x", color=color)
        all_ks.extend(int(k) for k in result.ks)
    # one legend entry per learner (its colour), then what each mark means, in grey
    ax.plot([], [], "o-", color="grey", label="median over functions")
    ax.fill_between([], [], [], color="grey", alpha=0.3, linewidth=0, label="median to 95th percentile")
    ax.plot([], [], "--", color="grey", linewidth=1, label="99th percentile")
    ax.plot([], [], "x", color="grey", label="maximum")
    if criterion is not None:
        ax.axhline(criterion, color="black", linestyle=":", label=f"{criterion_label} ({criterion:.2g})")
    ax.set_yscale("log")
    if min(all_ks) > 0:
        ax.set_xscale("log")
    ax.set_xticks(sorted(set(all_ks)), [str(k) for k in sorted(set(all_ks))])
    ax.xaxis.set_minor_formatter(NullFormatter())
    if ymin is not None:
        ax.set_ylim(bottom=ymin)
    _label_curves(ax, "examples k seen before the query", "expected squared error per function", title)
    return fig


def plot_examples_to_criterion(counts: Mapping[str, object], *, title: str | None = None) -> Figure:
    """Examples to criterion counted per test sequence: the share of sequences at criterion within x examples.

    One step curve per learner (an empirical distribution function): at x, the share of the sequences whose
    error has stayed at or below the criterion from at most x examples on. Where a curve ends below 1, the
    rest of the sequences never reach it (the legend gives that share); a dot marks the median.

    Args:
        counts: learner label -> :class:`~l2l_lib.experiments.per_function.CriterionCounts` (anything with
            ``examples [n]``, NaN for never, and ``seq_len``).
        title: axes title.
    """
    check(len(counts) > 0, "counts", "a non-empty mapping label -> CriterionCounts", counts)
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    longest = 1
    for i, (label, result) in enumerate(counts.items()):
        examples = np.asarray(result.examples, dtype=float)
        check(examples.ndim == 1 and examples.size > 0, f"counts[{label!r}].examples", "a non-empty 1-d array",
              examples.shape)
        longest = max(longest, int(result.seq_len))
        reached = np.sort(examples[np.isfinite(examples)])
        never = 1.0 - reached.size / examples.size
        color = f"C{i % 10}"
        x = np.concatenate([[0.0], reached, [float(result.seq_len)]])
        y = np.concatenate([[0.0], np.arange(1, reached.size + 1) / examples.size, [reached.size / examples.size]])
        ax.step(x, y, where="post", color=color, label=f"{label} (never: {100 * never:.3g}%)")
        if reached.size >= examples.size / 2:
            median = reached[int(np.ceil(examples.size / 2)) - 1]
            ax.plot([median], [0.5], "o", color=color)
    ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_xscale("symlog", linthresh=1.0)
    ax.xaxis.set_major_formatter(lambda x, _: f"{x:g}")  # 1, 10, 100 rather than 10^0, 10^1, 10^2
    ax.set_xlim(0, longest)
    ax.set_ylim(0, 1.02)
    _label_curves(ax, "examples seen", "share of sequences at criterion", title)
    return fig
