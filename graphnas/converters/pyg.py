"""DAG <-> PyTorch Geometric ``Data``: the node features the GNN surrogate trains on.

`to_pyg` does not have an encoder of its own: ``x`` and ``edge_index`` are
exactly what `graphnas.converters.features.Featurizer` gives the surrogate (op one-hot,
input/output/live flags, combine rule, param tokens, depth; nested DAGs flattened;
edges leaving the zero op ``"none"`` left out). Pass the featurizer of a fitted
``GNNSurrogate`` (``model.featurizer_``) to see a graph as that model sees it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Union

import torch

from graphnas._lazy import quiet_pyg_import
from graphnas.converters.features import ZERO_OP, Featurizer
from graphnas.dag import COMBINES, DAG, GraphError, Node

with quiet_pyg_import():
    from torch_geometric.data import Data

__all__ = ["to_pyg", "from_pyg"]

Encoding = Union[Featurizer, Sequence[str], Mapping[str, int]]


def to_pyg(dag: DAG, featurizer: Encoding | None = None) -> Data:
    """The ``torch_geometric.data.Data`` the surrogate sees for ``dag`` (flattened first).

    Args:
        dag: any DAG; nested DAGs are flattened (``dag.flatten()``), so node ``i``
            of the result is node ``i`` of the flat graph.
        featurizer: the encoding. A `graphnas.surrogate.Featurizer`, e.g. a
            fitted surrogate's ``model.featurizer_`` or ``Featurizer.fit(dags)`` for a
            data set; a list of op names (or a mapping op -> ``0..k-1``), short for
            ``Featurizer(ops)``: no param tokens, the same width for every graph; or
            ``None``: ``Featurizer.fit([dag])``, this graph's own ops and params.
            Ops outside the vocabulary share column 0, as in the surrogate.

    Returns:
        ``Data`` with
        ``x``: ``[num_nodes, featurizer.num_features]`` float, columns as in ``featurizer.layout``;
        ``edge_index``: ``[2, num_edges]`` long, the edges the surrogate passes messages along
        (forward, sorted by destination; none leaving a ``"none"`` node);
        ``dag_edge_index``: ``[2, all_edges]`` long, every edge of the flat graph;
        ``inputs`` / ``outputs``: ``[k]`` long, the ports in order.
        Batched with ``torch_geometric.data.Batch.from_data_list``, ``x`` and ``edge_index``
        equal ``featurizer.batch(dags)``'s.

    **Example**

    ```python
    >>> from graphnas import DAG
    >>> d = to_pyg(DAG(["input", "conv", "identity"], [(0, 1), (1, 2)]), ["input", "conv", "identity"])
    >>> d.x.shape, d.edge_index.tolist()
    (torch.Size([3, 12]), [[0, 1], [1, 2]])

    ```
    """
    flat = dag.flatten()
    f = Featurizer.fit([flat]) if featurizer is None else _as_featurizer(featurizer)
    b = f.batch([flat])
    return Data(x=b.x, edge_index=b.edge_index, dag_edge_index=_edge_tensor(flat.edges), num_nodes=len(flat),
                inputs=torch.tensor(flat.inputs, dtype=torch.long),
                outputs=torch.tensor(flat.outputs, dtype=torch.long))


def from_pyg(data: Data, featurizer: Encoding) -> DAG:
    """The flat DAG of a `to_pyg` result; ``featurizer`` must be the one `to_pyg` used.

    Ops, combine rules and ports come back exactly; params as far as the
    featurizer's ``param_tokens`` cover them (a list of op names has none). Edges
    come from ``dag_edge_index`` where present, else from ``edge_index``. Raises
    GraphError naming the node whose feature row names no op of the vocabulary.
    """
    f = _as_featurizer(featurizer)
    layout = f.layout
    if not isinstance(data, Data):
        raise GraphError(f"from_pyg expects a torch_geometric.data.Data, got {type(data).__name__}")
    x = data.x
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != f.num_features:
        shape = list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise GraphError(f"data.x must have shape [num_nodes, {f.num_features}] for this featurizer, got {shape}")
    x = x.float()  # integer or bool one-hot rows read the same
    for key in ("dag_edge_index", "edge_index"):
        ei = data[key] if key in data else None
        if key == "dag_edge_index" and ei is None:
            continue
        if not isinstance(ei, torch.Tensor) or ei.dim() != 2 or ei.shape[0] != 2 or ei.is_floating_point():
            got = f"{tuple(ei.shape)} {ei.dtype}" if isinstance(ei, torch.Tensor) else type(ei).__name__
            raise GraphError(f"data.{key} must be an integer tensor of shape [2, num_edges], got {got}")
    for key in ("inputs", "outputs"):
        value = data[key] if key in data else None
        if value is not None and (not isinstance(value, torch.Tensor) or value.dim() != 1
                                  or value.is_floating_point()):
            raise GraphError(f"data.{key} must be a 1-D integer tensor of node indices, got {value!r}")
    ops, combines = _one_hot(x[:, layout["op"]], "op"), _one_hot(x[:, layout["combine"]], "combine rule")
    tokens = x[:, layout["params"]]
    nodes = []
    for i in range(x.shape[0]):
        if ops[i] == 0:
            raise GraphError(f"node {i}: its op is not in the vocabulary (feature column 0), so it has no name")
        params = {}
        for t in torch.nonzero(tokens[i]).flatten().tolist():
            key, _, value = f.param_tokens[t].partition("=")
            params[key] = json.loads(value)
        nodes.append(Node(f.vocabulary[ops[i] - 1], params, COMBINES[combines[i]]))
    edge_index = data.dag_edge_index if "dag_edge_index" in data else data.edge_index
    edges = [(s, d) for s, d in edge_index.t().tolist()]
    flags = x[:, layout["flags"]]
    inputs = data.inputs.tolist() if "inputs" in data else torch.nonzero(flags[:, 0]).flatten().tolist()
    outputs = data.outputs.tolist() if "outputs" in data else torch.nonzero(flags[:, 1]).flatten().tolist()
    if "dag_edge_index" not in data:
        sources = {s for s, _ in edges}
        for i, node in enumerate(nodes):
            if node.op == ZERO_OP and i not in sources and i not in outputs:
                raise GraphError(f"node {i} is the zero op {ZERO_OP!r}: edge_index leaves out the edges leaving it "
                                 "and data has no dag_edge_index to restore them")
    return DAG(nodes, edges, inputs=inputs, outputs=outputs)


def _as_featurizer(featurizer: Encoding) -> Featurizer:
    if isinstance(featurizer, Featurizer):
        return featurizer
    if isinstance(featurizer, Mapping):
        index = dict(featurizer)
        if sorted(index.values()) != list(range(len(index))):
            raise GraphError(f"a vocabulary mapping must number its ops 0..{len(index) - 1}, each once; "
                             f"got {index}")
        return Featurizer(sorted(index, key=index.__getitem__), ())
    if isinstance(featurizer, str) or not isinstance(featurizer, Sequence):
        raise GraphError(f"the vocabulary must be a graphnas.converters.Featurizer, a list of op names or a "
                         f"mapping op -> index, got {type(featurizer).__name__}")
    if len(set(featurizer)) != len(featurizer):
        raise GraphError("the vocabulary lists an op twice")
    return Featurizer(list(featurizer), ())


def _one_hot(block: torch.Tensor, what: str) -> list[int]:
    """The hot column of each row; GraphError naming the first row that is not one-hot."""
    counts = (block != 0).sum(dim=1)
    bad = torch.nonzero((counts != 1) | ((block != 0) & (block != 1)).any(dim=1)).flatten().tolist()
    if bad:
        raise GraphError(f"node {bad[0]}: the {what} columns of its feature row are not one-hot")
    return block.argmax(dim=1).tolist()


def _edge_tensor(edges: Sequence[tuple[int, int]]) -> torch.Tensor:
    if not edges:
        return torch.zeros(2, 0, dtype=torch.long)
    return torch.tensor(edges, dtype=torch.long).t().contiguous()
