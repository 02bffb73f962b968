"""Many seeds as one computation (l2l_lib.packed): each packed seed equals the same seed trained alone."""

import dataclasses

import pytest
import torch

from l2l_lib.model import FORGET_PIN
from l2l_lib.packed import PackedMetaLSTM, pack_key, train_packed, train_seeds
from l2l_lib.tasks import make_batch
from l2l_lib.train import CHECKPOINT_FILE, RESULT_FILE, TrainConfig, build_model, train

RECIPE = TrainConfig(family="boolean16", held_out=(6, 9), seq_len=20, batch_size=8, n_steps=40, eval_every=20,
                     eval_sequences=16)


def seeds_of(config, n):
    return [dataclasses.replace(config, seed=s) for s in range(n)]


def assert_close_models(a, b, atol=1e-4):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        torch.testing.assert_close(sa[key], sb[key], atol=atol, rtol=0, msg=key)


def test_pack_then_unpack_gives_the_same_networks_and_the_same_predictions():
    models = [build_model(c) for c in seeds_of(TrainConfig(hidden_sizes=(5, 3)), 3)]
    packed = PackedMetaLSTM(models)
    for original, back in zip(models, packed.unpack()):
        assert_close_models(original, back, atol=0)
    batches = [make_batch("boolean16", 4, 12, generator=torch.Generator().manual_seed(s)) for s in range(3)]
    inputs = torch.stack([b.inputs for b in batches], dim=2)
    out = packed(inputs)
    for s, (model, batch) in enumerate(zip(models, batches)):
        torch.testing.assert_close(out[:, :, s], model(batch.inputs), atol=1e-6, rtol=0)


@pytest.mark.parametrize("overrides", [{}, {"forget_gate": False}, {"grad_clip": 0.05}, {"hidden_sizes": (4, 3)},
                                       {"table_fraction": 0.5},
                                       {"table_fraction": 0.5, "tables_until": 0.5, "decay_fraction": 0.5},
                                       {"keep_best": True, "learning_rate": 0.3},
                                       {"table_fraction": 0.5, "table_pool": 3, "target_noise": 0.1, "loss": "bce"},
                                       {"table_fraction": 0.5, "table_beta": 0.3},
                                       {"optimizer": "sgd", "learning_rate": 5.0},
                                       {"family": "quadratic", "held_out": (), "hidden_sizes": (3, 4),
                                        "output": "linear", "target_coding": "standardised", "seq_len": 20}])
def test_packed_training_equals_training_each_seed_alone(overrides):
    configs = seeds_of(dataclasses.replace(RECIPE, **overrides), 3)
    alone = [train(c, progress=False) for c in configs]
    packed = train_packed(configs, progress=False)
    for a, p in zip(alone, packed):
        assert p.config == a.config
        assert_close_models(a.model, p.model)
        assert a.history.steps == p.history.steps
        assert a.history.selected_step == p.history.selected_step
        for name in ("train_mse", "val_mse", "held_out_mse"):
            torch.testing.assert_close(torch.tensor(getattr(p.history, name)), torch.tensor(getattr(a.history, name)),
                                       atol=1e-5, rtol=0, equal_nan=True)


def test_clipping_is_per_seed():
    # with a tight clip, one seed's large gradient must not shrink another seed's step
    configs = seeds_of(dataclasses.replace(RECIPE, grad_clip=1e-3, n_steps=5, eval_every=5), 2)
    packed = train_packed(configs, progress=False)
    alone = train(configs[1], progress=False)
    assert_close_models(packed[1].model, alone.model, atol=1e-6)


def test_structural_zeros_and_pinned_gates_stay_put():
    configs = seeds_of(dataclasses.replace(RECIPE, forget_gate=False), 2)
    models = [build_model(c) for c in configs]
    packed = PackedMetaLSTM(models)
    optimizer = torch.optim.Adam(packed.parameters(), lr=0.1)
    inputs = torch.rand(4, 10, 2, 3)
    for _ in range(3):
        loss = (packed(inputs) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    params = dict(packed.named_parameters())
    for name, owner in packed.owners().items():
        unowned = params[name][owner < 0]  # off-block zeros, and the pinned forget gates
        assert torch.all((unowned == 0) | (unowned == FORGET_PIN)), name
    for model in packed.unpack():
        lstm = model.layers[0]
        assert torch.all(lstm.weight_ih_l0[6:12] == 0) and torch.all(lstm.bias_ih_l0[6:12] == 30.0)


def test_interrupted_packed_run_resumes_to_the_same_result(tmp_path):
    configs = seeds_of(RECIPE, 2)
    uninterrupted = train_packed(configs, progress=False)

    def stop(epoch, histories):
        if epoch == 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_packed(configs, checkpoint_dir=tmp_path, progress=False, callback=stop)
    assert (tmp_path / CHECKPOINT_FILE).exists()
    resumed = train_packed(configs, checkpoint_dir=tmp_path, progress=False)
    for a, b in zip(uninterrupted, resumed):
        assert_close_models(a.model, b.model, atol=0)
        assert a.history.val_mse == b.history.val_mse
    assert sorted(p.name for p in tmp_path.iterdir()) == [RESULT_FILE]
    again = train_packed(configs, checkpoint_dir=tmp_path, progress=False)
    assert all(r.from_cache for r in again)
    with pytest.raises(ValueError, match="other TrainConfigs"):
        train_packed(seeds_of(dataclasses.replace(RECIPE, seq_len=21), 2), checkpoint_dir=tmp_path, progress=False)


def test_train_seeds_packs_caches_and_reloads(tmp_path):
    first = train_seeds(RECIPE, 3, pack_size=2, cache_dir=tmp_path, progress=False)
    assert [r.config.seed for r in first] == [0, 1, 2] and not any(r.from_cache for r in first)
    assert len(list(tmp_path.iterdir())) == 2  # packs {0, 1} and {2}
    second = train_seeds(RECIPE, 3, pack_size=2, cache_dir=tmp_path, progress=False)
    assert all(r.from_cache for r in second)
    for a, b in zip(first, second):
        assert_close_models(a.model, b.model, atol=0)
    assert pack_key(seeds_of(RECIPE, 2)) != pack_key(seeds_of(RECIPE, 3)[1:])


@pytest.mark.parametrize("configs, match", [
    ([], "non-empty"),
    ([RECIPE, dataclasses.replace(RECIPE, seed=1, learning_rate=0.02)], "learning_rate"),
    ([RECIPE, RECIPE], "distinct seeds"),
])
def test_bad_packs_are_refused(configs, match):
    with pytest.raises(ValueError, match=match):
        train_packed(configs, progress=False)


def test_bad_seed_counts_are_refused():
    with pytest.raises(ValueError, match="n_seeds"):
        train_seeds(RECIPE, 0)
    with pytest.raises(ValueError, match="pack_size"):
        train_seeds(RECIPE, 2, pack_size=0)
