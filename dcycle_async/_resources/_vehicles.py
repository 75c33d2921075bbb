"""``client.vehicles``: vehicles (``/v1/vehicles``)."""

from __future__ import annotations

import attrs

from .._filters import VehicleFilters, vehicle_filters
from .._http import HTTPSession
from .._models import Vehicle
from ._records import RecordsResource

__all__ = ["VehiclesResource"]


@attrs.define(init=False)
class VehiclesResource(RecordsResource[Vehicle, VehicleFilters]):
    """Vehicles: bulk delete (by ids or filters), list and iterate.

    Filters are ``VehicleFilters`` or a dict with its keys (``search``,
    ``status``, ``ownership``, ``unknown_vehicle_id``, ``vehicle_fuel_id``,
    ``file_id``, ``created_at_from``, ``created_at_to``, ``include_children``).
    """

    def __init__(self, http: HTTPSession) -> None:
        super().__init__(
            http,
            path="/v1/vehicles",
            ids_key="vehicle_ids",
            item_type=Vehicle,
            coerce=vehicle_filters,
        )
