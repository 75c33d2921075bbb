"""Bad answers from the server are reported, never trusted blindly.

A scripted server answers with proxy HTML, truncated or empty JSON, and
well-formed JSON that disagrees with the request: ids missing, ids never
sent, ids listed twice or on both sides, wrong types, impossible counts,
malformed list pages.  The report says what went wrong (warnings,
``unexpected_ids``, failed ids, an ``InvalidResponseError`` for an unusable
chunk) and the delete invariant holds whatever the server says.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import pytest
from dcycle_async import (
    APIError,
    AuthenticationError,
    BulkDeleteReport,
    BulkOperationError,
    DcycleClient,
    InvalidResponseError,
    LinkReport,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    UnlinkReport,
    UnprocessableEntityError,
)

from ..conftest import Reply, ScriptedServer, make_client

pytestmark = pytest.mark.anyio

A: Final = "0a1b2c3d-0000-4000-8000-00000000000a"
B: Final = "0a1b2c3d-0000-4000-8000-00000000000b"
C: Final = "0a1b2c3d-0000-4000-8000-00000000000c"
D: Final = "0a1b2c3d-0000-4000-8000-00000000000d"
X: Final = "0a1b2c3d-0000-4000-8000-0000000000f1"  # never sent
Y: Final = "0a1b2c3d-0000-4000-8000-0000000000f2"  # never sent
SENT: Final = [A, B, C, D]
PROJECT: Final = "b7f2a1c3-4d5e-4f7a-8b9c-0d1e2f3a4b5c"

HTML_502: Final = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center><hr><center>nginx</center>" + b"<!-- padding -->" * 300 + b"</body></html>"
)
HTML: Final = {"Content-Type": "text/html"}


def body(value: Any) -> bytes:
    """A JSON body."""
    return json.dumps(value).encode()


def delete_answer(success: Sequence[Any], failed: Sequence[Any]) -> bytes:
    """A 5-field bulk-delete summary whose counts lie, as a server bug would."""
    return body(
        {
            "success_ids": list(success),
            "failed_ids": list(failed),
            "success_count": 999,
            "failed_count": -1,
            "total": 7,
        }
    )


def assert_delete_invariant(report: BulkDeleteReport, unique_inputs: Sequence[str]) -> None:
    """success_ids + failed_ids + invalid_ids are exactly the unique inputs, each once."""
    accounted = [*report.success_ids, *report.failed_ids, *report.invalid_ids]
    assert sorted(accounted) == sorted(unique_inputs)
    assert report.success_count == len(report.success_ids)
    assert report.failed_count == len(report.failed_ids)
    assert not set(report.unexpected_ids) & set(accounted)


async def delete(server: ScriptedServer, ids: Sequence[str], **kwargs: Any) -> BulkDeleteReport:
    """transports.bulk_delete through a fresh client on the scripted server."""
    retries = kwargs.pop("max_retries", 0)
    async with make_client(server.url, max_retries=retries) as client:
        return await client.transports.bulk_delete(ids, **kwargs)


async def link(server: ScriptedServer, ids: Sequence[str], **kwargs: Any) -> LinkReport:
    """projects.link through a fresh client on the scripted server."""
    retries = kwargs.pop("max_retries", 0)
    async with make_client(server.url, max_retries=retries) as client:
        return await client.projects.link(PROJECT, "invoices", ids, **kwargs)


async def unlink(server: ScriptedServer, ids: Sequence[str], **kwargs: Any) -> UnlinkReport:
    """projects.unlink through a fresh client on the scripted server."""
    retries = kwargs.pop("max_retries", 0)
    async with make_client(server.url, max_retries=retries) as client:
        return await client.projects.unlink(PROJECT, "invoices", ids, **kwargs)


# --- proxy HTML, truncated and empty bodies -------------------------------------------


async def test_html_502_fails_the_chunk_after_retries_with_a_clear_server_error(
    scripted: ScriptedServer,
) -> None:
    """A proxy's HTML 502 is retried, then the chunk is a ServerError; its ids are failed."""
    scripted.default = Reply(status=502, body=HTML_502, headers=HTML)
    report = await delete(scripted, SENT, max_retries=2)
    assert_delete_invariant(report, SENT)
    assert sorted(report.failed_ids) == sorted(SENT)
    assert (report.requests, report.retries) == (3, 2) == (len(scripted.seen), 2)
    [error] = report.errors
    assert isinstance(error.error, ServerError)
    assert (error.error.status, error.error.code) == (502, None)
    assert error.error.body.startswith("<html>")
    message = str(error.error)
    assert "HTTP 502" in message
    assert "502 Bad Gateway" in message
    assert len(message) < 400


