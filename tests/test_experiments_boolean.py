"""The Boolean chapter's study (l2l_lib.experiments.boolean and .boolean_search), checked against references
computed here by hand: the ideal learner's error from the first sight of each pattern, a Bayes learner by
enumeration of the consistent functions, per-seed ratios recomputed from the networks, counts and verdicts
of hand-made results, and search logs written here with known contents."""

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from fake_networks import Constant
from l2l_lib.baselines import ideal_predictions
from l2l_lib.config import TrainConfig
from l2l_lib.evaluate import Evaluation, evaluate_predictions, evaluation_batch, predict
from l2l_lib.experiments import boolean as study
from l2l_lib.experiments import boolean_search as search
from l2l_lib.protocol import evaluation_triples, search_triples
from l2l_lib.recipes import recipe
from l2l_lib.reference import published
from l2l_lib.statistics import PairedComparison
from l2l_lib.tasks import family_functions, truth_table
from l2l_lib.train import History, TrainResult
from l2l_lib.trainer import evaluation_batches

TINY = {"n_steps": 20, "seq_len": 12, "batch_size": 2, "eval_every": 10}
PAPER16, OTHER16 = evaluation_triples("boolean16")[:2]


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


def fake_evaluation(mse: float, accuracy: float = 0.9) -> Evaluation:
    return Evaluation(mse=mse, constant_mse=0.25, normalised_mse=mse / 0.25, accuracy=accuracy,
                      mse_by_position=np.full(4, mse), accuracy_by_position=None, mse_since_switch=None,
                      per_function=None)


def fake_triple(name: str, held_out, ratios, *, floor: float = 0.004, first_seed: int = 10_000,
                train_ratios=None, family: str = "boolean16") -> study.TripleResult:
    """A TripleResult whose seeds have held-out MSE ``ratios * floor`` (no networks needed)."""
    train_ratios = [1.0] * len(ratios) if train_ratios is None else train_ratios
    runs = tuple(TrainResult(config=recipe(name, seed=first_seed + k, held_out=tuple(held_out)), model=None,
                             history=History(), wall_time=0.0) for k in range(len(ratios)))
    return study.TripleResult(recipe=name, held_out=tuple(held_out), runs=runs,
                              held_out_scores=tuple(fake_evaluation(r * floor) for r in ratios),
                              train_scores=tuple(fake_evaluation(r * 0.003) for r in train_ratios),
                              floor=floor, floor_train=0.003)


def fake_results(name: str, per_triple: dict, family: str = "boolean16") -> study.RecipeResults:
    return study.RecipeResults(recipe=name, family=family,
                               triples=tuple(fake_triple(name, t, r) for t, r in per_triple.items()))


@pytest.fixture(scope="module")
def references16():
    return study.family_references("boolean16", 30, n_sets=2, overrides=TINY)


