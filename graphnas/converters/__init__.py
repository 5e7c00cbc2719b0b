"""Converters: a :class:`graphnas.DAG` to PyTorch, PyG, Graphviz and back, and a compiled module to ONNX.

Each target lives in its own module and is imported on first use, so that
reading JSON does not import torch.
"""

from __future__ import annotations

from graphnas._lazy import lazy_exports

_LAZY = {
    "to_pyg": "graphnas.converters.pyg",
    "from_pyg": "graphnas.converters.pyg",
    "to_torch": "graphnas.converters.torch",
    "count_params": "graphnas.converters.torch",
    "count_flops": "graphnas.converters.torch",
    "render": "graphnas.converters.dot",
    "to_dot": "graphnas.converters.dot",
    "export_onnx": "graphnas.converters.onnx",
    "ExportError": "graphnas.converters.onnx",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
