"""Learning-curve extrapolation (Domhan, Springenberg and Hutter 2015) and an early-stopping rule.

`extrapolate` fits an ensemble of parametric curve families (pow3, pow4, log-power, MMF,
Janoschek, Weibull, exp4, ilog2, vapour pressure) to the first epochs of a learning curve with
``scipy.optimize.curve_fit`` and predicts its value at a target epoch. Each family is weighted by
its fit (``exp(-BIC / 2)``, normalised); the uncertainty adds the families' disagreement, each
fit's parameter uncertainty carried to the target epoch (delta method) and the residual noise.
`should_stop` stops a run when the probability that it beats the incumbent falls below
``delta`` (a normal approximation of the ensemble's prediction).

Domhan et al.'s constraints are kept as rejections, not clips: a family whose prediction leaves
``[lower, upper]`` or falls below its own fitted value at the last observed epoch (a learning curve
does not turn down) is dropped from the ensemble, and the ensemble's prediction is at least the last
observed value.

**Learning-rate time.** With a decaying learning-rate schedule (the cosine schedule of
`graphnas.train`) a curve flattens because the learning rate shrinks, which no family sees in the
epoch index. Pass ``schedule`` (the run's per-epoch learning rates, e.g. `cosine_schedule`) and the
families are fitted against the cumulative learning rate (`lr_time`) instead, and predicted at the
run's total: progress per unit of learning rate is what the families describe.

This is Domhan et al.'s ensemble fitted by least squares and combined by BIC weights, not their
MCMC posterior: cheaper, and good enough to rank and to stop the hopeless.

**Example**

```python
>>> import numpy as np
>>> from graphnas.curves import extrapolate, should_stop
>>> epochs = np.arange(1, 21)
>>> curve = 90 - 40 * epochs ** -0.8
>>> round(extrapolate(curve, 100).mean)
89
>>> should_stop(curve, 100, incumbent=95.0, delta=0.05)
True

```
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graphnas._checks import is_integer

__all__ = ["FAMILIES", "CurveFamily", "CurvePredictor", "EarlyStopping", "Extrapolation", "cosine_schedule",
           "extrapolate", "lr_time", "should_stop"]

Array = np.ndarray


@dataclass(frozen=True)
class CurveFamily:
    """A parametric curve ``f(x, *theta)`` with a way to start its fit from the data (``x`` in epochs,
    ``y`` scaled so that its largest magnitude is 1)."""

    name: str
    f: Callable[..., Array]
    p0: Callable[[Array, Array], list[float]]
    bounds: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))

    @property
    def n_params(self) -> int:
        return len(self.bounds[0])


def _last(y: Array) -> float:
    return float(y[-1])


_INF = np.inf
_EXP_CLIP = 50.0


def _exp(z: Array) -> Array:
    return np.exp(np.clip(z, -_EXP_CLIP, _EXP_CLIP))


#: The families of Domhan et al. (2015, Table 1) but the two log-linear ones, keyed by name.
FAMILIES: dict[str, CurveFamily] = {f.name: f for f in [
    CurveFamily("pow3", lambda x, c, a, alpha: c - a * x ** (-alpha),
                lambda x, y: [_last(y), _last(y) - float(y[0]), 0.5], ([-_INF, -_INF, 0.0], [_INF, _INF, 10.0])),
    CurveFamily("pow4", lambda x, c, a, b, alpha: c - np.abs(a * x + b) ** (-alpha),
                lambda x, y: [_last(y), 1.0, 1.0, 0.5], ([-_INF, 0.0, 1e-6, 0.0], [_INF, _INF, _INF, 10.0])),
    CurveFamily("log_power", lambda x, a, b, c: a / (1.0 + (x / _exp(b)) ** c),
                lambda x, y: [_last(y), 0.0, -1.0], ([-_INF, -20.0, -10.0], [_INF, 20.0, 0.0])),
    CurveFamily("mmf", lambda x, alpha, beta, kappa, delta: alpha - (alpha - beta) / (1.0 + (kappa * x) ** delta),
                lambda x, y: [_last(y), float(y[0]), 0.5, 1.0], ([-_INF, -_INF, 1e-8, 0.0], [_INF, _INF, _INF, 10.0])),
    CurveFamily("janoschek", lambda x, alpha, beta, kappa, delta:
                alpha - (alpha - beta) * _exp(-kappa * x ** delta),
                lambda x, y: [_last(y), float(y[0]), 0.5, 0.5], ([-_INF, -_INF, 0.0, 0.0], [_INF, _INF, _INF, 10.0])),
    CurveFamily("weibull", lambda x, alpha, beta, kappa, delta:
                alpha - (alpha - beta) * _exp(-((kappa * x) ** delta)),
                lambda x, y: [_last(y), float(y[0]), 0.5, 0.5], ([-_INF, -_INF, 1e-8, 0.0], [_INF, _INF, _INF, 10.0])),
    CurveFamily("exp4", lambda x, c, a, b, alpha: c - _exp(-a * x ** alpha + b),
                lambda x, y: [_last(y), 0.5, 0.0, 0.5], ([-_INF, 0.0, -_INF, 0.0], [_INF, _INF, _INF, 10.0])),
    CurveFamily("ilog2", lambda x, c, a: c - a / np.log(x + 1.0),
                lambda x, y: [_last(y), 0.1], ([-_INF, -_INF], [_INF, _INF])),
    CurveFamily("vapor_pressure", lambda x, a, b, c: _exp(a + b / x + c * np.log(x)),
                lambda x, y: [math.log(max(_last(y), 1e-3)), -0.1, 0.0], ([-20.0, -_INF, -5.0], [20.0, _INF, 5.0])),
]}


@dataclass(frozen=True)
class Extrapolation:
    """The ensemble's prediction of a curve's value at ``target_epoch``: ``mean`` and ``std``, with each
    family's prediction and weight (families that failed to fit are absent)."""

    target_epoch: float
    mean: float
    std: float
    predictions: Mapping[str, float]
    weights: Mapping[str, float]

    def prob_above(self, value: float) -> float:
        """P(final value > ``value``) under a normal with this mean and std."""
        if self.std <= 0.0:
            return float(self.mean > value)
        return 0.5 * math.erfc((value - self.mean) / (self.std * math.sqrt(2.0)))


