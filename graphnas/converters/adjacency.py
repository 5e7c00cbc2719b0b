"""DAG <-> adjacency matrix plus op list, NAS-Bench-101 style.

Row 0 is the input, the last row the output; ``matrix[i][j] == 1`` is an edge ``i -> j``.

**Example**

```python
>>> dag = from_adjacency([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
>>> matrix, ops = to_adjacency(dag)
>>> matrix.tolist(), ops
([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ['input', 'conv3x3-bn-relu', 'output'])

```
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from graphnas._graph import reachable
from graphnas.dag import DAG, GraphError, Node, Op

__all__ = ["from_adjacency", "to_adjacency"]


def from_adjacency(matrix: Any, ops: Sequence[Op], *, combine: str | Sequence[str] = "sum",
                   prune: bool = False) -> DAG:
    """Build from an upper-triangular 0/1 adjacency matrix and one op per row.

    Node 0 is the input and the last node the output. ``combine`` is one rule for
    every node or one per node. With ``prune=True`` nodes that lie on no
    input-to-output path are dropped first (NAS-Bench-101's pruning); otherwise
    they raise GraphError.
    """
    try:
        m = np.asarray(matrix)
    except Exception as err:  # noqa: BLE001 - any conversion failure is bad input
        raise GraphError(f"adjacency matrix could not be read: {err}") from None
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise GraphError(f"adjacency matrix must be square, got shape {m.shape}")
    n = m.shape[0]
    if n == 0:
        raise GraphError("adjacency matrix is empty; a DAG needs at least one node")
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
        raise GraphError(f"ops must be a sequence with one op per row, got {type(ops).__name__}")
    if len(ops) != n:
        raise GraphError(f"adjacency matrix has {n} rows but {len(ops)} ops were given")
    if not np.isin(m, (0, 1)).all():
        raise GraphError("adjacency matrix entries must be 0 or 1")
    for i, j in zip(*np.nonzero(np.tril(m))):
        raise GraphError(f"edge ({i}, {j}) lies on or below the diagonal; the matrix must be "
                         "upper-triangular (nodes in topological order)")
    if isinstance(combine, str):
        combines = [combine] * n
    elif isinstance(combine, Sequence) and not isinstance(combine, bytes):
        combines = list(combine)
    else:
        raise GraphError(f"combine must be one rule or a sequence of one per node, got {type(combine).__name__}")
    if len(combines) != n:
        raise GraphError(f"{len(combines)} combine rules given for {n} nodes")
    edges = [(int(i), int(j)) for i, j in zip(*np.nonzero(m))]
    keep = list(range(n))
    if prune:
        keep, edges = on_io_paths(n, edges)
        if not keep:
            raise GraphError("the output is not reachable from the input; nothing is left after pruning")
    nodes = []
    for i in keep:
        try:
            nodes.append(Node(ops[i], combine=combines[i]))
        except GraphError as err:
            raise GraphError(f"node {i}: {err}") from None
    return DAG(nodes, edges, inputs=[0], outputs=[len(keep) - 1])


def on_io_paths(n: int, edges: Sequence[tuple[int, int]]) -> tuple[list[int], list[tuple[int, int]]]:
    """NAS-Bench-101's pruning of a graph on nodes ``0..n-1`` (input 0, output ``n - 1``): the nodes on an
    input-to-output path, in order, and the edges between them renumbered to ``0..len(kept) - 1``. No
    node is kept when the output is not reachable from the input."""
    fwd = reachable(n, edges, [0])
    bwd = reachable(n, edges, [n - 1], backward=True)
    keep = [i for i in range(n) if fwd[i] and bwd[i]]
    index = {old: new for new, old in enumerate(keep)}
    return keep, [(index[i], index[j]) for i, j in edges if i in index and j in index]


def to_adjacency(dag: DAG) -> tuple[np.ndarray, list[Op]]:
    """The adjacency matrix (a numpy int64 array, ``[n, n]``) and the list of ops.

    NAS-Bench-101's format holds edges and ops only: node params and combine rules are not in it
    (`from_adjacency` takes the combine rules as an argument), so use ``dag.to_json()`` for a lossless
    copy.

    Raises:
        GraphError: for a DAG whose input is not node 0 alone or whose output is not its last node alone,
            which the format cannot say.
    """
    if dag.inputs != (0,) or dag.outputs != (len(dag) - 1,):
        raise GraphError(f"to_adjacency: a NAS-Bench-101 matrix has node 0 as its one input and the last node as "
                         f"its one output; this DAG has inputs {list(dag.inputs)} and outputs {list(dag.outputs)} "
                         "(dag.to_json() keeps any ports)")
    m = np.zeros((len(dag), len(dag)), dtype=np.int64)
    for s, d in dag.edges:
        m[s, d] = 1
    return m, list(dag.ops)
