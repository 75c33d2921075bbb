"""What is retried, and how long to wait before the next attempt.

The policy is pure: it decides, the session sleeps.  Tests switch the
sleeps off with ``set_testing(True)`` (as stamina's testing mode does), so
retry paths run at full speed while still counting attempts.
"""

from __future__ import annotations

import email.utils
import random
import time
from typing import Final

import attrs

__all__ = [
    "DEFAULT_BACKOFF_INITIAL",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_RETRY_AFTER_CEILING",
    "RETRYABLE_STATUSES",
    "RetryPolicy",
    "is_testing",
    "parse_retry_after",
    "set_testing",
]

RETRYABLE_STATUSES: Final = frozenset({429, 500, 502, 503, 504})
DEFAULT_BACKOFF_INITIAL: Final = 0.5
DEFAULT_BACKOFF_MAX: Final = 30.0
DEFAULT_RETRY_AFTER_CEILING: Final = 120.0

_testing = False


def set_testing(enabled: bool) -> None:
    """Switch backoff sleeps off (True) or back on (False), process-wide.

    Attempts are still counted and the same errors raised; only the waiting
    is removed.  Meant for test suites: the pytest plugin of
    ``dcycle_async.testing`` offers it as the ``dcycle_no_backoff`` fixture.
    """
    global _testing
    _testing = enabled


def is_testing() -> bool:
    """True while ``set_testing(True)`` is in effect."""
    return _testing


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date).

    Returns None when the header is absent or unreadable; never negative.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@attrs.frozen
class RetryPolicy:
    """Which failures are retried and the backoff between attempts.

    Attributes:
        max_retries: retries after the first attempt (0 = never retry).
        backoff_initial: the first backoff cap, in seconds; it doubles on
            every retry ("exponential backoff with full jitter": the wait is
            uniform in [0, cap]).
        backoff_max: the cap never grows beyond this.
        retry_after_ceiling: a ``Retry-After`` longer than this is not slept
            through: the error is raised instead, so a batch job is not
            silently parked for an hour.
    """

    max_retries: int = 3
    backoff_initial: float = DEFAULT_BACKOFF_INITIAL
    backoff_max: float = DEFAULT_BACKOFF_MAX
    retry_after_ceiling: float = DEFAULT_RETRY_AFTER_CEILING
    retryable_statuses: frozenset[int] = RETRYABLE_STATUSES

    def is_retryable_status(self, status: int) -> bool:
        """True for the statuses that are worth another attempt."""
        return status in self.retryable_statuses

    def delay(self, retry_number: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait before retry number ``retry_number`` (1-based).

        Returns None when the retry must not happen: the budget is spent, or
        the server asked for a wait beyond ``retry_after_ceiling``.  A
        ``Retry-After`` is honoured as given (the server knows best); without
        one, full jitter over an exponentially growing cap.
        """
        if retry_number > self.max_retries:
            return None
        if retry_after is not None:
            if retry_after > self.retry_after_ceiling:
                return None
            return 0.0 if _testing else retry_after
        if _testing:
            return 0.0
        cap = min(self.backoff_max, self.backoff_initial * (2 ** (retry_number - 1)))
        return random.uniform(0.0, cap)
