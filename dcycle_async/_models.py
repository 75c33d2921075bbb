"""Values the client returns: reports, progress, pages and API records.

A leaf module (attrs only).  Everything here is frozen: a report handed to
the caller never changes under them.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

import attrs

__all__ = [
    "BulkDeleteReport",
    "ChunkError",
    "DeletePreview",
    "Emission",
    "LinkByFiltersResult",
    "LinkReport",
    "Page",
    "Progress",
    "RetriedChunk",
    "TransportRoute",
    "TransportSection",
    "TransportUnit",
    "UnlinkReport",
    "UploadedBy",
    "Vehicle",
]

T = TypeVar("T")


@attrs.frozen
class ChunkError:
    """A chunk whose request failed for good; its ids are also in ``failed_ids``.

    Attributes:
        ids: the ids of the chunk, as sent.
        error: the exception of the last attempt (an ``APIError`` or
            ``APIConnectionError``).
        index: the chunk's position in the operation (0-based).
    """

    ids: Sequence[str]
    error: Exception
    index: int = -1


@attrs.frozen
class RetriedChunk:
    """A chunk with an attempt whose outcome is unknown.

    A dropped connection, a timeout or a 5xx may come after the server
    applied the request.  Either the chunk was retried after such an
    attempt, and for deletes ids it reports as failed may in fact have been
    deleted by the earlier attempt (see ``BulkDeleteReport.uncertain_ids``),
    for links ``created`` may count them as ``skipped``; or the chunk failed
    for good (it is also in ``errors``) and one of its attempts may have
    been applied all the same; or its request was out when the operation
    aborted (``attempts`` is then 1, a lower bound).  Pipelines reconcile
    these.

    Attributes:
        index: the chunk's position in the operation (0-based).
        ids: the ids of the chunk.
        attempts: how many attempts the chunk took.
    """

    index: int
    ids: Sequence[str]
    attempts: int


@attrs.frozen
class Progress:
    """Where a bulk operation stands; passed to ``on_progress`` after every chunk.

    Attributes:
        ids_done: valid unique ids whose chunk has finished (either way).
        ids_total: valid unique ids in all, or None for a stream of unknown length.
        chunks_done: chunks finished, successfully or not.
        chunks_failed: chunks that failed for good.
        chunks_total: chunks in all, or None for a stream.
    """

    ids_done: int
    ids_total: int | None
    chunks_done: int
    chunks_failed: int
    chunks_total: int | None = None

    @property
    def fraction(self) -> float | None:
        """ids_done / ids_total, or None when the total is unknown."""
        if not self.ids_total:
            return None if self.ids_total is None else 1.0
        return self.ids_done / self.ids_total


def _report_ok(self: Any) -> bool:
    return not self.failed_ids and not self.invalid_ids and not self.errors


@attrs.frozen
class BulkDeleteReport:
    """The merged outcome of a bulk delete (by ids or by filters).

    Invariant: ``success_ids + failed_ids + invalid_ids`` are exactly the
    unique inputs (unless ``success_ids`` was not collected, see
    ``collect_success_ids``: then only ``success_count`` is kept).

    Attributes:
        success_ids: ids the server deleted.
        failed_ids: ids not deleted: unknown to the server, of another
            organisation, in a chunk that failed for good, or never sent
            because the operation aborted.
        success_count, failed_count: their counts.
        invalid_ids: inputs that are not UUIDs (never sent), as given.
        duplicate_count: repeated inputs dropped before chunking.
        errors: chunks that failed for good.
        requests: HTTP attempts made (retries included).
        retries: attempts beyond the first, summed over chunks.
        retried_chunks: chunks with an attempt of unknown outcome: retried
            after it, or failed for good with it among their attempts.
        unexpected_ids: ids the server answered about that were never sent
            to it (a server bug; they are not counted).
        warnings: disagreements between the answers and the requests.
        ok: True when nothing failed and nothing was invalid.
    """

    success_ids: tuple[str, ...] = ()
    failed_ids: tuple[str, ...] = ()
    success_count: int = 0
    failed_count: int = 0
    invalid_ids: tuple[Any, ...] = ()
    duplicate_count: int = 0
    errors: tuple[ChunkError, ...] = ()
    requests: int = 0
    retries: int = 0
    retried_chunks: tuple[RetriedChunk, ...] = ()
    unexpected_ids: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    ok: bool = attrs.field(init=False, default=attrs.Factory(_report_ok, takes_self=True))

    @property
    def uncertain_ids(self) -> tuple[str, ...]:
        """Failed ids of the chunks in ``retried_chunks`` (an attempt's outcome unknown).

        Each may have been deleted by the attempt whose answer was lost;
        check them before treating them as still present.
        """
        if not self.retried_chunks:
            return ()
        retried = {i for chunk in self.retried_chunks for i in chunk.ids}
        return tuple(i for i in self.failed_ids if i in retried)


@attrs.frozen
class LinkReport:
    """The merged outcome of ``projects.link``.

    Attributes:
        created: new links made.
        skipped: ids the server skipped (already linked; the API does not
            say whether unknown ids are skipped too).
        failed_ids: ids of chunks that failed for good or were never sent.
        invalid_ids, duplicate_count, errors, requests, retries,
        retried_chunks, warnings, ok: as in ``BulkDeleteReport``.
    """

    created: int = 0
    skipped: int = 0
    failed_ids: tuple[str, ...] = ()
    invalid_ids: tuple[Any, ...] = ()
    duplicate_count: int = 0
    errors: tuple[ChunkError, ...] = ()
    requests: int = 0
    retries: int = 0
    retried_chunks: tuple[RetriedChunk, ...] = ()
    warnings: tuple[str, ...] = ()
    ok: bool = attrs.field(init=False, default=attrs.Factory(_report_ok, takes_self=True))


@attrs.frozen
class UnlinkReport:
    """The merged outcome of ``projects.unlink``.

    Attributes:
        deleted: associations removed (ids that were not linked are not
            counted and not failures).
        failed_ids, invalid_ids, duplicate_count, errors, requests, retries,
        retried_chunks, warnings, ok: as in ``BulkDeleteReport``.
    """

    deleted: int = 0
    failed_ids: tuple[str, ...] = ()
    invalid_ids: tuple[Any, ...] = ()
    duplicate_count: int = 0
    errors: tuple[ChunkError, ...] = ()
    requests: int = 0
    retries: int = 0
    retried_chunks: tuple[RetriedChunk, ...] = ()
    warnings: tuple[str, ...] = ()
    ok: bool = attrs.field(init=False, default=attrs.Factory(_report_ok, takes_self=True))


@attrs.frozen
class LinkByFiltersResult:
    """The answer of ``projects.link_by_filters``: links created and skipped."""

    created: int
    skipped: int


@attrs.frozen
class Page(Generic[T]):
    """One page of a list call.

    Attributes:
        items: the records of this page.
        total: matches across all pages for these filters.
        page, size: this page's number (1-based) and size.
        filter_hash: the token that ``bulk_delete_by_filters`` needs, or
            None if the endpoint did not send one.
        pages: the number of pages, when the endpoint sends it.
    """

    items: tuple[T, ...]
    total: int
    page: int
    size: int
    filter_hash: str | None = None
    pages: int | None = None


@attrs.frozen
class DeletePreview(Generic[T]):
    """What a delete-by-filters would remove: count, hash, and a sample.

    Pass it to ``bulk_delete_by_filters(preview.filters,
    filter_hash=preview.filter_hash)`` (or ``delete_previewed(preview)``).
    """

    filters: Any
    total: int
    filter_hash: str
    sample: tuple[T, ...]


@attrs.frozen
class Emission:
    """One emission figure of a route or section."""

    value: float | None = None
    gas: str | None = None
    unit_name: str | None = None


@attrs.frozen
class TransportUnit:
    """The unit of ``quantity_transported``."""

    id: str | None = None
    name: str | None = None
    type: str | None = None


@attrs.frozen
class UploadedBy:
    """The user who created a record."""

    id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    profile_img_url: str | None = None


@attrs.frozen
class TransportSection:
    """One leg of a transport route."""

    id: str | None = None
    part: int | None = None
    transport_type: str | None = None
    travel_method: str | None = None
    electric: bool | None = None
    refrigerated: bool | None = None
    detail: str | None = None
    origin: str | None = None
    destination: str | None = None
    kms: float | None = None
    kms_manual: float | None = None
    distance_manual: float | None = None
    kms_source: str | None = None
    status: str | None = None
    step: str | None = None
    error_messages: tuple[str, ...] | None = None
    emissions: tuple[Emission, ...] = ()


@attrs.frozen
class TransportRoute:
    """A transport route as ``GET /v1/transports`` lists it."""

    id: str
    name: str | None = None
    transport_date: datetime.date | None = None
    quantity_transported: float | None = None
    supplier: str | None = None
    transport_direction: str | None = None
    transport_frequency: str | None = None
    unit: TransportUnit | None = None
    co2e: float | None = None
    emissions: tuple[Emission, ...] = ()
    status: str | None = None
    file_id: str | None = None
    file_name: str | None = None
    sections: tuple[TransportSection, ...] = ()
    uploaded_by: UploadedBy | None = None
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None


@attrs.frozen
class Vehicle:
    """A vehicle as ``GET /v1/vehicles`` lists it."""

    id: str
    name: str | None = None
    type: str | None = None
    ownership: str | None = None
    license_plate: str | None = None
    country: str | None = None
    status: str | None = None
    co2e: float | None = None
    vehicle_fuel_id: str | None = None
    unknown_vehicle_type: str | None = None
    registration_year: int | None = None
    market_segment: str | None = None
    size: str | None = None
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None
