"""The one-shot job behind ``graphnas oneshot``: search, derive, retrain, and write everything to a folder.

Files written to ``out``: ``derived.json`` and ``derived.svg`` (the derived cell), ``arch_weights.png`` (DARTS:
the architecture weights per epoch as heatmaps, one row per choice and one column per candidate),
``curves.png`` (the supernet's and the retrained network's training curves), ``model.pt`` (the retrained
network's state_dict), ``model.onnx``, ``network.json`` (the network DAG the state_dict belongs to),
``report.md`` and ``summary.json``; ``supernet.pt``, the supernet's checkpoint (a killed job resumes from it);
``config.json``, the job's settings (a rerun with other settings is refused).
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

__all__ = ["oneshot_job", "plot_arch_weights", "plot_curves"]

log = logging.getLogger(__name__)


def plot_arch_weights(history: list[dict[str, Any]], candidates: dict[str, tuple[str, ...]], path: str | Path,
                      *, max_panels: int = 6) -> Path:
    """Heatmaps of the architecture weights (softmax per choice) at up to ``max_panels`` epochs, last included."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epochs = [k for k, h in enumerate(history) if "weights" in h]
    if not epochs:
        raise ValueError("the history holds no architecture weights (DARTS records them; ENAS and RandomPaths do not)")
    if len(epochs) > max_panels:
        picks = np.linspace(0, len(epochs) - 1, max_panels).round().astype(int)
        epochs = [epochs[int(i)] for i in sorted(set(picks))]
    keys = list(candidates)
    width = max(len(c) for c in candidates.values())
    fig = Figure(figsize=(2.2 + 1.9 * len(epochs), 1.2 + 0.22 * len(keys)), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(epochs), squeeze=False)[0]
    image = None
    panels = []
    for k in epochs:
        w = np.full((len(keys), width), np.nan)
        for r, key in enumerate(keys):
            vals = history[k]["weights"][key]
            w[r, :len(vals)] = vals
        panels.append(w)
    lo, hi = float(np.nanmin(panels)), float(np.nanmax(panels))  # one scale for all panels, fitted to the data
    hi = max(hi, lo + 1e-6)
    for ax, k, w in zip(axes, epochs, panels):
        image = ax.imshow(w, aspect="auto", cmap="viridis", vmin=lo, vmax=hi)
        if w.size <= 300:
            for (r, c), v in np.ndenumerate(w):
                if np.isfinite(v):
                    ax.text(c, r, f"{v:.3f}", ha="center", va="center", fontsize=5,
                            color="white" if v < (lo + hi) / 2 else "black")
        ax.set_title(f"epoch {int(history[k].get('epoch', k + 1))}", fontsize=9)
        ax.set_xticks(range(width))
        first = candidates[keys[0]]
        ax.set_xticklabels([first[i] if i < len(first) else "" for i in range(width)], rotation=90, fontsize=6)
        ax.set_yticks(range(len(keys)))
        ax.set_yticklabels(keys if ax is axes[0] else [], fontsize=6)
    if image is not None:
        fig.colorbar(image, ax=list(axes), fraction=0.03, label="softmax weight")
    fig.suptitle("architecture weights (softmax) per choice (rows) and candidate (columns)", fontsize=9, y=1.0)
    fig.savefig(path, bbox_inches="tight")
    return Path(path)


def plot_curves(curves: dict[str, list[float]], path: str | Path, *, title: str = "") -> Path:
    """Per-epoch curves (name -> values) on two axes: losses left, accuracies (%) right."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 3.6), dpi=110)
    FigureCanvasAgg(fig)
    loss_ax, acc_ax = fig.subplots(1, 2)
    for name, ys in curves.items():
        ax = loss_ax if "loss" in name else acc_ax
        ax.plot(range(1, len(ys) + 1), ys, marker="o", markersize=3, label=name)
    loss_ax.set_ylabel("loss")
    acc_ax.set_ylabel("accuracy (%)")
    for ax in (loss_ax, acc_ax):
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)


def _refuse_an_older_checkpoint(path: Path) -> None:
    """A checkpoint of a graphnas whose tags did not hold the method's settings cannot be resumed safely."""
    if not path.exists():
        return
    import torch

    try:
        tag = torch.load(path, weights_only=True, map_location="cpu").get("tag", "")
    except Exception:  # noqa: BLE001 - an unreadable checkpoint is train's to refuse, with its own message
        return
    if isinstance(tag, str) and tag and ":wd=" not in tag:
        raise ValueError(f"{path} was written by an older graphnas, whose checkpoints did not record the "
                         "method's settings (order, aux_skip, weight decay, ...), so it cannot be resumed "
                         "safely: start over with --fresh (oneshot_job(..., resume=False))")


