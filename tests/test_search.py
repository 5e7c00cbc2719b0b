"""Optimisers (ask/tell) and the search loop: seeds, distinct asks, journal resume, failures, executors."""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from graphnas import DAG, GraphError
from graphnas.generators import NB101Space, NB201Space
from graphnas.search import (
    BayesianOptimization,
    History,
    RandomSearch,
    RegularizedEvolution,
    list_acquisitions,
    read_journal,
    run,
)
from graphnas.surrogate import GNNSurrogate

SPACE = NB201Space()


def score(dag: DAG) -> float:
    """A cheap structural objective on NB201 cells (higher is better)."""
    ops = SPACE.to_ops(dag)
    return 2.0 * ops.count("nor_conv_3x3") + ops.count("nor_conv_1x1") - ops.count("none") + 0.5 * (ops[5] != "none")


def tiny_bo(seed: int = 0, acquisition: str = "ei", space=SPACE) -> BayesianOptimization:
    surrogate = GNNSurrogate(vocabulary=list(space.vocabulary), hidden=16, layers=2, ensemble=3, epochs=40,
                             warm_start=True, warm_epochs=10, seed=seed)
    return BayesianOptimization(space, surrogate, acquisition, initial=6, top_k=4, mutations=6,
                                random_candidates=10, seed=seed)


def keys(dags):
    return [d.canonical_key() for d in dags]


@pytest.mark.parametrize("make", [lambda s: RandomSearch(SPACE, seed=s),
                                  lambda s: RegularizedEvolution(SPACE, population=8, sample_size=3, seed=s),
                                  lambda s: tiny_bo(s)], ids=["random", "evolution", "bo"])
def test_same_seed_same_search_and_distinct_asks(make):
    a = run(make(7), score, 14)
    b = run(make(7), score, 14)
    assert [e.dag for e in a.evaluations] == [e.dag for e in b.evaluations]
    assert len(set(keys(e.dag for e in a.evaluations))) == 14  # never the same graph twice
    batch = make(1).ask(5)
    assert len(batch) == 5 and len(set(keys(batch))) == 5


def test_batch_ask_after_tell_is_new():
    opt = RandomSearch(SPACE, seed=0)
    first = opt.ask(4)
    for d in first:
        opt.tell(d, score(d))
    assert not set(keys(opt.ask(6))) & set(keys(first))


def test_bo_batch_and_acquisitions():
    assert set(list_acquisitions()) >= {"ei", "ucb", "ts"}
    for acq in ("ucb", "ts"):
        h = run(tiny_bo(0, acq), score, 12)
        assert len(h) == 12 and not h.failed
    opt = tiny_bo(0)
    for d in opt.ask(6):
        opt.tell(d, score(d))
    batch = opt.ask(4)
    assert len(set(keys(batch))) == 4
    with pytest.raises(ValueError, match="unknown acquisition"):
        BayesianOptimization(SPACE, acquisition="pi")


def test_history_fields():
    h = run(RandomSearch(SPACE, seed=0), score, 10)
    assert isinstance(h, History) and len(h.evaluations) == 10
    assert h.best_value == max(e.value for e in h.evaluations) == h.best_so_far[-1]
    assert h.best_dag is not None and score(h.best_dag) == h.best_value
    assert all(x <= y for x, y in zip(h.best_so_far, h.best_so_far[1:]))
    assert all(e.seconds >= 0 and e.status == "ok" for e in h.evaluations)


def test_failing_objective_is_recorded_and_search_goes_on():
    calls = []

    def flaky(dag: DAG):
        calls.append(dag)
        if len(calls) % 3 == 1:
            raise RuntimeError("out of memory")
        if len(calls) % 3 == 2:
            return float("nan")
        return {"value": score(dag), "params": 123}

    h = run(tiny_bo(0), flaky, 15)
    assert len(h) == 15 and len(h.failed) == 10
    assert {e.error.split(":")[0] for e in h.failed} == {"RuntimeError", "the objective returned nan"}
    assert all(math.isnan(e.value) for e in h.failed)
    ok = [e for e in h.evaluations if e.ok]
    assert ok and all(e.info == {"params": 123} for e in ok)
    assert h.best_value == max(e.value for e in ok)


