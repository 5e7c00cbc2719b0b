"""The package's dependency arrows point one way (docs/architecture.md): a module imports, at module
level, only modules of its own layer or a lower one. Imports inside functions (lazy) are not checked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "graphnas"

# lower number = lower layer; a module not listed (report, jobs, cli, ...) is in the top layer
LAYERS = {
    "graphnas._lazy": 0, "graphnas._checks": 0, "graphnas._graph": 0, "graphnas._tables": 0, "graphnas.dag": 0,
    "graphnas._dag_json": 0,
    "graphnas.registry": 0,
    "graphnas.ops": 1, "graphnas.genotypes": 1, "graphnas.generators": 1, "graphnas.converters": 1,
    "graphnas.models": 2, "graphnas.surrogate": 2, "graphnas.benchmarks": 2,
    "graphnas.search": 3,
}
TOP = 4


def layer(module: str) -> int:
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in LAYERS:
            return LAYERS[".".join(parts[:k])]
    return TOP


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_level_imports(path: Path) -> list[str]:
    out = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out.extend(alias.name for alias in node.names)
    return [m for m in out if m == "graphnas" or m.startswith("graphnas.")]


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_point_down_the_layers(path):
    me = module_name(path)
    for target in module_level_imports(path):
        if target == "graphnas":
            assert me == "graphnas" or layer(me) == TOP, f"{me} imports the package root"
            continue
        assert layer(target) <= layer(me), f"{me} (layer {layer(me)}) imports {target} (layer {layer(target)})"
        assert not target.startswith("graphnas.cli"), f"{me} imports the command line"


def test_the_layers_cover_the_package():
    assert {module_name(p) for p in MODULES} >= {"graphnas.dag", "graphnas._graph", "graphnas.converters.pyg",
                                                  "graphnas.converters.features", "graphnas.surrogate.gnn"}
