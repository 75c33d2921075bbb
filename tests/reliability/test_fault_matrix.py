"""Every id operation under random fault mixes at 1 %, 10 %, 25 % and 50 % of requests.

The mixes combine 429 (with a Retry-After in seconds, as a date, and
without), 500/502/503/504, connections dropped before the request is
applied, answers lost after it was applied, and timeouts (a stall far
beyond the client's per-attempt timeout).  Whatever the mix, the report
accounts for every input, agrees with the emulator's store, flags the
chunks whose outcome the client could not know, and the run respects
``max_retries`` and ``max_concurrency`` and ends.
"""

from __future__ import annotations

import random
import zlib

import anyio
import pytest
from dcycle_async.testing import Emulator, Fault

from .ops_support import (
    OPERATIONS,
    Operation,
    check_accounting,
    check_attempts,
    check_store,
    client_for,
    fault_mix,
    make_scenario,
    wait_until_idle,
)

pytestmark = pytest.mark.anyio

RATES = (0.01, 0.10, 0.25, 0.50)
MAX_RETRIES = 3
CLIENT_CONCURRENCY = 4
CHUNK_SIZE = 5
#: The client's per-attempt timeout, and a stall far beyond it.  The
#: emulator cancels a request whose client gave up, so the stall costs
#: only the timeout.
TIMEOUT = 0.5
STALL = 30.0
#: A hang guard, not a timing assertion.
HANG_GUARD = 60.0


@pytest.mark.parametrize("rate", RATES, ids=lambda r: f"{r:.0%}")
@pytest.mark.parametrize("op", OPERATIONS)
async def test_random_fault_mix_keeps_every_invariant(op: Operation, rate: float) -> None:
    """Under a seeded random mix of faults the report, the store and the limits all agree."""
    seed = f"{op}@{rate}"
    rng = random.Random(seed)
    emu = Emulator(seed=zlib.crc32(seed.encode()), cancel_on_disconnect=True)
    org = emu.create_organization()
    scenario = make_scenario(emu, org, op, rng)
    timeout = {"timeout": {"kind": "latency", "delay": STALL}}
    for fault in fault_mix(rng, rate, scenario.path, extra=timeout):
        emu.faults.add(fault)
    per_call = rng.choice([None, 2, 16])
    async with emu.serve():
        with anyio.fail_after(HANG_GUARD):
            async with client_for(
                emu,
                org,
                max_retries=MAX_RETRIES,
                max_concurrency=CLIENT_CONCURRENCY,
                timeout=TIMEOUT,
            ) as client:
                report = await scenario.run(client, chunk_size=CHUNK_SIZE, max_concurrency=per_call)
            await wait_until_idle(emu)
    assert len(emu.requests) == report.requests
    check_accounting(scenario, report)
    check_store(scenario, report)
    check_attempts(scenario, report, chunk_size=CHUNK_SIZE, max_retries=MAX_RETRIES)
    assert emu.peak_in_flight <= min(CLIENT_CONCURRENCY, per_call or CLIENT_CONCURRENCY)


@pytest.mark.parametrize("op", OPERATIONS)
async def test_timed_out_requests_applied_late_are_flagged(op: Operation) -> None:
    """A request the client gave up on is still applied, after its retry: the report stays true."""
    seed = f"late:{op}"
    rng = random.Random(seed)
    # As a real server does: an abandoned request is served to the end, so it
    # may be applied after the retry that replaced it (or after the run).
    emu = Emulator(seed=zlib.crc32(seed.encode()), cancel_on_disconnect=False)
    org = emu.create_organization()
    scenario = make_scenario(emu, org, op, rng, size=100)
    late = 0.3
    emu.faults.add(Fault("latency", delay=late * 1.5, rate=0.15, path=scenario.path, name="late"))
    async with emu.serve():
        with anyio.fail_after(HANG_GUARD):
            async with client_for(emu, org, max_retries=MAX_RETRIES, timeout=late) as client:
                report = await scenario.run(client, chunk_size=CHUNK_SIZE)
            await wait_until_idle(emu)
    assert any(r.fault == "late" for r in emu.requests)
    assert report.retried_chunks
    check_accounting(scenario, report)
    check_store(scenario, report)
    check_attempts(scenario, report, chunk_size=CHUNK_SIZE, max_retries=MAX_RETRIES)
