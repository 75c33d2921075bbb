"""The implementation of the ``dcycle-async`` command line (see ``dcycle_async.cli``).

Nothing here is imported by the library itself, and rich (the ``cli``
extra) is imported only when a progress bar or table is drawn.
"""
