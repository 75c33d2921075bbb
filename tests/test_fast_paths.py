"""The bulk paths' shortcuts: lazy normalisation of large inputs, optimistic dedupe, echo decoding.

Each shortcut must give exactly what the plain path gives; these tests use
inputs large enough to cross the read-ahead's steps (``_STEP`` ids).
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import anyio
import orjson
import pytest
from dcycle_async import _batching
from dcycle_async._batching import _STEP, ChunkReply, IdNormaliser, normalise_id, run_batches
from dcycle_async._resources._common import SENT_IDS, DeleteTotals, decode_delete_answer

pytestmark = pytest.mark.anyio


def make_ids(n: int, seed: int = 0) -> list[str]:
    """n distinct canonical UUID strings, deterministic."""
    return [str(uuid.UUID(int=(seed << 64) + i + 1, version=4)) for i in range(n)]


class Sink:
    """A send coroutine and merger that record every chunk."""

    def __init__(self, delay: float = 0.0) -> None:
        self.chunks: list[list[str]] = []
        self.merged: list[str] = []
        self.delay = delay

    async def send(self, chunk: list[str]) -> ChunkReply[list[str]]:
        self.chunks.append(chunk)
        await anyio.sleep(self.delay)
        return ChunkReply(chunk)

    def merge(self, chunk: list[str], value: list[str]) -> None:
        self.merged.extend(value)


def reference(values: list[Any]) -> tuple[list[str], int, list[Any]]:
    """What normalisation must give: unique canonical ids in order, duplicates, invalid."""
    seen: set[str] = set()
    out: list[str] = []
    invalid: list[Any] = []
    duplicates = 0
    for value in values:
        canonical = normalise_id(value)
        if canonical is None:
            if value in invalid:
                duplicates += 1
            else:
                invalid.append(value)
        elif canonical in seen:
            duplicates += 1
        else:
            seen.add(canonical)
            out.append(canonical)
    return out, duplicates, invalid


@pytest.fixture(params=["direct", "merged"])
def dedupe_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a batch is deduplicated: inserted directly, or merged as a set of its own."""
    if request.param == "merged":
        # Normally taken from 131,072 ids seen on: here from the first batch.
        monkeypatch.setattr(_batching, "_MERGE_FROM", 0)
    return str(request.param)


@pytest.mark.parametrize("chunk_size", [100, 5_000, 100_000])
async def test_large_list_with_repeats_across_steps_is_deduplicated_exactly(
    chunk_size: int, dedupe_path: str
) -> None:
    """Repeats far apart (other read-ahead steps), near, and in other spellings."""
    ids = make_ids(3 * _STEP)
    rng = random.Random(5)
    values: list[Any] = list(ids)
    for _ in range(200):
        values.insert(rng.randrange(len(values)), rng.choice(ids))
    values.insert(2 * _STEP + 7, ids[3].upper())
    values.insert(_STEP + 1, uuid.UUID(ids[-1]))
    values.insert(10, "not-a-uuid")
    sink = Sink()
    result = await run_batches(
        values,
        chunk_size=chunk_size,
        concurrency=3,
        send=sink.send,
        merger=sink,
        is_fatal=lambda exc: False,
    )
    expected, duplicates, invalid = reference(values)
    sent = [i for chunk in sink.chunks for i in chunk]
    assert sent == expected
    assert all(len(chunk) == chunk_size for chunk in sink.chunks[:-1])
    assert result.duplicate_count == duplicates
    assert result.invalid_ids == invalid


async def test_wrong_type_at_the_end_of_a_large_list_fails_before_any_request() -> None:
    """The list is normalised chunk by chunk, but its types are checked first."""
    sink = Sink()
    values: list[Any] = [*make_ids(2 * _STEP), 42]
    with pytest.raises(TypeError, match=r"ids must be str or uuid\.UUID"):
        await run_batches(
            values,
            chunk_size=100,
            concurrency=2,
            send=sink.send,
            merger=sink,
            is_fatal=lambda exc: False,
        )
    assert sink.chunks == []


async def test_low_memory_list_dedupes_within_each_chunk() -> None:
    """In low-memory mode a list keeps per-chunk dedupe across read-ahead steps."""
    ids = make_ids(2 * _STEP)
    values = [*ids, *ids[:10]]
    sink = Sink()
    result = await run_batches(
        values,
        chunk_size=_STEP + 5,
        concurrency=2,
        send=sink.send,
        merger=sink,
        is_fatal=lambda exc: False,
        low_memory=True,
    )
    assert [i for c in sink.chunks for i in c] == values
    assert result.duplicate_count == 0


