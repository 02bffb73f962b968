"""A small GPT-style causal transformer that reads the 2001 streams: the in-context learner of today.

Garg et al. (2022) train a transformer on streams of ``(x, f(x))`` pairs and find that it learns new
functions in context, as Hochreiter, Younger & Conwell (2001, Sec. 2-3) found for the LSTM. This network
reads exactly the LSTM's stream, one token per step: ``(x1_t, x2_t, y_{t-1})``, and predicts ``y_t``
through causal self-attention (minGPT's blocks: pre-layer-norm attention and a 4x GELU MLP, residual).

Two choices make it a fair reader of these streams:

* **Token shift.** The pair ``(x_{t-1}, y_{t-1})`` is split across two steps of the stream (the input at
  t-1, the target fed back at t). The embedding of step t reads the inputs of steps t and t-1 (a causal
  convolution of width 2, as RWKV's token shift), so each token holds one whole example and the query
  ``x_t``. The LSTM has to carry ``x_{t-1}`` one step in its state to do the same.
* **Positions.** ``"none"``: no position code. Examples are i.i.d., so attention over past tokens needs no
  order, and the network runs at any length (the chapters test on streams longer than training's).
  ``"learnt"``: a learnt embedding per position up to the training length (GPT's), which cannot run on
  longer streams.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .model import OUTPUTS, decode_outputs, encode_inputs
from .validation import check, check_choice, is_int

POSITIONS: tuple[str, ...] = ("none", "learnt")
MLP_EXPANSION = 4


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where step t attends to steps 0..t only (``[B, T, W] -> [B, T, W]``)."""

    def __init__(self, width: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(width, 3 * width)
        self.project = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, steps, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=-1)
        q, k, v = (z.view(batch, steps, self.n_heads, width // self.n_heads).transpose(1, 2) for z in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.project(out.transpose(1, 2).reshape(batch, steps, width))


class Block(nn.Module):
    """One transformer block: ``x + attention(norm(x))``, then ``x + mlp(norm(x))``."""

    def __init__(self, width: int, n_heads: int) -> None:
        super().__init__()
        self.norm_attention = nn.LayerNorm(width)
        self.attention = CausalSelfAttention(width, n_heads)
        self.norm_mlp = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, MLP_EXPANSION * width), nn.GELU(),
                                 nn.Linear(MLP_EXPANSION * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.norm_attention(x))
        return x + self.mlp(self.norm_mlp(x))


class MetaTransformer(nn.Module):
    """A causal transformer that predicts ``y_t`` from the stream so far (see the module docstring).

    Args:
        width: the residual stream's width (32-64 in the book), divisible by ``n_heads``.
        n_layers: transformer blocks.
        n_heads: attention heads per block.
        positions: ``"none"`` or ``"learnt"`` (then ``max_len`` is the longest stream it can read).
        max_len: with learnt positions, the number of positions; ignored otherwise.
        output: ``"sigmoid"`` or ``"linear"`` read-out, as :class:`~l2l_lib.model.MetaLSTM`.
        n_inputs: features per step; 3 for ``(x1, x2, y_prev)``.
        target_moments: ``(mean, sd)`` to standardise the fed-back target inside the network, as
            :class:`~l2l_lib.model.MetaLSTM` does, or None.

    ``forward(inputs [B, T, n_inputs]) -> predictions [B, T, 1]`` in the targets' units.
    """

    def __init__(self, width: int = 32, n_layers: int = 2, n_heads: int = 4, positions: str = "none",
                 max_len: int | None = None, output: str = "sigmoid", n_inputs: int = 3,
                 target_moments: tuple[float, float] | None = None) -> None:
        super().__init__()
        check(is_int(n_heads) and n_heads >= 1, "n_heads", "an integer >= 1", n_heads)
        check(is_int(width) and width >= 1 and width % n_heads == 0, "width",
              f"an integer >= 1 divisible by n_heads ({n_heads})", width)
        check(is_int(n_layers) and n_layers >= 1, "n_layers", "an integer >= 1", n_layers)
        check_choice("positions", positions, POSITIONS)
        check(positions == "none" or (is_int(max_len) and max_len >= 1), "max_len",
              "an integer >= 1 with learnt positions", max_len)
        check_choice("output", output, OUTPUTS)
        check(target_moments is None or (len(target_moments) == 2 and target_moments[1] > 0 and output == "linear"),
              "target_moments", "None, or (mean, sd > 0) with output='linear'", target_moments)
        self.width, self.n_layers, self.n_heads, self.positions = width, n_layers, n_heads, positions
        self.max_len = max_len if positions == "learnt" else None
        self.output, self.n_inputs = output, n_inputs
        self.target_moments = None if target_moments is None else tuple(float(v) for v in target_moments)
        self.embed = nn.Linear(2 * n_inputs, width)  # the inputs of steps t and t-1 (token shift)
        self.position = nn.Embedding(max_len, width) if positions == "learnt" else None
        self.blocks = nn.ModuleList(Block(width, n_heads) for _ in range(n_layers))
        self.norm = nn.LayerNorm(width)
        self.readout = nn.Linear(width, 1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Predictions ``[B, T, 1]`` for ``inputs [B, T, n_inputs]``; step t sees steps 0..t only."""
        steps = inputs.shape[1]
        if self.max_len is not None and steps > self.max_len:
            raise ValueError(f"inputs has {steps} steps; this network's learnt positions cover at most "
                             f"{self.max_len} (train with positions='none' to read longer streams)")
        current = encode_inputs(inputs, self.target_moments)
        previous = F.pad(current, (0, 0, 1, 0))[:, :-1]  # step -1 reads as zeros
        tokens = self.embed(torch.cat([current, previous], dim=-1))
        if self.position is not None:
            tokens = tokens + self.position(torch.arange(steps, device=inputs.device))
        for block in self.blocks:
            tokens = block(tokens)
        return decode_outputs(self.readout(self.norm(tokens)), self.output, self.target_moments)

    def n_trainable_weights(self) -> int:
        """Every weight and bias gradient descent can change."""
        return sum(p.numel() for p in self.parameters())
