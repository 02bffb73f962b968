"""The store: the book's trained networks, shipped in the repository so that a reader need not retrain.

Layout (described for readers without the library in ``store/README.md``)::

    store/<recipe>/seed<k>.pt     the network's kept weights: a plain state dict (torch.load(weights_only=True))
    store/<recipe>/seed<k>.json   its config, history, code fingerprint, pack and provenance
    store/<recipe>/held_out_<a>-<b>-<c>/seed<k>.pt, .json   the same for each held-out set of a Boolean recipe

A network in a pack depends on its pack (float rounding), so an entry records the seeds it was trained
with. An entry is *current* when its config, pack and code fingerprint are those the current code would
train; otherwise it is *stale* and is never served: the train stage (:mod:`l2l_lib.stage`) retrains it and
says why. Files are written atomically, the weights first and the JSON last, so an entry whose JSON exists
is whole; a damaged entry is reported by name and left for the stage to retrain.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_open, atomic_write_json, nan_to_null
from .checkpoints import FORMAT_VERSION, atomic_save, code_fingerprint, safe_load
from .config import TrainConfig
from .networks import Pack
from .trainer import RESULT_FILE, History, TrainResult, build_model

STORE_ENV = "L2L_STORE_DIR"
STORE_FORMAT = 1
STATES = ("current", "missing", "stale", "damaged")


def default_store_dir() -> Path:
    """``$L2L_STORE_DIR`` if set, else the repository's ``store/`` folder (beside the ``l2l_lib`` package)."""
    return Path(os.environ.get(STORE_ENV) or Path(__file__).resolve().parent.parent / "store")


@dataclass(frozen=True)
class EntryState:
    """Whether the store can serve a pack: ``state`` is one of :data:`STATES`; ``why`` says why not."""

    pack: Pack
    state: str
    why: str = ""


def _files(pack: Pack, store_dir: Path, seed: int) -> tuple[Path, Path]:
    folder = store_dir / pack.folder
    return folder / f"seed{seed}.pt", folder / f"seed{seed}.json"


def _read_entry(pack: Pack, store_dir: Path, seed: int) -> dict[str, Any]:
    weights, meta = _files(pack, store_dir, seed)
    data = json.loads(meta.read_text())
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != data.get("weights_sha256"):
        raise ValueError(f"{weights.name} does not match the checksum in {meta.name}")
    return data


def entry_state(pack: Pack, store_dir: str | Path | None = None) -> EntryState:
    """Whether ``pack`` is in the store, current for this code, and whole."""
    store_dir = Path(store_dir or default_store_dir())
    fingerprint = code_fingerprint(pack.configs[0].code_modules)
    for config in pack.configs:
        weights, meta = _files(pack, store_dir, config.seed)
        if not meta.exists():
            return EntryState(pack, "missing", f"seed {config.seed} is not in the store")
        try:
            data = _read_entry(pack, store_dir, config.seed)
        except (OSError, ValueError) as error:
            return EntryState(pack, "damaged", f"seed {config.seed}: {error}")
        if data.get("format") != STORE_FORMAT:
            return EntryState(pack, "stale", f"seed {config.seed} has store format {data.get('format')!r}")
        if TrainConfig.from_dict(data["config"]) != config:
            return EntryState(pack, "stale", f"seed {config.seed} was trained with another config")
        if data["pack_seeds"] != list(pack.seeds):
            return EntryState(pack, "stale", f"seed {config.seed} was trained in another pack {data['pack_seeds']}")
        if data["code_fingerprint"] != fingerprint:
            return EntryState(pack, "stale", f"the training code changed since seed {config.seed} was stored "
                                             f"({data['code_fingerprint']} -> {fingerprint})")
    return EntryState(pack, "current")


