"""DAG <-> ``igraph.Graph``, and the isomorphism-invariant key behind ``DAG.canonical_key()``.

**Example**

```python
>>> from graphnas import DAG
>>> dag = DAG(["input", "conv", "identity"], [(0, 1), (1, 2)])
>>> from_igraph(to_igraph(dag)) == dag
True

```
"""

from __future__ import annotations

import hashlib
import json

import igraph as ig

from graphnas.dag import DAG, GraphError, Node

__all__ = ["canonical_key", "from_igraph", "to_igraph"]


def to_igraph(dag: DAG) -> ig.Graph:
    """An ``igraph.Graph`` (directed) with vertex attributes ``op``, ``params``, ``combine``.

    The graph attributes ``inputs`` and ``outputs`` list the ports, so
    ``from_igraph(to_igraph(dag)) == dag``.
    """
    g = ig.Graph(n=len(dag), edges=list(dag.edges), directed=True)
    g.vs["op"] = [node.op for node in dag.nodes]
    g.vs["params"] = [dict(node.params) for node in dag.nodes]
    g.vs["combine"] = [node.combine for node in dag.nodes]
    g["inputs"] = list(dag.inputs)
    g["outputs"] = list(dag.outputs)
    return g


def from_igraph(g: ig.Graph) -> DAG:
    """Build from a directed ``igraph.Graph`` whose vertices have an ``op`` attribute.

    Vertices are renumbered in topological order (ties by vertex id); optional
    vertex attributes ``params`` and ``combine``; optional graph attributes
    ``inputs`` and ``outputs`` are vertex ids.
    """
    from graphnas.converters.networkx import from_edges  # networkx only when needed, not for canonical_key

    if not isinstance(g, ig.Graph) or not g.is_directed():
        raise GraphError("from_igraph expects a directed igraph.Graph")
    attrs = g.vs.attributes()
    if "op" not in attrs:
        raise GraphError("the igraph graph has no vertex attribute 'op'")
    nodes = {}
    for v in g.vs:
        try:
            nodes[v.index] = Node(v["op"], v["params"] if "params" in attrs else None,
                                  v["combine"] if "combine" in attrs and v["combine"] is not None else "sum")
        except GraphError as err:
            raise GraphError(f"vertex {v.index}: {err}") from None
    graph_attrs = g.attributes()
    return from_edges(nodes, g.get_edgelist(),
                      inputs=g["inputs"] if "inputs" in graph_attrs else None,
                      outputs=g["outputs"] if "outputs" in graph_attrs else None)


def canonical_key(dag: DAG) -> str:
    """A hex digest equal for two graphs exactly when they are isomorphic with ops preserved.

    ``DAG.canonical_key()`` calls this once per DAG and keeps the result. Each node
    is coloured by its op (a nested DAG by its own key), params, combine rule and
    its position among the inputs and outputs; igraph's canonical permutation
    (bliss) then numbers the coloured graph canonically.
    """
    n = len(dag)
    in_pos = {v: k for k, v in enumerate(dag.inputs)}
    out_pos = {v: k for k, v in enumerate(dag.outputs)}
    labels = [f"{in_pos.get(i, -1)}|{out_pos.get(i, -1)}|{node._label()}" for i, node in enumerate(dag.nodes)]
    palette = {lab: c for c, lab in enumerate(sorted(set(labels)))}
    colour = [palette[lab] for lab in labels]
    g = ig.Graph(n=n, edges=list(dag.edges), directed=True)
    # igraph returns the labelling as canonical position -> original vertex (checked by
    # tests/test_dag_properties.py against networkx's isomorphism test).
    order = g.canonical_permutation(color=colour)
    new_index = [0] * n
    for new, old in enumerate(order):
        new_index[old] = new
    new_labels = [labels[old] for old in order]
    new_edges = sorted((new_index[s], new_index[d]) for s, d in dag.edges)
    payload = json.dumps([new_labels, new_edges], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()
