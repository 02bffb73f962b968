#!/usr/bin/env python
"""Benchmarks of l2l_lib and of the book: ``python benchmarks/run.py [--quick] [--output PATH] [--skip-build]``.

Everything runs on **one CPU thread** (``torch.set_num_threads(1)``) and every comparison is a ratio of
times measured in the same run, so that the numbers mean something on a shared, noisy machine. Sections
of the results file (JSON, default ``benchmarks/results.json``, written atomically):

``step_ms``
    One training step (forward, backward, Adam step) on a fixed, pre-drawn Boolean-16 minibatch
    (6 units, sequences of 256, 16 sequences per seed) for each implementation: ``nn_lstm``
    (:class:`~l2l_lib.model.MetaLSTM` with forget gate, on ``nn.LSTM``), ``nn_lstm_no_forget`` (the
    original LSTM: ``nn.LSTM`` with the forget gate pinned open), ``python_loop`` and
    ``python_loop_no_forget`` (the reference cell :func:`~l2l_lib.model.lstm_step` called in a Python
    loop over time) and ``packed_S`` (:class:`~l2l_lib.packed.PackedMetaLSTM` of S seeds, loss = the sum
    over seeds of each seed's MSE). Implementations are interleaved (each repeat times a block of steps
    of every implementation, in a rotated order) so that drift in the machine's load hits all of them
    alike; the median over repeats is reported, per step and per seed-step, with the ratios computed
    from those medians. ``data_ms`` is the time to draw one minibatch (real training draws one per seed
    and step), ``eval_ms`` one evaluation pass (no gradient) over ``eval_sequences`` sequences.
``seeds_per_hour``
    Seeds of the Boolean-16 recipe (its ``n_steps``, ``eval_every``, ``eval_sequences``) one CPU core
    trains per hour, estimated from the step, data and evaluation times above (formula in the file).
``time_to_target``
    For each chapter with a training target: its recipe (the defaults of its parameters cell) trained
    for 5 seeds as one pack, and per seed the optimiser steps and wall time until the validation MSE first falls
    below the target (checked at every evaluation, i.e. every ``eval_every`` steps), or None.
``book_build``
    ``python -m l2l_lib build --force`` into a fresh output folder with an empty network cache (from
    scratch: trains and executes every chapter), then ``python -m l2l_lib build`` with nothing changed.
``machine``
    CPU, cores, versions, threads, date, and ``goals``: each goal of the project with the measured
    value and whether it is met.

``--quick`` (well under a minute) uses tiny repeats, S in (1, 8), a tiny time-to-target run and the
smoke-size book (tests/smoke_parameters.py); its numbers only show that the script works.
After writing the default results file the script touches ``book/reproducing.md``, the page that shows
the numbers, so that the next incremental ``python -m l2l_lib build`` re-reads (and re-executes) it.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # this checkout's l2l_lib, whatever is installed

import torch  # noqa: E402

from l2l_lib.book import chapter_parameters, chapters, load_smoke_parameters  # noqa: E402
from l2l_lib.atomic import atomic_write_json, nan_to_null  # noqa: E402
from l2l_lib.baselines import ideal_boolean16_sequence_mse  # noqa: E402
from l2l_lib.model import MetaLSTM, lstm_step  # noqa: E402
from l2l_lib.packed import DEFAULT_PACK_SIZE, PackedMetaLSTM, train_packed  # noqa: E402
from l2l_lib.store import cpu_model  # noqa: E402
from l2l_lib.tasks import make_batch  # noqa: E402
from l2l_lib.recipes import RECIPES, recipe  # noqa: E402
from l2l_lib.train import TrainConfig, build_model  # noqa: E402

DEFAULT_OUTPUT = ROOT / "benchmarks" / "results.json"
PAGE = ROOT / "book" / "reproducing.md"
FORMAT = 2  # 2: optimiser steps are "steps"/"n_steps" (1: "epochs"/"n_epochs"), recipes "recipe" (1: "preset")

#: The project's performance targets, on 2 CPU cores / one thread.
GOAL_HEADLINE_S = 180.0  # every chapter's headline (5 seeds) within 3 minutes
GOAL_BOOK_SCRATCH_S = 900.0  # the whole book from scratch within 15 minutes
GOAL_BOOK_CACHED_S = 30.0  # a rebuild with nothing changed within 30 seconds
GOAL_PACKED_SPEEDUP = 4.0  # >= 4x throughput per seed at S = 8 against one-at-a-time nn.LSTM
GOAL_PACK_S = 8
GOAL_NO_FORGET_RATIO = 1.5  # the no-forget-gate LSTM no slower than 1.5x the forget-gate one
HEADLINE_SEEDS = 5

#: The step benchmark's workload: the Boolean-16 recipe's network and minibatch.
STEP_RECIPE = "boolean16"


# ----------------------------------------------------------------------------------------- helpers


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def python_loop_forward(model: MetaLSTM, inputs: torch.Tensor) -> torch.Tensor:
    """``model(inputs)`` computed with :func:`l2l_lib.model.lstm_step` in a Python loop over time."""
    batch, steps, _ = inputs.shape
    states = [(inputs.new_zeros(batch, n), inputs.new_zeros(batch, n)) for n in model.hidden_sizes]
    outputs = []
    for t in range(steps):
        x = inputs[:, t]
        for k, layer in enumerate(model.layers):
            h, c = lstm_step(x, *states[k], layer, model.forget_gate)
            states[k] = (h, c)
            x = h
        outputs.append(x)
    return model._read_out(torch.stack(outputs, dim=1))


def _training_step(model: torch.nn.Module, loss_fn: Callable[[], torch.Tensor], lr: float) -> Callable[[], None]:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    def step() -> None:
        loss = loss_fn()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def step_functions(config: TrainConfig, pack_sizes: tuple[int, ...]) -> tuple[dict[str, Callable[[], None]], dict[str, int]]:
    """{implementation: a function doing one training step}, {implementation: seeds per step}."""
    generator = torch.Generator().manual_seed(12345)
    batches = [make_batch(config.family, config.batch_size, config.seq_len, functions=config.train_functions,
                          generator=generator) for _ in range(max(pack_sizes))]
    inputs, targets = batches[0].inputs, batches[0].targets
    steps: dict[str, Callable[[], None]] = {}
    seeds: dict[str, int] = {}
    for forget, suffix in ((True, ""), (False, "_no_forget")):
        model = build_model(replace(config, forget_gate=forget))
        steps[f"nn_lstm{suffix}"] = _training_step(
            model, lambda m=model: torch.mean((m(inputs) - targets) ** 2), config.learning_rate)
        seeds[f"nn_lstm{suffix}"] = 1
    for forget, suffix in ((True, ""), (False, "_no_forget")):
        model = build_model(replace(config, forget_gate=forget))
        steps[f"python_loop{suffix}"] = _training_step(
            model, lambda m=model: torch.mean((python_loop_forward(m, inputs) - targets) ** 2), config.learning_rate)
        seeds[f"python_loop{suffix}"] = 1
    for s in pack_sizes:
        packed = PackedMetaLSTM([build_model(replace(config, seed=k)) for k in range(s)])
        x = torch.stack([b.inputs for b in batches[:s]], dim=2)  # [B, T, S, 3]
        y = torch.stack([b.targets for b in batches[:s]], dim=2)  # [B, T, S, 1]
        steps[f"packed_{s}"] = _training_step(
            packed, lambda m=packed, x=x, y=y: ((m(x) - y) ** 2).mean(dim=(0, 1, 3)).sum(), config.learning_rate)
        seeds[f"packed_{s}"] = s
    return steps, seeds


def time_interleaved(functions: dict[str, Callable[[], None]], *, repeats: int, block_s: float,
                     warmup: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Milliseconds per call of each function: ``repeats`` samples each, interleaved.

    Each function is first warmed up and timed once to choose how many calls make a block of about
    ``block_s`` seconds; then every repeat times one block of each function, in an order rotated by one
    at each repeat, so slow drifts of the machine's load spread over all functions.
    """
    calls: dict[str, int] = {}
    for name, fn in functions.items():
        for _ in range(warmup):
            fn()
        started = time.perf_counter()
        fn()
        calls[name] = max(1, round(block_s / max(time.perf_counter() - started, 1e-6)))
    samples: dict[str, list[float]] = {name: [] for name in functions}
    names = list(functions)
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            fn, n = functions[name], calls[name]
            gc.collect()
            started = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - started) / n * 1000.0)
    return samples, calls


