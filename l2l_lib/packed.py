"""Many seeds as one computation: S independent networks packed block-diagonally into one LSTM.

Every headline number of the book needs several seeds, and a 6-unit LSTM leaves the CPU idle between
tiny matrix products. Packing S networks into one ``nn.LSTM`` of ``S * H`` units whose weight matrices
are block-diagonal (seed s only sees its own inputs and its own units) runs S seeds for little more
than the price of one. It changes nothing in the mathematics:

* the off-block weights start at zero and their gradients are masked to zero, so they stay zero;
* the loss is the *sum* over seeds of each seed's mean squared error, so each block's gradient is the
  gradient that seed would get alone;
* Adam works element by element, so its moments of a block are those of that seed alone;
* gradient clipping is done per seed (each block's own norm), as :func:`torch.nn.utils.clip_grad_norm_`
  would do on that seed alone;
* each seed draws its own training and evaluation data from the generators a lone run would use.

So a packed seed equals the same seed trained alone up to float rounding (matrix products of another
size sum in another order). Packing is deterministic for a given pack size, which is why the cache
folder of a packed seed names its pack size.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from tqdm import tqdm

from .checkpoints import atomic_save, code_fingerprint, default_cache_dir, safe_load
from .model import _TORCH_GATE_ORDER, MetaLSTM, _gate_slice
from .train import (CHECKPOINT_FILE, RESULT_FILE, BestWeights, History, TrainConfig, TrainResult,
                    _evaluation_batches, _generator, _is_int, build_model, load_or_train, one_thread,
                    resolve_device, set_learning_rate, training_batch)

DEFAULT_PACK_SIZE = 8  # measured sweet spot on one CPU core (see benchmarks/)


class PackedMetaLSTM(nn.Module):
    """S :class:`~l2l_lib.model.MetaLSTM` of one architecture as one block-diagonal network.

    ``forward(inputs [B, T, S, n_inputs]) -> predictions [B, T, S, 1]``: seed s reads ``inputs[:, :, s]``.
    """

    def __init__(self, models: list[MetaLSTM]) -> None:
        super().__init__()
        if not models:
            raise ValueError("models must be a non-empty list of MetaLSTM")
        first = models[0]
        for m in models:
            if (m.hidden_sizes, m.forget_gate, m.output, m.n_inputs) != (first.hidden_sizes, first.forget_gate,
                                                                         first.output, first.n_inputs):
                raise ValueError("models must share hidden_sizes, forget_gate, output and n_inputs")
        self.n_seeds = n = len(models)
        self.hidden_sizes, self.forget_gate = first.hidden_sizes, first.forget_gate
        self.output, self.n_inputs = first.output, first.n_inputs
        sizes = (first.n_inputs, *first.hidden_sizes)
        self.layers = nn.ModuleList(nn.LSTM(n * sizes[k], n * sizes[k + 1], batch_first=True)
                                    for k in range(len(first.hidden_sizes)))
        self.readout_weight = nn.Parameter(torch.stack([m.readout.weight.detach()[0] for m in models]))  # [S, H]
        self.readout_bias = nn.Parameter(torch.stack([m.readout.bias.detach()[0] for m in models]))  # [S]
        # _owners[name]: which seed owns each entry of a packed parameter (-1: off-block, always zero).
        self._owners: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            for k, packed in enumerate(self.layers):
                n_in, n_hidden = sizes[k], sizes[k + 1]
                owners = {name: torch.full_like(getattr(packed, name), -1, dtype=torch.long)
                          for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}
                for name in owners:
                    getattr(packed, name).zero_()
                for s, model in enumerate(models):
                    single = model.layers[k]
                    cols_in = slice(s * n_in, (s + 1) * n_in)
                    cols_h = slice(s * n_hidden, (s + 1) * n_hidden)
                    for gate in ("i", "f", "j", "o"):
                        src = _gate_slice(single, gate)
                        dst = _packed_rows(gate, s, n_hidden, n)
                        packed.weight_ih_l0[dst, cols_in] = single.weight_ih_l0[src]
                        packed.weight_hh_l0[dst, cols_h] = single.weight_hh_l0[src]
                        packed.bias_ih_l0[dst] = single.bias_ih_l0[src]
                        packed.bias_hh_l0[dst] = single.bias_hh_l0[src]
                        if gate == "f" and not self.forget_gate:
                            continue  # pinned open: owned by nobody, never updated
                        owners["weight_ih_l0"][dst, cols_in] = s
                        owners["weight_hh_l0"][dst, cols_h] = s
                        owners["bias_ih_l0"][dst] = s
                        owners["bias_hh_l0"][dst] = s
                for name, owner in owners.items():
                    self._owners[f"layers.{k}.{name}"] = owner
                    getattr(packed, name).register_hook(
                        lambda grad, m=(owner >= 0): grad * m.to(grad.device, grad.dtype))
        self._owners["readout_weight"] = torch.arange(n)[:, None].expand(n, sizes[-1]).clone()
        self._owners["readout_bias"] = torch.arange(n)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        batch, steps, n_seeds, n_in = inputs.shape
        h = inputs.reshape(batch, steps, n_seeds * n_in)
        for layer in self.layers:
            h, _ = layer(h)
        h = h.reshape(batch, steps, n_seeds, -1)
        z = torch.einsum("btsh,sh->bts", h, self.readout_weight) + self.readout_bias
        z = torch.sigmoid(z) if self.output == "sigmoid" else z
        return z.unsqueeze(-1)

    def owners(self) -> dict[str, torch.Tensor]:
        """Parameter name -> int64 tensor of its shape: the seed owning each entry (-1: structural zero)."""
        return self._owners

    @torch.no_grad()
    def clip_grad_norm_per_seed(self, max_norm: float) -> torch.Tensor:
        """Clip each seed's gradient to global norm ``max_norm``; returns the ``[S]`` norms before clipping."""
        params = dict(self.named_parameters())
        squares = torch.zeros(self.n_seeds, dtype=torch.float64)
        for name, owner in self._owners.items():
            grad = params[name].grad
            if grad is not None:
                mask = owner >= 0
                squares.index_add_(0, owner[mask], grad.detach().cpu()[mask].double() ** 2)
        norms = squares.sqrt()
        # the same coefficient as torch.nn.utils.clip_grad_norm_: max_norm / (norm + 1e-6), capped at 1
        coef = (max_norm / (norms + 1e-6)).clamp(max=1.0).to(torch.float32)
        for name, owner in self._owners.items():
            grad = params[name].grad
            if grad is not None:
                grad.mul_(torch.where(owner >= 0, coef[owner.clamp(min=0)], 1.0).to(grad.device))
        return norms.to(torch.float32)

    @torch.no_grad()
    def unpack(self) -> list[MetaLSTM]:
        """The S networks as separate :class:`~l2l_lib.model.MetaLSTM` (copies of their blocks)."""
        sizes = (self.n_inputs, *self.hidden_sizes)
        models = []
        for s in range(self.n_seeds):
            model = MetaLSTM(self.hidden_sizes, forget_gate=self.forget_gate, output=self.output,
                             n_inputs=self.n_inputs)
            for k, packed in enumerate(self.layers):
                n_in, n_hidden = sizes[k], sizes[k + 1]
                single = model.layers[k]
                cols_in = slice(s * n_in, (s + 1) * n_in)
                cols_h = slice(s * n_hidden, (s + 1) * n_hidden)
                for gate in ("i", "f", "j", "o"):
                    src = _packed_rows(gate, s, n_hidden, self.n_seeds)
                    dst = _gate_slice(single, gate)
                    single.weight_ih_l0[dst] = packed.weight_ih_l0[src, cols_in]
                    single.weight_hh_l0[dst] = packed.weight_hh_l0[src, cols_h]
                    single.bias_ih_l0[dst] = packed.bias_ih_l0[src]
                    single.bias_hh_l0[dst] = packed.bias_hh_l0[src]
            model.readout.weight[0] = self.readout_weight[s]
            model.readout.bias[0] = self.readout_bias[s]
            models.append(model.eval())
        return models


