"""Objectives to search against: tabular benchmarks and real training on embedded data."""

from __future__ import annotations

from graphnas._lazy import lazy_exports

_LAZY = {
    "NB201Table": "graphnas.benchmarks.nb201",
    "train_eval": "graphnas.benchmarks.digits",
    "load_digits_split": "graphnas.benchmarks.digits",
    "get_objective": "graphnas.benchmarks.objectives",
    "list_objectives": "graphnas.benchmarks.objectives",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
