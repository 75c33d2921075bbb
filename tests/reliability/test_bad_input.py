"""Bad input is refused before anything is sent, and never reaches another path.

Every id-based operation (transports / vehicles ``bulk_delete``, projects
``link`` / ``unlink``) and every filter-based one is fed malformed ids,
wrong types, empty input, bad options, bad filters and hostile path ids.
The emulator's request log is the witness: nothing was sent, or only the
intended request.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Final

import pytest
from dcycle_async import (
    BulkDeleteReport,
    BulkOperationError,
    DcycleClient,
    EntityType,
    InvalidFiltersError,
    LinkReport,
    LogisticRequestsFilters,
    TransportFilters,
    UnlinkReport,
    VehicleFilters,
)
from dcycle_async._resources import RecordsResource
from dcycle_async.testing import Emulator, Organization

pytestmark = pytest.mark.anyio

Report = BulkDeleteReport | LinkReport | UnlinkReport

DELETES: Final = ("transports.bulk_delete", "vehicles.bulk_delete")
LINKS: Final = ("projects.link", "projects.unlink")
ID_OPS: Final = DELETES + LINKS
LIMIT: Final = {
    "transports.bulk_delete": 100_000,
    "vehicles.bulk_delete": 100_000,
    "projects.link": 100,
    "projects.unlink": 100,
}

# A UUID that no test seeds, and its hex digits: the raw material of near misses.
V: Final = "0f1e2d3c-4b5a-4697-8877-665544332211"
H: Final = V.replace("-", "")

MALFORMED: Final = [
    "",
    "   ",
    "not-a-uuid",
    "12345",
    V[:-1],  # one digit short
    V + "0",  # one digit too many
    V[:8] + V[9:],  # one hyphen missing
    H[:4] + "-" + H[4:],  # a hyphen in the wrong place
    "0x" + H[2:],  # uuid.UUID() reads it as hex with a prefix
    "+" + H[1:],  # ... with a sign
    H[:5] + "_" + H[6:],  # ... with a digit separator
    "\uff10" * 32,  # fullwidth digits, which int() accepts
    "\u0660" * 32,  # Arabic-Indic digits, likewise
    V.replace("e", "\u0435"),  # Cyrillic lookalike letters
    "g" * 32,
    "{" + V,  # unbalanced brace
    V + "}",
    "urn:" + H,  # a URN without its uuid namespace
    "urn:uuid:" + V + "0",
    V[:8] + "uuid:" + V[8:],  # uuid.UUID() removes "uuid:" anywhere
    V + "/../x",
    V + "\x00",
    V + "\n" + V,
]


def seed(emu: Emulator, org: Organization, op: str, n: int) -> list[str]:
    """Records (or linkable invoices) in the org that ``op`` can act on."""
    if op == "transports.bulk_delete":
        return emu.store.seed_transports(org.id, n)
    if op == "vehicles.bulk_delete":
        return emu.store.seed_vehicles(org.id, n)
    return emu.store.seed_entities(org.id, EntityType.INVOICES, n)


def call(client: DcycleClient, op: str, project: str, ids: Any, **kwargs: Any) -> Awaitable[Any]:
    """Start the id-based operation ``op`` with ``ids`` (and ``project`` for links)."""
    if op == "transports.bulk_delete":
        return client.transports.bulk_delete(ids, **kwargs)
    if op == "vehicles.bulk_delete":
        return client.vehicles.bulk_delete(ids, **kwargs)
    if op == "projects.link":
        return client.projects.link(project, "invoices", ids, **kwargs)
    assert op == "projects.unlink"
    return client.projects.unlink(project, "invoices", ids, **kwargs)


def ids_sent(emu: Emulator) -> int:
    """How many ids the emulator received in request bodies, over all requests."""
    return sum(r.id_count for r in emu.requests)


@pytest.fixture
def project(dcycle_emulator: Emulator, dcycle_org: Organization) -> str:
    """An empty project of the test organisation."""
    return dcycle_emulator.store.create_project(dcycle_org.id)


@pytest.fixture
def client(dcycle_client: DcycleClient) -> DcycleClient:
    """The plugin's client for the test organisation (closed by the plugin)."""
    return dcycle_client


