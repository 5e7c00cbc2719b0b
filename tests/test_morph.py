"""Network morphisms keep the function: hypothesis over every generator and the published cells."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphnas import DAG, GraphError, Node, to_torch
from graphnas import generators as gen
from graphnas._torch_rng import local_generator
from graphnas.genotypes import genotype_to_dag, get_genotype, list_genotypes
from graphnas.morph import add_skip, deepen, output_difference, trained_like_state, widen

C_IN = 4  # even: DARTS' FactorizedReduce needs it


def _space(name: str):
    return lambda seed: gen.get_generator(name).sample(seed=seed)


GENERATORS = {
    "er": lambda seed: gen.erdos_renyi(6, 0.4, seed=seed),
    "ba": lambda seed: gen.barabasi_albert(6, 2, seed=seed),
    "ws": lambda seed: gen.watts_strogatz(6, 2, 0.5, seed=seed),
    **{name: _space(name) for name in ("nb201", "darts", "nasnet", "enas", "nb101", "chain")},
    **{f"{g}/{cell}": (lambda seed, g=g, cell=cell: genotype_to_dag(get_genotype(g), cell))
       for g in list_genotypes() for cell in ("normal", "reduce")},
}


def trained_state(dag: DAG, seed: int) -> dict[str, torch.Tensor]:
    """Random weights and BatchNorm statistics far from their defaults, as after training."""
    return trained_like_state(dag, seed, C_IN)


def assert_same_function(parent, pstate, child, cstate):
    assert output_difference(parent, pstate, child, cstate, in_channels=C_IN, seed=1) <= 1e-5


def paths(dag: DAG, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    out = []
    for i, node in enumerate(dag.nodes):
        out.append((*prefix, i))
        if isinstance(node.op, DAG):
            out += paths(node.op, (*prefix, i))
    return out


def level(dag: DAG, path: tuple[int, ...]) -> DAG:
    for step in path[:-1]:
        dag = dag.nodes[step].op
    return dag


@st.composite
def graphs(draw):
    name = draw(st.sampled_from(sorted(GENERATORS)))
    return name, GENERATORS[name](draw(st.integers(0, 10_000)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.data())
def test_deepen_keeps_the_function(named, data):
    _, dag = named
    state = trained_state(dag, 0)
    path = data.draw(st.sampled_from(paths(dag)))
    child, cstate = deepen(dag, state, path, in_channels=C_IN)
    inner = level(child, path)
    assert inner.nodes[path[-1] + 1].op == "conv_bn" and len(inner) == len(level(dag, path)) + 1
    assert_same_function(dag, state, child, cstate)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.data())
def test_add_skip_keeps_the_function_or_says_why(named, data):
    _, dag = named
    state = trained_state(dag, 1)
    src = data.draw(st.sampled_from(paths(dag)))
    g = level(dag, src)
    later = [d for d in range(src[-1] + 1, len(g)) if src[-1] not in g.predecessors(d)]
    if not later:
        return
    dst = data.draw(st.sampled_from(later))
    try:
        child, cstate = add_skip(dag, state, src, dst, seed=data.draw(st.integers(-5, 5)), in_channels=C_IN)
    except GraphError as err:  # a refusal names the edge and a reason
        assert f"{src[-1]} -> {dst}" in str(err)
        node = g.nodes[dst]
        assert (node.combine in ("mean", "concat") or dst in g.inputs or "stride" in str(err)
                or "weighted_sum" in str(err) or "ports" in str(err) or "vector" in str(err))
        return
    inner = level(child, src)
    assert (src[-1], dst) in inner.edges and (dst, dst + 1) in inner.edges
    assert_same_function(dag, state, child, cstate)


def test_add_skip_succeeds_on_sum_nodes_of_every_cell_space():
    for name in ("nb201", "darts", "DARTS_V2/normal"):
        dag = GENERATORS[name](3)
        done = 0
        for src in paths(dag):
            g = level(dag, src)
            for dst in range(src[-1] + 1, len(g)):
                node = g.nodes[dst]
                if (src[-1] in g.predecessors(dst) or node.combine != "sum" or dst in g.inputs
                        or (isinstance(node.op, DAG) and len(node.op.inputs) > 1)):
                    continue
                state = trained_state(dag, 2)
                try:
                    child, cstate = add_skip(dag, state, src, dst, in_channels=C_IN)
                except GraphError as err:
                    assert "stride" in str(err)
                    continue
                assert_same_function(dag, state, child, cstate)
                done += 1
                break
            if done:
                break
        assert done >= 1, name


def widenable(dag: DAG) -> list[tuple[int, ...]]:
    from graphnas.morph import WIDEN_OPS
    out = []
    for p in paths(dag):
        g, i = level(dag, p), p[-1]
        if g.nodes[i].op in WIDEN_OPS and i not in g.outputs and all(
                g.nodes[d].op in WIDEN_OPS and (len(g.predecessors(d)) == 1 or g.nodes[d].combine == "concat")
                for d in g.successors(i)):
            out.append(p)
    return out


@st.composite
def conv_chains(draw):
    """Chains and small DAGs of widenable convs, with concat and single-input nodes."""
    n = draw(st.integers(3, 7))
    ops = ["conv_3x3", "nor_conv_1x1", "conv_bn", "conv3x3-bn-relu", "relu_conv_bn", "nasnet_dil_conv_3x3"]
    nodes, edges = [Node("input")], []
    for j in range(1, n):
        preds = draw(st.sets(st.integers(max(0, j - 3), j - 1), min_size=1, max_size=2))
        edges += [(p, j) for p in sorted(preds)]
        params = {"C": draw(st.sampled_from([2, 3, 5]))} if draw(st.booleans()) else {}
        nodes.append(Node(draw(st.sampled_from(ops)), params, "concat"))
    return DAG(nodes, edges)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(conv_chains(), st.builds(lambda s: GENERATORS["chain"](s), st.integers(0, 999)),
                 st.builds(lambda s: GENERATORS["nb101"](s), st.integers(0, 999))), st.data())
def test_widen_keeps_the_function(dag, data):
    cands = widenable(dag)
    if not cands:
        return
    path = data.draw(st.sampled_from(cands))
    state = trained_state(dag, 3)
    g = level(dag, path)
    with local_generator(torch.Generator().manual_seed(0)):
        C = to_torch(dag, C_IN).graphnas_shapes[path[0]].C if len(path) == 1 else None
    extra = data.draw(st.integers(1, 6))
    child, cstate = widen(dag, state, path, width=(C or 1) + extra if C else None,
                          factor=None if C else 2.0, seed=data.draw(st.integers(-3, 3)), in_channels=C_IN)
    if C:
        with local_generator(torch.Generator().manual_seed(0)):
            assert to_torch(child, C_IN).graphnas_shapes[path[0]].C == C + extra
    assert len(level(child, path)) == len(g)
    assert_same_function(dag, state, child, cstate)


def test_widen_doubles_a_chain_layer_and_the_copies_are_seeded():
    dag = DAG([Node("input"), Node("conv_3x3", {"C": 4}), Node("conv_3x3", {"C": 6}), Node("global_avg_pool")],
              [(0, 1), (1, 2), (2, 3)])
    state = trained_state(dag, 0)
    a = widen(dag, state, 1, factor=2.0, seed=7, in_channels=C_IN)
    b = widen(dag, state, 1, factor=2.0, seed=7, in_channels=C_IN)
    assert a[0].nodes[1].params["C"] == 8 and a[0].nodes[2].params["C"] == 6
    assert all(torch.equal(a[1][k], b[1][k]) for k in a[1])
    assert_same_function(dag, state, *a)


def test_morphisms_refuse_what_would_change_the_function():
    dag = DAG([Node("input"), Node("nor_conv_3x3", {"C": 4}), Node("avg_pool_3x3"), Node("identity", combine="mean"),
               Node("global_avg_pool")], [(0, 1), (1, 2), (1, 3), (2, 3), (3, 4)])
    state = trained_state(dag, 0)
    with pytest.raises(GraphError, match="no identity initialisation"):
        deepen(dag, state, 1, op="sep_conv_3x3", in_channels=C_IN)
    with pytest.raises(GraphError, match="non-negative"):
        deepen(dag, state, 1, op="nor_conv_3x3", in_channels=C_IN)
    with pytest.raises(GraphError, match="averages"):
        add_skip(dag, state, 0, 3, in_channels=C_IN)
    with pytest.raises(GraphError, match=r"dst is a node index .* not a path \(pass dst=3\)"):
        add_skip(dag, state, (0,), (3,), in_channels=C_IN)  # before: "dst (3,) is not a node"
    with pytest.raises(GraphError, match="avg_pool_3x3.*cannot absorb"):
        widen(dag, state, 1, width=8, in_channels=C_IN)
    with pytest.raises(GraphError, match="only ops ending in conv"):
        widen(dag, state, 2, width=8, in_channels=C_IN)
    # after a ReLU-ending op a ReLU-first identity is allowed
    relu = DAG([Node("input"), Node("conv3x3-bn-relu", {"C": 4}), Node("global_avg_pool")], [(0, 1), (1, 2)])
    rstate = trained_state(relu, 0)
    child, cstate = deepen(relu, rstate, 1, op="nor_conv_3x3", in_channels=C_IN)
    assert_same_function(relu, rstate, child, cstate)
    child, cstate = deepen(relu, rstate, 2, op="linear", in_channels=C_IN)
    assert_same_function(relu, rstate, child, cstate)


def test_a_foreign_state_dict_is_refused_naming_the_key():
    dag = DAG([Node("input"), Node("nor_conv_3x3", {"C": 4}), Node("global_avg_pool")], [(0, 1), (1, 2)])
    state = trained_state(dag, 0)
    other = dict(state)
    other["node_9.weight"] = torch.zeros(1)
    with pytest.raises(GraphError, match="'node_9.weight' does not belong"):
        deepen(dag, other, 1, in_channels=C_IN)
    short = {k: v for k, v in state.items() if k != "node_1.1.weight"}
    with pytest.raises(GraphError, match="lacks 'node_1.1.weight'"):
        widen(dag, short, 1, width=6, in_channels=C_IN)
    with pytest.raises(GraphError, match=r"'node_1.1.weight' has shape \(4, 4, 3, 3\)"):
        add_skip(dag, state, 0, 2, in_channels=5)  # a state of the 4-channel module
    with pytest.raises(GraphError, match="node 7 does not exist"):
        deepen(dag, state, 7, in_channels=C_IN)


def test_output_difference_of_networks_with_an_auxiliary_head():
    from graphnas import models
    from graphnas.genotypes import get_genotype

    net = models.darts_cifar(get_genotype("DARTS_V2"), C=4, layers=3, auxiliary=True)
    state = to_torch(net, seed=0).state_dict()
    assert output_difference(net, state, net, state, in_channels=3, size=32) == 0.0
