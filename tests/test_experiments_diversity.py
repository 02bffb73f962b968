"""Tests of the task-diversity study (l2l_lib/experiments/diversity.py) and its two Bayes switch learners.

References are independent of the code under test: streams and answers written out by hand, plain Python
loops, the existing Bayes learner, the closed forms and the series of the incomplete beta function, numpy's
Beta sampler, and the evaluation module's per-switch errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fake_networks import Constant
from l2l_lib.baselines import bayes_boolean_predictions, majority_lookup_predictions, restart_lookup_predictions
from l2l_lib.evaluate import evaluate_predictions
from l2l_lib.experiments import diversity as d
from l2l_lib.recipes import recipe
from l2l_lib.tasks import Batch, make_batch
from l2l_lib.train import History, TrainResult


def stream(pairs: list[tuple[int, int, int]]) -> Batch:
    """One Boolean stream from ``(x1, x2, y)`` triples written out by hand (the target is given, not computed)."""
    x = torch.tensor([[(a, b) for a, b, _ in pairs]], dtype=torch.float32)
    y = torch.tensor([[[float(c)] for _, _, c in pairs]])
    y_prev = torch.cat([torch.zeros(1, 1, 1), y[:, :-1]], dim=1)
    return Batch("boolean16", torch.cat([x, y_prev], -1), y, torch.zeros(1, len(pairs), dtype=torch.long), None,
                 torch.zeros(1, len(pairs), dtype=torch.bool).index_fill_(1, torch.tensor([0]), True))


# (0,0) -> 1, (0,1) -> 0, (0,0) -> 1, then the function switches: (0,0) -> 0 contradicts, (0,1) -> 1, ...
HAND = [(0, 0, 1), (0, 1, 0), (0, 0, 1), (0, 0, 0), (0, 1, 1), (0, 0, 0), (0, 1, 1), (1, 1, 1)]


def test_restart_learner_on_a_hand_computed_stream():
    # unseen 0.5; seen: the stored answer; (0,0) -> 0 at t=3 contradicts and wipes (0,1) as well
    expected = [0.5, 0.5, 1.0, 1.0, 0.5, 0.0, 1.0, 0.5]
    assert restart_lookup_predictions(stream(HAND))[0, :, 0].tolist() == expected


def test_never_forgetting_learner_is_the_majority_on_a_hand_computed_stream():
    # (0,1): 0 then at t=6 votes 0,1 (a tie: 0.5); (0,0): 1,1 then at t=5 votes 1,1,0 -> 1
    expected = [0.5, 0.5, 1.0, 1.0, 0.0, 1.0, 0.5, 0.5]
    assert majority_lookup_predictions(stream(HAND))[0, :, 0].tolist() == expected


def test_restart_learner_is_the_bayes_learner_over_all_sixteen_on_switching_streams():
    batch = make_batch("boolean16", 64, 48, switch_every=6, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(restart_lookup_predictions(batch),
                               bayes_boolean_predictions(batch, functions=tuple(range(16))))


def test_never_forgetting_learner_matches_a_plain_loop():
    batch = make_batch("boolean16", 20, 40, switch_every=5, generator=torch.Generator().manual_seed(4))
    predictions = majority_lookup_predictions(batch)
    for b in range(batch.batch_size):
        votes = {}
        for t in range(batch.seq_len):
            key = (int(batch.x[b, t, 0]), int(batch.x[b, t, 1]))
            ones, zeros = votes.get(key, (0, 0))
            assert predictions[b, t, 0].item() == (1.0 if ones > zeros else 0.0 if zeros > ones else 0.5)
            answer = batch.targets[b, t, 0].item()
            votes[key] = (ones + (answer == 1.0), zeros + (answer == 0.0))


@pytest.mark.parametrize("learner", [restart_lookup_predictions, majority_lookup_predictions])
def test_switch_learners_refuse_continuous_streams(learner):
    with pytest.raises(ValueError, match="batch.family"):
        learner(make_batch("semilinear", 2, 5))


# ----------------------------------------------------------------------------- closeness
def test_position_is_zero_at_the_ideal_learner_one_at_the_recogniser_and_splits_closeness_at_one_half():
    generator = torch.Generator().manual_seed(0)
    ideal, recogniser = torch.rand(3, 7, 1, generator=generator), torch.rand(3, 7, 1, generator=generator)
    assert d.closeness(ideal, ideal, recogniser).position == pytest.approx(0.0, abs=1e-12)
    assert d.closeness(recogniser, ideal, recogniser).position == pytest.approx(1.0)
    assert d.closeness((ideal + recogniser) / 2, ideal, recogniser).position == pytest.approx(0.5)
    for _ in range(50):
        network = torch.rand(3, 7, 1, generator=generator)
        c = d.closeness(network, ideal, recogniser)
        # the projection, computed directly
        n, i, r = network.double().flatten(), ideal.double().flatten(), recogniser.double().flatten()
        assert c.position == pytest.approx(float((n - i) @ (r - i) / ((r - i) @ (r - i))))
        assert c.closer_to_ideal == (c.position < 0.5)
        assert c.to_ideal == pytest.approx(float(((n - i) ** 2).mean()))


def test_position_is_undefined_when_the_references_agree_and_shapes_must_match():
    same = torch.full((1, 4, 1), 0.5)
    assert math.isnan(d.closeness(torch.zeros(1, 4, 1), same, same).position)
    with pytest.raises(ValueError, match="network, ideal, recogniser"):
        d.closeness(torch.zeros(1, 3, 1), same, same)


# ----------------------------------------------------------------------------- the sweep's rules
def fake_run(seed: int, value: float = 0.5, name: str = "boolean16") -> TrainResult:
    history = History(steps=[0], train_mse=[0.25], val_mse=[0.25], held_out_mse=[0.25], seconds=[0.0])
    return TrainResult(config=recipe(name, seed=seed), model=Constant(value), history=history, wall_time=0.0)


def fake_sweep(mses: dict[int | None, list[float]], train_positions: dict[int | None, list[float]] | None = None
               ) -> d.DiversitySweep:
    """A sweep with chosen held-out MSEs (in units of the ideal learner's) and training-stream positions."""
    config = recipe("boolean16", seq_len=12)
    held_out, train = d.stream_sets(config, 30)
    pools = []
    for k, ratios in mses.items():
        positions = (train_positions or {}).get(k, [0.1] * len(ratios))
        # Closeness with gap 1: position = (to_ideal - to_recogniser + 1) / 2
        train_closeness = tuple(d.Closeness(to_ideal=p, to_recogniser=1 - p, gap=1.0) for p in positions)
        pools.append(d.PoolResult(
            pool=k, recipe="boolean16" if k is None else d.pool_recipe(k),
            runs=tuple(fake_run(10_000 + s) for s in range(len(ratios))),
            held_out_mse=np.array(ratios) * held_out.ideal_mse, train_mse=np.zeros(len(ratios)),
            held_out_closeness=train_closeness, train_closeness=train_closeness))
    return d.DiversitySweep(config=config, held_out=held_out, train=train, pools=tuple(pools))


def test_threshold_is_the_smallest_pool_from_which_on_every_seed_is_within_three_times_the_floor():
    sweep = fake_sweep({0: [10, 12], 4: [2, 4], 16: [1, 2.9], None: [1, 1]})
    assert sweep.threshold() == 2
    sentence = sweep.threshold_sentence()
    assert "above K = 4 and at most K = 16" in sentence and "1 of 2 seeds are not" in sentence
    assert sweep.learners(sweep.pools[1]).successes == 1


def test_a_failing_larger_pool_means_no_threshold_and_all_succeeding_means_none_inside_the_sweep():
    failing = fake_sweep({0: [10, 10], 16: [1, 1], None: [1, 5]})
    assert failing.threshold() is None
    assert "no threshold" in failing.threshold_sentence() and "1 of 2 seeds" in failing.threshold_sentence()
    every = fake_sweep({0: [1, 2], None: [1, 1]})
    assert every.threshold() == 0 and "from the smallest pool tried (K = 0) on" in every.threshold_sentence()


def test_table_recognisers_count_only_networks_trained_with_tables():
    sweep = fake_sweep({0: [10, 10], 4: [10, 1], None: [1, 1]},
                       train_positions={0: [0.9, 0.9], 4: [0.8, 0.2], None: [0.1, 0.1]})
    assert sweep.table_recognisers() == (1, 4, ("K = 4",))
    assert sweep.subtlety_sentence().startswith("1 of the 4 networks trained with tables does (K = 4)")
    assert "K = 0: training streams, all 2 seeds closer to the recogniser" in sweep.verdicts()
    assert "| K = 4 |" in sweep.table()
    clean = fake_sweep({0: [10, 10], None: [1, 1]}, train_positions={0: [0.9, 0.9], None: [0.1, 0.2]})
    assert clean.subtlety_sentence().startswith("None of the 2 networks trained with tables")


def test_trace_streams_follow_the_rules_fixed_in_advance():
    streams = d.trace_streams(recipe("boolean16", seq_len=10))
    assert list(streams) == ["held-out function 6", "training function 1"]
    assert [int(b.function_ids[0, 0]) for b in streams.values()] == [6, 1]
    other = d.trace_streams(recipe("boolean16", seq_len=10, held_out=(1, 3, 14)))
    assert list(other) == ["held-out function 1", "training function 0"]


def test_trace_predictions_give_both_references_then_the_chosen_seed_of_every_pool():
    sweep = fake_sweep({0: [1, 1], None: [1, 1]})
    batch = d.trace_streams(sweep.config)["held-out function 6"]
    out = d.trace_predictions(sweep, batch)
    assert list(out) == [d.IDEAL_LABEL, d.RECOGNISER_LABEL, "LSTM, K = 0", "LSTM, unlimited"]
    assert torch.all(out["LSTM, K = 0"] == 0.5)
    with pytest.raises(ValueError, match="seed_index"):
        d.trace_predictions(sweep, batch, seed_index=2)


@pytest.mark.parametrize("pools", [[3], [4, 4], (16, 1000)])
def test_pool_sizes_must_be_distinct_recipe_pools(pools):
    with pytest.raises(ValueError, match="table_pools"):
        d.pool_runs(list(pools), None)


def test_the_unlimited_recipe_must_draw_fresh_tables_and_is_checked_before_training():
    with pytest.raises(ValueError, match="boolean16_pool4"):
        d.pool_runs([0], "boolean16_pool4")
    with pytest.raises(ValueError, match="unlimited_recipe"):
        d.pool_runs([0], "no such recipe")


# ----------------------------------------------------------------------------- near-binary tables
def incomplete_beta_series(x: float, a: float, b: float, terms: int = 2000) -> float:
    """B(x; a, b) = x^a sum_n (1-b)_n x^n / (n! (a + n)), the hypergeometric series (x < 1)."""
    total, term = 0.0, 1.0
    for n in range(terms):
        if n:
            term *= (n - b) / n * x
        total += term / (a + n)
    return x ** a * total


@pytest.mark.parametrize("a", [0.3, 0.7, 2.5])
def test_beta_cdf_matches_the_incomplete_beta_series(a):
    complete = math.gamma(a) ** 2 / math.gamma(2 * a)
    for x in (0.001, 0.05, 0.1, 0.2, 0.45):
        assert d.beta_cdf(x, a) == pytest.approx(incomplete_beta_series(x, a, a) / complete, rel=1e-9)
        assert d.beta_cdf(1 - x, a) == pytest.approx(1 - incomplete_beta_series(x, a, a) / complete, rel=1e-9)


def test_beta_cdf_closed_forms_and_ends():
    x = np.linspace(0, 1, 11)
    np.testing.assert_allclose(d.beta_cdf(x, 1.0), x, atol=1e-13)
    np.testing.assert_allclose(d.beta_cdf(x, 2.0), 3 * x ** 2 - 2 * x ** 3, atol=1e-13)
    assert d.beta_cdf(0.5, 0.3) == pytest.approx(0.5) and d.beta_cdf(0.0, 0.3) == 0.0 and d.beta_cdf(1.0, 0.3) == 1.0


def test_near_table_probability_is_delta_to_the_fourth_for_uniform_tables():
    for delta in (0.05, 0.1, 0.2):
        assert d.near_table_probability(delta, 1.0) == pytest.approx(delta ** 4, rel=1e-12)


@pytest.mark.parametrize("a, delta", [(0.3, 0.05), (0.3, 0.2), (3.0, 0.3)])
def test_near_table_probability_matches_monte_carlo(a, delta):
    # a table near the truth table of function 6 (XOR: 0, 1, 1, 0), drawn with numpy's own Beta sampler
    values = np.random.default_rng(7).beta(a, a, size=(400_000, 4))
    truth = np.array([0, 1, 1, 0])
    hits = (np.abs(values - truth) <= delta).all(1)
    p, n = hits.mean(), len(hits)
    expected = d.near_table_probability(delta, a)
    assert abs(p - expected) <= 5 * math.sqrt(expected * (1 - expected) / n) + 1e-12


def test_table_counts_by_hand():
    config = recipe("boolean16")  # 30k steps of 16 streams, half of them tables, 13 training functions
    tables, per_function = d.table_counts(config)
    assert tables == 30_000 * 16 * 0.5 and per_function == pytest.approx(30_000 * 16 * 0.5 / 13)
    config = recipe("boolean16", tables_until=0.25, switch_every=64)  # 4 segments per stream
    tables, per_function = d.table_counts(config)
    assert tables == 7_500 * 16 * 4 * 0.5 and per_function == pytest.approx((30_000 * 64 - tables) / 13)


def test_near_table_study_rows_rule_and_sentences():
    study = d.near_table_study("boolean16", betas=(1.0, 0.3), deltas=(0.05, 0.2))
    assert [(r.a, r.delta) for r in study.rows] == [(a, delta) for a in (1.0, 0.3) for delta in (0.05, 0.1, 0.2)]
    uniform = study.row(1.0, 0.1)
    assert uniform.expected == pytest.approx(240_000 * 1e-4) and uniform.share == pytest.approx(13e-4)
    # 0.13 % of a training function's streams: below the 1 % rule; Beta(0.3, 0.3): F(0.1)^4 * 13 = 8.3 %
    assert not study.shows(1.0) and study.shows(0.3)
    assert "not showing them" in study.sentence(1.0) and "showing the held-out functions" in study.sentence(0.3)
    assert study.config.table_beta is None
    assert "the Boolean chapter evaluates `boolean16_near_binary` beside it" in study.recipe_sentence()
    beta = d.near_table_study("boolean16", betas=(1.0,), overrides={"table_beta": 0.5})
    assert {r.a for r in beta.rows} == {1.0, 0.5} and "Beta(0.5, 0.5)" in beta.recipe_sentence()
    assert "| U[0, 1] | 0.1 |" in study.table()


@pytest.mark.parametrize("call, name", [
    (lambda: d.beta_cdf(0.1, 0.0), "a"), (lambda: d.beta_cdf(1.5, 0.3), "x"),
    (lambda: d.near_table_probability(0.0, 0.3), "delta"), (lambda: d.near_table_study("boolean16_pool0"), "recipe"),
    (lambda: d.near_table_study("boolean16").row(2.0, 0.1), r"\(a, delta\)")])
def test_bad_arguments_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


# ----------------------------------------------------------------------------- switches
def test_since_switch_errors_average_the_evaluation_modules_per_switch_error():
    batch = make_batch("boolean16", 30, 24, switch_every=6, generator=torch.Generator().manual_seed(1))
    predictions = restart_lookup_predictions(batch)
    errors = d.since_switch_errors(batch, predictions, 6)
    assert errors.shape == (30, 6)
    np.testing.assert_allclose(errors.mean(0), evaluate_predictions(batch, predictions).mse_since_switch)
    with pytest.raises(ValueError, match="batch.seq_len"):
        d.since_switch_errors(batch, predictions, 5)


def test_switch_recovery_with_networks_whose_answers_are_known():
    seeds = (10_000, 10_001)
    switched = [fake_run(s, 0.5, "boolean16_switches") for s in seeds]
    plain = [fake_run(s, 0.0) for s in seeds]
    result = d.switch_recovery(switched, plain, n_sequences=40, switch_every=4)
    assert result.seeds == seeds and [p.label for p in result.panels] == ["all sixteen functions",
                                                                          "held-out functions (0, 6, 9)"]
    for panel in result.panels:
        first, second = result.names
        np.testing.assert_allclose(panel.per_seed[first], 0.25)  # 0.5 against targets in {0, 1}
        mean, low, high = panel.curves[first]
        np.testing.assert_allclose(mean, 0.25)
        np.testing.assert_allclose(high - low, 0, atol=1e-12)
        # the constant 0 errs exactly on the 1s: both "seeds" answer alike, and about half the targets are 1
        assert panel.per_seed[second][0] == panel.per_seed[second][1] and 0.3 < panel.per_seed[second][0] < 0.7
        assert list(panel.curves)[2:] == [d.RESTART_LABEL, d.NEVER_FORGETS_LABEL]
        assert panel.reference_means[d.RESTART_LABEL] < panel.reference_means[d.NEVER_FORGETS_LABEL]
        comparison = result.comparison(panel)
        assert comparison.n == 2 and comparison.names == result.names
        assert result.placement(panel, first).startswith("0.2500, ")


def test_switch_recovery_needs_paired_seeds_and_a_switch_every_of_at_least_two():
    switched = [fake_run(10_000, 0.5, "boolean16_switches")]
    with pytest.raises(ValueError, match="same seeds"):
        d.switch_recovery(switched, [fake_run(10_001)], n_sequences=4, switch_every=4)
    with pytest.raises(ValueError, match="switch_every"):
        d.switch_recovery(switched, [fake_run(10_000)], n_sequences=4, switch_every=1)


def test_placement_words_follow_the_numbers():
    panel = d.SwitchPanel("p", (0,), {}, {"a": np.array([0.1, 0.2, 0.3])},
                          {d.RESTART_LABEL: 0.15, d.NEVER_FORGETS_LABEL: 0.4})
    result = d.SwitchRecovery(4, (1, 2, 3), ("a", "b"), (panel,))
    assert result.placement(panel, "a") == "0.2000, between the two Bayes references, nearer the restarting learner"
    low = d.SwitchPanel("p", (0,), {}, {"a": np.array([0.05])}, {d.RESTART_LABEL: 0.15, d.NEVER_FORGETS_LABEL: 0.4})
    assert "below both" in result.placement(low, "a")


def test_pool_recipes_of_each_learner_and_a_clear_error_for_a_pool_it_lacks():
    from l2l_lib.experiments import diversity as d
    from l2l_lib.recipes import RECIPES, TABLE_POOLS, TRANSFORMER_TABLE_POOLS
    assert [d.pool_recipe(k) for k in TABLE_POOLS] == [f"boolean16_pool{k}" for k in TABLE_POOLS]
    for k in TRANSFORMER_TABLE_POOLS:
        name = d.pool_recipe(k, "boolean16_transformer")
        assert RECIPES[name].config.architecture == "transformer"
        assert RECIPES[name].config.table_pool == RECIPES[d.pool_recipe(k)].config.table_pool
    missing = next(k for k in TABLE_POOLS if k not in TRANSFORMER_TABLE_POOLS)
    with pytest.raises(ValueError, match="table pool size of boolean16_transformer"):
        d.pool_recipe(missing, "boolean16_transformer")
    with pytest.raises(ValueError, match="learner"):
        d.pool_recipe(0, "gpt")
