"""graphnas: neural architecture search where every architecture is a DAG.

Generators produce a `DAG`, converters consume it (PyTorch, PyG,
Graphviz, JSON, networkx, igraph), the surrogate and the search speak it.

``import graphnas`` is cheap: the parts that need torch, PyG or Graphviz are
imported the first time one of their names is used, and so are the subpackages
(``graphnas.generators``, ``graphnas.search``, ``graphnas.surrogate``,
``graphnas.models``, ``graphnas.benchmarks``) when first reached as attributes.
"""

from __future__ import annotations

from graphnas._lazy import lazy_exports
from graphnas.converters import _LAZY as _CONVERTERS
from graphnas.dag import COMBINES, DAG, GraphError, Node
from graphnas.registry import UnknownNameError

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use)
_LAZY = {"as_dag": "graphnas.loading", "from_edge_ops": "graphnas.generators.edge_cells",
         "show": "graphnas.display", "show_code": "graphnas.display", **_CONVERTERS, "train": "graphnas.train"}

__all__ = ["COMBINES", "DAG", "GraphError", "Node", "UnknownNameError", "__version__", *sorted(_LAZY)]

# subpackages reachable as ``graphnas.search`` etc. without importing them first (imported on first use)
_SUBPACKAGES = ("benchmarks", "converters", "generators", "models", "oneshot", "search", "surrogate")

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals(), _SUBPACKAGES)
