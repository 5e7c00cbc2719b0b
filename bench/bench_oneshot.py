"""One-shot search figures on digits: does weight sharing rank, and what does a supernet step cost.

``rank``: RandomPaths trains the NB201 supernet (one uniformly drawn member's path per step) on half of the
digits training split; ``--cells`` NB201 cells (drawn with a fixed seed) are then scored by their inherited
validation accuracy, without and with batch-norm statistics recomputed for the path, and by stand-alone
accuracy (the digits objective, ``train_eval``, trained from scratch). Kendall τ between the two, per
supernet seed, with its spread over seeds.

``cost``: forward+backward+SGD step time of the compiled NB201 and DARTS supernets (relaxed mode), and the
memory autograd saves for the backward pass, beside the same network whose mixed ops are the DARTS code's
(``sum(w * op(x) for w, op in zip(weights, self._ops))``, a module list summed in a Python loop, the zero op
computed too), on the same batch, in the same process, interleaved step by step (A-B-B-A); wall and process CPU
time, and the spread of the paired per-step CPU ratio, so that a gap can be told from the load of a shared machine.

``find``: DARTS (first and second order, and DARTS- as the remedy for the collapse onto skip connections),
ENAS and RandomPaths on NB201 with digits: the derived cell's stand-alone accuracy (the digits objective),
the share of parameter-free ops (none, skip_connect, avg_pool_3x3) and of skip_connect in the derived cells,
beside random cells trained the same way in the same run, and beside the best cell BO (``get_optimizer("bo")``)
and random search find, per seed, in the same CPU time (``time.process_time``) as the mean search+retrain of the
one-shot methods on that seed, driven by ``graphnas.search.run`` with the same objective, serially.

Usage:
    python bench/bench_oneshot.py cost [--repeats 10] [--rounds 3]   (repeats x rounds steps per variant)
    python bench/bench_oneshot.py find [--seeds 3] [--supernet-epochs 10] [--epochs 4] [--random 10]
    python bench/bench_oneshot.py rank [--cells 50] [--seeds 2] [--supernet-epochs 10] [--epochs 2]
        [--max-train 720]
Full setting: ``rank --cells 100 --seeds 5 --epochs 4 --max-train 0`` (0: the whole training split),
``find --seeds 5 --supernet-epochs 50``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

# --------------------------------------------------------------------------- cost


class DartsMixedOp(nn.Module):
    """The DARTS code's MixedOp: every candidate (the zero op too) weighted and summed in a Python loop."""

    def __init__(self, mixed: Any) -> None:
        super().__init__()
        self._ops = nn.ModuleList(mixed.candidates.values())
        self.key, self._arch = mixed.key, mixed._arch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = F.softmax(self._arch.alphas[self.key], dim=-1)
        return sum(w * op(x) for w, op in zip(weights, self._ops))  # type: ignore[return-value]


def _hand_written(model: nn.Module) -> nn.Module:
    """``model`` with each mixed op replaced by `DartsMixedOp` over the same candidate modules (same weights)."""
    import copy

    from graphnas.converters.mixed import MixedOp

    other = copy.deepcopy(model)
    for name, m in list(other.named_modules()):
        if isinstance(m, MixedOp):
            parent = other.get_submodule(name.rsplit(".", 1)[0]) if "." in name else other
            setattr(parent, name.rsplit(".", 1)[-1], DartsMixedOp(m))
    return other


