"""Ids from an async generator (paging a database) into link, then unlink.

    python examples/pipeline_async_generator.py

A typical sync job: the invoices your own database says belong to a project
are linked to it in Dcycle, and those that no longer belong are unlinked.
The database here is SQLite (stdlib); with asyncpg, an async SQLAlchemy
session or a paginated HTTP API, the generator looks the same.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

from _emulator import sandbox
from dcycle_async import DcycleClient, EntityType, LinkReport, Progress, UnlinkReport


def open_database(invoices_by_year: dict[int, list[str]]) -> sqlite3.Connection:
    """Your side of the data: invoice ids and the reporting year they belong to."""
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE TABLE invoices (id TEXT PRIMARY KEY, year INTEGER NOT NULL)")
    for year, ids in invoices_by_year.items():
        db.executemany("INSERT OR IGNORE INTO invoices VALUES (?, ?)", ((i, year) for i in ids))
    return db


def fetch_all(db: sqlite3.Connection, query: str, params: tuple[object, ...]) -> list[Any]:
    """One query's rows (blocking: call it in a thread)."""
    return db.execute(query, params).fetchall()


async def invoice_ids(
    db: sqlite3.Connection, *, year: int | None = None, page_size: int = 1_000
) -> AsyncIterator[str]:
    """Every invoice id (of one year, if given), one page of rows at a time.

    Keyset pagination (``WHERE id > last``) stays fast however deep the page,
    unlike OFFSET.  The client reads this generator lazily, a chunk at a time,
    so the whole table is never in memory: rows are fetched as requests go.
    """
    query = "SELECT id FROM invoices WHERE id > ? AND (? IS NULL OR year = ?) ORDER BY id LIMIT ?"
    last = ""
    # sqlite3 blocks: each query runs in a worker thread (an async driver
    # would just be awaited).
    while rows := await asyncio.to_thread(fetch_all, db, query, (last, year, year, page_size)):
        for (invoice_id,) in rows:
            yield invoice_id
        last = rows[-1][0]


async def on_progress(progress: Progress) -> None:
    """An async callback works too (e.g. to write a checkpoint)."""
    if progress.chunks_done % 10 == 0:
        print(f"  ... {progress.ids_done:,} ids sent in {progress.chunks_done} requests")


def summary(report: LinkReport | UnlinkReport) -> str:
    counts = (
        f"created={report.created:,} skipped={report.skipped:,}"
        if isinstance(report, LinkReport)
        else f"deleted={report.deleted:,}"
    )
    return (
        f"{counts} failed={len(report.failed_ids)} invalid={len(report.invalid_ids)}"
        f" requests={report.requests} ok={report.ok}"
    )


async def main() -> None:
    async with sandbox() as demo:
        project_id = demo.project()
        db = open_database(
            {
                2024: demo.entity_ids(EntityType.INVOICES, 3_000, start_date="2024-06-01"),
                2023: demo.entity_ids(EntityType.INVOICES, 2_000, start_date="2023-06-01"),
            }
        )

        # max_concurrency=8 is the cap for the whole client: every call on it
        # shares it.  Each call can ask for less, to leave room for others.
        async with DcycleClient(max_concurrency=8) as client:
            # Link every invoice of the database: chunks of 100 ids (the API's
            # limit for links), at most 4 requests in flight for this call.
            print("linking every invoice of the database...")
            linked = await client.projects.link(
                project_id,
                EntityType.INVOICES,  # or the plain string "invoices"
                invoice_ids(db),
                max_concurrency=4,
                on_progress=on_progress,
            )
            print(f"link: {summary(linked)}")

            # 2023 invoices do not belong to this 2024 project: unlink them.
            # (Unlinking removes the association; the invoices stay.)
            print("unlinking the 2023 invoices...")
            unlinked = await client.projects.unlink(
                project_id, "invoices", invoice_ids(db, year=2023), max_concurrency=2
            )
            print(f"unlink: {summary(unlinked)}")

            # Link is idempotent: running the job again creates nothing new
            # for the ids that are still linked (they come back as skipped).
            again = await client.projects.link(
                project_id, EntityType.INVOICES, invoice_ids(db, year=2024), max_concurrency=4
            )
            print(f"link again (2024 only): {summary(again)}")
        db.close()


if __name__ == "__main__":
    asyncio.run(main())
