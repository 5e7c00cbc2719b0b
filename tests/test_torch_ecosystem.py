"""Generated modules work with torch.compile, torch.export and ONNX export."""

from __future__ import annotations

import importlib.util

import pytest
import torch
import torch.nn as nn

from graphnas import DAG, Node, to_torch

torch.set_num_threads(1)


def tiny() -> DAG:
    return DAG([Node("input"), Node("nor_conv_3x3", {"C": 4}), Node("randwire_node", {"C": 4}),
                Node("identity", combine="weighted_sum"), Node("global_avg_pool"), Node("linear", {"C": 3})],
               [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (4, 5)])


def test_torch_compile_fullgraph_matches_eager():
    torch.manual_seed(0)
    gm = to_torch(tiny()).eval()
    x = torch.randn(2, 3, 8, 8)
    compiled = torch.compile(gm, fullgraph=True)
    torch.testing.assert_close(compiled(x), gm(x), rtol=1e-4, atol=1e-5)


def test_torch_export_with_dynamic_batch():
    gm = to_torch(tiny()).eval()
    batch = torch.export.Dim("batch", min=1, max=64)
    ep = torch.export.export(gm, (torch.randn(2, 3, 8, 8),), dynamic_shapes={"x": {0: batch}})
    for n in (1, 5):
        x = torch.randn(n, 3, 8, 8)
        torch.testing.assert_close(ep.module()(x), gm(x))


@pytest.mark.skipif(importlib.util.find_spec("onnx") is None or importlib.util.find_spec("onnxscript") is None,
                    reason="onnx/onnxscript not installed (pip install graphnas[onnx])")
def test_onnx_export_dynamo(tmp_path):
    import onnx

    gm = to_torch(tiny()).eval()
    path = tmp_path / "tiny.onnx"
    torch.onnx.export(gm, (torch.randn(2, 3, 8, 8),), str(path), dynamo=True,
                      dynamic_shapes={"x": {0: torch.export.Dim("batch")}})
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert "Conv" in {n.op_type for n in model.graph.node}


def test_fx_retracing_keeps_the_input_check_one_call():
    # the compiled module's input check is fx.wrap-ped: symbolic_trace (and so FX quantization, or a module
    # wrapping a compiled DAG) records it as a call instead of running it on a Proxy
    gm = to_torch(DAG([Node("input"), Node("conv_bn", {"C": 8})], [(0, 1)]))
    traced = torch.fx.symbolic_trace(gm)
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(traced.eval()(x), gm.eval()(x))
    with pytest.raises(ValueError, match=r"input 0 \(node 0\) must have shape \(N, 3, H, W\)"):
        traced(torch.randn(2, 1, 8, 8))
    wrapper = torch.fx.symbolic_trace(nn.Sequential(gm, nn.Flatten()))
    assert wrapper(x).shape == (2, 8 * 8 * 8)
