"""The surgery chapter's study (l2l_lib.experiments.surgery), checked on networks whose answer is known: the
hand-built learner of tests/test_surgery.py (the report's picture at known units, without a (0,0)
recogniser) beside random networks, on two held-out sets; and on hand-made verdicts whose counts, intervals
and sentences are computed here by hand."""

import dataclasses
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from l2l_lib import plots  # noqa: E402
from l2l_lib.evaluate import evaluate_predictions, predict  # noqa: E402
from l2l_lib.experiments import surgery as study  # noqa: E402
from l2l_lib.experiments.boolean import split_batches  # noqa: E402
from l2l_lib.model import MetaLSTM  # noqa: E402
from l2l_lib.recipes import recipe  # noqa: E402
from l2l_lib.surgery import Ablation, probe_batch  # noqa: E402
from l2l_lib.train import History, TrainResult  # noqa: E402

from test_surgery import MEMORY, SLOTS, hand_built_learner  # noqa: E402

PAPER, OTHER = (0, 6, 9), (1, 3, 14)


def run_of(model, seed, held_out):
    return TrainResult(config=recipe("boolean16", seq_len=24, seed=seed, held_out=held_out), model=model,
                       history=History(), wall_time=0.0)


def first_sight(batch) -> np.ndarray:
    """``[B, T]`` bool: the step's input pattern was not shown before in its stream (no switches here)."""
    out = np.zeros(tuple(batch.patterns().shape), dtype=bool)
    for b, row in enumerate(batch.patterns().numpy()):
        seen = set()
        for t, p in enumerate(row):
            out[b, t] = p not in seen
            seen.add(p)
    return out


@pytest.fixture(scope="module")
def runs_by_set():
    """Two held-out sets; the hand-built learner is seed 10000 on the first set and seed 10001 on the second."""
    torch.manual_seed(0)
    learner = hand_built_learner()
    return {PAPER: [run_of(learner, 10000, PAPER), run_of(MetaLSTM((6,)).eval(), 10001, PAPER)],
            OTHER: [run_of(MetaLSTM((6,)).eval(), 10000, OTHER), run_of(learner, 10001, OTHER)]}


@pytest.fixture(scope="module")
def measured(runs_by_set):
    """(kinds, dissections) of the four networks, as the chapter computes them."""
    kinds = study.classify_networks(runs_by_set, 40)
    probe = probe_batch(256, 40)
    return kinds, [study.dissect(run.model, probe) for run in study.all_runs(runs_by_set)]


def test_classify_networks_against_each_sets_floor_computed_by_hand(runs_by_set, measured):
    kinds = measured[0]
    assert kinds.held_out == (PAPER, PAPER, OTHER, OTHER) and kinds.seeds == (10000, 10001, 10000, 10001)
    for k, (held_out, runs) in enumerate(runs_by_set.items()):
        test, _ = split_batches(runs[0].config, 40)
        # the ideal learner: 0 on every seen pattern, 1/4 on a first sight (a uniform bit, guessed 0.5)
        assert kinds.floors[2 * k] == pytest.approx(0.25 * first_sight(test).mean(), abs=1e-7)
        mses = tuple(evaluate_predictions(test, predict(r.model, test)).mse for r in runs)
        assert kinds.held_out_mse[2 * k:2 * k + 2] == mses
    np.testing.assert_array_equal(kinds.learned, [True, False, False, True])
    assert kinds.labels[0] == "(0, 6, 9) seed 10000 (learner)" and kinds.sets == (PAPER, OTHER)
    assert kinds.learners().successes == 2 and kinds.learners().trials == 4
    assert kinds.learners(OTHER).successes == 1
    assert kinds.learners_sentence().startswith("(0, 6, 9): 1/2 (95% CI 0.01–0.99); (1, 3, 14): 1/2")
    ratio = min(kinds.ratios[1], kinds.ratios[2])
    assert f"sit {ratio:.1f} times or more above the floor" in kinds.recognisers_sentence()
    everyone = dataclasses.replace(kinds, learned_ratio=1e6)
    assert everyone.recognisers_sentence() == "No network sits above that line."


