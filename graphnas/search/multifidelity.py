"""Multi-fidelity optimisers: successive halving, Hyperband, ASHA and their model-based (BOHB-style) variants.

Each evaluates many graphs cheaply (few epochs) and promotes only the best to the next, dearer fidelity.
They speak the trial protocol of `graphnas.search.run` (docs/multifidelity.md): ``ask_trials(n)`` returns
`graphnas.search.loop.Trial` objects, a graph and a fidelity ``{resource: level}``; `run` calls
``objective(dag, fidelity=...)`` and hands each result back through ``tell_trial(trial, value, evaluation)``,
which is also how a journal is replayed on resume (its records keep fidelity and cost).

The ladder of fidelities is ``levels`` (increasing values of ``resource``, e.g. ``(12, 200)`` epochs for
the packaged NAS-Bench-201 table, ``(1, 3, 9)`` for the digits objective); ``eta`` is the promotion ratio
(the best ``1/eta`` of a rung go up).

- ``sh``, `SuccessiveHalving`: brackets of ``n_initial`` new graphs at the lowest level; when a rung is
  complete its best ``1/eta`` go up (synchronous: it waits for the rung).
- ``hyperband``, `Hyperband`: successive-halving brackets that start at each level in turn, from the
  lowest (many graphs) to the highest (few: random search).
- ``asha``, `ASHA`: asynchronous: a graph goes up as soon as it is in the best ``1/eta`` of the results its
  rung has so far, else a new graph starts at the lowest level; it never waits, so every worker stays busy.
- ``bohb``, `ModelBasedHyperband`: Hyperband whose new graphs come from the GNN surrogate
  (`graphnas.search.BayesianOptimization`'s candidates and acquisition), fitted on the highest level
  with ``min_points`` results.
- ``mobster``, `ModelBasedASHA`: ASHA with the same model-based proposals.

**Example**

```python
>>> from graphnas.benchmarks import NB201Table
>>> from graphnas.generators import NB201Space
>>> from graphnas.search import run
>>> from graphnas.search.multifidelity import ASHA
>>> opt = ASHA(NB201Space(), levels=(12, 200), eta=4, seed=0)
>>> history = run(opt, NB201Table(), budget=20)
>>> sorted({e.fidelity["epochs"] for e in history.evaluations})
[12, 200]
>>> sum(e.cost for e in history.evaluations)
1144.0

```
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphnas._checks import is_integer
from graphnas.dag import DAG
from graphnas.search.base import Optimizer, check_count
from graphnas.search.loop import Evaluation, Trial
from graphnas.search.registry import register_optimizer

__all__ = ["ASHA", "Hyperband", "ModelBasedASHA", "ModelBasedHyperband", "MultiFidelityOptimizer",
           "SuccessiveHalving"]


class MultiFidelityOptimizer(Optimizer):
    """What the multi-fidelity optimisers share: the ladder of levels, rung results and the trial protocol.

    Args:
        space: has ``sample(seed)`` (and ``mutate`` for the model-based variants).
        resource: the fidelity key the levels are values of (``"epochs"``).
        levels: the increasing levels of ``resource``; the last is the full fidelity.
        eta: the promotion ratio (> 1): the best ``1/eta`` of a rung go up.
        fidelity: other fidelity keys, the same at every level (e.g. ``{"fraction": 1.0}``).
        seed: seeds every random choice.

    Attributes:
        rungs: per level index, ``{canonical key: value}`` of the results there (NaN for a failed or stopped one).
    """

    def __init__(self, space: Any, *, resource: str = "epochs", levels: Sequence[float] = (12, 200),
                 eta: float = 3, fidelity: Mapping[str, Any] | None = None, seed: Any = 0) -> None:
        super().__init__(space, seed=seed)
        lv = [int(v) if float(v).is_integer() else float(v) for v in levels]
        if not lv or any(not b > a for a, b in zip(lv, lv[1:])) or lv[0] <= 0:
            raise ValueError(f"{type(self).__name__}: levels must be positive and increasing, got {list(levels)}")
        if isinstance(eta, bool) or not isinstance(eta, numbers.Real) or not eta > 1:
            raise ValueError(f"{type(self).__name__}: eta must be a number > 1, got {eta!r}")
        extra = dict(fidelity or {})
        if resource in extra:
            raise ValueError(f"{type(self).__name__}: fidelity repeats the resource {resource!r}, set by levels")
        self.resource: str = resource
        self.levels: list[float] = lv
        self.eta: float = float(eta)
        self.fidelity: dict[str, Any] = extra
        self.rungs: list[dict[str, float]] = [{} for _ in lv]
        self._dags: dict[str, DAG] = {}

    # -- the trial protocol --------------------------------------------------------------

    def ask(self, n: int = 1) -> list[DAG]:
        raise TypeError(f"{type(self).__name__} asks for (graph, fidelity) trials: use ask_trials(n) (which "
                        "graphnas.search.run does) and tell_trial")

    def tell(self, dag: DAG, value: float) -> None:
        raise TypeError(f"{type(self).__name__} needs each result's fidelity: use tell_trial(trial, value)")

    def ask_trials(self, n: int = 1) -> list[Trial]:
        """Up to ``n`` trials (fewer when a synchronous schedule must wait for results)."""
        n = check_count(n, "ask_trials")
        out: list[Trial] = []
        while len(out) < n:
            trial = self._next()
            if trial is None:
                break
            out.append(trial)
        return out

    def tell_trial(self, trial: Trial, value: float, evaluation: Evaluation | None = None) -> None:
        """Record ``trial``'s result (NaN: failed or stopped, never promoted); also replays a journal."""
        level = self.level_of(trial.fidelity)
        key = trial.dag.canonical_key()
        self._asked.add(key)
        self._dags.setdefault(key, trial.dag)
        value = float(value)
        self.rungs[level][key] = value
        self.history.append((trial.dag, value))
        self._told_at(key, level, value)

    def level_of(self, fidelity: Mapping[str, Any] | None) -> int:
        """The level index of a trial's fidelity; ValueError for one not on this optimiser's ladder."""
        value = None if fidelity is None else fidelity.get(self.resource)
        for k, lv in enumerate(self.levels):
            if value is not None and math.isclose(float(value), lv):
                return k
        raise ValueError(f"{type(self).__name__}: fidelity {fidelity!r} is not on its ladder {self.resource} = "
                         f"{self.levels}")

    def trial(self, dag: DAG, level: int) -> Trial:
        """``dag`` at level index ``level``."""
        return Trial(dag, {**self.fidelity, self.resource: self.levels[level]})

    def best_at(self, level: int = -1) -> tuple[DAG, float] | None:
        """The best graph and value of a level (default the highest), or None before any result there."""
        rung = {k: v for k, v in self.rungs[level].items() if math.isfinite(v)}
        if not rung:
            return None
        key = max(rung, key=rung.__getitem__)
        return self._dags[key], rung[key]

    # -- for subclasses --------------------------------------------------------------------

    def _next(self) -> Trial | None:
        raise NotImplementedError

    def _told_at(self, key: str, level: int, value: float) -> None:
        """Hook: a result arrived at ``level``."""

    def _new_dag(self) -> DAG | None:
        """A graph never asked before (None if the space seems exhausted): a random sample."""
        got = self._fill(1, self._sample)
        if not got:
            return None
        self._asked.add(got[0].canonical_key())
        return got[0]

    def _top(self, level: int, k: int) -> list[str]:
        """The ``k`` best keys of a rung (failed ones never)."""
        rung = [(v, key) for key, v in self.rungs[level].items() if math.isfinite(v)]
        rung.sort(key=lambda vk: -vk[0])  # stable: ties keep arrival order
        return [key for _, key in rung[:k]]


