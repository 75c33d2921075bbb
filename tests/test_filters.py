"""Filters, checked without HTTP: keys, values, normalisation, encoding, link bodies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, cast

import attrs
import pytest
from dcycle_async import ArrayStyle, EntityType, InvalidFiltersError
from dcycle_async._filters import (
    CO2E_STATUSES,
    LINK_FILTER_KEYS,
    LINK_FILTER_TYPES,
    MAX_SEARCH_LENGTH,
    TRANSPORT_DIRECTIONS,
    TRANSPORT_FILTER_KEYS,
    TRANSPORT_STATUSES,
    VEHICLE_FILTER_KEYS,
    FileReadingsFilters,
    Filters,
    InvoicesFilters,
    LogisticPackagesFilters,
    LogisticRechargesFilters,
    LogisticRequestsFilters,
    TransportFilters,
    VehicleFilters,
    coerce_entity_type,
    encode_query,
    is_empty,
    link_filters_body,
    link_filters_for,
    transport_filters,
    vehicle_filters,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

U1 = "880e8400-e29b-41d4-a716-446655440000"
U2 = "3f1e2d4c-5b6a-4789-9abc-def012345678"

# The type of every key, as the API docs give it: the specification the
# tables below are checked against.
SCHEMA: dict[type[Filters], dict[str, str]] = {
    LogisticRequestsFilters: {
        "search": "search",
        "clients": "strings",
        "trip_date_from": "date",
        "trip_date_until": "date",
        "vehicle_type": "strings",
        "uploaded_by": "uuids",
        "file_id": "uuids",
        "created_at_from": "date",
        "created_at_to": "date",
    },
    LogisticRechargesFilters: {
        "vehicle_type": "strings",
        "fuel_id": "uuids",
        "vehicle_license_plate": "strings",
        "file_id": "uuids",
        "date_from": "date",
        "date_until": "date",
        "created_at_from": "date",
        "created_at_to": "date",
    },
    LogisticPackagesFilters: {"created_at_from": "date", "created_at_to": "date"},
    InvoicesFilters: {
        "types": "strings",
        "statuses": "strings",
        "facility_ids": "uuids",
        "start_date": "date",
        "end_date": "date",
    },
    FileReadingsFilters: {"linked": "bool"},
    TransportFilters: {
        "search": "search",
        "from_date": "date",
        "to_date": "date",
        "status": "transport_status",
        "transport_direction": "transport_direction",
        "file_id": "uuids",
        "created_at_from": "timestamp",
        "created_at_to": "timestamp",
        "co2e_status": "co2e_status",
    },
    VehicleFilters: {
        "search": "search",
        "status": "vehicle_status",
        "ownership": "ownership",
        "unknown_vehicle_id": "uuids",
        "vehicle_fuel_id": "uuids",
        "file_id": "uuids",
        "created_at_from": "timestamp",
        "created_at_to": "timestamp",
        "include_children": "bool",
    },
}

# One valid raw input per kind, and what it must be normalised to.
GOOD: dict[str, tuple[Any, Any]] = {
    "search": ("trip 42", "trip 42"),
    "strings": (["AMAZON", "ACME"], ("AMAZON", "ACME")),
    "uuids": ([U1.upper(), uuid.UUID(U2)], (U1, U2)),
    "date": ("2024-01-31", date(2024, 1, 31)),
    "timestamp": ("2024-01-01T12:00:00+01:00", datetime(2024, 1, 1, 11, tzinfo=UTC)),
    "bool": (False, False),
    "transport_status": (["pending", "error"], ("pending", "error")),
    "transport_direction": ("upstream", "upstream"),
    "co2e_status": ("not_calculated", "not_calculated"),
    "vehicle_status": (["archived"], ("archived",)),
    "ownership": (["owned", "rented"], ("owned", "rented")),
}

# Values every field of a kind must refuse.
BAD: dict[str, list[Any]] = {
    "search": ["", "x" * (MAX_SEARCH_LENGTH + 1), 42, ["trip"]],
    "strings": [42, [42], [""], {"AMAZON": 1}, b"AMAZON", [None]],
    "uuids": ["not-a-uuid", U1[:-1], 42, [U1, "nope"], {U1: 1}, [None]],
    "date": [
        "2024/01/31",
        "2024-02-30",
        "20240131",
        "2024-01-31T00:00:00",
        20240131,
        datetime(2024, 1, 31, 10, 30),
        ["2024-01-31"],
    ],
    "timestamp": ["yesterday", "2024-13-01", "2024-01-01T25:00", 1704067200, ["2024-01-01"]],
    "bool": ["true", "false", 1, 0],
    "transport_status": ["paused", ["pending", "paused"], [1], "Pending"],
    "transport_direction": ["sideways", ["upstream"], 1, "UPSTREAM"],
    "co2e_status": ["done", ["calculated"], True],
    "vehicle_status": ["pending", ["active", "gone"], 3],
    "ownership": ["leased", ["owned", "leased"], False],
}

CLASS_TYPE_PAIRS: list[tuple[type[Filters], Callable[[Any], Filters]]] = [
    *(
        (cls, lambda d, kind=kind: link_filters_for(kind, d))
        for kind, cls in LINK_FILTER_TYPES.items()
    ),
    (TransportFilters, transport_filters),
    (VehicleFilters, vehicle_filters),
]
COERCE: dict[type[Filters], Callable[[Any], Filters]] = dict(CLASS_TYPE_PAIRS)


def _keys_of(cls: type[Filters]) -> tuple[str, ...]:
    return tuple(f.name for f in attrs.fields(cls))


def _every_key() -> Iterator[tuple[type[Filters], str, str]]:
    for cls, kinds in SCHEMA.items():
        for key, kind in kinds.items():
            yield cls, key, kind


def _every_bad_value() -> Iterator[Any]:
    for cls, key, kind in _every_key():
        for bad in BAD[kind]:
            yield pytest.param(cls, key, bad, id=f"{cls.__name__}.{key}={bad!r:.30}")


def _build(cls: type[Filters], **kwargs: Any) -> Filters:
    """Call a filter class with untyped keyword arguments (for wrong-type tests)."""
    return cast(Callable[..., Filters], cls)(**kwargs)


# --- keys --------------------------------------------------------------------


def test_allowed_keys_are_the_documented_ones_in_the_documented_order() -> None:
    """Each class has exactly the keys of the API docs, in the docs' order."""
    for cls, kinds in SCHEMA.items():
        assert _keys_of(cls) == tuple(kinds)
    assert tuple(SCHEMA[TransportFilters]) == TRANSPORT_FILTER_KEYS
    assert tuple(SCHEMA[VehicleFilters]) == VEHICLE_FILTER_KEYS
    for kind, cls in LINK_FILTER_TYPES.items():
        assert LINK_FILTER_KEYS[kind] == tuple(SCHEMA[cls])
        assert cls.entity_type is kind


