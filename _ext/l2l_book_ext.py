"""Sphinx extension for the book (loaded from _config.yml, ``local_extensions``).

1. Offer each chapter's *executed* notebook for download.  sphinx-book-theme
   puts a ".ipynb" entry in its download menu only for pages that also get a
   launch button (Binder, Colab, Thebe, ...), all of which the book switches
   off because they reach other hosts.  Here every notebook page gets that
   entry without them: ``_sources/<page>.ipynb`` in the HTML output.

   Which notebook: myst-nb writes the executed notebook to
   ``<build>/jupyter_execute/<page>.ipynb``, but only after taking the glued
   outputs (``glue(..., display=False)``) out of it, so the figures are missing
   there.  With ``execute_notebooks: cache`` the complete executed notebook is
   in jupyter-cache; it is taken from there, and each glued output is made
   visible in Jupyter (its ``application/papermill.record/`` mime prefix is
   removed).  Without a cache hit (a page with ``execution_mode: force``, say)
   the jupyter_execute copy is offered, with the glued outputs put back from
   myst-nb's ``<page>.glue.json`` (each into the cell whose source glues its
   key, else into the last cell that calls ``glue``).

2. Tell, on each chapter page that has a ``parameters`` cell, how to rerun
   that chapter with other values (the ``python -m l2l_lib run NAME`` line and
   the names of its parameters, from :func:`l2l_lib.book.chapters.chapter_parameters`),
   in a "Rerun this chapter" box under the page title.

3. Drop what ``sphinx_thebe`` (which Jupyter Book always loads) puts on every
   page: with launch buttons off none of it is used, its inline script names
   a CDN address (unpkg.com) from which it would load Thebe, and its per-page
   config block names a Binder repository.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)


def _from_cache(app: Sphinx, nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The cached executed notebook whose code cells match ``nb``, or None."""
    config = getattr(app.env, "mystnb_config", None)
    cache_path = getattr(config, "execution_cache_path", None)
    if getattr(config, "execution_mode", None) != "cache" or not cache_path:
        return None
    if not Path(cache_path).is_dir():
        return None
    try:
        from jupyter_cache import get_cache

        _, merged = get_cache(cache_path).merge_match_into_notebook(nb)
    except Exception:  # no match, or a cache this jupyter-cache cannot read
        return None
    return merged


