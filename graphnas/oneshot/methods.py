"""DARTS, ENAS and random-path training: three trainers of one compiled supernet, on the one training loop.

- `DARTS` (Liu et al. 2019): relaxed mixed ops; the weights learn on one half of the training data, the
  architecture weights (Adam) on the other, one step each per batch; ``order=2`` takes the architecture step
  through the unrolled weight step (finite-difference Hessian-vector product, as DARTS does);
  ``mode="gumbel"`` makes it GDAS (Dong & Yang 2019). The derived member is the space's ``derive`` rule
  applied to the softmax of the architecture weights.
- `ENAS` (Pham et al. 2018): each training step runs the child the controller
  (`graphnas.search.reinforce.Controller`) samples; after each epoch the controller takes REINFORCE steps
  rewarded by sampled children's accuracy on a batch of the architecture half; the derived member is the
  best of ``n_final`` sampled children by inherited accuracy.
- `RandomPaths` (random sampling with parameter sharing, Li & Talwalkar 2019): the path of a uniformly
  drawn member per step; afterwards ``n_candidates`` members are ranked by inherited accuracy (optionally
  with batch-norm statistics recomputed for each path) and the best is derived.

Each is seeded (same seed, same search), shows a progress bar on request, and with ``checkpoint=path``
saves its whole state after every epoch and resumes from it (``search(resume=True)``).

**Example**

```python
>>> from graphnas.generators import NB201Space
>>> from graphnas.oneshot import RandomPaths
>>> result = RandomPaths(NB201Space(), epochs=1, max_train=128, n_candidates=3, C=4).search()
>>> NB201Space().contains(result.dag), len(result.ranking)
(True, 3)

```
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from graphnas._checks import check_integers, check_nonnegative
from graphnas.converters.mixed import arch_of, arch_parameters, set_choice_mode, weight_parameters
from graphnas.dag import DAG
from graphnas.generators._random import Seed, as_random, seed_int
from graphnas.oneshot.base import (
    OneShotResult,
    SupernetData,
    _arch_batches,
    _History,
    _merge,
    _now,
    batch_stat_bn,
    build_supernet,
    inherited_accuracy,
    split_digits,
)
from graphnas.train import Step, TrainResult, train

__all__ = ["DARTS", "ENAS", "METHODS", "RandomPaths"]


class _GeneratorState:
    """A torch generator as a checkpointable object (the supernet's path draws)."""

    def __init__(self, owner: Any) -> None:
        self.owner = owner

    def state_dict(self) -> dict[str, Any]:
        return {"state": self.owner.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.owner.generator.set_state(state["state"])


class _OneShot:
    """Shared settings and the supernet training run; subclasses say what happens around each step and epoch."""

    method = ""
    choice_mode = "relaxed"

    def __init__(self, space: Any, *, epochs: int = 10, batch_size: int = 64, lr: float = 0.05,
                 weight_decay: float = 3e-4, grad_clip: float | None = 5.0, C: int = 8, N: int = 1, seed: Seed = 0,
                 progress: bool = False, data: SupernetData | None = None, max_train: int | None = None,
                 network: Callable[[DAG], DAG] | None = None, in_channels: int = 1,
                 checkpoint: str | os.PathLike[str] | None = None) -> None:
        owner = type(self).__name__
        check_integers(owner, 1, epochs=epochs, batch_size=batch_size, C=C, N=N, in_channels=in_channels)
        check_nonnegative(owner, lr=lr, weight_decay=weight_decay)
        if grad_clip is not None:
            check_nonnegative(owner, grad_clip=grad_clip)
            if not grad_clip > 0:
                raise ValueError(f"{owner}: grad_clip must be a gradient norm > 0 (None: no clipping), got 0")
        space.supernet()  # a space without one says so now, not after the first epoch
        self.space = space
        self.epochs, self.batch_size, self.lr, self.weight_decay = epochs, batch_size, lr, weight_decay
        self.grad_clip, self.C, self.N, self.seed = grad_clip, C, N, seed_int(seed)
        self.progress, self.network, self.in_channels, self.checkpoint = progress, network, in_channels, checkpoint
        self.data = data if data is not None else split_digits(max_train)

    def _tag(self) -> str:
        """What a checkpoint must match to be resumed: every setting that changes the supernet's training."""
        keys = ",".join(self.space.choice_keys()) if hasattr(self.space, "choice_keys") else ""
        own = "".join(f":{k}={v}" for k, v in self._settings().items())
        return (f"{self.method}:{type(self.space).__name__}:C={self.C}:N={self.N}:epochs={self.epochs}:"
                f"batch={self.batch_size}:lr={self.lr}:wd={self.weight_decay}:clip={self.grad_clip}:"
                f"seed={self.seed}{own}:{keys}")

    def _settings(self) -> dict[str, Any]:
        """The method's own settings that change how the supernet trains (they are in the checkpoint's tag)."""
        return {}

    def _model(self) -> nn.Module:
        model = build_supernet(self.space, C=self.C, N=self.N, seed=self.seed, network=self.network,
                               in_channels=self.in_channels)
        set_choice_mode(model, self.choice_mode, seed=self.seed + 1)
        return model

    def _train(self, model: nn.Module, *, before_step: Callable[[Step], None] | None,
               on_epoch: Callable[[int, dict[str, float]], bool | None] | None, extra: dict[str, Any],
               resume: bool) -> TrainResult:
        extra = {"draws": _GeneratorState(arch_of(model)), **extra}
        return train(model, self.data.train, self.data.val, epochs=self.epochs, batch_size=self.batch_size,
                     lr=self.lr, weight_decay=self.weight_decay, grad_clip=self.grad_clip,
                     params=weight_parameters(model), seed=self.seed, progress=self.progress,
                     before_step=before_step, on_epoch=on_epoch, checkpoint=self.checkpoint, resume=resume,
                     extra=extra, tag=self._tag())

    def search(self, resume: bool = False,
               on_epoch: Callable[[int, dict[str, float]], bool | None] | None = None) -> OneShotResult:
        """Train the supernet and derive a member; ``resume=True`` continues from ``checkpoint``.
        ``on_epoch(epoch, metrics)`` is called after each epoch; True stops the supernet's training there."""
        raise NotImplementedError


# --------------------------------------------------------------------------- DARTS


class DARTS(_OneShot):
    """Differentiable architecture search on the space's supernet (see the module doc).

    Args:
        space: a space with a supernet (`graphnas.generators.NB201Space`, `DARTSSpace`, `ENASSpace`,
            `NASNetSpace` with sum blocks).
        order: 1 (first-order: the architecture gradient at the current weights) or 2 (through one unrolled
            SGD step of the weights, learning rate = the weights' current one).
        arch_lr: Adam's learning rate on the architecture weights (betas 0.5, 0.999). DARTS used 3e-4 over
            50 epochs of 390 steps on CIFAR-10; a digits epoch is about 12 steps, so the default here is 3e-3.
        arch_weight_decay: Adam's weight decay on the architecture weights.
        mode: ``"relaxed"`` (DARTS) or ``"gumbel"`` (GDAS: hard Gumbel-softmax samples, temperature ``tau``).
        aux_skip: DARTS- (Chu et al. 2021), a remedy for the collapse onto skip connections: every mixed op
            whose output has its input's shape adds ``beta * x``, ``beta`` decaying linearly from ``aux_skip``
            (the paper: 1) to 0 over the search, so that a parameter-free skip stops being the easy way for
            gradients. 0 (default): plain DARTS.
        **kwargs: the shared settings (epochs, batch_size, lr, C, N, seed, progress, data, max_train,
            checkpoint, ...).
    """

    method = "darts"

    def _settings(self) -> dict[str, Any]:
        return {"order": self.order, "arch_lr": self.arch_lr, "arch_wd": self.arch_weight_decay,
                "mode": self.choice_mode, "tau": self.tau, "aux_skip": self.aux_skip}

    def __init__(self, space: Any, *, order: int = 1, arch_lr: float = 3e-3, arch_weight_decay: float = 1e-3,
                 mode: str = "relaxed", tau: float = 1.0, aux_skip: float = 0.0, **kwargs: Any) -> None:
        if order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {order!r}")
        if mode not in ("relaxed", "gumbel"):
            raise ValueError(f"mode must be 'relaxed' or 'gumbel', got {mode!r}")
        check_nonnegative("DARTS", arch_lr=arch_lr, arch_weight_decay=arch_weight_decay)
        if not (isinstance(tau, (int, float)) and 0.0 < tau < float("inf")):
            raise ValueError(f"DARTS: tau must be a temperature > 0, got {tau!r}")
        super().__init__(space, **kwargs)
        self.order, self.arch_lr, self.arch_weight_decay, self.choice_mode = order, arch_lr, arch_weight_decay, mode
        self.tau = tau
        if not 0.0 <= aux_skip:
            raise ValueError(f"aux_skip must be >= 0, got {aux_skip}")
        self.aux_skip = aux_skip

    def search(self, resume: bool = False,
               on_epoch: Callable[[int, dict[str, float]], bool | None] | None = None) -> OneShotResult:
        user_hook = on_epoch
        start = _now()
        model = self._model()
        set_choice_mode(model, self.choice_mode, tau=self.tau)
        alphas = arch_parameters(model)
        arch_opt = torch.optim.Adam(alphas, lr=self.arch_lr, betas=(0.5, 0.999), weight_decay=self.arch_weight_decay)
        hist = _History()
        batches: dict[int, list[Any]] = {}

        arch = arch_of(model)

        def before_step(s: Step) -> None:
            if self.aux_skip:
                per_epoch = math.ceil(len(self.data.train[0]) / self.batch_size)
                done = ((s.epoch - 1) * per_epoch + s.step - 1) / (self.epochs * per_epoch)
                arch.aux_skip = self.aux_skip * max(0.0, 1.0 - done)
            if s.epoch not in batches:
                batches.clear()
                batches[s.epoch] = _arch_batches(self.data.arch, self.batch_size, self.seed, s.epoch)
            xa, ya = batches[s.epoch][(s.step - 1) % len(batches[s.epoch])]
            arch_opt.zero_grad(set_to_none=True)
            if self.order == 1:
                F.cross_entropy(_logits(model(xa)), ya).backward()
            else:
                _unrolled_arch_grad(model, s, xa, ya)
            arch_opt.step()

        def record(epoch: int, metrics: dict[str, float]) -> bool | None:
            weights = arch_of(model).weights()
            hist.entries.append({"weights": weights, "derived": self.space.derive(weights).to_json()})
            return user_hook(epoch, metrics) if user_hook is not None else None

        run = self._train(model, before_step=before_step, on_epoch=record,
                          extra={"arch_optimizer": arch_opt, "history": hist}, resume=resume)
        arch.aux_skip = 0.0  # the trained supernet computes plain mixed ops from here on
        dag = self.space.derive(arch.weights())
        return OneShotResult(dag, _merge(run.history, hist.entries), model, seconds=_now() - start, space=self.space)


def _logits(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out


def _unrolled_arch_grad(model: nn.Module, s: Step, xa: torch.Tensor, ya: torch.Tensor) -> None:
    """DARTS' second-order architecture gradient, left in the architecture weights' ``.grad``:
    ``grad_a L_val(w', a) - xi (grad_a L_train(w+, a) - grad_a L_train(w-, a)) / (2 eps)`` with
    ``w' = w - xi grad_w L_train(w, a)``, ``w+- = w +- eps grad_w' L_val(w', a)``, ``eps = 0.01 / |grad_w' L_val|``."""
    alphas = arch_parameters(model)
    weights = [p for p in weight_parameters(model) if p.requires_grad]
    xi = s.lr

    def grads(x: torch.Tensor, y: torch.Tensor, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        loss = F.cross_entropy(_logits(model(x)), y)
        g = torch.autograd.grad(loss, list(params), allow_unused=True)
        return [torch.zeros_like(p) if gi is None else gi for p, gi in zip(params, g)]

    backup = [p.detach().clone() for p in weights]
    try:
        g_train = grads(s.x, s.y, weights)
        with torch.no_grad():
            for p, g in zip(weights, g_train):
                p.sub_(xi * g)
        g_val = grads(xa, ya, [*alphas, *weights])
        d_alpha, d_w = g_val[:len(alphas)], g_val[len(alphas):]
        eps = 0.01 / (math.sqrt(sum(float((d * d).sum()) for d in d_w)) + 1e-12)
        hessian: list[list[torch.Tensor]] = []
        for sign in (1.0, -1.0):
            with torch.no_grad():
                for p, b, d in zip(weights, backup, d_w):
                    p.copy_(b + sign * eps * d)
            hessian.append(grads(s.x, s.y, alphas))
    finally:
        with torch.no_grad():
            for p, b in zip(weights, backup):
                p.copy_(b)
    for a, da, gp, gn in zip(alphas, d_alpha, hessian[0], hessian[1]):
        a.grad = da - xi * (gp - gn) / (2 * eps)


# --------------------------------------------------------------------------- ENAS


class _ControllerState:
    """The controller as a checkpointable object."""

    def __init__(self, controller: Any) -> None:
        self.c = controller

    def state_dict(self) -> dict[str, Any]:
        return self.c.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        c = self.c
        c.sample(1)  # makes the output heads, which the controller creates as it first meets each decision
        c.net.load_state_dict(state["net"])
        if c.optimizer is not None and state["optimizer"]:
            c.optimizer.load_state_dict(state["optimizer"])
        b = float(state["baseline"])
        c.baseline = None if math.isnan(b) else b
        c.updates = int(state["updates"])
        c.generator.set_state(state["generator"])


class ENAS(_OneShot):
    """Efficient NAS with parameter sharing on the space's supernet (see the module doc).

    Args:
        space: a space with a supernet and decisions (`graphnas.generators.NB201Space`, `DARTSSpace`,
            `ENASSpace`, `NASNetSpace` with sum blocks).
        controller_steps: REINFORCE updates after each epoch.
        controller_batch: children sampled (and rewarded) per update.
        controller_lr: the controller's learning rate (ENAS: 3.5e-4; the default here is higher for short
            searches).
        entropy_weight: the controller's entropy bonus (ENAS: 1e-4).
        hidden_size: the controller's LSTM width (ENAS: 100).
        n_final: children sampled from the trained controller and ranked by inherited accuracy at the end.
        **kwargs: the shared settings.
    """

    method = "enas"
    choice_mode = "sampled"

    def __init__(self, space: Any, *, controller_steps: int = 10, controller_batch: int = 4,
                 controller_lr: float = 5e-3, entropy_weight: float = 1e-4, hidden_size: int = 64,
                 n_final: int = 16, **kwargs: Any) -> None:
        check_integers("ENAS", 1, controller_steps=controller_steps, controller_batch=controller_batch,
                       hidden_size=hidden_size, n_final=n_final)
        check_nonnegative("ENAS", controller_lr=controller_lr, entropy_weight=entropy_weight)
        super().__init__(space, **kwargs)
        self.controller_steps, self.controller_batch, self.n_final = controller_steps, controller_batch, n_final
        self.controller_lr, self.entropy_weight, self.hidden_size = controller_lr, entropy_weight, hidden_size

    def _settings(self) -> dict[str, Any]:  # the controller samples the paths the supernet trains on
        return {"steps": self.controller_steps, "cbatch": self.controller_batch, "clr": self.controller_lr,
                "entropy": self.entropy_weight, "hidden": self.hidden_size}

    def search(self, resume: bool = False,
               on_epoch: Callable[[int, dict[str, float]], bool | None] | None = None) -> OneShotResult:
        from graphnas.search.reinforce import Controller

        user_hook = on_epoch
        start = _now()
        model = self._model()
        arch = arch_of(model)
        ctrl = Controller(self.space, lr=self.controller_lr, entropy_weight=self.entropy_weight,
                          hidden_size=self.hidden_size, seed=self.seed)
        hist = _History()

        def path(choices: list[int]) -> dict[str, int]:
            return self.space.path_of(self.space.decode(choices))  # type: ignore[no-any-return]

        def before_step(s: Step) -> None:
            arch.fix(path(ctrl.sample(1)[0]))

        def record(epoch: int, metrics: dict[str, float]) -> bool | None:
            batches = _arch_batches(self.data.arch, self.batch_size, self.seed, epoch)
            rewards_seen = []
            for k in range(self.controller_steps):
                xa, ya = batches[k % len(batches)]
                choices = ctrl.sample(self.controller_batch)
                rewards = [self._reward(model, path(c), xa, ya) for c in choices]
                ctrl.update(rewards, choices)
                rewards_seen += rewards
            hist.entries.append({"mean_reward": sum(rewards_seen) / max(len(rewards_seen), 1),
                                 "baseline": float(ctrl.baseline if ctrl.baseline is not None else float("nan"))})
            return user_hook(epoch, metrics) if user_hook is not None else None

        run = self._train(model, before_step=before_step, on_epoch=record,
                          extra={"controller": _ControllerState(ctrl), "history": hist}, resume=resume)
        members = list(dict.fromkeys(self.space.decode(c) for c in ctrl.sample(self.n_final)))
        ranking = _rank(model, self.space, members, self.data, recompute_bn=False)
        return OneShotResult(ranking[0][0], _merge(run.history, hist.entries), model,
                             ranking=ranking, seconds=_now() - start, space=self.space)

    @staticmethod
    def _reward(model: nn.Module, path: dict[str, int], x: torch.Tensor, y: torch.Tensor) -> float:
        """The sampled child's accuracy (a fraction) on one batch, batch-norm from the batch's statistics."""
        arch = arch_of(model)
        arch.fix(path)
        with batch_stat_bn(model), torch.no_grad():
            return float((_logits(model(x)).argmax(1) == y).float().mean())


def _rank(model: nn.Module, space: Any, members: Sequence[DAG], data: SupernetData, *,
          recompute_bn: bool) -> list[tuple[DAG, float]]:
    scored = [(m, inherited_accuracy(model, space, m, data.arch,
                                               recompute_bn=data.train if recompute_bn else None))
              for m in members]
    return sorted(scored, key=lambda t: -t[1])


# --------------------------------------------------------------------------- random paths


class RandomPaths(_OneShot):
    """Random sampling with parameter sharing (see the module doc).

    Args:
        space: a space with a supernet.
        n_candidates: members drawn uniformly (distinct) and ranked by inherited accuracy at the end.
        recompute_bn: recompute the batch-norm statistics for each candidate's path before scoring it.
        **kwargs: the shared settings.
    """

    method = "random"
    choice_mode = "sampled"

    def __init__(self, space: Any, *, n_candidates: int = 50, recompute_bn: bool = False, **kwargs: Any) -> None:
        super().__init__(space, **kwargs)
        if n_candidates < 1:
            raise ValueError(f"n_candidates must be positive, got {n_candidates}")
        self.n_candidates, self.recompute_bn = n_candidates, recompute_bn

    def candidates(self) -> list[DAG]:
        """The members ranked at the end: ``n_candidates`` distinct ones drawn with the search's seed."""
        rng = as_random(self.seed + 2)
        out: dict[DAG, None] = {}
        for _ in range(100 * self.n_candidates):
            out.setdefault(self.space.sample(rng))
            if len(out) == self.n_candidates:
                break
        return list(out)

    def search(self, resume: bool = False,
               on_epoch: Callable[[int, dict[str, float]], bool | None] | None = None) -> OneShotResult:
        start = _now()
        model = self._model()
        arch = arch_of(model)

        def before_step(s: Step) -> None:
            # a member drawn uniformly from the space (not each choice on its own: in the DARTS and ENAS spaces
            # most combinations of choices are no member), seeded by (seed, epoch, step) so a resumed run
            # draws the same paths
            member = self.space.sample(seed=(self.seed * 1_000_003 + s.epoch * 100_003 + s.step) % 2**64)
            arch.fix(self.space.path_of(member))

        run = self._train(model, before_step=before_step, on_epoch=on_epoch, extra={}, resume=resume)
        ranking = _rank(model, self.space, self.candidates(), self.data, recompute_bn=self.recompute_bn)
        return OneShotResult(ranking[0][0], [dict(h) for h in run.history], model, ranking=ranking,
                             seconds=_now() - start, space=self.space)


#: The methods by the names the CLI uses.
METHODS: dict[str, type[_OneShot]] = {"darts": DARTS, "enas": ENAS, "random": RandomPaths}
