"""Task diversity: when a recogniser of its training functions becomes a learner.

The Boolean chapter meets two kinds of trained network (Hochreiter, Younger & Conwell 2001, Sec. 3, with
held-out functions as in the student report): *learners*, near the ideal learner on functions they never
saw, and *recognisers*, near the Bayes learner whose prior is the 13 training functions, which does better
on training streams and fails on held-out ones. Raventós et al. (2023) found the same split for in-context
linear regression: below a threshold of pretraining task diversity a sequence model becomes the Bayes
estimator of its finite training pool; above it, the general learner. Here the diversity knob is a finite
pool of K random tables mixed into training (:attr:`l2l_lib.config.TrainConfig.table_pool`, recipes
``boolean16_pool{K}``; an unlimited pool is the book's recipe ``boolean16``). Read top to bottom:

* :func:`pool_sweep`: every K's seeds on the same held-out and training test streams: their errors and
  where their predictions sit between the two Bayes references (:class:`Closeness`);
* :meth:`DiversitySweep.threshold`: the rule, stated before any network was trained, for "a threshold";
* :func:`trace_streams`, :func:`trace_predictions`: one stream of a held-out and of a training function;
* :func:`beta_cdf`, :func:`near_table_study`: how close random tables come to a held-out Boolean function
  (near-binary ``Beta(a, a)`` tables against ``U[0, 1]``);
* :func:`switch_recovery`: unannounced function switches, against the Bayes learner that restarts when
  contradicted and the one that never forgets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import torch

from ..baselines import (bayes_boolean_predictions, ideal_predictions, majority_lookup_predictions,
                         restart_lookup_predictions)
from ..config import TrainConfig
from ..evaluate import evaluation_batch, predict
from ..recipes import RECIPES, TABLE_POOLS, recipe
from ..statistics import PairedComparison, SuccessCount, paired_comparison, position_intervals, success_count
from ..tables import markdown_table
from ..tasks import Batch, family_functions
from ..train import TrainResult
from ..validation import check, check_choice, check_int, check_number
from .boolean import LEARNER_RATIO, RECOGNISER_HELD_OUT_WEIGHT, TRACE_STREAM, split_batches
from .common import train_recipe

#: The sweep's threshold rule, fixed before any network was trained: the threshold is the smallest K from
#: which on (that K and every larger one in the sweep, the unlimited pool included) every seed's held-out
#: MSE is within this many times the ideal learner's (the Boolean chapter's learner criterion).
THRESHOLD_RATIO = LEARNER_RATIO
#: The label of the unlimited pool (a fresh table for every training stream).
UNLIMITED = "unlimited"
IDEAL_LABEL = "ideal learner (uniform prior over 16)"
RECOGNISER_LABEL = "recogniser (prior: the 13 training functions)"
# Which evaluation streams (l2l_lib.evaluate.evaluation_batch's seed) the switch study draws: all sixteen
# functions (the learners chapter's seed 13, other lengths) and the held-out functions.
SWITCH_STREAMS_ALL, SWITCH_STREAMS_HELD_OUT = 13, 17
RESTART_LABEL = "Bayes, restarts when contradicted"
NEVER_FORGETS_LABEL = "Bayes, never forgets (majority per pattern)"


#: The learners that go through the sweep: the book's recipe (the LSTM) and the then-and-now transformer; the
#: sweep's recipes are ``<learner>_pool<K>``.
SWEEP_LEARNERS: tuple[str, ...] = ("boolean16", "boolean16_transformer")


def pool_recipe(k: int, learner: str = "boolean16") -> str:
    """The recipe of pool size ``k`` for ``learner`` (one of :data:`SWEEP_LEARNERS`): ``boolean16_pool{k}``, ``k``
    from :data:`l2l_lib.recipes.TABLE_POOLS`, or ``boolean16_transformer_pool{k}``, ``k`` from
    :data:`l2l_lib.recipes.TRANSFORMER_TABLE_POOLS`; another ``k`` raises ``ValueError`` naming the allowed ones."""
    check_choice("learner", learner, SWEEP_LEARNERS)
    name = f"{learner}_pool{k}"
    check_choice(f"table pool size of {learner}", k, tuple(int(r.removeprefix(f"{learner}_pool"))
                                                              for r in RECIPES if r.startswith(f"{learner}_pool")))
    return name


def pool_label(k: int | None) -> str:
    """``"K = 16"``, or ``"unlimited"`` for None."""
    return UNLIMITED if k is None else f"K = {k}"


# ----------------------------------------------------------------------------- closeness to the two references
@dataclass(frozen=True)
class Closeness:
    """Where a network's predictions sit between the ideal learner's and the recogniser's, on one set of streams.

    Each distance is the mean over streams and steps of the squared difference between two learners'
    predictions on the same streams.

    Attributes:
        to_ideal: network vs the ideal learner (uniform prior over the sixteen functions).
        to_recogniser: network vs the recogniser (the Bayes learner that bets on the training functions).
        gap: ideal learner vs recogniser: how far apart the two references are on these streams.
    """

    to_ideal: float
    to_recogniser: float
    gap: float

    @property
    def position(self) -> float:
        """The network's position on the line from the ideal learner (0) to the recogniser (1).

        With ``n, i, r`` the three prediction vectors, ``position = <n - i, r - i> / |r - i|^2``, which is
        ``(to_ideal - to_recogniser + gap) / (2 gap)``: a network is closer to the recogniser than to the
        ideal learner exactly when its position exceeds 1/2 (NaN when the references agree everywhere).
        """
        if self.gap <= 0:
            return math.nan
        return (self.to_ideal - self.to_recogniser + self.gap) / (2 * self.gap)

    @property
    def closer_to_ideal(self) -> bool:
        """True when the network's predictions are nearer the ideal learner's than the recogniser's."""
        return self.to_ideal < self.to_recogniser