# --- malformed and wrong-typed ids ------------------------------------------------


@pytest.mark.parametrize("op", ID_OPS)
async def test_malformed_ids_are_reported_invalid_and_never_sent(
    op: str,
    dcycle_emulator: Emulator,
    dcycle_org: Organization,
    project: str,
    client: DcycleClient,
) -> None:
    """Every near-miss of a UUID is in invalid_ids, as given; only the valid ids are sent."""
    emu = dcycle_emulator
    valid = seed(emu, dcycle_org, op, 4)
    if op == "projects.unlink":
        emu.store.link(emu.store.project(dcycle_org.id, project), EntityType.INVOICES, valid)  # type: ignore[arg-type]
    mixed = [valid[0], *MALFORMED[:10], valid[1], valid[2], *MALFORMED[10:], valid[3]]
    report: Report = await call(client, op, project, mixed)
    assert sorted(report.invalid_ids) == sorted(MALFORMED)
    assert len(report.invalid_ids) == len(MALFORMED)
    assert report.failed_ids == ()
    assert not report.ok
    assert report.requests == len(emu.requests) == 1
    assert ids_sent(emu) == len(valid)
    if isinstance(report, BulkDeleteReport):
        assert sorted(report.success_ids) == sorted(valid)
    elif isinstance(report, LinkReport):
        # A near miss read as some other UUID would have been sent and skipped.
        assert (report.created, report.skipped) == (len(valid), 0)
    else:
        assert report.deleted == len(valid)


WRONG_TYPES: Final[list[tuple[str, Callable[[list[str]], Any], str]]] = [
    ("None", lambda v: None, r"iterable.*NoneType"),
    ("int", lambda v: 42, r"iterable.*\bint\b"),
    ("float", lambda v: 4.2, r"iterable.*float"),
    ("one UUID object", lambda v: uuid.UUID(v[0]), r"iterable.*UUID"),
    ("one str", lambda v: v[0], r"single str"),
    ("bytes", lambda v: v[0].encode(), r"single str/bytes"),
    ("bytearray", lambda v: bytearray(v[0].encode()), r"single str/bytes"),
    ("dict", lambda v: dict.fromkeys(v, 1), r"mapping"),
    ("None element", lambda v: [*v, None], r"NoneType"),
    ("bytes element", lambda v: [*v, v[0].encode()], r"bytes"),
    ("int element", lambda v: [*v, 7], r"\bint\b"),
    ("bool element", lambda v: [*v, True], r"bool"),
    ("float element", lambda v: [*v, 1.5], r"float"),
    ("nested list", lambda v: [v], r"\blist\b"),
    ("tuple element", lambda v: [*v, (v[0],)], r"tuple"),
    ("dict element", lambda v: [*v, {"id": v[0]}], r"dict"),
]


@pytest.mark.parametrize(
    ("label", "make", "match"), WRONG_TYPES, ids=[case[0] for case in WRONG_TYPES]
)
@pytest.mark.parametrize("op", ID_OPS)
async def test_wrong_typed_ids_raise_a_type_error_and_send_nothing(
    op: str,
    label: str,
    make: Callable[[list[str]], Any],
    match: str,
    dcycle_emulator: Emulator,
    dcycle_org: Organization,
    project: str,
    client: DcycleClient,
) -> None:
    """None, bytes, numbers, nested lists, one str, dicts: a TypeError naming it, no request."""
    valid = seed(dcycle_emulator, dcycle_org, op, 3)
    with pytest.raises(TypeError, match=match):
        await call(client, op, project, make(valid))
    assert dcycle_emulator.requests == []


def _then_none(values: list[str]) -> Iterator[str | None]:
    yield from values
    yield None


async def _async_then_none(values: list[str]) -> AsyncIterator[str | None]:
    for value in values:
        yield value
    yield None


