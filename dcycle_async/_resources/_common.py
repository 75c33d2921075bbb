"""What every resource shares: id checks, abort rules, answer parsing and merging."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from itertools import repeat
from typing import Any, Final

import attrs
import orjson

from .._batching import BatchResult
from .._errors import (
    AuthenticationError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
)
from .._http import Response
from .._models import BulkDeleteReport
from .._uuids import canonical_uuid

__all__ = [
    "SENT_IDS",
    "DeleteTotals",
    "check_path_id",
    "decode_delete_answer",
    "delete_report",
    "expect_int_fields",
    "is_fatal",
]


def check_path_id(name: str, value: str | uuid.UUID) -> str:
    """A UUID that goes into a URL path, canonical; anything else is a ValueError.

    Only canonical UUIDs reach a path, so no input (``../``, ``%2F``, ``?``)
    can ever address another endpoint.
    """
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a UUID string or uuid.UUID, got {type(value).__name__}")
    # Strict spelling: uuid.UUID() alone reads "0x..." as another project's id.
    canonical = canonical_uuid(value)
    if canonical is None:
        raise ValueError(f"{name} must be a UUID, got {value[:80]!r}")
    return canonical


def is_fatal(exc: Exception) -> bool:
    """True for errors that doom every chunk of an operation.

    Bad credentials (401), no access to the organisation (403) and a missing
    project or organisation (404) will answer every chunk the same way, so
    the operation stops at once instead of failing chunk by chunk.
    """
    return isinstance(exc, AuthenticationError | PermissionDeniedError | NotFoundError)


def expect_int_fields(response: Response, *names: str) -> dict[str, int]:
    """Read integer fields of an answer; a missing or non-int field is an error."""
    data = response.data
    values: dict[str, int] = {}
    for name in names:
        value = data.get(name) if isinstance(data, dict) else None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidResponseError(
                response.status,
                None,
                f"the answer has no valid {name!r} (expected a non-negative int)",
                str(data)[:500],
            )
        values[name] = value
    return values


class _SentIds:
    """Stands, in a decoded answer, for "exactly the ids of the request, in order"."""

    def __repr__(self) -> str:
        return "<the ids sent>"


SENT_IDS: Final = _SentIds()
"""The value ``decode_delete_answer`` puts in place of an echoed ``success_ids``."""

# A bulk-delete answer usually lists every id as deleted, in the order sent.
# When its success_ids are byte for byte the id array of the request, the
# array is cut out before decoding and a marker put in its place: decoding
# 100,000 ids into new str objects only to compare them with the chunk costs
# ~20 ms of CPU per 4 MB answer, during which no other answer is read.
_SUCCESS_KEY: Final = b'"success_ids":'
_JSON_SPACE: Final = b" \t\r\n"
# An escaped NUL: no id contains one, so an answer without this escape
# cannot hold the marker's value by itself.
_NUL_ESCAPE: Final = b"\\u0000"
_MARK: Final = b'"' + _NUL_ESCAPE + b'sent"'
_MARK_VALUE: Final = "\x00sent"


def decode_delete_answer(raw: bytes, sent: memoryview) -> Any:
    """Decode a bulk-delete answer; an echo of the ids sent becomes ``SENT_IDS``.

    ``sent`` is the id array of the request body, as encoded.  The result is
    exactly ``orjson.loads(raw)``, except that ``success_ids`` is
    ``SENT_IDS`` when it equals the ids sent, in order.  The shortcut is
    taken only when the answer, with the array replaced by a marker string,
    decodes to an object whose top-level ``success_ids`` is that marker: the
    array was then that key's value, as only a complete JSON value can be
    swapped for a string in a document that stays valid with the key in
    place, and the marker cannot come from the answer (it holds no escaped
    NUL outside the array).
    """
    at = raw.find(_SUCCESS_KEY)
    if at >= 0:
        start = at + len(_SUCCESS_KEY)
        while start < len(raw) and raw[start] in _JSON_SPACE:
            start += 1
        if raw.startswith(sent, start):
            head, tail = raw[:start], raw[start + len(sent) :]
            if _NUL_ESCAPE not in head and _NUL_ESCAPE not in tail:
                try:
                    data = orjson.loads(head + _MARK + tail)
                except orjson.JSONDecodeError:
                    data = None
                if isinstance(data, dict) and data.get("success_ids") == _MARK_VALUE:
                    data["success_ids"] = SENT_IDS
                    return data
    return orjson.loads(raw)


def _id_list(response: Response, name: str) -> list[str]:
    data = response.data
    value = data.get(name) if isinstance(data, dict) else None
    # map(isinstance, ...) keeps the per-id check in C: answers hold 100,000 ids.
    if not isinstance(value, list) or not all(map(isinstance, value, repeat(str))):
        raise InvalidResponseError(
            response.status,
            None,
            f"the answer has no valid {name!r} (expected a list of ids)",
            str(data)[:500],
        )
    return value


@attrs.define
class DeleteTotals:
    """Merges bulk-delete answers, checking them against what was sent.

    The server's lists are trusted only for ids that were sent: an id it
    does not mention is counted as failed (with a warning), an id it adds is
    reported in ``unexpected_ids`` and counted nowhere.
    """

    collect_success_ids: bool = True
    success_ids: list[str] = attrs.Factory(list)
    failed_ids: list[str] = attrs.Factory(list)
    success_count: int = 0
    unexpected_ids: list[str] = attrs.Factory(list)
    warnings: list[str] = attrs.Factory(list)

    @staticmethod
    def parse(response: Response, sent: list[str] | None = None) -> tuple[list[str], list[str]]:
        """The (success_ids, failed_ids) of a 5-field bulk summary.

        ``sent``: the chunk, for an answer decoded by ``decode_delete_answer``
        (its ``SENT_IDS`` then stands for this very list).
        """
        data = response.data
        if sent is not None and isinstance(data, dict) and data.get("success_ids") is SENT_IDS:
            return sent, _id_list(response, "failed_ids")
        return _id_list(response, "success_ids"), _id_list(response, "failed_ids")

    def merge(self, chunk: list[str], value: tuple[list[str], list[str]]) -> None:
        """Account for one chunk's answer."""
        success, failed = value
        if not failed and (success is chunk or success == chunk):
            # The usual answer, every id deleted and listed in the order sent:
            # one C-level list comparison instead of building sets of 100,000.
            if self.collect_success_ids:
                self.success_ids.extend(chunk)
            self.success_count += len(chunk)
            return
        sent = set(chunk)
        confirmed = sent.intersection(success)
        refused = sent.intersection(failed)
        if (
            len(confirmed) == len(success)
            and len(refused) == len(failed)
            and len(confirmed) + len(refused) == len(sent)
            and confirmed.isdisjoint(refused)
        ):
            # The common case: the answer accounts for every id exactly once.
            if self.collect_success_ids:
                self.success_ids.extend(success)
            self.success_count += len(success)
            self.failed_ids.extend(failed)
            return
        self._merge_disputed(chunk, success, failed, sent, confirmed)

    def _merge_disputed(
        self,
        chunk: list[str],
        success: list[str],
        failed: list[str],
        sent: set[str],
        confirmed: set[str],
    ) -> None:
        unexpected = {i for i in (*success, *failed) if i not in sent}
        both = confirmed.intersection(failed)
        missing = [i for i in chunk if i not in confirmed and i not in failed]
        if self.collect_success_ids:
            self.success_ids.extend(i for i in chunk if i in confirmed)
        self.success_count += len(confirmed)
        # An id the server listed as both deleted and failed counts as deleted
        # (it is gone either way); one it never mentioned counts as failed.
        refused = set(failed) - confirmed
        self.failed_ids.extend(i for i in chunk if i in refused)
        self.failed_ids.extend(missing)
        self.unexpected_ids.extend(sorted(unexpected))
        if missing:
            self.warnings.append(
                f"the server did not report on {len(missing)} sent id(s); counted as failed"
            )
        if unexpected:
            self.warnings.append(
                f"the server reported on {len(unexpected)} id(s) that were not sent; ignored"
            )
        if both:
            self.warnings.append(
                f"the server reported {len(both)} id(s) as both deleted and failed;"
                " counted as deleted"
            )
        if len(set(success)) != len(success) or len(set(failed)) != len(failed):
            self.warnings.append("the server repeated ids in its answer; counted once")


