"""Project endpoints: link, unlink, link-by-filters and delete."""

from __future__ import annotations

from typing import Any

import pytest
from dcycle_async import EntityType
from dcycle_async.testing import LINK_MAX_IDS, Emulator, Organization

from .emulator_support import Api

pytestmark = pytest.mark.anyio

MISSING = "00000000-0000-4000-8000-000000000000"


def _path(project_id: str, action: str = "link") -> str:
    return f"/v1/projects/{project_id}/entities/{action}"


@pytest.fixture
def project(emulator: Emulator, org: Organization) -> str:
    """A project of ``org``."""
    return emulator.store.create_project(org.id, name="Scope 3")


@pytest.fixture
def invoices(emulator: Emulator, org: Organization) -> list[str]:
    """150 invoices of ``org``."""
    return emulator.store.seed_entities(org.id, "invoices", 150)


async def test_link_one_id(api: Api, emulator: Emulator, project: str, invoices: list[str]) -> None:
    """Linking one id creates one link."""
    body = {"entity_type": "invoices", "entity_ids": invoices[:1]}
    reply = await api.post(_path(project), body)
    assert reply.status == 200
    assert reply.json == {"created": 1, "skipped": 0}
    assert emulator.store.linked_ids(project, EntityType.INVOICES) == {invoices[0]}


async def test_link_100_ids_is_the_limit(
    api: Api, emulator: Emulator, project: str, invoices: list[str]
) -> None:
    """Exactly 100 ids are accepted in one request."""
    body = {"entity_type": "invoices", "entity_ids": invoices[:LINK_MAX_IDS]}
    reply = await api.post(_path(project), body)
    assert reply.json == {"created": 100, "skipped": 0}
    assert emulator.store.linked_ids(project, "invoices") == set(invoices[:100])


@pytest.mark.parametrize(("count", "kind"), [(0, "too_short"), (101, "too_long")])
async def test_link_id_count_out_of_range_is_422(
    api: Api, emulator: Emulator, project: str, invoices: list[str], count: int, kind: str
) -> None:
    """0 or 101 ids -> 422 on body.entity_ids, and nothing is linked."""
    reply = await api.post(
        _path(project), {"entity_type": "invoices", "entity_ids": invoices[:count]}
    )
    assert reply.status == 422
    assert reply.json["detail"][0]["loc"] == ["body", "entity_ids"]
    assert reply.json["detail"][0]["type"] == kind
    assert emulator.store.linked_ids(project, "invoices") == set()


async def test_link_again_is_skipped(api: Api, project: str, invoices: list[str]) -> None:
    """Already linked ids count as skipped: linking is idempotent."""
    body = {"entity_type": "invoices", "entity_ids": invoices[:10]}
    await api.post(_path(project), body)
    body = {"entity_type": "invoices", "entity_ids": invoices[5:15]}
    assert (await api.post(_path(project), body)).json == {"created": 5, "skipped": 5}


async def test_link_duplicates_count_once(api: Api, project: str, invoices: list[str]) -> None:
    """An id repeated within one request counts once."""
    body = {"entity_type": "invoices", "entity_ids": [invoices[0]] * 3 + [invoices[1]]}
    assert (await api.post(_path(project), body)).json == {"created": 2, "skipped": 0}


async def test_link_accepts_other_uuid_spellings(
    api: Api, emulator: Emulator, project: str, invoices: list[str]
) -> None:
    """Upper-case ids are the same ids, as with the API's UUID validator."""
    body = {"entity_type": "invoices", "entity_ids": [invoices[0].upper()]}
    assert (await api.post(_path(project), body)).json == {"created": 1, "skipped": 0}
    assert emulator.store.linked_ids(project, "invoices") == {invoices[0]}


