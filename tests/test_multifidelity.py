"""Fidelity as part of the loop and the multi-fidelity optimisers: rung promotion worked by hand, determinism,
busy workers, journal fidelity/cost/resume, and bad fidelities."""

from __future__ import annotations

import concurrent.futures as cf
import json
import time

import pytest

from graphnas.benchmarks import NB201Table
from graphnas.benchmarks.objectives import get_objective
from graphnas.dag import DAG, Node
from graphnas.generators import NB201Space
from graphnas.search import (
    ASHA,
    Hyperband,
    ModelBasedASHA,
    ModelBasedHyperband,
    RandomSearch,
    SuccessiveHalving,
    Trial,
    get_optimizer,
    read_journal,
    run,
)


class Numbered:
    """A space whose n-th sample is graph n (``sample`` ignores the seed's value but counts)."""

    def __init__(self) -> None:
        self.n = 0

    def sample(self, seed=None) -> DAG:
        self.n += 1
        return graph(self.n)

    def mutate(self, dag, seed=None) -> DAG:
        return self.sample(seed)


def graph(i: int) -> DAG:
    return DAG([Node("input"), Node("x", {"i": i})], [(0, 1)])


def ident(dag: DAG) -> int:
    return dag.nodes[1].params["i"]


class Scripted:
    """Objective: graph i scores ``base[i]`` at level 1 and ``base[i] + 100 * level`` above it; cost = epochs."""

    def __init__(self, base: dict[int, float]) -> None:
        self.base = base
        self.calls: list[tuple[int, int]] = []

    def __call__(self, dag, fidelity=None):
        e = fidelity["epochs"]
        self.calls.append((ident(dag), e))
        return {"value": self.base[ident(dag)] + (100 * e if e > 1 else 0), "cost": float(e)}


def test_successive_halving_promotes_the_best_third_of_each_rung():
    base = {i: v for i, v in enumerate([5, 9, 1, 7, 3, 8, 2, 6, 4, 10, 0, 11], start=1)}
    obj = Scripted(base)
    opt = SuccessiveHalving(Numbered(), levels=(1, 3, 9), eta=3, n_initial=9, seed=0)
    run(opt, obj, budget=13 + 2)
    # bracket 1: graphs 1..9 at 1 epoch; the best three (2: 9, 6: 8, 4: 7) at 3; their best (2) at 9
    assert obj.calls[:9] == [(i, 1) for i in range(1, 10)]
    assert obj.calls[9:12] == [(2, 3), (6, 3), (4, 3)]
    assert obj.calls[12] == (2, 9)
    assert obj.calls[13:] == [(10, 1), (11, 1)]  # then a new bracket


def test_successive_halving_waits_for_its_rung():
    opt = SuccessiveHalving(Numbered(), levels=(1, 3), eta=2, n_initial=4, seed=0)
    first = opt.ask_trials(10)
    assert [t.fidelity for t in first] == [{"epochs": 1}] * 4  # nothing more until the rung is in
    for t, v in zip(first, [1.0, 4.0, 3.0, 2.0]):
        assert opt.ask_trials(1) == []
        opt.tell_trial(t, v)
    up = opt.ask_trials(10)
    assert [(ident(t.dag), t.fidelity["epochs"]) for t in up] == [(2, 3), (3, 3)]


def test_failures_are_never_promoted_and_shrink_the_rung():
    opt = SuccessiveHalving(Numbered(), levels=(1, 3), eta=2, n_initial=4, seed=0)
    trials = opt.ask_trials(4)
    for t, v in zip(trials, [float("nan"), float("nan"), float("nan"), 2.0]):
        opt.tell_trial(t, v)
    assert [(ident(t.dag), t.fidelity["epochs"]) for t in opt.ask_trials(5)] == [(4, 3)]


def test_hyperband_brackets_trade_graphs_for_fidelity():
    opt = Hyperband(Numbered(), levels=(1, 3, 9), eta=3, seed=0)
    obj = Scripted({i: float(i % 7) for i in range(1, 200)})
    run(opt, obj, budget=13 + 5 + 3)
    levels = [e for _, e in obj.calls]
    # s=2: 9 at 1, 3 at 3, 1 at 9; s=1: ceil(3/2*3)=5 at 3, then 1 at 9; s=0: 3 at 9
    assert levels[:13] == [1] * 9 + [3] * 3 + [9]
    assert levels[13:19] == [3] * 5 + [9]
    assert levels[19:21] == [9, 9]


def test_asha_promotes_as_soon_as_a_rung_has_enough_results():
    base = {1: 5.0, 2: 9.0, 3: 1.0, 4: 7.0, 5: 3.0, 6: 8.0, 7: 2.0}
    obj = Scripted(base)
    run(ASHA(Numbered(), levels=(1, 3), eta=2, seed=0), obj, budget=9)
    # after 1 and 2: rung 0 holds 2 results, its best half (graph 2) goes up; 3 new; after 4 results the best
    # two are 2 (done) and 4: 4 goes up; 5, 6 new; 6 results: best three 2, 6, 4: 6 goes up
    assert obj.calls == [(1, 1), (2, 1), (2, 3), (3, 1), (4, 1), (4, 3), (5, 1), (6, 1), (6, 3)]


