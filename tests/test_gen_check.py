"""Every space says why a graph is not one of its members (check) and answers yes/no (contains)."""

from __future__ import annotations

import pytest

from graphnas import DAG, GraphError
from graphnas.generators import ChainSpace, DARTSSpace, ENASSpace, NASNetSpace, NB101Space, NB201Space, RandWireSpace

SPACES = [NB201Space(), NB101Space(), DARTSSpace(), ENASSpace(), NASNetSpace(), ChainSpace(), RandWireSpace()]
FOREIGN = DAG(["input", "not_an_op_of_any_space", "identity"], [(0, 1), (1, 2)])


@pytest.mark.parametrize("space", SPACES, ids=lambda s: type(s).__name__)
def test_check_and_contains_agree(space):
    member = space.sample(seed=0)
    space.check(member)
    assert space.contains(member) and member in space
    with pytest.raises(GraphError):
        space.check(FOREIGN)
    assert not space.contains(FOREIGN) and FOREIGN not in space