def closeness(network: torch.Tensor, ideal: torch.Tensor, recogniser: torch.Tensor) -> Closeness:
    """:class:`Closeness` of ``network``'s predictions to the two references' (all ``[B, T, 1]``, same streams)."""
    check(network.shape == ideal.shape == recogniser.shape, "network, ideal, recogniser",
          "predictions of one shape [B, T, 1]", (tuple(network.shape), tuple(ideal.shape), tuple(recogniser.shape)))
    n, i, r = network.double(), ideal.double(), recogniser.double()
    return Closeness(to_ideal=float(((n - i) ** 2).mean()), to_recogniser=float(((n - r) ** 2).mean()),
                     gap=float(((r - i) ** 2).mean()))


def recogniser_predictions(config: TrainConfig, batch: Batch) -> torch.Tensor:
    """The recogniser of ``config``'s split on ``batch``: Bayes with the training functions at weight 1 and the
    held-out ones at :data:`~l2l_lib.experiments.boolean.RECOGNISER_HELD_OUT_WEIGHT` (as the Boolean chapter's)."""
    functions = family_functions(config.family)
    prior = [1.0 if k in config.train_functions else RECOGNISER_HELD_OUT_WEIGHT for k in functions]
    return bayes_boolean_predictions(batch, functions=functions, prior=prior)


@dataclass(frozen=True)
class StreamSet:
    """One set of test streams with the two references' predictions on them.

    Attributes:
        name: ``"held-out"`` or ``"training"``: whose functions the streams show.
        batch: the streams (:func:`~l2l_lib.experiments.boolean.split_batches`, the Boolean chapter's).
        ideal, recogniser: ``[B, T, 1]`` predictions of the ideal learner and of the recogniser.
    """

    name: str
    batch: Batch
    ideal: torch.Tensor
    recogniser: torch.Tensor

    @property
    def ideal_mse(self) -> float:
        return _mse(self.ideal, self.batch)

    @property
    def recogniser_mse(self) -> float:
        return _mse(self.recogniser, self.batch)


def _mse(predictions: torch.Tensor, batch: Batch) -> float:
    return float(((predictions.double() - batch.targets.double()) ** 2).mean())


def stream_sets(config: TrainConfig, n_test_sequences: int) -> tuple[StreamSet, StreamSet]:
    """The held-out and training test streams of ``config``'s split, with both references' predictions."""
    held_out, train = split_batches(config, n_test_sequences)
    return tuple(StreamSet(name, batch, ideal_predictions(batch), recogniser_predictions(config, batch))
                 for name, batch in (("held-out", held_out), ("training", train)))  # type: ignore[return-value]


# ----------------------------------------------------------------------------- the sweep
@dataclass(frozen=True)
class PoolResult:
    """One pool size's trained seeds, scored on the sweep's test streams.

    Attributes:
        pool: K, the number of distinct random tables in training (None: unlimited).
        recipe: the recipe trained.
        runs: one network per seed, in seed order.
        held_out_mse, train_mse: ``[n_seeds]`` MSE on the held-out, resp. training, test streams.
        held_out_closeness, train_closeness: per seed, :class:`Closeness` on those streams.
    """

    pool: int | None
    recipe: str
    runs: tuple[TrainResult, ...]
    held_out_mse: np.ndarray
    train_mse: np.ndarray
    held_out_closeness: tuple[Closeness, ...]
    train_closeness: tuple[Closeness, ...]

    @property
    def label(self) -> str:
        return pool_label(self.pool)

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(run.config.seed for run in self.runs)

    def positions(self, streams: str) -> np.ndarray:
        """``[n_seeds]`` :attr:`Closeness.position` on the ``"held-out"`` or ``"training"`` streams."""
        check_choice("streams", streams, ("held-out", "training"))
        chosen = self.held_out_closeness if streams == "held-out" else self.train_closeness
        return np.array([c.position for c in chosen])

    def closer_to_ideal(self, streams: str) -> SuccessCount:
        """Seeds whose predictions on those streams are nearer the ideal learner's than the recogniser's."""
        chosen = self.held_out_closeness if streams == "held-out" else self.train_closeness
        return success_count([0.0 if c.closer_to_ideal else 1.0 for c in chosen], 0.5)


