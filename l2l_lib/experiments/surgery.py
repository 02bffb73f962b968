"""The surgery chapter's study: every network of a Boolean recipe, on every held-out set, classified and
dissected, and how often the student report's picture is what a learner builds.

The student report read one trained 6-unit Boolean-16 network's weights (Hochreiter, Younger & Conwell
2001, Sec. 3) and saw input-memory units, four answer slots and a (0, 0) recogniser. The measurements are
in :mod:`l2l_lib.surgery` (ablation, slot map, intervention, verdict); this module runs them over a
recipe's networks (every held-out set, every seed) and counts. Read top to bottom:

* :func:`classify_networks`: learner or recogniser, from each network's held-out MSE on its own set;
* :func:`dissect`: the three measurements of one network;
* :func:`network_verdicts`, :data:`CRITERIA`: each criterion of the report's picture, network by network;
* :func:`count_criteria`: success counts with Clopper-Pearson intervals, per held-out set and overall, and
  the sentences whose wording the counts choose;
* :func:`verdict_table`, :func:`summarise_surgery`: the table and the numbers the chapter's prose quotes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model import MetaLSTM
from ..protocol import evaluation_triples
from ..statistics import SuccessCount, clopper_pearson, success_count
from ..surgery import PATTERNS, Ablation, SlotMap, ablate_units, intervene_slots, report_picture, slot_map
from ..tables import markdown_table
from ..tasks import Batch
from ..train import TrainResult
from ..validation import check, check_number
from .boolean import LEARNER_RATIO, boolean_references
from .common import evaluate_runs

#: A unit whose silencing changes the overall MSE by less than this is *harmless*.
HARMLESS_MSE = 0.01
#: The intervention criterion: overwriting a pattern's slot flips at least this fraction of the next answers
#: to that pattern ...
FLIP_OWN = 0.5
#: ... and on average at most this fraction of the next answers to each other pattern.
FLIP_OTHERS = 0.25

#: The criteria checked on every network, in the order of the chapter's table and figure (key -> label).
#: ``slots`` .. ``recogniser_00`` and ``ablation`` come from :func:`l2l_lib.surgery.report_picture`,
#: ``intervention`` from :func:`l2l_lib.surgery.intervene_slots`.
CRITERIA: dict[str, str] = {
    "slots": "a slot for each pattern",
    "distinct_slots": "four distinct slot units",
    "input_memory": "input memory",
    "recogniser_00": "(0,0) recogniser",
    "ablation": "silencing a slot hurts its pattern most",
    "intervention": "overwriting a slot flips its pattern",
}
#: The report's picture (one slot per input pattern, in four distinct units, plus input memory) and all
#: criteria together: the two combined columns.
PICTURE, ALL = "the report's picture", "all six criteria"
COLUMNS: tuple[str, ...] = (*CRITERIA, PICTURE, ALL)


def _set_text(held_out: Sequence[int]) -> str:
    return "(" + ", ".join(str(k) for k in held_out) + ")"


# ----------------------------------------------------------------------------- learners and recognisers
@dataclass(frozen=True)
class NetworkKinds:
    """Which trained networks are learners: held-out MSE within ``learned_ratio`` times the ideal learner's.

    One entry per network, ordered by held-out set (the recipe's order) and then by seed.

    Attributes:
        family: the Boolean family (``"boolean16"`` or ``"boolean14"``).
        held_out: per network, the functions held out of its training.
        seeds: per network, its seed.
        held_out_mse: per network, its MSE on test streams of its held-out functions.
        floors: per network, the ideal learner's MSE on the same streams.
        learned_ratio: the line between learners and recognisers, in multiples of the floor.
    """

    family: str
    held_out: tuple[tuple[int, ...], ...]
    seeds: tuple[int, ...]
    held_out_mse: tuple[float, ...]
    floors: tuple[float, ...]
    learned_ratio: float

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def ratios(self) -> np.ndarray:
        """``[n]``: held-out MSE over the floor."""
        return np.array(self.held_out_mse) / np.array(self.floors)

    @property
    def learned(self) -> np.ndarray:
        """``[n]`` bool: the network is a learner (a NaN MSE is not)."""
        with np.errstate(invalid="ignore"):
            return self.ratios <= self.learned_ratio

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple("learner" if ok else "recogniser" for ok in self.learned)

    @property
    def labels(self) -> tuple[str, ...]:
        """Row and panel labels: ``"(0, 6, 9) seed 10000 (learner)"``."""
        return tuple(f"{_set_text(h)} seed {s} ({kind})" for h, s, kind in zip(self.held_out, self.seeds, self.kinds))

    @property
    def sets(self) -> tuple[tuple[int, ...], ...]:
        """The held-out sets, in order, each once."""
        return tuple(dict.fromkeys(self.held_out))

    def learners(self, held_out: Sequence[int] | None = None) -> SuccessCount:
        """Learners among the networks of one held-out set (None: all), with the Clopper-Pearson interval."""
        keep = [h == tuple(held_out) for h in self.held_out] if held_out is not None else [True] * self.n
        check(any(keep), "held_out", f"one of {self.sets} or None", held_out)
        return success_count(self.ratios[keep], self.learned_ratio)

    def learners_sentence(self) -> str:
        """The learners of every held-out set, in words: ``"(0, 6, 9): 3/5 (95% CI 0.15–0.95); ..."``."""
        return "; ".join(f"{_set_text(h)}: {self.learners(h).text()}" for h in self.sets)

    @property
    def paper_set(self) -> tuple[int, ...]:
        """The paper's held-out set of the family (:func:`l2l_lib.protocol.evaluation_triples`, first)."""
        return tuple(evaluation_triples(self.family)[0])

    @property
    def illustrative(self) -> int | None:
        """The network the chapter shows in detail, by a rule fixed before looking at any result: the learner
        with the lowest seed on the paper's held-out set; if none learned there, the first learner in
        (held-out set, seed) order; None when no network learned."""
        order = sorted(range(self.n), key=lambda k: (self.held_out[k] != self.paper_set, self.sets.index(
            self.held_out[k]), self.seeds[k]))
        return next((k for k in order if self.learned[k]), None)

    def recognisers_sentence(self) -> str:
        """How far above the floor the recognisers sit, in words chosen by the numbers."""
        ratios = self.ratios[~self.learned]
        ratios = ratios[np.isfinite(ratios)]
        if ratios.size == 0:
            return "No network sits above that line."
        return (f"The recognisers sit {ratios.min():.1f} times or more above the floor on their held-out "
                "functions: they recognise their training functions.")


def all_runs(runs_by_set: Mapping[tuple[int, ...], Sequence[TrainResult]]) -> list[TrainResult]:
    """The networks of ``{held-out set: runs}`` (:func:`~l2l_lib.experiments.common.train_recipe_sets`) as one
    list, in the order of :class:`NetworkKinds`: by set, then as given (seed order)."""
    return [run for runs in runs_by_set.values() for run in runs]


def classify_networks(runs_by_set: Mapping[tuple[int, ...], Sequence[TrainResult]], n_test_sequences: int,
                      learned_ratio: float = LEARNER_RATIO) -> NetworkKinds:
    """Learner or recogniser, for every trained network of a Boolean recipe, on each held-out set.

    Each set's test streams and floor are the Boolean chapter's
    (:func:`l2l_lib.experiments.boolean.boolean_references`, the ideal learner's held-out MSE), so a network
    is judged on the functions held out of its own training.

    Args:
        runs_by_set: ``{held-out set: trained networks}``, e.g. ``train_recipe_sets("boolean16")``; every
            network's ``config.held_out`` must be its key.
        n_test_sequences: test streams of the held-out functions, per set.
        learned_ratio: a network within this many times the floor is a learner (the Boolean chapter's
            success line, 1.1, is met by few networks; learners sit within a few times the floor,
            recognisers ten times or more above it).
    """
    check(isinstance(runs_by_set, Mapping) and len(runs_by_set) > 0 and all(len(r) > 0 for r in runs_by_set.values()),
          "runs_by_set", "a non-empty {held-out set: non-empty list of TrainResult} dict", runs_by_set)
    check_number("learned_ratio", learned_ratio, 1.0, float("inf"), high_open=True)
    family = {run.config.family for run in all_runs(runs_by_set)}
    check(len(family) == 1, "runs_by_set", "networks of one Boolean family", sorted(family))
    held_out, seeds, mse, floors = [], [], [], []
    for key, runs in runs_by_set.items():
        sets = {tuple(run.config.held_out) for run in runs}
        check(sets == {tuple(key)}, f"runs_by_set[{key}]", f"networks whose config.held_out is {tuple(key)}",
              sorted(sets))
        references = boolean_references(runs[0].config, n_test_sequences)
        held_out += [tuple(key)] * len(runs)
        seeds += [run.config.seed for run in runs]
        mse += [e.mse for e in evaluate_runs(runs, references.test)]
        floors += [references.ideal.mse] * len(runs)
    return NetworkKinds(family=family.pop(), held_out=tuple(held_out), seeds=tuple(seeds), held_out_mse=tuple(mse),
                        floors=tuple(floors), learned_ratio=float(learned_ratio))


# ----------------------------------------------------------------------------- measurements and verdicts
@dataclass(frozen=True)
class Dissection:
    """The three measurements of one network (:mod:`l2l_lib.surgery`) on the probe streams.

    Attributes:
        slot: :func:`~l2l_lib.surgery.slot_map`.
        ablation: :func:`~l2l_lib.surgery.ablate_units` (every unit).
        flips: ``[4, 4]``, :func:`~l2l_lib.surgery.intervene_slots` at the slot map's best units (row:
            overwritten slot, column: answered pattern).
    """

    slot: SlotMap
    ablation: Ablation
    flips: np.ndarray


def dissect(model: MetaLSTM, probe: Batch) -> Dissection:
    """Slot map, ablation of every unit and interventions at the slot map's units, on ``probe``.

    Args:
        model: a one-layer :class:`~l2l_lib.model.MetaLSTM` of a Boolean family.
        probe: Boolean-16 streams of all sixteen functions (:func:`l2l_lib.surgery.probe_batch`).
    """
    slot = slot_map(model, probe)
    return Dissection(slot=slot, ablation=ablate_units(model, probe), flips=intervene_slots(model, probe, slot))


def intervention_holds(flips: np.ndarray) -> bool:
    """The intervention criterion on a ``[4, 4]`` flip matrix: for every pattern p, overwriting its slot
    flips at least :data:`FLIP_OWN` of the next answers to p and on average at most :data:`FLIP_OTHERS` of
    those to the other patterns. A NaN (no slot candidate, nothing counted) fails it."""
    flips = np.asarray(flips, dtype=float)
    check(flips.shape == (4, 4), "flips.shape", "(4, 4)", flips.shape)
    others = flips[~np.eye(4, dtype=bool)].reshape(4, 3).mean(axis=1)
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.diag(flips) >= FLIP_OWN) and np.all(others <= FLIP_OTHERS))


