"""Stopping early: fatal answers mid-run abort at once; a caller's cancellation leaks nothing.

An abort (401, 403, the project deleted) must stop sending within a
request or two per worker and still hand back a report that accounts for
every id.  A cancellation at a random point must leave no task, no
checked-out or open connection and no unclosed session behind, and the
client must work at full concurrency afterwards.
"""

from __future__ import annotations

import asyncio
import gc
import random
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import pytest
from dcycle_async import (
    APIError,
    AuthenticationError,
    BulkOperationError,
    DcycleClient,
    NotFoundError,
    PermissionDeniedError,
    Progress,
)
from dcycle_async.testing import Emulator, Fault, Organization

from .ops_support import (
    OPERATIONS,
    Operation,
    Scenario,
    check_accounting,
    check_exact,
    check_store,
    chunks_served,
    client_for,
    make_scenario,
    peak_overlap,
    wait_until_idle,
)

pytestmark = pytest.mark.anyio

CONCURRENCY = 3
CHUNK_SIZE = 5
#: A hang guard, not a timing assertion.
HANG_GUARD = 30.0

FATAL: dict[int, tuple[str, type[APIError]]] = {
    401: ('{"detail": "Invalid API key for organization", "code": "INVALID_API_KEY"}',
          AuthenticationError),
    403: ('{"detail": "Logged User is not Member of Organization",'
          ' "code": "LOGGED_USER_NOT_MEMBER"}', PermissionDeniedError),
}  # fmt: skip


def chunk_of(s: Scenario) -> dict[str, str]:
    """Each valid id's chunk, named by the chunk's first id (chunks follow the input order)."""
    return {i: s.valid[n - n % CHUNK_SIZE] for n, i in enumerate(s.valid)}


def applied_but_unconfirmed(s: Scenario, failed: tuple[str, ...]) -> set[str]:
    """Failed ids whose chunk the server applied: in flight when the abort cancelled it."""
    applied = {
        first
        for first, attempts in chunks_served(s).items()
        if any(r.status == 200 for r in attempts)
    }
    chunks = chunk_of(s)
    return {i for i in failed if chunks[i] in applied}


async def run_until_revoked(
    s: Scenario, revoke: Callable[[], object], after_chunks: int
) -> tuple[BulkOperationError, int]:
    """Run the scenario; once ``after_chunks`` chunks are done call ``revoke``.

    Returns the BulkOperationError raised and the number of requests the
    emulator had recorded when ``revoke`` ran.
    """
    served_then: list[int] = []

    def on_progress(progress: Progress) -> None:
        if progress.chunks_done == after_chunks:
            served_then.append(len(s.emu.requests))
            revoke()

    with anyio.fail_after(HANG_GUARD):
        async with client_for(s.emu, s.org, max_concurrency=CONCURRENCY) as client:
            with pytest.raises(BulkOperationError) as info:
                await s.run(client, chunk_size=CHUNK_SIZE, on_progress=on_progress)
        await wait_until_idle(s.emu)
    assert served_then, "the run ended before the credentials were revoked"
    return info.value, served_then[0]


