"""Self-supervised pre-training of the GNN surrogate: ranking with and without it, on two objectives.

For each training size and split (a random permutation drawn from the split's seed, never chosen),
today's `GNNSurrogate` (defaults, trained from random weights) and the same surrogate fine-tuned from
`graphnas.surrogate.pretrain` weights (pre-trained once on unlabeled ``space.sample`` cells, cached)
are fitted on the same cells in the same process and scored by Kendall tau and Spearman rho on
held-out cells. Two objectives of the packaged NAS-Bench-201 table: the 200-epoch CIFAR-10 test
accuracy (``cifar10_test_acc``) and, as a second objective nothing was tuned on, the 12-epoch
CIFAR-10 test accuracy (``cifar10_test_acc_12ep``).

    python bench/bench_pretrain.py --splits 10                # the full setting of issue 13
    python bench/bench_pretrain.py --splits 3 --test 2000     # the reduced setting run on a loaded 2-core machine
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr

from graphnas.benchmarks import NB201Table
from graphnas.surrogate import GNNSurrogate, pretrain


def fmt(vals):
    return f"{statistics.mean(vals):.3f} ± {statistics.stdev(vals) if len(vals) > 1 else 0:.3f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--metrics", nargs="*", default=["cifar10_test_acc", "cifar10_test_acc_12ep"])
    p.add_argument("--sizes", type=int, nargs="*", default=[25, 50, 100, 200, 400])
    p.add_argument("--splits", type=int, default=10)
    p.add_argument("--first-split", type=int, default=0, help="run splits first-split .. first-split+splits-1")
    p.add_argument("--test", type=int, default=2000)
    p.add_argument("--graphs", type=int, default=1000, help="unlabeled cells for pre-training")
    p.add_argument("--epochs", type=int, default=100, help="pre-training Adam steps")
    p.add_argument("--no-cache", action="store_true", help="pre-train afresh (else the on-disk cache is used)")
    args = p.parse_args()
    torch.set_num_threads(1)
    space = NB201Table().space
    t = time.perf_counter()
    weights = pretrain(space, graphs=args.graphs, epochs=args.epochs, seed=0, cache=not args.no_cache)
    print(f"pre-training ({args.graphs} cells, {args.epochs} steps, or cache hit): {time.perf_counter() - t:.1f} s; "
          f"final masked-op CE {weights['losses'][0]:.3f}, structural MSE {weights['losses'][1]:.3f}")
    for metric in args.metrics:
        table = NB201Table(metric=metric)
        items = list(table.items())
        dags = [space.from_string(arch) for arch, _ in items]
        y = np.array([value for _, value in items])
        print(f"\n{metric}: {len(dags)} cells; {args.splits} splits; {args.test} held-out cells per split")
        print("| train cells | today tau | today rho | pre-trained tau | pre-trained rho "
              "| tau gain (paired) | fit s today / pre-trained |")
        print("|---|---|---|---|---|---|---|")
        for n in args.sizes:
            r: dict[str, list[float]] = {k: [] for k in ("t0", "r0", "s0", "t1", "r1", "s1", "d")}
            for split in range(args.first_split, args.first_split + args.splits):
                perm = np.random.default_rng(1000 + split).permutation(len(dags))
                tr, te = perm[:n], perm[n:n + args.test]
                train, test = [dags[i] for i in tr], [dags[i] for i in te]
                for tag, pre in (("0", None), ("1", weights)):
                    t = time.perf_counter()
                    mean = GNNSurrogate(vocabulary=space.vocabulary, pretrained=pre, trees=0, seed=split) \
                        .fit(train, y[tr]).predict(test)
                    r["s" + tag].append(time.perf_counter() - t)
                    r["t" + tag].append(float(kendalltau(mean, y[te]).statistic))
                    r["r" + tag].append(float(spearmanr(mean, y[te]).statistic))
                r["d"].append(r["t1"][-1] - r["t0"][-1])
                print(f"#raw {metric} n={n} split={split} tau today {r['t0'][-1]:.4f} pre {r['t1'][-1]:.4f} "
                      f"rho today {r['r0'][-1]:.4f} pre {r['r1'][-1]:.4f}", flush=True)
            print(f"| {n} | {fmt(r['t0'])} | {fmt(r['r0'])} | {fmt(r['t1'])} | {fmt(r['r1'])} | {fmt(r['d'])} "
                  f"| {statistics.median(r['s0']):.1f} / {statistics.median(r['s1']):.1f} |", flush=True)


if __name__ == "__main__":
    main()
