"""The surgery chapter's study: which seeds learned, and whether the report's picture holds in each.

The student report read one trained 6-unit Boolean-16 network's weights (Hochreiter, Younger & Conwell
2001, Sec. 3) and saw input-memory units, four answer slots and a (0, 0) recogniser. The measurements are
in :mod:`l2l_lib.surgery` (ablation, slot map, intervention, verdict); this module runs them over a
recipe's seeds and summarises them. Read top to bottom:

* :func:`classify_seeds`: learner or recogniser, from each seed's held-out MSE;
* :func:`seed_verdicts`, :func:`verdict_table`: the report's picture checked seed by seed;
* :func:`summarise_surgery`: the numbers the chapter's prose quotes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..surgery import PATTERNS, Ablation, SlotMap, report_picture
from ..tables import markdown_table
from ..train import TrainResult
from ..validation import check, check_number
from .boolean import LEARNER_RATIO, boolean_references
from .common import evaluate_runs

#: A unit whose silencing changes the overall MSE by less than this is *harmless*.
HARMLESS_MSE = 0.01


@dataclass(frozen=True)
class SeedKinds:
    """Which trained seeds are learners: held-out MSE within ``learned_ratio`` times the ideal learner's.

    Attributes:
        seeds: the seeds, in the order of the runs.
        held_out_mse: per seed, its MSE on the held-out functions' test streams.
        floor: the ideal learner's MSE on the same streams.
        learned_ratio: the line between learners and recognisers, in multiples of ``floor``.
    """

    seeds: tuple[int, ...]
    held_out_mse: tuple[float, ...]
    floor: float
    learned_ratio: float

    @property
    def learned(self) -> np.ndarray:
        """``[n_seeds]`` bool: the seed is a learner."""
        return np.array(self.held_out_mse) <= self.learned_ratio * self.floor

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple("learner" if ok else "recogniser" for ok in self.learned)

    @property
    def labels(self) -> tuple[str, ...]:
        """Panel titles: ``"seed 100 (learner)"``."""
        return tuple(f"seed {s} ({kind})" for s, kind in zip(self.seeds, self.kinds))

    @property
    def learner_seeds(self) -> tuple[int, ...]:
        return tuple(s for s, ok in zip(self.seeds, self.learned) if ok)

    @property
    def first_learner(self) -> int:
        """Index of the first learner (0 when no seed learned): the network whose weights are shown."""
        return int(np.argmax(self.learned)) if self.learned.any() else 0

    def recognisers_sentence(self) -> str:
        """How far above the floor the recognisers sit, in words chosen by the numbers."""
        ratios = np.array(self.held_out_mse)[~self.learned] / self.floor
        if ratios.size == 0:
            return "No seed sits above that line."
        return (f"The others sit {ratios.min():.1f} times or more above the floor on held-out functions: they "
                "recognise their training functions.")


def classify_seeds(runs: Sequence[TrainResult], n_test_sequences: int, learned_ratio: float = LEARNER_RATIO
                   ) -> SeedKinds:
    """Learner or recogniser, for each trained network of a Boolean recipe with held-out functions.

    The test streams and the floor are the Boolean chapter's
    (:func:`l2l_lib.experiments.boolean.boolean_references`): its ideal learner's held-out MSE.

    Args:
        runs: trained networks of one recipe (e.g. ``train_recipe("boolean16")``).
        n_test_sequences: test streams of the held-out functions.
        learned_ratio: a seed within this many times the floor is a learner (the Boolean chapter's success
            line, 1.1, is met by few seeds; learners sit within a few times the floor, recognisers ten times
            or more above it).
    """
    check(len(runs) > 0, "runs", "a non-empty list of TrainResult", runs)
    check_number("learned_ratio", learned_ratio, 1.0, float("inf"), high_open=True)
    references = boolean_references(runs[0].config, n_test_sequences)
    return SeedKinds(seeds=tuple(run.config.seed for run in runs),
                     held_out_mse=tuple(e.mse for e in evaluate_runs(runs, references.test)),
                     floor=references.ideal.mse, learned_ratio=float(learned_ratio))


@dataclass(frozen=True)
class SeedVerdict:
    """The report's picture, checked on one seed (:func:`l2l_lib.surgery.report_picture`).

    Attributes:
        seed, kind, held_out_mse: the network (kind: ``"learner"`` or ``"recogniser"``).
        picture: the dict of :func:`~l2l_lib.surgery.report_picture`.
        confidence: ``[4]``, the slot map's confidence per pattern.
        flips: ``[4, 4]``, :func:`l2l_lib.surgery.intervene_slots` (row: overwritten slot, column: answered
            pattern).
    """

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
    def holds(self) -> bool:
        """The report's picture: four answer slots in four distinct units, plus input memory."""
        return bool(self.picture["four_slots"] and self.picture["input_memory"])


