"""The store, seeding, ids and hashing, without HTTP."""

from __future__ import annotations

import ast
import datetime
import pathlib
import random
import typing
import uuid

import dcycle_async.testing as testing
import pytest
from dcycle_async import EntityType
from dcycle_async.testing import Emulator, filter_hash
from dcycle_async.testing._hashing import raw_filter_pairs
from dcycle_async.testing._ids import all_canonical, canonical_uuid, new_uuids
from dcycle_async.testing._table import Cond

PACKAGE = pathlib.Path(testing.__file__).parent


def test_new_uuids_are_canonical_v4() -> None:
    """Generated ids are distinct canonical lower-case UUID v4 strings."""
    ids = new_uuids(random.Random(1), 5_000)
    assert len(set(ids)) == 5_000
    for value in ids:
        parsed = uuid.UUID(value)
        assert str(parsed) == value
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    assert new_uuids(random.Random(1), 0) == []


def test_ids_are_reproducible_with_a_seed() -> None:
    """The same seed gives the same organisations and records."""
    one, two = Emulator(seed=3), Emulator(seed=3)
    org_one, org_two = one.create_organization(), two.create_organization()
    assert org_one == org_two
    ids = one.store.seed_transports(org_one.id, 10)
    assert ids == two.store.seed_transports(org_two.id, 10)
    assert one.store.transport(org_one.id, ids[0]) == two.store.transport(org_two.id, ids[0])


def test_canonical_uuid_and_all_canonical() -> None:
    """Other spellings are normalised; the bulk check rejects anything off."""
    value = "3f1e2d4c-5b6a-4789-9abc-def012345678"
    assert canonical_uuid(value.upper()) == value
    assert canonical_uuid("{" + value + "}") == value
    assert canonical_uuid(value.replace("-", "")) == value
    assert canonical_uuid("nope") is None
    assert canonical_uuid(5) is None
    assert all_canonical([value, value])
    assert all_canonical([])
    assert not all_canonical([value.upper()])
    assert not all_canonical([value, 1])
    assert not all_canonical([value + "\n" + value, ""])


def test_create_organization_options() -> None:
    """Given ids and credentials are used; duplicates are refused."""
    emulator = Emulator()
    org = emulator.create_organization(
        "3F1E2D4C-5B6A-4789-9ABC-DEF012345678", api_key="k1", bearer_token="t1", name="Acme"
    )
    assert org.id == "3f1e2d4c-5b6a-4789-9abc-def012345678"
    assert (org.api_key, org.bearer_token, org.name) == ("k1", "t1", "Acme")
    assert emulator.store.organization(org.id) == org
    assert emulator.store.org_for_credential("t1") == org.id
    with pytest.raises(ValueError, match="already exists"):
        emulator.create_organization(org.id)
    with pytest.raises(ValueError, match="credential"):
        emulator.create_organization(api_key="k1")
    random_org = emulator.create_organization()
    assert random_org.api_key.startswith("sk_emu_")
    assert emulator.store.organizations() == [org, random_org]


def test_seed_transports_realistic_values() -> None:
    """Seeded routes spread over 2023-2025, statuses, directions and a small file pool."""
    emulator = Emulator(seed=5)
    org = emulator.create_organization()
    ids = emulator.store.seed_transports(org.id, 2_000)
    routes = [emulator.store.transport(org.id, i) for i in ids[:500]]
    assert all(r is not None for r in routes)
    items = [r for r in routes if r is not None]
    dates = {datetime.date.fromisoformat(r["transport_date"]) for r in items}
    assert min(dates).year == 2023
    assert max(dates).year == 2025
    assert {r["status"] for r in items} == {"pending", "active", "error"}
    assert {r["transport_direction"] for r in items} == {"downstream", "upstream"}
    files = {r["file_id"] for r in items}
    assert None in files
    assert files - {None} <= set(emulator.store.file_ids(org.id))
    assert any(r["co2e"] is None for r in items)
    assert any(isinstance(r["co2e"], float) for r in items)