def _packed_rows(gate: str, seed: int, n_hidden: int, n_seeds: int) -> slice:
    # nn.LSTM stacks gates (i, f, g, o), each over all S*H packed units; seed s owns H of them.
    start = _TORCH_GATE_ORDER[gate] * n_seeds * n_hidden + seed * n_hidden
    return slice(start, start + n_hidden)


def _check_same_recipe(configs: list[TrainConfig]) -> None:
    if not configs:
        raise ValueError("configs must be a non-empty list of TrainConfig")
    first = configs[0]
    for config in configs[1:]:
        differ = [f.name for f in fields(TrainConfig) if f.name != "seed"
                  and getattr(config, f.name) != getattr(first, f.name)]
        if differ:
            raise ValueError(f"packed configs may differ only in seed; these fields differ: {differ}")
    seeds = [c.seed for c in configs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"packed configs need distinct seeds, got {seeds}")
    if first.architecture != "lstm":
        raise ValueError(f"only architecture 'lstm' can be packed, got {first.architecture!r}; "
                         "train_seeds trains other architectures one seed at a time")


def _stack(batches: list, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    inputs = torch.stack([b.inputs for b in batches], dim=2).to(device)  # [B, T, S, 3]
    targets = torch.stack([b.targets for b in batches], dim=2).to(device)  # [B, T, S, 1]
    return inputs, targets


@torch.no_grad()
def _per_seed_mse(model: PackedMetaLSTM, batches: list, device: torch.device) -> list[float]:
    inputs, targets = _stack(batches, device)
    return ((model(inputs) - targets) ** 2).mean(dim=(0, 1, 3)).tolist()


def train_packed(configs: list[TrainConfig], *, checkpoint_dir: str | Path | None = None, progress: bool = True,
                 device: str = "cpu", callback: Callable[[int, list[History]], None] | None = None
                 ) -> list[TrainResult]:
    """Train several seeds of one recipe as one packed computation (see the module docstring).

    Args:
        configs: TrainConfigs equal in every field but ``seed``.
        checkpoint_dir: as in :func:`l2l_lib.train.train`: a packed checkpoint at every evaluation,
            resumed when found (with the same result as an uninterrupted run); the finished packed result
            is kept there.
        progress: a tqdm progress bar.
        device: ``"cpu"``, ``"cuda"``, ``"auto"``.
        callback: ``callback(epoch, histories)`` after each evaluation.

    Returns:
        one :class:`~l2l_lib.train.TrainResult` per config, in order, each with its own network and history;
        ``wall_time`` is the packed run's time divided by the number of seeds (time per seed).
    """
    _check_same_recipe(configs)
    directory = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if directory is not None and (directory / RESULT_FILE).exists():
        return _load_packed(directory, configs)
    with one_thread():
        return _train_packed(configs, directory, progress, resolve_device(device), callback)


def _train_packed(configs: list[TrainConfig], directory: Path | None, progress: bool, dev: torch.device,
                  callback: Callable[[int, list[History]], None] | None) -> list[TrainResult]:
    recipe, n_seeds = configs[0], len(configs)
    model = PackedMetaLSTM([build_model(c) for c in configs]).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.learning_rate)
    generators = [_generator(c.seed, 1) for c in configs]
    histories, start_epoch, elapsed = [History() for _ in configs], 0, 0.0
    bests = [BestWeights() for _ in configs]
    config_dicts = [c.to_dict() for c in configs]
    if directory is not None and (directory / CHECKPOINT_FILE).exists():
        state = safe_load(directory / CHECKPOINT_FILE)
        if state["configs"] != config_dicts:
            raise ValueError(f"{directory} holds a packed run of other configs; use another checkpoint_dir")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        for g, g_state in zip(generators, state["data_generators"]):
            g.set_state(g_state)
        histories = [History.from_dict(h) for h in state["histories"]]
        start_epoch, elapsed = state["epoch"], state["wall_time"]
        bests = [BestWeights.from_dict(b) for b in state["bests"]]
    evaluation = [_evaluation_batches(c) for c in configs]

    bar = tqdm(total=recipe.n_epochs, initial=start_epoch, disable=not progress, mininterval=1.0,
               desc=f"{recipe.family} seeds {[c.seed for c in configs]}", unit="step")
    started = time.perf_counter()
    loss_sums = torch.zeros(n_seeds, dtype=torch.float64)
    loss_count = 0
    for epoch in range(start_epoch, recipe.n_epochs):
        batches = [training_batch(recipe, g, epoch) for g in generators]
        inputs, targets = _stack(batches, dev)
        set_learning_rate(optimizer, recipe, epoch)
        per_seed = ((model(inputs) - targets) ** 2).mean(dim=(0, 1, 3))  # [S]
        optimizer.zero_grad(set_to_none=True)
        per_seed.sum().backward()
        if recipe.grad_clip is not None:
            model.clip_grad_norm_per_seed(recipe.grad_clip)
        optimizer.step()
        loss_sums += per_seed.detach().double().cpu()
        loss_count += 1
        bar.update(1)
        done = epoch + 1
        if done % recipe.eval_every == 0 or done == recipe.n_epochs:
            seconds = elapsed + time.perf_counter() - started
            val = _per_seed_mse(model, [e["val"] for e in evaluation], dev)
            held = (_per_seed_mse(model, [e["held_out"] for e in evaluation], dev) if recipe.held_out
                    else [math.nan] * n_seeds)
            for s, history in enumerate(histories):
                history.epochs.append(done)
                history.train_mse.append(float(loss_sums[s]) / loss_count)
                history.val_mse.append(val[s])
                history.held_out_mse.append(held[s])
                history.seconds.append(seconds / n_seeds)
            if recipe.keep_best and any(v < b.val for v, b in zip(val, bests)):
                with torch.random.fork_rng(devices=[]):  # building the copies draws (discarded) initial weights
                    singles = model.unpack()
                for b, v, single in zip(bests, val, singles):
                    b.offer(v, done, single.state_dict)
            loss_sums.zero_()
            loss_count = 0
            bar.set_postfix(val=f"{min(val):.4f}..{max(val):.4f}")
            if directory is not None:
                atomic_save({"format": 1, "configs": config_dicts, "epoch": done, "model": model.state_dict(),
                             "optimizer": optimizer.state_dict(),
                             "data_generators": [g.get_state() for g in generators],
                             "histories": [h.to_dict() for h in histories], "wall_time": seconds,
                             "bests": [b.to_dict() for b in bests]},
                            directory / CHECKPOINT_FILE)
            if callback is not None:
                callback(done, histories)
    bar.close()
    wall_time = elapsed + time.perf_counter() - started if recipe.n_epochs > start_epoch else elapsed
    models = model.cpu().unpack()
    for single, best, history in zip(models, bests, histories):
        if best.state is not None:
            single.load_state_dict(best.state)
            history.selected_epoch = best.epoch
    results = [TrainResult(config=c, model=m, history=h, wall_time=wall_time / n_seeds)
               for c, m, h in zip(configs, models, histories)]
    if directory is not None:
        atomic_save({"format": 1, "configs": config_dicts, "models": [m.state_dict() for m in models],
                     "histories": [h.to_dict() for h in histories], "wall_time": wall_time}, directory / RESULT_FILE)
        (directory / CHECKPOINT_FILE).unlink(missing_ok=True)
    return results