@pytest.mark.parametrize("kind", ["iterator", "async iterator"])
@pytest.mark.parametrize("op", ID_OPS)
async def test_wrong_typed_id_in_a_stream_aborts_before_its_chunk_is_sent(
    op: str,
    kind: str,
    dcycle_emulator: Emulator,
    dcycle_org: Organization,
    project: str,
    client: DcycleClient,
) -> None:
    """A stream is read lazily: a bad item in the first chunk aborts with the TypeError chained."""
    valid = seed(dcycle_emulator, dcycle_org, op, 3)
    stream = _then_none(valid) if kind == "iterator" else _async_then_none(valid)
    with pytest.raises(BulkOperationError) as info:
        await call(client, op, project, stream)
    assert isinstance(info.value.__cause__, TypeError)
    assert "NoneType" in str(info.value.__cause__)
    assert dcycle_emulator.requests == []


@pytest.mark.parametrize("op", ID_OPS)
async def test_ids_after_a_wrong_typed_item_in_a_stream_are_never_sent(
    op: str,
    dcycle_emulator: Emulator,
    dcycle_org: Organization,
    project: str,
    client: DcycleClient,
) -> None:
    """Chunks before the bad item may go out; nothing read with or after it ever does."""
    emu = dcycle_emulator
    valid = seed(emu, dcycle_org, op, 6)
    stream = iter([*valid[:4], None, *valid[4:]])
    with pytest.raises(BulkOperationError) as info:
        await call(client, op, project, stream, chunk_size=2, max_concurrency=1)
    assert isinstance(info.value.__cause__, TypeError)
    assert ids_sent(emu) <= 4
    assert all(r.id_count <= 2 for r in emu.requests)
    if op == "transports.bulk_delete":
        assert set(valid[4:]) <= emu.store.transport_ids(dcycle_org.id)
    elif op == "vehicles.bulk_delete":
        assert set(valid[4:]) <= emu.store.vehicle_ids(dcycle_org.id)
    elif op == "projects.link":
        assert not set(valid[4:]) & emu.store.linked_ids(project, EntityType.INVOICES)


# --- empty input ------------------------------------------------------------------


async def _nothing() -> AsyncIterator[str]:
    values: tuple[str, ...] = ()
    for value in values:
        yield value


def _no_generator() -> Iterator[str]:
    yield from ()


EMPTY: Final[list[tuple[str, Callable[[], Any]]]] = [
    ("list", list),
    ("tuple", tuple),
    ("set", set),
    ("frozenset", frozenset),
    ("range", lambda: range(0)),
    ("iterator", lambda: iter([])),
    ("generator", _no_generator),
    ("async generator", _nothing),
]


@pytest.mark.parametrize(("label", "make"), EMPTY, ids=[case[0] for case in EMPTY])
@pytest.mark.parametrize("op", ID_OPS)
async def test_empty_input_is_a_no_op_report(
    op: str,
    label: str,
    make: Callable[[], Any],
    dcycle_emulator: Emulator,
    project: str,
    client: DcycleClient,
) -> None:
    """No ids: an ok report that counts nothing, and no request at all."""
    report: Report = await call(client, op, project, make())
    assert report.ok
    assert (report.requests, report.retries, report.duplicate_count) == (0, 0, 0)
    assert (report.failed_ids, report.invalid_ids, report.errors) == ((), (), ())
    if isinstance(report, BulkDeleteReport):
        assert (report.success_count, report.failed_count, report.success_ids) == (0, 0, ())
    elif isinstance(report, LinkReport):
        assert (report.created, report.skipped) == (0, 0)
    else:
        assert report.deleted == 0
    assert dcycle_emulator.requests == []


@pytest.mark.parametrize("op", ID_OPS)
async def test_only_invalid_ids_send_nothing(
    op: str, dcycle_emulator: Emulator, project: str, client: DcycleClient
) -> None:
    """Input with no valid id is reported (invalid, duplicates counted) without a request."""
    report: Report = await call(client, op, project, ["nope", "", "nope", V[:-1]])
    assert sorted(report.invalid_ids) == sorted(["nope", "", V[:-1]])
    assert report.duplicate_count == 1
    assert not report.ok
    assert report.requests == 0
    assert dcycle_emulator.requests == []


