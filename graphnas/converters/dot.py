"""Draw architectures with Graphviz: a DAG, a cell, a genotype or a whole network.

`to_dot` always works (it writes DOT text); `render` runs the real
Graphviz ``dot`` program to make SVG, PNG or PDF. Both draw DAGs: anything
else (a genotype or its name, a NAS-Bench-201 arch string, a JSON file, a
NAS-Bench-101 spec) is first read by `graphnas.as_dag`, which hands it to
the one parser of its format, so a string that ``compile`` refuses is refused
here with the same `graphnas.GraphError`. Three drawings, picked from
the DAG:

- **cells** whose ops sit between state nodes (DARTS and NAS-Bench-201 cells in
  graphnas' node form) are drawn the way the DARTS paper draws them: inputs
  c(k-2), c(k-1) and output c(k), written with Graphviz subscripts (HTML-like
  labels ``c<SUB>k-1</SUB>``), numbered intermediate states, and the ops as
  coloured, labelled edges;
- **networks** (a DAG whose nodes hold nested DAGs) are drawn with every nested
  DAG as a boxed cluster (stages holding cells holding ops), captioned with what
  it is and its number of nodes (for a DARTS-style cell: how many are drawn as
  state boxes and how many as labelled edges). A genotype is its cell-pair DAG:
  the normal and the reduction cell as two such clusters, wired as DARTS wires
  cells k-2 and k-1;
- **any other DAG** is drawn with one box per node labelled by its op. Graphs
  of more than ``compact_above`` nodes (a 32-node RandWire graph) get small round
  nodes showing their index, so the wiring stays readable; the colour says the op.

Colours follow the op family (convolution, separable convolution, dilated
convolution, pooling, skip, zero, ...), and a legend lists the families and
ops present.

**Example**

```python
>>> from graphnas import DAG
>>> g = DAG(["input", "nor_conv_3x3", "avg_pool_3x3", "identity"], [(0, 1), (0, 2), (1, 3), (2, 3)])
>>> to_dot(g).splitlines()[0]
'digraph graphnas {'

```
"""

from __future__ import annotations

import html
import logging
import numbers
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphnas.dag import DAG, Node

__all__ = [
    "FAMILIES",
    "GraphvizNotFoundError",
    "RenderError",
    "TooSmallToReadWarning",
    "dot_available",
    "op_family",
    "render",
    "repr_mimebundle",
    "repr_svg",
    "to_dot",
]

log = logging.getLogger(__name__)

#: Op families, in the order the legend lists them: name, fill colour, line colour.
#: `op_family` maps an op name to one of them.
FAMILIES: dict[str, tuple[str, str]] = {
    "input/output": ("#fff2b3", "#b8860b"),
    "convolution": ("#a6cee3", "#1f78b4"),
    "separable conv": ("#b2df8a", "#33a02c"),
    "dilated conv": ("#cab2d6", "#6a3d9a"),
    "pooling": ("#fdbf6f", "#e66101"),
    "skip": ("#e0e0e0", "#525252"),
    "zero": ("#ffffff", "#9e9e9e"),
    "merge": ("#ffffff", "#000000"),
    "normalisation": ("#f4cae4", "#b2182b"),
    "linear": ("#fb9a99", "#e31a1c"),
    "cell": ("#f7f7f7", "#404040"),
    "other": ("#ffffff", "#000000"),
}

# (pattern, family), first match wins; matched against the lower-cased op name.
_FAMILY_RULES: tuple[tuple[str, str], ...] = (
    (r"^(input|output)$", "input/output"),
    (r"^(none|zero)$", "zero"),
    (r"^identity$", "merge"),
    (r"(skip|identity)", "skip"),
    (r"dil", "dilated conv"),
    (r"(sep|randwire|depthwise)", "separable conv"),
    (r"pool", "pooling"),
    (r"(conv|stem|factorized|reduce|downsample)", "convolution"),
    (r"(linear|fc|classifier|dense)", "linear"),
    (r"(bn|batchnorm|norm|relu)", "normalisation"),
)

_COMBINE_SYMBOL = {"sum": "+", "weighted_sum": "Σw", "concat": "concat", "mean": "mean"}

