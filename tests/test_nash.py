"""NASH: random morphisms keep the function, children inherit the trained weights of their parent, the best
child becomes the parent, and a seed fixes the search."""

from __future__ import annotations

import random

import torch

from graphnas.benchmarks import get_objective
from graphnas.benchmarks.digits import build_digits_model, digits_network, load_digits_split
from graphnas.generators import NB201Space
from graphnas.search import NASH, get_optimizer, run
from graphnas.search.nash import random_morphism

CELL = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|"


def outputs(dag, state):
    model = build_digits_model(dag)
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        return model(load_digits_split().x_val[:32])


def test_random_morphisms_keep_the_function():
    net = digits_network(NB201Space().from_string(CELL))
    torch.manual_seed(0)
    state = build_digits_model(net).state_dict()
    rng = random.Random(0)
    kinds = set()
    for _ in range(12):
        child, child_state, what = random_morphism(net, state, rng)
        kinds.add(what.split()[0])
        assert (outputs(child, child_state) - outputs(net, state)).abs().max() <= 1e-4, what
    assert kinds == {"deepen", "widen", "add_skip"}


def test_nash_climbs_from_inherited_weights(tmp_path):
    objective = get_objective("digits", max_train=64)
    opt = get_optimizer("nash", NB201Space(), store=str(tmp_path / "w"), children=2, child_epochs=1,
                        root_epochs=1, seed=0)
    assert isinstance(opt, NASH)
    h = run(opt, objective, budget=5)  # the root, then two generations of two children
    fids = [e.fidelity for e in h.evaluations]
    assert "init" not in fids[0] and all("init" in f for f in fids[1:])
    assert opt.generation == 2 and len(opt.trajectory) == 3
    # a child of the first generation starts from the root's trained weights: same function before training
    root, child = h.evaluations[0], h.evaluations[1]
    inherited = torch.load(child.fidelity["init"], weights_only=True)
    trained_root = torch.load(root.fidelity["save"], weights_only=True)
    assert (outputs(child.dag, inherited) - outputs(root.dag, trained_root)).abs().max() <= 1e-4
    # the parent of generation 2 is the better child of generation 1
    gen1 = h.evaluations[1:3]
    best = max(gen1, key=lambda e: e.value)
    assert opt.trajectory[1] == best.value
    again = run(NASH(NB201Space(), store=str(tmp_path / "w2"), children=2, child_epochs=1, root_epochs=1,
                     seed=0), objective, budget=5)
    assert [e.dag.canonical_key() for e in again.evaluations] == [e.dag.canonical_key() for e in h.evaluations]
    assert [e.value for e in again.evaluations] == [e.value for e in h.evaluations]
