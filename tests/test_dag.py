"""Unit tests of the DAG value type (construction, validation, identity, JSON) and its graph converters."""

from __future__ import annotations

import copy
import json
import pickle

import igraph as ig
import networkx as nx
import numpy as np
import pytest

from graphnas import (
    DAG,
    GraphError,
    Node,
    from_adjacency,
    from_edges,
    from_igraph,
    from_networkx,
    to_adjacency,
    to_igraph,
    to_networkx,
)
from graphnas.dag import JSON_VERSION


def cell() -> DAG:
    """A small NAS-Bench-101 style cell: input, two convs, a pool, concat output."""
    return DAG(
        [Node("input"), Node("conv3x3", {"C": 16}), Node("conv1x1"), Node("maxpool3x3", {"stride": 1}),
         Node("identity", combine="concat")],
        [(0, 1), (0, 2), (1, 3), (2, 4), (3, 4), (0, 4)],
    )


# ----------------------------------------------------------------------------- construction


def test_defaults_pick_ports_and_sort_edges():
    g = cell()
    assert g.inputs == (0,)
    assert g.outputs == (4,)
    assert g.edges == ((0, 1), (0, 2), (1, 3), (0, 4), (2, 4), (3, 4))
    assert g.predecessors(4) == (0, 2, 3)
    assert g.successors(0) == (1, 2, 4)
    assert len(g) == 5 and g.num_edges == 6
    assert g.depth() == 3


def test_shorthand_ops_and_params_are_frozen():
    g = DAG(["input", "conv"], [(0, 1)])
    assert g.nodes[1] == Node("conv")
    n = Node("conv", {"kernel": [3, 5]})
    assert n.params["kernel"] == (3, 5)
    with pytest.raises(TypeError):
        n.params["kernel"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        g.nodes = ()  # type: ignore[misc]


def test_equality_and_hash_are_by_value():
    assert cell() == cell()
    assert hash(cell()) == hash(cell())
    assert len({cell(), cell()}) == 1
    other = cell().with_node(2, Node("conv3x3"))
    assert other != cell()
    assert Node("a", {"x": 1}) != Node("a", {"x": 2})
    assert Node("a", combine="mean") != Node("a")


def test_pickle_and_deepcopy_roundtrip():
    g = cell()
    assert pickle.loads(pickle.dumps(g)) == g
    assert copy.deepcopy(g) == g


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("nodes", "edges", "kwargs", "message"),
    [
        (["input", "a", "b"], [(0, 1), (1, 2), (2, 1)], {}, r"edge \(2, 1\) goes from a higher to a lower index"),
        (["input", "a"], [(0, 1), (1, 1)], {}, r"edge \(1, 1\) is a self-loop on node 1"),
        (["input", "a"], [(0, 1), (0, 5)], {}, r"edge \(0, 5\) ends at node 5, which does not exist"),
        (["input", "a"], [(0, 1), (-1, 1)], {}, r"edge \(-1, 1\) starts at node -1"),
        (["input", "a"], [(0, 1), (0, 1)], {}, r"edge \(0, 1\) appears twice"),
        (["input", "a", "b"], [(0, 2), (1, 2)], {"inputs": [0]}, r"node 1 \('a'\) is not reachable from any input"),
        (["input", "a", "b"], [(0, 1), (0, 2)], {"outputs": [2]}, r"node 1 \('a'\) has no path to any output"),
        (["input", "a"], [(0, 1)], {"inputs": [1]}, r"input node 1 has incoming edges"),
        (["input", "a"], [(0, 1)], {"outputs": [7]}, r"output node 7 does not exist"),
        ([], [], {}, "at least one node"),
        (["input", 3], [(0, 1)], {}, r"node 1: expected a Node"),
        (["input", "a"], [(0, "1")], {}, r"node indices must be integers"),
    ],
)
def test_bad_graphs_raise_graph_error_naming_the_culprit(nodes, edges, kwargs, message):
    with pytest.raises(GraphError, match=message):
        DAG(nodes, edges, **kwargs)


def test_bad_nodes():
    with pytest.raises(GraphError, match="unknown combine rule 'max'"):
        Node("a", combine="max")
    with pytest.raises(GraphError, match="non-empty string"):
        Node("")
    with pytest.raises(GraphError, match="parameter values must be"):
        Node("a", {"f": object()})
    for bad in (float("nan"), float("inf"), -float("inf")):  # JSON can write none of them
        with pytest.raises(GraphError, match="not allowed as a parameter value"):
            Node("a", {"f": bad})


