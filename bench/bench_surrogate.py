"""GNN surrogate on NAS-Bench-201 CIFAR-10: ranking quality against training-set size, and prediction speed.

For each training size and seed, a random split (drawn from the seed, never chosen) trains
``GNNSurrogate`` (defaults) and, side by side in the same process, a baseline: a quickly written
3-layer GIN ensemble (PyG ``GINConv`` over forward edges, one-hot ops from ``graphnas.to_pyg``, sum
pooling, MSE only). Both are scored by Kendall tau and Spearman rho on 2,000 held-out cells.
Then the surrogate (fitted on 400 cells) predicts all 15,625 cells in one call: time, graphs/s, memory.

    python bench/bench_surrogate.py --seeds 5               # the packaged NAS-Bench-201 table
    python bench/bench_surrogate.py --table my_table.csv     # any table with 'arch' and 'cifar10_test_acc'

``--trees`` (issue 13) instead measures what the Weisfeiler-Lehman tree members add: on two objectives
of the packaged table (200-epoch CIFAR-10 accuracy, developed on, and 12-epoch accuracy, not tuned on),
for each split and size one `GNNSurrogate` (defaults: 5 GNN + 5 tree members) is fitted; "GNN only"
is its 5 GNN members, which are exactly what ``GNNSurrogate(trees=0)`` with the same seed predicts
(the trees are fitted after the GNN and draw from no generator of it; tests/test_surrogate.py checks
this). Kendall tau, Spearman rho and the share of held-out cells within +-1 / +-2 member stds, for
both; then fit times at 100 cells with and without the trees.

    python bench/bench_surrogate.py --trees --seeds 10                 # the full setting of issue 13
    python bench/bench_surrogate.py --trees --seeds 3                  # the reduced setting

``--live`` (issue 13) compares the default surrogate with messages over each graph's live part
(``live_only=True``: the nodes on an input-to-output path that avoids the zero op, see
`graphnas.converters.Featurizer.live_part`) against the same surrogate on the whole graph, same
splits and seeds, on the same two objectives; the GNN members alone as well.

    python bench/bench_surrogate.py --live --seeds 10
    python bench/bench_surrogate.py --live --metrics cifar10_test_acc_12ep --sizes 25 50 100 --first-seed 5 --seeds 5

``--variants`` (issue 13) compares settings of the default surrogate on the same splits and seeds, on the
same two objectives: ``default`` is `GNNSurrogate`'s defaults, ``key=value,...`` sets `GNNSurrogate`
parameters (values in JSON), ``t.key=value`` those of its `WLTrees` members (e.g. ``t.iterations=3``).
Each variant's tau, its paired gain over the first variant listed and on how many splits it was higher.

    python bench/bench_surrogate.py --variants default layers=4 t.iterations=3 --sizes 50 100 --seeds 4

With ``--space nb101`` the variants are compared on NB101 cells instead (a third objective that no setting
was tuned on): ``--test`` + the largest size distinct cells sampled from `NB101Space` (seeded), scored by
`bench_search.py`'s synthetic structural objective.

    python bench/bench_surrogate.py --variants rank_weight=1 rank_weight=2 --space nb101 --sizes 25 50 100 --seeds 10
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr

from graphnas.benchmarks import NB201Table
from graphnas.surrogate import GNNSurrogate


class BaselineGIN:
    """The comparison point: 5 independent 3-layer forward-only GINs (PyG), mean of their predictions."""

    def __init__(self, vocabulary, members=5, hidden=32, epochs=250, lr=5e-3, seed=0):
        self.vocab, self.members, self.hidden, self.epochs, self.lr, self.seed = \
            list(vocabulary), members, hidden, epochs, lr, seed

    def _batch(self, dags):
        from torch_geometric.data import Batch, Data

        from graphnas.converters.pyg import to_pyg

        datas = []
        for d in dags:
            data = to_pyg(d, self.vocab)
            # the baseline sees the op one-hot only (columns 1.., column 0 being "unknown op") and every edge
            datas.append(Data(x=data.x[:, 1:len(self.vocab) + 1], edge_index=data.dag_edge_index))
        return Batch.from_data_list(datas)

    def _net(self):
        from torch import nn
        from torch_geometric.nn import GINConv, global_add_pool

        h = self.hidden

        class Net(nn.Module):
            def __init__(self, f):
                super().__init__()
                self.convs = nn.ModuleList(GINConv(nn.Sequential(nn.Linear(f if i == 0 else h, h), nn.ReLU(),
                                                                 nn.Linear(h, h))) for i in range(3))
                self.head = nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1))

            def forward(self, b):
                x = b.x
                for conv in self.convs:
                    x = torch.relu(conv(x, b.edge_index))
                return self.head(global_add_pool(x, b.batch)).squeeze(-1)

        return Net(len(self.vocab))

    def fit(self, dags, y):
        torch.manual_seed(self.seed)
        b = self._batch(dags)
        self.mu, self.sd = float(np.mean(y)), float(np.std(y)) or 1.0
        z = torch.tensor((np.asarray(y) - self.mu) / self.sd, dtype=torch.float32)
        self.nets = []
        for _ in range(self.members):
            net = self._net()
            opt = torch.optim.Adam(net.parameters(), lr=self.lr)
            for _ in range(self.epochs):
                opt.zero_grad()
                loss = ((net(b) - z) ** 2).mean()
                loss.backward()
                opt.step()
            self.nets.append(net.eval())
        return self

    @torch.no_grad()
    def predict(self, dags):
        b = self._batch(dags)
        return np.mean([net(b).numpy() for net in self.nets], axis=0) * self.sd + self.mu


def load(path, metric="cifar10_test_acc"):
    table = NB201Table(path, metric=metric)  # path None: the table packaged with graphnas
    space = table.space
    dags = [space.from_string(arch) for arch, _ in table.items()]
    y = np.array([value for _, value in table.items()])
    return space, dags, y


def split(count, seed, n, test):
    """Split ``seed``'s training and held-out indices: a seeded permutation's first ``n`` and next ``test``."""
    perm = np.random.default_rng(1000 + seed).permutation(count)
    return perm[:n], perm[n:n + test]


def table_head(metric, count, seeds, test, columns):
    """Print a metric's line and the header of its Markdown table."""
    print(f"\n{metric}: {count} cells; splits {seeds.start}-{seeds.stop - 1}; {test} held-out cells")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))


