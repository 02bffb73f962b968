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
:data:`PAPER_READING`, the exact 5373-weight reading.
"""

from __future__ import annotations

import functools
import itertools
import time
from dataclasses import dataclass, field, fields, replace

import torch
from torch import nn

from .validation import check_int

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

    ``forward(inputs [B, T, n_inputs]) -> predictions [B, T, 1]``, as :meth:`l2l_lib.model.MetaLSTM.forward`.
    """

    # Measured with time_forward_backward() on 2026-11-27, 1 CPU thread of a busy 2-core machine, default
    # reading, batch 16 x 1000 steps, forward + backward, best of 5: 0.32 s (all_to_all: 0.37 s). Slicing
    # drive[:, t] instead of unbinding it made the backward pass 5x slower (a full-size gradient per step).

    def __init__(self, reading: Reading = PAPER_READING, init_range: float = INIT_RANGE) -> None:
        super().__init__()
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

        def weight(on: bool, *shape: int) -> nn.Parameter | None:
            return nn.Parameter(torch.empty(*shape).uniform_(-init_range, init_range)) if on else None

        fed = r.output_fed_back
        self.lstm_w_inputs = weight(r.lstm_from_inputs, n_in, units)
        self.lstm_w_cells = weight(r.lstm_from_cells, n_c, units)
        self.lstm_w_gates = weight(r.lstm_from_gates, n_g, units)
        self.lstm_w_hidden = weight(r.lstm_from_hidden, n_h, units)
        self.lstm_w_output = weight(fed, 1, units)
        self.gate_bias = weight(r.gate_bias, n_g)
        self.cell_bias = weight(r.cell_bias, n_c)
        self.hidden_w_inputs = weight(r.hidden_from_inputs, n_in, n_h)
        self.hidden_w_cells = weight(r.hidden_from_cells, n_c, n_h)
        self.hidden_w_gates = weight(r.hidden_from_gates, n_g, n_h)
        self.hidden_w_hidden = weight(r.hidden_recurrent, n_h, n_h)
        self.hidden_w_output = weight(fed, 1, n_h)
        self.hidden_bias = weight(r.hidden_bias, n_h)
        self.output_w_hidden = weight(r.output_from_hidden, n_h, 1)
        self.output_w_inputs = weight(r.output_from_inputs, n_in, 1)
        self.output_w_cells = weight(r.output_from_cells, n_c, 1)
        self.output_w_gates = weight(r.output_from_gates, n_g, 1)
        self.output_w_output = weight(fed, 1, 1)
        self.output_bias = weight(r.output_bias, 1)
        if self.gate_bias is not None:  # output gates of the paper's 6 units start at -1, ..., -6
            with torch.no_grad():
                unit = torch.arange(r.n_blocks) * 6 // r.n_blocks
                self.gate_bias[r.n_blocks:] = -(1.0 + unit.to(self.gate_bias.dtype))
        self.register_buffer("block_of_cell", torch.arange(n_c) // r.cells_per_block, persistent=False)

    def n_trainable_weights(self) -> int:
        """Parameters gradient descent can change; equals ``count_weights(self.reading)``."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Predictions ``[B, T, 1]`` in (0, 1) for ``inputs [B, T, n_inputs]``; states start at zero."""
        return self._run(inputs, None, record=False)[0]

    def trace(self, inputs: torch.Tensor, initial_cells: torch.Tensor | None = None) -> PaperTrace:
        """Run and record every state (for analysis and tests).

        Args:
            inputs: ``[B, T, n_inputs]``.
            initial_cells: cell states before the first step, ``[B, n_cells]``; zeros if None.
        """
        predictions, rec = self._run(inputs, initial_cells, record=True)
        return PaperTrace(predictions=predictions, **{k: torch.stack(v, dim=1) for k, v in rec.items()})

    def _block(self, param: nn.Parameter | None, rows: int, cols: int, like: torch.Tensor) -> torch.Tensor:
        return param if param is not None else like.new_zeros(rows, cols)

    def _run(self, inputs: torch.Tensor, initial_cells: torch.Tensor | None, record: bool
             ) -> tuple[torch.Tensor, dict[str, list[torch.Tensor]]]:
        r = self.reading
        if inputs.dim() != 3 or inputs.shape[-1] != r.n_inputs:
            raise ValueError(f"inputs must be [B, T, {r.n_inputs}], got {tuple(inputs.shape)}")
        n_in, n_c, n_g, n_h, n_b = r.n_inputs, r.n_cells, r.n_gates, r.n_hidden, r.n_blocks
        units = n_g + n_c
        batch, steps, _ = inputs.shape
        z = inputs.new_zeros(())
        blk = functools.partial(self._block, like=z)
        # Columns of every per-step pre-activation: [LSTM units | hidden | output].
        # Drive from the inputs and biases, for all T steps at once.
        w_in = torch.cat([blk(self.lstm_w_inputs, n_in, units), blk(self.hidden_w_inputs, n_in, n_h),
                          blk(self.output_w_inputs, n_in, 1)], dim=1)
        bias = torch.cat([blk(self.gate_bias, 1, n_g).reshape(-1), blk(self.cell_bias, 1, n_c).reshape(-1),
                          blk(self.hidden_bias, 1, n_h).reshape(-1), blk(self.output_bias, 1, 1).reshape(-1)])
        drive = (inputs @ w_in + bias).unbind(1)  # T x [B, units + n_h + 1]; unbind: one gradient stack
        # The step's one fused matmul: previous [y_c, gates, hidden, output] -> all columns.
        w_prev = torch.cat([
            torch.cat([blk(self.lstm_w_cells, n_c, units), z.new_zeros(n_c, n_h + 1)], dim=1),
            torch.cat([blk(self.lstm_w_gates, n_g, units), z.new_zeros(n_g, n_h + 1)], dim=1),
            torch.cat([blk(self.lstm_w_hidden, n_h, units), blk(self.hidden_w_hidden, n_h, n_h),
                       z.new_zeros(n_h, 1)], dim=1),
            torch.cat([blk(self.lstm_w_output, 1, units), blk(self.hidden_w_output, 1, n_h),
                       blk(self.output_w_output, 1, 1)], dim=1)])
        # Within the step: current [y_c, gates] -> [hidden | output], then hidden -> output.
        w_now = torch.cat([torch.cat([blk(self.hidden_w_cells, n_c, n_h), blk(self.output_w_cells, n_c, 1)], dim=1),
                           torch.cat([blk(self.hidden_w_gates, n_g, n_h), blk(self.output_w_gates, n_g, 1)], dim=1)])
        w_out = blk(self.output_w_hidden, n_h, 1)

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


def time_forward_backward(reading: Reading = PAPER_READING, batch: int = 16, steps: int = 1000,
                          repeats: int = 3) -> float:
    """Best-of-``repeats`` seconds for one forward + backward of ``[batch, steps, 3]`` (current threads)."""
    model = PaperQuadraticNet(reading)
    inputs = torch.rand(batch, steps, reading.n_inputs)
    best = float("inf")
    for _ in range(repeats):
        model.zero_grad()
        start = time.perf_counter()
        model(inputs).square().mean().backward()
        best = min(best, time.perf_counter() - start)
    return best

