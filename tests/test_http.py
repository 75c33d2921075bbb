"""The session over real sockets: headers, error mapping, retries, Retry-After."""

from __future__ import annotations

import contextlib
import email.utils
import logging
import time
from typing import Any

import aiohttp
import dcycle_async
import pytest
from dcycle_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    FilterHashMismatchError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    UnprocessableEntityError,
)
from dcycle_async._http import USER_AGENT, error_from_response
from dcycle_async._retry import parse_retry_after

from .conftest import API_KEY, ORG_ID, Reply, ScriptedServer, make_client

pytestmark = pytest.mark.anyio

LINK = "/v1/projects/b7f2a1c3-4d5e-4f7a-8b9c-0d1e2f3a4b5c/entities/link"


async def request(server: ScriptedServer, **kwargs: Any) -> Any:
    """One POST through a fresh client; returns the Response."""
    async with make_client(server.url, **kwargs) as client:
        return await client._http.request("POST", LINK, json={"a": [1, 2]})


async def test_headers_body_and_user_agent(scripted: ScriptedServer) -> None:
    """x-api-key, x-organization-id, JSON content type and a User-Agent are sent."""
    scripted.push(Reply(body=b'{"created": 1, "skipped": 0}'))
    response = await request(scripted)
    assert response.data == {"created": 1, "skipped": 0}
    assert response.attempts == 1
    seen = scripted.seen[0]
    assert seen.headers["x-api-key"] == API_KEY
    assert seen.headers["x-organization-id"] == ORG_ID
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith(f"dcycle-async/{dcycle_async.__version__}")
    assert seen.body == b'{"a":[1,2]}'
    assert "Authorization" not in seen.headers


@pytest.mark.parametrize("own_session", [True, False], ids=["own-session", "caller-session"])
async def test_same_headers_on_own_and_caller_sessions(
    scripted: ScriptedServer, own_session: bool
) -> None:
    """Both session kinds send the credentials, User-Agent and JSON type (GET: no type)."""
    async with contextlib.AsyncExitStack() as stack:
        kwargs: dict[str, Any] = {}
        if not own_session:
            kwargs["session"] = await stack.enter_async_context(aiohttp.ClientSession())
        client = await stack.enter_async_context(make_client(scripted.url, **kwargs))
        await client._http.request("POST", LINK, json={"a": 1})
        await client._http.request("GET", "/v1/transports")
    post, get = scripted.seen
    for seen in (post, get):
        assert seen.headers["x-api-key"] == API_KEY
        assert seen.headers["x-organization-id"] == ORG_ID
        assert seen.headers["User-Agent"] == USER_AGENT
        assert seen.headers["Accept"] == "application/json"
    assert post.headers["Content-Type"] == "application/json"
    assert post.body == b'{"a":1}'
    assert "Content-Type" not in get.headers


async def test_caller_session_defaults_do_not_override_the_json_content_type(
    scripted: ScriptedServer,
) -> None:
    """A caller's session with its own default Content-Type still sends JSON as JSON."""
    async with (
        aiohttp.ClientSession(headers={"Content-Type": "text/plain"}) as session,
        make_client(scripted.url, session=session) as client,
    ):
        await client._http.request("POST", LINK, json={"a": 1})
    assert scripted.seen[0].headers["Content-Type"] == "application/json"


async def test_cookies_set_by_the_server_are_not_sent_back(scripted: ScriptedServer) -> None:
    """The client's own session keeps no cookies: the API authenticates by header."""
    scripted.push(Reply(headers={"Set-Cookie": "session=abc; Path=/"}))
    # By host name: aiohttp's default jar ignores cookies from IP addresses.
    async with make_client(scripted.url.replace("127.0.0.1", "localhost")) as client:
        await client._http.request("GET", "/v1/transports")
        await client._http.request("GET", "/v1/transports")
    assert "Cookie" not in scripted.seen[1].headers


