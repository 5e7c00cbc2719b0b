"""GNN surrogates: predict an architecture's score (with uncertainty) from its DAG."""

from graphnas.converters.features import Featurizer, GraphBatch
from graphnas.surrogate.gnn import GNNSurrogate, kendall_tau

__all__ = ["Featurizer", "GNNSurrogate", "GraphBatch", "kendall_tau"]
