"""Link every invoice of a facility and year to a project, in one await.

    python examples/link_by_filters.py

``projects.link_by_filters`` sends one request; the server selects and links
the matching entities itself, however many there are.  Filters are a typed
object (``InvoicesFilters``, ...) or a plain dict with the same keys.
"""

from __future__ import annotations

import asyncio
from datetime import date

from _emulator import sandbox
from dcycle_async import DcycleClient, EntityType, InvalidFiltersError, InvoicesFilters


async def main() -> None:
    async with sandbox() as demo:
        project_id = demo.project()
        warehouse = demo.facility()  # the facility whose invoices we want
        demo.seed_entities("invoices", 2_000)  # invoices of other facilities
        for start, end, kind, n in (
            ("2024-03-01", "2024-03-31", "electricity", 180),
            ("2024-09-01", "2024-09-30", "heat", 120),
            ("2023-05-01", "2023-05-31", "electricity", 150),
        ):
            demo.seed_entities(
                "invoices", n, facility_id=warehouse, start_date=start, end_date=end, type=kind
            )

        async with DcycleClient() as client:
            # The typed form: every key and value is checked when the object
            # is built (dates as datetime.date or "YYYY-MM-DD", UUIDs, lists).
            year_2024 = InvoicesFilters(
                facility_ids=[warehouse],
                start_date=date(2024, 1, 1),  # invoice date on or after
                end_date=date(2024, 12, 31),  # invoice date on or before
            )
            result = await client.projects.link_by_filters(
                project_id, EntityType.INVOICES, year_2024
            )
            print(f"2024 (typed filters): created={result.created:,} skipped={result.skipped:,}")

            # The dict form: the same keys, checked before the request is sent.
            year_2023 = {
                "facility_ids": [warehouse],
                "start_date": "2023-01-01",
                "end_date": "2023-12-31",
            }
            result = await client.projects.link_by_filters(project_id, "invoices", year_2023)
            print(f"2023 (dict filters): created={result.created:,} skipped={result.skipped:,}")

            # Linking is idempotent: what is already linked is skipped.
            result = await client.projects.link_by_filters(project_id, "invoices", year_2024)
            print(f"2024 again: created={result.created:,} skipped={result.skipped:,}")

            # A misspelt key never reaches the API: InvalidFiltersError (also a
            # ValueError) names it, suggests the right one and lists the keys.
            try:
                await client.projects.link_by_filters(
                    project_id, "invoices", {"facility_id": [warehouse]}
                )
            except InvalidFiltersError as exc:
                print(f"rejected {exc.key!r}: {exc}")


if __name__ == "__main__":
    asyncio.run(main())