# --------------------------------------------------------------------------------------- sections


def bench_steps(quick: bool) -> dict[str, Any]:
    config = recipe(STEP_RECIPE)
    pack_sizes = (1, 8) if quick else (1, 2, 4, 8, 16)
    repeats, block_s, warmup = (3, 0.03, 1) if quick else (9, 0.4, 3)
    functions, seeds = step_functions(config, pack_sizes)
    samples, calls = time_interleaved(functions, repeats=repeats, block_s=block_s, warmup=warmup)
    implementations = {}
    for name, ms in samples.items():
        per_step = median(ms)
        implementations[name] = {
            "seeds": seeds[name], "median_ms": per_step, "per_seed_ms": per_step / seeds[name],
            "min_ms": min(ms), "max_ms": max(ms), "steps_per_repeat": calls[name], "samples_ms": ms,
        }
    nn_ms = implementations["nn_lstm"]["median_ms"]
    ratios = {
        "packed_speedup_per_seed": {str(s): ratio(nn_ms, implementations[f"packed_{s}"]["per_seed_ms"])
                                    for s in pack_sizes},
        "no_forget_over_forget": ratio(implementations["nn_lstm_no_forget"]["median_ms"], nn_ms),
        "python_loop_over_nn_lstm": ratio(implementations["python_loop"]["median_ms"], nn_ms),
        "python_loop_no_forget_over_nn_lstm_no_forget": ratio(
            implementations["python_loop_no_forget"]["median_ms"], implementations["nn_lstm_no_forget"]["median_ms"]),
    }
    # Drawing data and evaluating, timed the same way (interleaved, medians).
    generator = torch.Generator().manual_seed(1)
    single = build_model(config).eval()
    big = max(pack_sizes)
    packed = PackedMetaLSTM([build_model(replace(config, seed=k)) for k in range(big)]).eval()
    eval_batch = make_batch(config.family, config.eval_sequences, config.seq_len,
                            functions=config.train_functions, generator=generator)
    eval_x = eval_batch.inputs
    eval_packed_x = eval_x[:, :, None, :].expand(-1, -1, big, -1).contiguous()

    def draw() -> None:
        make_batch(config.family, config.batch_size, config.seq_len, functions=config.train_functions,
                   generator=generator)

    def evaluate_single() -> None:
        with torch.no_grad():
            single(eval_x)

    def evaluate_packed() -> None:
        with torch.no_grad():
            packed(eval_packed_x)

    other, other_calls = time_interleaved({"data": draw, "eval_nn_lstm": evaluate_single, f"eval_packed_{big}": evaluate_packed},
                                          repeats=repeats, block_s=block_s, warmup=1)
    return {
        "workload": {"recipe": STEP_RECIPE, "family": config.family, "hidden_sizes": list(config.hidden_sizes),
                     "seq_len": config.seq_len, "batch_size_per_seed": config.batch_size,
                     "learning_rate": config.learning_rate, "optimizer": "Adam",
                     "step": "forward + backward + Adam step on a fixed pre-drawn minibatch",
                     "packed_loss": "sum over seeds of each seed's mean squared error"},
        "pack_sizes": list(pack_sizes),
        "repeats": repeats,
        "block_seconds": block_s,
        "implementations": implementations,
        "ratios": ratios,
        "data_ms": {"median_ms": median(other["data"]), "samples_ms": other["data"],
                    "what": f"make_batch of {config.batch_size} sequences of {config.seq_len} (one seed, one step)"},
        "eval_ms": {
            "nn_lstm": {"median_ms": median(other["eval_nn_lstm"]), "seeds": 1},
            f"packed_{big}": {"median_ms": median(other[f"eval_packed_{big}"]), "seeds": big},
            "what": f"forward pass without gradient over {config.eval_sequences} sequences of {config.seq_len}",
        },
    }


