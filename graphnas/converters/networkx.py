"""DAG <-> ``networkx.DiGraph``, and building a DAG from nodes with any labels.

``to_networkx(dag)`` gives nodes ``0..n-1`` with attributes ``op``, ``params`` and
``combine`` and the graph attributes ``inputs`` and ``outputs``;
``from_networkx(to_networkx(dag)) == dag``. `from_edges` renumbers any
hashable labels in topological order.

**Example**

```python
>>> from graphnas import DAG
>>> dag = DAG(["input", "conv", "identity"], [(0, 1), (1, 2)])
>>> from_networkx(to_networkx(dag)) == dag
True

```
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx

from graphnas.dag import DAG, GraphError, Node, _as_node

__all__ = ["from_edges", "from_networkx", "to_networkx"]


def to_networkx(dag: DAG) -> nx.DiGraph:
    """A ``networkx.DiGraph`` with nodes ``0..n-1`` carrying ``op``, ``params``, ``combine``.

    The graph attributes ``inputs`` and ``outputs`` list the ports, so
    ``from_networkx(to_networkx(dag)) == dag``.
    """
    g = nx.DiGraph(inputs=list(dag.inputs), outputs=list(dag.outputs))
    for i, node in enumerate(dag.nodes):
        g.add_node(i, op=node.op, params=dict(node.params), combine=node.combine)
    g.add_edges_from(dag.edges)
    return g


def from_networkx(g: nx.DiGraph) -> DAG:
    """Build from a ``networkx.DiGraph`` whose nodes have an ``op`` attribute.

    Labels may be any hashable values; they are renumbered in topological
    order, ties broken by the graph's node order. Optional node attributes
    ``params`` and ``combine``, optional graph attributes ``inputs`` and
    ``outputs`` (lists of labels). A cycle raises GraphError naming its nodes.
    """
    if isinstance(g, nx.MultiDiGraph):
        raise GraphError("from_networkx expects a networkx.DiGraph, got a MultiDiGraph: a graph with parallel "
                         "edges is no DAG of graphnas (each edge may appear once)")
    if not isinstance(g, nx.DiGraph):
        kind = "an undirected graph" if isinstance(g, nx.Graph) else "no graph"
        raise GraphError(f"from_networkx expects a networkx.DiGraph, got {type(g).__name__} ({kind})")
    nodes = {}
    for label, attrs in g.nodes(data=True):
        if "op" not in attrs:
            raise GraphError(f"node {label!r} has no 'op' attribute")
        try:
            nodes[label] = Node(attrs["op"], attrs.get("params"), attrs.get("combine", "sum"))
        except GraphError as err:
            raise GraphError(f"node {label!r}: {err}") from None
    return from_edges(nodes, list(g.edges), inputs=g.graph.get("inputs"), outputs=g.graph.get("outputs"))


def from_edges(nodes: Mapping[Any, Node | str | DAG], edges: Iterable[tuple[Any, Any]], *,
               inputs: Sequence[Any] | None = None, outputs: Sequence[Any] | None = None) -> DAG:
    """Build from nodes with arbitrary hashable labels, renumbering them in topological order.

    ``nodes`` maps each label to a `Node` (or an op name or a nested DAG);
    ``edges`` are ``(src_label, dst_label)`` pairs; ``inputs``/``outputs`` list
    labels. Ties are broken by the order of ``nodes``, so the same input gives the
    same DAG. A cycle, an edge listed twice or a label that is not a node raises
    GraphError naming it.

    **Example**

    ```python
    >>> from_edges({"x": "input", "y": "conv"}, [("x", "y")]).ops
    ('input', 'conv')

    ```
    """
    if not isinstance(nodes, Mapping):
        raise GraphError(f"nodes must be a mapping from label to node, got {type(nodes).__name__}")
    if isinstance(edges, (str, bytes)):
        raise GraphError(f"edges must be an iterable of (src, dst) pairs, got {type(edges).__name__}")
    try:
        edge_list = list(edges)
    except TypeError:
        raise GraphError(f"edges must be an iterable of (src, dst) pairs, got {type(edges).__name__}") from None
    for kind, ports in (("input", inputs), ("output", outputs)):
        if ports is not None and (isinstance(ports, (str, bytes)) or not isinstance(ports, Sequence)):
            raise GraphError(f"{kind}s must be a sequence of node labels, got {type(ports).__name__}")
    g = nx.DiGraph()
    for label, node in nodes.items():
        g.add_node(label, node=node)
    for e in edge_list:
        try:
            s, d = e
        except (TypeError, ValueError):
            raise GraphError(f"edge {e!r}: expected a (src, dst) pair") from None
        for end in (s, d):
            if end not in g:
                raise GraphError(f"edge ({s!r}, {d!r}) refers to node {end!r}, which does not exist")
        if g.has_edge(s, d):
            raise GraphError(f"edge ({s!r}, {d!r}) appears twice")
        g.add_edge(s, d)
    order = _topological_order(g, {label: i for i, label in enumerate(nodes)})
    index = {label: i for i, label in enumerate(order)}
    return DAG([_as_node(nodes[label], index[label]) for label in order],
               [(index[s], index[d]) for s, d in g.edges],
               inputs=None if inputs is None else [_port(index, p, "input") for p in inputs],
               outputs=None if outputs is None else [_port(index, p, "output") for p in outputs])


def _port(index: Mapping[Any, int], label: Any, kind: str) -> int:
    try:
        return index[label]
    except (KeyError, TypeError):
        raise GraphError(f"{kind} {label!r} is not a node of the graph") from None


def _topological_order(g: nx.DiGraph, rank: Mapping[Any, int]) -> list[Any]:
    try:
        return list(nx.lexicographical_topological_sort(g, key=lambda v: rank[v]))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(g)
        path = " -> ".join(repr(s) for s, _ in cycle) + f" -> {cycle[0][0]!r}"
        raise GraphError(f"the graph has a cycle: {path}") from None
