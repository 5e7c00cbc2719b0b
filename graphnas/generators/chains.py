"""Chain networks as in NAS-RL (Zoph & Le 2017), and `chain`, a plain chain of ops.

A NAS-RL chain is a sequence of conv layers, each with its filter height and
width in {1, 3, 5, 7}, its number of filters in {24, 36, 48, 64} and a stride,
plus skip connections chosen by *anchor points*: layer i may take the output of
any earlier layer. Node form: node 0 is the ``input``; layer i is node i, op
``chain_conv`` with ``params={"kernel": [h, w], "filters": f, "stride": s}`` and
combine ``concat`` (NAS-RL concatenates a layer's inputs in depth, padding
smaller ones with zeros to the largest spatial size; graphnas's compiler instead
brings finer inputs down to the coarsest by average pooling, its one alignment
rule for every DAG, so with ``strides`` other than ``(1,)`` a compiled chain is
coarser than NAS-RL's where layers of two sizes meet); the last node is an
``identity``/``concat`` output that joins every layer no later layer reads
("all layer outputs that have not been connected are concatenated" before
the classifier).

By default (``keep_chain=True``) layer i always reads layer i-1 and the anchor
points choose extra skips from layers 1..i-2, so every member is a chain with
skips. With ``keep_chain=False`` the anchor points choose freely among layers
1..i-1, exactly as in NAS-RL, and a layer that chooses none reads the image.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from math import prod
from typing import Any

from graphnas._checks import is_integer
from graphnas.dag import DAG, GraphError, Node
from graphnas.generators._random import Seed, as_random
from graphnas.generators.base import SearchSpace
from graphnas.generators.decisions import Decision, decode_checked
from graphnas.generators.registry import register_generator

__all__ = ["ChainSpace", "chain"]


def chain(ops: Sequence[str | Node | DAG], *, input_op: str = "input") -> DAG:
    """A plain chain: an ``input`` node, then each op feeding the next; the last one is the output.

    ``ops`` are op names, `graphnas.Node` objects or one-input nested DAGs.
    Example: ``chain(["nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3"])`` has 4 nodes.
    """
    ops = list(ops)
    if not ops:
        raise GraphError("chain() needs at least one op")
    for i, op in enumerate(ops):
        if isinstance(op, DAG) and len(op.inputs) != 1:
            raise GraphError(f"chain op {i}: a nested DAG in a chain must have one input, it has {len(op.inputs)}")
    return DAG([Node(input_op), *ops], [(i, i + 1) for i in range(len(ops))], inputs=(0,), outputs=(len(ops),))


#: One layer's choice: (kernel height, kernel width, filters, stride, skip sources).
Layer = tuple[int, int, int, int, tuple[int, ...]]


@register_generator("chain")
class ChainSpace(SearchSpace):
    """NAS-RL chain networks of ``num_layers`` conv layers (see module doc)."""

    name = "chain"
    vocabulary = ("chain_conv",)

    def __init__(self, *, num_layers: int = 6, heights: Sequence[int] = (1, 3, 5, 7),
                 widths: Sequence[int] = (1, 3, 5, 7), filters: Sequence[int] = (24, 36, 48, 64),
                 strides: Sequence[int] = (1,), keep_chain: bool = True) -> None:
        self.num_layers = num_layers
        self.heights = tuple(heights)
        self.widths = tuple(widths)
        self.filters = tuple(filters)
        self.strides = tuple(strides)
        self.keep_chain = keep_chain
        self._validate_params()  # refused now, not at the first sample
        self.num_layers = int(num_layers)  # numpy integers too
        self.heights, self.widths, self.filters, self.strides = (
            tuple(int(v) for v in vs) for vs in (self.heights, self.widths, self.filters, self.strides))

    def __repr__(self) -> str:
        return (f"ChainSpace(num_layers={self.num_layers}, heights={self.heights}, widths={self.widths}, "
                f"filters={self.filters}, strides={self.strides}, keep_chain={self.keep_chain})")

    def _validate_params(self) -> None:
        if not is_integer(self.num_layers, 1):
            raise ValueError(f"num_layers must be a positive int, got {self.num_layers!r}")
        for name in ("heights", "widths", "filters", "strides"):
            values = getattr(self, name)
            if not values or not all(is_integer(v, 1) for v in values) or len(set(values)) != len(values):
                raise ValueError(f"{name} must be distinct positive ints, got {values!r}")

    # -- layers <-> DAG ---------------------------------------------------------

    def _optional(self, i: int) -> range:
        """Layers whose link into layer i the anchor point decides."""
        return range(1, i - 1) if self.keep_chain else range(1, i)

    def from_layers(self, layers: Sequence[Layer]) -> DAG:
        """The DAG of layers ``(h, w, filters, stride, skips)``; ``skips`` are the optional earlier layers read."""
        nodes = [Node("input")]
        edges = []
        read = set()
        for i, (h, w, f, s, skips) in enumerate(layers, start=1):
            skips = tuple(sorted(set(skips)))
            if any(j not in self._optional(i) for j in skips):
                raise GraphError(f"layer {i}: skips {list(skips)} must come from layers "
                                 f"{list(self._optional(i))}")
            sources = list(skips) + ([i - 1] if self.keep_chain and i > 1 else [])
            if not sources:
                sources = [0]
            edges += [(j, i) for j in sources]
            read.update(sources)
            nodes.append(Node("chain_conv", {"kernel": [h, w], "filters": f, "stride": s}, combine="concat"))
        n = len(nodes)
        edges += [(i, n) for i in range(1, n) if i not in read]
        nodes.append(Node("identity", combine="concat"))
        return DAG(nodes, edges, inputs=(0,), outputs=(n,))

    def to_layers(self, dag: DAG) -> list[Layer]:
        """The layers of a member; GraphError (naming the node) if ``dag`` is not one."""
        if not isinstance(dag, DAG):
            raise GraphError(f"expected a DAG, got {type(dag).__name__}")
        n = self.num_layers
        if len(dag) != n + 2 or dag.inputs != (0,) or dag.outputs != (n + 1,):
            raise GraphError(f"a chain of {n} layers has {n + 2} nodes: input, layers, output")
        if dag.nodes[0] != Node("input") or dag.nodes[-1] != Node("identity", combine="concat"):
            raise GraphError("node 0 must be Node('input') and the last node Node('identity', combine='concat')")
        layers: list[Layer] = []
        for i in range(1, n + 1):
            node = dag.nodes[i]
            p = node.params
            if node.op != "chain_conv" or node.combine != "concat" or set(p) != {"kernel", "filters", "stride"}:
                raise GraphError(f"node {i}: expected a chain_conv layer (kernel, filters, stride; combine concat)")
            kernel = p["kernel"]
            if not (isinstance(kernel, tuple) and len(kernel) == 2 and kernel[0] in self.heights
                    and kernel[1] in self.widths and p["filters"] in self.filters and p["stride"] in self.strides):
                raise GraphError(f"node {i}: params {dict(p)} are outside the space")
            preds = set(dag.predecessors(i))
            if self.keep_chain and i > 1:
                if i - 1 not in preds:
                    raise GraphError(f"node {i}: layer {i} must read layer {i - 1}")
                preds.discard(i - 1)
            if preds == {0} and (i == 1 or not self.keep_chain):
                preds = set()
            if not preds <= set(self._optional(i)):
                raise GraphError(f"node {i}: reads {sorted(preds)}; skips come from layers {list(self._optional(i))}")
            layers.append((kernel[0], kernel[1], p["filters"], p["stride"], tuple(sorted(preds))))  # type: ignore
        if self.from_layers(layers) != dag:
            raise GraphError("the output must join exactly the layers that no later layer reads")
        return layers

    # -- the space --------------------------------------------------------------

    def check(self, dag: DAG) -> None:
        self.to_layers(dag)

    def size(self) -> int:
        """(|heights|·|widths|·|filters|·|strides|) per layer times 2^(number of optional links)."""
        self._validate_params()
        per = len(self.heights) * len(self.widths) * len(self.filters) * len(self.strides)
        links = sum(len(self._optional(i)) for i in range(1, self.num_layers + 1))
        return per ** self.num_layers * 2 ** links

    def sample(self, seed: Seed = None) -> DAG:
        """Each layer's kernel, filters and stride uniformly; each optional link with probability 1/2."""
        self._validate_params()
        rng = as_random(seed)
        layers = []
        for i in range(1, self.num_layers + 1):
            skips = tuple(j for j in self._optional(i) if rng.random() < 0.5)
            layers.append((rng.choice(self.heights), rng.choice(self.widths), rng.choice(self.filters),
                           rng.choice(self.strides), skips))
        return self.from_layers(layers)

    def _moves(self, layers: list[Layer]) -> list[list[Layer]]:
        out = []
        for i, (h, w, f, s, skips) in enumerate(layers):
            variants: list[Layer] = [(v, w, f, s, skips) for v in self.heights if v != h]
            variants += [(h, v, f, s, skips) for v in self.widths if v != w]
            variants += [(h, w, v, s, skips) for v in self.filters if v != f]
            variants += [(h, w, f, v, skips) for v in self.strides if v != s]
            for j in self._optional(i + 1):
                variants.append((h, w, f, s, tuple(sorted(set(skips) ^ {j}))))
            out += [layers[:i] + [v] + layers[i + 1:] for v in variants]
        return out

    def mutate(self, dag: DAG, seed: Seed = None) -> DAG:
        """One change, uniformly among: a layer's kernel height or width, filters or stride, or one skip link."""
        rng = as_random(seed)
        return self.from_layers(rng.choice(self._moves(self.to_layers(dag))))

    def neighbours(self, dag: DAG) -> list[DAG]:
        return [self.from_layers(m) for m in self._moves(self.to_layers(dag))]

    def enumerate(self) -> Iterator[DAG]:
        """Every member, lazily (the default space has about 10^25; meant for small configurations)."""
        self._validate_params()
        per_layer: list[Any] = []
        for i in range(1, self.num_layers + 1):
            opt = list(self._optional(i))
            subsets = [tuple(j for j, bit in zip(opt, bits) if bit) for bits in itertools.product((0, 1),
                                                                                                   repeat=len(opt))]
            per_layer.append(list(itertools.product(self.heights, self.widths, self.filters, self.strides, subsets)))
        assert prod(len(c) for c in per_layer) == self.size()
        for layers in itertools.product(*per_layer):
            yield self.from_layers([(h, w, f, s, sk) for h, w, f, s, sk in layers])

    # -- as a sequence of decisions (NAS-RL's controller; see graphnas.generators.decisions) -------

    _FIELDS = (("filter height", "heights"), ("filter width", "widths"), ("filters", "filters"),
               ("stride", "strides"))

    def decisions(self, prefix: Sequence[int]) -> Decision | None:
        """Five decisions per layer, as NAS-RL emits them: filter height, filter width, number of filters,
        stride (indices into ``heights``/``widths``/``filters``/``strides``), then the *anchor point*: a
        ``"subset"`` decision whose options are the earlier layers the layer may also read (bit k of the
        choice = ``options[k]`` is read). Its step stands for the layer (``item``), so later anchor points
        attend to it."""
        self._validate_params()
        layer, field = divmod(len(prefix), 5)
        i = layer + 1
        if i > self.num_layers:
            return None
        if field < 4:
            label, attr = self._FIELDS[field]
            return Decision(f"layer {i} {label}", getattr(self, attr), key=label)
        return Decision(f"layer {i} anchors", tuple(self._optional(i)), kind="subset", key="anchors", item=i)

    def encode(self, dag: DAG) -> list[int]:
        """The 5 choices per layer of a member (GraphError if ``dag`` is not one)."""
        out = []
        for i, (h, w, f, s, skips) in enumerate(self.to_layers(dag), start=1):
            opt = list(self._optional(i))
            out += [self.heights.index(h), self.widths.index(w), self.filters.index(f), self.strides.index(s),
                    sum(1 << opt.index(j) for j in skips)]
        return out

    def decode(self, choices: Sequence[int]) -> DAG:
        """The chain of the choices; GraphError naming the decision for a bad sequence."""
        def build(c: list[int]) -> DAG:
            layers: list[Layer] = []
            for i in range(1, self.num_layers + 1):
                h, w, f, s, mask = c[5 * (i - 1): 5 * i]
                opt = list(self._optional(i))
                layers.append((self.heights[h], self.widths[w], self.filters[f], self.strides[s],
                               tuple(j for k, j in enumerate(opt) if mask >> k & 1)))
            return self.from_layers(layers)
        return decode_checked(self, choices, build)
