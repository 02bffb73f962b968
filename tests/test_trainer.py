"""The one training loop: callbacks, one checkpoint format for single seeds and packs, clear errors."""

import dataclasses

import pytest
import torch

from l2l_lib import checkpoints
from l2l_lib.config import TrainConfig
from l2l_lib.train import train, train_packed
from l2l_lib.trainer import RESULT_FILE, Trainer, load_results

TINY = TrainConfig(family="boolean16", held_out=(6, 9), seq_len=12, batch_size=4, n_steps=12, eval_every=4,
                   eval_sequences=8)


def test_callbacks_see_every_evaluation_in_order():
    seen = []
    trainer = Trainer([TINY], progress=False)
    trainer.add_callback("on_evaluation", lambda t: seen.append((t.step, len(t.histories[0].steps))))
    result = trainer.run()[0]
    assert seen == [(4, 1), (8, 2), (12, 3)]
    same = train(TINY, progress=False)  # the public function is the same loop
    assert all(torch.equal(a, b) for a, b in zip(result.model.state_dict().values(), same.model.state_dict().values()))
    with pytest.raises(ValueError, match="event must be 'on_evaluation'"):
        trainer.add_callback("on_step", lambda t: None)


def test_single_and_packed_runs_share_one_file_format(tmp_path):
    train(TINY, checkpoint_dir=tmp_path / "one", progress=False)
    pack = [TINY, dataclasses.replace(TINY, seed=1)]
    train_packed(pack, checkpoint_dir=tmp_path / "two", progress=False)
    for folder, n in (("one", 1), ("two", 2)):
        state = checkpoints.safe_load(tmp_path / folder / RESULT_FILE)
        assert state["format"] == checkpoints.FORMAT_VERSION
        assert len(state["configs"]) == len(state["models"]) == len(state["histories"]) == n
    assert [r.config.seed for r in load_results(tmp_path / "two")] == [0, 1]


def test_a_file_of_another_format_is_refused_with_what_to_do(tmp_path):
    train(TINY, checkpoint_dir=tmp_path, progress=False)
    state = checkpoints.safe_load(tmp_path / RESULT_FILE)
    checkpoints.atomic_save({**state, "format": 1}, tmp_path / RESULT_FILE)
    with pytest.raises(ValueError, match="has format 1.*delete the folder to retrain"):
        load_results(tmp_path)


def test_packs_must_be_one_recipe():
    with pytest.raises(ValueError, match="differ only in seed; these fields differ: \\['learning_rate'\\]"):
        Trainer([TINY, dataclasses.replace(TINY, seed=1, learning_rate=0.5)])
    with pytest.raises(ValueError, match="distinct seeds"):
        Trainer([TINY, TINY])
