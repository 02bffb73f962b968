"""Named recipes: one definition per network the book trains; overrides; the n_epochs -> n_steps rename."""

import dataclasses
import warnings

import pytest
import torch

from l2l_lib.config import TrainConfig
from l2l_lib.protocol import EVALUATION_FIRST_SEED, evaluation_triples, is_search_seed
from l2l_lib.recipes import RECIPES, TABLE_POOLS, recipe, recipe_names
from l2l_lib.trainer import History


def test_headline_recipes_keep_their_names_and_preset_is_recipe():
    for name in ("boolean16", "boolean14", "semilinear", "quadratic"):
        assert TrainConfig.preset(name) == recipe(name) == RECIPES[name].config
    assert TrainConfig.preset("boolean16", seed=3) == dataclasses.replace(RECIPES["boolean16"].config, seed=3)


def test_boolean_recipes_differ_only_in_their_stated_ingredients():
    ours, near, baseline = recipe("boolean16"), recipe("boolean16_near_binary"), recipe("boolean16_boolean_only")

    def differ(a, b):
        return {f.name for f in dataclasses.fields(TrainConfig) if getattr(a, f.name) != getattr(b, f.name)}

    assert differ(ours, near) == {"target_noise", "table_beta"} and (near.target_noise, near.table_beta) == (0.1, 0.3)
    assert ours.target_noise == 0 and ours.table_beta is None and ours.loss == "mse"
    assert differ(ours, baseline) == {"learning_rate", "table_fraction", "decay_fraction", "grad_clip", "keep_best"}
    assert baseline.table_fraction == 0 and baseline.decay_fraction == 0 and not baseline.keep_best
    assert differ(recipe("boolean14"), recipe("boolean14_boolean_only")) == differ(ours, baseline)
    assert differ(ours, recipe("boolean16_switches")) == {"switch_every"}


def test_the_pool_sweep_is_the_book_recipe_with_a_finite_pool():
    ours = recipe("boolean16")
    assert recipe("boolean16_pool0") == dataclasses.replace(ours, table_fraction=0.0)
    for k in TABLE_POOLS[1:]:
        assert recipe(f"boolean16_pool{k}") == dataclasses.replace(ours, table_pool=k)
        assert RECIPES[f"boolean16_pool{k}"].seeds == RECIPES["boolean16"].seeds[:len(RECIPES[f"boolean16_pool{k}"].seeds)]


def test_original_recipes_are_their_family_recipe_without_forget_gate():
    for name in ("boolean16", "boolean14", "semilinear", "quadratic"):
        original = recipe(f"{name}_original")
        assert original == dataclasses.replace(recipe(name), forget_gate=False)
        assert RECIPES[f"{name}_original"].first_seed == RECIPES[name].first_seed


def test_recipe_seeds_are_the_declared_range():
    for entry in RECIPES.values():
        assert entry.seeds == tuple(range(entry.first_seed, entry.first_seed + entry.n_seeds))


def test_every_boolean_network_is_on_evaluation_seeds_and_triples():
    for entry in RECIPES.values():
        if entry.config.family not in ("boolean16", "boolean14") or entry.name == "first_run":
            continue
        assert all(not is_search_seed(s) and s >= EVALUATION_FIRST_SEED for s in entry.seeds), entry.name
        triples = evaluation_triples(entry.config.family)
        assert entry.config.held_out == triples[0]
        assert set(entry.held_out_sets) <= set(triples) and [c.held_out for c in entry.configs()] == list(
            entry.held_out_sets or (triples[0],))


def test_overrides_replace_fields_and_bad_ones_are_named():
    assert recipe("semilinear", n_steps=30, seq_len=40).n_steps == 30
    assert recipe("semilinear", n_steps=30).learning_rate == recipe("semilinear").learning_rate
    with pytest.raises(ValueError, match=r"recipe name must be one of .*'boolean16'"):
        recipe("xor")
    with pytest.raises(ValueError, match=r"unknown TrainConfig fields \['epochs'\]"):
        recipe("semilinear", epochs=3)
    with pytest.raises(ValueError, match=r"TrainConfig.n_steps must be an integer >= 0"):
        recipe("semilinear", n_steps=-1)
    assert set(recipe_names()) == set(RECIPES)