def fmt(vals):
    return f"{statistics.mean(vals):.3f} ± {statistics.stdev(vals) if len(vals) > 1 else 0:.3f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--table", default=None, help="a NAS-Bench-201 CSV table (default: the packaged one)")
    p.add_argument("--metric", default="cifar10_test_acc", help="the table's column to predict")
    p.add_argument("--sizes", type=int, nargs="*", default=[50, 100, 200, 400, 1000])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--test", type=int, default=2000)
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--trees", action="store_true",
                   help="GNN + WL tree members against the GNN members alone, on two objectives (issue 13)")
    p.add_argument("--live", action="store_true",
                   help="the default surrogate on each graph's live part (live_only=True) against the whole graph, "
                        "on two objectives (issue 13)")
    p.add_argument("--metrics", nargs="*", default=["cifar10_test_acc", "cifar10_test_acc_12ep"],
                   help="with --live: the table's columns to predict, one after the other")
    p.add_argument("--first-seed", type=int, default=0,
                   help="with --trees or --live: splits first-seed .. first-seed+seeds-1")
    p.add_argument("--variants", nargs="*", default=None,
                   help="compare these settings of the default surrogate (default, key=value,..., t.key=value)")
    p.add_argument("--space", choices=["nb201", "nb101"], default="nb201",
                   help="with --variants: NB201's table columns (--metrics) or NB101 cells with a structural objective")
    p.add_argument("--calibration-only", action="store_true",
                   help="only measure how often held-out values fall within mean +- 1 and 2 ensemble stds")
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.trees:
        trees_table(args)
        return
    if args.live:
        live_table(args)
        return
    if args.variants:
        variants_table(args)
        return
    space, dags, y = load(args.table, args.metric)
    if args.calibration_only:
        calibration(space, dags, y, args)
        return
    vocab = list(space.vocabulary) + ["input", "identity"]
    print(f"{len(dags)} cells; sizes {args.sizes}; {args.seeds} seeds; {args.test} held-out cells per split")
    print("| train cells | GNNSurrogate tau | GNNSurrogate rho | fit s | baseline GIN tau | baseline rho | fit s |")
    print("|---|---|---|---|---|---|---|")
    for n in args.sizes:
        res: dict[str, list[float]] = {k: [] for k in ("t", "r", "s", "bt", "br", "bs")}
        for seed in range(args.seeds):
            perm = np.random.default_rng(1000 + seed).permutation(len(dags))
            tr, te = perm[:n], perm[n:n + args.test]
            train, test = [dags[i] for i in tr], [dags[i] for i in te]
            t = time.perf_counter()
            mean = GNNSurrogate(vocabulary=space.vocabulary, seed=seed).fit(train, y[tr]).predict(test)
            res["s"].append(time.perf_counter() - t)
            res["t"].append(kendalltau(mean, y[te]).statistic)
            res["r"].append(spearmanr(mean, y[te]).statistic)
            if not args.no_baseline:
                t = time.perf_counter()
                pred = BaselineGIN(vocab, seed=seed).fit(train, y[tr]).predict(test)
                res["bs"].append(time.perf_counter() - t)
                res["bt"].append(kendalltau(pred, y[te]).statistic)
                res["br"].append(spearmanr(pred, y[te]).statistic)
        base = (f"{fmt(res['bt'])} | {fmt(res['br'])} | {statistics.median(res['bs']):.1f}"
                if res["bt"] else "- | - | -")
        print(f"| {n} | {fmt(res['t'])} | {fmt(res['r'])} | {statistics.median(res['s']):.1f} | {base} |",
              flush=True)

    # -- prediction speed and memory on the whole space ---------------------------------------
    perm = np.random.default_rng(7).permutation(len(dags))
    model = GNNSurrogate(vocabulary=space.vocabulary, seed=0).fit([dags[i] for i in perm[:400]], y[perm[:400]])
    fresh = [space.from_string(space.to_string(d)) for d in dags]  # new objects: no cached features
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    mean, std = model.predict(fresh, return_std=True)
    cold = time.perf_counter() - t
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    warm = []
    for _ in range(3):
        t = time.perf_counter()
        model.predict(fresh)
        warm.append(time.perf_counter() - t)
    tau_all = kendalltau(mean, y).statistic
    print(f"\npredict all {len(fresh)} cells in one call (default surrogate: GNN + tree members, 1 thread):")
    print(f"  first call (featurise + forward): {cold:.2f} s = {len(fresh) / cold:,.0f} graphs/s")
    print(f"  again (features cached): median {statistics.median(warm):.2f} s = "
          f"{len(fresh) / statistics.median(warm):,.0f} graphs/s")
    print(f"  peak RSS grew by {(rss1 - rss0) / 1024:.0f} MiB during the call (process peak {rss1 / 1024:.0f} MiB)")
    print(f"  Kendall tau on all cells, trained on 400: {tau_all:.3f}")


