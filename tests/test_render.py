"""Rendering with the real Graphviz `dot`: the produced SVG/PNG/PDF files and the DOT source."""

from __future__ import annotations

import re
import shutil
import struct
import xml.etree.ElementTree as ET
from collections import namedtuple

import pytest

from graphnas import DAG, GraphError, Node
from graphnas.converters import dot as dotmod
from graphnas.converters.dot import (
    GraphvizNotFoundError,
    RenderError,
    op_family,
    render,
    repr_mimebundle,
    repr_svg,
    to_dot,
)
from graphnas.generators.edge_cells import from_edge_ops
from graphnas.generators.nb201 import NB201Space
from graphnas.genotypes import genotype_to_dag

SVG = "{http://www.w3.org/2000/svg}"

NB201_EDGES = [(0, 1, "nor_conv_3x3"), (0, 2, "skip_connect"), (1, 2, "nor_conv_1x1"),
               (0, 3, "avg_pool_3x3"), (1, 3, "none"), (2, 3, "nor_conv_3x3")]

Genotype = namedtuple("Genotype", "normal normal_concat reduce reduce_concat")
GENO = Genotype(normal=[("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("skip_connect", 0), ("dil_conv_3x3", 2)],
                normal_concat=[2, 3],
                reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1)],
                reduce_concat=[2, 3])


def nb201_cell() -> DAG:
    return from_edge_ops(NB201_EDGES, drop_none=False)


def ring(n: int) -> DAG:
    """A RandWire-like graph: input, n nodes, each wired to the next two, output averaging the sinks."""
    nodes = [Node("input")] + [Node("randwire_node", combine="weighted_sum")] * n + [Node("identity",
                                                                                            combine="mean")]
    edges = [(0, 1), (0, 2)] + [(i, j) for i in range(1, n + 1) for j in (i + 1, i + 2) if j <= n]
    edges += [(n - 1, n + 1), (n, n + 1)]
    return DAG(nodes, edges)


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def svg_groups(svg: str, cls: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [g for g in root.iter(SVG + "g") if g.get("class") == cls]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --------------------------------------------------------------------------- DOT source


def test_cell_is_drawn_darts_style_with_ops_on_edges():
    src = to_dot(nb201_cell())
    assert src.startswith("digraph graphnas {")
    assert "rankdir=LR" in src
    assert "label=<c<SUB>k-1</SUB>>" in src and "label=<c<SUB>k</SUB>>" in src
    # each op is an edge label, never a node of its own
    for _, _, op in NB201_EDGES:
        assert re.search(rf'-> "s\d+" \[label="{op}"', src), op
    assert "style=dotted" in src  # the zero op is dotted


def test_two_input_cell_names_inputs_ck2_ck1():
    cell = from_edge_ops([(0, 2, "sep_conv_3x3"), (1, 2, "skip_connect"), (2, 3, "max_pool_3x3"),
                          (1, 3, "dil_conv_5x5")], n_inputs=2)
    src = to_dot(cell)
    assert src.index("c<SUB>k-2</SUB>") < src.index("c<SUB>k-1</SUB>")


def test_legend_lists_families_and_ops():
    src = to_dot(nb201_cell())
    graph = src.splitlines()[1]  # the legend is the graph's label, under the drawing
    assert graph.lstrip().startswith("graph [") and "labelloc=b" in graph
    for family, ops in [("convolution", "nor_conv_1x1, nor_conv_3x3"), ("pooling", "avg_pool_3x3"),
                        ("skip", "skip_connect"), ("zero", "none")]:
        assert f'<B>{family}</B></TD><TD ALIGN="LEFT">{ops}</TD>' in graph
    assert "<TABLE" not in to_dot(nb201_cell(), legend=False)
    # a tiny graph has none unless asked: each op is labelled already
    tiny = DAG([Node("input"), Node("conv_3x3"), Node("identity")], [(0, 1), (1, 2)])
    assert "<TABLE" not in to_dot(tiny) and "<TABLE" in to_dot(tiny, legend=True)


def test_op_families():
    assert op_family("sep_conv_5x5") == "separable conv"
    assert op_family("dil_conv_3x3") == "dilated conv"
    assert op_family("nor_conv_3x3") == "convolution"
    assert op_family("max_pool_3x3") == "pooling"
    assert op_family("skip_connect") == "skip"
    assert op_family("none") == "zero"
    assert op_family("randwire_node") == "separable conv"
    assert op_family("linear") == "linear"
    assert op_family("something_new") == "other"
    assert op_family(nb201_cell()) == "cell"


def test_generic_dag_labels_nodes_by_op_with_params():
    g = DAG([Node("input"), Node("chain_conv", {"kernel": [3, 5], "filters": 36}), Node("max_pool_3x3"),
             Node("identity", combine="concat")], [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)])
    src = to_dot(g)  # not a cell: the pool follows the conv directly
    assert 'label="chain_conv\\nfilters=36, kernel=3x5"' in src
    assert "rankdir=TB" in src
    assert 'label="output (concat)"' in src


