"""Clients that go away: abandoned requests, open connections, and which chunk a request carried."""

from __future__ import annotations

import aiohttp
import anyio
import pytest
from dcycle_async.testing import Emulator, Fault

from .emulator_support import Api, auth_headers

pytestmark = pytest.mark.anyio

BULK = "/v1/transports/bulk-delete"


async def until_idle(emulator: Emulator) -> None:
    """Return once nothing is being served (a barrier, not a timing)."""
    with anyio.fail_after(10):
        while emulator.in_flight:  # noqa: ASYNC110 (the emulator has no event)
            await anyio.sleep(0.005)


async def test_records_name_the_first_id_of_the_body(api: Api, emulator: Emulator) -> None:
    """first_id is the first entry of the id array, so retries of one chunk can be told apart."""
    routes = emulator.store.seed_transports(api.org.id, 4)
    await api.post(BULK, {"transport_ids": routes[2:]})
    await api.post(BULK, {"transport_ids": []})
    await api.get("/v1/transports")
    assert [r.first_id for r in emulator.requests] == [routes[2], None, None]


@pytest.mark.parametrize("cancel", [False, True])
async def test_a_request_the_client_gave_up_on(cancel: bool) -> None:
    """Served to the end and applied by default; with cancel_on_disconnect dropped unapplied."""
    emulator = Emulator(seed=1, cancel_on_disconnect=cancel)
    org = emulator.create_organization()
    routes = emulator.store.seed_transports(org.id, 3)
    emulator.faults.add(Fault("latency", delay=0.3, times=1))
    async with emulator.serve() as url, aiohttp.ClientSession() as session:
        with pytest.raises(TimeoutError):
            await session.post(
                url + BULK,
                json={"transport_ids": routes},
                headers=auth_headers(org),
                timeout=aiohttp.ClientTimeout(total=0.05),
            )
        await until_idle(emulator)
    record = emulator.requests[-1]
    if cancel:
        assert emulator.store.transport_ids(org.id) == set(routes)
        assert (record.status, record.fault) == (None, "latency")
    else:
        assert emulator.store.transport_ids(org.id) == set()
        assert (record.status, record.fault) == (200, "latency")


async def test_open_connections_follow_the_clients(emulator: Emulator) -> None:
    """Each kept-alive client connection counts until the client closes it."""
    org = emulator.create_organization()
    assert emulator.open_connections == 0
    async with aiohttp.ClientSession() as first, aiohttp.ClientSession() as second:
        for session in (first, second):
            async with session.get(emulator.url + "/v1/transports", headers=auth_headers(org)):
                pass
        assert emulator.open_connections == 2
    with anyio.fail_after(10):
        while emulator.open_connections:  # noqa: ASYNC110 (the emulator has no event)
            await anyio.sleep(0.005)
    await emulator.stop()
    assert emulator.open_connections == 0