def test_journal_resume_loses_nothing(tmp_path):
    path = tmp_path / "run.jsonl"
    first = run(RegularizedEvolution(SPACE, population=6, sample_size=2, seed=0), score, 8, journal=path)
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {"format": "graphnas.journal", "version": 2, "search": {
        "optimizer": "RegularizedEvolution", "space": "NB201Space()", "objective": "score"}}
    assert len(lines) == 9
    doc = json.loads(lines[3])
    assert set(doc) >= {"dag", "arch", "value", "seconds", "status"}
    assert DAG.from_dict(doc["dag"]) == first.evaluations[2].dag
    assert doc["arch"] == SPACE.to_string(first.evaluations[2].dag)  # NB201's arch string, for reuse
    # a run killed while writing its 9th line leaves half a line behind
    with open(path, "a") as fh:
        fh.write('{"index": 8, "dag": {"form')
    resumed = run(RegularizedEvolution(SPACE, population=6, sample_size=2, seed=1), score, 12, journal=path)
    assert len(resumed) == 12
    assert [e.dag for e in resumed.evaluations[:8]] == [e.dag for e in first.evaluations]
    assert [e.value for e in resumed.evaluations[:8]] == [e.value for e in first.evaluations]
    again = read_journal(path)
    assert [e.dag for e in again.evaluations] == [e.dag for e in resumed.evaluations]
    assert len(set(keys(e.dag for e in again.evaluations))) == 12  # the resumed optimiser knew the old ones
    # the budget is already spent: nothing new is evaluated
    assert len(run(RegularizedEvolution(SPACE, population=6, sample_size=2, seed=2), score, 12, journal=path)) == 12
    assert len(path.read_text().splitlines()) == 13


@pytest.mark.parametrize("make", [
    lambda: RegularizedEvolution(SPACE, population=5, sample_size=2, seed=1),
    lambda: BayesianOptimization(SPACE, initial=4, seed=1),
    lambda: RandomSearch(SPACE, seed=1),
], ids=["rea", "bo", "random"])
def test_a_resumed_serial_search_is_the_uninterrupted_one(tmp_path, make):
    """Same seed, same search, across a kill: each journalled result is re-asked before it is told, so the
    optimiser's draws follow the first run's (before, evolution and BO went another way after the resume)."""
    full = run(make(), score, 14)
    run(make(), score, 6, journal=tmp_path / "j.jsonl")
    resumed = run(make(), score, 14, journal=tmp_path / "j.jsonl")
    assert [e.dag for e in resumed.evaluations] == [e.dag for e in full.evaluations]
    # a journal this optimiser would not have written (a thread pool's, in arrival order): told as it is
    with ThreadPoolExecutor(2) as pool:
        run(make(), score, 6, journal=tmp_path / "p.jsonl", executor=pool, ordered=False)
    opt = make()
    again = run(opt, score, 10, journal=tmp_path / "p.jsonl")
    assert len(again) == 10 and len(set(keys(e.dag for e in again.evaluations))) == 10
    assert not getattr(opt, "_asked_dags", {})  # the abandoned re-ask is not left in flight (BO's believer fits)
    # a journal that already fills the budget is told as it is: nothing is asked again
    done = make()
    done.ask = None  # type: ignore[method-assign]
    assert len(run(done, score, 14, journal=tmp_path / "j.jsonl")) == 14


def test_ask_takes_a_whole_number(tmp_path):
    from graphnas.search import Reinforce

    for opt in (RandomSearch(SPACE, seed=0), BayesianOptimization(SPACE, seed=0), Reinforce(SPACE, seed=0)):
        for bad in (1.5, -1, True, "2"):
            with pytest.raises(ValueError, match=r"ask\(n\) needs a whole number n >= 0"):
                opt.ask(bad)
        assert len(opt.ask(np.int64(2))) == 2  # a numpy integer is a whole number


def test_tell_refuses_a_graph_told_twice_or_of_another_space():
    """A second tell of one graph counted twice (an extra population member, a second policy update), and a
    graph of another space was taken until the next ask failed far from the cause."""
    from graphnas.generators import DARTSSpace
    from graphnas.search import Reinforce

    for opt in (RandomSearch(SPACE, seed=0), RegularizedEvolution(SPACE, population=4, sample_size=2, seed=0),
                Reinforce(SPACE, seed=0)):
        dag = opt.ask(1)[0]
        opt.tell(dag, 1.0)
        with pytest.raises(ValueError, match=r"\.tell: this graph was told before"):
            opt.tell(SPACE.from_string(SPACE.to_string(dag)), 2.0)  # the same graph, another object
        with pytest.raises(GraphError, match=r"\.tell: the graph is not a member of this optimiser's space "
                                             r"\(NB201Space\): not a NAS-Bench-201 cell"):
            opt.tell(DARTSSpace().sample(0), 1000.0)
        assert len(opt.history) == 1
        opt.tell(SPACE.sample(12345), 0.5)  # a member it did not ask for (the caller's own) is still taken
        assert len(opt.history) == 2