def _stepper(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Any:
    """A function that runs one training step of ``model`` and returns its (wall, process CPU) seconds."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step() -> tuple[float, float]:
        t, c = time.perf_counter(), time.process_time()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return time.perf_counter() - t, time.process_time() - c

    return step


def _saved_mib(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """MiB of the distinct tensors autograd saves for the backward pass of one step: the activation memory that
    dominates a training step's peak (what the CPU allocator reports is not per model)."""
    seen: dict[tuple[int, int], int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        seen[(t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    model.zero_grad(set_to_none=True)
    return sum(seen.values()) / 2**20


def _variant(build: str, space: str, C: int, batch: int) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    from graphnas.generators import DARTSSpace, NB201Space
    from graphnas.oneshot import build_supernet

    sp = NB201Space() if space == "nb201" else DARTSSpace()
    model = build_supernet(sp, C=C, seed=0)
    if build == "hand":
        model = _hand_written(model)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, 1, 8, 8, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    return model, x, y


def cost(args: argparse.Namespace) -> None:
    n = args.repeats * args.rounds
    print(f"supernet step (forward+backward+SGD), digits shape, batch {args.batch}, torch threads "
          f"{torch.get_num_threads()}, {n} timed steps per variant ({args.rounds} rounds x {args.repeats}), "
          f"interleaved step by step A-B-B-A after 2 warm-up steps each; medians, and the median and quartiles "
          f"of the paired per-step ratio (process CPU time)")
    print(f"{'space':8} {'C':>3} {'compiled ms':>12} {'DARTS-code ms':>14} {'ratio':>6} {'CPU ms':>15} "
          f"{'CPU ratio':>9} {'paired [q1, q3]':>19} {'compiled saved MiB':>19} {'DARTS-code saved MiB':>21}")
    for space, C in (("nb201", 16), ("darts", 8)):
        a, x, y = _variant("compiled", space, C, args.batch)
        b = _hand_written(a)
        with torch.no_grad():
            a.eval(), b.eval()
            assert torch.allclose(a(x), b(x), atol=1e-5), "the two variants must compute the same function"
        a.train(), b.train()
        sa, sb = _stepper(a, x, y), _stepper(b, x, y)
        for _ in range(2):  # warm-up
            sa(), sb()
        ta: list[tuple[float, float]] = []
        tb: list[tuple[float, float]] = []
        for k in range(n):  # A B B A step by step: neither variant always runs first (the CPU warms and cools)
            first, second = ((sa, ta), (sb, tb)) if k % 2 == 0 else ((sb, tb), (sa, ta))
            first[1].append(first[0]())
            second[1].append(second[0]())
        ma, mb = _saved_mib(a, x, y), _saved_mib(b, x, y)
        med = statistics.median
        wa, wb = med(t[0] for t in ta) * 1e3, med(t[0] for t in tb) * 1e3
        ca, cb = med(t[1] for t in ta) * 1e3, med(t[1] for t in tb) * 1e3
        paired = sorted(p[1] / q[1] for p, q in zip(ta, tb))
        q1, q2, q3 = (paired[int(f * (len(paired) - 1))] for f in (0.25, 0.5, 0.75))
        cpu = f"{ca:.1f}/{cb:.1f}"
        print(f"{space:8} {C:>3} {wa:>12.1f} {wb:>14.1f} {wa / wb:>6.2f} {cpu:>15} {ca / cb:>9.2f} "
              f"{f'{q2:.2f} [{q1:.2f}, {q3:.2f}]':>19} {ma:>19.2f} {mb:>21.2f}")


# --------------------------------------------------------------------------- rank


def rank(args: argparse.Namespace) -> None:
    from scipy.stats import kendalltau

    from graphnas.benchmarks.digits import train_eval
    from graphnas.generators import NB201Space
    from graphnas.oneshot import RandomPaths, inherited_accuracy, split_digits

    space = NB201Space()
    max_train = args.max_train or None
    cells = RandomPaths(space, n_candidates=args.cells, seed=12345, max_train=max_train).candidates()
    t0 = time.perf_counter()
    standalone = [train_eval(c, epochs=args.epochs, seed=0, max_train=max_train)["value"] for c in cells]
    t_alone = time.perf_counter() - t0
    print(f"stand-alone: {len(cells)} NB201 cells, digits objective {args.epochs} epochs, max_train={max_train}: "
          f"mean {statistics.mean(standalone):.2f}%, range {min(standalone):.2f}-{max(standalone):.2f}% "
          f"({t_alone:.0f} s)")
    data = split_digits(max_train)
    taus: dict[str, list[float]] = {"inherited": [], "inherited + BN recompute": []}
    for seed in range(args.seeds):
        t0 = time.perf_counter()
        result = RandomPaths(space, epochs=args.supernet_epochs, seed=seed, n_candidates=1, data=data).search()
        t_sn = time.perf_counter() - t0
        model = result.model
        for label, bn in (("inherited", None), ("inherited + BN recompute", data.train)):
            t1 = time.perf_counter()
            inh = [inherited_accuracy(model, space, c, data.val, recompute_bn=bn) for c in cells]
            tau = float(kendalltau(inh, standalone).statistic)
            taus[label].append(tau)
            print(f"  supernet seed {seed} ({args.supernet_epochs} epochs, {t_sn:.0f} s): {label:25} "
                  f"tau {tau:+.3f}, mean inherited {statistics.mean(inh):.2f}% ({time.perf_counter() - t1:.0f} s)")
    for label, ts in taus.items():
        spread = statistics.stdev(ts) if len(ts) > 1 else float("nan")
        print(f"{label:25} Kendall tau {statistics.mean(ts):+.3f} +- {spread:.3f} over {len(ts)} seeds")


# --------------------------------------------------------------------------- find

PARAMETER_FREE = ("none", "skip_connect", "avg_pool_3x3")


def _budgeted_search(name: str, space: Any, objective: Any, cpu_budget: float, seed: int) -> dict[str, Any]:
    """``get_optimizer(name, space, seed=seed)`` driven by `graphnas.search.run`, serial, one evaluation at a time,
    until the process CPU time it used (``time.process_time``: asks, surrogate fits and training) passes
    ``cpu_budget`` seconds. Only evaluations finished within the budget count; the one that overran is reported."""
    from graphnas.search import get_optimizer, run

    opt = get_optimizer(name, space, seed=seed)
    t0 = time.process_time()
    values: list[float] = []
    best_dag = None
    while True:
        history = run(opt, objective, 1)  # the optimiser keeps what it was told between calls
        if time.process_time() - t0 > cpu_budget:
            break
        e = history.evaluations[0]
        if e.value == e.value and (best_dag is None or e.value > max(v for v in values if v == v)):
            best_dag = e.dag
        values.append(e.value)
    ok = [v for v in values if v == v]  # NaN: a failed evaluation
    return {"best": max(ok) if ok else float("nan"), "n": len(values),
            "cpu": time.process_time() - t0, "arch": space.to_string(best_dag) if best_dag is not None else "-",
            "model_based": max(0, len(values) - getattr(opt, "initial", len(values)))}  # BO's asks after its start


def _line(name: str, accs: list[float], extra: str) -> str:
    sd = statistics.stdev(accs) if len(accs) > 1 else float("nan")
    return f"{name:32} accuracy {statistics.mean(accs):6.2f} +- {sd:5.2f} (min {min(accs):.2f}), {extra}"


def find(args: argparse.Namespace) -> None:
    import functools

    from graphnas.benchmarks.digits import train_eval
    from graphnas.generators import NB201Space
    from graphnas.oneshot import DARTS, ENAS, RandomPaths

    space = NB201Space()
    common = {"epochs": args.supernet_epochs, "C": 8}
    methods: dict[str, Any] = {
        "DARTS 1st order": lambda s: DARTS(space, order=1, seed=s, **common),
        "DARTS 2nd order": lambda s: DARTS(space, order=2, seed=s, **common),
        "DARTS- (aux skip 1.0)": lambda s: DARTS(space, order=1, aux_skip=1.0, seed=s, **common),
        "ENAS": lambda s: ENAS(space, seed=s, **common),
        "RandomPaths (50, BN recompute)": lambda s: RandomPaths(space, n_candidates=50, recompute_bn=True, seed=s,
                                                                **common),
    }
    objective = functools.partial(train_eval, epochs=args.epochs, seed=0)  # the derived cells' score too
    print(f"NB201 on digits: supernet {args.supernet_epochs} epochs (C=8, half the training split each for "
          f"weights and architecture); each derived cell retrained by the digits objective ({args.epochs} epochs, "
          f"seed 0); {args.seeds} search seeds. CPU times: time.process_time of this process (all its threads). "
          f"BO and random search (serial, the same objective) get, per seed, the mean search+retrain CPU time of "
          f"the one-shot methods on that seed")
    t0, c0 = time.perf_counter(), time.process_time()
    rnd = [objective(space.sample(seed=1000 + k))["value"] for k in range(args.random)]
    n_rnd = max(args.random, 1)
    t_rnd, c_rnd = (time.perf_counter() - t0) / n_rnd, (time.process_time() - c0) / n_rnd
    print(f"{'random cells':32} accuracy {statistics.mean(rnd):6.2f} +- {statistics.stdev(rnd):5.2f} "
          f"(median {statistics.median(rnd):.2f}, best {max(rnd):.2f}, n={len(rnd)}), {t_rnd:.0f} s wall, "
          f"{c_rnd:.0f} s CPU per cell", flush=True)
    rows: dict[str, dict[str, list[float]]] = {
        name: {"acc": [], "free": [], "skip": [], "wall": [], "cpu": []} for name in methods}
    baselines: dict[str, dict[str, list[float]]] = {b: {"acc": [], "n": [], "cpu": []} for b in ("bo", "random")}
    for seed in range(args.seeds):
        cpus = []
        for name, make in methods.items():
            t0, c0 = time.perf_counter(), time.process_time()
            result = make(seed).search()
            ops = space.to_ops(result.dag)
            acc = objective(result.dag)["value"]
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            row = rows[name]
            row["acc"].append(acc)
            row["free"].append(sum(op in PARAMETER_FREE for op in ops) / len(ops))
            row["skip"].append(ops.count("skip_connect") / len(ops))
            row["wall"].append(wall)
            row["cpu"].append(cpu)
            cpus.append(cpu)
            print(f"  seed {seed} {name}: {space.to_string(result.dag)} -> {acc:.2f}% "
                  f"(search+retrain {wall:.0f} s wall, {cpu:.0f} s CPU)", flush=True)
        budget = statistics.mean(cpus)
        for b in baselines:
            t0 = time.perf_counter()
            # random search on its own seed stream: BO's random start on seed s is random search's draws shifted by one
            out = _budgeted_search(b, space, objective, budget, seed if b == "bo" else 10_000 + seed)
            for k in ("n", "cpu"):
                baselines[b][k].append(out[k])
            baselines[b]["acc"].append(out["best"])
            print(f"  seed {seed} {b} at {budget:.0f} s CPU: best {out['arch']} -> {out['best']:.2f}% "
                  f"({out['n']} cells within the budget, {out['model_based']} asked by the surrogate, "
                  f"{out['cpu']:.0f} s CPU with the one that overran, "
                  f"{time.perf_counter() - t0:.0f} s wall)", flush=True)
    for name, row in rows.items():
        print(_line(name, row["acc"], f"parameter-free ops {100 * statistics.mean(row['free']):.0f}%, skip_connect "
                    f"{100 * statistics.mean(row['skip']):.0f}%, search+retrain {statistics.mean(row['wall']):.0f} s "
                    f"wall, {statistics.mean(row['cpu']):.0f} s CPU"))
    for b, res in baselines.items():
        print(_line(f"{b} best at the same CPU time", res["acc"],
                    f"{statistics.mean(res['n']):.1f} cells per seed ({min(res['n']):.0f}-{max(res['n']):.0f})"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    c = sub.add_parser("cost")
    c.add_argument("--repeats", type=int, default=10)
    c.add_argument("--rounds", type=int, default=3)
    c.add_argument("--batch", type=int, default=64)
    r = sub.add_parser("rank")
    r.add_argument("--cells", type=int, default=50)
    r.add_argument("--seeds", type=int, default=2)
    r.add_argument("--supernet-epochs", type=int, default=10)
    r.add_argument("--epochs", type=int, default=2)
    r.add_argument("--max-train", type=int, default=720)
    f = sub.add_parser("find")
    f.add_argument("--seeds", type=int, default=3)
    f.add_argument("--supernet-epochs", type=int, default=10)
    f.add_argument("--epochs", type=int, default=4)
    f.add_argument("--random", type=int, default=10)
    args = p.parse_args()
    print(f"{platform.machine()} {platform.processor() or ''}, Python {platform.python_version()}, "
          f"torch {torch.__version__}, {time.strftime('%Y-%m-%d %H:%M')}")
    {"cost": cost, "rank": rank, "find": find}[args.what](args)


if __name__ == "__main__":
    main()
