"""benchmarks/carry_over_store.py: stored networks are re-stamped only after a retrained pack matched bit for bit."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from l2l_lib.config import TrainConfig
from l2l_lib.networks import Pack
from l2l_lib.store import entry_state, write_pack
from l2l_lib.train import train_seeds

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "carry_over_store.py"


@pytest.fixture()
def tool(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("carry_over_store", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = TrainConfig(family="boolean16", held_out=(6, 9), seq_len=12, batch_size=4, n_steps=20, eval_every=10,
                         eval_sequences=8)
    pack = Pack("tiny", tuple(TrainConfig(**{**config.to_dict(), "seed": s}) for s in (0, 1)))
    monkeypatch.setattr(module, "book_packs", lambda recipes=None: [pack])
    results = train_seeds(pack.configs[0], 2, pack_size=2, cache_dir=tmp_path / "cache", progress=False)
    old = tmp_path / "old"
    write_pack(pack, results, old)
    for seed in pack.seeds:  # as an older code would have left it: another fingerprint, a field it lacked
        meta = old / pack.folder / f"seed{seed}.json"
        data = json.loads(meta.read_text())
        data["code_fingerprint"] = "0123456789abcdef"
        del data["config"]["target_coding"]
        meta.write_text(json.dumps(data))
    cache_folder = next((tmp_path / "cache").iterdir())
    return module, pack, old, cache_folder


def test_carried_over_entries_are_current_and_keep_their_weights(tool, tmp_path):
    module, pack, old, cache_folder = tool
    assert entry_state(pack, old).state == "stale"
    verification = module.verify(cache_folder, old)
    assert "equal bit for bit" in verification
    module.carry_over(pack, old, tmp_path / "new", verification)
    assert entry_state(pack, tmp_path / "new").state == "current"
    for seed in pack.seeds:
        a = torch.load(old / pack.folder / f"seed{seed}.pt", weights_only=True)
        b = torch.load(tmp_path / "new" / pack.folder / f"seed{seed}.pt", weights_only=True)
        assert all(torch.equal(a[k], b[k]) for k in a)
        data = json.loads((tmp_path / "new" / pack.folder / f"seed{seed}.json").read_text())
        assert data["carried_over"] == {"from_code_fingerprint": "0123456789abcdef", "verified_by": verification}


def test_a_retrain_that_differs_is_refused(tool):
    module, pack, old, cache_folder = tool
    weights = old / pack.folder / "seed1.pt"
    state = torch.load(weights, weights_only=True)
    state["readout.bias"] = state["readout.bias"] + 1e-6
    torch.save(state, weights)
    with pytest.raises(ValueError, match="differ"):
        module.verify(cache_folder, old)


def test_an_entry_with_another_config_is_refused(tool, tmp_path):
    module, pack, old, _ = tool
    meta = old / pack.folder / "seed0.json"
    data = json.loads(meta.read_text())
    data["config"]["learning_rate"] = 0.5
    meta.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="another config"):
        module.carry_over(pack, old, tmp_path / "new", "checked")
    assert not (tmp_path / "new").exists()  # nothing half-written


def test_an_entry_carried_over_twice_keeps_the_first_record(tool, tmp_path):
    module, pack, old, cache_folder = tool
    first = {"from_code_fingerprint": "fedcba9876543210", "verified_by": "an older check"}
    for seed in pack.seeds:
        meta = old / pack.folder / f"seed{seed}.json"
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "carried_over": first}))
    verification = module.verify(cache_folder, old)
    module.carry_over(pack, old, tmp_path / "new", verification)
    data = json.loads((tmp_path / "new" / pack.folder / f"seed{pack.seeds[0]}.json").read_text())
    assert data["carried_over"] == {"from_code_fingerprint": "0123456789abcdef", "verified_by": verification,
                                    "earlier": first}