async def test_bearer_token_is_sent_as_authorization(scripted: ScriptedServer) -> None:
    """A bearer token goes into Authorization: Bearer, with no x-api-key."""
    await request(scripted, api_key=None, bearer_token="jwt.token.value")
    seen = scripted.seen[0]
    assert seen.headers["Authorization"] == "Bearer jwt.token.value"
    assert "x-api-key" not in seen.headers


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, APIError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
    ],
)
async def test_non_retried_statuses_map_to_their_class(
    scripted: ScriptedServer, status: int, cls: type[APIError]
) -> None:
    """400/401/403/404/409/422 raise their specific class after exactly one attempt."""
    scripted.default = Reply(status=status, body=b'{"detail": "nope", "code": "SOME_CODE"}')
    with pytest.raises(cls) as info:
        await request(scripted)
    assert type(info.value) is cls
    assert info.value.status == status
    assert info.value.code == "SOME_CODE"
    assert info.value.detail == "nope"
    assert info.value.attempts == 1
    assert len(scripted.seen) == 1


@pytest.mark.parametrize(("status", "cls"), [(429, RateLimitError), (500, ServerError),
                                             (502, ServerError), (503, ServerError),
                                             (504, ServerError)])  # fmt: skip
async def test_retried_statuses_give_up_after_max_retries(
    scripted: ScriptedServer, status: int, cls: type[APIError]
) -> None:
    """429 and 5xx are retried max_retries times, then raised."""
    scripted.default = Reply(status=status, body=b'{"detail": "busy"}')
    with pytest.raises(cls) as info:
        await request(scripted, max_retries=2)
    assert info.value.attempts == 3
    assert len(scripted.seen) == 3


async def test_retry_then_success_reports_attempts(scripted: ScriptedServer) -> None:
    """A 503 then a 200 succeeds with attempts == 2 and an unknown earlier outcome."""
    scripted.push(Reply(status=503), Reply(body=b'{"ok": true}'))
    response = await request(scripted)
    assert response.attempts == 2
    assert response.unknown_outcome is True


async def test_429_retry_is_not_an_unknown_outcome(scripted: ScriptedServer) -> None:
    """A 429 was not applied, so retrying after it leaves no doubt."""
    scripted.push(Reply(status=429, headers={"Retry-After": "1"}), Reply(body=b"{}"))
    response = await request(scripted)
    assert response.attempts == 2
    assert response.unknown_outcome is False


async def test_max_retries_zero_means_one_attempt(scripted: ScriptedServer) -> None:
    """With max_retries=0 a 503 is raised at once."""
    scripted.default = Reply(status=503)
    with pytest.raises(ServerError):
        await request(scripted, max_retries=0)
    assert len(scripted.seen) == 1


async def test_retry_after_beyond_ceiling_is_raised_not_slept(scripted: ScriptedServer) -> None:
    """A Retry-After above the ceiling raises the 429 instead of waiting."""
    scripted.default = Reply(status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitError) as info:
        await request(scripted, retry_policy=RetryPolicy(retry_after_ceiling=60))
    assert info.value.retry_after == 3600
    assert len(scripted.seen) == 1


async def test_retry_after_is_honoured_when_sleeping(scripted: ScriptedServer) -> None:
    """With sleeps on, a Retry-After of 0.2 s delays the retry by about that long."""
    dcycle_async.set_testing(False)
    scripted.push(Reply(status=429, headers={"Retry-After": "0.2"}), Reply(body=b"{}"))
    started = time.monotonic()
    await request(scripted)
    assert time.monotonic() - started >= 0.2


def test_retry_after_parses_seconds_and_http_dates() -> None:
    """Retry-After accepts delta-seconds and HTTP dates; garbage is ignored."""
    now = 1_700_000_000.0
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after("1.5") == 1.5
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    """Delays stay within [0, min(max, initial * 2**(n-1))] and stop after max_retries."""
    dcycle_async.set_testing(False)
    policy = RetryPolicy(max_retries=5, backoff_initial=0.5, backoff_max=3.0)
    for n, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (5, 3.0)]:
        delays = [policy.delay(n) for _ in range(200)]
        assert all(d is not None and 0 <= d <= cap for d in delays)
        assert max(d for d in delays if d is not None) > cap / 2
    assert policy.delay(6) is None


async def test_http_date_retry_after_is_retried(scripted: ScriptedServer) -> None:
    """A 503 with an HTTP-date Retry-After is retried."""
    date = email.utils.formatdate(time.time() + 1, usegmt=True)
    scripted.push(Reply(status=503, headers={"Retry-After": date}), Reply(body=b"{}"))
    assert (await request(scripted)).attempts == 2