def oneshot_job(out: str | Path, *, space: str = "nb201", method: str = "darts", epochs: int = 10,
                final_epochs: int = 10, seed: int = 0, C: int = 8, N: int = 1, batch_size: int = 64,
                max_train: int | None = None, order: int = 1, progress: bool = False, resume: bool = True,
                options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a one-shot search and write its files into ``out`` (see the module doc); returns the summary.

    ``options`` go to the method's constructor (e.g. ``n_candidates`` for random, ``controller_steps`` for
    ENAS, ``mode="gumbel"`` for DARTS). With ``resume`` a checkpoint left by a killed job of the same settings
    is continued. The settings are kept in ``config.json``: resuming a folder of other settings (but for
    ``final_epochs``) raises ValueError naming them, and a folder holding another command's output is refused
    even with ``resume=False``.
    """
    import torch

    import graphnas
    from graphnas.benchmarks.digits import digits_network
    from graphnas.converters.dot import GraphvizNotFoundError, render
    from graphnas.converters.onnx import ExportError, export_onnx
    from graphnas.converters.torch import to_torch
    from graphnas.generators import get_generator
    from graphnas.generators.supernet import supernet_choices
    from graphnas.jobs import prepare_output
    from graphnas.oneshot.methods import DARTS, METHODS
    from graphnas.train import train

    if method not in METHODS:
        raise ValueError(f"unknown one-shot method {method!r}; expected one of {', '.join(METHODS)}")
    sp = get_generator(space)
    if not callable(getattr(sp, "supernet", None)):  # a graph generator (ws, er, ...), not a space
        from graphnas.generators.base import no_supernet_error

        raise no_supernet_error(f"the generator {space!r}")
    out = Path(out)
    if method != "darts" and order != 1:
        raise ValueError(f"order is a setting of method 'darts' (first or second order), not of {method!r}")
    kwargs: dict[str, Any] = {"epochs": epochs, "seed": seed, "C": C, "N": N, "batch_size": batch_size,
                              "max_train": max_train, "progress": progress, "checkpoint": out / "supernet.pt",
                              **(options or {})}
    if method == "darts":
        kwargs["order"] = order
    searcher = METHODS[method](sp, **kwargs)  # bad settings fail here, before the folder is touched
    if resume:
        _refuse_an_older_checkpoint(out / "supernet.pt")
    # a folder of another command, or (resuming) of other settings, is refused before anything is written;
    # the final training's epochs may change (the supernet's checkpoint does not depend on them)
    prepare_output(out, {"command": "oneshot", "space": space, "method": method, "epochs": epochs,
                         "final_epochs": final_epochs, "seed": seed, "C": C, "N": N, "batch_size": batch_size,
                         "max_train": max_train, "order": order,
                         "options": {k: v if isinstance(v, (bool, int, float, str, type(None))) else repr(v)
                                     for k, v in (options or {}).items()}},
                   fresh=not resume, may_change=("final_epochs",))
    started = time.perf_counter()
    result = searcher.search(resume=resume)
    dag = result.dag
    dag.save(str(out / "derived.json"))
    files: dict[str, str | None] = {"derived_json": "derived.json", "derived_svg": "derived.svg",
                                    "arch_weights": None, "curves": "curves.png", "state_dict": "model.pt",
                                    "onnx": "model.onnx", "network": "network.json", "report": "report.md",
                                    "summary": "summary.json", "checkpoint": "supernet.pt"}
    try:
        render(dag, out / "derived.svg", title=f"{method} on {space}: derived cell")
        render(sp.supernet(), out / "supernet.svg", title=f"{space} supernet")
        files["supernet_svg"] = "supernet.svg"
    except GraphvizNotFoundError as err:
        log.warning("%s", err)
        (out / "derived.dot").write_text(graphnas.to_dot(dag), encoding="utf-8")
        files["derived_svg"] = "derived.dot"
    if isinstance(searcher, DARTS):
        plot_arch_weights(result.history, supernet_choices(sp.supernet()), out / "arch_weights.png")
        files["arch_weights"] = "arch_weights.png"

    # the derived cell, trained stand-alone by the same loop
    network = digits_network(dag, C=C, N=N)
    (out / "network.json").write_text(network.to_json(indent=1) + "\n", encoding="utf-8")
    from graphnas._torch_rng import local_generator
    from graphnas.generators._random import as_torch

    with local_generator(as_torch(seed)):
        model = to_torch(network, in_channels=1, class_name="DigitsNet")
    data = searcher.data
    final = train(model, (torch.cat([data.train[0], data.arch[0]]), torch.cat([data.train[1], data.arch[1]])),
                  data.val, epochs=final_epochs, batch_size=batch_size, seed=seed, progress=progress)
    torch.save(model.state_dict(), out / "model.pt")
    onnx_error = None
    try:
        export_onnx(model, torch.zeros(1, 1, 8, 8), out / "model.onnx")
    except ExportError as err:
        onnx_error, files["onnx"] = str(err), None
        log.warning("%s", err)
    curves = {"supernet train loss": [h["train_loss"] for h in result.history],
              "supernet val accuracy": [h.get("val_accuracy", math.nan) for h in result.history],
              "derived train loss": final.curve("train_loss"), "derived val accuracy": final.curve("val_accuracy")}
    plot_curves(curves, out / "curves.png", title=f"{method} on {space}, seed {seed}")
    summary: dict[str, Any] = {
        "config": {"space": space, "method": method, "epochs": epochs, "final_epochs": final_epochs, "seed": seed,
                   "C": C, "N": N, "batch_size": batch_size, "max_train": max_train, "order": order,
                   "options": {k: v for k, v in (options or {}).items()}},
        "derived": {"arch": _name(sp, dag), "val_accuracy": final.last("val_accuracy"),
                    "params": sum(p.numel() for p in model.parameters())},
        "supernet": {"history": [{k: v for k, v in h.items() if k not in ("weights", "derived")}
                                 for h in result.history], "seconds": result.seconds},
        "ranking": [{"arch": _name(sp, d), "inherited_accuracy": a} for d, a in result.ranking[:10]],
        "final_history": final.history, "files": files, "onnx_error": onnx_error,
        "seconds": time.perf_counter() - started,
        "versions": {"graphnas": graphnas.__version__, "torch": torch.__version__},
    }
    if result.history and "weights" in result.history[-1]:
        summary["arch_weights"] = result.history[-1]["weights"]
    _write_report(out, summary)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str) + "\n", encoding="utf-8")
    return summary


def _name(space: Any, dag: Any) -> str:
    """The space's string for a member (an NB201 arch string, a DARTS/ENAS genotype), else a pointer to the JSON."""
    from graphnas.search.loop import arch_string

    name = arch_string(space, dag)
    if name is None and hasattr(space, "to_genotype"):
        name = str(space.to_genotype(dag))
    return name or "(see derived.json)"


