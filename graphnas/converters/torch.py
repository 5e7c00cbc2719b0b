"""Compile a `graphnas.DAG` into a PyTorch module by generating ``torch.fx`` code.

`to_torch` walks the DAG once, in its topological order, and emits a
``torch.fx.Graph``: a placeholder per input node, a ``call_module`` per op node
(submodule ``node_<i>``, or ``cell_<i>`` for a nested DAG, itself compiled the
same way), ``call_function`` nodes for each combine rule, and the output. The
result is a ``torch.fx.GraphModule`` whose ``.code`` is plain Python; it works
with ``torch.compile``, ``torch.export`` and ONNX export, pickles and deep-copies.

Shapes are inferred while compiling. Every value is either a feature map
``(N, C, H, W)``, known by its channels ``C`` and its *scale* (the product of
the strides on the way from the input), or a vector ``(N, C)``. A node's
output channels are its ``"C"`` param, or what its op says (``chain_conv``: its
``filters``), or its input channels; its stride is its ``"stride"`` param.

**Inputs that do not match** (the documented rule, ``align="project"``): when the
inputs of one node arrive at different resolutions, each finer one is brought
to the coarsest by average pooling with kernel and stride equal to the integer
ratio of their scales (rounding up, as every strided op does: a value at stride
``s`` of an ``H x W`` input is ``ceil(H / s) x ceil(W / s)``, so inputs of any
size meet, odd ones included); when they differ in channels and the combine is
``sum``, ``weighted_sum`` or ``mean``, each input narrower or wider than the
widest is projected to it by a 1x1 ReLU-Conv-BN (``concat`` needs no
projection). These adapters are visible submodules named
``align_<node>_<pred>``, they appear in ``.code``, each is logged at INFO level
on the ``graphnas`` logger, and ``module.graphnas_alignments`` lists them.
With ``align="error"`` any mismatch raises `GraphError` instead. Scales
whose ratio is not an integer, a vector meeting a feature map, or an op given a
shape it cannot take always raise `GraphError` naming the node.

Several outputs: a nested DAG concatenates them along channels (as
`DAG.flatten` does); the top-level module returns them as a tuple.

The top-level module's first line per input is `check_input`: an input that is not an
``(N, in_channels, H, W)`` tensor raises ``ValueError`` naming it, before any op runs. The code
marks it ``torch.fx.wrap``-ped, so re-tracing the module keeps it one call.
"""

from __future__ import annotations

import logging
import numbers
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.fx as fx
import torch.nn as nn

from graphnas.converters.mixed import CHOICE, MixedOp, bind_choices, choice_candidates
from graphnas.dag import DAG, GraphError, Node
from graphnas.ops import ReLUConvBN, get_op, list_ops, whole
from graphnas.registry import UnknownNameError

__all__ = ["to_torch", "count_params", "count_flops", "Shape"]

logger = logging.getLogger("graphnas")

_ALIGN = ("project", "error")


@dataclass(frozen=True)
class Shape:
    """What the converter knows of a value: channels, and the scale (None for an ``(N, C)`` vector)."""

    C: int
    scale: int | None = 1

    def __str__(self) -> str:
        return f"(C={self.C}, vector)" if self.scale is None else f"(C={self.C}, stride {self.scale})"


