"""GNNSurrogate: shapes, seeds, persistence, any DAG space, and that it learns a structural signal."""

from __future__ import annotations

import copy
import math
import random
import re

import numpy as np
import pytest
import torch

from graphnas import DAG, Node
from graphnas.generators import NB201Space
from graphnas.generators.random_graphs import watts_strogatz
from graphnas.surrogate import Featurizer, GNNSurrogate, WLTrees, kendall_tau, wl_counts
from graphnas.surrogate.gnn import top_weights

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
    mean, std = model.predict(dags[40:50], return_std=True)
    assert mean.shape == (10,) and std.shape == (10,)
    np.testing.assert_array_equal(model.predict(dags[40:50]), mean)  # plain predict: the mean
    assert mean.dtype == np.float64 and (std >= 0).all() and (std > 0).any()
    assert model.predict_members(dags[40:50]).shape == (3 + 5, 10)  # 3 GNN members, then the 5 tree models
    assert GNNSurrogate(seed=0, **{**TINY, "trees": 0}).fit(dags[:40], y[:40]).predict_members(dags[:2]).shape == (3, 2)


def test_learns_structure_held_out(nb201_data):
    space, dags, y = nb201_data
    model = GNNSurrogate(vocabulary=space.vocabulary, seed=1, hidden=16, layers=3, ensemble=3,
                         epochs=120).fit(dags[:100], y[:100])
    mean = model.predict(dags[100:])
    assert kendall_tau(mean, y[100:]) > 0.6
    assert model.score(dags[100:], y[100:]) > 0.3  # RegressorMixin: R^2 of the mean


def test_same_seed_same_model(nb201_data):
    space, dags, y = nb201_data
    a = GNNSurrogate(seed=3, **TINY).fit(dags[:30], y[:30]).predict(dags[30:40])
    b = GNNSurrogate(seed=3, **TINY).fit(dags[:30], y[:30]).predict(dags[30:40])
    c = GNNSurrogate(seed=4, **TINY).fit(dags[:30], y[:30]).predict(dags[30:40])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_save_load_round_trip(nb201_data, tmp_path):
    space, dags, y = nb201_data
    model = GNNSurrogate(vocabulary=space.vocabulary, seed=0, **TINY).fit(dags[:30], y[:30])
    path = tmp_path / "surrogate.pt"
    model.save(str(path))
    torch.load(path, weights_only=True)  # plain tensors and values only
    back = GNNSurrogate.load(str(path))
    np.testing.assert_allclose(back.predict(dags[30:40]), model.predict(dags[30:40]), rtol=1e-6)
    assert back.get_params() == {**model.get_params(), "vocabulary": list(space.vocabulary)}


def test_bad_sizes_empty_input_and_unreadable_files(nb201_data, tmp_path):
    """A size that cannot work is refused by name at fit (before: NaN predictions, ZeroDivisionError or a torch
    error), an empty list predicts empty arrays, and a file torch cannot read says so."""
    space, dags, y = nb201_data
    for bad, says in ((dict(ensemble=0, trees=0), "ensemble must be an integer >= 1, got 0"),
                      (dict(hidden=0), "hidden must be an integer >= 1, got 0"),
                      (dict(layers=-1), "layers must be an integer >= 1, got -1"),
                      (dict(trees=1.5), "trees must be an integer >= 0, got 1.5")):
        with pytest.raises(ValueError, match=re.escape(f"GNNSurrogate: {says}")):
            GNNSurrogate(**{**TINY, **bad}).fit(dags[:10], y[:10])
    model = GNNSurrogate(vocabulary=space.vocabulary, seed=0, **TINY).fit(dags[:10], y[:10])
    mean, std = model.predict([], return_std=True)
    assert mean.shape == std.shape == (0,) and model.predict_members([]).shape == (3 + 5, 0)
    junk = tmp_path / "junk.pt"
    junk.write_text("not a torch file")
    with pytest.raises(ValueError, match="junk.pt is not a graphnas GNNSurrogate file \\(torch could not read it"):
        GNNSurrogate.load(str(junk))
    with pytest.raises(FileNotFoundError):
        GNNSurrogate.load(str(tmp_path / "missing.pt"))