async def test_link_unknown_ids_are_skipped_by_default(
    api: Api, emulator: Emulator, project: str, invoices: list[str]
) -> None:
    """Ids unknown to the org (or of another type or org) count as skipped."""
    other = emulator.create_organization()
    foreign = emulator.store.seed_entities(other.id, "invoices", 1)
    requests = emulator.store.seed_entities(api.org.id, "logistic_requests", 1)
    ids = [invoices[0], MISSING, foreign[0], requests[0]]
    reply = await api.post(_path(project), {"entity_type": "invoices", "entity_ids": ids})
    assert reply.json == {"created": 1, "skipped": 3}
    assert emulator.store.linked_ids(project, "invoices") == {invoices[0]}


async def test_link_unknown_ids_not_found_mode(
    api: Api, emulator: Emulator, project: str, invoices: list[str]
) -> None:
    """With unknown_link_ids="not_found" an unknown id -> 404 NOT_FOUND, nothing linked."""
    emulator.unknown_link_ids = "not_found"
    ids = [invoices[0], MISSING]
    reply = await api.post(_path(project), {"entity_type": "invoices", "entity_ids": ids})
    assert reply.status == 404
    assert reply.json["code"] == "NOT_FOUND"
    assert MISSING in reply.json["detail"]
    assert emulator.store.linked_ids(project, "invoices") == set()


async def test_link_bad_entity_type_is_422(api: Api, project: str, invoices: list[str]) -> None:
    """An entity_type outside the five -> 422 on body.entity_type."""
    reply = await api.post(_path(project), {"entity_type": "wastes", "entity_ids": invoices[:1]})
    assert reply.status == 422
    assert reply.locs == [["body", "entity_type"]]
    assert reply.json["detail"][0]["type"] == "enum"


async def test_link_malformed_ids_are_422_with_positions(api: Api, project: str) -> None:
    """Each malformed id is reported at its index; nothing is linked."""
    ids = [MISSING, "not-a-uuid", 42]
    reply = await api.post(_path(project), {"entity_type": "invoices", "entity_ids": ids})
    assert reply.status == 422
    assert reply.locs == [["body", "entity_ids", 1], ["body", "entity_ids", 2]]
    assert [item["type"] for item in reply.json["detail"]] == ["uuid_parsing", "uuid_type"]


async def test_link_missing_fields_are_422(api: Api, project: str) -> None:
    """Both missing fields are reported together."""
    reply = await api.post(_path(project), {})
    assert reply.status == 422
    assert reply.locs == [["body", "entity_type"], ["body", "entity_ids"]]
    assert {item["type"] for item in reply.json["detail"]} == {"missing"}


async def test_link_ids_not_a_list_is_422(api: Api, project: str) -> None:
    """entity_ids given as a string -> 422 list_type."""
    reply = await api.post(_path(project), {"entity_type": "invoices", "entity_ids": MISSING})
    assert reply.json["detail"][0]["type"] == "list_type"