def _unhide_glued_outputs(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook")
            prefix = (scrapbook or {}).get("mime_prefix", "")
            if prefix and "data" in output:
                output["data"] = {
                    (k[len(prefix):] if k.startswith(prefix) else k): v
                    for k, v in output["data"].items()
                }


def _restore_glued_outputs(nb: nbformat.NotebookNode, glue_file: Path) -> None:
    """Put back the outputs of ``glue(..., display=False)`` that myst-nb took out of ``nb``."""
    if not glue_file.is_file():
        return
    glued = json.loads(glue_file.read_text(encoding="utf-8"))
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if not code:
        return
    fallback = ([cell for cell in code if "glue(" in cell.source] or code)[-1]
    for key, output in glued.items():
        if not output.get("metadata", {}).get("scrapbook", {}).get("mime_prefix"):
            continue  # glue(..., display=True): myst-nb left the output in its cell
        call = re.compile(r"glue\(\s*(['\"])" + re.escape(key) + r"\1")
        cell = next((c for c in code if call.search(c.source)), fallback)
        cell.setdefault("outputs", []).append(nbformat.from_dict(output))


def _offer_executed_notebook(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if doctree is None or app.builder.format != "html":
        return
    if "kernelspec" not in app.env.metadata.get(pagename, {}):
        return  # not a notebook page
    output_folder = getattr(getattr(app.env, "mystnb_config", None), "output_folder", None)
    if not output_folder:
        return
    executed = Path(output_folder, *pagename.split("/")).with_suffix(".ipynb")
    if not executed.is_file():
        LOGGER.warning(
            "executed notebook for %r not found at %s", pagename, executed,
            type="l2l", subtype="download",
        )
        return
    nb = nbformat.read(executed, as_version=4)
    cached = _from_cache(app, nb)
    if cached is not None:
        nb = cached
    else:
        _restore_glued_outputs(nb, executed.with_suffix(".glue.json"))
    _unhide_glued_outputs(nb)
    from l2l_lib.atomic import atomic_write_text

    target = Path(app.outdir, "_sources", *pagename.split("/")).with_suffix(".ipynb")
    atomic_write_text(target, nbformat.writes(nb))
    context["ipynb_source"] = pagename + ".ipynb"


def _chapter_parameters(app: Sphinx, docname: str) -> list[str] | None:
    """The parameter names of the chapter ``docname``, or None if it has no parameters cell."""
    if not docname.startswith("book/"):
        return None
    from l2l_lib.book.chapters import chapter_parameters, chapters

    root = Path(app.srcdir)
    name = docname[len("book/"):]
    try:
        if name not in chapters(root):
            return None
        return list(chapter_parameters(name, root))
    except ValueError as exc:  # UsageError, or a parameters cell that is not `name = literal`
        LOGGER.warning("%s: %s", docname, exc, type="l2l", subtype="rerun", location=docname)
        return None


def _inline(text: str) -> list[nodes.Node]:
    """``text`` as paragraph content: the parts between backticks as code, the rest as text."""
    return [nodes.literal(part, part) if i % 2 else nodes.Text(part)
            for i, part in enumerate(text.split("`")) if part]


def _add_rerun_note(app: Sphinx, doctree: nodes.document) -> None:
    from l2l_lib.book.configs import OVERRIDES, is_recipe_parameter

    docname = app.env.docname
    names = _chapter_parameters(app, docname)
    if names is None:
        return
    chapter = docname[len("book/"):]
    command = f"python -m l2l_lib run {chapter} -p NAME VALUE"
    text = ("NAME is one of " + ", ".join(f"`{name}`" for name in names) + "; their defaults are in the code "
            "cell tagged `parameters` (`python -m l2l_lib list` shows them with the training configurations "
            "they select).")
    if any(is_recipe_parameter(name) for name in names):
        text += (" A parameter named `recipe` or `..._recipe` takes the name of a training recipe "
                 "(`python -m l2l_lib recipes` lists them).")
    if OVERRIDES in names:
        text += (f" `{OVERRIDES}` takes a dict of training-configuration fields that changes every recipe "
                 f"the chapter trains, e.g. `-p {OVERRIDES} \"{{'n_steps': 2000}}\"`.")
    text += (f" The executed notebook goes to `runs/{chapter}.ipynb`. The notebook this page shows, "
             "executed, is in the download menu (.ipynb).")
    note = nodes.admonition(
        "", nodes.title("Rerun this chapter", "Rerun this chapter"),
        nodes.paragraph("", "With other parameter values (one -p NAME VALUE for each value to change):"),
        nodes.literal_block(command, command, language="bash"),
        nodes.paragraph("", "", *_inline(text)),
        classes=["tip", "l2l-rerun"],
    )
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        doctree.append(note)
        return
    title = next((i for i, child in enumerate(section.children) if isinstance(child, nodes.title)), -1)
    section.insert(title + 1, note)


def _is_thebe_asset(asset: Any) -> bool:
    filename = str(getattr(asset, "filename", "") or "")
    body = str(getattr(asset, "attributes", {}).get("body", "") or "")
    return "thebe" in filename or "THEBE_JS_URL" in body


def _drop_thebe_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [a for a in context[key] if not _is_thebe_asset(a)]


def _drop_thebe_page_config(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(nodes.raw)):
        text = node.astext()
        if "text/x-thebe-config" in text or text.startswith("<script>kernelName = "):
            node.parent.remove(node)


def setup(app: Sphinx) -> dict[str, Any]:
    # The theme's add_header_buttons runs at priority 501: run before it.
    app.connect("html-page-context", _offer_executed_notebook, priority=450)
    app.connect("html-page-context", _drop_thebe_assets, priority=900)
    app.connect("doctree-read", _add_rerun_note)
    # sphinx_thebe appends its page config at doctree-resolved, priority 500.
    app.connect("doctree-resolved", _drop_thebe_page_config, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
