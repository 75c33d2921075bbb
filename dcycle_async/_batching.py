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
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
)
from itertools import islice
from typing import Any, Final, Generic, Protocol, TypeVar

import anyio
import attrs

from ._errors import BulkOperationError
from ._models import ChunkError, Progress, RetriedChunk
from ._uuids import canonical_uuid

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
# From this many ids seen, a batch is deduplicated through a set of its own
# (see IdNormaliser.feed); below it, the seen set fits in the CPU caches and
# inserting the list directly is as fast.  Measured crossover: ~128k.
_MERGE_FROM: Final = 1 << 17
# Sized inputs and iterators are normalised in steps of at most this many
# ids (a few ms of CPU each): the longest a worker whose answer has arrived
# waits while the read-ahead works.
_STEP: Final = 8192
# An event-loop iteration shorter than this ran nothing but the read-ahead's
# own wake-up: the loop is idle (every request is waiting for the server).
# Measured on a 2-core VM: ~2 us idle, 30-300 us when it reads a 256 KiB
# slice of an answer.
_QUIET_ITERATION: Final = 20e-6
# At most this many iterations are yielded to other work between two
# read-ahead steps, so a loop that is never quiet still gets its chunks.
_MAX_POLITE_YIELDS: Final = 64


async def _yield_to_io(urgent: Callable[[], bool]) -> None:
    """Yield until an event-loop iteration passes with nothing else to run.

    The read-ahead is CPU work that may wait; a large request or answer
    moves only one socket read or write per loop iteration, so running a
    step of normalisation in every iteration would slow each transfer down
    many times over.  Yields just once while ``urgent()`` (a worker waits
    for a chunk: it takes it in that iteration).
    """
    loop = asyncio.get_running_loop()
    for _ in range(_MAX_POLITE_YIELDS):
        started = loop.time()
        await asyncio.sleep(0)
        if urgent() or loop.time() - started < _QUIET_ITERATION:
            return


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
        # Strict: uuid.UUID() alone would read "0x..." or fullwidth digits
        # as some other UUID (see _uuids).
        return canonical_uuid(value)
    raise TypeError(
        f"ids must be str or uuid.UUID, got {type(value).__name__}: {_short_repr(value)}"
    )


def _all_canonical(batch: list[Any], *, str_only: bool = False) -> bool:
    """True when every item is an exact ``str`` in canonical lower-case UUID form.

    The same answer as ``type(v) is str and _CANONICAL.fullmatch(v)`` for
    every item, about ten times faster: "\\n" cannot occur inside a
    canonical id, so a joined block has the expected shape only if each of
    its ids has.  ``str_only``: the caller has checked that every item is an
    exact str (the type check is skipped).
    """
    shape, table, width, exact_str = _BLOCK_SHAPE, _SHAPE_TABLE, len(_ONE_SHAPE), _STR_ONLY
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
            or (not str_only and set(map(type, block)) != exact_str)
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
    # Every list feed() returned since _seen was last empty, kept while no
    # canonical batch has repeated an id (None after one has): what an
    # optimistic insert into _seen is undone with.
    _emitted: list[list[str]] | None = attrs.Factory(list)

    def feed(self, values: Iterable[Any], *, str_only: bool = False) -> list[str]:
        """Normalise ``values``; return the ids not seen before, in input order.

        A list may be returned as is (not copied) when all of it is new.
        ``str_only``: the caller has checked that every value is an exact str.
        """
        batch = values if values.__class__ is list else list(values)
        if _all_canonical(batch, str_only=str_only):
            # The common case, a batch of canonical strings: dedupe with set
            # operations in C instead of a Python loop over the ids.
            seen = self._seen
            fresh: list[str] | set[str] = batch
            if len(seen) >= _MERGE_FROM:
                # _seen has outgrown the CPU caches: make the batch a set of
                # its own first (small, cached), then merge it.  The merge
                # reuses the hashes and does nothing per id but probe _seen's
                # table, several probes in flight at once: about 30 % less
                # time than inserting the list directly, at a million ids.
                fresh = set(batch)
                if len(fresh) != len(batch):
                    fresh = []  # duplicates within the batch: the slow path
            if fresh:
                before = len(seen)
                emitted = self._emitted
                if emitted is not None:
                    # Optimistic, as ids rarely repeat: one pass inserts the
                    # batch (checking first with isdisjoint() doubled the cost
                    # of deduplication, the largest per-id cost of a delete).
                    seen.update(fresh)
                    if len(seen) - before == len(batch):
                        emitted.append(batch)
                        return batch
                    self._undo(fresh)
                    self._emitted = None
                elif seen.isdisjoint(fresh):
                    seen.update(fresh)
                    if len(seen) - before == len(batch):
                        return batch
                    # Duplicates within the batch: undo, and take the slow path.
                    seen.difference_update(fresh)
        out = self._feed_each(batch)
        if self._emitted is not None:
            self._emitted.append(out)
        return out

    def _undo(self, batch: list[str] | set[str]) -> None:
        """Take back an optimistic insert: _seen then holds what was emitted before."""
        seen = self._seen
        seen.difference_update(batch)
        # That also removed the batch's ids emitted earlier: put those back.
        ids = batch if isinstance(batch, set) else set(batch)
        for out in self._emitted or ():
            seen.update(ids.intersection(out))

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

    def release(self) -> None:
        """Forget the ids seen: the input is exhausted, nothing more will be fed.

        Freeing a set of millions of ids takes tens of ms; run_batches does
        it while the last requests are in flight rather than after them.
        """
        self._seen = set()
        self._emitted = []

    def start_chunk(self) -> None:
        """In per-chunk mode, forget the ids seen so far (a new chunk begins)."""
        if self.per_chunk:
            self._seen = set()
            self._emitted = []

    def _invalid(self, value: Any) -> None:
        if value in self._seen_invalid:
            self.duplicate_count += 1
        else:
            self._seen_invalid.add(value)
            self.invalid_ids.append(value)


