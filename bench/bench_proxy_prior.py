"""Zero-cost proxies as a prior for BO's surrogate on NAS-Bench-201: does the ranking from 10-50 cells improve?

Issue 13 asks the surrogate to learn from graphs not evaluated. A zero-cost proxy is such information: a
number computed from the compiled, untrained network of any cell, for a fraction of a second. Two are
computed here for each cell of a seeded pool, on the NAS-Bench-201 network that graphnas compiles
(``graphnas.models.nb201`` at ``C=8, N=1``, then ``graphnas.converters.to_torch``):

- **synflow** (Tanaka et al. 2020, as a NAS proxy in Abdelfattah et al. 2021): every weight replaced by its
  absolute value, float64, an all-ones input, ``R = sum(output)``, the score ``log sum |w * dR/dw|``.
  Batch norm in eval mode with fresh statistics, which makes it an identity (the proxy papers turn BN off);
- **log #params** of the same network.

For each training size and seed, a random draw of the pool trains BO's default surrogate
(`BayesianOptimization.default_surrogate`, cold) two ways, in the same process:

- ``base``: on the scores, as BO does;
- ``prior``: a ridge fit (lambda 1) of the scores on the two standardised proxies, and the surrogate on
  what it leaves (the residuals); the prediction is the ridge's plus the surrogate's;
- and ``proxy``: the ridge fit alone.

Kendall tau on ``--test`` held-out pool cells, mean over seeds, for each metric given.

    python bench/bench_proxy_prior.py --metric cifar10_test_acc --sizes 10 20 50 --seeds 5
    python bench/bench_proxy_prior.py --metric cifar10_test_acc_12ep --sizes 10 20 50 --seeds 5

``--dump FILE`` instead writes both proxies of every cell of the table to a JSON file (``--part i/k``: the
i-th of k slices, to run k processes), which `bench_bo_probe.py --proxies` reads for its ``zc`` variant.

    python bench/bench_proxy_prior.py --dump zc0.json --part 0/2    # and --dump zc1.json --part 1/2 beside it
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
from scipy.stats import kendalltau

from graphnas._torch_rng import local_generator
from graphnas.benchmarks import NB201Table
from graphnas.converters.torch import count_params, to_torch
from graphnas.models import nb201
from graphnas.search import BayesianOptimization


def proxies(arch: str) -> tuple[float, float]:
    """(log synflow, log #params) of ``arch``'s NB201 network at C=8, N=1."""
    with local_generator(torch.Generator().manual_seed(0)):  # a fixed initialisation: the same proxies every run
        net = to_torch(nb201(arch, C=8, N=1)).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net(torch.ones(1, 3, 32, 32, dtype=torch.float64)).sum().backward()
    syn = sum(float((p.detach() * p.grad).abs().sum()) for p in net.parameters() if p.grad is not None)
    return float(np.log(syn + 1e-300)), float(np.log(count_params(net)))


def ridge_weights(feats: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weights ``[intercept, *slopes]`` of a ridge fit (lambda 1, intercept not penalised) of ``y`` on the
    rows of ``feats``; the prediction for features ``f`` is ``w[0] + f @ w[1:]``."""
    X = np.c_[np.ones(len(feats)), feats]
    ridge = np.eye(X.shape[1])
    ridge[0, 0] = 0.0
    return np.linalg.solve(X.T @ X + ridge, X.T @ y)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--metric", default="cifar10_test_acc")
    p.add_argument("--sizes", type=int, nargs="*", default=[10, 20, 50])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--pool", type=int, default=1500, help="cells with proxies (a seeded draw of the table)")
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--dump", default=None, help="write every cell's proxies to this JSON file instead")
    p.add_argument("--part", default="0/1", help="with --dump: the i-th of k slices of the table (i/k)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    table = NB201Table(metric=args.metric)
    archs = [a for a, _ in table.items()]
    if args.dump:
        i, k = map(int, args.part.split("/"))
        with open(args.dump, "w") as fh:
            json.dump({a: proxies(a) for a in archs[i::k]}, fh)
        return
    pool = [archs[i] for i in np.random.default_rng(1).permutation(len(archs))[: args.pool]]
    t = time.perf_counter()
    feats = np.array([proxies(a) for a in pool])
    print(f"proxies of {len(pool)} cells: {time.perf_counter() - t:.0f} s "
          f"({1000 * (time.perf_counter() - t) / len(pool):.0f} ms a cell)", flush=True)
    y = np.array([float(table(a)) for a in pool])
    for j, name in enumerate(("synflow", "log #params")):
        print(f"{name}: Kendall tau with {args.metric} over the pool {kendalltau(feats[:, j], y)[0]:.3f}")
    z = (feats - feats.mean(axis=0)) / feats.std(axis=0)
    space = table.space
    dags = [space.from_string(a) for a in pool]
    print(f"\n{args.metric}, Kendall tau on {args.test} held-out pool cells, mean over {args.seeds} seeds")
    print("| training cells | base | prior | proxy | prior > base in |")
    print("|---|---|---|---|---|")
    for n in args.sizes:
        taus: dict[str, list[float]] = {"base": [], "prior": [], "proxy": []}
        for seed in range(args.seeds):
            order = np.random.default_rng(100 + seed).permutation(len(pool))
            tr, te = order[:n], order[n:n + args.test]
            w = ridge_weights(z[tr], y[tr])
            prior = w[0] + z @ w[1:]
            for kind, target in (("base", y[tr]), ("prior", y[tr] - prior[tr])):
                model = BayesianOptimization.default_surrogate(space, seed=seed)
                model.set_params(warm_start=False)
                model.fit([dags[i] for i in tr], target)
                pred = np.asarray(model.predict([dags[i] for i in te]))
                if kind == "prior":
                    pred = pred + prior[te]
                taus[kind].append(float(kendalltau(pred, y[te])[0]))
            taus["proxy"].append(float(kendalltau(prior[te], y[te])[0]))
        wins = sum(a > b for a, b in zip(taus["prior"], taus["base"], strict=True))
        print(f"| {n} | {statistics.mean(taus['base']):.3f} | {statistics.mean(taus['prior']):.3f} | "
              f"{statistics.mean(taus['proxy']):.3f} | {wins}/{args.seeds} |", flush=True)


if __name__ == "__main__":
    main()
