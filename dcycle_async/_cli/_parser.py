"""The argparse tree of ``dcycle-async``.

Global options (credentials, base URL, timeouts, ``--quiet``) are accepted
both before and after the subcommand: they are declared on every level
with ``default=SUPPRESS``, so whichever level saw them sets them and the
real defaults are applied in one place (``option``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, Final, NoReturn

from .._batching import DELETE_CHUNK_LIMIT, LINK_CHUNK_LIMIT
from .._config import (
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_BEARER_TOKEN,
    ENV_ORG_ID,
)
from .._enums import ArrayStyle, EntityType
from .._version import __version__
from ._common import CliError

__all__ = ["GLOBAL_DEFAULTS", "build_parser", "option"]

PROG: Final = "dcycle-async"

GLOBAL_DEFAULTS: Final[dict[str, Any]] = {
    "api_key": None,
    "bearer_token": None,
    "org_id": None,
    "base_url": None,
    "timeout": DEFAULT_TIMEOUT,
    "max_retries": DEFAULT_MAX_RETRIES,
    "concurrency": DEFAULT_MAX_CONCURRENCY,
    "array_style": ArrayStyle.REPEAT.value,
    "allow_insecure_http": False,
    "quiet": False,
}

_DESCRIPTION: Final = """\
Bulk operations on the Dcycle API: delete transports and vehicles by id or by
filters, link and unlink project entities, list records. Ids come from a file
or stdin, one per line or a CSV column, and are streamed (millions are fine).

Credentials come from the environment, as for the library:
  DCYCLE_API_KEY (or DCYCLE_BEARER_TOKEN), DCYCLE_ORG_ID, DCYCLE_BASE_URL.

Exit status: 0 all succeeded, 1 some ids (or the request) failed or the
confirmation was declined, 2 usage, configuration, input or credential error,
130 interrupted.
"""

_EPILOG: Final = """\
examples:
  dcycle-async demo                                   # a full pipeline on the built-in emulator
  dcycle-async transports bulk-delete ids.txt --report report.json
  dcycle-async vehicles bulk-delete export.csv --column vehicle_id --yes
  cut -d, -f1 ids.csv | dcycle-async transports bulk-delete - --yes --quiet
  dcycle-async projects link $PROJECT invoices invoice_ids.txt
  dcycle-async projects link-by-filters $PROJECT invoices --filter start_date=2024-01-01
  dcycle-async transports list --filter status=error --all --ids-only > errors.txt
  dcycle-async transports delete-by-filters --filter status=error --filter to_date=2023-12-31
"""


class _Parser(argparse.ArgumentParser):
    """Raises instead of exiting, so ``main`` maps every problem to an exit code."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see '{self.prog} --help')")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=34)


def _int_at_least(minimum: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)  # int() takes "100_000" too
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _global_options() -> _Parser:
    parent = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    group = parent.add_argument_group("connection (also accepted before the command)")
    group.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"API key (default ${ENV_API_KEY}; prefer the variable: flags show in process lists)",
    )
    group.add_argument(
        "--bearer-token",
        metavar="TOKEN",
        help=f"instead of an API key (default ${ENV_BEARER_TOKEN})",
    )
    group.add_argument("--org-id", metavar="UUID", help=f"organisation id (default ${ENV_ORG_ID})")
    group.add_argument(
        "--base-url",
        metavar="URL",
        help=f"API base URL (default ${ENV_BASE_URL}, else https://api.dcycle.io)",
    )
    group.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help=f"per attempt (default {DEFAULT_TIMEOUT:g})",
    )
    group.add_argument(
        "--max-retries",
        type=_int_at_least(0),
        metavar="N",
        help=f"retries of a failed request (default {DEFAULT_MAX_RETRIES})",
    )
    group.add_argument(
        "--concurrency",
        type=_int_at_least(1),
        metavar="N",
        help=f"requests in flight at once (default {DEFAULT_MAX_CONCURRENCY})",
    )
    group.add_argument(
        "--array-style",
        choices=[s.value for s in ArrayStyle],
        help="how multi-valued filters go in query strings (default repeat: k=a&k=b)",
    )
    group.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="permit a plain-http base URL on a non-loopback host (e.g. an emulator in CI)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bars, notes or warnings on stderr (errors still show)",
    )
    return parent


def _ids_options(*, limit: int, destructive: bool) -> _Parser:
    parent = _Parser(add_help=False)
    parent.add_argument(
        "ids_file",
        nargs="?",
        metavar="IDS_FILE",
        help="file of ids, one per line (or CSV with --column); '-' or omitted: stdin",
    )
    parent.add_argument("--column", metavar="NAME", help="read ids from this column of a CSV")
    parent.add_argument(
        "--delimiter", default=",", metavar="CHAR", help="CSV delimiter (default ',')"
    )
    parent.add_argument(
        "--chunk-size",
        type=_int_at_least(1),
        default=limit,
        metavar="N",
        help=f"ids per request (default and maximum {limit:,})",
    )
    parent.add_argument(
        "--low-memory",
        action="store_true",
        help="bounded memory for huge inputs: duplicates found per chunk only"
        + (", success ids not listed" if destructive else ""),
    )
    parent.add_argument(
        "--dry-run",
        action="store_true",
        help="read and validate the ids (valid, invalid, duplicates); send nothing",
    )
    if destructive:
        parent.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    _report_options(parent)
    return parent


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report", metavar="FILE", help="write the JSON report to FILE ('-': stdout)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the JSON report on stdout instead of a summary"
    )


