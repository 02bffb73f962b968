#!/usr/bin/env python
"""Carry stored networks over to a new training-code fingerprint when the change cannot alter them.

A store entry names the fingerprint of the training code that made it (``l2l_lib.checkpoints``), so any
edit to that code makes every entry stale, even one that leaves a recipe's arithmetic untouched. This
tool re-stamps such entries instead of retraining them, and only under two conditions:

1. the entry's stored config, completed with the defaults of fields added since, equals the recipe's
   config now, up to fields its family never reads (``quadratic_map`` outside the quadratic family,
   whose default changed), and its weights match their checksum;
2. the caller names a pack that was retrained under the new code and came out bit for bit equal to its
   stored weights (``--verified-by``, a folder of the training cache holding ``result.pt``): the tool
   checks that equality itself before touching anything.

Each carried-over entry keeps its weights, history, training time and provenance (where and when it was
trained) and gains ``carried_over``: the old fingerprint and the verification. Nothing else changes.

Usage, e.g. after ``target_coding`` and ``optimizer`` were added to ``TrainConfig`` with defaults that compute
what the code computed before (the Boolean recipes were then carried over): check out the old store into a
folder of your choice, retrain one pack under the new code (its training-cache folder is printed by
``train-all``), then::

    python benchmarks/carry_over_store.py --old-store OLD_STORE --verified-by CACHE_FOLDER \\
        --recipe boolean16 --recipe boolean14 ...
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import fields, replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's l2l_lib, whatever is installed

from l2l_lib.atomic import atomic_write_json  # noqa: E402
from l2l_lib.checkpoints import code_fingerprint, safe_load  # noqa: E402
from l2l_lib.config import TrainConfig  # noqa: E402
from l2l_lib.networks import Pack, book_packs  # noqa: E402
from l2l_lib.store import STORE_FORMAT, default_store_dir  # noqa: E402
from l2l_lib.tasks import DEFAULT_QUADRATIC_MAP  # noqa: E402


def completed(config: dict) -> TrainConfig:
    """A stored config dict with the fields added since it was written at their defaults."""
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    return TrainConfig(**{**defaults, **config})


def read_fields(config: TrainConfig) -> TrainConfig:
    """``config`` with the fields its family never reads set to their defaults (the quadratic's output map
    outside the quadratic family)."""
    return config if config.family == "quadratic" else replace(config, quadratic_map=DEFAULT_QUADRATIC_MAP)


def verify(cache_folder: Path, old_store: Path) -> str:
    """Check that the pack trained under the new code in ``cache_folder`` equals its stored weights, bit for
    bit; returns a sentence saying what was verified. Raises ValueError otherwise."""
    result = safe_load(cache_folder / "result.pt")
    configs = [TrainConfig.from_dict(c) for c in result["configs"]]
    pack = next((p for p in book_packs() if list(p.configs) == configs), None)
    if pack is None:
        raise ValueError(f"{cache_folder} is not a pack of the book")
    for config, weights in zip(configs, result["models"]):
        stored = safe_load(old_store / pack.folder / f"seed{config.seed}.pt")
        if stored.keys() != weights.keys() or not all(torch.equal(stored[k], weights[k]) for k in stored):
            raise ValueError(f"{pack.name} seed {config.seed}: retrained weights differ from the stored ones")
    return f"{pack.name} retrained under code {code_fingerprint(configs[0].code_modules)}: equal bit for bit"


def carry_over(pack: Pack, old_store: Path, store: Path, verification: str) -> None:
    """Re-stamp every seed of ``pack`` from ``old_store`` into ``store`` (see the module docstring)."""
    fingerprint = code_fingerprint(pack.configs[0].code_modules)
    entries = []
    for config in pack.configs:
        weights = old_store / pack.folder / f"seed{config.seed}.pt"
        data = json.loads(weights.with_suffix(".json").read_text())
        if hashlib.sha256(weights.read_bytes()).hexdigest() != data["weights_sha256"]:
            raise ValueError(f"{weights} does not match its checksum")
        if read_fields(completed(data["config"])) != read_fields(config) or data["pack_seeds"] != list(pack.seeds):
            raise ValueError(f"{pack.name} seed {config.seed}: stored with another config or pack; retrain it")
        entries.append((config, weights, data))
    for config, weights, data in entries:
        target = store / pack.folder / f"seed{config.seed}.pt"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(weights.read_bytes())
        atomic_write_json(target.with_suffix(".json"), {
            **data, "format": STORE_FORMAT, "config": config.to_dict(), "code_fingerprint": fingerprint,
            "carried_over": {"from_code_fingerprint": data["code_fingerprint"], "verified_by": verification,
                             # an entry carried over before keeps that record too
                             **({"earlier": data["carried_over"]} if "carried_over" in data else {})}})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-store", type=Path, required=True, help="the store as the old code left it")
    parser.add_argument("--store", type=Path, default=None, help="where to write (default: the repository's store/)")
    parser.add_argument("--verified-by", type=Path, required=True, action="append",
                        help="a training-cache folder of a pack retrained under the new code (repeatable)")
    parser.add_argument("--recipe", action="append", required=True, help="a recipe to carry over (repeatable)")
    args = parser.parse_args(argv)
    store = args.store or default_store_dir()
    verification = "; ".join(verify(folder, args.old_store) for folder in args.verified_by)
    for pack in book_packs(args.recipe):
        carry_over(pack, args.old_store, store, verification)
        print(f"carried over {pack.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