def test_large_graph_is_compact_with_index_labels():
    g = ring(32)
    src = to_dot(g)
    assert src.count("shape=circle") == 34
    assert 'tooltip="5: randwire_node"' in src
    assert "shape=box" not in src
    assert "shape=circle" not in to_dot(ring(8)).replace(
        'shape=circle, fontsize=10', '')  # small graphs get boxes (merge nodes aside)


def test_network_draws_each_nested_dag_as_cluster():
    cell = nb201_cell()
    net = DAG([Node("input"), Node("conv_bn", {"C": 8}), Node(cell), Node(cell), Node("global_avg_pool"),
               Node("linear", {"C": 10})], [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)])
    src = to_dot(net, expand=True)
    assert len(re.findall(r'subgraph "cluster_\d+"', src)) == 2
    assert src.count("c<SUB>k-1</SUB>") == 2
    # by default the two stacked copies are drawn once, captioned with their number
    src = to_dot(net)
    assert len(re.findall(r'subgraph "cluster_\d+"', src)) == 1
    assert src.count("c<SUB>k-1</SUB>") == 1 and "<2 × cell<BR/>" in src and "nodes 2–3" in src
    # expand=0 draws the cells as boxes instead
    flat = to_dot(net, expand=0)
    assert "cluster_2" not in flat and "shape=box3d" in flat


def test_stage_of_cells_nests_clusters():
    cell = nb201_cell()
    stage = DAG([Node("input"), Node(cell), Node(cell)], [(0, 1), (1, 2)])
    net = DAG([Node("input"), Node(stage), Node(stage)], [(0, 1), (1, 2)])
    src = to_dot(net, expand=True)
    assert src.count("subgraph") == 2 + 4  # stages, cells
    assert "stage of 2 cells" in src
    # collapsed: one stage drawn, holding its two equal cells drawn once
    src = to_dot(net)
    assert src.count("subgraph") == 2
    assert "2 × stage of 2 cells" in src and "2 × cell" in src


def test_genotype_and_nb201_string():
    src = to_dot(GENO)
    assert "<normal cell<BR/>" in src and "<reduction cell<BR/>" in src
    assert src.count("c<SUB>k-2</SUB>") == 2
    assert src == to_dot(genotype_to_dag(GENO, "pair"))  # a genotype is drawn as its cell-pair DAG
    arch = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|"
    src = to_dot(arch)
    assert src.count('-> "s') == 6
    assert src == to_dot(NB201Space().from_string(arch))


def test_bad_objects_raise():
    with pytest.raises(GraphError, match="cannot read a int"):
        to_dot(42)
    with pytest.raises(GraphError, match="not a graph: no such file"):
        to_dot("not a graph")
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(nb201_cell(), rankdir="XY")


def test_quotes_in_labels_are_escaped():
    g = DAG([Node("input"), Node('we"ird\\op'), Node("identity")], [(0, 1), (1, 2)])
    svg = render(g)
    assert 'we"ird\\op' in svg_texts(svg)


# --------------------------------------------------------------------------- real dot


def test_render_svg_file(tmp_path):
    out = render(nb201_cell(), tmp_path / "cell.svg")
    assert out == tmp_path / "cell.svg"
    svg = out.read_text()
    texts = svg_texts(svg)
    for _, _, op in NB201_EDGES:
        assert op in texts
    assert "convolution" in texts  # the legend
    assert len(svg_groups(svg, "node")) == 4  # four states
    assert len(svg_groups(svg, "edge")) == 6


