"""What transports and vehicles share: bulk delete, list, iterate, delete by filters."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Callable, Mapping
from functools import partial
from typing import Any, Final, Generic, TypeVar

import attrs
import cattrs
import orjson

from .._batching import (
    DELETE_CHUNK_LIMIT,
    ChunkReply,
    IdSource,
    ProgressCallback,
    check_chunk_size,
    check_concurrency,
    run_batches,
)
from .._converters import converter
from .._errors import FilterHashMismatchError, InvalidFiltersError, InvalidResponseError
from .._filters import encode_query, is_empty
from .._http import HTTPSession
from .._models import BulkDeleteReport, DeletePreview, Page
from ._common import (
    DeleteTotals,
    check_path_id,
    decode_delete_answer,
    delete_report,
    is_fatal,
    query_items,
    single_answer_report,
)

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "RecordsResource"]

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 100
DEFAULT_PREVIEW_SAMPLE: Final = 10

T = TypeVar("T")
F = TypeVar("F")

_HASH_GUARD: Final = {409: FilterHashMismatchError}
# A module-level alias: inside the class, "list" names the list() method.
_Pairs = list[tuple[str, str]]
_Fields = list[str] | tuple[str, ...]


def _record(raw: Any, item_type: type[T]) -> T:
    """One list item as a model; it must be an object with a non-empty string id.

    cattrs alone would turn ``"id": null`` into the string ``"None"`` (and a
    number into its str), which a pipeline would then feed to a delete.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"an item is not an object: {raw!r}"[:200])
    record_id = raw.get("id")
    if not isinstance(record_id, str) or not record_id:
        raise ValueError(f"an item has no string id: {record_id!r}"[:200])
    return converter.structure(raw, item_type)


def _count(data: Mapping[str, Any], key: str, default: int) -> int:
    """A non-negative int field of a list answer (bools, floats and strings refused)."""
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key!r} is not a non-negative int: {value!r}"[:200])
    return value


def _check_page(page: int, size: int) -> None:
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValueError(f"page must be an int >= 1, got {page!r}")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"size must be an int between 1 and {MAX_PAGE_SIZE}, got {size!r}")


def _sort_params(sort: str | tuple[str, ...] | list[str] | None) -> _Pairs:
    if sort is None:
        return []
    fields = [sort] if isinstance(sort, str) else list(sort)
    if not all(isinstance(f, str) and f.strip("-") for f in fields):
        raise ValueError(f"sort must be a field name or a list of them, got {sort!r}")
    return [("sort", f) for f in fields]


