"""The report writer: the main job's search-curve plot and its Markdown and HTML report.

`plot_search_curves` draws best-so-far curves into a PNG (with its own figure, never
pyplot's global state); `write_report` writes ``report.md`` and ``report.html`` from a
summary of `graphnas.jobs.main_job`.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

__all__ = ["plot_search_curves", "write_report"]


def plot_search_curves(curves: dict[str, list[float]], path: str | Path, *,
                       points: dict[str, list[float]] | None = None, title: str = "",
                       ylabel: str = "validation accuracy (%)") -> Path:
    """Plot best-so-far curves (one line per optimiser) and, optionally, each evaluation as a dot; save a PNG.

    Draws on its own Agg figure, without pyplot, so that the caller's matplotlib backend and open figures
    are left as they are. The y-range fits the curves; evaluations below it (e.g. a cell that trained to
    chance) are not hidden: each is drawn as a triangle on the bottom edge at its evaluation, and a note in
    the corner says how many there are and the lowest value.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    colours = {"BO + GNN surrogate": "#1f78b4", "random search": "#e66101"}
    fig = Figure(figsize=(7.0, 4.2), dpi=120)  # no pyplot: the caller's backend and figures stay untouched
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    finite = [v for c in curves.values() for v in c if math.isfinite(v)]
    ylim = None
    if finite:
        lo, hi = min(finite), max(finite)
        ylim = (max(0.0, lo - 0.15 * (hi - lo + 1.0)), min(100.0, hi + 0.1 * (hi - lo + 1.0)))
    below: list[float] = []
    for k, (name, curve) in enumerate(curves.items()):
        colour = colours.get(name, f"C{k}")
        xs = list(range(1, len(curve) + 1))
        if points and name in points:
            pts = [(x, y) for x, y in zip(range(1, len(points[name]) + 1), points[name], strict=False)
                   if math.isfinite(y)]
            shown = [(x, y) for x, y in pts if ylim is None or y >= ylim[0]]
            clipped = [(x, y) for x, y in pts if ylim is not None and y < ylim[0]]
            ax.scatter([x for x, _ in shown], [y for _, y in shown], s=12, alpha=0.35, color=colour, linewidths=0)
            if clipped and ylim is not None:  # on the bottom edge, pointing down: below the range, not gone
                ax.scatter([x for x, _ in clipped], [ylim[0]] * len(clipped), marker="v", s=22, alpha=0.7,
                           color=colour, linewidths=0, clip_on=False, zorder=3)
                below.extend(y for _, y in clipped)
        ax.step(xs, curve, where="post", color=colour, linewidth=2.0,
                label=f"{name} (best {max((c for c in curve if math.isfinite(c)), default=float('nan')):.2f})")
    if ylim is not None:
        ax.set_ylim(*ylim)
    if below and ylim is not None:
        ax.annotate(f"\u25bc {len(below)} evaluation{'s' if len(below) > 1 else ''} below {ylim[0]:.1f} "
                    f"(lowest {min(below):.1f}), drawn on the bottom edge",
                    xy=(0.01, 0.98), xycoords="axes fraction", va="top", fontsize=8, color="#444444")
    ax.set_xlabel("evaluations (each a real training run)")
    ax.set_ylabel(ylabel)
    ax.set_title(title or "best found so far")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    return Path(path)


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
