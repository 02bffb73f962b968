"""The whole book, built at smoke size with -W, renders offline.

``build_book(smoke_parameters=SMOKE_PARAMETERS)`` copies the book to a
temporary folder, rewrites each chapter's parameters cell with its smoke
values and runs ``jupyter-book build -W -n --keep-going`` on the copy (the
session fixture ``html`` of tests/conftest.py, shared with tests/test_browser.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from book_checks import CHAPTERS, ROOT, glue_references
from l2l_lib.book.chapters import toc_files

pytestmark = pytest.mark.notebook


class _Assets(HTMLParser):
    """Collects what a page loads (script/link/img/... sources) and its inline scripts."""

    LOADS = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src",
             "video": "src", "audio": "src", "embed": "src", "object": "data", "track": "src"}

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, str]] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        name = self.LOADS.get(tag)
        if name and attributes.get(name):
            self.loads.append((tag, attributes[name] or ""))
        if tag == "img" and attributes.get("srcset"):
            for part in (attributes["srcset"] or "").split(","):
                self.loads.append((tag, part.strip().split(" ")[0]))
        self._in_script = tag == "script" and not attributes.get("src")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def _assets(page: Path) -> _Assets:
    parser = _Assets()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _is_remote(url: str) -> bool:
    return url.startswith("//") or urlsplit(url).scheme not in ("", "file")


def _local_file(page: Path, url: str) -> Path:
    return (page.parent / unquote(urlsplit(url).path)).resolve()


def _pages(html: Path) -> dict[str, Path]:
    """{toc entry: its HTML page}, root page first."""
    return {entry: html / (Path(entry).with_suffix("").as_posix() + ".html") for entry in toc_files(ROOT)}


def test_index_and_every_page_exist(html: Path) -> None:
    assert (html / "index.html").is_file()
    for entry, page in _pages(html).items():
        assert page.is_file(), f"{entry}: no {page}"


@pytest.mark.parametrize("name", sorted(CHAPTERS))
def test_chapter_page_embeds_figures_and_glued_text(html: Path, name: str) -> None:
    page = html / "book" / f"{name}.html"
    text = page.read_text(encoding="utf-8")
    images = [url for tag, url in _assets(page).loads if tag == "img"]
    refs = glue_references(CHAPTERS[name])
    assert len(images) >= len(refs.get("figure", ())), f"{name}: fewer images than glued figures"
    for url in images:
        assert not _is_remote(url)
        assert _local_file(page, url).is_file(), f"{name}: missing image {url}"
    assert text.count('class="pasted-text"') >= len(refs.get("text", ())), f"{name}: glued text missing"
    for bad in ("glue_error", "Could not find", "no glue", "not found in the glue"):
        assert bad not in text
    # The executed notebook is offered for download, with its figures.
    assert f"_sources/book/{name}.ipynb" in text
    download = html / "_sources" / "book" / f"{name}.ipynb"
    assert download.is_file()
    if refs.get("figure"):
        assert '"image/png"' in download.read_text(encoding="utf-8")


def test_mathjax_is_served_locally(html: Path) -> None:
    pages_with_math = [p for p in html.rglob("*.html") if 'class="math' in p.read_text(encoding="utf-8")]
    assert pages_with_math, "no page has an equation (book/intro.md should)"
    for page in pages_with_math:
        scripts = [url for tag, url in _assets(page).loads if tag == "script" and "mathjax" in url.lower()]
        assert scripts, f"{page}: has math but loads no MathJax"
        for url in scripts:
            assert not _is_remote(url), f"{page}: MathJax from {url}"
            assert _local_file(page, url).is_file(), f"{page}: {url} does not exist"
    assert (html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


def test_nothing_is_loaded_from_another_host(html: Path) -> None:
    remote: list[str] = []
    missing: list[str] = []
    # (_static/*.html are the themes' Jinja macro files, not pages.)
    pages = [p for p in sorted(html.rglob("*.html")) if "_static" not in p.relative_to(html).parts]
    assert len(pages) >= len(_pages(html))
    for page in pages:
        parsed = _assets(page)
        for tag, url in parsed.loads:
            if _is_remote(url):
                remote.append(f"{page.relative_to(html)}: <{tag}> {url}")
            elif not url.startswith(("#", "data:")) and not _local_file(page, url).exists():
                missing.append(f"{page.relative_to(html)}: <{tag}> {url}")
        for script in parsed.inline_scripts:
            for url in re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'`)]*", script):
                remote.append(f"{page.relative_to(html)}: inline script names {url}")
    for css in sorted(html.rglob("*.css")):
        for url in re.findall(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", css.read_text(encoding="utf-8", errors="replace")):
            remote.append(f"{css.relative_to(html)}: url({url})")
        for url in re.findall(r"@import\s+(?:url\()?['\"]?((?:https?:)?//[^)'\";]+)", css.read_text(encoding="utf-8", errors="replace")):
            remote.append(f"{css.relative_to(html)}: @import {url}")
    assert not remote, "\n".join(remote)
    assert not missing, "\n".join(missing)
