"""Meta-training (l2l_lib.train) and its files (l2l_lib.checkpoints)."""

import dataclasses
import importlib
import math

import pytest
import torch

from l2l_lib import checkpoints
from l2l_lib.tasks import make_batch
from l2l_lib.recipes import RECIPES
from l2l_lib.train import TrainConfig, load_or_train, train

train_module = importlib.import_module("l2l_lib.train")  # the package exports train(), the function
trainer_module = importlib.import_module("l2l_lib.trainer")  # the loop: where training draws its batches

TINY = TrainConfig(family="boolean16", held_out=(6, 9), seq_len=24, batch_size=8, n_steps=60, eval_every=20,
                   eval_sequences=32)


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def curves(history):
    return history.steps, history.train_mse, history.val_mse, history.held_out_mse


def test_same_seed_same_run_and_other_seed_other_run():
    a, b = train(TINY, progress=False), train(TINY, progress=False)
    assert same_weights(a.model, b.model) and curves(a.history) == curves(b.history)
    c = train(dataclasses.replace(TINY, seed=1), progress=False)
    assert not same_weights(a.model, c.model)


def test_training_does_not_touch_the_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(TINY, progress=False)
    assert torch.equal(torch.rand(3), expected)


def test_history_has_an_entry_per_evaluation_and_one_at_the_end():
    result = train(dataclasses.replace(TINY, n_steps=50), progress=False)
    assert result.history.steps == [20, 40, 50]
    assert all(math.isfinite(v) for v in result.history.held_out_mse)
    assert result.wall_time > 0 and result.history.seconds == sorted(result.history.seconds)
    continuous = train(TrainConfig(family="semilinear", seq_len=10, batch_size=4, n_steps=20, eval_every=10,
                                   eval_sequences=8), progress=False)
    assert all(math.isnan(v) for v in continuous.history.held_out_mse)


def test_meta_training_lowers_the_error_below_the_constant_predictor():
    config = TrainConfig(family="semilinear", seq_len=50, n_steps=400, eval_every=100, eval_sequences=64)
    result = train(config, progress=False)
    batch = make_batch("semilinear", 2000, 50, generator=torch.Generator().manual_seed(0))
    constant_mse = float(((batch.targets - 0.5) ** 2).mean())
    assert result.history.val_mse[-1] < 0.85 * constant_mse
    assert result.history.val_mse[-1] < result.history.val_mse[0]


def training_function_ids(monkeypatch, config):
    """Train ``config`` and return the function ids of every training minibatch it drew."""
    seen = []
    real = trainer_module.make_batch

    def spy(family, batch_size, seq_len, **kwargs):
        batch = real(family, batch_size, seq_len, **kwargs)
        if batch_size == config.batch_size:  # the evaluation batches are larger
            seen.append(batch.function_ids)
        return batch

    monkeypatch.setattr(trainer_module, "make_batch", spy)
    train(config, progress=False)
    return seen


def test_held_out_functions_are_never_trained_on(monkeypatch):
    seen = training_function_ids(monkeypatch, TINY)
    ids = set(torch.cat(seen).unique().tolist())
    assert len(seen) == TINY.n_steps and ids.isdisjoint({6, 9}) and len(ids) == 14


@pytest.mark.parametrize("config", [TINY, dataclasses.replace(TINY, learning_rate=0.5, eval_every=10, keep_best=True)],
                         ids=["last-weights", "keep-best"])
def test_interrupted_run_resumes_to_the_same_result(tmp_path, config):
    uninterrupted = train(config, progress=False)

    class Stop(Exception):
        pass

    def stop_at_40(epoch, history):
        if epoch == 40:
            raise Stop

    with pytest.raises(Stop):
        train(config, checkpoint_dir=tmp_path, progress=False, callback=stop_at_40)
    state = checkpoints.safe_load(tmp_path / train_module.CHECKPOINT_FILE)
    assert state["step"] == 40 and state["format"] == checkpoints.FORMAT_VERSION
    resumed = train(config, checkpoint_dir=tmp_path, progress=False)
    assert same_weights(resumed.model, uninterrupted.model)
    assert curves(resumed.history) == curves(uninterrupted.history)
    assert resumed.history.selected_step == uninterrupted.history.selected_step  # keep_best's choice too
    if config.keep_best:  # chosen before the interruption, so only the checkpoint can carry it over
        assert uninterrupted.history.selected_step <= 40
    # finished: the checkpoint is gone, the result stays, no temporary files are left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == [train_module.RESULT_FILE]


