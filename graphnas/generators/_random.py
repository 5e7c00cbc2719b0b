"""Seed handling shared by every generator: an int, a ``random.Random`` or a numpy ``Generator``."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, TypeGuard, Union

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

#: What every ``seed=`` argument accepts. ``None`` draws fresh entropy (not reproducible).
Seed = Union[None, int, random.Random, "np.random.Generator"]

__all__ = ["Seed", "as_numpy", "as_random"]


def _is_numpy_generator(seed: Any) -> TypeGuard[np.random.Generator]:
    cls = type(seed)
    return cls.__module__.startswith("numpy.random") and hasattr(seed, "integers") and hasattr(seed, "bit_generator")


def as_random(seed: Seed) -> random.Random:
    """A ``random.Random`` for ``seed``: a given ``Random`` is used as is (and advanced);
    an int seeds a new one; a numpy ``Generator`` gives one 64-bit draw to seed a new one."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None:
        return random.Random()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return random.Random(seed)
    if _is_numpy_generator(seed):
        return random.Random(int(seed.integers(0, 2**63)))
    raise TypeError(f"seed must be None, an int, a random.Random or a numpy.random.Generator, "
                    f"got {type(seed).__name__}")


def as_numpy(seed: Seed) -> np.random.Generator:
    """A numpy ``Generator`` for ``seed``: a given ``Generator`` is used as is; an int seeds a new one;
    a ``random.Random`` gives one 64-bit draw to seed a new one."""
    import numpy as np

    if _is_numpy_generator(seed):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, int) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"an int seed must be >= 0, got {seed}")
        return np.random.default_rng(seed)
    if isinstance(seed, random.Random):
        return np.random.default_rng(seed.getrandbits(64))
    raise TypeError(f"seed must be None, an int, a random.Random or a numpy.random.Generator, "
                    f"got {type(seed).__name__}")
