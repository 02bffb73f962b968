"""`python -m l2l_lib list / recipes / run` and the functions of l2l_lib.book behind them."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from book_checks import CHAPTERS, JUPYTEXT_HEADER, ROOT
from l2l_lib import cli
from l2l_lib.book import UsageError, chapter_parameters, parse_value, resolve_parameters, run_chapter
from l2l_lib.book.chapters import parse_parameters_source
from l2l_lib.book.configs import chapter_configs, is_recipe_parameter, non_default_fields
from l2l_lib.book.dependencies import library_imports
from l2l_lib.book.kernel import QuietKernelManager
from l2l_lib.book.listing import describe_config
from l2l_lib.book.parameters import rename_deprecated
from l2l_lib.book.smoke import rewrite_parameters_source
from l2l_lib.recipes import RECIPES, recipe
from smoke_parameters import SMOKE_PARAMETERS

# The chapter run end to end.
RUN_CHAPTER = "first_run" if "first_run" in CHAPTERS else next(iter(CHAPTERS), None)

#: What a chapter rerun must never print: noise from the kernel the user can do nothing about.
KERNEL_NOISE = ("IPKernelApp", "without encryption", "KeyboardInterrupt")


def l2l(*args: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m l2l_lib ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "l2l_lib", *args],
        cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
    )


def as_cli_value(value: object) -> str:
    """How a value is written on the command line."""
    return value if isinstance(value, str) else repr(value)


def recipe_chapters() -> dict[str, dict[str, object]]:
    """The chapters that select recipes by name (the current convention), with their defaults."""
    found = {name: chapter_parameters(name) for name in CHAPTERS}
    return {name: p for name, p in found.items() if any(is_recipe_parameter(k) for k in p)}


# ------------------------------------------------------------------------------- list


def test_there_are_chapters() -> None:
    assert CHAPTERS, "no chapter of the book has a `parameters` cell"
    assert all(path.suffix == ".md" and path.parent.name == "book" for path in CHAPTERS.values())


def test_list_shows_every_chapter_parameter_and_the_configs_it_trains() -> None:
    result = l2l("list")
    assert result.returncode == 0, result.stderr
    for name in CHAPTERS:
        assert f"{name}  (book/{name}.md)" in result.stdout
        defaults = chapter_parameters(name)
        for parameter, default in defaults.items():
            assert f"{parameter} = {default!r}" in result.stdout
        for entry in chapter_configs(defaults):
            assert f"{entry.parameter} = {entry.recipe!r}, seed" in result.stdout
            for held_out in entry.held_out_sets:
                assert str(held_out) in result.stdout
            assert describe_config(entry.config, "      ") in result.stdout


def test_recipes_lists_every_recipe_with_its_fields() -> None:
    result = l2l("recipes")
    assert result.returncode == 0, result.stderr
    for name, entry in RECIPES.items():
        assert f"\n{name}  (seed" in "\n" + result.stdout
        assert entry.about.split()[0] in result.stdout
        assert describe_config(entry.config, "    ") in result.stdout


def test_non_default_fields_are_what_a_recipe_changes() -> None:
    config = recipe("first_run", n_steps=40)
    changed = non_default_fields(config)
    assert changed["n_steps"] == 40 and "family" not in changed  # boolean16 is TrainConfig's default family
    assert all(getattr(config, k) == v for k, v in changed.items())


def test_chapter_configs_apply_overrides_and_seeds() -> None:
    values = {"recipe": "boolean16", "paper_recipe": "boolean16_boolean_only", "n_seeds": 2, "first_seed": None,
              "paper_first_seed": 7, "overrides": {"n_steps": 40, "seq_len": 16}, "unused_recipe": None}
    values["paper_overrides"] = {"seq_len": 8}  # this recipe only, on top of the chapter's
    configs = {c.parameter: c for c in chapter_configs(values)}
    assert set(configs) == {"recipe", "paper_recipe"}
    assert configs["recipe"].seeds == (10000, 10001) and configs["paper_recipe"].seeds == (7, 8)
    assert configs["recipe"].config == recipe("boolean16", n_steps=40, seq_len=16, seed=10000)
    assert configs["paper_recipe"].config == recipe("boolean16_boolean_only", n_steps=40, seq_len=8, seed=7)
    assert configs["recipe"].held_out_sets == RECIPES["boolean16"].held_out_sets
    two = chapter_configs({"recipe": "boolean16", "n_sets": 2})[0]
    assert two.held_out_sets == RECIPES["boolean16"].held_out_sets[:2] and two.config.held_out == (0, 6, 9)
    one = chapter_configs({"recipe": "boolean16", "overrides": {"held_out": [4, 9, 10]}})[0]
    assert one.held_out_sets == ((4, 9, 10),) and one.config.held_out == (4, 9, 10)
    assert chapter_configs({"recipe": "semilinear"})[0].held_out_sets == ()
    for bad, message in (({"recipe": "boolean17"}, "recipe must be a recipe name, one of"),
                         ({"recipe": "boolean16", "overrides": {"n_stepz": 1}}, "n_stepz"),
                         ({"recipe": "boolean16", "overrides": {"seq_len": 0}}, "seq_len"),
                         ({"recipe": "boolean16", "overrides": [1]}, "overrides must be a dict"),
                         ({"recipe": "boolean16", "n_seeds": 0}, "n_seeds must be an integer >= 1"),
                         ({"recipe": "boolean16", "n_sets": 5}, "n_sets must be an integer in 1..4")):
        with pytest.raises(ValueError, match=message):
            chapter_configs(bad)


# ------------------------------------------------------------------ wrong names: exit 2


def test_unknown_chapter_exits_2_and_lists_chapters(tmp_path: Path) -> None:
    result = l2l("run", "no_such_chapter", "-o", str(tmp_path / "out.ipynb"))
    assert result.returncode == 2
    assert "no_such_chapter" in result.stderr
    for name in CHAPTERS:
        assert name in result.stderr
    assert not list(tmp_path.iterdir())


def test_unknown_parameter_exits_2_and_lists_parameters(tmp_path: Path) -> None:
    result = l2l("run", RUN_CHAPTER, "-p", "no_such_parameter", "1", "-o", str(tmp_path / "out.ipynb"))
    assert result.returncode == 2
    assert "no_such_parameter" in result.stderr
    for parameter, default in chapter_parameters(RUN_CHAPTER).items():
        assert f"{parameter} = {default!r}" in result.stderr
    assert not list(tmp_path.iterdir())


def test_badly_typed_value_exits_2(tmp_path: Path) -> None:
    defaults = chapter_parameters(RUN_CHAPTER)
    numeric = [k for k, v in defaults.items() if isinstance(v, (int, float, dict))]
    if not numeric:
        pytest.skip(f"{RUN_CHAPTER} has no numeric or dict parameter")
    result = l2l("run", RUN_CHAPTER, "-p", numeric[0], "not-a-number", "-o", str(tmp_path / "out.ipynb"))
    assert result.returncode == 2
    assert numeric[0] in result.stderr and "not-a-number" in result.stderr
    assert not list(tmp_path.iterdir())


def test_unknown_recipe_or_override_exits_2_before_any_kernel(tmp_path: Path) -> None:
    chapters = recipe_chapters()
    if not chapters:
        pytest.skip("no chapter selects recipes by name yet")
    name, defaults = next(iter(chapters.items()))
    parameter = next(k for k in defaults if is_recipe_parameter(k))
    result = l2l("run", name, "-p", parameter, "no_such_recipe", "-o", str(tmp_path / "out.ipynb"))
    assert result.returncode == 2
    assert "no_such_recipe" in result.stderr and all(r in result.stderr for r in RECIPES)
    if "overrides" in defaults:
        result = l2l("run", name, "-p", "overrides", "{'n_stepz': 3}", "-o", str(tmp_path / "out.ipynb"))
        assert result.returncode == 2 and "n_stepz" in result.stderr and "n_steps" in result.stderr
    assert not list(tmp_path.iterdir())


def test_api_raises_usage_error_before_running(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="valid chapters"):
        run_chapter("no_such_chapter", {}, tmp_path / "x.ipynb")
    with pytest.raises(UsageError, match="valid parameters"):
        cli.run_chapter(RUN_CHAPTER, {"no_such_parameter": 1}, tmp_path / "x.ipynb")
    assert not list(tmp_path.iterdir())


def test_readers_names_stay_importable_from_cli() -> None:
    for name in ("run_chapter", "chapter_parameters", "chapters", "book_root", "build_book", "resolve_parameters",
                 "parse_value", "load_smoke_parameters", "UsageError", "ROOT", "main"):
        assert hasattr(cli, name), name
    assert cli.ROOT == ROOT


def test_research_modules_import_nothing_of_the_book_tooling() -> None:
    package = ROOT / "l2l_lib"
    offenders = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[0] in ("book", "cli", "__main__"):
            continue
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        imported = library_imports(path.read_text(), current=module, is_package=parts[-1] == "__init__")
        tooling = sorted(m for m in imported if m.split(".")[0] in ("book", "cli"))
        if tooling:
            offenders[str(path.relative_to(ROOT))] = tooling
    assert not offenders


# --------------------------------------------------------------------- value parsing


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("2000", 1, 2000),
        ("-3", 1, -3),
        ("0.5", 0.01, 0.5),
        ("1e-3", 0.01, 0.001),
        ("3", 0.01, 3.0),
        ("true", False, True),
        ("False", True, False),
        ("yes", False, True),
        ("0", True, False),
        ("boolean16", "x", "boolean16"),
        ("3", "x", "3"),
        ("[0, 6, 9]", [1], [0, 6, 9]),
        ("[0, 6, 9]", (1,), (0, 6, 9)),
        ("(1, 2)", [1], [1, 2]),
        ("{'a': 1}", {"b": 2}, {"a": 1}),
        ("{'n_steps': 40, 'held_out': (0, 6)}", {}, {"n_steps": 40, "held_out": (0, 6)}),
        ("{}", {}, {}),
        ("None", None, None),
        ("7", None, 7),
        ("[1, 2]", None, [1, 2]),
        ("text", None, "text"),
    ],
)
def test_parse_value_uses_the_type_of_the_default(text: str, default: object, expected: object) -> None:
    value = parse_value("p", text, default)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "default"),
    [("3.5", 1), ("ten", 1), ("1,000", 1), ("x", 0.1), ("maybe", True), ("[1, 2", [1]), ("{1: 2}", [1]), ("3", [1]),
     ("[1]", {}), ("n_steps=40", {}), ("None", {})],
)
def test_parse_value_rejects_the_wrong_type(text: str, default: object) -> None:
    with pytest.raises(UsageError, match="expects"):
        parse_value("p", text, default)


def test_typed_values_from_python_are_checked() -> None:
    defaults = chapter_parameters(RUN_CHAPTER)
    name, default = next(iter(defaults.items()))
    assert resolve_parameters(RUN_CHAPTER, {name: default}) == {name: default}
    with pytest.raises(UsageError):
        resolve_parameters(RUN_CHAPTER, {name: object()})


# ----------------------------------------------------------------- renamed parameters


def renamed(values: dict[str, object], defaults: dict[str, object]) -> tuple[dict[str, object], list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = rename_deprecated(values, defaults)
    assert all(w.category is DeprecationWarning for w in caught)
    return result, [str(w.message) for w in caught]


def test_n_epochs_becomes_an_n_steps_override() -> None:
    defaults = {"recipe": "boolean16", "overrides": {"seq_len": 16}}
    values, messages = renamed({"n_epochs": "100"}, defaults)
    assert values == {"overrides": {"seq_len": 16, "n_steps": 100}}  # added to the chapter's default overrides
    assert len(messages) == 1 and "'n_epochs' is deprecated" in messages[0]
    assert "use -p overrides \"{'seq_len': 16, 'n_steps': 100}\"" in messages[0]
    values, _ = renamed({"n_epochs": 5, "overrides": "{'batch_size': 4}"}, defaults)
    assert values == {"overrides": {"batch_size": 4, "n_steps": 5}}  # added to the overrides given


def test_prefixed_n_epochs_becomes_the_prefixed_n_steps() -> None:
    values, messages = renamed({"b14_n_epochs": "7", "n_steps": 3}, {"b14_n_steps": 1, "n_steps": 1})
    assert values == {"b14_n_steps": "7", "n_steps": 3}
    assert messages == ["parameter 'b14_n_epochs' is deprecated (one optimiser step is not an epoch); "
                        "use -p b14_n_steps 7"]


def test_prefixed_n_epochs_becomes_an_override_of_that_recipe() -> None:
    defaults = {"paper_net_recipe": "quadratic_paper2001", "overrides": {}, "paper_net_overrides": {}}
    values, messages = renamed({"paper_net_n_epochs": 10}, defaults)
    assert values == {"paper_net_overrides": {"n_steps": 10}}
    assert "use -p paper_net_overrides \"{'n_steps': 10}\"" in messages[0]


def test_an_old_field_name_inside_overrides_is_renamed() -> None:
    values, messages = renamed({"overrides": "{'n_epochs': 40}"}, {"overrides": {}})
    assert values == {"overrides": {"n_steps": 40}} and "overrides['n_epochs']" in messages[0]


def test_names_a_chapter_still_has_are_not_renamed() -> None:
    assert renamed({"n_epochs": 5}, {"n_epochs": 1, "overrides": {}}) == ({"n_epochs": 5}, [])
    assert renamed({"n_epochs": 5}, {"seq_len": 1}) == ({"n_epochs": 5}, [])  # unknown: reported later


def test_old_and_new_name_together_are_refused() -> None:
    with pytest.raises(UsageError, match="give only"):
        rename_deprecated({"n_epochs": 5, "overrides": {"n_steps": 3}}, {"overrides": {}})
    with pytest.raises(UsageError, match="give only"):
        rename_deprecated({"n_epochs": 5, "n_steps": 3}, {"n_steps": 1})


def test_cli_prints_the_deprecation_naming_the_new_spelling(tmp_path: Path) -> None:
    if "overrides" not in chapter_parameters(RUN_CHAPTER):
        pytest.skip(f"{RUN_CHAPTER} has no overrides parameter yet")
    result = l2l("run", RUN_CHAPTER, "-p", "n_epochs", "5", "-p", "no_such_parameter", "1",
                 "-o", str(tmp_path / "out.ipynb"))
    assert result.returncode == 2  # the unknown parameter, after the warning
    assert "warning: parameter 'n_epochs' is deprecated" in result.stderr
    assert "-p overrides \"{'n_steps': 5}\"" in result.stderr


# ------------------------------------------------------------- the parameters cell


def test_parameters_cell_parsing_and_rewriting() -> None:
    source = (
        '# the recipe\nrecipe = "boolean16"  # comment kept\n'
        "n_seeds: int | None = None\nheld_out = [0, 6,\n            9]\nrate = 1e-2\noverrides = {}\n"
    )
    values = parse_parameters_source(source, "cell")
    assert values == {"recipe": "boolean16", "n_seeds": None, "held_out": [0, 6, 9], "rate": 0.01, "overrides": {}}
    new = {"n_seeds": 2, "held_out": (1,), "recipe": "é", "overrides": {"n_steps": 40, "held_out": (0,)},
           "rate": None}
    rewritten = rewrite_parameters_source(source, new)
    assert "# comment kept" in rewritten and "# the recipe" in rewritten
    assert parse_parameters_source(rewritten, "cell") == new
    assert rewrite_parameters_source(rewritten, {"overrides": {}, "n_seeds": None}).endswith("overrides = {}\n")
    with pytest.raises(ValueError, match="literal"):
        parse_parameters_source("n = 2 ** 10\n", "cell")
    with pytest.raises(ValueError, match="assignments"):
        parse_parameters_source("import os\n", "cell")


# ------------------------------------------------------------------------ the kernel


def test_the_kernel_is_not_interrupted_when_it_is_shut_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """jupyter_client interrupts a kernel before shutting it down: the idle kernel logs a KeyboardInterrupt."""
    from jupyter_client.manager import AsyncKernelManager

    interrupted = []

    async def interrupt(self: AsyncKernelManager) -> None:
        interrupted.append(self.shutting_down)

    monkeypatch.setattr(AsyncKernelManager, "_async_interrupt_kernel", interrupt)
    manager = QuietKernelManager()
    asyncio.run(manager._async_interrupt_kernel())  # a cell timeout: interrupted
    manager.shutting_down = True
    asyncio.run(manager._async_interrupt_kernel())  # a shutdown: not
    assert interrupted == [False]


def test_the_kernel_talks_over_ipc_where_a_socket_path_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over TCP, ipykernel warns that the connection is not encrypted."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", "/tmp/runtime")
    assert QuietKernelManager().transport == ("tcp" if sys.platform == "win32" else "ipc")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", "/tmp/" + "deep/" * 12)
    assert QuietKernelManager().transport == "tcp"


# ------------------------------------------------------------------------ end to end


def test_run_writes_the_executed_notebook_with_the_injected_values(tmp_path: Path) -> None:
    """A real rerun: values injected, a renamed parameter accepted, and nothing printed but the warning."""
    smoke = SMOKE_PARAMETERS[RUN_CHAPTER]
    given = {k: v for k, v in smoke.items() if k != "overrides"}
    args: list[str] = []
    overrides = dict(smoke.get("overrides", {}))
    steps = overrides.pop("n_steps", None)
    if steps is not None:  # spelled the old way: must come out as the same override
        args += ["-p", "n_epochs", str(steps)]
    if overrides:
        args += ["-p", "overrides", repr(overrides)]
    for name, value in given.items():
        args += ["-p", name, as_cli_value(value)]
    output = tmp_path / "runs" / f"{RUN_CHAPTER}.ipynb"
    result = l2l("run", RUN_CHAPTER, *args, "-o", str(output))
    assert result.returncode == 0, result.stderr[-3000:]
    assert output.is_file()
    assert sorted(p.name for p in output.parent.iterdir()) == [output.name]  # no partial/failed file
    nb = json.loads(output.read_text())
    assert nb["metadata"]["papermill"]["parameters"] == json.loads(json.dumps(smoke))
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1
    assert parse_parameters_source("".join(injected[0]["source"]), "injected") == smoke
    assert not [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert result.stdout.strip() == str(output.resolve())
    noise = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("warning: ")]
    assert not noise, result.stderr
    assert not any(word in result.stderr for word in KERNEL_NOISE)
    assert ("'n_epochs' is deprecated" in result.stderr) == (steps is not None)


TOY_CHAPTER = JUPYTEXT_HEADER + """
# Toy

