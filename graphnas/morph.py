"""Network morphisms: change a trained architecture without changing what it computes.

Each morphism takes a `graphnas.DAG`, the ``state_dict`` of its compiled module
(``graphnas.to_torch(dag, in_channels).state_dict()``) and returns the child DAG and a
``state_dict`` for ``to_torch(child, in_channels)``. In eval mode the child computes the
parent's function (up to float rounding), so it starts training where the parent ended
(Net2Net, Chen et al. 2016; NASH, Elsken et al. 2017):

- `deepen` inserts a node initialised to the identity after a node;
- `widen` gives a conv node more output channels (Net2WiderNet: channels copied,
  the consumers' input weights split between the copies);
- `add_skip` adds an input edge whose contribution starts at exactly zero.

A node inside a nested DAG (a cell of a network) is addressed by its path, e.g. ``(2, 5)``:
node 5 of the DAG held by node 2. Which op supports which morphism is tabulated in
``docs/morphisms.md``. A morphism that cannot keep the function raises
`graphnas.GraphError` saying why; so does a ``state_dict`` that does not belong to
the DAG, naming the key.

**Example**

```python
>>> from graphnas import DAG, Node, to_torch
>>> from graphnas.morph import deepen
>>> g = DAG([Node("input"), Node("nor_conv_3x3", {"C": 8}), Node("global_avg_pool")], [(0, 1), (1, 2)])
>>> child, state = deepen(g, to_torch(g, 3).state_dict(), after=1, in_channels=3)
>>> [n.op for n in child.nodes]
['input', 'nor_conv_3x3', 'conv_bn', 'global_avg_pool']

```
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import torch
import torch.fx as fx
import torch.nn as nn

from graphnas._torch_rng import local_generator
from graphnas.converters.torch import Shape, to_torch
from graphnas.dag import DAG, GraphError, Node
from graphnas.generators._random import Seed, seed_int

__all__ = ["deepen", "widen", "add_skip", "DEEPEN_OPS", "WIDEN_OPS", "NONNEGATIVE_OPS", "NodeRef",
           "output_difference", "trained_like_state"]

#: A node of the top-level DAG (an int) or of a nested DAG (a path of ints).
NodeRef = int | Sequence[int]
StateDict = Mapping[str, torch.Tensor]

#: Ops whose output is never negative (they end with a ReLU): a ReLU-first op after them can be the identity.
NONNEGATIVE_OPS = frozenset({"conv3x3-bn-relu", "conv1x1-bn-relu", "chain_conv", "bn_relu", "relu"})
_RELU_FIRST = frozenset({"conv_1x1", "conv_3x3", "nor_conv_1x1", "nor_conv_3x3", "relu_conv_bn"})
_RELU_LAST = frozenset({"conv3x3-bn-relu", "conv1x1-bn-relu"})
#: Ops `deepen` can insert, with when: ``"always"`` on a feature map, ``"vector"`` on a vector,
#: ``"nonnegative"`` only after an op of `NONNEGATIVE_OPS` (its ReLU is then the identity).
DEEPEN_OPS: dict[str, str] = {"conv_bn": "always", "skip_connect": "always", "linear": "vector",
                              **{op: "nonnegative" for op in sorted(_RELU_FIRST | _RELU_LAST)}}
#: Ops `widen` can widen (their last layers are conv, BatchNorm, then at most a ReLU); the same ops,
#: single-input or concatenating, can consume a widened node (their first layers are at most a ReLU, then a
#: full conv).
WIDEN_OPS = frozenset(_RELU_FIRST | _RELU_LAST | {"conv_bn", "chain_conv", "nasnet_dil_conv_3x3"})

_KEY = re.compile(r"^(node|cell|weights)_(\d+)(\..*)?$")
_ALIGN_KEY = re.compile(r"^align_(\d+)_(\d+)(\..*)?$")


# --------------------------------------------------------------------------- shared plumbing


def _compile(dag: DAG, in_channels: int | Sequence[int]) -> fx.GraphModule:
    """Compile without drawing from torch's global generator (the initial weights are thrown away)."""
    with local_generator(torch.Generator().manual_seed(0)):
        return to_torch(dag, in_channels)


