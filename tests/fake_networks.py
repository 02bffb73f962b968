"""Stand-ins for trained networks whose predictions are known in advance, for the experiments' tests."""

from __future__ import annotations

import torch
from torch import nn


class Constant(nn.Module):
    """A "network" that answers ``value`` at every step."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value
        self.unused = nn.Parameter(torch.zeros(()))  # predict() looks for the device of a parameter

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.full((*inputs.shape[:2], 1), self.value)


class PreviousTarget(Constant):
    """A "network" that answers the previous target, ``y_{t-1}`` (0 at t = 0): it is in its inputs."""

    def __init__(self) -> None:
        super().__init__(0.0)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs[..., 2:3].clone()
