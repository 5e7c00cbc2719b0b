"""The one training loop: stand-alone networks, supernets (DARTS, ENAS, random paths) and derived cells.

`train` trains any ``nn.Module`` classifier on any data: scikit-learn's digits by default, or a torch
``Dataset``, a ``DataLoader`` or a pair of tensors ``(x, y)``. SGD (Nesterov momentum) or Adam, a cosine
learning-rate schedule, gradient clipping, linearly rising drop-path, and per-epoch training and validation
curves in the result (`TrainResult.history`). CPU by default; on CUDA, bf16 autocast, channels-last memory
and a whole-step CUDA graph are options. Every random draw (batch order, dropout, drop-path) comes from
generators seeded by ``seed``; the process-wide generator is left alone.

Hooks: ``on_epoch(epoch, metrics)`` is called after each epoch (1-based) with that epoch's metrics and stops
the training when it returns True; ``before_step(step)`` is called with each batch before the weight update
(DARTS takes its architecture step there). With ``checkpoint=path`` the state (weights, optimizer, schedule,
batch-order generator, history, and the ``extra`` objects' state dicts) is written after every epoch, so a
killed run loses at most one epoch; ``resume=True`` continues from it. A NaN or infinite loss stops with
`TrainingDiverged` naming the epoch and step, the last checkpoint kept as it was.

**Example**

```python
>>> import graphnas
>>> from graphnas.benchmarks.digits import build_digits_model
>>> from graphnas.generators import NB201Space
>>> model = build_digits_model(NB201Space().sample(seed=0))
>>> result = graphnas.train(model, epochs=1, seed=0)
>>> sorted(result.history[0])[:4]
['epoch', 'lr', 'seconds', 'train_accuracy']

```
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import sys
import time
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from graphnas._checks import check_nonnegative
from graphnas.generators._random import Seed, as_torch, seed_int

__all__ = ["Step", "TrainResult", "TrainingDiverged", "train"]

_OPTIMIZERS = ("sgd", "adam")
_SCHEDULES = ("cosine", "constant")
CHECKPOINT_FORMAT = "graphnas.train/1"


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names the epoch and step."""


@dataclass
class Step:
    """What ``before_step`` gets: the batch about to be trained on and the loop's state."""

    epoch: int
    step: int
    x: torch.Tensor
    y: torch.Tensor
    lr: float
    model: nn.Module
    optimizer: torch.optim.Optimizer | None


@dataclass
class TrainResult:
    """What `train` returns: the trained ``model`` (in eval mode) and one metrics dict per epoch run."""

    model: nn.Module
    history: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.history)

    def last(self, key: str) -> float:
        """The last epoch's value of ``key`` (NaN before any epoch)."""
        return float(self.history[-1][key]) if self.history else float("nan")

    def curve(self, key: str) -> list[float]:
        """``key`` per epoch, e.g. ``result.curve("val_accuracy")``."""
        return [float(h[key]) for h in self.history]


# --------------------------------------------------------------------------- data


