"""Delete by filters in two awaits: preview (count, sample, hash), then delete.

    python examples/filters_two_step_delete.py

The API guards delete-by-filters with a ``filter_hash`` taken from a list
call with the same filters: the server refuses (409) a delete whose filters
differ from what was listed.  ``preview_delete`` does the list call and
keeps the filters and the hash together; ``delete_previewed`` sends exactly
those.  Between the two awaits there is room for a human (or a check) to
look at what is about to go.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

from _emulator import sandbox
from dcycle_async import (
    BulkDeleteReport,
    DcycleClient,
    FilterHashMismatchError,
    InvalidFiltersError,
    TransportFilters,
)


async def delete_with_preview(
    client: DcycleClient, filters: TransportFilters, confirm: Callable[[str], bool]
) -> BulkDeleteReport | None:
    """Preview, ask, delete; preview again if the data changed in between."""
    for _ in range(3):
        # Step 1: how many, which ones (a sample), and the filter_hash.
        preview = await client.transports.preview_delete(filters, sample_size=3)
        print(f"preview: {preview.total:,} transports match")
        for route in preview.sample:
            print(f"  e.g. {route.transport_date} {route.name} [{route.status}] {route.supplier}")
        if preview.total == 0 or not confirm(f"Delete these {preview.total:,} transports?"):
            return None
        # Step 2: delete exactly what was previewed.  A FilterHashMismatchError
        # (409) means the server no longer agrees with the preview: show the
        # new numbers and ask again rather than deleting what nobody saw.
        try:
            report = await client.transports.delete_previewed(preview)
        except FilterHashMismatchError as exc:
            print(f"hash mismatch ({exc.status}): the data changed since the preview")
            continue
        if report.success_count != preview.total:
            print(f"note: previewed {preview.total:,}, deleted {report.success_count:,}")
        return report
    raise RuntimeError("the matching data keeps changing; try again later")


async def main() -> None:
    # filter_hash_covers_data: the emulator's hash changes when matching data
    # does (so the 409 below happens).  Whether the real API's hash covers
    # the data or only the filters is not documented.
    async with sandbox(filter_hash_covers_data=True) as demo:
        demo.seed_transports(3_000)  # two years of routes, in every status
        demo.seed_transports(250, status="error", transport_date="2024-02-10")

        # Typed filters: checked when built (a wrong key, a bad date or status
        # raises InvalidFiltersError, before any request).  A dict with the
        # same keys works too: {"from_date": "2024-01-01", ...}.
        q1_errors = TransportFilters(
            from_date=date(2024, 1, 1),  # or "2024-01-01"
            to_date=date(2024, 3, 31),
            status=["error"],
        )

        async with DcycleClient() as client:
            print("== Q1 2024 routes in error")
            report = await delete_with_preview(client, q1_errors, demo.confirm)
            if report is not None:
                print(f"deleted={report.success_count:,} failed={report.failed_count:,}")
            left = await client.transports.list(q1_errors, size=1)
            print(f"still matching: {left.total}")

            # The same flow when the data changes between the two awaits: while
            # you read the preview, a colleague uploads 40 more matching routes.
            print("== Q1 2024 routes still pending")
            q1_pending = TransportFilters(
                from_date="2024-01-01", to_date="2024-03-31", status="pending"
            )
            uploaded = False

            def confirm_slowly(question: str) -> bool:
                nonlocal uploaded
                answer = demo.confirm(question)
                if not uploaded:  # the colleague (emulator only: a no-op live)
                    demo.seed_transports(40, status="pending", transport_date="2024-02-20")
                    uploaded = True
                return answer

            report = await delete_with_preview(client, q1_pending, confirm_slowly)
            if report is not None:
                print(f"deleted={report.success_count:,} failed={report.failed_count:,}")

            # Filters that select nothing would delete everything: refused
            # client-side, no request sent.
            try:
                await client.transports.preview_delete({})
            except InvalidFiltersError as exc:
                print(f"refused: {exc}")


if __name__ == "__main__":
    asyncio.run(main())