def to_torch(dag: DAG, in_channels: int | Sequence[int] = 3, *, align: str = "project",
             class_name: str = "DAGModule", seed: Any = None) -> fx.GraphModule:
    """Compile ``dag`` into a ``torch.fx.GraphModule``.

    Args:
        dag: the architecture; node ops are registered op names (see
            `graphnas.ops.list_ops`), ``"input"``, ``"identity"``, or nested DAGs.
        in_channels: the channels of each input (one int for all inputs).
        align: ``"project"`` (the documented rule above) or ``"error"``.
        class_name: the name of the generated class (shown in ``repr`` and ``.code``).
        seed: the initial weights' seed (an int, ``random.Random`` or numpy ``Generator``): the same seed, the
            same weights, drawn from a generator of their own. ``None`` (default): torch's global generator, as
            ``nn.Module`` constructors draw (``torch.manual_seed`` then decides).

    Returns:
        A ``GraphModule`` taking one tensor per input node and returning the
        output node's value (a tuple for several outputs). Its attribute
        ``graphnas_shapes`` maps each node to its inferred `Shape`.

    Raises:
        GraphError: naming the node, for an unknown op (with the known ops),
            params an op does not take, or shapes that cannot meet.

    **Example**

    ```python
    >>> import torch
    >>> from graphnas import DAG, Node, to_torch
    >>> g = DAG([Node("input"), Node("nor_conv_3x3", {"C": 8}), Node("skip_connect", {"C": 8}),
    ...          Node("identity")], [(0, 1), (0, 2), (1, 3), (2, 3)])
    >>> to_torch(g)(torch.randn(2, 3, 8, 8)).shape
    torch.Size([2, 8, 8, 8])

    ```
    """
    if not isinstance(dag, DAG):
        hint = ""
        if type(dag).__name__ == "Genotype" or isinstance(dag, str):
            hint = (": a genotype (or its name) is a cell, not a network; compile the network it makes, e.g. "
                    "to_torch(graphnas.models.darts_cifar(genotype)), or read any supported format with "
                    "graphnas.as_dag(...) first")
        raise TypeError(f"to_torch expects a graphnas.DAG, got {type(dag).__name__}{hint}")
    if align not in _ALIGN:
        raise ValueError(f"align must be one of {_ALIGN}, got {align!r}")
    shapes = _input_shapes(dag, in_channels)
    if seed is None:
        gm, _ = _compile(dag, shapes, align, class_name, top=True, where="")
    else:
        from graphnas._torch_rng import local_generator
        from graphnas.generators._random import as_torch

        with local_generator(as_torch(seed)):
            gm, _ = _compile(dag, shapes, align, class_name, top=True, where="")
    bind_choices(gm)  # a supernet: one `arch` submodule for its choice nodes (graphnas.converters.mixed)
    return gm


def _input_shapes(dag: DAG, in_channels: int | Sequence[int]) -> list[Shape]:
    k = len(dag.inputs)
    given: Any = in_channels  # checked here: callers pass floats, strings, arrays
    try:
        if isinstance(given, (str, bytes)):
            raise TypeError
        chans: list[Any] = [given] * k if isinstance(given, numbers.Number) else list(given)
    except TypeError:
        raise GraphError(f"in_channels must be a positive integer or one per input, got {in_channels!r}") from None
    if len(chans) != k:
        raise GraphError(f"the DAG has {k} inputs but {len(chans)} input channel counts were given")
    for i, c in enumerate(chans):
        if isinstance(c, bool) or not isinstance(c, numbers.Integral) or c < 1:
            which = "" if isinstance(in_channels, numbers.Number) else f" (input {i}, node {dag.inputs[i]})"
            raise GraphError(f"in_channels must be a positive integer{which}, got {c!r}")
    return [Shape(int(c)) for c in chans]


