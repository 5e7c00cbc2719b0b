"""The op registry: an op name -> a small factory ``(C_in, C_out, stride, **params) -> nn.Module``.

A node's ``op`` string is looked up here by `graphnas.to_torch`. The
converter works out ``C_in`` (the channels of the node's merged inputs),
``C_out`` (the node's ``"C"`` param, or what the op says, or ``C_in``) and
``stride`` (the node's ``"stride"`` param, default 1); every other node param is
passed to the factory as a keyword argument.

Adding an op takes a few lines and no edits elsewhere:

```python
>>> import torch.nn as nn
>>> from graphnas.ops import register_op
>>> @register_op("my_conv_3x3")
... def my_conv_3x3(C_in, C_out, stride):
...     return nn.Conv2d(C_in, C_out, 3, stride, 1, bias=False)

```

The ops of the papers are defined as their reference code does:

- DARTS (quark0/darts ``cnn/operations.py``): ``none``, ``avg_pool_3x3``,
  ``max_pool_3x3``, ``skip_connect`` (``FactorizedReduce`` when strided),
  ``sep_conv_3x3/5x5/7x7`` (the separable conv applied twice),
  ``dil_conv_3x3/5x5``, ``conv_7x1_1x7``; these also serve NASNet, AmoebaNet and
  ENAS genotypes in the DARTS evaluation network.
- NASNet's further ops: ``conv_1x1``, ``conv_3x3``, ``conv_1x3_3x1``,
  ``max_pool_5x5``, ``max_pool_7x7``.
- ENAS's macro-space branches: ``enas_conv_3x3/5x5``, ``enas_sep_conv_3x3/5x5``
  (a 1x1 conv then one separable conv), ``enas_max_pool_3x3``, ``enas_avg_pool_3x3``.
- NAS-Bench-201: ``nor_conv_1x1``, ``nor_conv_3x3`` (ReLU-Conv-BN, no bias), and
  the shared ``skip_connect``, ``avg_pool_3x3``, ``none``; ``nb201_downsample``
  is the shortcut of its ResNet reduction block.
- NAS-Bench-101: ``conv3x3-bn-relu``, ``conv1x1-bn-relu`` (also its channel
  projection), ``maxpool3x3``, and ``truncate`` (keep the first C channels).
- RandWire: ``randwire_node`` (ReLU, separable 3x3 conv, BN).
- Chain networks (NAS-RL): ``chain_conv`` with params ``kernel=[h, w]``,
  ``filters``, ``stride`` (conv, BN, ReLU, "same" padding).
- Building blocks of the macro networks: ``conv_bn``, ``relu_conv_bn``,
  ``factorized_reduce``, ``bn_relu``, ``relu``, ``global_avg_pool`` and
  ``linear`` (the last two produce vectors).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from graphnas.registry import Registry

__all__ = [
    "OPS", "OpSpec", "register_op", "get_op", "list_ops",
    "Zero", "FactorizedReduce", "ReLUConvBN", "SepConv", "DilConv", "DropPath",
]

OutChannels = Callable[[int, Mapping[str, Any]], int]


@dataclass(frozen=True)
class OpSpec:
    """A registered op: its factory plus what the converter needs to infer shapes.

    ``out_channels(C_in, params)`` gives the op's output channels when the node
    has no ``"C"`` param (default: ``C_in``); ``vector`` is True for ops whose
    output is ``(N, C)`` instead of ``(N, C, H, W)``; ``vector_in`` is True for
    ops that take such a vector; ``fixed_channels`` is True for ops that cannot
    change the channel count.
    """

    name: str
    factory: Callable[..., nn.Module]
    out_channels: OutChannels | None = None
    vector: bool = False
    fixed_channels: bool = False
    vector_in: bool = False

    def __call__(self, C_in: int, C_out: int, stride: int = 1, **params: Any) -> nn.Module:
        return self.factory(C_in, C_out, stride, **params)

    def channels(self, C_in: int, params: Mapping[str, Any]) -> int:
        """The output channels for a node with these params."""
        if "C" in params:
            return whole(params["C"], "C")
        if self.out_channels is not None:
            return whole(self.out_channels(C_in, params), f"{self.name}'s output channels")
        return C_in


def whole(value: Any, what: str) -> int:
    """``value`` as an int where it is a whole number (``2`` or ``2.0``); ``1.5``, ``True`` or ``"2"`` raise
    ValueError, so that a channel count or stride is never silently truncated."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    return int(value)