def _check_curve(curve: Sequence[float] | Array, epochs: Sequence[float] | Array | None) -> tuple[Array, Array]:
    y = np.asarray(curve, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"a learning curve must be one-dimensional, got shape {y.shape}")
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        raise ValueError(f"the learning curve has a non-finite value (NaN or inf) at position {int(bad[0])} "
                         f"(epoch {int(bad[0]) + 1 if epochs is None else epochs[int(bad[0])]}); "
                         "drop or fill it before extrapolating")
    x = np.arange(1, len(y) + 1, dtype=float) if epochs is None else np.asarray(epochs, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"epochs has {x.size} entries but the curve has {y.size}")
    if np.any(~np.isfinite(x)) or np.any(x <= 0) or np.any(np.diff(x) <= 0):
        raise ValueError("epochs must be positive and increasing")
    return x, y


def cosine_schedule(epochs: int, steps_per_epoch: int = 1) -> Array:
    """The per-epoch mean learning rate (relative to the initial one) of a cosine schedule annealed per step to
    zero over ``epochs * steps_per_epoch`` steps, as `graphnas.train` runs it (``schedule="cosine"``).

    ```python
    >>> from graphnas.curves import cosine_schedule
    >>> cosine_schedule(4).round(3).tolist()
    [1.0, 0.854, 0.5, 0.146]

    ```
    """
    if epochs < 1 or steps_per_epoch < 1:
        raise ValueError(f"epochs and steps_per_epoch must be positive, got {epochs} and {steps_per_epoch}")
    total = epochs * steps_per_epoch
    lr = 0.5 * (1.0 + np.cos(np.pi * np.arange(total) / total))
    return lr.reshape(epochs, steps_per_epoch).mean(axis=1)


def lr_time(schedule: Sequence[float] | Array) -> Array:
    """Learning-rate time: the cumulative learning rate after each epoch, in epochs at the schedule's largest
    rate (``cumsum(schedule) / max(schedule)``); a constant schedule gives 1, 2, 3, ..."""
    lr = np.asarray(schedule, dtype=float)
    if lr.ndim != 1 or lr.size == 0 or np.any(~np.isfinite(lr)) or np.any(lr < 0) or not np.any(lr > 0):
        raise ValueError("a learning-rate schedule must be a non-empty list of non-negative finite per-epoch rates, "
                         "not all zero")
    return np.cumsum(lr) / float(lr.max())


def _schedule_axis(schedule: Sequence[float] | Array, x: Array, target_epoch: float) -> tuple[Array, float]:
    """The observed epochs ``x`` (1-based) and ``target_epoch`` in learning-rate time (see `extrapolate`)."""
    tau = lr_time(schedule)
    if float(target_epoch) != len(tau):
        raise ValueError(f"the schedule has {len(tau)} per-epoch learning rates but target_epoch is {target_epoch}: "
                         "pass the whole run's schedule, one rate per epoch up to target_epoch")
    if np.any(x != np.round(x)) or x[-1] > len(tau):
        raise ValueError(f"with a schedule the observed epochs must be whole epochs within its {len(tau)}, got "
                         f"epochs up to {x[-1]:g}")
    pos = tau[x.astype(int) - 1]
    if np.any(np.diff(pos) <= 0) or pos[0] <= 0:
        raise ValueError("the schedule has a zero learning rate among the observed epochs, where learning-rate time "
                         "does not advance; extrapolate against the epochs instead (no schedule)")
    return pos, float(tau[-1])


