"""The hand-written loops the library is measured against.

Each does the same work as the library on the same ``Job``: cut the ids into
chunks, encode each body as JSON, post it with the API's headers, read and
parse every answer, and add up the results (for deletes, collecting the
success and failed ids as the library's report does).  JSON is the standard
library's ``json`` in all three, as a hand-written loop would have it.

- ``raw_aiohttp``: one ``aiohttp.ClientSession``, ``asyncio.Semaphore`` +
  ``asyncio.gather`` over every chunk.
- ``httpx_loop``: the same shape on ``httpx.AsyncClient``.
- ``requests_loop``: a sync ``requests.Session``, one chunk after another
  (no concurrency: that is what a sync loop is).

And one that is not a competitor but a yardstick: ``aiohttp_floor`` is the
raw loop with every body encoded (by orjson) before the clock starts and
only the counts of each answer kept.  It does no id work at all, so its
time is what the HTTP exchanges alone cost on this machine, against this
server: the best any client built on aiohttp could do.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import httpx
import orjson
import requests

from ._spec import Job, Outcome, request_headers

__all__ = ["aiohttp_floor", "encode_bodies", "httpx_loop", "raw_aiohttp", "requests_loop"]


def _account(
    job: Job, outcome: Outcome, data: Any, ok_ids: list[str], failed_ids: list[str]
) -> None:
    outcome.requests += 1
    if job.kind == "link":
        outcome.ok += data["created"] + data["skipped"]
    else:
        ok_ids.extend(data["success_ids"])
        failed_ids.extend(data["failed_ids"])


async def raw_aiohttp(job: Job) -> Outcome:
    """Semaphore + gather on one aiohttp session, stdlib json."""
    outcome = Outcome(ids_sent=len(job.ids))
    ok_ids: list[str] = []
    failed_ids: list[str] = []
    headers = request_headers(job)
    url = job.url
    semaphore = asyncio.Semaphore(job.concurrency)
    connector = aiohttp.TCPConnector(limit=job.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(chunk: list[str]) -> None:
            async with semaphore:
                body = json.dumps(job.body(chunk))
                async with session.post(url, data=body, headers=headers) as resp:
                    resp.raise_for_status()
                    data = json.loads(await resp.read())
                _account(job, outcome, data, ok_ids, failed_ids)

        await asyncio.gather(*(send(chunk) for chunk in job.chunks()))
    if job.kind == "delete":
        outcome.ok, outcome.failed = len(ok_ids), len(failed_ids)
    return outcome


async def httpx_loop(job: Job) -> Outcome:
    """Semaphore + gather on one httpx.AsyncClient, stdlib json."""
    outcome = Outcome(ids_sent=len(job.ids))
    ok_ids: list[str] = []
    failed_ids: list[str] = []
    headers = request_headers(job)
    url = job.url
    semaphore = asyncio.Semaphore(job.concurrency)
    limits = httpx.Limits(
        max_connections=job.concurrency, max_keepalive_connections=job.concurrency
    )
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:

        async def send(chunk: list[str]) -> None:
            async with semaphore:
                body = json.dumps(job.body(chunk))
                resp = await client.post(url, content=body, headers=headers)
                resp.raise_for_status()
                _account(job, outcome, json.loads(resp.content), ok_ids, failed_ids)

        await asyncio.gather(*(send(chunk) for chunk in job.chunks()))
    if job.kind == "delete":
        outcome.ok, outcome.failed = len(ok_ids), len(failed_ids)
    return outcome


def requests_loop(job: Job) -> Outcome:
    """One chunk after another on a requests.Session, stdlib json."""
    outcome = Outcome(ids_sent=len(job.ids))
    ok_ids: list[str] = []
    failed_ids: list[str] = []
    headers = request_headers(job)
    url = job.url
    with requests.Session() as session:
        for chunk in job.chunks():
            resp = session.post(url, data=json.dumps(job.body(chunk)), headers=headers, timeout=60)
            resp.raise_for_status()
            _account(job, outcome, json.loads(resp.content), ok_ids, failed_ids)
    if job.kind == "delete":
        outcome.ok, outcome.failed = len(ok_ids), len(failed_ids)
    return outcome


def encode_bodies(job: Job) -> list[bytes]:
    """Every chunk's body, encoded: done before ``aiohttp_floor``'s clock starts."""
    return [orjson.dumps(job.body(chunk)) for chunk in job.chunks()]


async def aiohttp_floor(job: Job, bodies: list[bytes]) -> Outcome:
    """The transport floor: pre-encoded bodies, semaphore + gather, counts only."""
    outcome = Outcome(ids_sent=len(job.ids))
    headers = request_headers(job)
    url = job.url
    semaphore = asyncio.Semaphore(job.concurrency)
    connector = aiohttp.TCPConnector(limit=job.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def send(body: bytes) -> None:
            async with semaphore, session.post(url, data=body, headers=headers) as resp:
                resp.raise_for_status()
                data = orjson.loads(await resp.read())
            outcome.requests += 1
            if job.kind == "link":
                outcome.ok += data["created"] + data["skipped"]
            else:
                outcome.ok += data["success_count"]
                outcome.failed += data["failed_count"]

        await asyncio.gather(*(send(body) for body in bodies))
    return outcome
