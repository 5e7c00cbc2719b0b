"""Regenerate every output quoted in the documentation, by running the real commands.

    python scripts/regen_docs.py               # everything (runs the main job once: 2-4 minutes on 2 cores)
    python scripts/regen_docs.py --skip-demo   # only the pictures that do not come from the main job

What it writes, and from what:

- ``docs/img/nb201-cell.svg``, ``darts-v2.svg``, ``darts-v2-normal.svg``, ``ws32.svg``,
  ``digits-network.svg``: ``python docs/img/make_images.py`` (needs Graphviz's ``dot``).
- ``docs/quickstart.ipynb``'s outputs: the notebook is executed top to bottom with a real Jupyter kernel
  running this Python (nbclient, ipykernel), in a temporary folder, and saved with its outputs (the docs
  site shows them); its pictures, as the notebook shows them, go to ``docs/img/notebook/`` (one file per
  picture: ``<cell>-<n>.svg`` or ``.png``).
- the main job: ``graphnas demo --out runs/demo --seed 0`` (the command ``make demo`` runs), through
  the ``graphnas`` console script of this Python (else ``python -m graphnas.cli``), in a temporary
  folder so that no earlier ``runs/demo`` is resumed. From its output folder:
  ``search_curve.png`` -> ``docs/img/demo-search-curve.png``, ``best.svg`` -> ``docs/img/demo-best-cell.svg``;
  its printed output (stdout and stderr, as a pipe sees it, 80 columns) and the figures of its
  ``summary.json`` replace the part of ``docs/cli.md`` between the two ``regen_docs`` markers.

The graphnas that runs is the one in this checkout (``PYTHONPATH`` is set to it). ``make docs-outputs``
runs this script in the project's virtualenv.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CLI_MD = DOCS / "cli.md"
BEGIN = "<!-- regen_docs: demo output (scripts/regen_docs.py rewrites this part; do not edit) -->"
END = "<!-- /regen_docs: demo output -->"
DEMO_ARGS = ["demo", "--out", "runs/demo", "--seed", "0"]
DEMO_PICTURES = {"search_curve.png": "demo-search-curve.png", "best.svg": "demo-best-cell.svg"}


def graphnas_command() -> list[str]:
    """The ``graphnas`` console script installed beside this Python, else ``python -m graphnas.cli``."""
    script = Path(sys.executable).with_name("graphnas")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "graphnas.cli"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.update(COLUMNS="80", NO_COLOR="1")  # what a pipe 80 columns wide shows, without colour codes
    env.pop("FORCE_COLOR", None)
    return env


def draw_pictures() -> None:
    """The pictures of docs/img that do not come from the main job (docs/img/make_images.py)."""
    subprocess.run([sys.executable, str(DOCS / "img" / "make_images.py")], check=True, env=_env(), cwd=ROOT)


NOTEBOOK = DOCS / "quickstart.ipynb"
NOTEBOOK_PICTURES = DOCS / "img" / "notebook"
PICTURE_TYPES = {"image/svg+xml": "svg", "image/png": "png"}


def execute_notebook(path: Path, workdir: Path, *, timeout: float = 300) -> Any:
    """Run the notebook at ``path`` top to bottom in a new kernel and return it with its outputs.

    The kernel is ipykernel running this Python (not whatever kernel named ``python3`` is installed
    elsewhere), started in ``workdir`` with this checkout on its ``PYTHONPATH``. A cell that raises
    stops the run with ``nbclient.exceptions.CellExecutionError``.
    """
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    # no kernel directories: only ipykernel's own "python3", which runs sys.executable
    km = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    env = _env()
    env.pop("COLUMNS", None)
    NotebookClient(nb, km=km, timeout=timeout, resources={"metadata": {"path": str(workdir)}}).execute(env=env)
    return nb


def notebook_pictures(nb: Any) -> dict[str, bytes]:
    """The pictures among the notebook's outputs: file name (``<cell>-<n>.<svg|png>``) -> contents."""
    import base64

    pictures = {}
    for c, cell in enumerate(nb.cells):
        n = 0
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime, suffix in PICTURE_TYPES.items():
                if mime in data:
                    n += 1
                    raw = data[mime]
                    text = "".join(raw) if isinstance(raw, list) else raw
                    body = text.encode("utf-8") if suffix == "svg" else base64.b64decode(text)
                    pictures[f"cell{c:02d}-{n}.{suffix}"] = body
                    break
    return pictures


def run_notebook() -> None:
    """Execute docs/quickstart.ipynb, save it with its outputs, and write its pictures to docs/img/notebook."""
    import nbformat

    with tempfile.TemporaryDirectory(prefix="graphnas-notebook-") as tmp:
        start = time.perf_counter()
        nb = execute_notebook(NOTEBOOK, Path(tmp))
    for cell in nb.cells:  # execution times and counts are noise in a diff
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, NOTEBOOK)
    print(f"executed {NOTEBOOK.relative_to(ROOT)} in {time.perf_counter() - start:.0f} s")
    if NOTEBOOK_PICTURES.is_dir():
        shutil.rmtree(NOTEBOOK_PICTURES)
    NOTEBOOK_PICTURES.mkdir(parents=True)
    for name, body in notebook_pictures(nb).items():
        (NOTEBOOK_PICTURES / name).write_bytes(body)
        print("wrote", (NOTEBOOK_PICTURES / name).relative_to(ROOT))


