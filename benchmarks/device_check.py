#!/usr/bin/env python
"""Device check: the same runs on the CPU and on a GPU (``device="auto"``) agree, and how fast each is.

Run on a machine with a GPU: ``python benchmarks/device_check.py``. Prints a JSON summary. The committed
``benchmarks/results/device_check_h100.json`` (an H100) came from this script's first version, which
trained a plain Boolean-16 configuration instead of the shortened ``boolean16`` recipe. Without a GPU,
"auto" is the CPU and the check compares the CPU with itself.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's l2l_lib, whatever is installed

from l2l_lib.recipes import recipe  # noqa: E402
from l2l_lib.train import resolve_device, train, train_packed  # noqa: E402


def main() -> None:
    device = resolve_device("auto")
    # The Boolean chapter's recipe, short: sequences of 64, 200 optimiser steps.
    config = recipe("boolean16", seed=0, seq_len=64, n_steps=200, eval_every=100, eval_sequences=64)
    report = {"device": str(device), "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
              "torch": torch.__version__, "recipe": "boolean16", "config": config.to_dict()}
    cpu = train(config, progress=False, device="cpu")
    gpu = train(config, progress=False, device="auto")
    report["single_val_mse_cpu_vs_device"] = [cpu.history.val_mse[-1], gpu.history.val_mse[-1]]
    seeds = [replace(config, seed=s) for s in range(3)]
    packed_cpu = train_packed(seeds, progress=False, device="cpu")
    packed_gpu = train_packed(seeds, progress=False, device="auto")
    report["packed_val_mse_cpu_vs_device"] = [[a.history.val_mse[-1], b.history.val_mse[-1]]
                                              for a, b in zip(packed_cpu, packed_gpu)]
    report["max_weight_gap_packed"] = max(
        float((a.model.state_dict()[k] - b.model.state_dict()[k]).abs().max())
        for a, b in zip(packed_cpu, packed_gpu) for k in a.model.state_dict())
    timing = replace(config, seq_len=256, n_steps=300, eval_every=10**6)  # no evaluation inside the timing
    for n_seeds in (1, 8, 32):
        runs = [replace(timing, seed=s) for s in range(n_seeds)]
        start = time.perf_counter()
        if n_seeds == 1:
            train(runs[0], progress=False, device="auto")
        else:
            train_packed(runs, progress=False, device="auto")
        report[f"ms_per_seed_step_S{n_seeds}"] = (time.perf_counter() - start) / timing.n_steps / n_seeds * 1000
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
