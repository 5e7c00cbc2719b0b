"""Objectives by name: ``get_objective("digits", epochs=3)`` or ``get_objective("nb201:PATH")``.

``list_objectives()`` names them. An objective is a callable ``f(dag) -> value`` (or a result
mapping) that `graphnas.search.run` maximises.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graphnas.dag import DAG
from graphnas.registry import UnknownNameError

__all__ = ["get_objective", "list_objectives"]

_OBJECTIVES = {
    "digits": "real training on scikit-learn's digits (graphnas.benchmarks.train_eval)",
    "nb201": "a NAS-Bench-201 table lookup: 'nb201' (the table shipped with graphnas) or 'nb201:PATH'",
}


def list_objectives() -> list[str]:
    """The objective names that `get_objective` knows."""
    return sorted(_OBJECTIVES)


def get_objective(spec: str, *, epochs: int = 3, seed: int = 0, C: int = 8, N: int = 1,
                  max_train: int | None = None, space: str | None = None) -> Callable[[DAG], Any]:
    """An objective from a short spec: ``"digits"`` (real training), ``"nb201"`` or ``"nb201:PATH"`` (a table).

    The digits objective is a picklable `functools.partial` of
    `graphnas.benchmarks.train_eval` with ``epochs``, ``seed``, ``C``, ``N`` and
    ``max_train``, so it runs on process executors; it trains any cell with one input
    (NB201, RandWire, NB101, chains) or a DARTS-style cell pair in the small digits
    skeleton. ``"nb201"`` is `graphnas.benchmarks.NB201Table` with its default
    table, ``"nb201:PATH"`` the table in file PATH. ``space``, the name of the space the
    search draws from, lets the table objective refuse spaces it cannot score.

    Raises:
        graphnas.UnknownNameError: unknown spec (a ValueError naming the closest objectives).
        ValueError: ``epochs < 1`` for digits, or a table objective for a space other than ``nb201``.
        FileNotFoundError: the table file does not exist.
    """
    name, sep, arg = spec.partition(":")
    if name not in _OBJECTIVES or (name == "digits" and sep):
        raise UnknownNameError("objective", spec, ["digits", "nb201", "nb201:PATH"])
    if name == "nb201" and space is not None and space != "nb201":
        raise ValueError(f"the NAS-Bench-201 table objective only knows NAS-Bench-201 cells, and space {space!r} "
                         "makes other graphs, which it cannot score; use it with space 'nb201', or train "
                         "with the 'digits' objective")
    if name == "digits":
        from graphnas.benchmarks.digits import train_eval

        if epochs < 1:  # else every evaluation would fail, one by one, with the same error
            raise ValueError(f"the digits objective needs at least 1 training epoch, got {epochs}")
        return functools.partial(train_eval, epochs=epochs, seed=seed, C=C, N=N, max_train=max_train)
    from graphnas.benchmarks.nb201 import NB201Table

    if not sep:
        return NB201Table()  # the packaged table
    if not arg:
        raise ValueError("the nb201 objective needs a table file after the colon: nb201:PATH (or plain nb201)")
    if not Path(arg).is_file():
        raise FileNotFoundError(2, "no such NAS-Bench-201 table file", arg)
    return NB201Table(arg)