@pytest.mark.parametrize(
    ("data", "kind"),
    [(b"{not json", "json_invalid"), (b"", "missing"), (b"[1, 2]", "model_attributes_type")],
)
async def test_link_body_not_a_json_object_is_422(
    api: Api, project: str, data: bytes, kind: str
) -> None:
    """A non-JSON, empty or non-object body -> 422 in FastAPI's list shape."""
    reply = await api.call(
        "POST", _path(project), data=data, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 422
    assert reply.json["detail"][0]["type"] == kind
    assert reply.json["detail"][0]["loc"][0] == "body"


async def test_link_malformed_project_id_is_422(api: Api, invoices: list[str]) -> None:
    """A non-UUID project id -> 422 with loc path.project_id."""
    reply = await api.post(_path("proj-1"), {"entity_type": "invoices", "entity_ids": invoices[:1]})
    assert reply.status == 422
    assert reply.locs == [["path", "project_id"]]


async def test_link_missing_project_is_404(api: Api, invoices: list[str]) -> None:
    """An unknown project -> 404 {"detail": "Project not found"} with no code."""
    reply = await api.post(_path(MISSING), {"entity_type": "invoices", "entity_ids": invoices[:1]})
    assert reply.status == 404
    assert reply.json == {"detail": "Project not found"}


async def test_link_other_orgs_project_is_404(
    api: Api, emulator: Emulator, invoices: list[str]
) -> None:
    """Another org's project is "not found" too."""
    other = emulator.create_organization()
    theirs = emulator.store.create_project(other.id)
    reply = await api.post(_path(theirs), {"entity_type": "invoices", "entity_ids": invoices[:1]})
    assert reply.status == 404
    assert reply.json == {"detail": "Project not found"}


async def test_link_needs_credentials(api: Api, project: str, invoices: list[str]) -> None:
    """Link without credentials -> 401 before the body is looked at."""
    reply = await api.post(
        _path(project), {"entity_ids": []}, headers={"x-organization-id": api.org.id}, auth=False
    )
    assert reply.status == 401


async def test_unlink_removes_links(
    api: Api, emulator: Emulator, project: str, invoices: list[str]
) -> None:
    """Unlink answers how many associations it removed; others don't count."""
    await api.post(_path(project), {"entity_type": "invoices", "entity_ids": invoices[:10]})
    body = {"entity_type": "invoices", "entity_ids": [*invoices[:4], invoices[50], MISSING]}
    reply = await api.post(_path(project, "unlink"), body)
    assert reply.status == 200
    assert reply.json == {"deleted": 4}
    assert emulator.store.linked_ids(project, "invoices") == set(invoices[4:10])
    assert emulator.store.entity_ids(api.org.id, "invoices") == set(invoices)


@pytest.mark.parametrize(("count", "status"), [(0, 422), (1, 200), (100, 200), (101, 422)])
async def test_unlink_limits(
    api: Api, project: str, invoices: list[str], count: int, status: int
) -> None:
    """Unlink takes 1..100 ids like link."""
    body = {"entity_type": "invoices", "entity_ids": invoices[:count]}
    assert (await api.post(_path(project, "unlink"), body)).status == status


async def test_unlink_missing_project_is_404(api: Api, invoices: list[str]) -> None:
    """Unlink on an unknown project -> 404 Project not found."""
    body = {"entity_type": "invoices", "entity_ids": invoices[:1]}
    reply = await api.post(_path(MISSING, "unlink"), body)
    assert reply.json == {"detail": "Project not found"}


# --- link-by-filters ------------------------------------------------------------


async def _link_by(api: Api, project: str, entity_type: str, filters: Any) -> Any:
    return await api.post(
        _path(project, "link-by-filters"), {"entity_type": entity_type, "filters": filters}
    )


async def test_link_by_empty_filters_links_everything(
    api: Api, emulator: Emulator, project: str, invoices: list[str]
) -> None:
    """{} links all entities of the type in the org; a second run skips them."""
    reply = await _link_by(api, project, "invoices", {})
    assert reply.status == 200
    assert reply.json == {"created": 150, "skipped": 0}
    assert emulator.store.linked_ids(project, "invoices") == set(invoices)
    assert (await _link_by(api, project, "invoices", {})).json == {"created": 0, "skipped": 150}


async def test_link_by_invoice_filters(api: Api, emulator: Emulator, project: str) -> None:
    """Invoice filters: types, statuses, facility_ids, start_date/end_date."""
    store = emulator.store
    org_id = api.org.id
    facility = store.pools(org_id).facility_ids[0]
    wanted = store.seed_entities(
        org_id,
        "invoices",
        5,
        type="heat",
        status="active",
        facility_id=facility,
        start_date="2024-03-01",
        end_date="2024-03-31",
    )
    store.seed_entities(org_id, "invoices", 5, type="water", status="active", facility_id=facility)
    store.seed_entities(
        org_id,
        "invoices",
        5,
        type="heat",
        status="active",
        facility_id=facility,
        start_date="2023-03-01",
        end_date="2023-03-31",
    )
    filters = {
        "types": ["heat"],
        "statuses": ["active", "review"],
        "facility_ids": [facility],
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
    }
    assert (await _link_by(api, project, "invoices", filters)).json == {"created": 5, "skipped": 0}
    assert store.linked_ids(project, "invoices") == set(wanted)


async def test_link_by_logistic_request_filters(api: Api, emulator: Emulator, project: str) -> None:
    """Logistic request filters: clients, trip dates, search and created_at."""
    store = emulator.store
    org_id = api.org.id
    wanted = store.seed_entities(
        org_id,
        "logistic_requests",
        4,
        client="ACME",
        trip_date="2024-02-10",
        created_at="2024-02-11T10:00:00Z",
    )
    store.seed_entities(org_id, "logistic_requests", 4, client="ACME", trip_date="2023-02-10")
    store.seed_entities(org_id, "logistic_requests", 4, client="OTHER", trip_date="2024-02-10")
    filters = {
        "clients": ["ACME"],
        "trip_date_from": "2024-02-01",
        "trip_date_until": "2024-02-10",
        "created_at_from": "2024-02-11",
        "created_at_to": "2024-02-11",
    }
    assert (await _link_by(api, project, "logistic_requests", filters)).json["created"] == 4
    assert store.linked_ids(project, "logistic_requests") == set(wanted)
    search = store.seed_entities(org_id, "logistic_requests", 1, movement_id="MOV-SPECIAL-1")
    reply = await _link_by(api, project, "logistic_requests", {"search": "special"})
    assert reply.json == {"created": 1, "skipped": 0}
    assert search[0] in store.linked_ids(project, "logistic_requests")


async def test_link_by_logistic_recharge_filters(
    api: Api, emulator: Emulator, project: str
) -> None:
    """Logistic recharge filters: plate, fuel, date range."""
    store = emulator.store
    org_id = api.org.id
    fuel = store.pools(org_id).fuel_ids[1]
    wanted = store.seed_entities(
        org_id,
        "logistic_recharges",
        3,
        vehicle_license_plate="1234ABC",
        fuel_id=fuel,
        date="2025-05-05",
    )
    store.seed_entities(org_id, "logistic_recharges", 3, vehicle_license_plate="9999ZZZ")
    filters = {
        "vehicle_license_plate": ["1234ABC"],
        "fuel_id": [fuel],
        "date_from": "2025-05-01",
        "date_until": "2025-05-31",
    }
    assert (await _link_by(api, project, "logistic_recharges", filters)).json["created"] == 3
    assert store.linked_ids(project, "logistic_recharges") == set(wanted)


async def test_link_by_package_created_at(api: Api, emulator: Emulator, project: str) -> None:
    """Logistic packages filter on their creation date only."""
    store = emulator.store
    wanted = store.seed_entities(api.org.id, "logistic_packages", 2, created_at="2024-06-01")
    store.seed_entities(api.org.id, "logistic_packages", 2, created_at="2024-07-01")
    filters = {"created_at_from": "2024-05-31", "created_at_to": "2024-06-01"}
    assert (await _link_by(api, project, "logistic_packages", filters)).json["created"] == 2
    assert store.linked_ids(project, "logistic_packages") == set(wanted)


async def test_link_by_file_readings_linked(api: Api, emulator: Emulator, project: str) -> None:
    """file_readings "linked": true picks already linked ones, false the others."""
    readings = emulator.store.seed_entities(api.org.id, "file_readings", 6)
    await api.post(_path(project), {"entity_type": "file_readings", "entity_ids": readings[:2]})
    reply = await _link_by(api, project, "file_readings", {"linked": True})
    assert reply.json == {"created": 0, "skipped": 2}
    reply = await _link_by(api, project, "file_readings", {"linked": False})
    assert reply.json == {"created": 4, "skipped": 0}
    assert emulator.store.linked_ids(project, "file_readings") == set(readings)


async def test_link_by_filters_null_and_empty_values_filter_nothing(
    api: Api, project: str, invoices: list[str]
) -> None:
    """A null value or an empty list does not narrow the selection."""
    reply = await _link_by(api, project, "invoices", {"types": [], "start_date": None})
    assert reply.json == {"created": 150, "skipped": 0}


async def test_link_by_filters_unknown_key_is_invalid_filters(api: Api, project: str) -> None:
    """An unknown key -> 422 INVALID_FILTERS naming it."""
    reply = await _link_by(api, project, "invoices", {"types": ["heat"], "foo": 1})
    assert reply.status == 422
    assert reply.json == {"code": "INVALID_FILTERS", "detail": "Unknown filter key: 'foo'"}


async def test_link_by_filters_key_of_another_type_is_unknown(api: Api, project: str) -> None:
    """Keys are per entity type: an invoice key is unknown for file_readings."""
    reply = await _link_by(api, project, "file_readings", {"types": ["heat"]})
    assert reply.json["code"] == "INVALID_FILTERS"


@pytest.mark.parametrize(
    ("filters", "loc", "kind"),
    [
        ({"types": "heat"}, ["body", "filters", "types"], "list_type"),
        ({"types": [1]}, ["body", "filters", "types", 0], "string_type"),
        ({"facility_ids": ["nope"]}, ["body", "filters", "facility_ids", 0], "uuid_parsing"),
        (
            {"start_date": "01/02/2024"},
            ["body", "filters", "start_date"],
            "date_from_datetime_parsing",
        ),
        (
            {"start_date": "2024-02-30"},
            ["body", "filters", "start_date"],
            "date_from_datetime_parsing",
        ),
        ([], ["body", "filters"], "dict_type"),
    ],
)
async def test_link_by_filters_wrong_value_types_are_422(
    api: Api, project: str, filters: Any, loc: list[str | int], kind: str
) -> None:
    """Wrong value types and malformed dates/UUIDs -> 422 list shape."""
    reply = await _link_by(api, project, "invoices", filters)
    assert reply.status == 422
    assert reply.locs == [loc]
    assert reply.json["detail"][0]["type"] == kind


async def test_link_by_filters_bool_type_is_checked(api: Api, project: str) -> None:
    """file_readings.linked must be a boolean."""
    reply = await _link_by(api, project, "file_readings", {"linked": "maybe"})
    assert reply.status == 422
    assert reply.json["detail"][0]["type"] == "bool_parsing"


async def test_link_by_filters_missing_filters_is_422(api: Api, project: str) -> None:
    """The filters object is required."""
    reply = await api.post(_path(project, "link-by-filters"), {"entity_type": "invoices"})
    assert reply.status == 422
    assert reply.locs == [["body", "filters"]]


async def test_link_by_filters_missing_project_has_a_code(api: Api) -> None:
    """Unlike link, link-by-filters' 404 carries code NOT_FOUND."""
    reply = await _link_by(api, MISSING, "invoices", {})
    assert reply.status == 404
    assert reply.json == {"code": "NOT_FOUND", "detail": "Project not found"}


async def test_delete_project(
    api: Api, emulator: Emulator, project: str, invoices: list[str]
) -> None:
    """DELETE a project -> 204; it is gone with its links, the entities stay."""
    await api.post(_path(project), {"entity_type": "invoices", "entity_ids": invoices[:3]})
    reply = await api.delete(f"/v1/projects/{project}")
    assert reply.status == 204
    assert reply.raw == b""
    assert project not in emulator.store.project_ids(api.org.id)
    assert emulator.store.entity_ids(api.org.id, "invoices") == set(invoices)
    again = await api.post(_path(project), {"entity_type": "invoices", "entity_ids": invoices[:1]})
    assert again.json == {"detail": "Project not found"}


async def test_delete_project_errors(api: Api, emulator: Emulator) -> None:
    """Unknown or another org's project -> 404; a malformed id -> 422."""
    other = emulator.create_organization()
    theirs = emulator.store.create_project(other.id)
    for project_id in (MISSING, theirs):
        reply = await api.delete(f"/v1/projects/{project_id}")
        assert reply.status == 404
        assert reply.json == {"detail": "Project not found"}
    reply = await api.delete("/v1/projects/xyz")
    assert reply.status == 422
    assert reply.locs == [["path", "project_id"]]
    assert theirs in emulator.store.project_ids(other.id)
