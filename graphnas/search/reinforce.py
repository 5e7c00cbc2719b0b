"""REINFORCE over a space's decisions: the controller of NAS-RL (Zoph & Le 2017) and NASNet (Zoph et al. 2018).

`Controller` is the policy: an autoregressive LSTM that emits a space's decisions
(`graphnas.generators.decisions`) one at a time, each step's input embedding the previous
choice; a ``"subset"`` decision (a NAS-RL anchor point) scores each earlier item ``j`` it may read
with ``sigmoid(v^T tanh(W_prev h_j + W_curr h_i))``, ``h_j`` being the controller's state at the step
that stood for item ``j``. Logits are divided by ``temperature`` and clipped with
``tanh_constant * tanh(.)`` as in ENAS; the update is REINFORCE with an exponential-moving-average
baseline and an entropy bonus, with Adam. ``policy="independent"`` replaces the LSTM with one free
logit vector per decision (the NAS-Bench-201 authors' REINFORCE baseline). It has ``sample``,
``log_prob`` and ``update(rewards)``, so a one-shot search (ENAS) can drive it with its own rewards.
Sampling runs without gradients, all requested sequences in one batch; an update recomputes the
log-probabilities teacher-forced (the LSTM's input at a step depends only on the earlier choices, so a
whole batch of sequences goes through the LSTM in one call, up to each anchor point), which is the same
policy and gradient as scoring step by step, for a fraction of the cost.

`Reinforce` is the ask/tell optimiser around it: ``ask(n)`` samples ``n`` new architectures
(distinct, up to isomorphism, from everything asked before) and the policy takes one gradient step
once all ``n`` are told (NASNet's synchronous workers; with ``batch_size`` > 1 it waits for that many
results). A failed evaluation (NaN) is left out of the gradient, or scores ``failure_reward`` when
that is set. Same seed, same trajectory; `graphnas.search.run` resuming from a journal replays
the tells and, in the serial loop, re-draws each replayed ask, so the controller ends in the same state
as an uninterrupted run.

**Example**

```python
>>> from graphnas.generators import NB201Space
>>> from graphnas.search import Reinforce, run
>>> opt = Reinforce(NB201Space(), seed=0)
>>> history = run(opt, lambda dag: float(sum(n.op == "nor_conv_3x3" for n in dag.nodes)), budget=8)
>>> len(history), opt.controller.updates
(8, 8)

```
"""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Sequence
from typing import Any

from graphnas.dag import DAG, GraphError
from graphnas.generators.decisions import Decision, has_decisions, walk
from graphnas.search.base import Optimizer
from graphnas.search.registry import register_optimizer

__all__ = ["Controller", "Reinforce", "plot_policy"]

log = logging.getLogger(__name__)

_POLICIES = ("lstm", "independent")


def _check_reward(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"a reward must be a real number (NaN for a failed evaluation), got {value!r}")
    return float(value)


def _group(decs: list[Any]) -> list[tuple[Any, list[int]]]:
    """The positions of equal items of ``decs``, grouped, in the order of each group's first position."""
    try:
        by: dict[Any, list[int]] = {}
        for i, e in enumerate(decs):
            by.setdefault(e, []).append(i)
        return list(by.items())
    except TypeError:  # a decision with unhashable options
        out: list[tuple[Any, list[int]]] = []
        for i, e in enumerate(decs):
            for f, idx in out:
                if f == e:
                    idx.append(i)
                    break
            else:
                out.append((e, [i]))
        return out


def _module_key(key: str, m: int) -> str:
    """A module name for a decision key with ``m`` options (a key may come with several option counts)."""
    return f"k{m}_" + key.replace(".", "_")


