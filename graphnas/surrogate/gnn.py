"""A GNN that predicts an architecture's score from its DAG, with uncertainty from a deep ensemble.

`GNNSurrogate` is a scikit-learn estimator: ``fit(dags, y)``, then ``predict(dags)``
(the mean) or ``predict(dags, return_std=True) -> (mean, std)``. Each ensemble member is a small
bidirectional GIN (`graphnas.surrogate.layers.BiGINConv`) over the
node features of `graphnas.converters.features`, read out from the sum of
all node embeddings and the output node's embedding. Members differ by their
random initialisation (a deep ensemble, Lakshminarayanan et al. 2017); the
spread of their predictions is the uncertainty. Training minimises squared
error on standardised targets plus a pairwise ranking loss, which is what a
search needs: the right order more than the right value.

Next to the GNN members sit ``trees`` gradient-boosted tree models on Weisfeiler-Lehman label
counts (`graphnas.surrogate.trees.WLTrees`, default 5): a second model family that sees the graph
differently. The prediction is the mean over all members of both families, the uncertainty their
spread; on NAS-Bench-201 this ranks better from 50-100 graphs than the GNN alone and its spread
tracks the error far better (docs/benchmarks/surrogate.md). ``trees=0`` gives the GNN alone.

**Example**

```python
>>> from graphnas.surrogate import GNNSurrogate
>>> model = GNNSurrogate(epochs=50, seed=0).fit(dags, scores)     # doctest: +SKIP
>>> mean, std = model.predict(candidates, return_std=True)        # doctest: +SKIP

```
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Literal, cast, overload

import numpy as np
import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter

from graphnas._checks import is_integer
from graphnas._lazy import untouched_import
from graphnas.converters.features import Featurizer, GraphBatch
from graphnas.dag import DAG
from graphnas.generators._random import Seed, as_torch, seed_int
from graphnas.surrogate.layers import BiGINConv, EnsembleLinear, bidirectional_operator
from graphnas.surrogate.trees import WLTrees

with untouched_import():  # scikit-learn's first import draws from the global random
    from sklearn.base import BaseEstimator, RegressorMixin

__all__ = ["GNNSurrogate"]

_FORMAT = "graphnas.surrogate.gnn"


class _EnsembleGNN(nn.Module):
    """``members`` bidirectional GINs evaluated side by side; returns ``[members, num_graphs]``."""

    def __init__(self, members: int, in_features: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.embed = EnsembleLinear(members, in_features, hidden)
        self.convs = nn.ModuleList(BiGINConv(members, hidden) for _ in range(layers))
        self.head1 = EnsembleLinear(members, 2 * hidden, hidden)
        self.head2 = EnsembleLinear(members, hidden, 1)

    def reset_parameters(self, generator: torch.Generator) -> None:
        for m in (self.embed, *self.convs, self.head1, self.head2):
            m.reset_parameters(generator)

    def forward(self, b: GraphBatch, op: Tensor | None = None) -> Tensor:
        """Predictions ``[members, num_graphs]``; ``op`` (`bidirectional_operator` of ``b``) takes the
        sparse-matmul path, the same sums as the gather/scatter one, faster."""
        h = torch.relu(self.embed(b.x))
        for conv in self.convs:
            step = conv(h, b.edge_index) if op is None else cast(BiGINConv, conv).forward_sparse(h, op)
            h = torch.relu(h + step)
        pooled = scatter(h, b.batch, dim=1, dim_size=b.num_graphs, reduce="sum")
        out = scatter(h[:, b.out_index], b.out_batch, dim=1, dim_size=b.num_graphs, reduce="mean")
        r = torch.relu(self.head1(torch.cat([pooled, out], dim=-1)))
        return self.head2(r).squeeze(-1)


class GNNSurrogate(RegressorMixin, BaseEstimator):
    """Predicts a score (higher is better) for any DAG, with an ensemble standard deviation.

    A scikit-learn estimator: ``get_params``/``set_params``, ``sklearn.base.clone`` and
    ``score`` (R^2 of the mean) come from ``BaseEstimator``/``RegressorMixin``; ``X`` is a sequence
    of DAGs. ``predict(X)`` gives the ensemble mean, ``predict(X, return_std=True)`` the pair
    ``(mean, std)``, as ``GaussianProcessRegressor`` does.

    Args:
        vocabulary: the op names to one-hot encode (e.g. ``space.vocabulary``).
            Default: the ops seen in the first ``fit``. Unseen ops share one slot.
        hidden: width of node embeddings.
        layers: number of bidirectional message-passing layers.
        ensemble: number of members of the deep ensemble (>= 2 for a std).
        trees: number of gradient-boosted tree models on Weisfeiler-Lehman label counts
            (`graphnas.surrogate.trees.WLTrees`) that join the ensemble; 0: the GNN members only.
            Every ``fit`` (warm or not) refits them from scratch, which is cheap (about 0.2 s each at
            100 graphs).
        epochs: full-batch Adam steps of a fresh ``fit``.
        warm_epochs: Adam steps of a warm-started ``fit`` (default: ``epochs``).
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        rank_weight: weight of the pairwise logistic ranking loss next to the squared error (default 2:
            the order is what a search uses). Against 1, the default before 2026-12-01 (evening), Kendall tau
            on held-out NAS-Bench-201 cells rose with the training set on three objectives, 10 splits each:
            at 100 cells 0.779 -> 0.783 (200-epoch accuracy, 9/10 splits), 0.688 -> 0.690 (12-epoch, 7/10)
            and 0.832 -> 0.835 (NB101 cells, a structural objective, 10/10); at 200 cells +0.006 and +0.005;
            level at 25-50 cells (docs/benchmarks/surrogate.md).
        top_focus: how much more the order among the best training graphs counts. Each ranking pair is
            weighted by ``1 / log2(2 + rank) ** top_focus`` of its better graph (rank 0: the best score,
            tied scores share the better rank; at 1 the position discount of NDCG, as in LambdaRank),
            scaled to mean 1 over the pairs. 0 (default): every pair counts the same. A search needs the
            order among its best graphs more than elsewhere: `BayesianOptimization`'s default surrogate
            uses 2.
        max_pairs: ranking pairs sampled per step (bounds the cost on large training sets).
        max_param_tokens: how many ``key=value`` param tokens to one-hot (most frequent first).
        live_only: pass messages over each graph's live part only (default; `Featurizer.live_part`: the
            nodes on an input-to-output path that avoids the zero op ``"none"``, and the inputs and
            outputs), as the tree members always did. Graphs that differ only where no path goes then
            look the same, which they are. On NAS-Bench-201 it raised Kendall tau at every training size
            measured and on both objectives (0.713 -> 0.738 at 50 cells, 0.765 -> 0.779 at 100 on the
            200-epoch accuracy; 0.578 -> 0.604 and 0.667 -> 0.688 on the 12-epoch one;
            docs/benchmarks/surrogate.md), and a fit takes less time (fewer nodes).
            False: every node, the dead ones flagged (the default before 2026-12-01).
        warm_start: if True, a second ``fit`` continues from the current weights and
            feature vocabulary instead of starting afresh (cheap refits in search).
        predict_batch: graphs per forward pass in ``predict`` (bounds memory).
        early_stop: None (default) runs every epoch. A float ``tol`` stops a fit once the mean training
            loss of the last 5 epochs is less than ``tol`` (relative) below that of the 5 before
            (after at least 10 epochs): warm refits that add one result then take a few steps, not all.
        n_threads: None (default) leaves torch's thread count alone. An int sets torch's
            *process-wide* thread count during ``fit``/``predict`` and restores it afterwards;
            only use it when no other thread runs torch meanwhile.
        pretrained: None (default), or the dict `graphnas.surrogate.pretrain` returns: every fresh
            ``fit`` starts the encoder (op embedding and message passing of each member) from these
            self-supervised weights, the heads from random, and fine-tunes all of it; the feature
            vocabulary is the pre-training one (``vocabulary`` is then ignored). ``hidden``,
            ``layers`` and ``ensemble`` must match the pre-training.
        seed: seeds initialisation and pair sampling through ``torch.Generator`` objects of the
            estimator's own (never torch's global generator): an int (same seed and data, same
            model), a ``random.Random`` or a numpy ``Generator`` (advanced by each ``fit``), or None.

    Fitted attributes: ``featurizer_``, ``model_``, ``trees_`` (the `WLTrees`, None with ``trees=0``),
    ``y_mean_``, ``y_scale_``, ``n_fits_``, ``epochs_`` (Adam steps the last ``fit`` took), and
    ``std_scale_`` after `calibrate`.
    """

    featurizer_: Featurizer
    model_: _EnsembleGNN
    trees_: WLTrees | None
    y_mean_: float
    y_scale_: float
    n_fits_: int
    std_scale_: float
    epochs_: int

    def __init__(self, *, vocabulary: Sequence[str] | None = None, hidden: int = 32, layers: int = 3,
                 ensemble: int = 5, trees: int = 5, epochs: int = 250, warm_epochs: int | None = None, lr: float = 5e-3,
                 weight_decay: float = 1e-4, rank_weight: float = 2.0, top_focus: float = 0.0, max_pairs: int = 8192,
                 max_param_tokens: int = 64, live_only: bool = True,
                 warm_start: bool = False, predict_batch: int = 256, early_stop: float | None = None,
                 n_threads: int | None = None, pretrained: dict | None = None, seed: Seed = 0) -> None:
        self.vocabulary = vocabulary
        self.hidden = hidden
        self.layers = layers
        self.ensemble = ensemble
        self.trees = trees
        self.epochs = epochs
        self.warm_epochs = warm_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.rank_weight = rank_weight
        self.top_focus = top_focus
        self.max_pairs = max_pairs
        self.max_param_tokens = max_param_tokens
        self.live_only = live_only
        self.warm_start = warm_start
        self.predict_batch = predict_batch
        self.early_stop = early_stop
        self.n_threads = n_threads
        self.pretrained = pretrained
        self.seed = seed

    # -- estimator API ---------------------------------------------------------------

    def fit(self, X: Sequence[DAG], y: Sequence[float] | np.ndarray) -> GNNSurrogate:
        """Train on graphs ``X`` and their scores ``y`` (higher is better); returns ``self``."""
        dags = list(X)
        y_arr = np.asarray(y, dtype=np.float64).reshape(-1)
        if len(dags) != len(y_arr):
            raise ValueError(f"fit got {len(dags)} graphs but {len(y_arr)} scores")
        if len(dags) < 2:
            raise ValueError("fit needs at least 2 graphs")
        if not np.isfinite(y_arr).all():
            raise ValueError("fit got a NaN or infinite score; drop failed evaluations first")
        if not (isinstance(self.top_focus, (int, float)) and 0 <= self.top_focus < math.inf):
            raise ValueError(f"top_focus must be a number >= 0 (0: every ranking pair counts the same), "
                             f"got {self.top_focus!r}")
        for name, least in (("hidden", 1), ("layers", 1), ("ensemble", 1), ("trees", 0), ("epochs", 0),
                            ("predict_batch", 1), ("max_pairs", 1)):
            value = getattr(self, name)
            if not is_integer(value, least):
                raise ValueError(f"GNNSurrogate: {name} must be an integer >= {least}, got {value!r}")
        for i, d in enumerate(dags):
            if not isinstance(d, DAG):
                raise TypeError(f"fit expects graphnas.DAG objects; item {i} is a {type(d).__name__}")
        base = seed_int(self.seed)
        warm = self.warm_start and hasattr(self, "model_")
        gen = as_torch(base * 1_000_003 + (self.n_fits_ if warm else 0))
        if not warm:
            pre = self.pretrained
            if pre is None:
                self.featurizer_ = Featurizer.fit(dags, self.vocabulary, self.max_param_tokens)
            else:
                self._check_pretrained(pre)
                self.featurizer_ = Featurizer(pre["ops"], pre["param_tokens"])
            self.model_ = self._build()
            self.model_.reset_parameters(as_torch(base))
            if pre is not None:
                self.model_.load_state_dict(pre["state_dict"], strict=False)
            self.n_fits_ = 0
        self.__dict__.pop("std_scale_", None)  # a calibration holds for the model it was measured on only
        self.y_mean_ = float(y_arr.mean())
        self.y_scale_ = float(y_arr.std()) or 1.0
        z = torch.tensor((y_arr - self.y_mean_) / self.y_scale_, dtype=torch.float32)
        batch = self.featurizer_.batch(dags, self.live_only)
        epochs = self.epochs if not warm or self.warm_epochs is None else self.warm_epochs
        with _threads(self.n_threads):
            self.epochs_ = self._train(batch, z, gen, epochs)
        self.trees_ = self._fit_trees(dags, z.double().numpy(), base * 1_000_003 + self.n_fits_, warm)
        self.n_fits_ += 1
        return self

    def _fit_trees(self, dags: list[DAG], z: np.ndarray, seed: int, warm: bool) -> WLTrees | None:
        """A new `WLTrees` on the standardised targets (a new object, so that a copy of this surrogate
        fitted in the background never changes the trees this one predicts with); a warm fit shares
        the label-count cache of the previous one."""
        if self.trees <= 0:
            return None
        old = getattr(self, "trees_", None) if warm else None
        cache = old.cache if old is not None and old.featurizer is self.featurizer_ else None
        return WLTrees(self.featurizer_, self.trees, cache=cache).fit(dags, z, seed)

    def _check_pretrained(self, pre: dict) -> None:
        from graphnas.surrogate.pretraining import FORMAT

        if not isinstance(pre, dict) or pre.get("format") != FORMAT:
            raise TypeError("pretrained must be the dict that graphnas.surrogate.pretrain(space, ...) returns")
        for name in ("hidden", "layers", "ensemble"):
            if pre[name] != getattr(self, name):
                raise ValueError(f"pretrained weights have {name}={pre[name]} but this GNNSurrogate has "
                                 f"{name}={getattr(self, name)}; pass the same {name} to pretrain(...) and "
                                 f"GNNSurrogate(...)")

    def _build(self) -> _EnsembleGNN:
        """The ensemble network with uninitialised weights (built on the meta device: no random draws)."""
        with torch.device("meta"):
            model = _EnsembleGNN(self.ensemble, self.featurizer_.num_features, self.hidden, self.layers)
        return model.to_empty(device="cpu")

    def _train(self, batch: GraphBatch, z: Tensor, gen: torch.Generator, epochs: int) -> int:
        """``epochs`` full-batch Adam steps (fewer with ``early_stop``); returns the steps taken."""
        model = self.model_
        model.train()
        op = bidirectional_operator(batch.edge_index, len(batch.x))
        opt = _FlatAdam(list(model.parameters()), lr=self.lr, weight_decay=self.weight_decay)
        hi, lo = torch.nonzero(z[:, None] > z[None, :], as_tuple=True)  # pairs with z[hi] > z[lo]
        n_pairs = len(hi)
        pair_weight = top_weights(z, hi, self.top_focus) if self.top_focus and n_pairs else None
        losses: list[float] = []
        tol = self.early_stop
        for epoch in range(epochs):
            opt.zero_grad()
            pred = model(batch, op)  # [members, n]
            loss = ((pred - z) ** 2).mean()
            if self.rank_weight > 0 and n_pairs:
                pick = torch.randint(n_pairs, (self.max_pairs,), generator=gen) if n_pairs > self.max_pairs else None
                i, j = (hi, lo) if pick is None else (hi[pick], lo[pick])
                pairs = nn.functional.softplus(pred[:, j] - pred[:, i])
                if pair_weight is not None:
                    pairs = pairs * (pair_weight if pick is None else pair_weight[pick])
                loss = loss + self.rank_weight * pairs.mean()
            loss.backward()
            opt.step()
            if tol is not None:
                losses.append(float(loss.detach()))
                if epoch >= 9 and epoch % 5 == 4 and sum(losses[-5:]) > (1 - tol) * sum(losses[-10:-5]):
                    model.eval()
                    return epoch + 1
        model.eval()
        return epochs

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError("this GNNSurrogate is not fitted yet; call fit(dags, y) first")

    @torch.no_grad()
    def predict_members(self, X: Sequence[DAG]) -> np.ndarray:
        """Each ensemble member's prediction, ``[ensemble + trees, len(X)]`` (the GNN members first,
        then the tree models), in the units of ``y``."""
        self._check_fitted()
        dags = list(X)
        trees = getattr(self, "trees_", None)
        out = np.empty((self.ensemble + (trees.members if trees is not None else 0), len(dags)), dtype=np.float64)
        step = max(1, int(self.predict_batch))
        with _threads(self.n_threads):
            for start in range(0, len(dags), step):
                chunk = dags[start:start + step]
                b = self.featurizer_.batch(chunk, self.live_only)
                pred = self.model_(b, bidirectional_operator(b.edge_index, len(b.x)))
                out[:self.ensemble, start:start + len(chunk)] = pred.double().numpy()
        if trees is not None and dags:  # the trees' predict refuses an empty list
            out[self.ensemble:] = trees.predict(dags)
        return out * self.y_scale_ + self.y_mean_

    @overload
    def predict(self, X: Sequence[DAG], return_std: Literal[False] = ...) -> np.ndarray: ...

    @overload
    def predict(self, X: Sequence[DAG], return_std: Literal[True]) -> tuple[np.ndarray, np.ndarray]: ...

    def predict(self, X: Sequence[DAG], return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The ensemble mean for each graph of ``X``; with ``return_std=True`` the pair ``(mean, std)``.

        Numpy arrays of ``len(X)``. The std is the members' spread times ``std_scale_`` (1 until
        `calibrate` is called).
        """
        members = self.predict_members(X)
        mean = members.mean(axis=0)
        if not return_std:
            return mean
        return mean, members.std(axis=0) * getattr(self, "std_scale_", 1.0)

    def calibrate(self, X: Sequence[DAG], y: Sequence[float] | np.ndarray) -> GNNSurrogate:
        """Rescale the std on held-out graphs so that about 68% of them fall within mean +- 1 std.

        A deep ensemble's raw spread is overconfident on NAS-Bench-201 (about 30% of held-out
        cells fall within 1 std, see docs/benchmarks/surrogate.md); this sets ``std_scale_`` to the
        68.27th percentile of ``|error| / spread`` over graphs that were *not* used in ``fit``.
        """
        self._check_fitted()
        y_arr = np.asarray(y, dtype=np.float64).reshape(-1)
        members = self.predict_members(list(X))
        if members.shape[1] != len(y_arr) or len(y_arr) < 2:
            raise ValueError(f"calibrate needs at least 2 graphs and one score per graph, got "
                             f"{members.shape[1]} graphs and {len(y_arr)} scores")
        spread = np.maximum(members.std(axis=0), 1e-12)
        self.std_scale_ = float(np.quantile(np.abs(members.mean(axis=0) - y_arr) / spread, 0.6827))
        return self

    # -- persistence -------------------------------------------------------------------

    def save(self, path: str) -> None:
        """Write the fitted surrogate to ``path`` (tensors and plain values; read with ``weights_only=True``)."""
        self._check_fitted()
        params = self.get_params(deep=False)
        params["vocabulary"] = None if self.vocabulary is None else list(self.vocabulary)
        if not isinstance(params["seed"], int) or isinstance(params["seed"], bool):
            params["seed"] = None  # a random.Random or numpy Generator is not stored; refits then draw fresh
        torch.save({
            "format": _FORMAT, "version": 3, "params": params,
            "ops": self.featurizer_.vocabulary, "param_tokens": self.featurizer_.param_tokens,
            "y_mean": self.y_mean_, "y_scale": self.y_scale_, "n_fits": self.n_fits_,
            "std_scale": float(getattr(self, "std_scale_", 1.0)),
            "state_dict": self.model_.state_dict(),
            "trees": None if self.trees_ is None else {
                "keys": list(self.trees_.keys_), "X": torch.from_numpy(self.trees_.X_),
                "y": torch.from_numpy(self.trees_.y_), "seeds": torch.tensor(self.trees_.seeds_, dtype=torch.int64)},
        }, path)

    @classmethod
    def load(cls, path: str) -> GNNSurrogate:
        """Read a surrogate written by `save` (never unpickles arbitrary objects)."""
        try:
            doc = torch.load(path, weights_only=True, map_location="cpu")
        except OSError:  # no such file, no permission: as it is
            raise
        except Exception as err:  # a corrupt or foreign file fails anywhere in torch's (weights-only) reader
            raise ValueError(f"{path} is not a graphnas GNNSurrogate file (torch could not read it: "
                             f"{type(err).__name__}: {err})") from err
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a graphnas GNNSurrogate file")
        params = dict(doc["params"])
        if doc.get("version") == 1:  # written when n_threads=1 was the default, not a choice
            params["n_threads"] = None
        if doc.get("version", 3) < 3:  # written before the tree members existed: a GNN-only surrogate
            params["trees"] = 0
        self = cls(**params)
        self.featurizer_ = Featurizer(doc["ops"], doc["param_tokens"])
        self.model_ = self._build()
        self.model_.load_state_dict(doc["state_dict"])
        self.model_.eval()
        saved = doc.get("trees")
        # the trees are rebuilt from their training matrix and seeds (no pickled sklearn objects); same fit, same trees
        self.trees_ = None if saved is None else WLTrees(self.featurizer_, self.trees).fit_matrix(
            saved["X"].numpy(), saved["y"].numpy(), saved["seeds"].tolist(), saved["keys"])
        self.y_mean_, self.y_scale_, self.n_fits_ = float(doc["y_mean"]), float(doc["y_scale"]), int(doc["n_fits"])
        if float(doc.get("std_scale", 1.0)) != 1.0:
            self.std_scale_ = float(doc["std_scale"])
        return self


