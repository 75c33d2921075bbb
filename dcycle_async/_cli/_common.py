"""What every command shares: exit codes, expected errors, and the terminal."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Final, TextIO, TypeVar

import attrs

from .._config import ENV_API_KEY, ENV_BEARER_TOKEN

__all__ = ["CliError", "ExitCode", "Term", "in_daemon_thread", "isatty", "one_line"]

T = TypeVar("T")

_REDACTED: Final = "***"
_WHITESPACE: Final = re.compile(r"\s+")


class ExitCode(enum.IntEnum):
    """The exit statuses of ``dcycle-async``.

    OK: everything succeeded.  FAILED: the operation ran but some ids (or
    the request) failed, or a confirmation was declined.  USAGE: bad usage,
    configuration, input, filters, or credentials rejected (401/403) — a
    person must fix something before a rerun can help.  INTERRUPTED: Ctrl-C.
    """

    OK = 0
    FAILED = 1
    USAGE = 2
    INTERRUPTED = 130


class CliError(Exception):
    """An expected failure: printed as one line, mapped to an exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        self.code = code
        super().__init__(message)


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) as one space."""
    return _WHITESPACE.sub(" ", text).strip()


@attrs.define
class Term:
    """The streams of one run, and the secrets that must never reach them.

    Streams are looked up on ``sys`` when the run starts (not at import),
    so tests can swap them.  Every message of the CLI's own goes through
    ``error``/``warn``/``note``, which redact the credentials in play.
    """

    stdin: TextIO = attrs.Factory(lambda: sys.stdin)
    stdout: TextIO = attrs.Factory(lambda: sys.stdout)
    stderr: TextIO = attrs.Factory(lambda: sys.stderr)
    quiet: bool = False
    secrets: list[str] = attrs.Factory(list)

    def add_secrets(self, values: Iterable[str | None]) -> None:
        """Remember credentials to redact from every message."""
        for value in values:
            if value and value.strip() and value.strip() not in self.secrets:
                self.secrets.append(value.strip())

    def add_env_secrets(self) -> None:
        """Remember the credentials of the environment too."""
        self.add_secrets([os.environ.get(ENV_API_KEY), os.environ.get(ENV_BEARER_TOKEN)])

    def redact(self, text: str) -> str:
        """``text`` with every known credential replaced by ``***``.

        Also in its one-line form: messages have their whitespace runs
        squeezed (``one_line``), and so has a credential quoted in them.
        """
        for secret in self.secrets:
            text = text.replace(secret, _REDACTED)
            squeezed = one_line(secret)
            if squeezed != secret:
                text = text.replace(squeezed, _REDACTED)
        return text

    def error(self, message: str) -> None:
        """One line on stderr, prefixed ``error:`` (never suppressed)."""
        self._line(f"error: {message}")

    def warn(self, message: str) -> None:
        """One line on stderr, prefixed ``warning:`` (suppressed by --quiet)."""
        if not self.quiet:
            self._line(f"warning: {message}")

    def note(self, message: str) -> None:
        """A line of commentary on stderr (suppressed by --quiet)."""
        if not self.quiet:
            self._line(message)

    def out(self, text: str = "") -> None:
        """Text on stdout (the report, a listing, JSON)."""
        self.stdout.write(self.redact(text) + "\n")

    def _line(self, text: str) -> None:
        self.stderr.write(self.redact(one_line(text)) + "\n")
        self.stderr.flush()

    def stderr_is_terminal(self) -> bool:
        """Whether stderr is an interactive terminal (progress bars go there)."""
        return isatty(self.stderr)


def isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):  # a closed or detached stream
        return False


async def in_daemon_thread(func: Callable[[], T]) -> T:
    """``func()`` in a daemon thread of its own, awaited without blocking the loop.

    Not a pool worker: a read blocked on a terminal or a pipe must never
    keep the process alive after Ctrl-C (the interpreter waits for pool
    threads at exit, never for daemons).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(value: T | None, error: BaseException | None) -> None:
        if future.done():  # cancelled while the thread was blocked
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)  # type: ignore[arg-type]

    def work() -> None:
        try:
            value = func()
        except BaseException as exc:
            outcome: tuple[T | None, BaseException | None] = (None, exc)
        else:
            outcome = (value, None)
        # RuntimeError: the loop is closed, nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=work, name="dcycle-async reader", daemon=True).start()
    return await future