# --------------------------------------------------------------------------- synchronous


@dataclass
class _Bracket:
    """One successive-halving bracket: ``counts[i]`` graphs at level ``start + i``."""

    start: int
    counts: list[int]
    members: list[set[str]] = field(default_factory=list)  # per rung: keys asked there
    queue: list[tuple[str, int]] = field(default_factory=list)  # promotions to ask: (key, level)
    promoted: set[int] = field(default_factory=set)  # rungs whose best have gone up

    def __post_init__(self) -> None:
        self.members = [set() for _ in self.counts]

    @property
    def filled(self) -> bool:
        return len(self.members[0]) >= self.counts[0]


@register_optimizer("sh", aliases=("successive_halving",))
class SuccessiveHalving(MultiFidelityOptimizer):
    """Synchronous successive halving (Jamieson and Talwalkar 2016; Optuna's ``SuccessiveHalvingPruner``).

    Each bracket starts ``n_initial`` new graphs at the lowest level; once every result of a rung is in,
    its best ``floor(n / eta)`` (at least one) go to the next level, up to the highest. Then a new
    bracket starts. It waits for a rung to complete (``ask_trials`` returns fewer trials meanwhile), so
    with several workers some stand idle: `ASHA` does not wait. The other arguments are those of
    `MultiFidelityOptimizer`.

    Args:
        n_initial: graphs per bracket at the lowest level (default ``eta ** (len(levels) - 1)``, rounded up).
    """

    def __init__(self, space: Any, *, resource: str = "epochs", levels: Sequence[float] = (12, 200),
                 eta: float = 3, n_initial: int | None = None, fidelity: Mapping[str, Any] | None = None,
                 seed: Any = 0) -> None:
        super().__init__(space, resource=resource, levels=levels, eta=eta, fidelity=fidelity, seed=seed)
        if n_initial is not None and not is_integer(n_initial, 1):
            raise ValueError(f"{type(self).__name__}: n_initial must be an integer >= 1, got {n_initial!r}")
        self.n_initial = None if n_initial is None else int(n_initial)
        self._brackets: list[_Bracket] = []
        self._bracket_of: dict[str, _Bracket] = {}
        self._count = 0  # brackets started

    def _schedule(self, j: int) -> tuple[int, int]:
        """Bracket ``j``'s (start level, graphs at its start)."""
        k = len(self.levels) - 1
        return 0, self.n_initial or math.ceil(self.eta ** k - 1e-9)

    def _new_bracket(self) -> _Bracket:
        start, n = self._schedule(self._count)
        self._count += 1
        counts = [n]
        for _ in range(start + 1, len(self.levels)):
            counts.append(max(1, int(counts[-1] / self.eta + 1e-9)))
        b = _Bracket(start, counts)
        self._brackets.append(b)
        return b

    def _current(self) -> _Bracket:
        if not self._brackets or self._done(self._brackets[-1]):
            return self._new_bracket()
        return self._brackets[-1]

    def _done(self, b: _Bracket) -> bool:
        return b.filled and self._rung_complete(b, len(b.counts) - 1)

    def _rung_complete(self, b: _Bracket, i: int) -> bool:
        return len(b.members[i]) >= b.counts[i] and all(key in self.rungs[b.start + i] for key in b.members[i])

    def _next(self) -> Trial | None:
        b = self._current()
        if b.queue:
            key, level = b.queue.pop(0)
            b.members[level - b.start].add(key)
            return self.trial(self._dags[key], level)
        if not b.filled:
            dag = self._new_dag()
            if dag is None:
                return None
            key = dag.canonical_key()
            self._dags[key] = dag
            b.members[0].add(key)
            self._bracket_of[key] = b
            return self.trial(dag, b.start)
        return None  # waiting for the rung in progress

    def _told_at(self, key: str, level: int, value: float) -> None:
        b = self._bracket_of.get(key)
        if b is None:  # a journal's new graph, replayed: it joins the bracket being filled, as it did when asked
            b = self._current()
            if level != b.start or b.filled:
                raise ValueError(f"{type(self).__name__}: the journal's trial at {self.resource}="
                                 f"{self.levels[level]} does not fit its brackets (a journal of other settings?)")
            b.members[0].add(key)
            self._bracket_of[key] = b
        i = level - b.start
        b.members[i].add(key)  # replayed promotions were never asked in this process
        b.queue = [(k, lv) for k, lv in b.queue if not (k == key and lv == level)]
        if i + 1 < len(b.counts) and i not in b.promoted and self._rung_complete(b, i):
            b.promoted.add(i)
            scores = {k: self.rungs[level][k] for k in b.members[i]}
            ranked = sorted(sorted(k for k in b.members[i] if math.isfinite(scores[k])), key=lambda k: -scores[k])
            up = ranked[: b.counts[i + 1]]
            if len(up) < b.counts[i + 1]:  # failures: fewer go up, and none at all if all failed
                b.counts[i + 1:] = [len(up)] + [min(c, len(up)) for c in b.counts[i + 2:]]
            b.queue.extend((k, level + 1) for k in up)


