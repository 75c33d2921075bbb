"""Fault injection: every kind as a raw aiohttp client sees it, and selection rules."""

from __future__ import annotations

import time

import aiohttp
import orjson
import pytest
from dcycle_async.testing import Emulator, Fault

from .emulator_support import Api, auth_headers

pytestmark = pytest.mark.anyio

LIST = "/v1/transports"
BULK = "/v1/transports/bulk-delete"


@pytest.fixture
def routes(emulator: Emulator, api: Api) -> list[str]:
    """20 transport routes of the org."""
    return emulator.store.seed_transports(api.org.id, 20)


async def test_latency_fault_delays_then_serves(api: Api, emulator: Emulator) -> None:
    """latency sleeps `delay` and then answers normally."""
    emulator.faults.add(Fault("latency", delay=0.2))
    began = time.monotonic()
    reply = await api.get(LIST)
    assert time.monotonic() - began >= 0.2
    assert reply.status == 200
    assert emulator.requests[-1].fault == "latency"


async def test_emulator_latency_applies_to_every_request(api: Api, emulator: Emulator) -> None:
    """Emulator(latency=...) slows every request; it can be changed live."""
    emulator.latency = 0.1
    began = time.monotonic()
    await api.get(LIST)
    await api.get(LIST)
    assert time.monotonic() - began >= 0.2
    assert emulator.requests[-1].duration >= 0.1


async def test_status_503_default_body_and_nothing_applied(
    api: Api, emulator: Emulator, routes: list[str]
) -> None:
    """A 503 fault answers "Service Unavailable" and does not apply the request."""
    emulator.faults.add(Fault("status", status=503))
    reply = await api.post(BULK, {"transport_ids": routes[:5]})
    assert reply.status == 503
    assert reply.json == {"detail": "Service Unavailable", "code": "EMULATED_FAULT"}
    assert emulator.store.transport_ids(api.org.id) == set(routes)


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [(3, "3"), (0.5, "0.5"), ("Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:28:00 GMT")],
)
async def test_429_with_retry_after(
    api: Api, emulator: Emulator, retry_after: float | str, header: str
) -> None:
    """429 carries RATE_LIMITED and a Retry-After passed through as given."""
    emulator.faults.add(Fault("status", status=429, retry_after=retry_after))
    reply = await api.get(LIST)
    assert reply.status == 429
    assert reply.json == {"detail": "Too many requests", "code": "RATE_LIMITED"}
    assert reply.headers["Retry-After"] == header


async def test_429_without_retry_after_has_no_header(api: Api, emulator: Emulator) -> None:
    """No retry_after -> no Retry-After header."""
    emulator.faults.add(Fault("status", status=429))
    reply = await api.get(LIST)
    assert "Retry-After" not in reply.headers


async def test_status_with_html_body(api: Api, emulator: Emulator) -> None:
    """A custom body (a proxy's HTML 502) is sent as is, as text/html."""
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    emulator.faults.add(Fault("status", status=502, body=page))
    reply = await api.get(LIST)
    assert reply.status == 502
    assert reply.raw.decode() == page
    assert reply.headers["Content-Type"].startswith("text/html")


async def test_status_with_json_body_and_other_status(api: Api, emulator: Emulator) -> None:
    """A JSON custom body is typed JSON; a 4xx without body gets a generic JSON error."""
    emulator.faults.add(Fault("status", status=500, body=b'{"detail": "boom"}', times=1))
    emulator.faults.add(Fault("status", status=418, times=1))
    custom = await api.get(LIST)
    assert custom.json == {"detail": "boom"}
    assert custom.headers["Content-Type"] == "application/json"
    teapot = await api.get(LIST)
    assert teapot.status == 418
    assert teapot.json["detail"] == "I'm a Teapot"


async def test_drop_before_disconnects_without_applying(
    session: aiohttp.ClientSession, api: Api, emulator: Emulator, routes: list[str]
) -> None:
    """drop_before closes the connection: ServerDisconnectedError, nothing deleted."""
    emulator.faults.add(Fault("drop_before", times=1))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post(BULK, {"transport_ids": routes[:5]})
    assert emulator.store.transport_ids(api.org.id) == set(routes)
    record = emulator.requests[-1]
    assert (record.status, record.fault, record.id_count) == (None, "drop_before", 5)
    assert (await api.get(LIST)).status == 200  # the next request is served


async def test_drop_after_applies_then_disconnects(
    api: Api, emulator: Emulator, routes: list[str]
) -> None:
    """drop_after applies the change and loses the answer."""
    emulator.faults.add(Fault("drop_after", times=1))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post(BULK, {"transport_ids": routes[:5]})
    assert emulator.store.transport_ids(api.org.id) == set(routes[5:])
    record = emulator.requests[-1]
    assert (record.status, record.fault) == (200, "drop_after")


async def test_slow_body_trickles_the_answer(
    session: aiohttp.ClientSession, api: Api, emulator: Emulator, routes: list[str]
) -> None:
    """slow_body sends the headers at once, then the full, valid body over `delay` seconds."""
    emulator.faults.add(Fault("slow_body", delay=0.4, times=1))
    began = time.monotonic()
    async with session.get(emulator.url + LIST, headers=auth_headers(api.org)) as response:
        headers_after = time.monotonic() - began
        body = await response.json()
    total = time.monotonic() - began
    assert total >= 0.4
    assert total - headers_after >= 0.3  # the body came well after the headers
    assert response.status == 200
    assert body["total"] == 20


