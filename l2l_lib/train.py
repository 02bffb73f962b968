"""Meta-training: gradient descent on many functions teaches a fixed-weight LSTM to learn.

Hochreiter, Younger & Conwell (2001), Sec. 3: the network is trained by gradient descent on whole
sequences, each the example stream of a function drawn from the family, with the squared error of every
prediction as the loss. Differences from the paper, as the student report also made them: Adam instead
of plain gradient descent, minibatches of sequences, the modern LSTM with forget gate by default.

One *epoch* here is one Adam step on a minibatch of ``batch_size`` freshly drawn sequences. Held-out
Boolean functions are never drawn for training; they are only evaluated.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from tqdm import tqdm

from .checkpoints import atomic_save, config_key, default_cache_dir, safe_load
from .model import OUTPUTS, MetaLSTM
from .tasks import (BOOLEAN_FAMILIES, DEFAULT_QUADRATIC_MAP, FAMILIES, QUADRATIC_MAPS, family_functions,
                    make_batch)

CHECKPOINT_FILE = "checkpoint.pt"
ARCHITECTURES = ("lstm", "paper2001")
RESULT_FILE = "result.pt"


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; validated on construction.

    Attributes:
        family: task family, one of :data:`l2l_lib.tasks.FAMILIES`.
        held_out: Boolean function ids never trained on (evaluated only); empty for continuous families.
        architecture: ``"lstm"``: :class:`~l2l_lib.model.MetaLSTM` (stacked LSTM layers); ``"paper2001"``:
            :class:`~l2l_lib.paper_net.PaperQuadraticNet`, our reconstruction of the paper's quadratic network
            (12 original LSTM cells without forget gate, a 40-unit hidden layer fed back), which needs
            ``hidden_sizes=(12, 40)`` and ``forget_gate=False``; it cannot be packed.
        hidden_sizes: LSTM units per layer.
        forget_gate: modern LSTM (True) or the original 1997/2001 cell (False).
        output: read-out squashing, ``"sigmoid"`` or ``"linear"``.
        batch_size: sequences per Adam step.
        seq_len: steps per training sequence.
        switch_every: steps between unannounced function switches inside a training sequence, or None.
        n_epochs: Adam steps.
        learning_rate: Adam's step size.
        seed: initialisation and data seed; the same seed gives the same run on CPU.
        grad_clip: clip the gradient's global norm to this value, or None for no clipping.
        quadratic_map: how quadratic outputs are scaled into [0.2, 0.8] (see :mod:`l2l_lib.tasks`).
        table_fraction: Boolean families: the fraction of training streams that are random real-valued
            lookup tables (:func:`l2l_lib.tasks.make_batch`), an auxiliary distribution not in the paper;
            evaluation always uses Boolean functions.
        tables_until: tables are drawn only in the first ``tables_until`` fraction of ``n_epochs``; after
            that training sees Boolean functions only (a curriculum; 1: tables throughout).
        decay_fraction: the last fraction of ``n_epochs`` over which the learning rate decays to zero on a
            half cosine (0: a constant step size, as in the paper); see :func:`learning_rate_at`.
        keep_best: return the weights of the evaluation with the lowest ``val_mse`` (training functions
            only, never held-out ones) instead of the last weights; see :attr:`History.selected_epoch`.
        eval_every: Adam steps between evaluations, history points and checkpoints.
        eval_sequences: sequences in each fixed evaluation batch.
    """

    family: str = "boolean16"
    held_out: tuple[int, ...] = ()
    architecture: str = "lstm"
    hidden_sizes: tuple[int, ...] = (6,)
    forget_gate: bool = True
    output: str = "sigmoid"
    batch_size: int = 16
    seq_len: int = 256
    switch_every: int | None = None
    n_epochs: int = 20_000
    learning_rate: float = 1e-2
    seed: int = 0
    grad_clip: float | None = None
    quadratic_map: str = DEFAULT_QUADRATIC_MAP
    table_fraction: float = 0.0
    tables_until: float = 1.0
    decay_fraction: float = 0.0
    keep_best: bool = False
    eval_every: int = 250
    eval_sequences: int = 256

    def __post_init__(self) -> None:
        # Accept lists for the tuple fields (they arrive as lists from papermill parameters and JSON).
        object.__setattr__(self, "held_out", tuple(self.held_out))
        object.__setattr__(self, "hidden_sizes", tuple(self.hidden_sizes))
        _check(self.family in FAMILIES, "family", f"one of {FAMILIES}", self.family)
        if self.family in BOOLEAN_FAMILIES:
            allowed = family_functions(self.family)
            _check(all(k in allowed for k in self.held_out) and len(set(self.held_out)) == len(self.held_out)
                   and len(self.held_out) < len(allowed), "held_out",
                   f"distinct ids from {allowed}, leaving at least one function to train on", self.held_out)
        else:
            _check(self.held_out == (), "held_out", "() for a continuous family (every function is new)",
                   self.held_out)
        _check(len(self.hidden_sizes) > 0 and all(_is_int(h) and h >= 1 for h in self.hidden_sizes),
               "hidden_sizes", "a non-empty tuple of integers >= 1", self.hidden_sizes)
        _check(isinstance(self.forget_gate, bool), "forget_gate", "True or False", self.forget_gate)
        _check(self.architecture in ARCHITECTURES, "architecture", f"one of {ARCHITECTURES}", self.architecture)
        if self.architecture == "paper2001":
            _check(self.hidden_sizes == (12, 40) and self.forget_gate is False and self.output == "sigmoid",
                   "architecture", "'lstm', or 'paper2001' with hidden_sizes=(12, 40), forget_gate=False and "
                   "output='sigmoid' (the 2001 network's fixed shape)", self.architecture)
        _check(isinstance(self.keep_best, bool), "keep_best", "True or False", self.keep_best)
        _check(self.output in OUTPUTS, "output", f"one of {OUTPUTS}", self.output)
        for name in ("batch_size", "seq_len", "eval_every", "eval_sequences"):
            _check(_is_int(getattr(self, name)) and getattr(self, name) >= 1, name, "an integer >= 1",
                   getattr(self, name))
        _check(_is_int(self.n_epochs) and self.n_epochs >= 0, "n_epochs", "an integer >= 0", self.n_epochs)
        _check(self.switch_every is None or (_is_int(self.switch_every) and 1 <= self.switch_every <= self.seq_len),
               "switch_every", f"None or an integer in 1..seq_len ({self.seq_len})", self.switch_every)
        _check(_is_number(self.learning_rate) and 0 < self.learning_rate <= 1, "learning_rate",
               "a number in (0, 1]", self.learning_rate)
        _check(_is_int(self.seed) and self.seed >= 0, "seed", "an integer >= 0", self.seed)
        _check(self.grad_clip is None or (_is_number(self.grad_clip) and self.grad_clip > 0), "grad_clip",
               "None or a number > 0", self.grad_clip)
        _check(self.quadratic_map in QUADRATIC_MAPS, "quadratic_map", f"one of {QUADRATIC_MAPS}", self.quadratic_map)
        _check(_is_number(self.table_fraction) and 0 <= self.table_fraction <= 1
               and (self.table_fraction == 0 or self.family in BOOLEAN_FAMILIES), "table_fraction",
               "a number in [0, 1], and 0 for continuous families", self.table_fraction)
        _check(_is_number(self.tables_until) and 0 <= self.tables_until <= 1, "tables_until",
               "a number in [0, 1]", self.tables_until)
        _check(_is_number(self.decay_fraction) and 0 <= self.decay_fraction <= 1, "decay_fraction",
               "a number in [0, 1]", self.decay_fraction)

    @property
    def code_modules(self) -> tuple[str, ...]:
        """Modules beyond the training code that this run's cache key must cover (its architecture's)."""
        return ("paper_net.py",) if self.architecture == "paper2001" else ()

    @property
    def train_functions(self) -> tuple[int, ...] | None:
        """Boolean ids trained on (the family minus ``held_out``); None for continuous families."""
        if self.family not in BOOLEAN_FAMILIES:
            return None
        return tuple(k for k in family_functions(self.family) if k not in self.held_out)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (what checkpoints store and the cache key hashes)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError`` naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {unknown}; allowed: {sorted(known)}")
        return cls(**data)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> "TrainConfig":
        """The book's configuration of an experiment, optionally with some fields replaced.

        The presets hold the best recipe the book currently reports; the chapters' defaults are these.
        Boolean-16 and Boolean-14: the Boolean chapter's recipe (book/boolean.md), the paper's 6 units and
        sequence lengths, held-out functions including XOR and XNOR (Boolean-16) or three of the fourteen
        (Boolean-14), plus random real-valued tables in half the training streams, a decaying step size,
        clipping and keeping the weights that do best on training functions (chosen in benchmarks/results/boolean16_recipe_search.md). Semi-linear and
        quadratic: the settings a throw-away prototype on this machine found to work
        (shared/notes/prototype-findings.md), Adam with lr 1e-2 and minibatches of 16.

        Args:
            name: one of ``"boolean16"``, ``"boolean14"``, ``"semilinear"``, ``"quadratic"``.
            overrides: fields to change, e.g. ``seed=3``.
        """
        if name not in PRESETS:
            raise ValueError(f"preset name must be one of {tuple(PRESETS)}, got {name!r}")
        return replace(PRESETS[name], **overrides)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(ok: bool, name: str, allowed: str, value: object) -> None:
    if not ok:
        raise ValueError(f"TrainConfig.{name} must be {allowed}; got {value!r}")