def seeds_per_hour(steps: dict[str, Any]) -> dict[str, Any]:
    """Seeds of the Boolean-16 recipe per hour on one core, one at a time and packed."""
    config = recipe(STEP_RECIPE)
    n_evals = math.ceil(config.n_steps / config.eval_every)
    eval_batches = 2 if config.held_out else 1  # validation and held-out batches
    data_ms = steps["data_ms"]["median_ms"]
    impl = steps["implementations"]
    big = max(steps["pack_sizes"])
    pack = GOAL_PACK_S if GOAL_PACK_S in steps["pack_sizes"] else big

    def estimate(step_ms_per_seed: float, eval_ms_per_seed: float) -> dict[str, float]:
        step_s = config.n_steps * step_ms_per_seed / 1000
        data_s = config.n_steps * data_ms / 1000
        eval_s = n_evals * eval_batches * eval_ms_per_seed / 1000
        total = step_s + data_s + eval_s
        return {"steps_s": step_s, "data_s": data_s, "eval_s": eval_s, "seconds_per_seed": total,
                "seeds_per_hour": 3600.0 / total}

    eval_single = steps["eval_ms"]["nn_lstm"]["median_ms"]
    eval_packed = steps["eval_ms"][f"packed_{big}"]["median_ms"] / big
    result = {
        "reference_run": {"recipe": STEP_RECIPE, "n_steps": config.n_steps, "eval_every": config.eval_every,
                          "eval_sequences": config.eval_sequences, "evaluations": n_evals,
                          "batches_per_evaluation": eval_batches},
        "method": ("seconds per seed = n_steps x (step_ms per seed + data_ms) + evaluations x "
                   "batches_per_evaluation x eval_ms per seed; seeds_per_hour = 3600 / that. "
                   f"Packed evaluation is timed at S = {big} and used per seed for every S. "
                   "Not counted: checkpoints, the progress bar, Python overhead of the training loop."),
        "one_at_a_time_nn_lstm": estimate(impl["nn_lstm"]["median_ms"], eval_single),
        "one_at_a_time_nn_lstm_no_forget": estimate(impl["nn_lstm_no_forget"]["median_ms"], eval_single),
        "packed": {str(s): estimate(impl[f"packed_{s}"]["per_seed_ms"], eval_packed) for s in steps["pack_sizes"]},
        "pack_size_used_by_train_seeds": DEFAULT_PACK_SIZE,
    }
    result["packed_speedup_per_seed_with_data_and_eval"] = {
        s: ratio(result["packed"][s]["seeds_per_hour"], result["one_at_a_time_nn_lstm"]["seeds_per_hour"])
        for s in result["packed"]}
    result["headline_pack"] = str(pack)
    return result


