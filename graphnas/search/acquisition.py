"""Acquisition functions: how a surrogate's prediction becomes a score for "evaluate this next".

Each takes the ensemble's member predictions ``[members, candidates]`` (higher is
better), the best value seen so far and a ``random.Random``, and returns one
score per candidate. Add one with ``@register_acquisition("name")``.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from graphnas.registry import Registry

__all__ = ["ACQUISITIONS", "expected_improvement", "get_acquisition", "list_acquisitions", "register_acquisition",
           "thompson_sampling", "upper_confidence_bound"]

Acquisition = Callable[[np.ndarray, float, random.Random], np.ndarray]
#: The acquisition registry (a `graphnas.registry.Registry`).
ACQUISITIONS: Registry[Acquisition] = Registry("acquisition")


def register_acquisition(name: str) -> Callable[[Acquisition], Acquisition]:
    """Decorator: make an acquisition function available by ``name`` (ValueError if the name is taken)."""
    return ACQUISITIONS.register(name)


def list_acquisitions() -> list[str]:
    """The registered acquisition names."""
    return ACQUISITIONS.names()


def get_acquisition(name: str) -> Acquisition:
    """The acquisition function called ``name``; `graphnas.UnknownNameError` (a ValueError) otherwise."""
    return ACQUISITIONS.get(name)


@register_acquisition("ei")
def expected_improvement(members: np.ndarray, best: float, rng: random.Random) -> np.ndarray:
    """Expected improvement over ``best`` of a normal with the ensemble's mean and std."""
    from scipy.stats import norm

    mu, sd = members.mean(axis=0), members.std(axis=0)
    sd = np.maximum(sd, 1e-9)
    z = (mu - best) / sd
    return (mu - best) * norm.cdf(z) + sd * norm.pdf(z)


@register_acquisition("ucb")
def upper_confidence_bound(members: np.ndarray, best: float, rng: random.Random, beta: float = 2.0) -> np.ndarray:
    """Mean plus ``beta`` standard deviations."""
    return members.mean(axis=0) + beta * members.std(axis=0)


@register_acquisition("ts")
def thompson_sampling(members: np.ndarray, best: float, rng: random.Random) -> np.ndarray:
    """One ensemble member, drawn at random, stands in for a posterior sample."""
    return members[rng.randrange(members.shape[0])].copy()
