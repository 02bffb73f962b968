"""Values for a chapter's parameters: parsed from the command line, typed, checked, renamed.

``python -m l2l_lib run CHAPTER -p NAME VALUE`` gives every value as text; :func:`parse_value` reads
it with the type of the parameter's default, and :func:`resolve_parameters` checks a whole set of values
against a chapter before any kernel starts: the names exist, the types match, the recipes exist and the
overrides make valid training configurations. A parameter renamed since (``n_epochs``: one optimiser
step is not an epoch) is still accepted, with a ``DeprecationWarning`` that names the new spelling.
"""

from __future__ import annotations

import ast
import os
import warnings
from collections.abc import Mapping
from ..config import RENAMED_FIELDS
from .chapters import chapter_parameters
from .configs import OVERRIDES, chapter_configs
from .errors import UsageError

__all__ = ["describe_parameters", "parse_value", "rename_deprecated", "resolve_parameters"]

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_LITERAL_ERRORS = (ValueError, SyntaxError, TypeError, MemoryError, RecursionError)


def describe_parameters(defaults: Mapping[str, object]) -> str:
    """One ``  name = default  (type)`` line per parameter: what error messages and ``list`` show."""
    return "\n".join(f"  {k} = {v!r}  ({type(v).__name__})" for k, v in defaults.items())


def parse_value(name: str, text: str, default: object) -> object:
    """Parse ``text`` (a command-line value) as the type of ``default``.

    bool: true/false, yes/no, on/off, 1/0 (any case); int: a decimal integer; float: anything
    :class:`float` reads (an integer too); str: the text as is; list, tuple, dict, set: a Python
    literal of that type (a list is accepted for a tuple and vice versa); None (a parameter such as
    ``n_seeds = None``, "the recipe's own"): a Python literal if the text is one (``3``, ``None``,
    ``[1, 2]``), else the text itself.

    Args:
        name: the parameter's name, for the error message.
        text: the value as given.
        default: the parameter's default.

    Raises:
        UsageError: the text does not parse to the default's type.
    """
    def fail(expected: str) -> UsageError:
        return UsageError(f"parameter {name!r} expects {expected} (default: {default!r}), got {text!r}")

    if isinstance(default, bool):
        low = text.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise fail("a bool (true/false)")
    if isinstance(default, int):
        try:
            return int(text.strip(), 10)
        except ValueError:
            raise fail("an int") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise fail("a float") from None
    if isinstance(default, str):
        return text
    try:
        value = ast.literal_eval(text)
    except _LITERAL_ERRORS:
        if default is None:
            return text
        raise fail(f"a {type(default).__name__} literal such as {default!r}") from None
    return _coerce(name, value, default)


def _coerce(name: str, value: object, default: object) -> object:
    """``value`` as the type of ``default`` (an int for a float, a list for a tuple), or a UsageError."""
    kind = type(default)
    if default is None or (isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)):
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind in (list, tuple) and isinstance(value, (list, tuple)):
        return kind(value)
    if kind in (set, frozenset) and isinstance(value, (set, frozenset, list, tuple)):
        return kind(value)
    raise UsageError(f"parameter {name!r} expects a {kind.__name__} (default: {default!r}), got {value!r}")


def _typed(name: str, value: object, default: object) -> object:
    """A value given for parameter ``name``: text is parsed (:func:`parse_value`), anything else coerced."""
    if isinstance(value, str) and not isinstance(default, str):
        return parse_value(name, value, default)
    return _coerce(name, value, default)


def _warn_renamed(old: str, new: str) -> None:
    warnings.warn(f"parameter {old!r} is deprecated (one optimiser step is not an epoch); use {new}",
                  DeprecationWarning, stacklevel=4)


