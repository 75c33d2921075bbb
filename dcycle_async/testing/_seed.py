"""Realistic random records, made column by column so a million take seconds.

Every value is drawn from a seeded ``random.Random``.  Categorical columns
are picked from small pools through a 256- or 65,536-entry lookup table
indexed by random bytes (one C-level ``map`` per column instead of a
Python call per value); numbers come from one ``randbytes`` buffer each.
"""

from __future__ import annotations

import datetime
import math
import random
import sys
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

import attrs

from .._enums import EntityType
from ._ids import canonical_uuid, new_uuids
from ._table import ColumnKind

__all__ = [
    "ENTITY_SCHEMAS",
    "TRANSPORT_SCHEMA",
    "VEHICLE_SCHEMA",
    "Pools",
    "coerce_fixed",
    "entity_columns",
    "epoch_seconds",
    "transport_columns",
    "vehicle_columns",
]

T = TypeVar("T")
Columns = dict[str, Sequence[Any]]

_FIRST_DAY: Final = datetime.date(2023, 1, 1)
_LAST_DAY: Final = datetime.date(2025, 12, 31)
_DAYS: Final = (_LAST_DAY - _FIRST_DAY).days + 1
_DATES: Final = tuple((_FIRST_DAY + datetime.timedelta(days=d)).isoformat() for d in range(_DAYS))
_EPOCH_START: Final = int(datetime.datetime(2023, 1, 1, tzinfo=datetime.UTC).timestamp())
_EPOCH_SPAN: Final = _DAYS * 86_400
_MAX_UPDATE_LAG: Final = 30 * 86_400

# Pool sizes: small on purpose, so that filters on them match many records.
FILE_POOL_SIZE: Final = 6
USER_POOL_SIZE: Final = 4
FACILITY_POOL_SIZE: Final = 5
FUEL_POOL_SIZE: Final = 5

_CITIES: Final = (
    "Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Zaragoza", "Lisboa", "Porto",
    "Paris", "Lyon", "Marseille", "Milano", "Roma", "Berlin", "Hamburg", "Rotterdam",
)  # fmt: skip
_ROUTE_NAMES: Final = tuple(f"{a} - {b}" for a in _CITIES for b in _CITIES if a != b)
_SUPPLIERS: Final = (
    "Transportes Garcia", "Logistica Norte", "Iberia Cargo", "EuroFreight", "Rapid Couriers",
    "Atlantic Shipping", "Alpine Haulage", "Green Road Logistics", "Med Express", "Nordic Lines",
)  # fmt: skip
_PLATE_LETTERS: Final = "BCDFGHJKLMNPRSTVWXYZ"
_VEHICLE_NAMES: Final = (
    "Delivery van", "Company car", "Sales car", "Refrigerated truck", "Forklift",
    "Pickup", "Shuttle bus", "Service van", "Executive car", "Tractor unit",
)  # fmt: skip
_UNKNOWN_VEHICLE_TYPES: Final = (
    "car_small_petrol", "car_medium_diesel", "car_large_hybrid", "van_diesel",
    "truck_rigid_7.5t", "truck_articulated_40t",
)  # fmt: skip
_LOGISTIC_VEHICLE_TYPES: Final = (
    "van_diesel",
    "truck_rigid_12t",
    "truck_articulated_40t",
    "electric_van",
    "lng_truck",
)
_CLIENTS: Final = ("AMAZON", "ZARA", "MERCADONA", "IKEA", "DECATHLON", "CARREFOUR")
_FIRST_NAMES: Final = ("Ana", "Luis", "Marta", "Jorge", "Lucia", "Pablo")
_LAST_NAMES: Final = ("Garcia", "Lopez", "Martinez", "Sanchez", "Perez", "Gomez")


