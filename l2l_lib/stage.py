"""The train stage: make every network the book needs available before any chapter executes.

For each pack of :func:`l2l_lib.networks.book_packs` (or any list of packs: a recipe sweep is one), in
this order:

1. already in the training cache: nothing to do;
2. current in the store (:mod:`l2l_lib.store`): copied into the cache, and the stage says so;
3. otherwise trained, and the stage says why (missing, stale and why, damaged).

Packs train in parallel: local worker processes (one thread each, as many as cores by default), or Ray
tasks on a cluster (``ray_address="auto"`` or an address; ``"local"`` starts a Ray on this machine). Each
pack is trained by the library's one training loop with its checkpoint in the cache folder, so an
interrupted stage resumes; a worker hands back the finished result file's bytes and the driver writes them
atomically, so the cache is never half-written, even when the worker ran on another machine. A failing
pack is reported by name and the others finish.
"""

from __future__ import annotations

import concurrent.futures as futures
import multiprocessing
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .atomic import atomic_write_bytes
from .checkpoints import default_cache_dir
from .config import TrainConfig
from .networks import Pack
from .store import default_store_dir, entry_state, install, provenance, write_pack
from .train import train_packed
from .trainer import RESULT_FILE, load_results
from .validation import check_int

SOURCES = ("cache", "store", "trained", "failed")


@dataclass(frozen=True)
class PackOutcome:
    """What the stage did for one pack: ``source`` is one of :data:`SOURCES`; ``why`` explains a training
    or a failure; ``seconds``: training time of the pack (0 unless trained)."""

    pack: Pack
    source: str
    why: str = ""
    seconds: float = 0.0
    where: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StageReport:
    """Every pack's outcome, and the stage's wall-clock time in seconds."""

    outcomes: tuple[PackOutcome, ...]
    seconds: float

    def count(self, source: str) -> int:
        """Networks (not packs) whose outcome was ``source``."""
        return sum(len(o.pack.seeds) for o in self.outcomes if o.source == source)

    @property
    def failed(self) -> list[PackOutcome]:
        return [o for o in self.outcomes if o.source == "failed"]


def _cached(pack: Pack, cache_dir: Path) -> bool:
    if not (cache_dir / pack.key / RESULT_FILE).exists():
        return False
    try:
        load_results(cache_dir / pack.key, list(pack.configs))
        return True
    except Exception:  # a damaged or foreign file: train again (its folder is rewritten atomically)
        return False


