"""Supernets as DAGs (issue 11, parts 1-2): the spaces' supernets, paths, derivation rules, and choice nodes
compiled by the one converter into mixed ops."""

from __future__ import annotations

import copy
import pickle
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import graphnas
from graphnas import DAG, GraphError, Node
from graphnas.benchmarks.digits import digits_network
from graphnas.converters.dot import to_dot
from graphnas.converters.mixed import MixedOp, arch_parameters, set_choice_mode, weight_parameters
from graphnas.generators import ChainSpace, DARTSSpace, ENASSpace, NASNetSpace, NB201Space
from graphnas.generators.nb201 import NB201_OPS
from graphnas.generators.supernet import supernet_choices

SPACES = [NB201Space(), DARTSSpace(), ENASSpace(), NASNetSpace(combines=("sum",))]
IDS = ["nb201", "darts", "enas", "nasnet-sum"]


@pytest.mark.parametrize("space", SPACES, ids=IDS)
def test_supernet_is_a_dag_saved_as_json_and_rendered(space, tmp_path):
    sn = space.supernet()
    assert DAG.from_json(sn.to_json()) == sn
    assert list(supernet_choices(sn)) == space.choice_keys()
    source = to_dot(sn)
    assert "choice" in source and space.choice_keys()[0] in source


def test_darts_supernet_has_every_candidate_edge():
    space = DARTSSpace()
    choices = supernet_choices(space.supernet())
    assert len(choices) == 2 * (2 + 3 + 4 + 5)  # state j reads all j earlier states, in both cells
    assert all(c[0] == "none" and set(c[1:]) == set(space.ops) for c in choices.values())


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_every_member_is_a_path_and_back(seed):
    for space in SPACES:
        dag = space.sample(seed=seed)
        path = space.path_of(dag)
        assert set(path) == set(space.choice_keys())
        assert space.from_path(path) == dag


def test_bad_paths_and_spaces_without_supernets():
    space = NB201Space()
    path = space.path_of(space.sample(seed=0))
    with pytest.raises(GraphError, match="no choice for '3<-2'"):
        space.from_path({k: v for k, v in path.items() if k != "3<-2"})
    with pytest.raises(GraphError, match="'1<-0': 9 is not a candidate"):
        space.from_path({**path, "1<-0": 9})
    with pytest.raises(GraphError, match="does not have"):
        space.from_path({**path, "bogus": 0})
    assert space.from_path({**path, "1<-0": "skip_connect"}).nodes[1].op == "skip_connect"
    darts = DARTSSpace()
    bad = dict.fromkeys(darts.choice_keys(), 0)
    with pytest.raises(GraphError, match="normal cell, state 2: 0 edges taken"):
        darts.from_path(bad)
    with pytest.raises(NotImplementedError, match="NASNetSpace with combines .* has no supernet"):
        NASNetSpace().supernet()
    with pytest.raises(NotImplementedError, match="ChainSpace has no supernet"):
        ChainSpace().supernet()
    enas = ENASSpace()
    path = enas.path_of(enas.sample(seed=0))
    with pytest.raises(GraphError, match="normal cell, block 0 pair a: 2 edges taken"):
        enas.from_path({**path, "normal:b0a<-0": 1, "normal:b0a<-1": 1})
    loose = next(k for k, v in path.items() if ":out<-" in k and v == 1)
    with pytest.raises(GraphError, match="is a loose end"):
        enas.from_path({**path, loose: 0})


def test_nb201_derivation_is_argmax_with_none():
    space = NB201Space()
    w = {k: [0.1, 0.2, 0.3, 0.25, 0.15] for k in space.choice_keys()}
    w["1<-0"] = [0.9, 0.02, 0.03, 0.03, 0.02]   # none wins: NB201's DARTS keeps it
    w["3<-2"] = [0.1, 0.3, 0.3, 0.2, 0.1]       # tie: the first
    ops = space.to_ops(space.derive(w))
    assert ops == ["none", "nor_conv_1x1", "nor_conv_1x1", "nor_conv_1x1", "nor_conv_1x1", "skip_connect"]


@pytest.mark.parametrize("space", [NB201Space(), DARTSSpace(steps=2), ENASSpace(num_blocks=2)],
                         ids=["nb201", "darts", "enas"])
