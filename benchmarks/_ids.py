"""Cheap UUID v4 strings for the benchmarks (canonical lower case).

Ids are cut from one big random integer per batch, with the version and
variant bits set by one AND/OR over the whole batch, so generating a
million takes well under a second and never calls ``uuid.uuid4()``.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Final

__all__ = ["async_ids", "make_ids"]

_BATCH: Final = 10_000
# Per 128-bit id: clear the version nibble and the two variant bits, then set
# version 4 and the RFC 4122 variant.
_MASK: Final = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_BITS: Final = (0x4 << 76) | (0x2 << 62)


def _batch(rng: random.Random, n: int) -> list[str]:
    mask = int.from_bytes(_MASK.to_bytes(16) * n)
    bits = int.from_bytes(_BITS.to_bytes(16) * n)
    hx = f"{(rng.getrandbits(128 * n) & mask) | bits:0{32 * n}x}"
    return [
        f"{hx[i : i + 8]}-{hx[i + 8 : i + 12]}-{hx[i + 12 : i + 16]}-"
        f"{hx[i + 16 : i + 20]}-{hx[i + 20 : i + 32]}"
        for i in range(0, 32 * n, 32)
    ]


def make_ids(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct-with-overwhelming-probability random UUID v4 strings."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        out.extend(_batch(rng, min(_BATCH, n - len(out))))
    return out


async def async_ids(n: int, seed: int = 0) -> AsyncIterator[str]:
    """The same ids as ``make_ids``, produced lazily by an async generator."""
    rng = random.Random(seed)
    left = n
    while left > 0:
        batch = _batch(rng, min(_BATCH, left))
        left -= len(batch)
        for value in batch:
            yield value
