"""The code under test: two jobs of "your application".

``test_my_pipeline.py`` tests them against the emulator.  Your own code
takes the client as an argument (or from your app's state), so a test can
hand it one that points at the emulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable

import attrs
from dcycle_async import DcycleClient, EntityType


@attrs.frozen
class PurgeResult:
    deleted: int
    not_found: tuple[str, ...]
    rejected: tuple[str, ...]


async def purge_upload(
    client: DcycleClient, ids: Iterable[str] | AsyncIterable[str], *, chunk_size: int = 10_000
) -> PurgeResult:
    """Delete the transport routes of one upload; say what could not be deleted."""
    report = await client.transports.bulk_delete(ids, chunk_size=chunk_size)
    return PurgeResult(
        deleted=report.success_count,
        not_found=tuple(report.failed_ids),
        rejected=tuple(str(i) for i in report.invalid_ids),
    )


async def attach_invoices(client: DcycleClient, project_id: str, ids: Iterable[str]) -> int:
    """Link invoices to a project; the number of new links."""
    report = await client.projects.link(project_id, EntityType.INVOICES, ids)
    if not report.ok:
        raise RuntimeError(f"{len(report.failed_ids)} invoices could not be linked")
    return report.created