class _FlatAdam:
    """Adam (Kingma & Ba 2015) with L2 weight decay, as ``torch.optim.Adam(params, lr, weight_decay=...,
    foreach=True)`` computes it, on one flat copy of all the parameters instead of one tensor at a time.

    The ensemble has two dozen small weight tensors (75,685 numbers in BO's surrogate), and torch's Adam
    runs a dozen kernels on each of them at every step: on CPU the launches, not the arithmetic, are what
    such a step costs. Here each of those kernels runs once, on the flat copy: a 150-query BO run on
    NAS-Bench-201 took 19.1 s instead of 22.6 s (2 threads; docs/benchmarks/search.md). The sequence of
    arithmetic per number is torch's, so the weights are the same bit for bit (a BO run asks the same
    graphs; tests/test_surrogate.py checks it against ``torch.optim.Adam`` on the machine it runs on).
    The flat copy is the master: each step writes it back into the parameters.
    """

    def __init__(self, params: list[nn.Parameter], lr: float, weight_decay: float = 0.0,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params, self.lr, self.weight_decay, self.betas, self.eps = params, lr, weight_decay, betas, eps
        self.sizes = [p.numel() for p in params]
        with torch.no_grad():
            self.flat = torch.cat([p.detach().reshape(-1) for p in params])
        self.exp_avg = torch.zeros_like(self.flat)
        self.exp_avg_sq = torch.zeros_like(self.flat)
        self.steps = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        beta1, beta2 = self.betas
        self.steps += 1
        grad = torch.cat([cast(Tensor, p.grad).reshape(-1) for p in self.params])  # every weight has one here
        if self.weight_decay != 0:
            grad = torch.add(grad, self.flat, alpha=self.weight_decay)
        self.exp_avg.lerp_(grad, 1 - beta1)
        self.exp_avg_sq.mul_(beta2)
        self.exp_avg_sq.addcmul_(grad, grad, value=1 - beta2)
        step = float(self.steps)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        denom = self.exp_avg_sq.sqrt()
        denom.div_(bias_correction2 ** 0.5)
        denom.add_(self.eps)
        self.flat.addcdiv_(self.exp_avg, denom, value=(self.lr / bias_correction1) * -1)
        for p, new in zip(self.params, self.flat.split(self.sizes)):
            p.copy_(new.view_as(p))


def top_weights(z: Tensor, hi: Tensor, focus: float) -> Tensor:
    """Weights of ranking pairs whose better graphs are ``z[hi]``: ``1 / log2(2 + rank) ** focus`` of the
    better graph (rank 0: the highest ``z``; tied values share the better rank), scaled to mean 1."""
    rank = (z[None, :] > z[:, None]).sum(dim=1)  # how many graphs score higher than each one
    weight = torch.log2(2.0 + rank[hi].to(z.dtype)) ** -float(focus)
    return weight / weight.mean()


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Run the block with ``n`` torch threads (process-wide), then restore the previous setting; None: no change."""
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b between two score lists (scipy), NaN-safe for constant inputs."""
    from scipy.stats import kendalltau

    t = kendalltau(a, b).statistic
    return float("nan") if t is None or math.isnan(t) else float(t)