```{code-cell} ipython3
:tags: [parameters]

fail = False
held_out = (0, 6, 9)
rate = 0.5
name = "x"
count = None
overrides = {}
```

```{code-cell} ipython3
import os
assert isinstance(held_out, tuple) and isinstance(rate, float) and isinstance(name, str), (held_out, rate, name)
cwd = os.getcwd()
if fail:
    raise RuntimeError("boom")
print(held_out, rate, name, count, overrides, cwd)
```
"""


@pytest.fixture()
def toy_root(tmp_path: Path) -> Path:
    """A book with one small chapter that fails on demand."""
    root = tmp_path / "toy"
    (root / "book").mkdir(parents=True)
    shutil.copy2(ROOT / "_config.yml", root / "_config.yml")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/toy\n")
    (root / "book" / "toy.md").write_text(TOY_CHAPTER)
    return root


def test_failed_run_keeps_a_failed_notebook_and_exits_nonzero(toy_root: Path) -> None:
    output = toy_root / "runs" / "toy.ipynb"
    failed = toy_root / "runs" / "toy.failed.ipynb"
    result = l2l("--root", str(toy_root), "run", "toy", "-p", "fail", "true", root=toy_root)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "boom" in result.stderr and not any(word in result.stderr for word in KERNEL_NOISE)
    assert not output.exists()
    assert failed.is_file()
    nb = json.loads(failed.read_text())
    assert any(o["output_type"] == "error" for c in nb["cells"] for o in c.get("outputs", []))
    assert sorted(p.name for p in output.parent.iterdir()) == [failed.name]

    # A tuple stays a tuple, None and dict defaults take literals, the kernel runs in book/, and a
    # success clears the failure.
    path = run_chapter("toy", {"held_out": "[1, 2]", "rate": 2, "count": "3", "overrides": "{'a': (1,)}"},
                       root=toy_root)
    assert path == output.resolve()
    assert not failed.exists()
    nb = json.loads(output.read_text())
    printed = "".join(
        "".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "stream"
    )
    assert f"(1, 2) 2.0 x 3 {{'a': (1,)}} {(toy_root / 'book').resolve()}" in printed
