"""Rebuilds re-execute exactly the chapters whose library code changed (l2l_lib.book.dependencies, .build)."""

import textwrap
from pathlib import Path

import nbformat
import pytest

from book_checks import JUPYTEXT_HEADER, ROOT
from l2l_lib.book.build import forget_executions, notebook_pages
from l2l_lib.book.dependencies import chapter_dependencies, chapter_digest, library_imports

def chapter(code: str) -> str:
    return JUPYTEXT_HEADER + "\n# A page\n\n```{code-cell} ipython3\n" + textwrap.dedent(code).strip() + "\n```\n"


def write_files(folder: Path, contents: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for name, text in contents.items():
        (folder / name).write_text(text)


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    """A tiny book: x imports l2l_lib.b (which imports a), y imports c; __init__ imports a."""
    write_files(tmp_path / "l2l_lib", {
        "__init__.py": "from .a import f\n",
        "a.py": "def f():\n    return 1\n",
        "b.py": "from l2l_lib.a import f\n\ndef g():\n    return f()\n",
        "c.py": "import math\n",
        "d.py": "X = 4\n",
    })
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
    assert names(chapter_dependencies(root / "book" / "x.md", root)) == ["__init__.py", "a.py", "b.py"]
    assert names(chapter_dependencies(root / "book" / "y.md", root)) == ["__init__.py", "a.py", "c.py"]


def test_a_change_invalidates_exactly_the_chapters_that_depend_on_it(root):
    def digests():
        return {page: chapter_digest(root / "book" / f"{page}.md", root) for page in ("x", "y")}

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
    assert names(notebook_pages(root)) == ["x.md", "y.md"]


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
    assert forget_executions(tmp_path / "cache", [pages[1]]) == 1
    assert [r.uri for r in cache.list_cache_records()] == [str(pages[0])]
    assert forget_executions(tmp_path / "missing", pages) == 0


def test_subpackages_and_relative_imports_are_followed(root):
    """A chapter importing l2l_lib.sub depends on sub/__init__.py, what it imports relatively, and above."""
    sub = root / "l2l_lib" / "sub"
    write_files(sub, {
        "__init__.py": "from .inner import h\n",
        "inner.py": "from ..c import *\nfrom . import other\n\ndef h():\n    return 0\n",
        "other.py": "X = 1\n",
        "unused.py": "Y = 1\n",
    })
    (root / "book" / "z.md").write_text(chapter("from l2l_lib.sub import h"))
    deps = chapter_dependencies(root / "book" / "z.md", root)
    assert [p.relative_to(root / "l2l_lib").as_posix() for p in deps] == [
        "__init__.py", "a.py", "c.py", "sub/__init__.py", "sub/inner.py", "sub/other.py"]
    before = chapter_digest(root / "book" / "z.md", root)
    (sub / "other.py").write_text("X = 2\n")
    assert chapter_digest(root / "book" / "z.md", root) != before


def test_library_imports_resolve_relative_names():
    assert library_imports("from ..packed import f", current="experiments.common") >= {"packed", "packed.f"}
    assert library_imports("from .common import f", current="experiments", is_package=True) >= {"experiments.common"}
    assert library_imports("import l2l_lib.book.run\nimport numpy") == {"book.run"}
    assert library_imports("from l2l_lib import (") == {"*"}  # unparsable: everything


def test_the_book_chapters_depend_on_what_they_import():
    intro = names(chapter_dependencies(ROOT / "book" / "intro.md"))
    first_run = names(chapter_dependencies(ROOT / "book" / "first_run.md"))
    assert "reference.py" in intro and "reference.py" not in first_run
    assert {"__init__.py", "plots.py", "recipes.py"} <= set(first_run)
    assert not {"cli.py", "run.py", "build.py"} & set(first_run)  # the book tooling is not the chapters' code