#: Formats that need the ``dot`` program; ``dot``/``gv`` write the DOT source.
RENDER_FORMATS = ("svg", "png", "pdf")
SOURCE_FORMATS = ("dot", "gv")

_INSTALL_HINT = ("the Graphviz 'dot' program was not found on PATH; install Graphviz (Debian/Ubuntu: "
                 "'sudo apt-get install graphviz', macOS: 'brew install graphviz', conda: 'conda install -c "
                 "conda-forge graphviz'), or write DOT source with graphnas.to_dot(obj)")


class RenderError(RuntimeError):
    """Rendering failed: Graphviz is missing, refused the drawing, or the format is unknown."""


class GraphvizNotFoundError(RenderError):
    """The Graphviz ``dot`` program is not installed; the message says how to install it."""


def op_family(op: str | DAG) -> str:
    """The family of an op name (a key of `FAMILIES`); a nested DAG is a ``"cell"``."""
    if isinstance(op, DAG):
        return "cell"
    name = op.lower()
    for pattern, family in _FAMILY_RULES:
        if re.search(pattern, name):
            return family
    return "other"


def dot_available() -> bool:
    """True where the Graphviz ``dot`` program is on PATH."""
    return shutil.which("dot") is not None


# --------------------------------------------------------------------------- cells as states + labelled edges


@dataclass
class _Cell:
    """A cell in the DARTS drawing: states joined by labelled edges (``op`` None: a plain arrow)."""

    n_states: int
    inputs: list[int]
    output: int
    edges: list[tuple[int, int, str | None, Mapping[str, Any]]] = field(default_factory=list)
    output_combine: str = "sum"


def _as_cell(dag: DAG) -> _Cell | None:
    """The DARTS-style view of a node-form cell, or None where the DAG is not of that shape.

    A node-form cell has state nodes (inputs and ``identity`` merges) and op
    nodes with exactly one state before and one state after (the form
    `graphnas.from_edge_ops` makes).
    """
    nodes = dag.nodes
    states = [i for i, n in enumerate(nodes) if i in dag.inputs or (n.op == "identity" and not n.params)]
    state_set = set(states)
    ops = [i for i in range(len(nodes)) if i not in state_set]
    if not ops or len(dag.outputs) != 1 or dag.outputs[0] not in state_set:
        return None
    for i in ops:
        node = nodes[i]
        preds, succs = dag.predecessors(i), dag.successors(i)
        if (node.is_nested or len(preds) != 1 or len(succs) != 1 or preds[0] not in state_set
                or succs[0] not in state_set):
            return None
    index = {node_i: k for k, node_i in enumerate(states)}
    cell = _Cell(n_states=len(states), inputs=[index[i] for i in dag.inputs], output=index[dag.outputs[0]],
                 output_combine=nodes[dag.outputs[0]].combine)
    for i in ops:
        (p,), (s,) = dag.predecessors(i), dag.successors(i)
        op = nodes[i].op
        assert isinstance(op, str)
        cell.edges.append((index[p], index[s], op, nodes[i].params))
    for s, d in dag.edges:
        if s in state_set and d in state_set:
            cell.edges.append((index[s], index[d], None, {}))
    return cell


def _repeated_runs(dag: DAG) -> dict[int, tuple[int, list[int]]]:
    """Runs of nested nodes holding equal DAGs, one after another (stacked cells): first node -> (count,
    the later members and the nodes between them).

    Two nested nodes ``a < b`` with equal DAGs are in one run when every node between them feeds ``b``
    and nothing else (the preprocessing of ``b``'s inputs, as DARTS' networks have) and is no output; a
    block of its own between two cells (a reduction, an auxiliary head) ends the run.
    """
    nested = [i for i, n in enumerate(dag.nodes) if n.is_nested and i not in dag.inputs]
    outputs = set(dag.outputs)
    runs: dict[int, tuple[int, list[int]]] = {}
    k = 0
    while k < len(nested):
        first, members, count = nested[k], [], 1
        while k + 1 < len(nested):
            a, b = nested[k], nested[k + 1]
            between = range(a + 1, b)
            if dag.nodes[a].op != dag.nodes[b].op or any(
                    j in outputs or set(dag.successors(j)) != {b} for j in between):
                break
            members += [*between, b]
            count += 1
            k += 1
        if count > 1:
            runs[first] = (count, members)
        k += 1
    return runs


