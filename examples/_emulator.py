"""Where the examples run: the built-in emulator (default) or the real Dcycle API.

Not an example itself: the one switch the examples share.  Every example does::

    async with sandbox() as demo:
        async with DcycleClient() as client:  # DCYCLE_API_KEY, DCYCLE_ORG_ID, DCYCLE_BASE_URL
            ...

By default ``sandbox()`` starts ``dcycle_async.testing.Emulator`` in this
process, creates an organisation, and points ``DCYCLE_API_KEY``,
``DCYCLE_ORG_ID`` and ``DCYCLE_BASE_URL`` at it, so the client code is
exactly what you would write against the real API.  ``demo.transport_ids()``
and ``demo.entity_ids()`` seed realistic records and return their ids,
``demo.seed_*()`` adds records the example does not name, ``demo.inject()``
adds a fault.

With ``DCYCLE_EXAMPLES_LIVE=1`` nothing is started and the environment is
left alone: the examples talk to the API your ``DCYCLE_*`` variables name.
Your data is not invented then: ``transport_ids()`` and ``entity_ids()``
return the ids listed in ``DCYCLE_EXAMPLES_IDS_FILE`` (one per line: the
records the example may change), ``project()`` and ``facility()`` read
``DCYCLE_EXAMPLES_PROJECT_ID`` and ``DCYCLE_EXAMPLES_FACILITY_ID``, seeding
and faults do nothing, and ``confirm()`` asks on the terminal before
anything is deleted by filters.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from dcycle_async import EntityType
from dcycle_async.testing import Emulator, Fault

__all__ = ["LIVE", "Sandbox", "sandbox"]

LIVE = os.environ.get("DCYCLE_EXAMPLES_LIVE") == "1"
_ENV = ("DCYCLE_API_KEY", "DCYCLE_BEARER_TOKEN", "DCYCLE_ORG_ID", "DCYCLE_BASE_URL")


class Sandbox:
    """The data an example works on, and the emulator-only knobs."""

    def __init__(self, emulator: Emulator | None, org_id: str) -> None:
        self.emulator = emulator
        self.org_id = org_id
        self._last: list[str] = []

    def transport_ids(self, n: int, **attrs: Any) -> list[str]:
        """Ids of transport routes to work on (emulator: ``n`` new ones with ``attrs``)."""
        if self.emulator is None:
            return _ids_file()
        self.seed_transports(n, **attrs)
        return self._last

    def entity_ids(self, entity_type: EntityType | str, n: int, **attrs: Any) -> list[str]:
        """Ids of linkable entities (invoices, ...) to work on, as ``transport_ids``."""
        if self.emulator is None:
            return _ids_file()
        self.seed_entities(entity_type, n, **attrs)
        return self._last

    def seed_transports(self, n: int, **attrs: Any) -> None:
        """Emulator only: ``n`` transport routes exist in the account (``attrs`` fixed)."""
        if self.emulator is not None:
            self._last = self.emulator.store.seed_transports(self.org_id, n, **attrs)
            _note(f"added {n:,} transports{_describe(attrs)}")

    def seed_entities(self, entity_type: EntityType | str, n: int, **attrs: Any) -> None:
        """Emulator only: ``n`` linkable entities exist in the account (``attrs`` fixed)."""
        if self.emulator is not None:
            store = self.emulator.store
            self._last = store.seed_entities(self.org_id, entity_type, n, **attrs)
            _note(f"added {n:,} {EntityType(entity_type).value}{_describe(attrs)}")

    def project(self) -> str:
        """A project to link to (emulator: a new one)."""
        if self.emulator is None:
            return _required("DCYCLE_EXAMPLES_PROJECT_ID")
        project_id = self.emulator.store.create_project(self.org_id, "Scope 3 - 2024")
        _note(f"created project {project_id}")
        return project_id

    def facility(self) -> str:
        """A facility id (emulator: a new one, with no records yet)."""
        if self.emulator is None:
            return _required("DCYCLE_EXAMPLES_FACILITY_ID")
        return str(uuid.UUID(int=self.emulator.store.rng.getrandbits(128), version=4))

    def inject(self, fault: Fault) -> None:
        """Emulator only: make the fake API misbehave (see ``dcycle_async.testing.Fault``)."""
        if self.emulator is not None:
            self.emulator.faults.add(fault)
            _note(f"injecting {fault.kind} faults{_describe({'path': fault.path})}")

    def clear_faults(self) -> None:
        """Emulator only: back to a well-behaved API."""
        if self.emulator is not None:
            self.emulator.faults.clear()

    @property
    def peak_in_flight(self) -> int | None:
        """Emulator only: the most requests it ever served at once."""
        return None if self.emulator is None else self.emulator.peak_in_flight

    def confirm(self, question: str) -> bool:
        """Ask before a destructive step (the emulator answers yes)."""
        if self.emulator is not None:
            print(f"{question} [y/N] y  (emulator: answered for you)")
            return True
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


@asynccontextmanager
async def sandbox(
    *, latency: float = 0.0, filter_hash_covers_data: bool = False
) -> AsyncIterator[Sandbox]:
    """The emulator, served and pointed at by the ``DCYCLE_*`` variables (or the real API)."""
    if LIVE:
        yield Sandbox(None, _required("DCYCLE_ORG_ID"))
        return
    emulator = Emulator(seed=1, latency=latency, filter_hash_covers_data=filter_hash_covers_data)
    org = emulator.create_organization()
    saved = {name: os.environ.pop(name, None) for name in _ENV}
    async with emulator.serve() as url:
        os.environ.update(DCYCLE_API_KEY=org.api_key, DCYCLE_ORG_ID=org.id, DCYCLE_BASE_URL=url)
        _note(f"emulator at {url} (set DCYCLE_EXAMPLES_LIVE=1 to use the real API)")
        try:
            yield Sandbox(emulator, org.id)
        finally:
            for name, value in saved.items():
                os.environ.pop(name, None)
                if value is not None:
                    os.environ[name] = value


def _note(text: str) -> None:
    print(f"[emulator] {text}")


def _describe(attrs: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in attrs.items() if v is not None)
    return f" ({shown})" if shown else ""


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        sys.exit(f"DCYCLE_EXAMPLES_LIVE=1: set {name} to run this example against the real API")
    return value


def _ids_file() -> list[str]:
    return Path(_required("DCYCLE_EXAMPLES_IDS_FILE")).read_text().split()