@pytest.mark.parametrize("status", sorted(FATAL))
@pytest.mark.parametrize("op", OPERATIONS)
async def test_auth_failure_mid_run_stops_at_once(op: Operation, status: int) -> None:
    """A 401/403 after k chunks: at most one fatal answer per worker, a partial report for all."""
    body, error_type = FATAL[status]
    rng = random.Random(f"abort:{op}:{status}")
    emu = Emulator(seed=zlib.crc32(f"{op}{status}".encode()))
    org = emu.create_organization()
    s = make_scenario(emu, org, op, rng)
    chunks_total = -(-len(s.valid) // CHUNK_SIZE)
    fatal = Fault("status", status=status, body=body, path=s.path, name="revoked")
    async with emu.serve():
        error, served_then = await run_until_revoked(
            s, lambda: emu.faults.add(fatal), after_chunks=rng.randrange(1, 8)
        )
    assert isinstance(error.__cause__, error_type)
    assert error.report is not None
    # Every worker stops at its first fatal answer; nothing new goes out after it.
    assert 1 <= emu.faults.fired(fatal) <= CONCURRENCY
    # In flight at the revocation (< CONCURRENCY) plus at most one more each.
    assert len(emu.requests) - served_then <= 2 * CONCURRENCY - 1
    assert len(chunks_served(s)) < chunks_total
    check_accounting(s, error.report, aborted=True)
    assert not error.report.errors
    unconfirmed = applied_but_unconfirmed(s, error.report.failed_ids)
    assert len(unconfirmed) <= (CONCURRENCY - 1) * CHUNK_SIZE
    check_store(s, error.report, also_uncertain=unconfirmed)


@pytest.mark.parametrize("op", ["projects.link", "projects.unlink"])
async def test_project_deleted_mid_run_stops_at_once(op: Operation) -> None:
    """The project deleted after k chunks: 404 aborts the run, every id accounted for."""
    rng = random.Random(f"gone:{op}")
    emu = Emulator(seed=11)
    org = emu.create_organization()
    s = make_scenario(emu, org, op, rng)
    assert s.project is not None
    project = s.project
    async with emu.serve():
        error, served_then = await run_until_revoked(
            s, lambda: emu.store.delete_project(org.id, project), after_chunks=rng.randrange(1, 8)
        )
    assert isinstance(error.__cause__, NotFoundError)
    assert error.__cause__.detail == "Project not found"
    assert len(emu.requests) - served_then <= 2 * CONCURRENCY - 1
    assert sum(r.status == 404 for r in emu.requests) <= CONCURRENCY
    assert error.report is not None
    check_accounting(s, error.report, aborted=True)
    assert not error.report.errors


# --- cancellation ----------------------------------------------------------------


@pytest.fixture
def remote_emu() -> Iterator[Emulator]:
    """An emulator served from its own thread and loop: the test's loop holds only client tasks."""
    emu = Emulator(seed=5, latency=0.002)
    with anyio.from_thread.start_blocking_portal() as portal:
        portal.call(emu.start)
        try:
            yield emu
        finally:
            portal.call(emu.stop)


async def cancel_later(scope: anyio.CancelScope, emu: Emulator, how: str, k: int) -> None:
    """Cancel ``scope`` after ``k`` checkpoints, or once ``k`` more requests were served."""
    if how == "checkpoints":
        for _ in range(k):
            await anyio.lowlevel.checkpoint()
    else:
        target = len(emu.requests) + k
        # Polling: the emulator serves from another thread; it has no event.
        while len(emu.requests) < target:  # noqa: ASYNC110
            await anyio.sleep(0.0005)
    scope.cancel()


async def cancelled_run(
    client: DcycleClient | None, s: Scenario, rng: random.Random
) -> tuple[bool, str]:
    """Run the scenario under a scope cancelled at a random point; (completed, how).

    The point: after k event-loop checkpoints, after k requests served, or
    after k chunks done.  With ``client=None`` a fresh client is opened
    inside the scope, so the cancellation may also land while it is closed.
    """
    how = rng.choice(["checkpoints", "served", "chunks"])
    k = rng.randrange(1, 40) if how == "checkpoints" else rng.randrange(1, 12)
    completed = False
    with anyio.CancelScope() as scope:

        def on_progress(progress: Progress) -> None:
            if how == "chunks" and progress.chunks_done >= k:
                scope.cancel()

        async with anyio.create_task_group() as tg:
            if how != "chunks":
                tg.start_soon(cancel_later, scope, s.emu, how, k)
            kwargs: dict[str, Any] = {"chunk_size": CHUNK_SIZE, "on_progress": on_progress}
            if client is None:
                async with client_for(s.emu, s.org, max_concurrency=CONCURRENCY) as own:
                    await s.run(own, **kwargs)
            else:
                await s.run(client, **kwargs)
            completed = True
            tg.cancel_scope.cancel()
    return completed, f"{how}={k}"


@pytest.mark.parametrize("seed", range(6))
async def test_cancellation_at_a_random_point_leaks_nothing(
    remote_emu: Emulator, seed: int
) -> None:
    """Cancelled anywhere: no task, connection or session left; the client then works fully."""
    emu = remote_emu
    rng = random.Random(f"cancel:{seed}")
    org: Organization = emu.create_organization()
    tasks_before = asyncio.all_tasks()
    client = client_for(emu, org, max_concurrency=CONCURRENCY)
    cancelled = 0
    with anyio.fail_after(HANG_GUARD):
        try:
            for _ in range(4):
                s = make_scenario(emu, org, rng.choice(OPERATIONS), rng, size=100)
                shared = rng.random() < 0.75
                completed, how = await cancelled_run(client if shared else None, s, rng)
                cancelled += not completed
                assert asyncio.all_tasks() == tasks_before, f"a task outlived a cancel ({how})"
                await wait_until_idle(emu)
            # The client still works, at its full concurrency: no connection leaked
            # from its pool (the pool's limit is max_concurrency).  Requests
            # written before a cancel may still be served meanwhile (a real
            # server does so too), so only this operation's requests count.
            emu.latency = 0.02
            s = make_scenario(emu, org, rng.choice(OPERATIONS), rng, size=100)
            check_exact(s, await s.run(client, chunk_size=CHUNK_SIZE))
            mine = [r for attempts in chunks_served(s).values() for r in attempts]
            assert peak_overlap(mine) == CONCURRENCY
        finally:
            await client.aclose()
        while emu.open_connections:  # noqa: ASYNC110 (see wait_until_idle)
            await anyio.sleep(0.002)
    assert cancelled >= 2, "the random points should mostly land before the end"
    gc.collect()  # an unclosed aiohttp session would warn now (warnings are errors)
    assert asyncio.all_tasks() == tasks_before