def test_every_entity_type_has_a_link_filter_class() -> None:
    """LINK_FILTER_TYPES covers the five linkable types and is read-only."""
    assert set(LINK_FILTER_TYPES) == set(EntityType)
    with pytest.raises(TypeError):
        cast(dict[EntityType, type], LINK_FILTER_TYPES)[EntityType.INVOICES] = VehicleFilters


def test_max_search_length_is_255() -> None:
    """MAX_SEARCH_LENGTH is the transports list's documented limit."""
    assert MAX_SEARCH_LENGTH == 255


@pytest.mark.parametrize(("cls", "key", "kind"), list(_every_key()))
def test_every_key_is_accepted_typed_and_as_dict(cls: type[Filters], key: str, kind: str) -> None:
    """Each documented key takes a valid value, typed or in a dict, normalised alike."""
    raw, expected = GOOD[kind]
    typed = _build(cls, **{key: raw})
    assert getattr(typed, key) == expected
    assert COERCE[cls]({key: raw}) == typed


@pytest.mark.parametrize(("cls", "coerce"), CLASS_TYPE_PAIRS)
def test_all_keys_together_are_accepted(
    cls: type[Filters], coerce: Callable[[Any], Filters]
) -> None:
    """A dict holding every key of a type at once is accepted."""
    raw = {key: GOOD[kind][0] for key, kind in SCHEMA[cls].items()}
    assert coerce(raw) == _build(cls, **raw)
    assert not is_empty(coerce(raw))