@attrs.define
class RecordsResource(Generic[T, F]):
    """A record type with bulk delete, listing and delete-by-filters.

    Subclasses name the path, the id key of the bulk-delete body, the item
    model and the filter coercion; everything else is shared so that the
    list call and the delete-by-filters call always encode filters alike.
    """

    _http: HTTPSession
    _path: str = attrs.field(alias="path")
    _ids_key: str = attrs.field(alias="ids_key")
    _item_type: type[T] = attrs.field(alias="item_type")
    _coerce: Callable[[Any], F] = attrs.field(alias="coerce")

    async def bulk_delete(
        self,
        ids: IdSource,
        *,
        chunk_size: int = DELETE_CHUNK_LIMIT,
        max_concurrency: int | None = None,
        on_progress: ProgressCallback | None = None,
        low_memory: bool = False,
    ) -> BulkDeleteReport:
        """Delete records by id, in chunks of at most 100,000, concurrently.

        ``ids`` is any iterable or async iterable of ``str`` / ``uuid.UUID``;
        a stream is read lazily.  Unknown or other-organisation ids come back
        in ``failed_ids``.  With ``low_memory=True``, ``success_ids`` is not
        collected (only ``success_count``) and duplicates are detected only
        within a chunk: memory then stays bounded by chunk_size x concurrency
        for streams of any length.  Raises ``BulkOperationError`` on 401/403/404.
        """
        check_chunk_size(chunk_size, DELETE_CHUNK_LIMIT)
        concurrency = check_concurrency(max_concurrency, self._http.config.max_concurrency)
        totals = DeleteTotals(collect_success_ids=not low_memory)
        http, path, key = self._http, self._path + "/bulk-delete", self._ids_key
        # The body is {"<key>":[ids]}: its id array starts after this prefix.
        array_at = len(orjson.dumps({key: None})) - len(b"null}")

        async def send(chunk: list[str]) -> ChunkReply[tuple[list[str], list[str]]]:
            body = orjson.dumps({key: chunk})
            # The answer's success_ids are compared with the array as sent
            # (see decode_delete_answer), not decoded.
            sent = memoryview(body)[array_at:-1]
            decode = partial(decode_delete_answer, sent=sent)
            response = await http.request("POST", path, content=body, decode=decode)
            try:
                answer = DeleteTotals.parse(response, chunk)
            except InvalidResponseError as exc:
                # The chunk failed after these attempts, maybe after applying.
                exc.attempts = response.attempts
                exc.unknown_outcome = response.unknown_outcome
                raise
            return ChunkReply(answer, response.attempts, response.unknown_outcome)

        batch = await run_batches(
            ids,
            chunk_size=chunk_size,
            concurrency=concurrency,
            send=send,
            merger=totals,
            is_fatal=is_fatal,
            on_progress=on_progress,
            low_memory=low_memory,
        )
        report = delete_report(totals, batch)
        batch.raise_if_aborted(report, "bulk delete")
        return report

    async def delete(self, record_id: str | uuid.UUID) -> None:
        """Delete one record by id (raises ``NotFoundError`` if it does not exist)."""
        await self._http.request("DELETE", f"{self._path}/{check_path_id('id', record_id)}")

    def _query(self, filters: F) -> _Pairs:
        return encode_query(filters, array_style=self._http.config.array_style)  # type: ignore[arg-type]

    async def list(
        self,
        filters: F | Mapping[str, Any] | None = None,
        *,
        page: int = 1,
        size: int = DEFAULT_PAGE_SIZE,
        sort: str | _Fields | None = None,
    ) -> Page[T]:
        """One page of records matching ``filters``, with ``total`` and ``filter_hash``.

        ``filters`` is a dict or the typed filter object; unknown keys or
        wrong types raise ``InvalidFiltersError`` before any request.
        ``size`` is at most 100 (the API's limit).
        """
        typed = self._coerce(filters)
        _check_page(page, size)
        return await self._list_page(typed, page, size, _sort_params(sort))

    async def _list_page(self, typed: F, page: int, size: int, sort: _Pairs) -> Page[T]:
        params = [*self._query(typed), *sort, ("page", str(page)), ("size", str(size))]
        response = await self._http.request("GET", self._path, params=params)
        data = query_items(response.data)
        try:
            items = tuple(_record(item, self._item_type) for item in data["items"])
            filter_hash = data.get("filter_hash")
            if filter_hash is not None and not isinstance(filter_hash, str):
                raise ValueError(f"filter_hash is not a string: {filter_hash!r}"[:200])
            pages = data.get("pages")
            return Page(
                items=items,
                total=_count(data, "total", len(items)),
                page=_count(data, "page", page),
                size=_count(data, "size", size),
                filter_hash=filter_hash,
                pages=None if pages is None else _count(data, "pages", 0),
            )
        except (TypeError, ValueError, KeyError, AttributeError, cattrs.BaseValidationError) as exc:
            # cattrs reports a wrong-typed field as an ExceptionGroup: its
            # message alone says little, so name the group's first cause.
            cause = exc.exceptions[0] if isinstance(exc, cattrs.BaseValidationError) else exc
            raise InvalidResponseError(
                response.status, None, f"the list answer has an unexpected shape: {cause}"
            ) from exc

    async def iter(
        self,
        filters: F | Mapping[str, Any] | None = None,
        *,
        size: int = MAX_PAGE_SIZE,
        sort: str | _Fields | None = None,
    ) -> AsyncGenerator[T, None]:
        """Every record matching ``filters``, page after page, fetched lazily.

        Pages are requested one at a time as the loop consumes them.  Deleting
        matching records while iterating shifts later pages: collect ids
        first, or use ``bulk_delete_by_filters``.  It is an async generator:
        to stop early outside an ``async for``, close it (``aclose()``, or
        ``contextlib.aclosing``).
        """
        typed = self._coerce(filters)
        _check_page(1, size)
        sort_params = _sort_params(sort)
        page = 1
        while True:
            result = await self._list_page(typed, page, size, sort_params)
            for item in result.items:
                yield item
            if len(result.items) < size or page * size >= result.total:
                return
            page += 1

    async def preview_delete(
        self,
        filters: F | Mapping[str, Any],
        *,
        sample_size: int = DEFAULT_PREVIEW_SAMPLE,
    ) -> DeletePreview[T]:
        """Step one of a guarded delete: count, ``filter_hash`` and a sample.

        Refuses filters that select nothing in particular (``InvalidFiltersError``).
        Then call ``delete_previewed(preview)``.
        """
        typed = self._require_filters(filters)
        _check_page(1, sample_size)
        page = await self._list_page(typed, 1, sample_size, [])
        if not page.filter_hash:
            raise InvalidResponseError(200, None, "the list answer carried no filter_hash")
        return DeletePreview(
            filters=typed, total=page.total, filter_hash=page.filter_hash, sample=page.items
        )

    async def delete_previewed(self, preview: DeletePreview[T]) -> BulkDeleteReport:
        """Step two: delete exactly what ``preview_delete`` counted.

        Raises ``FilterHashMismatchError`` if the server's filter_hash check
        fails (list again and retry).
        """
        return await self.bulk_delete_by_filters(preview.filters, filter_hash=preview.filter_hash)

    async def bulk_delete_by_filters(
        self, filters: F | Mapping[str, Any], *, filter_hash: str
    ) -> BulkDeleteReport:
        """Delete every record matching ``filters``, guarded by ``filter_hash``.

        ``filter_hash`` comes from ``list()`` (or ``preview_delete()``) with the
        same filters; the filters are encoded by the same function as the
        list's, so the server sees the identical query.  Empty filters are
        refused client-side (they would delete everything).  A 409 raises
        ``FilterHashMismatchError``.
        """
        typed = self._require_filters(filters)
        if not isinstance(filter_hash, str) or not filter_hash.strip():
            raise ValueError("filter_hash is required: take it from list() with the same filters")
        response = await self._http.request(
            "POST",
            self._path + "/bulk-delete-by-filters",
            params=self._query(typed),
            json={"filter_hash": filter_hash},
            error_overrides=_HASH_GUARD,
        )
        return single_answer_report(response)

    def _require_filters(self, filters: F | Mapping[str, Any] | None) -> F:
        typed = self._coerce(filters)
        if is_empty(typed):  # type: ignore[arg-type]
            raise InvalidFiltersError(
                "refusing to delete by filters with no filter: that would delete every record"
                " (give at least one non-empty filter)"
            )
        return typed