PRESETS: dict[str, TrainConfig] = {
    # Paper: 6 units, sequences of 256; the report and the prototype hold out 3 functions incl. XOR/XNOR.
    # Tables, decay and clipping: the Boolean chapter's recipe (the paper's recipe is lr 1e-2 without them).
    "boolean16": TrainConfig(family="boolean16", held_out=(0, 6, 9), hidden_sizes=(6,), seq_len=256,
                             batch_size=16, learning_rate=2e-2, n_epochs=30_000, table_fraction=0.5,
                             decay_fraction=0.5, grad_clip=1.0, keep_best=True, eval_every=500),
    # Paper: sequences of 64; the report trains on 11 of the 14 and holds out 3.
    "boolean14": TrainConfig(family="boolean14", held_out=(0, 5, 10), hidden_sizes=(6,), seq_len=64,
                             batch_size=16, learning_rate=2e-2, n_epochs=30_000, table_fraction=0.5,
                             decay_fraction=0.5, grad_clip=1.0, keep_best=True, eval_every=500),
    # Paper: 6 units, sequences of 1000, 5000 epochs; the prototype reached 0.0006 after ~30k steps.
    "semilinear": TrainConfig(family="semilinear", hidden_sizes=(6,), seq_len=1000, batch_size=16,
                              learning_rate=1e-2, n_epochs=30_000),
    # Report: a 6-unit LSTM layer feeding a 40-unit LSTM layer, sequences of 1000.
    "quadratic": TrainConfig(family="quadratic", hidden_sizes=(6, 40), seq_len=1000, batch_size=16,
                             learning_rate=1e-2, n_epochs=10_000),
}


