"""The benchmark scripts: benchmarks/run.py --quick, benchmarks/recipes.py, benchmarks/device_check.py.

benchmarks/run.py --quick runs, and its results file has every section with sane values. Timings are
never compared with bounds (the machine is shared and noisy); only their consistency is checked:
positive times, ratios equal to the ratios of the times they are computed from, goals that agree with
their measured values. The book page that shows the results (book/reproducing.md) is built with -W by
tests/test_book_build.py; here it is checked against the committed results file. benchmarks/recipes.py
trains a named recipe with overrides at a tiny size.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "run.py"
COMMITTED = ROOT / "benchmarks" / "results.json"
PAGE = ROOT / "book" / "reproducing.md"
SECTIONS = ("format", "machine", "step_ms", "seeds_per_hour", "time_to_target", "book_build")
FORMAT = 2  # steps, not epochs


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    tmp = tmp_path_factory.mktemp("bench")
    output = tmp / "results.json"
    page_mtime = PAGE.stat().st_mtime_ns
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--skip-build", "--output", str(output)],
        cwd=ROOT, env={**os.environ, "L2L_CACHE_DIR": str(tmp / "cache")},
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
    )
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    # --output elsewhere: the page is left alone, and no temporary file is left behind.
    assert PAGE.stat().st_mtime_ns == page_mtime
    assert [p.name for p in tmp.iterdir() if p.name != "cache"] == ["results.json"]
    return json.loads(output.read_text(encoding="utf-8")), result.stdout


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_every_section_is_there(quick: tuple[dict[str, Any], str]) -> None:
    results, stdout = quick
    assert set(SECTIONS) <= set(results)
    assert results["format"] == FORMAT
    assert results["book_build"] is None  # --skip-build
    assert "Goals:" in stdout and "nn_lstm" in stdout


def test_machine(quick: tuple[dict[str, Any], str]) -> None:
    machine = quick[0]["machine"]
    for key in ("cpu", "logical_cores", "cores_available", "torch_threads", "python", "torch", "date_utc", "mode",
                "goals"):
        assert machine.get(key) not in (None, ""), key
    assert machine["torch_threads"] == 1
    assert machine["mode"] == "quick"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", machine["date_utc"])


def test_step_times_and_ratios(quick: tuple[dict[str, Any], str]) -> None:
    steps = quick[0]["step_ms"]
    impl = steps["implementations"]
    expected = {"nn_lstm", "nn_lstm_no_forget", "python_loop", "python_loop_no_forget",
                *(f"packed_{s}" for s in steps["pack_sizes"])}
    assert set(impl) == expected
    assert steps["pack_sizes"] == [1, 8]
    for name, v in impl.items():
        assert len(v["samples_ms"]) == steps["repeats"]
        assert all(t > 0 for t in v["samples_ms"]), name
        assert v["min_ms"] <= v["median_ms"] <= v["max_ms"]
        assert _close(v["per_seed_ms"], v["median_ms"] / v["seeds"])
    assert impl["packed_8"]["seeds"] == 8
    ratios = steps["ratios"]
    nn = impl["nn_lstm"]["median_ms"]
    for s in steps["pack_sizes"]:
        assert _close(ratios["packed_speedup_per_seed"][str(s)], nn / impl[f"packed_{s}"]["per_seed_ms"])
    assert _close(ratios["no_forget_over_forget"], impl["nn_lstm_no_forget"]["median_ms"] / nn)
    assert _close(ratios["python_loop_over_nn_lstm"], impl["python_loop"]["median_ms"] / nn)
    assert _close(ratios["python_loop_no_forget_over_nn_lstm_no_forget"],
                  impl["python_loop_no_forget"]["median_ms"] / impl["nn_lstm_no_forget"]["median_ms"])
    assert steps["data_ms"]["median_ms"] > 0
    assert all(v["median_ms"] > 0 for v in steps["eval_ms"].values() if isinstance(v, dict))


def test_seeds_per_hour_follows_from_the_step_times(quick: tuple[dict[str, Any], str]) -> None:
    results = quick[0]
    steps, sph = results["step_ms"], results["seeds_per_hour"]
    ref = sph["reference_run"]
    one = sph["one_at_a_time_nn_lstm"]
    assert ref["recipe"] == "boolean16"
    assert _close(one["steps_s"], ref["n_steps"] * steps["implementations"]["nn_lstm"]["median_ms"] / 1000)
    assert _close(one["data_s"], ref["n_steps"] * steps["data_ms"]["median_ms"] / 1000)
    for estimate in [one, sph["one_at_a_time_nn_lstm_no_forget"], *sph["packed"].values()]:
        assert _close(estimate["seconds_per_seed"], estimate["steps_s"] + estimate["data_s"] + estimate["eval_s"])
        assert _close(estimate["seeds_per_hour"], 3600 / estimate["seconds_per_seed"])
    for s, value in sph["packed_speedup_per_seed_with_data_and_eval"].items():
        assert _close(value, sph["packed"][s]["seeds_per_hour"] / one["seeds_per_hour"])


def test_time_to_target(quick: tuple[dict[str, Any], str]) -> None:
    entries = quick[0]["time_to_target"]
    assert [e["chapter"] for e in entries][:1] == ["first_run"]
    # the first_run chapter's recipe with its smoke-size overrides (tests/smoke_parameters.py)
    assert entries[0]["config"]["n_steps"] == entries[0]["parameters"]["overrides"]["n_steps"]
    for entry in entries:
        assert entry["target"]["value"] > 0 and entry["train_wall_s"] > 0
        assert len(entry["per_seed"]) == entry["n_seeds"] >= 1
        assert entry["seeds_reached"] == sum(s["reached"] for s in entry["per_seed"])
        for s in entry["per_seed"]:
            assert s["best_val_mse"] <= s["final_val_mse"]
            if s["reached"]:
                assert s["best_val_mse"] < entry["target"]["value"]
                assert 0 < s["steps"] <= entry["config"]["n_steps"] and 0 < s["wall_s"] <= entry["train_wall_s"]
            else:
                assert s["steps"] is None and s["wall_s"] is None
                assert s["best_val_mse"] >= entry["target"]["value"]


def test_goals_agree_with_their_measurements(quick: tuple[dict[str, Any], str]) -> None:
    results = quick[0]
    goals = {g["key"]: g for g in results["machine"]["goals"]}
    assert {"book_from_scratch", "book_cached", "packed_speedup", "no_forget_ratio", "headline_first_run"} <= set(goals)
    ratios = results["step_ms"]["ratios"]
    assert _close(goals["packed_speedup"]["measured"], ratios["packed_speedup_per_seed"]["8"])
    assert _close(goals["no_forget_ratio"]["measured"], ratios["no_forget_over_forget"])
    assert goals["book_from_scratch"]["measured"] is None  # --skip-build
    for goal in goals.values():
        assert goal["met"] is None  # a quick run judges nothing


def test_committed_results_are_a_full_run_the_page_can_read() -> None:
    """benchmarks/results.json (what book/reproducing.md shows) is a complete, full run."""
    results = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert set(SECTIONS) <= set(results)
    assert results["format"] == FORMAT
    assert results["machine"]["mode"] == "full"
    assert results["step_ms"]["pack_sizes"] == [1, 2, 4, 8, 16]
    # a full run may leave out the book build (--skip-build: from scratch, it trains every network); a build
    # it timed names the pages it built, or (format 1) nothing, and then the page judges no build target
    build = results["book_build"]
    assert build is None or all(p.endswith(".md") for p in build.get("pages", []))
    for goal in results["machine"]["goals"]:
        if goal["measured"] is not None:
            expected = (goal["measured"] >= goal["limit"] if goal["comparison"] == ">="
                        else goal["measured"] <= goal["limit"])
            assert goal["met"] is expected, goal
    text = PAGE.read_text(encoding="utf-8")
    assert "results.json" in text
    # the page judges a build only if it built this book's pages (benchmarks/run.py records them)
    assert 'build.get("pages")' in text and '"pages": sorted(' in SCRIPT.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ benchmarks/recipes.py


def _script(name: str) -> ModuleType:
    """benchmarks/NAME.py imported as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recipe_search_parses_literals_and_text() -> None:
    recipes = _script("recipes")
    assert recipes.parse_overrides([["n_steps", "20000"], ["grad_clip", "None"], ["held_out", "(0, 6, 9)"],
                                    ["family", "boolean14"]]) == {
        "n_steps": 20000, "grad_clip": None, "held_out": (0, 6, 9), "family": "boolean14"}


