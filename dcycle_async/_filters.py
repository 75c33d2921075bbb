"""Filter schemas: validation, normalisation and encoding (a leaf module).

Two families of filters live here:

* link filters, one class per linkable entity type, sent as the JSON
  ``filters`` object of ``POST /v1/projects/{id}/entities/link-by-filters``
  (see ``link_filters_for`` and ``link_filters_body``);
* record filters, ``TransportFilters`` and ``VehicleFilters``, sent as query
  parameters of the list and delete-by-filters calls (see ``encode_query``).

Every class is a frozen attrs class whose constructor validates and
normalises its arguments, so a filter object that exists is valid and in
one canonical form: multi-valued fields are tuples, dates are
``datetime.date``, timestamps are UTC-aware ``datetime`` (or a ``date``),
UUIDs are lower-case canonical strings.  Equal filter objects therefore
always encode to the same query, which the server's ``filter_hash`` check
needs.  Any problem raises ``InvalidFiltersError`` naming the key and
listing the keys allowed for that type, before a request is sent.

Input rules, in short:

* an empty list (or tuple, set, ...) is the same as leaving the filter out:
  a query string cannot express an empty list, so it never means "match
  nothing";
* a single string is a one-element list; a set is sorted (it has no order
  of its own), any other iterable keeps its order;
* a date field takes a ``date`` or a ``"YYYY-MM-DD"`` string; a
  ``datetime`` is refused there rather than silently cut to its day;
* a timestamp field takes an aware ``datetime`` (converted to UTC), a naive
  one (taken to be UTC already), a ``date`` (sent as ``YYYY-MM-DD``; how the
  server bounds a bare day is undocumented: the emulator reads a ``_from``
  day as its first instant and a ``_to`` day as its last, so the whole day
  is included), or an ISO 8601 string;
* a bool field takes ``True`` or ``False`` only, never ``"true"`` or ``1``;
* ``search`` is 1 to ``MAX_SEARCH_LENGTH`` characters.

A misspelt keyword given to a class's constructor is a ``TypeError``, as
for any Python call; the same key in a dict raises ``InvalidFiltersError``
with a "did you mean" hint.
"""

from __future__ import annotations

import difflib
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Set
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any, ClassVar, Final, Literal, TypeAlias, TypeVar, cast, get_args

import attrs

from ._enums import ArrayStyle, EntityType
from ._errors import InvalidFiltersError
from ._uuids import canonical_uuid

__all__ = [
    "CO2E_STATUSES",
    "LINK_FILTER_KEYS",
    "LINK_FILTER_TYPES",
    "MAX_SEARCH_LENGTH",
    "TRANSPORT_DIRECTIONS",
    "TRANSPORT_FILTER_KEYS",
    "TRANSPORT_STATUSES",
    "VEHICLE_FILTER_KEYS",
    "VEHICLE_OWNERSHIPS",
    "VEHICLE_STATUSES",
    "Co2eStatus",
    "FileReadingsFilters",
    "Filters",
    "InvoicesFilters",
    "LinkFilters",
    "LogisticPackagesFilters",
    "LogisticRechargesFilters",
    "LogisticRequestsFilters",
    "QueryFilters",
    "TransportDirection",
    "TransportFilters",
    "TransportStatus",
    "VehicleFilters",
    "VehicleOwnership",
    "VehicleStatus",
    "coerce_entity_type",
    "encode_query",
    "is_empty",
    "link_filters_body",
    "link_filters_for",
    "transport_filters",
    "vehicle_filters",
]

MAX_SEARCH_LENGTH: Final = 255
"""The longest ``search`` string the API accepts (transports list: 1..255)."""

TransportStatus: TypeAlias = Literal["pending", "active", "error"]
"""A transport route's status."""
TransportDirection: TypeAlias = Literal["downstream", "upstream"]
"""``downstream``: outbound, to customers; ``upstream``: inbound, from suppliers."""
Co2eStatus: TypeAlias = Literal["calculated", "not_calculated"]
"""Whether a route's co2e has been calculated yet."""
VehicleStatus: TypeAlias = Literal["active", "archived", "error"]
"""A vehicle's status."""
VehicleOwnership: TypeAlias = Literal["owned", "rented"]
"""Whether a vehicle is owned or rented."""

