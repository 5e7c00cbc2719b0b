"""The main job: a surrogate-guided search on digits with real training, against random search.

`main_job` runs Bayesian optimisation with the GNN surrogate over
NAS-Bench-201 cells placed in the small digits skeleton
(`graphnas.benchmarks.digits.digits_network`), each evaluated by real
training (`graphnas.benchmarks.train_eval`), then random search on the same
budget and the same objective, and writes into one folder:

========================  =============================================================
``journal.jsonl``         every BO evaluation (graph, accuracy, seconds), resumable
``journal_random.jsonl``  the random-search baseline
``best.json``             the best cell (``DAG.save``)
``best.svg``              the best cell, drawn DARTS-style
``best_network.json``     the whole digits network around it (``DAG.save``; one input channel)
``best_network.svg``      the same, drawn
``best_model.pt``         its retrained weights (``torch.save(state_dict)``)
``best_model.onnx``       the same model as ONNX (needs ``onnx`` and ``onnxscript``)
``search_curve.png``      best accuracy so far against evaluations, BO and random
``report.md``             the figures and pictures (also ``report.html``)
``summary.json``          the figures as data
========================  =============================================================

Loading the trained model back (``summary.json`` holds ``best.in_channels`` and ``best.input_shape``):

```python
import torch, graphnas
model = graphnas.to_torch(graphnas.DAG.load("runs/demo/best_network.json"), in_channels=1)
model.load_state_dict(torch.load("runs/demo/best_model.pt", weights_only=True))
model.eval()   # model(x): x of shape (batch, 1, 8, 8) as graphnas.benchmarks.digits.load_digits_split gives
```

The same seed gives the same result: the objective trains deterministically and
every random choice (sampling, mutation, the surrogate) is seeded. Library code
here prints nothing; the ``graphnas demo`` command adds the progress bar.
`prepare_output` guards an output folder against mixing two runs; ``graphnas
search`` uses it too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["MainJobConfig", "ProgressCallback", "main_job", "prepare_output"]

log = logging.getLogger(__name__)

#: ``progress(phase, done, total, evaluation)``: phase is ``"bo"``, ``"random"`` or ``"final"``.
ProgressCallback = Callable[[str, int, int, Any], None]


@dataclass(frozen=True)
class MainJobConfig:
    """Settings of `main_job`; the defaults finish in a few minutes on 2 CPU cores."""

    seed: int = 0
    budget: int = 60
    epochs: int = 3
    C: int = 8
    N: int = 1
    initial: int = 8
    baseline: bool = True
    max_train: int | None = None
    surrogate_epochs: int = 150
    surrogate_warm_epochs: int = 40


def _summarise(history: Any, seconds: float) -> dict[str, Any]:
    values = history.values
    ok = [v for v in values if math.isfinite(v)]
    best = history.best
    best_index = next((i for i, e in enumerate(history.evaluations) if e is best), -1)
    return {
        "evaluations": len(values),
        "failed": len(values) - len(ok),
        "best_value": history.best_value,
        "best_index": best_index,
        "mean_value": sum(ok) / len(ok) if ok else float("nan"),
        "values": values,
        "best_so_far": history.best_so_far,
        "seconds": seconds,
        "train_seconds": sum(e.seconds for e in history.evaluations),
    }


def prepare_output(out: str | Path, config: MainJobConfig | Mapping[str, Any], *, fresh: bool = False,
                   may_change: Sequence[str] = ("budget",)) -> Path:
    """Create the output folder; with ``fresh`` remove old journals; refuse a folder holding other settings.

    ``config`` is the main job's settings or any JSON-able mapping (``graphnas search`` passes its
    options, with ``"command"``). Resuming a journal written with other settings would mix two searches,
    so that raises ValueError naming the settings that differ, except those in ``may_change`` (a larger
    ``budget`` carries on). A folder holding another command's output is refused even with ``fresh``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg_path = out / "config.json"
    wanted = asdict(config) if isinstance(config, MainJobConfig) else dict(config)
    old = _read_config(cfg_path)
    command = wanted.get("command", "demo")  # the main job's settings name no command
    held = old.get("command", "demo") if old is not None else _command_of_files(out)
    if held is not None and held != command:  # --fresh starts over a run, not another command's
        raise ValueError(f"{out} holds the output of `graphnas {held}`; `graphnas {command}` would overwrite "
                         "its files: use another output folder")
    if fresh:
        for name in ("journal.jsonl", "journal_random.jsonl", "config.json"):
            (out / name).unlink(missing_ok=True)
    elif old is not None:
        changed = [f"{k}: {old.get(k)!r} -> {wanted.get(k)!r}" for k in dict.fromkeys([*old, *wanted])
                   if k not in may_change and old.get(k) != wanted.get(k)]
        if changed:
            raise ValueError(f"{out} holds a run with other settings ({'; '.join(changed)}); use another output "
                             "folder or --fresh to start over")
    cfg_path.write_text(json.dumps(wanted, indent=1) + "\n", encoding="utf-8")
    return out


