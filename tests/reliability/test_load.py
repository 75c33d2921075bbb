"""One client shared by 100 concurrent operations, as an async web app shares it."""

from __future__ import annotations

import random

import anyio
import pytest
from dcycle_async import DcycleClient
from dcycle_async.testing import Emulator, Fault

from .ops_support import (
    OPERATIONS,
    Report,
    Scenario,
    check_accounting,
    check_attempts,
    check_exact,
    client_for,
    make_scenario,
)

pytestmark = pytest.mark.anyio

OPERATION_COUNT = 100
CLIENT_CONCURRENCY = 8
MAX_RETRIES = 6
CHUNK_SIZE = 10
#: A hang guard, not a timing assertion.
HANG_GUARD = 60.0


async def test_hundred_concurrent_operations_share_the_client_limit() -> None:
    """100 mixed operations on disjoint ids at once: each report exact, the cap held and used."""
    rng = random.Random("load")
    emu = Emulator(seed=3, latency=0.005)
    org = emu.create_organization()
    scenarios = [
        make_scenario(emu, org, OPERATIONS[n % len(OPERATIONS)], rng, size=40)
        for n in range(OPERATION_COUNT)
    ]
    records_before = emu.store.transport_ids(org.id), emu.store.vehicle_ids(org.id)
    # Faults that are never applied (so every report stays exact) slow the
    # run down and make chunks wait for a slot again.
    for fault in (
        Fault("status", status=429, retry_after=1, rate=0.03),
        Fault("status", status=429, rate=0.02),
        Fault("status", status=503, rate=0.03),
        Fault("drop_before", rate=0.02),
    ):
        emu.faults.add(fault)
    reports: dict[int, Report] = {}

    async def handle(client: DcycleClient, n: int, s: Scenario, per_call: int | None) -> None:
        # One "web request" of the app: one operation on the shared client.
        reports[n] = await s.run(client, chunk_size=CHUNK_SIZE, max_concurrency=per_call)

    async with emu.serve():
        with anyio.fail_after(HANG_GUARD):
            async with (
                client_for(
                    emu, org, max_concurrency=CLIENT_CONCURRENCY, max_retries=MAX_RETRIES
                ) as client,
                anyio.create_task_group() as tg,
            ):
                for n, s in enumerate(scenarios):
                    tg.start_soon(handle, client, n, s, rng.choice([None, 1, 4, 16]))
    assert len(reports) == OPERATION_COUNT
    for n, s in enumerate(scenarios):
        check_accounting(s, reports[n])
        check_exact(s, reports[n])
        check_attempts(s, reports[n], chunk_size=CHUNK_SIZE, max_retries=MAX_RETRIES)
    assert sum(r.requests for r in reports.values()) == len(emu.requests)
    assert emu.peak_in_flight == CLIENT_CONCURRENCY, "the cap is held, and the load reached it"
    # Nothing but the inputs was deleted.
    transports, vehicles = records_before
    asked = {i for s in scenarios if s.is_delete for i in s.valid}
    assert emu.store.transport_ids(org.id) == transports - asked
    assert emu.store.vehicle_ids(org.id) == vehicles - asked