def run_demo(workdir: Path) -> tuple[str, dict[str, Any], Path]:
    """Run the main job in ``workdir``; return its printed output, its summary and its output folder."""
    proc = subprocess.run([*graphnas_command(), *DEMO_ARGS], cwd=workdir, env=_env(), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f"`graphnas {' '.join(DEMO_ARGS)}` failed with exit code {proc.returncode}:\n{proc.stdout}")
    out = workdir / "runs" / "demo"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    missing = [name for name in DEMO_PICTURES if not (out / name).is_file()]
    if missing:
        raise SystemExit(f"the main job wrote no {', '.join(missing)} (is Graphviz's dot installed?)")
    return proc.stdout, summary, out


def clean_output(text: str) -> str:
    """The printed output as quoted: trailing blanks and blank edges removed."""
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def demo_section(output: str, summary: dict[str, Any], *, date: str, machine: str, validation_images: int) -> str:
    """The Markdown that docs/cli.md quotes between the markers: the output, the pictures, the figures read."""
    bo, rnd = summary["bo"], summary["random"]
    diff = bo["best_value"] - rnd["best_value"]
    images = round(abs(diff) * validation_images / 100)
    if abs(diff) < 0.005:
        compare = f"BO's best ({bo['best_value']:.2f}%) equals random search's"
    else:
        compare = (f"BO's best ({bo['best_value']:.2f}%) is {abs(diff):.2f} points "
                   f"{'above' if diff > 0 else 'below'} random search's ({rnd['best_value']:.2f}%), i.e. "
                   f"{images} of the {validation_images} validation images")
    means = f"BO's evaluations average {bo['mean_value']:.1f}% against {rnd['mean_value']:.1f}% for random ones"
    if bo["mean_value"] > rnd["mean_value"]:
        means += ": after its first few samples the surrogate keeps proposing good cells"
    command = " ".join(["graphnas", *DEMO_ARGS])

    def fill(text: str) -> str:
        return textwrap.fill(text, width=100, break_long_words=False, break_on_hyphens=False)

    return "\n".join([
        BEGIN,
        fill(f"What `{command}` printed on {date} ({machine}; {summary['seconds']:.0f} s wall clock), "
             "progress bars as a pipe 80 columns wide shows their last state:"),
        "",
        "```text",
        output,
        "```",
        "",
        "![search curves](img/demo-search-curve.png)",
        "",
        "![the best cell](img/demo-best-cell.svg)",
        "",
        fill(f"One run with one seed: {compare}, and {means}. That is one seed, not a significance test; "
             "the 25-seed comparison on NAS-Bench-201 is in [the search benchmark](benchmarks/search.md). "
             f"Of BO's {bo['seconds']:.0f} s, {bo['train_seconds']:.0f} s went to training and the rest to "
             "fitting the surrogate and scoring candidates."),
        END,
    ])


def replace_section(text: str, section: str) -> str:
    """``text`` with the part from BEGIN to END (markers included) replaced by ``section``."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(f"expected the markers {BEGIN!r} and {END!r} once each, in that order")
    head, rest = text.split(BEGIN)
    return head + section + rest.split(END, 1)[1]


def machine_description(versions: dict[str, str]) -> str:
    return (f"{os.cpu_count()}-CPU {platform.machine()} machine, Python {platform.python_version()}, "
            f"graphnas {versions.get('graphnas', '?')}, torch {versions.get('torch', '?')}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--skip-demo", action="store_true", help="only the pictures that need no main job")
    p.add_argument("--keep", type=Path, default=None, help="also copy the main job's output folder here")
    args = p.parse_args(argv)
    if shutil.which("dot") is None:
        raise SystemExit("Graphviz's dot is not on the PATH; the pictures need it (apt-get install graphviz)")
    draw_pictures()
    run_notebook()
    if args.skip_demo:
        return
    with tempfile.TemporaryDirectory(prefix="graphnas-docs-") as tmp:
        start = time.perf_counter()
        print(f"running `graphnas {' '.join(DEMO_ARGS)}` (2-4 minutes on 2 cores) ...", flush=True)
        output, summary, out = run_demo(Path(tmp))
        print(f"done in {time.perf_counter() - start:.0f} s")
        for src, dst in DEMO_PICTURES.items():
            shutil.copyfile(out / src, DOCS / "img" / dst)
            print("wrote", (DOCS / "img" / dst).relative_to(ROOT))
        if args.keep is not None:
            shutil.copytree(out, args.keep, dirs_exist_ok=True)
            (args.keep / "output.txt").write_text(output, encoding="utf-8")
    from graphnas.benchmarks.digits import load_digits_split

    section = demo_section(clean_output(output), summary, date=datetime.date.today().isoformat(),
                           machine=machine_description(summary.get("versions", {})),
                           validation_images=len(load_digits_split().y_val))
    CLI_MD.write_text(replace_section(CLI_MD.read_text(encoding="utf-8"), section), encoding="utf-8")
    print("wrote", CLI_MD.relative_to(ROOT))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
