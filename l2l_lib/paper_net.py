"""The paper's quadratic-function network, rebuilt from its one-line description and its weight count.

Hochreiter, Younger & Conwell (2001), Sec. 3 (quadratic functions): "6 LSTM units with 12 memory cells
followed by a standard hidden layer of 40 units whose output is fed back to the first layer, 5373
weights", trained for 25000 epochs. The LSTM is that of 1997 (no forget gate); inputs
``(x1, x2, y_prev)``, one output unit.

The sentence leaves the wiring open, so :class:`Reading` describes one wiring and :func:`count_weights`
counts it (a bias is a weight from a constant input). :func:`closest_readings` searches a grid of 131072
wirings (:func:`reading_grid`) for the count 5373. What it finds:

* **Exactly 5373** with one departure from the text, ``READINGS["per_cell_gates"]``: each of the 12 cells
  has its own input and output gate (12 one-cell blocks; the "6 units" would be pairs of cells that share
  nothing), and every non-input unit receives a bias and weights from the 3 inputs, the 12 cell outputs,
  the 40 hidden units and the output unit; the hidden and output units also see the 24 gates, the LSTM
  units do not. 36 * 57 + 40 * 81 + 81 = 5373. Counts of that family lie densely around 5373 (one
  option less gives 5372), so the match is weak evidence; other exact matches need peepholes as well.
* With the structure as stated (6 blocks of 2 cells sharing gates) 5373 is out of reach: the densest
  wiring, every non-input unit seeing every unit, every input and a bias ("all units connected to all
  units", 1997), has 65 * 69 = 4485 weights (``READINGS["all_to_all"]``), 888 short.

:class:`PaperQuadraticNet` builds any reading without forget gate or peepholes; its default is
:data:`PAPER_READING`, the exact 5373-weight reading. It runs on a small C kernel (compiled on first use,
:func:`load_kernel`) with a hand-written backward pass through time; the step-by-step PyTorch loop is kept
as the reference (``backend="reference"``, and :meth:`PaperQuadraticNet.trace`).
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import itertools
import math
import os
import platform
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace

import torch
from torch import nn

from .validation import check_choice, check_int

PAPER_WEIGHTS = 5373  # Sec. 3, quadratic functions
INIT_RANGE = 0.1  # weights ~ U[-0.1, 0.1], as in Hochreiter & Schmidhuber (1997) and the 2001 paper

# Readings that depart from the paper's stated structure; closest_readings breaks ties on how many.
_DEPARTURES = ("forget_gate", "peepholes", "per_cell_gates", "many_cells")


@dataclass(frozen=True)
class Reading:
    """One interpretation of the paper's wiring (Sec. 3, quadratic functions).

    Units that receive weights: the LSTM's gates (input and output gate per block, plus a forget gate if
    ``forget_gate``) and cell inputs, the ``n_hidden`` hidden units, the output unit. Sources: the network
    inputs, the cells' outputs, the gates' activations, the hidden units, the output unit, a constant 1
    (bias). The LSTM sees this step's inputs and the rest from the previous step; the hidden and output
    units see this step's inputs, cells and gates, and the previous step's hidden units and output.

    Attributes:
        n_cells: memory cells (12); n_blocks: memory blocks (6: blocks of 2 cells sharing gates; 12: each
            cell its own gates); n_inputs: 3 for ``(x1, x2, y_prev)``; n_hidden: 40.
        forget_gate, peepholes: not in the 2001 LSTM; peepholes connect each gate to its block's cells.
        lstm_from_*: sources of every gate and cell input (``hidden``: the hidden layer fed back).
        gate_bias, cell_bias: bias weights of gates and of cell inputs.
        hidden_from_*: sources of the hidden units; ``hidden_recurrent``: hidden to hidden.
        output_from_*: sources of the output unit.
        output_fed_back: the output's previous value is a source of every LSTM, hidden and output unit.
        why: one line saying why the reading is plausible (not part of equality).
    """

    n_cells: int = 12
    n_blocks: int = 6
    n_inputs: int = 3
    n_hidden: int = 40
    forget_gate: bool = False
    peepholes: bool = False
    lstm_from_inputs: bool = True
    lstm_from_cells: bool = True
    lstm_from_gates: bool = False
    lstm_from_hidden: bool = True
    gate_bias: bool = True
    cell_bias: bool = True
    hidden_from_inputs: bool = False
    hidden_from_cells: bool = True
    hidden_from_gates: bool = False
    hidden_recurrent: bool = False
    hidden_bias: bool = True
    output_from_hidden: bool = True
    output_from_inputs: bool = False
    output_from_cells: bool = False
    output_from_gates: bool = False
    output_bias: bool = True
    output_fed_back: bool = False
    why: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for name in ("n_cells", "n_blocks", "n_inputs", "n_hidden"):
            check_int(name, getattr(self, name))
        if self.n_cells % self.n_blocks:
            raise ValueError(f"n_blocks must divide n_cells={self.n_cells}, got {self.n_blocks!r}")
        for f in fields(self):
            if f.type in ("bool", bool) and not isinstance(getattr(self, f.name), bool):
                raise ValueError(f"{f.name} must be True or False, got {getattr(self, f.name)!r}")

    @property
    def cells_per_block(self) -> int:
        return self.n_cells // self.n_blocks

    @property
    def n_gates(self) -> int:
        """Gate units: input and output gate per block (and a forget gate with ``forget_gate``)."""
        return (3 if self.forget_gate else 2) * self.n_blocks

    def departures(self) -> tuple[str, ...]:
        """How this reading departs from the paper's stated structure (empty: it keeps it)."""
        flags = {"forget_gate": self.forget_gate, "peepholes": self.peepholes,
                 "per_cell_gates": self.n_blocks != 6, "many_cells": self.n_cells != 12}
        return tuple(name for name in _DEPARTURES if flags[name])

    def describe(self) -> str:
        """The wiring in one line, e.g. ``6x2 cells; LSTM<-in,cells,hidden,bias; hidden<-cells,bias; ...``."""
        def sources(prefix: str, names: tuple[str, ...]) -> str:
            return ",".join(n for n in names if getattr(self, f"{prefix}_{n}", False))
        lstm = sources("lstm_from", ("inputs", "cells", "gates", "hidden"))
        lstm += "".join(s for s, on in ((",gate_bias", self.gate_bias), (",cell_bias", self.cell_bias),
                                        (",peepholes", self.peepholes)) if on)
        hidden = sources("hidden_from", ("inputs", "cells", "gates")) + (",self" if self.hidden_recurrent else "")
        hidden += ",bias" if self.hidden_bias else ""
        out = sources("output_from", ("hidden", "inputs", "cells", "gates")) + (",bias" if self.output_bias else "")
        blocks = f"{self.n_blocks}x{self.cells_per_block} cells" + (" +forget" if self.forget_gate else "")
        fed = "; output fed back to all" if self.output_fed_back else ""
        return f"{blocks}; LSTM<-{lstm}; hidden<-{hidden}; out<-{out}{fed}"