@dataclass(frozen=True)
class NetworkVerdict:
    """The report's picture, checked on one network (:func:`l2l_lib.surgery.report_picture`).

    Attributes:
        held_out, seed, kind, held_out_mse: the network (kind: ``"learner"`` or ``"recogniser"``).
        picture: the dict of :func:`~l2l_lib.surgery.report_picture`.
        confidence: ``[4]``, the slot map's confidence per pattern.
        flips: ``[4, 4]``, :func:`l2l_lib.surgery.intervene_slots` (row: overwritten slot, column: answered
            pattern).
    """

    held_out: tuple[int, ...]
    seed: int
    kind: str
    held_out_mse: float
    picture: dict[str, Any]
    confidence: np.ndarray
    flips: np.ndarray

    @property
    def flipped_own(self) -> np.ndarray:
        """``[4]``: fraction of flipped next answers to the overwritten pattern (the diagonal)."""
        return np.diag(self.flips)

    @property
    def flipped_others(self) -> np.ndarray:
        """``[12]``: fractions of flipped next answers to the other patterns (off the diagonal)."""
        return self.flips[~np.eye(4, dtype=bool)]

    @property
    def n_slots(self) -> int:
        """Patterns whose answer one cell holds at the picture's threshold."""
        return sum(u is not None for u in self.picture["slot_units"].values())

    @property
    def criteria(self) -> dict[str, bool]:
        """Every column of :data:`COLUMNS`: each criterion of :data:`CRITERIA`, the picture, all of them."""
        hurts = self.picture["ablation_hurts_own_pattern"]
        found = {
            "slots": self.n_slots == 4,
            "distinct_slots": bool(self.picture["four_slots"]),
            "input_memory": bool(self.picture["input_memory"]),
            "recogniser_00": bool(self.picture["recogniser_00_units"]),
            "ablation": all(hurts.get(p) is True for p in range(4)),
            "intervention": intervention_holds(self.flips),
        }
        found[PICTURE] = found["distinct_slots"] and found["input_memory"]
        found[ALL] = all(found[key] for key in CRITERIA)
        return found

    @property
    def holds(self) -> bool:
        """The report's picture: four answer slots in four distinct units, plus input memory."""
        return self.criteria[PICTURE]


