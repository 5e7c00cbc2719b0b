"""Why BO needs about 30 queries to NAS-Bench-201's best cell: where that cell stands, and three changes tried.

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
- ``variants``: queries until the best cell for ``base`` (today's default BO) and changes to it:
  ``yj`` (targets Yeo-Johnson power-transformed before the fit, predictions transformed back:
  sklearn's ``PowerTransformer``, HEBO-style output warping) and ``nbr:full_k=K`` (candidates = all 24
  one-edge neighbours of each of the ``K`` best graphs, plus 10 two-step mutations of each of the
  ``top_k`` best, plus the random samples); ``top:frac=F`` (the surrogate is fitted on the best ``F``
  of the evaluations only, at least 10); ``wlgp`` (BO's surrogate replaced by a Gaussian process on
  Weisfeiler-Lehman label counts, NAS-BOWL-style: `WLGP`).

    python bench/bench_bo_probe.py --mode ceiling
    python bench/bench_bo_probe.py --mode trace --seeds 2 5 --every 3
    python bench/bench_bo_probe.py --mode variants --seeds 0 1 2 3 4 5 6 7 8 9 --variants base yj nbr:full_k=3
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from bench_bo import first_hit  # bench/ is on the path when a script in it runs
from scipy.stats import kendalltau
from sklearn.preprocessing import PowerTransformer

from graphnas.benchmarks import NB201Table
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
        print(f"  cells within 0.1 / 0.2 / 0.3 of the best: {[int((vals >= best - d).sum()) for d in (0.1, 0.2, 0.3)]}")


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


def make(space: Any, variant: str, seed: int) -> BayesianOptimization:
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
        raise SystemExit(f"unknown variant {variant!r}: base, yj, nbr:full_k=K, top:frac=F or wlgp")
    return bo


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
    p.add_argument("--mode", choices=["ceiling", "trace", "variants"], default="ceiling")
    p.add_argument("--metrics", nargs="*", default=["cifar10_test_acc", "cifar10_test_acc_12ep"],
                   help="table columns (trace and variants use the first)")
    p.add_argument("--seeds", type=int, nargs="*", default=[2, 5])
    p.add_argument("--budget", type=int, default=150)
    p.add_argument("--every", type=int, default=3, help="trace: rank over the whole table every this many queries")
    p.add_argument("--variants", nargs="*", default=["base", "yj", "nbr:full_k=3"])
    p.add_argument("--threads", type=int, default=1, help="torch threads for the run")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    {"ceiling": ceiling, "trace": trace, "variants": variants}[args.mode](args)


if __name__ == "__main__":
    main()
