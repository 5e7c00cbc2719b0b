"""Converters: a `graphnas.DAG` to and from other forms, one module per target.

- `graphnas.converters.networkx`: ``to_networkx``, ``from_networkx``, ``from_edges`` (any labels);
- `graphnas.converters.igraph`: ``to_igraph``, ``from_igraph`` (and ``DAG.canonical_key``'s key);
- `graphnas.converters.adjacency`: ``to_adjacency``, ``from_adjacency`` (NAS-Bench-101 style);
- `graphnas.converters.pyg`: ``to_pyg``, ``from_pyg`` (the surrogate's node features);
- `graphnas.converters.torch`: ``to_torch``, ``count_params``, ``count_flops``;
- `graphnas.converters.dot`: ``to_dot``, ``render``;
- `graphnas.converters.onnx`: ``export_onnx`` (a compiled module to ONNX).

Each module is imported on first use of one of its names, so that reading JSON
imports none of torch, networkx or igraph.
"""

from __future__ import annotations

from graphnas._lazy import lazy_exports

_LAZY = {
    "to_networkx": "graphnas.converters.networkx",
    "from_networkx": "graphnas.converters.networkx",
    "from_edges": "graphnas.converters.networkx",
    "to_igraph": "graphnas.converters.igraph",
    "from_igraph": "graphnas.converters.igraph",
    "to_adjacency": "graphnas.converters.adjacency",
    "from_adjacency": "graphnas.converters.adjacency",
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
