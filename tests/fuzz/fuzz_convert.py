"""Fuzz entry points for the converters from other graph forms: networkx, igraph, adjacency matrices,
labelled edge lists, and :func:`graphnas.as_dag` (arch strings, genotypes, NB101 specs, JSON texts, paths
and bytes).

Registered in :mod:`fuzz_harness` (imported there, after the helpers it uses are defined). Each case
starts from a well-formed graph, applies zero to two random faults, and checks either a clear
``GraphError`` or an accepted result; without faults (or with faults that keep the graph, like a
relabelling) the round trip must give the graph back (else :class:`~fuzz_harness.WrongResult`).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from fuzz_harness import (
    WrongResult,
    entry_point,
    rand_json_value,
    rand_text,
    random_valid_dag,
    weird_scalar,
    write_file,
)

import graphnas
from graphnas import DAG, Node

_CULPRIT = r"node|vertex|edge|input|output|op\b|ops|param|combine|DAG|graph|label|cycle|matrix|row"


def _weird_label(rng: random.Random, i: int) -> Any:
    """A hashable node label of a random kind (mixed kinds in one graph on purpose)."""
    return rng.choice([i, -i - 1, f"n{i}", (i, "x"), frozenset({i, -1}), i + 0.5, f"{i}" * 3, ("a", (i,)),
                       b"b%d" % i, f"é{i}💥"])


def _odd_attr(rng: random.Random, key: str) -> Any:
    if key == "op":
        return rng.choice([None, "", 5, b"conv", ["conv"], {"op": "conv"}, float("nan"), "conv", "x" * 50])
    if key == "params":
        return rng.choice([None, "C=3", 5, [("C", 3)], {1: 2}, {"C": {1, 2}}, {"C": float("nan")}, {},
                           {"C": [1, [2, 3]]}, {"C": rand_json_value(rng)}])
    return rng.choice([None, "", "max", 1, ["sum"], "concat", "SUM"])


def _odd_ports(rng: random.Random, labels: list[Any]) -> Any:
    return rng.choice([5, None, "ab", [], [labels[0], labels[0]], [labels[-1]], [object()], [[0]],
                       {labels[0]: 1}, (labels[0],), [rng.choice(labels), "missing"], iter(labels[:1])])


# =========================================================================== networkx


@entry_point("from_networkx / to_networkx", culprit=_CULPRIT)
def networkx_input(rng: random.Random) -> None:
    """Random DiGraphs (relabelled with mixed labels, cycles, self-loops, multigraphs, undirected, missing
    or odd attributes and ports) into from_networkx; round trips checked."""
    import networkx as nx

    dag = random_valid_dag(rng, nest=0.1)
    g = graphnas.to_networkx(dag)
    if graphnas.from_networkx(g) != dag:
        raise WrongResult("from_networkx(to_networkx(dag)) != dag")
    # a relabelling (mixed label kinds) in a shuffled insertion order keeps the graph up to isomorphism
    labels = [_weird_label(rng, i) for i in range(len(dag))]
    if len(set(labels)) < len(labels):
        labels = list(range(len(dag)))
    mapping = dict(zip(range(len(dag)), labels))
    order = list(range(len(dag)))
    shuffled = rng.random() < 0.5
    if shuffled:
        rng.shuffle(order)
    h = nx.DiGraph(inputs=[mapping[i] for i in dag.inputs], outputs=[mapping[i] for i in dag.outputs])
    for i in order:
        h.add_node(mapping[i], **g.nodes[i])
    edges = [(mapping[s], mapping[d]) for s, d in dag.edges]
    rng.shuffle(edges)
    h.add_edges_from(edges)
    faults = 0
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        faults += 1
        what = rng.randrange(10)
        if what == 0 and h.number_of_edges():  # a back edge: a cycle
            s, d = rng.choice(list(h.edges))[:2]
            h.add_edge(d, s)
        elif what == 1:  # a self-loop
            v = rng.choice(labels)
            h.add_edge(v, v)
        elif what == 2:  # an attribute removed or made odd
            v = rng.choice(labels)
            key = rng.choice(["op", "params", "combine"])
            if rng.random() < 0.3:
                h.nodes[v].pop(key, None)
            else:
                h.nodes[v][key] = _odd_attr(rng, key)
        elif what == 3:  # ports odd
            h.graph[rng.choice(["inputs", "outputs"])] = _odd_ports(rng, labels)
        elif what == 4:  # ports removed: the default ports
            h.graph.pop(rng.choice(["inputs", "outputs"]), None)
        elif what == 5:  # another graph class
            h = rng.choice([nx.MultiDiGraph, nx.Graph, nx.MultiGraph])(h)
        elif what == 6:  # a new node with no edges, or an edge to a node without attributes
            if rng.random() < 0.5:
                h.add_node(("extra", rng.random()), op=rng.choice(["conv", "input"]))
            else:
                h.add_edge(rng.choice(labels), "bare")
        elif what == 7:  # not a graph at all
            h = rng.choice([None, 5, "graph", {0: [1]}, [(0, 1)], dag])
            break
        elif what == 8 and h.number_of_edges():  # an edge removed
            h.remove_edge(*rng.choice(list(h.edges)))
        else:
            faults -= 1
    back = graphnas.from_networkx(h)
    if faults:
        return
    if not shuffled and back != dag:
        raise WrongResult("relabelling a graph in its node order changed what from_networkx reads")
    if back.canonical_key() != dag.canonical_key():
        raise WrongResult("from_networkx of a relabelled, reordered graph is not isomorphic to the original")


@entry_point("from_edges", culprit=_CULPRIT)
def edges_input(rng: random.Random) -> None:
    """Nodes with any labels (mixed, unhashable, missing), random edge lists and ports into from_edges."""
    dag = random_valid_dag(rng, nest=0.1)
    labels = [_weird_label(rng, i) for i in range(len(dag))]
    if len(set(labels)) < len(labels):
        labels = [f"v{i}" for i in range(len(dag))]
    order = list(range(len(dag)))
    rng.shuffle(order)
    nodes: Any = {labels[i]: (dag.nodes[i].op if dag.nodes[i] == Node(dag.nodes[i].op) and rng.random() < 0.3
                              else dag.nodes[i]) for i in order}
    edges: Any = [(labels[s], labels[d]) for s, d in dag.edges]
    rng.shuffle(edges)
    # default ports come in the new index order, so leave them out only where there is one
    ports = {"inputs": [labels[i] for i in dag.inputs] if len(dag.inputs) > 1 or rng.random() < 0.7 else None,
             "outputs": [labels[i] for i in dag.outputs] if len(dag.outputs) > 1 or rng.random() < 0.7 else None}
    faults = 0
    for _ in range(rng.choice([0, 0, 1, 2])):
        faults += 1
        what = rng.randrange(9)
        if what == 0:
            edges = rng.choice([None, 5, "ab", [(labels[0],)], [[labels[0], labels[-1], labels[0]]], [None],
                                [([1], labels[0])], [(labels[0], "ghost")]])
        elif what == 1 and isinstance(edges, list) and edges and isinstance(edges[0], tuple) and len(edges[0]) == 2:
            # a duplicate, a reversed edge or a self-loop
            s, d = rng.choice(edges)
            edges.append(rng.choice([(s, d), (d, s), (s, s)]))
        elif what == 2 and isinstance(nodes, dict):
            nodes = rng.choice([None, list(nodes.values()), "ab", 5, {**nodes, labels[0]: rng.choice([5, None, ""])}])
        elif what == 3:
            ports[rng.choice(["inputs", "outputs"])] = _odd_ports(rng, labels)
        elif what == 4 and isinstance(nodes, dict):
            nodes[labels[0]] = Node(rng.choice(["conv", "identity"]), {"C": 3}, rng.choice(graphnas.COMBINES))
        elif what == 5 and isinstance(nodes, dict):
            nodes = {k: v for k, v in nodes.items() if k != rng.choice(labels)}
        else:
            faults -= 1
    back = graphnas.from_edges(nodes, edges, **ports)
    if faults:
        return
    if back.canonical_key() != dag.canonical_key():
        raise WrongResult("from_edges of a relabelled, shuffled graph is not isomorphic to the original")


# =========================================================================== igraph


@entry_point("from_igraph / to_igraph", culprit=_CULPRIT)
def igraph_input(rng: random.Random) -> None:
    """Random igraph graphs (permuted, undirected, multi-edges, cycles, missing or odd attributes and ports)
    into from_igraph; round trips checked."""
    import igraph as ig

    dag = random_valid_dag(rng, nest=0.1)
    g = graphnas.to_igraph(dag)
    if graphnas.from_igraph(g) != dag:
        raise WrongResult("from_igraph(to_igraph(dag)) != dag")
    n = len(dag)
    perm = list(range(n))
    rng.shuffle(perm)
    g = g.permute_vertices(perm)
    where = {old: new for new, old in enumerate(perm)}  # igraph: vertex perm[j] of the old graph is now j
    if g.vs["op"] != [dag.nodes[perm[j]].op for j in range(n)]:
        where = dict(enumerate(perm))  # the other convention (igraph versions differ)
    g["inputs"] = [where[i] for i in dag.inputs]
    g["outputs"] = [where[i] for i in dag.outputs]
    faults = 0
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        faults += 1
        what = rng.randrange(9)
        if not isinstance(g, ig.Graph) or g.vcount() != n:
            break  # an earlier fault replaced the graph
        if what == 0 and g.ecount():  # a back edge or a multi-edge
            s, d = rng.choice(g.get_edgelist())
            g.add_edge(*rng.choice([(d, s), (s, d)]))
        elif what == 1:
            v = rng.randrange(n)
            g.add_edge(v, v)
        elif what == 2:
            key = rng.choice(["op", "params", "combine"])
            if rng.random() < 0.3:
                del g.vs[key]
            else:
                g.vs[rng.randrange(n)][key] = _odd_attr(rng, key)
        elif what == 3:
            g[rng.choice(["inputs", "outputs"])] = rng.choice([5, None, "ab", [], [n], [-1], [0, 0], [1.0],
                                                               [True], [[0]], (0,), {0: 1}])
        elif what == 4:
            key = rng.choice(["inputs", "outputs"])
            if key in g.attributes():
                del g[key]
        elif what == 5:
            g = g.as_undirected() if rng.random() < 0.5 else ig.Graph(n=2, edges=[(0, 1)])
        elif what == 6:
            g.add_vertices(1)  # a vertex whose attributes are all None
            if rng.random() < 0.5:
                g.add_edge(0, g.vcount() - 1)
        elif what == 7:
            g = rng.choice([None, 5, "g", graphnas.to_networkx(dag), dag])
            break
        else:
            faults -= 1
    back = graphnas.from_igraph(g)
    if faults:
        return
    if back.canonical_key() != dag.canonical_key():
        raise WrongResult("from_igraph of a vertex-permuted graph is not isomorphic to the original")


# =========================================================================== adjacency


def _matrix_variant(rng: random.Random, m: Any) -> Any:
    import numpy as np

    kind = rng.randrange(8)
    if kind == 0:
        return m.tolist()
    if kind == 1:
        return m.astype(rng.choice([np.int8, np.uint8, np.int32, np.float32, np.float64, bool, object]))
    if kind == 2:
        return [tuple(r) for r in m.tolist()]
    if kind == 3:
        return np.asfortranarray(m)
    return m


@entry_point("from_adjacency", culprit=_CULPRIT)
def adjacency_input(rng: random.Random) -> None:
    """Random matrices (bad shapes, NaN, floats, negative and lower-triangular entries, dtypes, lists) and op
    lists into from_adjacency, prune on and off; round trips with to_adjacency checked."""
    import numpy as np

    dag = random_valid_dag(rng, ops=["conv", "pool", "identity", "output"], max_nodes=8)
    dag = DAG(dag.nodes, dag.edges, inputs=dag.inputs[:1]) if len(dag.inputs) > 1 else dag
    m, ops = graphnas.to_adjacency(dag)
    if rng.random() < 0.5:  # a random upper-triangular matrix: nodes off every path (prune matters)
        n = rng.randint(1, 8)
        m = np.triu((np.array([[rng.random() for _ in range(n)] for _ in range(n)]) < 0.4).astype(np.int64), 1)
        ops = ["input"] + [rng.choice(["conv", "pool", "identity"]) for _ in range(n - 1)]
    prune = rng.random() < 0.5
    combine: Any = "sum" if rng.random() < 0.5 else [rng.choice(graphnas.COMBINES) for _ in ops]
    mat: Any = m.copy()
    n = len(ops)
    faults = 0
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        faults += 1
        what = rng.randrange(11)
        well_shaped = isinstance(mat, np.ndarray) and mat.shape == (n, n)
        if what == 0 and n and well_shaped:
            mat = np.array(mat, dtype=float)
            mat[rng.randrange(n), rng.randrange(n)] = rng.choice([float("nan"), 0.5, -1.0, 2.0, float("inf"), 1.0])
        elif what == 1 and n > 1 and well_shaped:  # an entry on or below the diagonal
            i = rng.randrange(n)
            mat = np.array(mat)
            mat[i, rng.randrange(i + 1)] = 1
        elif what == 2:  # a bad shape
            mat = rng.choice([np.zeros((n, n + 1)), np.zeros(n), np.zeros((n, n, 1)), np.zeros((0, 0)), [],
                              [[0, 1], [0]], 5, None, "01", [[None] * n] * n, np.array(m, dtype=str),
                              [["0"] * n] * n, {"a": 1}, np.zeros((n, n), dtype=complex)])
        elif what == 3 and isinstance(ops, list):
            ops = rng.choice([None, ops[:-1], [*ops, "conv"], "".join(map(str, ops)), 5, [*ops[:-1], 5],
                              [*ops[:-1], None], [*ops[:-1], ""], [*ops[:-1], dag], tuple(ops), np.array(ops),
                              iter(ops)])
        elif what == 4:
            combine = rng.choice([None, 5, "max", [], ["sum"] * (n + 1), ["max"] * n, ("sum",) * n,
                                  ["sum"] * max(0, n - 1), {"sum"}, b"sum"])
        elif what == 5:
            prune = rng.choice([None, 0, 1, "yes"])
        else:
            faults -= 1
    if faults == 0:
        mat = _matrix_variant(rng, mat)
    back = graphnas.from_adjacency(mat, ops, combine=combine, prune=prune)
    if faults:
        return
    m2, ops2 = graphnas.to_adjacency(back)
    if not prune:
        if m2.tolist() != np.asarray(m).tolist() or list(ops2) != list(ops):
            raise WrongResult("to_adjacency(from_adjacency(m, ops)) != (m, ops)")
        if [nd.combine for nd in back.nodes] != ([combine] * n if isinstance(combine, str) else combine):
            raise WrongResult("from_adjacency lost a combine rule")
        return
    from graphnas._graph import reachable

    edges = [(int(i), int(j)) for i, j in zip(*np.nonzero(m))]
    fwd = reachable(n, edges, [0])
    bwd = reachable(n, edges, [n - 1], backward=True)
    keep = [i for i in range(n) if fwd[i] and bwd[i]]
    if m2.tolist() != np.asarray(m)[np.ix_(keep, keep)].tolist() or list(ops2) != [ops[i] for i in keep]:
        raise WrongResult(f"prune=True kept the wrong nodes (expected {keep})")


# =========================================================================== as_dag


def _arch_string(rng: random.Random) -> str:
    from graphnas.generators import NB201Space

    sp = NB201Space()
    return sp.to_string(sp.sample(seed=rng.randrange(2**31)))


def _corrupt_string(rng: random.Random, s: str) -> str:
    how = rng.randrange(7)
    chars = list(s)
    if how == 0 and chars:
        for _ in range(rng.randint(1, 3)):
            chars[rng.randrange(len(chars))] = rng.choice("|~+0123456789_ -{}\x00\né")
        return "".join(chars)
    if how == 1:
        return s[:rng.randrange(len(s) + 1)]
    if how == 2:
        i = rng.randrange(len(s) + 1)
        return s[:i] + rand_text(rng, rng.randint(1, 6)) + s[i:]
    if how == 3:
        return rng.choice([s.upper(), s.lower(), " " + s + "\n", s + s, s.replace("|", "")])
    if how == 4:
        return s.replace("~0", rng.choice(["~9", "~-1", "~", "~00", "~ 0", "~1.5"]), 1)
    if how == 5:
        return s.replace("+", rng.choice(["", "++", "+|+"]), 1)
    return s


def _genotype(rng: random.Random) -> Any:
    from graphnas import genotypes

    g = genotypes.get_genotype(rng.choice(genotypes.list_genotypes()))
    if rng.random() < 0.5:
        return g, True
    field = rng.choice(g._fields)
    value: Any = list(getattr(g, field))
    what = rng.randrange(5)
    if what == 0 and value:
        value.pop(rng.randrange(len(value)))
    elif what == 1 and value:
        value[rng.randrange(len(value))] = rng.choice([("sep_conv_3x3", 9), ("", 0), (None, 0), ("x",), 5, None,
                                                       ("skip_connect", -1), ("skip_connect", 1.0), [1, 2]])
    elif what == 2:
        value = rng.choice([None, 5, "abc", [], [None], weird_scalar(rng)])
    else:
        value = value + value[:1]
    return g._replace(**{field: value}), False


def _nb101_spec(rng: random.Random) -> Any:
    import numpy as np

    from graphnas.generators.nb101 import NB101_OPS

    n = rng.randint(0, 8)
    m: Any = np.triu((np.array([[rng.random() for _ in range(n)] for _ in range(n)]) < 0.5).astype(int), 1)
    ops: Any = ["input", *(rng.choice(NB101_OPS) for _ in range(max(0, n - 2))), "output"]
    r = rng.random()
    if r < 0.1:
        m = m.tolist()
    elif r < 0.2:
        ops = ops[1:-1]
    elif r < 0.3:
        m = rng.choice([[[0, 1], [0]], "m", None, 5, np.zeros((n, n + 1)), [[float("nan")] * n] * n, {"a": 1}])
    elif r < 0.4:
        ops = rng.choice([[*ops[:-1], "conv"], [5] * n, ops[::-1], ["input", [1], "output"], ops + ops])
    shape = rng.random()
    if shape < 0.4:
        return (m, ops)
    if shape < 0.6:
        return [m, ops]
    if shape < 0.9:
        return {"matrix": m, "ops": ops}
    return rng.choice([{"matrix": m}, {"matrix": m, "ops": 5}, {"matrix": m, "ops": ops, "x": 1}, (m,),
                       (m, ops, 1), {"ops": ops, "matrix": m, "format": None}])


@entry_point("as_dag", culprit=r".")
def as_dag_input(rng: random.Random) -> None:
    """Random strings, corrupted arch strings, genotypes and their names, NB101 specs, JSON texts, paths and
    bytes into as_dag; what reads back must equal what went in."""
    from graphnas import as_dag

    r = rng.randrange(11)
    if r == 0:  # random strings
        s = rand_text(rng, rng.randint(0, 30))
        as_dag(s if rng.random() < 0.8 else s.encode("utf-8"))
    elif r == 1:  # arch strings, corrupted or not
        s = _arch_string(rng)
        if rng.random() < 0.3:
            from graphnas.generators import NB201Space

            if as_dag(s) != NB201Space().from_string(s):
                raise WrongResult("as_dag(arch string) differs from NB201Space.from_string")
            return
        as_dag(_corrupt_string(rng, s))
    elif r == 2:  # genotype names
        from graphnas import genotypes

        name = rng.choice(genotypes.list_genotypes())
        variant = rng.choice([name, name.lower(), name.upper(), " " + name, name + "_", name[:-1], name + "\n"])
        got = as_dag(variant)
        if variant.strip().lower() == name.lower() and got != genotypes.genotype_to_dag(
                genotypes.get_genotype(name), "pair"):
            raise WrongResult(f"as_dag({variant!r}) is not the genotype {name}")
    elif r == 3:  # genotypes, corrupted or not
        g, intact = _genotype(rng)
        got = as_dag(g)
        if intact:
            from graphnas.genotypes import dag_to_genotype, pair_cells

            if dag_to_genotype(*pair_cells(got)) != g:
                raise WrongResult("as_dag(genotype) does not read back to the genotype")
    elif r == 4:  # NAS-Bench-101 specs
        as_dag(_nb101_spec(rng))
    elif r in (5, 6):  # DAG JSON as text, bytes, a path (str or PathLike) or a parsed document
        dag = random_valid_dag(rng, nest=0.2)
        text = dag.to_json(indent=rng.choice([None, 2]))
        corrupt = rng.random() < 0.4
        if corrupt:
            from fuzz_harness import _corrupt_text

            c = _corrupt_text(rng, text)
            data = c if isinstance(c, bytes) else c.encode("utf-8")
        else:
            data = text.encode("utf-8")
        how = rng.randrange(5)
        if how == 0:
            obj: Any = data.decode("utf-8", "replace") if rng.random() < 0.5 else data
        elif how == 1:
            obj = data
        elif how == 2:
            obj = write_file(rng.choice(["dag.json", "d a g.json", "dag"]), data)
        elif how == 3:
            obj = Path(write_file("dag.json", data))
        else:
            try:
                obj = json.loads(data)
            except (ValueError, RecursionError):
                obj = {"format": "graphnas.dag"}
        got = as_dag(obj)
        if not corrupt and got != dag:
            raise WrongResult("as_dag of a DAG document does not give the DAG back")
    elif r == 7:  # paths that are not DAG files
        obj = rng.choice([os.path.dirname(write_file("x", b"")), write_file("empty.json", b""), "/",
                          ".", "..", "./missing.json", Path("missing"), "x" * 5000, "a\x00b", "~", "~/missing",
                          Path(write_file("bin", bytes(range(256))))])
        as_dag(obj)
    elif r == 8:  # other objects
        as_dag(rng.choice([None, 5, 1.5, [], (), [1, 2], ("a", "b"), {}, {"format": "graphnas.dag"}, {1: 2},
                           bytearray(b"{}"), memoryview(b"x"), object(), Node("conv"), [DAG(["input"])], b"",
                           "", " ", "\n", rand_json_value(rng)]))
    elif r == 9:  # a DAG as it is
        dag = random_valid_dag(rng)
        if as_dag(dag) is not dag:
            raise WrongResult("as_dag(dag) is not dag")
    else:  # a space's member through to_json / arch string
        from graphnas.generators import NB101Space

        sp = NB101Space()
        dag = sp.sample(seed=rng.randrange(2**31))
        if as_dag(sp.to_spec(dag)) != dag:
            raise WrongResult("as_dag(NB101 spec) does not give the cell back")