def _write_report(out: Path, s: dict[str, Any]) -> None:
    cfg, d, files = s["config"], s["derived"], s["files"]
    hist = s["supernet"]["history"]
    lines = [
        f"# graphnas one-shot search: {cfg['method']} on {cfg['space']}",
        "",
        f"Supernet trained {cfg['epochs']} epochs on half of the digits training split (the other half for the "
        f"architecture), C={cfg['C']}, N={cfg['N']}, seed {cfg['seed']}"
        + (f", order {cfg['order']}" if cfg["method"] == "darts" else "") + ".",
        "",
        f"Derived cell: `{d['arch']}`",
        "",
        f"Retrained stand-alone for {cfg['final_epochs']} epochs on the whole training split: "
        f"**{d['val_accuracy']:.2f}%** validation accuracy, {int(d['params']):,} parameters.",
        "",
        f"![derived cell]({files['derived_svg']})",
        "",
        "| epoch | supernet train loss | supernet val accuracy (%) |",
        "|---:|---:|---:|",
        *[f"| {int(h['epoch'])} | {h['train_loss']:.4f} | {h.get('val_accuracy', math.nan):.2f} |" for h in hist],
        "",
        f"![curves]({files['curves']})",
        "",
    ]
    if files.get("arch_weights"):
        lines += [f"![architecture weights]({files['arch_weights']})", ""]
    if s["ranking"]:
        lines += ["Ranking by inherited accuracy (top 10):", "", "| arch | inherited accuracy (%) |", "|---|---:|",
                  *[f"| `{r['arch']}` | {r['inherited_accuracy']:.2f} |" for r in s["ranking"]], ""]
    lines += ["## Files", "", *[f"- `{v}`" for v in files.values() if v], "",
              f"Wall time {s['seconds']:.1f} s; graphnas {s['versions']['graphnas']}, torch {s['versions']['torch']}.",
              ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