def extrapolate(curve: Sequence[float] | Array, target_epoch: float, *, epochs: Sequence[float] | Array | None = None,
                families: Sequence[str] | None = None, lower: float | None = None,
                upper: float | None = None, schedule: Sequence[float] | Array | None = None) -> Extrapolation:
    """Predict the curve's value at ``target_epoch`` from its observed values.

    Args:
        curve: the observed values (e.g. validation accuracy), one per epoch.
        target_epoch: the epoch to predict (e.g. the full training budget).
        epochs: the epochs of the observations (default 1, 2, ...).
        families: names from `FAMILIES` (default: all).
        lower: a lower bound of the value (e.g. 0 for an accuracy in percent): a family predicting below it is
            dropped from the ensemble.
        upper: an upper bound of the value (e.g. 100 for an accuracy in percent), likewise.
        schedule: the run's learning rate per epoch, ``target_epoch`` of them (e.g.
            ``cosine_schedule(target_epoch, steps_per_epoch)``); the observations (at ``epochs``, default 1,
            2, ...) are then placed at their learning-rate time (`lr_time`) to fit the families, and the
            prediction is made at the run's total.

    Raises:
        ValueError: a curve with NaNs or infs, naming the position; fewer points than the smallest
            family needs (its parameters plus one); unknown families; a target before the last epoch;
            a schedule that is not one rate per epoch up to ``target_epoch``.
    """
    from scipy.optimize import curve_fit

    x, y = _check_curve(curve, epochs)
    target = float(target_epoch)
    if schedule is not None:
        x, target = _schedule_axis(schedule, x, target_epoch)
    names = list(FAMILIES) if families is None else list(families)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown or not names:
        raise ValueError(f"unknown curve families {unknown}; known: {', '.join(FAMILIES)}")
    fams = [FAMILIES[n] for n in names]
    need = min(f.n_params for f in fams) + 1
    if len(y) < need:
        raise ValueError(f"a learning curve of {len(y)} points is too short: the families {names} need at least "
                         f"{need} (one more than the parameters of the smallest)")
    if not target_epoch >= x[-1]:
        raise ValueError(f"target_epoch {target_epoch} is before the last observed epoch {x[-1]}")
    if lower is not None and upper is not None and not lower < upper:
        raise ValueError(f"lower must be below upper, got lower={lower}, upper={upper}")
    scale = float(np.max(np.abs(y))) or 1.0
    ys = y / scale
    n = len(y)
    preds: dict[str, float] = {}
    bics: dict[str, float] = {}
    variances: dict[str, float] = {}
    t = np.array([target])
    at = np.array([target, x[-1]])
    for fam in fams:
        k = fam.n_params
        if n <= k:
            continue
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                theta, cov = curve_fit(fam.f, x, ys, p0=fam.p0(x, ys), bounds=fam.bounds, maxfev=300)
                resid = ys - fam.f(x, *theta)
                pred, fitted_last = (float(v) for v in fam.f(at, *theta))
        except (RuntimeError, ValueError, FloatingPointError, OverflowError, ZeroDivisionError):
            continue
        rss = float(np.sum(resid ** 2))
        if not (math.isfinite(pred) and math.isfinite(rss)) or pred < fitted_last - 1e-9:
            continue  # a fit that fails, or turns down after the data (Domhan et al.'s prior: curves rise)
        sigma2 = max(rss / max(n - k, 1), 1e-12)
        var = sigma2 + _param_var(fam, theta, cov, t)
        p = pred * scale
        if (lower is not None and p < lower) or (upper is not None and p > upper):
            continue  # outside the value's range: rejected, as Domhan et al.'s prior does, not clipped
        bics[fam.name] = n * math.log(max(rss / n, 1e-12)) + k * math.log(n)
        preds[fam.name] = p
        variances[fam.name] = var * scale ** 2
    if not preds:  # every fit failed or was rejected: fall back to the last value, uncertain by the curve's own spread
        return Extrapolation(float(target_epoch), float(y[-1]), float(np.std(y)) or 1e-9, {}, {})
    best = min(bics.values())
    raw = {k: math.exp(-(b - best) / 2.0) for k, b in bics.items()}
    total = sum(raw.values())
    w = {k: v / total for k, v in raw.items()}
    mean = sum(w[k] * preds[k] for k in preds)
    var = sum(w[k] * ((preds[k] - mean) ** 2 + variances[k]) for k in preds)
    mean = max(mean, float(y[-1]))  # the final value is at least the last observed one
    return Extrapolation(float(target_epoch), float(mean), math.sqrt(var), preds, w)


