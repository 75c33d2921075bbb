"""Vehicle endpoints: list, filters, multi-sort, filter_hash and deletes."""

from __future__ import annotations

import pytest
from dcycle_async.testing import DELETE_MAX_IDS, Emulator

from .emulator_support import Api

pytestmark = pytest.mark.anyio

LIST = "/v1/vehicles"
BULK = "/v1/vehicles/bulk-delete"
BY_FILTERS = "/v1/vehicles/bulk-delete-by-filters"
MISSING = "00000000-0000-4000-8000-000000000000"
VEHICLE_FIELDS = {
    "id",
    "name",
    "type",
    "ownership",
    "license_plate",
    "country",
    "status",
    "co2e",
    "vehicle_fuel_id",
    "unknown_vehicle_type",
    "registration_year",
    "market_segment",
    "size",
    "created_at",
    "updated_at",
}


@pytest.fixture
def vehicles(emulator: Emulator, api: Api) -> list[str]:
    """60 random vehicles of the org."""
    return emulator.store.seed_vehicles(api.org.id, 60)


async def _ids(api: Api, query: str) -> set[str]:
    reply = await api.get(f"{LIST}?{query}&size=100")
    assert reply.status == 200, reply.json
    return {item["id"] for item in reply.json["items"]}


async def test_list_shape(api: Api, vehicles: list[str]) -> None:
    """The envelope carries pages and filter_hash; items the documented fields."""
    reply = await api.get(f"{LIST}?size=25&page=3")
    body = reply.json
    assert set(body) == {"items", "total", "page", "size", "pages", "filter_hash"}
    assert (body["total"], body["page"], body["size"], body["pages"]) == (60, 3, 25, 3)
    assert len(body["items"]) == 10
    assert set(body["items"][0]) >= VEHICLE_FIELDS
    assert isinstance(body["items"][0]["registration_year"], int)


async def test_empty_list_has_zero_pages(api: Api) -> None:
    """No vehicles -> total 0, pages 0."""
    body = (await api.get(LIST)).json
    assert (body["total"], body["pages"], body["items"]) == (0, 0, [])


async def test_filters(api: Api, emulator: Emulator, vehicles: list[str]) -> None:
    """status/ownership (multi, both syntaxes), ids, search and created_at narrow the list."""
    store = emulator.store
    pools = store.pools(api.org.id)
    fuel, unknown = pools.fuel_ids[0], pools.unknown_vehicle_ids[0]
    file_id = pools.file_ids[0]
    rented = store.seed_vehicles(
        api.org.id,
        3,
        status="archived",
        ownership="rented",
        license_plate="0000QQQ",
        vehicle_fuel_id=fuel,
        unknown_vehicle_id=unknown,
        file_id=file_id,
        created_at="2026-03-01T12:00:00Z",
    )
    assert await _ids(api, "status[]=archived&ownership[]=rented&search=qqq") == set(rented)
    assert await _ids(api, "status=archived&ownership=rented&search=0000QQQ") == set(rented)
    assert await _ids(
        api, f"vehicle_fuel_id={fuel}&unknown_vehicle_id={unknown}&file_id={file_id}"
    ) >= set(rented)
    assert await _ids(api, "created_at_from=2026-01-01T00:00:00Z") == set(rented)
    assert await _ids(api, "created_at_to=2025-12-31") == set(vehicles)
    assert await _ids(api, "include_children=true&created_at_from=2026-01-01") == set(rented)


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("status=sold", ["query", "status"]),
        ("ownership[]=leased", ["query", "ownership"]),
        ("vehicle_fuel_id=x", ["query", "vehicle_fuel_id"]),
        ("include_children=perhaps", ["query", "include_children"]),
        ("sort=colour", ["query", "sort"]),
        ("size=101", ["query", "size"]),
    ],
)
async def test_bad_query_values_are_422(api: Api, query: str, loc: list[str]) -> None:
    """Bad filter, sort or size values -> 422 on the parameter."""
    reply = await api.get(f"{LIST}?{query}")
    assert reply.status == 422
    assert reply.locs == [loc]


