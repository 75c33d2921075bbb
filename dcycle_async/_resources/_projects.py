"""``client.projects``: link and unlink entities by id, link by filters."""

from __future__ import annotations

import uuid
from typing import Any

import attrs

from .._batching import (
    LINK_CHUNK_LIMIT,
    BatchResult,
    ChunkReply,
    IdSource,
    ProgressCallback,
    check_chunk_size,
    check_concurrency,
    run_batches,
)
from .._enums import EntityType
from .._errors import InvalidResponseError, NotFoundError
from .._filters import LinkFilters, coerce_entity_type, link_filters_body, link_filters_for
from .._http import HTTPSession
from .._models import LinkByFiltersResult, LinkReport, UnlinkReport
from ._common import check_path_id, expect_int_fields, is_fatal

__all__ = ["ProjectsResource"]


def _is_fatal_for_project(exc: Exception) -> bool:
    # A 404 about one entity (should the API answer so for unknown ids) fails
    # that chunk only; a missing project or organisation dooms every chunk.
    if isinstance(exc, NotFoundError) and exc.code not in (None, "ORGANIZATION_NOT_FOUND"):
        return "project" in exc.detail.lower()
    return is_fatal(exc)


@attrs.define
class _LinkTotals:
    created: int = 0
    skipped: int = 0
    warnings: list[str] = attrs.Factory(list)

    def merge(self, chunk: list[str], value: dict[str, int]) -> None:
        # send() has checked the counts: ints, >= 0, at most len(chunk) in all.
        self.created += value["created"]
        self.skipped += value["skipped"]


@attrs.define
class _UnlinkTotals:
    deleted: int = 0
    warnings: list[str] = attrs.Factory(list)

    def merge(self, chunk: list[str], value: dict[str, int]) -> None:
        self.deleted += value["deleted"]


@attrs.define
class ProjectsResource:
    """Entity links of projects (``/v1/projects/{project_id}/entities/...``)."""

    _http: HTTPSession

    async def link(
        self,
        project_id: str | uuid.UUID,
        entity_type: EntityType | str,
        ids: IdSource,
        *,
        chunk_size: int = LINK_CHUNK_LIMIT,
        max_concurrency: int | None = None,
        on_progress: ProgressCallback | None = None,
        low_memory: bool = False,
    ) -> LinkReport:
        """Link entities to a project by id, in chunks of at most 100.

        ``ids`` is any iterable or async iterable of ``str`` / ``uuid.UUID``;
        a stream is read lazily.  Already-linked ids count as ``skipped``.
        ``low_memory`` detects duplicates only within a chunk, so memory
        does not grow with the stream.  Raises ``BulkOperationError`` on
        401/403/404-project (``.report`` has what completed).
        """
        totals = _LinkTotals()
        batch = await self._run(
            "link", project_id, entity_type, ids, totals, chunk_size, max_concurrency,
            on_progress, low_memory, ("created", "skipped"),
        )  # fmt: skip
        report = LinkReport(
            created=totals.created,
            skipped=totals.skipped,
            failed_ids=tuple(batch.failed_ids),
            invalid_ids=tuple(batch.invalid_ids),
            duplicate_count=batch.duplicate_count,
            errors=tuple(batch.errors),
            requests=batch.requests,
            retries=batch.retries,
            retried_chunks=tuple(batch.retried_chunks),
            warnings=tuple(totals.warnings),
        )
        batch.raise_if_aborted(report, "link")
        return report

    async def unlink(
        self,
        project_id: str | uuid.UUID,
        entity_type: EntityType | str,
        ids: IdSource,
        *,
        chunk_size: int = LINK_CHUNK_LIMIT,
        max_concurrency: int | None = None,
        on_progress: ProgressCallback | None = None,
        low_memory: bool = False,
    ) -> UnlinkReport:
        """Remove links between a project and entities, in chunks of at most 100.

        The entities themselves stay.  Ids that were not linked are simply
        not counted in ``deleted``.  Same inputs, limits and abort rules as
        ``link``.
        """
        totals = _UnlinkTotals()
        batch = await self._run(
            "unlink", project_id, entity_type, ids, totals, chunk_size, max_concurrency,
            on_progress, low_memory, ("deleted",),
        )  # fmt: skip
        report = UnlinkReport(
            deleted=totals.deleted,
            failed_ids=tuple(batch.failed_ids),
            invalid_ids=tuple(batch.invalid_ids),
            duplicate_count=batch.duplicate_count,
            errors=tuple(batch.errors),
            requests=batch.requests,
            retries=batch.retries,
            retried_chunks=tuple(batch.retried_chunks),
            warnings=tuple(totals.warnings),
        )
        batch.raise_if_aborted(report, "unlink")
        return report

    async def _run(
        self,
        action: str,
        project_id: str | uuid.UUID,
        entity_type: EntityType | str,
        ids: IdSource,
        totals: _LinkTotals | _UnlinkTotals,
        chunk_size: int,
        max_concurrency: int | None,
        on_progress: ProgressCallback | None,
        low_memory: bool,
        fields: tuple[str, ...],
    ) -> BatchResult:
        # Every argument is checked before the first request goes out.
        path = f"/v1/projects/{check_path_id('project_id', project_id)}/entities/{action}"
        kind = coerce_entity_type(entity_type).value
        check_chunk_size(chunk_size, LINK_CHUNK_LIMIT)
        concurrency = check_concurrency(max_concurrency, self._http.config.max_concurrency)
        http = self._http

        async def send(chunk: list[str]) -> ChunkReply[dict[str, int]]:
            response = await http.request(
                "POST", path, json={"entity_type": kind, "entity_ids": chunk}
            )
            try:
                counts = expect_int_fields(response, *fields)
                counted = sum(counts.values())
                if counted > len(chunk):
                    # Impossible: which ids the answer covers is unknowable, so
                    # the chunk fails (link and unlink are safe to run again).
                    raise InvalidResponseError(
                        response.status,
                        None,
                        f"the answer counts {counted} ({' + '.join(fields)}) for a chunk"
                        f" of {len(chunk)} ids",
                        str(response.data)[:500],
                    )
            except InvalidResponseError as exc:
                exc.attempts = response.attempts
                exc.unknown_outcome = response.unknown_outcome
                raise
            return ChunkReply(counts, response.attempts, response.unknown_outcome)

        return await run_batches(
            ids,
            chunk_size=chunk_size,
            concurrency=concurrency,
            send=send,
            merger=totals,
            is_fatal=_is_fatal_for_project,
            on_progress=on_progress,
            low_memory=low_memory,
        )

    async def link_by_filters(
        self,
        project_id: str | uuid.UUID,
        entity_type: EntityType | str,
        filters: LinkFilters | dict[str, Any] | None = None,
    ) -> LinkByFiltersResult:
        """Link every entity of a type that matches ``filters`` (one request).

        ``filters`` is a dict or the typed filter object of that entity type
        (e.g. ``InvoicesFilters``); ``None`` or ``{}`` links them all.  An
        unknown key or a wrong type raises ``InvalidFiltersError`` listing
        the allowed keys, before any request.
        """
        path = f"/v1/projects/{check_path_id('project_id', project_id)}/entities/link-by-filters"
        kind = coerce_entity_type(entity_type)
        typed = link_filters_for(kind, filters)
        response = await self._http.request(
            "POST", path, json={"entity_type": kind.value, "filters": link_filters_body(typed)}
        )
        values = expect_int_fields(response, "created", "skipped")
        return LinkByFiltersResult(created=values["created"], skipped=values["skipped"])
