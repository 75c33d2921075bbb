"""A minimal, fast stand-in for the API's bulk endpoints (run as its own process).

``python -m benchmarks.fast_server --port 0 [--latency S]`` prints
``READY <url>`` once listening, then serves until SIGTERM / SIGINT:

- ``POST /v1/projects/{id}/entities/link``  -> ``{"created": n, "skipped": 0}``
- ``POST /v1/projects/{id}/entities/unlink`` -> ``{"deleted": n}``
- ``POST /v1/{transports,vehicles}/bulk-delete`` -> the 5-field summary,
  echoing every id as a success.

Bodies are parsed and answers encoded with orjson; nothing is checked or
stored, so the server costs as little as an aiohttp.web server can and the
client under test is the bottleneck.  ``--latency S`` makes every answer
leave S seconds after its request arrived (reading the body and encoding
the answer happen within those S seconds), as a server with a fixed
response time would.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

__all__ = ["build_app", "main"]

_JSON = {"Content-Type": "application/json"}
_MAX_BODY = 64 * 1024 * 1024
Handler = Callable[[web.Request], Awaitable[web.Response]]


def build_app(latency: float = 0.0) -> web.Application:
    """The responder's aiohttp application."""

    async def answer(request: web.Request, make: Callable[[Any], dict[str, Any]]) -> web.Response:
        started = asyncio.get_running_loop().time()
        body = orjson.loads(await request.read())
        payload = orjson.dumps(make(body))
        if latency > 0:
            # The answer leaves ``latency`` seconds after the request arrived:
            # the server's own reading and encoding happen within that time.
            await asyncio.sleep(max(0.0, started + latency - asyncio.get_running_loop().time()))
        return web.Response(body=payload, headers=_JSON)

    async def link(request: web.Request) -> web.Response:
        return await answer(request, lambda b: {"created": len(b["entity_ids"]), "skipped": 0})

    async def unlink(request: web.Request) -> web.Response:
        return await answer(request, lambda b: {"deleted": len(b["entity_ids"])})

    def bulk_delete(key: str) -> Handler:
        def summary(body: Any) -> dict[str, Any]:
            ids = body[key]
            return {
                "success_count": len(ids),
                "success_ids": ids,
                "failed_count": 0,
                "failed_ids": [],
                "message": f"{len(ids)} deleted",
            }

        async def handler(request: web.Request) -> web.Response:
            return await answer(request, summary)

        return handler

    app = web.Application(client_max_size=_MAX_BODY)
    app.router.add_post("/v1/projects/{project_id}/entities/link", link)
    app.router.add_post("/v1/projects/{project_id}/entities/unlink", unlink)
    app.router.add_post("/v1/transports/bulk-delete", bulk_delete("transport_ids"))
    app.router.add_post("/v1/vehicles/bulk-delete", bulk_delete("vehicle_ids"))
    return app


async def _serve(host: str, port: int, latency: float) -> None:
    runner = web.AppRunner(build_app(latency), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=1024)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"READY http://{host}:{bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fast_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.host, args.port, args.latency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
