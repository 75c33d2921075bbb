"""``filter_hash``: the token that ties a delete-by-filters to a listing.

The emulator hashes the filter parameters exactly as they appear in the raw
query string (key as written, ``[]`` included, value still percent-encoded,
in order), leaving out ``page``, ``size`` and ``sort``.  So the same filters
encoded differently (another order, the other array syntax) give another
hash: a client must build both queries with one encoder, which is what the
real API's 409 on a mismatch enforces too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Final
from urllib.parse import unquote_plus

import orjson

__all__ = ["FILTER_HASH_LENGTH", "NON_FILTER_PARAMS", "filter_hash", "raw_filter_pairs"]

FILTER_HASH_LENGTH: Final = 16
# Query parameters that shape the page, not the set of matches.
NON_FILTER_PARAMS: Final = frozenset({"page", "size", "sort"})


def _base_name(raw_key: str) -> str:
    key = unquote_plus(raw_key)
    return key[:-2] if key.endswith("[]") else key


def raw_filter_pairs(raw_query: str, known: Iterable[str]) -> list[tuple[str, str]]:
    """The ``(key, value)`` pieces of a raw query string that are filters.

    Keys and values stay as written.  A parameter is a filter when its name,
    decoded and without a trailing ``[]``, is one of ``known`` (unknown
    parameters are ignored by the API, so they are not part of the hash).
    """
    names = frozenset(known) - NON_FILTER_PARAMS
    pairs: list[tuple[str, str]] = []
    for piece in raw_query.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        if _base_name(key) in names:
            pairs.append((key, value))
    return pairs


def filter_hash(pairs: Iterable[tuple[str, str]], *, generation: int | None = None) -> str:
    """16 hex characters of sha256 over the filter pairs (and a data generation).

    ``generation``, when given, is a counter that changes whenever the
    matching data may have changed, so a hash taken before a delete or a
    seed no longer matches after it.
    """
    digest = hashlib.sha256(orjson.dumps([list(pair) for pair in pairs]))
    if generation is not None:
        digest.update(b"\x00generation=%d" % generation)
    return digest.hexdigest()[:FILTER_HASH_LENGTH]