@pytest.mark.parametrize(("cls", "coerce"), CLASS_TYPE_PAIRS)
def test_an_unknown_key_is_rejected_listing_the_allowed_keys(
    cls: type[Filters], coerce: Callable[[Any], Filters]
) -> None:
    """An unknown key raises InvalidFiltersError with the key and the allowed keys in order."""
    with pytest.raises(InvalidFiltersError) as info:
        coerce({"colour": "red"})
    assert info.value.key == "colour"
    assert info.value.allowed == _keys_of(cls)
    assert "'colour'" in str(info.value)
    assert f"(allowed keys: {', '.join(_keys_of(cls))})" in str(info.value)


def test_a_misspelt_key_gets_a_did_you_mean_hint() -> None:
    """A key close to an allowed one is suggested."""
    with pytest.raises(InvalidFiltersError, match="did you mean 'status'"):
        transport_filters({"stauts": ["pending"]})
    with pytest.raises(InvalidFiltersError, match="did you mean 'include_children'"):
        vehicle_filters({"include_child": True})


def test_a_key_of_another_entity_type_is_rejected() -> None:
    """``clients`` is a logistic_requests key, so invoices refuse it."""
    with pytest.raises(InvalidFiltersError) as info:
        link_filters_for("invoices", {"clients": ["AMAZON"]})
    assert info.value.key == "clients"
    assert info.value.allowed == LINK_FILTER_KEYS[EntityType.INVOICES]


def test_a_non_string_key_is_rejected() -> None:
    """Dict keys must be strings."""
    with pytest.raises(InvalidFiltersError, match="keys must be strings"):
        transport_filters(cast(Any, {1: "x"}))


def test_a_misspelt_constructor_keyword_is_a_type_error() -> None:
    """The classes are ordinary Python calls: an unknown keyword is a TypeError."""
    with pytest.raises(TypeError):
        _build(TransportFilters, stauts=["pending"])


# --- values ------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "key", "bad"), list(_every_bad_value()))
def test_every_bad_value_is_rejected_naming_the_key(cls: type[Filters], key: str, bad: Any) -> None:
    """A wrong type or malformed value raises InvalidFiltersError naming the key, typed or dict."""
    makers: list[Callable[[], Filters]] = [
        lambda: _build(cls, **{key: bad}),
        lambda: COERCE[cls]({key: bad}),
    ]
    for make in makers:
        with pytest.raises(InvalidFiltersError) as info:
            make()
        assert info.value.key == key
        assert f"invalid filter '{key}'" in str(info.value)
        assert info.value.allowed == _keys_of(cls)


def test_invalid_filters_error_is_a_value_error() -> None:
    """Callers may catch InvalidFiltersError as a plain ValueError."""
    with pytest.raises(ValueError, match="from_date"):
        transport_filters({"from_date": "01/02/2024"})


def test_none_values_mean_unset() -> None:
    """A key given as None is the same as a key left out."""
    assert transport_filters({"search": None, "status": None}) == TransportFilters()


def test_evolve_validates_too() -> None:
    """attrs.evolve goes through the same validation as the constructor."""
    base = TransportFilters(search="x")
    assert attrs.evolve(base, status="active").status == ("active",)
    with pytest.raises(InvalidFiltersError):
        attrs.evolve(base, status="paused")


def test_filters_are_frozen_and_hashable() -> None:
    """Filter objects are immutable values."""
    f = TransportFilters(status=["pending"])
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        f.search = "x"  # type: ignore[misc]
    assert hash(f) == hash(TransportFilters(status="pending"))


def test_construction_normalises_types() -> None:
    """Lists become tuples and date strings become dates when a class is built directly."""
    f = TransportFilters(status=["pending"], from_date="2024-01-01")
    assert f.status == ("pending",)
    assert type(f.from_date) is date
    assert f.from_date == date(2024, 1, 1)


def test_dates_accept_date_objects_and_iso_strings_only() -> None:
    """A date field takes a date or 'YYYY-MM-DD'; a datetime is refused with a hint."""
    assert InvoicesFilters(start_date=date(2024, 2, 29)).start_date == date(2024, 2, 29)
    assert InvoicesFilters(start_date="2024-02-29").start_date == date(2024, 2, 29)
    with pytest.raises(InvalidFiltersError, match=r"\.date\(\)"):
        InvoicesFilters(start_date=datetime(2024, 2, 29))
    with pytest.raises(InvalidFiltersError, match="not a valid date"):
        InvoicesFilters(start_date="2023-02-29")


