"""DcycleClient: configuration at construction, lifecycle, secrets, public API."""

from __future__ import annotations

import gc
import logging
import pickle
from typing import Any

import aiohttp
import anyio
import dcycle_async
import pytest
from dcycle_async import ArrayStyle, DcycleClient, NotFoundError

from .conftest import API_KEY, ORG_ID, Reply, ScriptedServer, make_client

ENV_KEYS = ("DCYCLE_API_KEY", "DCYCLE_BEARER_TOKEN", "DCYCLE_ORG_ID", "DCYCLE_BASE_URL")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DCYCLE_* variable of the developer's shell leaks into a test."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


def test_public_names_match_all() -> None:
    """__all__ lists exactly the public names the package exports."""
    # pytest rewrites the package of a plugin and adds "@py_" helpers to it.
    public = {n for n in vars(dcycle_async) if not n.startswith(("_", "@"))}
    public -= {"testing", "cli"}  # subpackage and console module, imported on demand
    assert set(dcycle_async.__all__) == public | {"__version__"}
    for name in dcycle_async.__all__:
        assert getattr(dcycle_async, name) is not None
        obj = getattr(dcycle_async, name)
        if isinstance(obj, type) or callable(obj):
            assert obj.__doc__, f"{name} has no docstring"


def test_env_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """api_key, organization_id and base_url come from the environment when not given."""
    monkeypatch.setenv("DCYCLE_API_KEY", API_KEY)
    monkeypatch.setenv("DCYCLE_ORG_ID", ORG_ID.upper())
    monkeypatch.setenv("DCYCLE_BASE_URL", "https://eu.example.org/")
    client = DcycleClient()
    assert client.config.organization_id == ORG_ID
    assert client.config.base_url == "https://eu.example.org"
    assert client.config.api_key is not None
    assert client.config.api_key.reveal() == API_KEY


def test_explicit_arguments_win_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit bearer_token is used even when DCYCLE_API_KEY is set."""
    monkeypatch.setenv("DCYCLE_API_KEY", API_KEY)
    client = DcycleClient(bearer_token="tok", organization_id=ORG_ID)
    assert client.config.api_key is None
    assert client.config.auth_headers()["Authorization"] == "Bearer tok"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"organization_id": ORG_ID}, "DCYCLE_API_KEY"),
        ({"api_key": "k"}, "DCYCLE_ORG_ID"),
        ({"api_key": "k", "organization_id": "not-a-uuid"}, "must be a UUID"),
        ({"api_key": "k", "bearer_token": "t", "organization_id": ORG_ID}, "not both"),
        ({"api_key": "k", "organization_id": ORG_ID, "base_url": "ftp://x"}, "http"),
        ({"api_key": "k", "organization_id": ORG_ID, "base_url": "http://api.dcycle.io"}, "https"),
        ({"api_key": "k", "organization_id": ORG_ID, "base_url": "https://u:p@h"}, "credentials"),
        ({"api_key": "k", "organization_id": ORG_ID, "timeout": 0}, "timeout"),
        ({"api_key": "k", "organization_id": ORG_ID, "max_retries": -1}, "max_retries"),
        ({"api_key": "k", "organization_id": ORG_ID, "max_concurrency": 0}, "max_concurrency"),
        ({"api_key": "k\nX-Evil: 1", "organization_id": ORG_ID}, "control character"),
        ({"api_key": "k", "organization_id": ORG_ID, "array_style": "commas"}, "commas"),
    ],
)
def test_bad_configuration_fails_at_construction(kwargs: dict[str, Any], message: str) -> None:
    """Missing or malformed configuration is a ValueError saying what to set."""
    with pytest.raises(ValueError, match=message):
        DcycleClient(**kwargs)


def test_plain_http_allowed_for_loopback_or_when_asked() -> None:
    """http is fine on loopback, and elsewhere only with allow_insecure_http."""
    DcycleClient("k", ORG_ID, base_url="http://127.0.0.1:8080")
    DcycleClient("k", ORG_ID, base_url="http://localhost:8080")
    DcycleClient("k", ORG_ID, base_url="http://[::1]:8080")
    client = DcycleClient("k", ORG_ID, base_url="http://10.0.0.5", allow_insecure_http=True)
    assert client.config.base_url == "http://10.0.0.5"


def test_options_are_kept() -> None:
    """timeout, retries, concurrency and array style end up in the config and policy."""
    client = DcycleClient(
        "k", ORG_ID, timeout=5, max_retries=0, max_concurrency=2, array_style="brackets"
    )
    assert client.config.timeout == 5.0
    assert client.retry_policy.max_retries == 0
    assert client.config.max_concurrency == 2
    assert client.config.array_style is ArrayStyle.BRACKETS


def test_session_must_be_an_aiohttp_session() -> None:
    """Anything but an aiohttp.ClientSession as session= is a TypeError."""
    with pytest.raises(TypeError, match=r"aiohttp\.ClientSession"):
        DcycleClient("k", ORG_ID, session=object())  # type: ignore[arg-type]


def test_secrets_never_in_repr() -> None:
    """Neither the API key nor the bearer token shows in repr or str of client or config."""
    options: list[dict[str, Any]] = [{"api_key": API_KEY}, {"bearer_token": API_KEY}]
    for kwargs in options:
        client = DcycleClient(organization_id=ORG_ID, **kwargs)
        for text in (repr(client), str(client), repr(client.config), str(client.config)):
            assert API_KEY not in text
        assert "**" in repr(client.config)


@pytest.mark.anyio
async def test_secrets_never_in_errors_or_logs(
    scripted: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Errors (also pickled), their causes and log records never hold the key."""
    scripted.default = Reply(status=401, body=b'{"detail": "Invalid API key", "code": "X"}')
    with caplog.at_level(logging.DEBUG):
        async with make_client(scripted.url) as client:
            with pytest.raises(dcycle_async.BulkOperationError) as info:
                await client.transports.bulk_delete([ORG_ID])
    exc = info.value
    texts = [str(exc), repr(exc), str(exc.__cause__), repr(exc.__cause__), repr(exc.report)]
    texts.append(str(pickle.loads(pickle.dumps(exc.__cause__))))
    texts.extend(r.getMessage() for r in caplog.records)
    assert all(API_KEY not in t for t in texts)