def _check_state(dag: DAG, state_dict: StateDict, in_channels: int | Sequence[int]) -> fx.GraphModule:
    """The parent's compiled module, after checking that ``state_dict`` is one of it (else GraphError)."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping of names to tensors, got {type(state_dict).__name__}")
    gm = _compile(dag, in_channels)
    ref = gm.state_dict()
    for k, v in state_dict.items():
        if k not in ref:
            raise GraphError(f"state_dict key {k!r} does not belong to the DAG: its compiled module has no such "
                             f"entry (it has {len(ref)} entries, e.g. {sorted(ref)[:3]})")
        if not isinstance(v, torch.Tensor) or tuple(v.shape) != tuple(ref[k].shape):
            got = tuple(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__
            raise GraphError(f"state_dict key {k!r} has shape {got} but the DAG's module needs "
                             f"{tuple(ref[k].shape)} (a state_dict of another DAG or other in_channels?)")
    missing = [k for k in ref if k not in state_dict]
    if missing:
        raise GraphError(f"state_dict does not belong to the DAG: it lacks {missing[0]!r}"
                         + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))
    return gm


def _path(ref: NodeRef, what: str) -> tuple[int, ...]:
    if isinstance(ref, bool):
        raise GraphError(f"{what} must be a node index or a path of indices, got {ref!r}")
    if isinstance(ref, int):
        return (ref,)
    path = tuple(ref)
    if not path or not all(isinstance(p, int) and not isinstance(p, bool) for p in path):
        raise GraphError(f"{what} must be a node index or a non-empty path of indices, got {ref!r}")
    return path


def _descend(dag: DAG, gm: nn.Module, path: tuple[int, ...], what: str) -> tuple[list[DAG], nn.Module, str]:
    """The DAGs from the top down to the one holding the addressed node, its compiled module and key prefix."""
    dags, prefix = [dag], ""
    for depth, step in enumerate(path[:-1]):
        cur = dags[-1]
        inner = cur.nodes[step].op if 0 <= step < len(cur) else None
        if not isinstance(inner, DAG):
            raise GraphError(f"{what} {path}: step {depth} ({step}) is not a node holding a nested DAG")
        dags.append(inner)
        gm = getattr(gm, f"cell_{step}")
        prefix += f"cell_{step}."
    last = path[-1]
    if not 0 <= last < len(dags[-1]):
        raise GraphError(f"{what} {path}: node {last} does not exist (nodes are 0..{len(dags[-1]) - 1})")
    return dags, gm, prefix


def _ascend(dags: list[DAG], path: tuple[int, ...], inner: DAG) -> DAG:
    """Put a changed innermost DAG back into its parents."""
    for parent, step in zip(reversed(dags[:-1]), reversed(path[:-1])):
        node = parent.nodes[step]
        inner = parent.with_node(step, Node(inner, dict(node.params), node.combine))
    return inner


def _rename(state: StateDict, prefix: str, n_old: int, n_new: int, node_map: Callable[[int], int],
            pred_map: Callable[[int], int]) -> dict[str, torch.Tensor]:
    """Renumber the keys of one DAG level (``node_i``, ``cell_i``, ``weights_i``, ``align_i_p``)."""
    out: dict[str, torch.Tensor] = {}
    for key, v in state.items():
        if not key.startswith(prefix):
            out[key] = v
            continue
        rest = key[len(prefix):]
        m = _KEY.match(rest)
        if m:
            rest = f"{m[1]}_{node_map(int(m[2]))}{m[3] or ''}"
        elif (m := _ALIGN_KEY.match(rest)):
            i = int(m[1])
            rest = f"align_{n_new if i == n_old else node_map(i)}_{pred_map(int(m[2]))}{m[3] or ''}"
        out[prefix + rest] = v
    return out


def _finish(child: DAG, state: dict[str, torch.Tensor], in_channels: int | Sequence[int],
            fill: Callable[[fx.GraphModule], None]) -> tuple[DAG, dict[str, torch.Tensor]]:
    """Compile the child, let ``fill`` initialise its new parts, then load the carried-over entries over it."""
    gm = _compile(child, in_channels)
    with torch.no_grad():
        fill(gm)
    out = {k: v.detach().clone() for k, v in gm.state_dict().items()}
    extra = [k for k in state if k not in out]
    if extra:  # a bug of this module, not of the user's input
        raise AssertionError(f"morphism produced keys the child does not have: {extra[:3]}")
    for k, v in state.items():
        if tuple(v.shape) != tuple(out[k].shape):
            raise AssertionError(f"morphism produced {k!r} of shape {tuple(v.shape)}, "
                                 f"child needs {tuple(out[k].shape)}")
        out[k] = v.detach().clone()
    return child, out


def _shapes(module: nn.Module) -> dict[int, Shape]:
    """The converter's inferred shape of every node of a compiled (sub)module."""
    return cast("dict[int, Shape]", module.graphnas_shapes)


