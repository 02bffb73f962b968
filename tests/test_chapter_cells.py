"""Chapters are prose plus short cells: the reader sees the few lines that compute each result.

Visible code cells have at most 15 lines and hidden ones (glue, formatting) at most 30, counting
non-blank lines; no chapter defines a function or a class (those belong in the library).
"""

import ast
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
HIDDEN_TAGS = {"remove-cell", "remove-input"}
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.M | re.S)


def code_cells(path: Path) -> list[tuple[set[str], list[str]]]:
    """(tags, non-blank code lines) of every code cell of a MyST notebook."""
    cells = []
    for body in CELL.findall(path.read_text()):
        lines = body.splitlines()
        tags: set[str] = set()
        if lines and lines[0].startswith("---"):  # a YAML block of options
            end = lines.index("---", 1)
            tags = set(re.findall(r"[\w-]+", " ".join(l for l in lines[1:end] if "tags" in l or l.startswith("  -"))))
            lines = lines[end + 1:]
        while lines and lines[0].startswith(":"):  # short options, e.g. :tags: [remove-cell]
            tags |= set(re.findall(r"[\w-]+", lines[0].split(":", 2)[2]))
            lines = lines[1:]
        cells.append((tags, [line for line in lines if line.strip()]))
    return cells


CHAPTERS = sorted(BOOK.glob("*.md"))


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_cells_are_short_and_define_nothing(path):
    for tags, lines in code_cells(path):
        hidden = bool(tags & HIDDEN_TAGS)
        limit = 30 if hidden else 15
        assert len(lines) <= limit, f"{path.name}: a {'hidden' if hidden else 'visible'} cell of {len(lines)} lines"
        source = "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))
        tree = ast.parse(source)
        defined = [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda))
                   and not isinstance(n, ast.Lambda)]
        assert not defined, f"{path.name} defines {defined}: library code belongs in l2l_lib"


def test_the_cell_reader_sees_cells_and_tags():
    cells = code_cells(BOOK / "boolean.md")
    assert any("parameters" in tags for tags, _ in cells)
    assert any(tags & HIDDEN_TAGS for tags, _ in cells) and any(not tags & HIDDEN_TAGS for tags, _ in cells)
