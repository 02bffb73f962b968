"""Train one recipe over several seeds (packed, cached) and write every seed's learning curves to JSON.

A search tool, not part of the book: the Boolean and continuous chapters train the recipe this helps
choose. Networks go to the library's cache (``L2L_CACHE_DIR``), so a chapter that asks for the same
config later loads them instead of training.

Usage: python benchmarks/recipes.py boolean16 --seeds 8 --out results/x.json -s table_fraction 0.5 ...
"""

from __future__ import annotations

import argparse
import ast
import json
import time
from dataclasses import fields

from l2l_lib.packed import train_seeds
from l2l_lib.train import TrainConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    parser.add_argument("-s", "--set", nargs=2, action="append", default=[], metavar=("FIELD", "VALUE"),
                        help=f"override a TrainConfig field ({', '.join(f.name for f in fields(TrainConfig))})")
    args = parser.parse_args()
    overrides = {name: ast.literal_eval(value) for name, value in args.set}
    config = TrainConfig.preset(args.preset, seed=args.first_seed, **overrides)
    started = time.perf_counter()
    results = train_seeds(config, args.seeds)
    out = {"config": config.to_dict(), "wall_seconds": time.perf_counter() - started,
           "seeds": [{"seed": r.config.seed, "history": r.history.to_dict(), "wall_time": r.wall_time}
                     for r in results]}
    with open(args.out, "w") as f:
        json.dump(out, f)
    for r in results:
        h = r.history
        print(f"seed {r.config.seed}: val {h.val_mse[-1]:.4f} held-out {h.held_out_mse[-1]:.4f} "
              f"(best held-out seen {min(h.held_out_mse):.4f})")


if __name__ == "__main__":
    main()