class CurvePredictor:
    """Predict a run's final value from its first epochs, learned from runs that finished (after Baker, Gupta,
    Raskar and Naik 2017, "Accelerating neural architecture search using performance prediction").

    Where `extrapolate` sees one curve alone, a search has many finished ones: `fit` takes them (complete,
    all of the same length, the run's full budget), and for a partial curve of ``k`` points a regression maps
    its values, their first and second differences (Baker et al.'s features) and optional per-run features
    (``extra``: e.g. the architecture's log parameter count) to the final value. It is trained on the first
    ``k`` points of every finished curve (one model per ``k``, fitted when first asked and kept). The model is
    a ridge regression on standardised features, its penalty chosen by leave-one-out (``model="ridge"``,
    the default), or Baker et al.'s ν-SVR with an RBF kernel, ``C`` and width chosen by cross-validation
    (``model="svr"``); on real digits curves the ridge ranked at least as well and is faster (see
    docs/benchmarks/multifidelity.md). By default (``target="quantile"``) the model learns the finals'
    ranks as normal scores (`sklearn.preprocessing.QuantileTransformer`) and its predictions are mapped back
    through the finals' quantiles, so a prediction never leaves the range of the finished runs' finals: it
    cannot say that a run will beat the best finished one, only how close it comes (with its std, the
    probability `Extrapolation.prob_above` gives of beating that best is at most one half). On real digits
    curves it ranked as well as learning the values themselves (``target="value"``, which extrapolates past
    the finished runs), with a smaller error, and was steadier with few runs to learn from. The out-of-fold
    error of the chosen model over ``folds`` folds is the prediction's ``std`` (a normal, as `Extrapolation`
    says). Deterministic: the folds and the quantiles come from ``seed``.

    It needs finished runs to learn from and features of the run: on digits, learning from 100-400 finished
    runs with the cell's size and op counts as ``extra``, it ranked 200 held-out runs after 25% of their
    epochs better than their last value (Spearman 0.83 against 0.80; from 100 runs with a bootstrap
    interval only just above zero); with the size alone it had tied.

    Args:
        model: ``"ridge"`` or ``"svr"``.
        target: ``"quantile"`` (learn the finals' normal scores) or ``"value"`` (learn the finals, standardised).
        folds: cross-validation folds (at most the number of curves).
        seed: the folds' shuffle.

    **Example**

    ```python
    >>> import numpy as np
    >>> from graphnas.curves import CurvePredictor
    >>> e = np.arange(1, 21)
    >>> ceilings = np.random.default_rng(0).normal(80, 6, 30)
    >>> finished = [c - 40 * e ** -0.8 for c in ceilings]                  # 30 runs of 20 epochs
    >>> p = CurvePredictor(seed=0).fit(finished)
    >>> ext = p.predict(80 - 40 * e[:5] ** -0.8)                          # a new run after 5 epochs
    >>> round(ext.mean, 1), round(80 - 40 * 20 ** -0.8, 1)                # predicted and true final value
    (76.9, 76.4)

    ```
    """

    MODELS = ("ridge", "svr")
    TARGETS = ("quantile", "value")

    def __init__(self, model: str = "ridge", *, target: str = "quantile", folds: int = 5, seed: int = 0) -> None:
        if model not in self.MODELS:
            raise ValueError(f"unknown model {model!r}; choose one of {', '.join(self.MODELS)}")
        if target not in self.TARGETS:
            raise ValueError(f"unknown target {target!r}; choose one of {', '.join(self.TARGETS)}")
        if folds < 2:
            raise ValueError(f"folds must be at least 2, got {folds}")
        self.model, self.target, self.folds, self.seed = model, target, int(folds), int(seed)
        self._curves: Array | None = None
        self._extra: Array | None = None
        self._models: dict[int, tuple[Any, float]] = {}  # k -> (fitted model, out-of-fold rmse)

    def __repr__(self) -> str:
        n = 0 if self._curves is None else len(self._curves)
        return (f"CurvePredictor({self.model!r}, target={self.target!r}, {n} finished curves, folds={self.folds}, "
                f"seed={self.seed})")

    @property
    def length(self) -> int:
        """The epochs of the finished curves (the target epoch of every prediction)."""
        if self._curves is None:
            raise RuntimeError("the predictor has not been fitted: call fit(finished_curves) first")
        return int(self._curves.shape[1])

    def fit(self, curves: Sequence[Sequence[float]], extra: Sequence[Sequence[float]] | Array | None = None
            ) -> CurvePredictor:
        """Learn from finished runs' curves (each the full budget, all of one length); returns ``self``.

        ``extra``: optional features per run, one row per curve; `predict` then needs the same features.

        Raises:
            ValueError: fewer curves than ``folds`` (or than 3), curves of different lengths or shorter than 2
                points, or a NaN/inf (each naming the curve), or ``extra`` with another number of rows.
        """
        rows = [np.array(c, dtype=float) for c in curves]
        if len(rows) < max(self.folds, 3):
            raise ValueError(f"{len(rows)} finished curves are too few to learn from with {self.folds}-fold "
                             f"cross-validation: give at least {max(self.folds, 3)}")
        n = rows[0].size
        for i, r in enumerate(rows):
            if r.ndim != 1:
                raise ValueError(f"curve {i} is not one-dimensional (shape {r.shape}): one value per epoch")
            if r.size != n:
                raise ValueError(f"curve {i} has {r.size} points but curve 0 has {n}: finished curves must all "
                                 "cover the same budget (drop or finish the shorter ones)")
            bad = np.flatnonzero(~np.isfinite(r))
            if bad.size:
                raise ValueError(f"curve {i} has a non-finite value (NaN or inf) at epoch {int(bad[0]) + 1}")
        if n < 2:
            raise ValueError("finished curves need at least 2 points (one observed, one to predict)")
        x = None
        if extra is not None:
            x = np.array(extra, dtype=float).reshape(len(extra), -1)  # a copy: models are fitted later, lazily
            if len(x) != len(rows):
                raise ValueError(f"extra has {len(x)} rows but there are {len(rows)} curves: one row per curve")
            if not np.all(np.isfinite(x)):
                raise ValueError("extra has a non-finite value (NaN or inf)")
        self._curves, self._extra, self._models = np.stack(rows), x, {}
        return self

    @staticmethod
    def _features(y: Array) -> Array:
        """Per row: the values, their first differences and their second differences (Baker et al.)."""
        return np.concatenate([y, np.diff(y, n=1, axis=1), np.diff(y, n=2, axis=1)], axis=1)

    def _candidates(self, width: int) -> list[Any]:
        """The models to choose from by cross-validation (fitted through `_fit`)."""
        from graphnas._lazy import untouched_import

        with untouched_import():  # scikit-learn's first import draws from the global random
            from sklearn.compose import TransformedTargetRegressor
            from sklearn.linear_model import RidgeCV
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import QuantileTransformer, StandardScaler
            from sklearn.svm import NuSVR

        if self.model == "ridge":  # one candidate: RidgeCV picks its own penalty (efficient leave-one-out)
            regs = [make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-2, 3, 11)))]
        else:
            regs = [make_pipeline(StandardScaler(), NuSVR(nu=0.5, C=c, gamma=g / width))
                    for c in (0.3, 1.0, 3.0, 10.0) for g in (0.3, 1.0, 3.0)]

        def target() -> Any:
            if self.target == "quantile":  # the finals' ranks as normal scores, mapped back through their quantiles
                return QuantileTransformer(output_distribution="normal", random_state=self.seed)
            return StandardScaler()
        return [TransformedTargetRegressor(reg, transformer=target()) for reg in regs]

    def _fit(self, candidate: Any, x: Array, y: Array) -> Any:
        """A fresh copy of ``candidate`` fitted on ``(x, y)``; a quantile target keeps one quantile per curve."""
        from graphnas._lazy import untouched_import

        with untouched_import():
            from sklearn.base import clone

        model = clone(candidate)
        if self.target == "quantile":
            model.set_params(transformer__n_quantiles=min(len(y), 1000))
        return model.fit(x, y)

    def _model(self, k: int) -> tuple[Any, float]:
        if k in self._models:
            return self._models[k]
        from graphnas._lazy import untouched_import

        with untouched_import():
            from sklearn.model_selection import KFold

        assert self._curves is not None
        x = self._features(self._curves[:, :k])
        if self._extra is not None:
            x = np.concatenate([x, self._extra], axis=1)
        y = self._curves[:, -1]
        folds = list(KFold(min(self.folds, len(y)), shuffle=True, random_state=self.seed).split(x))
        best: tuple[float, Any] | None = None
        for cand in self._candidates(x.shape[1]):
            err = np.empty_like(y)
            for train, test in folds:
                err[test] = self._fit(cand, x[train], y[train]).predict(x[test]) - y[test]
            rmse = float(np.sqrt(np.mean(err ** 2)))
            if best is None or rmse < best[0] - 1e-12:
                best = (rmse, cand)
        assert best is not None
        self._models[k] = (self._fit(best[1], x, y), best[0])
        return self._models[k]

    def predict(self, curve: Sequence[float] | Array, extra: Sequence[float] | Array | None = None
                ) -> Extrapolation:
        """The final value of a run from its first epochs (``len(curve)`` of them, fewer than `length`).

        Raises:
            RuntimeError: not fitted.
            ValueError: a NaN/inf in the curve (naming the epoch), a curve as long as the finished ones or
                longer, or ``extra`` given to a predictor fitted without it (or the other way round).
        """
        _, y = _check_curve(curve, None)
        n = self.length
        if y.size >= n:
            raise ValueError(f"the curve has {y.size} points; the finished curves have {n}: nothing is left to "
                             "predict")
        if y.size < 1:
            raise ValueError("the curve is empty: observe at least one epoch")
        if (extra is None) != (self._extra is None):
            raise ValueError("extra features must be given both to fit and to predict, or to neither")
        x = self._features(y[None, :])
        if extra is not None:
            assert self._extra is not None
            row = np.asarray(extra, dtype=float).reshape(1, -1)
            if row.shape[1] != self._extra.shape[1]:
                raise ValueError(f"extra has {row.shape[1]} features; the predictor was fitted with "
                                 f"{self._extra.shape[1]}")
            if not np.all(np.isfinite(row)):
                raise ValueError("extra has a non-finite value (NaN or inf)")
            x = np.concatenate([x, row], axis=1)
        model, rmse = self._model(int(y.size))
        mean = float(model.predict(x)[0])
        return Extrapolation(float(n), mean, rmse, {self.model: mean}, {self.model: 1.0})


