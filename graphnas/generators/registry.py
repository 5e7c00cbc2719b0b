"""The generator registry: ``@register_generator(name)``, ``list_generators()``, ``get_generator(name, **params)``.

A generator is either a search-space class (instantiated with ``params``) or a
function ``f(**params, seed=...) -> DAG`` (wrapped so that it, too, has
``sample(seed)``). Either way ``get_generator(name, **params).sample(seed)``
gives a `graphnas.DAG`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from graphnas.dag import DAG
from graphnas.generators._random import Seed
from graphnas.registry import Registry

__all__ = ["GENERATORS", "FunctionGenerator", "get_generator", "get_generator_builder", "is_space",
           "list_generators", "register_generator"]

T = TypeVar("T")


def _load_builtins() -> None:
    # The built-in generators register themselves when their modules are imported.
    from graphnas.generators import _import_registering

    _import_registering()


#: The generator registry: name -> a space class or a DAG-returning function.
GENERATORS: Registry[Any] = Registry("generator or space", loader=_load_builtins)


def register_generator(name: str) -> Callable[[T], T]:
    """Register a space class or a DAG-returning function under ``name`` (a decorator).

    Registering a name again raises ValueError unless it is the same object.
    """
    return GENERATORS.register(name)


def list_generators() -> list[str]:
    """The registered generator names, sorted."""
    return GENERATORS.names()


def get_generator_builder(name: str) -> Any:
    """What is registered under ``name``: a space class or a generator function (unconfigured)."""
    return GENERATORS.get(name)


def is_space(name: str) -> bool:
    """True if ``name`` is a search space (a class, which can also mutate), False for a generator function."""
    return isinstance(GENERATORS.get(name), type)


class FunctionGenerator:
    """A registered function with its parameters bound: ``sample(seed)`` calls it."""

    def __init__(self, name: str, fn: Callable[..., DAG], params: dict[str, Any]) -> None:
        import inspect

        takes = inspect.signature(fn).parameters
        unknown = [k for k in params if k not in takes or k == "seed"]
        if unknown and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in takes.values()):
            accepted = ", ".join(k for k in takes if k != "seed")
            raise ValueError(f"generator {name!r} takes {accepted}; got {', '.join(map(repr, unknown))}"
                             + (" (give seed to sample())" if "seed" in unknown else ""))
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
    """The generator ``name`` configured with ``params``: a space instance, or a `FunctionGenerator`.

    Both have ``sample(seed) -> DAG``. Example: ``get_generator("ws", n=32, k=4, p=0.75).sample(0)``.

    Raises:
        graphnas.UnknownNameError: (a KeyError) naming the closest known generators.
    """
    obj = GENERATORS.get(name)
    if isinstance(obj, type):
        return obj(**params)
    return FunctionGenerator(name, obj, params)
