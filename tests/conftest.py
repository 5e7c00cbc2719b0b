"""Test-session settings.

The suite runs on 2 cores with 2 pytest-xdist workers, and many tests (and the subprocesses they
start) train small networks. torch's default of one intra-op thread per core would put 4+ threads
on 2 cores, which slows these tiny workloads down several times. The suite's own processes
therefore use one torch thread each; graphnas itself never sets a thread count (the caller owns
it), which tests/test_conventions.py checks.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # read by torch when it starts, here and in every subprocess