TRANSPORT_STATUSES: Final[tuple[str, ...]] = get_args(TransportStatus)
"""The values of ``TransportFilters.status``."""
TRANSPORT_DIRECTIONS: Final[tuple[str, ...]] = get_args(TransportDirection)
"""The values of ``TransportFilters.transport_direction``."""
CO2E_STATUSES: Final[tuple[str, ...]] = get_args(Co2eStatus)
"""The values of ``TransportFilters.co2e_status``."""
VEHICLE_STATUSES: Final[tuple[str, ...]] = get_args(VehicleStatus)
"""The values of ``VehicleFilters.status``."""
VEHICLE_OWNERSHIPS: Final[tuple[str, ...]] = get_args(VehicleOwnership)
"""The values of ``VehicleFilters.ownership``."""

_Field: TypeAlias = "attrs.Attribute[Any]"
_FieldConverter: TypeAlias = Callable[[Any, _Field], Any]

# Metadata keys that the converters and encoders read from each field.
_ALLOWED: Final = "dcycle_allowed_keys"
_SUBJECT: Final = "dcycle_subject"
_CHOICES: Final = "dcycle_choices"
_SELECTS: Final = "dcycle_selects"

# The fast path: canonical UUIDs are accepted without building uuid.UUID.
_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# date.fromisoformat alone would also take "20240101" and "2024-W01-1"; the
# API documents this form only.
_ISO_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _fail(field: _Field | None, problem: str) -> InvalidFiltersError:
    if field is None:
        return InvalidFiltersError(f"invalid filter value: {problem}")
    return InvalidFiltersError(
        f"invalid filter {field.name!r} for {field.metadata[_SUBJECT]}: {problem}",
        key=field.name,
        allowed=field.metadata[_ALLOWED],
    )


def _describe(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:59] + "…"
    return f"{text} ({type(value).__name__})"


# --- converters --------------------------------------------------------------
#
# Each takes the raw value and the attrs field (for the key and metadata in
# its errors), returns the canonical value or raises InvalidFiltersError.
# The type of the first parameter is what mypy's attrs plugin shows as the
# constructor's parameter type, so it spells out everything a caller may
# pass.  attrs always passes the field (see _prepare_fields); it defaults to
# None only because attrs' stubs type converters as one-argument callables.


def _search(value: str | None, field: _Field | None = None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _fail(field, f"expected a string, got {_describe(value)}")
    if not 1 <= len(value) <= MAX_SEARCH_LENGTH:
        raise _fail(field, f"must be 1 to {MAX_SEARCH_LENGTH} characters long, got {len(value)}")
    return str(value)  # a str subclass (e.g. a StrEnum) becomes a plain str


def _choice(value: str | None, field: _Field | None = None) -> str | None:
    if value is None:
        return None
    return _one_choice(value, field)


def _one_choice(value: object, field: _Field | None) -> str:
    choices: tuple[str, ...] = field.metadata[_CHOICES] if field is not None else ()
    if isinstance(value, str) and value in choices:
        return str(value)
    allowed = ", ".join(repr(c) for c in choices)
    raise _fail(field, f"expected one of {allowed}, got {_describe(value)}")


def _one_string(value: object, field: _Field | None) -> str:
    if isinstance(value, str) and value:
        return str(value)
    raise _fail(field, f"expected non-empty strings, got {_describe(value)}")


def _one_uuid(value: object, field: _Field | None) -> str:
    if isinstance(value, str):
        if _CANONICAL_UUID.fullmatch(value):
            return str(value)
        canonical = canonical_uuid(value)
        if canonical is not None:
            return canonical
    elif isinstance(value, uuid.UUID):
        return str(value)
    raise _fail(field, f"expected UUIDs, got {_describe(value)}")


def _many(
    value: object,
    field: _Field | None,
    one: Callable[[object, _Field | None], str],
    scalar: tuple[type, ...],
) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, scalar):
        return (one(value, field),)
    if isinstance(value, (Mapping, bytes, bytearray)) or not isinstance(value, Iterable):
        raise _fail(field, f"expected a string or a list of them, got {_describe(value)}")
    items = [one(item, field) for item in value]
    if isinstance(value, Set):
        # A set has no order of its own; sorting keeps the encoding of equal
        # filters identical from one call (and one process) to the next.
        items.sort()
    return tuple(items) or None


