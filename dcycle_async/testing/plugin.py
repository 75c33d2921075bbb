"""pytest fixtures for testing code that talks to the Dcycle API.

Registered through the ``pytest11`` entry point, so installing
``dcycle-async`` makes them available everywhere.  They are async fixtures
for anyio-marked tests::

    @pytest.mark.anyio
    async def test_cleanup(dcycle_emulator, dcycle_org, dcycle_client):
        ids = dcycle_emulator.store.seed_transports(dcycle_org.id, 500)
        report = await dcycle_client.transports.bulk_delete(ids)
        assert report.ok

Importing this module imports nothing heavy: the emulator and the client
are loaded by the fixtures that need them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from dcycle_async import DcycleClient
    from dcycle_async.testing import Emulator, Organization

__all__ = [
    "dcycle_client",
    "dcycle_client_factory",
    "dcycle_emulator",
    "dcycle_no_backoff",
    "dcycle_org",
]


@pytest.fixture
def dcycle_no_backoff() -> Iterator[None]:
    """Retries without their backoff sleeps for the test (``set_testing``), then restored."""
    from dcycle_async import is_testing, set_testing

    before = is_testing()
    set_testing(True)
    try:
        yield
    finally:
        set_testing(before)


@pytest.fixture
async def dcycle_emulator() -> AsyncIterator[Emulator]:
    """A running emulator on 127.0.0.1 (random port), stopped after the test."""
    from dcycle_async.testing import Emulator

    emulator = Emulator(seed=0)
    async with emulator.serve():
        yield emulator


@pytest.fixture
def dcycle_org(dcycle_emulator: Emulator) -> Organization:
    """An organisation in ``dcycle_emulator``, with its API key and bearer token."""
    return dcycle_emulator.create_organization()


@pytest.fixture
async def dcycle_client(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> AsyncIterator[DcycleClient]:
    """A ``DcycleClient`` for ``dcycle_org`` pointed at ``dcycle_emulator``."""
    from dcycle_async import DcycleClient

    async with DcycleClient(
        api_key=dcycle_org.api_key,
        organization_id=dcycle_org.id,
        base_url=dcycle_emulator.url,
    ) as client:
        yield client


@pytest.fixture
async def dcycle_client_factory(
    dcycle_emulator: Emulator, dcycle_org: Organization
) -> AsyncIterator[Callable[..., DcycleClient]]:
    """Makes clients bound to ``dcycle_emulator`` and ``dcycle_org`` with any options.

    ``dcycle_client_factory(max_retries=6, max_concurrency=2)`` takes every
    ``DcycleClient`` keyword; credentials, organisation and base URL default
    to the emulator's.  Every client made is closed after the test.
    """
    from dcycle_async import DcycleClient

    made: list[DcycleClient] = []

    def make(**options: Any) -> DcycleClient:
        if "bearer_token" not in options:
            options.setdefault("api_key", dcycle_org.api_key)
        options.setdefault("organization_id", dcycle_org.id)
        options.setdefault("base_url", dcycle_emulator.url)
        client = DcycleClient(**options)
        made.append(client)
        return client

    try:
        yield make
    finally:
        for client in made:
            await client.aclose()