def test_params_equal_in_python_but_written_apart_make_different_nodes():
    # before: 2 == 2.0 == True made these nodes (and their DAGs) equal, while JSON and the key told them apart
    import numpy as np

    nodes = [Node("a", {"s": 2}), Node("a", {"s": 2.0}), Node("a", {"s": True}), Node("a", {"s": [2, 1]}),
             Node("a", {"s": [2.0, 1]})]
    for i, a in enumerate(nodes):
        for j, b in enumerate(nodes):
            g, h = DAG([Node("input"), a], [(0, 1)]), DAG([Node("input"), b], [(0, 1)])
            assert (a == b) == (i == j) == (g == h) == (g.canonical_key() == h.canonical_key())
    numpy_node = Node("a", {"s": np.int64(2), "r": np.float32(0.5)})  # kept as Python numbers
    assert numpy_node == Node("a", {"s": 2, "r": 0.5}) and type(numpy_node.params["s"]) is int


def test_nested_dag_with_several_inputs_needs_one_predecessor_each():
    inner = DAG(["input", "input", "identity"], [(0, 2), (1, 2)])
    DAG(["input", "stem", inner], [(0, 1), (0, 2), (1, 2)])
    with pytest.raises(GraphError, match="node 1 holds a nested DAG with 2 inputs but has 1 predecessors"):
        DAG(["input", inner], [(0, 1)])


def test_graph_error_is_a_value_error():
    assert issubclass(GraphError, ValueError)


# ----------------------------------------------------------------------------- canonical key


def test_canonical_key_ignores_numbering_but_not_ops():
    a = DAG(["input", "conv", "pool", "identity"], [(0, 1), (0, 2), (1, 3), (2, 3)])
    b = DAG(["input", "pool", "conv", "identity"], [(0, 1), (0, 2), (1, 3), (2, 3)])
    assert a != b
    assert a.canonical_key() == b.canonical_key()
    c = DAG(["input", "conv", "conv", "identity"], [(0, 1), (0, 2), (1, 3), (2, 3)])
    assert c.canonical_key() != a.canonical_key()
    d = DAG(["input", "conv", "pool", "identity"], [(0, 1), (1, 2), (2, 3)])
    assert d.canonical_key() != a.canonical_key()


def test_canonical_key_sees_params_combine_port_order_and_nested_graphs():
    base = DAG(["input", "conv", "identity"], [(0, 1), (1, 2)])
    assert base.with_node(1, Node("conv", {"stride": 2})).canonical_key() != base.canonical_key()
    assert base.with_node(2, Node("identity", combine="mean")).canonical_key() != base.canonical_key()
    two = DAG(["input", "input", "a", "identity"], [(0, 2), (1, 3), (2, 3)])
    swapped = DAG(["input", "input", "a", "identity"], [(0, 2), (1, 3), (2, 3)], inputs=[1, 0])
    assert two.canonical_key() != swapped.canonical_key()
    outer1 = DAG(["input", base], [(0, 1)])
    outer2 = DAG(["input", base.with_node(1, Node("pool"))], [(0, 1)])
    assert outer1.canonical_key() != outer2.canonical_key()


# ----------------------------------------------------------------------------- JSON


def test_json_roundtrip_with_nested_dags_and_schema_fields():
    inner = cell()
    outer = DAG([Node("input"), Node(inner, {"repeat": 2}), Node("linear", {"out": 10})], [(0, 1), (1, 2)])
    text = outer.to_json()
    doc = json.loads(text)
    assert doc["format"] == "graphnas.dag" and doc["version"] == JSON_VERSION
    assert doc["nodes"][1]["op"]["nodes"][1] == {"op": "conv3x3", "params": {"C": 16}}
    assert DAG.from_json(text) == outer
    assert DAG.from_json(text.encode()) == outer


def test_save_and_load(tmp_path):
    path = tmp_path / "g.json"
    cell().save(str(path))
    assert DAG.load(str(path)) == cell()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": "graphnas.dag", "version": 1, "nodes": [', "malformed JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"format": "other"}', "not a graphnas DAG document"),
        ('{"format": "graphnas.dag", "version": 99, "nodes": [], "edges": []}', "unsupported .* version 99"),
        ('{"format": "graphnas.dag", "version": 1, "edges": []}', "missing field 'nodes'"),
        ('{"format": "graphnas.dag", "version": 1, "nodes": [{"op": 5}], "edges": []}', r"nodes\[0\]\.op"),
        ('{"format": "graphnas.dag", "version": 1, "nodes": [{"op": "a", "combine": "max"}], "edges": []}',
         r"nodes\[0\] \(node 0\): unknown combine rule 'max'"),
        ('{"format": "graphnas.dag", "version": 1, "nodes": [{"op": "a"}], "edges": [[0, 3]]}',
         r"edge \(0, 3\) ends at node 3"),
        ('{"format": "graphnas.dag", "version": 1, "nodes": [{"op": "a", "py": "import os"}], "edges": []}',
         r"unknown field\(s\) \['py'\]"),
        ('{"format": "graphnas.dag", "version": 1, "nodes": [{"op": "a"}], "edges": [[0]]}',
         r"edges\[0\]: expected a \[src, dst\] pair"),
        # before: a misspelt field was dropped and its default read instead
        ('{"format": "graphnas.dag", "version": 1, "nodes": [{"op": "a"}], "edges": [], "output": [0]}',
         r"\$: unknown field\(s\) \['output'\]"),
        ('{"format": "graphnas.dag", "version": 1, "nodes": [{"op": {"format": "graphnas.dag", "nodes": '
         '[{"op": "input"}], "edges": []}}], "edges": []}', r"\$\.nodes\[0\]\.op: unknown field.*no format"),
        ('{"format": "graphnas.dag", "version": 1.0, "nodes": [], "edges": []}', "unsupported .* version 1.0"),
        ('{"format": "graphnas.dag", "version": true, "nodes": [], "edges": []}', "unsupported .* version True"),
    ],
)
def test_bad_json_raises_graph_error(text, message):
    with pytest.raises(GraphError, match=message):
        DAG.from_json(text)


