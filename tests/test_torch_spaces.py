"""Every search space's samples compile to a working PyTorch module."""

from __future__ import annotations

import pytest
import torch

import graphnas
from graphnas.generators import ChainSpace, DARTSSpace, ENASSpace, NASNetSpace, NB101Space, NB201Space
from graphnas.ops import list_ops


@pytest.mark.parametrize("space", [DARTSSpace(), ENASSpace(), NASNetSpace()], ids=lambda s: type(s).__name__)
def test_two_input_cell_spaces_compile(space):
    assert set(space.vocabulary) <= set(list_ops()) | {"input", "identity"}
    for seed in range(2):
        dag = space.sample(seed=seed)
        model = graphnas.to_torch(dag, in_channels=[8, 8])
        out = model(torch.randn(2, 8, 16, 16), torch.randn(2, 8, 16, 16))
        assert out.shape[0] == 2 and out.shape[-1] == 8  # the reduction cell halves the resolution


@pytest.mark.parametrize("space", [NB201Space(), NB101Space(), ChainSpace()], ids=lambda s: type(s).__name__)
def test_one_input_spaces_compile(space):
    for seed in range(2):
        dag = space.sample(seed=seed)
        model = graphnas.to_torch(dag, in_channels=8)
        out = model(torch.randn(2, 8, 8, 8))
        assert out.shape[0] == 2 and torch.isfinite(out).all()
