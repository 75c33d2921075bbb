"""Run the emulator standalone: ``python -m dcycle_async.testing --port 8080``.

It creates one organisation and one project, seeds records if asked (and
writes their ids to files with ``--ids-dir``), prints the base URL, the
organisation id, its (fake) API key and the project id, then a line
``READY <url>`` once it listens (flushed, for a parent process to wait
on), and serves until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final, TextIO

from .._enums import EntityType
from ._emulator import DEFAULT_HOST, Emulator

__all__ = ["main", "parse_records"]

SEEDABLE: Final = ("transports", "vehicles", *(t.value for t in EntityType))


def parse_records(text: str) -> dict[str, int]:
    """``transports=100000,vehicles=5000,invoices=20000`` as a dict.

    Numbers may use ``_`` separators; every name must be seedable.
    """
    counts: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, number = part.partition("=")
        name = name.strip()
        if not sep or name not in SEEDABLE:
            raise argparse.ArgumentTypeError(
                f"expected NAME=COUNT with NAME one of {', '.join(SEEDABLE)}, not {part!r}"
            )
        try:
            count = int(number.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a count: {number!r}") from None
        if count < 0:
            raise argparse.ArgumentTypeError(f"a count must be >= 0, not {count}")
        counts[name] = counts.get(name, 0) + count
    return counts


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dcycle_async.testing",
        description="Serve an in-process fake of the Dcycle API.",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)"
    )
    parser.add_argument("--port", type=int, default=8080, help="port (0: any free one)")
    parser.add_argument(
        "--records",
        type=parse_records,
        default={},
        metavar="NAME=N,...",
        help=f"records to create; NAME is one of {', '.join(SEEDABLE)}",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--api-key", help="the organisation's API key (default: random)")
    parser.add_argument("--bearer-token", help="the organisation's bearer token (default: random)")
    parser.add_argument("--org-id", help="the organisation's id (default: random)")
    # --seed means what Emulator(seed=) and `dcycle-async demo --seed` mean.
    parser.add_argument(
        "--seed",
        "--random-seed",
        dest="seed",
        type=int,
        help="random seed, for reproducible ids and records (default: random)",
    )
    parser.add_argument(
        "--filter-hash-covers-data",
        action="store_true",
        help="make filter_hash change whenever the matching data changes",
    )
    parser.add_argument(
        "--unknown-link-ids",
        choices=("skip", "not_found"),
        default="skip",
        help="how link answers ids that do not exist (default %(default)s)",
    )
    parser.add_argument(
        "--ids-dir",
        type=Path,
        help="write the seeded ids there, one per line, as NAME.txt (for a benchmark "
        "running in another process)",
    )
    parser.add_argument(
        "--record-requests",
        action="store_true",
        help="keep a record of every request (memory grows with the run)",
    )
    return parser


async def serve(args: argparse.Namespace, out: TextIO) -> None:
    """Build, seed and serve the emulator described by ``args`` until stopped."""
    emulator = Emulator(
        latency=args.latency,
        filter_hash_covers_data=args.filter_hash_covers_data,
        unknown_link_ids=args.unknown_link_ids,
        seed=args.seed,
        record_requests=args.record_requests,
    )
    org = emulator.create_organization(args.org_id, args.api_key, args.bearer_token)
    project_id = emulator.store.create_project(org.id)
    began = time.perf_counter()
    for name, count in args.records.items():
        if name == "transports":
            ids = emulator.store.seed_transports(org.id, count)
        elif name == "vehicles":
            ids = emulator.store.seed_vehicles(org.id, count)
        else:
            ids = emulator.store.seed_entities(org.id, name, count)
        if args.ids_dir is not None:
            args.ids_dir.mkdir(parents=True, exist_ok=True)
            (args.ids_dir / f"{name}.txt").write_text("".join(f"{i}\n" for i in ids))
    seeded = time.perf_counter() - began

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            loop.add_signal_handler(signum, stop.set)

    async with emulator.serve(args.host, args.port) as url:
        # The key is the emulator's own fake credential: printing it is the point.
        lines = [
            f"Dcycle API emulator at {url}",
            f"  organization id: {org.id}",
            f"  api key:         {org.api_key}",
            f"  bearer token:    {org.bearer_token}",
            f"  project id:      {project_id}",
        ]
        if args.records:
            counts = ", ".join(f"{name}={count}" for name, count in args.records.items())
            lines.append(f"  seeded:          {counts} in {seeded:.1f}s")
        if args.ids_dir is not None:
            lines.append(f"  ids written to:  {args.ids_dir}")
        lines.append(f"READY {url}")
        out.write("\n".join(lines) + "\n")
        out.flush()
        await stop.wait()
    served = f"{len(emulator.requests)} requests, " if args.record_requests else ""
    out.write(f"stopped: {served}peak in flight {emulator.peak_in_flight}\n")
    out.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; the exit status."""
    args = _parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args, sys.stdout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
