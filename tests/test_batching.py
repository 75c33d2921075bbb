"""The batching layer, tested without HTTP: chunking, dedupe, limits, merge, abort."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any
from unittest import mock

import anyio
import anyio.lowlevel
import attrs
import pytest
from dcycle_async import BulkOperationError, NotFoundError, Progress, _batching
from dcycle_async._batching import (
    BatchResult,
    ChunkReply,
    IdNormaliser,
    check_chunk_size,
    normalise_id,
    run_batches,
)
from dcycle_async._errors import AuthenticationError, ServerError
from dcycle_async._resources._common import DeleteTotals, delete_report
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.anyio


def make_ids(n: int, seed: int = 0) -> list[str]:
    """n distinct canonical UUID strings, deterministic."""
    return [str(uuid.UUID(int=(seed << 64) + i + 1, version=4)) for i in range(n)]


@attrs.define
class Recorder:
    """A send coroutine that records chunks and concurrency, and can fail chunks."""

    fail: set[int] = attrs.Factory(set)
    fatal_at: int | None = None
    delay: float = 0.0
    chunks: list[list[str]] = attrs.Factory(list)
    in_flight: int = 0
    peak: int = 0

    async def send(self, chunk: list[str]) -> ChunkReply[list[str]]:
        index = len(self.chunks)
        self.chunks.append(chunk)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await anyio.sleep(self.delay)
            if index == self.fatal_at:
                raise AuthenticationError(401, "INVALID_API_KEY", "Invalid API key")
            if index in self.fail:
                raise ServerError(503, None, "unavailable")
            return ChunkReply(chunk, attempts=1)
        finally:
            self.in_flight -= 1


@attrs.define
class Collect:
    """A merger that keeps every id it is told succeeded."""

    ids: list[str] = attrs.Factory(list)

    def merge(self, chunk: list[str], value: list[str]) -> None:
        self.ids.extend(value)


def fatal(exc: Exception) -> bool:
    """The resources' rule: auth and not-found errors doom every chunk."""
    return isinstance(exc, AuthenticationError | NotFoundError)


async def run(ids: Any, recorder: Recorder, merger: Collect, **kwargs: Any) -> BatchResult:
    """run_batches with the recorder and merger, chunk size 10, concurrency 3 by default."""
    kwargs.setdefault("chunk_size", 10)
    kwargs.setdefault("concurrency", 3)
    return await run_batches(ids, send=recorder.send, merger=merger, is_fatal=fatal, **kwargs)


def test_canonical_ids_pass_through_unchanged() -> None:
    """A canonical lower-case UUID string is returned as the same object."""
    value = make_ids(1)[0]
    assert normalise_id(value) is value


def test_other_uuid_spellings_are_normalised() -> None:
    """Upper case, braces, urn and hex-only forms and UUID objects become canonical."""
    u = uuid.UUID(make_ids(1)[0])
    for form in (str(u).upper(), "{" + str(u) + "}", u.urn, u.hex, u, f"  {u}  "):
        assert normalise_id(form) == str(u)


def test_non_uuid_strings_are_invalid_not_errors() -> None:
    """A string that is not a UUID is reported (None), not raised."""
    for bad in ("", "abc", "123", "../etc/passwd", make_ids(1)[0][:-1] + "z"):
        assert normalise_id(bad) is None


@pytest.mark.parametrize("bad", [None, b"x", 42, 1.5, ["a"], {"a": 1}, True])
def test_wrong_types_raise_type_error(bad: Any) -> None:
    """None, bytes, numbers and containers are programming errors: TypeError."""
    with pytest.raises(TypeError, match=r"ids must be str or uuid\.UUID"):
        normalise_id(bad)


def test_normaliser_counts_duplicates_across_spellings() -> None:
    """The same UUID in two spellings is one id and one duplicate."""
    a, b = make_ids(2)
    n = IdNormaliser()
    assert n.feed([a, a.upper(), b, "bad", "bad", uuid.UUID(b)]) == [a, b]
    assert n.duplicate_count == 3
    assert n.invalid_ids == ["bad"]


@pytest.mark.parametrize(("size", "limit"), [(0, 100), (101, 100), (100_001, 100_000), (-1, 10)])
def test_chunk_size_outside_the_limit_is_a_value_error(size: int, limit: int) -> None:
    """chunk_size may be lowered, never raised above the API's limit."""
    with pytest.raises(ValueError, match="chunk_size must be between 1 and"):
        check_chunk_size(size, limit)


