"""The semi-linear chapter's sentences and tables that depend on its numbers.

Hochreiter, Younger & Conwell (2001), Sec. 3, report one MSE for the semi-linear family. The chapter
states more, and each statement whose truth depends on the numbers is chosen here from them: whether
the LSTM meets the chapter's target (a median MSE over seeds at or below it *and* below the best tuned
gradient learner's), how it compares with any other learner, how many times more examples a learner's
median sequence needs, how the gradient learners' tuning came out (is the best step size interior, is the
best width at an edge of the widths tried), and the per-function errors of several learners in one table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..reference_learners import ReferenceLearner
from ..tables import markdown_table
from ..validation import check, check_choice, check_number
from .continuous import GRADIENT_LEARNERS, Comparison
from .per_function import PerFunctionErrors, _percent


def _mse(value: float) -> str:
    return f"{value:.2e}"


def _streams(result: Comparison, name: str) -> str:
    """``" on its 32 test streams"`` when ``name`` was scored on fewer streams than the networks, else ``""``."""
    n, total = result.reference_sequences[name], result.lstm_counts.n // len(result.lstm)
    return f" on its {n} test streams" if n < total else ""


@dataclass(frozen=True)
class TargetVerdict:
    """Whether the networks meet the target "median MSE over seeds at or below ``target``, and below the best
    tuned gradient learner's".

    Attributes:
        median_mse: the networks' median test MSE over seeds.
        target: the MSE target.
        below_target: ``median_mse <= target``.
        best_gradient: the tuned gradient learner (online or batch) with the lower test MSE.
        best_gradient_mse: its test MSE (batch gradient descent: on its streams only).
        beats_best_gradient: ``median_mse < best_gradient_mse``.
        sentence: the verdict as one sentence.
    """

    median_mse: float
    target: float
    below_target: bool
    best_gradient: str
    best_gradient_mse: float
    beats_best_gradient: bool
    sentence: str

    @property
    def met(self) -> bool:
        """Both parts of the target hold."""
        return self.below_target and self.beats_best_gradient


def target_verdict(result: Comparison, target: float) -> TargetVerdict:
    """Judge the target on ``result`` (a :class:`~l2l_lib.experiments.continuous.Comparison` with at least one
    gradient learner among its references); ``target`` is an MSE > 0."""
    check_number("target", target, 0.0, math.inf, low_open=True)
    median, best = result.median_mse, result.best_gradient_learner
    best_mse = result.references[best].mse
    below, beats = median <= target, median < best_mse
    level = f"at or below {target:g}" if below else f"above {target:g}"
    other = f"that of the best tuned gradient learner, {best} ({_mse(best_mse)}{_streams(result, best)})"
    opening = f"the median seed's test MSE, {_mse(median)}, is {level}"
    if below and beats:
        sentence = f"The target is met: {opening} and below {other}."
    elif below:
        sentence = f"The target is missed: {opening} but not below {other}."
    elif beats:
        sentence = f"The target is missed: {opening}, though below {other}."
    else:
        sentence = f"The target is missed: {opening} and not below {other}."
    return TargetVerdict(median, float(target), below, best, best_mse, beats, sentence)


def versus_text(result: Comparison, name: str) -> str:
    """E.g. ``"below that of online least squares on y (1.14e-03)"``: the networks' median MSE against reference
    ``name``'s (``"not below"`` when it is equal or higher)."""
    check_choice("name", name, tuple(result.references))
    mse = result.references[name].mse
    word = "below" if result.median_mse < mse else "not below"
    return f"{word} that of {name} ({_mse(mse)}{_streams(result, name)})"


