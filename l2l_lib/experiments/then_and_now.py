"""The then-and-now chapter's study: the 2001 LSTM beside a transformer and a meta-learned gradient learner.

Hochreiter, Younger & Conwell (2001) meta-train an LSTM to learn new functions from a stream of examples.
Garg et al. (2022) do the same with a transformer; MAML (Finn et al. 2017) and Meta-SGD (Li et al. 2017)
meta-learn where gradient descent starts and how fast it steps. Here all of them meet on the same streams:
each family's recipe (data, seeds, held-out triple, sequence length) trains every meta-learner
(:data:`MODEL_RECIPES`), and every learner, meta-trained or not, sees the same test streams.

Per family, :func:`compare_family` measures for each learner: the error after k examples (mean over
streams, with intervals), examples to criterion per stream, held-out against training functions (Boolean:
learner or recogniser?), CPU time per new function, and the weights it has. :func:`verdict` says, from
those numbers, which meta-learner is the better in-context learner and by how much.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..evaluate import Evaluation, evaluate_predictions, evaluation_batch, predict
from ..recipes import RECIPES, THEN_AND_NOW_FAMILIES
from ..reference_learners import BATCH_GD, CONSTANT, IDEAL, ONLINE_GD, reference_learners
from ..statistics import SuccessCount, position_intervals, success_count
from ..tables import markdown_table
from ..tasks import BOOLEAN_FAMILIES, Batch
from ..train import TrainResult
from ..validation import check, check_choice, check_int
from .boolean import LEARNER_RATIO
from .common import train_recipe
from .per_function import CRITERION_WINDOW, CriterionCounts, counts_of_predictions, criterion_for

FAMILIES = THEN_AND_NOW_FAMILIES
FAMILY_NAMES = {"boolean16": "Boolean-16", "boolean14": "Boolean-14", "semilinear": "semi-linear",
                "quadratic": "quadratic"}
LSTM, ORIGINAL, TRANSFORMER, META_SGD = "LSTM", "original LSTM", "transformer", "Meta-SGD"
#: Each meta-trained learner's recipe, by family: the family chapter's recipe and its variants.
MODEL_RECIPES: dict[str, str] = {LSTM: "{family}", ORIGINAL: "{family}_original",
                                 TRANSFORMER: "{family}_transformer", META_SGD: "{family}_meta_sgd"}
#: The learners that learn nothing before the test: the floor, tuned gradient descent, the constant.
REFERENCES: tuple[str, ...] = (IDEAL, ONLINE_GD, BATCH_GD, CONSTANT)
REFERENCE_LABELS = {IDEAL: "Bayes floor / ideal", ONLINE_GD: "tuned online GD", BATCH_GD: "tuned batch GD",
                    CONSTANT: CONSTANT}
# Which streams: the test streams (held-out functions, or fresh ones), the training-function streams of the
# recogniser test, and the gradient learners' tuning streams; none of them drawn anywhere else in the book.
TEST_SEED, TRAIN_FUNCTIONS_SEED, TUNING_SEED = 41, 42, 43
TUNING_SEQUENCES = 32
#: The error-after-k table's k (examples seen before the prediction).
TABLE_KS: tuple[int, ...] = (1, 4, 16, 64)


def model_recipe(model: str, family: str) -> str:
    """The recipe that trains meta-learner ``model`` (one of :data:`MODEL_RECIPES`) on ``family``."""
    check_choice("model", model, tuple(MODEL_RECIPES))
    check_choice("family", family, FAMILIES)
    return MODEL_RECIPES[model].format(family=family)


def test_length(test_seq_len: int, trained_seq_len: int) -> int:
    """The test streams' length: ``test_seq_len``, but never longer than the networks' training streams
    (Boolean-14 trains on 64 steps), so that no meta-learner is tested beyond the length it was trained on."""
    return min(check_int("test_seq_len", test_seq_len, minimum=2), trained_seq_len)


def n_weights(model: nn.Module) -> int:
    """The weights meta-training adjusts (a network's own count when it has one: pinned gates excluded)."""
    counter = getattr(model, "n_trainable_weights", None)
    return int(counter()) if counter is not None else sum(p.numel() for p in model.parameters())


@dataclass(frozen=True)
class LearnerScores:
    """One learner on one family's test streams.

    Attributes:
        name: the learner's label.
        meta_trained: True for a meta-trained learner (one member per seed), False for a reference.
        test: one :class:`~l2l_lib.evaluate.Evaluation` per member on the test streams (held-out functions for
            Boolean families, fresh functions for continuous ones).
        train_functions: Boolean families: one Evaluation per member on streams of the training functions
            (None for continuous families, whose test functions are all new).
        floor, floor_train: the ideal learner's MSE on the test / training-function streams.
        counts: per member, examples to criterion counted per stream.
        squared_errors: ``[members * streams, T]`` squared error per stream and position (for intervals).
        seconds_per_function: CPU seconds to predict one test stream, median over members.
        weights: weights set by meta-training (meta-trained learners), else None.
        weights_per_function: weights fitted to each new function (gradient learners), else None.
        training_minutes: CPU minutes of meta-training per seed, median (None for references).
    """

    name: str
    meta_trained: bool
    test: tuple[Evaluation, ...]
    train_functions: tuple[Evaluation, ...] | None
    floor: float
    floor_train: float | None
    counts: tuple[CriterionCounts, ...]
    squared_errors: np.ndarray
    seconds_per_function: float
    weights: int | None = None
    weights_per_function: int | None = None
    training_minutes: float | None = None

    @property
    def mse(self) -> np.ndarray:
        """``[members]`` test MSE."""
        return np.array([e.mse for e in self.test])

    @property
    def median_mse(self) -> float:
        return float(np.median(self.mse))

    @property
    def ratios(self) -> np.ndarray:
        """``[members]`` test MSE over the ideal learner's on the same streams (1: the floor)."""
        return self.mse / self.floor

    @property
    def train_ratios(self) -> np.ndarray | None:
        """``[members]`` MSE on training-function streams over the ideal learner's there (Boolean only)."""
        if self.train_functions is None:
            return None
        return np.array([e.mse for e in self.train_functions]) / self.floor_train

    def learners(self) -> SuccessCount:
        """Members within :data:`~l2l_lib.experiments.boolean.LEARNER_RATIO` times the floor on the test
        streams (the Boolean chapter's learner), with the 95% Clopper-Pearson interval of the rate."""
        return success_count(self.ratios, LEARNER_RATIO)

    def recognisers(self) -> int:
        """Boolean: members near the floor on training functions but not on held-out ones."""
        if self.train_ratios is None:
            return 0
        return int(np.count_nonzero((self.train_ratios <= LEARNER_RATIO) & (self.ratios > LEARNER_RATIO)))

    def member_medians(self) -> np.ndarray:
        """``[members]`` each member's median examples to criterion (``inf``: never, for most streams)."""
        return np.array([c.median for c in self.counts])

    def mse_by_position(self) -> np.ndarray:
        """``[members, T]`` error after k examples, one row per member."""
        return np.array([e.mse_by_position for e in self.test])

    def error_after(self, k: int) -> tuple[float, float, float]:
        """``(mean, low, high)``: the squared error of the prediction after ``k`` examples, mean over every
        member's streams, with its 95% normal-approximation interval."""
        mean, low, high = position_intervals(self.squared_errors[:, k:k + 1])
        return float(mean[0]), float(low[0]), float(high[0])


@dataclass(frozen=True)
class FamilyComparison:
    """Every learner on one family's test streams (:func:`compare_family`).

    Attributes:
        family: the family; seq_len: the test streams' length; n_streams: test streams per member.
        learners: label -> :class:`LearnerScores`, meta-trained learners first, then the references.
        held_out: the Boolean held-out triple (``()`` for continuous families).
        criterion: the error level of examples to criterion (10% of the constant predictor's MSE).
    """

    family: str
    seq_len: int
    n_streams: int
    learners: Mapping[str, LearnerScores]
    held_out: tuple[int, ...]
    criterion: float

    @property
    def meta_trained(self) -> dict[str, LearnerScores]:
        return {name: s for name, s in self.learners.items() if s.meta_trained}

    def curves(self) -> dict[str, np.ndarray]:
        """Label -> ``[members, T]`` error by position (for :func:`l2l_lib.plots.plot_error_by_position`)."""
        return {name: s.mse_by_position() for name, s in self.learners.items()}


def _squared(batch: Batch, predictions: torch.Tensor) -> np.ndarray:
    return ((predictions[..., 0].double() - batch.targets[..., 0].double()) ** 2).numpy()


def _score(name: str, members: Sequence[Any], test: Batch, train_streams: Batch | None, floor: float,
           floor_train: float | None, criterion: float, *, meta_trained: bool, **extra: Any) -> LearnerScores:
    evaluations, train_evaluations, counts, squared, seconds = [], [], [], [], []
    for member in members:
        started = time.perf_counter()
        predictions = predict(member, test)
        seconds.append((time.perf_counter() - started) / test.batch_size)
        evaluations.append(evaluate_predictions(test, predictions))
        counts.append(counts_of_predictions(test, predictions, criterion, window=min(CRITERION_WINDOW, test.seq_len)))
        squared.append(_squared(test, predictions))
        if train_streams is not None:
            train_evaluations.append(evaluate_predictions(train_streams, predict(member, train_streams)))
    return LearnerScores(name, meta_trained, tuple(evaluations),
                         tuple(train_evaluations) if train_streams is not None else None, floor, floor_train,
                         tuple(counts), np.concatenate(squared), float(np.median(seconds)), **extra)


def compare_family(family: str, *, n_seeds: int = 5, n_test_sequences: int = 300, test_seq_len: int = 100,
                   first_seed: int | None = None, overrides: Mapping[str, Any] | None = None,
                   progress: bool = True) -> FamilyComparison:
    """Every meta-learner of :data:`MODEL_RECIPES` and every reference of :data:`REFERENCES` on one family.

    Networks come from their recipes (the store, or trained now); the gradient learners' step size and width
    are tuned on streams of their own (training functions for Boolean families, seed :data:`TUNING_SEED`), as
    long as the test streams; the test streams are the recipe's held-out functions (Boolean) or fresh ones.

    Args:
        family: one of :data:`FAMILIES`.
        n_seeds: meta-trained networks per learner (the recipes train 5).
        n_test_sequences: test streams (and, for Boolean families, training-function streams).
        test_seq_len: the test streams' length, capped by :func:`test_length`.
        first_seed, overrides: as :func:`~l2l_lib.experiments.common.train_recipe`, for every recipe.
        progress: progress bars while training.
    """
    check_choice("family", family, FAMILIES)
    check_int("n_seeds", n_seeds)
    check_int("n_test_sequences", n_test_sequences, minimum=2)
    check_int("test_seq_len", test_seq_len, minimum=2)
    runs = {name: train_recipe(model_recipe(name, family), n_seeds=n_seeds, first_seed=first_seed,
                               overrides=overrides, progress=progress) for name in MODEL_RECIPES}
    config = runs[LSTM][0].config
    seq_len = test_length(test_seq_len, min(r[0].config.seq_len for r in runs.values()))
    boolean = family in BOOLEAN_FAMILIES
    streams = dict(n_sequences=n_test_sequences, seq_len=seq_len, quadratic_map=config.quadratic_map)
    test = evaluation_batch(family, functions=config.held_out if boolean else None, seed=TEST_SEED, **streams)
    train_streams = (evaluation_batch(family, functions=config.train_functions, seed=TRAIN_FUNCTIONS_SEED, **streams)
                     if boolean else None)
    tuning = evaluation_batch(family, functions=config.train_functions, n_sequences=TUNING_SEQUENCES,
                              seq_len=seq_len, seed=TUNING_SEED, quadratic_map=config.quadratic_map)
    references = reference_learners(family, tuning=tuning, names=REFERENCES, quadratic_map=config.quadratic_map)
    ideal = references[0]
    floor = evaluate_predictions(test, predict(ideal, test)).mse
    floor_train = evaluate_predictions(train_streams, predict(ideal, train_streams)).mse if boolean else None
    criterion = criterion_for(test)
    scores: dict[str, LearnerScores] = {}
    for name, members in runs.items():
        scores[name] = _score(name, [r.model for r in members], test, train_streams, floor, floor_train, criterion,
                              meta_trained=True, weights=n_weights(members[0].model),
                              training_minutes=float(np.median([r.history.seconds[-1] for r in members])) / 60)
    for reference in references:
        width = reference.hidden_size
        scores[REFERENCE_LABELS[reference.name]] = _score(
            REFERENCE_LABELS[reference.name], [reference], test, train_streams, floor, floor_train, criterion,
            meta_trained=False, weights_per_function=None if width is None else 4 * width + 1)
    return FamilyComparison(family, seq_len, n_test_sequences, scores, tuple(config.held_out), criterion)


# ----------------------------------------------------------------------------- tables
def _number(value: float) -> str:
    return f"{value:.2g}" if value < 0.01 else f"{value:.3f}"


def _count(value: float) -> str:
    return "never" if math.isinf(value) else f"{value:.0f}"


def _median_range(values: np.ndarray, cell) -> str:
    text = cell(float(np.median(values)))
    return text if values.size == 1 else f"{text} ({cell(float(values.min()))}–{cell(float(values.max()))})"


def summary_table(comparison: FamilyComparison) -> str:
    """Markdown: per learner, test MSE (median and range over seeds), MSE over the floor's, examples to
    criterion (median over seeds of each seed's median stream, and their range), and its weights."""
    rows = []
    for name, s in comparison.learners.items():
        weights = (f"{s.weights:,} meta-trained" if s.weights is not None
                   else f"{s.weights_per_function} fitted per function" if s.weights_per_function is not None else "–")
        rows.append([name, str(len(s.test)), _median_range(s.mse, _number),
                     _median_range(s.ratios, lambda v: f"{v:.2f}"), _median_range(s.member_medians(), _count), weights])
    return markdown_table(["learner", "seeds", "test MSE", "MSE / floor", "examples to criterion", "weights"], rows)


def cost_table(comparisons: Mapping[str, FamilyComparison]) -> str:
    """Markdown: per learner, milliseconds of CPU time to predict one new function's stream, and (meta-trained
    learners) CPU minutes of meta-training per seed, one pair of columns per family."""
    names = list(next(iter(comparisons.values())).learners)
    rows = []
    for name in names:
        row = [name]
        for c in comparisons.values():
            s = c.learners[name]
            row += [f"{1000 * s.seconds_per_function:.2f}",
                    "–" if s.training_minutes is None else f"{s.training_minutes:.1f}"]
        rows.append(row)
    header = ["learner"]
    for family in comparisons:
        header += [f"{FAMILY_NAMES[family]}: ms per function", f"{FAMILY_NAMES[family]}: training min"]
    return markdown_table(header, rows)


def error_after_table(comparison: FamilyComparison, ks: Sequence[int] = TABLE_KS) -> str:
    """Markdown: the error of the prediction after k examples, mean over every seed's streams with its 95%
    interval, one row per learner and one column per k (those shorter than the streams)."""
    ks = [k for k in ks if k < comparison.seq_len]
    rows = []
    for name, s in comparison.learners.items():
        cells = []
        for k in ks:
            mean, low, high = s.error_after(k)
            cells.append(f"{_number(mean)} [{_number(max(low, 0.0))}, {_number(high)}]")
        rows.append([name] + cells)
    return markdown_table(["learner"] + [f"after {k}" for k in ks], rows)


def recogniser_table(comparisons: Mapping[str, FamilyComparison]) -> str:
    """Markdown, Boolean families: per meta-learner, the seeds that are learners on held-out functions (95%
    Clopper-Pearson interval), the recognisers, and the median MSE over the floor on held-out and training
    functions."""
    rows = []
    for family, comparison in comparisons.items():
        if comparison.family not in BOOLEAN_FAMILIES:
            continue
        for name, s in comparison.meta_trained.items():
            count = s.learners()
            rows.append([FAMILY_NAMES[family], name, f"{count.successes} of {count.trials} "
                         f"[{100 * count.low:.0f}%, {100 * count.high:.0f}%]", str(s.recognisers()),
                         f"{np.median(s.ratios):.2f}", f"{np.median(s.train_ratios):.2f}"])
    return markdown_table(["family", "learner", f"learners (held-out MSE ≤ {LEARNER_RATIO:g} × floor)",
                           "recognisers", "held-out MSE / floor", "training-function MSE / floor"], rows)


# ----------------------------------------------------------------------------- the verdict
@dataclass(frozen=True)
class Verdict:
    """Which meta-learner is the better in-context learner on one family, by median test MSE over seeds.

    Attributes:
        family: the family.
        ranking: meta-learner labels, best first.
        mse: label -> median test MSE over seeds.
        examples: label -> median over seeds of the median examples to criterion.
        floor: the ideal learner's MSE; best_gd: the lower of the tuned gradient learners' MSE, and its name.
    """

    family: str
    ranking: tuple[str, ...]
    mse: Mapping[str, float]
    examples: Mapping[str, float]
    floor: float
    best_gd: tuple[str, float]

    @property
    def best(self) -> str:
        return self.ranking[0]

    @property
    def margin(self) -> float:
        """The runner-up's median MSE over the best's (how much better the best is)."""
        return self.mse[self.ranking[1]] / self.mse[self.best]

    def sentence(self) -> str:
        """One sentence, every word of it chosen by the numbers."""
        best, second = self.best, self.ranking[1]
        gd_name, gd_mse = self.best_gd
        against_gd = (f"{gd_mse / self.mse[best]:.1f} times below {gd_name}'s" if gd_mse > self.mse[best]
                      else f"{self.mse[best] / gd_mse:.1f} times above {gd_name}'s")
        examples = self.examples[best]
        reached = ("its median stream never stays within the criterion" if math.isinf(examples) else
                   f"its median stream reaches the criterion after {examples:.0f} example{'' if examples == 1 else 's'}")
        rest = (f"{self.mse[best] / self.floor:.2f} times the floor and {against_gd}; {reached}.")
        if self.margin >= CLEAR_MARGIN:
            return (f"On {FAMILY_NAMES[self.family]}, {_the(best)} is the better in-context learner: median test MSE "
                    f"{_number(self.mse[best])}, {self.margin:.1f} times below {_the(second)}'s "
                    f"({_number(self.mse[second])}), {rest}")
        return (f"On {FAMILY_NAMES[self.family]}, no meta-learner is clearly the better in-context learner: "
                f"{_the(best)}'s median test MSE, {_number(self.mse[best])}, is within "
                f"{100 * (self.margin - 1):.0f} % of {_the(second)}'s ({_number(self.mse[second])}) and "
                f"{rest}")


#: Below this ratio of the runner-up's error to the best's, the verdict calls the two level, not ranked.
CLEAR_MARGIN = 1.1


def _the(name: str) -> str:
    """A learner's name inside a sentence: "the transformer", but "Meta-SGD"."""
    return name if name == META_SGD else f"the {name}"


def verdict(comparison: FamilyComparison) -> Verdict:
    """The meta-learners of ``comparison`` ranked by median test MSE over seeds (see :class:`Verdict`)."""
    meta = comparison.meta_trained
    check(len(meta) >= 2, "comparison", "a comparison with at least two meta-trained learners", list(meta))
    mse = {name: s.median_mse for name, s in meta.items()}
    ranking = tuple(sorted(mse, key=mse.get))
    examples = {name: float(np.median(s.member_medians())) for name, s in meta.items()}
    gd = {label: comparison.learners[label].median_mse for label in (REFERENCE_LABELS[ONLINE_GD],
                                                                    REFERENCE_LABELS[BATCH_GD])}
    best_gd = min(gd.items(), key=lambda item: item[1])
    return Verdict(comparison.family, ranking, mse, examples, comparison.learners[REFERENCE_LABELS[IDEAL]].median_mse,
                   best_gd)


def verdict_table(verdicts: Sequence[Verdict]) -> str:
    """Markdown: per family, the meta-learners in order of median test MSE, and the best one's margin."""
    rows = [[FAMILY_NAMES[v.family], " < ".join(f"{name} ({_number(v.mse[name])})" for name in v.ranking),
             f"{v.margin:.1f}×", f"{v.mse[v.best] / v.floor:.2f}"] for v in verdicts]
    return markdown_table(["family", "median test MSE, best first", "runner-up / best", "best / floor"], rows)


# ----------------------------------------------------------------------------- the step-size search
#: Where ``benchmarks/recipes.py --out`` wrote the search (search seed 0; Boolean-16 on a search triple).
SEARCH_PATTERN = "then_and_now_search_*.json"


@dataclass(frozen=True)
class SearchRow:
    """One search run: a learner's recipe with one Adam step size, shortened, on one search seed.

    Attributes:
        architecture, family, learning_rate, n_steps, seed, held_out: what was trained.
        val_mse: the kept weights' validation MSE (training functions, or fresh functions; never held-out ones).
    """

    architecture: str
    family: str
    learning_rate: float
    n_steps: int
    seed: int
    held_out: tuple[int, ...]
    val_mse: float


def read_search(directory: str | Path | None = None, pattern: str = SEARCH_PATTERN) -> tuple[SearchRow, ...]:
    """The step-size search's runs (``benchmarks/results/then_and_now_search_*.json``), sorted.

    Raises:
        FileNotFoundError: when there is none.
    """
    from .boolean_search import RESULTS, kept_index  # the repository's benchmarks/results; the logs' format
    paths = sorted(Path(directory or RESULTS).glob(pattern))
    if not paths:
        raise FileNotFoundError(f"no search logs {pattern} in {directory or RESULTS}")
    rows = []
    for path in paths:
        record = json.loads(path.read_text())
        config = record["config"]
        for entry in record["seeds"]:
            history = entry["history"]
            rows.append(SearchRow(config["architecture"], config["family"], float(config["learning_rate"]),
                                  int(config["n_steps"]), int(entry["seed"]), tuple(config["held_out"]),
                                  float(history["val_mse"][kept_index(history)])))
    return tuple(sorted(rows, key=lambda r: (r.architecture, r.family, r.learning_rate)))


def search_pick(rows: Sequence[SearchRow], architecture: str) -> float:
    """The rule, fixed with the search: for one learner, the step size whose validation MSE, divided by the
    best of its family, has the lowest geometric mean over the searched families (every family must have
    scored every step size)."""
    mine = [r for r in rows if r.architecture == architecture]
    check(bool(mine), "architecture", f"one of {sorted({r.architecture for r in rows})}", architecture)
    families, rates = sorted({r.family for r in mine}), sorted({r.learning_rate for r in mine})
    val = {(r.family, r.learning_rate): r.val_mse for r in mine}
    check(all((f, lr) in val for f in families for lr in rates), "rows", "every step size run on every family",
          sorted(val))
    best = {f: min(val[f, lr] for lr in rates) for f in families}
    return min(rates, key=lambda lr: float(np.mean([np.log(val[f, lr] / best[f]) for f in families])))


def search_table(rows: Sequence[SearchRow]) -> str:
    """Markdown: every search run's validation MSE, one row per learner and step size, one column per family,
    the chosen step size marked."""
    families = sorted({r.family for r in rows}, key=lambda f: (f not in BOOLEAN_FAMILIES, f))
    table = []
    for architecture in sorted({r.architecture for r in rows}):
        pick = search_pick(rows, architecture)
        for rate in sorted({r.learning_rate for r in rows if r.architecture == architecture}):
            found = {r.family: r for r in rows if r.architecture == architecture and r.learning_rate == rate}
            table.append([architecture, f"{rate:g}" + (" (chosen)" if rate == pick else "")]
                         + [f"{_number(found[f].val_mse)} ({found[f].n_steps:,} steps)" if f in found else "–"
                            for f in families])
    return markdown_table(["learner", "Adam step size"] + [FAMILY_NAMES[f] for f in families], table)