#: The op registry (a `graphnas.registry.Registry` of `OpSpec`).
OPS: Registry[OpSpec] = Registry("op")


Factory = Callable[..., nn.Module]


def register_op(name: str, *, out_channels: OutChannels | None = None, vector: bool = False,
                fixed_channels: bool = False, vector_in: bool = False) -> Callable[[Factory], Factory]:
    """Decorator adding a factory ``(C_in, C_out, stride, **params) -> nn.Module`` under ``name``.

    ``fixed_channels=True`` marks an op that cannot change the channel count
    (asking it to is a shape error the converter reports). Registering a name
    again raises ValueError unless it is the same factory with the same settings.
    """
    if not isinstance(name, str) or not name or name in ("input", "identity"):
        raise ValueError(f"cannot register an op named {name!r}")

    def deco(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        OPS.add(name, OpSpec(name, fn, out_channels, vector, fixed_channels, vector_in))
        return fn

    return deco


def get_op(name: str) -> OpSpec:
    """The registered op ``name`` (callable as its factory).

    Raises:
        graphnas.UnknownNameError: (a KeyError) naming the closest known ops.
    """
    return OPS.get(name)


def list_ops() -> list[str]:
    """All registered op names, sorted."""
    return OPS.names()


# --------------------------------------------------------------------------- building blocks


def _bn(C: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(C, affine=True)


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (list, tuple)):
        if len(v) != 2:
            raise ValueError(f"expected an int or a pair, got {v!r}")
        return int(v[0]), int(v[1])
    return int(v), int(v)


def _kernel(v: Any) -> tuple[int, int]:
    """A 'same'-padded kernel size: odd and positive, so that stride s maps H to ceil(H / s) as the converter
    assumes (an even kernel with padding k // 2 would grow the map by one)."""
    kh, kw = _pair(v)
    if kh < 1 or kw < 1 or kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"kernel must be odd and positive ('same' padding), got {v!r}")
    return kh, kw


class ReLUConvBN(nn.Sequential):
    """ReLU, convolution without bias, BatchNorm (DARTS' and NAS-Bench-201's basic conv).

    Shapes: ``(N, C_in, H, W) -> (N, C_out, H / stride, W / stride)``.
    """

    def __init__(self, C_in: int, C_out: int, kernel: Any, stride: int, padding: Any, dilation: int = 1) -> None:
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(C_in, C_out, kernel, stride, padding, dilation=dilation, bias=False),
                         _bn(C_out))


