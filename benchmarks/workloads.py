"""The workloads, W1-W4, and how the library runs them.

=====  =================================================================
W1     link 1,000,000 ids in 100-id chunks (10,000 requests), concurrency 16
W2     bulk delete 2,000,000 ids in 100,000-id chunks, concurrency 4
W3     W2 against a server that answers after 200 ms: makespan vs ideal
W4     bulk delete of a 10,000,000-id async stream, ``low_memory=True``,
       concurrency 4: peak RSS of the client process
=====  =================================================================
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterable
from typing import Final

import attrs
from dcycle_async import DcycleClient

from ._spec import Job, Kind, Outcome

__all__ = ["W3_LATENCY", "WORKLOADS", "Workload", "library_run", "library_stream"]

W3_LATENCY: Final = 0.2


@attrs.frozen
class Workload:
    """One workload at full size (``scaled`` shrinks it for ``--quick``)."""

    name: str
    title: str
    kind: Kind
    n_ids: int
    chunk_size: int
    concurrency: int
    latency: float = 0.0
    stream: bool = False

    def scaled(self, scale: float) -> Workload:
        """The same workload with ``scale`` times the ids (for ``--quick``).

        Its shape is kept: W1 keeps its 100-id chunks (so it sends fewer
        requests); the deletes keep their number of chunks (smaller ones),
        so W3 still runs ceil(chunks / concurrency) rounds of latency.
        """
        if scale >= 1:
            return self
        n = max(1, round(self.n_ids * scale))
        if self.kind == "link":
            return attrs.evolve(self, n_ids=n)
        chunks = math.ceil(self.n_ids / self.chunk_size)
        chunk_size = max(1, math.ceil(n / chunks))
        return attrs.evolve(self, n_ids=max(n, chunks), chunk_size=chunk_size)

    @property
    def chunks(self) -> int:
        """How many requests it takes."""
        return math.ceil(self.n_ids / self.chunk_size)

    @property
    def ideal(self) -> float | None:
        """For a latency-bound workload: ceil(chunks / concurrency) x latency."""
        if self.latency <= 0:
            return None
        return math.ceil(self.chunks / self.concurrency) * self.latency


WORKLOADS: Final = {
    "W1": Workload("W1", "link 1M ids, 100/chunk, c=16", "link", 1_000_000, 100, 16),
    "W2": Workload("W2", "delete 2M ids, 100k/chunk, c=4", "delete", 2_000_000, 100_000, 4),
    "W3": Workload(
        "W3",
        "W2 with 200 ms server latency",
        "delete",
        2_000_000,
        100_000,
        4,
        latency=W3_LATENCY,
    ),
    "W4": Workload(
        "W4",
        "delete a 10M-id async stream, low_memory",
        "delete",
        10_000_000,
        100_000,
        4,
        stream=True,
    ),
}


def _client(job: Job) -> DcycleClient:
    return DcycleClient(
        api_key=job.api_key,
        organization_id=job.org_id,
        base_url=job.base_url,
        max_concurrency=job.concurrency,
    )


async def library_run(job: Job) -> Outcome:
    """W1-W3 through ``dcycle_async``: one client, one call."""
    outcome = Outcome(ids_sent=len(job.ids))
    async with _client(job) as client:
        if job.kind == "link":
            link = await client.projects.link(
                job.project_id,
                job.entity_type,
                job.ids,
                chunk_size=job.chunk_size,
                max_concurrency=job.concurrency,
            )
            outcome.requests = link.requests
            outcome.ok = link.created + link.skipped
            outcome.failed = len(link.failed_ids)
        else:
            report = await client.transports.bulk_delete(
                job.ids, chunk_size=job.chunk_size, max_concurrency=job.concurrency
            )
            outcome.requests = report.requests
            outcome.ok = report.success_count
            outcome.failed = report.failed_count
    return outcome


async def library_stream(job: Job, ids: AsyncIterable[str], n_ids: int) -> Outcome:
    """W4 through ``dcycle_async``: a lazy async stream, ``low_memory=True``."""
    outcome = Outcome(ids_sent=n_ids)
    async with _client(job) as client:
        report = await client.transports.bulk_delete(
            ids, chunk_size=job.chunk_size, max_concurrency=job.concurrency, low_memory=True
        )
    outcome.requests = report.requests
    outcome.ok = report.success_count
    outcome.failed = report.failed_count
    return outcome
