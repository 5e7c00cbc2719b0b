"""DAG -> PyTorch Geometric ``Data``: one-hot op features and forward edges in node order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch_geometric.data import Data

from graphnas.dag import DAG, GraphError

__all__ = ["to_pyg", "from_pyg"]


def to_pyg(dag: DAG, vocabulary: Sequence[str] | Mapping[str, int]) -> Data:
    """Encode ``dag`` as a ``torch_geometric.data.Data``.

    Shapes:
        - ``x``: ``[num_nodes, len(vocabulary)]`` float one-hot of each node's op;
        - ``edge_index``: ``[2, num_edges]`` long, forward edges sorted by destination then source;
        - ``inputs`` / ``outputs``: ``[k]`` long indices of the designated ports.

    Raises GraphError naming the node whose op is not in ``vocabulary``; a nested
    DAG must be flattened first (``dag.flatten()``).

    Example::

        >>> from graphnas import DAG
        >>> d = to_pyg(DAG(["input", "conv", "identity"], [(0, 1), (1, 2)]), ["input", "conv", "identity"])
        >>> d.x.shape, d.edge_index.tolist()
        (torch.Size([3, 3]), [[0, 1], [1, 2]])
    """
    index = _vocab_index(vocabulary)
    rows = []
    for i, node in enumerate(dag.nodes):
        if isinstance(node.op, DAG):
            raise GraphError(f"node {i} holds a nested DAG; call dag.flatten() before to_pyg")
        if node.op not in index:
            raise GraphError(f"node {i} has op {node.op!r}, which is not in the vocabulary "
                             f"{sorted(index, key=index.__getitem__)}")
        rows.append(index[node.op])
    x = torch.zeros(len(dag), len(index))
    x[torch.arange(len(dag)), torch.tensor(rows, dtype=torch.long)] = 1.0
    if dag.edges:
        edge_index = torch.tensor(dag.edges, dtype=torch.long).t().contiguous()
    else:
        edge_index = torch.zeros(2, 0, dtype=torch.long)
    return Data(x=x, edge_index=edge_index, num_nodes=len(dag),
                inputs=torch.tensor(dag.inputs, dtype=torch.long),
                outputs=torch.tensor(dag.outputs, dtype=torch.long))


def from_pyg(data: Data, vocabulary: Sequence[str] | Mapping[str, int]) -> DAG:
    """The inverse of :func:`to_pyg` (ops from the one-hot rows; params and combine rules are not encoded)."""
    index = _vocab_index(vocabulary)
    names = sorted(index, key=index.__getitem__)
    if not isinstance(data, Data):
        raise GraphError(f"from_pyg expects a torch_geometric.data.Data, got {type(data).__name__}")
    x = data.x
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != len(names):
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise GraphError(f"data.x must have shape [num_nodes, {len(names)}], got {got}")
    ops = []
    for i, row in enumerate(x):
        hot = torch.nonzero(row).flatten().tolist()
        if len(hot) != 1 or row[hot[0]] != 1:
            raise GraphError(f"node {i}: feature row is not one-hot: {row.tolist()}")
        ops.append(names[hot[0]])
    ei = data.edge_index
    if not isinstance(ei, torch.Tensor) or ei.dim() != 2 or ei.shape[0] != 2 or ei.is_floating_point():
        got = f"{tuple(ei.shape)} {ei.dtype}" if isinstance(ei, torch.Tensor) else type(ei).__name__
        raise GraphError(f"data.edge_index must be an integer tensor of shape [2, num_edges], got {got}")
    edges = [tuple(e) for e in ei.t().tolist()]
    ports = []
    for kind in ("inputs", "outputs"):
        value = data[kind] if kind in data else None
        if value is not None and (not isinstance(value, torch.Tensor) or value.dim() != 1
                                  or value.is_floating_point()):
            raise GraphError(f"data.{kind} must be a 1-D integer tensor of node indices, got {value!r}")
        ports.append(None if value is None else value.tolist())
    return DAG(ops, edges, inputs=ports[0], outputs=ports[1])


def _vocab_index(vocabulary: Sequence[str] | Mapping[str, int]) -> dict[str, int]:
    if isinstance(vocabulary, Mapping):
        index = dict(vocabulary)
        if sorted(index.values()) != list(range(len(index))):
            raise GraphError(f"a vocabulary mapping must number its ops 0..{len(index) - 1}, each once; "
                             f"got {index}")
        return index
    index = {op: i for i, op in enumerate(vocabulary)}
    if len(index) != len(vocabulary):
        raise GraphError("the vocabulary lists an op twice")
    return index
