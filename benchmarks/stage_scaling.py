"""Throughput of the train stage: one worker, two workers, and Ray, side by side on the same packs.

The stage's targets: two local workers train at >= 1.8x the throughput of one; Ray tasks on this machine
at >= 0.9x the local workers' throughput, with the same networks (bit for bit). The packs are the book's
Boolean-16 recipe, shortened (``--steps``), so that a run takes minutes; every configuration trains into
an empty cache of its own. Ray's start-up is timed apart from its training (it is paid once per stage).

Usage: python benchmarks/stage_scaling.py [--steps 1500] [--packs 4] [--out benchmarks/results/stage_scaling.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import tempfile
import time
from pathlib import Path

from l2l_lib.atomic import atomic_write_json
from l2l_lib.networks import Pack
from l2l_lib.recipes import recipe
from l2l_lib.stage import run_stage
from l2l_lib.store import provenance
from l2l_lib.trainer import load_results


def packs(n_packs: int, steps: int, seeds_per_pack: int = 4) -> list[Pack]:
    """``n_packs`` packs of the Boolean-16 recipe, ``steps`` long, sequences of 64 (disjoint seeds)."""
    base = recipe("boolean16", n_steps=steps, seq_len=64, eval_every=max(1, steps // 4))
    return [Pack("boolean16", tuple(dataclasses.replace(base, seed=1000 + p * seeds_per_pack + s)
                                    for s in range(seeds_per_pack))) for p in range(n_packs)]


def weights_hash(results: list) -> str:
    """A hash of the trained weights alone (a result file also holds timings, which differ run to run)."""
    digest = hashlib.sha256()
    for result in results:
        for name, tensor in sorted(result.model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()[:16]


def timed_stage(pack_list: list[Pack], **kwargs) -> tuple[float, list[str]]:
    """Seconds the stage takes on an empty cache, and a hash of each pack's result file."""
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        report = run_stage(pack_list, cache_dir=cache, use_store=False, progress=False, log=lambda _: None,
                           **kwargs)
        seconds = time.perf_counter() - started
        if report.failed:
            raise RuntimeError(f"packs failed: {[o.pack.name for o in report.failed]}")
        hashes = [weights_hash(load_results(Path(cache) / p.key)) for p in pack_list]
    return seconds, hashes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--packs", type=int, default=4)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "stage_scaling.json")
    args = parser.parse_args(argv)
    work = packs(args.packs, args.steps)
    networks = sum(len(p.seeds) for p in work)
    results = {"packs": args.packs, "networks": networks, "steps": args.steps, "machine": provenance()}
    one, one_hashes = timed_stage(work, jobs=1)
    two, two_hashes = timed_stage(work, jobs=2)
    results["one_worker_s"], results["two_workers_s"] = one, two
    results["speedup_two_workers"] = one / two
    results["two_workers_same_networks"] = one_hashes == two_hashes
    print(f"{networks} networks: 1 worker {one:.1f} s, 2 workers {two:.1f} s, speed-up {one / two:.2f}x")
    if not args.no_ray:
        import ray
        started = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        results["ray_start_s"] = time.perf_counter() - started
        on_ray, ray_hashes = timed_stage(work, ray_address="local")
        ray.shutdown()
        results["ray_s"] = on_ray
        results["ray_vs_two_workers"] = two / on_ray
        results["ray_same_networks"] = ray_hashes == two_hashes
        print(f"Ray (2 CPUs): {on_ray:.1f} s after {results['ray_start_s']:.1f} s start-up; "
              f"{two / on_ray:.2f}x the throughput of 2 workers; same networks: {ray_hashes == two_hashes}")
    atomic_write_json(args.out, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
