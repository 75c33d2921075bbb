"""The session: one ``request()`` with headers, JSON codec, retries and error mapping.

It knows nothing of ids, chunks or reports.  Every aiohttp / OS exception is
converted to the package's exception tree here, and only here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import aiohttp
import anyio
import attrs
import orjson
from aiohttp.abc import AbstractStreamWriter

from ._config import ClientConfig
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
)
from ._retry import RetryPolicy, parse_retry_after
from ._version import __version__

__all__ = ["USER_AGENT", "HTTPSession", "Response", "error_from_response"]

logger = logging.getLogger("dcycle_async")

USER_AGENT: Final = f"dcycle-async/{__version__} (+aiohttp/{aiohttp.__version__})"

_STATUS_ERRORS: Final[Mapping[int, type[APIError]]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
# A status whose failed attempt may still have been applied by the server.
_NOT_APPLIED_STATUSES: Final = frozenset({429})
# Bodies above aiohttp's raw-bytes threshold (a 100,000-id delete is ~4 MB)
# go as a _LargeBody; smaller ones go as plain bytes.
_LARGE_BODY: Final = 1 << 20
# The first slice of a _LargeBody, which aiohttp joins with the headers.
_HEAD_SLICE: Final = 64 * 1024

Params = Sequence[tuple[str, str]] | Mapping[str, str]


@attrs.frozen
class Response:
    """A successful (2xx) answer and what it took to get it.

    Attributes:
        status: the final HTTP status.
        data: the decoded JSON body (None for an empty body).
        attempts: how many attempts were made (1 = no retry).
        unknown_outcome: True when an earlier attempt failed in a way that
            leaves open whether the server applied it (dropped connection,
            timeout, 5xx, truncated body): the answer then describes only
            the last attempt.
    """

    status: int
    data: Any
    attempts: int
    unknown_outcome: bool


class _JSONBody(aiohttp.BytesPayload):
    """An encoded JSON body up to 1 MiB, sent as is with its Content-Type."""

    def __init__(self, value: bytes) -> None:
        super().__init__(value, content_type="application/json")


class _LargeBody(aiohttp.Payload):
    """A large, already encoded JSON body, written straight from memory.

    aiohttp warns (ResourceWarning) about raw ``bytes`` bodies over 1 MiB, and
    its suggested io.BytesIO path reads through a thread pool.  The bytes are
    already in memory: the headers go out with a small first slice (aiohttp
    joins those two), the rest as one write of a memoryview; the transport
    sends what the socket takes and buffers the remainder, then sends it as
    the socket drains.  Writing in 256 KiB slices instead cost one
    event-loop iteration each (the writer drains after every slice), about
    16 per 4 MB body, each one behind whatever else the loop runs.  Bytes
    are immutable: the same body is reused by every retry.
    """

    _value: bytes
    _autoclose = True

    def __init__(self, value: bytes) -> None:
        super().__init__(value, content_type="application/json")
        self._size = len(value)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The body as text."""
        return self._value.decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        """Write the whole body."""
        view = memoryview(self._value)
        await writer.write(view[:_HEAD_SLICE])
        await writer.write(view[_HEAD_SLICE:])


def _decode_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def error_from_response(
    status: int,
    raw: bytes,
    *,
    method: str = "",
    url: str = "",
    retry_after: float | None = None,
    overrides: Mapping[int, type[APIError]] | None = None,
) -> APIError:
    """Build the most specific ``APIError`` for a non-2xx answer.

    Accepts the three documented body shapes (``{"detail", "code"}``,
    ``{"detail"}`` and FastAPI's ``{"detail": [{"loc", "msg", "type"}]}``)
    and any non-JSON body (kept as text on the error).
    """
    body = raw.decode("utf-8", errors="replace")
    data = _decode_json(raw)
    code: str | None = None
    detail = ""
    items: list[Mapping[str, Any]] = []
    if isinstance(data, dict):
        raw_code = data.get("code")
        code = raw_code if isinstance(raw_code, str) else None
        raw_detail = data.get("detail")
        if isinstance(raw_detail, str):
            detail = raw_detail
        elif isinstance(raw_detail, list):
            items = [item for item in raw_detail if isinstance(item, dict)]
            detail = "; ".join(_describe_validation_item(item) for item in items)
        elif raw_detail is not None:
            detail = str(raw_detail)
        elif isinstance(data.get("message"), str):
            detail = data["message"]
    cls = (overrides or {}).get(status) or _STATUS_ERRORS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else APIError
    return cls(
        status,
        code,
        detail,
        body,
        errors=items,
        method=method,
        url=url,
        retry_after=retry_after,
    )


