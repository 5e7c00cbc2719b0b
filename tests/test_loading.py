"""graphnas.as_dag, the one dispatcher: every input kind goes to its format's one parser, and rendering and
compiling read input through it, so they accept and refuse exactly the same things."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import graphnas
from graphnas import DAG, GraphError, as_dag
from graphnas.cli import main
from graphnas.converters.dot import render, to_dot
from graphnas.generators import get_generator
from graphnas.generators.nb101 import NB101Space
from graphnas.generators.nb201 import NB201Space
from graphnas.genotypes import (
    DARTS_V2,
    ENAS,
    NASNet,
    dag_to_genotype,
    genotype_to_dag,
    get_genotype,
    list_genotypes,
)

ARCH = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|"
BOGUS = [
    "|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|",
    "|bogus~0|+...",
    "|nor_conv_3x3~5|",
    "|nor_conv_3x3~0|+|none~0|none~2|+|none~0|none~1|none~2|",
]
NB101_M = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
NB101_OPS = ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")


def parser_error(arch: str) -> str:
    with pytest.raises(GraphError) as info:
        NB201Space().from_string(arch)
    return str(info.value)


# --------------------------------------------------------------------------- the dispatcher on every input kind


def test_as_dag_is_public_and_lazy():
    assert graphnas.as_dag is as_dag
    assert "as_dag" in graphnas.__all__


def test_as_dag_on_every_kind_of_input(tmp_path):
    cell = NB201Space().from_string(ARCH)
    assert as_dag(cell) is cell
    assert as_dag(ARCH) == cell
    assert as_dag("  " + ARCH + "\n") == cell
    pair = genotype_to_dag(DARTS_V2, "pair")
    for name in ("DARTS_V2", "darts_v2", "Darts_V2", "DARTS"):
        assert as_dag(name) == pair, name
    assert as_dag(DARTS_V2) == pair
    assert dag_to_genotype(as_dag("darts_v2")) == DARTS_V2  # the genotype reads back from its DAG
    assert as_dag("nasnet") == genotype_to_dag(NASNet, "pair")
    # a DARTS-space member is the same cell-pair DAG
    space = get_generator("darts")
    assert as_dag(space.to_genotype(space.sample(seed=1))) == space.sample(seed=1)
    # JSON: text, a path as str, a PathLike, the parsed document, bytes
    path = tmp_path / "cell.json"
    cell.save(str(path))
    assert as_dag(cell.to_json()) == cell
    assert as_dag(str(path)) == cell
    assert as_dag(path) == cell
    assert as_dag(cell.to_dict()) == cell
    assert as_dag(cell.to_json().encode()) == cell
    # NAS-Bench-101 specs: a (matrix, ops) pair or a mapping, read by NB101Space
    nb101 = NB101Space().from_spec(NB101_M, NB101_OPS)
    assert as_dag((NB101_M, NB101_OPS)) == nb101
    assert as_dag({"matrix": np.array(NB101_M), "ops": NB101_OPS}) == nb101


def test_as_dag_refuses_with_the_culprit_named(tmp_path):
    with pytest.raises(GraphError, match="cannot read a int"):
        as_dag(42)
    with pytest.raises(GraphError, match=r"no genotype named 'darts_v3'; did you mean DARTS_V2"):
        as_dag("darts_v3")
    with pytest.raises(GraphError, match="nothing here: no such file"):
        as_dag("nothing here")
    with pytest.raises(GraphError, match="is a directory"):
        as_dag(str(tmp_path))
    with pytest.raises(GraphError, match="no such file"):
        as_dag(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "graphnas.dag", "nodes": [')
    with pytest.raises(GraphError, match=r"bad.json: malformed JSON"):
        as_dag(str(bad))
    with pytest.raises(GraphError, match="keys"):
        as_dag({"foo": 1})
    with pytest.raises(GraphError, match="vertex 1: unknown NAS-Bench-101 op"):
        as_dag((NB101_M, ["input", "conv5x5", "maxpool3x3", "output"]))
    with pytest.raises(GraphError, match="x" * 10):  # a name too long for the file system is no crash
        as_dag("x" * 5000 + "|")


def test_genotype_names_are_case_insensitive():
    assert get_genotype("darts_v2") is get_genotype("DARTS_V2") is DARTS_V2
    assert get_genotype("enas") is ENAS
    assert list_genotypes() == ["AmoebaNet", "DARTS", "DARTS_V1", "DARTS_V2", "ENAS", "NASNet"]
    with pytest.raises(GraphError, match="known: AmoebaNet"):
        get_genotype("resnet")


# --------------------------------------------------------------------------- one parser: render fails as compile does


@pytest.mark.parametrize("arch", BOGUS)
def test_render_and_to_dot_refuse_what_the_parser_refuses(arch):
    expected = parser_error(arch)
    for draw in (to_dot, lambda a: render(a, format="dot")):
        with pytest.raises(GraphError) as info:
            draw(arch)
        assert str(info.value) == expected


@pytest.mark.parametrize("arch", BOGUS)
def test_cli_render_and_compile_fail_alike(capsys, tmp_path, arch):
    lines = []
    for command, out in (("render", "x.svg"), ("compile", "m.pt")):
        with pytest.raises(SystemExit) as info:
            main([command, arch, "-o", str(tmp_path / out)])
        assert info.value.code == 1
        err = capsys.readouterr().err.strip()
        assert "\n" not in err
        lines.append(err)
        assert not (tmp_path / out).exists()
    assert lines[0] == lines[1] == f"graphnas: error: {parser_error(arch)}"


def test_compile_path_reads_arch_strings_with_the_same_parser():
    models = pytest.importorskip("graphnas.models")
    for arch in BOGUS:
        with pytest.raises(GraphError) as info:
            models.nb201(arch, C=4, N=1)
        assert str(info.value) == parser_error(arch)


def test_nb101_matrices_in_models_go_through_nb101space():
    models = pytest.importorskip("graphnas.models")
    with pytest.raises(GraphError, match="unknown NAS-Bench-101 op"):
        models.nb101_cell((NB101_M, ["input", "conv5x5", "maxpool3x3", "output"]), 8, 8)
    # an unpruned matrix is pruned as NAS-Bench-101 does: vertex 2 has no path to the output
    m = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]]
    pruned = models.nb101_cell((m, NB101_OPS), 8, 8)
    assert pruned == models.nb101_cell(([[0, 1, 0], [0, 0, 1], [0, 0, 0]],
                                        ["input", "conv3x3-bn-relu", "output"]), 8, 8)


def test_cli_genotype_names_case_insensitive(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["render", "darts_v2", "-o", str(tmp_path / "d.dot")])
    assert info.value.code == 0
    assert (tmp_path / "d.dot").read_text() == to_dot(DARTS_V2)


# --------------------------------------------------------------------------- what the picture says


def svg_parts(svg: str) -> tuple[ET.Element, dict[str, list[str]], list[tuple[str, list[str]]]]:
    root = ET.fromstring(svg)
    clusters: dict[str, list[str]] = {}
    items: list[tuple[str, list[str]]] = []
    for g in root.iter(SVG + "g"):
        title = g.find(SVG + "title")
        texts = ["".join(t.itertext()) for t in g.iter(SVG + "text")]
        if g.get("class") == "cluster" and title is not None:
            clusters[title.text or ""] = texts
        elif g.get("class") in ("node", "edge") and title is not None:
            items.append((g.get("class") + ":" + (title.text or ""), texts))
    return root, clusters, items


@needs_dot
@pytest.mark.parametrize("obj", [DARTS_V2, ARCH, "enas"])
def test_cell_pictures_have_subscripts_not_braces(obj):
    svg = render(obj)
    root, _, _ = svg_parts(svg)
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    assert not any("{" in t or "}" in t for t in texts), [t for t in texts if "{" in t]
    assert not any("c_" in t for t in texts)
    # the inputs read c with a subscript: Graphviz writes the subscript as its own shifted text
    subs = [t.text for t in root.iter(SVG + "text") if t.get("baseline-shift") == "sub"]
    if not subs:  # older Graphviz: a tspan inside the text
        subs = [t.text for t in root.iter(SVG + "tspan") if t.get("baseline-shift") == "sub"]
    assert "k-1" in subs and "k" in subs


@needs_dot
def test_cluster_captions_count_what_they_show():
    from graphnas.benchmarks.digits import digits_network

    cell = NB201Space().from_string(ARCH)
    for dag in (genotype_to_dag(DARTS_V2, "pair"), digits_network(cell, C=8, N=1)):
        _, clusters, items = svg_parts(render(dag))
        cell_clusters = [k for k in clusters if k != "cluster_legend"]
        assert cell_clusters
        for key in cell_clusters:
            i = int(key.rsplit("_", 1)[1])
            inner = dag.nodes[i].op
            assert isinstance(inner, DAG)
            caption = " ".join(clusters[key])
            found = re.search(r"node (\d+): (\d+) nodes: (\d+) states \(boxes\), (\d+) ops \(labelled edges\)",
                              caption)
            assert found, caption
            assert int(found[1]) == i and int(found[2]) == len(inner)
            prefix = f"n{i}_"
            boxes = [k for k, _ in items if k.startswith("node:" + prefix)]
            labelled = [k for k, t in items if k.startswith("edge:" + prefix) and t]
            assert int(found[3]) == len(boxes)
            assert int(found[4]) == len(labelled)
            assert len(boxes) + len(labelled) == len(inner)  # every node of the cell is drawn, once
    clusters = svg_parts(render(DARTS_V2))[1]
    names = {" ".join(texts).split(" node ")[0] for key, texts in clusters.items() if key != "cluster_legend"}
    assert names == {"normal cell", "reduction cell"}
