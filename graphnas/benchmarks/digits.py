"""Real training as a search objective, on scikit-learn's bundled digits (no download).

The digits set holds 1,797 grey 8x8 images of the digits 0-9. `load_digits_split`
cuts it once into a fixed, stratified training and validation split (80/20) and
returns ``(N, 1, 8, 8)`` float tensors. `train_eval` compiles a cell (or
takes a ready model), trains it for a few epochs on CPU and returns the
validation accuracy with the parameter count and the wall time. The same seed
gives the same result: initial weights, batch order and dropout come from
``torch.Generator`` objects of the call's own, never from torch's global generator.

**Example**

```python
>>> from functools import partial
>>> from graphnas.benchmarks import train_eval
>>> objective = partial(train_eval, epochs=3, seed=0)   # a search objective, picklable

```
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from graphnas.dag import DAG, GraphError, Node
from graphnas.generators._random import Seed, as_torch, seed_int

__all__ = ["DATASETS", "DigitsSplit", "accuracy", "build_digits_model", "digits_network", "is_network",
           "load_digits_split", "train_digits_model", "train_eval"]

log = logging.getLogger(__name__)

#: The data sets `train_eval` knows.
DATASETS = ("digits",)

#: Number of classes and input shape of the digits set.
NUM_CLASSES = 10
INPUT_SHAPE = (1, 8, 8)
BATCH_SIZE = 64  # train_eval's default; the digits objective derives its cosine schedule's steps from it


@dataclass(frozen=True)
class DigitsSplit:
    """The fixed digits split: images ``(N, 1, 8, 8)`` float32 (standardised), labels ``(N,)`` int64."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor


@lru_cache(maxsize=4)
def _digits_arrays(val_fraction: float, split_seed: int) -> tuple[Any, Any, Any, Any]:
    import numpy as np

    from graphnas._lazy import untouched_import

    with untouched_import():
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

    data = load_digits()
    x = (data.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = data.target.astype(np.int64)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=val_fraction, random_state=split_seed, stratify=y)
    mean, std = float(x_tr.mean()), float(x_tr.std())
    return (x_tr - mean) / std, y_tr, (x_va - mean) / std, y_va


