"""Search: ask/tell optimisers (random, regularized evolution, GNN-guided BO, REINFORCE) and the loop that runs them.

Optimisers are registered by name: ``list_optimizers()``, ``get_optimizer(name, space, **kw)``,
``@register_optimizer(name)``.

**Example**

```python
>>> from graphnas.generators import NB201Space
>>> from graphnas.search import RandomSearch, run
>>> space = NB201Space()
>>> history = run(RandomSearch(space, seed=0), lambda dag: float(len(dag.edges)), budget=5)
>>> len(history.evaluations)
5

```
"""

from graphnas.search.acquisition import get_acquisition, list_acquisitions, register_acquisition
from graphnas.search.base import Optimizer, Space
from graphnas.search.bayesian import BayesianOptimization
from graphnas.search.evolution import RegularizedEvolution
from graphnas.search.executors import EXECUTORS, DaskExecutor, RayExecutor, make_executor
from graphnas.search.loop import Evaluation, History, Trial, read_journal, run
from graphnas.search.multifidelity import ASHA, Hyperband, ModelBasedASHA, ModelBasedHyperband, SuccessiveHalving
from graphnas.search.nash import NASH
from graphnas.search.random_search import RandomSearch
from graphnas.search.registry import (
    OPTIMIZERS,
    get_optimizer,
    get_optimizer_builder,
    list_optimizers,
    register_optimizer,
)
from graphnas.search.reinforce import Controller, Reinforce

__all__ = ["ASHA", "EXECUTORS", "NASH", "OPTIMIZERS", "BayesianOptimization", "Controller", "DaskExecutor",
           "Evaluation",
           "History", "Hyperband", "ModelBasedASHA", "ModelBasedHyperband", "Optimizer", "RandomSearch",
           "RayExecutor", "Reinforce", "RegularizedEvolution", "Space", "SuccessiveHalving", "Trial",
           "get_acquisition", "get_optimizer", "get_optimizer_builder", "list_acquisitions", "list_optimizers",
           "make_executor", "read_journal", "register_acquisition", "register_optimizer", "run"]
