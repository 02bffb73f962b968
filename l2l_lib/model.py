"""The meta-learner: stacked LSTM layers and a linear read-out.

Hochreiter, Younger & Conwell (2001), Sec. 2-3: a fixed-weight LSTM reads ``(x1_t, x2_t, y_{t-1})``
and predicts ``y_t``; everything it learns about the current function lives in its cell states.

Two cells:

* ``forget_gate=True``: the modern LSTM (Gers et al. 2000), ``c_t = f*c_{t-1} + i*g``, run by
  ``nn.LSTM`` (fast fused kernels).
* ``forget_gate=False``: the LSTM of 1997 used by the 2001 paper, ``c_t = c_{t-1} + i*g``. It runs on the
  same ``nn.LSTM`` kernels with the forget gate pinned open: its weights are zero and its bias is
  :data:`FORGET_PIN`, where the float32 sigmoid is exactly 1, so ``c_t = 1*c_{t-1} + i*g`` holds to the bit
  and the gate's gradients are exactly 0 (a gradient hook zeroes them as well, so no optimiser can move
  them). :func:`lstm_step` is the same cell written out, used by :meth:`MetaLSTM.trace` and the tests.

Differences from 2001 worth knowing: we squash cell input and cell output with ``tanh`` (the 1997 LSTM
used sigmoids scaled to [-2, 2] and [-1, 1]), and each memory block has one cell (the paper's quadratic
network had blocks of two cells sharing gates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from .validation import check, check_choice, is_int

OUTPUTS: tuple[str, ...] = ("sigmoid", "linear")
FORGET_PIN = 30.0  # float32 sigmoid(30) == 1.0 exactly, and its derivative is exactly 0
GATE_ROWS: tuple[str, ...] = ("i", "j", "f", "o")  # the report's layout; j is the cell input (torch's g)
_TORCH_GATE_ORDER = {"i": 0, "f": 1, "j": 2, "o": 3}  # nn.LSTM stacks its rows as i, f, g, o

Intervention = Callable[[int, int, torch.Tensor], torch.Tensor]


class MetaLSTM(nn.Module):
    """Stacked LSTM layers followed by a linear read-out of the last layer's hidden state.

    Args:
        hidden_sizes: units per LSTM layer, e.g. ``(6,)`` (Boolean, semi-linear) or ``(6, 40)``.
        forget_gate: True for the modern LSTM, False for the original 1997/2001 cell.
        output: ``"sigmoid"`` (predictions in (0, 1), as targets of every family are) or ``"linear"``.
        n_inputs: input features per step; 3 for ``(x1, x2, y_prev)``.
        target_moments: ``(mean, sd)`` of the targets, or None. With them the network works in standardised
            target units: it reads ``(y_prev - mean) / sd`` and predicts ``mean + sd * readout(h)`` (needs
            ``output="linear"``). The task is unchanged: inputs and predictions stay in the targets' units.
            Why: under the quadratic's fixed map targets vary by about 0.04 around 0.5, so the raw fed-back
            target is a faint signal and training sits long on the running-mean plateau.

    ``forward(inputs [B, T, n_inputs]) -> predictions [B, T, 1]`` in the targets' units.
    """

    def __init__(self, hidden_sizes: tuple[int, ...] = (6,), forget_gate: bool = True, output: str = "sigmoid",
                 n_inputs: int = 3, target_moments: tuple[float, float] | None = None) -> None:
        super().__init__()
        hidden_sizes = tuple(hidden_sizes)
        check(len(hidden_sizes) > 0 and all(is_int(h) and h >= 1 for h in hidden_sizes), "hidden_sizes",
              "a non-empty tuple of integers >= 1", hidden_sizes)
        check_choice("output", output, OUTPUTS)
        check(isinstance(forget_gate, bool), "forget_gate", "True or False", forget_gate)
        check(target_moments is None or (len(target_moments) == 2 and target_moments[1] > 0 and output == "linear"),
              "target_moments", "None, or (mean, sd > 0) with output='linear'", target_moments)
        self.target_moments = None if target_moments is None else tuple(float(v) for v in target_moments)
        self.hidden_sizes = hidden_sizes
        self.forget_gate = forget_gate
        self.output = output
        self.n_inputs = n_inputs
        sizes = (n_inputs, *hidden_sizes)
        self.layers = nn.ModuleList(nn.LSTM(sizes[k], sizes[k + 1], batch_first=True)
                                    for k in range(len(hidden_sizes)))
        self.readout = nn.Linear(hidden_sizes[-1], 1)
        if not forget_gate:
            for layer in self.layers:
                _pin_forget_gate(layer)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Predictions ``[B, T, 1]`` for ``inputs [B, T, n_inputs]``; every sequence starts from zero state."""
        h = encode_inputs(inputs, self.target_moments)
        for layer in self.layers:
            h, _ = layer(h)
        return self._read_out(h)

    def _read_out(self, h: torch.Tensor) -> torch.Tensor:
        return decode_outputs(self.readout(h), self.output, self.target_moments)

    def n_trainable_weights(self) -> int:
        """Weights gradient descent can change (pinned forget gates excluded; biases counted once)."""
        total = sum(p.numel() for p in self.readout.parameters())
        gates = 4 if self.forget_gate else 3
        sizes = (self.n_inputs, *self.hidden_sizes)
        for n_in, n_hidden in zip(sizes[:-1], sizes[1:]):
            total += gates * n_hidden * (n_in + n_hidden + 1)  # nn.LSTM's two bias vectors act as one
        return total

    @torch.no_grad()
    def trace(self, inputs: torch.Tensor, intervention: Intervention | None = None) -> "Trace":
        """Run step by step and record every gate and state (for analysis and surgery).

        Args:
            inputs: ``[B, T, n_inputs]``.
            intervention: optional ``f(t, layer, c) -> c`` applied to each layer's new cell state
                ``c [B, H]`` at step t, before the hidden state is computed from it; used to overwrite a
                memory cell and watch what the output does.

        Returns:
            a :class:`Trace`; ``trace.predictions`` equals ``forward(inputs)`` when nothing is overwritten.
        """
        batch, steps, _ = inputs.shape
        inputs = encode_inputs(inputs, self.target_moments)
        states = [(inputs.new_zeros(batch, n), inputs.new_zeros(batch, n)) for n in self.hidden_sizes]
        names = ("h", "c", "i", "f", "j", "o")
        record: dict[str, list[list[torch.Tensor]]] = {k: [[] for _ in self.layers] for k in names}
        outputs = []
        for t in range(steps):
            x = inputs[:, t]
            for k, layer in enumerate(self.layers):
                h, c = states[k]
                gates = lstm_gates(x, h, layer, self.forget_gate)
                c = gates["f"] * c + gates["i"] * gates["j"]
                if intervention is not None:
                    c = intervention(t, k, c)
                h = gates["o"] * torch.tanh(c)
                states[k] = (h, c)
                for name, value in (("h", h), ("c", c), *gates.items()):
                    record[name][k].append(value)
                x = h
            outputs.append(x)
        predictions = self._read_out(torch.stack(outputs, dim=1))
        stacked = {name: [torch.stack(steps_, dim=1) for steps_ in per_layer] for name, per_layer in record.items()}
        return Trace(predictions=predictions, **stacked)