def delete_report(totals: DeleteTotals, batch: BatchResult) -> BulkDeleteReport:
    """Assemble the report of an id-based bulk delete."""
    failed = totals.failed_ids
    failed.extend(batch.failed_ids)
    return BulkDeleteReport(
        success_ids=tuple(totals.success_ids),
        failed_ids=tuple(failed),
        success_count=totals.success_count,
        failed_count=len(failed),
        invalid_ids=tuple(batch.invalid_ids),
        duplicate_count=batch.duplicate_count,
        errors=tuple(batch.errors),
        requests=batch.requests,
        retries=batch.retries,
        retried_chunks=tuple(batch.retried_chunks),
        unexpected_ids=tuple(totals.unexpected_ids),
        warnings=tuple(totals.warnings),
    )


def single_answer_report(response: Response) -> BulkDeleteReport:
    """The report of a delete-by-filters call (one request, no ids sent)."""
    success, failed = DeleteTotals.parse(response)
    return BulkDeleteReport(
        success_ids=tuple(success),
        failed_ids=tuple(failed),
        success_count=len(success),
        failed_count=len(failed),
        requests=response.attempts,
        retries=response.attempts - 1,
    )


def query_items(data: Any) -> Mapping[str, Any]:
    """The envelope of a list answer, checked to be an object with items."""
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise InvalidResponseError(
            200, None, "the list answer has no 'items' list", str(data)[:500]
        )
    return data