def test_calibrate_rescales_std_to_cover_held_out(nb201_data, tmp_path):
    space, dags, y = nb201_data
    model = GNNSurrogate(vocabulary=space.vocabulary, seed=0, **TINY).fit(dags[:40], y[:40])
    test, y_test = dags[100:], y[100:]  # neither fitted nor calibrated on

    def coverage() -> float:
        mean, std = model.predict(test, return_std=True)
        return float(np.mean(np.abs(mean - y_test) <= std))

    raw_std = model.predict(test, return_std=True)[1]
    raw = coverage()
    model.calibrate(dags[40:100], y[40:100])
    np.testing.assert_allclose(model.predict(test, return_std=True)[1], raw_std * model.std_scale_)
    calibrated = coverage()
    # the raw ensemble is overconfident (about 50% here); calibrating on other cells brings held-out coverage near 68%
    assert abs(calibrated - 0.68) < 0.15 and abs(calibrated - 0.68) < abs(raw - 0.68)
    model.save(str(tmp_path / "m.pt"))
    assert GNNSurrogate.load(str(tmp_path / "m.pt")).std_scale_ == model.std_scale_
    model.fit(dags[:50], y[:50])  # a new model: the old calibration no longer applies
    assert not hasattr(model, "std_scale_")
    np.testing.assert_allclose(model.predict(test, return_std=True)[1], model.predict_members(test).std(axis=0))


def test_warm_start_continues(nb201_data):
    space, dags, y = nb201_data
    model = GNNSurrogate(seed=0, warm_start=True, warm_epochs=5, **TINY).fit(dags[:30], y[:30])
    before = model.predict(dags[30:40])
    model.fit(dags[:40], y[:40])
    assert model.n_fits_ == 2
    assert not np.allclose(before, model.predict(dags[30:40]))


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
    mean, std = model.predict([net, dags[2]], return_std=True)
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


def test_scikit_learn_estimator_api(nb201_data):
    from sklearn.base import clone

    space, dags, y = nb201_data
    model = GNNSurrogate(vocabulary=space.vocabulary, seed=5, **TINY)
    params = model.get_params(deep=True)
    assert params["hidden"] == 16 and params["seed"] == 5 and params["vocabulary"] is space.vocabulary
    assert not any(k.endswith("_") for k in vars(model))  # nothing fitted in __init__
    assert model.set_params(hidden=8, epochs=20) is model and model.hidden == 8 and model.epochs == 20
    with pytest.raises(ValueError, match="bogus"):
        model.set_params(bogus=1)
    model.fit(dags[:30], y[:30])
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "model_")
    np.testing.assert_array_equal(copy.fit(dags[:30], y[:30]).predict(dags[30:40]), model.predict(dags[30:40]))
    with pytest.raises(TypeError):
        GNNSurrogate(16)  # keyword-only, as scikit-learn asks


@pytest.mark.parametrize("make_seed", [lambda: -7, lambda: random.Random(-7), lambda: np.random.default_rng(7)],
                         ids=["negative-int", "Random", "Generator"])
def test_seed_kinds(nb201_data, make_seed):
    space, dags, y = nb201_data
    a = GNNSurrogate(seed=make_seed(), **TINY).fit(dags[:30], y[:30]).predict(dags[30:40])
    b = GNNSurrogate(seed=make_seed(), **TINY).fit(dags[:30], y[:30]).predict(dags[30:40])
    c = GNNSurrogate(seed=7, **TINY).fit(dags[:30], y[:30]).predict(dags[30:40])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_leaves_torch_global_state_alone(nb201_data):
    space, dags, y = nb201_data
    rng_state, threads = torch.get_rng_state(), torch.get_num_threads()
    det, warn = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    model = GNNSurrogate(seed=0, **TINY).fit(dags[:30], y[:30])
    model.predict(dags[30:40], return_std=True)
    assert torch.equal(torch.get_rng_state(), rng_state)
    assert torch.get_num_threads() == threads
    assert (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()) \
        == (det, warn)


def test_tree_members_join_the_gnn_members(nb201_data):
    space, dags, y = nb201_data
    both = GNNSurrogate(vocabulary=space.vocabulary, seed=2, **TINY).fit(dags[:60], y[:60])
    gnn = GNNSurrogate(vocabulary=space.vocabulary, seed=2, trees=0, **TINY).fit(dags[:60], y[:60])
    assert isinstance(both.trees_, WLTrees) and gnn.trees_ is None
    members = both.predict_members(dags[60:])
    # the GNN members are untouched by the trees (what bench_surrogate.py --trees relies on) ...
    np.testing.assert_array_equal(members[:3], gnn.predict_members(dags[60:]))
    # ... the trees are really used: they predict on their own, the mean and std are over all 8 members
    trees = both.trees_.predict(dags[60:]) * both.y_scale_ + both.y_mean_
    np.testing.assert_allclose(members[3:], trees)
    assert not np.allclose(members[3:], members[:3].mean(axis=0))
    mean, std = both.predict(dags[60:], return_std=True)
    np.testing.assert_allclose(mean, members.mean(axis=0))
    np.testing.assert_allclose(std, members.std(axis=0))
    assert kendall_tau(trees.mean(axis=0), y[60:]) > 0.5  # they learn the structural score on their own


