"""The one training loop: meta-training of one seed or a pack of seeds, with side jobs as callbacks.

Hochreiter, Younger & Conwell (2001), Sec. 3: the network is trained by gradient descent on whole
sequences, each the example stream of a function drawn from the family, with the squared error of every
prediction as the loss. Differences from the paper, as the student report also made them: Adam instead
of plain gradient descent, minibatches of sequences, the modern LSTM with forget gate by default.

:class:`Trainer` runs that loop for S >= 1 configurations of one recipe that differ only in their seed.
One seed trains its own network; several train as one block-diagonal network
(:class:`~l2l_lib.packed.PackedMetaLSTM`), each seed with its own data, Adam moments and clipping. As in
minGPT's trainer, the jobs beside the optimisation hang on the loop as callbacks of the
``"on_evaluation"`` event: keeping the best weights, writing the checkpoint, the caller's own hook.

One *step* is one Adam step on a minibatch of ``batch_size`` freshly drawn sequences (the paper's
"epochs" count passes over a training set, which this setting does not have). Held-out Boolean functions
are never drawn for training; they are only evaluated.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import nn
from tqdm import tqdm

from .checkpoints import FORMAT_VERSION, atomic_save, safe_load
from .config import TrainConfig, warn_renamed
from .model import MetaLSTM
from .packed import PackedMetaLSTM
from .tasks import Batch, make_batch, table_pool, target_moments

CHECKPOINT_FILE = "checkpoint.pt"
RESULT_FILE = "result.pt"
_RENAMED_HISTORY = {"epochs": "steps", "selected_epoch": "selected_step"}


@dataclass
class History:
    """Learning curves of one seed, one entry per evaluation.

    ``steps``: optimiser steps done; ``train_mse``: mean minibatch training loss since the previous entry
    (squared error, or cross-entropy with ``TrainConfig.loss = "bce"``);
    ``val_mse``: MSE on a fixed batch of fresh sequences of the *training* functions (for continuous
    families: fresh functions), the only number model selection may use; ``held_out_mse``: MSE on a fixed
    batch of the held-out functions (NaN when there are none); ``seconds``: training time so far (a pack's
    time divided by its seeds); ``selected_step``: with ``TrainConfig.keep_best``, the step whose weights
    were kept (None: the last weights).
    """

    steps: list[int] = field(default_factory=list)
    train_mse: list[float] = field(default_factory=list)
    val_mse: list[float] = field(default_factory=list)
    held_out_mse: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    selected_step: int | None = None

    def __init__(self, steps: list[int] | None = None, train_mse: list[float] | None = None,
                 val_mse: list[float] | None = None, held_out_mse: list[float] | None = None,
                 seconds: list[float] | None = None, selected_step: int | None = None, **renamed: Any) -> None:
        # The old names (epochs, selected_epoch) are still accepted, with a warning naming the new ones.
        for old, new in _RENAMED_HISTORY.items():
            if old in renamed:
                warn_renamed(old, new, "History")
        unknown = sorted(set(renamed) - set(_RENAMED_HISTORY))
        if unknown:
            raise TypeError(f"History got unknown fields {unknown}")
        self.steps = list(renamed.get("epochs", steps) or [])
        self.train_mse, self.val_mse = list(train_mse or []), list(val_mse or [])
        self.held_out_mse, self.seconds = list(held_out_mse or []), list(seconds or [])
        self.selected_step = renamed.get("selected_epoch", selected_step)

    @property
    def epochs(self) -> list[int]:
        """Deprecated name of :attr:`steps`."""
        warn_renamed("epochs", "steps", "History")
        return self.steps

    @property
    def selected_epoch(self) -> int | None:
        """Deprecated name of :attr:`selected_step`."""
        warn_renamed("selected_epoch", "selected_step", "History")
        return self.selected_step

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "History":
        """Inverse of :meth:`to_dict` (also reads the old names ``epochs`` and ``selected_epoch``)."""
        data = {_RENAMED_HISTORY.get(k, k): v for k, v in data.items()}
        return cls(**data)


class BestWeights:
    """The weights of the evaluation with the lowest validation MSE so far (``TrainConfig.keep_best``).

    Model selection looks at ``History.val_mse`` only: fresh sequences of the training functions (for
    continuous families, fresh functions), never held-out functions.
    """

    def __init__(self) -> None:
        self.val, self.step, self.state = math.inf, None, None

    def offer(self, val: float, step: int, state: Callable[[], dict[str, torch.Tensor]]) -> None:
        """Keep ``state()`` (called only when needed) if ``val`` is the lowest seen."""
        if val < self.val:
            self.val, self.step = val, step
            self.state = {k: v.detach().cpu().clone() for k, v in state().items()}

    def to_dict(self) -> dict[str, Any]:
        return {"val": self.val, "step": self.step, "state": self.state}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BestWeights":
        best = cls()
        best.val, best.step, best.state = data["val"], data["step"], data["state"]
        return best


@dataclass
class TrainResult:
    """A trained network and how it got there; ``from_cache`` tells whether it was loaded, not trained."""

    config: TrainConfig
    model: nn.Module
    history: History
    wall_time: float
    from_cache: bool = False


def learning_rate_at(config: TrainConfig, step: int) -> float:
    """Adam's step size for step ``step`` (0-based): constant, then a half cosine down to zero over the
    last ``config.decay_fraction`` of training.

    Why a decay: held-out Boolean error wobbles at a constant step size (a seed at 0.006 can climb back to
    0.2, benchmarks/results/boolean16_recipe_search.md); a step size that ends at zero lets each run settle.
    """
    decay_steps = round(config.decay_fraction * config.n_steps)
    start = config.n_steps - decay_steps
    if decay_steps == 0 or step < start:
        return config.learning_rate
    return config.learning_rate * 0.5 * (1 + math.cos(math.pi * (step - start) / decay_steps))


def build_model(config: TrainConfig) -> nn.Module:
    """The untrained network of ``config``, initialised from ``config.seed`` (global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        if config.architecture == "paper2001":
            from .paper_net import PaperQuadraticNet  # only runs that use it depend on it (code_modules)
            return PaperQuadraticNet()
        if config.architecture == "meta_sgd":
            from .meta_gd import MetaSGD
            return MetaSGD(config.hidden_sizes[0])
        moments = target_moments(config.family, config.quadratic_map) if config.target_coding == "standardised" else None
        if config.architecture == "transformer":
            from .transformer import MetaTransformer
            return MetaTransformer(width=config.hidden_sizes[0], n_layers=len(config.hidden_sizes),
                                   n_heads=config.n_heads, positions=config.positions, max_len=config.seq_len,
                                   output=config.output, target_moments=moments)
        return MetaLSTM(config.hidden_sizes, forget_gate=config.forget_gate, output=config.output,
                        target_moments=moments)


def data_generator(seed: int, stream: int) -> torch.Generator:
    """The random stream ``stream`` of a seed: 1 training data, 2 validation batch, 3 held-out batch.

    Separate streams, so that evaluating never shifts the training data and a resumed run draws exactly
    what an uninterrupted one would.
    """
    return torch.Generator().manual_seed(seed * 7919 + stream)


@lru_cache(maxsize=64)
def run_table_pool(config: TrainConfig) -> torch.Tensor | None:
    """The finite pool of tables of a run with ``config.table_pool`` (None without one): drawn from the run's
    own stream 4, so that K tables of seed s are the same whatever else the run does."""
    if config.table_pool is None:
        return None
    return table_pool(config.table_pool, config.seed * 7919 + 4, config.table_beta)


def training_batch(config: TrainConfig, generator: torch.Generator, step: int = 0) -> Batch:
    """The training minibatch of step ``step`` (training functions only), drawn from ``generator``.

    With ``config.target_noise`` the fed-back targets ``y_{t-1}`` (t >= 1) get Gaussian noise, drawn after the
    batch from the same generator; the targets to predict stay clean.
    """
    tables = config.table_fraction if step < config.tables_until * config.n_steps else 0.0
    batch = make_batch(config.family, config.batch_size, config.seq_len, functions=config.train_functions,
                       switch_every=config.switch_every, generator=generator,
                       quadratic_map=config.quadratic_map, table_fraction=tables,
                       table_pool=run_table_pool(config), table_beta=config.table_beta)
    if config.target_noise == 0:
        return batch
    noise = config.target_noise * torch.randn(batch.batch_size, batch.seq_len - 1, generator=generator)
    inputs = batch.inputs.clone()
    inputs[:, 1:, 2] += noise
    return replace(batch, inputs=inputs)


def evaluation_batches(config: TrainConfig) -> dict[str, Batch]:
    """The fixed batches every evaluation of a run scores: ``"val"`` and, with held-out functions, ``"held_out"``."""
    batches = {"val": make_batch(config.family, config.eval_sequences, config.seq_len,
                                 functions=config.train_functions, switch_every=config.switch_every,
                                 generator=data_generator(config.seed, 2), quadratic_map=config.quadratic_map)}
    if config.held_out:
        batches["held_out"] = make_batch(config.family, config.eval_sequences, config.seq_len,
                                         functions=config.held_out, generator=data_generator(config.seed, 3))
    return batches


def resolve_device(device: str) -> torch.device:
    """``"auto"`` picks a GPU when there is one; anything else is passed to ``torch.device``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the enclosed training on one CPU thread, then restore the thread count.

    The networks are tiny: a second thread rarely speeds a step up, and when the other core is busy
    (two builds, a test run beside a build) two threads made steps 3x slower on average with stalls of
    over a second (benchmarks/). One thread per process, one process per core.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def step_losses(outputs: torch.Tensor, targets: torch.Tensor, loss: str, mean_dims: tuple[int, ...]) -> torch.Tensor:
    """The training loss of ``outputs`` against ``targets`` (both in [0, 1]), averaged over ``mean_dims``.

    ``"mse"``: the paper's squared error. ``"bce"``: binary cross-entropy with (possibly real-valued) targets;
    its minimiser is the same posterior mean as the squared error's, but its gradient does not vanish as a
    sigmoid output saturates towards a 0/1 target, so late, confident predictions keep sharpening. Evaluation
    is always squared error.
    """
    if loss == "mse":
        return ((outputs - targets) ** 2).mean(dim=mean_dims)
    clamped = outputs.clamp(1e-6, 1 - 1e-6)
    return -(targets * torch.log(clamped) + (1 - targets) * torch.log1p(-clamped)).mean(dim=mean_dims)


class _OneNetwork:
    """One seed: its own network, the loss and clipping exactly as for a lone ``nn.Module``."""

    def __init__(self, config: TrainConfig, device: torch.device) -> None:
        self.model = build_model(config).to(device)
        self.device = device

    def losses(self, batches: list[Batch], loss: str = "mse") -> torch.Tensor:
        out = self.model(batches[0].inputs.to(self.device))
        return step_losses(out, batches[0].targets.to(self.device), loss, mean_dims=(0, 1, 2)).reshape(1)

    @torch.no_grad()
    def mse(self, batches: list[Batch]) -> list[float]:
        return [float(self.losses(batches)[0])]

    def clip(self, max_norm: float) -> None:
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)

    def networks(self) -> list[nn.Module]:
        return [self.model]


class _PackOfNetworks:
    """S seeds as one block-diagonal network (:mod:`l2l_lib.packed`): the sum of the seeds' losses."""

    def __init__(self, configs: list[TrainConfig], device: torch.device) -> None:
        self.model = PackedMetaLSTM([build_model(c) for c in configs]).to(device)
        self.device = device

    def losses(self, batches: list[Batch], loss: str = "mse") -> torch.Tensor:
        inputs = torch.stack([b.inputs for b in batches], dim=2).to(self.device)  # [B, T, S, 3]
        targets = torch.stack([b.targets for b in batches], dim=2).to(self.device)  # [B, T, S, 1]
        return step_losses(self.model(inputs), targets, loss, mean_dims=(0, 1, 3))  # [S]

    @torch.no_grad()
    def mse(self, batches: list[Batch]) -> list[float]:
        return self.losses(batches).tolist()

    def clip(self, max_norm: float) -> None:
        self.model.clip_grad_norm_per_seed(max_norm)

    def networks(self) -> list[nn.Module]:
        with torch.random.fork_rng(devices=[]):  # building the copies draws (discarded) initial weights
            return self.model.unpack()


def check_one_recipe(configs: list[TrainConfig]) -> None:
    """Configs trained together must differ only in their (distinct) seeds; only LSTMs pack."""
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
    if len(configs) > 1 and first.architecture != "lstm":
        raise ValueError(f"only architecture 'lstm' can be packed, got {first.architecture!r}; "
                         "train_seeds trains other architectures one seed at a time")


class Trainer:
    """Meta-train the seeds of one recipe (see the module docstring).

    Args:
        configs: TrainConfigs equal in every field but ``seed``; one config trains one network.
        checkpoint_dir: if given, a checkpoint is written there (atomically) at every evaluation, a run
            found there is resumed (with the same result as an uninterrupted one), and the finished result
            is stored there. The folder belongs to these configs: others raise ``ValueError``.
        progress: a tqdm progress bar (to stderr).
        device: ``"cpu"``, ``"cuda"``, ``"auto"``...; results are bit-reproducible on CPU only.

    Callbacks: ``add_callback("on_evaluation", fn)``; ``fn(trainer)`` runs after each evaluation, when
    ``trainer.step`` and ``trainer.histories`` are up to date. An exception there stops training; the
    checkpoint written just before stays valid.
    """

    def __init__(self, configs: list[TrainConfig], *, checkpoint_dir: str | Path | None = None,
                 progress: bool = True, device: str = "cpu") -> None:
        check_one_recipe(configs)
        self.configs, self.recipe = list(configs), configs[0]
        self.directory = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.progress, self.device = progress, resolve_device(device)
        self.callbacks: dict[str, list[Callable[["Trainer"], None]]] = defaultdict(list)
        if self.recipe.keep_best:
            self.add_callback("on_evaluation", Trainer._offer_best)
        if self.directory is not None:
            self.add_callback("on_evaluation", Trainer._write_checkpoint)

    def add_callback(self, event: str, callback: Callable[["Trainer"], None]) -> None:
        """Run ``callback(trainer)`` at every ``event`` (only ``"on_evaluation"`` exists)."""
        if event != "on_evaluation":
            raise ValueError(f"event must be 'on_evaluation'; got {event!r}")
        self.callbacks[event].append(callback)

    def _trigger(self, event: str) -> None:
        for callback in self.callbacks[event]:
            callback(self)

    def run(self) -> list[TrainResult]:
        """Train (or resume, or load when finished) and return one :class:`TrainResult` per config."""
        if self.directory is not None and (self.directory / RESULT_FILE).exists():
            return load_results(self.directory, self.configs)
        with one_thread():
            return self._run()

    def _start(self) -> None:
        n = len(self.configs)
        self.net = _OneNetwork(self.recipe, self.device) if n == 1 else _PackOfNetworks(self.configs, self.device)
        optimizer = torch.optim.Adam if self.recipe.optimizer == "adam" else torch.optim.SGD
        self.optimizer = optimizer(self.net.model.parameters(), lr=self.recipe.learning_rate)
        self.generators = [data_generator(c.seed, 1) for c in self.configs]
        self.histories, self.bests = [History() for _ in range(n)], [BestWeights() for _ in range(n)]
        self.step, self.elapsed = 0, 0.0
        if self.directory is not None and (self.directory / CHECKPOINT_FILE).exists():
            state = safe_load(self.directory / CHECKPOINT_FILE)
            _check_same_configs(state["configs"], self.configs, self.directory)
            self.net.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            for generator, generator_state in zip(self.generators, state["data_generators"]):
                generator.set_state(generator_state)
            self.histories = [History.from_dict(h) for h in state["histories"]]
            self.bests = [BestWeights.from_dict(b) for b in state["bests"]]
            self.step, self.elapsed = state["step"], state["wall_time"]

    def _run(self) -> list[TrainResult]:
        self._start()
        recipe, net, n = self.recipe, self.net, len(self.configs)
        evaluation = [evaluation_batches(c) for c in self.configs]
        seeds = [c.seed for c in self.configs]
        bar = tqdm(total=recipe.n_steps, initial=self.step, disable=not self.progress, mininterval=1.0,
                   desc=f"{recipe.family} seed{'s' if n > 1 else ''} {seeds if n > 1 else seeds[0]}", unit="step")
        started, resumed_at = time.perf_counter(), self.step
        loss_sums, loss_count = torch.zeros(n, dtype=torch.float64), 0
        net.model.train()
        for step in range(resumed_at, recipe.n_steps):
            # each seed's own config: a run's finite table pool is drawn from its own seed
            batches = [training_batch(c, g, step) for c, g in zip(self.configs, self.generators)]
            for group in self.optimizer.param_groups:
                group["lr"] = learning_rate_at(recipe, step)
            losses = net.losses(batches, recipe.loss)
            self.optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()
            if recipe.grad_clip is not None:
                net.clip(recipe.grad_clip)
            self.optimizer.step()
            loss_sums += losses.detach().double().cpu()
            loss_count += 1
            bar.update(1)
            self.step = step + 1
            if self.step % recipe.eval_every == 0 or self.step == recipe.n_steps:
                self.seconds = self.elapsed + time.perf_counter() - started
                val = net.mse([e["val"] for e in evaluation])
                held = net.mse([e["held_out"] for e in evaluation]) if recipe.held_out else [math.nan] * n
                for s, history in enumerate(self.histories):
                    history.steps.append(self.step)
                    history.train_mse.append(float(loss_sums[s]) / loss_count)
                    history.val_mse.append(val[s])
                    history.held_out_mse.append(held[s])
                    history.seconds.append(self.seconds / n)
                loss_sums.zero_()
                loss_count = 0
                bar.set_postfix(val=f"{min(val):.4f}..{max(val):.4f}" if n > 1 else f"{val[0]:.4f}")
                self._trigger("on_evaluation")
        bar.close()
        wall_time = self.elapsed + time.perf_counter() - started if recipe.n_steps > resumed_at else self.elapsed
        return self._finish(wall_time)

    def _offer_best(self) -> None:
        latest = [h.val_mse[-1] for h in self.histories]
        if any(v < b.val for v, b in zip(latest, self.bests)):
            for best, val, network in zip(self.bests, latest, self.net.networks()):
                best.offer(val, self.step, network.state_dict)

    def _write_checkpoint(self) -> None:
        atomic_save({"format": FORMAT_VERSION, "configs": [c.to_dict() for c in self.configs], "step": self.step,
                     "model": self.net.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                     "data_generators": [g.get_state() for g in self.generators],
                     "histories": [h.to_dict() for h in self.histories], "wall_time": self.seconds,
                     "bests": [b.to_dict() for b in self.bests]}, self.directory / CHECKPOINT_FILE)

    def _finish(self, wall_time: float) -> list[TrainResult]:
        self.net.model.cpu()
        networks = self.net.networks()
        for network, best, history in zip(networks, self.bests, self.histories):
            if best.state is not None:
                network.load_state_dict(best.state)
                history.selected_step = best.step
            network.eval()
        n = len(self.configs)
        results = [TrainResult(config=c, model=m, history=h, wall_time=wall_time / n)
                   for c, m, h in zip(self.configs, networks, self.histories)]
        if self.directory is not None:
            atomic_save({"format": FORMAT_VERSION, "configs": [c.to_dict() for c in self.configs],
                         "models": [m.state_dict() for m in networks],
                         "histories": [h.to_dict() for h in self.histories], "wall_time": wall_time},
                        self.directory / RESULT_FILE)
            (self.directory / CHECKPOINT_FILE).unlink(missing_ok=True)
        return results


def _check_same_configs(saved: list[dict[str, Any]], configs: list[TrainConfig], directory: Path) -> None:
    if [TrainConfig.from_dict(d) for d in saved] != list(configs):
        raise ValueError(f"{directory} holds a run of other TrainConfigs (seeds {[d.get('seed') for d in saved]}); "
                         "use another checkpoint_dir for these configs")


def load_results(directory: str | Path, expected: list[TrainConfig] | None = None) -> list[TrainResult]:
    """The finished run stored in ``directory`` by :class:`Trainer` (``weights_only`` loading: no code runs).

    Raises:
        ValueError: if ``expected`` is given and the folder holds other configs, or the file's format is
            not :data:`~l2l_lib.checkpoints.FORMAT_VERSION`.
    """
    directory = Path(directory)
    state = safe_load(directory / RESULT_FILE)
    if state.get("format") != FORMAT_VERSION:
        raise ValueError(f"{directory / RESULT_FILE} has format {state.get('format')!r}, this code reads "
                         f"format {FORMAT_VERSION}; delete the folder to retrain")
    configs = [TrainConfig.from_dict(d) for d in state["configs"]]
    if expected is not None:
        _check_same_configs(state["configs"], expected, directory)
    results = []
    for config, weights, history in zip(configs, state["models"], state["histories"]):
        model = build_model(config)
        model.load_state_dict(weights)
        results.append(TrainResult(config=config, model=model.eval(), history=History.from_dict(history),
                                   wall_time=state["wall_time"] / len(configs), from_cache=True))
    return results
