"""Self-supervised pre-training of the GNN surrogate's encoder on unlabeled graphs of a space.

A search space produces thousands of architectures for free; only the evaluated ones have a score.
`pretrain` samples ``graphs`` architectures (``space.sample``), and trains the surrogate's encoder
(op embedding and message-passing layers of every ensemble member) on two pretext tasks that need no
score:

- **masked-op reconstruction:** the op one-hot of a random ``mask_rate`` of the nodes is replaced by
  the "unknown op" slot, and a node head predicts the hidden op from its neighbourhood;
- **structural targets:** a graph head regresses, from the pooled node embeddings, the log number of
  input-to-output paths, the number of live nodes, and the longest input-to-output path (all over the
  edges the surrogate sees, i.e. after dropping edges out of the zero op ``"none"``).

The heads are thrown away; the encoder weights are what `GNNSurrogate(pretrained=...)` starts every
fresh ``fit`` from (fine-tuning on the evaluated graphs). The result is deterministic by ``seed``
and cached on disk per space and settings (see `cache_dir`), so the cost is paid once.

**Example**

```python
>>> from graphnas.generators import NB201Space
>>> from graphnas.surrogate import GNNSurrogate, pretrain
>>> weights = pretrain(NB201Space(), seed=0)                          # doctest: +SKIP
>>> model = GNNSurrogate(pretrained=weights).fit(dags, scores)        # doctest: +SKIP

```
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter

from graphnas._checks import is_integer
from graphnas.converters.features import Featurizer, GraphBatch
from graphnas.generators._random import as_torch, seed_int
from graphnas.surrogate.layers import BiGINConv, EnsembleLinear, bidirectional_operator

if TYPE_CHECKING:  # gnn imports this module lazily; no import cycle at run time
    from graphnas.surrogate.gnn import _EnsembleGNN

__all__ = ["ENCODER_PREFIXES", "cache_dir", "pretrain"]

FORMAT = "graphnas.surrogate.pretrain"
#: The state-dict prefixes of `GNNSurrogate`'s network that pre-training produces (the encoder).
ENCODER_PREFIXES = ("embed.", "convs.")
_N_STRUCT = 3  # log1p(paths), live nodes, longest path


def cache_dir() -> Path:
    """Where pre-trained weights are cached: ``$GRAPHNAS_CACHE_DIR``, else ``$XDG_CACHE_HOME/graphnas``,
    else ``~/.cache/graphnas``; weights go to its ``pretrain/`` folder."""
    env = os.environ.get("GRAPHNAS_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "graphnas"


def _structural_targets(b: GraphBatch, flags: slice) -> Tensor:
    """``[num_graphs, 3]``: log1p(#input-to-output paths), #live nodes, longest input-to-output path."""
    n = len(b.x)
    src, dst = b.edge_index
    is_in = torch.zeros(n, dtype=torch.bool)
    is_in[torch.nonzero(b.x[:, flags.start] > 0).flatten()] = True
    paths = is_in.double()
    longest = torch.where(is_in, 0.0, -1e9).double()
    for _ in range(n if n < 64 else 64):  # cells are shallow; 64 rounds cover any depth seen in practice
        new_p = is_in.double() + scatter(paths[src], dst, dim=0, dim_size=n, reduce="sum")
        new_l = torch.maximum(torch.where(is_in, 0.0, -1e9).double(),
                              scatter(longest[src] + 1, dst, dim=0, dim_size=n, reduce="max"))
        if torch.equal(new_p, paths) and torch.equal(new_l, longest):
            break
        paths, longest = new_p, new_l
    out_paths = scatter(paths[b.out_index], b.out_batch, dim=0, dim_size=b.num_graphs, reduce="sum")
    out_long = scatter(longest[b.out_index].clamp(min=0), b.out_batch, dim=0, dim_size=b.num_graphs, reduce="max")
    live = scatter(b.x[:, flags.start + 2].double(), b.batch, dim=0, dim_size=b.num_graphs, reduce="sum")
    return torch.stack([torch.log1p(out_paths), live, out_long], dim=1).float()


class _Pretext(nn.Module):
    """The encoder of `GNNSurrogate`'s network plus a node op head and a graph structural head."""

    def __init__(self, encoder: _EnsembleGNN, members: int, hidden: int, num_ops: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.op_head = EnsembleLinear(members, hidden, num_ops)
        self.struct_head = EnsembleLinear(members, hidden, _N_STRUCT)

    def forward(self, x: Tensor, b: GraphBatch, op: Tensor) -> tuple[Tensor, Tensor]:
        enc = self.encoder
        h = torch.relu(enc.embed(x))  # the same encoder pass as _EnsembleGNN.forward, before its heads
        for conv in enc.convs:
            h = torch.relu(h + cast(BiGINConv, conv).forward_sparse(h, op))
        pooled = scatter(h, b.batch, dim=1, dim_size=b.num_graphs, reduce="mean")
        return self.op_head(h), self.struct_head(pooled)  # [m, N, ops], [m, G, 3]


def _version() -> str:
    from graphnas import __version__  # the package root sits above this layer: import at call time

    return __version__


def _key(space: Any, settings: dict[str, Any]) -> str:
    doc = {"space": repr(space), "settings": settings, "graphnas": _version(), "format": FORMAT}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def pretrain(space: Any, *, graphs: int = 1000, epochs: int = 100, tasks: tuple[str, ...] = ("ops", "structure"),
             hidden: int = 32, layers: int = 3,
             ensemble: int = 5, mask_rate: float = 0.2, lr: float = 5e-3, weight_decay: float = 1e-4,
             max_param_tokens: int = 64, seed: int = 0, cache: bool | str | os.PathLike = True) -> dict[str, Any]:
    """Pre-train the surrogate's encoder on ``graphs`` unlabeled samples of ``space``; returns its weights.

    Args:
        space: has ``sample(seed)``; its ``vocabulary`` (if any) fixes the op one-hot, as in
            `GNNSurrogate(vocabulary=space.vocabulary)`.
        graphs: how many architectures to sample (``space.sample`` with seeds derived from ``seed``).
        epochs: full-batch Adam steps.
        tasks: the pretext tasks, any of ``"ops"`` (masked-op reconstruction) and ``"structure"``
            (structural targets).
        hidden: node embedding width; must equal the `GNNSurrogate`'s ``hidden``.
        layers: message-passing layers; must equal the `GNNSurrogate`'s ``layers``.
        ensemble: members (each pre-trained from its own initialisation); must equal the surrogate's.
        mask_rate: share of nodes whose op is masked and reconstructed at each step.
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        max_param_tokens: as in `GNNSurrogate`.
        seed: an int; the same seed and settings give the same weights (bit for bit on one machine).
        cache: True (default) caches under `cache_dir`, a path caches in that folder, False never
            reads or writes a cache. The key is ``repr(space)``, every setting above, the seed and the
            graphnas version; a space whose ``repr`` is not stable (the default ``object`` repr) just
            misses the cache. A cache file that cannot be read is recomputed and overwritten with a
            warning: it holds derived, deterministic data, so recomputing loses only time.

    Returns:
        A dict of plain values and tensors (``torch.save``-able, readable with ``weights_only=True``):
        ``format``, ``key``, ``ops``, ``param_tokens``, ``hidden``, ``layers``, ``ensemble``,
        ``losses`` (final masked-op cross-entropy and structural MSE) and ``state_dict`` (the
        encoder's tensors). Pass it to `GNNSurrogate(pretrained=...)`.
    """
    if not is_integer(seed):
        raise TypeError(f"pretrain needs an int seed (it is part of the cache key), got {type(seed).__name__}")
    seed = int(seed)  # a numpy integer too
    if graphs < 2:
        raise ValueError(f"pretrain needs graphs >= 2, got {graphs}")
    bad = set(tasks) - {"ops", "structure"}
    if bad or not tasks:
        raise ValueError(f"pretrain tasks must be a non-empty subset of ('ops', 'structure'), got {tasks!r}")
    settings = dict(graphs=graphs, epochs=epochs, tasks=sorted(tasks), hidden=hidden, layers=layers, ensemble=ensemble,
                    mask_rate=mask_rate, lr=lr, weight_decay=weight_decay, max_param_tokens=max_param_tokens,
                    seed=seed)
    key = _key(space, settings)
    path = None
    if cache is not False:
        folder = cache_dir() / "pretrain" if cache is True else Path(cache)
        path = folder / f"{type(space).__name__}-{key[:20]}.pt"
        if path.exists():
            try:
                doc = torch.load(path, weights_only=True, map_location="cpu")
                if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("key") != key:
                    raise ValueError("not a graphnas pre-training file for these settings")
                return doc
            except Exception as err:  # any unreadable file: recompute (derived data), say so
                why = (str(err).splitlines() or [""])[0][:120]  # not torch's advice to load unsafely
                warnings.warn(f"pre-training cache file {path} could not be read ({type(err).__name__}: {why}); "
                              f"recomputing it and overwriting the file", RuntimeWarning, stacklevel=2)
    doc = _pretrain(space, settings, key)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        try:
            torch.save(doc, tmp)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return doc


def _pretrain(space: Any, s: dict[str, Any], key: str) -> dict[str, Any]:
    from graphnas.surrogate.gnn import _EnsembleGNN

    base = seed_int(s["seed"])
    dags = [space.sample(base * 1_000_003 + i) for i in range(s["graphs"])]
    vocab = getattr(space, "vocabulary", None)
    feat = Featurizer.fit(dags, list(vocab) if vocab else None, s["max_param_tokens"])
    b = feat.batch(dags)
    layout = feat.layout
    target_struct = _structural_targets(b, layout["flags"])
    mu, sd = target_struct.mean(0), target_struct.std(0).clamp(min=1e-6)
    z_struct = (target_struct - mu) / sd
    op_cols = layout["op"]
    target_op = b.x[:, op_cols].argmax(1)
    members, hidden = s["ensemble"], s["hidden"]
    with torch.device("meta"):
        enc = _EnsembleGNN(members, feat.num_features, hidden, s["layers"])
        net = _Pretext(enc, members, hidden, op_cols.stop - op_cols.start)
    net = net.to_empty(device="cpu")
    gen = as_torch(base)
    enc.reset_parameters(gen)
    net.op_head.reset_parameters(gen)
    net.struct_head.reset_parameters(gen)
    op = bidirectional_operator(b.edge_index, len(b.x))
    opt = torch.optim.Adam(net.parameters(), lr=s["lr"], weight_decay=s["weight_decay"], foreach=True)
    n = len(b.x)
    k = max(1, int(round(s["mask_rate"] * n)))
    ce = nn.CrossEntropyLoss()
    loss_op = loss_struct = torch.zeros(())
    net.train()
    for _ in range(s["epochs"]):
        masked = torch.randperm(n, generator=gen)[:k]
        x = b.x.clone()
        x[masked, op_cols] = 0.0
        x[masked, op_cols.start] = 1.0  # the "unknown op" slot doubles as the mask token
        opt.zero_grad(set_to_none=True)
        logits, struct = net(x, b, op)
        loss_op = ce(logits[:, masked].reshape(-1, logits.shape[-1]), target_op[masked].repeat(members))
        loss_struct = ((struct - z_struct) ** 2).mean()
        (loss_op * ("ops" in s["tasks"]) + loss_struct * ("structure" in s["tasks"])).backward()
        opt.step()
    state = {k_: v.detach().clone() for k_, v in enc.state_dict().items() if k_.startswith(ENCODER_PREFIXES)}
    return {"format": FORMAT, "version": 1, "key": key, "space": repr(space), "settings": s,
            "graphnas": _version(), "ops": feat.vocabulary, "param_tokens": feat.param_tokens,
            "hidden": hidden, "layers": s["layers"], "ensemble": members,
            "losses": [float(loss_op.detach()), float(loss_struct.detach())], "state_dict": state}