def test_the_illustrative_network_follows_the_rule_not_the_scores(measured):
    kinds = measured[0]
    assert kinds.paper_set == PAPER and kinds.illustrative == 0  # the lowest learning seed on the paper's set
    # a learner on the paper's set wins over an earlier learner elsewhere, and the lowest seed wins there
    swapped = dataclasses.replace(kinds, held_out=(OTHER, OTHER, PAPER, PAPER), held_out_mse=(0.0, 0.0, 1.0, 0.0),
                                  floors=(0.1,) * 4)
    assert swapped.illustrative == 3
    lowest = dataclasses.replace(kinds, held_out_mse=(0.2, 0.0, 1.0, 1.0), floors=(0.1,) * 4)
    assert lowest.illustrative == 0  # ratios 2 and 0: both learn, the lower seed is shown, not the better one
    later = dataclasses.replace(kinds, held_out_mse=(0.5, 0.0, 1.0, 1.0), floors=(0.1,) * 4)
    assert later.illustrative == 1  # ratio 5: seed 10000 is a recogniser
    nobody_on_paper = dataclasses.replace(kinds, held_out_mse=(1.0, 1.0, 1.0, 0.0), floors=(0.1,) * 4)
    assert nobody_on_paper.illustrative == 3  # then the first learner in (set, seed) order
    nobody = dataclasses.replace(kinds, held_out_mse=(1.0,) * 4, floors=(0.1,) * 4)
    assert nobody.illustrative is None


def test_verdicts_find_the_hand_built_picture(measured):
    kinds, dissections = measured
    verdicts = study.network_verdicts(kinds, dissections, threshold=0.8)
    learner, other = verdicts[0], verdicts[1]
    assert learner.picture["slot_units"] == dict(enumerate(SLOTS)) and learner.n_slots == 4
    assert set(learner.picture["input_memory_units"]) == set(MEMORY)
    assert learner.criteria == {"slots": True, "distinct_slots": True, "input_memory": True,
                                "recogniser_00": False,  # built without one
                                "ablation": True, "intervention": True,
                                study.PICTURE: True, study.ALL: False}
    assert learner.holds and not other.holds
    matrix = study.criteria_matrix(verdicts)
    assert matrix.shape == (4, len(study.COLUMNS)) and matrix.dtype == bool
    np.testing.assert_array_equal(matrix[0], [learner.criteria[c] for c in study.COLUMNS])
    np.testing.assert_array_equal(matrix[:, study.COLUMNS.index(study.PICTURE)], [True, False, False, True])
    table = study.verdict_table(verdicts).splitlines()
    assert len(table) == 2 + 4 and table[2].startswith("| (0, 6, 9) | 10000 | learner |")
    assert f"h{SLOTS[0] + 1} ({dissections[0].slot.confidence[0]:.2f})" in table[2]


def test_the_intervention_criterion_by_hand():
    assert study.intervention_holds(np.eye(4))
    assert study.intervention_holds(np.full((4, 4), 0.25) + 0.25 * np.eye(4))  # 0.5 own, 0.25 others: the edges
    assert not study.intervention_holds(np.full((4, 4), 0.25) + 0.24 * np.eye(4))
    leaky = np.eye(4)
    leaky[2, [0, 1, 3]] = (0.3, 0.3, 0.2)  # row mean 0.267 > 0.25, though one entry is below
    assert not study.intervention_holds(leaky)
    missing = np.eye(4)
    missing[3] = np.nan  # no slot candidate for (1,1)
    assert not study.intervention_holds(missing)
    with pytest.raises(ValueError, match="flips.shape"):
        study.intervention_holds(np.eye(3))


