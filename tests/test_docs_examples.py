"""Every ```python block of every docs/*.md page (and the README) runs: a page's blocks in order,
in one namespace, in a temp dir.

Each page runs in a fresh interpreter, as a reader would run it, so that pages cannot lean on each other
(or on the tests) through global state such as the generator registry.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)

# Runs in the child: argv[1] is the page; each block is compiled under the page's name with its line numbers,
# so that a traceback points into the doc.
RUNNER = r"""
import re, sys
import matplotlib
matplotlib.use("Agg")
page = sys.argv[1]
text = open(page, encoding="utf-8").read()
pattern = re.compile(sys.argv[2], re.MULTILINE | re.DOTALL)
namespace = {"__name__": "__main__"}
for m in pattern.finditer(text):
    line = text.count("\n", 0, m.start()) + 2
    exec(compile("\n" * (line - 1) + m.group(1), page, "exec"), namespace)
"""


def python_blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


PAGES = sorted(p for p in DOCS.glob("*.md") if python_blocks(p)) + [DOCS.parent / "README.md"]


def test_the_docs_have_examples():
    names = {p.name for p in PAGES}
    assert {"index.md", "getting-started.md", "dag.md", "generators.md", "compile.md", "rendering.md",
            "training.md", "surrogate.md", "search.md", "README.md"} <= names, names


def test_block_pattern():
    page = "text\n```python\nx = 1\n```\n\n```sh\nls\n```\n```python\ny = x + 1\n```\n"
    assert BLOCK.findall(page) == ["x = 1\n", "y = x + 1\n"]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(page, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(page), BLOCK.pattern], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{page.name} examples failed:\n{proc.stderr[-5000:]}"
