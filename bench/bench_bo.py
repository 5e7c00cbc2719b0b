"""BO on NAS-Bench-201 CIFAR-10 (table lookups): speed, quality, cost at scale, parallel BO, calibration.

Modes (``--mode``):

- ``speed``: 150-query BO runs, wall and CPU seconds per run and where the time goes (surrogate fit,
  candidate generation, scoring), the queries until the table's best cell (94.37; ``--metric`` picks
  another column of the table) is found and the best accuracy after 25/50/100 queries; ``--variants``
  picks the configurations compared in the same run
  (``old``: the settings before 2026-11-30; ``prev``: today's defaults without the warm-refit cap;
  ``new``: today's defaults (15 warm steps since 2026-11-30, late evening; ``new:s.warm_epochs=30``
  before; the top-focused ranking loss, ``top_focus=2``, since 2026-12-01, ``new:s.top_focus=0`` before;
  warm refits on at most 64 graphs since 2026-12-01, evening, ``new:warm_train=128`` before, on at most 32
  since 2026-12-01, night, ``new:warm_train=64`` before); ``evo``:
  regularized evolution; ``bg``: ``new`` with background refits, ``new:background=true``;
  ``pool``: ``bg`` with the candidate pool as well). ``--space nb101`` runs the same on the NB101 space with
  `bench_search.py`'s synthetic structural objective (optimum 9.2), an objective no setting of BO was tuned on.
- ``scale``: ask latency (median, p95, max) against history size up to 5,000 evaluations, and the
  latency of the asks that refit the surrogate.
- ``parallel``: BO with 1, 4 and 16 workers through `graphnas.search.run` on a thread pool, the table
  objective with a random sleep so that evaluations finish out of order: best after 100 evaluations
  and worker utilisation.
- ``calibration``: share of held-out cells within +-1 / +-2 std of the BO-time surrogate, raw and calibrated.

    python bench/bench_bo.py --mode speed --seeds 10
    python bench/bench_bo.py --mode speed --seeds 3 --threads 2   # both cores of the machine
    python bench/bench_bo.py --mode speed --space nb101 --budget 100 --seeds 25 --variants new:s.top_focus=0 new
    python bench/bench_bo.py --mode scale --history 5000 --steps 100 --variants prev new
    python bench/bench_bo.py --mode parallel --seeds 25 --variants prev new
    python bench/bench_bo.py --mode calibration --seeds 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import torch

from graphnas.benchmarks import NB201Table
from graphnas.search import BayesianOptimization, RandomSearch, RegularizedEvolution, run

OLD = {"refit_every": 1, "top_k": 10, "mutations": 20, "random_candidates": 50, "max_train": None,
       "refit_fraction": 0.0, "pending": "ignore", "calibrate": False,
       "surrogate_kw": {"epochs": 150, "warm_epochs": 30}}
PREV = "new:warm_train=null"  # the defaults before the warm-refit cap


def make(space: Any, variant: str, seed: int) -> Any:
    """``old``, ``new``, ``evo`` or ``random``; ``new:key=value,...`` overrides `BayesianOptimization` arguments
    (``s.key=value`` those of its default surrogate), values in JSON."""
    import inspect

    if variant == "random":  # no driver cost to speak of: the utilisation a fixed budget allows at best
        return RandomSearch(space, seed=seed)
    if variant == "evo":
        return RegularizedEvolution(space, population=20, sample_size=5, seed=seed)
    if variant == "old":
        accepted = inspect.signature(BayesianOptimization).parameters  # also runs against older checkouts
        kw = {k: v for k, v in OLD.items() if k in accepted}
        skw = OLD["surrogate_kw"]
        from graphnas.surrogate import GNNSurrogate

        if "trees" in inspect.signature(GNNSurrogate).parameters:  # the old surrogate had no tree members
            skw = {**skw, "trees": 0}
        sur = GNNSurrogate(vocabulary=list(space.vocabulary), hidden=32, layers=3, ensemble=5, warm_start=True,
                           seed=seed, **skw)
        return BayesianOptimization(space, surrogate=sur, seed=seed, **kw)
    if variant == "prev":
        variant = PREV
    variant = {"bg": "new:background=true", "pool": "new:background=true,fresh_share=0.25"}.get(variant, variant)
    # e.g. new:refit_fraction=0,s.early_stop=null (s.: a GNNSurrogate parameter)
    over, sur_over = overrides(variant.split(":", 1)[1], "s.") if ":" in variant else ({}, {})
    opt = BayesianOptimization(space, seed=seed, **over)
    opt.surrogate.set_params(**sur_over)
    return opt


def overrides(spec: str, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``key=value,...`` (values in JSON) as two dicts: the keys without ``prefix``, and those with it (prefix
    dropped)."""
    import json

    plain: dict[str, Any] = {}
    prefixed: dict[str, Any] = {}
    for item in spec.split(","):
        k, v = item.split("=")
        if k.startswith(prefix):
            prefixed[k.removeprefix(prefix)] = json.loads(v)
        else:
            plain[k] = json.loads(v)
    return plain, prefixed


