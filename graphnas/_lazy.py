"""Lazy exports for package ``__init__`` modules: a name's module is imported on first use.

This keeps ``import graphnas`` (and reading a JSON graph) free of torch, PyG and Graphviz.
"""

from __future__ import annotations

import contextlib
import importlib
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any


def lazy_exports(package: str, table: Mapping[str, str], namespace: dict[str, Any],
                 submodules: Sequence[str] = ()) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose public ``name`` lives in module ``table[name]``,
    and whose ``submodules`` (e.g. ``"search"``) are imported when first used as ``package.search``."""

    def __getattr__(name: str) -> Any:
        if name in submodules:
            value = importlib.import_module(f"{package}.{name}")
            namespace[name] = value
            return value
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(table) | set(submodules))

    return __getattr__, __dir__


@contextlib.contextmanager
def quiet_pyg_import() -> Iterator[None]:
    """Import PyTorch Geometric inside this block: PyG imports ``tqdm.auto``, which in a notebook without
    ipywidgets warns ``TqdmWarning: IProgress not found`` although graphnas shows no progress bar. Only that
    warning, only during the block: the warning filters are restored after it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        yield


@contextlib.contextmanager
def untouched_import() -> Iterator[None]:
    """Import inside this block and leave the process as it was: the first ``import sklearn.datasets`` of a
    process draws from Python's global ``random`` (one of its imports seeds it) and adds warning filters. A
    lazy import inside graphnas must not do either behind the caller's back, so both are restored after it."""
    import random

    state = random.getstate()
    try:
        with warnings.catch_warnings():
            yield
    finally:
        random.setstate(state)