@dataclass
class History:
    """Learning curves, one entry per evaluation.

    ``train_mse``: mean minibatch loss since the previous entry; ``val_mse``: MSE on a fixed batch of
    fresh sequences of the *training* functions (for continuous families: fresh functions), the only
    number model selection may use; ``held_out_mse``: MSE on a fixed batch of the held-out functions
    (NaN when there are none); ``seconds``: training time so far; ``selected_epoch``: with
    ``TrainConfig.keep_best``, the epoch whose weights were kept (None: the last weights).
    """

    epochs: list[int] = field(default_factory=list)
    train_mse: list[float] = field(default_factory=list)
    val_mse: list[float] = field(default_factory=list)
    held_out_mse: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    selected_epoch: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "History":
        return cls(**{k: v if k == "selected_epoch" else list(v) for k, v in data.items()})


class BestWeights:
    """The weights of the evaluation with the lowest validation MSE so far (``TrainConfig.keep_best``).

    Model selection looks at ``History.val_mse`` only: fresh sequences of the training functions (for
    continuous families, fresh functions), never held-out functions.
    """

    def __init__(self) -> None:
        self.val, self.epoch, self.state = math.inf, None, None

    def offer(self, val: float, epoch: int, state: Callable[[], dict[str, torch.Tensor]]) -> None:
        """Keep ``state()`` (called only when needed) if ``val`` is the lowest seen."""
        if val < self.val:
            self.val, self.epoch = val, epoch
            self.state = {k: v.detach().cpu().clone() for k, v in state().items()}

    def to_dict(self) -> dict[str, Any]:
        return {"val": self.val, "epoch": self.epoch, "state": self.state}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BestWeights":
        best = cls()
        best.val, best.epoch, best.state = data["val"], data["epoch"], data["state"]
        return best


@dataclass
class TrainResult:
    """A trained network and how it got there; ``from_cache`` tells whether it was loaded, not trained."""

    config: TrainConfig
    model: MetaLSTM
    history: History
    wall_time: float
    from_cache: bool = False


