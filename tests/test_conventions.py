"""Package conventions: one rule for every ``seed=`` (int incl. negative, random.Random, numpy Generator),
and lazy subpackages that keep ``import graphnas`` free of torch."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

from graphnas.generators import (
    ChainSpace,
    DARTSSpace,
    ENASSpace,
    NASNetSpace,
    NB101Space,
    NB201Space,
    RandWireSpace,
    as_numpy,
    as_random,
    seed_int,
)
from graphnas.generators.random_graphs import barabasi_albert, erdos_renyi, watts_strogatz
from graphnas.search import RandomSearch, RegularizedEvolution

# Each factory makes a fresh seed of one kind, so two calls must give the same stream.
SEED_KINDS = {
    "int": lambda: 3,
    "negative-int": lambda: -3,
    "Random": lambda: random.Random(-3),
    "Generator": lambda: np.random.default_rng(3),
}


def test_seed_int_rule():
    assert seed_int(5) == 5 and seed_int(-1) == 2**64 - 1 and seed_int(2**64 + 7) == 7
    assert seed_int(random.Random(1)) == random.Random(1).getrandbits(64)
    assert seed_int(np.random.default_rng(1)) == seed_int(np.random.default_rng(1))
    # a negative int is its own seed, not an alias of the positive one (random.Random(-5) == Random(5))
    assert as_random(-5).random() != as_random(5).random()
    assert as_random(-5).random() == as_random(-5).random() == as_random(2**64 - 5).random()
    assert as_numpy(-5).random() == as_numpy(-5).random() == as_numpy(2**64 - 5).random()
    r = random.Random(0)
    assert as_random(r) is r
    g = np.random.default_rng(0)
    assert as_numpy(g) is g
    # numpy integers (a seed taken from an array or np.arange) are the int they hold
    assert seed_int(np.int64(-1)) == 2**64 - 1 and seed_int(np.arange(3)[2]) == 2 and seed_int(np.uint8(7)) == 7
    assert as_random(np.int64(5)).random() == as_random(5).random()
    for bad in (True, np.bool_(True), 1.5, np.float64(2.0), "3"):
        with pytest.raises(TypeError, match="seed must be"):
            seed_int(bad)  # type: ignore[arg-type]


def test_as_torch_matches_manual_seed_and_leaves_global_alone():
    torch = pytest.importorskip("torch")
    from graphnas.generators import as_torch

    state = torch.get_rng_state()
    assert torch.equal(torch.rand(3, generator=as_torch(-2)),
                       torch.rand(3, generator=torch.Generator().manual_seed(2**64 - 2)))
    assert torch.equal(torch.rand(3, generator=as_torch(random.Random(4))),
                       torch.rand(3, generator=as_torch(random.Random(4))))
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("kind", SEED_KINDS)
def test_random_graphs_take_every_seed_kind(kind):
    make = SEED_KINDS[kind]
    for gen in (lambda s: erdos_renyi(16, 0.3, seed=s), lambda s: barabasi_albert(16, 3, seed=s),
                lambda s: watts_strogatz(16, 4, 0.5, seed=s)):
        assert gen(make()) == gen(make())


@pytest.mark.parametrize("kind", SEED_KINDS)
@pytest.mark.parametrize("space", [NB201Space(), NB101Space(), DARTSSpace(), ENASSpace(), NASNetSpace(),
                                   ChainSpace(), RandWireSpace(n=8)], ids=lambda s: type(s).__name__)
def test_spaces_take_every_seed_kind(space, kind):
    make = SEED_KINDS[kind]
    a, b = space.sample(make()), space.sample(make())
    assert a == b
    assert space.mutate(a, make()) == space.mutate(b, make())


@pytest.mark.parametrize("kind", SEED_KINDS)
@pytest.mark.parametrize("make_opt", [lambda s: RandomSearch(NB201Space(), seed=s),
                                      lambda s: RegularizedEvolution(NB201Space(), population=4, sample_size=2,
                                                                     seed=s)], ids=["random", "evolution"])
def test_optimizers_take_every_seed_kind(make_opt, kind):
    def trajectory(seed):
        opt = make_opt(seed)
        out = []
        for i in range(8):
            (dag,) = opt.ask(1)
            opt.tell(dag, float(len(dag.edges) + i % 3))
            out.append(dag)
        return out

    make = SEED_KINDS[kind]
    assert trajectory(make()) == trajectory(make())


def test_negative_seeds_differ_from_positive_ones():
    space = NB201Space()
    assert [space.sample(-s) for s in range(1, 6)] != [space.sample(s) for s in range(1, 6)]


def test_subpackages_are_lazy_attributes():
    code = ("import sys, graphnas\n"
            "space = graphnas.generators.NB201Space()\n"
            "graphnas.search.RandomSearch(space, seed=0)\n"
            "graphnas.benchmarks\n"
            "print('torch' in sys.modules)\n"
            "print(graphnas.surrogate.GNNSurrogate.__name__, graphnas.models.__name__)\n"
            "print('torch' in sys.modules)\n"
            "print(sorted({'benchmarks', 'generators', 'models', 'search', 'surrogate'} - set(dir(graphnas))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "False"  # generators, search and benchmarks do not import torch
    assert out[1] == "GNNSurrogate graphnas.models" and out[2] == "True"
    assert out[3] == "[]"


def test_counts_and_sizes_take_numpy_integers_and_refuse_bools():
    """Every count, size and budget is checked by one rule (`graphnas._checks.is_integer`): a numpy integer
    taken from an array is the int it holds, everywhere, and a bool or a float is refused by name."""
    from graphnas._checks import is_integer
    from graphnas.generators import NB201Space
    from graphnas.search import BayesianOptimization, SuccessiveHalving
    from graphnas.search.multifidelity import ModelBasedHyperband

    assert is_integer(np.int64(3), 1) and is_integer(np.uint8(0), 0) and is_integer(7)
    assert not is_integer(True) and not is_integer(np.bool_(True)) and not is_integer(2.0) and not is_integer(0, 1)
    space = NB201Space()
    assert BayesianOptimization(space, initial=np.int64(5), top_k=np.arange(4)[3]).top_k == 3
    assert SuccessiveHalving(space, n_initial=np.int64(4)).n_initial == 4
    mb = ModelBasedHyperband(space, min_points=np.int64(3), batch=np.int64(2))
    assert mb.min_points == [3, 3] and mb.batch == 2 and type(mb.batch) is int
    for make, says in ((lambda: BayesianOptimization(space, initial=True), "initial must be an integer >= 0"),
                       (lambda: SuccessiveHalving(space, n_initial=2.0), "n_initial must be an integer >= 1"),
                       (lambda: ModelBasedHyperband(space, batch=np.bool_(True)), "batch must be an integer >= 1")):
        with pytest.raises(ValueError, match=says):
            make()


def test_loading_digits_leaves_the_global_random_and_warning_filters_alone():
    """scikit-learn's first import seeds Python's global random and adds warning filters; graphnas imports it
    lazily and must not pass either on to the caller (a fresh process: the import happens once)."""
    code = ("import random, warnings, torch, torch_geometric\n"
            "state, filters = random.getstate(), list(warnings.filters)\n"
            "import graphnas.surrogate\n"
            "from graphnas.benchmarks.digits import load_digits_split\n"
            "from graphnas.curves import CurvePredictor\n"
            "load_digits_split()\n"
            "CurvePredictor()._candidates(3)\n"
            "print(random.getstate() == state, warnings.filters == filters)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]


def test_spaces_and_graph_functions_take_numpy_integers_and_refuse_bools():
    from graphnas.generators import ChainSpace, NB101Space, RandWireSpace, get_generator

    assert RandWireSpace(n=np.int64(8)).n == 8 and ChainSpace(num_layers=np.int64(3)).num_layers == 3
    assert NB101Space(max_vertices=np.int64(5), max_edges=np.int64(6)).sample(0) is not None
    for name, kw in (("ws", dict(n=np.int64(10), k=np.int64(4), p=0.5)), ("ba", dict(n=np.int64(10), m=np.int64(2))),
                     ("er", dict(n=np.int64(10), p=0.3))):
        assert get_generator(name, **kw).sample(0) is not None
    for make in (lambda: ChainSpace(num_layers=True), lambda: ChainSpace(filters=(True, 24)),
                 lambda: RandWireSpace(n=True)):
        with pytest.raises(ValueError):
            make()


def test_cell_spaces_store_numpy_sizes_as_ints():
    """A numpy num_blocks made size() overflow in int64 arithmetic (DARTSSpace(steps=np.int64(5)))."""
    from graphnas.generators import DARTSSpace, NB101Space

    assert DARTSSpace(steps=np.int64(5)).size() == DARTSSpace(steps=5).size() == 581685621309591487290000
    space = NB101Space(max_vertices=np.int64(7), max_edges=np.int64(9))
    assert type(space.max_vertices) is int and type(space.max_edges) is int
