"""Random search: every graph an independent sample of the space (the baseline to beat)."""

from __future__ import annotations

from typing import Any

from graphnas.dag import DAG
from graphnas.search.base import Optimizer
from graphnas.search.registry import register_optimizer

__all__ = ["RandomSearch"]


@register_optimizer("random")
class RandomSearch(Optimizer):
    """Samples the space; never proposes a graph isomorphic to one asked before.

    **Example**

    ```python
    >>> opt = RandomSearch(space, seed=0)          # doctest: +SKIP
    >>> dags = opt.ask(4)                          # doctest: +SKIP

    ```
    """

    def __init__(self, space: Any, *, seed: Any = 0) -> None:
        super().__init__(space, seed=seed)

    def _propose(self) -> DAG:
        return self._sample()
