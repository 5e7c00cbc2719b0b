"""Run torch code with its random draws taken from a given ``torch.Generator``, in this thread only.

PyTorch's layers draw their initial weights (``nn.Conv2d(...)``, ``nn.Linear(...)``) and their
dropout masks from the process-wide default generator, which ``torch.manual_seed`` resets for
everyone. `local_generator` instead installs a ``TorchFunctionMode`` (thread-local in
PyTorch) that hands ``generator`` to every random call made without one, so that building and
training a model is seeded without touching the global generator, and two threads training two
models do not draw from each other's stream.

Covered: the ``torch.nn.init`` functions, ``torch.rand``/``randn``/``randint``/``randperm``/
``normal``/``bernoulli``/``multinomial`` and the in-place ``Tensor.uniform_``/``normal_``/
``bernoulli_``/``random_``/``exponential_``/``geometric_``/``cauchy_``/``log_normal_`` (which
covers graphnas' ``DropPath``), and ``torch.nn.functional.dropout`` (``nn.Dropout``),
re-implemented with the generator (same distribution, not the same mask as PyTorch's kernel).
Not covered, so still drawn from the global generator: ``dropout1d/2d/3d``, ``alpha_dropout``,
``feature_alpha_dropout``, ``rrelu`` and the ``*_like`` random functions; none of graphnas' ops uses them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

__all__ = ["local_generator"]

# Random functions that take ``generator=`` but may be called without it.
_TAKES_GENERATOR: frozenset[Callable[..., Any]] = frozenset({
    torch.rand, torch.randn, torch.randint, torch.randperm, torch.normal, torch.bernoulli, torch.multinomial,
    torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.bernoulli_, torch.Tensor.random_,
    torch.Tensor.exponential_, torch.Tensor.geometric_, torch.Tensor.cauchy_, torch.Tensor.log_normal_,
})


def _dropout(generator: torch.Generator, x: torch.Tensor, p: float = 0.5, training: bool = True,
             inplace: bool = False) -> torch.Tensor:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x.mul_(0.0) if inplace else x * 0.0
    mask = torch.empty_like(x).bernoulli_(1.0 - p, generator=generator).div_(1.0 - p)
    return x.mul_(mask) if inplace else x * mask


class local_generator(TorchFunctionMode):  # noqa: N801 - used like a function: ``with local_generator(g):``
    """Within ``with local_generator(gen):``, random torch calls of this thread without a generator use ``gen``."""

    def __init__(self, generator: torch.Generator) -> None:
        super().__init__()
        self.generator = generator

    def __torch_function__(self, func: Callable[..., Any], types: Any, args: tuple = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = dict(kwargs or {})
        if func is F.dropout:
            return _dropout(self.generator, *args, **kwargs)
        if kwargs.get("generator", False) is None or (func in _TAKES_GENERATOR and "generator" not in kwargs):
            kwargs["generator"] = self.generator
        return func(*args, **kwargs)