def test_checkpoint_folder_belongs_to_one_config(tmp_path):
    train(TINY, checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="holds a run of other TrainConfigs"):
        train(dataclasses.replace(TINY, seed=5), checkpoint_dir=tmp_path, progress=False)


def test_files_load_with_weights_only(tmp_path):
    train(TINY, checkpoint_dir=tmp_path, progress=False)
    state = torch.load(tmp_path / train_module.RESULT_FILE, weights_only=True)
    assert [TrainConfig.from_dict(d) for d in state["configs"]] == [TINY]


def test_atomic_save_leaves_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "x.pt"
    checkpoints.atomic_save({"a": torch.ones(2)}, path)

    class Unsaveable:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        checkpoints.atomic_save({"a": Unsaveable()}, path)
    assert torch.equal(checkpoints.safe_load(path)["a"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["x.pt"]


def test_cache_trains_once_then_loads(tmp_path):
    first = load_or_train(TINY, cache_dir=tmp_path, progress=False)
    second = load_or_train(TINY, cache_dir=tmp_path, progress=False)
    assert not first.from_cache and second.from_cache
    assert same_weights(first.model, second.model) and second.wall_time == first.wall_time
    assert curves(first.history) == curves(second.history)
    load_or_train(dataclasses.replace(TINY, seed=1), cache_dir=tmp_path, progress=False)
    assert len(list(tmp_path.iterdir())) == 2


def test_cache_key_depends_on_config_and_code(monkeypatch):
    key = checkpoints.run_key([TINY.to_dict()])
    assert key == checkpoints.run_key([TINY.to_dict()])
    assert key != checkpoints.run_key([dataclasses.replace(TINY, learning_rate=0.02).to_dict()])
    pack = [TINY.to_dict(), dataclasses.replace(TINY, seed=1).to_dict()]
    assert checkpoints.run_key(pack) != key and "pack2" in checkpoints.run_key(pack)
    monkeypatch.setattr(checkpoints, "code_fingerprint", lambda extra_modules=(): "edited-code")
    assert key != checkpoints.run_key([TINY.to_dict()])


def test_code_fingerprint_ignores_docstrings_but_not_code():
    import ast
    plain = ast.dump(checkpoints._strip_docstrings(ast.parse('def f():\n    "doc"\n    return 1\n')))
    other_doc = ast.dump(checkpoints._strip_docstrings(ast.parse('def f():\n    """other"""\n    return 1\n')))
    other_code = ast.dump(checkpoints._strip_docstrings(ast.parse('def f():\n    "doc"\n    return 2\n')))
    assert plain == other_doc != other_code


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(checkpoints.CACHE_ENV, str(tmp_path))
    assert train_module.cache_path(TINY).parent == tmp_path


def test_original_lstm_trains_with_its_forget_gate_pinned():
    result = train(dataclasses.replace(TINY, forget_gate=False), progress=False)
    lstm = result.model.layers[0]
    assert torch.all(lstm.weight_ih_l0[6:12] == 0) and torch.all(lstm.bias_ih_l0[6:12] == 30.0)


def test_presets():
    assert {"boolean16", "boolean14", "semilinear", "quadratic"} <= set(RECIPES)
    b16 = TrainConfig.preset("boolean16")
    assert b16.hidden_sizes == (6,) and b16.seq_len == 256 and {6, 9} <= set(b16.held_out)
    assert len(b16.train_functions) == 13
    assert TrainConfig.preset("boolean14").seq_len == 64 and len(TrainConfig.preset("boolean14").train_functions) == 11
    assert TrainConfig.preset("quadratic").hidden_sizes == (6, 40)
    assert TrainConfig.preset("semilinear", seed=4).seed == 4
    with pytest.raises(ValueError, match="recipe name must be one of"):
        TrainConfig.preset("xor")


@pytest.mark.parametrize("field, value", [
    ("family", "boolean8"),
    ("held_out", (6, 99)),
    ("held_out", (6, 6)),
    ("held_out", tuple(range(16))),
    ("hidden_sizes", ()),
    ("hidden_sizes", (6, -1)),
    ("forget_gate", "yes"),
    ("output", "softmax"),
    ("batch_size", 0),
    ("seq_len", 1.5),
    ("switch_every", 0),
    ("switch_every", 10_000),
    ("n_steps", -1),
    ("learning_rate", 0.0),
    ("learning_rate", float("nan")),
    ("seed", -3),
    ("grad_clip", 0),
    ("quadratic_map", "cubic"),
    ("eval_every", 0),
    ("table_fraction", 1.5),
    ("tables_until", -0.1),
    ("decay_fraction", 2),
    ("table_pool", 0),
    ("table_pool", 4),  # without tables
    ("table_beta", 0.0),
    ("table_beta", 0.5),  # without tables
    ("target_noise", -0.1),
    ("target_noise", 2.0),
    ("loss", "hinge"),
    ("target_coding", "zscore"),
    ("optimizer", "rmsprop"),
    ("target_coding", "standardised"),  # with the default sigmoid read-out
])
def test_bad_config_names_the_field_and_the_allowed_values(field, value):
    with pytest.raises(ValueError, match=f"TrainConfig.{field} must be"):
        dataclasses.replace(TrainConfig(), **{field: value})


def test_continuous_family_rejects_held_out_and_lists_become_tuples():
    with pytest.raises(ValueError, match="held_out"):
        TrainConfig(family="semilinear", held_out=(1,))
    with pytest.raises(ValueError, match="table_fraction"):
        TrainConfig(family="semilinear", table_fraction=0.5)
    config = TrainConfig(held_out=[0, 6], hidden_sizes=[6])
    assert config.held_out == (0, 6) and config.hidden_sizes == (6,)
    with pytest.raises(ValueError, match="unknown TrainConfig fields"):
        TrainConfig.from_dict({"family": "boolean16", "epochs": 3})


def test_training_runs_on_one_thread_and_restores_the_thread_count(monkeypatch):
    seen = []
    real = trainer_module.make_batch

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    original = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        monkeypatch.setattr(trainer_module, "make_batch", spy)
        train(dataclasses.replace(TINY, n_steps=3), progress=False)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(original)
    assert set(seen) == {1}


def test_random_tables_join_training_but_held_out_functions_still_never_do(monkeypatch):
    seen = training_function_ids(monkeypatch, dataclasses.replace(TINY, table_fraction=0.5))
    ids = set(torch.cat(seen).unique().tolist())
    assert -1 in ids and ids.isdisjoint({6, 9})


def test_tables_stop_after_tables_until(monkeypatch):
    config = dataclasses.replace(TINY, table_fraction=1.0, tables_until=0.5, n_steps=10)
    seen = training_function_ids(monkeypatch, config)
    assert len(seen) == 10
    assert all(bool((ids == -1).all()) for ids in seen[:5])  # table_fraction 1: every stream a table
    assert all(not bool((ids == -1).any()) for ids in seen[5:])


def test_learning_rate_is_constant_then_decays_on_a_half_cosine_to_zero():
    config = dataclasses.replace(TINY, learning_rate=0.02, n_steps=100, decay_fraction=0.4)
    lr = [train_module.learning_rate_at(config, e) for e in range(100)]
    assert lr[:61] == [0.02] * 61
    assert lr[80] == pytest.approx(0.01)  # half-way through the decay
    assert all(a > b for a, b in zip(lr[60:], lr[61:])) and 0 < lr[-1] < 0.001
    constant = dataclasses.replace(config, decay_fraction=0.0)
    assert {train_module.learning_rate_at(constant, e) for e in range(100)} == {0.02}


def test_training_uses_the_scheduled_learning_rate(monkeypatch):
    used = []
    real_step = torch.optim.Adam.step

    def spy(self, *args, **kwargs):
        used.append(self.param_groups[0]["lr"])
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", spy)
    config = dataclasses.replace(TINY, n_steps=10, decay_fraction=0.5)
    train(config, progress=False)
    assert used == [train_module.learning_rate_at(config, e) for e in range(10)]


def test_keep_best_returns_the_weights_of_the_lowest_validation_error(tmp_path):
    # a large step size makes the validation error go up and down, so the best is not the last
    config = dataclasses.replace(TINY, n_steps=60, eval_every=10, learning_rate=0.3, keep_best=True)
    result = train(config, progress=False)
    history = result.history
    best = history.steps[history.val_mse.index(min(history.val_mse))]
    assert history.selected_step == best < 60  # (this run's best is not its end: the test means something)
    # the kept weights are those of that epoch: a run stopped there (same data, no decay) has them
    stopped = train(dataclasses.replace(config, n_steps=best, keep_best=False), progress=False)
    assert same_weights(result.model, stopped.model)
    last = train(dataclasses.replace(config, keep_best=False), progress=False)
    assert last.history.selected_step is None
    assert last.history.val_mse == history.val_mse


def test_the_2001_network_trains_through_the_same_path_and_is_cached_with_its_module(tmp_path):
    from l2l_lib.checkpoints import code_fingerprint
    from l2l_lib.packed import train_packed, train_seeds
    from l2l_lib.paper_net import PAPER_WEIGHTS, PaperQuadraticNet
    config = TrainConfig(family="quadratic", architecture="paper2001", hidden_sizes=(12, 40), forget_gate=False,
                         seq_len=12, batch_size=4, n_steps=6, eval_every=3, eval_sequences=8)
    first, second = train_seeds(config, 2, cache_dir=tmp_path, progress=False)
    assert isinstance(first.model, PaperQuadraticNet) and first.model.n_trainable_weights() == PAPER_WEIGHTS
    assert (first.config.seed, second.config.seed) == (0, 1) and len(first.history.steps) == 2
    again = train_seeds(config, 2, cache_dir=tmp_path, progress=False)
    assert all(r.from_cache for r in again) and same_weights(again[0].model, first.model)
    # its cache key covers paper_net.py; an LSTM run's does not depend on that file
    assert config.code_modules == ("paper_net.py",) and TrainConfig().code_modules == ()
    assert code_fingerprint(("paper_net.py",)) != code_fingerprint()
    with pytest.raises(ValueError, match="only architecture 'lstm' can be packed"):
        train_packed([config, dataclasses.replace(config, seed=1)], progress=False)
    with pytest.raises(ValueError, match="TrainConfig.architecture must be"):
        dataclasses.replace(config, hidden_sizes=(6, 40))
    with pytest.raises(ValueError, match="TrainConfig.architecture must be"):
        TrainConfig(architecture="rnn")


def test_target_noise_touches_only_the_fed_back_target_of_training_streams():
    from l2l_lib.trainer import data_generator, evaluation_batches, training_batch
    clean_config = dataclasses.replace(TINY, seq_len=30)
    noisy_config = dataclasses.replace(clean_config, target_noise=0.1)
    clean = training_batch(clean_config, data_generator(0, 1))
    noisy = training_batch(noisy_config, data_generator(0, 1))
    # the same streams (noise is drawn after the batch), the same targets and x, a noisy fed-back target
    assert torch.equal(clean.targets, noisy.targets) and torch.equal(clean.x, noisy.x)
    difference = noisy.inputs[..., 2] - clean.inputs[..., 2]
    assert not bool(difference[:, 0].any())  # y_{-1} = 0 has nothing to be noisy about
    assert 0.07 < float(difference[:, 1:].std()) < 0.13
    assert torch.equal(noisy.inputs[:, 1:, 2] - difference[:, 1:], noisy.targets[:, :-1, 0])
    # evaluation streams are never noisy
    for name, batch in evaluation_batches(noisy_config).items():
        assert torch.equal(batch.inputs[:, 1:, 2], batch.targets[:, :-1, 0]), name


def test_a_table_pool_run_draws_its_tables_from_its_own_pool(monkeypatch):
    from l2l_lib.trainer import data_generator, run_table_pool, training_batch
    config = dataclasses.replace(TINY, table_fraction=1.0, table_pool=2, seq_len=40, batch_size=50)
    pool = run_table_pool(config)
    assert pool.shape == (2, 4) and not torch.equal(pool, run_table_pool(dataclasses.replace(config, seed=1)))
    batch = training_batch(config, data_generator(0, 1))
    for b in range(batch.batch_size):
        answers = {p: batch.targets[b, batch.patterns()[b] == p, 0] for p in range(4)}
        rows = [k for k in range(2) if all(torch.allclose(v, pool[k, p].expand_as(v)) for p, v in answers.items())]
        assert rows, f"stream {b} is not a table of the pool"
    assert run_table_pool(TINY) is None


def test_cross_entropy_training_loss_is_computed_by_hand_and_evaluation_stays_squared_error():
    from l2l_lib.trainer import step_losses
    outputs = torch.tensor([[[0.9], [0.2]], [[0.5], [0.999]]])  # [B=2, T=2, 1]
    targets = torch.tensor([[[1.0], [0.0]], [[0.3], [1.0]]])
    by_hand = -(torch.log(torch.tensor([0.9, 0.8, 0.5, 0.999])) * torch.tensor([1.0, 1.0, 0.3, 1.0])
                + torch.log(torch.tensor([0.1, 0.2, 0.5, 0.001])) * torch.tensor([0.0, 0.0, 0.7, 0.0])).mean()
    torch.testing.assert_close(step_losses(outputs, targets, "bce", (0, 1, 2)), by_hand)
    torch.testing.assert_close(step_losses(outputs, targets, "mse", (0, 1, 2)), ((outputs - targets) ** 2).mean())
    config = dataclasses.replace(TINY, loss="bce", n_steps=4, eval_every=4)
    run = train(config, progress=False)
    from l2l_lib.trainer import evaluation_batches
    val = evaluation_batches(config)["val"]
    with torch.no_grad():
        mse = float(((run.model(val.inputs) - val.targets) ** 2).mean())
    assert run.history.val_mse[-1] == pytest.approx(mse, abs=1e-6)
    assert run.history.train_mse[-1] > 0.3  # a cross-entropy near log 2, not a squared error near 0.25


def test_plain_gradient_descent_takes_exactly_one_gradient_step_per_minibatch():
    # One step of optimizer="sgd" moves every weight by -learning_rate times the gradient of the first minibatch's
    # loss, computed here by hand from the same initial network and the same data.
    from l2l_lib.trainer import build_model, data_generator, training_batch
    config = TrainConfig(family="boolean16", seq_len=12, batch_size=4, n_steps=1, eval_every=1, eval_sequences=4,
                         optimizer="sgd", learning_rate=3.0)
    start = build_model(config)
    batch = training_batch(config, data_generator(config.seed, 1))
    loss = torch.mean((start(batch.inputs) - batch.targets) ** 2)
    grads = torch.autograd.grad(loss, list(start.parameters()))
    trained = train(config, progress=False).model
    for (name, before), grad, after in zip(start.named_parameters(), grads, trained.parameters()):
        torch.testing.assert_close(after.detach(), (before - 3.0 * grad).detach(), atol=1e-6, rtol=0, msg=name)


def test_learning_rate_range_depends_on_the_optimizer():
    TrainConfig(optimizer="sgd", learning_rate=50.0)
    with pytest.raises(ValueError, match=r"TrainConfig.learning_rate must be a number in \(0, 1\] for optimizer 'adam'"):
        TrainConfig(learning_rate=50.0)
