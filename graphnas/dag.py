"""The one architecture type: an immutable directed acyclic graph of operations.

A `DAG` holds nodes numbered in topological order (every edge goes from a
lower to a higher index). Each `Node` carries an ``op`` (a name such as
``"nor_conv_3x3"``, or a nested `DAG` for a cell inside a network), a small
mapping of ``params`` and a ``combine`` rule saying how the node merges its
inputs before applying the op. Designated ``inputs`` receive the data;
designated ``outputs`` are what the graph returns.

Bad input is refused at construction with `GraphError`, whose message
names the node or edge at fault. This module holds the value type and its JSON
form only; conversions to other forms (networkx, igraph, adjacency matrices, PyG,
PyTorch, Graphviz) live in `graphnas.converters`.

**Example**

```python
>>> from graphnas import DAG, Node
>>> g = DAG([Node("input"), Node("conv3x3"), Node("identity", combine="sum")],
...         [(0, 1), (0, 2), (1, 2)])
>>> g.inputs, g.outputs
((0,), (2,))

```
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Union

from graphnas._graph import flatten, reachable

__all__ = ["COMBINES", "DAG", "GraphError", "Node", "JSON_FORMAT", "JSON_VERSION", "MAX_NESTING"]

#: The rules a node may use to merge its inputs.
#: ``sum`` adds them, ``weighted_sum`` adds them with learnable weights made
#: positive by a sigmoid (RandWire), ``concat`` joins them along the channel axis
#: (in the order of their node index), ``mean`` averages them.
COMBINES: tuple[str, ...] = ("sum", "weighted_sum", "concat", "mean")

#: The ``format`` tag and schema version written by `DAG.to_json`.
JSON_FORMAT = "graphnas.dag"
JSON_VERSION = 1

#: How deeply DAGs may nest (a network of stages of cells is 2 or 3 levels); deeper graphs are refused,
#: so that comparing, hashing, serialising and compiling them never exhausts Python's recursion limit.
MAX_NESTING = 32

Op = Union[str, "DAG"]
ParamValue = Union[None, bool, int, float, str, tuple]


class GraphError(ValueError):
    """An architecture graph is malformed; the message names the node or edge at fault."""


# --------------------------------------------------------------------------- params


def _freeze_value(value: Any, where: str) -> ParamValue:
    if value is None or isinstance(value, bool):
        return value
    if getattr(getattr(value, "dtype", None), "kind", None) == "b":  # numpy's bool_
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, numbers.Integral):  # numpy's integers too, kept as Python ints
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):  # JSON has neither NaN nor infinities
            raise GraphError(f"{where}: {value} is not allowed as a parameter value (JSON has no NaN or infinity)")
        return float(value) + 0.0  # plain Python types (equality compares types, JSON writes these); -0.0 is 0.0
    if isinstance(value, (list, tuple)):
        return tuple(_freeze_value(v, where) for v in value)
    raise GraphError(
        f"{where}: parameter values must be None, bool, int, float, str or a list of "
        f"those, got {type(value).__name__}"
    )


def _freeze_params(params: Mapping[str, Any] | None, where: str) -> tuple[tuple[str, ParamValue], ...]:
    if params is None:
        return ()
    if not isinstance(params, Mapping):
        raise GraphError(f"{where}: params must be a mapping, got {type(params).__name__}")
    items = []
    for key, value in params.items():
        if not isinstance(key, str):
            raise GraphError(f"{where}: parameter names must be strings, got {key!r}")
        items.append((key, _freeze_value(value, f"{where}, param {key!r}")))
    return tuple(sorted(items))


def _typed(value: Any) -> Any:
    """``value`` with each scalar's type beside it: ``2``, ``2.0`` and ``True`` are equal in Python, but they
    are different params (JSON and the canonical key write them apart), so nodes holding them are not equal."""
    if isinstance(value, tuple):
        return tuple(_typed(v) for v in value)
    return type(value), value


def _thaw_value(value: ParamValue) -> Any:
    if isinstance(value, tuple):
        return [_thaw_value(v) for v in value]
    return value


# --------------------------------------------------------------------------- Node


class Node:
    """One operation in a `DAG`: ``op`` applied to its inputs merged by ``combine``.

    ``op`` is an operation name or a nested `DAG`. ``params`` is a small
    read-only mapping of JSON-like values (lists become tuples). Nodes are
    immutable, compare by value and hash.
    """

    __slots__ = ("_op", "_params", "_combine", "_hash")

    def __init__(self, op: Op, params: Mapping[str, Any] | None = None, combine: str = "sum") -> None:
        if isinstance(op, str):
            if not op:
                raise GraphError("node op must be a non-empty string or a DAG, got ''")
        elif not isinstance(op, DAG):
            raise GraphError(f"node op must be a string or a DAG, got {type(op).__name__}")
        if combine not in COMBINES:
            raise GraphError(f"unknown combine rule {combine!r}; expected one of {', '.join(COMBINES)}")
        self._op = op
        self._params = _freeze_params(params, f"node op {op if isinstance(op, str) else 'DAG'}")
        self._combine = combine
        self._hash = hash((op, self._params, combine))

    @property
    def op(self) -> Op:
        return self._op

    @property
    def params(self) -> Mapping[str, ParamValue]:
        return MappingProxyType(dict(self._params))

    @property
    def combine(self) -> str:
        return self._combine

    @property
    def is_nested(self) -> bool:
        """True where the op is itself a DAG (a cell inside a network)."""
        return isinstance(self._op, DAG)

    def replace(self, *, op: Op | None = None, params: Mapping[str, Any] | None = None,
                combine: str | None = None) -> Node:
        """A copy with some fields changed."""
        return Node(self._op if op is None else op,
                    dict(self._params) if params is None else params,
                    self._combine if combine is None else combine)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Node):
            return NotImplemented
        return (self._hash == other._hash and self._combine == other._combine
                and self._params == other._params and _typed(self._params) == _typed(other._params)
                and self._op == other._op)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        op = repr(self._op) if isinstance(self._op, str) else f"<DAG {len(self._op)} nodes>"
        parts = [op]
        if self._params:
            parts.append(f"params={dict(self._params)!r}")
        if self._combine != "sum":
            parts.append(f"combine={self._combine!r}")
        return f"Node({', '.join(parts)})"

    def __reduce__(self) -> tuple:
        return (Node, (self._op, dict(self._params), self._combine))

    def _label(self) -> str:
        """A string that identifies op, params and combine; used for canonical keys."""
        op = self._op if isinstance(self._op, str) else "dag:" + self._op.canonical_key()
        return json.dumps([op, [[k, _thaw_value(v)] for k, v in self._params], self._combine])


def _as_node(obj: Node | str | DAG, index: int) -> Node:
    if isinstance(obj, Node):
        return obj
    if isinstance(obj, (str, DAG)):
        try:
            return Node(obj)
        except GraphError as err:
            raise GraphError(f"node {index}: {err}") from None
    raise GraphError(f"node {index}: expected a Node, an op name or a DAG, got {type(obj).__name__}")


# --------------------------------------------------------------------------- DAG


class DAG:
    """An immutable architecture graph with nodes numbered in topological order.

    Args:
        nodes: the nodes, as `Node` objects (an op name or a nested DAG
            is accepted as shorthand for ``Node(op)``).
        edges: ``(src, dst)`` pairs with ``src < dst``.
        inputs: the nodes that receive the graph's inputs, in order. Default:
            every node without predecessors, in index order (if some have the
            op ``"input"``, another op without predecessors is an error).
        outputs: the nodes whose values the graph returns, in order. Default:
            every node without successors, in index order.

    Raises:
        GraphError: naming the node or edge, for an edge that points backwards
            (nodes must be numbered in topological order) or to a missing node,
            a duplicate edge, an input with predecessors, a node not reachable
            from an input or with no path to an output, or a nested DAG whose
            input count does not match its predecessors.
    """

    __slots__ = ("_nodes", "_edges", "_inputs", "_outputs", "_preds", "_succs", "_hash", "_key", "_nesting")

    def __init__(self, nodes: Sequence[Node | str | DAG], edges: Iterable[Sequence[int]] = (),
                 *, inputs: Sequence[int] | None = None, outputs: Sequence[int] | None = None) -> None:
        if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Sequence):
            raise GraphError(f"nodes must be a sequence, got {type(nodes).__name__}")
        self._nodes: tuple[Node, ...] = tuple(_as_node(n, i) for i, n in enumerate(nodes))
        n = len(self._nodes)
        if n == 0:
            raise GraphError("a DAG needs at least one node")
        self._nesting: int = 1 + max((node.op._nesting for node in self._nodes if isinstance(node.op, DAG)),
                                     default=0)
        if self._nesting > MAX_NESTING:
            deep = next(i for i, node in enumerate(self._nodes)
                        if isinstance(node.op, DAG) and node.op._nesting == MAX_NESTING)
            raise GraphError(f"node {deep} holds DAGs nested {MAX_NESTING} deep; at most {MAX_NESTING} levels "
                             "of nesting are allowed")
        self._edges = self._check_edges(edges, n)
        preds: list[list[int]] = [[] for _ in range(n)]
        succs: list[list[int]] = [[] for _ in range(n)]
        for s, d in self._edges:
            preds[d].append(s)
            succs[s].append(d)
        self._preds = tuple(tuple(p) for p in preds)
        self._succs = tuple(tuple(s) for s in succs)
        self._inputs = self._check_ports(inputs, n, "input")
        self._outputs = self._check_ports(outputs, n, "output")
        self._validate()
        self._hash = hash((self._nodes, self._edges, self._inputs, self._outputs))
        self._key: str | None = None

    # -- validation ---------------------------------------------------------------

    @staticmethod
    def _check_edges(edges: Iterable[Sequence[int]], n: int) -> tuple[tuple[int, int], ...]:
        try:
            edge_list = list(edges)
        except TypeError:
            raise GraphError(f"edges must be an iterable of (src, dst) pairs, got {type(edges).__name__}") from None
        # Fast path for well-formed input; anything else goes through the checks below for a precise message.
        try:
            pairs = [(s, d) for s, d in edge_list]
        except (TypeError, ValueError):
            pairs = []
        if len(pairs) == len(edge_list) and all(type(s) is int and type(d) is int and 0 <= s < d < n
                                                for s, d in pairs):
            keys = sorted([d * n + s for s, d in pairs])  # integer keys sort far faster than tuples
            if len(set(keys)) == len(keys):
                return tuple([(k % n, k // n) for k in keys])
        seen: set[tuple[int, int]] = set()
        for e in edge_list:
            if isinstance(e, (str, bytes)) or not isinstance(e, Sequence) or len(e) != 2:
                raise GraphError(f"edge {e!r}: expected a (src, dst) pair")
            s, d = e
            if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in (s, d)):
                raise GraphError(f"edge {e!r}: node indices must be integers")
            s, d = int(s), int(d)
            if not (0 <= s < n):
                raise GraphError(f"edge ({s}, {d}) starts at node {s}, which does not exist (nodes are 0..{n - 1})")
            if not (0 <= d < n):
                raise GraphError(f"edge ({s}, {d}) ends at node {d}, which does not exist (nodes are 0..{n - 1})")
            if s == d:
                raise GraphError(f"edge ({s}, {d}) is a self-loop on node {s}, which makes a cycle")
            if s > d:
                raise GraphError(
                    f"edge ({s}, {d}) goes from a higher to a lower index: nodes must be numbered in "
                    "topological order (use graphnas.from_networkx or graphnas.from_edges to renumber an "
                    "unordered graph)")
            if (s, d) in seen:
                raise GraphError(f"edge ({s}, {d}) appears twice")
            seen.add((s, d))
        return tuple(sorted(seen, key=lambda e: (e[1], e[0])))

    @staticmethod
    def _check_ports(ports: Sequence[int] | None, n: int, kind: str) -> tuple[int, ...] | None:
        if ports is None:
            return None
        if isinstance(ports, (str, bytes)) or not isinstance(ports, Sequence):
            raise GraphError(f"{kind}s must be a sequence of node indices, got {type(ports).__name__}")
        out: list[int] = []
        for p in ports:
            if not isinstance(p, numbers.Integral) or isinstance(p, bool):
                raise GraphError(f"{kind} {p!r} is not a node index")
            p = int(p)
            if not (0 <= p < n):
                raise GraphError(f"{kind} node {p} does not exist (nodes are 0..{n - 1})")
            if p in out:
                raise GraphError(f"{kind} node {p} is listed twice")
            out.append(p)
        if not out:
            raise GraphError(f"a DAG needs at least one {kind} node")
        return tuple(out)

    def _validate(self) -> None:
        n = len(self._nodes)
        if self._inputs is None:
            self._inputs = tuple(i for i in range(n) if not self._preds[i])
            marked = [i for i in self._inputs if self._nodes[i].op == "input"]
            lost = [i for i in self._inputs if i not in marked] if marked else []
            if lost:  # a node that lost its incoming edge, not a further input
                raise GraphError(f"node {lost[0]} ({self._op_name(lost[0])}) is not reachable from any input (inputs "
                                 f"are {marked}); give it an incoming edge, or pass inputs=[...] to make it an input")
        if self._outputs is None:
            self._outputs = tuple(i for i in range(n) if not self._succs[i])
        for i in self._inputs:
            if self._preds[i]:
                raise GraphError(f"input node {i} has incoming edges from {list(self._preds[i])}; inputs "
                                 "take no predecessors")
        reach = reachable(n, self._edges, self._inputs)
        co = reachable(n, self._edges, self._outputs, backward=True)
        for i in range(n):
            if not reach[i]:
                raise GraphError(f"node {i} ({self._op_name(i)}) is not reachable from any input "
                                 f"(inputs are {list(self._inputs)})")
        for i in range(n):
            if not co[i]:
                raise GraphError(f"node {i} ({self._op_name(i)}) has no path to any output "
                                 f"(outputs are {list(self._outputs)})")
        inputs = set(self._inputs)
        for i, node in enumerate(self._nodes):
            if isinstance(node.op, DAG) and i not in inputs:
                k = len(node.op.inputs)
                if k > 1 and len(self._preds[i]) != k:
                    raise GraphError(
                        f"node {i} holds a nested DAG with {k} inputs but has {len(self._preds[i])} "
                        f"predecessors; a nested DAG with several inputs takes exactly one predecessor "
                        f"per input, in index order")

    def _op_name(self, i: int) -> str:
        op = self._nodes[i].op
        return repr(op) if isinstance(op, str) else "nested DAG"

    # -- accessors ----------------------------------------------------------------

    @property
    def nodes(self) -> tuple[Node, ...]:
        return self._nodes

    @property
    def edges(self) -> tuple[tuple[int, int], ...]:
        """All edges, sorted by destination then source."""
        return self._edges

    @property
    def inputs(self) -> tuple[int, ...]:
        assert self._inputs is not None
        return self._inputs

    @property
    def outputs(self) -> tuple[int, ...]:
        assert self._outputs is not None
        return self._outputs

    @property
    def ops(self) -> tuple[Op, ...]:
        return tuple(node.op for node in self._nodes)

    def predecessors(self, i: int) -> tuple[int, ...]:
        """The nodes feeding node ``i``, in increasing index order (the order ``concat`` uses)."""
        return self._preds[i]

    def successors(self, i: int) -> tuple[int, ...]:
        return self._succs[i]

    def in_degree(self, i: int) -> int:
        return len(self._preds[i])

    def out_degree(self, i: int) -> int:
        return len(self._succs[i])

    def __len__(self) -> int:
        return len(self._nodes)

    @property
    def num_edges(self) -> int:
        return len(self._edges)

    def depth(self) -> int:
        """The number of edges on the longest input-to-output path."""
        level = [0] * len(self._nodes)
        for i in range(len(self._nodes)):
            level[i] = max((level[p] + 1 for p in self._preds[i]), default=0)
        return max(level[o] for o in self.outputs)

    def replace(self, *, nodes: Sequence[Node | str | DAG] | None = None,
                edges: Iterable[Sequence[int]] | None = None,
                inputs: Sequence[int] | None = None, outputs: Sequence[int] | None = None) -> DAG:
        """A new DAG with some parts changed (validated again)."""
        return DAG(self._nodes if nodes is None else nodes, self._edges if edges is None else edges,
                   inputs=self.inputs if inputs is None else inputs,
                   outputs=self.outputs if outputs is None else outputs)

    def with_node(self, i: int, node: Node | str | DAG) -> DAG:
        """A copy with node ``i`` replaced."""
        if not (0 <= i < len(self._nodes)):
            raise GraphError(f"node {i} does not exist (nodes are 0..{len(self._nodes) - 1})")
        nodes = list(self._nodes)
        nodes[i] = _as_node(node, i)
        return self.replace(nodes=nodes)

    # -- identity -----------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DAG):
            return NotImplemented
        return (self is other or (self._hash == other._hash and self._edges == other._edges
                                  and self._inputs == other._inputs and self._outputs == other._outputs
                                  and self._nodes == other._nodes))

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        ops = [n.op if isinstance(n.op, str) else "<DAG>" for n in self._nodes]
        if len(ops) > 8:
            ops = ops[:4] + ["..."] + ops[-2:]
        return (f"DAG({len(self._nodes)} nodes, {len(self._edges)} edges, inputs={list(self.inputs)}, "
                f"outputs={list(self.outputs)}, ops={ops})")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter shows a DAG as its Graphviz drawing (plain text where ``dot`` is missing)."""
        from graphnas.converters.dot import repr_mimebundle

        return repr_mimebundle(self, include, exclude)

    def _repr_svg_(self) -> str | None:
        from graphnas.converters.dot import repr_svg

        return repr_svg(self)

    def __reduce__(self) -> tuple:
        return (_dag_from_parts, (self._nodes, self._edges, self.inputs, self.outputs))

    def canonical_key(self) -> str:
        """A hex digest equal for two graphs exactly when they are isomorphic with ops preserved.

        Each node is coloured by its op (a nested DAG by its own canonical key),
        params, combine rule and its position among the inputs and outputs;
        igraph's canonical permutation (bliss) then gives a labelling that is the
        same for every isomorphic copy. Search uses it to skip duplicates.
        """
        if self._key is None:
            from graphnas.converters.igraph import canonical_key

            self._key = canonical_key(self)
        return self._key

    # -- JSON ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (schema ``graphnas.dag`` v1) as Python objects."""
        return {
            "format": JSON_FORMAT,
            "version": JSON_VERSION,
            **self._body(),
        }

    def _body(self) -> dict[str, Any]:
        nodes = []
        for node in self._nodes:
            entry: dict[str, Any] = {"op": node.op._body() if isinstance(node.op, DAG) else node.op}
            if node._params:
                entry["params"] = {k: _thaw_value(v) for k, v in node._params}
            if node.combine != "sum":
                entry["combine"] = node.combine
            nodes.append(entry)
        return {
            "nodes": nodes,
            "edges": [[s, d] for s, d in self._edges],
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """Serialise to JSON (see ``docs/json-schema.md``); `from_json` reads it back exactly."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, doc: Any) -> DAG:
        """Build from a JSON document already parsed into Python objects."""
        if not isinstance(doc, dict):
            raise GraphError(f"a graphnas DAG document must be a JSON object, got {type(doc).__name__}")
        fmt = doc.get("format")
        if fmt != JSON_FORMAT:
            raise GraphError(f"not a graphnas DAG document: 'format' is {fmt!r}, expected {JSON_FORMAT!r}")
        version = doc.get("version")
        if type(version) is not int or version != JSON_VERSION:  # not 1.0, not true
            raise GraphError(f"unsupported graphnas DAG schema version {version!r}; this graphnas reads "
                             f"version {JSON_VERSION}")
        from graphnas._dag_json import dag_from_body

        try:
            return dag_from_body(doc, "$")
        except RecursionError:
            raise GraphError("the DAG document nests DAGs too deeply to be read") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> DAG:
        """Parse JSON written by `to_json`. Never executes anything; bad input raises GraphError."""
        if not isinstance(text, (str, bytes, bytearray)):
            raise GraphError(f"from_json expects a str or bytes, got {type(text).__name__}")
        try:
            doc = json.loads(text)
        except UnicodeDecodeError:
            raise GraphError("not a text file (expected a graphnas DAG in JSON)") from None
        except json.JSONDecodeError as err:
            raise GraphError(f"malformed JSON: {err}") from None
        except RecursionError:
            raise GraphError("malformed JSON: the document nests arrays or objects too deeply to be read") from None
        return cls.from_dict(doc)

    def save(self, path: str) -> None:
        """Write the graph as JSON to ``path``."""
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.to_json(indent=1))

    @classmethod
    def load(cls, path: str) -> DAG:
        """Read a graph written by `save`. A file that is not a DAG document raises GraphError naming it."""
        with open(path, "rb") as fh:
            data = fh.read()
        try:
            return cls.from_json(data)
        except GraphError as err:
            raise GraphError(f"{path}: {err}") from None

    # -- structure ----------------------------------------------------------------

    def flatten(self) -> DAG:
        """Inline every nested DAG, recursively, giving a graph of plain ops.

        A nested DAG's input nodes are replaced by its outer node's predecessors
        (one per input for several inputs; with one input and several predecessors,
        an ``identity`` node with the outer node's combine merges them), and its
        outputs feed the outer successors (several outputs meet in a ``concat``
        node); a nested DAG on an input node is inlined with its own inputs as the
        graph's. The surrogate uses this to see a network as one graph.
        """
        return flatten(self)


# --------------------------------------------------------------------------- helpers


def _dag_from_parts(nodes: tuple, edges: tuple, inputs: tuple, outputs: tuple) -> DAG:
    return DAG(nodes, edges, inputs=inputs, outputs=outputs)