def test_naive_timestamps_are_taken_as_utc() -> None:
    """A naive datetime is read as UTC."""
    f = TransportFilters(created_at_from=datetime(2024, 1, 1, 8, 30))
    assert f.created_at_from == datetime(2024, 1, 1, 8, 30, tzinfo=UTC)
    assert encode_query(f) == [("created_at_from", "2024-01-01T08:30:00Z")]


def test_aware_timestamps_are_converted_to_utc() -> None:
    """An aware datetime, object or string, is stored and sent in UTC."""
    plus2 = timezone(timedelta(hours=2))
    a = VehicleFilters(created_at_to=datetime(2024, 6, 1, 2, 0, tzinfo=plus2))
    b = VehicleFilters(created_at_to="2024-06-01T02:00:00+02:00")
    c = VehicleFilters(created_at_to="2024-06-01T00:00:00Z")
    assert a == b == c
    assert a.created_at_to == datetime(2024, 6, 1, tzinfo=UTC)
    assert encode_query(a) == encode_query(b) == [("created_at_to", "2024-06-01T00:00:00Z")]


def test_timestamps_keep_microseconds() -> None:
    """Sub-second precision survives encoding."""
    f = TransportFilters(created_at_from="2024-01-01T00:00:00.123456Z")
    assert encode_query(f) == [("created_at_from", "2024-01-01T00:00:00.123456Z")]


def test_a_date_in_a_timestamp_field_stays_a_date() -> None:
    """A date (object or 'YYYY-MM-DD') in a timestamp field is sent as that date."""
    a = TransportFilters(created_at_from=date(2024, 3, 1))
    b = TransportFilters(created_at_from="2024-03-01")
    assert a == b
    assert type(a.created_at_from) is date
    assert encode_query(a) == [("created_at_from", "2024-03-01")]


def test_a_timestamp_out_of_range_in_utc_is_rejected() -> None:
    """An aware datetime that cannot be expressed in UTC is an InvalidFiltersError."""
    with pytest.raises(InvalidFiltersError, match="out of range"):
        TransportFilters(created_at_from=datetime.max.replace(tzinfo=timezone(timedelta(hours=-5))))


@pytest.mark.parametrize(
    "value",
    [U1, U1.upper(), "{" + U1 + "}", "urn:uuid:" + U1, U1.replace("-", ""), uuid.UUID(U1)],
)
def test_uuids_are_normalised_to_lower_case_canonical_strings(value: str | uuid.UUID) -> None:
    """Any form uuid.UUID accepts, and UUID objects, become the canonical string."""
    assert TransportFilters(file_id=[value]).file_id == (U1,)
    assert link_filters_for("invoices", {"facility_ids": value}) == InvoicesFilters(
        facility_ids=[U1]
    )


def test_a_single_string_is_a_one_element_list() -> None:
    """A bare string is one value, never split into characters."""
    assert TransportFilters(status="error").status == ("error",)
    assert LogisticRequestsFilters(clients="AMAZON").clients == ("AMAZON",)
    assert VehicleFilters(file_id=U1).file_id == (U1,)
    assert VehicleFilters(file_id=uuid.UUID(U1)).file_id == (U1,)


def test_any_iterable_keeps_its_order() -> None:
    """Lists, tuples and generators keep their order; values are not deduplicated."""
    assert InvoicesFilters(types=("b", "a")).types == ("b", "a")
    assert InvoicesFilters(types=(t for t in ["z", "y", "z"])).types == ("z", "y", "z")


def test_sets_are_sorted_for_a_stable_encoding() -> None:
    """A set has no order of its own, so its values are sorted."""
    assert TransportFilters(status={"pending", "active", "error"}).status == (
        "active",
        "error",
        "pending",
    )
    assert VehicleFilters(file_id=frozenset({U2, U1.upper()})).file_id == tuple(sorted([U1, U2]))


def test_an_empty_list_is_the_same_as_no_filter() -> None:
    """Empty collections normalise to None: a query string cannot carry an empty list."""
    assert TransportFilters(status=[], file_id=()) == TransportFilters()
    assert link_filters_for("invoices", {"types": []}) == InvoicesFilters()


def test_bools_must_be_real_bools() -> None:
    """True and False are accepted; 'true', 1 and 0 are not."""
    assert FileReadingsFilters(linked=True).linked is True
    assert VehicleFilters(include_children=False).include_children is False
    for bad in ("true", 1, 0):
        with pytest.raises(InvalidFiltersError, match="True or False"):
            _build(FileReadingsFilters, linked=bad)