# time-to-target: one entry per chapter that has a training target -------------------------------

def _first_run_recipe(parameters: dict[str, Any]) -> tuple[TrainConfig, float, str]:
    # As in book/first_run.md's training cell: the chapter's recipe, seed (None: the recipe's) and overrides.
    name, seed = parameters["recipe"], parameters["seed"]
    config = recipe(name, **{**parameters["overrides"], "seed": RECIPES[name].first_seed if seed is None else seed})
    ideal = ideal_boolean16_sequence_mse(config.seq_len)
    return config, 1.5 * ideal, (f"validation MSE < 1.5 x the ideal learner's MSE at seq_len {config.seq_len} "
                                 f"(1.5 x {ideal:.5f})")


#: {chapter: parameters -> (TrainConfig of seed 0, target validation MSE, description)}. Later chapters
#: with a training target add an entry here.
CHAPTER_TARGETS: dict[str, Callable[[dict[str, Any]], tuple[TrainConfig, float, str]]] = {
    "first_run": _first_run_recipe,
}


def time_to_target(quick: bool) -> list[dict[str, Any]]:
    available = chapters(ROOT)
    smoke = load_smoke_parameters(ROOT) if quick else {}
    n_seeds = 2 if quick else HEADLINE_SEEDS
    entries = []
    for chapter, recipe in CHAPTER_TARGETS.items():
        if chapter not in available:
            continue
        parameters = {**chapter_parameters(chapter, ROOT), **smoke.get(chapter, {})}
        config, target, description = recipe(parameters)
        configs = [replace(config, seed=config.seed + s) for s in range(n_seeds)]
        started = time.perf_counter()
        results = train_packed(configs, checkpoint_dir=None, progress=False)
        wall = time.perf_counter() - started
        per_seed = []
        for result in results:
            h = result.history
            hit = next((i for i, v in enumerate(h.val_mse) if v < target), None)
            per_seed.append({
                "seed": result.config.seed,
                "reached": hit is not None,
                "steps": h.steps[hit] if hit is not None else None,
                # history.seconds of a packed run is the pack's time divided by its seeds
                "wall_s": h.seconds[hit] * n_seeds if hit is not None else None,
                "seconds_per_seed": h.seconds[hit] if hit is not None else None,
                "final_val_mse": h.val_mse[-1],
                "best_val_mse": min(h.val_mse),
            })
        reached = [s for s in per_seed if s["reached"]]
        entries.append({
            "chapter": chapter,
            "parameters": {k: v for k, v in parameters.items()},
            "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
            "target": {"metric": "val_mse", "value": target, "description": description},
            "n_seeds": n_seeds,
            "pack_size": n_seeds,
            "eval_every": config.eval_every,
            "note": "trained as one pack with train_packed (as train_seeds does); the target is checked at "
                    "every evaluation, so steps and times are those of the first evaluation below it",
            "train_wall_s": wall,
            "train_wall_s_per_seed": wall / n_seeds,
            "ms_per_step": 1000 * wall / config.n_steps if config.n_steps else None,
            "seeds_reached": len(reached),
            "median_steps": median([s["steps"] for s in reached]) if reached else None,
            "median_wall_s": median([s["wall_s"] for s in reached]) if reached else None,
            "per_seed": per_seed,
        })
    return entries


