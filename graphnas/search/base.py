"""The ask/tell interface every optimiser speaks, and what they share.

An optimiser proposes graphs with `Optimizer.ask` and learns their scores
with `Optimizer.tell` (higher is better; ``NaN`` marks a failed
evaluation). It never evaluates anything itself, so one loop
(`graphnas.search.run`) can drive it serially, on a thread or process
pool, or on a cluster.

A *space* is any object with ``sample(seed) -> DAG`` and
``mutate(dag, seed) -> DAG`` (``graphnas.generators.nb201.NB201Space`` is one);
``vocabulary`` (a list of op names) is used by the surrogate when present.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from graphnas._checks import is_integer
from graphnas.dag import DAG, GraphError
from graphnas.generators._random import as_random

__all__ = ["Optimizer", "Space"]


@runtime_checkable
class Space(Protocol):
    """What an optimiser needs from a search space."""

    def sample(self, seed: Any = None) -> DAG: ...

    def mutate(self, dag: DAG, seed: Any = None) -> DAG: ...


def check_count(n: Any, what: str) -> int:
    """``n`` as an int, or ValueError: a number of graphs or trials to ask for is a whole number >= 0."""
    if not is_integer(n, 0):
        raise ValueError(f"{what}(n) needs a whole number n >= 0, got {n!r}")
    return int(n)


class Optimizer:
    """Base class: keeps the evaluated graphs, the pending ones and a seeded RNG.

    Subclasses implement `_propose` (one new graph); `ask` makes sure
    the graphs it returns are distinct, up to isomorphism (``canonical_key``),
    from each other and from every graph asked before.
    """

    #: How many proposals `ask` tries per requested graph before giving up.
    max_attempts: int = 200

    def __init__(self, space: Any, *, seed: Any = 0) -> None:
        if not callable(getattr(space, "sample", None)):
            raise TypeError(f"space must have a sample(seed) method; got {type(space).__name__}")
        self.space = space
        self.seed = seed
        self.rng = as_random(seed)
        self.history: list[tuple[DAG, float]] = []  # every tell, in order (NaN = failed)
        self._asked: set[str] = set()               # canonical keys asked or told
        self._told_keys: set[str] = set()           # canonical keys told
        self._replay_in_step = True                 # `replay` re-asks until a journal leaves this search's path

    # -- ask/tell ----------------------------------------------------------------------

    def ask(self, n: int = 1) -> list[DAG]:
        """``n`` new distinct graphs to evaluate (fewer only if the space seems exhausted)."""
        n = check_count(n, "ask")
        out = self._ask_many(n)
        for dag in out:
            self._asked.add(dag.canonical_key())
        return out

    def tell(self, dag: DAG, value: float) -> None:
        """Record that ``dag`` scored ``value`` (higher is better; NaN for a failed evaluation)."""
        if not isinstance(dag, DAG):
            raise TypeError(f"tell expects a graphnas.DAG, got {type(dag).__name__}")
        key = dag.canonical_key()
        self._check_tell(dag, key)
        self._record(dag, key, float(value))

    def _record(self, dag: DAG, key: str, value: float) -> None:
        """`tell` after `_check_tell`: a subclass that checks first (before its own work) records through this."""
        self._asked.add(key)
        self._told_keys.add(key)
        self.history.append((dag, value))
        self._told(dag, value)

    def _check_tell(self, dag: DAG, key: str) -> None:
        """Refuse a graph told before (its result would count twice) and one of another space (the next ask
        would fail far from the cause). Graphs this optimiser asked for are members already: only the others
        (a journal, a caller's own graphs) are checked, where the space can check them."""
        name = type(self).__name__
        if key in self._told_keys:
            raise ValueError(f"{name}.tell: this graph was told before; each graph is evaluated once and its first "
                             "result stands")
        if key in self._asked:
            return
        try:
            self.space.check(dag)
        except (NotImplementedError, AttributeError):
            return
        except GraphError as err:
            raise GraphError(f"{name}.tell: the graph is not a member of this optimiser's space "
                             f"({type(self.space).__name__}): {err}") from None

    def replay(self, dag: DAG, value: float) -> None:
        """Tell a result read back from a journal (`graphnas.search.run` resuming), in ask order.

        Each is first asked again, so that the optimiser's random draws and state follow the interrupted
        run's: a resumed serial search then continues as the uninterrupted one would (same seed, same
        search). From the first graph this optimiser would not have asked there (a journal of a parallel
        run, of another seed or another optimiser) it stops asking and tells the rest as they are; that
        re-ask is forgotten, not counted as asked.
        """
        if self._replay_in_step:
            asked = self.ask(1)
            if not asked or asked[0].canonical_key() != dag.canonical_key():
                self._replay_in_step = False
                for other in asked:
                    self._forget_ask(other)
        self.tell(dag, value)

    def _forget_ask(self, dag: DAG) -> None:
        """Undo an ask that will never be evaluated (a `replay` that left the journal's path). A subclass that
        keeps its own record of graphs in flight drops it here too."""
        self._asked.discard(dag.canonical_key())

    # -- for subclasses ----------------------------------------------------------------

    def _told(self, dag: DAG, value: float) -> None:
        """Hook: update internal state after a tell."""

    def _ask_many(self, n: int) -> list[DAG]:
        return self._fill(n, self._propose)

    def _propose(self) -> DAG:
        raise NotImplementedError

    def _fill(self, n: int, propose: Callable[[], DAG], taken: set[str] | None = None) -> list[DAG]:
        """Call ``propose`` until ``n`` graphs are new; fall back to random samples, then stop."""
        asked: set[str] | tuple[()] = self._asked if taken is None else ()  # read, not copied: a copy per ask
        taken = set() if taken is None else taken  # cost O(history), the loop's hot path at thousands
        out: list[DAG] = []
        for make in (propose, self._sample):
            attempts = 0
            while len(out) < n and attempts < self.max_attempts * max(1, n - len(out)):
                attempts += 1
                dag = make()
                key = dag.canonical_key()
                if key not in taken and key not in asked:
                    taken.add(key)
                    out.append(dag)
            if len(out) == n:
                break
        return out

    def _seed(self) -> int:
        return self.rng.randrange(2**31)

    def _sample(self) -> DAG:
        return self.space.sample(self._seed())

    def _mutate(self, dag: DAG) -> DAG:
        return self.space.mutate(dag, self._seed())

    @property
    def evaluated(self) -> list[tuple[DAG, float]]:
        """The successful evaluations told so far, in order."""
        return [(d, v) for d, v in self.history if math.isfinite(v)]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(space={type(self.space).__name__}, seed={self.seed!r})"
