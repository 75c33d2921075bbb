"""The emulator's in-memory state: organisations, projects, links and records.

Every record belongs to one organisation; asking about another
organisation's id behaves as "not found".  The store knows nothing of HTTP:
the app validates requests and turns them into calls on this class, and
tests use the same methods to seed data and look at the result.
"""

from __future__ import annotations

import datetime
import random
import uuid
from array import array
from collections import Counter, OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal

import attrs

from .._enums import EntityType
from ._ids import new_uuid, new_uuids
from ._seed import (
    ENTITY_SCHEMAS,
    TRANSPORT_SCHEMA,
    VEHICLE_SCHEMA,
    Columns,
    Pools,
    coerce_fixed,
    entity_columns,
    transport_columns,
    vehicle_columns,
)
from ._table import Cond, Table, select_rows, sort_rows

__all__ = ["Organization", "Project", "Resource", "Store", "UnknownEntityError"]

Resource = Literal["transports", "vehicles"]
UnknownIds = Literal["skip", "not_found"]

# Cached query results (row numbers, 8 bytes each): enough for a few
# listings of a million-row table being paged through side by side.
QUERY_CACHE_SIZE: Final = 16
_SECTION_NAMESPACE: Final = uuid.UUID("6d3c2a8e-51f4-4c7b-9a0e-0c5b3f1d2e7a")
_KG_UNIT_NAME: Final = "kilogram_(kg)"


@attrs.frozen
class Organization:
    """An emulated organisation and the credentials that open it.

    Attributes:
        id: the organisation id (``x-organization-id``).
        api_key: accepted as ``x-api-key`` or ``Authorization: Bearer``.
        bearer_token: accepted as ``Authorization: Bearer`` (a stand-in for a JWT).
        name: a display name.
    """

    id: str
    api_key: str
    bearer_token: str
    name: str


@attrs.define
class Project:
    """A project and its links: entity type -> linked entity ids."""

    id: str
    org_id: str
    name: str
    links: dict[EntityType, set[str]] = attrs.Factory(lambda: {t: set() for t in EntityType})


class UnknownEntityError(LookupError):
    """An id to link does not exist in the organisation (``not_found`` mode)."""

    def __init__(self, entity_type: EntityType, entity_id: str) -> None:
        super().__init__(entity_id)
        self.entity_type = entity_type
        self.entity_id = entity_id


@attrs.define
class _OrgData:
    org: Organization
    pools: Pools
    transports: Table
    vehicles: Table
    entities: dict[EntityType, Table]


