"""The one error of the book tooling that is the user's to fix: :class:`UsageError`."""

from __future__ import annotations


class UsageError(ValueError):
    """A wrong chapter name, parameter name or parameter value; ``python -m l2l_lib`` exits with code 2.

    The message names what was wrong and lists what is allowed.
    """
