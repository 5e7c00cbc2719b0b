"""The fuzzing harness: every public entry point driven with random and corrupted input.

An *entry point* is one small function ``case(rng) -> int | None`` registered with
:func:`entry_point`. It draws one random case from ``rng`` (a ``random.Random``:
the bench passes a seeded one, the tests pass hypothesis' ``st.randoms()`` so that
a failure shrinks), feeds it to graphnas and checks what a user relies on. Each
run is classified by :func:`classify`:

- **accepted**: the call returned and the checks passed;
- **clear error**: it raised one of the entry point's documented error types
  (``GraphError`` unless said otherwise), from graphnas' own code, with a
  message that names the culprit (matches the entry point's ``culprit`` pattern);
- **defect**: anything else: another exception (PyTorch's, ``KeyError``,
  ``RecursionError``, ...), a documented error with an empty or vague message,
  a hang past ``timeout`` seconds, or a wrong result (:class:`WrongResult`).

A case may return an int: the number of sub-cases it covered (a mutation chain
of 1,000 steps counts 1,000). Adding an entry point is one decorated function.

``tests/fuzz/test_fuzz.py`` runs a few hundred cases of each (fixed seeds);
``bench/fuzz.py`` runs >= 10,000 of each and prints the table of
``docs/benchmarks/fuzz.md``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import random
import re
import signal
import string
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import graphnas
from graphnas import DAG, GraphError, Node

ACCEPTED, CLEAR, DEFECT = "accepted", "clear error", "defect"


class WrongResult(AssertionError):
    """A call returned, but not what a user relies on."""


class CaseTimeout(BaseException):
    """Raised into a case that ran past its time limit (a BaseException: graphnas' ``except Exception`` misses it)."""


@dataclass
class EntryPoint:
    name: str
    case: Callable[[random.Random], int | None]
    errors: tuple[type[BaseException], ...] = (GraphError,)
    culprit: str = r"node|edge|input|output|op\b|param|DAG|graph"
    bounded: int = 200  # calls of case() in the test suite (a mutation chain is one call)
    full: int = 10_000  # cases in bench/fuzz.py (sub-cases counted)
    timeout: float = 20.0
    doc: str = ""


ENTRY_POINTS: dict[str, EntryPoint] = {}


def entry_point(name: str, **kw: Any) -> Callable[[Callable[[random.Random], int | None]], Callable]:
    """Register ``case`` as the entry point ``name`` (see :class:`EntryPoint` for the options)."""

    def deco(fn: Callable[[random.Random], int | None]) -> Callable:
        ENTRY_POINTS[name] = EntryPoint(name, fn, doc=(fn.__doc__ or "").strip().split("\n")[0], **kw)
        return fn

    return deco


@dataclass
class Outcome:
    kind: str
    weight: int = 1
    detail: str = ""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the block after ``seconds`` (main thread only; elsewhere no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"no answer after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _from_graphnas(err: BaseException) -> bool:
    """Whether ``err`` was raised by graphnas' own code (not by a library it calls)."""
    frames = traceback.extract_tb(err.__traceback__)
    if not frames:
        return False
    path = frames[-1].filename.replace("\\", "/")
    return "/graphnas/" in path and "/tests/" not in path


class ClearRefusal(Exception):  # noqa: N818 - an outcome, not an error
    """Raised by a case that has checked a clear refusal made without a Python exception (the CLI's one
    ``graphnas: error: ...`` line and a non-zero exit status): counted as a clear error."""


def classify(ep: EntryPoint, rng: random.Random) -> Outcome:
    """Run one case of ``ep`` and say what happened."""
    try:
        with time_limit(ep.timeout):
            weight = ep.case(rng)
    except CaseTimeout as err:
        return Outcome(DEFECT, 1, f"hang: {err}")
    except WrongResult as err:
        return Outcome(DEFECT, 1, f"wrong result: {err}")
    except ClearRefusal as err:
        return Outcome(CLEAR, 1, str(err))
    except ep.errors as err:
        msg = str(err)
        if not msg.strip():
            return Outcome(DEFECT, 1, f"{type(err).__name__} with an empty message")
        if not _from_graphnas(err):
            return Outcome(DEFECT, 1, f"{type(err).__name__} raised outside graphnas: {msg}\n{_tb(err)}")
        if not re.search(ep.culprit, msg):
            return Outcome(DEFECT, 1, f"{type(err).__name__} does not name the culprit: {msg}")
        return Outcome(CLEAR, 1, f"{type(err).__name__}: {msg}")
    except Exception as err:  # noqa: BLE001 - any other exception is what the harness looks for
        return Outcome(DEFECT, 1, f"{type(err).__name__}: {err}\n{_tb(err)}")
    return Outcome(ACCEPTED, int(weight) if weight else 1)


def _tb(err: BaseException) -> str:
    return "".join(traceback.format_exception(type(err), err, err.__traceback__)[-6:])


@dataclass
class Tally:
    name: str
    counts: dict[str, int] = field(default_factory=lambda: {ACCEPTED: 0, CLEAR: 0, DEFECT: 0})
    defects: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def cases(self) -> int:
        return sum(self.counts.values())


def run_entry(ep: EntryPoint, cases: int, seed: int = 0, *, keep: int = 5) -> Tally:
    """Run ``ep`` until ``cases`` (sub-)cases are done; case ``k`` uses ``random.Random(f"{seed}:{name}:{k}")``."""
    import time

    tally = Tally(ep.name)
    start = time.perf_counter()
    k = 0
    while tally.cases < cases:
        out = classify(ep, random.Random(f"{seed}:{ep.name}:{k}"))
        tally.counts[out.kind] += out.weight
        if out.kind == DEFECT and len(tally.defects) < keep:
            tally.defects.append((k, out.detail))
        k += 1
    tally.seconds = time.perf_counter() - start
    return tally


# =========================================================================== random material

_WORKDIR: str | None = None


def workdir() -> str:
    """A private temporary folder for the file entry points (removed at exit)."""
    global _WORKDIR
    if _WORKDIR is None:
        import atexit
        import shutil

        _WORKDIR = tempfile.mkdtemp(prefix="graphnas-fuzz-")
        atexit.register(shutil.rmtree, _WORKDIR, True)
    return _WORKDIR


def write_file(name: str, data: bytes) -> str:
    path = os.path.join(workdir(), name)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def rand_text(rng: random.Random, n: int | None = None) -> str:
    n = rng.randint(0, 12) if n is None else n
    pool = string.ascii_letters + string.digits + "_-. |~+{}[]\"\\\n\t\x00é→💥"
    return "".join(rng.choice(pool) for _ in range(n))


def weird_scalar(rng: random.Random) -> Any:
    """A JSON-ish scalar, often an awkward one."""
    return rng.choice([
        0, 1, -1, 2, 3, 7, 2.0, 1.5, -0.0, 10**30, -(10**30), 10**400, float("inf"), float("-inf"), 1e308,
        True, False, None, "", "x", "3", "sum", "concat", "nor_conv_3x3", rand_text(rng), [], [1, 2], {},
    ])


def rand_json_value(rng: random.Random, depth: int = 0) -> Any:
    r = rng.random()
    if depth > 3 or r < 0.6:
        return weird_scalar(rng)
    if r < 0.8:
        return [rand_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rand_text(rng, 3): rand_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _random_edges(rng: random.Random, k_in: int, n: int, p: float) -> list[tuple[int, int]]:
    """Forward edges, each with probability ``p``, and at least one into every node after the inputs."""
    edges = set()
    for d in range(k_in, n):
        for s in range(d):
            if rng.random() < p:
                edges.add((s, d))
        if not any(e[1] == d for e in edges):
            edges.add((rng.randrange(d), d))
    return sorted(edges)


def known_ops() -> list[str]:
    from graphnas.ops import list_ops

    return list_ops()


def random_valid_dag(rng: random.Random, *, ops: list[str] | None = None, max_nodes: int = 7,
                     nest: float = 0.0) -> DAG:
    """A well-formed DAG: a random forward edge set repaired so that every node lies on an input-output path."""
    ops = ops or ["conv", "pool", "identity", "nor_conv_3x3", "skip_connect"]
    n = rng.randint(1, max_nodes)
    k_in = rng.randint(1, min(2, n))
    nodes: list[Node] = []
    for i in range(n):
        if i < k_in:
            nodes.append(Node("input"))
            continue
        op: Any = rng.choice(ops)
        if nest and rng.random() < nest:
            op = random_valid_dag(rng, ops=ops, max_nodes=3, nest=nest / 3)
            if len(op.inputs) > 1:  # a nested DAG with several inputs needs one predecessor each; keep it simple
                op = DAG(["input", rng.choice(ops)], [(0, 1)])
        params = {}
        if rng.random() < 0.3:
            params = {"C": rng.randint(1, 16)}
        nodes.append(Node(op, params, rng.choice(graphnas.COMBINES)))
    edges = _random_edges(rng, k_in, n, 0.4)
    outs = [i for i in range(n) if not any(e[0] == i for e in edges)]
    return DAG(nodes, edges, inputs=list(range(k_in)), outputs=outs)


# =========================================================================== DAG construction


def _rand_node_arg(rng: random.Random, built: list[DAG], bad: float) -> Any:
    """A node argument: mostly a well-formed Node, with probability ``bad`` a malformed one."""
    r = rng.random()
    if r < 0.1 and built:
        return rng.choice(built)  # a nested DAG as shorthand
    if r < 0.15:
        return rng.choice(["input", "conv", "identity"])
    if r < 0.15 + bad / 4:
        return rng.choice(["", 5, None, b"conv", ["conv"]])
    op: Any = rng.choice(["input", "conv", "pool", "identity", "x" * rng.randint(1, 3)])
    if built and rng.random() < 0.1:
        op = rng.choice(built)
    params: Any = None
    p = rng.random()
    if p < 0.4:
        params = {rand_text(rng, 2): rand_json_value(rng) for _ in range(rng.randint(0, 3))}
    elif p < 0.4 + bad / 4:
        params = rng.choice([[("a", 1)], "C=3", 5, {1: 2}, {"a": {1, 2}}, {"a": float("nan")}, {"a": object()}])
    combine: Any = rng.choice(graphnas.COMBINES)
    if rng.random() < bad / 4:
        combine = rng.choice(["max", "", None, 1, ["sum"]])
    return Node(op, params, combine)


def _rand_index(rng: random.Random, n: int, bad: float) -> Any:
    if rng.random() < bad / 4:
        return rng.choice([True, 1.0, "1", None, 10**20, -(10**20), (1,), -1, n])
    return rng.randrange(n) if n else 0


@entry_point("DAG(nodes, edges)", culprit=r"node|edge|input|output|op\b|param|DAG|graph|combine")
def dag_construction(rng: random.Random) -> None:
    """Random nodes, params, combine rules, edges, ports and nested DAGs into DAG()."""
    built: list[DAG] = []
    for _ in range(rng.randint(1, 3)):  # later graphs may nest earlier ones
        bad = rng.choice([0.0, 0.0, 0.0, 0.1, 0.5])
        n = rng.randint(0 if bad else 1, 8)
        nodes = [_rand_node_arg(rng, built, bad) for _ in range(n)]
        edges: Any = set()
        for d in range(n):  # forward edges to every node but the first few (they become inputs)
            for s in range(d):
                if rng.random() < 0.3:
                    edges.add((s, d))
        edges = sorted(edges)
        rng.shuffle(edges)
        for _ in range(rng.randint(0, 3) if bad else 0):
            edges.append(tuple(_rand_index(rng, n, 2.0 * bad) for _ in range(rng.choice([2, 2, 2, 1, 3]))))
        if rng.random() < bad / 5:
            edges = rng.choice([None, 5, "01", [[0, 1], None], iter([(0, 1)])])
        ports: list[Any] = []
        for _ in range(2):
            p = rng.random()
            ports.append(None if p < 0.7 else
                         [_rand_index(rng, n, bad) for _ in range(rng.randint(1, 2))] if p < 0.95 else
                         rng.choice([0, "0", {0: 1}, []]))
        dag = DAG(nodes, edges, inputs=ports[0], outputs=ports[1])
        _check_dag_invariants(dag)
        built.append(dag)


def _check_dag_invariants(dag: DAG) -> None:
    for s, d in dag.edges:
        if not (0 <= s < d < len(dag)):
            raise WrongResult(f"edge ({s}, {d}) is not forward")
    if list(dag.edges) != sorted(dag.edges, key=lambda e: (e[1], e[0])):
        raise WrongResult("edges are not sorted by destination then source")
    for i in dag.inputs:
        if dag.predecessors(i):
            raise WrongResult(f"input {i} has predecessors")
    back = DAG.from_json(dag.to_json())
    if back != dag or hash(back) != hash(dag):
        raise WrongResult("the JSON round trip changed the graph")


# =========================================================================== JSON documents


def _corrupt_text(rng: random.Random, text: str) -> str | bytes:
    how = rng.randrange(10)
    if how == 0 and text:  # truncated
        return text[:rng.randrange(len(text))]
    if how == 1 and text:  # characters flipped
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            chars[rng.randrange(len(chars))] = rng.choice('{}[],:"0123456789-eE.ntfx\\ \x00')
        return "".join(chars)
    if how == 2:  # deep nesting
        depth = rng.choice([100, 1000, 5000, 50_000, 200_000])
        return rng.choice(["[", '{"a":', '{"format": "graphnas.dag", "version": 1, "nodes": ['])  * depth
    if how == 3:  # huge numbers
        return re.sub(r"\b\d+\b", lambda m: rng.choice(["1e400", "-1e400", "9" * 400, "NaN", "Infinity",
                                                         m.group(0), "1.5", "-1"]), text)
    if how == 4:  # invalid bytes
        raw = bytearray(text.encode())
        for _ in range(rng.randint(1, 3)):
            raw.insert(rng.randint(0, len(raw)), rng.randrange(128, 256))
        return bytes(raw)
    if how == 5:  # a field replaced by something random
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError):
            return text
        _mutate_json(rng, doc)
        return json.dumps(doc)
    if how == 6:  # a nested DAG chain, deep
        depth = rng.choice([10, 200, 2000])
        body: Any = {"nodes": [{"op": "input"}, {"op": "conv"}], "edges": [[0, 1]]}
        for _ in range(depth):
            body = {"nodes": [{"op": "input"}, {"op": body}], "edges": [[0, 1]]}
        return json.dumps({"format": "graphnas.dag", "version": 1, **body}) if depth < 500 else \
            _deep_doc(depth)
    if how == 7:  # foreign documents
        return rng.choice(["", " ", "null", "[]", "{}", '"graphnas.dag"', "1", "{'a': 1}", "\ufeff{}",
                           '{"format": "graphnas.dag"}', '{"format": "graphnas.dag", "version": 2}',
                           '{"format": "graphnas.dag", "version": 1}', "a,b\n1,2\n", rand_text(rng, 40)])
    if how == 8:  # a random splice
        i = rng.randrange(len(text) + 1)
        return text[:i] + rand_text(rng, rng.randint(1, 8)) + text[i:]
    return text


def _deep_doc(depth: int) -> str:
    head = '{"nodes": [{"op": "input"}, {"op": '
    tail = '}], "edges": [[0, 1]]}'
    inner = '{"nodes": [{"op": "input"}, {"op": "conv"}], "edges": [[0, 1]]}'
    return '{"format": "graphnas.dag", "version": 1, "nodes": [{"op": "input"}, {"op": ' + head * depth + inner + \
        tail * depth + '}], "edges": [[0, 1]]}'


def _mutate_json(rng: random.Random, doc: Any) -> None:
    """Replace one value somewhere inside ``doc`` (a dict or list) by a random one."""
    for _ in range(20):
        if isinstance(doc, dict) and doc:
            key = rng.choice(list(doc))
            if rng.random() < 0.4 and isinstance(doc[key], (dict, list)) and doc[key]:
                doc = doc[key]
                continue
            if rng.random() < 0.15:
                del doc[key]
            else:
                doc[key] = rand_json_value(rng)
            return
        if isinstance(doc, list) and doc:
            i = rng.randrange(len(doc))
            if rng.random() < 0.5 and isinstance(doc[i], (dict, list)) and doc[i]:
                doc = doc[i]
                continue
            doc[i] = rand_json_value(rng)
            return
        return


def _random_doc(rng: random.Random) -> str:
    dag = random_valid_dag(rng, nest=0.3)
    if rng.random() < 0.3:
        nodes = [n.replace(params={"C": rng.randint(1, 64), "k": [1, 2], "f": 0.5, "s": "x"}) for n in dag.nodes]
        dag = dag.replace(nodes=nodes)
    return dag.to_json(indent=rng.choice([None, 1]))


@entry_point("DAG.from_json", culprit=r"\$|JSON|json|document|format|version|node|edge|input|output|nest")
def json_loading(rng: random.Random) -> None:
    """Corrupted, truncated, foreign, huge-number and deeply nested JSON documents into DAG.from_json."""
    text = _random_doc(rng)
    for _ in range(rng.randint(1, 2)):
        corrupted = _corrupt_text(rng, text)
        text = corrupted if isinstance(corrupted, str) else corrupted.decode("utf-8", "replace")
    data: Any = corrupted
    if rng.random() < 0.05:
        data = rng.choice([None, 5, ["{}"], bytearray(b"{}")])
    dag = DAG.from_json(data)
    _check_dag_invariants(dag)


def _damaged(rng: random.Random, text: str, r: float, cuts: tuple[float, float, float], max_binary: int
             ) -> bytes | None:
    """``text`` truncated (r < cuts[0]), corrupted (r < cuts[1]) or replaced by random bytes (r < cuts[2]);
    None above the last cut, where the caller damages it its own way."""
    if r < cuts[0]:
        return text.encode()[:rng.randrange(len(text) + 1)]
    if r < cuts[1]:
        c = _corrupt_text(rng, text)
        return c.encode() if isinstance(c, str) else c
    if r < cuts[2]:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, max_binary)))
    return None


