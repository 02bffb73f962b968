"""Many seeds as one computation: S independent networks packed block-diagonally into one LSTM.

Every headline number of the book needs several seeds, and a 6-unit LSTM leaves the CPU idle between
tiny matrix products. Packing S networks into one ``nn.LSTM`` of ``S * H`` units whose weight matrices
are block-diagonal (seed s only sees its own inputs and its own units) runs S seeds for little more
than the price of one. It changes nothing in the mathematics:

* the off-block weights start at zero and their gradients are masked to zero, so they stay zero;
* the loss is the *sum* over seeds of each seed's mean squared error, so each block's gradient is the
  gradient that seed would get alone;
* Adam works element by element, so its moments of a block are those of that seed alone;
* gradient clipping is done per seed (each block's own norm), as :func:`torch.nn.utils.clip_grad_norm_`
  would do on that seed alone;
* each seed draws its own training and evaluation data from the generators a lone run would use.

So a packed seed equals the same seed trained alone up to float rounding (matrix products of another
size sum in another order). Packing is deterministic for a given pack size, which is why the cache
folder of a packed seed names its pack size.
"""

from __future__ import annotations

from typing import Any, Iterator

import torch
from torch import nn

from .model import GATE_ROWS, MetaLSTM, decode_outputs, encode_inputs, gate_rows

_BLOCK_PARAMETERS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


