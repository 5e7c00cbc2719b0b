"""Cell and chain spaces: samples and mutations stay in the space, sizes, genotypes, registry, seeds."""

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphnas import DAG, GraphError, Node
from graphnas.generators import (
    ChainSpace,
    DARTSSpace,
    ENASSpace,
    NASNetSpace,
    NB101Space,
    NB201Space,
    chain,
    get_generator,
    list_generators,
    register_generator,
)
from graphnas.generators.cells import NASNET_OPS
from graphnas.genotypes import DARTS_V1, DARTS_V2, ENAS, NASNet, genotype_to_dag

SPACES = [NB201Space(), NB101Space(), DARTSSpace(), ENASSpace(), NASNetSpace(), ChainSpace(),
          ChainSpace(keep_chain=False, strides=(1, 2, 3))]
IDS = ["nb201", "nb101", "darts", "enas", "nasnet", "chain", "chain-nasrl"]
seeds = st.integers(0, 2**32 - 1)


def same(space, a, b):
    return a.canonical_key() == b.canonical_key() if isinstance(space, NB101Space) else a == b


@pytest.mark.parametrize("space", SPACES, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(seed=seeds, mseed=seeds)
def test_sample_and_mutate_stay_in_space(space, seed, mseed):
    dag = space.sample(seed)
    assert space.contains(dag) and dag in space
    assert DAG.from_json(dag.to_json()) == dag
    child = space.mutate(dag, mseed)
    assert space.contains(child)
    assert not same(space, dag, child)
    ops = {n.op for n in dag.flatten().nodes} - {"input", "identity"}
    assert ops <= set(space.vocabulary)


@pytest.mark.parametrize("space", SPACES, ids=IDS)
def test_neighbours_are_members_and_distinct(space):
    dag = space.sample(3)
    nbrs = space.neighbours(dag)
    assert nbrs and all(space.contains(x) for x in nbrs)
    assert len(set(nbrs)) == len(nbrs) and dag not in nbrs
    rng = random.Random(0)
    keys = {x.canonical_key() if isinstance(space, NB101Space) else x for x in nbrs}
    for _ in range(10):  # every mutation is one of the neighbours
        child = space.mutate(dag, rng)
        assert (child.canonical_key() if isinstance(space, NB101Space) else child) in keys


@pytest.mark.parametrize("space", SPACES, ids=IDS)
def test_seed_kinds_reproduce(space):
    for make in (lambda: 5, lambda: random.Random(5), lambda: np.random.default_rng(5)):
        assert space.sample(make()) == space.sample(make())
        base = space.sample(1)
        assert space.mutate(base, make()) == space.mutate(base, make())
    assert len({space.sample(s) for s in range(20)}) > 10


@pytest.mark.parametrize("space,other", [(SPACES[i], SPACES[j]) for i in range(6) for j in range(6)
                                         if i != j and (i, j) != (4, 3)])
def test_spaces_reject_each_other(space, other):
    assert not space.contains(other.sample(0))


def test_enas_is_a_subspace_of_nasnet():
    # ENAS' 5 ops are among NASNet's 13, both use B=5, sum is one of NASNet's combines, same loose-ends output
    assert all(NASNetSpace().contains(ENASSpace().sample(s)) for s in range(20))


def test_sizes():
    assert NB201Space().size() == 5**6
    assert NB101Space().size() == 423_624
    # DARTS paper: (prod_{k=1..4} (k+1)k/2 * 7^2)^2
    assert DARTSSpace().size() == (1 * 3 * 6 * 10 * 49**4) ** 2
    enas_cell = 1
    for b in range(5):
        m = (b + 2) * 5
        enas_cell *= m * (m + 1) // 2
    assert ENASSpace().size() == enas_cell**2
    assert len(NASNET_OPS) == len(set(NASNET_OPS)) == 13
    assert ChainSpace(num_layers=3).size() == 64**3 * 2**1
    assert ChainSpace(num_layers=3, keep_chain=False).size() == 64**3 * 2**3


@pytest.mark.parametrize("space", [
    DARTSSpace(ops=("a", "b"), steps=2), ENASSpace(ops=("a", "b"), num_blocks=2),
    NASNetSpace(ops=("a",), num_blocks=2), ChainSpace(num_layers=3, heights=(1, 3), widths=(3,), filters=(24,)),
    ChainSpace(num_layers=3, heights=(3,), widths=(3,), filters=(24, 36), keep_chain=False),
], ids=["darts", "enas", "nasnet", "chain", "chain-nasrl"])
def test_enumerate_small_spaces_matches_size(space):
    members = list(space.enumerate())
    assert len(members) == len(set(members)) == space.size()
    assert all(space.contains(m) for m in members[::7])
    # the space is closed under neighbours: a walk from one member reaches only members
    assert set(space.neighbours(members[0])) <= set(members)


def test_nb201_enumerate_is_complete():
    assert len(set(NB201Space().enumerate())) == 15625


def test_darts_genotypes_and_cell_pair():
    space = DARTSSpace()
    for g in (DARTS_V1, DARTS_V2):
        dag = space.from_genotype(g)
        assert space.contains(dag)
        assert space.to_genotype(dag) == g
        assert dag.nodes[2].op == genotype_to_dag(g, "normal") and dag.nodes[3].op == genotype_to_dag(g, "reduce")
        assert dag.edges == ((0, 2), (1, 2), (1, 3), (2, 3))
        assert len(dag.flatten()) == 2 + 13 + 13
    g = space.sample_genotype(0)
    assert space.to_genotype(space.from_genotype(g)) == g
    assert all(op != "none" for op, _ in g.normal + g.reduce)
    for k in range(0, 8, 2):  # two distinct inputs per state
        assert g.normal[k][1] != g.normal[k + 1][1]
    with pytest.raises(GraphError):
        space.from_genotype(NASNet)  # 5 states, concat not DARTS'


def test_enas_and_nasnet_published_cells_are_members():
    enas = ENASSpace()
    assert enas.contains(enas.from_genotype(ENAS)) and enas.to_genotype(enas.from_genotype(ENAS)) == ENAS
    nasnet = NASNetSpace()
    blocks = [[(p[k][1], p[k][0], p[k + 1][1], p[k + 1][0], "sum") for k in range(0, 10, 2)]
              for p in (NASNet.normal, NASNet.reduce)]
    # the loose-ends rule gives NASNet-A's published concat lists ([2..6] and [4, 5, 6])
    dag = nasnet.from_blocks(*blocks)
    assert nasnet.contains(dag)
    assert dag.nodes[2].op == genotype_to_dag(NASNet, "normal") and dag.nodes[3].op == genotype_to_dag(NASNet, "reduce")


def test_enas_unread_input_reaches_output_through_a_skip():
    space = ENASSpace(num_blocks=1)
    dag = space.from_blocks([(1, "sep_conv_3x3", 1, "avg_pool_3x3", "sum")],
                            [(1, "sep_conv_3x3", 1, "avg_pool_3x3", "sum")])
    reduce = dag.nodes[3].op
    skips = [n for n in reduce.nodes if n.op == "skip_connect"]
    assert skips == [Node("skip_connect", {"stride": 2})]
    assert space.contains(dag)


def test_nasnet_concat_blocks():
    space = NASNetSpace()
    dags = [space.sample(s) for s in range(30)]
    combines = {n.combine for d in dags for n in d.nodes[2].op.nodes if n.op == "identity"}
    assert combines == {"sum", "concat"}


def test_nb101_spec_round_trip_and_pruning():
    space = NB101Space()
    m = np.zeros((7, 7), int)
    m[0, 1] = m[1, 6] = m[0, 2] = m[2, 3] = 1  # vertex 2 -> 3 is a dead end; 4, 5 isolated
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "maxpool3x3", "maxpool3x3", "output"]
    dag = space.from_spec(m, ops)
    assert len(dag) == 3 and dag.num_edges == 2
    assert dag.ops == ("input", "conv3x3-bn-relu", "identity")
    mm, oo = space.to_spec(dag)
    assert oo == ["input", "conv3x3-bn-relu", "output"] and mm.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    full = np.triu(np.ones((7, 7), int), 1)
    with pytest.raises(GraphError, match="edges"):
        space.from_spec(full, ops)
    with pytest.raises(GraphError):
        space.from_spec(np.zeros((3, 3), int), ["input", "maxpool3x3", "output"])