def _op_name(node: Node) -> str:
    return node.op if isinstance(node.op, str) else "nested DAG"


def _identity_init(module: nn.Module, label: str) -> None:
    """Make ``module`` (conv / BatchNorm / linear layers, ReLUs) compute the identity in eval mode."""
    for name, m in module.named_modules():
        if isinstance(m, nn.Conv2d):
            if m.in_channels != m.out_channels or m.groups != 1 or m.stride != (1, 1):
                raise GraphError(f"{label}: its conv {name} ({m}) cannot be initialised to the identity")
            nn.init.dirac_(m.weight)
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, nn.BatchNorm2d):
            # eval: y = (x - running_mean) / sqrt(running_var + eps) * weight + bias; with mean 0, var 1,
            # weight sqrt(1 + eps), bias 0 this is x (to one rounding of the scale)
            assert m.running_mean is not None and m.running_var is not None
            m.running_mean.zero_()
            m.running_var.fill_(1.0)
            m.weight.fill_(math.sqrt(1.0 + m.eps))
            m.bias.zero_()
        elif isinstance(m, nn.Linear):
            if m.in_features != m.out_features:
                raise GraphError(f"{label}: its linear layer {name} cannot be initialised to the identity")
            nn.init.eye_(m.weight)
            m.bias.zero_()
        elif next(m.parameters(recurse=False), None) is not None:
            raise GraphError(f"{label}: its layer {name} ({type(m).__name__}) has no identity initialisation")


# --------------------------------------------------------------------------- deepen


