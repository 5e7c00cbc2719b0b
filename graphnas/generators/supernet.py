"""Supernets as DAGs: what the spaces' ``supernet``, ``path_of``, ``from_path`` and ``derive`` share.

A space's supernet is a DAG whose decision points are **choice nodes**,
``Node("choice", {"candidates": [op, ...], "key": name})`` (compiled into mixed ops by
`graphnas.to_torch`, see `graphnas.converters.mixed`). Where the space chooses inputs (DARTS), every
candidate edge is there, a choice node whose candidates include the zero op ``none``. A **path** is a
mapping ``key -> candidate index``, one entry per choice key; every member of the space is a path
(``space.path_of(dag)``) and a path that keeps the space's rules is a member (``space.from_path(path)``).

**Example**

```python
>>> from graphnas.generators import NB201Space
>>> space = NB201Space()
>>> sn = space.supernet()
>>> sorted(supernet_choices(sn))[:2]
['1<-0', '2<-0']
>>> dag = space.sample(seed=0)
>>> space.from_path(space.path_of(dag)) == dag
True

```
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from graphnas.dag import DAG, GraphError, Node

__all__ = ["CHOICE", "check_path", "choice_node", "supernet_choices"]

CHOICE = "choice"  # the op name of a choice node (graphnas.converters.mixed.CHOICE)


def choice_node(candidates: Sequence[str], key: str, **params: Any) -> Node:
    """A choice node over ``candidates`` (op names), identified by ``key``; ``params`` go to every candidate."""
    if not candidates:
        raise GraphError(f"choice {key!r}: a choice node needs at least one candidate op")
    return Node(CHOICE, {"candidates": list(candidates), "key": key, **params})


def supernet_choices(dag: DAG) -> dict[str, tuple[str, ...]]:
    """The choice keys of a supernet DAG (nested DAGs included), in walk order, with their candidates."""
    out: dict[str, tuple[str, ...]] = {}

    def walk(g: DAG) -> None:
        for node in g.nodes:
            if isinstance(node.op, DAG):
                walk(node.op)
            elif node.op == CHOICE:
                key, cands = node.params.get("key"), node.params.get("candidates")
                if not isinstance(key, str) or not isinstance(cands, tuple) or not cands:
                    raise GraphError(f"choice node {node!r} needs a 'key' and a non-empty 'candidates' list")
                out.setdefault(key, cands)

    walk(dag)
    return out


def check_path(choices: Mapping[str, Sequence[str]], path: Any) -> dict[str, int]:
    """``path`` as a plain ``{key: index}`` dict; GraphError naming the key for a missing, unknown or out-of-range
    choice. An entry may also be given as the candidate's op name."""
    if not isinstance(path, Mapping):
        raise GraphError(f"a path is a mapping from choice key to candidate index, got {type(path).__name__}")
    extra = sorted(set(path) - set(choices))
    if extra:
        raise GraphError(f"the path names choices the supernet does not have: {extra}; its choices are "
                         f"{list(choices)}")
    out = {}
    for key, cands in choices.items():
        if key not in path:
            raise GraphError(f"the path gives no choice for {key!r}")
        k = path[key]
        if isinstance(k, str) and k in cands:
            k = list(cands).index(k)
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < len(cands):
            raise GraphError(f"choice {key!r}: {k!r} is not a candidate index 0..{len(cands) - 1} "
                             f"({', '.join(cands)})")
        out[key] = int(k)
    return out


def check_weights(counts: Mapping[str, int], weights: Any) -> dict[str, list[float]]:
    """``weights`` (choice key -> one weight per candidate) as plain lists of floats; GraphError naming the key
    for a missing or unknown key, or a value that is not ``counts[key]`` numbers, or holds a NaN (``-inf`` may
    mark a candidate that must not be taken)."""
    if not (callable(getattr(weights, "keys", None)) and callable(getattr(weights, "__getitem__", None))):
        raise GraphError(f"architecture weights are a mapping from choice key to one weight per candidate, got "
                         f"{type(weights).__name__}")  # a dict, or a torch ParameterDict
    check_path(dict.fromkeys(counts, ("",)), dict.fromkeys(weights, 0))
    out = {}
    for key, n in counts.items():
        w = weights[key]
        try:
            if isinstance(w, (str, bytes)):
                raise TypeError
            values = [float(v) for v in (w.tolist() if hasattr(w, "tolist") else w)]
        except (TypeError, ValueError):
            raise GraphError(f"choice {key!r}: weights must be {n} numbers, one per candidate, got {w!r}") from None
        if len(values) != n or any(math.isnan(v) for v in values):
            raise GraphError(f"choice {key!r}: weights must be {n} numbers (no NaN), one per candidate, got "
                             f"{len(values)}: {values}")
        out[key] = values
    return out


def argmax(values: Sequence[float], skip: int | None = None) -> int:
    """The index of the largest value (the first on ties), leaving out index ``skip``."""
    best: int | None = None
    for k, v in enumerate(values):
        if k != skip and (best is None or v > values[best]):
            best = k
    if best is None:
        raise GraphError("no candidate left to choose from")
    return best
