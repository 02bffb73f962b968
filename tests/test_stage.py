"""The networks list, the store and the train stage (local workers and Ray)."""

import dataclasses
import json
import shutil

import pytest
import torch

from l2l_lib import store as store_module
from l2l_lib.config import TrainConfig
from l2l_lib.networks import Pack, book_packs
from l2l_lib.recipes import RECIPES
from l2l_lib.stage import run_stage
from l2l_lib.train import seed_packs, train_packed

TINY = TrainConfig(family="boolean16", held_out=(6, 9), seq_len=10, batch_size=4, n_steps=8, eval_every=4,
                   eval_sequences=8)
SEMI = TrainConfig(family="semilinear", seq_len=10, batch_size=4, n_steps=6, eval_every=3, eval_sequences=8)


def tiny_packs():
    return [Pack("tiny", (TINY, dataclasses.replace(TINY, seed=1))), Pack("semi", (SEMI,))]


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_book_packs_are_every_recipes_seeds_and_held_out_sets_in_training_packs():
    packs = book_packs()
    by_recipe_set = {}
    for pack in packs:
        by_recipe_set.setdefault((pack.recipe, pack.held_out), []).extend(pack.seeds)
    expected = {(n, h): r.seeds for n, r in RECIPES.items() for h in (r.held_out_sets or (r.config.held_out,))}
    assert {key: tuple(seeds) for key, seeds in by_recipe_set.items()} == expected
    b16 = book_packs(["boolean16"])
    assert len(b16) == 4 and [p.held_out for p in b16] == list(RECIPES["boolean16"].held_out_sets)
    second = dataclasses.replace(RECIPES["boolean16"].config, seed=10000, held_out=(1, 3, 14))
    assert [list(p.configs) for p in b16[1:2]] == seed_packs(second, 5)
    assert b16[0].name == "boolean16 seeds 10000-10004 held out (0, 6, 9)"
    assert b16[1].folder == "boolean16/held_out_1-3-14" and book_packs(["semilinear"])[0].folder == "semilinear"
    assert len({(p.folder, s) for p in packs for s in p.seeds}) == sum(len(p.seeds) for p in packs)  # no clash
    assert all(len(p.seeds) == 1 for p in book_packs(["quadratic_paper2001"]))  # not packable
    with pytest.raises(ValueError, match="recipes must be names from"):
        book_packs(["boolean17"])


def test_store_round_trip_and_every_way_an_entry_can_be_unusable(tmp_path, monkeypatch):
    pack = tiny_packs()[0]
    results = train_packed(list(pack.configs), progress=False)
    assert store_module.entry_state(pack, tmp_path).state == "missing"
    store_module.write_pack(pack, results, tmp_path)
    assert store_module.entry_state(pack, tmp_path).state == "current"
    for stored, trained in zip(store_module.read_pack(pack, tmp_path), results):
        assert same(stored.model.state_dict(), trained.model.state_dict())
        assert stored.history.val_mse == trained.history.val_mse
    # readable without the library: a plain state dict and JSON
    folder = tmp_path / pack.folder
    assert pack.folder == "tiny/held_out_6-9"
    meta = json.loads((folder / "seed0.json").read_text())
    assert meta["pack_seeds"] == [0, 1] and meta["provenance"]["torch"] == torch.__version__
    weights = torch.load(folder / "seed0.pt", weights_only=True)
    assert same(weights, results[0].model.state_dict())
    # another pack of the same seeds, other code, a damaged file
    assert store_module.entry_state(Pack("tiny", pack.configs[:1]), tmp_path).state == "stale"
    monkeypatch.setattr(store_module, "code_fingerprint", lambda extra=(): "other-code")
    state = store_module.entry_state(pack, tmp_path)
    assert state.state == "stale" and "training code changed" in state.why
    with pytest.raises(ValueError, match=r"cannot serve tiny seeds 0-1 held out \(6, 9\): stale.*train-all --recipe tiny"):
        store_module.read_pack(pack, tmp_path)
    monkeypatch.undo()
    (folder / "seed1.pt").write_bytes(b"truncated")
    assert store_module.entry_state(pack, tmp_path).state == "damaged"
    assert (folder / "seed0.pt").exists()  # nothing else in the store is lost