async def test_html_502_then_a_good_answer_succeeds_and_flags_the_retry(
    scripted: ScriptedServer,
) -> None:
    """After one HTML 502 the retry's answer counts, and the chunk is flagged for reconciling."""
    scripted.push(
        Reply(status=502, body=HTML_502, headers=HTML),
        Reply(body=body({"created": 4, "skipped": 0})),
    )
    report = await link(scripted, SENT, max_retries=1)
    assert (report.created, report.skipped, report.ok) == (4, 0, True)
    assert (report.requests, report.retries) == (2, 1)
    assert [sorted(c.ids) for c in report.retried_chunks] == [sorted(SENT)]


async def test_html_403_from_a_firewall_aborts_with_permission_denied(
    scripted: ScriptedServer,
) -> None:
    """A non-JSON 403 is still a PermissionDeniedError: the run aborts, nothing is retried."""
    scripted.default = Reply(status=403, body=b"<html><h1>Forbidden</h1></html>", headers=HTML)
    with pytest.raises(BulkOperationError) as info:
        await link(scripted, SENT, max_retries=3)
    cause = info.value.__cause__
    assert isinstance(cause, PermissionDeniedError)
    assert (cause.status, cause.code) == (403, None)
    assert "Forbidden" in str(cause)
    assert len(scripted.seen) == 1
    assert sorted(info.value.report.failed_ids) == sorted(SENT)


async def test_truncated_json_on_200_is_retried_then_an_invalid_response_chunk(
    scripted: ScriptedServer,
) -> None:
    """A 200 cut short is retried; when every attempt is cut, the chunk is InvalidResponseError."""
    scripted.default = Reply(body=b'{"success_ids": ["' + A.encode() + b'", "0a1b')
    report = await delete(scripted, SENT, max_retries=2)
    assert_delete_invariant(report, SENT)
    assert report.success_ids == ()
    assert len(scripted.seen) == 3
    [error] = report.errors
    assert isinstance(error.error, InvalidResponseError)
    assert error.error.status == 200
    assert "not valid JSON" in str(error.error)


async def test_truncated_json_on_422_fails_only_that_chunk_without_retry(
    scripted: ScriptedServer,
) -> None:
    """A 422 whose body is cut short is still a 422 for that chunk; other chunks go on."""
    scripted.push(
        Reply(status=422, body=b'{"detail": [{"loc": ["body", "transport_ids"], "msg": "inva'),
        Reply(body=delete_answer([C, D], [])),
    )
    report = await delete(scripted, SENT, chunk_size=2, max_concurrency=1, max_retries=3)
    assert_delete_invariant(report, SENT)
    assert sorted(report.success_ids) == [C, D]
    assert sorted(report.failed_ids) == [A, B]
    [error] = report.errors
    assert isinstance(error.error, UnprocessableEntityError)
    assert error.error.errors == ()
    assert error.error.body.startswith('{"detail"')
    assert "HTTP 422" in str(error.error)
    assert len(scripted.seen) == 2