def test_derive_refuses_weights_that_are_not_one_number_per_candidate(space):
    """Too few weights, a string or a NaN used to derive a member silently (argmax over what was there)."""
    key = space.choice_keys()[0]
    n = len(space.candidates) if hasattr(space, "candidates") else len(NB201_OPS)
    good = {k: ([0.4, 0.6] if ":out<-" in k else torch.linspace(0, 1, n)) for k in space.choice_keys()}
    assert space.contains(space.derive(good))  # tensors are fine
    for bad, says in (([0.1, 0.9], f"weights must be {n} numbers (no NaN), one per candidate, got 2"),
                      ("abc", f"weights must be {n} numbers, one per candidate, got 'abc'"),
                      ([float("nan")] * n, f"weights must be {n} numbers (no NaN)")):
        with pytest.raises(GraphError, match=re.escape(f"choice '{key}': {says}")):
            space.derive({**good, key: bad})
    # -inf marks a candidate that must not be taken; a torch ParameterDict is a mapping too
    forbid = {**good, key: torch.linspace(0, 1, n).index_fill(0, torch.tensor([n - 1]), float("-inf"))}
    assert space.derive(forbid) != space.derive(good)
    params = torch.nn.ParameterDict({k.replace(".", "_"): torch.nn.Parameter(torch.as_tensor(v, dtype=torch.float))
                                     for k, v in good.items()})
    assert space.derive(params) == space.derive(good)


def test_darts_derivation_rule_hand_worked():
    space = DARTSSpace(steps=2)  # states 2, 3; candidates: none + 7 ops
    c = space.candidates
    assert c[0] == "none"

    def one(best: str, strength: float, none: float = 0.0) -> list[float]:
        w = [0.0] * len(c)
        w[0] = none
        w[c.index(best)] = strength
        return w

    w = {}
    for which in ("normal", "reduce"):
        # state 2: both inputs taken (only two); state 3: edges from 0, 1, 2
        w[f"{which}:0->2"] = one("sep_conv_3x3", 0.3)
        w[f"{which}:1->2"] = one("max_pool_3x3", 0.2, none=0.9)   # none's weight never counts
        w[f"{which}:0->3"] = one("skip_connect", 0.1, none=0.95)  # weakest non-none: dropped
        w[f"{which}:1->3"] = one("dil_conv_5x5", 0.6)
        w[f"{which}:2->3"] = one("avg_pool_3x3", 0.4)
    normal, reduce = space.to_blocks(space.derive(w))
    assert normal == reduce == [(0, "sep_conv_3x3", 1, "max_pool_3x3", "sum"),
                                (1, "dil_conv_5x5", 2, "avg_pool_3x3", "sum")]


def test_choice_node_errors_name_the_node():
    def g(params):
        return DAG([Node("input"), Node("choice", params)], [(0, 1)])

    with pytest.raises(GraphError, match="node 1.*non-empty 'candidates'"):
        graphnas.to_torch(g({"candidates": [], "key": "e"}))
    with pytest.raises(GraphError, match="node 1.*candidate 'nope'.*unknown op 'nope'"):
        graphnas.to_torch(g({"candidates": ["skip_connect", "nope"], "key": "e"}))
    with pytest.raises(GraphError, match="needs a 'key'"):
        graphnas.to_torch(g({"candidates": ["skip_connect"]}))
    with pytest.raises(GraphError, match="no choice nodes"):
        arch_parameters(graphnas.to_torch(DAG([Node("input"), Node("relu")], [(0, 1)])))


def _loss(net, x, y):
    return torch.nn.functional.cross_entropy(net(x), y)


def test_compiled_supernet_modes_and_parameters():
    net = graphnas.to_torch(digits_network(NB201Space().supernet()), in_channels=1)
    assert "self.arch()" in net.code  # the pass's draws are a visible line of the generated code
    mixed = [m for m in net.modules() if isinstance(m, MixedOp)]
    assert len(mixed) == 12 and set(mixed[0].candidates) == set(NB201_OPS)  # 2 cells x 6 edges
    alphas = arch_parameters(net)
    assert len(alphas) == 6  # shared by key across the two cells
    weights = weight_parameters(net)
    assert {id(p) for p in alphas}.isdisjoint({id(p) for p in weights})
    assert len(alphas) + len(weights) == len(list(net.parameters()))
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 10, (16,))
    _loss(net, x, y).backward()
    assert all(a.grad is not None and a.grad.abs().sum() > 0 for a in alphas)
    net.zero_grad()
    set_choice_mode(net, "gumbel", seed=0, tau=5.0)
    _loss(net, x, y).backward()
    assert sum(float(a.grad.abs().sum()) for a in alphas if a.grad is not None) > 0
    net.zero_grad()
    set_choice_mode(net, "sampled", seed=0)
    _loss(net, x, y).backward()
    assert all(a.grad is None or a.grad.abs().sum() == 0 for a in alphas)


