"""Early stopping plugged into training: the on_epoch contract, EarlyStopping's decisions, and how the search
records a stopped evaluation (status "stopped": neither failed nor a result), with its curve and decision."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from graphnas.benchmarks import train_eval
from graphnas.benchmarks.objectives import get_objective
from graphnas.curves import EarlyStopping, extrapolate
from graphnas.generators import NB201Space
from graphnas.search import RandomSearch, read_journal, run

CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def test_on_epoch_returning_true_stops_training():
    seen = []

    def stop_after_two(epoch, acc):
        seen.append((epoch, acc))
        return epoch == 2

    r = train_eval(NB201Space().from_string(CELL), epochs=5, max_train=128, seed=0, on_epoch=stop_after_two)
    assert [e for e, _ in seen] == [1, 2] and r["epochs_run"] == 2 and r["stopped"]
    assert r["value"] == pytest.approx(seen[-1][1])
    r = train_eval(NB201Space().from_string(CELL), epochs=2, max_train=128, seed=0, on_epoch=lambda e, a: None)
    assert r["epochs_run"] == 2 and not r["stopped"]


def test_early_stopping_decides_on_the_extrapolated_curve():
    hopeless = [90 - 40 * e ** -0.8 for e in range(1, 21)]
    rising = [99 - 60 * e ** -1.0 for e in range(1, 21)]
    stopper = EarlyStopping(delta=0.05, incumbent=95.0, calibration_runs=0)  # the raw extrapolation decides
    cb = stopper.callback(100)
    assert not any(cb(e, v) for e, v in enumerate(hopeless[:4], start=1))  # min_points=5: no decision before
    assert cb(5, hopeless[4])
    assert cb.decision["stopped_at"] == 5 and cb.decision["prob_beat"] < 0.05 and cb.decision["predicted"] < 95
    cb = stopper.callback(100)
    assert not any(cb(e, v) for e, v in enumerate(rising, start=1))
    assert cb.decision["stopped_at"] is None and cb.decision["prob_beat"] > 0.05
    # without an incumbent nothing is stopped; update() sets it, and only raises it
    free = EarlyStopping()
    cb = free.callback(100)
    assert not any(cb(e, v) for e, v in enumerate(hopeless, start=1))
    free.update(80.0)
    free.update(70.0)
    free.update(float("nan"))
    assert free.incumbent == 80.0


def test_bad_curves_and_settings_raise_clear_errors():
    cb = EarlyStopping(incumbent=95.0).callback(50)
    for e, v in enumerate([10.0, 20.0, float("nan"), 40.0], start=1):
        cb(e, v)
    with pytest.raises(ValueError, match="non-finite value .* position 2"):
        cb(5, 50.0)
    with pytest.raises(ValueError, match="min_points must be an integer of at least 3 \\(the smallest curve family "
                                         "has 2 parameters, and a fit needs one point more\\), got 2"):
        EarlyStopping(min_points=2)
    assert EarlyStopping(min_points=3).min_points == 3  # what extrapolate itself accepts (ilog2 on 3 points)
    assert EarlyStopping(min_points=np.int64(5)).min_points == 5
    extrapolate([10.0, 20.0, 25.0], 10)
    with pytest.raises(ValueError, match="lower must be below upper, got lower=100, upper=0"):
        extrapolate([10.0, 20.0, 30.0, 35.0, 38.0], 20, lower=100, upper=0)
    with pytest.raises(ValueError, match="delta"):
        EarlyStopping(delta=1.5)
    for bad in (1, -1, 2.0, True):
        with pytest.raises(ValueError, match="calibration_runs must be 0 .* or an integer >= 2"):
            EarlyStopping(calibration_runs=bad)


def test_calibration_learns_from_finished_runs_how_far_off_early_forecasts_are():
    """A curve that sits near chance and then rises (as digits runs do) reads as levelled off at first: the raw
    extrapolation stops it though it ends far above the incumbent. Calibrated, nothing is stopped at an epoch
    until ``calibration_runs`` finished runs left a residual there; then such a run is kept, and a run that
    stays flat is still stopped, later."""
    def rising(top):
        return [10.0, 10.5, 10.0, 10.5, 25.0, 40.0, 55.0, 68.0, 80.0, top]

    raw = EarlyStopping(delta=0.05, min_points=4, incumbent=50.0, calibration_runs=0).callback(10)
    assert any(raw(e, v) for e, v in enumerate(rising(90.0), start=1)) and raw.decision["stopped_at"] == 4

    rule = EarlyStopping(delta=0.05, min_points=4, incumbent=50.0, calibration_runs=2)
    for i, top in enumerate((88.0, 92.0)):  # too few residuals yet: these run to the end and are learnt from
        cb = rule.callback(10)
        assert not any(cb(e, v) for e, v in enumerate(rising(top), start=1))
        assert cb.decision["calibrated_on"] == i and cb.decision["prob_beat"] is None
    assert sorted(rule.residuals) == [(10, e) for e in range(4, 10)]
    assert all(len(r) == 2 for r in rule.residuals.values()) and min(rule.residuals[(10, 4)]) > 30
    cb = rule.callback(10)
    assert not any(cb(e, v) for e, v in enumerate(rising(90.0), start=1))
    assert cb.decision["calibrated_on"] == 2 and cb.decision["prob_beat"] > 0.05
    flat = rule.callback(10)
    assert any(flat(e, 10.0 + 0.5 * (e % 2)) for e in range(1, 11))
    assert 4 < flat.decision["stopped_at"] < 10 and flat.decision["predicted"] < 50.0
    assert rule.callback(20)(4, 10.0) is False  # runs of another length learn their own residuals


def test_a_search_records_stopped_evaluations_as_such(tmp_path):
    # nothing on 64 images reaches 99.5 %; the raw extrapolation decides from the first run on
    stopper = EarlyStopping(delta=0.2, min_points=4, incumbent=99.5, calibration_runs=0)
    objective = get_objective("digits", epochs=7, max_train=64, early_stopping=stopper)
    journal = tmp_path / "j.jsonl"
    h = run(RandomSearch(NB201Space(), seed=0), objective, budget=2, journal=journal)
    assert [e.status for e in h.evaluations] == ["stopped", "stopped"]
    assert h.failed == [] and len(h.stopped) == 2 and h.best is None and math.isnan(h.best_value)
    e = h.evaluations[0]
    assert e.cost == e.info["decision"]["stopped_at"] < 7 and len(e.info["curve"]) == e.cost
    line = json.loads(journal.read_text().splitlines()[1])
    assert line["status"] == "stopped" and line["value"] is None and line["info"]["decision"]["stopped_at"]
    back = read_journal(journal)
    assert [x.status for x in back.evaluations] == ["stopped", "stopped"] and back.evaluations[0].cost == e.cost


def test_early_stopping_with_the_runs_schedule_decides_in_learning_rate_time():
    from graphnas.curves import cosine_schedule, extrapolate, lr_time

    lr = cosine_schedule(40, 10)
    curve = 90 - 60 * np.exp(-0.15 * lr_time(lr))  # flattens as the cosine schedule decays: heads for ~87
    stopper = EarlyStopping(delta=0.05, incumbent=90.0, calibration_runs=0)
    cb = stopper.callback(40, schedule=lr)
    stop = next(e for e, v in enumerate(curve, start=1) if cb(e, float(v)))  # the training loop stops here
    assert stop == cb.decision["stopped_at"] >= 5 and cb.decision["prob_beat"] < 0.05
    again = extrapolate(curve[:stop], 40, lower=0, upper=100, schedule=lr)
    assert cb.decision["predicted"] == pytest.approx(again.mean)
    assert abs(cb.decision["predicted"] - curve[-1]) < 2.0
    with pytest.raises(ValueError, match="schedule has 30 per-epoch learning rates but the run has 40 epochs"):
        stopper.callback(40, schedule=cosine_schedule(30))


def test_the_digits_objective_passes_its_cosine_schedule(monkeypatch):
    import graphnas.curves as curves

    seen = {}
    real = curves.EarlyStopping.callback

    def spy(self, target_epoch, schedule=None):
        seen["schedule"] = schedule
        return real(self, target_epoch, schedule)

    monkeypatch.setattr(curves.EarlyStopping, "callback", spy)
    objective = get_objective("digits", epochs=4, max_train=100, early_stopping=EarlyStopping())
    objective(NB201Space().from_string(CELL))
    assert np.allclose(seen["schedule"], curves.cosine_schedule(4, 2))  # 100 images in batches of 64: 2 steps


def test_resume_rebuilds_the_incumbent_and_residuals_from_the_journal(tmp_path, monkeypatch):
    """The residuals and the incumbent live in the stopper; the journal keeps each run's forecasts, so a
    search resumed from it decides as the uninterrupted one would (before: it calibrated afresh)."""
    stopper = EarlyStopping(delta=0.05, min_points=4, calibration_runs=2)
    objective = get_objective("digits", epochs=6, max_train=64, early_stopping=stopper)
    journal = tmp_path / "j.jsonl"
    h = run(RandomSearch(NB201Space(), seed=0), objective, budget=3, journal=journal)
    fresh = EarlyStopping(delta=0.05, min_points=4, calibration_runs=2)
    assert fresh.resume(read_journal(journal)) == sum(e.status == "ok" for e in h.evaluations) >= 2
    assert fresh.incumbent == stopper.incumbent
    assert sorted(fresh.residuals) == sorted(stopper.residuals) == [(6, 4), (6, 5)]
    for key, values in stopper.residuals.items():
        assert fresh.residuals[key] == pytest.approx(values)
    # the command line resumes its stopper from the journal it continues
    import graphnas.curves as curves
    from graphnas.cli import main

    seen = []
    real = curves.EarlyStopping.resume
    monkeypatch.setattr(curves.EarlyStopping, "resume", lambda self, hist: seen.append(real(self, hist)) or seen[-1])
    args = ["search", "--objective", "digits", "--optimizer", "random", "--epochs", "7", "--early-stop", "0.05",
            "--out", str(tmp_path / "out"), "--seed", "0"]
    for budget in ("1", "2"):
        with pytest.raises(SystemExit) as done:
            main(args + ["--budget", budget])
        assert done.value.code in (0, None)
    assert seen == [1]  # the second command learnt from the first one's finished run