@pytest.mark.parametrize(
    ("status", "raw", "error"),
    [
        (401, b'{"detail": "Invalid API key", "co', AuthenticationError),
        (404, b'{"detail": "Project not fo', NotFoundError),
        (401, b"", AuthenticationError),
    ],
)
async def test_truncated_or_empty_json_on_a_fatal_status_still_aborts(
    scripted: ScriptedServer, status: int, raw: bytes, error: type[APIError]
) -> None:
    """401 and a project 404 doom every chunk even when their body is unreadable."""
    scripted.default = Reply(status=status, body=raw)
    with pytest.raises(BulkOperationError) as info:
        await link(scripted, SENT, chunk_size=2, max_concurrency=1, max_retries=3)
    assert type(info.value.__cause__) is error
    assert f"HTTP {status}" in str(info.value)
    assert len(scripted.seen) == 1
    assert sorted(info.value.report.failed_ids) == sorted(SENT)


# --- delete answers that disagree with the request ------------------------------------

DISPUTED: Final[list[tuple[str, list[Any], list[Any], set[str], set[str], set[str], str]]] = [
    # label, success_ids, failed_ids -> success, failed, unexpected, a warning says
    ("ids missing", [A, B], [C], {A, B}, {C, D}, set(), "did not report on 1"),
    ("nothing reported", [], [], set(), {A, B, C, D}, set(), "did not report on 4"),
    ("unknown id added", [A, B, C, D, X], [], {A, B, C, D}, set(), {X}, "were not sent"),
    ("unknown failed id", [A, B, C], [D, Y], {A, B, C}, {D}, {Y}, "were not sent"),
    ("only strangers", [X], [Y], set(), {A, B, C, D}, {X, Y}, "did not report on 4"),
    ("id in both lists", [A, B, C, D], [A], {A, B, C, D}, set(), set(), "both deleted and failed"),
    ("id in both, rest failed", [A], [A, B, C, D], {A}, {B, C, D}, set(), "both deleted"),
    ("duplicate success", [A, A, B, C, D], [], {A, B, C, D}, set(), set(), "repeated ids"),
    ("duplicate failed", [A, B], [C, C, D, D], {A, B}, {C, D}, set(), "repeated ids"),
    ("duplicate stranger", [A, B, C, D, X, X], [], {A, B, C, D}, set(), {X}, "were not sent"),
]


@pytest.mark.parametrize(
    ("label", "success", "failed", "want_success", "want_failed", "want_unexpected", "warning"),
    DISPUTED,
    ids=[case[0] for case in DISPUTED],
)
async def test_delete_answer_that_disagrees_is_reconciled_against_what_was_sent(
    scripted: ScriptedServer,
    label: str,
    success: list[Any],
    failed: list[Any],
    want_success: set[str],
    want_failed: set[str],
    want_unexpected: set[str],
    warning: str,
) -> None:
    """Only sent ids are counted, each once; the rest is flagged, and the invariant holds."""
    scripted.default = Reply(body=delete_answer(success, failed))
    report = await delete(scripted, SENT)
    assert_delete_invariant(report, SENT)
    assert set(report.success_ids) == want_success
    assert set(report.failed_ids) == want_failed
    assert set(report.unexpected_ids) == want_unexpected
    assert len(report.unexpected_ids) == len(want_unexpected)
    assert report.success_count == len(want_success)  # the server's own counts are ignored
    assert any(warning in w for w in report.warnings), report.warnings
    assert report.ok is (not want_failed)
    assert report.errors == ()


async def test_a_disputed_chunk_does_not_disturb_the_other_chunks(
    scripted: ScriptedServer,
) -> None:
    """Chunk by chunk: a clean answer, a disputed one, an unusable one; each merged on its own."""
    scripted.push(
        Reply(body=delete_answer([A, B], [])),
        Reply(body=delete_answer([C, X], [])),
        Reply(body=body({"success_ids": "all of them", "failed_ids": []})),
    )
    ids = [A, B, C, D, X[:-1] + "0", Y]
    report = await delete(scripted, ids, chunk_size=2, max_concurrency=1)
    assert_delete_invariant(report, ids)
    assert sorted(report.success_ids) == [A, B, C]
    assert sorted(report.failed_ids) == sorted([D, X[:-1] + "0", Y])
    assert report.unexpected_ids == (X,)
    assert [sorted(e.ids) for e in report.errors] == [sorted([X[:-1] + "0", Y])]
    assert report.requests == 3