def test_sampled_mode_computes_only_the_chosen_candidate():
    space = NB201Space()
    net = graphnas.to_torch(digits_network(space.supernet()), in_channels=1)
    calls: dict[str, int] = {}
    for name, m in net.named_modules():
        if name.endswith(".candidates.nor_conv_3x3") or name.endswith(".candidates.nor_conv_1x1"):
            m.register_forward_hook(lambda mod, i, o, name=name: calls.__setitem__(name, calls.get(name, 0) + 1))
    path = space.path_of(space.from_ops(["nor_conv_3x3"] * 6))
    set_choice_mode(net, "sampled", path=path)
    net(torch.randn(2, 1, 8, 8))
    assert calls and all(".nor_conv_3x3" in k for k in calls)
    seen = set()
    set_choice_mode(net, "sampled", seed=3)
    for _ in range(5):
        net(torch.randn(2, 1, 8, 8))
        seen.add(tuple(net.arch.drawn.values()))
    assert len(seen) > 1  # a new path per forward pass


def test_supernet_copies_and_pickles():
    net = graphnas.to_torch(digits_network(DARTSSpace(steps=2).supernet(), C=4), in_channels=1)
    x = torch.randn(2, 1, 8, 8)
    net.eval()
    for other in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        other.eval()
        assert torch.allclose(other(x), net(x))
        m = next(m for m in other.modules() if isinstance(m, MixedOp))
        assert m._arch is other.arch


@pytest.mark.parametrize("module", ["graphnas.converters.mixed", "graphnas.generators.supernet",
                                    "graphnas.oneshot.methods"])
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_enas_derivation_rule_hand_worked():
    space = ENASSpace(num_blocks=2)  # candidates: none + 5 ops; block 0 reads 0..1, block 1 reads 0..2
    c = space.candidates
    w = {k: [0.0] * (len(c) if ":out<-" not in k else 2) for k in space.choice_keys()}
    for which in ("normal", "reduce"):
        w[f"{which}:b0a<-1"][c.index("sep_conv_5x5")] = 0.5
        w[f"{which}:b0a<-0"][0] = 0.9                            # none's weight never counts
        w[f"{which}:b0b<-1"][c.index("max_pool_3x3")] = 0.3      # both pairs may read the same state
        w[f"{which}:b1a<-2"][c.index("skip_connect")] = 0.4
        w[f"{which}:b1b<-0"][c.index("avg_pool_3x3")] = 0.2
        w[f"{which}:b1b<-2"][c.index("sep_conv_3x3")] = 0.1
    normal, reduce = space.to_blocks(space.derive(w))
    assert normal == reduce == [(1, "max_pool_3x3", 1, "sep_conv_5x5", "sum"),
                                (0, "avg_pool_3x3", 2, "skip_connect", "sum")]
    assert space.concat_of(normal) == [3]  # the output follows from the blocks: the one loose end


def test_a_path_computes_what_its_member_computes():
    """NB201: the supernet with a member's path fixed is the member's network, with the chosen candidates'
    weights (the cell layouts are the same, so the weights map by name)."""
    space = NB201Space()
    dag = space.from_ops(["nor_conv_3x3", "skip_connect", "nor_conv_1x1", "avg_pool_3x3", "none", "nor_conv_3x3"])
    torch.manual_seed(0)
    sn = graphnas.to_torch(digits_network(space.supernet()), in_channels=1)
    member = graphnas.to_torch(digits_network(dag), in_channels=1)
    ops = dict(zip((1, 3, 4, 6, 7, 8), space.to_ops(dag)))
    state = sn.state_dict()
    mapped = {}
    for key in member.state_dict():
        parts = key.split(".")
        if parts[0].startswith("cell_") and int(parts[1].split("_")[1]) in ops:
            parts.insert(2, f"candidates.{ops[int(parts[1].split('_')[1])]}")
        mapped[key] = state[".".join(parts)]
    member.load_state_dict(mapped)
    set_choice_mode(sn, "sampled", path=space.path_of(dag))
    sn.eval()
    member.eval()
    x = torch.randn(4, 1, 8, 8)
    assert torch.allclose(sn(x), member(x), atol=1e-6)