def network_verdicts(kinds: NetworkKinds, dissections: Sequence[Dissection], threshold: float
                     ) -> tuple[NetworkVerdict, ...]:
    """One :class:`NetworkVerdict` per network, from its :class:`Dissection`.

    Args:
        kinds: from :func:`classify_networks`; dissections: one per network, in the same order.
        threshold: the one |correlation| level of every rule (:func:`l2l_lib.surgery.report_picture`).
    """
    check(len(dissections) == kinds.n, "dissections", f"one per network ({kinds.n})", len(dissections))
    verdicts = []
    for k, d in enumerate(dissections):
        check(isinstance(d, Dissection), f"dissections[{k}]", "a Dissection", type(d).__name__)
        check(np.shape(d.flips) == (4, 4), f"dissections[{k}].flips.shape", "(4, 4)", np.shape(d.flips))
        verdicts.append(NetworkVerdict(held_out=kinds.held_out[k], seed=kinds.seeds[k], kind=kinds.kinds[k],
                                       held_out_mse=kinds.held_out_mse[k],
                                       picture=report_picture(d.slot, d.ablation, threshold),
                                       confidence=np.asarray(d.slot.confidence),
                                       flips=np.asarray(d.flips, dtype=float)))
    return tuple(verdicts)


def criteria_matrix(verdicts: Sequence[NetworkVerdict]) -> np.ndarray:
    """``[n_networks, len(COLUMNS)]`` bool: which criterion (column) holds in which network (row)."""
    return np.array([[v.criteria[c] for c in COLUMNS] for v in verdicts], dtype=bool).reshape(len(verdicts),
                                                                                               len(COLUMNS))


