"""The bounded fuzz run: every entry point of tests/fuzz/fuzz_harness.py, a few hundred cases each.

Hypothesis drives each case function through ``st.randoms()`` (derandomized: the same cases on every run),
so a defect shrinks to a small case before it is reported. Any defect fails the test with the harness'
classification and traceback. The full run (>= 10,000 cases each) is ``python bench/fuzz.py``.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from fuzz_harness import DEFECT, ENTRY_POINTS, classify
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """The cases are tiny: torch's thread pool only slows them (tenfold on a busy machine). Restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_no_defect(name: str, one_torch_thread: None) -> None:
    ep = ENTRY_POINTS[name]

    @settings(max_examples=ep.bounded, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.randoms(use_true_random=False))
    def check(rng: random.Random) -> None:
        out = classify(ep, rng)
        assert out.kind != DEFECT, f"{name}: {out.detail}"

    check()


def test_harness_sees_a_defect() -> None:
    """The classification is honest: a case raising a foreign exception, hanging or returning a wrong
    result is a defect; a GraphError naming the node is a clear error."""
    from fuzz_harness import CLEAR, EntryPoint, WrongResult

    from graphnas import DAG

    def foreign(rng: random.Random) -> None:
        raise KeyError("x")

    def wrong(rng: random.Random) -> None:
        raise WrongResult("2 + 2 == 5")

    def hang(rng: random.Random) -> None:
        while True:
            pass

    def clear(rng: random.Random) -> None:
        DAG(["input", "conv"], [(1, 0)])

    assert classify(EntryPoint("f", foreign), random.Random(0)).kind == DEFECT
    assert classify(EntryPoint("w", wrong), random.Random(0)).kind == DEFECT
    assert classify(EntryPoint("h", hang, timeout=0.2), random.Random(0)).kind == DEFECT
    assert classify(EntryPoint("c", clear), random.Random(0)).kind == CLEAR
