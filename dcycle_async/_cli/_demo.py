"""``dcycle-async demo``: a full pipeline against the emulator, in-process.

It seeds a realistic organisation, then runs what a reporting pipeline
does, through the public client only: link invoices to a project by id and
by filters, unlink some, preview and delete transports by filters, bulk
delete vehicles (a stream with noise in it) and transports (read from a
file, as ``dcycle-async transports bulk-delete FILE`` reads it).  It ends
with a summary table and checks every report against the emulator's store.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs

from .._client import DcycleClient
from .._enums import EntityType
from .._filters import InvoicesFilters, TransportFilters
from .._models import BulkDeleteReport, LinkByFiltersResult, LinkReport, UnlinkReport
from ._common import ExitCode, Term, isatty
from ._inputs import IdInput
from ._output import write_json
from ._parser import option
from ._progress import Bar, ProgressBars, library_log_lines, make_bars

if TYPE_CHECKING:
    from dcycle_async.testing import Emulator

__all__ = ["DEFAULT_SIZES", "QUICK_SIZES", "run_demo"]

DEFAULT_SIZES: Final = {"transports": 300_000, "vehicles": 50_000, "invoices": 200_000}
QUICK_SIZES: Final = {"transports": 3_000, "vehicles": 1_000, "invoices": 2_000}
# Occasional 503s on the link endpoints, so the table shows retries at work.
_FAULT_RATE: Final = 0.01
_ORG_NAME: Final = "Acme Logistics S.L."


@attrs.define
class Step:
    """One row of the summary table."""

    name: str
    ids: int
    requests: int
    retries: int
    failed: int
    seconds: float
    result: str

    @property
    def rate(self) -> float:
        """Ids per second."""
        return self.ids / self.seconds if self.seconds > 0 else 0.0


@attrs.define
class _Pipeline:
    term: Term
    bars: ProgressBars
    client: DcycleClient
    steps: list[Step] = attrs.Factory(list)

    async def step(
        self,
        name: str,
        total: int | None,
        call: Callable[[Bar], Awaitable[Any]],
        describe: Callable[[Any, float], Step],
        unit: str = "ids",
    ) -> Any:
        bar = self.bars.bar(name, total, unit=unit)
        started = time.perf_counter()
        result = await call(bar)
        elapsed = time.perf_counter() - started
        step = describe(result, elapsed)
        bar.finish(step.ids, step.requests)
        self.steps.append(step)
        if not self.bars.active:
            self.bars.log(
                f"✓ {step.name}: {step.result}"
                f" ({step.requests:,} request{'s' if step.requests != 1 else ''}, {elapsed:.2f}s)"
            )
        return result


def _sizes(args: argparse.Namespace) -> dict[str, int]:
    sizes = dict(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    for name in sizes:
        given = getattr(args, name)
        if given is not None:
            sizes[name] = given
    return sizes


def _id_report_step(name: str, report: BulkDeleteReport | LinkReport | UnlinkReport,
                    ids: int, elapsed: float, result: str) -> Step:  # fmt: skip
    return Step(
        name=name,
        ids=ids,
        requests=report.requests,
        retries=report.retries,
        failed=len(report.failed_ids) + len(report.invalid_ids),
        seconds=elapsed,
        result=result,
    )


def _write_lines(path: str, lines: Sequence[str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


async def _noisy_stream(ids: Sequence[str]) -> AsyncIterator[str]:
    """Ids as an export gives them: some repeated, some not ids at all."""
    for n, value in enumerate(ids):
        yield value
        if n % 1_000 == 0:
            yield value.upper()  # the same id, written differently: a duplicate
        if n % 20_000 == 7:
            yield "N/A"


async def run_demo(args: argparse.Namespace, term: Term) -> ExitCode:
    """Seed, serve, run the pipeline, print the table; exit 0 when every check passes."""
    from dcycle_async.testing import Emulator, Fault

    sizes = _sizes(args)
    term.quiet = bool(option(args, "quiet"))
    began = time.perf_counter()
    emulator = Emulator(latency=args.latency, seed=args.seed, record_requests=False)
    org = emulator.create_organization(name=_ORG_NAME)
    store = emulator.store
    project = store.create_project(org.id, name="FY2024 carbon footprint")
    bars = make_bars(term)
    if not args.json:
        term.note(
            f"Seeding {_ORG_NAME}: {sizes['transports']:,} transports,"
            f" {sizes['vehicles']:,} vehicles, {sizes['invoices']:,} invoices …"
        )
    transports = store.seed_transports(org.id, sizes["transports"])
    vehicles = store.seed_vehicles(org.id, sizes["vehicles"])
    invoices = store.seed_entities(org.id, EntityType.INVOICES, sizes["invoices"])
    seeded = time.perf_counter() - began
    if not args.no_faults:
        emulator.faults.add(Fault("status", status=503, rate=_FAULT_RATE, path="/v1/projects/*"))

    with tempfile.TemporaryDirectory(prefix="dcycle-demo-") as tmp:
        export = os.path.join(tmp, "transport_ids.txt")
        _write_lines(export, transports)
        async with emulator.serve() as url:
            if not args.json:
                term.note(
                    f"Emulator serving at {url} (seeded in {seeded:.1f}s); running the pipeline"
                )
            async with DcycleClient(
                api_key=org.api_key,
                organization_id=org.id,
                base_url=url,
                max_concurrency=option(args, "concurrency"),
            ) as client:
                pipeline = _Pipeline(term, bars, client)
                # The injected 503s are the point: the table counts their retries,
                # a warning line per retry would only bury the bars.
                with bars, library_log_lines(Term(quiet=True), bars):
                    checks = await _run_pipeline(
                        pipeline, emulator, org.id, project, transports, vehicles, invoices, export
                    )
    total = time.perf_counter() - began
    steps = pipeline.steps
    if args.json:
        write_json(
            {
                "sizes": sizes,
                "seed_seconds": round(seeded, 3),
                "total_seconds": round(total, 3),
                "checks_passed": not checks,
                "problems": checks,
                "steps": [attrs.asdict(s) | {"ids_per_second": round(s.rate)} for s in steps],
            },
            None,
            term,
            to_stdout=True,
        )
    else:
        _print_table(term, steps, seeded, total, sizes)
    for problem in checks:
        term.error(f"demo check failed: {problem}")
    return ExitCode.FAILED if checks else ExitCode.OK


async def _run_pipeline(
    p: _Pipeline,
    emulator: Emulator,
    org_id: str,
    project: str,
    transports: list[str],
    vehicles: list[str],
    invoices: list[str],
    export: str,
) -> list[str]:
    client = p.client
    store = emulator.store
    problems: list[str] = []

    def expect(condition: bool, problem: str) -> None:
        if not condition:
            problems.append(problem)

    # 1. Link by ids: half the invoices, from a finance export (100 ids per request).
    to_link = invoices[: len(invoices) // 2]
    link: LinkReport = await p.step(
        "link invoices by ids",
        len(to_link),
        lambda bar: client.projects.link(project, EntityType.INVOICES, to_link, on_progress=bar),
        lambda r, s: _id_report_step(
            "link invoices by ids", r, len(to_link), s, f"{r.created:,} linked"
        ),
    )
    expect(link.ok and link.created == len(to_link), "link by ids did not link every invoice")

    # 2. Link by filters: every electricity and heat invoice of one facility in 2024.
    facility = store.pools(org_id).facility_ids[0]
    by_filters = InvoicesFilters(
        facility_ids=[facility],
        types=["electricity", "heat"],
        start_date="2024-01-01",
        end_date="2024-12-31",
    )
    linked: LinkByFiltersResult = await p.step(
        "link invoices by filters",
        None,
        lambda bar: client.projects.link_by_filters(project, EntityType.INVOICES, by_filters),
        lambda r, s: Step(
            "link invoices by filters",
            r.created + r.skipped,
            1,
            0,
            0,
            s,
            f"{r.created:,} linked, {r.skipped:,} already linked",
        ),
    )

    # 3. Unlink: a tenth of the first batch was attributed to the wrong project.
    to_unlink = to_link[: len(to_link) // 10]
    unlink: UnlinkReport = await p.step(
        "unlink invoices by ids",
        len(to_unlink),
        lambda bar: client.projects.unlink(
            project, EntityType.INVOICES, to_unlink, on_progress=bar
        ),
        lambda r, s: _id_report_step(
            "unlink invoices by ids", r, len(to_unlink), s, f"{r.deleted:,} unlinked"
        ),
    )
    expect(unlink.ok and unlink.deleted == len(to_unlink), "unlink did not unlink every invoice")
    linked_now = store.linked_ids(project, EntityType.INVOICES)
    expect(
        len(linked_now) == link.created + linked.created - unlink.deleted,
        "the project's links do not add up",
    )

    # 4. Preview, then delete by filters: routes stuck in pending or error before mid-2024.
    stale = TransportFilters(status=["pending", "error"], from_date="2023-01-01",
                             to_date="2024-06-30")  # fmt: skip
    preview = await p.step(
        "preview transports by filters",
        None,
        lambda bar: client.transports.preview_delete(stale),
        lambda r, s: Step(
            "preview transports by filters", r.total, 1, 0, 0, s, f"{r.total:,} match"
        ),
    )
    removed: BulkDeleteReport = await p.step(
        "delete transports by filters",
        preview.total,
        lambda bar: client.transports.delete_previewed(preview),
        lambda r, s: _id_report_step(
            "delete transports by filters", r, r.success_count, s, f"{r.success_count:,} deleted"
        ),
    )
    expect(removed.success_count == preview.total, "delete by filters removed a different count")

    # 5. Bulk delete vehicles from a stream with duplicates and junk in it.
    gone: BulkDeleteReport = await p.step(
        "bulk delete vehicles (stream)",
        len(vehicles),
        lambda bar: client.vehicles.bulk_delete(
            _noisy_stream(vehicles), chunk_size=10_000, on_progress=bar
        ),
        lambda r, s: _id_report_step(
            "bulk delete vehicles (stream)",
            r,
            len(vehicles),
            s,
            f"{r.success_count:,} deleted, {len(r.invalid_ids)} invalid and"
            f" {r.duplicate_count:,} duplicate inputs set aside",
        ),
    )
    expect(
        gone.success_count == len(vehicles) and not gone.failed_ids and bool(gone.invalid_ids),
        "the vehicle stream was not fully deleted",
    )
    expect(not store.vehicle_ids(org_id), "vehicles remain in the store")

    # 6. Bulk delete every transport of an old export, read from a file: the
    #    routes deleted by filters in step 4 come back as failed (already gone).
    async def purge_file(bar: Bar) -> BulkDeleteReport:
        async with contextlib.aclosing(IdInput(path=export).stream()) as ids:
            return await client.transports.bulk_delete(ids, on_progress=bar)

    purge: BulkDeleteReport = await p.step(
        "bulk delete transports (file)",
        len(transports),
        purge_file,
        lambda r, s: _id_report_step(
            "bulk delete transports (file)",
            r,
            len(transports),
            s,
            f"{r.success_count:,} deleted, {r.failed_count:,} already gone",
        ),
    )
    expect(
        purge.success_count == len(transports) - removed.success_count
        and purge.failed_count == removed.success_count,
        "the transport purge does not match the delete by filters",
    )
    expect(not store.transport_ids(org_id), "transports remain in the store")
    return problems


def _print_table(
    term: Term, steps: Sequence[Step], seeded: float, total: float, sizes: dict[str, int]
) -> None:
    headers = ("step", "ids", "requests", "retries", "seconds", "ids/s", "result")
    rows = [
        (
            s.name,
            f"{s.ids:,}",
            f"{s.requests:,}",
            f"{s.retries:,}",
            f"{s.seconds:.2f}",
            f"{s.rate:,.0f}",
            s.result,
        )
        for s in steps
    ]
    pipeline = sum(s.seconds for s in steps)
    footer = (
        f"Seeded {sum(sizes.values()):,} records in {seeded:.1f}s; pipeline {pipeline:.1f}s;"
        f" total {total:.1f}s. Every report was checked against the emulator's store."
    )
    hint = (
        "Same commands against the real API: export DCYCLE_API_KEY=... DCYCLE_ORG_ID=...,"
        " then e.g. dcycle-async transports bulk-delete ids.txt"
    )
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        _plain_table(term, headers, rows)
    else:
        table = Table(title="dcycle-async demo", title_justify="left")
        for n, header in enumerate(headers):
            numeric = 0 < n < len(headers) - 1
            table.add_column(
                header, justify="right" if numeric else "left", no_wrap=numeric or n == 0
            )
        for row in rows:
            table.add_row(*row)
        # Off a terminal rich would assume 80 columns and squeeze the numbers.
        width = None if isatty(term.stdout) else 160
        Console(file=term.stdout, highlight=False, width=width).print(table)
    term.out(footer)
    term.out(hint)


def _plain_table(term: Term, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        cells = [
            c.rjust(w) if 0 < n < len(row) - 1 else c.ljust(w)
            for n, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        term.out("  ".join(cells).rstrip())
