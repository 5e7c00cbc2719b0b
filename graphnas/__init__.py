"""graphnas: neural architecture search where every architecture is a DAG.

Generators produce a :class:`DAG`, converters consume it (PyTorch, PyG,
Graphviz, JSON, networkx, igraph), the surrogate and the search speak it.
"""

from graphnas.dag import COMBINES, DAG, GraphError, Node

__version__ = "0.1.0"

__all__ = ["COMBINES", "DAG", "GraphError", "Node", "__version__"]