async def test_slow_body_trips_a_client_read_timeout(
    session: aiohttp.ClientSession, api: Api, emulator: Emulator, routes: list[str]
) -> None:
    """A client read timeout shorter than the trickle fails; the server stays quiet."""
    emulator.faults.add(Fault("slow_body", delay=1.0, times=1))
    timeout = aiohttp.ClientTimeout(sock_read=0.05)
    headers = auth_headers(api.org)
    with pytest.raises(aiohttp.ServerTimeoutError):
        async with session.get(emulator.url + LIST, headers=headers, timeout=timeout) as response:
            await response.read()
    assert (await api.get(LIST)).status == 200


async def test_slow_body_of_an_empty_answer_just_waits(
    api: Api, emulator: Emulator, routes: list[str]
) -> None:
    """A 204 has no body to trickle: it comes after `delay`."""
    emulator.faults.add(Fault("slow_body", delay=0.2, method="DELETE"))
    began = time.monotonic()
    reply = await api.delete(f"/v1/transports/{routes[0]}")
    assert reply.status == 204
    assert time.monotonic() - began >= 0.2


async def test_truncated_applies_and_cuts_the_body(
    session: aiohttp.ClientSession, api: Api, emulator: Emulator, routes: list[str]
) -> None:
    """truncated applies, sends half the JSON under the full Content-Length, then closes."""
    emulator.faults.add(Fault("truncated", times=1))
    headers = auth_headers(api.org)
    body = orjson.dumps({"transport_ids": routes[:5]})
    async with session.post(emulator.url + BULK, data=body, headers=headers) as response:
        assert response.status == 200
        length = int(response.headers["Content-Length"])
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    assert length > 0
    assert emulator.store.transport_ids(api.org.id) == set(routes[5:])


async def test_truncated_204_becomes_a_cut_200(
    api: Api, emulator: Emulator, routes: list[str]
) -> None:
    """An empty answer is replaced by a cut JSON body, so the cut is visible."""
    emulator.faults.add(Fault("truncated", times=1))
    with pytest.raises(aiohttp.ClientPayloadError):
        await api.delete(f"/v1/transports/{routes[0]}")
    assert routes[0] not in emulator.store.transport_ids(api.org.id)


async def test_times_limits_firing(api: Api, emulator: Emulator) -> None:
    """times=N hits the next N matching requests, then the fault is gone."""
    fault = emulator.faults.add(Fault("status", status=500, times=2))
    statuses = [(await api.get(LIST)).status for _ in range(4)]
    assert statuses == [500, 500, 200, 200]
    assert emulator.faults.fired(fault) == 2
    assert len(emulator.faults) == 0


async def test_rate_is_seeded_and_partial(api: Api, emulator: Emulator) -> None:
    """rate=p fires for about p of the requests, reproducibly for a seed."""
    emulator.faults.add(Fault("status", status=503, rate=0.5))
    statuses = [(await api.get(LIST)).status for _ in range(40)]
    assert 5 <= statuses.count(503) <= 35
    assert set(statuses) == {200, 503}
    again = Emulator(seed=7).faults
    again.add(Fault("status", status=503, rate=0.5))
    replay = [503 if again.select("GET", LIST) else 200 for _ in range(40)]
    assert replay == statuses


async def test_rate_zero_and_one(api: Api, emulator: Emulator) -> None:
    """rate=0 never fires; rate=1 always does."""
    emulator.faults.add(Fault("status", status=500, rate=0.0))
    assert (await api.get(LIST)).status == 200
    emulator.faults.clear()
    emulator.faults.add(Fault("status", status=500, rate=1.0))
    assert [(await api.get(LIST)).status for _ in range(3)] == [500, 500, 500]


async def test_path_and_method_matching(api: Api, emulator: Emulator) -> None:
    """path matches exactly or by a '*' prefix; method narrows further."""
    emulator.faults.add(Fault("status", status=502, path="/v1/vehicles"))
    emulator.faults.add(Fault("status", status=503, path="/v1/projects/*", method="post"))
    assert (await api.get("/v1/vehicles")).status == 502
    assert (await api.get("/v1/vehicles/bulk-delete")).status == 405
    assert (await api.get(LIST)).status == 200
    project = "/v1/projects/00000000-0000-4000-8000-000000000000"
    assert (await api.post(f"{project}/entities/link", {})).status == 503
    assert (await api.delete(project)).status == 404


async def test_first_matching_fault_wins(api: Api, emulator: Emulator) -> None:
    """Of several matching faults the first added (that fires) applies."""
    emulator.faults.add(Fault("status", status=500, rate=0.0, name="never"))
    emulator.faults.add(Fault("status", status=502, times=1, name="first"))
    emulator.faults.add(Fault("status", status=503, times=1, name="second"))
    assert [(await api.get(LIST)).status for _ in range(3)] == [502, 503, 200]
    assert [r.fault for r in emulator.requests] == ["first", "second", None]


async def test_remove_and_clear(api: Api, emulator: Emulator) -> None:
    """remove() and clear() deactivate faults."""
    fault = emulator.faults.add(Fault("status", status=500))
    assert list(emulator.faults) == [fault]
    emulator.faults.remove(fault)
    assert (await api.get(LIST)).status == 200
    with pytest.raises(ValueError, match="not an active fault"):
        emulator.faults.remove(fault)
    emulator.faults.add(fault)
    emulator.faults.clear()
    assert (await api.get(LIST)).status == 200


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "explode"},
        {"kind": "status", "status": 99},
        {"kind": "status", "times": 0},
        {"kind": "status", "rate": 1.5},
        {"kind": "latency", "delay": -1},
    ],
)
def test_bad_faults_are_rejected(kwargs: dict[str, object]) -> None:
    """Fault validates its kind, status, times, rate and delay."""
    with pytest.raises(ValueError):
        Fault(**kwargs)  # type: ignore[arg-type]
