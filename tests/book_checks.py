"""Helpers shared by the CLI, notebook and book-build tests: chapters, glue references and outputs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from l2l_lib.book.chapters import chapters

ROOT = Path(__file__).resolve().parent.parent

#: The chapters that have a parameters cell: {name: book/NAME.md}.
CHAPTERS: dict[str, Path] = chapters(ROOT)

# {glue}`key`, {glue:text}`key:.4f`, {glue:md}`key:myst`, {glue:any}`key`, {glue:}`key`
_GLUE_ROLE = re.compile(r"\{glue(?::(?P<kind>[a-z]*))?\}`(?P<body>[^`]+)`")
# ```{glue:figure} key   /   :::{glue} key   (any fence length, backticks or colons)
_GLUE_DIRECTIVE = re.compile(
    r"^[ \t]*(?:`{3,}|:{3,})\{glue(?::(?P<kind>[a-z]*))?\}[ \t]+(?P<body>\S+)", re.MULTILINE
)
# Code cells: their text is not prose, glue references in them do not count.
_CODE_CELL = re.compile(r"^(?P<fence>`{3,}|~{3,})\{code-cell\}.*?^(?P=fence)[ \t]*$", re.MULTILINE | re.DOTALL)

GLUE_PREFIX = "application/papermill.record/"

#: The front matter that makes a MyST-Markdown file a jupytext notebook (for toy chapters in tests).
JUPYTEXT_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def _key(kind: str | None, body: str) -> str | None:
    """The glue key of a role/directive body; None for a key glued in another document."""
    body = body.strip()
    if "::" in body:  # path/to/other.ipynb::key
        return None
    if kind in ("text", "md"):  # key:format
        body = body.split(":", 1)[0]
    return body


def glue_references(md_path: Path) -> dict[str, set[str]]:
    """The glue keys that the prose of a MyST chapter pastes, by kind.

    Returns ``{"text": {...}, "figure": {...}, "any": {...}, ...}`` where the kind
    is the role/directive suffix (``"any"`` for a plain ``{glue}``).
    """
    text = _CODE_CELL.sub("", md_path.read_text(encoding="utf-8"))
    refs: dict[str, set[str]] = {}
    for pattern in (_GLUE_ROLE, _GLUE_DIRECTIVE):
        for match in pattern.finditer(text):
            kind = match.group("kind") or "any"
            key = _key(kind, match.group("body"))
            if key:
                refs.setdefault(kind, set()).add(key)
    return refs


def glued_outputs(nb: Any) -> dict[str, dict[str, Any]]:
    """``{key: output}`` for every ``myst_nb.glue`` output of an executed notebook.

    ``glue(key, value, display=False)`` writes a display_data output whose
    metadata is ``{"scrapbook": {"name": key, "mime_prefix": GLUE_PREFIX}}`` and
    whose mime types carry that prefix (``application/papermill.record/image/png``);
    with ``display=True`` the prefix is empty.
    """
    found: dict[str, dict[str, Any]] = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook")
            if scrapbook and "name" in scrapbook:
                found[scrapbook["name"]] = output
    return found


def mime_types(output: dict[str, Any]) -> set[str]:
    """The mime types of an output, glue prefix removed."""
    return {k.removeprefix(GLUE_PREFIX) for k in output.get("data", {})}


def is_figure(output: dict[str, Any]) -> bool:
    """Whether a (glued) output is a matplotlib figure."""
    data = output.get("data", {})
    text = data.get("text/plain") or data.get(GLUE_PREFIX + "text/plain") or ""
    if isinstance(text, list):
        text = "".join(text)
    return text.startswith("<Figure size")
