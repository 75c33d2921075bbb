"""The id-based bulk operations against the emulator, over real sockets."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from dcycle_async import (
    BulkOperationError,
    DcycleClient,
    EntityType,
    NotFoundError,
    PermissionDeniedError,
    Progress,
)
from dcycle_async.testing import Emulator, Fault, Organization

pytestmark = pytest.mark.anyio


def client_for(emu: Emulator, org: Organization, **kwargs: Any) -> DcycleClient:
    """A client bound to the emulator with the org's API key."""
    return DcycleClient(api_key=org.api_key, organization_id=org.id, base_url=emu.url, **kwargs)


def unknown_ids(n: int) -> list[str]:
    """Valid UUIDs that no organisation has."""
    return [str(uuid.uuid4()) for _ in range(n)]


def served(emu: Emulator, suffix: str) -> list[Any]:
    """The requests the emulator served whose path ends with suffix."""
    return [r for r in emu.requests if r.path.endswith(suffix)]


async def test_bulk_delete_transports_merges_every_chunk(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """Deletes in chunks; unknown, foreign, invalid and repeated ids are all accounted for."""
    emu = dcycle_emulator
    mine = emu.store.seed_transports(dcycle_org.id, 1_000)
    other = emu.create_organization()
    theirs = emu.store.seed_transports(other.id, 5)
    ghosts = unknown_ids(3)
    wanted = mine[:700]
    inputs: list[str | uuid.UUID] = [
        *wanted,
        *theirs,
        *ghosts,
        "not-an-id",
        *wanted[:10],
        uuid.UUID(wanted[0]),
    ]
    async with client_for(emu, dcycle_org) as client:
        report = await client.transports.bulk_delete(inputs, chunk_size=100)
    assert sorted(report.success_ids) == sorted(wanted)
    assert sorted(report.failed_ids) == sorted(theirs + ghosts)
    assert report.success_count == 700
    assert report.failed_count == 8
    assert report.invalid_ids == ("not-an-id",)
    assert report.duplicate_count == 11
    assert report.requests == math.ceil(708 / 100) == len(served(emu, "/bulk-delete"))
    assert report.retries == 0
    assert not report.ok
    assert emu.store.transport_ids(dcycle_org.id) == set(mine[700:])
    assert emu.store.transport_ids(other.id) == set(theirs)
    assert all(r.id_count <= 100 for r in served(emu, "/bulk-delete"))


async def test_bulk_delete_vehicles_with_a_stream(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """An async generator of ids is deleted chunk by chunk; ok when all succeed."""
    emu = dcycle_emulator
    ids = emu.store.seed_vehicles(dcycle_org.id, 2_500)

    async def stream() -> AsyncIterator[str]:
        for value in ids:
            yield value

    seen: list[Progress] = []
    async with client_for(emu, dcycle_org) as client:
        report = await client.vehicles.bulk_delete(
            stream(), chunk_size=1_000, on_progress=seen.append
        )
    assert report.ok
    assert report.success_count == 2_500
    assert set(report.success_ids) == set(ids)
    assert emu.store.vehicle_ids(dcycle_org.id) == set()
    assert [p.ids_done for p in sorted(seen, key=lambda p: p.ids_done)][-1] == 2_500
    assert all(p.ids_total is None for p in seen)


async def test_link_then_relink_then_unlink(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """Link creates, a second link skips, unlink removes; 100 ids per request at most."""
    emu = dcycle_emulator
    project = emu.store.create_project(dcycle_org.id, name="Scope 3")
    ids = emu.store.seed_entities(dcycle_org.id, "invoices", 250)
    async with client_for(emu, dcycle_org) as client:
        first = await client.projects.link(project, EntityType.INVOICES, ids)
        again = await client.projects.link(uuid.UUID(project), "invoices", ids)
        assert emu.store.linked_ids(project, "invoices") == set(ids)
        gone = await client.projects.unlink(project, "invoices", ids[:120])
    assert (first.created, first.skipped, first.requests, first.ok) == (250, 0, 3, True)
    assert (again.created, again.skipped) == (0, 250)
    assert (gone.deleted, gone.requests, gone.ok) == (120, 2, True)
    assert emu.store.linked_ids(project, "invoices") == set(ids[120:])
    assert max(r.id_count for r in served(emu, "/entities/link")) == 100


async def test_bad_arguments_send_nothing(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """Oversize chunks, unknown entity types and hostile project ids fail before any request."""
    emu = dcycle_emulator
    project = emu.store.create_project(dcycle_org.id)
    ids = unknown_ids(3)
    async with client_for(emu, dcycle_org) as client:
        with pytest.raises(ValueError, match="chunk_size"):
            await client.projects.link(project, "invoices", ids, chunk_size=101)
        with pytest.raises(ValueError, match="chunk_size"):
            await client.transports.bulk_delete(ids, chunk_size=100_001)
        with pytest.raises(ValueError, match="entity_type"):
            await client.projects.link(project, "widgets", ids)
        for hostile in ("../../transports", "..%2F..%2Ftransports", f"{project}/../x", ""):
            with pytest.raises(ValueError, match="project_id"):
                await client.projects.link(hostile, "invoices", ids)
        with pytest.raises(TypeError):
            await client.vehicles.bulk_delete([*ids, None])  # type: ignore[list-item]
        with pytest.raises(ValueError, match="max_concurrency"):
            await client.vehicles.bulk_delete(ids, max_concurrency=0)
    assert emu.requests == []


async def test_empty_input_is_a_no_op(dcycle_emulator: Emulator, dcycle_org: Organization) -> None:
    """No ids: an ok report and no request."""
    async with client_for(dcycle_emulator, dcycle_org) as client:
        report = await client.transports.bulk_delete([])
    assert report.ok
    assert report.requests == 0
    assert dcycle_emulator.requests == []


async def test_missing_project_aborts_with_partial_report(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A 404 project aborts at once: BulkOperationError, cause chained, every id failed."""
    ids = unknown_ids(350)
    async with client_for(dcycle_emulator, dcycle_org, max_concurrency=2) as client:
        with pytest.raises(BulkOperationError) as info:
            await client.projects.link(str(uuid.uuid4()), "invoices", ids)
    assert isinstance(info.value.__cause__, NotFoundError)
    assert info.value.__cause__.detail == "Project not found"
    assert sorted(info.value.report.failed_ids) == sorted(ids)
    assert len(dcycle_emulator.requests) <= 2


async def test_auth_failure_mid_run_aborts_quickly(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A 403 arriving after some chunks stops the run; what completed is in the report."""
    emu = dcycle_emulator
    ids = emu.store.seed_transports(dcycle_org.id, 5_000)

    def revoke(progress: Progress) -> None:
        if progress.chunks_done == 2:
            emu.faults.add(
                Fault("status", status=403, body='{"detail": "Logged User is not Member'
                      ' of Organization", "code": "LOGGED_USER_NOT_MEMBER"}')
            )  # fmt: skip

    async with client_for(emu, dcycle_org, max_concurrency=2) as client:
        with pytest.raises(BulkOperationError) as info:
            await client.transports.bulk_delete(ids, chunk_size=100, on_progress=revoke)
    report = info.value.report
    assert isinstance(info.value.__cause__, PermissionDeniedError)
    assert report.success_count >= 200
    assert sorted(report.success_ids + report.failed_ids) == sorted(ids)
    assert len(emu.requests) < 10


async def test_faults_lose_nothing_and_respect_the_cap(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """Under 429s, 5xx and dropped connections every id is accounted for, cap held."""
    emu = dcycle_emulator
    ids = emu.store.seed_transports(dcycle_org.id, 3_000)
    emu.faults.add(Fault("status", status=429, retry_after=1, rate=0.1))
    emu.faults.add(Fault("status", status=503, rate=0.1))
    emu.faults.add(Fault("drop_before", rate=0.05))
    emu.faults.add(Fault("drop_after", rate=0.05))
    async with client_for(emu, dcycle_org, max_concurrency=3, max_retries=6) as client:
        report = await client.transports.bulk_delete(ids, chunk_size=50, max_concurrency=8)
    assert sorted(report.success_ids + report.failed_ids) == sorted(ids)
    assert emu.peak_in_flight <= 3
    assert report.requests == len(served(emu, "/bulk-delete"))
    assert report.retries == report.requests - 60
    remaining = emu.store.transport_ids(dcycle_org.id)
    in_error_chunks = {i for error in report.errors for i in error.ids}
    assert remaining <= set(report.failed_ids)
    assert remaining.isdisjoint(report.success_ids)
    # A failed id is still there unless an attempt whose answer was lost deleted it.
    assert set(report.failed_ids) - set(report.uncertain_ids) - in_error_chunks <= remaining


async def test_answer_lost_after_apply_is_marked_for_reconciliation(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A delete applied but unanswered is retried; its ids show as uncertain, not lost."""
    emu = dcycle_emulator
    ids = emu.store.seed_transports(dcycle_org.id, 10)
    emu.faults.add(Fault("drop_after", times=1))
    async with client_for(emu, dcycle_org) as client:
        report = await client.transports.bulk_delete(ids)
    assert report.requests == 2
    assert len(report.retried_chunks) == 1
    assert report.retried_chunks[0].attempts == 2
    assert sorted(report.failed_ids) == sorted(ids)
    assert sorted(report.uncertain_ids) == sorted(ids)
    assert emu.store.transport_ids(dcycle_org.id) == set()


async def test_chunk_failing_for_good_is_listed(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A chunk whose retries run out is in errors, its ids in failed_ids, others succeed."""
    emu = dcycle_emulator
    project = emu.store.create_project(dcycle_org.id)
    ids = emu.store.seed_entities(dcycle_org.id, "logistic_requests", 300)
    emu.faults.add(Fault("status", status=502, body="<html>Bad Gateway</html>", times=3))
    async with client_for(emu, dcycle_org, max_retries=2, max_concurrency=1) as client:
        report = await client.projects.link(project, "logistic_requests", ids)
    assert len(report.errors) == 1
    assert report.errors[0].error.status == 502  # type: ignore[attr-defined]
    assert sorted(report.failed_ids) == sorted(report.errors[0].ids)
    assert report.created == 200
    assert not report.ok


async def test_full_size_delete_chunk_sends_without_warnings(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> None:
    """A 100,000-id chunk (a ~4 MB body) is sent with no ResourceWarning (warnings are errors)."""
    ids = dcycle_emulator.store.seed_transports(dcycle_org.id, 150_000)
    async with client_for(dcycle_emulator, dcycle_org) as client:
        report = await client.transports.bulk_delete(ids)
    assert report.ok
    assert report.success_count == 150_000
    assert sorted(r.id_count for r in served(dcycle_emulator, "/bulk-delete")) == [50_000, 100_000]
    assert not dcycle_emulator.store.transport_ids(dcycle_org.id)


@pytest.mark.parametrize("n", [1, 2_000_000])
async def test_deletes_work_from_one_to_two_million_ids(
    dcycle_emulator: Emulator, dcycle_org: Organization, n: int
) -> None:
    """Transport and vehicle bulk deletes remove exactly the ids given, 1 or 2,000,000 of them."""
    emu = dcycle_emulator
    transports = emu.store.seed_transports(dcycle_org.id, n)
    vehicles = emu.store.seed_vehicles(dcycle_org.id, min(n, 200_000))

    async def stream(ids: list[str]) -> AsyncIterator[str]:
        for value in ids:
            yield value

    async with client_for(emu, dcycle_org, max_concurrency=4) as client:
        deleted = await client.transports.bulk_delete(stream(transports), low_memory=True)
        gone = await client.vehicles.bulk_delete(vehicles)
    assert deleted.ok
    assert deleted.success_count == n
    assert deleted.success_ids == ()
    assert deleted.requests == math.ceil(n / 100_000)
    assert gone.ok
    assert sorted(gone.success_ids) == sorted(vehicles)
    assert not emu.store.transport_ids(dcycle_org.id)
    assert not emu.store.vehicle_ids(dcycle_org.id)


@pytest.mark.parametrize("n", [1, 2_000_000])
async def test_link_and_unlink_work_from_one_to_two_million_ids(
    dcycle_emulator: Emulator, dcycle_org: Organization, n: int
) -> None:
    """Link then unlink of 1 or 2,000,000 invoices: every id linked once, then unlinked."""
    emu = dcycle_emulator
    invoices = emu.store.seed_entities(dcycle_org.id, EntityType.INVOICES, n)
    project = emu.store.create_project(dcycle_org.id)
    async with client_for(emu, dcycle_org, max_concurrency=16) as client:
        linked = await client.projects.link(project, "invoices", invoices)
        assert len(emu.store.linked_ids(project, EntityType.INVOICES)) == n
        unlinked = await client.projects.unlink(project, EntityType.INVOICES, iter(invoices))
    assert linked.ok
    assert (linked.created, linked.skipped) == (n, 0)
    assert linked.requests == math.ceil(n / 100)
    assert unlinked.ok
    assert unlinked.deleted == n
    assert not emu.store.linked_ids(project, EntityType.INVOICES)