def check_input(x: Any, k: int, node: int, channels: int) -> None:
    """The compiled module's first lines, one per input: ``x`` must be an ``(N, channels, H, W)`` tensor.

    A mismatch raises ``ValueError`` naming the input, its node and the ``in_channels`` the module was
    compiled for, instead of a convolution's error deep inside (or, for a 3-d tensor, a batch of one
    read as channels). ``torch.compile`` and ``torch.export`` trace through it without adding an
    operation (an exported program checks its inputs with its own shape guards).
    """
    if torch.jit.is_tracing():  # jit.trace records shapes itself; comparing them here only warns
        return
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"input {k} (node {node}) must be a torch.Tensor of shape (N, {channels}, H, W), "
                        f"got {type(x).__name__}")
    if x.dim() != 4 or x.shape[1] != channels:
        got = tuple(x.shape)
        if x.dim() == 3 and x.shape[0] == channels:
            fix = "a single image needs a batch dimension: x.unsqueeze(0)"
        elif x.dim() == 3 and channels == 1:
            fix = "a batch of one-channel images needs its channel dimension: x.unsqueeze(1)"
        elif x.dim() == 4 and x.shape[3] == channels:
            fix = "channels come second (N, C, H, W), not last: x.permute(0, 3, 1, 2)"
        elif x.dim() == 4:
            fix = f"compile with to_torch(dag, in_channels={x.shape[1]}) for {x.shape[1]}-channel input"
        else:
            fix = "the compiled module takes feature maps (N, C, H, W)"
        raise ValueError(f"input {k} (node {node}) must have shape (N, {channels}, H, W) (the module was "
                         f"compiled with in_channels={channels}), got {got}: {fix}")


def _where(where: str, i: int, node: Node) -> str:
    return f"{where}node {i} ({node.op!r})" if isinstance(node.op, str) else f"{where}node {i} (nested DAG)"


class _Builder:
    """State of one graph being emitted: the fx graph, the root module, the shape of every value."""

    def __init__(self, align: str, where: str) -> None:
        self.graph = fx.Graph()
        self.root = nn.Module()
        self.align = align
        self.where = where
        self.alignments: list[str] = []

    def add_module(self, name: str, module: nn.Module) -> None:
        self.root.add_module(name, module)

    def call(self, name: str, args: tuple) -> fx.Node:
        return self.graph.create_node("call_module", name, args, {}, name=name)

    def fn(self, target: Any, args: tuple, kwargs: dict | None = None, name: str | None = None) -> fx.Node:
        return self.graph.create_node("call_function", target, args, kwargs or {}, name=name)

    # -- combining inputs ---------------------------------------------------------

    def align_inputs(self, i: int, label: str, preds: Sequence[int], values: list[fx.Node], shapes: list[Shape],
                     combine: str) -> tuple[list[fx.Node], list[Shape]]:
        """Bring the inputs of node ``i`` to one resolution (and one width, unless concatenated)."""
        if len(values) == 1:
            return values, shapes
        vec = [s.scale is None for s in shapes]
        desc = ", ".join(f"node {p} {s}" for p, s in zip(preds, shapes))
        if any(vec) and not all(vec):
            raise GraphError(f"{label}: cannot combine a vector (N, C) with a feature map; inputs are {desc}")
        if all(vec):
            if combine != "concat" and len({s.C for s in shapes}) > 1:
                raise GraphError(f"{label}: cannot {combine} vectors of different widths; inputs are {desc}. "
                                 "Use combine='concat' or give the inputs the same 'C'")
            return values, shapes
        scales = [s.scale for s in shapes if s.scale is not None]  # all of them: no vectors past this point
        target_scale = max(scales)
        target_C = max(s.C for s in shapes) if combine != "concat" else None
        out_values, out_shapes = [], []
        for p, v, s in zip(preds, values, shapes):
            assert s.scale is not None
            ratio, rem = divmod(target_scale, s.scale)
            if rem:
                raise GraphError(f"{label}: inputs at strides {sorted(set(scales))} cannot meet "
                                 f"(node {p} is at stride {s.scale}, {target_scale} is not a multiple of it); "
                                 f"inputs are {desc}")
            widen = target_C is not None and s.C != target_C
            if ratio == 1 and not widen:
                out_values.append(v)
                out_shapes.append(s)
                continue
            if self.align == "error":
                raise GraphError(f"{label}: its inputs do not match ({desc}) and align='error'; give them the "
                                 "same 'C' and stride, or compile with align='project'")
            parts: list[nn.Module] = []
            what = []
            if ratio > 1:
                # ceil_mode: every op pads 'same' and rounds up (a stride-s op maps H to ceil(H / s)), so the
                # pooling must round up too to land on the target's size for every input size.
                parts.append(nn.AvgPool2d(ratio, ratio, ceil_mode=True))
                what.append(f"{ratio}x{ratio} average pooling")
            C_new = s.C
            if widen:
                assert target_C is not None
                parts.append(ReLUConvBN(s.C, target_C, 1, 1, 0))
                what.append(f"a 1x1 ReLU-Conv-BN projection {s.C}->{target_C} channels")
                C_new = target_C
            name = f"align_{i}_{p}"
            self.add_module(name, parts[0] if len(parts) == 1 else nn.Sequential(*parts))
            msg = f"{label}: input from node {p} {s} adapted with {' and '.join(what)} ({name})"
            logger.info(msg)
            self.alignments.append(msg)
            out_values.append(self.call(name, (v,)))
            out_shapes.append(Shape(C_new, target_scale))
        return out_values, out_shapes

    def combine(self, i: int, label: str, rule: str, values: list[fx.Node], shapes: list[Shape],
                name: str) -> tuple[fx.Node, Shape]:
        """Emit the combine step of node ``i`` as fx function calls; returns its value and shape."""
        if len(values) == 1:
            return values[0], shapes[0]
        if rule == "concat":
            out = self.fn(torch.cat, (list(values),), {"dim": 1}, name=name)
            return out, Shape(sum(s.C for s in shapes), shapes[0].scale)
        if rule == "weighted_sum":
            wname = f"weights_{i}"
            self.root.register_parameter(wname, nn.Parameter(torch.ones(len(values))))
            w = self.fn(torch.sigmoid, (self.graph.get_attr(wname),), name=f"sigmoid_{i}")
            terms = [self.fn(operator.mul, (v, self.fn(operator.getitem, (w, k))))
                     for k, v in enumerate(values)]
        else:
            terms = list(values)
        acc = terms[0]
        for k, t in enumerate(terms[1:]):
            last = k == len(terms) - 2 and rule != "mean"
            acc = self.fn(operator.add, (acc, t), name=name if last else None)
        if rule == "mean":
            acc = self.fn(operator.truediv, (acc, float(len(terms))), name=name)
        return acc, shapes[0]