def test_recipe_search_trains_a_named_recipe_with_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("L2L_CACHE_DIR", str(tmp_path / "cache"))
    recipes = _script("recipes")
    out = tmp_path / "search.json"
    assert recipes.main(["boolean16", "--seeds", "2", "--first-seed", "3", "-s", "n_steps", "20", "-s", "seq_len",
                         "12", "-s", "batch_size", "2", "-s", "eval_every", "10", "-s", "held_out", "(4, 9, 10)",
                         "--out", str(out)]) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["recipe"] == "boolean16" and record["overrides"]["n_steps"] == 20
    assert record["config"]["held_out"] == [4, 9, 10]
    assert record["config"]["table_fraction"] == 0.5  # the recipe's own fields are kept
    assert [s["seed"] for s in record["seeds"]] == [3, 4]
    assert all(s["history"]["steps"] == [10, 20] for s in record["seeds"])
    printed = capsys.readouterr().out
    assert "seed 3: val" in printed and "held-out" in printed


def test_recipe_search_without_held_out_functions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """first_run trains on every function: no held-out curve (NaN in the file), none printed."""
    monkeypatch.setenv("L2L_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "search.json"
    assert _script("recipes").main(["first_run", "-s", "n_steps", "10", "-s", "seq_len", "8", "-s", "batch_size",
                                    "2", "-s", "eval_every", "10", "--out", str(out)]) == 0
    (seed,) = json.loads(out.read_text(encoding="utf-8"))["seeds"]
    assert seed["seed"] == 0 and all(math.isnan(v) for v in seed["history"]["held_out_mse"])
    assert "held-out" not in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["boolean16", "-s", "n_stepz", "3"], "unknown TrainConfig fields"),
    (["boolean16", "-s", "n_steps", "-1"], "n_steps must be"),
    (["no_such_recipe"], "invalid choice"),
    # a search never touches the evaluation protocol (l2l_lib.protocol)
    (["boolean16", "--first-seed", "0", "--seeds", "2"], "held_out (0, 6, 9) is an evaluation triple"),
    (["boolean16", "-s", "held_out", "(4, 9, 10)"], "a search uses seeds below 1000 only"),
    (["semilinear", "--first-seed", "999", "--seeds", "2"], "a search uses seeds below 1000 only"),
    ([], "a recipe name is required"),
])
def test_recipe_search_rejects_bad_input_by_name(argv: list[str], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _script("recipes").main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_recipe_search_lists_the_recipes(capsys: pytest.CaptureFixture[str]) -> None:
    assert _script("recipes").main(["--list"]) == 0
    assert "first_run" in capsys.readouterr().out


def test_device_check_imports() -> None:
    """benchmarks/device_check.py needs a GPU to mean anything; here only that it loads against the library."""
    assert callable(_script("device_check").main)
