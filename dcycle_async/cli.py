"""The ``dcycle-async`` command line (also ``python -m dcycle_async``).

``main(argv)`` returns the exit status: 0 all succeeded, 1 some ids (or the
request) failed or a confirmation was declined, 2 usage, configuration,
input or credential error, 130 interrupted.  Expected failures are printed
as one line on stderr, never as a traceback, and never with a credential
in them.  ``main_async(argv)`` does the same inside a running event loop.

The implementation lives in ``dcycle_async._cli``; rich (the ``cli`` extra)
is imported only when a progress bar or table is drawn.
"""

from __future__ import annotations

from ._cli._main import main, main_async

__all__ = ["main", "main_async"]
