"""The DAG -> torch.fx converter: generated code, combine rules, shape inference and its errors."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st

from graphnas import DAG, GraphError, Node, count_flops, count_params, to_torch
from graphnas.converters.torch import Shape
from graphnas.ops import get_op, list_ops, register_op

torch.set_num_threads(1)


def diamond(combine: str = "sum") -> DAG:
    return DAG([Node("input"), Node("nor_conv_3x3", {"C": 4}), Node("nor_conv_1x1", {"C": 4}),
                Node("identity", combine=combine)], [(0, 1), (0, 2), (1, 3), (2, 3)])


def test_generates_a_graph_module_with_readable_code_and_plain_names():
    gm = to_torch(diamond())
    assert isinstance(gm, torch.fx.GraphModule)
    names = [n for n, _ in gm.named_children()]
    assert names == ["node_1", "node_2"]
    assert all("." not in n for n in names)
    code = gm.code
    assert "node_1 = self.node_1(x)" in code
    assert "node_3 = node_1 + node_2" in code
    assert gm(torch.randn(2, 3, 8, 8)).shape == (2, 4, 8, 8)


@pytest.mark.parametrize("combine", ["sum", "mean", "concat", "weighted_sum"])
def test_combine_rules_compute_what_they_say(combine):
    gm = to_torch(diamond(combine)).eval()
    x = torch.randn(2, 3, 8, 8)
    a, b = gm.node_1(x), gm.node_2(x)
    expected = {"sum": a + b, "mean": (a + b) / 2, "concat": torch.cat([a, b], 1),
                "weighted_sum": torch.sigmoid(torch.ones(())) * (a + b)}[combine]
    torch.testing.assert_close(gm(x), expected)
    if combine == "weighted_sum":
        assert gm.weights_3.shape == (2,) and gm.weights_3.requires_grad


def test_nested_dags_compile_recursively():
    cell = diamond()
    two_in = DAG([Node("input"), Node("input"), Node("sep_conv_3x3"), Node("skip_connect"),
                  Node("identity", combine="concat")], [(0, 2), (1, 3), (2, 4), (3, 4)], inputs=[0, 1])
    net = DAG([Node("input"), Node("conv_bn", {"C": 4}), Node(cell), Node(two_in), Node("global_avg_pool"),
               Node("linear", {"C": 5})], [(0, 1), (1, 2), (1, 3), (2, 3), (3, 4), (4, 5)])
    gm = to_torch(net)
    assert isinstance(gm.cell_2, torch.fx.GraphModule) and isinstance(gm.cell_3, torch.fx.GraphModule)
    assert "cell_3 = self.cell_3(node_1, cell_2)" in gm.code
    assert gm(torch.randn(2, 3, 8, 8)).shape == (2, 5)
    # flattening the network gives the same architecture: same parameter count and same keys' shapes
    flat = to_torch(net.flatten())
    assert count_params(flat) == count_params(gm)


def test_unknown_op_names_node_op_and_known_ops():
    g = DAG([Node("input"), Node("conv9x9_magic")], [(0, 1)])
    msg = r"node 1 \('conv9x9_magic'\): unknown op 'conv9x9_magic'; known ops:.*sep_conv_3x3"
    with pytest.raises(GraphError, match=msg):
        to_torch(g)


def test_a_misspelt_op_gets_a_suggestion():
    g = DAG([Node("input"), Node("nor_conv3x3", {"C": 4})], [(0, 1)])
    with pytest.raises(GraphError, match=r"unknown op 'nor_conv3x3' \(did you mean 'nor_conv_3x3'"):
        to_torch(g)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3", None])
def test_in_channels_must_be_positive_integers(bad):
    g = DAG([Node("input"), Node("nor_conv_3x3", {"C": 4}), Node("identity")], [(0, 1), (1, 2)])
    with pytest.raises(GraphError, match="in_channels must be a positive integer"):
        to_torch(g, in_channels=bad)


def test_in_channels_per_input_names_the_bad_input():
    two = DAG(["input", "input", "identity"], [(0, 2), (1, 2)])
    with pytest.raises(GraphError, match=r"in_channels must be a positive integer \(input 1, node 1\), got 0"):
        to_torch(two, in_channels=[3, 0])
    import numpy as np

    assert to_torch(two, in_channels=np.array([3, 3]))(torch.ones(1, 3, 4, 4), torch.ones(1, 3, 4, 4)).shape[1] == 3


def test_bad_params_name_the_node():
    g = DAG([Node("input"), Node("sep_conv_3x3", {"kernel_size": 3})], [(0, 1)])
    with pytest.raises(GraphError, match=r"node 1 \('sep_conv_3x3'\)"):
        to_torch(g)


@pytest.mark.parametrize("params, what", [({"stride": 1.5}, "stride"), ({"C": 8.7}, "C"), ({"C": True}, "C"),
                                          ({"kernel": [3, 3], "filters": 4.5}, "chain_conv's output channels")])
def test_fractional_channels_or_stride_are_refused_not_truncated(params, what):
    op = "chain_conv" if "filters" in params else "conv_3x3"
    g = DAG([Node("input"), Node(op, params)], [(0, 1)])
    with pytest.raises(GraphError, match=rf"node 1 \('{op}'\): bad params .*{what} must be a whole number"):
        to_torch(g)
    assert to_torch(DAG([Node("input"), Node("conv_3x3", {"C": 8.0, "stride": 2.0})], [(0, 1)])).graphnas_shapes[1] \
        == Shape(8, 2)


def test_a_missing_param_is_named():
    g = DAG([Node("input"), Node("chain_conv", {"kernel": [3, 3]})], [(0, 1)])
    with pytest.raises(GraphError, match=r"node 1 \('chain_conv'\): op 'chain_conv' needs the param 'filters'; "
                                         r"it has \{'kernel': \(3, 3\)\}"):
        to_torch(g)


def test_fixed_channel_op_asked_to_widen_is_refused():
    g = DAG([Node("input"), Node("maxpool3x3", {"C": 16})], [(0, 1)])
    with pytest.raises(GraphError, match=r"node 1 \('maxpool3x3'\).*cannot output 16"):
        to_torch(g)


def test_vector_and_map_mismatch_is_refused():
    g = DAG([Node("input"), Node("global_avg_pool"), Node("sep_conv_3x3")], [(0, 1), (1, 2)])
    with pytest.raises(GraphError, match=r"node 2 \('sep_conv_3x3'\).*vector"):
        to_torch(g)
    g = DAG([Node("input"), Node("linear", {"C": 3})], [(0, 1)])
    with pytest.raises(GraphError, match=r"node 1 \('linear'\).*global_avg_pool"):
        to_torch(g)


def mismatched() -> DAG:
    # node 1: 8 channels at stride 2; node 2: 4 channels at stride 1 -> they meet at node 3
    return DAG([Node("input"), Node("nor_conv_3x3", {"C": 8, "stride": 2}), Node("nor_conv_1x1", {"C": 4}),
                Node("identity")], [(0, 1), (0, 2), (1, 3), (2, 3)])


def test_documented_alignment_rule_pools_and_projects_visibly(caplog):
    with caplog.at_level(logging.INFO, logger="graphnas"):
        gm = to_torch(mismatched())
    assert "align_3_2 = self.align_3_2(node_2)" in gm.code
    pool, proj = gm.align_3_2[0], gm.align_3_2[1]
    assert isinstance(pool, nn.AvgPool2d) and pool.kernel_size == 2
    assert proj[1].in_channels == 4 and proj[1].out_channels == 8
    assert any("align_3_2" in r.message for r in caplog.records)
    assert len(gm.graphnas_alignments) == 1
    assert gm(torch.randn(1, 3, 8, 8)).shape == (1, 8, 4, 4)


def test_alignment_can_be_refused():
    with pytest.raises(GraphError, match=r"node 3 \('identity'\): its inputs do not match.*align='error'"):
        to_torch(mismatched(), align="error")


def test_concat_pools_but_does_not_project():
    g = mismatched()
    g = g.with_node(3, Node("identity", combine="concat"))
    gm = to_torch(g)
    assert isinstance(gm.align_3_2, nn.AvgPool2d)
    assert gm(torch.randn(1, 3, 8, 8)).shape == (1, 12, 4, 4)


def test_strides_that_cannot_meet_raise_naming_the_node():
    g = DAG([Node("input"), Node("nor_conv_3x3", {"stride": 2}), Node("nor_conv_3x3", {"stride": 3}),
             Node("identity")], [(0, 1), (0, 2), (1, 3), (2, 3)])
    with pytest.raises(GraphError, match=r"node 3 \('identity'\): inputs at strides \[2, 3\] cannot meet"):
        to_torch(g)


def test_nested_errors_name_the_cell_and_the_inner_node():
    inner = DAG([Node("input"), Node("no_such_op")], [(0, 1)])
    outer = DAG([Node("input"), Node(inner)], [(0, 1)])
    with pytest.raises(GraphError, match=r"cell_1: node 1 \('no_such_op'\)"):
        to_torch(outer)


def test_several_outputs_are_a_tuple_at_top_level():
    g = DAG([Node("input"), Node("nor_conv_3x3"), Node("nor_conv_1x1")], [(0, 1), (0, 2)])
    a, b = to_torch(g)(torch.randn(1, 3, 4, 4))
    assert a.shape == b.shape == (1, 3, 4, 4)


@pytest.fixture()
def scratch_op():
    """A name for a test op, unregistered after the test so no other test sees it."""
    name = "test_double_conv"
    assert name not in list_ops()
    yield name
    from graphnas.ops import OPS

    if name in OPS:
        OPS.remove(name)
    assert name not in list_ops()


def test_registry_reads_like_timm(scratch_op):
    assert {"sep_conv_3x3", "nor_conv_3x3", "randwire_node", "chain_conv", "conv3x3-bn-relu"} <= set(list_ops())
    assert list_ops() == sorted(list_ops())
    with pytest.raises(KeyError, match="unknown op .nope. \\(did you mean .none.\\?\\); known: "):
        get_op("nope")

    @register_op(scratch_op)
    def _make(C_in, C_out, stride):
        return nn.Sequential(nn.Conv2d(C_in, C_out, 3, stride, 1), nn.Conv2d(C_out, C_out, 3, 1, 1))

    g = DAG([Node("input"), Node(scratch_op, {"C": 6, "stride": 2})], [(0, 1)])
    assert to_torch(g)(torch.randn(1, 3, 8, 8)).shape == (1, 6, 4, 4)


def test_darts_ops_match_the_reference_definitions():
    sep = get_op("sep_conv_3x3")(8, 8, 2)
    convs = [m for m in sep.modules() if isinstance(m, nn.Conv2d)]
    assert [c.groups for c in convs] == [8, 1, 8, 1] and convs[0].stride == (2, 2) and convs[2].stride == (1, 1)
    dil = get_op("dil_conv_5x5")(8, 8, 1)
    assert dil[1].dilation == (2, 2) and dil[1].padding == (4, 4)
    pool = get_op("avg_pool_3x3")(8, 8, 2).pool
    assert pool.count_include_pad is False
    fr = get_op("skip_connect")(8, 8, 2)
    assert fr(torch.randn(1, 8, 6, 6)).shape == (1, 8, 3, 3)
    assert isinstance(get_op("skip_connect")(8, 8, 1), nn.Identity)
    zero = get_op("none")(8, 8, 2)
    assert torch.equal(zero(torch.ones(1, 8, 4, 4)), torch.zeros(1, 8, 2, 2))
    nor = get_op("nor_conv_3x3")(4, 4, 1)
    assert isinstance(nor[0], nn.ReLU) and nor[1].bias is None and isinstance(nor[2], nn.BatchNorm2d)
    nb101 = get_op("conv3x3-bn-relu")(4, 4, 1)
    assert isinstance(nb101[0], nn.Conv2d) and isinstance(nb101[2], nn.ReLU)
    chain = get_op("chain_conv")
    assert chain.channels(3, {"filters": 36, "kernel": [3, 5]}) == 36
    assert chain(3, 36, 1, kernel=[3, 5])[0].kernel_size == (3, 5)


def test_state_dict_keys_stable_pickle_and_deepcopy():
    g = diamond("weighted_sum")
    a, b = to_torch(g), to_torch(g)
    assert list(a.state_dict()) == list(b.state_dict())
    assert "weights_3" in a.state_dict() and "node_1.1.weight" in a.state_dict()
    x = torch.randn(2, 3, 8, 8)
    a.eval()
    for clone in (pickle.loads(pickle.dumps(a)), copy.deepcopy(a)):
        torch.testing.assert_close(clone(x), a(x))
        assert list(clone.state_dict()) == list(a.state_dict())
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(b.eval()(x), a(x))


def test_a_wrong_input_is_refused_naming_it_and_the_fix_also_after_pickling():
    two = DAG([Node("input"), Node("input"), Node("nor_conv_3x3", {"C": 4}), Node("identity", combine="concat")],
              [(0, 2), (1, 3), (2, 3)], inputs=[0, 1])
    gm = to_torch(two, in_channels=[3, 1])
    good = (torch.randn(2, 3, 8, 8), torch.randn(2, 1, 8, 8))
    assert gm(*good).shape == (2, 5, 8, 8)
    assert "check_input(x0, 0, 0, 3)" in gm.code and "check_input(x1, 1, 1, 1)" in gm.code
    for clone in (gm, pickle.loads(pickle.dumps(gm)), copy.deepcopy(gm)):
        # channels: before, a convolution's error (or none at all, for an input no conv reads first)
        with pytest.raises(ValueError, match=r"input 1 \(node 1\) must have shape \(N, 1, H, W\).*"
                                             r"got \(2, 3, 8, 8\).*in_channels=3"):
            clone(good[0], good[0])
        with pytest.raises(ValueError, match=r"input 0 .*got \(3, 8, 8\): .*x.unsqueeze\(0\)"):
            clone(good[0][0], good[1])  # one image without its batch dimension
        with pytest.raises(ValueError, match=r"got \(2, 3\): .*feature maps"):
            clone(torch.randn(2, 3), good[1])
        with pytest.raises(TypeError, match="input 0 .*torch.Tensor.*got list"):
            clone([1.0], good[1])
        with pytest.raises(ValueError, match=r"input 0 .*got \(2, 8, 8, 3\): channels come second .*permute"):
            clone(good[0].permute(0, 2, 3, 1), good[1])  # channels last
        with pytest.raises(ValueError, match=r"input 1 .*got \(2, 8, 8\): .*x.unsqueeze\(1\)"):
            clone(good[0], good[1][:, 0])  # grey images without their channel dimension
        torch.testing.assert_close(clone.eval()(*good), gm.eval()(*good))


def test_an_input_node_with_an_op_applies_it_as_flatten_does():
    # before: an input node's op was dropped, so this was a 1x1 conv on the raw input (40 parameters)
    g = DAG([Node("nor_conv_3x3", {"C": 16}), Node("nor_conv_1x1", {"C": 8})], [(0, 1)])
    gm = to_torch(g)
    assert "node_0 = self.node_0(x)" in gm.code and gm.graphnas_shapes[0] == Shape(16)
    assert count_params(gm) == count_params(to_torch(DAG([Node("input")] + list(g.nodes), [(0, 1), (1, 2)])))
    inner = DAG([Node("input"), Node("nor_conv_3x3", {"C": 4}), Node("nor_conv_1x1", {"C": 6})],
                [(0, 1), (0, 2)])
    outer = DAG([Node(inner), Node("identity", combine="concat")], [(0, 1)])
    x = torch.randn(1, 3, 4, 4)
    assert to_torch(outer)(x).shape == to_torch(outer.flatten())(x).shape == (1, 10, 4, 4)
    assert count_params(to_torch(outer)) == count_params(to_torch(outer.flatten()))
    two = DAG([Node("input"), Node("input"), Node("identity", combine="concat")], [(0, 2), (1, 2)], inputs=[0, 1])
    with pytest.raises(GraphError, match=r"node 0 \(nested DAG\): a nested DAG with 2 inputs on an input node.*"
                                         r"flatten"):
        to_torch(DAG([Node(two), Node("nor_conv_1x1")], [(0, 1)]))


def test_count_flops_counts_conv_and_linear_multiply_adds():
    g = DAG([Node("input"), Node("conv_bn", {"C": 8}), Node("global_avg_pool"), Node("linear", {"C": 10})],
            [(0, 1), (1, 2), (2, 3)])
    gm = to_torch(g).train()
    assert count_flops(gm, (3, 16, 16)) == 16 * 16 * 8 * 3 * 9 + 8 * 10
    assert gm.training  # the mode is restored
    assert count_params(gm) == 8 * 3 * 9 + 2 * 8 + 8 * 10 + 10


OPS = ["nor_conv_3x3", "nor_conv_1x1", "skip_connect", "avg_pool_3x3", "max_pool_3x3", "sep_conv_3x3",
       "dil_conv_3x3", "randwire_node", "none", "identity"]


@st.composite
def random_dags(draw):
    n = draw(st.integers(2, 7))
    nodes = [Node("input")]
    edges = []
    for j in range(1, n):
        preds = draw(st.sets(st.integers(0, j - 1), min_size=1, max_size=min(3, j)))
        edges += [(p, j) for p in preds]
        params = {}
        if draw(st.booleans()):
            params["C"] = draw(st.sampled_from([2, 4, 6]))
        if j <= 3 and draw(st.integers(0, 3)) == 0:  # at most 3 strides on a path: 32 -> 4 pixels
            params["stride"] = 2
        op = draw(st.sampled_from(OPS))
        if op == "identity":
            params = {}
        nodes.append(Node(op, params, draw(st.sampled_from(["sum", "mean", "concat", "weighted_sum"]))))
    return DAG(nodes, edges)


@settings(max_examples=25, deadline=None)
@given(random_dags())
def test_any_random_dag_compiles_and_runs(dag):
    gm = to_torch(dag, 4)  # even channels everywhere: DARTS' FactorizedReduce needs them
    out = gm(torch.randn(1, 4, 32, 32))
    outs = out if isinstance(out, tuple) else (out,)
    for o, node in zip(outs, dag.outputs):
        shape = gm.graphnas_shapes[node]
        assert o.shape[1] == shape.C and o.shape[2] == 32 // shape.scale


def test_a_genotype_given_to_to_torch_points_to_the_network_it_makes():
    from graphnas.converters.torch import to_torch
    from graphnas.genotypes import get_genotype

    for cell in (get_genotype("DARTS_V2"), "darts_v2"):
        with pytest.raises(TypeError, match=r"got (Genotype|str): a genotype .*graphnas.models.darts_cifar"):
            to_torch(cell)


def test_a_seed_gives_the_same_initial_weights_and_leaves_the_global_generator_alone():
    from graphnas.converters.torch import to_torch
    from graphnas.models import nb201

    net = nb201("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|", C=4, N=1)
    state = torch.get_rng_state()
    a, b, c = to_torch(net, seed=7), to_torch(net, seed=7), to_torch(net, seed=8)
    assert torch.equal(torch.get_rng_state(), state)
    wa, wb, wc = (dict(m.state_dict()) for m in (a, b, c))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert any(not torch.equal(wa[k], wc[k]) for k in wa if wa[k].is_floating_point() and wa[k].numel() > 1)
