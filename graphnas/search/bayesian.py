"""Surrogate-guided Bayesian optimisation over DAGs (BANANAS-style, White et al. 2021).

Each step fits the GNN surrogate on the successful evaluations so far (all of them up to
``max_train``; past that the best half plus a random draw of the rest), makes candidates by mutating
the best graphs found and by sampling the space, drops those already asked (by ``canonical_key``),
and asks for the candidates with the highest acquisition (expected improvement, UCB or Thompson
sampling).

What keeps it sound and cheap when evaluations run in parallel or the history grows:

- **pending-aware:** a graph asked but not yet told is never asked again, and its result is awaited,
  not guessed: by default (``pending="ignore"``) the surrogate is fitted on told results only, so
  while ``k`` evaluations are in flight the next asks are the best candidates of the latest model
  that are not in flight. ``pending="believer"`` (kriging believer) adds the pending graphs to each
  fit at the surrogate's own predicted mean, so that their neighbourhoods look explored and the
  asks spread out. On NAS-Bench-201 the believer's spreading cost quality (100 evaluations on 16
  workers, 25 seeds: the best cell found in 11-12/25 seeds with the believer, 20-22/25 without; on 4
  workers 23/25 and 25/25; see docs/benchmarks/search.md), so it is no longer the default.
  Fits happen when results arrive (asynchronous: one result told, one graph asked);
- **bounded cost:** the training set is capped (``max_train``) and the surrogate is refitted once
  ``max(refit_every, refit_fraction * history, pending / 4)`` new results arrived, so an ``ask`` at
  5,000 evaluations costs about what it costs at 500, and 16 workers get 4 cheap asks per fit; a warm
  refit (the surrogate continues from its weights) trains on at most ``warm_train`` graphs: the new
  results, the pending ones (with the believer) and a seeded draw of the capped set, so the ask that
  refits stays short;
- **scores kept until the model changes:** a candidate scored at one ask is not scored again at a
  later ask with the same model (asks between fits share most candidates: mutations of the same
  parents), and a space that hands out the same `DAG` object for the same cell (``NB201Space`` does)
  spares candidate generation the canonical key and the features of cells seen before;
- **fits off the driver's path (opt-in, ``background=True``):** while evaluations are pending (a
  parallel search), a due fit runs in a background thread on a copy of the surrogate, and asks keep
  using the current model until the copy is ready (before the first model exists they are random
  samples, for at most ``max_lag`` refit intervals of results: the bound below counts from the
  start), so freed workers get new work at once. The model in use may fall at most ``max_lag``
  refit intervals behind; past that an ask waits for the fit under way (without that bound, on a
  loaded machine a fit could take most of a 16-worker run and BO searched on a stale model). With
  nothing pending (a serial search) fits always run in the foreground, so the same seed gives the same
  search. It is opt-in because a parallel search then depends on when fits end: the loop's
  ``ordered=True`` (same trajectory whatever order results arrive) holds only with ``background=False``;
  use it with ``run(..., ordered=False)``;
- **candidates kept between fits (opt-in):** until the model changes, the candidates scored at one
  ask that were not taken stay in a pool (their predictions still hold), and with ``fresh_share=0.25``
  each later ask adds only a quarter of the usual new candidates to it, so an ask without a fit makes
  and scores about a quarter as many graphs (3x faster; it found NB201's best cell less often in a
  few seeds, so it is off by default);
- **calibrated std (prequential):** each asked graph's predicted mean and ensemble spread are kept;
  when its result arrives, ``|result - mean| / spread`` is an honest out-of-sample error (the model
  had not seen the graph), and the 68.27th percentile of the last ``calibration_window`` of them
  rescales the spread that the acquisition sees. No held-out data is needed.
"""

from __future__ import annotations

