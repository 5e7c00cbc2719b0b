"""Network morphisms: function preservation over random (graph, morphism) pairs, and NASH against BO and random
search on digits at equal total training epochs.

Part 1 draws ``--pairs`` (graph, morphism) pairs: a graph from every generator and published cell in turn
(ER, BA, WS, the NB201, DARTS, NASNet, ENAS, NB101 and chain spaces, and the genotypes' cells), weights and
BatchNorm statistics set far from their defaults (as after training), then one random morphism
(`graphnas.search.nash.random_morphism`: deepen, widen or add_skip at a random place where it is
accepted). It compiles parent and child, runs both in eval mode on the same random input and records the
largest absolute output difference (fp32).

Part 2 spends ``--total-epochs`` training epochs per run on digits (``C=--channels``, the first
``--max-train`` images), ``--seeds`` seeds: random search and BO train NB201 cells for ``--epochs`` epochs
each; NASH trains its root for ``--epochs`` epochs, then children (inheriting weights) for
``--child-epochs`` each. It prints the best validation accuracy each found.

    python bench/bench_morph.py                     # 1,000 pairs, then 5 seeds at 48 epochs a run
    python bench/bench_morph.py --part 1 --pairs 5000
"""

from __future__ import annotations

import argparse
import collections
import random
import statistics
import tempfile
import time

import torch

from graphnas import generators as gen
from graphnas.benchmarks import get_objective
from graphnas.dag import GraphError
from graphnas.genotypes import genotype_to_dag, get_genotype, list_genotypes
from graphnas.morph import output_difference, trained_like_state
from graphnas.search import NASH, BayesianOptimization, RandomSearch, run
from graphnas.search.nash import random_morphism

C_IN = 4  # even: DARTS' FactorizedReduce needs it


def makers() -> dict:
    out = {"er": lambda seed: gen.erdos_renyi(6, 0.4, seed=seed),
           "ba": lambda seed: gen.barabasi_albert(6, 2, seed=seed),
           "ws": lambda seed: gen.watts_strogatz(6, 2, 0.5, seed=seed)}
    for name in ("nb201", "darts", "nasnet", "enas", "nb101", "chain"):
        out[name] = gen.get_generator(name).sample
    for g in list_genotypes():
        for cell in ("normal", "reduce"):
            out[f"{g}/{cell}"] = lambda seed, g=g, cell=cell: genotype_to_dag(get_genotype(g), cell)
    return out


def part1(args) -> None:
    mk = makers()
    names = list(mk)
    rng = random.Random(0)
    worst, worst_what, done = 0.0, "", 0
    per_kind: dict = collections.defaultdict(lambda: [0, 0.0])
    refused = 0
    start = time.perf_counter()
    i = 0
    while done < args.pairs:
        name = names[i % len(names)]
        dag = mk[name](seed=i)
        i += 1
        state = trained_like_state(dag, i, C_IN)
        try:
            child, cstate, what = random_morphism(dag, state, rng, in_channels=C_IN, attempts=50)
        except GraphError:
            refused += 1  # no place in this graph where a morphism keeps the function (counted, not a pair)
            continue
        diff = output_difference(dag, state, child, cstate, in_channels=C_IN, seed=i)
        kind = what.split()[0]
        per_kind[kind][0] += 1
        per_kind[kind][1] = max(per_kind[kind][1], diff)
        if diff > worst:
            worst, worst_what = diff, f"{name}: {what}"
        done += 1
    print(f"\n{done} (graph, morphism) pairs from {len(names)} generators and cells in "
          f"{time.perf_counter() - start:.0f} s (graphs where 50 random draws were all refused, skipped: "
          f"{refused})")
    print("| morphism | pairs | largest absolute output difference (fp32, eval mode) |")
    print("|---|---:|---:|")
    for kind, (n, d) in sorted(per_kind.items()):
        print(f"| {kind} | {n} | {d:.2e} |")
    print(f"| all | {done} | {worst:.2e} ({worst_what}) |")


def part2(args) -> None:
    space = gen.get_generator("nb201")
    rows = collections.defaultdict(list)
    n_evals = args.total_epochs // args.epochs
    n_children = (args.total_epochs - args.epochs) // args.child_epochs
    for seed in range(args.seeds):
        objective = get_objective("digits", epochs=args.epochs, seed=seed, C=args.channels, max_train=args.max_train)
        for name in ("random", "bo", "nash"):
            t = time.perf_counter()
            if name == "random":
                h = run(RandomSearch(space, seed=seed), objective, n_evals)
            elif name == "bo":
                h = run(BayesianOptimization(space, initial=args.bo_initial, seed=seed), objective, n_evals)
            else:
                with tempfile.TemporaryDirectory() as store:
                    opt = NASH(space, store=store, children=args.children, child_epochs=args.child_epochs,
                               root_epochs=args.epochs, C=args.channels, seed=seed)
                    h = run(opt, objective, 1 + n_children)
            spent = sum(e.cost for e in h.evaluations if e.cost is not None)
            rows[name].append(h.best_value)
            print(f"seed {seed} {name}: best {h.best_value:.2f}% in {len(h)} evaluations, {spent:.0f} epochs, "
                  f"{time.perf_counter() - t:.0f} s", flush=True)
    print(f"\ndigits, {args.total_epochs} training epochs per run (C={args.channels}, {args.max_train} images), "
          f"{args.seeds} seeds: random/BO {n_evals} cells x {args.epochs} epochs; NASH root {args.epochs} epochs + "
          f"{n_children} children x {args.child_epochs} epochs ({args.children} per generation)")
    print("| method | best validation accuracy % (mean ± std) | per seed |")
    print("|---|---:|---|")
    for name, vals in rows.items():
        sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
        print(f"| {name} | {statistics.mean(vals):.2f} ± {sd:.2f} | {', '.join(f'{v:.1f}' for v in vals)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("1", "2", "all"), default="all")
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--total-epochs", type=int, default=48)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--child-epochs", type=int, default=2)
    ap.add_argument("--children", type=int, default=3)
    ap.add_argument("--bo-initial", type=int, default=4)
    ap.add_argument("--channels", type=int, default=4)
    ap.add_argument("--max-train", type=int, default=300)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.part in ("1", "all"):
        part1(args)
    if args.part in ("2", "all"):
        part2(args)


if __name__ == "__main__":
    main()
