"""The converters as a user reaches them: ``graphnas.to_networkx`` & co., one reachability routine,
``to_pyg`` as the surrogate's own encoding, and a ``DAG`` class that holds no converter."""

from __future__ import annotations

import doctest
import importlib
import inspect
import subprocess
import sys

import igraph as ig
import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

import graphnas
from graphnas import DAG, GraphError, Node, from_edge_ops
from graphnas._graph import reachable
from graphnas.converters.pyg import from_pyg, to_pyg
from graphnas.surrogate import Featurizer, GNNSurrogate

MOVED = {
    "to_networkx": "graphnas.converters.networkx", "from_networkx": "graphnas.converters.networkx",
    "from_edges": "graphnas.converters.networkx",
    "to_igraph": "graphnas.converters.igraph", "from_igraph": "graphnas.converters.igraph",
    "to_adjacency": "graphnas.converters.adjacency", "from_adjacency": "graphnas.converters.adjacency",
}
NB201_EDGES = [(0, 1, "nor_conv_3x3"), (0, 2, "nor_conv_1x1"), (1, 2, "skip_connect"),
               (0, 3, "avg_pool_3x3"), (1, 3, "none"), (2, 3, "nor_conv_3x3")]
NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def small() -> DAG:
    return DAG([Node("input"), Node("conv", {"C": 16}), Node("pool"), Node("identity", combine="concat")],
               [(0, 1), (0, 2), (1, 3), (2, 3)])


# ----------------------------------------------------------------------------- layout


@pytest.mark.parametrize("name", sorted(MOVED))
def test_moved_functions_are_public_names_of_graphnas_and_converters(name):
    fn = getattr(graphnas, name)
    assert fn is getattr(importlib.import_module(MOVED[name]), name)
    assert fn is getattr(graphnas.converters, name)
    assert name in graphnas.__all__ and name in graphnas.converters.__all__


def test_the_dag_class_holds_no_converter_and_stays_small():
    for name in ("to_networkx", "from_networkx", "to_igraph", "from_igraph", "to_adjacency", "from_adjacency",
                 "from_edges", "to_pyg", "from_pyg", "to_torch", "to_dot"):
        assert not hasattr(DAG, name), name
    lines, _ = inspect.getsourcelines(DAG)
    assert len(lines) < 400
    assert len(inspect.getsource(importlib.import_module("graphnas.dag")).splitlines()) < 600


def test_import_graphnas_imports_no_converter_library():
    code = ("import sys, graphnas; graphnas.DAG.from_json(graphnas.DAG(['input', 'a'], [(0, 1)]).to_json()); "
            "print(*[m in sys.modules for m in ('torch', 'networkx', 'igraph', 'torch_geometric')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False"] * 4