def _verdict(held_out, seed, kind, **criteria):
    """A verdict whose criteria are the given ones (default: all hold)."""
    found = dict.fromkeys(study.CRITERIA, True) | criteria
    slot_units = {p: (p if found["slots"] else None) for p in range(4)}
    picture = {"slot_units": slot_units, "four_slots": found["distinct_slots"],
               "input_memory": found["input_memory"], "input_memory_units": [4] if found["input_memory"] else [],
               "recogniser_00_units": [5] if found["recogniser_00"] else [],
               "ablation_hurts_own_pattern": dict.fromkeys(range(4), found["ablation"])}
    flips = np.eye(4) if found["intervention"] else np.zeros((4, 4))
    return study.NetworkVerdict(held_out=held_out, seed=seed, kind=kind, held_out_mse=0.01, picture=picture,
                                confidence=np.full(4, 0.9), flips=flips)


def _cp(k, n):
    """Clopper-Pearson 95 % bounds by hand where closed forms exist: k = 0, n and (1, 2)."""
    return {(0, 1): (0.0, 0.975), (1, 1): (0.025, 1.0), (1, 2): (1 - math.sqrt(0.975), math.sqrt(0.975)),
            (0, 2): (0.0, 1 - math.sqrt(0.025)), (2, 2): (math.sqrt(0.025), 1.0)}[(k, n)]


def test_counts_per_set_and_overall_with_their_intervals():
    verdicts = [_verdict(PAPER, 1, "learner"), _verdict(PAPER, 2, "learner", input_memory=False),
                _verdict(PAPER, 3, "recogniser", slots=False, distinct_slots=False),
                _verdict(OTHER, 1, "recogniser", intervention=False)]
    counts = study.count_criteria(verdicts)
    assert counts.sets == (PAPER, OTHER) and counts.n_learners == 2
    picture = counts.by_set[PAPER][study.PICTURE]
    assert (picture.successes, picture.trials) == (1, 2)
    assert (picture.low, picture.high) == pytest.approx(_cp(1, 2), abs=1e-9)
    assert counts.by_set[OTHER][study.PICTURE] is None  # no learner there
    assert counts.learners["slots"].successes == 2 and counts.learners[study.ALL].successes == 1
    recognisers = counts.recognisers[study.PICTURE]
    assert (recognisers.successes, recognisers.trials) == (1, 2)  # the second recogniser has the picture
    assert counts.recognisers[study.ALL].successes == 0
    assert (counts.recognisers[study.ALL].low, counts.recognisers[study.ALL].high) == pytest.approx(_cp(0, 2))
    table = counts.table().splitlines()
    assert len(table) == 2 + len(study.COLUMNS) and len(table[0].split(" | ")) == 1 + 2 + 2
    assert table[0] == ("| criterion | learners, held out (0, 6, 9) | learners, held out (1, 3, 14) | all learners "
                        "| all recognisers |")
    assert table[2] == ("| a slot for each pattern | 2/2 (95% CI 0.16–1.00) | no network | 2/2 (95% CI 0.16–1.00) "
                        "| 1/2 (95% CI 0.01–0.99) |")
    assert table[2 + study.COLUMNS.index(study.PICTURE)].startswith("| the report's picture | 1/2 (95% CI 0.01–0.99) |")
    assert study.holds_count([]) is None


@pytest.mark.parametrize("n_yes, n_no, start", [
    (3, 0, "Every learner builds the report's picture: 3/3"),
    (0, 2, "No learner builds the report's picture: 0/2"),
    (2, 1, "More than half of these learners build the report's picture: 2/3"),
    (1, 1, "Half of the learners build the report's picture: 1/2"),
    (1, 3, "Fewer than half of these learners build the report's picture: 1/4")])
