"""The interface every cell/chain search space in `graphnas.generators` offers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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

    # -- one-shot search (graphnas.generators.supernet) -----------------------------------

    def _no_supernet(self) -> NotImplementedError:
        return no_supernet_error(type(self).__name__)

    def supernet(self) -> DAG:
        """The space's supernet: a DAG whose decision points are choice nodes listing their candidates."""
        raise self._no_supernet()

    def path_of(self, dag: DAG) -> dict[str, int]:
        """The path through the supernet (choice key -> candidate index) that is the member ``dag``."""
        raise self._no_supernet()

    def from_path(self, path: Any) -> DAG:
        """The member that a path through the supernet is (inverse of ``path_of``)."""
        raise self._no_supernet()

    def derive(self, weights: Any) -> DAG:
        """The member derived from architecture weights (choice key -> weight per candidate), DARTS' rule."""
        raise self._no_supernet()

    def __contains__(self, dag: object) -> bool:
        return isinstance(dag, DAG) and self.contains(dag)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def no_supernet_error(what: str) -> NotImplementedError:
    """The error for one-shot search on ``what`` (a space or generator without a supernet)."""
    return NotImplementedError(f"{what} has no supernet; the spaces with one are NB201Space, DARTSSpace, "
                               "ENASSpace and NASNetSpace(combines=('sum',)) (graphnas.generators.supernet)")
