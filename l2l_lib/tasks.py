"""Task families and the sequences a meta-learner is trained on.

Hochreiter, Younger & Conwell (2001), Sec. 3: a sequence is a stream of examples of one function drawn
from a family. At step t the network sees ``(x1_t, x2_t, y_{t-1})`` and must output
``y_t = f(x1_t, x2_t)``; the target of the previous step is fed back so that the network can learn
from it (``y_{-1} = 0``). With ``switch_every`` the function changes every that many steps, unannounced.

Families (Sec. 3 and Table 1 of the student report):

* ``"boolean16"``: all 16 Boolean functions of two binary inputs.
* ``"boolean14"``: the same without XOR (6) and XNOR (9), the two that are not linearly separable.
* ``"semilinear"``: ``0.5 * (1 + tanh(w1*x1 + w2*x2 + w3))`` with ``w ~ U[-1, 1]``.
* ``"quadratic"``: ``a*x1^2 + b*x2^2 + c*x1*x2 + d*x1 + e*x2 + f`` with coefficients ``~ U[-1, 1]``,
  mapped into ``[0.2, 0.8]`` (see :data:`QUADRATIC_MAPS`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .validation import check_choice, check_int, check_number

FAMILIES: tuple[str, ...] = ("boolean14", "boolean16", "semilinear", "quadratic")
BOOLEAN_FAMILIES: tuple[str, ...] = ("boolean14", "boolean16")
CONTINUOUS_FAMILIES: tuple[str, ...] = ("semilinear", "quadratic")
XOR, XNOR = 6, 9
TABLE_ID = -1  # function id of a step drawn from a random real-valued table (make_batch's table_fraction)
N_COEFFICIENTS: dict[str, int] = {"semilinear": 3, "quadratic": 6}

# The paper says only that the quadratic's output is scaled into [0.2, 0.8]. Two readings:
# "per_function" stretches each function's own range over the input square [-1, 1]^2 onto [0.2, 0.8];
# "fixed" maps the range every such quadratic can reach, [-6, 6], onto [0.2, 0.8] (y = 0.5 + q / 20).
# The default is "fixed", the closer reading of the paper: one global scaling, which gives the learner no
# information about the function (per_function leaks each function's range and couples its coefficients).
# Under it most functions use a sliver of the output range (the constant predictor 0.5 scores MSE ~0.0018),
# so the book reports errors as fractions of the constant predictor's.
# Any affine map keeps y linear in the six monomials, so the least-squares learner stays exact after 6.
QUADRATIC_MAPS: tuple[str, ...] = ("fixed", "per_function")
DEFAULT_QUADRATIC_MAP = "fixed"
QUADRATIC_FIXED_RANGE = (-6.0, 6.0)
OUTPUT_RANGE = (0.2, 0.8)
# The square the per-function map is computed over: the training input domain, whatever inputs a
# distribution-shift test later draws, so that a function means the same thing in every test.
MAP_DOMAIN = (-1.0, 1.0)


# Mean and standard deviation of a target y over functions and inputs, per family (quadratic: per map): what a
# network that standardises its fed-back target (TrainConfig.target_coding) subtracts and divides by. Boolean:
# exact (a fair coin). Quadratic "fixed": exact, 0.5 + q/20 with Var q = (1/5 + 1/5 + 1/9 + 1/3 + 1/3 + 1)/3.
# Semi-linear and quadratic "per_function": Monte Carlo over 2^20 functions, 4 digits (tests/test_tasks.py
# draws them again); both are 0.5 exactly by the symmetry f -> 1 - f.
TARGET_MOMENTS: dict[str, tuple[float, float]] = {
    "boolean14": (0.5, 0.5),
    "boolean16": (0.5, 0.5),
    "semilinear": (0.5, 0.2755),
    "quadratic/per_function": (0.5, 0.1553),
    "quadratic/fixed": (0.5, 0.05 * math.sqrt((1 / 5 + 1 / 5 + 1 / 9 + 1 / 3 + 1 / 3 + 1) / 3)),
}


def target_moments(family: str, quadratic_map: str = DEFAULT_QUADRATIC_MAP) -> tuple[float, float]:
    """``(mean, standard deviation)`` of a target ``y_t`` of ``family`` over random functions and inputs.

    Args:
        family: one of :data:`FAMILIES`.
        quadratic_map: the quadratic family's output map, one of :data:`QUADRATIC_MAPS` (ignored otherwise).
    """
    check_family(family)
    check_choice("quadratic_map", quadratic_map, QUADRATIC_MAPS)
    return TARGET_MOMENTS[f"quadratic/{quadratic_map}" if family == "quadratic" else family]


def truth_table(k: int) -> tuple[int, int, int, int]:
    """Outputs of Boolean function ``k`` for the inputs (0,0), (0,1), (1,0), (1,1).

    Functions are numbered so that ``f_k(x1, x2) = (k >> (2*x1 + x2)) & 1``: XOR is 6, XNOR is 9,
    constant 0 is 0 and constant 1 is 15.

    Args:
        k: function id, an integer in 0..15.
    """
    check_int("k", k, minimum=0, maximum=15)
    return tuple((k >> pattern) & 1 for pattern in range(4))  # type: ignore[return-value]


def family_functions(family: str) -> tuple[int, ...]:
    """Ids of the Boolean functions in ``family`` (``"boolean16"``: 0..15; ``"boolean14"``: no 6, 9)."""
    check_family(family)
    if family == "boolean16":
        return tuple(range(16))
    if family == "boolean14":
        return tuple(k for k in range(16) if k not in (XOR, XNOR))
    raise ValueError(f"family {family!r} is continuous: it has no Boolean function ids; "
                     f"Boolean families are {BOOLEAN_FAMILIES}")


def boolean_table(functions: tuple[int, ...] | list[int]) -> torch.Tensor:
    """Truth tables of ``functions`` as a float32 tensor ``[len(functions), 4]`` (columns: patterns)."""
    return torch.tensor([truth_table(int(k)) for k in functions], dtype=torch.float32)


def check_family(family: str) -> None:
    """Raise ``ValueError`` unless ``family`` is one of :data:`FAMILIES`."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")