# --- options ----------------------------------------------------------------------


@pytest.mark.parametrize("op", ID_OPS)
@pytest.mark.parametrize(
    "chunk_size", [0, -1, "limit+1", 10**9, True, False, 1.5, "10", None], ids=repr
)
async def test_bad_chunk_size_is_refused(
    op: str,
    chunk_size: Any,
    dcycle_emulator: Emulator,
    dcycle_org: Organization,
    project: str,
    client: DcycleClient,
) -> None:
    """Zero, negative, above the API's limit, bool or not an int: refused naming chunk_size."""
    size = LIMIT[op] + 1 if chunk_size == "limit+1" else chunk_size
    valid = seed(dcycle_emulator, dcycle_org, op, 2)
    with pytest.raises((TypeError, ValueError), match="chunk_size"):
        await call(client, op, project, valid, chunk_size=size)
    assert dcycle_emulator.requests == []


@pytest.mark.parametrize("op", ID_OPS)
async def test_chunk_size_at_the_limit_is_accepted(
    op: str,
    dcycle_emulator: Emulator,
    dcycle_org: Organization,
    project: str,
    client: DcycleClient,
) -> None:
    """The API's own limit is a valid chunk_size (the boundary is inclusive)."""
    valid = seed(dcycle_emulator, dcycle_org, op, 2)
    report: Report = await call(client, op, project, valid, chunk_size=LIMIT[op])
    assert report.requests == 1


@pytest.mark.parametrize("op", ID_OPS)
@pytest.mark.parametrize("max_concurrency", [0, -1, True, False, 2.5, "4"], ids=repr)
async def test_bad_max_concurrency_is_refused(
    op: str,
    max_concurrency: Any,
    dcycle_emulator: Emulator,
    dcycle_org: Organization,
    project: str,
    client: DcycleClient,
) -> None:
    """A per-call max_concurrency that is not an int >= 1 is refused, naming it."""
    valid = seed(dcycle_emulator, dcycle_org, op, 2)
    with pytest.raises(ValueError, match="max_concurrency"):
        await call(client, op, project, valid, max_concurrency=max_concurrency)
    assert dcycle_emulator.requests == []


@pytest.mark.parametrize("max_concurrency", [0, -1, True, 2.5, "4", None], ids=repr)
def test_bad_client_max_concurrency_fails_at_construction(max_concurrency: Any) -> None:
    """The client-wide max_concurrency is checked when the client is built."""
    with pytest.raises(ValueError, match="max_concurrency"):
        DcycleClient("sk_test_key_1234", V, max_concurrency=max_concurrency)


ENTITY_OPS: Final = ("link", "unlink", "link-by-filters")


@pytest.mark.parametrize("op", ENTITY_OPS)
@pytest.mark.parametrize(
    "entity_type",
    ["widgets", "INVOICES", "invoice", "", " invoices", "invoices\n", None, 7, b"invoices"],
    ids=repr,
)
async def test_unknown_entity_type_is_refused(
    op: str,
    entity_type: Any,
    dcycle_emulator: Emulator,
    dcycle_org: Organization,
    project: str,
    client: DcycleClient,
) -> None:
    """Only the API's five entity types (or EntityType) are accepted; the error lists them."""
    valid = seed(dcycle_emulator, dcycle_org, "projects.link", 2)
    started = _entity_op(client, op, project, valid, entity_type)
    with pytest.raises(ValueError, match=r"entity_type.*logistic_requests.*file_readings"):
        await started
    assert dcycle_emulator.requests == []


def _entity_op(
    client: DcycleClient, op: str, project: Any, ids: list[str], entity_type: Any = "invoices"
) -> Awaitable[Any]:
    """Start projects.link, unlink or link_by_filters (all of the type's entities)."""
    if op == "link":
        return client.projects.link(project, entity_type, ids)
    if op == "unlink":
        return client.projects.unlink(project, entity_type, ids)
    return client.projects.link_by_filters(project, entity_type, {})