@attrs.define
class Pools:
    """Per-organisation pools of related ids (files, users, facilities, ...).

    Records pick from these so that filters such as ``file_id`` match
    realistic groups of records.
    """

    file_ids: list[str]
    file_names: dict[str, str]
    users: list[dict[str, Any]]
    facility_ids: list[str]
    fuel_ids: list[str]
    unknown_vehicle_ids: list[str]
    unknown_vehicle_types: dict[str, str]
    unit_ids: list[str]

    @classmethod
    def create(cls, rng: random.Random) -> Pools:
        """Fresh pools drawn from ``rng``."""
        file_ids = new_uuids(rng, FILE_POOL_SIZE)
        user_ids = new_uuids(rng, USER_POOL_SIZE)
        unknown_ids = new_uuids(rng, len(_UNKNOWN_VEHICLE_TYPES))
        return cls(
            file_ids=file_ids,
            file_names={fid: f"upload_{n + 1:02d}.xlsx" for n, fid in enumerate(file_ids)},
            users=[
                {
                    "id": uid,
                    "first_name": _FIRST_NAMES[n % len(_FIRST_NAMES)],
                    "last_name": _LAST_NAMES[n % len(_LAST_NAMES)],
                    "profile_img_url": None,
                }
                for n, uid in enumerate(user_ids)
            ],
            facility_ids=new_uuids(rng, FACILITY_POOL_SIZE),
            fuel_ids=new_uuids(rng, FUEL_POOL_SIZE),
            unknown_vehicle_ids=unknown_ids,
            unknown_vehicle_types=dict(zip(unknown_ids, _UNKNOWN_VEHICLE_TYPES, strict=True)),
            unit_ids=new_uuids(rng, 2),
        )

    def file_name(self, file_id: str | None) -> str | None:
        """The upload's file name for a ``file_id`` (made up for unknown ids)."""
        if file_id is None:
            return None
        return self.file_names.get(file_id) or f"upload_{file_id[:8]}.csv"


# --- drawing helpers --------------------------------------------------------

_U32: Final = next(code for code in "IL" if array(code).itemsize == 4)


def _u32(rng: random.Random, n: int) -> array[int]:
    values = array(_U32)
    values.frombytes(rng.randbytes(4 * n))
    return values


def _pick(
    rng: random.Random, pool: Sequence[T], n: int, weights: Sequence[int] | None = None
) -> list[T]:
    """``n`` values drawn from ``pool`` (optionally weighted by small integers)."""
    items: list[T] = (
        [v for v, w in zip(pool, weights, strict=True) for _ in range(w)] if weights else list(pool)
    )
    if len(items) <= 16:
        table = [items[i % len(items)] for i in range(256)]
        return list(map(table.__getitem__, rng.randbytes(n)))
    table = [items[i % len(items)] for i in range(65_536)]
    indices = array("H")
    indices.frombytes(rng.randbytes(2 * n))
    if sys.byteorder == "big":  # pragma: no cover - any order is as random
        indices.byteswap()
    return list(map(table.__getitem__, indices))


