"""Learning-curve extrapolation: synthetic curves with known asymptotes and real digits curves."""

from __future__ import annotations

import numpy as np
import pytest

from graphnas.curves import FAMILIES, extrapolate, should_stop

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
    ext = extrapolate(curve[:6], 12, lower=0, upper=100)
    assert 0 <= ext.mean <= 100 and ext.std > 0
    assert abs(ext.mean - curve[-1]) < 15.0