def trees_table(args) -> None:
    """Issue 13: tau, rho and std coverage of the default surrogate (GNN + tree members) and of its GNN members."""
    sizes = args.sizes if args.sizes != [50, 100, 200, 400, 1000] else [25, 50, 100, 200, 400]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for metric in ("cifar10_test_acc", "cifar10_test_acc_12ep"):
        space, dags, y = load(args.table, metric)
        table_head(metric, len(dags), seeds, args.test,
                   ["train cells", "GNN only tau", "GNN only rho", "GNN + trees tau", "GNN + trees rho",
                    "tau gain (paired)", "within 1 / 2 std, GNN only", "within 1 / 2 std, GNN + trees",
                    "fit+predict s"])
        for n in sizes:
            r: dict[str, list[float]] = {}
            for seed in seeds:
                tr, te = split(len(dags), seed, n, args.test)
                t = time.perf_counter()
                model = GNNSurrogate(vocabulary=space.vocabulary, seed=seed).fit([dags[i] for i in tr], y[tr])
                members = model.predict_members([dags[i] for i in te])
                r.setdefault("s", []).append(time.perf_counter() - t)
                for tag, m in (("0", members[:model.ensemble]), ("1", members)):
                    mean, std = m.mean(axis=0), m.std(axis=0)
                    err = np.abs(mean - y[te])
                    r.setdefault("t" + tag, []).append(float(kendalltau(mean, y[te]).statistic))
                    r.setdefault("r" + tag, []).append(float(spearmanr(mean, y[te]).statistic))
                    r.setdefault("c" + tag, []).append(float(np.mean(err <= std)))
                    r.setdefault("d" + tag, []).append(float(np.mean(err <= 2 * std)))
                r.setdefault("g", []).append(r["t1"][-1] - r["t0"][-1])
                print(f"#raw {metric} n={n} split={seed} tau gnn {r['t0'][-1]:.4f} both {r['t1'][-1]:.4f} "
                      f"rho gnn {r['r0'][-1]:.4f} both {r['r1'][-1]:.4f}", flush=True)
            print(f"| {n} | {fmt(r['t0'])} | {fmt(r['r0'])} | {fmt(r['t1'])} | {fmt(r['r1'])} | {fmt(r['g'])} "
                  f"| {statistics.mean(r['c0']):.0%} / {statistics.mean(r['d0']):.0%} "
                  f"| {statistics.mean(r['c1']):.0%} / {statistics.mean(r['d1']):.0%} "
                  f"| {statistics.median(r['s']):.1f} |", flush=True)
    space, dags, y = load(args.table, "cifar10_test_acc")
    print("\nfit time at 100 cells (median over the splits; fit only):")
    for trees in (0, 5):
        times = []
        for seed in seeds:
            tr = np.random.default_rng(1000 + seed).permutation(len(dags))[:100]
            t = time.perf_counter()
            GNNSurrogate(vocabulary=space.vocabulary, trees=trees, seed=seed).fit([dags[i] for i in tr], y[tr])
            times.append(time.perf_counter() - t)
        print(f"  trees={trees}: {statistics.median(times):.2f} s", flush=True)