def test_json_of_a_wrong_type():
    with pytest.raises(GraphError, match="expects a str or bytes"):
        DAG.from_json(123)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- networkx / igraph


def test_networkx_roundtrip():
    g = cell()
    nxg = to_networkx(g)
    assert nxg.nodes[1]["op"] == "conv3x3" and nxg.nodes[1]["params"] == {"C": 16}
    assert nxg.graph["inputs"] == [0] and nxg.graph["outputs"] == [4]
    assert from_networkx(nxg) == g


def test_from_networkx_relabels_arbitrary_labels_deterministically():
    nxg = nx.DiGraph()
    nxg.add_node("out", op="identity", combine="mean")
    nxg.add_node(("b", 2), op="conv")
    nxg.add_node("in", op="input")
    nxg.add_node(7, op="pool")
    nxg.add_edges_from([("in", ("b", 2)), ("in", 7), (("b", 2), "out"), (7, "out")])
    g = from_networkx(nxg)
    assert g.ops == ("input", "conv", "pool", "identity")
    assert g.nodes[3].combine == "mean"
    assert from_networkx(nxg) == g


def test_from_networkx_errors():
    nxg = nx.DiGraph()
    nxg.add_node("a", op="input")
    nxg.add_node("b", op="conv")
    nxg.add_node("c", op="conv")
    nxg.add_edges_from([("a", "b"), ("b", "c"), ("c", "b")])
    with pytest.raises(GraphError, match="the graph has a cycle: 'b' -> 'c' -> 'b'"):
        from_networkx(nxg)
    bare = nx.DiGraph([(1, 2)])
    with pytest.raises(GraphError, match="node 1 has no 'op' attribute"):
        from_networkx(bare)
    with pytest.raises(GraphError, match="expects a networkx.DiGraph"):
        from_networkx(nx.Graph())  # type: ignore[arg-type]


def test_igraph_roundtrip_and_renumbering():
    g = cell()
    igg = to_igraph(g)
    assert igg.vs["op"] == list(g.ops)
    assert from_igraph(igg) == g
    # vertices not in topological order get renumbered
    h = ig.Graph(n=3, edges=[(2, 0), (0, 1)], directed=True)
    h.vs["op"] = ["conv", "identity", "input"]
    assert from_igraph(h).ops == ("input", "conv", "identity")
    h.add_edge(1, 2)
    with pytest.raises(GraphError, match="cycle"):
        from_igraph(h)


def test_from_edges_with_labels_and_ports():
    g = from_edges({"x": "input", "y": "input", "z": "identity"}, [("x", "z"), ("y", "z")],
                       inputs=["y", "x"], outputs=["z"])
    assert g.inputs == (1, 0)
    with pytest.raises(GraphError, match="refers to node 'w'"):
        from_edges({"x": "input"}, [("x", "w")])
    with pytest.raises(GraphError, match="input 'q' is not a node"):
        from_edges({"x": "input", "z": "a"}, [("x", "z")], inputs=["q"])


# ----------------------------------------------------------------------------- adjacency


def test_from_adjacency_nasbench101_style():
    m = [[0, 1, 1, 0],
         [0, 0, 0, 1],
         [0, 0, 0, 1],
         [0, 0, 0, 0]]
    g = from_adjacency(m, ["input", "conv3x3-bn-relu", "maxpool3x3", "output"])
    assert g.edges == ((0, 1), (0, 2), (1, 3), (2, 3))
    matrix, ops = to_adjacency(g)
    assert np.array_equal(matrix, np.array(m)) and ops == ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
    assert from_adjacency(matrix, ops) == g
    # ports the format cannot say are refused (before: a matrix that from_adjacency then refused)
    two_out = DAG([Node("input"), Node("a"), Node("b")], [(0, 1), (0, 2)])
    with pytest.raises(GraphError, match=r"one input .* one output; this DAG has inputs \[0\] and outputs \[1, 2\]"):
        to_adjacency(two_out)
    swapped = DAG([Node("input"), Node("input"), Node("c")], [(0, 2), (1, 2)], inputs=[1, 0])
    with pytest.raises(GraphError, match=r"inputs \[1, 0\]"):
        to_adjacency(swapped)


