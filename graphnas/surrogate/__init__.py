"""GNN surrogates: predict an architecture's score (with uncertainty) from its DAG."""

from graphnas._lazy import quiet_pyg_import
from graphnas.converters.features import Featurizer, GraphBatch

with quiet_pyg_import():  # the first import of PyG (in gnn): without tqdm's notebook warning
    from graphnas.surrogate.gnn import GNNSurrogate, kendall_tau
    from graphnas.surrogate.pretraining import pretrain
    from graphnas.surrogate.trees import WLTrees, wl_counts

__all__ = ["Featurizer", "GNNSurrogate", "GraphBatch", "WLTrees", "kendall_tau", "pretrain", "wl_counts"]
