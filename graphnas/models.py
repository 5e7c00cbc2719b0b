"""The published macro networks as `graphnas.DAG` builders, in a registry (torchvision style).

Every model is a function that returns the network as a DAG (cells and stages
are nested DAGs, so it can be rendered, saved as JSON or flattened);
`graphnas.to_torch` compiles it. ``list_models()`` names them and
``get_model(name, *args, **config)`` builds one; each model's defaults are its
function's defaults.

- ``darts_cifar``, ``darts_imagenet``: DARTS' evaluation networks
  (quark0/darts ``cnn/model.py``) for any genotype in the DARTS form.
- ``nb201``: the NAS-Bench-201 skeleton (stem, 3 stages of N cells, ResNet
  reduction blocks between them).
- ``nb101``: the NAS-Bench-101 skeleton, with its cells lowered to explicit
  projection, truncation and concatenation nodes (`nb101_cell`).
- ``randwire``: RandWireNN's small and regular regimes (Xie et al. 2019, Table 1).
- ``chain_net``: a NAS-RL chain of ``chain_conv`` layers with a classifier.
- ``digits``: the small skeleton for 8x8 digits that search trains
  (`graphnas.benchmarks.digits.digits_network`).

**Example**

```python
>>> from graphnas import count_params, to_torch
>>> from graphnas.genotypes import DARTS_V2
>>> net = get_model("darts_cifar", DARTS_V2)       # a DAG; the same as darts_cifar(DARTS_V2)
>>> count_params(to_torch(net))
3349342

```

Add a model with ``@register_model("name", in_channels=3, input_size=32)`` on a
function returning a DAG.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from graphnas._checks import is_integer
from graphnas.dag import DAG, GraphError, Node
from graphnas.generators._random import Seed, seed_int
from graphnas.registry import Registry

__all__ = [
    "MODELS", "ModelBuilder", "chain_net", "darts_cifar", "darts_imagenet", "digits", "get_model",
    "get_model_builder", "list_models", "nb101", "nb101_cell", "nb201", "randwire", "register_model",
    "set_drop_path",
]

F = TypeVar("F", bound=Callable[..., DAG])


@dataclass(frozen=True)
class ModelBuilder:
    """A registered model: its DAG-building function and the input it expects.

    ``in_channels`` and ``input_size`` (height = width) describe one input sample,
    e.g. for `graphnas.to_torch` and an example tensor ``(1, in_channels,
    input_size, input_size)``. Calling it builds the DAG.
    """

    name: str
    fn: Callable[..., DAG]
    in_channels: int = 3
    input_size: int = 32

    def __call__(self, *args: Any, **config: Any) -> DAG:
        return self.fn(*args, **config)


#: The model registry (a `graphnas.registry.Registry` of `ModelBuilder`).
MODELS: Registry[ModelBuilder] = Registry("model")


def register_model(name: str, *, in_channels: int = 3, input_size: int = 32,
                   aliases: Sequence[str] = ()) -> Callable[[F], F]:
    """Decorator: register a function returning a network DAG under ``name``.

    Registering a name again raises ValueError unless it is the same function with the same settings.
    """

    def deco(fn: F) -> F:
        MODELS.add(name, ModelBuilder(name, fn, in_channels, input_size), aliases=aliases)
        return fn

    return deco


def list_models() -> list[str]:
    """The registered model names, sorted."""
    return MODELS.names()


def get_model_builder(name: str) -> ModelBuilder:
    """The registered model ``name`` (its function and input size); `graphnas.UnknownNameError` otherwise."""
    return MODELS.get(name)


def get_model(name: str, *args: Any, **config: Any) -> DAG:
    """The network DAG of model ``name``, built with ``args`` and ``config`` (the model function's parameters).

    Example: ``get_model("nb201", "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|", C=4,
    N=1)``. Compile it with `graphnas.to_torch`.

    Raises:
        graphnas.UnknownNameError: no such model (the message suggests the closest names).
    """
    return MODELS.get(name)(*args, **config)


class _Net:
    """A small builder of an outer network DAG: ``add(node, preds) -> index``."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[tuple[int, int]] = []

    def add(self, node: Node | str | DAG, preds: Sequence[int] = ()) -> int:
        i = len(self.nodes)
        self.nodes.append(node if isinstance(node, Node) else Node(node))
        self.edges.extend((p, i) for p in sorted(set(preds)))
        return i

    def dag(self, outputs: Sequence[int]) -> DAG:
        return DAG(self.nodes, self.edges, inputs=[0], outputs=list(outputs))


# --------------------------------------------------------------------------- DARTS


def _darts_cells(genotype: Any) -> tuple[DAG, DAG]:
    if isinstance(genotype, tuple) and len(genotype) == 2 and all(isinstance(c, DAG) for c in genotype):
        return genotype[0], genotype[1]
    from graphnas.genotypes import genotype_to_dag, pair_cells

    if isinstance(genotype, str):  # a published genotype's name ("DARTS_V2") or a saved pair, by the one parser
        from graphnas.loading import as_dag

        genotype = as_dag(genotype)

    if isinstance(genotype, DAG):  # a cell-pair DAG, as graphnas.as_dag reads a genotype name
        return pair_cells(genotype)

    return genotype_to_dag(genotype, "normal"), genotype_to_dag(genotype, "reduce")


def _with_drop_path(cell: DAG, p: float) -> DAG:
    """A cell with a ``drop_path`` node after every op that is not a plain identity (as DARTS applies it)."""
    nodes: dict[Any, Node] = {}
    edges: list[tuple[Any, Any]] = []
    for i, node in enumerate(cell.nodes):
        nodes[i] = node
        plain_skip = node.op == "skip_connect" and node.params.get("stride", 1) == 1 and "C" not in node.params
        if i in cell.inputs or node.op == "identity" or plain_skip:
            continue
        nodes[("dp", i)] = Node("drop_path", {"p": p})
    for s, d in cell.edges:
        src = ("dp", s) if ("dp", s) in nodes else s
        edges.append((src, d))
    edges.extend((i, ("dp", i)) for i in range(len(cell)) if ("dp", i) in nodes)
    outputs = [("dp", o) if ("dp", o) in nodes else o for o in cell.outputs]
    from graphnas.converters.networkx import from_edges

    return from_edges(nodes, edges, inputs=list(cell.inputs), outputs=outputs)


def _positive(**sizes: Any) -> None:
    """Refuse a size that is not a positive integer, naming the parameter (``C must be ... got 0``)."""
    for name, value in sizes.items():
        if not is_integer(value, 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _darts_dag(genotype: Any, C: int, layers: int, num_classes: int, auxiliary: bool, drop_path: float,
               imagenet: bool) -> DAG:
    _positive(C=C, layers=layers, num_classes=num_classes)
    if isinstance(drop_path, bool) or not isinstance(drop_path, (int, float)) or not 0 <= drop_path < 1:
        raise ValueError(f"drop_path must be a probability 0 <= drop_path < 1, got {drop_path!r}")
    normal, reduce = _darts_cells(genotype)
    if drop_path > 0:
        normal, reduce = _with_drop_path(normal, drop_path), _with_drop_path(reduce, drop_path)
    net = _Net()
    x = net.add("input")
    if imagenet:
        s0 = net.add(Node("conv_bn", {"C": C // 2, "stride": 2}), [x])
        s0 = net.add(Node("relu_conv_bn", {"C": C, "kernel": 3, "stride": 2}), [s0])
        s1 = net.add(Node("relu_conv_bn", {"C": C, "kernel": 3, "stride": 2}), [s0])
        reduction_prev = True
    else:
        s0 = s1 = net.add(Node("conv_bn", {"C": 3 * C}), [x])
        reduction_prev = False
    C_curr = C
    aux = None
    for i in range(layers):
        reduction = i in (layers // 3, 2 * layers // 3)
        if reduction:
            C_curr *= 2
        if reduction_prev:
            p0 = net.add(Node("factorized_reduce", {"C": C_curr, "stride": 2}), [s0])
        else:
            p0 = net.add(Node("relu_conv_bn", {"C": C_curr}), [s0])
        p1 = net.add(Node("relu_conv_bn", {"C": C_curr}), [s1])
        cell = net.add(reduce if reduction else normal, [p0, p1])
        s0, s1 = s1, cell
        reduction_prev = reduction
        if auxiliary and i == 2 * layers // 3:
            head = "darts_aux_head_imagenet" if imagenet else "darts_aux_head_cifar"
            aux = net.add(Node(head, {"C": num_classes}), [cell])
    pooled = net.add("global_avg_pool", [s1])
    logits = net.add(Node("linear", {"C": num_classes}), [pooled])
    return net.dag([logits] if aux is None else [logits, aux])


@register_model("darts_cifar", aliases=("darts",))
def darts_cifar(genotype: Any, C: int = 36, layers: int = 20, num_classes: int = 10, auxiliary: bool = False,
                drop_path: float = 0.0) -> DAG:
    """DARTS' CIFAR network as a DAG: a 3x3 stem to 3C channels, ``layers`` cells (reductions at 1/3 and 2/3).

    ``genotype`` is a DARTS-form `graphnas.genotypes.Genotype` (DARTS, NASNet,
    AmoebaNet, ENAS), the name of a published one (``"DARTS_V2"``) or a pair
    ``(normal_cell, reduction_cell)`` of two-input DAGs.
    Before each cell, ``relu_conv_bn`` nodes bring both inputs to the cell's C
    (``factorized_reduce`` for the input from before a reduction). With
    ``auxiliary=True`` DARTS' auxiliary head after cell ``2*layers//3`` is a
    second output; ``drop_path > 0`` adds ``drop_path`` nodes in the cells. Compiled
    (``graphnas.to_torch``), it is DARTS' ``NetworkCIFAR``: logits, or ``(logits, aux_logits)`` in training
    and ``(logits, None)`` in eval mode; `graphnas.train` adds the auxiliary loss (``auxiliary_weight``, 0.4).
    """
    return _darts_dag(genotype, C, layers, num_classes, auxiliary, drop_path, imagenet=False)


@register_model("darts_imagenet", input_size=224)
def darts_imagenet(genotype: Any, C: int = 48, layers: int = 14, num_classes: int = 1000,
                   auxiliary: bool = False, drop_path: float = 0.0) -> DAG:
    """DARTS' ImageNet network as a DAG: two strided stems (stride 4 and 8), then the cells.

    Global average pooling stands in for DARTS' ``AvgPool2d(7)`` (the same at 224x224 input);
    the parameters are those of `darts_cifar`.
    """
    return _darts_dag(genotype, C, layers, num_classes, auxiliary, drop_path, imagenet=True)


def set_drop_path(model: Any, p: float) -> None:
    """Set the drop-path probability of every ``drop_path`` node of a compiled ``model`` (an ``nn.Module``;
    DARTS raises it linearly over training)."""
    from graphnas.ops import DropPath

    for m in model.modules():
        if isinstance(m, DropPath):
            m.p = float(p)


# --------------------------------------------------------------------------- NAS-Bench-201


def _resnet_block(C: int) -> DAG:
    """NAS-Bench-201's reduction block: two 3x3 ReLU-Conv-BN (the first strided) plus a pooled 1x1 shortcut."""
    return DAG([Node("input"), Node("relu_conv_bn", {"C": C, "kernel": 3, "stride": 2}),
                Node("relu_conv_bn", {"kernel": 3}), Node("nb201_downsample", {"C": C, "stride": 2}),
                Node("identity")],
               [(0, 1), (1, 2), (0, 3), (2, 4), (3, 4)])


@register_model("nb201")
def nb201(cell: DAG | str, C: int = 16, N: int = 5, num_classes: int = 10) -> DAG:
    """The NAS-Bench-201 network as a DAG: 3x3 conv-BN stem to C, then N cells at C, a ResNet reduction
    block, N cells at 2C, another, N cells at 4C, BN-ReLU, global pooling, linear.

    ``cell`` is a one-input cell DAG (`graphnas.generators.NB201Space`) or an arch string.
    """
    _positive(C=C, N=N, num_classes=num_classes)
    if isinstance(cell, str):
        from graphnas.generators.nb201 import NB201Space

        cell = NB201Space().from_string(cell)
    if len(cell.inputs) != 1:
        raise GraphError(f"a NAS-Bench-201 cell has one input, this DAG has {len(cell.inputs)}")
    net = _Net()
    x = net.add(Node("conv_bn", {"C": C}), [net.add("input")])
    for stage, width in enumerate((C, 2 * C, 4 * C)):
        if stage:
            x = net.add(_resnet_block(width), [x])
        for _ in range(N):
            x = net.add(cell, [x])
    x = net.add("bn_relu", [x])
    x = net.add("global_avg_pool", [x])
    return net.dag([net.add(Node("linear", {"C": num_classes}), [x])])


# --------------------------------------------------------------------------- NAS-Bench-101


def _adjacency(cell: Any) -> tuple[list[list[int]], list[Any]]:
    if isinstance(cell, DAG):
        from graphnas.converters.adjacency import to_adjacency

        if cell.inputs != (0,) or cell.outputs != (len(cell) - 1,):
            raise GraphError("a NAS-Bench-101 cell has node 0 as its input and its last node as its output")
        m, ops = to_adjacency(cell)
        return m.tolist(), ops
    from graphnas.generators.nb101 import NB101Space  # the one reader of (matrix, ops) specs

    space = NB101Space()
    matrix, labels = cell
    spec, spec_ops = space.to_spec(space.from_spec(matrix, labels))
    return spec.tolist(), list(spec_ops)


def _vertex_channels(C_in: int, C_out: int, m: list[list[int]]) -> list[int]:
    """NAS-Bench-101's channel rule: the output's channels are split among the vertices feeding it,
    the remainder going to the first ones; other vertices take the widest of their successors."""
    n = len(m)
    ch = [0] * n
    ch[0], ch[-1] = C_in, C_out
    if n == 2:
        return ch
    fan_in = sum(m[v][n - 1] for v in range(1, n - 1))
    if fan_in == 0:
        return ch
    interior, correction = divmod(C_out, fan_in)
    for v in range(1, n - 1):
        if m[v][n - 1]:
            ch[v] = interior + (1 if correction > 0 else 0)
            correction -= 1 if correction > 0 else 0
    for v in range(n - 3, 0, -1):
        if not m[v][n - 1]:
            for dst in range(v + 1, n - 1):
                if m[v][dst]:
                    ch[v] = max(ch[v], ch[dst])
    return ch


def nb101_cell(cell: Any, C_in: int, C_out: int) -> DAG:
    """Lower a NAS-Bench-101 cell to explicit graphnas nodes, as NAS-Bench-101 builds it.

    ``cell`` is a DAG (node 0 input, last node output, interior ops
    ``conv3x3-bn-relu``, ``conv1x1-bn-relu``, ``maxpool3x3``) or a pair
    ``(matrix, ops)``. Vertex channels follow NAS-Bench-101's rule; an edge from
    the input becomes a 1x1 conv-BN-ReLU projection, an edge between vertices of
    different widths a ``truncate``; the output concatenates the vertices that
    feed it and adds a projection of the input if the input feeds it too.
    """
    m, ops = _adjacency(cell)
    n = len(m)
    ch = _vertex_channels(C_in, C_out, m)
    net = _Net()
    x = net.add("input")
    where = {0: x}
    for t in range(1, n - 1):
        if not any(m[s][t] for s in range(t)):
            raise GraphError(f"NAS-Bench-101 vertex {t} has no input; prune the matrix first")
        if ch[t] <= 0:
            raise GraphError(f"NAS-Bench-101 vertex {t} ({ops[t]!r}) has no path to the output; prune the matrix")
        feeds = []
        for s in range(1, t):
            if m[s][t]:
                if ch[s] < ch[t]:
                    raise GraphError(f"NAS-Bench-101 edge {s}->{t}: {ch[s]} channels cannot be truncated to {ch[t]}")
                feeds.append(where[s] if ch[s] == ch[t] else net.add(Node("truncate", {"C": ch[t]}), [where[s]]))
        if m[0][t]:
            feeds.append(net.add(Node("conv1x1-bn-relu", {"C": ch[t]}), [x]))
        params = {} if ops[t] == "maxpool3x3" else {"C": ch[t]}
        where[t] = net.add(Node(ops[t], params), feeds)
    into_out = [where[v] for v in range(1, n - 1) if m[v][n - 1]]
    parts = []
    if into_out:
        parts.append(net.add(Node("identity", combine="concat"), into_out))
    if m[0][n - 1]:
        parts.append(net.add(Node("conv1x1-bn-relu", {"C": C_out}), [x]))
    if not parts:
        raise GraphError("the NAS-Bench-101 output has no input")
    out = parts[0] if len(parts) == 1 else net.add("identity", parts)
    return net.dag([out])


@register_model("nb101")
def nb101(cell: Any, stem: int = 128, stacks: int = 3, cells_per_stack: int = 3,
          num_classes: int = 10) -> DAG:
    """The NAS-Bench-101 network as a DAG: 3x3 conv-BN-ReLU stem, ``stacks`` stacks of cells with 2x2
    max pooling and doubled channels between stacks, global pooling, linear."""
    _positive(stem=stem, stacks=stacks, cells_per_stack=cells_per_stack, num_classes=num_classes)
    net = _Net()
    x = net.add(Node("conv3x3-bn-relu", {"C": stem}), [net.add("input")])
    C_in = C = stem
    for s in range(stacks):
        if s:
            x = net.add(Node("max_pool_2x2", {"stride": 2}), [x])
            C *= 2
        for _ in range(cells_per_stack):
            x = net.add(nb101_cell(cell, C_in, C), [x])
            C_in = C
    x = net.add("global_avg_pool", [x])
    return net.dag([net.add(Node("linear", {"C": num_classes}), [x])])


# --------------------------------------------------------------------------- RandWire


def _stage(graph: DAG, C: int) -> DAG:
    """A random graph as a RandWire stage: nodes fed by the input get stride 2, every node outputs C."""
    nodes = []
    for i, node in enumerate(graph.nodes):
        if i in graph.inputs or node.op == "identity" or node.is_nested:
            nodes.append(node)
            continue
        params = dict(node.params)
        params["C"] = C
        if any(p in graph.inputs for p in graph.predecessors(i)):
            params["stride"] = 2
        nodes.append(node.replace(params=params))
    return graph.replace(nodes=nodes)


def _random_graph(generator: str, n: int, params: Mapping[str, Any], seed: Seed) -> DAG:
    from graphnas.generators import get_generator

    return get_generator(generator, n=n, **dict(params)).sample(seed)


#: Table 1 of RandWireNN: (stage nodes as a fraction of N, channels as a multiple of C) after the stems.
_REGIMES: dict[str, list[tuple[float, int]]] = {
    "small": [(1, 1), (1, 2), (1, 4)],
    "regular": [(0.5, 1), (1, 2), (1, 4), (1, 8)],
}


@register_model("randwire", input_size=224)
def randwire(generator: str = "ws", generator_params: Mapping[str, Any] | None = None, n: int = 32,
             regime: str = "small", C: int = 78, num_classes: int = 1000, seed: Seed = 0) -> DAG:
    """RandWireNN (Xie et al. 2019, Table 1) as a DAG of random-graph stages.

    ``small``: 3x3 conv to C/2 (stride 2), 3x3 ReLU-conv-BN to C (stride 2), stages of
    N, N, N nodes at C, 2C, 4C. ``regular``: 3x3 conv to C/2, stages of N/2, N, N, N
    nodes at C, 2C, 4C, 8C. Each stage is an independent graph from ``generator``
    (seeds ``s``, ``s + 1``, ... where ``s = seed_int(seed)``, i.e. ``seed`` itself for an int >= 0);
    its nodes fed by the stage input have stride 2.
    Then a 1x1 conv-BN-ReLU to 1280 channels, global pooling and a linear classifier.
    """
    _positive(n=n, C=C, num_classes=num_classes)
    if C < 2:
        raise ValueError(f"C must be at least 2 (the stem's first conv has C/2 channels), got {C}")
    if regime not in _REGIMES:
        raise ValueError(f"regime must be one of {sorted(_REGIMES)}, got {regime!r}")
    gp = {"k": 4, "p": 0.75} if generator_params is None else dict(generator_params)
    base = seed_int(seed)
    net = _Net()
    x = net.add(Node("conv_bn", {"C": C // 2, "stride": 2}), [net.add("input")])
    if regime == "small":
        x = net.add(Node("relu_conv_bn", {"C": C, "kernel": 3, "stride": 2}), [x])
    for k, (frac, mult) in enumerate(_REGIMES[regime]):
        size = max(2, int(n * frac))
        try:
            graph = _random_graph(generator, size, gp, base + k)
        except (ValueError, TypeError) as err:
            if type(err) not in (ValueError, TypeError):  # e.g. an unknown generator: its own message says it all
                raise
            what = "" if size == n else f" (N/{round(1 / frac)} of n={n}, in the {regime} regime)"
            raise type(err)(f"randwire stage {k + 1} has {size} nodes{what}: {err}") from None
        x = net.add(_stage(graph, C * mult), [x])
    x = net.add(Node("conv1x1-bn-relu", {"C": 1280}), [x])
    x = net.add("global_avg_pool", [x])
    return net.dag([net.add(Node("linear", {"C": num_classes}), [x])])


# --------------------------------------------------------------------------- chains


@register_model("chain_net")
def chain_net(chain: DAG, num_classes: int = 10) -> DAG:
    """A NAS-RL chain (a DAG of ``chain_conv`` layers, e.g. from ``ChainSpace``) with global pooling and a
    linear classifier."""
    _positive(num_classes=num_classes)
    net = _Net()
    x = net.add(chain, [net.add("input")])
    x = net.add("global_avg_pool", [x])
    return net.dag([net.add(Node("linear", {"C": num_classes}), [x])])


# --------------------------------------------------------------------------- digits


@register_model("digits", in_channels=1, input_size=8)
def digits(cell: DAG, C: int = 8, N: int = 1, num_classes: int = 10) -> DAG:
    """The small network for 8x8 one-channel digits that search trains (see
    `graphnas.benchmarks.digits.digits_network`).

    A DAG that already is such a network (e.g. ``best_network.json`` of the main job) is returned as it is.
    """
    from graphnas.benchmarks.digits import digits_network, is_network

    _positive(C=C, N=N, num_classes=num_classes)
    if isinstance(cell, DAG) and is_network(cell):
        return cell
    return digits_network(cell, C=C, N=N, num_classes=num_classes)
