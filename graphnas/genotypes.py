"""Published cell genotypes (DARTS, NASNet, AmoebaNet, ENAS) and their node-form DAGs.

A `Genotype` is exactly DARTS' format: ``normal`` and ``reduce`` are lists
of ``(op, input_index)`` pairs, two per intermediate state; state 0 is the
output of cell k-2, state 1 that of cell k-1, state ``2 + i`` the sum of pair
``2i`` and ``2i + 1``; ``*_concat`` lists the states joined to form the output.

`genotype_to_dag` turns one cell into the node form every graphnas tool
reads: each ``(op, input)`` pair becomes an op node, each state an
``identity``/``sum`` node, the output an ``identity``/``concat`` node.

**Example**

```python
>>> from graphnas.genotypes import DARTS_V2, genotype_to_dag
>>> cell = genotype_to_dag(DARTS_V2, "normal")
>>> len(cell), cell.inputs, cell.nodes[-1].combine
(15, (0, 1), 'concat')

```
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from graphnas.dag import DAG, GraphError, Node

__all__ = [
    "AmoebaNet",
    "DARTS",
    "DARTS_V1",
    "DARTS_V2",
    "ENAS",
    "Genotype",
    "NASNet",
    "PRIMITIVES",
    "PAIR_EDGES",
    "cell_to_blocks",
    "dag_to_genotype",
    "genotype_to_dag",
    "get_genotype",
    "list_genotypes",
    "pair_dag",
    "pair_cells",
]

class Genotype(namedtuple("Genotype", "normal normal_concat reduce reduce_concat")):
    """DARTS' genotype record: lists of ``(op, input_index)`` pairs and the states concatenated into the output.

    A plain named tuple (equal to DARTS' own), except that a notebook shows it as the drawing of its
    cell pair (`genotype_to_dag` with ``cell="pair"``), as `graphnas.show` does.
    """

    __slots__ = ()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from graphnas.converters.dot import repr_mimebundle

        bundle = repr_mimebundle(genotype_to_dag(self, "pair"), include, exclude)
        bundle["text/plain"] = repr(self)
        return bundle

#: The DARTS search space's primitives, in DARTS' order (``none`` is the zero op).
PRIMITIVES: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)

# ----------------------------------------------------------------------------- published cells
# NASNet, AmoebaNet, DARTS_V1 and DARTS_V2 are the values of quark0/darts cnn/genotypes.py
# (commit f276dd3), written out as data.

#: NASNet-A (Zoph et al. 2018) as given in the DARTS repository.
NASNet = Genotype(
    normal=[
        ("sep_conv_5x5", 1), ("sep_conv_3x3", 0),
        ("sep_conv_5x5", 0), ("sep_conv_3x3", 0),
        ("avg_pool_3x3", 1), ("skip_connect", 0),
        ("avg_pool_3x3", 0), ("avg_pool_3x3", 0),
        ("sep_conv_3x3", 1), ("skip_connect", 1),
    ],
    normal_concat=[2, 3, 4, 5, 6],
    reduce=[
        ("sep_conv_5x5", 1), ("sep_conv_7x7", 0),
        ("max_pool_3x3", 1), ("sep_conv_7x7", 0),
        ("avg_pool_3x3", 1), ("sep_conv_5x5", 0),
        ("skip_connect", 3), ("avg_pool_3x3", 2),
        ("sep_conv_3x3", 2), ("max_pool_3x3", 1),
    ],
    reduce_concat=[4, 5, 6],
)

#: AmoebaNet-A (Real et al. 2019) as given in the DARTS repository.
AmoebaNet = Genotype(
    normal=[
        ("avg_pool_3x3", 0), ("max_pool_3x3", 1),
        ("sep_conv_3x3", 0), ("sep_conv_5x5", 2),
        ("sep_conv_3x3", 0), ("avg_pool_3x3", 3),
        ("sep_conv_3x3", 1), ("skip_connect", 1),
        ("skip_connect", 0), ("avg_pool_3x3", 1),
    ],
    normal_concat=[4, 5, 6],
    reduce=[
        ("avg_pool_3x3", 0), ("sep_conv_3x3", 1),
        ("max_pool_3x3", 0), ("sep_conv_7x7", 2),
        ("sep_conv_7x7", 0), ("avg_pool_3x3", 1),
        ("max_pool_3x3", 0), ("max_pool_3x3", 1),
        ("conv_7x1_1x7", 0), ("sep_conv_3x3", 5),
    ],
    reduce_concat=[3, 4, 6],
)

#: DARTS (first order), Liu et al. 2019.
DARTS_V1 = Genotype(
    normal=[("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1),
            ("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 2)],
    normal_concat=[2, 3, 4, 5],
    reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 0),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("avg_pool_3x3", 0)],
    reduce_concat=[2, 3, 4, 5],
)

#: DARTS (second order), the cell reported in the paper; ``DARTS`` names it, as in the DARTS repository.
DARTS_V2 = Genotype(
    normal=[("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)],
    normal_concat=[2, 3, 4, 5],
    reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)],
    reduce_concat=[2, 3, 4, 5],
)

DARTS = DARTS_V2

#: ENAS micro CIFAR-10 cells (Pham et al. 2018), decoded from the ``fixed_arc`` of the authors'
#: ``scripts/cifar10_micro_final.sh`` in melodyguan/enas:
#: normal ``0 2 0 0 0 4 0 1 0 4 1 1 1 0 0 1 0 2 1 1``, reduce ``1 0 1 0 0 3 0 2 1 1 3 1 1 0 0 4 0 3 1 1``
#: (per block: input x, op x, input y, op y; ops 0..4 = sep_conv_3x3, sep_conv_5x5, avg_pool_3x3,
#: max_pool_3x3, identity). ENAS concatenates the states no block reads; ENAS' separable conv
#: (ReLU-sepconv-BN twice) and its strided identity (factorized reduction) are DARTS' ``sep_conv_*`` and
#: ``skip_connect``, so the names are shared.
ENAS = Genotype(
    normal=[
        ("avg_pool_3x3", 0), ("sep_conv_3x3", 0),
        ("skip_connect", 0), ("sep_conv_5x5", 0),
        ("skip_connect", 0), ("sep_conv_5x5", 1),
        ("sep_conv_3x3", 1), ("sep_conv_5x5", 0),
        ("avg_pool_3x3", 0), ("sep_conv_5x5", 1),
    ],
    normal_concat=[2, 3, 4, 5, 6],
    reduce=[
        ("sep_conv_3x3", 1), ("sep_conv_3x3", 1),
        ("max_pool_3x3", 0), ("avg_pool_3x3", 0),
        ("sep_conv_5x5", 1), ("sep_conv_5x5", 3),
        ("sep_conv_3x3", 1), ("skip_connect", 0),
        ("max_pool_3x3", 0), ("sep_conv_5x5", 1),
    ],
    reduce_concat=[2, 4, 5, 6],
)

#: The published genotypes by name (``DARTS`` is ``DARTS_V2``).
_PUBLISHED: dict[str, Genotype] = {"AmoebaNet": AmoebaNet, "DARTS": DARTS, "DARTS_V1": DARTS_V1,
                                   "DARTS_V2": DARTS_V2, "ENAS": ENAS, "NASNet": NASNet}


def list_genotypes() -> list[str]:
    """The names of the published genotypes `get_genotype` knows, sorted."""
    return sorted(_PUBLISHED)


def get_genotype(name: str) -> Genotype:
    """A published genotype by name, case-insensitively: ``get_genotype("darts_v2") is DARTS_V2``.

    Raises GraphError for an unknown name, suggesting the closest known ones.
    """
    if not isinstance(name, str):
        raise GraphError(f"a genotype name must be a str, got {type(name).__name__}")
    by_lower = {k.lower(): v for k, v in _PUBLISHED.items()}
    found = by_lower.get(name.strip().lower())
    if found is not None:
        return found
    from graphnas.registry import closest_names

    close = closest_names(name.strip(), _PUBLISHED)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise GraphError(f"no genotype named {name!r}{hint} (known: {', '.join(list_genotypes())})")


# ----------------------------------------------------------------------------- node form

#: One block of a cell: (input_a, op_a, input_b, op_b, combine of the new state).
Block = tuple[int, str, int, str, str]


def _blocks_from_pairs(pairs: Sequence[Any], which: str) -> list[Block]:
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise GraphError(f"{which} cell: expected a list of (op, input) pairs, got {type(pairs).__name__}")
    pairs = list(pairs)
    if len(pairs) % 2:
        raise GraphError(f"{which} cell: {len(pairs)} (op, input) pairs; expected two per intermediate state")
    blocks: list[Block] = []
    for k in range(0, len(pairs), 2):
        ins: list[int] = []
        ops: list[str] = []
        for j in (k, k + 1):
            try:
                op, inp = pairs[j]
            except (TypeError, ValueError):
                raise GraphError(f"{which} cell, pair {j}: expected (op, input_index), got {pairs[j]!r}") from None
            if not isinstance(op, str) or not op:
                raise GraphError(f"{which} cell, pair {j}: op must be a non-empty string, got {op!r}")
            if not isinstance(inp, int) or isinstance(inp, bool) or not 0 <= inp < k // 2 + 2:
                raise GraphError(f"{which} cell, pair {j} ({op!r}, {inp!r}): state {k // 2 + 2} may read "
                                 f"states 0..{k // 2 + 1} only")
            ins.append(inp)
            ops.append(op)
        blocks.append((ins[0], ops[0], ins[1], ops[1], "sum"))
    return blocks


def _pairs_from_blocks(blocks: Sequence[Block]) -> list[tuple[str, int]]:
    """The ``(op, input)`` pairs of a Genotype cell, two per block (inverse of `_blocks_from_pairs`)."""
    return [p for b in blocks for p in ((b[1], b[0]), (b[3], b[2]))]


def blocks_to_cell(blocks: Sequence[Block], concat: Sequence[int], *, reduce: bool = False,
                   which: str = "cell") -> DAG:
    """Build a node-form cell from blocks ``(in_a, op_a, in_b, op_b, combine)`` and the output's states.

    Layout (what `cell_to_blocks` reads back): inputs 0 and 1; per block two op
    nodes then the state node; one ``skip_connect`` node per input listed in
    ``concat`` (stride 2 in a reduction cell, so shapes meet); the ``identity``/
    ``concat`` output last. In a reduction cell every op reading an input has
    ``params={"stride": 2}``.
    """
    try:
        concat = list(concat)
    except TypeError:
        raise GraphError(f"{which} cell: concat must be a list of state indices, got {type(concat).__name__}") \
            from None
    n_states = len(blocks) + 2
    for c in concat:
        if not isinstance(c, int) or isinstance(c, bool):
            raise GraphError(f"{which} cell: concat {concat!r} holds {c!r}, which is not a state index")
    if not concat:
        raise GraphError(f"{which} cell: the concat list is empty; the output needs at least one state")
    if sorted(set(concat)) != concat:
        raise GraphError(f"{which} cell: concat {concat} must list distinct states in increasing order "
                         "(the output joins them in index order)")
    if concat[0] < 0 or concat[-1] >= n_states:
        raise GraphError(f"{which} cell: concat {concat} names a state outside 0..{n_states - 1}")
    nodes: list[Node] = [Node("input"), Node("input")]
    edges: list[tuple[int, int]] = []
    where = {0: 0, 1: 1}
    read: set[int] = set()
    for b, (ia, oa, ib, ob, combine) in enumerate(blocks):
        ops_at = []
        for inp, op in ((ia, oa), (ib, ob)):
            if not 0 <= inp < b + 2:
                raise GraphError(f"{which} cell, block {b}: input {inp} does not exist yet "
                                 f"(state {b + 2} may read states 0..{b + 1})")
            read.add(inp)
            ops_at.append(len(nodes))
            edges.append((where[inp], len(nodes)))
            nodes.append(Node(op, {"stride": 2} if reduce and inp < 2 else None))
        where[b + 2] = len(nodes)
        edges += [(i, len(nodes)) for i in ops_at]
        nodes.append(Node("identity", combine=combine))
    for i in (0, 1):
        if i not in read and i not in concat:
            raise GraphError(f"{which} cell: no op reads input {i} ({'c_{k-2}' if i == 0 else 'c_{k-1}'}) and "
                             "the output does not take it; every input must feed the output")
    for s in range(2, n_states):
        if s not in read and s not in concat:
            raise GraphError(f"{which} cell: state {s} is neither read by a later state nor in the concat "
                             "list, so it would have no path to the output")
    sources = []
    for s in concat:
        if s < 2:  # an input joined to the output directly, as ENAS does with an unused input
            sources.append(len(nodes))
            edges.append((s, len(nodes)))
            nodes.append(Node("skip_connect", {"stride": 2} if reduce else None))
        else:
            sources.append(where[s])
    edges += [(s, len(nodes)) for s in sources]
    nodes.append(Node("identity", combine="concat"))
    return DAG(nodes, edges, inputs=[0, 1], outputs=[len(nodes) - 1])


#: The edges of a cell-pair DAG (DARTS' wiring: a cell reads the outputs of cells k-2 and k-1), sorted as
#: ``DAG.edges`` keeps them: inputs 0 and 1, the normal cell at node 2 reading (0, 1), the reduction cell at
#: node 3 reading (1, 2) and giving the output.
PAIR_EDGES: tuple[tuple[int, int], ...] = ((0, 2), (1, 2), (1, 3), (2, 3))


def pair_dag(normal: DAG, reduce: DAG) -> DAG:
    """The cell-pair DAG holding a normal and a reduction cell, wired as `PAIR_EDGES` says.

    This is how one DAG carries a whole genotype (the members of the ``darts`` and
    ``enas`` spaces are such DAGs):

    ```python
    0 input (c_{k-2}) ─┬─► 2 normal cell ─► 3 reduction cell   output: 3
    1 input (c_{k-1}) ─┴────────────────────┘
    ```
    """
    return DAG([Node("input"), Node("input"), Node(normal), Node(reduce)], PAIR_EDGES, inputs=(0, 1),
               outputs=(3,))


def pair_cells(dag: DAG) -> tuple[DAG, DAG]:
    """The (normal, reduce) cells of a cell-pair DAG (inverse of `pair_dag`); GraphError if it is not one."""
    if not isinstance(dag, DAG):
        raise GraphError(f"expected a DAG, got {type(dag).__name__}")
    if len(dag) != 4 or dag.edges != PAIR_EDGES or dag.inputs != (0, 1) or dag.outputs != (3,):
        raise GraphError("not a cell-pair DAG: expected inputs 0 and 1, the normal cell at node 2 reading (0, 1) "
                         "and the reduction cell at node 3 reading (1, 2)")
    if dag.nodes[0] != Node("input") or dag.nodes[1] != Node("input"):
        raise GraphError("not a cell-pair DAG: nodes 0 and 1 must be Node('input')")
    cells = []
    for i, which in ((2, "normal"), (3, "reduce")):
        node = dag.nodes[i]
        if not isinstance(node.op, DAG) or node.params or node.combine != "sum":
            raise GraphError(f"node {i}: the {which} cell must be a plain nested DAG")
        cells.append(node.op)
    return cells[0], cells[1]


def genotype_to_dag(genotype: Genotype, cell: str = "normal") -> DAG:
    """The node-form DAG of one cell of a DARTS-style genotype, or of both.

    ``cell`` is ``"normal"`` or ``"reduce"``: two inputs (c_{k-2}, c_{k-1}), an
    op node per ``(op, input)`` pair, an ``identity``/``sum`` node per state and an
    ``identity``/``concat`` output over the ``*_concat`` states. Ops of the
    reduction cell that read an input carry ``{"stride": 2}``. ``cell="pair"``
    gives the whole genotype as one DAG: both cells in the cell-pair DAG of
    `pair_dag` (what `graphnas.as_dag` makes of a genotype).
    """
    if cell not in ("normal", "reduce", "pair"):
        raise GraphError(f"cell must be 'normal', 'reduce' or 'pair', got {cell!r}")
    if not isinstance(genotype, tuple) or not hasattr(genotype, "normal"):
        raise GraphError(f"expected a Genotype, got {type(genotype).__name__}")
    if cell == "pair":
        return pair_dag(genotype_to_dag(genotype, "normal"), genotype_to_dag(genotype, "reduce"))
    pairs = genotype.normal if cell == "normal" else genotype.reduce
    concat = genotype.normal_concat if cell == "normal" else genotype.reduce_concat
    return blocks_to_cell(_blocks_from_pairs(pairs, cell), concat, reduce=cell == "reduce", which=cell)


def cell_to_blocks(dag: DAG) -> tuple[list[Block], list[int], bool]:
    """Read a cell made by `blocks_to_cell` back: ``(blocks, concat, reduce)``.

    Raises GraphError naming the node where the DAG departs from that layout.
    """
    nodes = dag.nodes
    n = len(nodes)
    if dag.inputs != (0, 1) or nodes[0].op != "input" or nodes[1].op != "input":
        raise GraphError("a cell has two input nodes, 0 and 1, with op 'input'")
    if dag.outputs != (n - 1,) or nodes[-1].op != "identity" or nodes[-1].combine != "concat":
        raise GraphError(f"a cell's output is its last node ({n - 1}), an 'identity' node with combine 'concat'")
    state_of = {0: 0, 1: 1}  # node index -> state number
    strided: dict[int, bool] = {}
    blocks: list[Block] = []
    i = 2
    while i + 2 < n - 1 and nodes[i + 2].op == "identity" and dag.predecessors(i + 2) == (i, i + 1):
        entry: list[Any] = []
        for j in (i, i + 1):
            preds = dag.predecessors(j)
            if len(preds) != 1 or preds[0] not in state_of or not isinstance(nodes[j].op, str):
                raise GraphError(f"node {j}: a cell's op node reads exactly one earlier state")
            strided[j] = nodes[j].params.get("stride", 1) == 2
            entry += [state_of[preds[0]], nodes[j].op]
        state_of[i + 2] = len(blocks) + 2
        blocks.append((entry[0], entry[1], entry[2], entry[3], nodes[i + 2].combine))
        i += 3
    concat = []
    for j in dag.predecessors(n - 1):
        if j in state_of and j > 1:
            concat.append(state_of[j])
        elif nodes[j].op == "skip_connect" and dag.predecessors(j) in ((0,), (1,)) and j >= i:
            concat.append(dag.predecessors(j)[0])
            strided[j] = nodes[j].params.get("stride", 1) == 2
        else:
            raise GraphError(f"node {j} feeds the cell output but is neither a state nor a skip from an input")
    if i + len([c for c in concat if c < 2]) != n - 1:
        raise GraphError(f"node {i}: unexpected node in the cell layout (expected two op nodes and a state "
                         "node per block, then input skips and the output)")
    reduce = any(strided.values())
    for j in strided:
        reads_input = dag.predecessors(j)[0] < 2
        allowed = {"stride": 2} if reduce and reads_input else {}
        if dict(nodes[j].params) != allowed:
            raise GraphError(f"node {j}: params {dict(nodes[j].params)} where {allowed} was expected "
                             "(stride 2 exactly on the ops that read an input of a reduction cell)")
    concat.sort()
    # The walk above reads ops, inputs and strides; what it does not look at (a state's params, an op
    # node's combine, ...) must still be as blocks_to_cell makes it, or the blocks would not describe the cell.
    expected = blocks_to_cell(blocks, concat, reduce=reduce)
    if expected != dag:
        for k in range(n):
            if nodes[k] != expected.nodes[k]:
                raise GraphError(f"node {k}: {nodes[k]!r} where the cell layout has {expected.nodes[k]!r}")
        raise GraphError(f"the cell's edges {list(dag.edges)} differ from its layout's {list(expected.edges)}")
    return blocks, concat, reduce


def dag_to_genotype(normal: DAG, reduce: DAG | None = None) -> Genotype:
    """The `Genotype` of a normal and a reduction cell in node form (inverse of `genotype_to_dag`).

    With one argument, ``normal`` is a cell-pair DAG (`pair_dag`) holding both cells.
    """
    if reduce is None:
        normal, reduce = pair_cells(normal)
    out = []
    for which, cell in (("normal", normal), ("reduce", reduce)):
        blocks, concat, _ = cell_to_blocks(cell)
        for b in blocks:
            if b[4] != "sum":
                raise GraphError(f"{which} cell: a state combines with {b[4]!r}; a Genotype holds 'sum' states only")
        out += [_pairs_from_blocks(blocks), concat]
    return Genotype(*out)