def test_nb101_samples_respect_limits_and_vary():
    space = NB101Space()
    dags = [space.sample(s) for s in range(100)]
    assert all(len(d) <= 7 and d.num_edges <= 9 for d in dags)
    assert len({d.canonical_key() for d in dags}) > 60
    assert max(len(d) for d in dags) >= 6


@given(st.integers(2, 7), st.floats(0.0, 1.0), seeds, st.sampled_from([(7, 9), (5, 4)]))
@settings(max_examples=200, deadline=None)
def test_nb101_fast_cell_builder_agrees_with_from_spec(n, p, seed, limits):
    # sample and mutate build their cells without from_spec's input checks; the cell (or the refusal) must be
    # exactly what from_spec gives for the same matrix and ops
    space = NB101Space(max_vertices=limits[0], max_edges=limits[1])
    rng = random.Random(seed)
    m = [[int(j > i and rng.random() < p) for j in range(n)] for i in range(n)]
    ops = [rng.choice(space.vocabulary) for _ in range(n - 2)]
    try:
        want = space.from_spec(m, ops)
    except GraphError:
        want = None
    got = space._try(m, ops)
    assert (got is None) == (want is None)
    if want is not None:
        assert got.nodes == want.nodes and got.edges == want.edges and got.inputs == want.inputs
        assert got.outputs == want.outputs


