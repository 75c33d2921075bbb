"""Filters end to end: the client against the emulator, over real sockets.

link_by_filters for every entity type and key, list / iter with every
transport and vehicle filter, sort and paging, the two-step guarded delete,
array styles, and every error path (client-side and server-side).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextlib import aclosing
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Final

import attrs
import pytest
from dcycle_async import (
    ArrayStyle,
    AuthenticationError,
    ConflictError,
    DcycleClient,
    EntityType,
    FileReadingsFilters,
    FilterHashMismatchError,
    InvalidFiltersError,
    InvoicesFilters,
    LinkByFiltersResult,
    LogisticPackagesFilters,
    LogisticRechargesFilters,
    LogisticRequestsFilters,
    NotFoundError,
    Page,
    TransportFilters,
    TransportRoute,
    TransportSection,
    UnprocessableEntityError,
    UploadedBy,
    Vehicle,
    VehicleFilters,
)
from dcycle_async.testing import Emulator, Fault, Organization, RequestRecord, Store

pytestmark = pytest.mark.anyio

Row = dict[str, Any]
Filters = Any  # a typed filter object of any class
NON_FILTER_PARAMS: Final = frozenset({"page", "size", "sort"})
NOWHERE: Final = "00000000-0000-4000-8000-000000000000"  # a project no organisation has
TRANSPORT_KEYS: Final = tuple(attrs.fields_dict(TransportFilters))
VEHICLE_KEYS: Final = tuple(attrs.fields_dict(VehicleFilters))
LINK_CLASSES: Final[Mapping[str, type[Any]]] = {
    "logistic_requests": LogisticRequestsFilters,
    "logistic_recharges": LogisticRechargesFilters,
    "logistic_packages": LogisticPackagesFilters,
    "invoices": InvoicesFilters,
    "file_readings": FileReadingsFilters,
}


# --- helpers -------------------------------------------------------------------


def client_for(emu: Emulator, org: Organization, **kwargs: Any) -> DcycleClient:
    """A client bound to the emulator with the org's API key."""
    return DcycleClient(api_key=org.api_key, organization_id=org.id, base_url=emu.url, **kwargs)


def filter_pairs(record: RequestRecord) -> list[tuple[str, str]]:
    """The filter part of a served request's query, in the order sent."""
    return [(k, v) for k, v in record.query if k.removesuffix("[]") not in NON_FILTER_PARAMS]


def day_of(epoch: int) -> date:
    """The UTC day of an epoch-seconds timestamp."""
    return datetime.fromtimestamp(epoch, UTC).date()


def instant(text: str) -> datetime:
    """An ISO 8601 timestamp as the API renders it, parsed."""
    return datetime.fromisoformat(text)


def entity_rows(store: Store, org_id: str, kind: str) -> dict[str, Row]:
    """Every live entity of a type, id -> its stored attributes."""
    table = store.entity_table(org_id, kind)
    return {
        entity_id: {name: table.value(row, name) for name in table.schema}
        for entity_id, row in table.index.items()
    }


def transport_rows(store: Store, org_id: str) -> dict[str, Row]:
    """Every live transport route, id -> the API's rendering of it."""
    return {i: r for i in store.transport_ids(org_id) if (r := store.transport(org_id, i))}


def vehicle_rows(store: Store, org_id: str) -> dict[str, Row]:
    """Every live vehicle, id -> the API's rendering of it."""
    return {i: r for i in store.vehicle_ids(org_id) if (r := store.vehicle(org_id, i))}


def select(rows: Mapping[str, Row], matches: Callable[[Row], bool]) -> set[str]:
    """Ids of the rows a predicate accepts."""
    return {i for i, row in rows.items() if matches(row)}


# --- link_by_filters: every entity type, every key --------------------------------


@attrs.frozen
class LinkCase:
    """Filters using every key of one entity type, and the data that proves each key.

    ``wanted`` are attribute sets matching every filter (boundaries included);
    each decoy is ``wanted[0]`` with one attribute changed so that exactly one
    key rejects it; ``matches`` is the documented meaning of the filters.
    """

    typed: Filters
    as_dict: dict[str, Any]
    wanted: list[Row]
    decoys: dict[str, Row]
    matches: Callable[[Row], bool]


def requests_case(store: Store, org_id: str) -> LinkCase:
    """logistic_requests: search, clients, trip dates, vehicle types, users, files, created_at."""
    pools = store.pools(org_id)
    user, other_user = pools.users[0]["id"], pools.users[1]["id"]
    files = pools.file_ids
    base = {
        "movement_id": "MOV-SPECIAL-01",
        "client": "ZARA",
        "trip_date": "2024-02-29",
        "vehicle_type": "electric_van",
        "uploaded_by": user,
        "file_id": files[1],
        "created_at": "2024-03-31T23:59:59Z",
    }
    low = {
        **base,
        "movement_id": "MOV-00000002",
        "stretch_id": "STR-Special",
        "client": "AMAZON",
        "trip_date": "2024-02-01",
        "vehicle_type": "van_diesel",
        "file_id": files[0],
        "created_at": "2024-03-01T00:00:00Z",
    }

    def matches(r: Row) -> bool:
        return (
            ("special" in r["movement_id"].lower() or "special" in r["stretch_id"].lower())
            and r["client"] in {"AMAZON", "ZARA"}
            and "2024-02-01" <= r["trip_date"] <= "2024-02-29"
            and r["vehicle_type"] in {"van_diesel", "electric_van"}
            and r["uploaded_by"] == user
            and r["file_id"] in {files[0], files[1]}
            and date(2024, 3, 1) <= day_of(r["created_at"]) <= date(2024, 3, 31)
        )

    return LinkCase(
        typed=LogisticRequestsFilters(
            search="special",
            clients=["AMAZON", "ZARA"],
            trip_date_from=date(2024, 2, 1),
            trip_date_until="2024-02-29",
            vehicle_type=("van_diesel", "electric_van"),
            uploaded_by=[uuid.UUID(user)],
            file_id={files[0], files[1]},
            created_at_from="2024-03-01",
            created_at_to=date(2024, 3, 31),
        ),
        as_dict={
            "search": "special",
            "clients": ["ZARA", "AMAZON"],
            "trip_date_from": "2024-02-01",
            "trip_date_until": date(2024, 2, 29),
            "vehicle_type": ["electric_van", "van_diesel"],
            "uploaded_by": [user.upper()],
            "file_id": [files[1], uuid.UUID(files[0])],
            "created_at_from": date(2024, 3, 1),
            "created_at_to": "2024-03-31",
        },
        wanted=[base, low],
        decoys={
            "search": {"movement_id": "MOV-00000001", "stretch_id": "STR-0000001"},
            "clients": {"client": "IKEA"},
            "trip_date_from": {"trip_date": "2024-01-31"},
            "trip_date_until": {"trip_date": "2024-03-01"},
            "vehicle_type": {"vehicle_type": "lng_truck"},
            "uploaded_by": {"uploaded_by": other_user},
            "file_id": {"file_id": files[2]},
            "created_at_from": {"created_at": "2024-02-29T23:59:59Z"},
            "created_at_to": {"created_at": "2024-04-01T00:00:00Z"},
        },
        matches=matches,
    )


