"""GNNSurrogate: shapes, seeds, persistence, any DAG space, and that it learns a structural signal."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from graphnas import DAG, Node
from graphnas.generators import NB201Space
from graphnas.generators.random_graphs import watts_strogatz
from graphnas.surrogate import Featurizer, GNNSurrogate, kendall_tau

TINY = dict(hidden=16, layers=2, ensemble=3, epochs=60)


def nb201_score(space: NB201Space, dag: DAG) -> float:
    """A stand-in for accuracy: convs help, 'none' hurts, a disconnected cell scores low."""
    ops = space.to_ops(dag)
    return 2.0 * ops.count("nor_conv_3x3") + ops.count("nor_conv_1x1") - 1.5 * ops.count("none") \
        + (0.0 if ops[5] == "none" and ops[4] == "none" and ops[3] == "none" else 3.0)


@pytest.fixture(scope="module")
def nb201_data():
    space = NB201Space()
    dags = [space.sample(i) for i in range(160)]
    y = np.array([nb201_score(space, d) for d in dags])
    return space, dags, y


def test_fit_predict_shapes_and_std(nb201_data):
    space, dags, y = nb201_data
    model = GNNSurrogate(vocabulary=space.vocabulary, seed=0, **TINY)
    assert model.fit(dags[:40], y[:40]) is model
    mean, std = model.predict(dags[40:50])
    assert mean.shape == (10,) and std.shape == (10,)
    assert mean.dtype == np.float64 and (std >= 0).all() and (std > 0).any()
    assert model.predict_members(dags[40:50]).shape == (3, 10)


def test_learns_structure_held_out(nb201_data):
    space, dags, y = nb201_data
    model = GNNSurrogate(vocabulary=space.vocabulary, seed=1, hidden=16, layers=3, ensemble=3,
                         epochs=120).fit(dags[:100], y[:100])
    mean, _ = model.predict(dags[100:])
    assert kendall_tau(mean, y[100:]) > 0.6


def test_same_seed_same_model(nb201_data):
    space, dags, y = nb201_data
    a = GNNSurrogate(seed=3, **TINY).fit(dags[:30], y[:30]).predict(dags[30:40])
    b = GNNSurrogate(seed=3, **TINY).fit(dags[:30], y[:30]).predict(dags[30:40])
    c = GNNSurrogate(seed=4, **TINY).fit(dags[:30], y[:30]).predict(dags[30:40])
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.allclose(a[0], c[0])


def test_save_load_round_trip(nb201_data, tmp_path):
    space, dags, y = nb201_data
    model = GNNSurrogate(vocabulary=space.vocabulary, seed=0, **TINY).fit(dags[:30], y[:30])
    path = tmp_path / "surrogate.pt"
    model.save(str(path))
    torch.load(path, weights_only=True)  # plain tensors and values only
    back = GNNSurrogate.load(str(path))
    np.testing.assert_allclose(back.predict(dags[30:40])[0], model.predict(dags[30:40])[0], rtol=1e-6)
    assert back.get_params() == {**model.get_params(), "vocabulary": list(space.vocabulary)}


def test_calibrate_rescales_std_to_cover_held_out(nb201_data, tmp_path):
    space, dags, y = nb201_data
    model = GNNSurrogate(vocabulary=space.vocabulary, seed=0, **TINY).fit(dags[:40], y[:40])
    raw = model.predict(dags[40:100])[1]
    model.calibrate(dags[40:100], y[40:100])
    mean, std = model.predict(dags[40:100])
    np.testing.assert_allclose(std, raw * model.std_scale_)
    assert abs(np.mean(np.abs(mean - y[40:100]) <= std) - 0.68) < 0.05
    model.save(str(tmp_path / "m.pt"))
    assert GNNSurrogate.load(str(tmp_path / "m.pt")).std_scale_ == model.std_scale_
    model.fit(dags[:50], y[:50])  # a new model: the old calibration no longer applies
    assert not hasattr(model, "std_scale_")
    np.testing.assert_allclose(model.predict(dags[40:100])[1], model.predict_members(dags[40:100]).std(axis=0))


def test_warm_start_continues(nb201_data):
    space, dags, y = nb201_data
    model = GNNSurrogate(seed=0, warm_start=True, warm_epochs=5, **TINY).fit(dags[:30], y[:30])
    before = model.predict(dags[30:40])[0]
    model.fit(dags[:40], y[:40])
    assert model.n_fits_ == 2
    assert not np.allclose(before, model.predict(dags[30:40])[0])


def test_random_graphs_and_nested_dags():
    rng = random.Random(0)
    ops = ["conv3x3", "conv5x5", "maxpool"]
    dags, y = [], []
    for i in range(30):
        g = watts_strogatz(10, 4, 0.3, seed=i)
        nodes = [n if n.op in ("input", "identity") else Node(rng.choice(ops), {"C": rng.choice([16, 32])},
                                                               combine=n.combine) for n in g.nodes]
        g = g.replace(nodes=nodes)
        dags.append(g)
        y.append(sum(n.op == "conv3x3" for n in g.nodes) + 0.01 * g.num_edges)
    # a network: a chain of two nested cells
    net = DAG([Node("input"), Node(dags[0]), Node(dags[1])], [(0, 1), (1, 2)])
    model = GNNSurrogate(seed=0, **TINY).fit(dags, y)
    assert "C=16" in model.featurizer_.param_tokens and "C=32" in model.featurizer_.param_tokens
    mean, std = model.predict([net, dags[2]])
    assert np.isfinite(mean).all() and np.isfinite(std).all()


def test_featurizer_drops_edges_out_of_none():
    space = NB201Space()
    dag = space.from_ops(["none", "nor_conv_3x3", "none", "skip_connect", "none", "none"])
    f = Featurizer(list(space.vocabulary) + ["input", "identity"])
    b = f.batch([dag])
    src = b.edge_index[0].tolist()
    assert not any(dag.nodes[s].op == "none" for s in src)
    assert b.num_graphs == 1 and b.x.shape == (10, f.num_features)
    live = b.x[:, len(f.vocabulary) + 1 + 2].tolist()
    assert live[6] == 1.0 and live[1] == 0.0 and live[4] == 0.0  # skip 0->3 live; none edges dead


def test_errors(nb201_data):
    space, dags, y = nb201_data
    with pytest.raises(RuntimeError, match="not fitted"):
        GNNSurrogate().predict(dags[:2])
    with pytest.raises(ValueError, match="3 graphs but 2 scores"):
        GNNSurrogate(**TINY).fit(dags[:3], y[:2])
    with pytest.raises(ValueError, match="NaN"):
        GNNSurrogate(**TINY).fit(dags[:3], [1.0, float("nan"), 2.0])
