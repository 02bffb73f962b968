"""What decides a training run: :class:`TrainConfig`, one frozen dataclass, validated on construction.

Hochreiter, Younger & Conwell (2001), Sec. 3: the network is trained by gradient descent on whole
sequences, each the example stream of a function drawn from the family. Everything that makes one such
run differ from another is a field here; the book's named configurations are in :mod:`l2l_lib.recipes`.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, fields
from typing import Any

from .tasks import BOOLEAN_FAMILIES, DEFAULT_QUADRATIC_MAP, FAMILIES, QUADRATIC_MAPS, family_functions
from .validation import check, is_int, is_number
from .model import OUTPUTS
from .transformer import POSITIONS

ARCHITECTURES = ("lstm", "paper2001", "transformer", "meta_sgd")
# The module each architecture beyond model.py lives in: only its runs' cache keys depend on it.
ARCHITECTURE_MODULES = {"paper2001": "paper_net.py", "transformer": "transformer.py", "meta_sgd": "meta_gd.py"}
LOSSES = ("mse", "bce")
TARGET_CODINGS = ("raw", "standardised")
OPTIMIZERS = ("adam", "sgd")
# Plain gradient descent on a mean squared error needs larger steps than Adam's scale-free ones.
MAX_LEARNING_RATE = {"adam": 1.0, "sgd": 100.0}

#: Old field names still accepted (with a ``DeprecationWarning``) -> their new names.
RENAMED_FIELDS = {"n_epochs": "n_steps"}


def warn_renamed(old: str, new: str, owner: str = "TrainConfig") -> None:
    """The deprecation warning for a renamed field or parameter (one wording everywhere)."""
    warnings.warn(f"{owner}.{old} is deprecated; use {owner}.{new} (one optimiser step is not an epoch)",
                  DeprecationWarning, stacklevel=3)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; validated on construction.

    Attributes:
        family: task family, one of :data:`l2l_lib.tasks.FAMILIES`.
        held_out: Boolean function ids never trained on (evaluated only); empty for continuous families.
        architecture: ``"lstm"``: :class:`~l2l_lib.model.MetaLSTM` (stacked LSTM layers); ``"paper2001"``:
            :class:`~l2l_lib.paper_net.PaperQuadraticNet`, our reconstruction of the paper's quadratic network
            (12 original LSTM cells without forget gate, a 40-unit hidden layer fed back), which needs
            ``hidden_sizes=(12, 40)`` and ``forget_gate=False``; it cannot be packed. ``"transformer"``:
            :class:`~l2l_lib.transformer.MetaTransformer`, a small causal transformer (Garg et al. 2022).
            ``"meta_sgd"``: :class:`~l2l_lib.meta_gd.MetaSGD`, online gradient descent on a 2-H-1 network whose
            initial weights and per-weight step sizes are meta-learnt (MAML, Finn et al. 2017; Meta-SGD, Li et
            al. 2017). Only LSTMs are packed; the others train one seed at a time.
        hidden_sizes: LSTM units per layer; for a transformer, the width of each block (one entry per block,
            all equal); for ``meta_sgd``, the inner network's hidden units ``(H,)``.
        forget_gate: modern LSTM (True) or the original 1997/2001 cell (False).
        output: read-out squashing, ``"sigmoid"`` or ``"linear"``.
        loss: the training loss, ``"mse"`` (the paper's squared error) or ``"bce"`` (cross-entropy against the
            targets in [0, 1]; needs the sigmoid read-out); evaluation is always squared error.
        target_coding: how the network codes targets inside itself: ``"raw"``, or ``"standardised"``: it reads
            the fed-back target as ``(y - mean) / sd`` and predicts ``mean + sd * readout`` with the family's
            (and quadratic map's) :func:`~l2l_lib.tasks.target_moments` (needs ``output="linear"``). The
            task, its scale and the error are the same either way.
        batch_size: sequences per optimiser step.
        seq_len: steps per training sequence.
        switch_every: steps between unannounced function switches inside a training sequence, or None.
        n_steps: optimiser (Adam) steps, each on a minibatch of ``batch_size`` fresh sequences. (Called
            ``n_epochs`` before; that name is still accepted, with a ``DeprecationWarning``.)
        optimizer: ``"adam"`` (Kingma & Ba 2015, the report's and ours) or ``"sgd"``: plain gradient descent on
            each minibatch, as the paper trained (Sec. 3), without momentum.
        learning_rate: the optimiser's step size (Adam: in (0, 1]; plain gradient descent: in (0, 100]).
        seed: initialisation and data seed; the same seed gives the same run on CPU.
        grad_clip: clip the gradient's global norm to this value, or None for no clipping.
        quadratic_map: how quadratic outputs are scaled into [0.2, 0.8] (see :mod:`l2l_lib.tasks`).
        table_fraction: Boolean families: the fraction of training streams that are random real-valued
            lookup tables (:func:`l2l_lib.tasks.make_batch`), an auxiliary distribution not in the paper;
            evaluation always uses Boolean functions.
        table_pool: with tables, the number K of distinct random tables training ever shows (a finite pool
            drawn once per run, :func:`l2l_lib.tasks.table_pool`), or None for a fresh table every stream:
            the task-diversity knob of Raventós et al. (2023).
        table_beta: with tables, their values are ``~ Beta(a, a)`` with this ``a`` (small ``a``: near-binary
            tables), or None for ``U[0, 1]``.
        target_noise: standard deviation of Gaussian noise added to the *fed-back* target ``y_{t-1}`` of
            training streams (the target to predict stays clean; evaluation streams are never noisy).
        tables_until: tables are drawn only in the first ``tables_until`` fraction of ``n_steps``; after
            that training sees Boolean functions only (a curriculum; 1: tables throughout).
        decay_fraction: the last fraction of ``n_steps`` over which the learning rate decays to zero on a
            half cosine (0: a constant step size, as in the paper); see :func:`l2l_lib.trainer.learning_rate_at`.
        keep_best: return the weights of the evaluation with the lowest ``val_mse`` (training functions
            only, never held-out ones) instead of the last weights; see :attr:`History.selected_step`.
        eval_every: optimiser steps between evaluations, history points and checkpoints.
        eval_sequences: sequences in each fixed evaluation batch.
        n_heads: a transformer's attention heads per block (other architectures ignore it).
        positions: a transformer's position code, one of :data:`l2l_lib.transformer.POSITIONS`: ``"none"`` (it
            reads streams of any length) or ``"learnt"`` (up to ``seq_len`` steps).
    """

    family: str = "boolean16"
    held_out: tuple[int, ...] = ()
    architecture: str = "lstm"
    hidden_sizes: tuple[int, ...] = (6,)
    forget_gate: bool = True
    output: str = "sigmoid"
    loss: str = "mse"
    target_coding: str = "raw"
    batch_size: int = 16
    seq_len: int = 256
    switch_every: int | None = None
    n_steps: int = 20_000
    optimizer: str = "adam"
    learning_rate: float = 1e-2
    seed: int = 0
    grad_clip: float | None = None
    quadratic_map: str = DEFAULT_QUADRATIC_MAP
    table_fraction: float = 0.0
    table_pool: int | None = None
    table_beta: float | None = None
    target_noise: float = 0.0
    tables_until: float = 1.0
    decay_fraction: float = 0.0
    keep_best: bool = False
    eval_every: int = 250
    eval_sequences: int = 256
    n_heads: int = 4
    positions: str = "none"

    def __init__(self, **values: Any) -> None:
        # Keyword-only, so that a renamed field (n_epochs) can still be passed, with a warning.
        for old, new in RENAMED_FIELDS.items():
            if old in values:
                warn_renamed(old, new)
                if new in values:
                    raise ValueError(f"TrainConfig got both {old!r} and its new name {new!r}; pass only {new!r}")
                values[new] = values.pop(old)
        known = {f.name: f for f in fields(self)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {unknown}; allowed: {sorted(known)}")
        for name, f in known.items():
            object.__setattr__(self, name, values.get(name, f.default))
        self.__post_init__()

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
        _check(len(self.hidden_sizes) > 0 and all(is_int(h) and h >= 1 for h in self.hidden_sizes),
               "hidden_sizes", "a non-empty tuple of integers >= 1", self.hidden_sizes)
        _check(isinstance(self.forget_gate, bool), "forget_gate", "True or False", self.forget_gate)
        _check(self.architecture in ARCHITECTURES, "architecture", f"one of {ARCHITECTURES}", self.architecture)
        if self.architecture == "transformer":
            _check(len(set(self.hidden_sizes)) == 1 and self.hidden_sizes[0] % self.n_heads == 0, "hidden_sizes",
                   f"one width per transformer block, all equal and divisible by n_heads ({self.n_heads})",
                   self.hidden_sizes)
        if self.architecture == "meta_sgd":
            _check(len(self.hidden_sizes) == 1 and self.output == "sigmoid", "architecture",
                   "'meta_sgd' with one hidden layer (hidden_sizes=(H,)) and output='sigmoid' (online gradient "
                   "descent's network)", self.architecture)
        _check(self.forget_gate or self.architecture in ("lstm", "paper2001"), "forget_gate",
               "True for an architecture without LSTM cells", self.forget_gate)
        _check(is_int(self.n_heads) and self.n_heads >= 1, "n_heads", "an integer >= 1", self.n_heads)
        _check(self.positions in POSITIONS, "positions", f"one of {POSITIONS}", self.positions)
        if self.architecture == "paper2001":
            _check(self.hidden_sizes == (12, 40) and self.forget_gate is False and self.output == "sigmoid",
                   "architecture", "'lstm', or 'paper2001' with hidden_sizes=(12, 40), forget_gate=False and "
                   "output='sigmoid' (the 2001 network's fixed shape)", self.architecture)
        _check(isinstance(self.keep_best, bool), "keep_best", "True or False", self.keep_best)
        _check(self.output in OUTPUTS, "output", f"one of {OUTPUTS}", self.output)
        _check(self.target_coding in TARGET_CODINGS
               and (self.target_coding == "raw"
                    or (self.output == "linear" and self.architecture in ("lstm", "transformer"))),
               "target_coding", f"one of {TARGET_CODINGS} ('standardised' with output='linear' and "
               "architecture 'lstm' or 'transformer' only)", self.target_coding)
        _check(self.loss in LOSSES and (self.loss == "mse" or self.output == "sigmoid"), "loss",
               f"one of {LOSSES} ('bce' with output='sigmoid' only)", self.loss)
        for name in ("batch_size", "seq_len", "eval_every", "eval_sequences"):
            _check(is_int(getattr(self, name)) and getattr(self, name) >= 1, name, "an integer >= 1",
                   getattr(self, name))
        _check(is_int(self.n_steps) and self.n_steps >= 0, "n_steps", "an integer >= 0", self.n_steps)
        _check(self.switch_every is None or (is_int(self.switch_every) and 1 <= self.switch_every <= self.seq_len),
               "switch_every", f"None or an integer in 1..seq_len ({self.seq_len})", self.switch_every)
        _check(self.optimizer in OPTIMIZERS, "optimizer", f"one of {OPTIMIZERS}", self.optimizer)
        top = MAX_LEARNING_RATE[self.optimizer]
        _check(is_number(self.learning_rate) and 0 < self.learning_rate <= top, "learning_rate",
               f"a number in (0, {top:g}] for optimizer {self.optimizer!r}", self.learning_rate)
        _check(is_int(self.seed) and self.seed >= 0, "seed", "an integer >= 0", self.seed)
        _check(self.grad_clip is None or (is_number(self.grad_clip) and self.grad_clip > 0), "grad_clip",
               "None or a number > 0", self.grad_clip)
        _check(self.quadratic_map in QUADRATIC_MAPS, "quadratic_map", f"one of {QUADRATIC_MAPS}", self.quadratic_map)
        _check(is_number(self.table_fraction) and 0 <= self.table_fraction <= 1
               and (self.table_fraction == 0 or self.family in BOOLEAN_FAMILIES), "table_fraction",
               "a number in [0, 1], and 0 for continuous families", self.table_fraction)
        _check(self.table_pool is None or (is_int(self.table_pool) and self.table_pool >= 1
                                           and self.table_fraction > 0), "table_pool",
               "None, or an integer >= 1 with table_fraction > 0", self.table_pool)
        _check(self.table_beta is None or (is_number(self.table_beta) and 0 < self.table_beta <= 100
                                           and self.table_fraction > 0), "table_beta",
               "None, or a number in (0, 100] with table_fraction > 0", self.table_beta)
        _check(is_number(self.target_noise) and 0 <= self.target_noise <= 1, "target_noise", "a number in [0, 1]",
               self.target_noise)
        _check(is_number(self.tables_until) and 0 <= self.tables_until <= 1, "tables_until",
               "a number in [0, 1]", self.tables_until)
        _check(is_number(self.decay_fraction) and 0 <= self.decay_fraction <= 1, "decay_fraction",
               "a number in [0, 1]", self.decay_fraction)

    @property
    def n_epochs(self) -> int:
        """Deprecated name of :attr:`n_steps`."""
        warn_renamed("n_epochs", "n_steps")
        return self.n_steps

    @property
    def code_modules(self) -> tuple[str, ...]:
        """Modules beyond the training code that this run's cache key must cover (its architecture's)."""
        module = ARCHITECTURE_MODULES.get(self.architecture)
        return () if module is None else (module,)

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
        return cls(**data)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> "TrainConfig":
        """The named recipe ``name`` of :mod:`l2l_lib.recipes`, with some fields replaced.

        Kept for readers' code: ``TrainConfig.preset("boolean16", seed=3)`` is
        ``l2l_lib.recipes.recipe("boolean16", seed=3)``.
        """
        from .recipes import recipe
        return recipe(name, **overrides)


def _check(ok: bool, name: str, allowed: str, value: object) -> None:
    check(ok, f"TrainConfig.{name}", allowed, value)
