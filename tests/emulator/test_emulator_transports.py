"""Transport endpoints: list, filters, pagination, filter_hash, counts, deletes."""

from __future__ import annotations

import datetime

import pytest
from dcycle_async.testing import DEFAULT_PAGE_SIZE, DELETE_MAX_IDS, MAX_PAGE_SIZE, Emulator

from .emulator_support import Api

pytestmark = pytest.mark.anyio

LIST = "/v1/transports"
BULK = "/v1/transports/bulk-delete"
BY_FILTERS = "/v1/transports/bulk-delete-by-filters"
MISSING = "00000000-0000-4000-8000-000000000000"
ROUTE_FIELDS = {
    "id",
    "name",
    "transport_date",
    "quantity_transported",
    "supplier",
    "transport_direction",
    "transport_frequency",
    "unit",
    "co2e",
    "emissions",
    "status",
    "file_id",
    "file_name",
    "sections",
    "uploaded_by",
    "created_at",
    "updated_at",
}
SECTION_FIELDS = {
    "id",
    "part",
    "transport_type",
    "travel_method",
    "electric",
    "refrigerated",
    "detail",
    "origin",
    "destination",
    "kms",
    "kms_manual",
    "distance_manual",
    "kms_source",
    "status",
    "step",
    "error_messages",
    "emissions",
}


@pytest.fixture
def routes(emulator: Emulator, api: Api) -> list[str]:
    """120 random transport routes of the org."""
    return emulator.store.seed_transports(api.org.id, 120)


async def _ids(api: Api, query: str) -> set[str]:
    reply = await api.get(f"{LIST}?{query}&size={MAX_PAGE_SIZE}")
    assert reply.status == 200, reply.json
    assert reply.json["total"] <= MAX_PAGE_SIZE
    return {item["id"] for item in reply.json["items"]}


async def test_list_shape_and_item_fields(api: Api, routes: list[str]) -> None:
    """The envelope has items/total/page/size/filter_hash and items the documented fields."""
    reply = await api.get(LIST)
    assert reply.status == 200
    body = reply.json
    assert set(body) == {"items", "total", "page", "size", "filter_hash"}
    assert (body["total"], body["page"], body["size"]) == (120, 1, DEFAULT_PAGE_SIZE)
    assert len(body["items"]) == DEFAULT_PAGE_SIZE
    item = body["items"][0]
    assert set(item) == ROUTE_FIELDS
    assert set(item["sections"][0]) == SECTION_FIELDS
    assert set(item["unit"]) == {"id", "name", "type"}
    assert set(item["uploaded_by"]) == {"id", "first_name", "last_name", "profile_img_url"}
    datetime.date.fromisoformat(item["transport_date"])
    datetime.datetime.fromisoformat(item["created_at"])
    assert item["status"] in {"pending", "active", "error"}
    assert (item["co2e"] is None) == (item["emissions"] == [])


async def test_pages_cover_every_route_once(api: Api, routes: list[str]) -> None:
    """Walking the pages yields every route exactly once; past the end is empty."""
    seen: list[str] = []
    for page in (1, 2, 3):
        reply = await api.get(f"{LIST}?page={page}&size=50")
        seen.extend(item["id"] for item in reply.json["items"])
    assert sorted(seen) == sorted(routes)
    assert seen == routes  # the default order is stable: insertion order
    past = await api.get(f"{LIST}?page=4&size=50")
    assert past.json["items"] == []
    assert past.json["total"] == 120


@pytest.mark.parametrize(
    ("query", "loc", "kind"),
    [
        ("size=101", ["query", "size"], "less_than_equal"),
        ("size=0", ["query", "size"], "greater_than_equal"),
        ("page=0", ["query", "page"], "greater_than_equal"),
        ("page=two", ["query", "page"], "int_parsing"),
        ("status=done", ["query", "status"], "enum"),
        ("transport_direction=sideways", ["query", "transport_direction"], "enum"),
        ("file_id=abc", ["query", "file_id"], "uuid_parsing"),
        ("from_date=2024-13-01", ["query", "from_date"], "date_from_datetime_parsing"),
        ("created_at_from=yesterday", ["query", "created_at_from"], "datetime_from_date_parsing"),
        ("co2e_status=maybe", ["query", "co2e_status"], "enum"),
        ("search=", ["query", "search"], "string_too_short"),
        ("sort=colour", ["query", "sort"], "enum"),
    ],
)
async def test_bad_query_values_are_422(api: Api, query: str, loc: list[str], kind: str) -> None:
    """Bad filter, sort or paging values -> 422 in FastAPI's list shape."""
    reply = await api.get(f"{LIST}?{query}")
    assert reply.status == 422
    assert reply.locs == [loc]
    assert reply.json["detail"][0]["type"] == kind