import copy
import logging
import math
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from graphnas._checks import is_integer
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
        refit_fraction: ... or, when larger, once this share of the history is new (0.02: every 100
            results at 5,000), which bounds the cost of fitting over a long search.
        max_train: most evaluations the surrogate is fitted on: the best ``max_train // 2`` and a
            random draw of the others (None: all of them).
        warm_train: most graphs a warm refit trains on (after the first fit, with a surrogate whose
            ``warm_start`` is true): the results told since the last fit (up to half), the pending graphs,
            and a seeded draw of the capped training set for the rest (None: the whole capped set). 32
            (64 before 2026-12-01, night; 128 before 2026-12-01, evening): a serial search is the same until
            32 results; a 150-query run on NAS-Bench-201 took 20.1 s instead of 27.5 s with 64 on 2 threads,
            and over 25 seeds it found the best cell after 27 / 30.2 / 54 queries (median / mean / worst)
            instead of 27 / 30.8 / 69 on the 200-epoch accuracy and 36 / 40.8 / 85 instead of 37 / 43.8 / 94
            on the 12-epoch one; on NB101 cells with a structural objective it asked the same graphs as 64
            in all 25 seeds. 16 was later on the 12-epoch accuracy (docs/benchmarks/search.md).
        background: refit in a background thread while evaluations are pending (see the module doc);
            for asynchronous parallel searches (``run(..., ordered=False)``). False (default) fits on the
            driver's path always, so a parallel search with ``ordered=True`` is the same for the same
            seed (use False also with a surrogate that sets torch's process-wide thread count, e.g.
            ``GNNSurrogate(n_threads=...)``).
        max_lag: with ``background``, how far the model in use may fall behind while a background fit
            runs, in refit intervals: once more than ``max_lag`` times the results that make a fit due
            arrived since the model in use was fitted, an ask waits for the fit under way (2.0: with 16
            workers, 8 results). Without it a slow fit (a loaded machine) left searches on a model many
            results old, or on random samples until the first fit ended.
        fresh_share: share of ``top_k * mutations + random_candidates`` made anew at an ask when the
            model has not changed since the previous ask (the rest come from the pool kept since); 1.0
            (default) makes every candidate anew at every ask and keeps no pool.
        pending: ``"ignore"`` (default) fits the surrogate on told results only (graphs in flight are
            never asked again); ``"believer"`` also fits it with the graphs asked but not yet told, scored
            by its own predicted mean (kriging believer: spreads parallel asks; it found NB201's best cell
            less often, see the module doc).
        calibrate: rescale the ensemble spread the acquisition sees by the prequential errors of
            earlier asks (see the module doc). The std is then honest, but the search explores more: on
            NAS-Bench-201 it found the best cell later (median 36 vs 31 and 78 vs 56 queries over 25
            seeds on the 200- and 12-epoch accuracies; docs/benchmarks/search.md), so it is off by default.
        calibration_window: how many of the latest prequential errors set the scale.
        seed: seeds sampling, mutation and the default surrogate.
    """

    def __init__(self, space: Any, surrogate: Any = None, acquisition: str = "ei", *, initial: int = 10,
                 top_k: int = 10, mutations: int = 20, random_candidates: int = 50, refit_every: int = 1,
                 refit_fraction: float = 0.02, max_train: int | None = 400, warm_train: int | None = 32,
                 background: bool = False, max_lag: float = 2.0, fresh_share: float = 1.0, pending: str = "ignore",
                 calibrate: bool = False, calibration_window: int = 50, seed: Any = 0) -> None:
        if not callable(getattr(space, "mutate", None)):
            raise TypeError(f"BayesianOptimization needs a space with mutate(dag, seed); got {type(space).__name__}")
        for name, value, least in (("initial", initial, 0), ("top_k", top_k, 1), ("mutations", mutations, 0),
                                   ("random_candidates", random_candidates, 0), ("refit_every", refit_every, 1),
                                   ("calibration_window", calibration_window, 2),
                                   ("max_train", 2 if max_train is None else max_train, 2),
                                   ("warm_train", 2 if warm_train is None else warm_train, 2)):
            if not is_integer(value, least):
                raise ValueError(f"BayesianOptimization: {name} must be an integer >= {least}, got {value!r}")
        if not 0 <= refit_fraction < 1:
            raise ValueError(f"BayesianOptimization: refit_fraction must be in [0, 1), got {refit_fraction!r}")
        if not max_lag >= 1:
            raise ValueError(f"BayesianOptimization: max_lag must be >= 1, got {max_lag!r}")
        if not 0 < fresh_share <= 1:
            raise ValueError(f"BayesianOptimization: fresh_share must be in (0, 1], got {fresh_share!r}")
        if pending not in ("believer", "ignore"):
            raise ValueError(f"BayesianOptimization: pending must be 'believer' or 'ignore', got {pending!r}")
        super().__init__(space, seed=seed)
        self.acquisition = acquisition
        self._acq = get_acquisition(acquisition)
        self.surrogate = surrogate if surrogate is not None else self.default_surrogate(space, self._seed())
        self.initial = max(2, int(initial))
        self.top_k = top_k
        self.mutations = mutations
        self.random_candidates = random_candidates
        self.refit_every = max(1, int(refit_every))
        self.refit_fraction = float(refit_fraction)
        self.max_train = max_train
        self.warm_train = warm_train
        self.background = bool(background)
        self.max_lag = float(max_lag)
        self.fresh_share = float(fresh_share)
        self._version = 0                                # bumped whenever the surrogate changes
        self._pool: tuple[int, list[DAG]] | None = None  # (version, candidates not taken)
        self.pending = pending
        self.calibrate = calibrate
        self.calibration_window = calibration_window
        self._fitted_on = 0
        self._asked_dags: dict[str, DAG] = {}            # key -> graph, for asked graphs not yet told
        self._predicted: dict[str, tuple[float, float]] = {}  # key -> (mean, spread) when asked
        self._errors: list[float] = []                  # prequential |error| / spread, oldest first
        self._refit: tuple[threading.Thread, Any, list[BaseException], int] | None = None  # background fit
        self._model_on = 0                              # evaluations the model in use was fitted on
        self._scored: tuple[int, Any, dict[DAG, np.ndarray]] = (-1, None, {})  # (version, model, graph -> members)

    @staticmethod
    def default_surrogate(space: Any, seed: int = 0) -> Any:
        """A 5-member, 3-layer bidirectional GIN ensemble; later fits warm-start with 15 Adam steps.

        15 warm steps instead of 30 cut a 150-query NAS-Bench-201 run from 31.5 to 19.7 s (quiet machine, one
        core, median of 3 seeds) and, over 25 seeds on two objectives (the 200- and the 12-epoch accuracy),
        found the best cell after about as many queries (median 32 vs 33 and 51 vs 51, mean 37.6 vs 36.9 and
        56.4 vs 55.9; docs/benchmarks/search.md). For the previous setting:
        ``bo = BayesianOptimization(space, seed=s); bo.surrogate.set_params(warm_epochs=30)``.

        ``early_stop=0.05`` on it (``bo.surrogate.set_params(early_stop=0.05)``) halves the fitting time,
        but found NAS-Bench-201's best cell later in 2 of 2 seeds tried (docs/benchmarks/search.md), so
        it is not the default. The Weisfeiler-Lehman tree members that `GNNSurrogate` has by default
        (``trees=5``) are left out here (``trees=0``): they rank better from few graphs, but in a 2-seed
        check BO found NAS-Bench-201's best cell at the same queries with them, at 1.7x the CPU time.

        Its ranking loss counts the pairs among the best graphs found more (``top_focus=2``: each pair
        weighted by ``1 / log2(2 + rank) ** 2`` of its better graph): the search needs the order among its
        best graphs, which a uniform loss spends on the poor ones. Over 25 seeds it found NAS-Bench-201's
        best cell after a median of 27 instead of 31 queries on the 200-epoch accuracy (worst 72 vs 85)
        and 37 instead of 56 on the 12-epoch one (worst 90 vs 89; docs/benchmarks/search.md), at the same
        time. On an objective nothing was tuned on (NB101 cells, a structural objective) it found the optimum
        after a median of 28 instead of 31 queries (worst 35 vs 48, sooner in 20 of 25 seeds);
        ``bo.surrogate.set_params(top_focus=0)`` gives the uniform loss.

        It passes messages over every node (``live_only=False``), unlike `GNNSurrogate`'s default: the live
        part alone ranks random cells better, but BO found NAS-Bench-201's best cell no sooner with it
        (25 seeds: median 29 vs 27 queries, mean 32.1 vs 30.9; docs/benchmarks/search.md). For the same reason
        it keeps the ranking-loss weight of 1 (``rank_weight=1``; `GNNSurrogate`'s default is 2): with 2, BO found
        the best cell after about as many queries on the 200-epoch accuracy (median 29 vs 27, worst 60 vs 72)
        but later on the 12-epoch one (mean 49.0 vs 43.7, worst 97 vs 90)."""
        from graphnas.surrogate import GNNSurrogate

        vocab = getattr(space, "vocabulary", None)
        return GNNSurrogate(vocabulary=list(vocab) if vocab else None, hidden=32, layers=3, ensemble=5,
                            trees=0, epochs=150, warm_epochs=15, rank_weight=1.0, top_focus=2.0, live_only=False,
                            warm_start=True, seed=seed)

    # -- ask -----------------------------------------------------------------------------

    def _ask_many(self, n: int) -> list[DAG]:
        data = self.evaluated
        if len(data) >= self.initial:
            self._maybe_fit(data)
        if len(data) < self.initial or self._version == 0:  # no model yet (or its first fit runs in the background)
            out = self._fill(n, self._sample)
        else:
            out = self._propose_many(data, n)
        for dag in out:
            self._asked_dags[dag.canonical_key()] = dag
        return out

    def _propose_many(self, data: list[tuple[DAG, float]], n: int) -> list[DAG]:
        pool = self._pool if self._pool is not None and self._pool[0] == self._version else None
        if pool is None:
            candidates = self._candidates(data)
        else:  # same model as at the last ask: its leftover candidates, whose scores `_members` kept
            keep = [d for d in pool[1] if d.canonical_key() not in self._asked]
            candidates = keep + self._candidates(data, self.fresh_share, {d.canonical_key() for d in keep})
        raw = self._members(candidates)
        self._pool = None
        if not candidates:
            return self._fill(n, self._sample)
        scale = self.std_scale
        members = raw if scale == 1.0 else raw.mean(axis=0) + scale * (raw - raw.mean(axis=0))
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
                self._predicted[key] = (float(raw[:, i].mean()), float(raw[:, i].std()))
        left = [i for i, d in enumerate(candidates) if d.canonical_key() not in taken] if self.fresh_share < 1 else []
        cap = self.top_k * self.mutations + self.random_candidates
        if len(left) > cap:  # keep the pool's best by this ask's acquisition
            left = sorted(sorted(left, key=lambda i: -scores[i])[:cap])
        self._pool = (self._version, [candidates[i] for i in left])
        if len(out) < n:
            out += self._fill(n - len(out), self._sample, taken)
        return out

    def _maybe_fit(self, data: list[tuple[DAG, float]]) -> None:
        """Fit on the (capped) evaluations, plus the pending graphs at their predicted mean (believer)."""
        self._swap_refit()
        # with k evaluations in flight, fit once k/4 new results arrived: the driver then keeps k workers fed
        due = max(self.refit_every, math.ceil(self.refit_fraction * len(data)), len(self._asked_dags) // 4)
        if self._refit is not None and len(data) - self._model_on > self.max_lag * due:
            self._swap_refit(wait=True)  # the model in use is too far behind: wait for the one being fitted
        if self._fitted_on and len(data) - self._fitted_on < due:
            return  # a pending graph alone does not trigger a fit: asks stay cheap with many workers
        if self._refit is not None:
            return  # a background fit is under way; its model comes in at a later ask
        pending = dict(self._asked_dags) if self.pending == "believer" else {}
        train = self._training_set(data)
        if self._fitted_on and getattr(self.surrogate, "warm_start", False):
            train = self._warm_set(train, data[self._fitted_on:], len(pending))
        dags = [d for d, _ in train]
        y = [v for _, v in train]
        if pending and self._fitted_on:  # a fitted model exists: believe its predictions for the pending graphs
            pend = list(pending.values())
            dags += pend
            y += list(self._members(pend).mean(axis=0))
        target = np.asarray(y, dtype=np.float64)
        background = self.background and bool(self._asked_dags)
        if not background:
            self.surrogate.fit(dags, target)
            self._fitted_on = self._model_on = len(data)
            self._version += 1
            return
        self._fitted_on = len(data)
        model = self._copy_surrogate()
        errors: list[BaseException] = []

        def fit() -> None:
            try:
                model.fit(dags, target)
            except BaseException as err:  # noqa: BLE001 - raised again on the driver at the swap
                errors.append(err)

        thread = threading.Thread(target=fit, name="graphnas-bo-refit")  # not a daemon: exit waits for it
        self._refit = (thread, model, errors, len(data))
        thread.start()

    def _swap_refit(self, wait: bool = False) -> None:
        """Take the background fit's surrogate once it finished (``wait``: block until then)."""
        if self._refit is None:
            return
        thread, model, errors, fitted_on = self._refit
        if wait:
            thread.join()
        if thread.is_alive():
            return
        self._refit = None
        if errors:
            raise RuntimeError(f"the background surrogate fit failed: {errors[0]!r}") from errors[0]
        self.surrogate = model
        self._model_on = fitted_on
        self._version += 1

    def _copy_surrogate(self) -> Any:
        """A copy to fit in the background: a `GNNSurrogate` shares its featurizer (and its cache) and
        copies only its network; any other surrogate is deep-copied."""
        model = getattr(self.surrogate, "model_", None)
        if model is not None and callable(getattr(model, "state_dict", None)):
            clone = copy.copy(self.surrogate)
            clone.model_ = copy.deepcopy(model)
            return clone
        return copy.deepcopy(self.surrogate)

    def _warm_set(self, train: list[tuple[DAG, float]], new: list[tuple[DAG, float]],
                  pending: int) -> list[tuple[DAG, float]]:
        """At most ``warm_train`` graphs (with the ``pending`` ones) for a warm refit: the new results (a
        seeded draw of half the room if more), then a seeded draw of the rest of ``train``."""
        room = (self.warm_train or 0) - pending
        if self.warm_train is None or len(train) <= room:
            return train
        room = max(room, 2)
        if len(new) > room // 2:
            new = [new[i] for i in sorted(self.rng.sample(range(len(new)), room // 2))]
        seen = {id(d) for d, _ in new}
        rest = [dv for dv in train if id(dv[0]) not in seen]
        draw = sorted(self.rng.sample(range(len(rest)), min(len(rest), room - len(new))))
        return [rest[i] for i in draw] + new

    def _training_set(self, data: list[tuple[DAG, float]]) -> list[tuple[DAG, float]]:
        """All evaluations, or past ``max_train`` the best half of that many and a seeded draw of the rest."""
        if self.max_train is None or len(data) <= self.max_train:
            return data
        order = sorted(range(len(data)), key=lambda i: -data[i][1])
        top = self.max_train // 2
        rest = order[top:]
        draw = self.rng.sample(rest, self.max_train - top)
        return [data[i] for i in order[:top] + sorted(draw)]

    def _candidates(self, data: list[tuple[DAG, float]], share: float = 1.0,
                    held: set[str] | None = None) -> list[DAG]:
        """Mutations of the ``top_k`` best graphs plus random samples, none asked before (nor in ``held``),
        no duplicates; ``share`` of the usual number."""
        ranked = sorted(data, key=lambda dv: -dv[1])[: self.top_k]

        def proposals() -> Iterator[DAG]:
            for parent, _ in ranked:
                for m in range(math.ceil(share * self.mutations)):
                    child = self._mutate(parent)
                    if m % 2 == 1:  # every other candidate moves two steps away
                        child = self._mutate(child)
                    yield child
            for _ in range(math.ceil(share * self.random_candidates)):
                yield self._sample()

        return self._unasked(proposals(), held)

    def _unasked(self, dags: Iterable[DAG], held: set[str] | None = None) -> list[DAG]:
        """``dags`` in order without those asked before (or whose key is in ``held``) and without repeats."""
        seen = set(self._asked) | (held or set())
        out: list[DAG] = []
        for dag in dags:
            key = dag.canonical_key()
            if key not in seen:
                seen.add(key)
                out.append(dag)
        return out

    def _members(self, candidates: list[DAG]) -> np.ndarray:
        """Member predictions ``[members, len(candidates)]``; a graph scored since the model last changed
        is not scored again (asks between fits share most of their candidates: the same parents' mutations)."""
        if self._scored[0] != self._version or self._scored[1] is not self.surrogate:
            self._scored = (self._version, self.surrogate, {})
        known = self._scored[2]
        new = list(dict.fromkeys(d for d in candidates if d not in known))
        if new:
            raw = self._predict(new)
            for i, d in enumerate(new):
                known[d] = raw[:, i]
        if not candidates:
            return np.zeros((0, 0))
        return np.stack([known[d] for d in candidates], axis=1)

    def _predict(self, dags: list[DAG]) -> np.ndarray:
        predict_members = getattr(self.surrogate, "predict_members", None)
        if predict_members is not None:
            return np.asarray(predict_members(dags), dtype=np.float64)
        mean, std = self.surrogate.predict(dags, return_std=True)
        mean, std = np.asarray(mean, np.float64), np.asarray(std, np.float64)
        return np.stack([mean - std, mean + std])  # two pseudo-members with that mean and std

    # -- calibration ---------------------------------------------------------------------

    @property
    def std_scale(self) -> float:
        """The factor on the ensemble spread the acquisition sees: the 68.27th percentile of the latest
        prequential ``|error| / spread`` (1.0 until 10 of them exist, or with ``calibrate=False``)."""
        if not self.calibrate or len(self._errors) < 10:
            return 1.0
        return float(np.quantile(self._errors[-self.calibration_window:], 0.6827))

    def _forget_ask(self, dag: DAG) -> None:
        super()._forget_ask(dag)
        key = dag.canonical_key()
        self._asked_dags.pop(key, None)  # no longer in flight: no believer fit on it, no background fit for it
        self._predicted.pop(key, None)

    def _told(self, dag: DAG, value: float) -> None:
        key = dag.canonical_key()
        self._asked_dags.pop(key, None)
        predicted = self._predicted.pop(key, None)
        if not math.isfinite(value):
            log.info("evaluation failed; BO carries on without it")
        elif predicted is not None:
            mean, spread = predicted
            self._errors.append(abs(value - mean) / max(spread, 1e-12))
            del self._errors[:-self.calibration_window]
