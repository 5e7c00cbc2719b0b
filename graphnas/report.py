"""The main job and its report: a surrogate-guided search on digits with real training, against random search.

:func:`main_job` runs Bayesian optimisation with the GNN surrogate over
NAS-Bench-201 cells placed in the small digits skeleton
(:func:`graphnas.benchmarks.digits.digits_network`), each evaluated by real
training (:func:`graphnas.benchmarks.train_eval`), then random search on the same
budget and the same objective, and writes into one folder:

========================  =============================================================
``journal.jsonl``         every BO evaluation (graph, accuracy, seconds), resumable
``journal_random.jsonl``  the random-search baseline
``best.json``             the best cell (``DAG.save``)
``best.svg``              the best cell, drawn DARTS-style
``best_network.svg``      the whole digits network around it
``best_model.pt``         its retrained weights (``torch.save(state_dict)``)
``best_model.onnx``       the same model as ONNX (needs ``onnx`` and ``onnxscript``)
``search_curve.png``      best accuracy so far against evaluations, BO and random
``report.md``             the figures and pictures (also ``report.html``)
``summary.json``          the figures as data
========================  =============================================================

The same seed gives the same result: the objective trains deterministically and
every random choice (sampling, mutation, the surrogate) is seeded. Library code
here prints nothing; the ``graphnas demo`` command adds the progress bar.

The helpers :func:`make_space`, :func:`make_objective` and :func:`make_optimizer`
are what ``graphnas search`` uses too.
"""

from __future__ import annotations

import contextlib
import functools
import html
import io
import json
import logging
import math
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from graphnas.dag import DAG

__all__ = [
    "ExportError",
    "MainJobConfig",
    "OPTIMIZERS",
    "ProgressCallback",
    "export_onnx",
    "main_job",
    "make_objective",
    "make_optimizer",
    "make_space",
    "plot_search_curves",
    "prepare_output",
    "write_report",
]

log = logging.getLogger(__name__)

#: Optimiser names accepted by :func:`make_optimizer`.
OPTIMIZERS = ("bo", "rea", "random")

#: ``progress(phase, done, total, evaluation)``: phase is ``"bo"``, ``"random"`` or ``"final"``.
ProgressCallback = Callable[[str, int, int, Any], None]


class ExportError(RuntimeError):
    """A model could not be exported (e.g. ONNX without the ``onnx`` package)."""


# --------------------------------------------------------------------------- building blocks


def make_space(name: str, **params: Any) -> Any:
    """A registered search space (or generator) by name, e.g. ``make_space("nb201")``.

    Raises:
        KeyError: no such generator or space (the message lists the known ones).
    """
    from graphnas.generators import get_generator

    return get_generator(name, **params)


def make_objective(spec: str, *, epochs: int = 3, seed: int = 0, C: int = 8, N: int = 1,
                   max_train: int | None = None, space: str | None = None) -> Callable[[DAG], Any]:
    """An objective from a short spec: ``"digits"`` (real training) or ``"nb201:PATH"`` (a table lookup).

    The digits objective is a picklable :func:`functools.partial` of
    :func:`graphnas.benchmarks.train_eval`, so it runs on process executors; it
    trains any cell with one input (NB201, RandWire, NB101, chains) or a DARTS-style
    cell pair in the small digits skeleton. ``space``, the name of the space the
    search draws from, lets the table objective refuse spaces it cannot score.

    Raises:
        ValueError: unknown spec, ``epochs < 1`` for digits, or a table objective for a space other than ``nb201``.
        FileNotFoundError: the table file does not exist.
    """
    if spec.startswith("nb201:") and space is not None and space != "nb201":
        raise ValueError(f"the NAS-Bench-201 table objective only knows NAS-Bench-201 cells, and space {space!r} "
                         "makes other graphs, which it cannot score; use it with space 'nb201', or train "
                         "with the 'digits' objective")
    if spec == "digits":
        from graphnas.benchmarks.digits import train_eval

        if epochs < 1:  # else every evaluation would fail, one by one, with the same error
            raise ValueError(f"the digits objective needs at least 1 training epoch, got {epochs}")

        return functools.partial(train_eval, epochs=epochs, seed=seed, C=C, N=N, max_train=max_train)
    if spec.startswith("nb201:"):
        path = spec.split(":", 1)[1]
        if not path:
            raise ValueError("the nb201 objective needs a table file: --objective nb201:PATH")
        if not Path(path).is_file():
            raise FileNotFoundError(2, "no such NAS-Bench-201 table file", path)
        from graphnas.benchmarks.nb201 import NB201Table

        return NB201Table(path)
    raise ValueError(f"unknown objective {spec!r}; expected 'digits' or 'nb201:PATH'")


