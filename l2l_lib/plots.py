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

from .model import GateTable
from .surgery import PATTERNS, SlotMap
from .tasks import BOOLEAN_FAMILIES, Batch
from .train import History


def plot_training_curves(histories: Sequence[History] | History, *, labels: Sequence[str] | None = None,
                         ideal: float | None = None, ideal_label: str = "ideal learner",
                         title: str | None = None) -> Figure:
    """Meta-training curves: MSE on training functions (solid) and held-out functions (dashed), per run.

    Args:
        histories: one :class:`~l2l_lib.train.History` per run (e.g. per seed).
        labels: legend label per run (default ``seed 0, seed 1, ...``).
        ideal: the ideal learner's MSE at the same sequence length, drawn as a horizontal line.
        title: axes title.
    """
    if isinstance(histories, History):
        histories = [histories]
    labels = list(labels) if labels is not None else [f"seed {k}" for k in range(len(histories))]
    if len(labels) != len(histories):
        raise ValueError(f"labels must have one entry per history ({len(histories)}), got {len(labels)}")
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    for k, (history, label) in enumerate(zip(histories, labels)):
        color = f"C{k % 10}"
        ax.plot(history.epochs, history.val_mse, color=color, label=f"{label}: training functions")
        held_out = np.asarray(history.held_out_mse, dtype=float)
        if np.isfinite(held_out).any():
            ax.plot(history.epochs, held_out, color=color, linestyle="--", label=f"{label}: held-out functions")
    if ideal is not None:
        ax.axhline(ideal, color="black", linestyle=":", label=f"{ideal_label} ({ideal:.4f})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch (Adam steps)")
    ax.set_ylabel("MSE on fresh sequences")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", ncol=2 if len(histories) > 2 else 1)
    if title:
        ax.set_title(title)
    return fig


def plot_error_by_position(curves: Mapping[str, np.ndarray | Sequence[np.ndarray]], *, max_steps: int | None = None,
                           log_y: bool = True, ylabel: str = "MSE", xlabel: str = "examples seen so far",
                           title: str | None = None) -> Figure:
    """Error versus number of examples seen, one line per learner, with a band over runs.

    Args:
        curves: learner label -> error by position, ``[T]`` for one run or ``[n_runs, T]`` for several
            (e.g. seeds): the line is the mean over runs, the band spans the lowest to the highest run.
        max_steps: show only the first ``max_steps`` positions.
        log_y: logarithmic error axis.
    """
    fig = Figure(figsize=(7, 4), layout="constrained")
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
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    if title:
        ax.set_title(title)
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
    ax.legend(fontsize="small", loc="best")
    if title:
        ax.set_title(title)
    return fig


def plot_gate_weights(table: GateTable, *, title: str | None = None, annotate: bool = True) -> Figure:
    """Every unit's gate weights as a heat map, in the student report's table layout.

    One panel per unit: rows i, j, f, o (input gate, cell input, forget gate, output gate), columns the
    layer's inputs, the recurrent ``h1..hN`` and the bias. All panels share one symmetric colour scale, so
    weights compare across units. Rows of an absent forget gate (NaN) stay blank.

    Args:
        table: :func:`l2l_lib.model.gate_table` of a layer (``weights [H, 4, n_columns]``).
        title: figure title.
        annotate: write each weight's value into its cell.
    """
    weights = np.asarray(table.weights, dtype=float)
    if weights.ndim != 3 or weights.shape[1:] != (len(table.rows), len(table.columns)):
        raise ValueError(f"table.weights must be [H, {len(table.rows)}, {len(table.columns)}], got {weights.shape}")
    n_units = weights.shape[0]
    n_cols = min(n_units, 3)
    n_rows = -(-n_units // n_cols)
    finite = weights[np.isfinite(weights)]
    limit = float(np.abs(finite).max()) if finite.size else 1.0
    limit = limit if limit > 0 else 1.0
    fig = Figure(figsize=(0.45 * len(table.columns) * n_cols + 1.2, 1.7 * n_rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
    image = None
    for u, ax in enumerate(axes):
        if u >= n_units:
            ax.remove()
            continue
        image = ax.imshow(np.ma.masked_invalid(weights[u]), cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        ax.set_title(f"unit h{u + 1}", fontsize="small")
        ax.set_yticks(range(len(table.rows)), table.rows)
        ax.set_xticks(range(len(table.columns)), table.columns, rotation=90, fontsize="x-small")
        if annotate:
            for r in range(weights.shape[1]):
                for k in range(weights.shape[2]):
                    value = weights[u, r, k]
                    if np.isfinite(value):
                        ax.text(k, r, f"{value:.1f}", ha="center", va="center", fontsize=5.5,
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