def deepen(dag: DAG, state_dict: StateDict, after: NodeRef, *, op: str = "conv_bn", kernel: int = 3,
           in_channels: int | Sequence[int] = 3) -> tuple[DAG, dict[str, torch.Tensor]]:
    """Insert a node computing the identity after node ``after``; its successors (and output role) move to it.

    Args:
        dag: the parent.
        state_dict: the parent's compiled module's state (``to_torch(dag, in_channels).state_dict()``).
        after: the node (an index, or a path into nested DAGs).
        op: the new node's op, one of `DEEPEN_OPS`: ``conv_bn`` (a ``kernel x kernel`` Dirac conv,
            BatchNorm with running mean 0, variance 1, weight ``sqrt(1 + eps)``, bias 0) on a feature map,
            ``linear`` (the identity matrix) on a vector, ``skip_connect``, or a ReLU-first/last conv only
            after an op of `NONNEGATIVE_OPS`.
        kernel: the kernel of ``conv_bn`` (odd).
        in_channels: as given to `graphnas.to_torch`.

    Returns:
        ``(child, state)``: the new node is numbered ``after + 1``; later nodes move up by one.

    Raises:
        GraphError: for a state_dict not of ``dag``, a missing node, or an op that cannot be the identity there.
    """
    path = _path(after, "after")
    gm = _check_state(dag, state_dict, in_channels)
    dags, sub, prefix = _descend(dag, gm, path, "after")
    g, a = dags[-1], path[-1]
    shape = _shapes(sub)[a]
    label = f"deepen after node {path} ({_op_name(g.nodes[a])})"
    if op not in DEEPEN_OPS:
        raise GraphError(f"{label}: op {op!r} has no identity initialisation here; deepen takes "
                         f"{', '.join(sorted(DEEPEN_OPS))}")
    rule = DEEPEN_OPS[op]
    if (rule == "vector") != (shape.scale is None) and op != "skip_connect":
        raise GraphError(f"{label}: op {op!r} cannot take node {a}'s output {shape}; use "
                         f"{'linear' if shape.scale is None else 'conv_bn'}")
    if rule == "nonnegative" and g.nodes[a].op not in NONNEGATIVE_OPS:
        raise GraphError(f"{label}: op {op!r} has a ReLU, which is the identity only on non-negative inputs, and "
                         f"node {a}'s op is not one of {sorted(NONNEGATIVE_OPS)}; use 'conv_bn'")
    if shape.scale is None and op == "skip_connect":
        raise GraphError(f"{label}: skip_connect needs a feature map, node {a} gives a vector; use 'linear'")
    params: dict[str, Any] = {"C": shape.C}
    if op == "conv_bn":
        if kernel < 1 or kernel % 2 == 0:
            raise GraphError(f"{label}: kernel must be odd and positive, got {kernel}")
        params["kernel"] = kernel
    if op == "skip_connect":
        params = {}
    n = len(g)
    nodes = [*g.nodes[:a + 1], Node(op, params), *g.nodes[a + 1:]]
    shift = lambda j: j + 1 if j > a else j  # noqa: E731
    moved = lambda j: a + 1 if j == a else shift(j)  # noqa: E731 - edges out of `after` now leave the new node
    edges = [(moved(s), shift(d)) for s, d in g.edges] + [(a, a + 1)]
    inner = DAG(nodes, edges, inputs=[shift(i) for i in g.inputs], outputs=[moved(o) for o in g.outputs])
    child = _ascend(dags, path, inner)
    state = _rename(state_dict, prefix, n, n + 1, shift, moved)
    new_key = f"{prefix}node_{a + 1}"

    def fill(child_gm: fx.GraphModule) -> None:
        if op != "skip_connect":
            _identity_init(child_gm.get_submodule(new_key), label)

    return _finish(child, state, in_channels, fill)


# --------------------------------------------------------------------------- add_skip


