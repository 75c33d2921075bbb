"""Ids from a file or stdin, streamed; filters from ``--filter`` and ``--filters-json``."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import itertools
import json
import os
import threading
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Generator,
    Iterator,
    Mapping,
    Sequence,
)
from typing import Any, Final, TextIO

import attrs

from .._batching import IdNormaliser
from .._errors import InvalidFiltersError
from ._common import CliError, in_daemon_thread

__all__ = ["IdInput", "IdsCheck", "check_ids", "parse_filters"]

# Lines are read in a worker thread, this many at a time: one thread hop per
# batch keeps the event loop free (a slow stdin pipe never stalls requests in
# flight) at a cost that vanishes against the per-id work.
_BATCH_LINES: Final = 10_000
_BYTES_HINT: Final = 1 << 20
_BOM: Final = "\ufeff"
_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off"})


@attrs.define
class IdInput:
    """Where a command's ids come from: a file, or stdin (``-``).

    Plain input is one id per line; with ``column`` it is CSV with a header
    line, and the ids are that column's values.  Lines are stripped and
    blank ones skipped.  Nothing is loaded whole: ``stream()`` yields ids as
    the library asks for chunks.
    """

    path: str | None
    column: str | None = None
    delimiter: str = ","
    stdin: TextIO | None = None
    _stdin_index: int | None = attrs.field(default=None, init=False)

    @property
    def from_stdin(self) -> bool:
        """True when the ids are read from stdin."""
        return self.path is None

    @property
    def label(self) -> str:
        """How to name the source in messages."""
        return "stdin" if self.path is None else self.path

    async def check(self) -> None:
        """Fail early (exit 2) if the file cannot be read or the CSV lacks the column.

        For CSV on stdin the header line is read here, before any request,
        so a wrong ``--column`` is a usage error rather than an aborted run.
        """
        if self.path is None:
            if self.column is not None:
                stdin = self.stdin
                assert stdin is not None, "an IdInput for stdin needs the stream"
                self._stdin_index = await in_daemon_thread(lambda: self._column_index(stdin))
            return
        self._check_file()

    def _check_file(self) -> None:
        assert self.path is not None
        if os.path.isdir(self.path):
            raise CliError(f"{self.path} is a directory, not a file of ids")
        try:
            with self._open_file() as handle:
                if self.column is not None:
                    self._column_index(handle)
        except OSError as exc:
            raise CliError(f"cannot read {self.path}: {exc.strerror or exc}") from None

    def count(self) -> int:
        """Non-blank data lines of the file (a cheap first pass; not for stdin).

        With ``column``, the header line is not counted.  This is the number
        of ids read, before duplicates and invalid ids are set aside.
        """
        if self.path is None:
            raise ValueError("stdin cannot be counted ahead")
        lines = 0
        try:
            with open(self.path, "rb") as handle:
                for line in handle:
                    if line.strip():
                        lines += 1
        except OSError as exc:
            raise CliError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        if self.column is not None and lines:
            lines -= 1
        return lines

    async def stream(self) -> AsyncGenerator[str, None]:
        """The ids, one at a time, read lazily in batches by a background thread."""
        first = True
        async for batch in _batches_in_thread(self._batches):
            if first and batch[0].startswith(_BOM):
                # A byte-order mark (stdin in text mode does not drop it).
                batch[0] = batch[0][1:].strip()
            first = False
            for value in batch:
                if value:
                    yield value

    def _batches(self) -> Generator[list[str], None, None]:
        """Batches of stripped, non-blank values (runs in the reader thread)."""
        if self.path is None:
            assert self.stdin is not None, "an IdInput for stdin needs the stream"
            yield from self._read(self.stdin, self._stdin_index)
            return
        with self._open_file() as handle:
            index = self._column_index(handle) if self.column is not None else None
            yield from self._read(handle, index)

    def _read(self, handle: TextIO, index: int | None) -> Iterator[list[str]]:
        if self.column is None:
            while lines := handle.readlines(_BYTES_HINT):
                out = [s for s in (line.strip() for line in lines) if s]
                if out:
                    yield out
            return
        assert index is not None
        rows = csv.reader(handle, delimiter=self.delimiter)
        while batch := list(itertools.islice(rows, _BATCH_LINES)):
            out = [
                s for s in (row[index].strip() if len(row) > index else "" for row in batch) if s
            ]
            if out:
                yield out

    def _column_index(self, handle: TextIO) -> int:
        """Read the header line and find the column (exit 2 if it is missing)."""
        header_line = ""
        for line in handle:
            if line.strip():
                header_line = line
                break
        header = [
            h.strip().lstrip(_BOM).strip() for h in _split_header(header_line, self.delimiter)
        ]
        if self.column in header:
            return header.index(self.column)
        shown = ", ".join(repr(h) for h in header[:20]) or "none (the input is empty)"
        raise CliError(
            f"no column {self.column!r} in the CSV header of {self.label}; columns: {shown}"
        )

    def _open_file(self) -> TextIO:
        assert self.path is not None
        # utf-8-sig drops a byte-order mark; undecodable bytes become U+FFFD so a
        # stray byte makes one id invalid (and reported) instead of the run fail.
        return open(self.path, encoding="utf-8-sig", errors="replace", newline="")


async def _batches_in_thread(
    produce: Callable[[], Generator[list[str], None, None]],
) -> AsyncIterator[list[str]]:
    """The batches of ``produce()``, read in a daemon thread one batch ahead.

    Reading off the event loop keeps requests in flight serviced while a
    slow pipe trickles ids in.  The thread is a daemon of its own rather
    than a worker of a pool: a read blocked on stdin must never keep the
    process alive after Ctrl-C.  The thread opens and closes the file, so
    no file is closed under a read in progress.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[list[str] | BaseException | None] = asyncio.Queue()
    wanted = threading.Semaphore(1)  # batches the consumer may receive: bounds memory
    stop = threading.Event()

    def put(item: list[str] | BaseException | None) -> None:
        # RuntimeError: the loop is closed, nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def work() -> None:
        batches = produce()
        try:
            for batch in batches:
                wanted.acquire()
                if stop.is_set():
                    return
                put(batch)
            put(None)
        except BaseException as exc:
            put(exc)
        finally:
            batches.close()

    threading.Thread(target=work, name="dcycle-async id reader", daemon=True).start()
    try:
        while True:
            item = await queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            wanted.release()
    finally:
        stop.set()
        wanted.release()


