"""First steps: delete transport routes by id and read the report.

    python examples/first_steps.py

Runs against the built-in emulator (see ``_emulator.py``); with
``DCYCLE_EXAMPLES_LIVE=1`` it uses the API your ``DCYCLE_*`` variables name.
"""

from __future__ import annotations

import asyncio

from _emulator import sandbox
from dcycle_async import DcycleClient


async def main() -> None:
    async with sandbox() as demo:
        # The ids to delete: in real life they come from a file, a database
        # or a spreadsheet.  Here, 1,000 routes the emulator just created...
        ids = demo.transport_ids(1_000)
        # ...plus the usual mess: an id the API does not know, a typo and a
        # line pasted twice.  None of them stops the operation.
        ids += ["0b8f5c1e-7d2a-4e3b-9c6d-5a4f3e2d1c0b", "not-a-uuid", *ids[:1]]

        # DcycleClient() reads DCYCLE_API_KEY, DCYCLE_ORG_ID and DCYCLE_BASE_URL.
        # Always use it with `async with` (or `await client.aclose()`).
        async with DcycleClient() as client:
            # One await: the ids are deduplicated, validated, cut into chunks
            # of at most 100,000 (the API's limit), sent concurrently, retried
            # when safe, and merged into one report.
            report = await client.transports.bulk_delete(ids)

        print(
            f"report: success={report.success_count:,} failed={report.failed_count:,}"
            f" invalid={len(report.invalid_ids):,} duplicates={report.duplicate_count:,}"
            f" requests={report.requests} ok={report.ok}"
        )
        # Every input is accounted for: success_ids + failed_ids + invalid_ids
        # are exactly the unique inputs.
        if not report.ok:
            # failed_ids: valid UUIDs the API did not delete (unknown ids, ids of
            # another organisation, chunks that failed for good).
            print("failed ids:", list(report.failed_ids))
            # invalid_ids: inputs that are not UUIDs at all; never sent.
            print("invalid ids:", list(report.invalid_ids))


if __name__ == "__main__":
    asyncio.run(main())