def test_the_picture_sentence_is_chosen_by_the_counts(n_yes, n_no, start):
    verdicts = ([_verdict(PAPER, s, "learner") for s in range(n_yes)]
                + [_verdict(OTHER, s, "learner", input_memory=False) for s in range(n_no)])
    counts = study.count_criteria(verdicts)
    sentence = counts.picture_sentence()
    assert sentence.startswith(start)
    assert "includes one half" in sentence  # at most 4 networks never exclude one half
    if n_yes and n_no:
        assert counts.sets_sentence() == "Learners that build it come from held-out set (0, 6, 9), of 2 sets with learners."
    assert counts.weakest_sentence() == ("Every learner meets every single criterion." if n_no == 0 else
                                         f"The criterion learners fail most often is *input memory*: {n_yes} of "
                                         f"{n_yes + n_no} meet it.")
    assert counts.recognisers_sentence() == "With only one kind of network here, the two kinds cannot be compared."


def test_sentences_for_many_networks_and_for_none():
    many = study.count_criteria([_verdict(PAPER, s, "learner") for s in range(12)]
                                + [_verdict(OTHER, s, "learner") for s in range(8)]
                                + [_verdict(OTHER, 99, "recogniser", slots=False, distinct_slots=False)])
    assert many.picture_sentence().endswith("the 95 % interval lies above one half.")  # 20/20: low 0.83
    assert many.sets_sentence() == "On every held-out set with learners, at least one learner builds it."
    assert many.recognisers_sentence().startswith("No recogniser builds it: 0/1")
    few = study.count_criteria([_verdict(PAPER, s, "learner", input_memory=s < 1) for s in range(20)])
    assert few.picture_sentence().endswith("the 95 % interval lies below one half.")  # 1/20: high 0.25
    assert few.picture_sentence().startswith("Most learners do not build the report's picture: only 1/20")
    assert many.picture_sentence().startswith("Every learner builds")
    assert few.sets_sentence() == "Learners that build it come from held-out set (0, 6, 9), of 1 set with learners."
    none = study.count_criteria([_verdict(PAPER, 1, "recogniser"), _verdict(OTHER, 1, "recogniser")])
    assert none.n_learners == 0 and none.picture_sentence().startswith("No network learned here")
    assert none.weakest_sentence() == none.sets_sentence() == ""
    assert none.table().count("no network") == len(study.COLUMNS) * 3  # two sets and "all learners"
    common = study.count_criteria([_verdict(PAPER, 1, "learner", input_memory=False), _verdict(PAPER, 2, "recogniser")])
    assert common.recognisers_sentence().startswith("Recognisers build it at least as often: 1/1")


def _ablation(damage):
    damage = np.asarray(damage, dtype=float)
    return Ablation(units=tuple(range(len(damage))), mse_by_pattern=damage + 0.1, mse=0.1 + damage.mean(1),
                    intact_mse_by_pattern=np.full(4, 0.1), intact_mse=0.1, n_steps=np.full(4, 50))


