"""from_edge_ops: malformed edge lists are refused in both modes, not silently pruned."""

import pytest

from graphnas import GraphError, from_edge_ops


@pytest.mark.parametrize("drop_none", [True, False])
def test_a_state_without_incoming_edges_is_refused(drop_none):
    # state 1 has no edge into it: its outgoing edge must not vanish silently under drop_none=True
    with pytest.raises(GraphError, match="state 1 has no incoming edge"):
        from_edge_ops([(0, 2, "nor_conv_3x3"), (1, 2, "nor_conv_3x3")], drop_none=drop_none)


def test_a_state_fed_only_by_none_is_still_dropped():
    cell = from_edge_ops([(0, 1, "none"), (0, 2, "nor_conv_3x3"), (1, 2, "nor_conv_3x3")])
    assert [n.op for n in cell.nodes] == ["input", "nor_conv_3x3", "identity"]