def make_optimizer(name: str, space: Any, *, seed: int = 0, initial: int = 10, surrogate: Any = None) -> Any:
    """``"bo"`` (GNN-surrogate Bayesian optimisation), ``"rea"`` (regularized evolution) or ``"random"``.

    Raises:
        ValueError: unknown name, or a space without ``mutate`` for BO/REA.
    """
    from graphnas.search import BayesianOptimization, RandomSearch, RegularizedEvolution

    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}")
    if name == "random":
        return RandomSearch(space, seed=seed)
    if not callable(getattr(space, "mutate", None)):
        raise ValueError(f"optimizer {name!r} needs a space that can mutate a graph; "
                         f"{type(space).__name__} cannot (use --optimizer random)")
    if name == "rea":
        return RegularizedEvolution(space, population=max(4, initial), sample_size=max(2, initial // 3), seed=seed)
    return BayesianOptimization(space, surrogate=surrogate, initial=initial, seed=seed)


def export_onnx(module: Any, example: Any, path: str | Path) -> None:
    """Export ``module`` to ONNX with the dynamo exporter and a dynamic batch dimension, quietly.

    Raises:
        ExportError: ``onnx``/``onnxscript`` are missing or the export failed.
    """
    import torch

    for pkg in ("onnx", "onnxscript"):
        try:
            __import__(pkg)
        except ImportError:
            raise ExportError(f"ONNX export needs the '{pkg}' package: pip install 'graphnas[onnx]'") from None
    onnx_log = logging.getLogger("torch.onnx")
    level = onnx_log.level
    onnx_log.setLevel(logging.ERROR)
    module.eval()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (example,), str(path), dynamo=True, input_names=["x"], output_names=["y"],
                              dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=4096)},),
                              external_data=False)
    except Exception as err:  # noqa: BLE001 - any exporter failure becomes one clear error
        raise ExportError(f"ONNX export failed: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
                          ) from err
    finally:
        onnx_log.setLevel(level)


# --------------------------------------------------------------------------- plot and report


