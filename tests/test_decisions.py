"""Every space as a sequence of decisions: round trips, bad sequences, dependent options."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphnas import GraphError
from graphnas.generators import ChainSpace, DARTSSpace, ENASSpace, NASNetSpace, NB101Space, NB201Space
from graphnas.generators.decisions import walk

SPACES = [NB201Space(), NB101Space(), DARTSSpace(), ENASSpace(), NASNetSpace(), ChainSpace(),
          ChainSpace(num_layers=4, keep_chain=False, strides=(1, 2))]
IDS = ["nb201", "nb101", "darts", "enas", "nasnet", "chain", "chain-free"]


@pytest.mark.parametrize("space", SPACES, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(-2**40, 2**40))
def test_decode_encode_round_trip(space, seed):
    dag = space.sample(seed)
    choices = space.encode(dag)
    assert all(isinstance(c, int) for c in choices)
    assert space.decode(choices) == dag
    assert len(walk(space, choices)) == len(choices)


@pytest.mark.parametrize("space", SPACES, ids=IDS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_sequences_decode_to_members_or_name_the_decision(space, data):
    """Draw each choice from anything in range (allowed or not): the result is a member, or a GraphError
    that names the decision and the rule; never a silently repaired cell."""
    prefix: list[int] = []
    while (d := space.decisions(prefix)) is not None:
        prefix.append(data.draw(st.integers(0, d.size - 1)))
    try:
        dag = space.decode(prefix)
    except GraphError as err:
        k = next(i for i in range(len(prefix)) if (dd := space.decisions(prefix[:i])).allowed is not None
                 and not dd.allowed[prefix[i]])
        assert f"decision {k} ({space.decisions(prefix[:k]).name})" in str(err)
        assert "rule" in str(err)
        return
    space.check(dag)
    assert space.encode(dag) == prefix or type(space).__name__ in ("ENASSpace", "NASNetSpace")
    assert space.decode(space.encode(dag)) == dag


@pytest.mark.parametrize("space", SPACES, ids=IDS)
def test_wrong_length_and_out_of_range_name_the_decision(space):
    choices = space.encode(space.sample(0))
    first = space.decisions([])
    with pytest.raises(GraphError, match=r"too short.*decision \d+ \("):
        space.decode(choices[:-1])
    with pytest.raises(GraphError, match="too long"):
        space.decode(choices + [0])
    bad = list(choices)
    bad[0] = first.size
    with pytest.raises(GraphError, match=rf"decision 0 \({first.name}\): choice {first.size} is out of range"):
        space.decode(bad)
    bad[0] = "1"
    with pytest.raises(GraphError, match="decision 0 .*must be an int"):
        space.decode(bad)


def test_darts_inputs_depend_on_the_block_index():
    space = DARTSSpace()
    sizes = [len(space.decisions([0] * k).options) for k in (0, 3, 6, 9)]
    assert sizes == [1, 3, 6, 10]  # C(b + 2, 2) pairs of distinct earlier states
    assert space.decisions([0] * 3).options == ((0, 1), (0, 2), (1, 2))


def test_nb101_edge_limit_is_a_decision_rule():
    space = NB101Space()
    # 7 vertices, each interior vertex reading every earlier one: the third in-edge set breaks the limit
    choices = [5, 0, 0, 0, 2, 0, 6, 0]
    d = space.decisions(choices)
    assert d.name == "vertex 4 inputs" and not d.allowed[14]  # {0, 1, 2, 3}: 10 edges
    with pytest.raises(GraphError, match=r"decision 8 \(vertex 4 inputs\).*at most 9 edges"):
        space.decode(choices + [14, 0, 30, 62])


def test_nb101_allowed_sequences_are_never_pruned():
    """Every in-edge option that is allowed keeps the cell completable, so the greedy first allowed option works."""
    space = NB101Space()
    for n in range(2, 8):
        prefix = [n - 2]
        while (d := space.decisions(prefix)) is not None:
            prefix.append(d.allowed.index(True) if d.allowed else 0)
        dag = space.decode(prefix)
        assert len(dag) == n


def test_chain_anchor_points_are_subsets_of_earlier_layers():
    space = ChainSpace(num_layers=4, keep_chain=False)
    d = space.decisions([0] * 14)
    assert d.kind == "subset" and d.options == (1, 2) and d.item == 3 and d.size == 4
    dag = space.decode([0] * 14 + [3] + [0] * 5)
    assert set(dag.predecessors(3)) == {1, 2}
