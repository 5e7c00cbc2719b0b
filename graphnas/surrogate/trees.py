"""Gradient-boosted trees on Weisfeiler-Lehman features: the second family of `GNNSurrogate`'s ensemble.

A graph becomes the counts of its Weisfeiler-Lehman subtree labels (Shervashidze et al. 2011; as a
NAS encoding, Ru et al. 2021, "NAS-BOWL") over its *live* part: the nodes that the surrogate's
`graphnas.converters.Featurizer` flags as on an input-to-output path avoiding the zero op ``"none"``,
joined by the edges it keeps. A node's first label is its op and params; each of ``iterations``
rounds relabels a node by its label and the sorted labels of its predecessors and of its
successors. Every label of every round is one feature (its count in the graph).

`WLTrees` fits ``members`` scikit-learn ``GradientBoostingRegressor`` models on those counts, each
on a different random subsample. They see the graph through counts of local patterns, not message
passing, so their errors differ from the GNN's: averaged with the GNN members they rank better
than either family alone, and the spread between the families is an uncertainty that tracks the
error (docs/benchmarks/surrogate.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from graphnas._lazy import untouched_import
from graphnas.converters.features import Featurizer
from graphnas.dag import DAG

with untouched_import():  # scikit-learn's first import draws from the global random
    from sklearn.ensemble import GradientBoostingRegressor

__all__ = ["WLTrees", "wl_counts"]


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def wl_counts(featurizer: Featurizer, dag: DAG, iterations: int = 2) -> dict[str, int]:
    """The Weisfeiler-Lehman label counts of ``dag``'s live subgraph, keys ``"<round>:<label>"``.

    Round 0 labels are the op index and param tokens of `Featurizer.encode` (so unknown ops share
    one label); later rounds hash the label with its predecessors' and successors' labels
    (``blake2b``, the same on every run and machine).
    """
    enc = featurizer.encode(dag)
    live = enc.flags[:, 2] > 0
    keep = live[enc.src] & live[enc.dst]
    src, dst = enc.src[keep].tolist(), enc.dst[keep].tolist()
    nodes = np.flatnonzero(live).tolist()
    labels = {i: f"{int(enc.ops[i])}/{','.join(map(str, enc.params[i]))}" for i in nodes}
    counts: dict[str, int] = {}
    for i in nodes:
        key = "0:" + labels[i]
        counts[key] = counts.get(key, 0) + 1
    preds: dict[int, list[int]] = {i: [] for i in nodes}
    succs: dict[int, list[int]] = {i: [] for i in nodes}
    for a, b in zip(src, dst):
        preds[b].append(a)
        succs[a].append(b)
    for it in range(1, iterations + 1):
        labels = {i: _digest(labels[i] + "(" + ",".join(sorted(labels[j] for j in preds[i])) + ";"
                             + ",".join(sorted(labels[j] for j in succs[i])) + ")") for i in nodes}
        for i in nodes:
            key = f"{it}:{labels[i]}"
            counts[key] = counts.get(key, 0) + 1
    return counts


class WLTrees:
    """``members`` gradient-boosted tree models on Weisfeiler-Lehman label counts.

    Args:
        featurizer: the surrogate's `Featurizer` (its op and param vocabulary labels the nodes).
        members: number of tree models (each on its own random subsample of the data).
        iterations: Weisfeiler-Lehman rounds (labels of rounds ``0..iterations`` are features).
        n_estimators: boosting rounds of each ``GradientBoostingRegressor``.
        max_depth: depth of each tree.
        learning_rate: shrinkage of each round.
        subsample: share of the graphs each round sees (different per member and round).
        max_features: share of the label columns each split considers.
        cache: a dict of graph -> label counts to share with an earlier `WLTrees` of the same
            featurizer (a refit then counts only the new graphs); default a fresh one.

    Fitted attributes: ``keys_`` (the labels seen in ``fit``, one column each), ``X_`` and ``y_``
    (the training matrix and targets, kept so that a saved surrogate can rebuild the trees
    exactly), ``seeds_`` and ``models_``.
    """

    def __init__(self, featurizer: Featurizer, members: int = 5, iterations: int = 2, *, n_estimators: int = 100,
                 max_depth: int = 3, learning_rate: float = 0.1, subsample: float = 0.8, max_features: float = 0.5,
                 cache: dict[DAG, dict[str, int]] | None = None) -> None:
        self.featurizer, self.members, self.iterations = featurizer, members, iterations
        self.n_estimators, self.max_depth, self.learning_rate = n_estimators, max_depth, learning_rate
        self.subsample, self.max_features = subsample, max_features
        self.cache: dict[DAG, dict[str, int]] = {} if cache is None else cache

    def counts(self, dags: Sequence[DAG]) -> list[dict[str, int]]:
        """`wl_counts` of each graph (cached per graph)."""
        out = []
        for d in dags:
            c = self.cache.get(d)
            if c is None:
                c = wl_counts(self.featurizer, d, self.iterations)
                if len(self.cache) < 200_000:
                    self.cache[d] = c
            out.append(c)
        return out

    def matrix(self, counts: Sequence[dict[str, int]]) -> np.ndarray:
        """The ``[len(counts), len(keys_)]`` count matrix (labels not seen in ``fit`` are dropped)."""
        index = self._index
        x = np.zeros((len(counts), len(index)), dtype=np.float32)
        for r, c in enumerate(counts):
            for k, v in c.items():
                j = index.get(k)
                if j is not None:
                    x[r, j] = v
        return x

    def fit(self, dags: Sequence[DAG], y: np.ndarray, seed: int) -> WLTrees:
        """Fit every member on ``dags`` and targets ``y``; ``seed`` (an int) fixes their subsamples."""
        counts = self.counts(dags)
        self.keys_ = sorted({k for c in counts for k in c})
        self._index = {k: j for j, k in enumerate(self.keys_)}
        return self.fit_matrix(self.matrix(counts), np.asarray(y, dtype=np.float64),
                               np.random.SeedSequence(int(seed) % 2**63).generate_state(self.members).tolist())

    def fit_matrix(self, x: np.ndarray, y: np.ndarray, seeds: Sequence[int],
                   keys: Sequence[str] | None = None) -> WLTrees:
        """Fit on a ready count matrix whose columns are ``keys`` (default ``keys_``); `fit` and a
        reloaded surrogate both end here."""
        if keys is not None:
            self.keys_ = list(keys)
        self.X_, self.y_, self.seeds_ = x, y, [int(s) for s in seeds]
        self._index = {k: j for j, k in enumerate(self.keys_)}
        self.models_ = [GradientBoostingRegressor(
            n_estimators=self.n_estimators, max_depth=self.max_depth, learning_rate=self.learning_rate,
            subsample=self.subsample, max_features=self.max_features, random_state=s).fit(x, y)
            for s in self.seeds_] if x.shape[1] else []
        return self

    def predict(self, dags: Sequence[DAG]) -> np.ndarray:
        """Each member's prediction, ``[members, len(dags)]``, in the units of ``y``."""
        if not self.models_:  # no label at all in training (no graph had a live node): the mean
            return np.full((self.members, len(dags)), float(np.mean(self.y_)))
        x = self.matrix(self.counts(dags))
        return np.stack([m.predict(x) for m in self.models_])