@pytest.fixture(scope="module")
def trained(references16, tmp_path_factory):
    """Two Boolean-16 recipes on two triples, two seeds each, trained for 20 steps into a cache of their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("L2L_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        return {name: study.evaluate_recipe_sets(name, references16, n_seeds=2, first_seed=3, overrides=TINY,
                                                 progress=False)
                for name in ("boolean16", "boolean16_near_binary")}


# ----------------------------------------------------------------------------- references
def test_split_batches_draw_only_held_out_or_only_training_functions():
    config = recipe("boolean16", **TINY)
    held_out, train = study.split_batches(config, 25)
    assert set(held_out.function_ids.unique().tolist()) <= set(config.held_out)
    assert set(train.function_ids.unique().tolist()) <= set(config.train_functions)
    assert held_out.targets.shape == train.targets.shape == (25, 12, 1)
    again, _ = study.split_batches(config, 25)
    assert torch.equal(again.inputs, held_out.inputs)  # the same streams for every learner


def test_family_references_follow_the_protocols_triples(references16):
    assert list(references16) == [PAPER16, OTHER16] == list(evaluation_triples("boolean16")[:2])
    for triple, refs in references16.items():
        assert refs.held_out == triple and refs.config.seq_len == 12
        assert set(refs.test.function_ids.unique().tolist()) <= set(triple)
    every = study.family_references("boolean14", 4, overrides=TINY)
    assert tuple(every) == evaluation_triples("boolean14")
    with pytest.raises(ValueError, match="n_sets"):
        study.family_references("boolean16", 4, n_sets=5)


def test_ideal_learner_errs_0_25_exactly_at_each_first_sight(references16):
    refs = references16[PAPER16]
    for batch, evaluation in ((refs.test, refs.ideal), (refs.test_train, refs.ideal_train)):
        expected = 0.25 * first_sight(batch)  # a seen pattern's answer is known; an unseen one is a coin
        assert evaluation.mse == pytest.approx(expected.mean(), abs=1e-7)
        np.testing.assert_allclose(evaluation.mse_by_position, expected.mean(0), atol=1e-7)
    assert refs.constant.mse == pytest.approx(0.25)  # 0.5 against targets 0 and 1


def test_recogniser_is_the_bayes_learner_that_bets_on_the_training_functions(references16):
    refs = references16[PAPER16]
    functions = list(range(16))
    weights = [1.0 if k in refs.config.train_functions else study.RECOGNISER_HELD_OUT_WEIGHT for k in functions]
    for batch, evaluation in ((refs.test, refs.recogniser), (refs.test_train, refs.recogniser_train)):
        expected = bayes_by_enumeration(batch, functions, weights)
        assert evaluation.mse == pytest.approx(((expected - batch.targets[..., 0].numpy()) ** 2).mean(), rel=1e-5)
    # what training rewards: better than the uniform learner on training functions, worse on held-out ones
    assert refs.recogniser_train.mse <= refs.ideal_train.mse
    assert refs.recogniser.mse > refs.ideal.mse


# ----------------------------------------------------------------------------- every triple, every seed
def test_recipe_sets_score_every_seed_on_its_triples_streams(trained, references16):
    ours = trained["boolean16"]
    assert ours.family == "boolean16" and [t.held_out for t in ours.triples] == [PAPER16, OTHER16]
    for result in ours.triples:
        refs = references16[result.held_out]
        assert result.seeds == (3, 4) and all(r.config.held_out == result.held_out for r in result.runs)
        mse = [evaluate_predictions(refs.test, predict(r.model, refs.test)).mse for r in result.runs]
        np.testing.assert_allclose(result.ratios, np.array(mse) / refs.ideal.mse)
        train = [evaluate_predictions(refs.test_train, predict(r.model, refs.test_train)).mse for r in result.runs]
        np.testing.assert_allclose(result.train_ratios, np.array(train) / refs.ideal_train.mse)
        np.testing.assert_array_equal(result.learners, result.ratios <= study.LEARNER_RATIO)
    assert ours.illustrative is ours.triples[0].runs[0]  # the rule: first seed, paper's triple
    assert set(ours.paired_ratios()) == {(t, s) for t in (PAPER16, OTHER16) for s in (3, 4)}


def test_the_same_seed_and_triple_start_every_recipe_from_the_same_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("L2L_CACHE_DIR", str(tmp_path))
    steps = {**TINY, "n_steps": 0}  # untrained: the initial weights themselves
    refs = study.family_references("boolean16", 4, n_sets=1, overrides=steps)
    a, b = (study.evaluate_recipe_sets(n, refs, n_seeds=1, overrides=steps, progress=False)
            for n in ("boolean16", "boolean16_boolean_only"))
    for p, q in zip(a.illustrative.model.parameters(), b.illustrative.model.parameters()):
        assert torch.equal(p, q)


def test_a_recipe_with_another_split_is_refused(references16):
    with pytest.raises(ValueError, match="seq_len"):
        study.evaluate_recipe_sets("boolean14", references16, n_seeds=1, overrides=TINY)
    with pytest.raises(ValueError, match="seq_len"):
        study.evaluate_recipe_sets("boolean16", references16, n_seeds=1, overrides={**TINY, "seq_len": 8})
    swapped = dict(reversed(list(references16.items())))
    with pytest.raises(ValueError, match="triples"):
        study.evaluate_recipe_sets("boolean16", swapped, n_seeds=1, overrides=TINY)


# ----------------------------------------------------------------------------- counts and targets
def test_required_successes_is_four_of_five_rounded_up():
    assert [study.required_successes(n) for n in (1, 2, 3, 5, 10)] == [1, 2, 3, 4, 8]


def test_triple_table_counts_and_intervals_by_hand():
    a = fake_results("boolean16", {PAPER16: [1.05, 1.2, 30.0, 1.0, 2.5], OTHER16: [1.1, 1.1, 1.1, 4.0, 9.0]})
    b = fake_results("boolean16_boolean_only", {PAPER16: [20, 30, 1.05, 40, 50], OTHER16: [1, 2, 3, 4, 5]})
    lines = study.triple_table([a, b]).splitlines()
    assert len(lines) == 2 + 4 and all(line.count("|") == 7 for line in lines)
    assert lines[2].startswith("| {0, 6, 9} | `boolean16` | 1.05x, 1.2x, 30x, 1x, 2.5x | 1.2x |")
    assert "2/5 (95% CI 0.05–0.85)" in lines[2] and "4/5 (95% CI 0.28–0.99)" in lines[2]
    assert "| {1, 3, 14} | `boolean16` |" in lines[4] and "3/5" in lines[4]  # 1.1 itself counts
    fourteen = fake_results("boolean14", {(0, 5, 10): [1.15, 1.3]}, family="boolean14")
    assert "≤ 1.2x" in study.triple_table([fourteen]).splitlines()[0]
    with pytest.raises(ValueError, match="results"):
        study.triple_table([a, fourteen])


def test_verdict_met_when_four_of_five_succeed_on_every_triple():
    met = fake_results("boolean16", {PAPER16: [1.05, 1.08, 1.0, 1.09, 2.0], OTHER16: [1.0] * 5})
    text = study.target_verdict(met)
    assert "It is met: 4 of 5 on {0, 6, 9}; 5 of 5 on {1, 3, 14}." in text
    assert "holds: 5 of 5 seeds within 3x, median 1.08x." in text


def test_verdict_missed_names_the_triples_and_judges_the_fallback():
    fallback = fake_results("boolean16", {PAPER16: [1.05, 1.2, 1.3, 1.0, 2.0], OTHER16: [1.0] * 5})
    text = study.target_verdict(fallback)
    assert "missed on 1 of 2 triples: 2 of 5 seeds on {0, 6, 9} (median 1.2x)." in text
    assert "does not hold" not in text and "holds: 5 of 5 seeds within 3x, median 1.2x." in text
    failed = fake_results("boolean16", {PAPER16: [1.05, 1.2, 30.0, 1.0, 2.0]})
    assert "does not hold: 4 of 5 seeds within 3x" in study.target_verdict(failed)
    fourteen = fake_results("boolean14", {(0, 5, 10): [1.15, 1.19, 1.0, 1.3, 1.21]}, family="boolean14")
    text = study.target_verdict(fourteen)
    assert "at most 1.2 times" in text and "missed on 1 of 1 triple: 3 of 5" in text and "least we asked" not in text


def test_compare_recipes_pairs_by_triple_and_seed():
    a = fake_results("boolean16", {PAPER16: [1.0, 2.0, 3.0], OTHER16: [1.0, 1.0, 5.0]})
    b = fake_results("boolean16_near_binary", {PAPER16: [2.0, 2.0, 1.0]})  # one triple: three pairs
    comparison = study.compare_recipes(a, b)
    assert comparison.names == ("boolean16", "boolean16_near_binary") and comparison.n == 3
    assert (comparison.a_better, comparison.b_better, comparison.ties) == (1, 1, 1)
    assert comparison.median_difference == pytest.approx(0.0)  # differences -1, 0, 2
    with pytest.raises(ValueError, match="family"):
        study.compare_recipes(a, fake_results("boolean14", {(0, 5, 10): [1.0]}, family="boolean14"))
    far = study.RecipeResults("boolean16_near_binary", "boolean16",
                              (fake_triple("boolean16_near_binary", PAPER16, [1.0], first_seed=5),))  # seed 5: no pair
    with pytest.raises(ValueError, match="sharing"):
        study.compare_recipes(a, far)


@pytest.mark.parametrize("sign_p, wilcoxon_p, words", [
    (0.01, 0.02, "both tests call clear, in favour of `a`"),
    (0.2, 0.02, "only one of the two tests"),
    (0.5, 0.4, "not distinguishable from chance"),
])
def test_comparison_sentence_is_chosen_by_the_p_values(sign_p, wilcoxon_p, words):
    comparison = PairedComparison(names=("a", "b"), n=20, a_better=15, b_better=4, ties=1, median_difference=-0.3,
                                  sign_p=sign_p, wilcoxon_p=wilcoxon_p)
    text = study.comparison_sentence(comparison, "the noise")
    assert words in text and "in 15 of 20 pairs" in text and "(1 tied)" in text
    table = study.comparison_table([comparison]).splitlines()
    assert table[2] == f"| `a` | `b` | 20 | 15 | 4 | 1 | -0.3 | {sign_p:.2g} | {wilcoxon_p:.2g} |"


# ----------------------------------------------------------------------------- how the learner learns
def test_position_curve_of_the_ideal_learner_by_hand(references16):
    batch = references16[PAPER16].test
    curve = study.position_curve(ideal_predictions, batch)
    squared = 0.25 * first_sight(batch)  # the ideal learner's error per step, by hand
    mean, sd = squared.mean(0), squared.std(0, ddof=1)
    np.testing.assert_allclose(curve.mean, mean, atol=1e-7)
    np.testing.assert_allclose(curve.high - curve.mean, 1.959963984540054 * sd / math.sqrt(len(squared)), atol=1e-7)
    np.testing.assert_allclose(curve.mean - curve.low, curve.high - curve.mean)
    constant = study.position_curve(Constant(0.5), batch)  # 0.25 at every step, no spread
    np.testing.assert_allclose(np.stack(constant.band()), 0.25)


def test_pattern_counts_match_the_ideal_learner_and_group_the_seeds(trained, references16):
    result = trained["boolean16"].triples[0]
    counts = study.pattern_count_study(result, references16[PAPER16], max_count=3)
    assert counts.mse.shape == counts.accuracy.shape == (2, 4)
    assert counts.ideal_mse[0] == pytest.approx(0.25)  # a first sight is a coin toss, then the answer is known
    seen = counts.ideal_mse[1:]
    assert np.all(seen[np.isfinite(seen)] == 0) and np.all(counts.ideal_accuracy[1:][np.isfinite(seen)] == 1)
    mse, accuracy = counts.curves()
    assert list(mse)[-1] == "ideal learner" and set(mse) == set(accuracy)
    n_groups = int(result.learners.any()) + int((~result.learners).any())
    assert len(mse) == n_groups + 1 and sum(len(v) for k, v in mse.items() if k != "ideal learner") == 2
    with pytest.raises(ValueError, match="held_out"):
        study.pattern_count_study(result, references16[OTHER16])


def test_trace_batch_shows_xor_when_it_is_held_out(references16):
    assert int(study.trace_batch(references16[PAPER16]).function_ids[0, 0]) == 6
    other = references16[OTHER16]
    assert int(study.trace_batch(other).function_ids[0, 0]) == other.held_out[0]


def test_out_of_family_scores_against_both_bayes_learners(trained):
    runs = trained["boolean16"].triples[0].runs
    with pytest.raises(ValueError, match="functions"):
        study.out_of_family(runs, 10, functions=(6,))  # XOR is in Boolean-16
    fourteen_runs = [dataclasses.replace(r, config=recipe("boolean14", **TINY)) for r in runs]
    ood = study.out_of_family(fourteen_runs, 20, functions=(6, 9))
    batch = evaluation_batch("boolean16", functions=(6, 9), n_sequences=20, seq_len=12, seed=study.TEST_STREAMS)
    assert ood.functions == (6, 9) and ood.family == "boolean14" and len(ood.lstm) == 2
    assert ood.lstm[0].mse == evaluate_predictions(batch, predict(runs[0].model, batch)).mse
    # the sixteen-function learner errs only at first sights; the fourteen-function one is misled
    assert ood.bayes_all.mse == pytest.approx(0.25 * first_sight(batch).mean(), abs=1e-7)
    fourteen = list(family_functions("boolean14"))
    expected = bayes_by_enumeration(batch, fourteen, [1.0] * len(fourteen))
    assert ood.bayes_family.mse == pytest.approx(((expected - batch.targets[..., 0].numpy()) ** 2).mean(), rel=1e-5)
    assert ood.bayes_all.mse < ood.bayes_family.mse
    assert ood.below_family_bayes == int(sum(e.mse < ood.bayes_family.mse for e in ood.lstm))
    curves = ood.curves(fourteen_runs[0], "net")
    assert list(curves) == ["net", "Bayes, boolean14 prior", "Bayes, boolean16 prior (floor)"]
    assert float(curves["Bayes, boolean14 prior"].mean.mean()) == pytest.approx(ood.bayes_family.mse, rel=1e-5)
    mixed = [fourteen_runs[0], dataclasses.replace(runs[0], config=recipe("boolean14", seq_len=8))]
    with pytest.raises(ValueError, match="runs"):
        study.out_of_family(mixed, 4)


def test_side_by_side_quotes_the_published_numbers_and_the_medians(references16):
    refs = references16[PAPER16]
    ours = fake_triple("boolean16", PAPER16, [1.0, 2.0, 30.0], floor=refs.ideal.mse)
    near = fake_triple("boolean16_near_binary", PAPER16, [1.0], floor=refs.ideal.mse)
    table = study.side_by_side_table([("Boolean-16", ours, refs), ("Boolean-16", near, refs)]).splitlines()
    assert len(table) == 2 + 5 and all(line.count("|") == 7 for line in table)
    assert f"| {published('paper', 'boolean16').mse:.4f} |" in table[2] and "none described" in table[2]
    assert f"| {published('report', 'boolean16').mse:.4f} | 99.3 % |" in table[3]
    assert f"{2 * refs.ideal.mse:.4f} (median; {refs.ideal.mse:.4f}–{30 * refs.ideal.mse:.4f})" in table[4]
    assert "3 seeds (10000–10002)" in table[4] and "50% random tables, Adam" in table[4] and "noise" not in table[4]
    assert "50% random Beta(0.3, 0.3) tables, noise 0.1 on the fed-back target" in table[5]
    assert table[6].startswith("| Boolean-16: ideal learner | {0, 6, 9} |")
    assert f"{100 * refs.ideal.accuracy:.1f} %" in table[6]


def test_text_helpers():
    assert study.value_list([0.1, 0.23456]) == "0.1000, 0.2346"
    assert study.value_list([3, 4], digits=0) == "3, 4" and study.value_list([]) == "none"
    assert study.ratio_list([1.0512, 12.34]) == "1.05x, 12.3x" and study.triple_text((0, 6, 9)) == "{0, 6, 9}"


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="n_test_sequences"):
        study.split_batches(recipe("boolean16"), 0)
    with pytest.raises(ValueError, match="config.family"):
        study.boolean_references(recipe("semilinear"), 4)
    with pytest.raises(ValueError, match="config.held_out"):
        study.boolean_references(recipe("first_run"), 4)
    with pytest.raises(ValueError, match="recipe name"):
        study.family_references("boolean17", 4)
    with pytest.raises(ValueError, match="references"):
        study.evaluate_recipe_sets("boolean16", {})
    with pytest.raises(ValueError, match="held_out"):
        fake_results("boolean16", {PAPER16: [1.0]}).triple(OTHER16)


# ----------------------------------------------------------------------------- the search logs
SEARCH16, SEARCH14 = search_triples("boolean16")[0], search_triples("boolean14")[0]


def write_log(path, name, *, held_out, held, val, selected=None, seeds=(0, 1), **fields):
    """A log as benchmarks/recipes.py writes it: per seed, held-out and validation MSE at steps 0, 10, 20."""
    config = recipe(name, held_out=held_out, seed=seeds[0], n_steps=20, eval_every=10, eval_sequences=16,
                    seq_len=12, **fields)
    record = {"recipe": name, "overrides": {"held_out": list(held_out)}, "device": "cpu",
              "config": config.to_dict(), "wall_seconds": 1.0,
              "seeds": [{"seed": s, "wall_time": 1.0, "from_cache": False,
                         "history": {"steps": [0, 10, 20], "train_mse": [0.2] * 3, "val_mse": val[k],
                                     "held_out_mse": held[k], "seconds": [0, 1, 2], "selected_step": selected}}
                        for k, s in enumerate(seeds)]}
    path.write_text(json.dumps(record))
    return config


def test_a_search_log_reads_the_kept_weights_and_their_floor(tmp_path):
    config = write_log(tmp_path / "search2_b16_noise.json", "boolean16", held_out=SEARCH16,
                       held=[[0.2, 0.01, 0.1], [0.3, 0.02, 0.05]], val=[[0.2, 0.01, 0.02], [0.2, 0.03, 0.02]],
                       selected=10)
    run = search.read_search_run(tmp_path / "search2_b16_noise.json")
    assert run.name == "b16_noise" and run.recipe == "boolean16" and run.seeds == (0, 1)
    np.testing.assert_allclose(run.kept_held_out, [0.01, 0.02])  # at the selected step, not the last
    np.testing.assert_allclose(run.kept_val, [0.01, 0.03])
    for seed, floor in zip(run.seeds, run.floors):
        batch = evaluation_batches(dataclasses.replace(config, seed=seed))["held_out"]
        assert floor == pytest.approx(0.25 * first_sight(batch).mean(), abs=1e-7)  # the ideal learner, by hand
    np.testing.assert_allclose(run.ratios, run.kept_held_out / run.floors)
    assert run.book_recipe is None  # shortened: not the book's recipe


def test_search_logs_without_keep_best_keep_the_last_weights(tmp_path):
    write_log(tmp_path / "search2_x.json", "boolean16_boolean_only", held_out=SEARCH16,
              held=[[0.2, 0.01, 0.1]], val=[[0.2, 0.01, 0.02]], seeds=(0,))
    assert search.read_search_run(tmp_path / "search2_x.json").kept_held_out.tolist() == [0.1]


def test_search_table_hygiene_and_choice(tmp_path):
    book = recipe("boolean16")
    common = dict(held_out=SEARCH16, val=[[0.1] * 3] * 2, selected=20)
    path = tmp_path / "search2_b16_a.json"
    write_log(path, "boolean16", held=[[0.1, 0.1, 0.004]] * 2, **common)
    record = json.loads(path.read_text())
    record["config"] = {**book.to_dict(), "held_out": list(SEARCH16), "seed": 0}  # the book's recipe itself
    path.write_text(json.dumps(record))
    write_log(tmp_path / "search2_b16_b.json", "boolean16_near_binary", held=[[0.1, 0.1, 0.2]] * 2, **common)
    write_log(tmp_path / "search2_b14.json", "boolean14", held_out=SEARCH14, held=[[0.1, 0.1, 0.05]] * 2,
              val=[[0.1] * 3] * 2, selected=20)
    (tmp_path / "other.json").write_text("{}")  # not a search log: not read
    runs = search.read_search_runs(tmp_path)
    assert [r.name for r in runs] == ["b16_a", "b16_b", "b14"]  # Boolean-16 first
    assert runs[0].book_recipe == "boolean16" and runs[1].book_recipe is None
    table = search.search_table(runs).splitlines()
    assert len(table) == 2 + 3 and all(line.count("|") == 12 for line in table)
    assert table[2].startswith("| `b16_a` | tables 50%, U[0, 1] tables, lr 0.02, decay over 50%, clip 1, keep_best, "
                               "30,000 steps | boolean16 {4, 9, 10} | 0–1 |")
    assert table[2].endswith("| 0.13 % (does not show) | 1 | `boolean16` |")  # 13 * 0.1^4 of uniform tables
    assert "Beta(0.3, 0.3) tables, noise 0.1 on the fed-back target" in table[3] and "(shows) | 2 | – |" in table[3]
    assert "| boolean14 {11, 13, 14} |" in table[4] and table[4].endswith("| 1 | – |")  # ranked within its family
    hygiene = search.search_hygiene(runs)
    assert "seeds 0–1" in hygiene and "never an evaluation seed or triple" in hygiene
    ours = search.search_choice(runs, "boolean16")
    assert "picks `b16_a` (2 of 2 seeds within 1.1x, 2 within 3x" in ours and ours.endswith("`b16_a` is `boolean16`.")
    assert "the count within 1.1x decided: 2 against 0 for `b16_b`" in ours and "blurred" not in ours
    fourteen = search.search_choice(runs, "boolean14")
    assert "None of the 1 boolean14 logs ran `boolean14` exactly" in fourteen and "decided" not in fourteen
    with pytest.raises(FileNotFoundError, match="search2_"):
        search.read_search_runs(tmp_path / "empty")


def test_search_hygiene_names_evaluation_seeds_and_triples(tmp_path):
    write_log(tmp_path / "search2_bad.json", "boolean16", held_out=PAPER16, held=[[0.1] * 3], val=[[0.1] * 3],
              seeds=(10_000,))
    text = search.search_hygiene(search.read_search_runs(tmp_path))
    assert "breaks the protocol" in text and "[10000]" in text and "{0, 6, 9}" in text


def test_a_file_that_is_not_a_search_log_is_refused(tmp_path):
    (tmp_path / "search2_x.json").write_text(json.dumps({"seeds": []}))
    with pytest.raises(ValueError, match="recipe"):
        search.read_search_run(tmp_path / "search2_x.json")
    path = tmp_path / "search2_y.json"
    write_log(path, "boolean16", held_out=SEARCH16, held=[[0.1] * 3], val=[[0.1] * 3], seeds=(0,))
    record = json.loads(path.read_text())
    record["config"] = TrainConfig(family="semilinear").to_dict()
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="Boolean"):
        search.read_search_run(path)


def fake_search_run(name: str, ratios, recipe_name: str = "boolean16", **fields) -> search.SearchRun:
    """A SearchRun whose seeds have held-out ratios ``ratios`` (floors 1), of ``recipe_name`` on the search triple."""
    config = recipe(recipe_name, held_out=SEARCH16, seed=0, **fields)
    n = len(ratios)
    return search.SearchRun(name=name, recipe=recipe_name, config=config, seeds=tuple(range(n)),
                            kept_held_out=np.array(ratios, dtype=float), floors=np.ones(n), kept_val=np.zeros(n))


def uniform_share() -> float:
    """Near copies of one held-out function per training function's streams, uniform tables, by hand: half
    the streams are tables, the other half spread over 13 functions; a table is within 0.1 in all four
    patterns with probability 0.1^4."""
    return (0.5 / (0.5 / 13)) * 0.1 ** 4


def beta_share_by_sampling(a: float, n: int = 1_000_000) -> float:
    """The same for Beta(a, a) tables, with the probability of one value within 0.1 of 0 sampled (by symmetry,
    also that of a value within 0.1 of 1)."""
    values = np.random.default_rng(0).beta(a, a, size=n)
    return 13 * float(np.mean(values <= 0.1)) ** 4


def test_variant_text_names_what_is_not_the_default():
    assert search.variant_text(recipe("boolean16")) == (
        "tables 50%, U[0, 1] tables, lr 0.02, decay over 50%, clip 1, keep_best, 30,000 steps")
    assert search.variant_text(recipe("boolean16_near_binary")).startswith(
        "tables 50%, Beta(0.3, 0.3) tables, noise 0.1 on the fed-back target, lr 0.02,")
    assert "cross-entropy loss, lr" in search.variant_text(recipe("boolean16", loss="bce"))
    assert "U[0, 1] tables, linear read-out, lr" in search.variant_text(recipe("boolean16", output="linear"))
    assert search.variant_text(recipe("boolean16_boolean_only")) == "no tables, lr 0.01, 30,000 steps"


def test_near_copy_share_by_hand_by_sampling_and_as_the_diversity_chapter_counts():
    from l2l_lib.experiments import diversity

    assert search.near_copy_share(recipe("boolean16")) == pytest.approx(uniform_share(), rel=1e-9)
    assert search.near_copy_share(recipe("boolean16", n_steps=40, batch_size=4)) == pytest.approx(uniform_share())
    near = recipe("boolean16_near_binary")
    assert search.near_copy_share(near) == pytest.approx(beta_share_by_sampling(0.3), rel=0.03)
    counted = diversity.near_table_study("boolean16_near_binary", betas=(1.0,))
    study_share = counted.row(0.3, diversity.JUDGE_DELTA).share
    assert search.near_copy_share(near) == pytest.approx(study_share, rel=1e-12)
    assert search.near_copy_share(recipe("boolean16_boolean_only")) == 0.0
    assert not search.shows_held_out(recipe("boolean16")) and search.shows_held_out(near)
    with pytest.raises(ValueError, match="config"):
        search.near_copy_share(recipe("semilinear"))


def test_the_rule_counts_then_learners_then_the_median():
    a = fake_search_run("a", [1.05, 5.0, 5.0, 5.0])  # one success beats any number of learners
    b = fake_search_run("b", [1.5, 2.0, 2.0, 2.0])
    c = fake_search_run("c", [1.5, 2.5, 2.5, 9.0])  # same counts as d, lower median
    d = fake_search_run("d", [1.5, 2.9, 2.9, 9.0])
    e = fake_search_run("e", [1.5, 2.9, 2.9, 9.0])  # a full tie with d: the name decides
    ranked = search.search_decision([e, d, c, b, a], "boolean16").ranked
    assert [r.name for r in ranked] == ["a", "b", "c", "d", "e"]
    with pytest.raises(ValueError, match="runs"):
        search.search_decision([a], "boolean14")


def test_search_choice_when_the_rules_pick_shows_held_out_functions():
    beta = fake_search_run("b16_beta", [1.05, 1.5, 2.0, 2.0], "boolean16_near_binary")  # 1 success, 4 learners
    uniform = fake_search_run("b16_uniform", [1.5, 2.0, 2.0, 9.0])  # the book's recipe: 0 and 3
    noise = fake_search_run("b16_noise", [1.5, 2.0, 9.0, 9.0], target_noise=0.1)  # 0 and 2
    runs = [noise, uniform, beta]
    decision = search.search_decision(runs, "boolean16")
    assert decision.pick is beta and decision.eligible_pick is uniform
    assert decision.rank(uniform) == 2 and decision.eligible_rank(uniform) == 1 and decision.eligible_rank(beta) is None
    text = search.search_choice(runs, "boolean16")
    assert "picks `b16_beta` (1 of 4 seeds within 1.1x, 4 within 3x, median 1.75x; the count within 1.1x decided: " \
           "1 against 0 for `b16_uniform`)" in text
    assert f"make up {100 * beta.near_share:.3g} % of one training function's streams, at or above the 1 %" in text
    assert "Among the 2 variants whose tables show none, the rule picks `b16_uniform` (0 of 4 seeds within 1.1x, 3 " \
           "within 3x, median 2x; the count within 3x decided: 3 against 2 for `b16_noise`)." in text
    assert text.startswith("By the rule, the boolean16 search picks") and "That variant is `boolean16`" in text
    assert text.endswith("evaluated beside it as `boolean16_near_binary`.")
    near = search.search_choice(runs, "boolean16_near_binary")
    assert near.endswith("`b16_beta` is `boolean16_near_binary`, whose held-out error is therefore not a clean "
                         "measure of learning functions never seen.")
    # a frozen recipe that is neither pick is said to be so, with its ranks
    worse = fake_search_run("b16_worse", [9.0] * 4)
    other = search.search_choice([beta, noise, worse], "boolean16")
    assert other.endswith("`boolean16` is `b16_worse` (0 of 4 seeds within 1.1x, 0 within 3x, median 9x), rank 3 of 3 "
                          "by the rule and 2 among those that show no held-out function: the frozen recipe is not what "
                          "the rule picks.")
    assert "The tables of every variant show held-out functions." in search.search_choice([beta], "boolean16")


def test_search_choice_for_a_family_without_a_search():
    differ = {f.name for f in dataclasses.fields(TrainConfig)
              if getattr(recipe("boolean14"), f.name) != getattr(recipe("boolean16"), f.name)}
    assert differ <= {"family", "held_out", "seq_len"}  # by hand: Boolean-14 takes Boolean-16's ingredients
    text = search.search_choice([fake_search_run("b16", [1.0])], "boolean14")
    assert text == ("No boolean14 search was run: `boolean14` takes the ingredients of `boolean16` (every field is the "
                    "same but the family, the held-out triple and the sequence length).")
    with pytest.raises(ValueError, match="name"):
        search.search_choice([], "boolean17")


def test_showing_note_chooses_its_sentences_by_the_criterion():
    note = search.showing_note("boolean16", "boolean16_near_binary", overrides={"n_steps": 40, "batch_size": 4})
    assert note.book_share == pytest.approx(uniform_share())  # the share does not depend on the run's size
    share = f"{100 * note.variant_share:.3g} %"
    assert f"make up {share} of one training function's streams, against 0.13 % for `boolean16`" in note.standing()
    assert "That is why it is not the book's recipe" in note.standing() and "caveat" in note.caveat()
    assert "0.13 % of one training function's streams, below the 1 %" in note.book_sentence()
    neither = search.showing_note("boolean16", "boolean16_boolean_only")
    assert neither.standing().startswith("By that criterion neither `boolean16_boolean_only` (0 %) nor `boolean16` "
                                         "(0.13 %)") and neither.caveat() == ""
    swapped = search.showing_note("boolean16_near_binary", "boolean16")
    assert "`boolean16_near_binary` itself shows" in swapped.standing() and swapped.caveat() == ""
    assert "at or above the 1 %" in swapped.book_sentence()
    with pytest.raises(ValueError, match="Boolean"):
        search.showing_note("boolean16", "semilinear")


def test_the_chapters_prose_matches_the_frozen_recipes():
    """The chapter describes boolean16 as uniform tables without noise, trained on squared error with a sigmoid
    read-out, and boolean16_near_binary as the same with two changes: near-binary tables and noise."""
    ours, near = recipe("boolean16"), recipe("boolean16_near_binary")
    assert (ours.target_noise, ours.table_beta, ours.loss, ours.output) == (0.0, None, "mse", "sigmoid")
    differ = {f.name for f in dataclasses.fields(TrainConfig) if getattr(ours, f.name) != getattr(near, f.name)}
    assert differ == {"table_beta", "target_noise"} and near.table_beta < 1 and near.target_noise > 0


def test_the_search_logs_give_the_frozen_recipes():
    """The raw logs of the search and the recipes frozen from them agree: the rule's pick shows held-out functions
    and is boolean16_near_binary; among the rest the rule picks the log that is boolean16."""
    decision = search.search_decision(search.read_search_runs(), "boolean16")
    assert decision.pick.shows_held_out and decision.pick.book_recipe == "boolean16_near_binary"
    assert decision.eligible_pick.book_recipe == "boolean16"


def test_first_edition_fresh_seeds_from_its_log():
    fresh = search.first_edition_fresh_seeds()
    assert fresh.seeds == tuple(range(100, 108)) and fresh.held_out == (0, 6, 9) and fresh.tables_until == 1.0
    assert fresh.floor == pytest.approx((1 - 0.75 ** 256) / 256)
    thrown = [s for s, b, f in zip(fresh.seeds, fresh.best, fresh.final) if f > study.LEARNER_RATIO * b]
    assert fresh.thrown_off == tuple(thrown)
    assert fresh.thrown_off_text().count("seed ") == len(thrown)


def test_first_edition_thrown_off_seeds_by_hand(tmp_path):
    record = {"config": {"held_out": [0, 6, 9], "seq_len": 64},
              "seeds": [{"seed": 1, "history": {"held_out_mse": [0.3, 0.01, 0.05]}},
                        {"seed": 2, "history": {"held_out_mse": [0.3, 0.01, 0.02]}},
                        {"seed": 3, "history": {"held_out_mse": [0.3, float("nan"), 0.2]}}]}
    (tmp_path / "log.json").write_text(json.dumps(record))
    fresh = search.first_edition_fresh_seeds(tmp_path / "log.json")
    assert fresh.thrown_off == (1,) and fresh.tables_until == 1.0
    assert fresh.thrown_off_text() == "seed 1 (best 0.0100, final 0.0500)"
    np.testing.assert_allclose(fresh.best, [0.01, 0.01, 0.2])