async def test_chunks_respect_size_and_cover_every_id_once() -> None:
    """Every valid unique id is sent in exactly one chunk of at most chunk_size."""
    ids = make_ids(95)
    rec, merger = Recorder(), Collect()
    result = await run([*ids, *ids[:7], "nope"], rec, merger)
    assert all(len(c) <= 10 for c in rec.chunks)
    assert sorted(i for c in rec.chunks for i in c) == sorted(ids)
    assert sorted(merger.ids) == sorted(ids)
    assert result.duplicate_count == 7
    assert result.invalid_ids == ["nope"]
    assert result.requests == 10
    assert result.failed_ids == []


async def test_empty_input_sends_nothing() -> None:
    """No ids: no request, an empty result."""
    rec, merger = Recorder(), Collect()
    result = await run([], rec, merger)
    assert rec.chunks == []
    assert result.requests == 0


async def test_wrong_typed_id_in_a_list_fails_before_any_request() -> None:
    """A None inside a list raises TypeError before the first chunk is sent."""
    rec = Recorder()
    with pytest.raises(TypeError):
        await run([*make_ids(30), None], rec, Collect())
    assert rec.chunks == []


async def test_a_single_string_is_not_taken_as_an_iterable_of_ids() -> None:
    """Passing one id string instead of a list is a TypeError."""
    with pytest.raises(TypeError, match="not a single str"):
        await run(make_ids(1)[0], Recorder(), Collect())


async def test_concurrency_is_never_exceeded() -> None:
    """At most `concurrency` chunks are in flight at once."""
    rec = Recorder(delay=0.01)
    await run(make_ids(200), rec, Collect(), concurrency=4)
    assert rec.peak == 4


async def test_failed_chunks_are_listed_with_their_ids() -> None:
    """A chunk that fails for good is in errors and its ids in failed_ids."""
    ids = make_ids(50)
    rec, merger = Recorder(fail={1, 3}), Collect()
    result = await run(ids, rec, merger, concurrency=1)
    assert [e.index for e in result.errors] == [1, 3]
    assert sorted(result.failed_ids) == sorted(ids[10:20] + ids[30:40])
    assert sorted(merger.ids + result.failed_ids) == sorted(ids)
    assert isinstance(result.errors[0].error, ServerError)


async def test_fatal_error_aborts_and_accounts_for_unsent_ids() -> None:
    """A 401 cancels the run; ids in flight or never sent land in failed_ids."""
    ids = make_ids(100)
    rec, merger = Recorder(fatal_at=2, delay=0.01), Collect()
    result = await run(ids, rec, merger, concurrency=2)
    assert isinstance(result.aborted_by, AuthenticationError)
    assert len(rec.chunks) < 10
    assert sorted(merger.ids + result.failed_ids) == sorted(ids)
    with pytest.raises(BulkOperationError) as info:
        result.raise_if_aborted("the report", "link")
    assert info.value.report == "the report"
    assert isinstance(info.value.__cause__, AuthenticationError)


async def test_abort_mid_read_reports_ids_already_taken_from_the_stream() -> None:
    """Ids read from a stream but not yet chunked when a 401 lands are in failed_ids."""
    ids = make_ids(25)
    hang = anyio.Event()

    async def stream() -> AsyncIterator[str]:
        for value in ids[:15]:
            yield value
        await hang.wait()  # the 16th id never comes: the read is cut off mid-chunk
        yield ids[15]

    rec, merger = Recorder(fatal_at=0, delay=0.01), Collect()
    result = await run(stream(), rec, merger, chunk_size=10, concurrency=1)
    assert isinstance(result.aborted_by, AuthenticationError)
    assert merger.ids == []
    assert sorted(result.failed_ids) == sorted(ids[:15])


async def test_async_stream_is_consumed_lazily() -> None:
    """A stream is read at most about (concurrency + 1) chunks ahead of the sends."""
    produced = 0
    rec = Recorder(delay=0.001)
    ahead: list[int] = []

    async def stream() -> AsyncIterator[str]:
        nonlocal produced
        for value in make_ids(2_000):
            produced += 1
            ahead.append(produced - sum(len(c) for c in rec.chunks))
            yield value

    merger = Collect()
    result = await run(stream(), rec, merger, chunk_size=50, concurrency=3)
    assert len(merger.ids) == 2_000
    assert result.failed_ids == []
    assert max(ahead) <= 50 * 2


async def test_plain_iterator_is_consumed_lazily_and_totals_are_unknown() -> None:
    """A generator is chunked lazily and progress reports no total."""
    seen: list[Progress] = []
    gen = (i for i in make_ids(35))
    result = await run(gen, Recorder(), Collect(), on_progress=seen.append)
    assert result.requests == 4
    assert seen[-1].ids_done == 35
    assert seen[-1].ids_total is None