def add_skip(dag: DAG, state_dict: StateDict, src: NodeRef, dst: int, *, seed: Seed = 0,
             in_channels: int | Sequence[int] = 3) -> tuple[DAG, dict[str, torch.Tensor]]:
    """Add a path ``src -> new node -> dst`` whose contribution to ``dst`` starts at exactly zero.

    The new node (numbered ``dst``; ``dst`` and later nodes move up by one) is a ``conv_bn`` with a 1x1 kernel,
    the stride and width that bring ``src`` to the resolution and width of ``dst``'s inputs, and BatchNorm
    weight and bias 0 (so its output is 0 whatever its input, while the BN weight still gets gradients); on
    vectors it is a ``linear`` with zero weight and bias. ``src`` may be a path into a nested DAG; ``dst`` is a
    node of the same DAG. Its conv starts from a Kaiming-uniform draw seeded by ``seed``.

    Raises:
        GraphError: for a state_dict not of ``dag``; an edge that exists or points backwards; a ``dst`` whose
            combine is ``mean`` (a new term changes the divisor), ``concat`` (the width would change) or
            ``weighted_sum`` with one input (its first weight would appear); a ``dst`` that is an input or a
            cell taking its inputs as ports; a ``src`` coarser than ``dst``'s inputs or of another kind.
    """
    path = _path(src, "src")
    gm = _check_state(dag, state_dict, in_channels)
    dags, sub, prefix = _descend(dag, gm, path, "src")
    g, s = dags[-1], path[-1]
    label = f"add_skip {s} -> {dst}" + (f" in the DAG at {path[:-1]}" if len(path) > 1 else "")
    if isinstance(dst, (tuple, list)):  # src's path already says which DAG: dst is a node of that one
        same = len(dst) == len(path) and tuple(dst[:-1]) == tuple(path[:-1])
        hint = f"pass dst={dst[-1]}" if same else "a skip joins two nodes of one DAG"
        raise GraphError(f"{label}: dst is a node index in the DAG that holds src (0..{len(g) - 1}), not a path "
                         f"({hint})")
    if isinstance(dst, bool) or not isinstance(dst, int) or not 0 <= dst < len(g):
        raise GraphError(f"{label}: dst {dst!r} is not a node (nodes are 0..{len(g) - 1})")
    if s >= dst:
        raise GraphError(f"{label}: edges go from a lower to a higher node index")
    if s in g.predecessors(dst):
        raise GraphError(f"{label}: the edge exists already")
    node = g.nodes[dst]
    preds = g.predecessors(dst)
    if dst in g.inputs:
        raise GraphError(f"{label}: node {dst} is an input of the DAG")
    if isinstance(node.op, DAG) and len(node.op.inputs) > 1:
        raise GraphError(f"{label}: node {dst} is a cell whose {len(node.op.inputs)} inputs are ports, one per "
                         "predecessor; it has no combine to add a term to")
    if node.combine == "mean":
        raise GraphError(f"{label}: node {dst} averages its inputs; a new zero input would scale the others by "
                         f"{len(preds)}/{len(preds) + 1}")
    if node.combine == "concat":
        raise GraphError(f"{label}: node {dst} concatenates its inputs; a new input would change its width")
    if node.combine == "weighted_sum" and len(preds) == 1:
        raise GraphError(f"{label}: node {dst} has one input, which a weighted_sum passes unweighted; a second "
                         "input would scale it by sigmoid(w)")
    shapes = _shapes(sub)
    ps = [shapes[p] for p in preds]
    src_shape = shapes[s]
    C = max(x.C for x in ps)
    if src_shape.scale is None or ps[0].scale is None:
        if not (src_shape.scale is None and ps[0].scale is None):
            raise GraphError(f"{label}: node {s} gives {src_shape} but node {dst}'s inputs are {ps[0]}; "
                             "a vector and a feature map cannot meet")
        new = Node("linear", {"C": C})
    else:
        target = max(x.scale for x in ps if x.scale is not None)
        ratio, rem = divmod(target, src_shape.scale)
        if ratio < 1 or rem:
            raise GraphError(f"{label}: node {s} is at stride {src_shape.scale}, which cannot be brought to the "
                             f"stride {target} of node {dst}'s inputs without changing them")
        new = Node("conv_bn", {"C": C, "kernel": 1, **({"stride": ratio} if ratio > 1 else {})})
    n = len(g)
    shift = lambda j: j + 1 if j >= dst else j  # noqa: E731
    nodes = [*g.nodes[:dst], new, *g.nodes[dst:]]
    edges = [(shift(a), shift(b)) for a, b in g.edges] + [(s, dst), (dst, dst + 1)]
    inner = DAG(nodes, edges, inputs=[shift(i) for i in g.inputs], outputs=[shift(o) for o in g.outputs])
    child = _ascend(dags, path, inner)
    state = _rename(state_dict, prefix, n, n + 1, shift, shift)
    wkey = f"{prefix}weights_{dst + 1}"
    if wkey in state:  # the new term is last: the node's inputs are in index order and the new node is below dst
        state[wkey] = torch.cat([state[wkey], torch.ones(1, dtype=state[wkey].dtype)])
    gen = torch.Generator().manual_seed(seed_int(seed))

    def fill(child_gm: fx.GraphModule) -> None:
        for m in child_gm.get_submodule(f"{prefix}node_{dst}").modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=gen)
            elif isinstance(m, nn.BatchNorm2d):
                assert m.running_mean is not None and m.running_var is not None
                m.running_mean.zero_()
                m.running_var.fill_(1.0)
                m.weight.zero_()
                m.bias.zero_()
            elif isinstance(m, nn.Linear):
                m.weight.zero_()
                m.bias.zero_()

    return _finish(child, state, in_channels, fill)


