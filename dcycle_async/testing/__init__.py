"""``dcycle_async.testing``: a stateful in-process fake of the Dcycle API.

An aiohttp.web server with organisations and API keys, org-scoped records,
the API's limits, error bodies and codes, list filters with pagination and
``filter_hash``, link bookkeeping, scriptable faults and a record of every
request.  For this project's tests and benchmarks and for users' own tests::

    from dcycle_async.testing import Emulator, Fault

    emulator = Emulator(seed=1)
    org = emulator.create_organization()
    ids = emulator.store.seed_transports(org.id, 1_000)
    emulator.faults.add(Fault("status", status=503, times=2))
    async with emulator.serve() as url:
        ...  # DcycleClient(api_key=org.api_key, organization_id=org.id, base_url=url)

It runs standalone too: ``python -m dcycle_async.testing --port 8080``.
The names are imported lazily, so that loading the pytest plugin (which
imports this package) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ._app import RequestRecord
    from ._emulator import Emulator
    from ._faults import Fault, FaultKind, FaultSet
    from ._hashing import filter_hash
    from ._params import DEFAULT_PAGE_SIZE, DELETE_MAX_IDS, LINK_MAX_IDS, MAX_PAGE_SIZE
    from ._store import Organization, Project, Store

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DELETE_MAX_IDS",
    "LINK_MAX_IDS",
    "MAX_PAGE_SIZE",
    "Emulator",
    "Fault",
    "FaultKind",
    "FaultSet",
    "Organization",
    "Project",
    "RequestRecord",
    "Store",
    "filter_hash",
]

_HOMES: Final = {
    "DEFAULT_PAGE_SIZE": "._params",
    "DELETE_MAX_IDS": "._params",
    "LINK_MAX_IDS": "._params",
    "MAX_PAGE_SIZE": "._params",
    "Emulator": "._emulator",
    "Fault": "._faults",
    "FaultKind": "._faults",
    "FaultSet": "._faults",
    "Organization": "._store",
    "Project": "._store",
    "RequestRecord": "._app",
    "Store": "._store",
    "filter_hash": "._hashing",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