async def test_progress_after_every_chunk_sync_and_async() -> None:
    """on_progress is called once per chunk; async callables are awaited."""
    sync_seen: list[Progress] = []
    async_seen: list[Progress] = []

    async def on_progress(p: Progress) -> None:
        async_seen.append(p)

    await run(make_ids(25), Recorder(), Collect(), on_progress=sync_seen.append)
    await run(make_ids(25), Recorder(fail={0}), Collect(), on_progress=on_progress)
    assert [p.chunks_done for p in sync_seen] == [1, 2, 3]
    assert sync_seen[-1] == Progress(25, 25, 3, 0, 3)
    assert async_seen[-1].chunks_failed == 1
    assert async_seen[-1].ids_done == 25


async def test_exception_in_progress_callback_aborts() -> None:
    """A failing on_progress stops the run and is the abort's cause."""

    def boom(p: Progress) -> None:
        raise RuntimeError("callback bug")

    ids = make_ids(40)
    merger = Collect()
    result = await run(ids, Recorder(), merger, on_progress=boom, concurrency=1)
    assert isinstance(result.aborted_by, RuntimeError)
    assert sorted(merger.ids + result.failed_ids) == sorted(ids)


async def test_low_memory_mode_dedupes_within_a_chunk_only() -> None:
    """In low-memory mode a repeat inside a chunk is dropped, across chunks it is not."""
    a, b, c = make_ids(3)
    rec = Recorder()
    result = await run([a, a, b, c, a], rec, Collect(), chunk_size=3, low_memory=True)
    assert rec.chunks == [[a, b, c], [a]]
    assert result.duplicate_count == 1


async def test_caller_cancellation_cancels_chunks() -> None:
    """Cancelling the caller stops every chunk and propagates."""
    rec = Recorder(delay=10)
    with anyio.move_on_after(0.05) as scope:
        await run(make_ids(100), rec, Collect())
    assert scope.cancelled_caught
    assert rec.in_flight == 0


# -- the chunk/merge invariant, for any input, chunk size and failure pattern --

id_pool = make_ids(60, seed=7)
inputs = st.lists(
    st.one_of(
        st.sampled_from(id_pool),
        st.sampled_from(id_pool).map(str.upper),
        st.sampled_from(id_pool).map(uuid.UUID),
        st.sampled_from(["", "x", "not-a-uuid", "1234"]),
    ),
    max_size=150,
)


@settings(max_examples=150, deadline=None)
@given(
    ids=inputs,
    chunk_size=st.integers(1, 40),
    concurrency=st.integers(1, 6),
    fail=st.sets(st.integers(0, 30)),
    fatal_at=st.one_of(st.none(), st.integers(0, 10)),
    stream=st.booleans(),
    merged=st.booleans(),
)
def test_invariant_every_unique_input_is_accounted_once(
    ids: list[Any],
    chunk_size: int,
    concurrency: int,
    fail: set[int],
    fatal_at: int | None,
    stream: bool,
    merged: bool,
) -> None:
    """success + failed + invalid == the unique inputs, whatever fails or aborts."""

    consumed: list[Any] = []

    async def go() -> tuple[Recorder, Collect, BatchResult]:
        async def agen() -> AsyncIterator[Any]:
            for value in ids:
                # A checkpoint inside each read, where a cancellation can land.
                await anyio.lowlevel.checkpoint()
                consumed.append(value)
                yield value

        rec, merger = Recorder(fail=fail, fatal_at=fatal_at), Collect()
        source: Any = agen() if stream else ids
        result = await run(source, rec, merger, chunk_size=chunk_size, concurrency=concurrency)
        return rec, merger, result

    # merged: batches are deduplicated as sets of their own, as they are
    # from 131,072 ids seen on.
    with mock.patch.object(_batching, "_MERGE_FROM", 0 if merged else _batching._MERGE_FROM):
        rec, merger, result = anyio.run(go)
    # An aborted stream is not drained: what was read from it is accounted for.
    read = consumed if stream and result.aborted_by is not None else ids
    valid = {n for n in map(normalise_id, read) if n is not None}
    invalid = {v for v in read if normalise_id(v) is None}
    assert all(1 <= len(c) <= chunk_size for c in rec.chunks)
    sent = [i for c in rec.chunks for i in c]
    assert len(sent) == len(set(sent))
    if result.aborted_by is None:
        assert set(sent) == valid
        assert len(result.errors) == len([i for i in range(len(rec.chunks)) if i in fail])
    accounted = merger.ids + result.failed_ids
    assert sorted(accounted) == sorted(valid)
    assert set(result.invalid_ids) == invalid
    assert len(result.invalid_ids) == len(invalid)
    assert len(valid) + len(invalid) + result.duplicate_count == len(read)


