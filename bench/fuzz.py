"""The full fuzz run: every entry point of tests/fuzz/fuzz_harness.py, >= 10,000 cases each.

Case ``k`` of entry point ``name`` is drawn from ``random.Random(f"{seed}:{name}:{k}")``, so a run is
reproducible and any defect it lists can be replayed alone. Prints a Markdown table (entry point, cases,
accepted / clear error / defect, seconds) and the first defects of each entry point with their traceback;
exits 1 if there is any defect. A mutation chain of 1,000 steps counts 1,000 cases.

Torch runs with one intra-op thread unless ``--threads`` says otherwise: the cases are tiny, and on a
shared machine torch's thread pool spinning for busy cores made the compile-and-run cases ten times slower.

Usage: python bench/fuzz.py [--cases 10000] [--seed 0] [--threads 1] [--only SUBSTRING ...]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz"))

from fuzz_harness import ACCEPTED, CLEAR, DEFECT, ENTRY_POINTS, run_entry  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=None,
                    help="cases per entry point (default: each entry point's full count, 10,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", nargs="*", default=None, help="entry points whose name contains one of these")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1: one core)")
    args = ap.parse_args(argv)
    logging.getLogger("graphnas").setLevel(logging.ERROR)
    logging.getLogger("graphnas.search.loop").setLevel(logging.ERROR)
    import torch

    torch.set_num_threads(args.threads)  # this script's own process: the bench's setting, not graphnas'
    print(f"graphnas fuzz run, seed {args.seed}; Python {platform.python_version()}, torch {torch.__version__}, "
          f"{os.cpu_count()} CPUs, {args.threads} torch thread(s)\n")
    print("| entry point | cases | accepted | clear error | defect | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    tallies = []
    start = time.perf_counter()
    for name, ep in ENTRY_POINTS.items():
        if args.only and not any(s in name for s in args.only):
            continue
        t = run_entry(ep, args.cases or ep.full, args.seed)
        tallies.append(t)
        c = t.counts
        print(f"| {name} | {t.cases:,} | {c[ACCEPTED]:,} | {c[CLEAR]:,} | {c[DEFECT]:,} | {t.seconds:.1f} |",
              flush=True)
    total = sum(t.counts[DEFECT] for t in tallies)
    print(f"\n{sum(t.cases for t in tallies):,} cases, {total} defects, {time.perf_counter() - start:.0f} s")
    for t in tallies:
        for k, detail in t.defects:
            print(f"\n--- {t.name}, case {k} (random.Random('{args.seed}:{t.name}:{k}'))\n{detail}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