def test_canonical_key_does_not_import_networkx():
    code = ("import sys, graphnas; graphnas.DAG(['input', 'a'], [(0, 1)]).canonical_key(); "
            "print('networkx' in sys.modules, 'igraph' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


@pytest.mark.parametrize("module", ["graphnas._graph", "graphnas.converters.networkx", "graphnas.converters.igraph",
                                    "graphnas.converters.adjacency", "graphnas.converters.pyg"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


# ----------------------------------------------------------------------------- the moved converters


def test_networkx_igraph_and_adjacency_through_the_public_names():
    g = small()
    nxg = graphnas.to_networkx(g)
    assert isinstance(nxg, nx.DiGraph) and nxg.nodes[1]["params"] == {"C": 16}
    assert graphnas.from_networkx(nxg) == g
    igg = graphnas.to_igraph(g)
    assert isinstance(igg, ig.Graph) and igg.vs["combine"][3] == "concat"
    assert graphnas.from_igraph(igg) == g
    m, ops = graphnas.to_adjacency(g)
    assert m.tolist() == [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]] and ops == list(g.ops)
    assert graphnas.from_adjacency(m, ops, combine=[n.combine for n in g.nodes]) == g.replace(
        nodes=[n.replace(params={}) for n in g.nodes])
    assert graphnas.from_edges({"b": "conv", "a": "input"}, [("a", "b")]).ops == ("input", "conv")


def test_a_backward_edge_points_to_the_public_renumbering_functions():
    with pytest.raises(GraphError, match="graphnas.from_networkx or graphnas.from_edges"):
        DAG(["a", "b"], [(1, 0)])


# ----------------------------------------------------------------------------- reachability, once


def test_reachable_forward_backward_and_in_any_edge_order():
    edges = [(2, 4), (0, 1), (1, 3), (3, 4), (0, 2)]
    assert reachable(6, edges, [1]) == [False, True, False, True, True, False]
    assert reachable(6, edges, [3], backward=True) == [True, True, False, True, False, False]
    assert reachable(6, [], [0, 5]) == [True, False, False, False, False, True]
    # a long chain given backwards: one pass suffices because the routine orders the edges itself
    chain = [(i, i + 1) for i in range(50)][::-1]
    assert all(reachable(51, chain, [0])) and all(reachable(51, chain, [50], backward=True))


def test_pruning_and_zero_op_removal_use_the_same_reachability():
    m = [[0, 1, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    # node 2 is not reachable from the input: pruning drops it
    assert graphnas.from_adjacency(m, ["input", "a", "b", "c", "output"], prune=True).ops == (
        "input", "a", "c", "output")
    # state 2 is fed only by a 'none' edge: it goes together with the edge it feeds
    cell = from_edge_ops([(0, 1, "conv"), (0, 2, "none"), (2, 3, "pool"), (1, 3, "conv")])
    assert "pool" not in cell.ops and cell.ops.count("conv") == 2


# ----------------------------------------------------------------------------- to_pyg = the surrogate's encoding


def nb201_cells() -> list[DAG]:
    cells = []
    for k in range(6):
        edges = [(s, d, NB201_OPS[(k + i) % len(NB201_OPS)]) for i, (s, d, _) in enumerate(NB201_EDGES)]
        cells.append(from_edge_ops(edges, drop_none=False))
    return cells


def network(cell: DAG, C: int) -> DAG:
    """A nested DAG with params: stem, the cell, a head."""
    return DAG([Node("input"), Node("conv", {"C": C}), cell, Node("linear", {"C": 10})],
               [(0, 1), (1, 2), (2, 3)])


def test_to_pyg_is_what_a_fitted_surrogate_sees():
    cells = nb201_cells()
    dags = cells + [network(c, C) for c, C in zip(cells, (16, 32, 16, 32, 16, 32))]
    y = np.linspace(0.0, 1.0, len(dags))
    model = GNNSurrogate(vocabulary=NB201_OPS, hidden=8, layers=1, ensemble=2, epochs=2, seed=0).fit(dags, y)
    f = model.featurizer_
    fitted = Featurizer.fit(dags, NB201_OPS)
    assert (f.vocabulary, f.param_tokens) == (fitted.vocabulary, fitted.param_tokens)
    assert "C=16" in f.param_tokens
    surrogate_view = f.batch(dags)
    batch = Batch.from_data_list([to_pyg(d, f) for d in dags])
    assert torch.equal(batch.x, surrogate_view.x)
    assert torch.equal(batch.edge_index, surrogate_view.edge_index)
    assert torch.equal(batch.batch, surrogate_view.batch)
    # 'none' nodes pass nothing on: edge_index drops what leaves them, dag_edge_index keeps every edge
    data = to_pyg(cells[0], f)
    assert data.edge_index.shape[1] < cells[0].num_edges == data.dag_edge_index.shape[1]


def test_to_pyg_defaults_to_the_graphs_own_vocabulary():
    net = network(nb201_cells()[0], 16)
    data = to_pyg(net)
    f = Featurizer.fit([net])
    assert data.x.shape == (len(net.flatten()), f.num_features)
    assert torch.equal(data.x, f.batch([net]).x)
    assert torch.equal(data.edge_index, f.batch([net]).edge_index)
    assert data.inputs.tolist() == list(net.flatten().inputs)
    assert data.outputs.tolist() == list(net.flatten().outputs)
    assert from_pyg(data, f) == net.flatten()  # ops, params, combine rules, edges and ports all come back


def test_to_pyg_with_an_op_list_columns_and_unknown_ops():
    cell = nb201_cells()[0]
    vocab = ["input", "identity", *NB201_OPS]
    data = to_pyg(cell, vocab)
    layout = Featurizer(vocab).layout
    ops = data.x[:, layout["op"]]
    assert ops.sum().item() == len(cell)
    assert ops[1].argmax().item() == 1 + vocab.index(cell.nodes[1].op)  # column 0 is "unknown op"
    assert data.x[:, layout["flags"]][0].tolist() == [1.0, 0.0, 1.0]  # input, not output, live
    assert data.edge_index[:, 0].tolist() == [0, 1]
    assert from_pyg(data, vocab) == cell
    # an op outside the vocabulary shares column 0, as in the surrogate; from_pyg cannot name it
    short = to_pyg(cell, ["input", "identity"])
    assert short.x[1, 0].item() == 1.0
    with pytest.raises(GraphError, match="node 1: its op is not in the vocabulary"):
        from_pyg(short, ["input", "identity"])


@pytest.mark.parametrize("vocab", [{"input": 0, "conv": 5}, {"input": 0, "conv": 0}])
def test_to_pyg_refuses_a_vocabulary_mapping_that_is_not_numbered_0_to_k(vocab):
    # a gap overflowed the one-hot width (IndexError); a shared number made two ops one feature
    with pytest.raises(GraphError, match="must number its ops 0..1, each once"):
        to_pyg(DAG(["input", "conv"], [(0, 1)]), vocab)


def test_pyg_bad_input():
    dag = DAG(["input", "conv"], [(0, 1)])
    with pytest.raises(GraphError, match="lists an op twice"):
        to_pyg(dag, ["input", "input"])
    with pytest.raises(GraphError, match="the vocabulary must be"):
        to_pyg(dag, "input")  # type: ignore[arg-type]
    data = to_pyg(dag, ["input", "conv"])
    with pytest.raises(GraphError, match=r"data.x must have shape \[num_nodes, 12\]"):
        from_pyg(data, ["input", "conv", "pool"])
    cell = nb201_cells()[0]
    bare = to_pyg(cell, NB201_OPS + ["input", "identity"])
    del bare.dag_edge_index
    with pytest.raises(GraphError, match="is the zero op 'none'"):
        from_pyg(bare, NB201_OPS + ["input", "identity"])