async def test_multi_sort(api: Api, emulator: Emulator) -> None:
    """sort repeats: the first key is major, '-' descends."""
    store = emulator.store
    for name in ("Van", "Car"):
        for plate in ("1111BBB", "2222CCC"):
            store.seed_vehicles(api.org.id, 1, name=name, license_plate=plate)
    items = (await api.get(f"{LIST}?sort=name&sort=-license_plate")).json["items"]
    assert [(v["name"], v["license_plate"]) for v in items] == [
        ("Car", "2222CCC"),
        ("Car", "1111BBB"),
        ("Van", "2222CCC"),
        ("Van", "1111BBB"),
    ]
    items = (await api.get(f"{LIST}?sort[]=-name&sort[]=license_plate")).json["items"]
    assert items[0]["name"] == "Van"
    assert items[0]["license_plate"] == "1111BBB"


async def test_bulk_delete(api: Api, emulator: Emulator, vehicles: list[str]) -> None:
    """Known ids deleted, others failed; the 5-field summary."""
    reply = await api.post(BULK, {"vehicle_ids": [*vehicles[:2], MISSING]})
    assert reply.status == 200
    assert reply.json["success_ids"] == vehicles[:2]
    assert reply.json["failed_ids"] == [MISSING]
    assert (reply.json["success_count"], reply.json["failed_count"]) == (2, 1)
    assert emulator.store.vehicle_ids(api.org.id) == set(vehicles[2:])


@pytest.mark.parametrize(("count", "status"), [(0, 422), (1, 200), (DELETE_MAX_IDS + 1, 422)])
async def test_bulk_delete_limits(api: Api, count: int, status: int) -> None:
    """vehicle_ids takes 1..100,000 ids."""
    reply = await api.post(BULK, {"vehicle_ids": [MISSING] * count})
    assert reply.status == status
    if status == 422:
        assert reply.locs == [["body", "vehicle_ids"]]


async def test_delete_by_filters_with_bracket_arrays(
    api: Api, emulator: Emulator, vehicles: list[str]
) -> None:
    """The bracket syntax works end to end when list and delete use it alike."""
    archived = emulator.store.seed_vehicles(api.org.id, 4, status="archived", ownership="rented")
    query = "status[]=archived&ownership[]=rented"
    matching = await _ids(api, query)
    listing = await api.get(f"{LIST}?{query}")
    plain = await api.post(
        f"{BY_FILTERS}?status=archived&ownership=rented",
        {"filter_hash": listing.json["filter_hash"]},
    )
    assert plain.status == 409
    assert plain.json["code"] == "FILTER_HASH_MISMATCH"
    reply = await api.post(f"{BY_FILTERS}?{query}", {"filter_hash": listing.json["filter_hash"]})
    assert reply.status == 200
    assert set(reply.json["success_ids"]) == matching >= set(archived)
    assert not matching & emulator.store.vehicle_ids(api.org.id)


async def test_delete_by_filters_include_children_alone_is_no_filter(api: Api) -> None:
    """include_children does not narrow anything, so it is not enough."""
    listing = await api.get(f"{LIST}?include_children=true")
    reply = await api.post(
        f"{BY_FILTERS}?include_children=true", {"filter_hash": listing.json["filter_hash"]}
    )
    assert reply.status == 422
    assert reply.json["code"] == "FILTERS_REQUIRED"


async def test_delete_one(api: Api, emulator: Emulator, vehicles: list[str]) -> None:
    """DELETE one vehicle -> 204; unknown -> 404 VEHICLE_NOT_FOUND; bad id -> 422."""
    assert (await api.delete(f"{LIST}/{vehicles[0]}")).status == 204
    again = await api.delete(f"{LIST}/{vehicles[0]}")
    assert again.status == 404
    assert again.json == {
        "detail": f"Vehicle with id=UUID('{vehicles[0]}') not found",
        "code": "VEHICLE_NOT_FOUND",
    }
    bad = await api.delete(f"{LIST}/car-1")
    assert bad.locs == [["path", "vehicle_id"]]