@entry_point("DAG.load", errors=(GraphError, OSError),
             culprit=r"\$|JSON|json|document|format|version|node|edge|input|output|nest|No such file|directory")
def file_loading(rng: random.Random) -> None:
    """Truncated, corrupted, binary and missing files into DAG.load."""
    text = _random_doc(rng)
    data = _damaged(rng, text, rng.random(), (0.4, 0.7, 0.85), 64)
    if data is None:
        data = text.encode(rng.choice(["utf-8", "utf-16", "utf-8-sig", "latin-1"]), "replace")
    path = write_file("dag.json", data)
    if rng.random() < 0.05:
        path = rng.choice([path + ".missing", workdir()])
    dag = DAG.load(path)
    _check_dag_invariants(dag)


# =========================================================================== PyG input


@entry_point("from_pyg", bounded=100, culprit=r"node|edge|input|output|vocabulary|data\.|one-hot|op\b")
def pyg_input(rng: random.Random) -> None:
    """Random and corrupted torch_geometric Data (and vocabularies) into graphnas.from_pyg."""
    import torch

    vocab_list = ["input", "conv", "pool", "identity"][:rng.randint(1, 4)]
    dag = random_valid_dag(rng, ops=vocab_list[1:] or ["input"], max_nodes=6)
    vocab_list = sorted(set(vocab_list) | {str(op) for op in dag.ops})
    vocab: Any = vocab_list if rng.random() < 0.7 else {op: i for i, op in enumerate(vocab_list)}
    data = graphnas.to_pyg(dag, vocab)
    faults = 0
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        faults += 1
        what = rng.randrange(12)
        if what in (0, 1, 2, 3) and not isinstance(getattr(data, "x" if what < 3 else "edge_index", None),
                                                torch.Tensor):
            continue  # an earlier fault removed what this one would change
        if what == 0:
            if data.x.dim() != 2:
                continue  # an earlier fault changed its shape
            data.x = data.x[:, :rng.randrange(data.x.shape[1] + 2)] if rng.random() < 0.5 else data.x.t()
        elif what == 1:
            data.x = data.x * rng.choice([0.0, 2.0, float("nan"), -1.0])
        elif what == 2:
            data.x = rng.choice([None, torch.zeros(3), torch.ones(len(dag), len(vocab_list), 2),
                                 data.x.long(), data.x.bool(), torch.zeros(0, len(vocab_list))])
        elif what == 3:
            data.edge_index = data.edge_index.flip(0)
        elif what == 4:
            data.edge_index = torch.randint(-2, len(dag) + 2, (2, rng.randint(0, 6)))
        elif what == 5:
            data.edge_index = rng.choice([None, torch.zeros(3, 2, dtype=torch.long), torch.zeros(2, 2),
                                          torch.zeros(2, dtype=torch.long), torch.tensor([[0], [10**12]])])
        elif what == 6:
            data.inputs = rng.choice([torch.tensor([], dtype=torch.long), torch.tensor([len(dag)]),
                                      torch.tensor([[0]]), torch.tensor([0.5]), torch.tensor([-1])])
        elif what == 7:
            del data["outputs" if rng.random() < 0.5 else "inputs"]
        elif what == 8:
            vocab = rng.choice([[], ["conv", "conv"], {"conv": 1}, {"a": 0, "b": 0}, vocab_list[::-1], "conv"])
        elif what == 9:
            data.outputs = torch.tensor([rng.randrange(-1, len(dag) + 1)])
        elif what == 10:  # not a Data at all (last: nothing after it can set attributes)
            data = rng.choice([None, 5, {"x": data.x}])
            break
        else:
            faults -= 1
    back = graphnas.from_pyg(data, vocab)
    if faults == 0:
        # a list of op names encodes ops, combine rules and ports, but no params
        plain = DAG([Node(str(n.op), combine=n.combine) for n in dag.nodes], dag.edges, inputs=dag.inputs,
                    outputs=dag.outputs)
        if back != plain:
            raise WrongResult("from_pyg(to_pyg(dag)) is not the graph without its params")


