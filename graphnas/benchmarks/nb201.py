"""NAS-Bench-201 as an objective: look a cell's metric up in a table instead of training it.

graphnas ships NAS-Bench-201's CIFAR-10 table (all 15,625 cells, no download):
``NB201Table()`` loads it. Its metric columns, and the training each one costs:

=========================== ======= ==========================================================
metric                      epochs  what it is
=========================== ======= ==========================================================
``cifar10_test_acc``        200     test accuracy (%), trained on train+valid (the default)
``cifar10_test_acc_12ep``   12      test accuracy (%) after 12 epochs, trained on train+valid
``cifar10_valid_acc_12ep``  12      validation accuracy (%) after 12 epochs, trained on train
=========================== ======= ==========================================================

A path loads any table instead: a CSV file (or ``.csv.gz``) with a header, a column
``arch`` holding NAS-Bench-201 arch strings (``|nor_conv_3x3~0|+|...|``) and one or more
metric columns. Calling the table with a cell (a DAG from
`graphnas.generators.NB201Space`, or an arch string) returns the metric.

**Example**

```python
>>> from graphnas.benchmarks import NB201Table
>>> table = NB201Table()                                   # 200-epoch test accuracy
>>> table.best()[1]
94.3733
>>> NB201Table(metric="cifar10_test_acc_12ep").epochs       # a cheaper fidelity
12
>>> arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
>>> table(arch, fidelity={"epochs": 12})                # the 12-epoch validation accuracy, and its cost
{'value': 84.746, 'cost': 12.0, 'epochs': 12, 'metric': 'cifar10_valid_acc_12ep'}

```

**Fidelity.** ``table(cell, fidelity={"epochs": E})`` looks the cell up in the column of ``E`` training
epochs (`NB201Table.fidelity_metrics`; the packaged table: 200 epochs the test accuracy, 12 epochs the
*validation* accuracy, what a search may look at) and returns ``{"value", "cost", "epochs", "metric"}``,
the cost in training epochs. Each fidelity is a separate training run in NAS-Bench-201 (its own
learning-rate schedule), so a 200-epoch look-up costs 200 epochs whatever was looked up before.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import os
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any, TextIO

from graphnas._checks import is_integer
from graphnas.dag import DAG

__all__ = ["NB201Table"]

#: The packaged table's metric columns and the training epochs behind each (its fidelity).
PACKAGED_METRICS: dict[str, int] = {
    "cifar10_test_acc": 200,
    "cifar10_test_acc_12ep": 12,
    "cifar10_valid_acc_12ep": 12,
}
PACKAGED_DEFAULT = "cifar10_test_acc"
_PACKAGED_FILE = "nb201_cifar10.csv.gz"
_PACKAGED_NAME = "the packaged NAS-Bench-201 table"
_EPOCHS_SUFFIX = re.compile(r"_(\d+)ep$")


def _open_text(path: str) -> TextIO:
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, newline="", encoding="utf-8")


def _parse(fh: TextIO, name: str, metric: str | None) -> tuple[str, list[str], dict[str, float]]:
    """Read one metric column of a CSV table: (the metric, all metric columns, arch -> value)."""
    reader = csv.reader(fh)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ValueError(f"{name}: the file is empty; expected a header with 'arch'") from None
    if "arch" not in header:
        raise ValueError(f"{name}: no 'arch' column in the header {header}")
    metrics = [h for h in header if h != "arch"]
    if not metrics:
        raise ValueError(f"{name}: no metric column besides 'arch'")
    if metric is None:
        if len(metrics) > 1:
            raise ValueError(f"{name} has several metric columns {metrics}; pick one with metric=")
        metric = metrics[0]
    elif metric not in metrics:
        raise ValueError(f"{name}: no metric column {metric!r}; the columns are {metrics}")
    a, m = header.index("arch"), header.index(metric)
    table: dict[str, float] = {}
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        try:
            arch, value = row[a].strip(), float(row[m])
        except (IndexError, ValueError):
            raise ValueError(f"{name}, line {line}: expected an arch string and a number in "
                             f"column {metric!r}, got {row!r}") from None
        if arch in table:  # two scores for one cell: which one the search sees would be an accident
            raise ValueError(f"{name}, line {line}: {arch!r} appears twice")
        table[arch] = value
    if not table:
        raise ValueError(f"{name}: the table has a header but no rows")
    return metric, metrics, table


@functools.cache
def _packaged(metric: str) -> tuple[list[str], dict[str, float]]:
    """The packaged table's column ``metric``, read once per process (tables and workers share it)."""
    data = resources.files("graphnas.benchmarks") / "data" / _PACKAGED_FILE
    with data.open("rb") as raw, io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8", newline="") as fh:
        _, metrics, table = _parse(fh, _PACKAGED_NAME, metric)
    return metrics, table


