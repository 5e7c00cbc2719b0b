"""DAG -> node features and edges: the one encoding behind the GNN surrogate and ``graphnas.to_pyg``.

Graphs are batched as one disjoint graph (`GraphBatch`); ``to_pyg`` gives
one graph's features as a PyG ``Data``.

The surrogate sees a graph the way the converter runs it. Each node gets:

- a one-hot of its op over the surrogate's vocabulary (slot 0 is "unknown op");
- flags: is an input, is an output, is *live* (on an input-to-output path that
  does not pass through the zero op ``"none"``);
- a one-hot of its combine rule (``sum``, ``weighted_sum``, ``concat``, ``mean``);
- a multi-hot of its params as ``key=value`` tokens seen during fitting (so
  ``{"stride": 2}`` or ``{"C": 64}`` matter where they vary);
- its depth (longest path from an input) divided by the graph's depth.

Edges leaving a ``"none"`` node are dropped: the zero op sends nothing, so no
information should flow along them. Nested DAGs are flattened first.

`Featurizer.layout` says which columns hold what.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from graphnas._graph import reachable
from graphnas.dag import COMBINES, DAG

__all__ = ["GraphBatch", "Featurizer"]

ZERO_OP = "none"
_N_FLAGS = 3  # input, output, live


@dataclass
class GraphBatch:
    """Many graphs as one disjoint graph (PyG's batching, without ``Data`` objects).

    Shapes:
        - ``x``: ``[num_nodes, num_features]`` float node features;
        - ``edge_index``: ``[2, num_edges]`` long, forward edges (source, target);
        - ``batch``: ``[num_nodes]`` long, the graph each node belongs to;
        - ``out_index`` / ``out_batch``: ``[num_outputs]`` long, output nodes and their graph;
        - ``num_graphs``: int.
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    batch: torch.Tensor
    out_index: torch.Tensor
    out_batch: torch.Tensor
    num_graphs: int


class _Encoded:
    """One graph's features as small numpy arrays (cached per DAG)."""

    __slots__ = ("ops", "flags", "combine", "params", "depth", "src", "dst", "outputs")

    def __init__(self, ops: np.ndarray, flags: np.ndarray, combine: np.ndarray, params: list[list[int]],
                 depth: np.ndarray, src: np.ndarray, dst: np.ndarray, outputs: np.ndarray) -> None:
        self.ops, self.flags, self.combine, self.params = ops, flags, combine, params
        self.depth, self.src, self.dst, self.outputs = depth, src, dst, outputs


class _Shape:
    """Wiring-only features: predecessor lists, depth, port flags, edge arrays."""

    def __init__(self, flat: DAG) -> None:
        n = len(flat)
        self.inputs, self.outputs = flat.inputs, flat.outputs
        self.edges = flat.edges
        level = [0] * n
        for a, b in self.edges:
            level[b] = max(level[b], level[a] + 1)
        self.depth = np.asarray(level, dtype=np.float32) / (max(level) or 1)
        self.flags = np.zeros((n, _N_FLAGS), dtype=np.float32)
        self.flags[list(self.inputs), 0] = 1.0
        self.flags[list(self.outputs), 1] = 1.0
        self.src = np.asarray([s for s, _ in flat.edges], dtype=np.int64)
        self.dst = np.asarray([d for _, d in flat.edges], dtype=np.int64)
        self.out = np.asarray(flat.outputs, dtype=np.int64)


def _param_tokens(params: Mapping) -> list[str]:
    return [f"{k}={json.dumps(v)}" for k, v in params.items()]


class Featurizer:
    """Turns DAGs into a `GraphBatch` over a fixed op and param vocabulary.

    ``vocabulary`` lists op names (unknown ops share slot 0); ``param_tokens``
    lists ``key=value`` strings. Encodings are cached per DAG, so scoring the
    same candidates again is cheap.
    """

    def __init__(self, vocabulary: Sequence[str], param_tokens: Sequence[str] = (), *,
                 cache_size: int = 200_000) -> None:
        self.vocabulary = list(vocabulary)
        self.param_tokens = list(param_tokens)
        self._op_index = {op: i + 1 for i, op in enumerate(self.vocabulary)}
        self._param_index = {t: i for i, t in enumerate(self.param_tokens)}
        self._combine_index = {c: i for i, c in enumerate(COMBINES)}
        self._cache: dict[DAG, _Encoded] = {}
        self._live_cache: dict[DAG, _Encoded] = {}
        self._shapes: dict[tuple, _Shape] = {}
        self._cache_size = cache_size

    @classmethod
    def fit(cls, dags: Sequence[DAG], vocabulary: Sequence[str] | None = None,
            max_param_tokens: int = 64) -> Featurizer:
        """The featurizer that `graphnas.surrogate.GNNSurrogate` builds when fitted on ``dags``.

        Ops: ``vocabulary`` plus ``input`` and ``identity`` (which every cell holds) where given,
        else every op that occurs in ``dags``; params: the ``max_param_tokens`` most frequent
        ``key=value`` tokens of ``dags`` (see `fit_tokens`).
        """
        ops, tokens = cls.fit_tokens(dags, max_param_tokens)
        if vocabulary is not None:
            ops = list(vocabulary) + [o for o in ("input", "identity") if o not in vocabulary]
        return cls(ops, tokens)

    @property
    def num_features(self) -> int:
        return self.layout["depth"].stop

    @property
    def layout(self) -> dict[str, slice]:
        """The columns of a node's feature row, in order.

        ``op``: one-hot, column 0 for an op not in ``vocabulary``, then ``vocabulary``;
        ``flags``: is an input, is an output, is live; ``combine``: one-hot over
        `graphnas.COMBINES`; ``params``: multi-hot over ``param_tokens``;
        ``depth``: longest path from an input over the graph's depth (one column).
        """
        v = len(self.vocabulary) + 1
        c0 = v + _N_FLAGS
        p0 = c0 + len(COMBINES)
        d0 = p0 + len(self.param_tokens)
        return {"op": slice(0, v), "flags": slice(v, c0), "combine": slice(c0, p0), "params": slice(p0, d0),
                "depth": slice(d0, d0 + 1)}

    @staticmethod
    def fit_tokens(dags: Sequence[DAG], max_param_tokens: int = 64) -> tuple[list[str], list[str]]:
        """The op names and the most frequent param tokens that occur in ``dags`` (nested DAGs flattened)."""
        ops: dict[str, None] = {}
        counts: dict[str, int] = {}
        for dag in dags:
            for node in dag.flatten().nodes:
                ops.setdefault(str(node.op), None)
                for t in _param_tokens(node.params):
                    counts[t] = counts.get(t, 0) + 1
        # Tokens seen on every node of one kind carry no information only if constant everywhere;
        # keep the frequent ones, ties broken by name, so the result is deterministic.
        tokens = sorted(counts, key=lambda t: (-counts[t], t))[:max_param_tokens]
        return sorted(ops), sorted(tokens)

    def encode(self, dag: DAG) -> _Encoded:
        enc = self._cache.get(dag)
        if enc is not None:
            return enc
        flat = dag.flatten()
        n = len(flat)
        nodes = flat.nodes
        shape = self._shape(flat)
        op_index, combine_index, param_index = self._op_index, self._combine_index, self._param_index
        ops = np.fromiter((op_index.get(op, 0) for op in (node.op for node in nodes)), dtype=np.int64,  # type: ignore[arg-type]
                          count=n)
        combine = np.fromiter((combine_index[node.combine] for node in nodes), dtype=np.int64, count=n)
        params = [[param_index[t] for t in _param_tokens(node.params) if t in param_index] if node._params else []
                  for node in nodes]
        op_names = [node.op for node in nodes]
        is_zero = [op == ZERO_OP for op in op_names]
        # live = reachable from an input and reaching an output without passing through the zero op
        moving = [(a, b) for a, b in shape.edges if not is_zero[a]] if any(is_zero) else shape.edges
        fwd = reachable(n, moving, shape.inputs)
        bwd = reachable(n, moving, shape.outputs, backward=True)
        flags = shape.flags.copy()
        flags[:, 2] = [fwd[i] and bwd[i] and not is_zero[i] for i in range(n)]
        src, dst = shape.src, shape.dst
        if any(is_zero):
            keep = ~np.asarray(is_zero)[src]
            src, dst = src[keep], dst[keep]
        enc = _Encoded(ops, flags, combine, params, shape.depth, src, dst, shape.out)
        if len(self._cache) < self._cache_size:
            self._cache[dag] = enc
        return enc

    def _shape(self, flat: DAG) -> _Shape:
        """The op-independent part of the encoding, shared by all graphs with the same wiring."""
        key = (len(flat), flat.edges, flat.inputs, flat.outputs)
        shape = self._shapes.get(key)
        if shape is None:
            shape = _Shape(flat)
            if len(self._shapes) < self._cache_size:
                self._shapes[key] = shape
        return shape

    def live_part(self, dag: DAG) -> _Encoded:
        """`encode`'s features of ``dag``'s live nodes and its inputs and outputs only, with the edges
        between them (cached per DAG). Two graphs that differ only in parts no input-to-output path
        uses compute the same function; in a space of fixed wiring (NAS-Bench-201, DARTS cells), where
        only ops differ, they get the same features here. A node keeps its depth feature from the whole
        graph. It is also fewer nodes to pass messages over."""
        enc = self._live_cache.get(dag)
        if enc is not None:
            return enc
        full = self.encode(dag)
        keep: np.ndarray = np.asarray((full.flags > 0).any(axis=1))  # an input, an output or live
        if keep.all():
            enc = full
        else:
            index = np.cumsum(keep) - 1
            both = keep[full.src] & keep[full.dst]
            enc = _Encoded(full.ops[keep], full.flags[keep], full.combine[keep],
                           [p for p, k in zip(full.params, keep) if k], full.depth[keep],
                           index[full.src[both]], index[full.dst[both]], index[full.outputs])
        if len(self._live_cache) < self._cache_size:
            self._live_cache[dag] = enc
        return enc

    def batch(self, dags: Sequence[DAG], live_only: bool = False) -> GraphBatch:
        """Encode ``dags`` and join them into one disjoint graph (``live_only``: each graph's `live_part`)."""
        encs = [self.live_part(d) if live_only else self.encode(d) for d in dags]
        sizes = np.fromiter((len(e.ops) for e in encs), dtype=np.int64, count=len(encs))
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]) if len(encs) else np.zeros(0, np.int64)
        n = int(sizes.sum())
        layout = self.layout
        flags, c0, p0 = layout["flags"], layout["combine"].start, layout["params"].start
        x = np.zeros((n, self.num_features), dtype=np.float32)
        ops = np.concatenate([e.ops for e in encs]) if encs else np.zeros(0, np.int64)
        rows = np.arange(n)
        x[rows, ops] = 1.0
        if encs:
            x[:, flags] = np.concatenate([e.flags for e in encs])
            x[rows, c0 + np.concatenate([e.combine for e in encs])] = 1.0
            x[:, layout["depth"].start] = np.concatenate([e.depth for e in encs])
            if self.param_tokens:
                for e, off in zip(encs, offsets):
                    for i, toks in enumerate(e.params):
                        for t in toks:
                            x[off + i, p0 + t] = 1.0
        edge_sizes = np.fromiter((len(e.src) for e in encs), dtype=np.int64, count=len(encs))
        if encs:
            src = np.concatenate([e.src for e in encs]) + np.repeat(offsets, edge_sizes)
            dst = np.concatenate([e.dst for e in encs]) + np.repeat(offsets, edge_sizes)
            out_sizes = np.fromiter((len(e.outputs) for e in encs), dtype=np.int64, count=len(encs))
            out_index = np.concatenate([e.outputs for e in encs]) + np.repeat(offsets, out_sizes)
            out_batch = np.repeat(np.arange(len(encs)), out_sizes)
        else:
            src = dst = out_index = out_batch = np.zeros(0, np.int64)
        return GraphBatch(
            x=torch.from_numpy(x),
            edge_index=torch.from_numpy(np.stack([src, dst])),
            batch=torch.from_numpy(np.repeat(np.arange(len(encs)), sizes)),
            out_index=torch.from_numpy(out_index),
            out_batch=torch.from_numpy(out_batch),
            num_graphs=len(encs),
        )