# ----------------------------------------------------------------------------- counts
def holds_count(holds: Sequence[bool]) -> SuccessCount | None:
    """How many of ``holds`` are True, with the Clopper-Pearson interval; None when there are none."""
    holds = [bool(h) for h in holds]
    if not holds:
        return None
    low, high = clopper_pearson(sum(holds), len(holds))
    return SuccessCount(sum(holds), len(holds), low, high)


@dataclass(frozen=True)
class CriteriaCounts:
    """How many networks meet each criterion: learners per held-out set, all learners, all recognisers.

    Attributes:
        sets: the held-out sets, in order.
        by_set: set -> column of :data:`COLUMNS` -> the count among that set's learners (None: no learner).
        learners, recognisers: column -> the count among all learners, resp. recognisers (None: none).
    """

    sets: tuple[tuple[int, ...], ...]
    by_set: dict[tuple[int, ...], dict[str, SuccessCount | None]]
    learners: dict[str, SuccessCount | None]
    recognisers: dict[str, SuccessCount | None]

    @property
    def n_learners(self) -> int:
        first = self.learners[PICTURE]
        return 0 if first is None else first.trials

    def table(self) -> str:
        """The counts as a Markdown table: one row per criterion and the two combined rows; one column per
        held-out set (its learners), then every learner, then every recogniser."""
        groups = [self.by_set[s] for s in self.sets] + [self.learners, self.recognisers]
        headers = ["criterion", *(f"learners, held out {_set_text(s)}" for s in self.sets), "all learners",
                   "all recognisers"]
        rows = [[CRITERIA.get(c, c), *("no network" if g[c] is None else g[c].text() for g in groups)]
                for c in COLUMNS]
        return markdown_table(headers, rows)

    def picture_sentence(self) -> str:
        """Whether most learners build the report's picture, in words chosen by the counts."""
        picture = self.learners[PICTURE]
        if picture is None:
            return ("No network learned here, so no learner can be dissected: the counts are of recognisers only, "
                    "and the network measured above is a recogniser.")
        k, n = picture.successes, picture.trials
        half = ("the 95 % interval lies above one half" if picture.low > 0.5 else
                "the 95 % interval lies below one half" if picture.high < 0.5 else
                f"the 95 % interval includes one half: {n} learner{'s' if n != 1 else ''} cannot settle whether "
                "most learners do")
        if k == n:
            verdict = f"Every learner builds the report's picture: {picture.text()}"
        elif k == 0:
            verdict = f"No learner builds the report's picture: {picture.text()}"
        elif 2 * k == n:
            verdict = f"Half of the learners build the report's picture: {picture.text()}"
        elif 2 * k > n:
            # "most" only where the interval says so; a majority of a small sample is said as a count
            verdict = (f"Most learners build the report's picture: {picture.text()}" if picture.low > 0.5 else
                       f"More than half of these learners build the report's picture: {picture.text()}")
        else:
            verdict = (f"Most learners do not build the report's picture: only {picture.text()} do"
                       if picture.high < 0.5 else
                       f"Fewer than half of these learners build the report's picture: {picture.text()}")
        return f"{verdict}; {half}."

    def weakest_sentence(self) -> str:
        """Which single criterion the learners fail most often, in words chosen by the counts."""
        if self.learners[PICTURE] is None:
            return ""
        fewest = min(CRITERIA, key=lambda c: self.learners[c].successes)  # first in CRITERIA order on ties
        counts = self.learners[fewest]
        if counts.successes == counts.trials:
            return "Every learner meets every single criterion."
        return (f"The criterion learners fail most often is *{CRITERIA[fewest]}*: {counts.successes} of "
                f"{counts.trials} meet it.")

    def sets_sentence(self) -> str:
        """On which held-out sets a learner builds the picture, in words chosen by the counts."""
        with_learners = [s for s in self.sets if self.by_set[s][PICTURE] is not None]
        if not with_learners:
            return ""
        holding = [s for s in with_learners if self.by_set[s][PICTURE].successes > 0]
        if len(holding) == len(with_learners) and len(with_learners) > 1:
            return "On every held-out set with learners, at least one learner builds it."
        if not holding:
            return "On no held-out set does a learner build it."
        return ("Learners that build it come from held-out set" + ("s " if len(holding) > 1 else " ")
                + ", ".join(_set_text(s) for s in holding) + f", of {len(with_learners)} set"
                + ("s" if len(with_learners) > 1 else "") + " with learners.")

    def recognisers_sentence(self) -> str:
        """The picture in learners against recognisers, in words chosen by the counts."""
        learners, recognisers = self.learners[PICTURE], self.recognisers[PICTURE]
        if learners is None or recognisers is None:
            return "With only one kind of network here, the two kinds cannot be compared."
        if recognisers.successes == 0:
            return f"No recogniser builds it: {recognisers.text()}."
        if recognisers.rate >= learners.rate:
            return (f"Recognisers build it at least as often: {recognisers.text()}. The picture alone does not "
                    "make a network learn.")
        return f"Recognisers build it less often: {recognisers.text()}."


