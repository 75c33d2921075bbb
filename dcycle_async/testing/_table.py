"""A compact column store for one kind of record of one organisation.

A million transports as a million dicts would cost gigabytes and seconds
to build; as columns (shared pool strings in lists, numbers in ``array``)
they cost a few hundred megabytes and build in about a second.  Rows are
never moved: a delete drops the id from the index and clears the row's
``alive`` flag, so row numbers stay valid for cached query results until
the table's ``generation`` changes.
"""

from __future__ import annotations

import enum
import math
from array import array
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from itertools import compress
from typing import Any, Final

import attrs

__all__ = ["ColumnKind", "Cond", "Table", "select_rows", "sort_rows"]

NAN: Final = math.nan


class ColumnKind(enum.Enum):
    """How a column stores its values."""

    #: Python objects (mostly shared strings from a pool), None allowed.
    OBJECT = "object"
    #: floats in an ``array('d')``; None is stored as NaN.
    FLOAT = "float"
    #: integers in an ``array('q')``: epoch seconds for timestamps, years, ...
    INT = "int"


def _new_column(kind: ColumnKind) -> Any:
    if kind is ColumnKind.FLOAT:
        return array("d")
    if kind is ColumnKind.INT:
        return array("q")
    return []


@attrs.define
class Table:
    """Columns of one record type, indexed by id.

    Attributes:
        schema: column name -> kind.
        ids: the id of every row ever added (deleted rows included).
        index: live id -> row number.
        alive: 1 per live row, 0 per deleted row.
        columns: column name -> the column's values, one per row.
        generation: bumped on every change; part of every cache key.
    """

    schema: Mapping[str, ColumnKind]
    ids: list[str] = attrs.Factory(list)
    index: dict[str, int] = attrs.Factory(dict)
    alive: bytearray = attrs.Factory(bytearray)
    columns: dict[str, Any] = attrs.field(init=False)
    generation: int = 0

    def __attrs_post_init__(self) -> None:
        self.columns = {name: _new_column(kind) for name, kind in self.schema.items()}

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self.index

    def append(self, ids: Sequence[str], columns: Mapping[str, Sequence[Any]]) -> None:
        """Add rows: ``ids`` and one sequence per column, all of the same length.

        Floats may be None (stored as NaN).  Ids must be new.
        """
        missing = set(self.schema) - set(columns)
        if missing:
            raise ValueError(f"missing columns: {sorted(missing)}")
        start = len(self.ids)
        for name, values in columns.items():
            if len(values) != len(ids):
                raise ValueError(f"column {name!r} has {len(values)} values for {len(ids)} ids")
            column = self.columns[name]
            if self.schema[name] is ColumnKind.FLOAT and not isinstance(values, array):
                # Generated columns hold NaN already; fixed values may be None.
                if None in values:
                    values = [NAN if v is None else v for v in values]
                column.extend(values)
            else:
                column.extend(values)
        self.ids.extend(ids)
        self.index.update(zip(ids, range(start, start + len(ids)), strict=True))
        self.alive.extend(b"\x01" * len(ids))
        self.generation += 1

    def value(self, row: int, name: str) -> Any:
        """The value of one cell, with NaN floats given back as None."""
        value = self.columns[name][row]
        if self.schema[name] is ColumnKind.FLOAT and value != value:
            return None
        return value

    def live_rows(self) -> list[int]:
        """Row numbers of the live rows, in insertion order."""
        return list(compress(range(len(self.ids)), self.alive))

    def delete_ids(self, ids: Iterable[str]) -> tuple[list[str], list[str]]:
        """Delete the rows of ``ids``: (deleted ids, ids that were not there)."""
        deleted: list[str] = []
        missing: list[str] = []
        pop = self.index.pop
        alive = self.alive
        for record_id in ids:
            row = pop(record_id, None)
            if row is None:
                missing.append(record_id)
            else:
                alive[row] = 0
                deleted.append(record_id)
        if deleted:
            self.generation += 1
        return deleted, missing

    def delete_rows(self, rows: Iterable[int]) -> list[str]:
        """Delete live rows by number; their ids."""
        deleted, _ = self.delete_ids([self.ids[row] for row in rows])
        return deleted


