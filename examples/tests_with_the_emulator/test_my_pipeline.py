"""Testing your own code with the emulator (pytest + the dcycle_async plugin).

    python -m pytest examples/tests_with_the_emulator

Nothing here touches the network: the emulator runs in the test's process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dcycle_async import BulkOperationError, DcycleClient
from dcycle_async.testing import Emulator, Fault, Organization
from my_pipeline import attach_invoices, purge_upload

pytestmark = pytest.mark.anyio


async def test_purge_deletes_the_upload_and_nothing_else(
    dcycle_emulator: Emulator, dcycle_org: Organization, dcycle_client: DcycleClient
) -> None:
    store = dcycle_emulator.store
    upload = store.seed_transports(dcycle_org.id, 1_000, supplier="Iberia Cargo")
    others = store.seed_transports(dcycle_org.id, 300)

    result = await purge_upload(dcycle_client, [*upload, "N/A", upload[0]])

    assert result.deleted == 1_000
    assert result.not_found == ()
    assert result.rejected == ("N/A",)
    # The emulator's store is the ground truth: only the upload is gone.
    assert store.transport_ids(dcycle_org.id) == set(others)


async def test_purge_reads_a_stream(
    dcycle_emulator: Emulator, dcycle_org: Organization, dcycle_client: DcycleClient
) -> None:
    ids = dcycle_emulator.store.seed_transports(dcycle_org.id, 2_500)

    async def from_somewhere() -> AsyncIterator[str]:
        for transport_id in ids:
            yield transport_id

    result = await purge_upload(dcycle_client, from_somewhere(), chunk_size=1_000)

    assert result.deleted == 2_500
    # Three requests of at most 1,000 ids each.
    deletes = [r for r in dcycle_emulator.requests if r.path == "/v1/transports/bulk-delete"]
    assert [r.id_count for r in deletes] == [1_000, 1_000, 500]


async def test_purge_survives_a_flaky_api(
    dcycle_emulator: Emulator, dcycle_org: Organization, patient_client: DcycleClient
) -> None:
    ids = dcycle_emulator.store.seed_transports(dcycle_org.id, 5_000)
    # One request in five answers 503 Service Unavailable.
    flaky = dcycle_emulator.faults.add(
        Fault("status", status=503, rate=0.2, path="/v1/transports/bulk-delete")
    )

    result = await purge_upload(patient_client, ids, chunk_size=100)

    assert result.deleted == 5_000
    assert result.not_found == ()
    assert dcycle_emulator.faults.fired(flaky) > 0  # the faults did happen
    assert not dcycle_emulator.store.transport_ids(dcycle_org.id)


async def test_attach_invoices_links_in_chunks_of_100(
    dcycle_emulator: Emulator, dcycle_org: Organization, dcycle_client: DcycleClient
) -> None:
    store = dcycle_emulator.store
    project_id = store.create_project(dcycle_org.id)
    invoices = store.seed_entities(dcycle_org.id, "invoices", 250)

    assert await attach_invoices(dcycle_client, project_id, invoices) == 250
    assert await attach_invoices(dcycle_client, project_id, invoices) == 0  # idempotent

    assert store.linked_ids(project_id, "invoices") == set(invoices)
    links = [r for r in dcycle_emulator.requests if r.path.endswith("/entities/link")]
    assert sorted(r.id_count for r in links) == [50, 50, 100, 100, 100, 100]


async def test_attach_invoices_to_a_deleted_project(
    dcycle_emulator: Emulator, dcycle_org: Organization, dcycle_client: DcycleClient
) -> None:
    store = dcycle_emulator.store
    project_id = store.create_project(dcycle_org.id)
    store.delete_project(dcycle_org.id, project_id)
    invoices = store.seed_entities(dcycle_org.id, "invoices", 250)

    # A 404 "Project not found" dooms every chunk: the call stops at once.
    with pytest.raises(BulkOperationError) as caught:
        await attach_invoices(dcycle_client, project_id, invoices)
    assert caught.value.report.created == 0
    assert len(caught.value.report.failed_ids) == 250
