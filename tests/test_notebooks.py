"""Every chapter, executed at smoke size: no errors, its glued outputs, and nbval.

Each chapter runs once (session fixture) through ``run_chapter`` with its
values from tests/smoke_parameters.py.  Then

* the executed notebook has no error output, glues every key that the
  chapter's prose pastes ({glue:text}, {glue:figure}, {glue}, ...), and every
  glued figure is a PNG;
* nbval re-executes that papermill-prepared notebook (parameters injected) in
  a fresh kernel, in book/, and compares each output with the first run's,
  after the substitutions of tests/nbval_sanitize.cfg: the smoke run
  reproduces.  nbval leaves out ``image/png`` outputs, but compares glued ones
  (``application/papermill.record/image/png``) byte for byte, and compares
  glued values (``application/papermill.record/text/plain``) as text.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from book_checks import CHAPTERS, glue_references, glued_outputs, is_figure, mime_types
from l2l_lib.book import resolve_parameters, run_chapter
from smoke_parameters import SMOKE_PARAMETERS

SANITIZE = Path(__file__).resolve().parent / "nbval_sanitize.cfg"


def test_every_chapter_has_smoke_parameters() -> None:
    missing = sorted(set(CHAPTERS) - set(SMOKE_PARAMETERS))
    assert not missing, (
        f"chapters with a parameters cell but no entry in tests/smoke_parameters.py: {missing}"
    )
    stale = sorted(set(SMOKE_PARAMETERS) - set(CHAPTERS))
    assert not stale, f"tests/smoke_parameters.py names chapters that do not exist: {stale}"


@pytest.mark.parametrize("name", sorted(SMOKE_PARAMETERS))
def test_smoke_parameters_are_valid(name: str) -> None:
    resolve_parameters(name, SMOKE_PARAMETERS[name])  # raises UsageError


@pytest.fixture(scope="session", params=sorted(CHAPTERS))
def executed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """(chapter, its notebook executed by run_chapter at smoke size)."""
    name = request.param
    if name not in SMOKE_PARAMETERS:
        pytest.fail(f"{name}: no smoke parameters in tests/smoke_parameters.py")
    output = tmp_path_factory.mktemp("executed") / f"{name.replace('/', '__')}.ipynb"
    # A cache of its own, so this run trains (as nbval's rerun will) instead of loading a network
    # another test trained: both runs then print the same things.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("L2L_CACHE_DIR", str(output.parent / "cache"))
        run_chapter(name, SMOKE_PARAMETERS[name], output)
    return name, output


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.notebook
def test_no_error_outputs(executed: tuple[str, Path]) -> None:
    name, path = executed
    errors = [
        f"{o['ename']}: {o['evalue']}"
        for c in _load(path)["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"
    ]
    assert not errors, f"{name}: {errors}"


@pytest.mark.notebook
def test_glued_keys_and_figures(executed: tuple[str, Path]) -> None:
    name, path = executed
    refs = glue_references(CHAPTERS[name])
    glued = glued_outputs(_load(path))
    referenced = set().union(*refs.values()) if refs else set()
    missing = sorted(referenced - set(glued))
    assert not missing, f"{name}: the prose pastes glue keys that the notebook never glues: {missing}"
    for key in refs.get("figure", set()):
        assert "image/png" in mime_types(glued[key]), f"{name}: glued figure {key!r} has no PNG"
    for key, output in glued.items():
        if is_figure(output):
            assert "image/png" in mime_types(output), f"{name}: glued figure {key!r} has no PNG"


@pytest.mark.notebook
def test_nbval_reproduces_the_smoke_run(executed: tuple[str, Path]) -> None:
    """nbval re-executes the papermill notebook and compares outputs.

    nbval runs the kernel in the notebook's folder: the notebook is copied into
    book/ (as a git-ignored, build-excluded ``book/*.ipynb``) so the kernel's
    working directory is the book's, as in the build.
    """
    name, path = executed
    target = CHAPTERS[name].parent / f".nbval-{Path(name).name}-{os.getpid()}.ipynb"
    shutil.copy2(path, target)
    try:
        result = subprocess.run(
            [
                sys.executable, "-m", "pytest", "--nbval", str(target.name),
                "--nbval-current-env", "--nbval-sanitize-with", str(SANITIZE),
                "-p", "no:cacheprovider", "-p", "no:benchmark", "-q", "-o", "addopts=",
                "--rootdir", str(target.parent),
                "-c", os.devnull,
            ],
            # a cache of its own: nbval retrains instead of loading the first run's network, so the
            # comparison checks that training itself reproduces
            env={**os.environ, "L2L_CACHE_DIR": str(path.parent / "nbval-cache")},
            cwd=target.parent, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            timeout=3600,
        )
    finally:
        target.unlink(missing_ok=True)
    assert result.returncode == 0, f"{name}: nbval failed\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
    assert " passed" in result.stdout
