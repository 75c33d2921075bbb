"""``python -m benchmarks``: every workload, library and baselines, side by side in one run.

Each (workload, server, implementation) runs in a fresh child process
(``benchmarks.run_one``), so that peak RSS and CPU time are its own; the
servers are processes of their own too.  The table is printed and written
as JSON (default ``benchmarks/results/latest.json``).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import orjson
import psutil

from . import report
from .run_one import IMPLEMENTATIONS
from .workloads import W3_LATENCY, WORKLOADS, Workload

__all__ = ["main"]

ROOT: Final = Path(__file__).resolve().parent.parent
QUICK_SCALE: Final = 0.05
READY_TIMEOUT: Final = 120.0
RUN_TIMEOUT: Final = 900.0
# Slow loops are timed on a subset of W1 and extrapolated by request count.
DEFAULT_FRACTIONS: Final = {("W1", "httpx"): 0.2, ("W1", "requests"): 0.1}
EMULATOR_WORKLOADS: Final = ("W1", "W2")
SERVER_FAST: Final = "fast"
SERVER_SLOW: Final = f"fast+{W3_LATENCY * 1000:.0f}ms"
SERVER_EMULATOR: Final = "emulator"


class Server:
    """A server child process that prints ``READY <url>`` when it listens."""

    def __init__(self, name: str, argv: list[str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, *argv],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.url = self._read_ready()
        self.ps = psutil.Process(self.proc.pid)

    def _read_ready(self) -> str:
        deadline = time.monotonic() + READY_TIMEOUT
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"the {self.name} server exited before READY")
            if line.startswith("READY "):
                return line.split()[1]
        raise RuntimeError(f"the {self.name} server was not READY in {READY_TIMEOUT:.0f}s")

    def command(self, line: str) -> str:
        """Send one command (emulator host only); its ``OK`` answer."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer.startswith("OK"):
            raise RuntimeError(f"{self.name}: {line!r} -> {answer!r}")
        return answer[3:]

    def cpu_seconds(self) -> float:
        """User + system CPU time the server has used so far."""
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        """Terminate the process (and wait for it)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def _server(name: str, argv: list[str]) -> Iterator[Server]:
    server = Server(name, argv)
    try:
        yield server
    finally:
        server.stop()


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or "unknown"
    versions: dict[str, str | None] = {}
    for dist in ("dcycle-async", "aiohttp", "httpx", "requests", "orjson", "anyio"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "versions": versions,
    }


def _subset(spec: Workload, fraction: float) -> int:
    """Ids to time for a subset run: whole chunks, at least one."""
    if fraction >= 1:
        return spec.n_ids
    chunks = max(1, round(spec.chunks * fraction))
    return min(spec.n_ids, chunks * spec.chunk_size)


def _run_child(
    spec: Workload,
    impl: str,
    server: Server,
    n: int,
    extra: Sequence[str] = (),
) -> dict[str, Any]:
    argv = [
        sys.executable,
        "-m",
        "benchmarks.run_one",
        spec.name,
        impl,
        "--url",
        server.url,
        "--n",
        str(n),
        "--chunk-size",
        str(spec.chunk_size),
        "--concurrency",
        str(spec.concurrency),
        *extra,
    ]
    cpu0 = server.cpu_seconds()
    done = subprocess.run(
        argv, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False
    )
    server_cpu = server.cpu_seconds() - cpu0
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not results:
        raise RuntimeError(
            f"{spec.name} {impl} on {server.name} failed ({done.returncode}):\n"
            + done.stderr[-3000:]
        )
    result: dict[str, Any] = orjson.loads(results[-1][len("RESULT ") :])
    result["server_cpu_s"] = server_cpu
    return result


def _plan(args: argparse.Namespace) -> list[tuple[Workload, str, list[str]]]:
    """(workload at its scale, server, implementations) in the order they run."""
    servers = {
        "fast": [SERVER_FAST],
        "emulator": [SERVER_EMULATOR],
        "both": [SERVER_FAST, SERVER_EMULATOR],
    }[args.server]
    impls = [i for i in IMPLEMENTATIONS if i in args.impls]
    plan: list[tuple[Workload, str, list[str]]] = []
    for name in args.only:
        spec = WORKLOADS[name].scaled(args.scale)
        if spec.stream:
            if SERVER_FAST in servers:
                plan.append((spec, SERVER_FAST, [i for i in impls if i == "library"]))
            continue
        if spec.latency > 0:
            if SERVER_FAST in servers:
                plan.append((spec, SERVER_SLOW, impls))
            continue
        for server in servers:
            if server == SERVER_EMULATOR and name not in EMULATOR_WORKLOADS:
                continue
            plan.append((spec, server, impls))
    return plan


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start the servers, run every child, aggregate."""
    plan = _plan(args)
    needed = {server for _, server, _ in plan}
    runs: list[dict[str, Any]] = []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dcycle-bench-")))
        servers: dict[str, Server] = {}
        if SERVER_FAST in needed:
            servers[SERVER_FAST] = stack.enter_context(
                _server(SERVER_FAST, ["-m", "benchmarks.fast_server", "--port", "0"])
            )
        if SERVER_SLOW in needed:
            servers[SERVER_SLOW] = stack.enter_context(
                _server(
                    SERVER_SLOW,
                    ["-m", "benchmarks.fast_server", "--port", "0", "--latency", str(W3_LATENCY)],
                )
            )
        if SERVER_EMULATOR in needed:
            servers[SERVER_EMULATOR] = stack.enter_context(
                _server(SERVER_EMULATOR, ["-m", "benchmarks.emulator_server", "--port", "0"])
            )
        for spec, server_name, impls in plan:
            server = servers[server_name]
            ids_file: Path | None = None
            if server_name == SERVER_EMULATOR:
                ids_file = tmp / f"{spec.name}.ids"
                kind = "invoices" if spec.kind == "link" else "transports"
                _log(f"seeding the emulator with {spec.n_ids:,} {kind} for {spec.name} ...")
                server.command(f"seed {kind} {spec.n_ids} {ids_file}")
            _warm_up(spec, server, ids_file)
            for repeat in range(args.repeat):
                # Rotate the order, so no implementation always runs first.
                shift = repeat % len(impls)
                for impl in impls[shift:] + impls[:shift]:
                    fraction = args.fractions.get((spec.name, impl), 1.0)
                    n = _subset(spec, fraction)
                    extra: list[str] = []
                    project = None
                    if ids_file is not None:
                        extra += ["--ids-file", str(ids_file)]
                        if spec.kind == "link":
                            project = server.command("project")
                            extra += ["--project-id", project]
                        else:
                            server.command("restore")
                    result = _run_child(spec, impl, server, n, extra)
                    if project is not None:
                        server.command(f"drop {project}")
                    result.update(
                        workload=spec.name,
                        title=spec.title,
                        server=server_name,
                        impl=impl,
                        repeat=repeat,
                        full_ids=spec.n_ids,
                        full_requests=spec.chunks,
                        concurrency=1 if impl == "requests" else spec.concurrency,
                        ideal_s=spec.ideal,
                    )
                    runs.append(result)
                    _log(
                        f"{spec.name} {server_name:10s} {impl:12s} #{repeat + 1}:"
                        f" {result['wall_s']:7.3f}s wall, {result['cpu_s']:7.3f}s CPU,"
                        f" {result['requests']:,} requests, {result['peak_rss_mb']:,.0f} MB"
                    )
    rows = report.aggregate(runs)
    return {
        "machine": machine(),
        "config": {
            "scale": args.scale,
            "repeat": args.repeat,
            "server": args.server,
            "only": args.only,
            "impls": args.impls,
            "fractions": {f"{w}/{i}": f for (w, i), f in args.fractions.items()},
            "aggregate": "median over repeats; peak RSS is the max",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
        "rows": rows,
        "targets": report.targets(rows),
        "runs": runs,
    }


def _warm_up(spec: Workload, server: Server, ids_file: Path | None) -> None:
    """One small untimed run, so the server's first requests are not counted."""
    if ids_file is not None:
        return  # the emulator's data would be changed by it
    warm = min(spec.n_ids, spec.chunk_size * (1 if spec.latency > 0 else spec.concurrency))
    _run_child(spec, "library", server, warm)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="dcycle_async against hand-written aiohttp, httpx and requests loops.",
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"1/{1 / QUICK_SCALE:.0f} of the sizes, one repeat"
    )
    parser.add_argument("--scale", type=float, help="multiply every workload's id count")
    parser.add_argument("--only", default="W1,W2,W3,W4", help="workloads, e.g. W1,W3")
    parser.add_argument(
        "--impls",
        default=",".join(IMPLEMENTATIONS),
        help="implementations (default: %(default)s)",
    )
    parser.add_argument(
        "--server",
        choices=("fast", "emulator", "both"),
        default="both",
        help="W1/W2 against the fast responder, the emulator, or both;"
        " W3 and W4 always use the fast responder (and need it)",
    )
    parser.add_argument("--repeat", type=int, help="runs per row (median); default 3, --quick 1")
    parser.add_argument(
        "--full-baselines",
        action="store_true",
        help="run the httpx and requests loops on all of W1 instead of a subset",
    )
    parser.add_argument("--json", default=str(report.DEFAULT_JSON), help="where to write")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    args = parser.parse_args(argv)
    args.only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    unknown = set(args.only) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
    args.impls = [i.strip() for i in args.impls.split(",") if i.strip()]
    bad = set(args.impls) - set(IMPLEMENTATIONS)
    if bad:
        parser.error(f"unknown implementations: {', '.join(sorted(bad))}")
    if args.scale is None:
        args.scale = QUICK_SCALE if args.quick else 1.0
    if not 0 < args.scale <= 1:
        parser.error("--scale must be in (0, 1]")
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    args.fractions = {} if args.full_baselines else dict(DEFAULT_FRACTIONS)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the table, write the JSON."""
    args = _parse_args(argv)
    results = run(args)
    print(report.format_table(results["rows"], results["targets"], markdown=args.markdown))
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    partial.replace(path)
    _log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