@dataclass(frozen=True)
class DiversitySweep:
    """Every pool size's networks on the same test streams of one split.

    Attributes:
        config: the split's configuration (family, held-out functions, sequence length).
        held_out, train: the test streams (:class:`StreamSet`).
        pools: one :class:`PoolResult` per pool size, in increasing K, the unlimited pool last.
    """

    config: TrainConfig
    held_out: StreamSet
    train: StreamSet
    pools: tuple[PoolResult, ...]

    @property
    def floor(self) -> float:
        """The ideal learner's held-out MSE."""
        return self.held_out.ideal_mse

    @property
    def criterion(self) -> float:
        """:data:`THRESHOLD_RATIO` times the floor: a seed at or below it counts as a learner."""
        return THRESHOLD_RATIO * self.floor

    def learners(self, pool: PoolResult) -> SuccessCount:
        """Seeds of ``pool`` within :data:`THRESHOLD_RATIO` times the floor on held-out streams."""
        return success_count(pool.held_out_mse, self.criterion)

    def threshold(self) -> int | None:
        """Index into :attr:`pools` of the threshold (:data:`THRESHOLD_RATIO`'s rule), or None if there is none."""
        found = None
        for index in reversed(range(len(self.pools))):
            if self.learners(self.pools[index]).successes < len(self.pools[index].runs):
                break
            found = index
        return found

    def threshold_sentence(self) -> str:
        """The answer to "is there a threshold, and where?", as the rule and the numbers give it."""
        index, ratio = self.threshold(), f"{THRESHOLD_RATIO:g}"
        if index is None:
            last = self.pools[-1]
            count = self.learners(last)
            return (f"By this rule the sweep shows no threshold: even at the largest pool ({last.label}) "
                    f"{count.trials - count.successes} of {count.trials} seeds "
                    f"{'is' if count.trials - count.successes == 1 else 'are'} more than {ratio} times the "
                    f"ideal learner's held-out MSE.")
        pool = self.pools[index]
        if index == 0:
            return (f"By this rule no threshold shows inside the sweep: every seed is within {ratio} times the "
                    f"ideal learner from the smallest pool tried ({pool.label}) on.")
        before = self.pools[index - 1]
        count = self.learners(before)
        return (f"By this rule the threshold for {self.config.hidden_sizes[0]} units lies above {before.label} and "
                f"at most {pool.label}: from {pool.label} on every seed is within {ratio} times the ideal "
                f"learner's held-out MSE, while at {before.label} {count.trials - count.successes} of "
                f"{count.trials} seeds are not.")

    def table(self) -> str:
        """Markdown: per pool size, held-out MSEs, learners, and the position between the two references."""
        rows = []
        for pool in self.pools:
            rows.append([pool.label, ", ".join(f"{v:.4f}" for v in pool.held_out_mse), self.learners(pool).text(),
                         f"{np.median(pool.positions('training')):.2f}", pool.closer_to_ideal("training").text(),
                         f"{np.median(pool.positions('held-out')):.2f}", pool.closer_to_ideal("held-out").text()])
        return markdown_table(
            ["tables in training", "held-out MSE per seed", f"seeds within {THRESHOLD_RATIO:g}x the ideal learner",
             "training streams: position (median)", "training streams: closer to the ideal learner",
             "held-out streams: position (median)", "held-out streams: closer to the ideal learner"], rows)

    def verdicts(self) -> str:
        """One sentence per pool size: which reference its seeds are closer to, on training and held-out streams."""
        parts = []
        for pool in self.pools:
            parts.append(f"{pool.label}: " + "; ".join(
                f"{streams} streams, {_closer_words(pool.closer_to_ideal(streams))}"
                for streams in ("training", "held-out")))
        return ". ".join(parts) + "."

    def table_recognisers(self) -> tuple[int, int, tuple[str, ...]]:
        """Networks trained with tables (K >= 1 or unlimited) that sit closer to the recogniser on Boolean
        *training* streams: ``(how many, of how many, the pool labels they belong to)``."""
        count, total, labels = 0, 0, []
        for pool in self.pools:
            if pool.pool == 0:
                continue
            closer = pool.closer_to_ideal("training")
            total += closer.trials
            count += closer.trials - closer.successes
            if closer.successes < closer.trials:
                labels.append(pool.label)
        return count, total, tuple(labels)

    def subtlety_sentence(self) -> str:
        """Whether networks trained with tables kept a recogniser for Boolean streams, by the closeness numbers."""
        count, total, labels = self.table_recognisers()
        if total == 0:
            return "No network of this sweep was trained with tables."
        if count == 0:
            return (f"None of the {total} networks trained with tables does: on Boolean training streams every "
                    "one of them is closer to the ideal learner than to the recogniser.")
        return (f"{count} of the {total} networks trained with tables {'does' if count == 1 else 'do'} "
                f"({', '.join(labels)}): on Boolean "
                "training streams their predictions are closer to the recogniser than to the ideal learner.")


