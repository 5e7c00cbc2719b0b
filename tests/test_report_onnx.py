"""The report writer's plot and ONNX export leave the caller's process as they found it."""

from __future__ import annotations

import io
import struct
import sys

import pytest


@pytest.fixture
def svg_backend():
    """The caller uses another matplotlib backend than the plot's Agg; put the original back afterwards."""
    import matplotlib

    before = matplotlib.get_backend()
    matplotlib.use("svg", force=True)
    yield "svg"
    matplotlib.use(before, force=True)


def test_plot_keeps_the_callers_backend_and_figures(svg_backend, tmp_path):
    import matplotlib
    import matplotlib.pyplot as plt

    from graphnas.report import plot_search_curves

    open_before = plt.get_fignums()  # another test in this process may have left some open
    mine = plt.figure()
    path = plot_search_curves({"BO + GNN surrogate": [50.0, 60.0, 60.0], "random search": [40.0, 55.0, 58.0]},
                              tmp_path / "curve.png", points={"random search": [40.0, 55.0, float("nan")]})
    assert matplotlib.get_backend().lower() == svg_backend
    assert plt.get_fignums() == [*open_before, mine.number] and plt.gcf() is mine  # none made or closed
    png = path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (840, 504)
    plt.close(mine)


def test_onnx_export_keeps_train_mode_and_stdout(tmp_path, monkeypatch):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    import torch

    from graphnas import export_onnx, to_torch
    from graphnas.models import nb201

    module = to_torch(nb201("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|", C=4, N=1))
    module.train()
    frozen = next(m for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d))
    frozen.eval()  # a caller's mixed modes come back exactly, not as module.train()
    modes = {name: m.training for name, m in module.named_modules()}
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    seen = []
    real_export = torch.onnx.export

    def spy(model, *args, **kw):  # what the exporter sees: the caller's stdout, the model in eval mode
        seen.append((sys.stdout, model.training, frozen.training))
        return real_export(model, *args, **kw)

    monkeypatch.setattr(torch.onnx, "export", spy)
    path = export_onnx(module, torch.zeros(1, 3, 8, 8), tmp_path / "m.onnx")
    assert sys.stdout is out and out.getvalue() == ""  # never redirected, nothing printed
    assert seen == [(out, False, False)]
    assert {name: m.training for name, m in module.named_modules()} == modes
    onnx.checker.check_model(onnx.load(str(path)))


def test_onnx_export_errors_are_one_exception(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    import torch

    from graphnas import ExportError, export_onnx

    class Branchy(torch.nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x  # data-dependent control flow: the exporter refuses it

    bad = Branchy().train()
    with pytest.raises(ExportError, match="ONNX export failed"):
        export_onnx(bad, torch.zeros(1, 3), tmp_path / "bad.onnx")
    assert bad.training
    # an example the network cannot take: the cause, not the exporter's coloured steps
    net = torch.nn.Conv2d(8, 4, 3).train()
    with pytest.raises(ExportError, match=r"example input of shape \(1, 3, 8, 8\) does not run through the "
                                          r"module \(RuntimeError: .*channels") as err:
        export_onnx(net, torch.zeros(1, 3, 8, 8), tmp_path / "conv.onnx")
    assert "\x1b[" not in str(err.value) and net.training