def cpu_model() -> str:
    """The processor's model name (Linux: /proc/cpuinfo; elsewhere what :mod:`platform` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(device: str = "cpu") -> dict[str, Any]:
    """Where and how this process trains: torch version, device (and GPU), CPU model and instruction set,
    threads, date. The book's numbers are CPU numbers unless an entry's ``device`` says otherwise."""
    gpu = torch.cuda.get_device_name() if device.startswith("cuda") and torch.cuda.is_available() else None
    return {"torch": torch.__version__, "device": device, "gpu": gpu, "cpu": cpu_model(), "machine": platform.machine(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"), "threads": 1,
            "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")}


def write_pack(pack: Pack, results: list[TrainResult], store_dir: str | Path | None = None,
               where: dict[str, Any] | None = None) -> None:
    """Store the trained networks of ``pack`` (replacing its old entries); ``where``: :func:`provenance`
    of the process that trained them (default: this one)."""
    store_dir = Path(store_dir or default_store_dir())
    if [r.config for r in results] != list(pack.configs):
        raise ValueError(f"results are not those of {pack.name}")
    fingerprint = code_fingerprint(pack.configs[0].code_modules)
    for result in results:
        weights, meta = _files(pack, store_dir, result.config.seed)
        with atomic_open(weights, "wb") as handle:
            torch.save(result.model.state_dict(), handle)
        atomic_write_json(meta, {
            "format": STORE_FORMAT, "recipe": pack.recipe, "seed": result.config.seed,
            "pack_seeds": list(pack.seeds), "config": result.config.to_dict(), "code_fingerprint": fingerprint,
            "history": nan_to_null(result.history.to_dict()), "seconds_per_seed": result.wall_time,
            "provenance": where or provenance(),
            "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest()})


def read_pack(pack: Pack, store_dir: str | Path | None = None) -> list[TrainResult]:
    """The stored networks of ``pack``.

    Raises:
        ValueError: when the entry is not current, naming the pack, why, and the command that retrains it.
    """
    store_dir = Path(store_dir or default_store_dir())
    state = entry_state(pack, store_dir)
    if state.state != "current":
        raise ValueError(f"the store cannot serve {pack.name}: {state.state} ({state.why}); "
                         f"retrain it with `python -m l2l_lib train-all --recipe {pack.recipe} --update-store`")
    results = []
    for config in pack.configs:
        weights, meta = _files(pack, store_dir, config.seed)
        data = json.loads(meta.read_text())  # entry_state above has checked it whole and current
        model = build_model(config)
        model.load_state_dict(safe_load(weights))
        history = {k: [math.nan if v is None else v for v in vs] if isinstance(vs, list) else vs
                   for k, vs in data["history"].items()}
        results.append(TrainResult(config=config, model=model.eval(), history=History.from_dict(history),
                                   wall_time=data["seconds_per_seed"], from_cache=True))
    return results


def stored_provenance(pack: Pack, store_dir: str | Path | None = None) -> dict[str, Any]:
    """The provenance recorded with the first seed of ``pack`` (where and when it was trained)."""
    store_dir = Path(store_dir or default_store_dir())
    return json.loads(_files(pack, store_dir, pack.seeds[0])[1].read_text())["provenance"]


def install(pack: Pack, cache_dir: Path, store_dir: str | Path | None = None) -> None:
    """Put the stored networks of ``pack`` into the training cache, where the chapters find them.

    Written in the trainer's result format (:data:`~l2l_lib.checkpoints.FORMAT_VERSION`), atomically.
    """
    results = read_pack(pack, store_dir)
    atomic_save({"format": FORMAT_VERSION, "configs": [r.config.to_dict() for r in results],
                 "models": [r.model.state_dict() for r in results],
                 "histories": [r.history.to_dict() for r in results],
                 "wall_time": sum(r.wall_time for r in results)}, cache_dir / pack.key / RESULT_FILE)


def total_size(store_dir: str | Path | None = None) -> int:
    """Bytes the store's files take."""
    store_dir = Path(store_dir or default_store_dir())
    return sum(p.stat().st_size for p in store_dir.rglob("*") if p.is_file()) if store_dir.exists() else 0



@dataclass(frozen=True)
class StoredPack:
    """What the store says about one pack: its state and, when stored, where, when and how long."""

    pack: Pack
    state: str
    cpu: str = ""
    cpu_capability: str = ""
    torch: str = ""
    date: str = ""
    minutes_per_seed: float = math.nan
    carried_over: str = ""  # the verification, when the entry was carried over to a new code fingerprint


def describe_store(packs: list[Pack], store_dir: str | Path | None = None) -> list[StoredPack]:
    """One :class:`StoredPack` per pack, for the reproducing chapter's table."""
    store_dir = Path(store_dir or default_store_dir())
    rows = []
    for pack in packs:
        state = entry_state(pack, store_dir).state
        if state not in ("current", "stale"):
            rows.append(StoredPack(pack, state))
            continue
        data = json.loads(_files(pack, store_dir, pack.seeds[0])[1].read_text())
        where = data["provenance"]
        rows.append(StoredPack(pack, state, where["cpu"], where["cpu_capability"], where["torch"], where["date"],
                               data["seconds_per_seed"] / 60, data.get("carried_over", {}).get("verified_by", "")))
    return rows
