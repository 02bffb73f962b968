"""Device-agnostic check: the same runs on the CPU and on a GPU (``device="auto"``) agree, and timings.

Run on a machine with a GPU: ``python benchmarks/device_check.py``. Prints a JSON summary.
"""

import dataclasses
import json
import time

import torch

from l2l_lib.packed import train_packed
from l2l_lib.train import TrainConfig, resolve_device, train


def main() -> None:
    device = resolve_device("auto")
    config = TrainConfig(family="boolean16", held_out=(0, 6, 9), seq_len=64, batch_size=16, n_epochs=200,
                         eval_every=100, eval_sequences=64)
    report = {"device": str(device), "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
              "torch": torch.__version__}
    cpu = train(config, progress=False, device="cpu")
    gpu = train(config, progress=False, device="auto")
    report["single_val_mse_cpu_vs_device"] = [cpu.history.val_mse[-1], gpu.history.val_mse[-1]]
    seeds = [dataclasses.replace(config, seed=s) for s in range(3)]
    packed_cpu = train_packed(seeds, progress=False, device="cpu")
    packed_gpu = train_packed(seeds, progress=False, device="auto")
    report["packed_val_mse_cpu_vs_device"] = [[a.history.val_mse[-1], b.history.val_mse[-1]]
                                              for a, b in zip(packed_cpu, packed_gpu)]
    report["max_weight_gap_packed"] = max(
        float((a.model.state_dict()[k] - b.model.state_dict()[k]).abs().max())
        for a, b in zip(packed_cpu, packed_gpu) for k in a.model.state_dict())
    timing = dataclasses.replace(config, seq_len=256, n_epochs=300, eval_every=10**6)
    for n_seeds in (1, 8, 32):
        runs = [dataclasses.replace(timing, seed=s) for s in range(n_seeds)]
        start = time.perf_counter()
        if n_seeds == 1:
            train(runs[0], progress=False, device="auto")
        else:
            train_packed(runs, progress=False, device="auto")
        report[f"ms_per_seed_step_S{n_seeds}"] = (time.perf_counter() - start) / timing.n_epochs / n_seeds * 1000
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