def _load_packed(directory: Path, configs: list[TrainConfig]) -> list[TrainResult]:
    state = safe_load(directory / RESULT_FILE)
    if state["configs"] != [c.to_dict() for c in configs]:
        raise ValueError(f"{directory} holds a packed run of other configs; use another checkpoint_dir")
    results = []
    for config, weights, history in zip(configs, state["models"], state["histories"]):
        model = build_model(config)
        model.load_state_dict(weights)
        results.append(TrainResult(config=config, model=model.eval(), history=History.from_dict(history),
                                   wall_time=state["wall_time"] / len(configs), from_cache=True))
    return results


def pack_key(configs: list[TrainConfig]) -> str:
    """The cache folder name of a packed run: its configs (in order) and the training code."""
    canonical = json.dumps([c.to_dict() for c in configs], sort_keys=True, default=list)
    digest = hashlib.sha256(f"{code_fingerprint()}|{canonical}".encode()).hexdigest()[:16]
    seeds = [c.seed for c in configs]
    return f"{configs[0].family}-seeds{seeds[0]}-{seeds[-1]}-pack{len(seeds)}-{digest}"


def train_seeds(config: TrainConfig, n_seeds: int, *, pack_size: int = DEFAULT_PACK_SIZE,
                cache_dir: str | Path | None = None, progress: bool = True, device: str = "cpu"
                ) -> list[TrainResult]:
    """Seeds ``config.seed .. config.seed + n_seeds - 1`` of one recipe, trained packed and cached.

    Seeds go in packs of ``pack_size`` (the last pack may be smaller), each trained by
    :func:`train_packed` in its own cache folder (:func:`pack_key`), so calling this again with the same
    arguments (as the chapters do) loads the networks instead of training them. ``pack_size=1`` trains
    one seed at a time.
    """
    if not _is_int(n_seeds) or n_seeds < 1:
        raise ValueError(f"n_seeds must be an integer >= 1, got {n_seeds!r}")
    if not _is_int(pack_size) or pack_size < 1:
        raise ValueError(f"pack_size must be an integer >= 1, got {pack_size!r}")
    configs = [replace(config, seed=config.seed + s) for s in range(n_seeds)]
    if config.architecture != "lstm":  # not packable: one seed at a time, each in its own cache folder
        return [load_or_train(c, cache_dir=cache_dir, progress=progress, device=device) for c in configs]
    root = Path(cache_dir or default_cache_dir())
    results: list[TrainResult] = []
    for start in range(0, n_seeds, pack_size):
        pack = configs[start:start + pack_size]
        results += train_packed(pack, checkpoint_dir=root / pack_key(pack), progress=progress, device=device)
    return results