def test_renamed_n_epochs_is_accepted_with_a_warning_naming_n_steps():
    with pytest.warns(DeprecationWarning, match="use TrainConfig.n_steps"):
        config = TrainConfig(family="semilinear", n_epochs=7)
    assert config.n_steps == 7 and "n_epochs" not in config.to_dict()
    with pytest.warns(DeprecationWarning, match="n_steps"):
        assert recipe("semilinear", n_epochs=5).n_steps == 5
    with pytest.warns(DeprecationWarning, match="n_steps"):
        assert config.n_epochs == 7
    with pytest.raises(ValueError, match="both 'n_epochs' and its new name 'n_steps'"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            TrainConfig(n_epochs=1, n_steps=2)
    # an old stored config (dict with n_epochs) still loads
    old = {**TrainConfig().to_dict()}
    old["n_epochs"] = old.pop("n_steps")
    with pytest.warns(DeprecationWarning):
        assert TrainConfig.from_dict(old) == TrainConfig()


def test_history_reads_old_names():
    history = History.from_dict({"epochs": [1, 2], "train_mse": [0.1, 0.2], "val_mse": [0.1, 0.2],
                                 "held_out_mse": [0.3, 0.4], "seconds": [1.0, 2.0], "selected_epoch": 2})
    assert history.steps == [1, 2] and history.selected_step == 2
    with pytest.warns(DeprecationWarning, match="History.steps"):
        assert history.epochs == [1, 2]


def test_history_accepts_old_field_names_with_a_warning():
    with pytest.warns(DeprecationWarning) as caught:
        history = History(epochs=[5, 10], val_mse=[0.2, 0.1], selected_epoch=10)
    assert {str(w.message).split(";")[1].strip() for w in caught} == {"use History.steps (one optimiser step is not an epoch)",
                                                                     "use History.selected_step (one optimiser step is not an epoch)"}
    assert history.steps == [5, 10] and history.selected_step == 10 and history.val_mse == [0.2, 0.1]
    with pytest.raises(TypeError, match="unknown fields"):
        History(epoch=[1])


def test_train_recipe_sets_trains_each_held_out_set_with_the_same_seeds(tmp_path, monkeypatch):
    from l2l_lib.experiments import held_out_sets, train_recipe_sets
    monkeypatch.setenv("L2L_CACHE_DIR", str(tmp_path))
    assert held_out_sets("boolean16") == RECIPES["boolean16"].held_out_sets
    assert held_out_sets("boolean16", 2) == RECIPES["boolean16"].held_out_sets[:2]
    assert held_out_sets("boolean16_pool4") == ((0, 6, 9),)
    tiny = {"n_steps": 4, "seq_len": 6, "batch_size": 2, "eval_every": 4, "eval_sequences": 4}
    runs = train_recipe_sets("boolean14", n_sets=2, n_seeds=2, overrides=tiny, progress=False)
    assert list(runs) == list(RECIPES["boolean14"].held_out_sets[:2])
    for held_out, results in runs.items():
        assert [r.config for r in results] == [recipe("boolean14", **tiny, held_out=held_out, seed=s)
                                               for s in (10000, 10001)]
    # same seed, same initial weights, whatever the held-out set (the pairing of the chapters' tests)
    from l2l_lib.trainer import build_model
    first, second = (build_model(results[0].config).state_dict() for results in runs.values())
    assert all(torch.equal(first[k], second[k]) for k in first)
    for bad, message in ((dict(n_sets=5), "n_sets must be an integer in 1..4"),
                         (dict(overrides={"held_out": (1, 2, 3)}), "must not set held_out")):
        with pytest.raises(ValueError, match=message):
            train_recipe_sets("boolean14", **bad)
    with pytest.raises(ValueError, match="continuous"):
        held_out_sets("semilinear")
