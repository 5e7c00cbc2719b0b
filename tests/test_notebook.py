"""The quickstart notebook runs top to bottom in a real Jupyter kernel, and every drawing comes out as a picture.

The notebook (docs/quickstart.ipynb) is executed by the same function as `make docs-outputs` uses
(scripts/regen_docs.py), with ipykernel running this Python.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

pytest.importorskip("nbclient", reason="the dev extra is not installed: pip install -e '.[dev]'")
pytest.importorskip("ipykernel", reason="the dev extra is not installed: pip install -e '.[dev]'")
import nbformat  # noqa: E402
from test_regen_docs import regen  # noqa: E402  (scripts/regen_docs.py, loaded from its file)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "quickstart.ipynb"


def pictures(cell) -> list[str]:
    return [mime for out in cell.get("outputs", []) for mime in out.get("data", {})
            if mime in ("image/svg+xml", "image/png")]


def check(nb) -> None:
    """No cell errored or wrote to stderr; every cell tagged ``picture`` shows one, fitted to ~900 px."""
    tagged = [c for c in nb.cells if "picture" in c.metadata.get("tags", [])]
    assert len(tagged) >= 7
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out.output_type != "error", (cell.source, out.get("ename"), out.get("evalue"))
            assert not (out.output_type == "stream" and out.name == "stderr"), (cell.source, out.text)
    for cell in tagged:
        assert pictures(cell), f"no inline picture from:\n{cell.source}"
        for out in cell.outputs:
            svg = out.get("data", {}).get("image/svg+xml")
            if svg:
                width = float(re.search(r'<svg width="([\d.]+)pt"', "".join(svg)).group(1)) * 4 / 3
                assert width <= 901, (cell.source, width)


def test_quickstart_notebook_runs_in_a_real_kernel(tmp_path):
    start = time.perf_counter()
    nb = regen.execute_notebook(NOTEBOOK, tmp_path)
    assert time.perf_counter() - start < 60
    check(nb)
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")


def test_the_docs_show_the_notebook_with_its_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    check(nb)  # the committed notebook carries its outputs (make docs-outputs writes them)
    saved = regen.notebook_pictures(nb)
    on_disk = {p.name for p in regen.NOTEBOOK_PICTURES.iterdir()}
    assert set(saved) == on_disk
    for name, body in saved.items():
        assert (regen.NOTEBOOK_PICTURES / name).read_bytes() == body, name


def test_no_tqdm_warning_when_a_notebook_imports_pyg(tmp_path):
    path = tmp_path / "pyg.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import graphnas.surrogate, graphnas.converters.pyg\nimport torch_geometric\nprint('imported')")])
    nbformat.write(nb, path)
    out = regen.execute_notebook(path, tmp_path)
    streams = [(o.name, o.text) for o in out.cells[0].outputs if o.output_type == "stream"]
    assert streams == [("stdout", "imported\n")]
