"""`python -m l2l_lib list / run` and the functions behind them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from book_checks import CHAPTERS, JUPYTEXT_HEADER, ROOT
from l2l_lib import cli
from smoke_parameters import SMOKE_PARAMETERS

# The chapter run end to end (the placeholder first_run while it exists).
RUN_CHAPTER = "first_run" if "first_run" in CHAPTERS else next(iter(CHAPTERS), None)


def l2l(*args: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``python -m l2l_lib ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "l2l_lib", *args],
        cwd=root, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
    )


def as_cli_value(value: object) -> str:
    """How a value is written on the command line."""
    return value if isinstance(value, str) else repr(value)


# ------------------------------------------------------------------------------- list


def test_there_are_chapters() -> None:
    assert CHAPTERS, "no chapter of the book has a `parameters` cell"
    assert all(path.suffix == ".md" and path.parent.name == "book" for path in CHAPTERS.values())


def test_list_shows_every_chapter_and_parameter() -> None:
    result = l2l("list")
    assert result.returncode == 0, result.stderr
    for name in CHAPTERS:
        assert name in result.stdout
        for parameter, default in cli.chapter_parameters(name).items():
            assert f"{parameter} = {default!r}" in result.stdout


def test_chapter_parameters_are_the_cell_literals() -> None:
    for name in CHAPTERS:
        defaults = cli.chapter_parameters(name)
        assert defaults, f"{name}: empty parameters cell"
        assert all(isinstance(k, str) for k in defaults)


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
    for parameter, default in cli.chapter_parameters(RUN_CHAPTER).items():
        assert f"{parameter} = {default!r}" in result.stderr
    assert not list(tmp_path.iterdir())


def test_badly_typed_value_exits_2(tmp_path: Path) -> None:
    defaults = cli.chapter_parameters(RUN_CHAPTER)
    numeric = [k for k, v in defaults.items() if isinstance(v, (int, float))]
    if not numeric:
        pytest.skip(f"{RUN_CHAPTER} has no numeric parameter")
    result = l2l("run", RUN_CHAPTER, "-p", numeric[0], "not-a-number", "-o", str(tmp_path / "out.ipynb"))
    assert result.returncode == 2
    assert numeric[0] in result.stderr and "not-a-number" in result.stderr
    assert not list(tmp_path.iterdir())


def test_api_raises_usage_error_before_running(tmp_path: Path) -> None:
    with pytest.raises(cli.UsageError, match="valid chapters"):
        cli.run_chapter("no_such_chapter", {}, tmp_path / "x.ipynb")
    with pytest.raises(cli.UsageError, match="valid parameters"):
        cli.run_chapter(RUN_CHAPTER, {"no_such_parameter": 1}, tmp_path / "x.ipynb")
    assert not list(tmp_path.iterdir())


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
        ("None", None, None),
        ("7", None, 7),
        ("text", None, "text"),
    ],
)
def test_parse_value_uses_the_type_of_the_default(text: str, default: object, expected: object) -> None:
    value = cli.parse_value("p", text, default)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "default"),
    [("3.5", 1), ("ten", 1), ("1,000", 1), ("x", 0.1), ("maybe", True), ("[1, 2", [1]), ("{1: 2}", [1]), ("3", [1])],
)
def test_parse_value_rejects_the_wrong_type(text: str, default: object) -> None:
    with pytest.raises(cli.UsageError, match="expects"):
        cli.parse_value("p", text, default)


def test_typed_values_from_python_are_checked() -> None:
    defaults = cli.chapter_parameters(RUN_CHAPTER)
    name, default = next(iter(defaults.items()))
    assert cli.resolve_parameters(RUN_CHAPTER, {name: default}) == {name: default}
    wrong = object()
    with pytest.raises(cli.UsageError):
        cli.resolve_parameters(RUN_CHAPTER, {name: wrong})


def test_parameters_cell_parsing_and_rewriting() -> None:
    source = (
        '# the task family\nfamily = "boolean16"  # comment kept\n'
        "n_epochs: int = 2000\nheld_out = [0, 6,\n            9]\nrate = 1e-2\n"
    )
    values = cli._parse_parameters_source(source, "cell")
    assert values == {"family": "boolean16", "n_epochs": 2000, "held_out": [0, 6, 9], "rate": 0.01}
    rewritten = cli._rewrite_parameters_source(source, {"n_epochs": 5, "held_out": (1,), "family": "é"})
    assert "# comment kept" in rewritten and "# the task family" in rewritten
    assert cli._parse_parameters_source(rewritten, "cell") == {
        "family": "é", "n_epochs": 5, "held_out": (1,), "rate": 0.01,
    }
    with pytest.raises(ValueError, match="literal"):
        cli._parse_parameters_source("n = 2 ** 10\n", "cell")
    with pytest.raises(ValueError, match="assignments"):
        cli._parse_parameters_source("import os\n", "cell")


# ------------------------------------------------------------------------ end to end


def test_run_writes_the_executed_notebook_with_the_injected_values(tmp_path: Path) -> None:
    smoke = SMOKE_PARAMETERS[RUN_CHAPTER]
    args: list[str] = []
    for name, value in smoke.items():
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
    source = "".join(injected[0]["source"])
    assert cli._parse_parameters_source(source, "injected") == smoke
    assert not [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]


TOY_CHAPTER = JUPYTEXT_HEADER + """
# Toy

```{code-cell} ipython3
:tags: [parameters]

fail = False
held_out = (0, 6, 9)
rate = 0.5
name = "x"
```

```{code-cell} ipython3
import os
assert isinstance(held_out, tuple) and isinstance(rate, float) and isinstance(name, str), (held_out, rate, name)
cwd = os.getcwd()
if fail:
    raise RuntimeError("boom")
print(held_out, rate, name, cwd)
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
    assert "boom" in result.stderr
    assert not output.exists()
    assert failed.is_file()
    nb = json.loads(failed.read_text())
    assert any(o["output_type"] == "error" for c in nb["cells"] for o in c.get("outputs", []))
    assert sorted(p.name for p in output.parent.iterdir()) == [failed.name]

    # A tuple stays a tuple, the kernel runs in book/, and a success clears the failure.
    path = cli.run_chapter("toy", {"held_out": "[1, 2]", "rate": 2}, root=toy_root)
    assert path == output.resolve()
    assert not failed.exists()
    nb = json.loads(output.read_text())
    printed = "".join(
        "".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "stream"
    )
    assert f"(1, 2) 2.0 x {(toy_root / 'book').resolve()}" in printed
