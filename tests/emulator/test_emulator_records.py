"""Request records, in-flight tracking and the emulator's lifecycle."""

from __future__ import annotations

import asyncio

import aiohttp
import anyio
import pytest
from aiohttp import web
from dcycle_async.testing import Emulator, Fault, RequestRecord

from .emulator_support import Api, auth_headers

pytestmark = pytest.mark.anyio


async def test_request_record_fields(api: Api, emulator: Emulator) -> None:
    """Each request leaves a record with its method, path, query, status, sizes and org."""
    project = emulator.store.create_project(api.org.id)
    ids = emulator.store.seed_entities(api.org.id, "invoices", 3)
    await api.get("/v1/transports?status=active&status[]=error&page=2")
    await api.post(
        f"/v1/projects/{project}/entities/link", {"entity_type": "invoices", "entity_ids": ids}
    )
    listing, link = emulator.requests
    assert isinstance(listing, RequestRecord)
    assert (listing.method, listing.path, listing.status) == ("GET", "/v1/transports", 200)
    assert listing.query == [("status", "active"), ("status[]", "error"), ("page", "2")]
    assert (listing.body_size, listing.id_count, listing.fault) == (0, 0, None)
    assert listing.org_id == api.org.id
    assert listing.auth == "x-api-key"
    assert listing.duration >= 0
    assert link.method == "POST"
    assert link.id_count == 3
    assert link.body_size > 100
    assert link.started >= listing.started


async def test_records_note_auth_scheme_and_failures(api: Api, emulator: Emulator) -> None:
    """Bearer requests and rejected ones are recorded too."""
    await api.get(
        "/v1/vehicles",
        headers={
            "Authorization": f"Bearer {api.org.bearer_token}",
            "x-organization-id": api.org.id,
        },
        auth=False,
    )
    await api.get("/v1/vehicles", auth=False)
    bearer, anonymous = emulator.requests
    assert (bearer.auth, bearer.status) == ("bearer", 200)
    assert (anonymous.auth, anonymous.status, anonymous.org_id) == (None, 422, None)


async def test_peak_in_flight_counts_concurrent_requests(api: Api, emulator: Emulator) -> None:
    """Concurrent slow requests raise peak_in_flight; in_flight returns to 0."""
    emulator.faults.add(Fault("latency", delay=0.5))
    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(api.get, "/v1/transports")
    assert emulator.peak_in_flight == 6
    assert emulator.in_flight == 0
    assert len(emulator.requests) == 6


async def test_reset_stats(api: Api, emulator: Emulator) -> None:
    """reset_stats forgets records and restarts the peak."""
    await api.get("/v1/transports")
    assert emulator.peak_in_flight == 1
    emulator.reset_stats()
    assert emulator.requests == []
    assert emulator.peak_in_flight == 0
    await api.get("/v1/transports")
    assert len(emulator.requests) == 1


async def test_recording_can_be_switched_off(api: Api, emulator: Emulator) -> None:
    """record_requests=False keeps no records but still tracks the peak."""
    emulator.record_requests = False
    await api.get("/v1/transports")
    assert emulator.requests == []
    assert emulator.peak_in_flight == 1


async def test_serve_start_and_stop(session: aiohttp.ClientSession) -> None:
    """start() gives a URL, url works while serving, stop() twice is fine."""
    emulator = Emulator()
    org = emulator.create_organization()
    with pytest.raises(RuntimeError, match="not serving"):
        _ = emulator.url
    url = await emulator.start()
    try:
        assert url.startswith("http://127.0.0.1:")
        assert emulator.url == url
        with pytest.raises(RuntimeError, match="already serving"):
            await emulator.start()
        async with session.get(f"{url}/v1/transports", headers=auth_headers(org)) as response:
            assert response.status == 200
    finally:
        await emulator.stop()
    await emulator.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with session.get(f"{url}/v1/transports", headers=auth_headers(org)):
            pass


async def test_stop_with_a_request_in_flight(session: aiohttp.ClientSession) -> None:
    """Stopping while a request sleeps in a fault ends it without leaking."""
    emulator = Emulator()
    org = emulator.create_organization()
    emulator.faults.add(Fault("latency", delay=30))
    url = await emulator.start()

    async def call() -> None:
        async with session.get(f"{url}/v1/transports", headers=auth_headers(org)):
            pass

    task = asyncio.create_task(call())
    with anyio.fail_after(5):
        while emulator.in_flight == 0:  # noqa: ASYNC110 - polling state that has no event
            await anyio.sleep(0.01)
    await emulator.stop()
    with pytest.raises(aiohttp.ClientError):
        await task
    assert emulator.in_flight == 0


async def test_make_app_for_aiohttp_test_tooling(emulator: Emulator) -> None:
    """make_app gives a plain aiohttp Application over the same store."""
    app = emulator.make_app()
    assert isinstance(app, web.Application)
    runner = web.AppRunner(app)
    await runner.setup()
    await runner.cleanup()


async def test_other_hosts_make_usable_urls() -> None:
    """Binding the wildcard address still yields a URL a client can use."""
    emulator = Emulator()
    async with emulator.serve(host="0.0.0.0", port=0) as url:
        assert url.startswith("http://127.0.0.1:")
