"""The batching layer: normalise ids, dedupe, validate, chunk, run, merge.

It knows nothing of HTTP.  A resource hands it a "send one chunk" coroutine
and a merger for the answers; this module guarantees that every unique
valid input id ends up in exactly one chunk, and every chunk is either merged
or recorded as failed.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import re
import uuid
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
)
from typing import Any, Final, Generic, Protocol, TypeVar

import anyio
import attrs

from ._errors import BulkOperationError
from ._models import ChunkError, Progress, RetriedChunk

__all__ = [
    "DELETE_CHUNK_LIMIT",
    "LINK_CHUNK_LIMIT",
    "BatchResult",
    "ChunkReply",
    "IdNormaliser",
    "IdSource",
    "Merger",
    "ProgressCallback",
    "check_chunk_size",
    "check_concurrency",
    "normalise_id",
    "run_batches",
]

LINK_CHUNK_LIMIT: Final = 100
"""The API's maximum of entity ids per link / unlink request."""
DELETE_CHUNK_LIMIT: Final = 100_000
"""The API's maximum of ids per transport / vehicle bulk-delete request."""

# The canonical form the API uses; anything else goes the slow way
# through uuid.UUID (upper case, braces, "urn:uuid:", no hyphens, UUID objects).
_CANONICAL: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MAX_REPR: Final = 60
# The batch check (``_all_canonical``): a block of ids joined by "\n", every
# byte mapped to its class (hex digit -> "x", "-" and "\n" kept, anything else
# -> NUL), must be a prefix of the shape of _BLOCK canonical ids.  A few
# C-level passes over a cache-sized block instead of one regex call per id.
_SHAPE_TABLE: Final = bytes(
    ord("x") if chr(b) in "0123456789abcdef" else b if chr(b) in "-\n" else 0 for b in range(256)
)
_ONE_SHAPE: Final = b"xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n"
_BLOCK: Final = 1024
_BLOCK_SHAPE: Final = _ONE_SHAPE * _BLOCK
_STR_ONLY: Final = frozenset({str})

R = TypeVar("R")
R_contra = TypeVar("R_contra", contravariant=True)

IdSource = Iterable[str | uuid.UUID] | AsyncIterable[str | uuid.UUID]
"""What the id-based operations accept: any iterable or async iterable of ids."""
ProgressCallback = Callable[[Progress], Awaitable[None] | None]
"""A plain or async callable that receives a ``Progress``."""


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 1] + "…"


def normalise_id(value: Any) -> str | None:
    """The canonical lower-case form of one id, or None if it is not a UUID.

    Raises TypeError for values that are neither ``str`` nor ``uuid.UUID``
    (None, bytes, numbers, nested lists): those are programming errors, not
    bad data, so they stop the operation instead of being reported.
    """
    if value.__class__ is str and _CANONICAL.fullmatch(value):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value.strip()))
        except ValueError:
            return None
    raise TypeError(
        f"ids must be str or uuid.UUID, got {type(value).__name__}: {_short_repr(value)}"
    )


def _all_canonical(batch: list[Any]) -> bool:
    """True when every item is an exact ``str`` in canonical lower-case UUID form.

    The same answer as ``type(v) is str and _CANONICAL.fullmatch(v)`` for
    every item, about ten times faster: "\\n" cannot occur inside a
    canonical id, so a joined block has the expected shape only if each of
    its ids has.
    """
    shape, table, width, str_only = _BLOCK_SHAPE, _SHAPE_TABLE, len(_ONE_SHAPE), _STR_ONLY
    for start in range(0, len(batch), _BLOCK):
        block = batch[start : start + _BLOCK]
        try:
            mapped = "\n".join(block).encode("ascii").translate(table)
        except (TypeError, UnicodeEncodeError):
            return False
        if (
            len(mapped) != width * len(block) - 1
            or not shape.startswith(mapped)
            # join() accepts str subclasses; the per-id path turns those into str.
            or set(map(type, block)) != str_only
        ):
            return False
    return True