def test_nb101_mutation_can_grow():
    space = NB101Space()
    small = space.from_spec([[0, 1], [0, 0]], ["input", "output"])
    sizes = {len(n) for n in space.neighbours(small)}
    assert 3 in sizes


def test_chain_layers_and_params():
    space = ChainSpace(num_layers=4)
    dag = space.sample(2)
    for i in range(1, 5):
        node = dag.nodes[i]
        assert node.op == "chain_conv" and node.combine == "concat"
        assert set(node.params) == {"kernel", "filters", "stride"}
        assert node.params["kernel"][0] in (1, 3, 5, 7) and node.params["filters"] in (24, 36, 48, 64)
        if i > 1:
            assert i - 1 in dag.predecessors(i)
    assert dag.predecessors(1) == (0,)
    assert dag.nodes[5] == Node("identity", combine="concat") and dag.predecessors(5) == (4,)
    layers = space.to_layers(dag)
    assert space.from_layers(layers) == dag


def test_chain_nasrl_mode_falls_back_to_the_image():
    space = ChainSpace(num_layers=3, keep_chain=False)
    dag = space.from_layers([(3, 3, 24, 1, ()), (3, 3, 24, 1, ()), (3, 3, 24, 1, (1,))])
    assert dag.predecessors(2) == (0,) and dag.predecessors(3) == (1,)
    assert dag.predecessors(4) == (2, 3)
    assert space.contains(dag) and not ChainSpace(num_layers=3).contains(dag)


def test_chain_helper():
    dag = chain(["nor_conv_3x3", Node("avg_pool_3x3", {"stride": 2}), NB201Space().sample(0)])
    assert dag.edges == ((0, 1), (1, 2), (2, 3)) and dag.outputs == (3,)
    with pytest.raises(GraphError):
        chain([])
    with pytest.raises(GraphError, match="one input"):
        chain([DARTSSpace().sample(0)])


def test_registry():
    names = list_generators()
    assert set(names) >= {"er", "ba", "ws", "nb201", "nb101", "darts", "enas", "nasnet", "chain"}
    assert isinstance(get_generator("darts"), DARTSSpace)
    assert get_generator("chain", num_layers=3).num_layers == 3
    ws = get_generator("ws", n=16, k=4, p=0.5)
    assert ws.sample(1) == ws.sample(1) and len(ws.sample(1)) == 18
    with pytest.raises(KeyError, match="known"):
        get_generator("nope")


