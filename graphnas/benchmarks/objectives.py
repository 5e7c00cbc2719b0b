"""Objectives by name: ``get_objective("digits", epochs=3)`` or ``get_objective("nb201:PATH")``.

``list_objectives()`` names them. An objective is a callable ``f(dag) -> value`` (or a result
mapping) that `graphnas.search.run` maximises.

Both take a **fidelity** as well: ``f(dag, fidelity={...})`` returns a result mapping whose ``"cost"`` is
the training spent, in epochs (see docs/multifidelity.md). The digits objective's fidelity keys are
``epochs`` (an integer >= 1), ``fraction`` (of the training images, in (0, 1]) and ``width`` (a multiplier
of the channels ``C``, > 0); its cost is ``epochs * fraction`` epochs of the full training set. The table's
only key is ``epochs`` (12 or 200 for the packaged one). A key or value the objective does not support
raises ValueError naming it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graphnas._checks import is_integer
from graphnas.dag import DAG
from graphnas.registry import UnknownNameError

__all__ = ["DIGITS_FIDELITIES", "digits_objective", "get_objective", "list_objectives"]

#: The digits objective's fidelity keys and what each must be.
DIGITS_FIDELITIES = {"epochs": "an integer >= 1", "fraction": "a fraction of the training images in (0, 1]",
                     "width": "a multiplier of the channels C, > 0",
                     "init": "a weights file (torch.save of a state_dict) to start from",
                     "save": "a file to save the trained weights to"}
_DIGITS_TRAIN_IMAGES = 1437

_OBJECTIVES = {
    "digits": "real training on scikit-learn's digits (graphnas.benchmarks.train_eval)",
    "nb201": "a NAS-Bench-201 table lookup: 'nb201' (the table shipped with graphnas) or 'nb201:PATH'",
}


def list_objectives() -> list[str]:
    """The objective names that `get_objective` knows."""
    return sorted(_OBJECTIVES)


def digits_objective(dag: DAG, *, fidelity: dict[str, Any] | None = None, epochs: int = 3, seed: int = 0,
                     C: int = 8, N: int = 1, max_train: int | None = None, early_stopping: Any = None,
                     ) -> dict[str, Any]:
    """Train ``dag`` on digits with `graphnas.benchmarks.train_eval` at a fidelity; the result has ``"cost"``.

    Args:
        dag: the cell (or network) to train.
        fidelity: ``{"epochs": E, "fraction": F, "width": W}`` (any subset; `DIGITS_FIDELITIES`): train
            ``E`` epochs (default ``epochs``) on the first ``F`` of the training images with ``W * C``
            channels (at least 1). None: the defaults. Two more keys warm-start a network (NASH,
            `graphnas.search.nash`): ``init``, a file of weights (``torch.save`` of a ``state_dict`` of the
            compiled ``dag``, read with ``weights_only=True``) to train on from, and ``save``, a file the
            trained weights are written to.
        epochs, seed, C, N, max_train: as for `train_eval` (``max_train`` caps the images ``fraction`` keeps).
        early_stopping: a `graphnas.curves.EarlyStopping`: the validation curve feeds it after each epoch and
            training stops when it judges the run hopeless (it extrapolates in learning-rate time, given the
            training's cosine schedule). The result then has ``"status": "stopped"`` (the
            search records it as stopped, neither failed nor a result) and ``"curve"`` and ``"decision"``
            (kept in the journal) in any case; a run that completes raises the stopper's incumbent.

    Returns:
        `train_eval`'s result with ``"cost"`` (``epochs_run * fraction``, in epochs of the full training set)
        and ``"fidelity"`` (the settings used).

    Raises:
        ValueError: a fidelity key the objective does not support, or a bad value, naming it.
    """
    from graphnas.benchmarks.digits import train_eval

    fid = dict(fidelity or {})
    unknown = sorted(set(fid) - set(DIGITS_FIDELITIES))
    if unknown:
        raise ValueError(f"the digits objective does not support fidelity {', '.join(map(repr, unknown))}; its "
                         f"fidelities are {', '.join(f'{k} ({v})' for k, v in DIGITS_FIDELITIES.items())}")
    e = fid.get("epochs", epochs)
    if not is_integer(e, 1):
        raise ValueError(f"the digits objective's fidelity 'epochs' must be {DIGITS_FIDELITIES['epochs']}, got {e!r}")
    e = int(e)  # a numpy integer too
    fraction, width = fid.get("fraction", 1.0), fid.get("width", 1.0)
    for key, v, top in (("fraction", fraction, 1.0), ("width", width, math.inf)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 < v <= top:
            raise ValueError(f"the digits objective's fidelity {key!r} must be {DIGITS_FIDELITIES[key]}, got {v!r}")
    images = min(max_train or _DIGITS_TRAIN_IMAGES, _DIGITS_TRAIN_IMAGES)
    keep = max(1, round(images * fraction))
    channels = max(1, round(C * width))
    callback = None
    if early_stopping is not None:  # train_eval's cosine schedule, per step over its batches: curves in lr time
        from graphnas.benchmarks.digits import BATCH_SIZE
        from graphnas.curves import cosine_schedule

        callback = early_stopping.callback(e, schedule=cosine_schedule(e, math.ceil(keep / BATCH_SIZE)))
    model: Any = dag
    if fid.get("init") is not None or fid.get("save") is not None:
        import torch

        from graphnas._torch_rng import local_generator
        from graphnas.benchmarks.digits import build_digits_model
        from graphnas.generators._random import as_torch, seed_int

        with local_generator(as_torch(seed_int(seed))):  # the initial weights train_eval would draw
            model = build_digits_model(dag, C=channels, N=N)
        if fid.get("init") is not None:
            try:
                model.load_state_dict(torch.load(fid["init"], weights_only=True))
            except (RuntimeError, OSError) as err:
                raise ValueError(f"the digits objective's fidelity 'init': cannot start from {fid['init']!r}: "
                                 f"{err}") from None
    result: dict[str, Any] = dict(train_eval(model, epochs=e, seed=seed, C=channels, N=N,
                                             max_train=keep if keep < _DIGITS_TRAIN_IMAGES else None,
                                             on_epoch=callback))
    if fid.get("save") is not None:
        import torch

        torch.save(model.state_dict(), fid["save"])
    ran = result.get("epochs_run", e)
    result.update(cost=ran * keep / images, fidelity={"epochs": e, "fraction": fraction, "width": width})
    if fid.get("init") is not None:
        result["fidelity"]["init"] = fid["init"]
    if callback is not None:
        result.update(curve=callback.curve, decision=callback.decision)
        if result.get("stopped"):
            result["status"] = "stopped"
        else:
            early_stopping.update(result["value"])
    return result


def get_objective(spec: str, *, epochs: int = 3, seed: int = 0, C: int = 8, N: int = 1,
                  max_train: int | None = None, space: str | None = None,
                  early_stopping: Any = None) -> Callable[..., Any]:
    """An objective from a short spec: ``"digits"`` (real training), ``"nb201"`` or ``"nb201:PATH"`` (a table).

    The digits objective is a picklable `functools.partial` of `digits_objective` with ``epochs``,
    ``seed``, ``C``, ``N``, ``max_train`` and ``early_stopping`` (a `graphnas.curves.EarlyStopping`, or
    None), so it runs on process executors; it trains any cell with one input (NB201, RandWire, NB101,
    chains) or a DARTS-style cell pair in the small digits skeleton. Both objectives take a fidelity.
    ``"nb201"`` is `graphnas.benchmarks.NB201Table` with its default table, ``"nb201:PATH"`` the table
    in file PATH. ``space``, the name of the space the search draws from, lets the table objective
    refuse spaces it cannot score.

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
        if epochs < 1:  # else every evaluation would fail, one by one, with the same error
            raise ValueError(f"the digits objective needs at least 1 training epoch, got {epochs}")
        return functools.partial(digits_objective, epochs=epochs, seed=seed, C=C, N=N, max_train=max_train,
                                 early_stopping=early_stopping)
    from graphnas.benchmarks.nb201 import NB201Table

    if not sep:
        return NB201Table()  # the packaged table
    if not arg:
        raise ValueError("the nb201 objective needs a table file after the colon: nb201:PATH (or plain nb201)")
    if not Path(arg).is_file():
        raise FileNotFoundError(2, "no such NAS-Bench-201 table file", arg)
    return NB201Table(arg)