async def test_size_100_is_allowed(api: Api, routes: list[str]) -> None:
    """size=100 is the maximum page size."""
    reply = await api.get(f"{LIST}?size=100")
    assert reply.status == 200
    assert len(reply.json["items"]) == 100


async def test_status_filter_in_both_array_syntaxes(api: Api, emulator: Emulator) -> None:
    """status is multi-valued, repeated plainly or with []."""
    store = emulator.store
    pending = store.seed_transports(api.org.id, 3, status="pending")
    error = store.seed_transports(api.org.id, 4, status="error")
    store.seed_transports(api.org.id, 5, status="active")
    want = set(pending) | set(error)
    assert await _ids(api, "status=pending&status=error") == want
    assert await _ids(api, "status[]=pending&status[]=error") == want
    assert await _ids(api, "status%5B%5D=pending&status%5B%5D=error") == want
    assert await _ids(api, "status=error") == set(error)


async def test_direction_file_and_co2e_filters(api: Api, emulator: Emulator) -> None:
    """transport_direction, file_id (multi) and co2e_status narrow the list."""
    store = emulator.store
    files = store.file_ids(api.org.id)
    up = store.seed_transports(api.org.id, 3, transport_direction="upstream", file_id=files[0])
    down = store.seed_transports(
        api.org.id, 2, transport_direction="downstream", file_id=files[1], co2e=None
    )
    none = store.seed_transports(
        api.org.id, 2, transport_direction="downstream", file_id=None, co2e=1.5
    )
    assert await _ids(api, "transport_direction=upstream") == set(up)
    assert await _ids(api, f"file_id={files[0]}&file_id={files[1]}") == set(up) | set(down)
    assert await _ids(api, f"file_id[]={files[1]}") == set(down)
    calculated = await _ids(api, "transport_direction=downstream&co2e_status=calculated")
    assert calculated == set(none)
    missing = await _ids(api, "transport_direction=downstream&co2e_status=not_calculated")
    assert missing == set(down)


async def test_date_and_created_at_ranges_are_inclusive(api: Api, emulator: Emulator) -> None:
    """from_date/to_date on transport_date and created_at_* bounds include their ends."""
    store = emulator.store
    first = store.seed_transports(
        api.org.id, 2, transport_date="2024-01-01", created_at="2024-01-05T08:00:00Z"
    )
    last = store.seed_transports(
        api.org.id, 2, transport_date="2024-01-31", created_at="2024-01-31T23:59:00Z"
    )
    february = store.seed_transports(
        api.org.id, 2, transport_date="2024-02-01", created_at="2024-02-01T00:00:00Z"
    )
    january = set(first) | set(last)
    assert await _ids(api, "from_date=2024-01-01&to_date=2024-01-31") == january
    assert await _ids(api, "created_at_from=2024-01-05&created_at_to=2024-01-31") == january
    timed = "created_at_from=2024-01-05T08:00:00Z&created_at_to=2024-01-31T23:59:00%2B00:00"
    assert await _ids(api, timed) == january
    assert await _ids(api, "created_at_from=2024-01-05T08:00:01") == set(last) | set(february)


async def test_search_matches_name_and_supplier(api: Api, emulator: Emulator) -> None:
    """search is a case-insensitive substring of the name or the supplier."""
    store = emulator.store
    by_name = store.seed_transports(api.org.id, 2, name="Zurich - Geneva express")
    by_supplier = store.seed_transports(api.org.id, 2, supplier="Swiss Zugspitze Cargo")
    store.seed_transports(api.org.id, 5, name="Madrid - Lisboa", supplier="Iberia Cargo")
    assert await _ids(api, "search=zu") == set(by_name) | set(by_supplier)
    assert await _ids(api, "search=GENEVA") == set(by_name)


async def test_sort_orders(api: Api, emulator: Emulator) -> None:
    """sort by name, start_date, quantity_transported and created_at, '-' descending."""
    store = emulator.store
    store.seed_transports(api.org.id, 30)
    for key, field in [
        ("name", "name"),
        ("start_date", "transport_date"),
        ("quantity_transported", "quantity_transported"),
        ("created_at", "created_at"),
    ]:
        ascending = (await api.get(f"{LIST}?sort={key}&size=100")).json["items"]
        values = [item[field] for item in ascending]
        assert values == sorted(values)
        descending = (await api.get(f"{LIST}?sort=-{key}&size=100")).json["items"]
        assert [item[field] for item in descending] == sorted(values, reverse=True)


async def test_filter_hash_same_filters_same_hash(api: Api, routes: list[str]) -> None:
    """Same filters -> same hash, whatever page, size or sort."""
    one = await api.get(f"{LIST}?status=active&search=a&page=1&size=10")
    two = await api.get(f"{LIST}?status=active&search=a&page=3&size=20&sort=-name")
    hashed = one.json["filter_hash"]
    assert len(hashed) == 16
    assert int(hashed, 16) >= 0
    assert two.json["filter_hash"] == hashed


