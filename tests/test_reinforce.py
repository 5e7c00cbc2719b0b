"""The REINFORCE controller and optimiser: determinism, resume, batches, failures, anchor points, bad input."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from graphnas.generators import ChainSpace, NB101Space, NB201Space  # noqa: E402
from graphnas.search import Controller, RandomSearch, Reinforce, get_optimizer, read_journal, run  # noqa: E402
from graphnas.search.reinforce import plot_policy  # noqa: E402


def convs(dag) -> float:
    """A toy reward: the number of 3x3 convs (the best NB201 cell has 6)."""
    return float(sum(n.op == "nor_conv_3x3" for n in dag.nodes))


def trajectory(opt, budget=12):
    return [(e.dag.to_json(), e.value) for e in run(opt, convs, budget).evaluations]


@pytest.mark.parametrize("policy", ["lstm", "independent"])
def test_same_seed_same_trajectory(policy):
    a = trajectory(Reinforce(NB201Space(), policy=policy, seed=-3))
    b = trajectory(Reinforce(NB201Space(), policy=policy, seed=-3))
    c = trajectory(Reinforce(NB201Space(), policy=policy, seed=4))
    assert a == b and a != c


def test_no_global_torch_state_touched():
    threads = torch.get_num_threads()
    state = torch.random.get_rng_state()
    trajectory(Reinforce(NB201Space(), seed=0), 5)
    assert torch.equal(state, torch.random.get_rng_state()) and torch.get_num_threads() == threads


def test_learns_a_simple_reward():
    space = NB201Space()
    opt = Reinforce(space, seed=0)
    run(opt, convs, 120)
    table = opt.controller.policy_table()
    # after training, nor_conv_3x3 is the most likely op on most edges
    assert sum(max(range(5), key=lambda k: p[k]) == 3 for _, p in table) >= 4
    assert [d.name for d, _ in table] == [space.decisions([0] * k).name for k in range(6)]


def test_resume_from_journal_equals_uninterrupted(tmp_path):
    space = NB201Space()
    full = run(Reinforce(space, seed=7), convs, 24, journal=tmp_path / "full.jsonl")
    run(Reinforce(space, seed=7), convs, 10, journal=tmp_path / "cut.jsonl")
    resumed_opt = Reinforce(space, seed=7)
    resumed = run(resumed_opt, convs, 24, journal=tmp_path / "cut.jsonl")
    assert [e.dag for e in resumed.evaluations] == [e.dag for e in full.evaluations]
    assert [e.dag for e in read_journal(tmp_path / "cut.jsonl").evaluations] == [e.dag for e in full.evaluations]
    assert resumed_opt.controller.updates == 24


def test_ask_batch_updates_once_all_are_told():
    opt = Reinforce(NB201Space(), seed=0)
    dags = opt.ask(16)
    assert len({d.canonical_key() for d in dags}) == 16
    for d in dags[:-1]:
        opt.tell(d, convs(d))
    assert opt.controller.updates == 0
    opt.tell(dags[-1], convs(dags[-1]))
    assert opt.controller.updates == 1
    # batch_size accumulates several asks
    opt = Reinforce(NB201Space(), seed=0, batch_size=4)
    for _ in range(4):
        (d,) = opt.ask(1)
        opt.tell(d, 1.0)
    assert opt.controller.updates == 1


def test_failed_evaluations_are_skipped_or_scored():
    space = NB201Space()
    opt = Reinforce(space, seed=0)
    dags = opt.ask(3)
    for d in dags:
        opt.tell(d, float("nan"))
    assert opt.controller.updates == 0  # nothing to learn from
    opt = Reinforce(space, seed=0, failure_reward=0.0)
    dags = opt.ask(3)
    for d in dags:
        opt.tell(d, float("nan"))
    assert opt.controller.updates == 1

    def flaky(dag):
        if convs(dag) == 0:
            raise RuntimeError("diverged")
        return convs(dag)

    h = run(Reinforce(space, seed=1), flaky, 30)
    assert len(h) == 30 and h.failed and math.isfinite(h.best_value)


def test_bad_input():
    with pytest.raises(TypeError, match="has no decisions"):
        Reinforce(type("S", (), {"sample": lambda self, seed=None: None})())
    opt = Reinforce(NB201Space(), seed=0)
    (d,) = opt.ask(1)
    with pytest.raises(TypeError, match="'high'"):
        opt.tell(d, "high")
    with pytest.raises(TypeError, match="None"):
        opt.tell(d, None)
    c = Controller(NB201Space(), seed=0)
    c.sample(2)
    with pytest.raises(ValueError, match="2 decision sequences"):
        c.update([1.0])
    from graphnas import GraphError

    with pytest.raises(GraphError, match=r"decision 2 \(edge 1->2\): choice 9"):
        c.log_prob([[0, 0, 9, 0, 0, 0]])
    with pytest.raises(ValueError, match="policy"):
        Controller(NB201Space(), policy="gru")


def test_controller_api_for_one_shot_use():
    c = Controller(NB201Space(), seed=0)
    seqs = c.sample(4)
    lp = c.log_prob(seqs)
    assert lp.shape == (4,) and lp.requires_grad and bool((lp <= 0).all())
    before = c.log_prob(seqs).detach()
    for _ in range(10):
        c.update([1.0, 0.0, 0.0, 0.0], seqs)
    after = c.log_prob(seqs).detach()
    assert after[0] > before[0]


def _stepwise(c, seqs):
    """Log-probabilities and entropies scored one decision at a time (the sampling path), for comparison."""
    lps, ents = [], []
    for seq in seqs:
        state = c._state(1)
        lp = en = torch.zeros(1)
        for t, d in enumerate(c._decisions_of(seq)):
            _, step_lp, step_en, _ = c._step(state, d, torch.tensor([seq[t]]))
            lp, en = lp + step_lp, en + step_en
        lps.append(lp[0])
        ents.append(en[0])
    return torch.stack(lps), torch.stack(ents)


@pytest.mark.parametrize("policy", ["lstm", "independent"])
@pytest.mark.parametrize("space", [NB201Space(), NB101Space(), ChainSpace(num_layers=4, keep_chain=False)],
                         ids=["nb201", "nb101", "chain"])
def test_batched_log_prob_equals_the_stepwise_policy(space, policy):
    """log_prob runs whole sequences through the LSTM at once (and groups masked, variable-length and anchor-point
    sequences); it must score exactly what the step-by-step sampler draws from, gradients included."""
    c = Controller(space, policy=policy, seed=3)
    seqs = c.sample(12)
    assert all(space.contains(space.decode(s)) for s in seqs)
    lp, en = c.log_prob_entropy(seqs)
    ref_lp, ref_en = _stepwise(c, seqs)
    assert torch.allclose(lp, ref_lp, atol=1e-5) and torch.allclose(en, ref_en, atol=1e-5)
    params = [p for p in c.net.parameters()]
    g = torch.autograd.grad(lp.sum() + en.sum(), params, allow_unused=True)
    ref_g = torch.autograd.grad(ref_lp.sum() + ref_en.sum(), params, allow_unused=True)
    for a, b in zip(g, ref_g):
        assert (a is None) == (b is None) and (a is None or torch.allclose(a, b, atol=1e-5))


def test_sampling_follows_the_policy_and_never_draws_a_masked_option():
    c = Controller(NB201Space(), seed=0)
    probs = torch.tensor([[0.0, 0.25, 0.0, 0.75, 0.0], [0.2] * 5, [0.0, 0.0, 0.0, 0.0, 1.0]]).repeat(4000, 1)
    drawn = c._draw(probs).view(4000, 3)
    for row in range(3):
        freq = torch.bincount(drawn[:, row], minlength=5) / 4000
        assert torch.allclose(freq, probs[row], atol=0.03)
        assert bool((freq[probs[row] == 0] == 0).all())
    # a batched sample is as valid as single ones, and seeded
    a, b = Controller(NB101Space(), seed=5), Controller(NB101Space(), seed=5)
    assert a.sample(40) == b.sample(40)


def test_anchor_attention_yields_valid_chains_with_skips():
    space = ChainSpace(num_layers=5, keep_chain=False)
    c = Controller(space, seed=0)
    seqs = c.sample(30)
    dags = [space.decode(s) for s in seqs]
    for d in dags:
        space.check(d)
    assert any(len(d.predecessors(i)) > 1 for d in dags for i in range(1, 6))  # some layer reads several
    lp = c.log_prob(seqs)
    assert torch.isfinite(lp).all()
    # the attention is trainable: rewarding skips (on-policy) makes the anchor points read more layers

    def skips(seqs):
        return [float(sum(len(space.decode(q).predecessors(i)) for i in range(1, 6))) for q in seqs]

    before = sum(skips(c.sample(40))) / 40
    for _ in range(25):
        batch = c.sample(16)
        c.update(skips(batch), batch)
    after = sum(skips(c.sample(40))) / 40
    assert after > before + 1


@pytest.mark.parametrize("policy", ["lstm", "independent"])
def test_nb101_controller_never_samples_an_invalid_cell(policy):
    """Variable-length sequences (the number of vertices comes first) and masked, dependent options."""
    space = NB101Space()
    opt = Reinforce(space, seed=0, policy=policy)
    h = run(opt, lambda d: float(len(d)), 25)
    assert not h.failed and all(space.contains(e.dag) for e in h.evaluations)


def test_plot_policy_and_registry(tmp_path):
    opt = get_optimizer("reinforce", NB201Space(), seed=0, policy="independent")
    assert isinstance(opt, Reinforce)
    run(opt, convs, 6)
    fig = plot_policy(opt, tmp_path / "policy.png")
    assert (tmp_path / "policy.png").stat().st_size > 1000 and fig.axes
    plot_policy(Controller(ChainSpace(num_layers=3), seed=0), tmp_path / "chain.png")


def test_beats_nothing_but_runs_beside_random_search():
    """Smoke: the same loop drives Reinforce and RandomSearch on the same space."""
    space = NB201Space()
    assert len(run(RandomSearch(space, seed=0), convs, 5)) == len(run(Reinforce(space, seed=0), convs, 5)) == 5


def test_random_fallback_members_are_told_but_not_learnt_from():
    """A policy that keeps repeating itself gets random members to evaluate; they are not its draws, so
    REINFORCE's gradient must not use them (before: encoded and learnt from as if the policy drew them).
    Its repeats of told graphs are its draws: learnt from at their known reward, so it keeps learning."""
    from graphnas.generators import NB201Space
    from graphnas.search import Reinforce

    opt = Reinforce(NB201Space(), policy="independent", max_attempts=1, seed=0)
    first = opt.space.sample(0)
    opt.controller.sample = lambda k: [opt.space.encode(first)] * k  # a policy that has collapsed onto one cell
    updates = []
    real_update = opt.controller.update
    opt.controller.update = lambda rewards, choices: (updates.append((list(rewards), choices)),
                                                      real_update(rewards, choices))
    assert opt.ask(1) == [first]
    opt.tell(first, 1.0)
    fallback = opt.ask(1)[0]  # the policy draws `first` again: a random member instead
    assert fallback != first
    opt.tell(fallback, 5.0)
    assert len(opt.history) == 2
    assert [r for r, _ in updates] == [[1.0], [1.0]]  # the repeat, at first's reward; never the fallback's 5.0
    assert all(c == [opt.space.encode(first)] for _, c in updates)
