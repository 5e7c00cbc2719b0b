"""BO at scale and in parallel: sparse GNN path, early stop, capped training set, refit schedule,
kriging believer for pending graphs, prequential calibration."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphnas import DAG, GraphError, Node
from graphnas.generators import NB201Space
from graphnas.generators.random_graphs import watts_strogatz
from graphnas.search import BayesianOptimization
from graphnas.surrogate import GNNSurrogate
from graphnas.surrogate.layers import bidirectional_operator

SPACE = NB201Space()


def score(dag) -> float:
    ops = SPACE.to_ops(dag)
    return 2.0 * ops.count("nor_conv_3x3") + ops.count("nor_conv_1x1") - ops.count("none")


class Recorder:
    """A stand-in surrogate: records each fit; every member predicts ``offset`` +- ``spread``."""

    def __init__(self, spread: float = 1.0, offset: float = 0.0) -> None:
        self.fits: list[tuple[list, np.ndarray]] = []
        self.spread, self.offset = spread, offset

    def fit(self, dags, y):
        self.fits.append((list(dags), np.asarray(y)))
        return self

    def predict_members(self, dags):
        base = np.array([score(d) + self.offset for d in dags])
        return np.stack([base - self.spread, base + self.spread])


@pytest.mark.parametrize("kind", ["nb201", "watts_strogatz"])
def test_sparse_path_equals_gather_scatter(kind):
    if kind == "nb201":
        dags = [SPACE.sample(i) for i in range(40)]
    else:
        dags = [watts_strogatz(12, 4, 0.3, seed=i) for i in range(20)]
        dags = [d.replace(nodes=[n if n.op in ("input", "identity") else Node("conv3x3") for n in d.nodes])
                for d in dags]
    y = np.arange(len(dags), dtype=float)
    model = GNNSurrogate(hidden=16, layers=2, ensemble=3, epochs=5, seed=0).fit(dags, y)
    b = model.featurizer_.batch(dags)
    with torch.no_grad():
        slow = model.model_(b)
        fast = model.model_(b, bidirectional_operator(b.edge_index, len(b.x)))
    assert torch.allclose(slow, fast, atol=1e-5)


def test_early_stop_cuts_converged_refits_and_is_deterministic():
    dags = [SPACE.sample(i) for i in range(60)]
    y = np.array([score(d) for d in dags])
    # the whole graph (live_only=False): on these 60 cells its loss flattens within 40 warm steps, which is
    # what the stopping rule is tested on; on their live parts the loss still falls by more than 5% per 5 steps
    kw = dict(hidden=16, layers=2, ensemble=3, epochs=150, warm_epochs=40, warm_start=True, live_only=False, seed=0)
    full = GNNSurrogate(**kw).fit(dags, y)
    assert full.epochs_ == 150
    stop = GNNSurrogate(early_stop=0.05, **kw).fit(dags, y)
    stop.fit(dags, y)  # nothing new: the loss is nearly flat, the refit stops well before its 40 steps
    assert 10 <= stop.epochs_ < 40
    again = GNNSurrogate(early_stop=0.05, **kw).fit(dags, y).fit(dags, y)
    np.testing.assert_array_equal(again.predict(dags), stop.predict(dags))


def test_capped_training_set_keeps_the_best_and_is_seeded():
    dags = [SPACE.sample(i) for i in range(300)]
    data = [(d, float(i)) for i, d in enumerate(dags)]

    def pick(seed):
        opt = BayesianOptimization(SPACE, Recorder(), max_train=100, seed=seed)
        return opt._training_set(data)

    a = pick(0)
    assert len(a) == 100
    assert {v for _, v in a} >= set(range(250, 300))  # the best half of the cap, always
    assert [v for _, v in a] == [v for _, v in pick(0)]
    assert [v for _, v in a] != [v for _, v in pick(1)]
    with pytest.raises(ValueError, match="max_train"):
        BayesianOptimization(SPACE, Recorder(), max_train=1)


def test_refit_schedule_grows_with_history():
    rec = Recorder()
    opt = BayesianOptimization(SPACE, rec, initial=2, refit_fraction=0.1, max_train=None, seed=0)
    for i in range(100):
        d = SPACE.sample(10_000 + i)
        if d.canonical_key() not in opt._asked:
            opt.tell(d, score(d))
    for _ in range(30):
        d = opt.ask(1)[0]
        opt.tell(d, score(d))
    # one fit, then one each time 10% of the history (>= 10 results) is new: 3 fits in 30 steps, not 30
    assert 3 <= len(rec.fits) <= 4
    with pytest.raises(ValueError, match="refit_fraction"):
        BayesianOptimization(SPACE, rec, refit_fraction=1.5)


def test_believer_fits_pending_graphs_at_their_predicted_mean():
    rec = Recorder(offset=0.5)
    opt = BayesianOptimization(SPACE, rec, initial=4, refit_fraction=0.0, pending="believer", seed=0)
    first = opt.ask(4)
    for d in first:
        opt.tell(d, score(d))
    a = opt.ask(1)[0]          # first fit: no pending yet
    assert len(rec.fits) == 1 and len(rec.fits[-1][0]) == 4
    b = opt.ask(1)[0]          # nothing new told: no fit (asks stay cheap with many workers)
    assert len(rec.fits) == 1
    opt.tell(a, score(a))
    opt.ask(1)                 # a result arrived: fit on it, with the pending ``b`` at its predicted mean
    dags, y = rec.fits[-1]
    assert len(dags) == 6 and dags[-1] is b and y[-1] == pytest.approx(score(b) + 0.5)
    assert dags.count(a) == 1 and y[dags.index(a)] == pytest.approx(score(a))

    rec2 = Recorder()
    opt2 = BayesianOptimization(SPACE, rec2, initial=4, seed=0)  # the default: pending graphs are left out
    assert opt2.pending == "ignore"
    for d in opt2.ask(4):
        opt2.tell(d, score(d))
    c = opt2.ask(1)[0]
    pend = opt2.ask(1)[0]
    opt2.tell(c, score(c))
    opt2.ask(1)
    assert len(rec2.fits) == 2 and pend not in rec2.fits[-1][0] and len(rec2.fits[-1][0]) == 5
    with pytest.raises(ValueError, match="pending"):
        BayesianOptimization(SPACE, rec2, pending="fantasy")


class WarmRecorder(Recorder):
    warm_start = True


def test_warm_refits_train_on_the_new_results_and_a_seeded_draw():
    def grow(seed):
        rec = WarmRecorder()
        opt = BayesianOptimization(SPACE, rec, initial=2, refit_fraction=0.0, max_train=100, warm_train=40,
                                   seed=seed)
        for i in range(300):
            d = SPACE.sample(10_000 + i)
            if d.canonical_key() not in opt._asked:
                opt.tell(d, score(d))
        d = opt.ask(1)[0]  # the first fit: the whole capped set
        assert len(rec.fits) == 1 and len(rec.fits[0][0]) == 100
        opt.tell(d, score(d))  # nothing pending: serial refits run in the foreground
        new = [d]
        for _ in range(3):
            d = opt.ask(1)[0]
            opt.tell(d, score(d))
            new.append(d)
        return rec, new

    rec, new = grow(0)
    dags, _ = rec.fits[-1]
    assert len(rec.fits) == 4 and len(dags) == 40 and new[-2] in dags  # the result told since the last fit
    assert [d.canonical_key() for d in dags] == [d.canonical_key() for d in grow(0)[0].fits[-1][0]]
    assert [d.canonical_key() for d in dags] != [d.canonical_key() for d in grow(1)[0].fits[-1][0]]
    with pytest.raises(ValueError, match="warm_train"):
        BayesianOptimization(SPACE, Recorder(), warm_train=0)


def test_background_refit_with_pending_evaluations_keeps_asks_going():
    import threading

    class Slow(WarmRecorder):
        gate = threading.Event()  # a class attribute: the background copy waits on the same event

        def fit(self, dags, y):
            if self.fits:  # the first fit runs on the driver; later ones wait for the test's signal
                assert self.gate.wait(10)
            return super().fit(dags, y)

    gate = Slow.gate
    opt = BayesianOptimization(SPACE, Slow(), initial=4, refit_fraction=0.0, background=True, pending="believer",
                               seed=0)
    for d in opt.ask(4):
        opt.tell(d, score(d))
    first = opt.surrogate
    a, b = opt.ask(2)          # first fit, in the foreground (nothing pending yet)
    assert len(first.fits) == 1
    opt.tell(a, score(a))      # b still pending: the due refit goes to a background thread
    c = opt.ask(1)[0]          # answered at once, with the current model
    assert opt._refit is not None and opt.surrogate is first and len(first.fits) == 1
    gate.set()
    opt._swap_refit(wait=True)
    assert opt.surrogate is not first and len(opt.surrogate.fits) == 2
    dags, _ = opt.surrogate.fits[-1]
    assert b in dags and a in dags and c not in dags  # b believed; c was asked after the fit began

    def failing(dags, y):
        raise ValueError("boom")

    opt.surrogate.fit = failing
    opt.tell(b, score(b))
    opt.ask(1)
    with pytest.raises(RuntimeError, match="background surrogate fit failed"):
        opt._swap_refit(wait=True)


def test_candidate_pool_between_fits_scores_fewer_new_graphs():
    class Counting(Recorder):
        def __init__(self):
            super().__init__()
            self.scored: list[int] = []

        def predict_members(self, dags):
            self.scored.append(len(dags))
            return super().predict_members(dags)

    def search(share, seed=0):
        rec = Counting()
        opt = BayesianOptimization(SPACE, rec, initial=4, refit_every=50, fresh_share=share, seed=seed)
        keys = []
        for _ in range(12):
            d = opt.ask(1)[0]
            opt.tell(d, score(d))
            keys.append(d.canonical_key())
        return rec, keys

    pooled, keys = search(0.25)
    full, _ = search(1.0)
    # one fit (at the 5th ask); afterwards each ask scores about a quarter of the 250 candidates
    assert len(pooled.fits) == 1 and len(full.fits) == 1
    assert max(pooled.scored[1:]) <= 70 < min(full.scored)
    assert len(set(keys)) == len(keys) and keys == search(0.25)[1]  # distinct asks, same seed same search
    with pytest.raises(ValueError, match="fresh_share"):
        BayesianOptimization(SPACE, Recorder(), fresh_share=0.0)


def test_prequential_calibration_scales_the_spread():
    # the stand-in predicts score + 3 with spread 1: every asked graph's error is 3 spreads
    rec = Recorder(spread=1.0, offset=3.0)
    opt = BayesianOptimization(SPACE, rec, initial=4, calibrate=True, seed=0)
    assert opt.std_scale == 1.0
    for _ in range(20):
        for d in opt.ask(1):
            opt.tell(d, score(d))
    assert opt.std_scale == pytest.approx(3.0)
    off = BayesianOptimization(SPACE, rec, initial=4, calibrate=False, seed=0)
    for _ in range(20):
        for d in off.ask(1):
            off.tell(d, score(d))
    assert off.std_scale == 1.0


class FreshCells:
    """NB201 without its cell cache: every sample and mutation is a new DAG object (keys recomputed)."""

    vocabulary = SPACE.vocabulary

    def sample(self, seed=None):
        return DAG.from_json(SPACE.sample(seed).to_json())

    def mutate(self, dag, seed=None):
        return DAG.from_json(SPACE.mutate(dag, seed).to_json())


def test_cached_cells_give_the_same_search_as_fresh_ones():
    def asks(space):
        opt = BayesianOptimization(space, Recorder(), initial=5, seed=3)
        out = []
        for _ in range(30):
            batch = opt.ask(2)
            out += [d.canonical_key() for d in batch]
            for d in batch:
                opt.tell(d, score(d))
        return out

    assert asks(NB201Space()) == asks(FreshCells())


def test_nb201_cell_cache_shares_members_and_still_checks():
    space = NB201Space()
    ops = ["nor_conv_3x3", "none", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3"]
    a = space.from_ops(ops)
    assert space.from_ops(tuple(ops)) is a and space.to_ops(a) == ops
    assert space.to_ops(DAG.from_json(a.to_json())) == ops  # an equal copy is a member too
    with pytest.raises(GraphError, match="unknown NAS-Bench-201 op"):
        space.from_ops(ops[:5] + ["conv9x9"])
    with pytest.raises(GraphError, match="not a NAS-Bench-201 cell"):
        space.to_ops(a.replace(nodes=[*a.nodes[:9], Node("identity", combine="concat")]))
    import pickle

    copy = pickle.loads(pickle.dumps(space))
    assert copy._cells == {} and copy.to_ops(copy.from_ops(ops)) == ops


def test_scores_are_reused_until_the_model_changes():
    class Counting(Recorder):
        def __init__(self):
            super().__init__()
            self.scored = 0

        def predict_members(self, dags):
            self.scored += len(dags)
            return super().predict_members(dags)

    rec = Counting()
    opt = BayesianOptimization(SPACE, rec, initial=4, refit_fraction=0.0, seed=0)
    for d in opt.ask(4):
        opt.tell(d, score(d))
    dags = [SPACE.sample(100 + i) for i in range(20)]
    first = opt._members(dags)
    assert rec.scored == 20
    np.testing.assert_array_equal(opt._members(dags[5:] + dags[:5]), np.concatenate([first[:, 5:], first[:, :5]], 1))
    assert rec.scored == 20       # same model: nothing scored again
    opt.ask(1)                    # a fit: the model changed
    opt._members(dags)
    assert rec.scored > 20 + 20 - 1
    other = Counting()
    opt.surrogate = other         # a model swapped in from outside is not mistaken for the old one
    opt._members(dags[:3])
    assert other.scored == 3


def test_first_fit_in_the_background_asks_random_graphs_until_it_is_ready():
    import threading

    class Gated(Recorder):
        gate = threading.Event()

        def fit(self, dags, y):
            assert self.gate.wait(10)
            return super().fit(dags, y)

    opt = BayesianOptimization(SPACE, Gated(), initial=4, background=True, seed=0)
    first = opt.ask(6)
    for d in first[:4]:
        opt.tell(d, score(d))  # two still pending: the first fit goes to a thread
    more = opt.ask(3)          # no model yet: random samples, at once
    assert opt._refit is not None and opt._version == 0 and len(more) == 3
    Gated.gate.set()
    opt._swap_refit(wait=True)
    assert opt._version == 1 and len(opt.surrogate.fits) == 1 and len(opt.surrogate.fits[0][0]) == 4
    assert len(opt.ask(2)) == 2  # now from the model


def test_background_fit_too_far_behind_makes_the_ask_wait():
    import threading

    class Gated(WarmRecorder):
        gate = threading.Event()

        def fit(self, dags, y):
            if self.fits:
                assert self.gate.wait(10)
            return super().fit(dags, y)

    opt = BayesianOptimization(SPACE, Gated(), initial=4, refit_fraction=0.0, background=True, max_lag=2, seed=0)
    for d in opt.ask(4):
        opt.tell(d, score(d))
    batch = opt.ask(4)         # first fit in the foreground (nothing was pending)
    opt.tell(batch[0], score(batch[0]))
    opt.ask(1)                 # refit due (1 new result), goes to the background: the model is 1 result behind
    assert opt._refit is not None and opt._version == 1
    opt.tell(batch[1], score(batch[1]))
    opt.ask(1)                 # 2 behind, due is 1: within max_lag * due, no wait
    assert opt._refit is not None and opt._version == 1
    opt.tell(batch[2], score(batch[2]))
    threading.Timer(0.3, Gated.gate.set).start()
    opt.ask(1)                 # 3 behind > 2: waits for the fit under way, then starts the next one
    assert opt._version == 2 and opt._model_on == 5
    with pytest.raises(ValueError, match="max_lag"):
        BayesianOptimization(SPACE, Recorder(), max_lag=0.5)
