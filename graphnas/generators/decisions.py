"""Search spaces as sequences of decisions: what a controller (NAS-RL, NASNet, ENAS) emits, one choice at a time.

A space that supports it has three methods:

- ``space.decisions(prefix) -> Decision | None``: the next decision after the choices ``prefix``
  (``None`` once the sequence is complete). Its options may depend on the earlier choices: the inputs
  of a DARTS block depend on the block's index, a NAS-Bench-101 edge set may not break the edge
  limit, a chain layer's anchor point chooses among the layers before it.
- ``space.encode(dag) -> list[int]``: the choices that make a member.
- ``space.decode(choices) -> DAG``: the member those choices make; a `graphnas.GraphError`
  that names the decision (its position and name) and the rule it breaks otherwise. Nothing is
  repaired silently.

A choice is an ``int``. For a ``"choice"`` decision it indexes `Decision.options`; for a
``"subset"`` decision (an anchor point choosing earlier layers) it is a bit mask over the options
(bit ``k`` set = ``options[k]`` chosen), so a controller can score each option on its own
(NAS-RL's anchor attention) and the choice stays one int.

**Example**

```python
>>> from graphnas.generators import NB201Space
>>> space = NB201Space()
>>> d = space.decisions([])
>>> d.name, d.options[:2]
('edge 0->1', ('none', 'skip_connect'))
>>> dag = space.decode([3, 3, 4, 1, 3, 1])
>>> space.encode(dag)
[3, 3, 4, 1, 3, 1]

```
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from graphnas.dag import DAG, GraphError

__all__ = ["Decision", "DecisionSpace", "decode_checked", "has_decisions", "num_choices", "walk"]


@dataclass(frozen=True)
class Decision:
    """One categorical decision of a space.

    Attributes:
        name: what is decided, e.g. ``"edge 0->1"``, ``"normal block 2 inputs"``, ``"layer 3 anchors"``.
        options: the option labels (``"choice"``) or the items that may be chosen (``"subset"``).
        kind: ``"choice"`` (the choice indexes ``options``) or ``"subset"`` (the choice is a bit mask
            over ``options``).
        key: decisions with the same key share a controller's output head and choice embedding
            (they have the same options); defaults to ``name``.
        allowed: for a ``"choice"``, which options keep the sequence valid given the earlier choices
            (``None``: all of them). A controller masks the others; `decode_checked` refuses them
            with ``rule`` in the message.
        rule: the rule that ``allowed`` enforces, in words.
        item: the item (e.g. the layer) this decision's step stands for, so that a later ``"subset"``
            decision can attend to the controller's state at this step (NAS-RL anchor points).
    """

    name: str
    options: tuple[Any, ...]
    kind: str = "choice"
    key: str = ""
    allowed: tuple[bool, ...] | None = None
    rule: str = ""
    item: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("choice", "subset"):
            raise ValueError(f"decision {self.name!r}: kind must be 'choice' or 'subset', got {self.kind!r}")
        if not self.key:
            object.__setattr__(self, "key", self.name)
        if self.kind == "choice" and not self.options:
            raise ValueError(f"decision {self.name!r} has no options")
        if self.allowed is not None and len(self.allowed) != len(self.options):
            raise ValueError(f"decision {self.name!r}: allowed has {len(self.allowed)} entries for "
                             f"{len(self.options)} options")

    @property
    def size(self) -> int:
        """How many ints are valid choices in range: ``len(options)``, or ``2**len(options)`` for a subset."""
        return num_choices(self)

    def label(self, choice: int) -> Any:
        """The option a choice stands for (for a subset, the tuple of chosen items)."""
        if self.kind == "subset":
            return tuple(o for k, o in enumerate(self.options) if choice >> k & 1)
        return self.options[choice]


def num_choices(decision: Decision) -> int:
    """The number of ints that are in range for ``decision``."""
    return 2 ** len(decision.options) if decision.kind == "subset" else len(decision.options)


@runtime_checkable
class DecisionSpace(Protocol):
    """What `graphnas.search.Reinforce` needs from a space."""

    def decisions(self, prefix: Sequence[int]) -> Decision | None: ...

    def encode(self, dag: DAG) -> list[int]: ...

    def decode(self, choices: Sequence[int]) -> DAG: ...


def has_decisions(space: Any) -> bool:
    """Whether ``space`` describes its members as decisions (has ``decisions``, ``encode`` and ``decode``)."""
    return all(callable(getattr(space, m, None)) for m in ("decisions", "encode", "decode"))


def walk(space: Any, choices: Sequence[int]) -> list[Decision]:
    """The decisions that ``choices`` answer, checked: GraphError naming the decision for a choice that is
    not an int, out of range, or not allowed after the earlier choices, and for a sequence of the wrong length."""
    if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
        raise GraphError(f"a decision sequence must be a sequence of ints, got {type(choices).__name__}")
    out: list[Decision] = []
    prefix: list[int] = []
    for k, c in enumerate(choices):
        d = space.decisions(prefix)
        if d is None:
            raise GraphError(f"decision sequence too long: {len(choices)} choices, but the sequence is complete "
                             f"after {k} (choice {k} = {c!r} has no decision)")
        if isinstance(c, bool) or not isinstance(c, int):
            import numpy as np  # a hard dependency; imported here only when a choice is not a plain int

            if not isinstance(c, np.integer):
                raise GraphError(f"decision {k} ({d.name}): the choice must be an int, got {c!r}")
            c = int(c)
        if not 0 <= c < d.size:
            raise GraphError(f"decision {k} ({d.name}): choice {c} is out of range 0..{d.size - 1}")
        if d.allowed is not None and not d.allowed[c]:
            raise GraphError(f"decision {k} ({d.name}): option {c} ({d.label(c)!r}) breaks a rule of the space "
                             f"after the earlier choices: {d.rule}")
        out.append(d)
        prefix.append(c)
    d = space.decisions(prefix)
    if d is not None:
        raise GraphError(f"decision sequence too short: it ends after {len(choices)} choices; decision "
                         f"{len(choices)} ({d.name}) is missing")
    return out


def decode_checked(space: Any, choices: Sequence[int], build: Callable[[list[int]], DAG]) -> DAG:
    """Check ``choices`` with `walk`, then ``build`` the DAG from them (as plain ints)."""
    walk(space, choices)
    return build([int(c) for c in choices])