def count_weights(reading: Reading) -> int:
    """Trainable weights of a reading; biases count as weights from a constant input."""
    if not isinstance(reading, Reading):
        raise ValueError(f"reading must be a Reading, got {type(reading).__name__}")
    r = reading
    n_in, n_c, n_g, n_h, fed = r.n_inputs, r.n_cells, r.n_gates, r.n_hidden, int(r.output_fed_back)
    lstm_units = n_g + n_c
    lstm = lstm_units * (n_in * r.lstm_from_inputs + n_c * r.lstm_from_cells + n_g * r.lstm_from_gates
                         + n_h * r.lstm_from_hidden + fed)
    lstm += n_g * r.gate_bias + n_c * r.cell_bias + n_g * r.cells_per_block * r.peepholes
    hidden = n_h * (n_in * r.hidden_from_inputs + n_c * r.hidden_from_cells + n_g * r.hidden_from_gates
                    + n_h * r.hidden_recurrent + fed + r.hidden_bias)
    output = (n_h * r.output_from_hidden + n_in * r.output_from_inputs + n_c * r.output_from_cells
              + n_g * r.output_from_gates + fed + r.output_bias)
    return lstm + hidden + output


_ALL_ON = {name: True for name in ("lstm_from_gates", "hidden_from_inputs", "hidden_from_gates", "hidden_recurrent",
                                    "output_from_inputs", "output_from_cells", "output_from_gates", "output_fed_back")}

READINGS: dict[str, Reading] = {
    "minimal": Reading(
        why="layered: LSTM sees inputs, its cells and the fed-back hidden layer; hidden sees cells; all biased"),
    "lstm1997": Reading(
        lstm_from_gates=True, cell_bias=False,
        why="1997 convention: gates and cells fully connected to inputs, cells and gates; biases on gates only"),
    "shortcuts": Reading(
        hidden_from_inputs=True, output_from_inputs=True, output_from_cells=True,
        why="minimal plus input->hidden, input->output and cell->output shortcuts"),
    "recurrent_hidden": Reading(
        lstm_from_gates=True, hidden_from_inputs=True, hidden_recurrent=True,
        why="a fully recurrent LSTM layer and a self-recurrent hidden layer that also sees the inputs"),
    "all_to_all": Reading(
        **_ALL_ON, why="1997's 'all units connected to all units': every non-input unit sees every unit, "
                       "every input and a bias (65 x 69)"),
    "forget_gate_all_to_all": Reading(
        forget_gate=True, **_ALL_ON, why="all_to_all with a forget gate per block (Gers et al. 2000, not 2001)"),
    "per_cell_all_to_all": Reading(
        n_blocks=12, **_ALL_ON, why="all_to_all with one input and one output gate per cell (77 x 81)"),
    "per_cell_gates": Reading(
        n_blocks=12, **{**_ALL_ON, "lstm_from_gates": False},
        why="exactly 5373: per_cell_all_to_all except that the LSTM units do not see the gates"),
}

PAPER_READING: Reading = READINGS["per_cell_gates"]

# Options closest_readings enumerates; the rest are fixed by the paper's text (LSTM sees the inputs and
# the fed-back hidden layer, hidden sees the cells, output sees the hidden layer) or by the task (3
# inputs, 40 hidden units).
_GRID_FLAGS: tuple[str, ...] = (
    "forget_gate", "peepholes", "lstm_from_cells", "lstm_from_gates", "gate_bias", "cell_bias",
    "hidden_from_inputs", "hidden_from_gates", "hidden_recurrent", "hidden_bias", "output_from_inputs",
    "output_from_cells", "output_from_gates", "output_bias", "output_fed_back")
_GRID_SHAPES: tuple[tuple[int, int], ...] = ((12, 6), (12, 12), (72, 6), (72, 72))  # (n_cells, n_blocks)


@functools.lru_cache(maxsize=1)
def reading_grid() -> tuple[tuple[Reading, int], ...]:
    """Every reading of the grid with its weight count (131072 readings, a few seconds; cached).

    Grid: ``(n_cells, n_blocks)`` in 12 cells in 6 blocks (the paper), 12 one-cell blocks, 72 cells in 6
    blocks ("6 units *each* with 12 cells") or 72 one-cell blocks, times every combination of
    :data:`_GRID_FLAGS`.
    """
    grid = []
    for n_cells, n_blocks in _GRID_SHAPES:
        for values in itertools.product((False, True), repeat=len(_GRID_FLAGS)):
            reading = Reading(n_cells=n_cells, n_blocks=n_blocks, **dict(zip(_GRID_FLAGS, values)))
            grid.append((reading, count_weights(reading)))
    return tuple(grid)


def closest_readings(target: int = PAPER_WEIGHTS, k: int = 5, max_departures: int | None = None
                     ) -> list[tuple[Reading, int]]:
    """The k grid readings whose weight counts are closest to ``target``, exact matches first.

    Args:
        target: the weight count to match (the paper's 5373).
        k: how many to return.
        max_departures: keep only readings with at most this many :meth:`Reading.departures` (0: the
            paper's structure, 6 blocks of 2 cells, no forget gate, no peepholes); None keeps all.

    Returns:
        ``[(reading, count)]`` sorted by ``|count - target|``, then fewer departures, then count. Each
        reading's ``why`` is its :meth:`Reading.describe`.
    """
    check_int("k", k)
    if max_departures is not None:
        check_int("max_departures", max_departures, minimum=0)
    pool = [(r, n) for r, n in reading_grid() if max_departures is None or len(r.departures()) <= max_departures]
    best = sorted(pool, key=lambda rn: (abs(rn[1] - target), len(rn[0].departures()), rn[1]))[:k]
    return [(replace(r, why=r.describe()), n) for r, n in best]


def squash_cell_input(x: torch.Tensor) -> torch.Tensor:
    """The 1997 cell-input squashing g, in [-2, 2]: ``4 * sigmoid(x) - 2``."""
    return 4.0 * torch.sigmoid(x) - 2.0