async def test_abort_accounts_for_the_unread_rest_of_a_large_list() -> None:
    """A fatal error: the part of the list not yet normalised is failed, not lost."""

    class Fatal(Exception):
        pass

    ids = make_ids(3 * _STEP)
    values = [*ids, *ids[:50], "bad"]

    async def send(chunk: list[str]) -> ChunkReply[list[str]]:
        raise Fatal

    result = await run_batches(
        values,
        chunk_size=1_000,
        concurrency=2,
        send=send,
        merger=Sink(),
        is_fatal=lambda exc: isinstance(exc, Fatal),
    )
    assert isinstance(result.aborted_by, Fatal)
    assert sorted(result.failed_ids) == sorted(ids)
    assert result.invalid_ids == ["bad"]
    assert result.duplicate_count == 50


def test_optimistic_dedupe_matches_the_per_id_path(dedupe_path: str) -> None:
    """Random batches with repeats within and across them, in both modes."""
    rng = random.Random(1)
    pool = make_ids(300, seed=3)
    for _ in range(500):
        normaliser = IdNormaliser(per_chunk=rng.random() < 0.3)
        seen: set[str] = set()
        duplicates = 0
        for _ in range(rng.randint(1, 6)):
            if normaliser.per_chunk and rng.random() < 0.5:
                normaliser.start_chunk()
                seen = set()
            batch = [rng.choice(pool) for _ in range(rng.randint(0, 40))]
            expected = []
            for value in batch:
                if value in seen:
                    duplicates += 1
                else:
                    seen.add(value)
                    expected.append(value)
            assert normaliser.feed(list(batch), str_only=True) == expected
        assert normaliser.duplicate_count == duplicates


def _body_and_sent(ids: list[str], key: str = "transport_ids") -> tuple[bytes, memoryview]:
    body = orjson.dumps({key: ids})
    at = len(orjson.dumps({key: None})) - len(b"null}")
    return body, memoryview(body)[at:-1]


def test_echoed_success_ids_are_not_decoded() -> None:
    """success_ids equal to the array sent become SENT_IDS; the rest decodes as usual."""
    ids = make_ids(5)
    _, sent = _body_and_sent(ids)
    answer = {"success_count": 5, "success_ids": ids, "failed_count": 0, "failed_ids": []}
    for raw in (orjson.dumps(answer), orjson.dumps(answer).replace(b'ids":[', b'ids": [')):
        data = decode_delete_answer(raw, sent)
        assert data["success_ids"] is SENT_IDS
        assert {k: v for k, v in data.items() if k != "success_ids"} == {
            k: v for k, v in answer.items() if k != "success_ids"
        }


@pytest.mark.parametrize(
    "template",
    [
        # Another order, another spelling: decoded normally.
        b'{"success_ids":%(rev)s,"failed_ids":[]}',
        b'{"success_ids": %(spaced)s,"failed_ids":[]}',
        # The array sent, but somewhere other than the top-level success_ids.
        b'{"failed_ids":%(sent)s,"success_ids":[]}',
        b'{"x":{"success_ids":%(sent)s},"success_ids":[],"failed_ids":[]}',
        b'{"m":"\\"success_ids\\":%(escaped)s","success_ids":[],"failed_ids":[]}',
        # A later duplicate key wins, as in orjson.loads.
        b'{"success_ids":%(sent)s,"success_ids":[],"failed_ids":[]}',
        # The marker's own spelling in the answer.
        b'{"success_ids":%(sent)s,"failed_ids":[],"m":"\\u0000sent"}',
    ],
)
def test_anything_but_an_exact_echo_decodes_like_orjson(template: bytes) -> None:
    """The shortcut never changes what an answer means."""
    ids = make_ids(3)
    _, sent = _body_and_sent(ids)
    raw = template % {
        b"sent": bytes(sent),
        b"rev": orjson.dumps(ids[::-1]),
        b"spaced": b", ".join(orjson.dumps(i) for i in ids).join((b"[", b"]")),
        b"escaped": bytes(sent).replace(b'"', b'\\"'),
    }
    assert decode_delete_answer(raw, sent) == orjson.loads(raw)


def test_not_json_still_raises_the_decode_error() -> None:
    """A cut-short answer raises as orjson.loads would (the session retries it)."""
    ids = make_ids(2)
    _, sent = _body_and_sent(ids)
    raw = b'{"success_ids":' + bytes(sent)
    with pytest.raises(orjson.JSONDecodeError):
        decode_delete_answer(raw, sent)


def test_delete_totals_take_sent_ids_for_the_chunk() -> None:
    """parse() maps SENT_IDS to the chunk itself; merge() then takes the fast path."""
    from dcycle_async._http import Response

    chunk = make_ids(4)
    response = Response(200, {"success_ids": SENT_IDS, "failed_ids": []}, 1, False)
    success, failed = DeleteTotals.parse(response, chunk)
    assert success is chunk
    assert failed == []
    totals = DeleteTotals()
    totals.merge(chunk, (success, failed))
    assert totals.success_ids == chunk
    assert totals.success_count == 4
