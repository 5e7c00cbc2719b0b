"""One registry type for every "name -> thing" table of graphnas (timm/torchvision style).

Ops, generators and spaces, models, optimizers and acquisition functions are each a
`Registry`, filled by a decorator and read with ``names()`` and ``get(name)``.
They all behave alike:

- an unknown name raises `UnknownNameError` (a ``KeyError`` and a
  ``ValueError``), whose message names the kind, suggests the closest known names
  (a name in the wrong case suggests the right one) and lists the known ones;
- registering a name twice raises ``ValueError``, unless the new entry is the one
  already registered (the same object, or an equal one), so that importing a module
  again is harmless;
- a name is a non-empty string; an alias is a second name for an entry that
  ``get`` accepts but ``names()`` does not list.

**Example**

```python
>>> from graphnas.registry import Registry
>>> colours = Registry("colour")
>>> @colours.register("red")
... def red():
...     return "#f00"
>>> colours.names(), colours.get("red")()
(['red'], '#f00')
>>> colours.get("Red")
Traceback (most recent call last):
...
graphnas.registry.UnknownNameError: unknown colour 'Red' (did you mean 'red'?); known: red

```
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Generic, TypeVar

__all__ = ["Registry", "UnknownNameError", "closest_names"]

T = TypeVar("T")


def closest_names(name: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to ``name``: exact matches ignoring case first, then ``difflib``'s close matches."""
    known = list(known)
    folded = {k.casefold(): k for k in known}
    out = [folded[name.casefold()]] if name.casefold() in folded else []
    for match in difflib.get_close_matches(name.casefold(), list(folded), n=n, cutoff=0.6):
        if folded[match] not in out:
            out.append(folded[match])
    return out[:n]


class UnknownNameError(KeyError, ValueError):
    """A name that a registry does not know: ``unknown optimizer 'bayes' (did you mean 'bayesian'?); known: ...``.

    A ``KeyError`` (a failed look-up) and a ``ValueError`` (a bad argument), so that code
    catching either keeps working. ``kind``, ``name``, ``suggestions`` and ``known`` hold the parts.
    """

    def __init__(self, kind: str, name: object, known: Iterable[str], *, aliases: Iterable[str] = ()) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        candidates = [*self.known, *aliases]
        self.suggestions = closest_names(name, candidates) if isinstance(name, str) else []
        listing = ", ".join(self.known) if self.known else "none registered"
        super().__init__(f"unknown {kind} {name!r}{self.hint}; known: {listing}")

    @property
    def hint(self) -> str:
        """`` (did you mean 'a' or 'b'?)`` for the suggestions, or ``""``."""
        return f" (did you mean {' or '.join(map(repr, self.suggestions))}?)" if self.suggestions else ""

    def __str__(self) -> str:  # KeyError would repr-quote the message
        return str(self.args[0])


class Registry(Generic[T]):
    """A table ``name -> entry`` of one ``kind`` (``"op"``, ``"optimizer"``, ...).

    ``loader``, if given, is called once before the first look-up; it imports the modules
    whose decorators fill the registry, so that listing it does not depend on import order.
    """

    def __init__(self, kind: str, *, loader: Callable[[], object] | None = None) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}
        self._loader = loader
        self._loaded = loader is None

    # -- filling --------------------------------------------------------------

    def register(self, name: str, *, aliases: Sequence[str] = ()) -> Callable[[T], T]:
        """Decorator: register the decorated object under ``name`` (and ``aliases``) and return it unchanged."""
        self._check_name(name)

        def decorate(obj: T) -> T:
            return self.add(name, obj, aliases=aliases)

        return decorate

    def add(self, name: str, obj: T, *, aliases: Sequence[str] = ()) -> T:
        """Register ``obj`` under ``name`` (and ``aliases``); the same rules as `register`."""
        for key in (name, *aliases):
            self._check_name(key)
            existing = self._resolve(key)
            if existing is None or (existing == name and self._same(self._entries[name], obj)):
                continue  # a new name, or the same entry again
            raise ValueError(f"{self.kind} {key!r} is already registered ({self._entries[existing]!r}); "
                             "remove it first or choose another name")
        self._entries[name] = obj
        self._aliases.update({a: name for a in aliases})
        return obj

    def remove(self, name: str) -> T:
        """Unregister ``name`` (and its aliases) and return its entry; UnknownNameError if it is not registered."""
        key = self._resolve(name)
        if key is None:
            raise UnknownNameError(self.kind, name, self._entries, aliases=self._aliases)
        for alias in [a for a, target in self._aliases.items() if target == key]:
            del self._aliases[alias]
        return self._entries.pop(key)

    # -- reading --------------------------------------------------------------

    def get(self, name: str) -> T:
        """The entry registered under ``name`` or an alias of it; `UnknownNameError` otherwise."""
        self._load()
        key = self._resolve(name)
        if key is None:
            raise UnknownNameError(self.kind, name, self._entries, aliases=self._aliases)
        return self._entries[key]

    def names(self) -> list[str]:
        """The registered names, sorted (aliases not included)."""
        self._load()
        return sorted(self._entries)

    def aliases(self) -> dict[str, str]:
        """``alias -> name`` for every alias."""
        self._load()
        return dict(self._aliases)

    def __contains__(self, name: object) -> bool:
        self._load()
        return isinstance(name, str) and self._resolve(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} entries)"

    # -- internals ------------------------------------------------------------

    def _check_name(self, name: object) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")

    def _resolve(self, name: object) -> str | None:
        if not isinstance(name, str):
            return None
        if name in self._entries:
            return name
        return self._aliases.get(name)

    @staticmethod
    def _same(a: object, b: object) -> bool:
        try:
            return a is b or bool(a == b)
        except Exception:  # noqa: BLE001 - an entry whose == fails is not the same
            return False

    def _load(self) -> None:
        if self._loaded or self._loader is None:
            return
        self._loaded = True  # before calling: the loader's imports register into this registry
        try:
            self._loader()
        except BaseException:
            self._loaded = False
            raise
