"""Stream ids from a large CSV file into a bulk delete, with progress.

    python examples/pipeline_from_file.py [ids.csv]

Without an argument it writes a demo file of 200,000 rows (ids of routes
seeded in the emulator, plus repeated rows, unknown ids and junk) to a
temporary directory.  The file is never loaded whole: an async generator
reads it in blocks, and the client pulls one chunk at a time from it.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from _emulator import sandbox
from dcycle_async import DcycleClient, Progress


async def read_ids(path: Path) -> AsyncIterator[str]:
    """The first column of every row of a CSV file, header skipped.

    File reads block, so they run in a worker thread, ~1 MB of lines at a
    time: the event loop stays free, and one thread hop serves ~25,000 ids.
    """
    with path.open(encoding="utf-8") as file:
        header = await asyncio.to_thread(file.readline)
        if not header.startswith("transport_id,"):
            raise ValueError(f"{path}: expected a transport_id column first, got {header!r}")
        while lines := await asyncio.to_thread(file.readlines, 1 << 20):
            for line in lines:
                # No validation here: the client sets aside what is not a UUID
                # (report.invalid_ids) and drops repeats (report.duplicate_count).
                yield line.partition(",")[0].strip()


def show_progress(progress: Progress) -> None:
    """Called after every chunk (a plain or an async function)."""
    # ids_total is None: the client cannot know the length of a stream.
    print(
        f"progress: {progress.ids_done:,} ids done in {progress.chunks_done} chunks"
        f" ({progress.chunks_failed} failed)"
    )


def write_demo_file(directory: Path, route_ids: list[str]) -> Path:
    """A CSV export as they come: repeated rows, stale ids, junk."""
    rng = random.Random(7)
    unknown = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(8_000)]
    repeated = rng.choices(route_ids, k=20_000)
    junk = ["N/A", "#REF!", "TBD", "see row above"]
    cut_short = rng.sample(route_ids, min(1_996, len(route_ids)))
    junk += [i[:-4] for i in cut_short]  # ids a spreadsheet cut short
    rows = route_ids + repeated + unknown + junk
    rng.shuffle(rows)
    path = directory / "transports_to_delete.csv"
    with path.open("w", encoding="utf-8") as file:
        file.write("transport_id,note\n")
        file.writelines(f"{row},exported 2025-01-31\n" for row in rows)
    print(
        f"wrote {path.name}: {len(rows):,} rows = {len(route_ids):,} routes"
        f" + {len(repeated):,} repeated + {len(unknown):,} unknown + {len(junk):,} junk"
    )
    return path


async def main() -> None:
    async with sandbox() as demo:
        with tempfile.TemporaryDirectory() as tmp:
            if len(sys.argv) > 1:
                path = Path(sys.argv[1])
            else:
                path = write_demo_file(Path(tmp), demo.transport_ids(170_000))

            async with DcycleClient() as client:
                report = await client.transports.bulk_delete(
                    read_ids(path),  # any async iterable (or iterable) of ids
                    # The API takes up to 100,000 ids per request; smaller chunks
                    # mean more frequent progress and less to resend on a retry.
                    chunk_size=25_000,
                    max_concurrency=4,
                    on_progress=show_progress,
                    # For streams of tens of millions of ids, pass low_memory=True:
                    # success_ids is then not collected (success_count still is) and
                    # repeats are only caught within a chunk (a repeat in another
                    # chunk is sent again and comes back "not found" in failed_ids).
                    # Memory then stays flat, whatever the length of the file.
                    low_memory=False,
                )

    print(
        f"report: success={report.success_count:,} failed={report.failed_count:,}"
        f" invalid={len(report.invalid_ids):,} duplicates={report.duplicate_count:,}"
        f" requests={report.requests} ok={report.ok}"
    )
    # failed_ids holds the unknown ids; write them out for a follow-up.
    print("first failed ids:", list(report.failed_ids[:3]))
    print("first invalid rows:", list(report.invalid_ids[:3]))


if __name__ == "__main__":
    asyncio.run(main())