def book_build(quick: bool) -> dict[str, Any]:
    """Build the book from scratch (fresh output folder, empty network cache), then again unchanged."""
    work = Path(tempfile.mkdtemp(prefix="l2l-bench-build-"))
    env = {**os.environ, "L2L_CACHE_DIR": str(work / "cache"), "JUPYTER_PREFER_ENV_PATH": "1",
           "MPLBACKEND": "Agg"}
    base = [sys.executable, "-m", "l2l_lib", "--root", str(ROOT), "build", "--output-dir", str(work / "out")]
    if quick:
        base.append("--smoke")
    runs = {}
    try:
        for name, extra in (("from_scratch", ["--force"]), ("cached", [])):
            log = work / f"{name}.log"
            with open(log, "w", encoding="utf-8") as handle:
                started = time.perf_counter()
                rc = subprocess.call(base + extra, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
                seconds = time.perf_counter() - started
            runs[name] = {"seconds": seconds, "returncode": rc,
                          "command": "python -m l2l_lib build" + "".join(f" {a}" for a in extra + (["--smoke"] if quick else []))}
            if rc != 0:
                runs[name]["log_tail"] = log.read_text(encoding="utf-8", errors="replace")[-3000:]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "smoke_size": quick,
        # which book was built: the reproducing page judges the build targets only for the same pages
        "pages": sorted(p.name for p in (ROOT / "book").glob("*.md")),
        "what": ("from_scratch: `build --force` into a fresh output folder with an empty L2L_CACHE_DIR "
                 "(trains every network, executes every chapter); cached: the same command without --force, "
                 "nothing changed"),
        **runs,
    }