# --------------------------------------------------------------------------- widen


def _convs(module: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in module.named_modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]


def widen(dag: DAG, state_dict: StateDict, node: NodeRef, *, width: int | None = None, factor: float | None = None,
          seed: Seed = 0, in_channels: int | Sequence[int] = 3) -> tuple[DAG, dict[str, torch.Tensor]]:
    """Net2WiderNet: give node ``node`` ``width`` output channels (or ``factor`` times as many).

    New channel ``j`` copies old channel ``g(j)`` (``g`` the identity on the old channels, a seeded uniform
    draw beyond): the node's last conv's filters and its BatchNorm's parameters and running statistics are
    copied, and each consumer's first conv divides the input weights of a copied channel by the number of its
    copies, so the sum it computes is unchanged. Consumers keep their output width (their ``C`` is pinned).

    Supported: a node whose op is in `WIDEN_OPS`, not an output of its DAG, every successor of which is
    an op of `WIDEN_OPS` with one input or ``concat``; anything else raises GraphError saying why.
    """
    path = _path(node, "node")
    gm = _check_state(dag, state_dict, in_channels)
    dags, sub, prefix = _descend(dag, gm, path, "node")
    g, i = dags[-1], path[-1]
    me = g.nodes[i]
    label = f"widen node {path} ({_op_name(me)})"
    if me.op not in WIDEN_OPS:
        raise GraphError(f"{label}: only ops ending in conv, BatchNorm (and a ReLU) can be widened: "
                         f"{', '.join(sorted(WIDEN_OPS))}")
    shapes = _shapes(sub)
    C = shapes[i].C
    if (width is None) == (factor is None):
        raise ValueError("give exactly one of width and factor")
    new_C = int(width) if width is not None else int(round(C * float(factor)))  # type: ignore[arg-type]
    if new_C < C:
        raise GraphError(f"{label}: widening to {new_C} channels would narrow it (it has {C})")
    if i in g.outputs:
        raise GraphError(f"{label}: it is an output of its DAG, so its width is part of the function")
    succ = g.successors(i)
    for d in succ:
        dn = g.nodes[d]
        if dn.op not in WIDEN_OPS:
            raise GraphError(f"{label}: its successor node {d} ({_op_name(dn)}) cannot absorb more input channels "
                             f"(consumers must be one of {', '.join(sorted(WIDEN_OPS))})")
        if len(g.predecessors(d)) > 1 and dn.combine != "concat":
            raise GraphError(f"{label}: its successor node {d} {dn.combine}s it with other inputs, which would "
                             "then differ in width")
    rng = random.Random(seed_int(seed))
    gmap = list(range(C)) + [rng.randrange(C) for _ in range(new_C - C)]
    counts = torch.bincount(torch.tensor(gmap), minlength=C).to(torch.float32)
    idx = torch.tensor(gmap)
    state = dict(state_dict)
    # the producer: the last conv's filters and every BN after it
    layers = _convs(sub.get_submodule(f"node_{i}"))
    last_conv = max(k for k, (_, m) in enumerate(layers) if isinstance(m, nn.Conv2d))
    for name, m in layers[last_conv:]:
        base = f"{prefix}node_{i}.{name}."
        keys = ["weight"] if isinstance(m, nn.Conv2d) else ["weight", "bias", "running_mean", "running_var"]
        for k in keys:
            state[base + k] = state[base + k][idx].clone()
    params = dict(me.params)
    params["C"] = new_C
    if me.op == "chain_conv":
        params["filters"] = new_C
    nodes = list(g.nodes)
    nodes[i] = me.replace(params=params)
    for d in succ:
        dn = g.nodes[d]
        name, conv = next((n, m) for n, m in _convs(sub.get_submodule(f"node_{d}")) if isinstance(m, nn.Conv2d))
        assert isinstance(conv, nn.Conv2d)
        if conv.groups != 1:
            raise GraphError(f"{label}: its successor node {d}'s first conv is grouped")
        offset = sum(shapes[p].C for p in g.predecessors(d) if p < i)
        key = f"{prefix}node_{d}.{name}.weight"
        w = state[key]
        mid = w[:, offset:offset + C][:, idx] / counts[idx].view(1, -1, 1, 1).to(w.dtype)
        state[key] = torch.cat([w[:, :offset], mid, w[:, offset + C:]], dim=1)
        dparams = dict(dn.params)
        if "C" not in dparams and dn.op != "chain_conv":
            dparams["C"] = shapes[d].C
        nodes[d] = dn.replace(params=dparams)
    child = _ascend(dags, path, g.replace(nodes=nodes))
    return _finish(child, state, in_channels, lambda _gm: None)


