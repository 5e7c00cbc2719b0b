"""The surrogate's node features: :class:`Featurizer` and :class:`GraphBatch`, defined in
:mod:`graphnas.converters.features` (so that ``graphnas.to_pyg`` shares them without depending on the surrogate)."""

from graphnas.converters.features import Featurizer, GraphBatch

__all__ = ["Featurizer", "GraphBatch"]