# networkx, igraph, adjacency, labelled edges and as_dag input: in their own module (it imports the helpers above)
import fuzz_convert  # noqa: E402, F401, I001


# =========================================================================== compiling and running


# params an op takes besides C and stride, with valid and invalid values
_EXTRA_PARAMS: dict[str, list[tuple[str, Any]]] = {
    "chain_conv": [("filters", 4), ("filters", 7), ("kernel", [3, 5]), ("kernel", [1, 7]), ("kernel", [2, 2]),
                   ("kernel", [0, 3]), ("filters", 0), ("filters", 2.5)],
    "conv_bn": [("kernel", 3), ("kernel", [1, 5]), ("kernel", 4), ("kernel", -1)],
    "relu_conv_bn": [("kernel", 1), ("kernel", [3, 1]), ("kernel", 2), ("kernel", [3, 3, 3])],
    "drop_path": [("p", 0.2), ("p", 0.0), ("p", 1.0), ("p", 1.5), ("p", -0.1)],
    "linear": [("dropout", 0.1), ("dropout", 1.5), ("dropout", -1)],
}


def _op_params(rng: random.Random, op: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if rng.random() < 0.4:
        params["C"] = rng.choice([1, 2, 3, 4, 6, 8, 4.0, 0, -2, 2.5])
    if rng.random() < 0.35:
        params["stride"] = rng.choice([1, 2, 2, 3, 4, 2.0, 0, 1.5])
    if op in _EXTRA_PARAMS and rng.random() < 0.8:
        params.update(dict([rng.choice(_EXTRA_PARAMS[op]) for _ in range(rng.randint(1, 2))]))
    if op == "chain_conv" and "filters" not in params and rng.random() < 0.9:
        params["filters"] = rng.randint(1, 8)
    if rng.random() < 0.02:
        params["bogus"] = 1
    return params


def random_torch_dag(rng: random.Random, *, max_nodes: int = 6, nest: float = 0.1) -> DAG:
    """A random DAG over the registered ops with random params and combine rules (may not compile)."""
    ops = known_ops()
    n = rng.randint(2, max_nodes)
    k_in = rng.choice([1, 1, 1, 2])
    k_in = min(k_in, n - 1)
    nodes: list[Node] = [Node("input")] * k_in
    for _ in range(k_in, n):
        if nest and rng.random() < nest:
            inner = random_torch_dag(rng, max_nodes=3, nest=0.0)
            if len(inner.inputs) > 1:
                inner = DAG(["input", rng.choice(ops)], [(0, 1)])
            nodes.append(Node(inner, None, rng.choice(graphnas.COMBINES)))
            continue
        op = rng.choice([*ops, "identity"])
        nodes.append(Node(op, _op_params(rng, op), rng.choice(graphnas.COMBINES)))
    return DAG(nodes, _random_edges(rng, k_in, n, 0.35), inputs=list(range(k_in)))


def expected_size(size: int, scale: int) -> int:
    """The spatial size of a value at ``scale`` on an input of ``size``: every op pads 'same' and rounds up."""
    return -(-size // scale)


def run_compiled(gm: Any, dag: DAG, in_channels: list[int], hw: tuple[int, int], *, train: bool,
                 seed: int) -> None:
    """One forward (and in training, backward) pass; checks the output shapes against the inferred ones."""
    import torch

    g = torch.Generator().manual_seed(seed)
    batch = 2 if train else 1 + seed % 2
    xs = [torch.randn(batch, c, *hw, generator=g, requires_grad=train) for c in in_channels]
    gm.train(train)
    if train:
        out = gm(*xs)
    else:
        with torch.no_grad():
            out = gm(*xs)
    outs = out if isinstance(out, tuple) else (out,)
    shapes = gm.graphnas_shapes
    for o, t in zip(dag.outputs, outs):
        s = shapes[o]
        want = (batch, s.C) if s.scale is None else (batch, s.C, expected_size(hw[0], s.scale),
                                                        expected_size(hw[1], s.scale))
        if tuple(t.shape) != want:
            raise WrongResult(f"output node {o} has shape {tuple(t.shape)} on a {hw} input, the converter "
                              f"inferred {s}, i.e. {want}")
    if train:
        loss = sum(t.float().pow(2).mean() for t in outs if t.is_floating_point())
        if isinstance(loss, torch.Tensor) and loss.requires_grad:
            loss.backward()
            for x in xs:
                if x.grad is not None and x.grad.shape != x.shape:
                    raise WrongResult("the input gradient has the wrong shape")


_SIZES = [1, 2, 3, 5, 7, 8, 9, 11, 12, 13, 16, 17]


# GraphError at compile time; at run time a ValueError from graphnas refusing an input too small for an op
@entry_point("to_torch + run", errors=(ValueError,), timeout=60.0, bounded=300,
             culprit=r"node|edge|input|output|op\b|param|DAG|stride|channels")
def compile_and_run(rng: random.Random) -> None:
    """Random DAGs over every registered op compiled by to_torch and run (train + eval, forward + backward)
    on odd, 1x1 and non-square inputs; the output shapes must be the inferred ones.

    Cheap by design (about 3 ms a case on one core): channels stay at most 8 and inputs at most 17x17 (every
    rounding and alignment case of strides 2 to 4 shows below that), and one compiled module serves one to
    three input sizes. The bench runs it with one intra-op thread (``bench/fuzz.py --threads``): on a busy
    machine torch's thread pool made each case ten times slower."""
    from graphnas.converters.torch import to_torch

    dag = random_torch_dag(rng)
    in_channels = [rng.randint(1, 6) for _ in dag.inputs]
    align = "project" if rng.random() < 0.9 else "error"
    gm = to_torch(dag, in_channels, align=align)
    for _ in range(rng.randint(1, 3)):
        h = rng.choice(_SIZES)
        w = h if rng.random() < 0.5 else rng.choice(_SIZES)
        train = rng.random() < 0.6
        run_compiled(gm, dag, in_channels, (h, w), train=train, seed=rng.randrange(2**31))


# =========================================================================== spaces


def _spaces() -> dict[str, Any]:
    from graphnas.generators import get_generator, list_generators

    out = {}
    for name in list_generators():
        gen = get_generator(name)
        if hasattr(gen, "check") and hasattr(gen, "mutate"):
            out[name] = gen
    return out


_SPACE_CACHE: dict[str, Any] = {}


def space(name: str) -> Any:
    if not _SPACE_CACHE:
        _SPACE_CACHE.update(_spaces())
    return _SPACE_CACHE[name]


def _corrupt_dag(rng: random.Random, dag: DAG, vocabulary: list[str]) -> DAG:
    """A small random change that may take ``dag`` out of its space (or keep it in)."""
    what = rng.randrange(6)
    nodes = list(dag.nodes)
    i = rng.randrange(len(nodes))
    try:
        if what == 0:
            op = nodes[i].op
            return dag.with_node(i, nodes[i].replace(op=rng.choice(vocabulary) if isinstance(op, str) else op))
        if what == 1:
            return dag.with_node(i, nodes[i].replace(params={**nodes[i].params, rand_text(rng, 1): 1}))
        if what == 2:
            return dag.with_node(i, nodes[i].replace(combine=rng.choice(graphnas.COMBINES)))
        if what == 3 and dag.edges:
            edges = list(dag.edges)
            edges.pop(rng.randrange(len(edges)))
            return dag.replace(edges=edges, inputs=None, outputs=None) if rng.random() < 0.5 else \
                dag.replace(edges=edges)
        if what == 4 and len(dag) > 2:
            s = rng.randrange(len(dag) - 1)
            d = rng.randrange(s + 1, len(dag))
            return dag.replace(edges=sorted(set(dag.edges) | {(s, d)}))
    except GraphError:
        return dag
    return random_valid_dag(rng, ops=vocabulary)


def _space_check_case(name: str) -> Callable[[random.Random], None]:
    def case(rng: random.Random) -> None:
        sp = space(name)
        vocabulary = list(getattr(sp, "vocabulary", ())) or known_ops()
        member = sp.sample(seed=rng.randrange(-2**31, 2**31))
        if not sp.contains(member):
            raise WrongResult(f"{name}: a sampled graph is not contained in its space")
        r = rng.random()
        if r < 0.6:
            dag = _corrupt_dag(rng, member, vocabulary + ["conv", "input", "identity"])
        elif r < 0.8:
            other = space(rng.choice(sorted(_SPACE_CACHE)))
            dag = other.sample(seed=rng.randrange(2**31))
        else:
            dag = random_valid_dag(rng, ops=vocabulary, nest=0.1)
        inside = sp.contains(dag)
        if inside != (dag in sp):
            raise WrongResult(f"{name}: contains() and 'in' disagree")
        try:
            sp.check(dag)
        except GraphError:
            if inside:
                raise WrongResult(f"{name}: check() refuses a graph contains() accepts") from None
            raise
        if not inside:
            raise WrongResult(f"{name}: check() accepts a graph contains() refuses")

    case.__doc__ = f"contains/check of the {name} space on members, corrupted members, other spaces' graphs."
    return case


def _space_mutate_case(name: str, steps: int = 1000) -> Callable[[random.Random], int]:
    def case(rng: random.Random) -> int:
        sp = space(name)
        dag = sp.sample(seed=rng.randrange(2**31))
        chain = random.Random(rng.randrange(2**63))  # one seed per chain: cheap to draw under hypothesis
        for step in range(steps):
            new = sp.mutate(dag, seed=chain)
            if new == dag:
                raise WrongResult(f"{name}: mutate step {step} changed nothing")
            try:
                sp.check(new)
            except GraphError as err:
                raise WrongResult(f"{name}: mutate step {step} left the space: {err}") from None
            dag = new
        return steps

    case.__doc__ = f"mutate chains of {steps} steps in the {name} space, each step checked to stay in it."
    return case


SPACE_NAMES = ["chain", "darts", "enas", "nasnet", "nb101", "nb201", "randwire"]
for _name in SPACE_NAMES:
    entry_point(f"space {_name}: check", bounded=100, culprit=r".")(_space_check_case(_name))
    entry_point(f"space {_name}: mutate", bounded=1, full=10_000)(_space_mutate_case(_name))


def _space_decode_case(name: str) -> Callable[[random.Random], None]:
    def case(rng: random.Random) -> None:
        from graphnas.generators.decisions import walk

        sp = space(name)
        if rng.random() < 0.4:  # a member's own sequence, then perhaps one corruption
            choices = list(sp.encode(sp.sample(seed=rng.randrange(2**31))))
            if choices and rng.random() < 0.7:
                what, k = rng.randrange(4), rng.randrange(len(choices))
                if what == 0:
                    choices[k] = rng.choice([-1, choices[k] + 1, choices[k] + 2**rng.randrange(1, 40), 10**30])
                elif what == 1:
                    del choices[k:]
                elif what == 2:
                    choices.append(rng.randrange(4))
                else:
                    choices[k] = rng.choice([0.5, "1", None, True])
        else:  # random ints of a random length
            choices = [rng.randrange(-1, 9) for _ in range(rng.randrange(0, 40))]
        dag = sp.decode(choices)
        try:
            sp.check(dag)
        except GraphError as err:
            raise WrongResult(f"{name}: decode() returned a graph outside the space: {err}") from None
        if sp.decode(sp.encode(dag)) != dag:
            raise WrongResult(f"{name}: decode(encode(decode(choices))) != decode(choices)")
        if len(walk(sp, list(sp.encode(dag)))) != len(sp.encode(dag)):
            raise WrongResult(f"{name}: walk() does not answer every decision of a member's sequence")

    case.__doc__ = f"decode of random and corrupted decision sequences in the {name} space."
    return case


DECISION_SPACES = ["chain", "darts", "enas", "nasnet", "nb101", "nb201"]
for _name in DECISION_SPACES:
    entry_point(f"space {_name}: decode", bounded=150, culprit=r"decision|choice|choices|sequence")(
        _space_decode_case(_name))


# =========================================================================== journals


def _journal_text(rng: random.Random) -> str:
    from graphnas.generators import NB201Space
    from graphnas.search.loop import Evaluation

    sp = NB201Space()
    lines = [json.dumps({"format": "graphnas.journal", "version": 1})]
    for i in range(rng.randint(0, 5)):
        ok = rng.random() < 0.8
        e = Evaluation(sp.sample(seed=rng.randrange(2**31)), rng.uniform(0, 100) if ok else float("nan"),
                       rng.random(), "ok" if ok else "failed", None if ok else "boom", {"epochs": 1})
        lines.append(json.dumps(e.to_dict(i)))
    return "\n".join(lines) + "\n"


def _corrupt_journal(rng: random.Random, text: str) -> bytes:
    lines = text.split("\n")
    what = rng.randrange(9)
    if what == 0:  # a line replaced anywhere
        i = rng.randrange(len(lines))
        lines[i] = rng.choice([rand_text(rng, 20), "{}", "[]", "5", "null", '"x"', lines[i][:len(lines[i]) // 2],
                               json.dumps(rand_json_value(rng))])
    elif what == 1:  # a field of an evaluation replaced
        i = rng.randrange(len(lines))
        try:
            doc = json.loads(lines[i])
            key = rng.choice(["dag", "value", "seconds", "status", "error", "info", "index"])
            if rng.random() < 0.3:
                doc.pop(key, None)
            else:
                doc[key] = rand_json_value(rng)
            lines[i] = json.dumps(doc)
        except (ValueError, AttributeError):
            pass
    elif what == 2:  # wrong version / format header
        lines[0] = json.dumps({"format": rng.choice(["graphnas.journal", "other"]),
                               "version": rng.choice([0, 2, "1", None, 1.5])})
    elif what == 3:  # cut anywhere
        cut = "\n".join(lines)
        return cut[:rng.randrange(len(cut) + 1)].encode()
    elif what == 4:  # a foreign file
        return rng.choice([b"", b"\x00\x01\xff" * 10, b"arch,acc\n|a|,1\n", b"\xef\xbb\xbf{}\n",
                           json.dumps({"format": "graphnas.dag", "version": 1, "nodes": [{"op": "input"}],
                                       "edges": []}).encode(), bytes(rng.randrange(256) for _ in range(40))])
    elif what == 5:  # no header
        lines = lines[1:]
    elif what == 6:  # a DAG inside an evaluation corrupted
        i = rng.randrange(1, len(lines)) if len(lines) > 1 else 0
        try:
            doc = json.loads(lines[i])
            if isinstance(doc.get("dag"), dict):
                _mutate_json(rng, doc["dag"])
            lines[i] = json.dumps(doc)
        except (ValueError, AttributeError):
            pass
    elif what == 7:  # invalid UTF-8 in a line
        return "\n".join(lines).encode()[:-3] + b"\xff\xfe\n"
    return "\n".join(lines).encode()


_JOURNAL_CULPRIT = r"journal|line"


@entry_point("read_journal", errors=(ValueError, OSError), culprit=_JOURNAL_CULPRIT)
def journal_reading(rng: random.Random) -> None:
    """Journals with corrupted lines anywhere, wrong versions, truncation and foreign files into read_journal."""
    from graphnas.search.loop import read_journal

    text = _journal_text(rng)
    data = _corrupt_journal(rng, text) if rng.random() < 0.9 else text.encode()
    path = write_file("journal.jsonl", data)
    history = read_journal(path)
    for e in history.evaluations:
        if not isinstance(e.dag, DAG) or not isinstance(e.value, float):
            raise WrongResult("read_journal returned an evaluation without a DAG or a float value")


@entry_point("run(journal=...) resume", errors=(ValueError, OSError), culprit=_JOURNAL_CULPRIT, bounded=60,
             full=10_000)
def journal_resume(rng: random.Random) -> None:
    """Resuming a search from a corrupted journal: refused clearly, or resumed without losing an evaluation."""
    from graphnas.generators import NB201Space
    from graphnas.search import RandomSearch, read_journal, run

    text = _journal_text(rng)
    data = _corrupt_journal(rng, text) if rng.random() < 0.8 else text.encode()
    path = write_file("resume.jsonl", data)
    before = read_journal(path) if rng.random() < 0.5 else None  # may raise: that is the clear error too
    budget = rng.randint(0, 8)
    history = run(RandomSearch(NB201Space(), seed=rng.randrange(2**31)), lambda d: float(len(d.edges)),
                  budget, journal=path)
    after = read_journal(path)
    if len(after) != len(history):
        raise WrongResult(f"the journal holds {len(after)} evaluations, the run returned {len(history)}")
    if before is not None and [e.dag for e in after.evaluations[:len(before)]] != \
            [e.dag for e in before.evaluations]:
        raise WrongResult("resuming changed the evaluations already in the journal")


# =========================================================================== NB201 table files


def _table_text(rng: random.Random) -> str:
    from graphnas.generators import NB201Space

    sp = NB201Space()
    buf = io.StringIO()
    w = csv.writer(buf)
    header = ["arch", "acc"] + (["loss"] if rng.random() < 0.2 else [])
    rng.shuffle(header)
    w.writerow(header)
    seen = set()
    for _ in range(rng.randint(1, 6)):
        arch = sp.to_string(sp.sample(seed=rng.randrange(2**31)))
        if arch in seen:
            continue
        seen.add(arch)
        w.writerow([{"arch": arch, "acc": f"{rng.uniform(0, 100):.2f}", "loss": "0.5"}[h] for h in header])
    return buf.getvalue()


@entry_point("NB201Table(path)", errors=(ValueError, LookupError, OSError), culprit=r"line|column|header|table|"
             r"architecture|arch|file|\.csv|cell|NAS-Bench")
def nb201_table(rng: random.Random) -> None:
    """Corrupted, truncated, foreign and binary table files into NB201Table, then lookups of random cells."""
    from graphnas.benchmarks import NB201Table

    text = _table_text(rng)
    r = rng.random()
    data = _damaged(rng, text, r, (0.2, 0.4, 0.5), 80)
    if data is None and r < 0.65:
        rows = text.split("\n")
        i = rng.randrange(len(rows))
        rows[i] = rng.choice([rand_text(rng, 20), "a,b,c,d", ",", '"unclosed', "x" * 200_000, "nan,nan", "\x00"])
        data = "\n".join(rows).encode()
    elif data is None:
        data = text.encode("utf-16") if r < 0.7 else text.encode()
    path = write_file("table.csv", data)
    metric = None if rng.random() < 0.8 else rng.choice(["acc", "loss", "arch", ""])
    table = NB201Table(path, metric=metric)
    if len(table) < 1:
        raise WrongResult("a table without rows was accepted")
    arch, value = table.best()
    if table(arch) != value and not math.isnan(value):
        raise WrongResult("best() names a cell whose lookup differs")
    probe: Any = rng.choice([table.space.sample(seed=rng.randrange(2**31)), arch, " " + arch + " ",
                             rand_text(rng), random_valid_dag(rng)])
    table(probe)


# =========================================================================== TODO entry points
# (one small function each once the APIs land; see the report of issue 16)
# - graphnas.to_networkx / from_networkx: random DiGraphs (labels, attributes, cycles, multigraphs)
# - graphnas.to_igraph / from_igraph: random igraph graphs (undirected, missing attributes, cycles)
# - graphnas.from_adjacency(matrix, ops, ...): random matrices (shape, values, lower triangle, NaN)
# - space.decode(choices): random decision sequences for every space with decisions
# - the CLI: random argv through graphnas.cli.main(argv) in-process (no traceback, one line, exit != 0),
#   and a few through a subprocess running the `graphnas` command

# the CLI entry point lives in its own module; it registers itself with @entry_point
import fuzz_cli  # noqa: E402, F401
