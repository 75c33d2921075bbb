"""The cattrs converter: API JSON <-> the models of ``_models``.

Unknown keys are ignored (the API adds fields without notice); dates and
timestamps are parsed from their ISO forms; a value of the wrong shape is a
clear error rather than a silently wrong record.
"""

from __future__ import annotations

import datetime
from typing import Any

import cattrs
from cattrs.preconf.orjson import make_converter

__all__ = ["converter", "unstructure"]

converter: cattrs.Converter = make_converter(forbid_extra_keys=False)


def _structure_date(value: Any, _: type) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _structure_datetime(value: Any, _: type) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    return datetime.datetime.fromisoformat(str(value))


converter.register_structure_hook(datetime.date, _structure_date)
converter.register_structure_hook(datetime.datetime, _structure_datetime)
converter.register_unstructure_hook(datetime.date, lambda d: d.isoformat())
converter.register_unstructure_hook(datetime.datetime, lambda d: d.isoformat())


def unstructure(value: Any) -> Any:
    """JSON-ready form of any model or report (exceptions become their str)."""
    return converter.unstructure(value)


converter.register_unstructure_hook(Exception, lambda exc: f"{type(exc).__name__}: {exc}")