class _TensorBatches:
    """Batches of a pair of tensors, reshuffled each epoch by ``generator`` (fast: no per-sample collate)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool,
                 generator: torch.Generator | None, drop_last: bool) -> None:
        if len(x) != len(y):
            raise ValueError(f"the data has {len(x)} inputs but {len(y)} targets")
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle
        self.generator, self.drop_last = generator, drop_last

    def __len__(self) -> int:
        n = len(self.x)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.x)
        idx = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for k in range(0, self.batch_size * len(self), self.batch_size):
            if idx is None:
                yield self.x[k:k + self.batch_size], self.y[k:k + self.batch_size]
            else:
                i = idx[k:k + self.batch_size]
                yield self.x[i], self.y[i]


def _batches(data: Any, batch_size: int, *, shuffle: bool, generator: torch.Generator | None,
             drop_last: bool = False, what: str = "data") -> Any:
    """Turn ``data`` (a DataLoader, a Dataset, or an ``(x, y)`` pair of tensors) into something iterable in
    batches of ``(x, y)``."""
    from torch.utils.data import DataLoader, Dataset

    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        return _TensorBatches(data[0], data[1], batch_size, shuffle, generator, drop_last)
    if isinstance(data, Dataset):
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle, generator=generator, drop_last=drop_last)
    raise TypeError(f"{what} must be a torch DataLoader, a Dataset or an (x, y) pair of tensors, "
                    f"got {type(data).__name__}")


def _digits() -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    from graphnas.benchmarks.digits import load_digits_split

    d = load_digits_split()
    return (d.x_train, d.y_train), (d.x_val, d.y_val)


# --------------------------------------------------------------------------- the loop


def _logits(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out  # (logits, aux_logits): the main head


def _has_module(model: nn.Module, name: str) -> bool:
    """Whether ``model`` holds a `graphnas.ops` module of class ``name`` (``DropPath``, ``AuxiliaryHead``)."""
    import graphnas.ops

    cls = getattr(graphnas.ops, name)
    return any(isinstance(m, cls) for m in model.modules())


def _loss(out: Any, y: torch.Tensor, loss_fn: Callable[..., torch.Tensor],
          auxiliary_weight: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(the training loss, the main logits) of a model's output: for a model with an auxiliary head
    (``auxiliary_weight`` > 0, see `train`) the loss of its ``(logits, aux)`` second output, weighted, is added."""
    logits = _logits(out)
    loss = loss_fn(logits.float(), y)
    if auxiliary_weight and isinstance(out, (tuple, list)) and len(out) > 1 and out[1] is not None:
        loss = loss + auxiliary_weight * loss_fn(out[1].float(), y)
    return loss, logits


def evaluate(model: nn.Module, data: Any, *, batch_size: int = 512, device: str | torch.device = "cpu",
             loss_fn: Callable[..., torch.Tensor] | None = None, channels_last: bool = False) -> dict[str, float]:
    """``{"loss", "accuracy"}`` (accuracy in percent) of ``model`` in eval mode on ``data`` (as in `train`)."""
    loss_fn = loss_fn or nn.functional.cross_entropy
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in _batches(data, batch_size, shuffle=False, generator=None, what="val"):
            x, y = x.to(device), y.to(device)
            if channels_last and x.dim() == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            out = _logits(model(x)).float()
            total += float(loss_fn(out, y)) * len(y)
            correct += int((out.argmax(1) == y).sum())
            count += len(y)
    if count == 0:
        raise ValueError("the validation data is empty")
    return {"loss": total / count, "accuracy": 100.0 * correct / count}


def _check_shape(model: nn.Module, x: torch.Tensor) -> None:
    """Run one batch through ``model``: a clear error where the data does not fit the network."""
    was = model.training
    try:
        with torch.no_grad():
            model.eval()
            model(x[:2])
    except (RuntimeError, ValueError) as err:  # ValueError: a compiled DAG's own input check
        raise ValueError(f"the data does not fit the network: its first samples, shape {tuple(x[:2].shape)}, "
                         f"fail in the forward pass ({str(err).splitlines()[0]})") from None
    finally:
        model.train(was)


