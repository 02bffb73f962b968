"""One way to show a table in the book: rows of values to Markdown, with one number format."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def format_value(value: Any, digits: int = 4) -> str:
    """A cell's text: floats with ``digits`` significant decimals (scientific below 1e-3), others as str."""
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.{max(digits - 2, 1)}e}"
        return f"{value:.{digits}f}"
    if value is None:
        return "–"
    return str(value)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, digits: int = 4) -> str:
    """A Markdown table (the book renders it as HTML).

    Args:
        headers: column titles.
        rows: one sequence of cell values per row, each as long as ``headers``.
        digits: decimals of float cells (see :func:`format_value`).

    Raises:
        ValueError: when a row's length differs from the number of headers.
    """
    for i, row in enumerate(rows):
        if len(row) != len(headers):
            raise ValueError(f"rows[{i}] has {len(row)} cells; it must have len(headers) = {len(headers)}")
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(format_value(v, digits) for v in row) + " |" for row in rows]
    return "\n".join(lines)