def squash_cell_output(x: torch.Tensor) -> torch.Tensor:
    """The 1997 cell-output squashing h, in [-1, 1]: ``2 * sigmoid(x) - 1``."""
    return 2.0 * torch.sigmoid(x) - 1.0


BACKENDS: tuple[str, ...] = ("auto", "kernel", "reference")
# The blocks of weights a reading may have (PaperQuadraticNet.blocks); lstm_*: columns [gates | cell inputs].
WEIGHT_BLOCKS: tuple[str, ...] = (
    "lstm_w_inputs", "lstm_w_cells", "lstm_w_gates", "lstm_w_hidden", "lstm_w_output", "gate_bias", "cell_bias",
    "hidden_w_inputs", "hidden_w_cells", "hidden_w_gates", "hidden_w_hidden", "hidden_w_output", "hidden_bias",
    "output_w_hidden", "output_w_inputs", "output_w_cells", "output_w_gates", "output_w_output", "output_bias")

# The fused kernel. Layouts: drive and the states [B, T, C] (C = n_cells + n_gates + n_hidden + 1, columns
# [gates | cell inputs | hidden | output] for pre-activations, [y_c | gates | hidden | output] for states),
# w_prev [C, C], w_now [n_cells + n_gates, n_hidden + 1], w_out [n_hidden]; u, k (tanh of cell input and of
# cell state) [T, n_cells, bp], bp the batch padded to 16. Inside, each step works on [units][bp] rows, so
# that every inner loop is one vector over the batch. No libm calls: exp is written out (about 1 ulp).
_KERNEL_SOURCE = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* exp by range reduction x = n ln2 + r, |r| <= ln2/2, and a polynomial in r; branch-free, so loops over
   the batch vectorise. Relative error about 1 ulp (float: Cephes expf; double: Taylor to r^13). */
static inline float exp_f32(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f; p = p * r + 8.3334519073e-3f; p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f; p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const int32_t bits = ((int32_t)n + 127) << 23;
    float scale; memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}
static inline double exp_f64(double x) {
    x = x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x);
    const double n = (x * 1.4426950408889634 + 6755399441055744.0) - 6755399441055744.0;
    const double r = (x - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0; p = p * r + 1.0 / 39916800.0; p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0; p = p * r + 1.0 / 40320.0; p = p * r + 1.0 / 5040.0; p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0; p = p * r + 1.0 / 24.0; p = p * r + 1.0 / 6.0; p = p * r + 0.5;
    p = p * r * r + r + 1.0;
    const int64_t bits = ((int64_t)n + 1023) << 52;
    double scale; memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}


#define VEC 16
/* A weight matrix W [rows][cols] (row stride ldw) as its nonzero entries, row by row (absent sources of a
   reading are zero blocks). gemm: Y[r][:] += sum over nonzero W[r][c] of W[r][c] * X[c][:], in ascending c;
   rows of X and Y hold bp values, bp a multiple of VEC; the VEC-lane accumulator stays in registers. */
#define DEFINE_GEMM(T_, SUF)                                                                             \
typedef struct { int *start, *col; T_ *val; } sparse_##SUF;                                             \
static int sparse_make_##SUF(sparse_##SUF *m, int rows, int cols, const T_ *W, int ldw) {               \
    m->start = (int *)malloc(sizeof(int) * ((size_t)rows + 1));                                          \
    m->col = (int *)malloc(sizeof(int) * ((size_t)rows * cols + 1));                                     \
    m->val = (T_ *)malloc(sizeof(T_) * ((size_t)rows * cols + 1));                                       \
    if (!m->start || !m->col || !m->val) return 1;                                                      \
    int n = 0;                                                                                          \
    for (int r = 0; r < rows; ++r) {                                                                    \
        m->start[r] = n;                                                                                \
        for (int c = 0; c < cols; ++c)                                                                  \
            if (W[(size_t)r * ldw + c] != 0) { m->col[n] = c; m->val[n] = W[(size_t)r * ldw + c]; ++n; } \
    }                                                                                                   \
    m->start[rows] = n;                                                                                 \
    return 0;                                                                                           \
}                                                                                                       \
static void sparse_free_##SUF(sparse_##SUF *m) { free(m->start); free(m->col); free(m->val); }          \
static void gemm_##SUF(int rows, const sparse_##SUF *m, const T_ *X, T_ *Y, int bp) {                   \
    for (int r = 0; r < rows; ++r)                                                                      \
        for (int b0 = 0; b0 < bp; b0 += VEC) {                                                          \
            T_ acc[VEC];                                                                                \
            for (int v = 0; v < VEC; ++v) acc[v] = Y[(size_t)r * bp + b0 + v];                          \
            for (int n = m->start[r]; n < m->start[r + 1]; ++n) {                                       \
                const T_ w = m->val[n];                                                                 \
                const T_ *x = X + (size_t)m->col[n] * bp + b0;                                          \
                for (int v = 0; v < VEC; ++v) acc[v] += w * x[v];                                       \
            }                                                                                           \
            for (int v = 0; v < VEC; ++v) Y[(size_t)r * bp + b0 + v] = acc[v];                          \
        }                                                                                               \
}
DEFINE_GEMM(float, f32)
DEFINE_GEMM(double, f64)

