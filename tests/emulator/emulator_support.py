"""Helpers for the emulator's tests: a thin raw-HTTP caller.

The tests talk to the emulator with a plain ``aiohttp.ClientSession`` (not
the package's client), so that they check the emulator on its own.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs
import orjson
from dcycle_async.testing import Emulator, Organization
from yarl import URL

__all__ = ["Api", "Reply", "auth_headers"]

LARGE_BODY = 1024 * 1024


def auth_headers(org: Organization) -> dict[str, str]:
    """``x-api-key`` and ``x-organization-id`` headers for an organisation."""
    return {"x-api-key": org.api_key, "x-organization-id": org.id}


@attrs.frozen
class Reply:
    """An answer: status, decoded JSON (None if empty or not JSON), headers, raw body."""

    status: int
    json: Any
    headers: Mapping[str, str]
    raw: bytes

    @property
    def detail(self) -> Any:
        """The ``detail`` of an error body."""
        return self.json["detail"]

    @property
    def locs(self) -> list[list[str | int]]:
        """The ``loc`` of every item of a validation (422 list) body."""
        return [item["loc"] for item in self.json["detail"]]


@attrs.define
class Api:
    """Sends requests to a running emulator as one organisation."""

    session: aiohttp.ClientSession
    emulator: Emulator
    org: Organization

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> Reply:
        """One request; ``path`` may carry a query string, sent exactly as written."""
        sent: dict[str, str] = auth_headers(self.org) if auth else {}
        sent.update(headers or {})
        body: bytes | str | io.BytesIO | None = data
        if json is not None:
            encoded = orjson.dumps(json)
            # aiohttp warns about raw bytes over 1 MiB: stream big bodies.
            body = io.BytesIO(encoded) if len(encoded) > LARGE_BODY else encoded
            sent.setdefault("Content-Type", "application/json")
        url = URL(self.emulator.url + path, encoded=True)
        async with self.session.request(method, url, data=body, headers=sent) as response:
            raw = await response.read()
            try:
                decoded = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                decoded = None
            return Reply(response.status, decoded, dict(response.headers), raw)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        """A GET."""
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> Reply:
        """A POST with a JSON body."""
        return await self.call("POST", path, json=json, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Reply:
        """A DELETE."""
        return await self.call("DELETE", path, **kwargs)
