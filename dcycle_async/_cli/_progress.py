"""Progress bars on stderr, drawn by rich (the ``cli`` extra), imported lazily.

A bar is shown only when stderr is a terminal and ``--quiet`` is not given;
otherwise (and when rich is not installed) every call is a no-op, so a
pipeline's stderr holds nothing but real messages.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

from .._models import Progress
from ._common import Term, one_line

if TYPE_CHECKING:
    import rich.console
    import rich.progress

__all__ = ["Bar", "ProgressBars", "library_log_lines", "make_bars"]

_LOGGER = "dcycle_async"


class Bar(Protocol):
    """One operation's bar: fed the library's ``Progress`` after every chunk."""

    def __call__(self, progress: Progress) -> None:
        """Show where the operation stands."""

    def finish(self, done: int | None = None, requests: int | None = None) -> None:
        """Mark the operation finished; ``done`` and ``requests`` fix the final counts."""


class ProgressBars(Protocol):
    """A group of bars sharing one live display (a context manager)."""

    @property
    def active(self) -> bool:
        """True when bars are really drawn."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def bar(self, description: str, total: int | None, unit: str = "ids") -> Bar:
        """A new bar; ``total`` None draws an indeterminate one (a stream)."""
        ...

    def log(self, message: str) -> None:
        """Print a line above the bars (or on stderr when there are none)."""
        ...


class _NullBar:
    def __call__(self, progress: Progress) -> None:
        pass

    def finish(self, done: int | None = None, requests: int | None = None) -> None:
        pass


class _NoBars:
    """No display: bars do nothing, log lines go to stderr unless quiet."""

    active = False

    def __init__(self, term: Term) -> None:
        self._term = term

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass

    def bar(self, description: str, total: int | None, unit: str = "ids") -> Bar:
        return _NullBar()

    def log(self, message: str) -> None:
        self._term.note(message)


class _RichBar:
    """One rich task, updated from the library's ``Progress``."""

    def __init__(
        self, progress: rich.progress.Progress, task: rich.progress.TaskID, total: int | None
    ) -> None:
        self._progress = progress
        self._task = task
        self._total = total
        self._done = 0

    def __call__(self, progress: Progress) -> None:
        # The library streams the ids, so its total is None; the count from
        # the file's first pass (lines, duplicates included) stands in, and
        # grows if the run ever gets past it.
        total = progress.ids_total if progress.ids_total is not None else self._total
        if total is not None and progress.ids_done > total:
            total = progress.ids_done
        self._done = progress.ids_done
        failed = f"[red]{progress.chunks_failed} failed[/]" if progress.chunks_failed else ""
        self._progress.update(
            self._task,
            completed=progress.ids_done,
            total=total,
            count=_count(progress.ids_done, total),
            requests=progress.chunks_done,
            failed=failed,
        )

    def finish(self, done: int | None = None, requests: int | None = None) -> None:
        final = self._done if done is None else done
        fields: dict[str, Any] = {"count": _count(final, final)}
        if requests is not None:
            fields["requests"] = requests
        self._progress.update(self._task, completed=final, total=max(final, 1), **fields)
        self._progress.stop_task(self._task)


def _count(done: int, total: int | None) -> str:
    return f"{done:,}/{total:,}" if total is not None else f"{done:,}"


class _RichBars:
    """rich.progress on stderr."""

    active = True

    def __init__(self, console: rich.console.Console) -> None:
        import rich.progress as rp

        self._console = console
        self._progress = rp.Progress(
            rp.SpinnerColumn(finished_text="[green]✓[/]"),
            rp.TextColumn("{task.description}"),
            rp.BarColumn(),
            rp.TextColumn("{task.fields[count]} {task.fields[unit]}"),
            rp.TextColumn("[dim]{task.fields[requests]:,} req[/]"),
            rp.TextColumn("{task.fields[failed]}"),
            rp.TimeElapsedColumn(),
            rp.TimeRemainingColumn(),
            console=console,
            refresh_per_second=8,
        )

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def bar(self, description: str, total: int | None, unit: str = "ids") -> Bar:
        task = self._progress.add_task(
            description,
            total=total,
            unit=unit,
            count=_count(0, total),
            requests=0,
            failed="",
        )
        return _RichBar(self._progress, task, total)

    def log(self, message: str) -> None:
        self._console.print(message, highlight=False, markup=False)


def make_bars(term: Term, *, console: Any = None) -> ProgressBars:
    """Bars on stderr when it is a terminal and not ``--quiet``; else no-ops.

    ``console`` (a ``rich.console.Console``) forces bars, drawn there: for
    tests that want to see them in a buffer.
    """
    if console is None and (term.quiet or not term.stderr_is_terminal()):
        return _NoBars(term)
    try:
        import rich.console
    except ImportError:
        term.note("(progress bars need the 'cli' extra: pip install 'dcycle-async[cli]')")
        return _NoBars(term)
    if console is None:
        console = rich.console.Console(file=term.stderr)
    return _RichBars(console)


class _Forward(logging.Handler):
    def __init__(self, sink: Callable[[str], None]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink(f"{record.levelname.lower()}: {one_line(record.getMessage())}")
        except Exception:  # pragma: no cover - logging must never break a run
            self.handleError(record)


@contextlib.contextmanager
def library_log_lines(term: Term, bars: ProgressBars | None = None) -> Iterator[None]:
    """Show the library's warnings (retries) as lines on stderr while a command runs.

    With bars they are printed above the live display instead of through
    it; with ``--quiet`` they are dropped (the report still counts retries).
    """
    logger = logging.getLogger(_LOGGER)
    sink: Callable[[str], None]
    if term.quiet:
        sink = lambda _message: None  # noqa: E731 - a no-op sink
    elif bars is not None:
        sink = lambda message: bars.log(term.redact(message))  # noqa: E731
    else:
        sink = lambda message: term.note(message)  # noqa: E731
    handler = _Forward(sink)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