def _compile(dag: DAG, in_shapes: list[Shape], align: str, class_name: str, *, top: bool,
             where: str) -> tuple[fx.GraphModule, Shape]:
    b = _Builder(align, where)
    values: dict[int, fx.Node] = {}
    shapes: dict[int, Shape] = {}

    def add_cell(i: int, inner: DAG, inputs: list[fx.Node], input_shapes: list[Shape]) -> tuple[fx.Node, Shape]:
        """Compile a nested DAG into submodule ``cell_i`` and call it on ``inputs``."""
        name = f"cell_{i}"
        sub, out_shape = _compile(inner, input_shapes, align, "Cell", top=False, where=f"{where}{name}: ")
        b.add_module(name, sub)
        b.alignments.extend(getattr(sub, "graphnas_alignments", []))
        return b.call(name, tuple(inputs)), out_shape

    def apply_to_input(i: int, node: Node) -> tuple[fx.Node, Shape]:
        """The value of input node ``i`` whose op is not ``input``: its op (or nested DAG) on the input."""
        label = _where(where, i, node)
        if isinstance(node.op, DAG):
            if len(node.op.inputs) > 1:
                raise GraphError(f"{label}: a nested DAG with {len(node.op.inputs)} inputs on an input node "
                                 "takes one network input; compile dag.flatten(), whose inputs are its inputs, "
                                 "or give the network an input node per cell input")
            return add_cell(i, node.op, [values[i]], [shapes[i]])
        module, out_shape = (_build_choice if node.op == CHOICE else _build_op)(node, shapes[i], label)
        b.add_module(f"node_{i}", module)
        return b.call(f"node_{i}", (values[i],)), out_shape

    for k, i in enumerate(dag.inputs):
        name = "x" if len(dag.inputs) == 1 else f"x{k}"
        values[i] = b.graph.placeholder(name)
        shapes[i] = in_shapes[k]
        if top:  # a wrong input fails here, naming the input and the in_channels it was compiled for
            check = b.fn(check_input, (values[i], k, i, in_shapes[k].C), name=f"check_{name}")
            # the code says torch.fx.wrap(...) for it: any re-trace (unpickling, symbolic_trace, FX quantization)
            # keeps the check one call instead of running it on a Proxy
            check.meta["is_wrapped"] = True
    for i, node in enumerate(dag.nodes):
        if i in values:
            if node.op not in ("input", "identity"):  # an input node with an op applies it to the input
                values[i], shapes[i] = apply_to_input(i, node)
            continue
        label = _where(where, i, node)
        preds = dag.predecessors(i)
        pv = [values[p] for p in preds]
        ps = [shapes[p] for p in preds]
        if isinstance(node.op, DAG) and len(node.op.inputs) > 1:  # one predecessor per cell input
            values[i], shapes[i] = add_cell(i, node.op, pv, ps)
            continue
        if node.op == "input":
            raise GraphError(f"{label}: an 'input' node must be one of the DAG's inputs {list(dag.inputs)}")
        is_identity = node.op == "identity"
        merged_name = f"node_{i}" if is_identity else f"{node.combine}_{i}".replace("weighted_sum", "wsum")
        pv, ps = b.align_inputs(i, label, preds, pv, ps, node.combine)
        merged, mshape = b.combine(i, label, node.combine, pv, ps, merged_name)
        if is_identity:
            values[i], shapes[i] = merged, mshape
            continue
        if isinstance(node.op, DAG):  # one input: the merged predecessors
            values[i], shapes[i] = add_cell(i, node.op, [merged], [mshape])
            continue
        if node.op == CHOICE:
            module, out_shape = _build_choice(node, mshape, label)
        else:
            module, out_shape = _build_op(node, mshape, label)
        name = f"node_{i}"
        b.add_module(name, module)
        values[i], shapes[i] = b.call(name, (merged,)), out_shape
    outs = list(dag.outputs)
    if len(outs) == 1:
        result, rshape = values[outs[0]], shapes[outs[0]]
        b.graph.output(result)
    elif top:
        b.graph.output(tuple(values[o] for o in outs))
        rshape = shapes[outs[0]]
    else:
        label = f"{where}outputs {outs}"
        ov, os_ = b.align_inputs(len(dag), label, outs, [values[o] for o in outs], [shapes[o] for o in outs],
                                 "concat")
        result, rshape = b.combine(len(dag), label, "concat", ov, os_, "out")
        b.graph.output(result)
    gm = fx.GraphModule(b.root, b.graph, class_name=class_name)
    # nn.Module.__setattr__ is typed for Tensor | Module values only; plain attributes are fine at runtime
    gm.graphnas_shapes = dict(shapes)  # type: ignore[assignment]
    gm.graphnas_alignments = list(b.alignments)  # type: ignore[assignment]
    return gm, rshape


