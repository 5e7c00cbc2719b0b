"""NAS-Bench-201 space: 15,625 distinct cells, exact string round-trips, moves stay in the space."""

import csv
import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphnas import DAG, GraphError, Node
from graphnas.generators import NB201_OPS, NB201Space, from_edge_ops

SPACE = NB201Space()
ops6 = st.lists(st.sampled_from(NB201_OPS), min_size=6, max_size=6)


def arch(ops):
    it = iter(ops)
    return "+".join("|" + "|".join(f"{next(it)}~{j}" for j in range(i)) + "|" for i in (1, 2, 3))


def test_enumerate_gives_15625_distinct_members():
    cells = list(SPACE.enumerate())
    assert len(cells) == SPACE.size() == 15625
    assert len(set(cells)) == 15625
    assert len({SPACE.to_string(c) for c in cells}) == 15625
    assert all(SPACE.contains(c) for c in cells[::97])


@given(ops6)
def test_string_round_trip(ops):
    s = arch(ops)
    dag = SPACE.from_string(s)
    assert SPACE.to_string(dag) == s
    assert SPACE.to_ops(dag) == ops
    assert DAG.from_json(dag.to_json()) == dag


def test_round_trip_from_a_small_table(tmp_path):
    rng = random.Random(5)
    path = tmp_path / "table.csv"
    rows = [(arch([rng.choice(NB201_OPS) for _ in range(6)]), f"{rng.uniform(10, 95):.4f}") for _ in range(200)]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["arch", "cifar10_test_acc"])
        w.writerows(rows)
    with open(path) as fh:
        for row in csv.DictReader(fh):
            assert SPACE.to_string(SPACE.from_string(row["arch"])) == row["arch"]


def test_node_form_layout_matches_from_edge_ops():
    s = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|"
    dag = SPACE.from_string(s)
    assert len(dag) == 10 and dag.num_edges == 12 and dag.inputs == (0,) and dag.outputs == (9,)
    assert dag.nodes[0] == Node("input")
    assert [dag.nodes[i] for i in (2, 5, 9)] == [Node("identity", combine="sum")] * 3
    assert [dag.nodes[i].op for i in (1, 3, 4, 6, 7, 8)] == SPACE.to_ops(dag)
    edges = [(0, 1, "nor_conv_3x3"), (0, 2, "none"), (1, 2, "avg_pool_3x3"),
             (0, 3, "skip_connect"), (1, 3, "nor_conv_1x1"), (2, 3, "none")]
    assert from_edge_ops(edges, drop_none=False) == dag


@pytest.mark.parametrize("bad", [
    "", "|nor_conv_3x3~0|+|none~0|", "|nor_conv_3x3~1|+|none~0|none~1|+|none~0|none~1|none~2|",
    "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "nor_conv_3x3~0+|none~0|none~1|+|none~0|none~1|none~2|",
    "|none~0|+|none~0|+|none~0|none~1|none~2|",
])
def test_bad_strings_raise(bad):
    with pytest.raises(GraphError):
        SPACE.from_string(bad)


def test_contains_rejects_others():
    dag = SPACE.sample(0)
    assert SPACE.contains(dag) and dag in SPACE
    assert not SPACE.contains(dag.with_node(1, Node("sep_conv_3x3")))
    assert not SPACE.contains(dag.with_node(1, Node("nor_conv_3x3", {"stride": 2})))
    assert not SPACE.contains(DAG(["input", "identity"], [(0, 1)]))


@settings(max_examples=50)
@given(st.integers(0, 2**32), st.integers(0, 2**32))
def test_mutate_changes_exactly_one_edge(seed_a, seed_b):
    dag = SPACE.sample(seed_a)
    child = SPACE.mutate(dag, seed_b)
    assert SPACE.contains(child)
    diff = [a != b for a, b in zip(SPACE.to_ops(dag), SPACE.to_ops(child))]
    assert sum(diff) == 1
    assert child in SPACE.neighbours(dag)


def test_neighbours():
    dag = SPACE.sample(1)
    nbrs = SPACE.neighbours(dag)
    assert len(nbrs) == len(set(nbrs)) == 24 and dag not in nbrs


def test_seed_kinds_reproduce():
    for make in (lambda: 7, lambda: random.Random(7), lambda: np.random.default_rng(7)):
        assert SPACE.sample(make()) == SPACE.sample(make())
        assert SPACE.mutate(SPACE.sample(0), make()) == SPACE.mutate(SPACE.sample(0), make())
    assert len({SPACE.sample(s) for s in range(50)}) > 45


def test_sample_is_uniform_over_ops():
    rng = random.Random(0)
    counts = dict.fromkeys(NB201_OPS, 0)
    for _ in range(1000):
        for op in SPACE.to_ops(SPACE.sample(rng)):
            counts[op] += 1
    # 6000 draws, 1200 expected each; 5 sigma is about 155
    assert all(abs(c - 1200) < 160 for c in counts.values()), counts


def test_all_ops_products_are_reachable():
    assert {tuple(SPACE.to_ops(c)) for c in SPACE.enumerate()} == set(itertools.product(NB201_OPS, repeat=6))
