"""What the one-shot searches share: the compiled supernet network, the data split, inherited accuracy.

A search trains one network built around the space's supernet cell (`graphnas.benchmarks.digits.digits_network`
by default, so the supernet sits where a cell sits in the digits objective) and compiled by `graphnas.to_torch`,
choice nodes becoming mixed ops (`graphnas.converters.mixed`). The digits training split is cut in two halves:
the shared weights learn on the first, the architecture (DARTS' weights, ENAS' controller, the ranking of
random paths) on the second; the digits validation split is left for the curves and for reporting.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from graphnas.converters.mixed import arch_of, set_choice_mode
from graphnas.dag import DAG
from graphnas.generators._random import Seed, as_torch, seed_int

__all__ = ["OneShotResult", "SupernetData", "batch_stat_bn", "build_supernet", "inherited_accuracy",
           "split_digits"]


@dataclass(frozen=True)
class SupernetData:
    """The three parts of the data a one-shot search uses, each an ``(x, y)`` pair of tensors."""

    train: tuple[torch.Tensor, torch.Tensor]
    arch: tuple[torch.Tensor, torch.Tensor]
    val: tuple[torch.Tensor, torch.Tensor]


def split_digits(max_train: int | None = None) -> SupernetData:
    """The digits training split cut into two halves (weights, architecture), and the validation split.
    ``max_train`` keeps only the first images of the training split (for quick runs)."""
    from graphnas.benchmarks.digits import load_digits_split

    d = load_digits_split()
    x, y = d.x_train, d.y_train
    if max_train is not None:
        x, y = x[:max_train], y[:max_train]
    half = len(x) // 2
    return SupernetData((x[:half], y[:half]), (x[half:], y[half:]), (d.x_val, d.y_val))


def build_supernet(space: Any, *, C: int = 8, N: int = 1, seed: Seed = 0,
                   network: Callable[[DAG], DAG] | None = None, in_channels: int = 1) -> nn.Module:
    """Compile the network around ``space.supernet()``: ``network(cell)`` (default: the digits network with
    ``C`` channels and ``N`` cells per stage), initial weights drawn from a generator seeded by ``seed``."""
    from graphnas._torch_rng import local_generator
    from graphnas.benchmarks.digits import digits_network
    from graphnas.converters.torch import to_torch

    cell = space.supernet()
    net = network(cell) if network is not None else digits_network(cell, C=C, N=N)
    with local_generator(as_torch(seed)):
        model = to_torch(net, in_channels=in_channels, class_name="Supernet")
    return model


@contextlib.contextmanager
def batch_stat_bn(model: nn.Module) -> Iterator[None]:
    """Batch normalisation from each batch's own statistics, running statistics left untouched (train mode with
    momentum 0); the model's modes and momenta are restored afterwards."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m, m.training, m.momentum) for m in bns]
    training = model.training
    model.eval()
    for m in bns:
        m.train()
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, t, mom in saved:
            m.training, m.momentum = t, mom
        model.train(training)


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 512) -> float:
    correct = 0
    with torch.no_grad():
        for k in range(0, len(x), batch):
            out = model(x[k:k + batch])
            out = out[0] if isinstance(out, (tuple, list)) else out
            correct += int((out.argmax(1) == y[k:k + batch]).sum())
    return 100.0 * correct / len(x)


def inherited_accuracy(model: nn.Module, space: Any, dag: DAG, data: tuple[torch.Tensor, torch.Tensor], *,
                       recompute_bn: tuple[torch.Tensor, torch.Tensor] | None = None, bn_batch: int = 128) -> float:
    """The accuracy in percent of member ``dag`` on ``data`` with the weights it inherits from a trained supernet.

    The supernet computes ``dag``'s path only (``"sampled"`` mode, path fixed). With ``recompute_bn=(x, y)``
    the batch-norm statistics are first recomputed for this path on ``x`` (running averages reset, then a
    cumulative average over batches of ``bn_batch``), and restored afterwards, so the supernet is unchanged.
    """
    arch = arch_of(model)
    saved = (arch.mode, arch.fixed)
    set_choice_mode(model, "sampled", path=space.path_of(dag))
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    state = [({k: v.clone() for k, v in m.state_dict().items()}, m.momentum) for m in bns] if recompute_bn else []
    try:
        if recompute_bn is not None:
            for m in bns:
                m.reset_running_stats()
                m.momentum = None  # a cumulative average over the batches below
            model.train()
            with torch.no_grad():
                x = recompute_bn[0]
                for k in range(0, len(x), bn_batch):
                    model(x[k:k + bn_batch])
        model.eval()
        return _accuracy(model, *data)
    finally:
        for m, (sd, mom) in zip(bns, state):
            m.load_state_dict(sd)
            m.momentum = mom
        arch.mode, arch.fixed = saved