def _param_var(fam: CurveFamily, theta: Array, cov: Any, t: Array) -> float:
    """The fitted parameters' uncertainty carried to ``f(t)`` (delta method, numerical gradient); capped."""
    cov = np.asarray(cov, dtype=float)
    if cov.shape != (len(theta), len(theta)) or not np.all(np.isfinite(cov)):
        return 1.0  # unidentifiable fit: as uncertain as the whole range (the scaled curve lies in [-1, 1])
    grad = np.empty(len(theta))
    for j in range(len(theta)):
        h = 1e-6 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        grad[j] = (fam.f(t, *up)[0] - fam.f(t, *down)[0]) / (2 * h)
    v = float(grad @ cov @ grad)
    return min(v, 1.0) if math.isfinite(v) and v >= 0 else 1.0


def should_stop(curve: Sequence[float] | Array, target_epoch: float, incumbent: float, delta: float = 0.05, *,
                mode: str = "max", **kwargs: Any) -> bool:
    """Stop when the probability that this run's value at ``target_epoch`` beats ``incumbent`` is below ``delta``.

    ``mode="max"`` (accuracy) or ``"min"`` (loss). Other keywords go to `extrapolate`. A curve that already
    reaches ``target_epoch`` is compared as it is.
    """
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be a probability in (0, 1), got {delta}")
    if mode not in ("max", "min"):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    sign = 1.0 if mode == "max" else -1.0
    y = np.asarray(curve, dtype=float)
    epochs = kwargs.get("epochs")
    last_epoch = (len(y) if epochs is None else float(np.asarray(epochs)[-1])) if y.ndim == 1 and y.size else 0
    if last_epoch >= target_epoch and np.all(np.isfinite(y)):
        return not sign * float(y[-1]) > sign * incumbent
    ext = extrapolate(sign * y, target_epoch, **_flip_bounds(kwargs, sign))
    return ext.prob_above(sign * incumbent) < delta


