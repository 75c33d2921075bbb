"""Asking before a destructive command: on a terminal, never on a pipe."""

from __future__ import annotations

from typing import Final, TextIO

import attrs

from ._common import CliError, ExitCode, Term, in_daemon_thread, isatty

__all__ = ["Confirmation", "open_tty", "prepare_confirmation"]

_YES: Final = frozenset({"y", "yes"})


def open_tty() -> tuple[TextIO, TextIO] | None:
    """The controlling terminal opened for a question (reader, writer), or None.

    Used when stdin carries the ids, so the answer cannot come from there
    (the way ``xargs -p`` asks).  Two handles, because a terminal is not
    seekable and Python's text mode "r+" needs that.  Tests replace this.
    """
    try:
        reader = open("/dev/tty", encoding="utf-8")  # noqa: SIM115 - the caller closes it
    except OSError:
        return None
    try:
        writer = open("/dev/tty", "w", encoding="utf-8")  # noqa: SIM115 - the caller closes it
    except OSError:
        reader.close()
        return None
    return reader, writer


@attrs.define
class Confirmation:
    """A yes/no question that can be asked: a terminal was found for it."""

    term: Term
    use_tty: bool

    async def ask(self, question: str) -> None:
        """Ask; return on yes, raise ``CliError`` (exit 1) on anything else."""
        tty = open_tty() if self.use_tty else None
        if self.use_tty and tty is None:
            raise CliError("refusing to delete without confirmation: the terminal went away")
        reader, writer = tty if tty is not None else (self.term.stdin, self.term.stderr)
        try:
            writer.write(f"{question} [y/N] ")
            writer.flush()
            # In a thread: the client's connections stay serviced while a person thinks.
            answer = await in_daemon_thread(reader.readline)
            if not answer.endswith("\n"):
                writer.write("\n")  # EOF: end the prompt's line
                writer.flush()
        finally:
            if tty is not None:
                for handle in tty:
                    handle.close()
        if answer.strip().lower() not in _YES:
            raise CliError("aborted: nothing was deleted", ExitCode.FAILED)


def prepare_confirmation(term: Term, *, yes: bool, ids_from_stdin: bool) -> Confirmation | None:
    """How to ask, settled before any work is done; None when ``--yes`` was given.

    The question goes to stderr and the answer comes from stdin when stdin
    is a terminal that does not carry the ids; otherwise the controlling
    terminal is used.  With neither (a pipeline, cron, CI) the command is
    refused with exit 2: a delete is never confirmed by default.
    """
    if yes:
        return None
    if not ids_from_stdin and isatty(term.stdin):
        return Confirmation(term, use_tty=False)
    tty = open_tty()
    if tty is not None:
        for handle in tty:
            handle.close()
        return Confirmation(term, use_tty=True)
    where = (
        "the ids come from stdin and there is no terminal to ask on"
        if ids_from_stdin
        else "stdin is not a terminal"
    )
    raise CliError(f"refusing to delete without confirmation: {where}; pass --yes to confirm")