# --- filters ----------------------------------------------------------------------

Call = Callable[[DcycleClient, str], Awaitable[Any]]


def _first(items: AsyncIterator[Any]) -> Awaitable[Any]:
    return anext(items)


BAD_FILTERS: Final[list[tuple[str, Call, type[Exception], str]]] = [
    (
        "link: unknown key",
        lambda c, p: c.projects.link_by_filters(p, "invoices", {"facility": ["x"]}),
        InvalidFiltersError,
        r"unknown filter key 'facility'.*allowed keys: types, statuses, facility_ids",
    ),
    (
        "link: impossible date",
        lambda c, p: c.projects.link_by_filters(p, "invoices", {"start_date": "2024-13-01"}),
        InvalidFiltersError,
        r"start_date.*not a valid date",
    ),
    (
        "link: date as int",
        lambda c, p: c.projects.link_by_filters(p, "invoices", {"start_date": 20240101}),
        InvalidFiltersError,
        r"start_date",
    ),
    (
        "link: malformed UUID",
        lambda c, p: c.projects.link_by_filters(p, "invoices", {"facility_ids": ["0x" + H[2:]]}),
        InvalidFiltersError,
        r"facility_ids.*UUID",
    ),
    (
        "link: list of numbers",
        lambda c, p: c.projects.link_by_filters(p, "invoices", {"types": [5]}),
        InvalidFiltersError,
        r"types",
    ),
    (
        "link: not a mapping",
        lambda c, p: c.projects.link_by_filters(p, "invoices", ["types"]),  # type: ignore[arg-type]
        InvalidFiltersError,
        r"must be a InvoicesFilters or a dict",
    ),
    (
        "link: a query string",
        lambda c, p: c.projects.link_by_filters(p, "invoices", "types=heat"),  # type: ignore[arg-type]
        InvalidFiltersError,
        r"must be a InvoicesFilters or a dict",
    ),
    (
        "link: non-str key",
        lambda c, p: c.projects.link_by_filters(p, "invoices", {1: "x"}),  # type: ignore[dict-item]
        InvalidFiltersError,
        r"filter keys must be strings",
    ),
    (
        "link: filters of another entity type",
        lambda c, p: c.projects.link_by_filters(p, "invoices", LogisticRequestsFilters()),
        InvalidFiltersError,
        r"InvoicesFilters",
    ),
    (
        "link: record filters",
        lambda c, p: c.projects.link_by_filters(p, "invoices", TransportFilters()),  # type: ignore[arg-type]
        InvalidFiltersError,
        r"InvoicesFilters",
    ),
    (
        "link: bool as str",
        lambda c, p: c.projects.link_by_filters(p, "file_readings", {"linked": "yes"}),
        InvalidFiltersError,
        r"linked.*True or False",
    ),
    (
        "list: unknown key",
        lambda c, p: c.transports.list({"bogus": 1}),
        InvalidFiltersError,
        r"unknown filter key 'bogus'.*allowed keys: search, from_date",
    ),
    (
        "list: unknown status",
        lambda c, p: c.transports.list({"status": "gone"}),
        InvalidFiltersError,
        r"status.*'active'",
    ),
    (
        "list: bad date",
        lambda c, p: c.transports.list({"from_date": "yesterday"}),
        InvalidFiltersError,
        r"from_date",
    ),
    (
        "list: hostile file id",
        lambda c, p: c.transports.list({"file_id": ["../x&status=active"]}),
        InvalidFiltersError,
        r"file_id.*UUID",
    ),
    (
        "list: empty search",
        lambda c, p: c.transports.list({"search": ""}),
        InvalidFiltersError,
        r"search",
    ),
    (
        "list: oversize search",
        lambda c, p: c.transports.list({"search": "x" * 256}),
        InvalidFiltersError,
        r"search",
    ),
    (
        "list: bad timestamp",
        lambda c, p: c.transports.list({"created_at_from": "not a time"}),
        InvalidFiltersError,
        r"created_at_from",
    ),
    (
        "list: typed filters of the other resource",
        lambda c, p: c.transports.list(VehicleFilters()),  # type: ignore[arg-type]
        InvalidFiltersError,
        r"TransportFilters",
    ),
    (
        "list: bool as str",
        lambda c, p: c.vehicles.list({"include_children": "true"}),
        InvalidFiltersError,
        r"include_children",
    ),
    (
        "list: mixed list",
        lambda c, p: c.vehicles.list({"status": ["active", 3]}),
        InvalidFiltersError,
        r"status",
    ),
    (
        "list: page 0",
        lambda c, p: c.vehicles.list(page=0),
        ValueError,
        r"page",
    ),
    (
        "list: size above 100",
        lambda c, p: c.vehicles.list(size=101),
        ValueError,
        r"size",
    ),
    (
        "list: empty sort",
        lambda c, p: c.vehicles.list(sort=""),
        ValueError,
        r"sort",
    ),
    (
        "iter: unknown key",
        lambda c, p: _first(c.transports.iter({"bogus": 1})),
        InvalidFiltersError,
        r"unknown filter key 'bogus'",
    ),
    (
        "delete by filters: no filter",
        lambda c, p: c.transports.bulk_delete_by_filters({}, filter_hash="abc"),
        InvalidFiltersError,
        r"refusing to delete by filters with no filter",
    ),
    (
        "delete by filters: None",
        lambda c, p: c.vehicles.bulk_delete_by_filters(None, filter_hash="abc"),  # type: ignore[arg-type]
        InvalidFiltersError,
        r"refusing",
    ),
    (
        "delete by filters: only include_children",
        lambda c, p: c.vehicles.bulk_delete_by_filters(
            {"include_children": True}, filter_hash="abc"
        ),
        InvalidFiltersError,
        r"refusing",
    ),
    (
        "delete by filters: empty lists",
        lambda c, p: c.transports.bulk_delete_by_filters({"status": []}, filter_hash="abc"),
        InvalidFiltersError,
        r"refusing",
    ),
    (
        "delete by filters: unknown key",
        lambda c, p: c.transports.bulk_delete_by_filters({"bogus": 1}, filter_hash="abc"),
        InvalidFiltersError,
        r"unknown filter key 'bogus'",
    ),
    (
        "delete by filters: empty filter_hash",
        lambda c, p: c.transports.bulk_delete_by_filters({"status": ["error"]}, filter_hash=""),
        ValueError,
        r"filter_hash",
    ),
    (
        "delete by filters: blank filter_hash",
        lambda c, p: c.transports.bulk_delete_by_filters({"status": ["error"]}, filter_hash="  "),
        ValueError,
        r"filter_hash",
    ),
    (
        "delete by filters: filter_hash None",
        lambda c, p: c.transports.bulk_delete_by_filters(
            {"status": ["error"]},
            filter_hash=None,  # type: ignore[arg-type]
        ),
        ValueError,
        r"filter_hash",
    ),
    (
        "preview: no filter",
        lambda c, p: c.transports.preview_delete({}),
        InvalidFiltersError,
        r"refusing",
    ),
]


