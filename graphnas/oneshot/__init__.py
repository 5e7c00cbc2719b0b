"""One-shot search with shared weights: supernets trained by DARTS, ENAS or random paths.

A space's supernet is a DAG (``space.supernet()``, see `graphnas.generators.supernet`) compiled by the one
converter (`graphnas.to_torch`) into a network of mixed ops (`graphnas.converters.mixed`), and trained by the
one training loop (`graphnas.train`). The searches (`DARTS`, `ENAS`, `RandomPaths`) return a
`OneShotResult`: the derived member, the per-epoch history (curves, architecture weights), the trained
supernet and, where the method ranks members, the ranking. `inherited_accuracy` reads any member's accuracy
off a trained supernet.
"""

from __future__ import annotations

from graphnas.converters.mixed import arch_parameters, set_choice_mode, weight_parameters
from graphnas.oneshot.base import (
    OneShotResult,
    SupernetData,
    batch_stat_bn,
    build_supernet,
    inherited_accuracy,
    split_digits,
)
from graphnas.oneshot.methods import DARTS, ENAS, METHODS, RandomPaths

__all__ = ["DARTS", "ENAS", "METHODS", "OneShotResult", "RandomPaths", "SupernetData", "arch_parameters",
           "batch_stat_bn", "build_supernet", "inherited_accuracy", "set_choice_mode", "split_digits",
           "weight_parameters"]
