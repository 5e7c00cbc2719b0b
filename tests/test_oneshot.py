"""One-shot searches end to end on a tiny budget on digits (issue 11, part 3): DARTS (first and second order,
GDAS), ENAS, RandomPaths; history, seeding, resume, inherited accuracy, bad input."""

from __future__ import annotations

import pytest
import torch

from graphnas.generators import DARTSSpace, ENASSpace, NASNetSpace, NB201Space
from graphnas.oneshot import DARTS, ENAS, RandomPaths, build_supernet, inherited_accuracy, split_digits

TINY = {"epochs": 2, "max_train": 128, "C": 4, "batch_size": 32}


@pytest.fixture(scope="module")
def space():
    return NB201Space()


@pytest.mark.parametrize("kw", [{"order": 1}, {"order": 2}, {"mode": "gumbel"}], ids=["first", "second", "gdas"])
def test_darts_end_to_end(space, kw):
    result = DARTS(space, **TINY, **kw).search()
    assert space.contains(result.dag)
    assert len(result.history) == 2
    for h in result.history:
        assert set(h["weights"]) == set(space.choice_keys())
        assert all(abs(sum(w) - 1) < 1e-5 for w in h["weights"].values())
        assert "train_loss" in h and "val_accuracy" in h
    # the derived cell is the space's rule on the last epoch's weights, and the weights moved from uniform
    assert result.dag == space.derive(result.history[-1]["weights"])
    assert any(max(w) - min(w) > 1e-4 for w in result.history[-1]["weights"].values())


def test_darts_minus_auxiliary_skip(space):
    model = build_supernet(space, C=4)
    x = torch.randn(2, 1, 8, 8)
    model.eval()
    plain = model(x)
    model.arch.aux_skip = 1.0
    assert not torch.allclose(model(x), plain)  # every NB201 edge keeps its input's shape: each adds x
    seen = []
    search = DARTS(space, aux_skip=1.0, **TINY)
    original = search._train

    def spy(model, **kw):
        inner = kw["before_step"]
        kw["before_step"] = lambda s: (inner(s), seen.append(model.arch.aux_skip))
        return original(model, **kw)

    search._train = spy
    result = search.search()
    assert seen == [1.0, 0.75, 0.5, 0.25]  # 2 epochs x 2 steps: linearly down towards 0
    assert result.model.arch.aux_skip == 0.0 and space.contains(result.dag)


def test_darts_on_the_darts_space():
    darts = DARTSSpace(steps=2)
    result = DARTS(darts, epochs=1, max_train=64, C=4, batch_size=32).search()
    assert darts.contains(result.dag)


@pytest.mark.parametrize("method", [RandomPaths, ENAS])
def test_methods_on_the_enas_space(method):
    enas = ENASSpace(num_blocks=2)
    kw = {"n_candidates": 2} if method is RandomPaths else {"controller_steps": 1, "n_final": 2}
    result = method(enas, epochs=1, max_train=64, C=4, batch_size=32, **kw).search()
    assert enas.contains(result.dag)


def test_enas_end_to_end(space):
    result = ENAS(space, **TINY, controller_steps=2, controller_batch=2, n_final=3).search()
    assert space.contains(result.dag) and result.dag == result.ranking[0][0]
    assert 1 <= len(result.ranking) <= 3
    accs = [a for _, a in result.ranking]
    assert accs == sorted(accs, reverse=True)
    assert all("mean_reward" in h for h in result.history)


def test_random_paths_seeded_and_ranked(space):
    a = RandomPaths(space, **TINY, n_candidates=4, seed=5).search()
    b = RandomPaths(space, **TINY, n_candidates=4, seed=5).search()
    assert [d for d, _ in a.ranking] == [d for d, _ in b.ranking]
    assert [x for _, x in a.ranking] == [x for _, x in b.ranking]
    assert a.history[-1]["train_loss"] == b.history[-1]["train_loss"]
    assert len({d for d, _ in a.ranking}) == 4 and a.dag == a.ranking[0][0]


