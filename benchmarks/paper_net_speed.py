#!/usr/bin/env python
"""How much faster the fused C kernel trains the 2001 quadratic network than the step-by-step reference loop.

One training step = forward + backward + Adam on a quadratic-task batch (Sec. 3 of the paper; 16 sequences
of 200 steps by default), one CPU thread. Both backends start from the same weights, each with its own
Adam. The machine may be busy with other jobs, so the two are timed interleaved (alternating which goes
first), after a warm-up, and the result is the ratio of the median step times. Also recorded: the largest
difference of their predictions on the timed batch before training, and :func:`l2l_lib.store.provenance`.

Usage: python benchmarks/paper_net_speed.py [--repeats 21] [--batch 16] [--steps 200]
                                            [--out benchmarks/results/paper_net_speed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's l2l_lib, whatever is installed

from l2l_lib.atomic import atomic_write_text  # noqa: E402
from l2l_lib.paper_net import PaperQuadraticNet  # noqa: E402
from l2l_lib.store import provenance  # noqa: E402
from l2l_lib.tasks import make_batch  # noqa: E402


def training_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, inputs: torch.Tensor,
                  targets: torch.Tensor) -> float:
    """Seconds for one forward + backward + Adam step (squared error, as the trainer's loss)."""
    start = time.perf_counter()
    optimizer.zero_grad()
    (model(inputs) - targets).square().mean().backward()
    optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "paper_net_speed.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    new = PaperQuadraticNet(backend="kernel")
    old = PaperQuadraticNet(backend="reference")
    old.load_state_dict(new.state_dict())
    batch = make_batch("quadratic", args.batch, args.steps, generator=torch.Generator().manual_seed(1))
    inputs, targets = batch.inputs, batch.targets
    with torch.no_grad():
        max_diff = (new(inputs) - old(inputs)).abs().max().item()
    runs = {"old": (old, torch.optim.Adam(old.parameters(), lr=1e-3)),
            "new": (new, torch.optim.Adam(new.parameters(), lr=1e-3))}
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {"old": [], "new": []}
    for i in range(args.warmup + args.repeats):
        for name in (("old", "new") if i % 2 == 0 else ("new", "old")):
            seconds = training_step(*runs[name], inputs, targets)
            if i >= args.warmup:
                times[name].append(seconds)
    median = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    report = {
        "what": "ms per training step (forward + backward + Adam) of PaperQuadraticNet(), reference loop (old) "
                "vs fused C kernel (new); interleaved, median of repeats after warm-up",
        "batch": args.batch, "seq_len": args.steps, "repeats": args.repeats, "warmup": args.warmup,
        "weights": new.n_trainable_weights(),
        "old_ms_median": round(median["old"], 3), "new_ms_median": round(median["new"], 3),
        "speedup_ratio_of_medians": round(median["old"] / median["new"], 2),
        "old_ms": [round(t * 1e3, 3) for t in times["old"]], "new_ms": [round(t * 1e3, 3) for t in times["new"]],
        "max_abs_prediction_difference": max_diff,
        "load_average_1min_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "cpu_count": os.cpu_count(),
        "machine": provenance("cpu"),
    }
    atomic_write_text(args.out, json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("old_ms_median", "new_ms_median", "speedup_ratio_of_medians",
                                              "max_abs_prediction_difference", "load_average_1min_before_after")}))


if __name__ == "__main__":
    main()
