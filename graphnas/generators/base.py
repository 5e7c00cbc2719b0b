"""The interface every cell/chain search space in `graphnas.generators` offers."""

from __future__ import annotations

from collections.abc import Iterator

from graphnas.dag import DAG, GraphError
from graphnas.generators._random import Seed

__all__ = ["SearchSpace"]


class SearchSpace:
    """A set of architectures as DAGs: sample, mutate, test membership, count, and walk it.

    Subclasses set ``vocabulary`` (the op names their cells use) and implement
    ``sample``, ``mutate``, ``check`` and ``size``; ``enumerate`` and
    ``neighbours`` where the space allows it.
    """

    name: str = "space"
    vocabulary: tuple[str, ...] = ()

    def sample(self, seed: Seed = None) -> DAG:
        """One architecture drawn uniformly from the space (see each space for its distribution)."""
        raise NotImplementedError

    def mutate(self, dag: DAG, seed: Seed = None) -> DAG:
        """One local change of ``dag`` that stays in the space and changes something."""
        raise NotImplementedError

    def check(self, dag: DAG) -> None:
        """Raise `graphnas.GraphError` naming what makes ``dag`` not a member of the space."""
        raise NotImplementedError

    def contains(self, dag: DAG) -> bool:
        """Whether ``dag`` is a member of the space, in the node form the space produces."""
        try:
            self.check(dag)
        except GraphError:
            return False
        return True

    def size(self) -> int:
        """The number of distinct architectures in the space."""
        raise NotImplementedError

    def enumerate(self) -> Iterator[DAG]:
        """Every member, lazily."""
        raise NotImplementedError(f"{type(self).__name__} cannot be enumerated")

    def neighbours(self, dag: DAG) -> list[DAG]:
        """Every member one mutation away from ``dag`` (no duplicates, ``dag`` excluded)."""
        raise NotImplementedError(f"{type(self).__name__} has no neighbours()")

    def __contains__(self, dag: object) -> bool:
        return isinstance(dag, DAG) and self.contains(dag)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