def plot_search_curves(curves: dict[str, list[float]], path: str | Path, *,
                       points: dict[str, list[float]] | None = None, title: str = "",
                       ylabel: str = "validation accuracy (%)") -> Path:
    """Plot best-so-far curves (one line per optimiser) and, optionally, each evaluation as a dot; save a PNG."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    colours = {"BO + GNN surrogate": "#1f78b4", "random search": "#e66101"}
    fig, ax = plt.subplots(figsize=(7.0, 4.2), dpi=120)
    try:
        for k, (name, curve) in enumerate(curves.items()):
            colour = colours.get(name, f"C{k}")
            xs = list(range(1, len(curve) + 1))
            if points and name in points:
                ys = points[name]
                ax.scatter([x for x, y in zip(xs, ys, strict=False) if math.isfinite(y)],
                           [y for y in ys if math.isfinite(y)], s=12, alpha=0.35, color=colour, linewidths=0)
            ax.step(xs, curve, where="post", color=colour, linewidth=2.0,
                    label=f"{name} (best {max((c for c in curve if math.isfinite(c)), default=float('nan')):.2f})")
        finite = [v for c in curves.values() for v in c if math.isfinite(v)]
        if finite:
            lo, hi = min(finite), max(finite)
            ax.set_ylim(max(0.0, lo - 0.15 * (hi - lo + 1.0)), min(100.0, hi + 0.1 * (hi - lo + 1.0)))
        ax.set_xlabel("evaluations (each a real training run)")
        ax.set_ylabel(ylabel)
        ax.set_title(title or "best found so far")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower right")
        fig.tight_layout()
        fig.savefig(path)
    finally:
        plt.close(fig)
    return Path(path)


def _arch_string(dag: DAG) -> str | None:
    try:
        from graphnas.generators.nb201 import NB201Space

        return NB201Space().to_string(dag)
    except Exception:  # noqa: BLE001 - not an NB201 cell: no arch string
        return None


def write_report(out: Path, summary: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` from a main-job summary; returns their paths."""
    cfg = summary["config"]
    bo, rnd, best = summary["bo"], summary["random"], summary["best"]
    rows = [
        ("best validation accuracy (%)", f"{bo['best_value']:.2f}", f"{rnd['best_value']:.2f}"),
        ("found at evaluation", str(bo["best_index"] + 1), str(rnd["best_index"] + 1)),
        ("evaluations (failed)", f"{bo['evaluations']} ({bo['failed']})", f"{rnd['evaluations']} ({rnd['failed']})"),
        ("mean accuracy of evaluations (%)", f"{bo['mean_value']:.2f}", f"{rnd['mean_value']:.2f}"),
        ("wall time (s)", f"{bo['seconds']:.1f}", f"{rnd['seconds']:.1f}"),
        ("of which training (s)", f"{bo['train_seconds']:.1f}", f"{rnd['train_seconds']:.1f}"),
    ]
    arch = best.get("arch") or "(not an NB201 cell)"
    files = summary["files"]
    md = [
        "# graphnas main job: surrogate-guided search on digits",
        "",
        f"Search space: NAS-Bench-201 cells ({cfg['space_size']:,} cells) in a two-stage skeleton for 8x8 digits "
        f"(C={cfg['C']}, N={cfg['N']}). Objective: validation accuracy after {cfg['epochs']} epochs of real training "
        f"on scikit-learn's digits (1,437 training / 360 validation images), seed {cfg['seed']}. "
        f"Budget: {cfg['budget']} evaluations for each optimiser.",
        "",
        "| | BO + GNN surrogate | random search |",
        "|---|---:|---:|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        f"![search curve]({files['curve']})",
        "",
        "## Best architecture",
        "",
        f"`{arch}`",
        "",
        f"Validation accuracy {best['value']:.2f}% (retrained with the same seed: {best['retrained_value']:.2f}%), "
        f"{int(best['params']):,} parameters.",
        "",
        f"![best cell]({files['best_svg']})",
        "",
        f"The whole network ([{files['best_network_svg']}]({files['best_network_svg']})):",
        "",
        f"![best network]({files['best_network_svg']})",
        "",
        "## Files",
        "",
        *[f"- `{v}`" for v in files.values() if v],
        "",
        f"Total wall time {summary['seconds']:.1f} s; graphnas {summary['versions']['graphnas']}, "
        f"torch {summary['versions']['torch']}.",
        "",
    ]
    if files.get("onnx") is None and summary.get("onnx_error"):
        md.insert(-3, f"ONNX export skipped: {summary['onnx_error']}")
    md_path = out / "report.md"
    md_path.write_text("\n".join(md), encoding="utf-8")

    esc = html.escape
    table = "".join(f"<tr><td>{esc(a)}</td><td>{esc(b)}</td><td>{esc(c)}</td></tr>" for a, b, c in rows)
    file_list = "".join(f"<li><a href='{esc(v)}'>{esc(v)}</a></li>" for v in files.values() if v)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>graphnas main job</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto;line-height:1.45}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 10px}}td+td{{text-align:right}}