def _maybe(rng: random.Random, pool: Sequence[T], n: int, none_percent: int) -> list[T | None]:
    """Like ``_pick`` but about ``none_percent`` % of the values are None."""
    options: list[T | None] = [None, *pool]
    weights = [none_percent * len(pool) // max(1, 100 - none_percent) or 1] + [1] * len(pool)
    return _pick(rng, options, n, weights)


def _timestamps(rng: random.Random, n: int) -> array[int]:
    return array("q", [_EPOCH_START + v % _EPOCH_SPAN for v in _u32(rng, n)])


def _later(rng: random.Random, created: Sequence[int]) -> array[int]:
    lags = _u32(rng, len(created))
    return array("q", [c + lag % _MAX_UPDATE_LAG for c, lag in zip(created, lags, strict=True)])


def _plates(rng: random.Random, n: int) -> list[str]:
    letters = _PLATE_LETTERS
    k = len(letters)
    return [
        f"{v % 10_000:04d}{letters[(v >> 14) % k]}{letters[(v >> 19) % k]}{letters[(v >> 24) % k]}"
        for v in _u32(rng, n)
    ]


# --- schemas and generators --------------------------------------------------

_O = ColumnKind.OBJECT
_F = ColumnKind.FLOAT
_I = ColumnKind.INT

TRANSPORT_SCHEMA: Final[Mapping[str, ColumnKind]] = {
    "name": _O,
    "transport_date": _O,
    "quantity_transported": _F,
    "supplier": _O,
    "transport_direction": _O,
    "transport_frequency": _O,
    "co2e": _F,
    "status": _O,
    "file_id": _O,
    "created_at": _I,
    "updated_at": _I,
}

VEHICLE_SCHEMA: Final[Mapping[str, ColumnKind]] = {
    "name": _O,
    "type": _O,
    "ownership": _O,
    "license_plate": _O,
    "country": _O,
    "status": _O,
    "co2e": _F,
    "vehicle_fuel_id": _O,
    "unknown_vehicle_id": _O,
    "registration_year": _I,
    "market_segment": _O,
    "size": _O,
    "file_id": _O,
    "created_at": _I,
    "updated_at": _I,
}

ENTITY_SCHEMAS: Final[Mapping[EntityType, Mapping[str, ColumnKind]]] = {
    EntityType.LOGISTIC_REQUESTS: {
        "movement_id": _O,
        "stretch_id": _O,
        "client": _O,
        "trip_date": _O,
        "vehicle_type": _O,
        "uploaded_by": _O,
        "file_id": _O,
        "created_at": _I,
    },
    EntityType.LOGISTIC_RECHARGES: {
        "vehicle_type": _O,
        "fuel_id": _O,
        "vehicle_license_plate": _O,
        "file_id": _O,
        "date": _O,
        "created_at": _I,
    },
    EntityType.LOGISTIC_PACKAGES: {"created_at": _I},
    EntityType.INVOICES: {
        "type": _O,
        "status": _O,
        "facility_id": _O,
        "start_date": _O,
        "end_date": _O,
        "created_at": _I,
    },
    EntityType.FILE_READINGS: {"file_id": _O, "created_at": _I},
}

# Columns holding YYYY-MM-DD strings (compared as strings: ISO order is date order).
DATE_COLUMNS: Final = frozenset({"transport_date", "trip_date", "date", "start_date", "end_date"})
# Columns holding UUID strings (fixed values are normalised to canonical form).
UUID_COLUMNS: Final = frozenset(
    {"file_id", "vehicle_fuel_id", "unknown_vehicle_id", "uploaded_by", "fuel_id", "facility_id"}
)


def transport_columns(rng: random.Random, pools: Pools, n: int) -> Columns:
    """Columns for ``n`` random transport routes."""
    status = _pick(rng, ("active", "pending", "error"), n, (14, 4, 2))
    amounts = _u32(rng, n)
    return {
        "name": _pick(rng, _ROUTE_NAMES, n),
        "transport_date": _pick(rng, _DATES, n),
        "quantity_transported": [v % 10_000_000 / 1000 for v in amounts],
        "supplier": _pick(rng, _SUPPLIERS, n),
        "transport_direction": _pick(rng, ("downstream", "upstream"), n),
        "transport_frequency": _pick(rng, ("once", "weekly", "monthly"), n, (6, 1, 1)),
        # Emissions exist once a route is calculated (``active``); a few are
        # still missing even then.  NaN is how the table stores None.
        "co2e": [
            (v % 5_000_000) / 100 if s == "active" and v % 16 else math.nan
            for s, v in zip(status, _u32(rng, n), strict=True)
        ],
        "status": status,
        "file_id": _maybe(rng, pools.file_ids, n, 25),
        **_created_updated(rng, n),
    }


def vehicle_columns(rng: random.Random, pools: Pools, n: int) -> Columns:
    """Columns for ``n`` random vehicles."""
    years = _u32(rng, n)
    return {
        "name": _pick(rng, _VEHICLE_NAMES, n),
        "type": _pick(rng, ("passenger", "freight"), n, (3, 1)),
        "ownership": _pick(rng, ("owned", "rented"), n, (3, 1)),
        "license_plate": _plates(rng, n),
        "country": _pick(rng, ("ES", "PT", "FR", "IT", "DE"), n, (6, 1, 1, 1, 1)),
        "status": _pick(rng, ("active", "archived", "error"), n, (14, 4, 2)),
        "co2e": [(v % 2_000_000) / 100 if v % 8 else math.nan for v in _u32(rng, n)],
        "vehicle_fuel_id": _pick(rng, pools.fuel_ids, n),
        "unknown_vehicle_id": _pick(rng, pools.unknown_vehicle_ids, n),
        "registration_year": [2005 + v % 20 for v in years],
        "market_segment": _pick(rng, ("mini", "lower_medium", "upper_medium", "luxury"), n),
        "size": _pick(rng, ("small", "medium", "large"), n),
        "file_id": _maybe(rng, pools.file_ids, n, 40),
        **_created_updated(rng, n),
    }


def _created_updated(rng: random.Random, n: int) -> Columns:
    created = _timestamps(rng, n)
    return {"created_at": created, "updated_at": _later(rng, created)}


def _logistic_requests(rng: random.Random, pools: Pools, n: int) -> Columns:
    numbers = _u32(rng, n)
    return {
        "movement_id": [f"MOV-{v % 100_000_000:08d}" for v in numbers],
        "stretch_id": [f"STR-{v % 1_000_003:07d}" for v in numbers],
        "client": _pick(rng, _CLIENTS, n),
        "trip_date": _pick(rng, _DATES, n),
        "vehicle_type": _pick(rng, _LOGISTIC_VEHICLE_TYPES, n),
        "uploaded_by": _pick(rng, [u["id"] for u in pools.users], n),
        "file_id": _maybe(rng, pools.file_ids, n, 25),
        "created_at": _timestamps(rng, n),
    }


def _logistic_recharges(rng: random.Random, pools: Pools, n: int) -> Columns:
    return {
        "vehicle_type": _pick(rng, _LOGISTIC_VEHICLE_TYPES, n),
        "fuel_id": _pick(rng, pools.fuel_ids, n),
        "vehicle_license_plate": _plates(rng, n),
        "file_id": _maybe(rng, pools.file_ids, n, 25),
        "date": _pick(rng, _DATES, n),
        "created_at": _timestamps(rng, n),
    }


def _logistic_packages(rng: random.Random, pools: Pools, n: int) -> Columns:
    return {"created_at": _timestamps(rng, n)}


def _invoices(rng: random.Random, pools: Pools, n: int) -> Columns:
    starts = _pick(rng, _DATES[:-31], n)
    # Billing periods of one month (roughly): the end follows the start.
    end_index = {d: _DATES[i + 30] for i, d in enumerate(_DATES[:-31])}
    return {
        "type": _pick(rng, ("heat", "electricity", "water", "recharge"), n, (2, 4, 1, 1)),
        "status": _pick(
            rng,
            ("uploaded", "loading", "active", "inactive", "review", "error"),
            n,
            (2, 1, 10, 1, 1, 1),
        ),
        "facility_id": _pick(rng, pools.facility_ids, n),
        "start_date": starts,
        "end_date": [end_index[d] for d in starts],
        "created_at": _timestamps(rng, n),
    }


def _file_readings(rng: random.Random, pools: Pools, n: int) -> Columns:
    return {"file_id": _pick(rng, pools.file_ids, n), "created_at": _timestamps(rng, n)}


_ENTITY_GENERATORS: Final[Mapping[EntityType, Callable[[random.Random, Pools, int], Columns]]] = {
    EntityType.LOGISTIC_REQUESTS: _logistic_requests,
    EntityType.LOGISTIC_RECHARGES: _logistic_recharges,
    EntityType.LOGISTIC_PACKAGES: _logistic_packages,
    EntityType.INVOICES: _invoices,
    EntityType.FILE_READINGS: _file_readings,
}


def entity_columns(rng: random.Random, pools: Pools, entity_type: EntityType, n: int) -> Columns:
    """Columns for ``n`` random linkable entities of ``entity_type``."""
    return _ENTITY_GENERATORS[entity_type](rng, pools, n)


# --- fixed attributes --------------------------------------------------------


def epoch_seconds(value: object) -> int:
    """Epoch seconds of a datetime, a date (midnight UTC), an ISO string or a number."""
    if isinstance(value, bool):
        raise TypeError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return int(value.timestamp())
    if isinstance(value, datetime.date):
        return int(
            datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.UTC).timestamp()
        )
    raise TypeError(f"not a timestamp: {value!r}")


def coerce_fixed(schema: Mapping[str, ColumnKind], name: str, value: object) -> Any:
    """A fixed seeding attribute in its stored form, or a clear error.

    Dates accept ``datetime.date`` or ``YYYY-MM-DD``; timestamps accept a
    datetime, a date, an ISO string or epoch seconds; UUID columns accept
    any UUID spelling (stored canonical).
    """
    kind = schema.get(name)
    if kind is None:
        raise TypeError(f"unknown attribute {name!r}; known: {', '.join(sorted(schema))}")
    if value is None:
        if kind is ColumnKind.INT:
            raise TypeError(f"{name!r} cannot be None")
        return None
    if kind is ColumnKind.INT:
        if name in ("created_at", "updated_at"):
            return epoch_seconds(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name!r} must be an int, not {value!r}")
        return value
    if kind is ColumnKind.FLOAT:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{name!r} must be a number or None, not {value!r}")
        return float(value)
    if name in DATE_COLUMNS:
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        return datetime.date.fromisoformat(str(value)).isoformat()
    if name in UUID_COLUMNS:
        canonical = canonical_uuid(str(value))
        if canonical is None:
            raise ValueError(f"{name!r} must be a UUID, not {value!r}")
        return canonical
    return value
