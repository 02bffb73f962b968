"""The surgery chapter's study (l2l_lib.experiments.surgery), checked on networks whose answer is known: the
hand-built learner of tests/test_surgery.py (the report's picture at known units) beside a random network,
and on hand-made measurements whose summaries are computed here."""

import dataclasses

import numpy as np
import pytest
import torch

from l2l_lib.evaluate import evaluate_predictions, predict
from l2l_lib.experiments import surgery as study
from l2l_lib.experiments.boolean import split_batches
from l2l_lib.model import MetaLSTM
from l2l_lib.recipes import recipe
from l2l_lib.surgery import Ablation, ablate_units, intervene_slots, probe_batch, slot_map
from l2l_lib.train import History, TrainResult

from test_experiments_boolean import first_sight
from test_surgery import SLOTS, hand_built_learner


def run_of(model, seed):
    return TrainResult(config=recipe("boolean16", seq_len=24, seed=seed), model=model, history=History(),
                       wall_time=0.0)


@pytest.fixture(scope="module")
def runs():
    torch.manual_seed(0)
    return [run_of(hand_built_learner(), 7), run_of(MetaLSTM((6,)).eval(), 8)]


@pytest.fixture(scope="module")
def measured(runs):
    """(kinds, slots, ablations, flips) of the two networks, as the chapter computes them."""
    kinds = study.classify_seeds(runs, 40)
    probe = probe_batch(256, 40)
    slots = [slot_map(r.model, probe) for r in runs]
    ablations = [ablate_units(r.model, probe) for r in runs]
    flips = [intervene_slots(r.model, probe, s) for r, s in zip(runs, slots)]
    return kinds, slots, ablations, flips


def test_classify_seeds_against_the_floor_computed_by_hand(runs, measured):
    kinds = measured[0]
    test, _ = split_batches(runs[0].config, 40)
    assert kinds.floor == pytest.approx(0.25 * first_sight(test).mean(), abs=1e-7)  # the ideal learner
    assert kinds.held_out_mse == tuple(evaluate_predictions(test, predict(r.model, test)).mse for r in runs)
    np.testing.assert_array_equal(kinds.learned, [True, False])  # the hand-built learner, a random network
    assert kinds.labels == ("seed 7 (learner)", "seed 8 (recogniser)") and kinds.learner_seeds == (7,)
    assert kinds.first_learner == 0
    ratio = kinds.held_out_mse[1] / kinds.floor
    assert f"sit {ratio:.1f} times or more above the floor" in kinds.recognisers_sentence()
    everyone = dataclasses.replace(kinds, learned_ratio=1e6)
    assert everyone.recognisers_sentence() == "No seed sits above that line."


def test_verdicts_find_the_hand_built_picture_and_summarise_it(measured):
    kinds, slots, ablations, flips = measured
    verdicts = study.seed_verdicts(kinds, slots, ablations, flips, threshold=0.8)
    learner, other = verdicts
    assert learner.picture["slot_units"] == dict(enumerate(SLOTS)) and learner.holds and learner.n_slots == 4
    assert not other.holds
    summary = study.summarise_surgery(ablations, verdicts)
    worst = [float(np.max(a.mse_by_pattern - a.intact_mse_by_pattern)) for a in ablations]
    assert summary.worst_damage == (min(worst), max(worst))
    assert summary.harmless == tuple(int(np.sum(a.mse - a.intact_mse < study.HARMLESS_MSE)) for a in ablations)
    assert summary.holds == {"learner": (1, 1), "recogniser": (0, 1)}
    assert summary.flipped_own["learner"] == pytest.approx(np.nanmean(np.diag(flips[0])))
    assert summary.confidence["learner"] == pytest.approx(np.median(slots[0].confidence))
    table = study.verdict_table(verdicts).splitlines()
    assert len(table) == 4 and table[2].startswith("| 7 | learner |")
    assert f"h{SLOTS[0] + 1} ({slots[0].confidence[0]:.2f})" in table[2]


def _verdict(seed, kind, flips, n_slots):
    slot_units = {p: (p if p < n_slots else None) for p in range(4)}
    picture = {"slot_units": slot_units, "four_slots": n_slots == 4, "input_memory": True}
    return study.SeedVerdict(seed=seed, kind=kind, held_out_mse=0.01, picture=picture,
                             confidence=np.full(4, 0.5 + seed / 10), flips=np.asarray(flips, dtype=float))


def _ablation(damage):
    damage = np.asarray(damage, dtype=float)
    return Ablation(units=tuple(range(len(damage))), mse_by_pattern=damage + 0.1, mse=0.1 + damage.mean(1),
                    intact_mse_by_pattern=np.full(4, 0.1), intact_mse=0.1, n_steps=np.full(4, 50))


def test_summary_pools_seeds_and_patterns_and_skips_missing_slots():
    half_nan = np.eye(4)
    half_nan[2:] = np.nan  # patterns 2 and 3 had no candidate slot
    verdicts = [_verdict(1, "learner", np.eye(4), 4), _verdict(2, "learner", half_nan, 2),
                _verdict(3, "recogniser", np.full((4, 4), 0.25), 1)]
    ablations = [_ablation(np.diag([0.3, 0.0, 0.0, 0.0, 0.0])[:, :4]),
                 _ablation(np.full((5, 4), 0.005)), _ablation(np.full((5, 4), 0.05))]
    summary = study.summarise_surgery(ablations, verdicts)
    assert summary.worst_damage == pytest.approx((0.005, 0.3))
    assert summary.harmless == (4, 5, 0)  # unit 0 of the first seed costs 0.3 / 4 = 0.075 overall
    assert summary.flipped_own["learner"] == 1.0  # 6 diagonal entries, all 1 (NaNs left out)
    assert summary.flipped_others["learner"] == 0.0
    assert summary.flipped_own["recogniser"] == summary.flipped_others["recogniser"] == 0.25
    assert summary.holds == {"learner": (1, 2), "recogniser": (0, 1)}
    assert summary.n_slots == {"learner": (4, 2), "recogniser": (1,)}
    assert summary.confidence["learner"] == pytest.approx(np.median([0.6, 0.7]))
    assert summary.slots_sentence().startswith("Storing answers in slots")
    mixed = dataclasses.replace(summary, n_slots={"learner": (4, 1), "recogniser": (1,)})
    assert mixed.slots_sentence().startswith("Here the slot counts alone do not separate")
    lonely = dataclasses.replace(summary, n_slots={"learner": (4,), "recogniser": ()})
    assert lonely.slots_sentence().startswith("With only one kind")
    assert np.isnan(study.summarise_surgery(ablations[:1], verdicts[:1]).flipped_own["recogniser"])


def test_bad_arguments_raise_value_errors(runs, measured):
    kinds, slots, ablations, flips = measured
    with pytest.raises(ValueError, match="runs"):
        study.classify_seeds([], 10)
    with pytest.raises(ValueError, match="learned_ratio"):
        study.classify_seeds(runs, 10, learned_ratio=0.5)
    with pytest.raises(ValueError, match="one per seed"):
        study.seed_verdicts(kinds, slots[:1], ablations, flips, 0.8)
    with pytest.raises(ValueError, match="flips"):
        study.seed_verdicts(kinds, slots, ablations, [np.eye(3), np.eye(4)], 0.8)
