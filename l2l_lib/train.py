"""Meta-training, as readers call it: one run, a pack of seeds, many seeds, and the cache of trained networks.

The loop itself is :class:`l2l_lib.trainer.Trainer` (one loop for one seed, packs of seeds and the 2001
network); this module chooses where its results are kept. A run's cache folder is named by
:func:`l2l_lib.checkpoints.run_key`: its configs and the training code, so chapters that ask for the same
recipe share trained networks, and a change to the training code retrains instead of reusing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from .checkpoints import default_cache_dir, run_key
from .config import ARCHITECTURES, TrainConfig
from .trainer import (CHECKPOINT_FILE, RESULT_FILE, BestWeights, History, Trainer, TrainResult, build_model,
                      learning_rate_at, load_results, one_thread, resolve_device, training_batch)
from .validation import check_int

__all__ = ["ARCHITECTURES", "BestWeights", "CHECKPOINT_FILE", "DEFAULT_PACK_SIZE", "History", "RESULT_FILE",
           "TrainConfig", "TrainResult", "Trainer", "build_model", "cache_path", "learning_rate_at", "load_or_train",
           "load_result", "one_thread", "pack_key", "resolve_device", "seed_packs", "train", "train_packed", "train_seeds",
           "training_batch"]

DEFAULT_PACK_SIZE = 8  # measured sweet spot on one CPU core (benchmarks/)


def train(config: TrainConfig, *, checkpoint_dir: str | Path | None = None, progress: bool = True,
          device: str = "cpu", callback: Callable[[int, History], None] | None = None) -> TrainResult:
    """Meta-train the network of ``config`` (Hochreiter et al. 2001, Sec. 3).

    Args:
        config: the run.
        checkpoint_dir: if given, a checkpoint is written there (atomically) at every evaluation, a run
            found there is resumed, and the finished result is stored there; a finished run found there
            is returned without training. The folder belongs to one config: another config raises.
        progress: show a tqdm progress bar (to stderr).
        device: ``"cpu"``, ``"cuda"``, ``"auto"``...; results are bit-reproducible on CPU only.
        callback: called as ``callback(step, history)`` after each evaluation (an exception raised there
            stops training; the checkpoint written just before stays valid).

    Returns:
        a :class:`TrainResult` whose ``history`` has one entry per ``config.eval_every`` steps and one at
        the end, and whose ``wall_time`` is the total training time in seconds (over resumes).
    """
    trainer = Trainer([config], checkpoint_dir=checkpoint_dir, progress=progress, device=device)
    if callback is not None:
        trainer.add_callback("on_evaluation", lambda t: callback(t.step, t.histories[0]))
    return trainer.run()[0]


def train_packed(configs: list[TrainConfig], *, checkpoint_dir: str | Path | None = None, progress: bool = True,
                 device: str = "cpu", callback: Callable[[int, list[History]], None] | None = None
                 ) -> list[TrainResult]:
    """Train several seeds of one recipe as one packed computation (:mod:`l2l_lib.packed`).

    Arguments as :func:`train`, with ``configs`` equal in every field but ``seed`` and
    ``callback(step, histories)``. Returns one :class:`TrainResult` per config, in order; ``wall_time`` is
    the packed run's time divided by the number of seeds (time per seed).
    """
    trainer = Trainer(configs, checkpoint_dir=checkpoint_dir, progress=progress, device=device)
    if callback is not None:
        trainer.add_callback("on_evaluation", lambda t: callback(t.step, t.histories))
    return trainer.run()


def load_result(directory: str | Path, expected: TrainConfig | None = None) -> TrainResult:
    """Load a finished single run stored by :func:`train` (``weights_only`` loading: no code runs)."""
    return load_results(directory, None if expected is None else [expected])[0]


def cache_path(config: TrainConfig, cache_dir: str | Path | None = None) -> Path:
    """The folder where :func:`load_or_train` keeps the run of ``config``."""
    return Path(cache_dir or default_cache_dir()) / pack_key([config])


def pack_key(configs: list[TrainConfig]) -> str:
    """The cache folder name of the run of ``configs`` (one seed or a pack): configs and training code."""
    return run_key([c.to_dict() for c in configs], configs[0].code_modules)


def load_or_train(config: TrainConfig, *, cache_dir: str | Path | None = None, progress: bool = True,
                  device: str = "cpu") -> TrainResult:
    """The trained network of ``config`` from the cache, training (or resuming) it first if needed."""
    return train(config, checkpoint_dir=cache_path(config, cache_dir), progress=progress, device=device)


def train_seeds(config: TrainConfig, n_seeds: int, *, pack_size: int = DEFAULT_PACK_SIZE,
                cache_dir: str | Path | None = None, progress: bool = True, device: str = "cpu"
                ) -> list[TrainResult]:
    """Seeds ``config.seed .. config.seed + n_seeds - 1`` of one recipe, trained packed and cached.

    Seeds go in packs of ``pack_size`` (the last pack may be smaller), each trained in its own cache folder
    (:func:`pack_key`), so calling this again with the same arguments (as the chapters do) loads the
    networks instead of training them. ``pack_size=1``, and architectures that cannot be packed, train one
    seed at a time.
    """
    root = Path(cache_dir or default_cache_dir())
    results: list[TrainResult] = []
    for pack in seed_packs(config, n_seeds, pack_size):
        results += train_packed(pack, checkpoint_dir=root / pack_key(pack), progress=progress, device=device)
    return results


def seed_packs(config: TrainConfig, n_seeds: int, pack_size: int = DEFAULT_PACK_SIZE) -> list[list[TrainConfig]]:
    """How :func:`train_seeds` groups seeds ``config.seed ..`` into packs: consecutive seeds, ``pack_size`` at a
    time (the last pack may be smaller); one at a time for an architecture that cannot be packed."""
    check_int("n_seeds", n_seeds)
    check_int("pack_size", pack_size)
    configs = [replace(config, seed=config.seed + s) for s in range(n_seeds)]
    size = pack_size if config.architecture == "lstm" else 1
    return [configs[start:start + size] for start in range(0, n_seeds, size)]
