"""The reference learners of each family, by name: what the meta-learnt LSTM is compared with.

Hochreiter, Younger & Conwell (2001), Sec. 3, measure the LSTM against what a learner could achieve from
the same examples. The book's chapters compare it with the same few learners, so they are listed once
here, per family, the way in-context-learning code keeps one list of baselines per task (Garg et al.
2022): each :class:`ReferenceLearner` has a name, what it is for this family, and a ``predict`` callable
``batch -> predictions [B, T, 1]`` (a learner :func:`l2l_lib.evaluate.predict` accepts).

The gradient-descent learners need a step size and a width; :func:`reference_learners` tunes both per
family on streams of their own (never the test streams, but as long as them), and keeps the scores of
every candidate tried. Each family lists its relevant learners (:data:`FAMILY_REFERENCE_NAMES`): the
continuous families add the learners of :mod:`l2l_lib.continuous_learners`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

from .baselines import (GDTuning, batch_gd_predictions, constant_predictions, ideal_predictions, knn_predictions,
                        online_gd_predictions, search_batch_gd, search_online_gd)
from .continuous_learners import (linear_least_squares_predictions, moment_matched_predictions,
                                  running_mean_predictions)
from .tasks import BOOLEAN_FAMILIES, DEFAULT_QUADRATIC_MAP, FAMILIES, QUADRATIC_MAPS, Batch
from .validation import check, check_choice

IDEAL = "ideal learner"
ONLINE_GD = "online gradient descent"
BATCH_GD = "batch gradient descent"
NEAREST_NEIGHBOURS = "nearest neighbours"
CONSTANT = "constant 0.5"
#: The reference learners of every family, in the order the chapters list them.
REFERENCE_NAMES: tuple[str, ...] = (IDEAL, ONLINE_GD, BATCH_GD, NEAREST_NEIGHBOURS, CONSTANT)
# The continuous families' own learners (Hochreiter et al., 2001, Sec. 3, test on semi-linear and
# quadratic functions; these are the learners that could beat the LSTM there, and the floor before
# least squares becomes exact).
LEAST_SQUARES_ON_Y = "online least squares on y"
RUNNING_MEAN = "running mean"
LINEAR_RIDGE = "online linear ridge"
MOMENT_MATCHED = "moment-matched linear"
#: Family -> the names of its relevant reference learners, in the order the chapters list them (like the
#: in-context-learning code's ``get_relevant_baselines(task)``).
FAMILY_REFERENCE_NAMES: dict[str, tuple[str, ...]] = {
    "boolean14": REFERENCE_NAMES,
    "boolean16": REFERENCE_NAMES,
    "semilinear": (IDEAL, MOMENT_MATCHED, LEAST_SQUARES_ON_Y, ONLINE_GD, BATCH_GD, NEAREST_NEIGHBOURS, CONSTANT),
    "quadratic": (IDEAL, MOMENT_MATCHED, LINEAR_RIDGE, RUNNING_MEAN, ONLINE_GD, BATCH_GD, NEAREST_NEIGHBOURS,
                  CONSTANT),
}
#: Every reference learner's name, of any family.
ALL_REFERENCE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(n for names in FAMILY_REFERENCE_NAMES.values()
                                                           for n in names))

# Nearest neighbours: Boolean inputs repeat exactly, so the last answer to the same pattern is the best
# guess (k = 1); continuous inputs never repeat, so k = 5 neighbours average out the nearest few.
K_BOOLEAN, K_CONTINUOUS = 1, 5
# Seed of the gradient-descent learners' initial weights: the same for tuning and testing, and for the
# online and batch learners (they draw their networks alike).
GD_SEED = 0
# The ridge of the online linear regressions (least squares on y, linear ridge): the exactly determined
# fit through 3 examples extrapolates wildly from near-collinear inputs (semi-linear MSE 1.2 over T = 1000
# at ridge 1e-12). On 256 streams of T = 1000 (seeds 101, 102: not evaluation seeds) the semi-linear MSE is
# 0.00114 for ridges 0.001 to 0.03 (+0.6% at 0.1, +9% at 1), the quadratic's within 0.6% from 0.01 to 1
# under both maps (fixed 0.00025, per_function 0.0050): 0.01.
LINEAR_RIDGE_PENALTY = 0.01

_IDEAL_ABOUT = {
    "boolean16": "Bayes-optimal under the family prior (a lookup table of the answers seen)",
    "boolean14": "Bayes-optimal under the family prior (the fourteen functions without XOR and XNOR)",
    "semilinear": "least squares on atanh(2y - 1) against (x1, x2, 1), exact after 3 examples",
    "quadratic": "least squares on the six monomials, exact after 6 examples",
}
_MOMENT_MATCHED_ABOUT = {
    "semilinear": "moment-matched linear estimator in logit space (prior w ~ U[-1, 1]^3: mean 0, covariance I/3; "
                  "the same as minimum-norm least squares on the logit)",
    "quadratic/fixed": "moment-matched linear estimator on the six monomials, prior moments of the fixed map "
                       "(mean 0, covariance I/1200: minimum-norm least squares, up to Monte Carlo error)",
    "quadratic/per_function": "moment-matched linear estimator on the six monomials, prior moments of the "
                              "per-function map (Monte Carlo): the floor of linear estimators before 6 examples",
}


@dataclass(frozen=True)
class ReferenceLearner:
    """One reference learner of one family.

    Attributes:
        name: one of :data:`FAMILY_REFERENCE_NAMES` of the family, the same name for every family.
        about: what the learner does for this family.
        predict: ``batch -> float32 [B, T, 1]`` predictions of ``y_t`` from the examples before ``t``.
        learning_rate: the tuned step size (gradient-descent learners; None for the others).
        tuning_scores: step size -> MSE on the tuning streams at the tuned width, every step size tried at
            that width (None if untuned); ``tuning`` has every (step size, width).
        hidden_size: the tuned hidden width (gradient-descent learners; None for the others).
        tuning: the whole search (:class:`~l2l_lib.baselines.GDTuning`; None if untuned).
    """

    name: str
    about: str
    predict: Callable[[Batch], torch.Tensor]
    learning_rate: float | None = None
    tuning_scores: Mapping[float, float] | None = None
    hidden_size: int | None = None
    tuning: GDTuning | None = None

    def __call__(self, batch: Batch) -> torch.Tensor:
        return self.predict(batch)


def family_reference_names(family: str) -> tuple[str, ...]:
    """The names of ``family``'s reference learners (:data:`FAMILY_REFERENCE_NAMES`)."""
    check_choice("family", family, FAMILIES)
    return FAMILY_REFERENCE_NAMES[family]