def _strings(
    value: str | Iterable[str] | None, field: _Field | None = None
) -> tuple[str, ...] | None:
    return _many(value, field, _one_string, (str,))


def _choices(
    value: str | Iterable[str] | None, field: _Field | None = None
) -> tuple[str, ...] | None:
    return _many(value, field, _one_choice, (str,))


def _uuids(
    value: str | uuid.UUID | Iterable[str | uuid.UUID] | None, field: _Field | None = None
) -> tuple[str, ...] | None:
    return _many(value, field, _one_uuid, (str, uuid.UUID))


def _date(value: date | str | None, field: _Field | None = None) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        raise _fail(
            field,
            f"expected a date, got a datetime ({value.isoformat()}): pass .date() if the"
            " day is what you mean",
        )
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    if isinstance(value, str):
        if _ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError as exc:
                raise _fail(field, f"{value!r} is not a valid date ({exc})") from None
        raise _fail(field, f"expected a 'YYYY-MM-DD' string, got {value!r}")
    raise _fail(field, f"expected a date or a 'YYYY-MM-DD' string, got {_describe(value)}")


def _timestamp(
    value: datetime | date | str | None, field: _Field | None = None
) -> datetime | date | None:
    if value is None:
        return None
    if isinstance(value, str):
        if _ISO_DATE.fullmatch(value):
            return _date(value, field)
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise _fail(field, f"expected an ISO 8601 timestamp, got {value!r}") from None
    if isinstance(value, datetime):
        try:
            if value.tzinfo is None or value.utcoffset() is None:
                return _plain_datetime(value).replace(tzinfo=UTC)
            return _plain_datetime(value.astimezone(UTC))
        except OverflowError:
            raise _fail(field, f"{value.isoformat()} is out of range in UTC") from None
    if isinstance(value, date):
        return date(value.year, value.month, value.day)
    raise _fail(field, f"expected a datetime, a date or an ISO 8601 string, got {_describe(value)}")


def _plain_datetime(value: datetime) -> datetime:
    # Drops subclasses (pandas, pendulum, ...) and fold, neither of which
    # should change how equal instants compare or encode.
    return datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=value.tzinfo,
    )


def _bool(value: bool | None, field: _Field | None = None) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise _fail(field, f"expected True or False, got {_describe(value)}")


def _prepare_fields(cls: type, fields: list[_Field]) -> list[_Field]:
    # Errors must name the key and list the class's keys, so the converters
    # need the field, and the field needs the other fields' names.  attrs
    # passes the field to a converter wrapped in attrs.Converter(takes_field=
    # True); the wrapping is done here, not in each attrs.field(), because
    # mypy's attrs plugin only understands plain named functions as
    # converters.
    names = tuple(f.name for f in fields)
    subject = cls.__dict__.get("_subject", cls.__name__)
    prepared = []
    for f in fields:
        assert f.converter is not None, f"filter field {f.name} has no converter"
        prepared.append(
            f.evolve(
                converter=attrs.Converter(cast(_FieldConverter, f.converter), takes_field=True),
                metadata={**f.metadata, _ALLOWED: names, _SUBJECT: subject},
            )
        )
    return prepared


# --- link filters ------------------------------------------------------------