def rename_deprecated(values: Mapping[str, object], defaults: Mapping[str, object]) -> dict[str, object]:
    """``values`` with renamed parameters given their new names, each with a ``DeprecationWarning``.

    For each renamed TrainConfig field (:data:`l2l_lib.config.RENAMED_FIELDS`, ``n_epochs`` ->
    ``n_steps``) given as a parameter the chapter no longer has:

    * ``<prefix>n_epochs`` becomes ``<prefix>n_steps`` where the chapter has that parameter;
    * else it becomes the ``n_steps`` entry of ``<prefix>overrides`` where the chapter has that dict
      (``n_epochs`` -> ``overrides``), added to the overrides given, else to the chapter's default ones;

    and a given ``overrides`` (or ``<prefix>overrides``) dict that uses the old field name gets the new
    one. Anything else is left as it is (an unknown name is :func:`resolve_parameters`'s to report).

    Raises:
        UsageError: both a renamed name and its new name are given.
    """
    renamed = dict(values)
    for old, new in RENAMED_FIELDS.items():
        for key in [k for k in renamed if k.endswith(old) and k not in defaults]:
            prefix = key[: -len(old)]
            overrides_key = prefix + OVERRIDES
            if prefix + new in defaults:
                _refuse_both(key, prefix + new, prefix + new in renamed)
                _warn_renamed(key, f"-p {prefix}{new} {renamed[key]}")
                renamed[prefix + new] = renamed.pop(key)
            elif isinstance(defaults.get(overrides_key), dict):
                steps = _typed(key, renamed.pop(key), 0)
                overrides = dict(_typed(overrides_key, renamed.get(overrides_key, defaults[overrides_key]), {}))
                _refuse_both(key, f"{overrides_key}[{new!r}]", new in overrides)
                renamed[overrides_key] = {**overrides, new: steps}
                _warn_renamed(key, f'-p {overrides_key} "{renamed[overrides_key]!r}"')
        for key in [k for k in renamed if k.endswith(OVERRIDES) and isinstance(defaults.get(k), dict)]:
            given = _typed(key, renamed[key], {})
            if isinstance(given, dict) and old in given:
                _refuse_both(f"{key}[{old!r}]", f"{key}[{new!r}]", new in given)
                renamed[key] = {(new if k == old else k): v for k, v in given.items()}
                _warn_renamed(f"{key}[{old!r}]", f'-p {key} "{renamed[key]!r}"')
    return renamed


def _refuse_both(old: str, new: str, both: bool) -> None:
    if both:
        raise UsageError(f"parameter {old!r} is the deprecated name of {new!r}: give only {new!r}")


def resolve_parameters(
    name: str,
    values: Mapping[str, object] | None,
    root: str | os.PathLike[str] | None = None,
) -> dict[str, object]:
    """Check ``values`` against chapter ``name``'s parameters and type them.

    A value given as text for a parameter whose default is not text is parsed with
    :func:`parse_value`; any other value must have the default's type (an int is accepted for a
    float, a list for a tuple). Renamed parameters are renamed (:func:`rename_deprecated`). The recipes
    the chapter then selects are built (:func:`~l2l_lib.book.configs.chapter_configs`), so that an
    unknown recipe, a bad override or bad seeds fail here rather than in the kernel.

    Args:
        name: a chapter (see :func:`~l2l_lib.book.chapters.chapters`).
        values: ``{parameter: value}`` for some of its parameters.
        root: the book root (default :func:`~l2l_lib.book.chapters.book_root`).

    Returns:
        The typed values (those given, under their current names).

    Raises:
        UsageError: unknown chapter or parameter (the message lists the valid ones with their
            defaults), a value of the wrong type, or values that make no valid training configuration.
    """
    defaults = chapter_parameters(name, root)
    typed: dict[str, object] = {}
    for key, value in rename_deprecated(values or {}, defaults).items():
        if key not in defaults:
            raise UsageError(f"unknown parameter {key!r} for chapter {name!r}; "
                             f"valid parameters (with defaults):\n{describe_parameters(defaults)}")
        typed[key] = _typed(key, value, defaults[key])
    try:
        chapter_configs({**defaults, **typed})
    except ValueError as exc:
        raise UsageError(f"chapter {name!r}: {exc}") from None
    return typed