def _build_op(node: Node, shape: Shape, label: str) -> tuple[nn.Module, Shape]:
    op = node.op
    assert isinstance(op, str)
    try:
        spec = get_op(op)
    except KeyError as err:
        hint = err.hint if isinstance(err, UnknownNameError) else ""
        raise GraphError(f"{label}: unknown op {op!r}{hint}; known ops: {', '.join(list_ops())} "
                         "(plus 'input', 'identity' and nested DAGs; add one with graphnas.ops.register_op)") from None
    params: dict[str, Any] = dict(node.params)
    for key in ("kernel",):
        if key in params and isinstance(params[key], tuple):
            params[key] = list(params[key])
    if shape.scale is None and not spec.vector_in:
        raise GraphError(f"{label}: op {op!r} needs a feature map (N, C, H, W) but its input is a vector "
                         f"{shape} (after global pooling)")
    if shape.scale is not None and spec.vector_in:
        raise GraphError(f"{label}: op {op!r} needs a vector (N, C) but its input is a feature map {shape}; "
                         "put a 'global_avg_pool' node before it")
    try:
        C_out = spec.channels(shape.C, params)
        stride = whole(params.pop("stride", 1), "stride")
    except KeyError as err:  # a param the op's channel rule needs
        raise GraphError(f"{label}: op {op!r} needs the param {err.args[0]!r}; it has {dict(node.params)}") from None
    except (TypeError, ValueError) as err:
        raise GraphError(f"{label}: bad params {dict(node.params)}: {err}") from None
    params.pop("C", None)
    if C_out < 1 or stride < 1:
        raise GraphError(f"{label}: channels and stride must be positive, got C={C_out}, stride={stride}")
    if spec.fixed_channels and C_out != shape.C:
        raise GraphError(f"{label}: op {op!r} keeps its input's {shape.C} channels and cannot output {C_out}; "
                         "drop its 'C' param or put a projection before it")
    try:
        module = spec(shape.C, C_out, stride, **params)
    except (TypeError, ValueError) as err:
        raise GraphError(f"{label}: cannot build op {op!r} with C_in={shape.C}, C_out={C_out}, stride={stride}, "
                         f"params {params}: {err}") from None
    if spec.vector:
        return module, Shape(C_out, None)
    assert shape.scale is not None
    return module, Shape(C_out, shape.scale * stride)


