"""Argument checks shared across the package.

- `is_integer`: a whole number as users pass them (a Python int or a numpy integer taken from an
  array or a range; never a bool, which Python counts as an int), optionally with a least value.
  Counts, sizes, budgets and seeds are checked with it, so that numpy integers are accepted everywhere
  and ``True`` or ``2.0`` nowhere.
- `check_integers`, `check_nonnegative`: the same as a ValueError naming the argument and its owner.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["check_integers", "check_nonnegative", "is_integer"]


def is_integer(value: Any, least: int | None = None) -> bool:
    """True when ``value`` is an integer (not a bool) and, with ``least``, at least ``least``."""
    return (not isinstance(value, bool) and isinstance(value, numbers.Integral)
            and (least is None or int(value) >= least))


def check_integers(owner: str, least: int, **values: Any) -> None:
    """ValueError naming the first of ``values`` that is not an integer >= ``least`` (``owner``: who asks)."""
    for name, value in values.items():
        if not is_integer(value, least):
            raise ValueError(f"{owner}: {name} must be an integer >= {least}, got {value!r}")


def check_nonnegative(owner: str, **values: Any) -> None:
    """ValueError naming the first of ``values`` that is not a finite number >= 0 (NaN, a bool, a string)."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) < math.inf:
            raise ValueError(f"{owner}: {name} must be a finite number >= 0, got {value!r}")
