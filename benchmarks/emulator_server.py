"""The package's API emulator as the benchmarks' realistic server (its own process).

``python -m benchmarks.emulator_server --port 0`` creates one organisation
with the benchmarks' credentials, prints ``READY <url>`` once listening,
then answers commands on stdin, one line each, with one line on stdout:

- ``project`` -> ``OK <project_id>``: a new, empty project (so that every
  link run creates its links, instead of skipping the previous run's);
- ``drop <project_id>`` -> ``OK True``: delete that project and its links;
- ``seed <kind> <n> <path>`` -> ``OK <n>``: add ``n`` records of ``kind``
  (``transports``, ``vehicles`` or an entity type such as ``invoices``) and
  write their ids to ``path``, one per line;
- ``restore`` -> ``OK <n>``: bring back every seeded transport and vehicle
  deleted so far (cheaper than seeding millions again between runs);
- ``quit`` (or end of input): stop.

Request recording is off, as the emulator recommends for long runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from dcycle_async.testing import Emulator

from ._spec import API_KEY, ORG_ID

__all__ = ["main"]


class _Host:
    def __init__(self, emulator: Emulator, org_id: str) -> None:
        self.emulator = emulator
        self.org_id = org_id
        # Per seeded table: the rows' index and liveness right after seeding.
        self.snapshots: dict[str, tuple[Any, dict[str, int], bytes]] = {}

    def command(self, line: str) -> str:
        words = line.split()
        store = self.emulator.store
        if words == ["project"]:
            return f"OK {store.create_project(self.org_id)}"
        if len(words) == 2 and words[0] == "drop":
            # Frees the project's links: a million per link run would otherwise
            # pile up and slow the emulator (its GC) for the runs that follow.
            return f"OK {store.delete_project(self.org_id, words[1])}"
        if len(words) == 4 and words[0] == "seed":
            kind, n, path = words[1], int(words[2]), words[3]
            table = None
            if kind == "transports":
                ids = store.seed_transports(self.org_id, n)
                table = store.table(self.org_id, "transports")
            elif kind == "vehicles":
                ids = store.seed_vehicles(self.org_id, n)
                table = store.table(self.org_id, "vehicles")
            else:
                ids = store.seed_entities(self.org_id, kind, n)
            Path(path).write_text("\n".join(ids) + "\n")
            if table is not None:
                self.snapshots[kind] = (table, dict(table.index), bytes(table.alive))
            return f"OK {len(ids)}"
        if words == ["restore"]:
            restored = 0
            for table, index, alive in self.snapshots.values():
                table.index.clear()
                table.index.update(index)
                table.alive[: len(alive)] = alive
                table.generation += 1
                restored += len(index)
            return f"OK {restored}"
        return f"ERR unknown command {line.strip()!r}"


async def _serve(args: argparse.Namespace) -> None:
    emulator = Emulator(latency=args.latency, seed=args.random_seed, record_requests=False)
    org = emulator.create_organization(args.org_id, args.api_key)
    host = _Host(emulator, org.id)
    loop = asyncio.get_running_loop()
    async with emulator.serve(args.host, args.port) as url:
        print(f"READY {url}", flush=True)
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line or line.strip() == "quit":
                break
            try:
                reply = host.command(line)
            except Exception as exc:  # reported to the harness, which decides
                reply = f"ERR {type(exc).__name__}: {exc}"
            print(reply, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.emulator_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--api-key", default=API_KEY)
    parser.add_argument("--org-id", default=ORG_ID)
    parser.add_argument("--random-seed", type=int, default=1)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
