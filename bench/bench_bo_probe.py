"""Why BO needs about 30 queries to NAS-Bench-201's best cell: where that cell stands, the table's own noise, and
the changes tried.

Modes (``--mode``):

- ``ceiling``: how well could *any* smooth model rank the best cell? Each cell is scored by the mean
  (and the median) of the true accuracies of its 24 one-edge neighbours, i.e. a smoother that knows
  every other cell of the table; printed: the rank of the best cell (of both tied ones, the better)
  under that score, the best cell's neighbours and how many cells lie within 0.1 / 0.2 / 0.3 of it.
- ``trace``: one default BO run per seed, query by query until the best cell is found: the value
  asked, its Hamming distance (edges whose op differs) to the best cell, the nearest of the ``top_k``
  parents whose mutations make the candidates, whether the best cell is among the candidates and
  its rank there by the surrogate's mean, and every ``--every`` queries its rank over the whole
  table (cells not yet asked) and Kendall's tau between the surrogate and the table.
- ``hgp-tau``: how well `HammingGP` ranks random cells (Kendall tau) after 20, 50 and 100 random ones.
- ``additive``: how additive the near-top of the table is: a least-squares fit of one-hot (edge, op)
  features, of path features (BANANAS' path encoding: `path_features`) and of both, on every cell
  within 1.5 / 1.0 / 0.6 / 0.4 of the best; the best cell's rank under it; and the same features in a
  ridge fit on 20 / 50 / 100 random cells, Kendall tau on 2,000 others.
- ``noise``: the table's own noise: how far apart it puts cells that compute the same function (equal
  live parts), and how often a best cell would stay the best if every cell were trained once more.
- ``rankers``: along the default BO's own asks, the best cell's rank among the candidates by the GNN's
  mean, by the expected improvement BO asks by, by a `HammingGP` and by a one-hot ridge fit (off-policy).
- ``variants``: queries until the best cell for ``base`` (today's default BO) and changes to it:
  ``yj`` (targets Yeo-Johnson power-transformed before the fit, predictions transformed back:
  sklearn's ``PowerTransformer``, HEBO-style output warping) and ``nbr:full_k=K`` (candidates = all 24
  one-edge neighbours of each of the ``K`` best graphs, plus 10 two-step mutations of each of the
  ``top_k`` best, plus the random samples); ``top:frac=F`` (the surrogate is fitted on the best ``F``
  of the evaluations only, at least 10); ``wlgp`` (BO's surrogate replaced by a Gaussian process on
  Weisfeiler-Lehman label counts, NAS-BOWL-style: `WLGP`); ``scale:f=F`` (the acquisition sees the
  ensemble spread times ``F``: `ScaledSpread`); ``boot`` (each member fitted on its own bootstrap
  resample); ``hgp`` (BO's surrogate replaced by a Gaussian process with a Hamming
  kernel on the space's decisions, COMBO-style: `HammingGP`); ``lhs`` (the random cells before the
  first fit are a balanced design over the decisions: `BalancedStart`); ``warmtop:k=K`` (warm refits
  always train on the ``K`` best results: `TopInWarm`); ``adamkeep`` (warm refits continue Adam's
  moments), ``warmlr:lr=L`` (warm refits at learning rate ``L``) and ``loopcopy`` (the same training
  loop with no change: a check that it asks what ``base`` asks): `ProbeSurrogate`, as ``boot``; ``alt:k=K`` (every K-th
  guided ask takes the best ensemble mean, the others expected improvement: `Alternating`);
  ``hedge:eta=E`` (a GP-Hedge portfolio of expected improvement, the mean and UCB: `Hedge`);
  ``plugin`` (expected improvement over the best ensemble mean among the evaluated graphs), ``pi:xi=X``
  (probability of improving by more than X) and ``eixi:xi=X`` (expected improvement over the best plus X):
  `OtherAcquisition`; ``meanpar`` (parents ranked by the ensemble mean, not the observed values: `MeanParents`);
  ``cold:k=K`` (a fresh fit of the surrogate every K results, warm refits between: `ColdRefits`); ``zc:n=N``
  (until N results, the surrogate learns on top of a ridge fit on two zero-cost proxies: `ProxyBO`; needs
  ``--proxies``); ``zcfade:n=N`` (the same, the prior's weight falling from 1 at the first fit to 0 at N
  results); ``zcin`` (the two proxies as node inputs of the surrogate: `ProxyInput`; needs ``--proxies``);
``clip:q=Q`` (each candidate's spread capped at the Q-quantile of the candidates' spreads:
`ClippedSpread`); ``hyb:k=K`` (the acquisition sees the GNN members and K pseudo-members of a
`HammingGP` on every result: `HybridBO`) and ``hybm:w=W`` (each GNN member moved by the share W towards the GP's mean);
``climb:r=R`` (R rounds of acquisition search: the 5 candidates with the highest expected improvement each
give 20 more one-step mutations: `Climb`), ``earlyclimb:n=N`` (the same, 2 rounds, while fewer than N results
exist) and ``wideclimb:r=R`` (from the 10 best candidates, 10 mutations each: `WideClimb`); ``xover:n=N``
(N more candidates, each a uniform recombination of two of the ``top_k`` best graphs: `Crossover`).

    python bench/bench_bo_probe.py --mode ceiling
    python bench/bench_bo_probe.py --mode trace --seeds 2 5 --every 3
    python bench/bench_bo_probe.py --mode variants --seeds 0 1 2 3 4 5 6 7 8 9 --variants base yj nbr:full_k=3
    python bench/bench_bo_probe.py --mode additive
    python bench/bench_bo_probe.py --mode rankers --seeds 0 1 2 3 4 5 6 7 8 9
    python bench/bench_bo_probe.py --mode noise
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from collections.abc import Iterator
from typing import Any, cast

import numpy as np
import torch
from bench_bo import cells_within, first_hit  # bench/ is on the path when a script in it runs
from bench_proxy_prior import ridge_weights
from scipy.stats import kendalltau
from sklearn.preprocessing import PowerTransformer
from torch import nn

from graphnas.benchmarks import NB201Table
from graphnas.converters.features import Featurizer, GraphBatch
from graphnas.dag import DAG
from graphnas.search import BayesianOptimization, run
from graphnas.surrogate import GNNSurrogate


def table_arrays(table: NB201Table) -> tuple[list[DAG], np.ndarray]:
    cells = list(table.space.enumerate())
    return cells, np.array([float(table(d)) for d in cells])


def ceiling(args: argparse.Namespace) -> None:
    for metric in args.metrics:
        table = NB201Table(metric=metric)
        space = table.space
        cells, vals = table_arrays(table)
        index = {d.canonical_key(): i for i, d in enumerate(cells)}
        nbrs = [[index[n.canonical_key()] for n in space.neighbours(d)] for d in cells]
        best = vals.max()
        bests = np.flatnonzero(vals >= best - 1e-9)
        print(f"\n{metric}: best {best} ({len(bests)} cell(s): {[space.to_string(cells[b]) for b in bests]})")
        for name, fn in (("mean", np.mean), ("median", np.median)):
            score = np.array([fn(vals[n]) for n in nbrs])
            rank = min(int((score > score[b]).sum()) for b in bests) + 1
            top = np.sort(score)[-5:][::-1].round(2).tolist()
            print(f"  neighbour {name}: the best cell ranks {rank} of {len(cells)} "
                  f"(its score {score[bests].round(2).tolist()}, the top scores {top})")
        around = np.sort(vals[nbrs[bests[0]]])[::-1][:8].round(2).tolist()
        print(f"  the best cell's neighbours, highest first: {around}")
        near = list(cells_within(table, best, [0.1, 0.2, 0.3]).values())
        print(f"  cells within 0.1 / 0.2 / 0.3 of the best: {near}")


def trace(args: argparse.Namespace) -> None:
    table = NB201Table(metric=args.metrics[0])
    space = table.space
    cells, vals = table_arrays(table)
    target = vals.max()
    best_cells = [cells[i] for i in np.flatnonzero(vals >= target - 1e-9)]
    best_keys = {d.canonical_key() for d in best_cells}
    best_ops = [space.to_ops(d) for d in best_cells]
    ib = int(np.argmax(vals))

    def ham(d: DAG) -> int:
        ops = space.to_ops(d)
        return min(sum(a != b for a, b in zip(ops, b_ops)) for b_ops in best_ops)

    for seed in args.seeds:
        print(f"\nseed {seed} ({args.metrics[0]}, best {target})")
        bo = BayesianOptimization(space, seed=seed)
        made: dict[str, Any] = {}
        original = bo._candidates

        def candidates(data: list[tuple[DAG, float]], *a: Any, _bo: Any = bo, _orig: Any = original,
                       _made: dict = made, **k: Any) -> list[DAG]:
            out = _orig(data, *a, **k)
            ranked = sorted(data, key=lambda dv: -dv[1])[:_bo.top_k]
            _made.update(out=out, parents=min(ham(d) for d, _ in ranked))
            return out

        bo._candidates = candidates  # type: ignore[method-assign]
        for q in range(1, args.budget + 1):
            made.clear()
            dag = bo.ask(1)[0]
            value = float(table(dag))
            line = f"q{q} value {value:.2f} distance {ham(dag)}"
            if made:
                out = made["out"]
                mean = bo._members(out).mean(axis=0)
                hit = [i for i, c in enumerate(out) if c.canonical_key() in best_keys]
                line += f" | nearest parent {made['parents']}"
                line += (f", best cell among candidates, ranked {int((mean > mean[hit[0]]).sum()) + 1} of {len(out)}"
                         if hit else ", best cell not among candidates")
                if q % args.every == 0:
                    pred = bo.surrogate.predict_members(cells).mean(axis=0)
                    asked = set(bo._asked)
                    free = np.array([c.canonical_key() not in asked for c in cells])
                    line += (f" | whole table: rank {int((pred[free] > pred[ib]).sum()) + 1}, "
                             f"tau {kendalltau(pred, vals).statistic:.3f}")
            print(line, flush=True)
            bo.tell(dag, value)
            if value >= target - 1e-9:
                break


class PowerTargets(GNNSurrogate):
    """`GNNSurrogate` fitted on Yeo-Johnson transformed targets; members mapped back to the targets' units
    (a prediction beyond what the inverse map can reach, far below the data, becomes the lowest target seen)."""

    def fit(self, X: Any, y: Any) -> PowerTargets:
        col = np.asarray(y, dtype=np.float64).reshape(-1, 1)
        self.power_ = PowerTransformer(method="yeo-johnson", standardize=True).fit(col)
        self.lowest_ = float(col.min())
        return super().fit(X, self.power_.transform(col).ravel())

    def predict_members(self, X: Any) -> np.ndarray:
        m = super().predict_members(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "inverse-transformed data are NaN": handled below
            back = self.power_.inverse_transform(m.reshape(-1, 1)).reshape(m.shape)
        return np.nan_to_num(back, nan=self.lowest_)


class WLGP:
    """A Gaussian process on Weisfeiler-Lehman label counts (NAS-BOWL-style, Ru et al. 2021): each graph's
    `wl_counts` (live part, 2 rounds) as a vector scaled to unit length, the kernel ``s2 * <x, x'>`` (the
    normalised WL subtree kernel) plus noise ``n2``; ``s2`` and ``n2`` maximise the marginal likelihood on a
    grid (5 x 5) at every fit, on standardised targets. ``predict(X, return_std=True)`` gives the posterior
    mean and std, which BO turns into two pseudo-members."""

    warm_start = False

    def __init__(self, vocabulary: list[str], iterations: int = 2) -> None:
        from graphnas.converters.features import Featurizer
        from graphnas.surrogate import WLTrees

        # the tree members' label counter: its `counts` caches each graph's `wl_counts`
        self.labels = WLTrees(Featurizer.fit([], vocabulary), members=0, iterations=iterations)

    def _vectors(self, dags: list[DAG]) -> np.ndarray:
        rows = self.labels.counts(dags)
        x = np.zeros((len(rows), len(self.index)))
        for r, c in enumerate(rows):
            for k, v in c.items():
                j = self.index.get(k)
                if j is not None:
                    x[r, j] = v
        norms = np.sqrt([sum(v * v for v in c.values()) or 1.0 for c in rows])  # all labels, seen in fit or not
        return x / norms[:, None]

    def fit(self, X: Any, y: Any) -> WLGP:
        from scipy.linalg import cho_factor, cho_solve

        dags, y = list(X), np.asarray(y, dtype=np.float64)
        self.index: dict[str, int] = {}
        for c in self.labels.counts(dags):
            for k in c:
                self.index.setdefault(k, len(self.index))
        self.x_ = self._vectors(dags)
        self.mu_, self.sd_ = float(y.mean()), float(y.std()) or 1.0
        z = (y - self.mu_) / self.sd_
        gram = self.x_ @ self.x_.T
        best = None
        for s2 in (0.25, 0.5, 1.0, 2.0, 4.0):
            for n2 in (1e-3, 1e-2, 0.03, 0.1, 0.3):
                factor = cho_factor(s2 * gram + n2 * np.eye(len(z)), lower=True)
                alpha = cho_solve(factor, z)
                loglik = -0.5 * z @ alpha - np.log(np.diag(factor[0])).sum()
                if best is None or loglik > best[0]:
                    best = (loglik, s2, factor, alpha)
        _, self.s2_, self.factor_, self.alpha_ = best
        return self

    def predict(self, X: Any, return_std: bool = False) -> Any:
        from scipy.linalg import cho_solve

        k = self.s2_ * (self._vectors(list(X)) @ self.x_.T)
        mean = k @ self.alpha_ * self.sd_ + self.mu_
        var = np.maximum(self.s2_ - np.einsum("ij,ji->i", k, cho_solve(self.factor_, k.T)), 1e-12)
        return (mean, np.sqrt(var) * self.sd_) if return_std else mean


def neighbour_candidates(bo: BayesianOptimization, full_k: int, two_step: int = 10) -> Any:
    """A `_candidates` replacement: every one-edge neighbour of the ``full_k`` best graphs, ``two_step``
    two-step mutations of each of the ``top_k`` best, then the usual random samples; none asked before."""
    space = bo.space

    def candidates(data: list[tuple[DAG, float]], share: float = 1.0, held: set[str] | None = None) -> list[DAG]:
        ranked = sorted(data, key=lambda dv: -dv[1])[: bo.top_k]

        def proposals() -> Iterator[DAG]:
            for r, (parent, _) in enumerate(ranked):
                if r < full_k:
                    yield from space.neighbours(parent)
                for _ in range(two_step):
                    yield bo._mutate(bo._mutate(parent))
            for _ in range(bo.random_candidates):
                yield bo._sample()

        return bo._unasked(proposals(), held)

    return candidates


def top_training_set(bo: BayesianOptimization, frac: float, least: int = 10) -> Any:
    """A `_training_set` replacement: only the best ``frac`` of the evaluations (at least ``least``), so
    that the fit spends itself on the order among good cells (WeakNAS-style: a weak predictor of the top)."""

    def training_set(data: list[tuple[DAG, float]]) -> list[tuple[DAG, float]]:
        keep = max(least, int(frac * len(data)))
        return sorted(data, key=lambda dv: -dv[1])[:keep]

    return training_set


class ScaledSpread(BayesianOptimization):
    """BO whose acquisition sees the ensemble spread times a fixed ``spread`` (1.0: the default BO)."""

    spread = 1.0

    @property
    def std_scale(self) -> float:
        return self.spread


class HammingGP:
    """A Gaussian process on a space's decisions (``space.encode``: one categorical choice per position),
    with the kernel ``s2 * exp(-sum_e theta_e * [x_e != x'_e])`` (a Hamming kernel, one weight per
    position, COMBO/CASMOPOLITAN-style) and Gaussian noise; ``theta``, ``s2`` and the noise maximise the
    marginal likelihood (L-BFGS from the previous fit's optimum and from a fixed start)."""

    def __init__(self, space: Any) -> None:
        self.space = space
        self.params: np.ndarray | None = None

    def _x(self, dags: list[DAG]) -> np.ndarray:
        return np.asarray([self.space.encode(d) for d in dags], dtype=np.int64)

    @staticmethod
    def _kernel(theta: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        diff = (a[:, None, :] != b[None, :, :]).astype(np.float64)
        return np.exp(-diff @ theta)

    def _nll(self, p: np.ndarray) -> float:
        d = self.x.shape[1]
        theta, s2, noise = np.exp(p[:d]), np.exp(p[d]), np.exp(p[d + 1]) + 1e-6
        k = s2 * self._kernel(theta, self.x, self.x) + noise * np.eye(len(self.x))
        try:
            c = np.linalg.cholesky(k)
        except np.linalg.LinAlgError:
            return 1e10
        a = np.linalg.solve(c, self.z)
        return float(0.5 * a @ a + np.log(np.diag(c)).sum())

    tune_every = 1  # optimise the hyperparameters at every this many fits (the others keep the last ones)

    def fit(self, X: Any, y: Any) -> HammingGP:
        from scipy.optimize import minimize

        self.x = self._x(list(X))
        y = np.asarray(y, dtype=np.float64)
        self.mu, self.sd = float(y.mean()), float(y.std()) or 1.0
        self.z = (y - self.mu) / self.sd
        d = self.x.shape[1]
        self.fits = getattr(self, "fits", 0) + 1
        if self.params is not None and (self.fits - 1) % self.tune_every:
            return self._posterior(self.params)
        starts = [np.r_[np.full(d, np.log(0.5)), 0.0, np.log(0.1)]]
        if self.params is not None:
            starts.append(self.params)
        bounds = [(np.log(1e-3), np.log(20.0))] * d + [(np.log(0.05), np.log(20.0)), (np.log(1e-6), np.log(2.0))]
        best = min((minimize(self._nll, s0, method="L-BFGS-B", bounds=bounds) for s0 in starts), key=lambda r: r.fun)
        return self._posterior(best.x)

    def _posterior(self, params: np.ndarray) -> HammingGP:
        d = self.x.shape[1]
        self.params = params
        theta, s2, noise = np.exp(params[:d]), np.exp(params[d]), np.exp(params[d + 1]) + 1e-6
        self.theta, self.s2 = theta, s2
        k = s2 * self._kernel(theta, self.x, self.x) + noise * np.eye(len(self.x))
        self.c = np.linalg.cholesky(k)
        self.alpha = np.linalg.solve(self.c.T, np.linalg.solve(self.c, self.z))
        return self

    def predict(self, X: Any, return_std: bool = False) -> Any:
        xs = self._x(list(X))
        ks = self.s2 * self._kernel(self.theta, xs, self.x)
        mean = ks @ self.alpha * self.sd + self.mu
        v = np.linalg.solve(self.c, ks.T)
        var = np.maximum(self.s2 - (v * v).sum(axis=0), 1e-12)
        return (mean, np.sqrt(var) * self.sd) if return_std else mean


class BalancedStart(BayesianOptimization):
    """BO whose ``initial`` random cells are a balanced design over the space's decisions (each position
    takes every choice equally often, in a seeded shuffle per position: a Latin hypercube for categorical
    choices) instead of independent samples, so the first fit sees every op on every edge."""

    def _design(self) -> list[DAG]:
        import random

        rng = random.Random(f"balanced-{self._seed()}")
        from graphnas.generators.decisions import walk

        sizes = [d.size for d in walk(self.space, self.space.encode(self.space.sample(0)))]
        cols = []
        for k in sizes:
            col = [i % k for i in range(self.initial)]
            rng.shuffle(col)
            cols.append(col)
        return [self.space.decode([c[i] for c in cols]) for i in range(self.initial)]

    def _sample(self) -> DAG:
        if not hasattr(self, "_queue"):
            self._queue = self._design()
        if self._queue and len(self.history) + len(self._asked_dags) < self.initial:
            return self._queue.pop(0)
        return super()._sample()


class TopInWarm(BayesianOptimization):
    """BO whose warm refits always train on the ``keep`` best results (then the new ones, then a seeded
    draw of the rest), so that the focused ranking loss sees the order among the best graphs at every
    refit instead of whichever of them the draw holds."""

    keep = 8

    def _warm_set(self, train: list[tuple[DAG, float]], new: list[tuple[DAG, float]],
                  pending: int) -> list[tuple[DAG, float]]:
        room = (self.warm_train or 0) - pending
        if self.warm_train is None or len(train) <= room:
            return train
        room = max(room, 2)
        top = sorted(train, key=lambda dv: -dv[1])[: min(self.keep, room // 2)]
        held = {id(d) for d, _ in top}
        new = [dv for dv in new if id(dv[0]) not in held]
        if len(new) > room // 2:
            new = [new[i] for i in sorted(self.rng.sample(range(len(new)), room // 2))]
        held |= {id(d) for d, _ in new}
        rest = [dv for dv in train if id(dv[0]) not in held]
        draw = sorted(self.rng.sample(range(len(rest)), max(0, min(len(rest), room - len(new) - len(top)))))
        return [rest[i] for i in draw] + top + new


class ProbeSurrogate(GNNSurrogate):
    """BO's surrogate with `GNNSurrogate._train`'s loop (no pair sampling: BO's fits have fewer pairs than
    ``max_pairs``) and three changes to it, each off by default:

    - ``bootstrap``: each ensemble member fitted on its own bootstrap resample of the training graphs
      (Poisson(1) counts, drawn anew at every fit from the fit's seeded generator), so that the members
      disagree most where few results exist; the squared error and each ranking pair are weighted by the
      counts;
    - ``keep_adam``: warm refits keep Adam's moments and step count from the previous fit (continue the
      optimiser, not only the weights; by default every fit starts a new Adam, whose first steps move
      every weight by about ``lr``);
    - ``warm_lr``: warm refits take this learning rate instead of ``lr``.
    """

    bootstrap = False
    keep_adam = False
    warm_lr: float | None = None

    def _train(self, batch: Any, z: torch.Tensor, gen: torch.Generator, epochs: int) -> int:
        from graphnas.surrogate.gnn import _FlatAdam, bidirectional_operator, top_weights

        warm = self.n_fits_ > 0
        model = self.model_
        model.train()
        op = bidirectional_operator(batch.edge_index, len(batch.x))
        lr = self.warm_lr if warm and self.warm_lr is not None else self.lr
        opt = _FlatAdam(list(model.parameters()), lr=lr, weight_decay=self.weight_decay)
        state = getattr(self, "adam_state_", None)
        if warm and self.keep_adam and state is not None:
            opt.exp_avg, opt.exp_avg_sq, opt.steps = state[0].clone(), state[1].clone(), state[2]
        hi, lo = torch.nonzero(z[:, None] > z[None, :], as_tuple=True)
        pair_weight = top_weights(z, hi, self.top_focus) if self.top_focus and len(hi) else None
        counts = None
        if self.bootstrap:
            counts = torch.poisson(torch.ones(self.ensemble, len(z)), generator=gen)
            counts = counts / counts.mean(dim=1, keepdim=True).clamp_min(1e-9)
            pairs_w = counts[:, hi] * counts[:, lo] * (1.0 if pair_weight is None else pair_weight)
            pair_weight = pairs_w / pairs_w.mean(dim=1, keepdim=True).clamp_min(1e-9)
        for _ in range(epochs):
            opt.zero_grad()
            pred = model(batch, op)
            err = (pred - z) ** 2
            loss = (err if counts is None else counts * err).mean()
            if self.rank_weight > 0 and len(hi):
                pairs = nn.functional.softplus(pred[:, lo] - pred[:, hi])
                if pair_weight is not None:
                    pairs = pairs * pair_weight
                loss = loss + self.rank_weight * pairs.mean()
            loss.backward()
            opt.step()
        self.adam_state_ = (opt.exp_avg, opt.exp_avg_sq, opt.steps)
        model.eval()
        return epochs


class Alternating(BayesianOptimization):
    """BO that asks every ``every``-th model-guided graph by the ensemble's mean alone (exploit) and the
    others by expected improvement: a fixed portfolio of two acquisitions."""

    every = 2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guided = 0
        ei = self._acq

        def acq(members: np.ndarray, best: float, rng: Any) -> np.ndarray:
            self._guided += 1
            return members.mean(axis=0) if self._guided % self.every == 0 else ei(members, best, rng)

        self._acq = acq


class ClippedSpread(BayesianOptimization):
    """BO whose expected improvement sees each candidate's ensemble spread capped at the ``quantile`` of the
    candidates' spreads: the members are pulled towards their mean where the spread is larger. Along BO's
    asks, expected improvement ranked the best cell lower than the mean did (``--mode rankers``: mean rank
    26 against 16), in the asks where a far candidate's large spread outweighed a near one's higher mean."""

    quantile = 0.5

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ei = self._acq

        def acq(members: np.ndarray, best: float, rng: Any) -> np.ndarray:
            mean, spread = members.mean(axis=0), members.std(axis=0)
            shrink = np.minimum(1.0, np.quantile(spread, self.quantile) / np.maximum(spread, 1e-12))
            return ei(mean + (members - mean) * shrink, best, rng)

        self._acq = acq


class Hedge(BayesianOptimization):
    """BO with a GP-Hedge portfolio (Hoffman, Brochu & de Freitas 2011) of three acquisitions: expected
    improvement, the ensemble mean (exploit) and UCB (mean + 2 std). At each ask every acquisition nominates
    its best candidate, one nominee is asked with probability ``softmax(eta * gains)`` (seeded), and at the
    next ask each acquisition's gain grows by the refitted surrogate's mean for its last nominee, in units
    of the spread of that mean over the candidates. Serial asks only (``n == 1``)."""

    eta = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gains = np.zeros(3)
        self._nominees: list[DAG] = []

    def _propose_many(self, data: list[tuple[DAG, float]], n: int) -> list[DAG]:
        if n != 1:
            return super()._propose_many(data, n)
        candidates = self._candidates(data)
        if not candidates:
            return self._fill(n, self._sample)
        raw = self._members(candidates)
        mean, sd = raw.mean(axis=0), raw.std(axis=0)
        unit = float(mean.std()) or 1.0
        if self._nominees:  # reward the last nominees by the refitted model's mean
            self.gains += self._members(self._nominees).mean(axis=0) / unit
        scores = [self._acq(raw, max(v for _, v in data), self.rng), mean, mean + 2 * sd]
        nominees = [int(np.argmax(sc)) for sc in scores]
        w = np.exp(self.eta * (self.gains - self.gains.max()))
        pick = self.rng.choices(range(3), weights=list(w / w.sum()))[0]
        self._nominees = [candidates[i] for i in nominees]
        return [candidates[nominees[pick]]]


class OtherAcquisition(BayesianOptimization):
    """BO with another acquisition or incumbent, all from the same ensemble members:

    - ``plugin`` (plug-in EI, Picheny et al. 2013): expected improvement over the best ensemble *mean* among
      the evaluated graphs instead of the best observed value (an observed best is biased upwards by noise);
    - ``pi:xi=X``: the probability of improving on the best observed value by more than ``X``;
    - ``eixi:xi=X``: expected improvement over the best observed value plus ``X`` (X < 0: more exploitation).
    """

    kind = "plugin"
    xi = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ei = self._acq

        def acq(members: np.ndarray, best: float, rng: Any) -> np.ndarray:
            if self.kind == "plugin":
                best = float(self._members([d for d, _ in self.evaluated]).mean(axis=0).max())
                return ei(members, best, rng)
            if self.kind == "eixi":
                return ei(members, best + self.xi, rng)
            from scipy.stats import norm

            mu, sd = members.mean(axis=0), np.maximum(members.std(axis=0), 1e-9)
            return norm.cdf((mu - best - self.xi) / sd)

        self._acq = acq


class MeanParents(BayesianOptimization):
    """BO whose candidates mutate the ``top_k`` evaluated graphs with the best ensemble *mean* (a denoised
    ranking of the results) instead of the best observed values."""

    def _candidates(self, data: list[tuple[DAG, float]], share: float = 1.0,
                    held: set[str] | None = None) -> list[DAG]:
        means = self._members([d for d, _ in data]).mean(axis=0)
        return super()._candidates([(d, float(m)) for (d, _), m in zip(data, means, strict=True)], share, held)


class Climb(BayesianOptimization):
    """BO whose candidates climb the acquisition before it asks (BANANAS' and NASBOT's acquisition search):
    after the usual mutations and random samples, ``rounds`` times the ``keep`` candidates with the highest
    expected improvement each give ``per`` more one-step mutations, scored by the same model. Early in a
    search the parents are random cells, and the cells the model rates highest may lie several edges from
    every one of them."""

    rounds, keep, per = 2, 5, 20
    until = 10**9  # climb only while fewer results than this exist

    def _candidates(self, data: list[tuple[DAG, float]], share: float = 1.0,
                    held: set[str] | None = None) -> list[DAG]:
        out = super()._candidates(data, share, held)
        if not self._fitted_on or not out or len(data) >= self.until:
            return out
        best = max(v for _, v in data)
        for _ in range(self.rounds):
            scores = self._acq(self._members(out), best, self.rng)
            tops = [out[i] for i in np.argsort(-scores, kind="stable")[: self.keep]]
            new = self._unasked((self._mutate(t) for t in tops for _ in range(self.per)),
                                (held or set()) | {d.canonical_key() for d in out})
            if not new:
                break
            out = out + new
        return out


class WideClimb(Climb):
    """`Climb` from the 10 candidates with the highest expected improvement, 10 mutations each: the same
    number of climbed candidates, from twice as many starts."""

    keep, per = 10, 10


class Crossover(BayesianOptimization):
    """BO whose candidates also hold ``n`` recombinations of the ``top_k`` best graphs: each child takes
    every decision (an edge's op) from one of two different parents, drawn at random. Per-edge effects
    explain about half the order of NB201's near-top cells (``--mode additive``), so two good cells
    may hold between them the good choices of a better one that lies several mutations from either."""

    n = 40

    def _candidates(self, data: list[tuple[DAG, float]], share: float = 1.0,
                    held: set[str] | None = None) -> list[DAG]:
        out = super()._candidates(data, share, held)
        ranked = [d for d, _ in sorted(data, key=lambda dv: -dv[1])[: self.top_k]]
        if len(ranked) < 2:
            return out
        codes = [self.space.encode(d) for d in ranked]

        def children() -> Iterator[DAG]:
            for _ in range(self.n):
                a, b = self.rng.sample(range(len(codes)), 2)
                yield self.space.decode([codes[a][i] if self.rng.random() < 0.5 else codes[b][i]
                                         for i in range(len(codes[a]))])

        return out + self._unasked(children(), (held or set()) | {d.canonical_key() for d in out})


class ColdRefits(BayesianOptimization):
    """BO whose surrogate is fitted from scratch (fresh members, all of the capped training set, the cold
    fit's epochs) whenever ``every`` more results arrived since the last cold fit, and warm between them:
    warm refits may let the members drift together, and a cold fit spreads them again."""

    every = 10

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cold_at = 0

    def _maybe_fit(self, data: list[tuple[DAG, float]]) -> None:
        if not self._fitted_on:  # the first fit is cold anyway
            self._cold_at = len(data)
        elif len(data) - self._cold_at >= self.every:
            self._cold_at = len(data)
            self.surrogate.warm_start = False
            try:
                return super()._maybe_fit(data)
            finally:
                self.surrogate.warm_start = True
        return super()._maybe_fit(data)


class ProxyPrior(GNNSurrogate):
    """BO's surrogate on what a ridge fit on two zero-cost proxies leaves (see `ProxyBO`): ``w`` set: it fits
    the residuals and adds the ridge's prediction back to every member; None: it is BO's surrogate."""

    proxies: dict[str, np.ndarray] = {}  # noqa: RUF012 - set once per run by make()
    space: Any = None
    w: np.ndarray | None = None

    def feats(self, X: list[DAG]) -> np.ndarray:
        return np.array([self.proxies[self.space.to_string(d)] for d in X])

    def prior(self, X: list[DAG]) -> np.ndarray:
        return np.zeros(len(X)) if self.w is None else self.w[0] + self.feats(X) @ self.w[1:]

    def fit(self, X: Any, y: Any) -> ProxyPrior:
        X = list(X)
        super().fit(X, np.asarray(y, dtype=np.float64) - self.prior(X))
        return self

    def predict_members(self, X: Any) -> np.ndarray:
        X = list(X)
        return super().predict_members(X) + self.prior(X)


class ProxyBO(BayesianOptimization):
    """BO whose surrogate, while fewer than ``until`` results exist, learns on top of a ridge fit (lambda 1)
    of all results on two standardised zero-cost proxies (log synflow, log #params: `bench_proxy_prior.py`),
    which ranked held-out cells better than the surrogate alone from 10 cells and worse from 50."""

    until = 25
    fade = False  # True: the ridge prediction's weight falls linearly from 1 at the first fit to 0 at ``until``

    def _maybe_fit(self, data: list[tuple[DAG, float]]) -> None:
        s = cast(ProxyPrior, self.surrogate)
        if len(data) < self.until:
            s.w = ridge_weights(s.feats([d for d, _ in data]), np.array([v for _, v in data]))
            if self.fade:
                s.w = s.w * (1 - (len(data) - self.initial) / (self.until - self.initial))
        else:
            s.w = None
        super()._maybe_fit(data)


class ProxyFeaturizer(Featurizer):
    """`Featurizer` whose node features end with the graph's two standardised zero-cost proxies (the same on
    every node of a graph)."""

    proxies: dict[str, np.ndarray] = {}  # noqa: RUF012 - set by ProxyInput
    space: Any = None

    @property
    def num_features(self) -> int:
        return super().num_features + 2

    def batch(self, dags: Any, live_only: bool = False) -> GraphBatch:
        b = super().batch(dags, live_only)  # its last two columns (past the layout) are zero
        feats = torch.tensor(np.array([self.proxies[self.space.to_string(d)] for d in dags]), dtype=b.x.dtype)
        b.x[:, -2:] = feats[b.batch]
        return b


class ProxyInput(GNNSurrogate):
    """BO's surrogate with the two zero-cost proxies as node inputs (`ProxyFeaturizer`): the fit learns how
    much to weigh them, at every size of the training set."""

    proxies: dict[str, np.ndarray] = {}  # noqa: RUF012 - set by make()
    space: Any = None

    def _build(self) -> Any:
        f = ProxyFeaturizer(self.featurizer_.vocabulary, self.featurizer_.param_tokens)
        f.proxies, f.space = self.proxies, self.space
        self.featurizer_ = f
        return super()._build()


def load_proxies(paths: list[str]) -> dict[str, np.ndarray]:
    """Every cell's proxies from `bench_proxy_prior.py --dump` files, standardised over all cells."""
    raw: dict[str, list[float]] = {}
    for path in paths:
        with open(path) as fh:
            raw.update(json.load(fh))
    arr = np.array(list(raw.values()))
    z = (arr - arr.mean(axis=0)) / arr.std(axis=0)
    return dict(zip(raw, z, strict=True))


#: variants that are a BO subclass with one number set: prefix -> (class, attribute, key, type, default)
class HybridBO(BayesianOptimization):
    """BO whose acquisition sees a mixed ensemble: the GNN members and ``k`` pseudo-members of a `HammingGP`
    fitted on every result at every refit (its mean plus its std times ``k`` fixed normal quantiles, scaled
    to unit spread). The GNN, fitted warm on at most 32 graphs, carries the global order; the GP, a local
    smoother on all results, ranked the best cell first among the candidates in some late asks where the
    GNN's expected improvement ranked it 20th-130th (``--mode rankers``, seeds 1 and 7); over seeds 0-9
    it ranked it lower than the GNN's mean did."""

    k = 5
    blend = 0.0  # hybm:w=W: instead of pseudo-members, each member becomes (1 - W) * itself + W * the GP's mean

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gp = HammingGP(self.space)

    def _maybe_fit(self, data: list[tuple[DAG, float]]) -> None:
        version = self._version
        super()._maybe_fit(data)
        if self._version != version:
            self.gp.tune_every = 5 if self.blend else 1  # hybm re-tunes at every 5th fit (a fifth of the time)
            self.gp.fit([d for d, _ in data], [v for _, v in data])

    def _predict(self, dags: list[DAG]) -> np.ndarray:
        from scipy.stats import norm

        members = super()._predict(dags)
        if self.blend:  # the GP's mean moves every member by the same share; the spread stays the GNN's
            return (1 - self.blend) * members + self.blend * self.gp.predict(dags)[None, :]
        q = norm.ppf((np.arange(self.k) + 0.5) / self.k)
        q = q / (np.sqrt((q * q).mean()) or 1.0)
        mean, std = self.gp.predict(dags, return_std=True)
        return np.vstack([members, mean[None, :] + q[:, None] * std[None, :]])


_ONE_NUMBER: dict[str, tuple[type[BayesianOptimization], str, str, type, float]] = {
    "cold": (ColdRefits, "every", "k=", int, 10), "hedge": (Hedge, "eta", "eta=", float, 1.0),
    "alt": (Alternating, "every", "k=", int, 2), "warmtop": (TopInWarm, "keep", "k=", int, 8),
    "scale": (ScaledSpread, "spread", "f=", float, 0.5), "hybm": (HybridBO, "blend", "w=", float, 0.5),
    "clip": (ClippedSpread, "quantile", "q=", float, 0.5), "climb": (Climb, "rounds", "r=", int, 2),
    "earlyclimb": (Climb, "until", "n=", int, 20), "wideclimb": (WideClimb, "rounds", "r=", int, 1),
    "hyb": (HybridBO, "k", "k=", int, 5), "xover": (Crossover, "n", "n=", int, 40)}


def make(space: Any, variant: str, seed: int) -> BayesianOptimization:
    for prefix, (cls, attribute, key, kind, default) in _ONE_NUMBER.items():
        if variant.startswith(prefix):
            bo = cls(space, seed=seed)
            setattr(bo, attribute, kind(variant.partition(key)[2] or default))
            return bo
    if variant.startswith(("plugin", "pi:", "eixi")):
        bo = OtherAcquisition(space, seed=seed)
        bo.kind = variant.partition(":")[0]
        bo.xi = float(variant.partition("xi=")[2] or 0.0)
        return bo
    if variant.startswith(("zc:", "zcfade:")):
        bo = ProxyBO(space, seed=seed)
        bo.fade = variant.startswith("zcfade")
        surrogate = ProxyPrior(**bo.surrogate.get_params())
        surrogate.proxies, surrogate.space = PROXIES, space
        bo.surrogate = surrogate
        bo.until = int(variant.partition("n=")[2] or 25)
        return bo
    if variant == "zcin":
        bo = BayesianOptimization(space, seed=seed)
        bo.surrogate = ProxyInput(**bo.surrogate.get_params())
        bo.surrogate.proxies, bo.surrogate.space = PROXIES, space
        return bo
    if variant == "meanpar":
        return MeanParents(space, seed=seed)
    if variant.startswith(("boot", "adamkeep", "warmlr", "loopcopy")):
        bo = BayesianOptimization(space, seed=seed)
        surrogate = ProbeSurrogate(**bo.surrogate.get_params())
        surrogate.bootstrap = variant == "boot"
        surrogate.keep_adam = variant == "adamkeep"
        if variant.startswith("warmlr"):
            surrogate.warm_lr = float(variant.partition("lr=")[2] or 2e-3)
        bo.surrogate = surrogate
        return bo
    if variant == "lhs":
        return BalancedStart(space, seed=seed)
    if variant == "hgp":
        return BayesianOptimization(space, surrogate=HammingGP(space), seed=seed)
    bo = BayesianOptimization(space, seed=seed)
    if variant.startswith("top"):
        bo._training_set = top_training_set(bo, float(variant.partition("frac=")[2] or 0.5))  # type: ignore[method-assign]
    elif variant == "yj":
        bo.surrogate = PowerTargets(**bo.surrogate.get_params())
    elif variant.startswith("nbr"):
        full_k = int(variant.partition("full_k=")[2] or 10)
        bo._candidates = neighbour_candidates(bo, full_k)  # type: ignore[method-assign]
    elif variant == "wlgp":
        return BayesianOptimization(space, surrogate=WLGP(list(space.vocabulary)), seed=seed)
    elif variant != "base":
        raise SystemExit(f"unknown variant {variant!r}: base, yj, nbr:full_k=K, top:frac=F, wlgp, scale:f=F, boot, "
                         "hgp, lhs, warmtop:k=K, adamkeep, warmlr:lr=L, loopcopy, alt:k=K, hedge:eta=E, plugin, "
                         "pi:xi=X, eixi:xi=X, meanpar, cold:k=K, clip:q=Q, hyb:k=K, hybm:w=W, climb:r=R, "
                         "earlyclimb:n=N, wideclimb:r=R, xover:n=N, zc:n=N, zcfade:n=N "
                         "or zcin (with --proxies)")
    return bo


def onehot(space: Any, dags: list[DAG]) -> np.ndarray:
    """One column per (decision, choice) of ``space.encode``: 1 where the graph takes that choice."""
    codes = np.asarray([space.encode(d) for d in dags])
    width = len(space.vocabulary)
    x = np.zeros((len(dags), codes.shape[1] * width))
    x[np.arange(len(dags))[:, None], np.arange(codes.shape[1]) * width + codes] = 1.0
    return x


def path_features(space: Any, dags: list[DAG]) -> np.ndarray:
    """One column per input-to-output path of the NB201 cell and sequence of its ops (BANANAS' path
    encoding, each path apart): 1 where the graph's path takes those ops and none of them is ``none``.
    4 paths (1, 2, 2 and 3 edges) over 4 ops: 100 columns. Unlike one-hot (edge, op) features they see
    the ops of a path together, and a ``none`` anywhere on it."""
    edges = [tuple(map(int, key.split("<-"))) for key in space.choice_keys()]  # (dst, src)

    def paths(node: int) -> list[list[int]]:  # the edge indices of each path from the input to ``node``
        return [[]] if node == 0 else [p + [k] for k, (dst, src) in enumerate(edges) if dst == node
                                       for p in paths(src)]

    codes = np.asarray([space.encode(d) for d in dags]) - 1  # -1: none
    cols = []
    for path in paths(max(dst for dst, _ in edges)):
        ops = codes[:, path]
        live = (ops >= 0).all(axis=1)
        index = (np.maximum(ops, 0) * 4 ** np.arange(len(path))[::-1]).sum(axis=1)
        f = np.zeros((len(dags), 4 ** len(path)))
        f[np.flatnonzero(live), index[live]] = 1.0
        cols.append(f)
    return np.hstack(cols)


def additive(args: argparse.Namespace) -> None:
    """How far can a linear model of the edges' ops order the near-top cells? A least-squares fit of
    one-hot (edge, op) features, of path features (`path_features`) and of both, on *every* cell within
    ``d`` of the best: the best cell's rank under the fit, Kendall tau and the residual's std (full
    information: far more than any search has)."""
    for metric in args.metrics:
        table = NB201Table(metric=metric)
        cells, vals = table_arrays(table)
        ones = np.ones((len(cells), 1))
        one_hot, path = onehot(table.space, cells), path_features(table.space, cells)
        feats = {"one-hot (edge, op)": np.hstack([one_hot, ones]), "paths": np.hstack([path, ones]),
                 "one-hot and paths": np.hstack([one_hot, path, ones])}
        best = vals.max()
        for d in (1.5, 1.0, 0.6, 0.4):
            near = np.flatnonzero(vals >= best - d)
            for name, x in feats.items():
                if len(near) < 3 * x.shape[1]:
                    print(f"{metric}: {len(near)} cells within {d} of the best: too few for {x.shape[1]} weights "
                          f"({name})")
                    continue
                w = np.linalg.lstsq(x[near], vals[near], rcond=None)[0]
                fit = x[near] @ w
                top = fit[vals[near] >= best - 1e-9].max()
                print(f"{metric}: {len(near)} cells within {d} of the best ({best:.2f}); {name}: the fit ranks the "
                      f"best cell {int((fit > top).sum()) + 1}; Kendall tau {kendalltau(fit, vals[near])[0]:.3f}; "
                      f"residual std {np.std(vals[near] - fit):.3f}", flush=True)
        # The same features from few random cells, as a search would have them: ridge (lambda 1) on n random
        # cells, Kendall tau on 2,000 others, mean over 5 seeded draws.
        rng = np.random.default_rng(0)
        for n in (20, 50, 100):
            taus: dict[str, list[float]] = {name: [] for name in feats}
            for _ in range(5):
                pick = rng.permutation(len(cells))
                train, test = pick[:n], pick[n:n + 2000]
                for name, x in feats.items():
                    w = ridge_weights(x[train, :-1], vals[train])
                    taus[name].append(float(kendalltau(w[0] + x[test, :-1] @ w[1:], vals[test])[0]))
            print(f"{metric}: ridge on {n} random cells, Kendall tau on 2,000 others (5 draws): "
                  + "; ".join(f"{name} {np.mean(t):.3f}" for name, t in taus.items()), flush=True)


def rankers(args: argparse.Namespace) -> None:
    """Off-policy: along the default BO's own asks (its trajectory, unchanged), the best cell's rank among
    the candidates of each ask where it is one (from query 12 on) by the GNN's mean, the expected
    improvement BO asks by, a `HammingGP` on every result and a ridge fit of one-hot (edge, op) features."""
    from graphnas.search.acquisition import get_acquisition

    ei = get_acquisition("ei")
    table = NB201Table(metric=args.metrics[0])
    space = table.space
    cells, vals = table_arrays(table)
    target = vals.max()
    best_keys = {cells[i].canonical_key() for i in np.flatnonzero(vals >= target - 1e-9)}

    ranks: dict[str, list[int]] = {}
    for seed in args.seeds:
        bo = BayesianOptimization(space, seed=seed)
        made: dict[str, Any] = {}
        original = bo._candidates

        def candidates(data: list[tuple[DAG, float]], *a: Any, _orig: Any = original, _made: dict = made,
                       **k: Any) -> list[DAG]:
            _made["out"] = _orig(data, *a, **k)
            return _made["out"]

        bo._candidates = candidates  # type: ignore[method-assign]
        for q in range(1, args.budget + 1):
            made.clear()
            dag = bo.ask(1)[0]
            value = float(table(dag))
            hit = [i for i, c in enumerate(made.get("out", [])) if c.canonical_key() in best_keys]
            if hit and q >= 12:
                out, h = made["out"], hit[0]
                dags, y = [d for d, _ in bo.evaluated], np.array([v for _, v in bo.evaluated])
                members = bo._members(out)
                w = ridge_weights(onehot(space, dags), y)
                scores = {"GNN mean": members.mean(axis=0), "GNN expected improvement": ei(members, y.max(), bo.rng),
                          "HammingGP on every result": HammingGP(space).fit(dags, y).predict(out),
                          "ridge on one-hot (edge, op)": w[0] + onehot(space, out) @ w[1:]}
                for name, sc in scores.items():
                    ranks.setdefault(name, []).append(int((sc > sc[h]).sum()) + 1)
                print(f"seed {seed} q{q}: " + ", ".join(f"{k} {v[-1]}" for k, v in ranks.items()), flush=True)
            bo.tell(dag, value)
            if value >= target - 1e-9:
                break
    print(f"\n{args.metrics[0]}, seeds {args.seeds}: the best cell's rank among about 180 candidates, "
          f"{len(next(iter(ranks.values()), []))} asks")
    for name, r in ranks.items():
        print(f"| {name} | {statistics.median(r):g} | {statistics.mean(r):.1f} | {sum(x <= 5 for x in r)} |")


def live_key(featurizer: Featurizer, dag: DAG) -> bytes:
    """Equal for two cells whose live parts (`Featurizer.live_part`: the nodes on an input-to-output path
    that avoids the zero op, with their ops and wiring) are equal: the same function but for parts no
    path uses."""
    enc = featurizer.live_part(dag)
    return b"|".join(a.tobytes() for a in (enc.ops, enc.depth, enc.src, enc.dst, enc.outputs))


def pooled_std(vals: np.ndarray, groups: list[list[int]]) -> float:
    """The pooled standard deviation of ``vals`` within each group of indices."""
    ss = sum(float(((vals[g] - vals[g].mean()) ** 2).sum()) for g in groups)
    return float(np.sqrt(ss / sum(len(g) - 1 for g in groups)))


def noise(args: argparse.Namespace) -> None:
    """How far apart the table puts cells that compute the same function. NAS-Bench-201 trained every
    arch string on its own, and cells that differ only in edges no input-to-output path uses (their
    live parts are equal) compute the same function, up to the constant a dead branch's BatchNorm may
    add; the spread of their accuracies is the table's own noise, to set beside the gaps among the
    near-top cells that the goal asks BO to resolve."""
    for metric in args.metrics:
        table = NB201Table(metric=metric)
        cells, vals = table_arrays(table)
        featurizer = Featurizer(list(table.space.vocabulary) + ["input", "identity"])
        groups: dict[bytes, list[int]] = {}
        for i, c in enumerate(cells):
            groups.setdefault(live_key(featurizer, c), []).append(i)
        best = vals.max()
        shared = [g for g in groups.values() if len(g) > 1]
        print(f"\n{metric} (best {best:.2f}): {len(groups)} functions among {len(cells)} cells; "
              f"{len(shared)} of them computed by more than one cell ({sum(map(len, shared))} cells)")
        print("| functions with a cell within d of the best | functions | cells | pooled std within a function "
              "| median range within a function | cells within d of the best |")
        print("|---|---|---|---|---|---|")
        for d in (None, 3.0, 1.0, 0.5):
            sel = [g for g in shared if d is None or vals[g].max() >= best - d]
            near = len(cells) if d is None else int((vals >= best - d).sum())
            if not sel:
                print(f"| {d} | 0 | | | | {near} |")
                continue
            spread = statistics.median(float(np.ptp(vals[g])) for g in sel)
            print(f"| {'any' if d is None else d} | {len(sel)} | {sum(map(len, sel))} | {pooled_std(vals, sel):.3f} "
                  f"| {spread:.3f} | {near} |")
        # The pooled std of the functions with a cell within 1.0 of the best, as each cell's noise: if every
        # cell of the table were trained once more, how often would the best be a best cell of today's table?
        # (Today's values stand in for the true ones, which spreads the cells more than their true
        # accuracies are spread, so the share is if anything too high.)
        sigma = pooled_std(vals, [g for g in shared if vals[g].max() >= best - 1.0])
        rng = np.random.default_rng(0)
        tops = np.flatnonzero(vals >= best - 1e-9)
        top200 = np.argsort(-vals)[:200]  # a cell further down never comes out on top
        wins = [int(top200[np.argmax(vals[top200] + rng.normal(0.0, sigma, len(top200)))]) for _ in range(2000)]
        print(f"retrained once more with noise of std {sigma:.3f}, a best cell of the table stays the best in "
              f"{np.isin(wins, tops).mean():.0%} of 2,000 draws; {len(set(wins))} cells come out on top")
        print("the 10 best cells, and how many cells compute the same function as each: "
              + ", ".join(f"{vals[i]:.2f} ({len(groups[live_key(featurizer, cells[i])])})"
                          for i in np.argsort(-vals)[:10]), flush=True)


def hgp_tau(args: argparse.Namespace) -> None:
    """Kendall tau of `HammingGP` fitted on n random cells, on 1,000 other random cells (3 draws)."""
    for metric in args.metrics:
        table = NB201Table(metric=metric)
        cells, vals = table_arrays(table)
        rng = np.random.default_rng(0)
        for n in (20, 50, 100):
            taus = []
            for _ in range(3):
                pick = rng.permutation(len(cells))
                train, test = pick[:n], pick[n:n + 1000]
                gp = HammingGP(table.space).fit([cells[i] for i in train], vals[train])
                taus.append(float(kendalltau(gp.predict([cells[i] for i in test]), vals[test])[0]))
            print(f"{metric}: HammingGP on {n} random cells, Kendall tau on 1,000 others: "
                  f"{np.mean(taus):.3f} ({', '.join(f'{t:.3f}' for t in taus)}); "
                  f"last fit's position weights {np.round(gp.theta, 2).tolist()}", flush=True)


PROXIES: dict[str, np.ndarray] = {}  # arch -> standardised zero-cost proxies (--proxies)


def variants(args: argparse.Namespace) -> None:
    table = NB201Table(metric=args.metrics[0])
    target = table.best()[1]
    hits: dict[str, list[int]] = {v: [] for v in args.variants}
    for seed in args.seeds:
        for v in args.variants:
            t = time.perf_counter()
            h = run(make(table.space, v, seed), table, args.budget)
            hit = first_hit(h.best_so_far, target)
            hits[v].append(hit if hit is not None else args.budget + 1)
            print(f"seed {seed} {v}: hit {hit}, {time.perf_counter() - t:.1f} s", flush=True)
    print(f"\nseeds {args.seeds}, {args.metrics[0]}, budget {args.budget} (a miss counts {args.budget + 1})")
    print("| variant | queries to the best cell: median / mean / worst | per seed |")
    print("|---|---|---|")
    for v, hs in hits.items():
        per_seed = ", ".join(map(str, hs))
        print(f"| {v} | {statistics.median(hs):g} / {statistics.mean(hs):.1f} / {max(hs)} | {per_seed} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["ceiling", "trace", "variants", "hgp-tau", "additive", "rankers", "noise"],
                   default="ceiling")
    p.add_argument("--metrics", nargs="*", default=["cifar10_test_acc", "cifar10_test_acc_12ep"],
                   help="table columns (trace and variants use the first)")
    p.add_argument("--seeds", type=int, nargs="*", default=[2, 5])
    p.add_argument("--budget", type=int, default=150)
    p.add_argument("--every", type=int, default=3, help="trace: rank over the whole table every this many queries")
    p.add_argument("--variants", nargs="*", default=["base", "yj", "nbr:full_k=3"])
    p.add_argument("--threads", type=int, default=1, help="torch threads for the run")
    p.add_argument("--proxies", nargs="*", default=[], help="zc variant: bench_proxy_prior.py --dump files")
    args = p.parse_args()
    PROXIES.update(load_proxies(args.proxies) if args.proxies else {})
    torch.set_num_threads(args.threads)
    {"ceiling": ceiling, "trace": trace, "variants": variants, "hgp-tau": hgp_tau, "additive": additive,
     "rankers": rankers, "noise": noise}[args.mode](args)


if __name__ == "__main__":
    main()