def _closer_words(count: SuccessCount) -> str:
    if count.successes == count.trials:
        return f"all {count.trials} seeds closer to the ideal learner"
    if count.successes == 0:
        return f"all {count.trials} seeds closer to the recogniser"
    return f"{count.successes} of {count.trials} seeds closer to the ideal learner, the others to the recogniser"


def _check_pools(table_pools: Sequence[int]) -> tuple[int, ...]:
    check(isinstance(table_pools, (list, tuple)) and len(set(table_pools)) == len(table_pools)
          and all(k in TABLE_POOLS for k in table_pools), "table_pools",
          f"a list of distinct pool sizes from {TABLE_POOLS}", table_pools)
    return tuple(sorted(table_pools))


def _split(config: TrainConfig) -> tuple[str, tuple[int, ...], int]:
    return config.family, tuple(config.held_out), config.seq_len


def pool_runs(table_pools: Sequence[int], unlimited_recipe: str | None = "boolean16", *,
              n_seeds: int | None = None, first_seed: int | None = None,
              overrides: Mapping[str, Any] | None = None, learner: str = "boolean16"
              ) -> dict[int | None, tuple[str, list[TrainResult]]]:
    """The trained networks of the sweep: ``{K (None: unlimited): (recipe, runs)}``, from the cache or trained.

    Args:
        table_pools: pool sizes from :data:`l2l_lib.recipes.TABLE_POOLS` (recipes ``boolean16_pool{K}``).
        unlimited_recipe: the recipe of the unlimited pool (a fresh table per stream), or None for none.
        n_seeds: seeds per pool size (None: the pool recipes' own count, 3). The unlimited recipe's whole
            pack of seeds is asked for (the pack its own chapter trains, so the cache serves it) and its first
            ``n_seeds`` kept, so that every pool size has the same seeds, hence the same initial weights.
        first_seed: the first seed (None: the recipes' own, 10000).
        overrides: TrainConfig fields changed in every recipe (a smoke run's sizes).
        learner: whose pool recipes (:func:`pool_recipe`): ``"boolean16"`` (the LSTM) or ``"boolean16_transformer"``.
    """
    pools = _check_pools(table_pools)
    check(bool(pools) or unlimited_recipe is not None, "table_pools", "non-empty when unlimited_recipe is None",
          table_pools)
    own = RECIPES[pool_recipe(pools[0] if pools else TABLE_POOLS[0], learner)].n_seeds
    n = own if n_seeds is None else check_int("n_seeds", n_seeds)
    if unlimited_recipe is not None:  # checked before anything trains
        check_choice("unlimited_recipe", unlimited_recipe, RECIPES)
        config = recipe(unlimited_recipe, **dict(overrides or {}))
        check(config.table_fraction > 0 and config.table_pool is None, f"recipe {unlimited_recipe!r}",
              "a recipe with tables and no finite pool (table_pool None)", (config.table_fraction, config.table_pool))
    runs: dict[int | None, tuple[str, list[TrainResult]]] = {}
    for k in pools:
        runs[k] = (pool_recipe(k, learner), train_recipe(pool_recipe(k, learner), n_seeds=n, first_seed=first_seed,
                                                 overrides=overrides))
    if unlimited_recipe is not None:
        pack = max(RECIPES[unlimited_recipe].n_seeds, n)
        trained = train_recipe(unlimited_recipe, n_seeds=pack, first_seed=first_seed, overrides=overrides)
        runs[None] = (unlimited_recipe, trained[:n])
    splits = {name: _split(r[0].config) for name, r in runs.values()}
    check(len(set(splits.values())) == 1, "the sweep's recipes' (family, held_out, seq_len)", "all equal", splits)
    return runs


def pool_sweep(table_pools: Sequence[int], unlimited_recipe: str | None = "boolean16", *,
               n_seeds: int | None = None, first_seed: int | None = None,
               overrides: Mapping[str, Any] | None = None, n_test_sequences: int = 1000,
               learner: str = "boolean16") -> DiversitySweep:
    """Train (or load) every pool size's seeds (:func:`pool_runs`) and score them on the same test streams.

    Each network is scored on ``n_test_sequences`` streams of the held-out functions and as many of the
    training functions (the Boolean chapter's streams, :func:`~l2l_lib.experiments.boolean.split_batches`):
    its MSE, and its :class:`Closeness` to the ideal learner's and the recogniser's predictions. ``learner``
    picks whose pool recipes (:func:`pool_runs`); ``unlimited_recipe`` should be the same learner's.
    """
    runs = pool_runs(table_pools, unlimited_recipe, n_seeds=n_seeds, first_seed=first_seed, overrides=overrides,
                     learner=learner)
    config = next(iter(runs.values()))[1][0].config
    held_out, train = stream_sets(config, check_int("n_test_sequences", n_test_sequences, minimum=2))
    results = []
    for k, (name, trained) in runs.items():
        scores = {s.name: [] for s in (held_out, train)}
        for run in trained:
            for streams in (held_out, train):
                prediction = predict(run.model, streams.batch)
                scores[streams.name].append((_mse(prediction, streams.batch),
                                             closeness(prediction, streams.ideal, streams.recogniser)))
        results.append(PoolResult(
            pool=k, recipe=name, runs=tuple(trained),
            held_out_mse=np.array([m for m, _ in scores["held-out"]]), train_mse=np.array([m for m, _ in scores["training"]]),
            held_out_closeness=tuple(c for _, c in scores["held-out"]),
            train_closeness=tuple(c for _, c in scores["training"])))
    return DiversitySweep(config=config, held_out=held_out, train=train, pools=tuple(results))


