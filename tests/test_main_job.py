"""The main job (`graphnas demo`) end to end with a small budget: files, report, determinism, resume."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch

from graphnas import DAG
from graphnas.benchmarks.digits import accuracy, build_digits_model, load_digits_split
from graphnas.cli import main

SMALL = ["--budget", "4", "--initial", "2", "--epochs", "1", "--max-train", "384", "--surrogate-epochs", "15",
         "--seed", "7"]


def journal_values(path: Path) -> list[tuple[str, float | None]]:
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["format"] == "graphnas.journal"
    out = []
    for line in lines[1:]:
        doc = json.loads(line)
        out.append((DAG.from_dict(doc["dag"]).canonical_key(), doc["value"]))
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The main job run twice with the same seed: once as a real subprocess, once in this process."""
    base = tmp_path_factory.mktemp("demo")
    exe = shutil.which("graphnas") or str(Path(sys.executable).with_name("graphnas"))
    proc = subprocess.run([exe, "demo", "--out", str(base / "a"), *SMALL], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    with pytest.raises(SystemExit) as info:
        main(["demo", "--out", str(base / "b"), *SMALL])
    assert info.value.code == 0
    return base / "a", base / "b", proc.stdout


def test_writes_every_file(runs):
    a, _, stdout = runs
    for name in ("journal.jsonl", "journal_random.jsonl", "best.json", "best.svg", "best_network.svg",
                 "best_model.pt", "search_curve.png", "report.md", "report.html", "summary.json"):
        assert (a / name).is_file() and (a / name).stat().st_size > 0, name
    assert "main job" in stdout and "best cell" in stdout
    assert ET.parse(a / "best.svg").getroot().tag.endswith("svg")
    png = (a / "search_curve.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24])[0] >= 600


def test_summary_and_report_agree_with_the_journals(runs):
    a, _, _ = runs
    summary = json.loads((a / "summary.json").read_text())
    bo = [v for _, v in journal_values(a / "journal.jsonl")]
    rnd = [v for _, v in journal_values(a / "journal_random.jsonl")]
    assert len(bo) == len(rnd) == 4
    assert summary["bo"]["best_value"] == max(v for v in bo if v is not None)
    assert summary["random"]["best_value"] == max(v for v in rnd if v is not None)
    assert summary["best"]["retrained_value"] == summary["best"]["value"]  # deterministic retraining
    report = (a / "report.md").read_text()
    assert f"{summary['bo']['best_value']:.2f}" in report and "search_curve.png" in report
    assert "best.svg" in report and summary["best"]["arch"] in report
    assert "<img src=\"search_curve.png\"" in (a / "report.html").read_text()


def test_saved_model_is_the_trained_one(runs):
    a, _, _ = runs
    summary = json.loads((a / "summary.json").read_text())
    best = DAG.load(str(a / "best.json"))
    model = build_digits_model(best)
    model.load_state_dict(torch.load(a / "best_model.pt", weights_only=True))
    data = load_digits_split()
    assert accuracy(model, data.x_val, data.y_val) == pytest.approx(summary["best"]["value"])


def test_onnx_model(runs):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    a, _, _ = runs
    onnx.checker.check_model(onnx.load(str(a / "best_model.onnx")))


def test_same_seed_same_result(runs):
    a, b, _ = runs
    assert journal_values(a / "journal.jsonl") == journal_values(b / "journal.jsonl")
    assert journal_values(a / "journal_random.jsonl") == journal_values(b / "journal_random.jsonl")
    assert DAG.load(str(a / "best.json")) == DAG.load(str(b / "best.json"))
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    assert sa["best"] == sb["best"]


def test_resume_and_settings_guard(runs, capsys):
    _, b, _ = runs
    before = (b / "journal.jsonl").read_text()
    with pytest.raises(SystemExit) as info:  # same settings: the journals are complete, nothing is re-run
        main(["demo", "--out", str(b), *SMALL])
    assert info.value.code == 0
    assert (b / "journal.jsonl").read_text() == before
    capsys.readouterr()
    other = [*SMALL[:-1], "8"]  # another seed in the same folder is refused
    with pytest.raises(SystemExit) as info:
        main(["demo", "--out", str(b), *other])
    err = capsys.readouterr().err
    assert info.value.code == 1 and "other settings" in err and len(err.strip().splitlines()) == 1


def test_main_job_refuses_zero_epochs_before_writing_anything(tmp_path):
    from graphnas.jobs import MainJobConfig, main_job

    with pytest.raises(ValueError, match="at least 1 training epoch"):
        main_job(tmp_path / "z", MainJobConfig(epochs=0, budget=2))
    assert not (tmp_path / "z" / "config.json").exists()


def test_best_model_loads_back_as_the_docs_say(runs):
    """docs/cli.md: to_torch(DAG.load(best_network.json), in_channels=summary's) + load_state_dict(best_model.pt)."""
    import graphnas

    a, _, _ = runs
    summary = json.loads((a / "summary.json").read_text())
    assert summary["best"]["in_channels"] == 1 and summary["best"]["input_shape"] == [1, 8, 8]
    model = graphnas.to_torch(DAG.load(str(a / "best_network.json")), in_channels=summary["best"]["in_channels"])
    model.load_state_dict(torch.load(a / "best_model.pt", weights_only=True))
    model.eval()
    data = load_digits_split()
    assert accuracy(model, data.x_val, data.y_val) == pytest.approx(summary["best"]["value"])


def test_fresh_is_refused_while_another_run_holds_a_journal(tmp_path):
    import threading

    from graphnas.jobs import MainJobConfig, main_job
    from graphnas.search.loop import journal_lock

    journal = tmp_path / "journal_random.jsonl"
    journal.write_text('{"format": "graphnas.journal", "version": 2}\n')
    held, done = threading.Event(), threading.Event()

    def running_job():  # another driver, mid-run, holds the journal's lock
        with journal_lock(journal):
            held.set()
            done.wait(30)

    other = threading.Thread(target=running_job)
    other.start()
    try:
        held.wait(30)
        with pytest.raises(RuntimeError, match="another running search"):
            main_job(tmp_path, MainJobConfig(budget=2, epochs=1), fresh=True)
    finally:
        done.set()
        other.join()
    assert journal.read_text().startswith('{"format": "graphnas.journal"')  # fresh removed nothing
    assert not (tmp_path / "config.json").exists()