def _check_types(values: list[Any]) -> bool:
    """Raise TypeError for the first value that is neither a str nor a UUID.

    One C-level pass over the types (no per-id Python code), so that a
    wrong-typed id anywhere in a list fails before any request although the
    list is normalised chunk by chunk.  True when every value is an exact str.
    """
    # Last to first: the ids read first are then the ones still in the CPU
    # caches when normalisation starts (a few ms sooner to the first requests).
    types = set(map(type, reversed(values)))
    if types <= _STR_ONLY:
        return True
    for cls in types:
        if not issubclass(cls, str | uuid.UUID):
            normalise_id(next(v for v in values if type(v) is cls))  # raises
    return False


class _ChunkSource:
    """Reads the input lazily and hands out chunks of unique, valid ids.

    Ids are normalised (validated, deduplicated against every id before
    them) a step at a time, as chunks are needed or shortly before, by the
    read-ahead: the first request leaves after one chunk's worth of work,
    not the whole input's.  A sized collection is type-checked at once, so a
    wrong-typed id still fails before any request; its total is known once
    it is fully normalised (``normalise_all``, done first when progress is
    reported).  An iterator or async iterator is read one chunk's worth at
    a time, so memory stays bounded by chunk_size x concurrency however long
    the stream is.  A list is read in place: it must not change during the
    operation.
    """

    def __init__(
        self,
        ids: IdSource,
        chunk_size: int,
        normaliser: IdNormaliser,
        *,
        eager: bool = False,
    ) -> None:
        if isinstance(ids, str | bytes | bytearray):
            raise TypeError(
                "ids must be an iterable of ids, not a single str/bytes"
                " (wrap one id in a list: [id])"
            )
        if isinstance(ids, Mapping):
            # Iterating would silently take the keys: say which part is meant.
            raise TypeError(
                f"ids must be an iterable of ids, not a mapping ({type(ids).__name__});"
                " pass list(d) or d.values() explicitly"
            )
        self._chunk_size = chunk_size
        self._normaliser = normaliser
        self._seq: list[Any] | None = None
        self._seq_pos = 0
        self._str_only = False
        self._iter: Iterator[Any] | None = None
        self._aiter: AsyncIterator[Any] | None = None
        # Normalised ids: full chunks not handed out yet, and the chunk being formed.
        self._ready: deque[list[str]] = deque()
        self._ready_ids = 0
        self._pending: list[str] = []
        # Raw values taken from a stream but not yet normalised: kept here,
        # not in a local, so a cancellation in the middle of a read loses none.
        self._raw: list[Any] = []
        self._exhausted = False
        self.total: int | None = None
        if isinstance(ids, AsyncIterable):
            self._aiter = aiter(ids)
        elif isinstance(ids, Collection):
            self._seq = ids if isinstance(ids, list) else list(ids)
            self._str_only = _check_types(self._seq)
            if eager and not normaliser.per_chunk:
                self.normalise_all()
        elif isinstance(ids, Iterable):
            self._iter = iter(ids)
        else:
            raise TypeError(
                f"ids must be an iterable or async iterable of ids, got {type(ids).__name__}"
            )

    @property
    def is_stream(self) -> bool:
        """True for an async iterable (read by ``next_chunk``, not ``take``)."""
        return self._aiter is not None

    @property
    def sized(self) -> bool:
        """True for a sized collection (read in place, so read-ahead costs no ids' memory)."""
        return self._seq is not None

    @property
    def exhausted(self) -> bool:
        """True once the whole input has been read."""
        return self._exhausted

    @property
    def chunks_total(self) -> int | None:
        """The number of chunks, when the total is known."""
        return None if self.total is None else math.ceil(self.total / self._chunk_size)

    @property
    def chunks_at_most(self) -> int | None:
        """An upper bound of the number of chunks, when the input is sized."""
        if self.total is not None:
            return self.chunks_total
        if self._seq is None:
            return None
        return math.ceil(len(self._seq) / self._chunk_size)

    def wants(self, ahead: int) -> bool:
        """True while fewer than ``ahead`` normalised ids wait and input remains."""
        return not self._exhausted and self._ready_ids + len(self._pending) < ahead

    def normalise_all(self) -> None:
        """Normalise the whole (sized) input now, so that the total is known."""
        while not self._exhausted:
            self.fill_step()
        self.total = self._ready_ids

    def fill_step(self) -> None:
        """Normalise one step of a sized input or iterator into the read-ahead."""
        size = self._chunk_size
        pending = self._pending
        normaliser = self._normaliser
        room = size - len(pending)
        if self._seq is not None:
            # Steps end where chunks do (no copying a chunk out of a longer
            # list), except that small chunks are read many to a step: per
            # call costs add up over 100-id chunks.  In per-chunk mode a step
            # stays within one chunk, its dedupe scope.
            small = size < _STEP and not normaliser.per_chunk
            count = _STEP if small else min(_STEP, room)
            start = self._seq_pos
            raw = self._seq[start : start + count]
            self._seq_pos = start + len(raw)
        else:
            assert self._iter is not None
            raw = list(islice(self._iter, min(_STEP, room)))
        if not raw:
            self._exhausted = True
            if pending:
                self._push(pending)
                self._pending = []
            return
        out = normaliser.feed(raw, str_only=self._str_only)
        if not pending and len(out) == size:
            self._push(out)  # the usual case: no copy
            return
        pending.extend(out)
        if len(pending) == size:
            self._push(pending)
            self._pending = []
            return
        while len(pending) >= size:
            self._push(pending[:size])
            del pending[:size]

    def _push(self, chunk: list[str]) -> None:
        self._ready.append(chunk)
        self._ready_ids += len(chunk)
        self._normaliser.start_chunk()

    @property
    def ready(self) -> bool:
        """True when a normalised chunk waits to be taken."""
        return bool(self._ready)

    def take(self) -> list[str] | None:
        """The next chunk of a sized input or iterator, or None when it is exhausted."""
        while not self._ready and not self._exhausted:
            self.fill_step()
        if not self._ready:
            return None
        chunk = self._ready.popleft()
        self._ready_ids -= len(chunk)
        return chunk

    async def next_chunk(self) -> list[str] | None:
        """The next chunk of an async stream (never empty), or None at its end."""
        size = self._chunk_size
        self._normaliser.start_chunk()
        buffer = self._pending
        while len(buffer) < size and not self._exhausted:
            raw = await self._read(size - len(buffer))
            if not raw:
                self._exhausted = True
                break
            buffer.extend(self._normaliser.feed(raw))
        self._pending = []
        return buffer or None

    async def _read(self, count: int) -> list[Any]:
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
        """Valid ids read but not handed out (reported as failed on abort).

        The rest of a sized input counts as read: it is normalised now.  An
        iterator or stream is not drained.
        """
        if self._seq is not None:
            while not self._exhausted:
                self.fill_step()
        unsent: list[str] = []
        for chunk in self._ready:
            unsent.extend(chunk)
        self._ready.clear()
        unsent.extend(self._pending)
        self._pending = []
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
        retried_chunks: chunks with an attempt of unknown outcome (retried
            after it, or failed for good with it among their attempts).
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
    # Progress reports the total from its first call: a sized input is then
    # normalised whole before the first request, as it cannot be otherwise.
    source = _ChunkSource(ids, chunk_size, normaliser, eager=on_progress is not None)
    result = BatchResult()
    # Every chunk read from the source is in in_flight until it is accounted for.
    in_flight: dict[int, list[str]] = {}
    # Indices of chunks whose request is out (send() called, not returned).
    sending: set[int] = set()
    chunks_failed = 0
    ids_done = 0
    next_index = 0
    # ``concurrency`` workers each take the next chunk when they are free: one
    # task per worker, not per chunk (spawning a task and acquiring a
    # semaphore per chunk cost ~20 us each, paid 10,000 times by a million-id
    # link).  Ids are normalised ahead of the workers, while they wait for
    # answers, so a free worker finds its next chunk ready: for a sized input
    # (read in place) up to one chunk per worker ahead, for an iterator one
    # chunk.  An async stream is read by one reader task that keeps at most
    # one chunk waiting for a free worker and reads the next one meanwhile.
    # Either way memory stays bounded by chunk_size x (concurrency + 2).
    stream = source.is_stream
    ahead = chunk_size * concurrency if source.sized else chunk_size
    wake = asyncio.Event()
    chunk_ready = asyncio.Event()
    waiting = 0  # workers waiting for the read-ahead
    handoff: asyncio.Queue[tuple[int, list[str]] | None] = asyncio.Queue(maxsize=1)
    chunks_at_most = source.chunks_at_most
    workers = concurrency if chunks_at_most is None else min(concurrency, chunks_at_most)

    async with anyio.create_task_group() as tg:

        def abort(exc: Exception) -> None:
            if result.aborted_by is None:
                result.aborted_by = exc
                tg.cancel_scope.cancel()

        async def take() -> tuple[int, list[str]] | None:
            nonlocal next_index, waiting
            if stream:
                chunk = await source.next_chunk()
            else:
                # Only the read-ahead normalises, one step per loop iteration:
                # several workers doing so at once would make every iteration
                # (each step of a connect, a write, a read) wait for all of them.
                while not source.ready and not source.exhausted:
                    wake.set()
                    chunk_ready.clear()
                    waiting += 1
                    try:
                        await chunk_ready.wait()
                    finally:
                        waiting -= 1
                chunk = source.take()
                if source.wants(ahead):
                    wake.set()
            if chunk is None:
                return None
            index = next_index
            next_index += 1
            in_flight[index] = chunk
            return index, chunk

        def starving() -> bool:
            return waiting > 0

        async def read_ahead() -> None:
            try:
                while not source.exhausted:
                    if source.wants(ahead):
                        source.fill_step()
                        if source.ready or source.exhausted:
                            chunk_ready.set()
                        await _yield_to_io(starving)
                    else:
                        wake.clear()
                        await wake.wait()
            except Exception as exc:
                # The input iterator failed.
                abort(exc)
                return
            await _yield_to_io(lambda: False)
            normaliser.release()

        async def reader() -> None:
            try:
                while True:
                    taken = await take()
                    await handoff.put(taken)
                    if taken is None:
                        break
            except Exception as exc:
                # The input stream failed.
                abort(exc)
                return
            await _yield_to_io(lambda: False)
            normaliser.release()

        async def next_taken() -> tuple[int, list[str]] | None:
            if not stream:
                return await take()
            taken = await handoff.get()
            if taken is None:
                handoff.put_nowait(None)  # for the other workers
            return taken

        async def run_chunk(index: int, chunk: list[str]) -> bool:
            """Send one chunk and account for it; False when the run is aborted."""
            nonlocal chunks_failed, ids_done
            sending.add(index)
            try:
                reply = await send(chunk)
            except Exception as exc:
                sending.discard(index)
                if is_fatal(exc):
                    if getattr(exc, "unknown_outcome", False):
                        result.retried_chunks.append(
                            RetriedChunk(index, chunk, getattr(exc, "attempts", 1))
                        )
                    abort(exc)
                    return False
                attempts: int = getattr(exc, "attempts", 1)
                result.requests += attempts
                result.retries += attempts - 1
                if getattr(exc, "unknown_outcome", False):
                    # An attempt may have been applied: flag it as
                    # for a retried chunk, for reconciliation.
                    result.retried_chunks.append(RetriedChunk(index, chunk, attempts))
                result.errors.append(ChunkError(chunk, exc, index))
                result.failed_ids.extend(chunk)
                chunks_failed += 1
            else:
                sending.discard(index)
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
            return True

        async def worker() -> None:
            while result.aborted_by is None:
                try:
                    taken = await next_taken()
                    if taken is None:
                        return
                    go_on = await run_chunk(*taken)
                    # Not kept while the next chunk is awaited: a worker of a
                    # read-bound run waits most of the time, and the chunk
                    # done (its ids, its answer) would stay alive meanwhile.
                    taken = None
                    if not go_on:
                        return
                except Exception as exc:
                    # The input, the merger or on_progress failed.
                    abort(exc)
                    return

        if stream:
            tg.start_soon(reader)
        elif workers:
            tg.start_soon(read_ahead)
        for _ in range(workers):
            tg.start_soon(worker)

    if result.aborted_by is not None:
        for index in sorted(sending):
            # Cancelled while its request was out: the server may have
            # applied it, so it is flagged for reconciliation like a chunk
            # whose answer was lost.
            result.retried_chunks.append(RetriedChunk(index, in_flight[index], 1))
        for chunk in in_flight.values():
            result.failed_ids.extend(chunk)
        result.failed_ids.extend(source.unsent())
    result.invalid_ids = normaliser.invalid_ids
    result.duplicate_count = normaliser.duplicate_count
    return result