# -- the delete merger trusts the answer only for ids that were sent --


def test_delete_totals_fast_path_trusts_a_consistent_answer() -> None:
    """An answer that accounts for each sent id once is taken as is."""
    ids = make_ids(5)
    totals = DeleteTotals()
    totals.merge(ids, (ids[:3], ids[3:]))
    report = delete_report(totals, BatchResult())
    assert report.success_ids == tuple(ids[:3])
    assert report.failed_ids == tuple(ids[3:])
    assert report.warnings == ()
    assert not report.ok


def test_delete_totals_flags_missing_and_unexpected_ids() -> None:
    """Ids the server forgot are failed; ids it invented are reported, not counted."""
    ids = make_ids(5)
    stranger = make_ids(1, seed=9)[0]
    totals = DeleteTotals()
    totals.merge(ids, ([ids[0], ids[1], stranger], [ids[2], ids[0]]))
    report = delete_report(totals, BatchResult())
    assert report.success_ids == (ids[0], ids[1])
    assert sorted(report.failed_ids) == sorted([ids[2], ids[3], ids[4]])
    assert report.unexpected_ids == (stranger,)
    assert report.success_count + report.failed_count == 5
    assert len(report.warnings) == 3


def test_delete_totals_low_memory_keeps_counts_only() -> None:
    """Without collecting success ids, only the count is kept."""
    ids = make_ids(4)
    totals = DeleteTotals(collect_success_ids=False)
    totals.merge(ids, (ids, []))
    report = delete_report(totals, BatchResult())
    assert report.success_ids == ()
    assert report.success_count == 4
    assert report.ok


def test_delete_totals_id_in_both_lists_does_not_hide_a_missing_one() -> None:
    """success=[a], failed=[a] for a chunk [a, b]: b is failed, not silently dropped."""
    a, b = make_ids(2)
    totals = DeleteTotals()
    totals.merge([a, b], ([a], [a]))
    report = delete_report(totals, BatchResult())
    assert report.success_ids == (a,)
    assert report.failed_ids == (b,)
    assert report.warnings


@settings(max_examples=300, deadline=None)
@given(
    chunk_size=st.integers(1, 12),
    data=st.data(),
    collect=st.booleans(),
)
def test_delete_totals_account_for_every_sent_id_whatever_the_answer(
    chunk_size: int, data: st.DataObject, collect: bool
) -> None:
    """For any answer, each sent id is counted exactly once: success or failed."""
    chunk = make_ids(chunk_size)
    strangers = make_ids(3, seed=5)
    pool = st.sampled_from(chunk + strangers)
    success = data.draw(st.lists(pool, max_size=chunk_size + 3))
    failed = data.draw(st.lists(pool, max_size=chunk_size + 3))
    totals = DeleteTotals(collect_success_ids=collect)
    totals.merge(chunk, (success, failed))
    report = delete_report(totals, BatchResult())
    assert report.success_count + report.failed_count == chunk_size
    assert set(report.failed_ids) <= set(chunk)
    assert len(set(report.failed_ids)) == report.failed_count
    if collect:
        assert sorted([*report.success_ids, *report.failed_ids]) == sorted(chunk)
        assert set(report.success_ids) == set(chunk) & set(success)
    assert set(report.unexpected_ids) == set(success + failed) - set(chunk)


async def test_chunks_in_flight_at_an_abort_are_flagged_for_reconciliation() -> None:
    """Chunks cancelled mid-request may have been applied: flagged; never-sent ones are not."""
    ids = make_ids(100)
    started: list[int] = []

    async def send(chunk: list[str]) -> ChunkReply[list[str]]:
        started.append(len(started))
        if len(started) == 3:
            await anyio.sleep(0.01)  # the other two are out by now
            raise AuthenticationError(401, "INVALID_API_KEY", "Invalid API key")
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    merger = Collect()
    result = await run_batches(
        ids, chunk_size=10, concurrency=3, send=send, merger=merger, is_fatal=fatal
    )
    assert isinstance(result.aborted_by, AuthenticationError)
    assert [c.index for c in result.retried_chunks] == [0, 1]
    assert [list(c.ids) for c in result.retried_chunks] == [ids[:10], ids[10:20]]
    assert sorted(result.failed_ids) == sorted(ids)
