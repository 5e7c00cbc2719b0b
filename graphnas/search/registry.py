"""The optimizer registry: ``@register_optimizer(name)``, ``list_optimizers()``, ``get_optimizer(name, space, **kw)``.

A registered optimizer is a class or a factory function called as
``builder(space, **kw)`` that returns an ask/tell `graphnas.search.Optimizer`;
``kw`` are its own parameters (``seed``, ``initial``, ``population``, ...), with its
own defaults. Adding one is one decorator:

```python
>>> from graphnas.search import RandomSearch, get_optimizer, register_optimizer
>>> @register_optimizer("my_random")
... class MyRandom(RandomSearch):
...     pass
>>> from graphnas.generators import NB201Space
>>> type(get_optimizer("my_random", NB201Space(), seed=0)).__name__
'MyRandom'
>>> from graphnas.search.registry import OPTIMIZERS
>>> _ = OPTIMIZERS.remove("my_random")

```

Built in: ``random`` (`graphnas.search.RandomSearch`), ``rea`` or ``evolution``
(`graphnas.search.RegularizedEvolution`), ``bo`` or ``bayesian``
(`graphnas.search.BayesianOptimization`), the multi-fidelity ``sh``, ``hyperband``, ``asha``, ``bohb`` and
``mobster`` (`graphnas.search.multifidelity`). An unknown name raises
`graphnas.UnknownNameError` with the closest names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from graphnas.registry import Registry

__all__ = ["OPTIMIZERS", "get_optimizer", "get_optimizer_builder", "list_optimizers", "register_optimizer"]

T = TypeVar("T")

#: Modules whose ``@register_optimizer`` decorators fill the registry (imported on first look-up).
BUILTIN_MODULES = ("graphnas.search.random_search", "graphnas.search.evolution", "graphnas.search.bayesian",
                   "graphnas.search.reinforce", "graphnas.search.multifidelity", "graphnas.search.nash")


def _load_builtins() -> None:
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


#: The optimizer registry: name -> a class or factory ``(space, **kw) -> Optimizer``.
OPTIMIZERS: Registry[Callable[..., Any]] = Registry("optimizer", loader=_load_builtins)


def register_optimizer(name: str, *, aliases: Sequence[str] = ()) -> Callable[[T], T]:
    """Decorator: register an optimizer class or factory ``(space, **kw)`` under ``name`` (and ``aliases``).

    Registering a name again raises ValueError unless it is the same object.
    """
    return OPTIMIZERS.register(name, aliases=aliases)  # type: ignore[return-value]


def list_optimizers() -> list[str]:
    """The registered optimizer names, sorted (aliases not included)."""
    return OPTIMIZERS.names()


def get_optimizer_builder(name: str) -> Callable[..., Any]:
    """The class or factory registered under ``name`` (unconfigured), e.g. to read its parameters."""
    return OPTIMIZERS.get(name)


def get_optimizer(name: str, space: Any, **kw: Any) -> Any:
    """The optimizer ``name`` over ``space``, configured with ``kw``: ``get_optimizer("rea", space, seed=0)``.

    Raises:
        graphnas.UnknownNameError: no such optimizer (the message suggests the closest names).
        TypeError: a parameter the optimizer does not take, or a space it cannot search (BO and
            REA need ``space.mutate``).
    """
    return OPTIMIZERS.get(name)(space, **kw)
