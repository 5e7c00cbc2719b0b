"""Learning-curve extrapolation on real digits training curves, and a digits search with early stopping.

Part 1 trains ``--curves`` small cells (NB201, NB101 and RandWire spaces, in turn) for ``--epochs``
epochs each on digits (``C=--channels``, the first ``--max-train`` training images) and records each
validation-accuracy curve (cached in ``--cache``, JSON lines, reused on the next run). From the first
10% / 25% / 50% of each curve it predicts the final accuracy with `graphnas.curves.extrapolate` and
reports the Spearman rank correlation with the true final accuracy and the mean absolute error,
beside the last-observed-value baseline: fitted against the epoch index, and against learning-rate time
(``schedule=``: the training's cosine schedule, known to the training loop).

The method (learning-rate time, Domhan et al.'s constraints as rejections) was picked on curves 0-49;
curves 50-99 (``--first-curve 50 --curves 50``) and a fresh set (``--first-curve 1000 --curves 60
--cache bench/curves_digits_fresh.jsonl``: other cells, other training seeds) were not looked at to pick it.

Part 1 then learns from finished curves (`graphnas.curves.CurvePredictor`, after Baker et al. 2017): 10-fold
cross-validation over the set, or trained on another set (``--train-cache``), with and without what is known of
the architecture before it trains (size, space, op counts, depth: `arch_features`), beside the last value and a
paired bootstrap interval of the gain over it (``--part learned`` runs only this). The method was picked on
curves 0-99, 1000-1059 and 2000-2119; curves 4000-4199 are held out, and the pool to learn from is 3000-3399:

    python bench/bench_curves.py --part learned --first-curve 4000 --curves 200 \
        --cache bench/curves_digits_heldout.jsonl --train-cache bench/curves_digits_pool.jsonl \
        --train-first-curve 3000 --train-curves 400

``--part coverage`` asks how well the parametric extrapolation's std covers the final accuracy, from the
first 5, 6, 8, 12 and 16 epochs of the cached curves (the std that `EarlyStopping`'s raw decision rests on),
and how well the calibration on finished runs that `EarlyStopping` applies by default covers it.

Part 2 runs random search on digits (``--search-evals`` cells, ``--search-epochs`` epochs each) with and
without `graphnas.curves.EarlyStopping` (delta ``--delta``; ``--calibration-runs``: its ``calibration_runs``,
0 for the raw extrapolation, one search for each), ``--seeds`` seeds: the same cells are drawn
either way (random search does not look at the results), so the difference is what stopping costs and
saves: training epochs spent and the best accuracy found.

    python bench/bench_curves.py                       # 100 curves of 24 epochs, then 5 search seeds
    python bench/bench_curves.py --part 1 --curves 200
    python bench/bench_curves.py --part 1 --first-curve 50 --curves 50    # the curves not tuned on
    python bench/bench_curves.py --part 2 --min-points 8 --first-seed 5   # later first decision, other seeds
    python bench/bench_curves.py --part 2 --calibration-runs 0 5          # raw and calibrated beside no stopping
    python bench/bench_curves.py --part coverage
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time

import numpy as np
import torch
from scipy.stats import spearmanr

from graphnas.benchmarks import train_eval
from graphnas.benchmarks.digits import build_digits_model
from graphnas.benchmarks.objectives import get_objective
from graphnas.curves import CurvePredictor, EarlyStopping, cosine_schedule, extrapolate
from graphnas.generators import get_generator
from graphnas.search import RandomSearch, run

SPACES = {"nb201": {}, "nb101": {}, "randwire": {"n": 6}}
FRACTIONS = (0.10, 0.25, 0.50)


def curves(args) -> list[dict]:
    cached: list[dict] = []
    if os.path.exists(args.cache):
        with open(args.cache, encoding="utf-8") as fh:
            cached = [json.loads(line) for line in fh if line.strip()]
    wanted = range(args.first_curve, args.first_curve + args.curves)
    cached = [c for c in cached if len(c["curve"]) == args.epochs and c["channels"] == args.channels
              and c["max_train"] == args.max_train and c["seed"] in wanted]
    have = {c["seed"] for c in cached}
    spaces = {name: get_generator(name, **kw) for name, kw in SPACES.items()}
    names = list(spaces)
    start = time.perf_counter()
    for i in (i for i in wanted if i not in have):
        name = names[i % len(names)]
        cell = spaces[name].sample(1000 + i)
        curve: list[float] = []
        train_eval(cell, epochs=args.epochs, seed=i, C=args.channels, max_train=args.max_train,
                   on_epoch=lambda e, acc, _c=curve: _c.append(acc))
        rec = {"space": name, "seed": i, "channels": args.channels, "max_train": args.max_train, "curve": curve}
        with open(args.cache, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")
        cached.append(rec)
        if i % 10 == 0:
            print(f"curve {i}: {name}, final {curve[-1]:.1f}% ({time.perf_counter() - start:.0f} s)", flush=True)
    return sorted(cached, key=lambda c: c["seed"])


def part1(args) -> None:
    data = curves(args)
    finals = np.array([c["curve"][-1] for c in data])
    print(f"\n{len(data)} curves of {args.epochs} epochs ({', '.join(sorted({c['space'] for c in data}))}); "
          f"final accuracy {finals.min():.1f}..{finals.max():.1f}%, mean {finals.mean():.1f}%")
    # train_eval's schedule: cosine, per step, over batches of 64 of the max_train images
    schedule = cosine_schedule(args.epochs, -(-args.max_train // 64))
    print("| observed | points | Spearman: epoch index | Spearman: lr time | Spearman: last value | MAE: epoch index "
          "| MAE: lr time | MAE: last value | no fit kept (epoch; lr time) | s per curve |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for f in FRACTIONS:
        k = max(3, int(round(f * args.epochs)))
        last = np.array([c["curve"][k - 1] for c in data])
        cells, failed, t = [], [], time.perf_counter()
        for sched in (None, schedule):
            exts = [extrapolate(c["curve"][:k], args.epochs, lower=0.0, upper=100.0, schedule=sched) for c in data]
            failed.append(sum(not e.weights for e in exts))
            cells.append(np.array([e.mean for e in exts]))
        secs = (time.perf_counter() - t) / len(data) / 2
        rho = [spearmanr(p, finals)[0] for p in (*cells, last)]
        mae = [np.abs(p - finals).mean() for p in (*cells, last)]
        print(f"| first {f:.0%} | {k} | " + " | ".join(f"{r:.3f}" for r in rho) + " | "
              + " | ".join(f"{m:.2f}" for m in mae) + f" | {failed[0]}; {failed[1]} | {secs:.3f} |", flush=True)
    learned(args, data)


def arch_features(records: list[dict], channels: int) -> np.ndarray:
    """Per curve: what a search knows about a run before it trains (``extra`` of `CurvePredictor`): the log
    parameter count of its digits network, its space (one-hot), how many of its ops are 3x3 convolutions,
    1x1 convolutions, poolings, identities (skip edges, and the structural identity nodes some spaces have)
    and zeros, and its depth, nodes and edges."""
    from graphnas._torch_rng import local_generator

    spaces = {name: get_generator(name, **kw) for name, kw in SPACES.items()}
    rows = []
    for c in records:
        cell = spaces[c["space"]].sample(1000 + c["seed"])
        with local_generator(torch.Generator().manual_seed(0)):  # weights are only counted; the global RNG untouched
            model = build_digits_model(cell, C=channels)
        flat = cell.flatten()
        ops = [str(op) for op in flat.ops]
        counts = [sum("conv" in o and "3x3" in o for o in ops), sum("conv" in o and "1x1" in o for o in ops),
                  sum("pool" in o for o in ops), sum(o in ("identity", "skip_connect") for o in ops),
                  sum(o in ("none", "zero") for o in ops)]
        rows.append([math.log(sum(p.numel() for p in model.parameters()))]
                    + [float(c["space"] == name) for name in SPACES]
                    + counts + [flat.depth(), len(flat), flat.num_edges])
    return np.array(rows, dtype=float)


def _paired_ci(a: np.ndarray, b: np.ndarray, truth: np.ndarray, seed: int = 0, draws: int = 2000
               ) -> tuple[float, float]:
    """95% bootstrap interval (resampling the curves) of Spearman(a, truth) - Spearman(b, truth)."""
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(draws):
        i = rng.integers(0, len(truth), len(truth))
        diffs.append(spearmanr(a[i], truth[i])[0] - spearmanr(b[i], truth[i])[0])
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return float(lo), float(hi)


def learned(args, data: list[dict]) -> None:
    """`CurvePredictor` (learned from finished curves): 10-fold cross-validation over this set, or trained on
    another set (``--train-cache``) and tested on this one; beside the last value and a ridge regression on
    the architecture features alone (no curve)."""
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.array([c["curve"] for c in data])
    finals = y[:, -1]
    a = arch_features(data, args.channels)
    if args.train_cache:
        train_args = argparse.Namespace(**{**vars(args), "cache": args.train_cache,
                                           "first_curve": args.train_first_curve, "curves": args.train_curves})
        tdata = curves(train_args)
        same = {(c["space"], c["seed"]) for c in tdata} & {(c["space"], c["seed"]) for c in data}
        if same:
            raise SystemExit(f"the training curves include {len(same)} of the test curves (e.g. seed "
                             f"{min(s for _, s in same)}): train on another set")
        splits = [(np.array([c["curve"] for c in tdata]), arch_features(tdata, args.channels), np.arange(len(y)))]
        how = f"trained on the {len(tdata)} curves of {args.train_cache}, tested on these {len(y)}"
    else:
        fold = np.arange(len(y)) % 10
        splits = [(y[fold != f], a[fold != f], np.flatnonzero(fold == f)) for f in range(10)]
        how = f"10-fold cross-validation over these {len(y)} curves"
    print(f"\nlearned from finished curves (CurvePredictor), {how}")
    names = ["ridge", "ridge + arch.", "ridge + arch., value target", "ν-SVR + arch. (Baker et al.)",
             "arch. alone (ridge, no curve)", "last value"]
    print("| observed | points | " + " | ".join(f"Spearman: {n}" for n in names)
          + " | Spearman: ridge + arch. - last value (95% bootstrap) | "
          + " | ".join(f"MAE: {n}" for n in names[:4]) + " | MAE: last value | within ±1 / ±2 std: ridge + arch. |")
    print("|---|---:|" + "---:|" * (len(names) + 1 + 5 + 1))
    alone = np.zeros(len(y))  # the architecture alone does not depend on the fraction observed: fitted once
    for train_y, train_a, test in splits:
        ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 3, 11))).fit(train_a, train_y[:, -1])
        alone[test] = ridge.predict(a[test])
    for f in FRACTIONS:
        k = max(3, int(round(f * args.epochs)))
        preds = np.zeros((5, len(y)))
        preds[4] = alone
        stds = np.zeros(len(y))
        for train_y, train_a, test in splits:
            fits = [CurvePredictor("ridge").fit(train_y), CurvePredictor("ridge").fit(train_y, extra=train_a),
                    CurvePredictor("ridge", target="value").fit(train_y, extra=train_a),
                    CurvePredictor("svr").fit(train_y, extra=train_a)]
            for i in test:
                preds[0, i] = fits[0].predict(y[i, :k]).mean
                ext = fits[1].predict(y[i, :k], extra=a[i])
                preds[1, i], stds[i] = ext.mean, ext.std
                preds[2, i] = fits[2].predict(y[i, :k], extra=a[i]).mean
                preds[3, i] = fits[3].predict(y[i, :k], extra=a[i]).mean
        cols = [*preds, y[:, k - 1]]
        rho = [spearmanr(p, finals)[0] for p in cols]
        lo, hi = _paired_ci(preds[1], y[:, k - 1], finals)
        mae = [np.abs(p - finals).mean() for p in cols[:4]] + [np.abs(cols[-1] - finals).mean()]
        err = np.abs(preds[1] - finals)
        cover = f"{np.mean(err <= stds):.0%} / {np.mean(err <= 2 * stds):.0%}"
        print(f"| first {f:.0%} | {k} | " + " | ".join(f"{r:.3f}" for r in rho)
              + f" | {rho[1] - rho[-1]:+.3f} ({lo:+.3f} .. {hi:+.3f}) | "
              + " | ".join(f"{m:.2f}" for m in mae) + f" | {cover} |", flush=True)


def coverage(args) -> None:
    """How well `extrapolate`'s std covers the final accuracy (learning-rate time, as `EarlyStopping` uses it):
    from the first k epochs of each curve, the share of finals within the predicted mean +- 1 and 2 std, and
    above mean + 2 std (a run the early-stopping rule would have given up on that went on to a higher value).

    Then the calibration `EarlyStopping` applies by default: n curves stand for the runs that finished, their
    residuals (final - forecast) at k give a Student-t predictive (mean residual, n - 1 degrees of freedom,
    scale std * sqrt(1 + 1/n)) for every other curve; 300 seeded draws of the n curves. Printed: the share of
    finals above the 95% upper bound (the rule's decision at delta = 0.05), and within the 68.3% interval."""
    from scipy.stats import norm
    from scipy.stats import t as student_t

    data = curves(args)
    schedule = cosine_schedule(args.epochs, -(-args.max_train // 64))
    print(f"\n{len(data)} curves of {args.epochs} epochs: extrapolate (lr time, lower 0, upper 100) from the first k "
          "epochs; z = (final - mean) / std")
    print("| observed | within ±1 std | within ±2 std | final above mean + 2 std | below mean - 2 std "
          "| median std | mean abs error |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    finals = np.array([c["curve"][-1] for c in data])
    residuals: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in (5, 6, 8, 12, 16):
        exts = [extrapolate(c["curve"][:k], args.epochs, lower=0.0, upper=100.0, schedule=schedule) for c in data]
        mean, std = np.array([e.mean for e in exts]), np.array([max(e.std, 1e-9) for e in exts])
        residuals[k] = (finals - mean, std)
        z = (finals - mean) / std
        print(f"| first {k} of {args.epochs} | {np.mean(np.abs(z) <= 1):.0%} | {np.mean(np.abs(z) <= 2):.0%} "
              f"| {np.mean(z > 2):.0%} | {np.mean(z < -2):.0%} | {np.median(std):.2f} "
              f"| {np.abs(finals - mean).mean():.2f} |", flush=True)
    sizes = (3, 5, 10, 20)
    print(f"\nabove the 95% upper bound (within the 68.3% interval): the raw normal, and calibrated on n finished "
          f"curves ({', '.join(map(str, sizes))}), 300 draws each")
    print("| observed | raw | " + " | ".join(f"calibrated, n = {n}" for n in sizes) + " |")
    print("|---|---:|" + "---:|" * len(sizes))
    rng = np.random.default_rng(0)
    for k, (r, std) in residuals.items():
        cells = [f"{np.mean(r > norm.ppf(0.95) * std):.0%} ({np.mean(np.abs(r) <= std):.0%})"]
        for n in sizes:
            above, within = [], []
            for _ in range(300):
                order = rng.permutation(len(r))
                cal, test = r[order[:n]], r[order[n:]]
                m, scale = cal.mean(), cal.std(ddof=1) * math.sqrt(1 + 1 / n)
                above.append(np.mean(test > m + student_t.ppf(0.95, n - 1) * scale))
                within.append(np.mean(np.abs(test - m) <= student_t.ppf(0.8413, n - 1) * scale))
            cells.append(f"{np.mean(above):.1%} ({np.mean(within):.0%})")
        print(f"| first {k} of {args.epochs} | " + " | ".join(cells) + " |", flush=True)


def part2(args) -> None:
    space = get_generator("nb201")
    settings: list[int | None] = [None, *args.calibration_runs]  # None: no early stopping

    def name(cal: int | None) -> str:
        return ("without early stopping" if cal is None else "early stopping, raw extrapolation" if cal == 0
                else f"early stopping, calibrated on {cal} finished runs")

    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for cal in settings:
            stopper = (None if cal is None else
                       EarlyStopping(delta=args.delta, min_points=args.min_points, calibration_runs=cal))
            objective = get_objective("digits", epochs=args.search_epochs, seed=seed, C=args.channels,
                                      max_train=args.max_train, early_stopping=stopper)
            t = time.perf_counter()
            h = run(RandomSearch(space, seed=seed), objective, args.search_evals)
            spent = sum(e.cost for e in h.evaluations if e.cost is not None)
            rows.append({"seed": seed, "cal": cal, "epochs": spent, "best": h.best_value,
                         "stopped": len(h.stopped), "seconds": time.perf_counter() - t})
            print(f"seed {seed} {name(cal)}: best {h.best_value:.2f}%, {spent:.0f} epochs, "
                  f"{len(h.stopped)} stopped, {rows[-1]['seconds']:.0f} s", flush=True)
    print(f"\nrandom search, {args.search_evals} cells x {args.search_epochs} epochs, seeds {args.first_seed}-"
          f"{args.first_seed + args.seeds - 1}, delta={args.delta}, min_points={args.min_points}")
    print("| | epochs spent (mean) | best accuracy % (mean ± std) | runs stopped (mean) | same best as without |")
    print("|---|---:|---:|---:|---:|")
    base_rows = [r for r in rows if r["cal"] is None]
    base = statistics.mean(r["epochs"] for r in base_rows)
    for cal in settings:
        rs = [r for r in rows if r["cal"] == cal]
        same = sum(r["best"] == o["best"] for r, o in zip(rs, base_rows))
        bests = [r["best"] for r in rs]
        spent = statistics.mean(r["epochs"] for r in rs)
        saved = "" if cal is None else f" ({1 - spent / base:.1%} saved)"
        print(f"| {name(cal)} | {spent:.1f}{saved} | "
              f"{statistics.mean(bests):.2f} ± {statistics.stdev(bests) if len(bests) > 1 else 0:.2f} | "
              f"{statistics.mean(r['stopped'] for r in rs):.1f} | {same}/{len(rs)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("1", "2", "all", "learned", "coverage"), default="all",
                    help="learned: only part 1's learned predictor (no parametric fits)")
    ap.add_argument("--curves", type=int, default=100)
    ap.add_argument("--first-curve", type=int, default=0,
                    help="index of the first curve (cell seed 1000+i, training seed i): another set of curves")
    ap.add_argument("--epochs", type=int, default=24)
    ap.add_argument("--channels", type=int, default=4)
    ap.add_argument("--max-train", type=int, default=300)
    ap.add_argument("--cache", default="bench/curves_digits.jsonl")
    ap.add_argument("--train-cache", default=None,
                    help="part 1: train the learned predictor on these curves (else 10-fold cross-validation)")
    ap.add_argument("--train-first-curve", type=int, default=0)
    ap.add_argument("--train-curves", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0, help="part 2: the first search seed")
    ap.add_argument("--search-evals", type=int, default=10)
    ap.add_argument("--search-epochs", type=int, default=12)
    ap.add_argument("--delta", type=float, default=0.05)
    ap.add_argument("--min-points", type=int, default=5)
    ap.add_argument("--calibration-runs", type=int, nargs="+", default=[0, 5],
                    help="part 2: EarlyStopping's calibration_runs, each beside no stopping (0: the raw extrapolation)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.part in ("1", "all"):
        part1(args)
    if args.part == "learned":
        learned(args, curves(args))
    if args.part == "coverage":
        coverage(args)
    if args.part in ("2", "all"):
        part2(args)


if __name__ == "__main__":
    main()
