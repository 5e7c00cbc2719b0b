"""RandWire ER/BA/WS: the paper's rules, exact edge counts, statistics against theory, seeds."""

import random

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphnas import DAG, Node, to_networkx
from graphnas.generators import barabasi_albert, erdos_renyi, get_generator, randwire_dag, watts_strogatz


def internal(dag: DAG) -> nx.Graph:
    """The undirected random graph inside a RandWire DAG (nodes 1..n)."""
    n = len(dag) - 2
    g = nx.Graph()
    g.add_nodes_from(range(1, n + 1))
    g.add_edges_from((s, d) for s, d in dag.edges if s != 0 and d != n + 1)
    return g


def check_rules(dag: DAG, n: int) -> nx.Graph:
    assert len(dag) == n + 2
    assert dag.inputs == (0,) and dag.outputs == (n + 1,)
    assert dag.nodes[0] == Node("input")
    assert dag.nodes[n + 1] == Node("identity", combine="mean")
    assert all(node == Node("randwire_node", combine="weighted_sum") for node in dag.nodes[1:n + 1])
    assert all(s < d for s, d in dag.edges)
    g = internal(dag)
    # the input feeds exactly the nodes without internal predecessors, the output takes exactly the sinks
    no_pred = [i for i in range(1, n + 1) if not any(p != 0 for p in dag.predecessors(i))]
    no_succ = [i for i in range(1, n + 1) if not any(s != n + 1 for s in dag.successors(i))]
    assert list(dag.successors(0)) == no_pred
    assert list(dag.predecessors(n + 1)) == no_succ
    assert dag.num_edges == g.number_of_edges() + len(no_pred) + len(no_succ)
    return g


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.floats(0, 1), st.integers(0, 2**32))
def test_er_rules(n, p, seed):
    check_rules(erdos_renyi(n, p, seed=seed), n)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.data(), st.integers(0, 2**32))
def test_ba_rules_and_order(n, data, seed):
    m = data.draw(st.integers(1, n - 1))
    dag = barabasi_albert(n, m, seed=seed)
    g = check_rules(dag, n)
    assert g.number_of_edges() == m * (n - m)
    # paper order: the m initial nodes come first and take no earlier node; every later node joins m earlier ones
    for i in range(1, n + 1):
        earlier = [p for p in dag.predecessors(i) if p != 0]
        assert len(earlier) == (0 if i <= m else m)
    assert [p for p in dag.predecessors(m + 1)] == list(range(1, m + 1))


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 60), st.data(), st.floats(0, 1), st.integers(0, 2**32))
def test_ws_rules(n, data, p, seed):
    k = 2 * data.draw(st.integers(1, (n - 1) // 2))
    g = check_rules(watts_strogatz(n, k, p, seed=seed), n)
    assert g.number_of_edges() == n * k // 2
    assert min(d for _, d in g.degree()) >= k // 2  # each node keeps its own k/2 clockwise edges' endpoint


def test_ws_without_rewiring_is_the_clockwise_ring():
    n, k = 12, 4
    g = internal(watts_strogatz(n, k, 0.0, seed=0))
    ring = {frozenset((i + 1, (i + j) % n + 1)) for i in range(n) for j in (1, 2)}
    assert {frozenset(e) for e in g.edges} == ring


def test_randwire_dag_orients_low_to_high():
    dag = randwire_dag(4, [(2, 0), (1, 3)])
    assert dag.edges == ((0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 5))
    with pytest.raises(ValueError, match=r"edge \(0, 1\) appears twice"):  # in the caller's numbering
        randwire_dag(3, [(0, 1), (1, 0)])


def test_er_edge_count_and_clustering_match_theory():
    n, p = 300, 0.1
    graphs = [internal(erdos_renyi(n, p, seed=s)) for s in range(3)]
    pairs = n * (n - 1) / 2
    for g in graphs:  # Binomial(pairs, p): within 5 standard deviations
        assert abs(g.number_of_edges() - p * pairs) < 5 * np.sqrt(pairs * p * (1 - p))
    assert abs(np.mean([nx.transitivity(g) for g in graphs]) - p) < 0.01
    degs = np.concatenate([[d for _, d in g.degree()] for g in graphs])
    assert abs(degs.mean() - p * (n - 1)) < 0.5
    assert abs(degs.var() - (n - 1) * p * (1 - p)) < 0.2 * (n - 1) * p * (1 - p)


def test_er_uses_a_random_order():
    # in G(n, p) with the identity order the first node would be a source exactly when it has any edge;
    # with a random order the in-degree-0 nodes are spread over all positions
    dag = erdos_renyi(200, 0.02, seed=1)
    sources = [i for i in dag.successors(0)]
    assert max(sources) > 100


def test_ba_degree_tail_matches_theory():
    m = 3
    degs = np.concatenate([[d for _, d in internal(barabasi_albert(2000, m, seed=s)).degree()] for s in range(3)])
    for k in (6, 12, 24):  # P(K >= k) = m(m+1) / (k(k+1)) for the BA model
        theory = m * (m + 1) / (k * (k + 1))
        assert abs((degs >= k).mean() - theory) < 0.2 * theory
    assert abs(degs.mean() - 2 * m * (2000 - m) / 2000) < 1e-9


def test_ws_clustering_matches_theory():
    n, k = 1000, 6
    c0 = 3 * (k - 2) / (4 * (k - 1))
    assert nx.average_clustering(internal(watts_strogatz(n, k, 0.0, seed=0))) == pytest.approx(c0)
    # Barrat & Weigt: transitivity C(p) ~ C(0) (1 - p)^3
    c = np.mean([nx.transitivity(internal(watts_strogatz(n, k, 0.2, seed=s))) for s in range(3)])
    assert c == pytest.approx(c0 * 0.8**3, abs=0.03)


@pytest.mark.parametrize("make", [
    lambda s: erdos_renyi(64, 0.2, seed=s), lambda s: barabasi_albert(64, 4, seed=s),
    lambda s: watts_strogatz(64, 4, 0.75, seed=s)])
def test_seed_kinds_reproduce(make):
    for seed in (lambda: 11, lambda: random.Random(11), lambda: np.random.default_rng(11)):
        assert make(seed()) == make(seed())
    assert make(11) != make(12)
    rng = random.Random(0)
    assert make(rng) != make(rng)  # a shared Random advances


@pytest.mark.parametrize("name,params", [("er", {"n": 1000, "p": 0.01}), ("ba", {"n": 1000, "m": 5}),
                                         ("ws", {"n": 1000, "k": 4, "p": 0.75})])
def test_thousand_nodes(name, params):
    dag = get_generator(name, **params).sample(seed=3)
    assert len(dag) == 1002
    assert nx.is_directed_acyclic_graph(to_networkx(dag))
    assert DAG.from_json(dag.to_json()) == dag


@pytest.mark.parametrize("call", [
    lambda: erdos_renyi(0, 0.5), lambda: erdos_renyi(5, 1.5), lambda: barabasi_albert(5, 5),
    lambda: barabasi_albert(5, 0), lambda: watts_strogatz(10, 3, 0.5), lambda: watts_strogatz(4, 4, 0.5),
    lambda: watts_strogatz(10, 4, -0.1), lambda: erdos_renyi(5, 0.5, seed="x")])
def test_bad_parameters(call):
    with pytest.raises((ValueError, TypeError)):
        call()