def _describe_validation_item(item: Mapping[str, Any]) -> str:
    loc = item.get("loc")
    where = ".".join(str(part) for part in loc) if isinstance(loc, list | tuple) else ""
    msg = str(item.get("msg", "invalid"))
    return f"{where}: {msg}" if where else msg


@attrs.define
class HTTPSession:
    """Sends requests to the API: one per ``request()`` call, retried per policy.

    The client-wide limiter is held for the duration of each attempt (not
    during backoff sleeps), so ``max_concurrency`` caps the requests in
    flight across every operation sharing the client.
    """

    config: ClientConfig
    policy: RetryPolicy
    _session: aiohttp.ClientSession | None = attrs.field(default=None, alias="session")
    _owns_session: bool = attrs.field(init=False, default=False)
    # An asyncio.Semaphore: anyio's CapacityLimiter costs ~8 us per request in
    # checkpoints and borrower bookkeeping (aiohttp ties us to asyncio anyway).
    _limiter: asyncio.Semaphore | None = attrs.field(init=False, default=None)
    _headers: dict[str, str] = attrs.field(init=False, factory=dict, repr=False)
    # What each request passes, without and with a JSON body: None on the
    # client's own session (its default headers are _headers; the payload
    # carries the Content-Type); on a caller's session, whose defaults are
    # the caller's, every header explicitly.
    _plain_headers: dict[str, str] | None = attrs.field(init=False, default=None, repr=False)
    _json_headers: dict[str, str] | None = attrs.field(init=False, default=None, repr=False)
    _secret_spellings: tuple[bytes, ...] = attrs.field(init=False, default=(), repr=False)
    _timeout: aiohttp.ClientTimeout = attrs.field(init=False)
    _closed: bool = attrs.field(init=False, default=False)

    def __attrs_post_init__(self) -> None:
        self._owns_session = self._session is None
        self._headers = {
            **self.config.auth_headers(),
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if not self._owns_session:
            self._plain_headers = self._headers
            self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._secret_spellings = self.config.secret_spellings()
        self._timeout = aiohttp.ClientTimeout(total=self.config.timeout)

    @property
    def closed(self) -> bool:
        """True once ``aclose()`` has run."""
        return self._closed

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the client is closed; create a new DcycleClient")
        if self._session is None:
            # Created lazily, inside the running loop, so that constructing a
            # client never creates a session that could be left unclosed.
            connector = aiohttp.TCPConnector(limit=self.config.max_concurrency, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                # The API authenticates by header: cookies a server or proxy
                # sets are neither needed nor sent back.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    def _get_limiter(self) -> asyncio.Semaphore:
        if self._limiter is None:
            self._limiter = asyncio.Semaphore(self.config.max_concurrency)
        return self._limiter

    async def aclose(self) -> None:
        """Close the aiohttp session if this object created it (idempotent)."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            # Shielded: a cancelled caller must not leave the session half-closed
            # (that is an "Unclosed client session" warning later).
            with anyio.CancelScope(shield=True):
                await session.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: Params | None = None,
        error_overrides: Mapping[int, type[APIError]] | None = None,
        decode: Callable[[bytes], Any] | None = None,
    ) -> Response:
        """Send one request, retrying per the policy; return the 2xx answer.

        ``path`` is appended to the base URL as is: callers validate and
        build it (ids in paths are checked UUIDs).  The JSON body (``json``,
        or ``content`` already encoded) is encoded once, not once per
        attempt.  ``decode`` turns a 2xx body into ``Response.data``
        (default ``orjson.loads``); it raises ``orjson.JSONDecodeError`` for
        a body that is not JSON.  Raises the most specific ``APIError``, or
        ``APIConnectionError`` / ``APITimeoutError``, once retries are
        exhausted or for a status that is never retried.
        """
        session = self._get_session()
        limiter = self._get_limiter()
        url = self.config.base_url + path
        if content is None and json is not None:
            content = orjson.dumps(json)
        # The body is handed to aiohttp as a ready payload that carries its
        # own Content-Type; on the client's own session the other headers are
        # the session's defaults (merged by aiohttp, not converted from a
        # dict on every request).
        body: aiohttp.Payload | None = None
        headers = self._plain_headers
        if content is not None:
            body = _JSONBody(content) if len(content) <= _LARGE_BODY else _LargeBody(content)
            headers = self._json_headers
        loads = orjson.loads if decode is None else decode
        unknown_outcome = False
        attempt = 0
        while True:
            attempt += 1
            try:
                async with limiter:
                    status, raw, retry_after_header = await self._send(
                        session, method, url, body, headers, params
                    )
                if 200 <= status < 300:
                    if not raw:
                        return Response(status, None, attempt, unknown_outcome)
                    try:
                        data = loads(raw)
                    except orjson.JSONDecodeError:
                        raise InvalidResponseError(
                            status,
                            None,
                            "the response body is not valid JSON (cut short?)",
                            self._redact(raw)[:1000].decode("utf-8", errors="replace"),
                            method=method,
                            url=url,
                        ) from None
                    return Response(status, data, attempt, unknown_outcome)
                raise error_from_response(
                    status,
                    self._redact(raw),
                    method=method,
                    url=url,
                    retry_after=parse_retry_after(retry_after_header),
                    overrides=error_overrides,
                )
            except APIError as exc:
                retryable = isinstance(
                    exc, InvalidResponseError
                ) or self.policy.is_retryable_status(exc.status)
                if retryable and exc.status not in _NOT_APPLIED_STATUSES:
                    unknown_outcome = True
                delay = self.policy.delay(attempt, exc.retry_after) if retryable else None
                if delay is None:
                    exc.attempts = attempt
                    exc.unknown_outcome = unknown_outcome
                    raise
                reason = f"HTTP {exc.status}"
            except APIConnectionError as exc:
                if not isinstance(exc.__cause__, aiohttp.ClientConnectorError):
                    # Only a failed connect proves the request never left.
                    unknown_outcome = True
                delay = self.policy.delay(attempt)
                if delay is None:
                    exc.attempts = attempt
                    exc.unknown_outcome = unknown_outcome
                    raise
                reason = type(exc.__cause__).__name__
            logger.warning(
                "retrying %s %s after %s (attempt %d of %d) in %.2fs",
                method,
                path,
                reason,
                attempt,
                self.policy.max_retries + 1,
                delay,
            )
            await anyio.sleep(delay)

    def _redact(self, raw: bytes) -> bytes:
        """An error body with any echo of the credential blanked out.

        Proxies' error pages and validation errors (FastAPI's ``input``)
        may repeat request headers; the body goes into exception messages.
        """
        for spelling in self._secret_spellings:
            if spelling in raw:
                raw = raw.replace(spelling, b"**********")
        return raw

    async def _send(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        body: aiohttp.Payload | None,
        headers: Mapping[str, str] | None,
        params: Params | None,
    ) -> tuple[int, bytes, str | None]:
        """One attempt; the single place where aiohttp errors are converted."""
        try:
            # Redirects are not followed: they would carry the credential
            # headers to whatever host or path the Location names.
            async with session.request(
                method,
                url,
                data=body,
                headers=headers,
                params=params,
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                raw = await resp.read()
                return resp.status, raw, resp.headers.get("Retry-After")
        except TimeoutError as exc:
            raise APITimeoutError(
                f"no answer within {self.config.timeout:g}s for {method} {url}"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise APIConnectionError(
                f"connection failed for {method} {url}: {type(exc).__name__}: {exc}"
            ) from exc
