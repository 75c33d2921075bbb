"""Errors, retries and reconciliation.

    python examples/error_handling.py

In the emulator, each part injects the fault it is about (a 503, a 429, a
connection dropped after the server applied the request, a missing
project); against the real API the same code simply finds nothing wrong.

1. transient failures are retried, and the report counts the retries;
2. a chunk that fails for good lands in ``report.errors`` and its ids in
   ``report.failed_ids``: resend them later;
3. a retry after an unknown outcome is listed in ``report.retried_chunks``;
   ``report.uncertain_ids`` are the failed ids to re-check;
4. a failure that dooms every chunk (401, 403, project not found) raises
   ``BulkOperationError``, whose ``.report`` says what completed;
5. single-request calls raise the error itself: the error tree.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from _emulator import sandbox
from dcycle_async import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BulkOperationError,
    ConflictError,
    DcycleClient,
    DcycleError,
    InvalidFiltersError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    UnprocessableEntityError,
)
from dcycle_async.testing import Fault

DELETE = "/v1/transports/bulk-delete"


def explain(exc: DcycleError) -> str:
    """What an application might do with each branch of the error tree."""
    match exc:
        case BulkOperationError():
            return f"aborted ({type(exc.__cause__).__name__}); see .report"
        case AuthenticationError() | PermissionDeniedError():
            return f"{exc.status}: check DCYCLE_API_KEY / DCYCLE_ORG_ID"
        case NotFoundError():
            return f"404: {exc.detail}"
        case ConflictError():  # includes FilterHashMismatchError
            return f"409: list again and retry ({exc.detail})"
        case UnprocessableEntityError():
            return f"422: the API rejected the request: {exc.detail}"
        case RateLimitError() | ServerError():
            return f"{exc.status} after {exc.attempts} attempts: try again later"
        case APIError():
            return f"HTTP {exc.status} [{exc.code}]: {exc.detail}"
        case APIConnectionError():  # includes APITimeoutError
            return f"no answer after {exc.attempts} attempts: {exc}"
        case InvalidFiltersError():
            return f"bad filters, nothing sent: {exc}"
        case _:
            return repr(exc)


async def main() -> None:
    # Retries log a warning on the "dcycle_async" logger; show them.
    logging.basicConfig(format="  log: %(name)s %(levelname)s %(message)s")

    async with sandbox() as demo:
        ids = demo.transport_ids(2_000)
        batch1, batch2, batch3 = ids[:1_000], ids[1_000:1_500], ids[1_500:]

        # Retries: 429, 500, 502, 503, 504, dropped connections and timeouts,
        # with exponential backoff and full jitter; Retry-After is honoured up
        # to retry_after_ceiling.  DcycleClient(max_retries=5) sets the count
        # alone; a RetryPolicy sets everything (short waits for this demo).
        policy = RetryPolicy(
            max_retries=5, backoff_initial=0.02, backoff_max=0.5, retry_after_ceiling=30
        )
        async with DcycleClient(retry_policy=policy) as client:
            print("== 1. transient failures are retried")
            demo.inject(Fault("status", status=503, times=4, path=DELETE))
            demo.inject(Fault("status", status=429, retry_after=0.1, times=1, path=DELETE))
            report = await client.transports.bulk_delete(batch1, chunk_size=100)
            print(
                f"success={report.success_count:,} failed={report.failed_count}"
                f" requests={report.requests} retries={report.retries} ok={report.ok}"
            )

            print("== 2. a chunk that fails for good")
            # Six 503s in a row: the first chunk exhausts its 1 + 5 attempts.
            demo.inject(Fault("status", status=503, times=6, path=DELETE))
            report = await client.transports.bulk_delete(batch2, chunk_size=100, max_concurrency=1)
            print(
                f"success={report.success_count:,} failed={report.failed_count}"
                f" errors={len(report.errors)} ok={report.ok}"
            )
            for chunk_error in report.errors:  # ChunkError(ids, error, index)
                print(f"chunk {chunk_error.index}: {len(chunk_error.ids)} ids, {chunk_error.error}")
            # Deletes are idempotent: send the failed ids again (now, or from a
            # file in a later run).
            again = await client.transports.bulk_delete(report.failed_ids)
            print(f"resent failed ids: success={again.success_count} ok={again.ok}")

            print("== 3. unknown outcomes and reconciliation")
            # The server deletes a chunk, then the connection drops before the
            # answer arrives.  The retry finds the ids gone: "not found".
            demo.inject(Fault("drop_after", times=1, path=DELETE))
            report = await client.transports.bulk_delete(batch3, chunk_size=100, max_concurrency=1)
            print(
                f"success={report.success_count:,} failed={report.failed_count}"
                f" retried_chunks={len(report.retried_chunks)}"
                f" uncertain={len(report.uncertain_ids)}"
            )
            # uncertain_ids: failed ids of chunks retried after an unknown
            # outcome.  They may well be deleted already.  The other failed ids
            # really failed (unknown ids, another organisation's, ...).
            uncertain = set(report.uncertain_ids)
            failed_for_sure = [i for i in report.failed_ids if i not in uncertain]
            # Reconcile: the goal of a delete is "gone".  Deleting again
            # deletes any still there; "not found" now means gone either way.
            # (For links: link again; "skipped" means already linked.)
            check = await client.transports.bulk_delete(report.uncertain_ids)
            print(
                f"reconciled {len(uncertain)} uncertain ids: {check.success_count} were still"
                f" there (deleted now), {check.failed_count} already gone;"
                f" {len(failed_for_sure)} failed for sure"
            )

            print("== 4. errors that abort a whole operation")
            # A missing project (404), bad credentials (401) or no access to
            # the organisation (403) would fail every chunk: the call stops at
            # once and raises BulkOperationError; .report has what completed.
            invoices = demo.entity_ids("invoices", 300)
            try:
                await client.projects.link(uuid.uuid4(), "invoices", invoices)
            except BulkOperationError as exc:
                print(explain(exc))
                print(f"cause: {exc.__cause__!r}")
                print(f"report: created={exc.report.created} failed={len(exc.report.failed_ids)}")

            print("== 5. single requests raise the error itself")
            # A proxy answering an HTML 502 page, more times than we retry.
            demo.inject(
                Fault("status", status=502, body="<html>Bad Gateway</html>", path="/v1/transports")
            )
            try:
                await client.transports.list({"status": "error"})
            except DcycleError as exc:
                print(f"{type(exc).__name__}: {explain(exc)}")
            demo.clear_faults()

        # No answer at all: nothing listens on this port.
        async with DcycleClient(base_url="http://127.0.0.1:9", max_retries=1) as offline:
            try:
                await offline.transports.counts()
            except DcycleError as exc:
                print(f"{type(exc).__name__}: {explain(exc)}")


if __name__ == "__main__":
    asyncio.run(main())
