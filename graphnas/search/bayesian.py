"""Surrogate-guided Bayesian optimisation over DAGs (BANANAS-style, White et al. 2021).

Each step fits the GNN surrogate on every successful evaluation so far, makes
candidates by mutating the best graphs found and by sampling the space, drops
those already asked (by ``canonical_key``), and asks for the candidates with the
highest acquisition (expected improvement, UCB or Thompson sampling).
"""

from __future__ import annotations

import logging
import math
import numbers
from typing import Any

import numpy as np

from graphnas.dag import DAG
from graphnas.search.acquisition import get_acquisition
from graphnas.search.base import Optimizer
from graphnas.search.registry import register_optimizer

__all__ = ["BayesianOptimization"]

log = logging.getLogger(__name__)


@register_optimizer("bo", aliases=("bayesian",))
class BayesianOptimization(Optimizer):
    """Ask/tell BO with a `graphnas.surrogate.GNNSurrogate` (or any object with ``fit``/``predict``).

    Args:
        space: has ``sample(seed)`` and ``mutate(dag, seed)``; its ``vocabulary`` feeds the surrogate.
        surrogate: default a warm-started 5-member GNN ensemble (see `default_surrogate`).
            Anything with ``fit(dags, y)`` and ``predict_members(dags) -> [members, n]``
            or scikit-learn's ``predict(dags, return_std=True) -> (mean, std)`` works.
        acquisition: ``"ei"``, ``"ucb"`` or ``"ts"`` (see `graphnas.search.acquisition`).
        initial: random samples before the surrogate is first fitted.
        top_k: how many of the best graphs are mutated to make candidates.
        mutations: candidates made per parent (a mutation, or a mutation of a mutation).
        random_candidates: candidates sampled from the space at each step.
        refit_every: fit the surrogate again once this many new results arrived (1: every step).
        seed: seeds sampling, mutation and the default surrogate.
    """

    def __init__(self, space: Any, surrogate: Any = None, acquisition: str = "ei", *, initial: int = 10,
                 top_k: int = 10, mutations: int = 20, random_candidates: int = 50, refit_every: int = 1,
                 seed: Any = 0) -> None:
        if not callable(getattr(space, "mutate", None)):
            raise TypeError(f"BayesianOptimization needs a space with mutate(dag, seed); got {type(space).__name__}")
        for name, value, least in (("initial", initial, 0), ("top_k", top_k, 1), ("mutations", mutations, 0),
                                   ("random_candidates", random_candidates, 0), ("refit_every", refit_every, 1)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
                raise ValueError(f"BayesianOptimization: {name} must be an integer >= {least}, got {value!r}")
        super().__init__(space, seed=seed)
        self.acquisition = acquisition
        self._acq = get_acquisition(acquisition)
        self.surrogate = surrogate if surrogate is not None else self.default_surrogate(space, self._seed())
        self.initial = max(2, int(initial))
        self.top_k = top_k
        self.mutations = mutations
        self.random_candidates = random_candidates
        self.refit_every = max(1, int(refit_every))
        self._fitted_on = 0

    @staticmethod
    def default_surrogate(space: Any, seed: int = 0) -> Any:
        """A 5-member, 3-layer bidirectional GIN ensemble; later fits warm-start with 30 Adam steps."""
        from graphnas.surrogate import GNNSurrogate

        vocab = getattr(space, "vocabulary", None)
        return GNNSurrogate(vocabulary=list(vocab) if vocab else None, hidden=32, layers=3, ensemble=5,
                            epochs=150, warm_epochs=30, warm_start=True, seed=seed)

    def _ask_many(self, n: int) -> list[DAG]:
        data = self.evaluated
        if len(data) < self.initial:
            return self._fill(n, self._sample)
        if self._fitted_on == 0 or len(data) - self._fitted_on >= self.refit_every:
            self.surrogate.fit([d for d, _ in data], np.array([v for _, v in data]))
            self._fitted_on = len(data)
        candidates = self._candidates(data)
        if not candidates:
            return self._fill(n, self._sample)
        members = self._members(candidates)
        best = max(v for _, v in data)
        out: list[DAG] = []
        taken = set(self._asked)
        scores = self._acq(members, best, self.rng)
        order = list(np.argsort(-scores, kind="stable"))
        while len(out) < n and order:
            if self.acquisition == "ts" and out:  # a fresh posterior sample for each pick of a batch
                scores = self._acq(members, best, self.rng)
                order = [i for i in np.argsort(-scores, kind="stable") if candidates[i].canonical_key() not in taken]
                if not order:
                    break
            i = order.pop(0)
            key = candidates[i].canonical_key()
            if key not in taken:
                taken.add(key)
                out.append(candidates[i])
        if len(out) < n:
            out += self._fill(n - len(out), self._sample, taken)
        return out

    def _candidates(self, data: list[tuple[DAG, float]]) -> list[DAG]:
        """Mutations of the ``top_k`` best graphs plus random samples, none asked before, no duplicates."""
        ranked = sorted(data, key=lambda dv: -dv[1])[: self.top_k]
        seen = set(self._asked)
        out: list[DAG] = []

        def add(dag: DAG) -> None:
            key = dag.canonical_key()
            if key not in seen:
                seen.add(key)
                out.append(dag)

        for parent, _ in ranked:
            for m in range(self.mutations):
                child = self._mutate(parent)
                if m % 2 == 1:  # every other candidate moves two steps away
                    child = self._mutate(child)
                add(child)
        for _ in range(self.random_candidates):
            add(self._sample())
        return out

    def _members(self, candidates: list[DAG]) -> np.ndarray:
        predict_members = getattr(self.surrogate, "predict_members", None)
        if predict_members is not None:
            return np.asarray(predict_members(candidates), dtype=np.float64)
        mean, std = self.surrogate.predict(candidates, return_std=True)
        mean, std = np.asarray(mean, np.float64), np.asarray(std, np.float64)
        return np.stack([mean - std, mean + std])  # two pseudo-members with that mean and std

    def _told(self, dag: DAG, value: float) -> None:
        if not math.isfinite(value):
            log.info("evaluation failed; BO carries on without it")