def test_seed_with_fixed_attributes() -> None:
    """fixed_attrs set columns for every seeded record, with type coercion."""
    emulator = Emulator()
    store = emulator.store
    org = emulator.create_organization()
    file_id = str(uuid.uuid4())
    ids = store.seed_transports(
        org.id,
        3,
        status="error",
        co2e=None,
        file_id=file_id.upper(),
        transport_date=datetime.date(2024, 2, 29),
        created_at=datetime.datetime(2024, 3, 1, 12, tzinfo=datetime.UTC),
    )
    route = store.transport(org.id, ids[0])
    assert route is not None
    assert (route["status"], route["co2e"], route["emissions"]) == ("error", None, [])
    assert route["file_id"] == file_id
    assert route["transport_date"] == "2024-02-29"
    assert route["created_at"] == "2024-03-01T12:00:00Z"
    vehicle_ids = store.seed_vehicles(org.id, 2, registration_year=2020, created_at="2024-01-01")
    vehicle = store.vehicle(org.id, vehicle_ids[0])
    assert vehicle is not None
    assert vehicle["registration_year"] == 2020
    assert vehicle["created_at"] == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("attrs", "error"),
    [
        ({"colour": "red"}, TypeError),
        ({"co2e": "lots"}, TypeError),
        ({"created_at": None}, TypeError),
        ({"file_id": "nope"}, ValueError),
        ({"transport_date": "2024-02-30"}, ValueError),
    ],
)
def test_seed_rejects_bad_fixed_attributes(
    attrs: dict[str, object], error: type[Exception]
) -> None:
    """Unknown columns and values of the wrong type are refused."""
    emulator = Emulator()
    org = emulator.create_organization()
    with pytest.raises(error):
        emulator.store.seed_transports(org.id, 1, **attrs)


@pytest.mark.parametrize("entity_type", list(EntityType))
def test_seed_entities_of_every_type(entity_type: EntityType) -> None:
    """Each linkable type seeds, by enum or by string, into its own table."""
    emulator = Emulator()
    org = emulator.create_organization()
    ids = emulator.store.seed_entities(org.id, entity_type, 25)
    assert emulator.store.entity_ids(org.id, entity_type.value) == set(ids)
    with pytest.raises(ValueError, match="unknown entity type"):
        emulator.store.seed_entities(org.id, "wastes", 1)


def test_store_link_bookkeeping() -> None:
    """link/unlink counts, and the not_found mode leaves links untouched."""
    emulator = Emulator()
    store = emulator.store
    org = emulator.create_organization()
    project_id = store.create_project(org.id)
    project = store.project(org.id, project_id)
    assert project is not None
    ids = store.seed_entities(org.id, EntityType.INVOICES, 4)
    assert store.link(project, EntityType.INVOICES, [*ids[:2], ids[0], "x"]) == (2, 1)
    with pytest.raises(LookupError):
        store.link(project, EntityType.INVOICES, [ids[2], "x"], unknown="not_found")
    assert store.linked_ids(project_id, "invoices") == set(ids[:2])
    assert store.unlink(project, EntityType.INVOICES, [ids[0], ids[3]]) == 1
    assert store.project(emulator.create_organization().id, project_id) is None


def test_query_cache_follows_generation() -> None:
    """Query results are cached until the data changes."""
    emulator = Emulator()
    store = emulator.store
    org = emulator.create_organization()
    ids = store.seed_transports(org.id, 50, status="error")
    conds = (Cond("in", ("status",), frozenset({"error"})),)
    first = store.query(org.id, "transports", conds)
    assert store.query(org.id, "transports", conds) is first
    generation = store.generation(org.id, "transports")
    store.delete(org.id, "transports", ids[:10])
    assert store.generation(org.id, "transports") != generation
    assert len(store.query(org.id, "transports", conds)) == 40


def test_filter_hash_reads_raw_pairs() -> None:
    """Only known filters count, as written; page/size/sort are left out."""
    names = ["status", "search"]
    pairs = raw_filter_pairs("status%5B%5D=a&page=2&search=x+y&foo=1&sort=-name&size=5", names)
    assert pairs == [("status%5B%5D", "a"), ("search", "x+y")]
    assert filter_hash(pairs) == filter_hash(list(pairs))
    assert filter_hash(pairs) != filter_hash(pairs[::-1])
    assert filter_hash(pairs, generation=1) != filter_hash(pairs, generation=2)
    assert len(filter_hash([])) == 16


def test_public_names_are_documented() -> None:
    """Every public name resolves and has a docstring (constants and aliases aside)."""
    for name in testing.__all__:
        value = getattr(testing, name)
        if not isinstance(value, int) and typing.get_origin(value) is not typing.Literal:
            assert getattr(value, "__doc__", None), name
    with pytest.raises(AttributeError):
        _ = testing.NoSuchThing


def test_emulator_does_not_import_the_client() -> None:
    """The emulator is independent: it imports only the enums of the package.

    The one exception is the plugin's ``dcycle_client`` fixture.
    """
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("dcycle_async") for a in node.names), path.name
            elif isinstance(node, ast.ImportFrom) and node.level == 2:
                assert node.module == "_enums", f"{path.name} imports ..{node.module}"
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dcycle_a"):
                client_fixture = path.name == "plugin.py" and node.module == "dcycle_async"
                assert node.module == "dcycle_async.testing" or client_fixture, path.name
