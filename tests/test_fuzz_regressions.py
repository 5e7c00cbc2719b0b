"""Regression tests for the defects the fuzzer (tests/fuzz/, bench/fuzz.py) found, each its minimised case."""

from __future__ import annotations

import json

import pytest
import torch

from graphnas import DAG, GraphError, Node, from_pyg, to_pyg, to_torch
from graphnas.dag import MAX_NESTING


@pytest.mark.parametrize("hw", [(16, 16), (32, 32), (18, 18), (24, 24), (7, 5), (1, 1)])
def test_alignment_pooling_rounds_up_like_a_strided_op(hw: tuple[int, int]) -> None:
    # issue 16: node 2 is a stride-3 enas_sep_conv_5x5 (16 -> 6), nodes 0 and 1 are aligned to it by a 3x3
    # average pooling that rounded down (16 -> 5): "size of tensor a (5) must match ... b (6)".
    dag = DAG([Node("input"), Node("nor_conv_3x3", {"C": 4}), Node("enas_sep_conv_5x5", {"C": 4, "stride": 3}),
               Node("dil_conv_3x3", combine="mean")], [(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)])
    gm = to_torch(dag, 4)
    for train in (True, False):
        gm.train(train)
        out = gm(torch.randn(2, 4, *hw))
        assert out.shape == (2, 4, -(-hw[0] // 3), -(-hw[1] // 3))
    out.sum().backward()


@pytest.mark.parametrize("op", ["skip_connect", "factorized_reduce", "nb201_downsample", "max_pool_2x2"])
@pytest.mark.parametrize("size", [1, 5, 7, 8])
def test_stride_2_ops_round_up_on_odd_sizes(op: str, size: int) -> None:
    # FactorizedReduce's two halves disagreed on odd sizes (3 vs 2 rows: torch.cat failed); nb201_downsample and
    # max_pool_2x2 rounded down while a strided conv rounds up, so a sum with one failed.
    dag = DAG([Node("input"), Node(op, {"C": 4, "stride": 2}), Node("nor_conv_3x3", {"C": 4, "stride": 2}),
               Node("identity")], [(0, 1), (0, 2), (1, 3), (2, 3)])
    out = to_torch(dag, 4)(torch.randn(2, 4, size, size))
    assert out.shape == (2, 4, -(-size // 2), -(-size // 2))


@pytest.mark.parametrize("op, params", [("conv_bn", {"kernel": 2}), ("relu_conv_bn", {"kernel": [3, 4]}),
                                        ("chain_conv", {"filters": 4, "kernel": [2, 2]}),
                                        ("chain_conv", {"filters": 4, "kernel": [0, 3]})])
def test_even_or_empty_kernels_are_refused(op: str, params: dict) -> None:
    # a 'same'-padded even kernel grew the map by one pixel: the output was 10x10 where 9x9 was inferred
    with pytest.raises(GraphError, match=r"node 1 .*kernel must be odd"):
        to_torch(DAG(["input", Node(op, params)], [(0, 1)]))


@pytest.mark.parametrize("p", [1.0, 1.5, -0.1])
def test_drop_path_probability_is_checked(p: float) -> None:
    with pytest.raises(GraphError, match=r"node 1 .*p must be a number in \[0, 1\)"):
        to_torch(DAG(["input", Node("drop_path", {"p": p})], [(0, 1)]))


def test_auxiliary_head_refuses_a_too_small_input_clearly() -> None:
    gm = to_torch(DAG(["input", Node("darts_aux_head_cifar", {"C": 10})], [(0, 1)]), 8).train()
    assert gm(torch.randn(2, 8, 8, 8)).shape == (2, 10)
    with pytest.raises(ValueError, match="auxiliary head needs an input of at least 8x8, got 5x5"):
        gm(torch.randn(2, 8, 5, 5))
    assert gm.eval()(torch.randn(1, 8, 5, 5)) is None  # in eval mode the head computes nothing, as DARTS'


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 100_000])
def test_deeply_nested_json_is_a_graph_error(text: str) -> None:
    with pytest.raises(GraphError, match="too deeply"):
        DAG.from_json(text)


def _nested(depth: int) -> dict:
    body: dict = {"nodes": [{"op": "input"}, {"op": "conv"}], "edges": [[0, 1]]}
    for _ in range(depth - 1):
        body = {"nodes": [{"op": "input"}, {"op": body}], "edges": [[0, 1]]}
    return {"format": "graphnas.dag", "version": 1, **body}


def test_nesting_is_limited_so_that_nested_graphs_compare_and_serialise() -> None:
    # 200 nested DAGs were read, then comparing or writing them raised RecursionError
    deep = DAG.from_dict(_nested(MAX_NESTING))
    assert DAG.from_json(deep.to_json()) == deep
    with pytest.raises(GraphError, match=f"nested {MAX_NESTING} deep"):
        DAG.from_json(json.dumps(_nested(MAX_NESTING + 1)))
    with pytest.raises(GraphError, match=f"nested {MAX_NESTING} deep"):
        DAG(["input", deep], [(0, 1)])


def test_load_of_a_binary_file_is_a_graph_error_naming_it(tmp_path) -> None:
    path = tmp_path / "dag.json"
    path.write_bytes(b"\xe6\xff{}")
    with pytest.raises(GraphError, match="dag.json: not a text file"):
        DAG.load(str(path))


def test_from_pyg_checks_its_data() -> None:
    vocab = ["input", "conv"]
    data = to_pyg(DAG(["input", "conv"], [(0, 1)]), vocab)
    for bad, msg in [(None, "expects a torch_geometric.data.Data"), ({"x": data.x}, "expects a torch_geometric")]:
        with pytest.raises(GraphError, match=msg):
            from_pyg(bad, vocab)
    data.edge_index = torch.zeros(2, 2)
    with pytest.raises(GraphError, match="edge_index must be an integer tensor"):
        from_pyg(data, vocab)
    data = to_pyg(DAG(["input", "conv"], [(0, 1)]), vocab)
    data.x = data.x * 2.0
    with pytest.raises(GraphError, match="node 0: the op columns of its feature row are not one-hot"):
        from_pyg(data, vocab)


def _journal(tmp_path, lines: list[str]) -> str:
    path = tmp_path / "j.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _eval_line() -> dict:
    return {"index": 0, "dag": DAG(["input", "conv"], [(0, 1)]).to_dict(), "value": 1.0, "seconds": 0.1,
            "status": "ok", "error": None, "info": {}}


@pytest.mark.parametrize("line, msg", [
    ("5", "line 2: expected a JSON object"),
    ("{}", "line 2: not an evaluation: value must be a number, got None"),
    (json.dumps({**_eval_line(), "value": "abc"}), "line 2: not an evaluation: value must be a number"),
    (json.dumps({**_eval_line(), "value": 1e400}), "line 2: not an evaluation: an 'ok' evaluation needs a finite"),
    (json.dumps({**_eval_line(), "info": [1]}), "line 2: not an evaluation: info must be an object"),
    (json.dumps({"format": "graphnas.dag", "version": 1}), "line 2: a 'graphnas.dag' document"),
])
def test_journal_lines_that_are_not_evaluations(tmp_path, line: str, msg: str) -> None:
    from graphnas.search import read_journal

    path = _journal(tmp_path, [json.dumps({"format": "graphnas.journal", "version": 1}), line,
                               json.dumps(_eval_line())])
    with pytest.raises(ValueError, match=msg):
        read_journal(path)


def test_resume_cuts_an_unreadable_last_line_before_appending(tmp_path) -> None:
    # the last line ended with a newline but was not UTF-8: read_journal skipped it, resume appended after it,
    # and the next read failed on it
    from graphnas.generators import NB201Space
    from graphnas.search import RandomSearch, read_journal, run

    path = tmp_path / "j.jsonl"
    line = {**_eval_line(), "dag": NB201Space().sample(0).to_dict()}  # a member: the optimiser is told it
    path.write_bytes(json.dumps({"format": "graphnas.journal", "version": 1}).encode() + b"\n"
                     + json.dumps(line).encode() + b"\n" + b'{"index": 1, \xff\xfe\n')
    run(RandomSearch(NB201Space(), seed=0), lambda d: 1.0, 3, journal=path)
    assert len(read_journal(path)) == 3


def test_nb201_table_of_a_binary_file_is_a_value_error(tmp_path) -> None:
    from graphnas.benchmarks import NB201Table

    path = tmp_path / "t.csv"
    path.write_bytes(b"arch,acc\n\xce")
    with pytest.raises(ValueError, match="t.csv: not a CSV table"):
        NB201Table(path)
    path.write_text("arch,acc\n" + "x" * 200_000 + ",1\n")
    with pytest.raises(ValueError, match="t.csv: not a CSV table"):
        NB201Table(path)


# --------------------------------------------------------------------------- converters from other graph forms


def test_from_networkx_names_the_graph_kind_it_refuses() -> None:
    import networkx as nx

    from graphnas import from_networkx

    with pytest.raises(GraphError, match="MultiDiGraph: a graph with parallel edges"):
        from_networkx(nx.MultiDiGraph([(0, 1)]))
    with pytest.raises(GraphError, match=r"got Graph \(an undirected graph\)"):
        from_networkx(nx.Graph([(0, 1)]))
    with pytest.raises(GraphError, match=r"got NoneType \(no graph\)"):
        from_networkx(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("ports", [5, "ab", {0: 1}])
def test_ports_that_are_not_a_list_of_labels_are_a_graph_error(ports) -> None:
    # inputs=5 raised "TypeError: 'int' object is not iterable"; "ab" was read as the labels 'a' and 'b'
    import igraph as ig
    import networkx as nx

    from graphnas import from_edges, from_igraph, from_networkx

    with pytest.raises(GraphError, match="inputs must be a sequence of node labels"):
        from_edges({0: "input", 1: "conv"}, [(0, 1)], inputs=ports)
    g = nx.DiGraph(outputs=ports)
    g.add_node(0, op="input")
    g.add_node(1, op="conv")
    g.add_edge(0, 1)
    with pytest.raises(GraphError, match="outputs must be a sequence of node labels"):
        from_networkx(g)
    h = ig.Graph(n=2, edges=[(0, 1)], directed=True)
    h.vs["op"] = ["input", "conv"]
    h["inputs"] = ports
    with pytest.raises(GraphError, match="inputs must be a sequence"):
        from_igraph(h)


@pytest.mark.parametrize("nodes, edges, msg", [
    (["input", "conv"], [(0, 1)], "nodes must be a mapping from label to node, got list"),
    (None, [], "nodes must be a mapping"),
    ({0: "input", 1: "conv"}, None, "edges must be an iterable of .src, dst. pairs, got NoneType"),
    ({0: "input", 1: "conv"}, 5, "edges must be an iterable"),
    ({0: "input", 1: "conv"}, "01", "edges must be an iterable of .src, dst. pairs, got str"),
])
def test_from_edges_refuses_what_is_not_nodes_and_edges(nodes, edges, msg) -> None:
    # AttributeError: 'list' object has no attribute 'items'; TypeError: 'NoneType' object is not iterable
    from graphnas import from_edges

    with pytest.raises(GraphError, match=msg):
        from_edges(nodes, edges)


def test_a_parallel_edge_is_refused_not_dropped() -> None:
    # from_igraph silently merged igraph's multi-edges (from_networkx refuses a MultiDiGraph), so the round trip
    # lost an edge; from_edges now refuses an edge listed twice, like DAG()
    import igraph as ig

    from graphnas import from_edges, from_igraph

    with pytest.raises(GraphError, match=r"edge \('a', 'b'\) appears twice"):
        from_edges({"a": "input", "b": "conv"}, [("a", "b"), ("a", "b")])
    g = ig.Graph(n=2, edges=[(0, 1), (0, 1)], directed=True)
    g.vs["op"] = ["input", "conv"]
    with pytest.raises(GraphError, match=r"edge \(0, 1\) appears twice"):
        from_igraph(g)


@pytest.mark.parametrize("ops, combine, msg", [
    (None, "sum", "ops must be a sequence with one op per row, got NoneType"),
    (iter(["input", "conv"]), "sum", "ops must be a sequence .*got list_iterator"),
    ("ab", "sum", "ops must be a sequence .*got str"),
    (["input", "conv"], None, "combine must be one rule or a sequence of one per node, got NoneType"),
    (["input", "conv"], 5, "combine must be one rule .*got int"),
    (["input", 5], "sum", "node 1: node op must be a string"),
    (["input", "conv"], ["sum", "max"], "node 1: unknown combine rule 'max'"),
])
def test_from_adjacency_refuses_bad_ops_and_combine_rules(ops, combine, msg) -> None:
    # TypeError: object of type 'NoneType' has no len() / 'NoneType' object is not iterable; "ab" was read as the
    # ops 'a' and 'b'; a bad op did not say which row
    from graphnas import from_adjacency

    with pytest.raises(GraphError, match=msg):
        from_adjacency([[0, 1], [0, 0]], ops, combine=combine)


@pytest.mark.parametrize("field, value, msg", [
    ("normal_concat", [2, "3"], r"normal cell: concat \[2, '3'\] holds '3', which is not a state index"),
    ("reduce_concat", [None], "reduce cell: concat .* holds None"),
    ("normal_concat", 5, "normal cell: concat must be a list of state indices, got int"),
    ("normal", None, r"normal cell: expected a list of \(op, input\) pairs, got NoneType"),
    ("reduce", 5, "reduce cell: expected a list of"),
])
def test_genotype_with_a_malformed_field_is_a_graph_error(field, value, msg) -> None:
    # TypeError: '<' not supported between instances of 'str' and 'int' (concat), 'NoneType' object is not iterable
    from graphnas import as_dag, genotypes

    bad = genotypes.DARTS_V2._replace(**{field: value})
    with pytest.raises(GraphError, match=msg):
        as_dag(bad)


@pytest.mark.parametrize("spec, msg", [
    (([[0, 1], [0]], ["input", "output"]), "NAS-Bench-101 matrix could not be read"),
    ({"matrix": [[0, 1], [0, 0]], "ops": 5}, "NAS-Bench-101 ops must be a list of op names, got int"),
    ({"matrix": [[0, 1], [0, 0]], "ops": "io"}, "NAS-Bench-101 ops must be a list of op names, got str"),
])
def test_nb101_spec_that_cannot_be_read_is_a_graph_error(spec, msg) -> None:
    # ValueError from numpy (ragged matrix) and TypeError: 'int' object is not iterable (ops)
    from graphnas import as_dag

    with pytest.raises(GraphError, match=msg):
        as_dag(spec)


@pytest.mark.parametrize("text", ["", "  ", "\n"])
def test_as_dag_of_an_empty_string_says_so(text: str) -> None:
    # Path("") is the current folder: as_dag("") said ": is a directory, expected a graphnas DAG JSON file"
    from graphnas import as_dag

    with pytest.raises(GraphError, match="an empty string names no graph"):
        as_dag(text)
