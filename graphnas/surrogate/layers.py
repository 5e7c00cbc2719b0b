"""Ensemble-vectorised layers: every tensor carries a leading ``[members]`` axis.

A deep ensemble of small GNNs is trained as one model whose weights have an
extra leading dimension, so five members cost about as much as one in Python
overhead: one ``bmm`` per linear layer, one gather/scatter per message pass.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing

__all__ = ["EnsembleLinear", "BiGINConv", "bidirectional_operator"]


def bidirectional_operator(edge_index: Tensor, num_nodes: int) -> Tensor:
    """The sparse ``[N, 2N]`` matrix ``[A | A^T]`` (``A[i, j]`` = edges ``j -> i``) that
    `BiGINConv.forward_sparse` multiplies with the stacked forward and backward messages."""
    src, dst = edge_index
    rows = torch.cat([dst, src])
    cols = torch.cat([src, dst + num_nodes])
    values = torch.ones(len(rows), dtype=torch.float32)
    return torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (num_nodes, 2 * num_nodes),
                                   check_invariants=False).coalesce()


class EnsembleLinear(nn.Module):
    """``members`` independent linear maps applied side by side.

    Shapes:
        - input: ``[members, N, in_features]`` (or ``[N, in_features]``, shared by all members);
        - output: ``[members, N, out_features]``.
    """

    def __init__(self, members: int, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.members, self.in_features, self.out_features = members, in_features, out_features
        self.weight = nn.Parameter(torch.empty(members, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(members, 1, out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        bound = 1.0 / math.sqrt(self.in_features)
        with torch.no_grad():
            self.weight.uniform_(-bound, bound, generator=generator)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:  # shared input: one matmul for all members
            out = (x @ self.weight.permute(1, 0, 2).reshape(self.in_features, -1))
            out = out.view(x.shape[0], self.members, self.out_features).transpose(0, 1)
            return out if self.bias is None else out + self.bias
        if self.bias is None:
            return torch.bmm(x, self.weight)
        return torch.baddbmm(self.bias, x, self.weight)


class BiGINConv(MessagePassing):
    """A GIN layer that passes messages along the edges *and* against them, with separate weights.

    ``h_i' = MLP(W_self h_i + W_fwd sum_{j->i} h_j + W_bwd sum_{i->k} h_k)`` for each ensemble
    member. Forward edges alone let a node see only its ancestors; the reversed
    edges let it also see what it feeds (e.g. whether it reaches the output).

    Shapes:
        - input: node features ``[members, N, channels]``, ``edge_index`` ``[2, E]`` (source, target);
        - output: ``[members, N, channels]``.
    """

    def __init__(self, members: int, channels: int) -> None:
        super().__init__(aggr="sum", node_dim=-2)
        self.lin_self = EnsembleLinear(members, channels, channels)
        self.lin_fwd = EnsembleLinear(members, channels, channels, bias=False)
        self.lin_bwd = EnsembleLinear(members, channels, channels, bias=False)
        self.lin_out = EnsembleLinear(members, channels, channels)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        for lin in (self.lin_self, self.lin_fwd, self.lin_bwd, self.lin_out):
            lin.reset_parameters(generator)

    def forward(self, h: Tensor, edge_index: Tensor) -> Tensor:
        fwd = self.propagate(edge_index, x=h)
        bwd = self.propagate(edge_index.flip(0), x=h)
        z = torch.relu(self.lin_self(h) + self.lin_fwd(fwd) + self.lin_bwd(bwd))
        return self.lin_out(z)

    def forward_sparse(self, h: Tensor, op: Tensor) -> Tensor:
        """The same layer with both message directions as one sparse matmul.

        ``op`` is `bidirectional_operator`'s ``[N, 2N]`` sparse matrix ``[A | A^T]``; the two message
        maps share one ``bmm`` (``lin_fwd``/``lin_bwd`` commute with the sums over edges), so a layer
        costs three ``bmm`` and one sparse ``mm`` instead of four ``bmm`` and two gather/scatters.
        ``lin_self`` keeps its own ``bmm``: sharing one with the message maps and slicing its output made
        the backward pass zero and add two full-width gradients per layer (10-17% of a fresh fit's time
        on 100-400 NAS-Bench-201 cells; fits on a few dozen cells are overhead-bound and gain little).
        """
        m, n, c = h.shape
        own = self.lin_self(h)
        w = torch.cat([self.lin_fwd.weight, self.lin_bwd.weight], dim=-1)
        moved = torch.bmm(h, w).view(m, n, 2, c).permute(2, 1, 0, 3).reshape(2 * n, m * c)  # [fwd; bwd] stacked
        msg = torch.sparse.mm(op, moved).view(n, m, c).transpose(0, 1)
        return self.lin_out(torch.relu(own + msg))

    def message(self, x_j: Tensor) -> Tensor:
        return x_j

    def aggregate(self, inputs: Tensor, index: Tensor, ptr: Tensor | None = None,
                  dim_size: int | None = None) -> Tensor:
        # index_add_ along the node axis: same sum as PyG's scatter, without expanding the index.
        shape = list(inputs.shape)
        shape[-2] = int(dim_size if dim_size is not None else (int(index.max()) + 1 if index.numel() else 0))
        return inputs.new_zeros(shape).index_add_(-2, index, inputs)