# --------------------------------------------------------------------------- checking


def trained_like_state(dag: DAG, seed: Seed = 0, in_channels: int | Sequence[int] = 3) -> dict[str, torch.Tensor]:
    """A state_dict for ``to_torch(dag, in_channels)`` with random weights and BatchNorm statistics and affine
    parameters far from their defaults, as after training: a hard case for checking that a morphism keeps
    the function (a fresh BatchNorm would hide a wrong identity)."""
    g = torch.Generator().manual_seed(seed_int(seed))
    with local_generator(g):
        state = to_torch(dag, in_channels).state_dict()
    for k, v in state.items():
        if k.endswith("running_var"):
            state[k] = torch.rand(v.shape, generator=g) + 0.5
        elif k.endswith(("running_mean", "bias")) or (k.endswith("weight") and v.dim() == 1):
            state[k] = torch.randn(v.shape, generator=g) * 0.5 + (1.0 if k.endswith("weight") else 0.0)
    return state


def output_difference(parent: DAG, parent_state: StateDict, child: DAG, child_state: StateDict, *,
                      in_channels: int = 3, size: int = 8, batch: int = 2, seed: Seed = 0) -> float:
    """The largest absolute difference between the outputs of parent and child (compiled, eval mode, fp32) on
    the same random input (``batch x in_channels x size x size`` per input), over all outputs.

    Raises:
        GraphError: the two have different numbers of outputs or output shapes.
    """
    outs = []
    for dag, state in ((parent, parent_state), (child, child_state)):
        gm = _compile(dag, in_channels)
        gm.load_state_dict(state, strict=True)
        gm.eval()
        g = torch.Generator().manual_seed(seed_int(seed))
        xs = [torch.randn(batch, in_channels, size, size, generator=g) for _ in dag.inputs]
        with torch.no_grad():
            out = gm(*xs)
        # an auxiliary head gives None in eval mode: compare the outputs there are
        outs.append([o for o in out if o is not None] if isinstance(out, tuple) else [out])
    a, b = outs
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        raise GraphError(f"parent and child outputs differ in number or shape: {[tuple(x.shape) for x in a]} vs "
                         f"{[tuple(y.shape) for y in b]}")
    return max(float((x - y).abs().max()) for x, y in zip(a, b))
