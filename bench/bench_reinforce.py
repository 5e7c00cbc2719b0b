"""REINFORCE (NAS-RL / NASNet controller) beside random search, regularized evolution and BO.

Modes (``--mode``):

- ``nb201``: NAS-Bench-201 CIFAR-10 table lookups, best test accuracy after 50/100/150/300 queries,
  mean ± std over seeds; one JSON line per seed appended to ``--out`` as it finishes.
- ``nb101``: the NB101 space with the synthetic structural objective of ``bench_search.py``.
- ``tune``: a small grid of learning rates / entropy weights for both policies on a few seeds.
- ``cost``: controller time (ask + tell) per architecture at batch 1 and 16 on NB201.
- ``chain``: a NAS-RL search over ``ChainSpace`` with real training on digits; writes the trajectory PNG.

    python bench/bench_reinforce.py --mode nb201 --seeds 25 --out r.jsonl
    python bench/bench_reinforce.py --mode nb201 --methods BO --bo-budget 150 --workers 2 --out r.jsonl
    python bench/bench_reinforce.py --mode cost
    git show 8e15270:graphnas/search/reinforce.py > old_reinforce.py    # the first implementation
    python bench/bench_reinforce.py --mode cost --baseline old_reinforce.py
    python bench/bench_reinforce.py --mode chain --budget 30 --png docs/img/reinforce-chain.png

``nb201`` and ``tune`` read the packaged NAS-Bench-201 CIFAR-10 table (``graphnas.benchmarks.NB201Table()``);
``--table PATH`` reads another CSV of the same form instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import torch

from graphnas.search import BayesianOptimization, RandomSearch, RegularizedEvolution, Reinforce, run

CHECKPOINTS = (50, 100, 150, 300)
#: tuned with --mode tune on seeds 100-104 (not the reported seeds)
LSTM = {"policy": "lstm", "lr": 0.01, "entropy_weight": 1e-4, "baseline_decay": 0.9}
INDEPENDENT = {"policy": "independent", "lr": 0.03, "entropy_weight": 1e-4, "baseline_decay": 0.9}


def nb101_objective(dag) -> float:
    convs = sum(n.op == "conv3x3-bn-relu" for n in dag.nodes)
    pools = sum(n.op == "maxpool3x3" for n in dag.nodes)
    return convs + 0.7 * dag.depth() - 0.5 * pools - 0.3 * abs(dag.num_edges - dag.depth())


def make(name: str, space, seed: int, lstm: dict, indep: dict):
    if name == "Reinforce (LSTM)":
        return Reinforce(space, seed=seed, **lstm)
    if name == "Reinforce (independent)":
        return Reinforce(space, seed=seed, **indep)
    if name == "RandomSearch":
        return RandomSearch(space, seed=seed)
    if name == "RegularizedEvolution":
        return RegularizedEvolution(space, population=20, sample_size=5, seed=seed)
    if name == "BO":
        return BayesianOptimization(space, acquisition="ei", refit_every=3, seed=seed)
    raise ValueError(name)


def objective_and_space(mode: str, table: str | None):
    if mode == "nb201":
        from graphnas.benchmarks import NB201Table

        obj = NB201Table() if table is None else NB201Table(table)
        return obj.space, obj
    from graphnas.generators import NB101Space

    return NB101Space(), nb101_objective


def one_seed(args: tuple) -> dict:
    mode, table, seed, budget, bo_budget, methods, lstm, indep = args
    torch.set_num_threads(1)
    space, objective = objective_and_space(mode, table)
    out: dict = {"seed": seed}
    for name in methods:
        b = bo_budget if name == "BO" else budget
        opt = make(name, space, seed, lstm, indep)
        start = time.perf_counter()
        h = run(opt, objective, b)
        out[name] = {"best_so_far": h.best_so_far, "seconds": time.perf_counter() - start}
    return out


def summarise(rows: list[dict], budget: int) -> None:
    names = sorted({k for r in rows for k in r if k != "seed"}, key=lambda n: ALL.index(n) if n in ALL else 99)
    print(f"{len(rows)} seeds")
    cps = [c for c in CHECKPOINTS if c <= budget]
    print("| optimiser | seeds | " + " | ".join(f"best after {c}" for c in cps) + " | s per run (median) |")
    print("|---|---|" + "---|" * (len(cps) + 1))
    for name in names:
        have = [r[name] for r in rows if name in r]
        cells = []
        for c in cps:
            vals = [h["best_so_far"][c - 1] for h in have if len(h["best_so_far"]) >= c]
            cells.append(f"{statistics.mean(vals):.2f} ± {statistics.stdev(vals):.2f}" if len(vals) > 1 else "–")
        secs = statistics.median(h["seconds"] for h in have)
        print(f"| {name} | {len(have)} | " + " | ".join(cells) + f" | {secs:.1f} |")


ALL = ["Reinforce (LSTM)", "Reinforce (independent)", "RandomSearch", "RegularizedEvolution", "BO"]


def search(args) -> None:
    rows: list[dict] = []
    if args.out and os.path.exists(args.out):
        with open(args.out) as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    if not args.summary_only:
        methods = args.methods or ALL[:4]
        done = {(r["seed"], m) for r in rows for m in r if m != "seed"}
        jobs = [(args.mode, args.table, s, args.budget, args.bo_budget, [m for m in methods if (s, m) not in done],
                 LSTM, INDEPENDENT) for s in range(args.first_seed, args.first_seed + args.seeds)]
        jobs = [j for j in jobs if j[5]]
        with ProcessPoolExecutor(args.workers) as pool:
            for row in pool.map(one_seed, jobs):
                rows.append(row)
                if args.out:
                    with open(args.out, "a") as fh:
                        fh.write(json.dumps(row) + "\n")
                print(f"seed {row['seed']}: " + ", ".join(f"{k} {v['best_so_far'][-1]:.2f} ({v['seconds']:.1f}s)"
                                                         for k, v in row.items() if k != "seed"), flush=True)
    merged: dict[int, dict] = {}
    for r in rows:
        merged.setdefault(r["seed"], {}).update(r)
    summarise(list(merged.values()), args.budget)


def tune(args) -> None:
    torch.set_num_threads(1)
    space, objective = objective_and_space("nb201", args.table)
    seeds = range(100, 100 + args.seeds)
    for policy in ("lstm", "independent"):
        for lr in ((0.003, 0.01, 0.03) if policy == "lstm" else (0.03, 0.1, 0.3)):
            for ent in (1e-4, 1e-2):
                res = [run(Reinforce(space, seed=s, policy=policy, lr=lr, entropy_weight=ent), objective, 150)
                       .best_so_far for s in seeds]
                after = {c: statistics.mean(r[c - 1] for r in res) for c in (100, 150)}
                print(f"{policy:11s} lr {lr:<6} entropy {ent:<6}: after 100 {after[100]:.2f}, "
                      f"after 150 {after[150]:.2f}", flush=True)


def load_baseline(path: str):
    """An older ``graphnas/search/reinforce.py`` (e.g. ``git show REV:graphnas/search/reinforce.py > old.py``) as a
    module of its own, without registering its optimiser again, to time it beside the current one."""
    import types

    with open(path) as fh:
        source = fh.read().replace('@register_optimizer("reinforce")\n', "")
    module = types.ModuleType("reinforce_baseline")
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def cost(args) -> None:
    from graphnas.generators import NB201Space
    from graphnas.search import reinforce

    torch.set_num_threads(1)
    space = NB201Space()
    impls = [("current", reinforce.Reinforce)]
    if args.baseline:
        impls.insert(0, ("baseline", load_baseline(args.baseline).Reinforce))

    def measure(cls, policy: str, batch: int, n: int = 320) -> tuple[float, float]:
        opt = cls(space, seed=0, policy=policy)
        done = 0
        start = time.perf_counter()
        while done < n:
            dags = opt.ask(batch)
            for d in dags:
                opt.tell(d, float(len(set(x.op for x in d.nodes))))
            done += len(dags)
        t_all = (time.perf_counter() - start) / done
        # the controller alone (sample + update), from a fresh controller
        c = cls(space, seed=0, policy=policy).controller
        start = time.perf_counter()
        for _ in range(n // batch):
            c.update([1.0] * batch, c.sample(batch))
        return (time.perf_counter() - start) / (n // batch * batch), t_all

    for _, cls in impls:  # warm up: torch's lazy imports and first-call costs
        measure(cls, "lstm", 1, 40)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| implementation | policy | batch | controller ms/arch (sample + update) | "
          "ask+tell ms/arch (incl. decode, canonical key) |")
    print("|---|---|---|---|---|")
    for policy in ("lstm", "independent"):
        for batch in (1, 16):
            for name, cls in impls:
                t_ctrl, t_all = measure(cls, policy, batch)
                print(f"| {name} | {policy} | {batch} | {t_ctrl * 1e3:.2f} | {t_all * 1e3:.2f} |", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def chain(args) -> None:
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from graphnas.benchmarks import train_eval
    from graphnas.generators import ChainSpace
    from graphnas.search.reinforce import plot_policy

    space = ChainSpace(num_layers=4, filters=(8, 16, 24), keep_chain=False)
    opt = Reinforce(space, seed=args.first_seed, lr=0.01, batch_size=1)

    def objective(dag):
        return train_eval(dag, epochs=args.epochs, seed=0)

    start = time.perf_counter()
    def progress(hist, e) -> None:
        reads = sum(len(e.dag.predecessors(i)) for i in range(1, 5))
        print(f"{len(hist):3d} {e.value:6.2f} layer inputs={reads} ({e.seconds:.1f}s)", flush=True)

    h = run(opt, objective, args.budget, progress=progress)
    print(f"{len(h)} chains trained in {time.perf_counter() - start:.0f} s; failed {len(h.failed)}; "
          f"best {h.best_value:.2f}")
    print("best chain layers:", space.to_layers(h.best_dag))
    vals = np.array(h.values)
    fig = Figure(figsize=(6, 3.2))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(range(1, len(vals) + 1), vals, "o", ms=3, alpha=0.6, label="each chain")
    ax.plot(range(1, len(vals) + 1), h.best_so_far, "-", label="best so far")
    ax.set_xlabel("chains trained")
    ax.set_ylabel("digits validation accuracy (%)")
    ax.set_title("NAS-RL on ChainSpace (4 layers, anchor-point skips)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    if args.png:
        fig.savefig(args.png, dpi=110)
        plot_policy(opt, args.png.replace(".png", "-policy.png"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["nb201", "nb101", "tune", "cost", "chain"], default="nb201")
    p.add_argument("--table", default=None,
                   help="a NAS-Bench-201 CIFAR-10 CSV (arch, cifar10_test_acc); default: the packaged table")
    p.add_argument("--seeds", type=int, default=25)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--budget", type=int, default=300)
    p.add_argument("--bo-budget", type=int, default=150)
    p.add_argument("--methods", nargs="*", default=None, help=f"some of {ALL}")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--png", default=None)
    p.add_argument("--out", default=None)
    p.add_argument("--summary-only", action="store_true")
    p.add_argument("--baseline", default=None,
                   help="cost mode: an older graphnas/search/reinforce.py to time beside the current one")
    args = p.parse_args()
    {"nb201": search, "nb101": search, "tune": tune, "cost": cost, "chain": chain}[args.mode](args)


if __name__ == "__main__":
    main()
