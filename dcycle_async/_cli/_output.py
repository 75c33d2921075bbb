"""Reports as a readable summary (stdout) and as JSON (``--json`` / ``--report FILE``)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from .._converters import unstructure
from .._models import BulkDeleteReport, LinkByFiltersResult, LinkReport, UnlinkReport
from ._common import CliError, Term
from ._inputs import IdsCheck

__all__ = [
    "AnyReport",
    "report_json",
    "summary_lines",
    "write_json",
]

AnyReport = BulkDeleteReport | LinkReport | UnlinkReport | LinkByFiltersResult
_SHOWN: Final = 5


def report_json(
    operation: str,
    report: AnyReport | IdsCheck,
    *,
    elapsed: float | None = None,
    aborted: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON document of a report: its fields plus ``ok`` and computed ones.

    ``ok`` is not a constructor field of the reports, so ``unstructure``
    leaves it out; deletes add ``uncertain_ids`` (failed ids whose chunk
    was retried after an unknown outcome: they may have been deleted).
    """
    doc: dict[str, Any] = {"operation": operation}
    if isinstance(report, IdsCheck):
        doc.update(
            dry_run=True,
            ok=report.ok,
            ids_read=report.read,
            valid_count=report.valid,
            invalid_ids=[str(i) for i in report.invalid_ids],
            duplicate_count=report.duplicate_count,
        )
    else:
        doc.update(unstructure(report))
        doc["ok"] = _report_ok(report)
        if isinstance(report, BulkDeleteReport):
            doc["uncertain_ids"] = list(report.uncertain_ids)
        if "invalid_ids" in doc:
            # Invalid inputs are kept as given; from a file they are strings.
            doc["invalid_ids"] = [str(i) for i in doc["invalid_ids"]]
    if aborted is not None:
        doc["ok"] = False
        doc["aborted"] = aborted
    if elapsed is not None:
        doc["elapsed_seconds"] = round(elapsed, 3)
    if extra:
        doc.update(extra)
    return doc


def _report_ok(report: AnyReport) -> bool:
    return True if isinstance(report, LinkByFiltersResult) else report.ok


def write_json(doc: Mapping[str, Any], path: str | None, term: Term, *, to_stdout: bool) -> None:
    """Write ``doc`` to ``path`` (atomically: a reader never sees half a report) and/or stdout."""
    data = orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    if path is not None:
        if path == "-":
            to_stdout = True
        else:
            _write_atomically(path, data + b"\n")
    if to_stdout:
        term.out(data.decode())


def _write_atomically(path: str, data: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".dcycle-report-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise CliError(f"cannot write the report to {path}: {exc.strerror or exc}") from None


def _ids(label: str, ids: Sequence[Any], total: int | None = None) -> list[str]:
    count = len(ids) if total is None else total
    if not count:
        return []
    shown = ", ".join(str(i) for i in ids[:_SHOWN])
    more = f" … and {count - _SHOWN:,} more" if count > _SHOWN else ""
    return [f"  {label} ({count:,}): {shown}{more}"]


def summary_lines(operation: str, report: AnyReport | IdsCheck, elapsed: float | None) -> list[str]:
    """A short human summary: counts, a few failed/invalid ids, errors, retries."""
    took = f" in {elapsed:.1f}s" if elapsed is not None else ""
    if isinstance(report, IdsCheck):
        lines = [
            f"{operation} (dry run, nothing sent): {report.read:,} ids read,"
            f" {report.valid:,} valid and unique, {len(report.invalid_ids):,} invalid,"
            f" {report.duplicate_count:,} duplicates"
        ]
        lines += _ids("invalid ids", report.invalid_ids)
        return lines
    if isinstance(report, LinkByFiltersResult):
        return [f"{operation}: {report.created:,} links created, {report.skipped:,} skipped{took}"]
    if isinstance(report, BulkDeleteReport):
        head = f"{report.success_count:,} deleted, {report.failed_count:,} failed"
    elif isinstance(report, LinkReport):
        head = f"{report.created:,} links created, {report.skipped:,} skipped"
        head += f", {len(report.failed_ids):,} failed"
    else:
        head = f"{report.deleted:,} links removed, {len(report.failed_ids):,} failed"
    if report.invalid_ids:
        head += f", {len(report.invalid_ids):,} invalid"
    if report.duplicate_count:
        head += f", {report.duplicate_count:,} duplicates dropped"
    lines = [f"{operation}: {head}{took}"]
    lines.append(f"  requests: {report.requests:,} ({report.retries:,} retries)")
    lines += _ids("failed ids", report.failed_ids)
    lines += _ids(
        "invalid ids", [repr(i) if not isinstance(i, str) else i for i in report.invalid_ids]
    )
    for error in report.errors[:_SHOWN]:
        lines.append(f"  chunk {error.index} ({len(error.ids):,} ids) failed: {error.error}")
    if len(report.errors) > _SHOWN:
        lines.append(f"  … and {len(report.errors) - _SHOWN:,} more failed chunks")
    if report.retried_chunks:
        lines.append(
            f"  {len(report.retried_chunks):,} chunk(s) retried after an unknown outcome"
            " (an earlier attempt may have been applied)"
        )
        if isinstance(report, BulkDeleteReport) and report.uncertain_ids:
            lines += _ids("uncertain ids (may be deleted already)", report.uncertain_ids)
    for warning in report.warnings[:_SHOWN]:
        lines.append(f"  warning: {warning}")
    return lines
