"""UUID helpers: cheap generation of many v4 ids, and fast validation.

The emulator makes and checks ids by the million (seeding, 100,000-id
delete bodies), where ``uuid.uuid4()`` and ``uuid.UUID()`` per id would
dominate the run time.  Everything here works on canonical lower-case
strings and falls back to ``uuid.UUID`` only for inputs that are not.
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Sequence
from typing import Final

__all__ = ["UUID_RE", "all_canonical", "canonical_uuid", "new_uuid", "new_uuids"]

UUID_RE: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CANONICAL_LENGTH: Final = 36
# The characters of canonical ids joined by newlines.
_UUID_CHARS_RE: Final = re.compile(r"[0-9a-f\-\n]*")
_UUID_BYTES: Final = 16
_UUID_HEX: Final = 32
_HYPHENS: Final = frozenset({8, 13, 18, 23})
# Byte 6 carries the version nibble (4), byte 8 the RFC 4122 variant bits (0b10).
_VERSION_BYTE: Final = 6
_VARIANT_BYTE: Final = 8
_SET_VERSION: Final = bytes((b & 0x0F) | 0x40 for b in range(256))
_SET_VARIANT: Final = bytes((b & 0x3F) | 0x80 for b in range(256))


def new_uuid(rng: random.Random) -> str:
    """One random UUID v4 string drawn from ``rng``."""
    return new_uuids(rng, 1)[0]


def new_uuids(rng: random.Random, n: int) -> list[str]:
    """``n`` random UUID v4 strings drawn from ``rng``, canonical lower case.

    Built column-wise with C-level strided slices over one buffer: the
    version and variant bits of all ids are set by two ``translate`` calls,
    each of the 36 character positions of all ids is filled by one slice
    assignment, and one ``split`` makes the strings.  That is several times
    faster than formatting ids one by one.
    """
    if n <= 0:
        return []
    raw = bytearray(rng.randbytes(_UUID_BYTES * n))
    raw[_VERSION_BYTE::_UUID_BYTES] = raw[_VERSION_BYTE::_UUID_BYTES].translate(_SET_VERSION)
    raw[_VARIANT_BYTE::_UUID_BYTES] = raw[_VARIANT_BYTE::_UUID_BYTES].translate(_SET_VARIANT)
    hexed = raw.hex().encode("ascii")
    stride = _CANONICAL_LENGTH + 1  # each id and a newline (but the last)
    out = bytearray(stride * n - 1)
    dashes = b"-" * n
    source = 0
    for position in range(_CANONICAL_LENGTH):
        if position in _HYPHENS:
            out[position::stride] = dashes
        else:
            out[position::stride] = hexed[source::_UUID_HEX]
            source += 1
    out[_CANONICAL_LENGTH::stride] = b"\n" * (n - 1)
    return out.decode("ascii").split("\n")


def canonical_uuid(value: object) -> str | None:
    """The canonical lower-case form of a UUID string, or None if it is not one.

    Like the API's validator, other spellings (upper case, no hyphens,
    braces, ``urn:uuid:``) are accepted and normalised.
    """
    if not isinstance(value, str):
        return None
    if UUID_RE.fullmatch(value):
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def all_canonical(values: Sequence[object]) -> bool:
    """True when every value is a canonical lower-case UUID string.

    Checked on the joined values with a few C-level operations instead of
    one match per id: only hex digits, hyphens and separators; every
    separator and every hyphen exactly where a list of 36-character
    canonical ids puts them (the counts rule out any elsewhere).
    """
    n = len(values)
    if n == 0:
        return True
    try:
        joined = "\n".join(values)  # type: ignore[arg-type]  # a TypeError is the answer
    except TypeError:
        return False
    stride = _CANONICAL_LENGTH + 1
    if len(joined) != stride * n - 1 or not _UUID_CHARS_RE.fullmatch(joined):
        return False
    if joined.count("\n") != n - 1 or joined[_CANONICAL_LENGTH::stride] != "\n" * (n - 1):
        return False
    dashes = "-" * n
    return joined.count("-") == len(_HYPHENS) * n and all(
        joined[position::stride] == dashes for position in _HYPHENS
    )