@pytest.mark.parametrize("aux_skip", [0.0, 0.3])
def test_relaxed_mixed_op_is_the_plain_weighted_sum(aux_skip):
    """The in-place accumulation of the relaxed mode computes ``sum_k softmax(alpha)_k * op_k(x)`` (the DARTS
    code's Python-loop sum, zero op included), with the same gradients for the input, weights and alphas."""
    torch.manual_seed(0)
    net = graphnas.to_torch(digits_network(DARTSSpace(steps=2).supernet(), C=4), in_channels=1)
    net.arch.aux_skip = aux_skip
    with torch.no_grad():
        for a in arch_parameters(net):
            a.normal_()
    mixed = [m for m in net.modules() if isinstance(m, MixedOp)]
    strides = set()
    for m in mixed:
        assert list(m.candidates)[0] == "none" and m._zero[0]  # the zero op is a candidate, skipped
        conv = m.candidates["sep_conv_3x3"][1]
        strides.add(conv.stride[0])
        x = torch.randn(4, conv.in_channels, 8, 8, requires_grad=True)
        out = m(x)
        grads = torch.autograd.grad(out.square().sum(), [x, net.arch.alphas[m.key], *m.parameters()])
        w = torch.softmax(net.arch.alphas[m.key], dim=-1)
        ref = sum(wk * op(x) for wk, op in zip(w, m.candidates.values()))
        if aux_skip and ref.shape == x.shape:
            ref = ref + aux_skip * x
        ref_grads = torch.autograd.grad(ref.square().sum(), [x, net.arch.alphas[m.key], *m.parameters()])
        assert torch.allclose(out, ref, atol=1e-6)
        assert all(torch.allclose(g, r, atol=1e-5) for g, r in zip(grads, ref_grads))
    assert strides == {1, 2}  # normal and reduction edges (pooling and FactorizedReduce at stride 2)


def test_relaxed_mixed_op_shares_the_leading_relu_but_keeps_hooks():
    """Candidates that begin with a ReLU share one ``relu(x)`` in relaxed mode (one ReLU saved for the backward
    pass instead of one per candidate); a candidate with a hook is called whole, so its hook still runs."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class CountReLU(TorchDispatchMode):
        n = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.n += func is torch.ops.aten.relu.default
            return func(*args, **(kwargs or {}))

    torch.manual_seed(0)
    net = graphnas.to_torch(digits_network(DARTSSpace(steps=2).supernet(), C=4), in_channels=1)
    m = next(m for m in net.modules() if isinstance(m, MixedOp))  # a normal edge: skip_connect is the identity
    x = torch.randn(4, m.candidates["sep_conv_3x3"][1].in_channels, 8, 8)
    with CountReLU() as shared:
        before = m(x)
    assert shared.n == 3  # one shared by sep_conv_3x3/5x5 and dil_conv_3x3/5x5, the sep convs' second ReLUs
    calls = []
    handle = m.candidates["sep_conv_3x3"].register_forward_hook(lambda mod, i, o: calls.append(o))
    with CountReLU() as hooked:
        after = m(x)
    handle.remove()
    assert len(calls) == 1 and hooked.n == 4  # the hooked candidate ran whole, its own first ReLU included
    handle = torch.nn.modules.module.register_module_forward_hook(lambda mod, i, o: None)
    with CountReLU() as global_hook:
        m(x)
    handle.remove()
    assert global_hook.n == 6  # a global hook sees every module call: nothing shared
    assert torch.allclose(before, after, atol=1e-6)


def test_shared_relu_runs_every_entry_of_a_sequential_that_reuses_a_module():
    """``nn.Sequential.forward`` runs every entry, a module listed twice included (``children()`` would
    yield it once): the shared-ReLU path must compute what the candidate itself computes."""
    torch.manual_seed(0)
    net = graphnas.to_torch(digits_network(DARTSSpace(steps=2).supernet(), C=4), in_channels=1)
    m = next(m for m in net.modules() if isinstance(m, MixedOp))
    c = m.candidates["sep_conv_3x3"][1].in_channels
    conv = torch.nn.Conv2d(c, c, 3, padding=1, bias=False)
    relu = torch.nn.ReLU()
    m.candidates["sep_conv_3x3"] = torch.nn.Sequential(torch.nn.ReLU(), conv, relu, conv, relu)
    x = torch.randn(2, c, 8, 8)
    w = torch.softmax(m._arch.alphas[m.key], dim=-1)
    expected = sum(w[k] * op(x) for k, op in enumerate(m.candidates.values()) if not m._zero[k])
    assert torch.allclose(m(x), expected, atol=1e-5)
