"""``DcycleClient``: configuration, lifecycle and the resource attributes."""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Self

import aiohttp

from ._config import (
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientConfig,
)
from ._enums import ArrayStyle
from ._http import HTTPSession
from ._resources import ProjectsResource, TransportsResource, VehiclesResource
from ._retry import RetryPolicy

__all__ = ["DcycleClient"]


class DcycleClient:
    """An async client for the Dcycle API's bulk endpoints.

    Use it as an async context manager (or call ``await client.aclose()``)::

        async with DcycleClient() as client:          # DCYCLE_API_KEY, DCYCLE_ORG_ID
            report = await client.transports.bulk_delete(ids)

    Configuration errors (no credentials, both kinds of credentials, a
    missing or malformed organisation id, a bad base URL) raise at
    construction, before any request.  One client is meant to be shared by
    a whole application: ``max_concurrency`` caps the requests in flight
    across every operation running on it.

    Args:
        api_key: sent as ``x-api-key``; default ``DCYCLE_API_KEY``.
        organization_id: the organisation's UUID; default ``DCYCLE_ORG_ID``.
        bearer_token: instead of ``api_key``, sent as ``Authorization: Bearer``
            (default ``DCYCLE_BEARER_TOKEN``).
        base_url: default ``DCYCLE_BASE_URL``, else ``https://api.dcycle.io``.
        timeout: seconds per attempt.
        max_retries: retries after the first attempt (0 = no retry; default 3).
        max_concurrency: client-wide cap on requests in flight.
        session: an ``aiohttp.ClientSession`` owned by the caller: used, never
            closed by this client.
        retry_policy: a full ``RetryPolicy``; its max_retries is the client's (passing
            a different ``max_retries`` too is a ValueError).
        array_style: how multi-valued filters are written in query strings.
        allow_insecure_http: permit plain http to a non-loopback host.
    """

    __slots__ = ("_config", "_http", "projects", "transports", "vehicles")

    projects: ProjectsResource
    """Entity links of projects: ``link``, ``unlink``, ``link_by_filters``."""
    transports: TransportsResource
    """Transport routes: ``bulk_delete``, ``list``, ``iter``, ``bulk_delete_by_filters``, ..."""
    vehicles: VehiclesResource
    """Vehicles: ``bulk_delete``, ``list``, ``iter``, ``bulk_delete_by_filters``, ..."""

    def __init__(
        self,
        api_key: str | None = None,
        organization_id: str | uuid.UUID | None = None,
        *,
        bearer_token: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        session: aiohttp.ClientSession | None = None,
        retry_policy: RetryPolicy | None = None,
        array_style: ArrayStyle | str = ArrayStyle.REPEAT,
        allow_insecure_http: bool = False,
    ) -> None:
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise TypeError(f"session must be an aiohttp.ClientSession, got {type(session)!r}")
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise TypeError(f"retry_policy must be a RetryPolicy, got {type(retry_policy)!r}")
        if max_retries is None:
            max_retries = DEFAULT_MAX_RETRIES if retry_policy is None else retry_policy.max_retries
        elif retry_policy is not None and retry_policy.max_retries != max_retries:
            # Two answers to one question: refuse rather than pick one silently.
            raise ValueError(
                f"max_retries={max_retries!r} disagrees with retry_policy.max_retries="
                f"{retry_policy.max_retries!r}: pass only one of them"
            )
        self._config = ClientConfig.create(
            api_key,
            organization_id,
            bearer_token=bearer_token,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            array_style=array_style,
            allow_insecure_http=allow_insecure_http,
        )
        policy = retry_policy if retry_policy is not None else RetryPolicy(max_retries=max_retries)
        self._http = HTTPSession(self._config, policy, session=session)
        self.projects = ProjectsResource(self._http)
        self.transports = TransportsResource(self._http)
        self.vehicles = VehiclesResource(self._http)

    @property
    def config(self) -> ClientConfig:
        """The validated configuration (credentials shown redacted)."""
        return self._config

    @property
    def retry_policy(self) -> RetryPolicy:
        """The retry policy in force."""
        return self._http.policy

    @property
    def closed(self) -> bool:
        """True once the client has been closed."""
        return self._http.closed

    async def aclose(self) -> None:
        """Close the client's HTTP session (idempotent; a caller's session is left open)."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        auth = "api_key" if self._config.api_key is not None else "bearer_token"
        return (
            f"DcycleClient(base_url={self._config.base_url!r},"
            f" organization_id={self._config.organization_id!r}, auth={auth})"
        )
