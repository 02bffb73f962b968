"""Argument checks shared by the whole library: one wording for every ``ValueError``.

Every public function that takes a count, a rate or a choice checks it here, so a bad value always
raises ``ValueError("<owner>.<name> must be <allowed>; got <value>")``: the parameter, what it may
be, and what it was.
"""

from __future__ import annotations

import math
from typing import Any, Iterable


def is_int(value: object) -> bool:
    """True for a Python ``int`` that is not a ``bool`` (``True`` is not a sequence length)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """True for a finite ``int`` or ``float`` that is not a ``bool``."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check(ok: bool, name: str, allowed: str, value: object) -> None:
    """Raise ``ValueError("{name} must be {allowed}; got {value!r}")`` unless ``ok``."""
    if not ok:
        raise ValueError(f"{name} must be {allowed}; got {value!r}")


def check_int(name: str, value: object, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` if it is an integer in ``minimum..maximum`` (no upper bound when None), else ``ValueError``."""
    ok = is_int(value) and value >= minimum and (maximum is None or value <= maximum)
    allowed = f"an integer >= {minimum}" if maximum is None else f"an integer in {minimum}..{maximum}"
    check(ok, name, allowed, value)
    return value  # type: ignore[return-value]


def check_number(name: str, value: object, low: float, high: float, *, low_open: bool = False,
                 high_open: bool = False) -> float:
    """``value`` if it is a finite number in the interval from ``low`` to ``high``, else ``ValueError``."""
    ok = is_number(value) and (value > low if low_open else value >= low) and (
        value < high if high_open else value <= high)
    interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    check(ok, name, f"a number in {interval}", value)
    return float(value)  # type: ignore[arg-type]


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """``value`` if it is one of ``allowed``, else ``ValueError`` listing them."""
    allowed = tuple(allowed)
    check(value in allowed, name, f"one of {allowed}", value)
    return value
