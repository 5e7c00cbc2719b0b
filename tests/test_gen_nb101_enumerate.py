"""NB101Space.enumerate() and size(): every cell once, as NAS-Bench-101 generates and counts them."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest

from graphnas.dag import DAG, GraphError
from graphnas.generators import NB101Space
from graphnas.generators.nb101 import NB101_OPS

SMALL = [(2, 1), (3, 2), (3, 9), (4, 3), (4, 9), (5, 5), (5, 9)]


def keys(space: NB101Space) -> list[str]:
    return [dag.canonical_key() for dag in space.enumerate()]


@pytest.mark.parametrize("limits", SMALL, ids=lambda x: f"v{x[0]}e{x[1]}")
def test_enumerate_yields_distinct_members_and_size_counts_them(limits):
    space = NB101Space(max_vertices=limits[0], max_edges=limits[1])
    cells = list(space.enumerate())
    assert all(isinstance(c, DAG) and space.contains(c) for c in cells)
    ks = [c.canonical_key() for c in cells]
    assert len(set(ks)) == len(ks)
    assert space.size() == len(cells)


def test_known_counts():
    # 1 cell of 2 vertices (input -> output); 3 vertices: input -> op -> output, with or without the
    # input -> output edge, 3 ops each: 7 in all. 91 and 2,532 are also checked below against networkx
    # isomorphism classes and NAS-Bench-101's own matrix-and-prune rule.
    assert [NB101Space(max_vertices=v).size() for v in (2, 3, 4, 5)] == [1, 7, 91, 2532]
    assert NB101Space(max_vertices=6).size() == 64_542
    only = list(NB101Space(max_vertices=2).enumerate())
    assert len(only) == 1 and only[0].edges == ((0, 1),)  # the direct edge alone is a member
    assert NB101Space(max_vertices=7, max_edges=1).size() == 1  # one edge: only input -> output
    assert NB101Space(max_vertices=3, max_edges=2).size() == 1 + 3  # plus input -> op -> output


def test_default_size_is_the_published_count_and_the_count_agrees():
    space = NB101Space()
    assert space.size() == 423_624  # counted (structures enumerated, labellings by Burnside): the published figure


def nasbench_members(max_vertices: int, max_edges: int) -> set[str]:
    """NAS-Bench-101's rule, independently: every upper-triangular bit matrix of 2..max_vertices vertices,
    every labelling, pruned by from_spec; what stays valid (at most max_edges edges after pruning is what
    from_spec checks) is a member. Pruned-away matrices must land on members too."""
    space = NB101Space(max_vertices=max_vertices, max_edges=max_edges)
    out = set()
    for n in range(2, max_vertices + 1):
        slots = [(i, j) for j in range(n) for i in range(j)]
        for bits in range(1 << len(slots)):
            m = [[0] * n for _ in range(n)]
            for k, (i, j) in enumerate(slots):
                m[i][j] = bits >> k & 1
            for labels in itertools.product(NB101_OPS, repeat=n - 2):
                try:
                    out.add(space.from_spec(m, ["input", *labels, "output"]).canonical_key())
                except GraphError:
                    pass
    return out


@pytest.mark.parametrize("limits", [(4, 9), (4, 3), (5, 9), (5, 4)], ids=lambda x: f"v{x[0]}e{x[1]}")
def test_every_pruned_matrix_is_enumerated(limits):
    space = NB101Space(max_vertices=limits[0], max_edges=limits[1])
    assert nasbench_members(*limits) == set(keys(space))


def brute_force_count(max_vertices: int, max_edges: int) -> int:
    """Isomorphism classes (networkx, ops compared) of all labelled directed graphs on 2..max_vertices
    vertices, in any vertex order: acyclic, vertex 0 the only source, the last vertex the only sink,
    every vertex on a path from 0 to the last, at most max_edges edges."""
    classes: dict[str, list[nx.DiGraph]] = {}
    match = nx.algorithms.isomorphism.categorical_node_match("op", None)
    count = 0
    for n in range(2, max_vertices + 1):
        arcs = [(u, v) for u in range(n - 1) for v in range(1, n) if u != v]
        for r in range(1, min(max_edges, len(arcs)) + 1):
            for chosen in itertools.combinations(arcs, r):
                g = nx.DiGraph(chosen)
                g.add_nodes_from(range(n))
                if not nx.is_directed_acyclic_graph(g):
                    continue
                if any(g.in_degree(v) == 0 for v in range(1, n)) or any(g.out_degree(v) == 0 for v in range(n - 1)):
                    continue
                for labels in itertools.product(NB101_OPS, repeat=n - 2):
                    nx.set_node_attributes(g, dict(enumerate(["in", *labels, "out"])), "op")
                    h = repr(sorted((g.nodes[v]["op"], g.in_degree(v), g.out_degree(v)) for v in g))
                    bucket = classes.setdefault(h, [])
                    if not any(nx.is_isomorphic(g, other, node_match=match) for other in bucket):
                        bucket.append(g.copy())
                        count += 1
    return count


@pytest.mark.parametrize("limits", [(3, 9), (4, 9), (4, 4), (5, 4), (5, 9)], ids=lambda x: f"v{x[0]}e{x[1]}")
def test_networkx_brute_force_agrees(limits):
    space = NB101Space(max_vertices=limits[0], max_edges=limits[1])
    assert brute_force_count(*limits) == space.size() == len(keys(space))


def test_neighbours_and_mutations_are_members():
    space = NB101Space(max_vertices=4, max_edges=4)
    members = set(keys(space))
    rng = random.Random(0)
    for cell in space.enumerate():
        assert all(n.canonical_key() in members for n in space.neighbours(cell))
        assert space.mutate(cell, rng).canonical_key() in members
    sample_keys = {space.sample(s).canonical_key() for s in range(30)}
    assert sample_keys <= members


@pytest.mark.parametrize("limits", [{"max_vertices": 1}, {"max_edges": 0}, {"max_vertices": 7.0}])
def test_empty_or_malformed_limits_are_refused_not_sampled_forever(limits):
    space = NB101Space(**limits)
    for call in (lambda: space.sample(0), space.size, lambda: next(space.enumerate())):
        with pytest.raises(ValueError, match="max_vertices|max_edges"):
            call()
