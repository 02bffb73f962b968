"""Named recipes: one definition per network the book trains; overrides; the n_epochs -> n_steps rename."""

import dataclasses
import warnings

import pytest

from l2l_lib.config import TrainConfig
from l2l_lib.recipes import RECIPES, recipe, recipe_names
from l2l_lib.trainer import History


def test_headline_recipes_keep_their_names_and_preset_is_recipe():
    for name in ("boolean16", "boolean14", "semilinear", "quadratic"):
        assert TrainConfig.preset(name) == recipe(name) == RECIPES[name].config
    assert TrainConfig.preset("boolean16", seed=3) == dataclasses.replace(RECIPES["boolean16"].config, seed=3)


def test_paper_and_our_boolean_recipes_differ_only_in_our_additions():
    ours, paper = recipe("boolean16"), recipe("boolean16_paper")
    differ = {f.name for f in dataclasses.fields(TrainConfig) if getattr(ours, f.name) != getattr(paper, f.name)}
    assert differ == {"learning_rate", "table_fraction", "decay_fraction", "grad_clip", "keep_best"}
    assert paper.table_fraction == 0 and paper.decay_fraction == 0 and not paper.keep_best


def test_original_recipes_are_their_family_recipe_without_forget_gate():
    for name in ("boolean16", "boolean14", "semilinear", "quadratic"):
        original = recipe(f"{name}_original")
        assert original == dataclasses.replace(recipe(name), forget_gate=False)
        assert RECIPES[f"{name}_original"].first_seed == RECIPES[name].first_seed


def test_recipe_seeds_are_the_declared_range():
    for entry in RECIPES.values():
        assert entry.seeds == tuple(range(entry.first_seed, entry.first_seed + entry.n_seeds))
    # the Boolean search used seeds 0-7; the book's Boolean networks start at 100
    assert min(RECIPES["boolean16"].seeds) >= 100


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