def recharges_case(store: Store, org_id: str) -> LinkCase:
    """logistic_recharges: vehicle types, fuels, plates, files, recharge date, created_at."""
    pools = store.pools(org_id)
    fuel, other_fuel = pools.fuel_ids[0], pools.fuel_ids[1]
    file_id = pools.file_ids[0]
    base = {
        "vehicle_type": "truck_rigid_12t",
        "fuel_id": fuel,
        "vehicle_license_plate": "1234BCD",
        "file_id": file_id,
        "date": "2025-05-01",
        "created_at": "2025-06-30T23:59:59Z",
    }
    high = {
        **base,
        "vehicle_license_plate": "5678FGH",
        "date": "2025-05-31",
        "created_at": "2025-05-01T00:00:00Z",
    }

    def matches(r: Row) -> bool:
        return (
            r["vehicle_type"] == "truck_rigid_12t"
            and r["fuel_id"] == fuel
            and r["vehicle_license_plate"] in {"1234BCD", "5678FGH"}
            and r["file_id"] == file_id
            and "2025-05-01" <= r["date"] <= "2025-05-31"
            and date(2025, 5, 1) <= day_of(r["created_at"]) <= date(2025, 6, 30)
        )

    return LinkCase(
        typed=LogisticRechargesFilters(
            vehicle_type="truck_rigid_12t",
            fuel_id=[fuel],
            vehicle_license_plate=["1234BCD", "5678FGH"],
            file_id=uuid.UUID(file_id),
            date_from=date(2025, 5, 1),
            date_until=date(2025, 5, 31),
            created_at_from=date(2025, 5, 1),
            created_at_to=date(2025, 6, 30),
        ),
        as_dict={
            "vehicle_type": ["truck_rigid_12t"],
            "fuel_id": fuel,
            "vehicle_license_plate": ("5678FGH", "1234BCD"),
            "file_id": [file_id],
            "date_from": "2025-05-01",
            "date_until": "2025-05-31",
            "created_at_from": "2025-05-01",
            "created_at_to": "2025-06-30",
        },
        wanted=[base, high],
        decoys={
            "vehicle_type": {"vehicle_type": "van_diesel"},
            "fuel_id": {"fuel_id": other_fuel},
            "vehicle_license_plate": {"vehicle_license_plate": "0000XYZ"},
            "file_id": {"file_id": None},
            "date_from": {"date": "2025-04-30"},
            "date_until": {"date": "2025-06-01"},
            "created_at_from": {"created_at": "2025-04-30T23:59:59Z"},
            "created_at_to": {"created_at": "2025-07-01T00:00:00Z"},
        },
        matches=matches,
    )


def packages_case(store: Store, org_id: str) -> LinkCase:
    """logistic_packages: created_at_from and created_at_to, both inclusive days."""

    def matches(r: Row) -> bool:
        return date(2024, 6, 1) <= day_of(r["created_at"]) <= date(2024, 6, 30)

    return LinkCase(
        typed=LogisticPackagesFilters(created_at_from=date(2024, 6, 1), created_at_to="2024-06-30"),
        as_dict={"created_at_from": "2024-06-01", "created_at_to": date(2024, 6, 30)},
        wanted=[
            {"created_at": "2024-06-01T00:00:00Z"},
            {"created_at": "2024-06-30T23:59:59Z"},
        ],
        decoys={
            "created_at_from": {"created_at": "2024-05-31T23:59:59Z"},
            "created_at_to": {"created_at": "2024-07-01T00:00:00Z"},
        },
        matches=matches,
    )


def invoices_case(store: Store, org_id: str) -> LinkCase:
    """invoices: types, statuses, facilities, start_date (>=) and end_date (<=)."""
    facilities = store.pools(org_id).facility_ids
    base = {
        "type": "heat",
        "status": "active",
        "facility_id": facilities[0],
        "start_date": "2024-01-01",
        "end_date": "2024-01-31",
    }
    late = {
        **base,
        "type": "electricity",
        "status": "review",
        "facility_id": facilities[1],
        "start_date": "2024-12-01",
        "end_date": "2024-12-31",
    }
    wanted_facilities = {facilities[0], facilities[1]}

    def matches(r: Row) -> bool:
        return (
            r["type"] in {"heat", "electricity"}
            and r["status"] in {"active", "review"}
            and r["facility_id"] in wanted_facilities
            and r["start_date"] >= "2024-01-01"
            and r["end_date"] <= "2024-12-31"
        )

    return LinkCase(
        typed=InvoicesFilters(
            types=["heat", "electricity"],
            statuses=("active", "review"),
            facility_ids=[uuid.UUID(f) for f in sorted(wanted_facilities)],
            start_date=date(2024, 1, 1),
            end_date="2024-12-31",
        ),
        as_dict={
            "types": {"heat", "electricity"},
            "statuses": ["review", "active"],
            "facility_ids": [f.upper() for f in wanted_facilities],
            "start_date": "2024-01-01",
            "end_date": date(2024, 12, 31),
        },
        wanted=[base, late],
        decoys={
            "types": {"type": "water"},
            "statuses": {"status": "error"},
            "facility_ids": {"facility_id": facilities[2]},
            "start_date": {"start_date": "2023-12-31", "end_date": "2024-01-30"},
            "end_date": {"start_date": "2024-12-15", "end_date": "2025-01-14"},
        },
        matches=matches,
    )


LINK_CASES: Final[Mapping[str, Callable[[Store, str], LinkCase]]] = {
    "logistic_requests": requests_case,
    "logistic_recharges": recharges_case,
    "logistic_packages": packages_case,
    "invoices": invoices_case,
}


@pytest.mark.parametrize("kind", list(LINK_CASES))
async def test_link_by_filters_links_exactly_what_every_key_selects(
    dcycle_emulator: Emulator, dcycle_org: Organization, kind: str
) -> None:
    """Every key of the type narrows the links, typed object and dict alike, inclusive bounds."""
    emu, org_id = dcycle_emulator, dcycle_org.id
    store = emu.store
    case = LINK_CASES[kind](store, org_id)
    assert set(case.as_dict) == set(case.decoys) == set(attrs.fields_dict(LINK_CLASSES[kind]))
    assert all(getattr(case.typed, key) is not None for key in case.decoys)
    store.seed_entities(org_id, kind, 300)
    wanted = {i for attrs_ in case.wanted for i in store.seed_entities(org_id, kind, 3, **attrs_)}
    decoys = {
        key: set(store.seed_entities(org_id, kind, 2, **{**case.wanted[0], **change}))
        for key, change in case.decoys.items()
    }
    expected = select(entity_rows(store, org_id, kind), case.matches)
    assert wanted <= expected
    assert all(not ids & expected for ids in decoys.values())
    by_type, by_dict = store.create_project(org_id), store.create_project(org_id)

    async with client_for(emu, dcycle_org) as client:
        first = await client.projects.link_by_filters(by_type, kind, case.typed)
        again = await client.projects.link_by_filters(by_type, EntityType(kind), case.typed)
        from_dict = await client.projects.link_by_filters(by_dict, kind, case.as_dict)

    assert store.linked_ids(by_type, kind) == expected
    assert store.linked_ids(by_dict, kind) == expected
    assert first == LinkByFiltersResult(created=len(expected), skipped=0)
    assert again == LinkByFiltersResult(created=0, skipped=len(expected))
    assert from_dict == LinkByFiltersResult(created=len(expected), skipped=0)
    assert [r.path.rsplit("/", 1)[-1] for r in emu.requests] == ["link-by-filters"] * 3
    assert [r.status for r in emu.requests] == [200, 200, 200]