class PackedMetaLSTM(nn.Module):
    """S :class:`~l2l_lib.model.MetaLSTM` of one architecture as one block-diagonal network.

    ``forward(inputs [B, T, S, n_inputs]) -> predictions [B, T, S, 1]``: seed s reads ``inputs[:, :, s]``.
    """

    def __init__(self, models: list[MetaLSTM]) -> None:
        super().__init__()
        if not models:
            raise ValueError("models must be a non-empty list of MetaLSTM")
        first = models[0]
        for m in models:
            if ((m.hidden_sizes, m.forget_gate, m.output, m.n_inputs, m.target_moments)
                    != (first.hidden_sizes, first.forget_gate, first.output, first.n_inputs, first.target_moments)):
                raise ValueError("models must share hidden_sizes, forget_gate, output, n_inputs and target_moments")
        self.n_seeds = n = len(models)
        self.hidden_sizes, self.forget_gate = first.hidden_sizes, first.forget_gate
        self.output, self.n_inputs, self.target_moments = first.output, first.n_inputs, first.target_moments
        sizes = (first.n_inputs, *first.hidden_sizes)
        self.layers = nn.ModuleList(nn.LSTM(n * sizes[k], n * sizes[k + 1], batch_first=True)
                                    for k in range(len(first.hidden_sizes)))
        self.readout_weight = nn.Parameter(torch.stack([m.readout.weight.detach()[0] for m in models]))  # [S, H]
        self.readout_bias = nn.Parameter(torch.stack([m.readout.bias.detach()[0] for m in models]))  # [S]
        # _owners[name]: which seed owns each entry of a packed parameter (-1: off-block, always zero).
        self._owners: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            for k, packed in enumerate(self.layers):
                owners = {name: torch.full_like(getattr(packed, name), -1, dtype=torch.long)
                          for name in _BLOCK_PARAMETERS}
                for name in owners:
                    getattr(packed, name).zero_()
                for s, model in enumerate(models):
                    for name, gate, packed_index, single_index in self._blocks(k, s):
                        getattr(packed, name)[packed_index] = getattr(model.layers[k], name)[single_index]
                        if gate != "f" or self.forget_gate:  # a pinned forget gate is owned by nobody
                            owners[name][packed_index] = s
                for name, owner in owners.items():
                    self._owners[f"layers.{k}.{name}"] = owner
                    getattr(packed, name).register_hook(
                        lambda grad, m=(owner >= 0): grad * m.to(grad.device, grad.dtype))
        self._owners["readout_weight"] = torch.arange(n)[:, None].expand(n, sizes[-1]).clone()
        self._owners["readout_bias"] = torch.arange(n)

    def _blocks(self, layer: int, seed: int) -> Iterator[tuple[str, str, Any, Any]]:
        """Where seed ``seed``'s weights of layer ``layer`` sit: ``(parameter, gate, packed index, single index)``
        for each block; the one map that packing and unpacking both read."""
        sizes = (self.n_inputs, *self.hidden_sizes)
        n_in, n_hidden = sizes[layer], sizes[layer + 1]
        cols_in = slice(seed * n_in, (seed + 1) * n_in)
        cols_h = slice(seed * n_hidden, (seed + 1) * n_hidden)
        for gate in GATE_ROWS:
            packed_rows = gate_rows(gate, n_hidden, self.n_seeds, seed)
            single_rows = gate_rows(gate, n_hidden)
            yield "weight_ih_l0", gate, (packed_rows, cols_in), single_rows
            yield "weight_hh_l0", gate, (packed_rows, cols_h), single_rows
            yield "bias_ih_l0", gate, packed_rows, single_rows
            yield "bias_hh_l0", gate, packed_rows, single_rows

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        batch, steps, n_seeds, n_in = inputs.shape
        h = encode_inputs(inputs, self.target_moments).reshape(batch, steps, n_seeds * n_in)
        for layer in self.layers:
            h, _ = layer(h)
        h = h.reshape(batch, steps, n_seeds, -1)
        z = torch.einsum("btsh,sh->bts", h, self.readout_weight) + self.readout_bias
        return decode_outputs(z, self.output, self.target_moments).unsqueeze(-1)

    def owners(self) -> dict[str, torch.Tensor]:
        """Parameter name -> int64 tensor of its shape: the seed owning each entry (-1: structural zero)."""
        return self._owners

    @torch.no_grad()
    def clip_grad_norm_per_seed(self, max_norm: float) -> torch.Tensor:
        """Clip each seed's gradient to global norm ``max_norm``; returns the ``[S]`` norms before clipping."""
        params = dict(self.named_parameters())
        squares = torch.zeros(self.n_seeds, dtype=torch.float64)
        for name, owner in self._owners.items():
            grad = params[name].grad
            if grad is not None:
                mask = owner >= 0
                squares.index_add_(0, owner[mask], grad.detach().cpu()[mask].double() ** 2)
        norms = squares.sqrt()
        # the same coefficient as torch.nn.utils.clip_grad_norm_: max_norm / (norm + 1e-6), capped at 1
        coef = (max_norm / (norms + 1e-6)).clamp(max=1.0).to(torch.float32)
        for name, owner in self._owners.items():
            grad = params[name].grad
            if grad is not None:
                grad.mul_(torch.where(owner >= 0, coef[owner.clamp(min=0)], 1.0).to(grad.device))
        return norms.to(torch.float32)

    @torch.no_grad()
    def unpack(self) -> list[MetaLSTM]:
        """The S networks as separate :class:`~l2l_lib.model.MetaLSTM` (copies of their blocks)."""
        models = []
        for s in range(self.n_seeds):
            model = MetaLSTM(self.hidden_sizes, forget_gate=self.forget_gate, output=self.output,
                             n_inputs=self.n_inputs, target_moments=self.target_moments)
            for k, packed in enumerate(self.layers):
                for name, _, packed_index, single_index in self._blocks(k, s):
                    getattr(model.layers[k], name)[single_index] = getattr(packed, name)[packed_index]
            model.readout.weight[0] = self.readout_weight[s]
            model.readout.bias[0] = self.readout_bias[s]
            models.append(model.eval())
        return models


def __getattr__(name: str) -> Any:
    # Readers' code imported the training functions from here before they moved to l2l_lib.train.
    if name in ("train_packed", "train_seeds", "pack_key", "DEFAULT_PACK_SIZE"):
        import importlib  # (l2l_lib.train the attribute is the function train, not the module)
        return getattr(importlib.import_module(f"{__package__}.train"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