@dataclass(frozen=True)
class Trace:
    """Everything a :class:`MetaLSTM` computed along a batch of sequences.

    Each field but ``predictions`` is a list with one ``[B, T, H_layer]`` tensor per layer: hidden state
    ``h``, cell state ``c``, and gate activations ``i`` (input), ``f`` (forget; all ones without a forget
    gate), ``j`` (cell input, torch's g) and ``o`` (output). ``predictions`` is ``[B, T, 1]``.
    """

    predictions: torch.Tensor
    h: list[torch.Tensor]
    c: list[torch.Tensor]
    i: list[torch.Tensor]
    f: list[torch.Tensor]
    j: list[torch.Tensor]
    o: list[torch.Tensor]


def encode_inputs(inputs: torch.Tensor, target_moments: tuple[float, float] | None) -> torch.Tensor:
    """``inputs [..., n_inputs]`` with the fed-back target (the last feature) standardised by
    ``target_moments = (mean, sd)``; unchanged when ``target_moments`` is None."""
    if target_moments is None:
        return inputs
    mean, sd = target_moments
    return torch.cat([inputs[..., :-1], (inputs[..., -1:] - mean) / sd], dim=-1)


def decode_outputs(z: torch.Tensor, output: str, target_moments: tuple[float, float] | None) -> torch.Tensor:
    """Predictions in the targets' units from read-out values ``z``: ``sigmoid(z)``, ``z``, or, with
    ``target_moments = (mean, sd)``, ``mean + sd * z``."""
    if target_moments is not None:
        mean, sd = target_moments
        return mean + sd * z
    return torch.sigmoid(z) if output == "sigmoid" else z


def gate_rows(gate: str, n_hidden: int, n_blocks: int = 1, block: int = 0) -> slice:
    """The rows of gate ``gate`` (``"i"``, ``"f"``, ``"j"``, ``"o"``) that belong to ``block`` in an ``nn.LSTM``
    layer of ``n_blocks`` blocks of ``n_hidden`` units (``nn.LSTM`` stacks its rows gate by gate: i, f, g, o,
    each over all units; one network is one block)."""
    start = _TORCH_GATE_ORDER[gate] * n_blocks * n_hidden + block * n_hidden
    return slice(start, start + n_hidden)


