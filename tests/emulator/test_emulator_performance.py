"""Scale: seeding a million routes, paging through them, deleting 100,000 at once."""

from __future__ import annotations

import time
from typing import Any

import pytest
from dcycle_async.testing import DELETE_MAX_IDS, MAX_PAGE_SIZE, Emulator
from dcycle_async.testing._table import select_rows

from .emulator_support import Api

pytestmark = pytest.mark.anyio

MILLION = 1_000_000
# Generous bounds for a slow 2-core CI machine; locally these take ~2 s and ~0.3 s.
SEED_SECONDS = 15.0
DELETE_SECONDS = 5.0


async def test_million_routes_are_scanned_once_while_paging(
    api: Api, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seeding 1M routes takes seconds; paging a filtered listing scans the store once."""
    began = time.perf_counter()
    emulator.store.seed_transports(api.org.id, MILLION)
    assert time.perf_counter() - began < SEED_SECONDS
    scans = 0

    def counting_select(*args: Any, **kwargs: Any) -> list[int]:
        nonlocal scans
        scans += 1
        return select_rows(*args, **kwargs)

    monkeypatch.setattr("dcycle_async.testing._store.select_rows", counting_select)
    query = "status=error&transport_direction=upstream&sort=-created_at"
    first = await api.get(f"/v1/transports?{query}&size={MAX_PAGE_SIZE}")
    total = first.json["total"]
    assert 20_000 < total < 100_000
    seen = {item["id"] for item in first.json["items"]}
    pages = 30
    for page in range(2, pages + 1):
        reply = await api.get(f"/v1/transports?{query}&size={MAX_PAGE_SIZE}&page={page}")
        assert reply.json["total"] == total
        seen.update(item["id"] for item in reply.json["items"])
    assert len(seen) == pages * MAX_PAGE_SIZE
    assert scans == 1


async def test_bulk_delete_of_100000_is_fast(api: Api, emulator: Emulator) -> None:
    """A 100,000-id delete (about 4 MB of JSON) is served within seconds."""
    ids = emulator.store.seed_transports(api.org.id, DELETE_MAX_IDS)
    began = time.perf_counter()
    reply = await api.post("/v1/transports/bulk-delete", {"transport_ids": ids})
    assert time.perf_counter() - began < DELETE_SECONDS
    assert reply.json["success_count"] == DELETE_MAX_IDS