class NB201Table:
    """A tabular objective: ``table(dag_or_arch_string) -> float`` (higher is better).

    Args:
        path: a CSV file (``.csv`` or gzipped ``.csv.gz``) with an ``arch`` column and metric
            columns; ``None`` (default) loads the NAS-Bench-201 CIFAR-10 table shipped with graphnas.
        metric: which metric column to return. Default: for the packaged table
            ``"cifar10_test_acc"`` (200 epochs); for a file, its only column besides ``arch``.
            The packaged metrics are the keys of `PACKAGED_METRICS`.
        fidelity_metrics: the column behind each fidelity ``{"epochs": E}``, as ``{E: column}``. Default:
            for the packaged table ``{200: "cifar10_test_acc", 12: "cifar10_valid_acc_12ep"}`` (pass
            ``{200: "cifar10_test_acc", 12: "cifar10_test_acc_12ep"}`` to look at 12-epoch test accuracy);
            for a file, ``{epochs: metric}`` when `epochs` is known.

    Attributes:
        path: the file read, or ``None`` for the packaged table.
        metric: the metric column this table returns.
        metrics: every metric column of the file.
        epochs: training epochs behind `metric` (its fidelity): 200 or 12 for the packaged
            metrics; for a file, ``N`` where the column name ends in ``_<N>ep``, else ``None``.

    Raises:
        ValueError: the file has no ``arch`` column, no metric column, ``metric`` is
            missing or ambiguous, or a value is not a number (naming the line).
        LookupError: when called with a cell that is not in the table.
    """

    PACKAGED_METRICS = PACKAGED_METRICS
    #: The packaged table's default column per fidelity (training epochs).
    PACKAGED_FIDELITIES: dict[int, str] = {200: "cifar10_test_acc", 12: "cifar10_valid_acc_12ep"}

    def __init__(self, path: str | os.PathLike | None = None, metric: str | None = None,
                 fidelity_metrics: dict[int, str] | None = None) -> None:
        if path is None:
            metric = PACKAGED_DEFAULT if metric is None else metric
            if metric not in PACKAGED_METRICS:
                raise ValueError(f"{_PACKAGED_NAME}: no metric column {metric!r}; "
                                 f"the columns are {list(PACKAGED_METRICS)}")
            self.path: str | None = None
            metrics, self._table = _packaged(metric)
            self.metrics: list[str] = list(metrics)
            self.metric: str = metric
        else:
            self.path = os.fspath(path)
            try:
                with _open_text(self.path) as fh:
                    self.metric, self.metrics, self._table = _parse(fh, self.path, metric)
            except (UnicodeDecodeError, EOFError, OSError, csv.Error) as err:
                if isinstance(err, FileNotFoundError):
                    raise
                raise ValueError(f"{self.path}: not a CSV table of NAS-Bench-201 cells: {err}") from None
        self._space: Any = None
        if fidelity_metrics is None:
            own = self.epochs
            fidelity_metrics = (dict(self.PACKAGED_FIDELITIES) if self.path is None
                                else {} if own is None else {own: self.metric})
        for epochs, column in fidelity_metrics.items():
            if not is_integer(epochs, 1):
                raise ValueError(f"fidelity_metrics: the fidelities are training epochs (integers >= 1), "
                                 f"got {epochs!r}")
            if column not in self.metrics:
                raise ValueError(f"fidelity_metrics: {self._name} has no metric column {column!r} (for "
                                 f"{epochs} epochs); the columns are {self.metrics}")
        self.fidelity_metrics: dict[int, str] = dict(sorted(fidelity_metrics.items()))
        self._columns: dict[str, dict[str, float]] = {self.metric: self._table}

    @property
    def epochs(self) -> int | None:
        """Training epochs behind `metric` (200 or 12 for the packaged table; see the class)."""
        if self.path is None:
            return PACKAGED_METRICS[self.metric]
        found = _EPOCHS_SUFFIX.search(self.metric)
        return int(found.group(1)) if found else None

    @property
    def space(self) -> Any:
        """The `graphnas.generators.NB201Space` whose cells this table scores."""
        if self._space is None:
            from graphnas.generators.nb201 import NB201Space

            self._space = NB201Space()
        return self._space

    def __getstate__(self) -> dict[str, Any]:
        # the packaged table travels to worker processes as its metric name and is read there once
        table = None if self.path is None else self._table
        return {"path": self.path, "metric": self.metric, "metrics": self.metrics, "_table": table,
                "fidelity_metrics": self.fidelity_metrics}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = {"fidelity_metrics": {}, **state}
        self.__dict__.update(state, _space=None)
        if self._table is None:
            self._table = _packaged(self.metric)[1]
        self._columns = {self.metric: self._table}

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        where = "" if self.path is None else f"{self.path!r}, "
        return f"NB201Table({where}metric={self.metric!r}, {len(self)} cells)"

    @property
    def _name(self) -> str:
        return _PACKAGED_NAME if self.path is None else self.path

    def arch(self, cell: DAG | str) -> str:
        """The arch string of ``cell``: a DAG of the NB201 space, or a string, read (and so checked) by
        `NB201Space.from_string`, the one arch-string parser."""
        if isinstance(cell, str):
            cell = self.space.from_string(cell.strip())
        return self.space.to_string(cell)

    def __call__(self, cell: DAG | str, fidelity: dict[str, Any] | None = None) -> Any:
        """The metric of ``cell`` (a float); with ``fidelity={"epochs": E}`` the result mapping
        ``{"value", "cost", "epochs", "metric"}`` of the column for ``E`` epochs (see the module).

        Raises:
            LookupError: the table does not hold the cell (naming the arch).
            ValueError: a fidelity the table does not have (naming it and listing those it has).
        """
        arch = self.arch(cell)
        if fidelity is None:
            return self._lookup(self.metric, self._table, arch)
        epochs = self.check_fidelity(fidelity)
        column = self.fidelity_metrics[epochs]
        values = self._column(column)
        return {"value": self._lookup(column, values, arch), "cost": float(epochs), "epochs": epochs,
                "metric": column}

    def check_fidelity(self, fidelity: dict[str, Any]) -> int:
        """The training epochs of ``fidelity`` (``{"epochs": E}``), or ValueError naming what the table lacks."""
        have = ", ".join(map(str, self.fidelity_metrics)) or "none (pass fidelity_metrics)"
        if not isinstance(fidelity, dict):
            raise ValueError(f"a fidelity is a mapping such as {{'epochs': 12}}, got {fidelity!r}")
        other = sorted(set(fidelity) - {"epochs"})
        if other:
            raise ValueError(f"{self._name} does not support fidelity {', '.join(map(repr, other))}: its only "
                             f"fidelity is 'epochs' (training epochs: {have})")
        epochs = fidelity.get("epochs")
        if epochs not in self.fidelity_metrics:
            raise ValueError(f"{self._name} has no fidelity epochs={epochs!r}; it has epochs {have}")
        return int(epochs)

    def _column(self, column: str) -> dict[str, float]:
        if column not in self._columns:
            if self.path is None:
                self._columns[column] = _packaged(column)[1]
            else:
                with _open_text(self.path) as fh:
                    self._columns[column] = _parse(fh, self.path, column)[2]
        return self._columns[column]

    def _lookup(self, column: str, values: dict[str, float], arch: str) -> float:
        try:
            return values[arch]
        except KeyError:
            raise LookupError(f"architecture {arch!r} is not in {self._name} ({len(values)} cells, metric "
                              f"{column!r})") from None

    def items(self) -> Iterator[tuple[str, float]]:
        """``(arch string, value)`` pairs in file order (the packaged table: NAS-Bench-201's index order)."""
        return iter(self._table.items())

    def best(self) -> tuple[str, float]:
        """The arch string with the highest value, and that value."""
        arch = max(self._table, key=self._table.__getitem__)
        return arch, self._table[arch]