def _gate_slice(layer: nn.LSTM, gate: str) -> slice:
    return gate_rows(gate, layer.hidden_size)


def _pin_forget_gate(layer: nn.LSTM) -> None:
    rows = _gate_slice(layer, "f")
    with torch.no_grad():
        layer.weight_ih_l0[rows] = 0.0
        layer.weight_hh_l0[rows] = 0.0
        layer.bias_ih_l0[rows] = FORGET_PIN
        layer.bias_hh_l0[rows] = 0.0
    mask = torch.ones(4 * layer.hidden_size, 1)
    mask[rows] = 0.0
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        param = getattr(layer, name)
        row_mask = mask if param.dim() == 2 else mask[:, 0]
        param.register_hook(lambda grad, m=row_mask: grad * m.to(grad.device, grad.dtype))


def lstm_gates(x: torch.Tensor, h: torch.Tensor, layer: nn.LSTM, forget_gate: bool) -> dict[str, torch.Tensor]:
    """Gate activations of one LSTM step, written out (the reference for ``nn.LSTM``).

    Args:
        x: input ``[B, n_in]``; h: previous hidden state ``[B, H]``; layer: the ``nn.LSTM`` holding the
        weights; forget_gate: False gives the 1997 cell, whose forget gate is the constant 1.

    Returns:
        ``{"i", "f", "j", "o"}``, each ``[B, H]``: sigmoid input, forget and output gates, tanh cell input.
    """
    z = x @ layer.weight_ih_l0.T + layer.bias_ih_l0 + h @ layer.weight_hh_l0.T + layer.bias_hh_l0
    part = {g: z[:, _gate_slice(layer, g)] for g in _TORCH_GATE_ORDER}
    return {
        "i": torch.sigmoid(part["i"]),
        "f": torch.sigmoid(part["f"]) if forget_gate else torch.ones_like(part["f"]),
        "j": torch.tanh(part["j"]),
        "o": torch.sigmoid(part["o"]),
    }


def lstm_step(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, layer: nn.LSTM, forget_gate: bool
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step: ``c' = f*c + i*j`` (``f = 1`` without a forget gate), ``h' = o*tanh(c')``.

    Shapes: ``x [B, n_in]``, ``h, c [B, H]``; returns ``(h', c')``.
    """
    gates = lstm_gates(x, h, layer, forget_gate)
    c = gates["f"] * c + gates["i"] * gates["j"]
    return gates["o"] * torch.tanh(c), c


@dataclass(frozen=True)
class GateTable:
    """Gate weights of one layer in the student report's layout.

    ``weights[u]`` is unit u's table, ``[4, n_columns]``: rows :data:`GATE_ROWS` (i, j, f, o), columns
    ``columns`` (the layer's inputs, then the recurrent ``h1..hN``, then the bias). nn.LSTM's two bias
    vectors are summed. Without a forget gate the f row is NaN (the gate does not exist).
    """

    weights: np.ndarray
    rows: tuple[str, ...]
    columns: tuple[str, ...]


def gate_table(model: MetaLSTM, layer: int = 0) -> GateTable:
    """Each unit's gate weights of ``model.layers[layer]`` (for weight heat maps and surgery)."""
    if not 0 <= layer < len(model.layers):
        raise ValueError(f"layer must be in 0..{len(model.layers) - 1}, got {layer!r}")
    lstm = model.layers[layer]
    n_hidden = lstm.hidden_size
    inputs = ("x1", "x2", "y_prev") if layer == 0 else tuple(f"L{layer}.h{u + 1}" for u in range(lstm.input_size))
    columns = (*inputs, *(f"h{u + 1}" for u in range(n_hidden)), "bias")
    w_ih = lstm.weight_ih_l0.detach().cpu().numpy()
    w_hh = lstm.weight_hh_l0.detach().cpu().numpy()
    bias = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().cpu().numpy()
    table = np.empty((n_hidden, 4, len(columns)), dtype=np.float64)
    for r, gate in enumerate(GATE_ROWS):
        rows = _gate_slice(lstm, gate)
        table[:, r] = np.concatenate([w_ih[rows], w_hh[rows], bias[rows, None]], axis=1)
    if not model.forget_gate:
        table[:, GATE_ROWS.index("f")] = np.nan
    return GateTable(weights=table, rows=GATE_ROWS, columns=columns)


def readout_weights(model: MetaLSTM) -> tuple[np.ndarray, float]:
    """The read-out: ``(weights [H_last], bias)``; the prediction is ``output(weights @ h + bias)``."""
    weight = model.readout.weight.detach().cpu().numpy()[0].astype(np.float64)
    return weight, float(model.readout.bias.detach().cpu()[0])
