"""Learning-curve extrapolation: synthetic curves with known asymptotes and real digits curves."""

from __future__ import annotations

import numpy as np
import pytest

from graphnas.curves import FAMILIES, cosine_schedule, extrapolate, lr_time, should_stop

X = np.arange(1, 201, dtype=float)
TRUE = {
    "power law": lambda x: 90 - 40 * x ** -0.8,
    "exponential": lambda x: 95 - 50 * np.exp(-0.1 * x),
    "mmf": lambda x: 80 - 60 / (1 + (0.2 * x) ** 1.5),
}


@pytest.mark.parametrize("name", sorted(TRUE))
def test_extrapolation_of_noisy_synthetic_curves_lands_near_the_truth(name):
    f = TRUE[name]
    y = f(X) + np.random.default_rng(0).normal(0, 0.3, X.size)
    ext = extrapolate(y[:30], 200, lower=0, upper=100)
    truth = float(f(200.0))
    assert abs(ext.mean - truth) < 2.0  # the last observed value is 3-7 points below the truth
    assert abs(ext.mean - truth) < abs(y[29] - truth)
    assert abs(ext.mean - truth) <= 3 * ext.std  # the uncertainty covers the error
    assert abs(sum(ext.weights.values()) - 1) < 1e-9 and set(ext.weights) <= set(FAMILIES)


def test_more_epochs_mean_less_uncertainty():
    y = TRUE["mmf"](X) + np.random.default_rng(1).normal(0, 0.3, X.size)
    stds = [extrapolate(y[:n], 200).std for n in (10, 50)]
    assert stds[1] < stds[0]


def test_should_stop_the_hopeless_and_not_the_promising():
    y = TRUE["power law"](X)[:20]  # heads for 89.4
    assert should_stop(y, 200, incumbent=95.0, delta=0.05)
    assert not should_stop(y, 200, incumbent=85.0, delta=0.05)
    loss = 100 - y  # heads for 10.6: a loss, minimised
    assert should_stop(loss, 200, incumbent=5.0, mode="min")
    assert not should_stop(loss, 200, incumbent=15.0, mode="min")
    assert should_stop(y, 20, incumbent=float(y[-1]) + 0.1)  # a finished curve is compared as it is


def test_bad_curves_are_refused_naming_the_problem():
    with pytest.raises(ValueError, match="non-finite value .* position 2"):
        extrapolate([50.0, 60.0, float("nan"), 70.0, 72.0], 20)
    with pytest.raises(ValueError, match="2 points is too short.*at least 3"):
        extrapolate([50.0, 60.0], 20)
    with pytest.raises(ValueError, match="4 points is too short.*at least 5"):
        extrapolate([50.0, 60.0, 65.0, 67.0], 20, families=["mmf"])
    with pytest.raises(ValueError, match="unknown curve families \\['pow9'\\]"):
        extrapolate([50.0, 60.0, 65.0, 67.0], 20, families=["pow9"])
    with pytest.raises(ValueError, match="before the last observed epoch"):
        extrapolate([50.0, 60.0, 65.0, 67.0], 3)
    with pytest.raises(ValueError, match="delta"):
        should_stop([50.0, 60.0, 65.0, 67.0], 20, 70.0, delta=0.0)


def test_a_real_digits_curve_is_extrapolated_within_its_range():
    """The per-epoch curve of real training (train_eval's on_epoch) feeds the extrapolator; whether it beats
    the last-value baseline over many curves is a benchmark question, not this test's."""
    from graphnas.benchmarks.digits import train_eval
    from graphnas.generators import get_generator

    cell = get_generator("nb201").sample(seed=0)
    curve: list[float] = []
    res = train_eval(cell, epochs=12, seed=0, max_train=300, on_epoch=lambda e, acc: curve.append(acc))
    assert len(curve) == 12 and curve[-1] == res["val_accuracy"]
    ext = extrapolate(curve[:6], 12, lower=0, upper=100, schedule=cosine_schedule(12, 5))  # 300 images / 64
    assert 0 <= ext.mean <= 100 and ext.std > 0 and ext.mean >= curve[5]
    assert abs(ext.mean - curve[-1]) < 15.0


def test_cosine_schedule_and_lr_time():
    import torch

    lr = cosine_schedule(24, 5)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.05)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=120)  # what graphnas.train runs, per step
    steps = []
    for _ in range(120):
        steps.append(opt.param_groups[0]["lr"] / 0.05)
        opt.step()
        sched.step()
    assert lr == pytest.approx(np.reshape(steps, (24, 5)).mean(axis=1), abs=1e-9)
    tau = lr_time(lr)
    assert np.all(np.diff(tau) > 0) and tau[-1] == pytest.approx((60 + 0.5) / 5 / lr[0])  # about half the epochs
    assert lr_time([0.1, 0.1, 0.1]).tolist() == pytest.approx([1.0, 2.0, 3.0])


