"""Random graphs as in RandWireNN (Xie et al. 2019, "Exploring Randomly Wired Neural Networks").

Each generator draws an undirected graph, numbers its nodes as the paper does
and orients every edge from the lower to the higher index, which makes a DAG:

- ER: G(n, p), each pair joined independently with probability p; indices in a random order.
- BA: M initial nodes first (indices 0..M-1), then every node in the order it was added.
- WS: indices clockwise around the ring.

Then one ``input`` node feeds every node of in-degree 0 and one output node
(``identity``, combine ``mean``) is fed by every node of out-degree 0, as in
the paper. Internal nodes carry RandWire's node op ``randwire_node``
(ReLU, 3x3 separable conv, BN) with combine ``weighted_sum`` (a sigmoid-weighted
sum of the inputs). Node ``i + 1`` of the DAG is node ``i`` of the undirected graph.

Backends, and why:

- ER uses numpy: one vectorised Bernoulli draw over the n(n-1)/2 pairs is
  exactly G(n, p); at n=1,000, p=0.2 it takes about 30 ms against about 180 ms
  for networkx's pure-Python ``gnp_random_graph``; igraph's ``Erdos_Renyi`` is fast too but
  draws from a process-wide random generator, which a ``seed=`` argument can't own.
- BA uses networkx's ``barabasi_albert_graph``: its default start (a star on
  M+1 nodes) is what the paper's process gives after the first added node
  (M nodes without edges, whose degrees are all 0, so that node joins all of
  them), and it adds exactly M edges per node, M(N-M) in all. igraph's
  ``Barabasi`` starts from one node and yields fewer edges.
- WS uses networkx's ``watts_strogatz_graph``: the ring lattice with K/2
  neighbours per side and the clockwise rewiring loop of Watts & Strogatz
  (each edge (v, v+i) rewired with probability P to a uniform node that is not v
  and not a duplicate). igraph's ``Watts_Strogatz`` rewires edge endpoints
  in a different procedure.
"""

from __future__ import annotations

from collections.abc import Iterable

from graphnas._checks import is_integer
from graphnas.dag import DAG, Node
from graphnas.generators._random import Seed, as_numpy, as_random
from graphnas.generators.registry import register_generator

__all__ = ["RANDWIRE_OP", "barabasi_albert", "erdos_renyi", "randwire_dag", "watts_strogatz"]

#: The op of RandWire's internal node: ReLU, 3x3 separable conv, BN.
RANDWIRE_OP = "randwire_node"

_INPUT = Node("input")
_INNER = Node(RANDWIRE_OP, combine="weighted_sum")
_OUTPUT = Node("identity", combine="mean")


def randwire_dag(n: int, edges: Iterable[tuple[int, int]]) -> DAG:
    """The RandWire DAG of an undirected graph on nodes ``0..n-1`` numbered in the wanted order.

    Each edge is oriented from its lower to its higher index; an ``input`` node
    (index 0) feeds every node of in-degree 0 and an ``identity``/``mean`` node
    (index n+1) takes every node of out-degree 0. Graph node ``i`` becomes DAG node ``i + 1``.
    """
    if not is_integer(n, 1):
        raise ValueError(f"n must be a positive int, got {n!r}")
    n = int(n)
    has_in = [False] * n
    has_out = [False] * n
    out: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    for u, v in edges:
        if u > v:
            u, v = v, u
        if u == v or u < 0 or v >= n:
            raise ValueError(f"edge ({u}, {v}) is a self-loop or names a node outside 0..{n - 1}")
        if (u, v) in seen:
            raise ValueError(f"edge ({u}, {v}) appears twice (an undirected graph has each edge once)")
        seen.add((u, v))
        has_out[u] = True
        has_in[v] = True
        out.append((u + 1, v + 1))
    out += [(0, i + 1) for i in range(n) if not has_in[i]]
    out += [(i + 1, n + 1) for i in range(n) if not has_out[i]]
    return DAG([_INPUT] + [_INNER] * n + [_OUTPUT], out, inputs=(0,), outputs=(n + 1,))


@register_generator("er")
def erdos_renyi(n: int, p: float, seed: Seed = None) -> DAG:
    """RandWire ER graph: G(n, p) with node indices in a random order, as a DAG of n+2 nodes.

    About p·n(n-1)/2 internal edges. Example: ``erdos_renyi(32, 0.2, seed=0)``.
    """
    import numpy as np

    if not is_integer(n, 1):
        raise ValueError(f"ER needs n >= 1 nodes, got {n!r}")
    n = int(n)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"ER needs a probability 0 <= p <= 1, got {p!r}")
    rng = as_numpy(seed)
    u, v = np.triu_indices(n, 1)
    keep = rng.random(u.shape[0]) < p
    order = rng.permutation(n)  # order[i] = the paper's index of node i
    return randwire_dag(n, zip(order[u[keep]].tolist(), order[v[keep]].tolist()))  # it orients each edge


@register_generator("ba")
def barabasi_albert(n: int, m: int, seed: Seed = None) -> DAG:
    """RandWire BA graph: preferential attachment with m edges per added node, m·(n-m) edges in all.

    Indices: the m initial nodes first, then each node in the order it was added.
    Example: ``barabasi_albert(32, 5, seed=0)``.
    """
    import networkx as nx

    if not is_integer(n) or not is_integer(m) or not 1 <= m < n:
        raise ValueError(f"BA needs integers 1 <= m < n, got n={n!r}, m={m!r}")
    n, m = int(n), int(m)
    g = nx.barabasi_albert_graph(n, m, seed=as_random(seed))
    # networkx starts from star_graph(m): centre 0 (the first added node), leaves 1..m (the initial nodes)
    def index(label: int) -> int:
        return label - 1 if 1 <= label <= m else (m if label == 0 else label)

    return randwire_dag(n, ((index(a), index(b)) for a, b in g.edges()))


@register_generator("ws")
def watts_strogatz(n: int, k: int, p: float, seed: Seed = None) -> DAG:
    """RandWire WS graph: ring lattice of k/2 neighbours per side, clockwise rewiring with probability p.

    Exactly n·k/2 edges; indices clockwise around the ring. Example: ``watts_strogatz(32, 4, 0.75, seed=0)``.
    """
    import networkx as nx

    if not is_integer(n) or not is_integer(k):
        raise ValueError(f"WS needs integers n and k, got n={n!r}, k={k!r}")
    n, k = int(n), int(k)
    if k < 2 or k % 2 or k >= n:
        raise ValueError(f"WS needs an even k with 2 <= k < n, got n={n!r}, k={k!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"WS needs a probability 0 <= p <= 1, got {p!r}")
    g = nx.watts_strogatz_graph(n, k, p, seed=as_random(seed))
    return randwire_dag(n, g.edges())