def test_summary_pools_networks_and_patterns_and_skips_missing_slots():
    half_nan = np.eye(4)
    half_nan[2:] = np.nan  # patterns 2 and 3 had no candidate slot
    verdicts = [dataclasses.replace(_verdict(PAPER, 1, "learner"), confidence=np.full(4, 0.6)),
                dataclasses.replace(_verdict(PAPER, 2, "learner", slots=False), flips=half_nan,
                                    confidence=np.full(4, 0.7)),
                dataclasses.replace(_verdict(OTHER, 3, "recogniser", slots=False), flips=np.full((4, 4), 0.25))]
    ablations = [_ablation(np.diag([0.3, 0.0, 0.0, 0.0, 0.0])[:, :4]),
                 _ablation(np.full((5, 4), 0.005)), _ablation(np.full((5, 4), 0.05))]
    summary = study.summarise_surgery(ablations, verdicts)
    assert summary.worst_damage == pytest.approx((0.005, 0.3))
    assert summary.harmless == (4, 5, 0)  # unit 0 of the first network costs 0.3 / 4 = 0.075 overall
    assert summary.flipped_own["learner"] == 1.0  # 6 diagonal entries, all 1 (NaNs left out)
    assert summary.flipped_others["learner"] == 0.0
    assert summary.flipped_own["recogniser"] == summary.flipped_others["recogniser"] == 0.25
    assert summary.n_slots == {"learner": (4, 0), "recogniser": (0,)}
    assert summary.confidence["learner"] == pytest.approx(np.median([0.6, 0.7]))
    assert summary.kinds_sentence() == (
        "In the learners, the median slot-map confidence over patterns is 0.65, and overwriting the cell found "
        "for a pattern flips 100 % of the next answers to that pattern and 0 % of those to the other patterns; "
        "in the recognisers, the median slot-map confidence over patterns is 0.90, and overwriting the cell "
        "found for a pattern flips 25 % of the next answers to that pattern and 25 % of those to the other "
        "patterns (averages over networks and patterns).")
    assert summary.slots_sentence().startswith("Here the slot counts alone do not separate")
    apart = dataclasses.replace(summary, n_slots={"learner": (4, 3), "recogniser": (1,)})
    assert apart.slots_sentence() == "Here every learner has more slots than any recogniser."
    lonely = study.summarise_surgery(ablations[:1], verdicts[:1])
    assert lonely.slots_sentence().startswith("With only one kind")
    assert np.isnan(lonely.flipped_own["recogniser"])
    assert lonely.kinds_sentence().endswith("; there are no recognisers here (averages over networks and patterns).")


def test_criteria_grid_shows_every_cell_and_separates_sets():
    holds = np.array([[True, False, True], [False, False, True], [True, True, False]])
    fig = plots.plot_criteria_grid(holds, ["a", "b", "c"], ["one", "two words", "a rather long criterion"],
                                   groups=[PAPER, PAPER, OTHER], combined=1, title="grid")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("yes") == holds.sum() and texts.count("no") == (~holds).sum()
    assert len(ax.lines) == 2  # one line between the two sets, one before the combined column
    assert len(plots.plot_criteria_grid(holds, ["a", "b", "c"], ["x", "y", "z"]).axes[0].lines) == 0
    assert [t.get_text() for t in ax.get_xticklabels()][2] == "a rather long\ncriterion"
    for bad in (dict(row_labels=["a"]), dict(column_labels=["x"]), dict(groups=[1])):
        arguments = dict(row_labels=["a", "b", "c"], column_labels=["x", "y", "z"]) | bad
        with pytest.raises(ValueError, match=next(iter(bad))):
            plots.plot_criteria_grid(holds, **arguments)
    with pytest.raises(ValueError, match="combined"):
        plots.plot_criteria_grid(holds, ["a", "b", "c"], ["x", "y", "z"], combined=3)
    with pytest.raises(ValueError, match="holds"):
        plots.plot_criteria_grid(np.zeros((0, 3), dtype=bool), [], ["x", "y", "z"])


def test_bad_arguments_raise_value_errors(runs_by_set, measured):
    kinds, dissections = measured
    with pytest.raises(ValueError, match="runs_by_set"):
        study.classify_networks({}, 10)
    with pytest.raises(ValueError, match="learned_ratio"):
        study.classify_networks(runs_by_set, 10, learned_ratio=0.5)
    with pytest.raises(ValueError, match="config.held_out"):
        study.classify_networks({OTHER: runs_by_set[PAPER]}, 10)
    with pytest.raises(ValueError, match="held_out"):
        kinds.learners((2, 3, 4))
    with pytest.raises(ValueError, match="one per network"):
        study.network_verdicts(kinds, dissections[:1], 0.8)
    with pytest.raises(ValueError, match="flips.shape"):
        study.network_verdicts(kinds, [dataclasses.replace(d, flips=np.eye(3)) for d in dissections], 0.8)
    with pytest.raises(ValueError, match="verdicts"):
        study.count_criteria([])
