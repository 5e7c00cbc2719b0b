"""Edge-labelled cells (DARTS, NAS-Bench-201) in graphnas' node form."""

from __future__ import annotations

import pytest

from graphnas import DAG, GraphError, from_edge_ops

NB201_EDGES = [(0, 1, "nor_conv_3x3"), (0, 2, "nor_conv_1x1"), (1, 2, "skip_connect"),
               (0, 3, "avg_pool_3x3"), (1, 3, "none"), (2, 3, "nor_conv_3x3")]


def test_every_labelled_edge_becomes_a_node():
    cell = from_edge_ops(NB201_EDGES, drop_none=False)
    assert cell.ops == ("input", "nor_conv_3x3", "identity", "nor_conv_1x1", "skip_connect", "identity",
                        "avg_pool_3x3", "none", "nor_conv_3x3", "identity")
    assert len(cell) == 4 + 6 and cell.num_edges == 12
    assert cell.inputs == (0,) and cell.outputs == (9,)
    # state 2 sums its two edge nodes
    assert cell.predecessors(5) == (3, 4) and cell.nodes[5].combine == "sum"


def test_none_edges_vanish_by_default():
    cell = from_edge_ops(NB201_EDGES)
    assert "none" not in cell.ops
    assert len(cell) == 9 and cell.num_edges == 10


def test_states_fed_only_by_none_are_removed_with_what_they_feed():
    edges = [(0, 1, "none"), (0, 2, "nor_conv_3x3"), (1, 2, "nor_conv_1x1")]
    cell = from_edge_ops(edges)
    assert cell.ops == ("input", "nor_conv_3x3", "identity")


def test_a_cell_that_computes_zero_is_refused():
    with pytest.raises(GraphError, match="output state 2 receives only 'none' edges"):
        from_edge_ops([(0, 1, "nor_conv_3x3"), (0, 2, "none"), (1, 2, "none")])
    kept = from_edge_ops([(0, 1, "nor_conv_3x3"), (0, 2, "none"), (1, 2, "none")], drop_none=False)
    assert kept.ops.count("none") == 2


def test_darts_style_cell_with_two_inputs_and_concat_output():
    # DARTS: states 0, 1 are c_{k-2}, c_{k-1}; each intermediate state has 2 inputs.
    edges = [(0, 2, "sep_conv_3x3"), (1, 2, "sep_conv_3x3"), (0, 3, "skip_connect"), (2, 3, "dil_conv_3x3")]
    cell = from_edge_ops(edges, n_inputs=2, output_combine="concat")
    assert cell.inputs == (0, 1)
    assert cell.nodes[cell.outputs[0]].combine == "concat"
    assert isinstance(cell, DAG)


def test_params_travel_with_the_edge():
    cell = from_edge_ops([(0, 1, "sep_conv_3x3", {"stride": 2})])
    assert cell.nodes[1].params == {"stride": 2}


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        ([(1, 0, "a")], "must go from a lower to a higher state"),
        ([(0, 1)], "expected \\(src, dst, op\\)"),
        ([(0, 1, "")], "op must be a non-empty string"),
        ([], "at least one edge"),
        ([(0, 1, "a"), (2, 3, "b")], "state 2 has no incoming edge|starts at state 2"),
    ],
)
def test_bad_edge_lists(edges, message):
    with pytest.raises(GraphError, match=message):
        from_edge_ops(edges, drop_none=False)
