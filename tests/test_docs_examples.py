"""Every ```python block of every docs/*.md page runs: a page's blocks in order, in one namespace, in a temp dir."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """The page's python blocks with the line number where each starts."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


PAGES = sorted(p for p in DOCS.glob("*.md") if python_blocks(p))


def test_the_docs_have_examples():
    names = {p.name for p in PAGES}
    assert {"index.md", "getting-started.md", "rendering.md", "training.md"} <= names, names


def test_block_pattern():
    page = "text\n```python\nx = 1\n```\n\n```sh\nls\n```\n```python\ny = x + 1\n```\n"
    assert [b for b in BLOCK.findall(page)] == ["x = 1\n", "y = x + 1\n"]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for line, code in python_blocks(page):
        # a code object named after the page and line, so that a failure points at the doc
        exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)  # noqa: S102