@dataclass
class OneShotResult:
    """What a one-shot search returns.

    Attributes:
        dag: the derived member of the space.
        history: one dict per epoch: the supernet's training curves (``train_loss``, ``val_accuracy``, ...),
            ``weights`` (the architecture weights, choice key -> softmax per candidate, where the method has
            them), ``derived`` (the member derived at that epoch, as JSON) and method-specific entries.
        model: the trained supernet (a compiled module with mixed ops).
        ranking: ``(member, inherited accuracy)`` pairs, best first (ENAS and RandomPaths).
        seconds: wall time.
        space: the space searched; it names the derived members (``to_string``) in `rows` and the table.

    In a notebook it shows as the derived cell's picture above a table of the epochs; `to_pandas` gives
    the epochs as a DataFrame and `plot` the supernet's curves.
    """

    dag: DAG
    history: list[dict[str, Any]] = field(default_factory=list)
    model: nn.Module | None = None
    ranking: list[tuple[DAG, float]] = field(default_factory=list)
    seconds: float = 0.0
    space: Any = None

    def rows(self) -> list[dict[str, Any]]:
        """One dict per supernet epoch: its numbers (``epoch``, ``train_loss``, ``val_accuracy``, ...) and,
        where the method derives a member each epoch, ``derived`` (the space's string for it, else its JSON)."""
        from graphnas.search.loop import arch_string

        out = []
        for h in self.history:
            row: dict[str, Any] = {k: v for k, v in h.items()
                                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
            if "derived" in h:  # the member derived that epoch, kept as its JSON
                row["derived"] = arch_string(self.space, DAG.from_json(h["derived"])) or h["derived"]
            out.append(row)
        return out

    def to_pandas(self) -> Any:
        """The `rows` as a ``pandas.DataFrame`` indexed by ``epoch``.

        Raises:
            ImportError: pandas is not installed (``pip install pandas``).
        """
        from graphnas._tables import to_pandas

        return to_pandas(self.rows(), "epoch", "OneShotResult")

    def plot(self, ax: Any = None) -> Any:
        """Plot the supernet's accuracy curves per epoch (training and validation, where recorded) on ``ax``.

        Args:
            ax: the matplotlib ``Axes`` to draw on; None: a new pyplot figure (what a notebook shows).

        Returns:
            the ``Axes``. Nothing else of matplotlib's state (backend, style) is changed.
        """
        from graphnas._tables import new_axes

        ax = new_axes(ax, "OneShotResult.plot")
        rows = self.rows()
        for key in ("train_accuracy", "val_accuracy"):
            points = [(r["epoch"], r[key]) for r in rows if key in r]
            if points:
                ax.plot(*zip(*points), marker="o", markersize=3, label=key.replace("_", " "))
        ax.set_xlabel("supernet epoch")
        ax.set_ylabel("accuracy (%)")
        if ax.lines:
            ax.legend(loc="lower right")
        return ax

    def _repr_html_(self) -> str:
        from graphnas._tables import table
        from graphnas.display import show
        from graphnas.search.loop import arch_string

        rows = self.rows()
        columns = [k for k in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds",
                               "derived") if rows and k in rows[0]]
        caption = (f"{len(rows)} supernet epochs, {self.seconds:.1f} s; derived: "
                   f"{arch_string(self.space, self.dag) or f'{len(self.dag)} nodes'}")
        return f"<div>{show(self.dag)._repr_svg_()}</div>" + table(rows, columns, caption, max_rows=40)


class _History:
    """Per-epoch entries that ride in the training checkpoint (so a resumed search keeps them)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def state_dict(self) -> dict[str, Any]:
        return {"entries": [dict(e) for e in self.entries]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.entries = [dict(e) for e in state["entries"]]


def _arch_batches(data: tuple[torch.Tensor, torch.Tensor], batch_size: int, seed: int, epoch: int) -> list[Any]:
    """The architecture batches of one epoch, a permutation seeded by (seed, epoch) so a resumed run sees the same."""
    x, y = data
    perm = torch.randperm(len(x), generator=as_torch(seed_int(seed) + 7919 * epoch))
    return [(x[perm[k:k + batch_size]], y[perm[k:k + batch_size]]) for k in range(0, len(x), batch_size)]


def _merge(history: list[dict[str, float]], extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**h, **e} for h, e in zip(history, extra)]


def _now() -> float:
    return time.perf_counter()
