"""Fixtures for testing your code against the dcycle_async emulator.

Installing dcycle-async registers a pytest plugin with these fixtures:

* ``dcycle_emulator``: a fake Dcycle API served on 127.0.0.1 for the test;
  seed data through ``dcycle_emulator.store``, inject faults through
  ``dcycle_emulator.faults``, inspect ``dcycle_emulator.requests``;
* ``dcycle_org``: an organisation in it, with its (fake) API key;
* ``dcycle_client``: a ``DcycleClient`` for that organisation, pointed at
  the emulator;
* ``dcycle_client_factory``: makes more such clients, with any options
  (``dcycle_client_factory(max_retries=10)``), closed after the test;
* ``dcycle_no_backoff``: retries without their backoff sleeps.

They are async fixtures: mark the tests with ``@pytest.mark.anyio``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dcycle_async import DcycleClient


@pytest.fixture
def anyio_backend() -> str:
    """The client is built on asyncio."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _fast_retries(dcycle_no_backoff: None) -> None:
    """Every test retries at full speed (attempts and errors are unchanged)."""


@pytest.fixture
def patient_client(dcycle_client_factory: Callable[..., DcycleClient]) -> DcycleClient:
    """Like ``dcycle_client``, with more retries: for tests with many faults."""
    return dcycle_client_factory(max_retries=10)
