"""Self-supervised pre-training: determinism, the on-disk cache, corrupt caches, fine-tuning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import graphnas.surrogate.pretraining as pt
from graphnas.generators import NB201Space
from graphnas.surrogate import GNNSurrogate, kendall_tau, pretrain

SMALL = dict(graphs=60, epochs=15, hidden=16, layers=2, ensemble=3)


def _same(a: dict, b: dict) -> bool:
    return a["state_dict"].keys() == b["state_dict"].keys() and all(
        torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])


def test_deterministic_by_seed_and_only_encoder():
    space = NB201Space()
    a = pretrain(space, seed=0, cache=False, **SMALL)
    b = pretrain(space, seed=0, cache=False, **SMALL)
    c = pretrain(space, seed=1, cache=False, **SMALL)
    assert _same(a, b) and not _same(a, c)
    assert a["state_dict"] and all(k.startswith(pt.ENCODER_PREFIXES) for k in a["state_dict"])
    assert a["ops"][:5] == list(space.vocabulary)


def test_learns_the_pretext_tasks():
    space = NB201Space()
    short = pretrain(space, seed=0, cache=False, **{**SMALL, "epochs": 1})
    longer = pretrain(space, seed=0, cache=False, **{**SMALL, "epochs": 80})
    assert longer["losses"][0] < short["losses"][0] and longer["losses"][1] < short["losses"][1]


def test_cache_hit_is_identical_and_skips_work(tmp_path, monkeypatch):
    space = NB201Space()
    first = pretrain(space, seed=0, cache=tmp_path, **SMALL)
    files = list(tmp_path.glob("*.pt"))
    assert len(files) == 1
    doc = torch.load(files[0], weights_only=True)  # a plain, safely loadable file
    assert doc["key"] == first["key"]

    def boom(*a, **k):
        raise AssertionError("recomputed despite a cache file")

    monkeypatch.setattr(pt, "_pretrain", boom)
    again = pretrain(space, seed=0, cache=tmp_path, **SMALL)
    assert _same(first, again)
    with pytest.raises(AssertionError, match="recomputed"):  # another setting is another key
        pretrain(space, seed=0, cache=tmp_path, **{**SMALL, "epochs": 16})


def test_default_cache_dir_is_overridable(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHNAS_CACHE_DIR", str(tmp_path / "g"))
    assert pt.cache_dir() == tmp_path / "g"
    monkeypatch.delenv("GRAPHNAS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert pt.cache_dir() == tmp_path / "x" / "graphnas"
    pretrain(NB201Space(), seed=0, cache=True, **SMALL)
    assert len(list((tmp_path / "x" / "graphnas" / "pretrain").glob("*.pt"))) == 1


def test_corrupt_cache_is_recomputed_with_a_warning(tmp_path):
    space = NB201Space()
    first = pretrain(space, seed=0, cache=tmp_path, **SMALL)
    (path,) = tmp_path.glob("*.pt")
    path.write_bytes(b"not a torch file")
    with pytest.warns(RuntimeWarning, match="could not be read.*recomputing"):
        again = pretrain(space, seed=0, cache=tmp_path, **SMALL)
    assert _same(first, again)
    assert _same(first, torch.load(path, weights_only=True))  # and the file is repaired
    torch.save({"format": "something else"}, path)
    with pytest.warns(RuntimeWarning, match=str(path.name)):
        pretrain(space, seed=0, cache=tmp_path, **SMALL)


def test_fine_tuning_starts_from_the_weights_and_learns():
    space = NB201Space()
    w = pretrain(space, seed=0, cache=False, **SMALL)
    dags = [space.sample(500 + i) for i in range(120)]
    y = np.array([2.0 * space.to_ops(d).count("nor_conv_3x3") - space.to_ops(d).count("none") for d in dags])
    cfg = dict(hidden=16, layers=2, ensemble=3, seed=0)
    untrained = GNNSurrogate(pretrained=w, epochs=0, **cfg).fit(dags[:80], y[:80])
    for k, v in w["state_dict"].items():
        assert torch.equal(untrained.model_.state_dict()[k], v)  # 0 steps: exactly the pre-trained encoder
    model = GNNSurrogate(pretrained=w, epochs=120, **cfg).fit(dags[:80], y[:80])
    assert kendall_tau(model.predict(dags[80:]), y[80:]) > 0.6
    a = GNNSurrogate(pretrained=w, epochs=20, **cfg).fit(dags[:80], y[:80]).predict(dags[80:])
    b = GNNSurrogate(pretrained=w, epochs=20, **cfg).fit(dags[:80], y[:80]).predict(dags[80:])
    np.testing.assert_array_equal(a, b)


def test_mismatch_and_bad_input_are_clear_errors(tmp_path):
    space = NB201Space()
    w = pretrain(space, seed=0, cache=False, **SMALL)
    dags = [space.sample(i) for i in range(10)]
    with pytest.raises(ValueError, match="hidden=16.*hidden=32"):
        GNNSurrogate(pretrained=w, layers=2, ensemble=3).fit(dags, np.arange(10.0))
    with pytest.raises(TypeError, match="pretrain\\(space"):
        GNNSurrogate(pretrained={"state_dict": {}}).fit(dags, np.arange(10.0))
    with pytest.raises(ValueError, match="tasks"):
        pretrain(space, tasks=("colour",), cache=False)


def test_save_load_keeps_pretrained(tmp_path):
    space = NB201Space()
    w = pretrain(space, seed=0, cache=False, **SMALL)
    dags = [space.sample(i) for i in range(30)]
    y = np.arange(30.0)
    model = GNNSurrogate(pretrained=w, hidden=16, layers=2, ensemble=3, epochs=5).fit(dags, y)
    model.save(str(tmp_path / "m.pt"))
    back = GNNSurrogate.load(str(tmp_path / "m.pt"))
    np.testing.assert_allclose(back.predict(dags), model.predict(dags))
    assert _same(back.pretrained, w)


def test_clone_keeps_the_weights():
    from sklearn.base import clone

    w = pretrain(NB201Space(), seed=0, cache=False, **SMALL)
    model = GNNSurrogate(pretrained=w, hidden=16, layers=2, ensemble=3)
    assert _same(clone(model).pretrained, w)


def test_bo_runs_with_a_pretrained_surrogate():
    from graphnas.search.bayesian import BayesianOptimization

    space = NB201Space()
    w = pretrain(space, graphs=60, epochs=5, cache=False)  # the default surrogate's hidden/layers/ensemble
    bo = BayesianOptimization(space, surrogate=BayesianOptimization.default_surrogate(space)
                              .set_params(pretrained=w, epochs=10, warm_epochs=5), initial=4, seed=0)
    for _ in range(7):
        (dag,) = bo.ask()
        bo.tell(dag, float(space.to_ops(dag).count("nor_conv_3x3")))
    assert bo.surrogate.n_fits_ >= 2 and bo.surrogate.featurizer_.vocabulary == w["ops"]
