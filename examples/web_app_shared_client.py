"""One client shared by every request of an async web app.

    python examples/web_app_shared_client.py

A web app creates one ``DcycleClient`` at startup and closes it at
shutdown (FastAPI's lifespan, aiohttp's on_startup/on_cleanup, ...).
Every request handler uses that client: they share one connection pool and
one limit on requests in flight (``max_concurrency``), however many users
click at once.  Here plain asyncio tasks play the concurrent requests, so
the example needs no web framework.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from _emulator import sandbox
from dcycle_async import DcycleClient, EntityType


class CleanupApp:
    """The Dcycle part of a web app: lifespan hooks and two handlers.

    With FastAPI::

        @asynccontextmanager
        async def lifespan(app):
            app.state.dcycle = DcycleClient(max_concurrency=8)
            yield
            await app.state.dcycle.aclose()

    A multi-tenant app (one Dcycle organisation per customer) keeps one
    client per organisation, created on first use and closed at shutdown.
    """

    def __init__(self) -> None:
        self._client: DcycleClient | None = None

    async def startup(self) -> None:
        # At most 8 requests in flight to the API, across every handler.
        self._client = DcycleClient(max_concurrency=8)

    async def shutdown(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    @property
    def dcycle(self) -> DcycleClient:
        assert self._client is not None, "startup() has not run"
        return self._client

    async def delete_upload(self, ids: list[str]) -> dict[str, Any]:
        """POST /uploads/{id}/delete: remove the routes of one spreadsheet."""
        report = await self.dcycle.transports.bulk_delete(ids, chunk_size=100)
        return {"deleted": report.success_count, "failed": list(report.failed_ids)}

    async def add_to_project(self, project_id: str, ids: list[str]) -> dict[str, Any]:
        """POST /projects/{id}/invoices: link the invoices a user picked."""
        # A per-call cap below the client's: one user's big selection cannot
        # take all 8 slots from everybody else.
        report = await self.dcycle.projects.link(
            project_id, EntityType.INVOICES, ids, max_concurrency=2
        )
        return {"linked": report.created, "already": report.skipped, "ok": report.ok}


async def main() -> None:
    # 10 ms of latency per API request, so that requests really overlap.
    async with sandbox(latency=0.01) as demo:
        routes = demo.transport_ids(12 * 500)
        uploads = [routes[n : n + 500] for n in range(0, len(routes), 500)]
        project_id = demo.project()
        invoices = demo.entity_ids(EntityType.INVOICES, 12 * 300)
        selections = [invoices[n : n + 300] for n in range(0, len(invoices), 300)]
        nightly = demo.transport_ids(5_000)
        abandoned = demo.transport_ids(2_000)

        app = CleanupApp()
        await app.startup()
        try:
            began = time.perf_counter()
            async with asyncio.TaskGroup() as requests:
                # 24 user requests arriving at once...
                deletes = [requests.create_task(app.delete_upload(ids)) for ids in uploads]
                links = [
                    requests.create_task(app.add_to_project(project_id, ids)) for ids in selections
                ]
                # ...while a background job runs on the same client, kept to
                # 2 requests in flight so users are served first.
                cleanup = requests.create_task(
                    app.dcycle.transports.bulk_delete(nightly, chunk_size=250, max_concurrency=2)
                )
                # A user closes the tab: the framework cancels the handler.
                # Its chunks in flight are cancelled cleanly, and the shared
                # client goes on serving everybody else.
                gone = requests.create_task(app.delete_upload(abandoned))
                await asyncio.sleep(0.03)
                gone.cancel()
            elapsed = time.perf_counter() - began

            deleted = sum(task.result()["deleted"] for task in deletes)
            linked = sum(task.result()["linked"] for task in links)
            print(f"{len(deletes)} delete requests: deleted={deleted:,}")
            print(f"{len(links)} link requests: linked={linked:,}")
            print(f"background job: deleted={cleanup.result().success_count:,}")
            print(f"cancelled request: cancelled={gone.cancelled()}")
            print(f"all served in {elapsed:.2f}s")
            if demo.peak_in_flight is not None:
                print(f"peak requests in flight at the API: {demo.peak_in_flight} (client cap: 8)")

            # The client is still healthy after the cancellation.  (Chunks the
            # server applied before the cancel now come back "not found".)
            after = await app.delete_upload(abandoned)
            print(f"retried request: deleted={after['deleted']:,} gone={len(after['failed']):,}")
        finally:
            await app.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