def count_criteria(verdicts: Sequence[NetworkVerdict]) -> CriteriaCounts:
    """Count each criterion (:data:`COLUMNS`) among the learners of each held-out set, all learners and all
    recognisers, each with its Clopper-Pearson 95 % interval (:func:`holds_count`)."""
    check(len(verdicts) > 0, "verdicts", "a non-empty sequence of NetworkVerdict", verdicts)
    sets = tuple(dict.fromkeys(v.held_out for v in verdicts))

    def counts(group: Sequence[NetworkVerdict]) -> dict[str, SuccessCount | None]:
        return {c: holds_count([v.criteria[c] for v in group]) for c in COLUMNS}

    learners = [v for v in verdicts if v.kind == "learner"]
    return CriteriaCounts(sets=sets, by_set={s: counts([v for v in learners if v.held_out == s]) for s in sets},
                          learners=counts(learners),
                          recognisers=counts([v for v in verdicts if v.kind == "recogniser"]))


# ----------------------------------------------------------------------------- table and summary
def _mean(values: Sequence[float] | np.ndarray) -> float:
    """Mean without NaNs (NaN when nothing is left)."""
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else float("nan")


def _units(units: Sequence[int]) -> str:
    return ", ".join(f"h{u + 1}" for u in units) or "none"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def verdict_table(verdicts: Sequence[NetworkVerdict]) -> str:
    """The verdict network by network, as a Markdown table (:func:`l2l_lib.tables.markdown_table`)."""
    headers = ["held out", "seed", "kind", "held-out MSE", "slot unit (confidence) for " + " / ".join(PATTERNS),
               "input memory", "(0,0) recogniser", "flipped: own / other patterns", "report's picture"]
    rows = []
    for v in verdicts:
        slots = " / ".join(f"{'–' if u is None else f'h{u + 1}'} ({v.confidence[p]:.2f})"
                           for p, u in v.picture["slot_units"].items())
        rows.append([_set_text(v.held_out), v.seed, v.kind, v.held_out_mse, slots,
                     _units(v.picture["input_memory_units"]), _units(v.picture["recogniser_00_units"]),
                     f"{100 * _mean(v.flipped_own):.0f} % / {100 * _mean(v.flipped_others):.0f} %", _yes(v.holds)])
    return markdown_table(headers, rows)