@pytest.mark.anyio
async def test_aclose_is_idempotent_and_closes_the_session(scripted: ScriptedServer) -> None:
    """aclose() twice is fine; requests after it are refused clearly."""
    client = make_client(scripted.url)
    await client._http.request("GET", "/v1/transports")
    session = client._http._session
    assert session is not None
    await client.aclose()
    await client.aclose()
    assert session.closed
    assert client.closed
    with pytest.raises(RuntimeError, match="closed"):
        await client._http.request("GET", "/v1/transports")


@pytest.mark.anyio
async def test_unused_client_needs_no_close() -> None:
    """A client that never sent a request owns no session, so nothing leaks."""
    client = make_client("http://127.0.0.1:1")
    del client
    gc.collect()


@pytest.mark.anyio
async def test_caller_owned_session_is_used_and_left_open(scripted: ScriptedServer) -> None:
    """A session passed in is used for requests and not closed by the client."""
    async with aiohttp.ClientSession() as session:
        async with make_client(scripted.url, session=session) as client:
            await client._http.request("GET", "/v1/transports")
        assert not session.closed
    assert len(scripted.seen) == 1


@pytest.mark.anyio
async def test_error_inside_async_with_closes_the_session(scripted: ScriptedServer) -> None:
    """An exception leaving the async with block still closes the session."""
    scripted.default = Reply(status=404, body=b'{"detail": "Not Found"}')
    with pytest.raises(NotFoundError):
        async with make_client(scripted.url) as client:
            await client._http.request("GET", "/v1/nowhere")
    assert client._http._session is None


@pytest.mark.anyio
async def test_cancellation_mid_request_leaves_nothing_open(scripted: ScriptedServer) -> None:
    """Cancelling a request in flight and leaving the block closes everything."""
    scripted.default = Reply(delay=5)
    with anyio.move_on_after(0.1) as scope:
        async with make_client(scripted.url) as client:
            await client.transports.bulk_delete([ORG_ID])
    assert scope.cancelled_caught
    assert client.closed


def test_retry_policy_and_max_retries_agree_or_fail() -> None:
    """A retry_policy sets max_retries; a contradicting max_retries is refused at construction."""
    policy = dcycle_async.RetryPolicy(max_retries=2)
    client = DcycleClient(API_KEY, ORG_ID, retry_policy=policy)
    assert client.config.max_retries == 2
    assert client.retry_policy is policy
    assert DcycleClient(API_KEY, ORG_ID, retry_policy=policy, max_retries=2).retry_policy is policy
    assert DcycleClient(API_KEY, ORG_ID).retry_policy.max_retries == 3
    with pytest.raises(ValueError, match=r"max_retries=7 disagrees"):
        DcycleClient(API_KEY, ORG_ID, retry_policy=policy, max_retries=7)