def learning_rate_at(config: TrainConfig, epoch: int) -> float:
    """Adam's step size for step ``epoch`` (0-based): constant, then a half cosine down to zero over the
    last ``config.decay_fraction`` of training.

    Why a decay: held-out Boolean error wobbles at a constant step size (a seed at 0.006 can climb back to
    0.2, benchmarks/results/boolean16_recipe_search.md); a step size that ends at zero lets each run settle.
    """
    decay_steps = round(config.decay_fraction * config.n_epochs)
    start = config.n_epochs - decay_steps
    if decay_steps == 0 or epoch < start:
        return config.learning_rate
    return config.learning_rate * 0.5 * (1 + math.cos(math.pi * (epoch - start) / decay_steps))


def set_learning_rate(optimizer: torch.optim.Optimizer, config: TrainConfig, epoch: int) -> None:
    """Set every parameter group of ``optimizer`` to :func:`learning_rate_at` ``(config, epoch)``."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate_at(config, epoch)


def build_model(config: TrainConfig) -> torch.nn.Module:
    """The untrained network of ``config``, initialised from ``config.seed`` (global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        if config.architecture == "paper2001":
            from .paper_net import PaperQuadraticNet  # only runs that use it depend on it (code_modules)
            return PaperQuadraticNet()
        return MetaLSTM(config.hidden_sizes, forget_gate=config.forget_gate, output=config.output)


def _generator(seed: int, stream: int) -> torch.Generator:
    # Separate streams for training data and the two evaluation batches, so evaluating never shifts the
    # training data and a resumed run draws exactly what an uninterrupted one would.
    return torch.Generator().manual_seed(seed * 7919 + stream)


def training_batch(config: TrainConfig, generator: torch.Generator, epoch: int = 0) -> Any:
    """The training minibatch of step ``epoch`` (training functions only), drawn from ``generator``."""
    tables = config.table_fraction if epoch < config.tables_until * config.n_epochs else 0.0
    return make_batch(config.family, config.batch_size, config.seq_len, functions=config.train_functions,
                      switch_every=config.switch_every, generator=generator,
                      quadratic_map=config.quadratic_map, table_fraction=tables)


def _evaluation_batches(config: TrainConfig) -> dict[str, Any]:
    batches: dict[str, Any] = {"val": make_batch(config.family, config.eval_sequences, config.seq_len,
                                                 functions=config.train_functions,
                                                 switch_every=config.switch_every, generator=_generator(config.seed, 2),
                                                 quadratic_map=config.quadratic_map)}
    if config.held_out:
        batches["held_out"] = make_batch(config.family, config.eval_sequences, config.seq_len,
                                         functions=config.held_out, generator=_generator(config.seed, 3))
    return batches


@torch.no_grad()
def _mse(model: MetaLSTM, batch: Any, device: torch.device) -> float:
    return float(torch.mean((model(batch.inputs.to(device)) - batch.targets.to(device)) ** 2))


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


def train(config: TrainConfig, *, checkpoint_dir: str | Path | None = None, progress: bool = True,
          device: str = "cpu", callback: Callable[[int, History], None] | None = None) -> TrainResult:
    """Meta-train a :class:`MetaLSTM` as ``config`` says.

    Args:
        config: the run.
        checkpoint_dir: if given, a checkpoint is written there (atomically) at every evaluation, a run
            found there is resumed, and the finished result is stored there; a finished run found there
            is returned without training. The folder belongs to one config: another config raises.
        progress: show a tqdm progress bar (to stderr).
        device: ``"cpu"``, ``"cuda"``, ``"auto"``...; results are bit-reproducible on CPU only.
        callback: called as ``callback(epoch, history)`` after each evaluation (an exception raised there
            stops training; the checkpoint written just before stays valid).

    Returns:
        a :class:`TrainResult` whose ``history`` has one entry per ``config.eval_every`` steps and one at
        the end, and whose ``wall_time`` is the total training time in seconds (over resumes).
    """
    directory = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if directory is not None and (directory / RESULT_FILE).exists():
        return load_result(directory, expected=config)
    with one_thread():
        return _train(config, directory, progress, resolve_device(device), callback)


def _train(config: TrainConfig, directory: Path | None, progress: bool, dev: torch.device,
           callback: Callable[[int, History], None] | None) -> TrainResult:
    model = build_model(config).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    data_generator = _generator(config.seed, 1)
    history, start_epoch, elapsed, best = History(), 0, 0.0, BestWeights()
    if directory is not None and (directory / CHECKPOINT_FILE).exists():
        state = safe_load(directory / CHECKPOINT_FILE)
        _check_same_config(state["config"], config, directory)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        data_generator.set_state(state["data_generator"])
        history, start_epoch, elapsed = History.from_dict(state["history"]), state["epoch"], state["wall_time"]
        best = BestWeights.from_dict(state["best"])
    evaluation = _evaluation_batches(config)

    bar = tqdm(total=config.n_epochs, initial=start_epoch, disable=not progress, mininterval=1.0,
               desc=f"{config.family} seed {config.seed}", unit="step")
    started, loss_sum, loss_count = time.perf_counter(), 0.0, 0
    model.train()
    for epoch in range(start_epoch, config.n_epochs):
        batch = training_batch(config, data_generator, epoch)
        set_learning_rate(optimizer, config, epoch)
        loss = torch.mean((model(batch.inputs.to(dev)) - batch.targets.to(dev)) ** 2)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        loss_sum, loss_count = loss_sum + loss.item(), loss_count + 1
        bar.update(1)
        done = epoch + 1
        if done % config.eval_every == 0 or done == config.n_epochs:
            seconds = elapsed + time.perf_counter() - started
            history.epochs.append(done)
            history.train_mse.append(loss_sum / loss_count)
            history.val_mse.append(_mse(model, evaluation["val"], dev))
            history.held_out_mse.append(_mse(model, evaluation["held_out"], dev) if "held_out" in evaluation
                                        else math.nan)
            history.seconds.append(seconds)
            if config.keep_best:
                best.offer(history.val_mse[-1], done, model.state_dict)
            loss_sum, loss_count = 0.0, 0
            bar.set_postfix(val=f"{history.val_mse[-1]:.4f}", held_out=f"{history.held_out_mse[-1]:.4f}")
            if directory is not None:
                atomic_save({"format": 1, "config": config.to_dict(), "epoch": done, "model": model.state_dict(),
                             "optimizer": optimizer.state_dict(), "data_generator": data_generator.get_state(),
                             "history": history.to_dict(), "wall_time": seconds, "best": best.to_dict()},
                            directory / CHECKPOINT_FILE)
            if callback is not None:
                callback(done, history)
    bar.close()
    wall_time = elapsed + time.perf_counter() - started if config.n_epochs > start_epoch else elapsed
    if best.state is not None:
        model.load_state_dict(best.state)
        history.selected_epoch = best.epoch
    model.eval()
    result = TrainResult(config=config, model=model.cpu(), history=history, wall_time=wall_time)
    if directory is not None:
        atomic_save({"format": 1, "config": config.to_dict(), "model": result.model.state_dict(),
                     "history": history.to_dict(), "wall_time": wall_time}, directory / RESULT_FILE)
        (directory / CHECKPOINT_FILE).unlink(missing_ok=True)
    return result


def _check_same_config(saved: dict[str, Any], config: TrainConfig, directory: Path) -> None:
    if TrainConfig.from_dict(saved) != config:
        raise ValueError(f"{directory} holds a run of a different TrainConfig ({saved}); "
                         "use another checkpoint_dir for this config")


def load_result(directory: str | Path, expected: TrainConfig | None = None) -> TrainResult:
    """Load a finished run stored by :func:`train` (``weights_only`` loading: no code runs)."""
    directory = Path(directory)
    state = safe_load(directory / RESULT_FILE)
    config = TrainConfig.from_dict(state["config"])
    if expected is not None:
        _check_same_config(state["config"], expected, directory)
    model = build_model(config)
    model.load_state_dict(state["model"])
    model.eval()
    return TrainResult(config=config, model=model, history=History.from_dict(state["history"]),
                       wall_time=state["wall_time"], from_cache=True)


def cache_path(config: TrainConfig, cache_dir: str | Path | None = None) -> Path:
    """The folder where :func:`load_or_train` keeps the run of ``config``."""
    return Path(cache_dir or default_cache_dir()) / config_key(config.to_dict(), config.code_modules)


def load_or_train(config: TrainConfig, *, cache_dir: str | Path | None = None, progress: bool = True,
                  device: str = "cpu") -> TrainResult:
    """The trained network of ``config`` from the cache, training (or resuming) it first if needed.

    The cache key covers the config and the training code (:func:`l2l_lib.checkpoints.code_fingerprint`),
    so chapters share trained networks and never reuse one trained by different code.
    """
    return train(config, checkpoint_dir=cache_path(config, cache_dir), progress=progress, device=device)
