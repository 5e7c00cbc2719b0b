"""Speed and memory of modules compiled by graphnas.to_torch against two baselines, in one process.

For (a) the DARTS_V2 CIFAR network (C=36, 20 cells, 32x32 input) and (b) one
32-node RandWire WS(4, 0.75) stage (78 -> 78 channels, 56x56 -> 28x28), time
forward+backward of three modules with the same leaf layers:

- ``graphnas``: ``to_torch`` (generated torch.fx code);
- ``hand``: an independent hand-written module (DARTS: a Cell/Network class
  written out as DARTS does; RandWire: straight-line Python written for the
  one graph, as a person would type it);
- ``interp``: an interpreter-style module, NASLib-like: ``forward`` loops over
  the nodes in topological order and keeps every output in a dict.

Timings are medians over repeats, the three variants interleaved within each
repeat. Peak memory of one forward+backward: CUDA ``max_memory_allocated``, or
on CPU the peak of live tensor bytes from the profiler's memory events. Then
the compile time (DAG -> module) for 32-, 256- and 1000-node graphs.

Run: ``python bench/bench_torch.py`` (CPU, 1 thread) or ``--device cuda --amp
--channels-last``. ``--quick`` uses fewer repeats.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn as nn

from graphnas import DAG, count_params, to_torch
from graphnas.generators import watts_strogatz
from graphnas.genotypes import DARTS_V2
from graphnas.models import _stage, darts_cifar
from graphnas.ops import FactorizedReduce, ReLUConvBN, get_op

# --------------------------------------------------------------------------- hand-written DARTS


class HandCell(nn.Module):
    def __init__(self, genotype, C_pp: int, C_p: int, C: int, reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.pre0 = FactorizedReduce(C_pp, C) if reduction_prev else ReLUConvBN(C_pp, C, 1, 1, 0)
        self.pre1 = ReLUConvBN(C_p, C, 1, 1, 0)
        pairs = genotype.reduce if reduction else genotype.normal
        self.concat = list(genotype.reduce_concat if reduction else genotype.normal_concat)
        self.indices = [i for _, i in pairs]
        self.ops = nn.ModuleList(get_op(op)(C, C, 2 if reduction and i < 2 else 1) for op, i in pairs)
        self.multiplier = len(self.concat)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        for k in range(len(self.ops) // 2):
            a = self.ops[2 * k](states[self.indices[2 * k]])
            b = self.ops[2 * k + 1](states[self.indices[2 * k + 1]])
            states.append(a + b)
        return torch.cat([states[i] for i in self.concat], dim=1)


class HandDARTS(nn.Module):
    def __init__(self, genotype, C: int = 36, layers: int = 20, num_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 3 * C, 3, padding=1, bias=False), nn.BatchNorm2d(3 * C))
        C_pp, C_p, C_curr = 3 * C, 3 * C, C
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            C_curr = C_curr * 2 if reduction else C_curr
            cell = HandCell(genotype, C_pp, C_p, C_curr, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            C_pp, C_p = C_p, cell.multiplier * C_curr
        self.classifier = nn.Linear(C_p, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(s1.mean((2, 3)))


# --------------------------------------------------------------------------- interpreter (NASLib-style)


class Interpreter(nn.Module):
    """Runs a flat DAG by looping over its nodes with a dict of outputs (the baseline to beat)."""

    def __init__(self, dag: DAG, modules: dict[int, nn.Module], weights: dict[int, nn.Parameter]) -> None:
        super().__init__()
        self.dag = dag
        self.ops = nn.ModuleDict({str(i): m for i, m in modules.items()})
        self.weights = nn.ParameterDict({str(i): w for i, w in weights.items()})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: dict[int, torch.Tensor] = {}
        for i, node in enumerate(self.dag.nodes):
            if i in self.dag.inputs:
                out[i] = x
                continue
            ins = [out[p] for p in self.dag.predecessors(i)]
            if len(ins) == 1:
                h = ins[0]
            elif node.combine == "weighted_sum":
                w = torch.sigmoid(self.weights[str(i)])
                h = sum(w[k] * t for k, t in enumerate(ins))
            elif node.combine == "mean":
                h = sum(ins) / len(ins)
            elif node.combine == "concat":
                h = torch.cat(ins, 1)
            else:
                h = sum(ins)
            out[i] = self.ops[str(i)](h) if str(i) in self.ops else h
        return out[self.dag.outputs[0]]


def interpreter_from(gm: torch.fx.GraphModule, dag: DAG) -> Interpreter:
    """An interpreter over a flat DAG using (copies of) the compiled module's layers."""
    modules = {i: copy.deepcopy(getattr(gm, f"node_{i}")) for i in range(len(dag)) if hasattr(gm, f"node_{i}")}
    weights = {i: copy.deepcopy(getattr(gm, f"weights_{i}")) for i in range(len(dag)) if hasattr(gm, f"weights_{i}")}
    return Interpreter(dag, modules, weights)


