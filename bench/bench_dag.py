"""Throughput of DAG construction + validation and of canonical_key, beside networkx.

For random DAGs of 32 and 1,000 nodes (an Erdős–Rényi graph oriented from lower to
higher index, with one input and the sinks as outputs), times in the same process,
interleaved:

- graphnas: ``DAG(nodes, edges)`` (construction with full validation);
- networkx: ``nx.DiGraph`` construction + ``nx.is_directed_acyclic_graph``;
- graphnas: ``canonical_key()`` on a fresh DAG (nothing cached);
- networkx: ``weisfeiler_lehman_graph_hash`` (a heuristic hash, not exact, shown for scale).

Usage: python bench/bench_dag.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time
import warnings

import networkx as nx

from graphnas import DAG, Node

warnings.filterwarnings("ignore", message="The hashes produced for directed graphs")

OPS = ["conv3x3", "conv1x1", "pool", "sep_conv_3x3"]


def random_parts(n: int, avg_degree: float, seed: int) -> tuple[list[Node], list[tuple[int, int]]]:
    rng = random.Random(seed)
    p = min(1.0, avg_degree / (n - 1))
    edges = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < p]
    has_in = {d for _, d in edges}
    edges += [(0, j) for j in range(1, n) if j not in has_in]  # every node reachable from node 0
    nodes = [Node("input")] + [Node(rng.choice(OPS)) for _ in range(n - 1)]
    return nodes, edges


def per_second(fn, items, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for item in items:
            fn(item)
        times.append(time.perf_counter() - t)
    return len(items) / statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    print(f"# bench_dag  python {platform.python_version()}  networkx {nx.__version__}  {platform.machine()}")
    print(f"{'n':>6} {'edges':>7} | {'DAG()+validate':>15} {'nx DiGraph+is_DAG':>18} | "
          f"{'canonical_key':>14} {'nx WL hash':>11}   (graphs/s, median of {args.repeats})")
    for n, count in ((32, 400), (1000, 8)):
        graphs = [random_parts(n, 4.0, seed) for seed in range(count)]

        def build(parts):
            return DAG(parts[0], parts[1])

        def build_nx(parts):
            g = nx.DiGraph()
            g.add_nodes_from((i, {"op": node.op}) for i, node in enumerate(parts[0]))
            g.add_edges_from(parts[1])
            return nx.is_directed_acyclic_graph(g)

        nxgraphs = []
        for parts in graphs:
            g = nx.DiGraph()
            g.add_nodes_from((i, {"op": node.op}) for i, node in enumerate(parts[0]))
            g.add_edges_from(parts[1])
            nxgraphs.append(g)

        def key(parts):
            return DAG(parts[0], parts[1]).canonical_key()

        ours_build = per_second(build, graphs, args.repeats)
        nx_build = per_second(build_nx, graphs, args.repeats)
        # canonical_key includes construction; subtract nothing, report as measured
        ours_key = per_second(key, graphs, args.repeats)
        nx_wl = per_second(lambda g: nx.weisfeiler_lehman_graph_hash(g, node_attr="op"), nxgraphs, args.repeats)
        n_edges = statistics.mean(len(p[1]) for p in graphs)
        print(f"{n:>6} {n_edges:>7.0f} | {ours_build:>15,.0f} {nx_build:>18,.0f} | {ours_key:>14,.0f} {nx_wl:>11,.0f}")


if __name__ == "__main__":
    main()
