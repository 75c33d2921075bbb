"""``main`` and ``main_async``: parse, run, and map every outcome to an exit status.

``main(argv)`` returns the exit status: 0 all succeeded, 1 some ids (or the
request) failed or a confirmation was declined, 2 usage, configuration,
input or credential error, 130 interrupted.  Expected failures are printed
as one line on stderr, never as a traceback, and never with a credential
in them.  ``main_async(argv)`` is the same for callers already inside an
event loop (tests serving the emulator on their own loop).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from .._errors import (
    AuthenticationError,
    BulkOperationError,
    DcycleError,
    InvalidFiltersError,
    PermissionDeniedError,
)
from ._commands import AUTH_HINT, run_command
from ._common import CliError, ExitCode, Term
from ._parser import build_parser, option

__all__ = ["main", "main_async"]


async def main_async(argv: Sequence[str] | None = None) -> int:
    """Run the command line in the current event loop; the exit status."""
    term = Term()
    term.add_env_secrets()
    args_list = list(sys.argv[1:] if argv is None else argv)
    _remember_flag_secrets(term, args_list)
    try:
        try:
            args = build_parser().parse_args(args_list)
        except SystemExit as exc:  # --help and --version print, then "exit"
            return int(exc.code or 0)
        term.quiet = bool(option(args, "quiet"))
        if args.group is None:
            build_parser().print_help(term.stderr)
            return ExitCode.USAGE
        return await run_command(args, term)
    except CliError as exc:
        term.error(str(exc))
        return exc.code
    except InvalidFiltersError as exc:
        term.error(f"filters: {exc}")
        return ExitCode.USAGE
    except (AuthenticationError, PermissionDeniedError) as exc:
        term.error(f"{exc} ({AUTH_HINT})")
        return ExitCode.USAGE
    except BulkOperationError as exc:
        term.error(str(exc))
        cause = exc.__cause__
        auth = isinstance(cause, AuthenticationError | PermissionDeniedError)
        return ExitCode.USAGE if auth else ExitCode.FAILED
    except DcycleError as exc:
        term.error(str(exc))
        return ExitCode.FAILED
    except ValueError as exc:
        # A value the library refused that the CLI did not check first: still
        # the user's input, so one line and exit 2 rather than a traceback.
        term.error(str(exc))
        return ExitCode.USAGE
    except BrokenPipeError:
        # stdout closed early (``... | head``): stop quietly, as Python's docs advise.
        _silence_stdout()
        return ExitCode.FAILED
    except OSError as exc:
        # The machine's trouble (a full disk, a vanished terminal), not a bug.
        term.error(f"{type(exc).__name__}: {exc}")
        return ExitCode.FAILED


def _remember_flag_secrets(term: Term, argv: Sequence[str]) -> None:
    # Known before parsing, so even a usage error that echoes an argument
    # cannot print them.
    for n, arg in enumerate(argv):
        for flag in ("--api-key", "--bearer-token"):
            if arg == flag and n + 1 < len(argv):
                term.add_secrets([argv[n + 1]])
            elif arg.startswith(flag + "="):
                term.add_secrets([arg.partition("=")[2]])


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - no real stdout (tests)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: run the command line; the exit status."""
    try:
        return asyncio.run(main_async(argv))
    except KeyboardInterrupt:
        Term().error("interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return ExitCode.FAILED