def darts_interpreter(gm: torch.fx.GraphModule) -> nn.Module:
    """DARTS run by interpreters: each cell and the outer network loop over their nodes."""

    class CellInterp(nn.Module):
        def __init__(self, cell_gm: torch.fx.GraphModule, cell: DAG) -> None:
            super().__init__()
            self.inner = interpreter_from(cell_gm, cell)

        def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
            dag, out = self.inner.dag, {0: s0, 1: s1}
            for i, node in enumerate(dag.nodes):
                if i in out:
                    continue
                ins = [out[p] for p in dag.predecessors(i)]
                h = torch.cat(ins, 1) if node.combine == "concat" else sum(ins) if len(ins) > 1 else ins[0]
                out[i] = self.inner.ops[str(i)](h) if str(i) in self.inner.ops else h
            return out[dag.outputs[0]]

    class NetInterp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dag = gm.graphnas_dag
            self.mods = nn.ModuleDict()
            for i, node in enumerate(self.dag.nodes):
                if node.is_nested:
                    self.mods[str(i)] = CellInterp(getattr(gm, f"cell_{i}"), node.op)
                elif hasattr(gm, f"node_{i}"):
                    self.mods[str(i)] = copy.deepcopy(getattr(gm, f"node_{i}"))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out: dict[int, torch.Tensor] = {0: x}
            for i in range(1, len(self.dag)):
                ins = [out[p] for p in self.dag.predecessors(i)]
                out[i] = self.mods[str(i)](*ins)
            return out[self.dag.outputs[0]]

    return NetInterp()


# --------------------------------------------------------------------------- hand-written RandWire stage


def hand_stage(gm: torch.fx.GraphModule, dag: DAG) -> nn.Module:
    """Straight-line Python for one graph, as a person would write it (no fx, no deletes)."""
    lines = ["def forward(self, x):"]
    for i, node in enumerate(dag.nodes):
        if i in dag.inputs:
            lines.append(f"    h{i} = x")
            continue
        preds = dag.predecessors(i)
        if len(preds) == 1:
            agg = f"h{preds[0]}"
        elif node.combine == "weighted_sum":
            lines.append(f"    w = torch.sigmoid(self.w{i})")
            agg = " + ".join(f"w[{k}] * h{p}" for k, p in enumerate(preds))
        elif node.combine == "mean":
            agg = "(" + " + ".join(f"h{p}" for p in preds) + f") / {len(preds)}"
        else:
            agg = " + ".join(f"h{p}" for p in preds)
        lines.append(f"    h{i} = self.n{i}({agg})" if hasattr(gm, f"node_{i}") else f"    h{i} = {agg}")
    lines.append(f"    return h{dag.outputs[0]}")
    ns: dict = {"torch": torch}
    exec("\n".join(lines), ns)  # noqa: S102 - the benchmark's own generated baseline

    class HandStage(nn.Module):
        forward = ns["forward"]

    m = HandStage()
    for i in range(len(dag)):
        if hasattr(gm, f"node_{i}"):
            setattr(m, f"n{i}", copy.deepcopy(getattr(gm, f"node_{i}")))
        if hasattr(gm, f"weights_{i}"):
            setattr(m, f"w{i}", copy.deepcopy(getattr(gm, f"weights_{i}")))
    return m


# --------------------------------------------------------------------------- measuring


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def step(model: nn.Module, x: torch.Tensor, amp: bool) -> None:
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
        out = model(x)
    out.float().sum().backward()


def peak_memory(model: nn.Module, x: torch.Tensor, amp: bool) -> int:
    """Peak bytes of one forward+backward beyond what was allocated before it."""
    model.zero_grad(set_to_none=True)
    if x.device.type == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        step(model, x, amp)
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step(model, x, amp)
    live = peak = 0
    for ev in sorted(prof.events(), key=lambda e: e.time_range.start):
        live += ev.self_cpu_memory_usage
        peak = max(peak, live)
    return peak


