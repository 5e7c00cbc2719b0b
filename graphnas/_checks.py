"""Argument checks shared across the package.

- `is_integer`: a whole number as users pass them (a Python int or a numpy integer taken from an
  array or a range; never a bool, which Python counts as an int), optionally with a least value.
  Counts, sizes, budgets and seeds are checked with it, so that numpy integers are accepted everywhere
  and ``True`` or ``2.0`` nowhere.
"""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["is_integer"]


def is_integer(value: Any, least: int | None = None) -> bool:
    """True when ``value`` is an integer (not a bool) and, with ``least``, at least ``least``."""
    return (not isinstance(value, bool) and isinstance(value, numbers.Integral)
            and (least is None or int(value) >= least))