UNUSABLE_DELETE: Final[list[tuple[str, bytes]]] = [
    ("empty body", b""),
    ("null", b"null"),
    ("a list", b"[]"),
    ("a string", b'"ok"'),
    ("a number", b"42"),
    ("empty object", b"{}"),
    ("success_ids missing", body({"failed_ids": []})),
    ("failed_ids missing", body({"success_ids": SENT})),
    ("success_ids null", body({"success_ids": None, "failed_ids": []})),
    ("failed_ids null", body({"success_ids": SENT, "failed_ids": None})),
    ("ids as one string", body({"success_ids": ",".join(SENT), "failed_ids": []})),
    ("ids as an object", body({"success_ids": dict.fromkeys(SENT, True), "failed_ids": []})),
    ("a number among ids", body({"success_ids": [A, B, C, 4], "failed_ids": []})),
    ("null among ids", body({"success_ids": [A, B, C, None], "failed_ids": []})),
    ("a list among ids", body({"success_ids": [A, B, C, [D]], "failed_ids": []})),
    ("an object among failed ids", body({"success_ids": [A, B, C], "failed_ids": [{"id": D}]})),
]


@pytest.mark.parametrize(("label", "raw"), UNUSABLE_DELETE, ids=[c[0] for c in UNUSABLE_DELETE])
async def test_unusable_delete_answer_fails_its_chunk_with_invalid_response(
    scripted: ScriptedServer, label: str, raw: bytes
) -> None:
    """An answer without two lists of id strings confirms nothing: every id of the chunk failed."""
    scripted.default = Reply(body=raw)
    report = await delete(scripted, SENT)
    assert_delete_invariant(report, SENT)
    assert report.success_ids == ()
    assert sorted(report.failed_ids) == sorted(SENT)
    [error] = report.errors
    assert isinstance(error.error, InvalidResponseError)
    assert sorted(error.ids) == sorted(SENT)
    assert not report.ok


async def test_204_without_a_body_confirms_no_delete(scripted: ScriptedServer) -> None:
    """An empty 204 says nothing about which ids were deleted: they are not counted as deleted."""
    scripted.default = Reply(status=204, body=None)
    report = await delete(scripted, SENT)
    assert_delete_invariant(report, SENT)
    assert report.success_count == 0
    assert isinstance(report.errors[0].error, InvalidResponseError)


# --- link and unlink answers -------------------------------------------------------

UNUSABLE_LINK: Final[list[tuple[str, bytes]]] = [
    ("empty body", b""),
    ("a list", b"[]"),
    ("negative created", body({"created": -1, "skipped": 4})),
    ("negative skipped", body({"created": 4, "skipped": -2})),
    ("created as str", body({"created": "4", "skipped": 0})),
    ("created as float", body({"created": 4.0, "skipped": 0})),
    ("created as bool", body({"created": True, "skipped": 3})),
    ("created null", body({"created": None, "skipped": 4})),
    ("skipped missing", body({"created": 4})),
    ("more created than sent", body({"created": 5, "skipped": 0})),
    ("more counted than sent", body({"created": 3, "skipped": 2})),
    ("absurd count", body({"created": 10**20, "skipped": 0})),
]