async def test_dropped_connection_is_retried_then_raised(scripted: ScriptedServer) -> None:
    """A dropped connection is an APIConnectionError after retries, cause chained."""
    scripted.default = Reply(drop=True)
    with pytest.raises(APIConnectionError) as info:
        await request(scripted, max_retries=1)
    assert isinstance(info.value.__cause__, aiohttp.ClientError)
    assert len(scripted.seen) == 2


async def test_timeout_is_api_timeout_error(scripted: ScriptedServer) -> None:
    """No answer within timeout raises APITimeoutError (an APIConnectionError)."""
    scripted.default = Reply(delay=1.0)
    with pytest.raises(APITimeoutError) as info:
        await request(scripted, timeout=0.1, max_retries=1)
    assert isinstance(info.value, APIConnectionError)
    assert isinstance(info.value.__cause__, TimeoutError)
    assert len(scripted.seen) == 2


async def test_connection_refused_is_api_connection_error() -> None:
    """Nobody listening: APIConnectionError, cause is aiohttp's connector error."""
    async with make_client("http://127.0.0.1:9", max_retries=1) as client:
        with pytest.raises(APIConnectionError) as info:
            await client._http.request("GET", "/v1/transports")
    assert isinstance(info.value.__cause__, aiohttp.ClientConnectorError)


async def test_truncated_json_on_200_is_retried(scripted: ScriptedServer) -> None:
    """A 2xx with a body that is not JSON is retried, then InvalidResponseError."""
    scripted.default = Reply(body=b'{"success_ids": ["a"')
    with pytest.raises(InvalidResponseError):
        await request(scripted, max_retries=1)
    assert len(scripted.seen) == 2


def test_all_three_error_body_shapes_are_parsed() -> None:
    """{detail, code}, {detail} and FastAPI's validation list are all understood."""
    e1 = error_from_response(401, b'{"code": "INVALID_API_KEY", "detail": "Invalid API key"}')
    assert (type(e1), e1.code, e1.detail) == (
        AuthenticationError,
        "INVALID_API_KEY",
        "Invalid API key",
    )
    e2 = error_from_response(404, b'{"detail": "Project not found"}')
    assert (type(e2), e2.code, e2.detail) == (NotFoundError, None, "Project not found")
    e3 = error_from_response(
        422,
        b'{"detail": [{"loc": ["body", "entity_ids"], "msg": "too many", "type": "value_error"}]}',
    )
    assert isinstance(e3, UnprocessableEntityError)
    assert e3.detail == "body.entity_ids: too many"
    assert e3.errors[0]["type"] == "value_error"


def test_non_json_bodies_still_give_a_clear_error() -> None:
    """A proxy's HTML 502 is a ServerError with the status and a short body excerpt."""
    html = b"<html><body><h1>502 Bad Gateway</h1>" + b"x" * 5000 + b"</body></html>"
    exc = error_from_response(502, html, method="POST", url="https://api.dcycle.io/v1/x")
    assert isinstance(exc, ServerError)
    assert exc.code is None
    assert exc.body.startswith("<html>")
    assert "HTTP 502" in str(exc)
    assert "502 Bad Gateway" in str(exc)
    assert len(str(exc)) < 400
    assert isinstance(error_from_response(418, b""), APIError)
    assert type(error_from_response(599, b"")) is ServerError


def test_overrides_pick_the_most_specific_class() -> None:
    """A 409 on a hash-guarded call becomes FilterHashMismatchError, with advice."""
    exc = error_from_response(409, b'{"detail": "x"}', overrides={409: FilterHashMismatchError})
    assert isinstance(exc, FilterHashMismatchError)
    assert isinstance(exc, ConflictError)
    assert "list again" in str(exc)


async def test_retries_are_logged_without_secrets(
    scripted: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Each retry logs a warning naming the path and status, never the key."""
    scripted.push(Reply(status=502), Reply(body=b"{}"))
    with caplog.at_level(logging.DEBUG, logger="dcycle_async"):
        await request(scripted)
    messages = [r.getMessage() for r in caplog.records]
    assert any("HTTP 502" in m and LINK in m for m in messages)
    assert all(API_KEY not in m for m in messages)