@attrs.frozen(kw_only=True, field_transformer=_prepare_fields)
class LogisticRequestsFilters:
    """Link-by-filters filters for ``logistic_requests``.

    Attributes:
        search: matches the movement ID or stretch ID.
        clients: requests of any of these clients.
        trip_date_from: trip date on or after this day.
        trip_date_until: trip date on or before this day.
        vehicle_type: requests of any of these vehicle types.
        uploaded_by: requests uploaded by any of these users (UUIDs).
        file_id: requests created by any of these bulk-upload files (UUIDs).
        created_at_from: created on or after this day.
        created_at_to: created on or before this day.
    """

    entity_type: ClassVar[EntityType] = EntityType.LOGISTIC_REQUESTS
    _subject: ClassVar[str] = "entity_type 'logistic_requests'"

    search: str | None = attrs.field(default=None, converter=_search)
    clients: tuple[str, ...] | None = attrs.field(default=None, converter=_strings)
    trip_date_from: date | None = attrs.field(default=None, converter=_date)
    trip_date_until: date | None = attrs.field(default=None, converter=_date)
    vehicle_type: tuple[str, ...] | None = attrs.field(default=None, converter=_strings)
    uploaded_by: tuple[str, ...] | None = attrs.field(default=None, converter=_uuids)
    file_id: tuple[str, ...] | None = attrs.field(default=None, converter=_uuids)
    created_at_from: date | None = attrs.field(default=None, converter=_date)
    created_at_to: date | None = attrs.field(default=None, converter=_date)


@attrs.frozen(kw_only=True, field_transformer=_prepare_fields)
class LogisticRechargesFilters:
    """Link-by-filters filters for ``logistic_recharges``.

    Attributes:
        vehicle_type: recharges of any of these vehicle types.
        fuel_id: recharges of any of these fuels (UUIDs).
        vehicle_license_plate: recharges of any of these licence plates.
        file_id: recharges created by any of these bulk-upload files (UUIDs).
        date_from: recharge date on or after this day.
        date_until: recharge date on or before this day.
        created_at_from: created on or after this day.
        created_at_to: created on or before this day.
    """

    entity_type: ClassVar[EntityType] = EntityType.LOGISTIC_RECHARGES
    _subject: ClassVar[str] = "entity_type 'logistic_recharges'"

    vehicle_type: tuple[str, ...] | None = attrs.field(default=None, converter=_strings)
    fuel_id: tuple[str, ...] | None = attrs.field(default=None, converter=_uuids)
    vehicle_license_plate: tuple[str, ...] | None = attrs.field(default=None, converter=_strings)
    file_id: tuple[str, ...] | None = attrs.field(default=None, converter=_uuids)
    date_from: date | None = attrs.field(default=None, converter=_date)
    date_until: date | None = attrs.field(default=None, converter=_date)
    created_at_from: date | None = attrs.field(default=None, converter=_date)
    created_at_to: date | None = attrs.field(default=None, converter=_date)


@attrs.frozen(kw_only=True, field_transformer=_prepare_fields)
class LogisticPackagesFilters:
    """Link-by-filters filters for ``logistic_packages``.

    Attributes:
        created_at_from: created on or after this day.
        created_at_to: created on or before this day.
    """

    entity_type: ClassVar[EntityType] = EntityType.LOGISTIC_PACKAGES
    _subject: ClassVar[str] = "entity_type 'logistic_packages'"

    created_at_from: date | None = attrs.field(default=None, converter=_date)
    created_at_to: date | None = attrs.field(default=None, converter=_date)


@attrs.frozen(kw_only=True, field_transformer=_prepare_fields)
class InvoicesFilters:
    """Link-by-filters filters for ``invoices``.

    Attributes:
        types: invoices of any of these types.
        statuses: invoices in any of these statuses.
        facility_ids: invoices of any of these facilities (UUIDs).
        start_date: invoice date on or after this day.
        end_date: invoice date on or before this day.
    """

    entity_type: ClassVar[EntityType] = EntityType.INVOICES
    _subject: ClassVar[str] = "entity_type 'invoices'"

    types: tuple[str, ...] | None = attrs.field(default=None, converter=_strings)
    statuses: tuple[str, ...] | None = attrs.field(default=None, converter=_strings)
    facility_ids: tuple[str, ...] | None = attrs.field(default=None, converter=_uuids)
    start_date: date | None = attrs.field(default=None, converter=_date)
    end_date: date | None = attrs.field(default=None, converter=_date)