def test_stage_trains_in_workers_then_serves_from_cache_and_store(tmp_path):
    packs = tiny_packs()
    alone = [train_packed(list(p.configs), progress=False) for p in packs]
    lines = []
    report = run_stage(packs, jobs=2, cache_dir=tmp_path / "cache", store_dir=tmp_path / "store",
                       update_store=True, progress=False, log=lines.append)
    assert [o.source for o in report.outcomes] == ["trained", "trained"] and report.count("trained") == 3
    assert any("missing in the store" in line for line in lines) and any("trained tiny seeds 0-1" in l for l in lines)
    for pack, results in zip(packs, alone):  # bit-identical to training in this process
        for stored, trained in zip(store_module.read_pack(pack, tmp_path / "store"), results):
            assert same(stored.model.state_dict(), trained.model.state_dict())
    again = run_stage(packs, jobs=2, cache_dir=tmp_path / "cache", store_dir=tmp_path / "store", progress=False,
                      log=lines.append)
    assert [o.source for o in again.outcomes] == ["cache", "cache"]
    shutil.rmtree(tmp_path / "cache")
    served = run_stage(packs, cache_dir=tmp_path / "cache", store_dir=tmp_path / "store", progress=False,
                       log=lines.append)
    assert [o.source for o in served.outcomes] == ["store", "store"] and "3 networks from the store" in lines[-1]


def test_a_failing_pack_is_named_and_the_others_finish(tmp_path):
    good, bad = tiny_packs()
    (tmp_path / bad.key).mkdir(parents=True)
    (tmp_path / bad.key / "checkpoint.pt").write_bytes(b"not a checkpoint")
    lines = []
    report = run_stage([good, bad], jobs=2, cache_dir=tmp_path, store_dir=tmp_path / "store", progress=False,
                       log=lines.append)
    assert [o.source for o in report.outcomes] == ["trained", "failed"]
    assert report.failed[0].pack is bad and any(line.startswith("FAILED semi seed 0") for line in lines)


def test_ray_tasks_give_the_same_networks_as_local_workers(tmp_path):
    pytest.importorskip("ray")
    packs = tiny_packs()
    run_stage(packs, jobs=2, cache_dir=tmp_path / "local", store_dir=tmp_path / "s1", update_store=True,
              progress=False, log=lambda _: None)
    report = run_stage(packs, ray_address="local", cache_dir=tmp_path / "ray", store_dir=tmp_path / "s2",
                       update_store=True, progress=False, log=lambda _: None)
    assert [o.source for o in report.outcomes] == ["trained", "trained"]
    for pack in packs:
        for a, b in zip(store_module.read_pack(pack, tmp_path / "s1"), store_module.read_pack(pack, tmp_path / "s2")):
            assert same(a.model.state_dict(), b.model.state_dict())


def test_an_unreachable_ray_address_is_a_clear_error(tmp_path):
    pytest.importorskip("ray")
    with pytest.raises(ValueError, match="ray_address '127.0.0.1:1'.*no Ray cluster could be reached"):
        run_stage(tiny_packs(), ray_address="127.0.0.1:1", cache_dir=tmp_path, store_dir=tmp_path / "s",
                  progress=False, log=lambda _: None)


def test_networks_command_lists_every_pack_and_check_fails_naming_what_is_missing(tmp_path, monkeypatch, capsys):
    from l2l_lib import cli
    monkeypatch.setenv("L2L_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("L2L_STORE_DIR", str(tmp_path / "store"))
    assert cli.main(["networks"]) == 0
    out = capsys.readouterr().out
    assert all(pack.name in out for pack in book_packs())
    assert cli.main(["networks", "--check"]) == 1
    err = capsys.readouterr().err
    assert "boolean16 seeds 10000-10004 held out (0, 6, 9): missing" in err and "train-all --update-store" in err


def test_train_all_refuses_an_unknown_recipe_or_worker_count(capsys):
    from l2l_lib import cli
    assert cli.main(["train-all", "--recipe", "boolean17"]) == 2
    assert "unknown recipe 'boolean17'; recipes: first_run, boolean16" in capsys.readouterr().err
    assert cli.main(["train-all", "--jobs", "0"]) == 2
    assert "--jobs must be an integer >= 1" in capsys.readouterr().err


def test_describe_store_says_where_and_how_long(tmp_path):
    pack = tiny_packs()[1]
    assert store_module.describe_store([pack], tmp_path)[0].state == "missing"
    store_module.write_pack(pack, train_packed(list(pack.configs), progress=False), tmp_path)
    row = store_module.describe_store([pack], tmp_path)[0]
    assert row.state == "current" and row.cpu == store_module.cpu_model() and row.torch == torch.__version__
    assert row.minutes_per_seed >= 0
