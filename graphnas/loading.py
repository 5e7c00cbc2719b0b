"""One dispatcher from anything graphnas can draw or compile to a `graphnas.DAG`: `as_dag`.

Each format has one parser, and this module owns none of them: NAS-Bench-201
arch strings are read by `NB201Space.from_string`, DARTS genotypes and their names by
`graphnas.genotypes`, NAS-Bench-101 ``(matrix, ops)`` specs by
`NB101Space.from_spec`, JSON by
`DAG.from_json`. `as_dag` only tells the
formats apart and hands each to its parser, so every entry point (``render``,
``to_dot``, the ``graphnas`` command's ``render`` and ``compile``) accepts the
same things and refuses bad input with the same `graphnas.GraphError`.

Where it sits: it needs ``generators/`` (the NB101 and NB201 spaces) and
``genotypes``, which themselves depend only on ``dag.py``; so it cannot live in
``dag.py`` (the value type knows no formats) nor in ``converters/`` (converters
depend on ``dag.py`` only). It is a small layer of its own above generators and
genotypes; ``converters/dot.py`` calls it, lazily, for input that is not yet a
DAG, and the CLI calls it to read its ``SOURCE`` arguments. Nothing it imports
imports it back.

**Example**

```python
>>> from graphnas import as_dag
>>> len(as_dag("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|"))
10
>>> as_dag("darts_v2") == as_dag("DARTS_V2")
True

```
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from graphnas.dag import DAG, GraphError

__all__ = ["as_dag"]

_WHAT = ("a graphnas DAG, a DAG JSON file or text, a NAS-Bench-201 arch string, a DARTS-format genotype or "
         "the name of one in graphnas.genotypes (e.g. DARTS_V2), or a NAS-Bench-101 (matrix, ops) spec")


def _is_genotype(obj: Any) -> bool:
    return isinstance(obj, tuple) and hasattr(obj, "normal") and hasattr(obj, "reduce")


def _nb101(matrix: Any, ops: Any) -> DAG:
    from graphnas.generators.nb101 import NB101Space

    return NB101Space().from_spec(matrix, ops)


def _from_string(text: str) -> DAG:
    stripped = text.strip()
    if not stripped:  # Path("") is the current folder: say what is wrong instead
        raise GraphError(f"{text!r}: an empty string names no graph (expected {_WHAT})")
    if stripped.startswith("{"):  # JSON text
        return DAG.from_json(stripped)
    path = Path(text)
    try:
        is_file, exists = path.is_file(), path.exists()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte, ...
        is_file = exists = False
    if is_file:
        return DAG.load(text)
    if exists:
        raise GraphError(f"{text}: is a directory, expected a graphnas DAG JSON file")
    if "~" in text or "|" in text:  # only NB201Space reads arch strings
        from graphnas.generators.nb201 import NB201Space

        return NB201Space().from_string(text)
    if stripped.isidentifier():
        from graphnas import genotypes

        try:
            genotype = genotypes.get_genotype(stripped)
        except GraphError as err:
            raise GraphError(f"{text}: no such file, and {err}") from None
        return genotypes.genotype_to_dag(genotype, "pair")
    raise GraphError(f"{text}: no such file (expected {_WHAT})")


def as_dag(obj: Any) -> DAG:
    """The `graphnas.DAG` that ``obj`` describes, read by the one parser of its format.

    ``obj`` may be:

    - a `graphnas.DAG` (returned as it is);
    - a DARTS-format genotype (`graphnas.genotypes.Genotype`) or the name of
      a published one, case-insensitively (``"DARTS_V2"``, ``"darts_v2"``,
      ``"nasnet"``): the cell-pair DAG holding its normal and reduction cells
      (`graphnas.genotypes.genotype_to_dag` with ``cell="pair"``; read it back
      with `graphnas.genotypes.dag_to_genotype`);
    - a NAS-Bench-201 arch string (``"|nor_conv_3x3~0|+|...|"``), read by
      `graphnas.generators.NB201Space.from_string`;
    - a NAS-Bench-101 spec, a pair ``(matrix, ops)`` or a mapping with keys
      ``"matrix"`` and ``"ops"``, read by `graphnas.generators.NB101Space.from_spec`;
    - a graphnas DAG document: JSON text, a path (``str`` or `os.PathLike`)
      to a JSON file, or the parsed mapping (``{"format": "graphnas.dag", ...}``).

    A string is JSON text if it starts with ``{``, else a path if such a file
    exists, else an arch string if it holds ``~`` or ``|``, else a genotype name.

    Raises:
        GraphError: ``obj`` is none of these, or its parser refuses it (the
            message is the parser's own, prefixed with the file name for files).
    """
    if isinstance(obj, DAG):
        return obj
    if _is_genotype(obj):
        from graphnas.genotypes import genotype_to_dag

        return genotype_to_dag(obj, "pair")
    if isinstance(obj, str):
        return _from_string(obj)
    if isinstance(obj, os.PathLike):
        path = Path(obj)
        if not path.exists():
            raise GraphError(f"{path}: no such file (expected a graphnas DAG JSON file)")
        if not path.is_file():
            raise GraphError(f"{path}: is a directory, expected a graphnas DAG JSON file")
        return DAG.load(str(path))
    if isinstance(obj, Mapping):
        if "format" in obj:
            return DAG.from_dict(dict(obj))
        if set(obj) == {"matrix", "ops"}:
            return _nb101(obj["matrix"], obj["ops"])
        raise GraphError(f"cannot read a mapping with keys {sorted(map(str, obj))}: expected a graphnas DAG "
                         "document ('format': 'graphnas.dag', ...) or a NAS-Bench-101 spec ('matrix', 'ops')")
    if isinstance(obj, (tuple, list)) and len(obj) == 2 and isinstance(obj[1], (tuple, list)) \
            and all(isinstance(op, str) for op in obj[1]):
        return _nb101(obj[0], obj[1])
    if isinstance(obj, bytes):
        try:
            return _from_string(obj.decode("utf-8"))
        except UnicodeDecodeError:
            raise GraphError("cannot read bytes that are not UTF-8 text") from None
    raise GraphError(f"cannot read a {type(obj).__name__} as a graph: expected {_WHAT}")