def load_digits_split(*, val_fraction: float = 0.2, split_seed: int = 0) -> DigitsSplit:
    """scikit-learn's digits as a fixed stratified split: 1,437 training and 360 validation images.

    Pixels are scaled to [0, 1] and standardised with the training mean and
    standard deviation. The split depends only on ``val_fraction`` and
    ``split_seed``, never on a search's seed, so every architecture meets the same data.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    x_tr, y_tr, x_va, y_va = _digits_arrays(float(val_fraction), int(split_seed))
    return DigitsSplit(torch.from_numpy(x_tr.copy()), torch.from_numpy(y_tr.copy()),
                       torch.from_numpy(x_va.copy()), torch.from_numpy(y_va.copy()))


# --------------------------------------------------------------------------- the model


def digits_network(cell: DAG, *, C: int = 8, N: int = 1, num_classes: int = NUM_CLASSES) -> DAG:
    """The network DAG that `train_eval` trains: ``cell`` in a small two-stage skeleton for 8x8 images.

    Like NAS-Bench-201's skeleton, shrunk for 8x8 digits: a 3x3 conv-BN stem to
    ``C`` channels; ``N`` cells at 8x8; a residual reduction block (two 3x3
    ReLU-conv-BN, the first with stride 2, plus an average-pool + 1x1 shortcut)
    to ``2C`` channels at 4x4; ``N`` cells; BN-ReLU, global average pooling and
    a linear classifier. A cell with several inputs (a DARTS cell) gets the
    outputs of the two previous layers, each preprocessed to the stage's width
    by a 1x1 ReLU-conv-BN (a factorized reduction where the resolution differs),
    as in DARTS. Each cell is a nested DAG node, so the whole network renders
    and compiles as one graph.
    """
    if not isinstance(cell, DAG):
        raise GraphError(f"expected a graphnas DAG for the cell, got {type(cell).__name__}")
    if C < 1 or N < 1:
        raise ValueError(f"C and N must be positive, got C={C}, N={N}")
    pair = _cell_pair(cell)
    if pair is not None:
        from graphnas.models import darts_cifar

        return darts_cifar(pair, C=C, layers=3 * N + 2, num_classes=num_classes)
    nodes: list[Node] = [Node("input")]
    preds: list[list[int]] = [[]]
    scale = [1]

    def add(node: Node, inputs: list[int], stride: int = 1) -> int:
        nodes.append(node)
        preds.append(inputs)
        scale.append(max(scale[p] for p in inputs) * stride)
        return len(nodes) - 1

    prev = add(Node("conv_bn", {"C": C, "kernel": 3}), [0])
    prev_prev = prev
    k = len(cell.inputs)
    for stage in range(2):
        width = C * 2 ** stage
        if stage:
            a = add(Node("relu_conv_bn", {"C": width, "kernel": 3, "stride": 2}), [prev], 2)
            b = add(Node("relu_conv_bn", {"C": width, "kernel": 3}), [a])
            short = add(Node("nb201_downsample", {"C": width, "stride": 2}), [prev], 2)
            prev_prev, prev = prev, add(Node("identity"), [b, short])
        for _ in range(N):
            if k == 1:
                out = add(Node(cell), [prev])
            else:
                sources = [prev_prev] * (k - 1) + [prev]
                pre = []
                for src in sources:
                    if scale[src] < scale[prev]:
                        pre.append(add(Node("factorized_reduce", {"C": width, "stride": scale[prev] // scale[src]}),
                                       [src], scale[prev] // scale[src]))
                    else:
                        pre.append(add(Node("relu_conv_bn", {"C": width, "kernel": 1}), [src]))
                out = add(Node(cell), pre)
            prev_prev, prev = prev, out
    head = add(Node("bn_relu"), [prev])
    pool = add(Node("global_avg_pool"), [head])
    add(Node("linear", {"C": num_classes}), [pool])
    edges = [(p, i) for i, ps in enumerate(preds) for p in ps]
    return DAG(nodes, edges, inputs=[0], outputs=[len(nodes) - 1])


def _cell_pair(dag: DAG) -> tuple[DAG, DAG] | None:
    """The (normal, reduction) cells of a cell-pair DAG (DARTS, ENAS, NASNet spaces), else None."""
    nested = [n.op for n in dag.nodes if isinstance(n.op, DAG)]
    if (len(dag.inputs) == 2 and len(nested) == 2 and len(dag) == 4
            and all(len(c.inputs) == 2 for c in nested)):
        return nested[0], nested[1]
    return None


def is_network(dag: DAG) -> bool:
    """Whether ``dag`` is a whole network (it ends in a ``linear`` classifier) rather than a cell."""
    return any(dag.nodes[o].op == "linear" for o in dag.outputs)


def build_digits_model(dag: DAG, *, C: int = 8, N: int = 1, num_classes: int = NUM_CLASSES) -> nn.Module:
    """Compile ``dag`` for 8x8 one-channel images: a cell goes into `digits_network`.

    A DAG that already ends in a ``linear`` classifier is taken as a whole
    network and compiled as it is (one input channel).
    """
    from graphnas.converters.torch import to_torch

    if not isinstance(dag, DAG):
        raise GraphError(f"expected a graphnas DAG, got {type(dag).__name__}")
    net = dag if is_network(dag) else digits_network(dag, C=C, N=N, num_classes=num_classes)
    return to_torch(net, in_channels=1, class_name="DigitsNet")


# --------------------------------------------------------------------------- training


def train_eval(dag_or_model: DAG | nn.Module, dataset: str = "digits", *, epochs: int = 4, seed: Seed = 0,
               batch_size: int = BATCH_SIZE, lr: float = 0.05, weight_decay: float = 5e-4, C: int = 8, N: int = 1,
               max_train: int | None = None, on_epoch: Callable[[int, float], bool | None] | None = None
               ) -> dict[str, float]:
    """Train on the digits set and return ``{"value", "val_accuracy", "train_loss", "params", "seconds"}``.

    ``value`` is the validation accuracy in percent (what a search maximises).
    A DAG is compiled with `build_digits_model` (``C`` channels, ``N``
    cells per stage); a ``torch.nn.Module`` taking ``(B, 1, 8, 8)`` and returning
    ``(B, 10)`` logits is trained as it is (in place, from its current weights). SGD with
    Nesterov momentum and a cosine learning-rate schedule. ``seed`` (an int, a ``random.Random``
    or a numpy ``Generator``) fixes the initial weights of a compiled DAG, the batch order and
    any dropout, through ``torch.Generator`` objects of this call's own: the process-wide torch
    generator, thread count and deterministic-algorithms flag are left as they are, so calls may
    run side by side in threads. On CPU the same seed gives the same result for the same torch
    build and thread count (``torch.set_num_threads``, the caller's choice).
    ``max_train`` keeps only the first training images (for quick tests).
    ``on_epoch(epoch, val_accuracy)``, if given, is called after each epoch (1-based) with the validation
    accuracy in percent: the learning curve. If it returns True, training stops after that epoch (early
    stopping, e.g. `graphnas.curves.EarlyStopping`); the result then has ``"stopped": True`` and
    ``"epochs_run"`` (the epochs trained), as it has whenever ``on_epoch`` is given.

    Raises:
        GraphError: the DAG cannot be compiled.
        ValueError: unknown data set or bad settings.
    """
    _, result = train_digits_model(dag_or_model, dataset, epochs=epochs, seed=seed, batch_size=batch_size, lr=lr,
                                   weight_decay=weight_decay, C=C, N=N, max_train=max_train, on_epoch=on_epoch)
    return result


def train_digits_model(dag_or_model: DAG | nn.Module, dataset: str = "digits", *, epochs: int = 4, seed: Seed = 0,
                       batch_size: int = BATCH_SIZE, lr: float = 0.05, weight_decay: float = 5e-4, C: int = 8,
                       N: int = 1, max_train: int | None = None,
                       on_epoch: Callable[[int, float], bool | None] | None = None,
                       ) -> tuple[nn.Module, dict[str, float]]:
    """Like `train_eval`, but also returns the trained model (in eval mode), e.g. to save it."""
    from graphnas._torch_rng import local_generator

    if dataset not in DATASETS:
        raise ValueError(f"unknown data set {dataset!r}; available: {', '.join(DATASETS)}")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got epochs={epochs}, batch_size={batch_size}")
    if not isinstance(dag_or_model, (DAG, nn.Module)):
        raise GraphError(f"train_eval expects a graphnas DAG or a torch.nn.Module, got "
                         f"{type(dag_or_model).__name__}")
    start = time.perf_counter()
    base = seed_int(seed)
    data = load_digits_split()
    x_tr, y_tr = data.x_train, data.y_train
    if max_train is not None:
        if max_train < 1:
            raise ValueError(f"max_train must be a positive number of training images, got {max_train}")
        x_tr, y_tr = x_tr[:max_train], y_tr[:max_train]
    # Initial weights and dropout draw from `init`; the training loop seeds the batch order from `seed` too.
    init = as_torch(base)
    with local_generator(init):
        model = build_digits_model(dag_or_model, C=C, N=N) if isinstance(dag_or_model, DAG) else dag_or_model
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # The one training loop (graphnas.train): SGD with Nesterov momentum, cosine schedule, clipping at 5; batch
    # order from a generator seeded by `seed`, dropout and DropPath draws from `init` (it runs under the
    # generator mode only when a module draws in its forward pass: that mode costs a Python call per torch op).
    from graphnas.train import train

    run = train(model, (x_tr, y_tr), None, epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                seed=base, draws=init,
                on_epoch=None if on_epoch is None else
                (lambda e, _: bool(on_epoch(e, accuracy(model, data.x_val, data.y_val)))))
    train_loss = run.last("train_loss")
    acc = accuracy(model, data.x_val, data.y_val)
    seconds = time.perf_counter() - start
    log.debug("train_eval: %.2f%% in %.1f s (%d params)", acc, seconds, params)
    result = {"value": acc, "val_accuracy": acc, "train_loss": train_loss, "params": params,
              "seconds": seconds}
    if on_epoch is not None:
        result.update(epochs_run=run.epochs, stopped=run.stopped_early)
    return model, result


def _draws_in_training(model: nn.Module) -> bool:
    """Whether a module of ``model`` draws random numbers in a training forward pass: dropout or DropPath with
    p > 0 (the stochastic modules of graphnas' ops and of torch.nn)."""
    from graphnas.ops import DropPath

    for m in model.modules():
        p = getattr(m, "p", 0.0)
        if isinstance(m, (nn.modules.dropout._DropoutNd, DropPath)) and p:
            return True
    return False


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 512) -> float:
    """Top-1 accuracy in percent of ``model`` (put in eval mode) on ``x``, ``y``."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for k in range(0, len(x), batch):
            correct += int((model(x[k:k + batch]).argmax(dim=1) == y[k:k + batch]).sum())
    return 100.0 * correct / len(x)
