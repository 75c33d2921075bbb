"""Shared fixtures: the anyio backend, retry sleeps off, a scripted HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import dcycle_async
import pytest
from aiohttp import web

ORG_ID = "3f1e2d4c-5b6a-4789-9abc-def012345678"
API_KEY = "sk_live_SECRET_test_key_4242"


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio (the client is asyncio-first)."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_retry_sleeps() -> Iterator[None]:
    """Backoff sleeps are switched off in every test; attempts still count."""
    dcycle_async.set_testing(True)
    yield
    dcycle_async.set_testing(False)


@attrs.define
class Reply:
    """One scripted answer: a status, a body and headers, or a dropped connection."""

    status: int = 200
    body: bytes | str | None = b"{}"
    headers: dict[str, str] = attrs.Factory(dict)
    drop: bool = False
    delay: float = 0.0


@attrs.define
class Seen:
    """One request the scripted server received."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


@attrs.define
class ScriptedServer:
    """A real aiohttp server on 127.0.0.1 answering from a script.

    Replies are consumed in order; when the script is empty, ``default``
    answers.
    """

    url: str = ""
    script: list[Reply] = attrs.Factory(list)
    default: Reply = attrs.Factory(Reply)
    seen: list[Seen] = attrs.Factory(list)

    def push(self, *replies: Reply) -> None:
        """Queue replies for the next requests."""
        self.script.extend(replies)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(
            Seen(
                request.method,
                request.path,
                list(request.query.items()),
                dict(request.headers),
                body,
            )
        )
        reply = self.script.pop(0) if self.script else self.default
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.drop:
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPInternalServerError()  # never delivered: the socket is gone
        payload = reply.body.encode() if isinstance(reply.body, str) else reply.body
        return web.Response(
            status=reply.status,
            body=payload,
            headers={"Content-Type": "application/json", **reply.headers},
        )


@asynccontextmanager
async def serve_scripted(host: str = "127.0.0.1") -> AsyncIterator[ScriptedServer]:
    """Run a ``ScriptedServer`` on a random loopback port; its URL names ``host``."""
    server = ScriptedServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://{host}:{runner.addresses[0][1]}"
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedServer]:
    """A scripted HTTP server on a random loopback port."""
    async with serve_scripted() as server:
        yield server


def make_client(url: str, **kwargs: Any) -> dcycle_async.DcycleClient:
    """A client with the test credentials, bound to ``url``."""
    kwargs.setdefault("api_key", API_KEY)
    kwargs.setdefault("organization_id", ORG_ID)
    return dcycle_async.DcycleClient(base_url=url, **kwargs)
