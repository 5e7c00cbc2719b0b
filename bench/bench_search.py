"""Search on NAS-Bench-201 CIFAR-10 (table lookups): random search vs regularized evolution vs GNN-guided BO.

Prints, per optimiser, the mean +- std over seeds of the best test accuracy after 25/50/100/150 queries,
the wall-clock of whole runs and the time of each BO step against the number of evaluations so far.
Each seed's results are appended to a JSON-lines file as they finish, so a long run can be read before it ends
(``--summary-only`` prints the table from that file). Item 7 of the issue (BO on NAS-Bench-101 cells with a
synthetic structural objective) runs with ``--space nb101``.

    python bench/bench_search.py --seeds 25 --out bench/search_nb201.jsonl
    python bench/bench_search.py --space nb101 --seeds 25 --budget 100 --out bench/search_nb101.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import torch

from graphnas.search import BayesianOptimization, RandomSearch, RegularizedEvolution, run

CHECKPOINTS = (25, 50, 100, 150)


def nb101_objective(dag) -> float:
    """Synthetic, structural: 3x3 convs and depth score, pooling and extra edges cost (same as the test)."""
    convs = sum(n.op == "conv3x3-bn-relu" for n in dag.nodes)
    pools = sum(n.op == "maxpool3x3" for n in dag.nodes)
    return convs + 0.7 * dag.depth() - 0.5 * pools - 0.3 * abs(dag.num_edges - dag.depth())


def optimizers(space, seed: int) -> dict:
    return {
        "RandomSearch": RandomSearch(space, seed=seed),
        "RegularizedEvolution": RegularizedEvolution(space, population=20, sample_size=5, seed=seed),
        "BO (ei, refit every 3)": BayesianOptimization(space, acquisition="ei", refit_every=3, seed=seed),
        "BO (ei, refit every step)": BayesianOptimization(space, acquisition="ei", refit_every=1, seed=seed),
    }


def one_seed(space, objective, seed: int, budget: int, methods: list[str] | None) -> dict:
    out = {"seed": seed}
    for name, opt in optimizers(space, seed).items():
        if methods and name not in methods:
            continue
        steps: list[tuple[int, float]] = []
        ask = opt.ask

        def timed_ask(n: int = 1, _ask=ask, _opt=opt, _steps=steps) -> list:
            t = time.perf_counter()
            res = _ask(n)
            _steps.append((len(_opt.history), time.perf_counter() - t))
            return res

        opt.ask = timed_ask  # type: ignore[method-assign]
        start = time.perf_counter()
        h = run(opt, objective, budget)
        out[name] = {"best_so_far": h.best_so_far, "seconds": time.perf_counter() - start, "steps": steps}
    return out


def summarise(rows: list[dict], budget: int) -> None:
    names = [k for k in rows[0] if k != "seed"]
    cps = [c for c in CHECKPOINTS if c <= budget]
    print(f"{len(rows)} seeds: {sorted(r['seed'] for r in rows)[:3]}...")
    print("| optimiser | " + " | ".join(f"best after {c}" for c in cps) + " | s per run (median) |")
    print("|---|" + "---|" * (len(cps) + 1))
    for name in names:
        cells = []
        for c in cps:
            vals = [r[name]["best_so_far"][c - 1] for r in rows if name in r]
            cells.append(f"{statistics.mean(vals):.2f} ± {statistics.stdev(vals) if len(vals) > 1 else 0:.2f}")
        secs = statistics.median(r[name]["seconds"] for r in rows if name in r)
        print(f"| {name} | " + " | ".join(cells) + f" | {secs:.1f} |")
    for name in names:
        if not name.startswith("BO"):
            continue
        print(f"\n{name}: median seconds per step (ask incl. surrogate fit) by evaluations so far")
        bins = [(0, 10), (10, 25), (25, 50), (50, 100), (100, 150), (150, 250), (250, 400), (400, 10**9)]
        for lo, hi in bins:
            vals = [s for r in rows if name in r for n, s in r[name]["steps"] if lo <= n < hi]
            if vals:
                print(f"  {lo:>3}-{min(hi, budget):<3} evaluations: {statistics.median(vals) * 1e3:7.1f} ms "
                      f"(p90 {sorted(vals)[int(0.9 * (len(vals) - 1))] * 1e3:.1f} ms, {len(vals)} steps)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--table", default=None, help="a NAS-Bench-201 CSV table (default: the packaged one)")
    p.add_argument("--metric", default=None, help="the table's metric column (default: 200-epoch test accuracy)")
    p.add_argument("--space", choices=["nb201", "nb101"], default="nb201")
    p.add_argument("--seeds", type=int, default=25)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--budget", type=int, default=150)
    p.add_argument("--methods", nargs="*", default=None)
    p.add_argument("--out", default=None, help="JSON-lines file: one line per seed, appended as it finishes")
    p.add_argument("--summary-only", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    rows: list[dict] = []
    if args.out and os.path.exists(args.out):
        with open(args.out) as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    if not args.summary_only:
        if args.space == "nb201":
            from graphnas.benchmarks import NB201Table

            objective = NB201Table(args.table, metric=args.metric)
            space = objective.space
            print(f"{objective!r}, optimum {objective.best()[1]}")
        else:
            from graphnas.generators import NB101Space

            space, objective = NB101Space(), nb101_objective
        done = {r["seed"] for r in rows}
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            if seed in done:
                continue
            row = one_seed(space, objective, seed, args.budget, args.methods)
            rows.append(row)
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
            print(f"seed {seed}: " + ", ".join(f"{k} {v['best_so_far'][-1]:.2f} ({v['seconds']:.1f}s)"
                                               for k, v in row.items() if k != "seed"), flush=True)
    summarise(rows, args.budget)


if __name__ == "__main__":
    main()