# ----------------------------------------------------------------------------- one stream, three predictors
def trace_streams(config: TrainConfig, held_out_function: int = 6) -> dict[str, Batch]:
    """One fresh stream of a held-out function (``held_out_function``, XOR, if held out, else the first held-out
    one) and one of the lowest-numbered training function: ``{"held-out function k": batch, ...}``.
    Both rules are fixed in advance, never chosen by score."""
    held_out = tuple(config.held_out)
    chosen = held_out_function if held_out_function in held_out else held_out[0]
    common = dict(n_sequences=1, seq_len=config.seq_len, seed=TRACE_STREAM)
    return {f"held-out function {chosen}": evaluation_batch(config.family, functions=(chosen,), **common),
            f"training function {config.train_functions[0]}": evaluation_batch(
                config.family, functions=(config.train_functions[0],), **common)}


def trace_predictions(sweep: DiversitySweep, batch: Batch, seed_index: int = 0) -> dict[str, torch.Tensor]:
    """Predictions on ``batch`` (one stream): the two references, then pool by pool the network of seed number
    ``seed_index`` (0: the first evaluation seed, 10000, whatever its score)."""
    check_int("seed_index", seed_index, minimum=0, maximum=min(len(p.runs) for p in sweep.pools) - 1)
    out = {IDEAL_LABEL: ideal_predictions(batch), RECOGNISER_LABEL: recogniser_predictions(sweep.config, batch)}
    for pool in sweep.pools:
        out[f"LSTM, {pool.label}"] = predict(pool.runs[seed_index].model, batch)
    return out


# ----------------------------------------------------------------------------- near-binary tables
#: Gauss-Legendre nodes per panel, and the panels' grading toward the density's end point (see beta_cdf).
_NODES, _PANELS = 24, 60
#: A tolerance at which "tables near a held-out function" is judged, and the share of one training
#: function's streams from which near copies count as showing the function (both fixed in advance).
JUDGE_DELTA, SHOWN_SHARE = 0.1, 0.01


def _left_mass(x: np.ndarray, a: float) -> np.ndarray:
    """``int_0^x t^(a-1) (1-t)^(a-1) dt`` for ``0 <= x <= 1/2``, numerically.

    The substitution ``u = t^a`` removes the integrable singularity at 0 (``dt t^(a-1) = du / a``), leaving
    the bounded integrand ``(1 - u^(1/a))^(a-1) / a`` on ``[0, x^a]`` (``1 - t >= 1/2`` there). Gauss-Legendre
    quadrature on panels graded geometrically toward 0 (each half the previous) handles what is left of the
    end point (``u^(1/a)`` is not smooth at 0 for ``a > 1``).
    """
    nodes, weights = np.polynomial.legendre.leggauss(_NODES)
    upper = np.asarray(x, dtype=np.float64) ** a
    edges = upper[..., None] * np.concatenate([[0.0], 0.5 ** np.arange(_PANELS - 1, -1, -1)])  # [..., P + 1]
    low, high = edges[..., :-1, None], edges[..., 1:, None]
    u = 0.5 * (high - low) * nodes + 0.5 * (high + low)  # [..., P, N]
    values = (1.0 - u ** (1.0 / a)) ** (a - 1.0) / a
    return (0.5 * (high - low)[..., 0] * (values * weights).sum(-1)).sum(-1)


def beta_cdf(x: float | np.ndarray, a: float) -> float | np.ndarray:
    """The CDF of the symmetric ``Beta(a, a)`` distribution at ``x``, by numerical integration (numpy only).

    ``F(x) = B(x; a, a) / B(a, a)`` with ``B(a, a) = 2 B(1/2; a, a)`` by symmetry; for ``x > 1/2``,
    ``F(x) = 1 - F(1 - x)``. The incomplete integrals come from :func:`_left_mass` (a substitution that
    removes the singularity of the density at 0 and 1 for ``a < 1``), accurate to about 1e-12.

    Args:
        x: points in ``[0, 1]`` (a number or an array).
        a: the shape, a number in ``(0, 100]`` (``a = 1``: ``U[0, 1]``, ``F(x) = x``).
    """
    a = check_number("a", a, 0.0, 100.0, low_open=True)
    values = np.asarray(x, dtype=np.float64)
    check(bool(np.all((values >= 0) & (values <= 1))), "x", "values in [0, 1]", x)
    total = 2.0 * _left_mass(np.array(0.5), a)
    left = np.minimum(values, 1.0 - values)
    f = _left_mass(left, a) / total
    result = np.where(values <= 0.5, f, 1.0 - f)
    return float(result) if np.ndim(x) == 0 else result