def test_a_schedule_places_the_curve_in_learning_rate_time():
    """A curve that is a saturating law of the cumulative learning rate (it flattens because the cosine schedule
    decays) is extrapolated well in learning-rate time and badly against the epoch index."""
    lr = cosine_schedule(40, 10)
    tau = lr_time(lr)
    truth = 90 - 60 * np.exp(-0.15 * tau)
    y = truth[:16] + np.random.default_rng(0).normal(0, 0.2, 16)
    by_lr = extrapolate(y, 40, lower=0, upper=100, schedule=lr)
    by_epoch = extrapolate(y, 40, lower=0, upper=100)
    assert abs(by_lr.mean - truth[-1]) < 1.5
    assert abs(by_lr.mean - truth[-1]) < abs(by_epoch.mean - truth[-1])
    again = extrapolate(y, 40, lower=0, upper=100, schedule=lr)  # deterministic
    assert (again.mean, again.std, dict(again.weights)) == (by_lr.mean, by_lr.std, dict(by_lr.weights))
    # the observed epochs may be any whole epochs of the run (a resumed curve)
    late = extrapolate(y[4:], 40, epochs=np.arange(5, 17), lower=0, upper=100, schedule=lr)
    assert abs(late.mean - truth[-1]) < 3.0


def test_constraints_reject_wild_fits_and_keep_the_last_value_as_a_floor():
    y = [10.0, 30.0, 45.0, 52.0, 55.0, 54.0, 53.0]  # turns down at the end
    ext = extrapolate(y, 40, lower=0, upper=100)
    assert ext.mean >= y[-1]
    assert all(0 <= p <= 100 for p in ext.predictions.values())  # rejected, not clipped: none sits at a bound
    assert all(p not in (0.0, 100.0) for p in ext.predictions.values())


