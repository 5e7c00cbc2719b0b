"""NAS-Bench-101 (Ying et al. 2019): cells of at most 7 vertices and 9 edges, 3 ops.

A cell is the DAG of its *pruned* adjacency matrix (vertices on no input-output
path removed, as NAS-Bench-101's ``ModelSpec`` does): node 0 ``input``, interior
nodes ``conv3x3-bn-relu`` / ``conv1x1-bn-relu`` / ``maxpool3x3`` summing their
inputs, the last node the output, an ``identity``/``concat`` node (NAS-Bench-101
concatenates the vertices feeding the output and adds a projection of the
input when the input feeds it; `graphnas.models.nb101_cell` lowers that).
Two labelled matrices of the same graph are the same architecture; use
``dag.canonical_key()`` to compare cells as NAS-Bench-101 does with its hash.

**Example**

```python
>>> from graphnas.generators import NB101Space
>>> space = NB101Space()
>>> cell = space.sample(seed=0)
>>> space.contains(cell) and len(cell) <= 7 and cell.num_edges <= 9
True

```
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any

from graphnas._checks import is_integer
from graphnas.converters.adjacency import from_adjacency, on_io_paths, to_adjacency
from graphnas.dag import DAG, GraphError, Node
from graphnas.generators._random import Seed, as_random
from graphnas.generators.base import SearchSpace
from graphnas.generators.decisions import Decision, decode_checked
from graphnas.generators.registry import register_generator

__all__ = ["NB101_OPS", "NB101Space"]

#: NAS-Bench-101's interior ops.
NB101_OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")

_OUTPUT = Node("identity", combine="concat")
_NODES = tuple(Node(op) for op in NB101_OPS)
_NODE_OF = dict(zip(NB101_OPS, _NODES))
_INPUT = Node("input")
_BLANK = "_interior"  # the op of every interior vertex when comparing bare structures


def _image(labels: tuple[int, ...], perm: list[int]) -> tuple[int, ...]:
    """The labelling after moving vertex v to perm[v]."""
    out = list(labels)
    for v, w in enumerate(perm):
        out[w] = labels[v]
    return tuple(out)


@register_generator("nb101")
class NB101Space(SearchSpace):
    """The NAS-Bench-101 cell space (see module doc). ``enumerate()`` yields every cell once;
    ``size()`` is their number (the paper's 423,624 at the default limits)."""

    name = "nb101"
    vocabulary = NB101_OPS

    def __init__(self, *, max_vertices: int = 7, max_edges: int = 9) -> None:
        # a numpy integer is stored as its int (the checks, in _validate_params, name a bad value)
        self.max_vertices = int(max_vertices) if is_integer(max_vertices) else max_vertices
        self.max_edges = int(max_edges) if is_integer(max_edges) else max_edges

    def __repr__(self) -> str:
        return f"NB101Space(max_vertices={self.max_vertices}, max_edges={self.max_edges})"

    def _validate_params(self) -> None:
        # with fewer than 2 vertices or no edge the space is empty, and sample() would redraw forever
        if not is_integer(self.max_vertices, 2):
            raise ValueError(f"max_vertices must be an int >= 2, got {self.max_vertices!r}")
        if not is_integer(self.max_edges, 1):
            raise ValueError(f"max_edges must be an int >= 1, got {self.max_edges!r}")

    # -- conversions ------------------------------------------------------------

    def from_spec(self, matrix: Any, ops: Sequence[str]) -> DAG:
        """The cell of an adjacency matrix and its ops, pruned; ops may include NAS-Bench-101's
        ``'input'``/``'output'`` labels at both ends. GraphError if the pruned cell is not in the space."""
        import numpy as np

        try:
            m = np.asarray(matrix)
        except (TypeError, ValueError) as err:
            raise GraphError(f"a NAS-Bench-101 matrix could not be read: {err}") from None
        if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
            raise GraphError(f"NAS-Bench-101 ops must be a list of op names, got {type(ops).__name__}")
        ops = list(ops)
        n = m.shape[0] if m.ndim == 2 else -1
        if m.ndim != 2 or m.shape[0] != m.shape[1] or n < 2:
            raise GraphError(f"a NAS-Bench-101 matrix is square with at least 2 rows, got shape {m.shape}")
        if len(ops) == n:
            if ops[0] != "input" or ops[-1] != "output":
                raise GraphError("with one op per vertex the first must be 'input' and the last 'output'")
            ops = ops[1:-1]
        if len(ops) != n - 2:
            raise GraphError(f"{n} vertices need {n - 2} interior ops, got {len(ops)}")
        for i, op in enumerate(ops):
            if op not in NB101_OPS:
                raise GraphError(f"vertex {i + 1}: unknown NAS-Bench-101 op {op!r}; expected one of "
                                 f"{', '.join(NB101_OPS)}")
        dag = from_adjacency(m, ["input", *ops, "output"], prune=True)
        nodes = [Node("input"), *(Node(op) for op in dag.ops[1:-1]), _OUTPUT]
        out = DAG(nodes, dag.edges, inputs=(0,), outputs=(len(nodes) - 1,))
        self.check(out)
        return out

    def to_spec(self, dag: DAG) -> tuple[Any, list[str]]:
        """The (matrix, ops) of a cell, ops labelled as NAS-Bench-101 does (``'input'``, ..., ``'output'``)."""
        self.check(dag)
        m, ops = to_adjacency(dag)
        return m, ["input", *ops[1:-1], "output"]  # type: ignore[list-item]

    # -- the space --------------------------------------------------------------

    def check(self, dag: DAG) -> None:
        if not isinstance(dag, DAG):
            raise GraphError(f"expected a DAG, got {type(dag).__name__}")
        n = len(dag)
        if n < 2 or dag.inputs != (0,) or dag.outputs != (n - 1,):
            raise GraphError("a NAS-Bench-101 cell has its input at node 0 and its output last")
        if n > self.max_vertices:
            raise GraphError(f"{n} vertices; NAS-Bench-101 allows at most {self.max_vertices}")
        if dag.num_edges > self.max_edges:
            raise GraphError(f"{dag.num_edges} edges; NAS-Bench-101 allows at most {self.max_edges}")
        if dag.nodes[0] != Node("input") or dag.nodes[-1] != _OUTPUT:
            raise GraphError("node 0 must be Node('input') and the last node Node('identity', combine='concat')")
        for i in range(1, n - 1):
            node = dag.nodes[i]
            if node.op not in NB101_OPS or node != Node(node.op):  # type: ignore[operator]
                raise GraphError(f"node {i}: expected a plain op from {', '.join(NB101_OPS)}, got {node!r}")

    def size(self) -> int:
        """The number of members, counted as `enumerate` yields them: 423,624 at the default limits.

        The distinct structures are enumerated as in `enumerate` and each adds its number of op
        labellings up to its automorphisms (Burnside's lemma). At NAS-Bench-101's own limits (7 vertices,
        9 edges) this takes well under a second and gives the paper's published 423,624.
        """
        self._validate_params()
        k = len(NB101_OPS)
        total = 0
        for n, _edges, autos in self._structures():
            # Burnside: orbits of labellings = mean over automorphisms of k ** (cycles on the interior)
            fixed = 0
            for perm in autos:
                seen = [False] * n
                cycles = 0
                for v in range(1, n - 1):
                    if not seen[v]:
                        cycles += 1
                        while not seen[v]:
                            seen[v] = True
                            v = perm[v]
                fixed += k**cycles
            total += fixed // len(autos)
        return total

    # -- enumeration ------------------------------------------------------------

    def _matrices(self, n: int) -> Iterator[list[tuple[int, int]]]:
        """The edge lists of every n-vertex upper-triangular matrix NAS-Bench-101 keeps: at most
        ``max_edges`` edges, every column but the first and every row but the last non-empty (so every
        vertex lies on an input-output path and nothing is pruned)."""
        budget = self.max_edges

        def extend(j: int, edges: list[tuple[int, int]], has_out: int) -> Iterator[list[tuple[int, int]]]:
            if j == n:
                if has_out == (1 << (n - 1)) - 1:  # rows 0..n-2 each have an out-edge
                    yield edges
                return
            room = budget - len(edges) - (n - 1 - j)  # each later column needs one edge
            for mask in range(1, 1 << j):  # column j's in-edges: a non-empty subset of 0..j-1
                count = mask.bit_count()
                if count > room:
                    continue
                srcs = [i for i in range(j) if mask >> i & 1]
                yield from extend(j + 1, edges + [(i, j) for i in srcs], has_out | mask)

        if n - 1 <= budget:
            yield from extend(1, [], 0)

    def _structures(self) -> Iterator[tuple[int, list[tuple[int, int]], list[list[int]]]]:
        """One (n, edges, automorphisms) per distinct unlabelled cell structure (input and output fixed),
        for n = 2..max_vertices; the automorphisms are vertex permutations as lists."""
        import igraph as ig

        for n in range(2, self.max_vertices + 1):
            colour = [0] + [1] * (n - 2) + [2]
            seen: set[str] = set()
            for edges in self._matrices(n):
                plain = DAG([Node("input"), *([Node(_BLANK)] * (n - 2)), _OUTPUT], edges, inputs=(0,), outputs=(n - 1,))
                key = plain.canonical_key()
                if key in seen:
                    continue
                seen.add(key)
                g = ig.Graph(n=n, edges=edges, directed=True)
                yield n, edges, [list(p) for p in g.get_automorphisms_vf2(color=colour)]

    def enumerate(self) -> Iterator[DAG]:
        """Every member once (one DAG per isomorphism class, as ``canonical_key()`` compares), lazily.

        Follows NAS-Bench-101's generation (``nasbench/scripts/generate_graphs.py``): for 2..max_vertices
        vertices, every upper-triangular matrix with at most ``max_edges`` edges in which every vertex
        lies on an input-output path (so the single edge input -> output, 2 vertices, is a member), and
        every labelling of its interior vertices with the 3 ops, duplicates up to isomorphism dropped.
        Here each distinct structure is taken once and, of the labellings its automorphisms map onto
        each other, only the lexicographically least is kept; so nothing is hashed per cell. Cells come
        by number of vertices, then structure, then labelling. The default limits (7, 9) give all
        423,624 cells in under 10 s.
        """
        self._validate_params()
        for n, edges, autos in self._structures():
            movers = [p for p in autos if any(p[v] != v for v in range(n))]
            for labels in itertools.product(range(len(NB101_OPS)), repeat=n - 2):
                full = (-1, *labels, -1)
                if any(_image(full, p) < full for p in movers):
                    continue
                nodes = [Node("input"), *(_NODES[i] for i in labels), _OUTPUT]
                yield DAG(nodes, edges, inputs=(0,), outputs=(n - 1,))

    def _try(self, matrix: list[list[int]], ops: Sequence[str]) -> DAG | None:
        """`from_spec` for the matrices `sample` and `mutate` make (0/1, upper-triangular, interior ops of the
        space), without the checks they cannot fail: the same cell, or None where `from_spec` raises GraphError.
        BO on this space makes hundreds of cells per ask, and most of a cell's cost was those checks
        (docs/benchmarks/search.md); tests/test_gen_spaces.py checks that both agree."""
        n = len(matrix)
        keep, kept = on_io_paths(n, [(i, j) for i in range(n) for j in range(i + 1, n) if matrix[i][j]])
        # nothing kept: the output is cut off from the input
        if n < 2 or not keep or len(keep) > self.max_vertices or len(kept) > self.max_edges:
            return None
        nodes = [_INPUT, *(_NODE_OF[ops[i - 1]] for i in keep[1:-1]), _OUTPUT]
        try:
            return DAG(nodes, kept, inputs=(0,), outputs=(len(nodes) - 1,))
        except GraphError:  # pragma: no cover - a pruned, upper-triangular cell is a valid DAG
            return None

    def sample(self, seed: Seed = None) -> DAG:
        """NAS-Bench-101's own sampler: each upper-triangle entry of a 7x7 matrix is 1 with probability 1/2,
        interior ops uniform; redraw until the pruned cell is valid (connected, at most 9 edges)."""
        self._validate_params()
        rng = as_random(seed)
        n = self.max_vertices
        while True:
            m = [[int(j > i and rng.random() < 0.5) for j in range(n)] for i in range(n)]
            dag = self._try(m, [rng.choice(NB101_OPS) for _ in range(n - 2)])
            if dag is not None:
                return dag

    def _moves(self, dag: DAG) -> tuple[list[list[int]], list[str], list[tuple]]:
        """``dag``'s matrix, interior ops and every local move, as small tuples (`_apply` makes the cell's spec
        of one: a mutation builds only the moves it tries, most often one)."""
        m, ops = to_adjacency(dag)
        n = len(ops)
        base = [[int(v) for v in row] for row in m]
        interior = [str(o) for o in ops[1:-1]]
        moves: list[tuple] = [("op", i, op) for i in range(1, n - 1) for op in NB101_OPS if op != interior[i - 1]]
        moves += [("edge", i, j) for i in range(n) for j in range(i + 1, n)]
        if n < self.max_vertices:  # add a vertex w with one edge in and one edge out, placed just before v
            moves += [("vertex", u, v, op) for u in range(n) for v in range(u + 1, n) for op in NB101_OPS]
        return base, interior, moves

    @staticmethod
    def _apply(base: list[list[int]], interior: list[str], move: tuple) -> tuple[list[list[int]], list[str]]:
        """The (matrix, interior ops) after one of `_moves`' moves: change an op, flip an edge, or add a vertex."""
        if move[0] == "op":  # the matrix is only read from here on: no copy
            _, i, op = move
            return base, interior[:i - 1] + [op] + interior[i:]
        if move[0] == "edge":
            _, i, j = move
            mm = [row[:] for row in base]
            mm[i][j] ^= 1
            return mm, interior
        _, u, v, op = move
        mm = [row[:v] + [0] + row[v:] for row in base]
        mm.insert(v, [0] * (len(base) + 1))
        mm[u][v] = 1
        mm[v][v + 1] = 1
        return mm, interior[:v - 1] + [op] + interior[v - 1:]

    def mutate(self, dag: DAG, seed: Seed = None) -> DAG:
        """One local change, uniformly among those that give a different valid cell (up to isomorphism):
        change an interior op, add or remove one edge, or add a vertex with one edge in and one out."""
        rng = as_random(seed)
        self.check(dag)
        key = dag.canonical_key()
        base, interior, moves = self._moves(dag)
        rng.shuffle(moves)
        for move in moves:
            child = self._try(*self._apply(base, interior, move))
            if child is not None and child.canonical_key() != key:
                return child
        raise GraphError("this cell has no valid mutation")  # pragma: no cover - every valid cell has one

    def neighbours(self, dag: DAG) -> list[DAG]:
        """Every valid cell one `mutate` step away, one DAG per isomorphism class, ``dag``'s class left out."""
        self.check(dag)
        seen = {dag.canonical_key()}
        out = []
        base, interior, moves = self._moves(dag)
        for move in moves:
            child = self._try(*self._apply(base, interior, move))
            if child is not None and child.canonical_key() not in seen:
                seen.add(child.canonical_key())
                out.append(child)
        return out

    # -- as a sequence of decisions (see graphnas.generators.decisions) ---------------------

    def _walk_prefix(self, prefix: Sequence[int]) -> tuple[int, int, int, int, set[int]]:
        """(n, next column j, next field (0 op, 1 inputs), edges used, vertices with no out-edge yet)."""
        n = prefix[0] + 2
        used, dangling = 0, set[int]()
        j, field = 1, 0
        for c in prefix[1:]:
            if field == 0 and j <= n - 2:
                field = 1
                continue
            mask = c + 1
            srcs = {i for i in range(j) if mask >> i & 1}
            used += len(srcs)
            dangling = (dangling - srcs) | {j}
            j, field = j + 1, 0
        if field == 0 and j == n - 1:
            field = 1
        return n, j, field, used, dangling

    def decisions(self, prefix: Sequence[int]) -> Decision | None:
        """First the number of vertices n (options 2..max_vertices), then for each vertex j = 1..n-1 in
        order: its op (interior vertices only, an index into ``NB101_OPS``) and its in-edges, a non-empty
        set of earlier vertices (choice ``m`` = the set with bit mask ``m + 1``; options allowed only if
        the edge limit can still be kept and every vertex can still reach the output). Every allowed
        sequence is a cell whose vertices all lie on an input-output path, so nothing is pruned."""
        self._validate_params()
        if not prefix:
            allowed = tuple(n - 1 <= self.max_edges for n in range(2, self.max_vertices + 1))
            return Decision("vertices", tuple(range(2, self.max_vertices + 1)), allowed=allowed,
                            rule=f"n vertices need at least n - 1 edges; the limit is {self.max_edges}")
        n, j, field, used, dangling = self._walk_prefix(prefix)
        if j >= n:
            return None
        if field == 0:
            return Decision(f"vertex {j} op", NB101_OPS, key="op")
        options = tuple(tuple(i for i in range(j) if m >> i & 1) for m in range(1, 1 << j))
        ok: list[bool] = []
        for srcs in options:
            left = (dangling - set(srcs)) | ({j} if j < n - 1 else set())
            total = used + len(srcs)
            ok.append(not left and total <= self.max_edges if j == n - 1
                           else total + len(left) + (n - 2 - j) <= self.max_edges)
        name = "output inputs" if j == n - 1 else f"vertex {j} inputs"
        return Decision(name, options, key=f"inputs {j}", allowed=tuple(ok),
                        rule=f"at most {self.max_edges} edges in all, and every vertex must feed a later one "
                             "(lie on a path to the output)")

    def encode(self, dag: DAG) -> list[int]:
        """The choices of a cell, its vertices in the DAG's order (GraphError if ``dag`` is not a member)."""
        self.check(dag)
        n = len(dag)
        out = [n - 2]
        for j in range(1, n):
            if j < n - 1:
                out.append(NB101_OPS.index(dag.nodes[j].op))  # type: ignore[arg-type]
            preds = dag.predecessors(j)
            if not preds:
                raise GraphError(f"node {j} has no input; every NAS-Bench-101 vertex lies on an input-output path")
            out.append(sum(1 << i for i in preds) - 1)
        return out

    def decode(self, choices: Sequence[int]) -> DAG:
        """The cell of the choices; GraphError naming the decision (e.g. the in-edges that break the limit)."""
        def build(c: list[int]) -> DAG:
            n = c[0] + 2
            ops: list[str] = []
            edges: list[tuple[int, int]] = []
            k = 1
            for j in range(1, n):
                if j < n - 1:
                    ops.append(NB101_OPS[c[k]])
                    k += 1
                mask = c[k] + 1
                k += 1
                edges += [(i, j) for i in range(j) if mask >> i & 1]
            nodes = [Node("input"), *(Node(op) for op in ops), _OUTPUT]
            dag = DAG(nodes, sorted(edges, key=lambda e: (e[1], e[0])), inputs=(0,), outputs=(n - 1,))
            self.check(dag)
            return dag
        return decode_checked(self, choices, build)
