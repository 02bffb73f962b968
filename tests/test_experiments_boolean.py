"""The Boolean chapter's study (l2l_lib.experiments.boolean), checked against references computed here by
hand: the ideal learner's error from the first sight of each pattern, a Bayes learner by enumeration of
the consistent functions, per-seed scores recomputed from the networks."""

import numpy as np
import pytest
import torch

from l2l_lib.evaluate import evaluate_predictions, evaluation_batch, predict
from l2l_lib.experiments import boolean as study
from l2l_lib.recipes import recipe
from l2l_lib.reference import published
from l2l_lib.tasks import family_functions, truth_table

TINY = {"n_steps": 20, "seq_len": 12, "batch_size": 2, "eval_every": 10}


def first_sight(batch) -> np.ndarray:
    """``[B, T]`` bool: the step's input pattern was not shown before in its stream (no switches here)."""
    patterns = batch.patterns().numpy()
    out = np.zeros(patterns.shape, dtype=bool)
    for b, row in enumerate(patterns):
        seen = set()
        for t, p in enumerate(row):
            out[b, t] = p not in seen
            seen.add(p)
    return out


def bayes_by_enumeration(batch, functions, weights) -> np.ndarray:
    """Posterior mean of f(x_t) under ``weights`` over ``functions``, by listing the consistent ones.

    When an example leaves none consistent, start again from those the example alone fits (all of them if
    it fits none): the restart rule of ``bayes_boolean_predictions``.
    """
    patterns, targets = batch.patterns().numpy(), batch.targets[..., 0].numpy()
    everyone = list(range(len(functions)))
    out = np.zeros(patterns.shape)
    for b in range(patterns.shape[0]):
        alive = everyone
        for t in range(patterns.shape[1]):
            p = patterns[b, t]
            mass = sum(weights[i] for i in alive)
            out[b, t] = sum(weights[i] * truth_table(functions[i])[p] for i in alive) / mass
            fits = [i for i in everyone if truth_table(functions[i])[p] == targets[b, t]]
            alive = [i for i in alive if i in fits] or fits or everyone
    return out


@pytest.fixture(scope="module")
def references16():
    return study.boolean_references(recipe("boolean16", **TINY), n_test_sequences=30)