def _flip_bounds(kwargs: dict[str, Any], sign: float) -> dict[str, Any]:
    if sign > 0:
        return kwargs
    out = dict(kwargs)
    lo, hi = out.pop("lower", None), out.pop("upper", None)
    out["lower"] = None if hi is None else -hi
    out["upper"] = None if lo is None else -lo
    return out


class EarlyStopping:
    """The `should_stop` rule as an ``on_epoch`` callback for a training loop, with the incumbent it compares to.

    ``stopper.callback(target_epoch)`` returns ``on_epoch(epoch, value) -> bool``, the contract of
    `graphnas.benchmarks.train_eval` (and of any training loop that adopts it): called after each epoch
    with the validation value, it returns True to stop. From ``min_points`` observed epochs on (and only
    once an incumbent exists) it extrapolates the curve to ``target_epoch`` and stops when the
    probability of beating the incumbent is below ``delta``. The curve and the decision are kept on the
    callback (``callback.curve``, ``callback.decision``) to be journalled. `update` raises the incumbent
    after a completed run (thread-safe). The incumbent lives in this process: an evaluation sent to another
    process (a process pool, Ray, Dask) gets a copy that sees the incumbent (and the residuals below) of its
    submission and whose updates are lost, so run the evaluations in this process or on threads.

    **Calibrated on the runs that finished.** Early in a run the extrapolation alone is far too sure and too
    low: on 100 digits curves of 24 epochs, 84% of the finals lay above its 95% upper bound when it saw 5
    epochs (docs/benchmarks/multifidelity.md). So by default (``calibration_runs=5``) the rule learns how far
    off its forecasts were: each run that trains to its last epoch leaves, for every epoch at which a forecast
    was made, the residual ``final - forecast``. Once ``calibration_runs`` runs of the same length have left
    a residual at that epoch, the final is predicted as the forecast plus their mean, with a Student-t
    spread (``n - 1`` degrees of freedom, scale ``std * sqrt(1 + 1/n)``: the predictive interval of one
    more draw), and the rule stops when the probability of beating the incumbent under it is below
    ``delta``. Until then nothing is stopped at that epoch: there is no evidence yet of how far the
    forecast can be trusted. On the same curves 1.3-5.6% of the finals lie above the calibrated 95% bound at
    every epoch, learning from 3 to 20 finished runs. It cannot promise that a search keeps its best run: on
    digits searches of 10 runs it kept it in 7 of 10 (the raw rule in 5), saving 19% of the epochs (43%).
    ``calibration_runs=0`` decides on the raw extrapolation (its normal mean and std) from the first decision on.
    Only runs that were not stopped leave residuals (the sample leans towards curves that looked good early).
    They live in this object; the journal keeps each run's forecasts, and `resume` rebuilds the residuals and
    the incumbent from it (``graphnas search --early-stop`` does so when it resumes a journal). When
    calibrated, a decision's ``predicted_std`` is the Student-t scale.

    Args:
        delta: stop when P(final > incumbent) < ``delta``.
        min_points: epochs observed before the first decision (at least 3: the smallest family, ``ilog2``, has 2
            parameters and needs one point more).
        incumbent: the value to beat at the start (None: nothing is stopped until `update` sets one).
        lower: lower bound of the value (0 for an accuracy in percent).
        upper: upper bound of the value (100 for an accuracy in percent).
        mode: ``"max"`` (accuracy) or ``"min"`` (loss).
        calibration_runs: finished runs whose residuals an epoch needs before the rule stops a run there
            (0: no calibration; otherwise at least 2, for a spread).

    **Example**

    ```python
    >>> stopper = EarlyStopping(delta=0.05, incumbent=95.0, calibration_runs=0)   # the raw extrapolation
    >>> cb = stopper.callback(target_epoch=100)
    >>> [cb(e, 90 - 40 * e ** -0.8) for e in range(1, 6)]      # heads for 89, below 95: stopped
    [False, False, False, False, True]
    >>> cb.decision["stopped_at"]
    5

    ```
    """

    def __init__(self, delta: float = 0.05, *, min_points: int = 5, incumbent: float | None = None,
                 lower: float | None = 0.0, upper: float | None = 100.0, mode: str = "max",
                 calibration_runs: int = 5) -> None:
        if not 0.0 < delta < 1.0:
            raise ValueError(f"delta must be a probability in (0, 1), got {delta}")
        need = min(f.n_params for f in FAMILIES.values()) + 1
        if not is_integer(min_points, need):
            raise ValueError(f"min_points must be an integer of at least {need} (the smallest curve family has "
                             f"{need - 1} parameters, and a fit needs one point more), got {min_points!r}")
        if not is_integer(calibration_runs, 0) or calibration_runs == 1:
            raise ValueError(f"calibration_runs must be 0 (decide on the raw extrapolation) or an integer >= 2 "
                             f"(finished runs whose residuals give a spread), got {calibration_runs!r}")
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        self.delta, self.min_points, self.lower, self.upper, self.mode = delta, int(min_points), lower, upper, mode
        self.calibration_runs = int(calibration_runs)
        self.incumbent = incumbent
        # (run length, epoch) -> final - forecast of each finished run, in the rule's sign (higher is better)
        self.residuals: dict[tuple[int, int], list[float]] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"EarlyStopping(delta={self.delta}, min_points={self.min_points}, incumbent={self.incumbent}, "
                f"calibration_runs={self.calibration_runs})")

    def resume(self, history: Any) -> int:
        """Rebuild the incumbent and the residuals from a search read back from its journal
        (`graphnas.search.read_journal`, or the `History` that `run` returned): a resumed search then decides
        as the uninterrupted one would have, instead of calibrating afresh. Each completed evaluation raises
        the incumbent, and its recorded forecasts (``info["decision"]["forecasts"]``) give their residuals.
        Returns the number of runs whose residuals were learnt."""
        learnt = 0
        for e in getattr(history, "evaluations", history):
            if e.status != "ok":
                continue
            info = e.info or {}
            curve, decision = info.get("curve"), info.get("decision") or {}
            final = curve[-1] if curve else e.value
            if final is None or not math.isfinite(final):
                continue
            self.update(final)
            forecasts, target = decision.get("forecasts"), decision.get("target_epoch")
            if forecasts and target:
                self._learn(int(target), float(final), forecasts)
                learnt += 1
        return learnt

    def _learn(self, target_epoch: int, final: float, forecasts: Sequence[Sequence[float]]) -> None:
        """A run of ``target_epoch`` epochs finished at ``final`` after these ``[epoch, forecast]`` pairs (both
        values as the run reports them: a decision's ``forecasts``); the residuals are kept in the rule's sign."""
        sign = 1.0 if self.mode == "max" else -1.0
        with self._lock:
            for epoch, forecast in forecasts:
                self.residuals.setdefault((target_epoch, int(epoch)), []).append(sign * (final - float(forecast)))

    def _calibrated(self, target_epoch: int, epoch: int) -> list[float]:
        with self._lock:
            return list(self.residuals.get((target_epoch, epoch), ()))

    def update(self, value: float) -> None:
        """A run finished with ``value``: it becomes the incumbent if it beats it."""
        if not math.isfinite(value):
            return
        with self._lock:
            better = self.incumbent is None or (value > self.incumbent if self.mode == "max"
                                                else value < self.incumbent)
            if better:
                self.incumbent = float(value)

    def callback(self, target_epoch: int, schedule: Sequence[float] | Array | None = None) -> _StopCallback:
        """A fresh ``on_epoch(epoch, value) -> bool`` for one training run of ``target_epoch`` epochs.

        ``schedule``: the run's per-epoch learning rates (``target_epoch`` of them, e.g. `cosine_schedule`): the
        curve is then extrapolated in learning-rate time (see `extrapolate`); the digits objective passes its own.
        """
        if schedule is not None:
            n = len(lr_time(schedule))
            if n != int(target_epoch):
                raise ValueError(f"the schedule has {n} per-epoch learning rates but the run has {target_epoch} "
                                 "epochs: pass one rate per epoch of the run")
        return _StopCallback(self, int(target_epoch), schedule)


