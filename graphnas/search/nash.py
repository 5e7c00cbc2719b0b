"""NASH (Elsken, Metzen and Hutter 2017): hill climbing by network morphisms; children inherit their parent's
weights and train briefly.

Each generation makes ``children`` children of the current parent, each by ``morphs`` random morphisms of
`graphnas.morph` (`deepen`, `widen`, `add_skip` at random places; a morphism refused at a place is
drawn again), so a child computes its parent's function and starts training where the parent ended.
When every child has been trained for ``child_epochs`` and scored, the best child becomes the parent of the
next generation (hill climbing; NASH moves to the best child, even if it is worse than the parent).

Weights travel through files in ``store`` (a folder): the optimiser writes each child's inherited
weights (``torch.save`` of a state_dict, read back with ``weights_only=True``) and asks for the trial
``{"epochs": E, "init": <file>, "save": <file>}``, which the digits objective
(`graphnas.benchmarks.get_objective("digits")`) understands: it trains from ``init`` and writes the
trained weights to ``save``, whence the next generation morphs them. The store must be reachable by
the workers (a local folder for threads and processes, a shared one on a cluster).

The graphs are whole digits networks (`graphnas.benchmarks.digits.digits_network`), which the digits
objective compiles as they are; the root is ``digits_network(cell, C=C)`` for a cell of ``space``.

**Example**

```python
>>> import tempfile
>>> from graphnas.benchmarks import get_objective
>>> from graphnas.generators import NB201Space
>>> from graphnas.search import run
>>> from graphnas.search.nash import NASH
>>> store = tempfile.mkdtemp()
>>> opt = NASH(NB201Space(), store=store, children=2, child_epochs=1, root_epochs=1, seed=0)
>>> history = run(opt, get_objective("digits", max_train=64), budget=3)
>>> [e.fidelity["epochs"] for e in history.evaluations]
[1, 1, 1]
>>> len(history.evaluations[1].dag) > len(history.evaluations[0].dag)    # a child: the root, morphed
True

```
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from graphnas._checks import is_integer
from graphnas.dag import DAG, GraphError
from graphnas.search.base import Optimizer, check_count
from graphnas.search.loop import Evaluation, Trial
from graphnas.search.registry import register_optimizer

__all__ = ["NASH", "random_morphism"]

MORPHISMS = ("deepen", "widen", "add_skip")


def _nodes(dag: DAG, prefix: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    """Paths of every node of ``dag`` and of the DAGs nested in it."""
    out: list[tuple[int, ...]] = []
    for i, node in enumerate(dag.nodes):
        out.append((*prefix, i))
        if isinstance(node.op, DAG):
            out.extend(_nodes(node.op, (*prefix, i)))
    return out


def _inner(dag: DAG, path: tuple[int, ...]) -> DAG:
    for i in path[:-1]:
        dag = dag.nodes[i].op  # type: ignore[assignment]
    return dag


def random_morphism(dag: DAG, state: Any, rng: Any, *, in_channels: int = 1, attempts: int = 200,
                    ops: Sequence[str] = MORPHISMS) -> tuple[DAG, dict[str, Any], str]:
    """Apply one random morphism of ``ops`` at a random place where it keeps the function.

    Returns ``(child, state, what)`` with ``what`` describing the morphism. Places where a morphism is
    refused (GraphError: it could not keep the function there) are skipped and another is drawn.

    Raises:
        GraphError: no morphism was accepted in ``attempts`` draws (naming the last refusal).
    """
    from graphnas import morph

    places = _nodes(dag)
    # widen needs a conv-ending op there (checked without compiling; the rest of its conditions by morph)
    widenable = [p for p in places if isinstance(_inner(dag, p).nodes[p[-1]].op, str)
                 and _inner(dag, p).nodes[p[-1]].op in morph.WIDEN_OPS]
    kinds = [k for k in ops if k != "widen" or widenable]
    if not kinds:
        raise GraphError(f"no node of this graph can be widened (ops {', '.join(sorted(morph.WIDEN_OPS))})")
    last = "no attempt"
    for _ in range(attempts):
        kind = rng.choice(kinds)
        path = rng.choice(widenable if kind == "widen" else places)
        inner = _inner(dag, path)
        ref: Any = path if len(path) > 1 else path[0]
        try:
            if kind == "deepen":
                child, st = morph.deepen(dag, state, ref, in_channels=in_channels)
            elif kind == "widen":
                child, st = morph.widen(dag, state, ref, factor=2.0, seed=rng.randrange(2**31),
                                        in_channels=in_channels)
            else:
                later = [j for j in range(path[-1] + 2, len(inner.nodes))]
                if not later:
                    continue
                child, st = morph.add_skip(dag, state, ref, rng.choice(later), seed=rng.randrange(2**31),
                                           in_channels=in_channels)
        except GraphError as err:
            last = str(err)
            continue
        return child, st, f"{kind} {path}"
    raise GraphError(f"no morphism kept the function in {attempts} draws; the last refusal: {last}")


@register_optimizer("nash")
class NASH(Optimizer):
    """Hill climbing by network morphisms with weight inheritance (see the module).

    Args:
        space: gives the root's cell (``space.sample(seed)``) unless ``root`` is given.
        store: a folder for the weight files (created if missing).
        root: a whole digits network to start from (default ``digits_network(space.sample(seed), C=C)``).
        children: children per generation.
        morphs: morphisms applied to make each child.
        child_epochs: training epochs of each child (from the inherited weights).
        root_epochs: training epochs of the root (from scratch).
        max_params: children with more parameters are drawn again (None: no limit).
        C: the root network's channels.
        seed: seeds the root cell and every morphism.
    """

    def __init__(self, space: Any, *, store: str | os.PathLike = "nash_store", root: DAG | None = None,
                 children: int = 4, morphs: int = 2, child_epochs: int = 2, root_epochs: int = 4,
                 max_params: int | None = 200_000, C: int = 8, seed: Any = 0) -> None:
        super().__init__(space, seed=seed)
        for name, value in (("children", children), ("morphs", morphs), ("child_epochs", child_epochs),
                            ("root_epochs", root_epochs)):
            if not is_integer(value, 1):
                raise ValueError(f"NASH: {name} must be an integer >= 1, got {value!r}")
        self.store = os.fspath(store)
        os.makedirs(self.store, exist_ok=True)
        if root is None:
            from graphnas.benchmarks.digits import digits_network

            root = digits_network(self._sample(), C=C)
        self.root = root
        self.children, self.morphs = children, morphs
        self.child_epochs, self.root_epochs = child_epochs, root_epochs
        self.max_params = max_params
        self.generation = 0
        self.parent: tuple[DAG, str, float] | None = None  # graph, trained weights file, value
        self._candidate: tuple[DAG, str, float] | None = None  # the best child of the generation so far
        self._root_asked = False
        self._asked_in_gen = 0
        self._told_in_gen = 0
        self.trajectory: list[float] = []  # each generation's parent value

    def ask(self, n: int = 1) -> list[DAG]:
        raise TypeError("NASH asks for warm-started trials: use ask_trials(n) (which graphnas.search.run does)")

    def tell(self, dag: DAG, value: float) -> None:
        raise TypeError("NASH needs each result's trial: use tell_trial(trial, value)")

    def _file(self, key: str, what: str) -> str:
        import hashlib

        return os.path.join(self.store, f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.{what}.pt")

    def ask_trials(self, n: int = 1) -> list[Trial]:
        """The root first; then the children of the current parent, a generation at a time (fewer while the
        generation in flight is not yet scored)."""
        if check_count(n, "ask_trials") < 1:
            return []
        if not self._root_asked:
            self._root_asked = True
            key = self.root.canonical_key()
            self._asked.add(key)
            return [Trial(self.root, {"epochs": self.root_epochs, "save": self._file(key, "trained")})]
        out: list[Trial] = []
        while self.parent is not None and len(out) < n and self._asked_in_gen < self.children:
            self._asked_in_gen += 1
            out.append(self._child())
        return out

    def _child(self) -> Trial:
        import torch

        parent, weights, _ = self.parent  # type: ignore[misc]
        state = torch.load(weights, weights_only=True)
        for _ in range(self.max_attempts):
            dag, st = parent, state
            for _ in range(self.morphs):
                dag, st, _what = random_morphism(dag, st, self.rng)
            key = dag.canonical_key()
            params = sum(int(v.numel()) for k, v in st.items() if not k.endswith(("running_mean", "running_var",
                                                                                   "num_batches_tracked")))
            if key in self._asked or (self.max_params is not None and params > self.max_params):
                continue
            self._asked.add(key)
            init = self._file(key, "init")
            torch.save(st, init)
            return Trial(dag, {"epochs": self.child_epochs, "init": init, "save": self._file(key, "trained")})
        raise GraphError(f"NASH: no new child within max_params={self.max_params} in {self.max_attempts} tries")

    def tell_trial(self, trial: Trial, value: float, evaluation: Evaluation | None = None) -> None:
        """Record a result (also a journal's, replayed); when a generation is complete its best child becomes
        the parent (a generation with no successful child keeps the parent)."""
        key = trial.dag.canonical_key()
        self._asked.add(key)
        value = float(value)
        self.history.append((trial.dag, value))
        trained = (trial.fidelity or {}).get("save") or self._file(key, "trained")
        usable = math.isfinite(value) and os.path.exists(trained)
        if self.parent is None:  # the root
            self._root_asked = True
            if not usable:
                why = f": {evaluation.error}" if evaluation is not None and evaluation.error else ""
                raise GraphError(f"NASH: the root network failed to train (value {value}){why}; nothing to morph "
                                 "(NASH needs an objective that trains the network it is given, e.g. digits)")
            self.parent = (trial.dag, trained, value)
            self.trajectory.append(value)
            return
        self._told_in_gen += 1
        self._asked_in_gen = max(self._asked_in_gen, self._told_in_gen)  # replayed children were asked before
        if usable and (self._candidate is None or value > self._candidate[2]):
            self._candidate = (trial.dag, trained, value)
        if self._told_in_gen >= self.children:
            if self._candidate is not None:
                self.parent = self._candidate
            self.trajectory.append(self.parent[2])
            self._candidate, self._asked_in_gen, self._told_in_gen = None, 0, 0
            self.generation += 1