def test_bad_schedules_are_refused_naming_the_problem():
    y = [10.0, 20.0, 30.0, 38.0, 45.0]
    with pytest.raises(ValueError, match="schedule has 20 per-epoch learning rates but target_epoch is 24"):
        extrapolate(y, 24, schedule=cosine_schedule(20))
    with pytest.raises(ValueError, match="whole epochs within its 24"):
        extrapolate(y, 24, epochs=[1.5, 2, 3, 4, 5], schedule=cosine_schedule(24))
    with pytest.raises(ValueError, match="non-negative finite"):
        extrapolate(y, 3, schedule=[0.1, float("nan"), 0.1])
    with pytest.raises(ValueError, match="zero learning rate"):
        extrapolate(y, 6, schedule=[0.1, 0.1, 0.0, 0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="epochs and steps_per_epoch must be positive"):
        cosine_schedule(0)


def _family(n: int, seed: int, epochs: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy curves whose final value is set by a per-run ceiling that the early epochs only hint at,
    and a per-run feature (the ceiling, noisily) that a search would know before training."""
    rng = np.random.default_rng(seed)
    e = np.arange(1, epochs + 1)
    ceiling = rng.uniform(60, 95, n)
    speed = rng.uniform(0.5, 1.5, n)
    y = ceiling[:, None] * (1 - np.exp(-speed[:, None] * e / 6)) + rng.normal(0, 1.0, (n, epochs))
    return y, (ceiling + rng.normal(0, 3.0, n))[:, None]


def test_curve_predictor_learns_finished_runs_and_ranks_partial_ones():
    from scipy.stats import spearmanr

    from graphnas.curves import CurvePredictor

    train, feat = _family(80, 0)
    test, tfeat = _family(60, 1)
    k = 3  # early: the last value says little about where a run levels off
    last = spearmanr(test[:, k - 1], test[:, -1])[0]
    plain = CurvePredictor(seed=0).fit(train)
    with_arch = CurvePredictor(seed=0).fit(train, extra=feat)
    p = np.array([plain.predict(c[:k]).mean for c in test])
    q = np.array([with_arch.predict(c[:k], extra=f).mean for c, f in zip(test, tfeat)])
    assert spearmanr(q, test[:, -1])[0] > max(last, spearmanr(p, test[:, -1])[0]) + 0.05
    assert np.abs(q - test[:, -1]).mean() < 0.8 * np.abs(p - test[:, -1]).mean()  # the run's feature helps
    ext = with_arch.predict(test[0, :k], extra=tfeat[0])
    assert ext.target_epoch == 20 and 0 < ext.std < 10  # the out-of-fold error: a few points on this family
    # the std is honest about its own out-of-fold error: most held-out runs within 2 std
    stds = np.array([with_arch.predict(c[:k], extra=f).std for c, f in zip(test, tfeat)])
    assert np.mean(np.abs(q - test[:, -1]) <= 2 * stds) > 0.85
    # deterministic, and the SVR of Baker et al. works the same way
    again = CurvePredictor(seed=0).fit(train, extra=feat).predict(test[0, :k], extra=tfeat[0])
    assert again == ext
    svr = CurvePredictor("svr", seed=0).fit(train)
    assert abs(svr.predict(test[0, :10]).mean - test[0, -1]) < 10


def test_curve_predictor_maps_its_rank_target_back_into_the_finished_runs_range():
    from scipy.stats import spearmanr

    from graphnas.curves import CurvePredictor

    train, _ = _family(60, 0)
    test, _ = _family(40, 1)
    test[:5] *= 1.3  # five runs beyond every finished one: a rank target cannot place them higher than the best
    q = CurvePredictor(seed=0).fit(train)
    v = CurvePredictor(target="value", seed=0).fit(train)
    assert q.target == "quantile" and "target='quantile'" in repr(q)
    pq = np.array([q.predict(c[:8]).mean for c in test])
    pv = np.array([v.predict(c[:8]).mean for c in test])
    lo, hi = train[:, -1].min(), train[:, -1].max()
    assert np.all((pq >= lo - 1e-9) & (pq <= hi + 1e-9))
    assert pv.max() > hi  # a linear model of the values extrapolates past them
    # both learn the same ordering of ordinary runs
    assert spearmanr(pq[5:], test[5:, -1])[0] > 0.8 and spearmanr(pv[5:], test[5:, -1])[0] > 0.8


def test_curve_predictor_refuses_bad_input_naming_it():
    from graphnas.curves import CurvePredictor

    y, f = _family(10, 0)
    with pytest.raises(ValueError, match="too few"):
        CurvePredictor().fit(y[:3])
    with pytest.raises(ValueError, match="curve 2 has 19 points but curve 0 has 20"):
        CurvePredictor().fit([*y[:2], y[2, :19], *y[3:]])
    bad = y.copy()
    bad[4, 7] = np.nan
    with pytest.raises(ValueError, match="curve 4 has a non-finite value .* at epoch 8"):
        CurvePredictor().fit(bad)
    with pytest.raises(ValueError, match="unknown model 'gp'"):
        CurvePredictor("gp")
    with pytest.raises(ValueError, match="unknown target 'rank'"):
        CurvePredictor(target="rank")
    with pytest.raises(ValueError, match="folds must be at least 2"):
        CurvePredictor(folds=1)
    with pytest.raises(ValueError, match="extra has 9 rows but there are 10 curves"):
        CurvePredictor().fit(y, extra=f[:9])
    with pytest.raises(ValueError, match="at least 2 points"):
        CurvePredictor().fit(y[:, :1])
    with pytest.raises(ValueError, match="curve 0 is not one-dimensional"):
        CurvePredictor().fit([y[:2], *y[2:]])
    with pytest.raises(RuntimeError, match="not been fitted"):
        CurvePredictor().predict(y[0, :5])
    p = CurvePredictor().fit(y, extra=f)
    with pytest.raises(ValueError, match="nothing is left to predict"):
        p.predict(y[0])
    with pytest.raises(ValueError, match="both to fit and to predict"):
        p.predict(y[0, :5])
    with pytest.raises(ValueError, match="extra has 2 features; the predictor was fitted with 1"):
        p.predict(y[0, :5], extra=[1.0, 2.0])
    with pytest.raises(ValueError, match="non-finite value .* at position 1"):
        p.predict([50.0, np.nan], extra=f[0])
    with pytest.raises(ValueError, match="the curve is empty"):
        p.predict([], extra=f[0])
    with pytest.raises(ValueError, match="extra has a non-finite value"):
        p.predict(y[0, :5], extra=[np.nan])
    kept = f.copy()
    q = CurvePredictor().fit(y, extra=kept)
    kept[:] = 0.0  # the caller's array changes after fit: the model for 6 points, fitted later, does not see it
    assert q.predict(y[0, :6], extra=f[0]).mean == CurvePredictor().fit(y, extra=f).predict(y[0, :6], extra=f[0]).mean


def test_the_module_examples_run():
    import doctest

    import graphnas.curves

    result = doctest.testmod(graphnas.curves)
    assert result.attempted > 0 and result.failed == 0