def test_resume_after_a_stop_gives_the_uninterrupted_search(space, tmp_path):
    full = DARTS(space, **TINY, seed=2).search()
    ck = tmp_path / "darts.pt"
    stopped = DARTS(space, **TINY, seed=2, checkpoint=ck).search(on_epoch=lambda e, m: e == 1)
    assert len(stopped.history) == 1
    resumed = DARTS(space, **TINY, seed=2, checkpoint=ck).search(resume=True)
    assert len(resumed.history) == 2
    assert resumed.history[0]["weights"] == stopped.history[0]["weights"]
    for k in space.choice_keys():
        assert resumed.history[-1]["weights"][k] == pytest.approx(full.history[-1]["weights"][k], abs=1e-6)
    assert resumed.dag == full.dag
    with pytest.raises(ValueError, match="another run"):  # a checkpoint of another space or method
        RandomPaths(space, **TINY, checkpoint=ck).search(resume=True)
    for other in ({"order": 2}, {"aux_skip": 1.0}, {"weight_decay": 0.0}):  # before: resumed as if they held
        with pytest.raises(ValueError, match="another run"):
            DARTS(space, **TINY, seed=2, checkpoint=ck, **other).search(resume=True)


@pytest.mark.parametrize("method", [ENAS, RandomPaths])
def test_enas_and_random_paths_resume_exactly(space, tmp_path, method):
    kw = {"controller_steps": 2, "controller_batch": 2, "n_final": 3} if method is ENAS else {"n_candidates": 3}
    full = method(space, **TINY, **kw, seed=4).search()
    ck = tmp_path / "ck.pt"
    method(space, **TINY, **kw, seed=4, checkpoint=ck).search(on_epoch=lambda e, m: True)  # stops after epoch 1
    resumed = method(space, **TINY, **kw, seed=4, checkpoint=ck).search(resume=True)
    assert [h["train_loss"] for h in resumed.history] == pytest.approx([h["train_loss"] for h in full.history])
    assert resumed.ranking == full.ranking


def test_inherited_accuracy_leaves_the_supernet_unchanged(space):
    data = split_digits(128)
    model = build_supernet(space, C=4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    dag = space.sample(seed=1)
    plain = inherited_accuracy(model, space, dag, data.arch)
    again = inherited_accuracy(model, space, dag, data.arch)
    recomputed = inherited_accuracy(model, space, dag, data.arch, recompute_bn=data.train)
    assert plain == again and 0 <= recomputed <= 100
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert model.arch.mode == "relaxed"


def test_bad_input():
    with pytest.raises(NotImplementedError, match="NASNetSpace with combines .* has no supernet"):
        DARTS(NASNetSpace())
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        DARTS(NB201Space(), order=3)
    # refused in the constructor by name, not after the supernet trained (IndexError) or not at all
    for make, says in ((lambda: ENAS(NB201Space(), n_final=0), "ENAS: n_final must be an integer >= 1, got 0"),
                       (lambda: ENAS(NB201Space(), controller_batch=0), "controller_batch must be an integer >= 1"),
                       (lambda: ENAS(NB201Space(), controller_steps=-1), "controller_steps must be an integer >= 1"),
                       (lambda: DARTS(NB201Space(), grad_clip=-1), "DARTS: grad_clip must be a finite number >= 0"),
                       (lambda: DARTS(NB201Space(), arch_lr=-1), "DARTS: arch_lr must be a finite number >= 0"),
                       (lambda: DARTS(NB201Space(), lr=float("nan")), "DARTS: lr must be a finite number >= 0"),
                       (lambda: RandomPaths(NB201Space(), epochs=0), "RandomPaths: epochs must be an integer >= 1")):
        with pytest.raises(ValueError, match=says):
            make()


def test_result_in_a_notebook(space):
    import xml.etree.ElementTree as ET

    result = DARTS(space, **TINY).search()
    rows = result.rows()
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[-1]["derived"] == space.to_string(result.dag)  # the space names the member of each epoch
    assert rows[0]["val_accuracy"] == result.history[0]["val_accuracy"]
    frame = result.to_pandas()
    assert list(frame.index) == [1, 2] and "derived" in frame.columns
    page = result._repr_html_()
    assert "<svg" in page.split("<table>")[0]  # the derived cell, drawn above the table
    table = ET.fromstring(page[page.index("<table>"):])
    assert [th.text for th in table.iter("th")][:2] == ["epoch", "train_loss"]
    assert len(list(table.iter("tr"))) == 1 + 2
    ax = result.plot()
    assert {line.get_label() for line in ax.lines} >= {"val accuracy"}
    assert list(ax.lines[-1].get_xdata()) == [1, 2]
    import matplotlib.pyplot as plt

    plt.close(ax.figure)
