"""Request validation in the API's own words, and the filter tables.

Validation failures are answered the way FastAPI/pydantic answers them:
422 with ``{"detail": [{"type", "loc", "msg", "input"?, "ctx"?}, ...]}``,
every problem of a request listed at once.  The per-endpoint filter tables
(query parameters of the list endpoints, body filter keys of
link-by-filters) turn valid input into hashable ``Cond`` tuples that the
store evaluates and caches.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

import attrs
from multidict import MultiMapping

from .._enums import EntityType
from ._ids import all_canonical, canonical_uuid
from ._table import Cond

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DELETE_MAX_IDS",
    "LINK_FILTERS",
    "LINK_MAX_IDS",
    "MAX_PAGE_SIZE",
    "SEARCH_MAX_LENGTH",
    "TRANSPORT_COUNT_PARAMS",
    "TRANSPORT_PARAMS",
    "TRANSPORT_SORTS",
    "VEHICLE_PARAMS",
    "VEHICLE_SORTS",
    "ApiReply",
    "LinkFilter",
    "QueryParam",
    "ValidationErrors",
    "error_reply",
    "parse_link_filters",
    "parse_page",
    "parse_query_filters",
    "parse_sort",
    "path_uuid",
]

LINK_MAX_IDS: Final = 100
DELETE_MAX_IDS: Final = 100_000
DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 100
SEARCH_MAX_LENGTH: Final = 255
_DAY_SECONDS: Final = 86_400

_DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
# The strings pydantic accepts as booleans (compared lower-cased).
_TRUE: Final = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE: Final = frozenset({"0", "off", "f", "false", "n", "no"})

Loc = Sequence[str | int]


class ApiReply(Exception):
    """An answer a handler gives by raising: status, JSON payload, headers."""

    def __init__(
        self, status: int, payload: Any = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload
        self.headers = dict(headers or {})


def error_reply(status: int, detail: str, code: str | None = None) -> ApiReply:
    """``{"detail": ..., "code": ...}`` (no ``code`` key when None)."""
    payload: dict[str, str] = {"detail": detail}
    if code is not None:
        payload["code"] = code
    return ApiReply(status, payload)


@attrs.define
class ValidationErrors:
    """Problems found in one request, answered together as one 422."""

    items: list[dict[str, Any]] = attrs.Factory(list)

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(
        self,
        type_: str,
        loc: Loc,
        msg: str,
        input_: Any = None,
        ctx: Mapping[str, Any] | None = None,
        *,
        with_input: bool = True,
    ) -> None:
        """Record one problem (pydantic's keys: type, loc, msg, input, ctx)."""
        item: dict[str, Any] = {"type": type_, "loc": list(loc), "msg": msg}
        if with_input:
            item["input"] = input_
        if ctx:
            item["ctx"] = dict(ctx)
        self.items.append(item)

    def raise_if_any(self) -> None:
        """Raise the 422 reply when anything was recorded."""
        if self.items:
            raise ApiReply(422, {"detail": self.items})


def _expected(choices: Sequence[str]) -> str:
    quoted = [f"'{c}'" for c in choices]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def check_enum(value: Any, choices: Sequence[str], loc: Loc, errors: ValidationErrors) -> bool:
    """True if ``value`` is one of ``choices``; else a pydantic ``enum`` error."""
    if isinstance(value, str) and value in choices:
        return True
    expected = _expected(choices)
    errors.add("enum", loc, f"Input should be {expected}", value, {"expected": expected})
    return False


def check_uuid(value: Any, loc: Loc, errors: ValidationErrors) -> str | None:
    """The canonical UUID, or None after recording pydantic's UUID error."""
    canonical = canonical_uuid(value)
    if canonical is not None:
        return canonical
    if isinstance(value, str):
        errors.add(
            "uuid_parsing",
            loc,
            "Input should be a valid UUID, invalid character or length",
            value,
        )
    else:
        errors.add("uuid_type", loc, "UUID input should be a string, bytes or UUID object", value)
    return None


def check_date(value: Any, loc: Loc, errors: ValidationErrors) -> str | None:
    """A ``YYYY-MM-DD`` date string, or None after recording a date error."""
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    errors.add(
        "date_from_datetime_parsing",
        loc,
        "Input should be a valid date or datetime, expected YYYY-MM-DD",
        value,
    )
    return None


def check_bool(value: Any, loc: Loc, errors: ValidationErrors) -> bool | None:
    """A boolean from JSON or a query string (pydantic's lax rules)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    errors.add(
        "bool_parsing", loc, "Input should be a valid boolean, unable to interpret input", value
    )
    return None


def timestamp_bound(value: Any, loc: Loc, errors: ValidationErrors, *, upper: bool) -> float | None:
    """Epoch seconds of an ISO 8601 timestamp or date (naive = UTC).

    A bare date as an upper bound means the end of that day, so that
    ``created_at_to=2024-01-31`` includes records made on the 31st.
    """
    if isinstance(value, str):
        try:
            if _DATE_RE.fullmatch(value):
                day = datetime.date.fromisoformat(value)
                start = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)
                return start.timestamp() + (_DAY_SECONDS - 1 if upper else 0)
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=datetime.UTC)
            return moment.timestamp()
    errors.add("datetime_from_date_parsing", loc, "Input should be a valid datetime", value)
    return None


def path_uuid(value: str, name: str, errors: ValidationErrors) -> str | None:
    """A path parameter that must be a UUID."""
    return check_uuid(value, ("path", name), errors)


def id_list(
    body: Mapping[str, Any], field: str, limit: int, errors: ValidationErrors
) -> list[str] | None:
    """The canonical ids of a body's id array (1..limit UUIDs), or None.

    The common case, a list of canonical lower-case ids, is checked by one
    regular-expression match over the joined list.
    """
    loc = ("body", field)
    if field not in body:
        errors.add("missing", loc, "Field required", None)
        return None
    value = body[field]
    if not isinstance(value, list):
        errors.add("list_type", loc, "Input should be a valid list", value)
        return None
    count = len(value)
    if count < 1:
        errors.add(
            "too_short",
            loc,
            "List should have at least 1 item after validation, not 0",
            ctx={"field_type": "List", "min_length": 1, "actual_length": 0},
            with_input=False,
        )
        return None
    if count > limit:
        errors.add(
            "too_long",
            loc,
            f"List should have at most {limit} items after validation, not {count}",
            ctx={"field_type": "List", "max_length": limit, "actual_length": count},
            with_input=False,
        )
        return None
    if all_canonical(value):
        return value
    found = len(errors.items)
    ids = [check_uuid(item, (*loc, n), errors) for n, item in enumerate(value)]
    if len(errors.items) > found:
        return None
    return [i for i in ids if i is not None]


# --- query-string filters ----------------------------------------------------

ParamKind = Literal["search", "date", "datetime", "enum", "uuid", "bool"]


@attrs.frozen
class QueryParam:
    """One filter parameter of a list endpoint.

    Attributes:
        name: the parameter name (a multi-valued one is also read as ``name[]``).
        kind: how values are checked and converted.
        op: the ``Cond`` operator it becomes (None: accepted, filters nothing).
        columns: the column(s) it reads.
        multi: whether several values may be given.
        choices: the allowed values of an ``enum``.
        upper: for a ``datetime``: the bound is an upper one.
    """

    name: str
    kind: ParamKind
    op: str | None
    columns: tuple[str, ...] = ()
    multi: bool = False
    choices: tuple[str, ...] = ()
    upper: bool = False


_DIRECTIONS: Final = ("downstream", "upstream")
_CREATED_RANGE: Final = (
    QueryParam("created_at_from", "datetime", "ge", ("created_at",)),
    QueryParam("created_at_to", "datetime", "le", ("created_at",), upper=True),
)

TRANSPORT_PARAMS: Final = (
    QueryParam("search", "search", "search", ("name", "supplier")),
    QueryParam("from_date", "date", "ge", ("transport_date",)),
    QueryParam("to_date", "date", "le", ("transport_date",)),
    QueryParam(
        "status", "enum", "in", ("status",), multi=True, choices=("pending", "active", "error")
    ),
    QueryParam("transport_direction", "enum", "in", ("transport_direction",), choices=_DIRECTIONS),
    QueryParam("file_id", "uuid", "in", ("file_id",), multi=True),
    *_CREATED_RANGE,
    QueryParam("co2e_status", "enum", "co2e", ("co2e",), choices=("calculated", "not_calculated")),
)

TRANSPORT_COUNT_PARAMS: Final = (
    QueryParam("transport_direction", "enum", "in", ("transport_direction",), choices=_DIRECTIONS),
    QueryParam("file_id", "uuid", "in", ("file_id",)),
)

VEHICLE_PARAMS: Final = (
    # Emulated organisations have no children: accepted, changes nothing.
    QueryParam("include_children", "bool", None),
    QueryParam("search", "search", "search", ("name", "license_plate")),
    QueryParam(
        "status", "enum", "in", ("status",), multi=True, choices=("active", "archived", "error")
    ),
    QueryParam("ownership", "enum", "in", ("ownership",), multi=True, choices=("owned", "rented")),
    QueryParam("unknown_vehicle_id", "uuid", "in", ("unknown_vehicle_id",), multi=True),
    QueryParam("vehicle_fuel_id", "uuid", "in", ("vehicle_fuel_id",), multi=True),
    QueryParam("file_id", "uuid", "in", ("file_id",), multi=True),
    *_CREATED_RANGE,
)

# Public sort key -> column.
TRANSPORT_SORTS: Final[Mapping[str, str]] = {
    "name": "name",
    "start_date": "transport_date",
    "quantity_transported": "quantity_transported",
    "created_at": "created_at",
}
VEHICLE_SORTS: Final[Mapping[str, str]] = {
    "name": "name",
    "license_plate": "license_plate",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


def _values(query: MultiMapping[str], name: str, multi: bool) -> list[str]:
    values = list(query.getall(name, ()))
    if multi:
        values.extend(query.getall(f"{name}[]", ()))
    elif len(values) > 1:
        # FastAPI keeps the last of a repeated single-valued parameter.
        values = values[-1:]
    return values


def _query_value(
    param: QueryParam, value: str, errors: ValidationErrors
) -> str | float | bool | None:
    loc = ("query", param.name)
    if param.kind == "search":
        if len(value) < 1:
            errors.add(
                "string_too_short",
                loc,
                "String should have at least 1 character",
                value,
                {"min_length": 1},
            )
            return None
        if len(value) > SEARCH_MAX_LENGTH:
            errors.add(
                "string_too_long",
                loc,
                f"String should have at most {SEARCH_MAX_LENGTH} characters",
                value,
                {"max_length": SEARCH_MAX_LENGTH},
            )
            return None
        return value
    if param.kind == "date":
        return check_date(value, loc, errors)
    if param.kind == "datetime":
        return timestamp_bound(value, loc, errors, upper=param.upper)
    if param.kind == "enum":
        return value if check_enum(value, param.choices, loc, errors) else None
    if param.kind == "uuid":
        return check_uuid(value, loc, errors)
    return check_bool(value, loc, errors)


def parse_query_filters(
    query: MultiMapping[str], params: Sequence[QueryParam], errors: ValidationErrors
) -> tuple[Cond, ...]:
    """The conditions of a list endpoint's query filters (errors recorded)."""
    conds: list[Cond] = []
    for param in params:
        raw = _values(query, param.name, param.multi)
        if not raw:
            continue
        values = [_query_value(param, value, errors) for value in raw]
        if param.op is None or any(v is None for v in values):
            continue
        if param.op == "in":
            conds.append(Cond("in", param.columns, frozenset(values)))
        elif param.op == "co2e":
            op = "not_null" if values[-1] == "calculated" else "null"
            conds.append(Cond(op, param.columns))
        else:
            conds.append(Cond(param.op, param.columns, values[-1]))
    return tuple(conds)


def parse_page(query: MultiMapping[str], errors: ValidationErrors) -> tuple[int, int]:
    """``page`` (>= 1, default 1) and ``size`` (1..100, default 50)."""
    page = _int_param(query, "page", 1, 1, None, errors)
    size = _int_param(query, "size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, errors)
    return page, size


def _int_param(
    query: MultiMapping[str],
    name: str,
    default: int,
    low: int,
    high: int | None,
    errors: ValidationErrors,
) -> int:
    values = query.getall(name, ())
    if not values:
        return default
    raw = values[-1]
    loc = ("query", name)
    try:
        value = int(raw.strip())
    except ValueError:
        errors.add(
            "int_parsing",
            loc,
            "Input should be a valid integer, unable to parse string as an integer",
            raw,
        )
        return default
    if value < low:
        errors.add(
            "greater_than_equal",
            loc,
            f"Input should be greater than or equal to {low}",
            raw,
            {"ge": low},
        )
        return default
    if high is not None and value > high:
        errors.add(
            "less_than_equal",
            loc,
            f"Input should be less than or equal to {high}",
            raw,
            {"le": high},
        )
        return default
    return value


def parse_sort(
    query: MultiMapping[str],
    sorts: Mapping[str, str],
    errors: ValidationErrors,
    *,
    multi: bool,
) -> tuple[tuple[str, bool], ...]:
    """``sort`` values (``field`` or ``-field``) as ``(column, descending)`` keys."""
    keys: list[tuple[str, bool]] = []
    choices = [p + name for name in sorts for p in ("", "-")]
    for value in _values(query, "sort", multi):
        if check_enum(value, choices, ("query", "sort"), errors):
            descending = value.startswith("-")
            keys.append((sorts[value.lstrip("-")], descending))
    return tuple(keys)


# --- link-by-filters body filters ---------------------------------------------

LinkFilterKind = Literal["str", "list_str", "list_uuid", "date", "day_start", "day_end", "bool"]


@attrs.frozen
class LinkFilter:
    """One allowed key of link-by-filters' ``filters`` object for a type.

    Attributes:
        kind: the value's type (``day_start``/``day_end``: a date compared
            with a timestamp column as the start or the end of that day).
        op: the ``Cond`` operator it becomes.
        columns: the column(s) it reads.
    """

    kind: LinkFilterKind
    op: str
    columns: tuple[str, ...] = ()


_CREATED_DAYS: Final = {
    "created_at_from": LinkFilter("day_start", "ge", ("created_at",)),
    "created_at_to": LinkFilter("day_end", "le", ("created_at",)),
}

LINK_FILTERS: Final[Mapping[EntityType, Mapping[str, LinkFilter]]] = {
    EntityType.LOGISTIC_REQUESTS: {
        "search": LinkFilter("str", "search", ("movement_id", "stretch_id")),
        "clients": LinkFilter("list_str", "in", ("client",)),
        "trip_date_from": LinkFilter("date", "ge", ("trip_date",)),
        "trip_date_until": LinkFilter("date", "le", ("trip_date",)),
        "vehicle_type": LinkFilter("list_str", "in", ("vehicle_type",)),
        "uploaded_by": LinkFilter("list_uuid", "in", ("uploaded_by",)),
        "file_id": LinkFilter("list_uuid", "in", ("file_id",)),
        **_CREATED_DAYS,
    },
    EntityType.LOGISTIC_RECHARGES: {
        "vehicle_type": LinkFilter("list_str", "in", ("vehicle_type",)),
        "fuel_id": LinkFilter("list_uuid", "in", ("fuel_id",)),
        "vehicle_license_plate": LinkFilter("list_str", "in", ("vehicle_license_plate",)),
        "file_id": LinkFilter("list_uuid", "in", ("file_id",)),
        "date_from": LinkFilter("date", "ge", ("date",)),
        "date_until": LinkFilter("date", "le", ("date",)),
        **_CREATED_DAYS,
    },
    EntityType.LOGISTIC_PACKAGES: dict(_CREATED_DAYS),
    EntityType.INVOICES: {
        "types": LinkFilter("list_str", "in", ("type",)),
        "statuses": LinkFilter("list_str", "in", ("status",)),
        "facility_ids": LinkFilter("list_uuid", "in", ("facility_id",)),
        "start_date": LinkFilter("date", "ge", ("start_date",)),
        "end_date": LinkFilter("date", "le", ("end_date",)),
    },
    EntityType.FILE_READINGS: {"linked": LinkFilter("bool", "linked")},
}


def _link_value(spec: LinkFilter, value: Any, loc: Loc, errors: ValidationErrors) -> Any:
    """The checked value (None: no condition, or an error was recorded)."""
    if spec.kind == "str":
        if not isinstance(value, str):
            errors.add("string_type", loc, "Input should be a valid string", value)
            return None
        return value or None
    if spec.kind in ("list_str", "list_uuid"):
        if not isinstance(value, list):
            errors.add("list_type", loc, "Input should be a valid list", value)
            return None
        found = len(errors.items)
        items: list[Any] = []
        for n, item in enumerate(value):
            if spec.kind == "list_uuid":
                items.append(check_uuid(item, (*loc, n), errors))
            elif isinstance(item, str):
                items.append(item)
            else:
                errors.add("string_type", (*loc, n), "Input should be a valid string", item)
        # An empty list filters nothing, as the API treats a falsy filter.
        return frozenset(items) if items and len(errors.items) == found else None
    if spec.kind == "date":
        return check_date(value, loc, errors)
    if spec.kind in ("day_start", "day_end"):
        day = check_date(value, loc, errors)
        if day is None:
            return None
        return timestamp_bound(day, loc, errors, upper=spec.kind == "day_end")
    return check_bool(value, loc, errors)


def parse_link_filters(
    entity_type: EntityType, filters: Any, errors: ValidationErrors
) -> tuple[tuple[Cond, ...], list[str]]:
    """The conditions of a ``filters`` object, and its unknown keys.

    Type problems of known keys are recorded in ``errors``; unknown keys are
    returned for the caller's ``INVALID_FILTERS`` answer.  A null value
    filters nothing.
    """
    loc = ("body", "filters")
    if not isinstance(filters, dict):
        errors.add("dict_type", loc, "Input should be a valid dictionary", filters)
        return (), []
    allowed = LINK_FILTERS[entity_type]
    conds: list[Cond] = []
    unknown: list[str] = []
    for key, value in filters.items():
        spec = allowed.get(key)
        if spec is None:
            unknown.append(key)
            continue
        if value is None:
            continue
        checked = _link_value(spec, value, (*loc, key), errors)
        if checked is not None:
            conds.append(Cond(spec.op, spec.columns, checked))
    return tuple(conds), unknown
