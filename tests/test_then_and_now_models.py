"""The two learners of the then-and-now chapter: the causal transformer and Meta-SGD, each checked against
an independent reference (attention written out, online gradient descent of l2l_lib.baselines, autograd)."""

import math

import pytest
import torch

from l2l_lib.baselines import _initial_mlp, online_gd_predictions
from l2l_lib.checkpoints import code_fingerprint
from l2l_lib.config import TrainConfig
from l2l_lib.meta_gd import MetaSGD, mlp_answer, mlp_gradients
from l2l_lib.recipes import RECIPES, THEN_AND_NOW_FAMILIES, recipe
from l2l_lib.tasks import make_batch
from l2l_lib.train import train, train_seeds
from l2l_lib.trainer import build_model
from l2l_lib.transformer import CausalSelfAttention, MetaTransformer


def batch(family="boolean16", n=4, steps=20, seed=0):
    return make_batch(family, n, steps, generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------------------- the transformer
def test_attention_equals_the_written_out_masked_softmax():
    torch.manual_seed(0)
    attention = CausalSelfAttention(8, 2)
    x = torch.randn(3, 7, 8)
    q, k, v = attention.qkv(x).split(8, dim=-1)
    heads = [slice(0, 4), slice(4, 8)]
    outs = []
    for h in heads:
        scores = q[..., h] @ k[..., h].transpose(1, 2) / math.sqrt(4)
        scores = scores.masked_fill(torch.ones(7, 7).triu(1).bool(), -math.inf)
        outs.append(torch.softmax(scores, dim=-1) @ v[..., h])
    expected = attention.project(torch.cat(outs, dim=-1))
    assert torch.allclose(attention(x), expected, atol=1e-6)


@pytest.mark.parametrize("positions", ["none", "learnt"])
def test_transformer_is_causal_and_reads_the_previous_step(positions):
    torch.manual_seed(1)
    model = MetaTransformer(16, 2, 4, positions=positions, max_len=30).eval()
    inputs = batch().inputs
    changed = inputs.clone()
    changed[:, 12:] = torch.rand_like(changed[:, 12:])
    before, after = model(inputs), model(changed)
    assert torch.equal(before[:, :12], after[:, :12])  # the future never reaches the past
    assert not torch.allclose(before[:, 12:], after[:, 12:])
    # token shift: step 13's prediction changes with step 12's input even if nothing else after 12 changes
    only_12 = inputs.clone()
    only_12[:, 12, :2] = 1 - only_12[:, 12, :2]
    assert not torch.allclose(model(only_12)[:, 13], before[:, 13])


def test_transformer_without_positions_runs_longer_streams_and_learnt_positions_refuse():
    torch.manual_seed(2)
    free = MetaTransformer(16, 1, 2, positions="none")
    assert free(batch(steps=50).inputs).shape == (4, 50, 1)
    fixed = MetaTransformer(16, 1, 2, positions="learnt", max_len=20)
    with pytest.raises(ValueError, match="at most 20"):
        fixed(batch(steps=21).inputs)


def test_transformer_standardised_targets_decode_into_the_targets_units():
    torch.manual_seed(3)
    model = MetaTransformer(16, 1, 2, output="linear", target_moments=(0.5, 0.04)).eval()
    raw = MetaTransformer(16, 1, 2, output="linear").eval()
    raw.load_state_dict(model.state_dict())
    inputs = batch("quadratic").inputs
    scaled = inputs.clone()
    scaled[..., 2] = (scaled[..., 2] - 0.5) / 0.04
    assert torch.allclose(model(inputs), 0.5 + 0.04 * raw(scaled), atol=1e-6)


@pytest.mark.parametrize("kwargs, name", [(dict(width=30, n_heads=4), "width"), (dict(n_layers=0), "n_layers"),
                                          (dict(positions="sinusoidal"), "positions"),
                                          (dict(positions="learnt"), "max_len")])
def test_transformer_bad_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MetaTransformer(**kwargs)


# ----------------------------------------------------------------------------- Meta-SGD
def test_hand_written_gradients_equal_autograd():
    torch.manual_seed(4)
    weights = [w.requires_grad_() for w in _initial_mlp(5, 7, torch.Generator().manual_seed(0))]
    x, target = torch.rand(5, 2), torch.rand(5)
    hidden, prediction = mlp_answer(x, *weights)
    expected = torch.autograd.grad((0.5 * (target - prediction) ** 2).sum(), weights)
    for mine, reference in zip(mlp_gradients(x, hidden, prediction, target, weights[2]), expected):
        assert torch.allclose(mine, reference, atol=1e-6)


@pytest.mark.parametrize("family", ["boolean16", "semilinear"])
def test_meta_sgd_at_its_start_is_online_gradient_descent(family):
    stream = batch(family, n=1, steps=40)
    rate = 0.7
    model = MetaSGD(hidden_size=9, initial_rate=rate, learn_rates=False)
    start = _initial_mlp(1, 9, torch.Generator().manual_seed(5))
    with torch.no_grad():
        for name, value in zip(MetaSGD.WEIGHTS, start):
            getattr(model, name).copy_(value[0])
    expected = online_gd_predictions(stream, hidden_size=9, learning_rate=rate,
                                     generator=torch.Generator().manual_seed(5))
    assert torch.allclose(model(stream.inputs), expected, atol=1e-6)


def test_meta_sgd_learns_a_step_size_per_weight_and_maml_only_the_start():
    meta_sgd, maml = MetaSGD(hidden_size=4), MetaSGD(hidden_size=4, learn_rates=False)
    assert meta_sgd.n_trainable_weights() == 2 * (8 + 4 + 4 + 1) and maml.n_trainable_weights() == 17
    loss = ((meta_sgd(batch().inputs) - batch().targets) ** 2).mean()
    loss.backward()  # the meta-gradient reaches the step sizes through every inner step
    assert meta_sgd.log_rate_w_hidden.grad.abs().sum() > 0 and meta_sgd.w_hidden.grad.abs().sum() > 0


def test_meta_gradient_matches_finite_differences():
    torch.manual_seed(6)
    model = MetaSGD(hidden_size=3).double()
    stream = batch(n=2, steps=8)
    inputs, targets = stream.inputs.double(), stream.targets.double()
    assert torch.autograd.gradcheck(lambda *p: _loss_with(model, p, inputs, targets),
                                    tuple(p.detach().clone().requires_grad_() for p in model.parameters()))


def _loss_with(model, parameters, inputs, targets):
    state = dict(zip([n for n, _ in model.named_parameters()], parameters))
    return ((torch.func.functional_call(model, state, (inputs,)) - targets) ** 2).mean()


# ----------------------------------------------------------------------------- through the library's training path
@pytest.mark.parametrize("kind", ["transformer", "meta_sgd"])
def test_each_family_has_both_recipes_on_its_seeds_and_first_held_out_set(kind):
    for family in THEN_AND_NOW_FAMILIES:
        entry, base = RECIPES[f"{family}_{kind}"], RECIPES[family]
        config = entry.config
        assert config.architecture == kind and entry.seeds == base.seeds and len(entry.seeds) >= 5
        assert (config.family, config.seq_len, config.held_out, config.table_fraction, config.quadratic_map) == (
            base.config.family, base.config.seq_len, base.config.held_out, base.config.table_fraction,
            base.config.quadratic_map)
        assert isinstance(build_model(config), MetaTransformer if kind == "transformer" else MetaSGD)


@pytest.mark.parametrize("kind, module", [("transformer", "transformer.py"), ("meta_sgd", "meta_gd.py")])
def test_trains_deterministically_caches_and_keys_on_its_module(tmp_path, kind, module):
    config = recipe(f"quadratic_{kind}", seed=0, seq_len=12, batch_size=4, n_steps=6, eval_every=3, eval_sequences=8)
    first, second = train_seeds(config, 2, cache_dir=tmp_path, progress=False)
    assert len(first.history.steps) == 2 and first.history.selected_step is not None
    again = train(config, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(again.model.state_dict().values(),
                                                 first.model.state_dict().values()))
    assert again.history.val_mse == first.history.val_mse
    cached = train_seeds(config, 2, cache_dir=tmp_path, progress=False)
    assert all(r.from_cache for r in cached)
    assert config.code_modules == (module,) and code_fingerprint((module,)) != code_fingerprint()


@pytest.mark.parametrize("fields, name", [
    (dict(architecture="transformer", hidden_sizes=(32, 16)), "hidden_sizes"),
    (dict(architecture="transformer", hidden_sizes=(30,), n_heads=4), "hidden_sizes"),
    (dict(architecture="transformer", hidden_sizes=(32,), forget_gate=False), "forget_gate"),
    (dict(architecture="transformer", hidden_sizes=(32,), positions="rope"), "positions"),
    (dict(architecture="meta_sgd", hidden_sizes=(20, 20)), "architecture"),
    (dict(architecture="meta_sgd", output="linear"), "architecture"),
    (dict(n_heads=0), "n_heads")])
def test_bad_configs_name_the_field(fields, name):
    with pytest.raises(ValueError, match=f"TrainConfig.{name} must be"):
        TrainConfig(**fields)