def time_variants(variants: dict[str, nn.Module], x: torch.Tensor, repeats: int, amp: bool) -> dict[str, float]:
    device = x.device.type
    times: dict[str, list[float]] = {k: [] for k in variants}
    for m in variants.values():  # warm-up
        step(m, x, amp)
    for _ in range(repeats):
        for name, m in variants.items():
            m.zero_grad(set_to_none=True)
            sync(device)
            t = time.perf_counter()
            step(m, x, amp)
            sync(device)
            times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def run_case(label: str, variants: dict[str, nn.Module], shape: tuple[int, ...], batches: list[int],
             repeats: Callable[[int], int], args: argparse.Namespace) -> list[dict]:
    rows = []
    for b in batches:
        x = torch.randn(b, *shape, device=args.device)
        if args.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        med = time_variants(variants, x, repeats(b), args.amp)
        mem = {k: peak_memory(m, x, args.amp) for k, m in variants.items()}
        row = {"case": label, "batch": b, **{f"{k}_ms": round(v * 1e3, 3) for k, v in med.items()},
               **{f"{k}_MiB": round(v / 2**20, 2) for k, v in mem.items()}}
        row["graphnas_vs_hand_%"] = round((med["graphnas"] / med["hand"] - 1) * 100, 2)
        row["graphnas_vs_interp_%"] = round((med["graphnas"] / med["interp"] - 1) * 100, 2)
        row["mem_vs_hand_%"] = round((mem["graphnas"] / max(mem["hand"], 1) - 1) * 100, 2)
        row["mem_vs_interp_%"] = round((mem["graphnas"] / max(mem["interp"], 1) - 1) * 100, 2)
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def prepare(m: nn.Module, args: argparse.Namespace) -> nn.Module:
    m = m.to(args.device).train()
    if args.channels_last:
        m = m.to(memory_format=torch.channels_last)
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--amp", action="store_true", help="autocast to bfloat16")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--out", default=None, help="write the rows as JSON here")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gpu = args.device == "cuda"
    print(json.dumps({"torch": torch.__version__, "python": platform.python_version(), "device": args.device,
                      "gpu": torch.cuda.get_device_name() if gpu else None, "threads": args.threads,
                      "amp": args.amp, "channels_last": args.channels_last}), flush=True)
    batches = [int(b) for b in args.batches.split(",")]
    rows: list[dict] = []

    # (a) DARTS_V2 on CIFAR
    dag = darts_cifar(DARTS_V2)
    g = to_torch(dag, 3)
    g.graphnas_dag = dag
    interp = darts_interpreter(g)
    hand = HandDARTS(DARTS_V2)
    assert count_params(hand) == count_params(g) == count_params(interp) == 3_349_342
    variants = {k: prepare(m, args) for k, m in (("graphnas", g), ("hand", hand), ("interp", interp))}
    def reps(b: int) -> int:
        return 2 if args.quick else (30 if gpu else 15) if b == 1 else (10 if gpu else 3)

    rows += run_case("darts_v2_cifar", variants, (3, 32, 32), batches, reps, args)

    # (b) a 32-node RandWire WS(4, 0.75) stage
    stage = _stage(watts_strogatz(32, 4, 0.75, seed=0), 78)
    g = to_torch(stage, 78)
    hand = hand_stage(g, stage)
    interp = interpreter_from(g, stage)
    x = torch.randn(2, 78, 16, 16)
    with torch.no_grad():
        ref = g.eval()(x)
        torch.testing.assert_close(hand.eval()(x), ref)
        torch.testing.assert_close(interp.eval()(x), ref)
    variants = {k: prepare(m, args) for k, m in (("graphnas", g), ("hand", hand), ("interp", interp))}
    def reps2(b: int) -> int:
        return 2 if args.quick else (50 if gpu else 30) if b == 1 else (15 if gpu else 5)

    rows += run_case("randwire_ws_stage32", variants, (78, 56, 56), batches, reps2, args)

    # compile time
    for n in (32, 256, 1000):
        graph = _stage(watts_strogatz(n, 4, 0.75, seed=0), 8)
        ts = []
        for _ in range(3):
            t = time.perf_counter()
            to_torch(graph, 8)
            ts.append(time.perf_counter() - t)
        row = {"case": "compile_time", "nodes": n, "edges": graph.num_edges,
               "median_ms": round(statistics.median(ts) * 1e3, 1),
               "us_per_node": round(statistics.median(ts) * 1e6 / n, 1)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
