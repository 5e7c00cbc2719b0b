"""The published macro networks: DAG builders (graphnas.models), compiled by to_torch, with the papers' exact
parameter counts."""

from __future__ import annotations

import statistics

import pytest
import torch

from graphnas import DAG, GraphError, Node, count_flops, count_params, models, to_torch
from graphnas.genotypes import DARTS_V2, ENAS, AmoebaNet, NASNet

torch.set_num_threads(1)

ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def test_darts_v2_cifar_has_the_published_parameter_count():
    net = to_torch(models.darts_cifar(DARTS_V2, C=36, layers=20, num_classes=10, auxiliary=False))
    assert count_params(net) == 3_349_342


def test_darts_network_is_a_dag_of_cells_and_runs():
    dag = models.darts_cifar(DARTS_V2, C=8, layers=5)
    assert isinstance(dag, DAG) and sum(node.is_nested for node in dag.nodes) == 5
    net = to_torch(dag)
    assert net(torch.randn(2, 3, 16, 16)).shape == (2, 10)


@pytest.mark.parametrize("genotype", [NASNet, AmoebaNet, ENAS])
def test_other_genotypes_in_darts_form_run(genotype):
    assert to_torch(models.darts_cifar(genotype, C=8, layers=3))(torch.randn(1, 3, 16, 16)).shape == (1, 10)


def test_darts_auxiliary_head_and_drop_path():
    net = to_torch(models.darts_cifar(DARTS_V2, C=8, layers=5, auxiliary=True, drop_path=0.3)).train()
    logits, aux = net(torch.randn(2, 3, 32, 32))
    assert logits.shape == aux.shape == (2, 10)
    drop = [m for m in net.modules() if type(m).__name__ == "DropPath"]
    # one per op that is not skip_connect: DARTS_V2 has 6 in a normal cell, 5 in a reduction cell;
    # 5 layers are 3 normal + 2 reduction cells
    assert len(drop) == 3 * 6 + 2 * 5
    assert [m.p for m in drop] == [0.3] * 28
    models.set_drop_path(net, 0.0)
    assert [m.p for m in drop] == [0.0] * 28


def test_darts_imagenet_counts_and_runs():
    net = to_torch(models.darts_imagenet(DARTS_V2))
    assert count_params(net) == 4_718_752  # DARTS paper: 4.7M
    small = to_torch(models.darts_imagenet(DARTS_V2, C=8, layers=3, num_classes=7))
    assert small(torch.randn(1, 3, 64, 64)).shape == (1, 7)


def test_darts_imagenet_auxiliary_head_is_darts_own():
    # DARTS' AuxiliaryHeadImageNet on the 768-channel 7x7 map: 1x1 conv to 128, BN, 2x2 conv to 768 (its BN
    # commented out in DARTS), Linear(768, 1000): 98,304 + 256 + 393,216 + 769,000 = 1,260,776 parameters.
    net = to_torch(models.darts_imagenet(DARTS_V2, auxiliary=True))
    assert count_params(net) == 4_718_752 + 1_260_776
    logits, aux = net.train()(torch.randn(2, 3, 224, 224))
    assert logits.shape == aux.shape == (2, 1000)
    logits, aux = net.eval()(torch.randn(1, 3, 224, 224))  # eval: the head computes nothing, as DARTS'
    assert logits.shape == (1, 1000) and aux is None


def test_nb201_all_conv3x3_has_the_published_parameter_count():
    net = to_torch(models.nb201(ALL_CONV, C=16, N=5, num_classes=10))
    assert count_params(net) == 1_531_546
    assert to_torch(models.nb201(ALL_CONV, C=4, N=1))(torch.randn(2, 3, 16, 16)).shape == (2, 10)


def test_nb101_lowered_cell_follows_the_channel_rule():
    matrix = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
    cell = models.nb101_cell((matrix, ops), 16, 33)
    # the output's 33 channels are split 17 + 16; each input edge is a 1x1 projection
    chans = [dict(n.params).get("C") for n in cell.nodes]
    assert chans.count(17) == 2 and 16 in chans  # projection + conv at 17, projection at 16
    net = to_torch(models.nb101((matrix, ops), stem=8, stacks=2, cells_per_stack=1))
    assert net(torch.randn(1, 3, 16, 16)).shape == (1, 10)


def test_nb101_input_to_output_edge_adds_a_projection():
    matrix = [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
    cell = models.nb101_cell((matrix, ["input", "conv1x1-bn-relu", "output"]), 8, 8)
    assert cell.nodes[-1].op == "identity" and cell.in_degree(len(cell) - 1) == 2


def test_randwire_ws_small_matches_the_paper_within_two_percent():
    # the paper reports the mean over random graph instances: 5.6M params, 583M FLOPs
    nets = [to_torch(models.randwire("ws", {"k": 4, "p": 0.75}, n=32, regime="small", C=78, seed=s))
            for s in range(3)]
    params = statistics.mean(count_params(m) for m in nets)
    flops = statistics.mean(count_flops(m, (3, 224, 224)) for m in nets)
    assert abs(params / 5.6e6 - 1) < 0.02, params
    assert abs(flops / 583e6 - 1) < 0.02, flops


def test_randwire_names_the_stage_whose_graph_cannot_be_drawn():
    with pytest.raises(ValueError, match=r"randwire stage 1 has 4 nodes \(N/2 of n=8, in the regular regime\): "
                                         r"WS needs an even k"):
        models.randwire(n=8, regime="regular")
    with pytest.raises(ValueError, match=r"C must be at least 2 \(the stem's first conv has C/2 channels\), got 1"):
        models.randwire(n=8, C=1)  # before: an internal node's 'channels must be positive, got C=0'


def test_randwire_stage_nodes_fed_by_the_input_are_strided():
    dag = models.randwire(n=12, C=8, num_classes=5, regime="regular")
    stage = dag.nodes[2].op
    for i, node in enumerate(stage.nodes):
        if i not in stage.inputs and node.op == "randwire_node":
            fed = any(p in stage.inputs for p in stage.predecessors(i))
            assert node.params.get("stride", 1) == (2 if fed else 1)
    net = to_torch(models.randwire(n=12, C=8, num_classes=5, regime="regular", seed=1))
    assert net(torch.randn(1, 3, 64, 64)).shape == (1, 5)


def test_chain_network():
    chain = DAG([Node("input"), Node("chain_conv", {"kernel": [3, 5], "filters": 6, "stride": 1}),
                 Node("chain_conv", {"kernel": [1, 1], "filters": 12, "stride": 2})], [(0, 1), (1, 2)])
    net = to_torch(models.chain_net(chain, num_classes=4))
    assert net(torch.randn(2, 3, 8, 8)).shape == (2, 4)
    assert count_params(net) == 3 * 6 * 15 + 12 + 6 * 12 + 24 + 12 * 4 + 4


def test_nb201_refuses_two_input_cells():
    two = DAG([Node("input"), Node("input"), Node("identity")], [(0, 2), (1, 2)], inputs=[0, 1])
    with pytest.raises(GraphError, match="one input"):
        models.nb201(two)
