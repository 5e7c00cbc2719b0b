"""RandWire graphs as a search space: sample from a random-graph generator, then search by rewiring.

A member is the DAG of `graphnas.generators.random_graphs.randwire_dag` on
``n`` internal nodes (DAG nodes ``1..n``; graph node ``i`` is DAG node ``i + 1``):

- node 0 is ``input`` and feeds exactly the internal nodes of in-degree 0;
- nodes ``1..n`` are ``randwire_node`` with combine ``weighted_sum``;
- node ``n + 1`` is ``identity`` with combine ``mean`` and reads exactly the
  internal nodes of out-degree 0;
- every internal edge goes from a lower to a higher index.

`RandWireSpace.sample` draws from a RandWire generator (``ws``, ``er``,
``ba``, or any registered generator function that makes such a DAG) with ``n``
fixed. `RandWireSpace.mutate` makes one local change to the internal
edges (move an edge's head or tail, add or remove an edge) and rewires the
input and output to match, so mutants stay members; they need not be graphs
the generator could draw (a WS graph loses its exact ``n·k/2`` edges after an
add), which is why membership is defined by the invariants above and not by
the generator.

**Example**

```python
>>> from graphnas.generators import RandWireSpace
>>> space = RandWireSpace(generator="ws", n=8, params={"k": 4, "p": 0.75})
>>> dag = space.sample(0)
>>> len(dag), space.contains(space.mutate(dag, 1))
(10, True)

```
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from graphnas._checks import is_integer
from graphnas.dag import DAG, GraphError
from graphnas.generators._random import Seed, as_random
from graphnas.generators.base import SearchSpace
from graphnas.generators.random_graphs import _INNER, _INPUT, _OUTPUT, RANDWIRE_OP, randwire_dag
from graphnas.generators.registry import register_generator

__all__ = ["RANDWIRE_DEFAULTS", "RandWireSpace"]

#: Each built-in generator's parameters when ``params`` is not given: the paper's best settings
#: (WS(4, 0.75), ER(0.2), BA(5); Xie et al. 2019, Table 2), which ``params`` overrides key by key.
RANDWIRE_DEFAULTS: dict[str, dict[str, Any]] = {
    "ws": {"k": 4, "p": 0.75},
    "er": {"p": 0.2},
    "ba": {"m": 5},
}

Edge = tuple[int, int]


@register_generator("randwire")
class RandWireSpace(SearchSpace):
    """RandWire DAGs of ``n`` internal nodes: sampled from ``generator``, mutated by rewiring one edge.

    Args:
        generator: a registered generator function taking ``n``, its ``params``
            and ``seed`` and returning a RandWire DAG: ``"ws"`` (default), ``"er"``, ``"ba"``.
        n: internal nodes. The default 12 keeps a digits evaluation (two stages of
            one RandWire graph each, see `graphnas.benchmarks.digits.digits_network`)
            near 1.5 s for 3 epochs on one CPU core; the paper's small regime uses 32.
        params: the generator's other parameters (``{"k": 4, "p": 0.75}`` for WS);
            missing keys of a built-in generator take `RANDWIRE_DEFAULTS`.

    ``size()`` is the number of labelled members, ``2 ** (n (n - 1) / 2)`` (one
    per set of internal edges; isomorphic graphs count separately, as search
    skips them by ``canonical_key``). ``sample`` only reaches what the generator
    draws; ``mutate`` and ``neighbours`` reach the rest.
    """

    name = "randwire"
    vocabulary = (RANDWIRE_OP,)

    def __init__(self, *, generator: str = "ws", n: int = 12, params: Mapping[str, Any] | None = None) -> None:
        self.generator = generator
        self.n = n
        self.params = params
        self._validate()
        self.n = int(n)  # a numpy integer too
        self._generator()  # an unknown generator or parameter is refused now, not at the first sample

    def __repr__(self) -> str:
        return f"RandWireSpace(generator={self.generator!r}, n={self.n}, params={self.generator_params()!r})"

    # -- settings -----------------------------------------------------------------

    def generator_params(self) -> dict[str, Any]:
        """The parameters passed to the generator besides ``n`` and ``seed`` (defaults filled in)."""
        params = dict(RANDWIRE_DEFAULTS.get(self.generator, {}))
        params.update(self.params or {})
        return params

    def _validate(self) -> None:
        if not is_integer(self.n, 2):
            raise ValueError(f"RandWireSpace needs n >= 2 internal nodes, got n={self.n!r}")
        if self.params is not None and not isinstance(self.params, Mapping):
            raise ValueError(f"params must be a mapping of the generator's parameters, got {self.params!r}")
        if "n" in (self.params or {}) or "seed" in (self.params or {}):
            raise ValueError("params must not hold 'n' or 'seed': give n to RandWireSpace and seed to sample()")

    def _generator(self) -> Any:
        from graphnas.generators import registry

        known = registry.list_generators()
        if not isinstance(self.generator, str) or self.generator not in registry.GENERATORS \
                or registry.is_space(self.generator):
            functions = [g for g in known if not registry.is_space(g)]
            raise ValueError(f"RandWireSpace generator must be a registered generator function such as ws, er "
                             f"or ba, got {self.generator!r}; known: {', '.join(functions)}")
        return registry.get_generator(self.generator, n=self.n, **self.generator_params())

    # -- edges <-> DAG ------------------------------------------------------------

    def from_edges(self, edges: Iterable[Edge]) -> DAG:
        """The member whose internal edges are ``edges``, pairs of graph nodes in ``0..n-1`` (oriented low to high)."""
        self._validate()
        try:
            return randwire_dag(self.n, sorted({(min(u, v), max(u, v)) for u, v in edges}))
        except ValueError as err:
            raise GraphError(f"RandWire edges for n={self.n}: {err}") from None

    def to_edges(self, dag: DAG) -> list[Edge]:
        """The internal edges of a member as graph-node pairs ``(u, v)``, ``u < v``, sorted.

        Raises:
            GraphError: ``dag`` breaks one of the invariants (the message names the node or edge).
        """
        self._validate()
        n = self.n
        if not isinstance(dag, DAG):
            raise GraphError(f"expected a DAG, got {type(dag).__name__}")
        if len(dag) != n + 2:
            raise GraphError(f"not a RandWire graph of this space: {len(dag)} nodes, expected n + 2 = {n + 2} "
                             "(input, n internal nodes, output)")
        if dag.inputs != (0,) or dag.outputs != (n + 1,):
            raise GraphError(f"not a RandWire graph: inputs {list(dag.inputs)} and outputs {list(dag.outputs)}, "
                             f"expected [0] and [{n + 1}]")
        if dag.nodes[0] != _INPUT:
            raise GraphError(f"node 0 must be Node('input'), got {dag.nodes[0]!r}")
        if dag.nodes[n + 1] != _OUTPUT:
            raise GraphError(f"node {n + 1} (the output) must be Node('identity', combine='mean'), "
                             f"got {dag.nodes[n + 1]!r}")
        for i in range(1, n + 1):
            if dag.nodes[i] != _INNER:
                raise GraphError(f"node {i} must be Node({RANDWIRE_OP!r}, combine='weighted_sum'), "
                                 f"got {dag.nodes[i]!r}")
        internal = sorted((s - 1, d - 1) for s, d in dag.edges if 1 <= s and d <= n)
        if (0, n + 1) in dag.edges:
            raise GraphError(f"edge (0, {n + 1}): the input must not feed the output directly")
        for i in range(1, n + 1):
            fed = i in dag.successors(0)
            if fed != (dag.predecessors(i) == (0,)):
                raise GraphError(f"node {i}: the input must feed exactly the internal nodes that have no other "
                                 f"predecessor; node {i} has predecessors {list(dag.predecessors(i))}")
            read = (n + 1) in dag.successors(i)
            if read != (dag.successors(i) == (n + 1,)):
                raise GraphError(f"node {i}: the output must read exactly the internal nodes that have no other "
                                 f"successor; node {i} has successors {list(dag.successors(i))}")
        return internal

    # -- the space ----------------------------------------------------------------

    def check(self, dag: DAG) -> None:
        self.to_edges(dag)

    def size(self) -> int:
        """``2 ** (n (n - 1) / 2)``: one member per set of internal edges (labelled, not up to isomorphism)."""
        self._validate()
        return 2 ** (self.n * (self.n - 1) // 2)

    def sample(self, seed: Seed = None) -> DAG:
        """One graph drawn by the generator with ``n`` and ``params`` (same seed, same graph)."""
        self._validate()
        dag = self._generator().sample(seed)
        if not self.contains(dag):
            raise GraphError(f"generator {self.generator!r} did not make a RandWire DAG of n={self.n} internal "
                             "nodes (input, randwire_node/weighted_sum nodes, identity/mean output)")
        return dag

    def _moves(self, edges: list[Edge]) -> dict[str, list[tuple[Edge | None, Edge | None]]]:
        """Every local change as (edge removed, edge added), grouped by kind."""
        n = self.n
        have = set(edges)
        missing = [(u, v) for u, v in itertools.combinations(range(n), 2) if (u, v) not in have]
        return {
            "remove": [(e, None) for e in edges],
            "add": [(None, e) for e in missing],
            "move_head": [((u, v), (u, w)) for u, v in edges for w in range(u + 1, n)
                          if w != v and (u, w) not in have],
            "move_tail": [((u, v), (t, v)) for u, v in edges for t in range(v)
                          if t != u and (t, v) not in have],
        }

    @staticmethod
    def _apply(edges: list[Edge], move: tuple[Edge | None, Edge | None]) -> list[Edge]:
        drop, add = move
        out = [e for e in edges if e != drop]
        return out + [add] if add is not None else out

    def mutate(self, dag: DAG, seed: Seed = None) -> DAG:
        """One rewiring of the internal edges, then the input/output wiring recomputed.

        The kind of change is drawn uniformly among those possible (move one
        edge's head, move one edge's tail, add one edge, remove one edge), then the
        change uniformly within its kind; the result always differs from ``dag``.
        """
        rng = as_random(seed)
        edges = self.to_edges(dag)
        return self.from_edges(self._apply(edges, self._draw_move(edges, rng)))

    def _draw_move(self, edges: list[Edge], rng: random.Random) -> tuple[Edge | None, Edge | None]:
        """The move ``rng.choice`` would pick from `_moves` (the same draws, the same move), found by counting
        instead of listing every move: O(edges + n) and one row of pairs, not O(n * edges) tuples (at n=1000
        the list took seconds per mutation)."""
        n = self.n
        have = set(edges)
        succ: dict[int, set[int]] = {}
        pred: dict[int, set[int]] = {}
        for u, v in edges:
            succ.setdefault(u, set()).add(v)
            pred.setdefault(v, set()).add(u)
        heads = [(n - u - 1) - len(succ[u]) for u, _ in edges]  # per edge: the free w > u, w != v
        tails = [v - len(pred[v]) for _, v in edges]              # per edge: the free t < v, t != u
        counts = {"remove": len(edges), "add": n * (n - 1) // 2 - len(edges),
                  "move_head": sum(heads), "move_tail": sum(tails)}
        kind = rng.choice(sorted(k for k, c in counts.items() if c))
        i = rng.randrange(counts[kind])  # what rng.choice does with a list of that length

        if kind == "remove":
            return edges[i], None
        if kind == "add":
            for u in range(n):
                free = [w for w in range(u + 1, n) if (u, w) not in have]
                if i < len(free):
                    return None, (u, free[i])
                i -= len(free)
        per = heads if kind == "move_head" else tails
        for j, c in enumerate(per):
            if i < c:
                u, v = edges[j]
                if kind == "move_head":
                    w = [w for w in range(u + 1, n) if w != v and (u, w) not in have][i]
                    return (u, v), (u, w)
                t = [t for t in range(v) if t != u and (t, v) not in have][i]
                return (u, v), (t, v)
            i -= c
        raise AssertionError(f"no {kind} move at the drawn index")  # pragma: no cover - the counts say there is

    def neighbours(self, dag: DAG) -> list[DAG]:
        """Every member one `mutate` step away, without duplicates (``dag`` excluded)."""
        edges = self.to_edges(dag)
        seen: dict[tuple[Edge, ...], None] = {}
        for moves in self._moves(edges).values():
            for move in moves:
                seen.setdefault(tuple(sorted(self._apply(edges, move))), None)
        return [self.from_edges(e) for e in seen]

    def enumerate(self) -> Iterator[DAG]:
        """Every member, lazily, by internal edge set (only sensible for small ``n``: ``size()`` grows as 2^(n²/2))."""
        self._validate()
        pairs = list(itertools.combinations(range(self.n), 2))
        for keep in itertools.product((False, True), repeat=len(pairs)):
            yield self.from_edges(p for p, k in zip(pairs, keep) if k)
