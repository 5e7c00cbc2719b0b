"""Cell search spaces with a normal and a reduction cell: DARTS, ENAS (micro) and NASNet.

A member is a **cell-pair DAG** of 4 nodes, the DARTS way of wiring cells
(cell k reads the outputs of cells k-2 and k-1):

```python
0 input (c_{k-2}) ─┬─► 2 normal cell (nested DAG) ─► 3 reduction cell (nested DAG)   output: 3
1 input (c_{k-1}) ─┴──────────────────────────────────┘
```

so one DAG carries both cells and does not depend on how many cells a network
stacks. Each nested cell is in the node form of `graphnas.genotypes.blocks_to_cell`
(an op node per (op, input) pair, an ``identity`` state node per block, an
``identity``/``concat`` output); ``to_blocks``/``from_blocks`` and, for DARTS and
ENAS, ``to_genotype``/``from_genotype``/``sample_genotype`` move between that DAG
and the lists of blocks or a `graphnas.genotypes.Genotype`.

The two (op, input) pairs of a block are stored sorted by (input, op): the sum
does not depend on their order, so each architecture has one DAG and ``size()``
counts architectures. ``contains`` also accepts the pairs in any order (the
published genotypes list them as their search found them).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from math import comb, prod
from typing import Any, cast

from graphnas._checks import is_integer
from graphnas.dag import DAG, GraphError, Node
from graphnas.generators._random import Seed, as_random
from graphnas.generators.base import SearchSpace
from graphnas.generators.decisions import Decision, decode_checked
from graphnas.generators.registry import register_generator
from graphnas.generators.supernet import argmax, check_path, check_weights, choice_node
from graphnas.genotypes import (
    PRIMITIVES,
    Block,
    Genotype,
    _blocks_from_pairs,
    _pairs_from_blocks,
    blocks_to_cell,
    cell_to_blocks,
    pair_cells,
    pair_dag,
)

__all__ = ["DARTSSpace", "DARTS_OPS", "ENASSpace", "ENAS_OPS", "NASNET_OPS", "NASNetSpace"]

#: DARTS' candidate ops in a derived cell: its 8 primitives less the zero op ``none``.
DARTS_OPS: tuple[str, ...] = PRIMITIVES[1:]
#: ENAS micro ops (Pham et al. 2018): its sep convs and strided identity are DARTS' ops of the same name.
ENAS_OPS: tuple[str, ...] = ("sep_conv_3x3", "sep_conv_5x5", "avg_pool_3x3", "max_pool_3x3", "skip_connect")
#: The 13 NASNet ops (Zoph et al. 2018), named as elsewhere in graphnas where the op is the same.
NASNET_OPS: tuple[str, ...] = (
    "skip_connect",         # identity
    "conv_1x3_3x1",         # 1x3 then 3x1 convolution
    "conv_7x1_1x7",         # 1x7 then 7x1 convolution (DARTS' op)
    "nasnet_dil_conv_3x3",  # 3x3 dilated convolution (not DARTS' separable dil_conv_3x3)
    "avg_pool_3x3",
    "max_pool_3x3",
    "max_pool_5x5",
    "max_pool_7x7",
    "conv_1x1",             # ReLU-conv-BN
    "conv_3x3",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "sep_conv_7x7",
)

CellBlocks = tuple[Block, ...]


class _CellPairSpace(SearchSpace):
    """Shared machinery: B blocks per cell, each two (input, op) pairs merged by a combine rule."""

    #: states of a cell joined into its output: "all" intermediate states, or "loose" ends (never read, inputs too)
    _concat_rule = "all"
    _distinct_inputs = False

    def __init__(self, *, ops: Sequence[str], num_blocks: int, combines: Sequence[str] = ("sum",)) -> None:
        self.ops = tuple(ops)
        self.num_blocks = int(num_blocks) if is_integer(num_blocks) else num_blocks  # a numpy integer: its int
        self.combines = tuple(combines)
        self.vocabulary = self.ops

    def __repr__(self) -> str:
        return f"{type(self).__name__}(ops={self.ops!r}, num_blocks={self.num_blocks})"

    def _validate_params(self) -> None:
        if not self.ops or len(set(self.ops)) != len(self.ops) or not all(isinstance(o, str) and o for o in self.ops):
            raise ValueError(f"ops must be distinct non-empty strings, got {self.ops!r}")
        if not is_integer(self.num_blocks, 1):
            raise ValueError(f"num_blocks must be a positive int, got {self.num_blocks!r}")
        if not self.combines or not set(self.combines) <= {"sum", "concat", "mean", "weighted_sum"}:
            raise ValueError(f"combines must be a non-empty subset of the DAG combine rules, got {self.combines!r}")

    # -- blocks <-> DAG ---------------------------------------------------------

    def concat_of(self, blocks: Sequence[Block]) -> list[int]:
        """The states joined into the cell output under this space's rule."""
        if self._concat_rule == "all":
            return list(range(2, len(blocks) + 2))
        read = {b[0] for b in blocks} | {b[2] for b in blocks}
        return [s for s in range(len(blocks) + 2) if s not in read]

    def from_blocks(self, normal: Sequence[Block], reduce: Sequence[Block]) -> DAG:
        """The cell-pair DAG of two lists of blocks ``(in_a, op_a, in_b, op_b, combine)``; GraphError naming the
        cell and block if they are not this space's (number of blocks, ops, combine, distinct inputs)."""
        cells = []
        for which, blocks in (("normal", normal), ("reduce", reduce)):
            blocks = [cast(Block, tuple(b)) for b in blocks]  # callers may pass lists
            self._check_blocks(blocks, f"{which} cell")
            cells.append(blocks_to_cell(blocks, self.concat_of(blocks), reduce=which == "reduce", which=which))
        return pair_dag(cells[0], cells[1])

    def to_blocks(self, dag: DAG) -> tuple[list[Block], list[Block]]:
        """The (normal, reduce) blocks of a cell-pair DAG; GraphError if it is not one of this space's."""
        out = []
        for (i, which), cell in zip(((2, "normal"), (3, "reduce")), pair_cells(dag)):
            try:
                blocks, concat, reduce = cell_to_blocks(cell)
            except GraphError as err:
                raise GraphError(f"node {i} ({which} cell): {err}") from None
            if reduce != (which == "reduce"):
                raise GraphError(f"node {i}: the {which} cell must {'' if reduce else 'not '}have stride-2 input ops")
            self._check_blocks(blocks, f"node {i} ({which} cell)")
            if concat != self.concat_of(blocks):
                raise GraphError(f"node {i} ({which} cell): its output joins states {concat}, this space joins "
                                 f"{self.concat_of(blocks)}")
            out.append(blocks)
        return out[0], out[1]

    def _check_blocks(self, blocks: Sequence[Block], where: str) -> None:
        if len(blocks) != self.num_blocks:
            raise GraphError(f"{where}: {len(blocks)} blocks, this space has {self.num_blocks}")
        for b, (ia, oa, ib, ob, combine) in enumerate(blocks):
            for op in (oa, ob):
                if op not in self.ops:
                    raise GraphError(f"{where}, block {b}: op {op!r} is not one of {', '.join(self.ops)}")
            if combine not in self.combines:
                raise GraphError(f"{where}, block {b}: combine {combine!r} is not one of {self.combines}")
            if self._distinct_inputs and ia == ib:
                raise GraphError(f"{where}, block {b}: both pairs read state {ia}; this space needs two inputs")

    @staticmethod
    def _canonical(blocks: Sequence[Block]) -> tuple[Block, ...]:
        out = []
        for ia, oa, ib, ob, combine in blocks:
            (ia, oa), (ib, ob) = sorted([(ia, oa), (ib, ob)])
            out.append((ia, oa, ib, ob, combine))
        return tuple(out)

    # -- the space --------------------------------------------------------------

    def check(self, dag: DAG) -> None:
        self.to_blocks(dag)

    def _block_choices(self, b: int) -> list[Block]:
        states = range(b + 2)
        if self._distinct_inputs:
            pairs = [((i, oa), (j, ob)) for i, j in itertools.combinations(states, 2) for oa in self.ops
                     for ob in self.ops]
        else:
            pairs = list(itertools.combinations_with_replacement(
                [(i, op) for i in states for op in self.ops], 2))
        return [(a[0], a[1], c[0], c[1], comb_) for a, c in pairs for comb_ in self.combines]

    def _cell_size(self) -> int:
        k = len(self.ops)
        if self._distinct_inputs:
            return prod(comb(b + 2, 2) * k * k for b in range(self.num_blocks)) * len(self.combines) ** self.num_blocks
        return prod((m := (b + 2) * k) * (m + 1) // 2 * len(self.combines) for b in range(self.num_blocks))

    def size(self) -> int:
        return self._cell_size() ** 2

    def _sample_cell(self, rng: Any) -> CellBlocks:
        blocks = []
        for b in range(self.num_blocks):
            if self._distinct_inputs:
                ia, ib = rng.sample(range(b + 2), 2)
            else:
                ia, ib = rng.randrange(b + 2), rng.randrange(b + 2)
            blocks.append((ia, rng.choice(self.ops), ib, rng.choice(self.ops), rng.choice(self.combines)))
        return self._canonical(blocks)

    def sample(self, seed: Seed = None) -> DAG:
        """Both cells drawn uniformly pair by pair: inputs, ops and combine of each block independently."""
        self._validate_params()
        rng = as_random(seed)
        normal = self._sample_cell(rng)
        return self.from_blocks(normal, self._sample_cell(rng))

    def _moves(self, cells: tuple[CellBlocks, CellBlocks]) -> list[tuple[CellBlocks, CellBlocks]]:
        out = []
        for c in (0, 1):
            for b, block in enumerate(cells[c]):
                variants = []
                for slot in (0, 1):
                    inp, op = block[2 * slot], block[2 * slot + 1]
                    other_inp = block[2 - 2 * slot]
                    for new_op in self.ops:
                        if new_op != op:
                            variants.append(_set(block, 2 * slot + 1, new_op))
                    for new_inp in range(b + 2):
                        if new_inp != inp and not (self._distinct_inputs and new_inp == other_inp):
                            variants.append(_set(block, 2 * slot, new_inp))
                variants += [_set(block, 4, new) for new in self.combines if new != block[4]]
                for v in variants:
                    cell = self._canonical(cells[c][:b] + (v,) + cells[c][b + 1:])
                    out.append((cell, cells[1]) if c == 0 else (cells[0], cell))
        return out

    def mutate(self, dag: DAG, seed: Seed = None) -> DAG:
        """One change in one cell: a pair's op, a pair's input, or (NASNet) a block's combine rule, chosen uniformly."""
        rng = as_random(seed)
        normal, reduce = self.to_blocks(dag)
        return self.from_blocks(*rng.choice(self._moves((self._canonical(normal), self._canonical(reduce)))))

    def neighbours(self, dag: DAG) -> list[DAG]:
        """Every member one `mutate` step away (the pairs of ``dag`` taken in canonical order)."""
        normal, reduce = self.to_blocks(dag)
        moves = dict.fromkeys(self._moves((self._canonical(normal), self._canonical(reduce))))
        return [self.from_blocks(*m) for m in moves]

    def enumerate(self) -> Iterator[DAG]:
        """Every member, lazily (the full spaces are astronomically large; meant for small configurations)."""
        self._validate_params()
        cell_choices = [self._block_choices(b) for b in range(self.num_blocks)]
        cells = list(itertools.product(*cell_choices)) if self._cell_size() <= 100_000 else None
        for normal in cells if cells is not None else itertools.product(*cell_choices):
            for reduce in cells if cells is not None else itertools.product(*cell_choices):
                yield self.from_blocks(normal, reduce)


    # -- as a sequence of decisions (NASNet's controller; see graphnas.generators.decisions) -------

    def _block_fields(self, b: int) -> list[tuple[str, tuple[Any, ...]]]:
        """The decisions of block ``b`` (0-based) of a cell: (name, options)."""
        states = tuple(range(b + 2))
        if self._distinct_inputs:  # DARTS: one decision picks the two distinct inputs (low, high)
            return [("inputs", tuple(itertools.combinations(states, 2))), ("op a", self.ops), ("op b", self.ops)]
        fields = [("input a", states), ("input b", states), ("op a", self.ops), ("op b", self.ops)]
        if len(self.combines) > 1:
            fields.append(("combine", self.combines))
        return fields

    def decisions(self, prefix: Sequence[int]) -> Decision | None:
        """Block by block, the normal cell then the reduction cell. DARTS: ``inputs`` (a pair of distinct
        earlier states, low first), ``op a`` (on the low one), ``op b``; ENAS: ``input a``, ``input b``,
        ``op a``, ``op b``; NASNet: the same, then ``combine``. Block b's inputs are states 0..b+1 (the two
        cell inputs, then the earlier blocks), so their options grow with the block's index."""
        self._validate_params()
        k = len(prefix)
        per_block = len(self._block_fields(0))
        cell, rest = divmod(k, per_block * self.num_blocks)
        if cell >= 2:
            return None
        b, field = divmod(rest, per_block)
        label, options = self._block_fields(b)[field]
        which = ("normal", "reduce")[cell]
        key = f"{label} {b}" if label.startswith("input") else label
        return Decision(f"{which} block {b} {label}", options, key=key)

    def encode(self, dag: DAG) -> list[int]:
        """The choices of a member, its blocks' two (input, op) pairs in canonical order (GraphError if not one)."""
        normal, reduce = self.to_blocks(dag)
        out: list[int] = []
        for blocks in (self._canonical(normal), self._canonical(reduce)):
            for b, (ia, oa, ib, ob, combine) in enumerate(blocks):
                if self._distinct_inputs:
                    out += [list(itertools.combinations(range(b + 2), 2)).index((ia, ib)), self.ops.index(oa),
                            self.ops.index(ob)]
                else:
                    out += [ia, ib, self.ops.index(oa), self.ops.index(ob)]
                    if len(self.combines) > 1:
                        out.append(self.combines.index(combine))
        return out

    def decode(self, choices: Sequence[int]) -> DAG:
        """The cell pair of the choices (each block's pairs stored in canonical order: the sum does not
        depend on it); GraphError naming the decision for a bad sequence."""
        def build(c: list[int]) -> DAG:
            it = iter(c)
            cells = []
            for _ in range(2):
                blocks: list[Block] = []
                for b in range(self.num_blocks):
                    if self._distinct_inputs:
                        ia, ib = list(itertools.combinations(range(b + 2), 2))[next(it)]
                        oa, ob = self.ops[next(it)], self.ops[next(it)]
                        combine = self.combines[0]
                    else:
                        ia, ib = next(it), next(it)
                        oa, ob = self.ops[next(it)], self.ops[next(it)]
                        combine = self.combines[next(it)] if len(self.combines) > 1 else self.combines[0]
                    blocks.append((ia, oa, ib, ob, combine))
                cells.append(self._canonical(blocks))
            return self.from_blocks(*cells)
        return decode_checked(self, choices, build)

    # -- the supernet (graphnas.generators.supernet): ENAS and NASNet (sum); DARTS overrides it ---------------

    @property
    def candidates(self) -> tuple[str, ...]:
        """Each candidate edge's choices in the supernet: ``none`` (the edge is not taken), then the space's ops."""
        return ("none", *(op for op in self.ops if op != "none"))

    def _slot_key(self, which: str, b: int, slot: str, src: int) -> str:
        return f"{which}:b{b}{slot}<-{src}"

    def choice_keys(self) -> list[str]:
        """The supernet's choice keys: per block ``b`` and pair ``a``/``b`` one edge from each earlier state
        (``normal:b2a<-0``), then per state whether it joins the output (``normal:out<-3``)."""
        keys = []
        for which in ("normal", "reduce"):
            for b in range(self.num_blocks):
                keys += [self._slot_key(which, b, slot, src) for slot in "ab" for src in range(b + 2)]
            keys += [f"{which}:out<-{st}" for st in range(self.num_blocks + 2)]
        return keys

    def _check_supernet(self) -> None:
        self._validate_params()
        if self._concat_rule != "loose" or self._distinct_inputs or self.combines != ("sum",):
            raise NotImplementedError(
                f"{type(self).__name__} with combines {self.combines} has no supernet: a 'concat' block doubles its "
                "state's width, so its alternatives cannot share weights; a space with combines=('sum',) has one")

    def _choice_cell(self, which: str, incoming: list[list[tuple[int, str]]], out_choices: bool) -> DAG:
        """A supernet cell: intermediate state ``k + 2`` sums a choice node per ``(src, key)`` of ``incoming[k]``
        (candidates ``self.candidates``, stride 2 from an input of the reduction cell); the output concatenates
        the intermediate states, or with ``out_choices`` every state through a ``none``/``skip_connect`` choice."""
        nodes: list[Node] = [Node("input"), Node("input")]
        edges: list[tuple[int, int]] = []
        where = {0: 0, 1: 1}

        def choice(src: int, candidates: Sequence[str], key: str) -> int:
            edges.append((where[src], len(nodes)))
            stride = {"stride": 2} if which == "reduce" and src < 2 else {}
            nodes.append(choice_node(candidates, key, **stride))
            return len(nodes) - 1

        for k, ins in enumerate(incoming):
            ops_at = [choice(src, self.candidates, key) for src, key in ins]
            where[k + 2] = len(nodes)
            edges.extend((i, len(nodes)) for i in ops_at)
            nodes.append(Node("identity"))
        states = range(len(incoming) + 2) if out_choices else range(2, len(incoming) + 2)
        outs = [choice(st, ("none", "skip_connect"), f"{which}:out<-{st}") if out_choices else where[st]
                for st in states]
        edges.extend((i, len(nodes)) for i in outs)
        nodes.append(Node("identity", combine="concat"))
        return DAG(nodes, edges, inputs=[0, 1], outputs=[len(nodes) - 1])

    def supernet(self) -> DAG:
        """The cell pair in which each pair of each block reads every earlier state through a choice node over
        ``none`` and the ops (one taken per pair in a member; stride 2 from the inputs of the reduction cell),
        and each state joins the output through a choice of ``none`` or ``skip_connect`` (a member's loose
        ends take the skip: ENAS' output, with the states other blocks read masked to zero)."""
        self._check_supernet()
        return pair_dag(*(self._choice_cell(which, [[(src, self._slot_key(which, b, slot, src)) for slot in "ab"
                                                     for src in range(b + 2)] for b in range(self.num_blocks)],
                                            out_choices=True) for which in ("normal", "reduce")))

    def path_of(self, dag: DAG) -> dict[str, int]:
        """The path of a member: each pair takes the edge from its input with its op, every other edge of the
        pair is ``none``; the loose ends join the output (``skip_connect``), the other states do not."""
        self._check_supernet()
        path = dict.fromkeys(self.choice_keys(), 0)
        for which, blocks in zip(("normal", "reduce"), self.to_blocks(dag)):
            for b, (ia, oa, ib, ob, _) in enumerate(blocks):
                path[self._slot_key(which, b, "a", ia)] = self.candidates.index(oa)
                path[self._slot_key(which, b, "b", ib)] = self.candidates.index(ob)
            for st in self.concat_of(blocks):
                path[f"{which}:out<-{st}"] = 1
        return path

    def _pick_blocks(self, which: str, pick: Callable[[str, int, str], tuple[int, str]]) -> list[Block]:
        """The blocks of one cell, each pair's (input, op) given by ``pick(which, block, slot)``."""
        blocks: list[Block] = []
        for b in range(self.num_blocks):
            (ia, oa), (ib, ob) = pick(which, b, "a"), pick(which, b, "b")
            blocks.append((ia, oa, ib, ob, "sum"))
        return blocks

    def from_path(self, path: Any) -> DAG:
        """The member of a path; GraphError naming the pair that does not take exactly one edge, or the state
        whose output choice disagrees with the blocks (a loose end must join the output, a read state not)."""
        self._check_supernet()
        choices = check_path({k: self.candidates if "<-" in k and ":out<-" not in k else ("none", "skip_connect")
                              for k in self.choice_keys()}, path)
        def pick(which: str, b: int, slot: str) -> tuple[int, str]:
            taken = [(src, self.candidates[choices[self._slot_key(which, b, slot, src)]])
                     for src in range(b + 2) if choices[self._slot_key(which, b, slot, src)] != 0]
            if len(taken) != 1:
                raise GraphError(f"{which} cell, block {b} pair {slot}: {len(taken)} edges taken; a pair "
                                 "takes exactly one (one input, one op), the others 'none'")
            return taken[0]

        cells = []
        for which in ("normal", "reduce"):
            blocks = self._pick_blocks(which, pick)
            loose = set(self.concat_of(blocks))
            for st in range(self.num_blocks + 2):
                if (choices[f"{which}:out<-{st}"] == 1) != (st in loose):
                    raise GraphError(f"{which} cell: state {st} {'is' if st in loose else 'is not'} a loose end "
                                     f"(read by no block), so its output choice {which}:out<-{st} must be "
                                     f"{'skip_connect' if st in loose else 'none'}")
            cells.append(self._canonical(blocks))
        return self.from_blocks(*cells)

    def derive(self, weights: Any) -> DAG:
        """DARTS' rule per pair: the input edge whose strongest non-``none`` weight is largest (earlier inputs
        first on ties) with its argmax non-``none`` op; the output follows from the blocks (the loose ends)."""
        self._check_supernet()
        weights = check_weights({k: 2 if ":out<-" in k else len(self.candidates) for k in self.choice_keys()},
                                weights)

        def pick(which: str, b: int, slot: str) -> tuple[int, str]:
            w = {src: weights[self._slot_key(which, b, slot, src)] for src in range(b + 2)}
            src = sorted(range(b + 2), key=lambda i: -max(w[i][1:]))[0]
            return src, self.candidates[argmax(w[src], skip=0)]

        cells = [self._canonical(self._pick_blocks(which, pick)) for which in ("normal", "reduce")]
        return self.from_blocks(*cells)


def _set(block: Block, k: int, value: Any) -> Block:
    out = list(block)
    out[k] = value
    return tuple(out)  # type: ignore[return-value]


class _GenotypeMixin:
    """Conversions for spaces whose cells are DARTS genotypes (sum states only)."""

    def from_genotype(self, genotype: Genotype) -> DAG:
        """The cell-pair DAG of a `graphnas.genotypes.Genotype`; GraphError if it is not a member (its number of
        blocks, ops, inputs or concat lists differ from the space's)."""
        normal, reduce = _blocks_from_pairs(genotype.normal, "normal"), _blocks_from_pairs(genotype.reduce, "reduce")
        dag = self.from_blocks(normal, reduce)  # type: ignore[attr-defined]  # refuses blocks of another space
        for which, blocks, concat in (("normal", normal, genotype.normal_concat),
                                      ("reduce", reduce, genotype.reduce_concat)):
            if list(concat) != self.concat_of(blocks):  # type: ignore[attr-defined]
                raise GraphError(f"{which} cell: concat {list(concat)} differs from the space's "
                                 f"{self.concat_of(blocks)}")  # type: ignore[attr-defined]
        return dag

    def to_genotype(self, dag: DAG) -> Genotype:
        """The `graphnas.genotypes.Genotype` of a member."""
        normal, reduce = self.to_blocks(dag)  # type: ignore[attr-defined]
        out: list[Any] = []
        for blocks in (normal, reduce):
            out += [_pairs_from_blocks(blocks), self.concat_of(blocks)]  # type: ignore[attr-defined]
        return Genotype(*out)

    def sample_genotype(self, seed: Seed = None) -> Genotype:
        """A random member as a `graphnas.genotypes.Genotype` (same draw as ``sample``)."""
        return self.to_genotype(self.sample(seed))  # type: ignore[attr-defined]


@register_generator("darts")
class DARTSSpace(_GenotypeMixin, _CellPairSpace):
    """The DARTS CNN space (Liu et al. 2019): 4 intermediate states, each summing two ops on two distinct
    earlier states; output = concat of the 4 states; normal and reduction cell.

    ``none`` (DARTS' zero op) is one of its 8 primitives but never appears in a derived cell, so cells draw
    from the other 7 (``DARTS_OPS``). Size: (∏_{k=1..4} (k+1)k/2 · 7²)² ≈ 1.1e18, as in the DARTS paper.
    """

    name = "darts"
    _distinct_inputs = True

    def __init__(self, *, ops: Sequence[str] = DARTS_OPS, steps: int = 4) -> None:
        super().__init__(ops=ops, num_blocks=steps)

    @property
    def steps(self) -> int:
        return self.num_blocks

    # -- the supernet (graphnas.generators.supernet) --------------------------------------

    def choice_keys(self) -> list[str]:
        """The supernet's choice keys: one per candidate edge ``which:src->dst`` (states 0, 1 are the inputs)."""
        return [f"{which}:{src}->{dst}" for which in ("normal", "reduce")
                for dst in range(2, self.steps + 2) for src in range(dst)]

    def supernet(self) -> DAG:
        """The DARTS search cell pair: in each cell every state reads every earlier state through a choice node
        over ``none`` and the ops (stride 2 on the edges from the inputs of the reduction cell); each state sums
        its edges; the output concatenates the intermediate states."""
        self._validate_params()
        return pair_dag(*(self._choice_cell(which, [[(src, f"{which}:{src}->{dst}") for src in range(dst)]
                                                    for dst in range(2, self.steps + 2)], out_choices=False)
                          for which in ("normal", "reduce")))

    def path_of(self, dag: DAG) -> dict[str, int]:
        """The path of a member: each block's two (input, op) pairs are its two taken edges, every other edge
        ``none`` (index 0)."""
        path = dict.fromkeys(self.choice_keys(), 0)
        for which, blocks in zip(("normal", "reduce"), self.to_blocks(dag)):
            for b, (ia, oa, ib, ob, _) in enumerate(blocks):
                path[f"{which}:{ia}->{b + 2}"] = self.candidates.index(oa)
                path[f"{which}:{ib}->{b + 2}"] = self.candidates.index(ob)
        return path

    def from_path(self, path: Any) -> DAG:
        """The member of a path; GraphError naming the state where not exactly two edges are taken."""
        choices = check_path(dict.fromkeys(self.choice_keys(), self.candidates), path)
        cells = []
        for which in ("normal", "reduce"):
            blocks: list[Block] = []
            for dst in range(2, self.steps + 2):
                taken = [(src, self.candidates[choices[f"{which}:{src}->{dst}"]]) for src in range(dst)
                         if choices[f"{which}:{src}->{dst}"] != 0]
                if len(taken) != 2:
                    raise GraphError(f"{which} cell, state {dst}: {len(taken)} edges taken "
                                     f"({', '.join(f'{s}->{dst} {op}' for s, op in taken) or 'none'}); "
                                     "a DARTS state takes exactly two, the others 'none'")
                (ia, oa), (ib, ob) = taken
                blocks.append((ia, oa, ib, ob, "sum"))
            cells.append(self._canonical(blocks))
        return self.from_blocks(*cells)

    def derive(self, weights: Any) -> DAG:
        """DARTS' rule: per intermediate state the two input edges whose strongest non-``none`` weight is
        largest (earlier inputs first on ties), each with its argmax non-``none`` op. ``weights``: choice key
        -> one weight per candidate (``self.candidates``)."""
        weights = check_weights(dict.fromkeys(self.choice_keys(), len(self.candidates)), weights)
        path = dict.fromkeys(self.choice_keys(), 0)
        for which in ("normal", "reduce"):
            for dst in range(2, self.steps + 2):
                w = {src: weights[f"{which}:{src}->{dst}"] for src in range(dst)}
                strongest = sorted(range(dst), key=lambda src: -max(w[src][1:]))[:2]
                for src in strongest:
                    path[f"{which}:{src}->{dst}"] = argmax(w[src], skip=0)
        return self.from_path(path)


@register_generator("enas")
class ENASSpace(_GenotypeMixin, _CellPairSpace):
    """The ENAS micro space (Pham et al. 2018): B=5 blocks, each summing two of 5 ops on any two earlier
    states (the same state may be used twice); output = concat of the states no block reads, inputs
    included, as ENAS does (an unread input reaches the output through ``skip_connect``, strided in
    the reduction cell, which is ENAS' factorized-reduction calibration).
    """

    name = "enas"
    _concat_rule = "loose"

    def __init__(self, *, ops: Sequence[str] = ENAS_OPS, num_blocks: int = 5) -> None:
        super().__init__(ops=ops, num_blocks=num_blocks)


@register_generator("nasnet")
class NASNetSpace(_CellPairSpace):
    """The NASNet search space (Zoph et al. 2018): B=5 blocks, each applying two of 13 ops to two earlier
    hidden states and combining them by add (``sum``) or ``concat``; output = concat of the unused states.

    A block's combine rule is its state node's combine, so NASNet cells with ``concat`` blocks have no
    `graphnas.genotypes.Genotype` form; use ``from_blocks``/``to_blocks``.
    """

    name = "nasnet"
    _concat_rule = "loose"

    def __init__(self, *, ops: Sequence[str] = NASNET_OPS, num_blocks: int = 5,
                 combines: Sequence[str] = ("sum", "concat")) -> None:
        super().__init__(ops=ops, num_blocks=num_blocks, combines=combines)
