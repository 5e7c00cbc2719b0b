"""Show anything graphnas can draw in one line: `show` (a picture inline in a notebook) and `show_code`.

```python
import graphnas
from graphnas.genotypes import DARTS_V2

graphnas.show(DARTS_V2)                 # a genotype: its normal and reduction cell
graphnas.show("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|")
model = graphnas.to_torch(graphnas.as_dag("darts_v2"), [8, 8])
graphnas.show(model)                    # a compiled module: the graph of modules it runs
graphnas.show_code(model)               # its generated forward(), highlighted
```

`show` reads its argument with `graphnas.as_dag` (the one parser of each format: genotypes and
their names, NAS-Bench-201 arch strings, JSON files, NAS-Bench-101 specs), or takes a compiled
``torch.fx.GraphModule`` (what `graphnas.to_torch` returns) and draws the modules it calls. It
returns a `Drawing`, which a notebook shows as an inline SVG picture, fitted to the cell by
default (options go to `graphnas.converters.dot.to_dot`: ``fit=False`` for the full size,
``expand=True`` to draw every cell of a network, ``legend=False``, ``rankdir``, ...). A
`graphnas.DAG` shows itself the same way, without `show`.

Nothing here is imported by ``import graphnas``: the module loads when ``graphnas.show`` is first
used, and torch only when a compiled module is shown.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from graphnas.dag import DAG, Node

__all__ = ["Code", "Drawing", "module_dag", "show", "show_code"]


class Drawing:
    """An SVG picture that Jupyter shows inline (``_repr_svg_``); `svg` is its text.

    Args:
        svg: the SVG document, as Graphviz wrote it.
    """

    def __init__(self, svg: str) -> None:
        self.svg = svg

    @property
    def size(self) -> tuple[float, float]:
        """Width and height in CSS pixels (Graphviz writes points; a browser shows 1 pt as 4/3 px)."""
        match = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', self.svg)
        if match is None:
            raise ValueError("the SVG gives no width and height in points")
        return float(match.group(1)) * 4 / 3, float(match.group(2)) * 4 / 3

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str | Path) -> Path:
        """Write the SVG to ``path``; returns the path."""
        out = Path(path)
        out.write_text(self.svg, encoding="utf-8")
        return out

    def __repr__(self) -> str:
        width, height = self.size
        return f"<Drawing: SVG {width:.0f} x {height:.0f} px>"


def _is_graph_module(obj: Any) -> bool:
    """A ``torch.fx.GraphModule``, told without importing torch where it is not loaded yet."""
    return hasattr(obj, "graph") and hasattr(obj, "code") and hasattr(obj, "get_submodule")


def module_dag(module: Any) -> DAG:
    """The graph of a compiled ``torch.fx.GraphModule``: a node per input, module call and merge.

    Each submodule call is a node labelled with the module's class and name (``Conv2d`` ...
    ``node_3``); ``add`` is a sum merge, ``torch.cat`` a concat merge; a nested cell's
    ``GraphModule`` is a nested DAG. This is what `show` draws for `graphnas.to_torch`'s output.

    Raises:
        TypeError: ``module`` is not a ``torch.fx.GraphModule``.
    """
    if not _is_graph_module(module):
        raise TypeError(f"expected a torch.fx.GraphModule (what graphnas.to_torch returns), got "
                        f"{type(module).__name__}")
    import operator

    import torch

    from graphnas.converters.torch import check_input

    nodes: list[Node] = []
    edges: list[tuple[int, int]] = []
    index: dict[Any, int] = {}
    inputs: list[int] = []
    outputs: list[int] = []
    for fx_node in module.graph.nodes:
        args = [a for a in _flat(fx_node.args) if a in index]
        if fx_node.op == "output":
            outputs = list(dict.fromkeys(index[a] for a in args))
            continue
        if fx_node.target is check_input:  # the module's check of its input, not a step of the network
            continue
        if fx_node.op != "placeholder" and not args:
            continue  # computed from no input: a parameter (weighted_sum's weights) or a supernet's draws
        if fx_node.op == "placeholder":
            node = Node("input")
            inputs.append(len(nodes))
        elif fx_node.op == "call_module":
            sub = module.get_submodule(fx_node.target)
            if _is_graph_module(sub):
                node = Node(module_dag(sub), {"name": f"{fx_node.target} ({type(sub).__name__})"})
            else:
                node = Node(type(sub).__name__, {"module": str(fx_node.target)})
        elif fx_node.target in (operator.add, torch.add):
            node = Node("identity", combine="sum")
        elif fx_node.target is torch.cat:
            node = Node("identity", combine="concat")
        else:
            node = Node(str(getattr(fx_node.target, "__name__", fx_node.target)))
        index[fx_node] = len(nodes)
        for src in dict.fromkeys(index[a] for a in args):
            edges.append((src, len(nodes)))
        nodes.append(node)
    return DAG(nodes, edges, inputs=inputs, outputs=outputs)


def _flat(args: Any) -> list[Any]:
    """The fx nodes among ``args`` (nested tuples, lists and dicts included), in order."""
    if isinstance(args, (tuple, list)):
        return [x for a in args for x in _flat(a)]
    if isinstance(args, dict):
        return [x for a in args.values() for x in _flat(a)]
    return [args]


def show(obj: Any, **options: Any) -> Drawing:
    """A picture of ``obj`` that a notebook shows inline: ``graphnas.show(DARTS_V2)``.

    Args:
        obj: a `graphnas.DAG`, anything `graphnas.as_dag` reads (a genotype or its name, a
            NAS-Bench-201 arch string, a JSON file or text, a NAS-Bench-101 spec), or a compiled
            ``torch.fx.GraphModule`` (drawn by `module_dag`).
        **options: for `graphnas.converters.dot.to_dot`: ``fit``, ``max_width``, ``max_height``,
            ``expand``, ``legend``, ``rankdir``, ``title``, ``compact_above``.

    Returns:
        a `Drawing`: its ``_repr_svg_`` is the picture; ``.svg`` the text; ``.save(path)`` writes it.

    Raises:
        GraphError: ``obj`` is nothing graphnas can draw (the message of `graphnas.as_dag`).
        GraphvizNotFoundError: the Graphviz ``dot`` program is missing (says how to install it).
    """
    from graphnas.converters.dot import render

    if _is_graph_module(obj):
        obj = module_dag(obj)
    elif not isinstance(obj, DAG):
        from graphnas.loading import as_dag

        obj = as_dag(obj)
    svg = render(obj, format="svg", **options)
    assert isinstance(svg, str)
    return Drawing(svg)


class Code:
    """Python source that a notebook shows highlighted (``_repr_html_`` with Pygments where it is
    installed, else plain; ``_repr_markdown_`` as a fenced block); ``str()`` is the source."""

    def __init__(self, source: str) -> None:
        self.source = source

    def _repr_html_(self) -> str:
        try:
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import PythonLexer
        except ImportError:
            return f"<pre>{html.escape(self.source)}</pre>"
        formatter = HtmlFormatter(noclasses=True, nowrap=False)
        return highlight(self.source, PythonLexer(), formatter)

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.source}\n```"

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return self.source


def show_code(obj: Any) -> Code:
    """The generated code of a compiled module (its ``.code`` from ``def forward`` on), or any Python
    source, highlighted.

    Raises:
        TypeError: ``obj`` is neither a ``torch.fx.GraphModule`` nor a string.
    """
    if _is_graph_module(obj):  # without fx's directives for re-tracing (wrap lines): the forward is what runs
        lines = [ln for ln in str(obj.code).splitlines() if not ln.startswith("torch.fx._symbolic_trace.wrap(")]
        return Code("\n".join(lines).strip("\n") + "\n")
    if isinstance(obj, str):
        return Code(obj)
    raise TypeError(f"expected a compiled module (a torch.fx.GraphModule from graphnas.to_torch) or source "
                    f"text, got {type(obj).__name__}")