#define DEFINE_KERNELS(T_, SUF)                                                                          \
static inline T_ sig_##SUF(T_ x) { return (T_)1 / ((T_)1 + exp_##SUF(-x)); }                            \
static inline T_ tanh_##SUF(T_ x) { return (T_)1 - (T_)2 / (exp_##SUF((T_)2 * x) + (T_)1); }             \
int paper_forward_##SUF(int T, int B, int nc, int ng, int nh, int cpb, const T_ *drive, const T_ *wprev, \
                        const T_ *wnow, const T_ *wout, T_ *s_prev, T_ *s_now, T_ *uu, T_ *kk) {         \
    const int L = nc + ng, C = L + nh + 1, nb = ng / 2, nh1 = nh + 1, bp = (B + VEC - 1) / VEC * VEC;   \
    T_ *work = (T_ *)calloc((size_t)(3 * C + nc) * bp + (size_t)C * C + (size_t)nh1 * L, sizeof(T_));   \
    if (!work) return 1;                                                                                \
    T_ *prev = work, *now = work + (size_t)C * bp, *pre = work + (size_t)2 * C * bp;                    \
    T_ *cell = work + (size_t)3 * C * bp, *wpt = cell + (size_t)nc * bp, *wnt = wpt + (size_t)C * C;    \
    for (int p = 0; p < C; ++p)                                                                         \
        for (int c = 0; c < C; ++c) wpt[(size_t)c * C + p] = wprev[(size_t)p * C + c];                  \
    for (int l = 0; l < L; ++l)                                                                         \
        for (int j = 0; j < nh1; ++j) wnt[(size_t)j * L + l] = wnow[(size_t)l * nh1 + j];               \
    sparse_##SUF mp = {0, 0, 0}, mn = {0, 0, 0}, mo = {0, 0, 0};                                        \
    if (sparse_make_##SUF(&mp, C, C, wpt, C) || sparse_make_##SUF(&mn, nh1, L, wnt, L)                  \
        || sparse_make_##SUF(&mo, 1, nh, wout, nh)) {                                                   \
        sparse_free_##SUF(&mp); sparse_free_##SUF(&mn); sparse_free_##SUF(&mo); free(work); return 1;   \
    }                                                                                                   \
    for (int t = 0; t < T; ++t) {                                                                       \
        T_ *u = uu + (size_t)t * nc * bp, *k = kk + (size_t)t * nc * bp;                                \
        for (int b = 0; b < bp; ++b)                                                                    \
            for (int c = 0; c < C; ++c) pre[(size_t)c * bp + b] = b < B ? drive[((size_t)b * T + t) * C + c] : (T_)0; \
        gemm_##SUF(C, &mp, prev, pre, bp);                                                              \
        for (int j = 0; j < ng; ++j)                                                                    \
            for (int b = 0; b < bp; ++b) now[(size_t)(nc + j) * bp + b] = sig_##SUF(pre[(size_t)j * bp + b]); \
        for (int i = 0; i < nc; ++i) {                                                                  \
            const T_ *in = now + (size_t)(nc + i / cpb) * bp, *out = now + (size_t)(nc + nb + i / cpb) * bp; \
            const T_ *a = pre + (size_t)(ng + i) * bp;                                                  \
            T_ *ci = cell + (size_t)i * bp, *ui = u + (size_t)i * bp;                                   \
            T_ *ki = k + (size_t)i * bp, *y = now + (size_t)i * bp;                                     \
            for (int b = 0; b < bp; ++b) {                                                              \
                ui[b] = tanh_##SUF(a[b]);                                                               \
                ci[b] += in[b] * ui[b];                                                                 \
                ki[b] = tanh_##SUF(ci[b]);                                                              \
                y[b] = out[b] * ki[b];                                                                  \
            }                                                                                           \
        }                                                                                               \
        gemm_##SUF(nh1, &mn, now, pre + (size_t)L * bp, bp);                                            \
        T_ *orow = pre + (size_t)(L + nh) * bp;                                                         \
        for (int j = 0; j < nh; ++j) {                                                                  \
            T_ *h = now + (size_t)(L + j) * bp;                                                         \
            const T_ *a = pre + (size_t)(L + j) * bp;                                                   \
            for (int b = 0; b < bp; ++b) h[b] = sig_##SUF(a[b]);                                        \
        }                                                                                               \
        gemm_##SUF(1, &mo, now + (size_t)L * bp, orow, bp);                                             \
        for (int b = 0; b < bp; ++b) now[(size_t)(C - 1) * bp + b] = sig_##SUF(orow[b]);                \
        for (int b = 0; b < B; ++b)                                                                     \
            for (int c = 0; c < C; ++c) {                                                               \
                const T_ v = now[(size_t)c * bp + b];                                                   \
                s_now[((size_t)b * T + t) * C + c] = v;                                                 \
                if (t + 1 < T) s_prev[((size_t)b * T + t + 1) * C + c] = v;                             \
            }                                                                                           \
        T_ *swap = prev; prev = now; now = swap;                                                        \
    }                                                                                                   \
    sparse_free_##SUF(&mp); sparse_free_##SUF(&mn); sparse_free_##SUF(&mo);                             \
    free(work);                                                                                         \
    return 0;                                                                                           \
}                                                                                                       \
int paper_backward_##SUF(int T, int B, int nc, int ng, int nh, int cpb, const T_ *grad, const T_ *s_now, \
                         const T_ *uu, const T_ *kk, const T_ *wprev, const T_ *wnow, const T_ *wout,    \
                         T_ *dpre) {                                                                    \
    const int L = nc + ng, C = L + nh + 1, nb = ng / 2, nh1 = nh + 1, bp = (B + VEC - 1) / VEC * VEC;   \
    T_ *work = (T_ *)calloc((size_t)(4 * C + nc + ng) * bp + nh, sizeof(T_));                           \
    if (!work) return 1;                                                                                \
    T_ *dnext = work, *d = work + (size_t)C * bp, *dp = work + (size_t)2 * C * bp, *now = work + (size_t)3 * C * bp; \
    T_ *dc = work + (size_t)4 * C * bp, *dg = dc + (size_t)nc * bp;                                     \
    sparse_##SUF mp = {0, 0, 0}, mn = {0, 0, 0};                                                        \
    if (sparse_make_##SUF(&mp, C, C, wprev, C) || sparse_make_##SUF(&mn, L, nh1, wnow, nh1)) {          \
        sparse_free_##SUF(&mp); sparse_free_##SUF(&mn); free(work); return 1;                           \
    }                                                                                                   \
    for (int t = T - 1; t >= 0; --t) {                                                                  \
        const T_ *u = uu + (size_t)t * nc * bp, *k = kk + (size_t)t * nc * bp;                          \
        for (int b = 0; b < B; ++b)                                                                     \
            for (int c = 0; c < C; ++c) now[(size_t)c * bp + b] = s_now[((size_t)b * T + t) * C + c];   \
        memset(dp, 0, sizeof(T_) * (size_t)C * bp);                                                     \
        if (t + 1 < T) gemm_##SUF(C, &mp, dnext, dp, bp);                                               \
        const T_ *o = now + (size_t)(C - 1) * bp, *dpo = dp + (size_t)(C - 1) * bp;                      \
        T_ *dzo = d + (size_t)(C - 1) * bp;                                                             \
        for (int b = 0; b < bp; ++b) dzo[b] = (b < B ? grad[(size_t)b * T + t] : (T_)0) + dpo[b];       \
        for (int b = 0; b < bp; ++b) dzo[b] *= o[b] * ((T_)1 - o[b]);                                   \
        for (int j = 0; j < nh; ++j) {                                                                  \
            const T_ *h = now + (size_t)(L + j) * bp, *dh = dp + (size_t)(L + j) * bp;                  \
            T_ *da = d + (size_t)(L + j) * bp;                                                          \
            const T_ w = wout[j];                                                                       \
            for (int b = 0; b < bp; ++b) da[b] = (dh[b] + w * dzo[b]) * h[b] * ((T_)1 - h[b]);          \
        }                                                                                               \
        gemm_##SUF(L, &mn, d + (size_t)L * bp, dp, bp);                                                 \
        memcpy(dg, dp + (size_t)nc * bp, sizeof(T_) * (size_t)ng * bp);                                 \
        for (int i = 0; i < nc; ++i) {                                                                  \
            const T_ *in = now + (size_t)(nc + i / cpb) * bp, *out = now + (size_t)(nc + nb + i / cpb) * bp; \
            const T_ *dy = dp + (size_t)i * bp, *ki = k + (size_t)i * bp, *ui = u + (size_t)i * bp;     \
            T_ *dci = dc + (size_t)i * bp, *dgi = dg + (size_t)(i / cpb) * bp;                          \
            T_ *dgo = dg + (size_t)(nb + i / cpb) * bp;                                                 \
            T_ *da = d + (size_t)(ng + i) * bp;                                                         \
            for (int b = 0; b < bp; ++b) {                                                              \
                dci[b] += dy[b] * out[b] * ((T_)1 - ki[b] * ki[b]);                                     \
                da[b] = dci[b] * in[b] * ((T_)1 - ui[b] * ui[b]);                                       \
                dgi[b] += dci[b] * ui[b];                                                               \
                dgo[b] += dy[b] * ki[b];                                                                \
            }                                                                                           \
        }                                                                                               \
        for (int j = 0; j < ng; ++j) {                                                                  \
            const T_ *s = now + (size_t)(nc + j) * bp, *g = dg + (size_t)j * bp;                        \
            T_ *da = d + (size_t)j * bp;                                                                \
            for (int b = 0; b < bp; ++b) da[b] = g[b] * s[b] * ((T_)1 - s[b]);                          \
        }                                                                                               \
        for (int b = 0; b < B; ++b)                                                                     \
            for (int c = 0; c < C; ++c) dpre[((size_t)b * T + t) * C + c] = d[(size_t)c * bp + b];      \
        T_ *swap = dnext; dnext = d; d = swap;                                                          \
    }                                                                                                   \
    sparse_free_##SUF(&mp); sparse_free_##SUF(&mn);                                                     \
    free(work);                                                                                         \
    return 0;                                                                                           \
}