def test_render_png_and_pdf(tmp_path):
    png = render(ring(32), tmp_path / "ws.png")
    width, height = png_size(png.read_bytes())
    assert width > 100 and height > 400  # a long chain: tall and narrow
    pdf = render(GENO, tmp_path / "geno.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    data = render(GENO, format="png")
    assert isinstance(data, bytes) and png_size(data)[0] > 100
    assert render(GENO, tmp_path / "geno.dot").read_text() == to_dot(GENO)


def test_a_drawing_shrunk_past_reading_says_so_in_every_format(tmp_path):
    import warnings

    from graphnas.converters.dot import TooSmallToReadWarning, fitted_scale
    from graphnas.generators import erdos_renyi

    wide = erdos_renyi(300, 0.01, seed=0)  # shallow and wide: 900 px leave its labels about 1 px tall
    for suffix in ("svg", "png", "pdf"):
        with pytest.warns(TooSmallToReadWarning, match=r"shrunk to 1\d% of its size .*fit=False") as caught:
            out = render(wide, tmp_path / f"wide.{suffix}")
        assert 0.1 < caught[0].message.scale < 0.2 and out.stat().st_size > 0
    assert fitted_scale((tmp_path / "wide.svg").read_bytes()) == pytest.approx(caught[0].message.scale, abs=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TooSmallToReadWarning)  # neither at full size nor for a drawing that fits
        render(wide, tmp_path / "full.svg", fit=False)
        render(nb201_cell(), tmp_path / "cell.png")
        render(GENO, tmp_path / "geno.svg")
    assert fitted_scale((tmp_path / "full.svg").read_bytes()) == 1.0


def test_render_without_path_returns_svg_text():
    svg = render(nb201_cell())
    assert isinstance(svg, str) and svg.lstrip().startswith("<?xml")


def test_bad_format():
    with pytest.raises(RenderError, match="format"):
        render(nb201_cell(), format="jpg")
    with pytest.raises(RenderError, match="suffix"):
        render(nb201_cell(), "picture.jpeg")


def test_missing_dot_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    src = to_dot(nb201_cell())  # the source needs no Graphviz
    assert src.startswith("digraph")
    with pytest.raises(GraphvizNotFoundError) as info:
        render(nb201_cell(), tmp_path / "x.svg")
    msg = str(info.value)
    assert "\n" not in msg and "apt-get install graphviz" in msg and "to_dot" in msg
    assert not (tmp_path / "x.svg").exists()
    assert render(nb201_cell(), tmp_path / "x.dot").exists()  # DOT source still written
    assert repr_svg(nb201_cell()) is None
    assert set(repr_mimebundle(nb201_cell())) == {"text/plain"}


def test_dot_failure_is_a_render_error(monkeypatch):
    monkeypatch.setattr(dotmod, "to_dot", lambda obj, **kw: "digraph { this is not dot")
    with pytest.raises(RenderError, match="Graphviz 'dot' failed"):
        render(nb201_cell())


def test_jupyter_reprs():
    svg = repr_svg(nb201_cell())
    assert svg is not None and "<svg" in svg
    bundle = repr_mimebundle(nb201_cell())
    assert bundle["text/plain"] == repr(nb201_cell())
    assert "<svg" in bundle["image/svg+xml"]
    assert "image/svg+xml" not in repr_mimebundle(nb201_cell(), exclude=["image/svg+xml"])
    assert repr_svg(ring(40), max_nodes=10) is None


# --------------------------------------------------------------------------- drawings that fit a notebook (real dot)


def svg_px(svg: str) -> tuple[float, float]:
    """The drawing's size in CSS pixels (Graphviz writes points: 1 pt = 4/3 px)."""
    root = ET.fromstring(svg)
    return tuple(float(root.get(k).removesuffix("pt")) * 4 / 3 for k in ("width", "height"))  # type: ignore


def svg_scale(svg: str) -> float:
    """How much Graphviz shrank the drawing to fit (1.0: full size)."""
    match = re.search(r'class="graph" transform="scale\(([\d.]+)', svg)
    assert match is not None
    return float(match.group(1))


def ws32() -> DAG:
    from graphnas.generators import get_generator

    return get_generator("ws", n=32, k=4, p=0.75).sample(0)


def test_watts_strogatz_32_fits_a_notebook_cell_at_full_size():
    svg = render(ws32())
    width, height = svg_px(svg)
    assert width <= dotmod.MAX_WIDTH and height <= dotmod.MAX_HEIGHT
    assert svg_scale(svg) == 1.0  # laid out narrow (graphviz spacing), not shrunk: labels stay legible
    natural = render(ws32(), fit=False)
    assert svg_px(natural) == (width, height)


def test_nb201_cell_output_is_inside_and_legend_below():
    svg = render(nb201_cell())
    width, height = svg_px(svg)
    assert width <= dotmod.MAX_WIDTH and svg_scale(svg) == 1.0
    root = ET.fromstring(svg)
    view_w = float(root.get("viewBox").split()[2])
    nodes = {}
    for g in svg_groups(svg, "node"):
        text = "".join("".join(t.itertext()) for t in g.iter(SVG + "text"))
        xs = [float(v) for v in re.findall(r"(-?[\d.]+),-?[\d.]+", g.find(SVG + "path").get("d"))]
        nodes[text] = (min(xs), max(xs), float(g.find(SVG + "text").get("y")))
    output = nodes["ck"]  # c<SUB>k</SUB>: the output state
    assert 0 <= output[0] and output[1] <= view_w  # not cut off
    graph = next(g for g in ET.fromstring(svg).iter(SVG + "g") if g.get("class") == "graph")
    legend_y = [float(t.get("y")) for t in graph.findall(SVG + "text")]
    assert legend_y and min(legend_y) > max(y for _, _, y in nodes.values())  # under every node


def test_darts_network_collapsed_and_capped():
    from graphnas.genotypes import DARTS_V2
    from graphnas.models import darts_cifar

    net = darts_cifar(DARTS_V2)
    svg = render(net)
    width, height = svg_px(svg)
    assert width <= dotmod.MAX_WIDTH and height <= dotmod.MAX_HEIGHT + 1
    assert svg_scale(svg) > 0.5  # collapsed: little shrinking needed
    texts = svg_texts(svg)
    assert "6 × normal cell" in texts and any("as drawn at node" in t for t in texts)
    full = render(net, fit=False, expand=True)  # the full-size picture, every cell drawn
    full_w, full_h = svg_px(full)
    assert full_h > 5000 and svg_scale(full) == 1.0
    assert sum(t == "normal cell" for t in svg_texts(full)) == 18
    assert render(net, max_height=600).count("<svg") == 1 and svg_px(render(net, max_height=600))[1] <= 601


def test_genotype_pair_is_stacked_to_fit():
    svg = render(GENO)
    width, height = svg_px(svg)
    assert width <= dotmod.MAX_WIDTH and svg_scale(svg) == 1.0
    assert "rankdir=TB" in to_dot(GENO) and "rankdir=LR" in to_dot(GENO, rankdir="LR")


def test_fit_needs_positive_limits():
    with pytest.raises(ValueError, match="max_width"):
        to_dot(nb201_cell(), max_width=0)


def test_nb201_network_draws_each_stage_of_cells_once():
    from graphnas.models import nb201

    net = nb201(nb201_cell())  # 3 stages of 5 cells, a ResNet block between stages
    src = to_dot(net)
    assert src.count("c<SUB>k-1</SUB>") == 1  # the cell, drawn once
    assert "<5 × cell<BR/>" in src and src.count("as drawn at node 2") == 2  # the other two stages
    assert src.count('label="nb201_downsample') == 2  # the blocks between stages are not hidden
    assert to_dot(net, expand=True).count("c<SUB>k-1</SUB>") == 15
    width, height = svg_px(render(net))
    assert width <= dotmod.MAX_WIDTH and height <= dotmod.MAX_HEIGHT + 1


def test_expand_all_as_the_cli_spells_it_and_bad_values_are_refused():
    from graphnas.genotypes import DARTS_V2
    from graphnas.models import darts_cifar

    net = darts_cifar(DARTS_V2, C=4, layers=3)
    assert to_dot(net, expand="all") == to_dot(net, expand=True) != to_dot(net)
    import numpy as np

    assert to_dot(net, expand=np.int64(1)) == to_dot(net, expand=1)
    for bad in ("some", -1, 1.5):
        with pytest.raises(ValueError, match="expand must be None, True, 'all' or a number of levels >= 0"):
            to_dot(net, expand=bad)