@pytest.fixture(scope="module")
def studies(references16, tmp_path_factory):
    """Both Boolean-16 recipes, two seeds each, trained for 20 steps into a cache of their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("L2L_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        return {name: study.evaluate_recipe(name, references16, n_seeds=2, first_seed=3, overrides=TINY)
                for name in ("boolean16", "boolean16_paper")}


def test_split_batches_draw_only_held_out_or_only_training_functions():
    config = recipe("boolean16", **TINY)
    held_out, train = study.split_batches(config, 25)
    assert set(held_out.function_ids.unique().tolist()) <= set(config.held_out)
    assert set(train.function_ids.unique().tolist()) <= set(config.train_functions)
    assert held_out.targets.shape == train.targets.shape == (25, 12, 1)
    again, _ = study.split_batches(config, 25)
    assert torch.equal(again.inputs, held_out.inputs)  # the same streams for every learner


def test_ideal_learner_errs_0_25_exactly_at_each_first_sight(references16):
    for batch, evaluation in ((references16.test, references16.ideal),
                              (references16.test_train, references16.ideal_train)):
        expected = 0.25 * first_sight(batch)  # a seen pattern's answer is known; an unseen one is a coin
        assert evaluation.mse == pytest.approx(expected.mean(), abs=1e-7)
        np.testing.assert_allclose(evaluation.mse_by_position, expected.mean(0), atol=1e-7)
    assert references16.constant.mse == pytest.approx(0.25)  # 0.5 against targets 0 and 1
    assert references16.target == pytest.approx(study.SUCCESS_RATIO * references16.ideal.mse)


def test_recogniser_is_the_bayes_learner_that_bets_on_the_training_functions(references16):
    config = references16.config
    functions = list(range(16))
    weights = [1.0 if k in config.train_functions else study.RECOGNISER_HELD_OUT_WEIGHT for k in functions]
    for batch, evaluation in ((references16.test, references16.recogniser),
                              (references16.test_train, references16.recogniser_train)):
        expected = bayes_by_enumeration(batch, functions, weights)
        assert evaluation.mse == pytest.approx(((expected - batch.targets[..., 0].numpy()) ** 2).mean(), rel=1e-5)
    # what training rewards: better than the uniform learner on training functions, worse on held-out ones
    assert references16.recogniser_train.mse <= references16.ideal_train.mse
    assert references16.recogniser.mse > references16.ideal.mse


def test_recipe_study_scores_every_seed_on_the_references_streams(studies, references16):
    ours = studies["boolean16"]
    assert ours.seeds == (3, 4) and len(ours.held_out) == len(ours.train) == 2
    for run, held_out, train in zip(ours.runs, ours.held_out, ours.train):
        assert held_out.mse == evaluate_predictions(references16.test, predict(run.model, references16.test)).mse
        assert train.mse == evaluate_predictions(references16.test_train,
                                                 predict(run.model, references16.test_train)).mse
    mse = np.array([e.mse for e in ours.held_out])
    assert ours.summary.n_success == int((mse <= references16.target).sum())
    np.testing.assert_array_equal(ours.learners, mse <= study.LEARNER_RATIO * references16.ideal.mse)
    train_ok = np.array([e.mse for e in ours.train]) <= study.LEARNER_RATIO * references16.ideal_train.mse
    np.testing.assert_array_equal(ours.recognisers, train_ok & ~ours.learners)
    assert ours.best_index == int(np.argmin(mse))
    assert ours.accuracy == pytest.approx(np.mean([e.accuracy for e in ours.held_out]))
    assert ours.minutes == pytest.approx(sum(r.wall_time for r in ours.runs) / 60)


def test_a_recipe_with_another_split_is_refused(references16):
    with pytest.raises(ValueError, match="held_out"):
        study.evaluate_recipe("boolean14", references16, n_seeds=1, overrides=TINY)
    with pytest.raises(ValueError, match="held_out"):
        study.evaluate_recipe("boolean16", references16, n_seeds=1, overrides={**TINY, "seq_len": 8})


def test_pattern_counts_match_the_ideal_learner_and_group_the_seeds(studies, references16):
    ours = studies["boolean16"]
    counts = study.pattern_count_study(ours, references16, max_count=3)
    assert counts.mse.shape == counts.accuracy.shape == (2, 4)
    assert counts.ideal_mse[0] == pytest.approx(0.25)  # a first sight is a coin toss, then the answer is known
    seen = counts.ideal_mse[1:]
    assert np.all(seen[np.isfinite(seen)] == 0) and np.all(counts.ideal_accuracy[1:][np.isfinite(seen)] == 1)
    mse, accuracy = counts.curves()
    assert list(mse)[-1] == "ideal learner" and set(mse) == set(accuracy)
    n_groups = int(ours.learners.any()) + int((~ours.learners).any())
    assert len(mse) == n_groups + 1 and sum(len(v) for k, v in mse.items() if k != "ideal learner") == 2


def test_trace_batch_shows_xor_when_it_is_held_out(references16):
    assert int(study.trace_batch(references16).function_ids[0, 0]) == 6
    fourteen = study.boolean_references(recipe("boolean14", **TINY), n_test_sequences=4)
    assert int(study.trace_batch(fourteen).function_ids[0, 0]) == fourteen.config.held_out[0]


def test_out_of_family_scores_against_both_bayes_learners(studies):
    runs = studies["boolean16"].runs
    with pytest.raises(ValueError, match="functions"):
        study.out_of_family(runs, 10, functions=(6,))  # XOR is in Boolean-16
    fourteen_runs = [type(r)(config=recipe("boolean14", **TINY), model=r.model, history=r.history,
                             wall_time=0.0) for r in runs]
    ood = study.out_of_family(fourteen_runs, 20, functions=(6, 9))
    batch = evaluation_batch("boolean16", functions=(6, 9), n_sequences=20, seq_len=12, seed=study.TEST_STREAMS)
    assert ood.functions == (6, 9) and len(ood.lstm) == 2
    assert ood.lstm[0].mse == evaluate_predictions(batch, predict(runs[0].model, batch)).mse
    # the sixteen-function learner errs only at first sights; the fourteen-function one is misled
    assert ood.bayes_all.mse == pytest.approx(0.25 * first_sight(batch).mean(), abs=1e-7)
    fourteen = list(family_functions("boolean14"))
    expected = bayes_by_enumeration(batch, fourteen, [1.0] * len(fourteen))
    assert ood.bayes_family.mse == pytest.approx(((expected - batch.targets[..., 0].numpy()) ** 2).mean(), rel=1e-5)
    assert ood.bayes_all.mse < ood.bayes_family.mse


def test_reference_levels_and_table_quote_the_numbers(studies, references16):
    levels = study.reference_levels(references16)
    assert levels["ideal learner"] == references16.ideal.mse
    assert levels["recogniser (bets on training functions)"] == references16.recogniser.mse
    assert levels["paper (no split described)"] == published("paper", "boolean16").mse
    ours, paper = studies["boolean16"], studies["boolean16_paper"]
    table = study.side_by_side_table((references16, ours, paper), (references16, ours, paper)).splitlines()
    assert len(table) == 2 + 6 and all(line.count("|") == 7 for line in table)
    assert f"{ours.summary.mean:.4f} ± {ours.summary.sd:.4f}" in table[2]
    assert f"{paper.summary.n_success} of 2" in table[3]


def test_value_list():
    assert study.value_list([0.1, 0.23456]) == "0.1000, 0.2346"
    assert study.value_list([3, 4], digits=0) == "3, 4" and study.value_list([]) == "none"


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="n_test_sequences"):
        study.split_batches(recipe("boolean16"), 0)
    with pytest.raises(ValueError, match="config.family"):
        study.boolean_references(recipe("semilinear"), 4)
    with pytest.raises(ValueError, match="config.held_out"):
        study.boolean_references(recipe("first_run"), 4)
