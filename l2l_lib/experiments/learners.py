"""The learners chapter's studies: every family's meta-trained LSTMs against the reference learners.

Hochreiter, Younger & Conwell (2001) claim that the meta-trained LSTM, with its weights fixed, learns a
new function from far fewer examples than gradient descent would need; neither the paper nor the
student report measures it. Here every learner sees the first ``k`` examples of a new function and
predicts example ``k + 1`` on the same streams, as in-context-learning work does (Garg et al. 2022):
error after ``k`` examples, examples until a function is learnt, unannounced switches, streams unlike
the training ones, and the CPU time per function. Each function returns a frozen dataclass.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..evaluate import (Evaluation, Learner, boolean_examples_to_criterion, evaluate_predictions,
                        evaluation_batch, examples_to_criterion, predict)
from ..recipes import RECIPES
from ..reference_learners import BATCH_GD, IDEAL, ONLINE_GD, REFERENCE_NAMES, reference_learners
from ..tables import markdown_table
from ..tasks import BOOLEAN_FAMILIES, Batch
from ..train import TrainResult
from ..validation import check, check_choice, check_int
from .common import evaluate_runs, held_out_sets, train_recipe
from .continuous import CRITERION_FRACTION

#: The families compared, each with its family chapter's recipe of the same name.
FAMILIES: tuple[str, ...] = ("boolean16", "boolean14", "semilinear", "quadratic")
FAMILY_NAMES = {"boolean16": "Boolean-16", "boolean14": "Boolean-14", "semilinear": "semi-linear",
                "quadratic": "quadratic"}
LSTM, ORIGINAL = "LSTM (forget gate)", "original LSTM"
# Which streams: each study draws its own, none of them used for tuning (seed 12).
TEST_SEED, TUNING_SEED, SWITCH_SEED, EXCLUDED_SEED, LONG_SEED = 11, 12, 13, 14, 15
TUNING_SEQUENCES, TUNING_MAX_LEN = 64, 100
# A Boolean function counts as learnt once every pattern was answered right this many times in a row.
BOOLEAN_CORRECT_IN_A_ROW = 2


def family_networks(family: str, *, n_seeds: int, family_n_seeds: int | None = None, first_seed: int | None = None,
                    overrides: Mapping[str, Any] | None = None) -> list[TrainResult]:
    """The family chapter's trained networks (its recipe's whole pack, from the cache): the first ``n_seeds``.

    Asking for the pack the family chapter trained, not for ``n_seeds`` seeds, is what finds its networks
    in the cache. A Boolean recipe is trained for several held-out sets
    (:func:`~l2l_lib.experiments.common.held_out_sets`); this chapter compares the networks of the first,
    the paper's (unless ``overrides`` names another ``held_out``).

    Args:
        family: one of :data:`FAMILIES` (its recipe has the same name).
        n_seeds: how many networks to compare.
        family_n_seeds: how many seeds the family chapter trains (None: the recipe's own count).
        first_seed, overrides: as in :func:`~l2l_lib.experiments.common.train_recipe`.
    """
    check_choice("family", family, FAMILIES)
    pack = RECIPES[family].n_seeds if family_n_seeds is None else check_int("family_n_seeds", family_n_seeds)
    if family in BOOLEAN_FAMILIES:
        overrides = {"held_out": held_out_sets(family)[0], **dict(overrides or {})}
    runs = train_recipe(family, n_seeds=max(pack, check_int("n_seeds", n_seeds)), first_seed=first_seed,
                        overrides=overrides)
    return runs[:n_seeds]


def family_streams(runs: Sequence[TrainResult], n_sequences: int, seq_len: int, *, seed: int = TEST_SEED,
                 **kwargs: Any) -> Batch:
    """Test streams of the runs' family: their held-out functions (Boolean) or fresh functions (continuous).

    ``kwargs`` go to :func:`~l2l_lib.evaluate.evaluation_batch` (e.g. ``coefficient_range``).
    """
    config = runs[0].config
    functions = config.held_out if config.family in BOOLEAN_FAMILIES else None
    kwargs.setdefault("quadratic_map", config.quadratic_map)  # the map the networks were trained on
    return evaluation_batch(config.family, functions=functions, n_sequences=n_sequences, seq_len=seq_len,
                            seed=seed, **kwargs)


@dataclass(frozen=True)
class LearnerResult:
    """One learner on one family's test streams.

    Attributes:
        name: the learner (:data:`LSTM`, :data:`ORIGINAL` or a reference learner's name).
        evaluations: one per member (one per seed for the LSTMs, one for a reference learner).
        examples: per member, examples until the function is learnt (``inf``: never within the streams):
            Boolean, the median over streams of :func:`~l2l_lib.evaluate.boolean_examples_to_criterion`;
            continuous, :func:`~l2l_lib.evaluate.examples_to_criterion` at 10 % of the constant predictor.
        seconds_per_sequence: CPU time to predict one stream, median over members.
    """

    name: str
    evaluations: tuple[Evaluation, ...]
    examples: tuple[float, ...]
    seconds_per_sequence: float


@dataclass(frozen=True)
class FamilyComparison:
    """Every learner on one family's test streams.

    Attributes:
        family: the family; seq_len: the test streams' length.
        learners: learner name -> :class:`LearnerResult`, the two LSTMs first, then the references.
        online_rate, batch_rate: the gradient-descent step sizes tuned for this family.
    """

    family: str
    seq_len: int
    learners: Mapping[str, LearnerResult]
    online_rate: float
    batch_rate: float

    def mse_by_position(self) -> dict[str, np.ndarray]:
        """Learner -> ``[members, T]`` error after k examples (for :func:`l2l_lib.plots.plot_error_by_position`)."""
        return {name: np.array([e.mse_by_position for e in r.evaluations]) for name, r in self.learners.items()}

    def median_examples(self, name: str) -> float:
        """Median over members of a learner's examples to criterion (``inf``: never)."""
        return float(np.median(self.learners[name].examples))


def _examples_needed(batch: Batch, evaluation: Evaluation, predictions) -> float:
    if batch.family in BOOLEAN_FAMILIES:
        per_sequence = boolean_examples_to_criterion(batch, predictions, n_correct=BOOLEAN_CORRECT_IN_A_ROW)
        return float(np.median(np.where(np.isnan(per_sequence), np.inf, per_sequence)))
    k = examples_to_criterion(evaluation.mse_by_position, CRITERION_FRACTION * evaluation.constant_mse)
    return np.inf if k is None else float(k)


def _score(name: str, members: Sequence[Learner], batch: Batch) -> LearnerResult:
    evaluations, examples, seconds = [], [], []
    for member in members:
        started = time.perf_counter()
        predictions = predict(member, batch)
        seconds.append((time.perf_counter() - started) / batch.batch_size)
        evaluations.append(evaluate_predictions(batch, predictions))
        examples.append(_examples_needed(batch, evaluations[-1], predictions))
    return LearnerResult(name, tuple(evaluations), tuple(examples), float(np.median(seconds)))


def compare_family(lstm_runs: Sequence[TrainResult], original_runs: Sequence[TrainResult], *, n_sequences: int,
                   seq_len: int) -> FamilyComparison:
    """Both LSTMs and every reference learner on the same test streams of the runs' family.

    The gradient-descent step sizes are tuned on streams of the training functions only (seed
    :data:`TUNING_SEED`); the test streams are the held-out functions (Boolean) or fresh ones.

    Args:
        lstm_runs: the family chapter's networks (:func:`family_networks`).
        original_runs: the same recipe without forget gate (recipe ``<family>_original``).
        n_sequences, seq_len: the test streams.
    """
    check(len(lstm_runs) > 0 and len(original_runs) > 0, "lstm_runs, original_runs", "non-empty",
          (len(lstm_runs), len(original_runs)))
    config = lstm_runs[0].config
    tuning = evaluation_batch(config.family, n_sequences=TUNING_SEQUENCES, seq_len=min(seq_len, TUNING_MAX_LEN),
                              seed=TUNING_SEED, functions=config.train_functions, quadratic_map=config.quadratic_map)
    references = reference_learners(config.family, tuning=tuning, names=REFERENCE_NAMES,
                                    quadratic_map=config.quadratic_map)
    batch = family_streams(lstm_runs, n_sequences, seq_len)
    results = {LSTM: _score(LSTM, [r.model for r in lstm_runs], batch),
               ORIGINAL: _score(ORIGINAL, [r.model for r in original_runs], batch),
               **{r.name: _score(r.name, [r], batch) for r in references}}
    rates = {r.name: r.learning_rate for r in references}
    return FamilyComparison(config.family, seq_len, results, rates[ONLINE_GD], rates[BATCH_GD])


def _examples_cell(values: Sequence[float]) -> str:
    """Median (and range over members, when several) of examples to criterion, or "never"."""
    finite = [v for v in values if np.isfinite(v)]
    median = np.median(values)
    text = f"{median:.0f}" if np.isfinite(median) else "never"
    return text + (f" ({min(finite):.0f}-{max(finite):.0f})" if len(values) > 1 and finite else "")


def _speed_ratio(comparison: FamilyComparison) -> str:
    """Online gradient descent's examples to criterion over the LSTM's (median over seeds)."""
    lstm, online = comparison.median_examples(LSTM), comparison.learners[ONLINE_GD].examples[0]
    if not np.isfinite(lstm):
        return "–"
    if not np.isfinite(online):
        return f"≥ {comparison.seq_len / lstm:.0f} (online GD never)"
    return f"{online / lstm:.1f}"


def criterion_table(comparisons: Mapping[str, FamilyComparison]) -> str:
    """Markdown: examples to criterion, one row per learner, one column per family, and the speed ratio."""
    names = list(next(iter(comparisons.values())).learners)
    rows = [[name] + [_examples_cell(c.learners[name].examples) for c in comparisons.values()] for name in names]
    rows.append(["online GD / LSTM"] + [_speed_ratio(c) for c in comparisons.values()])
    return markdown_table(["learner"] + [FAMILY_NAMES[f] for f in comparisons], rows)


def examples_over_ideal(comparisons: Mapping[str, FamilyComparison]) -> dict[str, float]:
    """Family -> the LSTM's median examples to criterion over the ideal learner's (``inf``: never)."""
    return {f: c.median_examples(LSTM) / max(c.learners[IDEAL].examples[0], 1) for f, c in comparisons.items()}


def rates_table(comparisons: Mapping[str, FamilyComparison]) -> str:
    """Markdown: the tuned step sizes of the two gradient-descent learners per family."""
    rows = [[FAMILY_NAMES[f], f"{c.online_rate:g}", f"{c.batch_rate:g}"] for f, c in comparisons.items()]
    return markdown_table(["family", "online GD step size", "batch GD step size"], rows)


def clock_table(comparisons: Mapping[str, FamilyComparison]) -> str:
    """Markdown: milliseconds of CPU time per test stream, one row per learner, one column per family."""
    names = list(next(iter(comparisons.values())).learners)
    rows = [[name] + [f"{1000 * c.learners[name].seconds_per_sequence:.2f}" for c in comparisons.values()]
            for name in names]
    return markdown_table(["learner"] + [FAMILY_NAMES[f] for f in comparisons], rows)


@dataclass(frozen=True)
class SwitchStudy:
    """Boolean-16 networks shown a new function every ``switch_every`` steps without warning.

    Attributes:
        switch_every: steps between switches; late_from: where "late after a switch" starts.
        lstm: ``[n_seeds, switch_every]`` the networks' MSE by examples since the last switch.
        ideal: ``[switch_every]`` the same for the ideal learner, told nothing either.
    """

    switch_every: int
    late_from: int
    lstm: np.ndarray
    ideal: np.ndarray

    def first(self) -> tuple[float, float]:
        """(LSTM, ideal) MSE right after a switch."""
        return float(self.lstm[:, 0].mean()), float(self.ideal[0])

    def late(self) -> tuple[float, float]:
        """(LSTM, ideal) MSE from ``late_from`` examples after a switch on."""
        return float(self.lstm[:, self.late_from:].mean()), float(self.ideal[self.late_from:].mean())


def switch_study(runs: Sequence[TrainResult], *, n_sequences: int, switch_every: int) -> SwitchStudy:
    """Error by examples since an unannounced switch, for Boolean-16 networks and the ideal learner.

    Args:
        runs: Boolean-16 networks trained on one function per sequence.
        n_sequences: test streams, each of ``max(4 * switch_every, 8)`` steps (at least three switches).
        switch_every: steps between switches, an integer >= 2.
    """
    check_int("switch_every", switch_every, minimum=2)
    batch = evaluation_batch("boolean16", n_sequences=n_sequences, seq_len=max(4 * switch_every, 8),
                             switch_every=switch_every, seed=SWITCH_SEED)
    ideal = reference_learners("boolean16", names=(IDEAL,))[0]
    return SwitchStudy(switch_every=switch_every, late_from=min(8, switch_every - 1),
                       lstm=np.array([e.mse_since_switch for e in evaluate_runs(runs, batch)]),
                       ideal=evaluate_predictions(batch, predict(ideal, batch)).mse_since_switch)


@dataclass(frozen=True)
class ShiftRow:
    """Networks on streams unlike their training streams, with the ideal and constant learners on them.

    Attributes:
        label: what the streams are; lstm_mse, lstm_normalised: mean over seeds; ideal_mse, constant_mse.
    """

    label: str
    lstm_mse: float
    lstm_normalised: float
    ideal_mse: float
    constant_mse: float


def _shift_row(label: str, runs: Sequence[TrainResult], batch: Batch) -> ShiftRow:
    lstm = evaluate_runs(runs, batch)
    ideal = reference_learners(batch.family, names=(IDEAL,))[0]
    return ShiftRow(label, float(np.mean([e.mse for e in lstm])), float(np.mean([e.normalised_mse for e in lstm])),
                    evaluate_predictions(batch, predict(ideal, batch)).mse, lstm[0].constant_mse)


def shift_study(networks: Mapping[str, Sequence[TrainResult]], *, n_sequences: int, seq_len: int) -> list[ShiftRow]:
    """The networks of :func:`family_networks` on shifted streams, one :class:`ShiftRow` each.

    A Boolean-14 learner on XOR and XNOR (the functions its family excludes); the continuous learners on
    coefficients from ``[0, 2]``, on inputs from ``[-2, 2]``, and the quadratic one on sequences four
    times its training length (at most 100 of them).

    Args:
        networks: family -> trained networks, for ``boolean14``, ``semilinear`` and ``quadratic``.
        n_sequences, seq_len: the test streams (as in :func:`compare_family`).
    """
    rows = [_shift_row("Boolean-14 learner, XOR and XNOR", networks["boolean14"], evaluation_batch(
        "boolean16", functions=(6, 9), n_sequences=n_sequences, seq_len=seq_len, seed=EXCLUDED_SEED))]
    for family in ("semilinear", "quadratic"):
        runs, name = networks[family], FAMILY_NAMES[family]
        rows += [_shift_row(f"{name}, as trained", runs, family_streams(runs, n_sequences, seq_len)),
                 _shift_row(f"{name}, coefficients in [0, 2]", runs,
                            family_streams(runs, n_sequences, seq_len, coefficient_range=(0.0, 2.0))),
                 _shift_row(f"{name}, inputs in [-2, 2]", runs,
                            family_streams(runs, n_sequences, seq_len, input_range=(-2.0, 2.0)))]
    train_len = networks["quadratic"][0].config.seq_len
    rows.append(_shift_row(f"quadratic, sequences of {4 * train_len} (trained on {train_len})", networks["quadratic"],
                           evaluation_batch("quadratic", n_sequences=min(n_sequences, 100), seq_len=4 * train_len,
                                            seed=LONG_SEED,
                                            quadratic_map=networks["quadratic"][0].config.quadratic_map)))
    return rows


def shift_table(rows: Sequence[ShiftRow]) -> str:
    """Markdown table of :func:`shift_study`'s rows."""
    return markdown_table(["test streams", "LSTM MSE", "LSTM normalised", "ideal learner MSE", "constant MSE"],
                          [[r.label, f"{r.lstm_mse:.4f}", f"{r.lstm_normalised:.3f}", f"{r.ideal_mse:.4f}",
                            f"{r.constant_mse:.4f}"] for r in rows])