@attrs.frozen(kw_only=True, field_transformer=_prepare_fields)
class FileReadingsFilters:
    """Link-by-filters filters for ``file_readings``.

    Attributes:
        linked: True selects only readings already linked to a project,
            False only the unlinked ones.
    """

    entity_type: ClassVar[EntityType] = EntityType.FILE_READINGS
    _subject: ClassVar[str] = "entity_type 'file_readings'"

    linked: bool | None = attrs.field(default=None, converter=_bool)


# --- record filters (query strings) ------------------------------------------


@attrs.frozen(kw_only=True, field_transformer=_prepare_fields)
class TransportFilters:
    """Filters of ``GET /v1/transports`` and its delete-by-filters call.

    Attributes:
        search: free text over route name, supplier and addresses
            (1 to 255 characters).
        from_date: transport date on or after this day.
        to_date: transport date on or before this day.
        status: routes in any of these statuses (pending, active, error).
        transport_direction: ``downstream`` (outbound, to customers) or
            ``upstream`` (inbound, from suppliers).
        file_id: routes created by any of these bulk-upload files (UUIDs).
        created_at_from: created at or after this instant.
        created_at_to: created at or before this instant.
        co2e_status: ``calculated`` (co2e present) or ``not_calculated``.
    """

    _subject: ClassVar[str] = "transports"

    search: str | None = attrs.field(default=None, converter=_search)
    from_date: date | None = attrs.field(default=None, converter=_date)
    to_date: date | None = attrs.field(default=None, converter=_date)
    status: tuple[TransportStatus, ...] | None = attrs.field(
        default=None, converter=_choices, metadata={_CHOICES: TRANSPORT_STATUSES}
    )
    transport_direction: TransportDirection | None = attrs.field(
        default=None, converter=_choice, metadata={_CHOICES: TRANSPORT_DIRECTIONS}
    )
    file_id: tuple[str, ...] | None = attrs.field(default=None, converter=_uuids)
    created_at_from: datetime | date | None = attrs.field(default=None, converter=_timestamp)
    created_at_to: datetime | date | None = attrs.field(default=None, converter=_timestamp)
    co2e_status: Co2eStatus | None = attrs.field(
        default=None, converter=_choice, metadata={_CHOICES: CO2E_STATUSES}
    )


@attrs.frozen(kw_only=True, field_transformer=_prepare_fields)
class VehicleFilters:
    """Filters of ``GET /v1/vehicles`` and its delete-by-filters call.

    Attributes:
        search: name or licence plate, partial match (1 to 255 characters).
        status: vehicles in any of these statuses (active, archived, error).
        ownership: vehicles that are any of ``owned``, ``rented``.
        unknown_vehicle_id: vehicles of any of these unknown-vehicle types (UUIDs).
        vehicle_fuel_id: vehicles using any of these fuels (UUIDs).
        file_id: vehicles created by any of these bulk-upload files (UUIDs).
        created_at_from: created at or after this instant.
        created_at_to: created at or before this instant.
        include_children: also the vehicles of child organisations.  It
            widens the scope rather than selecting records, so on its own it
            does not make the filters non-empty (see ``is_empty``).
    """

    _subject: ClassVar[str] = "vehicles"

    search: str | None = attrs.field(default=None, converter=_search)
    status: tuple[VehicleStatus, ...] | None = attrs.field(
        default=None, converter=_choices, metadata={_CHOICES: VEHICLE_STATUSES}
    )
    ownership: tuple[VehicleOwnership, ...] | None = attrs.field(
        default=None, converter=_choices, metadata={_CHOICES: VEHICLE_OWNERSHIPS}
    )
    unknown_vehicle_id: tuple[str, ...] | None = attrs.field(default=None, converter=_uuids)
    vehicle_fuel_id: tuple[str, ...] | None = attrs.field(default=None, converter=_uuids)
    file_id: tuple[str, ...] | None = attrs.field(default=None, converter=_uuids)
    created_at_from: datetime | date | None = attrs.field(default=None, converter=_timestamp)
    created_at_to: datetime | date | None = attrs.field(default=None, converter=_timestamp)
    include_children: bool | None = attrs.field(
        default=None, converter=_bool, metadata={_SELECTS: False}
    )