async def test_link_by_filters_file_readings_linked_true_and_false(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """linked=True selects the readings already linked, linked=False the rest."""
    store = dcycle_emulator.store
    readings = store.seed_entities(dcycle_org.id, "file_readings", 10)
    project = store.create_project(dcycle_org.id)
    async with client_for(dcycle_emulator, dcycle_org) as client:
        await client.projects.link(project, "file_readings", readings[:3])
        only_linked = await client.projects.link_by_filters(
            project, "file_readings", FileReadingsFilters(linked=True)
        )
        assert store.linked_ids(project, "file_readings") == set(readings[:3])
        only_unlinked = await client.projects.link_by_filters(
            project, EntityType.FILE_READINGS, {"linked": False}
        )
    assert only_linked == LinkByFiltersResult(created=0, skipped=3)
    assert only_unlinked == LinkByFiltersResult(created=7, skipped=0)
    assert store.linked_ids(project, "file_readings") == set(readings)


@pytest.mark.parametrize("empty", [None, {}, "typed"], ids=["none", "empty-dict", "typed"])
async def test_link_by_filters_without_filters_links_every_entity(
    dcycle_emulator: Emulator, dcycle_org: Organization, empty: Any
) -> None:
    """No filter links every entity of that type of the organisation, and no other type."""
    store = dcycle_emulator.store
    invoices = store.seed_entities(dcycle_org.id, "invoices", 40)
    store.seed_entities(dcycle_org.id, "logistic_packages", 5)
    other = dcycle_emulator.create_organization()
    store.seed_entities(other.id, "invoices", 5)
    project = store.create_project(dcycle_org.id)
    filters = InvoicesFilters() if empty == "typed" else empty
    async with client_for(dcycle_emulator, dcycle_org) as client:
        result = await client.projects.link_by_filters(project, "invoices", filters)
    assert result == LinkByFiltersResult(created=40, skipped=0)
    assert store.linked_ids(project, "invoices") == set(invoices)
    assert store.linked_ids(project, "logistic_packages") == set()


# --- transports.list / vehicles.list ------------------------------------------------


@pytest.fixture
def transports(dcycle_emulator: Emulator, dcycle_org: Organization) -> dict[str, Row]:
    """300 random routes of the org plus a few at the filters' boundaries; id -> rendering."""
    store, org_id = dcycle_emulator.store, dcycle_org.id
    store.seed_transports(org_id, 300)
    store.seed_transports(org_id, 2, transport_date="2024-07-01", created_at="2024-01-01T00:00:00Z")
    store.seed_transports(org_id, 2, transport_date="2024-06-30", created_at="2024-06-30T12:00:00Z")
    store.seed_transports(org_id, 2, created_at="2023-12-31T23:59:59Z")
    store.seed_transports(org_id, 2, created_at="2024-06-30T12:00:01Z")
    return transport_rows(store, org_id)


def _transport_case(store: Store, org_id: str, case: str) -> tuple[str, Any, Callable[[Row], bool]]:
    """(key, value, predicate over the API's rendering) for one transport filter case."""
    files = store.file_ids(org_id)[:2]
    utc_plus_2 = timezone(timedelta(hours=2))
    cases: dict[str, tuple[str, Any, Callable[[Row], bool]]] = {
        "search": (
            "search",
            "madrid",
            lambda r: "madrid" in r["name"].lower() or "madrid" in r["supplier"].lower(),
        ),
        "from_date": ("from_date", date(2024, 7, 1), lambda r: r["transport_date"] >= "2024-07-01"),
        "to_date": ("to_date", "2024-06-30", lambda r: r["transport_date"] <= "2024-06-30"),
        "status": ("status", ["pending", "error"], lambda r: r["status"] in {"pending", "error"}),
        "transport_direction": (
            "transport_direction",
            "upstream",
            lambda r: r["transport_direction"] == "upstream",
        ),
        "file_id": ("file_id", [files[0], uuid.UUID(files[1])], lambda r: r["file_id"] in files),
        # An aware datetime is sent in UTC: 02:00+02:00 is midnight UTC.
        "created_at_from": (
            "created_at_from",
            datetime(2024, 1, 1, 2, 0, tzinfo=utc_plus_2),
            lambda r: instant(r["created_at"]) >= datetime(2024, 1, 1, tzinfo=UTC),
        ),
        "created_at_to": (
            "created_at_to",
            "2024-06-30T12:00:00Z",
            lambda r: instant(r["created_at"]) <= datetime(2024, 6, 30, 12, tzinfo=UTC),
        ),
        "co2e_calculated": ("co2e_status", "calculated", lambda r: r["co2e"] is not None),
        "co2e_not_calculated": ("co2e_status", "not_calculated", lambda r: r["co2e"] is None),
    }
    assert {key for key, _, _ in cases.values()} == set(TRANSPORT_KEYS)
    return cases[case]


TRANSPORT_CASES: Final = (
    "search",
    "from_date",
    "to_date",
    "status",
    "transport_direction",
    "file_id",
    "created_at_from",
    "created_at_to",
    "co2e_calculated",
    "co2e_not_calculated",
)


@pytest.mark.parametrize("case", TRANSPORT_CASES)
async def test_transport_list_and_iter_apply_every_filter_key(
    dcycle_emulator: Emulator, dcycle_org: Organization, transports: dict[str, Row], case: str
) -> None:
    """Each transport filter key selects exactly the documented routes, typed and as a dict."""
    key, value, matches = _transport_case(dcycle_emulator.store, dcycle_org.id, case)
    expected = select(transports, matches)
    assert 0 < len(expected) < len(transports)
    async with client_for(dcycle_emulator, dcycle_org) as client:
        typed = TransportFilters(**{key: value})
        walked = [route.id async for route in client.transports.iter(typed)]
        page = await client.transports.list({key: value}, size=1)
    assert sorted(walked) == sorted(expected)
    assert page.total == len(expected)
    assert page.items[0].id in expected
    sent = filter_pairs(dcycle_emulator.requests[-1])
    assert sent == filter_pairs(dcycle_emulator.requests[0])
    assert {k for k, _ in sent} == {key}


@pytest.fixture
def vehicles(dcycle_emulator: Emulator, dcycle_org: Organization) -> dict[str, Row]:
    """300 random vehicles of the org plus a few at the created_at boundaries; id -> rendering."""
    store, org_id = dcycle_emulator.store, dcycle_org.id
    store.seed_vehicles(org_id, 300)
    store.seed_vehicles(org_id, 2, created_at="2025-01-01T00:00:00Z")
    store.seed_vehicles(org_id, 2, created_at="2024-12-31T23:59:59Z")
    store.seed_vehicles(org_id, 2, created_at="2023-06-30T23:59:59Z")
    store.seed_vehicles(org_id, 2, created_at="2023-07-01T00:00:00Z")
    return vehicle_rows(store, org_id)


def _vehicle_case(store: Store, org_id: str, key: str) -> tuple[Any, Callable[[Row], bool], bool]:
    """(value, predicate, narrows) for one vehicle filter key."""
    pools = store.pools(org_id)
    unknown = pools.unknown_vehicle_ids[:2]
    fuel = pools.fuel_ids[2]
    file_id = pools.file_ids[3]
    cases: dict[str, tuple[Any, Callable[[Row], bool], bool]] = {
        "search": (
            "van",
            lambda r: "van" in r["name"].lower() or "van" in r["license_plate"].lower(),
            True,
        ),
        "status": (["archived"], lambda r: r["status"] == "archived", True),
        "ownership": ("rented", lambda r: r["ownership"] == "rented", True),
        "unknown_vehicle_id": (
            [uuid.UUID(u) for u in unknown],
            lambda r: r["unknown_vehicle_id"] in unknown,
            True,
        ),
        "vehicle_fuel_id": (fuel.upper(), lambda r: r["vehicle_fuel_id"] == fuel, True),
        "file_id": ([file_id], lambda r: r["file_id"] == file_id, True),
        "created_at_from": (
            date(2025, 1, 1),
            lambda r: instant(r["created_at"]) >= datetime(2025, 1, 1, tzinfo=UTC),
            True,
        ),
        # A bare date as the upper bound takes in that whole day.
        "created_at_to": (
            "2023-06-30",
            lambda r: instant(r["created_at"]) < datetime(2023, 7, 1, tzinfo=UTC),
            True,
        ),
        # Emulated organisations have no children: every vehicle, flag sent.
        "include_children": (True, lambda r: True, False),
    }
    assert set(cases) == set(VEHICLE_KEYS)
    return cases[key]


@pytest.mark.parametrize("key", VEHICLE_KEYS)
async def test_vehicle_list_and_iter_apply_every_filter_key(
    dcycle_emulator: Emulator, dcycle_org: Organization, vehicles: dict[str, Row], key: str
) -> None:
    """Each vehicle filter key selects exactly the documented vehicles, typed and as a dict."""
    value, matches, narrows = _vehicle_case(dcycle_emulator.store, dcycle_org.id, key)
    expected = select(vehicles, matches)
    assert 0 < len(expected) < len(vehicles) if narrows else expected == set(vehicles)
    async with client_for(dcycle_emulator, dcycle_org) as client:
        walked = [v.id async for v in client.vehicles.iter(VehicleFilters(**{key: value}))]
        page = await client.vehicles.list({key: value}, size=1)
    assert sorted(walked) == sorted(expected)
    assert page.total == len(expected)
    sent = filter_pairs(dcycle_emulator.requests[-1])
    assert sent == filter_pairs(dcycle_emulator.requests[0])
    assert {k for k, _ in sent} == {key}


async def test_transport_list_returns_a_typed_page(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """list gives a Page of TransportRoute models with total, page, size and a filter_hash."""
    store, org_id = dcycle_emulator.store, dcycle_org.id
    ids = store.seed_transports(org_id, 7, status="error", transport_date="2024-02-03")
    store.seed_transports(org_id, 5, status="active")
    async with client_for(dcycle_emulator, dcycle_org) as client:
        page = await client.transports.list({"status": "error"}, page=2, size=3)
    assert isinstance(page, Page)
    assert (page.total, page.page, page.size, len(page.items)) == (7, 2, 3, 3)
    assert isinstance(page.filter_hash, str)
    assert len(page.filter_hash) == 16
    route = page.items[0]
    assert isinstance(route, TransportRoute)
    assert route.id in ids[3:6]
    rendered = store.transport(org_id, route.id)
    assert rendered is not None
    assert route.status == "error"
    assert route.transport_date == date(2024, 2, 3)
    assert route.created_at == instant(rendered["created_at"])
    assert route.created_at.tzinfo is not None
    assert isinstance(route.uploaded_by, UploadedBy)
    assert route.uploaded_by.id == rendered["uploaded_by"]["id"]
    assert all(isinstance(s, TransportSection) for s in route.sections)
    assert route.quantity_transported == rendered["quantity_transported"]


async def test_vehicle_list_returns_a_typed_page_with_pages(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """vehicles.list gives Vehicle models; the defaults page=1, size=50 are sent."""
    store, org_id = dcycle_emulator.store, dcycle_org.id
    store.seed_vehicles(org_id, 120)
    async with client_for(dcycle_emulator, dcycle_org) as client:
        page = await client.vehicles.list()
    assert (page.total, page.page, page.size, page.pages, len(page.items)) == (120, 1, 50, 3, 50)
    assert all(isinstance(v, Vehicle) for v in page.items)
    first = store.vehicle(org_id, page.items[0].id)
    assert first is not None
    assert page.items[0].license_plate == first["license_plate"]
    assert page.items[0].created_at == instant(first["created_at"])
    assert dcycle_emulator.requests[0].query == [("page", "1"), ("size", "50")]


@pytest.mark.parametrize(
    ("sort", "key", "descending"),
    [
        ("name", "name", False),
        ("-start_date", "transport_date", True),
        ("quantity_transported", "quantity_transported", False),
        ("-created_at", "created_at", True),
    ],
)
async def test_transport_sort_orders_every_page(
    dcycle_emulator: Emulator, dcycle_org: Organization, sort: str, key: str, descending: bool
) -> None:
    """sort (with '-' for descending) orders the whole walk, across pages."""
    dcycle_emulator.store.seed_transports(dcycle_org.id, 230)
    async with client_for(dcycle_emulator, dcycle_org) as client:
        routes = [r async for r in client.transports.iter(sort=sort)]
    values = [getattr(r, key) for r in routes]
    assert len(routes) == 230
    assert values == sorted(values, reverse=descending)
    assert values != sorted(values, reverse=not descending)
    assert all(("sort", sort) in r.query for r in dcycle_emulator.requests)


async def test_vehicle_sort_takes_several_keys_in_order(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """Vehicles sort by several keys: by name, then newest first within a name."""
    dcycle_emulator.store.seed_vehicles(dcycle_org.id, 150)
    async with client_for(dcycle_emulator, dcycle_org) as client:
        found = [v async for v in client.vehicles.iter(sort=["name", "-created_at"])]
    keys = [(v.name or "", -(v.created_at or datetime.min).timestamp()) for v in found]
    assert len(found) == 150
    assert keys == sorted(keys)
    assert [v for k, v in dcycle_emulator.requests[0].query if k == "sort"] == [
        "name",
        "-created_at",
    ]


async def test_pages_cover_the_matches_and_size_100_is_the_maximum(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """size=100 is allowed; page 2 holds the rest; a page past the end is empty but keeps total."""
    ids = dcycle_emulator.store.seed_transports(dcycle_org.id, 130)
    async with client_for(dcycle_emulator, dcycle_org) as client:
        first = await client.transports.list(size=100)
        second = await client.transports.list(page=2, size=100)
        past = await client.transports.list(page=3, size=100)
    assert (len(first.items), len(second.items), len(past.items)) == (100, 30, 0)
    assert first.total == second.total == past.total == 130
    assert sorted(r.id for r in first.items + second.items) == sorted(ids)


@pytest.mark.parametrize(
    ("page", "size"),
    [(0, 10), (-1, 10), (True, 10), (1, 0), (1, 101), (1, -5), (1, False), (1.0, 10)],
)
async def test_page_and_size_out_of_bounds_send_nothing(
    dcycle_emulator: Emulator, dcycle_org: Organization, page: Any, size: Any
) -> None:
    """page >= 1 and 1 <= size <= 100, as ints, are checked before any request."""
    async with client_for(dcycle_emulator, dcycle_org) as client:
        with pytest.raises(ValueError, match=r"page|size"):
            await client.transports.list(page=page, size=size)
    assert dcycle_emulator.requests == []


async def test_iter_vehicles_and_preview_check_their_size_too(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """vehicles.list, iter's page size and preview_delete's sample size obey 1..100 too."""
    async with client_for(dcycle_emulator, dcycle_org) as client:
        with pytest.raises(ValueError, match="size"):
            await client.vehicles.list(size=101)
        with pytest.raises(ValueError, match="size"):
            async for _ in client.transports.iter(size=101):
                pass  # pragma: no cover - nothing is yielded
        with pytest.raises(ValueError, match="size"):
            await client.transports.preview_delete({"status": "error"}, sample_size=0)
    assert dcycle_emulator.requests == []


# --- iter ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matching", "size", "pages"),
    [(250, 100, 3), (200, 100, 2), (7, 3, 3), (6, 3, 2), (1, 1, 1), (0, 100, 1)],
)
async def test_iter_yields_every_match_once_in_as_few_pages_as_needed(
    dcycle_emulator: Emulator, dcycle_org: Organization, matching: int, size: int, pages: int
) -> None:
    """iter walks every page once, with or without a partial last page, and stops there."""
    store = dcycle_emulator.store
    wanted = store.seed_transports(dcycle_org.id, matching, status="pending")
    store.seed_transports(dcycle_org.id, 40, status="active")
    async with client_for(dcycle_emulator, dcycle_org) as client:
        walked = [r.id async for r in client.transports.iter({"status": ["pending"]}, size=size)]
    assert len(walked) == len(set(walked)) == matching
    assert set(walked) == set(wanted)
    assert [dict(r.query)["page"] for r in dcycle_emulator.requests] == [
        str(n) for n in range(1, pages + 1)
    ]


async def test_iter_fetches_pages_lazily(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A page is requested only when the loop needs its first item; stopping early stops there."""
    dcycle_emulator.store.seed_vehicles(dcycle_org.id, 350)
    async with (
        client_for(dcycle_emulator, dcycle_org) as client,
        aclosing(client.vehicles.iter(size=100)) as walk,
    ):
        assert dcycle_emulator.requests == []
        seen = [await anext(walk)]
        assert len(dcycle_emulator.requests) == 1
        seen += [await anext(walk) for _ in range(99)]
        assert len(dcycle_emulator.requests) == 1
        seen.append(await anext(walk))
        assert len(dcycle_emulator.requests) == 2
    assert len({v.id for v in seen}) == 101
    assert len(dcycle_emulator.requests) == 2


# --- the two-step delete ----------------------------------------------------------------


async def test_preview_then_delete_previewed_removes_exactly_the_matches(
    dcycle_emulator: Emulator, dcycle_org: Organization, transports: dict[str, Row]
) -> None:
    """preview_delete counts, hashes and samples; delete_previewed deletes exactly that set."""
    store, org_id = dcycle_emulator.store, dcycle_org.id
    filters = TransportFilters(status=["pending", "error"], transport_direction="downstream")
    expected = select(
        transports,
        lambda r: r["status"] in {"pending", "error"} and r["transport_direction"] == "downstream",
    )
    assert 10 < len(expected) < len(transports)
    async with client_for(dcycle_emulator, dcycle_org) as client:
        listed = await client.transports.list(filters)
        preview = await client.transports.preview_delete(filters)
        report = await client.transports.delete_previewed(preview)
    assert preview.total == len(expected)
    assert preview.filter_hash == listed.filter_hash
    assert preview.filters == filters
    assert len(preview.sample) == 10
    assert {r.id for r in preview.sample} <= expected
    assert set(report.success_ids) == expected
    assert (report.success_count, report.failed_count, report.requests, report.ok) == (
        len(expected),
        0,
        1,
        True,
    )
    assert store.transport_ids(org_id) == set(transports) - expected
    assert filter_pairs(dcycle_emulator.requests[2]) == filter_pairs(dcycle_emulator.requests[0])


async def test_vehicle_bulk_delete_by_filters_with_the_hash_of_a_list(
    dcycle_emulator: Emulator, dcycle_org: Organization, vehicles: dict[str, Row]
) -> None:
    """A dict listed, then the equal typed filters deleted with that filter_hash: same query."""
    store, org_id = dcycle_emulator.store, dcycle_org.id
    fuel = store.pools(org_id).fuel_ids[0]
    expected = select(
        vehicles, lambda r: r["ownership"] == "rented" and r["vehicle_fuel_id"] == fuel
    )
    assert expected
    async with client_for(dcycle_emulator, dcycle_org) as client:
        page = await client.vehicles.list(
            {"vehicle_fuel_id": [fuel.upper()], "ownership": "rented"}
        )
        assert page.filter_hash is not None
        report = await client.vehicles.bulk_delete_by_filters(
            VehicleFilters(ownership=["rented"], vehicle_fuel_id=uuid.UUID(fuel)),
            filter_hash=page.filter_hash,
        )
    listing, deletion = dcycle_emulator.requests
    assert (deletion.method, deletion.path) == ("POST", "/v1/vehicles/bulk-delete-by-filters")
    assert (
        deletion.query
        == filter_pairs(listing)
        == [
            ("ownership", "rented"),
            ("vehicle_fuel_id", fuel),
        ]
    )
    assert set(report.success_ids) == expected
    assert store.vehicle_ids(org_id) == set(vehicles) - expected


async def test_changed_data_between_list_and_delete_is_a_hash_mismatch(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """Data changed since listing: FilterHashMismatchError, nothing deleted; re-listing works."""
    emu, store = dcycle_emulator, dcycle_emulator.store
    emu.filter_hash_covers_data = True
    errors = store.seed_transports(dcycle_org.id, 20, status="error")
    filters = {"status": ["error"]}
    async with client_for(emu, dcycle_org) as client:
        stale = await client.transports.preview_delete(filters)
        late = store.seed_transports(dcycle_org.id, 1, status="error")
        with pytest.raises(FilterHashMismatchError) as info:
            await client.transports.delete_previewed(stale)
        assert store.transport_ids(dcycle_org.id) == set(errors + late)
        fresh = await client.transports.preview_delete(filters)
        report = await client.transports.delete_previewed(fresh)
    error = info.value
    assert isinstance(error, ConflictError)
    assert (error.status, error.attempts) == (409, 1)
    assert "list again" in str(error)
    assert "retry" in str(error)
    assert fresh.filter_hash != stale.filter_hash
    assert (fresh.total, report.success_count) == (21, 21)
    assert store.transport_ids(dcycle_org.id) == set()


async def test_other_filters_than_the_listed_ones_are_a_hash_mismatch(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A filter_hash listed for some filters does not delete with others; nothing is deleted."""
    store = dcycle_emulator.store
    store.seed_vehicles(dcycle_org.id, 30)
    before = store.vehicle_ids(dcycle_org.id)
    async with client_for(dcycle_emulator, dcycle_org) as client:
        page = await client.vehicles.list({"status": ["archived"]})
        assert page.filter_hash is not None
        with pytest.raises(FilterHashMismatchError, match="list again"):
            await client.vehicles.bulk_delete_by_filters(
                {"status": ["archived", "error"]}, filter_hash=page.filter_hash
            )
    assert store.vehicle_ids(dcycle_org.id) == before
    assert [r.status for r in dcycle_emulator.requests] == [200, 409]


@pytest.mark.parametrize(
    "empty",
    [{}, TransportFilters(), {"status": []}, {"search": None, "file_id": ()}],
    ids=["empty-dict", "typed", "empty-list", "none-and-empty"],
)
async def test_delete_by_filters_with_no_filter_is_refused_before_sending(
    dcycle_emulator: Emulator, dcycle_org: Organization, empty: Any
) -> None:
    """Filters that select nothing in particular would delete everything: refused, nothing sent."""
    ids = dcycle_emulator.store.seed_transports(dcycle_org.id, 10)
    async with client_for(dcycle_emulator, dcycle_org) as client:
        with pytest.raises(InvalidFiltersError, match="no filter"):
            await client.transports.bulk_delete_by_filters(empty, filter_hash="a3f1c2e4b5d6a7b8")
        with pytest.raises(InvalidFiltersError, match="no filter"):
            await client.transports.preview_delete(empty)
    assert dcycle_emulator.requests == []
    assert dcycle_emulator.store.transport_ids(dcycle_org.id) == set(ids)


@pytest.mark.parametrize(
    "scope_only", [VehicleFilters(include_children=True), {"include_children": True}]
)
async def test_include_children_alone_is_no_filter_for_delete(
    dcycle_emulator: Emulator, dcycle_org: Organization, scope_only: Any
) -> None:
    """include_children widens the scope, so on its own it cannot guard a delete; nothing sent."""
    async with client_for(dcycle_emulator, dcycle_org) as client:
        with pytest.raises(InvalidFiltersError, match="no filter"):
            await client.vehicles.bulk_delete_by_filters(scope_only, filter_hash="a3f1c2e4b5d6a7b8")
    assert dcycle_emulator.requests == []


@pytest.mark.parametrize("bad_hash", ["", "   "])
async def test_delete_by_filters_needs_a_filter_hash(
    dcycle_emulator: Emulator, dcycle_org: Organization, bad_hash: str
) -> None:
    """An empty filter_hash is a ValueError pointing at list(), before any request."""
    async with client_for(dcycle_emulator, dcycle_org) as client:
        with pytest.raises(ValueError, match="list"):
            await client.transports.bulk_delete_by_filters(
                {"status": "error"}, filter_hash=bad_hash
            )
    assert dcycle_emulator.requests == []


@pytest.mark.parametrize("style", [ArrayStyle.BRACKETS, "brackets"])
async def test_bracket_arrays_list_and_delete_end_to_end(
    dcycle_emulator: Emulator, dcycle_org: Organization, style: ArrayStyle | str
) -> None:
    """With array_style=BRACKETS, list and delete write key[] alike, select the same, and delete."""
    emu, store, org_id = dcycle_emulator, dcycle_emulator.store, dcycle_org.id
    store.seed_transports(org_id, 200)
    files = store.file_ids(org_id)[:2]
    filters = TransportFilters(status=["pending", "error"], file_id=files, from_date="2024-01-01")
    async with client_for(emu, dcycle_org) as plain:
        expected = {r.id async for r in plain.transports.iter(filters)}
        plain_hash = (await plain.transports.list(filters)).filter_hash
    assert expected
    emu.reset_stats()
    async with client_for(emu, dcycle_org, array_style=style) as client:
        page = await client.transports.list(filters, size=100)
        assert page.filter_hash is not None
        assert page.filter_hash != plain_hash
        report = await client.transports.bulk_delete_by_filters(
            filters, filter_hash=page.filter_hash
        )
    listing, deletion = emu.requests
    assert (
        filter_pairs(listing)
        == deletion.query
        == [
            ("from_date", "2024-01-01"),
            ("status[]", "pending"),
            ("status[]", "error"),
            ("file_id[]", files[0]),
            ("file_id[]", files[1]),
        ]
    )
    assert {r.id for r in page.items} == expected
    assert set(report.success_ids) == expected
    assert not expected & store.transport_ids(org_id)


async def test_a_hash_listed_in_one_array_style_does_not_delete_in_the_other(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """The hash covers the query as written: repeat-style and bracket-style clients do not mix."""
    ids = dcycle_emulator.store.seed_vehicles(dcycle_org.id, 20, status="archived")
    async with client_for(dcycle_emulator, dcycle_org) as repeat:
        page = await repeat.vehicles.list({"status": ["archived"]})
    assert page.filter_hash is not None
    async with client_for(dcycle_emulator, dcycle_org, array_style=ArrayStyle.BRACKETS) as brackets:
        with pytest.raises(FilterHashMismatchError):
            await brackets.vehicles.bulk_delete_by_filters(
                {"status": ["archived"]}, filter_hash=page.filter_hash
            )
    assert dcycle_emulator.store.vehicle_ids(dcycle_org.id) == set(ids)


async def test_search_with_reserved_characters_round_trips(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A search holding + & = / ? # % and non-ASCII reaches the server intact, list and delete."""
    store = dcycle_emulator.store
    needle = "A+B & C=D/é?#%"
    wanted = store.seed_transports(dcycle_org.id, 4, supplier=f"Trans {needle} SL")
    store.seed_transports(dcycle_org.id, 4, supplier="A B & C=D/é?#%")
    async with client_for(dcycle_emulator, dcycle_org) as client:
        page = await client.transports.list({"search": needle})
        assert page.filter_hash is not None
        report = await client.transports.bulk_delete_by_filters(
            {"search": needle}, filter_hash=page.filter_hash
        )
    assert page.total == 4
    assert set(report.success_ids) == set(wanted)
    assert [r.query[0] for r in dcycle_emulator.requests] == [("search", needle)] * 2


# --- error paths -------------------------------------------------------------------------

FilterCall = Callable[[DcycleClient, dict[str, Any]], Awaitable[object]]


def _link(kind: str) -> FilterCall:
    async def call(client: DcycleClient, filters: dict[str, Any]) -> object:
        return await client.projects.link_by_filters(NOWHERE, kind, filters)

    return call


async def _transports_list(client: DcycleClient, filters: dict[str, Any]) -> object:
    return await client.transports.list(filters)


async def _transports_iter(client: DcycleClient, filters: dict[str, Any]) -> object:
    return [r async for r in client.transports.iter(filters)]


async def _transports_preview(client: DcycleClient, filters: dict[str, Any]) -> object:
    return await client.transports.preview_delete(filters)


async def _transports_delete(client: DcycleClient, filters: dict[str, Any]) -> object:
    return await client.transports.bulk_delete_by_filters(filters, filter_hash="a3f1c2e4b5d6a7b8")


async def _vehicles_list(client: DcycleClient, filters: dict[str, Any]) -> object:
    return await client.vehicles.list(filters)


async def _vehicles_iter(client: DcycleClient, filters: dict[str, Any]) -> object:
    return [v async for v in client.vehicles.iter(filters)]


async def _vehicles_preview(client: DcycleClient, filters: dict[str, Any]) -> object:
    return await client.vehicles.preview_delete(filters)


async def _vehicles_delete(client: DcycleClient, filters: dict[str, Any]) -> object:
    return await client.vehicles.bulk_delete_by_filters(filters, filter_hash="a3f1c2e4b5d6a7b8")


SURFACES: Final[list[Any]] = [
    *(
        pytest.param(_link(kind), tuple(attrs.fields_dict(cls)), id=f"link-{kind}")
        for kind, cls in LINK_CLASSES.items()
    ),
    pytest.param(_transports_list, TRANSPORT_KEYS, id="transports-list"),
    pytest.param(_transports_iter, TRANSPORT_KEYS, id="transports-iter"),
    pytest.param(_transports_preview, TRANSPORT_KEYS, id="transports-preview"),
    pytest.param(_transports_delete, TRANSPORT_KEYS, id="transports-delete"),
    pytest.param(_vehicles_list, VEHICLE_KEYS, id="vehicles-list"),
    pytest.param(_vehicles_iter, VEHICLE_KEYS, id="vehicles-iter"),
    pytest.param(_vehicles_preview, VEHICLE_KEYS, id="vehicles-preview"),
    pytest.param(_vehicles_delete, VEHICLE_KEYS, id="vehicles-delete"),
]


@pytest.mark.parametrize(("call", "allowed"), SURFACES)
async def test_an_unknown_key_names_itself_and_lists_the_valid_keys(
    dcycle_emulator: Emulator, dcycle_org: Organization, call: FilterCall, allowed: tuple[str, ...]
) -> None:
    """Every filter-taking call refuses an unknown key client-side, listing the valid keys."""
    first = allowed[0]
    filters = {first: None, "colour": "red"}
    async with client_for(dcycle_emulator, dcycle_org) as client:
        with pytest.raises(InvalidFiltersError) as info:
            await call(client, filters)
    error = info.value
    assert (error.key, error.allowed) == ("colour", allowed)
    assert "'colour'" in str(error)
    assert f"(allowed keys: {', '.join(allowed)})" in str(error)
    assert dcycle_emulator.requests == []


@pytest.mark.parametrize(
    ("call", "filters", "key"),
    [
        pytest.param(_transports_list, {"status": "deleted"}, "status", id="bad-enum"),
        pytest.param(_transports_list, {"status": 5}, "status", id="int-for-list"),
        pytest.param(_transports_iter, {"from_date": "2024/01/01"}, "from_date", id="date-format"),
        pytest.param(_transports_list, {"to_date": "2024-02-30"}, "to_date", id="no-such-day"),
        pytest.param(
            _transports_list,
            {"from_date": datetime(2024, 1, 1, 12)},
            "from_date",
            id="datetime-for-date",
        ),
        pytest.param(_transports_delete, {"file_id": ["nope"]}, "file_id", id="bad-uuid"),
        pytest.param(
            _transports_preview,
            {"created_at_from": "yesterday"},
            "created_at_from",
            id="bad-timestamp",
        ),
        pytest.param(_transports_list, {"search": ""}, "search", id="empty-search"),
        pytest.param(_transports_list, {"search": "x" * 256}, "search", id="long-search"),
        pytest.param(
            _transports_list,
            {"transport_direction": ["upstream"]},
            "transport_direction",
            id="list-for-single",
        ),
        pytest.param(
            _vehicles_list, {"include_children": "true"}, "include_children", id="str-for-bool"
        ),
        pytest.param(_vehicles_delete, {"vehicle_fuel_id": 42}, "vehicle_fuel_id", id="int-uuid"),
        pytest.param(_vehicles_iter, {"ownership": ["leased"]}, "ownership", id="bad-ownership"),
        pytest.param(_link("invoices"), {"facility_ids": ["f-1"]}, "facility_ids", id="link-uuid"),
        pytest.param(_link("invoices"), {"start_date": "2024-13-01"}, "start_date", id="link-date"),
        pytest.param(_link("invoices"), {"types": [1]}, "types", id="link-int-in-list"),
        pytest.param(_link("file_readings"), {"linked": "yes"}, "linked", id="link-bool"),
        pytest.param(_link("logistic_requests"), {"search": 7}, "search", id="link-search"),
        pytest.param(
            _link("logistic_recharges"),
            {"date_from": "2025-05-01T00:00"},
            "date_from",
            id="link-timestamp-for-date",
        ),
    ],
)
async def test_a_wrong_type_or_malformed_value_is_refused_before_sending(
    dcycle_emulator: Emulator, dcycle_org: Organization, call: FilterCall, filters: Any, key: str
) -> None:
    """Wrong types, malformed dates and UUIDs raise InvalidFiltersError naming the key, unsent."""
    async with client_for(dcycle_emulator, dcycle_org) as client:
        with pytest.raises(InvalidFiltersError) as info:
            await call(client, filters)
    assert info.value.key == key
    assert repr(key) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert dcycle_emulator.requests == []


async def test_typed_filters_of_another_kind_are_refused_before_sending(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """Invoice filters cannot link packages, vehicle filters cannot list transports."""
    project = dcycle_emulator.store.create_project(dcycle_org.id)
    async with client_for(dcycle_emulator, dcycle_org) as client:
        with pytest.raises(InvalidFiltersError, match="LogisticPackagesFilters"):
            await client.projects.link_by_filters(
                project, "logistic_packages", InvoicesFilters(types=["heat"])
            )
        with pytest.raises(InvalidFiltersError, match="TransportFilters"):
            await client.transports.list(VehicleFilters(status=["active"]))  # type: ignore[arg-type]
    assert dcycle_emulator.requests == []


async def test_a_server_side_invalid_filters_422_is_an_unprocessable_entity_error(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A server 422 INVALID_FILTERS is UnprocessableEntityError: not retried, nothing linked."""
    emu = dcycle_emulator
    project = emu.store.create_project(dcycle_org.id)
    emu.store.seed_entities(dcycle_org.id, "invoices", 5)
    emu.faults.add(
        Fault(
            "status",
            status=422,
            body='{"code": "INVALID_FILTERS", "detail": "Unknown filter key: \'types\'"}',
            path=f"/v1/projects/{project}/entities/link-by-filters",
        )
    )
    async with client_for(emu, dcycle_org) as client:
        with pytest.raises(UnprocessableEntityError) as info:
            await client.projects.link_by_filters(project, "invoices", {"types": ["heat"]})
    error = info.value
    assert not isinstance(error, InvalidFiltersError)
    assert (error.status, error.code, error.detail) == (
        422,
        "INVALID_FILTERS",
        "Unknown filter key: 'types'",
    )
    assert error.attempts == 1
    assert len(emu.requests) == 1
    assert emu.store.linked_ids(project, "invoices") == set()


async def test_a_server_side_validation_422_lists_its_problems(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A sort field the server does not know comes back as a 422 whose errors locate it."""
    async with client_for(dcycle_emulator, dcycle_org) as client:
        with pytest.raises(UnprocessableEntityError) as info:
            await client.transports.list({"status": "error"}, sort="-colour")
    assert info.value.status == 422
    assert [item["loc"] for item in info.value.errors] == [["query", "sort"]]
    assert len(dcycle_emulator.requests) == 1


async def test_link_by_filters_to_a_missing_or_foreign_project_is_not_found(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A missing project, or another organisation's, is NotFoundError; nothing is linked."""
    emu = dcycle_emulator
    emu.store.seed_entities(dcycle_org.id, "invoices", 5)
    other = emu.create_organization()
    theirs = emu.store.create_project(other.id)
    async with client_for(emu, dcycle_org) as client:
        for project in (str(uuid.uuid4()), uuid.UUID(theirs)):
            with pytest.raises(NotFoundError) as info:
                await client.projects.link_by_filters(project, "invoices", {})
            assert (info.value.status, info.value.code, info.value.detail) == (
                404,
                "NOT_FOUND",
                "Project not found",
            )
            assert info.value.attempts == 1
    assert emu.store.linked_ids(theirs, "invoices") == set()
    assert len(emu.requests) == 2


async def test_a_malformed_project_id_is_refused_before_sending(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """link_by_filters checks the project id is a UUID before anything is sent."""
    async with client_for(dcycle_emulator, dcycle_org) as client:
        with pytest.raises(ValueError, match="project_id"):
            await client.projects.link_by_filters("../transports", "invoices", {})
        with pytest.raises(ValueError, match="entity_type"):
            await client.projects.link_by_filters(NOWHERE, "invoice", {})
    assert dcycle_emulator.requests == []


async def test_bad_credentials_are_an_authentication_error_everywhere(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A rejected API key gives AuthenticationError (401, not retried) and changes nothing."""
    emu, store = dcycle_emulator, dcycle_emulator.store
    project = store.create_project(dcycle_org.id)
    store.seed_entities(dcycle_org.id, "invoices", 5)
    ids = store.seed_transports(dcycle_org.id, 5, status="error")
    async with DcycleClient(
        api_key="sk_live_wrong", organization_id=dcycle_org.id, base_url=emu.url
    ) as client:
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: client.projects.link_by_filters(project, "invoices", {}),
            lambda: client.transports.list({"status": "error"}),
            lambda: client.transports.preview_delete({"status": "error"}),
            lambda: client.transports.bulk_delete_by_filters(
                {"status": "error"}, filter_hash="0" * 16
            ),
            lambda: client.vehicles.list(),
        ]
        for call in calls:
            with pytest.raises(AuthenticationError) as info:
                await call()
            assert (info.value.status, info.value.code, info.value.attempts) == (
                401,
                "INVALID_API_KEY",
                1,
            )
            assert "sk_live_wrong" not in str(info.value)
    assert [r.status for r in emu.requests] == [401] * 5
    assert store.linked_ids(project, "invoices") == set()
    assert store.transport_ids(dcycle_org.id) == set(ids)


# --- the "done when", literally -------------------------------------------------------


async def test_done_when_preview_and_delete_transports_of_a_date_range_and_status_in_two_awaits(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A user previews and deletes every transport of a date range and status in two awaits."""
    store, org_id = dcycle_emulator.store, dcycle_org.id
    store.seed_transports(org_id, 400)
    store.seed_transports(org_id, 3, status="error", transport_date="2024-01-01")
    store.seed_transports(org_id, 3, status="error", transport_date="2024-03-31")
    store.seed_transports(org_id, 3, status="error", transport_date="2024-04-01")
    store.seed_transports(org_id, 3, status="active", transport_date="2024-02-15")
    before = transport_rows(store, org_id)
    doomed = select(
        before,
        lambda r: r["status"] == "error" and "2024-01-01" <= r["transport_date"] <= "2024-03-31",
    )
    async with client_for(dcycle_emulator, dcycle_org) as client:
        preview = await client.transports.preview_delete(
            {"from_date": "2024-01-01", "to_date": date(2024, 3, 31), "status": "error"}
        )
        report = await client.transports.delete_previewed(preview)
    assert preview.total == report.success_count == len(doomed) > 6
    assert set(report.success_ids) == doomed
    assert store.transport_ids(org_id) == set(before) - doomed
    assert [(r.method, r.status) for r in dcycle_emulator.requests] == [("GET", 200), ("POST", 200)]


async def test_done_when_link_every_invoice_of_a_facility_and_year_in_one(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A user links every invoice of a facility and a year to a project in one await."""
    store, org_id = dcycle_emulator.store, dcycle_org.id
    facility = store.pools(org_id).facility_ids[0]
    store.seed_entities(org_id, "invoices", 600)
    project = store.create_project(org_id)
    expected = select(
        entity_rows(store, org_id, "invoices"),
        lambda r: (
            r["facility_id"] == facility
            and r["start_date"] >= "2024-01-01"
            and r["end_date"] <= "2024-12-31"
        ),
    )
    assert len(expected) > 10
    async with client_for(dcycle_emulator, dcycle_org) as client:
        result = await client.projects.link_by_filters(
            project,
            "invoices",
            InvoicesFilters(
                facility_ids=[facility], start_date="2024-01-01", end_date="2024-12-31"
            ),
        )
    assert result == LinkByFiltersResult(created=len(expected), skipped=0)
    assert store.linked_ids(project, "invoices") == expected
    assert len(dcycle_emulator.requests) == 1


async def test_done_when_a_typo_in_a_filter_key_lists_the_valid_keys(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A typo in a filter key fails, before any request, with a message listing the valid keys."""
    async with client_for(dcycle_emulator, dcycle_org) as client:
        with pytest.raises(InvalidFiltersError) as info:
            await client.transports.preview_delete({"stauts": ["error"], "from_date": "2024-01-01"})
    message = str(info.value)
    assert "unknown filter key 'stauts'" in message
    assert "did you mean 'status'?" in message
    assert message.endswith(
        "(allowed keys: search, from_date, to_date, status, transport_direction, file_id,"
        " created_at_from, created_at_to, co2e_status)"
    )
    assert dcycle_emulator.requests == []