@attrs.frozen
class Cond:
    """One filter condition, hashable so it can be part of a cache key.

    Attributes:
        op: ``in`` (value in a frozenset), ``ge``/``le`` (inclusive bounds;
            rows whose value is None never match), ``search`` (case-insensitive
            substring in any of the columns), ``null``/``not_null`` (float is
            NaN or not), ``linked`` (the row's id is, or with value False is
            not, in the ``linked`` set given to ``select_rows``).
        columns: the column(s) the condition reads.
        value: the operand.
    """

    op: str
    columns: tuple[str, ...]
    value: Hashable = None


RowFilter = Callable[[Table, list[int], Cond, AbstractSet[str]], list[int]]


def _in(table: Table, rows: list[int], cond: Cond, _: object) -> list[int]:
    column = table.columns[cond.columns[0]]
    wanted = cond.value
    assert isinstance(wanted, frozenset)
    return [i for i in rows if column[i] in wanted]


def _ge(table: Table, rows: list[int], cond: Cond, _: object) -> list[int]:
    column = table.columns[cond.columns[0]]
    low: Any = cond.value
    return [i for i in rows if (v := column[i]) is not None and v >= low]


def _le(table: Table, rows: list[int], cond: Cond, _: object) -> list[int]:
    column = table.columns[cond.columns[0]]
    high: Any = cond.value
    return [i for i in rows if (v := column[i]) is not None and v <= high]


def _search(table: Table, rows: list[int], cond: Cond, _: object) -> list[int]:
    needle = str(cond.value).lower()
    if len(cond.columns) == 1:
        column = table.columns[cond.columns[0]]
        # Pool strings repeat a lot: test each distinct value once.
        hits = _matching_values(column, rows, needle)
        return [i for i in rows if column[i] in hits]
    selected: set[int] = set()
    for name in cond.columns:
        column = table.columns[name]
        hits = _matching_values(column, rows, needle)
        selected.update(i for i in rows if column[i] in hits)
    return [i for i in rows if i in selected]


def _matching_values(column: Any, rows: list[int], needle: str) -> set[Any]:
    distinct = set(map(column.__getitem__, rows))
    return {v for v in distinct if v is not None and needle in str(v).lower()}


def _null(table: Table, rows: list[int], cond: Cond, _: object) -> list[int]:
    column = table.columns[cond.columns[0]]
    return [i for i in rows if column[i] != column[i]]


def _not_null(table: Table, rows: list[int], cond: Cond, _: object) -> list[int]:
    column = table.columns[cond.columns[0]]
    return [i for i in rows if column[i] == column[i]]


def _linked(table: Table, rows: list[int], cond: Cond, linked: AbstractSet[str]) -> list[int]:
    ids = table.ids
    want = bool(cond.value)
    return [i for i in rows if (ids[i] in linked) is want]


_ROW_FILTERS: Final[Mapping[str, RowFilter]] = {
    "in": _in,
    "ge": _ge,
    "le": _le,
    "search": _search,
    "null": _null,
    "not_null": _not_null,
    "linked": _linked,
}


def select_rows(
    table: Table, conds: Iterable[Cond], *, linked: AbstractSet[str] = frozenset()
) -> list[int]:
    """Live rows matching every condition, in insertion order."""
    rows = table.live_rows()
    for cond in conds:
        rows = _ROW_FILTERS[cond.op](table, rows, cond, linked)
    return rows


def _sort_key(table: Table, name: str) -> Callable[[int], Any]:
    column = table.columns[name]
    kind = table.schema[name]
    if kind is ColumnKind.OBJECT:

        def object_key(row: int) -> tuple[bool, Any]:
            value = column[row]
            return (value is None, "" if value is None else value)

        return object_key
    if kind is ColumnKind.FLOAT:

        def float_key(row: int) -> tuple[bool, float]:
            value = column[row]
            missing = value != value  # NaN stands for None
            return (missing, 0.0 if missing else value)

        return float_key
    return column.__getitem__  # type: ignore[no-any-return]  # an array of ints


def sort_rows(table: Table, rows: Iterable[int], keys: Sequence[tuple[str, bool]]) -> list[int]:
    """``rows`` sorted by ``(column, descending)`` keys, the first key major.

    Like PostgreSQL, missing values sort last ascending and first
    descending; ties keep insertion order (every sort is stable).
    """
    result = list(rows)
    for name, descending in reversed(keys):
        result.sort(key=_sort_key(table, name), reverse=descending)
    return result