def test_tree_members_deterministic_and_fresh_per_fit(nb201_data):
    space, dags, y = nb201_data
    a = GNNSurrogate(seed=3, warm_start=True, warm_epochs=5, **TINY).fit(dags[:40], y[:40])
    b = GNNSurrogate(seed=3, warm_start=True, warm_epochs=5, **TINY).fit(dags[:40], y[:40])
    np.testing.assert_array_equal(a.trees_.predict(dags[40:60]), b.trees_.predict(dags[40:60]))
    first = a.trees_
    a.fit(dags[:50], y[:50])  # a warm refit: new tree objects (a background copy never changes the old ones) ...
    assert a.trees_ is not first and a.trees_.cache is first.cache  # ... sharing the label counts
    assert first.X_.shape[0] == 40 and a.trees_.X_.shape[0] == 50
    assert a.trees_.seeds_ != first.seeds_


def dead_op_cells(space: NB201Space) -> tuple[DAG, DAG, DAG]:
    """Three NB201 cells: ``a`` and ``b`` differ only in a dead op, ``c`` differs from ``a`` in a live one.

    Edges in order 0->1, 0->2, 1->2, 0->3, 1->3, 2->3: the op on 1->2 feeds node 2, which only the 'none'
    edge 2->3 leaves, so it is dead."""
    return (space.from_ops(["nor_conv_3x3", "none", "avg_pool_3x3", "none", "nor_conv_1x1", "none"]),
            space.from_ops(["nor_conv_3x3", "none", "skip_connect", "none", "nor_conv_1x1", "none"]),
            space.from_ops(["nor_conv_1x1", "none", "avg_pool_3x3", "none", "nor_conv_1x1", "none"]))


def test_wl_counts_see_the_live_cell_only():
    space = NB201Space()
    f = Featurizer(list(space.vocabulary) + ["input", "identity"])
    a, b, c = dead_op_cells(space)
    assert wl_counts(f, a) == wl_counts(f, b)  # only the dead op differs
    assert wl_counts(f, a) != wl_counts(f, c)
    live = sum(v for k, v in wl_counts(f, a).items() if k.startswith("0:"))
    assert live == 5  # input, conv 0->1, node 1, conv 1->3, output node
    dead = space.from_ops(["none"] * 6)
    assert sum(v for k, v in wl_counts(f, dead, iterations=1).items() if k.startswith("1:")) == 0


def test_save_load_keeps_the_trees_and_reads_older_files(nb201_data, tmp_path):
    space, dags, y = nb201_data
    model = GNNSurrogate(vocabulary=space.vocabulary, seed=0, **TINY).fit(dags[:30], y[:30])
    model.save(str(tmp_path / "m.pt"))
    back = GNNSurrogate.load(str(tmp_path / "m.pt"))
    assert back.trees == 5 and back.trees_.seeds_ == model.trees_.seeds_
    np.testing.assert_array_equal(back.predict_members(dags[30:40]), model.predict_members(dags[30:40]))
    # a file written before the tree members existed (version 2) loads as the GNN-only surrogate it was
    gnn = GNNSurrogate(vocabulary=space.vocabulary, seed=0, trees=0, **TINY).fit(dags[:30], y[:30])
    gnn.save(str(tmp_path / "g.pt"))
    doc = torch.load(tmp_path / "g.pt", weights_only=True)
    doc["version"] = 2
    del doc["trees"], doc["params"]["trees"]
    torch.save(doc, tmp_path / "old.pt")
    old = GNNSurrogate.load(str(tmp_path / "old.pt"))
    assert old.trees == 0 and old.trees_ is None
    np.testing.assert_array_equal(old.predict_members(dags[30:40]), gnn.predict_members(dags[30:40]))


def test_top_focus_weights_pairs_by_the_better_graphs_rank(nb201_data):
    """``top_focus`` weights each ranking pair by the NDCG discount of its better graph's rank (ties share
    a rank), mean 1; 0 is the plain loss, and a focused fit is as deterministic as any."""
    z = torch.tensor([3.0, 1.0, 3.0, 0.0, 2.0])
    hi, lo = torch.nonzero(z[:, None] > z[None, :], as_tuple=True)
    w = top_weights(z, hi, 1.0)
    assert w.mean().item() == pytest.approx(1.0)
    by_better = {int(h): float(x) for h, x in zip(hi, w)}
    assert by_better[0] == by_better[2] > by_better[4] > by_better[1]  # 3.0 (rank 0, tied) > 2.0 (rank 2) > 1.0
    assert by_better[0] / by_better[4] == pytest.approx(math.log2(4) / math.log2(2))
    assert top_weights(z, hi, 0.0).eq(1.0).all()

    space, dags, y = nb201_data
    kw = {**TINY, "trees": 0}
    flat = GNNSurrogate(seed=0, **kw).fit(dags[:40], y[:40]).predict(dags[40:50])
    plain = GNNSurrogate(seed=0, top_focus=0, **kw).fit(dags[:40], y[:40]).predict(dags[40:50])
    np.testing.assert_array_equal(plain, flat)
    focused = GNNSurrogate(seed=0, top_focus=1.0, **kw).fit(dags[:40], y[:40]).predict(dags[40:50])
    np.testing.assert_array_equal(GNNSurrogate(seed=0, top_focus=1.0, **kw).fit(dags[:40], y[:40]).predict(dags[40:50]),
                                  focused)
    assert not np.allclose(focused, flat)
    with pytest.raises(ValueError, match="top_focus must be a number >= 0"):
        GNNSurrogate(top_focus=-1.0, **TINY).fit(dags[:3], y[:3])