def test_same_seed_same_trials_other_seed_other_trials():
    table = NB201Table()

    def trials(name, seed):
        h = run(get_optimizer(name, NB201Space(), levels=[12, 200], eta=3, seed=seed), table, budget=25)
        return [(table.arch(e.dag), e.fidelity["epochs"]) for e in h.evaluations]

    for name in ("sh", "hyperband", "asha"):
        assert trials(name, 1) == trials(name, 1)
        assert trials(name, 1) != trials(name, 2)


class Mean:
    """A cheap stand-in surrogate (scikit-learn's predict protocol): the mean of the values seen, std 1."""

    def fit(self, dags, y):
        self.mean = float(sum(y) / len(y))

    def predict(self, dags, return_std=True):
        import numpy as np

        return np.full(len(dags), self.mean), np.ones(len(dags))


@pytest.mark.parametrize("cls", [ModelBasedHyperband, ModelBasedASHA])
def test_model_based_variants_propose_through_the_surrogate(cls):
    table = NB201Table()

    def go(seed):
        opt = cls(NB201Space(), levels=(12, 200), eta=3, surrogate=Mean(), min_points=4, refit_every=2,
                  random_fraction=0.25, seed=seed)
        h = run(opt, table, budget=30)
        return opt, [(table.arch(e.dag), e.fidelity["epochs"]) for e in h.evaluations]

    opt, a = go(0)
    assert opt.model_proposals > 0
    assert a == go(0)[1]
    assert len({(arch, e) for arch, e in a}) == len(a)  # no trial twice


def test_model_based_fits_hold_each_graph_once():
    """The model is fitted on its level's results plus the graphs still in flight, never on a graph twice
    (once with its result, once as a believed pending one) nor on every graph it ever proposed."""
    fits: list[list[str]] = []

    class Recording(Mean):
        def fit(self, dags, y):
            fits.append([d.canonical_key() for d in dags])
            super().fit(dags, y)

    opt = ModelBasedHyperband(NB201Space(), levels=(12, 200), eta=3, surrogate=Recording(), min_points=4,
                              refit_every=2, random_fraction=0.0, batch=2, seed=0)
    run(opt, NB201Table(), budget=60)
    assert len(fits) > 3
    for keys in fits:
        assert len(keys) == len(set(keys))
        results = sum(1 for k in keys if any(k in rung for rung in opt.rungs))
        assert len(keys) - results <= opt.batch  # pending: at most the proposals of one prediction


def test_asha_keeps_every_thread_busy_where_sh_waits():
    workers = 4
    spans: list[tuple[float, float]] = []

    def objective(dag, fidelity=None):
        start = time.perf_counter()
        time.sleep(0.03 + 0.03 * (ident(dag) % 3))
        spans.append((start, time.perf_counter()))
        return {"value": float(ident(dag) % 5), "cost": float(fidelity["epochs"])}

    def utilisation(opt):
        spans.clear()
        with cf.ThreadPoolExecutor(workers) as pool:
            run(opt, objective, budget=60, executor=pool, workers=workers, ordered=False)
        spans.sort()
        # up to the start of the last evaluation: the tail, when no work is left to ask for, does not count
        end = spans[-1][0]
        busy = sum(max(0.0, min(b, end) - a) for a, b in spans)
        return busy / (workers * (end - spans[0][0]))

    asha = utilisation(ASHA(Numbered(), levels=(1, 3), eta=2, seed=0))
    sh = utilisation(SuccessiveHalving(Numbered(), levels=(1, 3), eta=2, n_initial=4, seed=0))
    assert asha > 0.9  # workers never wait for a rung
    assert sh < asha - 0.15  # synchronous: the promotions wait for their rung to complete


def test_journal_keeps_fidelity_and_cost_and_resumes(tmp_path):
    table = NB201Table()
    journal = tmp_path / "j.jsonl"
    first = run(ASHA(NB201Space(), levels=(12, 200), eta=3, seed=0), table, budget=10, journal=journal)
    lines = [json.loads(x) for x in journal.read_text().splitlines()[1:]]
    assert {line["fidelity"]["epochs"] for line in lines} == {12, 200}
    assert all(line["cost"] == line["fidelity"]["epochs"] for line in lines)
    opt = ASHA(NB201Space(), levels=(12, 200), eta=3, seed=0)
    resumed = run(opt, table, budget=25, journal=journal)
    assert len(resumed) == 25
    assert [(e.fidelity, e.cost) for e in resumed.evaluations[:10]] == [(e.fidelity, e.cost)
                                                                       for e in first.evaluations]
    pairs = [(e.dag.canonical_key(), e.fidelity["epochs"]) for e in read_journal(journal).evaluations]
    assert len(set(pairs)) == 25  # nothing evaluated twice at one fidelity
    # a graph first evaluated before the restart can be promoted after it (the rungs were replayed)
    assert len(opt.rungs[0]) + len(opt.rungs[1]) == 25
    with pytest.raises(ValueError, match="written by another search"):  # the header names the optimiser
        run(RandomSearch(NB201Space(), seed=0), table, budget=30, journal=journal)
    lines = journal.read_text().splitlines()  # a journal whose header names no search (written before it did)
    header = json.loads(lines[0])
    header.pop("search")
    journal.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with pytest.raises(ValueError, match="fidelity .*RandomSearch"):
        run(RandomSearch(NB201Space(), seed=0), table, budget=30, journal=journal)


