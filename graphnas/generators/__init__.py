"""Everything a user samples or searches over, as a `graphnas.DAG`.

- random graphs as in RandWireNN: `erdos_renyi`, `barabasi_albert`, `watts_strogatz`;
- cell search spaces: `NB201Space`, `NB101Space`, `DARTSSpace`, `ENASSpace`,
  `NASNetSpace`, NAS-RL chains `ChainSpace` with the `chain` helper, and RandWire graphs
  searched by rewiring, `RandWireSpace`;
- edge-labelled cells to node form: `from_edge_ops`;
- the registry: `register_generator`, `list_generators`, `get_generator`
  (`GENERATORS`, a `graphnas.registry.Registry`).

Names are imported on first use, so ``import graphnas.generators`` stays cheap.
"""

from __future__ import annotations

import importlib

from graphnas._lazy import lazy_exports
from graphnas.generators._random import Seed, as_numpy, as_random, as_torch, seed_int
from graphnas.generators.base import SearchSpace
from graphnas.generators.registry import (
    GENERATORS,
    FunctionGenerator,
    get_generator,
    get_generator_builder,
    is_space,
    list_generators,
    register_generator,
)

# public name -> module defining it
_LAZY = {
    "from_edge_ops": "graphnas.generators.edge_cells",
    "NB201Space": "graphnas.generators.nb201",
    "NB201_OPS": "graphnas.generators.nb201",
    "erdos_renyi": "graphnas.generators.random_graphs",
    "barabasi_albert": "graphnas.generators.random_graphs",
    "watts_strogatz": "graphnas.generators.random_graphs",
    "randwire_dag": "graphnas.generators.random_graphs",
    "NB101Space": "graphnas.generators.nb101",
    "DARTSSpace": "graphnas.generators.cells",
    "ENASSpace": "graphnas.generators.cells",
    "NASNetSpace": "graphnas.generators.cells",
    "ChainSpace": "graphnas.generators.chains",
    "RandWireSpace": "graphnas.generators.randwire_space",
    "RANDWIRE_DEFAULTS": "graphnas.generators.randwire_space",
    "chain": "graphnas.generators.chains",
}

# modules whose decorators fill the registry; imported by list_generators/get_generator
_REGISTERING = ("nb201", "random_graphs", "nb101", "cells", "chains", "randwire_space")

__all__ = ["GENERATORS", "FunctionGenerator", "SearchSpace", "Seed", "as_numpy", "as_random", "as_torch",
           "get_generator", "get_generator_builder", "is_space", "list_generators", "register_generator", "seed_int",
           *sorted(_LAZY)]


def _import_registering() -> None:
    for mod in _REGISTERING:
        importlib.import_module(f"graphnas.generators.{mod}")


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