@register_optimizer("hyperband")
class Hyperband(SuccessiveHalving):
    """Hyperband (Li et al. 2018; Optuna's ``HyperbandPruner``): successive halving in brackets that trade
    graphs for fidelity. With ``s_max = len(levels) - 1`` the brackets ``s = s_max, ..., 0`` start
    ``ceil((s_max + 1) / (s + 1) * eta ** s)`` graphs at level ``s_max - s``, then repeat.

    It takes the arguments of `MultiFidelityOptimizer`.
    """

    def __init__(self, space: Any, *, resource: str = "epochs", levels: Sequence[float] = (12, 200),
                 eta: float = 3, fidelity: Mapping[str, Any] | None = None, seed: Any = 0) -> None:
        super().__init__(space, resource=resource, levels=levels, eta=eta, fidelity=fidelity, seed=seed)

    def _schedule(self, j: int) -> tuple[int, int]:
        s_max = len(self.levels) - 1
        s = s_max - j % (s_max + 1)
        return s_max - s, math.ceil((s_max + 1) / (s + 1) * self.eta ** s - 1e-9)


# --------------------------------------------------------------------------- asynchronous


@register_optimizer("asha")
class ASHA(MultiFidelityOptimizer):
    """Asynchronous successive halving (Li et al. 2020; Syne Tune's ASHA, promotion type).

    Each ask looks at the rungs from the highest down: a graph in the best ``floor(n / eta)`` of the ``n``
    results its rung has so far, not yet promoted, goes to the next level; if there is none, a new graph
    starts at the lowest level. No ask waits for a result, so every worker stays busy. It takes the arguments
    of `MultiFidelityOptimizer`.
    """

    def __init__(self, space: Any, *, resource: str = "epochs", levels: Sequence[float] = (12, 200),
                 eta: float = 3, fidelity: Mapping[str, Any] | None = None, seed: Any = 0) -> None:
        super().__init__(space, resource=resource, levels=levels, eta=eta, fidelity=fidelity, seed=seed)
        self.promoted: list[set[str]] = [set() for _ in self.levels]  # keys promoted from each level

    def _next(self) -> Trial | None:
        for level in range(len(self.levels) - 2, -1, -1):
            k = int(len(self.rungs[level]) / self.eta + 1e-9)
            for key in self._top(level, k):
                if key not in self.promoted[level]:
                    self.promoted[level].add(key)
                    return self.trial(self._dags[key], level + 1)
        dag = self._new_dag()
        if dag is None:
            return None
        self._dags[dag.canonical_key()] = dag
        return self.trial(dag, 0)

    def _told_at(self, key: str, level: int, value: float) -> None:
        if level:  # a replayed promotion: it was promoted from the level below
            self.promoted[level - 1].add(key)