async def test_filter_hash_is_strict_about_encoding(api: Api) -> None:
    """Other order, other array syntax or other filters -> another hash."""
    queries = [
        "status=active&status=error",
        "status=error&status=active",
        "status[]=active&status[]=error",
        "status=active",
        "",
    ]
    hashes = [(await api.get(f"{LIST}?{q}")).json["filter_hash"] for q in queries]
    assert len(set(hashes)) == len(queries)


async def test_filter_hash_ignores_unknown_parameters(api: Api) -> None:
    """Parameters the API does not know are ignored, in the hash too."""
    plain = (await api.get(f"{LIST}?status=active")).json["filter_hash"]
    extra = (await api.get(f"{LIST}?status=active&utm_source=x")).json["filter_hash"]
    assert plain == extra


async def test_counts(api: Api, emulator: Emulator) -> None:
    """counts answers per status, narrowed by direction and file_id."""
    store = emulator.store
    file_id = store.file_ids(api.org.id)[2]
    store.seed_transports(
        api.org.id, 3, status="pending", transport_direction="upstream", file_id=file_id
    )
    store.seed_transports(
        api.org.id, 2, status="error", transport_direction="upstream", file_id=None
    )
    store.seed_transports(
        api.org.id, 4, status="active", transport_direction="downstream", file_id=None
    )
    reply = await api.get(f"{LIST}/counts")
    assert reply.json == {"pending": 3, "active": 4, "error": 2}
    up = await api.get(f"{LIST}/counts?transport_direction=upstream")
    assert up.json == {"pending": 3, "active": 0, "error": 2}
    by_file = await api.get(f"{LIST}/counts?file_id={file_id}")
    assert by_file.json == {"pending": 3, "active": 0, "error": 0}
    bad = await api.get(f"{LIST}/counts?transport_direction=north")
    assert bad.status == 422


async def test_bulk_delete_reports_success_and_failure(
    api: Api, emulator: Emulator, routes: list[str]
) -> None:
    """Deleted ids in success_ids; unknown, foreign, repeated-deleted ones in failed_ids."""
    other = emulator.create_organization()
    foreign = emulator.store.seed_transports(other.id, 1)
    ids = [*routes[:3], MISSING, foreign[0], routes[0]]
    reply = await api.post(BULK, {"transport_ids": ids})
    assert reply.status == 200
    body = reply.json
    assert set(body) == {"success_count", "success_ids", "failed_count", "failed_ids", "message"}
    assert body["success_ids"] == routes[:3]
    assert body["failed_ids"] == [MISSING, foreign[0]]
    assert (body["success_count"], body["failed_count"]) == (3, 2)
    assert isinstance(body["message"], str)
    again = await api.post(BULK, {"transport_ids": routes[:1]})
    assert again.json["failed_ids"] == routes[:1]
    assert emulator.store.transport_ids(api.org.id) == set(routes[3:])


async def test_bulk_delete_100000_ids(api: Api, emulator: Emulator) -> None:
    """100,000 ids are accepted in one request and all deleted."""
    ids = emulator.store.seed_transports(api.org.id, DELETE_MAX_IDS)
    reply = await api.post(BULK, {"transport_ids": ids})
    assert reply.status == 200
    assert reply.json["success_count"] == DELETE_MAX_IDS
    assert reply.json["failed_count"] == 0
    assert emulator.store.transport_ids(api.org.id) == set()
    assert emulator.requests[-1].id_count == DELETE_MAX_IDS


@pytest.mark.parametrize(("count", "kind"), [(0, "too_short"), (DELETE_MAX_IDS + 1, "too_long")])
async def test_bulk_delete_id_count_out_of_range_is_422(
    api: Api, emulator: Emulator, count: int, kind: str
) -> None:
    """0 or 100,001 ids -> 422 on body.transport_ids; nothing deleted."""
    ids = [MISSING] * count
    kept = emulator.store.seed_transports(api.org.id, 1)
    reply = await api.post(BULK, {"transport_ids": ids})
    assert reply.status == 422
    assert reply.locs == [["body", "transport_ids"]]
    assert reply.json["detail"][0]["type"] == kind
    assert emulator.store.transport_ids(api.org.id) == set(kept)


async def test_bulk_delete_malformed_id_is_422(api: Api, routes: list[str]) -> None:
    """One malformed id rejects the whole request with its index."""
    reply = await api.post(BULK, {"transport_ids": [routes[0], "nope"]})
    assert reply.status == 422
    assert reply.locs == [["body", "transport_ids", 1]]
    assert (await api.get(LIST)).json["total"] == 120


async def test_bulk_delete_missing_field_is_422(api: Api) -> None:
    """A body without transport_ids -> 422 missing."""
    reply = await api.post(BULK, {"vehicle_ids": [MISSING]})
    assert reply.locs == [["body", "transport_ids"]]