LinkFilters: TypeAlias = (
    LogisticRequestsFilters
    | LogisticRechargesFilters
    | LogisticPackagesFilters
    | InvoicesFilters
    | FileReadingsFilters
)
"""The filters of link-by-filters, one class per entity type."""
QueryFilters: TypeAlias = TransportFilters | VehicleFilters
"""The filters that are sent as a query string (list and delete-by-filters)."""
Filters: TypeAlias = LinkFilters | QueryFilters
"""Any filter object of this module."""

_FiltersT = TypeVar("_FiltersT", bound=Filters)

_LINK_CLASSES: Final = (
    LogisticRequestsFilters,
    LogisticRechargesFilters,
    LogisticPackagesFilters,
    InvoicesFilters,
    FileReadingsFilters,
)
_QUERY_CLASSES: Final = (TransportFilters, VehicleFilters)
_ALL_CLASSES: Final = _LINK_CLASSES + _QUERY_CLASSES


def _keys(cls: type[attrs.AttrsInstance]) -> tuple[str, ...]:
    return tuple(f.name for f in attrs.fields(cls))


LINK_FILTER_TYPES: Final[Mapping[EntityType, type[LinkFilters]]] = MappingProxyType(
    {cls.entity_type: cls for cls in _LINK_CLASSES}
)
"""The link filter class of each entity type."""
LINK_FILTER_KEYS: Final[Mapping[EntityType, tuple[str, ...]]] = MappingProxyType(
    {kind: _keys(cls) for kind, cls in LINK_FILTER_TYPES.items()}
)
"""The link-by-filters keys allowed for each entity type, in order."""
TRANSPORT_FILTER_KEYS: Final[tuple[str, ...]] = _keys(TransportFilters)
"""The keys of ``TransportFilters``, in query-string order."""
VEHICLE_FILTER_KEYS: Final[tuple[str, ...]] = _keys(VehicleFilters)
"""The keys of ``VehicleFilters``, in query-string order."""


# --- coercion ----------------------------------------------------------------


def coerce_entity_type(value: EntityType | str) -> EntityType:
    """``value`` as an ``EntityType``; the API's strings are accepted.

    Raises ``ValueError`` listing the valid entity types (with a "did you
    mean" hint when the value is close to one).
    """
    if isinstance(value, EntityType):
        return value
    if isinstance(value, str):
        try:
            return EntityType(value)
        except ValueError:
            pass
    valid = [kind.value for kind in EntityType]
    hint = _did_you_mean(value, valid) if isinstance(value, str) else ""
    raise ValueError(
        f"unknown entity_type {value!r}{hint} (valid entity types: {', '.join(valid)})"
    )