def _filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--filter",
        action="append",
        metavar="KEY=VALUE",
        dest="filters",
        help="a filter; repeat it, or comma-separate values of multi-valued keys",
    )
    parser.add_argument(
        "--filters-json", metavar="JSON", help="filters as a JSON object (merged with --filter)"
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    common = _global_options()
    parser = _Parser(
        prog=PROG,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=_Formatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="group", metavar="COMMAND", parser_class=_Parser)

    def leaf(
        sub: argparse._SubParsersAction[_Parser],
        name: str,
        help_text: str,
        parents: Sequence[_Parser] = (),
    ) -> _Parser:
        every = [*parents, common]
        return sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            parents=every,
            formatter_class=_Formatter,
        )

    for resource in ("transports", "vehicles"):
        group = commands.add_parser(
            resource, help=f"{resource}: bulk-delete, list, delete-by-filters", parents=[common]
        )
        sub = group.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
        sub.required = True
        leaf(
            sub,
            "bulk-delete",
            f"delete {resource} by id (chunks of up to {DELETE_CHUNK_LIMIT:,} ids per request)",
            [_ids_options(limit=DELETE_CHUNK_LIMIT, destructive=True)],
        )
        listing = leaf(sub, "list", f"list {resource}, one page or --all")
        _filter_options(listing)
        listing.add_argument("--page", type=_int_at_least(1), default=1, metavar="N")
        listing.add_argument(
            "--size", type=_int_at_least(1), default=50, metavar="N", help="page size (max 100)"
        )
        listing.add_argument("--all", action="store_true", help="every page, streamed")
        listing.add_argument(
            "--sort", action="append", metavar="FIELD", help="sort field, '-' prefix: descending"
        )
        listing.add_argument(
            "--json", action="store_true", help="JSON (with --all: one JSON object per line)"
        )
        listing.add_argument(
            "--ids-only", action="store_true", help="only the ids, one per line (pipe-friendly)"
        )
        by_filters = leaf(
            sub,
            "delete-by-filters",
            f"delete every {resource[:-1]} matching filters: preview the count, confirm, delete",
        )
        _filter_options(by_filters)
        by_filters.add_argument("-y", "--yes", action="store_true", help="do not ask")
        by_filters.add_argument(
            "--dry-run",
            action="store_true",
            help="only the preview (a read-only list request): count and sample",
        )
        by_filters.add_argument(
            "--sample", type=_int_at_least(1), default=5, metavar="N", help="records shown"
        )
        _report_options(by_filters)

    projects = commands.add_parser(
        "projects", help="project entity links: link, unlink, link-by-filters", parents=[common]
    )
    sub = projects.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    sub.required = True
    entity_types = [t.value for t in EntityType]
    for action, verb in (("link", "link"), ("unlink", "unlink")):
        cmd = _Parser(add_help=False)
        cmd.add_argument("project_id", metavar="PROJECT_ID")
        cmd.add_argument("entity_type", metavar="ENTITY_TYPE", choices=entity_types)
        leaf(
            sub,
            action,
            f"{verb} entities to a project by id (chunks of up to {LINK_CHUNK_LIMIT} ids);"
            f" ENTITY_TYPE: {', '.join(entity_types)}",
            [cmd, _ids_options(limit=LINK_CHUNK_LIMIT, destructive=False)],
        )
    by_filters = leaf(
        sub,
        "link-by-filters",
        "link every entity of a type that matches filters (one request)",
    )
    by_filters.add_argument("project_id", metavar="PROJECT_ID")
    by_filters.add_argument("entity_type", metavar="ENTITY_TYPE", choices=entity_types)
    _filter_options(by_filters)
    by_filters.add_argument(
        "--all", action="store_true", help="no filters: link every entity of the type"
    )
    by_filters.add_argument(
        "--dry-run", action="store_true", help="validate and show the request; send nothing"
    )
    _report_options(by_filters)

    demo = commands.add_parser(
        "demo",
        help="run a full pipeline against the built-in emulator (no account needed)",
        description="Start the API emulator in-process, seed a realistic organisation and run"
        " a full pipeline with progress bars: link by ids and by filters, unlink, preview and"
        " delete by filters, bulk delete by ids; then print a summary table with timings.",
        formatter_class=_Formatter,
    )
    demo.add_argument("--transports", type=_int_at_least(1), default=None, metavar="N",
                      help="transport routes to seed (default 300,000)")  # fmt: skip
    demo.add_argument("--vehicles", type=_int_at_least(1), default=None, metavar="N",
                      help="vehicles to seed (default 50,000)")  # fmt: skip
    demo.add_argument("--invoices", type=_int_at_least(1), default=None, metavar="N",
                      help="invoices to seed (default 200,000)")  # fmt: skip
    demo.add_argument("--latency", type=_non_negative_float, default=0.0, metavar="SECONDS",
                      help="emulated network latency per request (default 0)")  # fmt: skip
    demo.add_argument("--concurrency", type=_int_at_least(1), default=argparse.SUPPRESS,
                      metavar="N", help="client requests in flight (default 8)")  # fmt: skip
    demo.add_argument("--quick", action="store_true", help="small sizes (a few seconds)")
    demo.add_argument("--no-faults", action="store_true",
                      help="do not inject the occasional 503 that shows retries")  # fmt: skip
    demo.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    demo.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                      help="no progress bars")  # fmt: skip
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def option(args: argparse.Namespace, name: str) -> Any:
    """A global option's value: as given on any level, else its default."""
    return getattr(args, name, GLOBAL_DEFAULTS[name])
