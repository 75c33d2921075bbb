"""Fixtures for the emulator's tests: a served emulator, an org, a raw caller.

``anyio_backend`` comes from ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from dcycle_async.testing import Emulator, Organization

from .emulator_support import Api


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A seeded emulator serving on 127.0.0.1 (random port)."""
    emu = Emulator(seed=7)
    async with emu.serve():
        yield emu


@pytest.fixture
def org(emulator: Emulator) -> Organization:
    """An organisation of ``emulator``."""
    return emulator.create_organization()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A raw aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def api(session: aiohttp.ClientSession, emulator: Emulator, org: Organization) -> Api:
    """Raw requests to ``emulator`` as ``org``."""
    return Api(session, emulator, org)