def _command_of_files(out: Path) -> str | None:
    """The command whose files a folder without ``config.json`` holds (written before one was kept)."""
    if (out / "supernet.pt").exists():
        return "oneshot"
    if (out / "journal_random.jsonl").exists():
        return "demo"
    if (out / "journal.jsonl").exists():
        return "search"
    return None


def _read_config(path: Path) -> dict[str, Any] | None:
    """A folder's ``config.json``; None where there is none or it is not a JSON object (it is rewritten)."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return old if isinstance(old, dict) else None


def main_job(out: str | Path, config: MainJobConfig | None = None, *, fresh: bool = False,
             progress: ProgressCallback | None = None) -> dict[str, Any]:
    """Run the main job into folder ``out`` and return its summary (also written to ``summary.json``).

    BO with the GNN surrogate searches NAS-Bench-201 cells for the best
    validation accuracy on digits; random search gets the same budget and the
    same objective. The best cell is retrained with the same seed, saved
    (JSON, SVG, state_dict, ONNX) and reported next to the search curves.
    Journals make a killed run resumable: running again with the same folder
    and settings carries on where it stopped (``fresh=True`` starts over).
    """
    from graphnas.benchmarks.objectives import get_objective
    from graphnas.search.loop import journal_lock

    cfg = config or MainJobConfig()
    if cfg.budget < 2:
        raise ValueError(f"the budget must be at least 2 evaluations, got {cfg.budget}")
    objective = get_objective("digits", epochs=cfg.epochs, seed=cfg.seed, C=cfg.C, N=cfg.N,
                              max_train=cfg.max_train)  # before prepare_output: bad settings leave no config.json
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    journals = {"bo": out / "journal.jsonl", "random": out / "journal_random.jsonl"}
    with contextlib.ExitStack() as locks:  # fresh removes the journals only when no other run uses them
        for journal in journals.values():
            locks.enter_context(journal_lock(journal))
        return _locked_main_job(out, cfg, fresh, objective, journals, progress)


def _locked_main_job(out: Path, cfg: MainJobConfig, fresh: bool, objective: Any, journals: dict[str, Path],
                     progress: ProgressCallback | None) -> dict[str, Any]:
    """`main_job` once it holds the journals' locks."""
    import torch

    import graphnas
    from graphnas.benchmarks.digits import build_digits_model, digits_network, train_digits_model
    from graphnas.converters.dot import GraphvizNotFoundError, render
    from graphnas.converters.onnx import ExportError, export_onnx
    from graphnas.generators import get_generator
    from graphnas.report import plot_search_curves, write_report
    from graphnas.search import BayesianOptimization, get_optimizer, run
    from graphnas.search.loop import arch_string

    prepare_output(out, cfg, fresh=fresh)
    started = time.perf_counter()
    space = get_generator("nb201")

    def tracker(phase: str) -> Callable[[Any, Any], None]:
        def call(history: Any, evaluation: Any) -> None:
            if progress is not None:
                progress(phase, len(history), cfg.budget, evaluation)
        return call

    # BO's default surrogate (top-focused ranking loss and all), with the job's fitting steps
    surrogate = BayesianOptimization.default_surrogate(space, cfg.seed).set_params(
        epochs=cfg.surrogate_epochs, warm_epochs=cfg.surrogate_warm_epochs)
    bo = get_optimizer("bo", space, seed=cfg.seed, initial=cfg.initial, surrogate=surrogate)
    t0 = time.perf_counter()
    bo_history = run(bo, objective, cfg.budget, journal=journals["bo"], progress=tracker("bo"))
    bo_summary = _summarise(bo_history, time.perf_counter() - t0)
    rnd_summary: dict[str, Any]
    if cfg.baseline:
        t0 = time.perf_counter()
        rnd_history = run(get_optimizer("random", space, seed=cfg.seed), objective, cfg.budget,
                          journal=journals["random"], progress=tracker("random"))
        rnd_summary = _summarise(rnd_history, time.perf_counter() - t0)
    else:
        rnd_summary = _summarise(type(bo_history)(), 0.0)
    best = bo_history.best_dag
    if best is None:
        raise RuntimeError(f"every evaluation failed; see {journals['bo']} for the errors")

    # the best cell: JSON, pictures, retrained model
    if progress is not None:
        progress("final", 0, 1, None)
    files: dict[str, str | None] = {"journal": journals["bo"].name,
                                    "journal_random": journals["random"].name if cfg.baseline else None,
                                    "best_json": "best.json", "best_svg": "best.svg",
                                    "best_network_svg": "best_network.svg", "state_dict": "best_model.pt",
                                    "onnx": "best_model.onnx", "curve": "search_curve.png",
                                    "report_md": "report.md", "report_html": "report.html",
                                    "summary": "summary.json"}
    best.save(str(out / "best.json"))
    network = digits_network(best, C=cfg.C, N=cfg.N)
    (out / "best_network.json").write_text(network.to_json(indent=1) + "\n", encoding="utf-8")
    files["best_network_json"] = "best_network.json"
    try:
        render(best, out / "best.svg", title=f"best cell: {bo_summary['best_value']:.2f}% on digits")
        render(network, out / "best_network.svg")
    except GraphvizNotFoundError as err:
        log.warning("%s", err)
        (out / "best.dot").write_text(graphnas.to_dot(best), encoding="utf-8")
        files["best_svg"] = files["best_network_svg"] = "best.dot"
    model, retrained = train_digits_model(best, epochs=cfg.epochs, seed=cfg.seed, C=cfg.C, N=cfg.N,
                                          max_train=cfg.max_train)
    torch.save(model.state_dict(), out / "best_model.pt")
    onnx_error = None
    try:
        export_onnx(model, torch.zeros(1, 1, 8, 8), out / "best_model.onnx")
    except ExportError as err:
        onnx_error = str(err)
        files["onnx"] = None
        log.warning("%s", err)
    # a check that the saved weights are the trained ones
    check = build_digits_model(best, C=cfg.C, N=cfg.N)
    check.load_state_dict(torch.load(out / "best_model.pt", weights_only=True))
    if progress is not None:
        progress("final", 1, 1, None)

    curves = {"BO + GNN surrogate": bo_summary["best_so_far"]}
    points = {"BO + GNN surrogate": bo_summary["values"]}
    if cfg.baseline:
        curves["random search"] = rnd_summary["best_so_far"]
        points["random search"] = rnd_summary["values"]
    plot_search_curves(curves, out / "search_curve.png", points=points,
                       title=f"NAS-Bench-201 cells on digits, {cfg.epochs} epochs, seed {cfg.seed}")
    summary: dict[str, Any] = {
        "config": {**asdict(cfg), "space": "nb201", "space_size": space.size(), "objective": "digits"},
        "bo": bo_summary,
        "random": rnd_summary,
        "best": {"arch": arch_string(space, best), "value": bo_summary["best_value"],
                 "retrained_value": retrained["value"], "params": retrained["params"],
                 "canonical_key": best.canonical_key(),
                 # to_torch(DAG.load(best_network.json), in_channels=...) + best_model.pt rebuild the model
                 "in_channels": 1, "input_shape": [1, 8, 8]},
        "files": files,
        "onnx_error": onnx_error,
        "seconds": time.perf_counter() - started,
        "versions": {"graphnas": graphnas.__version__, "torch": torch.__version__},
    }
    write_report(out, summary)
    (out / "summary.json").write_text(json.dumps(_clean(summary), indent=1) + "\n", encoding="utf-8")
    return summary


def _clean(obj: Any) -> Any:
    """NaN and infinities become None, so that the JSON is standard."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj
