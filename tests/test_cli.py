"""The `graphnas` command through its real entry point: in-process via main(argv) and as a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch

from graphnas import DAG
from graphnas.cli import main

NB201_ARCH = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run main(argv) in this process; returns (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out, err


def assert_one_line_error(code: int, err: str, *needles: str, status: int = 1) -> None:
    assert code == status, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("graphnas: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_real_entry_point_subprocess(tmp_path):
    exe = shutil.which("graphnas") or str(Path(sys.executable).with_name("graphnas"))
    assert Path(exe).exists(), "the graphnas console script is not installed (pip install -e .)"
    g = tmp_path / "g.json"
    proc = subprocess.run([exe, "generate", "ws", "--n", "32", "--k", "4", "--p", "0.75", "--seed", "0", "-o",
                           str(g)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    dag = DAG.load(str(g))
    assert len(dag) == 34 and dag.num_edges == 32 * 4 // 2 + sum(1 for i in dag.successors(0)) + \
        len(dag.predecessors(33))
    bad = subprocess.run([exe, "render", str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.svg")],
                         capture_output=True, text=True, timeout=120)
    assert_one_line_error(bad.returncode, bad.stderr, "missing.json", "no such file")


def test_generate_is_reproducible_and_prints_json(capsys, tmp_path):
    code, out1, _ = cli(capsys, "generate", "er", "--n", "12", "--p", "0.3", "--seed", "5")
    assert code == 0
    code, out2, _ = cli(capsys, "generate", "er", "--n", "12", "--p=0.3", "--seed", "5")
    assert out1 == out2 and DAG.from_json(out1) == DAG.from_json(out2)
    code, out3, _ = cli(capsys, "generate", "er", "--n", "12", "--p", "0.3", "--seed", "6")
    assert DAG.from_json(out3) != DAG.from_json(out1)
    code, out, _ = cli(capsys, "generate", "nb201", "--seed", "1", "-o", tmp_path / "c.json",
                       "--render", tmp_path / "c.svg")
    assert code == 0 and DAG.load(str(tmp_path / "c.json"))
    assert ET.parse(tmp_path / "c.svg").getroot().tag.endswith("svg")


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf", "dot"])
def test_render_formats(capsys, tmp_path, fmt):
    code, _, _ = cli(capsys, "generate", "ba", "--n", "20", "--m", "2", "-o", tmp_path / "g.json")
    out = tmp_path / f"g.{fmt}"
    code, _, err = cli(capsys, "render", tmp_path / "g.json", "-o", out)
    assert code == 0, err
    data = out.read_bytes()
    magic = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF", "dot": b"digraph"}[fmt]
    assert data.startswith(magic)
    assert "note:" not in err  # 20 nodes fit


def test_render_notes_a_drawing_too_small_to_read(capsys, tmp_path):
    cli(capsys, "generate", "er", "--n", "300", "--p", "0.01", "-o", tmp_path / "er.json")
    code, _, err = cli(capsys, "render", tmp_path / "er.json", "-o", tmp_path / "er.png")
    assert code == 0 and "note: shrunk to 1" in err and "--full-size" in err and "Warning" not in err
    code, _, err = cli(capsys, "render", tmp_path / "er.json", "-o", tmp_path / "er.svg", "--full-size")
    assert code == 0 and "note:" not in err


def test_render_genotype_and_arch_string(capsys, tmp_path):
    code, _, err = cli(capsys, "render", "DARTS_V2", "-o", tmp_path / "d.svg", "--title", "DARTS V2")
    assert code == 0, err
    texts = ["".join(t.itertext()) for t in ET.parse(tmp_path / "d.svg").getroot().iter()
             if t.tag.endswith("text")]
    assert "normal cell" in texts and "reduction cell" in texts and "DARTS V2" in texts
    code, _, err = cli(capsys, "render", NB201_ARCH, "-o", tmp_path / "a.svg")
    assert code == 0, err


def test_compile_outputs(capsys, tmp_path):
    cell = tmp_path / "cell.json"
    code, _, _ = cli(capsys, "generate", "nb201", "--seed", "3", "-o", cell)
    code, _, err = cli(capsys, "compile", cell, "-o", tmp_path / "m.pt", "--C", "4")
    assert code == 0, err
    assert "parameters" in err
    state = torch.load(tmp_path / "m.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values()) and any("cell_" in k for k in state)
    code, _, err = cli(capsys, "compile", cell, "-o", tmp_path / "m.py", "--C", "4")
    assert code == 0, err
    code_text = (tmp_path / "m.py").read_text()
    assert "def forward(self, x)" in code_text and "cell_" in code_text
    code, _, err = cli(capsys, "compile", cell, "-o", tmp_path / "net.json")
    net = DAG.load(str(tmp_path / "net.json"))
    assert net.nodes[-1].op == "linear" and sum(n.is_nested for n in net.nodes) == 2
    code, _, err = cli(capsys, "compile", "DARTS_V2", "-m", "darts", "-o", tmp_path / "d.pt", "--C", "8", "--layers",
                       "5")
    assert code == 0, err
    from graphnas import count_params, models, to_torch
    from graphnas.genotypes import DARTS_V2

    # the model's parameters reach its builder: the same network as graphnas.models.darts_cifar
    assert f"{count_params(to_torch(models.darts_cifar(DARTS_V2, C=8, layers=5))):,} parameters" in err
    assert_one_line_error(*cli(capsys, "compile", "DARTS_V2", "-m", "darts", "-o", tmp_path / "d.pt", "--N",
                               "1")[::2], "model 'darts' has no parameter --N", "--layers")
    assert_one_line_error(*cli(capsys, "compile", cell, "-m", "nb202", "-o", tmp_path / "x.pt")[::2],
                          "unknown model 'nb202'", "did you mean 'nb201'", "darts_cifar")


def test_version_through_the_real_entry_point():
    import graphnas

    exe = shutil.which("graphnas") or str(Path(sys.executable).with_name("graphnas"))
    for flag in ("--version", "-V"):
        proc = subprocess.run([exe, flag], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"graphnas {graphnas.__version__}"


def test_compile_onnx(capsys, tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    cell = tmp_path / "cell.json"
    cli(capsys, "generate", "nb201", "--seed", "2", "-o", cell)
    code, _, err = cli(capsys, "compile", cell, "-o", tmp_path / "m.onnx", "--C", "4")
    assert code == 0, err
    model = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["x"]


def test_info(capsys):
    code, out, _ = cli(capsys, "info")
    assert code == 0
    for needle in ("graphnas", "torch", "graphviz dot", "generators", "spaces", "ops", "ws", "nb201",
                   "nor_conv_3x3", "models (", "darts_cifar", "optimizers (", "random", "rea", "bo", "asha", "nash"):
        assert needle in out


def test_user_mistakes_are_one_line(capsys, tmp_path):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"format": "graphnas.dag", "version": 1, "nodes": [')
    assert_one_line_error(*cli(capsys, "render", bad_json, "-o", tmp_path / "x.svg")[::2], "bad.json",
                          "malformed JSON")
    cyclic = tmp_path / "cyclic.json"
    cyclic.write_text(json.dumps({"format": "graphnas.dag", "version": 1,
                                  "nodes": [{"op": "input"}, {"op": "conv_3x3"}], "edges": [[1, 0]]}))
    assert_one_line_error(*cli(capsys, "compile", cyclic, "-o", tmp_path / "m.pt")[::2], "cyclic.json",
                          "edge (1, 0)")
    unknown_op = tmp_path / "op.json"
    unknown_op.write_text(json.dumps({"format": "graphnas.dag", "version": 1,
                                      "nodes": [{"op": "input"}, {"op": "conv_9x9"}, {"op": "identity"}],
                                      "edges": [[0, 1], [1, 2]]}))
    assert_one_line_error(*cli(capsys, "compile", unknown_op, "-o", tmp_path / "m.pt", "-m", "none")[::2],
                          "conv_9x9")
    assert_one_line_error(*cli(capsys, "generate", "nope")[::2], "unknown generator or space 'nope'", "ws")
    assert_one_line_error(*cli(capsys, "generate", "ws", "--n", "8", "--k", "2")[::2], "needs --p")
    assert_one_line_error(*cli(capsys, "generate", "ws", "--n", "8", "--k", "2", "--p", "0.1", "--q", "1")[::2],
                          "no parameter --q")
    assert_one_line_error(*cli(capsys, "search", "--space", "nospace", "--budget", "2", "--out",
                               tmp_path / "s")[::2], "unknown space 'nospace'")
    assert_one_line_error(*cli(capsys, "search", "--objective", "imagenet", "--budget", "2", "--out",
                               tmp_path / "s")[::2], "unknown objective 'imagenet'")
    assert_one_line_error(*cli(capsys, "search", "--objective", "nb201:/no/such.csv", "--budget", "2", "--out",
                               tmp_path / "s")[::2], "/no/such.csv")
    assert_one_line_error(*cli(capsys, "search", "--optimizer", "sgd", "--budget", "2", "--out",
                               tmp_path / "s")[::2], "unknown optimizer 'sgd'")
    assert_one_line_error(*cli(capsys, "search", "--optimizer", "REA", "--budget", "2", "--out",
                               tmp_path / "s")[::2], "unknown optimizer 'REA'", "did you mean 'rea'")
    assert_one_line_error(*cli(capsys, "search", "--optimizer", "random", "--initial", "3", "--budget", "2",
                               "--out", tmp_path / "s")[::2], "--initial", "optimizer 'random'")
    assert_one_line_error(*cli(capsys, "compile", tmp_path / "op.json", "-o", tmp_path / "m.txt")[::2],
                          "unknown output type")
    # the CLI's --format, not the Python keyword format=
    assert_one_line_error(*cli(capsys, "render", "DARTS_V2", "-o", tmp_path / "x.jpg")[::2], "x.jpg", "--format")
    assert "format=" not in cli(capsys, "render", "DARTS_V2", "-o", tmp_path / "x.jpg")[2]
    code, _, err = cli(capsys, "render", "DARTS_V2", "-o", tmp_path / "x.jpg", "--format", "svg")
    assert code == 0, err
    assert (tmp_path / "x.jpg").read_bytes().startswith(b"<?xml")
    assert_one_line_error(*cli(capsys, "render", "DARTS_V2", "-o", tmp_path / "no" / "x.svg")[::2], "x.svg")
    # a bad command line: status 2, still one line
    assert_one_line_error(*cli(capsys, "render", "--bogus")[::2], "--bogus", status=2)
    assert_one_line_error(*cli(capsys, "frobnicate")[::2], "frobnicate", status=2)


def test_missing_dot_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, _, err = cli(capsys, "render", "DARTS_V2", "-o", tmp_path / "x.svg")
    assert_one_line_error(code, err, "Graphviz", "apt-get install graphviz")


def test_search_with_a_table_objective(capsys, tmp_path):
    from graphnas.generators import get_generator

    space = get_generator("nb201")
    table = tmp_path / "table.csv"
    rows = ["arch,acc"]
    for dag in space.enumerate():  # a synthetic table over all 15,625 cells: more 3x3 convs score higher
        rows.append(f"{space.to_string(dag)},{50 + 5 * sum(op == 'nor_conv_3x3' for op in dag.ops)}")
    table.write_text("\n".join(rows) + "\n")
    out = tmp_path / "run"
    code, stdout, err = cli(capsys, "search", "--space", "nb201", "--objective", f"nb201:{table}", "--optimizer",
                            "random", "--budget", "6", "--seed", "0", "--out", out)
    assert code == 0, err
    lines = (out / "journal.jsonl").read_text().splitlines()
    assert len(lines) == 1 + 6
    summary = json.loads((out / "summary.json").read_text())
    assert summary["evaluations"] == 6 and summary["failed"] == 0 and summary["optimizer"] == "random"
    best = DAG.load(str(out / "best.json"))
    assert summary["best_value"] == 50 + 5 * sum(op == "nor_conv_3x3" for op in best.ops)
    assert (out / "best.svg").exists()


def test_search_digits_rea(capsys, tmp_path):
    out = tmp_path / "rea"
    code, stdout, err = cli(capsys, "search", "--space", "nb201", "--objective", "digits", "--optimizer", "rea",
                            "--budget", "4", "--population", "3", "--sample-size", "2", "--epochs", "1", "--out", out)
    assert code == 0, err
    assert "best of 4 evaluations" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["evaluations"] == 4 and 0 < summary["best_value"] <= 100
    assert summary["optimizer_params"] == {"population": 3, "sample_size": 2}
    assert DAG.load(str(out / "best.json"))


@pytest.mark.parametrize(("optimizer", "params"), [("random", []), ("rea", ["--population", "2", "--sample-size", "1"]),
                                                   ("bo", ["--initial", "2"])])
def test_search_randwire_on_digits(capsys, tmp_path, optimizer, params):
    from graphnas.generators import RandWireSpace

    out = tmp_path / optimizer
    code, stdout, err = cli(capsys, "search", "--space", "randwire", "--n", "6", "--objective", "digits",
                            "--optimizer", optimizer, "--budget", "3", *params, "--epochs", "2",
                            "--seed", "0", "--out", out)
    assert code == 0, err
    assert "best of 3 evaluations" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["space"] == "randwire" and summary["space_params"] == {"n": 6}
    assert summary["evaluations"] == 3 and summary["failed"] == 0
    assert summary["best_value"] > 20  # above chance (10%) after 2 epochs: the RandWire stages train
    best = DAG.load(str(out / "best.json"))
    assert RandWireSpace(n=6).contains(best) and len(best) == 8
    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()[1:]]
    dags = [DAG.from_dict(e["dag"]) for e in journal]
    assert len(dags) == 3 and all(RandWireSpace(n=6).contains(d) for d in dags)


def test_search_randwire_mistakes_are_one_line(capsys, tmp_path):
    table = tmp_path / "table.csv"
    table.write_text("arch,acc\n|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|,50\n")
    out = tmp_path / "s"
    assert_one_line_error(*cli(capsys, "search", "--space", "randwire", "--objective", f"nb201:{table}",
                               "--budget", "2", "--out", out)[::2], "only knows NAS-Bench-201 cells", "'randwire'")
    assert_one_line_error(*cli(capsys, "search", "--space", "randwire", "--generator", "nb201", "--budget", "2",
                               "--out", out)[::2], "registered generator function", "ws")
    assert_one_line_error(*cli(capsys, "search", "--space", "randwire", "--n", "4", "--budget", "2",
                               "--out", out)[::2], "even k")
    assert_one_line_error(*cli(capsys, "search", "--space", "randwire", "--bogus", "1", "--budget", "2",
                               "--out", out)[::2], "no option --bogus", "--generator, --n, --params", "--initial")
    assert_one_line_error(*cli(capsys, "search", "--space", "ws", "--optimizer", "bo", "--budget", "2",
                               "--out", out)[::2], "--space randwire --generator ws")
    assert not (out / "journal.jsonl").exists()


def test_zero_epochs_is_refused_before_any_training(capsys, tmp_path):
    # before: every evaluation failed one by one; demo then died with a RuntimeError traceback
    assert_one_line_error(*cli(capsys, "demo", "--out", tmp_path / "d", "--epochs", "0", "--budget", "2")[::2],
                          "'--epochs'", "greater than or equal to 1", status=2)
    assert not (tmp_path / "d" / "config.json").exists()
    assert_one_line_error(*cli(capsys, "search", "--epochs", "0", "--budget", "2", "--out", tmp_path / "s")[::2],
                          "'--epochs'", "greater than or equal to 1", status=2)
    assert not (tmp_path / "s" / "journal.jsonl").exists()


def test_search_resumes_its_own_journal_and_refuses_another_search_in_the_same_folder(capsys, tmp_path):
    out = tmp_path / "s"
    base = ["search", "--space", "nb201", "--objective", "digits", "--optimizer", "random", "--epochs", "1",
            "--seed", "0", "--out", out]
    code, _, err = cli(capsys, *base, "--budget", "2")
    assert code == 0, err
    code, _, err = cli(capsys, *base, "--budget", "3")  # a larger budget carries on
    assert code == 0, err
    assert len((out / "journal.jsonl").read_text().splitlines()) == 1 + 3
    other = [a if a != "random" else "rea" for a in base]
    code, _, err = cli(capsys, *other, "--budget", "3")
    assert code == 1 and "holds a run with other settings (optimizer: 'random' -> 'rea')" in err and "--fresh" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = cli(capsys, *other, "--budget", "2", "--fresh")
    assert code == 0, err
    assert len((out / "journal.jsonl").read_text().splitlines()) == 1 + 2
    # another command's folder is refused, --fresh or not: before, oneshot replaced the search's summary.json
    summary = (out / "summary.json").read_bytes()
    for fresh in ([], ["--fresh"]):
        code, _, err = cli(capsys, "oneshot", "--epochs", "1", "--max-train", "64", "--out", out, *fresh)
        assert_one_line_error(code, err, "holds the output of `graphnas search`")
    assert (out / "summary.json").read_bytes() == summary and (out / "journal.jsonl").exists()
    # a folder written before config.json was kept is told by its files
    old = tmp_path / "old_oneshot"
    old.mkdir()
    (old / "supernet.pt").write_bytes(b"")
    code, _, err = cli(capsys, "search", "--objective", "nb201", "--budget", "2", "--out", old, "--fresh")
    assert_one_line_error(code, err, "holds the output of `graphnas oneshot`")


def test_compiled_python_module_imports_and_runs(capsys, tmp_path, monkeypatch):
    """-o m.py is an importable module: build() gives the network, and the .pt of the same command loads into it."""
    import importlib

    cell = tmp_path / "cell.json"
    cli(capsys, "generate", "nb201", "--seed", "3", "-o", cell)
    for suffix in ("py", "pt"):
        code, _, err = cli(capsys, "compile", cell, "-o", tmp_path / f"net.{suffix}", "--C", "4", "--seed", "5")
        assert code == 0, err
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("net")
    model = module.build()
    model.load_state_dict(torch.load(tmp_path / "net.pt", weights_only=True))
    model.eval()
    assert module.INPUT_SHAPE == (1, 8, 8) and module.IN_CHANNELS == 1
    x = torch.randn(3, *module.INPUT_SHAPE)
    y = model(x)
    assert y.shape == (3, 10)
    from graphnas.benchmarks.digits import build_digits_model

    reference = build_digits_model(DAG.load(str(cell)), C=4, N=1)
    reference.load_state_dict(torch.load(tmp_path / "net.pt", weights_only=True))
    reference.eval()
    assert torch.allclose(reference(x), y)  # the same network as the digits model
    # a genotype in DARTS' network, through the real console script's output file
    code, _, err = cli(capsys, "compile", "darts_v2", "-m", "darts", "--C", "4", "--layers", "3",
                       "-o", tmp_path / "darts_small.py")
    assert code == 0, err
    darts = importlib.import_module("darts_small").build()
    assert darts(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_compile_seed_leaves_the_global_generator_alone(capsys, tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    code, _, err = cli(capsys, "compile", NB201_ARCH, "-o", tmp_path / "m.pt", "--seed", "9")
    assert code == 0, err
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(("argv", "needles"), [
    (["compile", NB201_ARCH, "-o", "m.pt", "--C", "0"], ["--C", "positive"]),
    (["compile", NB201_ARCH, "-o", "m.pt", "--N", "-2"], ["--N", "positive"]),
    (["compile", NB201_ARCH, "-o", "m.pt", "--N", "-1"], ["--N", "positive"]),
    (["compile", NB201_ARCH, "-o", "m.pt", "-m", "nb201", "--C", "0"], ["--C", "positive"]),
    (["compile", NB201_ARCH, "-o", "m.pt", "-m", "nb201", "--N", "abc"], ["--N", "'abc' is not a number"]),
    (["compile", "DARTS_V2", "-m", "darts", "-o", "m.pt", "--layers", "0"], ["--layers", "positive"]),
    (["compile", "DARTS_V2", "-m", "darts", "-o", "m.pt", "--drop-path", "1.5"], ["--drop-path"]),
    (["generate", "ws", "--n", "abc", "--k", "4", "--p", "0.5"],
     ["invalid value for --n", "'abc' is not a number"]),
    (["generate", "ws", "--n", "8", "--k", "4", "--p", "NaN"], ["--p", "not a finite number"]),
    (["generate", "randwire", "--n", "0"], ["--n", "n >= 2"]),
    # the bad value is inside --params (before: blamed on --n, or on --generator and --n)
    (["generate", "randwire", "--generator", "ws", "--n", "8", "--params", '{"k": 3}'],
     ["invalid value for --params:", "even k"]),
    (["generate", "randwire", "--generator", "ws", "--n", "8", "--params", '{"q": 3}'],
     ["invalid value for --params:", "got 'q'"]),
    (["search", "--objective", "nb201", "--optimizer", "rea", "--population", "0"], ["--population"]),
    (["search", "--objective", "nb201", "--optimizer", "bo", "--top-k", "0"], ["--top-k"]),
    (["search", "--objective", "nb201", "--optimizer", "rea", "--sample-size", "x"],
     ["--sample-size", "'x' is not a number"]),
])
def test_bad_registry_parameters_name_the_option(capsys, tmp_path, monkeypatch, argv, needles):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(*cli(capsys, *argv, *(["--out", "s"] if argv[0] == "search" else []))[::2], *needles)
    assert not (tmp_path / "m.pt").exists() and not (tmp_path / "s" / "journal.jsonl").exists()


@pytest.mark.parametrize(("argv", "option"), [
    (["search", "--workers", "0"], "--workers"),
    (["search", "--initial", "-1"], "--initial"),
    (["search", "--budget", "0"], "--budget"),
    (["render", "DARTS_V2", "-o", "x.svg", "--expand", "-1"], "--expand"),
    (["compile", NB201_ARCH, "-o", "m.pt", "--num-classes", "0"], "--num-classes"),
    (["demo", "--initial", "-1"], "--initial"),
    (["demo", "--budget", "1"], "--budget"),
])
def test_bad_numeric_options_are_refused(capsys, tmp_path, monkeypatch, argv, option):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(*cli(capsys, *argv, *(["--out", "s"] if argv[0] in ("search", "demo") else []))[::2],
                          f"'{option}'", status=2)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_genotype_names_ignore_case(capsys, tmp_path):
    for name in ("darts_v2", "Darts_V2", "DARTS_V2"):
        code, _, err = cli(capsys, "render", name, "-o", tmp_path / f"{name}.svg")
        assert code == 0, err
        code, _, err = cli(capsys, "compile", name, "-m", "darts", "-o", tmp_path / f"{name}.json")
        assert code == 0, err
    assert DAG.load(str(tmp_path / "darts_v2.json")) == DAG.load(str(tmp_path / "DARTS_V2.json"))


def test_search_with_the_packaged_table_keeps_the_full_arch(capsys, tmp_path):
    from graphnas.benchmarks import NB201Table
    from graphnas.generators import NB201Space

    out = tmp_path / "run"
    code, stdout, err = cli(capsys, "search", "--space", "nb201", "--objective", "nb201", "--optimizer", "random",
                            "--budget", "5", "--seed", "0", "--out", out)
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    best = DAG.load(str(out / "best.json"))
    arch = NB201Space().to_string(best)
    assert summary["best_arch"] == arch and DAG.from_dict(summary["best_dag"]) == best
    assert summary["best_value"] == NB201Table()(arch)
    assert f"best: {arch}" in stdout  # the whole string on one line, to copy
    assert "..." not in stdout and "\u2026" not in stdout  # nothing cut in the table
    table_text = "".join(line.strip("\u2502 ").split("\u2502")[-1].strip() for line in stdout.splitlines()
                         if line.startswith("\u2502"))
    assert arch in table_text  # the arch column folds the string, whole


def test_search_plot_shows_points_below_its_range(tmp_path):
    """An evaluation far below the curves (a cell at chance) is drawn on the bottom edge, not dropped."""
    from graphnas.report import plot_search_curves

    best = [90.0, 95.0, 95.0, 97.0]
    with_low = plot_search_curves({"BO + GNN surrogate": best}, tmp_path / "low.png",
                                  points={"BO + GNN surrogate": [90.0, 95.0, 10.0, 97.0]})
    without = plot_search_curves({"BO + GNN surrogate": best}, tmp_path / "nan.png",
                                 points={"BO + GNN surrogate": [90.0, 95.0, float("nan"), 97.0]})
    assert with_low.read_bytes() != without.read_bytes()


def test_readme_shell_lines_run_as_written(tmp_path):
    """The README's shell one-liners, as written, after its set-up (the venv's bin on PATH, as activate does)."""
    import os
    import re

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    lines = [line for line in lines if line.startswith("graphnas ") or line.startswith(". .venv")]
    assert ". .venv/bin/activate" in lines and lines.index(". .venv/bin/activate") < lines.index(
        next(line for line in lines if line.startswith("graphnas ")))
    exe = shutil.which("graphnas") or str(Path(sys.executable).with_name("graphnas"))
    env = {**os.environ, "PATH": str(Path(exe).parent) + os.pathsep + os.environ.get("PATH", "")}
    ran = 0
    for line in lines:
        if line.startswith(". .venv") or " search " in f" {line} " and "digits" in line:
            continue  # activate: done by PATH above; a digits search trains (tested elsewhere)
        proc = subprocess.run(line, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, (line, proc.stderr)
        ran += 1
    assert ran >= 4
    assert DAG.load(str(tmp_path / "g.json")) and (tmp_path / "g.svg").exists()


def test_search_reinforce_on_the_packaged_table_draws_its_policy(capsys, tmp_path):
    """--optimizer reinforce comes from the registry; its output adds the learned policy as a picture."""
    out = tmp_path / "rl"
    code, stdout, err = cli(capsys, "search", "--space", "nb201", "--objective", "nb201", "--optimizer", "reinforce",
                            "--budget", "12", "--seed", "1", "--out", out, "--policy", "independent")
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["optimizer"] == "reinforce" and summary["optimizer_params"] == {"policy": "independent"}
    assert summary["evaluations"] == 12 and summary["best_arch"].startswith("|")
    png = (out / "policy.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5_000
    assert "policy.png" in stdout
    # the same search again gives the same journal (same seed, same trajectory)
    again = tmp_path / "rl2"
    code, _, err = cli(capsys, "search", "--space", "nb201", "--objective", "nb201", "--optimizer", "reinforce",
                       "--budget", "12", "--seed", "1", "--out", again, "--policy", "independent")
    assert code == 0, err
    values = [json.loads(line).get("value") for line in (out / "journal.jsonl").read_text().splitlines()[1:]]
    assert values == [json.loads(line).get("value") for line in (again / "journal.jsonl").read_text().splitlines()[1:]]


def test_render_expand_all_and_full_size(capsys, tmp_path):
    from graphnas.models import get_model

    get_model("darts_cifar", genotype="DARTS_V2").save(str(tmp_path / "net.json"))

    def height(name, *flags):
        code, _, err = cli(capsys, "render", tmp_path / "net.json", "-o", tmp_path / name, *flags)
        assert code == 0, err
        return float(ET.parse(tmp_path / name).getroot().get("height").removesuffix("pt"))

    fitted = height("fit.svg")
    assert fitted * 4 / 3 <= 1200 + 1  # fits a notebook cell by default
    assert height("all.svg", "--expand", "all", "--full-size") > 5 * fitted  # every copy, natural size
    code, _, err = cli(capsys, "render", tmp_path / "net.json", "-o", tmp_path / "x.svg", "--expand", "some")
    assert_one_line_error(code, err, "'--expand'", "'some'", status=2)


def test_the_error_examples_in_docs_cli_are_what_the_command_prints(capsys, tmp_path, monkeypatch):
    """docs/cli.md shows `$ graphnas ...` lines each followed by the error it prints: they must not drift."""
    block = Path(__file__).resolve().parents[1].joinpath("docs", "cli.md").read_text().split("```text\n")[1]
    lines = block.split("```")[0].splitlines()
    pairs = [(lines[i][2:], lines[i + 1]) for i in range(len(lines) - 1) if lines[i].startswith("$ graphnas ")]
    assert len(pairs) >= 5
    monkeypatch.chdir(tmp_path)
    assert cli(capsys, "generate", "ws", "--n", "32", "--k", "4", "--p", "0.75", "--seed", "0", "-o", "g.json")[0] == 0
    for command, expected in pairs:
        code, _, err = cli(capsys, *command.split()[1:])
        assert code != 0, command
        assert " ".join(err.split()) == expected, (command, err)


def test_an_error_message_ending_in_a_quoted_value_keeps_its_quote(capsys):
    code, _, err = cli(capsys, "search", "--space", "nb201", "--objective", "nb201", "--optimizer", "reinforce",
                       "--policy", "bogus", "--budget", "3")
    assert_one_line_error(code, err, "got 'bogus'")


def test_oneshot_on_a_graph_generator_says_which_spaces_have_a_supernet(capsys, tmp_path):
    code, _, err = cli(capsys, "oneshot", "--space", "ws", "--epochs", "1", "--out", tmp_path / "os")
    assert_one_line_error(code, err, "the generator 'ws' has no supernet", "NB201Space")


def test_an_out_path_that_is_a_file_is_named_as_such(capsys, tmp_path):
    (tmp_path / "notadir").write_text("x")
    code, _, err = cli(capsys, "search", "--space", "nb201", "--objective", "nb201", "--optimizer", "random",
                       "--budget", "3", "--out", tmp_path / "notadir")
    assert_one_line_error(code, err, "notadir", "a file is in the way")


def test_nash_on_a_lookup_objective_shows_why_the_root_failed(capsys, tmp_path):
    code, _, err = cli(capsys, "search", "--space", "nb201", "--objective", "nb201", "--optimizer", "nash",
                       "--budget", "3", "--out", tmp_path / "nash")
    last = err.strip().splitlines()[-1]  # after the progress bar's line
    assert code == 1 and "Traceback" not in err, err
    for needle in ("graphnas: error: NASH: the root network failed to train", "not a NAS-Bench-201 cell",
                   "an objective that trains"):
        assert needle in last, (needle, last)


def test_a_budget_the_journal_already_holds_says_nothing_new_was_run(capsys, tmp_path):
    base = ["search", "--space", "nb201", "--objective", "nb201", "--optimizer", "random", "--seed", "0",
            "--out", tmp_path / "t"]
    assert cli(capsys, *base, "--budget", "5")[0] == 0
    code, out, err = cli(capsys, *base, "--budget", "3")
    assert code == 0, err
    assert "already holds 5 evaluations (--budget 3): nothing new was run" in " ".join(out.split())
    code, out, err = cli(capsys, *base, "--budget", "6")
    assert code == 0 and "nothing new was run" not in out


def test_compile_a_network_with_an_auxiliary_head(capsys, tmp_path):
    """In eval mode DARTS' auxiliary head gives None; the summary line reports the outputs there are (before:
    a traceback after the model file was written)."""
    code, _, err = cli(capsys, "compile", "DARTS_V2", "--model", "darts", "--C", "8", "--layers", "5",
                       "--auxiliary", "true", "-o", tmp_path / "m.pt")
    assert code == 0, err
    assert "output [(2, 10)]" in err  # the example batch of 2, the main head alone


@pytest.mark.parametrize("command", ["search", "render", "demo", "oneshot"])
def test_help_shows_flags_without_a_value(capsys, command):
    # before: typer's rich help printed "--fresh <bool>", and "--fresh true" was then refused
    code, out, _ = cli(capsys, command, "--help")
    assert code == 0 and "Usage: graphnas " + command in out
    assert "<bool>" not in out and "-h, --help" in out


def test_the_command_list_is_not_cut_off(capsys):
    code, out, _ = cli(capsys, "--help")
    commands = out.split("Commands:")[1].strip().splitlines()
    assert code == 0 and len(commands) == 7 and not any(line.rstrip().endswith("...") for line in commands)
