"""Published genotypes are exact and convert to node form and back."""

import pytest

from graphnas import DAG, GraphError, Node
from graphnas.genotypes import (
    DARTS,
    DARTS_V1,
    DARTS_V2,
    ENAS,
    PRIMITIVES,
    AmoebaNet,
    Genotype,
    NASNet,
    blocks_to_cell,
    cell_to_blocks,
    dag_to_genotype,
    genotype_to_dag,
)


def test_darts_values_exact():
    # quark0/darts cnn/genotypes.py, written out independently here as the reference
    assert DARTS_V2.normal == [("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
                               ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)]
    assert DARTS_V2.reduce == [("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
                               ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)]
    assert DARTS_V1.normal == [("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1),
                               ("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 2)]
    assert DARTS_V1.reduce[-1] == ("avg_pool_3x3", 0)
    assert DARTS_V1.normal_concat == DARTS_V1.reduce_concat == DARTS_V2.normal_concat == [2, 3, 4, 5]
    assert DARTS is DARTS_V2
    assert Genotype._fields == ("normal", "normal_concat", "reduce", "reduce_concat")
    assert PRIMITIVES == ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
                          "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")


def test_nasnet_amoeba_enas_values_exact():
    assert NASNet.normal[0] == ("sep_conv_5x5", 1) and NASNet.normal[-1] == ("skip_connect", 1)
    assert NASNet.reduce == [("sep_conv_5x5", 1), ("sep_conv_7x7", 0), ("max_pool_3x3", 1), ("sep_conv_7x7", 0),
                             ("avg_pool_3x3", 1), ("sep_conv_5x5", 0), ("skip_connect", 3), ("avg_pool_3x3", 2),
                             ("sep_conv_3x3", 2), ("max_pool_3x3", 1)]
    assert NASNet.normal_concat == [2, 3, 4, 5, 6] and NASNet.reduce_concat == [4, 5, 6]
    assert AmoebaNet.reduce[8] == ("conv_7x1_1x7", 0) and AmoebaNet.reduce[9] == ("sep_conv_3x3", 5)
    assert AmoebaNet.normal_concat == [4, 5, 6] and AmoebaNet.reduce_concat == [3, 4, 6]
    # ENAS fixed_arc from melodyguan/enas scripts/cifar10_micro_final.sh, decoded by hand
    names = ["sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3", "skip_connect"]
    for arc, cell, concat in (("0 2 0 0 0 4 0 1 0 4 1 1 1 0 0 1 0 2 1 1", ENAS.normal, ENAS.normal_concat),
                              ("1 0 1 0 0 3 0 2 1 1 3 1 1 0 0 4 0 3 1 1", ENAS.reduce, ENAS.reduce_concat)):
        a = [int(x) for x in arc.split()]
        assert cell == [(names[a[i + 1]], a[i]) for i in range(0, 20, 2)]
        used = {a[i] for i in range(0, 20, 2)}
        assert concat == [s for s in range(7) if s not in used]


@pytest.mark.parametrize("g", [DARTS_V1, DARTS_V2, NASNet, AmoebaNet, ENAS])
def test_genotype_round_trip(g):
    normal, reduce = genotype_to_dag(g, "normal"), genotype_to_dag(g, "reduce")
    back = dag_to_genotype(normal, reduce)
    assert back.normal == list(g.normal) and back.reduce == list(g.reduce)
    assert back.normal_concat == list(g.normal_concat) and back.reduce_concat == list(g.reduce_concat)
    assert DAG.from_json(normal.to_json()) == normal


def test_node_form_of_darts_v2_normal():
    cell = genotype_to_dag(DARTS_V2, "normal")
    assert cell.inputs == (0, 1) and cell.outputs == (14,)
    assert len(cell) == 2 + 4 * 3 + 1
    assert [cell.nodes[i].op for i in (2, 3)] == ["sep_conv_3x3", "sep_conv_3x3"]
    assert cell.predecessors(2) == (0,) and cell.predecessors(3) == (1,)
    assert cell.nodes[4] == Node("identity", combine="sum") and cell.predecessors(4) == (2, 3)
    assert cell.nodes[14] == Node("identity", combine="concat")
    assert cell.predecessors(14) == (4, 7, 10, 13)
    # the last state's dil_conv_3x3 reads state 2, which is node 4
    assert cell.nodes[12].op == "dil_conv_3x3" and cell.predecessors(12) == (4,)
    assert all(not n.params for n in cell.nodes)


def test_reduce_cell_strides_only_on_input_ops():
    cell = genotype_to_dag(DARTS_V2, "reduce")
    for i, node in enumerate(cell.nodes):
        if node.op in ("input", "identity"):
            continue
        reads_input = cell.predecessors(i)[0] < 2
        assert dict(node.params) == ({"stride": 2} if reads_input else {})
    assert sum(1 for n in cell.nodes if n.params) == 5


def test_unused_state_or_input_is_refused():
    with pytest.raises(GraphError, match="state 2"):
        genotype_to_dag(Genotype([("skip_connect", 0), ("skip_connect", 1)] * 2, [3], [], [2]), "normal")
    with pytest.raises(GraphError, match="input 0"):
        genotype_to_dag(Genotype([("skip_connect", 1), ("skip_connect", 1)], [2], [], [2]), "normal")
    with pytest.raises(GraphError, match="may read"):
        genotype_to_dag(Genotype([("skip_connect", 2), ("skip_connect", 1)], [2], [], [2]), "normal")
    with pytest.raises(GraphError, match="cell must be"):
        genotype_to_dag(DARTS_V2, "both")


def test_input_in_concat_goes_through_a_skip():
    blocks = [(1, "sep_conv_3x3", 1, "avg_pool_3x3", "sum")]
    cell = blocks_to_cell(blocks, [0, 2], reduce=True)
    skip = [i for i, n in enumerate(cell.nodes) if n.op == "skip_connect"]
    assert len(skip) == 1 and dict(cell.nodes[skip[0]].params) == {"stride": 2}
    assert cell_to_blocks(cell) == (blocks, [0, 2], True)


@pytest.mark.parametrize(("node", "new"), [
    (4, Node("identity", {"foo": 1})),                # a state node with params
    (0, Node("input", {"foo": 1})),                   # an input with params
    (2, Node("sep_conv_3x3", combine="concat")),      # an op node with another combine rule
    (14, Node("identity", {"a": 1}, combine="concat")),  # the output with params
])
def test_cell_to_blocks_refuses_nodes_outside_the_layout(node, new):
    cell = genotype_to_dag(DARTS_V2, "normal")
    nodes = list(cell.nodes)
    nodes[node] = new
    changed = DAG(nodes, cell.edges, inputs=cell.inputs, outputs=cell.outputs)
    with pytest.raises(GraphError, match=f"node {node}: "):
        cell_to_blocks(changed)