@pytest.fixture()
def scratch_generator():
    """A name for a test generator, unregistered after the test so no other test sees it."""
    name = "test_line"
    assert name not in list_generators()
    yield name
    from graphnas.generators import GENERATORS

    if name in GENERATORS:
        GENERATORS.remove(name)
    assert name not in list_generators()


def test_register_a_new_generator_in_one_function(scratch_generator):
    @register_generator(scratch_generator)
    def line(n: int, seed=None) -> DAG:
        rng = random.Random(seed)
        return chain([rng.choice(["a", "b"]) for _ in range(n)])

    assert scratch_generator in list_generators()
    assert len(get_generator(scratch_generator, n=3).sample(0)) == 4
    with pytest.raises(ValueError, match="already"):
        register_generator(scratch_generator)(lambda seed=None: None)


def test_bad_members_are_refused():
    dag = DARTSSpace().sample(0)
    normal = dag.nodes[2].op
    broken = normal.with_node(2, Node("none"))
    assert not DARTSSpace().contains(dag.with_node(2, broken))
    assert not DARTSSpace(steps=3).contains(dag)
    assert not ENASSpace().contains(dag)


def test_pairs_in_any_order_are_members():
    space = DARTSSpace()
    g = DARTS_V2
    swapped = g._replace(normal=list(itertools.chain(*[(g.normal[k + 1], g.normal[k]) for k in range(0, 8, 2)])))
    assert space.contains(space.from_genotype(swapped))


@pytest.mark.parametrize(("normal", "message"), [
    ([("sep_conv_3x3",)] * 8, "normal cell, pair 0: expected \\(op, input_index\\)"),
    ([("sep_conv_3x3", 0)] * 7, "normal cell: 7 \\(op, input\\) pairs"),
    ([("sep_conv_3x3", "0")] * 8, "normal cell, pair 0 \\('sep_conv_3x3', '0'\\)"),
])
def test_from_genotype_refuses_malformed_pairs(normal, message):
    bad = DARTS_V2._replace(normal=normal)
    with pytest.raises(GraphError, match=message):
        DARTSSpace().from_genotype(bad)


@pytest.mark.parametrize(("space", "genotype", "message"), [
    (DARTSSpace(), DARTS_V2._replace(normal=[("bogus_op", 0)] + DARTS_V2.normal[1:]),
     "normal cell, block 0: op 'bogus_op' is not one of"),
    (DARTSSpace(), DARTS_V2._replace(normal=[("none", 0)] + DARTS_V2.normal[1:]), "op 'none' is not one of"),
    (DARTSSpace(), DARTS_V2._replace(reduce=[("max_pool_3x3", 1)] * 2 + DARTS_V2.reduce[2:]),
     "reduce cell, block 0: both pairs read state 1; this space needs two inputs"),
    (DARTSSpace(), NASNet, "normal cell: 5 blocks, this space has 4"),
    (ENASSpace(), ENAS._replace(normal=[("bogus_op", 0)] + ENAS.normal[1:]), "op 'bogus_op' is not one of"),
])
def test_from_genotype_refuses_what_is_not_a_member(space, genotype, message):
    """A genotype outside the space is refused where it comes in, not later in contains, encode or compiling."""
    with pytest.raises(GraphError, match=message):
        space.from_genotype(genotype)


def test_from_blocks_refuses_blocks_of_another_space():
    good = [(0, "skip_connect", 1, "sep_conv_3x3", "sum")] * 4
    assert DARTSSpace().contains(DARTSSpace().from_blocks(good, good))
    with pytest.raises(GraphError, match="reduce cell, block 2: op 'conv_3x3' is not one of"):
        DARTSSpace().from_blocks(good, good[:2] + [(0, "conv_3x3", 1, "skip_connect", "sum")] + good[3:])
    with pytest.raises(GraphError, match="normal cell: 3 blocks, this space has 4"):
        DARTSSpace().from_blocks(good[:3], good)