def near_table_probability(delta: float, a: float = 1.0) -> float:
    """The probability that one random table (four values ``~ Beta(a, a)``) lies within ``delta`` of a given
    Boolean truth table in every pattern: ``F(delta)^4`` (``|v - 0| <= delta`` has probability ``F(delta)``,
    ``|v - 1| <= delta`` too by symmetry). For ``a = 1`` (``U[0, 1]``) it is ``delta^4``.

    Args:
        delta: the largest absolute difference over the four patterns, in ``(0, 1]``.
        a: the Beta shape (1: uniform tables).
    """
    delta = check_number("delta", delta, 0.0, 1.0, low_open=True)
    return float(beta_cdf(delta, a)) ** 4


def table_counts(config: TrainConfig) -> tuple[float, float]:
    """``(table streams, Boolean streams per training function)`` that a training run of ``config`` draws.

    Every optimiser step draws ``batch_size`` streams of ``seq_len / switch_every`` segments (one without
    switches); each segment is a table with probability ``table_fraction`` during the first ``tables_until``
    of the steps, else one of the training functions (uniformly). Counts are expectations.
    """
    check(config.train_functions is not None, "config.family", "a Boolean family", config.family)
    segments = -(-config.seq_len // (config.switch_every or config.seq_len))
    table_steps = min(config.n_steps, math.ceil(config.tables_until * config.n_steps))
    per_step = config.batch_size * segments
    tables = table_steps * per_step * config.table_fraction
    boolean = config.n_steps * per_step - tables
    return tables, boolean / len(config.train_functions)


@dataclass(frozen=True)
class NearTableRow:
    """Random tables within ``delta`` of one held-out function's truth table.

    Attributes:
        a: the Beta shape (1: ``U[0, 1]``); delta: the tolerance (max absolute difference over the patterns).
        probability: for one table (:func:`near_table_probability`).
        expected: how many such tables a training run shows, per held-out function.
        share: ``expected`` over the Boolean streams of one training function in the same run.
    """

    a: float
    delta: float
    probability: float
    expected: float
    share: float


@dataclass(frozen=True)
class NearTables:
    """Near copies of held-out functions among a recipe's random tables, for several shapes and tolerances.

    Attributes:
        recipe: the recipe whose size is counted; config: its configuration.
        table_streams: table streams per training run; streams_per_function: Boolean streams per training function.
        rows: one :class:`NearTableRow` per (shape, tolerance).
    """

    recipe: str
    config: TrainConfig
    table_streams: float
    streams_per_function: float
    rows: tuple[NearTableRow, ...]

    def row(self, a: float, delta: float) -> NearTableRow:
        for r in self.rows:
            if r.a == a and r.delta == delta:
                return r
        raise ValueError(f"(a, delta) must be one of {[(r.a, r.delta) for r in self.rows]}; got {(a, delta)!r}")

    def table(self) -> str:
        """Markdown: per shape and tolerance, the probability, the expected count and its share."""
        return markdown_table(
            ["tables", "within delta", "probability per table", "expected per held-out function",
             "share of one training function's streams"],
            [[_shape_name(r.a), f"{r.delta:g}", f"{r.probability:.3g}", f"{r.expected:,.1f}", f"{100 * r.share:.3g} %"]
             for r in self.rows])

    def shows(self, a: float) -> bool:
        """The rule fixed in advance: tables of shape ``a`` *show* the held-out functions when their near copies
        within :data:`JUDGE_DELTA` make up at least :data:`SHOWN_SHARE` of one training function's streams."""
        return self.row(a, JUDGE_DELTA).share >= SHOWN_SHARE

    def sentence(self, a: float) -> str:
        """What the rule says for tables of shape ``a``, with the numbers it rests on."""
        row = self.row(a, JUDGE_DELTA)
        verdict = ("that is showing the held-out functions, blurred: a network trained so has met near copies of "
                   "them" if self.shows(a) else "that is not showing them: such near copies are too rare to teach "
                   "a function")
        return (f"With {_shape_name(a)} tables, a training run of `{self.recipe}` shows on average "
                f"{row.expected:,.1f} tables within {JUDGE_DELTA:g} of each held-out function, "
                f"{100 * row.share:.3g} % of what it shows of one training function; by our rule (at least "
                f"{100 * SHOWN_SHARE:g} %) {verdict}.")

    def recipe_sentence(self, search_log: str = "benchmarks/results/boolean_search2.md") -> str:
        """Whether the recipe itself draws near-binary tables, read from its configuration."""
        beta = self.config.table_beta
        if beta is None:
            from ..recipes import RECIPES  # the recipes that do draw near-binary tables, named from the registry
            near = [name for name, entry in RECIPES.items() if entry.config.family == self.config.family
                    and entry.config.table_beta is not None]
            where = (f"; the recipe search tried them (`{search_log}`), and the Boolean chapter evaluates "
                     + ", ".join(f"`{n}`" for n in near) + " beside it" if near else
                     f"; near-binary tables were tried in the recipe search only (`{search_log}`)")
            return f"The recipe `{self.recipe}` draws its tables from U[0, 1] (its `table_beta` is None){where}."
        return (f"The recipe `{self.recipe}` draws its tables from Beta({beta:g}, {beta:g}) (`table_beta` = "
                f"{beta:g}), chosen by the recipe search (`{search_log}`): "
                + ("by the rule above its training shows near copies of the held-out functions."
                   if self.row(beta, JUDGE_DELTA).share >= SHOWN_SHARE else
                   "by the rule above its training does not show the held-out functions."))


def _shape_name(a: float) -> str:
    return "U[0, 1]" if a == 1 else f"Beta({a:g}, {a:g})"


def near_table_study(name: str = "boolean16", *, betas: Sequence[float] = (1.0, 0.3),
                     deltas: Sequence[float] = (0.05, 0.1, 0.2), overrides: Mapping[str, Any] | None = None
                     ) -> NearTables:
    """How many random tables near each held-out function a training run of recipe ``name`` shows.

    Args:
        name: a Boolean recipe with tables (its steps, batch size, table fraction and segments are counted).
        betas: table shapes ``a`` (1: ``U[0, 1]``); the recipe's own ``table_beta`` is added if missing.
        deltas: tolerances, each in ``(0, 1]``; :data:`JUDGE_DELTA` is added if missing.
        overrides: TrainConfig fields to change (e.g. a smoke run's sizes).
    """
    config = recipe(name, **dict(overrides or {}))
    check(config.table_fraction > 0, f"recipe {name!r}", "a Boolean recipe with tables (table_fraction > 0)",
          config.table_fraction)
    shapes = list(dict.fromkeys([*betas, *([config.table_beta] if config.table_beta is not None else [])]))
    tolerances = sorted(set(deltas) | {JUDGE_DELTA})
    tables, per_function = table_counts(config)
    rows = []
    for a in shapes:
        for delta in tolerances:
            p = near_table_probability(delta, a)
            rows.append(NearTableRow(a=float(a), delta=float(delta), probability=p, expected=tables * p,
                                     share=tables * p / per_function))
    return NearTables(recipe=name, config=config, table_streams=tables, streams_per_function=per_function,
                      rows=tuple(rows))


# ----------------------------------------------------------------------------- unannounced switches
def since_switch_errors(batch: Batch, predictions: torch.Tensor, switch_every: int) -> np.ndarray:
    """``[B, switch_every]``: per stream, the squared error by steps since the last switch, averaged over every
    segment but the first (the learner was told nothing). ``batch.seq_len`` must be a multiple of
    ``switch_every`` with at least two segments."""
    switch_every = check_int("switch_every", switch_every)
    check(batch.seq_len % switch_every == 0 and batch.seq_len >= 2 * switch_every, "batch.seq_len",
          f"a multiple of switch_every ({switch_every}) with at least two segments", batch.seq_len)
    squared = ((predictions[..., 0].double() - batch.targets[..., 0].double()) ** 2)[:, switch_every:]
    return squared.reshape(batch.batch_size, -1, switch_every).mean(1).numpy()


@dataclass(frozen=True)
class SwitchPanel:
    """One set of switching streams: error by steps since a switch for every learner.

    Attributes:
        label: which functions the streams switch between; functions: their ids.
        curves: learner -> ``(mean, low, high)``, each ``[switch_every]``: the mean over streams and its 95 %
            interval over streams (:func:`~l2l_lib.statistics.position_intervals`); a recipe's curve first
            averages its seeds on each stream.
        per_seed: recipe label -> ``[n_seeds]`` mean error over a whole segment after a switch, per seed.
        reference_means: reference label -> its mean error over a segment after a switch.
    """

    label: str
    functions: tuple[int, ...]
    curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    per_seed: Mapping[str, np.ndarray]
    reference_means: Mapping[str, float]


@dataclass(frozen=True)
class SwitchRecovery:
    """Networks trained with and without switches, on streams that switch function every ``switch_every`` steps.

    Attributes:
        switch_every: steps between switches; seeds: the paired seeds (same seed, same initial weights).
        names: ``(trained with switches, never trained with switches)`` labels.
        panels: one :class:`SwitchPanel` per set of streams.
    """

    switch_every: int
    seeds: tuple[int, ...]
    names: tuple[str, str]
    panels: tuple[SwitchPanel, ...]

    def comparison(self, panel: SwitchPanel) -> PairedComparison:
        """The two recipes' mean error after a switch, paired by seed (lower is better)."""
        first, second = self.names
        return paired_comparison(panel.per_seed[first], panel.per_seed[second], names=(first, second))

    def placement(self, panel: SwitchPanel, name: str) -> str:
        """Where recipe ``name``'s median seed sits against the two Bayes references, in words."""
        value = float(np.median(panel.per_seed[name]))
        restart, never = panel.reference_means[RESTART_LABEL], panel.reference_means[NEVER_FORGETS_LABEL]
        low, high = sorted((restart, never))
        if value < low:
            side = "below both Bayes references"
        elif value > high:
            side = "above both Bayes references"
        else:
            side = "between the two Bayes references"
        nearer = "the restarting learner" if abs(value - restart) < abs(value - never) else "the never-forgetting one"
        return f"{value:.4f}, {side}, nearer {nearer}"


def switch_recovery(switch_runs: Sequence[TrainResult], plain_runs: Sequence[TrainResult], *, n_sequences: int,
                    switch_every: int, names: tuple[str, str] = ("trained with switches", "never trained with switches")
                    ) -> SwitchRecovery:
    """Error by steps since an unannounced switch, for two recipes' networks and two Bayes references.

    The streams switch function every ``switch_every`` steps (each switch to a different function, drawn
    uniformly), for four segments; one set draws from all sixteen functions, one from the networks' held-out
    functions only. The references: :func:`~l2l_lib.baselines.restart_lookup_predictions` (the Bayes learner
    that forgets everything but the contradicting example when a pattern's answer changes) and
    :func:`~l2l_lib.baselines.majority_lookup_predictions` (the ideal learner of a stationary stream, which never
    forgets).

    Args:
        switch_runs, plain_runs: networks of the two recipes, paired by seed (same seeds, same held-out set).
        n_sequences: streams per set, >= 2.
        switch_every: steps between switches, >= 2.
        names: labels of the two recipes.
    """
    check(len(switch_runs) > 0 and [r.config.seed for r in switch_runs] == [r.config.seed for r in plain_runs],
          "switch_runs, plain_runs", "non-empty and with the same seeds, in the same order",
          ([r.config.seed for r in switch_runs], [r.config.seed for r in plain_runs]))
    held_out = tuple(switch_runs[0].config.held_out)
    check(tuple(plain_runs[0].config.held_out) == held_out, "plain_runs' held_out", f"the same as switch_runs' {held_out}",
          plain_runs[0].config.held_out)
    switch_every = check_int("switch_every", switch_every, minimum=2)
    n_sequences = check_int("n_sequences", n_sequences, minimum=2)
    panels = []
    for label, functions, seed in (("all sixteen functions", tuple(range(16)), SWITCH_STREAMS_ALL),
                                   (f"held-out functions {held_out}", held_out, SWITCH_STREAMS_HELD_OUT)):
        batch = evaluation_batch("boolean16", functions=functions, n_sequences=n_sequences, seq_len=4 * switch_every,
                                 switch_every=switch_every, seed=seed)
        curves, per_seed, means = {}, {}, {}
        for name, runs in zip(names, (switch_runs, plain_runs)):
            errors = np.stack([since_switch_errors(batch, predict(r.model, batch), switch_every) for r in runs])
            per_seed[name] = errors.mean(axis=(1, 2))
            curves[name] = position_intervals(errors.mean(0))
        for name, learner in ((RESTART_LABEL, restart_lookup_predictions),
                              (NEVER_FORGETS_LABEL, majority_lookup_predictions)):
            errors = since_switch_errors(batch, learner(batch), switch_every)
            curves[name] = position_intervals(errors)
            means[name] = float(errors.mean())
        panels.append(SwitchPanel(label, functions, curves, per_seed, means))
    return SwitchRecovery(switch_every, tuple(r.config.seed for r in switch_runs), names, tuple(panels))


def switch_networks(switch_recipe: str, plain_recipe: str, *, n_seeds: int | None = None,
                    first_seed: int | None = None, overrides: Mapping[str, Any] | None = None,
                    switch_overrides: Mapping[str, Any] | None = None) -> tuple[list[TrainResult], list[TrainResult]]:
    """The paired networks of :func:`switch_recovery`: ``(switch_recipe's seeds, plain_recipe's same seeds)``.

    ``n_seeds`` (None: the switch recipe's own count) seeds of each; the plain recipe's whole pack is asked
    for (the pack its chapter trains, found in the cache) and its first ``n_seeds`` kept. ``overrides`` go to
    both recipes, ``switch_overrides`` on top of them to the switch recipe only.
    """
    check_choice("switch_recipe", switch_recipe, RECIPES)
    check_choice("plain_recipe", plain_recipe, RECIPES)
    n = RECIPES[switch_recipe].n_seeds if n_seeds is None else check_int("n_seeds", n_seeds)
    switched = train_recipe(switch_recipe, n_seeds=n, first_seed=first_seed,
                            overrides={**dict(overrides or {}), **dict(switch_overrides or {})})
    plain = train_recipe(plain_recipe, n_seeds=max(RECIPES[plain_recipe].n_seeds, n), first_seed=first_seed,
                         overrides=overrides)[:n]
    return switched, plain
