"""Property tests over random DAGs: lossless round-trips, canonical keys, corruptions."""

from __future__ import annotations

import json
import random

import networkx as nx
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphnas import COMBINES, DAG, GraphError, Node, from_edges, from_igraph, from_networkx, to_igraph, to_networkx
from graphnas.converters.pyg import from_pyg, to_pyg
from graphnas.surrogate import Featurizer

OPS = ["conv3x3", "conv1x1", "pool", "identity", "sep_conv_5x5"]
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

param_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 64), st.sampled_from(["a", "same"]),
                         st.lists(st.integers(1, 7), max_size=3))
nodes_st = st.builds(Node, st.sampled_from(OPS),
                     st.dictionaries(st.sampled_from(["stride", "C", "kernel"]), param_values, max_size=2),
                     st.sampled_from(COMBINES))


@st.composite
def dags(draw, max_nodes: int = 12, nested: bool = True) -> DAG:
    """Any DAG: random forward edges; ports default to the sources and sinks (or are given explicitly)."""
    n = draw(st.integers(1, max_nodes))
    nodes = draw(st.lists(nodes_st, min_size=n, max_size=n))
    if nested and n > 1 and draw(st.booleans()):
        inner = draw(dags(max_nodes=4, nested=False))
        if len(inner.inputs) == 1:  # several inputs would need one predecessor each
            nodes[draw(st.integers(1, n - 1))] = Node(inner, combine=draw(st.sampled_from(COMBINES)))
    edges = [(i, j) for i in range(n) for j in range(i + 1, n) if draw(st.booleans())]
    return DAG(nodes, edges)


def relabelled(dag: DAG, rng: random.Random) -> DAG:
    """The same graph with nodes given shuffled labels and renumbered through networkx."""
    labels = list(range(len(dag)))
    rng.shuffle(labels)
    nodes = {labels[i]: dag.nodes[i] for i in sorted(range(len(dag)), key=lambda i: labels[i])}
    return from_edges(nodes, [(labels[s], labels[d]) for s, d in dag.edges],
                          inputs=[labels[i] for i in dag.inputs], outputs=[labels[o] for o in dag.outputs])


@PROPERTY
@given(dags())
def test_json_roundtrip(dag):
    assert DAG.from_json(dag.to_json()) == dag
    assert DAG.from_json(dag.to_json(indent=2)).canonical_key() == dag.canonical_key()


@PROPERTY
@given(dags())
def test_networkx_roundtrip(dag):
    assert from_networkx(to_networkx(dag)) == dag


@PROPERTY
@given(dags())
def test_igraph_roundtrip(dag):
    assert from_igraph(to_igraph(dag)) == dag


@PROPERTY
@given(dags(nested=False))
def test_pyg_roundtrip_with_an_op_vocabulary(dag):
    data = to_pyg(dag, OPS)
    assert torch.equal(data.x, Featurizer(OPS).batch([dag]).x)  # the surrogate's features, not a second encoder
    assert data.dag_edge_index.shape == (2, dag.num_edges)
    back = from_pyg(data, OPS)
    assert back.ops == dag.ops and back.edges == dag.edges
    assert [n.combine for n in back.nodes] == [n.combine for n in dag.nodes]
    assert back.inputs == dag.inputs and back.outputs == dag.outputs


@PROPERTY
@given(dags())
def test_pyg_roundtrip_with_the_default_featurizer_is_exact(dag):
    assert from_pyg(to_pyg(dag), Featurizer.fit([dag])) == dag.flatten()


@PROPERTY
@given(dags(), st.randoms(use_true_random=False))
def test_canonical_key_is_invariant_under_relabelling(dag, rng):
    other = relabelled(dag, rng)
    assert other.canonical_key() == dag.canonical_key()


@PROPERTY
@given(dags(), st.data())
def test_canonical_key_changes_when_an_op_changes(dag, data):
    i = data.draw(st.integers(0, len(dag) - 1))
    changed = dag.with_node(i, dag.nodes[i].replace(op="an_op_not_used_elsewhere"))
    assert changed.canonical_key() != dag.canonical_key()


def _nx_labelled(dag: DAG) -> nx.DiGraph:
    g = nx.DiGraph()
    in_pos = {v: k for k, v in enumerate(dag.inputs)}
    out_pos = {v: k for k, v in enumerate(dag.outputs)}
    for i, node in enumerate(dag.nodes):
        g.add_node(i, label=(in_pos.get(i), out_pos.get(i), node._label()))
    g.add_edges_from(dag.edges)
    return g


@PROPERTY
@given(dags(max_nodes=6, nested=False), dags(max_nodes=6, nested=False))
def test_canonical_key_equal_exactly_when_isomorphic(a, b):
    iso = nx.is_isomorphic(_nx_labelled(a), _nx_labelled(b), node_match=lambda x, y: x["label"] == y["label"])
    assert (a.canonical_key() == b.canonical_key()) == iso


@PROPERTY
@given(dags(max_nodes=5, nested=False), st.data())
def test_canonical_key_equal_exactly_when_isomorphic_same_ops(a, data):
    # Same node labels, rewired: many pairs are isomorphic, many are not.
    n = len(a)
    edges = [(i, j) for i in range(n) for j in range(i + 1, n) if data.draw(st.booleans())]
    perm = data.draw(st.permutations(range(n)))
    b = from_edges({perm[i]: a.nodes[i] for i in range(n)}, [(perm[s], perm[d]) for s, d in edges])
    iso = nx.is_isomorphic(_nx_labelled(a), _nx_labelled(b), node_match=lambda x, y: x["label"] == y["label"])
    assert (a.canonical_key() == b.canonical_key()) == iso


CORRUPTIONS = ["truncate", "backward_edge", "missing_node", "combine", "unreachable", "dead_end", "not_json",
               "bad_op_type", "duplicate_edge", "bad_port"]


@PROPERTY
@given(dags(max_nodes=8), st.sampled_from(CORRUPTIONS), st.randoms(use_true_random=False))
def test_corrupted_documents_raise_graph_error(dag, kind, rng):
    doc = dag.to_dict()
    n = len(dag)
    text = None
    if kind == "truncate":
        full = dag.to_json()
        text = full[: rng.randrange(0, len(full) - 1)]
    elif kind == "backward_edge":
        doc["edges"].append([n - 1, 0] if n > 1 else [0, 0])
    elif kind == "missing_node":
        doc["edges"].append([rng.randrange(n), n + rng.randrange(3)])
    elif kind == "combine":
        doc["nodes"][rng.randrange(n)]["combine"] = rng.choice(["max", "product", ""])
    elif kind == "unreachable":
        doc["nodes"].append({"op": "orphan"})
        doc["edges"].append([n, n])  # a self-loop on a new node: a cycle
    elif kind == "dead_end":
        doc["nodes"].append({"op": "dead"})
        doc["edges"].append([doc["inputs"][0], n])
        # outputs stay explicit, so the new node has no path to any output
    elif kind == "not_json":
        text = "{" + dag.to_json()
    elif kind == "bad_op_type":
        doc["nodes"][rng.randrange(n)]["op"] = rng.choice([3, None, [1], True])
    elif kind == "duplicate_edge":
        doc["edges"].append(list(doc["edges"][0]) if doc["edges"] else [0, 0])
    elif kind == "bad_port":
        doc["outputs"] = [n + 1]
    if text is None:
        text = json.dumps(doc)
    with pytest.raises(GraphError):
        DAG.from_json(text)
