"""Strict UUID parsing: the spellings of a UUID this client accepts, and no others.

``uuid.UUID()`` alone is too lenient for ids that come from users and files:
it hands the hex digits to ``int(..., 16)``, which also takes a ``0x``
prefix, a sign, ``_`` digit separators, padding whitespace and non-ASCII
digits (fullwidth, Arabic-Indic), and it deletes ``urn:``, ``uuid:`` and
hyphens wherever they occur.  ``"0x" + 30 hex digits`` would then silently
become a *different* UUID, sent to the API (or put into a URL path) as if
the user had written it.  Everything here first checks the spelling.

A leaf module: it imports nothing from the rest of the package.
"""

from __future__ import annotations

import re
import uuid
from typing import Final

__all__ = ["canonical_uuid"]

# Any case; all four hyphens or none; optionally in braces; optionally as a
# urn:uuid: URN.  ASCII hex digits only (explicit classes, no re.IGNORECASE).
_SPELLING: Final = re.compile(
    r"(?:urn:uuid:)?(\{)?"
    r"[0-9a-fA-F]{8}(-?)[0-9a-fA-F]{4}\2[0-9a-fA-F]{4}\2[0-9a-fA-F]{4}\2[0-9a-fA-F]{12}"
    r"(?(1)\})"
)


def canonical_uuid(text: str) -> str | None:
    """The canonical lower-case form of a UUID string, or None if it is not one.

    Accepted: any case, with all four hyphens or none, in braces, or as
    ``urn:uuid:...``; whitespace around it is ignored.  Anything else
    (prefixes, signs, separators, lookalike digits, stray braces or text)
    is None.
    """
    text = text.strip()
    if _SPELLING.fullmatch(text) is None:
        return None
    return str(uuid.UUID(text))