class Timer:
    """Wraps methods of an object and sums their wall time by label (and the calling thread's CPU time
    under ``label + "_cpu"``)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, obj: Any, attr: str, label: str) -> None:
        fn = getattr(obj, attr)

        def timed(*a: Any, **k: Any) -> Any:
            t, c = time.perf_counter(), time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.perf_counter() - t
                self.spent[label + "_cpu"] = self.spent.get(label + "_cpu", 0.0) + time.thread_time() - c

        setattr(obj, attr, timed)


def first_hit(best_so_far: list[float], target: float) -> int | None:
    return next((i + 1 for i, v in enumerate(best_so_far) if v >= target - 1e-9), None)


def objective(args: argparse.Namespace) -> tuple[Any, Any, float]:
    """(space, objective, its optimum) for ``--space``: NB201's table column ``--metric``, or the NB101 space
    with `bench_search`'s synthetic structural objective, whose optimum is a chain of five 3x3 convolutions
    (5 + 0.7 * 6 edges = 9.2)."""
    if args.space == "nb101":
        from bench_search import nb101_objective

        from graphnas.generators import NB101Space

        return NB101Space(), nb101_objective, 9.2
    table = NB201Table(metric=args.metric)
    return table.space, table, table.best()[1]


def speed(args: argparse.Namespace) -> None:
    space, table, target = objective(args)
    rows: dict[str, list[dict]] = {v: [] for v in args.variants}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for v in args.variants:
            opt = make(space, v, seed)
            timer = Timer()
            if v != "evo":
                timer.wrap(opt.surrogate, "fit", "fit")
                timer.wrap(opt, "_candidates", "candidates")
                timer.wrap(opt, "_members", "score")
            w, c = time.perf_counter(), time.process_time()
            h = run(opt, table, args.budget)
            row = {"wall": time.perf_counter() - w, "cpu": time.process_time() - c, **timer.spent,
                   "hit": first_hit(h.best_so_far, target), "best": h.best_so_far}
            rows[v].append(row)
            print(f"seed {seed} {v}: {row['wall']:.1f}s wall {row['cpu']:.1f}s cpu, hit {row['hit']}, "
                  + ", ".join(f"{k} {row[k]:.1f}s" for k in ("fit", "candidates", "score") if k in row), flush=True)
    what = "NB101 structural objective" if args.space == "nb101" else args.metric
    print(f"\n{args.seeds} seeds, budget {args.budget}, {what}, optimum {target}, "
          f"{torch.get_num_threads()} torch thread(s)")
    print("| variant | wall s (median) | CPU s (median) | fit | candidates | scoring | best@25 | best@50 | best@100 "
          f"| queries to {target:.2f}: median / worst (misses) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for v, rs in rows.items():
        med = {k: statistics.median(r.get(k, 0.0) for r in rs) for k in ("wall", "cpu", "fit", "candidates", "score")}
        bests = [" ± ".join(f"{x:.2f}" for x in (statistics.mean(r["best"][c - 1] for r in rs),
                                                 statistics.pstdev(r["best"][c - 1] for r in rs)))
                 for c in (25, 50, 100) if c <= args.budget]
        hits = [r["hit"] for r in rs if r["hit"] is not None]
        misses = len(rs) - len(hits)
        hs = (f"{statistics.median(hits + [args.budget + 1] * misses):.0f} / "
              f"{'>' + str(args.budget) if misses else max(hits)} ({misses})") if rs else "-"
        print(f"| {v} | {med['wall']:.1f} | {med['cpu']:.1f} | {med['fit']:.1f} | {med['candidates']:.1f} | "
              f"{med['score']:.1f} | " + " | ".join(bests) + f" | {hs} |")
    if args.within:
        print(f"\nqueries until a cell within d of the optimum ({target}), median / mean / worst "
              f"(a miss counts {args.budget + 1}); and the cells of the table that near it")
        cells = cells_within(table, target, args.within) if args.space == "nb201" else None
        print("| variant | " + " | ".join(f"within {d:g}" + (f" ({cells[d]} cells)" if cells else "")
                                         for d in args.within) + " |")
        print("|---|" + "---|" * len(args.within))
        for v, rs in rows.items():
            cols = []
            for d in args.within:
                hs = [first_hit(r["best"], target - d) or args.budget + 1 for r in rs]
                cols.append(f"{statistics.median(hs):g} / {statistics.mean(hs):.1f} / {max(hs)}")
            print(f"| {v} | " + " | ".join(cols) + " |")


def cells_within(table: Any, target: float, within: list[float]) -> dict[float, int]:
    """How many cells of the table lie within each distance of its optimum."""
    values = [float(v) for _, v in table.items()]
    return {d: int(sum(v >= target - d - 1e-9 for v in values)) for d in within}


def scale(args: argparse.Namespace) -> None:
    """Grow the history with told random cells, then time ``--steps`` BO ask/tell steps at each size."""
    import random

    table = NB201Table()
    rng = random.Random(args.first_seed)
    sizes = [s for s in args.sizes if s <= args.history]
    for v in [v for v in args.variants if v != "evo"]:
        opt = make(table.space, v, args.first_seed)
        print(f"\n{v}: ask latency (s) after the history was grown with told random cells")
        print("| history | first ask, a refit: wall (CPU) s | median | p95 | max | mean | other asks that refit: "
              "n, median (s) | evaluations in training set |")
        print("|---|---|---|---|---|---|---|---|")
        for size in sizes:
            while len(opt.history) < size:
                dag = table.space.sample(rng.randrange(2**31))
                if dag.canonical_key() in opt._asked:
                    continue
                opt.tell(dag, table(dag))
            t, c = time.perf_counter(), time.process_time()
            dag = opt.ask(1)[0]
            catch_up, catch_cpu = time.perf_counter() - t, time.process_time() - c
            opt.tell(dag, table(dag))
            times, refits = [], []
            for _ in range(args.steps):
                fitted = opt._fitted_on
                t = time.perf_counter()
                dag = opt.ask(1)[0]
                times.append(time.perf_counter() - t)
                if opt._fitted_on != fitted:
                    refits.append(times[-1])
                opt.tell(dag, table(dag))
            times.sort()
            rf = f"{len(refits)}, {statistics.median(refits):.2f}" if refits else "0, -"
            n_train = len(opt._training_set(opt.evaluated)) if hasattr(opt, "_training_set") else len(opt.evaluated)
            print(f"| {size:,} | {catch_up:.2f} ({catch_cpu:.2f}) | {statistics.median(times):.3f} | "
                  f"{times[int(0.95 * (len(times) - 1))]:.3f} | {times[-1]:.3f} | {statistics.mean(times):.3f} "
                  f"| {rf} | {n_train} |", flush=True)


def parallel(args: argparse.Namespace) -> None:
    """BO through `run` on a thread pool, the table objective with a random sleep: quality and utilisation."""
    import random
    import threading
    from concurrent.futures import ThreadPoolExecutor

    table = NB201Table()
    lines: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for variant in args.variants:
            for workers in args.workers:
                rng = random.Random(seed * 7919 + workers)
                lock = threading.Lock()
                busy = [0.0]
                spans: list[tuple[float, float]] = []

                def objective(dag: Any, _rng: random.Random = rng, _lock: threading.Lock = lock,
                              _busy: list[float] = busy, _w: int = workers,
                              _spans: list[tuple[float, float]] = spans) -> float:
                    with _lock:
                        pause = _rng.uniform(0.5, 1.5) * args.sleep if _w > 1 else 0.0
                    start = time.perf_counter()
                    time.sleep(pause)
                    with _lock:
                        _busy[0] += pause
                        _spans.append((start, time.perf_counter()))
                    return table(dag)

                opt = make(table.space, variant, seed)
                timer = Timer()
                timer.wrap(opt, "ask", "ask")
                t = time.perf_counter()
                if workers == 1:
                    h = run(opt, objective, args.budget)
                else:
                    with ThreadPoolExecutor(workers) as pool:
                        h = run(opt, objective, args.budget, executor=pool, ordered=False)
                wall = time.perf_counter() - t
                util = busy[0] / (workers * wall) if workers > 1 else float("nan")
                # while work was left to hand out: from the start up to the start of the last evaluation (after it,
                # a fixed budget leaves workers idle whatever the optimiser does: the drain)
                last = max(a for a, _ in spans) if spans else t
                steady = (sum(max(0.0, min(b, last) - a) for a, b in spans) / (workers * (last - t))
                          if workers > 1 and last > t else float("nan"))
                ask = timer.spent.get("ask", 0.0) / args.budget  # driver seconds per evaluation
                ask_cpu = timer.spent.get("ask_cpu", 0.0) / args.budget  # the driver thread's CPU in asks
                lines.setdefault((variant, workers), []).append((h.best_so_far[-1], util, ask, ask_cpu, steady))
                print(f"seed {seed} {variant} workers {workers}: best {h.best_so_far[-1]:.2f} after {args.budget}, "
                      f"utilisation {util:.1%} ({steady:.1%} until the last start), {wall:.1f}s,"
                      f" ask {ask:.3f}s wall {ask_cpu:.3f}s driver CPU per "
                      f"evaluation", flush=True)
    print(f"\n{args.seeds} seeds, {args.budget} evaluations, sleep {args.sleep} s x U(0.5, 1.5) per evaluation "
          f"(none with 1 worker)")
    print("| variant | workers | best after budget (mean ± std) | found 94.37 | utilisation (median, min) "
          "| until the last start (median, min) | ask s per evaluation, wall / driver CPU (median) |")
    print("|---|---|---|---|---|---|---|")
    for (variant, workers), rs in lines.items():
        best = [r[0] for r in rs]
        utils = [r[1] for r in rs if r[1] == r[1]]
        u = f"{statistics.median(utils):.1%}, {min(utils):.1%}" if utils else "- (serial)"
        steady = [r[4] for r in rs if r[4] == r[4]]
        su = f"{statistics.median(steady):.1%}, {min(steady):.1%}" if steady else "-"
        print(f"| {variant} | {workers} | {statistics.mean(best):.3f} ± {statistics.pstdev(best):.3f} | "
              f"{sum(b >= 94.37 for b in best)}/{len(best)} | {u} | {su} | {statistics.median(r[2] for r in rs):.3f} / "
              f"{statistics.median(r[3] for r in rs):.3f} |")


def calibration(args: argparse.Namespace) -> None:
    """After a BO run, the share of 2,000 held-out random cells within +-1 / +-2 std: raw ensemble spread
    and the spread times BO's prequential scale (computed from its own asks only)."""
    import numpy as np

    table = NB201Table()
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        opt = BayesianOptimization(table.space, calibrate=True, seed=seed)
        chained: list[tuple[float, float]] = []  # (|error| / raw spread, scale BO used) for each told ask
        told = opt._told

        def record(dag: Any, value: float, _opt: Any = opt, _told: Any = told, _out: list = chained) -> None:
            pred = _opt._predicted.get(dag.canonical_key())
            if pred is not None:
                _out.append((abs(value - pred[0]) / max(pred[1], 1e-12), _opt.std_scale))
            _told(dag, value)

        opt._told = record  # type: ignore[method-assign]
        run(opt, table, args.budget)
        # forward-chained: each ask's error against the scale computed from earlier asks only
        fwd = [(e, sc) for e, sc in chained[10:]]
        fwd_cov = [float(np.mean([e <= k * sc for e, sc in fwd])) for k in (1, 2)] if fwd else [float("nan")] * 2
        fwd_raw = [float(np.mean([e <= k for e, _ in fwd])) for k in (1, 2)] if fwd else [float("nan")] * 2
        asked = set(opt._asked)
        held: list = []
        i = 0
        while len(held) < 2000:
            d = table.space.sample(10**6 + seed * 10**4 + i)
            i += 1
            if d.canonical_key() not in asked:
                held.append(d)
                asked.add(d.canonical_key())
        y = np.array([table(d) for d in held])
        members = opt._members(held)
        err = np.abs(members.mean(axis=0) - y) / np.maximum(members.std(axis=0), 1e-12)
        scale = opt.std_scale
        row = [float((err <= k).mean()) for k in (1, 2)] + [float((err <= k * scale).mean()) for k in (1, 2)] \
            + [scale] + fwd_raw + fwd_cov
        rows.append(row)
        print(f"seed {seed}: raw +-1 {row[0]:.1%} +-2 {row[1]:.1%}; calibrated (scale {scale:.2f}) "
              f"+-1 {row[2]:.1%} +-2 {row[3]:.1%}; BO's next asks ({len(fwd)}): raw +-1 {row[5]:.1%} +-2 {row[6]:.1%}, "
              f"calibrated +-1 {row[7]:.1%} +-2 {row[8]:.1%}", flush=True)
    print(f"\n{args.seeds} seeds, BO surrogate after {args.budget} queries, 2,000 held-out cells each")
    print("| std | cells | within ±1 std | within ±2 std |")
    print("|---|---|---|---|")
    for name, cells, a, b in (("raw ensemble spread", "2,000 random held-out", 0, 1),
                              ("prequential scale", "2,000 random held-out", 2, 3),
                              ("raw ensemble spread", "BO's next asks", 5, 6),
                              ("prequential scale (from earlier asks only)", "BO's next asks", 7, 8)):
        print(f"| {name} | {cells} | {statistics.mean(r[a] for r in rows):.1%} | "
              f"{statistics.mean(r[b] for r in rows):.1%} |")
    print(f"scale: {', '.join(f'{r[4]:.2f}' for r in rows)}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["speed", "scale", "parallel", "calibration"], default="speed")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--within", type=float, nargs="*", default=[],
                   help="speed: also the queries until a cell within each of these distances of the optimum")
    p.add_argument("--budget", type=int, default=150)
    p.add_argument("--metric", default="cifar10_test_acc",
                   help="speed: the packaged table's column to maximise (cifar10_test_acc_12ep: a second objective)")
    p.add_argument("--space", choices=["nb201", "nb101"], default="nb201",
                   help="speed: nb101 searches the NB101 space on bench_search.py's synthetic structural "
                        "objective (an objective nothing in BO was tuned on) instead of the NB201 table")
    p.add_argument("--variants", nargs="*", default=["old", "new", "evo"])
    p.add_argument("--history", type=int, default=5000, help="scale: largest history size")
    p.add_argument("--steps", type=int, default=40, help="scale: timed ask/tell steps at each size")
    p.add_argument("--sizes", type=int, nargs="*", default=[100, 1000, 2000, 5000], help="scale: history sizes")
    p.add_argument("--workers", type=int, nargs="*", default=[1, 4, 16], help="parallel: worker counts")
    p.add_argument("--sleep", type=float, default=2.0, help="parallel: mean seconds an evaluation sleeps")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads of this benchmark process (1: one core, as in the figures before "
                        "2026-12-01; 2: both cores of the 2-core machine)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    {"speed": speed, "scale": scale, "parallel": parallel, "calibration": calibration}[args.mode](args)


if __name__ == "__main__":
    main()