async def test_delete_by_filters_flow(api: Api, emulator: Emulator, routes: list[str]) -> None:
    """List, keep the hash, POST the same query with it: all matches deleted."""
    errors = emulator.store.seed_transports(
        api.org.id, 7, status="error", transport_direction="upstream"
    )
    query = "status=error&transport_direction=upstream"
    listing = await api.get(f"{LIST}?{query}&size=5")
    assert listing.json["total"] >= 7
    matching = await _ids(api, query)
    reply = await api.post(f"{BY_FILTERS}?{query}", {"filter_hash": listing.json["filter_hash"]})
    assert reply.status == 200
    assert set(reply.json["success_ids"]) == matching
    assert set(errors) <= matching
    assert reply.json["failed_ids"] == []
    assert reply.json["success_count"] == len(matching)
    assert (await api.get(f"{LIST}?{query}")).json["total"] == 0


async def test_delete_by_filters_hash_mismatch_is_409(api: Api, routes: list[str]) -> None:
    """Another encoding of the same filters -> 409 FILTER_HASH_MISMATCH; nothing deleted."""
    listing = await api.get(f"{LIST}?status=active&status=error")
    reply = await api.post(
        f"{BY_FILTERS}?status[]=active&status[]=error", {"filter_hash": listing.json["filter_hash"]}
    )
    assert reply.status == 409
    assert reply.json == {
        "code": "FILTER_HASH_MISMATCH",
        "detail": "filter_hash does not match the current filters",
    }
    assert (await api.get(LIST)).json["total"] == 120


async def test_delete_by_filters_needs_a_filter(api: Api, routes: list[str]) -> None:
    """No filter (page/size/sort and unknown params don't count) -> 422 FILTERS_REQUIRED."""
    listing = await api.get(f"{LIST}?size=10")
    for query in ("", "?size=10&sort=name", "?unknown=1"):
        reply = await api.post(f"{BY_FILTERS}{query}", {"filter_hash": listing.json["filter_hash"]})
        assert reply.status == 422
        assert reply.json == {
            "code": "FILTERS_REQUIRED",
            "detail": "At least one filter is required",
        }
    assert (await api.get(LIST)).json["total"] == 120


async def test_delete_by_filters_body_is_validated(api: Api) -> None:
    """A missing or non-string filter_hash -> 422 FastAPI shape."""
    missing = await api.post(f"{BY_FILTERS}?status=error", {})
    assert missing.status == 422
    assert missing.locs == [["body", "filter_hash"]]
    wrong = await api.post(f"{BY_FILTERS}?status=error", {"filter_hash": 7})
    assert wrong.json["detail"][0]["type"] == "string_type"
    bad_filter = await api.post(f"{BY_FILTERS}?status=nope", {"filter_hash": "x"})
    assert bad_filter.locs == [["query", "status"]]


async def test_hash_covering_data_goes_stale(
    api: Api, emulator: Emulator, routes: list[str]
) -> None:
    """With filter_hash_covers_data, a delete or a seed after listing makes the hash stale."""
    emulator.filter_hash_covers_data = True
    query = "status=active"
    before = (await api.get(f"{LIST}?{query}")).json["filter_hash"]
    assert (await api.get(f"{LIST}?{query}&page=2")).json["filter_hash"] == before
    await api.delete(f"/v1/transports/{routes[0]}")
    after = (await api.get(f"{LIST}?{query}")).json["filter_hash"]
    assert after != before
    stale = await api.post(f"{BY_FILTERS}?{query}", {"filter_hash": before})
    assert stale.status == 409
    emulator.store.seed_transports(api.org.id, 1)
    reply = await api.post(f"{BY_FILTERS}?{query}", {"filter_hash": after})
    assert reply.status == 409
    fresh = (await api.get(f"{LIST}?{query}")).json["filter_hash"]
    assert (await api.post(f"{BY_FILTERS}?{query}", {"filter_hash": fresh})).status == 200


async def test_delete_one(api: Api, emulator: Emulator, routes: list[str]) -> None:
    """DELETE one route -> 204; again -> 404 TRANSPORT_ROUTE_NOT_FOUND; bad id -> 422."""
    reply = await api.delete(f"/v1/transports/{routes[0]}")
    assert reply.status == 204
    assert routes[0] not in emulator.store.transport_ids(api.org.id)
    again = await api.delete(f"/v1/transports/{routes[0]}")
    assert again.status == 404
    assert again.json == {
        "detail": f"TransportRoute with id=UUID('{routes[0]}') not found",
        "code": "TRANSPORT_ROUTE_NOT_FOUND",
    }
    bad = await api.delete("/v1/transports/route-1")
    assert bad.status == 422
    assert bad.locs == [["path", "transport_route_id"]]
