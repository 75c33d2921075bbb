"""One (workload, implementation) in a fresh process: the child the harness starts.

``python -m benchmarks.run_one W1 library --url URL --n 1000000`` generates
the ids (or reads them from ``--ids-file``), then starts the clock, sends,
stops the clock and prints one line ``RESULT {json}``: wall time, CPU time
of this process over the same interval (``time.process_time``), its peak
RSS (``ru_maxrss``, which covers the whole life of the process, id
generation included), requests sent and ids the server confirmed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import resource
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Final

import orjson

from . import baselines, workloads
from ._ids import async_ids, make_ids
from ._spec import API_KEY, ORG_ID, PROJECT_ID, Job, Outcome

__all__ = ["IMPLEMENTATIONS", "main"]

IMPLEMENTATIONS: Final = ("library", "raw_aiohttp", "httpx", "requests", "aiohttp_floor")
_ASYNC_IMPLS: Final[dict[str, Callable[[Job], Coroutine[Any, Any, Outcome]]]] = {
    "library": workloads.library_run,
    "raw_aiohttp": baselines.raw_aiohttp,
    "httpx": baselines.httpx_loop,
}


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _read_ids(path: str, n: int) -> list[str]:
    ids = Path(path).read_text().split()
    if len(ids) < n:
        raise SystemExit(f"{path} holds {len(ids)} ids, {n} wanted")
    return ids[:n]


def _warm_imports() -> None:
    # anyio loads its asyncio backend on first use (~20 ms; the library's
    # task group and httpx's transport both use it): a once-per-process cost
    # that a long-running pipeline never sees, so it is paid before the clock.
    importlib.import_module("anyio._backends._asyncio")


def _measure(run: Callable[[], Outcome]) -> dict[str, Any]:
    _warm_imports()
    gc.collect()
    rss_before = _peak_rss_mb()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    outcome = run()
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "requests": outcome.requests,
        "ids_sent": outcome.ids_sent,
        "ids_ok": outcome.ok,
        "ids_failed": outcome.failed,
        "rss_before_mb": rss_before,
        "peak_rss_mb": _peak_rss_mb(),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run what ``args`` describe; the measurements."""
    spec = workloads.WORKLOADS[args.workload]
    n = args.n if args.n is not None else spec.n_ids
    job_args: dict[str, Any] = {
        "kind": spec.kind,
        "base_url": args.url,
        "chunk_size": args.chunk_size or spec.chunk_size,
        "concurrency": args.concurrency or spec.concurrency,
        "api_key": args.api_key,
        "org_id": args.org_id,
        "project_id": args.project_id,
    }
    if spec.stream:
        if args.impl != "library":
            raise SystemExit(f"{args.workload} is run by the library only")
        job = Job(ids=[], **job_args)
        return _measure(
            lambda: asyncio.run(workloads.library_stream(job, async_ids(n, args.seed), n))
        )
    ids = _read_ids(args.ids_file, n) if args.ids_file else make_ids(n, args.seed)
    job = Job(ids=ids, **job_args)
    if args.impl == "requests":
        return _measure(lambda: baselines.requests_loop(job))
    if args.impl == "aiohttp_floor":
        bodies = baselines.encode_bodies(job)  # before the clock: that is the point
        return _measure(lambda: asyncio.run(baselines.aiohttp_floor(job, bodies)))
    impl = _ASYNC_IMPLS[args.impl]
    return _measure(lambda: asyncio.run(impl(job)))


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: prints ``RESULT {json}``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_one")
    parser.add_argument("workload", choices=sorted(workloads.WORKLOADS))
    parser.add_argument("impl", choices=IMPLEMENTATIONS)
    parser.add_argument("--url", required=True, help="the server's base URL")
    parser.add_argument("--n", type=int, help="ids to send (default: the workload's)")
    parser.add_argument("--chunk-size", type=int, help="default: the workload's")
    parser.add_argument("--concurrency", type=int, help="default: the workload's")
    parser.add_argument("--ids-file", help="read the ids from this file (one per line)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated ids")
    parser.add_argument("--api-key", default=API_KEY)
    parser.add_argument("--org-id", default=ORG_ID)
    parser.add_argument("--project-id", default=PROJECT_ID)
    args = parser.parse_args(argv)
    result = run(args)
    sys.stdout.write("RESULT " + orjson.dumps(result).decode() + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
