"""``client.transports``: transport routes (``/v1/transports``)."""

from __future__ import annotations

from typing import Literal

import attrs

from .._filters import TransportFilters, transport_filters
from .._http import HTTPSession
from .._models import TransportRoute
from ._common import check_path_id, expect_int_fields
from ._records import RecordsResource

__all__ = ["TransportsResource"]

_PATH = "/v1/transports"


@attrs.define(init=False)
class TransportsResource(RecordsResource[TransportRoute, TransportFilters]):
    """Transport routes: bulk delete (by ids or filters), list, iterate, counts.

    Filters are ``TransportFilters`` or a dict with its keys (``search``,
    ``from_date``, ``to_date``, ``status``, ``transport_direction``,
    ``file_id``, ``created_at_from``, ``created_at_to``, ``co2e_status``).
    """

    def __init__(self, http: HTTPSession) -> None:
        super().__init__(
            http,
            path=_PATH,
            ids_key="transport_ids",
            item_type=TransportRoute,
            coerce=transport_filters,
        )

    async def counts(
        self,
        *,
        transport_direction: Literal["downstream", "upstream"] | None = None,
        file_id: str | None = None,
    ) -> dict[str, int]:
        """Routes per status: ``{"pending": n, "active": n, "error": n}``."""
        params: list[tuple[str, str]] = []
        if transport_direction is not None:
            if transport_direction not in ("downstream", "upstream"):
                raise ValueError(
                    "transport_direction must be 'downstream' or 'upstream',"
                    f" got {transport_direction!r}"
                )
            params.append(("transport_direction", transport_direction))
        if file_id is not None:
            params.append(("file_id", check_path_id("file_id", file_id)))
        response = await self._http.request("GET", _PATH + "/counts", params=params)
        return expect_int_fields(response, "pending", "active", "error")
