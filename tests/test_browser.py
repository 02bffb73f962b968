"""The book as a reader's browser gets it: every page in headless Chromium, offline.

The smoke build (session fixture ``html``, tests/conftest.py) is served on
127.0.0.1 and each page of _toc.yml is loaded in headless Chromium (Debian's
``chromium``, a fresh profile, every host name but 127.0.0.1 unresolvable),
driven over the DevTools protocol (tests/browser.py).  Once MathJax has
typeset the page:

* every ``<img>`` has loaded (``naturalWidth > 0``);
* every equation is MathJax output (``mjx-container``, no ``mjx-merror``) and
  no raw TeX (``$$``, ``\\(``, ``\\begin{``, ``\\frac``...) is left in the
  visible text outside code;
* every request went to the test server on 127.0.0.1, none failed, and the
  server answered none with an error;
* no console error, no uncaught exception, no browser log entry of level error;
* a notebook page offers its executed notebook for download
  (``_sources/PAGE.ipynb``), and that URL serves a valid notebook with outputs;
* a chapter with a parameters cell says how to rerun it
  (``python -m l2l_lib run NAME``).

The search page is loaded too: it must find pages, offline.

Without Chromium the test is skipped (``apt-get install chromium``), except in
CI (``CI`` set), where .ci/run installs it and its absence is a failure.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest

from book_checks import CHAPTERS, ROOT
from browser import Chromium, PageLoad, StaticServer, find_chromium
from l2l_lib.book.chapters import toc_files

pytestmark = pytest.mark.notebook

#: (toc entry, page URL path), root page first
PAGES = [(entry, Path(entry).with_suffix("").as_posix() + ".html") for entry in toc_files(ROOT)]

#: Run in each page once it has loaded: waits for MathJax, fonts and images, then reports.
CHECK_PAGE = r"""
(async () => {
  const wait = ms => new Promise(resolve => setTimeout(resolve, ms));
  const deadline = Date.now() + 30000;
  const mathNodes = Array.from(document.querySelectorAll('.math'));
  let mathjax = false;
  if (mathNodes.length) {
    while (!(window.MathJax && MathJax.startup && MathJax.startup.promise) && Date.now() < deadline) {
      await wait(50);
    }
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      await MathJax.startup.promise;
      mathjax = true;
    }
  }
  await document.fonts.ready;
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = 'eager'; });
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  // The visible text outside code, equations and scripts: where raw TeX must not be.
  const notProse = 'pre, code, script, style, textarea, mjx-container, .highlight';
  const prose = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent && !parent.closest(notProse) && parent.checkVisibility()) prose.push(node.nodeValue);
  }
  return {
    images: images.map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth})),
    math: mathNodes.length,
    mathjax: mathjax,
    untypeset: mathNodes.filter(n => !n.querySelector('mjx-container')).map(n => n.textContent.slice(0, 100)),
    mjx: document.querySelectorAll('mjx-container').length,
    mathErrors: Array.from(document.querySelectorAll('mjx-merror'))
      .map(e => e.getAttribute('data-mjx-error') || e.textContent),
    prose: prose.join(' '),
    text: document.body.innerText,
    downloads: Array.from(document.querySelectorAll('a[href$=".ipynb"]')).map(a => a.href),
  };
})()
"""

#: Run in the search page: waits for Sphinx's search to finish and returns its summary.
CHECK_SEARCH = r"""
(async () => {
  const deadline = Date.now() + 30000;
  let text = '';
  while (!/Search finished/.test(text = document.body.innerText)) {
    if (Date.now() > deadline) throw new Error('the search did not finish: ' + text.slice(0, 500));
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  return {summary: (text.match(/Search finished[^\n]*/) || [''])[0],
          results: document.querySelectorAll('#search-results li').length};
})()
"""

# Raw TeX: display and inline delimiters, environments, commands (\frac, \mathbf, ...).
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\\end\{|\\[A-Za-z]{2,}")


@pytest.fixture(scope="session")  # session, like html: asked for first, it skips before the build
def chromium() -> str:
    path = find_chromium()
    if path is None:
        message = "Chromium not installed: apt-get install chromium (CI's .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; in CI the browser test must run, not be skipped")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def site(chromium: str, html: Path) -> Iterator[tuple[StaticServer, Chromium]]:
    """The smoke build served on 127.0.0.1, and a fresh headless Chromium."""
    with StaticServer(html) as server, Chromium(chromium) as browser:
        yield server, browser


def _load(site: tuple[StaticServer, Chromium], path: str, script: str) -> PageLoad:
    """Load ``path``; fail on a request elsewhere, a failed request, a server error or a console error."""
    server, browser = site
    first = len(server.requests)
    page = browser.load(f"{server.origin}/{path}", script)
    elsewhere = [url for url in page.requests
                 if not url.startswith(server.origin + "/") and urlsplit(url).scheme not in ("data", "blob")]
    assert not elsewhere, f"{path}: requests that leave 127.0.0.1:{server.port}:\n" + "\n".join(elsewhere)
    assert not page.failed, f"{path}: failed requests:\n" + "\n".join(page.failed)
    # The server's own log: (the HTTP cache is off) every request the browser reports reached it,
    # from 127.0.0.1, and was answered without an error.
    # A request the browser reports may still be on its way to the server's log (the favicon is
    # fetched last, at low priority): give the log a few seconds to catch up before judging.
    deadline = time.monotonic() + 5.0
    while True:
        served = server.requests[first:]
        reached = {r.path for r in served}
        unseen = [url for url in page.requests if url.startswith(server.origin + "/")
                  and url[len(server.origin):].split("#")[0] not in reached]
        if not unseen or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not unseen, f"{path}: requests the server never saw:\n" + "\n".join(unseen)
    assert all(r.client == "127.0.0.1" for r in served)
    bad = [f"{r.method} {r.path}: {r.status}" for r in served if r.status >= 400]
    assert not bad, f"{path}: the server answered with errors:\n" + "\n".join(bad)
    assert not page.errors, f"{path}: console errors:\n" + "\n".join(page.errors)
    return page


def _is_notebook_page(entry: str) -> bool:
    """Whether the toc entry is a jupytext notebook (a kernelspec in its front matter)."""
    source = (ROOT / entry).with_suffix(".md")
    head = source.read_text(encoding="utf-8").split("\n---", 1)[0] if source.is_file() else ""
    return "kernelspec:" in head


@pytest.mark.parametrize("entry, path", PAGES, ids=[entry for entry, _ in PAGES])
def test_page_renders_offline(site: tuple[StaticServer, Chromium], html: Path, entry: str, path: str) -> None:
    page = _load(site, path, CHECK_PAGE)
    report = page.value

    # (a) every image loaded
    broken = [img["src"] for img in report["images"] if img["width"] <= 0]
    assert not broken, f"{path}: images that did not load: {broken}"

    # (b) every equation typeset by MathJax, no raw TeX left
    if 'class="math' in (html / path).read_text(encoding="utf-8"):
        assert report["math"] > 0, f"{path}: the HTML has equations but the page has no .math element"
        assert report["mathjax"], f"{path}: MathJax did not start within 30 s"
        assert not report["untypeset"], f"{path}: equations MathJax did not typeset: {report['untypeset']}"
        assert report["mjx"] >= report["math"], f"{path}: {report['mjx']} mjx-container for {report['math']} equations"
    assert not report["mathErrors"], f"{path}: MathJax errors: {report['mathErrors']}"
    raw = sorted({m.group() for m in RAW_TEX.finditer(report["prose"])})
    assert not raw, f"{path}: raw TeX in the visible text: {raw}"

    # (e) the executed notebook is offered for download, and is one
    if _is_notebook_page(entry):
        server, _ = site
        wanted = f"{server.origin}/_sources/{Path(path).with_suffix('.ipynb').as_posix()}"
        assert wanted in report["downloads"], f"{path}: no download link to {wanted}: {report['downloads']}"
        with urllib.request.urlopen(wanted, timeout=30) as response:
            nb = nbformat.reads(response.read().decode("utf-8"), as_version=4)
        nbformat.validate(nb)
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        assert code, f"{wanted}: no code cell"
        assert all(cell.get("execution_count") for cell in code), f"{wanted}: not executed"
        assert any(cell.get("outputs") for cell in code), f"{wanted}: no outputs"
        errors = [o for cell in code for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"{wanted}: error outputs: {json.dumps(errors)[:2000]}"

    # (f) a chapter with a parameters cell says how to rerun it
    name = Path(entry).relative_to("book").as_posix() if entry.startswith("book/") else None
    if name in CHAPTERS:
        assert f"python -m l2l_lib run {name}" in report["text"], f"{path}: no `python -m l2l_lib run {name}` line"


def test_search_works_offline(site: tuple[StaticServer, Chromium]) -> None:
    page = _load(site, "search.html?q=LSTM", CHECK_SEARCH)
    assert page.value["results"] > 0, f"searching for LSTM found nothing: {page.value['summary']}"
