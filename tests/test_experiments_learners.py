"""Tests of :mod:`l2l_lib.experiments.learners`: tables and criteria against hand computations, the
studies on networks whose predictions are known in advance, and the shared networks of the recipes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from l2l_lib.config import TrainConfig
from l2l_lib.evaluate import evaluate_predictions
from l2l_lib.experiments import held_out_sets, learners, train_recipe_sets
from l2l_lib.experiments.learners import FamilyComparison, LearnerResult
from l2l_lib.recipes import RECIPES
from l2l_lib.reference_learners import IDEAL, ONLINE_GD, REFERENCE_NAMES
from l2l_lib.tasks import Batch
from l2l_lib.train import History, TrainResult

from fake_networks import Constant

INF = math.inf


def run(family: str, model: nn.Module, seed: int = 0, **fields) -> TrainResult:
    return TrainResult(TrainConfig(family=family, seed=seed, **fields), model, History(), 0.0)


def result(name: str, examples: tuple[float, ...], seconds: float = 0.001) -> LearnerResult:
    return LearnerResult(name, (), examples, seconds)


def comparison(lstm: tuple[float, ...], online: float, ideal: float = 3.0, seq_len: int = 100) -> FamilyComparison:
    rows = {learners.LSTM: result(learners.LSTM, lstm), learners.ORIGINAL: result(learners.ORIGINAL, (INF,)),
            IDEAL: result(IDEAL, (ideal,)), ONLINE_GD: result(ONLINE_GD, (online,), seconds=0.0123)}
    return FamilyComparison("semilinear", seq_len, rows, online_rate=0.3, batch_rate=10.0)


def table_rows(table: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]


def test_criterion_table_medians_ranges_never_and_the_speed_ratio():
    comparisons = {"semilinear": comparison((2, 4, INF), online=12.0), "quadratic": comparison((INF, INF), online=5.0),
                   "boolean16": comparison((10,), online=INF)}
    rows = {row[0]: row[1:] for row in table_rows(learners.criterion_table(comparisons))}
    # median of (2, 4, inf) is 4, range over the finite ones 2-4; all never: "never"; one seed: no range
    assert rows[learners.LSTM] == ["4 (2-4)", "never", "10"]
    assert rows[learners.ORIGINAL] == ["never", "never", "never"]
    assert rows[ONLINE_GD] == ["12", "5", "never"]
    # 12 / 4 = 3.0; the LSTM never learns: no ratio; online GD never: at least seq_len / 10 = 10
    assert rows["online GD / LSTM"] == ["3.0", "–", "≥ 10 (online GD never)"]


def test_examples_over_ideal_counts_an_ideal_zero_as_one():
    ratios = learners.examples_over_ideal({"a": comparison((4, 8), online=1.0, ideal=0.0),
                                           "b": comparison((6,), online=1.0, ideal=3.0),
                                           "c": comparison((INF,), online=1.0)})
    assert ratios == {"a": 6.0, "b": 2.0, "c": INF}


def test_rates_and_clock_tables():
    comparisons = {"semilinear": comparison((1,), online=1.0)}
    assert table_rows(learners.rates_table(comparisons)) == [["semi-linear", "0.3", "10"]]
    clock = {row[0]: row[1] for row in table_rows(learners.clock_table(comparisons))}
    assert clock[ONLINE_GD] == "12.30"  # milliseconds per stream


def hand_boolean_batch(x: list[tuple[int, int]], y: list[int]) -> Batch:
    inputs = torch.tensor([[[a, b, p] for (a, b), p in zip(x, [0] + y[:-1])]], dtype=torch.float32)
    return Batch("boolean16", inputs, torch.tensor(y, dtype=torch.float32).view(1, -1, 1),
                 torch.zeros(1, len(y), dtype=torch.long), None, torch.tensor([[True] + [False] * (len(y) - 1)]))


def test_boolean_examples_needed_is_two_right_answers_in_a_row_on_every_pattern():
    x = [(0, 0), (0, 1), (0, 0), (1, 0), (1, 1), (0, 1), (1, 0), (1, 1), (0, 0)]
    y = [0, 1, 0, 1, 1, 1, 1, 1, 0]
    batch = hand_boolean_batch(x, y)
    right = batch.targets.clone()
    # every answer right: the last pattern to get its second answer is (1, 1), at step 7: 8 examples
    assert learners._examples_needed(batch, evaluate_predictions(batch, right), right) == 8.0
    wrong_last = right.clone()
    wrong_last[0, 8, 0] = 1.0  # the last answer to (0, 0) is wrong: never learnt within the stream
    assert learners._examples_needed(batch, evaluate_predictions(batch, wrong_last), wrong_last) == INF


def test_compare_family_scores_every_learner_on_the_same_streams():
    lstm = [run("semilinear", Constant(0.5)), run("semilinear", Constant(0.5), seed=1)]
    original = [run("semilinear", Constant(0.4), forget_gate=False)]
    out = learners.compare_family(lstm, original, n_sequences=6, seq_len=10)
    assert list(out.learners) == [learners.LSTM, learners.ORIGINAL, *REFERENCE_NAMES]
    assert len(out.learners[learners.LSTM].evaluations) == 2
    constant = out.learners["constant 0.5"].evaluations[0]
    assert out.learners[learners.LSTM].evaluations[0].mse == constant.mse  # both answer 0.5 on the same streams
    assert out.online_rate > 0 and out.batch_rate > 0
    curves = out.mse_by_position()
    assert curves[learners.LSTM].shape == (2, 10) and curves[IDEAL].shape == (1, 10)
    assert out.median_examples(learners.LSTM) == INF  # a constant never gets below 10 % of itself


def test_switch_study_of_a_constant_network_is_a_quarter_everywhere():
    runs = [run("boolean16", Constant(0.5)), run("boolean16", Constant(0.5), seed=1)]
    study = learners.switch_study(runs, n_sequences=8, switch_every=6)
    assert study.lstm.shape == (2, 6) and study.ideal.shape == (6,)
    np.testing.assert_allclose(study.lstm, 0.25)  # (0.5 - y)^2 with y in {0, 1}
    assert study.late_from == 5
    assert study.first() == (pytest.approx(0.25), pytest.approx(float(study.ideal[0])))
    assert study.late()[1] == pytest.approx(float(study.ideal[5:].mean()))
    with pytest.raises(ValueError, match="switch_every"):
        learners.switch_study(runs, n_sequences=8, switch_every=1)


def test_shift_study_rows_of_constant_networks_equal_the_constant_predictor():
    networks = {"boolean14": [run("boolean14", Constant(0.5))], "semilinear": [run("semilinear", Constant(0.5))],
                "quadratic": [run("quadratic", Constant(0.5), seq_len=7, hidden_sizes=(6, 40))]}
    rows = learners.shift_study(networks, n_sequences=5, seq_len=9)
    assert [r.label for r in rows] == [
        "Boolean-14 learner, XOR and XNOR", "semi-linear, as trained", "semi-linear, coefficients in [0, 2]",
        "semi-linear, inputs in [-2, 2]", "quadratic, as trained", "quadratic, coefficients in [0, 2]",
        "quadratic, inputs in [-2, 2]", "quadratic, sequences of 28 (trained on 7)"]
    for row in rows:
        assert row.lstm_mse == row.constant_mse and row.lstm_normalised == pytest.approx(1.0)
    assert rows[0].constant_mse == pytest.approx(0.25)  # Boolean targets: (0.5 - y)^2 = 0.25
    table = table_rows(learners.shift_table(rows))
    assert table[0] == ["Boolean-14 learner, XOR and XNOR", "0.2500", "1.000", f"{rows[0].ideal_mse:.4f}", "0.2500"]


def test_family_networks_are_the_family_recipes_pack(tmp_path, monkeypatch):
    monkeypatch.setenv("L2L_CACHE_DIR", str(tmp_path))
    small = {"n_steps": 2, "seq_len": 6, "batch_size": 2, "eval_every": 2}
    runs = learners.family_networks("semilinear", n_seeds=1, family_n_seeds=2, overrides=small)
    chapter = learners.train_recipe("semilinear", n_seeds=2, overrides=small)  # what the family chapter trains
    assert len(runs) == 1 and runs[0].config == chapter[0].config
    assert runs[0].config.seed == RECIPES["semilinear"].first_seed
    assert chapter[0].from_cache  # the same pack, so the chapter finds it in the cache
    for a, b in zip(runs[0].model.state_dict().values(), chapter[0].model.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="family"):
        learners.family_networks("parity", n_seeds=1)


def test_boolean_family_networks_are_the_boolean_chapters_first_held_out_set(tmp_path, monkeypatch):
    """The Boolean chapter trains every held-out set (train_recipe_sets); the learners chapter compares the
    networks of the first one, the paper's triple, and finds them in the cache; the original LSTM is trained
    on that set too."""
    monkeypatch.setenv("L2L_CACHE_DIR", str(tmp_path))
    small = {"n_steps": 2, "seq_len": 6, "batch_size": 2, "eval_every": 2}
    chapter = train_recipe_sets("boolean16", n_sets=1, n_seeds=2, overrides=small)
    (first_set, chapter_runs), = chapter.items()
    assert first_set == held_out_sets("boolean16")[0] == (0, 6, 9)
    runs = learners.family_networks("boolean16", n_seeds=1, family_n_seeds=2, overrides=small)
    assert runs[0].from_cache and runs[0].config == chapter_runs[0].config
    assert runs[0].config.held_out == first_set and runs[0].config.seed == RECIPES["boolean16"].first_seed
    original = RECIPES["boolean16_original"]
    assert original.config.held_out == first_set and not original.config.forget_gate
    assert original.first_seed == RECIPES["boolean16"].first_seed
