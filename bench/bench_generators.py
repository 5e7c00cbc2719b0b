"""Graphs per second of graphnas' RandWire generators beside the raw networkx and igraph generators.

Each graphnas generator returns a validated, immutable :class:`graphnas.DAG`
(input and output nodes added); the baselines return a bare undirected graph
in their own library. All are timed in the same process, interleaved, and the
median of the repeats is reported. Also checks, once, that every arch string of
the NAS-Bench-201 table round-trips through :class:`NB201Space`.

    python bench/bench_generators.py [--repeats 7] [--nb201 TABLE.csv]   (default: the packaged NB201 table)
    python bench/bench_generators.py --mutate     # RandWireSpace.mutate against listing every move first

``--mutate`` times `RandWireSpace.mutate` (which counts the moves and draws one) beside the rule it keeps:
list every move (`RandWireSpace._moves`), then ``rng.choice`` a kind and a move. Both draw the same move
for the same seed (checked on every timed call).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import time
from collections.abc import Callable

import igraph as ig
import networkx as nx

from graphnas.benchmarks import NB201Table
from graphnas.generators import NB201Space, barabasi_albert, erdos_renyi, watts_strogatz

P_ER, M_BA, K_WS, P_WS = 0.2, 5, 4, 0.75  # RandWire's settings: ER P=0.2, BA M=5, WS K=4 P=0.75


def cases(n: int) -> dict[str, list[tuple[str, Callable[[int], object]]]]:
    return {
        f"ER(n={n}, p={P_ER})": [
            ("graphnas.erdos_renyi", lambda s: erdos_renyi(n, P_ER, seed=s)),
            ("networkx.gnp_random_graph", lambda s: nx.gnp_random_graph(n, P_ER, seed=s)),
            ("networkx.fast_gnp_random_graph", lambda s: nx.fast_gnp_random_graph(n, P_ER, seed=s)),
            ("igraph.Graph.Erdos_Renyi", lambda s: ig.Graph.Erdos_Renyi(n, P_ER)),
        ],
        f"BA(n={n}, m={M_BA})": [
            ("graphnas.barabasi_albert", lambda s: barabasi_albert(n, M_BA, seed=s)),
            ("networkx.barabasi_albert_graph", lambda s: nx.barabasi_albert_graph(n, M_BA, seed=s)),
            ("igraph.Graph.Barabasi", lambda s: ig.Graph.Barabasi(n, M_BA)),
        ],
        f"WS(n={n}, k={K_WS}, p={P_WS})": [
            ("graphnas.watts_strogatz", lambda s: watts_strogatz(n, K_WS, P_WS, seed=s)),
            ("networkx.watts_strogatz_graph", lambda s: nx.watts_strogatz_graph(n, K_WS, P_WS, seed=s)),
            ("igraph.Graph.Watts_Strogatz", lambda s: ig.Graph.Watts_Strogatz(1, n, K_WS // 2, P_WS)),
        ],
    }


def rate(fn: Callable[[int], object], number: int, seed0: int) -> float:
    t = time.perf_counter()
    for s in range(seed0, seed0 + number):
        fn(s)
    return number / (time.perf_counter() - t)


def bench(repeats: int) -> list[str]:
    lines = ["| case | generator | graphs/s (median) | vs graphnas |", "|---|---|---:|---:|"]
    for n, number in ((32, 200), (1000, 3)):
        for case, entries in cases(n).items():
            samples: dict[str, list[float]] = {name: [] for name, _ in entries}
            for r in range(repeats):  # interleave: one measurement of each generator per round
                for name, fn in entries:
                    samples[name].append(rate(fn, number, 1000 * r))
            ours = statistics.median(samples[entries[0][0]])
            for name, _ in entries:
                med = statistics.median(samples[name])
                lines.append(f"| {case} | {name} | {med:,.1f} | {med / ours:.2f}x |")
    return lines


def check_nb201(path: str | None) -> str:
    if path is None:
        archs = [arch for arch, _ in NB201Table().items()]
    else:
        with open(path, newline="") as fh:
            archs = [row["arch"] for row in csv.DictReader(fh)]
    space = NB201Space()
    t = time.perf_counter()
    bad = [a for a in archs if space.to_string(space.from_string(a)) != a]
    distinct = len({space.from_string(a) for a in archs})
    dt = time.perf_counter() - t
    return (f"NB201 table {path or '(packaged)'}: {len(archs)} arch strings, "
            f"{len(archs) - len(bad)} round-trip exactly, "
            f"{len(bad)} fail; {distinct} distinct DAGs ({dt:.1f} s)")


def mutate_bench(repeats: int) -> list[str]:
    from graphnas.generators import RandWireSpace
    from graphnas.generators._random import as_random

    def listed(space: RandWireSpace, dag: object, seed: int) -> object:
        rng = as_random(seed)
        edges = space.to_edges(dag)
        moves = {kind: m for kind, m in space._moves(edges).items() if m}
        kind = rng.choice(sorted(moves))
        return space.from_edges(space._apply(edges, rng.choice(moves[kind])))

    lines = ["| RandWire WS graph nodes n | edges | mutate (ms, median) | listing every move first (ms) | speed-up |",
             "|---:|---:|---:|---:|---:|"]
    for n in (32, 150, 300, 1000):
        space = RandWireSpace(n=n, generator="ws")
        dag = space.sample(0)
        new, old = [], []
        for seed in range(repeats):
            t = time.perf_counter()
            a = space.mutate(dag, seed)
            new.append(time.perf_counter() - t)
            t = time.perf_counter()
            b = listed(space, dag, seed)
            old.append(time.perf_counter() - t)
            assert a == b, f"n={n}, seed {seed}: the two rules drew different moves"
        m_new, m_old = statistics.median(new) * 1e3, statistics.median(old) * 1e3
        lines.append(f"| {n} | {len(space.to_edges(dag))} | {m_new:.1f} | {m_old:.1f} | {m_old / m_new:.0f}x |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--nb201", default=None, help="a NAS-Bench-201 CSV table (default: the packaged one)")
    parser.add_argument("--mutate", action="store_true", help="only time RandWireSpace.mutate (see above)")
    args = parser.parse_args()
    try:  # the generators do not use torch; keep any BLAS-threaded code single-threaded all the same
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    print(f"# python {platform.python_version()}, networkx {nx.__version__}, igraph {ig.__version__}, "
          f"{os.cpu_count()} CPUs, repeats={args.repeats}")
    if args.mutate:
        print("\n".join(mutate_bench(args.repeats)))
        return
    for line in bench(args.repeats):
        print(line)
    print()
    print(check_nb201(args.nb201))


if __name__ == "__main__":
    main()
