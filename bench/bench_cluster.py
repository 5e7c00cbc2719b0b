"""The search loop at scale and on engines: throughput, Ray/Dask/processes/threads side by side, and faults.

Three parts (``--part``, default all):

- ``throughput``: the loop's own evaluations per second with a no-op objective for random search, in this process
  and on a thread pool, with and without a journal, beside the bare optimiser (``ask(1)``/``tell`` in a plain
  Python loop, no `run`) measured in the same run. Goal: >= 1,000 evaluations/s.
- ``engines``: the same small search (random search, the NAS-Bench-201 table objective with a short sleep) on
  threads, processes, a Dask LocalCluster and a local Ray, each in a fresh Python process: start-up (the executor
  made, then its first result back), the search's wall clock, the overhead per evaluation (worker-seconds not spent
  in the objective, per evaluation) and peak memory (driver, and driver plus every process it started).
- ``faults``: a search where 10% of the evaluations kill their worker (``os._exit``, or SIGKILL of itself) and 5%
  hang past the timeout, on processes, Ray and Dask: the budget is finished, every fault is in the journal with its
  reason, every other evaluation has its table value.

    python bench/bench_cluster.py                        # the figures in docs/benchmarks/cluster.md
    python bench/bench_cluster.py --part throughput --evaluations 20000
    python bench/bench_cluster.py --part faults --fault-budget 200 --engines process ray dask
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import functools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from graphnas.benchmarks import NB201Table
from graphnas.generators import NB201Space
from graphnas.search import RandomSearch, make_executor, read_journal, run

SPACE = NB201Space()
HERE = os.path.dirname(os.path.abspath(__file__))
ENGINES = ("thread", "process", "ray", "dask")


def noop(dag) -> float:
    return 0.0


# ------------------------------------------------------------------------------------------------- throughput

def bare_optimizer(n: int) -> float:
    """The optimiser alone: ask(1) and tell in a plain loop (what any loop must at least spend)."""
    opt = RandomSearch(SPACE, seed=1)
    start = time.perf_counter()
    for _ in range(n):
        dag = opt.ask(1)[0]
        opt.tell(dag, noop(dag))
    return n / (time.perf_counter() - start)


def loop_rate(n: int, threads: int, journal: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        pool = cf.ThreadPoolExecutor(threads) if threads else None
        start = time.perf_counter()
        h = run(RandomSearch(SPACE, seed=1), noop, n, executor=pool,
                journal=os.path.join(tmp, "j.jsonl") if journal else None)
        rate = len(h) / (time.perf_counter() - start)
        if pool is not None:
            pool.shutdown()
    assert len(h) == n
    return rate


def throughput(args: argparse.Namespace) -> None:
    n = args.evaluations
    run(RandomSearch(SPACE, seed=0), noop, 20)  # warm-up: imports (igraph for canonical keys) are not the loop's
    print(f"## Loop throughput: random search, no-op objective, {n} evaluations, best of {args.repeats}")
    print("| loop | evaluations/s |\n|---|---|")
    print(f"| bare optimiser (ask(1) + tell, no run) | {max(bare_optimizer(n) for _ in range(args.repeats)):,.0f} |")
    for threads in (0, 4):
        for journal in (False, True):
            rate = max(loop_rate(n, threads, journal) for _ in range(args.repeats))
            where = "in this process" if not threads else f"thread pool ({threads})"
            print(f"| run(), {where}, {'with' if journal else 'no'} journal | {rate:,.0f} |")
    print()


# ------------------------------------------------------------------------------------------------- engines

@functools.cache
def nb201_table() -> NB201Table:
    """One table per process (threads share it), loaded on first use."""
    return NB201Table()


class SleepyTable:
    """The NAS-Bench-201 table objective, after ``sleep`` seconds (a stand-in for training)."""

    def __init__(self, sleep: float) -> None:
        self.sleep = sleep

    def __call__(self, dag) -> float:
        table = nb201_table()
        time.sleep(self.sleep)
        return table(dag)


def tree_rss() -> tuple[int, int]:
    """(this process's RSS, RSS of it and every process below it), bytes."""
    import psutil

    me = psutil.Process()
    total = mine = me.memory_info().rss
    for child in me.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:
            pass
    return mine, total


class PeakMemory:
    """Samples `tree_rss` every 0.2 s in a thread; ``peak`` holds the largest seen."""

    def __init__(self) -> None:
        self.peak = (0, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            mine, total = tree_rss()
            self.peak = (max(self.peak[0], mine), max(self.peak[1], total))
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def one_engine(kind: str, budget: int, workers: int, sleep: float) -> dict:
    """The engines part for one engine, in this (fresh) process."""
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        pool, close = make_executor(kind, workers)
        made = time.perf_counter() - t0
        pool.submit(noop, None).result()
        first = time.perf_counter() - t0
        # warm-up: every worker loads the table once (and Ray/Dask import graphnas there); not in the figures below
        run(RandomSearch(SPACE, seed=1), SleepyTable(0.5), 2 * workers, executor=pool, workers=workers)
        warm = time.perf_counter() - t0 - first
        start = time.perf_counter()
        h = run(RandomSearch(SPACE, seed=0), SleepyTable(sleep), budget, executor=pool, workers=workers)
        wall = time.perf_counter() - start
        t1 = time.perf_counter()
        close()
        closed = time.perf_counter() - t1
    table = nb201_table()
    assert len(h) == budget and not h.failed and all(e.value == table(e.dag) for e in h.evaluations)
    busy = sum(e.seconds for e in h.evaluations)
    return {"engine": kind, "made_s": made, "first_result_s": first, "warm_s": warm, "search_s": wall,
            "close_s": closed,
            "overhead_ms": 1000 * (wall * workers - busy) / budget, "ideal_s": budget * sleep / workers,
            "driver_mib": mem.peak[0] / 2**20, "all_mib": mem.peak[1] / 2**20}


def in_fresh_process(part: str, kind: str, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--one", part, kind, "--engine-budget", str(args.engine_budget),
           "--workers", str(args.workers), "--sleep", str(args.sleep), "--fault-budget", str(args.fault_budget),
           "--timeout", str(args.timeout)]
    # the workers import the objectives from this file as the module bench_cluster (PYTHONPATH is inherited)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH")) if p)}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.limit, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{part} on {kind} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def engines(args: argparse.Namespace) -> None:
    print(f"## Engines: random search, {args.engine_budget} evaluations of the NB201 table + {args.sleep * 1000:.0f}"
          f" ms sleep, {args.workers} workers (ideal search time "
          f"{args.engine_budget * args.sleep / args.workers:.2f} s); each engine in a fresh process")
    print("| engine | executor made (s) | first result (s) | warm-up (s) | search (s) | overhead per evaluation (ms) "
          "| close (s) | peak RSS driver (MiB) | peak RSS driver + its processes (MiB) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for kind in args.engines:
        r = in_fresh_process("engine", kind, args)
        print(f"| {kind} | {r['made_s']:.2f} | {r['first_result_s']:.2f} | {r['warm_s']:.2f} | {r['search_s']:.2f} | "
              f"{r['overhead_ms']:.1f} | {r['close_s']:.2f} | {r['driver_mib']:.0f} | {r['all_mib']:.0f} |")
    print()


# ------------------------------------------------------------------------------------------------- faults

def fate(dag) -> str:
    """``kill`` (10%), ``hang`` (5%) or ``ok``, fixed per architecture."""
    u = random.Random(dag.canonical_key()).random()
    return "kill" if u < 0.10 else "hang" if u < 0.15 else "ok"


class FaultyTable(SleepyTable):
    """The table objective, but 10% of architectures kill their worker (os._exit or SIGKILL) and 5% hang."""

    def __call__(self, dag) -> float:
        what = fate(dag)
        if what == "kill":
            if random.Random(dag.canonical_key() + "how").random() < 0.5:
                os._exit(9)
            os.kill(os.getpid(), signal.SIGKILL)
        if what == "hang":
            time.sleep(3600)
        return super().__call__(dag)


def one_fault_run(kind: str, budget: int, workers: int, sleep: float, timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp) / "j.jsonl"
        pool, close = make_executor(kind, workers)
        start = time.perf_counter()
        try:
            h = run(RandomSearch(SPACE, seed=0), FaultyTable(sleep), budget, executor=pool, workers=workers,
                    timeout=timeout, journal=journal)
        finally:
            wall = time.perf_counter() - start
            close()
        recorded = read_journal(journal)
    table = nb201_table()
    fates = [fate(e.dag) for e in recorded.evaluations]
    count = {f: fates.count(f) for f in ("kill", "hang", "ok")}
    kills_recorded = sum(1 for f, e in zip(fates, recorded.evaluations)
                         if f == "kill" and not e.ok and e.error and e.error.startswith("worker lost"))
    hangs_recorded = sum(1 for f, e in zip(fates, recorded.evaluations)
                         if f == "hang" and not e.ok and e.error == f"timed out after {timeout:g} s")
    ok_right = sum(1 for f, e in zip(fates, recorded.evaluations) if f == "ok" and e.ok and e.value == table(e.dag))
    reasons = sorted({(e.error or "")[:60] for e in recorded.evaluations if not e.ok})
    lost_why = sorted((e.error or "")[:60] for f, e in zip(fates, recorded.evaluations) if f == "ok" and not e.ok)
    return {"engine": kind, "budget": budget, "returned": len(h), "journal": len(recorded),
            "distinct": len({e.dag.canonical_key() for e in recorded.evaluations}), **count,
            "kills_recorded": kills_recorded, "hangs_recorded": hangs_recorded, "ok_right": ok_right,
            "lost": count["ok"] - ok_right, "wall_s": wall, "reasons": reasons, "lost_why": lost_why}


def faults(args: argparse.Namespace) -> None:
    print(f"## Faults: random search, {args.fault_budget} evaluations (NB201 table + {args.sleep * 1000:.0f} ms), "
          f"{args.workers} workers, timeout {args.timeout:g} s; 10% of architectures kill their worker (os._exit or "
          "SIGKILL, half each), 5% hang for an hour")
    print("| engine | evaluations (returned / journal / distinct) | kills: drawn / recorded 'worker lost' | "
          "hangs: drawn / recorded 'timed out' | others: drawn / right value | lost | wall (s) |")
    print("|---|---|---|---|---|---|---|")
    details = []
    for kind in args.fault_engines:
        r = in_fresh_process("fault", kind, args)
        details.append(r)
        print(f"| {kind} | {r['returned']} / {r['journal']} / {r['distinct']} | {r['kill']} / {r['kills_recorded']} "
              f"| {r['hang']} / {r['hangs_recorded']} | {r['ok']} / {r['ok_right']} | {r['lost']} | "
              f"{r['wall_s']:.1f} |")
    print()
    for r in details:
        print(f"{r['engine']}: failure reasons in the journal: {r['reasons']}")
        if r["lost_why"]:
            print(f"{r['engine']}: why evaluations that should have succeeded failed: {r['lost_why']}")
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", nargs="+", choices=("throughput", "engines", "faults"),
                    default=["throughput", "engines", "faults"])
    ap.add_argument("--evaluations", type=int, default=5000, help="throughput: evaluations per measurement")
    ap.add_argument("--repeats", type=int, default=3, help="throughput: measurements, the best is printed")
    ap.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    ap.add_argument("--fault-engines", nargs="+", choices=ENGINES[1:], default=list(ENGINES[1:]))
    ap.add_argument("--engine-budget", type=int, default=40)
    ap.add_argument("--fault-budget", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sleep", type=float, default=0.05, help="seconds each evaluation sleeps")
    ap.add_argument("--timeout", type=float, default=20.0, help="faults: the per-evaluation timeout")
    ap.add_argument("--limit", type=float, default=900.0, help="seconds one engine's run may take")
    ap.add_argument("--one", nargs=2, metavar=("PART", "ENGINE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        import bench_cluster as me  # not __main__: what the workers unpickle must be importable there

        part, kind = args.one
        if part == "engine":
            out = me.one_engine(kind, args.engine_budget, args.workers, args.sleep)
        else:
            out = me.one_fault_run(kind, args.fault_budget, args.workers, args.sleep, args.timeout)
        print(json.dumps(out))
        return
    print(f"# bench_cluster.py, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}, Python {sys.version.split()[0]}\n")
    if "throughput" in args.part:
        throughput(args)
    if "engines" in args.part:
        engines(args)
    if "faults" in args.part:
        faults(args)
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