DEFINE_KERNELS(float, f32)
DEFINE_KERNELS(double, f64)
"""
_KERNEL_FLAGS: tuple[str, ...] = ("-O3", "-march=native", "-ffp-contract=off", "-shared", "-fPIC")
_KERNEL_DIR = Path(__file__).resolve().parent.parent / ".l2l_cache" / "kernels"  # git-ignored


def _cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    return next((line for line in text.splitlines() if line.startswith("flags")), platform.processor())


@functools.lru_cache(maxsize=1)
def load_kernel() -> ctypes.CDLL | None:
    """The fused C kernel of :class:`PaperQuadraticNet`, compiled on first use; None (with a warning) if it
    cannot be (no C compiler: set ``CC``; no writable cache folder).

    The shared library is cached in ``.l2l_cache/kernels/`` of this checkout (else the temporary folder),
    under a hash of the source, the flags, the compiler and the CPU's instruction sets (``-march=native``).
    ``-ffp-contract=off``: no fused multiply-adds, so that rounding does not depend on the instruction set.
    """
    compiler = os.environ.get("CC", "cc")
    key = hashlib.sha256("\n".join([_KERNEL_SOURCE, " ".join(_KERNEL_FLAGS), compiler, platform.machine(),
                                     _cpu_flags()]).encode()).hexdigest()[:16]
    try:
        folder = _KERNEL_DIR
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            folder = Path(tempfile.gettempdir()) / "l2l_kernels"
            folder.mkdir(parents=True, exist_ok=True)
        library = folder / f"paper_net_{key}.so"
        if not library.exists():
            source = folder / f"paper_net_{key}.c"
            source.write_text(_KERNEL_SOURCE)
            handle, scratch = tempfile.mkstemp(dir=folder, suffix=".so.tmp")
            os.close(handle)
            try:
                subprocess.run([compiler, *_KERNEL_FLAGS, "-o", scratch, str(source)], check=True,
                               capture_output=True, text=True)
                os.replace(scratch, library)  # atomic: concurrent processes see no half-written library
            finally:
                if os.path.exists(scratch):
                    os.remove(scratch)
        lib = ctypes.CDLL(str(library))
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        warnings.warn(f"paper_net: the C kernel is unavailable, using the slow reference loop ({detail})",
                      RuntimeWarning, stacklevel=2)
        return None
    ints, pointers = [ctypes.c_int] * 6, [ctypes.c_void_p] * 8
    for suffix in ("f32", "f64"):
        for name in ("paper_forward_", "paper_backward_"):
            function = getattr(lib, name + suffix)
            function.argtypes, function.restype = ints + pointers, ctypes.c_int
    return lib


def _pointer(tensor: torch.Tensor) -> ctypes.c_void_p:
    return ctypes.c_void_p(tensor.data_ptr())


class _KernelRun(torch.autograd.Function):
    """The whole sequence in two C calls: forward, and backpropagation through time by hand.

    ``forward(drive [B, T, C], w_prev [C, C], w_now [n_c + n_g, n_h + 1], w_out [n_h], n_c, n_g, n_h,
    cells_per_block) -> predictions [B, T, 1]``, with the cell-input columns already halved (the tanh form,
    :meth:`PaperQuadraticNet._fused`). The backward pass returns the gradient of every pre-activation
    (that of ``drive``) from C; the weight gradients are then three matrix products over all B * T rows.
    """

    @staticmethod
    def forward(ctx, drive, w_prev, w_now, w_out, n_c, n_g, n_h, cells_per_block):  # type: ignore[override]
        lib = load_kernel()
        suffix = "f32" if drive.dtype == torch.float32 else "f64"
        drive, w_prev, w_now, w_out = (x.contiguous() for x in (drive, w_prev, w_now, w_out))
        batch, steps, n_cols = drive.shape
        padded = -(-batch // 16) * 16
        s_prev, s_now = drive.new_zeros(batch, steps, n_cols), drive.new_empty(batch, steps, n_cols)
        u, k = drive.new_empty(steps, n_c, padded), drive.new_empty(steps, n_c, padded)
        code = getattr(lib, "paper_forward_" + suffix)(
            steps, batch, n_c, n_g, n_h, cells_per_block, *map(_pointer, (drive, w_prev, w_now, w_out, s_prev,
                                                                           s_now, u, k)))
        if code:
            raise MemoryError("paper_net kernel: out of memory")
        ctx.save_for_backward(s_prev, s_now, u, k, w_prev, w_now, w_out)
        ctx.sizes = (n_c, n_g, n_h, cells_per_block)
        return s_now[:, :, n_cols - 1:].clone()

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        s_prev, s_now, u, k, w_prev, w_now, w_out = ctx.saved_tensors
        n_c, n_g, n_h, cells_per_block = ctx.sizes
        batch, steps, n_cols = s_now.shape
        suffix = "f32" if s_now.dtype == torch.float32 else "f64"
        grad = grad.contiguous()
        d_pre = torch.empty_like(s_now)
        code = getattr(load_kernel(), "paper_backward_" + suffix)(
            steps, batch, n_c, n_g, n_h, cells_per_block, *map(_pointer, (grad, s_now, u, k, w_prev, w_now,
                                                                           w_out, d_pre)))
        if code:
            raise MemoryError("paper_net kernel: out of memory")
        lstm = n_c + n_g
        rows = batch * steps
        d2, before, after = d_pre.view(rows, n_cols), s_prev.view(rows, n_cols), s_now.view(rows, n_cols)
        g_prev = before.t().mm(d2)
        g_now = after[:, :lstm].t().mm(d2[:, lstm:])
        g_out = after[:, lstm:lstm + n_h].t().mm(d2[:, n_cols - 1:]).view(-1)
        return d_pre, g_prev, g_now, g_out, None, None, None, None


@dataclass(frozen=True)
class PaperTrace:
    """Everything :meth:`PaperQuadraticNet.trace` computed; each field ``[B, T, n]``.

    ``cells``: cell states s_c; ``cell_outputs``: y_c; ``gates``: input gates of all blocks, then output
    gates; ``hidden``: the hidden layer; ``predictions``: the output unit (n = 1).
    """

    cells: torch.Tensor
    cell_outputs: torch.Tensor
    gates: torch.Tensor
    hidden: torch.Tensor
    predictions: torch.Tensor


class PaperQuadraticNet(nn.Module):
    """The 2001 quadratic-function network (Sec. 3) under one :class:`Reading`.

    The original LSTM (Hochreiter & Schmidhuber 1997), no forget gate. Per step t, block b, cell c of b:

    * gates ``in_b = sigmoid(net)``, ``out_b = sigmoid(net)``; cell input ``g(net_c)``, ``g(x) = 4 sigmoid(x) - 2``
    * state ``s_c(t) = s_c(t-1) + in_b(t) * g(net_c(t))``: nothing decays
    * cell output ``y_c(t) = out_b(t) * h(s_c(t))``, ``h(x) = 2 sigmoid(x) - 1``
    * hidden ``sigmoid(net)`` over the current inputs, ``y_c(t)``, gates (as the reading says) and its
      own previous values; output ``sigmoid(net)`` in (0, 1).

    Every ``net`` of the LSTM reads the inputs of step t and the previous step's cells, gates, hidden units
    (fed back) and output, as the reading says. The states start at zero. Weights ~ U[-0.1, 0.1] from
    the global torch RNG; with gate biases, the output gates of the paper's 6 units start at -1, -2, ..., -6
    (block b of ``n_blocks``: ``-(1 + 6b // n_blocks)``; 1997: later blocks open later).

    Args:
        reading: the wiring; forget gates and peepholes are not supported (not the 2001 LSTM).
        init_range: half-width of the uniform initialisation.
        backend: how :meth:`forward` computes: ``"kernel"``, the fused C kernel (:class:`_KernelRun`: one
            call for the whole sequence, a hand-written backward pass, CPU float32/float64 only);
            ``"reference"``, the step-by-step PyTorch loop under autograd; ``"auto"`` (default), the kernel
            where it applies and compiles, else the reference. Both compute the same function (tests agree
            to rounding); the parameters and ``state_dict`` are the same.

    ``forward(inputs [B, T, n_inputs]) -> predictions [B, T, 1]``, as :meth:`l2l_lib.model.MetaLSTM.forward`.

    The weights are one parameter, ``weights`` (``count_weights(reading)`` values; the whole ``state_dict``),
    holding the blocks of :data:`WEIGHT_BLOCKS` the reading has, in that order; each block is an attribute
    (a view, None if absent) and :meth:`blocks` lists them. One tensor, so that an optimiser step is one
    update, and the per-step matrices are one gather.
    """

    # Reference loop, measured with time_forward_backward() on 2026-11-27, 1 CPU thread of a busy 2-core
    # machine, default reading, batch 16 x 1000 steps, forward + backward, best of 5: 0.32 s. Slicing
    # drive[:, t] instead of unbinding it made the backward pass 5x slower (a full-size gradient per step).
    # The kernel: benchmarks/paper_net_speed.py (results/paper_net_speed.json).

    def __init__(self, reading: Reading = PAPER_READING, init_range: float = INIT_RANGE,
                 backend: str = "auto") -> None:
        super().__init__()
        self.backend = check_choice("backend", backend, BACKENDS)
        if not isinstance(reading, Reading):
            raise ValueError(f"reading must be a Reading, got {type(reading).__name__}")
        if reading.forget_gate or reading.peepholes:
            raise ValueError(f"reading must have no forget gate and no peepholes (the 2001 LSTM), got {reading!r}")
        if isinstance(init_range, bool) or not isinstance(init_range, (int, float)) or not init_range > 0:
            raise ValueError(f"init_range must be a number > 0, got {init_range!r}")
        self.reading = reading
        r = reading
        n_in, n_c, n_g, n_h = r.n_inputs, r.n_cells, r.n_gates, r.n_hidden
        units = n_g + n_c  # LSTM columns: input gates, output gates, cell inputs
        self.init_range = float(init_range)

        fed = r.output_fed_back
        shapes = {  # every block of weights the reading has, in this order inside ``self.weights``
            "lstm_w_inputs": (r.lstm_from_inputs, (n_in, units)), "lstm_w_cells": (r.lstm_from_cells, (n_c, units)),
            "lstm_w_gates": (r.lstm_from_gates, (n_g, units)), "lstm_w_hidden": (r.lstm_from_hidden, (n_h, units)),
            "lstm_w_output": (fed, (1, units)), "gate_bias": (r.gate_bias, (n_g,)), "cell_bias": (r.cell_bias, (n_c,)),
            "hidden_w_inputs": (r.hidden_from_inputs, (n_in, n_h)), "hidden_w_cells": (r.hidden_from_cells, (n_c, n_h)),
            "hidden_w_gates": (r.hidden_from_gates, (n_g, n_h)), "hidden_w_hidden": (r.hidden_recurrent, (n_h, n_h)),
            "hidden_w_output": (fed, (1, n_h)), "hidden_bias": (r.hidden_bias, (n_h,)),
            "output_w_hidden": (r.output_from_hidden, (n_h, 1)), "output_w_inputs": (r.output_from_inputs, (n_in, 1)),
            "output_w_cells": (r.output_from_cells, (n_c, 1)), "output_w_gates": (r.output_from_gates, (n_g, 1)),
            "output_w_output": (fed, (1, 1)), "output_bias": (r.output_bias, (1,))}
        assert tuple(shapes) == WEIGHT_BLOCKS
        self._layout: dict[str, tuple[int, tuple[int, ...]]] = {}
        offset = 0
        for name, (on, shape) in shapes.items():
            if on:
                self._layout[name] = (offset, shape)
                offset += math.prod(shape)
        self.weights = nn.Parameter(torch.empty(offset))
        with torch.no_grad():
            for name in self._layout:  # block by block from the global RNG
                self.blocks()[name].uniform_(-init_range, init_range)
            if r.gate_bias:  # output gates of the paper's 6 units start at -1, ..., -6
                unit = torch.arange(r.n_blocks) * 6 // r.n_blocks
                self.gate_bias[r.n_blocks:] = -(1.0 + unit.to(self.weights.dtype))
        # The five matrices of _matrices as one gather from [weights, 0]: the position of each entry (the
        # appended zero for absent sources), and the factor 1/2 of the cell-input columns (tanh form).
        where = self._assemble(lambda name: torch.arange(offset, dtype=torch.float64)[self._slice(name)]
                               .view(self._layout[name][1]), torch.zeros((), dtype=torch.float64), fill=offset)
        self._matrix_shapes = [tuple(m.shape) for m in where]
        columns = [torch.ones(m.shape, dtype=torch.float64) for m in where]
        for m in columns[:3]:  # w_in, bias, w_prev: their columns are [gates | cell inputs | hidden | output]
            m[..., n_g:units] = 0.5
        self.register_buffer("_gather", torch.cat([m.reshape(-1) for m in where]).long(), persistent=False)
        self.register_buffer("_tanh_scale", torch.cat([m.reshape(-1) for m in columns]).float(), persistent=False)
        self.register_buffer("block_of_cell", torch.arange(n_c) // r.cells_per_block, persistent=False)

    def n_trainable_weights(self) -> int:
        """Parameters gradient descent can change; equals ``count_weights(self.reading)``."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Predictions ``[B, T, 1]`` in (0, 1) for ``inputs [B, T, n_inputs]``; states start at zero."""
        r = self.reading
        if inputs.dim() != 3 or inputs.shape[-1] != r.n_inputs:
            raise ValueError(f"inputs must be [B, T, {r.n_inputs}], got {tuple(inputs.shape)}")
        if self.backend == "reference" or not self._kernel_applies(inputs):
            return self._run(inputs, None, record=False)[0]
        return self._fused(inputs)

    def _kernel_applies(self, inputs: torch.Tensor) -> bool:
        applies = (inputs.device.type == "cpu" and inputs.dtype in (torch.float32, torch.float64)
                   and inputs.shape[0] > 0 and inputs.shape[1] > 0
                   and all(p.dtype == inputs.dtype and p.device.type == "cpu" for p in self.parameters()))
        if self.backend == "kernel":
            if not applies:
                raise ValueError("backend 'kernel' needs CPU float32 or float64 inputs and parameters of the same "
                                 f"dtype, got {inputs.dtype} on {inputs.device}")
            if load_kernel() is None:
                raise RuntimeError("backend 'kernel': the C kernel could not be compiled (see the warning)")
            return True
        return applies and load_kernel() is not None

    def _fused(self, inputs: torch.Tensor) -> torch.Tensor:
        """The kernel's forward, with the 1997 squashings rewritten as tanh.

        ``g(z) = 4 sigmoid(z) - 2 = 2 tanh(z / 2)`` and ``h(s) = 2 sigmoid(s) - 1 = tanh(s / 2)``, so with
        ``c = s / 2`` the cell is ``c(t) = c(t-1) + in * tanh(z / 2)``, ``y_c = out * tanh(c)``: the cell-input
        columns of every weight matrix are halved here (autograd carries the factor to the parameters).
        """
        r = self.reading
        w_in, bias, w_prev, w_now, w_out = self._matrices(inputs, tanh_form=True)
        drive = torch.addmm(bias, inputs.reshape(-1, r.n_inputs), w_in).view(inputs.shape[0], inputs.shape[1], -1)
        return _KernelRun.apply(drive, w_prev, w_now, w_out.reshape(-1), r.n_cells, r.n_gates, r.n_hidden,
                                r.cells_per_block)

    def trace(self, inputs: torch.Tensor, initial_cells: torch.Tensor | None = None) -> PaperTrace:
        """Run and record every state (for analysis and tests).

        Args:
            inputs: ``[B, T, n_inputs]``.
            initial_cells: cell states before the first step, ``[B, n_cells]``; zeros if None.
        """
        predictions, rec = self._run(inputs, initial_cells, record=True)
        return PaperTrace(predictions=predictions, **{k: torch.stack(v, dim=1) for k, v in rec.items()})

    def _slice(self, name: str) -> slice:
        start, shape = self._layout[name]
        return slice(start, start + math.prod(shape))

    def blocks(self, flat: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The blocks of weights the reading has, as views of ``flat`` (default ``self.weights``; e.g. its
        gradient), by name (:data:`WEIGHT_BLOCKS`: ``lstm_w_inputs [n_in, units]``, ..., ``output_bias [1]``).
        Each is also an attribute (None for a block the reading lacks); writing into a view writes the weights."""
        flat = self.weights if flat is None else flat
        return {name: flat[self._slice(name)].view(shape) for name, (_, shape) in self._layout.items()}

    def _assemble(self, get: Callable[[str], torch.Tensor], like: torch.Tensor, fill: float = 0.0
                  ) -> tuple[torch.Tensor, ...]:
        """The five matrices of :meth:`_matrices` from the blocks ``get(name)``, absent blocks ``fill``."""
        r = self.reading
        n_in, n_c, n_g, n_h = r.n_inputs, r.n_cells, r.n_gates, r.n_hidden
        units = n_g + n_c

        def blk(name: str, rows: int, cols: int) -> torch.Tensor:
            return get(name).reshape(rows, cols) if name in self._layout else like.new_full((rows, cols), fill)

        w_in = torch.cat([blk("lstm_w_inputs", n_in, units), blk("hidden_w_inputs", n_in, n_h),
                          blk("output_w_inputs", n_in, 1)], dim=1)
        bias = torch.cat([blk("gate_bias", 1, n_g), blk("cell_bias", 1, n_c), blk("hidden_bias", 1, n_h),
                          blk("output_bias", 1, 1)], dim=1).reshape(-1)
        zeros = functools.partial(like.new_full, fill_value=fill)
        w_prev = torch.cat([
            torch.cat([blk("lstm_w_cells", n_c, units), zeros((n_c, n_h + 1))], dim=1),
            torch.cat([blk("lstm_w_gates", n_g, units), zeros((n_g, n_h + 1))], dim=1),
            torch.cat([blk("lstm_w_hidden", n_h, units), blk("hidden_w_hidden", n_h, n_h), zeros((n_h, 1))], dim=1),
            torch.cat([blk("lstm_w_output", 1, units), blk("hidden_w_output", 1, n_h), blk("output_w_output", 1, 1)],
                      dim=1)])
        w_now = torch.cat([torch.cat([blk("hidden_w_cells", n_c, n_h), blk("output_w_cells", n_c, 1)], dim=1),
                           torch.cat([blk("hidden_w_gates", n_g, n_h), blk("output_w_gates", n_g, 1)], dim=1)])
        return w_in, bias, w_prev, w_now, blk("output_w_hidden", n_h, 1)

    def _matrices(self, like: torch.Tensor, tanh_form: bool = False) -> tuple[torch.Tensor, ...]:
        """The weights as five matrices (absent sources as zeros), columns ``[LSTM units | hidden | output]``.

        ``w_in [n_in, C]`` and ``bias [C]``: this step's inputs; ``w_prev [P, C]``: the previous step's
        ``[y_c, gates, hidden, output]`` (P = C); ``w_now [n_c + n_g, n_h + 1]``: this step's ``[y_c, gates]``
        to hidden and output; ``w_out [n_h, 1]``: hidden to output. LSTM units: gates, then cell inputs.
        One gather from the flat weights (its gradient: one scatter); ``tanh_form`` halves the cell-input
        columns of the first three (see :meth:`_fused`).
        """
        flat = torch.cat([self.weights, self.weights.new_zeros(1)]).to(like.dtype)[self._gather]
        if tanh_form:
            flat = flat * self._tanh_scale.to(like.dtype)
        return tuple(m.view(shape) for m, shape in
                     zip(flat.split([math.prod(shape) for shape in self._matrix_shapes]), self._matrix_shapes))

    def _run(self, inputs: torch.Tensor, initial_cells: torch.Tensor | None, record: bool
             ) -> tuple[torch.Tensor, dict[str, list[torch.Tensor]]]:
        """The reference: the network step by step in PyTorch, differentiated by autograd."""
        r = self.reading
        if inputs.dim() != 3 or inputs.shape[-1] != r.n_inputs:
            raise ValueError(f"inputs must be [B, T, {r.n_inputs}], got {tuple(inputs.shape)}")
        n_c, n_g, n_h, n_b = r.n_cells, r.n_gates, r.n_hidden, r.n_blocks
        units = n_g + n_c
        batch, steps, _ = inputs.shape
        w_in, bias, w_prev, w_now, w_out = self._matrices(inputs)
        # Columns of every per-step pre-activation: [LSTM units | hidden | output].
        # Drive from the inputs and biases, for all T steps at once.
        drive = (inputs @ w_in + bias).unbind(1)  # T x [B, units + n_h + 1]; unbind: one gradient stack
        # Per step: one fused matmul from the previous [y_c, gates, hidden, output] to all columns; then the
        # current [y_c, gates] -> [hidden | output]; then hidden -> output.
        cells = inputs.new_zeros(batch, n_c) if initial_cells is None else initial_cells.to(inputs)
        prev = inputs.new_zeros(batch, n_c + n_g + n_h + 1)
        outputs: list[torch.Tensor] = []
        rec: dict[str, list[torch.Tensor]] = {"cells": [], "cell_outputs": [], "gates": [], "hidden": []}
        for t in range(steps):
            pre = torch.addmm(drive[t], prev, w_prev)
            gates = torch.sigmoid(pre[:, :n_g])
            in_gate, out_gate = gates[:, :n_b], gates[:, n_b:]
            if r.cells_per_block > 1:  # a block's gates act on all its cells
                in_gate, out_gate = in_gate[:, self.block_of_cell], out_gate[:, self.block_of_cell]
            cells = cells + in_gate * squash_cell_input(pre[:, n_g:units])
            y_c = out_gate * squash_cell_output(cells)
            lstm_now = torch.cat([y_c, gates], dim=1)
            rest = torch.addmm(pre[:, units:], lstm_now, w_now)
            hidden = torch.sigmoid(rest[:, :n_h])
            output = torch.sigmoid(torch.addmm(rest[:, n_h:], hidden, w_out))
            prev = torch.cat([lstm_now, hidden, output], dim=1)
            outputs.append(output)
            if record:
                for key, value in (("cells", cells), ("cell_outputs", y_c), ("gates", gates), ("hidden", hidden)):
                    rec[key].append(value)
        return torch.stack(outputs, dim=1), rec



def _block_property(name: str) -> property:
    def get(self: PaperQuadraticNet) -> torch.Tensor | None:
        return self.weights[self._slice(name)].view(self._layout[name][1]) if name in self._layout else None
    return property(get, doc=f"The ``{name}`` block of ``weights`` (a view), or None if the reading lacks it.")


for _name in WEIGHT_BLOCKS:
    setattr(PaperQuadraticNet, _name, _block_property(_name))

def time_forward_backward(reading: Reading = PAPER_READING, batch: int = 16, steps: int = 1000,
                          repeats: int = 3, backend: str = "auto") -> float:
    """Best-of-``repeats`` seconds for one forward + backward of ``[batch, steps, 3]`` (current threads)."""
    model = PaperQuadraticNet(reading, backend=backend)
    inputs = torch.rand(batch, steps, reading.n_inputs)
    best = float("inf")
    for _ in range(repeats):
        model.zero_grad()
        start = time.perf_counter()
        model(inputs).square().mean().backward()
        best = min(best, time.perf_counter() - start)
    return best

