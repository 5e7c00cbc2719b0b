"""One-shot search figures on digits: does weight sharing rank, and what does a supernet step cost.

``rank``: RandomPaths trains the NB201 supernet (one uniformly drawn member's path per step) on half of the
digits training split; ``--cells`` NB201 cells (drawn with a fixed seed) are then scored by their inherited
validation accuracy, without and with batch-norm statistics recomputed for the path, and by stand-alone
accuracy (the digits objective, ``train_eval``, trained from scratch). Kendall τ between the two, per
supernet seed, with its spread over seeds.

``cost``: forward+backward+SGD step time of the compiled NB201 and DARTS supernets (relaxed mode), and the
memory autograd saves for the backward pass, beside the same network whose mixed ops are the DARTS code's
(``sum(w * op(x) for w, op in zip(weights, self._ops))``, a module list summed in a Python loop, the zero op
computed too), on the same batch, in the same process, interleaved.

Usage:
    python bench/bench_oneshot.py cost [--repeats 20]
    python bench/bench_oneshot.py rank [--cells 50] [--seeds 2] [--supernet-epochs 10] [--epochs 2]
        [--max-train 720]
Full setting: ``rank --cells 100 --seeds 5 --epochs 4 --max-train 0`` (0: the whole training split).
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


def _step_time(model: nn.Module, x: torch.Tensor, y: torch.Tensor, repeats: int) -> list[float]:
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    times = []
    for k in range(repeats + 2):
        t = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if k >= 2:  # two warm-up steps
            times.append(time.perf_counter() - t)
    return times


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
    print(f"supernet step (forward+backward+SGD), digits shape, batch {args.batch}, torch threads "
          f"{torch.get_num_threads()}, {args.repeats} timed steps x 2 per round, {args.rounds} rounds A-B-B-A")
    print(f"{'space':8} {'C':>3} {'compiled ms':>12} {'DARTS-code ms':>14} {'ratio':>6} "
          f"{'compiled saved MiB':>19} {'DARTS-code saved MiB':>21}")
    for space, C in (("nb201", 16), ("darts", 8)):
        a, x, y = _variant("compiled", space, C, args.batch)
        b = _hand_written(a)
        with torch.no_grad():
            a.eval(), b.eval()
            assert torch.allclose(a(x), b(x), atol=1e-5), "the two variants must compute the same function"
        a.train(), b.train()
        ta: list[float] = []
        tb: list[float] = []
        for _ in range(args.rounds):  # A B B A: neither variant always runs first (the CPU warms and cools)
            ta += _step_time(a, x, y, args.repeats)
            tb += _step_time(b, x, y, args.repeats)
            tb += _step_time(b, x, y, args.repeats)
            ta += _step_time(a, x, y, args.repeats)
        ma, mb = _saved_mib(a, x, y), _saved_mib(b, x, y)
        mda, mdb = statistics.median(ta) * 1e3, statistics.median(tb) * 1e3
        print(f"{space:8} {C:>3} {mda:>12.1f} {mdb:>14.1f} {mda / mdb:>6.2f} {ma:>19.2f} {mb:>21.2f}")


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
    args = p.parse_args()
    print(f"{platform.machine()} {platform.processor() or ''}, Python {platform.python_version()}, "
          f"torch {torch.__version__}, {time.strftime('%Y-%m-%d %H:%M')}")
    cost(args) if args.what == "cost" else rank(args)


if __name__ == "__main__":
    main()