class _StopCallback:
    """One run's callback: keeps the curve, decides after each epoch (see `EarlyStopping`)."""

    def __init__(self, rule: EarlyStopping, target_epoch: int, schedule: Sequence[float] | Array | None = None
                 ) -> None:
        self.rule, self.target_epoch, self.schedule = rule, target_epoch, schedule
        self.curve: list[float] = []
        # the journal keeps the decision: its forecasts ([epoch, extrapolated final] pairs, in the value's own
        # sign) let `EarlyStopping.resume` rebuild the residuals of a search read back from its journal
        self.decision: dict[str, Any] = {"stopped_at": None, "prob_beat": None, "predicted": None,
                                         "predicted_std": None, "incumbent": None, "calibrated_on": None,
                                         "target_epoch": target_epoch, "forecasts": []}

    def __call__(self, epoch: int, value: float) -> bool:
        self.curve.append(float(value))
        rule = self.rule
        sign = 1.0 if rule.mode == "max" else -1.0
        if epoch >= self.target_epoch:  # finished: its forecasts' residuals calibrate the rule for later runs
            if self.decision["forecasts"] and math.isfinite(value):
                rule._learn(self.target_epoch, float(value), self.decision["forecasts"])
            return False
        incumbent = rule.incumbent
        if len(self.curve) < rule.min_points or (incumbent is None and not rule.calibration_runs):
            return False
        bounds = _flip_bounds({"lower": rule.lower, "upper": rule.upper}, sign)
        ext = extrapolate(sign * np.asarray(self.curve), self.target_epoch,
                          epochs=np.arange(epoch - len(self.curve) + 1, epoch + 1, dtype=float),
                          schedule=self.schedule, **bounds)
        self.decision["forecasts"].append([int(epoch), sign * ext.mean])
        if incumbent is None:  # nothing to beat yet; the forecast still counts once this run finishes
            return False
        if rule.calibration_runs:
            residuals = rule._calibrated(self.target_epoch, int(epoch))
            n = len(residuals)
            self.decision.update(calibrated_on=n, incumbent=incumbent)
            if n < rule.calibration_runs:
                self.decision.update(prob_beat=None, predicted=sign * ext.mean, predicted_std=ext.std)
                return False
            from scipy.stats import t as student_t

            mean = ext.mean + float(np.mean(residuals))
            scale = max(float(np.std(residuals, ddof=1)), 1e-9) * math.sqrt(1.0 + 1.0 / n)
            prob = float(student_t.sf((sign * incumbent - mean) / scale, n - 1))
            self.decision.update(prob_beat=prob, predicted=sign * mean, predicted_std=scale)
        else:
            prob = ext.prob_above(sign * incumbent)
            self.decision.update(prob_beat=prob, predicted=sign * ext.mean, predicted_std=ext.std,
                                 incumbent=incumbent)
        if prob < rule.delta:
            self.decision["stopped_at"] = epoch
            return True
        return False