def train(model: nn.Module, data: Any = None, val: Any = None, *, epochs: int = 4, batch_size: int = 64,
          optimizer: str = "sgd", lr: float = 0.05, momentum: float = 0.9, weight_decay: float = 5e-4,
          schedule: str = "cosine", grad_clip: float | None = 5.0, drop_path: float = 0.0,
          auxiliary_weight: float = 0.4, params: Sequence[nn.Parameter] | None = None, seed: Seed = 0,
          device: str = "cpu", bf16: bool = False, channels_last: bool = False, cuda_graph: bool = False,
          progress: bool = False,
          on_epoch: Callable[[int, dict[str, float]], bool | None] | None = None,
          before_step: Callable[[Step], None] | None = None, checkpoint: str | os.PathLike[str] | None = None,
          resume: bool = False, extra: Mapping[str, Any] | None = None, tag: str = "",
          loss_fn: Callable[..., torch.Tensor] | None = None, drop_last: bool = False,
          draws: torch.Generator | None = None) -> TrainResult:
    """Train ``model`` (a classifier returning logits, or ``(logits, aux)``) and return a `TrainResult`.

    Args:
        model: trained in place.
        data: the training data: a ``DataLoader``, a ``Dataset`` of ``(x, y)`` or a pair of tensors. Default:
            the digits training split (and its validation split for ``val``).
        val: validation data in the same forms (``None`` with ``data`` given: no validation metrics).
        epochs: passes over ``data``.
        batch_size: images per step (ignored for a DataLoader, which has its own).
        lr: the initial learning rate.
        momentum: SGD's momentum (Nesterov).
        weight_decay: L2 weight decay.
        optimizer: ``"sgd"`` (Nesterov momentum) or ``"adam"``.
        schedule: ``"cosine"`` (per step, to zero at the end) or ``"constant"``.
        grad_clip: the gradient norm limit, > 0 (``None``: no clipping).
        drop_path: the final drop-path probability of the model's ``drop_path`` nodes, rising linearly over
            the epochs as in DARTS. A model without such nodes (one not built with ``drop_path`` > 0, e.g.
            `graphnas.models.darts_cifar`'s) is refused: the setting would do nothing.
        auxiliary_weight: the weight of the auxiliary head's loss, 0.4 as in DARTS, for a model with DARTS'
            auxiliary head (`graphnas.models.darts_cifar` / ``darts_imagenet`` with ``auxiliary=True``, which
            return ``(logits, aux)`` in training). Any other model's further outputs (several outputs of a
            compiled DAG, an embedding) are not trained on: only the first is the logits.
        params: the parameters to train (default: all that require gradients; a supernet passes its weights).
        seed: batch order, dropout and drop-path draws.
        device: ``"cpu"`` (default) or a CUDA device; ``bf16``, ``channels_last`` and ``cuda_graph`` (a whole
            training step captured as one CUDA graph; needs ``drop_last=True``, no ``before_step``, and a model
            without host-side randomness) apply on CUDA only.
        progress: show a progress bar (rich).
        on_epoch: ``on_epoch(epoch, metrics) -> bool``; True stops the training after that epoch.
        before_step: called with a `Step` before each weight update.
        checkpoint: a file written after every epoch (``torch.save``; read with ``weights_only=True``).
        resume: continue from ``checkpoint`` if it exists.
        extra: objects with ``state_dict``/``load_state_dict`` (an architecture optimizer, a controller) saved
            in the checkpoint beside the model.
        tag: a string saved in the checkpoint; resuming from a checkpoint with another tag (another space or
            network) is refused.
        loss_fn: ``loss_fn(logits, y)``; default cross-entropy.
        drop_last: drop the last incomplete batch of each epoch.
        draws: the generator of dropout and drop-path draws (default: one seeded from ``seed``); the digits
            objective passes the one its initial weights came from.

    Raises:
        TrainingDiverged: the loss became NaN or infinite (the message names epoch and step), or an epoch
            ended with weights or a validation loss that are not finite.
        ValueError: bad settings, data that does not fit the network, a checkpoint of another run.
    """
    from graphnas._torch_rng import local_generator
    from graphnas.benchmarks.digits import _draws_in_training

    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got epochs={epochs}, batch_size={batch_size}")
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {_OPTIMIZERS}, got {optimizer!r}")
    if schedule not in _SCHEDULES:
        raise ValueError(f"schedule must be one of {_SCHEDULES}, got {schedule!r}")
    if not 0.0 <= drop_path < 1.0:  # also refuses NaN
        raise ValueError(f"drop_path must be a probability in [0, 1), got {drop_path!r}")
    check_nonnegative("train", lr=lr, momentum=momentum, weight_decay=weight_decay,
                      auxiliary_weight=auxiliary_weight)
    if grad_clip is not None and (isinstance(grad_clip, bool) or not isinstance(grad_clip, numbers.Real)
                                  or not 0.0 < float(grad_clip) < math.inf):
        raise ValueError(f"grad_clip must be a gradient norm > 0 (None: no clipping), got {grad_clip!r}")
    dev = torch.device(device)
    if (bf16 or channels_last or cuda_graph) and dev.type != "cuda":
        raise ValueError("bf16, channels_last and cuda_graph are CUDA options; pass device='cuda' (this run is on "
                         f"{dev})")
    if cuda_graph and (before_step is not None or not drop_last):
        raise ValueError("cuda_graph captures one whole fixed-shape step: it needs drop_last=True and no before_step")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint path")
    start = time.perf_counter()
    base = seed_int(seed)
    order = as_torch(base)
    draws = draws if draws is not None else as_torch(base + 1)
    if data is None:
        data, digits_val = _digits()
        val = digits_val if val is None else val
    loader = _batches(data, batch_size, shuffle=True, generator=order, drop_last=drop_last)
    steps_per_epoch = len(loader)
    if steps_per_epoch == 0:
        raise ValueError("the training data gives no batch (empty, or smaller than batch_size with drop_last)")
    model.to(dev)
    if channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    trainable = list(params) if params is not None else [p for p in model.parameters() if p.requires_grad]
    opt: torch.optim.Optimizer | None
    if not trainable:  # nothing to learn: the passes still run (batch-norm statistics), as in the digits objective
        opt = None
    elif optimizer == "sgd":
        opt = torch.optim.SGD(trainable, lr=lr, momentum=momentum, nesterov=momentum > 0,
                                                     weight_decay=weight_decay)
    else:
        opt = torch.optim.Adam(trainable, lr=lr, weight_decay=weight_decay, capturable=cuda_graph)
    total_steps = epochs * steps_per_epoch
    sched = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total_steps)
             if schedule == "cosine" and not cuda_graph and opt is not None else None)
    loss_fn = loss_fn or nn.functional.cross_entropy
    result = TrainResult(model)
    first_epoch = 0
    if resume and checkpoint is not None and os.path.exists(checkpoint):
        first_epoch = _load_checkpoint(checkpoint, tag, model, opt, sched, order, extra, result)
    draws_random = _draws_in_training(model)
    if cuda_graph and opt is None:
        raise ValueError("cuda_graph needs parameters to train")
    if not _has_module(model, "AuxiliaryHead"):
        auxiliary_weight = 0.0  # a second output that is no auxiliary classifier is no target of the loss
    if drop_path and not _has_module(model, "DropPath"):
        raise ValueError("drop_path > 0 but the model has no drop_path nodes: build it with drop_path > 0 (e.g. "
                         "graphnas.models.darts_cifar(genotype, drop_path=0.2)), or train with drop_path=0")
    stepper = (_GraphStep(model, opt, loss_fn, grad_clip, trainable, auxiliary_weight)
               if cuda_graph and opt is not None else None)
    bar = _Progress(progress, total_steps, first_epoch * steps_per_epoch)
    try:
        for epoch in range(first_epoch, epochs):
            if drop_path:
                from graphnas.models import set_drop_path

                set_drop_path(model, drop_path * epoch / epochs)
            model.train()
            t0 = time.perf_counter()
            losses = torch.zeros(steps_per_epoch, device=dev)
            cpu_total = 0.0  # on CPU the loss is read every step anyway: sum it in double precision
            correct = torch.zeros((), device=dev, dtype=torch.long)
            count = 0
            with local_generator(draws) if draws_random else contextlib.nullcontext():
                for step, (x, y) in enumerate(loader):
                    x, y = x.to(dev, non_blocking=True), y.to(dev, non_blocking=True)
                    if channels_last and x.dim() == 4:
                        x = x.contiguous(memory_format=torch.channels_last)
                    if epoch == first_epoch and step == 0:
                        _check_shape(model, x)
                    cur_lr = (lr * 0.5 * (1 + math.cos(math.pi * (epoch * steps_per_epoch + step) / total_steps))
                              if cuda_graph and schedule == "cosine" or opt is None
                              else float(opt.param_groups[0]["lr"]))
                    if before_step is not None:
                        before_step(Step(epoch + 1, step + 1, x, y, cur_lr, model, opt))
                    if stepper is not None and opt is not None:
                        for g in opt.param_groups:
                            g["lr"].fill_(cur_lr) if isinstance(g["lr"], torch.Tensor) else None
                        loss, out = stepper(x, y)
                    else:
                        with torch.autocast(dev.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
                            loss, out = _loss(model(x), y, loss_fn, auxiliary_weight)
                        if opt is not None:
                            opt.zero_grad(set_to_none=True)
                            loss.backward()
                            if grad_clip is not None:
                                nn.utils.clip_grad_norm_(trainable, grad_clip)
                            opt.step()
                            if sched is not None:
                                sched.step()
                    losses[step] = loss.detach() * len(y)
                    correct += (out.detach().argmax(1) == y).sum()
                    count += len(y)
                    if dev.type == "cpu":
                        value = float(loss.detach())
                        if not math.isfinite(value):
                            _diverged(epoch, step, value, checkpoint)
                        cpu_total += value * len(y)
                    bar.advance(epoch + 1, epochs)
            if dev.type != "cpu":
                bad = (~torch.isfinite(losses)).nonzero()
                if len(bad):
                    k = int(bad[0])
                    _diverged(epoch, k, float(losses[k]), checkpoint)
            train_loss = (cpu_total if dev.type == "cpu" else float(losses.sum())) / count
            metrics: dict[str, float] = {"epoch": float(epoch + 1), "train_loss": train_loss,
                                         "train_accuracy": 100.0 * int(correct) / count, "lr": float(cur_lr)}
            if trainable and not all(bool(torch.isfinite(p).all()) for p in trainable):
                raise TrainingDiverged(f"the weights are no longer finite after epoch {epoch + 1} (its last step "
                                       "diverged): lower the learning rate or clip gradients")
            if val is not None:
                ev = evaluate(model, val, device=dev, loss_fn=loss_fn, channels_last=channels_last)
                metrics["val_loss"], metrics["val_accuracy"] = ev["loss"], ev["accuracy"]
                if not math.isfinite(ev["loss"]):
                    raise TrainingDiverged(f"the validation loss became {ev['loss']} after epoch {epoch + 1}: "
                                           "the network's outputs are not finite (lower the learning rate)")
            metrics["seconds"] = time.perf_counter() - t0
            result.history.append(metrics)
            # on_epoch first: what it records in the `extra` objects belongs in this epoch's checkpoint
            stop = bool(on_epoch(epoch + 1, dict(metrics))) if on_epoch is not None else False
            if checkpoint is not None:
                _save_checkpoint(checkpoint, tag, epoch + 1, model, opt, sched, order, extra, result)
            if stop:
                result.stopped_early = True
                break
    finally:
        bar.close()
    model.eval()
    result.seconds = time.perf_counter() - start
    return result


def _diverged(epoch: int, step: int, value: float, checkpoint: Any) -> None:
    kept = (f"; the checkpoint {os.fspath(checkpoint)} holds the last completed epoch" if checkpoint is not None
            and os.path.exists(checkpoint) else "")
    raise TrainingDiverged(f"the loss became {value} at epoch {epoch + 1}, step {step + 1}: training diverged "
                           f"(lower the learning rate or clip gradients){kept}")


class _GraphStep:
    """A whole training step (forward, loss, backward, clipping, optimizer step) captured as one CUDA graph."""

    def __init__(self, model: nn.Module, opt: torch.optim.Optimizer, loss_fn: Callable[..., torch.Tensor],
                 grad_clip: float | None, params: list[nn.Parameter], auxiliary_weight: float = 0.0) -> None:
        self.model, self.opt, self.loss_fn, self.clip, self.params = model, opt, loss_fn, grad_clip, params
        self.auxiliary_weight = auxiliary_weight
        self.graph: Any = None
        for g in opt.param_groups:  # a tensor lr can change between replays
            g["lr"] = torch.tensor(float(g["lr"]), device=params[0].device)

    def _step(self) -> None:
        self.loss, self.out = _loss(self.model(self.x), self.y, self.loss_fn, self.auxiliary_weight)
        self.loss.backward()
        if self.clip is not None:
            nn.utils.clip_grad_norm_(self.params, self.clip, foreach=True)
        self.opt.step()

    def __call__(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.graph is None:
            self.x, self.y = x.clone(), y.clone()
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):  # warm-up outside the graph, as the CUDA-graph recipe requires
                for _ in range(3):
                    self.opt.zero_grad(set_to_none=True)
                    self._step()
            torch.cuda.current_stream().wait_stream(side)
            self.graph = torch.cuda.CUDAGraph()
            self.opt.zero_grad(set_to_none=True)
            with torch.cuda.graph(self.graph):
                self._step()
        self.x.copy_(x)
        self.y.copy_(y)
        self.graph.replay()
        return self.loss, self.out


class _Progress:
    """A rich progress bar over all steps (a no-op when off)."""

    def __init__(self, on: bool, total: int, done: int) -> None:
        self.bar: Any = None
        if on:
            from rich.progress import Progress

            self.bar = Progress(transient=False)
            self.task = self.bar.add_task("training", total=total, completed=done)
            self.bar.start()

    def advance(self, epoch: int, epochs: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=f"epoch {epoch}/{epochs}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


# --------------------------------------------------------------------------- checkpoints


def _save_checkpoint(path: Any, tag: str, epoch: int, model: nn.Module, opt: torch.optim.Optimizer | None, sched: Any,
                     order: torch.Generator, extra: Mapping[str, Any] | None, result: TrainResult) -> None:
    doc = {"format": CHECKPOINT_FORMAT, "tag": tag, "epoch": epoch, "model": model.state_dict(),
           "optimizer": opt.state_dict() if opt is not None else {},
           "scheduler": sched.state_dict() if sched is not None else {},
           "order": order.get_state(), "history": [dict(h) for h in result.history],
           "extra": {k: v.state_dict() for k, v in (extra or {}).items()}}
    tmp = os.fspath(path) + ".tmp"
    torch.save(doc, tmp)
    os.replace(tmp, path)  # a run killed while writing keeps the previous checkpoint


def _load_checkpoint(path: Any, tag: str, model: nn.Module, opt: torch.optim.Optimizer | None, sched: Any,
                     order: torch.Generator, extra: Mapping[str, Any] | None, result: TrainResult) -> int:
    try:
        doc = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as err:  # noqa: BLE001 - torch raises many kinds for a bad file
        raise ValueError(f"{os.fspath(path)} is not a readable training checkpoint: {err}") from None
    if not isinstance(doc, dict) or doc.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{os.fspath(path)} is not a graphnas training checkpoint")
    if doc.get("tag") != tag:
        raise ValueError(f"{os.fspath(path)} is a checkpoint of another run ({doc.get('tag')!r}, this one is "
                         f"{tag!r}); remove it (graphnas oneshot: --fresh) or pass another checkpoint path")
    try:
        model.load_state_dict(doc["model"])
    except RuntimeError as err:
        raise ValueError(f"{os.fspath(path)} holds the weights of another network: "
                         f"{str(err).splitlines()[0]}") from None
    if opt is not None:
        opt.load_state_dict(doc["optimizer"])
    if sched is not None and doc["scheduler"]:
        sched.load_state_dict(doc["scheduler"])
    order.set_state(doc["order"])
    for k, v in (extra or {}).items():
        if k not in doc["extra"]:
            raise ValueError(f"{os.fspath(path)} holds no state for {k!r}")
        v.load_state_dict(doc["extra"][k])
    result.history.extend(dict(h) for h in doc["history"])
    return int(doc["epoch"])


class _CallableModule(types.ModuleType):
    """``graphnas.train`` is this module once it is imported; calling it calls `train`, so that
    ``graphnas.train(model, ...)`` works whichever of the two the name holds."""

    def __call__(self, *args: Any, **kwargs: Any) -> TrainResult:
        return train(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
