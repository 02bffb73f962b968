"""Network surgery: find *by measurement* what each unit of a trained Boolean meta-learner does.

Hochreiter, Younger & Conwell (2001), Sec. 3-4: after meta-training on Boolean functions the fixed-weight
LSTM learns each new function from a few examples, so whatever it learned about the current function
must sit in its cell states. The student report read the weights of a trained 6-unit Boolean-16 network
by eye and concluded: one or two units carry the previous input, four units each store the answer for
one input pattern ((0,0), (0,1), (1,0), (1,1)), and one unit recognises (0,0). This module tests that
picture on any trained one-layer :class:`~l2l_lib.model.MetaLSTM`, by four measurements:

* :func:`ablate_units`: silence one unit (its hidden output forced to 0) and see which patterns'
  answers get worse;
* :func:`slot_map`: how well each unit's cell state tells the answer currently stored for each pattern
  (the target last seen with that pattern), and how well units code the input;
* :func:`intervene_flip`: overwrite a candidate slot with the value it holds for the opposite answer and
  see whether exactly that pattern's next answer flips (:func:`intervene_slots`: every pattern's slot);
* :func:`report_picture`: the report's picture as a short verdict from the numbers.

Every statistic is computed from plain arrays (:func:`slot_map_from_arrays`, :func:`point_biserial`,
:func:`threshold_accuracy`), so it can be checked on planted signals. Boolean families only: the
"stored answer of a pattern" needs patterns. Input patterns are indexed ``2*x1 + x2``, so 0 is (0,0)
and 3 is (1,1), as in :func:`l2l_lib.tasks.truth_table`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .evaluate import evaluation_batch, pattern_counts
from .model import MetaLSTM
from .tasks import BOOLEAN_FAMILIES, TABLE_ID, Batch
from .train import one_thread
from .validation import check, check_choice, check_int, check_number, is_int

PATTERNS: tuple[str, ...] = ("(0,0)", "(0,1)", "(1,0)", "(1,1)")  # index 2*x1 + x2


# ----------------------------------------------------------------------------- checks and data
def _check_batch(batch: Batch) -> None:
    check(isinstance(batch, Batch), "batch", "an l2l_lib.tasks.Batch", type(batch).__name__)
    check_choice("batch.family", batch.family, BOOLEAN_FAMILIES)
    tables = batch.function_ids is not None and bool((batch.function_ids == TABLE_ID).any())
    check(not tables, "batch", "Boolean functions only (make_batch's table_fraction 0)",
          "a batch with random real-valued table streams")


def _check_model(model: MetaLSTM) -> int:
    check(isinstance(model, MetaLSTM), "model", "a MetaLSTM", type(model).__name__)
    check(len(model.hidden_sizes) == 1 and model.n_inputs == 3, "model",
          "a MetaLSTM with one LSTM layer reading (x1, x2, y_prev)",
          f"hidden_sizes={model.hidden_sizes}, n_inputs={model.n_inputs}")
    return model.hidden_sizes[0]


def _check_index(name: str, value: object, maximum: int, allowed: str) -> int:
    """``int(value)`` if it is an integer (Python or numpy) in ``0..maximum``, else ``ValueError``."""
    value = int(value) if isinstance(value, np.integer) else value
    check(is_int(value) and 0 <= value <= maximum, name, f"an integer in 0..{maximum} ({allowed})", value)
    return value  # type: ignore[return-value]


def _check_unit(name: str, unit: object, n_units: int) -> int:
    return _check_index(name, unit, n_units - 1, "a unit of the layer")


def _check_pattern(pattern: object) -> int:
    return _check_index("pattern", pattern, 3, "2*x1 + x2")


def probe_batch(n_sequences: int = 512, seq_len: int = 64, *, switch_every: int | None = None,
                seed: int = 0) -> Batch:
    """The streams surgery should measure on: Boolean-16 with all 16 functions.

    All 16 functions, because then the answers of the four patterns are independent of one another (each
    is 1 in exactly half of them), so a unit can only correlate with one pattern's answer by storing it.
    The streams come from :func:`l2l_lib.evaluate.evaluation_batch` (a generator no training run uses).
    """
    return evaluation_batch("boolean16", n_sequences=n_sequences, seq_len=seq_len, switch_every=switch_every,
                            seed=seed)


def pattern_of(batch: Batch) -> torch.Tensor:
    """Input pattern index ``2*x1 + x2`` of every step: int64 ``[B, T]`` with values 0..3."""
    _check_batch(batch)
    return batch.patterns()


def stored_answers(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """The answer each pattern currently has in each stream: what an ideal slot would hold.

    At step t the network has been shown the targets of steps ``< t`` (``y_{t-1}`` is its input at t), so
    the stored answer of pattern p at step t is the target of the last step ``s < t`` of the same segment
    whose input was p; it is undefined before p was seen in the segment.

    Returns:
        ``(answers, known)``: float32 ``[B, T, 4]`` (0 or 1; 0 where unknown) and bool ``[B, T, 4]``.
    """
    _check_batch(batch)
    pattern = pattern_of(batch)
    target = batch.targets[..., 0]
    segment = torch.cumsum(batch.segment_starts.long(), dim=1)
    answers = torch.zeros(batch.batch_size, batch.seq_len, 4)
    known = torch.zeros(batch.batch_size, batch.seq_len, 4, dtype=torch.bool)
    current = torch.zeros(batch.batch_size, 4)
    seen = torch.zeros(batch.batch_size, 4, dtype=torch.bool)
    rows = torch.arange(batch.batch_size)
    for t in range(batch.seq_len):
        if t > 0:
            same = (segment[:, t] == segment[:, t - 1]).unsqueeze(1)
            seen = seen & same
            current = torch.where(same, current, torch.zeros_like(current))
        answers[:, t], known[:, t] = current, seen
        current = current.clone()
        current[rows, pattern[:, t]] = target[:, t]
        seen = seen.clone()
        seen[rows, pattern[:, t]] = True
    return answers, known


# The networks are tiny: on CPU a second thread only adds contention (see l2l_lib.train.one_thread);
# a single fused nn.LSTM pass took 0.3 s instead of 2 ms with two threads while the other core was busy.
@torch.no_grad()
def _predictions(model: MetaLSTM, batch: Batch) -> torch.Tensor:
    device = next(model.parameters()).device
    with one_thread():
        return model(batch.inputs.to(device)).cpu()[..., 0]


@torch.no_grad()
def _trace(model: MetaLSTM, batch: Batch, intervention: Any = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    device = next(model.parameters()).device
    with one_thread():
        trace = model.trace(batch.inputs.to(device), intervention)
    return trace.c[0].cpu(), trace.h[0].cpu(), trace.predictions.cpu()[..., 0]


# ----------------------------------------------------------------------------- ablation
@dataclass(frozen=True)
class Ablation:
    """What silencing each unit does to the answers, per input pattern.

    Scores count only steps whose input pattern was already seen since the last switch
    (:func:`l2l_lib.evaluate.pattern_counts` > 0): the first sight of a pattern is a guess for any learner.

    Attributes:
        units: the silenced units, in the order of the rows below.
        mse_by_pattern: ``[len(units), 4]``, MSE per input pattern with that unit silenced.
        mse: ``[len(units)]``, MSE over all counted steps with that unit silenced.
        intact_mse_by_pattern: ``[4]``, the intact network's MSE per pattern on the same steps.
        intact_mse: the intact network's MSE over all counted steps.
        n_steps: ``[4]``, counted steps per pattern.
    """

    units: tuple[int, ...]
    mse_by_pattern: np.ndarray
    mse: np.ndarray
    intact_mse_by_pattern: np.ndarray
    intact_mse: float
    n_steps: np.ndarray

    @property
    def damage_by_pattern(self) -> np.ndarray:
        """``[len(units), 4]``: MSE increase per pattern caused by silencing each unit."""
        return self.mse_by_pattern - self.intact_mse_by_pattern[None, :]


@torch.no_grad()
def silence_unit(model: MetaLSTM, unit: int) -> MetaLSTM:
    """A copy of ``model`` in which unit ``unit``'s hidden output reaches nothing.

    The unit's hidden output ``h_u`` has exactly two consumers in a one-layer network: the recurrent
    weights of every gate (column u of ``weight_hh_l0``) and the read-out (``readout.weight[0, u]``).
    Both columns are zeroed, so every other unit and the prediction compute exactly what they would with
    ``h_u = 0`` at every step. (The copy's own ``h_u`` still moves, but nothing reads it; ``c_u`` reaches
    the rest of the network only through ``h_u``.) The copy runs on ``nn.LSTM``'s fused kernels.
    """
    n_units = _check_model(model)
    unit = _check_unit("unit", unit, n_units)
    with torch.random.fork_rng(devices=[]):  # building a module draws initial weights; keep the global RNG
        silenced = MetaLSTM(model.hidden_sizes, forget_gate=model.forget_gate, output=model.output,
                            n_inputs=model.n_inputs, target_moments=model.target_moments)
    silenced.load_state_dict(model.state_dict())
    silenced.layers[0].weight_hh_l0[:, unit] = 0.0
    silenced.readout.weight[0, unit] = 0.0
    return silenced.to(next(model.parameters()).device).eval()


def ablate_units(model: MetaLSTM, batch: Batch, units: list[int] | None = None) -> Ablation:
    """Silence each unit in turn (:func:`silence_unit`) and score the answers per input pattern.

    Args:
        model: a one-layer :class:`~l2l_lib.model.MetaLSTM`.
        batch: Boolean streams (e.g. :func:`probe_batch`).
        units: units to silence, distinct integers in ``0..H-1``; default all.

    Returns:
        an :class:`Ablation`.
    """
    n_units = _check_model(model)
    _check_batch(batch)
    if units is None:
        units = list(range(n_units))
    check(isinstance(units, (list, tuple)) and len(units) > 0, "units",
          f"None or a non-empty list of distinct integers in 0..{n_units - 1}", units)
    units = [_check_unit(f"units[{k}]", u, n_units) for k, u in enumerate(units)]
    check(len(set(units)) == len(units), "units", f"None or a list of distinct integers in 0..{n_units - 1}", units)
    pattern = pattern_of(batch)
    counted = pattern_counts(batch) > 0
    masks = [counted & (pattern == p) for p in range(4)]
    target = batch.targets[..., 0].double()

    def scores(predictions: torch.Tensor) -> tuple[np.ndarray, float]:
        squared = (predictions.double() - target) ** 2
        by_pattern = np.array([float(squared[m].mean()) if bool(m.any()) else math.nan for m in masks])
        overall = float(squared[counted].mean()) if bool(counted.any()) else math.nan
        return by_pattern, overall

    intact_by_pattern, intact = scores(_predictions(model, batch))
    rows, overall = [], []
    for u in units:
        by_pattern, total = scores(_predictions(silence_unit(model, u), batch))
        rows.append(by_pattern)
        overall.append(total)
    return Ablation(units=tuple(units), mse_by_pattern=np.array(rows), mse=np.array(overall),
                    intact_mse_by_pattern=intact_by_pattern, intact_mse=intact,
                    n_steps=np.array([int(m.sum()) for m in masks]))


# ----------------------------------------------------------------------------- statistics on arrays
def _check_columns(values: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values, labels = np.asarray(values, dtype=np.float64), np.asarray(labels)
    ok = values.ndim == 2 and labels.ndim == 1 and values.shape[0] == labels.shape[0]
    check(ok, "(values, labels)", "arrays of shapes [N, H] and [N]", (values.shape, labels.shape))
    return values, labels


def point_biserial(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Signed point-biserial correlation of each column of ``values`` with binary ``labels``.

    It is Pearson's correlation with a 0/1 variable. Args: ``values [N, H]``, ``labels [N]`` (0/1 or
    bool). Returns ``[H]``; 0 where a column or the labels are constant (they then tell nothing).
    """
    values, labels = _check_columns(values, labels)
    labels = labels.astype(np.float64)
    if values.shape[0] == 0:
        return np.zeros(values.shape[1])
    dv = values - values.mean(0)
    dl = labels - labels.mean()
    # a constant column leaves rounding-level residuals after the mean is taken off: treat it as flat
    flat = np.abs(dv).max(0) <= 1e-9 * (np.abs(values).max(0) + 1e-300)
    denominator = np.sqrt((dv ** 2).sum(0) * (dl ** 2).sum())
    corr = (dv * dl[:, None]).sum(0) / np.where(flat | (denominator == 0), 1.0, denominator)
    return np.where(flat | ((dl ** 2).sum() == 0), 0.0, np.clip(corr, -1.0, 1.0))