def check_chunk_size(chunk_size: int, limit: int) -> int:
    """Validate a caller's chunk_size against the API's limit for the endpoint."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise TypeError(f"chunk_size must be an int, got {type(chunk_size).__name__}")
    if not 1 <= chunk_size <= limit:
        raise ValueError(
            f"chunk_size must be between 1 and {limit:,} (the API's limit for this endpoint),"
            f" got {chunk_size:,}"
        )
    return chunk_size


def check_concurrency(max_concurrency: int | None, default: int) -> int:
    """Validate a per-call max_concurrency (None = the client's)."""
    if max_concurrency is None:
        return default
    if (
        isinstance(max_concurrency, bool)
        or not isinstance(max_concurrency, int)
        or max_concurrency < 1
    ):
        raise ValueError(f"max_concurrency must be an int >= 1, got {max_concurrency!r}")
    return max_concurrency


@attrs.define
class IdNormaliser:
    """Turns raw inputs into unique canonical ids, setting aside the invalid.

    With ``per_chunk=True`` (low-memory mode) duplicates are only detected
    within one chunk, so memory does not grow with the length of a stream.
    """

    per_chunk: bool = False
    duplicate_count: int = 0
    invalid_ids: list[Any] = attrs.Factory(list)
    _seen: set[str] = attrs.Factory(set)
    _seen_invalid: set[Any] = attrs.Factory(set)

    def feed(self, values: Iterable[Any]) -> list[str]:
        """Normalise ``values``; return the ids not seen before, in input order."""
        batch = list(values)
        if _all_canonical(batch):
            # The common case, a batch of canonical strings: dedupe with set
            # operations in C instead of a Python loop over the ids.
            seen = self._seen
            before = len(seen)
            if not before or seen.isdisjoint(batch):
                seen.update(batch)
                if len(seen) - before == len(batch):
                    return batch
                # Duplicates within the batch: undo, and take the slow path.
                seen.difference_update(batch)
        return self._feed_each(batch)

    def _feed_each(self, values: Iterable[Any]) -> list[str]:
        seen = self._seen
        add = seen.add
        out: list[str] = []
        append = out.append
        match = _CANONICAL.fullmatch
        duplicates = 0
        for raw in values:
            # The fast path covers canonical strings: per-id work dominates at
            # a million ids, and uuid.UUID() costs as much as the HTTP work.
            if raw.__class__ is str and match(raw) is not None:
                value = raw
            else:
                normalised = normalise_id(raw)
                if normalised is None:
                    self._invalid(raw)
                    continue
                value = normalised
            if value in seen:
                duplicates += 1
                continue
            add(value)
            append(value)
        self.duplicate_count += duplicates
        return out

    def start_chunk(self) -> None:
        """In per-chunk mode, forget the ids seen so far (a new chunk begins)."""
        if self.per_chunk:
            self._seen = set()

    def _invalid(self, value: Any) -> None:
        if value in self._seen_invalid:
            self.duplicate_count += 1
        else:
            self._seen_invalid.add(value)
            self.invalid_ids.append(value)


class _ChunkSource:
    """Reads the input lazily and hands out chunks of unique, valid ids.

    A sized collection is normalised at once (so a wrong-typed id fails
    before any request and the total is known); an iterator or async
    iterator is read one chunk's worth at a time, so memory stays bounded
    by chunk_size x concurrency however long the stream is.
    """

    def __init__(self, ids: IdSource, chunk_size: int, normaliser: IdNormaliser) -> None:
        if isinstance(ids, str | bytes | bytearray):
            raise TypeError(
                "ids must be an iterable of ids, not a single str/bytes"
                " (wrap one id in a list: [id])"
            )
        self._chunk_size = chunk_size
        self._normaliser = normaliser
        self._ready: list[str] | None = None
        self._iter: Iterator[Any] | None = None
        self._aiter: AsyncIterator[Any] | None = None
        self._pos = 0
        self._buffer: list[str] = []
        # Raw values taken from a stream but not yet normalised: kept here,
        # not in a local, so a cancellation in the middle of a read loses none.
        self._raw: list[Any] = []
        self._exhausted = False
        self.total: int | None = None
        if isinstance(ids, AsyncIterable):
            self._aiter = aiter(ids)
        elif isinstance(ids, Collection) and not normaliser.per_chunk:
            self._ready = normaliser.feed(ids)
            self.total = len(self._ready)
        elif isinstance(ids, Iterable):
            self._iter = iter(ids)
        else:
            raise TypeError(
                f"ids must be an iterable or async iterable of ids, got {type(ids).__name__}"
            )

    @property
    def lazy(self) -> bool:
        """True when the input is read chunk by chunk (an iterator or a stream)."""
        return self._ready is None

    @property
    def chunks_total(self) -> int | None:
        """The number of chunks, when the input's size is known."""
        return None if self.total is None else math.ceil(self.total / self._chunk_size)

    async def next_chunk(self) -> list[str] | None:
        """The next chunk (never empty), or None when the input is exhausted."""
        size = self._chunk_size
        if self._ready is not None:
            start = self._pos
            if start >= len(self._ready):
                return None
            self._pos = start + size
            return self._ready[start : start + size]
        if self._normaliser.per_chunk:
            self._normaliser.start_chunk()
        buffer = self._buffer
        while len(buffer) < size and not self._exhausted:
            raw = await self._read(size - len(buffer))
            if not raw:
                self._exhausted = True
                break
            buffer.extend(self._normaliser.feed(raw))
        self._buffer = []
        return buffer or None

    async def _read(self, count: int) -> list[Any]:
        if self._iter is not None:
            raw: list[Any] = []
            append = raw.append
            for value in self._iter:
                append(value)
                if len(raw) >= count:
                    break
            return raw
        assert self._aiter is not None
        pending = self._raw
        while len(pending) < count:
            try:
                pending.append(await anext(self._aiter))
            except StopAsyncIteration:
                break
        self._raw = []
        return pending

    def unsent(self) -> list[str]:
        """Valid ids already read but not handed out (reported as failed on abort)."""
        if self._ready is not None:
            return self._ready[self._pos :]
        unsent = self._buffer
        raw, self._raw = self._raw, []
        for value in raw:
            try:
                unsent.extend(self._normaliser.feed([value]))
            except TypeError:
                # A wrong-typed value is what aborted the run; it is not an id.
                continue
        return unsent


@attrs.frozen
class ChunkReply(Generic[R]):
    """What a resource's send coroutine returns for one chunk.

    Attributes:
        value: the decoded answer, handed to the merger.
        attempts: HTTP attempts it took.
        unknown_outcome: a retry followed an attempt that may have been applied.
    """

    value: R
    attempts: int = 1
    unknown_outcome: bool = False


class Merger(Protocol[R_contra]):
    """Folds each successful chunk's answer into the running totals."""

    def merge(self, chunk: list[str], value: R_contra) -> None:
        """Account for one chunk's answer."""


@attrs.define
class BatchResult:
    """What the batching layer accounted for, besides the merger's totals.

    Attributes:
        failed_ids: ids of chunks that failed for good, and (after an abort)
            of chunks cancelled in flight or never sent.
        invalid_ids, duplicate_count: from normalisation.
        errors: the chunks that failed for good.
        requests, retries: HTTP attempts, and attempts beyond the first.
        retried_chunks: chunks retried after an unknown outcome.
        aborted_by: the exception that aborted the operation, if any.
        chunks_done: chunks that finished (either way).
    """

    failed_ids: list[str] = attrs.Factory(list)
    invalid_ids: list[Any] = attrs.Factory(list)
    duplicate_count: int = 0
    errors: list[ChunkError] = attrs.Factory(list)
    requests: int = 0
    retries: int = 0
    retried_chunks: list[RetriedChunk] = attrs.Factory(list)
    aborted_by: Exception | None = None
    chunks_done: int = 0

    def raise_if_aborted(self, report: Any, operation: str) -> None:
        """Raise ``BulkOperationError`` (cause chained) if the run was aborted."""
        if self.aborted_by is not None:
            cause = self.aborted_by
            raise BulkOperationError(
                f"{operation} aborted after {self.chunks_done} finished chunk(s):"
                f" {type(cause).__name__}: {cause}"
                f" ({len(self.failed_ids):,} id(s) not confirmed are in report.failed_ids)",
                report,
            ) from cause


async def _notify(callback: ProgressCallback | None, progress: Progress) -> None:
    if callback is None:
        return
    result = callback(progress)
    if inspect.isawaitable(result):
        await result


async def run_batches(
    ids: IdSource,
    *,
    chunk_size: int,
    concurrency: int,
    send: Callable[[list[str]], Awaitable[ChunkReply[R]]],
    merger: Merger[R],
    is_fatal: Callable[[Exception], bool],
    on_progress: ProgressCallback | None = None,
    low_memory: bool = False,
) -> BatchResult:
    """Run ``send`` over every chunk of ``ids``, at most ``concurrency`` at once.

    Successful answers go to ``merger``; a chunk whose ``send`` raises is
    recorded in ``errors`` (its ids in ``failed_ids``) unless ``is_fatal``
    says the error dooms every chunk: then in-flight chunks are cancelled
    and the result's ``aborted_by`` is set, with every id not confirmed in
    ``failed_ids``.  An exception from ``on_progress``, the merger or the
    input stream aborts the same way.  Cancelling the caller cancels every
    chunk and propagates.
    """
    normaliser = IdNormaliser(per_chunk=low_memory)
    source = _ChunkSource(ids, chunk_size, normaliser)
    result = BatchResult()
    # Every chunk read from the source is in in_flight until it is accounted for.
    in_flight: dict[int, list[str]] = {}
    chunks_failed = 0
    ids_done = 0
    next_index = 0
    # ``concurrency`` workers each take the next chunk when they are free: one
    # task per worker, not per chunk (spawning a task and acquiring a
    # semaphore per chunk cost ~20 us each, paid 10,000 times by a million-id
    # link).  A lazy source (iterator, stream) is read by one reader task that
    # keeps at most one chunk waiting for a free worker and reads the next one
    # meanwhile: memory stays bounded by chunk_size x (concurrency + 2).
    lazy = source.lazy
    handoff: asyncio.Queue[tuple[int, list[str]] | None] = asyncio.Queue(maxsize=1)
    chunks_total = source.chunks_total
    workers = concurrency if chunks_total is None else min(concurrency, chunks_total)

    async with anyio.create_task_group() as tg:

        def abort(exc: Exception) -> None:
            if result.aborted_by is None:
                result.aborted_by = exc
                tg.cancel_scope.cancel()

        async def take() -> tuple[int, list[str]] | None:
            nonlocal next_index
            chunk = await source.next_chunk()
            if chunk is None:
                return None
            index = next_index
            next_index += 1
            in_flight[index] = chunk
            return index, chunk

        async def reader() -> None:
            try:
                while True:
                    taken = await take()
                    await handoff.put(taken)
                    if taken is None:
                        return
            except Exception as exc:
                # The input stream failed.
                abort(exc)

        async def next_taken() -> tuple[int, list[str]] | None:
            if not lazy:
                return await take()
            taken = await handoff.get()
            if taken is None:
                handoff.put_nowait(None)  # for the other workers
            return taken

        async def worker() -> None:
            nonlocal chunks_failed, ids_done
            while result.aborted_by is None:
                try:
                    taken = await next_taken()
                    if taken is None:
                        return
                    index, chunk = taken
                    try:
                        reply = await send(chunk)
                    except Exception as exc:
                        if is_fatal(exc):
                            abort(exc)
                            return
                        attempts: int = getattr(exc, "attempts", 1)
                        result.requests += attempts
                        result.retries += attempts - 1
                        result.errors.append(ChunkError(chunk, exc, index))
                        result.failed_ids.extend(chunk)
                        chunks_failed += 1
                    else:
                        result.requests += reply.attempts
                        result.retries += reply.attempts - 1
                        if reply.unknown_outcome:
                            result.retried_chunks.append(RetriedChunk(index, chunk, reply.attempts))
                        merger.merge(chunk, reply.value)
                    del in_flight[index]
                    result.chunks_done += 1
                    ids_done += len(chunk)
                    if on_progress is not None:
                        await _notify(
                            on_progress,
                            Progress(
                                ids_done=ids_done,
                                ids_total=source.total,
                                chunks_done=result.chunks_done,
                                chunks_failed=chunks_failed,
                                chunks_total=source.chunks_total,
                            ),
                        )
                except Exception as exc:
                    # The input, the merger or on_progress failed.
                    abort(exc)
                    return

        if lazy:
            tg.start_soon(reader)
        for _ in range(workers):
            tg.start_soon(worker)

    if result.aborted_by is not None:
        for chunk in in_flight.values():
            result.failed_ids.extend(chunk)
        result.failed_ids.extend(source.unsent())
    result.invalid_ids = normaliser.invalid_ids
    result.duplicate_count = normaliser.duplicate_count
    return result