def test_old_journal_without_arch_is_read(tmp_path):
    path = tmp_path / "v1.jsonl"
    dag = SPACE.sample(0)
    path.write_text(json.dumps({"format": "graphnas.journal", "version": 1}) + "\n" + json.dumps(
        {"index": 0, "dag": dag.to_dict(), "value": 1.5, "seconds": 0.1, "status": "ok", "error": None,
         "info": {}}) + "\n")
    assert [(e.dag, e.value) for e in read_journal(path).evaluations] == [(dag, 1.5)]
    h = run(RandomSearch(SPACE, seed=0), score, 3, journal=path)  # resumes and appends records with arch
    assert len(h) == 3 and "arch" in json.loads(path.read_text().splitlines()[-1])
    path.write_text(json.dumps({"format": "graphnas.journal", "version": 99}) + "\n")
    with pytest.raises(ValueError, match="unsupported version 99"):
        read_journal(path)


def test_executor_keeps_workers_busy_and_journals(tmp_path):
    import threading

    # Every evaluation waits at a 3-party barrier: it passes only if 3 evaluations are in flight at once.
    barrier = threading.Barrier(3)

    def together(dag: DAG) -> float:
        barrier.wait(timeout=30)
        return score(dag)

    with ThreadPoolExecutor(max_workers=3) as pool:
        h = run(RandomSearch(SPACE, seed=0), together, 12, executor=pool, journal=tmp_path / "j.jsonl")
    assert len(h) == 12 and not h.failed
    assert len(read_journal(tmp_path / "j.jsonl")) == 12


class Gate:
    """An objective whose calls wait until ``k`` are in flight, then finish one by one in a set order.

    ``reverse=True``: the last to arrive finishes first (out of ask order); False: first in, first out.
    ``finished`` lists the graphs in the order their evaluations returned. No sleeps: a condition variable.
    """

    def __init__(self, k: int, reverse: bool) -> None:
        import threading

        self.k, self.reverse = k, reverse
        self.cond = threading.Condition()
        self.arrived: list[DAG] = []
        self.group: list[DAG] = []
        self.finished: list[DAG] = []

    def __call__(self, dag: DAG) -> float:
        with self.cond:
            self.arrived.append(dag)
            if len(self.arrived) == self.k:  # a full group: release it in the set order
                self.group = self.arrived[::-1] if self.reverse else self.arrived[:]
                self.arrived = []
                self.cond.notify_all()
            # the timeout only guards against a hang; the main thread may refit a surrogate meanwhile
            if not self.cond.wait_for(lambda: bool(self.group) and self.group[0] is dag, timeout=300):
                raise TimeoutError("the gate never opened")
            self.group.pop(0)
            self.finished.append(dag)
            self.cond.notify_all()
        return score(dag)


@pytest.mark.parametrize("make", [lambda: RegularizedEvolution(SPACE, population=4, sample_size=2, seed=3),
                                  lambda: tiny_bo(3)], ids=["evolution", "bo"])
def test_executor_trajectory_does_not_depend_on_finishing_order(make):
    def search(gate: Gate, ordered: bool = True) -> list[tuple[DAG, float]]:
        with ThreadPoolExecutor(max_workers=3) as pool:
            h = run(make(), gate, 12, executor=pool, ordered=ordered)
        assert not h.failed
        return [(e.dag, e.value) for e in h.evaluations]

    in_order, backwards = Gate(3, reverse=False), Gate(3, reverse=True)
    reference = search(in_order)
    assert search(backwards) == reference  # same trajectory, although ...
    assert backwards.finished != [d for d, _ in reference]  # ... the evaluations finished out of ask order
    assert search(Gate(3, reverse=True)) == reference  # and every time

def test_executor_unordered_tells_as_results_arrive():
    # ordered=False tells results as they arrive (a trajectory that depends on timing): it still completes
    with ThreadPoolExecutor(max_workers=3) as pool:
        h = run(RegularizedEvolution(SPACE, population=4, sample_size=2, seed=3), Gate(3, reverse=True), 12,
                executor=pool, ordered=False)
    assert len(h) == 12 and not h.failed


def nb101_objective(dag: DAG) -> float:
    """Synthetic and structural: deep chains of 3x3 convs score high, pooling and width score low."""
    convs = sum(n.op == "conv3x3-bn-relu" for n in dag.nodes)
    pools = sum(n.op == "maxpool3x3" for n in dag.nodes)
    return convs + 0.7 * dag.depth() - 0.5 * pools - 0.3 * abs(dag.num_edges - dag.depth())


def test_bo_beats_random_on_nb101_cells():
    space = NB101Space()
    bo, rs = [], []
    for seed in range(3):
        bo.append(run(tiny_bo(seed, space=space), nb101_objective, 30).best_value)
        rs.append(run(RandomSearch(space, seed=seed), nb101_objective, 30).best_value)
    assert np.mean(bo) > np.mean(rs)


@pytest.mark.parametrize("bad", [-1, 2.5, True, "3"])
def test_budget_must_be_a_whole_number_of_evaluations(bad):
    with pytest.raises(ValueError, match="budget must be an integer >= 0"):
        run(RandomSearch(NB201Space(), seed=0), lambda dag: 1.0, bad)