def threshold_accuracy(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Accuracy of the best one-unit threshold classifier of ``labels`` for each column of ``values``.

    For each column the best cut ``theta`` and side (``value > theta`` means 1, or means 0) is chosen on
    the same data: an upper bound on what a read-out of that unit alone can do. Ties stay on one side.
    Args: ``values [N, H]``, ``labels [N]``. Returns ``[H]`` in [0.5, 1] (NaN when N = 0).
    """
    values, labels = _check_columns(values, labels)
    labels = labels.astype(bool)
    n = values.shape[0]
    if n == 0:
        return np.full(values.shape[1], np.nan)
    out = np.empty(values.shape[1])
    n_ones = int(labels.sum())
    for u in range(values.shape[1]):
        order = np.argsort(values[:, u], kind="stable")
        v, y = values[order, u], labels[order]
        # cut k: the k lowest values say 0, the rest say 1; accuracy = zeros below + ones above
        zeros_below = np.concatenate([[0], np.cumsum(~y)])
        ones_below = np.concatenate([[0], np.cumsum(y)])
        accuracy = (zeros_below + (n_ones - ones_below)) / n
        valid = np.ones(n + 1, dtype=bool)
        valid[1:n] = v[1:] > v[:-1]  # a cut between equal values cannot be made by a threshold
        out[u] = np.maximum(accuracy[valid], 1.0 - accuracy[valid]).max()
    return out


@dataclass(frozen=True)
class SlotMap:
    """Which unit's cell stores the answer of which input pattern, and which units code the input.

    Attributes:
        corr: ``[4, H]``, |point-biserial correlation| of cell state ``c_u(t)`` with the stored answer of
            pattern p (:func:`stored_answers`), over the steps where p has been seen in the segment.
        signed_corr: ``[4, H]``, the same with its sign (+: a high cell value means answer 1).
        accuracy: ``[4, H]``, the best one-unit threshold classifier's accuracy (:func:`threshold_accuracy`).
        best_unit: per pattern, the unit with the largest ``corr`` (-1 if no step could be measured).
        confidence: ``[4]``, that unit's ``corr``.
        margin: ``[4]``, its lead over the second-best unit (the whole ``corr`` when H = 1).
        n_steps: ``[4]``, steps measured per pattern.
        prev_input_corr_c, prev_input_corr_h: ``[H, 2]``, |corr| of the state the gates read at step t,
            ``c_u(t-1)`` and ``h_u(t-1)``, with the previous input bits ``x1_{t-1}``, ``x2_{t-1}``: a unit
            that carries the previous input to the next step (the write into a pattern's slot needs it,
            since the answer ``y_{t-1}`` arrives one step after its pattern ``x_{t-1}``).
        pattern_corr_c, pattern_corr_h: ``[H, 4]``, |corr| of ``c_u(t)`` and ``h_u(t)`` with "the current
            input is pattern p" (a pattern recogniser, e.g. of (0,0), which no single input line signals).
    """

    corr: np.ndarray
    signed_corr: np.ndarray
    accuracy: np.ndarray
    best_unit: tuple[int, ...]
    confidence: np.ndarray
    margin: np.ndarray
    n_steps: np.ndarray
    prev_input_corr_c: np.ndarray
    prev_input_corr_h: np.ndarray
    pattern_corr_c: np.ndarray
    pattern_corr_h: np.ndarray

    @property
    def n_units(self) -> int:
        return self.corr.shape[1]


def _as_numpy(name: str, value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    check(isinstance(value, np.ndarray), name, "a torch.Tensor or numpy array", type(value).__name__)
    return value


def slot_map_from_arrays(c: np.ndarray | torch.Tensor, h: np.ndarray | torch.Tensor,
                         patterns: np.ndarray | torch.Tensor, answers: np.ndarray | torch.Tensor,
                         known: np.ndarray | torch.Tensor) -> SlotMap:
    """The statistics of :func:`slot_map` from plain arrays (a trace, or planted test signals).

    Args:
        c, h: cell states and hidden states ``[B, T, H]``.
        patterns: input pattern of each step ``[B, T]``, values 0..3 (:func:`pattern_of`).
        answers, known: ``[B, T, 4]`` stored answers (0/1) and where they are defined (:func:`stored_answers`).

    Returns:
        a :class:`SlotMap`.
    """
    c, h = _as_numpy("c", c).astype(np.float64), _as_numpy("h", h).astype(np.float64)
    patterns, answers = _as_numpy("patterns", patterns), _as_numpy("answers", answers)
    known = _as_numpy("known", known).astype(bool)
    check(c.ndim == 3, "c", "an array of shape [B, T, H]", c.shape)
    batch, steps, n_units = c.shape
    for name, value, shape in (("h", h, c.shape), ("patterns", patterns, (batch, steps)),
                               ("answers", answers, (batch, steps, 4)), ("known", known, (batch, steps, 4))):
        check(value.shape == shape, f"{name}.shape", f"{shape} to match c", value.shape)
    check(bool(np.isin(patterns, (0, 1, 2, 3)).all()), "patterns", "input pattern indices 0..3 (2*x1 + x2)",
          np.unique(patterns))
    check(bool(np.isin(answers[known], (0, 1)).all()), "answers", "0 or 1 wherever known is True",
          np.unique(answers[known]))

    flat_c = c.reshape(-1, n_units)
    signed = np.zeros((4, n_units))
    accuracy = np.full((4, n_units), np.nan)
    n_steps = np.zeros(4, dtype=np.int64)
    for p in range(4):
        mask = known[..., p].reshape(-1)
        n_steps[p] = int(mask.sum())
        labels = answers[..., p].reshape(-1)[mask]
        signed[p] = point_biserial(flat_c[mask], labels)
        accuracy[p] = threshold_accuracy(flat_c[mask], labels)
    corr = np.abs(signed)
    best, confidence, margin = [], np.zeros(4), np.zeros(4)
    for p in range(4):
        if n_steps[p] == 0:
            best.append(-1)
            continue
        order = np.argsort(-corr[p], kind="stable")
        best.append(int(order[0]))
        confidence[p] = corr[p, order[0]]
        margin[p] = corr[p, order[0]] - (corr[p, order[1]] if n_units > 1 else 0.0)

    # the state after step s against the input of step s, s = 0..T-2: what step s+1's gates read
    prev_pattern = patterns[:, :-1].reshape(-1)
    bits = np.stack([prev_pattern // 2, prev_pattern % 2], axis=1)
    prev_c, prev_h = c[:, :-1].reshape(-1, n_units), h[:, :-1].reshape(-1, n_units)
    prev_input_corr_c = np.abs(np.stack([point_biserial(prev_c, bits[:, k]) for k in range(2)], axis=1))
    prev_input_corr_h = np.abs(np.stack([point_biserial(prev_h, bits[:, k]) for k in range(2)], axis=1))
    current = patterns.reshape(-1)
    flat_h = h.reshape(-1, n_units)
    pattern_corr_c = np.abs(np.stack([point_biserial(flat_c, current == p) for p in range(4)], axis=1))
    pattern_corr_h = np.abs(np.stack([point_biserial(flat_h, current == p) for p in range(4)], axis=1))
    return SlotMap(corr=corr, signed_corr=signed, accuracy=accuracy, best_unit=tuple(best),
                   confidence=confidence, margin=margin, n_steps=n_steps,
                   prev_input_corr_c=prev_input_corr_c, prev_input_corr_h=prev_input_corr_h,
                   pattern_corr_c=pattern_corr_c, pattern_corr_h=pattern_corr_h)


def slot_map(model: MetaLSTM, batch: Batch) -> SlotMap:
    """Trace ``model`` on ``batch`` and measure which cell stores which pattern's answer.

    Args:
        model: a one-layer :class:`~l2l_lib.model.MetaLSTM`.
        batch: Boolean streams; use Boolean-16 with all 16 functions (:func:`probe_batch`), where the four
            answers are independent, else a unit may correlate with one answer through another.

    Returns:
        a :class:`SlotMap` (see :func:`slot_map_from_arrays`).
    """
    _check_model(model)
    _check_batch(batch)
    c, h, _ = _trace(model, batch)
    answers, known = stored_answers(batch)
    return slot_map_from_arrays(c, h, pattern_of(batch), answers, known)


# ----------------------------------------------------------------------------- intervention
@dataclass(frozen=True)
class Intervention:
    """What overwriting one cell did to the following answers.

    The cell ``unit`` was set, at step ``at_step`` and in every stream where ``pattern`` had been seen in
    the segment, to its typical value for the opposite stored answer of ``pattern``; the run then went on.

    Attributes:
        pattern, unit, at_step: the intervention.
        values: ``(value for answer 0, value for answer 1)``: the medians of ``c_unit`` used.
        n_streams: streams intervened on.
        flipped: ``[4]``, for each pattern q, the fraction of streams whose *first* answer to q at or after
            ``at_step`` (before the next switch) is on the other side of 0.5 than in the intact run. A clean
            slot of p gives ~1 at p and ~0 elsewhere. First answers only, because the true answer of p is
            fed back right after each answer to p, so a working learner rewrites the slot.
        n_first: ``[4]``, streams where q was answered in that window (the denominators of ``flipped``).
        flipped_all: ``[4]``, the fraction over every answer to q from ``at_step`` to the next switch.
        n_steps: ``[4]``, the answers counted by ``flipped_all``.
    """

    pattern: int
    unit: int
    at_step: int
    values: tuple[float, float]
    n_streams: int
    flipped: np.ndarray
    n_first: np.ndarray
    flipped_all: np.ndarray
    n_steps: np.ndarray


def intervene_flip(model: MetaLSTM, batch: Batch, pattern: int, unit: int, at_step: int | None = None
                   ) -> Intervention:
    """Overwrite cell ``unit`` as if ``pattern``'s stored answer were the opposite, and count flipped answers.

    The two typical values of the cell are the medians of ``c_unit`` over the steps of the same batch whose
    stored answer of ``pattern`` is 0, resp. 1 (:func:`stored_answers`). At ``at_step`` (after the cell
    update, before ``h`` is computed, via :meth:`~l2l_lib.model.MetaLSTM.trace`'s intervention) every stream
    whose stored answer of ``pattern`` is known gets the value of the other answer; the other streams are
    left alone and not counted.

    Args:
        model: a one-layer :class:`~l2l_lib.model.MetaLSTM`.
        batch: Boolean streams (e.g. :func:`probe_batch`).
        pattern: input pattern 0..3 (``2*x1 + x2``) whose answer the cell is thought to store.
        unit: the cell, 0..H-1 (e.g. ``slot_map(...).best_unit[pattern]``).
        at_step: step of the overwrite, 1..T-1; default ``T // 2``.

    Returns:
        an :class:`Intervention`; its fractions are NaN where nothing could be counted.
    """
    n_units = _check_model(model)
    _check_batch(batch)
    pattern = _check_pattern(pattern)
    unit = _check_unit("unit", unit, n_units)
    steps = batch.seq_len
    if at_step is None:
        at_step = steps // 2
    at_step = int(at_step) if isinstance(at_step, np.integer) else at_step
    check_int("at_step", at_step, minimum=1, maximum=steps - 1)

    c, _, intact = _trace(model, batch)
    answers, known = stored_answers(batch)
    cell = c[..., unit]
    seen = known[..., pattern]
    answer = answers[..., pattern]
    value0 = float(cell[seen & (answer == 0)].median()) if bool((seen & (answer == 0)).any()) else math.nan
    value1 = float(cell[seen & (answer == 1)].median()) if bool((seen & (answer == 1)).any()) else math.nan
    # only streams whose answer is known; a missing median means that answer never occurred on this batch
    chosen = seen[:, at_step].clone()
    new_value = torch.where(answer[:, at_step] == 1, torch.tensor(value0), torch.tensor(value1))
    chosen &= ~torch.isnan(new_value)
    device = next(model.parameters()).device
    chosen_dev, new_dev = chosen.to(device), new_value.to(device, c.dtype)

    def overwrite(t: int, layer: int, state: torch.Tensor) -> torch.Tensor:
        if t != at_step or layer != 0:
            return state
        state = state.clone()
        state[:, unit] = torch.where(chosen_dev, new_dev, state[:, unit])
        return state

    _, _, changed = _trace(model, batch, overwrite)
    flips = (changed >= 0.5) != (intact >= 0.5)  # [B, T]
    segment = torch.cumsum(batch.segment_starts.long(), dim=1)
    window = (torch.arange(steps) >= at_step).unsqueeze(0) & (segment == segment[:, at_step:at_step + 1])
    window &= chosen.unsqueeze(1)
    current = pattern_of(batch)
    flipped, n_first = np.full(4, np.nan), np.zeros(4, dtype=np.int64)
    flipped_all, n_steps = np.full(4, np.nan), np.zeros(4, dtype=np.int64)
    for q in range(4):
        answered = window & (current == q)
        n_steps[q] = int(answered.sum())
        if n_steps[q]:
            flipped_all[q] = float(flips[answered].double().mean())
        has = answered.any(dim=1)
        n_first[q] = int(has.sum())
        if n_first[q]:
            first = answered.double().argmax(dim=1)  # index of the first True in each row
            flipped[q] = float(flips[has, first[has]].double().mean())
    return Intervention(pattern=pattern, unit=unit, at_step=at_step, values=(value0, value1),
                        n_streams=int(chosen.sum()), flipped=flipped, n_first=n_first,
                        flipped_all=flipped_all, n_steps=n_steps)


def intervene_slots(model: MetaLSTM, batch: Batch, slot: SlotMap) -> np.ndarray:
    """:func:`intervene_flip` at each pattern's candidate slot (``slot.best_unit``), as one matrix.

    Returns:
        ``[4, 4]``: row p, the slot found for pattern p was overwritten; column q, the fraction of first
        answers to pattern q that flipped (:attr:`Intervention.flipped`). A row is NaN where pattern p has no
        candidate (``best_unit[p] == -1``). A clean slot map gives ~1 on the diagonal and ~0 elsewhere.
    """
    check(isinstance(slot, SlotMap), "slot", "a SlotMap", type(slot).__name__)
    return np.array([intervene_flip(model, batch, p, unit).flipped if unit >= 0 else np.full(4, np.nan)
                     for p, unit in enumerate(slot.best_unit)])


# ----------------------------------------------------------------------------- verdict
def report_picture(slot: SlotMap, ablation: Ablation, threshold: float = 0.8) -> dict[str, Any]:
    """The student report's picture, checked against the measurements.

    Rules (``threshold`` is one |correlation| level for all of them):

    * a pattern has a *slot* when its best unit's ``slot.corr >= threshold``;
    * a unit is *input memory* when its state (c or h) after a step correlates with one of that step's
      input bits at ``>= threshold`` (``slot.prev_input_corr_c/h``);
    * a unit *recognises (0,0)* when its c or h correlates with "the current input is (0,0)" at
      ``>= threshold`` (``slot.pattern_corr_c/h``; a unit coding a single bit reaches only 0.58 there);
    * for each slot unit that ``ablation`` silenced: does silencing it hurt its own pattern the most?

    Returns:
        a dict: ``slot_units`` (pattern -> unit or None), ``distinct_slots`` (the found slot units are all
        different), ``four_slots`` (all four patterns have slots, in four distinct units),
        ``input_memory_units`` and ``input_memory`` (non-empty), ``recogniser_00_units``,
        ``ablation_hurts_own_pattern`` (pattern -> bool, or None where not measured) and
        ``ablation_damage`` (unit -> overall MSE increase when silenced).
    """
    check(isinstance(slot, SlotMap), "slot", "a SlotMap", type(slot).__name__)
    check(isinstance(ablation, Ablation), "ablation", "an Ablation", type(ablation).__name__)
    check_number("threshold", threshold, 0.0, 1.0, low_open=True)
    check(all(u < slot.n_units for u in ablation.units), "ablation.units",
          f"units of the slot map's network (0..{slot.n_units - 1})", ablation.units)
    slot_units = {p: (slot.best_unit[p] if slot.best_unit[p] >= 0 and slot.confidence[p] >= threshold else None)
                  for p in range(4)}
    found = [u for u in slot_units.values() if u is not None]
    distinct = len(set(found)) == len(found)
    memory = np.maximum(slot.prev_input_corr_c, slot.prev_input_corr_h).max(axis=1)
    memory_units = [int(u) for u in np.flatnonzero(memory >= threshold)]
    recognise = np.maximum(slot.pattern_corr_c[:, 0], slot.pattern_corr_h[:, 0])
    row_of = {u: k for k, u in enumerate(ablation.units)}
    hurts: dict[int, bool | None] = {}
    for p, u in slot_units.items():
        if u is None or u not in row_of:
            hurts[p] = None
        else:
            damage = ablation.damage_by_pattern[row_of[u]]
            hurts[p] = bool(np.isfinite(damage[p]) and np.nanargmax(damage) == p)
    return {
        "threshold": float(threshold),
        "slot_units": slot_units,
        "distinct_slots": distinct,
        "four_slots": len(found) == 4 and distinct,
        "input_memory_units": memory_units,
        "input_memory": bool(memory_units),
        "recogniser_00_units": [int(u) for u in np.flatnonzero(recognise >= threshold)],
        "ablation_hurts_own_pattern": hurts,
        "ablation_damage": {u: float(ablation.mse[k] - ablation.intact_mse) for k, u in enumerate(ablation.units)},
    }