def test_from_adjacency_pruning_is_explicit():
    m = [[0, 1, 0, 0],
         [0, 0, 0, 1],
         [0, 0, 0, 1],  # node 2 is not reachable from the input
         [0, 0, 0, 0]]
    ops = ["input", "a", "b", "output"]
    with pytest.raises(GraphError, match="node 2 .* not reachable"):
        from_adjacency(m, ops)
    pruned = from_adjacency(m, ops, prune=True)
    assert pruned.ops == ("input", "a", "output")
    with pytest.raises(GraphError, match="upper-triangular"):
        from_adjacency([[0, 0], [1, 0]], ["input", "output"])
    with pytest.raises(GraphError, match="3 ops were given"):
        from_adjacency([[0, 1], [0, 0]], ["input", "a", "output"])
    with pytest.raises(GraphError, match="must be square"):
        from_adjacency([[0, 1, 0]], ["input"])


# ----------------------------------------------------------------------------- flatten


def test_flatten_inlines_nested_cells():
    inner = DAG(["input", "input", "conv", "identity"], [(0, 2), (1, 3), (2, 3)])
    net = DAG(["input", "stem", inner, "linear"], [(0, 1), (0, 2), (1, 2), (2, 3)])
    flat = net.flatten()
    assert not any(n.is_nested for n in flat.nodes)
    assert flat.ops == ("input", "stem", "conv", "identity", "linear")
    assert flat.edges == ((0, 1), (0, 2), (1, 3), (2, 3), (3, 4))
    assert cell().flatten() == cell()


def test_flatten_a_nested_dag_on_an_input_node():
    # its inner nodes were inlined but the outer input then pointed at the inner output (GraphError)
    net = DAG([DAG(["input", "conv"], [(0, 1)]), "linear"], [(0, 1)])
    assert net.flatten() == DAG(["input", "conv", "linear"], [(0, 1), (1, 2)])
    two = DAG([DAG(["input", "input", Node("identity", combine="concat")], [(0, 2), (1, 2)]), "linear"], [(0, 1)])
    assert two.flatten() == DAG(["input", "input", Node("identity", combine="concat"), "linear"],
                                [(0, 2), (1, 2), (2, 3)])


def test_from_adjacency_refuses_an_empty_matrix():
    for prune in (False, True):  # prune=True raised IndexError
        with pytest.raises(GraphError, match="adjacency matrix is empty"):
            from_adjacency(np.zeros((0, 0), dtype=int), [], prune=prune)


def test_jupyter_shows_the_drawing():
    bundle = cell()._repr_mimebundle_()
    assert bundle["text/plain"] == repr(cell())
    svg = cell()._repr_svg_()
    assert svg is not None and svg.lstrip().startswith("<?xml") and "conv3x3" in svg
    assert "<svg" in bundle["image/svg+xml"]


def test_reading_a_graph_does_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, graphnas; graphnas.DAG.from_json(graphnas.DAG(['input', 'a'], [(0, 1)]).to_json()); "
            "print('torch' in sys.modules, 'torch_geometric' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_json_errors_inside_a_nested_dag_say_where():
    inner = {"nodes": [{"op": "input"}, {"op": "a"}], "edges": [[1, 0]]}
    doc = {"format": "graphnas.dag", "version": 1, "nodes": [{"op": "input"}, {"op": inner}], "edges": [[0, 1]]}
    with pytest.raises(GraphError, match=r"in the nested DAG at \$\.nodes\[1\]\.op: edge \(1, 0\) goes from"):
        DAG.from_json(json.dumps(doc))


def test_a_source_node_that_is_not_an_input_is_a_lost_edge_not_a_second_input():
    """With some nodes marked 'input', another node without predecessors is an error (named), not
    silently a second input; inputs=[...] makes it one on purpose; unmarked graphs infer inputs as before."""
    with pytest.raises(GraphError, match=r"node 1 \('conv'\) is not reachable from any input \(inputs are \[0\]\)"):
        DAG(["input", "conv", "identity"], [(0, 2)])
    assert DAG(["input", "conv", "identity"], [(0, 2), (1, 2)], inputs=[0, 1]).inputs == (0, 1)
    assert DAG(["input", "input", "identity"], [(0, 2), (1, 2)]).inputs == (0, 1)
    assert DAG(["conv", "conv", "identity"], [(0, 2), (1, 2)]).inputs == (0, 1)
