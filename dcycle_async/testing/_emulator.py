"""``Emulator``: the fake Dcycle API, its options, its server and its stats."""

from __future__ import annotations

import ipaddress
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final, Literal

import attrs
from aiohttp import web

from ._app import ApiApp, RequestRecord, Stats
from ._faults import FaultSet
from ._store import Organization, Store

__all__ = ["Emulator"]

DEFAULT_HOST: Final = "127.0.0.1"
# On stop, requests still in flight (a slow body, a long fault delay) get
# this long to finish before they are cancelled.
SHUTDOWN_TIMEOUT: Final = 0.25
_UNKNOWN_LINK_MODES: Final = ("skip", "not_found")


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return DEFAULT_HOST
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"[{host}]" if address.version == 6 else host


@attrs.define(kw_only=True)
class Emulator:
    """An in-process fake of the Dcycle API, served by aiohttp on a real socket.

    Attributes:
        latency: seconds every request waits before it is served.
        filter_hash_covers_data: when True a ``filter_hash`` also changes
            whenever the organisation's records of that resource change
            (a delete or a seed), so a stale hash gets 409.
        unknown_link_ids: what link does with ids that do not exist in the
            organisation: ``"skip"`` counts them as skipped, ``"not_found"``
            answers 404 ``NOT_FOUND`` and links nothing.
        seed: seeds every random choice (ids, records, ``rate`` faults).
        cancel_on_disconnect: stop serving a request as soon as its client
            disconnects (aiohttp's handler cancellation).  By default
            (False) it is served to the end, as a real server does: a
            request the client gave up on (a read timeout during a
            ``latency`` fault) is still applied and counts in flight until
            it finishes.  With True it is not applied (unless it already
            was) and leaves the in-flight count as soon as the server
            notices the disconnect, so ``peak_in_flight`` counts only what
            clients wait for.  Read by ``start()``.
        record_requests: keep a ``RequestRecord`` per request (switch off
            for very long benchmark runs).
        store: the data: organisations, projects, records, links.
        faults: the faults to inject.

    The options can be changed while serving; the next request sees them.
    """

    latency: float = 0.0
    filter_hash_covers_data: bool = False
    unknown_link_ids: Literal["skip", "not_found"] = attrs.field(
        default="skip", validator=attrs.validators.in_(_UNKNOWN_LINK_MODES)
    )
    seed: int | None = None
    record_requests: bool = True
    cancel_on_disconnect: bool = False
    store: Store = attrs.field(init=False)
    faults: FaultSet = attrs.field(init=False)
    _stats: Stats = attrs.field(init=False, factory=Stats)
    _runner: web.AppRunner | None = attrs.field(init=False, default=None)
    _url: str | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        self.store = Store(rng=random.Random(self.seed))
        fault_seed = None if self.seed is None else f"faults-{self.seed}"
        self.faults = FaultSet(rng=random.Random(fault_seed))

    # --- data --------------------------------------------------------------

    def create_organization(
        self,
        org_id: str | None = None,
        api_key: str | None = None,
        bearer_token: str | None = None,
        name: str | None = None,
    ) -> Organization:
        """A new organisation with its credentials (random unless given)."""
        return self.store.create_organization(org_id, api_key, bearer_token, name)

    # --- stats ---------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request served so far (since the last ``reset_stats``)."""
        return self._stats.requests

    @property
    def in_flight(self) -> int:
        """Requests being served right now."""
        return self._stats.in_flight

    @property
    def peak_in_flight(self) -> int:
        """The most requests that were ever in flight at once."""
        return self._stats.peak_in_flight

    @property
    def open_connections(self) -> int:
        """Client connections open right now (0 when not serving).

        A connection counts until the server has finished with it, so after
        a client closes its sockets this drops to 0 within a few loop turns.
        """
        server = self._runner.server if self._runner is not None else None
        return 0 if server is None else len(server.connections)

    def reset_stats(self) -> None:
        """Forget the request records and restart the peak count."""
        self._stats.reset()

    # --- serving -------------------------------------------------------------

    def make_app(self) -> web.Application:
        """A new aiohttp application serving this emulator's store."""
        return ApiApp(
            settings=self, store=self.store, faults=self.faults, stats=self._stats
        ).make_app()

    @property
    def url(self) -> str:
        """The base URL while serving, e.g. ``http://127.0.0.1:54321``."""
        if self._url is None:
            raise RuntimeError("the emulator is not serving: call start() or use serve()")
        return self._url

    async def start(self, host: str = DEFAULT_HOST, port: int = 0) -> str:
        """Listen on ``host:port`` (0: a free port); the base URL."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already serving")
        runner = web.AppRunner(
            self.make_app(),
            handle_signals=False,
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            handler_cancellation=self.cancel_on_disconnect,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        bound_port = runner.addresses[0][1]
        self._runner = runner
        self._url = f"http://{_url_host(host)}:{bound_port}"
        return self._url

    async def stop(self) -> None:
        """Stop listening and close every connection (safe to call twice)."""
        runner, self._runner, self._url = self._runner, None, None
        if runner is not None:
            await runner.cleanup()

    @asynccontextmanager
    async def serve(self, host: str = DEFAULT_HOST, port: int = 0) -> AsyncIterator[str]:
        """Serve for the duration of an ``async with``; yields the base URL."""
        url = await self.start(host, port)
        try:
            yield url
        finally:
            await self.stop()
