"""RandWireSpace: samples and mutations keep the RandWire invariants, seeds, neighbours, membership, errors."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphnas import DAG, GraphError, Node
from graphnas.generators import NB201Space, RandWireSpace, get_generator, list_generators, watts_strogatz


def check_invariants(dag: DAG, n: int) -> set[tuple[int, int]]:
    """Assert the RandWire invariants independently of RandWireSpace; return the internal edges (DAG indices)."""
    assert len(dag) == n + 2 and dag.inputs == (0,) and dag.outputs == (n + 1,)
    assert dag.nodes[0] == Node("input")
    assert dag.nodes[n + 1] == Node("identity", combine="mean")
    assert all(dag.nodes[i] == Node("randwire_node", combine="weighted_sum") for i in range(1, n + 1))
    assert all(s < d for s, d in dag.edges)
    internal = {(s, d) for s, d in dag.edges if 1 <= s and d <= n}
    has_pred = {d for _, d in internal}
    has_succ = {s for s, _ in internal}
    assert set(dag.successors(0)) == {i for i in range(1, n + 1) if i not in has_pred}
    assert set(dag.predecessors(n + 1)) == {i for i in range(1, n + 1) if i not in has_succ}
    assert dag.num_edges == len(internal) + len(dag.successors(0)) + len(dag.predecessors(n + 1))
    return internal


def space_for(generator: str, n: int) -> RandWireSpace:
    params = {"ws": {"k": 2 if n <= 4 else 4, "p": 0.5}, "er": {"p": 0.3}, "ba": {"m": min(3, n - 1)}}[generator]
    return RandWireSpace(generator=generator, n=n, params=params)


spaces = st.builds(space_for, st.sampled_from(["ws", "er", "ba"]), st.integers(3, 14))
seeds = st.integers(0, 2**31 - 1)


@settings(max_examples=120, deadline=None)
@given(space=spaces, seed=seeds, mutation_seeds=st.lists(seeds, min_size=1, max_size=4))
def test_samples_and_mutations_keep_the_invariants(space, seed, mutation_seeds):
    dag = space.sample(seed)
    edges = check_invariants(dag, space.n)
    assert space.contains(dag) and dag in space
    for s in mutation_seeds:
        child = space.mutate(dag, s)
        child_edges = check_invariants(child, space.n)
        assert child != dag and space.contains(child)
        removed, added = edges - child_edges, child_edges - edges
        # one local change: add one edge, remove one, or move one edge's head or tail
        assert (len(removed), len(added)) in ((0, 1), (1, 0), (1, 1))
        if removed and added:
            (u, v), (a, b) = removed.pop(), added.pop()
            assert u == a or v == b
        dag, edges = child, child_edges


@settings(max_examples=100, deadline=None)
@given(space=spaces, seed=seeds)
def test_same_seed_same_result(space, seed):
    assert space.sample(seed) == space.sample(seed)
    assert space.sample(random.Random(seed)) == space.sample(random.Random(seed))
    dag = space.sample(seed)
    assert space.mutate(dag, seed) == space.mutate(dag, seed)
    assert space.mutate(dag, np.random.default_rng(seed)) == space.mutate(dag, np.random.default_rng(seed))


def test_sample_is_the_generators_graph():
    space = RandWireSpace(generator="ws", n=16, params={"k": 4, "p": 0.75})
    assert space.sample(3) == watts_strogatz(16, 4, 0.75, seed=3)
    assert RandWireSpace(n=16).sample(3) == space.sample(3)  # WS(4, 0.75) is the default
    ba = RandWireSpace(generator="ba", n=10).sample(0)  # default m=5: exactly m(n-m) internal edges
    assert len(check_invariants(ba, 10)) == 5 * (10 - 5)
    assert len({RandWireSpace(generator="er", n=12).sample(s) for s in range(10)}) > 1


def test_every_mutation_kind_happens_and_all_are_neighbours():
    space = RandWireSpace(n=8)
    dag = space.sample(0)
    edges = check_invariants(dag, 8)
    neighbours = space.neighbours(dag)
    assert len(neighbours) == len(set(neighbours)) and dag not in neighbours
    kinds = set()
    for s in range(300):
        child = space.mutate(dag, s)
        assert child in neighbours
        child_edges = check_invariants(child, 8)
        removed, added = edges - child_edges, child_edges - edges
        if removed and added:
            kinds.add("move_tail" if removed.pop()[1] == added.pop()[1] else "move_head")
        else:
            kinds.add("add" if added else "remove")
    assert kinds == {"add", "remove", "move_head", "move_tail"}


def test_neighbours_match_brute_force_on_a_small_space():
    space = RandWireSpace(n=4, params={"k": 2})
    members = list(space.enumerate())
    assert len(members) == len(set(members)) == space.size() == 2 ** 6
    assert all(space.contains(m) for m in members)
    internal = {m: {(s, d) for s, d in m.edges if 1 <= s and d <= 4} for m in members}

    def one_step(a: DAG, b: DAG) -> bool:
        removed, added = internal[a] - internal[b], internal[b] - internal[a]
        if len(removed) + len(added) == 1:
            return True
        if len(removed) == len(added) == 1:
            (u, v), (x, y) = removed.pop(), added.pop()
            return u == x or v == y
        return False

    for dag in members[::7]:
        assert set(space.neighbours(dag)) == {m for m in members if one_step(dag, m)}


def test_contains_refuses_broken_invariants():
    space = RandWireSpace(n=8)
    dag = space.sample(1)
    n = 8
    assert not space.contains(NB201Space().sample(0))
    assert not RandWireSpace(n=9).contains(dag)
    v = next(i for i in range(1, n + 1) if i not in dag.successors(0))  # a node fed by internal nodes only
    extra_input = DAG(dag.nodes, [*dag.edges, (0, v)], inputs=dag.inputs, outputs=dag.outputs)
    with pytest.raises(GraphError, match=f"node {v}: the input must feed exactly"):
        space.to_edges(extra_input)
    u = next(i for i in range(1, n + 1) if i not in dag.predecessors(n + 1))
    extra_output = DAG(dag.nodes, [*dag.edges, (u, n + 1)], inputs=dag.inputs, outputs=dag.outputs)
    with pytest.raises(GraphError, match=f"node {u}: the output must read exactly"):
        space.to_edges(extra_output)
    summed = dag.with_node(n + 1, Node("identity", combine="sum"))
    with pytest.raises(GraphError, match="output"):
        space.to_edges(summed)
    conv = dag.with_node(3, Node("nor_conv_3x3", combine="weighted_sum"))
    with pytest.raises(GraphError, match="node 3 must be"):
        space.to_edges(conv)
    assert not space.contains(summed) and not space.contains(conv) and not space.contains(extra_input)


def test_edges_round_trip_and_size():
    space = RandWireSpace(n=6, params={"k": 2})
    dag = space.sample(5)
    edges = space.to_edges(dag)
    assert all(0 <= u < v < 6 for u, v in edges)
    assert space.from_edges(edges) == dag
    assert space.from_edges([(v, u) for u, v in edges]) == dag  # orientation follows the index order
    assert space.size() == 2 ** 15
    assert RandWireSpace(n=32).size() == 2 ** (32 * 31 // 2)
    with pytest.raises(GraphError, match="self-loop or names a node outside"):
        space.from_edges([(0, 6)])


def test_registry_vocabulary_and_bad_settings():
    assert "randwire" in list_generators()
    space = get_generator("randwire", generator="er", n=10, params={"p": 0.4})
    assert isinstance(space, RandWireSpace) and space.generator_params() == {"p": 0.4}
    assert space.vocabulary == ("randwire_node",)
    assert set(space.sample(0).ops) == {"input", "identity", *space.vocabulary}
    assert "RandWireSpace(generator='er', n=10" in repr(space)
    with pytest.raises(ValueError, match="n >= 2"):
        RandWireSpace(n=1).sample(0)
    with pytest.raises(ValueError, match="registered generator function"):
        RandWireSpace(generator="nb201").sample(0)
    with pytest.raises(ValueError, match="must not hold 'n'"):
        RandWireSpace(params={"n": 5}).sample(0)
    with pytest.raises(ValueError, match="even k"):
        RandWireSpace(n=4).sample(0)  # WS(4, 0.75) needs n > 4


def test_a_sample_trains_on_digits_as_a_stage():
    from graphnas.benchmarks.digits import digits_network, train_eval

    dag = RandWireSpace(n=6).sample(0)
    net = digits_network(dag)
    assert sum(1 for node in net.nodes if node.op == dag) == 2  # one RandWire graph per stage
    result = train_eval(dag, epochs=2, seed=0)
    assert result["value"] > 20  # above chance (10%): it learns
    assert result == {**train_eval(dag, epochs=2, seed=0), "seconds": result["seconds"]}


def test_mutate_draws_the_move_a_full_list_of_moves_would_give():
    """mutate counts the moves instead of listing them (seconds per mutation at n=1000 before); it must pick
    exactly the move that rng.choice over `_moves`' lists picks, for the same seed."""
    from graphnas.generators._random import as_random

    def listed(space, dag, seed):
        rng = as_random(seed)
        edges = space.to_edges(dag)
        moves = {kind: m for kind, m in space._moves(edges).items() if m}
        kind = rng.choice(sorted(moves))
        return space.from_edges(space._apply(edges, rng.choice(moves[kind])))

    for n, generator in ((6, "ws"), (9, "er"), (12, "ba")):
        space = RandWireSpace(n=n, generator=generator)
        for seed in range(25):
            dag = space.sample(seed)
            for step in range(3):
                child = space.mutate(dag, 100 * seed + step)
                assert child == listed(space, dag, 100 * seed + step)
                dag = child


def test_bad_settings_are_refused_at_construction():
    """Before, each of these constructed and failed at the first sample (the last with watts_strogatz's
    'unexpected keyword argument')."""
    from graphnas.generators import ChainSpace

    for make, says in ((lambda: RandWireSpace(generator="foo"), "generator function such as ws, er or ba"),
                       (lambda: RandWireSpace(n=1), "needs n >= 2 internal nodes"),
                       (lambda: RandWireSpace(params={"q": 1}), "generator 'ws' takes n, k, p; got 'q'"),
                       (lambda: get_generator("ws", n=8, q=2), "generator 'ws' takes n, k, p; got 'q'"),
                       (lambda: get_generator("er", n=8, seed=1), "give seed to sample"),
                       (lambda: ChainSpace(num_layers=0), "num_layers must be a positive int")):
        with pytest.raises(ValueError, match=says):
            make()