def machine_info(quick: bool) -> dict[str, Any]:
    cpu = cpu_model()
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:
        available = os.cpu_count()
    try:
        load = list(os.getloadavg())
    except OSError:
        load = None
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "cores_available": available,
        "torch_threads": torch.get_num_threads(),
        "threads_note": "one thread (torch.set_num_threads(1)) for every timing in this file, "
                        "except the book builds, which run as the user would run them",
        "load_average_at_start": load,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": "quick" if quick else "full",
    }


def goals(results: dict[str, Any], quick: bool) -> list[dict[str, Any]]:
    """Each goal with its measured value and whether it is met (None: not measured, or quick)."""
    out = []

    def add(key: str, goal: str, limit: float, measured: float | None, unit: str, higher_is_better: bool,
            note: str = "") -> None:
        met = None
        if measured is not None and not quick:
            met = measured >= limit if higher_is_better else measured <= limit
        out.append({"key": key, "goal": goal, "limit": limit, "unit": unit, "measured": measured,
                    "comparison": ">=" if higher_is_better else "<=", "met": met, "note": note})

    for entry in results.get("time_to_target") or []:
        add(f"headline_{entry['chapter']}", f"chapter {entry['chapter']}: {entry['n_seeds']} seeds of its recipe trained (one pack)",
            GOAL_HEADLINE_S, entry["train_wall_s"], "s", False,
            f"{entry['n_seeds']} seeds x {entry['config']['n_steps']} steps, one pack, one thread")
    build = results.get("book_build") or {}
    scratch, cached = build.get("from_scratch"), build.get("cached")
    add("book_from_scratch", "the whole book from scratch", GOAL_BOOK_SCRATCH_S,
        scratch["seconds"] if scratch and scratch["returncode"] == 0 else None, "s", False,
        "smoke size" if build.get("smoke_size") else "")
    add("book_cached", "a rebuild with nothing changed", GOAL_BOOK_CACHED_S,
        cached["seconds"] if cached and cached["returncode"] == 0 else None, "s", False,
        "smoke size" if build.get("smoke_size") else "")
    step_ratios = results["step_ms"]["ratios"]
    add("packed_speedup", f"throughput per seed at S = {GOAL_PACK_S}, against one-at-a-time nn.LSTM",
        GOAL_PACKED_SPEEDUP, step_ratios["packed_speedup_per_seed"].get(str(GOAL_PACK_S)), "x", True,
        "training step only, one thread")
    add("no_forget_ratio", "original (no forget gate) LSTM step time / forget-gate LSTM step time",
        GOAL_NO_FORGET_RATIO, step_ratios["no_forget_over_forget"], "x", False)
    return out


