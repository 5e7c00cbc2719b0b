"""Choice nodes compiled into mixed ops: the supernet side of `graphnas.to_torch`.

A **choice node** is ``Node("choice", {"candidates": [op, ...], "key": name, ...})``: a decision point of
a supernet (`graphnas.oneshot`). Its other params (``"stride"``, ``"C"``) are given to every candidate.
`graphnas.to_torch` compiles it into a `MixedOp` whose candidates are visible submodules
(``node_3.candidates.nor_conv_3x3``), and gives the compiled module one `ArchParameters` submodule,
``arch``, holding one architecture parameter vector per ``key``: choice nodes with the same key (the
same edge of a cell stacked several times in a network) share their weights and their sampled choice.

Modes (`set_choice_mode`):

- ``"relaxed"`` (DARTS): the output is ``sum_k softmax(alpha)_k * op_k(x)``; ``none`` candidates
  (zeros) are skipped, they add nothing, and candidates that begin with a ReLU of the input (an
  ``nn.Sequential`` such as DARTS' separable and dilated convs or ``ReLUConvBN``, without hooks) share
  one ``relu(x)``, computed and saved for the backward pass once instead of once per candidate (a
  candidate with hooks, or any global module hook, turns the sharing off for it: hooks still run). With
  ``arch.aux_skip = beta > 0`` (DARTS-, Chu et al. 2021) each mixed op whose output has its input's
  shape adds ``beta * x``, an auxiliary skip outside the choice.
- ``"gumbel"`` (GDAS): once per forward pass a hard one-hot sample of ``gumbel_softmax(alpha, tau)``
  per key (straight-through gradient to ``alpha``); only the chosen candidate computes.
- ``"sampled"`` (ENAS, random paths): one candidate per key, only that one computes; the path is the
  one fixed by `ArchParameters.fix` or, when none is fixed, drawn uniformly for every forward pass
  from the module's own seeded generator.

**Example**

```python
>>> import torch
>>> from graphnas import DAG, Node, to_torch
>>> from graphnas.converters.mixed import arch_parameters, set_choice_mode
>>> g = DAG([Node("input"), Node("choice", {"candidates": ["none", "nor_conv_3x3"], "key": "e"})], [(0, 1)])
>>> net = to_torch(g)
>>> [tuple(p.shape) for p in arch_parameters(net)]
[(2,)]
>>> set_choice_mode(net, "sampled", seed=0)
>>> net(torch.randn(2, 3, 8, 8)).shape
torch.Size([2, 3, 8, 8])

```
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any, cast

import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules import module as nn_module

from graphnas.dag import GraphError, Node
from graphnas.ops import Zero

__all__ = ["CHOICE", "CHOICE_MODES", "ArchParameters", "MixedOp", "arch_of", "arch_parameters", "choice_candidates",
           "mixed_ops", "set_choice_mode", "weight_parameters"]

#: The op name of a choice node.
CHOICE = "choice"
#: How a compiled choice node computes (see the module doc).
CHOICE_MODES = ("relaxed", "gumbel", "sampled")


def choice_candidates(node: Node, where: str) -> tuple[list[str], str]:
    """The candidate op names and the key of choice node ``node``; GraphError naming ``where`` for no
    candidates, a candidate that is not an op name, duplicates, or a missing key."""
    cands = node.params.get("candidates")
    if cands is None or (isinstance(cands, tuple) and not cands):
        raise GraphError(f"{where}: a choice node needs a non-empty 'candidates' list of op names")
    if not isinstance(cands, tuple) or not all(isinstance(c, str) and c for c in cands):
        raise GraphError(f"{where}: 'candidates' must be a list of op names, got {cands!r}")
    if len(set(cands)) != len(cands):
        raise GraphError(f"{where}: 'candidates' lists an op twice: {list(cands)}")
    if CHOICE in cands:
        raise GraphError(f"{where}: a choice node cannot list 'choice' among its candidates")
    key = node.params.get("key")
    if not isinstance(key, str) or not key or "." in key:
        raise GraphError(f"{where}: a choice node needs a 'key' param, a non-empty string without dots "
                         f"(choice nodes with the same key share architecture weights), got {key!r}")
    return list(cands), key


def _leading_relu(op: nn.Module) -> bool:
    """Whether ``op`` is an ``nn.Sequential`` (``forward`` not overridden) that begins with an out-of-place
    ``nn.ReLU``, with no hooks on it, on that ReLU or global ones: then ``op(x)`` is its other layers applied to
    ``relu(x)``, which candidates can share."""
    if not isinstance(op, nn.Sequential) or type(op).forward is not nn.Sequential.forward or len(op) < 2:
        return False
    first = op[0]
    if type(first) is not nn.ReLU or first.inplace:
        return False
    hooks = [nn_module._global_forward_hooks, nn_module._global_forward_pre_hooks,
             nn_module._global_backward_hooks, nn_module._global_backward_pre_hooks]
    for m in (op, first):
        hooks += [m._forward_hooks, m._forward_pre_hooks, m._backward_hooks, m._backward_pre_hooks]
    return not any(hooks)


class MixedOp(nn.Module):
    """One compiled choice node: its candidates in ``candidates`` (an ``nn.ModuleDict`` by op name).

    It computes as the ``arch`` module it is bound to says (see the module doc); ``key`` names its
    architecture parameters there.
    """

    def __init__(self, key: str, candidates: Mapping[str, nn.Module]) -> None:
        super().__init__()
        self.key = key
        self.candidates = nn.ModuleDict(dict(candidates))
        self._names = list(candidates)
        self._zero = [isinstance(m, Zero) for m in self.candidates.values()]
        self._arch: ArchParameters | None = None  # bound by to_torch; not a submodule (shared)

    def bind(self, arch: ArchParameters) -> None:
        object.__setattr__(self, "_arch", arch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        arch = self._arch
        if arch is None:
            raise RuntimeError(f"mixed op {self.key!r} is not bound to architecture parameters; compile the "
                               "supernet with graphnas.to_torch")
        ops = list(self.candidates.values())
        if arch.mode == "relaxed":
            # sum_k w_k * op_k(x) accumulated in place into the first term's product, a fresh tensor that no
            # backward formula reads (mul saves its inputs, not its output): no activation-sized sum is allocated
            # per term, and the backward pass is the DARTS code's (one MulBackward per term). The weights are
            # split once (unbind: one stack in the backward pass, not a select and select_backward per term).
            # Candidates that begin with a ReLU of the input (DARTS' sep/dil convs, ReLUConvBN) share one.
            w = F.softmax(arch.alphas[self.key], dim=-1).unbind()
            out: torch.Tensor | None = None
            relu_x: torch.Tensor | None = None
            for k, op in enumerate(ops):
                if self._zero[k]:
                    continue
                if _leading_relu(op):
                    if relu_x is None:
                        relu_x = F.relu(x)
                    y = relu_x
                    for layer in itertools.islice(iter(cast(nn.Sequential, op)), 1, None):  # every entry, as forward()
                        y = layer(y)
                else:
                    y = op(x)
                if out is None:
                    out = y * w[k]
                else:
                    out.add_(y * w[k])
            if out is None:  # every candidate is the zero op
                return ops[0](x)
            if arch.aux_skip and out.shape == x.shape:  # DARTS-: an auxiliary skip outside the choice
                out.add_(arch.aux_skip * x)
            return out
        k = arch.choice(self.key)
        out = ops[k](x)
        if arch.mode == "gumbel":
            out = out * arch.hard[self.key][k]
        return out

    def extra_repr(self) -> str:
        return f"key={self.key!r}"


class ArchParameters(nn.Module):
    """The architecture side of a compiled supernet: ``alphas`` (one vector per choice key), the mode,
    the fixed or drawn path, and the generator the draws come from (seeded, never the global one)."""

    def __init__(self, sizes: Mapping[str, int], names: Mapping[str, list[str]]) -> None:
        super().__init__()
        self.alphas = nn.ParameterDict({k: nn.Parameter(torch.zeros(n)) for k, n in sizes.items()})
        self.names = {k: list(v) for k, v in names.items()}
        self.mode = "relaxed"
        self.tau = 1.0
        self.aux_skip = 0.0  # DARTS- (Chu et al. 2021): relaxed mode adds aux_skip * x where shapes allow
        self.fixed: dict[str, int] | None = None
        self.drawn: dict[str, int] = {}
        self.hard: dict[str, torch.Tensor] = {}
        self.generator = torch.Generator().manual_seed(0)

    def __getstate__(self) -> dict[str, Any]:
        # this pass's draws hold autograd history (Gumbel); a copy or a pickle starts without them
        state = self.__dict__.copy()
        state["hard"], state["drawn"] = {}, {}
        return state

    def fix(self, path: Mapping[str, int] | None) -> None:
        """Use ``path`` (key -> candidate index) in ``"sampled"`` mode; ``None`` draws one per forward pass."""
        if path is None:
            self.fixed = None
            return
        out = {}
        for key in self.alphas:
            if key not in path:
                raise GraphError(f"the path gives no choice for {key!r}; it needs one for each of {list(self.alphas)}")
            k = path[key]
            n = len(self.names[key])
            if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < n:
                raise GraphError(f"choice {key!r}: {k!r} is not a candidate index 0..{n - 1} "
                                 f"({', '.join(self.names[key])})")
            out[key] = k
        extra = set(path) - set(self.alphas)
        if extra:
            raise GraphError(f"the path names choices this supernet does not have: {sorted(extra)}")
        self.fixed = out

    def draw(self) -> dict[str, int]:
        """A uniformly drawn path (key -> candidate index), from this module's generator."""
        return {k: int(torch.randint(len(self.names[k]), (1,), generator=self.generator)) for k in self.alphas}

    def choice(self, key: str) -> int:
        if self.mode == "sampled" and self.fixed is not None:
            return self.fixed[key]
        return self.drawn[key]

    def forward(self) -> None:
        """Draw this pass's choices (the first line of a compiled supernet's ``forward`` calls it)."""
        if self.mode == "sampled" and self.fixed is None:
            self.drawn = self.draw()
        elif self.mode == "gumbel":
            self.hard, self.drawn = {}, {}
            for key, alpha in self.alphas.items():
                u = torch.rand(alpha.shape, generator=self.generator).clamp_(1e-10, 1.0 - 1e-7)
                logits = (alpha - u.to(alpha.device).log().neg().log()) / self.tau
                soft = F.softmax(logits, dim=-1)
                k = int(soft.argmax())
                one = torch.zeros_like(soft)
                one[k] = 1.0
                self.hard[key] = one - soft.detach() + soft  # straight-through
                self.drawn[key] = k

    def weights(self) -> dict[str, list[float]]:
        """``softmax(alpha)`` per key, as plain lists (what DARTS derives a cell from)."""
        return {k: F.softmax(a.detach(), dim=-1).tolist() for k, a in self.alphas.items()}

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, choices={len(self.alphas)}"