def _split_header(line: str, delimiter: str) -> list[str]:
    if not line:
        return []
    return next(csv.reader([line], delimiter=delimiter), [])


@attrs.frozen
class IdsCheck:
    """What ``--dry-run`` found in the input: nothing was sent."""

    read: int
    valid: int
    invalid_ids: Sequence[Any]
    duplicate_count: int

    @property
    def ok(self) -> bool:
        """True when every id read is a valid UUID."""
        return not self.invalid_ids


async def check_ids(source: AsyncIterator[str], *, low_memory: bool, chunk: int) -> IdsCheck:
    """Validate and deduplicate ids as the real run would, sending nothing.

    ``chunk`` matters only with ``low_memory``: duplicates are then found
    within a chunk only, exactly as the operation would find them.
    """
    normaliser = IdNormaliser(per_chunk=low_memory)
    read = valid = in_chunk = 0
    pending: list[str] = []

    def feed() -> None:
        nonlocal valid, in_chunk
        got = len(normaliser.feed(pending))
        pending.clear()
        valid += got
        in_chunk += got
        if in_chunk >= chunk:
            # Where the operation would start its next chunk (and, with
            # low_memory, forget the ids seen so far).
            normaliser.start_chunk()
            in_chunk = 0

    async for value in source:
        read += 1
        pending.append(value)
        # Never feed more than the chunk still holds: each raw value gives at
        # most one id, so chunk boundaries fall where the operation's would.
        if len(pending) >= min(_BATCH_LINES, chunk - in_chunk):
            feed()
    feed()
    return IdsCheck(
        read=read,
        valid=valid,
        invalid_ids=tuple(normaliser.invalid_ids),
        duplicate_count=normaliser.duplicate_count,
    )


def parse_filters(
    pairs: Sequence[str] | None,
    filters_json: str | None,
    *,
    multi_keys: Sequence[str],
    bool_keys: Sequence[str],
    allowed: Sequence[str],
) -> dict[str, Any]:
    """The filters dict of ``--filter key=value`` (repeatable) and ``--filters-json``.

    A key listed in ``multi_keys`` collects every value, and a value there
    may be comma-separated (``status=pending,error``); other keys take one
    value, kept whole (a ``search`` may contain commas).  ``bool_keys``
    take true/false.  An empty value is refused rather than dropped: a
    shell variable that expanded to nothing must not widen a delete.
    Types and unknown keys are checked later by the library's typed
    filters (``InvalidFiltersError`` lists the allowed keys).
    """
    result: dict[str, Any] = {}
    if filters_json is not None:
        try:
            loaded = json.loads(filters_json)
        except json.JSONDecodeError as exc:
            raise CliError(f"--filters-json is not valid JSON: {exc}") from None
        if not isinstance(loaded, Mapping):
            raise CliError('--filters-json must be a JSON object, e.g. \'{"status": ["error"]}\'')
        result.update(loaded)
    from_flags: dict[str, list[str]] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidFiltersError(
                f"--filter expects KEY=VALUE, got {pair!r}", allowed=tuple(allowed)
            )
        value = value.strip()
        if not value:
            raise CliError(f"--filter {key}= has an empty value; leave the filter out instead")
        if key in result:
            raise CliError(f"filter {key!r} is given both in --filters-json and --filter")
        if key in multi_keys:
            parts = [p.strip() for p in value.split(",")]
            if not all(parts):
                raise CliError(f"--filter {key}={value} has an empty item")
            from_flags.setdefault(key, []).extend(parts)
        elif key in from_flags:
            raise CliError(f"filter {key!r} takes one value; it was given twice")
        else:
            from_flags[key] = [value]
    for key, values in from_flags.items():
        if key in multi_keys:
            result[key] = values
        elif key in bool_keys:
            result[key] = _parse_bool(key, values[0], allowed)
        else:
            result[key] = values[0]
    return result


def _parse_bool(key: str, value: str, allowed: Sequence[str]) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidFiltersError(
        f"invalid filter {key!r}: expected true or false, got {value!r}",
        key=key,
        allowed=tuple(allowed),
    )


def filter_keys(cls: type[Any]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(all keys, multi-valued keys, bool keys) of a typed filter class."""
    fields = attrs.fields(cls)
    names = tuple(f.name for f in fields)
    # The field types are strings (postponed annotations): "tuple[...] | None".
    multi = tuple(f.name for f in fields if str(f.type).startswith("tuple"))
    bools = tuple(f.name for f in fields if str(f.type).startswith("bool"))
    return names, multi, bools