def _iso_timestamp(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entity_type(value: EntityType | str) -> EntityType:
    try:
        return EntityType(value)
    except ValueError:
        allowed = ", ".join(t.value for t in EntityType)
        raise ValueError(f"unknown entity type {value!r}; one of: {allowed}") from None


@attrs.define
class Store:
    """Organisations, projects, links, transports, vehicles and linkable entities.

    Attributes:
        rng: the source of every random id and value (seed it for
            reproducible data).
    """

    rng: random.Random = attrs.Factory(random.Random)
    _orgs: dict[str, _OrgData] = attrs.Factory(dict)
    _projects: dict[str, Project] = attrs.Factory(dict)
    _credentials: dict[str, str] = attrs.Factory(dict)
    _cache: OrderedDict[Hashable, array[int]] = attrs.Factory(OrderedDict)

    # --- organisations and credentials -----------------------------------

    def create_organization(
        self,
        org_id: str | None = None,
        api_key: str | None = None,
        bearer_token: str | None = None,
        name: str | None = None,
    ) -> Organization:
        """A new organisation; random id and credentials unless given."""
        org_id = str(uuid.UUID(org_id)) if org_id is not None else new_uuid(self.rng)
        if org_id in self._orgs:
            raise ValueError(f"organization {org_id} already exists")
        api_key = api_key or f"sk_emu_{self.rng.getrandbits(160):040x}"
        bearer_token = bearer_token or f"emu.{self.rng.getrandbits(256):064x}"
        for credential in (api_key, bearer_token):
            if credential in self._credentials:
                raise ValueError("that credential already belongs to an organization")
        org = Organization(
            id=org_id,
            api_key=api_key,
            bearer_token=bearer_token,
            name=name or f"Emulated organization {len(self._orgs) + 1}",
        )
        self._orgs[org_id] = _OrgData(
            org=org,
            pools=Pools.create(self.rng),
            transports=Table(TRANSPORT_SCHEMA),
            vehicles=Table(VEHICLE_SCHEMA),
            entities={t: Table(ENTITY_SCHEMAS[t]) for t in EntityType},
        )
        self._credentials[api_key] = org_id
        self._credentials[bearer_token] = org_id
        return org

    def organization(self, org_id: str) -> Organization:
        """The organisation with that id (KeyError if there is none)."""
        return self._org(org_id).org

    def organizations(self) -> list[Organization]:
        """Every organisation, in creation order."""
        return [data.org for data in self._orgs.values()]

    def has_organization(self, org_id: str) -> bool:
        """Whether an organisation with that id exists."""
        return org_id in self._orgs

    def org_for_credential(self, credential: str) -> str | None:
        """The organisation an API key or bearer token belongs to."""
        return self._credentials.get(credential)

    def _org(self, org_id: str) -> _OrgData:
        try:
            return self._orgs[org_id]
        except KeyError:
            raise KeyError(f"no organization {org_id}") from None

    # --- projects and links ------------------------------------------------

    def create_project(self, org_id: str, name: str = "Emulated project") -> str:
        """A new, empty project of the organisation; its id."""
        self._org(org_id)
        project_id = new_uuid(self.rng)
        self._projects[project_id] = Project(id=project_id, org_id=org_id, name=name)
        return project_id

    def project(self, org_id: str, project_id: str) -> Project | None:
        """The organisation's project, or None (missing, or another org's)."""
        project = self._projects.get(project_id)
        if project is None or project.org_id != org_id:
            return None
        return project

    def project_ids(self, org_id: str) -> set[str]:
        """Ids of the organisation's projects."""
        return {p.id for p in self._projects.values() if p.org_id == org_id}

    def delete_project(self, org_id: str, project_id: str) -> bool:
        """Delete a project and its links (the entities stay); False if not found."""
        if self.project(org_id, project_id) is None:
            return False
        del self._projects[project_id]
        return True

    def linked_ids(self, project_id: str, entity_type: EntityType | str) -> set[str]:
        """A copy of the ids linked to a project for one entity type."""
        return set(self._projects[project_id].links[_entity_type(entity_type)])

    def link(
        self,
        project: Project,
        entity_type: EntityType,
        ids: Sequence[str],
        *,
        unknown: UnknownIds = "skip",
    ) -> tuple[int, int]:
        """Link ids to a project: ``(created, skipped)``.

        Duplicates count once; already linked ids are skipped, and so are
        ids unknown to the organisation unless ``unknown="not_found"``,
        which raises ``UnknownEntityError`` before changing anything.
        """
        index = self._org(project.org_id).entities[entity_type].index
        unique = dict.fromkeys(ids)
        if unknown == "not_found":
            for entity_id in unique:
                if entity_id not in index:
                    raise UnknownEntityError(entity_type, entity_id)
        links = project.links[entity_type]
        new = [i for i in unique if i in index and i not in links]
        links.update(new)
        return len(new), len(unique) - len(new)

    def unlink(self, project: Project, entity_type: EntityType, ids: Iterable[str]) -> int:
        """Remove links; the number of associations that existed."""
        links = project.links[entity_type]
        unique = set(ids)
        removed = len(unique & links)
        links.difference_update(unique)
        return removed

    def link_matching(
        self, project: Project, entity_type: EntityType, conds: Sequence[Cond]
    ) -> tuple[int, int]:
        """Link every entity of the type matching ``conds``: ``(created, skipped)``."""
        table = self._org(project.org_id).entities[entity_type]
        links = project.links[entity_type]
        rows = select_rows(table, conds, linked=links)
        ids = [table.ids[row] for row in rows]
        new = [i for i in ids if i not in links]
        links.update(new)
        return len(new), len(ids) - len(new)

    # --- seeding -----------------------------------------------------------

    def seed_transports(self, org_id: str, n: int, **fixed_attrs: Any) -> list[str]:
        """Add ``n`` random transport routes; their ids.

        ``fixed_attrs`` set a column for all of them, e.g. ``status="error"``,
        ``file_id=...``, ``co2e=None``, ``transport_date="2024-02-01"``,
        ``created_at=datetime(...)``.
        """
        data = self._org(org_id)
        columns = transport_columns(self.rng, data.pools, n)
        return self._append(data.transports, columns, n, fixed_attrs)

    def seed_vehicles(self, org_id: str, n: int, **fixed_attrs: Any) -> list[str]:
        """Add ``n`` random vehicles; their ids (``fixed_attrs`` as for transports)."""
        data = self._org(org_id)
        columns = vehicle_columns(self.rng, data.pools, n)
        return self._append(data.vehicles, columns, n, fixed_attrs)

    def seed_entities(
        self, org_id: str, entity_type: EntityType | str, n: int, **fixed_attrs: Any
    ) -> list[str]:
        """Add ``n`` random linkable entities of a type; their ids.

        Their attributes are the ones the type's link filters read (e.g. an
        invoice's ``type``, ``status``, ``facility_id``, ``start_date``).
        """
        kind = _entity_type(entity_type)
        data = self._org(org_id)
        columns = entity_columns(self.rng, data.pools, kind, n)
        return self._append(data.entities[kind], columns, n, fixed_attrs)

    def _append(
        self, table: Table, columns: Columns, n: int, fixed_attrs: Mapping[str, Any]
    ) -> list[str]:
        if n < 0:
            raise ValueError("n must be >= 0")
        for name, value in fixed_attrs.items():
            columns[name] = [coerce_fixed(table.schema, name, value)] * n
        ids = new_uuids(self.rng, n)
        table.append(ids, columns)
        return ids

    # --- introspection -----------------------------------------------------

    def table(self, org_id: str, resource: Resource) -> Table:
        """The organisation's table of transports or vehicles."""
        data = self._org(org_id)
        return data.transports if resource == "transports" else data.vehicles

    def entity_table(self, org_id: str, entity_type: EntityType | str) -> Table:
        """The organisation's table of one linkable entity type."""
        return self._org(org_id).entities[_entity_type(entity_type)]

    def pools(self, org_id: str) -> Pools:
        """The organisation's pools of file, user, facility and fuel ids."""
        return self._org(org_id).pools

    def file_ids(self, org_id: str) -> list[str]:
        """The upload file ids that seeded records of the organisation point to."""
        return list(self._org(org_id).pools.file_ids)

    def transport_ids(self, org_id: str) -> set[str]:
        """Ids of the organisation's transport routes."""
        return set(self._org(org_id).transports.index)

    def vehicle_ids(self, org_id: str) -> set[str]:
        """Ids of the organisation's vehicles."""
        return set(self._org(org_id).vehicles.index)

    def entity_ids(self, org_id: str, entity_type: EntityType | str) -> set[str]:
        """Ids of the organisation's entities of one type."""
        return set(self.entity_table(org_id, entity_type).index)

    def generation(self, org_id: str, resource: Resource) -> int:
        """A counter that changes whenever the resource's data changes."""
        return self.table(org_id, resource).generation

    def transport(self, org_id: str, transport_id: str) -> dict[str, Any] | None:
        """A transport route as the API lists it, or None."""
        row = self._org(org_id).transports.index.get(transport_id)
        return None if row is None else self.render_transport(org_id, row)

    def vehicle(self, org_id: str, vehicle_id: str) -> dict[str, Any] | None:
        """A vehicle as the API lists it, or None."""
        row = self._org(org_id).vehicles.index.get(vehicle_id)
        return None if row is None else self.render_vehicle(org_id, row)

    # --- queries and deletes -----------------------------------------------

    def query(
        self,
        org_id: str,
        resource: Resource,
        conds: tuple[Cond, ...] = (),
        sort: tuple[tuple[str, bool], ...] = (),
    ) -> array[int]:
        """Row numbers matching ``conds`` in ``sort`` order (insertion order by default).

        Results are cached per (organisation, resource, conditions, sort,
        generation), so paging through a large listing scans the table once.
        """
        table = self.table(org_id, resource)
        key = (org_id, resource, conds, sort, table.generation)
        rows = self._cache.get(key)
        if rows is not None:
            self._cache.move_to_end(key)
            return rows
        if sort:
            rows = array("q", sort_rows(table, self.query(org_id, resource, conds), sort))
        else:
            rows = array("q", select_rows(table, conds))
        self._cache[key] = rows
        while len(self._cache) > QUERY_CACHE_SIZE:
            self._cache.popitem(last=False)
        return rows

    def count_statuses(self, org_id: str, conds: tuple[Cond, ...]) -> Counter[str]:
        """Transport routes matching ``conds``, counted by status."""
        status = self._org(org_id).transports.columns["status"]
        return Counter(map(status.__getitem__, self.query(org_id, "transports", conds)))

    def delete(
        self, org_id: str, resource: Resource, ids: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        """Delete records by id: ``(deleted, not found)``."""
        return self.table(org_id, resource).delete_ids(ids)

    def delete_matching(
        self, org_id: str, resource: Resource, conds: tuple[Cond, ...]
    ) -> list[str]:
        """Delete every record matching ``conds``; their ids."""
        table = self.table(org_id, resource)
        return table.delete_rows(self.query(org_id, resource, conds))

    # --- rendering -----------------------------------------------------------

    def render_transport(self, org_id: str, row: int) -> dict[str, Any]:
        """One transport route in the API's list shape."""
        data = self._org(org_id)
        table = data.transports
        pools = data.pools
        record_id = table.ids[row]
        name = table.value(row, "name")
        co2e = table.value(row, "co2e")
        status = table.value(row, "status")
        file_id = table.value(row, "file_id")
        emissions = [] if co2e is None else [{"value": co2e, "gas": "co2e", "unit_name": "kgCO2e"}]
        origin, _, destination = (name or "").partition(" - ")
        section = {
            "id": str(uuid.uuid5(_SECTION_NAMESPACE, record_id)),
            "part": 1,
            "transport_type": "road",
            "travel_method": "truck",
            "electric": False,
            "refrigerated": False,
            "detail": None,
            "origin": origin or None,
            "destination": destination or None,
            "kms": float(10 + row * 37 % 1990),
            "kms_manual": None,
            "distance_manual": None,
            "kms_source": "google_maps",
            "status": status,
            "step": None,
            "error_messages": ["Emission factor not found"] if status == "error" else [],
            "emissions": emissions,
        }
        return {
            "id": record_id,
            "name": name,
            "transport_date": table.value(row, "transport_date"),
            "quantity_transported": table.value(row, "quantity_transported"),
            "supplier": table.value(row, "supplier"),
            "transport_direction": table.value(row, "transport_direction"),
            "transport_frequency": table.value(row, "transport_frequency"),
            "unit": {"id": pools.unit_ids[0], "name": _KG_UNIT_NAME, "type": "solid"},
            "co2e": co2e,
            "emissions": emissions,
            "status": status,
            "file_id": file_id,
            "file_name": pools.file_name(file_id),
            "sections": [section],
            "uploaded_by": pools.users[row % len(pools.users)],
            "created_at": _iso_timestamp(table.value(row, "created_at")),
            "updated_at": _iso_timestamp(table.value(row, "updated_at")),
        }

    def render_vehicle(self, org_id: str, row: int) -> dict[str, Any]:
        """One vehicle in the API's list shape."""
        data = self._org(org_id)
        table = data.vehicles
        unknown_id = table.value(row, "unknown_vehicle_id")
        item: dict[str, Any] = {"id": table.ids[row]}
        for name in table.schema:
            value = table.value(row, name)
            if name in ("created_at", "updated_at"):
                value = _iso_timestamp(value)
            item[name] = value
        item["unknown_vehicle_type"] = data.pools.unknown_vehicle_types.get(unknown_id)
        return item
