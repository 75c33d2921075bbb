"""The commands: each takes the parsed arguments and the terminal, returns an exit code.

Every command checks everything it can (arguments, input file, filters,
configuration, a way to confirm) before its first request, so a usage
error never leaves an operation half done.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, Literal

import orjson

from .._batching import (
    DELETE_CHUNK_LIMIT,
    LINK_CHUNK_LIMIT,
    IdSource,
    ProgressCallback,
    check_chunk_size,
)
from .._client import DcycleClient
from .._config import ENV_API_KEY, ENV_BEARER_TOKEN, ENV_ORG_ID, ClientConfig
from .._converters import unstructure
from .._enums import EntityType
from .._errors import AuthenticationError, BulkOperationError, PermissionDeniedError
from .._filters import (
    LINK_FILTER_TYPES,
    TransportFilters,
    VehicleFilters,
    encode_query,
    is_empty,
    link_filters_body,
    link_filters_for,
    transport_filters,
    vehicle_filters,
)
from .._models import BulkDeleteReport, LinkReport, TransportRoute, UnlinkReport, Vehicle
from .._resources._common import check_path_id
from .._resources._records import RecordsResource
from ._common import CliError, ExitCode, Term, isatty, one_line
from ._confirm import prepare_confirmation
from ._inputs import IdInput, check_ids, filter_keys, parse_filters
from ._output import report_json, summary_lines, write_json
from ._parser import option
from ._progress import library_log_lines, make_bars

__all__ = ["AUTH_HINT", "client_settings", "run_command"]

Resource = Literal["transports", "vehicles"]
AUTH_HINT: Final = f"check {ENV_API_KEY} (or {ENV_BEARER_TOKEN}) and {ENV_ORG_ID}"

# Library messages name Python parameters; on the command line they are flags.
_FLAG_NAMES: Final = (
    ("allow_insecure_http=True", "--allow-insecure-http"),
    ("organization_id=", "--org-id"),
    ("bearer_token=", "--bearer-token"),
    ("api_key=", "--api-key"),
    ("base_url=", "--base-url"),
    ("max_concurrency", "--concurrency"),
)


# --- configuration -------------------------------------------------------------


def client_settings(args: argparse.Namespace, term: Term) -> dict[str, Any]:
    """The ``DcycleClient`` arguments from flags and environment, validated (exit 2)."""
    api_key = option(args, "api_key")
    bearer_token = option(args, "bearer_token")
    term.add_secrets([api_key, bearer_token])
    if api_key or bearer_token:
        term.warn(
            "a credential given as a flag is visible in process lists and shell history;"
            f" prefer {ENV_API_KEY} / {ENV_BEARER_TOKEN}"
        )
    # The library would say the same in Python terms (api_key=); say it in CLI terms.
    if not (api_key or bearer_token or _env(ENV_API_KEY) or _env(ENV_BEARER_TOKEN)):
        raise CliError(
            f"no credentials: set {ENV_API_KEY} (or {ENV_BEARER_TOKEN}), or pass --api-key"
        )
    if not (option(args, "org_id") or _env(ENV_ORG_ID)):
        raise CliError(f"no organisation: set {ENV_ORG_ID} or pass --org-id")
    settings: dict[str, Any] = {
        "api_key": api_key,
        "organization_id": option(args, "org_id"),
        "bearer_token": bearer_token,
        "base_url": option(args, "base_url"),
        "timeout": option(args, "timeout"),
        "max_retries": option(args, "max_retries"),
        "max_concurrency": option(args, "concurrency"),
        "array_style": option(args, "array_style"),
        "allow_insecure_http": option(args, "allow_insecure_http"),
    }
    try:
        ClientConfig.create(**settings)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        for name, flag in _FLAG_NAMES:
            message = message.replace(name, flag)
        raise CliError(f"configuration: {message}") from None
    return settings


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def _checked(what: str, check: Callable[[], Any]) -> Any:
    try:
        return check()
    except (ValueError, TypeError) as exc:
        raise CliError(f"{what}: {exc}") from None


# --- output ------------------------------------------------------------------


def _emit(
    args: argparse.Namespace,
    term: Term,
    operation: str,
    report: Any,
    *,
    elapsed: float | None = None,
    aborted: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """The summary on stdout, or the JSON (``--json``); the JSON to ``--report FILE``."""
    report_path: str | None = getattr(args, "report", None)
    as_json = bool(getattr(args, "json", False)) or report_path == "-"
    if as_json or report_path:
        doc = report_json(operation, report, elapsed=elapsed, aborted=aborted, extra=extra)
        write_json(doc, report_path, term, to_stdout=as_json)
    if not as_json:
        for line in summary_lines(operation, report, elapsed):
            term.out(line)


def _outcome(ok: bool) -> ExitCode:
    return ExitCode.OK if ok else ExitCode.FAILED


# --- id-based operations -------------------------------------------------------

IdReport = BulkDeleteReport | LinkReport | UnlinkReport
IdOperation = Callable[[DcycleClient, IdSource, ProgressCallback], Awaitable[IdReport]]


async def _id_input(args: argparse.Namespace, term: Term) -> IdInput:
    path = args.ids_file
    if path is None and isatty(term.stdin):
        raise CliError("no ids: give a file of ids, or pipe them on stdin (use '-' to type them)")
    if args.column is not None and not args.column.strip():
        raise CliError("--column needs a column name")
    if len(args.delimiter) != 1:
        raise CliError(f"--delimiter must be one character, got {args.delimiter!r}")
    source = IdInput(
        path=None if path in (None, "-") else path,
        column=args.column,
        delimiter=args.delimiter,
        stdin=term.stdin,
    )
    await source.check()
    return source


async def _ids_command(
    args: argparse.Namespace,
    term: Term,
    *,
    operation: str,
    limit: int,
    destructive: bool,
    noun: str,
    run: IdOperation,
) -> ExitCode:
    _checked("--chunk-size", lambda: check_chunk_size(args.chunk_size, limit))
    settings = client_settings(args, term)
    source = await _id_input(args, term)
    if args.dry_run:
        async with contextlib.aclosing(source.stream()) as ids:
            check = await check_ids(ids, low_memory=args.low_memory, chunk=args.chunk_size)
        _emit(args, term, operation, check)
        return _outcome(check.ok)
    confirmation = (
        prepare_confirmation(term, yes=args.yes, ids_from_stdin=source.from_stdin)
        if destructive
        else None
    )
    bars = make_bars(term)
    total: int | None = None
    if source.path is not None and (confirmation is not None or bars.active):
        # A first pass over the file, before the client exists (nothing else
        # runs yet, so reading it on the loop's thread costs no one anything).
        total = source.count()
    if confirmation is not None:
        what = (
            f"up to {total:,} {noun} (the ids in {source.label})"
            if total is not None
            else f"the {noun} whose ids are read from stdin (count unknown: they are streamed)"
        )
        await confirmation.ask(f"Delete {what}? This cannot be undone.")

    report: IdReport
    aborted: BulkOperationError | None = None
    started = time.perf_counter()
    async with DcycleClient(**settings) as client:
        with bars, library_log_lines(term, bars):
            bar = bars.bar(operation, total)
            try:
                # aclosing: an aborted run stops the reader thread at once.
                async with contextlib.aclosing(source.stream()) as ids:
                    report = await run(client, ids, bar)
            except BulkOperationError as exc:
                aborted = exc
                report = exc.report
            bar.finish()
    elapsed = time.perf_counter() - started
    if aborted is not None:
        # One line: the cause, what it means for the ids, and what to check.
        cause = aborted.__cause__ or aborted
        auth = isinstance(cause, AuthenticationError | PermissionDeniedError)
        message = one_line(
            f"{operation} aborted: {cause}; {len(report.failed_ids):,} ids not confirmed"
            " are counted as failed" + (f" ({AUTH_HINT})" if auth else "")
        )
        term.error(message)
        _emit(args, term, operation, report, elapsed=elapsed, aborted=message)
        return ExitCode.USAGE if auth else ExitCode.FAILED
    _emit(args, term, operation, report, elapsed=elapsed)
    return _outcome(report.ok)


async def bulk_delete(args: argparse.Namespace, term: Term, resource: Resource) -> ExitCode:
    """``transports|vehicles bulk-delete [IDS_FILE|-]``."""

    async def run(client: DcycleClient, ids: IdSource, bar: ProgressCallback) -> BulkDeleteReport:
        target = client.transports if resource == "transports" else client.vehicles
        return await target.bulk_delete(
            ids, chunk_size=args.chunk_size, on_progress=bar, low_memory=args.low_memory
        )

    return await _ids_command(
        args,
        term,
        operation=f"{resource} bulk-delete",
        limit=DELETE_CHUNK_LIMIT,
        destructive=True,
        noun=resource,
        run=run,
    )


async def link_ids(args: argparse.Namespace, term: Term, action: str) -> ExitCode:
    """``projects link|unlink PROJECT_ID ENTITY_TYPE [IDS_FILE|-]``."""
    project_id = _checked("PROJECT_ID", lambda: check_path_id("project_id", args.project_id))
    entity_type = EntityType(args.entity_type)

    async def run(
        client: DcycleClient, ids: IdSource, bar: ProgressCallback
    ) -> LinkReport | UnlinkReport:
        call = client.projects.link if action == "link" else client.projects.unlink
        return await call(
            project_id,
            entity_type,
            ids,
            chunk_size=args.chunk_size,
            on_progress=bar,
            low_memory=args.low_memory,
        )

    return await _ids_command(
        args,
        term,
        operation=f"projects {action} {entity_type.value}",
        limit=LINK_CHUNK_LIMIT,
        destructive=False,
        noun=entity_type.value,
        run=run,
    )


# --- filters -----------------------------------------------------------------


def _records(client: DcycleClient, resource: Resource) -> RecordsResource[Any, Any]:
    return client.transports if resource == "transports" else client.vehicles


def _record_filters(
    args: argparse.Namespace, resource: Resource
) -> TransportFilters | VehicleFilters:
    cls = TransportFilters if resource == "transports" else VehicleFilters
    names, multi, bools = filter_keys(cls)
    raw = parse_filters(
        args.filters, args.filters_json, multi_keys=multi, bool_keys=bools, allowed=names
    )
    return transport_filters(raw) if resource == "transports" else vehicle_filters(raw)


def _describe_filters(filters: TransportFilters | VehicleFilters) -> str:
    # The query exactly as it is sent, so what a person confirms is what runs.
    return " ".join(f"{k}={v}" for k, v in encode_query(filters))


_TRANSPORT_COLUMNS: Final = (
    ("id", 36), ("date", 10), ("status", 7), ("direction", 10), ("co2e kg", 10),
    ("supplier", 20), ("name", 0),
)  # fmt: skip
_VEHICLE_COLUMNS: Final = (
    ("id", 36), ("status", 8), ("ownership", 9), ("type", 9), ("plate", 10), ("name", 0),
)  # fmt: skip


def _row(item: TransportRoute | Vehicle) -> list[str]:
    def text(value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:,.1f}"
        return str(value)

    if isinstance(item, TransportRoute):
        values: Sequence[object] = (
            item.id, item.transport_date, item.status, item.transport_direction, item.co2e,
            item.supplier, item.name,
        )  # fmt: skip
    else:
        values = (item.id, item.status, item.ownership, item.type, item.license_plate, item.name)
    return [text(v) for v in values]


def _table_lines(
    resource: Resource, items: Sequence[TransportRoute | Vehicle], *, header: bool
) -> list[str]:
    columns = _TRANSPORT_COLUMNS if resource == "transports" else _VEHICLE_COLUMNS
    widths = [w for _, w in columns]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.ljust(w) if w else c for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    out = [line([name for name, _ in columns])] if header else []
    out.extend(line(_row(item)) for item in items)
    return out


async def list_records(args: argparse.Namespace, term: Term, resource: Resource) -> ExitCode:
    """``transports|vehicles list [--filter K=V ...] [--page N --size N | --all]``."""
    filters = _record_filters(args, resource)
    if args.size > 100:
        raise CliError(f"--size is at most 100 (the API's limit), got {args.size}")
    if args.json and args.ids_only:
        raise CliError("--json and --ids-only are exclusive")
    for field in args.sort or ():
        if not field.strip("-").strip():
            raise CliError(
                f"--sort needs a field name such as 'created_at' or '-name', got {field!r}"
            )
    settings = client_settings(args, term)
    async with DcycleClient(**settings) as client:
        target = _records(client, resource)
        if args.all:
            count = 0
            batch: list[TransportRoute | Vehicle] = []
            async for item in target.iter(filters, size=100, sort=args.sort):
                count += 1
                if args.ids_only:
                    term.out(item.id)
                elif args.json:
                    term.out(_json_line(item))
                else:
                    # Rows go out a page at a time, with the header once.
                    batch.append(item)
                    if len(batch) == 100:
                        term.out("\n".join(_table_lines(resource, batch, header=count == 100)))
                        batch.clear()
            if batch:
                term.out("\n".join(_table_lines(resource, batch, header=count <= 100)))
            described = _describe_filters(filters)
            term.note(
                f"listed {count:,} {resource}" + (f" matching {described}" if described else "")
            )
            return ExitCode.OK
        page = await target.list(filters, page=args.page, size=args.size, sort=args.sort)
    if args.ids_only:
        for item in page.items:
            term.out(item.id)
    elif args.json:
        write_json(unstructure(page), None, term, to_stdout=True)
    else:
        if page.items:
            term.out("\n".join(_table_lines(resource, page.items, header=True)))
        pages = max(1, -(-page.total // page.size)) if page.size else 1
        first = (page.page - 1) * page.size + 1 if page.items else 0
        last = first + len(page.items) - 1 if page.items else 0
        term.out(
            f"{first:,}-{last:,} of {page.total:,} {resource} · page {page.page} of {pages:,}"
            f" · filter_hash {page.filter_hash or '-'}"
        )
    return ExitCode.OK


def _json_line(item: TransportRoute | Vehicle) -> str:
    return orjson.dumps(unstructure(item)).decode()


async def delete_by_filters(args: argparse.Namespace, term: Term, resource: Resource) -> ExitCode:
    """``transports|vehicles delete-by-filters --filter K=V ...``: preview, confirm, delete."""
    filters = _record_filters(args, resource)
    if is_empty(filters):
        raise CliError(
            "refusing to delete by filters without a filter: that would delete every record"
            " (give at least one --filter)"
        )
    if args.sample > 100:
        raise CliError(f"--sample is at most 100 (a page of the list), got {args.sample}")
    settings = client_settings(args, term)
    confirmation = (
        None if args.dry_run else prepare_confirmation(term, yes=args.yes, ids_from_stdin=False)
    )
    operation = f"{resource} delete-by-filters"
    described = _describe_filters(filters)
    async with DcycleClient(**settings) as client:
        target = _records(client, resource)
        preview = await target.preview_delete(filters, sample_size=args.sample)
        lines = [f"{preview.total:,} {resource} match {described}"]
        if preview.sample:
            lines.append(f"sample ({len(preview.sample)} of {preview.total:,}):")
            lines += _table_lines(resource, preview.sample, header=True)
        preview_doc = {
            "filters": described,
            "matched": preview.total,
            "filter_hash": preview.filter_hash,
        }
        if args.dry_run:
            as_json = args.json or args.report == "-"
            if as_json or args.report:
                doc = {
                    "operation": operation,
                    "dry_run": True,
                    "ok": True,
                    **preview_doc,
                    "sample": [unstructure(item) for item in preview.sample],
                }
                write_json(doc, args.report, term, to_stdout=as_json)
            if not as_json:
                for line in lines:
                    term.out(line)
                term.out("dry run: nothing was deleted")
            return ExitCode.OK
        if preview.total == 0:
            term.note(f"no {resource} match {described}: nothing to delete")
            _emit(args, term, operation, BulkDeleteReport(), elapsed=0.0, extra=preview_doc)
            return ExitCode.OK
        if confirmation is not None:
            # The preview is what a person decides on: show it even with --quiet.
            for line in lines:
                term.stderr.write(term.redact(line) + "\n")
            await confirmation.ask(
                f"Delete these {preview.total:,} {resource}? This cannot be undone."
            )
        else:
            term.note(lines[0])
        started = time.perf_counter()
        bars = make_bars(term)
        with bars, library_log_lines(term, bars):
            bar = bars.bar(operation, None, unit=resource)
            report = await target.delete_previewed(preview)
            bar.finish(report.success_count, report.requests)
    elapsed = time.perf_counter() - started
    if report.success_count != preview.total:
        term.warn(
            f"the preview counted {preview.total:,} {resource}, the delete removed"
            f" {report.success_count:,} (the data changed in between?)"
        )
    _emit(args, term, operation, report, elapsed=elapsed, extra=preview_doc)
    return _outcome(report.ok)


async def link_by_filters(args: argparse.Namespace, term: Term) -> ExitCode:
    """``projects link-by-filters PROJECT_ID ENTITY_TYPE --filter K=V ... | --all``."""
    project_id = _checked("PROJECT_ID", lambda: check_path_id("project_id", args.project_id))
    entity_type = EntityType(args.entity_type)
    names, multi, bools = filter_keys(LINK_FILTER_TYPES[entity_type])
    raw = parse_filters(
        args.filters, args.filters_json, multi_keys=multi, bool_keys=bools, allowed=names
    )
    filters = link_filters_for(entity_type, raw)
    if is_empty(filters) and not args.all:
        raise CliError(
            f"no filters: this would link every {entity_type.value} entity of the organisation;"
            " pass --all if that is what you mean"
        )
    if args.all and not is_empty(filters):
        raise CliError("--all links every entity: it cannot be combined with filters")
    operation = f"projects link-by-filters {entity_type.value}"
    body = {"entity_type": entity_type.value, "filters": link_filters_body(filters)}
    settings = client_settings(args, term)
    if args.dry_run:
        doc = {"operation": operation, "dry_run": True, "ok": True, "project_id": project_id,
               "request": body}  # fmt: skip
        as_json = args.json or args.report == "-"
        if as_json or args.report:
            write_json(doc, args.report, term, to_stdout=as_json)
        if not as_json:
            term.out(
                f"{operation} (dry run, nothing sent): would send {orjson.dumps(body).decode()}"
            )
        return ExitCode.OK
    started = time.perf_counter()
    async with DcycleClient(**settings) as client:
        result = await client.projects.link_by_filters(project_id, entity_type, filters)
    elapsed = time.perf_counter() - started
    _emit(args, term, operation, result, elapsed=elapsed, extra={"request": body})
    return ExitCode.OK


# --- dispatch ------------------------------------------------------------------


async def run_command(args: argparse.Namespace, term: Term) -> ExitCode:
    """Run the command the arguments name."""
    group: str | None = args.group
    action: str | None = getattr(args, "action", None)
    if group in ("transports", "vehicles"):
        resource: Resource = "transports" if group == "transports" else "vehicles"
        if action == "bulk-delete":
            return await bulk_delete(args, term, resource)
        if action == "list":
            return await list_records(args, term, resource)
        if action == "delete-by-filters":
            return await delete_by_filters(args, term, resource)
    if group == "projects":
        if action in ("link", "unlink"):
            return await link_ids(args, term, action)
        if action == "link-by-filters":
            return await link_by_filters(args, term)
    if group == "demo":
        from ._demo import run_demo

        return await run_demo(args, term)
    raise CliError("a command is required (see 'dcycle-async --help')")
