"""How the learned curve predictor's second-round method was picked (docs/benchmarks/multifidelity.md).

The comparisons behind `CurvePredictor(target="quantile")` and the op-count features of
`bench_curves.arch_features`, all at 25% of the epochs (6 of 24), Spearman ρ against the final value,
beside the last observed value. Each needs the curve caches of `bench_curves.py` (missing curves are
trained on first use, about 1.4 s each):

1. 10-fold cross-validation (3 shuffles) over curves 0-99 + 1000-1059 (160 curves): models (ridge, a GP,
   a random forest, boosted trees) x features (Baker et al.'s values and differences, or a compact set:
   last value, mean of the last 3, max, slope, first value; both with the size and space) x targets (the
   final value, its residual over the last value, or its rank as a normal score).
2. Learned from the pool (curves 3000-3399) and tested on those 160: the first round's architecture
   features (size, space) or the op counts too, ridge or GP, value or rank target.
3. Learned from the pool and tested on those 160 + curves 2000-2119: the parametric extrapolation
   (learning-rate time) as one more feature, ridge or GP, rank target (`QuantileTransformer`).

The held-out figures (curves 4000-4199) come from `bench_curves.py --part learned`, not from here.

    python bench/bench_curves_select.py
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
from bench_curves import arch_features, curves
from scipy.stats import norm, rankdata, spearmanr
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler

from graphnas.curves import cosine_schedule, extrapolate

K, EPOCHS = 6, 24


def load(first: int, n: int, cache: str) -> list[dict]:
    return curves(argparse.Namespace(first_curve=first, curves=n, cache=cache, epochs=EPOCHS, channels=4,
                                     max_train=300))


def model(name: str):
    if name == "ridge":
        return make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 3, 11)))
    if name == "gp":
        return make_pipeline(StandardScaler(), GaussianProcessRegressor(
            ConstantKernel() * RBF(3.0) + WhiteKernel(), normalize_y=True, random_state=0))
    if name == "rf":
        return RandomForestRegressor(300, min_samples_leaf=3, random_state=0, n_jobs=1)
    return HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, max_leaf_nodes=8, min_samples_leaf=8,
                                         random_state=0)


def features(kind: str, y: np.ndarray, a: np.ndarray) -> np.ndarray:
    y = y[:, :K]
    if kind == "baker":
        f = np.concatenate([y, np.diff(y, axis=1), np.diff(y, n=2, axis=1)], axis=1)
    else:  # compact
        f = np.stack([y[:, -1], y[:, -3:].mean(1), y.max(1), (y[:, -1] - y[:, -3]) / 2, y[:, 0]], axis=1)
    return np.concatenate([f, a], axis=1)


def fit_predict(name: str, target: str, x: np.ndarray, y: np.ndarray, xt: np.ndarray, last: np.ndarray,
                last_t: np.ndarray) -> np.ndarray:
    if target == "resid":
        return model(name).fit(x, y - last).predict(xt) + last_t
    if target == "rank":
        return model(name).fit(x, norm.ppf((rankdata(y) - 0.5) / len(y))).predict(xt)
    return model(name).fit(x, y).predict(xt)


def part_cv(data: list[dict]) -> None:
    y = np.array([c["curve"] for c in data])
    fin, a = y[:, -1], arch_features(data, 4)[:, :4]  # the first round's features: size and space
    print(f"\n1. 10-fold cross-validation (3 shuffles) over {len(y)} curves; last value "
          f"{spearmanr(y[:, K - 1], fin)[0]:.3f}")
    print("| features | model | target: final | residual over the last value | rank (normal score) |")
    print("|---|---|---:|---:|---:|")
    for kind in ("baker", "compact"):
        x = features(kind, y, a)
        for name in ("ridge", "gp", "rf", "boosted trees"):
            cells = []
            for target in ("final", "resid", "rank"):
                rs = []
                for rep in range(3):
                    fold = np.random.default_rng(rep).permutation(len(y)) % 10
                    pred = np.zeros(len(y))
                    for f in range(10):
                        tr, te = fold != f, fold == f
                        pred[te] = fit_predict(name, target, x[tr], fin[tr], x[te], y[tr, K - 1], y[te, K - 1])
                    rs.append(spearmanr(pred, fin)[0])
                cells.append(f"{np.mean(rs):.3f}")
            print(f"| {kind} | {name} | " + " | ".join(cells) + " |", flush=True)


def part_pool(pool: list[dict], test: list[dict]) -> None:
    yp, yt = np.array([c["curve"] for c in pool]), np.array([c["curve"] for c in test])
    ap, at = arch_features(pool, 4), arch_features(test, 4)
    print(f"\n2. learned from {len(yp)} pool curves, tested on {len(yt)}; last value "
          f"{spearmanr(yt[:, K - 1], yt[:, -1])[0]:.3f}")
    print("| architecture features | model | target: final | rank (normal score) |")
    print("|---|---|---:|---:|")
    for label, cols in (("size, space (first round)", slice(0, 4)), ("+ op counts, depth, nodes, edges", slice(None))):
        x, xt = features("baker", yp, ap[:, cols]), features("baker", yt, at[:, cols])
        for name in ("ridge", "gp"):
            preds = [fit_predict(name, t, x, yp[:, -1], xt, yp[:, K - 1], yt[:, K - 1]) for t in ("final", "rank")]
            cells = [f"{spearmanr(p, yt[:, -1])[0]:.3f}" for p in preds]
            print(f"| {label} | {name} | " + " | ".join(cells) + " |", flush=True)


def part_extrapolation(pool: list[dict], test: list[dict]) -> None:
    yp, yt = np.array([c["curve"] for c in pool]), np.array([c["curve"] for c in test])
    ap, at = arch_features(pool, 4), arch_features(test, 4)
    schedule = cosine_schedule(EPOCHS, -(-300 // 64))

    def ext(y: np.ndarray) -> np.ndarray:
        return np.array([[extrapolate(c[:K], EPOCHS, lower=0.0, upper=100.0, schedule=schedule).mean] for c in y])

    ep, et = ext(yp), ext(yt)
    fin = yt[:, -1]
    print(f"\n3. learned from {len(yp)} pool curves, tested on {len(yt)}, rank target (QuantileTransformer); "
          f"last value {spearmanr(yt[:, K - 1], fin)[0]:.3f}, "
          f"the extrapolation alone {spearmanr(et[:, 0], fin)[0]:.3f}")
    print("| model | without the extrapolation | with it as a feature |")
    print("|---|---:|---:|")
    for name in ("ridge", "gp"):
        cells = []
        for with_ext in (False, True):
            x, xt = features("baker", yp, ap), features("baker", yt, at)
            if with_ext:
                x, xt = np.concatenate([x, ep], axis=1), np.concatenate([xt, et], axis=1)
            reg = TransformedTargetRegressor(model(name), transformer=QuantileTransformer(
                n_quantiles=len(yp), output_distribution="normal", random_state=0))
            cells.append(f"{spearmanr(reg.fit(x, yp[:, -1]).predict(xt), fin)[0]:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", module="sklearn")  # GP kernel bounds reached: reported, not fatal
    picked = load(0, 100, "bench/curves_digits.jsonl") + load(1000, 60, "bench/curves_digits_fresh.jsonl")
    pool = load(3000, 400, "bench/curves_digits_pool.jsonl")
    part_cv(picked)
    part_pool(pool, picked)
    part_extrapolation(pool, picked + load(2000, 120, "bench/curves_digits_2000.jsonl"))


if __name__ == "__main__":
    main()
