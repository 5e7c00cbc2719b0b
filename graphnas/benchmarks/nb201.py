"""NAS-Bench-201 as an objective: look a cell's metric up in a table file instead of training it.

The table is a CSV with a header, a column ``arch`` holding NAS-Bench-201 arch
strings (``|nor_conv_3x3~0|+|...|``) and one or more metric columns, e.g. the
CIFAR-10 test accuracy. Calling the table with a cell (a DAG from
:class:`graphnas.generators.NB201Space`, or an arch string) returns the metric.

Example::

    >>> from graphnas.benchmarks import NB201Table
    >>> table = NB201Table("nb201_cifar10.csv")                  # doctest: +SKIP
    >>> table(table.space.sample(seed=0))                         # doctest: +SKIP
    93.12
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from typing import Any

from graphnas.dag import DAG

__all__ = ["NB201Table"]


class NB201Table:
    """A tabular objective: ``table(dag_or_arch_string) -> float`` (higher is better).

    Args:
        path: the CSV file.
        metric: which metric column to return; default the only one besides ``arch``.

    Raises:
        ValueError: the file has no ``arch`` column, no metric column, ``metric`` is
            missing or ambiguous, or a value is not a number (naming the line).
        LookupError: when called with a cell that is not in the table.
    """

    def __init__(self, path: str | os.PathLike, metric: str | None = None) -> None:
        self.path = os.fspath(path)
        try:
            self.metric, self._table = self._read(metric)
        except (UnicodeDecodeError, csv.Error) as err:
            raise ValueError(f"{self.path}: not a CSV table of NAS-Bench-201 cells: {err}") from None
        self._space: Any = None

    def _read(self, metric: str | None) -> tuple[str, dict[str, float]]:
        with open(self.path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                raise ValueError(f"{self.path}: the file is empty; expected a header with 'arch'") from None
            if "arch" not in header:
                raise ValueError(f"{self.path}: no 'arch' column in the header {header}")
            metrics = [h for h in header if h != "arch"]
            if not metrics:
                raise ValueError(f"{self.path}: no metric column besides 'arch'")
            if metric is None:
                if len(metrics) > 1:
                    raise ValueError(f"{self.path} has several metric columns {metrics}; pick one with metric=")
                metric = metrics[0]
            elif metric not in metrics:
                raise ValueError(f"{self.path}: no metric column {metric!r}; the columns are {metrics}")
            a, m = header.index("arch"), header.index(metric)
            table: dict[str, float] = {}
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                try:
                    arch, value = row[a].strip(), float(row[m])
                except (IndexError, ValueError):
                    raise ValueError(f"{self.path}, line {line}: expected an arch string and a number in "
                                     f"column {metric!r}, got {row!r}") from None
                if arch in table:  # two scores for one cell: which one the search sees would be an accident
                    raise ValueError(f"{self.path}, line {line}: {arch!r} appears twice")
                table[arch] = value
        if not table:
            raise ValueError(f"{self.path}: the table has a header but no rows")
        return metric, table

    @property
    def space(self) -> Any:
        """The :class:`graphnas.generators.NB201Space` whose cells this table scores."""
        if self._space is None:
            from graphnas.generators.nb201 import NB201Space

            self._space = NB201Space()
        return self._space

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "metric": self.metric, "_table": self._table, "_space": None}

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return f"NB201Table({self.path!r}, metric={self.metric!r}, {len(self)} cells)"

    def arch(self, cell: DAG | str) -> str:
        """The arch string of ``cell``: a DAG of the NB201 space, or a string, read (and so checked) by
        :meth:`NB201Space.from_string <graphnas.generators.NB201Space.from_string>`, the one arch-string parser."""
        if isinstance(cell, str):
            cell = self.space.from_string(cell.strip())
        return self.space.to_string(cell)

    def __call__(self, cell: DAG | str) -> float:
        """The metric of ``cell``; LookupError naming the arch if the table does not hold it."""
        arch = self.arch(cell)
        try:
            return self._table[arch]
        except KeyError:
            raise LookupError(f"architecture {arch!r} is not in {self.path} ({len(self)} cells, metric "
                              f"{self.metric!r})") from None

    def items(self) -> Iterator[tuple[str, float]]:
        """``(arch string, value)`` pairs in file order."""
        return iter(self._table.items())

    def best(self) -> tuple[str, float]:
        """The arch string with the highest value, and that value."""
        arch = max(self._table, key=self._table.__getitem__)
        return arch, self._table[arch]
