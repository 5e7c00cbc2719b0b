"""Regularized (aging) evolution, Real et al. 2019: tournament selection, mutation, oldest dies."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from graphnas.dag import DAG
from graphnas.search.base import Optimizer
from graphnas.search.registry import register_optimizer

__all__ = ["RegularizedEvolution"]


@register_optimizer("rea", aliases=("evolution",))
class RegularizedEvolution(Optimizer):
    """Aging evolution over any space with ``sample`` and ``mutate``.

    The first ``population`` graphs are random samples. After that each new
    graph is a mutation of the best of ``sample_size`` members drawn at random
    from the population, which holds the ``population`` most recent successful
    evaluations (the oldest dies, whatever its score). Children isomorphic to a
    graph already asked are mutated again, so no query is spent twice.
    """

    def __init__(self, space: Any, *, population: int = 50, sample_size: int = 10, seed: Any = 0) -> None:
        if not callable(getattr(space, "mutate", None)):
            raise TypeError(f"RegularizedEvolution needs a space with mutate(dag, seed); got {type(space).__name__}")
        if population < 1 or not 1 <= sample_size <= population:
            raise ValueError(f"need population >= 1 and 1 <= sample_size <= population, got {population}, "
                             f"{sample_size}")
        super().__init__(space, seed=seed)
        self.population = population
        self.sample_size = sample_size
        self._members: deque[tuple[DAG, float]] = deque(maxlen=population)

    def _told(self, dag: DAG, value: float) -> None:
        if math.isfinite(value):
            self._members.append((dag, value))

    def _propose(self) -> DAG:
        if not self._members or (len(self._members) < self.population and len(self._asked) < self.population):
            return self._sample()  # still building the first population
        k = min(self.sample_size, len(self._members))
        contestants = self.rng.sample(list(self._members), k)
        parent = max(contestants, key=lambda m: m[1])[0]
        return self._mutate(parent)