def test_search_length_is_1_to_255_characters() -> None:
    """search takes 1 to 255 characters."""
    assert TransportFilters(search="x" * MAX_SEARCH_LENGTH).search == "x" * MAX_SEARCH_LENGTH
    assert TransportFilters(search="x").search == "x"
    with pytest.raises(InvalidFiltersError, match="1 to 255"):
        TransportFilters(search="")


def test_enum_choices_are_the_documented_values() -> None:
    """Every documented value of a constrained field is accepted."""
    assert TransportFilters(status=TRANSPORT_STATUSES).status == ("pending", "active", "error")
    for direction in TRANSPORT_DIRECTIONS:
        assert TransportFilters(transport_direction=direction).transport_direction == direction
    for co2e in CO2E_STATUSES:
        assert TransportFilters(co2e_status=co2e).co2e_status == co2e
    assert VehicleFilters(status=["active", "archived", "error"], ownership=["owned", "rented"])


def test_str_subclasses_become_plain_strings() -> None:
    """A StrEnum member is stored as its plain string value."""
    clients = LogisticRequestsFilters(clients=[EntityType.INVOICES]).clients
    assert clients is not None
    assert type(clients[0]) is str


# --- coercion ----------------------------------------------------------------


@pytest.mark.parametrize(("cls", "coerce"), CLASS_TYPE_PAIRS)
def test_none_and_empty_dict_give_the_empty_filters(
    cls: type[Filters], coerce: Callable[[Any], Filters]
) -> None:
    """None and {} both give the class with no filter set."""
    assert coerce(None) == cls() == coerce({})


@pytest.mark.parametrize(("cls", "coerce"), CLASS_TYPE_PAIRS)
def test_a_typed_object_passes_through(
    cls: type[Filters], coerce: Callable[[Any], Filters]
) -> None:
    """A filter object of the right class is returned as it is."""
    typed = cls()
    assert coerce(typed) is typed


def test_a_typed_object_of_another_type_is_rejected() -> None:
    """Filters of one entity type cannot be used for another."""
    with pytest.raises(InvalidFiltersError, match="InvoicesFilters") as info:
        link_filters_for("invoices", cast(Any, LogisticRequestsFilters(clients=["A"])))
    assert info.value.allowed == LINK_FILTER_KEYS[EntityType.INVOICES]
    with pytest.raises(InvalidFiltersError, match="TransportFilters"):
        transport_filters(cast(Any, VehicleFilters(status="active")))
    with pytest.raises(InvalidFiltersError, match="VehicleFilters"):
        vehicle_filters(cast(Any, TransportFilters(status="active")))


@pytest.mark.parametrize("bad", [[("status", "pending")], "status=pending", 42, {"status"}])
def test_filters_that_are_not_a_mapping_are_rejected(bad: Any) -> None:
    """Only a mapping, the typed object or None are filters."""
    with pytest.raises(InvalidFiltersError, match="must be a TransportFilters or a dict"):
        transport_filters(bad)


def test_link_filters_for_accepts_strings_and_enums() -> None:
    """entity_type may be the API's string or an EntityType."""
    by_str = link_filters_for("logistic_packages", {"created_at_from": "2024-01-01"})
    by_enum = link_filters_for(EntityType.LOGISTIC_PACKAGES, {"created_at_from": "2024-01-01"})
    assert by_str == by_enum == LogisticPackagesFilters(created_at_from=date(2024, 1, 1))


def test_coerce_entity_type_lists_the_valid_types() -> None:
    """An unknown entity_type is a ValueError listing the valid ones, with a hint."""
    assert coerce_entity_type("invoices") is EntityType.INVOICES
    assert coerce_entity_type(EntityType.FILE_READINGS) is EntityType.FILE_READINGS
    with pytest.raises(ValueError, match="did you mean 'invoices'") as info:
        coerce_entity_type("invoice")
    for kind in EntityType:
        assert kind.value in str(info.value)
    with pytest.raises(ValueError, match="unknown entity_type 42"):
        coerce_entity_type(cast(Any, 42))
    with pytest.raises(ValueError, match="valid entity types"):
        link_filters_for("vehicles", None)


# --- the query encoder -------------------------------------------------------

