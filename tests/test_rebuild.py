"""Rebuilds re-execute exactly the chapters whose library code changed (l2l_lib.cli)."""

import textwrap
from pathlib import Path

import nbformat
import pytest

from book_checks import JUPYTEXT_HEADER
from l2l_lib import cli



def chapter(code: str) -> str:
    return JUPYTEXT_HEADER + "\n# A page\n\n```{code-cell} ipython3\n" + textwrap.dedent(code).strip() + "\n```\n"


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """A tiny book: x imports l2l_lib.b (which imports a), y imports c; __init__ imports a."""
    lib = tmp_path / "l2l_lib"
    lib.mkdir()
    (lib / "__init__.py").write_text("from .a import f\n")
    (lib / "a.py").write_text("def f():\n    return 1\n")
    (lib / "b.py").write_text("from l2l_lib.a import f\n\ndef g():\n    return f()\n")
    (lib / "c.py").write_text("import math\n")
    (lib / "d.py").write_text("X = 4\n")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "x.md").write_text(chapter("%matplotlib inline\nfrom l2l_lib.b import g\ng()"))
    (tmp_path / "book" / "y.md").write_text(chapter("from l2l_lib import c\nimport numpy"))
    (tmp_path / "book" / "plain.md").write_text("# Not a notebook\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/x\nchapters:\n- file: book/y\n- file: book/plain\n")
    (tmp_path / "requirements.txt").write_text("numpy\n")
    return tmp_path


def names(paths):
    return [p.name for p in paths]


def test_dependencies_follow_imports_through_the_library(root):
    assert names(cli.chapter_dependencies(root / "book" / "x.md", root)) == ["__init__.py", "a.py", "b.py"]
    assert names(cli.chapter_dependencies(root / "book" / "y.md", root)) == ["__init__.py", "a.py", "c.py"]


def test_a_change_invalidates_exactly_the_chapters_that_depend_on_it(root):
    def digests():
        return {page: cli.chapter_digest(root / "book" / f"{page}.md", root) for page in ("x", "y")}

    before = digests()
    (root / "l2l_lib" / "d.py").write_text("X = 5\n")  # nobody imports d
    assert digests() == before
    (root / "l2l_lib" / "c.py").write_text("import math\nY = 1\n")
    after_c = digests()
    assert after_c["x"] == before["x"] and after_c["y"] != before["y"]
    (root / "l2l_lib" / "a.py").write_text("def f():\n    return 2\n")  # both, through __init__
    after_a = digests()
    assert after_a["x"] != after_c["x"] and after_a["y"] != after_c["y"]
    (root / "requirements.txt").write_text("numpy==2.0\n")
    assert all(digests()[p] != after_a[p] for p in ("x", "y"))


def test_only_notebook_pages_are_tracked(root):
    assert names(cli._notebook_pages(root)) == ["x.md", "y.md"]


def test_forget_executions_removes_only_the_named_pages(tmp_path):
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(tmp_path / "cache"))
    pages = []
    for k in range(2):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"x = {k}", execution_count=1)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        page = tmp_path / f"page{k}.md"
        pages.append(page)
        cache.cache_notebook_bundle(CacheBundleIn(nb, str(page)), check_validity=False)
    assert cli.forget_executions(tmp_path / "cache", [pages[1]]) == 1
    assert [r.uri for r in cache.list_cache_records()] == [str(pages[0])]
    assert cli.forget_executions(tmp_path / "missing", pages) == 0


def test_the_book_chapters_depend_on_what_they_import():
    intro = names(cli.chapter_dependencies(cli.ROOT / "book" / "intro.md"))
    first_run = names(cli.chapter_dependencies(cli.ROOT / "book" / "first_run.md"))
    assert "reference.py" in intro and "reference.py" not in first_run
    assert {"__init__.py", "train.py", "plots.py"} <= set(first_run) and "cli.py" not in first_run