def _build_choice(node: Node, shape: Shape, label: str) -> tuple[nn.Module, Shape]:
    """A choice node: every candidate built as a node of that op with the choice's other params would be,
    in a `graphnas.converters.mixed.MixedOp`; the candidates must agree on the output shape."""
    cands, key = choice_candidates(node, label)
    params = {k: v for k, v in node.params.items() if k not in ("candidates", "key")}
    modules: dict[str, nn.Module] = {}
    out: Shape | None = None
    for op in cands:
        module, s = _build_op(Node(op, params), shape, f"{label} candidate {op!r}")
        if out is not None and s != out:
            raise GraphError(f"{label}: candidate {op!r} outputs {s} but {cands[0]!r} outputs {out}; the "
                             "candidates of a choice must agree on the output shape")
        modules[op], out = module, s
    assert out is not None
    return MixedOp(key, modules), out


# --------------------------------------------------------------------------- counting


def count_params(model: nn.Module, *, trainable_only: bool = True) -> int:
    """The number of (trainable) parameters, as the papers report them."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def count_flops(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-adds of the conv and linear layers for one forward pass on ``input_shape``.

    ``input_shape`` is ``(C, H, W)`` for one sample (or ``(N, C, H, W)``, counting
    the whole batch). Runs one forward pass without gradients in eval mode (the
    model's mode is restored); other layers (BN, pooling, additions) are not
    counted, as in the papers' tables. Models with several inputs take a list of shapes.
    """
    shapes = [tuple(input_shape)] if isinstance(input_shape[0], int) else [tuple(s) for s in input_shape]  # type: ignore
    shapes = [s if len(s) != 3 else (1, *s) for s in shapes]
    total = 0

    def hook(mod: nn.Module, inp: tuple, out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
            total += out.numel() * k
        elif isinstance(mod, nn.Linear):
            total += out.numel() * mod.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    training = {m: m.training for m in model.modules()}
    try:
        model.eval()
        p = next(model.parameters(), None)
        kw: dict[str, Any] = {"device": p.device, "dtype": p.dtype} if p is not None else {}
        with torch.no_grad():
            model(*[torch.zeros(s, **kw) for s in shapes])
    finally:
        for h in handles:
            h.remove()
        for m, t in training.items():
            m.training = t
    return int(total)