FULL_TRANSPORT: Mapping[str, Any] = {
    "co2e_status": "calculated",
    "created_at_to": "2024-02-01T00:00:00Z",
    "created_at_from": datetime(2024, 1, 1, tzinfo=UTC),
    "file_id": [U2, U1],
    "transport_direction": "downstream",
    "status": ["error", "pending"],
    "to_date": "2024-12-31",
    "from_date": date(2024, 1, 1),
    "search": "Madrid",
}


def test_encoding_follows_declaration_order_not_dict_order() -> None:
    """Pairs come in the documented key order, values in the order given."""
    assert encode_query(transport_filters(FULL_TRANSPORT)) == [
        ("search", "Madrid"),
        ("from_date", "2024-01-01"),
        ("to_date", "2024-12-31"),
        ("status", "error"),
        ("status", "pending"),
        ("transport_direction", "downstream"),
        ("file_id", U2),
        ("file_id", U1),
        ("created_at_from", "2024-01-01T00:00:00Z"),
        ("created_at_to", "2024-02-01T00:00:00Z"),
        ("co2e_status", "calculated"),
    ]


def test_brackets_style_marks_only_multi_valued_keys() -> None:
    """BRACKETS writes key[] for list fields, even with one value, and plain keys otherwise."""
    f = VehicleFilters(search="van", status="archived", include_children=True)
    assert encode_query(f, array_style=ArrayStyle.BRACKETS) == [
        ("search", "van"),
        ("status[]", "archived"),
        ("include_children", "true"),
    ]
    assert encode_query(f, array_style=ArrayStyle.REPEAT) == [
        ("search", "van"),
        ("status", "archived"),
        ("include_children", "true"),
    ]


def test_the_vehicle_docs_example_encodes_as_documented() -> None:
    """The bulk-delete-by-filters example query is reproduced with BRACKETS."""
    f = vehicle_filters({"status": ["archived"], "file_id": [U1]})
    assert encode_query(f, array_style=ArrayStyle.BRACKETS) == [
        ("status[]", "archived"),
        ("file_id[]", U1),
    ]


def test_unset_fields_are_omitted_and_false_is_sent() -> None:
    """None and empty lists are left out; an explicit False is 'false'."""
    assert encode_query(TransportFilters()) == []
    assert encode_query(VehicleFilters(status=[], include_children=False)) == [
        ("include_children", "false")
    ]


def test_encoding_is_deterministic_for_equal_filters() -> None:
    """Filters that compare equal encode identically, however they were written."""
    a = transport_filters(FULL_TRANSPORT)
    b = TransportFilters(
        search="Madrid",
        from_date="2024-01-01",
        to_date=date(2024, 12, 31),
        status=("error", "pending"),
        transport_direction="downstream",
        file_id=[uuid.UUID(U2), U1.upper()],
        created_at_from="2024-01-01T01:00:00+01:00",
        created_at_to=datetime(2024, 2, 1),
        co2e_status="calculated",
    )
    assert a == b
    for style in ArrayStyle:
        assert encode_query(a, array_style=style) == encode_query(b, array_style=style)


def test_encode_query_refuses_other_objects() -> None:
    """Only TransportFilters and VehicleFilters have a query form."""
    with pytest.raises(TypeError):
        encode_query(cast(Any, {"status": "active"}))
    with pytest.raises(TypeError):
        encode_query(cast(Any, InvoicesFilters()))


# --- is_empty ----------------------------------------------------------------


@pytest.mark.parametrize("cls", list(SCHEMA))
def test_filters_with_nothing_set_are_empty(cls: type[Filters]) -> None:
    """A filter object with no field set is empty."""
    assert is_empty(cls())


def test_include_children_alone_selects_nothing() -> None:
    """include_children widens the scope, so on its own the filters are still empty."""
    assert is_empty(VehicleFilters(include_children=True))
    assert is_empty(VehicleFilters(include_children=False, status=[]))
    assert not is_empty(VehicleFilters(include_children=True, ownership="rented"))


@pytest.mark.parametrize(
    ("cls", "key", "kind"), [case for case in _every_key() if case[1] != "include_children"]
)
def test_any_other_set_field_makes_filters_non_empty(
    cls: type[Filters], key: str, kind: str
) -> None:
    """Every field but include_children selects records, False included."""
    assert not is_empty(_build(cls, **{key: GOOD[kind][0]}))


def test_is_empty_refuses_other_objects() -> None:
    """is_empty takes filter objects only (coerce dicts first)."""
    with pytest.raises(TypeError):
        is_empty(cast(Any, {}))


