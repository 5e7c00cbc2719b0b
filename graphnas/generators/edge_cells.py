"""Cells whose ops sit on edges (DARTS, NAS-Bench-201), turned into graphnas' node form.

In DARTS and NAS-Bench-201 a cell is a set of *states* joined by labelled edges:
state ``j`` is the sum over its incoming edges ``(i, j, op)`` of ``op(state_i)``.
graphnas puts ops on nodes, so `from_edge_ops` gives every labelled edge a
node of its own:

- states ``0 .. n_inputs-1`` become ``input`` nodes;
- every other state becomes an ``identity`` node with ``combine="sum"`` (the last
  state, the cell's output, uses ``output_combine``);
- every edge ``(i, j, op)`` becomes a node ``op`` fed by state ``i`` and feeding state ``j``;
- identity (``skip_connect``) stays an explicit node: it is not folded, because
  in a reduction cell the same edge is a strided ``FactorizedReduce``;
- ``none`` (the zero op) edges vanish when ``drop_none=True``. A state left with
  only ``none`` inputs computes zero, so it is removed together with the edges it
  feeds; if that leaves the output with nothing, a `GraphError` says so.
  With ``drop_none=False`` they stay as explicit ``none`` nodes, which keeps every
  cell of a tabular benchmark distinct (NAS-Bench-201 does this).

**Example**

```python
>>> from graphnas.generators.edge_cells import from_edge_ops
>>> cell = from_edge_ops([(0, 1, "nor_conv_3x3"), (0, 2, "skip_connect"), (1, 2, "avg_pool_3x3")])
>>> [n.op for n in cell.nodes]
['input', 'nor_conv_3x3', 'identity', 'skip_connect', 'avg_pool_3x3', 'identity']
>>> [n.op for n in from_edge_ops([(0, 1, "nor_conv_3x3"), (0, 2, "skip_connect"), (1, 2, "none")]).nodes]
['input', 'skip_connect', 'identity']

```
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphnas._graph import reachable
from graphnas.dag import DAG, GraphError, Node

__all__ = ["from_edge_ops"]


def from_edge_ops(edges: Iterable[tuple[int, int, str] | tuple[int, int, str, Mapping[str, Any]]], *,
                  n_inputs: int = 1, drop_none: bool = True, output_combine: str = "sum",
                  zero_op: str = "none") -> DAG:
    """Turn a cell given as labelled edges ``(src_state, dst_state, op[, params])`` into a node-form DAG.

    States are numbered ``0..S-1``; the first ``n_inputs`` are the cell's inputs and
    the highest-numbered state is its output. Every edge must go from a lower to a
    higher state. The node order is: inputs, then for each later state its edge
    nodes (in the order given) followed by the state node.
    """
    triples = []
    for k, e in enumerate(edges):
        if not isinstance(e, (tuple, list)) or len(e) not in (3, 4):
            raise GraphError(f"edge #{k}: expected (src, dst, op) or (src, dst, op, params), got {e!r}")
        src, dst, op = e[0], e[1], e[2]
        params = e[3] if len(e) == 4 else None
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (src, dst)):
            raise GraphError(f"edge #{k} {e!r}: states must be integers")
        if not isinstance(op, str) or not op:
            raise GraphError(f"edge ({src}, {dst}): op must be a non-empty string, got {op!r}")
        if src < 0 or dst <= src:
            raise GraphError(f"edge ({src}, {dst}, {op!r}) must go from a lower to a higher state")
        if dst < n_inputs:
            raise GraphError(f"edge ({src}, {dst}, {op!r}) ends at input state {dst}; inputs take no edges")
        triples.append((src, dst, op, params))
    if n_inputs < 1:
        raise GraphError(f"a cell needs at least one input state, got n_inputs={n_inputs}")
    if not triples:
        raise GraphError("a cell needs at least one edge")
    n_states = max(max(s, d) for s, d, _, _ in triples) + 1
    output = n_states - 1
    has_in = {d for _, d, _, _ in triples}
    for j in range(n_inputs, n_states):
        if j not in has_in:
            raise GraphError(f"state {j} has no incoming edge")

    if drop_none:
        # a state is live when some non-zero path from an input reaches it
        live = reachable(n_states, [(s, d) for s, d, op, _ in triples if op != zero_op], range(n_inputs))
        if not live[output]:
            raise GraphError(f"the output state {output} receives only '{zero_op}' edges (or edges from states "
                             f"that do): the cell computes zero. Pass drop_none=False to keep '{zero_op}' as an "
                             "explicit zero op")
        triples = [t for t in triples if t[2] != zero_op and live[t[0]]]
        # Drop states (and their edges) that no longer reach the output.
        reaches = reachable(n_states, [(s, d) for s, d, _, _ in triples], [output], backward=True)
        triples = [t for t in triples if reaches[t[1]]]
        for i in range(n_inputs):
            if not reaches[i]:
                raise GraphError(f"input state {i} has no non-zero path to the output")

    nodes: list[Node] = []
    edges_out: list[tuple[int, int]] = []
    state_node: dict[int, int] = {}
    for i in range(n_inputs):
        state_node[i] = len(nodes)
        nodes.append(Node("input"))
    for j in range(n_inputs, n_states):
        incoming = [t for t in triples if t[1] == j]
        if not incoming:
            continue  # a dead state (drop_none), removed above together with its edges
        for src, _, op, params in incoming:
            edges_out.append((state_node[src], len(nodes)))
            edges_out.append((len(nodes), -1 - j))  # patched once the state node exists
            nodes.append(Node(op, params))
        state_node[j] = len(nodes)
        nodes.append(Node("identity", combine=output_combine if j == output else "sum"))
    edges_fixed = [(s, state_node[-1 - d] if d < 0 else d) for s, d in edges_out]
    return DAG(nodes, edges_fixed, inputs=list(range(n_inputs)), outputs=[state_node[output]])
