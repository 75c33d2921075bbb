"""What every resource shares: id checks, abort rules, answer parsing and merging."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from itertools import repeat
from typing import Any

import attrs

from .._batching import BatchResult
from .._errors import (
    AuthenticationError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
)
from .._http import Response
from .._models import BulkDeleteReport

__all__ = [
    "DeleteTotals",
    "check_path_id",
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
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise ValueError(f"{name} must be a UUID, got {value[:80]!r}") from None
    return str(parsed)


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
    def parse(response: Response) -> tuple[list[str], list[str]]:
        """The (success_ids, failed_ids) of a 5-field bulk summary."""
        return _id_list(response, "success_ids"), _id_list(response, "failed_ids")

    def merge(self, chunk: list[str], value: tuple[list[str], list[str]]) -> None:
        """Account for one chunk's answer."""
        success, failed = value
        if not failed and success == chunk:
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