def live_table(args) -> None:
    """Issue 13: the default surrogate with messages over each graph's live part (``live_only=True``) against
    the whole graph, the same splits and seeds, on two objectives; also their GNN members alone."""
    sizes = args.sizes if args.sizes != [50, 100, 200, 400, 1000] else [25, 50, 100, 200]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for metric in args.metrics:
        space, dags, y = load(args.table, metric)
        table_head(metric, len(dags), seeds, args.test,
                   ["train cells", "whole graph: tau (GNN + trees)", "live part: tau (GNN + trees)", "gain (paired)",
                    "whole graph: GNN only", "live part: GNN only", "gain (paired)", "rho, whole / live",
                    "fit s, whole / live"])
        for n in sizes:
            r: dict[str, list[float]] = {}
            for seed in seeds:
                tr, te = split(len(dags), seed, n, args.test)
                for tag, live in (("w", False), ("l", True)):
                    t = time.perf_counter()
                    model = GNNSurrogate(vocabulary=space.vocabulary, live_only=live, seed=seed).fit(
                        [dags[i] for i in tr], y[tr])
                    r.setdefault("s" + tag, []).append(time.perf_counter() - t)
                    members = model.predict_members([dags[i] for i in te])
                    mean = members.mean(axis=0)
                    r.setdefault("t" + tag, []).append(float(kendalltau(mean, y[te]).statistic))
                    r.setdefault("g" + tag, []).append(
                        float(kendalltau(members[:model.ensemble].mean(axis=0), y[te]).statistic))
                    r.setdefault("r" + tag, []).append(float(spearmanr(mean, y[te]).statistic))
                r.setdefault("dt", []).append(r["tl"][-1] - r["tw"][-1])
                r.setdefault("dg", []).append(r["gl"][-1] - r["gw"][-1])
                print(f"#raw {metric} n={n} split={seed} tau whole {r['tw'][-1]:.4f} live {r['tl'][-1]:.4f} "
                      f"gnn whole {r['gw'][-1]:.4f} live {r['gl'][-1]:.4f}", flush=True)
            better = sum(d > 0 for d in r["dt"])
            print(f"| {n} | {fmt(r['tw'])} | {fmt(r['tl'])} | {fmt(r['dt'])} ({better}/{len(r['dt'])} splits) "
                  f"| {fmt(r['gw'])} | {fmt(r['gl'])} | {fmt(r['dg'])} "
                  f"| {statistics.mean(r['rw']):.3f} / {statistics.mean(r['rl']):.3f} "
                  f"| {statistics.median(r['sw']):.1f} / {statistics.median(r['sl']):.1f} |", flush=True)


def variant_model(space, variant, seed):
    """The default surrogate with ``variant``'s settings (``default``, or ``key=value,...``; ``t.`` keys go to the
    tree members)."""
    import functools

    from bench_bo import overrides  # bench/ is on the path when a script in it runs

    from graphnas.surrogate import gnn

    kw, tkw = overrides(variant, "t.") if variant != "default" else ({}, {})
    model = GNNSurrogate(vocabulary=space.vocabulary, seed=seed, **kw)
    if tkw:  # the tree members are made in fit: this instance makes them with the changed settings
        def fit_trees(dags, z, s, warm, _m=model):
            gnn.WLTrees, saved = functools.partial(gnn.WLTrees, **tkw), gnn.WLTrees
            try:
                return GNNSurrogate._fit_trees(_m, dags, z, s, warm)
            finally:
                gnn.WLTrees = saved
        model._fit_trees = fit_trees
    return model


