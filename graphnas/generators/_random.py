"""Seed handling for the whole package: the one place where a ``seed`` becomes a random generator.

Every ``seed=`` argument in graphnas accepts the same things, networkx-style:

- ``None``: fresh entropy (not reproducible);
- an ``int`` (or a numpy integer), negative ones too: it is taken modulo 2**64 (so ``-1`` means ``2**64 - 1``, as in
  ``torch.Generator.manual_seed``), and the same int always gives the same stream;
- a ``random.Random`` or a numpy ``Generator``: used as is when the wanted kind matches (and
  advanced), otherwise one 64-bit draw from it seeds a new generator of the wanted kind.

`as_random`, `as_numpy` and `as_torch` give a Python ``random.Random``, a numpy
``Generator`` and a ``torch.Generator`` (CPU); `seed_int` gives the 64-bit int they start
from, for code that derives several streams from one seed. Nothing here touches a process-wide
generator.
"""

from __future__ import annotations

import numbers
import random
from typing import TYPE_CHECKING, Any, TypeGuard, Union

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import torch

#: What every ``seed=`` argument accepts. ``None`` draws fresh entropy (not reproducible).
Seed = Union[None, int, random.Random, "np.random.Generator"]

__all__ = ["Seed", "as_numpy", "as_random", "as_torch", "seed_int"]

_MOD = 2**64


def _is_numpy_generator(seed: Any) -> TypeGuard[np.random.Generator]:
    cls = type(seed)
    return cls.__module__.startswith("numpy.random") and hasattr(seed, "integers") and hasattr(seed, "bit_generator")


def _bad(seed: Any) -> TypeError:
    return TypeError(f"seed must be None, an int, a random.Random or a numpy.random.Generator, "
                     f"got {type(seed).__name__}")


def seed_int(seed: Seed) -> int:
    """The int in ``[0, 2**64)`` that ``seed`` stands for: an int modulo 2**64, or one 64-bit draw
    from a ``random.Random`` / numpy ``Generator`` (which advances it), or fresh entropy for ``None``."""
    if isinstance(seed, bool):
        raise _bad(seed)
    if isinstance(seed, numbers.Integral):  # an int, or a numpy integer taken from an array or a range
        return int(seed) % _MOD
    if isinstance(seed, random.Random):
        return seed.getrandbits(64)
    if _is_numpy_generator(seed):
        import numpy as np

        return int(seed.integers(0, _MOD, dtype=np.uint64))
    if seed is None:
        return random.SystemRandom().getrandbits(64)
    raise _bad(seed)


def as_random(seed: Seed) -> random.Random:
    """A ``random.Random`` for ``seed``: a given ``Random`` is used as is (and advanced); anything
    else seeds a new one with `seed_int`."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None:
        return random.Random()
    return random.Random(seed_int(seed))


def as_numpy(seed: Seed) -> np.random.Generator:
    """A numpy ``Generator`` for ``seed``: a given ``Generator`` is used as is (and advanced); anything
    else seeds a new one with `seed_int`."""
    import numpy as np

    if _is_numpy_generator(seed):
        return seed
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng(seed_int(seed))


def as_torch(seed: Seed | torch.Generator) -> torch.Generator:
    """A CPU ``torch.Generator`` for ``seed``: a given ``torch.Generator`` is used as is; anything else
    seeds a new one with `seed_int` (an int ``n`` gives ``torch.Generator().manual_seed(n)``)."""
    import torch

    if isinstance(seed, torch.Generator):
        return seed
    gen = torch.Generator()
    if seed is None:
        gen.seed()
        return gen
    return gen.manual_seed(seed_int(seed))