@pytest.mark.parametrize(
    ("label", "start", "error", "match"), BAD_FILTERS, ids=[case[0] for case in BAD_FILTERS]
)
async def test_bad_filters_are_refused_before_any_request(
    label: str,
    start: Call,
    error: type[Exception],
    match: str,
    dcycle_emulator: Emulator,
    project: str,
    client: DcycleClient,
) -> None:
    """Unknown keys, wrong types, empty delete filters: refused client-side, nothing sent."""
    with pytest.raises(error, match=match):
        await start(client, project)
    assert dcycle_emulator.requests == []


# --- the organisation id ----------------------------------------------------------


@pytest.mark.parametrize(
    ("org_id", "error"),
    [
        ("acme", ValueError),
        ("", ValueError),
        (None, ValueError),
        (123, TypeError),
        (V.encode(), TypeError),
        ("0x" + H[2:], ValueError),
        (H[:5] + "_" + H[6:], ValueError),
        ("\uff10" * 32, ValueError),
        ("{" + V, ValueError),
        ("../" + V, ValueError),
        (V + "/../x", ValueError),
        (V + "?x=1", ValueError),
        (V + "\r\nX-Evil: 1", ValueError),
    ],
    ids=repr,
)
def test_bad_organization_id_fails_at_construction(
    org_id: Any, error: type[Exception], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing, wrong-typed or non-UUID organisation id is an error naming it, at once."""
    monkeypatch.delenv("DCYCLE_ORG_ID", raising=False)
    with pytest.raises(error, match="organization_id"):
        DcycleClient("sk_test_key_1234", org_id)


def test_bad_organization_id_from_the_environment_fails_at_construction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DCYCLE_ORG_ID is held to the same rule as the argument."""
    monkeypatch.setenv("DCYCLE_ORG_ID", "0x" + H[2:])
    with pytest.raises(ValueError, match="organization_id"):
        DcycleClient("sk_test_key_1234")


@pytest.mark.parametrize("org_id", [V.upper(), "{" + V + "}", "urn:uuid:" + V, H, f" {V}\n"])
def test_organization_id_in_any_standard_form_is_canonicalised(org_id: str) -> None:
    """Upper case, braces, urn:uuid:, bare hex and surrounding whitespace all mean the UUID."""
    assert DcycleClient("sk_test_key_1234", org_id).config.organization_id == V


# --- hostile ids in URL paths ----------------------------------------------------

REFUSED: Final = "refused"
_CYRILLIC: Final = str.maketrans("aec", "\u0430\u0435\u0441")
INTENDED: Final = "intended"

HOSTILE: Final[list[tuple[str, Callable[[str], Any], str]]] = [
    ("dot-dot after", lambda i: f"{i}/../x", REFUSED),
    ("dot-dot before", lambda i: f"../{i}", REFUSED),
    ("dot-dot only", lambda i: "../../v1/transports", REFUSED),
    ("encoded dot-dot", lambda i: f"{i}%2F..%2F..%2Fv1%2Ftransports", REFUSED),
    ("encoded dot-dot before", lambda i: f"..%2F{i}", REFUSED),
    ("encoded slash", lambda i: "%2F", REFUSED),
    ("encoded slash after", lambda i: f"{i}%2F", REFUSED),
    ("query after", lambda i: f"{i}?x=1", REFUSED),
    ("empty query after", lambda i: f"{i}?", REFUSED),
    ("query only", lambda i: f"?x={i}", REFUSED),
    ("fragment after", lambda i: f"{i}#frag", REFUSED),
    ("fragment before", lambda i: f"#{i}", REFUSED),
    ("encoded NUL", lambda i: f"{i}%00", REFUSED),
    ("NUL", lambda i: f"{i}\x00", REFUSED),
    ("header injection", lambda i: f"{i}\r\nX-Evil: 1", REFUSED),
    ("inner space", lambda i: f"{i[:8]} {i[9:]}", REFUSED),
    ("division slash", lambda i: f"{i}\u2215x", REFUSED),
    ("fullwidth solidus", lambda i: f"{i}\uff0f..\uff0fx", REFUSED),
    ("fullwidth digits", lambda i: i.translate({c: c + 0xFEE0 for c in range(48, 58)}), REFUSED),
    ("Cyrillic lookalikes", lambda i: i.translate(_CYRILLIC), REFUSED),
    ("hex prefix", lambda i: "0x" + i.replace("-", "")[2:], REFUSED),
    ("digit separator", lambda i: i.replace("-", "")[:5] + "_" + i.replace("-", "")[6:], REFUSED),
    ("dot", lambda i: ".", REFUSED),
    ("dot-dot", lambda i: "..", REFUSED),
    ("empty", lambda i: "", REFUSED),
    ("None", lambda i: None, REFUSED),
    ("bytes", lambda i: i.encode(), REFUSED),
    ("surrounding whitespace", lambda i: f" \t{i}\n", INTENDED),
    ("upper case", lambda i: i.upper(), INTENDED),
    ("braces", lambda i: "{" + i + "}", INTENDED),
    ("urn", lambda i: f"urn:uuid:{i}", INTENDED),
    ("bare hex", lambda i: i.replace("-", ""), INTENDED),
    ("UUID object", lambda i: uuid.UUID(i), INTENDED),
]
HOSTILE_IDS: Final = [case[0] for case in HOSTILE]


@pytest.mark.parametrize(("label", "disguise", "outcome"), HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("op", ["link", "unlink", "link-by-filters"])
async def test_hostile_project_id_never_reaches_another_path(
    op: str,
    label: str,
    disguise: Callable[[str], Any],
    outcome: str,
    dcycle_emulator: Emulator,
    dcycle_org: Organization,
    project: str,
    client: DcycleClient,
) -> None:
    """A project id is a UUID or refused: no traversal, query, fragment or lookalike gets out."""
    ids = seed(dcycle_emulator, dcycle_org, "projects.link", 2)
    hostile = disguise(project)
    if outcome == REFUSED:
        with pytest.raises((ValueError, TypeError), match="project_id"):
            await _entity_op(client, op, hostile, ids)
        assert dcycle_emulator.requests == []
    else:
        await _entity_op(client, op, hostile, ids)
        intended = f"/v1/projects/{project}/entities/{op}"
        assert [r.path for r in dcycle_emulator.requests] == [intended]
        assert [r.status for r in dcycle_emulator.requests] == [200]


@pytest.mark.parametrize(("label", "disguise", "outcome"), HOSTILE, ids=HOSTILE_IDS)
@pytest.mark.parametrize("resource", ["transports", "vehicles"])
async def test_hostile_record_id_never_reaches_another_path(
    resource: str,
    label: str,
    disguise: Callable[[str], Any],
    outcome: str,
    dcycle_emulator: Emulator,
    dcycle_org: Organization,
    client: DcycleClient,
) -> None:
    """A single-record delete goes to /v1/<resource>/<canonical id> or nowhere at all."""
    emu = dcycle_emulator
    records: RecordsResource[Any, Any]
    remaining: Callable[[], set[str]]
    if resource == "transports":
        target, *others = emu.store.seed_transports(dcycle_org.id, 3)
        records, remaining = client.transports, lambda: emu.store.transport_ids(dcycle_org.id)
    else:
        target, *others = emu.store.seed_vehicles(dcycle_org.id, 3)
        records, remaining = client.vehicles, lambda: emu.store.vehicle_ids(dcycle_org.id)
    hostile = disguise(target)
    if outcome == REFUSED:
        with pytest.raises((ValueError, TypeError), match=r"\bid\b"):
            await records.delete(hostile)
        assert emu.requests == []
        assert remaining() == {target, *others}
    else:
        await records.delete(hostile)
        assert [(r.method, r.path) for r in emu.requests] == [
            ("DELETE", f"/v1/{resource}/{target}")
        ]
        assert remaining() == set(others)


# None is no file_id filter at all, not a hostile one.
HOSTILE_FILE_IDS: Final = [case for case in HOSTILE if case[2] == REFUSED and case[0] != "None"]


@pytest.mark.parametrize(
    ("label", "disguise", "outcome"), HOSTILE_FILE_IDS, ids=[c[0] for c in HOSTILE_FILE_IDS]
)
async def test_hostile_file_id_never_reaches_the_counts_query(
    label: str,
    disguise: Callable[[str], Any],
    outcome: str,
    dcycle_emulator: Emulator,
    client: DcycleClient,
) -> None:
    """transports.counts(file_id=...) takes a UUID only; anything else is refused unsent."""
    with pytest.raises((ValueError, TypeError), match="file_id"):
        await client.transports.counts(file_id=disguise(V))
    assert dcycle_emulator.requests == []