def test_live_part_keeps_the_live_nodes_and_the_ports_only():
    space = NB201Space()
    f = Featurizer(list(space.vocabulary) + ["input", "identity"])
    a, b, c = dead_op_cells(space)
    whole, live = f.batch([a]), f.batch([a], live_only=True)
    assert whole.x.shape[0] == 10 and live.x.shape[0] == 5  # input, conv 0->1, node 1, conv 1->3, output
    assert (live.x[:, f.layout["flags"]].sum(dim=1) > 0).all()  # every node kept is a port or live
    assert live.edge_index.shape[1] == 4 and int(live.edge_index.max()) == 4
    assert live.out_index.tolist() == [4] and live.x[4, f.layout["flags"]][1] == 1.0  # the output, renumbered
    la, lb = f.batch([a], live_only=True), f.batch([b], live_only=True)
    assert torch.equal(la.x, lb.x) and torch.equal(la.edge_index, lb.edge_index)  # only the dead op differs
    assert not torch.equal(f.batch([a]).x, f.batch([b]).x)
    assert not torch.equal(f.batch([a], live_only=True).x, f.batch([c], live_only=True).x)
    full = space.from_ops(["nor_conv_3x3"] * 6)
    assert f.live_part(full) is f.encode(full)  # nothing dead: the same encoding
    dead = f.batch([space.from_ops(["none"] * 6)], live_only=True)  # no path: the two ports, no edge
    assert dead.x.shape[0] == 2 and dead.edge_index.shape[1] == 0 and dead.out_index.tolist() == [1]


def test_live_only_surrogate_scores_graphs_by_their_live_part(nb201_data, tmp_path):
    space, dags, y = nb201_data
    a, b, _ = dead_op_cells(space)
    kw = {**TINY, "trees": 0}
    live = GNNSurrogate(vocabulary=space.vocabulary, live_only=True, seed=0, **kw).fit(dags[:40], y[:40])
    whole = GNNSurrogate(vocabulary=space.vocabulary, live_only=False, seed=0, **kw).fit(dags[:40], y[:40])
    assert GNNSurrogate().live_only is True  # the default
    pa, pb = live.predict_members([a, b]).T
    np.testing.assert_array_equal(pa, pb)  # the same function, the same score from every member
    assert not np.allclose(*whole.predict_members([a, b]).T)
    again = GNNSurrogate(vocabulary=space.vocabulary, live_only=True, seed=0, **kw).fit(dags[:40], y[:40])
    np.testing.assert_array_equal(again.predict(dags[40:60]), live.predict(dags[40:60]))
    live.save(str(tmp_path / "live.pt"))
    back = GNNSurrogate.load(str(tmp_path / "live.pt"))
    assert back.live_only is True
    np.testing.assert_array_equal(back.predict(dags[40:60]), live.predict(dags[40:60]))


@pytest.mark.parametrize("weight_decay", [0.0, 1e-4])
def test_flat_adam_takes_torchs_adam_steps(nb201_data, weight_decay):
    """The surrogate's one-buffer Adam gives the weights torch.optim.Adam(foreach=True) gives, bit for bit."""
    from graphnas.surrogate.gnn import _FlatAdam

    space, dags, y = nb201_data
    fitted = GNNSurrogate(seed=0, **{**TINY, "trees": 0, "epochs": 1}).fit(dags[:20], y[:20])
    ours, theirs = (copy.deepcopy(fitted.model_) for _ in range(2))
    batch = fitted.featurizer_.batch(dags[:20], True)
    z = torch.tensor((y[:20] - y[:20].mean()) / y[:20].std(), dtype=torch.float32)
    flat = _FlatAdam(list(ours.parameters()), lr=5e-3, weight_decay=weight_decay)
    adam = torch.optim.Adam(theirs.parameters(), lr=5e-3, weight_decay=weight_decay, foreach=True)
    for _ in range(25):
        for model, opt in ((ours, flat), (theirs, adam)):
            opt.zero_grad()
            ((model(batch) - z) ** 2).mean().backward()
            opt.step()
    after = theirs.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in ours.state_dict().items())
    assert not torch.equal(after["head2.weight"], fitted.model_.state_dict()["head2.weight"])  # it did move