@pytest.mark.parametrize(("label", "raw"), UNUSABLE_LINK, ids=[c[0] for c in UNUSABLE_LINK])
async def test_unusable_link_answer_fails_its_chunk_and_counts_nothing(
    scripted: ScriptedServer, label: str, raw: bytes
) -> None:
    """Counts that are not ints, are negative or exceed the chunk are not added to the totals."""
    scripted.default = Reply(body=raw)
    report = await link(scripted, SENT)
    assert (report.created, report.skipped) == (0, 0)
    assert sorted(report.failed_ids) == sorted(SENT)
    [error] = report.errors
    assert isinstance(error.error, InvalidResponseError)
    assert not report.ok


UNUSABLE_UNLINK: Final[list[tuple[str, bytes]]] = [
    ("empty body", b""),
    ("negative", body({"deleted": -1})),
    ("as str", body({"deleted": "2"})),
    ("as float", body({"deleted": 1.5})),
    ("as bool", body({"deleted": False})),
    ("missing", body({"created": 2})),
    ("more than sent", body({"deleted": 5})),
]


@pytest.mark.parametrize(("label", "raw"), UNUSABLE_UNLINK, ids=[c[0] for c in UNUSABLE_UNLINK])
async def test_unusable_unlink_answer_fails_its_chunk_and_counts_nothing(
    scripted: ScriptedServer, label: str, raw: bytes
) -> None:
    """deleted must be an int between 0 and the chunk's size, or the chunk failed."""
    scripted.default = Reply(body=raw)
    report = await unlink(scripted, SENT)
    assert report.deleted == 0
    assert sorted(report.failed_ids) == sorted(SENT)
    [error] = report.errors
    assert isinstance(error.error, InvalidResponseError)


async def test_one_bad_link_answer_leaves_the_other_chunks_counted(
    scripted: ScriptedServer,
) -> None:
    """A chunk with an impossible count fails alone; the good chunks' counts stand."""
    scripted.push(
        Reply(body=body({"created": 1, "skipped": 1})),
        Reply(body=body({"created": 7, "skipped": 0})),
    )
    report = await link(scripted, SENT, chunk_size=2, max_concurrency=1)
    assert (report.created, report.skipped) == (1, 1)
    assert report.failed_ids == (C, D)
    assert [e.ids for e in report.errors] == [[C, D]]


async def test_fewer_counted_than_sent_is_accepted(scripted: ScriptedServer) -> None:
    """The API may leave unknown ids out of its counts: fewer than sent is not an error."""
    scripted.default = Reply(body=body({"created": 1, "skipped": 2}))
    report = await link(scripted, SENT)
    assert (report.created, report.skipped, report.ok) == (1, 2, True)


@pytest.mark.parametrize(
    "raw",
    [
        body({"created": -1, "skipped": 0}),
        body({"created": "3", "skipped": 0}),
        body({"created": 3}),
        b"",
    ],
)
async def test_unusable_link_by_filters_answer_raises_invalid_response(
    scripted: ScriptedServer, raw: bytes
) -> None:
    """link_by_filters has one answer: if its counts are unusable, InvalidResponseError."""
    scripted.default = Reply(body=raw)
    async with make_client(scripted.url) as client:
        with pytest.raises(InvalidResponseError, match=r"created|skipped"):
            await client.projects.link_by_filters(PROJECT, "invoices", {})


async def test_unusable_delete_by_filters_answer_raises_invalid_response(
    scripted: ScriptedServer,
) -> None:
    """delete-by-filters' answer must hold two lists of id strings."""
    scripted.default = Reply(body=body({"success_ids": [A, 3], "failed_ids": []}))
    async with make_client(scripted.url) as client:
        with pytest.raises(InvalidResponseError, match="success_ids"):
            await client.transports.bulk_delete_by_filters({"status": "error"}, filter_hash="h")


# --- list pages ---------------------------------------------------------------------

ROUTE: Final = {"id": A, "name": "Route 1", "co2e": 1.5, "created_at": "2024-01-01T00:00:00Z"}