def nearest_neighbours_k(family: str) -> int:
    """The ``k`` of the nearest-neighbour learner for ``family``: 1 for Boolean inputs, 5 for continuous."""
    check_choice("family", family, FAMILIES)
    return K_BOOLEAN if family in BOOLEAN_FAMILIES else K_CONTINUOUS


def _generator() -> torch.Generator:
    # A fresh generator per call: every call of a learner starts from the same initial weights.
    return torch.Generator().manual_seed(GD_SEED)


def _tuned(name: str, tuning: Batch | None, search: Callable[..., GDTuning], predictions: Callable
           ) -> ReferenceLearner:
    check(tuning is not None, "tuning", f"a Batch of tuning streams when {name!r} is requested", tuning)
    result = search(tuning, seed=GD_SEED)
    rate, width = result.learning_rate, result.hidden_size
    return ReferenceLearner(name, f"a fresh 2-{width}-1 network per sequence, trained on its examples",
                            lambda batch: predictions(batch, hidden_size=width, learning_rate=rate,
                                                      generator=_generator()),
                            learning_rate=rate, tuning_scores=result.rate_scores(), hidden_size=width,
                            tuning=result)


def reference_learners(family: str, *, tuning: Batch | None = None, names: Sequence[str] = REFERENCE_NAMES,
                       quadratic_map: str = DEFAULT_QUADRATIC_MAP) -> list[ReferenceLearner]:
    """The reference learners of ``family``, in the order of ``names``.

    Every family:

    * ideal learner: :func:`~l2l_lib.baselines.ideal_predictions` (Bayes-optimal for the Boolean families,
      least squares on the right features for the continuous ones, exact after 3 or 6 examples);
    * online gradient descent: :func:`~l2l_lib.baselines.online_gd_predictions`, one step per example;
    * batch gradient descent: :func:`~l2l_lib.baselines.batch_gd_predictions`, refitted to all examples;
    * nearest neighbours: :func:`~l2l_lib.baselines.knn_predictions` with :func:`nearest_neighbours_k`;
    * constant 0.5: :func:`~l2l_lib.baselines.constant_predictions`, the family mean.

    The continuous families also (:data:`FAMILY_REFERENCE_NAMES`, :mod:`l2l_lib.continuous_learners`):

    * moment-matched linear: :func:`~l2l_lib.continuous_learners.moment_matched_predictions`, the best
      estimator linear in the targets given the prior's first two moments (semi-linear: in logit space;
      quadratic: under ``quadratic_map``'s prior), the floor before least squares becomes exact;
    * online least squares on y (semi-linear) and online linear ridge (quadratic):
      :func:`~l2l_lib.continuous_learners.linear_least_squares_predictions` on ``(x1, x2, 1)`` with
      ridge :data:`LINEAR_RIDGE_PENALTY`;
    * running mean (quadratic): :func:`~l2l_lib.continuous_learners.running_mean_predictions`.

    The gradient-descent learners' step size and hidden width are tuned together on ``tuning``
    (:func:`~l2l_lib.baselines.search_online_gd`, :func:`~l2l_lib.baselines.search_batch_gd`, which
    check that the chosen step size is not at an edge of the grid). For a fair comparison ``tuning``
    must be as long as the test streams (nothing here checks it; the caller decides), and never the test
    streams: e.g. 32 streams of the test length, of which batch gradient descent scores the first
    :data:`~l2l_lib.baselines.BATCH_GD_TUNING_SEQUENCES` (about 2 minutes of one CPU core at T = 1000).

    Args:
        family: one of :data:`l2l_lib.tasks.FAMILIES`.
        tuning: streams of ``family`` on which the gradient-descent learners are tuned; needed only when
            ``names`` includes one of them.
        names: which learners, any of :func:`family_reference_names` of ``family``, in any order.
        quadratic_map: the quadratic's output map, one of :data:`~l2l_lib.tasks.QUADRATIC_MAPS`: the prior
            of the moment-matched learner (the test streams' map).

    Returns:
        one :class:`ReferenceLearner` per name.

    Raises:
        ValueError: unknown family, map or name (or a name of another family), no ``tuning`` streams for a
            gradient-descent learner, or tuning streams of another family.
    """
    allowed = family_reference_names(family)
    check_choice("quadratic_map", quadratic_map, QUADRATIC_MAPS)
    for name in names:
        check_choice("names[...]", name, allowed)
    if tuning is not None:
        check(tuning.family == family, "tuning.family", f"the learners' family {family!r}", tuning.family)
    k = nearest_neighbours_k(family)
    moment_key = f"quadratic/{quadratic_map}" if family == "quadratic" else family
    linear_about = ("least squares on y itself against (x1, x2, 1), no logit" if family == "semilinear"
                    else "ridge regression of y on (x1, x2, 1), the best plane so far")
    makers: dict[str, Callable[[], ReferenceLearner]] = {
        IDEAL: lambda: ReferenceLearner(IDEAL, _IDEAL_ABOUT[family], ideal_predictions),
        ONLINE_GD: lambda: _tuned(ONLINE_GD, tuning, search_online_gd, online_gd_predictions),
        BATCH_GD: lambda: _tuned(BATCH_GD, tuning, search_batch_gd, batch_gd_predictions),
        NEAREST_NEIGHBOURS: lambda: ReferenceLearner(NEAREST_NEIGHBOURS, f"the mean of the {k} nearest earlier "
                                                     "examples", lambda batch: knn_predictions(batch, k=k)),
        CONSTANT: lambda: ReferenceLearner(CONSTANT, "the family mean at every step", constant_predictions),
        MOMENT_MATCHED: lambda: ReferenceLearner(
            MOMENT_MATCHED, _MOMENT_MATCHED_ABOUT[moment_key],
            lambda batch: moment_matched_predictions(batch, quadratic_map)),
        LEAST_SQUARES_ON_Y: lambda: ReferenceLearner(
            LEAST_SQUARES_ON_Y, linear_about,
            lambda batch: linear_least_squares_predictions(batch, LINEAR_RIDGE_PENALTY)),
        LINEAR_RIDGE: lambda: ReferenceLearner(
            LINEAR_RIDGE, linear_about, lambda batch: linear_least_squares_predictions(batch, LINEAR_RIDGE_PENALTY)),
        RUNNING_MEAN: lambda: ReferenceLearner(RUNNING_MEAN, "the mean of the targets seen so far (0.5 before any)",
                                               running_mean_predictions),
    }
    return [makers[name]() for name in names]
