"""Authentication, organisation scoping and routing of the emulator."""

from __future__ import annotations

import pytest
from dcycle_async.testing import Emulator, Organization

from .emulator_support import Api

pytestmark = pytest.mark.anyio

LIST = "/v1/transports"
UNKNOWN_ORG = "00000000-0000-4000-8000-000000000000"


async def test_x_api_key_is_accepted(api: Api) -> None:
    """The x-api-key header with the org's key opens the org."""
    reply = await api.get(LIST)
    assert reply.status == 200
    assert reply.json["total"] == 0


async def test_bearer_api_key_is_accepted(api: Api, org: Organization) -> None:
    """Authorization: Bearer <api key> is accepted too."""
    headers = {"Authorization": f"Bearer {org.api_key}", "x-organization-id": org.id}
    assert (await api.get(LIST, headers=headers, auth=False)).status == 200


async def test_bearer_token_is_accepted(api: Api, org: Organization) -> None:
    """Authorization: Bearer <token> opens the org of the token."""
    headers = {"Authorization": f"Bearer {org.bearer_token}", "x-organization-id": org.id}
    assert (await api.get(LIST, headers=headers, auth=False)).status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": "sk_live_not_a_key"},
        {"Authorization": "Bearer sk_live_not_a_key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
async def test_missing_or_unknown_credentials_are_401(
    api: Api, org: Organization, headers: dict[str, str]
) -> None:
    """No credential, an unknown one, or another scheme -> 401 INVALID_API_KEY."""
    reply = await api.get(LIST, headers={**headers, "x-organization-id": org.id}, auth=False)
    assert reply.status == 401
    assert reply.json == {"detail": "Invalid API key for organization", "code": "INVALID_API_KEY"}


async def test_other_orgs_key_is_403(api: Api, emulator: Emulator) -> None:
    """Valid credentials of one org used with another existing org -> 403."""
    other = emulator.create_organization()
    reply = await api.get(LIST, headers={"x-organization-id": other.id})
    assert reply.status == 403
    assert reply.json == {
        "detail": "Logged User is not Member of Organization",
        "code": "LOGGED_USER_NOT_MEMBER",
    }


async def test_unknown_org_is_404(api: Api) -> None:
    """A well-formed but unknown organisation id -> 404 ORGANIZATION_NOT_FOUND."""
    reply = await api.get(LIST, headers={"x-organization-id": UNKNOWN_ORG})
    assert reply.status == 404
    assert reply.json == {
        "code": "ORGANIZATION_NOT_FOUND",
        "detail": f"Organization with id=UUID('{UNKNOWN_ORG}') not found",
    }


async def test_missing_org_header_is_422(api: Api, org: Organization) -> None:
    """No x-organization-id -> 422 in FastAPI's list shape."""
    reply = await api.get(LIST, headers={"x-api-key": org.api_key}, auth=False)
    assert reply.status == 422
    assert reply.json["detail"][0]["loc"] == ["header", "x-organization-id"]
    assert reply.json["detail"][0]["type"] == "missing"


async def test_malformed_org_header_is_422(api: Api) -> None:
    """A non-UUID x-organization-id -> 422 with the header's loc."""
    reply = await api.get(LIST, headers={"x-organization-id": "acme"})
    assert reply.status == 422
    assert reply.locs == [["header", "x-organization-id"]]


async def test_org_id_in_upper_case_is_the_same_org(api: Api, org: Organization) -> None:
    """Any UUID spelling of the org id is accepted, like the API's validator."""
    reply = await api.get(LIST, headers={"x-organization-id": org.id.upper()})
    assert reply.status == 200


async def test_unknown_route_is_404_not_found(api: Api) -> None:
    """An unknown path -> 404 {"detail": "Not Found"}, even without credentials."""
    reply = await api.get("/v1/nothing-here", auth=False)
    assert reply.status == 404
    assert reply.json == {"detail": "Not Found"}


async def test_wrong_method_is_405(api: Api) -> None:
    """A known path with another method -> 405 with an Allow header."""
    reply = await api.call("PUT", "/v1/transports")
    assert reply.status == 405
    assert reply.json == {"detail": "Method Not Allowed"}
    assert reply.headers["Allow"] == "GET"


async def test_records_are_scoped_to_their_org(api: Api, emulator: Emulator) -> None:
    """Another org's records are invisible and behave as not found."""
    other = emulator.create_organization()
    theirs = emulator.store.seed_transports(other.id, 3)
    mine = emulator.store.seed_transports(api.org.id, 2)
    listing = await api.get(LIST)
    assert {item["id"] for item in listing.json["items"]} == set(mine)
    reply = await api.delete(f"/v1/transports/{theirs[0]}")
    assert reply.status == 404
    deleted = await api.post("/v1/transports/bulk-delete", {"transport_ids": theirs})
    assert deleted.json["failed_ids"] == theirs
    assert emulator.store.transport_ids(other.id) == set(theirs)