BAD_PAGES: Final[list[tuple[str, bytes]]] = [
    ("empty body", b""),
    ("null", b"null"),
    ("a list", body([ROUTE])),
    ("items missing", body({"total": 1, "page": 1, "size": 50})),
    ("items null", body({"items": None, "total": 0})),
    ("items an object", body({"items": {"0": ROUTE}, "total": 1})),
    ("item a string", body({"items": [ROUTE, "route"], "total": 2})),
    ("item null", body({"items": [ROUTE, None], "total": 2})),
    ("item a number", body({"items": [5], "total": 1})),
    ("item a list", body({"items": [[A]], "total": 1})),
    ("item without id", body({"items": [{"name": "x"}], "total": 1})),
    ("id null", body({"items": [{**ROUTE, "id": None}], "total": 1})),
    ("id a number", body({"items": [{**ROUTE, "id": 5}], "total": 1})),
    ("id an object", body({"items": [{**ROUTE, "id": {"uuid": A}}], "total": 1})),
    ("co2e not a number", body({"items": [{**ROUTE, "co2e": "lots"}], "total": 1})),
    ("created_at garbage", body({"items": [{**ROUTE, "created_at": "yesterday"}], "total": 1})),
    ("updated_at a number", body({"items": [{**ROUTE, "updated_at": 5}], "total": 1})),
    ("total not a number", body({"items": [ROUTE], "total": "many"})),
    ("total negative", body({"items": [ROUTE], "total": -1})),
    ("total a bool", body({"items": [ROUTE], "total": True})),
    ("total a float", body({"items": [ROUTE], "total": 1.5})),
    ("page a string", body({"items": [ROUTE], "total": 1, "page": "one"})),
    ("filter_hash a number", body({"items": [ROUTE], "total": 1, "filter_hash": 12345})),
]


@pytest.mark.parametrize(("label", "raw"), BAD_PAGES, ids=[c[0] for c in BAD_PAGES])
@pytest.mark.parametrize("resource", ["transports", "vehicles"])
async def test_malformed_list_page_raises_invalid_response(
    scripted: ScriptedServer, resource: str, label: str, raw: bytes
) -> None:
    """A page that is not an object of well-formed items is an InvalidResponseError, no crash."""
    scripted.default = Reply(body=raw)
    async with make_client(scripted.url) as client:
        records = client.transports if resource == "transports" else client.vehicles
        with pytest.raises(InvalidResponseError):
            await records.list()
        with pytest.raises(InvalidResponseError):
            async for _ in records.iter():
                pass


async def test_a_well_formed_page_is_read(scripted: ScriptedServer) -> None:
    """The same page with sound values is accepted (the malformed cases above are not noise)."""
    scripted.default = Reply(body=body({"items": [ROUTE], "total": 1, "filter_hash": "h"}))
    async with make_client(scripted.url) as client:
        page = await client.transports.list()
    assert [route.id for route in page.items] == [A]
    assert (page.total, page.filter_hash) == (1, "h")


async def test_iteration_stops_when_a_page_is_short_whatever_total_says(
    scripted: ScriptedServer,
) -> None:
    """A server claiming a million matches but sending a short page cannot make iter() spin."""
    scripted.default = Reply(body=body({"items": [ROUTE], "total": 1_000_000}))
    async with make_client(scripted.url) as client:
        routes = [route async for route in client.transports.iter(size=10)]
    assert [route.id for route in routes] == [A]
    assert len(scripted.seen) == 1


Starter = Callable[[DcycleClient], Awaitable[Any]]


async def test_preview_without_a_filter_hash_is_refused(scripted: ScriptedServer) -> None:
    """A preview must carry a filter_hash to guard the delete; a page without one is invalid."""
    scripted.default = Reply(body=body({"items": [ROUTE], "total": 1}))
    async with make_client(scripted.url) as client:
        with pytest.raises(InvalidResponseError, match="filter_hash"):
            await client.transports.preview_delete({"status": "error"})
