"""Does pinning the CPU instruction set make training reproducible across x86 CPUs, and what does it cost?

PyTorch's CPU kernels pick their code path from the processor: ATen by ``ATEN_CPU_CAPABILITY`` (default:
the best the CPU has), oneDNN (the LSTM kernels) by ``ONEDNN_MAX_CPU_ISA``. Two CPUs with different
instruction sets can round differently, and 30k training steps amplify the difference into other networks.
This script trains one short run under several settings, each in a fresh process (the variables are read
at start-up), and records a hash of the final weights and the time. Run it on two machines and compare the
hashes of the same setting: equal hashes mean that setting reproduces across those CPUs.

Usage: python benchmarks/isa_pinning.py [--out benchmarks/results/isa_pinning_<cpu>.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from l2l_lib.atomic import atomic_write_json
from l2l_lib.store import provenance

SETTINGS = {
    "default": {},
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"},
    "sse41": {"ONEDNN_MAX_CPU_ISA": "SSE41", "ATEN_CPU_CAPABILITY": "default"},
}

_CHILD = """
import hashlib, json, time, torch
from l2l_lib.recipes import recipe
from l2l_lib.train import train
config = recipe("boolean16", n_steps=2000, seq_len=64, seed=5, keep_best=False)
started = time.perf_counter()
result = train(config, progress=False)
seconds = time.perf_counter() - started
digest = hashlib.sha256()
for name, tensor in sorted(result.model.state_dict().items()):
    digest.update(name.encode()); digest.update(tensor.numpy().tobytes())
print(json.dumps({"hash": digest.hexdigest()[:16], "seconds": seconds,
                  "capability": torch.backends.cpu.get_cpu_capability()}))
"""


def run(setting: dict[str, str]) -> dict:
    """One training run in a fresh process with ``setting`` added to the environment."""
    env = {**os.environ, **setting}
    out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    machine = provenance()
    results = {"machine": machine, "runs": {}}
    for name, setting in SETTINGS.items():
        results["runs"][name] = {"env": setting, **run(setting), "again": run(setting)["hash"]}
        r = results["runs"][name]
        print(f"{name:8s} {r['capability']:8s} hash {r['hash']} (again {r['again']}) {r['seconds']:.1f} s")
    cpu = "".join(ch if ch.isalnum() else "_" for ch in machine["cpu"])[:40]
    atomic_write_json(args.out or Path(__file__).parent / "results" / f"isa_pinning_{cpu}.json", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