def family_mean(family: str) -> float:
    """Mean target of ``family`` under its prior: the constant predictor every MSE is normalised by.

    It is 0.5 for all four: each Boolean input pattern maps to 1 in half of the 16 functions (and in 7
    of the 14, since XOR and XNOR disagree on every pattern); the continuous families are symmetric
    under ``w -> -w``, which maps ``y`` to ``1 - y`` (semi-linear) or reflects it about 0.5 (quadratic).
    A unit test checks this by sampling.
    """
    check_family(family)
    return 0.5


# ----------------------------------------------------------------------------- continuous functions
def semilinear_values(coefficients: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """``0.5 * (1 + tanh(w1*x1 + w2*x2 + w3))``; ``coefficients [..., 3]``, ``x1, x2 [...]``."""
    w1, w2, w3 = coefficients.unbind(-1)
    return 0.5 * (1.0 + torch.tanh(w1 * x1 + w2 * x2 + w3))


def quadratic_monomials(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """The six features ``(x1^2, x2^2, x1*x2, x1, x2, 1)`` stacked on a new last axis."""
    return torch.stack([x1 * x1, x2 * x2, x1 * x2, x1, x2, torch.ones_like(x1)], dim=-1)


def quadratic_raw(coefficients: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """``a*x1^2 + b*x2^2 + c*x1*x2 + d*x1 + e*x2 + f`` before any output map; ``coefficients [..., 6]``."""
    return (quadratic_monomials(x1, x2) * coefficients).sum(-1)


def quadratic_bounds(coefficients: torch.Tensor, domain: tuple[float, float] = MAP_DOMAIN
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact minimum and maximum of each quadratic over the square ``domain^2``.

    The extremes of a quadratic on a square lie at a corner, at a stationary point of one edge, or at
    the interior stationary point: all nine candidates are evaluated and the invalid ones masked.

    Args:
        coefficients: ``[..., 6]`` as in :func:`quadratic_raw`.
        domain: ``(low, high)`` of both inputs.

    Returns:
        ``(minimum, maximum)``, each of shape ``coefficients.shape[:-1]``.
    """
    lo, hi = domain
    c = coefficients.double()
    a, b, cxy, d, e, _ = c.unbind(-1)
    points, valid = [], []
    for p in (lo, hi):
        for q in (lo, hi):
            points.append((torch.full_like(a, p), torch.full_like(a, q)))
            valid.append(torch.ones_like(a, dtype=torch.bool))
    for edge in (lo, hi):
        # x1 fixed at the edge: stationary in x2 where 2*b*x2 + cxy*edge + e = 0.
        x2 = -(cxy * edge + e) / torch.where(b == 0, torch.ones_like(b), 2 * b)
        points.append((torch.full_like(a, edge), x2))
        valid.append((b != 0) & (x2 >= lo) & (x2 <= hi))
        x1 = -(cxy * edge + d) / torch.where(a == 0, torch.ones_like(a), 2 * a)
        points.append((x1, torch.full_like(a, edge)))
        valid.append((a != 0) & (x1 >= lo) & (x1 <= hi))
    det = 4 * a * b - cxy * cxy
    safe = torch.where(det == 0, torch.ones_like(det), det)
    x1 = (-2 * b * d + cxy * e) / safe
    x2 = (-2 * a * e + cxy * d) / safe
    points.append((x1, x2))
    valid.append((det != 0) & (x1 >= lo) & (x1 <= hi) & (x2 >= lo) & (x2 <= hi))
    values = torch.stack([quadratic_raw(c, p1, p2) for p1, p2 in points], dim=-1)
    mask = torch.stack(valid, dim=-1)
    minimum = torch.where(mask, values, torch.full_like(values, math.inf)).amin(-1)
    maximum = torch.where(mask, values, torch.full_like(values, -math.inf)).amax(-1)
    return minimum.to(coefficients.dtype), maximum.to(coefficients.dtype)


def quadratic_values(coefficients: torch.Tensor, x1: torch.Tensor, x2: torch.Tensor,
                     quadratic_map: str = DEFAULT_QUADRATIC_MAP) -> torch.Tensor:
    """Quadratic outputs mapped into ``[0.2, 0.8]`` (for inputs inside ``MAP_DOMAIN``).

    ``"fixed"``: ``0.2 + 0.6 * (q + 6) / 12``. ``"per_function"``: ``0.2 + 0.6 * (q - min) / (max - min)``
    with the function's own extremes over ``MAP_DOMAIN^2`` (:func:`quadratic_bounds`).
    """
    check_choice("quadratic_map", quadratic_map, QUADRATIC_MAPS)
    q = quadratic_raw(coefficients, x1, x2)
    out_lo, out_hi = OUTPUT_RANGE
    if quadratic_map == "fixed":
        lo, hi = QUADRATIC_FIXED_RANGE
        return out_lo + (out_hi - out_lo) * (q - lo) / (hi - lo)
    lo, hi = quadratic_bounds(coefficients)
    width = (hi - lo).clamp_min(1e-12)  # only the constant quadratic has zero width (probability 0)
    return out_lo + (out_hi - out_lo) * (q - lo) / width


def function_values(family: str, x1: torch.Tensor, x2: torch.Tensor, *, function_ids: torch.Tensor | None = None,
                    coefficients: torch.Tensor | None = None,
                    quadratic_map: str = DEFAULT_QUADRATIC_MAP) -> torch.Tensor:
    """``f(x1, x2)`` for a family, given Boolean ``function_ids [...]`` or ``coefficients [..., P]``."""
    check_family(family)
    if family in BOOLEAN_FAMILIES:
        if function_ids is None:
            raise ValueError("function_ids is required for Boolean families")
        pattern = (2 * x1 + x2).long()
        return ((function_ids.long() >> pattern) & 1).to(torch.float32)
    if coefficients is None:
        raise ValueError("coefficients is required for continuous families")
    if family == "semilinear":
        return semilinear_values(coefficients, x1, x2)
    return quadratic_values(coefficients, x1, x2, quadratic_map)


# ----------------------------------------------------------------------------- random tables
def beta_values(a: float, shape: tuple[int, ...], generator: torch.Generator | None = None) -> torch.Tensor:
    """float32 values ``~ Beta(a, a)`` of ``shape``, reproducible from the torch ``generator``.

    torch's Beta sampler takes no generator, so one 63-bit seed is drawn from ``generator`` and NumPy's
    Beta sampler does the rest: the same generator state gives the same values.
    """
    check_number("a", a, 0.0, 100.0, low_open=True)
    seed = int(torch.randint(2**62, (1,), generator=generator))
    values = np.random.default_rng(seed).beta(a, a, size=shape)
    return torch.from_numpy(values).to(torch.float32)


def table_pool(size: int, seed: int, beta: float | None = None) -> torch.Tensor:
    """A finite pool of ``size`` random lookup tables, float32 ``[size, 4]`` (one value per input pattern).

    The pool is drawn once per training run from its own generator (seeded by ``seed``), values
    ``~ U[0, 1]`` or ``~ Beta(beta, beta)``: with ``TrainConfig.table_pool = K`` the run only ever sees
    these K tables, which makes K the task-diversity knob of Raventós et al. (2023).
    """
    check_int("size", size)
    check_int("seed", seed, minimum=0)
    generator = torch.Generator().manual_seed(seed)
    if beta is not None:
        return beta_values(beta, (size, 4), generator)
    return torch.rand(size, 4, generator=generator)


# ----------------------------------------------------------------------------- sequences
@dataclass(frozen=True)
class Batch:
    """A minibatch of example streams.

    Attributes:
        family: the task family.
        inputs: float32 ``[batch, seq_len, 3]``: ``(x1_t, x2_t, y_{t-1})``, ``y_{-1} = 0``.
        targets: float32 ``[batch, seq_len, 1]``: ``y_t = f(x1_t, x2_t)``.
        function_ids: int64 ``[batch, seq_len]``, the Boolean function of each step (None if continuous;
            :data:`TABLE_ID` where the step belongs to a random real-valued table, see ``table_fraction``).
        coefficients: float32 ``[batch, seq_len, P]``, the function of each step (None if Boolean);
            P = 3 for semi-linear ``(w1, w2, w3)``, 6 for quadratic ``(a, b, c, d, e, f)``.
        segment_starts: bool ``[batch, seq_len]``, True where a new function begins (always at t = 0).
    """

    family: str
    inputs: torch.Tensor
    targets: torch.Tensor
    function_ids: torch.Tensor | None
    coefficients: torch.Tensor | None
    segment_starts: torch.Tensor

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[0]

    @property
    def seq_len(self) -> int:
        return self.inputs.shape[1]

    @property
    def x(self) -> torch.Tensor:
        """The inputs ``(x1, x2)``, ``[batch, seq_len, 2]``."""
        return self.inputs[..., :2]

    def patterns(self) -> torch.Tensor:
        """int64 ``[batch, seq_len]``: the Boolean input pattern ``2*x1 + x2`` of each step (0 is (0,0))."""
        return (2 * self.inputs[..., 0] + self.inputs[..., 1]).round().long()

    def steps_since_switch(self) -> torch.Tensor:
        """int64 ``[batch, seq_len]``: examples of the current function seen before this step."""
        t = torch.arange(self.seq_len).expand(self.batch_size, -1)
        last_start = torch.where(self.segment_starts, t, torch.zeros_like(t)).cummax(dim=1).values
        return t - last_start


def _check_range(name: str, value: tuple[float, float]) -> None:
    ok = (isinstance(value, (tuple, list)) and len(value) == 2
          and all(isinstance(v, (int, float)) and math.isfinite(v) for v in value) and value[0] < value[1])
    if not ok:
        raise ValueError(f"{name} must be a pair (low, high) of finite numbers with low < high, got {value!r}")


def make_batch(family: str, batch_size: int, seq_len: int, *, functions: tuple[int, ...] | list[int] | None = None,
               switch_every: int | None = None, generator: torch.Generator | None = None,
               input_range: tuple[float, float] = (-1.0, 1.0),
               coefficient_range: tuple[float, float] = (-1.0, 1.0),
               quadratic_map: str = DEFAULT_QUADRATIC_MAP, table_fraction: float = 0.0,
               table_pool: torch.Tensor | None = None, table_beta: float | None = None) -> Batch:
    """Draw ``batch_size`` independent example streams of ``seq_len`` steps.

    Each stream draws a function (uniformly from ``functions`` for Boolean families; coefficients
    ``~ U(coefficient_range)`` for continuous ones) and inputs (``{0, 1}`` for Boolean families,
    ``~ U(input_range)`` otherwise). With ``switch_every = N`` a new function, different from the
    previous one, takes over every N steps.

    Args:
        family: one of :data:`FAMILIES`.
        batch_size: number of streams, >= 1.
        seq_len: steps per stream, >= 1.
        functions: Boolean function ids to draw from (default: the whole family); the train/held-out
            split. Must be None for continuous families.
        switch_every: steps between unannounced function switches, 1..seq_len, or None for no switch.
        generator: torch random generator, for reproducible draws.
        input_range: ``(low, high)`` of continuous inputs.
        coefficient_range: ``(low, high)`` of continuous coefficients.
        quadratic_map: how quadratic outputs are put into ``[0.2, 0.8]``, one of :data:`QUADRATIC_MAPS`.
        table_fraction: Boolean families only, in [0, 1]: the probability that a stream (each of its
            segments) is a random *real-valued* lookup table instead of a Boolean function, with one output
            ``~ U[0, 1]`` per input pattern. Such a stream is no Boolean function (almost surely), so no
            held-out function is ever shown, but it can only be predicted by storing each pattern's answer,
            never by recognising a known function: an auxiliary training distribution (not in the paper).
            Its steps get the function id :data:`TABLE_ID`. At 0 nothing extra is drawn.
        table_pool: optional float ``[K, 4]``: a *finite* pool of tables; each table stream picks one of
            these K rows uniformly instead of drawing new values (the task-diversity knob of Raventós et
            al. 2023; see :func:`table_pool`). None: every table stream draws its own values.
        table_beta: optional ``a > 0``: fresh table values ``~ Beta(a, a)`` instead of ``U[0, 1]``
            (small ``a`` gives near-binary tables). Ignored with ``table_pool`` (the pool fixes the values).
    """
    check_family(family)
    check_int("batch_size", batch_size)
    check_int("seq_len", seq_len)
    if switch_every is not None:
        check_int("switch_every", switch_every, maximum=seq_len)
    _check_range("input_range", input_range)
    _check_range("coefficient_range", coefficient_range)
    check_choice("quadratic_map", quadratic_map, QUADRATIC_MAPS)
    check_number("table_fraction", table_fraction, 0.0, 1.0)
    if table_pool is not None and not (table_pool.ndim == 2 and table_pool.shape[0] >= 1 and table_pool.shape[1] == 4):
        raise ValueError(f"table_pool must be a tensor [K, 4] with K >= 1, got shape {tuple(table_pool.shape)}")
    if table_beta is not None:
        check_number("table_beta", table_beta, 0.0, 100.0, low_open=True)
    if table_fraction > 0 and family not in BOOLEAN_FAMILIES:
        raise ValueError(f"table_fraction is for the Boolean families {BOOLEAN_FAMILIES} only; "
                         f"it must be 0 for {family!r}")

    segment = switch_every or seq_len
    n_segments = -(-seq_len // segment)
    step_segment = torch.arange(seq_len) // segment  # [T]: which segment each step belongs to
    segment_starts = (torch.arange(seq_len) % segment == 0).expand(batch_size, -1).clone()

    def uniform(*shape: int, low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(*shape, generator=generator)

    if family in BOOLEAN_FAMILIES:
        allowed = family_functions(family)
        if functions is None:
            functions = allowed
        functions = tuple(functions)
        bad = [k for k in functions if k not in allowed]
        if not functions or bad:
            raise ValueError(f"functions must be a non-empty list of ids from {family}'s {allowed}; "
                             f"not allowed: {bad or 'empty list'}")
        n_functions = len(functions)
        choice = torch.empty(batch_size, n_segments, dtype=torch.long)
        choice[:, 0] = torch.randint(n_functions, (batch_size,), generator=generator)
        for s in range(1, n_segments):
            # a switch always brings a different function (when there is one to switch to)
            step = torch.randint(1, max(n_functions, 2), (batch_size,), generator=generator)
            choice[:, s] = (choice[:, s - 1] + step * (n_functions > 1)) % n_functions
        ids = torch.tensor(functions, dtype=torch.long)[choice][:, step_segment]  # [B, T]
        x = torch.randint(0, 2, (batch_size, seq_len, 2), generator=generator).to(torch.float32)
        y = function_values(family, x[..., 0], x[..., 1], function_ids=ids)
        if table_fraction > 0:
            if table_pool is not None:
                rows = torch.randint(table_pool.shape[0], (batch_size, n_segments), generator=generator)
                tables = table_pool.to(torch.float32)[rows][:, step_segment]  # [B, T, 4]
            elif table_beta is not None:
                tables = beta_values(table_beta, (batch_size, n_segments, 4), generator)[:, step_segment]
            else:
                tables = torch.rand(batch_size, n_segments, 4, generator=generator)[:, step_segment]  # [B, T, 4]
            real = tables.gather(-1, (2 * x[..., 0] + x[..., 1]).long().unsqueeze(-1))[..., 0]
            use = (torch.rand(batch_size, n_segments, generator=generator) < table_fraction)[:, step_segment]
            y = torch.where(use, real, y)
            ids = torch.where(use, torch.full_like(ids, TABLE_ID), ids)
        coefficients = None
    else:
        if functions is not None:
            raise ValueError(f"functions must be None for the continuous family {family!r}: "
                             "every stream draws fresh coefficients")
        n_coef = N_COEFFICIENTS[family]
        per_segment = uniform(batch_size, n_segments, n_coef, low=coefficient_range[0], high=coefficient_range[1])
        coefficients = per_segment[:, step_segment]  # [B, T, P]
        x = uniform(batch_size, seq_len, 2, low=input_range[0], high=input_range[1])
        y = function_values(family, x[..., 0], x[..., 1], coefficients=coefficients, quadratic_map=quadratic_map)
        ids = None

    targets = y.to(torch.float32).unsqueeze(-1)
    y_prev = torch.cat([torch.zeros(batch_size, 1, 1), targets[:, :-1]], dim=1)
    inputs = torch.cat([x, y_prev], dim=-1)
    return Batch(family=family, inputs=inputs, targets=targets, function_ids=ids,
                 coefficients=coefficients, segment_starts=segment_starts)