def bind_choices(gm: torch.fx.GraphModule) -> None:
    """Give a freshly compiled module with mixed ops its ``arch`` submodule (called by `graphnas.to_torch`)."""
    ops = [m for m in gm.modules() if isinstance(m, MixedOp)]
    if not ops:
        return
    sizes: dict[str, int] = {}
    names: dict[str, list[str]] = {}
    for m in ops:
        if m.key in names and names[m.key] != m._names:
            raise GraphError(f"choice nodes with key {m.key!r} list different candidates ({names[m.key]} and "
                             f"{m._names}); nodes that share a key must list the same ops in the same order")
        sizes[m.key], names[m.key] = len(m._names), m._names
    arch = ArchParameters(sizes, names)
    gm.add_module("arch", arch)
    for m in ops:
        m.bind(arch)
    graph = gm.graph
    from graphnas.converters.torch import check_input  # the inputs are checked before anything is drawn

    first = next(n for n in graph.nodes if n.op != "placeholder" and n.target is not check_input)
    with graph.inserting_before(first):
        graph.create_node("call_module", "arch", (), {}, name="draw_choices")
    gm.recompile()


def arch_of(model: nn.Module) -> ArchParameters:
    """The `ArchParameters` of a compiled supernet (GraphError for a module without choice nodes)."""
    arch = getattr(model, "arch", None)
    if not isinstance(arch, ArchParameters):
        raise GraphError("this module has no choice nodes (no 'arch' submodule); compile a supernet DAG "
                         "(space.supernet()) with graphnas.to_torch")
    return arch


