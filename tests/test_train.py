"""The one training loop (issue 11, part 4), on CPU: data forms, curves, hooks, checkpoints and resume, errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import graphnas
from graphnas.benchmarks.digits import build_digits_model, load_digits_split
from graphnas.generators import NB201Space
from graphnas.train import TrainingDiverged, train

CELL = NB201Space().from_ops(["nor_conv_3x3", "skip_connect", "nor_conv_1x1", "skip_connect", "none",
                              "avg_pool_3x3"])


@pytest.fixture(scope="module")
def small():
    d = load_digits_split()
    return (d.x_train[:192], d.y_train[:192]), (d.x_val[:96], d.y_val[:96])


def tiny(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)  # tests may seed the global generator; the library never does
    return build_digits_model(CELL, C=4)


def test_trains_and_reports_curves(small):
    data, val = small
    result = graphnas.train(tiny(), data, val, epochs=6, batch_size=16, lr=0.1, seed=0)
    assert result.epochs == 6 and not result.stopped_early
    assert set(result.history[0]) >= {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"}
    losses = result.curve("train_loss")
    assert losses[-1] < losses[0]
    assert result.last("val_accuracy") > 40.0  # 10 classes: chance is 10%
    assert not result.model.training


def test_same_seed_same_run_and_data_forms(small):
    data, val = small
    a = train(tiny(), data, val, epochs=1, batch_size=32, seed=3)
    b = train(tiny(), data, val, epochs=1, batch_size=32, seed=3)
    assert a.history[0]["train_loss"] == b.history[0]["train_loss"]
    ds = TensorDataset(*data)
    c = train(tiny(), ds, DataLoader(TensorDataset(*val), batch_size=50), epochs=1, batch_size=32, optimizer="adam",
              lr=1e-3, seed=0)
    assert 0 <= c.last("val_accuracy") <= 100
    d = train(tiny(), DataLoader(ds, batch_size=64), epochs=1, schedule="constant", lr=0.01, grad_clip=None)
    assert d.history[0]["lr"] == 0.01 and "val_accuracy" not in d.history[0]


def test_on_epoch_returning_true_stops(small):
    data, val = small
    seen = []

    def stop(epoch, metrics):
        seen.append((epoch, metrics["val_accuracy"]))
        return epoch == 2

    result = train(tiny(), data, val, epochs=5, batch_size=64, on_epoch=stop)
    assert result.stopped_early and result.epochs == 2 and [e for e, _ in seen] == [1, 2]


def test_resume_continues_exactly(small, tmp_path):
    data, val = small
    full = train(tiny(), data, val, epochs=3, batch_size=64, seed=1)
    ck = tmp_path / "ck.pt"
    part = train(tiny(), data, val, epochs=3, batch_size=64, seed=1, checkpoint=ck,
                 on_epoch=lambda e, m: e == 2)  # "killed" after epoch 2
    assert part.epochs == 2
    resumed = train(tiny(seed=9), data, val, epochs=3, batch_size=64, seed=1, checkpoint=ck, resume=True)
    assert resumed.epochs == 3
    assert resumed.curve("train_loss") == pytest.approx(full.curve("train_loss"), rel=1e-5)
    assert resumed.last("val_accuracy") == pytest.approx(full.last("val_accuracy"))
    with pytest.raises(ValueError, match="another run"):
        train(tiny(), data, val, epochs=3, checkpoint=ck, resume=True, tag="other")
    with pytest.raises(ValueError, match="weights of another network"):
        train(build_digits_model(CELL, C=8), data, val, epochs=3, checkpoint=ck, resume=True)


def test_nan_loss_names_epoch_and_step_and_keeps_checkpoint(small, tmp_path):
    data, val = small
    ck = tmp_path / "ck.pt"
    calls = {"n": 0}

    def poison(step):
        calls["n"] += 1
        if step.epoch == 2 and step.step == 2:
            step.x.fill_(float("nan"))

    with pytest.raises(TrainingDiverged, match=r"epoch 2, step 2.*ck.pt holds the last completed epoch"):
        train(tiny(), data, val, epochs=3, batch_size=64, checkpoint=ck, before_step=poison)
    assert torch.load(ck, weights_only=True)["epoch"] == 1


def test_bad_input_is_refused(small):
    data, _ = small
    model = tiny()
    with pytest.raises(ValueError, match=r"does not fit the network: its first samples, shape \(2, 3, 8, 8\)"):
        train(model, (torch.randn(8, 3, 8, 8), torch.zeros(8, dtype=torch.long)), epochs=1)
    assert model.training  # the shape probe puts the model back in training mode, even when it fails
    with pytest.raises(ValueError, match="CUDA options"):
        train(tiny(), data, epochs=1, bf16=True)
    with pytest.raises(ValueError, match="optimizer"):
        train(tiny(), data, epochs=1, optimizer="lbfgs")
    with pytest.raises(TypeError, match="DataLoader"):
        train(tiny(), [1, 2, 3], epochs=1)
    for p in (1.5, -0.1, float("nan")):  # before: a NaN loss or bernoulli_'s error epochs later
        with pytest.raises(ValueError, match="drop_path must be a probability in \\[0, 1\\)"):
            train(tiny(), data, epochs=1, drop_path=p)


def test_drop_path_rises_linearly(small):
    from graphnas.genotypes import get_genotype
    from graphnas.models import darts_cifar
    from graphnas.ops import DropPath

    data, _ = small
    model = graphnas.to_torch(darts_cifar(get_genotype("DARTS_V2"), C=4, layers=2, drop_path=0.1), in_channels=1)
    seen = []
    train(model, data, epochs=2, batch_size=96, drop_path=0.3,
          before_step=lambda s: seen.append(next(m.p for m in s.model.modules() if isinstance(m, DropPath))))
    assert seen[0] == 0.0 and seen[-1] == pytest.approx(0.15)


def test_bad_optimiser_settings_are_refused_by_name(small):
    """A negative gradient clip trained backwards and a NaN learning rate returned NaN weights as a result."""
    data, _ = small
    for kw, says in ((dict(grad_clip=-1.0), "grad_clip must be a gradient norm > 0"),
                     (dict(grad_clip=0), "grad_clip must be a gradient norm > 0"),
                     (dict(lr=float("nan")), "lr must be a finite number >= 0"),
                     (dict(lr=-0.1), "lr must be a finite number >= 0"),
                     (dict(weight_decay=-1.0), "weight_decay must be a finite number >= 0"),
                     (dict(auxiliary_weight=float("inf")), "auxiliary_weight must be a finite number >= 0")):
        with pytest.raises(ValueError, match=says):
            train(tiny(), data, epochs=1, **kw)
    with pytest.raises(ValueError, match="drop_path > 0 but the model has no drop_path nodes"):
        train(tiny(), data, epochs=1, drop_path=0.2)  # before: silently no drop-path


def test_weights_ruined_by_the_last_step_are_a_divergence_not_a_result(small):
    data, val = small

    def finite_loss_nan_gradient(out, y):  # sqrt(|0|)'s gradient is infinite: the update leaves NaN weights
        return nn.functional.cross_entropy(out, y) + 0.0 * (out - out.detach()).abs().sqrt().sum()

    for v in (val, None):  # with or without validation data
        with pytest.raises(TrainingDiverged, match="weights are no longer finite after epoch 1"):
            train(tiny(), (data[0][:64], data[1][:64]), v, epochs=1, batch_size=64, grad_clip=None,
                  loss_fn=finite_loss_nan_gradient)


class _WithEmbedding(nn.Module):
    """A classifier that also returns an embedding (4 wide, for 10 classes): not an auxiliary classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.body, self.head = nn.Linear(64, 4), nn.Linear(4, 10)

    def forward(self, x):
        z = torch.relu(self.body(x.flatten(1)))
        return self.head(z), z


def test_the_auxiliary_head_is_trained_with_its_weight(small):
    from graphnas.genotypes import get_genotype
    from graphnas.models import darts_cifar

    x, y = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(0)), torch.arange(8) % 10
    for weight, moves in ((0.4, True), (0.0, False)):
        model = graphnas.to_torch(darts_cifar(get_genotype("DARTS_V2"), C=4, layers=3, auxiliary=True), seed=0)
        aux = [p for n, p in model.named_parameters() if "classifier" in n and p.shape[-1] == 768][0]
        before = aux.detach().clone()
        train(model, (x, y), epochs=1, batch_size=4, auxiliary_weight=weight, weight_decay=0.0)
        assert (not torch.equal(before, aux)) is moves
    # a second output that is no auxiliary head (an embedding) is not trained on as if it were logits
    data, _ = small
    train(_WithEmbedding(), data, epochs=1, batch_size=64)
