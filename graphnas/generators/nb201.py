"""NAS-Bench-201 (Dong & Yang 2020): 4 states, 6 edges, 5 ops, 5**6 = 15,625 cells.

The node form keeps all 6 edges as op nodes, ``none`` included, so that every
arch string gives its own DAG and strings round-trip exactly (dropping ``none``
edges would merge cells NAS-Bench-201 counts separately and lose the string).
Layout: node 0 is the input; each state 1..3 is an ``identity``/``sum`` node
preceded by its incoming edge nodes in source order; state 3 is the output:

```python
0 input | 1 e(0->1) | 2 state 1 | 3 e(0->2) 4 e(1->2) | 5 state 2 | 6 e(0->3) 7 e(1->3) 8 e(2->3) | 9 state 3
```

**Example**

```python
>>> from graphnas.generators import NB201Space
>>> space = NB201Space()
>>> s = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
>>> space.to_string(space.from_string(s)) == s
True

```
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from graphnas.dag import DAG, GraphError, Node
from graphnas.generators._random import Seed, as_random
from graphnas.generators.base import SearchSpace
from graphnas.generators.decisions import Decision, decode_checked
from graphnas.generators.registry import register_generator
from graphnas.generators.supernet import argmax, check_path, check_weights, choice_node

__all__ = ["NB201_OPS", "NB201Space"]

#: NAS-Bench-201's operations, in the benchmark's order.
NB201_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

#: The 6 edges (dst, src) in arch-string order.
_EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
_EDGE_NODE = (1, 3, 4, 6, 7, 8)  # node index of each edge
_STATE_NODE = (0, 2, 5, 9)  # node index of each state
# in the order DAG.edges keeps them (by destination, then source), so a member's edges compare equal
_DAG_EDGES = tuple(sorted(
    [(_STATE_NODE[src], _EDGE_NODE[k]) for k, (_, src) in enumerate(_EDGES)]
    + [(_EDGE_NODE[k], _STATE_NODE[dst]) for k, (dst, _) in enumerate(_EDGES)],
    key=lambda e: (e[1], e[0])))


@register_generator("nb201")
class NB201Space(SearchSpace):
    """The NAS-Bench-201 cell space; a cell is a 10-node DAG with one op node per edge (see module doc)."""

    name = "nb201"
    vocabulary = NB201_OPS

    def __init__(self) -> None:
        self._state = Node("identity", combine="sum")
        self._ops = {op: Node(op) for op in NB201_OPS}
        # every cell built is kept (at most 15,625; a DAG is immutable, so sharing it is safe): a search that
        # makes the same cell again gets the same object, with its canonical key and features already cached
        self._cells: dict[tuple[str, ...], DAG] = {}
        self._ops_of: dict[DAG, tuple[str, ...]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_cells", "_ops_of")}  # caches stay local

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._cells, self._ops_of = {}, {}

    # -- conversions ------------------------------------------------------------

    def from_ops(self, ops: Sequence[str]) -> DAG:
        """The cell whose 6 edges carry ``ops``, in arch-string order (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2)."""
        key = tuple(ops)
        plain = all(type(op) is str for op in key)  # only plain strings are keys (to_ops returns them)
        if plain:
            cell = self._cells.get(key)
            if cell is not None:
                return cell
        ops = list(key)
        if len(ops) != 6:
            raise GraphError(f"a NAS-Bench-201 cell has 6 edges, got {len(ops)} ops")
        nodes: list[Node] = [Node("input")] + [self._state] * 9
        for k, op in enumerate(ops):
            if op not in self._ops:
                dst, src = _EDGES[k]
                raise GraphError(f"edge {src}->{dst}: unknown NAS-Bench-201 op {op!r}; "
                                 f"expected one of {', '.join(NB201_OPS)}")
            nodes[_EDGE_NODE[k]] = self._ops[op]
        cell = DAG(nodes, _DAG_EDGES, inputs=(0,), outputs=(9,))
        if plain:
            self._cells[key] = cell
            self._ops_of[cell] = key
        return cell

    def to_ops(self, dag: DAG) -> list[str]:
        """The 6 edge ops of a cell made by this space (GraphError if ``dag`` is not one)."""
        known = self._ops_of.get(dag) if isinstance(dag, DAG) else None
        if known is not None:  # equal to a cell built here: a member
            return list(known)
        self.check(dag)
        return [dag.nodes[i].op for i in _EDGE_NODE]  # type: ignore[misc]

    def from_string(self, arch: str) -> DAG:
        """Parse an arch string such as ``|nor_conv_3x3~0|+|none~0|skip_connect~1|+|...|``."""
        if not isinstance(arch, str):
            raise GraphError(f"an arch string must be a str, got {type(arch).__name__}")
        parts = arch.strip().split("+")
        if len(parts) != 3:
            raise GraphError(f"arch string {arch!r}: expected 3 '+'-separated nodes, got {len(parts)}")
        ops = []
        for node, part in enumerate(parts, start=1):
            if not (part.startswith("|") and part.endswith("|")):
                raise GraphError(f"arch string {arch!r}: node {node} part {part!r} must start and end with '|'")
            entries = part[1:-1].split("|")
            if len(entries) != node:
                raise GraphError(f"arch string {arch!r}: node {node} must list {node} edges, got {len(entries)}")
            for src, entry in enumerate(entries):
                op, sep, index = entry.rpartition("~")
                if not sep or index != str(src):
                    raise GraphError(f"arch string {arch!r}: node {node} entry {entry!r} must read 'op~{src}'")
                ops.append(op)
        return self.from_ops(ops)

    def to_string(self, dag: DAG) -> str:
        """The arch string of a cell made by this space."""
        ops = iter(self.to_ops(dag))
        return "+".join("|" + "|".join(f"{next(ops)}~{src}" for src in range(node)) + "|" for node in (1, 2, 3))

    # -- the space --------------------------------------------------------------

    def check(self, dag: DAG) -> None:
        if not isinstance(dag, DAG):
            raise GraphError(f"expected a DAG, got {type(dag).__name__}")
        if len(dag) != 10 or dag.edges != _DAG_EDGES \
                or dag.inputs != (0,) or dag.outputs != (9,):
            raise GraphError("not a NAS-Bench-201 cell: expected the 10-node layout made by NB201Space "
                             "(input, 6 edge nodes, 3 state nodes)")
        if dag.nodes[0] != Node("input"):
            raise GraphError("not a NAS-Bench-201 cell: node 0 must be Node('input')")
        for i in _STATE_NODE[1:]:
            if dag.nodes[i] != self._state:
                raise GraphError(f"not a NAS-Bench-201 cell: node {i} must be an identity/sum state node")
        for k, i in enumerate(_EDGE_NODE):
            node = dag.nodes[i]
            if not isinstance(node.op, str) or node.op not in self._ops or node != self._ops[node.op]:
                dst, src = _EDGES[k]
                raise GraphError(f"not a NAS-Bench-201 cell: node {i} (edge {src}->{dst}) must be a plain "
                                 f"op from {', '.join(NB201_OPS)}, got {node!r}")

    def size(self) -> int:
        return len(NB201_OPS) ** 6

    def sample(self, seed: Seed = None) -> DAG:
        """A cell with each edge's op drawn uniformly and independently."""
        rng = as_random(seed)
        return self.from_ops([rng.choice(NB201_OPS) for _ in range(6)])

    def mutate(self, dag: DAG, seed: Seed = None) -> DAG:
        """Change the op of one edge (chosen uniformly) to a different op (chosen uniformly)."""
        rng = as_random(seed)
        ops = self.to_ops(dag)
        k = rng.randrange(6)
        ops[k] = rng.choice([op for op in NB201_OPS if op != ops[k]])
        return self.from_ops(ops)

    def enumerate(self) -> Iterator[DAG]:
        """All 15,625 cells, the first edge varying slowest."""
        for ops in itertools.product(NB201_OPS, repeat=6):
            yield self.from_ops(ops)

    def neighbours(self, dag: DAG) -> list[DAG]:
        """The 24 cells that differ from ``dag`` in exactly one edge's op."""
        ops = self.to_ops(dag)
        out = []
        for k in range(6):
            for op in NB201_OPS:
                if op != ops[k]:
                    out.append(self.from_ops(ops[:k] + [op] + ops[k + 1:]))
        return out

    # -- as a sequence of decisions (see graphnas.generators.decisions) --------------------

    def decisions(self, prefix: Sequence[int]) -> Decision | None:
        """Six decisions, one per edge in arch-string order: the edge's op (index into ``NB201_OPS``)."""
        k = len(prefix)
        if k >= 6:
            return None
        dst, src = _EDGES[k]
        return Decision(f"edge {src}->{dst}", NB201_OPS, key="op")

    def encode(self, dag: DAG) -> list[int]:
        """The 6 op indices of a cell (GraphError if ``dag`` is not a member)."""
        return [NB201_OPS.index(op) for op in self.to_ops(dag)]

    def decode(self, choices: Sequence[int]) -> DAG:
        """The cell of 6 op indices; GraphError naming the decision for a bad sequence."""
        return decode_checked(self, choices, lambda c: self.from_ops([NB201_OPS[i] for i in c]))

    # -- the supernet (graphnas.generators.supernet) --------------------------------------

    @staticmethod
    def choice_keys() -> list[str]:
        """The supernet's choice keys, one per edge in arch-string order, named as NAS-Bench-201 does (``2<-0``)."""
        return [f"{dst}<-{src}" for dst, src in _EDGES]

    def supernet(self) -> DAG:
        """The cell with a choice node over all 5 ops on each of its 6 edges (NAS-Bench-201's search cell)."""
        nodes: list[Node] = [Node("input")] + [self._state] * 9
        for k, key in zip(_EDGE_NODE, self.choice_keys()):
            nodes[k] = choice_node(NB201_OPS, key)
        return DAG(nodes, _DAG_EDGES, inputs=(0,), outputs=(9,))

    def path_of(self, dag: DAG) -> dict[str, int]:
        """The path of a cell: edge key -> index of its op in ``NB201_OPS``."""
        return dict(zip(self.choice_keys(), self.encode(dag)))

    def from_path(self, path: Any) -> DAG:
        """The cell of a path (edge key -> op index or op name)."""
        choices = check_path(dict.fromkeys(self.choice_keys(), NB201_OPS), path)
        return self.from_ops([NB201_OPS[choices[k]] for k in self.choice_keys()])

    def derive(self, weights: Any) -> DAG:
        """The cell of the argmax op on each edge, ``none`` included, as NAS-Bench-201's DARTS and GDAS
        derive theirs. ``weights``: edge key -> one weight per op of ``NB201_OPS``."""
        w = check_weights(dict.fromkeys(self.choice_keys(), len(NB201_OPS)), weights)
        return self.from_path({k: argmax(w[k]) for k in self.choice_keys()})