img{{max-width:100%}}code{{background:#f3f3f3;padding:1px 4px}}</style></head><body>
<h1>graphnas main job: surrogate-guided search on digits</h1>
<p>{esc(md[2])}</p>
<table><tr><th></th><th>BO + GNN surrogate</th><th>random search</th></tr>{table}</table>
<p><img src="{esc(files['curve'])}" alt="search curve"></p>
<h2>Best architecture</h2>
<p><code>{esc(arch)}</code></p>
<p>Validation accuracy {best['value']:.2f}% (retrained with the same seed: {best['retrained_value']:.2f}%),
{int(best['params']):,} parameters.</p>
<p><img src="{esc(files['best_svg'])}" alt="best cell"></p>
<p><img src="{esc(files['best_network_svg'])}" alt="best network"></p>
<h2>Files</h2><ul>{file_list}</ul>
<p>Total wall time {summary['seconds']:.1f} s.</p>
</body></html>
"""
    html_path = out / "report.html"
    html_path.write_text(page, encoding="utf-8")
    return md_path, html_path


# --------------------------------------------------------------------------- the main job


@dataclass(frozen=True)
class MainJobConfig:
    """Settings of :func:`main_job`; the defaults finish in a few minutes on 2 CPU cores."""

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


def prepare_output(out: str | Path, config: MainJobConfig | Mapping[str, Any], *, fresh: bool = False) -> Path:
    """Create the output folder; with ``fresh`` remove old journals; refuse a folder holding other settings.

    ``config`` is the main job's settings or any JSON-able mapping (``graphnas search`` passes its
    options). Resuming a journal written with other settings would mix two searches, so that raises
    ValueError (the ``budget`` may change: a larger one carries on).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if fresh:
        for name in ("journal.jsonl", "journal_random.jsonl", "config.json"):
            (out / name).unlink(missing_ok=True)
    cfg_path = out / "config.json"
    wanted = asdict(config) if isinstance(config, MainJobConfig) else dict(config)
    if cfg_path.exists():
        try:
            old = json.loads(cfg_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            old = None
        if old is not None and {k: v for k, v in old.items() if k != "budget"} != \
                {k: v for k, v in wanted.items() if k != "budget"}:
            raise ValueError(f"{out} holds a run with other settings ({cfg_path}); use another output folder "
                             "or --fresh to start over")
    cfg_path.write_text(json.dumps(wanted, indent=1) + "\n", encoding="utf-8")
    return out


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
    import torch

    import graphnas
    from graphnas.benchmarks.digits import build_digits_model, digits_network, train_digits_model
    from graphnas.converters.dot import GraphvizNotFoundError, render
    from graphnas.search import run
    from graphnas.surrogate import GNNSurrogate

    cfg = config or MainJobConfig()
    if cfg.budget < 2:
        raise ValueError(f"the budget must be at least 2 evaluations, got {cfg.budget}")
    objective = make_objective("digits", epochs=cfg.epochs, seed=cfg.seed, C=cfg.C, N=cfg.N,
                               max_train=cfg.max_train)  # before prepare_output: bad settings leave no config.json
    out = prepare_output(out, cfg, fresh=fresh)
    journals = {"bo": out / "journal.jsonl", "random": out / "journal_random.jsonl"}
    started = time.perf_counter()
    space = make_space("nb201")

    def tracker(phase: str) -> Callable[[Any, Any], None]:
        def call(history: Any, evaluation: Any) -> None:
            if progress is not None:
                progress(phase, len(history), cfg.budget, evaluation)
        return call

    surrogate = GNNSurrogate(vocabulary=list(space.vocabulary), hidden=32, layers=3, ensemble=5,
                             epochs=cfg.surrogate_epochs, warm_epochs=cfg.surrogate_warm_epochs, warm_start=True,
                             seed=cfg.seed)
    bo = make_optimizer("bo", space, seed=cfg.seed, initial=cfg.initial, surrogate=surrogate)
    t0 = time.perf_counter()
    bo_history = run(bo, objective, cfg.budget, journal=journals["bo"], progress=tracker("bo"))
    bo_summary = _summarise(bo_history, time.perf_counter() - t0)
    rnd_summary: dict[str, Any]
    if cfg.baseline:
        t0 = time.perf_counter()
        rnd_history = run(make_optimizer("random", space, seed=cfg.seed), objective, cfg.budget,
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
        "best": {"arch": _arch_string(best), "value": bo_summary["best_value"],
                 "retrained_value": retrained["value"], "params": retrained["params"],
                 "canonical_key": best.canonical_key()},
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