def nb101_cells(count, seed=0):
    """``count`` distinct NB101 cells sampled from ``seed`` on, and `bench_search.nb101_objective` of each."""
    from bench_search import nb101_objective  # bench/ is on the path when a script in it runs

    from graphnas.generators import NB101Space

    space, dags, seen = NB101Space(), [], set()
    while len(dags) < count:
        d = space.sample(seed)
        seed += 1
        if d.canonical_key() not in seen:
            seen.add(d.canonical_key())
            dags.append(d)
    return space, dags, np.array([nb101_objective(d) for d in dags])


def variants_table(args) -> None:
    """Issue 13: tau of the default surrogate and of changed settings, same splits and seeds, on two objectives."""
    sizes = args.sizes if args.sizes != [50, 100, 200, 400, 1000] else [25, 50, 100]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for metric in args.metrics if args.space == "nb201" else ["NB101 structural objective"]:
        space, dags, y = load(args.table, metric) if args.space == "nb201" else nb101_cells(args.test + max(sizes))
        table_head(metric, len(dags), seeds, args.test,
                   ["train cells", "variant", "tau (mean ± sd)", f"gain over {args.variants[0]} (paired)",
                    "splits higher", "rho", "fit s"])
        for n in sizes:
            r: dict[str, dict[str, list[float]]] = {v: {"t": [], "r": [], "s": []} for v in args.variants}
            for seed in seeds:
                tr, te = split(len(dags), seed, n, args.test)
                for v in args.variants:
                    t = time.perf_counter()
                    model = variant_model(space, v, seed).fit([dags[i] for i in tr], y[tr])
                    r[v]["s"].append(time.perf_counter() - t)
                    mean = model.predict([dags[i] for i in te])
                    r[v]["t"].append(float(kendalltau(mean, y[te]).statistic))
                    r[v]["r"].append(float(spearmanr(mean, y[te]).statistic))
                taus = " ".join(f"{v} {r[v]['t'][-1]:.4f}" for v in args.variants)
                print(f"#raw {metric} n={n} split={seed} {taus}", flush=True)
            base = r[args.variants[0]]["t"]  # the first variant is the baseline
            for v in args.variants:
                gain = [a - b for a, b in zip(r[v]["t"], base)]
                print(f"| {n} | {v} | {fmt(r[v]['t'])} | {fmt(gain)} "
                      f"| {sum(g > 0 for g in gain)}/{len(gain)} | {statistics.mean(r[v]['r']):.3f} "
                      f"| {statistics.median(r[v]['s']):.1f} |", flush=True)


def calibration(space, dags, y, args) -> None:
    """Coverage of the ensemble's mean +- k std on held-out cells, and whether larger std means larger error."""
    print("| train cells | within 1 std (68% if calibrated) | within 2 std (95%) | Spearman(std, abs error) "
          "| after calibrate() on 100 other cells: within 1 std | within 2 std |")
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        c1, c2, rho, k1, k2 = [], [], [], [], []
        for seed in range(args.seeds):
            perm = np.random.default_rng(1000 + seed).permutation(len(dags))
            tr, te = perm[:n], perm[n:n + args.test]
            model = GNNSurrogate(vocabulary=space.vocabulary, seed=seed).fit([dags[i] for i in tr], y[tr])
            mean, std = model.predict([dags[i] for i in te], return_std=True)
            err = np.abs(mean - y[te])
            c1.append(float(np.mean(err <= std)))
            c2.append(float(np.mean(err <= 2 * std)))
            rho.append(spearmanr(std, err).statistic)
            cal = perm[n + args.test:n + args.test + 100]  # neither training nor test cells
            model.calibrate([dags[i] for i in cal], y[cal])
            _, std = model.predict([dags[i] for i in te], return_std=True)
            k1.append(float(np.mean(err <= std)))
            k2.append(float(np.mean(err <= 2 * std)))
        print(f"| {n} | {fmt(c1)} | {fmt(c2)} | {fmt(rho)} | {fmt(k1)} | {fmt(k2)} |", flush=True)


if __name__ == "__main__":
    main()