def arch_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The architecture parameters of a compiled supernet (one vector per choice key)."""
    return list(arch_of(model).alphas.values())


def weight_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Every parameter of ``model`` that is not an architecture parameter (the shared weights)."""
    arch = {id(p) for p in arch_parameters(model)}
    return [p for p in model.parameters() if id(p) not in arch]


def mixed_ops(model: nn.Module) -> Iterator[tuple[str, MixedOp]]:
    """The compiled choice nodes of ``model``, by module name."""
    for name, m in model.named_modules():
        if isinstance(m, MixedOp):
            yield name, m


def set_choice_mode(model: nn.Module, mode: str, *, seed: Any = None, tau: float | None = None,
                    path: Mapping[str, int] | None = None) -> None:
    """Set how the choice nodes of a compiled supernet compute: ``"relaxed"``, ``"gumbel"`` or ``"sampled"``.

    Args:
        model: a module compiled by `graphnas.to_torch` from a DAG with choice nodes.
        mode: one of `CHOICE_MODES`.
        seed: reseeds the generator of the draws (``None``: keep it).
        tau: the Gumbel-softmax temperature (``None``: keep it).
        path: for ``"sampled"``, the choice per key to use in every pass (``None``: draw per pass).
    """
    from graphnas.generators._random import as_torch

    if mode not in CHOICE_MODES:
        raise ValueError(f"mode must be one of {CHOICE_MODES}, got {mode!r}")
    arch = arch_of(model)
    arch.mode = mode
    if seed is not None:
        arch.generator = as_torch(seed)
    if tau is not None:
        if not tau > 0:
            raise ValueError(f"tau must be positive, got {tau}")
        arch.tau = float(tau)
    arch.fix(path if mode == "sampled" else None)