@dataclass(frozen=True)
class SurgerySummary:
    """The numbers the surgery chapter's prose quotes.

    Attributes:
        worst_damage: ``(lowest, highest)`` over networks of each network's worst per-pattern MSE increase
            from silencing one unit.
        harmless: per network, the units whose silencing changes the overall MSE by less than
            :data:`HARMLESS_MSE`.
        confidence: kind -> median slot-map confidence over that kind's networks and patterns (NaN: none).
        flipped_own, flipped_others: kind -> fraction of flipped answers to the overwritten, resp. the other,
            patterns, pooled over that kind's networks and patterns (NaN: none).
        n_slots: kind -> per network of that kind, its number of slots.
    """

    worst_damage: tuple[float, float]
    harmless: tuple[int, ...]
    confidence: dict[str, float]
    flipped_own: dict[str, float]
    flipped_others: dict[str, float]
    n_slots: dict[str, tuple[int, ...]]

    def kinds_sentence(self) -> str:
        """Slot-map confidence and intervention flips of learners and recognisers, in words; a kind with no
        network is said to be absent instead of quoted as NaN."""
        parts = []
        for kind, name in (("learner", "learners"), ("recogniser", "recognisers")):
            if not self.n_slots[kind]:
                parts.append(f"there are no {name} here")
                continue
            parts.append(f"in the {name}, the median slot-map confidence over patterns is {self.confidence[kind]:.2f}, "
                         f"and overwriting the cell found for a pattern flips {100 * self.flipped_own[kind]:.0f} % of "
                         f"the next answers to that pattern and {100 * self.flipped_others[kind]:.0f} % of those to "
                         "the other patterns")
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + " (averages over networks and patterns)."

    def slots_sentence(self) -> str:
        """Whether slot counts separate learners from recognisers, in words chosen by the numbers: they do
        when every learner has more slots than any recogniser."""
        learners, recognisers = self.n_slots["learner"], self.n_slots["recogniser"]
        if not learners or not recognisers:
            return "With only one kind of network here, the counts cannot tell whether slots separate the kinds."
        if min(learners) > max(recognisers):
            return "Here every learner has more slots than any recogniser."
        return "Here the slot counts alone do not separate the learners from the recognisers."


def summarise_surgery(ablations: Sequence[Ablation], verdicts: Sequence[NetworkVerdict]) -> SurgerySummary:
    """Summarise the measurements over networks, by kind (``"learner"``, ``"recogniser"``)."""
    check(len(ablations) == len(verdicts) > 0, "(ablations, verdicts)", "one per network, at least one",
          (len(ablations), len(verdicts)))
    worst = [float(np.nanmax(a.damage_by_pattern)) for a in ablations]
    by_kind = {kind: [v for v in verdicts if v.kind == kind] for kind in ("learner", "recogniser")}
    return SurgerySummary(
        worst_damage=(min(worst), max(worst)),
        harmless=tuple(int((a.mse - a.intact_mse < HARMLESS_MSE).sum()) for a in ablations),
        confidence={k: float(np.median([v.confidence for v in vs])) if vs else float("nan")
                    for k, vs in by_kind.items()},
        # pooled over the networks and patterns of a kind, as in the chapter's prose
        flipped_own={k: _mean([v.flipped_own for v in vs]) for k, vs in by_kind.items()},
        flipped_others={k: _mean([v.flipped_others for v in vs]) for k, vs in by_kind.items()},
        n_slots={k: tuple(v.n_slots for v in vs) for k, vs in by_kind.items()})