class ConvBNReLU(nn.Sequential):
    """Convolution without bias, BatchNorm, ReLU (NAS-Bench-101's ops and projections, chain layers)."""

    def __init__(self, C_in: int, C_out: int, kernel: Any, stride: int = 1) -> None:
        kh, kw = _kernel(kernel)
        super().__init__(nn.Conv2d(C_in, C_out, (kh, kw), stride, (kh // 2, kw // 2), bias=False),
                         _bn(C_out), nn.ReLU(inplace=False))


class DilConv(nn.Sequential):
    """DARTS' dilated separable conv: ReLU, dilated depthwise conv, pointwise conv, BN."""

    def __init__(self, C_in: int, C_out: int, kernel: int, stride: int, padding: int, dilation: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel, stride, padding, dilation=dilation, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            _bn(C_out))


class SepConv(nn.Sequential):
    """DARTS' separable conv: the (ReLU, depthwise, pointwise, BN) unit applied twice, the first strided."""

    def __init__(self, C_in: int, C_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel, stride, padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_in, 1, bias=False),
            _bn(C_in),
            nn.ReLU(inplace=False),
            nn.Conv2d(C_in, C_in, kernel, 1, padding, groups=C_in, bias=False),
            nn.Conv2d(C_in, C_out, 1, bias=False),
            _bn(C_out))


class Zero(nn.Module):
    """The zero op: zeros of the output's shape (``x * 0``, as DARTS, so NaNs still propagate)."""

    def __init__(self, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.C_in, self.C_out, self.stride = C_in, C_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        if self.C_in == self.C_out:
            return x.mul(0.0)
        return x.new_zeros((x.shape[0], self.C_out, x.shape[2], x.shape[3]))

    def extra_repr(self) -> str:
        return f"C_in={self.C_in}, C_out={self.C_out}, stride={self.stride}"


class FactorizedReduce(nn.Module):
    """DARTS' strided skip: ReLU, two stride-2 1x1 convs offset by one pixel, concatenated, BN.

    With ``stride=1`` (a skip that must change channels, as in NAS-Bench-201) it is
    a 1x1 conv and BN. Shapes: ``(N, C_in, H, W) -> (N, C_out, ceil(H / stride), ceil(W / stride))``:
    the shifted half is zero-padded by one pixel at the bottom and right, which changes nothing for
    even sizes (DARTS' case) and makes both halves ``ceil(H / 2)`` for odd ones.
    """

    def __init__(self, C_in: int, C_out: int, stride: int = 2) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"FactorizedReduce supports stride 1 or 2, got {stride}")
        if stride == 2 and C_out % 2:
            raise ValueError(f"FactorizedReduce with stride 2 needs an even C_out, got {C_out}")
        self.stride = stride
        self.relu = nn.ReLU(inplace=False)
        if stride == 2:
            self.conv_1 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
            self.conv_2 = nn.Conv2d(C_in, C_out // 2, 1, stride=2, padding=0, bias=False)
        else:
            self.conv = nn.Conv2d(C_in, C_out, 1, stride=1, padding=0, bias=False)
        self.bn = _bn(C_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        if self.stride == 2:
            shifted = nn.functional.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
            out = torch.cat([self.conv_1(x), self.conv_2(shifted)], dim=1)
        else:
            out = self.conv(x)
        return self.bn(out)


class Pool(nn.Module):
    """A 'same'-padded pooling, preceded by a 1x1 ReLU-Conv-BN when the channels change (NAS-Bench-201)."""

    def __init__(self, kind: str, kernel: int, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.preprocess = None if C_in == C_out else ReLUConvBN(C_in, C_out, 1, 1, 0)
        pad = kernel // 2
        if kind == "avg":
            self.pool: nn.Module = nn.AvgPool2d(kernel, stride=stride, padding=pad, count_include_pad=False)
        else:
            self.pool = nn.MaxPool2d(kernel, stride=stride, padding=pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.pool(x)


class Truncate(nn.Module):
    """Keep the first ``C`` channels (NAS-Bench-101's way to shrink a wider input)."""

    def __init__(self, C: int) -> None:
        super().__init__()
        self.C = C

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :self.C]

    def extra_repr(self) -> str:
        return f"C={self.C}"


class DropPath(nn.Module):
    """DARTS' drop-path: in training, zero whole samples with probability ``p`` and rescale the rest."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p <= 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.empty((x.shape[0], 1, 1, 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x / keep * mask

    def extra_repr(self) -> str:
        return f"p={self.p}"


class GlobalAvgPool(nn.Module):
    """Average over the spatial axes: ``(N, C, H, W) -> (N, C)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean((2, 3))


def _no_stride(name: str, stride: int) -> None:
    if stride != 1:
        raise ValueError(f"{name} takes no stride, got stride={stride}")


# --------------------------------------------------------------------------- DARTS (also NASNet, AmoebaNet, ENAS cells)


@register_op("none")
def none(C_in: int, C_out: int, stride: int) -> nn.Module:
    return Zero(C_in, C_out, stride)


@register_op("skip_connect")
def skip_connect(C_in: int, C_out: int, stride: int) -> nn.Module:
    if stride == 1 and C_in == C_out:
        return nn.Identity()
    return FactorizedReduce(C_in, C_out, stride)


@register_op("avg_pool_3x3")
def avg_pool_3x3(C_in: int, C_out: int, stride: int) -> nn.Module:
    return Pool("avg", 3, C_in, C_out, stride)


@register_op("max_pool_3x3")
def max_pool_3x3(C_in: int, C_out: int, stride: int) -> nn.Module:
    return Pool("max", 3, C_in, C_out, stride)


def _sep(k: int) -> Callable[..., nn.Module]:
    def make(C_in: int, C_out: int, stride: int) -> nn.Module:
        return SepConv(C_in, C_out, k, stride, k // 2)
    make.__doc__ = f"DARTS' {k}x{k} separable conv, applied twice."
    return make


def _dil(k: int) -> Callable[..., nn.Module]:
    def make(C_in: int, C_out: int, stride: int) -> nn.Module:
        return DilConv(C_in, C_out, k, stride, k - 1, 2)
    make.__doc__ = f"DARTS' {k}x{k} dilated (rate 2) separable conv."
    return make


for _k in (3, 5, 7):
    register_op(f"sep_conv_{_k}x{_k}")(_sep(_k))
for _k in (3, 5):
    register_op(f"dil_conv_{_k}x{_k}")(_dil(_k))


class FactorisedConv(nn.Sequential):
    """A kxk conv factorised as ReLU, 1xk conv, kx1 conv, BN (DARTS' 7x7, NASNet's 3x3).

    Shapes: ``(N, C_in, H, W) -> (N, C_out, H / stride, W / stride)``.
    """

    def __init__(self, C_in: int, C_out: int, k: int, stride: int) -> None:
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(C_in, C_out, (1, k), stride=(1, stride), padding=(0, k // 2), bias=False),
                         nn.Conv2d(C_out, C_out, (k, 1), stride=(stride, 1), padding=(k // 2, 0), bias=False),
                         _bn(C_out))


@register_op("conv_7x1_1x7")
def conv_7x1_1x7(C_in: int, C_out: int, stride: int) -> nn.Module:
    """DARTS' factorised 7x7: ReLU, 1x7 conv, 7x1 conv, BN."""
    return FactorisedConv(C_in, C_out, 7, stride)


# --------------------------------------------------------------------------- NASNet's further ops


@register_op("conv_1x1")
def conv_1x1(C_in: int, C_out: int, stride: int) -> nn.Module:
    return ReLUConvBN(C_in, C_out, 1, stride, 0)


@register_op("conv_3x3")
def conv_3x3(C_in: int, C_out: int, stride: int) -> nn.Module:
    return ReLUConvBN(C_in, C_out, 3, stride, 1)


@register_op("conv_1x3_3x1")
def conv_1x3_3x1(C_in: int, C_out: int, stride: int) -> nn.Module:
    """NASNet's factorised 3x3: ReLU, 1x3 conv, 3x1 conv, BN."""
    return FactorisedConv(C_in, C_out, 3, stride)


@register_op("nasnet_dil_conv_3x3")
def nasnet_dil_conv_3x3(C_in: int, C_out: int, stride: int) -> nn.Module:
    """NASNet's 3x3 dilated conv (rate 2, not separable): ReLU, conv, BN."""
    return ReLUConvBN(C_in, C_out, 3, stride, 2, dilation=2)


@register_op("max_pool_5x5")
def max_pool_5x5(C_in: int, C_out: int, stride: int) -> nn.Module:
    return Pool("max", 5, C_in, C_out, stride)


@register_op("max_pool_7x7")
def max_pool_7x7(C_in: int, C_out: int, stride: int) -> nn.Module:
    return Pool("max", 7, C_in, C_out, stride)


# --------------------------------------------------------------------------- ENAS macro-space branches


def _enas_conv(k: int, separable: bool) -> Callable[..., nn.Module]:
    def make(C_in: int, C_out: int, stride: int) -> nn.Module:
        if separable:
            conv: list[nn.Module] = [nn.Conv2d(C_out, C_out, k, stride, k // 2, groups=C_out, bias=False),
                                     nn.Conv2d(C_out, C_out, 1, bias=False)]
        else:
            conv = [nn.Conv2d(C_out, C_out, k, stride, k // 2, bias=False)]
        return nn.Sequential(ReLUConvBN(C_in, C_out, 1, 1, 0), nn.ReLU(inplace=False), *conv, _bn(C_out))
    make.__doc__ = f"ENAS' {'separable ' if separable else ''}{k}x{k} branch: 1x1 ReLU-Conv-BN, then ReLU-Conv-BN."
    return make


for _k in (3, 5):
    register_op(f"enas_conv_{_k}x{_k}")(_enas_conv(_k, False))
    register_op(f"enas_sep_conv_{_k}x{_k}")(_enas_conv(_k, True))


@register_op("enas_max_pool_3x3")
def enas_max_pool_3x3(C_in: int, C_out: int, stride: int) -> nn.Module:
    """ENAS' pooling branch: 1x1 ReLU-Conv-BN, then 3x3 max pooling."""
    return nn.Sequential(ReLUConvBN(C_in, C_out, 1, 1, 0), nn.MaxPool2d(3, stride, 1))


@register_op("enas_avg_pool_3x3")
def enas_avg_pool_3x3(C_in: int, C_out: int, stride: int) -> nn.Module:
    """ENAS' pooling branch: 1x1 ReLU-Conv-BN, then 3x3 average pooling."""
    return nn.Sequential(ReLUConvBN(C_in, C_out, 1, 1, 0), nn.AvgPool2d(3, stride, 1, count_include_pad=False))


# --------------------------------------------------------------------------- NAS-Bench-201


# NAS-Bench-201's "normal" convs are the same ReLU-Conv-BN as NASNet's plain convs: one factory, two names.
register_op("nor_conv_3x3")(conv_3x3)
register_op("nor_conv_1x1")(conv_1x1)


@register_op("nb201_downsample")
def nb201_downsample(C_in: int, C_out: int, stride: int) -> nn.Module:
    """The shortcut of NAS-Bench-201's ResNet reduction block: 2x2 average pooling, then a 1x1 conv.

    The pooling rounds up (``ceil_mode``) like the block's strided 3x3 conv, so both branches meet on odd
    sizes too (NAS-Bench-201 only uses even ones, where nothing changes)."""
    if stride != 2:
        raise ValueError(f"nb201_downsample has stride 2, got stride={stride}")
    return nn.Sequential(nn.AvgPool2d(2, 2, 0, ceil_mode=True), nn.Conv2d(C_in, C_out, 1, bias=False))


# --------------------------------------------------------------------------- NAS-Bench-101


@register_op("conv3x3-bn-relu")
def nb101_conv3x3(C_in: int, C_out: int, stride: int) -> nn.Module:
    return ConvBNReLU(C_in, C_out, 3, stride)


@register_op("conv1x1-bn-relu")
def nb101_conv1x1(C_in: int, C_out: int, stride: int) -> nn.Module:
    return ConvBNReLU(C_in, C_out, 1, stride)


@register_op("maxpool3x3", fixed_channels=True)
def nb101_maxpool3x3(C_in: int, C_out: int, stride: int) -> nn.Module:
    return nn.MaxPool2d(3, stride, 1)


@register_op("truncate")
def truncate(C_in: int, C_out: int, stride: int) -> nn.Module:
    _no_stride("truncate", stride)
    if C_out > C_in:
        raise ValueError(f"truncate keeps the first C channels; it cannot widen {C_in} to {C_out}")
    return Truncate(C_out)


# --------------------------------------------------------------------------- RandWire and chains


@register_op("randwire_node")
def randwire_node(C_in: int, C_out: int, stride: int) -> nn.Module:
    """RandWire's node transformation: ReLU, separable 3x3 conv (depthwise then 1x1), BN."""
    return nn.Sequential(nn.ReLU(inplace=False),
                         nn.Conv2d(C_in, C_in, 3, stride, 1, groups=C_in, bias=False),
                         nn.Conv2d(C_in, C_out, 1, bias=False),
                         _bn(C_out))


@register_op("chain_conv", out_channels=lambda C_in, p: p["filters"])
def chain_conv(C_in: int, C_out: int, stride: int, kernel: Any = (3, 3), filters: int | None = None) -> nn.Module:
    """A NAS-RL chain layer: a ``kernel[0] x kernel[1]`` conv with ``filters`` outputs, BN, ReLU."""
    return ConvBNReLU(C_in, C_out, kernel, stride)


# --------------------------------------------------------------------------- macro-network building blocks


@register_op("conv_bn")
def conv_bn(C_in: int, C_out: int, stride: int, kernel: Any = 3) -> nn.Module:
    """Conv without bias, BN ('same' padding): the DARTS and NAS-Bench-201 stems."""
    kh, kw = _kernel(kernel)
    return nn.Sequential(nn.Conv2d(C_in, C_out, (kh, kw), stride, (kh // 2, kw // 2), bias=False), _bn(C_out))


@register_op("relu_conv_bn")
def relu_conv_bn(C_in: int, C_out: int, stride: int, kernel: Any = 1) -> nn.Module:
    """ReLU, conv without bias, BN ('same' padding): DARTS' cell preprocessing and its ImageNet stem."""
    kh, kw = _kernel(kernel)
    return ReLUConvBN(C_in, C_out, (kh, kw), stride, (kh // 2, kw // 2))


@register_op("factorized_reduce")
def factorized_reduce(C_in: int, C_out: int, stride: int) -> nn.Module:
    """DARTS' ``FactorizedReduce`` (stride 2 unless the node says ``stride: 1``)."""
    return FactorizedReduce(C_in, C_out, stride)


@register_op("max_pool_2x2", fixed_channels=True)
def max_pool_2x2(C_in: int, C_out: int, stride: int) -> nn.Module:
    """2x2 max pooling with stride 2 (NAS-Bench-101's downsampling between stacks), rounding up on odd sizes
    as every strided op does."""
    if stride != 2:
        raise ValueError(f"max_pool_2x2 has stride 2, got stride={stride}")
    return nn.MaxPool2d(2, 2, ceil_mode=True)


class AuxiliaryHead(nn.Module):
    """DARTS' auxiliary classifier: ReLU, 5x5 average pooling, 1x1 conv-BN-ReLU to 128, 2x2 conv to 768
    (with BN on CIFAR, without on ImageNet, as DARTS), ReLU, linear. Whatever spatial extent is left after
    the 2x2 conv is averaged (DARTS assumes 1x1). It only serves training: in eval mode it computes nothing
    and gives ``None``, so the network returns ``(logits, None)`` there, as DARTS' does."""

    def __init__(self, C_in: int, num_classes: int, pool_stride: int, bn: bool) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.ReLU(inplace=False), nn.AvgPool2d(5, stride=pool_stride, padding=0, count_include_pad=False),
            nn.Conv2d(C_in, 128, 1, bias=False), _bn(128), nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False)]
        if bn:
            layers.append(_bn(768))
        layers.append(nn.ReLU(inplace=False))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(768, num_classes)
        # the 5x5 pooling then the 2x2 conv need at least 2x2 after pooling
        self.min_size = 5 + pool_stride

    def forward(self, x: torch.Tensor) -> torch.Tensor | None:
        if not self.training:
            return None
        if x.shape[-2] < self.min_size or x.shape[-1] < self.min_size:
            raise ValueError(f"DARTS' auxiliary head needs an input of at least {self.min_size}x{self.min_size}, "
                             f"got {x.shape[-2]}x{x.shape[-1]}")
        return self.classifier(self.features(x).mean((2, 3)))


@register_op("darts_aux_head_cifar", vector=True)
def darts_aux_head_cifar(C_in: int, C_out: int, stride: int) -> nn.Module:
    """DARTS' CIFAR auxiliary head (input 8x8); the node's ``C`` is the number of classes."""
    return AuxiliaryHead(C_in, C_out, 3, bn=True)


@register_op("darts_aux_head_imagenet", vector=True)
def darts_aux_head_imagenet(C_in: int, C_out: int, stride: int) -> nn.Module:
    """DARTS' ImageNet auxiliary head (input 14x14); the node's ``C`` is the number of classes."""
    return AuxiliaryHead(C_in, C_out, 2, bn=False)


@register_op("bn_relu", fixed_channels=True)
def bn_relu(C_in: int, C_out: int, stride: int) -> nn.Module:
    _no_stride("bn_relu", stride)
    return nn.Sequential(_bn(C_in), nn.ReLU(inplace=False))


@register_op("relu", fixed_channels=True)
def relu(C_in: int, C_out: int, stride: int) -> nn.Module:
    _no_stride("relu", stride)
    return nn.ReLU(inplace=False)


@register_op("drop_path", fixed_channels=True)
def drop_path(C_in: int, C_out: int, stride: int, p: float = 0.0) -> nn.Module:
    """DARTS' drop-path, active in training only; ``p`` in [0, 1)."""
    _no_stride("drop_path", stride)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"drop_path's p must be a number in [0, 1), got {p!r}")
    return DropPath(p)


@register_op("global_avg_pool", vector=True, fixed_channels=True)
def global_avg_pool(C_in: int, C_out: int, stride: int) -> nn.Module:
    _no_stride("global_avg_pool", stride)
    return GlobalAvgPool()


@register_op("linear", vector=True, vector_in=True)
def linear(C_in: int, C_out: int, stride: int, dropout: float = 0.0) -> nn.Module:
    """A fully connected classifier on a vector input (the node's ``C`` is the number of classes)."""
    _no_stride("linear", stride)
    if dropout:
        return nn.Sequential(nn.Dropout(dropout), nn.Linear(C_in, C_out))
    return nn.Linear(C_in, C_out)