class Controller:
    """The policy over a space's decisions (see the module doc); torch is imported when one is made.

    Args:
        space: has ``decisions(prefix)``, ``encode`` and ``decode`` (`graphnas.generators.decisions`).
        policy: ``"lstm"`` (NAS-RL/NASNet) or ``"independent"`` (one logit vector per decision).
        hidden_size: the LSTM's state size (and of the choice embeddings); NASNet's controller had 100 units,
            NAS-RL's two layers 35 each.
        lr: Adam's learning rate.
        entropy_weight: the entropy bonus' weight in the loss.
        baseline_decay: the moving-average baseline ``b <- decay * b + (1 - decay) * mean(rewards)``.
        temperature: logits are divided by it before sampling.
        tanh_constant: if set, logits become ``tanh_constant * tanh(logits)`` (ENAS); default 2.5 for the
            LSTM, none for the independent policy.
        seed: seeds a private ``torch.Generator`` (initial weights and every sample); no global state.
    """

    def __init__(self, space: Any, *, policy: str = "lstm", hidden_size: int = 64, lr: float = 0.01,
                 entropy_weight: float = 1e-4, baseline_decay: float = 0.9, temperature: float = 1.0,
                 tanh_constant: float | None = -1.0, seed: Any = 0) -> None:
        import torch

        from graphnas.generators._random import as_random

        if not has_decisions(space):
            raise TypeError(f"{type(space).__name__} does not describe its members as decisions: it needs "
                            "decisions(prefix), encode(dag) and decode(choices)")
        if policy not in _POLICIES:
            raise ValueError(f"policy must be one of {_POLICIES}, got {policy!r}")
        if not (lr > 0 and temperature > 0 and 0 <= baseline_decay < 1 and hidden_size >= 1):
            raise ValueError(f"need lr > 0, temperature > 0, 0 <= baseline_decay < 1, hidden_size >= 1; got lr={lr}, "
                             f"temperature={temperature}, baseline_decay={baseline_decay}, hidden_size={hidden_size}")
        self._torch = torch
        self.space = space
        self.policy = policy
        self.hidden_size = hidden_size
        self.lr = lr
        self.entropy_weight = entropy_weight
        self.baseline_decay = baseline_decay
        self.temperature = temperature
        if tanh_constant == -1.0:
            tanh_constant = 2.5 if policy == "lstm" else None
        self.tanh_constant = tanh_constant
        self.generator = torch.Generator().manual_seed(as_random(seed).randrange(2**63))
        self.baseline: float | None = None
        self.updates = 0
        self._last: list[list[int]] | None = None
        self._walks: dict[tuple[int, ...], tuple[Decision, ...]] = {}
        self._heads: dict[tuple[str, int], tuple[Any, Any]] = {}  # (key, options) -> (head, embedding)
        skip = torch.nn.utils.skip_init  # no default init: it would draw from torch's global RNG
        net = torch.nn.Module()
        net.heads = torch.nn.ModuleDict()
        net.embeds = torch.nn.ModuleDict()
        net.logits = torch.nn.ParameterDict()
        H = hidden_size
        if policy == "lstm":
            net.lstm = skip(torch.nn.LSTMCell, H, H)
            net.start = torch.nn.Parameter(torch.zeros(1, H))
            net.subset = torch.nn.Parameter(torch.zeros(1, H))
            net.w_prev = skip(torch.nn.Linear, H, H, bias=False)
            net.w_curr = skip(torch.nn.Linear, H, H, bias=False)
            net.v = skip(torch.nn.Linear, H, 1, bias=False)
        self.net: Any = net
        self._init(list(net.parameters()))
        self.optimizer = torch.optim.Adam(net.parameters(), lr=lr, fused=True) if list(net.parameters()) else None

    # -- parameters, made as decisions are first met ------------------------------------

    def _init(self, params: list[Any]) -> None:
        with self._torch.no_grad():
            for p in params:
                p.uniform_(-0.1, 0.1, generator=self.generator)

    def _adopt(self, params: list[Any]) -> None:
        self._init(params)
        if self.optimizer is None:
            self.optimizer = self._torch.optim.Adam(params, lr=self.lr, fused=True)
        else:
            self.optimizer.add_param_group({"params": params})

    def _head(self, key: str, m: int) -> Any:
        hit = self._heads.get((key, m))
        if hit is None:
            skip = self._torch.nn.utils.skip_init
            k = _module_key(key, m)
            if k not in self.net.heads:
                self.net.heads[k] = skip(self._torch.nn.Linear, self.hidden_size, m)
                self.net.embeds[k] = skip(self._torch.nn.Embedding, m, self.hidden_size)
                self._adopt([*self.net.heads[k].parameters(), *self.net.embeds[k].parameters()])
            hit = self._heads[key, m] = (self.net.heads[k], self.net.embeds[k])
        return hit

    def _free_logits(self, name: str, m: int) -> Any:
        k = _module_key(name, m)
        if k not in self.net.logits:
            p = self.net.logits[k] = self._torch.nn.Parameter(self._torch.zeros(m))  # uniform at first
            if self.optimizer is None:
                self.optimizer = self._torch.optim.Adam([p], lr=self.lr, fused=True)
            else:
                self.optimizer.add_param_group({"params": [p]})
        return self.net.logits[k]

    # -- one step for a batch --------------------------------------------------------------

    def _clip(self, logits: Any) -> Any:
        if self.temperature != 1.0:
            logits = logits / self.temperature
        if self.tanh_constant is not None:
            logits = self.tanh_constant * self._torch.tanh(logits)
        return logits

    def _subset(self, d: Decision, h: Any, items: dict[int, Any], B: int, given: Any, greedy: bool,
                score: bool) -> tuple[Any, ...]:
        """An anchor-point (``"subset"``) decision at state ``h`` [B, H]: (choices [B], log-probs [B], entropies
        [B], probs [B, K], the next step's input [B, H] or None for the independent policy)."""
        torch = self._torch
        F = torch.nn.functional
        lstm = self.policy == "lstm"
        K = len(d.options)
        hj = None
        if K == 0:
            choice = torch.zeros(B, dtype=torch.long)
            logp = ent = torch.zeros(B)
            probs = bits = torch.zeros(B, 0)
        else:
            if lstm:
                try:
                    hj = torch.stack([items[j] for j in d.options], 1)  # [B, K, H]
                except KeyError as err:
                    raise GraphError(f"decision {d.name!r}: option {err.args[0]!r} is no earlier item") from None
                a = self.net.v(torch.tanh(self.net.w_prev(hj) + self.net.w_curr(h)[:, None, :])).squeeze(-1)
            else:
                a = self._free_logits(d.name, K).expand(B, K)
            a = self._clip(a)
            probs = torch.sigmoid(a)
            weights = 2 ** torch.arange(K)
            if given is not None:
                bits = ((given[:, None] // weights) % 2).to(a.dtype)
            elif greedy:
                bits = (probs > 0.5).to(a.dtype)
            else:
                bits = torch.bernoulli(probs, generator=self.generator)
            choice = (bits.long() * weights).sum(-1)
            if score:
                logp = (bits * F.logsigmoid(a) + (1 - bits) * F.logsigmoid(-a)).sum(-1)
                ent = -(probs * F.logsigmoid(a) + (1 - probs) * F.logsigmoid(-a)).sum(-1)
            else:
                logp = ent = None
        x = None
        if lstm:
            x = self.net.subset.expand(B, -1)
            if hj is not None:
                x = x + (bits[..., None] * hj).sum(1) / bits.sum(1, keepdim=True).clamp(min=1)
        return choice, logp, ent, probs, x

    def _draw(self, probs: Any) -> Any:
        """One option per row of ``probs`` [B, m] by inverse CDF (a third of ``torch.multinomial``'s cost at
        this size): the first option whose cumulative probability exceeds ``u * total``, ``u`` uniform in
        [0, 1), kept below ``total`` so that an option of probability 0 (masked) is never drawn."""
        torch = self._torch
        cdf = probs.cumsum(-1)
        total = cdf[:, -1:]
        u = torch.rand(probs.shape[0], 1, generator=self.generator)
        v = torch.minimum(u * total, torch.nextafter(total, torch.zeros(())))
        return torch.searchsorted(cdf, v, right=True).squeeze(1)

    def _step(self, state: dict[str, Any], d: Decision, given: Any, greedy: bool = False,
              score: bool = True) -> tuple[Any, ...]:
        """Advance ``state`` by decision ``d``: returns (choices [B], log-probs [B], entropies [B], probs);
        with ``score=False`` (sampling) the log-probs and entropies are not computed (None)."""
        torch = self._torch
        F = torch.nn.functional
        B = state["B"]
        lstm = self.policy == "lstm"
        if lstm:
            cell = self.net.lstm
            state["h"], state["c"] = torch.lstm_cell(state["x"], (state["h"], state["c"]), cell.weight_ih,
                                                     cell.weight_hh, cell.bias_ih, cell.bias_hh)
        h = state.get("h")
        if d.kind == "choice":
            m = len(d.options)
            if lstm:
                head, embed = self._head(d.key, m)
                logits = self._clip(F.linear(h, head.weight, head.bias))
            else:
                logits = self._clip(self._free_logits(d.name, m)).expand(B, m)
            if d.allowed is not None:
                ok = torch.tensor(d.allowed)
                logits = logits.masked_fill(~ok, float("-inf"))
            logp_all = F.log_softmax(logits, dim=-1)
            probs = logp_all.exp()
            if given is not None:
                choice = given
            elif greedy:
                choice = probs.argmax(dim=-1)
            else:
                choice = self._draw(probs)
            if score:
                logp = logp_all.gather(1, choice[:, None]).squeeze(1)
                ent = -(probs * logp_all.masked_fill(probs == 0, 0.0)).sum(-1)  # no 0 * -inf for masked options
            else:
                logp = ent = None
            if lstm:
                state["x"] = F.embedding(choice, embed.weight)
        else:
            choice, logp, ent, probs, x = self._subset(d, h, state["items"], B, given, greedy, score)
            if lstm:
                state["x"] = x
        if lstm and d.item is not None:
            state["items"][d.item] = h
        return choice, logp, ent, probs

    def _state(self, B: int) -> dict[str, Any]:
        state: dict[str, Any] = {"B": B, "items": {}}
        if self.policy == "lstm":
            zero = self._torch.zeros(B, self.hidden_size)
            state.update(h=zero, c=zero, x=self.net.start.expand(B, -1))
        return state

    def _rows(self, state: dict[str, Any], idx: list[int]) -> dict[str, Any]:
        """The part of a sampling ``state`` for the rows ``idx``."""
        at = self._torch.tensor(idx)
        out: dict[str, Any] = {"B": len(idx), "items": {k: v[at] for k, v in state["items"].items()}}
        for k in ("h", "c", "x"):
            if k in state:
                out[k] = state[k][at]
        return out

    def _sample_rows(self, rows: list[int], state: dict[str, Any], prefixes: list[list[int]],
                     walks: list[list[Decision]], memo: dict[tuple[int, ...], Decision | None]) -> None:
        """Extend ``prefixes[r]`` for the rows ``r`` in ``rows`` to complete sequences, one batched step per decision
        while the rows face the same decision; rows that part ways (a decision's options depend on the earlier
        choices, or one sequence ends) go on in groups, in the order of their first row."""
        while True:
            decs = []
            for r in rows:
                t = tuple(prefixes[r])
                if t not in memo:
                    memo[t] = self.space.decisions(prefixes[r])
                decs.append(memo[t])
            d = decs[0]
            if any(e is not d and e != d for e in decs):
                for e, idx in _group(decs):
                    if e is not None:
                        self._sample_rows([rows[i] for i in idx], self._rows(state, idx), prefixes, walks, memo)
                return
            if d is None:
                return
            choice = self._step(state, d, None, score=False)[0].tolist()
            for r, c in zip(rows, choice):
                prefixes[r].append(c)
                walks[r].append(d)

    # -- the public interface -------------------------------------------------------------

    def sample(self, n: int = 1) -> list[list[int]]:
        """``n`` decision sequences drawn from the policy (remembered for `update`), in one batch: a
        step of the policy per decision for all ``n`` at once (without gradients; `log_prob` recomputes
        them when needed)."""
        if n < 0:
            raise ValueError(f"sample(n) needs n >= 0, got {n}")
        prefixes: list[list[int]] = [[] for _ in range(n)]
        walks: list[list[Decision]] = [[] for _ in range(n)]
        if n:
            with self._torch.no_grad():  # not inference_mode: heads made here must take gradients later
                self._sample_rows(list(range(n)), self._state(n), prefixes, walks, {})
        if len(self._walks) < 100_000:
            for p, w in zip(prefixes, walks):
                self._walks[tuple(p)] = tuple(w)
        self._last = prefixes
        return prefixes

    def _decisions_of(self, choices: Sequence[int]) -> tuple[Decision, ...]:
        t = tuple(int(c) for c in choices)
        decs = self._walks.get(t)
        if decs is None:
            decs = tuple(walk(self.space, list(t)))  # GraphError naming the decision for a bad sequence
            if len(self._walks) < 100_000:
                self._walks[t] = decs
        return decs

    def _score(self, decs: tuple[Decision, ...], given: Any) -> tuple[Any, Any]:
        """(log-probabilities [B], entropies [B]) of the sequences ``given`` [B, T] that all answer ``decs``,
        teacher-forced: the LSTM's input at each step depends only on the earlier choices, so every run of
        steps up to an anchor-point decision goes through the LSTM in one call, and the steps that share an
        output head are scored together."""
        torch = self._torch
        F = torch.nn.functional
        B, T = given.shape
        lp = torch.zeros(B)
        en = torch.zeros(B)
        lstm = self.policy == "lstm"
        hs: Any = None  # the LSTM state at each step, [T, B, H]
        if lstm:
            cell = self.net.lstm
            weights = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]
            h = c = torch.zeros(1, B, self.hidden_size)
            x = self.net.start.expand(B, -1)[None]
            items: dict[int, Any] = {}
            outs = []
            t = 0
            while t < T:
                u = t
                while u < T - 1 and decs[u].kind == "choice":
                    u += 1
                # the inputs of steps t+1..u embed the choices at steps t..u-1
                embeds = [self._head(decs[s].key, len(decs[s].options))[1] for s in range(t, u)]
                if embeds and all(e is embeds[0] for e in embeds):
                    xs = torch.cat([x, F.embedding(given[:, t:u].T, embeds[0].weight)])
                else:
                    xs = torch.cat([x, *(F.embedding(given[:, s], e.weight)[None]
                                         for s, e in zip(range(t, u), embeds))])
                out, h, c = torch.lstm(xs, (h, c), weights, True, 1, 0.0, False, False, False)
                outs.append(out)
                for s in range(t, u + 1):
                    item = decs[s].item
                    if item is not None:
                        items[item] = out[s - t]
                if decs[u].kind == "subset":
                    _, s_lp, s_en, _, x = self._subset(decs[u], out[-1], items, B, given[:, u], False, True)
                    x = x[None]
                    lp = lp + s_lp
                    en = en + s_en
                t = u + 1
            hs = torch.cat(outs) if len(outs) > 1 else outs[0] if outs else None
        else:
            for s, d in enumerate(decs):
                if d.kind == "subset":
                    _, s_lp, s_en, _, _ = self._subset(d, None, {}, B, given[:, s], False, True)
                    lp = lp + s_lp
                    en = en + s_en
        groups: dict[tuple[str, int], list[int]] = {}  # the choice steps by output head
        for s, d in enumerate(decs):
            if d.kind == "choice":
                groups.setdefault((d.key if lstm else "", len(d.options)), []).append(s)
        for (key, m), steps in groups.items():
            S = len(steps)
            if lstm:
                head = self._head(key, m)[0]
                hk = hs if S == T else hs[torch.tensor(steps)]
                logits = self._clip(F.linear(hk, head.weight, head.bias))  # [S, B, m]
            else:
                logits = self._clip(torch.stack([self._free_logits(decs[s].name, m) for s in steps]))[:, None, :]
                logits = logits.expand(S, B, m)
            masked = any(decs[s].allowed is not None for s in steps)
            if masked:
                ok = torch.tensor([decs[s].allowed or (True,) * m for s in steps])[:, None, :]
                logits = logits.masked_fill(~ok, float("-inf"))
            logp_all = F.log_softmax(logits, dim=-1)
            probs = logp_all.exp()
            lp = lp + logp_all.gather(2, (given.T if S == T else given[:, steps].T)[..., None]).squeeze(2).sum(0)
            # no 0 * -inf for masked options (without a mask every log-probability is finite)
            en = en - (probs * (logp_all.masked_fill(probs == 0, 0.0) if masked else logp_all)).sum((0, 2))
        return lp, en

    def log_prob_entropy(self, choices: Sequence[Sequence[int]]) -> tuple[Any, Any]:
        """(log-probabilities, entropies) of the sequences under the policy, as tensors with gradients;
        sequences with the same decisions are scored in one batch (see `_score`)."""
        torch = self._torch
        groups: dict[tuple[Decision, ...], list[int]] = {}
        for i, seq in enumerate(choices):
            groups.setdefault(self._decisions_of(seq), []).append(i)
        if len(groups) == 1:
            ((decs, idx),) = groups.items()
            return self._score(decs, torch.tensor([list(choices[i]) for i in idx], dtype=torch.long).reshape(
                len(idx), len(decs)))
        logp = [torch.zeros(())] * len(choices)
        ents = [torch.zeros(())] * len(choices)
        for decs, idx in groups.items():
            given = torch.tensor([[int(choices[i][t]) for t in range(len(decs))] for i in idx], dtype=torch.long)
            lp, en = self._score(decs, given.reshape(len(idx), len(decs)))
            for r, i in enumerate(idx):
                logp[i], ents[i] = lp[r], en[r]
        return torch.stack(logp), torch.stack(ents)

    def log_prob(self, choices: Sequence[Sequence[int]]) -> Any:
        """The log-probability of each decision sequence (a tensor with gradients)."""
        return self.log_prob_entropy(choices)[0]

    def update(self, rewards: Sequence[float], choices: Sequence[Sequence[int]] | None = None) -> dict[str, float]:
        """One REINFORCE step: ``loss = -mean((r - b) log p) - entropy_weight * mean(entropy)``, then the
        baseline moves toward the batch's mean reward. ``choices`` default to the last `sample`."""
        torch = self._torch
        rewards = [_check_reward(r) for r in rewards]
        for r in rewards:
            if not math.isfinite(r):
                raise ValueError(f"a reward must be finite, got {r}; leave failed evaluations out")
        if choices is None:
            if self._last is None:
                raise ValueError("update() without choices needs a sample() first")
            choices = self._last
        if len(choices) != len(rewards):
            raise ValueError(f"{len(rewards)} rewards for {len(choices)} decision sequences")
        if not rewards:
            return {"loss": 0.0, "baseline": float("nan") if self.baseline is None else self.baseline}
        r = torch.tensor(rewards)
        mean = float(r.mean())
        if self.baseline is None:
            self.baseline = mean
        logp, ent = self.log_prob_entropy(choices)
        loss = -((r - self.baseline) * logp).mean() - self.entropy_weight * ent.mean()
        assert self.optimizer is not None
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * mean
        self.updates += 1
        return {"loss": float(loss.detach()), "baseline": self.baseline, "mean_reward": mean}

    def policy_table(self) -> list[tuple[Decision, list[float]]]:
        """What the policy has learned: along its most likely sequence, each decision and the probability of
        each option (for a ``"subset"`` decision, of reading each option)."""
        out = []
        with self._torch.no_grad():
            state = self._state(1)
            prefix: list[int] = []
            while (d := self.space.decisions(prefix)) is not None:
                choice, _, _, probs = self._step(state, d, None, greedy=True)
                prefix.append(int(choice[0]))
                out.append((d, [float(p) for p in probs[0]]))
        return out

    def state_dict(self) -> dict[str, Any]:
        """The weights, Adam's state, the baseline and the generator (tensors only; ``torch.save`` it and read
        it back with ``torch.load(weights_only=True)``), e.g. to inspect a trained policy. A search resumes by
        replaying its journal instead (see `Reinforce`), which needs no file beside it."""
        torch = self._torch
        return {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict() if self.optimizer else {},
                "baseline": torch.tensor(float("nan") if self.baseline is None else self.baseline),
                "updates": torch.tensor(self.updates), "generator": self.generator.get_state()}

    def __repr__(self) -> str:
        return (f"Controller(space={type(self.space).__name__}, policy={self.policy!r}, "
                f"hidden_size={self.hidden_size}, updates={self.updates})")


@register_optimizer("reinforce")
class Reinforce(Optimizer):
    """Ask/tell REINFORCE over a space's decisions (see the module doc).

    Args:
        space: has ``decisions(prefix)``, ``encode(dag)`` and ``decode(choices)``.
        policy: ``"lstm"`` or ``"independent"`` (see `Controller`).
        batch_size: the policy steps once this many samples are in: results of fully-told ``ask`` batches,
            and the draws that repeated a told graph (learnt at its reward, below). A policy that keeps
            repeating itself therefore steps at every tell, on a batch of mostly those repeats.
        failure_reward: the reward of a failed (NaN) evaluation; ``None`` (default) leaves it out of
            the gradient, and its repeats too: a policy that keeps drawing a graph that failed learns nothing
            from them, so set a ``failure_reward`` where failures are common.
        max_attempts: samples drawn per requested graph before ``ask`` falls back to random samples
            of the space (a converged policy keeps proposing what was already asked); the first ``n`` new
            ones in the order drawn are kept. They are drawn in two batches (``n``, then the rest of the
            allowance if some were repeats), the same rule as drawing one at a time. A draw that repeats a
            graph already told is learnt from at its known reward (no evaluation), as NAS-RL's controller
            learns from every sample; so a policy that keeps repeating itself still learns. A random member
            is evaluated and told like any other, but left out of the policy gradient: REINFORCE's gradient
            holds only for the policy's own draws.
        seed: seeds the controller and the fallback sampling.
        **controller: ``hidden_size``, ``lr``, ``entropy_weight``, ``baseline_decay``, ``temperature``,
            ``tanh_constant`` (see `Controller`).
    """

    def __init__(self, space: Any, *, policy: str = "lstm", batch_size: int = 1, failure_reward: float | None = None,
                 max_attempts: int = 20, seed: Any = 0, **controller: Any) -> None:
        if not has_decisions(space):
            missing = [m for m in ("decisions", "encode", "decode") if not callable(getattr(space, m, None))]
            raise TypeError(f"Reinforce needs a space described as decisions; {type(space).__name__} has no "
                            f"{', '.join(missing)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if failure_reward is not None:
            failure_reward = _check_reward(failure_reward)
        super().__init__(space, seed=seed)
        self.batch_size = batch_size
        self.failure_reward = failure_reward
        self.max_attempts = max_attempts
        self.controller = Controller(space, policy=policy, seed=self._seed(), **controller)
        # canonical key -> (batch, choices; None for a random fallback member, which the policy did not draw)
        self._pending: dict[str, tuple[int, list[int] | None]] = {}
        self._open: dict[int, list[Any]] = {}  # batch -> [graphs still to be told, [(choices, reward)]]
        self._next_batch = 0
        self._ready: list[tuple[list[int], float]] = []
        self._rewards: dict[str, float] = {}  # canonical key -> the reward it was told (failures: failure_reward)
        self._keys: dict[tuple[int, ...], tuple[str, DAG]] = {}

    # -- ask -----------------------------------------------------------------------------

    def _decode(self, choices: list[int]) -> tuple[str, DAG]:
        t = tuple(choices)
        hit = self._keys.get(t)
        if hit is None:
            dag = self.space.decode(choices)
            hit = (dag.canonical_key(), dag)
            if len(self._keys) < 200_000:
                self._keys[t] = hit
        return hit

    def _ask_many(self, n: int) -> list[DAG]:
        taken = set(self._asked)
        out: list[tuple[str, DAG, list[int] | None]] = []
        # Up to max_attempts draws per requested graph, kept in the order drawn: the first n new ones. They are
        # drawn in two batches (n, then all the rest if some were repeats) rather than one at a time: the same
        # i.i.d. draws, so the same rule, at the cost of about two samples when the policy keeps repeating itself.
        budget = self.max_attempts * n
        draw = n
        while len(out) < n and budget > 0:
            k = min(draw, budget)
            budget -= k
            draw = budget
            for choices in self.controller.sample(k):
                key, dag = self._decode(choices)
                if key not in taken:
                    taken.add(key)
                    out.append((key, dag, choices))
                    if len(out) == n:
                        break
                elif key in self._rewards:  # a repeat of a told graph: learnt from at its known reward, as
                    self._ready.append((choices, self._rewards[key]))  # NAS-RL's controller does, no evaluation
        attempts = 0
        while len(out) < n and attempts < 200 * n:  # the policy keeps repeating itself: random members
            attempts += 1
            dag = self._sample()
            key = dag.canonical_key()
            if key not in taken:
                taken.add(key)
                out.append((key, dag, None))  # not the policy's draw: told, but left out of its gradient
        if out:
            b = self._next_batch
            self._next_batch += 1
            self._open[b] = [len(out), []]
            for key, _, drawn in out:
                self._pending[key] = (b, drawn)
        return [dag for _, dag, _ in out]

    # -- tell ----------------------------------------------------------------------------

    def replay(self, dag: DAG, value: float) -> None:
        """A journal's result: `tell` itself re-draws a replayed ask (its pending batches need its own care)."""
        self.tell(dag, value)

    def tell(self, dag: DAG, value: float) -> None:
        """Record ``dag``'s reward (a real number; NaN for a failed evaluation). A graph that was never asked
        (a journal being replayed) is first re-asked when nothing is pending, so a resumed serial run
        draws what the interrupted one drew; one that still differs is encoded and learned from."""
        value = _check_reward(value)
        if not isinstance(dag, DAG):
            raise TypeError(f"tell expects a graphnas.DAG, got {type(dag).__name__}")
        key = dag.canonical_key()
        self._check_tell(dag, key)  # before the re-draw below: a refused graph leaves the policy's draws alone
        if key not in self._pending and not self._pending and key not in self._asked:
            asked = self.ask(1)
            if asked and asked[0].canonical_key() != key:  # not what this policy draws: forget the draw
                other = asked[0].canonical_key()
                b, _ = self._pending.pop(other)
                del self._open[b]
                self._asked.discard(other)
        self._record(dag, key, float(value))

    def _told(self, dag: DAG, value: float) -> None:
        key = dag.canonical_key()
        entry = self._pending.pop(key, None)
        if entry is None:
            try:
                choices = self.space.encode(dag)
            except GraphError as err:
                log.warning("Reinforce: a told graph is not in the space, left out of the gradient: %s", err)
                return
            b = self._next_batch
            self._next_batch += 1
            self._open[b] = [1, []]
        else:
            b, choices = entry
        reward = value if math.isfinite(value) else self.failure_reward
        if reward is not None:
            self._rewards[key] = reward
        batch = self._open[b]
        if reward is not None and choices is not None:
            batch[1].append((choices, reward))
        batch[0] -= 1
        if batch[0] == 0:
            del self._open[b]
            self._ready += batch[1]
            if len(self._ready) >= self.batch_size:
                ready, self._ready = self._ready, []
                self.controller.update([r for _, r in ready], [c for c, _ in ready])

    def __repr__(self) -> str:
        return (f"Reinforce(space={type(self.space).__name__}, policy={self.controller.policy!r}, "
                f"batch_size={self.batch_size}, seed={self.seed!r})")


def plot_policy(source: Controller | Reinforce, path: str | None = None, *, max_decisions: int = 60) -> Any:
    """A heatmap of `Controller.policy_table`: one row per decision, one cell per option (its
    probability; for an anchor point, the probability of reading that earlier item). Returns the
    ``matplotlib.figure.Figure``; with ``path`` also writes it (PNG, SVG or PDF by the suffix).
    Uses matplotlib's object API only (no pyplot, no backend switch)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    controller = source.controller if isinstance(source, Reinforce) else source
    table = controller.policy_table()[:max_decisions]
    if not table:
        raise ValueError("the space has no decisions to draw")
    width = max(len(p) for _, p in table) or 1
    grid = np.full((len(table), width), np.nan)
    for r, (_, probs) in enumerate(table):
        grid[r, :len(probs)] = probs
    fig = Figure(figsize=(min(2 + 0.9 * width, 16), 1 + 0.32 * len(table)))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_yticks(range(len(table)), [f"{d.name}{' (subset)' if d.kind == 'subset' else ''}" for d, _ in table],
                  fontsize=7)
    ax.set_xticks(range(width), [str(k) for k in range(width)], fontsize=7)
    ax.set_xlabel("option (index into the decision's options; subset: item)")
    if width <= 16 and len(table) <= 60:
        for r, (d, probs) in enumerate(table):
            for k, p in enumerate(probs):
                label = d.options[k] if k < len(d.options) else k
                text = f"{str(label)[:10]}\n{p:.2f}"
                ax.text(k, r, text, ha="center", va="center", fontsize=5, color="white" if p < 0.6 else "black")
    fig.colorbar(im, ax=ax, label="probability")
    ax.set_title(f"{type(controller.space).__name__}: {controller.policy} policy after {controller.updates} updates",
                 fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