# -------------------------------------------------------------------------------------- reporting


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def summary(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [f"l2l_lib benchmarks ({m['mode']}) on {m['cpu']}, {m['logical_cores']} logical cores, "
             f"{m['torch_threads']} torch thread, torch {m['torch']}, {m['date_utc']}", ""]
    steps = results["step_ms"]
    w = steps["workload"]
    lines.append(f"Training step ({w['family']}, {w['hidden_sizes']} units, seq_len {w['seq_len']}, "
                 f"{w['batch_size_per_seed']} sequences per seed), median of {steps['repeats']} interleaved repeats:")
    lines.append(f"  {'implementation':<24}{'seeds':>6}{'ms/step':>10}{'ms/seed-step':>14}{'speedup/seed':>14}")
    nn_ms = steps["implementations"]["nn_lstm"]["median_ms"]
    for name, impl in steps["implementations"].items():
        lines.append(f"  {name:<24}{impl['seeds']:>6}{impl['median_ms']:>10.2f}{impl['per_seed_ms']:>14.2f}"
                     f"{nn_ms / impl['per_seed_ms']:>14.2f}")
    r = steps["ratios"]
    lines.append(f"  no_forget / forget: {_fmt(r['no_forget_over_forget'])}x;  python loop / nn.LSTM: "
                 f"{_fmt(r['python_loop_over_nn_lstm'], '.1f')}x (no forget gate: "
                 f"{_fmt(r['python_loop_no_forget_over_nn_lstm_no_forget'], '.1f')}x)")
    lines.append(f"  data: {steps['data_ms']['median_ms']:.3f} ms per minibatch; evaluation: "
                 + ", ".join(f"{k} {v['median_ms']:.1f} ms" for k, v in steps["eval_ms"].items() if isinstance(v, dict)))
    sph = results["seeds_per_hour"]
    lines.append("")
    lines.append(f"Seeds per hour, {sph['reference_run']['recipe']} recipe ({sph['reference_run']['n_steps']} steps): "
                 f"one at a time {sph['one_at_a_time_nn_lstm']['seeds_per_hour']:.2f}; packed "
                 + ", ".join(f"S={s}: {v['seeds_per_hour']:.2f}" for s, v in sph["packed"].items()))
    for entry in results["time_to_target"]:
        lines.append("")
        lines.append(f"Time to target, {entry['chapter']} ({entry['n_seeds']} seeds packed, "
                     f"{entry['config']['n_steps']} steps in {entry['train_wall_s']:.1f} s): {entry['target']['description']}")
        for s in entry["per_seed"]:
            lines.append(f"  seed {s['seed']}: " + (f"step {s['steps']}, {s['wall_s']:.1f} s" if s["reached"]
                                                    else "not reached") + f" (final val MSE {s['final_val_mse']:.5f})")
    build = results.get("book_build")
    lines.append("")
    if build:
        for name in ("from_scratch", "cached"):
            run = build[name]
            lines.append(f"Book build {name}: {run['seconds']:.1f} s (exit code {run['returncode']})")
    else:
        lines.append("Book build: skipped")
    lines.append("")
    lines.append("Goals:")
    for g in m["goals"]:
        met = {True: "met", False: "NOT met", None: "n/a"}[g["met"]]
        lines.append(f"  {g['goal']}: {_fmt(g['measured'])} {g['unit']} (goal {g['comparison']} {g['limit']:g}) {met}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a quick check that everything runs (< 1 minute)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"results file (default: {DEFAULT_OUTPUT})")
    parser.add_argument("--skip-build", action="store_true", help="do not time the book builds")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    started = time.perf_counter()
    results: dict[str, Any] = {"format": FORMAT, "machine": machine_info(args.quick)}
    print("timing training steps...", file=sys.stderr, flush=True)
    results["step_ms"] = bench_steps(args.quick)
    results["seeds_per_hour"] = seeds_per_hour(results["step_ms"])
    print("training to the chapters' targets...", file=sys.stderr, flush=True)
    results["time_to_target"] = time_to_target(args.quick)
    if args.skip_build:
        results["book_build"] = None
    else:
        print("building the book (from scratch, then cached)...", file=sys.stderr, flush=True)
        results["book_build"] = book_build(args.quick)
    results["machine"]["goals"] = goals(results, args.quick)
    results["machine"]["benchmark_seconds"] = time.perf_counter() - started
    results = nan_to_null(results)
    output = args.output.resolve()
    atomic_write_json(output, results)
    if output == DEFAULT_OUTPUT.resolve() and PAGE.is_file():
        PAGE.touch()  # the page's code cells did not change: make the next build re-read it
    print(summary(results))
    print(f"\nwritten to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
