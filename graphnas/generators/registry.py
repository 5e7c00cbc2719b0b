"""The generator registry: ``@register_generator(name)``, ``list_generators()``, ``get_generator(name, **params)``.

A generator is either a search-space class (instantiated with ``params``) or a
function ``f(**params, seed=...) -> DAG`` (wrapped so that it, too, has
``sample(seed)``). Either way ``get_generator(name, **params).sample(seed)``
gives a :class:`graphnas.DAG`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from graphnas.dag import DAG
from graphnas.generators._random import Seed

__all__ = ["FunctionGenerator", "get_generator", "list_generators", "register_generator"]

_REGISTRY: dict[str, Any] = {}
T = TypeVar("T")


def register_generator(name: str) -> Callable[[T], T]:
    """Register a space class or a DAG-returning function under ``name`` (a decorator)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a generator name must be a non-empty string, got {name!r}")

    def decorate(obj: T) -> T:
        if name in _REGISTRY and _REGISTRY[name] is not obj:
            raise ValueError(f"a generator named {name!r} is already registered ({_REGISTRY[name]!r})")
        _REGISTRY[name] = obj
        return obj

    return decorate


def list_generators() -> list[str]:
    """The registered generator names, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


class FunctionGenerator:
    """A registered function with its parameters bound: ``sample(seed)`` calls it."""

    def __init__(self, name: str, fn: Callable[..., DAG], params: dict[str, Any]) -> None:
        self.name = name
        self.fn = fn
        self.params = dict(params)

    def sample(self, seed: Seed = None) -> DAG:
        """One graph from the function with the bound parameters."""
        return self.fn(**self.params, seed=seed)

    __call__ = sample

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"FunctionGenerator({self.name!r}, {args})"


def get_generator(name: str, **params: Any) -> Any:
    """The generator ``name`` configured with ``params``: a space instance, or a :class:`FunctionGenerator`.

    Both have ``sample(seed) -> DAG``. Example: ``get_generator("ws", n=32, k=4, p=0.75).sample(0)``.
    """
    _load_builtins()
    try:
        obj = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no generator named {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None
    if isinstance(obj, type):
        return obj(**params)
    return FunctionGenerator(name, obj, params)


def _load_builtins() -> None:
    # The built-in generators register themselves when their modules are imported.
    from graphnas.generators import _import_registering

    _import_registering()
