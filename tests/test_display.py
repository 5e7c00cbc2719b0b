"""One line shows anything drawable: `graphnas.show` (through `as_dag`), `show_code`, and the DAG's rich repr."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import graphnas
from graphnas import GraphError
from graphnas.display import Code, Drawing, module_dag
from graphnas.genotypes import DARTS_V2

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|"
SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(SVG + "text")]


@pytest.mark.parametrize("obj", [DARTS_V2, "DARTS_V2", "darts_v2", ARCH, graphnas.as_dag(ARCH)],
                         ids=["genotype", "name", "lower-case name", "arch string", "dag"])
def test_show_draws_anything_as_dag_reads(obj):
    drawing = graphnas.show(obj)
    assert isinstance(drawing, Drawing)
    svg = drawing._repr_svg_()
    assert svg is drawing.svg and ET.fromstring(svg).tag == SVG + "svg"
    assert svg == graphnas.render(graphnas.as_dag(obj))  # the same parser and the same drawing
    width, _ = drawing.size
    assert 100 < width <= 900
    assert repr(drawing).startswith("<Drawing: SVG ")


def test_show_passes_options_and_saves(tmp_path):
    full = graphnas.show(DARTS_V2, rankdir="LR", fit=False)
    assert full.size[0] > 900  # side by side at full size: wider than a notebook cell
    assert graphnas.show(DARTS_V2, rankdir="LR").size[0] <= 900
    out = full.save(tmp_path / "d.svg")
    assert out.read_text(encoding="utf-8") == full.svg


def test_show_refuses_what_as_dag_refuses():
    with pytest.raises(GraphError, match="cannot read a int"):
        graphnas.show(42)
    bogus = "|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    with pytest.raises(GraphError) as shown:
        graphnas.show(bogus)
    with pytest.raises(GraphError) as read:
        graphnas.as_dag(bogus)
    assert str(shown.value) == str(read.value)


def test_compiled_module_is_shown_and_its_code_highlighted():
    model = graphnas.to_torch(graphnas.as_dag("darts_v2"), [8, 8])
    dag = module_dag(model)
    assert len(dag.inputs) == 2 and sum(n.is_nested for n in dag.nodes) == 2  # the two cells
    svg = graphnas.show(model).svg
    assert any("SepConv" in t for t in texts(svg))
    code = graphnas.show_code(model)
    assert isinstance(code, Code) and "def forward" in str(code)
    html = code._repr_html_()
    assert "<span" in html and "forward" in html  # Pygments colours it
    assert code._repr_markdown_().startswith("```python\ndef forward")
    with pytest.raises(TypeError, match="GraphModule"):
        graphnas.show_code(3)
    with pytest.raises(TypeError, match="GraphModule"):
        module_dag(object())


def test_compiled_randwire_graphs_and_supernets_are_shown():
    # before: weighted_sum's weights and a supernet's self.arch() became nodes with no input, and DAG refused them
    from graphnas.benchmarks.digits import digits_network
    from graphnas.generators import NB201Space

    ws = module_dag(graphnas.to_torch(graphnas.generators.watts_strogatz(16, 4, 0.75, seed=0), 4))
    assert ws.inputs == (0,) and "check_input" not in ws.ops and not any(op.startswith("weights") for op in ws.ops)
    supernet = graphnas.to_torch(digits_network(NB201Space().supernet(), C=4), in_channels=1)
    dag = module_dag(supernet)
    assert "ArchParameters" not in dag.ops and any("MixedOp" in n.op.ops for n in dag.nodes if n.is_nested)
    assert ET.fromstring(graphnas.show(supernet).svg).tag == SVG + "svg"


def test_dag_shows_itself_in_a_notebook():
    bundle = graphnas.as_dag(ARCH)._repr_mimebundle_()
    assert "image/svg+xml" in bundle and "text/plain" in bundle


def test_import_graphnas_does_not_load_display_or_torch():
    code = ("import sys, graphnas\n"
            "print('graphnas.display' in sys.modules, 'torch' in sys.modules)\n"
            "graphnas.show\n"
            "print('graphnas.display' in sys.modules, 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False", "True", "False"]


def test_a_genotype_shows_itself_as_its_cell_pair():
    bundle = DARTS_V2._repr_mimebundle_()
    assert bundle["text/plain"] == repr(DARTS_V2) and repr(DARTS_V2).startswith("Genotype(normal=[")
    assert bundle["image/svg+xml"] == graphnas.show(DARTS_V2).svg
    assert tuple(DARTS_V2) == tuple(graphnas.genotypes.get_genotype("darts_v2"))  # still DARTS' plain tuple
    assert "image/svg+xml" not in DARTS_V2._repr_mimebundle_(exclude=["image/svg+xml"])