# --------------------------------------------------------------------------- model-based


class _ModelBased:
    """New graphs from a GNN surrogate fitted on the highest level with ``min_points`` successful results
    (BOHB, Falkner et al. 2018; MOBSTER in Syne Tune), through `graphnas.search.BayesianOptimization`'s
    candidates (mutations of the best graphs plus samples) and acquisition; ``random_fraction`` of them
    are random samples, as in BOHB."""

    rungs: list[dict[str, float]]
    _dags: dict[str, DAG]
    _asked: set[str]

    def _init_model(self, space: Any, surrogate: Any, acquisition: str, min_points: int | Sequence[int],
                    refit_every: int,
                    random_fraction: float, batch: int, seed: Any) -> None:
        from graphnas.search.bayesian import BayesianOptimization

        if not 0.0 <= random_fraction <= 1.0:
            raise ValueError(f"random_fraction must lie in [0, 1], got {random_fraction}")
        given: list[Any] = ([min_points] * len(self.rungs) if is_integer(min_points)
                            else list(min_points) if isinstance(min_points, Sequence) else [])
        if len(given) != len(self.rungs) or not all(is_integer(m, 2) for m in given):
            raise ValueError(f"min_points must be an integer >= 2 or one per level ({len(self.rungs)}), got "
                             f"{min_points!r}")
        if not is_integer(batch, 1):
            raise ValueError(f"batch must be an integer >= 1, got {batch!r}")
        need = [int(m) for m in given]
        self.min_points, self.random_fraction, self.batch = need, float(random_fraction), int(batch)
        self._proposals: list[DAG] = []
        self._bo = BayesianOptimization(space, surrogate, acquisition, initial=min(need), refit_every=refit_every,
                                        seed=seed)
        self._bo._asked = self._asked  # one set: the model never proposes a graph asked at any level
        self._model_level: int | None = None
        self.model_proposals = 0  # how many new graphs the model chose (the rest were random)

    def _model_new_dag(self, fallback: Any) -> DAG | None:
        rng = self._bo.rng
        level = next((k for k in range(len(self.rungs) - 1, -1, -1)
                      if sum(math.isfinite(v) for v in self.rungs[k].values()) >= self.min_points[k]), None)
        if level is None or rng.random() < self.random_fraction:
            return fallback()  # type: ignore[no-any-return]
        if level != self._model_level:  # a new level: fit from scratch on its results
            self._model_level, self._bo._fitted_on, self._proposals = level, 0, []
        if not self._proposals:  # the best `batch` candidates of one fit and one prediction, used in turn
            self._bo.history = [(self._dags[k], v) for k, v in self.rungs[level].items()]
            # The model is never told results (its history is set from the rungs above), so its pending graphs
            # are pruned here: only those without a result at any level are still in flight.
            self._bo._asked_dags = {k: d for k, d in self._bo._asked_dags.items()
                                    if not any(k in rung for rung in self.rungs)}
            self._proposals = self._bo.ask(self.batch)
        if not self._proposals:
            return fallback()  # type: ignore[no-any-return]
        self.model_proposals += 1
        return self._proposals.pop(0)


