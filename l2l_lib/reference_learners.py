"""The reference learners of each family, by name: what the meta-learnt LSTM is compared with.

Hochreiter, Younger & Conwell (2001), Sec. 3, measure the LSTM against what a learner could achieve from
the same examples. The book's chapters compare it with the same few learners, so they are listed once
here, per family, the way in-context-learning code keeps one list of baselines per task (Garg et al.
2022): each :class:`ReferenceLearner` has a name, what it is for this family, and a ``predict`` callable
``batch -> predictions [B, T, 1]`` (a learner :func:`l2l_lib.evaluate.predict` accepts).

The gradient-descent learners need a step size; :func:`reference_learners` tunes it per family on
streams of their own (never the test streams), and keeps the scores of every step size tried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

from .baselines import (batch_gd_predictions, constant_predictions, ideal_predictions, knn_predictions,
                        online_gd_predictions, tune_batch_gd, tune_online_gd)
from .tasks import BOOLEAN_FAMILIES, FAMILIES, Batch
from .validation import check, check_choice

IDEAL = "ideal learner"
ONLINE_GD = "online gradient descent"
BATCH_GD = "batch gradient descent"
NEAREST_NEIGHBOURS = "nearest neighbours"
CONSTANT = "constant 0.5"
#: Every reference learner's name, in the order the chapters list them.
REFERENCE_NAMES: tuple[str, ...] = (IDEAL, ONLINE_GD, BATCH_GD, NEAREST_NEIGHBOURS, CONSTANT)

# Nearest neighbours: Boolean inputs repeat exactly, so the last answer to the same pattern is the best
# guess (k = 1); continuous inputs never repeat, so k = 5 neighbours average out the nearest few.
K_BOOLEAN, K_CONTINUOUS = 1, 5
# Seed of the gradient-descent learners' initial weights: the same for tuning and testing, and for the
# online and batch learners (they draw their networks alike).
GD_SEED = 0

_IDEAL_ABOUT = {
    "boolean16": "Bayes-optimal under the family prior (a lookup table of the answers seen)",
    "boolean14": "Bayes-optimal under the family prior (the fourteen functions without XOR and XNOR)",
    "semilinear": "least squares on atanh(2y - 1) against (x1, x2, 1)",
    "quadratic": "least squares on the six monomials",
}


@dataclass(frozen=True)
class ReferenceLearner:
    """One reference learner of one family.

    Attributes:
        name: one of :data:`REFERENCE_NAMES`, the same for every family.
        about: what the learner does for this family.
        predict: ``batch -> float32 [B, T, 1]`` predictions of ``y_t`` from the examples before ``t``.
        learning_rate: the tuned step size (gradient-descent learners; None for the others).
        tuning_scores: step size -> MSE on the tuning streams, every candidate tried (None if untuned).
    """

    name: str
    about: str
    predict: Callable[[Batch], torch.Tensor]
    learning_rate: float | None = None
    tuning_scores: Mapping[float, float] | None = None

    def __call__(self, batch: Batch) -> torch.Tensor:
        return self.predict(batch)


def nearest_neighbours_k(family: str) -> int:
    """The ``k`` of the nearest-neighbour learner for ``family``: 1 for Boolean inputs, 5 for continuous."""
    check_choice("family", family, FAMILIES)
    return K_BOOLEAN if family in BOOLEAN_FAMILIES else K_CONTINUOUS


def _generator() -> torch.Generator:
    # A fresh generator per call: every call of a learner starts from the same initial weights.
    return torch.Generator().manual_seed(GD_SEED)


def _tuned(name: str, tuning: Batch | None, tune: Callable, predictions: Callable) -> ReferenceLearner:
    check(tuning is not None, "tuning", f"a Batch of tuning streams when {name!r} is requested", tuning)
    rate, scores = tune(tuning, seed=GD_SEED)
    return ReferenceLearner(name, "a fresh 2-20-1 network per sequence, trained on its examples",
                            lambda batch: predictions(batch, learning_rate=rate, generator=_generator()),
                            learning_rate=rate, tuning_scores=scores)


def reference_learners(family: str, *, tuning: Batch | None = None,
                       names: Sequence[str] = REFERENCE_NAMES) -> list[ReferenceLearner]:
    """The reference learners of ``family``, in the order of ``names``.

    * ideal learner: :func:`~l2l_lib.baselines.ideal_predictions` (Bayes-optimal for the Boolean families,
      least squares on the right features for the continuous ones);
    * online gradient descent: :func:`~l2l_lib.baselines.online_gd_predictions`, one step per example;
    * batch gradient descent: :func:`~l2l_lib.baselines.batch_gd_predictions`, refitted to all examples;
    * nearest neighbours: :func:`~l2l_lib.baselines.knn_predictions` with :func:`nearest_neighbours_k`;
    * constant 0.5: :func:`~l2l_lib.baselines.constant_predictions`, the family mean.

    Args:
        family: one of :data:`l2l_lib.tasks.FAMILIES`.
        tuning: streams of ``family`` on which the gradient-descent learners' step sizes are chosen
            (:func:`~l2l_lib.baselines.tune_online_gd`, :func:`~l2l_lib.baselines.tune_batch_gd`); needed
            only when ``names`` includes one of them. Never the test streams.
        names: which learners, a subset of :data:`REFERENCE_NAMES` in any order.

    Returns:
        one :class:`ReferenceLearner` per name.

    Raises:
        ValueError: unknown family or name, no ``tuning`` streams for a gradient-descent learner, or
            tuning streams of another family.
    """
    check_choice("family", family, FAMILIES)
    for name in names:
        check_choice("names[...]", name, REFERENCE_NAMES)
    if tuning is not None:
        check(tuning.family == family, "tuning.family", f"the learners' family {family!r}", tuning.family)
    k = nearest_neighbours_k(family)
    makers: dict[str, Callable[[], ReferenceLearner]] = {
        IDEAL: lambda: ReferenceLearner(IDEAL, _IDEAL_ABOUT[family], ideal_predictions),
        ONLINE_GD: lambda: _tuned(ONLINE_GD, tuning, tune_online_gd, online_gd_predictions),
        BATCH_GD: lambda: _tuned(BATCH_GD, tuning, tune_batch_gd, batch_gd_predictions),
        NEAREST_NEIGHBOURS: lambda: ReferenceLearner(NEAREST_NEIGHBOURS, f"the mean of the {k} nearest earlier "
                                                     "examples", lambda batch: knn_predictions(batch, k=k)),
        CONSTANT: lambda: ReferenceLearner(CONSTANT, "the family mean at every step", constant_predictions),
    }
    return [makers[name]() for name in names]