def examples_ratio_text(result: Comparison, name: str) -> str:
    """How many examples reference ``name``'s median test sequence needs to reach the criterion, against the
    networks' median sequence (pooled over seeds), as a clause, e.g. ``"online gradient descent's median
    sequence needs 12.5 times as many examples as the LSTM's"`` (or the LSTM's as many times ``name``'s, when
    the LSTM needs more; ``"never"`` where a median sequence never reaches the criterion)."""
    check_choice("name", name, tuple(result.reference_counts))
    ratio = result.examples_ratio(name)
    lstm, other = result.lstm_counts.median, result.reference_counts[name].median
    if math.isnan(ratio):
        return f"neither the LSTM's median sequence nor {name}'s reaches the criterion"
    if math.isinf(other):
        return f"{name}'s median sequence never reaches the criterion, the LSTM's after {lstm:.0f} examples"
    if math.isinf(lstm):
        return f"the LSTM's median sequence never reaches the criterion, {name}'s after {other:.0f} examples"
    if math.isinf(ratio):
        return f"the LSTM's median sequence is at the criterion from the first example, {name}'s is not"
    if ratio == 0:
        return f"{name}'s median sequence is at the criterion from the first example, the LSTM's is not"
    if ratio >= 1:
        return f"{name}'s median sequence needs {ratio:.1f} times as many examples as the LSTM's"
    return f"the LSTM's median sequence needs {1 / ratio:.1f} times as many examples as {name}'s"


def width_edge_text(learners: Sequence[ReferenceLearner]) -> str:
    """A sentence naming the tuned gradient learners whose best width is the smallest or largest width tried (the
    search extends step sizes beyond their grid, not widths), or ``""`` when every best width is interior."""
    edges = [f"{r.name} ({r.hidden_size}, {_width_position(r)})" for r in learners
             if r.tuning is not None and _width_position(r) != "interior"]
    if not edges:
        return ""
    return ("The best width lies at an edge of the widths tried for " + " and ".join(edges)
            + "; widths beyond it were not tried.")


def _width_position(learner: ReferenceLearner) -> str:
    widths = sorted({w for _, w in learner.tuning.scores})
    if len(widths) == 1:
        return "the only width tried"
    if learner.hidden_size == widths[-1]:
        return "the largest tried"
    if learner.hidden_size == widths[0]:
        return "the smallest tried"
    return "interior"


def tuning_table(learners: Sequence[ReferenceLearner]) -> str:
    """Markdown table of the tuned gradient learners among ``learners``: chosen width and step size, the widths
    and the step sizes tried (at the chosen width), the tuning MSE, the tuning streams, whether the best step
    size is interior (a smaller and a larger one tried at that width, :attr:`~l2l_lib.baselines.GDTuning.interior`)
    and where the best width lies among the widths tried."""
    tuned = [r for r in learners if r.tuning is not None]
    check(len(tuned) > 0, "learners", "at least one tuned gradient learner", [r.name for r in learners])
    rows = [[r.name, r.hidden_size, f"{r.learning_rate:g}",
             ", ".join(str(w) for w in sorted({w for _, w in r.tuning.scores})),
             ", ".join(f"{x:g}" for x in r.tuning.rate_scores()), _mse(r.tuning.mse),
             f"{r.tuning.n_sequences} × {r.tuning.seq_len}", "yes" if r.tuning.interior else "no (at an edge)",
             _width_position(r)] for r in tuned]
    return markdown_table(["learner", "width", "step size", "widths tried", "step sizes tried at that width",
                           "tuning MSE", "tuning streams × steps", "best step size interior", "best width"], rows)


def gradient_names(result: Comparison) -> tuple[str, ...]:
    """The tuned gradient learners among ``result``'s references, in the order of ``GRADIENT_LEARNERS``."""
    return tuple(n for n in GRADIENT_LEARNERS if n in result.references)


def per_function_table(results: Mapping[str, PerFunctionErrors], threshold: float, *,
                       label: str = "within threshold") -> str:
    """Markdown table of several learners' per-function errors: one row per learner and ``k``, with the median,
    95th and 99th percentile and maximum over test functions, and the share of functions at or below
    ``threshold`` (column ``label``) with its 95% Clopper-Pearson interval."""
    check(len(results) > 0, "results", "a non-empty mapping label -> PerFunctionErrors", results)
    rows = []
    for name, result in results.items():
        for q, count in zip(result.quantiles(), result.share_within(threshold)):
            rows.append([name, q.k, q.median, q.p95, q.p99, q.maximum,
                         f"{_percent(count.rate)} ({_percent(count.low)}–{_percent(count.high)})"])
    return markdown_table(["learner", "examples k", "median", "95th percentile", "99th percentile", "maximum", label],
                          rows)