def test_an_unsupported_fidelity_fails_the_evaluation_naming_it():
    h = run(ASHA(NB201Space(), levels=(12, 50), eta=2, seed=0), NB201Table(), budget=4)
    failed = [e for e in h.evaluations if e.status == "failed"]
    assert failed and "no fidelity epochs=50" in failed[0].error and failed[0].fidelity == {"epochs": 50}
    with pytest.raises(ValueError, match="does not support fidelity 'fraction'"):
        NB201Table()(NB201Space().sample(0), fidelity={"fraction": 0.5})
    digits = get_objective("digits", epochs=2)
    for bad, what in (({"lr": 0.1}, "'lr'"), ({"epochs": 0}, "'epochs'"), ({"fraction": 1.5}, "'fraction'"),
                      ({"width": -1}, "'width'")):
        with pytest.raises(ValueError, match=f"digits objective.*{what}"):
            digits(NB201Space().sample(0), fidelity=bad)


def test_the_nb201_table_at_each_fidelity():
    table = NB201Table()
    arch, best = table.best()
    assert table(arch, fidelity={"epochs": 200}) == {"value": best, "cost": 200.0, "epochs": 200,
                                                     "metric": "cifar10_test_acc"}
    low = table(arch, fidelity={"epochs": 12})
    assert low["cost"] == 12.0 and low["metric"] == "cifar10_valid_acc_12ep"
    test12 = NB201Table(fidelity_metrics={200: "cifar10_test_acc", 12: "cifar10_test_acc_12ep"})
    assert test12(arch, fidelity={"epochs": 12})["value"] == NB201Table(metric="cifar10_test_acc_12ep")(arch)
    with pytest.raises(ValueError, match="no metric column 'nope'"):
        NB201Table(fidelity_metrics={12: "nope"})


def test_digits_objective_at_a_low_fidelity_costs_less():
    digits = get_objective("digits", epochs=2, max_train=200)
    cell = NB201Space().sample(0)
    r = digits(cell, fidelity={"epochs": 1, "fraction": 0.5, "width": 0.5})
    assert r["cost"] == pytest.approx(0.5) and r["fidelity"] == {"epochs": 1, "fraction": 0.5, "width": 0.5}
    full = digits(cell)
    assert full["cost"] == 2.0 and full["params"] > r["params"]


def test_trial_protocol_is_optional():
    h = run(RandomSearch(NB201Space(), seed=0), NB201Table(), budget=3)
    assert all(e.fidelity is None and e.cost is None for e in h.evaluations)
    opt = ASHA(NB201Space(), seed=0)
    with pytest.raises(TypeError, match="ask_trials"):
        opt.ask(1)
    assert isinstance(opt.ask_trials(1)[0], Trial)
    with pytest.raises(ValueError, match="not on its ladder"):
        opt.tell_trial(Trial(NB201Space().sample(0), {"epochs": 7}), 1.0)


def test_cli_search_with_asha_on_the_packaged_table(capsys, tmp_path):
    from graphnas.cli import main

    out = tmp_path / "run"
    with pytest.raises(SystemExit) as done:
        main(["search", "--space", "nb201", "--objective", "nb201", "--optimizer", "asha", "--eta", "4",
              "--budget", "20", "--seed", "0", "--out", str(out)])
    assert done.value.code in (0, None), capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["optimizer_params"] == {"eta": 4, "levels": [12, 200]}  # the table's fidelities
    history = read_journal(out / "journal.jsonl")
    assert summary["cost"] == sum(e.cost for e in history.evaluations) == sum(e.fidelity["epochs"]
                                                                              for e in history.evaluations)
    top = [e.value for e in history.evaluations if e.fidelity["epochs"] == 200]
    assert summary["best_value"] == max(top)  # the best at 200 epochs, not a 12-epoch validation score


def test_cli_early_stop_needs_a_training_objective(capsys, tmp_path):
    from graphnas.cli import main

    with pytest.raises(SystemExit) as done:
        main(["search", "--objective", "nb201", "--optimizer", "random", "--early-stop", "0.1", "--budget", "2",
              "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert done.value.code == 1 and "--early-stop" in err and "trains nothing" in err


def test_cli_refuses_levels_the_table_cannot_evaluate_before_searching(capsys, tmp_path):
    # before: every promotion to 100 epochs failed, and the error said to raise --budget
    from graphnas.cli import main

    with pytest.raises(SystemExit) as done:
        main(["search", "--objective", "nb201", "--optimizer", "asha", "--levels", "[12, 100]", "--budget", "20",
              "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert done.value.code == 1 and "--levels" in err and "no fidelity epochs=100" in err and "12, 200" in err
    assert not (tmp_path / "run").exists()
