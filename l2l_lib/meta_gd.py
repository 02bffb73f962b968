"""The meta-learned gradient learner: online gradient descent whose start and step sizes are learnt.

MAML (Finn et al. 2017) meta-learns the initial weights of a network that then learns each new task by
gradient descent; Meta-SGD (Li et al. 2017) learns a step size per weight as well. Here the learner is
the book's online gradient descent (:func:`l2l_lib.baselines.online_gd_predictions`): a fresh
``(x1, x2) -> tanh hidden -> sigmoid`` network per stream that predicts ``y_t`` and then takes one gradient
step on ``0.5 * (y_t - prediction)**2``. Its initial weights and its per-weight step sizes are
meta-parameters, trained like the LSTM's weights (Hochreiter et al. 2001, Sec. 3): gradient descent on the
squared error of every prediction along whole streams, so the meta-gradient flows through every inner
step (second-order MAML, not its first-order approximation or Reptile).

:class:`MetaSGD` is an ``nn.Module`` reading the LSTM's stream ``(x1_t, x2_t, y_{t-1})``: the fed-back
target of step t+1 is the example ``y_t`` the inner learner steps on, so the library's training loop,
store and evaluation serve it unchanged.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .validation import check, is_int, is_number

# Every step size starts here: the order of online gradient descent's tuned step sizes (1 to 3.16 for the four
# families in the learners chapter); meta-training then moves each one.
INITIAL_RATE = 1.0


def mlp_answer(x_t: torch.Tensor, w_hidden: torch.Tensor, b_hidden: torch.Tensor, w_out: torch.Tensor,
               b_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each stream's 2-H-1 network on its input ``x_t [B, 2]``: ``(hidden [B, H], prediction [B])``.

    Weights per stream: ``w_hidden [B, 2, H]``, ``b_hidden [B, H]``, ``w_out [B, H]``, ``b_out [B]``.
    """
    hidden = torch.tanh(torch.einsum("bi,bih->bh", x_t, w_hidden) + b_hidden)
    return hidden, torch.sigmoid((hidden * w_out).sum(-1) + b_out)


def mlp_gradients(x_t: torch.Tensor, hidden: torch.Tensor, prediction: torch.Tensor, target: torch.Tensor,
                  w_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of ``0.5 * (target - prediction)**2`` for :func:`mlp_answer`'s weights, written out
    (backpropagation through the sigmoid and the tanh); the same order and shapes as the weights."""
    delta_out = (prediction - target) * prediction * (1.0 - prediction)  # [B]
    delta_hidden = delta_out[:, None] * w_out * (1.0 - hidden * hidden)  # [B, H]
    return x_t[:, :, None] * delta_hidden[:, None, :], delta_hidden, delta_out[:, None] * hidden, delta_out


class MetaSGD(nn.Module):
    """Online gradient descent on a 2-H-1 network with meta-learnt initial weights and step sizes.

    Args:
        hidden_size: hidden units H of the inner network (20, as the book's online GD).
        initial_rate: every step size before meta-training, > 0.
        learn_rates: True (Meta-SGD): one learnt step size per weight; False (MAML): the step sizes stay
            ``initial_rate`` and only the initial weights are learnt.

    Meta-parameters: ``w_hidden [2, H]``, ``b_hidden [H]``, ``w_out [H]``, ``b_out []`` (initialised like
    ``torch.nn.Linear``), and with ``learn_rates`` the log step sizes of each, ``log_rate_<name>``.

    ``forward(inputs [B, T, 3]) -> predictions [B, T, 1]``: every stream starts from the learnt weights;
    at step t the network predicts ``y_t`` from ``x_t``, then steps on the example ``(x_t, y_t)``, whose target
    it reads as ``inputs[:, t + 1, 2]``.
    """

    WEIGHTS = ("w_hidden", "b_hidden", "w_out", "b_out")

    def __init__(self, hidden_size: int = 20, initial_rate: float = INITIAL_RATE, learn_rates: bool = True) -> None:
        super().__init__()
        check(is_int(hidden_size) and hidden_size >= 1, "hidden_size", "an integer >= 1", hidden_size)
        check(is_number(initial_rate) and initial_rate > 0, "initial_rate", "a number > 0", initial_rate)
        self.hidden_size, self.learn_rates = hidden_size, bool(learn_rates)
        shapes = {"w_hidden": (2, hidden_size), "b_hidden": (hidden_size,), "w_out": (hidden_size,), "b_out": ()}
        fan_in = {"w_hidden": 2, "b_hidden": 2, "w_out": hidden_size, "b_out": hidden_size}
        for name in self.WEIGHTS:
            bound = 1.0 / math.sqrt(fan_in[name])
            self.register_parameter(name, nn.Parameter((2.0 * torch.rand(shapes[name]) - 1.0) * bound))
            log_rate = torch.full(shapes[name], math.log(initial_rate))
            if self.learn_rates:
                self.register_parameter(f"log_rate_{name}", nn.Parameter(log_rate))
            else:
                self.register_buffer(f"log_rate_{name}", log_rate)

    def initial_weights(self, n_streams: int) -> list[torch.Tensor]:
        """The learnt initial weights, one copy per stream (``[B, ...]`` each, differentiable)."""
        return [getattr(self, name).expand(n_streams, *getattr(self, name).shape) for name in self.WEIGHTS]

    def rates(self) -> list[torch.Tensor]:
        """The step size of every weight, in :attr:`WEIGHTS` order."""
        return [getattr(self, f"log_rate_{name}").exp() for name in self.WEIGHTS]

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        batch, steps, _ = inputs.shape
        weights, rates = self.initial_weights(batch), self.rates()
        x, fed_back = inputs[..., :2], inputs[..., 2]
        predictions = []
        for t in range(steps):
            hidden, prediction = mlp_answer(x[:, t], *weights)
            predictions.append(prediction)
            if t + 1 < steps:
                grads = mlp_gradients(x[:, t], hidden, prediction, fed_back[:, t + 1], weights[2])
                weights = [w - rate * g for w, rate, g in zip(weights, rates, grads)]
        return torch.stack(predictions, dim=1).unsqueeze(-1)

    def n_trainable_weights(self) -> int:
        """Meta-parameters: the initial weights and, with learnt step sizes, one step size per weight."""
        return sum(p.numel() for p in self.parameters())