# --------------------------------------------------------------------------- DOT writer


def _q(text: str) -> str:
    """A double-quoted DOT string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _sub(base: str, index: str) -> str:
    """An HTML-like DOT label ``base`` with subscript ``index``: Graphviz draws c<sub>k-1</sub>, no braces."""
    return f"<{html.escape(base)}<SUB>{html.escape(index)}</SUB>>"


def _param_text(params: Mapping[str, Any]) -> str:
    if not params:
        return ""
    parts = []
    for k, v in params.items():
        if isinstance(v, (list, tuple)):
            v = "x".join(str(x) for x in v)
        parts.append(f"{k}={v}")
    text = ", ".join(parts)
    return text if len(text) <= 28 else text[:27] + "…"


class _Writer:
    """Accumulates DOT statements; ``used`` records the ops drawn in each family for the legend."""

    def __init__(self, *, compact_above: int, expand: bool | int | None) -> None:
        self.lines: list[str] = []
        self.used: dict[str, set[str]] = {}
        self.edge_families: set[str] = set()
        self.compact_above = compact_above
        # expand: None/False collapse repeated cells; True draws all; an int n draws n levels in full
        self.collapse = expand is None or expand is False
        self.depth = None if expand is None or isinstance(expand, bool) else expand
        self.clusters = 0
        self.compact = False  # some graph was drawn with small round nodes
        self.drawn: dict[DAG, str] = {}  # nested DAGs drawn in full so far -> where ("node 3")
        self.edges: set[tuple[str, str]] = set()

    def note(self, family: str, op: str) -> None:
        self.used.setdefault(family, set()).add(op)

    def add(self, line: str, indent: int) -> None:
        self.lines.append("  " * indent + line)

    def edge(self, src: str, dst: str, indent: int) -> None:
        """A plain arrow, drawn once however many hidden (collapsed) nodes stand behind it."""
        if (src, dst) not in self.edges:
            self.edges.add((src, dst))
            self.add(f"{_q(src)} -> {_q(dst)};", indent)

    # -- a cell, DARTS style ----------------------------------------------------------

    def cell(self, cell: _Cell, prefix: str, indent: int) -> tuple[list[str], list[str]]:
        n_in = len(cell.inputs)
        labels: dict[int, str] = {}  # DOT label values: HTML-like (<...>) for subscripts, else quoted
        if n_in == 1:
            labels[cell.inputs[0]] = _sub("c", "k-1")
        elif n_in == 2:
            labels[cell.inputs[0]], labels[cell.inputs[1]] = _sub("c", "k-2"), _sub("c", "k-1")
        else:
            for k, i in enumerate(cell.inputs):
                labels[i] = _sub("in", str(k))
        labels[cell.output] = _sub("c", "k")
        counter = 0
        for i in range(cell.n_states):
            if i not in labels:
                labels[i] = _q(str(counter))
                counter += 1
        fill_io, line_io = FAMILIES["input/output"]
        for i in range(cell.n_states):
            nid = _q(f"{prefix}s{i}")
            if i in cell.inputs or i == cell.output:
                style = f'shape=box, style="rounded,filled", fillcolor="{fill_io}", color="{line_io}"'
            else:
                style = 'shape=box, style="rounded,filled", fillcolor="#deebf7", color="#3182bd"'
            self.add(f"{nid} [label={labels[i]}, {style}];", indent)
        self.add("{rank=same; " + " ".join(_q(f"{prefix}s{i}") for i in cell.inputs) + "}", indent)
        for s, d, op, params in cell.edges:
            src, dst = _q(f"{prefix}s{s}"), _q(f"{prefix}s{d}")
            if op is None or op == "identity":
                style = 'color="#555555"'
                if d == cell.output and cell.output_combine == "concat":
                    style += ", style=dashed"
                self.add(f"{src} -> {dst} [{style}];", indent)
                continue
            family = op_family(op)
            self.note(family, op)
            self.edge_families.add(family)
            colour = FAMILIES[family][1]
            label = op + (f"\n({_param_text(params)})" if params else "")
            if op == "choice":  # a supernet's decision point: its key and candidates, one per line
                label = f"choice {params.get('key')}\n" + "\n".join(params.get("candidates") or ())
            extra = ", style=dotted" if family == "zero" else ", penwidth=1.6"
            self.add(f'{src} -> {dst} [label={_q(label)}, color="{colour}", fontcolor="{colour}"{extra}];',
                     indent)
        return [f"{prefix}s{i}" for i in cell.inputs], [f"{prefix}s{cell.output}"]

    # -- any DAG ------------------------------------------------------------------------

    def dag(self, dag: DAG, prefix: str, indent: int, depth: int) -> tuple[list[str], list[str]]:
        """Emit ``dag``; returns the DOT ids standing for its inputs and its outputs."""
        cell = _as_cell(dag)
        if cell is not None:
            return self.cell(cell, prefix, indent)
        compact = len(dag) > self.compact_above and not any(n.is_nested for n in dag.nodes)
        self.compact = self.compact or compact
        runs = _repeated_runs(dag) if self.collapse else {}
        hidden = {j: first for first, (_, members) in runs.items() for j in members if j != first}
        entry: dict[int, str] = {}
        exit_: dict[int, str] = {}
        for i, node in enumerate(dag.nodes):
            nid = f"{prefix}n{i}"
            if i in hidden:  # a repeat: arrows out of it leave the run's drawing instead
                entry[i] = exit_[i] = exit_[hidden[i]]
                continue
            inner = node.op
            full = self.depth is None or depth < self.depth
            if isinstance(inner, DAG) and full and i not in dag.inputs and not (self.collapse and inner in self.drawn):
                self.clusters += 1
                name, detail = self._nested_title(inner)
                title = str(node.params.get("name", name))
                if i in runs:
                    count, members = runs[i]
                    title = f"{count} × {title}"
                    detail = f"nodes {i}–{max(members)}, {count} repeats drawn once; each: {detail}"
                else:
                    detail = f"node {i}: {detail}"
                self.drawn.setdefault(inner, f"node {i}")
                label = f'<{html.escape(title)}<BR/><FONT POINT-SIZE="9">{html.escape(detail)}</FONT>>'
                self.add(f"subgraph {_q(f'cluster_{prefix}{i}')} {{", indent)
                self.add(f'label={label}; labelloc=t; fontsize=12; style="rounded"; color="#808080"; '
                         'fontcolor="#404040";', indent + 1)
                ins, outs = self.dag(inner, f"{nid}_", indent + 1, depth + 1)
                self.add("}", indent)
                preds = dag.predecessors(i)
                if len(ins) > 1:
                    for p, target in zip(preds, ins, strict=False):
                        self.edge(exit_[p], target, indent)
                else:
                    for p in preds:
                        self.edge(exit_[p], ins[0], indent)
                entry[i] = ins[0]
                if len(outs) == 1:
                    exit_[i] = outs[0]
                else:  # several outputs are concatenated
                    exit_[i] = f"{nid}_cat"
                    self.add(f'{_q(exit_[i])} [label="concat", shape=circle, fontsize=10, width=0.3];', indent)
                    for o in outs:
                        self.edge(o, exit_[i], indent)
                continue
            entry[i] = exit_[i] = nid
            self.add(f"{_q(nid)} [{self._node_attrs(dag, i, node, compact, runs.get(i))}];", indent)
            for p in dag.predecessors(i):
                self.edge(exit_[p], nid, indent)
        return [entry[i] for i in dag.inputs], [exit_[o] for o in dag.outputs]

    @staticmethod
    def _nested_title(inner: DAG) -> tuple[str, str]:
        """What a nested DAG is (``"normal cell"``, ``"stage of 2 cells"``, ...) and what its drawing shows.

        The count is always the nested DAG's own number of nodes; where the drawing shows fewer
        boxes (a DARTS-style cell draws its op nodes as edges), the detail says how they are shown.
        """
        nested = sum(n.is_nested for n in inner.nodes)
        if nested:
            return f"stage of {nested} cell{'s' if nested != 1 else ''}", f"{len(inner)} nodes"
        cell = _as_cell(inner)
        if cell is None:
            return "cell", f"{len(inner)} nodes"
        n_ops = sum(op is not None for _, _, op, _ in cell.edges)
        name = "cell"
        if len(cell.inputs) == 2:  # a DARTS-style cell; stride-2 ops on its inputs make it a reduction cell
            reads_input = [params for s, _, op, params in cell.edges if op is not None and s in cell.inputs]
            name = "reduction cell" if any(p.get("stride") == 2 for p in reads_input) else "normal cell"
        return name, (f"{len(inner)} nodes: {cell.n_states} states (boxes), "
                      f"{n_ops} ops (labelled edges)")

    def _node_attrs(self, dag: DAG, i: int, node: Node, compact: bool,
                    run: tuple[int, list[int]] | None = None) -> str:
        op = node.op
        if isinstance(op, DAG):  # a nested DAG beyond the expansion depth, or one drawn already
            self.note("cell", "nested DAG")
            fill, line = FAMILIES["cell"]
            name, detail = self._nested_title(op)
            name = str(node.params.get("name", name))
            where = self.drawn.get(op) if self.collapse else None
            if run is not None:
                text = f"{run[0]} × {name}: nodes {i}–{max(run[1])}" + "\n" + (
                    f"as drawn at {where}" if where else detail)
            else:
                text = f"{i}: {name}" + "\n" + (f"as drawn at {where}" if where else detail)
            return (f'label={_q(text)}, shape=box3d, style=filled, '
                    f'fillcolor="{fill}", color="{line}"')
        is_port = i in dag.inputs or i in dag.outputs
        if op == "identity" and not is_port:
            symbol = _COMBINE_SYMBOL[node.combine]
            self.note("merge", f"identity ({node.combine})")
            if compact:
                return f'label={_q(symbol)}, shape=circle, width=0.25, fixedsize=true, fontsize=9'
            return f'label={_q(symbol)}, shape=circle, fontsize=10, width=0.3'
        family = "input/output" if is_port and op in ("input", "identity") else op_family(op)
        self.note(family, op)
        fill, line = FAMILIES[family]
        if compact:
            label = ("in" if i in dag.inputs else "out") if is_port else str(i)
            return (f'label={_q(label)}, shape=circle, style=filled, fillcolor="{fill}", color="{line}", '
                    f"width=0.32, fixedsize=true, fontsize=9, tooltip={_q(f'{i}: {op}')}")
        if is_port and op in ("input", "identity"):
            label = ("input" if i in dag.inputs else "output")
            if len(dag.inputs if i in dag.inputs else dag.outputs) > 1:
                pos = (dag.inputs if i in dag.inputs else dag.outputs).index(i)
                label += f" {pos}"
            if i in dag.outputs and op == "identity" and dag.in_degree(i) > 1:
                label += f" ({_COMBINE_SYMBOL[node.combine]})"
        else:
            label = op
            if node.params:
                label += "\n" + _param_text(node.params)
            if node.combine != "sum" and dag.in_degree(i) > 1:
                label += f"\n[{_COMBINE_SYMBOL[node.combine]}]"
        return f'label={_q(label)}, shape=box, style="rounded,filled", fillcolor="{fill}", color="{line}"'

    # -- legend -------------------------------------------------------------------------

    def legend(self) -> str | None:
        """The legend as an HTML-like table (the graph's label, under the drawing); None when empty."""
        rows = []
        for family in FAMILIES:
            if family not in self.used or family in ("input/output",):
                continue
            fill, line = FAMILIES[family]
            ops = ", ".join(sorted(self.used[family]))
            if len(ops) > 60:
                ops = ops[:59] + "…"
            if family in self.edge_families:
                swatch = f'<TD WIDTH="28" BGCOLOR="{line}"></TD>'
            else:
                swatch = f'<TD WIDTH="28" BGCOLOR="{fill}" COLOR="{line}" BORDER="1"></TD>'
            rows.append(f'<TR>{swatch}<TD ALIGN="LEFT"><B>{html.escape(family)}</B></TD>'
                        f'<TD ALIGN="LEFT">{html.escape(ops)}</TD></TR>')
        if not rows:
            return None
        return ('<TABLE BORDER="1" STYLE="rounded" COLOR="#999999" CELLBORDER="0" CELLSPACING="3" '
                'CELLPADDING="2">' + "".join(rows) + "</TABLE>")


#: Below this many nodes (nested DAGs flattened) ``legend=None`` leaves the legend out: each op is labelled.
TINY = 6
#: The default largest drawing, in CSS pixels (a notebook cell is about 900 px wide).
MAX_WIDTH = 900
MAX_HEIGHT = 1200


def _header(rankdir: str, *, compact: bool, legend: str | None, size: tuple[float, float] | None) -> list[str]:
    spacing = "nodesep=0.15, ranksep=0.3" if compact else "nodesep=0.25, ranksep=0.35"
    attrs = f'rankdir={rankdir}, fontname="Helvetica", {spacing}, newrank=true'
    if size is not None:  # inches: Graphviz draws 72 pt to the inch, and a browser shows 1 pt as 4/3 px
        attrs += f', size="{size[0] / 96:.3f},{size[1] / 96:.3f}"'
    if legend is not None:
        attrs += f", label=<{legend}>, labelloc=b, fontsize=10"
    return ["digraph graphnas {",
            f"  graph [{attrs}];",
            '  node [fontname="Helvetica", fontsize=11, margin="0.08,0.04", height=0.3];',
            '  edge [fontname="Helvetica", fontsize=9, arrowsize=0.6];']


def to_dot(obj: Any, *, rankdir: str | None = None, title: str | None = None, legend: bool | None = None,
           compact_above: int = 16, expand: bool | int | str | None = None, fit: bool = True,
           max_width: float = MAX_WIDTH, max_height: float = MAX_HEIGHT) -> str:
    """The Graphviz DOT source drawing ``obj``; needs no Graphviz installation.

    By default the drawing fits a notebook cell: Graphviz lays it out compactly and scales it down,
    if need be, to ``max_width`` x ``max_height`` CSS pixels (``fit=False``: full size); the legend
    sits under the drawing; stacked copies of a cell are drawn once.

    Args:
        obj: a `graphnas.DAG` (a cell, a random graph or a network of
            nested DAGs), or anything `graphnas.as_dag` reads: a genotype or
            the name of one (case-insensitive), a NAS-Bench-201 arch string, a
            JSON file or text, a NAS-Bench-101 ``(matrix, ops)`` spec.
        rankdir: ``"LR"`` (left to right) or ``"TB"`` (top to bottom). Default:
            LR for a cell, TB for everything else (a genotype's two cells one above the other).
        title: a caption above the drawing.
        legend: ``True`` adds the legend of op families under the drawing, ``False`` leaves it
            out; default: a legend unless the graph has fewer than `TINY` nodes.
        compact_above: graphs with more nodes than this are drawn with small
            round nodes showing their index (colour = op family; hover shows the op).
        expand: how nested DAGs (cells, stages) are drawn. Default (``None`` or ``False``):
            each distinct one in full once; a run of equal ones stacked one after another
            (with the nodes preparing their inputs) is drawn as one, captioned ``6 × normal cell``,
            and a nested DAG drawn already is one box saying where it is drawn. ``True``: every
            nested DAG in full (``"all"`` too, as the CLI's ``--expand all``). An int ``n``: ``n`` levels in
            full, deeper ones as boxes.
        fit: scale the drawing down to ``max_width`` x ``max_height`` where it is larger
            (Graphviz's ``size``); ``False`` gives the natural size.
        max_width: the widest drawing, in CSS pixels (900: a notebook cell).
        max_height: the tallest drawing, in CSS pixels.

    Raises:
        GraphError: ``obj`` is not something graphnas can draw, or its format's
            parser refuses it (the same error as `graphnas.as_dag`).
    """
    if not isinstance(obj, DAG):  # anything else is read by the one parser of its format
        from graphnas.loading import as_dag

        obj = as_dag(obj)
    # a cell reads left to right; a cell pair side by side would be twice as wide: stacked, it fits
    direction = rankdir or ("LR" if _as_cell(obj) is not None else "TB")
    if direction not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'TB', 'RL' or 'BT', got {direction!r}")
    if fit and not (max_width > 0 and max_height > 0):
        raise ValueError(f"max_width and max_height must be positive, got {max_width!r} and {max_height!r}")
    if isinstance(expand, str) and expand.lower() == "all":  # as the CLI spells it (--expand all)
        expand = True
    if not (expand is None or isinstance(expand, bool) or isinstance(expand, numbers.Integral) and expand >= 0):
        raise ValueError(f"expand must be None, True, 'all' or a number of levels >= 0, got {expand!r}")
    if not isinstance(expand, bool) and isinstance(expand, numbers.Integral):
        expand = int(expand)  # a numpy integer too
    writer = _Writer(compact_above=compact_above, expand=expand)
    indent = 1 if title is None else 2
    writer.dag(obj, "", indent, 0)
    if legend is None:
        size = len(obj.flatten()) if any(n.is_nested for n in obj.nodes) else len(obj)
        legend = size >= TINY
    body = writer.lines
    if title is not None:  # a borderless cluster around the drawing carries the title above it
        body = ["  subgraph cluster_title {",
                f"    label={_q(title)}; labelloc=t; fontsize=14; peripheries=0;", *body, "  }"]
    header = _header(direction, compact=writer.compact, legend=writer.legend() if legend else None,
                     size=(max_width, max_height) if fit else None)
    return "\n".join(header + body + ["}"]) + "\n"


# --------------------------------------------------------------------------- running dot


#: The resolution PNGs are drawn at (SVG and PDF are drawn at Graphviz's 72 points to the inch).
PNG_DPI = 150


def _run_dot(source: str, fmt: str, *, dpi: int = PNG_DPI, timeout: float = 120.0,
             svg_too: str | os.PathLike[str] | None = None) -> bytes:
    """``source`` drawn by ``dot`` in ``fmt``; with ``svg_too`` (a file path) the same layout is also written
    there as SVG, in the same run (what `render` reads the scale from for PNG and PDF)."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(_INSTALL_HINT)
    args = [exe]
    if svg_too is not None:  # a -o names the file of the -T before it; the -T left without one goes to stdout
        args += ["-Tsvg", "-o", os.fspath(svg_too)]
    args.append(f"-T{fmt}")
    if fmt == "png":
        args.append(f"-Gdpi={dpi}")
    try:
        proc = subprocess.run(args, input=source.encode("utf-8"), capture_output=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"Graphviz 'dot' took more than {timeout:.0f} s; draw fewer nodes "
                          "(e.g. render(..., expand=1))") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"Graphviz 'dot' failed: {msg[0] if msg else f'exit status {proc.returncode}'}")
    return proc.stdout


def render(obj: Any, path: str | os.PathLike[str] | None = None, format: str | None = None,
           **options: Any) -> Any:
    """Draw ``obj`` with Graphviz; write it to ``path`` or return it.

    ``format`` is ``"svg"``, ``"png"``, ``"pdf"`` (these need the ``dot``
    program) or ``"dot"`` (the source). Default: the suffix of ``path``, else
    SVG. ``options`` go to `to_dot` (``rankdir``, ``title``, ``legend``,
    ``compact_above``, ``expand``).

    Returns:
        the `pathlib.Path` written when ``path`` is given; otherwise the
        SVG or DOT text (``str``) or the PNG/PDF bytes.

    Raises:
        GraphvizNotFoundError: ``dot`` is not installed (one line saying how to
            install it).
        RenderError: unknown format, or Graphviz failed.
    """
    if format is None:
        suffix = Path(path).suffix.lower().lstrip(".") if path is not None else ""
        if suffix and suffix not in RENDER_FORMATS + SOURCE_FORMATS:
            raise RenderError(f"cannot tell the format from the file name {str(path)!r}; use a .svg, .png, .pdf "
                              "or .dot suffix, or give format=")
        format = suffix or "svg"
    fmt = format.lower()
    if fmt not in RENDER_FORMATS + SOURCE_FORMATS:
        raise RenderError(f"unknown format {format!r}; expected one of {', '.join(RENDER_FORMATS + SOURCE_FORMATS)}")
    source = to_dot(obj, **options)
    if fmt in SOURCE_FORMATS:
        data: bytes = source.encode("utf-8")
    elif fmt == "svg" or not options.get("fit", True):  # an SVG says its own scale; full size has none to read
        data = _run_dot(source, fmt)
        if fmt == "svg" and options.get("fit", True):
            _warn_if_unreadable(data, options)
    else:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="graphnas-dot-") as tmp:
            svg = Path(tmp) / "layout.svg"
            data = _run_dot(source, fmt, svg_too=svg)
            # a PNG's SVG is drawn at its dpi, which the scale includes
            _warn_if_unreadable(svg.read_bytes() if svg.exists() else b"", options,
                                per_point=PNG_DPI / 72 if fmt == "png" else 1.0)
    if path is None:
        return data.decode("utf-8") if fmt in ("svg",) + SOURCE_FORMATS else data
    out = Path(path)
    out.write_bytes(data)
    log.debug("wrote %s (%d bytes)", out, len(data))
    return out


#: A drawing fitted to the cell at less than this share of its size has labels too small to read.
LEGIBLE_SCALE = 0.2


def fitted_scale(svg: bytes | str) -> float | None:
    """The scale Graphviz drew an SVG at (1.0 at full size; below 1 where ``fit`` shrank it)."""
    text = svg.decode("utf-8", "replace") if isinstance(svg, bytes) else svg
    found = re.search(r'class="graph" transform="scale\(([0-9.eE+-]+)', text)
    return float(found.group(1)) if found else None


class TooSmallToReadWarning(UserWarning):
    """A drawing fitted to ``max_width`` x ``max_height`` at less than `LEGIBLE_SCALE` of its size."""

    def __init__(self, message: str, scale: float = float("nan")) -> None:
        super().__init__(message)
        self.scale = scale


def _warn_if_unreadable(svg: bytes, options: Mapping[str, Any], per_point: float = 1.0) -> None:
    """Warn where the fitted drawing ``svg`` (drawn at ``per_point`` pixels a point) is below `LEGIBLE_SCALE`."""
    drawn = fitted_scale(svg)
    scale = None if drawn is None else drawn / per_point
    if scale is not None and scale < LEGIBLE_SCALE:
        import warnings

        size = f"{options.get('max_width', MAX_WIDTH):g} x {options.get('max_height', MAX_HEIGHT):g} px"
        warnings.warn(TooSmallToReadWarning(
            f"the drawing was shrunk to {scale:.0%} of its size to fit {size}, too small to read: "
            "render(..., fit=False) (graphnas render --full-size) draws it at full size, or draw fewer nodes "
            "(expand=1 for a network of cells)", scale), stacklevel=3)


# --------------------------------------------------------------------------- Jupyter


def repr_svg(dag: DAG, *, max_nodes: int = 2000) -> str | None:
    """SVG for Jupyter's ``_repr_svg_``; None (plain text is shown) without ``dot`` or beyond ``max_nodes``."""
    size = len(dag.flatten()) if any(n.is_nested for n in dag.nodes) else len(dag)
    if size > max_nodes or not dot_available():
        return None
    try:
        return _run_dot(to_dot(dag), "svg").decode("utf-8")
    except RenderError as err:  # a notebook falls back to the text repr rather than raising
        log.warning("could not draw the DAG: %s", err)
        return None


def repr_mimebundle(dag: DAG, include: Iterable[str] | None = None,
                    exclude: Iterable[str] | None = None) -> dict[str, str]:
    """Jupyter's ``_repr_mimebundle_``: the SVG drawing (where ``dot`` runs) and the plain-text repr."""
    bundle = {"text/plain": repr(dag)}
    wanted: Sequence[str] | None = list(include) if include is not None else None
    skip = set(exclude or ())
    if (wanted is None or "image/svg+xml" in wanted) and "image/svg+xml" not in skip:
        svg = repr_svg(dag)
        if svg is not None:
            bundle["image/svg+xml"] = svg
    return bundle
