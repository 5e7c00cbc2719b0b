"""Objectives to search against: tabular benchmarks and real training on embedded data."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "NB201Table": "graphnas.benchmarks.nb201",
    "train_eval": "graphnas.benchmarks.digits",
    "load_digits_split": "graphnas.benchmarks.digits",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'graphnas.benchmarks' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