@register_optimizer("bohb")
class ModelBasedHyperband(_ModelBased, Hyperband):
    """Hyperband whose new graphs the GNN surrogate proposes (BOHB-style, see the module). The other arguments
    are those of `Hyperband`.

    Args:
        surrogate: as for `graphnas.search.BayesianOptimization` (default its GNN ensemble).
        acquisition: as for `graphnas.search.BayesianOptimization` (default expected improvement).
        min_points: results a level needs before the model is fitted on it (one number, or one per level).
        refit_every: fit again once this many new results arrived at the model's level.
        random_fraction: share of new graphs sampled at random (BOHB's default 1/3).
        batch: graphs the model proposes per prediction (the best ``batch`` by the acquisition), used in turn.
    """

    def __init__(self, space: Any, *, resource: str = "epochs", levels: Sequence[float] = (12, 200),
                 eta: float = 3, fidelity: Mapping[str, Any] | None = None, surrogate: Any = None,
                 acquisition: str = "ei", min_points: int | Sequence[int] = 10, refit_every: int = 10,
                 random_fraction: float = 1 / 3, batch: int = 4, seed: Any = 0) -> None:
        Hyperband.__init__(self, space, resource=resource, levels=levels, eta=eta, fidelity=fidelity, seed=seed)
        self._init_model(space, surrogate, acquisition, min_points, refit_every, random_fraction, batch,
                         self._seed())

    def _new_dag(self) -> DAG | None:
        return self._model_new_dag(super()._new_dag)


@register_optimizer("mobster")
class ModelBasedASHA(_ModelBased, ASHA):
    """ASHA whose new graphs the GNN surrogate proposes (MOBSTER-style); the arguments of `ModelBasedHyperband`."""

    def __init__(self, space: Any, *, resource: str = "epochs", levels: Sequence[float] = (12, 200),
                 eta: float = 3, fidelity: Mapping[str, Any] | None = None, surrogate: Any = None,
                 acquisition: str = "ei", min_points: int | Sequence[int] = 10, refit_every: int = 10,
                 random_fraction: float = 1 / 3, batch: int = 4, seed: Any = 0) -> None:
        ASHA.__init__(self, space, resource=resource, levels=levels, eta=eta, fidelity=fidelity, seed=seed)
        self._init_model(space, surrogate, acquisition, min_points, refit_every, random_fraction, batch,
                         self._seed())

    def _new_dag(self) -> DAG | None:
        return self._model_new_dag(super()._new_dag)
