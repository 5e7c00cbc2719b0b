"""The ```python examples in docs/search.md and docs/surrogate.md run (blocks marked ```python skip do not)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("page", ["surrogate.md", "search.md"])
def test_doc_examples_run(page, tmp_path, monkeypatch):
    text = (DOCS / page).read_text()
    blocks = FENCE.findall(text)
    assert blocks, f"no python examples in {page}"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__doc_example__"}
    for i, code in enumerate(blocks):
        try:
            exec(compile(code, f"{page} example {i + 1}", "exec"), namespace)
        except Exception as err:  # pragma: no cover - the message says which block failed
            raise AssertionError(f"{page}, example {i + 1} failed: {err!r}\n{code}") from err
    assert os.getcwd() == str(tmp_path)