def train_pack_bytes(config_dicts: list[dict[str, Any]], cache_dir: str, device: str = "cpu"
                     ) -> tuple[bytes, float, dict[str, Any]]:
    """Train one pack (a worker's job) and return its result file's bytes, its seconds and its provenance.

    A module-level function of plain arguments, so that worker processes and Ray tasks can run it.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    configs = [TrainConfig.from_dict(d) for d in config_dicts]
    folder = Path(cache_dir) / Pack("", tuple(configs)).key
    started = time.perf_counter()
    train_packed(configs, checkpoint_dir=folder, progress=False, device=device)
    return (folder / RESULT_FILE).read_bytes(), time.perf_counter() - started, provenance(device)


def _local_submit(jobs: int) -> tuple[Callable[..., futures.Future], Callable[[], None]]:
    # spawn: a fresh interpreter per worker (no forked torch thread pools); one thread each (trainer).
    pool = futures.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
    return pool.submit, lambda: pool.shutdown(wait=True, cancel_futures=True)


def _ray_submit(address: str) -> tuple[Callable[..., futures.Future], Callable[[], None]]:
    try:
        import ray
    except ImportError as error:
        raise ValueError("ray_address needs Ray: pip install -e '.[ray]'") from error
    hint = "start one with `ray start --head`, pass its address, or use 'local'"
    if address not in ("local", "auto"):
        _check_reachable(address, hint)
    try:
        ray.init(address=None if address == "local" else address, ignore_reinit_error=True,
                 include_dashboard=False, log_to_driver=False, configure_logging=False)
    except Exception as error:  # ConnectionError, or Ray's own errors for an address it cannot reach
        raise ValueError(f"ray_address {address!r}: no Ray cluster could be reached ({error}); {hint}") from error
    task = ray.remote(num_cpus=1)(train_pack_bytes)
    return (lambda fn, *args: task.remote(*args).future()), ray.shutdown


def _check_reachable(address: str, hint: str) -> None:
    # Ray retries an unreachable head for minutes; one connection attempt tells at once.
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except (OSError, ValueError) as error:
        raise ValueError(f"ray_address {address!r}: no Ray cluster could be reached ({error}); {hint}") from error


def run_stage(packs: Sequence[Pack], *, jobs: int | None = None, ray_address: str | None = None,
              cache_dir: str | Path | None = None, store_dir: str | Path | None = None, use_store: bool = True,
              update_store: bool = False, device: str = "cpu", progress: bool = True,
              log: Callable[[str], None] | None = None) -> StageReport:
    """Make every pack available in the training cache (see the module docstring).

    Args:
        packs: what to provide, e.g. :func:`l2l_lib.networks.book_packs`.
        jobs: local worker processes (default: the number of cores); ignored with ``ray_address``.
        ray_address: run the training as Ray tasks: ``"local"`` (start Ray here), ``"auto"`` or an address.
        cache_dir: the training cache (default :func:`l2l_lib.checkpoints.default_cache_dir`).
        store_dir: the store (default :func:`l2l_lib.store.default_store_dir`).
        use_store: serve current store entries instead of training them.
        update_store: write every pack trained now (and any cached pack the store lacks) into the store.
        device: ``"cpu"`` or ``"cuda"`` for the workers.
        progress: one progress bar (networks done/total, elapsed, ETA) on stderr.
        log: where the stage's lines go (default: ``tqdm.write``, which keeps the bar intact).

    Returns:
        a :class:`StageReport`; failures are in it, not raised.
    """
    started = time.perf_counter()
    jobs = (os.cpu_count() or 1) if jobs is None else check_int("jobs", jobs)
    cache_dir = Path(cache_dir or default_cache_dir())
    store_dir = Path(store_dir or default_store_dir())
    say = log or tqdm.write
    outcomes: dict[str, PackOutcome] = {}
    to_train: list[tuple[Pack, str]] = []
    for pack in packs:
        if _cached(pack, cache_dir):
            outcomes[pack.key] = PackOutcome(pack, "cache")
            continue
        state = entry_state(pack, store_dir)
        if use_store and state.state == "current":
            install(pack, cache_dir, store_dir)
            outcomes[pack.key] = PackOutcome(pack, "store")
            continue
        why = "the store is not used" if use_store is False else f"{state.state} in the store: {state.why}"
        to_train.append((pack, why))
    served = sum(len(o.pack.seeds) for o in outcomes.values() if o.source == "store")
    if served:
        say(f"{served} networks from the store ({store_dir})")
    if to_train:
        _train(to_train, outcomes, jobs, ray_address, cache_dir, device, progress, say)
    report = StageReport(tuple(outcomes[p.key] for p in packs), time.perf_counter() - started)
    if update_store:
        for outcome in report.outcomes:
            if outcome.source != "failed" and entry_state(outcome.pack, store_dir).state != "current":
                write_pack(outcome.pack, load_results(cache_dir / outcome.pack.key, list(outcome.pack.configs)),
                           store_dir, outcome.where or None)
                say(f"stored {outcome.pack.name}")
    return report


def _train(to_train: list[tuple[Pack, str]], outcomes: dict[str, PackOutcome], jobs: int, ray_address: str | None,
           cache_dir: Path, device: str, progress: bool, say: Callable[[str], None]) -> None:
    for pack, why in to_train:
        say(f"to train: {pack.name} ({why})")
    to_train = sorted(to_train, key=lambda item: -item[0].cost)  # longest first: the last pack ends soonest
    submit, close = _ray_submit(ray_address) if ray_address else _local_submit(min(jobs, len(to_train)))
    bar = tqdm(total=sum(len(p.seeds) for p, _ in to_train), disable=not progress, unit="network",
               desc="train stage", smoothing=0)
    try:
        running = {submit(train_pack_bytes, [c.to_dict() for c in pack.configs], str(cache_dir), device): (pack, why)
                   for pack, why in to_train}
        for future in futures.as_completed(running):
            pack, why = running[future]
            try:
                data, seconds, where = future.result()
            except Exception as error:  # one pack's failure must not stop the others
                outcomes[pack.key] = PackOutcome(pack, "failed", f"{type(error).__name__}: {error}")
                say(f"FAILED {pack.name}: {type(error).__name__}: {error}")
                continue
            target = cache_dir / pack.key / RESULT_FILE
            if not target.exists():  # the worker ran elsewhere (Ray): bring its result home
                atomic_write_bytes(target, data)
            outcomes[pack.key] = PackOutcome(pack, "trained", why, seconds, where)
            bar.update(len(pack.seeds))
            say(f"trained {pack.name} in {seconds / 60:.1f} min")
    finally:
        bar.close()
        close()