def seed_verdicts(kinds: SeedKinds, slots: Sequence[SlotMap], ablations: Sequence[Ablation],
                  flips: Sequence[np.ndarray], threshold: float) -> tuple[SeedVerdict, ...]:
    """One :class:`SeedVerdict` per seed, from its slot map, ablation and ``[4, 4]`` intervention matrix.

    Args:
        kinds: from :func:`classify_seeds`; slots, ablations, flips: one per seed, in the same order.
        threshold: the one |correlation| level of every rule (:func:`l2l_lib.surgery.report_picture`).
    """
    n = len(kinds.seeds)
    check(len(slots) == len(ablations) == len(flips) == n, "(slots, ablations, flips)",
          f"one per seed ({n} each)", (len(slots), len(ablations), len(flips)))
    verdicts = []
    for k in range(n):
        check(np.shape(flips[k]) == (4, 4), f"flips[{k}].shape", "(4, 4)", np.shape(flips[k]))
        verdicts.append(SeedVerdict(seed=kinds.seeds[k], kind=kinds.kinds[k], held_out_mse=kinds.held_out_mse[k],
                                    picture=report_picture(slots[k], ablations[k], threshold),
                                    confidence=np.asarray(slots[k].confidence),
                                    flips=np.asarray(flips[k], dtype=float)))
    return tuple(verdicts)


def _mean(values: Sequence[float] | np.ndarray) -> float:
    """Mean without NaNs (NaN when nothing is left)."""
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else float("nan")


def _units(units: Sequence[int]) -> str:
    return ", ".join(f"h{u + 1}" for u in units) or "none"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def verdict_table(verdicts: Sequence[SeedVerdict]) -> str:
    """The verdict seed by seed, as a Markdown table (:func:`l2l_lib.tables.markdown_table`)."""
    headers = ["seed", "kind", "held-out MSE", "slot unit (confidence) for " + " / ".join(PATTERNS),
               "four distinct slots", "input memory", "(0,0) recogniser", "flipped: own / other patterns",
               "report's picture"]
    rows = []
    for v in verdicts:
        slots = " / ".join(f"{'–' if u is None else f'h{u + 1}'} ({v.confidence[p]:.2f})"
                           for p, u in v.picture["slot_units"].items())
        rows.append([v.seed, v.kind, v.held_out_mse, slots, _yes(v.picture["four_slots"]),
                     _units(v.picture["input_memory_units"]), _units(v.picture["recogniser_00_units"]),
                     f"{100 * _mean(v.flipped_own):.0f} % / {100 * _mean(v.flipped_others):.0f} %", _yes(v.holds)])
    return markdown_table(headers, rows)


@dataclass(frozen=True)
class SurgerySummary:
    """The numbers the surgery chapter's prose quotes.

    Attributes:
        worst_damage: ``(lowest, highest)`` over seeds of each seed's worst per-pattern MSE increase from
            silencing one unit.
        harmless: per seed, the units whose silencing changes the overall MSE by less than
            :data:`HARMLESS_MSE`.
        confidence: kind -> median slot-map confidence over that kind's seeds and patterns (NaN: no seed).
        flipped_own, flipped_others: kind -> fraction of flipped answers to the overwritten, resp. the other,
            patterns, pooled over that kind's seeds and patterns (NaN: no seed).
        holds: kind -> ``(seeds where the report's picture holds, seeds of that kind)``.
        n_slots: kind -> per seed of that kind, its number of slots.
    """

    worst_damage: tuple[float, float]
    harmless: tuple[int, ...]
    confidence: dict[str, float]
    flipped_own: dict[str, float]
    flipped_others: dict[str, float]
    holds: dict[str, tuple[int, int]]
    n_slots: dict[str, tuple[int, ...]]

    def slots_sentence(self) -> str:
        """Whether slot counts separate learners from recognisers, in words chosen by the numbers: they do
        when every learner has more slots than any recogniser."""
        learners, recognisers = self.n_slots["learner"], self.n_slots["recogniser"]
        if not learners or not recognisers:
            return "With only one kind of network here, the counts cannot tell whether slots separate the kinds."
        if min(learners) > max(recognisers):
            return ("Storing answers in slots is what separates a network that learns new functions from one "
                    "that recognises old ones.")
        return "Here the slot counts alone do not separate the learners from the recognisers."


def summarise_surgery(ablations: Sequence[Ablation], verdicts: Sequence[SeedVerdict]) -> SurgerySummary:
    """Summarise the measurements over seeds, by kind (``"learner"``, ``"recogniser"``)."""
    check(len(ablations) == len(verdicts) > 0, "(ablations, verdicts)", "one per seed, at least one",
          (len(ablations), len(verdicts)))
    worst = [float(np.nanmax(a.damage_by_pattern)) for a in ablations]
    by_kind = {kind: [v for v in verdicts if v.kind == kind] for kind in ("learner", "recogniser")}
    return SurgerySummary(
        worst_damage=(min(worst), max(worst)),
        harmless=tuple(int((a.mse - a.intact_mse < HARMLESS_MSE).sum()) for a in ablations),
        confidence={k: float(np.median([v.confidence for v in vs])) if vs else float("nan")
                    for k, vs in by_kind.items()},
        # pooled over the seeds and patterns of a kind, as in the chapter's prose ("averages over seeds and
        # patterns")
        flipped_own={k: _mean([v.flipped_own for v in vs]) for k, vs in by_kind.items()},
        flipped_others={k: _mean([v.flipped_others for v in vs]) for k, vs in by_kind.items()},
        holds={k: (sum(v.holds for v in vs), len(vs)) for k, vs in by_kind.items()},
        n_slots={k: tuple(v.n_slots for v in vs) for k, vs in by_kind.items()})