# --- the link-by-filters body ------------------------------------------------


def test_link_body_matches_the_docs_example() -> None:
    """The §1.3 example filters give exactly the documented JSON object."""
    typed = link_filters_for(
        "logistic_requests",
        {"trip_date_from": "2024-01-01", "trip_date_until": date(2024, 3, 31), "clients": "AMAZON"},
    )
    body = link_filters_body(typed)
    assert body == {
        "clients": ["AMAZON"],
        "trip_date_from": "2024-01-01",
        "trip_date_until": "2024-03-31",
    }
    assert list(body) == ["clients", "trip_date_from", "trip_date_until"]


def test_link_body_keeps_bools_and_lists_and_omits_unset() -> None:
    """Lists stay lists, bools stay bools (False included), unset keys are left out."""
    assert link_filters_body(FileReadingsFilters(linked=False)) == {"linked": False}
    assert link_filters_body(FileReadingsFilters()) == {}
    body = link_filters_body(
        LogisticRechargesFilters(fuel_id=uuid.UUID(U1), vehicle_license_plate=["1234ABC"])
    )
    assert body == {"fuel_id": [U1], "vehicle_license_plate": ["1234ABC"]}


@pytest.mark.parametrize("cls", list(LINK_FILTER_TYPES.values()))
def test_link_body_of_every_key_is_json_ready(cls: type[Filters]) -> None:
    """A body with every key set serialises with the standard json module."""
    raw = {key: GOOD[kind][0] for key, kind in SCHEMA[cls].items()}
    body = link_filters_body(cast(Any, link_filters_for(cast(Any, cls).entity_type, raw)))
    assert list(body) == list(SCHEMA[cls])
    assert json.loads(json.dumps(body)) == body


def test_link_body_refuses_query_filters() -> None:
    """Transport and vehicle filters have no link-by-filters body."""
    with pytest.raises(TypeError):
        link_filters_body(cast(Any, TransportFilters()))


# --- property: one encoding per filter ---------------------------------------

_MULTI = {"status", "file_id"}
_offsets = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-14), max_value=timedelta(hours=14))
)
_days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))
_dates_raw = _days.flatmap(lambda d: st.sampled_from([d, d.isoformat()]))
_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 2),
    max_value=datetime(2099, 12, 31),
    timezones=st.one_of(st.none(), _offsets),
)
_timestamps_raw = st.one_of(_dates_raw, _datetimes, _datetimes.map(lambda dt: dt.isoformat()))
_uuids_raw = st.uuids().flatmap(
    lambda u: st.sampled_from([u, str(u), str(u).upper(), u.hex, "{" + str(u) + "}"])
)


def _one_or_many(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, st.lists(values, max_size=4))


_transport_raw = st.fixed_dictionaries(
    {},
    optional={
        "search": st.text(min_size=1, max_size=MAX_SEARCH_LENGTH),
        "from_date": _dates_raw,
        "to_date": _dates_raw,
        "status": _one_or_many(st.sampled_from(TRANSPORT_STATUSES)),
        "transport_direction": st.sampled_from(TRANSPORT_DIRECTIONS),
        "file_id": _one_or_many(_uuids_raw),
        "created_at_from": _timestamps_raw,
        "created_at_to": _timestamps_raw,
        "co2e_status": st.sampled_from(CO2E_STATUSES),
    },
)


def _decode(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Read encoded pairs back into a filters dict (as a server would)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        key = key.removesuffix("[]")
        if key in _MULTI:
            out.setdefault(key, []).append(value)
        else:
            out[key] = value
    return out


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=_transport_raw, style=st.sampled_from(list(ArrayStyle)))
def test_random_transport_filters_always_encode_identically(
    raw: dict[str, Any], style: ArrayStyle
) -> None:
    """Typed, via a dict, twice, or re-read from its own query: always the same pairs."""
    typed = TransportFilters(**raw)
    pairs = encode_query(typed, array_style=style)
    assert encode_query(typed, array_style=style) == pairs
    assert encode_query(transport_filters(raw), array_style=style) == pairs
    reread = transport_filters(_decode(pairs))
    assert reread == typed
    assert encode_query(reread, array_style=style) == pairs
    assert [key.removesuffix("[]") for key, _ in pairs] == sorted(
        (key.removesuffix("[]") for key, _ in pairs), key=TRANSPORT_FILTER_KEYS.index
    )
