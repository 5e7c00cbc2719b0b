"""Converters: a :class:`graphnas.DAG` to PyTorch, PyG, Graphviz and back.

Each target lives in its own module and is imported on first use, so that
reading JSON does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "to_pyg": "graphnas.converters.pyg",
    "to_torch": "graphnas.converters.torch",
    "count_params": "graphnas.converters.torch",
    "count_flops": "graphnas.converters.torch",
    "render": "graphnas.converters.dot",
    "to_dot": "graphnas.converters.dot",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'graphnas.converters' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