def _did_you_mean(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _coerce(cls: type[_FiltersT], filters: object) -> _FiltersT:
    allowed = _keys(cls)
    subject = cls._subject
    if filters is None:
        return cls()
    if isinstance(filters, cls):
        return filters
    if isinstance(filters, _ALL_CLASSES):
        raise InvalidFiltersError(
            f"filters for {subject} must be a {cls.__name__} or a dict,"
            f" got a {type(filters).__name__}",
            allowed=allowed,
        )
    if not isinstance(filters, Mapping):
        raise InvalidFiltersError(
            f"filters for {subject} must be a {cls.__name__} or a dict, got {_describe(filters)}",
            allowed=allowed,
        )
    for key in filters:
        if not isinstance(key, str):
            raise InvalidFiltersError(
                f"filter keys must be strings, got {_describe(key)} for {subject}",
                allowed=allowed,
            )
        if key not in allowed:
            raise InvalidFiltersError(
                f"unknown filter key {key!r} for {subject}{_did_you_mean(key, allowed)}",
                key=key,
                allowed=allowed,
            )
    return cls(**filters)


def link_filters_for(
    entity_type: EntityType | str, filters: Mapping[str, Any] | LinkFilters | None
) -> LinkFilters:
    """The typed link filters of ``entity_type``, from a dict, a typed object or None.

    None (or ``{}``) gives the empty filters, which link every entity of
    that type.  Raises ``ValueError`` for an unknown entity type and
    ``InvalidFiltersError`` for an unknown key, a bad value, or a typed
    object of another entity type.
    """
    cls = LINK_FILTER_TYPES[coerce_entity_type(entity_type)]
    return _coerce(cls, filters)


def transport_filters(filters: Mapping[str, Any] | TransportFilters | None) -> TransportFilters:
    """``filters`` as ``TransportFilters`` (None gives the empty filters).

    Raises ``InvalidFiltersError`` for an unknown key, a bad value, or an
    object that is neither a mapping nor a ``TransportFilters``.
    """
    return _coerce(TransportFilters, filters)


def vehicle_filters(filters: Mapping[str, Any] | VehicleFilters | None) -> VehicleFilters:
    """``filters`` as ``VehicleFilters`` (None gives the empty filters).

    Raises ``InvalidFiltersError`` for an unknown key, a bad value, or an
    object that is neither a mapping nor a ``VehicleFilters``.
    """
    return _coerce(VehicleFilters, filters)


# --- encoding ----------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        # Stored in UTC (see _timestamp); the 'Z' form is the docs' example.
        return value.replace(tzinfo=None).isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    assert isinstance(value, str), f"unexpected filter value {value!r}"
    return value


def encode_query(
    filters: TransportFilters | VehicleFilters, *, array_style: ArrayStyle = ArrayStyle.REPEAT
) -> list[tuple[str, str]]:
    """The query parameters of ``filters``, for a list call and delete-by-filters alike.

    Fields come in declaration order, unset fields are left out,
    multi-valued fields give one pair per value in their stored order (as
    ``key`` with ``ArrayStyle.REPEAT``, ``key[]`` with ``BRACKETS``), dates
    are ``YYYY-MM-DD``, timestamps ISO 8601 in UTC with a ``Z``, bools
    ``true``/``false``.  Equal filters always give equal pairs: the server
    hashes this query to check a delete-by-filters against its list call.
    """
    if not isinstance(filters, _QUERY_CLASSES):
        raise TypeError(
            f"encode_query takes TransportFilters or VehicleFilters, got {_describe(filters)}"
        )
    suffix = "[]" if ArrayStyle(array_style) is ArrayStyle.BRACKETS else ""
    pairs: list[tuple[str, str]] = []
    for field in attrs.fields(type(filters)):
        value = getattr(filters, field.name)
        if value is None:
            continue
        if isinstance(value, tuple):
            key = field.name + suffix
            pairs.extend((key, _text(item)) for item in value)
        else:
            pairs.append((field.name, _text(value)))
    return pairs


def is_empty(filters: Filters) -> bool:
    """True when ``filters`` select nothing in particular (every record would match).

    Unset fields and empty lists do not count, and neither does
    ``VehicleFilters.include_children``: it widens the scope to child
    organisations instead of narrowing it.  Delete-by-filters refuses empty
    filters client-side.
    """
    if not isinstance(filters, _ALL_CLASSES):
        raise TypeError(f"is_empty takes a filter object, got {_describe(filters)}")
    return not any(
        getattr(filters, field.name) not in (None, ())
        for field in attrs.fields(type(filters))
        if field.metadata.get(_SELECTS, True)
    )


def link_filters_body(filters: LinkFilters) -> dict[str, Any]:
    """The JSON-ready ``filters`` object of a link-by-filters request.

    Unset fields are left out, multi-valued fields are lists, dates
    ``YYYY-MM-DD`` strings and bools stay bools; ``{}`` links everything.
    """
    if not isinstance(filters, _LINK_CLASSES):
        raise TypeError(f"link_filters_body takes link filters, got {_describe(filters)}")
    body: dict[str, Any] = {}
    for field in attrs.fields(type(filters)):
        value = getattr(filters, field.name)
        if value is None:
            continue
        if isinstance(value, tuple):
            body[field.name] = list(value)
        elif isinstance(value, date):
            body[field.name] = value.isoformat()
        else:
            body[field.name] = value
    return body
