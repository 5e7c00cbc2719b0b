"""Small graph algorithms on topologically numbered graphs, shared by the DAG and its users.

- `reachable`: which nodes a path leads to from some nodes, or which lead to them. It is the one
  reachability routine of the package: DAG validation, NAS-Bench-101 pruning
  (`graphnas.from_adjacency`), zero-op removal in `graphnas.from_edge_ops` and the surrogate's
  *live* flag all call it.
- `flatten`: inline nested DAGs (``DAG.flatten()`` calls it).
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from graphnas.dag import DAG, Node

__all__ = ["flatten", "reachable"]

_DST = itemgetter(1)


def reachable(n: int, edges: Iterable[tuple[int, int]], start: Iterable[int], *,
              backward: bool = False) -> list[bool]:
    """For nodes ``0..n-1``: is there a path along ``edges`` from a node of ``start`` to it?

    With ``backward=True``: is there a path from it to a node of ``start``? Each node of
    ``start`` counts as reached. Every edge must go from a lower to a higher index
    (nodes in topological order), so one pass over the edges sorted by destination
    suffices; edges may come in any order. To stop paths at some nodes, leave out the
    edges that leave them.

    **Example**

    ```python
    >>> reachable(4, [(0, 1), (2, 3)], [0])
    [True, True, False, False]
    >>> reachable(4, [(0, 1), (2, 3)], [3], backward=True)
    [False, False, True, True]

    ```
    """
    seen = [False] * n
    for i in start:
        seen[i] = True
    if backward:  # by decreasing destination: every edge leaving d is seen before an edge into d
        for s, d in sorted(edges, key=_DST, reverse=True):
            if seen[d]:
                seen[s] = True
    else:  # by increasing destination: every edge into s is seen before an edge leaving s
        for s, d in sorted(edges, key=_DST):
            if seen[s]:
                seen[d] = True
    return seen


def flatten(dag: DAG) -> DAG:
    """Inline every nested DAG of ``dag``, recursively, giving a graph of plain ops (see ``DAG.flatten``)."""
    from graphnas.dag import DAG, Node

    if not any(node.is_nested for node in dag.nodes):
        return dag
    nodes: list[Node] = []
    edges: list[tuple[int, int]] = []
    # where[i] = index in the new graph that carries the value of old node i
    where: dict[int, int] = {}
    # the new graph's inputs standing for old input i (a nested DAG there brings its own inputs)
    entry: dict[int, list[int]] = {}
    for i, node in enumerate(dag.nodes):
        preds = [where[p] for p in dag.predecessors(i)]
        if not isinstance(node.op, DAG):
            where[i] = len(nodes)
            nodes.append(node)
            edges.extend((p, where[i]) for p in preds)
            continue
        inner = flatten(node.op)
        local: dict[int, int] = {}
        k = len(inner.inputs)
        for j, inner_node in enumerate(inner.nodes):
            if j in inner.inputs and i in dag.inputs:
                local[j] = len(nodes)
                nodes.append(inner_node)
            elif j in inner.inputs and k > 1:
                local[j] = preds[inner.inputs.index(j)]
            elif j in inner.inputs and len(preds) == 1 and node.combine != "weighted_sum":
                local[j] = preds[0]  # merging a single value is the identity
            elif j in inner.inputs:
                local[j] = len(nodes)
                nodes.append(Node("identity", combine=node.combine))
                edges.extend((p, local[j]) for p in preds)
            else:
                local[j] = len(nodes)
                nodes.append(inner_node)
                edges.extend((local[p], local[j]) for p in inner.predecessors(j))
        if i in dag.inputs:
            entry[i] = [local[j] for j in inner.inputs]
        if len(inner.outputs) == 1:
            where[i] = local[inner.outputs[0]]
        else:
            where[i] = len(nodes)
            nodes.append(Node("identity", combine="concat"))
            edges.extend((local[o], where[i]) for o in inner.outputs)
    inputs = [k for i in dag.inputs for k in entry.get(i, [where[i]])]
    outputs = [where[o] for o in dag.outputs]
    return DAG(nodes, sorted(set(edges)), inputs=inputs, outputs=outputs)
