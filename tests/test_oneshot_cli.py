"""`graphnas oneshot` (issue 11, part 5): the files it writes, resuming, and its errors."""

from __future__ import annotations

import json

import pytest
import torch
from test_cli import assert_one_line_error, cli

from graphnas import DAG, to_torch
from graphnas.generators import NB201Space


def test_oneshot_writes_cell_pictures_model_and_report(capsys, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = cli(capsys, "oneshot", "--space", "nb201", "--method", "darts", "--epochs", "2",
                            "--final-epochs", "1", "--max-train", "96", "-C", "4", "--out", out, "--no-progress")
    assert code == 0, err
    assert "derived cell |" in stdout
    for name in ("derived.json", "derived.svg", "arch_weights.png", "curves.png", "model.pt", "model.onnx",
                 "network.json", "report.md", "summary.json", "supernet.pt"):
        assert (out / name).stat().st_size > 0, name
    cell = DAG.load(str(out / "derived.json"))
    assert NB201Space().contains(cell)
    model = to_torch(DAG.load(str(out / "network.json")), in_channels=1)
    model.load_state_dict(torch.load(out / "model.pt", weights_only=True))
    summary = json.loads((out / "summary.json").read_text())
    assert summary["derived"]["arch"] == NB201Space().to_string(cell)
    assert len(summary["supernet"]["history"]) == 2
    assert summary["derived"]["arch"] in (out / "report.md").read_text()
    # before: resumed and recorded order 2 / aux_skip 1 for a supernet trained with neither
    for other in (["--order", "2"], ["--aux-skip", "1"]):
        code, _, err = cli(capsys, "oneshot", "--space", "nb201", "--method", "darts", "--epochs", "2",
                           "--final-epochs", "1", "--max-train", "96", "-C", "4", "--out", out, "--no-progress",
                           *other)
        assert_one_line_error(code, err, "holds a run with other settings")
    assert json.loads((out / "summary.json").read_text()) == summary
    code, _, err = cli(capsys, "search", "--space", "nb201", "--objective", "nb201", "--budget", "2", "--out", out,
                       "--fresh")  # before: replaced the one-shot run's summary.json
    assert_one_line_error(code, err, "holds the output of `graphnas oneshot`")
    assert json.loads((out / "summary.json").read_text()) == summary
    # the final training may change: the trained supernet is resumed, only the derived network retrained
    code, _, err = cli(capsys, "oneshot", "--space", "nb201", "--method", "darts", "--epochs", "2",
                       "--final-epochs", "2", "--max-train", "96", "-C", "4", "--out", out, "--no-progress")
    assert code == 0, err
    again = json.loads((out / "summary.json").read_text())
    assert again["supernet"]["history"] == summary["supernet"]["history"]
    assert again["derived"]["arch"] == summary["derived"]["arch"]
    # a checkpoint of an older graphnas (its tag without the method's settings) is refused, not resumed
    ck = torch.load(out / "supernet.pt", weights_only=True)
    ck["tag"] = ck["tag"].split(":wd=")[0] + ":seed=0"
    torch.save(ck, out / "supernet.pt")
    code, _, err = cli(capsys, "oneshot", "--space", "nb201", "--method", "darts", "--epochs", "2",
                       "--final-epochs", "2", "--max-train", "96", "-C", "4", "--out", out, "--no-progress")
    assert_one_line_error(code, err, "written by an older graphnas", "--fresh")


def test_oneshot_refuses_a_space_without_supernet(capsys, tmp_path):
    code, _, err = cli(capsys, "oneshot", "--space", "nasnet", "--method", "random", "--out", tmp_path / "x")
    assert_one_line_error(code, err, "has no supernet")
    code, _, err = cli(capsys, "oneshot", "--method", "enas", "--aux-skip", "1", "--out", tmp_path / "y")
    assert_one_line_error(code, err, "--aux-skip is an option of --method darts")
    code, _, err = cli(capsys, "oneshot", "--method", "random", "--order", "2", "--out", tmp_path / "z")
    assert_one_line_error(code, err, "--order is an option of --method darts")


@pytest.mark.parametrize("method", ["enas", "random"])
def test_oneshot_other_methods(capsys, tmp_path, method):
    out = tmp_path / method
    code, stdout, err = cli(capsys, "oneshot", "--method", method, "--epochs", "1", "--final-epochs", "1",
                            "--max-train", "64", "-C", "4", "--out", out, "--no-progress")
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ranking"] and not (out / "arch_weights.png").exists()
